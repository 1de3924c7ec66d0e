package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/edgeproject/edge/tflite/schema"
	"github.com/edgeproject/edge/tflite/schema/fbwriter"
)

// quantizeCmd runs `edge quantize` in-process.
func quantizeCmd(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err = runQuantize(context.Background(), args, &out, &errOut)
	return out.String(), errOut.String(), err
}

// photoFolder links a few RGB fixture photos into a new folder.
func photoFolder(t *testing.T, names ...string) string {
	t.Helper()
	dir := t.TempDir()
	for _, n := range names {
		if err := os.Symlink(filepath.Join(fixtures(t), "images", n), filepath.Join(dir, n)); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func dirEntries(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}

func TestQuantizeCommand(t *testing.T) {
	needCLibrary(t)
	fx := fixtures(t)
	calib := photoFolder(t, "bird.png", "cat.png", "coffee.png", "grace_hopper.png", "parrot.jpg", "pets.jpg")
	outDir := t.TempDir()
	out := filepath.Join(outDir, "vww_int8.tflite")
	stdout, stderr, err := quantizeCmd(t, "--calib", calib, "--in", filepath.Join(fx, "models/vww/vww_96_float.tflite"),
		"--out", out, "--frames", "4", "--io", "int8", "--mean", "0", "--std", "255", "--json")
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	var res struct {
		Frames       int
		IO           string
		InputTensor  string `json:"input_tensor"`
		OutputBytes  int64  `json:"output_bytes"`
		InputBytes   int64  `json:"input_bytes"`
		Ratio        float64
		Method       string
		BiasCorrect  bool   `json:"bias_correction"`
		OutputTensor string `json:"output_tensor"`
	}
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatalf("%v\n%s", err, stdout)
	}
	if res.Frames != 4 || res.IO != "int8" || res.Method != "minmax" || !res.BiasCorrect || !strings.HasPrefix(res.InputTensor, "int8[1 96 96 3]") || res.Ratio < 2.5 {
		t.Errorf("result %+v", res)
	}
	if got := dirEntries(t, outDir); len(got) != 1 || got[0] != "vww_int8.tflite" {
		t.Errorf("output folder holds %v, want only the model", got)
	}
	// The model classifies through the usual path.
	code, cout, cerr := edge(t, "classify", "--model", out, "--labels", filepath.Join(fx, "labels/person_2class_labels.txt"),
		"--mean", "0", "--std", "255", "--top", "1", filepath.Join(fx, "images/grace_hopper.png"))
	if code != 0 || !strings.Contains(cout, "person") || strings.Contains(cout, "notperson") {
		t.Errorf("classify: exit %d\n%s%s", code, cout, cerr)
	}
	// Text output.
	out2 := filepath.Join(outDir, "vww_pct.tflite")
	stdout, stderr, err = quantizeCmd(t, "--calib", calib, "--in", filepath.Join(fx, "models/vww/vww_96_float.tflite"),
		"--out", out2, "--frames", "3", "--calib-method", "percentile", "--percentile", "99.9", "--io", "uint8", "--mean", "0", "--std", "255")
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	for _, want := range []string{"3 frames", "99.9-percentile ranges", "uint8[1 96 96 3]", "runs on TFLite 2.9"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
}

// TestQuantizeCommandErrors: bad input gives a clear error and leaves no
// file behind.
func TestQuantizeCommandErrors(t *testing.T) {
	fx := fixtures(t)
	float := filepath.Join(fx, "models/vww/vww_96_float.tflite")
	calib := photoFolder(t, "bird.png", "cat.png")
	scratch := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(scratch, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	// A float model with an operator the quantizer lacks.
	b := fbwriter.NewBuilder("exp")
	x := b.Tensor(fbwriter.Tensor{Name: "input", Shape: []int32{1, 8, 8, 3}, Type: schema.TypeFloat32})
	y := b.Tensor(fbwriter.Tensor{Name: "exp_out", Shape: []int32{1, 8, 8, 3}, Type: schema.TypeFloat32})
	b.Op(schema.OpExp, 1, []int32{x}, []int32{y}, nil)
	b.SetIO([]int32{x}, []int32{y})
	expData, err := b.Model().Bytes()
	if err != nil {
		t.Fatal(err)
	}
	expModel := write("exp.tflite", expData)
	garbage := write("garbage.tflite", []byte("this is not a flatbuffer at all"))
	empty := filepath.Join(scratch, "empty")
	broken := filepath.Join(scratch, "broken")
	for _, d := range []string{empty, broken} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write("broken/frame.png", []byte("\x89PNG\r\n\x1a\nnot really"))

	for _, tc := range []struct {
		name string
		args []string // --out is added
		want []string
	}{
		{"already quantized", []string{"--calib", calib, "--in", filepath.Join(fx, "models/vww/vww_96_int8.tflite")}, []string{"vww_96_int8.tflite", "already quantized", "int8"}},
		{"unsupported op", []string{"--calib", calib, "--in", expModel}, []string{"exp.tflite", "node 0 (EXP", "not supported"}},
		{"unreadable model", []string{"--calib", calib, "--in", garbage}, []string{"garbage.tflite", "not a TFLite model"}},
		{"missing model", []string{"--calib", calib, "--in", filepath.Join(scratch, "nope.tflite")}, []string{"nope.tflite", "no such file"}},
		{"empty folder", []string{"--calib", empty, "--in", float}, []string{"--calib", "no images"}},
		{"undecodable frames", []string{"--calib", broken, "--in", float}, []string{"calibration", "decode none"}},
		{"no camera", []string{"--calib", "camera", "--camera", "/dev/video-none", "--in", float}, []string{"--calib", "/dev/video-none"}},
		{"percentile without method", []string{"--calib", calib, "--in", float, "--percentile", "99"}, []string{"--calib-method percentile"}},
		{"bad io", []string{"--calib", calib, "--in", float, "--io", "int16"}, []string{"--io", "int16"}},
		{"bad method", []string{"--calib", calib, "--in", float, "--calib-method", "kl"}, []string{"--calib-method", "kl"}},
		{"bad frames", []string{"--calib", calib, "--in", float, "--frames", "0"}, []string{"--frames 0"}},
		{"bad std", []string{"--calib", calib, "--in", float, "--mean", "3"}, []string{"std must be > 0"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			outDir := t.TempDir()
			_, stderr, err := quantizeCmd(t, append(tc.args, "--out", filepath.Join(outDir, "int8.tflite"))...)
			if err == nil {
				t.Fatalf("no error\n%s", stderr)
			}
			t.Logf("edge quantize: %v", err)
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if got := dirEntries(t, outDir); len(got) != 0 {
				t.Errorf("output folder holds %v after an error", got)
			}
		})
	}
	t.Run("output over the input", func(t *testing.T) {
		in := write("float.tflite", mustRead(t, float))
		_, _, err := quantizeCmd(t, "--calib", calib, "--in", in, "--out", in, "--frames", "1", "--mean", "0", "--std", "255")
		if err == nil || !strings.Contains(err.Error(), "replace the float model") {
			t.Errorf("%v", err)
		}
		if !bytes.Equal(mustRead(t, in), mustRead(t, float)) {
			t.Error("the float model was changed")
		}
	})
	t.Run("usage", func(t *testing.T) {
		for _, args := range [][]string{{"--in", float}, {"--calib", calib, "--in", float}, {"--calib", calib, "--in", float, "--out", "x", "extra"}} {
			if _, _, err := quantizeCmd(t, args...); !errors.Is(err, errUsage) {
				t.Errorf("%v: %v, want a usage error", args, err)
			}
		}
	})
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
