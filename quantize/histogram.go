package quantize

import (
	"math"
)

// histBins is the number of bins on each side of zero. A bin is at most
// 1/1024 of the largest magnitude seen, four times finer than an int8 step
// of a range reaching that magnitude.
const histBins = 2048

// Histogram counts real values in bins of equal width on both sides of
// zero, so that quantiles can be read without keeping the values. It needs
// no range in advance: when a value lands beyond the last bin the width
// doubles, adjacent bins merging pairwise (exactly, since zero stays a bin
// edge). The zero Histogram is empty and ready to use.
//
// Bin i of a side holds the values whose magnitude m has i·w ≤ m < (i+1)·w;
// zero counts on the positive side. NaN and infinite values are not counted.
type Histogram struct {
	width    float64 // bin width; 0 until the first nonzero value
	pos, neg []int64 // histBins bins each, allocated with the first value
	n        int64
	min, max float64
}

// Add counts v.
func (h *Histogram) Add(v float64) {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return
	}
	if h.pos == nil {
		h.pos, h.neg = make([]int64, histBins), make([]int64, histBins)
		h.min, h.max = v, v
	}
	h.min, h.max = math.Min(h.min, v), math.Max(h.max, v)
	h.n++
	m := math.Abs(v)
	if m > 0 && h.width == 0 {
		// Start so that this magnitude sits in the upper half of the bins.
		h.width = m / (histBins / 2)
	}
	i := 0
	if m > 0 {
		for m/h.width >= histBins {
			h.widen()
		}
		i = min(int(m/h.width), histBins-1)
	}
	if v < 0 {
		h.neg[i]++
	} else {
		h.pos[i]++
	}
}

// AddAll counts every value of vs.
func (h *Histogram) AddAll(vs []float32) {
	for _, v := range vs {
		h.Add(float64(v))
	}
}

// widen doubles the bin width, merging bins 2k and 2k+1 into bin k.
func (h *Histogram) widen() {
	for _, side := range [][]int64{h.pos, h.neg} {
		for k := 0; k < histBins/2; k++ {
			side[k] = side[2*k] + side[2*k+1]
		}
		clear(side[histBins/2:])
	}
	h.width *= 2
}

// Count is the number of values counted.
func (h *Histogram) Count() int64 { return h.n }

// Min is the smallest value counted (0 when empty).
func (h *Histogram) Min() float64 { return h.min }

// Max is the largest value counted (0 when empty).
func (h *Histogram) Max() float64 { return h.max }

// Quantile returns an estimate of the q-quantile (q in [0, 1]) of the values
// counted: the value below which a fraction q of them lie, interpolated
// linearly inside its bin and kept within [Min, Max]. It is within one bin
// width of the exact quantile. Quantile(0) is Min and Quantile(1) is Max; an
// empty histogram gives 0.
func (h *Histogram) Quantile(q float64) float64 {
	switch {
	case h.n == 0:
		return 0
	case !(q > 0): // also NaN
		return h.min
	case q >= 1:
		return h.max
	}
	target := q * float64(h.n)
	var cum float64
	clamp := func(x float64) float64 { return math.Max(h.min, math.Min(h.max, x)) }
	// From the most negative bin up to zero, then from zero up.
	for i := histBins - 1; i >= 0; i-- {
		c := float64(h.neg[i])
		if c > 0 && cum+c >= target {
			lo := -float64(i+1) * h.width
			return clamp(lo + (target-cum)/c*h.width)
		}
		cum += c
	}
	for i := 0; i < histBins; i++ {
		c := float64(h.pos[i])
		if c > 0 && cum+c >= target {
			lo := float64(i) * h.width
			return clamp(lo + (target-cum)/c*h.width)
		}
		cum += c
	}
	return h.max
}

// BinWidth is the current width of a bin, the resolution of Quantile.
func (h *Histogram) BinWidth() float64 { return h.width }
