package arch

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/edgeproject/edge/tflite/schema"
	"github.com/edgeproject/edge/tflite/schema/fbwriter"
)

// Operator versions written: those TFLite's converter gives full-integer
// (int8, per-channel) graphs, all accepted by TFLite 2.9's builtin resolver.
const (
	vConv      = 3
	vDepthwise = 3
	vAdd       = 2
	vMul       = 2
	vHardSwish = 1
	vMean      = 2
	vFC        = 4
	vReshape   = 1
	vSoftmax   = 2
	vQuantize  = 1
)

// span is the real range an int8 activation tensor is quantized for.
type span struct{ lo, hi float32 }

// Activation ranges: the quantization of each kind of tensor. They are
// what a calibration of a trained network typically finds, so that the
// quantized kernels see realistic scales and zero points.
var (
	spanInput  = span{-1, 1}          // pixels p as (p-128)/128
	spanRelu6  = span{0, 6}           // after RELU6
	spanRelu   = span{0, 8}           // after RELU (MobileNet V3 "RE" layers)
	spanLinear = span{-8, 8}          // linear bottlenecks, residual sums, pre-activations
	spanHSwish = span{-0.5, 8}        // after HARD_SWISH (min is -0.375)
	spanGate   = span{0, 1}           // hard-sigmoid gates of squeeze-and-excite
	spanLogits = span{-16, 16}        // classifier logits
	spanSoft   = span{0, 255.0 / 256} // SOFTMAX output: TFLite wants scale 1/256, zero point -128
)

// quant returns the int8 scale and zero point covering s.
func (s span) quant() (float32, int32) {
	scale := (s.hi - s.lo) / 255
	zp := int32(math.Round(float64(-128 - s.lo/scale)))
	return scale, max(-128, min(127, zp))
}

// tensor is an int8 activation tensor of the graph being built.
type tensor struct {
	id    int32
	shape []int32 // NHWC, or [N C] after a flattening MEAN
	scale float32
	zp    int32
}

func (t tensor) channels() int { return int(t.shape[len(t.shape)-1]) }

// net builds one quantized graph with synthetic weights drawn from a
// seeded generator, so that the same options give the same bytes.
type net struct {
	b   *fbwriter.Builder
	rng *rand.Rand
	n   int // layer counter, for names
}

func newNet(description string, seed uint64) *net {
	return &net{b: fbwriter.NewBuilder(description), rng: rand.New(rand.NewPCG(seed, 0x6d6f62696c656e65))}
}

func (n *net) name(kind string) string {
	n.n++
	return fmt.Sprintf("%s_%d", kind, n.n)
}

// activation adds an int8 activation tensor quantized for s.
func (n *net) activation(name string, shape []int32, s span) tensor {
	scale, zp := s.quant()
	id := n.b.Tensor(fbwriter.Tensor{Name: name, Shape: shape, Type: schema.TypeInt8,
		Quantization: &fbwriter.Quantization{Scale: []float32{scale}, ZeroPoint: []int64{int64(zp)}}})
	return tensor{id: id, shape: shape, scale: scale, zp: zp}
}

// weights draws int8 weights for outC filters of fanIn inputs each, and
// per-channel scales giving each filter a He-like standard deviation
// sqrt(2/fanIn), varied by up to ±50% between channels. The layout is
// filter-major: element (c, i) is at c*fanIn + i.
func (n *net) weights(outC, fanIn int) ([]byte, []float32) {
	q := make([]byte, outC*fanIn)
	for i := range q {
		q[i] = byte(int8(n.rng.IntN(255) - 127))
	}
	scales := make([]float32, outC)
	std := math.Sqrt(2 / float64(fanIn))
	for c := range scales {
		// A uniform int8 in [-127, 127] has standard deviation 127/sqrt(3).
		scales[c] = float32(std * (0.5 + n.rng.Float64()) / (127 / math.Sqrt(3)))
	}
	return q, scales
}

// bias adds an int32 bias per channel, quantized at inScale × wScale[c]
// with zero point 0 as TFLite requires, real values in [-0.25, 0.25].
func (n *net) bias(name string, inScale float32, wScales []float32) int32 {
	data := make([]byte, 0, 4*len(wScales))
	scales := make([]float32, len(wScales))
	zps := make([]int64, len(wScales))
	for c, ws := range wScales {
		scales[c] = inScale * ws
		real := (n.rng.Float64() - 0.5) / 2
		data = binary.LittleEndian.AppendUint32(data, uint32(int32(math.Round(real/float64(scales[c])))))
	}
	return n.b.Const(fbwriter.Tensor{Name: name, Shape: []int32{int32(len(wScales))}, Type: schema.TypeInt32,
		Quantization: &fbwriter.Quantization{Scale: scales, ZeroPoint: zps}}, data)
}

func sameOut(in, stride int32) int32 { return (in + stride - 1) / stride }

