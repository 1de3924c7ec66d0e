package schema

import (
	"encoding/binary"
	"fmt"
	"math"
)

// Table gives bounds-checked access to the fields of one flatbuffer table of
// a model file, such as an operator's builtin options. Fields are addressed
// by their id in the schema (the n-th field declared in the table, counting
// from 0, union fields taking two ids: the type, then the value).
//
// The zero Table stands for an absent table: every getter then returns its
// default. Getters never panic; when a field is absent, or its data is
// malformed or lies outside the file, scalar getters return def and the
// others return their zero value.
//
// A Table refers to the bytes given to [Parse]; those must not be modified
// while the Table is in use.
type Table struct {
	buf   []byte
	pos   int // offset of the table (its soffset) in buf
	vt    int // offset of its vtable in buf
	vtLen int // size of the vtable in bytes
}

func le16(b []byte, p int) uint16 { return binary.LittleEndian.Uint16(b[p:]) }
func le32(b []byte, p int) uint32 { return binary.LittleEndian.Uint32(b[p:]) }
func le64(b []byte, p int) uint64 { return binary.LittleEndian.Uint64(b[p:]) }

// fits reports whether n bytes starting at pos lie inside buf.
func fits(buf []byte, pos, n uint64) bool {
	size := uint64(len(buf))
	return pos <= size && n <= size-pos
}

// tableAt validates the table header and vtable of the table at pos.
func tableAt(buf []byte, pos uint64, st *state) (Table, error) {
	size := uint64(len(buf))
	if !fits(buf, pos, 4) {
		return Table{}, truncErr("", "points past end of file (offset %d, size %d)", pos, size)
	}
	soff := int64(int32(le32(buf, int(pos))))
	vt := int64(pos) - soff
	if vt < 0 {
		return Table{}, invalidErr("", "has a vtable before the start of the file (table offset %d, vtable offset %d)", pos, vt)
	}
	if !fits(buf, uint64(vt), 4) {
		return Table{}, truncErr("", "vtable points past end of file (offset %d, size %d)", vt, size)
	}
	vtLen := uint64(le16(buf, int(vt)))
	tblLen := uint64(le16(buf, int(vt)+2))
	if vtLen < 4 || vtLen%2 != 0 {
		return Table{}, invalidErr("", "vtable at offset %d has invalid size %d", vt, vtLen)
	}
	if !fits(buf, uint64(vt), vtLen) {
		return Table{}, truncErr("", "vtable (offset %d, %d bytes) extends past end of file (size %d)", vt, vtLen, size)
	}
	if !fits(buf, pos, tblLen) {
		return Table{}, truncErr("", "table (offset %d, %d bytes) extends past end of file (size %d)", pos, tblLen, size)
	}
	st.extend(uint64(vt) + vtLen)
	st.extend(pos + tblLen)
	return Table{buf: buf, pos: int(pos), vt: int(vt), vtLen: int(vtLen)}, nil
}

// IsZero reports whether t is the zero Table, i.e. the table was absent.
func (t Table) IsZero() bool { return t.buf == nil }

// Has reports whether field is present in the table.
func (t Table) Has(field int) bool { return t.fieldOffset(field) != 0 }

// fieldOffset returns the offset of field's data from the table start, 0 if
// the field is absent.
func (t Table) fieldOffset(field int) int {
	if t.buf == nil || field < 0 || field > (math.MaxUint16-6)/2 {
		return 0
	}
	slot := 4 + 2*field
	if slot+2 > t.vtLen {
		return 0
	}
	return int(le16(t.buf, t.vt+slot))
}

func fieldName(name string, field int) string {
	if name != "" {
		return name
	}
	return fmt.Sprintf("field %d", field)
}

// scalar returns the position of the n bytes of field's inline data.
func (t Table) scalar(field, n int, name string) (int, bool, error) {
	off := t.fieldOffset(field)
	if off == 0 {
		return 0, false, nil
	}
	p := uint64(t.pos) + uint64(off)
	if !fits(t.buf, p, uint64(n)) {
		return 0, false, truncErr(fieldName(name, field), "lies past end of file (offset %d, size %d)", p, len(t.buf))
	}
	return int(p), true, nil
}

// ref follows the uoffset stored in field and returns the position it
// points to, checked to have at least 4 bytes after it.
func (t Table) ref(field int, name string) (uint64, bool, error) {
	p, ok, err := t.scalar(field, 4, name)
	if !ok {
		return 0, false, err
	}
	target := uint64(p) + uint64(le32(t.buf, p))
	if !fits(t.buf, target, 4) {
		return 0, false, truncErr(fieldName(name, field), "points past end of file (offset %d, size %d)", target, len(t.buf))
	}
	return target, true, nil
}

