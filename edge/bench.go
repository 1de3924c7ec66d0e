package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpiotest"

	"github.com/edgeproject/edge/edge/config"
	"github.com/edgeproject/edge/edge/pipeline"
)

// benchReport is what `edge bench` measures in one run.
type benchReport struct {
	Model       string                 `json:"model"`
	Delegation  string                 `json:"delegation"`
	Frames      uint64                 `json:"frames"`
	PipelineFPS float64                `json:"pipeline_fps"`
	InvokeFPS   float64                `json:"invoke_fps"`
	Ratio       float64                `json:"ratio"` // pipeline fps ÷ raw Invoke fps
	Stages      []pipeline.Percentiles `json:"stages"`
}

// runBench is `edge bench`: the whole pipeline on a file or folder source
// for N frames (outputs on in-memory pins, every frame processed), then
// Invoke alone N times on the same interpreter, and the ratio of the rates.
func runBench(ctx context.Context, args []string, out, errOut io.Writer) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(errOut)
	path := fs.String("config", "", "configuration file (its camera must be a file or folder unless --source is given)")
	source := fs.String("source", "", "video file or folder of images, instead of the config's camera")
	model := fs.String("model", "", "model file, instead of the config's")
	labels := fs.String("labels", "", "label file, with --model")
	delegate := fs.String("delegate", "", "delegate, instead of the config's")
	threads := fs.Int("threads", -1, "threads, instead of the config's")
	frames := fs.Uint64("frames", 200, "frames to run")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, err := benchConfig(*path, *source, *model, *labels)
	if err != nil {
		return err
	}
	if *delegate != "" {
		cfg.Model.Delegate = *delegate
	}
	if *threads >= 0 {
		cfg.Model.Threads = *threads
	}
	if isLive(cfg.Camera.Source) {
		return fmt.Errorf("bench wants a video file or a folder of images (%s is a live source): use --source", cfg.Camera.Source)
	}
	rep, err := bench(ctx, cfg, *frames)
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(out, rep)
	}
	fmt.Fprintf(out, "%s  (%s, %d frames)\n", rep.Model, rep.Delegation, rep.Frames)
	fmt.Fprintf(out, "  %-12s %9s %9s\n", "stage", "p50 ms", "p95 ms")
	for _, s := range rep.Stages {
		fmt.Fprintf(out, "  %-12s %9.2f %9.2f\n", s.Stage, s.P50MS, s.P95MS)
	}
	fmt.Fprintf(out, "  pipeline %.1f fps, Invoke alone %.1f fps: ratio %.2f\n", rep.PipelineFPS, rep.InvokeFPS, rep.Ratio)
	return nil
}

// benchConfig is the config file's, or one made of flags.
func benchConfig(path, source, model, labels string) (*config.Config, error) {
	if path == "" {
		if model == "" || source == "" {
			return nil, errors.New("want --config, or --model and --source")
		}
		return config.Parse("flags", []byte(fmt.Sprintf("camera: {source: %q}\nmodel: {path: %q, labels: %q}\n", source, model, labels)))
	}
	cfg, err := config.Load(path)
	if err != nil {
		return nil, err
	}
	if source != "" {
		cfg.Camera.Source = source
	}
	if model != "" {
		cfg.Model.Path, cfg.Model.Labels = model, labels
	}
	return cfg, nil
}

func bench(ctx context.Context, cfg *config.Config, frames uint64) (*benchReport, error) {
	// Rules run and log as in `edge run`, but into a scratch event log.
	dir, err := os.MkdirTemp("", "edge-bench-events-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	cfg.Events.Dir = dir
	noDrop := false
	d, err := build(cfg, buildOptions{
		openPin:    func(name string, _ config.Output) (gpio.PinOut, error) { return &gpiotest.Pin{N: name}, nil },
		logger:     slog.New(slog.DiscardHandler),
		maxFrames:  frames,
		dropFrames: &noDrop,
	})
	if err != nil {
		return nil, err
	}
	defer d.Close()
	start := time.Now()
	if err := d.pipe.Run(ctx); err != nil {
		return nil, err
	}
	elapsed := time.Since(start)
	st := d.pipe.Stats()
	if st.Frames == 0 {
		return nil, fmt.Errorf("%s: no frames", cfg.Camera.Source)
	}
	rep := &benchReport{
		Model: cfg.Model.Path, Delegation: d.interp.Delegation().String(), Frames: st.Frames,
		PipelineFPS: float64(st.Frames) / elapsed.Seconds(), Stages: st.Stages,
	}
	start = time.Now()
	for i := uint64(0); i < st.Frames; i++ {
		if err := d.interp.Invoke(); err != nil {
			return nil, err
		}
	}
	rep.InvokeFPS = float64(st.Frames) / time.Since(start).Seconds()
	rep.Ratio = rep.PipelineFPS / rep.InvokeFPS
	return rep, nil
}
