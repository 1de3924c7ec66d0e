// Package ptq quantizes a float TensorFlow Lite model after training, to
// full integer (int8), calibrated on the frames the device itself sees.
//
// [Calibrate] runs the float model, through the TFLite 2.9 C library, on
// frames from a [camera.Source] — a folder of photos, a video file or the
// camera — and records the range of every activation tensor: it loads a
// copy of the model made by [quantize.Instrument], whose outputs include
// every tensor an operator computes, so that one Invoke per frame shows
// them all. [quantize.Convert] then writes the integer model from those
// ranges. [Run] does both for files: it checks the float model before
// reading a frame, calibrates, converts, loads the result in TFLite 2.9
// and runs it once, and only then puts it in place (a temporary file in the
// output's folder, synced and renamed), so that a failure leaves no file.
package ptq

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"time"

	"github.com/edgeproject/edge/camera"
	"github.com/edgeproject/edge/quantize"
	"github.com/edgeproject/edge/tflite"
	"github.com/edgeproject/edge/tflite/engine"
	"github.com/edgeproject/edge/tflite/schema"
)

// DefaultFrames is the number of calibration frames when Options.Frames is 0.
const DefaultFrames = 200

// Options say how to calibrate and quantize. The zero value calibrates on
// DefaultFrames frames with the tflite package's default float
// normalization, (p − 127.5)/127.5, and quantizes with min/max ranges,
// keeping float32 input and output.
type Options struct {
	// Frames is the most frames to calibrate on; 0 means DefaultFrames.
	// A finite source (a folder, a video file) may end sooner.
	Frames int
	// Preprocess maps frames to the float input, as at inference: resize
	// mode and normalization (Mean 0, Std 255 for a model trained on
	// [0, 1]). An int8 or uint8 input keeps the calibrated range of this
	// float input, so the same Preprocess fills it at inference.
	Preprocess tflite.Preprocess
	// Quantize says how ranges are chosen and which I/O type is written.
	// Its InputRange, when zero, is that of Preprocess: the normalized
	// values of pixels 0 and 255.
	Quantize quantize.Options
	// Threads for TFLite's CPU kernels; 0 means one per core, at most 4.
	Threads int
	// Logger receives progress; nil means slog.Default().
	Logger *slog.Logger
}

// Validate checks the options before anything is opened: a frame count
// that is not negative, a valid normalization (Std > 0 when set) and
// resize mode, and valid quantize.Options.
func (o Options) Validate() error {
	pp := o.Preprocess
	switch {
	case o.Frames < 0:
		return fmt.Errorf("calibration frames %d: want a positive count", o.Frames)
	case pp.Std < 0 || (pp.Std == 0 && pp.Mean != 0) || math.IsNaN(float64(pp.Std)) || math.IsNaN(float64(pp.Mean)) || math.IsInf(float64(pp.Std), 0):
		return fmt.Errorf("input normalization mean %v std %v: std must be > 0", pp.Mean, pp.Std)
	case pp.Resize < tflite.Stretch || pp.Resize > tflite.Letterbox:
		return fmt.Errorf("resize mode %d: want stretch, center-crop or letterbox", pp.Resize)
	}
	return o.Quantize.Validate()
}

