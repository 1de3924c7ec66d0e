package models

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/edgeproject/edge/tflite/schema"
)

// Layer is what one operator of a graph costs.
type Layer struct {
	// Index is the operator's position in the execution order.
	Index int `json:"index"`
	// Op is the operator name, e.g. "CONV_2D" or "edgetpu-custom-op".
	Op string `json:"op"`
	// Output is the shape of the operator's first output.
	Output []int32 `json:"output"`
	// Kernel is the filter size "3x3" of a convolution, "" otherwise.
	Kernel string `json:"kernel,omitempty"`
	// Params counts the elements of the operator's constant inputs
	// (weights and biases; integer shape and axis operands excluded), each
	// tensor counted once in the whole graph.
	Params int64 `json:"params"`
	// MAdds counts multiply-adds the way the MobileNet papers do: for
	// CONV_2D, DEPTHWISE_CONV_2D, TRANSPOSE_CONV and FULLY_CONNECTED
	// only, biases excluded. It is 0 for every other operator.
	MAdds int64 `json:"madds"`
}

// Report is the analysis of a TFLite graph: its main subgraph's layers, what
// they cost, and how much activation memory the operator order needs.
type Report struct {
	// Name is what was analyzed, a file name or a model name.
	Name string `json:"name"`
	// Layers lists the operators of the main subgraph in execution order.
	Layers []Layer `json:"layers"`
	// Params and MAdds are the sums over Layers.
	Params int64 `json:"params"`
	MAdds  int64 `json:"madds"`
	// MAddsByOp splits MAdds by operator name.
	MAddsByOp map[string]int64 `json:"madds_by_op"`
	// Ops counts the operators of the main subgraph by name.
	Ops map[string]int `json:"ops"`
	// PeakActivationBytes is the largest sum of the byte sizes of the
	// non-constant tensors alive at once while the operators run in order:
	// a tensor is alive from the operator that writes it (the start, for
	// graph inputs) to the last operator that reads it (the end, for graph
	// outputs). TFLite's arena planner shares memory the same way, so this
	// is a lower bound of its arena size (which adds alignment and scratch
	// buffers).
	PeakActivationBytes int64 `json:"peak_activation_bytes"`
	// PeakAt is the index of the operator during which the peak occurs.
	PeakAt int `json:"peak_at"`
	// ConstantBytes is the size of the data of all constant tensors.
	ConstantBytes int64 `json:"constant_bytes"`
	// Input and Output describe the main subgraph's first input and output.
	Input  string `json:"input,omitempty"`
	Output string `json:"output,omitempty"`
	// Notes say what the numbers leave out, e.g. an Edge TPU custom
	// operator whose work is opaque.
	Notes []string `json:"notes,omitempty"`
}

// AnalyzeFile reads the .tflite file at path and analyzes it.
func AnalyzeFile(path string) (*Report, error) {
	m, err := schema.ReadFile(path)
	if err != nil {
		return nil, err
	}
	r, err := Analyze(m)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	r.Name = path
	return r, nil
}

