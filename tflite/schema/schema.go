// Package schema reads TensorFlow Lite model files (.tflite), the "TFL3"
// flatbuffers described by TFLite's schema.fbs, version 3.
//
// It is pure Go, uses only the standard library and checks every offset and
// length against the file, so it can be run on untrusted or damaged input:
// [Parse] never panics, and rejects a bad file with a *[FormatError] that
// says what is wrong and where, for example
//
//	not a TFLite model: file identifier is "PK\x03\x04", want "TFL3"
//	truncated: subgraph 0 tensor 12 points past end of file (offset 123456, size 4000)
//
// Parse decodes the whole model — operator codes, subgraphs with their
// tensors and operators, buffers, metadata and signatures — into plain Go
// values, and checks the indexes that link them (operator code, tensor and
// buffer indexes). Operator options, whose layout depends on the operator,
// are left as a [Table] with bounds-checked getters.
//
// The decoded model refers to the bytes passed to Parse (buffer data, custom
// options, option tables) instead of copying them; those bytes must not be
// modified while the model is in use.
package schema

import (
	"bytes"
	"fmt"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// FileIdentifier is the flatbuffer file identifier of TFLite models, found
// at bytes 4..8 of the file.
const FileIdentifier = "TFL3"

// SchemaVersion is the TFLite schema version this package reads, the only
// one TFLite itself accepts in Model.version.
const SchemaVersion = 3

// Model is a decoded TFLite model (the schema's Model table).
type Model struct {
	// Version is the schema version; Parse accepts only SchemaVersion.
	Version uint32
	// Description is a free-form text, e.g. "TOCO Converted.".
	Description string
	// OperatorCodes lists the operator kinds used; Operator.OpcodeIndex
	// indexes it.
	OperatorCodes []OperatorCode
	// Subgraphs holds the graphs of the model; the first is the main one.
	Subgraphs []Subgraph
	// Buffers holds constant data; Tensor.Buffer and Metadata.Buffer index
	// it. Buffer 0 is by convention always empty.
	Buffers []Buffer
	// Metadata lists named metadata buffers such as "min_runtime_version"
	// or "TFLITE_METADATA".
	Metadata []Metadata
	// SignatureDefs lists the model's signatures (named entry points), if any.
	SignatureDefs []SignatureDef

	raw []byte // the whole file, for buffers stored after the flatbuffer
	zip []byte // the appended ZIP archive of associated files, if any
}

// OperatorCode identifies the kind of an operator: a builtin operator, or a
// custom one named by Custom when Builtin is OpCustom.
type OperatorCode struct {
	// Builtin is the builtin operator code: the larger of the schema's
	// deprecated_builtin_code (int8) and builtin_code (int32) fields, as
	// the schema prescribes.
	Builtin BuiltinOp
	// Custom is the custom operator name, e.g. "edgetpu-custom-op".
	Custom string
	// Version is the operator version (1 when unset).
	Version int32
}

// Name returns the custom operator name for custom operators and the
// builtin name (e.g. "CONV_2D") otherwise.
func (c OperatorCode) Name() string {
	if c.Builtin == OpCustom && c.Custom != "" {
		return c.Custom
	}
	return c.Builtin.String()
}

// Subgraph is one graph of operators and tensors.
type Subgraph struct {
	// Name is the subgraph name, often empty.
	Name string
	// Tensors lists all tensors of the subgraph.
	Tensors []Tensor
	// Inputs and Outputs are indexes into Tensors of the subgraph's inputs
	// and outputs.
	Inputs, Outputs []int32
	// Operators lists the operators in execution order.
	Operators []Operator
}

// Tensor describes one tensor of a subgraph.
type Tensor struct {
	// Name is the tensor name, e.g. "input".
	Name string
	// Shape is the tensor shape, e.g. [1 224 224 3] (NHWC).
	Shape []int32
	// ShapeSignature is Shape with -1 for unknown dimensions; nil if absent.
	ShapeSignature []int32
	// Type is the element type.
	Type TensorType
	// Buffer indexes Model.Buffers; 0 (the empty buffer) for tensors
	// without constant data.
	Buffer uint32
	// Quantization holds the quantization parameters, nil when absent.
	Quantization *Quantization
	// IsVariable reports a variable (stateful) tensor.
	IsVariable bool
	// HasRank distinguishes a scalar (empty Shape, HasRank true) from a
	// tensor of unknown rank (empty Shape, HasRank false) in models that set it.
	HasRank bool
	// Sparsity holds the sparse encoding of the tensor data, nil for
	// dense tensors.
	Sparsity *Sparsity
}

// Quantization holds the affine quantization parameters of a tensor:
// real = Scale * (quantized - ZeroPoint). With one scale the tensor is
// quantized per tensor; with several, per channel along QuantizedDimension.
type Quantization struct {
	Min, Max           []float32
	Scale              []float32
	ZeroPoint          []int64
	QuantizedDimension int32
	// QuantizedDimensionAt is the byte offset of the quantized_dimension
	// field in the file, 0 when the field is absent; it lets a loader
	// correct a bad value in a copy of the file.
	QuantizedDimensionAt int
	// CustomDetails is the data of a CustomQuantization details union, if
	// present (a sub-slice of the model file).
	CustomDetails []byte
}

// Sparsity describes how a sparse tensor is encoded (the schema's
// SparsityParameters, a variant of the TACO format).
type Sparsity struct {
	TraversalOrder []int32
	BlockMap       []int32
	DimMetadata    []DimensionMetadata
}

// DimensionMetadata describes one dimension of a sparse tensor.
type DimensionMetadata struct {
	// Sparse is false for DENSE dimensions and true for SPARSE_CSR ones.
	Sparse bool
	// DenseSize is the dimension size of a dense dimension.
	DenseSize int32
	// ArraySegments and ArrayIndices are the CSR segment and index arrays
	// of a sparse dimension, widened to int32 whatever their stored type.
	ArraySegments, ArrayIndices []int32
}

// Operator is one operation of a subgraph.
type Operator struct {
	// OpcodeIndex indexes Model.OperatorCodes; see Model.Op.
	OpcodeIndex uint32
	// Inputs and Outputs are indexes into the subgraph's Tensors; -1
	// marks an omitted optional input.
	Inputs, Outputs []int32
	// BuiltinOptionsType is the schema's BuiltinOptions union type (e.g. 1
	// for Conv2DOptions), 0 when there are no options.
	BuiltinOptionsType uint8
	// BuiltinOptions gives raw access to the options table, whose fields
	// depend on BuiltinOptionsType. It is the zero Table when absent.
	BuiltinOptions Table
	// BuiltinOptions2Type and BuiltinOptions2 are the second options union
	// (BuiltinOptions2), used by StableHLO operators.
	BuiltinOptions2Type uint8
	BuiltinOptions2     Table
	// CustomOptions holds the options of a custom operator (a sub-slice of
	// the model file), usually a flexbuffer. Options stored outside the
	// flatbuffer (large_custom_options_offset/size) are resolved too.
	CustomOptions []byte
	// CustomOptionsFormat is 0 (FLEXBUFFERS).
	CustomOptionsFormat int8
	// MutatingVariableInputs, if not empty, tells for each input whether
	// the operator mutates it.
	MutatingVariableInputs []bool
	// Intermediates are indexes into the subgraph's Tensors of tensors
	// internal to the operator.
	Intermediates []int32
}

// Buffer is a constant data buffer of the model. Its data is either inline
// (Data) or, in models larger than 2 GiB, stored after the flatbuffer at
// Offset (from the start of the file, valid if > 1) for Size bytes. Use
// Model.BufferData to get the data in either case.
type Buffer struct {
	// Data is the inline data (a sub-slice of the model file), nil if none.
	Data []byte
	// Offset and Size locate data stored outside the flatbuffer.
	Offset, Size uint64
}

// Metadata names a buffer holding model metadata.
type Metadata struct {
	Name   string
	Buffer uint32
}

// SignatureDef is a named entry point of the model, mapping input and
// output names to tensors of a subgraph.
type SignatureDef struct {
	Key             string
	SubgraphIndex   uint32
	Inputs, Outputs []TensorMap
}

// TensorMap maps a signature name to a tensor index of the signature's
// subgraph.
type TensorMap struct {
	Name        string
	TensorIndex uint32
}

// ReadFile reads and parses the model file at path. Its errors name the file,
// e.g. "model.tflite: truncated: ...".
func ReadFile(path string) (*Model, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err // *PathError already names the file
	}
	m, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

// Op returns the operator code of op.
func (m *Model) Op(op Operator) (OperatorCode, error) {
	if uint64(op.OpcodeIndex) >= uint64(len(m.OperatorCodes)) {
		return OperatorCode{}, fmt.Errorf("tflite schema: opcode index %d out of range (model has %d operator codes)", op.OpcodeIndex, len(m.OperatorCodes))
	}
	return m.OperatorCodes[op.OpcodeIndex], nil
}

// BufferData returns the data of buffer index, inline or stored after the
// flatbuffer, or nil if the buffer is empty or index is out of range. The
// result is a sub-slice of the model file, not a copy.
func (m *Model) BufferData(index uint32) []byte {
	if uint64(index) >= uint64(len(m.Buffers)) {
		return nil
	}
	b := m.Buffers[index]
	if len(b.Data) > 0 {
		return b.Data
	}
	if b.Offset > 1 && b.Size > 0 && fits(m.raw, b.Offset, b.Size) {
		return m.raw[b.Offset : b.Offset+b.Size : b.Offset+b.Size]
	}
	return nil
}

// MetadataBuffer returns the data of the first metadata entry called name,
// e.g. "TFLITE_METADATA" or "min_runtime_version". ok is false if there is
// no such entry or its buffer index is out of range.
func (m *Model) MetadataBuffer(name string) (data []byte, ok bool) {
	for _, md := range m.Metadata {
		if md.Name == name {
			if uint64(md.Buffer) >= uint64(len(m.Buffers)) {
				return nil, false
			}
			return m.BufferData(md.Buffer), true
		}
	}
	return nil, false
}

// AssociatedFiles returns the ZIP archive of associated files (label maps,
// vocabularies, ...) that the TFLite metadata writer appends to a model after
// the flatbuffer, or nil if there is none. Read it with archive/zip:
//
//	z := m.AssociatedFiles()
//	r, err := zip.NewReader(bytes.NewReader(z), int64(len(z)))
//
// The result is a sub-slice of the model file, not a copy. Parse checks
// that the archive is complete (ends with its end of central directory
// record), but not its contents.
func (m *Model) AssociatedFiles() []byte { return m.zip }

// MinRuntimeVersion returns the content of the "min_runtime_version"
// metadata buffer, the oldest TFLite runtime that can run the model (e.g.
// "1.14.0"), without its NUL padding; "" if the model has none.
func (m *Model) MinRuntimeVersion() string {
	b, _ := m.MetadataBuffer("min_runtime_version")
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return string(b)
}

// OpHistogram counts the operators of all subgraphs by name (as returned by
// OperatorCode.Name: the builtin name, or the custom name for custom ops).
func (m *Model) OpHistogram() map[string]int {
	h := make(map[string]int)
	for si := range m.Subgraphs {
		for _, op := range m.Subgraphs[si].Operators {
			h[m.opName(op)]++
		}
	}
	return h
}

// CustomOps returns the sorted distinct names of the custom operators used
// by the operators of all subgraphs.
func (m *Model) CustomOps() []string {
	var names []string
	for si := range m.Subgraphs {
		for _, op := range m.Subgraphs[si].Operators {
			c, err := m.Op(op)
			if err == nil && c.Builtin == OpCustom && c.Custom != "" && !slices.Contains(names, c.Custom) {
				names = append(names, c.Custom)
			}
		}
	}
	sort.Strings(names)
	return names
}

func (m *Model) opName(op Operator) string {
	c, err := m.Op(op)
	if err != nil {
		return "OPCODE_" + strconv.FormatUint(uint64(op.OpcodeIndex), 10)
	}
	return c.Name()
}

// NumElements returns the number of elements of the tensor (1 for a
// scalar), or -1 if a dimension is negative (unknown) or the count
// overflows int64.
func (t Tensor) NumElements() int64 {
	n := int64(1)
	for _, d := range t.Shape {
		if d < 0 {
			return -1
		}
		if d != 0 && n > (1<<63-1)/int64(d) {
			return -1
		}
		n *= int64(d)
	}
	return n
}

// String describes the tensor as "<type>[<shape>] <name>" followed by its
// quantization, e.g. "uint8[1,224,224,3] input (s=0.0078125 zp=128)" or
// "int8[8,3,3,1] weights (per-channel: 8 scales on dim 0)". The shape is
// left out when empty.
func (t Tensor) String() string {
	var sb strings.Builder
	sb.WriteString(t.Type.String())
	if len(t.Shape) > 0 {
		sb.WriteByte('[')
		for i, d := range t.Shape {
			if i > 0 {
				sb.WriteByte(',')
			}
			sb.WriteString(strconv.Itoa(int(d)))
		}
		sb.WriteByte(']')
	}
	sb.WriteByte(' ')
	sb.WriteString(t.Name)
	if q := t.Quantization; q != nil {
		switch {
		case len(q.Scale) == 1:
			var zp int64
			if len(q.ZeroPoint) > 0 {
				zp = q.ZeroPoint[0]
			}
			fmt.Fprintf(&sb, " (s=%.6g zp=%d)", q.Scale[0], zp)
		case len(q.Scale) > 1:
			fmt.Fprintf(&sb, " (per-channel: %d scales on dim %d)", len(q.Scale), q.QuantizedDimension)
		}
	}
	return sb.String()
}

// Summary returns a human-readable, multi-line description of the model:
// sizes, inputs and outputs of each subgraph, operator counts, custom
// operators and metadata names. Its layout may change; do not parse it.
func (m *Model) Summary() string {
	var sb strings.Builder
	nops, ntensors := 0, 0
	for i := range m.Subgraphs {
		nops += len(m.Subgraphs[i].Operators)
		ntensors += len(m.Subgraphs[i].Tensors)
	}
	fmt.Fprintf(&sb, "TFLite schema v%d: %d subgraph(s), %d operators, %d tensors, %d buffers",
		m.Version, len(m.Subgraphs), nops, ntensors, len(m.Buffers))
	if len(m.raw) > 0 {
		fmt.Fprintf(&sb, ", %d bytes", len(m.raw))
	}
	sb.WriteByte('\n')
	if m.Description != "" {
		fmt.Fprintf(&sb, "description: %s\n", m.Description)
	}
	for si := range m.Subgraphs {
		sg := &m.Subgraphs[si]
		fmt.Fprintf(&sb, "subgraph %d", si)
		if sg.Name != "" {
			fmt.Fprintf(&sb, " %q", sg.Name)
		}
		fmt.Fprintf(&sb, ": %d operators, %d tensors\n", len(sg.Operators), len(sg.Tensors))
		for _, io := range []struct {
			kind string
			idx  []int32
		}{{"input", sg.Inputs}, {"output", sg.Outputs}} {
			for i, ti := range io.idx {
				if ti >= 0 && int(ti) < len(sg.Tensors) {
					fmt.Fprintf(&sb, "  %s %d: %s\n", io.kind, i, sg.Tensors[ti].String())
				}
			}
		}
	}
	h := m.OpHistogram()
	names := make([]string, 0, len(h))
	for name := range h {
		names = append(names, name)
	}
	sort.Slice(names, func(i, j int) bool {
		if h[names[i]] != h[names[j]] {
			return h[names[i]] > h[names[j]]
		}
		return names[i] < names[j]
	})
	if len(names) > 0 {
		sb.WriteString("ops:")
		for _, name := range names {
			fmt.Fprintf(&sb, " %s×%d", name, h[name])
		}
		sb.WriteByte('\n')
	}
	if c := m.CustomOps(); len(c) > 0 {
		fmt.Fprintf(&sb, "custom ops: %s\n", strings.Join(c, ", "))
	}
	if len(m.Metadata) > 0 {
		sb.WriteString("metadata:")
		for i, md := range m.Metadata {
			if i > 0 {
				sb.WriteByte(',')
			}
			if md.Name == "min_runtime_version" {
				fmt.Fprintf(&sb, " %s %q", md.Name, m.MinRuntimeVersion())
			} else {
				fmt.Fprintf(&sb, " %s (%d bytes)", md.Name, len(m.BufferData(md.Buffer)))
			}
		}
		sb.WriteByte('\n')
	}
	return sb.String()
}
