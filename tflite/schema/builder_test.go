package schema_test

import "github.com/edgeproject/edge/tflite/internal/fbtest"

// The flatbuffer writer shared with the other tests of tflite.
type (
	T       = fbtest.T
	labeled = fbtest.Labeled
)

func buildFile(root T) ([]byte, map[string]int) { return fbtest.BuildFile(root) }

func build(root T) []byte { return fbtest.Build(root) }

// tinyModel returns a small but complete model: one subgraph computing
// CONV_2D -> GELU -> a custom op, with quantized tensors, constant buffers,
// a per-channel weight tensor, metadata and a signature.
func tinyModel() T {
	quant := func(s float32, zp int64) T {
		return T{2: []float32{s}, 3: []int64{zp}}
	}
	tensor := func(name string, typ int8, shape []int32, buf uint32, q T) T {
		t := T{0: shape, 1: typ, 2: buf, 3: name}
		if q != nil {
			t[4] = q
		}
		return t
	}
	return T{
		0: uint32(3),
		1: []T{
			{0: int8(3), 2: int32(1)},                    // CONV_2D, old style (deprecated_builtin_code only)
			{0: int8(127), 2: int32(1), 3: int32(150)},   // GELU, needs builtin_code
			{0: int8(32), 1: "MyCustomOp", 3: int32(32)}, // custom op
			{0: int8(4), 2: int32(2), 3: int32(4)},       // DEPTHWISE_CONV_2D, unused
		},
		2: []T{{
			0: []T{
				tensor("input", 3, []int32{1, 4, 4, 1}, 0, quant(0.5, 128)),
				tensor("weights", 9, []int32{2, 1, 1, 1}, 1, T{2: []float32{0.1, 0.2}, 3: []int64{0, 0}, 6: int32(0)}),
				tensor("conv", 3, []int32{1, 4, 4, 2}, 0, quant(0.25, 0)),
				tensor("gelu", 3, []int32{1, 4, 4, 2}, 0, quant(0.25, 0)),
				tensor("output", 3, []int32{1, 2}, 0, quant(0.25, 0)),
			},
			1: []int32{0},
			2: []int32{4},
			3: []T{
				{0: uint32(0), 1: []int32{0, 1, -1}, 2: []int32{2}, 3: uint8(1),
					4: T{0: int8(0), 1: int32(2), 2: int32(2), 3: int8(1)}}, // Conv2DOptions: SAME, stride 2x2, RELU
				{0: uint32(1), 1: []int32{2}, 2: []int32{3}},
				{0: uint32(2), 1: []int32{3}, 2: []int32{4}, 5: []byte{0xde, 0xad}},
			},
			4: "main",
		}},
		3: "tiny test model",
		4: []T{
			{},
			{0: []byte{10, 236}},
			{0: []byte("1.14.0\x00\x00")},
		},
		6: []T{{0: "min_runtime_version", 1: uint32(2)}},
		7: []T{{
			0: []T{{0: "x", 1: uint32(0)}},
			1: []T{{0: "y", 1: uint32(4)}},
			2: "serving_default",
			4: uint32(0),
		}},
	}
}