// Analyze computes per-layer parameters and multiply-adds, the operator
// histogram and the activation memory peak of the main (first) subgraph of
// m. It fails on a model whose convolution shapes are inconsistent.
func Analyze(m *schema.Model) (*Report, error) {
	if m == nil || len(m.Subgraphs) == 0 {
		return nil, fmt.Errorf("model has no subgraph")
	}
	sg := &m.Subgraphs[0]
	r := &Report{Ops: map[string]int{}, MAddsByOp: map[string]int64{}, PeakAt: -1}
	isConst := func(ti int32) bool {
		return ti >= 0 && int(ti) < len(sg.Tensors) && len(m.BufferData(sg.Tensors[ti].Buffer)) > 0
	}
	counted := map[int32]bool{}
	for ti := range sg.Tensors {
		if isConst(int32(ti)) {
			r.ConstantBytes += int64(len(m.BufferData(sg.Tensors[ti].Buffer)))
		}
	}
	for i, op := range sg.Operators {
		code, err := m.Op(op)
		if err != nil {
			return nil, fmt.Errorf("operator %d: %w", i, err)
		}
		l := Layer{Index: i, Op: code.Name()}
		if len(op.Outputs) > 0 && op.Outputs[0] >= 0 {
			l.Output = sg.Tensors[op.Outputs[0]].Shape
		}
		for _, ti := range op.Inputs {
			if !isConst(ti) || counted[ti] {
				continue
			}
			t := sg.Tensors[ti]
			if isShapeOperand(t) {
				continue
			}
			counted[ti] = true
			if n := t.NumElements(); n > 0 {
				l.Params += n
			}
		}
		l.MAdds, l.Kernel, err = madds(code.Builtin, sg, op)
		if err != nil {
			return nil, fmt.Errorf("operator %d (%s): %w", i, l.Op, err)
		}
		if code.Builtin == schema.OpCustom {
			r.Notes = append(r.Notes, fmt.Sprintf("operator %d is the custom operator %q: its multiply-adds are not counted and its weights live in its options (%d bytes)", i, l.Op, len(op.CustomOptions)))
		}
		r.Layers = append(r.Layers, l)
		r.Params += l.Params
		r.MAdds += l.MAdds
		if l.MAdds > 0 {
			r.MAddsByOp[l.Op] += l.MAdds
		}
		r.Ops[l.Op]++
	}
	r.PeakActivationBytes, r.PeakAt = activationPeak(sg, isConst)
	if len(sg.Inputs) > 0 && sg.Inputs[0] >= 0 {
		r.Input = sg.Tensors[sg.Inputs[0]].String()
	}
	if len(sg.Outputs) > 0 && sg.Outputs[0] >= 0 {
		r.Output = sg.Tensors[sg.Outputs[0]].String()
	}
	if len(m.Subgraphs) > 1 {
		r.Notes = append(r.Notes, fmt.Sprintf("only the main subgraph is analyzed; the model has %d more", len(m.Subgraphs)-1))
	}
	return r, nil
}

// isShapeOperand reports an integer tensor without quantization: a shape,
// an axis list or paddings rather than learned parameters. (Quantized
// biases are int32 too, but carry a scale.)
func isShapeOperand(t schema.Tensor) bool {
	switch t.Type {
	case schema.TypeInt32, schema.TypeInt64:
		return t.Quantization == nil || len(t.Quantization.Scale) == 0
	}
	return false
}

// madds returns the multiply-adds of one operator and its kernel size.
func madds(op schema.BuiltinOp, sg *schema.Subgraph, o schema.Operator) (int64, string, error) {
	shape := func(k int) []int32 {
		if k >= len(o.Inputs) || o.Inputs[k] < 0 {
			return nil
		}
		return sg.Tensors[o.Inputs[k]].Shape
	}
	out := func() []int32 {
		if len(o.Outputs) == 0 || o.Outputs[0] < 0 {
			return nil
		}
		return sg.Tensors[o.Outputs[0]].Shape
	}
	prod := func(dims ...int32) int64 {
		n := int64(1)
		for _, d := range dims {
			n *= int64(d)
		}
		return n
	}
	switch op {
	case schema.OpConv2D, schema.OpDepthwiseConv2D:
		w, y := shape(1), out()
		if len(w) != 4 || len(y) != 4 {
			return 0, "", fmt.Errorf("want a 4-D filter and output, have filter %v output %v", w, y)
		}
		kernel := fmt.Sprintf("%dx%d", w[1], w[2])
		if op == schema.OpDepthwiseConv2D {
			// filter [1, kh, kw, C*M]: one kh*kw dot product per output value.
			return prod(y...) * prod(w[1], w[2]), kernel, nil
		}
		// filter [O, kh, kw, I/groups].
		return prod(y...) * prod(w[1], w[2], w[3]), kernel, nil
	case schema.OpTransposeConv:
		// inputs: output shape, filter [O, kh, kw, I], input [N, H, W, I].
		w, x := shape(1), shape(2)
		if len(w) != 4 || len(x) != 4 {
			return 0, "", fmt.Errorf("want a 4-D filter and input, have filter %v input %v", w, x)
		}
		return prod(x...) * prod(w[0], w[1], w[2]), fmt.Sprintf("%dx%d", w[1], w[2]), nil
	case schema.OpFullyConnected:
		w, y := shape(1), out()
		if len(w) != 2 || len(y) == 0 {
			return 0, "", fmt.Errorf("want a 2-D weight matrix, have %v", w)
		}
		// weights [units, depth]; the output holds batch*units values.
		return prod(y...) * int64(w[1]), "", nil
	}
	return 0, "", nil
}

