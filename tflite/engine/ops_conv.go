package engine

import (
	qmath "github.com/edgeproject/edge/quantize"
	"github.com/edgeproject/edge/tflite/schema"
)

// Options field ids (schema.fbs).
const (
	convPadding   = 0
	convStrideW   = 1
	convStrideH   = 2
	convAct       = 3
	convDilationW = 4
	convDilationH = 5

	dwPadding    = 0
	dwStrideW    = 1
	dwStrideH    = 2
	dwMultiplier = 3
	dwAct        = 4
	dwDilationW  = 5
	dwDilationH  = 6

	fcAct         = 0
	fcWeightsFmt  = 1
	fcKeepNumDims = 2
)

// convTypes checks the input, filter, bias and output types of a
// convolution-like node and tells which kernel family runs it.
func (c *nodeCtx) convTypes(in, filter, bias, out *tensor) (float bool, err error) {
	switch in.typ {
	case schema.TypeFloat32:
		if filter.typ != schema.TypeFloat32 {
			return false, c.unsupported("hybrid node: float input %s with %s filter %s", in, filter.typ, filter)
		}
		if err := c.types("output", out, schema.TypeFloat32); err != nil {
			return false, err
		}
		if bias != nil {
			if err := c.types("bias", bias, schema.TypeFloat32); err != nil {
				return false, err
			}
		}
		return true, nil
	case schema.TypeUint8, schema.TypeInt8:
		if err := c.types("filter", filter, in.typ); err != nil {
			return false, err
		}
		if err := c.types("output", out, in.typ); err != nil {
			return false, err
		}
		if bias != nil {
			if err := c.types("bias", bias, schema.TypeInt32); err != nil {
				return false, err
			}
		}
		if err := c.quantized("input", in); err != nil {
			return false, err
		}
		if err := c.quantized("output", out); err != nil {
			return false, err
		}
		if filter.scale <= 0 {
			return false, c.invalid("filter %s has no quantization scale", filter)
		}
		if in.typ == schema.TypeUint8 && filter.scales != nil {
			return false, c.unsupported("uint8 filter %s quantized per channel", filter)
		}
		return false, nil
	}
	return false, c.unsupported("input %s has type %s (supported: uint8, int8, float32)", in, in.typ)
}

// quantMultipliers computes the per-output-channel multipliers of a
// quantized convolution the way TFLite 2.9 does: for uint8 from the
// float32 product of the scales (GetQuantizedConvolutionMultipler), for
// int8 from the double product per channel
// (PopulateConvolutionQuantizationParams).
func quantMultipliers(in, filter, out *tensor, oc int, perTensorFloat bool) ([]int32, []int) {
	mult := make([]int32, oc)
	shift := make([]int, oc)
	for ch := range mult {
		var real float64
		fs := filter.scale
		if filter.scales != nil {
			fs = filter.scales[ch]
		}
		if perTensorFloat {
			real = float64(in.scale*fs) / float64(out.scale)
		} else {
			real = float64(in.scale) * float64(fs) / float64(out.scale)
		}
		mult[ch], shift[ch] = qmath.QuantizeMultiplier(real)
	}
	return mult, shift
}

func (c *nodeCtx) biasFor(bias *tensor, oc int) error {
	if bias == nil {
		return nil
	}
	if err := c.constant("bias", bias); err != nil {
		return err
	}
	if bias.elems() != oc {
		return c.invalid("bias %s has %d elements, want %d", bias, bias.elems(), oc)
	}
	return nil
}

