package fbwriter

import "github.com/edgeproject/edge/tflite/schema"

// Options are the builtin options of an operator, one of the *Options
// types of this package (the schema's BuiltinOptions union).
type Options interface {
	unionType() uint8
	fields() []field
}

// Padding is the schema's Padding enum.
type Padding int8

// Paddings.
const (
	Same  Padding = 0
	Valid Padding = 1
)

// Activation is the schema's ActivationFunctionType enum: the activation
// an operator applies to its output.
type Activation int8

// Fused activations.
const (
	NoActivation Activation = 0
	Relu         Activation = 1
	ReluN1To1    Activation = 2
	Relu6        Activation = 3
	Tanh         Activation = 4
)

// BuiltinOptions union type numbers, and which operator takes which.
const (
	conv2DOptions          = 1
	depthwiseConv2DOptions = 2
	pool2DOptions          = 5
	fullyConnectedOptions  = 8
	softmaxOptions         = 9
	concatenationOptions   = 10
	addOptions             = 11
	reshapeOptions         = 17
	mulOptions             = 21
	reducerOptions         = 27
)

var optionsFor = map[schema.BuiltinOp]uint8{
	schema.OpConv2D:          conv2DOptions,
	schema.OpDepthwiseConv2D: depthwiseConv2DOptions,
	schema.OpAveragePool2D:   pool2DOptions,
	schema.OpMaxPool2D:       pool2DOptions,
	schema.OpL2Pool2D:        pool2DOptions,
	schema.OpFullyConnected:  fullyConnectedOptions,
	schema.OpSoftmax:         softmaxOptions,
	schema.OpConcatenation:   concatenationOptions,
	schema.OpAdd:             addOptions,
	schema.OpReshape:         reshapeOptions,
	schema.OpMul:             mulOptions,
	schema.OpMean:            reducerOptions,
	schema.OpSum:             reducerOptions,
	schema.OpReduceMax:       reducerOptions,
	schema.OpReduceMin:       reducerOptions,
	schema.OpReduceProd:      reducerOptions,
}

func dilation(d int32) int32 {
	if d == 0 {
		return 1
	}
	return d
}

// Conv2DOptions are the options of CONV_2D. Zero dilations are written as 1.
type Conv2DOptions struct {
	Padding              Padding
	StrideW, StrideH     int32
	Activation           Activation
	DilationW, DilationH int32
}

func (*Conv2DOptions) unionType() uint8 { return conv2DOptions }
func (o *Conv2DOptions) fields() []field {
	return []field{i8(0, int8(o.Padding)), i32(1, o.StrideW), i32(2, o.StrideH), i8(3, int8(o.Activation)),
		i32(4, dilation(o.DilationW)), i32(5, dilation(o.DilationH))}
}

// DepthwiseConv2DOptions are the options of DEPTHWISE_CONV_2D. A zero
// DepthMultiplier or dilation is written as 1.
type DepthwiseConv2DOptions struct {
	Padding              Padding
	StrideW, StrideH     int32
	DepthMultiplier      int32
	Activation           Activation
	DilationW, DilationH int32
}

func (*DepthwiseConv2DOptions) unionType() uint8 { return depthwiseConv2DOptions }
func (o *DepthwiseConv2DOptions) fields() []field {
	return []field{i8(0, int8(o.Padding)), i32(1, o.StrideW), i32(2, o.StrideH), i32(3, dilation(o.DepthMultiplier)),
		i8(4, int8(o.Activation)), i32(5, dilation(o.DilationW)), i32(6, dilation(o.DilationH))}
}

// Pool2DOptions are the options of AVERAGE_POOL_2D, MAX_POOL_2D and L2_POOL_2D.
type Pool2DOptions struct {
	Padding                   Padding
	StrideW, StrideH          int32
	FilterWidth, FilterHeight int32
	Activation                Activation
}

func (*Pool2DOptions) unionType() uint8 { return pool2DOptions }
func (o *Pool2DOptions) fields() []field {
	return []field{i8(0, int8(o.Padding)), i32(1, o.StrideW), i32(2, o.StrideH), i32(3, o.FilterWidth),
		i32(4, o.FilterHeight), i8(5, int8(o.Activation))}
}

// FullyConnectedOptions are the options of FULLY_CONNECTED (default weights
// format).
type FullyConnectedOptions struct {
	Activation  Activation
	KeepNumDims bool
}

func (*FullyConnectedOptions) unionType() uint8 { return fullyConnectedOptions }
func (o *FullyConnectedOptions) fields() []field {
	return []field{i8(0, int8(o.Activation)), boolean(2, o.KeepNumDims)}
}

// SoftmaxOptions are the options of SOFTMAX; a zero Beta is written as 1.
type SoftmaxOptions struct {
	Beta float32
}

func (*SoftmaxOptions) unionType() uint8 { return softmaxOptions }
func (o *SoftmaxOptions) fields() []field {
	beta := o.Beta
	if beta == 0 {
		beta = 1
	}
	return []field{f32(0, beta)}
}

// ConcatenationOptions are the options of CONCATENATION.
type ConcatenationOptions struct {
	Axis       int32
	Activation Activation
}

func (*ConcatenationOptions) unionType() uint8 { return concatenationOptions }
func (o *ConcatenationOptions) fields() []field {
	return []field{i32(0, o.Axis), i8(1, int8(o.Activation))}
}

// AddOptions are the options of ADD.
type AddOptions struct {
	Activation Activation
}

func (*AddOptions) unionType() uint8  { return addOptions }
func (o *AddOptions) fields() []field { return []field{i8(0, int8(o.Activation))} }

// MulOptions are the options of MUL.
type MulOptions struct {
	Activation Activation
}

func (*MulOptions) unionType() uint8  { return mulOptions }
func (o *MulOptions) fields() []field { return []field{i8(0, int8(o.Activation))} }

// ReshapeOptions are the options of RESHAPE.
type ReshapeOptions struct {
	NewShape []int32
}

func (*ReshapeOptions) unionType() uint8  { return reshapeOptions }
func (o *ReshapeOptions) fields() []field { return []field{ints(0, o.NewShape)} }

// ReducerOptions are the options of MEAN, SUM and the other reductions.
type ReducerOptions struct {
	KeepDims bool
}

func (*ReducerOptions) unionType() uint8  { return reducerOptions }
func (o *ReducerOptions) fields() []field { return []field{boolean(0, o.KeepDims)} }
