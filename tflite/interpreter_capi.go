//go:build cgo && !nolibtflite

package tflite

import (
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"runtime/cgo"
	"strings"
	"unsafe"

	gotflite "github.com/mattn/go-tflite"

	"github.com/edgeproject/edge/tflite/schema"
)

// cInterpreter is the C library's side of an Interpreter.
type cInterpreter struct {
	loadPath string // a corrected copy of path, while building

	cmodel   *gotflite.Model
	coptions *gotflite.InterpreterOptions
	ip       *gotflite.Interpreter
	rep      *reporter
	handle   cgo.Handle
	dels     []*cDelegate
	observer *cDelegate

	cinputs, coutputs []*gotflite.Tensor
}

// Open loads the .tflite model at path and prepares it to run. Errors name
// the file and the problem: missing, not a TFLite model, truncated, an
// operator TFLite lacks, an Edge TPU model without an Edge TPU.
func Open(path string, opts Options) (*Interpreter, error) {
	if opts.Delegate == "" {
		opts.Delegate = CPU
	}
	if _, err := ParseDelegate(string(opts.Delegate)); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if opts.Threads <= 0 {
		opts.Threads = min(runtime.NumCPU(), 4)
	}
	if opts.EdgeTPULibrary == "" {
		opts.EdgeTPULibrary = DefaultEdgeTPULibrary
	}
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
	if len(m.Subgraphs) == 0 {
		return nil, fmt.Errorf("%s: model has no subgraph", path)
	}
	edgeTPUModel := false
	for _, op := range m.CustomOps() {
		switch op {
		case edgeTPUCustomOp:
			edgeTPUModel = true
		case ssdCustomOp:
		default:
			return nil, fmt.Errorf("%s: custom op %q: %w (TFLite 2.9 knows only %s)", path, op, ErrUnsupportedOp, ssdCustomOp)
		}
	}
	if edgeTPUModel && opts.Delegate != EdgeTPU && opts.Delegate != Auto {
		return nil, fmt.Errorf("%s: compiled for the Edge TPU (%s), so it %w: run it with --delegate edgetpu (or auto) on a machine with a Coral device, or use the model's CPU build", path, edgeTPUCustomOp, ErrNeedsEdgeTPU)
	}

	it := &Interpreter{path: path, model: m, opts: opts}
	it.rep = &reporter{}
	it.handle = cgo.NewHandle(it.rep)
	fixed, cleanup, err := it.fixQuantizedDimensions()
	if err != nil {
		it.Close()
		return nil, err
	}
	defer cleanup()
	if fixed > 0 {
		opts.Logger.Info("tflite model corrected", "model", path,
			"fix", fmt.Sprintf("quantized_dimension set to 0 on %d 1-D per-channel tensors (a TFLite Micro export; TFLite rejects it)", fixed))
	}
	if err := it.build(edgeTPUModel); err != nil {
		it.Close()
		return nil, err
	}
	return it, nil
}

// fixQuantizedDimensions works around models (TFLite Micro's person
// detector among them) whose 1-D per-channel tensors, the depthwise
// biases, name quantized_dimension 3: TFLite Micro ignores it, TFLite 2.9
// refuses the model. The only valid dimension of a 1-D tensor is 0, so a
// corrected copy is written to a temporary file and loaded from there
// (TFLite maps it; the file is removed once the model is built).
func (it *Interpreter) fixQuantizedDimensions() (fixed int, cleanup func(), err error) {
	cleanup = func() {}
	var at []int
	for _, sg := range it.model.Subgraphs {
		for _, t := range sg.Tensors {
			q := t.Quantization
			if q == nil || len(t.Shape) != 1 || q.QuantizedDimension == 0 || q.QuantizedDimensionAt == 0 || len(q.Scale) != int(t.Shape[0]) {
				continue
			}
			at = append(at, q.QuantizedDimensionAt)
		}
	}
	if len(at) == 0 {
		return 0, cleanup, nil
	}
	data, err := os.ReadFile(it.path)
	if err != nil {
		return 0, cleanup, err
	}
	for _, off := range at {
		if off+4 > len(data) {
			return 0, cleanup, fmt.Errorf("%s: quantized_dimension at byte %d lies past the end", it.path, off)
		}
		binary.LittleEndian.PutUint32(data[off:], 0)
	}
	f, err := os.CreateTemp("", "edge-model-*.tflite")
	if err != nil {
		return 0, cleanup, fmt.Errorf("%s: writing a corrected copy: %w", it.path, err)
	}
	cleanup = func() { os.Remove(f.Name()) }
	if _, err := f.Write(data); err != nil {
		f.Close()
		cleanup()
		return 0, func() {}, fmt.Errorf("%s: writing a corrected copy: %w", it.path, err)
	}
	if err := f.Close(); err != nil {
		cleanup()
		return 0, func() {}, fmt.Errorf("%s: writing a corrected copy: %w", it.path, err)
	}
	it.loadPath = f.Name()
	return len(at), cleanup, nil
}

