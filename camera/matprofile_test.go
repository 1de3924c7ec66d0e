//go:build matprofile

package camera

import (
	"bytes"
	"context"
	"io"
	"path/filepath"
	"testing"

	"gocv.io/x/gocv"
)

// TestNoMatLeak opens, reads and closes every kind of source this machine
// can open (and some that fail to open) and checks that gocv's Mat profile
// is back where it started: every Mat is closed. make test builds with
// -tags customenv,matprofile; by hand:
//
//	go test -tags customenv,matprofile -run TestNoMatLeak ./camera/
func TestNoMatLeak(t *testing.T) {
	video := videoFile(t)
	dir, _ := imageDir(t)
	before := gocv.MatProfile.Count()

	read := func(spec string, opts Options, n int) {
		t.Helper()
		opts.Logger = quiet
		src, err := Open(spec, opts)
		if err != nil {
			t.Fatal(err)
		}
		var f Frame
		for i := 0; i < n; i++ {
			if err := src.Read(context.Background(), &f); err == io.EOF {
				break
			} else if err != nil {
				t.Fatal(err)
			}
		}
		if err := src.Close(); err != nil {
			t.Fatal(err)
		}
	}
	read(video, Options{}, 100)            // to EOF
	read(video, Options{Loop: true}, 45)   // through two loops
	read(video, Options{}, 3)              // closed mid-way
	read(dir, Options{}, 100)              // to EOF
	read(dir, Options{Loop: true}, 7)      // looping
	read("dir:"+dir, Options{FPS: 500}, 2) // paced

	for _, spec := range []string{
		filepath.Join(t.TempDir(), "missing.avi"),
		"/dev/video9",
		"/dev/null",
		"gst:nosuchcamerasrc ! appsink",
	} {
		if src, err := Open(spec, Options{Logger: quiet}); err == nil {
			src.Close()
			t.Fatalf("Open(%q) succeeded", spec)
		}
	}

	r := OpenReconnecting(video, Options{Logger: quiet}, Backoff{})
	var f Frame
	for range 5 {
		if err := r.Read(context.Background(), &f); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}

	if after := gocv.MatProfile.Count(); after != before {
		var b bytes.Buffer
		_ = gocv.MatProfile.WriteTo(&b, 1)
		t.Fatalf("%d Mats open after Close, %d before; where they were made:\n%s", after, before, b.String())
	}
}
