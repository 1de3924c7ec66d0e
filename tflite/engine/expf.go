package engine

import "math"

// expf is glibc's expf (sysdeps/ieee754/flt-32/e_expf.c, from Arm's
// optimized-routines), which TFLite's C library calls through std::exp on
// a float when it builds its SOFTMAX and LOGISTIC tables. Porting it keeps
// those tables, and so the outputs, bit-exact: Go's math.Exp rounded to
// float32 differs from it in the last bit for some inputs.
func expf(x float32) float32 {
	const (
		n      = 32
		shift  = 0x1.8p+52
		invLn2 = 0x1.71547652b82fep+0 * n
		c0     = 0x1.c6af84b912394p-5 / n / n / n
		c1     = 0x1.ebfce50fac4f3p-3 / n / n
		c2     = 0x1.62e42ff0c52d6p-1 / n
	)
	xd := float64(x)
	abstop := math.Float32bits(x) >> 20 & 0x7ff
	if abstop >= math.Float32bits(88)>>20 {
		switch {
		case x == float32(math.Inf(-1)):
			return 0
		case abstop >= math.Float32bits(float32(math.Inf(1)))>>20:
			return x + x
		case x > 0x1.62e42ep6:
			return float32(math.Inf(1))
		case x < -0x1.9fe368p6:
			return 0
		}
	}
	z := invLn2 * xd
	kd := z + shift
	ki := math.Float64bits(kd)
	kd -= shift
	r := z - kd
	t := exp2fTab[ki%n]
	t += ki << (52 - 5)
	s := math.Float64frombits(t)
	zz := c0*r + c1
	r2 := r * r
	y := c2*r + 1
	y = zz*r2 + y
	y = y * s
	return float32(y)
}

// exp2fTab[i] = bits(2^(i/32)) - (i << 47).
var exp2fTab = [32]uint64{
	0x3ff0000000000000, 0x3fefd9b0d3158574, 0x3fefb5586cf9890f, 0x3fef9301d0125b51,
	0x3fef72b83c7d517b, 0x3fef54873168b9aa, 0x3fef387a6e756238, 0x3fef1e9df51fdee1,
	0x3fef06fe0a31b715, 0x3feef1a7373aa9cb, 0x3feedea64c123422, 0x3feece086061892d,
	0x3feebfdad5362a27, 0x3feeb42b569d4f82, 0x3feeab07dd485429, 0x3feea47eb03a5585,
	0x3feea09e667f3bcd, 0x3fee9f75e8ec5f74, 0x3feea11473eb0187, 0x3feea589994cce13,
	0x3feeace5422aa0db, 0x3feeb737b0cdc5e5, 0x3feec49182a3f090, 0x3feed503b23e255d,
	0x3feee89f995ad3ad, 0x3feeff76f2fb5e47, 0x3fef199bdd85529c, 0x3fef3720dcef9069,
	0x3fef5818dcfba487, 0x3fef7c97337b9b5f, 0x3fefa4afa2a490da, 0x3fefd0765b6e4540,
}