// build creates the C interpreter with the delegate the options ask for,
// falling back where the delegate allows it.
func (it *Interpreter) build(edgeTPUModel bool) error {
	want := it.opts.Delegate
	order := []Delegate{want}
	switch {
	case want == Auto && edgeTPUModel:
		order = []Delegate{EdgeTPU}
	case want == Auto:
		order = []Delegate{XNNPACK, CPU}
	case want == XNNPACK:
		order = []Delegate{XNNPACK, CPU} // XNNPACK refusing a graph is not fatal
	}
	var notes []string
	for i, d := range order {
		err := it.create(d)
		if err == nil {
			it.delegation.Requested = want
			if len(notes) > 0 {
				it.delegation.Note = strings.Join(append(notes, it.delegation.Note), "; ")
				it.delegation.Note = strings.TrimSuffix(it.delegation.Note, "; ")
			}
			if it.delegation.Note != "" {
				it.opts.Logger.Warn("tflite delegate", "model", it.path, "requested", want, "used", it.delegation.Used, "note", it.delegation.Note)
			}
			return nil
		}
		it.teardown()
		if i == len(order)-1 || errors.Is(err, ErrUnsupportedOp) {
			return err
		}
		notes = append(notes, fmt.Sprintf("%s not used: %v", d, strings.TrimPrefix(err.Error(), it.path+": ")))
	}
	return nil
}

// create builds the interpreter on one delegate.
func (it *Interpreter) create(d Delegate) error {
	it.coptions = gotflite.NewInterpreterOptions()
	if it.coptions == nil {
		return fmt.Errorf("%s: TFLite could not create interpreter options", it.path)
	}
	it.coptions.SetNumThread(it.opts.Threads)
	setErrorReporter(it.coptions, it.handle)

	switch d {
	case XNNPACK:
		flags := uint32(xnnpackQU8)
		if it.quantType() == schema.TypeInt8 {
			flags = xnnpackQS8
		}
		x := newXNNPACK(it.opts.Threads, flags)
		if x == nil {
			return fmt.Errorf("%s: %w: TfLiteXNNPackDelegateCreate failed", it.path, ErrDelegateUnavailable)
		}
		it.dels = append(it.dels, x)
		it.coptions.AddDelegate(x)
	case EdgeTPU:
		x, err := it.edgeTPUDelegate()
		if err != nil {
			return err
		}
		it.dels = append(it.dels, x)
		it.coptions.AddDelegate(x)
	case NNAPI:
		it.coptions.SetUseNNAPI(true)
	}
	it.observer = newObserver()
	if it.observer == nil {
		return fmt.Errorf("%s: out of memory creating the plan observer", it.path)
	}
	it.coptions.AddDelegate(it.observer)
	if err := it.finish(d); err != nil {
		return err
	}
	if err := it.describe(); err != nil {
		return err
	}
	return it.observe(d)
}

// finish loads the model and builds the interpreter with the options set up.
func (it *Interpreter) finish(d Delegate) error {
	load := it.path
	if it.loadPath != "" {
		load = it.loadPath
	}
	it.cmodel = gotflite.NewModelFromFile(load)
	if it.cmodel == nil {
		return fmt.Errorf("%s: TFLite could not load the model (the file is a TFLite flatbuffer, but the C library refused it)", it.path)
	}
	it.ip = gotflite.NewInterpreter(it.cmodel, it.coptions)
	if it.ip == nil {
		msg := it.rep.take()
		if strings.Contains(msg, "Didn't find op") || strings.Contains(msg, "unresolved custom op") {
			return fmt.Errorf("%s: %w: %s", it.path, ErrUnsupportedOp, msg)
		}
		switch {
		case d == XNNPACK && it.quantType() == schema.TypeUint8:
			msg = "TFLite 2.9's XNNPACK supports uint8 graphs only partly (int8 ones run): " + firstOf(orUnknown(msg), 2)
		case d != CPU && msg == "":
			msg = "the delegate failed to prepare the graph (TFLite's log on stderr names the node)"
		}
		if d != CPU {
			return fmt.Errorf("%s: %w: %s: %s", it.path, ErrDelegateUnavailable, d, msg)
		}
		return fmt.Errorf("%s: TFLite could not build the interpreter: %s", it.path, orUnknown(msg))
	}
	if st := it.ip.AllocateTensors(); st != gotflite.OK {
		return fmt.Errorf("%s: TFLite could not allocate tensors: %s", it.path, orUnknown(it.rep.take()))
	}
	return nil
}

