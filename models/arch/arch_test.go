package arch_test

import (
	"bytes"
	"fmt"
	fixturedir "github.com/edgeproject/edge/camera/fixtures"
	"image"
	_ "image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/edgeproject/edge/models/arch"
	"github.com/edgeproject/edge/tflite"
	"github.com/edgeproject/edge/tflite/schema"
)

func photo(t testing.TB) image.Image {
	t.Helper()
	f, err := os.Open(fixturedir.Path(t, "images/bird.png"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, _, err := image.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// TestTFLiteRunsEachArchitecture: TFLite 2.9 loads every built model,
// allocates its tensors (tflite.Open does), and runs it on a photo, with
// int8 and with uint8 input and output.
func TestTFLiteRunsEachArchitecture(t *testing.T) {
	if _, ok := tflite.CLibrary(); !ok {
		t.Skip("needs the TFLite C library; this build has none (tag nolibtflite)")
	}
	img := photo(t)
	dir := t.TempDir()
	for _, name := range arch.Names() {
		for _, u8 := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/uint8io=%v", name, u8), func(t *testing.T) {
				m, err := arch.Build(name, arch.Options{UInt8IO: u8})
				if err != nil {
					t.Fatal(err)
				}
				path := filepath.Join(dir, fmt.Sprintf("%s_%v.tflite", name, u8))
				if err := m.WriteFile(path); err != nil {
					t.Fatal(err)
				}
				it, err := tflite.Open(path, tflite.Options{Threads: 2})
				if err != nil {
					t.Fatal(err)
				}
				defer it.Close()
				in, out := it.Inputs()[0], it.Outputs()[0]
				wantType := schema.TypeInt8
				if u8 {
					wantType = schema.TypeUint8
				}
				if in.Type != wantType || fmt.Sprint(in.Shape) != "[1 224 224 3]" || out.Type != wantType || fmt.Sprint(out.Shape) != "[1 1001]" {
					t.Fatalf("input %s output %s", in, out)
				}
				if d := it.Delegation(); d.Nodes != len(m.Subgraphs[0].Operators) {
					t.Errorf("delegation %v for %d operators", d, len(m.Subgraphs[0].Operators))
				}
				if _, err := it.SetImage(img); err != nil {
					t.Fatal(err)
				}
				if err := it.Invoke(); err != nil {
					t.Fatal(err)
				}
				top, err := it.Classify(5, nil)
				if err != nil {
					t.Fatal(err)
				}
				for _, c := range top {
					if c.Score < 0 || c.Score > 1 {
						t.Errorf("class %d has probability %v", c.Index, c.Score)
					}
				}
			})
		}
	}
}

