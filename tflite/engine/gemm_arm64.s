//go:build arm64 && !purego

#include "textflag.h"

// NEON kernels for arm64 (gemm_arm64.go chooses them). Go's assembler
// lacks most integer NEON arithmetic (SMLAL, SDOT, SSHL, SMULL, MLA...), so
// those are WORD-encoded, each with the instruction it encodes in GNU
// syntax as its comment; TestARM64Encodings reassembles every such comment
// with aarch64-linux-gnu-as and checks the word.

// The 4-row reduction shared by the GEMM kernels: V0..V3 hold the 4-lane
// partial sums of rows 0..3 for filter row oc, V4..V7 those for oc+1.
// ADDP thrice leaves [row0, row1, row2, row3] of oc in V0 and of oc+1 in
// V4.

// func gemm4x2NEON(a, w *int16, kp, nOC int, out *int32)
//
// The int16 GEMM micro-kernel: for each pair of filter rows (oc, oc+1) and
// the 4 patch rows of a (row stride kp int16s, kp a multiple of 16),
// multiply-accumulates 16 int16s per row and iteration with SMLAL/SMLAL2
// into 8 int32x4 accumulators, reduces them and stores out[r*nOC+oc] and
// out[r*nOC+oc+1].
TEXT ·gemm4x2NEON(SB), NOSPLIT, $0-40
	MOVD a+0(FP), R0
	MOVD w+8(FP), R4
	MOVD kp+16(FP), R6
	MOVD nOC+24(FP), R7
	MOVD out+32(FP), R8
	LSL  $1, R6, R6   // row stride in bytes
	ADD  R6, R0, R1   // patch rows 1..3
	ADD  R6, R1, R2
	ADD  R6, R2, R3
	LSL  $2, R7, R9   // output row stride in bytes
	ADD  R9, R8, R19  // output rows 1..3
	ADD  R9, R19, R20
	ADD  R9, R20, R21

ocloop:
	VEOR V0.B16, V0.B16, V0.B16
	VEOR V1.B16, V1.B16, V1.B16
	VEOR V2.B16, V2.B16, V2.B16
	VEOR V3.B16, V3.B16, V3.B16
	VEOR V4.B16, V4.B16, V4.B16
	VEOR V5.B16, V5.B16, V5.B16
	VEOR V6.B16, V6.B16, V6.B16
	VEOR V7.B16, V7.B16, V7.B16
	MOVD R0, R11
	MOVD R1, R12
	MOVD R2, R13
	MOVD R3, R14
	MOVD R4, R15      // filter row oc
	ADD  R6, R4, R16  // filter row oc+1
	LSR  $5, R6, R17  // iterations of 16 int16s

