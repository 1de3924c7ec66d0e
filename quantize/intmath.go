// Package quantize turns float TensorFlow Lite models into full-integer
// (int8) ones after training, and holds the integer arithmetic of
// quantized models — affine quantization parameters, requantization
// multipliers and the fixed-point rounding TFLite's kernels use — for the
// engines and the quantizer.
//
// A real number r is stored as q with r = Scale × (q − ZeroPoint). Kernels
// rescale int32 accumulators by a real multiplier M kept as a 32-bit
// fixed-point mantissa and a power-of-two exponent (QuantizeMultiplier),
// applied with gemmlowp's rounding (MultiplyByQuantizedMultiplier). The
// functions here follow TFLite 2.9's definitions bit for bit.
//
// # Post-training quantization
//
// [Check] tells whether a float model can be quantized; [Instrument] makes
// a copy of it whose outputs are all its activations, so that running it
// (package ptq does, with TFLite, on camera frames) shows their values;
// a [Calibration] collects them (min/max, per-channel means and, for the
// [Percentile] method, a [Histogram]); [Convert] writes the integer model:
// weights per channel ([PerChannel]), int32 biases ([Bias]), int8
// activations, with the operator versions TFLite 2.9 runs. The pieces are
// pure Go; running the float model is left to the caller.
package quantize

import (
	"fmt"
	"math"
)

// QuantizeMultiplier splits a real multiplier into a Q31 mantissa in
// [2^30, 2^31) and an exponent, so that real ≈ multiplier × 2^(shift−31),
// as TFLite 2.9's QuantizeMultiplier does (0 gives 0, 0; below 2^-32 it
// flushes to 0). The default (double-rounding) build of 2.9 does not clamp
// large exponents; only its TFLITE_SINGLE_ROUNDING build does.
func QuantizeMultiplier(real float64) (multiplier int32, shift int) {
	if real == 0 {
		return 0, 0
	}
	q, shift := math.Frexp(real) // q in [0.5, 1)
	qFixed := int64(math.Round(q * (1 << 31)))
	if qFixed == 1<<31 {
		qFixed /= 2
		shift++
	}
	if shift < -31 {
		shift, qFixed = 0, 0
	}
	return int32(qFixed), shift
}

// SaturatingRoundingDoublingHighMul returns the high 32 bits of 2·a·b,
// rounded to nearest (ties away from zero), saturating the one overflow
// case a = b = −2^31 (gemmlowp).
func SaturatingRoundingDoublingHighMul(a, b int32) int32 {
	if a == b && a == math.MinInt32 {
		return math.MaxInt32
	}
	ab := int64(a) * int64(b)
	nudge := int64(1 << 30)
	if ab < 0 {
		nudge = 1 - (1 << 30)
	}
	return int32((ab + nudge) / (1 << 31))
}

// RoundingDivideByPOT divides by 2^exponent, rounding to nearest with ties
// away from zero (gemmlowp). exponent must be in 0..31.
func RoundingDivideByPOT(x int32, exponent int) int32 {
	mask := int32((int64(1) << exponent) - 1)
	remainder := x & mask
	threshold := mask >> 1
	if x < 0 {
		threshold++
	}
	r := x >> exponent
	if remainder > threshold {
		r++
	}
	return r
}

// MultiplyByQuantizedMultiplier computes x × multiplier × 2^(shift−31) with
// TFLite's rounding: a left shift first for positive exponents, then the
// doubling high multiply, then a rounding right shift.
func MultiplyByQuantizedMultiplier(x, multiplier int32, shift int) int32 {
	left, right := 0, 0
	if shift > 0 {
		left = shift
	} else {
		right = -shift
	}
	return RoundingDivideByPOT(SaturatingRoundingDoublingHighMul(x*(1<<left), multiplier), right)
}

// Params are affine quantization parameters: real = Scale × (q − ZeroPoint).
type Params struct {
	Scale     float64
	ZeroPoint int32
}

// Quantize maps a real value to the nearest q in [qmin, qmax].
func (p Params) Quantize(real float64, qmin, qmax int32) int32 {
	q := math.Round(real/p.Scale) + float64(p.ZeroPoint)
	return int32(math.Max(float64(qmin), math.Min(float64(qmax), q)))
}

// Dequantize maps q back to a real value.
func (p Params) Dequantize(q int32) float64 {
	return p.Scale * float64(q-p.ZeroPoint)
}

// ChooseParams picks asymmetric parameters covering [min, max] (widened to
// include 0) on the integer range [qmin, qmax], with the zero point nudged
// to an integer so that 0 is exact, as TFLite's ChooseQuantizationParams.
func ChooseParams(min, max float64, qmin, qmax int32) (Params, error) {
	if math.IsNaN(min) || math.IsNaN(max) || math.IsInf(min, 0) || math.IsInf(max, 0) || min > max {
		return Params{}, fmt.Errorf("quantize: range [%v, %v] is not a finite interval", min, max)
	}
	if qmin >= qmax {
		return Params{}, fmt.Errorf("quantize: integer range [%d, %d] is empty", qmin, qmax)
	}
	min, max = math.Min(min, 0), math.Max(max, 0)
	if min == max {
		return Params{Scale: 1, ZeroPoint: 0}, nil
	}
	scale := (max - min) / float64(qmax-qmin)
	// Of the two candidate zero points, take the one with the smaller error.
	fromMin := float64(qmin) - min/scale
	fromMax := float64(qmax) - max/scale
	errMin := math.Abs(float64(qmin)) + math.Abs(min/scale)
	errMax := math.Abs(float64(qmax)) + math.Abs(max/scale)
	zp := fromMax
	if errMin < errMax {
		zp = fromMin
	}
	nudged := int32(math.Round(math.Max(float64(qmin), math.Min(float64(qmax), zp))))
	return Params{Scale: scale, ZeroPoint: nudged}, nil
}

// SymmetricScale is the scale of symmetric quantization (zero point 0) of
// values within [−maxAbs, maxAbs] onto [−qmax, qmax], as for int8 weights
// (qmax 127). A zero range gives scale 1.
func SymmetricScale(maxAbs float64, qmax int32) float64 {
	if maxAbs == 0 {
		return 1
	}
	return maxAbs / float64(qmax)
}
