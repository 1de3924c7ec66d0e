package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/edgeproject/edge/tflite"
)

// TestEngines: edge version and edge info name the engines compiled in,
// and --engine auto picks the C library when this build has it, else (tag
// nolibtflite) the Go engine, where the C library's engine and delegates
// fail with a clear error.
func TestEngines(t *testing.T) {
	fx := fixtures(t)
	model := filepath.Join(fx, "models/classification/mobilenet_v1_0.25_128_quant.tflite")
	photo := filepath.Join(fx, "images/bird.png")
	_, haveC := tflite.CLibrary()

	code, out, _ := edge(t, "version")
	wantEngines := "engines: go (pure-Go); no TFLite C library"
	if haveC {
		wantEngines = "engines: tflite (TFLite 2.9"
	}
	if code != 0 || !strings.HasPrefix(out, "edge ") || !strings.Contains(out, wantEngines) {
		t.Errorf("version: exit %d, %q; want %q", code, out, wantEngines)
	}
	code, out, errOut := edge(t, "info", "--json", model)
	var info struct {
		Engines    string
		Runs       bool
		Delegation struct{ Used string }
	}
	if err := json.Unmarshal([]byte(out), &info); code != 0 || err != nil {
		t.Fatalf("info: exit %d, %v: %s", code, err, errOut)
	}
	wantUsed := "go"
	if haveC {
		wantUsed = "cpu"
	}
	if !info.Runs || info.Delegation.Used != wantUsed || !strings.HasPrefix("engines: "+info.Engines, wantEngines) {
		t.Errorf("info: %+v; want it to run on %s and engines %q", info, wantUsed, wantEngines)
	}

	for _, eng := range []string{"", "auto"} {
		args := []string{"classify", "--json", "--top", "1", "--model", model}
		if eng != "" {
			args = append(args, "--engine", eng)
		}
		code, out, errOut := edge(t, append(args, photo)...)
		var res struct {
			Delegation struct{ Used string }
			Results    []struct{ Classes []struct{ Index int } }
		}
		if err := json.Unmarshal([]byte(out), &res); code != 0 || err != nil {
			t.Fatalf("classify --engine %q: exit %d, %v: %s", eng, code, err, errOut)
		}
		if res.Delegation.Used != wantUsed || len(res.Results) != 1 || len(res.Results[0].Classes) != 1 || res.Results[0].Classes[0].Index != 20 {
			t.Errorf("classify --engine %q: %s; want chickadee (20) on %s", eng, out, wantUsed)
		}
	}
	if haveC {
		return
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--engine", "tflite"}, "built without the TFLite C library (tag nolibtflite): use --engine go"},
		{[]string{"--delegate", "xnnpack"}, "delegate xnnpack needs the TFLite C library"},
		{[]string{"--engine", "go", "--delegate", "edgetpu"}, "delegate edgetpu needs the TFLite C library"},
		{[]string{"--delegate", "nnapi"}, "delegate nnapi needs the TFLite C library"},
	} {
		args := append([]string{"classify", "--model", model}, tc.args...)
		code, _, errOut := edge(t, append(args, photo)...)
		if code != 1 || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d, %q; want 1 and %q", tc.args, code, errOut, tc.want)
		}
	}
	if code, _, errOut := edge(t, "models", "bench", "--runs", "1"); code != 1 || !strings.Contains(errOut, "bench needs the TFLite C library") {
		t.Errorf("models bench: exit %d, %q; want 1 and that it needs the C library", code, errOut)
	}
}
