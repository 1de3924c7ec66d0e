package camera

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gocv.io/x/gocv"
)

// imageDir makes a folder of three images whose name order differs from
// the order they are written in, with a BMP written by OpenCV, and a text
// file and a subdirectory named like an image that the source must skip.
func imageDir(t testing.TB) (dir string, want []struct {
	file string
	w, h int
}) {
	t.Helper()
	dir = t.TempDir()
	copyFile(t, fixtureImage(t, "coffee.png"), filepath.Join(dir, "b-coffee.png"))
	copyFile(t, fixtureImage(t, "pets.jpg"), filepath.Join(dir, "a-pets.JPG"))
	bird := gocv.IMRead(fixtureImage(t, "bird.png"), gocv.IMReadColor)
	defer bird.Close()
	if !gocv.IMWrite(filepath.Join(dir, "c-bird.bmp"), bird) {
		t.Fatal("IMWrite c-bird.bmp failed")
	}
	if err := os.WriteFile(filepath.Join(dir, "README.txt"), []byte("not an image\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "d-folder.png"), 0o755); err != nil {
		t.Fatal(err)
	}
	return dir, []struct {
		file string
		w, h int
	}{
		{"a-pets.JPG", 512, 430},
		{"b-coffee.png", 600, 400},
		{"c-bird.bmp", 512, 343},
	}
}

func TestFolder(t *testing.T) {
	dir, want := imageDir(t)
	tests := []struct {
		name  string
		spec  string
		loop  bool
		reads int
	}{
		{"once", dir, false, 3},
		{"dir prefix", "dir:" + dir, false, 3},
		{"loop", dir, true, 8},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src, err := Open(tc.spec, Options{Loop: tc.loop, Logger: quiet})
			if err != nil {
				t.Fatal(err)
			}
			defer src.Close()
			var f Frame
			for i := 1; i <= tc.reads; i++ {
				if err := src.Read(context.Background(), &f); err != nil {
					t.Fatalf("read %d: %v", i, err)
				}
				w := want[(i-1)%len(want)]
				if f.Width != w.w || f.Height != w.h || len(f.Pix) != w.w*w.h*3 {
					t.Errorf("frame %d (%s): %dx%d with %d bytes, want %dx%d", i, w.file, f.Width, f.Height, len(f.Pix), w.w, w.h)
				}
				if f.Seq != uint64(i) {
					t.Errorf("frame %d: Seq %d", i, f.Seq)
				}
			}
			if !tc.loop {
				if err := src.Read(context.Background(), &f); !errors.Is(err, io.EOF) {
					t.Fatalf("read 4: %v, want io.EOF", err)
				}
			}
		})
	}
}

// TestFolderPixels checks the RGB bytes exactly: a PNG decodes the same in
// OpenCV and in Go's image/png.
func TestFolderPixels(t *testing.T) {
	tests := []struct {
		file string
		gray bool
	}{
		{"coffee.png", false},
		{"person_96x96_gray.png", true},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			dir := t.TempDir()
			copyFile(t, fixtureImage(t, tc.file), filepath.Join(dir, tc.file))
			src, err := Open(dir, Options{Logger: quiet})
			if err != nil {
				t.Fatal(err)
			}
			defer src.Close()
			var f Frame
			if err := src.Read(context.Background(), &f); err != nil {
				t.Fatal(err)
			}
			img := decodeImage(t, fixtureImage(t, tc.file))
			want := rgbBytes(img)
			if f.Width != img.Bounds().Dx() || f.Height != img.Bounds().Dy() || !bytes.Equal(f.Pix, want) {
				t.Fatalf("frame %dx%d differs from %s decoded by image/png (%dx%d)", f.Width, f.Height, tc.file, img.Bounds().Dx(), img.Bounds().Dy())
			}
			if tc.gray && (f.Pix[0] != f.Pix[1] || f.Pix[1] != f.Pix[2]) {
				t.Errorf("gray image gives pixel %v, want R == G == B", f.Pix[:3])
			}
		})
	}
}

// TestFolderReusesPix checks that Read grows Pix only for a larger frame.
func TestFolderReusesPix(t *testing.T) {
	dir, _ := imageDir(t)
	src, err := Open(dir, Options{Loop: true, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	f := Frame{Pix: make([]byte, 0, 600*400*3)}
	p := &f.Pix[:1][0]
	for i := range 6 {
		if err := src.Read(context.Background(), &f); err != nil {
			t.Fatal(err)
		}
		if &f.Pix[0] != p {
			t.Fatalf("read %d: Pix reallocated though its capacity %d fits %dx%d", i+1, cap(f.Pix), f.Width, f.Height)
		}
	}
}

func TestFolderSkipsBadImage(t *testing.T) {
	dir := t.TempDir()
	copyFile(t, fixtureImage(t, "coffee.png"), filepath.Join(dir, "a.png"))
	if err := os.WriteFile(filepath.Join(dir, "b.jpg"), []byte("not a jpeg"), 0o644); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	src, err := Open(dir, Options{Loop: true, Logger: logger(&logs)})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var f Frame
	for i := range 4 {
		if err := src.Read(context.Background(), &f); err != nil {
			t.Fatalf("read %d: %v", i+1, err)
		}
		if f.Width != 600 {
			t.Fatalf("read %d: %dx%d, want coffee.png's 600x400", i+1, f.Width, f.Height)
		}
	}
	if n := strings.Count(logs.String(), "b.jpg"); n != 1 {
		t.Errorf("the bad image is logged %d times, want once:\n%s", n, logs.String())
	}

	// A folder where nothing decodes is an error, not an endless loop.
	if err := os.Remove(filepath.Join(dir, "a.png")); err != nil {
		t.Fatal(err)
	}
	bad, err := Open(dir, Options{Loop: true, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer bad.Close()
	if err := bad.Read(context.Background(), &f); err == nil || !strings.Contains(err.Error(), dir) {
		t.Fatalf("folder of undecodable images: %v, want an error naming %s", err, dir)
	}
}

func TestFolderPacing(t *testing.T) {
	dir, _ := imageDir(t)
	src, err := Open(dir, Options{FPS: 1, Loop: true, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var f Frame
	if err := src.Read(context.Background(), &f); err != nil { // at once
		t.Fatal(err)
	}
	// The next frame is due in a second; the context ends first.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	start := time.Now()
	err = src.Read(ctx, &f)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Read with a context ending before the next frame: %v, want context.DeadlineExceeded", err)
	}
	if took := time.Since(start); took > 130*time.Millisecond {
		t.Errorf("Read returned %v after it began, want about 30ms", took)
	}
	if f.Seq != 1 {
		t.Errorf("frame changed by a cancelled Read: Seq %d", f.Seq)
	}
}

// TestFolderCloseWhilePacing closes the source from another goroutine while
// Read waits for the next frame.
func TestFolderCloseWhilePacing(t *testing.T) {
	dir, _ := imageDir(t)
	src, err := Open(dir, Options{FPS: 0.5, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	var f Frame
	if err := src.Read(context.Background(), &f); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		var f Frame
		done <- src.Read(context.Background(), &f) // due in 2s
	}()
	time.Sleep(20 * time.Millisecond)
	if err := src.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if !errors.Is(err, ErrClosed) || !strings.Contains(err.Error(), dir) {
			t.Fatalf("Read: %v, want ErrClosed naming %s", err, dir)
		}
	case <-time.After(time.Second):
		t.Fatal("Read still waiting 1s after Close")
	}
}
