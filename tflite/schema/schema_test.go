package schema_test

import (
	"archive/zip"
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	fixturedir "github.com/edgeproject/edge/camera/fixtures"
	"github.com/edgeproject/edge/tflite/schema"
)

func fixtures(t testing.TB) string { return fixturedir.Dir(t) }

func readFixture(t testing.TB, rel string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(fixtures(t), rel))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func mustParse(t testing.TB, data []byte) *schema.Model {
	t.Helper()
	m, err := schema.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// tensorSpec is one tensor of MANIFEST.tsv's input column, e.g.
// "uint8[1,128,128,3] input (s=0.0078125 zp=128)".
type tensorSpec struct {
	typ    string
	shape  []int32
	name   string
	quant  bool
	scale  float64
	zp     int64
	source string
}

var specRE = regexp.MustCompile(`^([a-z0-9]+)(?:\[([-0-9,]*)\])? (.+?)(?: \(s=(\S+) zp=(-?\d+)\))?$`)

func parseSpecs(t *testing.T, list string) []tensorSpec {
	t.Helper()
	var out []tensorSpec
	for _, s := range strings.Split(list, ";") {
		s = strings.TrimSpace(s)
		m := specRE.FindStringSubmatch(s)
		if m == nil {
			t.Fatalf("MANIFEST: cannot parse tensor %q", s)
		}
		sp := tensorSpec{typ: m[1], name: m[3], source: s}
		if m[2] != "" {
			for _, d := range strings.Split(m[2], ",") {
				n, err := strconv.Atoi(d)
				if err != nil {
					t.Fatalf("MANIFEST: bad shape in %q", s)
				}
				sp.shape = append(sp.shape, int32(n))
			}
		}
		if m[4] != "" {
			sp.quant = true
			var err1, err2 error
			sp.scale, err1 = strconv.ParseFloat(m[4], 64)
			sp.zp, err2 = strconv.ParseInt(m[5], 10, 64)
			if err1 != nil || err2 != nil {
				t.Fatalf("MANIFEST: bad quantization in %q", s)
			}
		}
		out = append(out, sp)
	}
	return out
}

type manifestModel struct {
	file       string
	size       int
	inputs     []tensorSpec
	outputs    []tensorSpec
	customOps  []string
	inputField string
}

// readManifest returns the .tflite rows of MANIFEST.tsv.
func readManifest(t *testing.T) []manifestModel {
	t.Helper()
	f, err := os.Open(filepath.Join(fixtures(t), "MANIFEST.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	var col map[string]int
	var models []manifestModel
	for sc.Scan() {
		fields := strings.Split(sc.Text(), "\t")
		if col == nil {
			col = map[string]int{}
			for i, h := range fields {
				col[h] = i
			}
			for _, h := range []string{"file", "bytes", "input"} {
				if _, ok := col[h]; !ok {
					t.Fatalf("MANIFEST.tsv has no %q column", h)
				}
			}
			continue
		}
		if len(fields) <= col["input"] || !strings.HasSuffix(fields[col["file"]], ".tflite") {
			continue
		}
		mm := manifestModel{file: fields[col["file"]], inputField: fields[col["input"]]}
		mm.size, _ = strconv.Atoi(fields[col["bytes"]])
		for _, part := range strings.Split(mm.inputField, " | ") {
			switch {
			case strings.HasPrefix(part, "in: "):
				mm.inputs = parseSpecs(t, strings.TrimPrefix(part, "in: "))
			case strings.HasPrefix(part, "out: "):
				mm.outputs = parseSpecs(t, strings.TrimPrefix(part, "out: "))
			case strings.HasPrefix(part, "custom ops: "):
				for _, c := range strings.Split(strings.TrimPrefix(part, "custom ops: "), ",") {
					mm.customOps = append(mm.customOps, strings.TrimSpace(c))
				}
			default:
				t.Fatalf("MANIFEST %s: unknown input part %q", mm.file, part)
			}
		}
		models = append(models, mm)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(models) == 0 {
		t.Fatal("MANIFEST.tsv lists no .tflite models")
	}
	return models
}

func checkTensor(t *testing.T, kind string, i int, sg *schema.Subgraph, idx int32, want tensorSpec) {
	t.Helper()
	tn := &sg.Tensors[idx]
	where := fmt.Sprintf("%s %d (%s)", kind, i, want.source)
	if got := tn.Type.String(); got != want.typ {
		t.Errorf("%s: type %s, want %s", where, got, want.typ)
	}
	if !slices.Equal(tn.Shape, want.shape) && !(len(tn.Shape) == 0 && len(want.shape) == 0) {
		t.Errorf("%s: shape %v, want %v", where, tn.Shape, want.shape)
	}
	if tn.Name != want.name {
		t.Errorf("%s: name %q, want %q", where, tn.Name, want.name)
	}
	q := tn.Quantization
	if !want.quant {
		if q != nil && len(q.Scale) > 0 {
			t.Errorf("%s: has quantization scale %v, want none", where, q.Scale)
		}
		return
	}
	if q == nil || len(q.Scale) != 1 || len(q.ZeroPoint) != 1 {
		t.Fatalf("%s: quantization %+v, want one scale and zero point", where, q)
	}
	if d := math.Abs(float64(q.Scale[0])-want.scale) / want.scale; d > 1e-5 {
		t.Errorf("%s: scale %g, want %g", where, q.Scale[0], want.scale)
	}
	if q.ZeroPoint[0] != want.zp {
		t.Errorf("%s: zero point %d, want %d", where, q.ZeroPoint[0], want.zp)
	}
}

// TestManifest checks every model of MANIFEST.tsv against its input column:
// type, shape, name, scale and zero point of each input and output, and the
// custom ops.
func TestManifest(t *testing.T) {
	dir := fixtures(t)
	for _, mm := range readManifest(t) {
		t.Run(filepath.Base(mm.file), func(t *testing.T) {
			path := filepath.Join(dir, mm.file)
			m, err := schema.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if fi, err := os.Stat(path); err == nil && mm.size > 0 && fi.Size() != int64(mm.size) {
				t.Errorf("file has %d bytes, MANIFEST says %d", fi.Size(), mm.size)
			}
			sg := &m.Subgraphs[0]
			if len(sg.Inputs) != len(mm.inputs) || len(sg.Outputs) != len(mm.outputs) {
				t.Fatalf("%d inputs, %d outputs; want %d, %d", len(sg.Inputs), len(sg.Outputs), len(mm.inputs), len(mm.outputs))
			}
			for i, want := range mm.inputs {
				checkTensor(t, "input", i, sg, sg.Inputs[i], want)
			}
			for i, want := range mm.outputs {
				checkTensor(t, "output", i, sg, sg.Outputs[i], want)
			}
			if got := m.CustomOps(); !slices.Equal(got, mm.customOps) && !(len(got) == 0 && len(mm.customOps) == 0) {
				t.Errorf("CustomOps() = %q, want %q", got, mm.customOps)
			}
			// Tensor.String uses the MANIFEST's own notation.
			var parts []string
			for _, l := range [][]int32{sg.Inputs, sg.Outputs} {
				var s []string
				for _, ti := range l {
					s = append(s, sg.Tensors[ti].String())
				}
				parts = append(parts, strings.Join(s, " ; "))
			}
			got := "in: " + parts[0] + " | out: " + parts[1]
			if c := m.CustomOps(); len(c) > 0 {
				got += " | custom ops: " + strings.Join(c, ", ")
			}
			if got != mm.inputField {
				t.Errorf("tensor strings:\n got %s\nwant %s", got, mm.inputField)
			}
			checkConsistent(t, m)
		})
	}
}

// checkConsistent checks invariants that hold for any well-formed model:
// constant tensors have exactly the data their shape and type call for.
func checkConsistent(t *testing.T, m *schema.Model) {
	t.Helper()
	for si, sg := range m.Subgraphs {
		for ti := range sg.Tensors {
			tn := &sg.Tensors[ti]
			data := m.BufferData(tn.Buffer)
			if data == nil || tn.Type.Size() == 0 {
				continue
			}
			if want := tn.NumElements() * int64(tn.Type.Size()); int64(len(data)) != want {
				t.Errorf("subgraph %d tensor %d %s: %d bytes of data, want %d", si, ti, tn, len(data), want)
			}
		}
	}
}

func modelFiles(t *testing.T, pattern string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(fixtures(t), "models", "*", pattern))
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixture matches %s", pattern)
	}
	return files
}

func TestModelContents(t *testing.T) {
	tests := []struct {
		pattern  string // glob under models/*/
		ops      []string
		custom   []string
		metadata []string
		check    func(t *testing.T, m *schema.Model)
	}{
		{
			pattern:  "mobilenet_v1_0.25_128_quant.tflite",
			ops:      []string{"CONV_2D", "DEPTHWISE_CONV_2D", "AVERAGE_POOL_2D", "RESHAPE", "SOFTMAX"},
			metadata: []string{"TFLITE_METADATA", "min_runtime_version"},
			check:    checkMobilenetV1Options,
		},
		{pattern: "*_edgetpu.tflite", ops: []string{"edgetpu-custom-op"}, custom: []string{"edgetpu-custom-op"}, metadata: []string{"TFLITE_METADATA"}},
		{
			pattern: "coco_ssd_mobilenet_v1_1.0_quant_detect.tflite",
			ops:     []string{"CONV_2D", "DEPTHWISE_CONV_2D", "LOGISTIC", "CONCATENATION", "TFLite_Detection_PostProcess"},
			custom:  []string{"TFLite_Detection_PostProcess"},
			check: func(t *testing.T, m *schema.Model) {
				for _, op := range m.Subgraphs[0].Operators {
					if c, _ := m.Op(op); c.Name() == "TFLite_Detection_PostProcess" {
						if len(op.CustomOptions) == 0 {
							t.Error("TFLite_Detection_PostProcess has no custom options")
						}
						if !bytes.Contains(op.CustomOptions, []byte("max_detections")) {
							t.Error("custom options do not mention max_detections")
						}
						return
					}
				}
				t.Error("no TFLite_Detection_PostProcess operator")
			},
		},
		{pattern: "mobilenet_v3_small_1.0_224_uint8.tflite", ops: []string{"HARD_SWISH", "MUL", "AVERAGE_POOL_2D"}, metadata: []string{"min_runtime_version"}},
		{pattern: "person_detect_mobilenet_v1_0.25_96_int8.tflite", ops: []string{"CONV_2D", "DEPTHWISE_CONV_2D"}, check: checkPerChannel},
		{pattern: "vww_96_int8.tflite", ops: []string{"CONV_2D", "FULLY_CONNECTED"}, check: checkPerChannel},
		{pattern: "tf2_mobilenet_v2_1.0_224_ptq.tflite", ops: []string{"QUANTIZE", "ADD", "MEAN"}, check: checkPerChannel},
	}
	for _, tc := range tests {
		for _, path := range modelFiles(t, tc.pattern) {
			t.Run(filepath.Base(path), func(t *testing.T) {
				m, err := schema.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				h := m.OpHistogram()
				for _, op := range tc.ops {
					if h[op] == 0 {
						t.Errorf("no %s operator; histogram %v", op, h)
					}
				}
				if got := m.CustomOps(); !slices.Equal(got, tc.custom) && len(got)+len(tc.custom) > 0 {
					t.Errorf("CustomOps() = %q, want %q", got, tc.custom)
				}
				for _, name := range tc.metadata {
					if data, ok := m.MetadataBuffer(name); !ok || len(data) == 0 {
						t.Errorf("MetadataBuffer(%q) = %d bytes, %v", name, len(data), ok)
					}
				}
				if _, ok := m.MetadataBuffer("no such metadata"); ok {
					t.Error("MetadataBuffer found a missing entry")
				}
				if tc.check != nil {
					tc.check(t, m)
				}
				if s := m.Summary(); !strings.Contains(s, "subgraph 0") {
					t.Errorf("Summary() = %q", s)
				}
			})
		}
	}
}

// checkMobilenetV1Options reads builtin options through Table: the first
// convolution of MobileNet V1 has stride 2, SAME padding and RELU6; the
// softmax has beta 1.
func checkMobilenetV1Options(t *testing.T, m *schema.Model) {
	z := m.AssociatedFiles()
	zr, err := zip.NewReader(bytes.NewReader(z), int64(len(z)))
	if err != nil {
		t.Fatalf("AssociatedFiles (%d bytes): %v", len(z), err)
	}
	if len(zr.File) != 1 || zr.File[0].Name != "imagenet_labels.txt" {
		t.Errorf("associated files %v, want imagenet_labels.txt", zr.File)
	} else if rc, err := zr.File[0].Open(); err != nil {
		t.Error(err)
	} else {
		labels, err := io.ReadAll(rc)
		if err != nil || !bytes.HasPrefix(labels, []byte("background\ntench")) {
			t.Errorf("imagenet_labels.txt: %q..., %v", labels[:min(len(labels), 20)], err)
		}
	}
	if v := m.MinRuntimeVersion(); !strings.HasPrefix(v, "1.") {
		t.Errorf("MinRuntimeVersion() = %q", v)
	}
	var conv, softmax *schema.Operator
	for i := range m.Subgraphs[0].Operators {
		op := &m.Subgraphs[0].Operators[i]
		c, err := m.Op(*op)
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case c.Builtin == schema.OpConv2D && conv == nil:
			conv = op
		case c.Builtin == schema.OpSoftmax:
			softmax = op
		}
	}
	if conv == nil || softmax == nil {
		t.Fatal("missing CONV_2D or SOFTMAX")
	}
	o := conv.BuiltinOptions
	if conv.BuiltinOptionsType != 1 || o.IsZero() {
		t.Fatalf("CONV_2D options type %d, zero %v; want Conv2DOptions (1)", conv.BuiltinOptionsType, o.IsZero())
	}
	if pad, sw, sh, act := o.Int8(0, 0), o.Int32(1, 0), o.Int32(2, 0), o.Int8(3, -1); pad != 0 || sw != 2 || sh != 2 || act != 3 {
		t.Errorf("first CONV_2D: padding %d stride %dx%d activation %d; want 0 (SAME), 2x2, 3 (RELU6)", pad, sw, sh, act)
	}
	if d := o.Int32(4, 1); d != 1 {
		t.Errorf("dilation_w_factor = %d, want 1", d)
	}
	if beta := softmax.BuiltinOptions.Float32(0, 0); softmax.BuiltinOptionsType != 9 || beta != 1 {
		t.Errorf("SOFTMAX options type %d beta %g, want 9 (SoftmaxOptions), 1", softmax.BuiltinOptionsType, beta)
	}
	// The weights of the first convolution: uint8, 8 output channels of 3x3x3.
	w := &m.Subgraphs[0].Tensors[conv.Inputs[1]]
	if w.Type != schema.TypeUint8 || !slices.Equal(w.Shape, []int32{8, 3, 3, 3}) || len(m.BufferData(w.Buffer)) != 8*3*3*3 {
		t.Errorf("first CONV_2D weights %s with %d bytes", w, len(m.BufferData(w.Buffer)))
	}
}

// checkPerChannel checks for an int8 convolution whose weights are quantized
// per output channel.
func checkPerChannel(t *testing.T, m *schema.Model) {
	sg := &m.Subgraphs[0]
	for _, op := range sg.Operators {
		c, err := m.Op(op)
		if err != nil {
			t.Fatal(err)
		}
		if c.Builtin != schema.OpConv2D || len(op.Inputs) < 2 {
			continue
		}
		w := &sg.Tensors[op.Inputs[1]]
		q := w.Quantization
		if w.Type != schema.TypeInt8 || q == nil || len(q.Scale) <= 1 {
			continue
		}
		if int(q.QuantizedDimension) >= len(w.Shape) || int(w.Shape[q.QuantizedDimension]) != len(q.Scale) || len(q.ZeroPoint) != len(q.Scale) {
			t.Errorf("weights %s: %d scales, %d zero points on dimension %d", w, len(q.Scale), len(q.ZeroPoint), q.QuantizedDimension)
		}
		if got := int64(len(m.BufferData(w.Buffer))); got != w.NumElements() {
			t.Errorf("weights %s: %d bytes of data, want %d", w, got, w.NumElements())
		}
		return
	}
	t.Error("no CONV_2D with per-channel int8 weights")
}

func TestBuiltModel(t *testing.T) {
	m := mustParse(t, build(tinyModel()))
	if m.Version != 3 || m.Description != "tiny test model" || len(m.Subgraphs) != 1 || len(m.Buffers) != 3 {
		t.Fatalf("model %+v", m)
	}
	wantCodes := []schema.OperatorCode{
		{Builtin: schema.OpConv2D, Version: 1},
		{Builtin: schema.OpGELU, Version: 1},
		{Builtin: schema.OpCustom, Custom: "MyCustomOp", Version: 1},
		{Builtin: schema.OpDepthwiseConv2D, Version: 2},
	}
	if !slices.Equal(m.OperatorCodes, wantCodes) {
		t.Errorf("OperatorCodes = %+v, want %+v", m.OperatorCodes, wantCodes)
	}
	sg := &m.Subgraphs[0]
	if sg.Name != "main" || len(sg.Tensors) != 5 || len(sg.Operators) != 3 {
		t.Fatalf("subgraph %+v", sg)
	}
	conv := sg.Operators[0]
	if !slices.Equal(conv.Inputs, []int32{0, 1, -1}) || !slices.Equal(conv.Outputs, []int32{2}) {
		t.Errorf("conv inputs %v outputs %v", conv.Inputs, conv.Outputs)
	}
	if o := conv.BuiltinOptions; conv.BuiltinOptionsType != 1 || o.Int32(1, 0) != 2 || o.Int8(3, 0) != 1 {
		t.Errorf("conv options type %d stride_w %d activation %d", conv.BuiltinOptionsType, o.Int32(1, 0), o.Int8(3, 0))
	}
	if got := sg.Operators[2].CustomOptions; !bytes.Equal(got, []byte{0xde, 0xad}) {
		t.Errorf("custom options %x", got)
	}
	if !sg.Operators[1].BuiltinOptions.IsZero() || sg.Operators[1].CustomOptions != nil {
		t.Errorf("GELU has options")
	}
	w := sg.Tensors[1]
	if w.Quantization == nil || !slices.Equal(w.Quantization.Scale, []float32{0.1, 0.2}) || !slices.Equal(w.Quantization.ZeroPoint, []int64{0, 0}) {
		t.Errorf("weights quantization %+v", w.Quantization)
	}
	if got := m.BufferData(w.Buffer); !bytes.Equal(got, []byte{10, 236}) {
		t.Errorf("weights data %v", got)
	}
	if got := m.BufferData(0); got != nil {
		t.Errorf("BufferData(0) = %v, want nil", got)
	}
	if got := m.BufferData(99); got != nil {
		t.Errorf("BufferData(99) = %v, want nil", got)
	}
	if got := m.MinRuntimeVersion(); got != "1.14.0" {
		t.Errorf("MinRuntimeVersion() = %q", got)
	}
	wantSig := []schema.SignatureDef{{
		Key:     "serving_default",
		Inputs:  []schema.TensorMap{{Name: "x", TensorIndex: 0}},
		Outputs: []schema.TensorMap{{Name: "y", TensorIndex: 4}},
	}}
	if fmt.Sprint(m.SignatureDefs) != fmt.Sprint(wantSig) {
		t.Errorf("SignatureDefs = %+v, want %+v", m.SignatureDefs, wantSig)
	}
	if h := m.OpHistogram(); len(h) != 3 || h["CONV_2D"] != 1 || h["GELU"] != 1 || h["MyCustomOp"] != 1 {
		t.Errorf("OpHistogram() = %v", h)
	}
	if _, err := m.Op(schema.Operator{OpcodeIndex: 4}); err == nil {
		t.Error("Op with opcode index 4 of 4: no error")
	}
	checkConsistent(t, m)
}

// TestOperatorCode checks how deprecated_builtin_code and builtin_code combine.
func TestOperatorCode(t *testing.T) {
	tests := []struct {
		name   string
		code   T
		want   schema.BuiltinOp
		wantNm string
	}{
		{"deprecated only", T{0: int8(4)}, schema.OpDepthwiseConv2D, "DEPTHWISE_CONV_2D"},
		{"both equal", T{0: int8(3), 3: int32(3)}, schema.OpConv2D, "CONV_2D"},
		{"extended", T{0: int8(127), 3: int32(150)}, schema.OpGELU, "GELU"},
		{"builtin only", T{3: int32(117)}, schema.OpHardSwish, "HARD_SWISH"},
		{"custom", T{0: int8(32), 1: "edgetpu-custom-op"}, schema.OpCustom, "edgetpu-custom-op"},
		{"custom without name", T{0: int8(32)}, schema.OpCustom, "CUSTOM"},
		{"unknown", T{3: int32(999)}, 999, "BUILTIN_999"},
		{"absent", T{}, schema.OpAdd, "ADD"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			mt := tinyModel()
			mt[1] = []T{tc.code}
			mt[2].([]T)[0][3] = []T{}
			m := mustParse(t, build(mt))
			c := m.OperatorCodes[0]
			if c.Builtin != tc.want || c.Name() != tc.wantNm || c.Version != 1 {
				t.Errorf("got %+v (name %q), want %v (%q) version 1", c, c.Name(), tc.want, tc.wantNm)
			}
		})
	}
}

