package quantize

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// exactQuantile is the smallest value v of sorted such that at least a
// fraction q of the values are ≤ v.
func exactQuantile(sorted []float64, q float64) float64 {
	k := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[max(0, min(len(sorted)-1, k))]
}

// randValues draws a calibration-like sample: mostly a bulk, some exact
// zeros (a ReLU), a few outliers, from one of several shapes.
func randValues(r *rand.Rand, n int) []float64 {
	v := make([]float64, n)
	scale := math.Exp(r.Float64()*12 - 6)
	kind := r.IntN(3)
	for i := range v {
		switch kind {
		case 0: // ReLU: zeros and a long right tail
			v[i] = math.Max(0, r.NormFloat64()) * scale
		case 1: // symmetric with rare outliers
			v[i] = r.NormFloat64() * scale
			if r.IntN(1000) == 0 {
				v[i] *= 50
			}
		default: // skewed uniform
			v[i] = (r.Float64()*3 - 1) * scale
		}
	}
	return v
}

// Property: a quantile is within one bin width of the exact one, inside
// [Min, Max], and quantiles grow with q.
func TestHistogramQuantile(t *testing.T) {
	r := rand.New(rand.NewPCG(31, 32))
	for iter := 0; iter < 300; iter++ {
		vals := randValues(r, 1+r.IntN(5000))
		var h Histogram
		for _, v := range vals {
			h.Add(v)
		}
		sorted := slices.Clone(vals)
		slices.Sort(sorted)
		if h.Count() != int64(len(vals)) || h.Min() != sorted[0] || h.Max() != sorted[len(sorted)-1] {
			t.Fatalf("count %d min %v max %v, want %d %v %v", h.Count(), h.Min(), h.Max(), len(vals), sorted[0], sorted[len(sorted)-1])
		}
		prev := math.Inf(-1)
		for _, q := range []float64{0, 0.0001, 0.001, 0.01, 0.25, 0.5, 0.75, 0.99, 0.999, 0.9999, 1} {
			got := h.Quantile(q)
			want := exactQuantile(sorted, q)
			if q == 0 {
				want = sorted[0]
			}
			if math.Abs(got-want) > h.BinWidth()*(1+1e-9) {
				t.Fatalf("n=%d q=%v: %v, exact %v, bin width %v", len(vals), q, got, want, h.BinWidth())
			}
			if got < h.Min() || got > h.Max() || got < prev {
				t.Fatalf("q=%v: %v outside [%v, %v] or below the previous %v", q, got, h.Min(), h.Max(), prev)
			}
			prev = got
		}
		// The resolution is at most 1/1024 of the largest magnitude.
		if m := math.Max(-h.Min(), h.Max()); m > 0 && h.BinWidth() > m/1024*(1+1e-9) {
			t.Fatalf("bin width %v for magnitudes up to %v", h.BinWidth(), m)
		}
	}
}

// Property: widening merges bins exactly: a histogram that had to widen
// many times counts the same as one sized for the range from the start.
func TestHistogramWidenExact(t *testing.T) {
	r := rand.New(rand.NewPCG(33, 34))
	for iter := 0; iter < 100; iter++ {
		vals := randValues(r, 2000)
		big := 0.0
		for _, v := range vals {
			big = math.Max(big, math.Abs(v))
		}
		tiny := big / (1 << 20) // a power of two apart: the widths meet exactly
		var grown, sized Histogram
		grown.Add(tiny) // a tiny first value: twenty widenings follow
		for _, v := range vals {
			grown.Add(v)
		}
		grown.Add(big)
		sized.Add(big) // sets the final width at once
		sized.Add(tiny)
		for _, v := range vals {
			sized.Add(v)
		}
		if grown.BinWidth() != sized.BinWidth() {
			t.Fatalf("bin widths %v and %v", grown.BinWidth(), sized.BinWidth())
		}
		if !slices.Equal(grown.pos, sized.pos) || !slices.Equal(grown.neg, sized.neg) {
			t.Fatalf("widened histogram differs from the directly sized one")
		}
	}
}

func TestHistogramEdges(t *testing.T) {
	var h Histogram
	if h.Quantile(0.5) != 0 || h.Count() != 0 {
		t.Error("empty histogram")
	}
	h.Add(math.NaN())
	h.Add(math.Inf(1))
	if h.Count() != 0 {
		t.Error("NaN or Inf counted")
	}
	for i := 0; i < 10; i++ {
		h.Add(0)
	}
	if h.Quantile(0.5) != 0 || h.Quantile(1) != 0 {
		t.Errorf("all zeros: median %v max %v", h.Quantile(0.5), h.Quantile(1))
	}
	h.Add(-3)
	if h.Quantile(0) != -3 || h.Quantile(0.5) != 0 {
		t.Errorf("zeros and -3: min %v median %v", h.Quantile(0), h.Quantile(0.5))
	}
}