// firstOf keeps the first n of the "; "-joined messages.
func firstOf(msg string, n int) string {
	parts := strings.Split(msg, "; ")
	if len(parts) <= n {
		return msg
	}
	return fmt.Sprintf("%s; and %d more", strings.Join(parts[:n], "; "), len(parts)-n)
}

func orUnknown(msg string) string {
	if msg == "" {
		return "no reason given"
	}
	return msg
}

// observe fills it.delegation from what the plan observer saw.
func (it *Interpreter) observe(d Delegate) error {
	nodes := len(it.model.Subgraphs[0].Operators)
	planNodes, delegateNodes, cpuOps, ok := it.observer.plan()
	it.delegation = Delegation{Used: d, Nodes: nodes}
	if !ok || d == CPU {
		it.delegation.Used = CPU
		return nil
	}
	// Each delegate kernel replaces a set of nodes; what is left are CPU nodes.
	cpuNodes := planNodes - delegateNodes
	it.delegation.Delegated = nodes - cpuNodes
	switch {
	case delegateNodes == 0 && d == NNAPI:
		return fmt.Errorf("%s: %w: nnapi: no NNAPI accelerator (NNAPI exists on Android only)", it.path, ErrDelegateUnavailable)
	case delegateNodes == 0:
		it.delegation.Used = CPU
		it.delegation.Delegated = 0
		it.delegation.Note = fmt.Sprintf("%s took none of the %d nodes (%s model); they run on TFLite's CPU kernels", d, nodes, it.quantType())
	case cpuNodes > 0:
		it.delegation.Note = fmt.Sprintf("%s took %d of %d nodes; %d run on TFLite's CPU kernels (%s)", d, it.delegation.Delegated, nodes, cpuNodes, opList(cpuOps))
	}
	return nil
}

// opList renders builtin codes as "QUANTIZE ×2, CUSTOM".
func opList(codes []int32) string {
	count := map[string]int{}
	var order []string
	for _, c := range codes {
		name := schema.BuiltinOp(c).String()
		if count[name] == 0 {
			order = append(order, name)
		}
		count[name]++
	}
	for i, name := range order {
		if n := count[name]; n > 1 {
			order[i] = fmt.Sprintf("%s ×%d", name, n)
		}
	}
	return strings.Join(order, ", ")
}

// quantType is the integer type the model computes in: INT8 if any tensor
// is int8 (full-integer models, whatever their I/O type), else UINT8 if any
// is uint8, else FLOAT32.
func (it *Interpreter) quantType() schema.TensorType {
	t := schema.TypeFloat32
	for _, tt := range it.model.Subgraphs[0].Tensors {
		switch tt.Type {
		case schema.TypeInt8:
			return schema.TypeInt8
		case schema.TypeUint8:
			t = schema.TypeUint8
		}
	}
	return t
}

func (it *Interpreter) edgeTPUDelegate() (*cDelegate, error) {
	lib, msg := openEdgeTPU(it.opts.EdgeTPULibrary)
	if lib == nil {
		return nil, fmt.Errorf("%s: %w: cannot load the Edge TPU runtime %s (%s); install libedgetpu1-std from Coral's apt repository", it.path, ErrNeedsEdgeTPU, it.opts.EdgeTPULibrary, msg)
	}
	d, n, _ := lib.delegate(it.opts.EdgeTPUDevice)
	if d == nil {
		ver := lib.version()
		lib.close()
		if n == 0 {
			return nil, fmt.Errorf("%s: %w: no Edge TPU device found by %s (%s); plug in the Coral USB Accelerator or check the PCIe driver (/dev/apex_0)", it.path, ErrNeedsEdgeTPU, it.opts.EdgeTPULibrary, ver)
		}
		return nil, fmt.Errorf("%s: %w: Edge TPU %d of %d could not be opened by %s (%s)", it.path, ErrNeedsEdgeTPU, it.opts.EdgeTPUDevice, n, it.opts.EdgeTPULibrary, ver)
	}
	return d, nil
}

