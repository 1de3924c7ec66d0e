package tflite

import (
	"fmt"
	"strings"

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

// refreshOutputs re-reads output shapes, which post-processing ops such as
// TFLite_Detection_PostProcess only set when they run.
func (it *Interpreter) refreshOutputs() {
	if it.backend != nil {
		it.outputs = it.backend.Outputs()
		return
	}
	it.refreshOutputsC()
}
