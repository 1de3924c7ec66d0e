package quantize

import (
	"encoding/binary"
	"fmt"
	"math"
	"strings"

	"github.com/edgeproject/edge/tflite/schema"
	"github.com/edgeproject/edge/tflite/schema/fbwriter"
)

// IO is the element type of the quantized model's input and output.
type IO int

// Input and output types.
const (
	// FloatIO keeps the float32 input and output: a QUANTIZE operator
	// after the input and a DEQUANTIZE before the output, so that the
	// model takes the float model's place as it is.
	FloatIO IO = iota
	// Int8IO makes the input and output int8 tensors, quantized with the
	// calibrated range of the float input and the output's parameters.
	Int8IO
	// Uint8IO makes them uint8 (zero points moved by 128), with QUANTIZE
	// operators to and from the int8 graph, as TFLite's converter does.
	Uint8IO
)

// ParseIO reads "float", "int8" or "uint8".
func ParseIO(s string) (IO, error) {
	switch strings.ToLower(s) {
	case "float", "float32":
		return FloatIO, nil
	case "int8":
		return Int8IO, nil
	case "uint8":
		return Uint8IO, nil
	}
	return 0, fmt.Errorf("I/O type %q: want float, int8 or uint8", s)
}

func (io IO) String() string {
	switch io {
	case FloatIO:
		return "float32"
	case Int8IO:
		return "int8"
	case Uint8IO:
		return "uint8"
	}
	return fmt.Sprintf("IO(%d)", int(io))
}

// Options say how Convert quantizes. The zero value takes min/max ranges
// and keeps float32 input and output.
type Options struct {
	// Method picks activation ranges from the calibration: MinMax or
	// Percentile.
	Method Method
	// Percentile is p for Percentile, in (50, 100]; 0 means
	// DefaultPercentile. The graph input always takes its min/max range.
	Percentile float64
	// IO is the type of the model's input and output.
	IO IO
	// NoBiasCorrection turns off bias correction. By default the bias of
	// each convolution and fully connected layer absorbs the mean error
	// its quantized weights add to the output, Σ (ŵ − w)·E[x] over the
	// calibration frames' mean input channels (Nagel et al., "Data-Free
	// Quantization", 2019), which keeps small networks such as MobileNet
	// V1 0.25 much closer to the float model.
	NoBiasCorrection bool
	// InputRange is the real range the graph input can take, lowest
	// first, which its int8 parameters cover: for images, the normalized
	// values of pixels 0 and 255 ([−1, 1] for (p − 127.5)/127.5), so that
	// any frame, not only those seen in calibration, is quantized without
	// clipping. The zero value takes the calibrated min/max.
	InputRange [2]float64
}

// Validate checks that o names a known method and I/O type and, for
// Percentile, a percentile in (50, 100] (or 0 for the default).
func (o Options) Validate() error {
	switch {
	case o.Method != MinMax && o.Method != Percentile:
		return fmt.Errorf("unknown calibration method %v", o.Method)
	case o.Method == Percentile && o.Percentile != 0 && !(o.Percentile > 50 && o.Percentile <= 100):
		return fmt.Errorf("percentile %v: want a value in (50, 100]", o.Percentile)
	case o.IO != FloatIO && o.IO != Int8IO && o.IO != Uint8IO:
		return fmt.Errorf("unknown I/O type %v", o.IO)
	case o.InputRange != [2]float64{} && (!(o.InputRange[0] < o.InputRange[1]) || math.IsInf(o.InputRange[0], 0) || math.IsInf(o.InputRange[1], 0)):
		return fmt.Errorf("input range %v: want finite lo < hi", o.InputRange)
	}
	return nil
}

