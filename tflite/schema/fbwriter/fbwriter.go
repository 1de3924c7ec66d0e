// Package fbwriter writes TensorFlow Lite model files (.tflite): the "TFL3"
// flatbuffers of TFLite's schema.fbs, version 3, that package schema reads.
//
// A [Model] is a plain Go value mirroring the schema's tables — operator
// codes, subgraphs of tensors and operators, constant buffers, metadata —
// and [Model.Bytes] encodes it. [Builder] assembles a Model one tensor and
// operator at a time, sharing operator codes and numbering buffers:
//
//	b := fbwriter.NewBuilder("my model")
//	x := b.Tensor(fbwriter.Tensor{Name: "x", Type: schema.TypeFloat32, Shape: []int32{1, 4}})
//	y := b.Tensor(fbwriter.Tensor{Name: "y", Type: schema.TypeFloat32, Shape: []int32{1, 4}})
//	b.Op(schema.OpRelu, 1, []int32{x}, []int32{y}, nil)
//	b.SetIO([]int32{x}, []int32{y})
//	data, err := b.Model().Bytes()
//
// The encoder lays each table out before its children (every offset points
// forward), aligns scalars to their size, vectors of 8-byte elements to 8
// and buffer data to 16 bytes, as the flatbuffers verifier in TFLite
// requires. It writes each distinct vector other than buffer data and
// custom options — names, shapes, tensor index lists, quantization scales
// and zero points — once, after all the tables, and every table with the
// same contents refers to that one copy, as flatbuffers allows (the
// per-channel zero points of a quantized model are all zeros, and a filter
// and its bias have as many); tables of the same layout share a vtable. It
// writes models below 2 GiB (buffers inline) only.
package fbwriter

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"

	"github.com/edgeproject/edge/tflite/schema"
)

// Model is a TFLite model to write (the schema's Model table).
type Model struct {
	// Description is a free-form text, e.g. "edge arch: MobileNet V1".
	Description string
	// OperatorCodes lists the operator kinds used; Operator.OpcodeIndex
	// indexes it.
	OperatorCodes []OperatorCode
	// Subgraphs holds the graphs; the first is the main one.
	Subgraphs []Subgraph
	// Buffers holds constant data; Tensor.Buffer indexes it. Buffer 0
	// should be empty: TFLite reserves it for tensors without data.
	Buffers []Buffer
	// Metadata names buffers holding metadata, e.g. "min_runtime_version".
	Metadata []Metadata
}

// OperatorCode identifies an operator kind and its version.
type OperatorCode struct {
	Builtin schema.BuiltinOp
	// Custom names a custom operator; Builtin must then be schema.OpCustom.
	Custom string
	// Version is the operator version; 0 is written as 1.
	Version int32
}

// Subgraph is one graph of tensors and operators.
type Subgraph struct {
	Name            string
	Tensors         []Tensor
	Inputs, Outputs []int32
	// Operators are in execution order.
	Operators []Operator
}

// Tensor describes one tensor of a subgraph.
type Tensor struct {
	Name  string
	Shape []int32
	Type  schema.TensorType
	// Buffer indexes Model.Buffers; 0 for tensors computed at run time.
	Buffer       uint32
	Quantization *Quantization
	IsVariable   bool
}

// Quantization holds affine quantization parameters: real = Scale ×
// (quantized − ZeroPoint), per tensor (one scale) or per channel along
// QuantizedDimension.
type Quantization struct {
	Min, Max           []float32
	Scale              []float32
	ZeroPoint          []int64
	QuantizedDimension int32
}

// Operator is one operation of a subgraph.
type Operator struct {
	OpcodeIndex     uint32
	Inputs, Outputs []int32
	// Options are the builtin options, nil for operators without any.
	Options Options
	// CustomOptions are the options of a custom operator.
	CustomOptions []byte
}

// Buffer is constant data; nil Data is the empty buffer.
type Buffer struct {
	Data []byte
}

// Metadata names a buffer holding model metadata.
type Metadata struct {
	Name   string
	Buffer uint32
}

