package quantize

import (
	"encoding/binary"
	"errors"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/edgeproject/edge/camera/fixtures"
	"github.com/edgeproject/edge/quantize/internal/testmodel"
	"github.com/edgeproject/edge/tflite/schema"
	"github.com/edgeproject/edge/tflite/schema/fbwriter"
)

func parse(t testing.TB, m *fbwriter.Model) *schema.Model {
	t.Helper()
	data, err := m.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	pm, err := schema.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	return pm
}

// fakeCalibration observes, for the graph input and every operator output
// of m, values spread over a random range [lo, hi] (lo ≤ 0 < hi), as
// Calibrate would record them from a run of the float model.
func fakeCalibration(t testing.TB, m *schema.Model, histograms bool, seed uint64) *Calibration {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, 99))
	sg := m.Subgraphs[0]
	cal := NewCalibration(histograms)
	tensors := slices.Clone(sg.Inputs)
	for _, op := range sg.Operators {
		tensors = append(tensors, op.Outputs...)
	}
	for _, ti := range tensors {
		tn := sg.Tensors[ti]
		lo, hi := -r.Float64(), 0.5+3*r.Float64()
		if r.IntN(3) == 0 {
			lo = 0 // a ReLU output
		}
		v := make([]float32, tn.NumElements())
		for i := range v {
			v[i] = float32(lo + (hi-lo)*r.Float64())
		}
		v[0], v[len(v)-1] = float32(lo), float32(hi)
		cal.Observe(int(ti), v, int(tn.Shape[len(tn.Shape)-1]))
	}
	cal.EndFrame()
	return cal
}

func allOps(t testing.TB) *schema.Model {
	t.Helper()
	return parse(t, testmodel.AllOps(1))
}

func opName(m *schema.Model, op schema.Operator) string {
	c, _ := m.Op(op)
	return c.Name()
}

func params(t schema.Tensor) Params {
	return Params{Scale: float64(t.Quantization.Scale[0]), ZeroPoint: int32(t.Quantization.ZeroPoint[0])}
}

func TestCheckAndInstrument(t *testing.T) {
	m := allOps(t)
	if err := Check(m); err != nil {
		t.Fatal(err)
	}
	inst, observed, err := Instrument(m)
	if err != nil {
		t.Fatal(err)
	}
	im := parse(t, inst)
	sg, isg := m.Subgraphs[0], im.Subgraphs[0]
	if len(observed) != len(sg.Operators) {
		t.Errorf("%d observed tensors, want one per operator (%d)", len(observed), len(sg.Operators))
	}
	for i, op := range sg.Operators {
		if !slices.Contains(observed, int(op.Outputs[0])) {
			t.Errorf("output of node %d (%s) is not observed", i, opName(m, op))
		}
	}
	for i, ti := range observed {
		if int(isg.Outputs[i]) != ti || isg.Tensors[ti].Name != sg.Tensors[ti].Name {
			t.Errorf("output %d is tensor %d %q, want %d %q", i, isg.Outputs[i], isg.Tensors[isg.Outputs[i]].Name, ti, sg.Tensors[ti].Name)
		}
	}
	for i := range 3 {
		if isg.Outputs[i] != sg.Outputs[i] {
			t.Errorf("the model's own output %d is not first", i)
		}
	}
	if h := im.OpHistogram(); h["SQUEEZE"] != 0 || h["RESHAPE"] != 2 {
		t.Errorf("calibration copy ops %v: want SQUEEZE written as RESHAPE", h)
	}
}

// TestConvertStructure checks the integer model against the rules of
// TFLite's int8 kernels, for each I/O type.
func TestConvertStructure(t *testing.T) {
	m := allOps(t)
	cal := fakeCalibration(t, m, false, 1)
	wantVersions := map[string]int32{
		"CONV_2D": 3, "DEPTHWISE_CONV_2D": 3, "FULLY_CONNECTED": 4, "AVERAGE_POOL_2D": 2, "MAX_POOL_2D": 2,
		"RESHAPE": 1, "PAD": 2, "SOFTMAX": 2, "LOGISTIC": 2, "TANH": 2, "ADD": 2, "MUL": 2, "CONCATENATION": 2,
		"MEAN": 2, "RELU": 2, "RELU6": 2, "HARD_SWISH": 1, "DEQUANTIZE": 2,
	}
	for _, io := range []IO{FloatIO, Int8IO, Uint8IO} {
		t.Run(io.String(), func(t *testing.T) {
			fm, err := Convert(m, cal, Options{IO: io})
			if err != nil {
				t.Fatal(err)
			}
			q := parse(t, fm)
			sg := q.Subgraphs[0]
			for _, c := range q.OperatorCodes {
				want, ok := wantVersions[c.Name()]
				if c.Builtin == schema.OpQuantize {
					want, ok = c.Version, c.Version == 1 || c.Version == 2
				}
				if !ok || c.Version != want {
					t.Errorf("operator %s version %d, want %d", c.Name(), c.Version, want)
				}
			}
			if h := q.OpHistogram(); h["SQUEEZE"] != 0 || h["RESHAPE"] != 2 {
				t.Errorf("ops %v: want SQUEEZE written as RESHAPE", h)
			}
			requantize := 0
			for _, op := range sg.Operators {
				if opName(q, op) == "QUANTIZE" && sg.Tensors[op.Inputs[0]].Type == schema.TypeInt8 && sg.Tensors[op.Outputs[0]].Type == schema.TypeInt8 {
					requantize++
				}
			}
			if requantize == 0 {
				t.Error("no CONCATENATION input requantized (the fake ranges differ)")
			}
			checkIO(t, m, q, cal, io)
			for i, op := range sg.Operators {
				checkOp(t, q, i, op)
			}
		})
	}
}

