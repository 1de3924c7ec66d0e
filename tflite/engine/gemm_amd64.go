//go:build amd64 && !purego

package engine

import "golang.org/x/sys/cpu"

// useAVX2 selects the assembly kernels; tests turn it off to check the
// pure-Go ones.
var useAVX2 = cpu.X86.HasAVX2

// The NEON kernels are arm64's.
var useNEON, useSDOT = false, false

// gemm4x2AVX2 is gemm4 for an even nOC, in AVX2 (gemm_amd64.s).
//
//go:noescape
func gemm4x2AVX2(a, w *int16, kp, nOC int, out *int32)

func gemm4(a, w []int16, kp, nOC int, out []int32) {
	if useAVX2 && nOC%2 == 0 && kp%16 == 0 && kp > 0 && nOC > 0 {
		_ = a[4*kp-1]
		_ = w[nOC*kp-1]
		_ = out[4*nOC-1]
		gemm4x2AVX2(&a[0], &w[0], kp, nOC, &out[0])
		return
	}
	gemm4Go(a, w, kp, nOC, out)
}

func gemm4I8(a, w []int8, kp, nOC int, rowMul int32, out []int32) {
	gemm4I8Go(a, w, kp, nOC, rowMul, out)
}

func requantNEON(dst *byte, acc, bias, mult, left *int32, q *int64, n int, zp, lo, hi int32) {
	panic("no NEON")
}

// dwMacAVX2 is the depthwise multiply-accumulate in AVX2 (gemm_amd64.s).
//
//go:noescape
func dwMacAVX2(acc *int32, in *byte, w *int32, n int, zp int32, signed bool)

// dwMac adds (in[c] − zp)·w[c] to acc[c].
func dwMac(acc []int32, in []byte, w []int32, zp int32, signed bool) {
	n := len(acc)
	in, w = in[:n], w[:n]
	v := 0
	if useAVX2 && n >= 8 {
		v = n &^ 7
		dwMacAVX2(&acc[0], &in[0], &w[0], v, zp, signed)
	}
	dwMacGo(acc[v:], in[v:], w[v:], zp, signed)
}

// requantAVX2 is requant.apply for n channels (a multiple of 8), in AVX2
// (gemm_amd64.s).
//
//go:noescape
func requantAVX2(dst *byte, acc, bias, mult, left *int32, q *int64, adj *int32, n int, lo, hi int32, signed bool)

// gemmF32AVX2 is gemmF32 for an even nOC and kp a multiple of 8, in AVX2
// with FMA (gemm_amd64.s).
//
//go:noescape
func gemmF32AVX2(a, w *float32, kp, nOC int, out *float32)

// useFMA selects the float kernel, which also needs FMA.
var useFMA = cpu.X86.HasAVX2 && cpu.X86.HasFMA

func gemmF32(a, w []float32, kp, nOC int, out []float32) {
	if useFMA && nOC%2 == 0 && kp%8 == 0 && kp > 0 && nOC > 0 {
		_ = a[4*kp-1]
		_ = w[nOC*kp-1]
		_ = out[4*nOC-1]
		gemmF32AVX2(&a[0], &w[0], kp, nOC, &out[0])
		return
	}
	gemmF32Go(a, w, kp, nOC, out)
}