// SchemaVersion is the schema version written in Model.version.
const SchemaVersion = schema.SchemaVersion

// WriteFile encodes m and writes it to path.
func (m *Model) WriteFile(path string) error {
	data, err := m.Bytes()
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return os.WriteFile(path, data, 0o644)
}

// ErrInvalid reports a Model whose indexes do not fit together: an operator
// code, tensor or buffer index out of range, an options value of the wrong
// kind for its operator, a model too large to encode.
var ErrInvalid = errors.New("invalid model")

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}

// Check verifies the indexes of m: every operator code, tensor and buffer
// index in range, and the options of each operator of the type its
// operator code takes.
func (m *Model) Check() error {
	if len(m.Subgraphs) == 0 {
		return invalid("model has no subgraph")
	}
	for i, c := range m.OperatorCodes {
		if (c.Builtin == schema.OpCustom) != (c.Custom != "") {
			return invalid("operator code %d: a custom name goes with CUSTOM and only with it (builtin %s, custom %q)", i, c.Builtin, c.Custom)
		}
	}
	nb := len(m.Buffers)
	if nb == 0 {
		return invalid("model has no buffers: TFLite needs buffer 0, the empty one, for tensors without data")
	}
	for si := range m.Subgraphs {
		sg := &m.Subgraphs[si]
		nt := int32(len(sg.Tensors))
		check := func(where string, idx []int32, optional bool) error {
			for k, ti := range idx {
				if ti >= nt || ti < -1 || (ti == -1 && !optional) {
					return invalid("subgraph %d %s %d: tensor %d out of range (%d tensors)", si, where, k, ti, nt)
				}
			}
			return nil
		}
		if err := check("input", sg.Inputs, false); err != nil {
			return err
		}
		if err := check("output", sg.Outputs, false); err != nil {
			return err
		}
		for ti, t := range sg.Tensors {
			if int(t.Buffer) >= nb {
				return invalid("subgraph %d tensor %d %q: buffer %d out of range (%d buffers)", si, ti, t.Name, t.Buffer, nb)
			}
			if q := t.Quantization; q != nil && len(q.ZeroPoint) != 0 && len(q.ZeroPoint) != len(q.Scale) {
				return invalid("subgraph %d tensor %d %q: %d scales but %d zero points", si, ti, t.Name, len(q.Scale), len(q.ZeroPoint))
			}
		}
		for oi, op := range sg.Operators {
			if int(op.OpcodeIndex) >= len(m.OperatorCodes) {
				return invalid("subgraph %d operator %d: opcode index %d out of range (%d operator codes)", si, oi, op.OpcodeIndex, len(m.OperatorCodes))
			}
			if err := check(fmt.Sprintf("operator %d input", oi), op.Inputs, true); err != nil {
				return err
			}
			if err := check(fmt.Sprintf("operator %d output", oi), op.Outputs, false); err != nil {
				return err
			}
			if op.Options != nil {
				code := m.OperatorCodes[op.OpcodeIndex].Builtin
				if want, ok := optionsFor[code]; !ok || want != op.Options.unionType() {
					return invalid("subgraph %d operator %d (%s): options %T do not belong to this operator", si, oi, code, op.Options)
				}
			}
		}
	}
	for i, md := range m.Metadata {
		if int(md.Buffer) >= nb {
			return invalid("metadata %d %q: buffer %d out of range (%d buffers)", i, md.Name, md.Buffer, nb)
		}
	}
	return nil
}

// Bytes checks m and encodes it as a .tflite flatbuffer.
func (m *Model) Bytes() ([]byte, error) {
	if err := m.Check(); err != nil {
		return nil, err
	}
	size := 1 << 12
	for _, b := range m.Buffers {
		size += len(b.Data) + 32
	}
	if size > math.MaxInt32 {
		return nil, invalid("buffers total %d bytes; this writer stores buffers inline, which the format limits to 2 GiB", size)
	}
	e := newEncoder(size)
	e.b = append(e.b, make([]byte, 8)...)
	copy(e.b[4:], schema.FileIdentifier)
	root := e.table(m.fields())
	e.writePool()
	binary.LittleEndian.PutUint32(e.b, uint32(root))
	if len(e.b) > math.MaxInt32 {
		return nil, invalid("encoded model is %d bytes, over the 2 GiB flatbuffer limit", len(e.b))
	}
	return e.b, nil
}

