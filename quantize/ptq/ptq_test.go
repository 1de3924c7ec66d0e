// These tests run models on the TFLite C library: a build without it (tag
// nolibtflite, the armhf build) leaves them out.

//go:build cgo && !nolibtflite

package ptq

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	_ "image/jpeg"
	_ "image/png"
	"io"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/edgeproject/edge/camera"
	"github.com/edgeproject/edge/camera/fixtures"
	"github.com/edgeproject/edge/quantize"
	"github.com/edgeproject/edge/quantize/internal/testmodel"
	"github.com/edgeproject/edge/tflite"
	"github.com/edgeproject/edge/tflite/schema"
)

var quiet = slog.New(slog.DiscardHandler)

// rgbPhotos returns the RGB photos of the fixtures (IMAGES.tsv mode RGB),
// and a folder of links to them, for a camera folder source.
func rgbPhotos(t testing.TB) (paths []string, dir string) {
	t.Helper()
	fx := fixtures.Dir(t)
	f, err := os.Open(filepath.Join(fx, "images/IMAGES.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Scan() // header: file width height mode ...
	for sc.Scan() {
		cols := strings.Split(sc.Text(), "\t")
		if len(cols) > 3 && cols[3] == "RGB" {
			paths = append(paths, filepath.Join(fx, "images", cols[0]))
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(paths) != 22 {
		t.Fatalf("%d RGB photos in IMAGES.tsv, want 22", len(paths))
	}
	dir = t.TempDir()
	for _, p := range paths {
		if err := os.Symlink(p, filepath.Join(dir, filepath.Base(p))); err != nil {
			t.Fatal(err)
		}
	}
	return paths, dir
}

func openFolder(t testing.TB, dir string) camera.Source {
	t.Helper()
	src, err := camera.Open(dir, camera.Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { src.Close() })
	return src
}

// scores runs the model at path on every photo and returns its first
// output, dequantized, per photo.
func scores(t testing.TB, path string, pre tflite.Preprocess, photos []string) [][]float32 {
	return outputs(t, path, pre, photos, 0)
}

// outputs runs the model at path on every photo and returns its output k,
// dequantized, per photo.
func outputs(t testing.TB, path string, pre tflite.Preprocess, photos []string, k int) [][]float32 {
	t.Helper()
	it, err := tflite.Open(path, tflite.Options{Preprocess: pre, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer it.Close()
	var all [][]float32
	for _, p := range photos {
		if _, err := it.SetImage(loadPhoto(t, p)); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		if err := it.Invoke(); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		b, err := it.OutputBytes(k)
		if err != nil {
			t.Fatal(err)
		}
		out := it.Outputs()[k]
		s := make([]float32, out.Elements())
		for i := range s {
			switch out.Type {
			case schema.TypeFloat32:
				s[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
			case schema.TypeInt8:
				s[i] = out.Dequantize(int32(int8(b[i])))
			case schema.TypeUint8:
				s[i] = out.Dequantize(int32(b[i]))
			default:
				t.Fatalf("%s: output %s", path, out)
			}
		}
		all = append(all, s)
	}
	return all
}

// loadPhoto decodes a PNG or JPEG file.
func loadPhoto(t testing.TB, p string) image.Image {
	t.Helper()
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, _, err := image.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", p, err)
	}
	return img
}

// topK returns the indexes of the k largest scores, best first (ties by index).
func topK(s []float32, k int) []int {
	idx := make([]int, len(s))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		switch {
		case s[a] > s[b]:
			return -1
		case s[a] < s[b]:
			return 1
		}
		return 0
	})
	return idx[:k]
}

func overlap(a, b []int) int {
	n := 0
	for _, x := range a {
		if slices.Contains(b, x) {
			n++
		}
	}
	return n
}

// agreement compares a model's outputs with the reference's, photo by
// photo: strict counts the photos whose top-1 (ties to the lower index) is
// the reference's; tied counts those where the reference's top-1 has the
// model's highest score, a tie included (an int8 SOFTMAX has steps of
// 1/256, so close classes can tie); top5 is the mean overlap of the top-5
// sets (0 with fewer than 5 classes).
func agreement(ref, got [][]float32) (strict, tied int, top5 float64) {
	for i := range ref {
		want := topK(ref[i], 1)[0]
		best := topK(got[i], 1)[0]
		if want == best {
			strict++
		}
		if got[i][want] == got[i][best] {
			tied++
		}
		if len(ref[i]) >= 5 {
			top5 += float64(overlap(topK(ref[i], 5), topK(got[i], 5))) / 5
		}
	}
	return strict, tied, top5 / float64(len(ref))
}

func quantizeFixture(t *testing.T, model string, pre tflite.Preprocess, qopts quantize.Options) (out string, res *Result, photos []string) {
	t.Helper()
	photos, dir := rgbPhotos(t)
	out = filepath.Join(t.TempDir(), "int8.tflite")
	res, err := Run(context.Background(), fixtures.Path(t, model), out, openFolder(t, dir),
		Options{Preprocess: pre, Quantize: qopts, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s -> %d bytes (%.2fx smaller), %d frames, %s, in %s out %s", model, res.OutputBytes, res.Ratio(), res.Frames, res.Method, res.InputTensor, res.OutputTensor)
	return out, res, photos
}

// weightBytes sums the bytes of the filters (input 1) of the convolution
// and fully connected operators of the model at path.
func weightBytes(t testing.TB, path string) int {
	t.Helper()
	m, err := schema.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sg := m.Subgraphs[0]
	n := 0
	for _, op := range sg.Operators {
		code, err := m.Op(op)
		if err != nil {
			t.Fatal(err)
		}
		switch code.Builtin {
		case schema.OpConv2D, schema.OpDepthwiseConv2D, schema.OpFullyConnected:
			n += len(m.BufferData(sg.Tensors[op.Inputs[1]].Buffer))
		}
	}
	return n
}

// quantParamBytes sums what the quantization parameters of the model at
// path take in the file's vectors: 4 bytes a scale, 8 a zero point (int64
// in TFLite's schema, one per scale, which TFLite 2.9's interpreter
// requires), and 4 for each vector's length, counting each distinct vector
// once: fbwriter writes identical vectors once and shares them.
func quantParamBytes(t testing.TB, path string) int {
	t.Helper()
	m, err := schema.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	n := 0
	for _, tn := range m.Subgraphs[0].Tensors {
		if q := tn.Quantization; q != nil {
			if k := fmt.Sprint("s", q.Scale); !seen[k] {
				seen[k] = true
				n += 4 + 4*len(q.Scale)
			}
			if k := fmt.Sprint("z", q.ZeroPoint); !seen[k] {
				seen[k] = true
				n += 4 + 8*len(q.ZeroPoint)
			}
		}
	}
	return n
}

// checkSize: the weights shrink exactly 4×, the file at least minRatio×.
// The file cannot shrink 4×: the int32 biases keep their size, and
// TFLite's per-channel format adds a float32 scale per output channel for
// the filter and another for its bias (input scale × filter scale), and as
// many int64 zero points — all zeros, shared by the filter and its bias
// and by every layer of the same width, as fbwriter writes identical
// vectors once (MobileNet V1 0.25: 42 kB of a 534 kB file; 5 kB of tensor
// names and 9 kB of flatbuffer tables, shapes and padding take the rest).
func checkSize(t *testing.T, float, quant string, res *Result, minRatio float64) {
	t.Helper()
	wf, wq := weightBytes(t, float), weightBytes(t, quant)
	t.Logf("size: %d -> %d bytes, %.2fx smaller (weights %d -> %d bytes, %.2fx; quantization parameters %d bytes)",
		res.InputBytes, res.OutputBytes, res.Ratio(), wf, wq, float64(wf)/float64(wq), quantParamBytes(t, quant))
	if wf != 4*wq {
		t.Errorf("weights %d -> %d bytes, want exactly 4x smaller", wf, wq)
	}
	if r := res.Ratio(); r < minRatio {
		t.Errorf("file %.2fx smaller, want ≥ %.2fx", r, minRatio)
	}
}

// TestMobileNetV1Agreement: MobileNet V1 0.25 128 quantized on the 22 RGB
// photos agrees with the float model on top-1 for ≥ 90% of them, strictly
// (an int8 tie between the float top-1 and another class counts as a
// miss when the other class has the lower index), with float, int8 and
// uint8 input and output, and their top-5 sets overlap.
func TestMobileNetV1Agreement(t *testing.T) {
	const model = "models/float/mobilenet_v1_0.25_128.tflite"
	pre := tflite.Preprocess{Mean: 127.5, Std: 127.5}
	for _, tc := range []struct {
		name    string
		opts    quantize.Options
		compare bool // for comparison only: no thresholds
	}{
		{"minmax/float-io", quantize.Options{}, false},
		{"minmax/int8-io", quantize.Options{IO: quantize.Int8IO}, false},
		{"minmax/uint8-io", quantize.Options{IO: quantize.Uint8IO}, false},
		{"minmax/int8-io/no-bias-correction", quantize.Options{IO: quantize.Int8IO, NoBiasCorrection: true}, true},
		{"percentile/float-io", quantize.Options{Method: quantize.Percentile}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, res, photos := quantizeFixture(t, model, pre, tc.opts)
			ref := scores(t, fixtures.Path(t, model), pre, photos)
			got := scores(t, out, pre, photos)
			strict, tied, top5 := agreement(ref, got)
			n := len(photos)
			t.Logf("MobileNet V1 0.25 128, %s: float top-1 is the int8 top-1 on %d/%d photos (%.0f%%; %d/%d counting int8 ties as agreement), mean top-5 overlap %.2f",
				tc.name, strict, n, 100*float64(strict)/float64(n), tied, n, top5)
			if tc.compare {
				return
			}
			if float64(strict) < 0.9*float64(n) {
				t.Errorf("top-1 agrees on %d/%d photos, want ≥ 90%%", strict, n)
			}
			if top5 < 0.8 {
				t.Errorf("mean top-5 overlap %.2f, want ≥ 0.8", top5)
			}
			checkSize(t, fixtures.Path(t, model), out, res, 3.45)
		})
	}
}

// TestVWWAgreement: the MLPerf Tiny visual wake words model quantized on
// the photos gives the float model's answer on all 22, side by side with
// MLCommons' own int8 model (calibrated by TensorFlow on other images).
func TestVWWAgreement(t *testing.T) {
	const model, theirs = "models/vww/vww_96_float.tflite", "models/vww/vww_96_int8.tflite"
	pre := tflite.Preprocess{Mean: 0, Std: 255}
	out, res, photos := quantizeFixture(t, model, pre, quantize.Options{IO: quantize.Int8IO})
	ref := scores(t, fixtures.Path(t, model), pre, photos)
	ours := scores(t, out, pre, photos)
	mlc := scores(t, fixtures.Path(t, theirs), pre, photos)
	stats := func(got [][]float32) (agree int, mean, worst float64) {
		agree, _, _ = agreement(ref, got)
		for i := range ref {
			d := math.Abs(float64(got[i][1] - ref[i][1]))
			mean += d / float64(len(ref))
			worst = math.Max(worst, d)
		}
		return agree, mean, worst
	}
	oa, om, ow := stats(ours)
	ma, mm, mw := stats(mlc)
	n := len(photos)
	t.Logf("VWW 96, argmax as float's: ours %d/%d, MLCommons vww_96_int8 %d/%d; |p(person) - float|: ours mean %.3f max %.3f, MLCommons mean %.3f max %.3f; %d bytes (MLCommons %d)",
		oa, n, ma, n, om, ow, mm, mw, res.OutputBytes, fileSize(t, fixtures.Path(t, theirs)))
	if oa != n {
		t.Errorf("ours agrees with float on %d/%d photos, want all", oa, n)
	}
	checkSize(t, fixtures.Path(t, model), out, res, 3.15)
}

func fileSize(t testing.TB, path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

// TestEveryOperator: a float model using every operator the quantizer
// handles, quantized with each I/O type, loads and runs in TFLite 2.9 and
// stays close to the float model on the photos.
func TestEveryOperator(t *testing.T) {
	photos, dir := rgbPhotos(t)
	float := filepath.Join(t.TempDir(), "allops.tflite")
	if err := testmodel.AllOps(1).WriteFile(float); err != nil {
		t.Fatal(err)
	}
	pre := tflite.Preprocess{Mean: 127.5, Std: 127.5}
	for _, io := range []quantize.IO{quantize.FloatIO, quantize.Int8IO, quantize.Uint8IO} {
		t.Run(io.String(), func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "allops_int8.tflite")
			res, err := Run(context.Background(), float, out, openFolder(t, dir), Options{Frames: 10, Preprocess: pre, Quantize: quantize.Options{IO: io}, Logger: quiet})
			if err != nil {
				t.Fatal(err)
			}
			if res.Frames != 10 {
				t.Errorf("%d calibration frames, want 10", res.Frames)
			}
			for k, name := range []string{"softmax", "logistic", "tanh"} {
				ref := outputs(t, float, pre, photos, k)
				got := outputs(t, out, pre, photos, k)
				var worst float64
				for i := range ref {
					for j := range ref[i] {
						worst = math.Max(worst, math.Abs(float64(got[i][j]-ref[i][j])))
					}
				}
				t.Logf("%s I/O, %s output: largest difference from float %.4f", io, name, worst)
				if worst > 0.05 {
					t.Errorf("%s output differs from float by up to %.4f, want ≤ 0.05", name, worst)
				}
			}
		})
	}
}

// frames is a camera.Source of n gray frames, then end (io.EOF unless err
// is set).
type frames struct {
	n   int
	err error
}

func (s *frames) Read(ctx context.Context, f *camera.Frame) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if s.n == 0 {
		if s.err != nil {
			return s.err
		}
		return io.EOF
	}
	s.n--
	f.Width, f.Height = 40, 30
	f.Pix = make([]byte, 40*30*3)
	for i := range f.Pix {
		f.Pix[i] = byte(i * 7)
	}
	f.Seq++
	return nil
}

func (s *frames) Close() error { return nil }

// TestRunFailures: a source without frames, a failing source and a
// cancelled context give errors and leave no file.
func TestRunFailures(t *testing.T) {
	float := filepath.Join(t.TempDir(), "allops.tflite")
	if err := testmodel.AllOps(2).WriteFile(float); err != nil {
		t.Fatal(err)
	}
	broken := errors.New("unplugged")
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	for _, tc := range []struct {
		name string
		ctx  context.Context
		src  camera.Source
		want error
	}{
		{"no frames", context.Background(), &frames{}, ErrNoFrames},
		{"source fails", context.Background(), &frames{n: 2, err: broken}, broken},
		{"cancelled", cancelled, &frames{n: 5}, context.Canceled},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			_, err := Run(tc.ctx, float, filepath.Join(dir, "out.tflite"), tc.src, Options{Logger: quiet})
			if !errors.Is(err, tc.want) {
				t.Errorf("error %v, want %v", err, tc.want)
			}
			if es, _ := os.ReadDir(dir); len(es) != 0 {
				t.Errorf("%d files left in the output folder", len(es))
			}
		})
	}
	// Frames stop at Options.Frames.
	out := filepath.Join(t.TempDir(), "out.tflite")
	res, err := Run(context.Background(), float, out, &frames{n: 100}, Options{Frames: 3, Logger: quiet})
	if err != nil || res.Frames != 3 {
		t.Errorf("Frames 3: %+v, %v", res, err)
	}
}

// One-channel models are calibrated on the frames' luma (ITU-R 601-2).
func TestToLuma(t *testing.T) {
	got := toLuma([]byte{255, 255, 255, 0, 0, 0, 255, 0, 0, 0, 255, 0}, nil)
	if want := []byte{255, 0, 76, 150}; !slices.Equal(got, want) {
		t.Errorf("luma %v, want %v", got, want)
	}
}
