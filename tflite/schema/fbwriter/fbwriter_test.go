package fbwriter_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	fixturedir "github.com/edgeproject/edge/camera/fixtures"
	"image"
	_ "image/png"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/edgeproject/edge/tflite"
	"github.com/edgeproject/edge/tflite/schema"
	"github.com/edgeproject/edge/tflite/schema/fbwriter"
)

func fixtures(t testing.TB) string { return fixturedir.Dir(t) }

func f32bytes(v ...float32) []byte {
	var b []byte
	for _, x := range v {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(x))
	}
	return b
}

// addModel computes y = relu(x + c) on four floats.
func addModel() *fbwriter.Model {
	b := fbwriter.NewBuilder("fbwriter test: relu(x + c)")
	shape := []int32{1, 4}
	x := b.Tensor(fbwriter.Tensor{Name: "x", Type: schema.TypeFloat32, Shape: shape})
	c := b.Const(fbwriter.Tensor{Name: "c", Type: schema.TypeFloat32, Shape: shape}, f32bytes(1, -2, 3, -4))
	y := b.Tensor(fbwriter.Tensor{Name: "y", Type: schema.TypeFloat32, Shape: shape})
	b.Op(schema.OpAdd, 1, []int32{x, c}, []int32{y}, &fbwriter.AddOptions{Activation: fbwriter.Relu})
	b.SetIO([]int32{x}, []int32{y})
	b.Metadata("min_runtime_version", []byte("1.5.0\x00\x00\x00"))
	return b.Model()
}

func TestRoundTripThroughSchema(t *testing.T) {
	data, err := addModel().Bytes()
	if err != nil {
		t.Fatal(err)
	}
	m, err := schema.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	if m.Description != "fbwriter test: relu(x + c)" || m.MinRuntimeVersion() != "1.5.0" {
		t.Errorf("description %q, min runtime %q", m.Description, m.MinRuntimeVersion())
	}
	sg := m.Subgraphs[0]
	if len(sg.Tensors) != 3 || !reflect.DeepEqual(sg.Inputs, []int32{0}) || !reflect.DeepEqual(sg.Outputs, []int32{2}) {
		t.Fatalf("subgraph %+v", sg)
	}
	if got := m.BufferData(sg.Tensors[1].Buffer); !bytes.Equal(got, f32bytes(1, -2, 3, -4)) {
		t.Errorf("constant data %v", got)
	}
	op := sg.Operators[0]
	code, _ := m.Op(op)
	if code.Builtin != schema.OpAdd || code.Version != 1 || op.BuiltinOptionsType != 11 || op.BuiltinOptions.Int8(0, -1) != 1 {
		t.Errorf("operator %+v code %+v", op, code)
	}
	// Buffer data is 16-byte aligned, as TFLite's converter lays it out.
	if off := bytes.Index(data, f32bytes(1, -2, 3, -4)); off%16 != 0 {
		t.Errorf("buffer data at offset %d, want 16-byte alignment", off)
	}
}

