package engine

import (
	"math"
	"math/rand/v2"
	"testing"

	qmath "github.com/edgeproject/edge/quantize"
)

// randMultiplier returns a multiplier as QuantizeMultiplier gives them.
func randMultiplier(r *rand.Rand) (int32, int) {
	m, s := qmath.QuantizeMultiplier(math.Exp(r.Float64()*24 - 20))
	return m, s
}

// TestRequantFormula checks the one-expression requantization (Go and
// AVX2) against mulRuy and mulRef, which follow ruy's and gemmlowp's code
// step by step, with many exact ties.
func TestRequantFormula(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, ruy := range []bool{true, false} {
		for iter := 0; iter < 300; iter++ {
			n := 1 + r.IntN(40)
			mult := make([]int32, n)
			shift := make([]int, n)
			for c := range mult {
				mult[c], shift[c] = randMultiplier(r)
			}
			zp := int32(r.IntN(256) - 128)
			signed := r.IntN(2) == 0
			lo, hi := typeRange(signed)
			rq := newRequant(mult, shift, ruy, zp, lo, hi, signed)
			acc := make([]int32, n)
			bias := make([]int32, n)
			for c := range acc {
				switch r.IntN(4) {
				case 0: // a tie after the multiplication
					acc[c] = int32(r.IntN(1<<16)-1<<15) | 1<<uint(max(0, -shift[c]-1))
				case 1:
					acc[c] = int32(r.Uint32())
				default:
					acc[c] = int32(r.IntN(1<<20) - 1<<19)
				}
				bias[c] = int32(r.IntN(2000) - 1000)
			}
			dst := make([]byte, n)
			rq.apply(dst, acc, bias)
			for c := range acc {
				x := acc[c] + bias[c]
				var want int32
				if ruy {
					want = mulRuy(x, mult[c], shift[c])
				} else {
					want = qmath.MultiplyByQuantizedMultiplier(x, mult[c], shift[c])
				}
				if got := rq.scale(x, c); got != want {
					t.Fatalf("ruy=%v scale(%d, m=%d, shift=%d) = %d, want %d", ruy, x, mult[c], shift[c], got, want)
				}
				w := byte(min(max(want+zp, lo), hi))
				if dst[c] != w {
					t.Fatalf("ruy=%v apply channel %d of %d: x=%d m=%d shift=%d: got %d, want %d", ruy, c, n, x, mult[c], shift[c], dst[c], w)
				}
			}
		}
	}
}

// TestGemm4 checks the micro-kernel against the pure-Go one.
func TestGemm4(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for iter := 0; iter < 200; iter++ {
		kp := kAlign * (1 + r.IntN(20))
		noc := 2 * (1 + r.IntN(20))
		a := make([]int16, 4*kp)
		w := make([]int16, noc*kp)
		for i := range a {
			a[i] = int16(r.IntN(511) - 255)
		}
		for i := range w {
			w[i] = int16(r.IntN(511) - 255)
		}
		got := make([]int32, 4*noc)
		want := make([]int32, 4*noc)
		gemm4(a, w, kp, noc, got)
		gemm4Go(a, w, kp, noc, want)
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("kp=%d noc=%d: out[%d] = %d, want %d", kp, noc, i, got[i], want[i])
			}
		}
	}
}
