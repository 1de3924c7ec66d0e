package engine

import "math"

// This file holds TFLite 2.9's fixed-point arithmetic (kernels/internal/
// common.h, quantization_util.cc and gemmlowp's fixedpoint.h), written so
// that every result is the same bit for bit.

// QuantizeMultiplier, SaturatingRoundingDoublingHighMul,
// RoundingDivideByPOT and MultiplyByQuantizedMultiplier (the reference
// kernels' rounding) are package quantize's; the variants below are the
// ones only TFLite's optimized kernels use.

// mulRuy is the same product as ruy's x86 kernels compute it in the GEMMs
// behind TFLite's CONV_2D and FULLY_CONNECTED: a doubling high multiply
// rounded half up, then a right shift rounded half up (not away from zero),
// saturating to 1<<(31-shift) when x·m is too close to the int32 limit.
func mulRuy(x, m int32, shift int) int32 {
	left, right := 0, 0
	if shift > 0 {
		left = shift
	} else {
		right = -shift
	}
	p := (int64(x<<uint(left))*int64(m) + 1<<30) >> 31
	if right == 0 {
		if p > math.MaxInt32 {
			return math.MinInt32
		}
		return int32(p)
	}
	nudge := int64(1) << uint(right-1)
	if p > math.MaxInt32-nudge {
		return int32(int64(1) << uint(31-right))
	}
	return int32((p + nudge) >> uint(right))
}

// Int16 versions, for HARD_SWISH.

func srdhm16(a, b int16) int16 {
	if a == b && a == math.MinInt16 {
		return math.MaxInt16
	}
	ab := int32(a) * int32(b)
	nudge := int32(1 << 14)
	if ab < 0 {
		nudge = 1 - 1<<14
	}
	return int16((ab + nudge) / (1 << 15))
}

// sdhm16 is TFLite's SaturatingDoublingHighMul: like srdhm16 but rounding
// toward zero.
func sdhm16(a, b int16) int16 {
	if a == b && a == math.MinInt16 {
		return math.MaxInt16
	}
	return int16(int32(a) * int32(b) / (1 << 15))
}

func rdbpot16(x int16, e int) int16 {
	mask := int16(uint16(1)<<uint(e) - 1)
	remainder := x & mask
	threshold := mask >> 1
	if x < 0 {
		threshold++
	}
	r := x >> uint(e)
	if remainder > threshold {
		r++
	}
	return r
}

func satLeftShift16(v int16, amount int) int16 {
	r := int64(v) * (1 << uint(amount))
	return int16(min(max(r, math.MinInt16), math.MaxInt16))
}

// roundf rounds half away from zero, like C's roundf/round.
func roundf(x float32) float32 { return float32(math.Round(float64(x))) }

// typeRange is the value range of a quantized type.
func typeRange(signed bool) (lo, hi int32) {
	if signed {
		return -128, 127
	}
	return 0, 255
}

// Fused activations (the schema's ActivationFunctionType).
const (
	actNone      = 0
	actRelu      = 1
	actReluN1To1 = 2
	actRelu6     = 3
	actTanh      = 4
	actSignBit   = 5
)

// quantizedActRange is TFLite's CalculateActivationRangeQuantized.
func quantizedActRange(act int8, signed bool, scale float32, zp int32) (lo, hi int32, ok bool) {
	qmin, qmax := typeRange(signed)
	q := func(f float32) int32 { return zp + int32(roundf(f/scale)) }
	switch act {
	case actNone:
		return qmin, qmax, true
	case actRelu:
		return max(qmin, q(0)), qmax, true
	case actRelu6:
		return max(qmin, q(0)), min(qmax, q(6)), true
	case actReluN1To1:
		return max(qmin, q(-1)), min(qmax, q(1)), true
	}
	return 0, 0, false
}

// floatActRange is TFLite's CalculateActivationRange for float.
func floatActRange(act int8) (lo, hi float32, ok bool) {
	switch act {
	case actNone:
		return -math.MaxFloat32, math.MaxFloat32, true
	case actRelu:
		return 0, math.MaxFloat32, true
	case actRelu6:
		return 0, 6, true
	case actReluN1To1:
		return -1, 1, true
	}
	return 0, 0, false
}

func actName(act int8) string {
	switch act {
	case actTanh:
		return "TANH"
	case actSignBit:
		return "SIGN_BIT"
	}
	return "activation " + itoa(int(act))
}