func TestTFLiteRunsWrittenModel(t *testing.T) {
	needTFLite(t)
	path := filepath.Join(t.TempDir(), "add.tflite")
	if err := addModel().WriteFile(path); err != nil {
		t.Fatal(err)
	}
	it, err := tflite.Open(path, tflite.Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer it.Close()
	if err := it.SetInput(0, f32bytes(1, 1, 1, 1)); err != nil {
		t.Fatal(err)
	}
	if err := it.Invoke(); err != nil {
		t.Fatal(err)
	}
	out, _ := it.OutputBytes(0)
	if !bytes.Equal(out, f32bytes(2, 0, 4, 0)) {
		t.Errorf("relu(x + c) = %v, want [2 0 4 0]", out)
	}
}

func i64bytes(v ...int64) []byte {
	var b []byte
	for _, x := range v {
		b = binary.LittleEndian.AppendUint64(b, uint64(x))
	}
	return b
}

// TestIdenticalVectorsShared: two filters with the same per-channel
// quantization (separate but equal Go slices) refer to one scale vector
// and one zero-point vector in the file, a third with other scales gets
// its own, the shared shape is written once too, and reading the file back
// gives every tensor its own values.
func TestIdenticalVectorsShared(t *testing.T) {
	scales := func() []float32 { return []float32{0.0123, 0.0456, 0.0789} }
	other := []float32{0.0123, 0.0456, 0.0788}
	zps := func() []int64 { return []int64{3, -7, 11} }
	shape := func() []int32 { return []int32{3, 1, 1, 7001} }
	weights := make([]byte, 3*7001)
	for i := range weights {
		weights[i] = byte(i%251 + 1)
	}
	b := fbwriter.NewBuilder("shared quantization")
	var ids []int32
	for i, s := range [][]float32{scales(), scales(), other} {
		q := &fbwriter.Quantization{Scale: s, ZeroPoint: zps(), QuantizedDimension: 0}
		ids = append(ids, b.Const(fbwriter.Tensor{Name: fmt.Sprintf("w%d", i), Type: schema.TypeInt8, Shape: shape(), Quantization: q}, weights))
	}
	b.SetIO(nil, nil)
	data, err := b.Model().Bytes()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		what string
		b    []byte
		want int
	}{
		{"shared scales", f32bytes(scales()...), 1},
		{"other scales", f32bytes(other...), 1},
		{"zero points", i64bytes(zps()...), 1},
	} {
		if n := bytes.Count(data, c.b); n != c.want {
			t.Errorf("%s occur %d times in the file, want %d", c.what, n, c.want)
		}
	}
	shapeBytes := binary.LittleEndian.AppendUint32(nil, 4)
	for _, d := range shape() {
		shapeBytes = binary.LittleEndian.AppendUint32(shapeBytes, uint32(d))
	}
	if n := bytes.Count(data, shapeBytes); n != 1 {
		t.Errorf("the shape occurs %d times in the file, want 1", n)
	}
	// int64 elements stay 8-byte aligned, buffer data 16-byte aligned.
	if off := bytes.Index(data, i64bytes(zps()...)); off%8 != 0 {
		t.Errorf("zero points at offset %d, want 8-byte alignment", off)
	}
	if off := bytes.Index(data, weights); off%16 != 0 {
		t.Errorf("buffer data at offset %d, want 16-byte alignment", off)
	}
	m, err := schema.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	for i, id := range ids {
		tn := m.Subgraphs[0].Tensors[id]
		want := scales()
		if i == 2 {
			want = other
		}
		if q := tn.Quantization; q == nil || !reflect.DeepEqual(q.Scale, want) || !reflect.DeepEqual(q.ZeroPoint, zps()) || !reflect.DeepEqual(tn.Shape, shape()) || tn.Name != fmt.Sprintf("w%d", i) {
			t.Errorf("tensor %d read back as %+v, quantization %+v", i, tn, tn.Quantization)
		}
	}
}

