package tflite

import (
	"fmt"
	"strings"

	gotflite "github.com/mattn/go-tflite"

	"github.com/edgeproject/edge/tflite/schema"
)

// TensorInfo describes an input or output tensor.
type TensorInfo struct {
	Index int    // position among the inputs or outputs
	Name  string // name in the model
	Type  schema.TensorType
	Shape []int
	// Scale and ZeroPoint are the per-tensor quantization (Scale 0: none).
	Scale     float32
	ZeroPoint int32
	// ChannelScales is set for per-channel quantized tensors.
	ChannelScales []float32
}

// String renders the tensor as "uint8[1 224 224 3]".
func (t TensorInfo) String() string {
	dims := make([]string, len(t.Shape))
	for i, d := range t.Shape {
		dims[i] = fmt.Sprint(d)
	}
	return fmt.Sprintf("%s[%s]", t.Type, strings.Join(dims, " "))
}

// Quantized reports whether real = Scale × (q − ZeroPoint) applies.
func (t TensorInfo) Quantized() bool { return t.Scale != 0 }

// Elements is the number of elements (1 for a scalar).
func (t TensorInfo) Elements() int {
	n := 1
	for _, d := range t.Shape {
		n *= d
	}
	return n
}

// Dequantize maps a raw value of this tensor's type to a real number.
func (t TensorInfo) Dequantize(q int32) float32 {
	if !t.Quantized() {
		return float32(q)
	}
	return t.Scale * float32(q-t.ZeroPoint)
}

// describe reads the tensors from the C interpreter, and per-channel
// quantization (which the C API does not expose) from the flatbuffer.
func (it *Interpreter) describe() error {
	sg := it.model.Subgraphs[0]
	read := func(t *gotflite.Tensor, i int, ids []int32, what string) (TensorInfo, error) {
		if t == nil {
			return TensorInfo{}, fmt.Errorf("%s: TFLite has no %s tensor %d", it.path, what, i)
		}
		q := t.QuantizationParams()
		info := TensorInfo{
			Index:     i,
			Name:      t.Name(),
			Type:      fromCType(t.Type()),
			Shape:     t.Shape(),
			Scale:     float32(q.Scale),
			ZeroPoint: int32(q.ZeroPoint),
		}
		if i < len(ids) && ids[i] >= 0 && int(ids[i]) < len(sg.Tensors) {
			if sq := sg.Tensors[ids[i]].Quantization; sq != nil && len(sq.Scale) > 1 {
				info.ChannelScales = sq.Scale
			}
		}
		return info, nil
	}
	for i := 0; i < it.ip.GetInputTensorCount(); i++ {
		t := it.ip.GetInputTensor(i)
		info, err := read(t, i, sg.Inputs, "input")
		if err != nil {
			return err
		}
		it.cinputs = append(it.cinputs, t)
		it.inputs = append(it.inputs, info)
	}
	for i := 0; i < it.ip.GetOutputTensorCount(); i++ {
		t := it.ip.GetOutputTensor(i)
		info, err := read(t, i, sg.Outputs, "output")
		if err != nil {
			return err
		}
		it.coutputs = append(it.coutputs, t)
		it.outputs = append(it.outputs, info)
	}
	return nil
}

// refreshOutputs re-reads output shapes, which post-processing ops such as
// TFLite_Detection_PostProcess only set when they run.
func (it *Interpreter) refreshOutputs() {
	if it.backend != nil {
		it.outputs = it.backend.Outputs()
		return
	}
	for i, t := range it.coutputs {
		if len(it.outputs[i].Shape) != t.NumDims() {
			it.outputs[i].Shape = t.Shape()
			continue
		}
		for d := range it.outputs[i].Shape {
			it.outputs[i].Shape[d] = t.Dim(d)
		}
	}
}

// fromCType maps TfLiteType (kTfLiteNoType = 0, kTfLiteFloat32 = 1, ...)
// to the schema's TensorType (FLOAT32 = 0, FLOAT16 = 1, ...); they agree on
// the integer types 2..9 only.
func fromCType(t gotflite.TensorType) schema.TensorType {
	switch int(t) {
	case 1:
		return schema.TypeFloat32
	case 10:
		return schema.TypeFloat16
	case 11:
		return schema.TypeFloat64
	}
	return schema.TensorType(t)
}
