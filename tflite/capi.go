//go:build cgo && !nolibtflite

package tflite

/*
#cgo LDFLAGS: -ltensorflowlite_c -ldl
#include <dlfcn.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tensorflow/lite/c/c_api.h"
#include "tensorflow/lite/c/c_api_experimental.h"
#include "tensorflow/lite/c/common.h"
#include "tensorflow/lite/delegates/xnnpack/xnnpack_delegate.h"

// ---- Error reporter ----
//
// go-tflite v1.0.5 hands TFLite's (format, va_list) to asprintf, which treats
// the va_list as a single argument: messages come out garbled. This reporter
// formats with vsnprintf and passes the text to Go, keyed by a cgo.Handle.

extern void edgeReport(uintptr_t handle, char* msg);

static void edge_error_reporter(void* user_data, const char* format, va_list args) {
	char buf[2048];
	vsnprintf(buf, sizeof buf, format, args);
	edgeReport((uintptr_t)user_data, buf);
}

static void edge_set_error_reporter(TfLiteInterpreterOptions* o, uintptr_t handle) {
	TfLiteInterpreterOptionsSetErrorReporter(o, edge_error_reporter, (void*)handle);
}

// ---- Plan observer ----
//
// The C API has no way to ask which nodes a delegate took. A do-nothing
// delegate, added after the real one, is prepared last: it reads the final
// execution plan and counts delegate kernels and the builtin CPU nodes left.

#define EDGE_PLAN_OPS 64

typedef struct {
	int nodes;          // nodes in the final execution plan
	int delegate_nodes; // of which delegate kernels
	int prepared;       // 1 once Prepare ran
	int cpu_ops;        // builtin codes of the first EDGE_PLAN_OPS CPU nodes
	int cpu_op[EDGE_PLAN_OPS];
} edge_plan;

static TfLiteStatus edge_observe(TfLiteContext* ctx, TfLiteDelegate* d) {
	edge_plan* p = (edge_plan*)d->data_;
	TfLiteIntArray* plan = NULL;
	if (ctx->GetExecutionPlan(ctx, &plan) != kTfLiteOk || plan == NULL) return kTfLiteError;
	p->nodes = plan->size;
	p->delegate_nodes = 0;
	p->cpu_ops = 0;
	for (int i = 0; i < plan->size; i++) {
		TfLiteNode* node = NULL;
		TfLiteRegistration* reg = NULL;
		if (ctx->GetNodeAndRegistration(ctx, plan->data[i], &node, &reg) != kTfLiteOk || reg == NULL) return kTfLiteError;
		if (reg->builtin_code == kTfLiteBuiltinDelegate) {
			p->delegate_nodes++;
		} else if (p->cpu_ops < EDGE_PLAN_OPS) {
			p->cpu_op[p->cpu_ops++] = reg->builtin_code;
		}
	}
	p->prepared = 1;
	return kTfLiteOk;
}

static TfLiteDelegate* edge_observer_new(void) {
	TfLiteDelegate* d = (TfLiteDelegate*)malloc(sizeof(TfLiteDelegate));
	edge_plan* p = (edge_plan*)calloc(1, sizeof(edge_plan));
	if (d == NULL || p == NULL) { free(d); free(p); return NULL; }
	*d = TfLiteDelegateCreate();
	d->data_ = p;
	d->Prepare = edge_observe;
	return d;
}

static edge_plan* edge_observer_plan(TfLiteDelegate* d) { return (edge_plan*)d->data_; }

static void edge_observer_free(TfLiteDelegate* d) {
	if (d == NULL) return;
	free(d->data_);
	free(d);
}

// ---- XNNPACK (compiled into libtensorflowlite_c) ----

static TfLiteDelegate* edge_xnnpack_new(int threads, uint32_t flags) {
	TfLiteXNNPackDelegateOptions o = TfLiteXNNPackDelegateOptionsDefault();
	o.num_threads = threads;
	o.flags |= flags;
	return TfLiteXNNPackDelegateCreate(&o);
}

// ---- Edge TPU (libedgetpu.so.1, loaded at run time) ----
//
// Declarations from libedgetpu's edgetpu_c.h, resolved with dlsym so that
// neither the build nor a machine without a Coral device needs the library.

struct edge_tpu_device { int type; const char* path; };
typedef struct edge_tpu_device* (*edge_tpu_list_fn)(size_t*);
typedef void (*edge_tpu_free_devices_fn)(struct edge_tpu_device*);
typedef TfLiteDelegate* (*edge_tpu_create_fn)(int, const char*, const void*, size_t);
typedef void (*edge_tpu_free_delegate_fn)(TfLiteDelegate*);
typedef const char* (*edge_tpu_version_fn)(void);

typedef struct {
	void* lib;
	edge_tpu_list_fn list;
	edge_tpu_free_devices_fn free_devices;
	edge_tpu_create_fn create;
	edge_tpu_free_delegate_fn free_delegate;
	edge_tpu_version_fn version;
} edge_tpu;

// edge_tpu_open fills t, or returns a message (static or from dlerror).
static const char* edge_tpu_open(const char* path, edge_tpu* t) {
	memset(t, 0, sizeof *t);
	// RTLD_NODELETE: libedgetpu starts threads; never unmap it under them.
	t->lib = dlopen(path, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
	if (t->lib == NULL) return dlerror();
	t->list = (edge_tpu_list_fn)dlsym(t->lib, "edgetpu_list_devices");
	t->free_devices = (edge_tpu_free_devices_fn)dlsym(t->lib, "edgetpu_free_devices");
	t->create = (edge_tpu_create_fn)dlsym(t->lib, "edgetpu_create_delegate");
	t->free_delegate = (edge_tpu_free_delegate_fn)dlsym(t->lib, "edgetpu_free_delegate");
	t->version = (edge_tpu_version_fn)dlsym(t->lib, "edgetpu_version");
	if (!t->list || !t->free_devices || !t->create || !t->free_delegate) {
		dlclose(t->lib);
		t->lib = NULL;
		return "library does not export edgetpu_list_devices/edgetpu_create_delegate/edgetpu_free_delegate";
	}
	return NULL;
}

static const char* edge_tpu_version(edge_tpu* t) {
	return t->version ? t->version() : "unknown";
}

// edge_tpu_delegate creates a delegate for device `want` (index into the
// device list) and reports how many devices there are.
static TfLiteDelegate* edge_tpu_delegate(edge_tpu* t, int want, size_t* count, int* type) {
	*count = 0;
	struct edge_tpu_device* devs = t->list(count);
	if (devs == NULL || *count == 0 || want < 0 || (size_t)want >= *count) {
		if (devs) t->free_devices(devs);
		return NULL;
	}
	*type = devs[want].type;
	TfLiteDelegate* d = t->create(devs[want].type, devs[want].path, NULL, 0);
	t->free_devices(devs);
	return d;
}

static void edge_tpu_free(edge_tpu* t, TfLiteDelegate* d) {
	if (d != NULL) t->free_delegate(d);
	if (t->lib != NULL) dlclose(t->lib);
	t->lib = NULL;
}
*/
import "C"