// Schema field ids (the order of declaration in schema.fbs).
func (m *Model) fields() []field {
	f := []field{
		u32(0, SchemaVersion),
		tables(1, len(m.OperatorCodes), func(i int) []field { return m.OperatorCodes[i].fields() }),
		tables(2, len(m.Subgraphs), func(i int) []field { return m.Subgraphs[i].fields() }),
	}
	if m.Description != "" {
		f = append(f, str(3, m.Description))
	}
	f = append(f, tables(4, len(m.Buffers), func(i int) []field { return m.Buffers[i].fields() }))
	if len(m.Metadata) > 0 {
		f = append(f, tables(6, len(m.Metadata), func(i int) []field {
			return []field{str(0, m.Metadata[i].Name), u32(1, m.Metadata[i].Buffer)}
		}))
	}
	return f
}

func (c OperatorCode) fields() []field {
	v := c.Version
	if v == 0 {
		v = 1
	}
	dep := int32(c.Builtin)
	if dep > int32(schema.OpPlaceholderForGreaterOpCodes) {
		dep = int32(schema.OpPlaceholderForGreaterOpCodes)
	}
	f := []field{i8(0, int8(dep)), i32(2, v), i32(3, int32(c.Builtin))}
	if c.Custom != "" {
		f = append(f, str(1, c.Custom))
	}
	return f
}

func (s Subgraph) fields() []field {
	f := []field{
		tables(0, len(s.Tensors), func(i int) []field { return s.Tensors[i].fields() }),
		ints(1, s.Inputs),
		ints(2, s.Outputs),
		tables(3, len(s.Operators), func(i int) []field { return s.Operators[i].fields() }),
	}
	if s.Name != "" {
		f = append(f, str(4, s.Name))
	}
	return f
}

func (t Tensor) fields() []field {
	f := []field{ints(0, t.Shape), i8(1, int8(t.Type)), u32(2, t.Buffer)}
	if t.Name != "" {
		f = append(f, str(3, t.Name))
	}
	if q := t.Quantization; q != nil {
		var qf []field
		if len(q.Min) > 0 {
			qf = append(qf, floats(0, q.Min))
		}
		if len(q.Max) > 0 {
			qf = append(qf, floats(1, q.Max))
		}
		if len(q.Scale) > 0 {
			qf = append(qf, floats(2, q.Scale))
		}
		if len(q.ZeroPoint) > 0 {
			qf = append(qf, longs(3, q.ZeroPoint))
		}
		if q.QuantizedDimension != 0 {
			qf = append(qf, i32(6, q.QuantizedDimension))
		}
		f = append(f, table(4, qf))
	}
	if t.IsVariable {
		f = append(f, boolean(5, true))
	}
	return f
}

func (o Operator) fields() []field {
	f := []field{u32(0, o.OpcodeIndex), ints(1, o.Inputs), ints(2, o.Outputs)}
	if o.Options != nil {
		f = append(f, u8(3, o.Options.unionType()), table(4, o.Options.fields()))
	}
	if len(o.CustomOptions) > 0 {
		f = append(f, bytesField(5, o.CustomOptions, 1))
	}
	return f
}

func (b Buffer) fields() []field {
	if len(b.Data) == 0 {
		return nil
	}
	return []field{bytesField(0, b.Data, 16)}
}

// field is one field of a table: inline scalar bytes, a reference to an
// object written after the table by put, which returns its position, or a
// reference to a vector that tables share (see [encoder.share]).
type field struct {
	id     int
	scalar []byte
	put    func(e *encoder) int
	shared *sharedVector
}

// sharedVector is a vector of n elements whose encoded bytes are data (for
// strings, including the NUL), its elements aligned to align.
type sharedVector struct {
	n, align int
	data     []byte
}

func sharedField(id, n, align int, data []byte) field {
	return field{id: id, shared: &sharedVector{n: n, align: align, data: data}}
}

