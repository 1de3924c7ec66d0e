package engine

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/edgeproject/edge/tflite"
	"github.com/edgeproject/edge/tflite/schema"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// floatTol is how far float outputs of the fixture models may be from
// TFLite's. Single-operator models (random data, sums of hundreds of terms
// of either sign) get floatTol times the largest magnitude of the output
// instead (opFloatTol): TFLite's float kernels (Eigen, XNNPACK) sum in
// another order and with FMA, so their float32 results differ in the last
// bits of the partial sums. Integer outputs are compared exactly, always.
const floatTol = 1e-5

// errRefused reports a model the TFLite C library refused to load, which
// a generator should not produce.
var errRefused = errors.New("TFLite refused the model")

// pair is a model loaded in both interpreters.
type pair struct {
	ref *tflite.Interpreter
	eng *Interpreter
	// relTol scales floatTol by the output's largest magnitude (opFloatTol).
	relTol bool
}

// needTFLite skips a test that compares with the TFLite C library in a
// build without it (CGO_ENABLED=0 or the tag nolibtflite, as on armhf);
// TestModelsMatchRecorded and TestOpsMatchRecorded compare with its
// recorded outputs there instead.
func needTFLite(t testing.TB) {
	t.Helper()
	if _, ok := tflite.CLibrary(); !ok {
		t.Skip("needs the TFLite C library, which this build leaves out (CGO_ENABLED=0 or tag nolibtflite); TestModelsMatchRecorded and TestOpsMatchRecorded compare with its recorded outputs instead")
	}
}

func openPair(t testing.TB, path string, threads int) (*pair, error) {
	return openPairThreads(t, path, threads, threads)
}

// openPairThreads opens path with refThreads threads for TFLite and
// threads for the engine.
func openPairThreads(t testing.TB, path string, refThreads, threads int) (*pair, error) {
	t.Helper()
	needTFLite(t)
	ref, err := tflite.Open(path, tflite.Options{Threads: refThreads, Logger: quiet})
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errRefused, err)
	}
	eng, err := Open(path, Options{Threads: threads})
	if err != nil {
		ref.Close()
		return nil, err
	}
	return &pair{ref: ref, eng: eng}, nil
}

func (p *pair) close() {
	p.ref.Close()
	p.eng.Close()
}

// setInput writes the same bytes to input i of both.
func (p *pair) setInput(i int, data []byte) error {
	dst, err := p.eng.InputBytes(i)
	if err != nil {
		return err
	}
	if len(dst) != len(data) {
		return fmt.Errorf("engine input %d has %d bytes, want %d", i, len(dst), len(data))
	}
	copy(dst, data)
	return p.ref.SetInput(i, data)
}

// randomInputs fills every input of both interpreters with random values.
func (p *pair) randomInputs(rng *rand.Rand) error {
	return fillRandom(rng, p.eng.Inputs(), p.setInput)
}

// fillRandom sets every input with random values: uint8 and int8 bytes,
// float32 in [-3, 3).
func fillRandom(rng *rand.Rand, inputs []tflite.TensorInfo, set func(i int, data []byte) error) error {
	for i, in := range inputs {
		data := make([]byte, in.Elements()*max(in.Type.Size(), 1))
		if in.Type == schema.TypeFloat32 {
			for j := 0; j < len(data); j += 4 {
				v := float32(rng.Float64()*6 - 3)
				putF32(data[j:], v)
			}
		} else {
			for j := range data {
				data[j] = byte(rng.IntN(256))
			}
		}
		if err := set(i, data); err != nil {
			return err
		}
	}
	return nil
}

func putF32(b []byte, v float32) {
	u := math.Float32bits(v)
	b[0], b[1], b[2], b[3] = byte(u), byte(u>>8), byte(u>>16), byte(u>>24)
}

// mismatch describes how an output differs.
type mismatch struct {
	output   int
	count    int     // differing elements
	maxDiff  float64 // largest difference (quantized steps or float)
	first    int     // first differing element
	got, ref float64
}

func (m *mismatch) String() string {
	return fmt.Sprintf("output %d: %d elements differ, max diff %g, first at %d: engine %g, TFLite %g", m.output, m.count, m.maxDiff, m.first, m.got, m.ref)
}