// fcPerChannel tells whether FULLY_CONNECTED weights are quantized per
// output channel. They are not, because TFLite 2.9 cannot run them:
//
//   - fully_connected.cc (2.9) keeps one output_multiplier per operator;
//     Prepare computes it with GetQuantizedConvolutionMultipler, from
//     input->params.scale × filter->params.scale / output->params.scale,
//     i.e. from the legacy per-tensor TfLiteQuantizationParams;
//   - GetLegacyQuantization (core/subgraph.cc) fills params.scale only when
//     the tensor has exactly one scale: a per-channel filter gets scale 0;
//   - so the multiplier is 0, the bias scale check (|0 − bias scale| ≤
//     2% of the output scale) passes with the per-channel bias's legacy
//     scale, also 0, and every output is the output zero point.
//
// Measured with this library on the VWW model with fcPerChannel set: both
// logits 0 on every photo, p(person) = 0.500 whatever the float model says.
// Per-channel FULLY_CONNECTED kernels came in later releases. TensorFlow's
// converter does the same: MLCommons' vww_96_int8.tflite (a fixture) has
// per-channel CONV_2D filters and a FULLY_CONNECTED (v4) with one scale.
const fcPerChannel = false

// Convert writes the full-integer version of the float model m: int8
// weights quantized symmetrically per output channel (CONV_2D axis 0,
// DEPTHWISE_CONV_2D axis 3; FULLY_CONNECTED per tensor, the only form
// TFLite 2.9 computes right: see fcPerChannel), int32 biases at input
// scale × weight scale (bias-corrected unless Options.NoBiasCorrection),
// int8 activations with the asymmetric parameters of their calibrated
// ranges. Operators whose int8 kernels need it keep their input's
// parameters (RESHAPE, SQUEEZE, PAD, MAX_POOL_2D, AVERAGE_POOL_2D);
// CONCATENATION inputs with other parameters are requantized with a
// QUANTIZE operator; SOFTMAX and LOGISTIC outputs are fixed at scale 1/256,
// zero point −128 (TANH at 1/128, 0).
//
// cal must hold the values of the graph input and of every tensor an
// operator computes (as Instrument's copy shows them), indexed as in m.
// Errors wrap ErrAlreadyQuantized or ErrUnsupported for models Check
// rejects, and name the tensor that lacks calibration data.
func Convert(m *schema.Model, cal *Calibration, opts Options) (*fbwriter.Model, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	g, err := newGraph(m)
	if err != nil {
		return nil, err
	}
	if cal == nil {
		return nil, fmt.Errorf("quantize: no calibration")
	}
	if opts.Method == Percentile && !cal.histograms {
		return nil, fmt.Errorf("quantize: the percentile method needs a calibration that keeps histograms (NewCalibration(true))")
	}
	desc := fmt.Sprintf("edge quantize: int8 post-training quantization (%s ranges, %d calibration frames, %s I/O)", opts.Method, cal.Frames(), opts.IO)
	if opts.Method == Percentile {
		p := opts.Percentile
		if p == 0 {
			p = DefaultPercentile
		}
		desc = strings.Replace(desc, "percentile ranges", fmt.Sprintf("%g-percentile ranges", p), 1)
	}
	if m.Description != "" {
		desc += " of: " + m.Description
	}
	c := &converter{g: g, cal: cal, opts: opts, b: fbwriter.NewBuilder(desc),
		act: make([]int32, len(g.sg.Tensors)), par: make([]Params, len(g.sg.Tensors)),
		weights: map[int32]quantWeights{}, isOutput: map[int32]bool{}, floor: map[int32]float64{}}
	for i := range c.act {
		c.act[i] = -1
	}
	for _, ti := range g.sg.Outputs {
		c.isOutput[ti] = true
	}
	if err := c.convert(); err != nil {
		return nil, err
	}
	return c.b.Model(), nil
}

// converter writes the integer model.
type converter struct {
	g        *graph
	cal      *Calibration
	opts     Options
	b        *fbwriter.Builder
	act      []int32  // int8 tensor in the new model of each activation, -1 until made
	par      []Params // its parameters
	weights  map[int32]quantWeights
	isOutput map[int32]bool
	floor    map[int32]float64 // raised lower ends of SOFTMAX inputs' ranges
}

type quantWeights struct {
	id     int32
	q      []int8
	scales []float32
}