func TestBuiltinOpString(t *testing.T) {
	tests := []struct {
		op   schema.BuiltinOp
		want string
	}{
		{0, "ADD"}, {3, "CONV_2D"}, {4, "DEPTHWISE_CONV_2D"}, {5, "DEPTH_TO_SPACE"},
		{32, "CUSTOM"}, {114, "QUANTIZE"}, {115, "MATRIX_SET_DIAG"}, {116, "ROUND"},
		{117, "HARD_SWISH"}, {124, "DENSIFY"}, {126, "BATCH_MATMUL"}, {150, "GELU"},
		{161, "RIGHT_SHIFT"}, {205, "REDUCE_WINDOW"}, {225, "TEMP_STREAMING_CONV_2D"},
		{206, "BUILTIN_206"}, {-1, "BUILTIN_-1"}, {1 << 30, "BUILTIN_1073741824"},
	}
	for _, tc := range tests {
		if got := tc.op.String(); got != tc.want {
			t.Errorf("BuiltinOp(%d).String() = %q, want %q", int32(tc.op), got, tc.want)
		}
	}
	seen := map[string]schema.BuiltinOp{}
	for op := schema.BuiltinOp(0); op <= 205; op++ {
		s := op.String()
		if prev, dup := seen[s]; dup || strings.HasPrefix(s, "BUILTIN_") {
			t.Errorf("code %d: name %q (also code %d)", op, s, prev)
		}
		seen[s] = op
	}
}