kloop:
	VLD1.P 32(R11), [V16.H8, V17.H8]
	VLD1.P 32(R12), [V18.H8, V19.H8]
	VLD1.P 32(R13), [V20.H8, V21.H8]
	VLD1.P 32(R14), [V22.H8, V23.H8]
	VLD1.P 32(R15), [V24.H8, V25.H8]
	VLD1.P 32(R16), [V26.H8, V27.H8]
	WORD $0x0e788200 // smlal v0.4s, v16.4h, v24.4h
	WORD $0x4e788200 // smlal2 v0.4s, v16.8h, v24.8h
	WORD $0x0e7a8204 // smlal v4.4s, v16.4h, v26.4h
	WORD $0x4e7a8204 // smlal2 v4.4s, v16.8h, v26.8h
	WORD $0x0e788241 // smlal v1.4s, v18.4h, v24.4h
	WORD $0x4e788241 // smlal2 v1.4s, v18.8h, v24.8h
	WORD $0x0e7a8245 // smlal v5.4s, v18.4h, v26.4h
	WORD $0x4e7a8245 // smlal2 v5.4s, v18.8h, v26.8h
	WORD $0x0e788282 // smlal v2.4s, v20.4h, v24.4h
	WORD $0x4e788282 // smlal2 v2.4s, v20.8h, v24.8h
	WORD $0x0e7a8286 // smlal v6.4s, v20.4h, v26.4h
	WORD $0x4e7a8286 // smlal2 v6.4s, v20.8h, v26.8h
	WORD $0x0e7882c3 // smlal v3.4s, v22.4h, v24.4h
	WORD $0x4e7882c3 // smlal2 v3.4s, v22.8h, v24.8h
	WORD $0x0e7a82c7 // smlal v7.4s, v22.4h, v26.4h
	WORD $0x4e7a82c7 // smlal2 v7.4s, v22.8h, v26.8h
	WORD $0x0e798220 // smlal v0.4s, v17.4h, v25.4h
	WORD $0x4e798220 // smlal2 v0.4s, v17.8h, v25.8h
	WORD $0x0e7b8224 // smlal v4.4s, v17.4h, v27.4h
	WORD $0x4e7b8224 // smlal2 v4.4s, v17.8h, v27.8h
	WORD $0x0e798261 // smlal v1.4s, v19.4h, v25.4h
	WORD $0x4e798261 // smlal2 v1.4s, v19.8h, v25.8h
	WORD $0x0e7b8265 // smlal v5.4s, v19.4h, v27.4h
	WORD $0x4e7b8265 // smlal2 v5.4s, v19.8h, v27.8h
	WORD $0x0e7982a2 // smlal v2.4s, v21.4h, v25.4h
	WORD $0x4e7982a2 // smlal2 v2.4s, v21.8h, v25.8h
	WORD $0x0e7b82a6 // smlal v6.4s, v21.4h, v27.4h
	WORD $0x4e7b82a6 // smlal2 v6.4s, v21.8h, v27.8h
	WORD $0x0e7982e3 // smlal v3.4s, v23.4h, v25.4h
	WORD $0x4e7982e3 // smlal2 v3.4s, v23.8h, v25.8h
	WORD $0x0e7b82e7 // smlal v7.4s, v23.4h, v27.4h
	WORD $0x4e7b82e7 // smlal2 v7.4s, v23.8h, v27.8h
	SUBS $1, R17, R17
	BNE  kloop

	WORD $0x4ea1bc00 // addp v0.4s, v0.4s, v1.4s
	WORD $0x4ea3bc42 // addp v2.4s, v2.4s, v3.4s
	WORD $0x4ea2bc00 // addp v0.4s, v0.4s, v2.4s
	WORD $0x4ea5bc84 // addp v4.4s, v4.4s, v5.4s
	WORD $0x4ea7bcc6 // addp v6.4s, v6.4s, v7.4s
	WORD $0x4ea6bc84 // addp v4.4s, v4.4s, v6.4s
	WORD $0x4e843808 // zip1 v8.4s, v0.4s, v4.4s
	WORD $0x4e847809 // zip2 v9.4s, v0.4s, v4.4s
	VMOV   V8.D[0], R22
	MOVD.P R22, 8(R8)
	VMOV   V8.D[1], R22
	MOVD.P R22, 8(R19)
	VMOV   V9.D[0], R22
	MOVD.P R22, 8(R20)
	VMOV   V9.D[1], R22
	MOVD.P R22, 8(R21)
	MOVD R16, R4      // next pair of filter rows
	SUBS $2, R7, R7
	BGT  ocloop
	RET

