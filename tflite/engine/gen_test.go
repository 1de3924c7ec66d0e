package engine

import (
	"math"
	"math/rand/v2"

	"github.com/edgeproject/edge/tflite/schema"
)

// Random single-operator models: each generator picks a type, shapes,
// quantization, options and constant data that TFLite 2.9 accepts.

type gen struct {
	r *rand.Rand
}

func (g *gen) intn(lo, hi int) int { return lo + g.r.IntN(hi-lo+1) }
func (g *gen) coin(p float64) bool { return g.r.Float64() < p }

// logUniform returns a float32 between lo and hi, uniform in log scale.
func (g *gen) logUniform(lo, hi float64) float32 {
	return float32(math.Exp(math.Log(lo) + g.r.Float64()*(math.Log(hi)-math.Log(lo))))
}

// qtype picks uint8, int8 or float32 with the given weights.
func (g *gen) qtype(u8, i8, f32 int) schema.TensorType {
	x := g.r.IntN(u8 + i8 + f32)
	switch {
	case x < u8:
		return schema.TypeUint8
	case x < u8+i8:
		return schema.TypeInt8
	}
	return schema.TypeFloat32
}

func (g *gen) zp(typ schema.TensorType) int64 {
	if typ == schema.TypeInt8 {
		return int64(g.intn(-128, 127))
	}
	return int64(g.intn(0, 255))
}

// act tensor spec: quantized for 8-bit types.
func (g *gen) act(name string, typ schema.TensorType, shape []int, scale float32) tspec {
	t := tspec{name: name, typ: typ, shape: shape}
	if typ != schema.TypeFloat32 {
		t.scale = []float32{scale}
		t.zp = []int64{g.zp(typ)}
	}
	return t
}

func (g *gen) bytes(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(g.r.IntN(256))
	}
	return b
}

func (g *gen) floats(n int, amp float64) []float32 {
	f := make([]float32, n)
	for i := range f {
		f[i] = float32((g.r.Float64()*2 - 1) * amp)
	}
	return f
}

func (g *gen) fusedAct() int8 {
	return []int8{actNone, actNone, actRelu, actRelu6, actReluN1To1}[g.r.IntN(5)]
}

