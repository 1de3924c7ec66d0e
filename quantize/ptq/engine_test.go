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
