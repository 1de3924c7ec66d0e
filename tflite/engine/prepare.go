package engine

import (
	"fmt"

	"github.com/edgeproject/edge/tflite/schema"
)

// nodeCtx gives a kernel's prepare function the node's tensors and a way
// to build errors that name the node.
type nodeCtx struct {
	e       *Interpreter
	index   int
	op      *schema.Operator
	code    schema.OperatorCode
	name    string
	ins     []*tensor // nil for omitted optional inputs
	outs    []*tensor
	threads int
}

func (c *nodeCtx) opts() schema.Table { return c.op.BuiltinOptions }

// unsupported refuses the node for something the engine does not run.
func (c *nodeCtx) unsupported(format string, args ...any) error {
	return &OpError{Node: c.index, Op: c.name, Version: c.code.Version, Reason: fmt.Sprintf(format, args...), Err: ErrUnsupported}
}

// invalid refuses a node that TFLite would refuse too.
func (c *nodeCtx) invalid(format string, args ...any) error {
	return &OpError{Node: c.index, Op: c.name, Version: c.code.Version, Reason: fmt.Sprintf(format, args...)}
}

// arity checks the input and output counts (min..max inputs).
func (c *nodeCtx) arity(minIn, maxIn, outs int) error {
	if len(c.ins) < minIn || len(c.ins) > maxIn {
		if minIn == maxIn {
			return c.invalid("has %d inputs, want %d", len(c.ins), minIn)
		}
		return c.invalid("has %d inputs, want %d to %d", len(c.ins), minIn, maxIn)
	}
	for i := 0; i < minIn; i++ {
		if c.ins[i] == nil {
			return c.invalid("input %d is missing", i)
		}
	}
	if len(c.outs) != outs {
		return c.invalid("has %d outputs, want %d", len(c.outs), outs)
	}
	return nil
}

// types checks that tensor t has one of the given types.
func (c *nodeCtx) types(what string, t *tensor, allowed ...schema.TensorType) error {
	for _, a := range allowed {
		if t.typ == a {
			return nil
		}
	}
	return c.unsupported("%s %s has type %s (supported: %v)", what, t, t.typ, allowed)
}

// quantized checks that t has per-tensor quantization.
func (c *nodeCtx) quantized(what string, t *tensor) error {
	if t.scale <= 0 {
		return c.invalid("%s %s is %s but has no quantization scale", what, t, t.typ)
	}
	if t.scales != nil {
		return c.unsupported("%s %s is quantized per channel", what, t)
	}
	return nil
}

func (c *nodeCtx) rank(what string, t *tensor, ranks ...int) error {
	for _, r := range ranks {
		if len(t.shape) == r {
			return nil
		}
	}
	return c.unsupported("%s %s has rank %d (want %v)", what, t, len(t.shape), ranks)
}

func (c *nodeCtx) constant(what string, t *tensor) error {
	if !t.konst {
		return c.unsupported("%s %s is not a constant", what, t)
	}
	return nil
}

// sameShape checks that two tensors hold as many elements.
func (c *nodeCtx) sameSize(a, b *tensor) error {
	if a.elems() != b.elems() {
		return c.invalid("%s and %s differ in size", a, b)
	}
	return nil
}

// maxVersion lists the operators the engine runs and the newest version
// of each it knows; the kernels check the types.
var maxVersion = map[schema.BuiltinOp]int32{
	schema.OpConv2D:          5,
	schema.OpDepthwiseConv2D: 6,
	schema.OpFullyConnected:  9,
	schema.OpAdd:             4,
	schema.OpMul:             5,
	schema.OpAveragePool2D:   3,
	schema.OpMean:            3,
	schema.OpReshape:         1,
	schema.OpSqueeze:         1,
	schema.OpSoftmax:         3,
	schema.OpLogistic:        3,
	schema.OpHardSwish:       1,
	schema.OpRelu:            3,
	schema.OpRelu6:           3,
	schema.OpPad:             4,
	schema.OpConcatenation:   3,
	schema.OpQuantize:        3,
	schema.OpDequantize:      4,
}

