package engine_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/edgeproject/edge/tflite/engine"
)

// Run a quantized MobileNet on a mid-gray image and print the best class.
func Example() {
	dir := os.Getenv("EDGE_FIXTURES") // the shared test fixtures
	e, err := engine.Open(filepath.Join(dir, "models/classification/mobilenet_v1_0.25_128_quant.tflite"), engine.Options{Threads: 2})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer e.Close()
	fmt.Println("input:", e.Inputs()[0], "output:", e.Outputs()[0])

	in, _ := e.InputBytes(0)
	for i := range in {
		in[i] = 128 // uint8 pixels as they are: 128 is mid-gray
	}
	if err := e.Invoke(); err != nil {
		fmt.Println(err)
		return
	}
	out, _ := e.OutputBytes(0)
	best := 0
	for i, v := range out {
		if v > out[best] {
			best = i
		}
	}
	fmt.Printf("class %d, score %.3f\n", best, e.Outputs()[0].Dequantize(int32(out[best])))
	// Output:
	// input: uint8[1 128 128 3] output: uint8[1 1001]
	// class 22, score 0.027
}

// Models the engine cannot run are refused when opened, naming the node.
func ExampleOpen_unsupported() {
	dir := filepath.Join(os.Getenv("EDGE_FIXTURES"), "models", "classification")
	_, err := engine.Open(filepath.Join(dir, "mobilenet_v1_0.25_128_quant_edgetpu.tflite"), engine.Options{})
	fmt.Println(strings.TrimPrefix(err.Error(), dir+string(filepath.Separator)))
	fmt.Println("unsupported:", errors.Is(err, engine.ErrUnsupported))
	// Output:
	// mobilenet_v1_0.25_128_quant_edgetpu.tflite: node 0 (edgetpu-custom-op v1): custom operator "edgetpu-custom-op": the engine knows only TFLite_Detection_PostProcess
	// unsupported: true
}