func prepareConv(c *nodeCtx) (kernel, error) {
	if err := c.arity(2, 3, 1); err != nil {
		return nil, err
	}
	in, filter, out := c.ins[0], c.ins[1], c.outs[0]
	var bias *tensor
	if len(c.ins) == 3 {
		bias = c.ins[2]
	}
	for _, t := range []*tensor{in, filter, out} {
		if err := c.rank("tensor", t, 4); err != nil {
			return nil, err
		}
	}
	if err := c.constant("filter", filter); err != nil {
		return nil, err
	}
	isFloat, err := c.convTypes(in, filter, bias, out)
	if err != nil {
		return nil, err
	}
	o := c.opts()
	oc, fh, fw, fic := filter.shape[0], filter.shape[1], filter.shape[2], filter.shape[3]
	if fic != in.shape[3] {
		return nil, c.unsupported("filter %s has %d input channels, input %s has %d (grouped convolution)", filter, fic, in, in.shape[3])
	}
	if out.shape[3] != oc {
		return nil, c.invalid("output %s has %d channels, filter %s has %d", out, out.shape[3], filter, oc)
	}
	if err := c.biasFor(bias, oc); err != nil {
		return nil, err
	}
	g, err := c.convGeometry(in, out, o.Int8(convPadding, 0), fh, fw,
		int(o.Int32(convStrideH, 0)), int(o.Int32(convStrideW, 0)),
		int(o.Int32(convDilationH, 1)), int(o.Int32(convDilationW, 1)))
	if err != nil {
		return nil, err
	}
	act := o.Int8(convAct, 0)
	if isFloat {
		return newFloatConv(c, g, in, filter, bias, out, act)
	}
	return newQuantConv(c, g, in, filter, bias, out, act, in.typ == schema.TypeUint8)
}

func newQuantConv(c *nodeCtx, g convGeom, in, filter, bias, out *tensor, act int8, perTensorFloat bool) (kernel, error) {
	k := &quantConv{g: g, in: in, out: out, inZP: in.zp, signedIn: in.signed()}
	k.k = g.fh * g.fw * g.ic
	actMin, actMax, ok := quantizedActRange(act, out.signed(), out.scale, out.zp)
	if !ok {
		return nil, c.unsupported("fused %s", actName(act))
	}
	k.bias = make([]int32, g.oc)
	if bias != nil {
		k.bias = constInt32s(bias)
	}
	switch {
	case packI8 && k.setWeightsI8(filter, k.bias):
	case filter.signed():
		w := make([]int16, len(filter.data))
		widen(w, filter.data, 0, true) // int8 filters are symmetric
		k.setWeights(w)
	default:
		k.setWeights(constWidened(filter))
	}
	mult, shift := quantMultipliers(in, filter, out, g.oc, perTensorFloat)
	k.rq = newRequant(mult, shift, true, out.zp, actMin, actMax, out.signed())
	k.init(c.threads)
	return k, nil
}

func newFloatConv(c *nodeCtx, g convGeom, in, filter, bias, out *tensor, act int8) (kernel, error) {
	k := &floatConv{g: g, in: in, out: out, k: g.fh * g.fw * g.ic}
	var ok bool
	k.actMin, k.actMax, ok = floatActRange(act)
	if !ok {
		return nil, c.unsupported("fused %s", actName(act))
	}
	k.bias = make([]float32, g.oc)
	if bias != nil {
		k.bias = constFloat32s(bias)
	}
	k.init(c.threads, constFloat32s(filter))
	return k, nil
}

