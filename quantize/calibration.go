package quantize

import (
	"fmt"
	"math"
	"slices"
	"strings"
)

// Method says how the real range of an activation tensor is taken from what
// calibration saw.
type Method int

// Range methods.
const (
	// MinMax takes the smallest and largest values seen, as TFLite's
	// converter does: nothing is clipped, rare outliers widen the step.
	MinMax Method = iota
	// Percentile takes the (100−p)-th and p-th percentiles of the values
	// seen (Options.Percentile), clipping the rarest outliers for a finer
	// step. It needs a Calibration that keeps histograms.
	Percentile
)

// ParseMethod reads "minmax" or "percentile".
func ParseMethod(s string) (Method, error) {
	switch strings.ToLower(s) {
	case "minmax", "min-max":
		return MinMax, nil
	case "percentile":
		return Percentile, nil
	}
	return 0, fmt.Errorf("calibration method %q: want minmax or percentile", s)
}

func (m Method) String() string {
	switch m {
	case MinMax:
		return "minmax"
	case Percentile:
		return "percentile"
	}
	return fmt.Sprintf("Method(%d)", int(m))
}

// DefaultPercentile is the percentile Percentile uses when Options.Percentile is 0.
const DefaultPercentile = 99.99

// Calibration collects, tensor by tensor, the values a float model's
// activations take over calibration frames: always their minimum and
// maximum, and with histograms their distribution, for [Percentile]. Tensors
// are named by their index in the model's (only) subgraph. The zero value
// is not usable; call NewCalibration. It is not safe for concurrent use.
type Calibration struct {
	histograms bool
	frames     int
	stats      map[int]*tensorStats
}

type tensorStats struct {
	min, max float64
	n        int64
	hist     *Histogram
	sums     []float64 // per channel (last dimension)
	rows     int64     // values per channel summed
	// rowMax is the smallest, over rows (the last dimension's vectors)
	// and frames, of a row's largest value: how low the top of a
	// SOFTMAX input ever gets.
	rowMax float64
}

// NewCalibration returns an empty Calibration; histograms makes it keep a
// [Histogram] per tensor, which Percentile needs and MinMax does not.
func NewCalibration(histograms bool) *Calibration {
	return &Calibration{histograms: histograms, stats: map[int]*tensorStats{}}
}

// Observe records values of tensor from one run of the float model, whose
// last dimension has channels elements (for the channel means of bias
// correction; 0 or a count that does not divide len(values) skips them).
// NaN and infinite values are left out of the range and histogram.
func (c *Calibration) Observe(tensor int, values []float32, channels int) {
	s := c.stats[tensor]
	if s == nil {
		s = &tensorStats{min: math.Inf(1), max: math.Inf(-1), rowMax: math.Inf(1)}
		if c.histograms {
			s.hist = &Histogram{}
		}
		c.stats[tensor] = s
	}
	lo, hi := s.min, s.max
	var n int64
	for _, v := range values {
		x := float64(v)
		if math.IsNaN(x) || math.IsInf(x, 0) {
			continue
		}
		lo, hi = math.Min(lo, x), math.Max(hi, x)
		n++
	}
	s.min, s.max, s.n = lo, hi, s.n+n
	if s.hist != nil {
		s.hist.AddAll(values)
	}
	if channels > 0 && len(values)%channels == 0 && (s.sums == nil || len(s.sums) == channels) {
		if s.sums == nil {
			s.sums = make([]float64, channels)
		}
		for i := 0; i < len(values); i += channels {
			top := math.Inf(-1)
			for ch, v := range values[i : i+channels] {
				s.sums[ch] += float64(v)
				if x := float64(v); x > top && !math.IsInf(x, 0) {
					top = x
				}
			}
			if !math.IsInf(top, -1) {
				s.rowMax = math.Min(s.rowMax, top)
			}
		}
		s.rows += int64(len(values) / channels)
	}
}

// ChannelMeans returns the mean value of each channel (last dimension) of
// tensor over everything observed, or nil if none was recorded.
func (c *Calibration) ChannelMeans(tensor int) []float64 {
	s := c.stats[tensor]
	if s == nil || s.rows == 0 {
		return nil
	}
	m := make([]float64, len(s.sums))
	for i, v := range s.sums {
		m[i] = v / float64(s.rows)
	}
	return m
}

// SmallestRowMax returns the smallest, over every row observed (vector
// along the last dimension) of tensor, of the row's largest value; ok is
// false if no row was recorded. For a SOFTMAX input it says how far down
// the range must reach: a class further below its row's top than the
// output's resolution can tell is as good as absent.
func (c *Calibration) SmallestRowMax(tensor int) (v float64, ok bool) {
	s := c.stats[tensor]
	if s == nil || s.rows == 0 || math.IsInf(s.rowMax, 1) {
		return 0, false
	}
	return s.rowMax, true
}

// EndFrame counts one calibration frame, after its tensors were observed.
func (c *Calibration) EndFrame() { c.frames++ }

// Frames is the number of frames counted by EndFrame.
func (c *Calibration) Frames() int { return c.frames }

// Tensors lists the observed tensors in increasing order.
func (c *Calibration) Tensors() []int {
	ids := make([]int, 0, len(c.stats))
	for id := range c.stats {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// MinMax returns the smallest and largest values tensor took; ok is false
// if it was never observed with a finite value.
func (c *Calibration) MinMax(tensor int) (lo, hi float64, ok bool) {
	s := c.stats[tensor]
	if s == nil || s.n == 0 {
		return 0, 0, false
	}
	return s.min, s.max, true
}

// Range returns the real range of tensor for method: its minimum and
// maximum, or for Percentile its (100−p)-th and p-th percentiles (p in
// (50, 100]; 0 means DefaultPercentile). The error says when the tensor was
// never observed or the Calibration keeps no histograms.
func (c *Calibration) Range(tensor int, method Method, p float64) (lo, hi float64, err error) {
	s := c.stats[tensor]
	if s == nil || s.n == 0 {
		return 0, 0, fmt.Errorf("tensor %d: no calibration values", tensor)
	}
	switch method {
	case MinMax:
		return s.min, s.max, nil
	case Percentile:
		if p == 0 {
			p = DefaultPercentile
		}
		if !(p > 50 && p <= 100) {
			return 0, 0, fmt.Errorf("percentile %v: want a value in (50, 100]", p)
		}
		if s.hist == nil {
			return 0, 0, fmt.Errorf("tensor %d: the percentile method needs a calibration with histograms", tensor)
		}
		return s.hist.Quantile(1 - p/100), s.hist.Quantile(p / 100), nil
	}
	return 0, 0, fmt.Errorf("unknown calibration method %v", method)
}