func checkIO(t *testing.T, m, q *schema.Model, cal *Calibration, io IO) {
	t.Helper()
	sg := q.Subgraphs[0]
	in, out := sg.Tensors[sg.Inputs[0]], sg.Tensors[sg.Outputs[0]]
	lo, hi, _ := cal.MinMax(int(m.Subgraphs[0].Inputs[0]))
	p, _ := ChooseParams(lo, hi, -128, 127)
	first := sg.Operators[0]
	switch io {
	case FloatIO:
		if in.Type != schema.TypeFloat32 || out.Type != schema.TypeFloat32 {
			t.Errorf("I/O %s, %s: want float32", in, out)
		}
		if opName(q, first) != "QUANTIZE" || sg.Tensors[first.Outputs[0]].Type != schema.TypeInt8 {
			t.Errorf("first op %s: want QUANTIZE to int8", opName(q, first))
		}
		for _, ti := range sg.Outputs {
			if !slices.ContainsFunc(sg.Operators, func(op schema.Operator) bool {
				return op.Outputs[0] == ti && opName(q, op) == "DEQUANTIZE"
			}) {
				t.Errorf("output %s is not made by a DEQUANTIZE", sg.Tensors[ti])
			}
		}
	case Int8IO:
		if in.Type != schema.TypeInt8 || out.Type != schema.TypeInt8 {
			t.Errorf("I/O %s, %s: want int8", in, out)
		}
		if got := params(in); math.Abs(got.Scale-p.Scale) > 1e-7*p.Scale || got.ZeroPoint != p.ZeroPoint {
			t.Errorf("input %s: want the calibrated range's %+v", in, p)
		}
		if got := params(out); got != (Params{Scale: 1.0 / 256, ZeroPoint: -128}) {
			t.Errorf("softmax output %s: want s=1/256 zp=-128", out)
		}
	case Uint8IO:
		if in.Type != schema.TypeUint8 || out.Type != schema.TypeUint8 {
			t.Errorf("I/O %s, %s: want uint8", in, out)
		}
		if got := params(in); got.ZeroPoint != p.ZeroPoint+128 {
			t.Errorf("input %s: zero point want %d", in, p.ZeroPoint+128)
		}
		if got := params(out); got != (Params{Scale: 1.0 / 256, ZeroPoint: 0}) {
			t.Errorf("softmax output %s: want s=1/256 zp=0", out)
		}
		if opName(q, first) != "QUANTIZE" {
			t.Errorf("first op %s: want QUANTIZE from uint8", opName(q, first))
		}
	}
}

