package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"

	"github.com/edgeproject/edge/camera"
	"github.com/edgeproject/edge/quantize"
	"github.com/edgeproject/edge/quantize/ptq"
	"github.com/edgeproject/edge/tflite"
)

// runQuantize is `edge quantize`: post-training full-integer quantization
// of a float model, calibrated on frames from a folder, a video file or the
// camera.
func runQuantize(ctx context.Context, args []string, out, errOut io.Writer) error {
	fs := flag.NewFlagSet("quantize", flag.ContinueOnError)
	fs.SetOutput(errOut)
	calib := fs.String("calib", "", "calibration frames: a folder of images, a video file, or \"camera\" (required)")
	cameraSpec := fs.String("camera", "/dev/video0", "the camera, with --calib camera (any spec edge run takes)")
	in := fs.String("in", "", "float model to quantize (required)")
	outPath := fs.String("out", "", "integer model to write (required)")
	frames := fs.Int("frames", ptq.DefaultFrames, "most calibration frames to use")
	method := fs.String("calib-method", "minmax", "activation ranges: minmax or percentile")
	percentile := fs.Float64("percentile", quantize.DefaultPercentile, "percentile for --calib-method percentile, in (50, 100]")
	ioType := fs.String("io", "float", "input and output type: float (QUANTIZE/DEQUANTIZE inside the model), int8 or uint8")
	mean := fs.Float64("mean", 0, "input normalization mean, as at inference (default 127.5)")
	std := fs.Float64("std", 0, "input normalization std, as at inference (default 127.5; 255 with --mean 0 for [0, 1])")
	resize := fs.String("resize", "stretch", "how frames fill the input, as at inference: stretch, center-crop or letterbox")
	biasCorrection := fs.Bool("bias-correction", true, "fold the mean error of the quantized weights into the biases")
	threads := fs.Int("threads", 0, "CPU threads for calibration (0: one per core, at most 4)")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(errOut, "edge quantize: unexpected arguments %q\n", fs.Args())
		return errUsage
	}
	var missing []string
	for _, f := range []struct{ name, v string }{{"--calib", *calib}, {"--in", *in}, {"--out", *outPath}} {
		if f.v == "" {
			missing = append(missing, f.name)
		}
	}
	if len(missing) > 0 {
		fmt.Fprintf(errOut, "edge quantize: %v required\n", missing)
		fs.Usage()
		return errUsage
	}
	m, err := quantize.ParseMethod(*method)
	if err != nil {
		return fmt.Errorf("--calib-method: %w", err)
	}
	percentileSet := false
	fs.Visit(func(f *flag.Flag) { percentileSet = percentileSet || f.Name == "percentile" })
	if percentileSet && m != quantize.Percentile {
		return errors.New("--percentile goes with --calib-method percentile")
	}
	io, err := quantize.ParseIO(*ioType)
	if err != nil {
		return fmt.Errorf("--io: %w", err)
	}
	rz, err := tflite.ParseResize(*resize)
	if err != nil {
		return fmt.Errorf("--resize: %w", err)
	}
	if *frames <= 0 {
		return fmt.Errorf("--frames %d: want at least 1", *frames)
	}
	opts := ptq.Options{
		Frames:     *frames,
		Preprocess: tflite.Preprocess{Resize: rz, Mean: float32(*mean), Std: float32(*std)},
		Quantize:   quantize.Options{Method: m, IO: io, NoBiasCorrection: !*biasCorrection},
		Threads:    *threads,
		Logger:     slog.Default(),
	}
	if m == quantize.Percentile {
		opts.Quantize.Percentile = *percentile
	}
	if err := opts.Validate(); err != nil {
		return err
	}
	// The model first: a quantized or unsupported model fails before a
	// camera is opened.
	if _, err := ptq.ReadFloatModel(*in); err != nil {
		return err
	}
	spec := *calib
	if spec == "camera" {
		spec = *cameraSpec
	}
	src, err := camera.Open(spec, camera.Options{Logger: slog.Default()})
	if err != nil {
		return fmt.Errorf("--calib: %w", err)
	}
	defer src.Close()
	res, err := ptq.Run(ctx, *in, *outPath, src, opts)
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(out, struct {
			*ptq.Result
			Source         string  `json:"source"`
			BiasCorrection bool    `json:"bias_correction"`
			Ratio          float64 `json:"ratio"`
		}{res, spec, *biasCorrection, math.Round(res.Ratio()*100) / 100})
	}
	ranges := res.Method
	if res.Percentile != 0 {
		ranges = fmt.Sprintf("%g-percentile", res.Percentile)
	}
	bc := "with bias correction"
	if !*biasCorrection {
		bc = "no bias correction"
	}
	fmt.Fprintf(out, "%s -> %s\n", res.Input, res.Output)
	fmt.Fprintf(out, "  calibration  %d frames from %s, %s ranges, %s\n", res.Frames, spec, ranges, bc)
	fmt.Fprintf(out, "  input        %s\n", res.InputTensor)
	fmt.Fprintf(out, "  output       %s\n", res.OutputTensor)
	fmt.Fprintf(out, "  size         %d -> %d bytes (%.2fx smaller), %d operators, runs on %s\n", res.InputBytes, res.OutputBytes, res.Ratio(), res.Operators, res.Runtime)
	return nil
}
