package engine

import (
	"fmt"
	"strings"
	"unsafe"

	"github.com/edgeproject/edge/tflite"
	"github.com/edgeproject/edge/tflite/schema"
)

// TensorInfo describes an input or output tensor: the same type as the
// cgo interpreter's, so callers switch engines without conversions.
type TensorInfo = tflite.TensorInfo

// tensor is one tensor of the graph as the kernels see it.
type tensor struct {
	index  int
	name   string
	typ    schema.TensorType
	shape  []int
	scale  float32 // per-tensor scale, 0 if not quantized
	zp     int32
	scales []float32 // per-channel scales (len > 1), or nil
	qdim   int

	// data is the tensor's memory: the model's buffer for constants, a
	// slice of the arena for the others (set once the arena is planned).
	data  []byte
	konst bool
	// first and last are the nodes that write and last read the tensor
	// (-1 and len(nodes) for graph inputs and outputs).
	first, last int
	used        bool
	off         int
}

func (t *tensor) elems() int {
	n := 1
	for _, d := range t.shape {
		n *= d
	}
	return n
}

func (t *tensor) bytes() int { return t.elems() * t.typ.Size() }

func (t *tensor) String() string {
	dims := make([]string, len(t.shape))
	for i, d := range t.shape {
		dims[i] = fmt.Sprint(d)
	}
	return fmt.Sprintf("tensor %d %q %s[%s]", t.index, t.name, t.typ, strings.Join(dims, ","))
}

// signed reports an int8 tensor (uint8 otherwise, for quantized kernels).
func (t *tensor) signed() bool { return t.typ == schema.TypeInt8 }

func (t *tensor) f32() []float32 {
	if len(t.data) == 0 {
		return nil
	}
	return unsafe.Slice((*float32)(unsafe.Pointer(&t.data[0])), len(t.data)/4)
}

// prod is the number of elements of a shape.
func prod(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

// dim returns dimension i of a shape extended to 4-D on the left.
func dim4(shape []int, i int) int {
	j := i - (4 - len(shape))
	if j < 0 {
		return 1
	}
	return shape[j]
}

func itoa(i int) string { return fmt.Sprint(i) }