// convLike generates CONV_2D, DEPTHWISE_CONV_2D or FULLY_CONNECTED.
func (g *gen) convLike(op schema.BuiltinOp) *modelSpec {
	typ := g.qtype(2, 2, 1)
	m := &modelSpec{}
	n := 1
	if g.coin(0.15) {
		n = 2
	}
	ih, iw := g.intn(1, 11), g.intn(1, 11)
	ic := g.intn(1, 20)
	fh, fw := g.intn(1, 4), g.intn(1, 4)
	if g.coin(0.3) {
		fh, fw = 1, 1
	}
	if g.coin(0.3) {
		fh, fw = 3, 3
	}
	sh, sw := g.intn(1, 3), g.intn(1, 3)
	dh, dw := 1, 1
	if g.coin(0.15) {
		dh, dw = g.intn(1, 2), g.intn(1, 2)
	}
	padding := int8(g.r.IntN(2))
	dm := 1
	var oc int
	switch op {
	case schema.OpDepthwiseConv2D:
		if g.coin(0.25) {
			dm = g.intn(2, 3)
		}
		oc = ic * dm
	case schema.OpFullyConnected:
		oc = g.intn(1, 40)
	default:
		oc = g.intn(1, 24)
	}
	oh := outSize(padding, ih, fh, sh, dh)
	ow := outSize(padding, iw, fw, sw, dw)
	if oh <= 0 || ow <= 0 {
		padding = padSame
		oh, ow = outSize(padding, ih, fh, sh, dh), outSize(padding, iw, fw, sw, dw)
	}
	inScale := g.logUniform(0.004, 0.1)
	wScale := g.logUniform(0.001, 0.05)
	var inShape, wShape, outShape []int
	k := fh * fw * ic
	switch op {
	case schema.OpConv2D:
		inShape, wShape, outShape = []int{n, ih, iw, ic}, []int{oc, fh, fw, ic}, []int{n, oh, ow, oc}
	case schema.OpDepthwiseConv2D:
		inShape, wShape, outShape = []int{n, ih, iw, ic}, []int{1, fh, fw, oc}, []int{n, oh, ow, oc}
		k = fh * fw
	default:
		depth := g.intn(1, 64)
		if g.coin(0.3) {
			inShape = []int{n, g.intn(1, 3), g.intn(1, 3), depth}
		} else {
			inShape = []int{n, depth}
		}
		batch := prod(inShape) / depth
		wShape, outShape = []int{oc, depth}, []int{batch, oc}
		k = depth
	}
	spread := math.Sqrt(float64(k)) * 74 * 74 / 40
	outScale := float32(float64(inScale) * float64(wScale) * spread * float64(g.logUniform(0.3, 3)))
	in := m.add(g.act("input", typ, inShape, inScale))
	nw := prod(wShape)
	var w, b, out int32
	perChannel := typ == schema.TypeInt8 && op != schema.OpFullyConnected && g.coin(0.8)
	switch typ {
	case schema.TypeFloat32:
		w = m.add(tspec{name: "w", typ: typ, shape: wShape, data: f32bytes(g.floats(nw, 1))})
		b = m.add(tspec{name: "b", typ: typ, shape: []int{oc}, data: f32bytes(g.floats(oc, 2))})
	default:
		wt := tspec{name: "w", typ: typ, shape: wShape, data: g.bytes(nw)}
		bias := make([]int32, oc)
		for i := range bias {
			bias[i] = int32(g.intn(-30000, 30000))
		}
		bt := tspec{name: "b", typ: schema.TypeInt32, shape: []int{oc}, data: i32bytes(bias)}
		if perChannel {
			wt.scale = make([]float32, oc)
			wt.zp = make([]int64, oc)
			bt.scale = make([]float32, oc)
			bt.zp = make([]int64, oc)
			for c := range wt.scale {
				wt.scale[c] = wScale * g.logUniform(0.25, 4)
				bt.scale[c] = inScale * wt.scale[c]
			}
			if op == schema.OpDepthwiseConv2D {
				wt.qdim = 3
			}
		} else {
			wt.scale = []float32{wScale}
			wt.zp = []int64{0}
			if typ == schema.TypeUint8 {
				wt.zp = []int64{g.zp(typ)}
			}
			bt.scale = []float32{inScale * wScale}
			bt.zp = []int64{0}
		}
		w = m.add(wt)
		b = m.add(bt)
	}
	out = m.add(g.act("output", typ, outShape, outScale))
	ins := []int32{in, w, b}
	if typ != schema.TypeFloat32 && op != schema.OpDepthwiseConv2D && g.coin(0.1) {
		ins = ins[:2] // no bias
	}
	o := opspec{op: op, ins: ins, outs: []int32{out}}
	act := g.fusedAct()
	switch op {
	case schema.OpConv2D:
		o.optType, o.opts = 1, T{0: padding, 1: int32(sw), 2: int32(sh), 3: act, 4: int32(dw), 5: int32(dh)}
		o.version = map[schema.TensorType]int32{schema.TypeUint8: 1, schema.TypeInt8: 3, schema.TypeFloat32: 1}[typ]
		if dh != 1 || dw != 1 {
			o.version = max(o.version, 2)
		}
	case schema.OpDepthwiseConv2D:
		o.optType, o.opts = 2, T{0: padding, 1: int32(sw), 2: int32(sh), 3: int32(dm), 4: act, 5: int32(dw), 6: int32(dh)}
		o.version = map[schema.TensorType]int32{schema.TypeUint8: 1, schema.TypeInt8: 3, schema.TypeFloat32: 1}[typ]
		if dh != 1 || dw != 1 {
			o.version = max(o.version, 2)
		}
	default:
		o.optType, o.opts = 8, T{0: act}
		o.version = map[schema.TensorType]int32{schema.TypeUint8: 1, schema.TypeInt8: 4, schema.TypeFloat32: 1}[typ]
	}
	m.ops = []opspec{o}
	m.inputs, m.outputs = []int32{in}, []int32{out}
	return m
}