func scalarField(id int, b []byte) field { return field{id: id, scalar: b} }

func boolean(id int, v bool) field {
	if v {
		return scalarField(id, []byte{1})
	}
	return scalarField(id, []byte{0})
}
func i8(id int, v int8) field   { return scalarField(id, []byte{byte(v)}) }
func u8(id int, v uint8) field  { return scalarField(id, []byte{v}) }
func i32(id int, v int32) field { return u32(id, uint32(v)) }
func u32(id int, v uint32) field {
	return scalarField(id, binary.LittleEndian.AppendUint32(nil, v))
}
func f32(id int, v float32) field { return u32(id, math.Float32bits(v)) }

func str(id int, s string) field {
	return sharedField(id, len(s), 1, append([]byte(s), 0))
}

func bytesField(id int, b []byte, align int) field {
	return field{id: id, put: func(e *encoder) int { return e.vector(len(b), align, b) }}
}

func ints(id int, v []int32) field {
	data := make([]byte, 0, 4*len(v))
	for _, x := range v {
		data = binary.LittleEndian.AppendUint32(data, uint32(x))
	}
	return sharedField(id, len(v), 4, data)
}

func floats(id int, v []float32) field {
	data := make([]byte, 0, 4*len(v))
	for _, x := range v {
		data = binary.LittleEndian.AppendUint32(data, math.Float32bits(x))
	}
	return sharedField(id, len(v), 4, data)
}

func longs(id int, v []int64) field {
	data := make([]byte, 0, 8*len(v))
	for _, x := range v {
		data = binary.LittleEndian.AppendUint64(data, uint64(x))
	}
	return sharedField(id, len(v), 8, data)
}

func table(id int, fields []field) field {
	return field{id: id, put: func(e *encoder) int { return e.table(fields) }}
}

func tables(id, n int, fields func(i int) []field) field {
	return field{id: id, put: func(e *encoder) int {
		e.align(4, 4)
		pos := len(e.b)
		e.b = binary.LittleEndian.AppendUint32(e.b, uint32(n))
		slots := len(e.b)
		e.b = append(e.b, make([]byte, 4*n)...)
		for i := 0; i < n; i++ {
			at := slots + 4*i
			child := e.table(fields(i))
			binary.LittleEndian.PutUint32(e.b[at:], uint32(child-at))
		}
		return pos
	}}
}

// encoder appends objects to b, front to back.
type encoder struct {
	b []byte
	// vtables maps the bytes of each vtable written to its position:
	// tables of the same layout share one.
	vtables map[string]int
	// pool holds the distinct shared vectors, in the order first referenced;
	// pooled indexes it by alignment, length and bytes.
	pool   []*pooledVector
	pooled map[poolKey]*pooledVector
}

type poolKey struct {
	n, align int
	data     string
}

// pooledVector is one distinct shared vector and the positions of the
// uoffsets that refer to it.
type pooledVector struct {
	v    *sharedVector
	refs []int
}

func newEncoder(capacity int) *encoder {
	return &encoder{b: make([]byte, 0, capacity), vtables: map[string]int{}, pooled: map[poolKey]*pooledVector{}}
}

// align pads b so that an object of n bytes header written next has its
// data (after the header) aligned to a.
func (e *encoder) align(a, header int) {
	for (len(e.b)+header)%a != 0 {
		e.b = append(e.b, 0)
	}
}

// vector writes a length-prefixed vector of n elements whose encoded bytes
// are data (for strings, including the NUL), its elements aligned to
// align, and returns the position of its length field.
func (e *encoder) vector(n, align int, data []byte) int {
	e.align(max(align, 4), 4)
	pos := len(e.b)
	e.b = binary.LittleEndian.AppendUint32(e.b, uint32(n))
	e.b = append(e.b, data...)
	return pos
}