func (c *converter) convert() error {
	sg := c.g.sg
	c.softmaxFloors()
	var graphIn []int32
	for _, ti := range sg.Inputs {
		in, err := c.input(ti)
		if err != nil {
			return err
		}
		graphIn = append(graphIn, in)
	}
	for i := range sg.Operators {
		if err := c.op(i); err != nil {
			return fmt.Errorf("%s: %w", c.g.nodeName(i), err)
		}
	}
	var graphOut []int32
	for _, ti := range sg.Outputs {
		graphOut = append(graphOut, c.output(ti))
	}
	c.b.SetIO(graphIn, graphOut)
	// TFLite reads this to tell which runtime a model needs; the converter
	// writes it for every model (2.3 runs every int8 kernel used here).
	c.b.Metadata("min_runtime_version", []byte("2.3.0\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"))
	return nil
}

// softmaxFloors finds the tensors that only feed a SOFTMAX (directly or
// through RESHAPE and SQUEEZE, which keep their parameters) and raises the
// lower end of their ranges: the int8 SOFTMAX output has steps of 1/256, so
// a logit far enough below the top of its row is as good as absent, and the
// int8 steps are better spent where the top classes are told apart.
//
// With m the lowest row top seen in calibration, N classes and β the
// softmax's beta, logits are clipped at m − ln(512·N)/β: a clipped class
// then weighs at most e^(−ln(512·N)) = 1/(512·N) of its row's top, all N
// together less than half an output step, so no output moves by more than
// half a step (MobileNet V1: [−13.7, 16.1] becomes [−4.3, 16.1], an int8
// step of 0.08 instead of 0.117 on the logits).
func (c *converter) softmaxFloors() {
	g := c.g
	sg := g.sg
	consumers := make([]int, len(sg.Tensors))
	producer := make([]int, len(sg.Tensors))
	for i := range producer {
		producer[i] = -1
	}
	for i, op := range sg.Operators {
		for _, ti := range op.Inputs {
			if ti >= 0 {
				consumers[ti]++
			}
		}
		producer[op.Outputs[0]] = i
	}
	for i, op := range sg.Operators {
		if g.codes[i] != schema.OpSoftmax {
			continue
		}
		in := op.Inputs[0]
		shape := sg.Tensors[in].Shape
		beta := float64(op.BuiltinOptions.Float32(0, 1))
		top, ok := c.cal.SmallestRowMax(int(in))
		if !ok || len(shape) == 0 || shape[len(shape)-1] < 1 || !(beta > 0) {
			continue
		}
		floor := top - math.Log(512*float64(shape[len(shape)-1]))/beta
		// Walk back to the tensor whose calibrated range sets the
		// parameters, through tensors used by nothing else.
		t := in
		for {
			if consumers[t] != 1 || c.isOutput[t] {
				t = -1
				break
			}
			p := producer[t]
			if p < 0 || (g.codes[p] != schema.OpReshape && g.codes[p] != schema.OpSqueeze) {
				break
			}
			t = sg.Operators[p].Inputs[0]
		}
		if t >= 0 && producer[t] >= 0 && ops[g.codes[producer[t]]].out == outCalibrated {
			c.floor[t] = floor
		}
	}
}

// calibrated returns the int8 parameters of tensor ti's calibrated range.
func (c *converter) calibrated(ti int32, method Method) (Params, error) {
	if _, _, ok := c.cal.MinMax(int(ti)); !ok {
		return Params{}, fmt.Errorf("%s: no calibration values", c.g.tensorName(ti))
	}
	lo, hi, err := c.cal.Range(int(ti), method, c.opts.Percentile)
	if err != nil {
		return Params{}, err
	}
	if f, ok := c.floor[ti]; ok && f > lo && f < hi {
		lo = f
	}
	p, err := ChooseParams(lo, hi, -128, 127)
	if err != nil {
		return Params{}, fmt.Errorf("%s: %w", c.g.tensorName(ti), err)
	}
	// The file stores float32 scales: compute with what TFLite will read.
	p.Scale = float64(float32(p.Scale))
	return p, nil
}

