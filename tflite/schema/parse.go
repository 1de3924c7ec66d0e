package schema

import (
	"bytes"
	"fmt"
)

// Parse decodes a TFLite model from data, checking every offset and length
// against it. It never panics: bad input gives a *FormatError (see
// ErrEmpty, ErrNotTFLite, ErrTruncated and ErrInvalid).
//
// Besides the flatbuffer structure, Parse checks that the file identifier is
// "TFL3", that the schema version is 3, that there is at least one subgraph,
// that operator code, tensor and buffer indexes are in range, and that a ZIP
// archive of associated files appended to the model (see
// Model.AssociatedFiles) is complete.
//
// The returned model refers to data (buffer contents, custom options,
// option tables); data must not be modified while the model is in use.
func Parse(data []byte) (*Model, error) {
	if len(data) == 0 {
		return nil, &FormatError{Kind: ErrEmpty}
	}
	if len(data) < 8 {
		return nil, &FormatError{Kind: ErrNotTFLite, Detail: fmt.Sprintf("file is only %d bytes, too short for a flatbuffer header", len(data))}
	}
	if id := string(data[4:8]); id != FileIdentifier {
		return nil, &FormatError{Kind: ErrNotTFLite, Detail: fmt.Sprintf("file identifier is %q, want %q", id, FileIdentifier)}
	}
	// Allow decoding four elements (or string bytes, or half a table) per
	// byte of file, plus slack. A well-formed file stays below one per byte,
	// since each element takes at least one byte and each table (with its
	// offset in a vector) at least eight; only tables shared by many
	// references, as in a decompression bomb, go beyond.
	st := &state{left: 4*int64(len(data)) + 1<<16}
	root, err := tableAt(data, uint64(le32(data, 0)), st)
	if err != nil {
		return nil, within(err, "model table")
	}
	m, err := decodeModel(root, st)
	if err != nil {
		return nil, err
	}
	m.raw = data
	if m.zip, err = trailingZip(data, st.end); err != nil {
		return nil, err
	}
	if err := m.check(); err != nil {
		return nil, err
	}
	return m, nil
}

// reader reads the fields of one table, keeping the first error: once err is
// set, every read returns its zero value.
type reader struct {
	t   Table
	st  *state
	err error
}

func (r *reader) scalar(field, n int, name string) (int, bool) {
	if r.err != nil {
		return 0, false
	}
	p, ok, err := r.t.scalar(field, n, name)
	r.err = err
	return p, ok
}

func (r *reader) u8(field int, name string) uint8 {
	p, ok := r.scalar(field, 1, name)
	if !ok {
		return 0
	}
	return r.t.buf[p]
}

func (r *reader) i8(field int, name string) int8 { return int8(r.u8(field, name)) }

func (r *reader) boolean(field int, name string) bool { return r.u8(field, name) != 0 }

func (r *reader) u32(field int, name string, def uint32) uint32 {
	p, ok := r.scalar(field, 4, name)
	if !ok {
		return def
	}
	return le32(r.t.buf, p)
}

func (r *reader) i32(field int, name string, def int32) int32 {
	return int32(r.u32(field, name, uint32(def)))
}

func (r *reader) u64(field int, name string) uint64 {
	p, ok := r.scalar(field, 8, name)
	if !ok {
		return 0
	}
	return le64(r.t.buf, p)
}

func (r *reader) str(field int, name string) string {
	if r.err != nil {
		return ""
	}
	s, err := r.t.str(field, name, r.st)
	r.err = err
	return s
}

func (r *reader) bytes(field int, name string) []byte {
	if r.err != nil {
		return nil
	}
	v, err := r.t.bytes(field, name, false, r.st)
	r.err = err
	return v
}

func (r *reader) int32s(field int, name string) []int32 {
	if r.err != nil {
		return nil
	}
	v, err := r.t.int32s(field, name, r.st)
	r.err = err
	return v
}

func (r *reader) int64s(field int, name string) []int64 {
	if r.err != nil {
		return nil
	}
	v, err := r.t.int64s(field, name, r.st)
	r.err = err
	return v
}

func (r *reader) float32s(field int, name string) []float32 {
	if r.err != nil {
		return nil
	}
	v, err := r.t.float32s(field, name, r.st)
	r.err = err
	return v
}

func (r *reader) uint16s(field int, name string) []uint16 {
	if r.err != nil {
		return nil
	}
	v, err := r.t.uint16s(field, name, r.st)
	r.err = err
	return v
}

