package engine

import (
	"path/filepath"
	"testing"

	"github.com/edgeproject/edge/tflite"
)

// BenchmarkEngine times Invoke of the engine and of TFLite's CPU kernels
// (the cgo interpreter) side by side, per fixture model and thread count,
// on the same input (coffee.png).
func BenchmarkEngine(b *testing.B) {
	needTFLite(b)
	dir := fixtures(b)
	img := loadImage(b, filepath.Join(dir, "images", "coffee.png"))
	for _, m := range cpuModels {
		for _, threads := range []int{1, 2} {
			path := filepath.Join(dir, "models", m)
			ref, err := tflite.Open(path, tflite.Options{Threads: threads, Logger: quiet})
			if err != nil {
				b.Fatal(err)
			}
			if _, err := ref.SetImage(img); err != nil {
				b.Fatal(err)
			}
			eng, err := Open(path, Options{Threads: threads})
			if err != nil {
				b.Fatal(err)
			}
			in, _ := ref.InputBytes(0)
			dst, _ := eng.InputBytes(0)
			copy(dst, in)
			name := filepath.Base(m) + "/threads=" + itoa(threads)
			b.Run(name+"/engine", func(b *testing.B) {
				b.ReportAllocs()
				for i := 0; i < b.N; i++ {
					if err := eng.Invoke(); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/invoke")
			})
			b.Run(name+"/tflite", func(b *testing.B) {
				for i := 0; i < b.N; i++ {
					if err := ref.Invoke(); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/invoke")
			})
			eng.Close()
			ref.Close()
		}
	}
}
