package quantize

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/edgeproject/edge/tflite/schema"
	"github.com/edgeproject/edge/tflite/schema/fbwriter"
)

// Errors of Check, Instrument and Convert, for errors.Is.
var (
	// ErrAlreadyQuantized: the model has an integer (int8, uint8, int16)
	// tensor, so it is quantized already, at least in part.
	ErrAlreadyQuantized = errors.New("model is already quantized")
	// ErrUnsupported: the model has an operator, a tensor type or a
	// structure the quantizer does not handle.
	ErrUnsupported = errors.New("not supported by the quantizer")
)

// outRule says where the quantization of an operator's output comes from.
type outRule int

const (
	outCalibrated outRule = iota // the calibrated range of the output
	outAsInput                   // the input's: the int8 kernel needs equal parameters
	outFixed                     // fixed by the int8 kernel (SOFTMAX, LOGISTIC, TANH)
)

// opSpec describes how the quantizer handles one builtin operator.
type opSpec struct {
	version int32   // operator version written for the int8 operator
	out     outRule // output quantization
	fixed   Params  // for outFixed
	act     int     // field id of the fused activation in its options, -1 if none
	consts  int     // inputs from this index on are constant (weights, shapes, axes)
}

// ops are the operators the quantizer handles, with the versions TFLite's
// converter gives their full-integer forms (all within TFLite 2.9's builtin
// resolver).
var ops = map[schema.BuiltinOp]opSpec{
	schema.OpConv2D:          {version: 3, act: 3, consts: 1},
	schema.OpDepthwiseConv2D: {version: 3, act: 4, consts: 1},
	schema.OpFullyConnected:  {version: 4, act: 0, consts: 1},
	schema.OpAveragePool2D:   {version: 2, out: outAsInput, act: 5, consts: 1},
	schema.OpMaxPool2D:       {version: 2, out: outAsInput, act: 5, consts: 1},
	schema.OpReshape:         {version: 1, out: outAsInput, act: -1, consts: 1},
	schema.OpSqueeze:         {version: 1, out: outAsInput, act: -1, consts: 1}, // written as RESHAPE
	schema.OpPad:             {version: 2, out: outAsInput, act: -1, consts: 1},
	schema.OpSoftmax:         {version: 2, out: outFixed, fixed: Params{Scale: 1.0 / 256, ZeroPoint: -128}, act: -1, consts: 1},
	schema.OpLogistic:        {version: 2, out: outFixed, fixed: Params{Scale: 1.0 / 256, ZeroPoint: -128}, act: -1, consts: 1},
	schema.OpTanh:            {version: 2, out: outFixed, fixed: Params{Scale: 1.0 / 128, ZeroPoint: 0}, act: -1, consts: 1},
	schema.OpAdd:             {version: 2, act: 0, consts: 2},
	schema.OpMul:             {version: 2, act: 0, consts: 2},
	schema.OpConcatenation:   {version: 2, act: 1, consts: math.MaxInt},
	schema.OpMean:            {version: 2, act: -1, consts: 1},
	schema.OpRelu:            {version: 2, act: -1, consts: 1},
	schema.OpRelu6:           {version: 2, act: -1, consts: 1},
	schema.OpHardSwish:       {version: 1, act: -1, consts: 1},
}

// Versions of the operators the quantizer adds.
const (
	vQuantize   = 1 // float → int8, uint8 ↔ int8
	vRequantize = 2 // int8 → int8 with other parameters
	vDequantize = 2 // int8 → float
)

// SupportedOps lists the builtin operators Convert quantizes, sorted.
func SupportedOps() []string {
	names := make([]string, 0, len(ops))
	for op := range ops {
		names = append(names, op.String())
	}
	slices.Sort(names)
	return names
}

// graph is a checked float model: one subgraph of float32 activations,
// float32 or int32 constants and supported operators.
type graph struct {
	m     *schema.Model
	sg    *schema.Subgraph
	codes []schema.BuiltinOp // builtin code of each operator
	data  [][]byte           // constant data of each tensor, nil for activations
}

// nodeName names operator i for errors: `node 12 (CONV_2D -> "conv1/out")`.
func (g *graph) nodeName(i int) string {
	op := g.sg.Operators[i]
	name := g.m.OperatorCodes[op.OpcodeIndex].Name()
	if len(op.Outputs) > 0 && op.Outputs[0] >= 0 {
		return fmt.Sprintf("node %d (%s -> %q)", i, name, g.sg.Tensors[op.Outputs[0]].Name)
	}
	return fmt.Sprintf("node %d (%s)", i, name)
}

