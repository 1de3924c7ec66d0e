//go:build amd64 && !purego

#include "textflag.h"

// func gemm4x2AVX2(a, w *int16, kp, nOC int, out *int32)
//
// For each pair of filter rows (oc, oc+1) and the 4 patch rows of a (row
// stride kp int16s), accumulates 16 int16 products at a time with VPMADDWD
// into 8 int32x8 accumulators, then reduces them horizontally and stores
// out[r*nOC+oc] and out[r*nOC+oc+1].
TEXT ·gemm4x2AVX2(SB), NOSPLIT, $0-40
	MOVQ a+0(FP), SI
	MOVQ w+8(FP), DI
	MOVQ kp+16(FP), CX
	MOVQ nOC+24(FP), DX
	MOVQ out+32(FP), R8
	SHLQ $1, CX          // row stride in bytes
	LEAQ (SI)(CX*1), R9  // row 1
	LEAQ (R9)(CX*1), R10 // row 2
	LEAQ (R10)(CX*1), R11 // row 3
	MOVQ DX, BX
	SHLQ $2, BX          // output row stride in bytes

ocloop:
	VPXOR Y0, Y0, Y0
	VPXOR Y1, Y1, Y1
	VPXOR Y2, Y2, Y2
	VPXOR Y3, Y3, Y3
	VPXOR Y4, Y4, Y4
	VPXOR Y5, Y5, Y5
	VPXOR Y6, Y6, Y6
	VPXOR Y7, Y7, Y7
	LEAQ (DI)(CX*1), R12 // filter row oc+1
	XORQ AX, AX

kloop:
	VMOVDQU (DI)(AX*1), Y12
	VMOVDQU (R12)(AX*1), Y13
	VMOVDQU (SI)(AX*1), Y8
	VMOVDQU (R9)(AX*1), Y9
	VMOVDQU (R10)(AX*1), Y10
	VMOVDQU (R11)(AX*1), Y11
	VPMADDWD Y12, Y8, Y14
	VPADDD Y14, Y0, Y0
	VPMADDWD Y12, Y9, Y15
	VPADDD Y15, Y1, Y1
	VPMADDWD Y12, Y10, Y14
	VPADDD Y14, Y2, Y2
	VPMADDWD Y12, Y11, Y15
	VPADDD Y15, Y3, Y3
	VPMADDWD Y13, Y8, Y14
	VPADDD Y14, Y4, Y4
	VPMADDWD Y13, Y9, Y15
	VPADDD Y15, Y5, Y5
	VPMADDWD Y13, Y10, Y14
	VPADDD Y14, Y6, Y6
	VPMADDWD Y13, Y11, Y15
	VPADDD Y15, Y7, Y7
	ADDQ $32, AX
	CMPQ AX, CX
	JLT kloop

	// Reduce Y0..Y3 (channel oc, rows 0..3) to 4 sums.
	VPHADDD Y1, Y0, Y0
	VPHADDD Y3, Y2, Y2
	VPHADDD Y2, Y0, Y0
	VEXTRACTI128 $1, Y0, X1
	VPADDD X1, X0, X0
	// Y4..Y7: channel oc+1.
	VPHADDD Y5, Y4, Y4
	VPHADDD Y7, Y6, Y6
	VPHADDD Y6, Y4, Y4
	VEXTRACTI128 $1, Y4, X5
	VPADDD X5, X4, X4
	// Store out[r*nOC+oc], out[r*nOC+oc+1] for r = 0..3.
	VPUNPCKLDQ X4, X0, X2
	VPUNPCKHDQ X4, X0, X3
	MOVQ X2, (R8)
	VPEXTRQ $1, X2, (R8)(BX*1)
	MOVQ X3, (R8)(BX*2)
	LEAQ (R8)(BX*2), R13
	VPEXTRQ $1, X3, (R13)(BX*1)

	ADDQ $8, R8
	LEAQ (R12)(CX*1), DI // next pair of filter rows
	SUBQ $2, DX
	JGT ocloop
	VZEROUPPER
	RET

// func dwMacAVX2(acc *int32, in *byte, w *int32, n int, zp int32, signed bool)
//
// acc[c] += (in[c] − zp)·w[c] for c < n (n a multiple of 8), widening the
// 8-bit inputs (zero- or sign-extended) to int32.
TEXT ·dwMacAVX2(SB), NOSPLIT, $0-37
	MOVQ acc+0(FP), DI
	MOVQ in+8(FP), SI
	MOVQ w+16(FP), DX
	MOVQ n+24(FP), CX
	MOVL zp+32(FP), AX
	MOVB signed+36(FP), R8
	VMOVD AX, X15
	VPBROADCASTD X15, Y15
	XORQ BX, BX
	TESTB R8, R8
	JNE sloop

uloop:
	VPMOVZXBD (SI)(BX*1), Y0
	VPSUBD Y15, Y0, Y0
	VPMULLD (DX)(BX*4), Y0, Y0
	VPADDD (DI)(BX*4), Y0, Y0
	VMOVDQU Y0, (DI)(BX*4)
	ADDQ $8, BX
	CMPQ BX, CX
	JLT uloop
	VZEROUPPER
	RET

sloop:
	VPMOVSXBD (SI)(BX*1), Y0
	VPSUBD Y15, Y0, Y0
	VPMULLD (DX)(BX*4), Y0, Y0
	VPADDD (DI)(BX*4), Y0, Y0
	VMOVDQU Y0, (DI)(BX*4)
	ADDQ $8, BX
	CMPQ BX, CX
	JLT sloop
	VZEROUPPER
	RET