func TestTensorType(t *testing.T) {
	tests := []struct {
		typ  schema.TensorType
		name string
		size int
	}{
		{schema.TypeFloat32, "float32", 4}, {schema.TypeFloat16, "float16", 2},
		{schema.TypeInt32, "int32", 4}, {schema.TypeUint8, "uint8", 1},
		{schema.TypeInt64, "int64", 8}, {schema.TypeString, "string", 0},
		{schema.TypeBool, "bool", 1}, {schema.TypeInt16, "int16", 2},
		{schema.TypeComplex64, "complex64", 8}, {schema.TypeInt8, "int8", 1},
		{schema.TypeFloat64, "float64", 8}, {schema.TypeComplex128, "complex128", 16},
		{schema.TypeUint64, "uint64", 8}, {schema.TypeResource, "resource", 0},
		{schema.TypeVariant, "variant", 0}, {schema.TypeUint32, "uint32", 4},
		{schema.TypeUint16, "uint16", 2}, {schema.TypeInt4, "int4", 0},
		{18, "TensorType(18)", 0}, {-3, "TensorType(-3)", 0},
	}
	for i, tc := range tests {
		if i < 18 && int(tc.typ) != i {
			t.Errorf("%s = %d, want %d", tc.name, tc.typ, i)
		}
		if got := tc.typ.String(); got != tc.name {
			t.Errorf("TensorType(%d).String() = %q, want %q", int8(tc.typ), got, tc.name)
		}
		if got := tc.typ.Size(); got != tc.size {
			t.Errorf("%s.Size() = %d, want %d", tc.name, got, tc.size)
		}
	}
}