// table reads an optional nested table; the zero Table if absent.
func (r *reader) table(field int, name string) Table {
	if r.err != nil {
		return Table{}
	}
	t, err := r.t.table(field, name, r.st)
	r.err = err
	return t
}

// tables reads a vector of tables; errors in element i are reported at
// "<elem> <i>", e.g. "tensor 12".
func (r *reader) tables(field int, name, elem string) []Table {
	if r.err != nil {
		return nil
	}
	start, n, ok, err := r.t.vector(field, 4, name, r.st)
	if !ok {
		r.err = err
		return nil
	}
	if err := r.st.charge(8*n, name); err != nil {
		r.err = err
		return nil
	}
	out := make([]Table, n)
	for i := range out {
		t, err := tableElem(r.t.buf, start, i, r.st)
		if err != nil {
			r.err = within(err, "%s %d", elem, i)
			return nil
		}
		out[i] = t
	}
	return out
}

// external returns the size bytes at offset, for data stored outside the
// flatbuffer; offsets 0 and 1 mean "none".
func external(buf []byte, offset, size uint64, name string, st *state) ([]byte, error) {
	if offset <= 1 {
		return nil, nil
	}
	if !fits(buf, offset, size) {
		return nil, truncErr(name, "(offset %d, size %d) extends past end of file (size %d)", offset, size, len(buf))
	}
	st.extend(offset + size)
	return buf[offset : offset+size : offset+size], nil
}

// trailingZip returns the ZIP archive of associated files (labels, vocabulary
// files, ...) that the TFLite metadata writer appends after the flatbuffer,
// which ends at end; nil if there is none. An archive without its end of
// central directory record, as left by cutting the file short, is an error.
func trailingZip(data []byte, end uint64) ([]byte, error) {
	if end >= uint64(len(data)) {
		return nil, nil
	}
	tail := data[end:]
	// The archive follows the flatbuffer, possibly after alignment padding.
	i := bytes.Index(tail[:min(len(tail), 64)], []byte("PK\x03\x04"))
	if i < 0 {
		return nil, nil // unknown trailing data: ignored, as TFLite does
	}
	z := tail[i:]
	const eocdLen = 22 // end of central directory record without comment
	for p := len(z) - eocdLen; p >= 0 && p >= len(z)-eocdLen-0xffff; p-- {
		if string(z[p:p+4]) == "PK\x05\x06" && p+eocdLen+int(le16(z, p+20)) == len(z) {
			return z[:len(z):len(z)], nil
		}
	}
	return nil, truncErr("associated files", "(ZIP archive of %d bytes at offset %d) lack the end of central directory record", len(z), end+uint64(i))
}

// Field ids of the schema tables.
const (
	modelVersion       = 0
	modelOperatorCodes = 1
	modelSubgraphs     = 2
	modelDescription   = 3
	modelBuffers       = 4
	modelMetadata      = 6
	modelSignatureDefs = 7

	opcodeDeprecatedBuiltin = 0
	opcodeCustom            = 1
	opcodeVersion           = 2
	opcodeBuiltin           = 3

	subgraphTensors   = 0
	subgraphInputs    = 1
	subgraphOutputs   = 2
	subgraphOperators = 3
	subgraphName      = 4

	tensorShape          = 0
	tensorType           = 1
	tensorBuffer         = 2
	tensorName           = 3
	tensorQuantization   = 4
	tensorIsVariable     = 5
	tensorSparsity       = 6
	tensorShapeSignature = 7
	tensorHasRank        = 8

	quantMin         = 0
	quantMax         = 1
	quantScale       = 2
	quantZeroPoint   = 3
	quantDetailsType = 4
	quantDetails     = 5
	quantDim         = 6

	sparsityTraversalOrder = 0
	sparsityBlockMap       = 1
	sparsityDimMetadata    = 2

	dimFormat            = 0
	dimDenseSize         = 1
	dimArraySegmentsType = 2
	dimArraySegments     = 3
	dimArrayIndicesType  = 4
	dimArrayIndices      = 5

	opOpcodeIndex         = 0
	opInputs              = 1
	opOutputs             = 2
	opBuiltinOptionsType  = 3
	opBuiltinOptions      = 4
	opCustomOptions       = 5
	opCustomOptionsFormat = 6
	opMutatingVariables   = 7
	opIntermediates       = 8
	opLargeCustomOffset   = 9
	opLargeCustomSize     = 10
	opBuiltinOptions2Type = 11
	opBuiltinOptions2     = 12

	bufferData   = 0
	bufferOffset = 1
	bufferSize   = 2

	metadataName   = 0
	metadataBuffer = 1

	sigInputs        = 0
	sigOutputs       = 1
	sigKey           = 2
	sigSubgraphIndex = 4

	tensorMapName  = 0
	tensorMapIndex = 1
)