// binary generates ADD or MUL, with broadcasting.
func (g *gen) binary(op schema.BuiltinOp) *modelSpec {
	typ := g.qtype(2, 2, 1)
	m := &modelSpec{}
	shape := []int{1, g.intn(1, 7), g.intn(1, 7), g.intn(1, 20)}
	s1, s2 := shape, shape
	switch g.r.IntN(4) {
	case 1:
		s2 = []int{1, 1, 1, shape[3]}
	case 2:
		s1 = []int{1, 1, 1, shape[3]}
	case 3:
		s2 = []int{1, shape[1], shape[2], 1}
	}
	sc1, sc2 := g.logUniform(0.005, 0.2), g.logUniform(0.005, 0.2)
	var outScale float32
	if op == schema.OpAdd {
		outScale = max(sc1, sc2) * g.logUniform(0.7, 3)
	} else {
		outScale = sc1 * sc2 * g.logUniform(10, 200)
	}
	a := m.add(g.act("a", typ, s1, sc1))
	b := m.add(g.act("b", typ, s2, sc2))
	out := m.add(g.act("out", typ, shape, outScale))
	o := opspec{op: op, ins: []int32{a, b}, outs: []int32{out}}
	act := g.fusedAct()
	if op == schema.OpAdd {
		o.optType, o.opts = 11, T{0: act}
	} else {
		o.optType, o.opts = 21, T{0: act}
	}
	if typ == schema.TypeInt8 {
		o.version = 2
	}
	m.ops = []opspec{o}
	m.inputs, m.outputs = []int32{a, b}, []int32{out}
	return m
}

func (g *gen) avgPool() *modelSpec {
	typ := g.qtype(2, 2, 1)
	m := &modelSpec{}
	n, ih, iw, c := 1, g.intn(1, 12), g.intn(1, 12), g.intn(1, 20)
	fh, fw := g.intn(1, 5), g.intn(1, 5)
	if g.coin(0.2) {
		fh, fw = ih, iw // global pooling, as in MobileNets
	}
	sh, sw := g.intn(1, 3), g.intn(1, 3)
	padding := int8(g.r.IntN(2))
	oh, ow := outSize(padding, ih, fh, sh, 1), outSize(padding, iw, fw, sw, 1)
	if oh <= 0 || ow <= 0 {
		padding = padSame
		oh, ow = outSize(padding, ih, fh, sh, 1), outSize(padding, iw, fw, sw, 1)
	}
	scale := g.logUniform(0.005, 0.2)
	it := g.act("in", typ, []int{n, ih, iw, c}, scale)
	ot := it
	ot.name, ot.shape = "out", []int{n, oh, ow, c}
	in, out := m.add(it), m.add(ot)
	o := opspec{op: schema.OpAveragePool2D, ins: []int32{in}, outs: []int32{out}, optType: 5,
		opts: T{0: padding, 1: int32(sw), 2: int32(sh), 3: int32(fw), 4: int32(fh), 5: g.fusedAct()}}
	if typ == schema.TypeInt8 {
		o.version = 2
	}
	m.ops = []opspec{o}
	m.inputs, m.outputs = []int32{in}, []int32{out}
	return m
}

func (g *gen) mean() *modelSpec {
	typ := g.qtype(2, 2, 1)
	m := &modelSpec{}
	h, w, c := g.intn(1, 10), g.intn(1, 10), g.intn(1, 24)
	keep := g.coin(0.5)
	scale := g.logUniform(0.005, 0.2)
	it := g.act("in", typ, []int{1, h, w, c}, scale)
	ot := g.act("out", typ, []int{1, c}, scale*g.logUniform(0.5, 2))
	if keep {
		ot.shape = []int{1, 1, 1, c}
	}
	if typ != schema.TypeFloat32 && g.coin(0.3) {
		ot.scale, ot.zp = it.scale, it.zp
	}
	axes := []int32{1, 2}
	if g.coin(0.3) {
		axes = []int32{2, 1}
	}
	in := m.add(it)
	ax := m.add(tspec{name: "axes", typ: schema.TypeInt32, shape: []int{2}, data: i32bytes(axes)})
	out := m.add(ot)
	o := opspec{op: schema.OpMean, ins: []int32{in, ax}, outs: []int32{out}, optType: 27, opts: T{0: keep}}
	if typ == schema.TypeInt8 {
		o.version = 2
	}
	m.ops = []opspec{o}
	m.inputs, m.outputs = []int32{in}, []int32{out}
	return m
}

