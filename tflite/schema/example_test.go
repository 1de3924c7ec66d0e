package schema_test

import (
	"fmt"

	"github.com/edgeproject/edge/tflite/schema"
)

func Example() {
	// A small model built by the test's flatbuffer writer; real code would
	// call schema.ReadFile("model.tflite").
	m, err := schema.Parse(build(tinyModel()))
	if err != nil {
		fmt.Println(err)
		return
	}
	sg := m.Subgraphs[0]
	fmt.Println("schema version:", m.Version, "-", m.Description)
	for _, i := range sg.Inputs {
		fmt.Println("input: ", sg.Tensors[i])
	}
	for _, i := range sg.Outputs {
		fmt.Println("output:", sg.Tensors[i])
	}
	for _, op := range sg.Operators {
		code, err := m.Op(op)
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("op %-10s in %v out %v\n", code.Name(), op.Inputs, op.Outputs)
		if code.Builtin == schema.OpConv2D {
			// Conv2DOptions fields: padding (id 0), stride_w (1), stride_h (2),
			// fused_activation_function (3).
			o := op.BuiltinOptions
			fmt.Printf("   stride %dx%d, activation %d\n", o.Int32(1, 1), o.Int32(2, 1), o.Int8(3, 0))
		}
	}
	fmt.Println("custom ops:", m.CustomOps())
	fmt.Println("min runtime:", m.MinRuntimeVersion())

	_, err = schema.Parse([]byte("\x00\x00\x00\x00PK\x03\x04"))
	fmt.Println(err)
	// Output:
	// schema version: 3 - tiny test model
	// input:  uint8[1,4,4,1] input (s=0.5 zp=128)
	// output: uint8[1,2] output (s=0.25 zp=0)
	// op CONV_2D    in [0 1 -1] out [2]
	//    stride 2x2, activation 1
	// op GELU       in [2] out [3]
	// op MyCustomOp in [3] out [4]
	// custom ops: [MyCustomOp]
	// min runtime: 1.14.0
	// not a TFLite model: file identifier is "PK\x03\x04", want "TFL3"
}
