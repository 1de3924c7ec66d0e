package camera

import (
	"context"
	"errors"
	"io"
	"math"
	"testing"
	"time"
)

func TestVideoFile(t *testing.T) {
	path := videoFile(t)
	total := len(testVideo.images) * testVideo.each
	tests := []struct {
		name  string
		spec  string
		loop  bool
		reads int // frames to read; with loop, more than the clip has
	}{
		{"once", path, false, total},
		{"file prefix", "file:" + path, false, total},
		{"loop", path, true, total + total/2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src, err := Open(tc.spec, Options{Loop: tc.loop, Logger: quiet})
			if err != nil {
				t.Fatal(err)
			}
			defer src.Close()
			ctx := context.Background()
			var f Frame
			var means [][3]float64
			for i := 1; i <= tc.reads; i++ {
				if err := src.Read(ctx, &f); err != nil {
					t.Fatalf("read %d: %v", i, err)
				}
				if f.Width != testVideo.w || f.Height != testVideo.h || len(f.Pix) != f.Width*f.Height*3 {
					t.Fatalf("frame %d: %dx%d with %d bytes, want %dx%d with %d",
						i, f.Width, f.Height, len(f.Pix), testVideo.w, testVideo.h, testVideo.w*testVideo.h*3)
				}
				if f.Seq != uint64(i) {
					t.Fatalf("frame %d: Seq %d", i, f.Seq)
				}
				if f.Time.IsZero() {
					t.Fatalf("frame %d: zero Time", i)
				}
				means = append(means, frameMeanRGB(&f))
			}
			if !tc.loop {
				for range 2 { // EOF, and EOF again
					if err := src.Read(ctx, &f); !errors.Is(err, io.EOF) {
						t.Fatalf("read past frame %d: %v, want io.EOF", total, err)
					}
				}
				return
			}
			// After the loop the frames are the clip's again.
			for i := total; i < tc.reads; i++ {
				if d := maxDiff(means[i], means[i-total]); d > 1 {
					t.Errorf("frame %d mean %v, frame %d (same picture) %v", i+1, means[i], i-total+1, means[i-total])
				}
			}
		})
	}
}

// TestVideoRGBOrder compares the mean R, G and B of frames with those of the
// photos they were made from, decoded with Go's image/png and image/jpeg: a
// frame left in BGR order would be off by far more than the tolerance.
func TestVideoRGBOrder(t *testing.T) {
	src, err := Open(videoFile(t), Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	const tol = 4.0 // resize and MJPEG move channel means by a level or two
	var f Frame
	for i, name := range testVideo.images {
		want := meanRGB(decodeImage(t, fixtureImage(t, name)))
		if math.Abs(want[0]-want[2]) < 4*tol {
			t.Fatalf("%s: mean R %.1f and B %.1f too close to tell the order", name, want[0], want[2])
		}
		for range testVideo.each {
			if err := src.Read(context.Background(), &f); err != nil {
				t.Fatal(err)
			}
		}
		got := frameMeanRGB(&f)
		t.Logf("%s: frame mean RGB %.1f, photo %.1f", name, got, want)
		if d := maxDiff(got, want); d > tol {
			t.Errorf("frame %d (%s): mean RGB %.1f, photo %.1f (off by %.1f, want <= %.0f)", (i+1)*testVideo.each, name, got, want, d, tol)
		}
	}
}

func TestVideoPacing(t *testing.T) {
	src, err := Open(videoFile(t), Options{FPS: 50, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var f Frame
	start := time.Now()
	for range 6 {
		if err := src.Read(context.Background(), &f); err != nil {
			t.Fatal(err)
		}
	}
	// The first frame at once, then 5 periods of 20ms.
	if took := time.Since(start); took < 100*time.Millisecond || took > 2*time.Second {
		t.Errorf("6 frames at 50 fps took %v, want about 100ms", took)
	}
}

func TestVideoClosed(t *testing.T) {
	src, err := Open(videoFile(t), Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	if err := src.Close(); err != nil {
		t.Fatal(err)
	}
	if err := src.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	var f Frame
	if err := src.Read(context.Background(), &f); !errors.Is(err, ErrClosed) {
		t.Fatalf("Read after Close: %v, want ErrClosed", err)
	}
}

func maxDiff(a, b [3]float64) float64 {
	var d float64
	for i := range a {
		d = max(d, math.Abs(a[i]-b[i]))
	}
	return d
}
