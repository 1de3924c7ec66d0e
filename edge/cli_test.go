package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	fixturedir "github.com/edgeproject/edge/camera/fixtures"
	"github.com/edgeproject/edge/tflite"
)

func fixtures(t *testing.T) string { return fixturedir.Dir(t) }

// needCLibrary skips a test of what only the TFLite C library does (its
// delegates, its errors, comparisons with it) in a build without it.
func needCLibrary(t *testing.T) {
	t.Helper()
	if _, ok := tflite.CLibrary(); !ok {
		t.Skip("needs the TFLite C library; this build has none (tag nolibtflite)")
	}
}

// edge runs the CLI in-process and returns its exit code, stdout and stderr.
func edge(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(context.Background(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestClassifyCommand(t *testing.T) {
	fx := fixtures(t)
	code, out, errOut := edge(t, "classify", "--json", "--top", "2",
		"--model", filepath.Join(fx, "models/classification/mobilenet_v2_1.0_224_quant.tflite"),
		"--labels", filepath.Join(fx, "labels/imagenet_labels_1001_coral.txt"),
		filepath.Join(fx, "images/coffee.png"), filepath.Join(fx, "images/parrot.jpg"))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var res struct {
		Results []struct {
			Image   string
			Classes []struct {
				Index int
				Label string
				Score float64
			}
			Timings map[string]float64
		}
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	want := []string{"espresso", "macaw"}
	if len(res.Results) != 2 {
		t.Fatalf("%d results, want 2", len(res.Results))
	}
	for i, r := range res.Results {
		if len(r.Classes) != 2 || r.Classes[0].Label != want[i] || r.Classes[0].Score < 0.5 {
			t.Errorf("%s: %+v, want %s first with score > 0.5", r.Image, r.Classes, want[i])
		}
		if r.Timings["invoke_ms"] <= 0 {
			t.Errorf("%s: timings %v", r.Image, r.Timings)
		}
	}
}

// TestClassifyEmbeddedLabels: a model that packs its labels needs no --labels.
func TestClassifyEmbeddedLabels(t *testing.T) {
	fx := fixtures(t)
	code, out, errOut := edge(t, "classify", "--top", "1",
		"--model", filepath.Join(fx, "models/classification/mobilenet_v1_0.75_192_quant.tflite"),
		filepath.Join(fx, "images/parrot.jpg"))
	if code != 0 || !strings.Contains(out, "macaw") {
		t.Errorf("exit %d, out:\n%s\n%s", code, out, errOut)
	}
	code, out, _ = edge(t, "info", filepath.Join(fx, "models/classification/mobilenet_v1_0.75_192_quant.tflite"))
	if code != 0 || !strings.Contains(out, "labels packed in the model: ") {
		t.Errorf("info: exit %d:\n%s", code, out)
	}
}

func TestDetectCommand(t *testing.T) {
	fx := fixtures(t)
	code, out, errOut := edge(t, "detect", "--min-score", "0.5",
		"--model", filepath.Join(fx, "models/detection/coco_ssd_mobilenet_v1_1.0_quant_detect.tflite"),
		"--labels", filepath.Join(fx, "labels/coco_ssd_labelmap_91.txt"), // "???" first: indexed from 1
		filepath.Join(fx, "images/pets.jpg"))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if n := strings.Count(out, "\n  dog "); n != 2 {
		t.Errorf("want 2 dogs in pets.jpg, got:\n%s", out)
	}
}

func TestInfoCommand(t *testing.T) {
	needCLibrary(t)
	fx := fixtures(t)
	for _, tc := range []struct {
		model   string
		runs    bool
		op      string
		input   string
		problem string
	}{
		{"detection/coco_ssd_mobilenet_v1_1.0_quant_detect.tflite", true, "TFLite_Detection_PostProcess", "uint8 [1 300 300 3]", ""},
		{"classification/mobilenet_v3_small_1.0_224_uint8.tflite", true, "HARD_SWISH", "uint8 [1 224 224 3]", ""},
		{"classification/mobilenet_v2_1.0_224_quant_edgetpu.tflite", false, "edgetpu-custom-op", "uint8 [1 224 224 3]", "needs an Edge TPU"},
	} {
		code, out, errOut := edge(t, "info", "--json", filepath.Join(fx, "models", tc.model))
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", tc.model, code, errOut)
		}
		var info struct {
			Ops    map[string]int
			Inputs []struct {
				Type  string
				Shape []int
			}
			Runs    bool
			Problem string
		}
		if err := json.Unmarshal([]byte(out), &info); err != nil {
			t.Fatalf("%s: %v\n%s", tc.model, err, out)
		}
		input := ""
		if len(info.Inputs) == 1 {
			input = fmt.Sprint(info.Inputs[0].Type, " ", info.Inputs[0].Shape)
		}
		if info.Runs != tc.runs || info.Ops[tc.op] == 0 || input != tc.input || !strings.Contains(info.Problem, tc.problem) {
			t.Errorf("%s: runs %v ops %v input %q problem %q", tc.model, info.Runs, info.Ops, input, info.Problem)
		}
	}
	code, out, _ := edge(t, "info", filepath.Join(fx, "models/classification/mobilenet_v1_0.25_128_quant.tflite"))
	for _, want := range []string{"input 0: uint8 [1 128 128 3]", "scale 0.0078125 zero point 128", "DEPTHWISE_CONV_2D", "TFLITE_METADATA", "runs here: yes"} {
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("info text: missing %q in\n%s", want, out)
		}
	}
}

// TestBadInput: every bad input is an error that names the file, exit 1, no panic.
func TestBadInput(t *testing.T) {
	needCLibrary(t)
	fx := fixtures(t)
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	model := filepath.Join(fx, "models/classification/mobilenet_v1_0.25_128_quant.tflite")
	real, err := os.ReadFile(model)
	if err != nil {
		t.Fatal(err)
	}
	labels := filepath.Join(fx, "labels/imagenet_labels_1001_coral.txt")
	coffee := filepath.Join(fx, "images/coffee.png")
	empty := write("empty.tflite", nil)
	truncated := write("truncated.tflite", real[:len(real)/3])
	text := write("notes.tflite", []byte("hello\n"))
	fakePNG := write("photo.png", []byte("this is text, not a PNG\n"))
	for _, tc := range []struct {
		name string
		args []string
		code int
		want []string
	}{
		{"empty model", []string{"classify", "--model", empty, coffee}, 1, []string{empty, "empty"}},
		{"truncated model", []string{"classify", "--model", truncated, coffee}, 1, []string{truncated, "truncated"}},
		{"text model", []string{"info", text}, 1, []string{text, "not a TFLite model"}},
		{"image not an image", []string{"classify", "--model", model, fakePNG}, 1, []string{fakePNG, "not a PNG or JPEG image"}},
		{"missing image", []string{"classify", "--model", model, filepath.Join(dir, "nope.jpg")}, 1, []string{"nope.jpg", "no such file"}},
		{"wrong label count", []string{"classify", "--model", model, "--labels", filepath.Join(fx, "labels/coco_labels_90_coral.txt"), coffee}, 1, []string{"coco_labels_90_coral.txt", "90 labels for a model with 1001 classes"}},
		{"no model", []string{"classify", coffee}, 1, []string{"--model is required"}},
		{"no images", []string{"detect", "--model", model}, 1, []string{"no images given"}},
		{"bad delegate", []string{"classify", "--delegate", "gpu", "--model", model, coffee}, 1, []string{"unknown delegate \"gpu\""}},
		{"edgetpu model on cpu", []string{"classify", "--model", filepath.Join(fx, "models/classification/mobilenet_v1_0.5_160_quant_edgetpu.tflite"), coffee}, 1, []string{"needs an Edge TPU"}},
		{"classify with SSD labels", []string{"detect", "--model", model, "--labels", labels, coffee}, 1, []string{"an SSD model"}},
		{"unknown flag", []string{"classify", "--nope"}, 2, []string{"flag provided but not defined"}},
		{"unknown command", []string{"frobnicate"}, 2, []string{"unknown command"}},
	} {
		code, _, errOut := edge(t, tc.args...)
		if code != tc.code {
			t.Errorf("%s: exit %d, want %d\n%s", tc.name, code, tc.code, errOut)
		}
		for _, w := range tc.want {
			if !strings.Contains(errOut, w) {
				t.Errorf("%s: stderr lacks %q:\n%s", tc.name, w, errOut)
			}
		}
	}
}

func TestModelsCommand(t *testing.T) {
	needCLibrary(t)
	fx := fixtures(t)
	code, out, errOut := edge(t, "models", "list")
	if code != 0 || !strings.Contains(out, "mobilenet_v1_0.25_128_quant") || !strings.Contains(out, "verified") {
		t.Errorf("list: exit %d\n%s%s", code, out, errOut)
	}
	code, out, _ = edge(t, "models", "seed")
	for _, want := range []string{"mobilenet_v1", "mobilenet_v2", "mobilenet_v3_large", "mobilenet_v3_small", "568.74M"} {
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("seed: no %q in\n%s", want, out)
		}
	}
	code, out, _ = edge(t, "models", "analyze", filepath.Join(fx, "models/classification/mobilenet_v2_1.0_224_quant.tflite"))
	if code != 0 || !strings.Contains(out, "300.78M") {
		t.Errorf("analyze: exit %d\n%s", code, out)
	}
	if code, _, errOut := edge(t, "models", "fetch", "mobilenet_v9"); code != 1 || !strings.Contains(errOut, "mobilenet_v9") {
		t.Errorf("fetch unknown: exit %d: %s", code, errOut)
	}
	svg := filepath.Join(t.TempDir(), "chart.svg")
	code, out, errOut = edge(t, "models", "bench", "--delegate", "xnnpack", "--threads", "1", "--runs", "2", "--svg", svg)
	if code != 0 || strings.Count(out, "xnnpack") < 4 {
		t.Fatalf("bench: exit %d\n%s%s", code, out, errOut)
	}
	if b, err := os.ReadFile(svg); err != nil || !strings.Contains(string(b), "<svg") || !strings.Contains(string(b), "mobilenet_v3_small") {
		t.Errorf("chart: %v", err)
	}
}

// TestEngineGo: --engine go gives exactly TFLite's results (the Go engine is
// bit-exact), for a classifier and the SSD detector.
func TestEngineGo(t *testing.T) {
	needCLibrary(t)
	fx := fixtures(t)
	for _, tc := range []struct{ cmd, model, labels string }{
		{"classify", "models/classification/tf2_mobilenet_v2_1.0_224_ptq.tflite", "labels/imagenet_labels_1001_coral.txt"},
		{"detect", "models/detection/coco_ssd_mobilenet_v1_1.0_quant_detect.tflite", "labels/coco_labels_90_coral.txt"},
	} {
		results := map[string]string{}
		for _, eng := range []string{"tflite", "go"} {
			code, out, errOut := edge(t, tc.cmd, "--json", "--engine", eng,
				"--model", filepath.Join(fx, tc.model), "--labels", filepath.Join(fx, tc.labels),
				filepath.Join(fx, "images/coffee.png"), filepath.Join(fx, "images/pets.jpg"), filepath.Join(fx, "images/grace_hopper.png"))
			if code != 0 {
				t.Fatalf("%s --engine %s: exit %d: %s", tc.cmd, eng, code, errOut)
			}
			var res struct {
				Delegation struct{ Used string }
				Results    []map[string]json.RawMessage
			}
			if err := json.Unmarshal([]byte(out), &res); err != nil {
				t.Fatal(err)
			}
			if eng == "go" && res.Delegation.Used != "go" {
				t.Errorf("--engine go ran on %q", res.Delegation.Used)
			}
			for _, r := range res.Results {
				key := "classes"
				if tc.cmd == "detect" {
					key = "detections"
				}
				results[eng] += string(r["image"]) + string(r[key]) + "\n"
			}
		}
		if results["go"] != results["tflite"] || results["go"] == "" {
			t.Errorf("%s: go engine\n%s\ntflite\n%s", tc.cmd, results["go"], results["tflite"])
		}
	}
	if code, _, errOut := edge(t, "classify", "--engine", "go", "--delegate", "xnnpack", "--model", filepath.Join(fx, "models/vww/vww_96_int8.tflite"), filepath.Join(fx, "images/coffee.png")); code != 1 || !strings.Contains(errOut, "CPU only") {
		t.Errorf("go engine with xnnpack: exit %d: %s", code, errOut)
	}
}