import (
	"runtime/cgo"
	"strings"
	"sync"
	"unsafe"

	gotflite "github.com/mattn/go-tflite"
)

// reporter collects the messages TFLite's error reporter emits for one
// interpreter. It is reached from C through a cgo.Handle.
type reporter struct {
	mu   sync.Mutex
	msgs []string
}

func (r *reporter) add(msg string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.msgs) < 64 { // bounded: an op failing every Invoke must not grow memory
		r.msgs = append(r.msgs, strings.TrimSpace(msg))
	}
}

// take returns the messages so far, joined, and forgets them.
func (r *reporter) take() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := strings.Join(r.msgs, "; ")
	r.msgs = r.msgs[:0]
	return s
}

//export edgeReport
func edgeReport(handle C.uintptr_t, msg *C.char) {
	h := cgo.Handle(handle)
	if r, ok := h.Value().(*reporter); ok {
		r.add(C.GoString(msg))
	}
}

// optionsPtr returns the TfLiteInterpreterOptions* held by go-tflite's
// InterpreterOptions, whose only field it is (v1.0.5: `struct{ o *C.TfLiteInterpreterOptions }`).
// go-tflite offers no other way to install a working error reporter; the
// layout is pinned by the go.mod version and checked by TestErrorReporterFormatsMessages.
func optionsPtr(o *gotflite.InterpreterOptions) *C.TfLiteInterpreterOptions {
	return *(**C.TfLiteInterpreterOptions)(unsafe.Pointer(o))
}