func quantization(p Params) *fbwriter.Quantization {
	return &fbwriter.Quantization{Scale: []float32{float32(p.Scale)}, ZeroPoint: []int64{int64(p.ZeroPoint)}}
}

// activation adds the int8 tensor for activation ti with parameters p.
func (c *converter) activation(ti int32, p Params) int32 {
	t := c.g.sg.Tensors[ti]
	name := t.Name
	if c.isOutput[ti] && c.opts.IO != Int8IO {
		name += "_int8"
	}
	id := c.b.Tensor(fbwriter.Tensor{Name: name, Shape: t.Shape, Type: schema.TypeInt8, Quantization: quantization(p)})
	c.act[ti], c.par[ti] = id, p
	return id
}

// input adds graph input ti, quantized with Options.InputRange or else its
// calibrated min/max range: the model's input tensor, and the int8 tensor
// the graph computes from.
func (c *converter) input(ti int32) (int32, error) {
	p, err := c.calibrated(ti, MinMax)
	if err != nil {
		return 0, err
	}
	if r := c.opts.InputRange; r != [2]float64{} {
		if p, err = ChooseParams(r[0], r[1], -128, 127); err != nil {
			return 0, fmt.Errorf("input range: %w", err)
		}
		p.Scale = float64(float32(p.Scale))
	}
	t := c.g.sg.Tensors[ti]
	switch c.opts.IO {
	case Int8IO:
		return c.activation(ti, p), nil
	case FloatIO:
		in := c.b.Tensor(fbwriter.Tensor{Name: t.Name, Shape: t.Shape, Type: schema.TypeFloat32})
		q := c.b.Tensor(fbwriter.Tensor{Name: t.Name + "_int8", Shape: t.Shape, Type: schema.TypeInt8, Quantization: quantization(p)})
		c.act[ti], c.par[ti] = q, p
		c.b.Op(schema.OpQuantize, vQuantize, []int32{in}, []int32{q}, nil)
		return in, nil
	case Uint8IO:
		in := c.b.Tensor(fbwriter.Tensor{Name: t.Name, Shape: t.Shape, Type: schema.TypeUint8,
			Quantization: quantization(Params{Scale: p.Scale, ZeroPoint: p.ZeroPoint + 128})})
		q := c.b.Tensor(fbwriter.Tensor{Name: t.Name + "_int8", Shape: t.Shape, Type: schema.TypeInt8, Quantization: quantization(p)})
		c.act[ti], c.par[ti] = q, p
		c.b.Op(schema.OpQuantize, vQuantize, []int32{in}, []int32{q}, nil)
		return in, nil
	}
	return 0, fmt.Errorf("unknown I/O type %v", c.opts.IO)
}

// output adds what turns the int8 tensor of graph output ti into the
// model's output.
func (c *converter) output(ti int32) int32 {
	t := c.g.sg.Tensors[ti]
	q, p := c.act[ti], c.par[ti]
	switch c.opts.IO {
	case FloatIO:
		out := c.b.Tensor(fbwriter.Tensor{Name: t.Name, Shape: t.Shape, Type: schema.TypeFloat32})
		c.b.Op(schema.OpDequantize, vDequantize, []int32{q}, []int32{out}, nil)
		return out
	case Uint8IO:
		out := c.b.Tensor(fbwriter.Tensor{Name: t.Name, Shape: t.Shape, Type: schema.TypeUint8,
			Quantization: quantization(Params{Scale: p.Scale, ZeroPoint: p.ZeroPoint + 128})})
		c.b.Op(schema.OpQuantize, vQuantize, []int32{q}, []int32{out}, nil)
		return out
	}
	return q
}

