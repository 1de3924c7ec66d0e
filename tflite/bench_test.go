//go:build cgo && !nolibtflite

// The C library's tests: a build without it (nolibtflite) runs
// clibrary_test.go instead.

package tflite

import (
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
)

// BenchmarkInvoke times Invoke alone for every CPU model of the fixtures,
// on TFLite's CPU kernels and on XNNPACK, with 1 and 2 threads. The
// delegation actually used is part of the name's report (b.ReportMetric
// "delegated" = nodes XNNPACK took), since uint8 graphs fall back.
func BenchmarkInvoke(b *testing.B) {
	models := []string{
		"classification/mobilenet_v1_0.25_128_quant.tflite",
		"classification/mobilenet_v1_0.5_160_quant.tflite",
		"classification/mobilenet_v1_0.75_192_quant.tflite",
		"classification/mobilenet_v2_1.0_224_quant.tflite",
		"classification/tf2_mobilenet_v2_1.0_224_ptq.tflite",
		"classification/mobilenet_v3_small_1.0_224_uint8.tflite",
		"vww/vww_96_int8.tflite",
		"float/mobilenet_v1_0.25_128.tflite",
		"detection/coco_ssd_mobilenet_v1_1.0_quant_detect.tflite",
	}
	img := loadImage(b, fixture(b, "images/coffee.png"))
	for _, m := range models {
		for _, d := range []Delegate{CPU, XNNPACK} {
			for _, threads := range []int{1, 2} {
				name := fmt.Sprintf("%s/%s/threads=%d", filepath.Base(m), d, threads)
				b.Run(name, func(b *testing.B) {
					it, err := Open(fixture(b, "models/"+m), Options{Delegate: d, Threads: threads, Logger: quiet})
					if err != nil {
						b.Fatal(err)
					}
					defer it.Close()
					if _, err := it.SetImage(img); err != nil {
						b.Fatal(err)
					}
					if err := it.Invoke(); err != nil { // warm-up
						b.Fatal(err)
					}
					b.ReportAllocs()
					b.ResetTimer()
					for i := 0; i < b.N; i++ {
						if err := it.Invoke(); err != nil {
							b.Fatal(err)
						}
					}
					b.StopTimer()
					b.ReportMetric(float64(it.Delegation().Delegated), "delegated")
					b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/invoke")
				})
			}
		}
	}
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// BenchmarkSetImage times the preprocessing of a 1280×720 photo into a
// 224×224 uint8 input; steady state allocates nothing.
func BenchmarkSetImage(b *testing.B) {
	it, err := Open(fixture(b, "models/classification/mobilenet_v2_1.0_224_quant.tflite"), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer it.Close()
	img := loadImage(b, fixture(b, "images/cat_720p.jpg"))
	if _, err := it.SetImage(img); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := it.SetImage(img); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSetPixels times a 640×480 RGB camera frame into the SSD
// model's 300×300 input: no allocation per frame.
func BenchmarkSetPixels(b *testing.B) {
	it, err := Open(fixture(b, "models/detection/coco_ssd_mobilenet_v1_1.0_quant_detect.tflite"), Options{Logger: quiet})
	if err != nil {
		b.Fatal(err)
	}
	defer it.Close()
	pix := make([]byte, 640*480*3)
	for i := range pix {
		pix[i] = byte(i * 7)
	}
	if _, err := it.SetPixels(pix, 640, 480); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := it.SetPixels(pix, 640, 480); err != nil {
			b.Fatal(err)
		}
	}
}