// activation generates SOFTMAX, LOGISTIC, HARD_SWISH, RELU or RELU6.
func (g *gen) activation(op schema.BuiltinOp) *modelSpec {
	typ := g.qtype(2, 2, 1)
	m := &modelSpec{}
	var shape []int
	if op == schema.OpSoftmax {
		shape = []int{g.intn(1, 3), g.intn(1, 1100)}
	} else {
		shape = []int{1, g.intn(1, 6), g.intn(1, 6), g.intn(1, 24)}
	}
	inScale := g.logUniform(0.002, 0.3)
	it := g.act("in", typ, shape, inScale)
	ot := g.act("out", typ, shape, inScale*g.logUniform(0.3, 3))
	switch op {
	case schema.OpSoftmax, schema.OpLogistic:
		if typ != schema.TypeFloat32 {
			ot.scale = []float32{1.0 / 256}
			ot.zp = []int64{0}
			if typ == schema.TypeInt8 {
				ot.zp = []int64{-128}
			}
		}
	}
	in, out := m.add(it), m.add(ot)
	o := opspec{op: op, ins: []int32{in}, outs: []int32{out}}
	if op == schema.OpSoftmax {
		beta := float32(1)
		if g.coin(0.3) {
			beta = g.logUniform(0.3, 3)
		}
		o.optType, o.opts = 9, T{0: beta}
	}
	if typ == schema.TypeInt8 && op != schema.OpHardSwish {
		o.version = 2
	}
	m.ops = []opspec{o}
	m.inputs, m.outputs = []int32{in}, []int32{out}
	return m
}

func (g *gen) pad() *modelSpec {
	typ := g.qtype(1, 1, 1)
	m := &modelSpec{}
	shape := []int{1, g.intn(1, 6), g.intn(1, 6), g.intn(1, 8)}
	pads := make([]int32, 8)
	outShape := make([]int, 4)
	for i := range shape {
		if i > 0 {
			pads[2*i], pads[2*i+1] = int32(g.intn(0, 2)), int32(g.intn(0, 2))
		}
		outShape[i] = shape[i] + int(pads[2*i]+pads[2*i+1])
	}
	scale := g.logUniform(0.01, 0.1)
	it := g.act("in", typ, shape, scale)
	ot := it
	ot.name, ot.shape = "out", outShape
	in := m.add(it)
	p := m.add(tspec{name: "pads", typ: schema.TypeInt32, shape: []int{4, 2}, data: i32bytes(pads)})
	out := m.add(ot)
	o := opspec{op: schema.OpPad, ins: []int32{in, p}, outs: []int32{out}, optType: 22, opts: T{}}
	if typ == schema.TypeInt8 {
		o.version = 2
	}
	m.ops = []opspec{o}
	m.inputs, m.outputs = []int32{in}, []int32{out}
	return m
}

func (g *gen) concat() *modelSpec {
	typ := g.qtype(2, 1, 1)
	m := &modelSpec{}
	base := []int{1, g.intn(1, 5), g.intn(1, 5), g.intn(1, 6)}
	axis := 3
	if g.coin(0.4) {
		axis = g.intn(1, 3)
	}
	nin := g.intn(2, 4)
	outScale := g.logUniform(0.01, 0.1)
	outZP := g.zp(typ)
	var ins []int32
	total := 0
	for i := 0; i < nin; i++ {
		s := append([]int(nil), base...)
		s[axis] = g.intn(1, 5)
		total += s[axis]
		t := g.act("in", typ, s, outScale)
		if typ == schema.TypeUint8 && g.coin(0.6) {
			t.scale = []float32{outScale * g.logUniform(0.5, 2)}
		} else if typ != schema.TypeFloat32 {
			t.zp = []int64{outZP}
		}
		ins = append(ins, m.add(t))
	}
	os := append([]int(nil), base...)
	os[axis] = total
	ot := g.act("out", typ, os, outScale)
	if typ != schema.TypeFloat32 {
		ot.zp = []int64{outZP}
	}
	out := m.add(ot)
	ax := int32(axis)
	if g.coin(0.3) {
		ax -= 4
	}
	o := opspec{op: schema.OpConcatenation, ins: ins, outs: []int32{out}, optType: 10, opts: T{0: ax, 1: int8(0)}}
	if typ == schema.TypeInt8 {
		o.version = 2
	}
	m.ops = []opspec{o}
	m.inputs, m.outputs = ins, []int32{out}
	return m
}

