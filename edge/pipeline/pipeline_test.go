package pipeline

import (
	"context"
	"log/slog"
	"runtime"
	"testing"
	"time"

	"github.com/edgeproject/edge/camera"
	"github.com/edgeproject/edge/camera/fixtures"
	"github.com/edgeproject/edge/tflite"
)

func fixture(t *testing.T, rel string) string { return fixtures.Path(t, rel) }

// TestLatestFrame: with DropFrames, a capture faster than inference drops
// stale frames (counted) instead of queueing them; without, none is lost.
func TestLatestFrame(t *testing.T) {
	if _, ok := tflite.CLibrary(); !ok {
		t.Skip("needs the TFLite C library; this build has none (tag nolibtflite)")
	}
	for _, drop := range []bool{true, false} {
		src, err := camera.Open(fixture(t, "images"), camera.Options{Loop: true})
		if err != nil {
			t.Fatal(err)
		}
		m, err := tflite.Open(fixture(t, "models/detection/coco_ssd_mobilenet_v1_1.0_quant_detect.tflite"), tflite.Options{Threads: 1})
		if err != nil {
			t.Fatal(err)
		}
		var seqs []uint64
		goroutines := runtime.NumGoroutine()
		p, err := New(Config{Source: src, Model: m, Detector: true, DropFrames: drop, MaxFrames: 8,
			Logger: slog.New(slog.DiscardHandler),
			OnResult: func(r Result) {
				seqs = append(seqs, r.Frame.Seq)
				// Slower than the folder's reads, as a big model on a Pi is.
				time.Sleep(30 * time.Millisecond)
			}})
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Run(context.Background()); err != nil {
			t.Fatal(err)
		}
		st := p.Stats()
		gaps := seqs[len(seqs)-1] - seqs[0] + 1 - uint64(len(seqs))
		t.Logf("drop=%v: processed %v, dropped %d", drop, seqs, st.Dropped)
		switch {
		case st.Frames != 8 || len(seqs) != 8:
			t.Errorf("drop=%v: %d frames processed, want 8", drop, st.Frames)
		// Frames captured after the last processed one may be dropped too.
		case drop && (gaps == 0 || st.Dropped < gaps):
			t.Errorf("drop=%v: dropped %d, sequence gaps %d: want gaps, each one counted", drop, st.Dropped, gaps)
		case !drop && (st.Dropped != 0 || gaps != 0):
			t.Errorf("drop=%v: dropped %d, gaps %d: want every frame", drop, st.Dropped, gaps)
		}
		src.Close()
		m.Close()
		deadline := time.Now().Add(2 * time.Second)
		for runtime.NumGoroutine() > goroutines && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if n := runtime.NumGoroutine(); n > goroutines {
			t.Errorf("%d goroutines after Run, %d before", n, goroutines)
		}
	}
}