// vector returns the position of the first element and the element count of
// the vector in field, checked to lie inside the file.
func (t Table) vector(field int, elemSize uint64, name string, st *state) (start, count int, ok bool, err error) {
	target, ok, err := t.ref(field, name)
	if !ok {
		return 0, 0, false, err
	}
	n := uint64(le32(t.buf, int(target)))
	first := target + 4
	if !fits(t.buf, first, n*elemSize) {
		what := fmt.Sprintf("%d elements of %d bytes", n, elemSize)
		if elemSize == 1 {
			what = fmt.Sprintf("%d bytes", n)
		}
		return 0, 0, false, truncErr(fieldName(name, field), "(%s at offset %d) extends past end of file (size %d)", what, first, len(t.buf))
	}
	st.extend(first + n*elemSize)
	return int(first), int(n), true, nil
}

// bytes returns the [ubyte] vector or string bytes in field, as a sub-slice
// of the file. For strings, it also checks the NUL terminator.
func (t Table) bytes(field int, name string, isString bool, st *state) ([]byte, error) {
	start, n, ok, err := t.vector(field, 1, name, st)
	if !ok {
		return nil, err
	}
	end := start + n
	if isString {
		if end >= len(t.buf) {
			return nil, truncErr(fieldName(name, field), "(string of %d bytes at offset %d) has its NUL terminator past end of file (size %d)", n, start, len(t.buf))
		}
		if t.buf[end] != 0 {
			return nil, invalidErr(fieldName(name, field), "(string of %d bytes at offset %d) is not NUL-terminated", n, start)
		}
		st.extend(uint64(end) + 1)
	}
	return t.buf[start:end:end], nil
}

// table follows field to a nested table.
func (t Table) table(field int, name string, st *state) (Table, error) {
	target, ok, err := t.ref(field, name)
	if !ok {
		return Table{}, err
	}
	sub, err := tableAt(t.buf, target, st)
	if err != nil {
		return Table{}, within(err, "%s", fieldName(name, field))
	}
	return sub, nil
}

// Bool returns the bool in field, or def.
func (t Table) Bool(field int, def bool) bool {
	p, ok, _ := t.scalar(field, 1, "")
	if !ok {
		return def
	}
	return t.buf[p] != 0
}

// Int8 returns the int8 (flatbuffer byte) in field, or def.
func (t Table) Int8(field int, def int8) int8 {
	p, ok, _ := t.scalar(field, 1, "")
	if !ok {
		return def
	}
	return int8(t.buf[p])
}

// Uint8 returns the uint8 (flatbuffer ubyte) in field, or def.
func (t Table) Uint8(field int, def uint8) uint8 {
	p, ok, _ := t.scalar(field, 1, "")
	if !ok {
		return def
	}
	return t.buf[p]
}

// Int16 returns the int16 (flatbuffer short) in field, or def.
func (t Table) Int16(field int, def int16) int16 {
	return int16(t.Uint16(field, uint16(def)))
}

// Uint16 returns the uint16 (flatbuffer ushort) in field, or def.
func (t Table) Uint16(field int, def uint16) uint16 {
	p, ok, _ := t.scalar(field, 2, "")
	if !ok {
		return def
	}
	return le16(t.buf, p)
}

// Int32 returns the int32 (flatbuffer int) in field, or def.
func (t Table) Int32(field int, def int32) int32 {
	return int32(t.Uint32(field, uint32(def)))
}

// Uint32 returns the uint32 (flatbuffer uint) in field, or def.
func (t Table) Uint32(field int, def uint32) uint32 {
	p, ok, _ := t.scalar(field, 4, "")
	if !ok {
		return def
	}
	return le32(t.buf, p)
}

// Int64 returns the int64 (flatbuffer long) in field, or def.
func (t Table) Int64(field int, def int64) int64 {
	return int64(t.Uint64(field, uint64(def)))
}

// Uint64 returns the uint64 (flatbuffer ulong) in field, or def.
func (t Table) Uint64(field int, def uint64) uint64 {
	p, ok, _ := t.scalar(field, 8, "")
	if !ok {
		return def
	}
	return le64(t.buf, p)
}

// Float32 returns the float32 (flatbuffer float) in field, or def.
func (t Table) Float32(field int, def float32) float32 {
	p, ok, _ := t.scalar(field, 4, "")
	if !ok {
		return def
	}
	return math.Float32frombits(le32(t.buf, p))
}

// Float64 returns the float64 (flatbuffer double) in field, or def.
func (t Table) Float64(field int, def float64) float64 {
	p, ok, _ := t.scalar(field, 8, "")
	if !ok {
		return def
	}
	return math.Float64frombits(le64(t.buf, p))
}