// func gemm4x2SDOT(a, w *int8, kp, nOC int, out *int32, rowMul int32)
//
// The int8 twin of gemm4x2NEON for CPUs with the dot product extension:
// SDOT multiplies 16 int8s per row and iteration (kp a multiple of 16) and
// adds them in groups of 4 into the int32 lanes. It stores
// out[r*nOC+oc] = Σ_k a[r][k]·w[oc][k] + rowMul·Σ_k a[r][k].
TEXT ·gemm4x2SDOT(SB), NOSPLIT, $0-44
	MOVD a+0(FP), R0
	MOVD w+8(FP), R4
	MOVD kp+16(FP), R6
	MOVD nOC+24(FP), R7
	MOVD out+32(FP), R8
	MOVW rowMul+40(FP), R5
	ADD  R6, R0, R1
	ADD  R6, R1, R2
	ADD  R6, R2, R3
	LSL  $2, R7, R9
	ADD  R9, R8, R19
	ADD  R9, R19, R20
	ADD  R9, R20, R21
	VEOR V30.B16, V30.B16, V30.B16
	CBZ  R5, socloop

	// V30 = rowMul·[Σa[0], Σa[1], Σa[2], Σa[3]], the sums by SDOT with ones.
	VMOVI $1, V28.B16
	VEOR V0.B16, V0.B16, V0.B16
	VEOR V1.B16, V1.B16, V1.B16
	VEOR V2.B16, V2.B16, V2.B16
	VEOR V3.B16, V3.B16, V3.B16
	MOVD R0, R11
	MOVD R1, R12
	MOVD R2, R13
	MOVD R3, R14
	LSR  $4, R6, R17

sumloop:
	VLD1.P 16(R11), [V16.B16]
	VLD1.P 16(R12), [V17.B16]
	VLD1.P 16(R13), [V18.B16]
	VLD1.P 16(R14), [V19.B16]
	WORD $0x4e9c9600 // sdot v0.4s, v16.16b, v28.16b
	WORD $0x4e9c9621 // sdot v1.4s, v17.16b, v28.16b
	WORD $0x4e9c9642 // sdot v2.4s, v18.16b, v28.16b
	WORD $0x4e9c9663 // sdot v3.4s, v19.16b, v28.16b
	SUBS $1, R17, R17
	BNE  sumloop
	WORD $0x4ea1bc00 // addp v0.4s, v0.4s, v1.4s
	WORD $0x4ea3bc42 // addp v2.4s, v2.4s, v3.4s
	WORD $0x4ea2bc00 // addp v0.4s, v0.4s, v2.4s
	VDUP R5, V29.S4
	WORD $0x4ebd9c1e // mul v30.4s, v0.4s, v29.4s

socloop:
	VEOR V0.B16, V0.B16, V0.B16
	VEOR V1.B16, V1.B16, V1.B16
	VEOR V2.B16, V2.B16, V2.B16
	VEOR V3.B16, V3.B16, V3.B16
	VEOR V4.B16, V4.B16, V4.B16
	VEOR V5.B16, V5.B16, V5.B16
	VEOR V6.B16, V6.B16, V6.B16
	VEOR V7.B16, V7.B16, V7.B16
	MOVD R0, R11
	MOVD R1, R12
	MOVD R2, R13
	MOVD R3, R14
	MOVD R4, R15
	ADD  R6, R4, R16
	LSR  $4, R6, R17

