// These tests run models on the TFLite C library: a build without it (tag
// nolibtflite, the armhf build) leaves them out.

//go:build cgo && !nolibtflite

package ptq_test

import (
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/edgeproject/edge/camera"
	"github.com/edgeproject/edge/quantize"
	"github.com/edgeproject/edge/quantize/internal/testmodel"
	"github.com/edgeproject/edge/quantize/ptq"
	"github.com/edgeproject/edge/tflite"
)

// Quantize a float model on a folder of photos, for int8 input and output.
// On a device the folder would be frames saved from its own camera, or
// the camera itself (camera.Open("/dev/video0", ...)).
func ExampleRun() {
	dir, _ := os.MkdirTemp("", "ptq-example-")
	defer os.RemoveAll(dir)
	float := filepath.Join(dir, "float.tflite")
	if err := testmodel.AllOps(1).WriteFile(float); err != nil { // real code: a trained model
		fmt.Println(err)
		return
	}
	photos := filepath.Join(dir, "photos")
	os.Mkdir(photos, 0o755)
	for i := 0; i < 3; i++ {
		writeGradient(filepath.Join(photos, fmt.Sprintf("frame%d.png", i)), i)
	}

	src, err := camera.Open(photos, camera.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer src.Close()
	res, err := ptq.Run(context.Background(), float, filepath.Join(dir, "int8.tflite"), src, ptq.Options{
		Preprocess: tflite.Preprocess{Mean: 127.5, Std: 127.5}, // as at inference
		Quantize:   quantize.Options{IO: quantize.Int8IO},
		Logger:     slog.New(slog.DiscardHandler),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("calibration frames:", res.Frames)
	fmt.Println("input: ", res.InputTensor)
	fmt.Println("output:", res.OutputTensor)
	// Output:
	// calibration frames: 3
	// input:  int8[1 32 32 3] (s=0.00784314 zp=-1)
	// output: int8[1 10] (s=0.00390625 zp=-128)
}

// writeGradient writes a 32×32 image (the model's input size) whose
// pixels span 0 to 255.
func writeGradient(path string, seed int) {
	img := image.NewRGBA(image.Rect(0, 0, 32, 32))
	for y := 0; y < 32; y++ {
		for x := 0; x < 32; x++ {
			img.Set(x, y, color.RGBA{uint8(x * 8), uint8(y * 8), uint8((x*y + seed*50) % 256), 255})
		}
	}
	img.Set(0, 0, color.RGBA{0, 0, 0, 255})
	img.Set(31, 31, color.RGBA{255, 255, 255, 255})
	f, err := os.Create(path)
	if err != nil {
		return
	}
	defer f.Close()
	png.Encode(f, img)
}
