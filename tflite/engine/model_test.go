package engine

import (
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/edgeproject/edge/tflite/schema"
)

// A small description of a one-subgraph model, written to a .tflite file by
// the flatbuffer writer so that both interpreters can load it.

type tspec struct {
	name  string
	typ   schema.TensorType
	shape []int
	scale []float32 // nil: not quantized
	zp    []int64
	qdim  int32
	data  []byte // constant data, nil for activations
}

type opspec struct {
	op      schema.BuiltinOp
	custom  string
	version int32
	ins     []int32
	outs    []int32
	optType uint8
	opts    T
	custOpt []byte
}

type modelSpec struct {
	tensors []tspec
	ops     []opspec
	inputs  []int32
	outputs []int32
}

func (m *modelSpec) add(t tspec) int32 {
	m.tensors = append(m.tensors, t)
	return int32(len(m.tensors) - 1)
}

func (m *modelSpec) bytes() []byte {
	var codes []T
	codeIndex := map[[2]any]uint32{}
	buffers := []T{{}}
	var tensors []T
	for _, t := range m.tensors {
		shape := make([]int32, len(t.shape))
		for i, d := range t.shape {
			shape[i] = int32(d)
		}
		tt := T{0: shape, 1: int8(t.typ), 3: t.name}
		if t.data != nil {
			buffers = append(buffers, T{0: t.data})
			tt[2] = uint32(len(buffers) - 1)
		} else {
			tt[2] = uint32(0)
		}
		if t.scale != nil {
			q := T{2: t.scale, 3: t.zp}
			if len(t.scale) > 1 {
				q[6] = t.qdim
			}
			tt[4] = q
		}
		tensors = append(tensors, tt)
	}
	var ops []T
	for _, o := range m.ops {
		key := [2]any{o.op, o.custom}
		idx, ok := codeIndex[key]
		if !ok {
			v := o.version
			if v == 0 {
				v = 1
			}
			oc := T{2: v, 3: int32(o.op)}
			if o.op < 127 {
				oc[0] = int8(o.op)
			} else {
				oc[0] = int8(127)
			}
			if o.custom != "" {
				oc[1] = o.custom
			}
			codes = append(codes, oc)
			idx = uint32(len(codes) - 1)
			codeIndex[key] = idx
		}
		ot := T{0: idx, 1: o.ins, 2: o.outs}
		if o.opts != nil {
			ot[3] = o.optType
			ot[4] = o.opts
		}
		if o.custOpt != nil {
			ot[5] = o.custOpt
		}
		ops = append(ops, ot)
	}
	root := T{
		0: uint32(3),
		1: codes,
		2: []T{{0: tensors, 1: m.inputs, 2: m.outputs, 3: ops}},
		3: "engine test model",
		4: buffers,
	}
	return build(root)
}

// write saves the model in the test's temporary directory.
func (m *modelSpec) write(t testing.TB) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "model.tflite")
	if err := os.WriteFile(p, m.bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func i32bytes(v []int32) []byte {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], uint32(x))
	}
	return b
}

func f32bytes(v []float32) []byte {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return b
}

func f32s(b []byte) []float32 {
	out := make([]float32, len(b)/4)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return out
}