func setErrorReporter(o *gotflite.InterpreterOptions, h cgo.Handle) {
	C.edge_set_error_reporter(optionsPtr(o), C.uintptr_t(h))
}

// cDelegate is a TfLiteDelegate owned by Go code; it satisfies go-tflite's
// delegates.Delegater so that InterpreterOptions.AddDelegate accepts it.
type cDelegate struct {
	d    *C.TfLiteDelegate
	free func(*C.TfLiteDelegate)
}

func (d *cDelegate) Ptr() unsafe.Pointer { return unsafe.Pointer(d.d) }

func (d *cDelegate) Delete() {
	if d != nil && d.d != nil {
		d.free(d.d)
		d.d = nil
	}
}

func newObserver() *cDelegate {
	d := C.edge_observer_new()
	if d == nil {
		return nil
	}
	return &cDelegate{d: d, free: func(d *C.TfLiteDelegate) { C.edge_observer_free(d) }}
}

// plan reads what the observer saw: nodes in the execution plan, how many
// of them are delegate kernels, and the builtin codes of (the first 64 of)
// the others. ok is false if it was never prepared.
func (d *cDelegate) plan() (nodes, delegateNodes int, cpuOps []int32, ok bool) {
	p := C.edge_observer_plan(d.d)
	for i := 0; i < int(p.cpu_ops); i++ {
		cpuOps = append(cpuOps, int32(p.cpu_op[i]))
	}
	return int(p.nodes), int(p.delegate_nodes), cpuOps, p.prepared == 1
}

const (
	xnnpackQS8 = C.TFLITE_XNNPACK_DELEGATE_FLAG_QS8
	xnnpackQU8 = C.TFLITE_XNNPACK_DELEGATE_FLAG_QU8
)

func newXNNPACK(threads int, flags uint32) *cDelegate {
	d := C.edge_xnnpack_new(C.int(threads), C.uint32_t(flags))
	if d == nil {
		return nil
	}
	return &cDelegate{d: d, free: func(d *C.TfLiteDelegate) { C.TfLiteXNNPackDelegateDelete(d) }}
}

// edgeTPU is libedgetpu, opened with dlopen for one interpreter.
type edgeTPU struct {
	t C.edge_tpu
}

// openEdgeTPU loads the Edge TPU runtime at path. The error text is the
// dynamic loader's.
func openEdgeTPU(path string) (*edgeTPU, string) {
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	e := &edgeTPU{}
	if msg := C.edge_tpu_open(cpath, &e.t); msg != nil {
		return nil, C.GoString(msg)
	}
	return e, ""
}

func (e *edgeTPU) version() string { return C.GoString(C.edge_tpu_version(&e.t)) }

// delegate creates a delegate on device index `want`; it returns nil and
// the number of devices found when there is no such device or the runtime
// refuses it.
func (e *edgeTPU) delegate(want int) (d *cDelegate, devices int, usb bool) {
	var count C.size_t
	var typ C.int
	cd := C.edge_tpu_delegate(&e.t, C.int(want), &count, &typ)
	if cd == nil {
		return nil, int(count), false
	}
	return &cDelegate{d: cd, free: func(d *C.TfLiteDelegate) { C.edge_tpu_free(&e.t, d) }}, int(count), typ == 1
}

// close unloads the runtime when no delegate was created (a created
// delegate unloads it in its Delete).
func (e *edgeTPU) close() { C.edge_tpu_free(&e.t, nil) }

// cLibraryVersion is TfLiteVersion() of the library linked in.
func cLibraryVersion() string { return C.GoString(C.TfLiteVersion()) }