func TestTable(t *testing.T) {
	data := build(T{
		0: uint32(3),
		1: []T{{}},
		2: []T{{3: []T{{
			4: T{ // builtin_options: a table with one field of every kind
				0: true, 1: int8(-5), 2: uint8(250), 3: int16(-300), 4: uint16(60000),
				5: int32(-70000), 6: uint32(4000000000), 7: int64(-1 << 40), 8: uint64(1 << 63),
				9: float32(1.5), 10: "hello", 11: []byte{1, 2, 3}, 12: []int32{-1, 2},
				13: []int64{-1 << 40}, 14: []float32{0.5, -2}, 15: T{0: int32(42)},
				16: []T{{0: int32(1)}, {0: int32(2)}},
			},
		}}}},
	})
	m := mustParse(t, data)
	o := m.Subgraphs[0].Operators[0].BuiltinOptions
	checks := []struct {
		name      string
		got, want any
	}{
		{"Bool", o.Bool(0, false), true},
		{"Int8", o.Int8(1, 0), int8(-5)},
		{"Uint8", o.Uint8(2, 0), uint8(250)},
		{"Int16", o.Int16(3, 0), int16(-300)},
		{"Uint16", o.Uint16(4, 0), uint16(60000)},
		{"Int32", o.Int32(5, 0), int32(-70000)},
		{"Uint32", o.Uint32(6, 0), uint32(4000000000)},
		{"Int64", o.Int64(7, 0), int64(-1 << 40)},
		{"Uint64", o.Uint64(8, 0), uint64(1 << 63)},
		{"Float32", o.Float32(9, 0), float32(1.5)},
		{"Str", o.Str(10), "hello"},
		{"Bytes", fmt.Sprint(o.Bytes(11)), "[1 2 3]"},
		{"Int32Vector", fmt.Sprint(o.Int32Vector(12)), "[-1 2]"},
		{"Int64Vector", fmt.Sprint(o.Int64Vector(13)), fmt.Sprint([]int64{-1 << 40})},
		{"Float32Vector", fmt.Sprint(o.Float32Vector(14)), "[0.5 -2]"},
		{"Table", o.Table(15).Int32(0, 0), int32(42)},
		{"Tables", len(o.Tables(16)), 2},
		{"Tables[1]", o.Tables(16)[1].Int32(0, 0), int32(2)},
		{"Has present", o.Has(10), true},
		// Absent fields, negative and huge field ids give the default.
		{"absent Int32", o.Int32(17, 7), int32(7)},
		{"absent Bool", o.Bool(99, true), true},
		{"negative field", o.Int32(-1, 9), int32(9)},
		{"huge field", o.Float64(1<<30, 2.5), 2.5},
		{"absent Str", o.Str(40000), ""},
		{"absent vector", o.Int32Vector(17) == nil, true},
		{"absent table", o.Table(17).IsZero(), true},
		{"Has absent", o.Has(17), false},
		// The zero Table.
		{"zero Int32", schema.Table{}.Int32(0, 3), int32(3)},
		{"zero Tables", schema.Table{}.Tables(0) == nil, true},
		{"zero Has", schema.Table{}.Has(0), false},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: got %v, want %v", c.name, c.got, c.want)
		}
	}
}