// op writes the integer form of operator i.
func (c *converter) op(i int) error {
	g := c.g
	op := g.sg.Operators[i]
	code := g.codes[i]
	spec := ops[code]
	out := op.Outputs[0]
	in := op.Inputs[0]
	if g.data[in] == nil && c.act[in] < 0 {
		return fmt.Errorf("input %s is not computed yet", g.tensorName(in))
	}
	var p Params
	switch spec.out {
	case outAsInput:
		p = c.par[in]
	case outFixed:
		p = spec.fixed
	default:
		var err error
		if p, err = c.calibrated(out, c.opts.Method); err != nil {
			return err
		}
	}
	opts := g.options(i)
	var inputs []int32
	switch code {
	case schema.OpConv2D, schema.OpDepthwiseConv2D, schema.OpFullyConnected:
		w, b, err := c.weightsAndBias(i)
		if err != nil {
			return err
		}
		inputs = []int32{c.act[in], w, b}
	case schema.OpReshape:
		inputs = []int32{c.act[in]}
		if len(op.Inputs) > 1 && op.Inputs[1] >= 0 {
			inputs = append(inputs, c.copyConst(op.Inputs[1]))
		}
	case schema.OpSqueeze:
		code = schema.OpReshape
		shape := g.sg.Tensors[out].Shape
		inputs = []int32{c.act[in], c.b.Const(fbwriter.Tensor{Name: g.sg.Tensors[out].Name + "/shape", Shape: []int32{int32(len(shape))}, Type: schema.TypeInt32}, int32Bytes(shape))}
		opts = &fbwriter.ReshapeOptions{NewShape: shape}
	case schema.OpMean, schema.OpPad:
		inputs = []int32{c.act[in], c.copyConst(op.Inputs[1])}
	case schema.OpAdd, schema.OpMul:
		for _, ti := range op.Inputs {
			id, err := c.operand(ti, nil)
			if err != nil {
				return err
			}
			inputs = append(inputs, id)
		}
	case schema.OpConcatenation:
		// TFLite 2.9's int8 kernel copies bytes: every input must have the
		// output's parameters. Requantize those that do not.
		for _, ti := range op.Inputs {
			id, err := c.operand(ti, &p)
			if err != nil {
				return err
			}
			inputs = append(inputs, id)
		}
	default: // one data input
		inputs = []int32{c.act[in]}
	}
	y := c.activation(out, p)
	c.b.Op(code, spec.version, inputs, []int32{y}, opts)
	return nil
}

// operand returns the int8 tensor for input ti of an element-wise
// operator: its activation, requantized to *want when want is set and its
// parameters differ, or, for a constant, the data quantized per tensor
// (with *want, or its own range).
func (c *converter) operand(ti int32, want *Params) (int32, error) {
	g := c.g
	t := g.sg.Tensors[ti]
	if g.data[ti] != nil {
		v := g.floats(ti)
		p := Params{}
		if want != nil {
			p = *want
		} else {
			lo, hi := math.Inf(1), math.Inf(-1)
			for _, x := range v {
				lo, hi = math.Min(lo, float64(x)), math.Max(hi, float64(x))
			}
			var err error
			if p, err = ChooseParams(lo, hi, -128, 127); err != nil {
				return 0, fmt.Errorf("%s: %w", g.tensorName(ti), err)
			}
			p.Scale = float64(float32(p.Scale))
		}
		return c.b.Const(fbwriter.Tensor{Name: t.Name, Shape: t.Shape, Type: schema.TypeInt8, Quantization: quantization(p)}, int8Bytes(p.Int8(v))), nil
	}
	if c.act[ti] < 0 {
		return 0, fmt.Errorf("input %s is not computed yet", g.tensorName(ti))
	}
	if want == nil || c.par[ti] == *want {
		return c.act[ti], nil
	}
	rq := c.b.Tensor(fbwriter.Tensor{Name: t.Name + "/requantized", Shape: t.Shape, Type: schema.TypeInt8, Quantization: quantization(*want)})
	c.b.Op(schema.OpQuantize, vRequantize, []int32{c.act[ti]}, []int32{rq}, nil)
	return rq, nil
}

// copyConst copies the int32 constant ti (a shape, axes or paddings).
func (c *converter) copyConst(ti int32) int32 {
	t := c.g.sg.Tensors[ti]
	return c.b.Const(fbwriter.Tensor{Name: t.Name, Shape: t.Shape, Type: t.Type}, c.g.data[ti])
}

