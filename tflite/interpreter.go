package tflite

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/edgeproject/edge/tflite/schema"
)

// Delegate names where a model's operators run.
type Delegate string

// The delegates. Auto uses the Edge TPU for Edge TPU models, XNNPACK for
// everything else, and TFLite's CPU kernels when neither can be used.
const (
	CPU     Delegate = "cpu"
	XNNPACK Delegate = "xnnpack"
	EdgeTPU Delegate = "edgetpu"
	NNAPI   Delegate = "nnapi"
	Auto    Delegate = "auto"
)

// ParseDelegate checks a delegate name given by a user.
func ParseDelegate(s string) (Delegate, error) {
	switch d := Delegate(strings.ToLower(strings.TrimSpace(s))); d {
	case CPU, XNNPACK, EdgeTPU, NNAPI, Auto:
		return d, nil
	case "":
		return CPU, nil
	}
	return "", fmt.Errorf("unknown delegate %q: want cpu, xnnpack, edgetpu, nnapi or auto", s)
}

// DefaultEdgeTPULibrary is the Edge TPU runtime's soname (Debian package libedgetpu1-std or -max).
const DefaultEdgeTPULibrary = "libedgetpu.so.1"

// Options say how to build an Interpreter. The zero value runs on TFLite's
// CPU kernels with one thread per core (at most 4).
type Options struct {
	Delegate Delegate
	// Threads for the CPU kernels and XNNPACK; 0 means one per core, at most 4.
	Threads int
	// EdgeTPULibrary is the path or soname of libedgetpu; "" means DefaultEdgeTPULibrary.
	EdgeTPULibrary string
	// EdgeTPUDevice is the index of the Edge TPU to use, in the runtime's device list.
	EdgeTPUDevice int
	// Input preprocessing for SetImage.
	Preprocess Preprocess
	// Logger receives delegate fallbacks; nil means slog.Default().
	Logger *slog.Logger
}

// Errors a caller may want to match with errors.Is.
var (
	// ErrNeedsEdgeTPU: the model is compiled for the Edge TPU and none can be used.
	ErrNeedsEdgeTPU = errors.New("needs an Edge TPU")
	// ErrDelegateUnavailable: the requested delegate cannot run on this machine.
	ErrDelegateUnavailable = errors.New("delegate unavailable")
	// ErrUnsupportedOp: TFLite has no kernel for an operator of the model.
	ErrUnsupportedOp = errors.New("unsupported operator")
)

const (
	edgeTPUCustomOp = "edgetpu-custom-op"
	ssdCustomOp     = "TFLite_Detection_PostProcess"
)

// Delegation reports where the model's nodes ended up.
type Delegation struct {
	Requested Delegate `json:"requested"` // what the options asked for
	Used      Delegate `json:"used"`      // what runs: CPU when a delegate was not applied
	// Nodes is the model's operator count; Delegated of them run in the
	// delegate, the rest on TFLite's CPU kernels.
	Nodes     int `json:"nodes"`
	Delegated int `json:"delegated"`
	// Note explains a fallback or a partial delegation; empty when all went as asked.
	Note string `json:"note,omitempty"`
}

func (d Delegation) String() string {
	if d.Used == "go" {
		return fmt.Sprintf("go engine (%d nodes)", d.Nodes)
	}
	if d.Used == CPU {
		return fmt.Sprintf("cpu (%d nodes)", d.Nodes)
	}
	return fmt.Sprintf("%s (%d of %d nodes delegated)", d.Used, d.Delegated, d.Nodes)
}

// Interpreter runs one TFLite model through the TFLite 2.9 C library, or
// through another engine (a Backend, see NewWithBackend). It is not safe
// for concurrent use; Close frees everything it holds.
type Interpreter struct {
	path  string
	model *schema.Model
	opts  Options

	inputs, outputs []TensorInfo
	backend         Backend // another engine instead of the C library
	delegation      Delegation
	pre             preprocessor

	// The C library's interpreter (interpreter_capi.go); an empty struct
	// in a build without the library (nolibtflite.go).
	cInterpreter
}

// Backend runs a model's tensors for an Interpreter in place of the TFLite
// C library — the pure-Go engine (tflite/engine) is one. The Interpreter
// keeps doing the preprocessing, classification and SSD decoding.
type Backend interface {
	// Name says where the nodes run, as Delegation().Used reports it (e.g. "go").
	Name() string
	Inputs() []TensorInfo
	Outputs() []TensorInfo
	InputBytes(i int) ([]byte, error)
	OutputBytes(i int) ([]byte, error)
	Invoke() error
	Close() error
}

// NewWithBackend wraps a backend that has loaded the model at path. The
// Interpreter owns it: Close closes it.
func NewWithBackend(path string, b Backend, opts Options) (*Interpreter, error) {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if err := opts.Preprocess.validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	m, err := schema.ReadFile(path)
	if err != nil {
		return nil, err
	}
	it := &Interpreter{path: path, model: m, opts: opts, backend: b, inputs: b.Inputs(), outputs: b.Outputs()}
	nodes := 0
	for _, sg := range m.Subgraphs {
		nodes += len(sg.Operators)
	}
	it.delegation = Delegation{Requested: opts.Delegate, Used: Delegate(b.Name()), Nodes: nodes, Delegated: nodes}
	return it, nil
}

// Close frees the interpreter, its delegates and the model. It is safe to call twice.
func (it *Interpreter) Close() error {
	if it == nil {
		return nil
	}
	if it.backend != nil {
		err := it.backend.Close()
		it.backend = nil
		return err
	}
	it.closeC()
	return nil
}

// Path is the model file.
func (it *Interpreter) Path() string { return it.path }

// Model is the parsed flatbuffer, for introspection.
func (it *Interpreter) Model() *schema.Model { return it.model }

// Delegation says where the nodes run.
func (it *Interpreter) Delegation() Delegation { return it.delegation }

// Inputs describes the input tensors.
func (it *Interpreter) Inputs() []TensorInfo { return it.inputs }

// Outputs describes the output tensors.
func (it *Interpreter) Outputs() []TensorInfo { return it.outputs }

// Invoke runs the model on the current inputs.
func (it *Interpreter) Invoke() error {
	if it.backend != nil {
		if err := it.backend.Invoke(); err != nil {
			return fmt.Errorf("%s: %w", it.path, err)
		}
		return nil
	}
	return it.invokeC()
}

// InputBytes is input i's memory inside TFLite, valid until Close. Writing
// it sets the input without a copy.
func (it *Interpreter) InputBytes(i int) ([]byte, error) {
	if it.backend != nil {
		return it.backend.InputBytes(i)
	}
	return it.inputBytesC(i)
}

// OutputBytes is output i's memory inside TFLite, valid until the next Invoke.
func (it *Interpreter) OutputBytes(i int) ([]byte, error) {
	if it.backend != nil {
		return it.backend.OutputBytes(i)
	}
	return it.outputBytesC(i)
}

// SetInput copies data into input i; its length must be the tensor's byte size.
func (it *Interpreter) SetInput(i int, data []byte) error {
	dst, err := it.InputBytes(i)
	if err != nil {
		return err
	}
	if len(data) != len(dst) {
		return fmt.Errorf("%s: input %d is %s (%d bytes), got %d bytes", it.path, i, it.inputs[i], len(dst), len(data))
	}
	copy(dst, data)
	return nil
}