// TestExternalBuffers checks buffers and custom options stored after the
// flatbuffer (offset/size fields, as written for models over 2 GiB).
func TestExternalBuffers(t *testing.T) {
	tail := []byte("0123456789abcdef")
	mk := func(off uint64) T {
		mt := tinyModel()
		mt[4] = []T{{}, {1: off, 2: uint64(10)}, {0: []byte("1.14.0\x00\x00")}}
		ops := mt[2].([]T)[0][3].([]T)
		ops[2] = T{0: uint32(2), 1: []int32{3}, 2: []int32{4}, 9: off + 10, 10: uint64(6)}
		return mt
	}
	off := uint64(len(build(mk(0))) + 16) // same layout whatever the offset
	data := append(build(mk(off)), make([]byte, 16)...)
	data = append(data, tail...)
	m := mustParse(t, data)
	if got := m.BufferData(1); string(got) != "0123456789" {
		t.Errorf("BufferData(1) = %q", got)
	}
	if got := m.Subgraphs[0].Operators[2].CustomOptions; string(got) != "abcdef" {
		t.Errorf("large custom options = %q", got)
	}
	if b := m.Buffers[1]; b.Offset != off || b.Size != 10 || b.Data != nil {
		t.Errorf("Buffers[1] = %+v", b)
	}
	_, err := schema.Parse(data[:len(data)-3])
	want := fmt.Sprintf("truncated: subgraph 0 operator 2 large custom options (offset %d, size 6) extends past end of file (size %d)", off+10, len(data)-3)
	if err == nil || err.Error() != want {
		t.Errorf("cut tail: %v\nwant %s", err, want)
	}
	_, err = schema.Parse(data[:len(data)-12])
	want = fmt.Sprintf("truncated: buffer 1 data (offset %d, size 10) extends past end of file (size %d)", off, len(data)-12)
	if err == nil || err.Error() != want {
		t.Errorf("cut tail: %v\nwant %s", err, want)
	}
}

// patch32 writes a uoffset at pos so that it points at target.
func patch32(data []byte, pos, target int) {
	binary.LittleEndian.PutUint32(data[pos:], uint32(target-pos))
}