// share records that the uoffset at position at refers to v. Byte-identical
// vectors (same alignment, length and bytes: names, shapes, tensor index
// lists, quantization scales and zero points) are written once, by
// writePool, after every table — uoffsets are unsigned, so a vector that
// several tables refer to must follow all of them.
func (e *encoder) share(at int, v *sharedVector) {
	key := poolKey{n: v.n, align: v.align, data: string(v.data)}
	p, ok := e.pooled[key]
	if !ok {
		p = &pooledVector{v: v}
		e.pooled[key] = p
		e.pool = append(e.pool, p)
	}
	p.refs = append(p.refs, at)
}

// writePool writes the shared vectors and points their references at them:
// the 8-byte-aligned ones first, each 4 bytes of padding they would need
// filled by a 4-byte-aligned vector of the right size when there is one,
// then the others in the order they were first referenced.
func (e *encoder) writePool() {
	size := func(p *pooledVector) int { return (4 + len(p.v.data) + 3) &^ 3 }
	done := make(map[*pooledVector]bool, len(e.pool))
	write := func(p *pooledVector) {
		pos := e.vector(p.v.n, p.v.align, p.v.data)
		for _, at := range p.refs {
			binary.LittleEndian.PutUint32(e.b[at:], uint32(pos-at))
		}
		done[p] = true
	}
	filler := 0 // the next candidate to fill a 4-byte gap
	for _, p := range e.pool {
		if p.v.align != 8 {
			continue
		}
		if e.align(4, 0); (len(e.b)+4)%8 != 0 {
			for ; filler < len(e.pool); filler++ {
				if f := e.pool[filler]; f.v.align != 8 && !done[f] && size(f)%8 == 4 {
					write(f)
					filler++
					break
				}
			}
		}
		write(p)
	}
	for _, p := range e.pool {
		if !done[p] {
			write(p)
		}
	}
}

// table writes a vtable, unless an identical one was written before, then
// the table, then the objects its reference fields point to; it returns
// the table's position.
func (e *encoder) table(fields []field) int {
	maxID := -1
	for _, f := range fields {
		maxID = max(maxID, f.id)
	}
	// Inline layout after the 4-byte soffset, each field aligned to its
	// size; references take 4 bytes. Sorting by size keeps padding low.
	offs := make([]int, maxID+1)
	size, tableAlign := 4, 4
	for _, width := range []int{8, 4, 2, 1} {
		for _, f := range fields {
			w := 4
			if f.scalar != nil {
				w = len(f.scalar)
			}
			if w != width {
				continue
			}
			for size%w != 0 {
				size++
			}
			if offs[f.id] != 0 {
				panic(fmt.Sprintf("fbwriter: field id %d given twice", f.id))
			}
			offs[f.id] = size
			size += w
			tableAlign = max(tableAlign, w)
		}
	}
	for size%4 != 0 {
		size++
	}
	vtLen := 4 + 2*(maxID+1)
	vtable := make([]byte, 0, vtLen)
	vtable = binary.LittleEndian.AppendUint16(vtable, uint16(vtLen))
	vtable = binary.LittleEndian.AppendUint16(vtable, uint16(size))
	for id := 0; id <= maxID; id++ {
		vtable = binary.LittleEndian.AppendUint16(vtable, uint16(offs[id]))
	}
	// The table starts aligned to its widest scalar (at least 4, for its
	// soffset), so that its fields are aligned in the file; a new vtable
	// goes right before it.
	vt, ok := e.vtables[string(vtable)]
	if ok {
		e.align(tableAlign, 0)
	} else {
		e.align(tableAlign, vtLen)
		vt = len(e.b)
		e.vtables[string(vtable)] = vt
		e.b = append(e.b, vtable...)
	}
	pos := len(e.b)
	e.b = binary.LittleEndian.AppendUint32(e.b, uint32(int32(pos-vt)))
	e.b = append(e.b, make([]byte, size-4)...)
	for _, f := range fields {
		if f.scalar != nil {
			copy(e.b[pos+offs[f.id]:], f.scalar)
		}
	}
	for _, f := range fields {
		at := pos + offs[f.id]
		switch {
		case f.shared != nil:
			e.share(at, f.shared)
		case f.put != nil:
			child := f.put(e)
			binary.LittleEndian.PutUint32(e.b[at:], uint32(child-at))
		}
	}
	return pos
}
