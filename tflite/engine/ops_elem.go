package engine

import (
	"encoding/binary"
	"math"

	qmath "github.com/edgeproject/edge/quantize"
	"github.com/edgeproject/edge/tflite/schema"
)

// bcast describes the broadcast of two operands of up to 4 dimensions to
// the output: for each output dimension, the stride of each operand (0 where
// the operand has size 1 and is repeated).
type bcast struct {
	dims   [4]int
	s1, s2 [4]int
	same   bool // both operands have the output's shape
	n      int
}

func newBcast(c *nodeCtx, a, b, out *tensor) (bcast, error) {
	var bc bcast
	if len(a.shape) > 4 || len(b.shape) > 4 || len(out.shape) > 4 {
		return bc, c.unsupported("broadcast of rank > 4")
	}
	bc.n = out.elems()
	if a.elems() == bc.n && b.elems() == bc.n && sameShape(a.shape, b.shape) {
		bc.same = true
		return bc, nil
	}
	var sa, sb int = 1, 1
	for i := 3; i >= 0; i-- {
		da, db, do := dim4(a.shape, i), dim4(b.shape, i), dim4(out.shape, i)
		if (da != do && da != 1) || (db != do && db != 1) {
			return bc, c.invalid("cannot broadcast %s and %s to %s", a, b, out)
		}
		bc.dims[i] = do
		if da != 1 {
			bc.s1[i] = sa
		}
		if db != 1 {
			bc.s2[i] = sb
		}
		sa *= da
		sb *= db
	}
	return bc, nil
}