func (g *graph) tensorName(ti int32) string {
	return fmt.Sprintf("tensor %d %q", ti, g.sg.Tensors[ti].Name)
}

// Check tells whether Convert can quantize m: a float model (float32
// activations and weights; int32 only for constant shapes and axes) of one
// subgraph whose operators are all among SupportedOps. The error wraps
// ErrAlreadyQuantized or ErrUnsupported and names the tensor or the node.
func Check(m *schema.Model) error {
	_, err := newGraph(m)
	return err
}

func newGraph(m *schema.Model) (*graph, error) {
	if m == nil || len(m.Subgraphs) == 0 {
		return nil, fmt.Errorf("model has no subgraph: %w", ErrUnsupported)
	}
	if len(m.Subgraphs) > 1 {
		return nil, fmt.Errorf("model has %d subgraphs (control flow); only single-graph models can be quantized: %w", len(m.Subgraphs), ErrUnsupported)
	}
	g := &graph{m: m, sg: &m.Subgraphs[0]}
	sg := g.sg
	g.data = make([][]byte, len(sg.Tensors))
	// Integer tensors first: a quantized model is the likeliest mistake.
	for i, t := range sg.Tensors {
		switch t.Type {
		case schema.TypeInt8, schema.TypeUint8, schema.TypeInt16:
			return nil, fmt.Errorf("%s is %s: %w (give the float model it came from)", g.tensorName(int32(i)), t.Type, ErrAlreadyQuantized)
		}
	}
	for i, t := range sg.Tensors {
		g.data[i] = m.BufferData(t.Buffer)
		if t.Type != schema.TypeFloat32 && t.Type != schema.TypeInt32 {
			return nil, fmt.Errorf("%s is %s, want float32: %w", g.tensorName(int32(i)), t.Type, ErrUnsupported)
		}
		if t.Sparsity != nil {
			return nil, fmt.Errorf("%s is sparse: %w", g.tensorName(int32(i)), ErrUnsupported)
		}
		if t.IsVariable {
			return nil, fmt.Errorf("%s is a variable tensor: %w", g.tensorName(int32(i)), ErrUnsupported)
		}
		if g.data[i] != nil {
			n := t.NumElements()
			if n < 0 || int64(len(g.data[i])) != n*4 {
				return nil, fmt.Errorf("%s: %d bytes of data for shape %v, want %d", g.tensorName(int32(i)), len(g.data[i]), t.Shape, n*4)
			}
		}
	}
	for _, ti := range slices.Concat(sg.Inputs, sg.Outputs) {
		if ti < 0 || int(ti) >= len(sg.Tensors) || sg.Tensors[ti].Type != schema.TypeFloat32 || g.data[ti] != nil {
			return nil, fmt.Errorf("graph input or output tensor %d is not a float32 activation: %w", ti, ErrUnsupported)
		}
	}
	g.codes = make([]schema.BuiltinOp, len(sg.Operators))
	produced := make([]bool, len(sg.Tensors))
	for _, ti := range sg.Inputs {
		produced[ti] = true
	}
	for i, op := range sg.Operators {
		code, err := m.Op(op)
		if err != nil {
			return nil, fmt.Errorf("node %d: %w", i, err)
		}
		g.codes[i] = code.Builtin
		spec, ok := ops[code.Builtin]
		if !ok || code.Builtin == schema.OpCustom {
			return nil, fmt.Errorf("%s: operator %s is %w (it handles %s)", g.nodeName(i), code.Name(), ErrUnsupported, strings.Join(SupportedOps(), ", "))
		}
		if err := g.checkOp(i, spec, produced); err != nil {
			return nil, fmt.Errorf("%s: %w", g.nodeName(i), err)
		}
		produced[op.Outputs[0]] = true
	}
	for _, ti := range sg.Outputs {
		if !produced[ti] {
			return nil, fmt.Errorf("graph output %s is computed by no operator: %w", g.tensorName(ti), ErrUnsupported)
		}
	}
	return g, nil
}

