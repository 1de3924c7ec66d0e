package quantize

import (
	"math"
	"math/rand/v2"
	"testing"
)

// randWeights draws n weights, a few channels scaled far apart and some
// exact zeros, as folded batch-norm layers have.
func randWeights(r *rand.Rand, n int) []float32 {
	w := make([]float32, n)
	gain := math.Exp(r.Float64()*8 - 4)
	for i := range w {
		switch r.IntN(10) {
		case 0:
			w[i] = 0
		default:
			w[i] = float32(r.NormFloat64() * gain)
		}
	}
	return w
}

func randShape(r *rand.Rand) []int32 {
	shape := make([]int32, 1+r.IntN(4))
	for i := range shape {
		shape[i] = int32(1 + r.IntN(5))
	}
	return shape
}

func elements(shape []int32) int {
	n := 1
	for _, d := range shape {
		n *= int(d)
	}
	return n
}

// channelOf returns the index along axis of flat element i.
func channelOf(shape []int32, axis, i int) int {
	for d := len(shape) - 1; d > axis; d-- {
		i /= int(shape[d])
	}
	return i % int(shape[axis])
}

// Property: per-channel weights are symmetric int8 in [−127, 127], each
// within half a step of the real weight, and each channel's largest
// magnitude maps to ±127 (the scale is its max|w|/127).
func TestPerChannel(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	for iter := 0; iter < 2000; iter++ {
		shape := randShape(r)
		axis := r.IntN(len(shape))
		w := randWeights(r, elements(shape))
		q, scales, err := PerChannel(w, shape, axis)
		if err != nil {
			t.Fatal(err)
		}
		if len(scales) != int(shape[axis]) || len(q) != len(w) {
			t.Fatalf("shape %v axis %d: %d scales, %d values", shape, axis, len(scales), len(q))
		}
		maxAbs := make([]float64, len(scales))
		for i, v := range w {
			c := channelOf(shape, axis, i)
			maxAbs[c] = math.Max(maxAbs[c], math.Abs(float64(v)))
		}
		hitMax := make([]bool, len(scales))
		for i, v := range w {
			c := channelOf(shape, axis, i)
			s := float64(scales[c])
			if q[i] < -127 {
				t.Fatalf("q = %d below −127", q[i])
			}
			if d := math.Abs(float64(q[i])*s - float64(v)); d > s/2*(1+1e-6) {
				t.Fatalf("shape %v axis %d element %d: %v quantized to %d×%v, off by %v > half a step", shape, axis, i, v, q[i], s, d)
			}
			if q[i] == 127 || q[i] == -127 {
				hitMax[c] = true
			}
		}
		for c, m := range maxAbs {
			switch {
			case m == 0 && scales[c] != 1:
				t.Fatalf("all-zero channel %d has scale %v, want 1", c, scales[c])
			case m > 0 && math.Abs(float64(scales[c])-m/127) > 1e-6*m/127:
				t.Fatalf("channel %d scale %v, want max|w|/127 = %v", c, scales[c], m/127)
			case m > 0 && !hitMax[c]:
				t.Fatalf("channel %d: its largest weight does not reach ±127", c)
			}
		}
	}
}

// Property: per-channel quantization treats channels independently:
// scaling one channel's weights leaves the others' codes alone.
func TestPerChannelIndependent(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	for iter := 0; iter < 500; iter++ {
		shape := randShape(r)
		axis := r.IntN(len(shape))
		w := randWeights(r, elements(shape))
		q1, _, _ := PerChannel(w, shape, axis)
		target := r.IntN(int(shape[axis]))
		w2 := append([]float32(nil), w...)
		for i := range w2 {
			if channelOf(shape, axis, i) == target {
				w2[i] *= 1000
			}
		}
		q2, _, _ := PerChannel(w2, shape, axis)
		for i := range q1 {
			if channelOf(shape, axis, i) != target && q1[i] != q2[i] {
				t.Fatalf("scaling channel %d changed element %d of channel %d", target, i, channelOf(shape, axis, i))
			}
		}
	}
}

func TestPerChannelErrors(t *testing.T) {
	if _, _, err := PerChannel(make([]float32, 6), []int32{2, 3}, 2); err == nil {
		t.Error("axis out of range: no error")
	}
	if _, _, err := PerChannel(make([]float32, 5), []int32{2, 3}, 0); err == nil {
		t.Error("5 values for shape [2 3]: no error")
	}
	if _, _, err := PerChannel(nil, []int32{0, 3}, 0); err == nil {
		t.Error("empty dimension: no error")
	}
}

// Property: per-tensor weights are within half a step, in [−127, 127].
func TestPerTensor(t *testing.T) {
	r := rand.New(rand.NewPCG(15, 16))
	for iter := 0; iter < 1000; iter++ {
		w := randWeights(r, 1+r.IntN(200))
		q, s := PerTensor(w)
		for i, v := range w {
			if q[i] < -127 || math.Abs(float64(q[i])*float64(s)-float64(v)) > float64(s)/2*(1+1e-6) {
				t.Fatalf("%v quantized to %d × %v", v, q[i], s)
			}
		}
	}
}

