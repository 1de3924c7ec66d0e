//go:build !cgo || nolibtflite

package tflite

import "fmt"

// This file stands in for the C library (capi.go, interpreter_capi.go) in
// a build without it: CGO_ENABLED=0, or the tag nolibtflite (the armhf
// build: there is no libtensorflowlite_c for linux/arm). The package then
// does not import go-tflite; labels, image preprocessing, classification
// and SSD decoding and metadata work as usual on an Interpreter made by
// NewWithBackend (the Go engine: engine.OpenTFLite), and Open fails with
// ErrNoCLibrary.

const hasCLibrary = false

func cLibraryVersion() string { return "" }

// cInterpreter is empty: there is no C interpreter.
type cInterpreter struct{}

// Open fails: this build has no TFLite C library. Use the Go engine
// (engine.OpenTFLite) instead.
func Open(path string, opts Options) (*Interpreter, error) {
	if _, err := ParseDelegate(string(opts.Delegate)); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return nil, fmt.Errorf("%s: %w", path, ErrNoCLibrary)
}

func (it *Interpreter) closeC() { it.cInterpreter = cInterpreter{} }

func (it *Interpreter) invokeC() error { return fmt.Errorf("%s: %w", it.path, ErrNoCLibrary) }

func (it *Interpreter) inputBytesC(int) ([]byte, error) {
	return nil, fmt.Errorf("%s: %w", it.path, ErrNoCLibrary)
}

func (it *Interpreter) outputBytesC(int) ([]byte, error) {
	return nil, fmt.Errorf("%s: %w", it.path, ErrNoCLibrary)
}

func (it *Interpreter) refreshOutputsC() {}