func decodeModel(t Table, st *state) (*Model, error) {
	r := reader{t: t, st: st}
	m := &Model{Version: r.u32(modelVersion, "version", 0)}
	if r.err == nil && m.Version != SchemaVersion {
		return nil, invalidErr("", "schema version is %d, want %d", m.Version, SchemaVersion)
	}
	opcodes := r.tables(modelOperatorCodes, "operator_codes", "operator code")
	subgraphs := r.tables(modelSubgraphs, "subgraphs", "subgraph")
	m.Description = r.str(modelDescription, "description")
	buffers := r.tables(modelBuffers, "buffers", "buffer")
	metadata := r.tables(modelMetadata, "metadata", "metadata")
	sigs := r.tables(modelSignatureDefs, "signature_defs", "signature")
	if r.err != nil {
		return nil, r.err
	}

	m.OperatorCodes = make([]OperatorCode, len(opcodes))
	for i, ot := range opcodes {
		r := reader{t: ot, st: st}
		c := &m.OperatorCodes[i]
		c.Builtin = BuiltinOp(max(int32(r.i8(opcodeDeprecatedBuiltin, "deprecated_builtin_code")), r.i32(opcodeBuiltin, "builtin_code", 0)))
		c.Custom = r.str(opcodeCustom, "custom_code")
		c.Version = r.i32(opcodeVersion, "version", 1)
		if r.err != nil {
			return nil, within(r.err, "operator code %d", i)
		}
	}

	m.Buffers = make([]Buffer, len(buffers))
	for i, bt := range buffers {
		r := reader{t: bt, st: st}
		buf := &m.Buffers[i]
		buf.Data = r.bytes(bufferData, "data")
		buf.Offset = r.u64(bufferOffset, "offset")
		buf.Size = r.u64(bufferSize, "size")
		if r.err == nil {
			_, r.err = external(t.buf, buf.Offset, buf.Size, "data", st)
		}
		if r.err != nil {
			return nil, within(r.err, "buffer %d", i)
		}
		if len(buf.Data) == 0 {
			buf.Data = nil
		}
	}

	m.Subgraphs = make([]Subgraph, len(subgraphs))
	for i, sgt := range subgraphs {
		if err := decodeSubgraph(&m.Subgraphs[i], sgt, st); err != nil {
			return nil, within(err, "subgraph %d", i)
		}
	}

	m.Metadata = make([]Metadata, len(metadata))
	for i, mt := range metadata {
		r := reader{t: mt, st: st}
		m.Metadata[i] = Metadata{Name: r.str(metadataName, "name"), Buffer: r.u32(metadataBuffer, "buffer", 0)}
		if r.err != nil {
			return nil, within(r.err, "metadata %d", i)
		}
	}

	if len(sigs) > 0 {
		m.SignatureDefs = make([]SignatureDef, len(sigs))
	}
	for i, sigt := range sigs {
		r := reader{t: sigt, st: st}
		s := &m.SignatureDefs[i]
		in := r.tables(sigInputs, "inputs", "input")
		out := r.tables(sigOutputs, "outputs", "output")
		s.Key = r.str(sigKey, "signature_key")
		s.SubgraphIndex = r.u32(sigSubgraphIndex, "subgraph_index", 0)
		if r.err == nil {
			s.Inputs, r.err = decodeTensorMaps(in, st, "input")
		}
		if r.err == nil {
			s.Outputs, r.err = decodeTensorMaps(out, st, "output")
		}
		if r.err != nil {
			return nil, within(r.err, "signature %d", i)
		}
	}
	return m, nil
}

func decodeTensorMaps(ts []Table, st *state, elem string) ([]TensorMap, error) {
	if ts == nil {
		return nil, nil
	}
	out := make([]TensorMap, len(ts))
	for i, t := range ts {
		r := reader{t: t, st: st}
		out[i] = TensorMap{Name: r.str(tensorMapName, "name"), TensorIndex: r.u32(tensorMapIndex, "tensor_index", 0)}
		if r.err != nil {
			return nil, within(r.err, "%s %d", elem, i)
		}
	}
	return out, nil
}