func TestErrors(t *testing.T) {
	png, err := os.ReadFile(filepath.Join(fixturesOrEmpty(), "images", "coffee.png"))
	if err != nil {
		t.Logf("using a PNG header instead of coffee.png: %v", err)
		png = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
	}
	// A model whose tensor 1 points past the end of the file.
	pastEnd, pos := buildFile(func() T {
		mt := tinyModel()
		mt[2].([]T)[0][0] = labeled{Name: "tensors", V: mt[2].([]T)[0][0]}
		return mt
	}())
	patch32(pastEnd, pos["tensors"]+8, len(pastEnd)+100)
	// A model whose 20000 tensors all share one tensor with a 20000-element
	// shape: 400 million elements if decoded naively.
	bomb, bpos := buildFile(T{
		0: uint32(3),
		2: []T{{0: labeled{Name: "tensors", V: make([]T, 20000)}}},
	})
	bomb = append(bomb, make([]byte, 4)...)
	shapeTensor := len(bomb)
	bomb = append(bomb, build(T{0: make([]int32, 20000)})[8:]...) // relocatable: offsets are relative
	shapeTensor += int(binary.LittleEndian.Uint32(build(T{0: make([]int32, 20000)}))) - 8
	for i := 0; i < 20000; i++ {
		patch32(bomb, bpos["tensors"]+4+4*i, shapeTensor)
	}
	badVersion := tinyModel()
	badVersion[0] = uint32(2)
	noSubgraphs := tinyModel()
	delete(noSubgraphs, 2)
	badOpcode := tinyModel()
	badOpcode[2].([]T)[0][3].([]T)[1][0] = uint32(4)
	badInput := tinyModel()
	badInput[2].([]T)[0][3].([]T)[2][1] = []int32{3, 5}
	badBuffer := tinyModel()
	badBuffer[2].([]T)[0][0].([]T)[4][2] = uint32(3)
	badString := build(tinyModel())
	i := bytes.Index(badString, []byte("tiny test model\x00"))
	badString[i+len("tiny test model")] = 'X'

	tests := []struct {
		name string
		data []byte
		kind error
		msg  string // exact message, or prefix if it ends with "..."
	}{
		{"nil", nil, schema.ErrEmpty, "empty file"},
		{"empty", []byte{}, schema.ErrEmpty, "empty file"},
		{"3 bytes", []byte("TFL"), schema.ErrNotTFLite, "not a TFLite model: file is only 3 bytes, too short for a flatbuffer header"},
		{"png", png, schema.ErrNotTFLite, `not a TFLite model: file identifier is "\r\n\x1a\n", want "TFL3"`},
		{"text", []byte("hello, world\nthis is not a model\n"), schema.ErrNotTFLite, `not a TFLite model: file identifier is "o, w", want "TFL3"`},
		{"zip-like", []byte("\x00\x00\x00\x00PK\x03\x04\x14\x00\x00\x00"), schema.ErrNotTFLite, `not a TFLite model: file identifier is "PK\x03\x04", want "TFL3"`},
		{"header only", []byte("\x08\x00\x00\x00TFL3"), schema.ErrTruncated, "truncated: model table points past end of file (offset 8, size 8)"},
		{"root past end", []byte("\xff\xff\x00\x00TFL3\x00\x00\x00\x00"), schema.ErrTruncated, "truncated: model table points past end of file (offset 65535, size 12)"},
		{"vtable before file", []byte("\x08\x00\x00\x00TFL3\x00\x01\x00\x00"), schema.ErrInvalid, "invalid TFLite model: model table has a vtable before the start of the file (table offset 8, vtable offset -248)"},
		{"tensor past end", pastEnd, schema.ErrTruncated, fmt.Sprintf("truncated: subgraph 0 tensor 1 points past end of file (offset %d, size %d)", len(pastEnd)+100, len(pastEnd))},
		{"shared tables", bomb, schema.ErrInvalid, "invalid TFLite model: subgraph 0 tensor ..."},
		{"bad version", build(badVersion), schema.ErrInvalid, "invalid TFLite model: schema version is 2, want 3"},
		{"no subgraphs", build(noSubgraphs), schema.ErrInvalid, "invalid TFLite model: model has no subgraphs"},
		{"bad opcode index", build(badOpcode), schema.ErrInvalid, "invalid TFLite model: subgraph 0 operator 1 opcode index 4 out of range (model has 4 operator codes)"},
		{"bad tensor index", build(badInput), schema.ErrInvalid, "invalid TFLite model: subgraph 0 operator 2 input 1 is tensor 5, out of range (subgraph has 5 tensors)"},
		{"bad buffer index", build(badBuffer), schema.ErrInvalid, "invalid TFLite model: subgraph 0 tensor 4 buffer index 3 out of range (model has 3 buffers)"},
		{"unterminated string", badString, schema.ErrInvalid, "invalid TFLite model: description (string of 15 bytes at offset ..."},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := schema.Parse(tc.data)
			if err == nil {
				t.Fatalf("no error; model %+v", m)
			}
			if !errors.Is(err, tc.kind) {
				t.Errorf("error %q is not %v", err, tc.kind)
			}
			var fe *schema.FormatError
			if !errors.As(err, &fe) {
				t.Errorf("error %T is not a *FormatError", err)
			}
			if p, ok := strings.CutSuffix(tc.msg, "..."); ok {
				if !strings.HasPrefix(err.Error(), p) {
					t.Errorf("error %q\nwant prefix %q", err, p)
				}
			} else if err.Error() != tc.msg {
				t.Errorf("error %q\nwant        %q", err, tc.msg)
			}
		})
	}
}

// TestCutAssociatedFiles cuts a model inside the ZIP archive appended to it:
// the flatbuffer is complete, but the archive is not.
func TestCutAssociatedFiles(t *testing.T) {
	data := readFixture(t, "models/classification/mobilenet_v1_0.25_128_quant.tflite")
	m := mustParse(t, data)
	z := len(m.AssociatedFiles())
	for _, cut := range []int{1, 22, z / 2, z - 4} {
		_, err := schema.Parse(data[:len(data)-cut])
		want := fmt.Sprintf("truncated: associated files (ZIP archive of %d bytes at offset %d) lack the end of central directory record", z-cut, len(data)-z)
		if err == nil || err.Error() != want {
			t.Errorf("cut %d bytes: %v\nwant %s", cut, err, want)
		}
	}
	// Without any of the archive, what is left is a valid model.
	if m, err := schema.Parse(data[:len(data)-z]); err != nil || m.AssociatedFiles() != nil {
		t.Errorf("model without its archive: %v", err)
	}
}

