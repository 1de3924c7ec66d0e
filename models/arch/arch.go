// Package arch builds the MobileNet architectures — V1, V2, V3-Large and
// V3-Small — as valid full-integer TFLite models with synthetic weights.
//
// The graphs have the layers of the published networks (TF-Slim's
// mobilenet_v1.py, mobilenet_v2.py and mobilenet_v3.py, which the released
// .tflite files come from): same filters, strides, channel counts,
// squeeze-and-excite blocks, hard-swish and classifier. Weights are int8,
// quantized per channel, drawn from a generator seeded by Options.Seed, so
// a build is deterministic; biases are int32 and activations int8 with
// fixed plausible ranges. The accuracy is that of random weights: the
// models are for measuring cost (parameters, multiply-adds, activation
// memory, latency), not for classifying.
//
// Every model runs on TFLite 2.9 (operators CONV_2D v3, DEPTHWISE_CONV_2D
// v3, ADD v2, MUL v2, HARD_SWISH v1, MEAN v2, FULLY_CONNECTED v4, RESHAPE
// v1, SOFTMAX v2 and, for uint8 input and output, QUANTIZE v1).
package arch

import (
	"fmt"
	"strings"

	"github.com/edgeproject/edge/tflite/schema/fbwriter"
)

// Options say what to build. The zero value builds the standard network:
// width 1.0, 224×224 input, 1001 classes (class 0 is "background", as in
// the released models), seed 1, int8 input and output.
type Options struct {
	// Width is the width multiplier α (0.25, 0.5, 0.75, 1.0 for V1);
	// 0 means 1.0. Channel counts are scaled as the reference code does.
	Width float64
	// Resolution is the input height and width; 0 means 224.
	Resolution int
	// Classes is the classifier size; 0 means 1001.
	Classes int
	// Seed selects the synthetic weights; 0 means 1.
	Seed uint64
	// UInt8IO gives the model a uint8 input (raw pixels) and output, with
	// QUANTIZE operators to and from the int8 graph, like TFLite's
	// converter does with inference_input_type=uint8.
	UInt8IO bool
}

func (o Options) withDefaults() (Options, error) {
	if o.Width == 0 {
		o.Width = 1
	}
	if o.Resolution == 0 {
		o.Resolution = 224
	}
	if o.Classes == 0 {
		o.Classes = 1001
	}
	if o.Seed == 0 {
		o.Seed = 1
	}
	switch {
	case o.Width < 0.1 || o.Width > 2:
		return o, fmt.Errorf("width multiplier %g: want 0.1 to 2", o.Width)
	case o.Resolution < 32 || o.Resolution > 1024:
		return o, fmt.Errorf("resolution %d: want 32 to 1024", o.Resolution)
	case o.Classes < 1:
		return o, fmt.Errorf("classes %d: want at least 1", o.Classes)
	}
	return o, nil
}

// Architecture names, as Build and Names know them.
const (
	V1      = "mobilenet_v1"
	V2      = "mobilenet_v2"
	V3Large = "mobilenet_v3_large"
	V3Small = "mobilenet_v3_small"
)

// Names lists the architectures Build knows, in publication order.
func Names() []string { return []string{V1, V2, V3Large, V3Small} }

// Build builds the architecture called name ("mobilenet_v1",
// "mobilenet_v2", "mobilenet_v3_large", "mobilenet_v3_small"; "v1", "v2",
// "v3-large", "v3-small" also work).
func Build(name string, opts Options) (*fbwriter.Model, error) {
	switch Canonical(name) {
	case V1:
		return MobileNetV1(opts)
	case V2:
		return MobileNetV2(opts)
	case V3Large:
		return MobileNetV3Large(opts)
	case V3Small:
		return MobileNetV3Small(opts)
	}
	return nil, fmt.Errorf("unknown architecture %q: want one of %s", name, strings.Join(Names(), ", "))
}

// Canonical maps a short or long architecture name to the one in Names,
// or returns "" if it is none.
func Canonical(name string) string {
	s := strings.ToLower(strings.TrimSpace(name))
	s = strings.NewReplacer("-", "", "mobilenet", "", "_", "", " ", "").Replace(s)
	switch s {
	case "v1":
		return V1
	case "v2":
		return V2
	case "v3large", "v3l":
		return V3Large
	case "v3small", "v3s":
		return V3Small
	}
	return ""
}

// makeDivisible rounds v to a multiple of divisor, not below 90% of v
// (TF-Slim's _make_divisible, used by V2 and V3).
func makeDivisible(v float64, divisor int) int {
	n := max(divisor, int(v+float64(divisor)/2)/divisor*divisor)
	if float64(n) < 0.9*v {
		n += divisor
	}
	return n
}