// compare invokes both and compares every output: 8-bit and int32 outputs
// exactly, float32 within floatTol. limit caps the elements compared per
// output (-1: all).
func (p *pair) compare() ([]*mismatch, error) {
	if err := p.ref.Invoke(); err != nil {
		return nil, err
	}
	if err := p.eng.Invoke(); err != nil {
		return nil, err
	}
	var out []*mismatch
	for i, info := range p.eng.Outputs() {
		got, _ := p.eng.OutputBytes(i)
		want, err := p.ref.OutputBytes(i)
		if err != nil {
			return nil, err
		}
		if len(got) != len(want) {
			return nil, fmt.Errorf("output %d: engine has %d bytes, TFLite %d", i, len(got), len(want))
		}
		if m := diff(i, info.Type, got, want, p.tol(info.Type, want)); m != nil {
			out = append(out, m)
		}
	}
	return out, nil
}

// tol is the float tolerance for output bytes want.
func (p *pair) tol(typ schema.TensorType, want []byte) float64 {
	if typ != schema.TypeFloat32 || !p.relTol {
		return floatTol
	}
	return opFloatTol(f32s(want))
}

// opFloatTol is the tolerance of float outputs of single-operator models.
func opFloatTol(want []float32) float64 {
	m := 1.0
	for _, w := range want {
		m = max(m, math.Abs(float64(w)))
	}
	return floatTol * m
}

func diff(i int, typ schema.TensorType, got, want []byte, tol float64) *mismatch {
	var m *mismatch
	note := func(j int, g, w float64, d float64) {
		if m == nil {
			m = &mismatch{output: i, first: j, got: g, ref: w}
		}
		m.count++
		m.maxDiff = max(m.maxDiff, d)
	}
	switch typ {
	case schema.TypeFloat32:
		g, w := f32s(got), f32s(want)
		for j := range g {
			d := math.Abs(float64(g[j]) - float64(w[j]))
			if d > tol || math.IsNaN(d) {
				note(j, float64(g[j]), float64(w[j]), d)
			}
		}
	case schema.TypeInt8:
		for j := range got {
			if got[j] != want[j] {
				g, w := float64(int8(got[j])), float64(int8(want[j]))
				note(j, g, w, math.Abs(g-w))
			}
		}
	default:
		for j := range got {
			if got[j] != want[j] {
				g, w := float64(got[j]), float64(want[j])
				note(j, g, w, math.Abs(g-w))
			}
		}
	}
	return m
}

// validDetections re-compares the outputs of TFLite_Detection_PostProcess
// on the detections it reports only: TFLite's fast NMS leaves the rest of
// its output tensors as they were.
func (p *pair) validDetections(ms []*mismatch) []*mismatch {
	if len(ms) == 0 {
		return nil
	}
	k := p.eng.nodes[0].(*detectionPostProcess)
	get := func(i int) ([]float32, []float32) {
		g, _ := p.eng.OutputBytes(i)
		w, _ := p.ref.OutputBytes(i)
		return f32s(g), f32s(w)
	}
	gn, wn := get(3)
	if gn[0] != wn[0] {
		return []*mismatch{{output: 3, count: 1, got: float64(gn[0]), ref: float64(wn[0]), maxDiff: math.Abs(float64(gn[0] - wn[0]))}}
	}
	n := int(wn[0])
	per, cols := 1, 1
	if !k.regular {
		per, cols = k.maxClassesPerDetection, min(k.maxClassesPerDetection, k.numClasses)
	}
	var out []*mismatch
	for i, width := range []int{4, 1, 1} {
		g, w := get(i)
		var gv, wv []byte
		for d := 0; d < n; d++ {
			for c := 0; c < cols; c++ {
				o := (d*per + c) * width
				gv = append(gv, f32bytes(g[o:o+width])...)
				wv = append(wv, f32bytes(w[o:o+width])...)
			}
		}
		if m := diff(i, schema.TypeFloat32, gv, wv, opFloatTol(f32s(wv))); m != nil {
			out = append(out, m)
		}
	}
	return out
}