func TestReadFile(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing.tflite")
	if _, err := schema.ReadFile(missing); err == nil || !strings.Contains(err.Error(), missing) || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	bad := filepath.Join(dir, "cut.tflite")
	data := build(tinyModel())
	if err := os.WriteFile(bad, data[:len(data)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := schema.ReadFile(bad)
	if err == nil || !strings.HasPrefix(err.Error(), bad+": truncated: ") || !errors.Is(err, schema.ErrTruncated) {
		t.Errorf("truncated file: %v", err)
	}
	good := filepath.Join(dir, "good.tflite")
	if err := os.WriteFile(good, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := schema.ReadFile(good); err != nil {
		t.Error(err)
	}
}

// parseNoPanic parses data, turning a panic into a test failure that names
// the input.
func parseNoPanic(t *testing.T, what string, data []byte) (m *schema.Model, err error) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Fatalf("%s: Parse panicked: %v", what, r)
		}
	}()
	m, err = schema.Parse(data)
	if m != nil {
		// Exercise the accessors on whatever was accepted.
		_ = m.Summary()
		_ = m.CustomOps()
		for i := range m.Buffers {
			_ = m.BufferData(uint32(i))
		}
		for _, sg := range m.Subgraphs {
			for _, op := range sg.Operators {
				for f := 0; f < 20; f++ {
					_ = op.BuiltinOptions.Int32Vector(f)
					_ = op.BuiltinOptions.Str(f)
					_ = op.BuiltinOptions.Float32(f, 0)
				}
			}
		}
	}
	return m, err
}

// TestTruncated cuts real models (and the built one) at many lengths: every
// cut must be an error.
func TestTruncated(t *testing.T) {
	inputs := map[string][]byte{"built": build(tinyModel())}
	for _, rel := range []string{
		"models/classification/mobilenet_v1_0.25_128_quant.tflite",
		"models/classification/person_detect_mobilenet_v1_0.25_96_int8.tflite",
		"models/classification/mobilenet_v1_0.25_128_quant_edgetpu.tflite",
	} {
		if data := optionalFixture(t, rel); data != nil {
			inputs[filepath.Base(rel)] = data
		}
	}
	for name, data := range inputs {
		t.Run(name, func(t *testing.T) {
			const steps = 200
			kinds := map[error]int{}
			for i := 0; i < steps; i++ {
				n := len(data) * i / steps
				_, err := parseNoPanic(t, fmt.Sprintf("%d bytes", n), data[:n])
				if err == nil {
					t.Fatalf("cut to %d of %d bytes: no error", n, len(data))
				}
				for _, k := range []error{schema.ErrEmpty, schema.ErrNotTFLite, schema.ErrTruncated, schema.ErrInvalid} {
					if errors.Is(err, k) {
						kinds[k]++
					}
				}
				if i%40 == 0 {
					t.Logf("cut to %d: %v", n, err)
				}
			}
			if kinds[schema.ErrTruncated] < steps-3 {
				t.Errorf("only %d of %d cuts reported as truncated: %v", kinds[schema.ErrTruncated], steps, kinds)
			}
			// The small built model: every single length.
			if len(data) < 4096 {
				for n := range len(data) {
					if _, err := parseNoPanic(t, fmt.Sprintf("%d bytes", n), data[:n]); err == nil {
						t.Fatalf("cut to %d of %d bytes: no error", n, len(data))
					}
				}
			}
		})
	}
}

