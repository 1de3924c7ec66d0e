package engine

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"sort"
	"unsafe"

	"github.com/edgeproject/edge/tflite/schema"
)

// Options say how to build an Interpreter. The zero value uses one thread
// per core, at most 4, like the cgo interpreter.
type Options struct {
	// Threads that the kernels split their work over; 0 means one per
	// core, at most 4.
	Threads int
}

// ErrUnsupported is matched (errors.Is) by every error that refuses a
// model for an operator, operator version or tensor type this package does
// not run.
var ErrUnsupported = errors.New("not supported by the pure-Go engine")

// OpError reports a node of the graph that cannot be run.
type OpError struct {
	Node    int    // index of the operator in the subgraph
	Op      string // operator name, e.g. "CONV_2D" or "TFLite_Detection_PostProcess"
	Version int32  // operator version
	Reason  string // what is wrong
	Err     error  // ErrUnsupported, or nil for an invalid node
}

func (e *OpError) Error() string {
	return fmt.Sprintf("node %d (%s v%d): %s", e.Node, e.Op, e.Version, e.Reason)
}

// Unwrap returns ErrUnsupported for unsupported nodes.
func (e *OpError) Unwrap() error { return e.Err }

// Interpreter runs one model. It is not safe for concurrent use; Close
// stops its worker goroutines.
type Interpreter struct {
	name    string
	model   *schema.Model
	tensors []*tensor
	nodes   []kernel
	inputs  []*tensor
	outputs []*tensor
	inInfo  []TensorInfo
	outInfo []TensorInfo
	arena   []byte
	pool    *pool
	threads int
	closed  bool
}

// kernel is one prepared node: it reads and writes tensors of the arena.
type kernel interface {
	run(p *pool)
}

// Open loads the .tflite model at path and prepares it to run. Errors name
// the file and the problem: missing, not a TFLite model, an operator,
// version or type this engine does not run (an *OpError wrapping
// ErrUnsupported, naming the node).
func Open(path string, opts Options) (*Interpreter, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return OpenBytes(path, data, opts)
}

