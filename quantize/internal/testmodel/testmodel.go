// Package testmodel builds small float TFLite models with seeded random
// weights, for the quantizer's tests: one that uses every operator the
// quantizer handles, and one-operator models for error cases.
package testmodel

import (
	"encoding/binary"
	"math"
	"math/rand/v2"

	"github.com/edgeproject/edge/tflite/schema"
	"github.com/edgeproject/edge/tflite/schema/fbwriter"
)

// net builds a float graph.
type net struct {
	b   *fbwriter.Builder
	rng *rand.Rand
}

func (n *net) tensor(name string, shape ...int32) int32 {
	return n.b.Tensor(fbwriter.Tensor{Name: name, Shape: shape, Type: schema.TypeFloat32})
}

// floats adds a float32 constant of the given shape, values uniform in
// [-scale, scale] around offset.
func (n *net) floats(name string, offset, scale float64, shape ...int32) int32 {
	count := 1
	for _, d := range shape {
		count *= int(d)
	}
	data := make([]byte, 0, 4*count)
	for i := 0; i < count; i++ {
		v := offset + scale*(2*n.rng.Float64()-1)
		data = binary.LittleEndian.AppendUint32(data, math.Float32bits(float32(v)))
	}
	return n.b.Const(fbwriter.Tensor{Name: name, Shape: shape, Type: schema.TypeFloat32}, data)
}

func (n *net) ints(name string, v ...int32) int32 {
	data := make([]byte, 0, 4*len(v))
	for _, x := range v {
		data = binary.LittleEndian.AppendUint32(data, uint32(x))
	}
	return n.b.Const(fbwriter.Tensor{Name: name, Shape: []int32{int32(len(v))}, Type: schema.TypeInt32}, data)
}