// Str returns the string in field, or "".
func (t Table) Str(field int) string {
	b, _ := t.bytes(field, "", true, nil)
	return string(b)
}

// Bytes returns the [ubyte] (or [byte]) vector in field, or nil. The result
// is a sub-slice of the model file, not a copy.
func (t Table) Bytes(field int) []byte {
	b, _ := t.bytes(field, "", false, nil)
	return b
}

// Int32Vector returns a copy of the [int] vector in field, or nil.
func (t Table) Int32Vector(field int) []int32 {
	v, _ := t.int32s(field, "", nil)
	return v
}

// Int64Vector returns a copy of the [long] vector in field, or nil.
func (t Table) Int64Vector(field int) []int64 {
	v, _ := t.int64s(field, "", nil)
	return v
}

// Float32Vector returns a copy of the [float] vector in field, or nil.
func (t Table) Float32Vector(field int) []float32 {
	v, _ := t.float32s(field, "", nil)
	return v
}

// Table returns the table in field, or the zero Table.
func (t Table) Table(field int) Table {
	sub, _ := t.table(field, "", nil)
	return sub
}

// Tables returns the tables of the vector of tables in field, or nil. Tables
// whose data is malformed are returned as zero Tables.
func (t Table) Tables(field int) []Table {
	start, n, ok, _ := t.vector(field, 4, "", nil)
	if !ok {
		return nil
	}
	out := make([]Table, n)
	for i := range out {
		out[i], _ = tableElem(t.buf, start, i, nil)
	}
	return out
}

// tableElem returns element i of the vector of tables starting at start.
// The caller has checked that the element's uoffset lies inside buf.
func tableElem(buf []byte, start, i int, st *state) (Table, error) {
	p := start + 4*i
	return tableAt(buf, uint64(p)+uint64(le32(buf, p)), st)
}

// state is the state of one decode by Parse. A nil *state does nothing.
type state struct {
	// left limits how many elements the decode may still produce, so that
	// a small hostile file whose tables all point at the same large vector
	// cannot make the decoder allocate without bound.
	left int64
	// end is the end of the furthest object read so far.
	end uint64
}

func (st *state) extend(end uint64) {
	if st != nil && end > st.end {
		st.end = end
	}
}

func (st *state) charge(n int, name string) error {
	if st == nil {
		return nil
	}
	st.left -= int64(n)
	if st.left < 0 {
		return invalidErr(name, "decodes to more data than the file can hold (overlapping tables?)")
	}
	return nil
}

func (t Table) int32s(field int, name string, st *state) ([]int32, error) {
	start, n, ok, err := t.vector(field, 4, name, st)
	if !ok {
		return nil, err
	}
	if err := st.charge(n, name); err != nil {
		return nil, err
	}
	out := make([]int32, n)
	for i := range out {
		out[i] = int32(le32(t.buf, start+4*i))
	}
	return out, nil
}

func (t Table) int64s(field int, name string, st *state) ([]int64, error) {
	start, n, ok, err := t.vector(field, 8, name, st)
	if !ok {
		return nil, err
	}
	if err := st.charge(n, name); err != nil {
		return nil, err
	}
	out := make([]int64, n)
	for i := range out {
		out[i] = int64(le64(t.buf, start+8*i))
	}
	return out, nil
}

func (t Table) float32s(field int, name string, st *state) ([]float32, error) {
	start, n, ok, err := t.vector(field, 4, name, st)
	if !ok {
		return nil, err
	}
	if err := st.charge(n, name); err != nil {
		return nil, err
	}
	out := make([]float32, n)
	for i := range out {
		out[i] = math.Float32frombits(le32(t.buf, start+4*i))
	}
	return out, nil
}

func (t Table) uint16s(field int, name string, st *state) ([]uint16, error) {
	start, n, ok, err := t.vector(field, 2, name, st)
	if !ok {
		return nil, err
	}
	if err := st.charge(n, name); err != nil {
		return nil, err
	}
	out := make([]uint16, n)
	for i := range out {
		out[i] = le16(t.buf, start+2*i)
	}
	return out, nil
}

func (t Table) str(field int, name string, st *state) (string, error) {
	s, err := t.bytes(field, name, true, st)
	if err != nil {
		return "", err
	}
	if err := st.charge(len(s), name); err != nil {
		return "", err
	}
	return string(s), nil
}

// Root returns the root table of a flatbuffer other than a model — such as
// the TFLITE_METADATA buffer (schema metadata_schema.fbs) — so that its
// fields can be read with the bounds-checked getters.
func Root(buf []byte) (Table, error) {
	if len(buf) < 8 {
		return Table{}, truncErr("", "flatbuffer of %d bytes has no root table", len(buf))
	}
	return tableAt(buf, uint64(le32(buf, 0)), nil)
}
