// These tests run models on the TFLite C library: a build without it (tag
// nolibtflite, the armhf build) leaves them out.

//go:build cgo && !nolibtflite

package ptq

import (
	"bytes"
	"testing"

	"github.com/edgeproject/edge/quantize"
	"github.com/edgeproject/edge/tflite"
	"github.com/edgeproject/edge/tflite/engine"
)

// TestQuantizedRunsOnGoEngine: the models the quantizer writes give the
// same output bytes on the pure-Go engine as on TFLite 2.9, photo by photo.
func TestQuantizedRunsOnGoEngine(t *testing.T) {
	for _, tc := range []struct {
		model string
		pre   tflite.Preprocess
		io    quantize.IO
	}{
		{"models/vww/vww_96_float.tflite", tflite.Preprocess{Mean: 0, Std: 255}, quantize.Int8IO},
		{"models/float/mobilenet_v1_0.25_128.tflite", tflite.Preprocess{}, quantize.Uint8IO},
	} {
		out, _, photos := quantizeFixture(t, tc.model, tc.pre, quantize.Options{IO: tc.io})
		c, err := tflite.Open(out, tflite.Options{Threads: 1, Preprocess: tc.pre, Logger: quiet})
		if err != nil {
			t.Fatal(err)
		}
		g, err := engine.Open(out, engine.Options{Threads: 1})
		if err != nil {
			c.Close()
			t.Fatalf("%s quantized: the Go engine refuses it: %v", tc.model, err)
		}
		for _, p := range photos {
			if _, err := c.SetImage(loadPhoto(t, p)); err != nil {
				t.Fatal(err)
			}
			cin, _ := c.InputBytes(0)
			gin, _ := g.InputBytes(0)
			copy(gin, cin)
			if err := c.Invoke(); err != nil {
				t.Fatal(err)
			}
			if err := g.Invoke(); err != nil {
				t.Fatal(err)
			}
			cout, _ := c.OutputBytes(0)
			gout, _ := g.OutputBytes(0)
			if !bytes.Equal(cout, gout) {
				t.Errorf("%s quantized, %s: TFLite and the Go engine differ", tc.model, p)
			}
		}
		c.Close()
		g.Close()
	}
}

// TestCalibrateOnGoEngine: in a build without the TFLite C library (armhf)
// calibration runs on the Go engine; the model it writes classifies every
// photo as the one calibrated on TFLite does, and is the same size.
func TestCalibrateOnGoEngine(t *testing.T) {
	const model = "models/float/mobilenet_v1_0.25_128.tflite"
	pre := tflite.Preprocess{}
	ref, refRes, photos := quantizeFixture(t, model, pre, quantize.Options{})
	forceGoEngine = true
	defer func() { forceGoEngine = false }()
	got, res, _ := quantizeFixture(t, model, pre, quantize.Options{})
	if res.Runtime != "the Go engine" || refRes.Runtime != "TFLite 2.9" {
		t.Fatalf("runtimes %q and %q", refRes.Runtime, res.Runtime)
	}
	if res.OutputBytes != refRes.OutputBytes {
		t.Errorf("%d bytes calibrated on the Go engine, %d on TFLite", res.OutputBytes, refRes.OutputBytes)
	}
	forceGoEngine = false
	a, b := scores(t, ref, pre, photos), scores(t, got, pre, photos)
	for i := range photos {
		if x, y := topK(a[i], 1)[0], topK(b[i], 1)[0]; x != y {
			t.Errorf("%s: top-1 %d calibrated on TFLite, %d on the Go engine", photos[i], x, y)
		}
	}
}