func decodeSubgraph(sg *Subgraph, t Table, st *state) error {
	r := reader{t: t, st: st}
	tensors := r.tables(subgraphTensors, "tensors", "tensor")
	sg.Inputs = r.int32s(subgraphInputs, "inputs")
	sg.Outputs = r.int32s(subgraphOutputs, "outputs")
	ops := r.tables(subgraphOperators, "operators", "operator")
	sg.Name = r.str(subgraphName, "name")
	if r.err != nil {
		return r.err
	}
	sg.Tensors = make([]Tensor, len(tensors))
	for i, tt := range tensors {
		if err := decodeTensor(&sg.Tensors[i], tt, st); err != nil {
			return within(err, "tensor %d", i)
		}
	}
	sg.Operators = make([]Operator, len(ops))
	for i, ot := range ops {
		if err := decodeOperator(&sg.Operators[i], ot, st); err != nil {
			return within(err, "operator %d", i)
		}
	}
	return nil
}

func decodeTensor(tn *Tensor, t Table, st *state) error {
	r := reader{t: t, st: st}
	tn.Shape = r.int32s(tensorShape, "shape")
	tn.Type = TensorType(r.i8(tensorType, "type"))
	tn.Buffer = r.u32(tensorBuffer, "buffer", 0)
	tn.Name = r.str(tensorName, "name")
	qt := r.table(tensorQuantization, "quantization")
	tn.IsVariable = r.boolean(tensorIsVariable, "is_variable")
	spt := r.table(tensorSparsity, "sparsity")
	tn.ShapeSignature = r.int32s(tensorShapeSignature, "shape_signature")
	tn.HasRank = r.boolean(tensorHasRank, "has_rank")
	if r.err != nil {
		return r.err
	}
	if !qt.IsZero() {
		q, err := decodeQuantization(qt, st)
		if err != nil {
			return within(err, "quantization")
		}
		tn.Quantization = q
	}
	if !spt.IsZero() {
		s, err := decodeSparsity(spt, st)
		if err != nil {
			return within(err, "sparsity")
		}
		tn.Sparsity = s
	}
	return nil
}

func decodeQuantization(t Table, st *state) (*Quantization, error) {
	r := reader{t: t, st: st}
	q := &Quantization{
		Min:                r.float32s(quantMin, "min"),
		Max:                r.float32s(quantMax, "max"),
		Scale:              r.float32s(quantScale, "scale"),
		ZeroPoint:          r.int64s(quantZeroPoint, "zero_point"),
		QuantizedDimension: r.i32(quantDim, "quantized_dimension", 0),
	}
	if off := t.fieldOffset(quantDim); off != 0 {
		q.QuantizedDimensionAt = t.pos + off
	}
	detailsType := r.u8(quantDetailsType, "details_type")
	details := r.table(quantDetails, "details")
	if detailsType == 1 && !details.IsZero() { // CustomQuantization
		dr := reader{t: details, st: st}
		q.CustomDetails = dr.bytes(0, "custom")
		if dr.err != nil {
			r.err = within(dr.err, "details")
		}
	}
	return q, r.err
}

func decodeSparsity(t Table, st *state) (*Sparsity, error) {
	r := reader{t: t, st: st}
	s := &Sparsity{
		TraversalOrder: r.int32s(sparsityTraversalOrder, "traversal_order"),
		BlockMap:       r.int32s(sparsityBlockMap, "block_map"),
	}
	dims := r.tables(sparsityDimMetadata, "dim_metadata", "dim_metadata")
	if r.err != nil {
		return nil, r.err
	}
	s.DimMetadata = make([]DimensionMetadata, len(dims))
	for i, dt := range dims {
		r := reader{t: dt, st: st}
		d := &s.DimMetadata[i]
		d.Sparse = r.i8(dimFormat, "format") != 0
		d.DenseSize = r.i32(dimDenseSize, "dense_size", 0)
		d.ArraySegments = sparseIndexVector(&r, dimArraySegmentsType, dimArraySegments, "array_segments")
		d.ArrayIndices = sparseIndexVector(&r, dimArrayIndicesType, dimArrayIndices, "array_indices")
		if r.err != nil {
			return nil, within(r.err, "dim_metadata %d", i)
		}
	}
	return s, nil
}

