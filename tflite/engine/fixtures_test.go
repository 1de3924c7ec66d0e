package engine

import (
	"image"
	_ "image/jpeg"
	_ "image/png"
	"os"
	"path/filepath"
	"testing"

	fixturedir "github.com/edgeproject/edge/camera/fixtures"
)

func fixtures(t testing.TB) string { return fixturedir.Dir(t) }

// cpuModels are the fixture models TFLite runs on the CPU (the _edgetpu
// ones need an Edge TPU).
var cpuModels = []string{
	"classification/mobilenet_v1_0.25_128_quant.tflite",
	"classification/mobilenet_v1_0.5_160_quant.tflite",
	"classification/mobilenet_v1_0.75_192_quant.tflite",
	"classification/mobilenet_v2_1.0_224_quant.tflite",
	"classification/mobilenet_v3_small_1.0_224_uint8.tflite",
	"classification/person_detect_mobilenet_v1_0.25_96_int8.tflite",
	"classification/tf2_mobilenet_v2_1.0_224_ptq.tflite",
	"detection/coco_ssd_mobilenet_v1_1.0_quant_detect.tflite",
	"float/mobilenet_v1_0.25_128.tflite",
	"vww/vww_96_float.tflite",
	"vww/vww_96_int8.tflite",
}

func fixtureImages(t testing.TB) []string {
	t.Helper()
	imgs, err := filepath.Glob(filepath.Join(fixtures(t), "images", "*"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, p := range imgs {
		if ext := filepath.Ext(p); ext == ".png" || ext == ".jpg" {
			out = append(out, p)
		}
	}
	if len(out) == 0 {
		t.Fatal("no fixture images")
	}
	return out
}

func loadImage(t testing.TB, path string) image.Image {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, _, err := image.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return img
}

// TestModelsMatchTFLite runs every CPU fixture model on every fixture
// photo in both interpreters: TFLite fills its input from the photo, the
// engine gets a copy of those bytes, and the outputs must be equal (8-bit)
// or within floatTol (float32). On a TFLite other than amd64's the bounds
// of archCompare apply instead (see tfliteBitExact).
func TestModelsMatchTFLite(t *testing.T) {
	needTFLite(t)
	dir := fixtures(t)
	imgs := fixtureImages(t)
	decoded := make([]image.Image, len(imgs))
	for i, p := range imgs {
		decoded[i] = loadImage(t, p)
	}
	for _, m := range cpuModels {
		t.Run(filepath.Base(m), func(t *testing.T) {
			p, err := openPair(t, filepath.Join(dir, "models", m), 2)
			if err != nil {
				t.Fatal(err)
			}
			defer p.close()
			step := 1
			if testing.Short() {
				step = 6
			}
			for i := 0; i < len(imgs); i += step {
				if _, err := p.ref.SetImage(decoded[i]); err != nil {
					t.Fatal(err)
				}
				in, err := p.ref.InputBytes(0)
				if err != nil {
					t.Fatal(err)
				}
				if err := p.setInput(0, in); err != nil {
					t.Fatal(err)
				}
				ms, err := p.compare()
				if err != nil {
					t.Fatal(err)
				}
				if !tfliteBitExact {
					problems, note, err := p.archCompare()
					if err != nil {
						t.Fatal(err)
					}
					for _, pr := range problems {
						t.Errorf("%s: %s", filepath.Base(imgs[i]), pr)
					}
					t.Logf("%s: %s", filepath.Base(imgs[i]), note)
					continue
				}
				for _, mm := range ms {
					t.Errorf("%s: %s", filepath.Base(imgs[i]), mm)
				}
			}
		})
	}
}