func description(arch string, o Options) string {
	io := "int8"
	if o.UInt8IO {
		io = "uint8"
	}
	return fmt.Sprintf("edge models/arch %s width %g %dx%d, %d classes, synthetic int8 weights (seed %d), %s I/O",
		arch, o.Width, o.Resolution, o.Resolution, o.Classes, o.Seed, io)
}

// MobileNetV1 builds MobileNet V1 (Howard et al. 2017, Table 1): a 3×3
// convolution and 13 depthwise-separable blocks, global average pooling
// and a fully connected classifier. At width 1.0 and 224×224 it has 4.2M
// parameters and 569M multiply-adds.
func MobileNetV1(opts Options) (*fbwriter.Model, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	// TF-Slim: depth(d) = max(int(d*α), 8).
	depth := func(d int) int { return max(int(float64(d)*o.Width), 8) }
	n := newNet(description("MobileNet V1", o), o.Seed)
	in, x := n.input(o.Resolution, o.UInt8IO)
	x = n.conv(x, depth(32), 3, 2, fbwriter.Relu6, spanRelu6)
	for _, l := range []struct{ c, s int }{
		{64, 1}, {128, 2}, {128, 1}, {256, 2}, {256, 1}, {512, 2},
		{512, 1}, {512, 1}, {512, 1}, {512, 1}, {512, 1}, {1024, 2}, {1024, 1},
	} {
		x = n.depthwise(x, 3, l.s, fbwriter.Relu6, spanRelu6)
		x = n.conv(x, depth(l.c), 1, 1, fbwriter.Relu6, spanRelu6)
	}
	x = n.mean(x, false)
	x = n.fullyConnected(x, o.Classes, spanLogits)
	n.output(in, n.softmax(x), o.UInt8IO)
	return n.b.Model(), nil
}

// MobileNetV2 builds MobileNet V2 (Sandler et al. 2018, Table 2): a 3×3
// convolution, 17 inverted-residual bottlenecks with linear projections, a
// 1×1 convolution to 1280 channels, global average pooling and a 1×1
// convolution classifier. At width 1.0 and 224×224 it has 3.47M parameters
// and 300M multiply-adds.
func MobileNetV2(opts Options) (*fbwriter.Model, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	depth := func(d int) int { return makeDivisible(float64(d)*o.Width, 8) }
	n := newNet(description("MobileNet V2", o), o.Seed)
	in, x := n.input(o.Resolution, o.UInt8IO)
	x = n.conv(x, depth(32), 3, 2, fbwriter.Relu6, spanRelu6)
	for _, stage := range []struct{ t, c, reps, s int }{
		{1, 16, 1, 1}, {6, 24, 2, 2}, {6, 32, 3, 2}, {6, 64, 4, 2}, {6, 96, 3, 1}, {6, 160, 3, 2}, {6, 320, 1, 1},
	} {
		for r := 0; r < stage.reps; r++ {
			stride := stage.s
			if r > 0 {
				stride = 1
			}
			y := x
			if stage.t != 1 {
				y = n.conv(y, x.channels()*stage.t, 1, 1, fbwriter.Relu6, spanRelu6)
			}
			y = n.depthwise(y, 3, stride, fbwriter.Relu6, spanRelu6)
			y = n.conv(y, depth(stage.c), 1, 1, fbwriter.NoActivation, spanLinear)
			if stride == 1 && y.channels() == x.channels() {
				y = n.add(y, x, fbwriter.NoActivation, spanLinear)
			}
			x = y
		}
	}
	last := 1280
	if o.Width > 1 {
		last = depth(1280)
	}
	x = n.conv(x, last, 1, 1, fbwriter.Relu6, spanRelu6)
	x = n.mean(x, true)
	x = n.conv(x, o.Classes, 1, 1, fbwriter.NoActivation, spanLogits)
	n.output(in, n.softmax(n.flatten(x)), o.UInt8IO)
	return n.b.Model(), nil
}

// v3Block is one bottleneck of MobileNet V3 (Howard et al. 2019, Tables 1
// and 2): kernel, expanded channels, output channels, squeeze-and-excite,
// hard-swish (else ReLU), stride.
type v3Block struct {
	k, exp, out int
	se, hs      bool
	s           int
}