// prepare builds the kernel of node i.
func (e *Interpreter) prepare(i int, op *schema.Operator) (kernel, error) {
	code, err := e.model.Op(*op)
	if err != nil {
		return nil, fmt.Errorf("node %d: %w", i, err)
	}
	c := &nodeCtx{e: e, index: i, op: op, code: code, name: code.Name(), threads: max(1, e.threadsHint())}
	for _, idx := range op.Inputs {
		if idx < 0 {
			c.ins = append(c.ins, nil)
			continue
		}
		c.ins = append(c.ins, e.tensors[idx])
	}
	for _, idx := range op.Outputs {
		c.outs = append(c.outs, e.tensors[idx])
	}
	if code.Builtin == schema.OpCustom {
		if code.Custom == "TFLite_Detection_PostProcess" {
			return prepareDetectionPostProcess(c)
		}
		return nil, c.unsupported("custom operator %q: the engine knows only TFLite_Detection_PostProcess", code.Custom)
	}
	mv, ok := maxVersion[code.Builtin]
	if !ok {
		return nil, c.unsupported("operator not implemented")
	}
	if code.Version > mv {
		return nil, c.unsupported("version %d not implemented (up to %d)", code.Version, mv)
	}
	for _, t := range c.outs {
		if t.typ == schema.TypeInt16 {
			return nil, c.unsupported("int16 output %s", t)
		}
	}
	switch code.Builtin {
	case schema.OpConv2D:
		return prepareConv(c)
	case schema.OpDepthwiseConv2D:
		return prepareDepthwise(c)
	case schema.OpFullyConnected:
		return prepareFullyConnected(c)
	case schema.OpAdd:
		return prepareAdd(c)
	case schema.OpMul:
		return prepareMul(c)
	case schema.OpAveragePool2D:
		return prepareAveragePool(c)
	case schema.OpMean:
		return prepareMean(c)
	case schema.OpReshape, schema.OpSqueeze:
		return prepareReshape(c)
	case schema.OpSoftmax:
		return prepareSoftmax(c)
	case schema.OpLogistic:
		return prepareLogistic(c)
	case schema.OpHardSwish:
		return prepareHardSwish(c)
	case schema.OpRelu, schema.OpRelu6:
		return prepareRelu(c)
	case schema.OpPad:
		return preparePad(c)
	case schema.OpConcatenation:
		return prepareConcat(c)
	case schema.OpQuantize:
		return prepareQuantize(c)
	case schema.OpDequantize:
		return prepareDequantize(c)
	}
	return nil, c.unsupported("operator not implemented")
}

// threadsHint is the number of workers kernels size their scratch for.
func (e *Interpreter) threadsHint() int { return e.threads }

// convGeometry builds the geometry of CONV_2D, DEPTHWISE_CONV_2D and
// AVERAGE_POOL_2D from their options and checks the output shape.
func (c *nodeCtx) convGeometry(in, out *tensor, padding int8, fh, fw, sh, sw, dh, dw int) (convGeom, error) {
	g := convGeom{
		n: in.shape[0], ih: in.shape[1], iw: in.shape[2], ic: in.shape[3],
		oh: out.shape[1], ow: out.shape[2], oc: out.shape[3],
		fh: fh, fw: fw, sh: sh, sw: sw, dh: dh, dw: dw,
	}
	if padding != padSame && padding != padValid {
		return g, c.invalid("padding %d", padding)
	}
	if sh < 1 || sw < 1 || dh < 1 || dw < 1 || fh < 1 || fw < 1 {
		return g, c.invalid("stride %dx%d, dilation %dx%d, filter %dx%d: all must be >= 1", sh, sw, dh, dw, fh, fw)
	}
	oh := outSize(padding, g.ih, fh, sh, dh)
	ow := outSize(padding, g.iw, fw, sw, dw)
	if out.shape[0] != g.n || oh != g.oh || ow != g.ow {
		return g, c.invalid("output %s, want [%d %d %d %d]", out, g.n, oh, ow, g.oc)
	}
	g.padT = padBefore(sh, dh, g.ih, fh, oh)
	g.padL = padBefore(sw, dw, g.iw, fw, ow)
	return g, nil
}
