//go:build (!amd64 && !arm64) || purego

package engine

var useAVX2, useFMA, useNEON, useSDOT = false, false, false, false

func gemm4(a, w []int16, kp, nOC int, out []int32) { gemm4Go(a, w, kp, nOC, out) }

func gemm4I8(a, w []int8, kp, nOC int, rowMul int32, out []int32) {
	gemm4I8Go(a, w, kp, nOC, rowMul, out)
}

func dwMac(acc []int32, in []byte, w []int32, zp int32, signed bool) {
	dwMacGo(acc, in, w, zp, signed)
}

func requantAVX2(dst *byte, acc, bias, mult, left *int32, q *int64, adj *int32, n int, lo, hi int32, signed bool) {
	panic("no AVX2")
}

func requantNEON(dst *byte, acc, bias, mult, left *int32, q *int64, n int, zp, lo, hi int32) {
	panic("no NEON")
}

func gemmF32(a, w []float32, kp, nOC int, out []float32) { gemmF32Go(a, w, kp, nOC, out) }
