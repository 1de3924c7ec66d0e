package fbwriter

import "github.com/edgeproject/edge/tflite/schema"

// Builder assembles a single-subgraph Model: it numbers tensors and
// buffers, and shares one operator code per (operator, version). The zero
// Builder is not usable; call NewBuilder.
type Builder struct {
	m     Model
	codes map[OperatorCode]uint32
}

// NewBuilder starts a model with one empty subgraph, named "main", and the
// empty buffer 0.
func NewBuilder(description string) *Builder {
	return &Builder{
		m: Model{
			Description: description,
			Subgraphs:   []Subgraph{{Name: "main"}},
			Buffers:     []Buffer{{}},
		},
		codes: map[OperatorCode]uint32{},
	}
}

func (b *Builder) sg() *Subgraph { return &b.m.Subgraphs[0] }

// Buffer adds a constant buffer holding data and returns its index.
func (b *Builder) Buffer(data []byte) uint32 {
	b.m.Buffers = append(b.m.Buffers, Buffer{Data: data})
	return uint32(len(b.m.Buffers) - 1)
}

// Tensor adds a tensor and returns its index.
func (b *Builder) Tensor(t Tensor) int32 {
	b.sg().Tensors = append(b.sg().Tensors, t)
	return int32(len(b.sg().Tensors) - 1)
}

// Const adds a tensor holding data in a new buffer and returns its index.
func (b *Builder) Const(t Tensor, data []byte) int32 {
	t.Buffer = b.Buffer(data)
	return b.Tensor(t)
}

// TensorAt returns tensor i, for reading its shape or quantization.
func (b *Builder) TensorAt(i int32) Tensor { return b.sg().Tensors[i] }

// NumTensors is the number of tensors added so far.
func (b *Builder) NumTensors() int { return len(b.sg().Tensors) }

// Op appends an operator with the given inputs, outputs and options (nil
// for none); version 0 means 1.
func (b *Builder) Op(op schema.BuiltinOp, version int32, inputs, outputs []int32, opts Options) {
	if version == 0 {
		version = 1
	}
	key := OperatorCode{Builtin: op, Version: version}
	idx, ok := b.codes[key]
	if !ok {
		idx = uint32(len(b.m.OperatorCodes))
		b.m.OperatorCodes = append(b.m.OperatorCodes, key)
		b.codes[key] = idx
	}
	b.sg().Operators = append(b.sg().Operators, Operator{OpcodeIndex: idx, Inputs: inputs, Outputs: outputs, Options: opts})
}

// SetIO sets the subgraph's input and output tensors.
func (b *Builder) SetIO(inputs, outputs []int32) {
	b.sg().Inputs, b.sg().Outputs = inputs, outputs
}

// Metadata adds a named metadata buffer, e.g. "min_runtime_version".
func (b *Builder) Metadata(name string, data []byte) {
	b.m.Metadata = append(b.m.Metadata, Metadata{Name: name, Buffer: b.Buffer(data)})
}

// Model returns the model built so far. It shares memory with the Builder.
func (b *Builder) Model() *Model { return &b.m }