// checkOp checks one operator of the integer model.
func checkOp(t *testing.T, q *schema.Model, i int, op schema.Operator) {
	t.Helper()
	sg := q.Subgraphs[0]
	name := opName(q, op)
	tensor := func(ti int32) schema.Tensor { return sg.Tensors[ti] }
	out := tensor(op.Outputs[0])
	if name == "DEQUANTIZE" || (name == "QUANTIZE" && out.Type != schema.TypeInt8) {
		return
	}
	if out.Type != schema.TypeInt8 || len(out.Quantization.Scale) != 1 {
		t.Fatalf("node %d %s: output %s is not per-tensor int8", i, name, out)
	}
	in := tensor(op.Inputs[0])
	switch name {
	case "CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED":
		w, b := tensor(op.Inputs[1]), tensor(op.Inputs[2])
		dim := map[string]int32{"CONV_2D": 0, "DEPTHWISE_CONV_2D": 3, "FULLY_CONNECTED": 0}[name]
		channels := int(w.Shape[dim])
		nScales := channels
		if name == "FULLY_CONNECTED" {
			nScales = 1
		}
		if w.Type != schema.TypeInt8 || len(w.Quantization.Scale) != nScales || w.Quantization.QuantizedDimension != dim {
			t.Errorf("node %d %s: weights %s (dim %d), want int8 with %d scales on dim %d", i, name, w, w.Quantization.QuantizedDimension, nScales, dim)
		}
		for _, zp := range w.Quantization.ZeroPoint {
			if zp != 0 {
				t.Errorf("node %d %s: weight zero point %d", i, name, zp)
			}
		}
		for _, v := range q.BufferData(w.Buffer) {
			if int8(v) == -128 {
				t.Errorf("node %d %s: weight −128 (symmetric range is ±127)", i, name)
				break
			}
		}
		if b.Type != schema.TypeInt32 || len(b.Quantization.Scale) != nScales || int(b.Shape[0]) != channels {
			t.Errorf("node %d %s: bias %s, want int32[%d] with %d scales", i, name, b, channels, nScales)
		}
		for c, s := range b.Quantization.Scale {
			if want := in.Quantization.Scale[0] * w.Quantization.Scale[c]; s != want || b.Quantization.ZeroPoint[c] != 0 {
				t.Errorf("node %d %s: bias scale %d is %v zp %d, want input × weight scale %v, zp 0", i, name, c, s, b.Quantization.ZeroPoint[c], want)
			}
		}
	case "RESHAPE", "MAX_POOL_2D", "AVERAGE_POOL_2D", "PAD":
		if params(out) != params(in) {
			t.Errorf("node %d %s: output %s has other parameters than input %s", i, name, out, in)
		}
	case "SOFTMAX", "LOGISTIC":
		if params(out) != (Params{Scale: 1.0 / 256, ZeroPoint: -128}) {
			t.Errorf("node %d %s: output %s, want s=1/256 zp=-128", i, name, out)
		}
	case "TANH":
		if params(out) != (Params{Scale: 1.0 / 128, ZeroPoint: 0}) {
			t.Errorf("node %d %s: output %s, want s=1/128 zp=0", i, name, out)
		}
	case "CONCATENATION":
		for _, ti := range op.Inputs {
			if params(tensor(ti)) != params(out) {
				t.Errorf("node %d %s: input %s has other parameters than the output %s", i, name, tensor(ti), out)
			}
		}
	case "ADD", "MUL":
		for _, ti := range op.Inputs {
			if tensor(ti).Type != schema.TypeInt8 {
				t.Errorf("node %d %s: input %s is not int8", i, name, tensor(ti))
			}
		}
	}
}