func (g *gen) quantize() *modelSpec {
	m := &modelSpec{}
	shape := []int{1, g.intn(1, 5), g.intn(1, 5), g.intn(1, 10)}
	var from, to schema.TensorType
	switch g.r.IntN(5) {
	case 0:
		from, to = schema.TypeFloat32, schema.TypeUint8
	case 1:
		from, to = schema.TypeFloat32, schema.TypeInt8
	case 2:
		from, to = schema.TypeUint8, schema.TypeInt8
	case 3:
		from, to = schema.TypeInt8, schema.TypeUint8
	default:
		from, to = schema.TypeInt8, schema.TypeInt8
	}
	inScale := g.logUniform(0.005, 0.1)
	outScale := inScale
	if from == schema.TypeFloat32 {
		outScale = g.logUniform(0.005, 0.05)
	} else if g.coin(0.6) {
		outScale = inScale * g.logUniform(0.5, 2)
	}
	it := g.act("in", from, shape, inScale)
	ot := g.act("out", to, shape, outScale)
	if from == schema.TypeUint8 && to == schema.TypeInt8 && g.coin(0.5) {
		ot.zp = []int64{it.zp[0] - 128}
	}
	in, out := m.add(it), m.add(ot)
	o := opspec{op: schema.OpQuantize, ins: []int32{in}, outs: []int32{out}}
	if to == schema.TypeInt8 || from != schema.TypeFloat32 {
		o.version = 2
	}
	m.ops = []opspec{o}
	m.inputs, m.outputs = []int32{in}, []int32{out}
	return m
}

func (g *gen) dequantize() *modelSpec {
	m := &modelSpec{}
	typ := g.qtype(1, 1, 0)
	shape := []int{1, g.intn(1, 5), g.intn(1, 5), g.intn(1, 10)}
	in := m.add(g.act("in", typ, shape, g.logUniform(0.001, 0.5)))
	out := m.add(tspec{name: "out", typ: schema.TypeFloat32, shape: shape})
	o := opspec{op: schema.OpDequantize, ins: []int32{in}, outs: []int32{out}}
	if typ == schema.TypeInt8 {
		o.version = 2
	}
	m.ops = []opspec{o}
	m.inputs, m.outputs = []int32{in}, []int32{out}
	return m
}

func (g *gen) reshape(op schema.BuiltinOp) *modelSpec {
	m := &modelSpec{}
	typ := g.qtype(1, 1, 1)
	c := g.intn(1, 30)
	it := g.act("in", typ, []int{1, 1, 1, c}, 0.05)
	ot := it
	ot.name, ot.shape = "out", []int{1, c}
	in := m.add(it)
	var o opspec
	if op == schema.OpReshape {
		sh := m.add(tspec{name: "shape", typ: schema.TypeInt32, shape: []int{2}, data: i32bytes([]int32{1, int32(c)})})
		out := m.add(ot)
		o = opspec{op: op, ins: []int32{in, sh}, outs: []int32{out}, optType: 17, opts: T{0: []int32{1, int32(c)}}}
	} else {
		out := m.add(ot)
		o = opspec{op: op, ins: []int32{in}, outs: []int32{out}, optType: 30, opts: T{0: []int32{1, 2}}}
	}
	m.ops = []opspec{o}
	m.inputs, m.outputs = []int32{in}, o.outs
	return m
}