func sameShape(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// each calls f(i, j, k) for every output element k with operand indexes i and j.
func (bc *bcast) each(f func(i, j, k int)) {
	if bc.same {
		for k := 0; k < bc.n; k++ {
			f(k, k, k)
		}
		return
	}
	k := 0
	d := bc.dims
	for x0 := 0; x0 < d[0]; x0++ {
		for x1 := 0; x1 < d[1]; x1++ {
			for x2 := 0; x2 < d[2]; x2++ {
				i := x0*bc.s1[0] + x1*bc.s1[1] + x2*bc.s1[2]
				j := x0*bc.s2[0] + x1*bc.s2[1] + x2*bc.s2[2]
				for x3 := 0; x3 < d[3]; x3++ {
					f(i+x3*bc.s1[3], j+x3*bc.s2[3], k)
					k++
				}
			}
		}
	}
}

// load8 reads element i of an 8-bit tensor's data.
func load8(b []byte, i int, signed bool) int32 {
	if signed {
		return int32(int8(b[i]))
	}
	return int32(b[i])
}

// quantAdd is a quantized ADD: both inputs rescaled to 2^20 times a common
// scale, summed, rescaled to the output.
type quantAdd struct {
	a, b, out          *tensor
	bc                 bcast
	signed             bool
	off1, off2, outOff int32
	m1, m2, mo         int32
	s1, s2, so         int
	actMin, actMax     int32
	fn                 func(i, j, k int)
}

func (k *quantAdd) run(*pool) { k.bc.each(k.fn) }

func (k *quantAdd) elem(i, j, o int) {
	const leftShift = 20
	x := (k.off1 + load8(k.a.data, i, k.signed)) * (1 << leftShift)
	y := (k.off2 + load8(k.b.data, j, k.signed)) * (1 << leftShift)
	x = qmath.RoundingDivideByPOT(qmath.SaturatingRoundingDoublingHighMul(x, k.m1), k.s1)
	y = qmath.RoundingDivideByPOT(qmath.SaturatingRoundingDoublingHighMul(y, k.m2), k.s2)
	r := qmath.RoundingDivideByPOT(qmath.SaturatingRoundingDoublingHighMul(x+y, k.mo), k.so) + k.outOff
	k.out.data[o] = byte(min(max(r, k.actMin), k.actMax))
}

type floatBinary struct {
	a, b, out      *tensor
	bc             bcast
	mul            bool
	actMin, actMax float32
	fa, fb, fo     []float32
	fn             func(i, j, k int)
}

func (k *floatBinary) run(*pool) {
	k.fa, k.fb, k.fo = k.a.f32(), k.b.f32(), k.out.f32()
	k.bc.each(k.fn)
}

func (k *floatBinary) elem(i, j, o int) {
	var r float32
	if k.mul {
		r = k.fa[i] * k.fb[j]
	} else {
		r = k.fa[i] + k.fb[j]
	}
	k.fo[o] = min(max(r, k.actMin), k.actMax)
}

func (c *nodeCtx) binaryTypes() (a, b, out *tensor, isFloat bool, err error) {
	if err := c.arity(2, 2, 1); err != nil {
		return nil, nil, nil, false, err
	}
	a, b, out = c.ins[0], c.ins[1], c.outs[0]
	if err := c.types("input 0", a, schema.TypeUint8, schema.TypeInt8, schema.TypeFloat32); err != nil {
		return nil, nil, nil, false, err
	}
	if err := c.types("input 1", b, a.typ); err != nil {
		return nil, nil, nil, false, err
	}
	if err := c.types("output", out, a.typ); err != nil {
		return nil, nil, nil, false, err
	}
	if a.typ == schema.TypeFloat32 {
		return a, b, out, true, nil
	}
	for _, t := range []*tensor{a, b, out} {
		if err := c.quantized("tensor", t); err != nil {
			return nil, nil, nil, false, err
		}
	}
	return a, b, out, false, nil
}

func newFloatBinary(c *nodeCtx, a, b, out *tensor, act int8, mul bool) (kernel, error) {
	bc, err := newBcast(c, a, b, out)
	if err != nil {
		return nil, err
	}
	k := &floatBinary{a: a, b: b, out: out, bc: bc, mul: mul}
	var ok bool
	if k.actMin, k.actMax, ok = floatActRange(act); !ok {
		return nil, c.unsupported("fused %s", actName(act))
	}
	k.fn = k.elem
	return k, nil
}

func prepareAdd(c *nodeCtx) (kernel, error) {
	a, b, out, isFloat, err := c.binaryTypes()
	if err != nil {
		return nil, err
	}
	act := c.opts().Int8(0, 0)
	if isFloat {
		return newFloatBinary(c, a, b, out, act, false)
	}
	bc, err := newBcast(c, a, b, out)
	if err != nil {
		return nil, err
	}
	k := &quantAdd{a: a, b: b, out: out, bc: bc, signed: out.signed(), off1: -a.zp, off2: -b.zp, outOff: out.zp}
	// TFLite 2.9 add.cc: twice the larger input scale (a float32), and the
	// output multiplier over (1<<20)·output scale, also a float32.
	twiceMax := float64(2 * max(a.scale, b.scale))
	k.m1, k.s1 = qmath.QuantizeMultiplier(float64(a.scale) / twiceMax)
	k.m2, k.s2 = qmath.QuantizeMultiplier(float64(b.scale) / twiceMax)
	k.mo, k.so = qmath.QuantizeMultiplier(twiceMax / float64(float32(1<<20)*out.scale))
	k.s1, k.s2, k.so = -k.s1, -k.s2, -k.so // right shifts
	if k.s1 < 0 || k.s2 < 0 || k.so < 0 {
		return nil, c.invalid("input and output scales %g, %g, %g give a multiplier >= 1", a.scale, b.scale, out.scale)
	}
	var ok bool
	if k.actMin, k.actMax, ok = quantizedActRange(act, out.signed(), out.scale, out.zp); !ok {
		return nil, c.unsupported("fused %s", actName(act))
	}
	k.fn = k.elem
	return k, nil
}

// quantMul is a quantized MUL.
type quantMul struct {
	a, b, out          *tensor
	bc                 bcast
	signed             bool
	off1, off2, outOff int32
	m                  int32
	s                  int
	actMin, actMax     int32
	fn                 func(i, j, k int)
}

func (k *quantMul) run(*pool) { k.bc.each(k.fn) }

func (k *quantMul) elem(i, j, o int) {
	x := k.off1 + load8(k.a.data, i, k.signed)
	y := k.off2 + load8(k.b.data, j, k.signed)
	r := qmath.MultiplyByQuantizedMultiplier(x*y, k.m, k.s) + k.outOff
	k.out.data[o] = byte(min(max(r, k.actMin), k.actMax))
}

func prepareMul(c *nodeCtx) (kernel, error) {
	a, b, out, isFloat, err := c.binaryTypes()
	if err != nil {
		return nil, err
	}
	act := c.opts().Int8(0, 0)
	if isFloat {
		return newFloatBinary(c, a, b, out, act, true)
	}
	bc, err := newBcast(c, a, b, out)
	if err != nil {
		return nil, err
	}
	k := &quantMul{a: a, b: b, out: out, bc: bc, signed: out.signed(), off1: -a.zp, off2: -b.zp, outOff: out.zp}
	// mul.cc computes the multiplier in float32.
	k.m, k.s = qmath.QuantizeMultiplier(float64(a.scale * b.scale / out.scale))
	var ok bool
	if k.actMin, k.actMax, ok = quantizedActRange(act, out.signed(), out.scale, out.zp); !ok {
		return nil, c.unsupported("fused %s", actName(act))
	}
	k.fn = k.elem
	return k, nil
}

// unary checks a one-input one-output elementwise node.
func (c *nodeCtx) unary(types ...schema.TensorType) (in, out *tensor, err error) {
	if err := c.arity(1, 1, 1); err != nil {
		return nil, nil, err
	}
	in, out = c.ins[0], c.outs[0]
	if err := c.types("input", in, types...); err != nil {
		return nil, nil, err
	}
	if err := c.sameSize(in, out); err != nil {
		return nil, nil, err
	}
	return in, out, nil
}

// lut maps each byte of the input through a 256-entry table.
type lut struct {
	in, out *tensor
	table   [256]byte
}

func (k *lut) run(*pool) {
	out := k.out.data[:len(k.in.data)]
	for i, v := range k.in.data {
		out[i] = k.table[v]
	}
}

// quantRelu is a standalone quantized RELU or RELU6.
type quantRelu struct {
	lut
}

type floatClamp struct {
	in, out *tensor
	lo, hi  float32
}

func (k *floatClamp) run(*pool) {
	in, out := k.in.f32(), k.out.f32()
	for i, v := range in {
		out[i] = min(max(v, k.lo), k.hi)
	}
}

func prepareRelu(c *nodeCtx) (kernel, error) {
	in, out, err := c.unary(schema.TypeUint8, schema.TypeInt8, schema.TypeFloat32)
	if err != nil {
		return nil, err
	}
	if err := c.types("output", out, in.typ); err != nil {
		return nil, err
	}
	relu6 := c.code.Builtin == schema.OpRelu6
	if in.typ == schema.TypeFloat32 {
		k := &floatClamp{in: in, out: out, lo: 0, hi: math.MaxFloat32}
		if relu6 {
			k.hi = 6
		}
		return k, nil
	}
	if err := c.quantized("input", in); err != nil {
		return nil, err
	}
	if err := c.quantized("output", out); err != nil {
		return nil, err
	}
	// activations.cc ReluPrepare / QuantizedReluX.
	m, s := qmath.QuantizeMultiplier(float64(in.scale / out.scale))
	signed := in.signed()
	qmin, qmax := typeRange(signed)
	lo := max(qmin, out.zp+int32(roundf(0/out.scale)))
	hi := qmax
	if relu6 {
		hi = min(qmax, out.zp+int32(roundf(6/out.scale)))
	}
	k := &quantRelu{lut{in: in, out: out}}
	for v := 0; v < 256; v++ {
		x := load8([]byte{byte(v)}, 0, signed)
		r := out.zp + qmath.MultiplyByQuantizedMultiplier(x-in.zp, m, s)
		k.table[v] = byte(min(max(r, lo), hi))
	}
	return k, nil
}

// hardSwish builds the table of TFLite 2.9's int16 fixed-point HARD_SWISH
// (reference_ops::HardSwish) for every 8-bit input.
func prepareHardSwish(c *nodeCtx) (kernel, error) {
	in, out, err := c.unary(schema.TypeUint8, schema.TypeInt8, schema.TypeFloat32)
	if err != nil {
		return nil, err
	}
	if err := c.types("output", out, in.typ); err != nil {
		return nil, err
	}
	if in.typ == schema.TypeFloat32 {
		return &floatHardSwish{in: in, out: out}, nil
	}
	if err := c.quantized("input", in); err != nil {
		return nil, err
	}
	if err := c.quantized("output", out); err != nil {
		return nil, err
	}
	hiresInScale := (1.0 / 128.0) * in.scale
	const reluishScale = float32(3.0 / 32768.0)
	outMult, outExp := qmath.QuantizeMultiplier(float64(hiresInScale / out.scale))
	outMult16 := downScale16(outMult)
	if outExp > 0 {
		return nil, c.invalid("input scale %g, output scale %g: output multiplier exponent %d > 0", in.scale, out.scale, outExp)
	}
	reluMult, reluExp := qmath.QuantizeMultiplier(float64(hiresInScale / reluishScale))
	reluMult16 := downScale16(reluMult)
	signed := in.signed()
	qmin, qmax := typeRange(signed)
	k := &lut{in: in, out: out}
	for v := 0; v < 256; v++ {
		x := load8([]byte{byte(v)}, 0, signed)
		inVal := int16(x - in.zp)
		hires := int16(int32(inVal) * (1 << 7))
		preshift := srdhm16(hires, outMult16)
		reluish := hires
		if reluExp > 0 {
			reluish = satLeftShift16(reluish, reluExp-1)
		}
		reluish = srdhm16(reluish, reluMult16)
		if reluExp > 0 {
			reluish = satLeftShift16(reluish, 1)
		}
		if reluExp < 0 {
			reluish = rdbpot16(reluish, -reluExp)
		}
		reluish = int16((int32(reluish) + (1 << 15)) >> 1)
		pre := sdhm16(reluish, preshift)
		o := rdbpot16(pre, -outExp)
		o += int16(out.zp)
		o = min(max(o, int16(qmin)), int16(qmax))
		k.table[v] = byte(o)
	}
	return k, nil
}

// downScale16 is TFLite's DownScaleInt32ToInt16Multiplier.
func downScale16(m int32) int16 {
	const rounding = 1 << 15
	if m >= math.MaxInt32-rounding {
		return math.MaxInt16
	}
	return int16((m + rounding) >> 16)
}

type floatHardSwish struct{ in, out *tensor }

func (k *floatHardSwish) run(*pool) {
	in, out := k.in.f32(), k.out.f32()
	for i, x := range in {
		out[i] = x * min(max(x+3, 0), 6) / 6
	}
}

// reshape copies the input: RESHAPE and SQUEEZE only change the shape.
type reshape struct{ in, out *tensor }

func (k *reshape) run(*pool) { copy(k.out.data, k.in.data) }

func prepareReshape(c *nodeCtx) (kernel, error) {
	if len(c.ins) < 1 || c.ins[0] == nil || len(c.outs) != 1 {
		return nil, c.invalid("has %d inputs and %d outputs, want 1 or 2 and 1", len(c.ins), len(c.outs))
	}
	in, out := c.ins[0], c.outs[0]
	if in.typ != out.typ {
		return nil, c.invalid("input %s and output %s differ in type", in, out)
	}
	if in.typ.Size() == 0 {
		return nil, c.unsupported("type %s", in.typ)
	}
	if err := c.sameSize(in, out); err != nil {
		return nil, err
	}
	return &reshape{in: in, out: out}, nil
}

// quantize is QUANTIZE from float32 (affine, rounded in double) or a
// requantization between 8-bit types.
type quantize struct {
	in, out    *tensor
	fromFloat  bool
	scale      float64
	zp         int32
	qmin, qmax int32
	m          int32
	s          int
	table      [256]byte
}

func (k *quantize) run(*pool) {
	out := k.out.data
	if k.fromFloat {
		for i, v := range k.in.f32() {
			q := int32(math.Round(float64(v)/k.scale)) + k.zp
			out[i] = byte(min(max(q, k.qmin), k.qmax))
		}
		return
	}
	for i, v := range k.in.data {
		out[i] = k.table[v]
	}
}

func prepareQuantize(c *nodeCtx) (kernel, error) {
	in, out, err := c.unary(schema.TypeFloat32, schema.TypeUint8, schema.TypeInt8)
	if err != nil {
		return nil, err
	}
	if err := c.types("output", out, schema.TypeUint8, schema.TypeInt8); err != nil {
		return nil, err
	}
	if err := c.quantized("output", out); err != nil {
		return nil, err
	}
	k := &quantize{in: in, out: out, zp: out.zp, scale: float64(out.scale)}
	k.qmin, k.qmax = typeRange(out.signed())
	if in.typ == schema.TypeFloat32 {
		k.fromFloat = true
		return k, nil
	}
	if err := c.quantized("input", in); err != nil {
		return nil, err
	}
	// quantize.cc: Requantize with MultiplyByQuantizedMultiplier.
	k.m, k.s = qmath.QuantizeMultiplier(float64(in.scale) / float64(out.scale))
	for v := 0; v < 256; v++ {
		x := load8([]byte{byte(v)}, 0, in.signed()) - in.zp
		r := qmath.MultiplyByQuantizedMultiplier(x, k.m, k.s) + out.zp
		k.table[v] = byte(min(max(r, k.qmin), k.qmax))
	}
	return k, nil
}

// dequantize maps 8-bit values to float32 through a table computed in
// double, as TFLite's Dequantize does.
type dequantize struct {
	in, out *tensor
	table   [256]float32
}

func (k *dequantize) run(*pool) {
	out := k.out.f32()
	for i, v := range k.in.data {
		out[i] = k.table[v]
	}
}

func prepareDequantize(c *nodeCtx) (kernel, error) {
	in, out, err := c.unary(schema.TypeUint8, schema.TypeInt8)
	if err != nil {
		return nil, err
	}
	if err := c.types("output", out, schema.TypeFloat32); err != nil {
		return nil, err
	}
	if err := c.quantized("input", in); err != nil {
		return nil, err
	}
	k := &dequantize{in: in, out: out}
	for v := 0; v < 256; v++ {
		x := load8([]byte{byte(v)}, 0, in.signed())
		k.table[v] = float32(float64(in.scale) * float64(x-in.zp))
	}
	return k, nil
}

// pad writes the input into a larger output filled with the pad value.
type pad struct {
	in, out *tensor
	before  [4]int
	inDims  [4]int
	outDims [4]int
	elem    int
	fill    []byte // one element of the pad value
}

func (k *pad) run(*pool) {
	out, in := k.out.data, k.in.data
	if len(k.fill) == 1 {
		for i := range out {
			out[i] = k.fill[0]
		}
	} else {
		for i := 0; i < len(out); i += k.elem {
			copy(out[i:], k.fill)
		}
	}
	id, od := k.inDims, k.outDims
	row := id[3] * k.elem
	src := 0
	for a := 0; a < id[0]; a++ {
		for b := 0; b < id[1]; b++ {
			for c := 0; c < id[2]; c++ {
				dst := (((a+k.before[0])*od[1]+b+k.before[1])*od[2]+c+k.before[2])*od[3] + k.before[3]
				copy(out[dst*k.elem:][:row], in[src:src+row])
				src += row
			}
		}
	}
}

func preparePad(c *nodeCtx) (kernel, error) {
	if err := c.arity(2, 2, 1); err != nil {
		return nil, err
	}
	in, paddings, out := c.ins[0], c.ins[1], c.outs[0]
	if err := c.types("input", in, schema.TypeUint8, schema.TypeInt8, schema.TypeFloat32); err != nil {
		return nil, err
	}
	if err := c.types("output", out, in.typ); err != nil {
		return nil, err
	}
	if err := c.constant("paddings", paddings); err != nil {
		return nil, err
	}
	rank := len(in.shape)
	if rank > 4 || len(out.shape) != rank || paddings.elems() != 2*rank {
		return nil, c.unsupported("input %s, output %s, paddings %s (rank <= 4)", in, out, paddings)
	}
	k := &pad{in: in, out: out, elem: in.typ.Size()}
	for i := 0; i < rank; i++ {
		var lo, hi int
		switch paddings.typ {
		case schema.TypeInt32:
			lo = int(int32(binary.LittleEndian.Uint32(paddings.data[8*i:])))
			hi = int(int32(binary.LittleEndian.Uint32(paddings.data[8*i+4:])))
		case schema.TypeInt64:
			lo = int(int64(binary.LittleEndian.Uint64(paddings.data[16*i:])))
			hi = int(int64(binary.LittleEndian.Uint64(paddings.data[16*i+8:])))
		default:
			return nil, c.unsupported("paddings type %s", paddings.typ)
		}
		if lo < 0 || hi < 0 || in.shape[i]+lo+hi != out.shape[i] {
			return nil, c.invalid("paddings %d,%d on dimension %d do not take %s to %s", lo, hi, i, in, out)
		}
		j := i + 4 - rank
		k.before[j] = lo
	}
	for j := 0; j < 4; j++ {
		k.inDims[j] = dim4(in.shape, j)
		k.outDims[j] = dim4(out.shape, j)
	}
	k.fill = make([]byte, k.elem)
	if in.typ != schema.TypeFloat32 {
		if in.scale != out.scale || in.zp != out.zp {
			return nil, c.invalid("input %s and output %s are quantized differently", in, out)
		}
		k.fill[0] = byte(out.zp)
	}
	return k, nil
}

// concat joins its inputs along one axis, rescaling uint8 inputs whose
// quantization differs from the output's (ConcatenationWithScaling).
type concat struct {
	ins     []*tensor
	out     *tensor
	outer   int
	sizes   []int // bytes per outer step, per input
	rescale []bool
	tables  [][256]byte
}

func (k *concat) run(*pool) {
	out := k.out.data
	o := 0
	for i := 0; i < k.outer; i++ {
		for j, t := range k.ins {
			n := k.sizes[j]
			src := t.data[i*n : (i+1)*n]
			dst := out[o : o+n]
			if k.rescale[j] {
				tab := &k.tables[j]
				for x, v := range src {
					dst[x] = tab[v]
				}
			} else {
				copy(dst, src)
			}
			o += n
		}
	}
}

func prepareConcat(c *nodeCtx) (kernel, error) {
	if len(c.ins) < 1 || len(c.outs) != 1 {
		return nil, c.invalid("has %d inputs and %d outputs", len(c.ins), len(c.outs))
	}
	out := c.outs[0]
	o := c.opts()
	if act := o.Int8(1, 0); act != actNone {
		return nil, c.unsupported("fused %s", actName(act))
	}
	rank := len(out.shape)
	axis := int(o.Int32(0, 0))
	if axis < 0 {
		axis += rank
	}
	if axis < 0 || axis >= rank {
		return nil, c.invalid("axis %d for output %s", o.Int32(0, 0), out)
	}
	if err := c.types("output", out, schema.TypeUint8, schema.TypeInt8, schema.TypeFloat32); err != nil {
		return nil, err
	}
	k := &concat{out: out, outer: 1}
	for _, d := range out.shape[:axis] {
		k.outer *= d
	}
	total := 0
	for i, t := range c.ins {
		if t == nil {
			return nil, c.invalid("input %d is missing", i)
		}
		if t.typ != out.typ || len(t.shape) != rank {
			return nil, c.invalid("input %s does not match output %s", t, out)
		}
		for d := range t.shape {
			if d != axis && t.shape[d] != out.shape[d] {
				return nil, c.invalid("input %s does not match output %s", t, out)
			}
		}
		n := t.typ.Size()
		for _, d := range t.shape[axis:] {
			n *= d
		}
		k.ins = append(k.ins, t)
		k.sizes = append(k.sizes, n)
		total += t.shape[axis]
		var tab [256]byte
		rescale := false
		if out.typ != schema.TypeFloat32 && (t.scale != out.scale || t.zp != out.zp) {
			if out.typ == schema.TypeInt8 {
				return nil, c.invalid("int8 input %s is quantized differently from output %s", t, out)
			}
			rescale = true
			inv := 1 / out.scale
			scale := t.scale * inv
			bias := float32(-t.zp) * scale
			for v := 0; v < 256; v++ {
				q := int32(roundf(float32(float32(v)*scale)+bias)) + out.zp
				tab[v] = byte(min(max(q, 0), 255))
			}
		}
		k.rescale = append(k.rescale, rescale)
		k.tables = append(k.tables, tab)
	}
	if total != out.shape[axis] {
		return nil, c.invalid("inputs add up to %d on axis %d, output %s has %d", total, axis, out, out.shape[axis])
	}
	return k, nil
}