// teardown frees the C objects in the order TFLite needs: interpreter,
// then the delegates it used, then options and model.
func (it *Interpreter) teardown() {
	if it.ip != nil {
		it.ip.Delete()
		it.ip = nil
	}
	for _, d := range it.dels {
		d.Delete()
	}
	it.dels = nil
	if it.observer != nil {
		it.observer.Delete()
		it.observer = nil
	}
	if it.coptions != nil {
		it.coptions.Delete()
		it.coptions = nil
	}
	if it.cmodel != nil {
		it.cmodel.Delete()
		it.cmodel = nil
	}
	it.cinputs, it.coutputs, it.inputs, it.outputs = nil, nil, nil, nil
}

func (it *Interpreter) closeC() {
	it.teardown()
	if it.handle != 0 {
		it.handle.Delete()
		it.handle = 0
	}
}

func (it *Interpreter) invokeC() error {
	if it.ip == nil {
		return fmt.Errorf("%s: interpreter is closed", it.path)
	}
	if st := it.ip.Invoke(); st != gotflite.OK {
		return fmt.Errorf("%s: Invoke failed: %s", it.path, orUnknown(it.rep.take()))
	}
	return nil
}

func (it *Interpreter) inputBytesC(i int) ([]byte, error) {
	if i < 0 || i >= len(it.cinputs) {
		return nil, fmt.Errorf("%s: no input %d (model has %d)", it.path, i, len(it.cinputs))
	}
	return tensorBytes(it.cinputs[i]), nil
}

func (it *Interpreter) outputBytesC(i int) ([]byte, error) {
	if i < 0 || i >= len(it.coutputs) {
		return nil, fmt.Errorf("%s: no output %d (model has %d)", it.path, i, len(it.coutputs))
	}
	return tensorBytes(it.coutputs[i]), nil
}

func tensorBytes(t *gotflite.Tensor) []byte {
	p := t.Data()
	if p == nil {
		return nil
	}
	return unsafe.Slice((*byte)(p), t.ByteSize())
}

// describe reads the tensors from the C interpreter, and per-channel
// quantization (which the C API does not expose) from the flatbuffer.
func (it *Interpreter) describe() error {
	sg := it.model.Subgraphs[0]
	read := func(t *gotflite.Tensor, i int, ids []int32, what string) (TensorInfo, error) {
		if t == nil {
			return TensorInfo{}, fmt.Errorf("%s: TFLite has no %s tensor %d", it.path, what, i)
		}
		q := t.QuantizationParams()
		info := TensorInfo{
			Index:     i,
			Name:      t.Name(),
			Type:      fromCType(t.Type()),
			Shape:     t.Shape(),
			Scale:     float32(q.Scale),
			ZeroPoint: int32(q.ZeroPoint),
		}
		if i < len(ids) && ids[i] >= 0 && int(ids[i]) < len(sg.Tensors) {
			if sq := sg.Tensors[ids[i]].Quantization; sq != nil && len(sq.Scale) > 1 {
				info.ChannelScales = sq.Scale
			}
		}
		return info, nil
	}
	for i := 0; i < it.ip.GetInputTensorCount(); i++ {
		t := it.ip.GetInputTensor(i)
		info, err := read(t, i, sg.Inputs, "input")
		if err != nil {
			return err
		}
		it.cinputs = append(it.cinputs, t)
		it.inputs = append(it.inputs, info)
	}
	for i := 0; i < it.ip.GetOutputTensorCount(); i++ {
		t := it.ip.GetOutputTensor(i)
		info, err := read(t, i, sg.Outputs, "output")
		if err != nil {
			return err
		}
		it.coutputs = append(it.coutputs, t)
		it.outputs = append(it.outputs, info)
	}
	return nil
}

// refreshOutputsC re-reads output shapes, which post-processing ops such as
// TFLite_Detection_PostProcess only set when they run.
func (it *Interpreter) refreshOutputsC() {
	for i, t := range it.coutputs {
		if len(it.outputs[i].Shape) != t.NumDims() {
			it.outputs[i].Shape = t.Shape()
			continue
		}
		for d := range it.outputs[i].Shape {
			it.outputs[i].Shape[d] = t.Dim(d)
		}
	}
}

// fromCType maps TfLiteType (kTfLiteNoType = 0, kTfLiteFloat32 = 1, ...)
// to the schema's TensorType (FLOAT32 = 0, FLOAT16 = 1, ...); they agree on
// the integer types 2..9 only.
func fromCType(t gotflite.TensorType) schema.TensorType {
	switch int(t) {
	case 1:
		return schema.TypeFloat32
	case 10:
		return schema.TypeFloat16
	case 11:
		return schema.TypeFloat64
	}
	return schema.TensorType(t)
}