// checkOp checks the tensors and options of operator i.
func (g *graph) checkOp(i int, spec opSpec, produced []bool) error {
	op := g.sg.Operators[i]
	code := g.codes[i]
	if len(op.Outputs) != 1 || op.Outputs[0] < 0 {
		return fmt.Errorf("%d outputs, want 1: %w", len(op.Outputs), ErrUnsupported)
	}
	out := op.Outputs[0]
	if g.data[out] != nil || g.sg.Tensors[out].Type != schema.TypeFloat32 || produced[out] {
		return fmt.Errorf("output %s is not a new float32 activation: %w", g.tensorName(out), ErrUnsupported)
	}
	if len(op.Inputs) == 0 || op.Inputs[0] < 0 {
		return fmt.Errorf("no data input: %w", ErrUnsupported)
	}
	if elementwise := code == schema.OpAdd || code == schema.OpMul || code == schema.OpConcatenation; !elementwise && g.data[op.Inputs[0]] != nil {
		return fmt.Errorf("data input %s is a constant (fold it before quantizing): %w", g.tensorName(op.Inputs[0]), ErrUnsupported)
	}
	for k, ti := range op.Inputs {
		if ti < 0 {
			continue
		}
		t := g.sg.Tensors[ti]
		switch {
		case g.data[ti] == nil && !produced[ti]:
			return fmt.Errorf("input %d, %s, is not computed before it is used: %w", k, g.tensorName(ti), ErrUnsupported)
		case g.data[ti] == nil && t.Type != schema.TypeFloat32:
			return fmt.Errorf("input %d, %s, is a %s activation: %w", k, g.tensorName(ti), t.Type, ErrUnsupported)
		case k >= spec.consts && g.data[ti] == nil:
			return fmt.Errorf("input %d, %s, must be constant: %w", k, g.tensorName(ti), ErrUnsupported)
		}
	}
	switch code {
	case schema.OpConv2D, schema.OpDepthwiseConv2D, schema.OpFullyConnected:
		if len(op.Inputs) < 2 || op.Inputs[1] < 0 || g.sg.Tensors[op.Inputs[1]].Type != schema.TypeFloat32 {
			return fmt.Errorf("weights are not a float32 constant: %w", ErrUnsupported)
		}
		if len(op.Inputs) > 2 && op.Inputs[2] >= 0 && g.sg.Tensors[op.Inputs[2]].Type != schema.TypeFloat32 {
			return fmt.Errorf("bias is not a float32 constant: %w", ErrUnsupported)
		}
		if code == schema.OpFullyConnected && op.BuiltinOptions.Int8(1, 0) != 0 {
			return fmt.Errorf("shuffled weights format: %w", ErrUnsupported)
		}
	case schema.OpReshape, schema.OpMean, schema.OpPad:
		if code != schema.OpReshape && len(op.Inputs) != 2 {
			return fmt.Errorf("%d inputs, want 2: %w", len(op.Inputs), ErrUnsupported)
		}
		if len(op.Inputs) > 1 && op.Inputs[1] >= 0 && g.sg.Tensors[op.Inputs[1]].Type != schema.TypeInt32 {
			return fmt.Errorf("input 1 is %s, want int32: %w", g.sg.Tensors[op.Inputs[1]].Type, ErrUnsupported)
		}
	case schema.OpAdd, schema.OpMul:
		if len(op.Inputs) != 2 || op.Inputs[1] < 0 {
			return fmt.Errorf("%d inputs, want 2: %w", len(op.Inputs), ErrUnsupported)
		}
	}
	// Every other input but shapes and axes is float32.
	for k, ti := range op.Inputs {
		if ti >= 0 && g.sg.Tensors[ti].Type != schema.TypeFloat32 && !(k == 1 && (code == schema.OpReshape || code == schema.OpMean || code == schema.OpPad || code == schema.OpSqueeze)) {
			return fmt.Errorf("input %d, %s, is %s: %w", k, g.tensorName(ti), g.sg.Tensors[ti].Type, ErrUnsupported)
		}
	}
	if spec.act >= 0 {
		switch a := fbwriter.Activation(op.BuiltinOptions.Int8(spec.act, 0)); a {
		case fbwriter.NoActivation, fbwriter.Relu, fbwriter.ReluN1To1, fbwriter.Relu6:
		default:
			name := map[fbwriter.Activation]string{fbwriter.Tanh: "TANH", 5: "SIGN_BIT"}[a]
			if name == "" {
				name = fmt.Sprint(a)
			}
			return fmt.Errorf("fused activation %s (only none, RELU, RELU_N1_TO_1 and RELU6 have int8 kernels): %w", name, ErrUnsupported)
		}
	}
	return nil
}