func prepareDepthwise(c *nodeCtx) (kernel, error) {
	if err := c.arity(2, 3, 1); err != nil {
		return nil, err
	}
	in, filter, out := c.ins[0], c.ins[1], c.outs[0]
	var bias *tensor
	if len(c.ins) == 3 {
		bias = c.ins[2]
	}
	for _, t := range []*tensor{in, filter, out} {
		if err := c.rank("tensor", t, 4); err != nil {
			return nil, err
		}
	}
	if err := c.constant("filter", filter); err != nil {
		return nil, err
	}
	isFloat, err := c.convTypes(in, filter, bias, out)
	if err != nil {
		return nil, err
	}
	o := c.opts()
	fh, fw, oc := filter.shape[1], filter.shape[2], filter.shape[3]
	ic := in.shape[3]
	if filter.shape[0] != 1 || ic == 0 || oc%ic != 0 || out.shape[3] != oc {
		return nil, c.invalid("filter %s does not fit input %s and output %s", filter, in, out)
	}
	dm := oc / ic
	if err := c.biasFor(bias, oc); err != nil {
		return nil, err
	}
	g, err := c.convGeometry(in, out, o.Int8(dwPadding, 0), fh, fw,
		int(o.Int32(dwStrideH, 0)), int(o.Int32(dwStrideW, 0)),
		int(o.Int32(dwDilationH, 1)), int(o.Int32(dwDilationW, 1)))
	if err != nil {
		return nil, err
	}
	act := o.Int8(dwAct, 0)
	if isFloat {
		k := &floatDepthwise{g: g, dm: dm, in: in, out: out}
		var ok bool
		k.actMin, k.actMax, ok = floatActRange(act)
		if !ok {
			return nil, c.unsupported("fused %s", actName(act))
		}
		k.w = constFloat32s(filter)
		k.bias = make([]float32, oc)
		if bias != nil {
			k.bias = constFloat32s(bias)
		}
		k.fn = k.rows
		return k, nil
	}
	k := &quantDepthwise{g: g, dm: dm, in: in, out: out, inZP: in.zp, signedIn: in.signed()}
	actMin, actMax, ok := quantizedActRange(act, out.signed(), out.scale, out.zp)
	if !ok {
		return nil, c.unsupported("fused %s", actName(act))
	}
	wzp := filter.zp
	if filter.signed() {
		wzp = 0 // int8 filters are symmetric
	}
	k.w = make([]int32, len(filter.data))
	for i := range k.w {
		k.w[i] = load8(filter.data, i, filter.signed()) - wzp
	}
	k.bias = make([]int32, oc)
	if bias != nil {
		k.bias = constInt32s(bias)
	}
	mult, shift := quantMultipliers(in, filter, out, oc, in.typ == schema.TypeUint8)
	k.rq = newRequant(mult, shift, false, out.zp, actMin, actMax, out.signed())
	k.init(c.threads)
	return k, nil
}

func prepareFullyConnected(c *nodeCtx) (kernel, error) {
	if err := c.arity(2, 3, 1); err != nil {
		return nil, err
	}
	in, filter, out := c.ins[0], c.ins[1], c.outs[0]
	var bias *tensor
	if len(c.ins) == 3 {
		bias = c.ins[2]
	}
	if err := c.rank("filter", filter, 2); err != nil {
		return nil, err
	}
	if err := c.constant("filter", filter); err != nil {
		return nil, err
	}
	o := c.opts()
	if f := o.Int8(fcWeightsFmt, 0); f != 0 {
		return nil, c.unsupported("weights format %d (only DEFAULT)", f)
	}
	isFloat, err := c.convTypes(in, filter, bias, out)
	if err != nil {
		return nil, err
	}
	if filter.scales != nil {
		return nil, c.unsupported("filter %s quantized per channel", filter)
	}
	units, depth := filter.shape[0], filter.shape[1]
	if depth == 0 || in.elems()%depth != 0 {
		return nil, c.invalid("input %s does not divide into rows of %d", in, depth)
	}
	batch := in.elems() / depth
	if out.elems() != batch*units {
		return nil, c.invalid("output %s, want %d×%d elements", out, batch, units)
	}
	if err := c.biasFor(bias, units); err != nil {
		return nil, err
	}
	g := convGeom{n: batch, ih: 1, iw: 1, ic: depth, oh: 1, ow: 1, oc: units, fh: 1, fw: 1, sh: 1, sw: 1, dh: 1, dw: 1}
	act := o.Int8(fcAct, 0)
	if isFloat {
		return newFloatConv(c, g, in, filter, bias, out, act)
	}
	// FULLY_CONNECTED takes its multiplier from the float32 product of the
	// scales for int8 too.
	return newQuantConv(c, g, in, filter, bias, out, act, true)
}