skloop:
	VLD1.P 16(R11), [V16.B16]
	VLD1.P 16(R12), [V17.B16]
	VLD1.P 16(R13), [V18.B16]
	VLD1.P 16(R14), [V19.B16]
	VLD1.P 16(R15), [V20.B16]
	VLD1.P 16(R16), [V21.B16]
	WORD $0x4e949600 // sdot v0.4s, v16.16b, v20.16b
	WORD $0x4e959604 // sdot v4.4s, v16.16b, v21.16b
	WORD $0x4e949621 // sdot v1.4s, v17.16b, v20.16b
	WORD $0x4e959625 // sdot v5.4s, v17.16b, v21.16b
	WORD $0x4e949642 // sdot v2.4s, v18.16b, v20.16b
	WORD $0x4e959646 // sdot v6.4s, v18.16b, v21.16b
	WORD $0x4e949663 // sdot v3.4s, v19.16b, v20.16b
	WORD $0x4e959667 // sdot v7.4s, v19.16b, v21.16b
	SUBS $1, R17, R17
	BNE  skloop

	WORD $0x4ea1bc00 // addp v0.4s, v0.4s, v1.4s
	WORD $0x4ea3bc42 // addp v2.4s, v2.4s, v3.4s
	WORD $0x4ea2bc00 // addp v0.4s, v0.4s, v2.4s
	WORD $0x4ea5bc84 // addp v4.4s, v4.4s, v5.4s
	WORD $0x4ea7bcc6 // addp v6.4s, v6.4s, v7.4s
	WORD $0x4ea6bc84 // addp v4.4s, v4.4s, v6.4s
	WORD $0x4ebe8400 // add v0.4s, v0.4s, v30.4s
	WORD $0x4ebe8484 // add v4.4s, v4.4s, v30.4s
	WORD $0x4e843808 // zip1 v8.4s, v0.4s, v4.4s
	WORD $0x4e847809 // zip2 v9.4s, v0.4s, v4.4s
	VMOV   V8.D[0], R22
	MOVD.P R22, 8(R8)
	VMOV   V8.D[1], R22
	MOVD.P R22, 8(R19)
	VMOV   V9.D[0], R22
	MOVD.P R22, 8(R20)
	VMOV   V9.D[1], R22
	MOVD.P R22, 8(R21)
	MOVD R16, R4
	SUBS $2, R7, R7
	BGT  socloop
	RET

// func dwMacNEON(acc *int32, in *byte, w *int32, n int, zp int32, signed bool)
//
// acc[c] += (in[c] − zp)·w[c] for c < n (n a multiple of 8), widening the
// 8-bit inputs (zero- or sign-extended) to int32.
TEXT ·dwMacNEON(SB), NOSPLIT, $0-37
	MOVD  acc+0(FP), R0
	MOVD  in+8(FP), R1
	MOVD  w+16(FP), R2
	MOVD  n+24(FP), R3
	MOVW  zp+32(FP), R4
	MOVBU signed+36(FP), R5
	VDUP  R4, V31.S4
	LSR   $3, R3, R3
	CBNZ  R5, sloop

uloop:
	VLD1.P 8(R1), [V0.B8]
	WORD $0x2f08a400 // uxtl v0.8h, v0.8b
	WORD $0x2f10a401 // uxtl v1.4s, v0.4h
	WORD $0x6f10a402 // uxtl2 v2.4s, v0.8h
	WORD $0x6ebf8421 // sub v1.4s, v1.4s, v31.4s
	WORD $0x6ebf8442 // sub v2.4s, v2.4s, v31.4s
	VLD1.P 32(R2), [V3.S4, V4.S4]
	VLD1   (R0), [V5.S4, V6.S4]
	WORD $0x4ea39425 // mla v5.4s, v1.4s, v3.4s
	WORD $0x4ea49446 // mla v6.4s, v2.4s, v4.4s
	VST1.P [V5.S4, V6.S4], 32(R0)
	SUBS $1, R3, R3
	BNE  uloop
	RET

sloop:
	VLD1.P 8(R1), [V0.B8]
	WORD $0x0f08a400 // sxtl v0.8h, v0.8b
	WORD $0x0f10a401 // sxtl v1.4s, v0.4h
	WORD $0x4f10a402 // sxtl2 v2.4s, v0.8h
	WORD $0x6ebf8421 // sub v1.4s, v1.4s, v31.4s
	WORD $0x6ebf8442 // sub v2.4s, v2.4s, v31.4s
	VLD1.P 32(R2), [V3.S4, V4.S4]
	VLD1   (R0), [V5.S4, V6.S4]
	WORD $0x4ea39425 // mla v5.4s, v1.4s, v3.4s
	WORD $0x4ea49446 // mla v6.4s, v2.4s, v4.4s
	VST1.P [V5.S4, V6.S4], 32(R0)
	SUBS $1, R3, R3
	BNE  sloop
	RET

