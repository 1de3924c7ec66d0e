package engine

import (
	"errors"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/edgeproject/edge/tflite/schema"
)

// TestInvokeDoesNotAllocate checks the steady state of every fixture model.
func TestInvokeDoesNotAllocate(t *testing.T) {
	dir := fixtures(t)
	for _, m := range cpuModels {
		e, err := Open(filepath.Join(dir, "models", m), Options{Threads: 2})
		if err != nil {
			t.Fatal(err)
		}
		e.Invoke()
		if n := testing.AllocsPerRun(3, func() { e.Invoke() }); n != 0 {
			t.Errorf("%s: %g allocations per Invoke", m, n)
		}
		e.Close()
	}
}

// TestCloseStopsWorkers checks that Close ends the worker goroutines.
func TestCloseStopsWorkers(t *testing.T) {
	settle := time.Now().Add(time.Second)
	for n := runtime.NumGoroutine(); time.Now().Before(settle); {
		time.Sleep(20 * time.Millisecond)
		if m := runtime.NumGoroutine(); m == n {
			break
		} else {
			n = m
		}
	}
	before := runtime.NumGoroutine()
	m := (&gen{r: newRand(1)}).convLike(schema.OpConv2D)
	e, err := OpenBytes("conv", m.bytes(), Options{Threads: 4})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Invoke(); err != nil {
		t.Fatal(err)
	}
	if n := runtime.NumGoroutine(); n < before+3 {
		t.Errorf("%d goroutines with 4 threads, want at least %d", n, before+3)
	}
	e.Close()
	e.Close()
	if err := e.Invoke(); err == nil {
		t.Error("Invoke after Close succeeded")
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Errorf("%d goroutines after Close, want %d", n, before)
	}
}

// TestUnsupportedNodes checks that models the engine cannot run are
// refused at Open with an error naming the node and the reason.
func TestUnsupportedNodes(t *testing.T) {
	act := func(m *modelSpec, name string, typ schema.TensorType) int32 {
		ts := tspec{name: name, typ: typ, shape: []int{1, 4}}
		if typ != schema.TypeFloat32 {
			ts.scale, ts.zp = []float32{0.1}, []int64{0}
		}
		return m.add(ts)
	}
	unary := func(op schema.BuiltinOp, version int32, typ schema.TensorType) *modelSpec {
		m := &modelSpec{}
		in, out := act(m, "in", typ), act(m, "out", typ)
		m.ops = []opspec{{op: op, version: version, ins: []int32{in}, outs: []int32{out}}}
		m.inputs, m.outputs = []int32{in}, []int32{out}
		return m
	}
	for _, tc := range []struct {
		name string
		m    *modelSpec
		want string
	}{
		{"unknown op", unary(schema.OpTanh, 1, schema.TypeUint8), "node 0 (TANH v1): operator not implemented"},
		{"new version", unary(schema.OpLogistic, 9, schema.TypeUint8), "node 0 (LOGISTIC v9): version 9 not implemented"},
		{"int16", unary(schema.OpLogistic, 3, schema.TypeInt16), "node 0 (LOGISTIC v3): int16 output"},
		{"custom", func() *modelSpec {
			m := unary(schema.OpCustom, 1, schema.TypeUint8)
			m.ops[0].custom = "edgetpu-custom-op"
			return m
		}(), `node 0 (edgetpu-custom-op v1): custom operator "edgetpu-custom-op"`},
		{"second node", func() *modelSpec {
			m := unary(schema.OpRelu, 1, schema.TypeFloat32)
			out2 := act(m, "out2", schema.TypeFloat32)
			m.ops = append(m.ops, opspec{op: schema.OpExp, ins: []int32{m.outputs[0]}, outs: []int32{out2}})
			m.outputs = []int32{out2}
			return m
		}(), "node 1 (EXP v1)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := OpenBytes("test.tflite", tc.m.bytes(), Options{})
			if err == nil {
				t.Fatal("Open succeeded")
			}
			if !errors.Is(err, ErrUnsupported) {
				t.Errorf("error %q does not match ErrUnsupported", err)
			}
			var oe *OpError
			if !errors.As(err, &oe) {
				t.Errorf("error %q is not an *OpError", err)
			}
			if !strings.HasPrefix(err.Error(), "test.tflite: ") || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q, want it to name the file and contain %q", err, tc.want)
			}
		})
	}
}

// TestOpenErrors checks errors for files that are not models.
func TestOpenErrors(t *testing.T) {
	if _, err := Open(filepath.Join(t.TempDir(), "missing.tflite"), Options{}); err == nil {
		t.Error("missing file opened")
	}
	_, err := OpenBytes("junk.tflite", []byte("not a model at all"), Options{})
	if !errors.Is(err, schema.ErrNotTFLite) {
		t.Errorf("junk: %v", err)
	}
}

// TestInputsOutputs checks the tensor descriptions and the byte slices.
func TestInputsOutputs(t *testing.T) {
	e, err := Open(filepath.Join(fixtures(t), "models", "classification", "mobilenet_v1_0.25_128_quant.tflite"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	in, out := e.Inputs(), e.Outputs()
	if len(in) != 1 || in[0].String() != "uint8[1 128 128 3]" || in[0].Scale != 0.0078125 || in[0].ZeroPoint != 128 {
		t.Errorf("inputs %+v", in)
	}
	if len(out) != 1 || out[0].String() != "uint8[1 1001]" || out[0].Elements() != 1001 {
		t.Errorf("outputs %+v", out)
	}
	if b, err := e.InputBytes(0); err != nil || len(b) != 128*128*3 {
		t.Errorf("InputBytes(0): %d bytes, %v", len(b), err)
	}
	if _, err := e.InputBytes(1); err == nil {
		t.Error("InputBytes(1) succeeded")
	}
	if _, err := e.OutputBytes(-1); err == nil {
		t.Error("OutputBytes(-1) succeeded")
	}
	if e.ArenaBytes() <= 0 || e.ArenaBytes() > 128*128*3*40 {
		t.Errorf("arena of %d bytes", e.ArenaBytes())
	}
}

// FuzzOpen feeds damaged models to OpenBytes: it may refuse them, but must
// not panic, and a model it accepts must run.
func FuzzOpen(f *testing.F) {
	for k := range opKinds {
		f.Add((opKinds[k].gen(&gen{r: newRand(uint64(k))})).bytes())
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := OpenBytes("fuzz.tflite", b, Options{Threads: 1})
		if err != nil {
			return
		}
		defer e.Close()
		if err := e.Invoke(); err != nil {
			t.Fatal(err)
		}
	})
}