// TestTFLiteRunsSharedQuantization: an int8 ADD whose two inputs and output
// share one quantization (so one scale and one zero-point vector in the
// file), dequantized to float, runs in TFLite with the exact sums.
func TestTFLiteRunsSharedQuantization(t *testing.T) {
	needTFLite(t)
	q := func() *fbwriter.Quantization {
		return &fbwriter.Quantization{Scale: []float32{0.5}, ZeroPoint: []int64{-3}}
	}
	b := fbwriter.NewBuilder("int8 add, shared quantization")
	shape := []int32{1, 3}
	x := b.Tensor(fbwriter.Tensor{Name: "x", Type: schema.TypeInt8, Shape: shape, Quantization: q()})
	c := b.Const(fbwriter.Tensor{Name: "c", Type: schema.TypeInt8, Shape: shape, Quantization: q()}, []byte{0xfd, 1, 5}) // 0, 2, 4
	s := b.Tensor(fbwriter.Tensor{Name: "s", Type: schema.TypeInt8, Shape: shape, Quantization: q()})
	y := b.Tensor(fbwriter.Tensor{Name: "y", Type: schema.TypeFloat32, Shape: shape})
	b.Op(schema.OpAdd, 2, []int32{x, c}, []int32{s}, &fbwriter.AddOptions{})
	b.Op(schema.OpDequantize, 2, []int32{s}, []int32{y}, nil)
	b.SetIO([]int32{x}, []int32{y})
	data, err := b.Model().Bytes()
	if err != nil {
		t.Fatal(err)
	}
	if n := bytes.Count(data, i64bytes(-3)); n != 1 {
		t.Errorf("zero point written %d times, want once", n)
	}
	path := filepath.Join(t.TempDir(), "add_int8.tflite")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	it, err := tflite.Open(path, tflite.Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer it.Close()
	if err := it.SetInput(0, []byte{1, 2, 3}); err != nil { // 2, 2.5, 3
		t.Fatal(err)
	}
	if err := it.Invoke(); err != nil {
		t.Fatal(err)
	}
	out, _ := it.OutputBytes(0)
	if !bytes.Equal(out, f32bytes(2, 4.5, 7)) {
		t.Errorf("x + c = %v, want the bytes of [2 4.5 7]", out)
	}
}

func TestCheckRejectsBadIndexes(t *testing.T) {
	for name, mutate := range map[string]func(m *fbwriter.Model){
		"no subgraph":     func(m *fbwriter.Model) { m.Subgraphs = nil },
		"opcode index":    func(m *fbwriter.Model) { m.Subgraphs[0].Operators[0].OpcodeIndex = 9 },
		"operator input":  func(m *fbwriter.Model) { m.Subgraphs[0].Operators[0].Inputs[0] = 7 },
		"graph output":    func(m *fbwriter.Model) { m.Subgraphs[0].Outputs = []int32{-1} },
		"tensor buffer":   func(m *fbwriter.Model) { m.Subgraphs[0].Tensors[1].Buffer = 99 },
		"wrong options":   func(m *fbwriter.Model) { m.Subgraphs[0].Operators[0].Options = &fbwriter.Conv2DOptions{} },
		"custom name":     func(m *fbwriter.Model) { m.OperatorCodes[0].Custom = "mine" },
		"metadata buffer": func(m *fbwriter.Model) { m.Metadata[0].Buffer = 42 },
		"no buffers":      func(m *fbwriter.Model) { m.Buffers = nil; m.Metadata = nil; m.Subgraphs[0].Tensors[1].Buffer = 0 },
	} {
		m := addModel()
		mutate(m)
		if _, err := m.Bytes(); !errors.Is(err, fbwriter.ErrInvalid) {
			t.Errorf("%s: err = %v, want ErrInvalid", name, err)
		}
	}
}

// copyModel re-encodes a parsed model with the writer. It handles the
// options of the operators MobileNet V1 uses.
func copyModel(t *testing.T, m *schema.Model) *fbwriter.Model {
	t.Helper()
	out := &fbwriter.Model{Description: m.Description}
	for _, c := range m.OperatorCodes {
		out.OperatorCodes = append(out.OperatorCodes, fbwriter.OperatorCode{Builtin: c.Builtin, Custom: c.Custom, Version: c.Version})
	}
	for i := range m.Buffers {
		out.Buffers = append(out.Buffers, fbwriter.Buffer{Data: m.BufferData(uint32(i))})
	}
	for _, md := range m.Metadata {
		out.Metadata = append(out.Metadata, fbwriter.Metadata{Name: md.Name, Buffer: md.Buffer})
	}
	for _, sg := range m.Subgraphs {
		s := fbwriter.Subgraph{Name: sg.Name, Inputs: sg.Inputs, Outputs: sg.Outputs}
		for _, tn := range sg.Tensors {
			ft := fbwriter.Tensor{Name: tn.Name, Shape: tn.Shape, Type: tn.Type, Buffer: tn.Buffer, IsVariable: tn.IsVariable}
			if q := tn.Quantization; q != nil {
				ft.Quantization = &fbwriter.Quantization{Min: q.Min, Max: q.Max, Scale: q.Scale, ZeroPoint: q.ZeroPoint, QuantizedDimension: q.QuantizedDimension}
			}
			s.Tensors = append(s.Tensors, ft)
		}
		for oi, op := range sg.Operators {
			o := op.BuiltinOptions
			var opts fbwriter.Options
			switch op.BuiltinOptionsType {
			case 0:
			case 1:
				opts = &fbwriter.Conv2DOptions{Padding: fbwriter.Padding(o.Int8(0, 0)), StrideW: o.Int32(1, 0), StrideH: o.Int32(2, 0),
					Activation: fbwriter.Activation(o.Int8(3, 0)), DilationW: o.Int32(4, 1), DilationH: o.Int32(5, 1)}
			case 2:
				opts = &fbwriter.DepthwiseConv2DOptions{Padding: fbwriter.Padding(o.Int8(0, 0)), StrideW: o.Int32(1, 0), StrideH: o.Int32(2, 0),
					DepthMultiplier: o.Int32(3, 0), Activation: fbwriter.Activation(o.Int8(4, 0)), DilationW: o.Int32(5, 1), DilationH: o.Int32(6, 1)}
			case 5:
				opts = &fbwriter.Pool2DOptions{Padding: fbwriter.Padding(o.Int8(0, 0)), StrideW: o.Int32(1, 0), StrideH: o.Int32(2, 0),
					FilterWidth: o.Int32(3, 0), FilterHeight: o.Int32(4, 0), Activation: fbwriter.Activation(o.Int8(5, 0))}
			case 9:
				opts = &fbwriter.SoftmaxOptions{Beta: o.Float32(0, 1)}
			case 17:
				opts = &fbwriter.ReshapeOptions{NewShape: o.Int32Vector(0)}
			default:
				t.Fatalf("operator %d: options type %d not handled by this test", oi, op.BuiltinOptionsType)
			}
			s.Operators = append(s.Operators, fbwriter.Operator{OpcodeIndex: op.OpcodeIndex, Inputs: op.Inputs, Outputs: op.Outputs, Options: opts, CustomOptions: op.CustomOptions})
		}
		out.Subgraphs = append(out.Subgraphs, s)
	}
	return out
}

// TestRewrittenFixtureClassifiesIdentically re-encodes a real MobileNet with
// the writer and checks that TFLite computes exactly the same output.
func TestRewrittenFixtureClassifiesIdentically(t *testing.T) {
	needTFLite(t)
	dir := fixtures(t)
	orig := filepath.Join(dir, "models/classification/mobilenet_v1_0.25_128_quant.tflite")
	m, err := schema.ReadFile(orig)
	if err != nil {
		t.Fatal(err)
	}
	copyPath := filepath.Join(t.TempDir(), "copy.tflite")
	if err := copyModel(t, m).WriteFile(copyPath); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(filepath.Join(dir, "images/bird.png"))
	if err != nil {
		t.Fatal(err)
	}
	img, _, err := image.Decode(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	run := func(path string) []byte {
		it, err := tflite.Open(path, tflite.Options{Threads: 1})
		if err != nil {
			t.Fatal(err)
		}
		defer it.Close()
		if _, err := it.SetImage(img); err != nil {
			t.Fatal(err)
		}
		if err := it.Invoke(); err != nil {
			t.Fatal(err)
		}
		out, _ := it.OutputBytes(0)
		return bytes.Clone(out)
	}
	a, b := run(orig), run(copyPath)
	if !bytes.Equal(a, b) {
		t.Errorf("outputs differ between the fixture and its re-encoded copy")
	}
	top := 0
	for i := range b {
		if b[i] > b[top] {
			top = i
		}
	}
	if top != 20 { // chickadee in the 1001-class space
		t.Errorf("re-encoded model's top class is %d, want 20 (chickadee)", top)
	}
}

func Example() {
	b := fbwriter.NewBuilder("relu(x + c)")
	x := b.Tensor(fbwriter.Tensor{Name: "x", Type: schema.TypeFloat32, Shape: []int32{1, 2}})
	c := b.Const(fbwriter.Tensor{Name: "c", Type: schema.TypeFloat32, Shape: []int32{1, 2}}, f32bytes(1, -5))
	y := b.Tensor(fbwriter.Tensor{Name: "y", Type: schema.TypeFloat32, Shape: []int32{1, 2}})
	b.Op(schema.OpAdd, 1, []int32{x, c}, []int32{y}, &fbwriter.AddOptions{Activation: fbwriter.Relu})
	b.SetIO([]int32{x}, []int32{y})
	data, err := b.Model().Bytes()
	if err != nil {
		fmt.Println(err)
		return
	}
	m, err := schema.Parse(data)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Print(m.Summary())
	// Output:
	// TFLite schema v3: 1 subgraph(s), 1 operators, 3 tensors, 2 buffers, 404 bytes
	// description: relu(x + c)
	// subgraph 0 "main": 1 operators, 3 tensors
	//   input 0: float32[1,2] x
	//   output 0: float32[1,2] y
	// ops: ADD×1
}

// needTFLite skips a test that runs models on the TFLite C library in a
// build without it (CGO_ENABLED=0 or the tag nolibtflite, as on armhf).
func needTFLite(t *testing.T) {
	t.Helper()
	if _, ok := tflite.CLibrary(); !ok {
		t.Skip("needs the TFLite C library, which this build leaves out (CGO_ENABLED=0 or tag nolibtflite)")
	}
}