// func requantNEON(dst *byte, acc, bias, mult, left *int32, q *int64, n int, zp, lo, hi int32)
//
// dst[c] = clamp(scale(acc[c]+bias[c]) + zp), 8 channels at a time (n a
// multiple of 8), in the 64-bit arithmetic of requant.scale, with the
// AVX2 layout of q (requant.go): per 8 channels the rounding terms (plus
// 2^63), shifts and corrections, each for the even channels then the odd
// ones. UZP splits x and the multipliers into even and odd channels,
// SMULL/SMULL2 form the 64-bit products, SSHL by the negated shift is the
// arithmetic right shift AVX2 lacks, and ZIP restores the channel order.
// After the clamp every value fits the output type, so plain narrowing
// (XTN) gives the byte for uint8 and int8 alike.
TEXT ·requantNEON(SB), NOSPLIT, $0-68
	MOVD dst+0(FP), R0
	MOVD acc+8(FP), R1
	MOVD bias+16(FP), R2
	MOVD mult+24(FP), R3
	MOVD left+32(FP), R4
	MOVD q+40(FP), R5
	MOVD n+48(FP), R6
	MOVW zp+56(FP), R7
	MOVW lo+60(FP), R8
	MOVW hi+64(FP), R9
	VDUP R7, V26.S4
	VDUP R8, V27.S4
	VDUP R9, V28.S4
	MOVD $0x40000000, R10
	VDUP R10, V29.D2  // 2^30
	MOVD $0x8000000000000000, R10
	VDUP R10, V30.D2  // 2^63
	LSR  $3, R6, R6

