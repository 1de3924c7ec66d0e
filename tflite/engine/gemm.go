package engine

// The int16 micro-kernel of the quantized convolutions: 4 patch rows
// against nOC filter rows, all kp long (kp a multiple of 16, zero padded),
// giving out[r*nOC+oc] = Σ_k a[r*kp+k]·w[oc*kp+k]. An AVX2 version is used
// where the CPU has it (gemm_amd64.go); gemm4Go is the fallback and the
// reference the assembly is tested against.

// packI8 makes the quantized convolutions opened from then on pack int8
// operands for gemm4I8 instead of int16 ones for gemm4: set where gemm4I8
// has an SDOT kernel (arm64 with the dot product extension); tests set it
// to check the packing with the pure-Go gemm4I8Go.
var packI8 = useSDOT

// kAlign is the padding of patch and filter rows, in int16s.
const kAlign = 16

func padK(k int) int { return (k + kAlign - 1) / kAlign * kAlign }

func gemm4Go(a, w []int16, kp, nOC int, out []int32) {
	a0, a1, a2, a3 := a[:kp], a[kp:2*kp], a[2*kp:3*kp], a[3*kp:4*kp]
	for oc := 0; oc < nOC; oc++ {
		wr := w[oc*kp : (oc+1)*kp]
		var s0, s1, s2, s3 int32
		for k, wv := range wr {
			x := int32(wv)
			s0 += int32(a0[k]) * x
			s1 += int32(a1[k]) * x
			s2 += int32(a2[k]) * x
			s3 += int32(a3[k]) * x
		}
		out[oc], out[nOC+oc], out[2*nOC+oc], out[3*nOC+oc] = s0, s1, s2, s3
	}
}

func dwMacGo(acc []int32, in []byte, w []int32, zp int32, signed bool) {
	in, w = in[:len(acc)], w[:len(acc)]
	if signed {
		for c := range acc {
			acc[c] += (int32(int8(in[c])) - zp) * w[c]
		}
		return
	}
	for c := range acc {
		acc[c] += (int32(in[c]) - zp) * w[c]
	}
}

// gemmF32Go is the float32 micro-kernel: out[r*nOC+oc] = Σ_k a[r*kp+k]·w[oc*kp+k].
func gemmF32Go(a, w []float32, kp, nOC int, out []float32) {
	for r := 0; r < 4; r++ {
		ar := a[r*kp : (r+1)*kp]
		for oc := 0; oc < nOC; oc++ {
			out[r*nOC+oc] = dotF32(ar, w[oc*kp:(oc+1)*kp])
		}
	}
}

// gemm4I8Go is the int8 micro-kernel behind the SDOT one (packI8):
// out[r*nOC+oc] = Σ_k a[r*kp+k]·w[oc*kp+k] + rowMul·Σ_k a[r*kp+k].
func gemm4I8Go(a, w []int8, kp, nOC int, rowMul int32, out []int32) {
	for r := 0; r < 4; r++ {
		ar := a[r*kp : (r+1)*kp]
		var sum int32
		for _, v := range ar {
			sum += int32(v)
		}
		sum *= rowMul
		for oc := 0; oc < nOC; oc++ {
			wr := w[oc*kp : (oc+1)*kp]
			s := sum
			for k, wv := range wr {
				s += int32(ar[k]) * int32(wv)
			}
			out[r*nOC+oc] = s
		}
	}
}