var (
	v3LargeBlocks = []v3Block{
		{3, 16, 16, false, false, 1},
		{3, 64, 24, false, false, 2},
		{3, 72, 24, false, false, 1},
		{5, 72, 40, true, false, 2},
		{5, 120, 40, true, false, 1},
		{5, 120, 40, true, false, 1},
		{3, 240, 80, false, true, 2},
		{3, 200, 80, false, true, 1},
		{3, 184, 80, false, true, 1},
		{3, 184, 80, false, true, 1},
		{3, 480, 112, true, true, 1},
		{3, 672, 112, true, true, 1},
		{5, 672, 160, true, true, 2},
		{5, 960, 160, true, true, 1},
		{5, 960, 160, true, true, 1},
	}
	v3SmallBlocks = []v3Block{
		{3, 16, 16, true, false, 2},
		{3, 72, 24, false, false, 2},
		{3, 88, 24, false, false, 1},
		{5, 96, 40, true, true, 2},
		{5, 240, 40, true, true, 1},
		{5, 240, 40, true, true, 1},
		{5, 120, 48, true, true, 1},
		{5, 144, 48, true, true, 1},
		{5, 288, 96, true, true, 2},
		{5, 576, 96, true, true, 1},
		{5, 576, 96, true, true, 1},
	}
)

// MobileNetV3Large builds MobileNet V3-Large: 5.4M parameters and 219M
// multiply-adds at width 1.0 and 224×224.
func MobileNetV3Large(opts Options) (*fbwriter.Model, error) {
	return mobileNetV3(opts, "MobileNet V3-Large", v3LargeBlocks, 960, 1280)
}

// MobileNetV3Small builds MobileNet V3-Small: 2.5M parameters and 56M
// multiply-adds at width 1.0 and 224×224 (the paper's numbers, which the
// released TF graph has too; TF-Slim's README says 2.9M and 66M).
func MobileNetV3Small(opts Options) (*fbwriter.Model, error) {
	return mobileNetV3(opts, "MobileNet V3-Small", v3SmallBlocks, 576, 1024)
}

func mobileNetV3(opts Options, title string, blocks []v3Block, lastConv, head int) (*fbwriter.Model, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	depth := func(d int) int { return makeDivisible(float64(d)*o.Width, 8) }
	n := newNet(description(title, o), o.Seed)
	in, x := n.input(o.Resolution, o.UInt8IO)
	x = n.hardSwish(n.conv(x, depth(16), 3, 2, fbwriter.NoActivation, spanLinear))
	// act applies the block's nonlinearity after a convolution.
	act := func(b v3Block, conv func(fbwriter.Activation, span) tensor) tensor {
		if b.hs {
			return n.hardSwish(conv(fbwriter.NoActivation, spanLinear))
		}
		return conv(fbwriter.Relu, spanRelu)
	}
	for _, b := range blocks {
		y := x
		exp := depth(b.exp)
		if exp != x.channels() {
			y = act(b, func(a fbwriter.Activation, s span) tensor { return n.conv(y, exp, 1, 1, a, s) })
		}
		y = act(b, func(a fbwriter.Activation, s span) tensor { return n.depthwise(y, b.k, b.s, a, s) })
		if b.se {
			y = n.squeezeExcite(y)
		}
		y = n.conv(y, depth(b.out), 1, 1, fbwriter.NoActivation, spanLinear)
		if b.s == 1 && y.channels() == x.channels() {
			y = n.add(y, x, fbwriter.NoActivation, spanLinear)
		}
		x = y
	}
	x = n.hardSwish(n.conv(x, depth(lastConv), 1, 1, fbwriter.NoActivation, spanLinear))
	x = n.mean(x, true)
	x = n.hardSwish(n.conv(x, head, 1, 1, fbwriter.NoActivation, spanLinear))
	x = n.conv(x, o.Classes, 1, 1, fbwriter.NoActivation, spanLogits)
	n.output(in, n.softmax(n.flatten(x)), o.UInt8IO)
	return n.b.Model(), nil
}

// squeezeExcite gates the channels of x by hard-sigmoid(W2 relu(W1
// mean(x))), with the squeeze at a quarter of the channels rounded to 8.
// Hard-sigmoid is relu6(v+3)/6, built as TF's converter builds it: ADD
// of 3 with a fused RELU6, then MUL by 1/6.
func (n *net) squeezeExcite(x tensor) tensor {
	c := x.channels()
	s := n.mean(x, true)
	s = n.conv(s, makeDivisible(float64(c)/4, 8), 1, 1, fbwriter.Relu, spanRelu)
	s = n.conv(s, c, 1, 1, fbwriter.NoActivation, spanLinear)
	s = n.add(s, n.scalar(n.name("se_three"), 3), fbwriter.Relu6, spanRelu6)
	s = n.mul(s, n.scalar(n.name("se_sixth"), 1.0/6), spanGate)
	return n.mul(x, s, spanHSwish)
}