// conv adds a CONV_2D with a k×k filter, SAME padding, per-channel int8
// weights [outC k k inC], an int32 bias and the fused activation act; its
// output is quantized for out.
func (n *net) conv(x tensor, outC, k, stride int, act fbwriter.Activation, out span) tensor {
	name := n.name("conv")
	inC := x.channels()
	q, scales := n.weights(outC, k*k*inC)
	w := n.b.Const(fbwriter.Tensor{Name: name + "/weights", Shape: []int32{int32(outC), int32(k), int32(k), int32(inC)}, Type: schema.TypeInt8,
		Quantization: &fbwriter.Quantization{Scale: scales, ZeroPoint: make([]int64, outC)}}, q)
	b := n.bias(name+"/bias", x.scale, scales)
	y := n.activation(name, []int32{x.shape[0], sameOut(x.shape[1], int32(stride)), sameOut(x.shape[2], int32(stride)), int32(outC)}, out)
	n.b.Op(schema.OpConv2D, vConv, []int32{x.id, w, b}, []int32{y.id},
		&fbwriter.Conv2DOptions{Padding: fbwriter.Same, StrideW: int32(stride), StrideH: int32(stride), Activation: act})
	return y
}

// depthwise adds a DEPTHWISE_CONV_2D (multiplier 1) with a k×k filter,
// SAME padding and per-channel weights [1 k k C].
func (n *net) depthwise(x tensor, k, stride int, act fbwriter.Activation, out span) tensor {
	name := n.name("depthwise")
	c := x.channels()
	// Draw filter-major, then transpose to TFLite's [1 k k C] layout.
	fm, scales := n.weights(c, k*k)
	q := make([]byte, len(fm))
	for ch := 0; ch < c; ch++ {
		for i := 0; i < k*k; i++ {
			q[i*c+ch] = fm[ch*k*k+i]
		}
	}
	w := n.b.Const(fbwriter.Tensor{Name: name + "/weights", Shape: []int32{1, int32(k), int32(k), int32(c)}, Type: schema.TypeInt8,
		Quantization: &fbwriter.Quantization{Scale: scales, ZeroPoint: make([]int64, c), QuantizedDimension: 3}}, q)
	b := n.bias(name+"/bias", x.scale, scales)
	y := n.activation(name, []int32{x.shape[0], sameOut(x.shape[1], int32(stride)), sameOut(x.shape[2], int32(stride)), int32(c)}, out)
	n.b.Op(schema.OpDepthwiseConv2D, vDepthwise, []int32{x.id, w, b}, []int32{y.id},
		&fbwriter.DepthwiseConv2DOptions{Padding: fbwriter.Same, StrideW: int32(stride), StrideH: int32(stride), DepthMultiplier: 1, Activation: act})
	return y
}

// fullyConnected adds a FULLY_CONNECTED from [N in] to [N units] with
// per-tensor int8 weights (TFLite 2.9 has no per-channel int8 kernel for it).
func (n *net) fullyConnected(x tensor, units int, out span) tensor {
	name := n.name("fc")
	in := x.channels()
	q, scales := n.weights(units, in)
	// One scale for the whole matrix: the mean of the drawn ones.
	var s float32
	for _, v := range scales {
		s += v
	}
	s /= float32(len(scales))
	w := n.b.Const(fbwriter.Tensor{Name: name + "/weights", Shape: []int32{int32(units), int32(in)}, Type: schema.TypeInt8,
		Quantization: &fbwriter.Quantization{Scale: []float32{s}, ZeroPoint: []int64{0}}}, q)
	b := n.biasUniform(name+"/bias", x.scale*s, units)
	y := n.activation(name, []int32{x.shape[0], int32(units)}, out)
	n.b.Op(schema.OpFullyConnected, vFC, []int32{x.id, w, b}, []int32{y.id}, &fbwriter.FullyConnectedOptions{})
	return y
}

// biasUniform adds an int32 bias of units values sharing one scale.
func (n *net) biasUniform(name string, scale float32, units int) int32 {
	data := make([]byte, 0, 4*units)
	for i := 0; i < units; i++ {
		real := (n.rng.Float64() - 0.5) / 2
		data = binary.LittleEndian.AppendUint32(data, uint32(int32(math.Round(real/float64(scale)))))
	}
	return n.b.Const(fbwriter.Tensor{Name: name, Shape: []int32{int32(units)}, Type: schema.TypeInt32,
		Quantization: &fbwriter.Quantization{Scale: []float32{scale}, ZeroPoint: []int64{0}}}, data)
}

// hardSwish adds a HARD_SWISH.
func (n *net) hardSwish(x tensor) tensor {
	y := n.activation(n.name("hard_swish"), x.shape, spanHSwish)
	n.b.Op(schema.OpHardSwish, vHardSwish, []int32{x.id}, []int32{y.id}, nil)
	return y
}

// add adds an element-wise ADD (broadcasting) with a fused activation.
func (n *net) add(a, b tensor, act fbwriter.Activation, out span) tensor {
	y := n.activation(n.name("add"), a.shape, out)
	n.b.Op(schema.OpAdd, vAdd, []int32{a.id, b.id}, []int32{y.id}, &fbwriter.AddOptions{Activation: act})
	return y
}