// TestByteFlips corrupts real models at random places: Parse may accept or
// reject them but must not panic.
func TestByteFlips(t *testing.T) {
	inputs := [][]byte{build(tinyModel())}
	for _, rel := range []string{
		"models/classification/person_detect_mobilenet_v1_0.25_96_int8.tflite",
		"models/detection/coco_ssd_mobilenet_v1_1.0_quant_detect.tflite",
	} {
		if data := optionalFixture(t, rel); data != nil {
			inputs = append(inputs, data)
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for n, orig := range inputs {
		m := mustParse(t, orig)
		// Flip bytes outside tensor data, where the structure is.
		isData := make([]bool, len(orig))
		for i := range m.Buffers {
			d := m.Buffers[i].Data
			if len(d) == 0 {
				continue
			}
			off := offsetIn(orig, d)
			for j := off; j < off+len(d); j++ {
				isData[j] = true
			}
		}
		var structural []int
		for i, d := range isData {
			if !d {
				structural = append(structural, i)
			}
		}
		accepted := 0
		data := slices.Clone(orig)
		const rounds = 400
		for r := 0; r < rounds; r++ {
			var flipped []int
			for range 1 + rng.IntN(4) {
				p := structural[rng.IntN(len(structural))]
				if r%4 == 0 {
					p = rng.IntN(len(data)) // anywhere
				}
				data[p] ^= byte(1 + rng.IntN(255))
				flipped = append(flipped, p)
			}
			if _, err := parseNoPanic(t, fmt.Sprintf("input %d round %d (flipped %v)", n, r, flipped), data); err == nil {
				accepted++
			}
			for _, p := range flipped {
				data[p] = orig[p]
			}
		}
		t.Logf("input %d: %d structural bytes of %d; %d of %d corrupted copies accepted", n, len(structural), len(orig), accepted, rounds)
	}
}

// offsetIn returns the position of sub within buf (sub must be a sub-slice).
func offsetIn(buf, sub []byte) int {
	for i := range buf {
		if &buf[i] == &sub[0] {
			return i
		}
	}
	return -1
}

func FuzzParse(f *testing.F) {
	f.Add(build(tinyModel()))
	f.Add([]byte{})
	f.Add([]byte("TFL"))
	f.Add([]byte("\x08\x00\x00\x00TFL3"))
	f.Add([]byte("hello, world\n"))
	f.Add([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"))
	// The start of a small real model: header, model table and the first
	// of its data (the rest is left for the fuzzer to invent).
	if dir := fixturesOrEmpty(); dir != "" {
		if data, err := os.ReadFile(filepath.Join(dir, "models/classification/person_detect_mobilenet_v1_0.25_96_int8.tflite")); err == nil {
			f.Add(data[:4096])
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := schema.Parse(data)
		if err != nil {
			var fe *schema.FormatError
			if !errors.As(err, &fe) || err.Error() == "" {
				t.Fatalf("bad error %T %q", err, err)
			}
			if m != nil {
				t.Fatal("model and error")
			}
			return
		}
		_ = m.Summary()
		_ = m.OpHistogram()
		_ = m.CustomOps()
		_, _ = m.MetadataBuffer("min_runtime_version")
		for i := range m.Buffers {
			_ = m.BufferData(uint32(i))
		}
		for _, sg := range m.Subgraphs {
			for _, op := range sg.Operators {
				if _, err := m.Op(op); err != nil {
					t.Fatalf("accepted model with bad opcode index: %v", err)
				}
				o := op.BuiltinOptions
				for f := 0; f < 12; f++ {
					_ = o.Int32Vector(f)
					_ = o.Int64Vector(f)
					_ = o.Float32Vector(f)
					_ = o.Str(f)
					_ = o.Bytes(f)
					_ = o.Table(f).Int64(0, 0)
					_ = o.Tables(f)
					_ = o.Float64(f, 0)
				}
			}
		}
	})
}

// optionalFixture returns the fixture file rel, or nil (with a log line) if
// the fixtures are missing, for tests that also run without them.
func optionalFixture(t *testing.T, rel string) []byte {
	data, err := os.ReadFile(filepath.Join(fixturesOrEmpty(), rel))
	if err != nil {
		t.Logf("skipping fixture: %v", err)
		return nil
	}
	return data
}

// fixturesOrEmpty is fixtures without testing.TB, for fuzz seeds.
func fixturesOrEmpty() string {
	if dir := os.Getenv("EDGE_FIXTURES"); dir != "" {
		return dir
	}
	for _, dir := range []string{filepath.Join("..", "..", "..", "shared", "fixtures"), "/work/shared/fixtures"} {
		if _, err := os.Stat(dir); err == nil {
			return dir
		}
	}
	return ""
}

// TestTensorFields checks the less common tensor fields: shape signature,
// variable and has_rank flags, custom quantization and sparsity.
func TestTensorFields(t *testing.T) {
	mt := tinyModel()
	tensors := mt[2].([]T)[0][0].([]T)
	tensors[2][5] = true                                                  // is_variable
	tensors[2][7] = []int32{-1, 4, 4, 2}                                  // shape_signature
	tensors[2][8] = true                                                  // has_rank
	tensors[3][4] = T{4: uint8(1), 5: T{0: []byte{7, 8, 9}}, 6: int32(3)} // CustomQuantization
	tensors[1][6] = T{                                                    // sparsity
		0: []int32{0, 1, 2, 3},
		1: []int32{0},
		2: []T{
			{0: int8(0), 1: int32(2)},
			{0: int8(1), 2: uint8(1), 3: T{0: []int32{0, 1}}, 4: uint8(2), 5: T{0: []uint16{0, 65535}}},
			{0: int8(1), 2: uint8(3), 3: T{0: []byte{0, 1, 255}}, 4: uint8(0)},
		},
	}
	m := mustParse(t, build(mt))
	ts := m.Subgraphs[0].Tensors
	if tn := ts[2]; !tn.IsVariable || !tn.HasRank || !slices.Equal(tn.ShapeSignature, []int32{-1, 4, 4, 2}) {
		t.Errorf("tensor 2: %+v", tn)
	}
	if ts[0].IsVariable || ts[0].HasRank || ts[0].ShapeSignature != nil || ts[0].Sparsity != nil {
		t.Errorf("tensor 0: %+v", ts[0])
	}
	if q := ts[3].Quantization; q == nil || !bytes.Equal(q.CustomDetails, []byte{7, 8, 9}) || q.QuantizedDimension != 3 || q.Scale != nil {
		t.Errorf("tensor 3 quantization: %+v", q)
	}
	want := &schema.Sparsity{
		TraversalOrder: []int32{0, 1, 2, 3},
		BlockMap:       []int32{0},
		DimMetadata: []schema.DimensionMetadata{
			{DenseSize: 2},
			{Sparse: true, ArraySegments: []int32{0, 1}, ArrayIndices: []int32{0, 65535}},
			{Sparse: true, ArraySegments: []int32{0, 1, 255}},
		},
	}
	if got := ts[1].Sparsity; fmt.Sprintf("%+v", got) != fmt.Sprintf("%+v", want) {
		t.Errorf("sparsity\n got %+v\nwant %+v", got, want)
	}
	if s := ts[1].String(); s != "int8[2,1,1,1] weights (per-channel: 2 scales on dim 0)" {
		t.Errorf("String() = %q", s)
	}
	if n := ts[2].NumElements(); n != 32 {
		t.Errorf("NumElements() = %d", n)
	}
	if n := (schema.Tensor{Shape: []int32{1, -1}}).NumElements(); n != -1 {
		t.Errorf("NumElements() with unknown dimension = %d", n)
	}
	if n := (schema.Tensor{}).NumElements(); n != 1 {
		t.Errorf("NumElements() of a scalar = %d", n)
	}
	// An unknown SparseIndexVector type is an error.
	tensors[1][6].(T)[2].([]T)[1][2] = uint8(9)
	_, err := schema.Parse(build(mt))
	if want := "invalid TFLite model: subgraph 0 tensor 1 sparsity dim_metadata 1 array_segments has unknown SparseIndexVector type 9"; err == nil || err.Error() != want {
		t.Errorf("got %v\nwant %s", err, want)
	}
}
