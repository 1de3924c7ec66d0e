package quantize_test

import (
	"fmt"
	"math/rand/v2"

	"github.com/edgeproject/edge/quantize"
	"github.com/edgeproject/edge/quantize/internal/testmodel"
	"github.com/edgeproject/edge/tflite/schema"
)

// Per-channel weights: each output channel of a CONV_2D filter [O H W I]
// gets its own scale, max|w|/127.
func ExamplePerChannel() {
	w := []float32{
		0.5, -1.0, 0.25, // channel 0
		0.01, 0.02, -0.04, // channel 1: small weights keep their precision
	}
	q, scales, err := quantize.PerChannel(w, []int32{2, 1, 1, 3}, 0)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(q)
	fmt.Printf("%.6f %.6f\n", scales[0], scales[1])
	// Output:
	// [64 -127 32 32 63 -127]
	// 0.007874 0.000315
}

// A percentile range leaves out the rare outliers that a min/max range
// would stretch the int8 step for.
func ExampleHistogram() {
	var h quantize.Histogram
	for i := 0; i <= 100000; i++ {
		h.Add(float64(i%1000) / 1000 * 6) // values in [0, 6)
	}
	h.Add(40) // one outlier
	fmt.Printf("max %.0f, 99.99th percentile %.2f\n", h.Max(), h.Quantile(0.9999))
	// Output:
	// max 40, 99.99th percentile 6.00
}

// Convert writes the integer model from the calibrated ranges of the float
// model's tensors. Here the ranges are made up; package ptq records them
// by running the model (made by Instrument) on camera frames.
func ExampleConvert() {
	data, _ := testmodel.AllOps(1).Bytes() // real code: os.ReadFile("float.tflite")
	m, err := schema.Parse(data)
	if err != nil {
		fmt.Println(err)
		return
	}
	_, observed, err := quantize.Instrument(m)
	if err != nil {
		fmt.Println(err)
		return
	}
	cal := quantize.NewCalibration(false)
	r := rand.New(rand.NewPCG(1, 2))
	sg := m.Subgraphs[0]
	for _, ti := range append([]int{int(sg.Inputs[0])}, observed...) {
		t := sg.Tensors[ti]
		values := make([]float32, t.NumElements())
		for i := range values {
			values[i] = float32(r.Float64()*4 - 1)
		}
		cal.Observe(ti, values, int(t.Shape[len(t.Shape)-1]))
	}
	cal.EndFrame()
	q, err := quantize.Convert(m, cal, quantize.Options{IO: quantize.Int8IO})
	if err != nil {
		fmt.Println(err)
		return
	}
	qsg := q.Subgraphs[0]
	in, out := qsg.Tensors[qsg.Inputs[0]], qsg.Tensors[qsg.Outputs[0]]
	fmt.Println(in.Type, in.Quantization.Scale, in.Quantization.ZeroPoint)
	fmt.Println(out.Type, out.Quantization.Scale, out.Quantization.ZeroPoint)
	fmt.Println(len(qsg.Operators), "operators")
	// Output:
	// int8 [0.015678272] [-64]
	// int8 [0.00390625] [-128]
	// 23 operators
}
