package quantize

import (
	"fmt"
	"math"
)

// Int8 weight range: TFLite's int8 kernels take symmetric weights in
// [−127, 127] (−128 is left out so that the range is symmetric).
const weightQMax = 127

// PerChannel quantizes weights symmetrically to int8 with one scale per
// slice along axis, the layout of TFLite's per-channel kernels: axis 0 of a
// CONV_2D filter [O H W I], axis 3 of a DEPTHWISE_CONV_2D filter [1 H W C].
// Each slice gets scale max|w|/127 (1 for an all-zero slice) and zero point
// 0; q = round(w/scale) lies in [−127, 127]. The data must hold exactly the
// elements of shape, in row-major order.
func PerChannel(w []float32, shape []int32, axis int) (q []int8, scales []float32, err error) {
	if axis < 0 || axis >= len(shape) {
		return nil, nil, fmt.Errorf("quantize: channel axis %d out of range for shape %v", axis, shape)
	}
	n := 1
	for _, d := range shape {
		if d <= 0 {
			return nil, nil, fmt.Errorf("quantize: weight shape %v has an empty or unknown dimension", shape)
		}
		n *= int(d)
	}
	if n != len(w) {
		return nil, nil, fmt.Errorf("quantize: weight shape %v has %d elements, data has %d", shape, n, len(w))
	}
	channels := int(shape[axis])
	inner := 1 // elements between two consecutive channel indexes
	for _, d := range shape[axis+1:] {
		inner *= int(d)
	}
	maxAbs := make([]float64, channels)
	for i, v := range w {
		c := (i / inner) % channels
		maxAbs[c] = math.Max(maxAbs[c], math.Abs(float64(v)))
	}
	scales = make([]float32, channels)
	for c, m := range maxAbs {
		scales[c] = float32(SymmetricScale(m, weightQMax))
	}
	q = make([]int8, len(w))
	for i, v := range w {
		q[i] = symmetric(v, scales[(i/inner)%channels])
	}
	return q, scales, nil
}

// PerTensor quantizes weights symmetrically to int8 with one scale,
// max|w|/127 (1 if all are zero), and zero point 0.
func PerTensor(w []float32) (q []int8, scale float32) {
	m := 0.0
	for _, v := range w {
		m = math.Max(m, math.Abs(float64(v)))
	}
	scale = float32(SymmetricScale(m, weightQMax))
	q = make([]int8, len(w))
	for i, v := range w {
		q[i] = symmetric(v, scale)
	}
	return q, scale
}

func symmetric(v, scale float32) int8 {
	r := math.Round(float64(v) / float64(scale))
	return int8(math.Max(-weightQMax, math.Min(weightQMax, r)))
}

// BiasScales are the scales of the int32 biases of a convolution or fully
// connected layer: inputScale × weightScale[c], computed in float32 as
// TFLite's converter does, so that the kernels' check that the bias scale
// equals the product of the input and filter scales holds exactly.
func BiasScales(inputScale float32, weightScales []float32) []float32 {
	s := make([]float32, len(weightScales))
	for c, ws := range weightScales {
		s[c] = inputScale * ws
	}
	return s
}

// Bias quantizes biases to int32 with zero point 0: channel c of b (c taken
// modulo len(scales), so one scale serves a per-tensor layer) at scales[c],
// rounded to nearest and saturated to the int32 range.
func Bias(b []float32, scales []float32) ([]int32, error) {
	if len(scales) == 0 || (len(scales) != 1 && len(scales) != len(b)) {
		return nil, fmt.Errorf("quantize: %d biases with %d scales: want one scale or one per bias", len(b), len(scales))
	}
	q := make([]int32, len(b))
	for i, v := range b {
		s := float64(scales[i%len(scales)])
		if !(s > 0) {
			return nil, fmt.Errorf("quantize: bias %d has scale %v, want > 0", i, s)
		}
		r := math.Round(float64(v) / s)
		q[i] = int32(math.Max(math.MinInt32, math.Min(math.MaxInt32, r)))
	}
	return q, nil
}

// Int8 quantizes real values with p to int8 (−128..127), as an activation
// tensor holds them.
func (p Params) Int8(v []float32) []int8 {
	q := make([]int8, len(v))
	for i, x := range v {
		q[i] = int8(p.Quantize(float64(x), -128, 127))
	}
	return q
}

// weightShift returns, per output channel, the mean change that quantizing
// a layer's weights brings to its output: Σ (q·scale − w)·μ over the
// weights of the channel, μ being the mean of the input channel each
// weight multiplies. Layouts: [O …  I] for CONV_2D and FULLY_CONNECTED
// (input channel last, output channel first), [1 H W C·M] for
// DEPTHWISE_CONV_2D (output channel c reads input channel c/M). scales has
// one entry per output channel, or one for all. ok is false when μ does
// not fit the layout.
func weightShift(depthwise bool, w []float32, q []int8, scales []float32, shape []int32, mu []float64) (shift []float64, ok bool) {
	if len(shape) < 2 || len(w) != len(q) || len(mu) == 0 {
		return nil, false
	}
	in := int(shape[len(shape)-1])
	out := int(shape[0])
	if depthwise {
		out = in
		if out%len(mu) != 0 {
			return nil, false
		}
	} else if in != len(mu) {
		return nil, false
	}
	if len(scales) != 1 && len(scales) != out {
		return nil, false
	}
	shift = make([]float64, out)
	perOut := len(w) / out
	for i, v := range w {
		var o, ic int
		if depthwise {
			o = i % out
			ic = o / (out / len(mu))
		} else {
			o, ic = i/perOut, i%in
		}
		s := scales[0]
		if len(scales) > 1 {
			s = scales[o]
		}
		shift[o] += (float64(q[i])*float64(s) - float64(v)) * mu[ic]
	}
	return shift, true
}
