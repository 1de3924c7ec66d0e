package tflite

import "errors"

// ErrNoCLibrary is returned by Open in a build without the TFLite C library
// (built with CGO_ENABLED=0 or the tag nolibtflite, as the armhf build is):
// only the pure-Go engine (tflite/engine) can run models there.
var ErrNoCLibrary = errors.New("this edge was built without the TFLite C library (tag nolibtflite): use --engine go")

// CLibrary says whether the TFLite C library can be used by this binary,
// and its version (TfLiteVersion) when it can. In a normal build the
// library is linked in, so it is always there (a binary whose library is
// missing does not start); in a build without it, it never is.
func CLibrary() (version string, ok bool) {
	if !hasCLibrary {
		return "", false
	}
	return cLibraryVersion(), true
}