rloop:
	VLD1.P 32(R1), [V0.S4, V1.S4]
	VLD1.P 32(R2), [V2.S4, V3.S4]
	WORD $0x4ea28400 // add v0.4s, v0.4s, v2.4s
	WORD $0x4ea38421 // add v1.4s, v1.4s, v3.4s
	VLD1.P 32(R4), [V2.S4, V3.S4]
	WORD $0x6ea24400 // ushl v0.4s, v0.4s, v2.4s
	WORD $0x6ea34421 // ushl v1.4s, v1.4s, v3.4s
	VLD1.P 32(R3), [V4.S4, V5.S4]
	WORD $0x4e811806 // uzp1 v6.4s, v0.4s, v1.4s
	WORD $0x4e815807 // uzp2 v7.4s, v0.4s, v1.4s
	WORD $0x4e851888 // uzp1 v8.4s, v4.4s, v5.4s
	WORD $0x4e855889 // uzp2 v9.4s, v4.4s, v5.4s
	WORD $0x0ea8c0ca // smull v10.2d, v6.2s, v8.2s
	WORD $0x4ea8c0cb // smull2 v11.2d, v6.4s, v8.4s
	WORD $0x0ea9c0ec // smull v12.2d, v7.2s, v9.2s
	WORD $0x4ea9c0ed // smull2 v13.2d, v7.4s, v9.4s
	WORD $0x4efd854a // add v10.2d, v10.2d, v29.2d
	WORD $0x4efd856b // add v11.2d, v11.2d, v29.2d
	WORD $0x4efd858c // add v12.2d, v12.2d, v29.2d
	WORD $0x4efd85ad // add v13.2d, v13.2d, v29.2d
	VLD1.P 64(R5), [V14.D2, V15.D2, V16.D2, V17.D2] // rounding + 2^63
	VLD1.P 64(R5), [V18.D2, V19.D2, V20.D2, V21.D2] // shifts
	VLD1.P 64(R5), [V22.D2, V23.D2, V24.D2, V25.D2] // corrections
	WORD $0x4ee0a95f // cmlt v31.2d, v10.2d, #0
	WORD $0x4e361fff // and v31.16b, v31.16b, v22.16b
	WORD $0x6eff854a // sub v10.2d, v10.2d, v31.2d
	WORD $0x4ee0a97f // cmlt v31.2d, v11.2d, #0
	WORD $0x4e371fff // and v31.16b, v31.16b, v23.16b
	WORD $0x6eff856b // sub v11.2d, v11.2d, v31.2d
	WORD $0x4ee0a99f // cmlt v31.2d, v12.2d, #0
	WORD $0x4e381fff // and v31.16b, v31.16b, v24.16b
	WORD $0x6eff858c // sub v12.2d, v12.2d, v31.2d
	WORD $0x4ee0a9bf // cmlt v31.2d, v13.2d, #0
	WORD $0x4e391fff // and v31.16b, v31.16b, v25.16b
	WORD $0x6eff85ad // sub v13.2d, v13.2d, v31.2d
	WORD $0x4eee854a // add v10.2d, v10.2d, v14.2d
	WORD $0x4eef856b // add v11.2d, v11.2d, v15.2d
	WORD $0x4ef0858c // add v12.2d, v12.2d, v16.2d
	WORD $0x4ef185ad // add v13.2d, v13.2d, v17.2d
	WORD $0x4efe854a // add v10.2d, v10.2d, v30.2d
	WORD $0x4efe856b // add v11.2d, v11.2d, v30.2d
	WORD $0x4efe858c // add v12.2d, v12.2d, v30.2d
	WORD $0x4efe85ad // add v13.2d, v13.2d, v30.2d
	WORD $0x6ee0ba52 // neg v18.2d, v18.2d
	WORD $0x6ee0ba73 // neg v19.2d, v19.2d
	WORD $0x6ee0ba94 // neg v20.2d, v20.2d
	WORD $0x6ee0bab5 // neg v21.2d, v21.2d
	WORD $0x4ef2454a // sshl v10.2d, v10.2d, v18.2d
	WORD $0x4ef3456b // sshl v11.2d, v11.2d, v19.2d
	WORD $0x4ef4458c // sshl v12.2d, v12.2d, v20.2d
	WORD $0x4ef545ad // sshl v13.2d, v13.2d, v21.2d
	WORD $0x0ea12940 // xtn v0.2s, v10.2d
	WORD $0x4ea12960 // xtn2 v0.4s, v11.2d
	WORD $0x0ea12981 // xtn v1.2s, v12.2d
	WORD $0x4ea129a1 // xtn2 v1.4s, v13.2d
	WORD $0x4e813802 // zip1 v2.4s, v0.4s, v1.4s
	WORD $0x4e817803 // zip2 v3.4s, v0.4s, v1.4s
	WORD $0x4eba8442 // add v2.4s, v2.4s, v26.4s
	WORD $0x4eba8463 // add v3.4s, v3.4s, v26.4s
	WORD $0x4ebb6442 // smax v2.4s, v2.4s, v27.4s
	WORD $0x4ebb6463 // smax v3.4s, v3.4s, v27.4s
	WORD $0x4ebc6c42 // smin v2.4s, v2.4s, v28.4s
	WORD $0x4ebc6c63 // smin v3.4s, v3.4s, v28.4s
	WORD $0x0e612842 // xtn v2.4h, v2.4s
	WORD $0x4e612862 // xtn2 v2.8h, v3.4s
	WORD $0x0e212842 // xtn v2.8b, v2.8h
	VST1.P [V2.B8], 8(R0)
	SUBS $1, R6, R6
	BNE  rloop
	RET

// func gemmF32NEON(a, w *float32, kp, nOC int, out *float32)
//
// The float32 twin of gemm4x2NEON: 4 patch rows against pairs of filter
// rows, 8 floats per row and iteration (kp a multiple of 8) with FMLA,
// out[r*nOC+oc].
TEXT ·gemmF32NEON(SB), NOSPLIT, $0-40
	MOVD a+0(FP), R0
	MOVD w+8(FP), R4
	MOVD kp+16(FP), R6
	MOVD nOC+24(FP), R7
	MOVD out+32(FP), R8
	LSL  $2, R6, R6
	ADD  R6, R0, R1
	ADD  R6, R1, R2
	ADD  R6, R2, R3
	LSL  $2, R7, R9
	ADD  R9, R8, R19
	ADD  R9, R19, R20
	ADD  R9, R20, R21

