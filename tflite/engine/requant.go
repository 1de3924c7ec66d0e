package engine

import "math"

// requant turns int32 accumulators into 8-bit outputs: add the bias,
// multiply by the per-channel fixed-point multiplier with ruy's rounding
// (the GEMM behind CONV_2D and FULLY_CONNECTED) or gemmlowp's (the other
// kernels), add the output zero point, clamp to the activation range.
//
// Both roundings reduce to one 64-bit expression. With x' = x<<left
// (wrapping, as in C), m the Q31 multiplier and r the right shift:
//
//	ruy:      (x'·m + 2^30 [+ 2^(30+r) if r > 0]) >> (31+r)
//	gemmlowp: the same, minus 2^31 if r > 0 and x'·m + 2^30 < 0
//
// since floor(floor(a/2^31)/2^r) = floor(a/2^(31+r)), SRDHM rounds half up
// for both signs, and RoundingDivideByPOT rounds half away from zero. (Ruy's
// saturation when x'·m nears 2^62 gives the same value as the formula.)
// AVX2 has no 64-bit arithmetic shift, so its assembly adds 2^63 (making
// the value unsigned), shifts logically and subtracts 2^(63−s) mod 2^32
// from the low 32 bits, folded into a per-channel zero point. The NEON
// assembly (arm64) reads the same q, undoing the 2^63, and shifts
// arithmetically.
type requant struct {
	n              int     // channels
	mult           []int32 // Q31 multipliers, padded to a multiple of 8
	left           []int32 // left shifts, padded
	q              []int64 // per 8 channels: extra rounding, shift, corr, each for even then odd lanes (3×2×4)
	zeroBias       []int32
	adj            []int32 // outZP − 2^(63−shift) mod 2^32, per channel, for the assembly
	outZP          int32
	actMin, actMax int32
	signed         bool
}

func newRequant(mult []int32, shift []int, ruy bool, outZP, actMin, actMax int32, signed bool) requant {
	n := len(mult)
	np := (n + 7) &^ 7
	r := requant{n: n, outZP: outZP, actMin: actMin, actMax: actMax, signed: signed}
	r.mult = make([]int32, np)
	r.left = make([]int32, np)
	r.q = make([]int64, np/8*24)
	r.zeroBias = make([]int32, np)
	r.adj = make([]int32, np)
	copy(r.mult, mult)
	for c := 0; c < np; c++ {
		right := 0
		if c < n {
			if shift[c] > 0 {
				r.left[c] = int32(shift[c])
			} else {
				right = -shift[c]
			}
		}
		rnd, corr := int64(0), int64(0)
		if right > 0 {
			rnd = int64(1) << (30 + right)
			if !ruy {
				corr = 1 << 31
			}
		}
		g, lane := c/8, c%8
		base := g*24 + lane/2
		if lane%2 == 1 {
			base += 4
		}
		r.q[base] = rnd + math.MinInt64 // + 2^63, wrapping
		r.q[base+8] = int64(31 + right)
		r.q[base+16] = corr
		r.adj[c] = outZP - int32(uint32(uint64(1)<<(32-right)))
	}
	return r
}

// scale is the requantization of channel c, in Go.
func (r *requant) scale(x int32, c int) int32 {
	g, lane := c/8, c%8
	base := g*24 + lane/2
	if lane%2 == 1 {
		base += 4
	}
	t := int64(x<<uint(r.left[c]))*int64(r.mult[c]) + 1<<30
	if t < 0 {
		t -= r.q[base+16]
	}
	t += r.q[base] - math.MinInt64
	return int32(t >> uint(r.q[base+8]))
}

// apply requantizes acc+bias into dst (one pixel's channels); bias may be
// nil.
func (r *requant) apply(dst []byte, acc, bias []int32) {
	if bias == nil {
		bias = r.zeroBias
	}
	v := 0
	if useAVX2 {
		v = r.n &^ 7
		if v > 0 {
			_, _, _ = dst[v-1], acc[v-1], bias[v-1]
			requantAVX2(&dst[0], &acc[0], &bias[0], &r.mult[0], &r.left[0], &r.q[0], &r.adj[0], v, r.actMin, r.actMax, r.signed)
		}
	} else if useNEON {
		v = r.n &^ 7
		if v > 0 {
			_, _, _ = dst[v-1], acc[v-1], bias[v-1]
			requantNEON(&dst[0], &acc[0], &bias[0], &r.mult[0], &r.left[0], &r.q[0], v, r.outZP, r.actMin, r.actMax)
		}
	}
	for c := v; c < r.n; c++ {
		x := r.scale(acc[c]+bias[c], c) + r.outZP
		dst[c] = byte(min(max(x, r.actMin), r.actMax))
	}
}