// opKinds lists the generators by name.
var opKinds = []struct {
	name string
	gen  func(*gen) *modelSpec
}{
	{"CONV_2D", func(g *gen) *modelSpec { return g.convLike(schema.OpConv2D) }},
	{"DEPTHWISE_CONV_2D", func(g *gen) *modelSpec { return g.convLike(schema.OpDepthwiseConv2D) }},
	{"FULLY_CONNECTED", func(g *gen) *modelSpec { return g.convLike(schema.OpFullyConnected) }},
	{"ADD", func(g *gen) *modelSpec { return g.binary(schema.OpAdd) }},
	{"MUL", func(g *gen) *modelSpec { return g.binary(schema.OpMul) }},
	{"AVERAGE_POOL_2D", (*gen).avgPool},
	{"MEAN", (*gen).mean},
	{"SOFTMAX", func(g *gen) *modelSpec { return g.activation(schema.OpSoftmax) }},
	{"LOGISTIC", func(g *gen) *modelSpec { return g.activation(schema.OpLogistic) }},
	{"HARD_SWISH", func(g *gen) *modelSpec { return g.activation(schema.OpHardSwish) }},
	{"RELU", func(g *gen) *modelSpec { return g.activation(schema.OpRelu) }},
	{"RELU6", func(g *gen) *modelSpec { return g.activation(schema.OpRelu6) }},
	{"PAD", (*gen).pad},
	{"CONCATENATION", (*gen).concat},
	{"QUANTIZE", (*gen).quantize},
	{"DEQUANTIZE", (*gen).dequantize},
	{"RESHAPE", func(g *gen) *modelSpec { return g.reshape(schema.OpReshape) }},
	{"SQUEEZE", func(g *gen) *modelSpec { return g.reshape(schema.OpSqueeze) }},
	{"TFLite_Detection_PostProcess", (*gen).postProcess},
}

// postProcess generates TFLite_Detection_PostProcess with uint8 inputs,
// quantized anchors and both NMS modes.
func (g *gen) postProcess() *modelSpec {
	m := &modelSpec{}
	n := g.intn(4, 300)
	classes := g.intn(1, 12)
	bg := g.intn(0, 1)
	anchors := make([]byte, 4*n)
	for i := 0; i < n; i++ {
		anchors[4*i] = byte(g.intn(0, 255))
		anchors[4*i+1] = byte(g.intn(0, 255))
		anchors[4*i+2] = byte(g.intn(10, 120))
		anchors[4*i+3] = byte(g.intn(10, 120))
	}
	bt := tspec{name: "boxes", typ: schema.TypeUint8, shape: []int{1, n, 4}, scale: []float32{g.logUniform(0.02, 0.2)}, zp: []int64{int64(g.intn(100, 156))}}
	st := tspec{name: "scores", typ: schema.TypeUint8, shape: []int{1, n, classes + bg}, scale: []float32{1.0 / 256}, zp: []int64{0}}
	at := tspec{name: "anchors", typ: schema.TypeUint8, shape: []int{n, 4}, scale: []float32{1.0 / 255}, zp: []int64{0}, data: anchors}
	b, s, a := m.add(bt), m.add(st), m.add(at)
	var outs []int32
	for _, name := range []string{"boxes_out", "classes_out", "scores_out", "num_out"} {
		outs = append(outs, m.add(tspec{name: name, typ: schema.TypeFloat32}))
	}
	opts := []flexKV{
		{"max_detections", g.intn(1, 12)},
		{"max_classes_per_detection", g.intn(1, 3)},
		{"num_classes", classes},
		{"nms_score_threshold", float32(g.r.Float64() * 0.7)},
		{"nms_iou_threshold", float32(0.2 + g.r.Float64()*0.7)},
		{"y_scale", float32(10)}, {"x_scale", float32(10)}, {"h_scale", float32(5)}, {"w_scale", float32(5)},
	}
	if g.coin(0.5) {
		opts = append(opts, flexKV{"use_regular_nms", g.coin(0.6)})
	}
	if g.coin(0.5) {
		opts = append(opts, flexKV{"detections_per_class", g.intn(1, 30)})
	}
	m.ops = []opspec{{op: schema.OpCustom, custom: "TFLite_Detection_PostProcess", ins: []int32{b, s, a}, outs: outs, custOpt: flexMapBytes(opts)}}
	m.inputs, m.outputs = []int32{b, s}, outs
	return m
}

func newRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, seed)) }
