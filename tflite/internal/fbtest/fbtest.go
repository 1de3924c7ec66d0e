// Package fbtest is a minimal flatbuffer writer for the tests of tflite's
// readers and engines: it lays objects out front to back
// (each table's vtable just before it, children after their parents), which
// is all the reader needs. Tables are written as T values, maps from field id
// to a value whose Go type selects the flatbuffer type.
package fbtest

import (
	"encoding/binary"
	"math"
	"sort"
)

// T is a table: field id -> value. Scalars: bool, int8, uint8, int16,
// uint16, int32, uint32, int64, uint64, float32. References: string,
// []byte, []int32, []int64, []float32, []uint16, T, []T, or Labeled.
type T map[int]any

// Labeled wraps a reference value; the builder records the position of the
// object it writes for it under Name.
type Labeled struct {
	Name string
	V    any
}

type fbBuilder struct {
	b   []byte
	pos map[string]int
}

// BuildFile writes a flatbuffer file with root table root and file
// identifier "TFL3", returning it and the recorded label positions.
func BuildFile(root T) ([]byte, map[string]int) {
	e := &fbBuilder{b: make([]byte, 8), pos: map[string]int{}}
	copy(e.b[4:], "TFL3")
	r := e.table(root)
	binary.LittleEndian.PutUint32(e.b, uint32(r))
	return e.b, e.pos
}

// Build is BuildFile without the label positions.
func Build(root T) []byte {
	b, _ := BuildFile(root)
	return b
}

func (e *fbBuilder) align(n int) {
	for len(e.b)%n != 0 {
		e.b = append(e.b, 0)
	}
}

func (e *fbBuilder) u16(v uint16) { e.b = binary.LittleEndian.AppendUint16(e.b, v) }
func (e *fbBuilder) u32(v uint32) { e.b = binary.LittleEndian.AppendUint32(e.b, v) }

func scalarBytes(v any) ([]byte, bool) {
	le := binary.LittleEndian
	switch x := v.(type) {
	case bool:
		if x {
			return []byte{1}, true
		}
		return []byte{0}, true
	case int8:
		return []byte{byte(x)}, true
	case uint8:
		return []byte{x}, true
	case int16:
		return le.AppendUint16(nil, uint16(x)), true
	case uint16:
		return le.AppendUint16(nil, x), true
	case int32:
		return le.AppendUint32(nil, uint32(x)), true
	case uint32:
		return le.AppendUint32(nil, x), true
	case float32:
		return le.AppendUint32(nil, math.Float32bits(x)), true
	case int64:
		return le.AppendUint64(nil, uint64(x)), true
	case uint64:
		return le.AppendUint64(nil, x), true
	}
	return nil, false
}

func (e *fbBuilder) table(t T) int {
	ids := make([]int, 0, len(t))
	maxID := -1
	for id := range t {
		ids = append(ids, id)
		maxID = max(maxID, id)
	}
	sort.Ints(ids)
	// Inline layout, relative to the table start (aligned to 8).
	offs := map[int]int{}
	size := 4
	for _, id := range ids {
		n := 4
		if sb, ok := scalarBytes(t[id]); ok {
			n = len(sb)
		}
		for size%n != 0 {
			size++
		}
		offs[id] = size
		size += n
	}
	vtLen := 4 + 2*(maxID+1)
	// Place the vtable so that the table right after it is 8-aligned.
	for (len(e.b)+vtLen)%8 != 0 {
		e.b = append(e.b, 0)
	}
	vt := len(e.b)
	e.u16(uint16(vtLen))
	e.u16(uint16(size))
	for id := 0; id <= maxID; id++ {
		e.u16(uint16(offs[id])) // 0 when absent
	}
	pos := len(e.b)
	e.u32(uint32(int32(pos - vt)))
	e.b = append(e.b, make([]byte, size-4)...)
	type patch struct {
		at int
		v  any
	}
	var refs []patch
	for _, id := range ids {
		at := pos + offs[id]
		if sb, ok := scalarBytes(t[id]); ok {
			copy(e.b[at:], sb)
		} else {
			refs = append(refs, patch{at, t[id]})
		}
	}
	for _, r := range refs {
		child := e.object(r.v)
		binary.LittleEndian.PutUint32(e.b[r.at:], uint32(child-r.at))
	}
	return pos
}

// object writes a referenced object and returns its position.
func (e *fbBuilder) object(v any) int {
	if l, ok := v.(Labeled); ok {
		p := e.object(l.V)
		e.pos[l.Name] = p
		return p
	}
	if t, ok := v.(T); ok {
		return e.table(t)
	}
	e.align(4)
	pos := len(e.b)
	switch x := v.(type) {
	case string:
		e.u32(uint32(len(x)))
		e.b = append(e.b, x...)
		e.b = append(e.b, 0)
	case []byte:
		e.u32(uint32(len(x)))
		e.b = append(e.b, x...)
	case []int32:
		e.u32(uint32(len(x)))
		for _, y := range x {
			e.u32(uint32(y))
		}
	case []uint16:
		e.u32(uint32(len(x)))
		for _, y := range x {
			e.u16(y)
		}
	case []float32:
		e.u32(uint32(len(x)))
		for _, y := range x {
			e.u32(math.Float32bits(y))
		}
	case []int64:
		e.u32(uint32(len(x)))
		for _, y := range x {
			e.b = binary.LittleEndian.AppendUint64(e.b, uint64(y))
		}
	case []T:
		e.u32(uint32(len(x)))
		slots := len(e.b)
		e.b = append(e.b, make([]byte, 4*len(x))...)
		for i, t := range x {
			at := slots + 4*i
			child := e.table(t)
			binary.LittleEndian.PutUint32(e.b[at:], uint32(child-at))
		}
	default:
		panic("builder: unsupported value type")
	}
	return pos
}