// Property: bias scales are the float32 products TFLite checks, and an
// int32 bias is within half a step of the real one unless it saturates.
func TestBias(t *testing.T) {
	r := rand.New(rand.NewPCG(17, 18))
	for iter := 0; iter < 2000; iter++ {
		n := 1 + r.IntN(20)
		in := float32(math.Exp(r.Float64()*10 - 8))
		ws := make([]float32, n)
		b := make([]float32, n)
		for i := range ws {
			ws[i] = float32(math.Exp(r.Float64()*10 - 10))
			b[i] = float32(r.NormFloat64() * math.Exp(r.Float64()*30-10))
		}
		if r.IntN(3) == 0 {
			ws = ws[:1] // per tensor
		}
		scales := BiasScales(in, ws)
		for c := range scales {
			if scales[c] != in*ws[c] {
				t.Fatalf("scale %d: %v, want float32 %v × %v", c, scales[c], in, ws[c])
			}
		}
		q, err := Bias(b, scales)
		if err != nil {
			t.Fatal(err)
		}
		for i, v := range b {
			s := float64(scales[i%len(scales)])
			want := float64(v) / s
			switch {
			case want >= math.MaxInt32:
				if q[i] != math.MaxInt32 {
					t.Fatalf("%v / %v does not saturate to MaxInt32: %d", v, s, q[i])
				}
			case want <= math.MinInt32:
				if q[i] != math.MinInt32 {
					t.Fatalf("%v / %v does not saturate to MinInt32: %d", v, s, q[i])
				}
			case math.Abs(float64(q[i])-want) > 0.5+1e-9:
				t.Fatalf("%v / %v = %v quantized to %d", v, s, want, q[i])
			}
		}
	}
	if _, err := Bias(make([]float32, 3), []float32{1, 2}); err == nil {
		t.Error("3 biases with 2 scales: no error")
	}
	if _, err := Bias(make([]float32, 1), []float32{0}); err == nil {
		t.Error("zero scale: no error")
	}
}

// Property: Params.Int8 saturates to [−128, 127] and is within half a step
// inside the range.
func TestParamsInt8(t *testing.T) {
	r := rand.New(rand.NewPCG(19, 20))
	for iter := 0; iter < 1000; iter++ {
		lo, hi := -r.Float64()*10, r.Float64()*10
		p, err := ChooseParams(lo, hi, -128, 127)
		if err != nil {
			t.Fatal(err)
		}
		v := make([]float32, 50)
		for i := range v {
			v[i] = float32((r.Float64()*1.4-0.2)*(hi-lo) + lo)
		}
		for i, q := range p.Int8(v) {
			real := p.Dequantize(int32(q))
			inside := float64(v[i]) >= p.Dequantize(-128) && float64(v[i]) <= p.Dequantize(127)
			if inside && math.Abs(real-float64(v[i])) > p.Scale/2*(1+1e-6) {
				t.Fatalf("%v -> %d -> %v, scale %v", v[i], q, real, p.Scale)
			}
		}
	}
}

// Property: weightShift is Σ (ŵ − w)·μ[input channel] per output channel,
// computed here the slow way over explicit indexes.
func TestWeightShift(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 22))
	for iter := 0; iter < 300; iter++ {
		depthwise := r.IntN(2) == 0
		kh, kw := int32(1+r.IntN(3)), int32(1+r.IntN(3))
		var shape []int32
		cin, mult := 1+r.IntN(6), 1
		if depthwise {
			mult = 1 + r.IntN(3)
			shape = []int32{1, kh, kw, int32(cin * mult)}
		} else {
			shape = []int32{int32(1 + r.IntN(6)), kh, kw, int32(cin)}
		}
		w := randWeights(r, elements(shape))
		axis := 0
		if depthwise {
			axis = 3
		}
		q, scales, err := PerChannel(w, shape, axis)
		if err != nil {
			t.Fatal(err)
		}
		mu := make([]float64, cin)
		for i := range mu {
			mu[i] = r.NormFloat64()
		}
		shift, ok := weightShift(depthwise, w, q, scales, shape, mu)
		if !ok {
			t.Fatalf("shape %v: not ok", shape)
		}
		out := int(shape[axis])
		want := make([]float64, out)
		for o := 0; o < out; o++ {
			for y := 0; y < int(kh); y++ {
				for x := 0; x < int(kw); x++ {
					if depthwise {
						i := (y*int(kw)+x)*out + o
						want[o] += (float64(q[i])*float64(scales[o]) - float64(w[i])) * mu[o/mult]
						continue
					}
					for c := 0; c < cin; c++ {
						i := ((o*int(kh)+y)*int(kw)+x)*cin + c
						want[o] += (float64(q[i])*float64(scales[o]) - float64(w[i])) * mu[c]
					}
				}
			}
		}
		for o := range want {
			if math.Abs(shift[o]-want[o]) > 1e-9*(1+math.Abs(want[o])) {
				t.Fatalf("shape %v depthwise %v channel %d: shift %v, want %v", shape, depthwise, o, shift[o], want[o])
			}
		}
	}
	if _, ok := weightShift(false, make([]float32, 6), make([]int8, 6), []float32{1, 1}, []int32{2, 3}, []float64{0, 0}); ok {
		t.Error("3 input channels with 2 means: ok")
	}
}
