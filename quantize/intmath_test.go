package quantize

import (
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"testing"
)

// roundHalfUp rounds num/den to nearest, ties toward +∞, exactly.
func roundHalfUp(num *big.Int, den *big.Int) int64 {
	// floor((2·num + den) / (2·den)), den > 0
	n := new(big.Int).Add(new(big.Int).Mul(num, big.NewInt(2)), den)
	d := new(big.Int).Mul(den, big.NewInt(2))
	return new(big.Int).Div(n, d).Int64() // Euclidean division: floor for d > 0
}

// roundHalfAway rounds num/den to nearest, ties away from zero, exactly.
func roundHalfAway(num *big.Int, den *big.Int) int64 {
	q, r := new(big.Int).QuoRem(num, den, new(big.Int))
	twice := new(big.Int).Abs(new(big.Int).Mul(r, big.NewInt(2)))
	if twice.Cmp(new(big.Int).Abs(den)) >= 0 {
		if num.Sign() < 0 {
			q.Sub(q, big.NewInt(1))
		} else {
			q.Add(q, big.NewInt(1))
		}
	}
	return q.Int64()
}

func randInt32(r *rand.Rand) int32 {
	switch r.IntN(4) {
	case 0: // edges
		return []int32{0, 1, -1, math.MaxInt32, math.MinInt32, 1 << 30, -(1 << 30)}[r.IntN(7)]
	case 1: // small
		return int32(r.IntN(2001) - 1000)
	}
	return int32(r.Uint32())
}

// Property: the doubling high multiply is 2ab / 2^32 rounded to nearest,
// ties toward +∞ (gemmlowp's nudge then truncation).
func TestSaturatingRoundingDoublingHighMul(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 200000; i++ {
		a, b := randInt32(r), randInt32(r)
		got := SaturatingRoundingDoublingHighMul(a, b)
		if a == math.MinInt32 && b == math.MinInt32 {
			if got != math.MaxInt32 {
				t.Fatalf("saturation: %d", got)
			}
			continue
		}
		want := roundHalfUp(new(big.Int).Mul(big.NewInt(int64(a)), big.NewInt(int64(b))), big.NewInt(1<<31))
		if int64(got) != want {
			t.Fatalf("SRDHM(%d, %d) = %d, want %d", a, b, got, want)
		}
	}
}

// Property: RoundingDivideByPOT is x / 2^e rounded half away from zero.
func TestRoundingDivideByPOT(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < 200000; i++ {
		x, e := randInt32(r), r.IntN(32)
		want := roundHalfAway(big.NewInt(int64(x)), big.NewInt(int64(1)<<e))
		if got := RoundingDivideByPOT(x, e); int64(got) != want {
			t.Fatalf("RoundingDivideByPOT(%d, %d) = %d, want %d", x, e, got, want)
		}
	}
}

// Property: a quantized multiplier reproduces the real one to 2^-31
// relative, and applying it is within one step of x·real.
func TestQuantizeMultiplier(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for i := 0; i < 100000; i++ {
		real := math.Exp(r.Float64()*25 - 20) // 2e-9 .. 1.5e2 (below 2^-32 it flushes to 0)
		m, shift := QuantizeMultiplier(real)
		if m < 1<<30 {
			t.Fatalf("QuantizeMultiplier(%g) = %d, %d: mantissa below 2^30", real, m, shift)
		}
		back := float64(m) * math.Ldexp(1, shift-31)
		if math.Abs(back-real)/real > 1.0/(1<<30) {
			t.Fatalf("QuantizeMultiplier(%g) = %d·2^(%d−31) = %g", real, m, shift, back)
		}
		if shift > 0 && shift < 8 {
			x := int32(r.IntN(1 << 16))
			got := MultiplyByQuantizedMultiplier(x, m, shift)
			if want := float64(x) * real; math.Abs(float64(got)-want) > 1 {
				t.Fatalf("MultiplyByQuantizedMultiplier(%d, %g) = %d, want ≈ %g", x, real, got, want)
			}
		}
		if shift <= 0 {
			x := randInt32(r)
			got := MultiplyByQuantizedMultiplier(x, m, shift)
			if want := float64(x) * real; math.Abs(float64(got)-want) > 1 {
				t.Fatalf("MultiplyByQuantizedMultiplier(%d, %g) = %d, want ≈ %g", x, real, got, want)
			}
		}
	}
	for _, tc := range []struct {
		real  float64
		m     int32
		shift int
	}{
		{0, 0, 0},
		{0.5, 1 << 30, 0},
		{1, 1 << 30, 1},
		{0.25, 1 << 30, -1},
		{1e-12, 0, 0},               // below 2^-31: flushed
		{1 << 40, 1 << 30, 41},      // not clamped in TFLite 2.9's default build
		{0.99999999999, 1 << 30, 1}, // rounds up to 2^31: halved, exponent + 1
	} {
		m, shift := QuantizeMultiplier(tc.real)
		if m != tc.m || shift != tc.shift {
			t.Errorf("QuantizeMultiplier(%g) = %d, %d; want %d, %d", tc.real, m, shift, tc.m, tc.shift)
		}
	}
}

func TestChooseParams(t *testing.T) {
	for _, tc := range []struct {
		min, max   float64
		qmin, qmax int32
	}{
		{-1, 1, -128, 127},
		{0, 6, 0, 255},    // RELU6 on uint8
		{0, 6, -128, 127}, // RELU6 on int8
		{-3.2, 0.4, -128, 127},
		{0.5, 2, 0, 255}, // widened to include 0
		{-10, -2, -128, 127},
	} {
		p, err := ChooseParams(tc.min, tc.max, tc.qmin, tc.qmax)
		if err != nil {
			t.Fatal(err)
		}
		name := fmt.Sprintf("[%v, %v] on [%d, %d]", tc.min, tc.max, tc.qmin, tc.qmax)
		if p.ZeroPoint < tc.qmin || p.ZeroPoint > tc.qmax {
			t.Errorf("%s: zero point %d outside", name, p.ZeroPoint)
		}
		if got := p.Dequantize(p.Quantize(0, tc.qmin, tc.qmax)); got != 0 {
			t.Errorf("%s: 0 comes back as %v", name, got)
		}
		// Every value in range comes back within half a step (plus the nudge).
		for v := tc.min; v <= tc.max; v += (tc.max - tc.min) / 97 {
			back := p.Dequantize(p.Quantize(v, tc.qmin, tc.qmax))
			if math.Abs(back-v) > p.Scale {
				t.Errorf("%s: %v comes back as %v (scale %v)", name, v, back, p.Scale)
				break
			}
		}
	}
	for _, bad := range [][2]float64{{1, 0}, {math.NaN(), 1}, {0, math.Inf(1)}} {
		if _, err := ChooseParams(bad[0], bad[1], 0, 255); err == nil {
			t.Errorf("ChooseParams(%v): no error", bad)
		}
	}
	if _, err := ChooseParams(0, 1, 5, 5); err == nil {
		t.Error("empty integer range: no error")
	}
}

func ExampleQuantizeMultiplier() {
	// An int32 accumulator rescaled by input_scale × weight_scale / output_scale.
	m, shift := QuantizeMultiplier(0.0078125 * 0.02 / 0.0235)
	fmt.Println(m, shift, MultiplyByQuantizedMultiplier(12345, m, shift))
	// Output: 1827645658 -7 82
}