// weightsAndBias quantizes the filter and bias of convolution or fully
// connected operator i: int8 weights per channel (once per weight tensor,
// however many operators share it) and an int32 bias at the scales of this
// operator's input.
func (c *converter) weightsAndBias(i int) (w, b int32, err error) {
	g := c.g
	op := g.sg.Operators[i]
	code := g.codes[i]
	wi := op.Inputs[1]
	wt := g.sg.Tensors[wi]
	qw, ok := c.weights[wi]
	if !ok {
		var q []int8
		var scales []float32
		axis := 0
		switch {
		case code == schema.OpDepthwiseConv2D:
			axis = len(wt.Shape) - 1
			fallthrough
		case code == schema.OpConv2D || fcPerChannel:
			if q, scales, err = PerChannel(g.floats(wi), wt.Shape, axis); err != nil {
				return 0, 0, fmt.Errorf("%s: %w", g.tensorName(wi), err)
			}
		default:
			var s float32
			q, s = PerTensor(g.floats(wi))
			scales = []float32{s}
		}
		quant := &fbwriter.Quantization{Scale: scales, ZeroPoint: make([]int64, len(scales)), QuantizedDimension: int32(axis)}
		qw = quantWeights{id: c.b.Const(fbwriter.Tensor{Name: wt.Name, Shape: wt.Shape, Type: schema.TypeInt8, Quantization: quant}, int8Bytes(q)), q: q, scales: scales}
		c.weights[wi] = qw
	}
	// The bias: one per output channel, the filter's channel count.
	channels := int(wt.Shape[0])
	if code == schema.OpDepthwiseConv2D {
		channels = int(wt.Shape[len(wt.Shape)-1])
	}
	var bias []float32
	name := g.sg.Tensors[op.Outputs[0]].Name + "/bias"
	if len(op.Inputs) > 2 && op.Inputs[2] >= 0 {
		bi := op.Inputs[2]
		bias, name = g.floats(bi), g.sg.Tensors[bi].Name // a copy: corrected below
		if len(bias) != channels {
			return 0, 0, fmt.Errorf("bias %s has %d values for %d output channels: %w", g.tensorName(bi), len(bias), channels, ErrUnsupported)
		}
	} else {
		bias = make([]float32, channels) // TFLite's int8 kernels want a bias
	}
	if len(qw.scales) != 1 && len(qw.scales) != channels {
		return 0, 0, fmt.Errorf("%s: %d channel scales for %d output channels: %w", g.tensorName(wi), len(qw.scales), channels, ErrUnsupported)
	}
	if !c.opts.NoBiasCorrection {
		if mu := c.cal.ChannelMeans(int(op.Inputs[0])); mu != nil {
			shift, ok := weightShift(code == schema.OpDepthwiseConv2D, g.floats(wi), qw.q, qw.scales, wt.Shape, mu)
			if ok {
				for o := range bias {
					bias[o] = float32(float64(bias[o]) - shift[o])
				}
			}
		}
	}
	scales := BiasScales(float32(c.par[op.Inputs[0]].Scale), qw.scales)
	qb, err := Bias(bias, scales)
	if err != nil {
		return 0, 0, fmt.Errorf("bias of %s: %w", g.tensorName(wi), err)
	}
	data := make([]byte, 0, 4*len(qb))
	for _, v := range qb {
		data = binary.LittleEndian.AppendUint32(data, uint32(v))
	}
	b = c.b.Const(fbwriter.Tensor{Name: name, Shape: []int32{int32(channels)}, Type: schema.TypeInt32,
		Quantization: &fbwriter.Quantization{Scale: scales, ZeroPoint: make([]int64, len(scales))}}, data)
	return qw.id, b, nil
}

func int8Bytes(q []int8) []byte {
	b := make([]byte, len(q))
	for i, v := range q {
		b[i] = byte(v)
	}
	return b
}
