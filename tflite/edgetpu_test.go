//go:build cgo && !nolibtflite

// The C library's tests: a build without it (nolibtflite) runs
// clibrary_test.go instead.

package tflite

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// fakeEdgeTPU is a stand-in for libedgetpu.so.1 with the same C API. It
// logs each call to $FAKE_EDGETPU_LOG and reports $FAKE_EDGETPU_DEVICES USB
// devices; its delegate claims no nodes.
const fakeEdgeTPU = `
#include <stdio.h>
#include <stdlib.h>
#include "tensorflow/lite/c/common.h"

struct edgetpu_device { int type; const char* path; };

static void note(const char* what, const char* arg) {
	const char* p = getenv("FAKE_EDGETPU_LOG");
	FILE* f = p ? fopen(p, "a") : NULL;
	if (f == NULL) return;
	fprintf(f, "%s%s%s\n", what, arg ? " " : "", arg ? arg : "");
	fclose(f);
}

struct edgetpu_device* edgetpu_list_devices(size_t* n) {
	const char* env = getenv("FAKE_EDGETPU_DEVICES");
	int k = env ? atoi(env) : 0;
	note("list", NULL);
	*n = (size_t)k;
	if (k == 0) return NULL;
	struct edgetpu_device* d = calloc((size_t)k, sizeof *d);
	for (int i = 0; i < k; i++) { d[i].type = 1; d[i].path = "/sys/bus/usb/devices/2-1"; }
	return d;
}

void edgetpu_free_devices(struct edgetpu_device* d) { note("free_devices", NULL); free(d); }

static TfLiteStatus prepare(TfLiteContext* ctx, TfLiteDelegate* d) {
	(void)ctx; (void)d;
	note("prepare", NULL);
	return kTfLiteOk;
}

TfLiteDelegate* edgetpu_create_delegate(int type, const char* name, const void* opts, size_t n) {
	(void)opts; (void)n;
	note(type == 1 ? "create usb" : "create pci", name);
	TfLiteDelegate* d = calloc(1, sizeof *d);
	d->Prepare = prepare;
	return d;
}

void edgetpu_free_delegate(TfLiteDelegate* d) { note("free_delegate", NULL); free(d); }

const char* edgetpu_version(void) { return "fake-edgetpu 16.0"; }
`

// buildFakeEdgeTPU compiles fakeEdgeTPU into a shared library with the
// C compiler and TFLite headers the build uses (CC, CGO_CPPFLAGS).
func buildFakeEdgeTPU(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	src := filepath.Join(dir, "fake_edgetpu.c")
	if err := os.WriteFile(src, []byte(fakeEdgeTPU), 0o644); err != nil {
		t.Fatal(err)
	}
	cc := os.Getenv("CC")
	if cc == "" {
		cc = "gcc"
	}
	lib := filepath.Join(dir, "libedgetpu.so.1")
	args := append([]string{"-shared", "-fPIC", "-o", lib, src}, strings.Fields(os.Getenv("CGO_CPPFLAGS"))...)
	if out, err := exec.Command(cc, args...).CombinedOutput(); err != nil {
		t.Fatalf("building the fake Edge TPU runtime: %v\n%s", err, out)
	}
	return lib
}

// TestEdgeTPURuntimeLoading proves the dlopen path: device discovery, the
// delegate's creation on the listed device, TFLite preparing it, and its
// release on Close — and the errors when there is no device.
func TestEdgeTPURuntimeLoading(t *testing.T) {
	lib := buildFakeEdgeTPU(t)
	logPath := filepath.Join(t.TempDir(), "calls.log")
	t.Setenv("FAKE_EDGETPU_LOG", logPath)
	calls := func() string {
		b, _ := os.ReadFile(logPath)
		os.Remove(logPath)
		return strings.TrimSpace(string(b))
	}
	cpuModel := fixture(t, "models/classification/mobilenet_v1_0.25_128_quant.tflite")
	tpuModel := fixture(t, "models/classification/mobilenet_v1_0.25_128_quant_edgetpu.tflite")

	t.Run("no device", func(t *testing.T) {
		t.Setenv("FAKE_EDGETPU_DEVICES", "0")
		_, err := Open(tpuModel, Options{Delegate: EdgeTPU, EdgeTPULibrary: lib})
		if !errors.Is(err, ErrNeedsEdgeTPU) || !strings.Contains(err.Error(), "no Edge TPU device found") || !strings.Contains(err.Error(), "fake-edgetpu 16.0") {
			t.Errorf("error %v, want ErrNeedsEdgeTPU: no device, naming the runtime version", err)
		}
		if got := calls(); got != "list" {
			t.Errorf("calls %q, want list", got)
		}
	})

	t.Run("device, CPU model", func(t *testing.T) {
		t.Setenv("FAKE_EDGETPU_DEVICES", "1")
		it, err := Open(cpuModel, Options{Delegate: EdgeTPU, EdgeTPULibrary: lib})
		if err != nil {
			t.Fatal(err)
		}
		// The fake delegate takes nothing: the model still runs, on the CPU, and says so.
		dl := it.Delegation()
		if dl.Used != CPU || dl.Requested != EdgeTPU || !strings.Contains(dl.Note, "edgetpu took none") {
			t.Errorf("delegation %+v", dl)
		}
		if _, err := it.SetImage(loadImage(t, fixture(t, "images/coffee.png"))); err != nil {
			t.Fatal(err)
		}
		if err := it.Invoke(); err != nil {
			t.Fatal(err)
		}
		if top, err := it.Classify(1, nil); err != nil || top[0].Index != 968 {
			t.Errorf("coffee.png: %+v %v, want 968 espresso", top, err)
		}
		it.Close()
		want := "list\ncreate usb /sys/bus/usb/devices/2-1\nfree_devices\nprepare\nfree_delegate"
		if got := calls(); got != want {
			t.Errorf("calls:\n%s\nwant:\n%s", got, want)
		}
	})

	t.Run("device, Edge TPU model, delegate does not take the op", func(t *testing.T) {
		t.Setenv("FAKE_EDGETPU_DEVICES", "1")
		_, err := Open(tpuModel, Options{Delegate: Auto, EdgeTPULibrary: lib})
		if !errors.Is(err, ErrUnsupportedOp) || !strings.Contains(err.Error(), "edgetpu-custom-op") {
			t.Errorf("error %v, want TFLite's unresolved edgetpu-custom-op", err)
		}
		// TFLite stops at the unresolved op before preparing delegates;
		// the delegate it was given must still be freed.
		if got := calls(); got != "list\ncreate usb /sys/bus/usb/devices/2-1\nfree_devices\nfree_delegate" {
			t.Errorf("calls %q: want the delegate created and freed", got)
		}
	})

	t.Run("device index out of range", func(t *testing.T) {
		t.Setenv("FAKE_EDGETPU_DEVICES", "1")
		_, err := Open(tpuModel, Options{Delegate: EdgeTPU, EdgeTPULibrary: lib, EdgeTPUDevice: 3})
		if !errors.Is(err, ErrNeedsEdgeTPU) || !strings.Contains(err.Error(), "Edge TPU 3 of 1") {
			t.Errorf("error %v", err)
		}
		calls()
	})

	t.Run("not an Edge TPU runtime", func(t *testing.T) {
		_, err := Open(tpuModel, Options{Delegate: EdgeTPU, EdgeTPULibrary: cpuModel})
		if !errors.Is(err, ErrNeedsEdgeTPU) || !strings.Contains(err.Error(), "cannot load the Edge TPU runtime") {
			t.Errorf("error %v", err)
		}
	})
}