// TestConvertBiasCorrection: the corrected bias differs from the plain one
// by the weight error times the input channel means; without means or with
// NoBiasCorrection it is the plain one.
func TestConvertBiasCorrection(t *testing.T) {
	m := allOps(t)
	cal := fakeCalibration(t, m, false, 2)
	biases := func(opts Options) map[string][]int32 {
		q := parse(t, must(Convert(m, cal, opts)))
		sg := q.Subgraphs[0]
		out := map[string][]int32{}
		for _, op := range sg.Operators {
			if n := opName(q, op); n == "CONV_2D" || n == "DEPTHWISE_CONV_2D" || n == "FULLY_CONNECTED" {
				b := sg.Tensors[op.Inputs[2]]
				d := q.BufferData(b.Buffer)
				v := make([]int32, len(d)/4)
				for i := range v {
					v[i] = int32(binary.LittleEndian.Uint32(d[4*i:]))
				}
				out[b.Name] = v
			}
		}
		return out
	}
	plain, corrected := biases(Options{NoBiasCorrection: true}), biases(Options{})
	changed := 0
	for name, v := range plain {
		if !slices.Equal(v, corrected[name]) {
			changed++
		}
	}
	if changed == 0 {
		t.Errorf("bias correction changed none of %d biases", len(plain))
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func TestConvertErrors(t *testing.T) {
	m := allOps(t)
	t.Run("unsupported op", func(t *testing.T) {
		err := Check(parse(t, testmodel.Single(schema.OpExp)))
		if !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), "node 0 (EXP") {
			t.Errorf("EXP model: %v, want ErrUnsupported naming node 0 (EXP ...)", err)
		}
		_, _, err = Instrument(parse(t, testmodel.Single(schema.OpSqrt)))
		if !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), "SQRT") {
			t.Errorf("SQRT model: %v", err)
		}
	})
	t.Run("already quantized", func(t *testing.T) {
		q, err := schema.ReadFile(filepath.Join(fixtures.Dir(t), "models/vww/vww_96_int8.tflite"))
		if err != nil {
			t.Fatal(err)
		}
		err = Check(q)
		if !errors.Is(err, ErrAlreadyQuantized) || !strings.Contains(err.Error(), "is int8") {
			t.Errorf("vww_96_int8: %v, want ErrAlreadyQuantized naming an int8 tensor", err)
		}
		// Our own output, too.
		_, err = Convert(parse(t, must(Convert(m, fakeCalibration(t, m, false, 3), Options{}))), NewCalibration(false), Options{})
		if !errors.Is(err, ErrAlreadyQuantized) {
			t.Errorf("converting a converted model: %v", err)
		}
	})
	t.Run("fused tanh", func(t *testing.T) {
		fm := testmodel.AllOps(1)
		fm.Subgraphs[0].Operators[0].Options = &fbwriter.Conv2DOptions{StrideW: 2, StrideH: 2, Activation: fbwriter.Tanh}
		if err := Check(parse(t, fm)); !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), "fused activation") {
			t.Errorf("conv with fused TANH: %v", err)
		}
	})
	t.Run("two subgraphs", func(t *testing.T) {
		fm := testmodel.AllOps(1)
		fm.Subgraphs = append(fm.Subgraphs, fm.Subgraphs[0])
		if err := Check(parse(t, fm)); !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), "2 subgraphs") {
			t.Errorf("two subgraphs: %v", err)
		}
	})
	t.Run("missing calibration", func(t *testing.T) {
		_, err := Convert(m, NewCalibration(false), Options{})
		if err == nil || !strings.Contains(err.Error(), `"input"`) {
			t.Errorf("empty calibration: %v, want an error naming the input tensor", err)
		}
	})
	t.Run("percentile without histograms", func(t *testing.T) {
		_, err := Convert(m, fakeCalibration(t, m, false, 4), Options{Method: Percentile})
		if err == nil || !strings.Contains(err.Error(), "histograms") {
			t.Errorf("%v", err)
		}
		if _, err := Convert(m, fakeCalibration(t, m, true, 4), Options{Method: Percentile, Percentile: 99.9}); err != nil {
			t.Error(err)
		}
	})
	t.Run("bad options", func(t *testing.T) {
		for _, o := range []Options{{Method: 7}, {IO: 9}, {Method: Percentile, Percentile: 20}, {InputRange: [2]float64{1, -1}}, {InputRange: [2]float64{0, math.Inf(1)}}} {
			if _, err := Convert(m, fakeCalibration(t, m, true, 5), o); err == nil {
				t.Errorf("%+v: no error", o)
			}
		}
	})
}

func TestCalibration(t *testing.T) {
	c := NewCalibration(true)
	c.Observe(3, []float32{1, -2, float32(math.NaN()), 5, float32(math.Inf(1)), 0}, 2)
	c.Observe(3, []float32{4, 4}, 2)
	c.EndFrame()
	if lo, hi, ok := c.MinMax(3); !ok || lo != -2 || hi != 5 {
		t.Errorf("min/max %v %v %v, want -2 5", lo, hi, ok)
	}
	if _, _, ok := c.MinMax(4); ok {
		t.Error("unobserved tensor has a range")
	}
	// Channel means: channel 0 sees 1, NaN, +Inf, 4; channel 1 sees -2, 5, 0, 4.
	if mu := c.ChannelMeans(3); len(mu) != 2 || mu[1] != 7.0/4 {
		t.Errorf("channel means %v, want [_, 1.75]", mu)
	}
	// Row tops: 1, 5 (NaN left out), 0 (+Inf left out), 4.
	if top, ok := c.SmallestRowMax(3); !ok || top != 0 {
		t.Errorf("smallest row max %v %v, want 0", top, ok)
	}
	if _, ok := c.SmallestRowMax(4); ok {
		t.Error("unobserved tensor has a row max")
	}
	if lo, hi, err := c.Range(3, Percentile, 100); err != nil || lo != -2 || hi != 5 {
		t.Errorf("100th percentile range %v %v %v", lo, hi, err)
	}
	if _, _, err := c.Range(9, MinMax, 0); err == nil {
		t.Error("range of an unobserved tensor: no error")
	}
	if got := c.Tensors(); !slices.Equal(got, []int{3}) || c.Frames() != 1 {
		t.Errorf("tensors %v frames %d", got, c.Frames())
	}
	for _, s := range []string{"minmax", "percentile"} {
		if m, err := ParseMethod(s); err != nil || m.String() != s {
			t.Errorf("ParseMethod(%q) = %v, %v", s, m, err)
		}
	}
	for _, s := range []string{"float", "int8", "uint8"} {
		if _, err := ParseIO(s); err != nil {
			t.Errorf("ParseIO(%q): %v", s, err)
		}
	}
	if _, err := ParseIO("int16"); err == nil {
		t.Error("ParseIO(int16): no error")
	}
}
