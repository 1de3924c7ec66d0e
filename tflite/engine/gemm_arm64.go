//go:build arm64 && !purego

package engine

import "golang.org/x/sys/cpu"

// useNEON selects the NEON kernels (gemm_arm64.s), which every arm64 CPU
// can run; tests turn it off to check the pure-Go ones.
var useNEON = true

// useSDOT selects the int8 dot-product (SDOT) GEMM kernel and, read when a
// model is opened, the int8 packing of the quantized convolutions it needs
// (packI8). It is set where the CPU has the dot product extension
// (FEAT_DotProd, ASIMDDP); tests turn it off to check the SMLAL kernel.
var useSDOT = cpu.ARM64.HasASIMDDP

// The AVX2 kernels are amd64's.
var useAVX2, useFMA = false, false

// gemm4x2NEON is gemm4 for an even nOC, with SMLAL (gemm_arm64.s).
//
//go:noescape
func gemm4x2NEON(a, w *int16, kp, nOC int, out *int32)

func gemm4(a, w []int16, kp, nOC int, out []int32) {
	if useNEON && nOC%2 == 0 && kp%16 == 0 && kp > 0 && nOC > 0 {
		_ = a[4*kp-1]
		_ = w[nOC*kp-1]
		_ = out[4*nOC-1]
		gemm4x2NEON(&a[0], &w[0], kp, nOC, &out[0])
		return
	}
	gemm4Go(a, w, kp, nOC, out)
}

// gemm4x2SDOT is gemm4I8 for an even nOC, with SDOT (gemm_arm64.s).
//
//go:noescape
func gemm4x2SDOT(a, w *int8, kp, nOC int, out *int32, rowMul int32)

func gemm4I8(a, w []int8, kp, nOC int, rowMul int32, out []int32) {
	if useSDOT && nOC%2 == 0 && kp%16 == 0 && kp > 0 && nOC > 0 {
		_ = a[4*kp-1]
		_ = w[nOC*kp-1]
		_ = out[4*nOC-1]
		gemm4x2SDOT(&a[0], &w[0], kp, nOC, &out[0], rowMul)
		return
	}
	gemm4I8Go(a, w, kp, nOC, rowMul, out)
}

// dwMacNEON is the depthwise multiply-accumulate for n a multiple of 8
// (gemm_arm64.s).
//
//go:noescape
func dwMacNEON(acc *int32, in *byte, w *int32, n int, zp int32, signed bool)

// dwMac adds (in[c] − zp)·w[c] to acc[c].
func dwMac(acc []int32, in []byte, w []int32, zp int32, signed bool) {
	n := len(acc)
	in, w = in[:n], w[:n]
	v := 0
	if useNEON && n >= 8 {
		v = n &^ 7
		dwMacNEON(&acc[0], &in[0], &w[0], v, zp, signed)
	}
	dwMacGo(acc[v:], in[v:], w[v:], zp, signed)
}

// requantNEON is requant.apply for n channels (a multiple of 8)
// (gemm_arm64.s).
//
//go:noescape
func requantNEON(dst *byte, acc, bias, mult, left *int32, q *int64, n int, zp, lo, hi int32)

func requantAVX2(dst *byte, acc, bias, mult, left *int32, q *int64, adj *int32, n int, lo, hi int32, signed bool) {
	panic("no AVX2")
}

// gemmF32NEON is gemmF32 for an even nOC and kp a multiple of 8, with FMLA
// (gemm_arm64.s).
//
//go:noescape
func gemmF32NEON(a, w *float32, kp, nOC int, out *float32)

func gemmF32(a, w []float32, kp, nOC int, out []float32) {
	if useNEON && nOC%2 == 0 && kp%8 == 0 && kp > 0 && nOC > 0 {
		_ = a[4*kp-1]
		_ = w[nOC*kp-1]
		_ = out[4*nOC-1]
		gemmF32NEON(&a[0], &w[0], kp, nOC, &out[0])
		return
	}
	gemmF32Go(a, w, kp, nOC, out)
}
