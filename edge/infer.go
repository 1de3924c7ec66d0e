package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"image"
	_ "image/jpeg" // decoders for the photos given on the command line
	_ "image/png"
	"io"
	"os"
	"time"

	"github.com/edgeproject/edge/tflite"
	"github.com/edgeproject/edge/tflite/engine"
)

// inferFlags are the flags classify and detect share.
type inferFlags struct {
	model, labels, delegate, resize, edgetpuLib, engine string
	threads                                             int
	mean, std                                           float64
	asJSON                                              bool
}

func (f *inferFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.model, "model", "", "TFLite model file (required)")
	fs.StringVar(&f.labels, "labels", "", "label file, one class per line (default: the one packed in the model, if any)")
	fs.StringVar(&f.delegate, "delegate", "cpu", "where to run: cpu, xnnpack, edgetpu, nnapi or auto")
	fs.StringVar(&f.engine, "engine", "auto", "inference engine: tflite (the C library), go (the pure-Go engine) or auto (tflite when this edge has it, else go)")
	fs.IntVar(&f.threads, "threads", 0, "CPU threads (0: one per core, at most 4)")
	fs.StringVar(&f.resize, "resize", "stretch", "how images fill the input: stretch, center-crop or letterbox")
	fs.Float64Var(&f.mean, "mean", 0, "input normalization mean (float inputs; default 127.5)")
	fs.Float64Var(&f.std, "std", 0, "input normalization std (float inputs; default 127.5)")
	fs.StringVar(&f.edgetpuLib, "edgetpu-lib", tflite.DefaultEdgeTPULibrary, "Edge TPU runtime library")
	fs.BoolVar(&f.asJSON, "json", false, "print JSON")
}

// open builds the interpreter and reads the labels the flags name.
func (f *inferFlags) open() (*tflite.Interpreter, *tflite.Labels, error) {
	if f.model == "" {
		return nil, nil, errors.New("--model is required")
	}
	d, err := tflite.ParseDelegate(f.delegate)
	if err != nil {
		return nil, nil, fmt.Errorf("--delegate: %w", err)
	}
	rz, err := tflite.ParseResize(f.resize)
	if err != nil {
		return nil, nil, fmt.Errorf("--resize: %w", err)
	}
	var labels *tflite.Labels
	if f.labels != "" {
		if labels, err = tflite.ReadLabels(f.labels); err != nil {
			return nil, nil, err
		}
	}
	it, err := openModel(f.model, f.engine, tflite.Options{
		Delegate:       d,
		Threads:        f.threads,
		EdgeTPULibrary: f.edgetpuLib,
		Preprocess:     tflite.Preprocess{Resize: rz, Mean: float32(f.mean), Std: float32(f.std)},
	})
	if err != nil {
		return nil, nil, err
	}
	if labels == nil { // the model may carry its own
		if labels, _, err = tflite.EmbeddedLabels(f.model, it.Model()); err != nil {
			it.Close()
			return nil, nil, err
		}
	}
	return it, labels, nil
}

// openModel opens a model on the engine named: "tflite" (the C library,
// with its delegates), "go" (the pure-Go engine, CPU only) or "auto" (and
// ""): the C library when this binary has it — it is linked in, so a
// normal build always has it — else, in a build without it (tag
// nolibtflite: armhf), the Go engine.
func openModel(path, engineName string, opts tflite.Options) (*tflite.Interpreter, error) {
	_, haveC := tflite.CLibrary()
	switch engineName {
	case "", "auto":
		if haveC {
			return tflite.Open(path, opts)
		}
		return openGo(path, opts)
	case "tflite":
		if !haveC {
			return nil, fmt.Errorf("%s: engine tflite: %w", path, tflite.ErrNoCLibrary)
		}
		return tflite.Open(path, opts)
	case "go":
		return openGo(path, opts)
	}
	return nil, fmt.Errorf("unknown engine %q: want tflite, go or auto", engineName)
}

// openGo opens a model on the Go engine, which runs on the CPU only.
func openGo(path string, opts tflite.Options) (*tflite.Interpreter, error) {
	if opts.Delegate != "" && opts.Delegate != tflite.CPU && opts.Delegate != tflite.Auto {
		if _, ok := tflite.CLibrary(); !ok {
			return nil, fmt.Errorf("%s: delegate %s needs the TFLite C library, and this edge was built without it (tag nolibtflite): only the go engine runs here, on the CPU: use --delegate cpu", path, opts.Delegate)
		}
		return nil, fmt.Errorf("%s: the go engine runs on the CPU only; --delegate %s needs --engine tflite", path, opts.Delegate)
	}
	return engine.OpenTFLite(path, opts)
}

// engines describes the inference engines compiled into this binary.
func engines() string {
	if v, ok := tflite.CLibrary(); ok {
		return fmt.Sprintf("tflite (TFLite %s C library), go (pure-Go); auto = tflite", v)
	}
	return "go (pure-Go); no TFLite C library (built with tag nolibtflite): auto = go, delegates other than cpu unavailable"
}

