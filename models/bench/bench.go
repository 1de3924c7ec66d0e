// Package bench measures how fast TFLite runs the MobileNet architectures
// that package arch builds — what `edge bench` reports — and charts it.
//
// Each architecture is built (synthetic int8 weights, so no download is
// needed), written to a temporary file, opened with package tflite on the
// requested delegate, warmed up, then invoked Runs times on one image.
package bench

import (
	"context"
	"fmt"
	"image"
	"image/color"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/edgeproject/edge/models"
	"github.com/edgeproject/edge/models/arch"
	"github.com/edgeproject/edge/tflite"
)

// Options say what to measure. The zero value measures the four
// architectures on TFLite's CPU kernels, 10 runs after 2 warm-up runs.
type Options struct {
	// Archs lists architecture names (arch.Names() when empty).
	Archs []string
	// Build are the options every architecture is built with.
	Build arch.Options
	// Delegate and Threads are passed to tflite.Open.
	Delegate tflite.Delegate
	Threads  int
	// Runs and Warmup count the timed and untimed invocations; 0 means
	// 10 and 2.
	Runs, Warmup int
	// Image is the input; nil means a synthetic gradient.
	Image image.Image
	// Dir is where the models are written; "" means a temporary
	// directory removed when Run returns.
	Dir string
}

// Result is the measurement of one architecture.
type Result struct {
	Arch string `json:"arch"`
	// Params, MAdds and PeakActivationBytes come from models.Analyze.
	Params              int64 `json:"params"`
	MAdds               int64 `json:"madds"`
	PeakActivationBytes int64 `json:"peak_activation_bytes"`
	// ModelBytes is the size of the .tflite file.
	ModelBytes int64 `json:"model_bytes"`
	// Delegation says where the nodes ran.
	Delegation string `json:"delegation"`
	// Latencies of the timed runs, in run order.
	Latencies []time.Duration `json:"latencies_ns"`
	// Mean, Median, P90 and Min summarize Latencies.
	Mean   time.Duration `json:"mean_ns"`
	Median time.Duration `json:"median_ns"`
	P90    time.Duration `json:"p90_ns"`
	Min    time.Duration `json:"min_ns"`
}

// Run builds, loads and times each architecture of opts in turn. It stops
// between two invocations when ctx is done, returning what it measured so
// far and ctx's error.
func Run(ctx context.Context, opts Options) ([]Result, error) {
	archs := opts.Archs
	if len(archs) == 0 {
		archs = arch.Names()
	}
	if opts.Runs <= 0 {
		opts.Runs = 10
	}
	if opts.Warmup < 0 {
		opts.Warmup = 0
	} else if opts.Warmup == 0 {
		opts.Warmup = 2
	}
	img := opts.Image
	if img == nil {
		img = gradient(256)
	}
	dir := opts.Dir
	if dir == "" {
		tmp, err := os.MkdirTemp("", "edge-bench-*")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	}
	var results []Result
	for _, name := range archs {
		if err := ctx.Err(); err != nil {
			return results, err
		}
		r, err := runOne(ctx, name, dir, img, opts)
		if err != nil {
			return results, err
		}
		results = append(results, r)
	}
	return results, nil
}

func runOne(ctx context.Context, name, dir string, img image.Image, opts Options) (Result, error) {
	canon := arch.Canonical(name)
	if canon == "" {
		return Result{}, fmt.Errorf("unknown architecture %q: want one of %v", name, arch.Names())
	}
	m, err := arch.Build(canon, opts.Build)
	if err != nil {
		return Result{}, err
	}
	path := filepath.Join(dir, canon+".tflite")
	if err := m.WriteFile(path); err != nil {
		return Result{}, err
	}
	rep, err := models.AnalyzeFile(path)
	if err != nil {
		return Result{}, err
	}
	st, err := os.Stat(path)
	if err != nil {
		return Result{}, err
	}
	it, err := tflite.Open(path, tflite.Options{Delegate: opts.Delegate, Threads: opts.Threads})
	if err != nil {
		return Result{}, err
	}
	defer it.Close()
	if _, err := it.SetImage(img); err != nil {
		return Result{}, err
	}
	r := Result{Arch: canon, Params: rep.Params, MAdds: rep.MAdds, PeakActivationBytes: rep.PeakActivationBytes,
		ModelBytes: st.Size(), Delegation: it.Delegation().String()}
	for i := 0; i < opts.Warmup+opts.Runs; i++ {
		if err := ctx.Err(); err != nil {
			return r, err
		}
		t0 := time.Now()
		if err := it.Invoke(); err != nil {
			return r, err
		}
		if i >= opts.Warmup {
			r.Latencies = append(r.Latencies, time.Since(t0))
		}
	}
	r.summarize()
	return r, nil
}

func (r *Result) summarize() {
	if len(r.Latencies) == 0 {
		return
	}
	s := slices.Clone(r.Latencies)
	slices.Sort(s)
	var sum time.Duration
	for _, d := range s {
		sum += d
	}
	r.Mean = sum / time.Duration(len(s))
	r.Median = s[len(s)/2]
	r.P90 = s[min(len(s)-1, (len(s)*9+9)/10-1)]
	r.Min = s[0]
}

// Chart makes a bar chart of the median latency of each result, noting
// its multiply-adds and parameters.
func Chart(title string, results []Result) models.Chart {
	c := models.Chart{Title: title, Unit: "ms"}
	for _, r := range results {
		c.Bars = append(c.Bars, models.Bar{
			Label: r.Arch,
			Value: float64(r.Median) / float64(time.Millisecond),
			Note:  fmt.Sprintf("%s MAdds, %s params", models.Millions(r.MAdds), models.Millions(r.Params)),
		})
	}
	return c
}

// gradient is a smooth synthetic RGB image, the input when none is given.
func gradient(n int) image.Image {
	img := image.NewRGBA(image.Rect(0, 0, n, n))
	for y := 0; y < n; y++ {
		for x := 0; x < n; x++ {
			img.Set(x, y, color.RGBA{uint8(x * 255 / n), uint8(y * 255 / n), uint8((x + y) * 127 / n), 255})
		}
	}
	return img
}