focloop:
	VEOR V0.B16, V0.B16, V0.B16
	VEOR V1.B16, V1.B16, V1.B16
	VEOR V2.B16, V2.B16, V2.B16
	VEOR V3.B16, V3.B16, V3.B16
	VEOR V4.B16, V4.B16, V4.B16
	VEOR V5.B16, V5.B16, V5.B16
	VEOR V6.B16, V6.B16, V6.B16
	VEOR V7.B16, V7.B16, V7.B16
	MOVD R0, R11
	MOVD R1, R12
	MOVD R2, R13
	MOVD R3, R14
	MOVD R4, R15
	ADD  R6, R4, R16
	LSR  $5, R6, R17

fkloop:
	VLD1.P 32(R11), [V16.S4, V17.S4]
	VLD1.P 32(R12), [V18.S4, V19.S4]
	VLD1.P 32(R13), [V20.S4, V21.S4]
	VLD1.P 32(R14), [V22.S4, V23.S4]
	VLD1.P 32(R15), [V24.S4, V25.S4]
	VLD1.P 32(R16), [V26.S4, V27.S4]
	WORD $0x4e38ce00 // fmla v0.4s, v16.4s, v24.4s
	WORD $0x4e3ace04 // fmla v4.4s, v16.4s, v26.4s
	WORD $0x4e38ce41 // fmla v1.4s, v18.4s, v24.4s
	WORD $0x4e3ace45 // fmla v5.4s, v18.4s, v26.4s
	WORD $0x4e38ce82 // fmla v2.4s, v20.4s, v24.4s
	WORD $0x4e3ace86 // fmla v6.4s, v20.4s, v26.4s
	WORD $0x4e38cec3 // fmla v3.4s, v22.4s, v24.4s
	WORD $0x4e3acec7 // fmla v7.4s, v22.4s, v26.4s
	WORD $0x4e39ce20 // fmla v0.4s, v17.4s, v25.4s
	WORD $0x4e3bce24 // fmla v4.4s, v17.4s, v27.4s
	WORD $0x4e39ce61 // fmla v1.4s, v19.4s, v25.4s
	WORD $0x4e3bce65 // fmla v5.4s, v19.4s, v27.4s
	WORD $0x4e39cea2 // fmla v2.4s, v21.4s, v25.4s
	WORD $0x4e3bcea6 // fmla v6.4s, v21.4s, v27.4s
	WORD $0x4e39cee3 // fmla v3.4s, v23.4s, v25.4s
	WORD $0x4e3bcee7 // fmla v7.4s, v23.4s, v27.4s
	SUBS $1, R17, R17
	BNE  fkloop

	WORD $0x6e21d400 // faddp v0.4s, v0.4s, v1.4s
	WORD $0x6e23d442 // faddp v2.4s, v2.4s, v3.4s
	WORD $0x6e22d400 // faddp v0.4s, v0.4s, v2.4s
	WORD $0x6e25d484 // faddp v4.4s, v4.4s, v5.4s
	WORD $0x6e27d4c6 // faddp v6.4s, v6.4s, v7.4s
	WORD $0x6e26d484 // faddp v4.4s, v4.4s, v6.4s
	WORD $0x4e843808 // zip1 v8.4s, v0.4s, v4.4s
	WORD $0x4e847809 // zip2 v9.4s, v0.4s, v4.4s
	VMOV   V8.D[0], R22
	MOVD.P R22, 8(R8)
	VMOV   V8.D[1], R22
	MOVD.P R22, 8(R19)
	VMOV   V9.D[0], R22
	MOVD.P R22, 8(R20)
	VMOV   V9.D[1], R22
	MOVD.P R22, 8(R21)
	MOVD R16, R4
	SUBS $2, R7, R7
	BGT  focloop
	RET