// options translates the builtin options of operator i for fbwriter (nil
// for operators without any). SQUEEZE becomes RESHAPE, whose options are
// made by the caller.
func (g *graph) options(i int) fbwriter.Options {
	t := g.sg.Operators[i].BuiltinOptions
	act := func(field int) fbwriter.Activation { return fbwriter.Activation(t.Int8(field, 0)) }
	switch g.codes[i] {
	case schema.OpConv2D:
		return &fbwriter.Conv2DOptions{Padding: fbwriter.Padding(t.Int8(0, 0)), StrideW: t.Int32(1, 0), StrideH: t.Int32(2, 0),
			Activation: act(3), DilationW: t.Int32(4, 1), DilationH: t.Int32(5, 1)}
	case schema.OpDepthwiseConv2D:
		return &fbwriter.DepthwiseConv2DOptions{Padding: fbwriter.Padding(t.Int8(0, 0)), StrideW: t.Int32(1, 0), StrideH: t.Int32(2, 0),
			DepthMultiplier: t.Int32(3, 0), Activation: act(4), DilationW: t.Int32(5, 1), DilationH: t.Int32(6, 1)}
	case schema.OpAveragePool2D, schema.OpMaxPool2D:
		return &fbwriter.Pool2DOptions{Padding: fbwriter.Padding(t.Int8(0, 0)), StrideW: t.Int32(1, 0), StrideH: t.Int32(2, 0),
			FilterWidth: t.Int32(3, 0), FilterHeight: t.Int32(4, 0), Activation: act(5)}
	case schema.OpFullyConnected:
		return &fbwriter.FullyConnectedOptions{Activation: act(0), KeepNumDims: t.Bool(2, false)}
	case schema.OpSoftmax:
		return &fbwriter.SoftmaxOptions{Beta: t.Float32(0, 1)}
	case schema.OpConcatenation:
		return &fbwriter.ConcatenationOptions{Axis: t.Int32(0, 0), Activation: act(1)}
	case schema.OpAdd:
		return &fbwriter.AddOptions{Activation: act(0)}
	case schema.OpMul:
		return &fbwriter.MulOptions{Activation: act(0)}
	case schema.OpMean:
		return &fbwriter.ReducerOptions{KeepDims: t.Bool(0, false)}
	case schema.OpReshape:
		const reshapeOptions = 17 // the schema's BuiltinOptions union type
		if g.sg.Operators[i].BuiltinOptionsType == reshapeOptions && t.Has(0) {
			return &fbwriter.ReshapeOptions{NewShape: t.Int32Vector(0)}
		}
	}
	return nil
}

// floats decodes the float32 constant tensor ti.
func (g *graph) floats(ti int32) []float32 {
	d := g.data[ti]
	v := make([]float32, len(d)/4)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(d[4*i:]))
	}
	return v
}

// Instrument returns a copy of the float model m that outputs, after its
// own outputs, every tensor an operator computes, and the index in m of the
// tensor behind each output of the copy. A TFLite interpreter keeps its
// output tensors after Invoke, so running the copy shows every activation
// for calibration. Tensor indexes are those of m (SQUEEZE, written as
// RESHAPE, adds shape tensors after them). m must pass Check.
func Instrument(m *schema.Model) (*fbwriter.Model, []int, error) {
	g, err := newGraph(m)
	if err != nil {
		return nil, nil, err
	}
	sg := g.sg
	b := fbwriter.NewBuilder("edge quantize: calibration copy of " + m.Description)
	for i, t := range sg.Tensors {
		ft := fbwriter.Tensor{Name: t.Name, Shape: t.Shape, Type: t.Type}
		if g.data[i] != nil {
			b.Const(ft, g.data[i])
		} else {
			b.Tensor(ft)
		}
	}
	var observed []int
	seen := map[int32]bool{}
	for _, ti := range sg.Outputs {
		observed = append(observed, int(ti))
		seen[ti] = true
	}
	for i, op := range sg.Operators {
		code, version := g.codes[i], m.OperatorCodes[op.OpcodeIndex].Version
		inputs, opts := op.Inputs, g.options(i)
		if code == schema.OpSqueeze {
			code, version = schema.OpReshape, 1
			shape := sg.Tensors[op.Outputs[0]].Shape
			inputs = []int32{op.Inputs[0], b.Const(fbwriter.Tensor{Name: sg.Tensors[op.Outputs[0]].Name + "/shape", Shape: []int32{int32(len(shape))}, Type: schema.TypeInt32}, int32Bytes(shape))}
			opts = &fbwriter.ReshapeOptions{NewShape: shape}
		}
		b.Op(code, version, inputs, op.Outputs, opts)
		if out := op.Outputs[0]; !seen[out] {
			observed = append(observed, int(out))
			seen[out] = true
		}
	}
	outs := make([]int32, len(observed))
	for i, ti := range observed {
		outs[i] = int32(ti)
	}
	b.SetIO(sg.Inputs, outs)
	return b.Model(), observed, nil
}

func int32Bytes(v []int32) []byte {
	b := make([]byte, 0, 4*len(v))
	for _, x := range v {
		b = binary.LittleEndian.AppendUint32(b, uint32(x))
	}
	return b
}
