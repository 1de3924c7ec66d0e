package engine

import (
	"path/filepath"
	"testing"

	"github.com/edgeproject/edge/tflite"
)

// BenchmarkEngine times Invoke of the engine, of TFLite's CPU kernels and
// of TFLite with XNNPACK (the cgo interpreter) side by side, per fixture
// model and thread count, on the same input (coffee.png).
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
			xnn, err := tflite.Open(path, tflite.Options{Threads: threads, Delegate: tflite.XNNPACK, Logger: quiet})
			if err != nil {
				b.Fatal(err)
			}
			if err := xnn.SetInput(0, in); err != nil {
				b.Fatal(err)
			}
			// Where XNNPACK refuses the graph (TFLite 2.9 and the uint8
			// MobileNets), this is the CPU kernels again: the delegated
			// node count tells.
			d := xnn.Delegation()
			b.Run(name+"/xnnpack", func(b *testing.B) {
				for i := 0; i < b.N; i++ {
					if err := xnn.Invoke(); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/invoke")
				b.ReportMetric(float64(d.Delegated), "delegated")
			})
			xnn.Close()
			eng.Close()
			ref.Close()
		}
	}
}