// activationPeak walks the operators in order, keeping every non-constant
// tensor alive from its first writer to its last reader, and returns the
// largest sum of live bytes and the operator where it occurs.
func activationPeak(sg *schema.Subgraph, isConst func(int32) bool) (int64, int) {
	n := len(sg.Operators)
	if n == 0 {
		return 0, -1
	}
	first := map[int32]int{}
	last := map[int32]int{}
	touch := func(ti int32, at int) {
		if ti < 0 || isConst(ti) {
			return
		}
		if f, ok := first[ti]; !ok || at < f {
			first[ti] = at
		}
		if l, ok := last[ti]; !ok || at > l {
			last[ti] = at
		}
	}
	for _, ti := range sg.Inputs {
		touch(ti, 0)
	}
	for i, op := range sg.Operators {
		for _, ti := range op.Inputs {
			touch(ti, i)
		}
		for _, ti := range op.Outputs {
			touch(ti, i)
		}
		for _, ti := range op.Intermediates {
			touch(ti, i)
		}
	}
	for _, ti := range sg.Outputs {
		touch(ti, n-1)
	}
	for ti, t := range sg.Tensors {
		if t.IsVariable {
			touch(int32(ti), 0)
			touch(int32(ti), n-1)
		}
	}
	delta := make([]int64, n+1)
	for ti, f := range first {
		t := sg.Tensors[ti]
		size := t.NumElements() * int64(t.Type.Size())
		if size <= 0 {
			continue
		}
		delta[f] += size
		delta[last[ti]+1] -= size
	}
	var live, peak int64
	at := 0
	for i := 0; i < n; i++ {
		live += delta[i]
		if live > peak {
			peak, at = live, i
		}
	}
	return peak, at
}

// WriteTable writes the per-layer table and the totals of r to w, in
// aligned columns.
func (r *Report) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "#\top\tkernel\toutput\tparams\tMAdds\t\n")
	for _, l := range r.Layers {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%d\t%d\t\n", l.Index, l.Op, l.Kernel, shapeString(l.Output), l.Params, l.MAdds)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := io.WriteString(w, r.Summary())
	return err
}

// Summary returns the totals of r in a few lines: parameters, multiply-adds
// by operator, activation peak and the operator histogram.
func (r *Report) Summary() string {
	var sb strings.Builder
	if r.Name != "" {
		fmt.Fprintf(&sb, "%s\n", r.Name)
	}
	if r.Input != "" {
		fmt.Fprintf(&sb, "  input  %s\n  output %s\n", r.Input, r.Output)
	}
	fmt.Fprintf(&sb, "  params %s (%d), MAdds %s (%d)\n", Millions(r.Params), r.Params, Millions(r.MAdds), r.MAdds)
	if len(r.MAddsByOp) > 0 {
		sb.WriteString("  MAdds by op:")
		for _, name := range sortedKeys(r.MAddsByOp) {
			fmt.Fprintf(&sb, " %s %s (%.1f%%)", name, Millions(r.MAddsByOp[name]), 100*float64(r.MAddsByOp[name])/float64(r.MAdds))
		}
		sb.WriteByte('\n')
	}
	fmt.Fprintf(&sb, "  peak activations %s at operator %d, constants %s\n", Bytes(r.PeakActivationBytes), r.PeakAt, Bytes(r.ConstantBytes))
	sb.WriteString("  ops:")
	for _, name := range sortedKeys(r.Ops) {
		fmt.Fprintf(&sb, " %s×%d", name, r.Ops[name])
	}
	sb.WriteByte('\n')
	for _, n := range r.Notes {
		fmt.Fprintf(&sb, "  note: %s\n", n)
	}
	return sb.String()
}

func sortedKeys[V int | int64](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if m[keys[i]] != m[keys[j]] {
			return m[keys[i]] > m[keys[j]]
		}
		return keys[i] < keys[j]
	})
	return keys
}

func shapeString(s []int32) string {
	parts := make([]string, len(s))
	for i, d := range s {
		parts[i] = fmt.Sprint(d)
	}
	return "[" + strings.Join(parts, " ") + "]"
}

// Millions renders a count in millions with two decimals, e.g. "4.23M".
func Millions(n int64) string { return fmt.Sprintf("%.2fM", float64(n)/1e6) }

// Bytes renders a byte count with a binary unit, e.g. "1.5 MiB".
func Bytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