func (o Options) withDefaults() Options {
	if o.Frames == 0 {
		o.Frames = DefaultFrames
	}
	if o.Quantize.InputRange == [2]float64{} {
		o.Quantize.InputRange = PixelRange(o.Preprocess)
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o
}

// PixelRange is the range of the float input that pre fills from 8-bit
// pixels: (0 − Mean)/Std to (255 − Mean)/Std, and [−1, 1] for the tflite
// package's default normalization (Std 0).
func PixelRange(pre tflite.Preprocess) [2]float64 {
	mean, std := float64(pre.Mean), float64(pre.Std)
	if std == 0 {
		mean, std = 127.5, 127.5
	}
	return [2]float64{(0 - mean) / std, (255 - mean) / std}
}

// ErrNoFrames is wrapped by the error of Calibrate when the source ends
// before giving a frame.
var ErrNoFrames = errors.New("calibration source gave no frames")

// Calibrate runs the float model m on up to opts.Frames frames of src and
// returns what its input and activations took: ranges and channel means,
// and histograms when opts.Quantize.Method is Percentile. m must pass
// quantize.Check and have one image input, [1 H W 3] (or [1 H W 1], fed
// with the frames' luma). A source that ends before its first frame gives
// an error wrapping ErrNoFrames.
func Calibrate(ctx context.Context, m *schema.Model, src camera.Source, opts Options) (*quantize.Calibration, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	opts = opts.withDefaults()
	inst, observed, err := quantize.Instrument(m)
	if err != nil {
		return nil, err
	}
	data, err := inst.Bytes()
	if err != nil {
		return nil, fmt.Errorf("calibration copy of the model: %w", err)
	}
	path, err := writeTemp("", "edge-calibration-*.tflite", data)
	if err != nil {
		return nil, err
	}
	defer os.Remove(path)
	it, err := open(path, tflite.Options{Threads: opts.Threads, Preprocess: opts.Preprocess, Logger: opts.Logger})
	if err != nil {
		return nil, fmt.Errorf("calibration copy of the model: %w", err)
	}
	defer it.Close()
	sg := m.Subgraphs[0]
	ins, outs := it.Inputs(), it.Outputs()
	if len(sg.Inputs) != 1 || len(ins) != 1 {
		return nil, fmt.Errorf("model has %d inputs; calibration on camera frames wants one image input", len(sg.Inputs))
	}
	if in := ins[0]; len(in.Shape) != 4 || in.Shape[0] != 1 || (in.Shape[3] != 3 && in.Shape[3] != 1) {
		return nil, fmt.Errorf("input 0 is %s, want an image tensor [1 height width 3 (or 1)]", in)
	}
	if len(outs) != len(observed) {
		return nil, fmt.Errorf("calibration copy has %d outputs in TFLite, want %d", len(outs), len(observed))
	}
	gray := ins[0].Shape[3] == 1
	cal := quantize.NewCalibration(opts.Quantize.Method == quantize.Percentile)
	var f camera.Frame
	var luma []byte
	var buf []float32
	start := time.Now()
	for cal.Frames() < opts.Frames {
		err := src.Read(ctx, &f)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		pix := f.Pix
		if gray {
			luma = toLuma(f.Pix, luma)
			pix = luma
		}
		if _, err := it.SetPixels(pix, f.Width, f.Height); err != nil {
			return nil, fmt.Errorf("frame %d: %w", f.Seq, err)
		}
		if err := it.Invoke(); err != nil {
			return nil, fmt.Errorf("frame %d: %w", f.Seq, err)
		}
		b, err := it.InputBytes(0)
		if err != nil {
			return nil, err
		}
		buf = floats(b, buf)
		cal.Observe(int(sg.Inputs[0]), buf, channels(ins[0]))
		for i, ti := range observed {
			if b, err = it.OutputBytes(i); err != nil {
				return nil, err
			}
			buf = floats(b, buf)
			cal.Observe(ti, buf, channels(outs[i]))
		}
		cal.EndFrame()
	}
	if cal.Frames() == 0 {
		return nil, ErrNoFrames
	}
	opts.Logger.Info("quantize: calibrated", "frames", cal.Frames(), "tensors", len(observed)+1,
		"method", opts.Quantize.Method.String(), "seconds", math.Round(time.Since(start).Seconds()*10)/10)
	return cal, nil
}

// channels is the size of t's last dimension (1 for a scalar).
func channels(t tflite.TensorInfo) int {
	if len(t.Shape) == 0 {
		return 1
	}
	return t.Shape[len(t.Shape)-1]
}

// floats decodes little-endian float32 bytes into buf's storage.
func floats(b []byte, buf []float32) []float32 {
	n := len(b) / 4
	if cap(buf) < n {
		buf = make([]float32, n)
	}
	buf = buf[:n]
	for i := range buf {
		buf[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return buf
}

// toLuma converts packed RGB to luma with ITU-R 601-2 weights (as the
// tflite package does for one-channel models).
func toLuma(rgb, buf []byte) []byte {
	n := len(rgb) / 3
	if cap(buf) < n {
		buf = make([]byte, n)
	}
	buf = buf[:n]
	for i := range buf {
		r, g, b := uint32(rgb[3*i]), uint32(rgb[3*i+1]), uint32(rgb[3*i+2])
		buf[i] = byte((r*19595 + g*38470 + b*7471 + 0x8000) >> 16)
	}
	return buf
}

// Result says what Run did.
type Result struct {
	Input       string  `json:"input"`  // the float model file
	Output      string  `json:"output"` // the integer model file
	Frames      int     `json:"frames"` // calibration frames used
	Method      string  `json:"method"` // "minmax" or "percentile"
	Percentile  float64 `json:"percentile,omitempty"`
	IO          string  `json:"io"` // float32, int8 or uint8
	Operators   int     `json:"operators"`
	InputBytes  int64   `json:"input_bytes"`
	OutputBytes int64   `json:"output_bytes"`
	// InputTensor and OutputTensor describe the quantized model's input
	// and output, e.g. "int8[1 96 96 3] (s=0.00392157 zp=-128)".
	InputTensor  string `json:"input_tensor"`
	OutputTensor string `json:"output_tensor"`
	// Runtime is what calibrated and then ran the written model: "TFLite
	// 2.9", or "the Go engine" in a build without the C library.
	Runtime string `json:"runtime"`
}

// Ratio is how many times smaller the integer model is.
func (r *Result) Ratio() float64 {
	if r.OutputBytes == 0 {
		return 0
	}
	return float64(r.InputBytes) / float64(r.OutputBytes)
}

// ReadFloatModel reads the model file at path and checks that Run can
// quantize it (quantize.Check): a float model of supported operators. Its
// errors name the file; call it before opening a camera to fail early.
func ReadFloatModel(path string) (*schema.Model, error) {
	m, err := schema.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if err := quantize.Check(m); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

// Run quantizes the float model file in to the integer model file out,
// calibrated on src. It checks the model (not quantized already, only
// supported operators) before reading any frame; out is written only once
// TFLite 2.9 has loaded it and run it, through a temporary file in out's
// folder that is synced and renamed, so that an error leaves no file.
func Run(ctx context.Context, in, out string, src camera.Source, opts Options) (*Result, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	opts = opts.withDefaults()
	if out == "" {
		return nil, errors.New("no output file")
	}
	if same(in, out) {
		return nil, fmt.Errorf("%s: the output would replace the float model; give another file", out)
	}
	m, err := ReadFloatModel(in)
	if err != nil {
		return nil, err
	}
	cal, err := Calibrate(ctx, m, src, opts)
	if err != nil {
		return nil, fmt.Errorf("%s: calibration: %w", in, err)
	}
	qm, err := quantize.Convert(m, cal, opts.Quantize)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", in, err)
	}
	data, err := qm.Bytes()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", in, err)
	}
	res := &Result{Input: in, Output: out, Frames: cal.Frames(), Method: opts.Quantize.Method.String(),
		IO: opts.Quantize.IO.String(), Operators: len(qm.Subgraphs[0].Operators), OutputBytes: int64(len(data))}
	if opts.Quantize.Method == quantize.Percentile {
		res.Percentile = opts.Quantize.Percentile
		if res.Percentile == 0 {
			res.Percentile = quantize.DefaultPercentile
		}
	}
	if fi, err := os.Stat(in); err == nil {
		res.InputBytes = fi.Size()
	}
	err = writeAtomic(out, data, func(path string) error {
		it, err := open(path, tflite.Options{Threads: opts.Threads, Logger: opts.Logger})
		if err != nil {
			return fmt.Errorf("%s refuses the quantized model: %w", runtimeName(), err)
		}
		defer it.Close()
		if err := it.Invoke(); err != nil {
			return fmt.Errorf("%s cannot run the quantized model: %w", runtimeName(), err)
		}
		res.InputTensor, res.OutputTensor = describe(it.Inputs()[0]), describe(it.Outputs()[0])
		res.Runtime = runtimeName()
		return nil
	})
	if err != nil {
		return nil, err
	}
	opts.Logger.Info("quantize: wrote", "model", out, "bytes", res.OutputBytes, "float_bytes", res.InputBytes)
	return res, nil
}

// open opens a model on the TFLite C library, or on the pure-Go engine in
// a build without it (the armhf build): calibration and the check of the
// written model then run on the engine, whose float kernels sum in another
// order than TFLite's (results within 1e-5), so a range may differ in its
// last bits.
func open(path string, o tflite.Options) (*tflite.Interpreter, error) {
	if !useCLibrary() {
		return engine.OpenTFLite(path, o)
	}
	return tflite.Open(path, o)
}

// forceGoEngine makes open use the Go engine where the C library is
// linked too (tests).
var forceGoEngine bool

func useCLibrary() bool {
	_, ok := tflite.CLibrary()
	return ok && !forceGoEngine
}

// runtimeName names what open uses.
func runtimeName() string {
	if useCLibrary() {
		return "TFLite 2.9"
	}
	return "the Go engine"
}

func describe(t tflite.TensorInfo) string {
	if !t.Quantized() {
		return t.String()
	}
	return fmt.Sprintf("%s (s=%.6g zp=%d)", t, t.Scale, t.ZeroPoint)
}

// same reports whether paths a and b name the same file.
func same(a, b string) bool {
	fa, errA := os.Stat(a)
	fb, errB := os.Stat(b)
	if errA == nil && errB == nil {
		return os.SameFile(fa, fb)
	}
	return filepath.Clean(a) == filepath.Clean(b)
}

// writeTemp writes data to a new temporary file and returns its path.
func writeTemp(dir, pattern string, data []byte) (string, error) {
	f, err := os.CreateTemp(dir, pattern)
	if err != nil {
		return "", err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(f.Name())
		return "", err
	}
	if err := f.Close(); err != nil {
		os.Remove(f.Name())
		return "", err
	}
	return f.Name(), nil
}

// writeAtomic writes data to path through a temporary file in path's
// folder: written, synced, checked by verify, then renamed over path and
// the folder synced. On any error the temporary file is removed and path
// is left as it was.
func writeAtomic(path string, data []byte, verify func(tmp string) error) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			os.Remove(tmp)
		}
	}()
	if _, err = f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err = f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = os.Chmod(tmp, 0o644); err != nil {
		return err
	}
	if verify != nil {
		if err = verify(tmp); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
	}
	if err = os.Rename(tmp, path); err != nil {
		return err
	}
	if d, derr := os.Open(dir); derr == nil {
		// The rename is durable once the folder is synced; some file
		// systems cannot sync a folder, which changes nothing here.
		_ = d.Sync()
		d.Close()
	}
	return nil
}