// timings of one image, in milliseconds.
type timings struct {
	Decode      float64 `json:"decode_ms"`
	Preprocess  float64 `json:"preprocess_ms"`
	Invoke      float64 `json:"invoke_ms"`
	Postprocess float64 `json:"postprocess_ms"`
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// decodeImage reads a PNG or JPEG file.
func decodeImage(path string) (image.Image, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	img, format, err := image.Decode(f)
	if err != nil {
		return nil, fmt.Errorf("%s: not a PNG or JPEG image: %w", path, err)
	}
	if b := img.Bounds(); b.Dx() == 0 || b.Dy() == 0 {
		return nil, fmt.Errorf("%s: %s image is empty", path, format)
	}
	return img, nil
}

// forEachImage decodes, preprocesses and runs every image, calling post
// for the results. It stops at the first error or when ctx ends.
func forEachImage(ctx context.Context, it *tflite.Interpreter, paths []string,
	post func(path string, place tflite.Placement, t *timings) error) error {
	if len(paths) == 0 {
		return errors.New("no images given")
	}
	for _, p := range paths {
		if err := ctx.Err(); err != nil {
			return err
		}
		var t timings
		start := time.Now()
		img, err := decodeImage(p)
		if err != nil {
			return err
		}
		t.Decode = ms(time.Since(start))
		start = time.Now()
		place, err := it.SetImage(img)
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		t.Preprocess = ms(time.Since(start))
		start = time.Now()
		if err := it.Invoke(); err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		t.Invoke = ms(time.Since(start))
		if err := post(p, place, &t); err != nil {
			return err
		}
	}
	return nil
}

// decoder reads the outputs of one image: the value for --json (under
// key) and the text lines.
type decoder func(it *tflite.Interpreter, labels *tflite.Labels, place tflite.Placement) (value any, lines []string, err error)

// runInference is classify and detect: shared flags plus extra ones, every
// image run and timed, results printed as text or JSON.
func runInference(ctx context.Context, name, key string, args []string, out, errOut io.Writer,
	extra func(fs *flag.FlagSet) decoder) error {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(errOut)
	var f inferFlags
	f.register(fs)
	decode := extra(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	it, labels, err := f.open()
	if err != nil {
		return err
	}
	defer it.Close()
	var results []map[string]any
	err = forEachImage(ctx, it, fs.Args(), func(path string, place tflite.Placement, t *timings) error {
		start := time.Now()
		value, lines, err := decode(it, labels, place)
		if err != nil {
			return err
		}
		t.Postprocess = ms(time.Since(start))
		if f.asJSON {
			results = append(results, map[string]any{"image": path, key: value, "timings": *t})
			return nil
		}
		fmt.Fprintf(out, "%s  (invoke %.1f ms, preprocess %.1f ms, %s)\n", path, t.Invoke, t.Preprocess, it.Delegation())
		for _, l := range lines {
			fmt.Fprintf(out, "  %s\n", l)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if f.asJSON {
		return writeJSON(out, map[string]any{"model": f.model, "delegation": it.Delegation(), "results": results})
	}
	return nil
}

func runClassify(ctx context.Context, args []string, out, errOut io.Writer) error {
	return runInference(ctx, "classify", "classes", args, out, errOut, func(fs *flag.FlagSet) decoder {
		top := fs.Int("top", 5, "number of classes to print")
		return func(it *tflite.Interpreter, labels *tflite.Labels, _ tflite.Placement) (any, []string, error) {
			classes, err := it.Classify(*top, labels)
			var lines []string
			for _, c := range classes {
				lines = append(lines, fmt.Sprintf("%5d  %.3f  %s", c.Index, c.Score, c.Label))
			}
			return classes, lines, err
		}
	})
}

func runDetect(ctx context.Context, args []string, out, errOut io.Writer) error {
	return runInference(ctx, "detect", "detections", args, out, errOut, func(fs *flag.FlagSet) decoder {
		minScore := fs.Float64("min-score", 0.5, "smallest score to report")
		return func(it *tflite.Interpreter, labels *tflite.Labels, place tflite.Placement) (any, []string, error) {
			dets, err := it.Detect(float32(*minScore), labels, place)
			if dets == nil {
				dets = []tflite.Detection{}
			}
			lines := []string{}
			if len(dets) == 0 {
				lines = append(lines, fmt.Sprintf("nothing with score >= %.2f", *minScore))
			}
			for _, d := range dets {
				lines = append(lines, fmt.Sprintf("%-14s %.2f  [x %.2f-%.2f, y %.2f-%.2f]", d.Label, d.Score, d.Box.XMin, d.Box.XMax, d.Box.YMin, d.Box.YMax))
			}
			return dets, lines, err
		}
	})
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
