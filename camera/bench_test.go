package camera

import (
	"context"
	"testing"
)

// BenchmarkReadVideo reads the 20-frame 320x240 MJPG test clip in a loop:
// decode, BGR to RGB, copy into the Frame. In steady state Read allocates
// nothing on the Go heap (0 allocs/op): gocv's VideoCapture.Read, CvtColor
// and DataPtrUint8 are plain cgo calls, the Mats and Frame.Pix are reused,
// and looping seeks back to frame 0 in place. (OpenCV's own C++ buffers are
// reused too: Read and CvtColor reallocate a Mat only when the size
// changes.)
func BenchmarkReadVideo(b *testing.B) {
	src, err := Open(videoFile(b), Options{Loop: true, Logger: quiet})
	if err != nil {
		b.Fatal(err)
	}
	defer src.Close()
	ctx := context.Background()
	var f Frame
	if err := src.Read(ctx, &f); err != nil { // size f.Pix
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(f.Pix)))
	for b.Loop() {
		if err := src.Read(ctx, &f); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReadFolder reads a looping folder of three photos (512x430,
// 600x400, 512x343), decoding a file for each frame. Built without
// matprofile it too allocates nothing on the Go heap per Read (gocv.IMRead's
// Mat and file name live in C memory); with -tags matprofile (as make test
// builds) it shows 1 alloc/op: the stack gocv's Mat profile records for each
// decoded image's Mat. Its B/op is mostly the one-time growth of Pix to the
// largest image, spread over the iterations.
func BenchmarkReadFolder(b *testing.B) {
	dir, _ := imageDir(b)
	src, err := Open(dir, Options{Loop: true, Logger: quiet})
	if err != nil {
		b.Fatal(err)
	}
	defer src.Close()
	ctx := context.Background()
	var f Frame
	b.ReportAllocs()
	for b.Loop() {
		if err := src.Read(ctx, &f); err != nil {
			b.Fatal(err)
		}
	}
}