// AllOps returns a float model with a [1 32 32 3] image input that uses
// every operator the quantizer handles — CONV_2D, DEPTHWISE_CONV_2D, PAD,
// MAX_POOL_2D, HARD_SWISH, ADD (with a constant too), MUL by a constant,
// RELU, CONCATENATION, RELU6, AVERAGE_POOL_2D, MEAN, SQUEEZE, RESHAPE,
// FULLY_CONNECTED, SOFTMAX, LOGISTIC, TANH — with three outputs:
// probabilities (SOFTMAX), LOGISTIC and TANH of the same logits. Weights
// are drawn from seed; every operator has version 1, as float models do.
func AllOps(seed uint64) *fbwriter.Model {
	n := &net{b: fbwriter.NewBuilder("testmodel: every operator"), rng: rand.New(rand.NewPCG(seed, 7))}
	b := n.b
	x := n.tensor("input", 1, 32, 32, 3)

	c1 := n.tensor("conv1", 1, 16, 16, 8)
	b.Op(schema.OpConv2D, 1, []int32{x, n.floats("conv1/w", 0, 0.4, 8, 3, 3, 3), n.floats("conv1/b", 0, 0.2, 8)}, []int32{c1},
		&fbwriter.Conv2DOptions{Padding: fbwriter.Same, StrideW: 2, StrideH: 2, Activation: fbwriter.Relu6})
	d1 := n.tensor("dw1", 1, 16, 16, 8)
	b.Op(schema.OpDepthwiseConv2D, 1, []int32{c1, n.floats("dw1/w", 0, 0.5, 1, 3, 3, 8), n.floats("dw1/b", 0.1, 0.2, 8)}, []int32{d1},
		&fbwriter.DepthwiseConv2DOptions{Padding: fbwriter.Same, StrideW: 1, StrideH: 1, DepthMultiplier: 1, Activation: fbwriter.Relu})
	p1 := n.tensor("pad1", 1, 18, 18, 8)
	b.Op(schema.OpPad, 1, []int32{d1, n.b.Const(fbwriter.Tensor{Name: "pad1/paddings", Shape: []int32{4, 2}, Type: schema.TypeInt32},
		int32Bytes(0, 0, 1, 1, 1, 1, 0, 0))}, []int32{p1}, nil)
	m1 := n.tensor("maxpool1", 1, 9, 9, 8)
	b.Op(schema.OpMaxPool2D, 1, []int32{p1}, []int32{m1},
		&fbwriter.Pool2DOptions{Padding: fbwriter.Valid, StrideW: 2, StrideH: 2, FilterWidth: 2, FilterHeight: 2})
	c2 := n.tensor("conv2", 1, 9, 9, 8)
	b.Op(schema.OpConv2D, 1, []int32{m1, n.floats("conv2/w", 0, 0.5, 8, 1, 1, 8), n.floats("conv2/b", 0, 0.3, 8)}, []int32{c2},
		&fbwriter.Conv2DOptions{Padding: fbwriter.Same, StrideW: 1, StrideH: 1})
	h1 := n.tensor("hswish1", 1, 9, 9, 8)
	b.Op(schema.OpHardSwish, 1, []int32{c2}, []int32{h1}, nil)
	a1 := n.tensor("add1", 1, 9, 9, 8)
	b.Op(schema.OpAdd, 1, []int32{h1, m1}, []int32{a1}, &fbwriter.AddOptions{})
	mu1 := n.tensor("mul1", 1, 9, 9, 8)
	b.Op(schema.OpMul, 1, []int32{a1, n.floats("mul1/gain", 1, 0.5, 8)}, []int32{mu1}, &fbwriter.MulOptions{})
	r1 := n.tensor("relu1", 1, 9, 9, 8)
	b.Op(schema.OpRelu, 1, []int32{mu1}, []int32{r1}, nil)
	cat := n.tensor("concat", 1, 9, 9, 16)
	b.Op(schema.OpConcatenation, 1, []int32{r1, c2}, []int32{cat}, &fbwriter.ConcatenationOptions{Axis: 3})
	r6 := n.tensor("relu6", 1, 9, 9, 16)
	b.Op(schema.OpRelu6, 1, []int32{cat}, []int32{r6}, nil)
	ap := n.tensor("avgpool", 1, 1, 1, 16)
	b.Op(schema.OpAveragePool2D, 1, []int32{r6}, []int32{ap},
		&fbwriter.Pool2DOptions{Padding: fbwriter.Valid, StrideW: 1, StrideH: 1, FilterWidth: 9, FilterHeight: 9})
	mean := n.tensor("mean", 1, 1, 1, 16)
	b.Op(schema.OpMean, 1, []int32{cat, n.ints("mean/axes", 1, 2)}, []int32{mean}, &fbwriter.ReducerOptions{KeepDims: true})
	sum := n.tensor("sum", 1, 1, 1, 16)
	b.Op(schema.OpAdd, 1, []int32{ap, mean}, []int32{sum}, &fbwriter.AddOptions{Activation: fbwriter.Relu})
	// SQUEEZE without options squeezes every dimension of size 1.
	sq := n.tensor("squeeze", 16)
	b.Op(schema.OpSqueeze, 1, []int32{sum}, []int32{sq}, nil)
	rs := n.tensor("reshape", 1, 16)
	b.Op(schema.OpReshape, 1, []int32{sq, n.ints("reshape/shape", 1, 16)}, []int32{rs}, &fbwriter.ReshapeOptions{NewShape: []int32{1, 16}})
	biased := n.tensor("biased", 1, 16)
	b.Op(schema.OpAdd, 1, []int32{n.floats("biased/offset", 0, 0.5, 1, 16), rs}, []int32{biased}, &fbwriter.AddOptions{})
	fc := n.tensor("logits", 1, 10)
	b.Op(schema.OpFullyConnected, 1, []int32{biased, n.floats("fc/w", 0, 0.6, 10, 16), n.floats("fc/b", 0, 0.5, 10)}, []int32{fc},
		&fbwriter.FullyConnectedOptions{})
	sm := n.tensor("probabilities", 1, 10)
	b.Op(schema.OpSoftmax, 1, []int32{fc}, []int32{sm}, &fbwriter.SoftmaxOptions{Beta: 1})
	lg := n.tensor("logistic", 1, 10)
	b.Op(schema.OpLogistic, 1, []int32{fc}, []int32{lg}, nil)
	th := n.tensor("tanh", 1, 10)
	b.Op(schema.OpTanh, 1, []int32{fc}, []int32{th}, nil)
	b.SetIO([]int32{x}, []int32{sm, lg, th})
	return b.Model()
}

// Single returns a float model [1 8 8 3] → op → [1 8 8 3] of one
// element-wise operator without options, such as EXP or SQRT (which the
// quantizer does not handle) or RELU.
func Single(op schema.BuiltinOp) *fbwriter.Model {
	n := &net{b: fbwriter.NewBuilder("testmodel: " + op.String()), rng: rand.New(rand.NewPCG(1, 7))}
	x := n.tensor("input", 1, 8, 8, 3)
	y := n.tensor("output", 1, 8, 8, 3)
	n.b.Op(op, 1, []int32{x}, []int32{y}, nil)
	n.b.SetIO([]int32{x}, []int32{y})
	return n.b.Model()
}

func int32Bytes(v ...int32) []byte {
	b := make([]byte, 0, 4*len(v))
	for _, x := range v {
		b = binary.LittleEndian.AppendUint32(b, uint32(x))
	}
	return b
}