// TestXNNPACKRunsInt8Graph: the int8 graphs are what XNNPACK's QS8 path
// takes; all convolutions go to it.
func TestXNNPACKRunsInt8Graph(t *testing.T) {
	if _, ok := tflite.CLibrary(); !ok {
		t.Skip("needs the TFLite C library; this build has none (tag nolibtflite)")
	}
	img := photo(t)
	m, err := arch.MobileNetV2(arch.Options{})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "v2.tflite")
	if err := m.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	it, err := tflite.Open(path, tflite.Options{Delegate: tflite.XNNPACK, Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer it.Close()
	if d := it.Delegation(); d.Used != tflite.XNNPACK || d.Delegated < d.Nodes-2 {
		t.Errorf("delegation %v", d)
	}
	if _, err := it.SetImage(img); err != nil {
		t.Fatal(err)
	}
	if err := it.Invoke(); err != nil {
		t.Fatal(err)
	}
}

func TestDeterministic(t *testing.T) {
	bytesOf := func(o arch.Options) []byte {
		m, err := arch.MobileNetV3Small(o)
		if err != nil {
			t.Fatal(err)
		}
		b, err := m.Bytes()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	a, b, c := bytesOf(arch.Options{}), bytesOf(arch.Options{Seed: 1}), bytesOf(arch.Options{Seed: 2})
	if !bytes.Equal(a, b) {
		t.Error("two builds with the same seed differ")
	}
	if bytes.Equal(a, c) || len(a) != len(c) {
		t.Errorf("seeds 1 and 2: equal %v, sizes %d and %d", bytes.Equal(a, c), len(a), len(c))
	}
}

// TestOperatorsAndVersions: the graphs use only the operators and versions
// TFLite 2.9 has kernels for, quantized per channel.
func TestOperatorsAndVersions(t *testing.T) {
	want := map[string]int32{"CONV_2D": 3, "DEPTHWISE_CONV_2D": 3, "ADD": 2, "MUL": 2, "HARD_SWISH": 1, "MEAN": 2,
		"FULLY_CONNECTED": 4, "RESHAPE": 1, "SOFTMAX": 2, "QUANTIZE": 1}
	used := map[string]bool{}
	for _, name := range arch.Names() {
		m, err := arch.Build(name, arch.Options{UInt8IO: true})
		if err != nil {
			t.Fatal(err)
		}
		data, err := m.Bytes()
		if err != nil {
			t.Fatal(err)
		}
		sm, err := schema.Parse(data)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range sm.OperatorCodes {
			used[c.Name()] = true
			if v, ok := want[c.Name()]; !ok || v != c.Version {
				t.Errorf("%s: %s v%d", name, c.Name(), c.Version)
			}
		}
		for _, tn := range sm.Subgraphs[0].Tensors {
			q := tn.Quantization
			if strings.HasSuffix(tn.Name, "/weights") && strings.HasPrefix(tn.Name, "conv") && (q == nil || len(q.Scale) != int(tn.Shape[0]) || q.QuantizedDimension != 0) {
				t.Errorf("%s: %s is not quantized per output channel", name, tn)
			}
			if strings.HasPrefix(tn.Name, "depthwise") && strings.HasSuffix(tn.Name, "/weights") && (q == nil || len(q.Scale) != int(tn.Shape[3]) || q.QuantizedDimension != 3) {
				t.Errorf("%s: %s is not quantized per channel on dimension 3", name, tn)
			}
		}
		if sm.MinRuntimeVersion() == "" {
			t.Errorf("%s: no min_runtime_version", name)
		}
	}
	for op := range want {
		if !used[op] {
			t.Errorf("no graph uses %s", op)
		}
	}
}

func TestOptionsAndNames(t *testing.T) {
	if _, err := arch.Build("resnet50", arch.Options{}); err == nil || !strings.Contains(err.Error(), "mobilenet_v3_small") {
		t.Errorf("unknown architecture: %v", err)
	}
	for _, o := range []arch.Options{{Width: 5}, {Resolution: 8}, {Classes: -1}} {
		if _, err := arch.MobileNetV1(o); err == nil {
			t.Errorf("%+v: no error", o)
		}
	}
	for in, want := range map[string]string{"v1": arch.V1, "MobileNet-V2": arch.V2, "v3-large": arch.V3Large, "mobilenet_v3_small": arch.V3Small, "v4": ""} {
		if got := arch.Canonical(in); got != want {
			t.Errorf("Canonical(%q) = %q, want %q", in, got, want)
		}
	}
}

func ExampleBuild() {
	m, err := arch.Build("v3-small", arch.Options{UInt8IO: true})
	if err != nil {
		fmt.Println(err)
		return
	}
	data, err := m.Bytes() // or m.WriteFile("mobilenet_v3_small.tflite")
	if err != nil {
		fmt.Println(err)
		return
	}
	sm, err := schema.Parse(data)
	if err != nil {
		fmt.Println(err)
		return
	}
	sg := sm.Subgraphs[0]
	fmt.Println(sm.Description)
	fmt.Println("input: ", sg.Tensors[sg.Inputs[0]])
	fmt.Println("output:", sg.Tensors[sg.Outputs[0]])
	fmt.Println("operators:", len(sg.Operators))
	// Output:
	// edge models/arch MobileNet V3-Small width 1 224x224, 1001 classes, synthetic int8 weights (seed 1), uint8 I/O
	// input:  uint8[1,224,224,3] input (s=0.0078125 zp=128)
	// output: uint8[1,1001] probabilities_uint8 (s=0.00390625 zp=0)
	// operators: 120
}