// sparseIndexVector reads a SparseIndexVector union (Int32Vector,
// Uint16Vector or Uint8Vector, each a table with a values vector).
func sparseIndexVector(r *reader, typeField, field int, name string) []int32 {
	typ := r.u8(typeField, name+"_type")
	t := r.table(field, name)
	if r.err != nil || t.IsZero() || typ == 0 {
		return nil
	}
	vr := reader{t: t, st: r.st}
	var out []int32
	switch typ {
	case 1:
		out = vr.int32s(0, "values")
	case 2:
		v := vr.uint16s(0, "values")
		out = make([]int32, len(v))
		for i, x := range v {
			out[i] = int32(x)
		}
	case 3:
		v := vr.bytes(0, "values")
		if vr.err == nil {
			vr.err = r.st.charge(len(v), "values")
		}
		out = make([]int32, len(v))
		for i, x := range v {
			out[i] = int32(x)
		}
	default:
		r.err = invalidErr(name, "has unknown SparseIndexVector type %d", typ)
		return nil
	}
	if vr.err != nil {
		r.err = within(vr.err, "%s", name)
		return nil
	}
	return out
}

func decodeOperator(op *Operator, t Table, st *state) error {
	r := reader{t: t, st: st}
	op.OpcodeIndex = r.u32(opOpcodeIndex, "opcode_index", 0)
	op.Inputs = r.int32s(opInputs, "inputs")
	op.Outputs = r.int32s(opOutputs, "outputs")
	op.BuiltinOptionsType = r.u8(opBuiltinOptionsType, "builtin_options_type")
	op.BuiltinOptions = r.table(opBuiltinOptions, "builtin_options")
	op.CustomOptions = r.bytes(opCustomOptions, "custom_options")
	op.CustomOptionsFormat = r.i8(opCustomOptionsFormat, "custom_options_format")
	mut := r.bytes(opMutatingVariables, "mutating_variable_inputs")
	op.Intermediates = r.int32s(opIntermediates, "intermediates")
	largeOff := r.u64(opLargeCustomOffset, "large_custom_options_offset")
	largeSize := r.u64(opLargeCustomSize, "large_custom_options_size")
	op.BuiltinOptions2Type = r.u8(opBuiltinOptions2Type, "builtin_options_2_type")
	op.BuiltinOptions2 = r.table(opBuiltinOptions2, "builtin_options_2")
	if r.err != nil {
		return r.err
	}
	if len(op.CustomOptions) == 0 {
		op.CustomOptions = nil
		ext, err := external(t.buf, largeOff, largeSize, "large custom options", st)
		if err != nil {
			return err
		}
		op.CustomOptions = ext
	}
	if len(mut) > 0 {
		if err := st.charge(len(mut), "mutating_variable_inputs"); err != nil {
			return err
		}
		op.MutatingVariableInputs = make([]bool, len(mut))
		for i, v := range mut {
			op.MutatingVariableInputs[i] = v != 0
		}
	}
	return nil
}

// check verifies the indexes that link the parts of the model.
func (m *Model) check() error {
	if len(m.Subgraphs) == 0 {
		return invalidErr("", "model has no subgraphs")
	}
	nbuf := uint64(len(m.Buffers))
	for si := range m.Subgraphs {
		sg := &m.Subgraphs[si]
		nt := len(sg.Tensors)
		tensorIndexes := func(where, kind string, idx []int32) error {
			for i, ti := range idx {
				// -1 marks an omitted optional tensor, as in TFLite.
				if ti < -1 || int(ti) >= nt {
					return invalidErr(fmt.Sprintf("%s %s %d", where, kind, i), "is tensor %d, out of range (subgraph has %d tensors)", ti, nt)
				}
			}
			return nil
		}
		where := fmt.Sprintf("subgraph %d", si)
		if err := tensorIndexes(where, "input", sg.Inputs); err != nil {
			return err
		}
		if err := tensorIndexes(where, "output", sg.Outputs); err != nil {
			return err
		}
		for ti := range sg.Tensors {
			if bi := sg.Tensors[ti].Buffer; uint64(bi) >= nbuf && !(bi == 0 && nbuf == 0) {
				return invalidErr(fmt.Sprintf("subgraph %d tensor %d", si, ti), "buffer index %d out of range (model has %d buffers)", bi, nbuf)
			}
		}
		for oi := range sg.Operators {
			op := &sg.Operators[oi]
			if uint64(op.OpcodeIndex) >= uint64(len(m.OperatorCodes)) {
				return invalidErr(fmt.Sprintf("subgraph %d operator %d", si, oi), "opcode index %d out of range (model has %d operator codes)", op.OpcodeIndex, len(m.OperatorCodes))
			}
			for _, l := range []struct {
				kind string
				idx  []int32
			}{{"input", op.Inputs}, {"output", op.Outputs}, {"intermediate", op.Intermediates}} {
				if err := tensorIndexes(fmt.Sprintf("subgraph %d operator %d", si, oi), l.kind, l.idx); err != nil {
					return err
				}
			}
		}
	}
	return nil
}