// OpenBytes is Open for a model already in memory; name is used in errors.
// The interpreter keeps no reference to data.
func OpenBytes(name string, data []byte, opts Options) (*Interpreter, error) {
	m, err := schema.Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	threads := opts.Threads
	if threads <= 0 {
		threads = min(runtime.NumCPU(), 4)
	}
	e := &Interpreter{name: name, model: m, threads: threads}
	if err := e.load(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	e.pool = newPool(threads)
	return e, nil
}

func (e *Interpreter) load() error {
	m := e.model
	if len(m.Subgraphs) == 0 {
		return errors.New("model has no subgraph")
	}
	if len(m.Subgraphs) > 1 {
		return fmt.Errorf("model has %d subgraphs, the engine runs single-graph models: %w", len(m.Subgraphs), ErrUnsupported)
	}
	sg := &m.Subgraphs[0]
	e.tensors = make([]*tensor, len(sg.Tensors))
	for i := range sg.Tensors {
		t, err := newTensor(m, i, &sg.Tensors[i])
		if err != nil {
			return err
		}
		t.first, t.last = len(sg.Operators), -1
		e.tensors[i] = t
	}
	for _, idx := range sg.Inputs {
		t, err := e.tensor(idx, "graph input")
		if err != nil {
			return err
		}
		if t.konst {
			return fmt.Errorf("graph input %s is a constant", t)
		}
		e.inputs = append(e.inputs, t)
		t.first, t.last, t.used = -1, len(sg.Operators), true
	}
	for i := range sg.Operators {
		op := &sg.Operators[i]
		for _, idx := range op.Inputs {
			if idx < 0 {
				continue
			}
			t, err := e.tensor(idx, fmt.Sprintf("node %d input", i))
			if err != nil {
				return err
			}
			t.used = true
			t.last = max(t.last, i)
			if !t.konst && t.first > i {
				return fmt.Errorf("node %d reads %s before any node writes it", i, t)
			}
		}
		for _, idx := range op.Outputs {
			t, err := e.tensor(idx, fmt.Sprintf("node %d output", i))
			if err != nil {
				return err
			}
			if t.konst {
				return fmt.Errorf("node %d writes constant %s", i, t)
			}
			if t.first != len(sg.Operators) && t.first != i {
				return fmt.Errorf("node %d writes %s, already written by node %d", i, t, t.first)
			}
			t.used = true
			t.first = min(t.first, i)
			t.last = max(t.last, i)
		}
	}
	for _, idx := range sg.Outputs {
		t, err := e.tensor(idx, "graph output")
		if err != nil {
			return err
		}
		if t.konst || t.first == len(sg.Operators) {
			return fmt.Errorf("graph output %s is not computed by any node", t)
		}
		e.outputs = append(e.outputs, t)
		t.last = len(sg.Operators)
	}
	// Prepare the kernels: they check their tensors, fix shapes left
	// unset in the file and precompute everything Invoke needs.
	for i := range sg.Operators {
		op := &sg.Operators[i]
		k, err := e.prepare(i, op)
		if err != nil {
			return err
		}
		e.nodes = append(e.nodes, k)
	}
	e.plan()
	for i, t := range e.inputs {
		e.inInfo = append(e.inInfo, t.info(i))
	}
	for i, t := range e.outputs {
		e.outInfo = append(e.outInfo, t.info(i))
	}
	return nil
}

func (e *Interpreter) tensor(idx int32, what string) (*tensor, error) {
	if idx < 0 || int(idx) >= len(e.tensors) {
		return nil, fmt.Errorf("%s: tensor index %d out of range (subgraph has %d tensors)", what, idx, len(e.tensors))
	}
	return e.tensors[idx], nil
}

// maxTensorBytes bounds the size of one tensor, so that a damaged shape
// is refused rather than allocated.
const maxTensorBytes = 1 << 30

func newTensor(m *schema.Model, i int, st *schema.Tensor) (*tensor, error) {
	t := &tensor{index: i, name: st.Name, typ: st.Type}
	t.shape = make([]int, len(st.Shape))
	size := int64(max(st.Type.Size(), 1))
	for j, d := range st.Shape {
		if d < 0 {
			return nil, fmt.Errorf("tensor %d %q has dynamic dimension %d: %w", i, st.Name, j, ErrUnsupported)
		}
		t.shape[j] = int(d)
		if size *= max(int64(d), 1); size > maxTensorBytes {
			return nil, fmt.Errorf("tensor %d %q of shape %v is larger than %d bytes: %w", i, st.Name, st.Shape, int64(maxTensorBytes), ErrUnsupported)
		}
	}
	if q := st.Quantization; q != nil && len(q.Scale) > 0 {
		t.scale = q.Scale[0]
		if len(q.ZeroPoint) > 0 {
			t.zp = int32(q.ZeroPoint[0])
		}
		if len(q.Scale) > 1 {
			t.scales = q.Scale
			t.qdim = int(q.QuantizedDimension)
			if len(t.shape) == 1 {
				t.qdim = 0 // TFLite Micro exports name dimension 3 for 1-D biases
			}
			if t.qdim < 0 || t.qdim >= len(t.shape) || t.shape[t.qdim] != len(q.Scale) {
				return nil, fmt.Errorf("tensor %d %q: %d scales on dimension %d of shape %v", i, st.Name, len(q.Scale), q.QuantizedDimension, t.shape)
			}
			for _, z := range q.ZeroPoint {
				if z != q.ZeroPoint[0] {
					return nil, fmt.Errorf("tensor %d %q: per-channel zero points differ: %w", i, st.Name, ErrUnsupported)
				}
			}
		}
	}
	if st.Sparsity != nil {
		return nil, fmt.Errorf("tensor %d %q is sparse: %w", i, st.Name, ErrUnsupported)
	}
	if b := m.BufferData(st.Buffer); len(b) > 0 {
		if sz := t.typ.Size(); sz == 0 || len(b) != t.elems()*sz {
			return nil, fmt.Errorf("tensor %d %q %s%v: buffer has %d bytes, want %d", i, st.Name, t.typ, t.shape, len(b), t.elems()*sz)
		}
		t.data = alignedCopy(b)
		t.konst = true
	}
	return t, nil
}

// alignedCopy copies b into 8-byte aligned memory, so that it can be
// viewed as []float32 or []int32.
func alignedCopy(b []byte) []byte {
	w := make([]uint64, (len(b)+7)/8)
	out := unsafe.Slice((*byte)(unsafe.Pointer(&w[0])), len(w)*8)[:len(b):len(b)]
	copy(out, b)
	return out
}

func (t *tensor) info(i int) TensorInfo {
	return TensorInfo{
		Index: i, Name: t.name, Type: t.typ,
		Shape: append([]int(nil), t.shape...),
		Scale: t.scale, ZeroPoint: t.zp, ChannelScales: t.scales,
	}
}

// arenaAlign aligns every tensor of the arena to a cache line.
const arenaAlign = 64

// plan places the non-constant tensors in one arena: largest first, each
// at the lowest offset that does not overlap a tensor alive at the same
// time (TFLite's greedy-by-size planner).
func (e *Interpreter) plan() {
	var live []*tensor
	for _, t := range e.tensors {
		if t.used && !t.konst {
			live = append(live, t)
		}
	}
	sort.SliceStable(live, func(i, j int) bool { return live[i].bytes() > live[j].bytes() })
	var placed []*tensor
	size := 0
	for _, t := range live {
		n := (t.bytes() + arenaAlign - 1) / arenaAlign * arenaAlign
		// Overlapping-lifetime tensors already placed, by offset.
		var busy []*tensor
		for _, p := range placed {
			if p.first <= t.last && t.first <= p.last {
				busy = append(busy, p)
			}
		}
		sort.Slice(busy, func(i, j int) bool { return busy[i].off < busy[j].off })
		off := 0
		for _, p := range busy {
			pn := (p.bytes() + arenaAlign - 1) / arenaAlign * arenaAlign
			if off+n <= p.off {
				break
			}
			off = max(off, p.off+pn)
		}
		t.off = off
		placed = append(placed, t)
		size = max(size, off+n)
	}
	w := make([]uint64, size/8+arenaAlign/8)
	base := unsafe.Slice((*byte)(unsafe.Pointer(&w[0])), len(w)*8)
	// Align the arena itself.
	skip := (arenaAlign - int(uintptr(unsafe.Pointer(&base[0]))%arenaAlign)) % arenaAlign
	e.arena = base[skip : skip+size]
	for _, t := range live {
		n := t.bytes()
		t.data = e.arena[t.off : t.off+n : t.off+n]
	}
}

// ArenaBytes is the size of the memory arena that holds all non-constant
// tensors.
func (e *Interpreter) ArenaBytes() int { return len(e.arena) }

// Inputs describes the input tensors.
func (e *Interpreter) Inputs() []TensorInfo { return e.inInfo }

// Outputs describes the output tensors.
func (e *Interpreter) Outputs() []TensorInfo { return e.outInfo }

// InputBytes is input i's memory in the arena, valid until Close. Writing
// it sets the input; it keeps its value across Invoke calls.
func (e *Interpreter) InputBytes(i int) ([]byte, error) {
	if i < 0 || i >= len(e.inputs) {
		return nil, fmt.Errorf("%s: no input %d (model has %d)", e.name, i, len(e.inputs))
	}
	return e.inputs[i].data, nil
}

// OutputBytes is output i's memory in the arena, valid until Close and
// overwritten by the next Invoke.
func (e *Interpreter) OutputBytes(i int) ([]byte, error) {
	if i < 0 || i >= len(e.outputs) {
		return nil, fmt.Errorf("%s: no output %d (model has %d)", e.name, i, len(e.outputs))
	}
	return e.outputs[i].data, nil
}

// Invoke runs the model on the current inputs. It does not allocate.
func (e *Interpreter) Invoke() error {
	if e.closed {
		return fmt.Errorf("%s: interpreter is closed", e.name)
	}
	for _, k := range e.nodes {
		k.run(e.pool)
	}
	return nil
}

// Close stops the worker goroutines. It is safe to call twice.
func (e *Interpreter) Close() error {
	if e == nil || e.closed {
		return nil
	}
	e.closed = true
	e.pool.close()
	return nil
}