// func requantAVX2(dst *byte, acc, bias, mult, left *int32, q *int64, adj *int32, n int, lo, hi int32, signed bool)
//
// dst[c] = clamp(scale(acc[c]+bias[c]) + zp), 8 channels at a time; see
// requant.go for the 64-bit formula and the layout of q and adj.
TEXT ·requantAVX2(SB), NOSPLIT, $0-73
	MOVQ dst+0(FP), DI
	MOVQ acc+8(FP), SI
	MOVQ bias+16(FP), DX
	MOVQ mult+24(FP), R8
	MOVQ left+32(FP), R9
	MOVQ q+40(FP), R10
	MOVQ adj+48(FP), R12
	MOVQ n+56(FP), CX
	MOVL lo+64(FP), AX
	VMOVD AX, X10
	VPBROADCASTD X10, Y10
	MOVL hi+68(FP), AX
	VMOVD AX, X11
	VPBROADCASTD X11, Y11
	MOVB signed+72(FP), R11
	MOVQ $0x40000000, AX
	VMOVQ AX, X14
	VPBROADCASTQ X14, Y14
	VPXOR Y13, Y13, Y13
	XORQ BX, BX

loop:
	VMOVDQU (SI)(BX*4), Y0
	VPADDD (DX)(BX*4), Y0, Y0
	VMOVDQU (R9)(BX*4), Y1
	VPSLLVD Y1, Y0, Y0
	VMOVDQU (R8)(BX*4), Y2
	VPMULDQ Y2, Y0, Y3
	VPSRLQ $32, Y0, Y4
	VPSRLQ $32, Y2, Y5
	VPMULDQ Y5, Y4, Y4
	VPADDQ Y14, Y3, Y3
	VPADDQ Y14, Y4, Y4
	VPCMPGTQ Y3, Y13, Y6
	VPAND 128(R10), Y6, Y6
	VPSUBQ Y6, Y3, Y3
	VPCMPGTQ Y4, Y13, Y7
	VPAND 160(R10), Y7, Y7
	VPSUBQ Y7, Y4, Y4
	VPADDQ (R10), Y3, Y3
	VPADDQ 32(R10), Y4, Y4
	VPSRLVQ 64(R10), Y3, Y3
	VPSRLVQ 96(R10), Y4, Y4
	VPSLLQ $32, Y4, Y4
	VPBLENDD $0xAA, Y4, Y3, Y3
	VPADDD (R12)(BX*4), Y3, Y3
	VPMAXSD Y10, Y3, Y3
	VPMINSD Y11, Y3, Y3
	VPACKSSDW Y3, Y3, Y3
	TESTB R11, R11
	JNE signedpack
	VPACKUSWB Y3, Y3, Y3
	JMP store

signedpack:
	VPACKSSWB Y3, Y3, Y3

store:
	VEXTRACTI128 $1, Y3, X4
	VPUNPCKLDQ X4, X3, X3
	MOVQ X3, (DI)(BX*1)
	ADDQ $192, R10
	ADDQ $8, BX
	CMPQ BX, CX
	JLT loop
	VZEROUPPER
	RET

// func gemmF32AVX2(a, w *float32, kp, nOC int, out *float32)
//
// The float32 twin of gemm4x2AVX2: 4 patch rows against pairs of filter
// rows, 8 products at a time with VFMADD231PS, out[r*nOC+oc].
TEXT ·gemmF32AVX2(SB), NOSPLIT, $0-40
	MOVQ a+0(FP), SI
	MOVQ w+8(FP), DI
	MOVQ kp+16(FP), CX
	MOVQ nOC+24(FP), DX
	MOVQ out+32(FP), R8
	SHLQ $2, CX
	LEAQ (SI)(CX*1), R9
	LEAQ (R9)(CX*1), R10
	LEAQ (R10)(CX*1), R11
	MOVQ DX, BX
	SHLQ $2, BX

focloop:
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	LEAQ (DI)(CX*1), R12
	XORQ AX, AX

fkloop:
	VMOVUPS (DI)(AX*1), Y12
	VMOVUPS (R12)(AX*1), Y13
	VMOVUPS (SI)(AX*1), Y8
	VMOVUPS (R9)(AX*1), Y9
	VMOVUPS (R10)(AX*1), Y10
	VMOVUPS (R11)(AX*1), Y11
	VFMADD231PS Y12, Y8, Y0
	VFMADD231PS Y12, Y9, Y1
	VFMADD231PS Y12, Y10, Y2
	VFMADD231PS Y12, Y11, Y3
	VFMADD231PS Y13, Y8, Y4
	VFMADD231PS Y13, Y9, Y5
	VFMADD231PS Y13, Y10, Y6
	VFMADD231PS Y13, Y11, Y7
	ADDQ $32, AX
	CMPQ AX, CX
	JLT fkloop

	VHADDPS Y1, Y0, Y0
	VHADDPS Y3, Y2, Y2
	VHADDPS Y2, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPS X1, X0, X0
	VHADDPS Y5, Y4, Y4
	VHADDPS Y7, Y6, Y6
	VHADDPS Y6, Y4, Y4
	VEXTRACTF128 $1, Y4, X5
	VADDPS X5, X4, X4
	VUNPCKLPS X4, X0, X2
	VUNPCKHPS X4, X0, X3
	MOVQ X2, (R8)
	VPEXTRQ $1, X2, (R8)(BX*1)
	MOVQ X3, (R8)(BX*2)
	LEAQ (R8)(BX*2), R13
	VPEXTRQ $1, X3, (R13)(BX*1)

	ADDQ $8, R8
	LEAQ (R12)(CX*1), DI
	SUBQ $2, DX
	JGT focloop
	VZEROUPPER
	RET