// mul adds an element-wise MUL (broadcasting); the output takes a's shape.
func (n *net) mul(a, b tensor, out span) tensor {
	y := n.activation(n.name("mul"), a.shape, out)
	n.b.Op(schema.OpMul, vMul, []int32{a.id, b.id}, []int32{y.id}, &fbwriter.MulOptions{})
	return y
}

// scalar adds a constant int8 tensor of shape [1] holding v, quantized as
// 127 with scale v/127.
func (n *net) scalar(name string, v float32) tensor {
	scale := v / 127
	id := n.b.Const(fbwriter.Tensor{Name: name, Shape: []int32{1}, Type: schema.TypeInt8,
		Quantization: &fbwriter.Quantization{Scale: []float32{scale}, ZeroPoint: []int64{0}}}, []byte{127})
	return tensor{id: id, shape: []int32{1}, scale: scale}
}

// int32s adds a constant int32 vector (a shape or an axis list).
func (n *net) int32s(name string, v ...int32) int32 {
	data := make([]byte, 0, 4*len(v))
	for _, x := range v {
		data = binary.LittleEndian.AppendUint32(data, uint32(x))
	}
	return n.b.Const(fbwriter.Tensor{Name: name, Shape: []int32{int32(len(v))}, Type: schema.TypeInt32}, data)
}

// mean averages over height and width: [N H W C] to [N 1 1 C] with
// keepDims, else [N C]. The output keeps the input's quantization.
func (n *net) mean(x tensor, keepDims bool) tensor {
	name := n.name("mean")
	axes := n.int32s(name+"/axes", 1, 2)
	shape := []int32{x.shape[0], int32(x.channels())}
	if keepDims {
		shape = []int32{x.shape[0], 1, 1, int32(x.channels())}
	}
	id := n.b.Tensor(fbwriter.Tensor{Name: name, Shape: shape, Type: schema.TypeInt8,
		Quantization: &fbwriter.Quantization{Scale: []float32{x.scale}, ZeroPoint: []int64{int64(x.zp)}}})
	n.b.Op(schema.OpMean, vMean, []int32{x.id, axes}, []int32{id}, &fbwriter.ReducerOptions{KeepDims: keepDims})
	return tensor{id: id, shape: shape, scale: x.scale, zp: x.zp}
}

// flatten reshapes x to [N C], keeping its quantization.
func (n *net) flatten(x tensor) tensor {
	name := n.name("reshape")
	shape := []int32{x.shape[0], int32(x.channels())}
	s := n.int32s(name+"/shape", shape...)
	id := n.b.Tensor(fbwriter.Tensor{Name: name, Shape: shape, Type: schema.TypeInt8,
		Quantization: &fbwriter.Quantization{Scale: []float32{x.scale}, ZeroPoint: []int64{int64(x.zp)}}})
	n.b.Op(schema.OpReshape, vReshape, []int32{x.id, s}, []int32{id}, &fbwriter.ReshapeOptions{NewShape: shape})
	return tensor{id: id, shape: shape, scale: x.scale, zp: x.zp}
}

// softmax adds a SOFTMAX with the output quantization TFLite requires.
func (n *net) softmax(x tensor) tensor {
	y := n.activation("probabilities", x.shape, spanSoft)
	n.b.Op(schema.OpSoftmax, vSoftmax, []int32{x.id}, []int32{y.id}, &fbwriter.SoftmaxOptions{Beta: 1})
	return y
}

// input adds the graph input [1 res res 3]: int8 (pixels − 128, scale
// 1/128), or uint8 (raw pixels, zero point 128) followed by a QUANTIZE to
// int8 when uint8IO.
func (n *net) input(res int, uint8IO bool) (graphIn int32, x tensor) {
	shape := []int32{1, int32(res), int32(res), 3}
	if !uint8IO {
		x = n.activation("input", shape, spanInput)
		return x.id, x
	}
	in := n.b.Tensor(fbwriter.Tensor{Name: "input", Shape: shape, Type: schema.TypeUint8,
		Quantization: &fbwriter.Quantization{Scale: []float32{1.0 / 128}, ZeroPoint: []int64{128}}})
	x = n.activation("input_int8", shape, spanInput)
	n.b.Op(schema.OpQuantize, vQuantize, []int32{in}, []int32{x.id}, nil)
	return in, x
}

// output ends the graph at the probabilities y, with a QUANTIZE to uint8
// (scale 1/256, zero point 0) when uint8IO.
func (n *net) output(graphIn int32, y tensor, uint8IO bool) {
	out := y.id
	if uint8IO {
		out = n.b.Tensor(fbwriter.Tensor{Name: "probabilities_uint8", Shape: y.shape, Type: schema.TypeUint8,
			Quantization: &fbwriter.Quantization{Scale: []float32{1.0 / 256}, ZeroPoint: []int64{0}}})
		n.b.Op(schema.OpQuantize, vQuantize, []int32{y.id}, []int32{out}, nil)
	}
	n.b.SetIO([]int32{graphIn}, []int32{out})
	// TFLite reads this to tell which runtime a model needs; the
	// converter writes it for every model.
	n.b.Metadata("min_runtime_version", []byte("2.3.0\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"))
}
