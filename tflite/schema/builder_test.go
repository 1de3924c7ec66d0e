package schema_test

// A minimal flatbuffer writer for tests: it lays objects out front to back
// (each table's vtable just before it, children after their parents), which
// is all the reader needs. Tables are written as T values, maps from field id
// to a value whose Go type selects the flatbuffer type.

import (
	"encoding/binary"
	"math"
	"sort"
)

// T is a table: field id -> value. Scalars: bool, int8, uint8, int16,
// uint16, int32, uint32, int64, uint64, float32. References: string,
// []byte, []int32, []int64, []float32, []uint16, T, []T, or labeled.
type T map[int]any

// labeled wraps a reference value; the builder records the position of the
// object it writes for it under name.
type labeled struct {
	name string
	v    any
}

type fbBuilder struct {
	b   []byte
	pos map[string]int
}

// buildFile writes a flatbuffer file with root table root and file
// identifier "TFL3", returning it and the recorded label positions.
func buildFile(root T) ([]byte, map[string]int) {
	e := &fbBuilder{b: make([]byte, 8), pos: map[string]int{}}
	copy(e.b[4:], "TFL3")
	r := e.table(root)
	binary.LittleEndian.PutUint32(e.b, uint32(r))
	return e.b, e.pos
}

func build(root T) []byte {
	b, _ := buildFile(root)
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
	if l, ok := v.(labeled); ok {
		p := e.object(l.v)
		e.pos[l.name] = p
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

// tinyModel returns a small but complete model: one subgraph computing
// CONV_2D -> GELU -> a custom op, with quantized tensors, constant buffers,
// a per-channel weight tensor, metadata and a signature.
func tinyModel() T {
	quant := func(s float32, zp int64) T {
		return T{2: []float32{s}, 3: []int64{zp}}
	}
	tensor := func(name string, typ int8, shape []int32, buf uint32, q T) T {
		t := T{0: shape, 1: typ, 2: buf, 3: name}
		if q != nil {
			t[4] = q
		}
		return t
	}
	return T{
		0: uint32(3),
		1: []T{
			{0: int8(3), 2: int32(1)},                    // CONV_2D, old style (deprecated_builtin_code only)
			{0: int8(127), 2: int32(1), 3: int32(150)},   // GELU, needs builtin_code
			{0: int8(32), 1: "MyCustomOp", 3: int32(32)}, // custom op
			{0: int8(4), 2: int32(2), 3: int32(4)},       // DEPTHWISE_CONV_2D, unused
		},
		2: []T{{
			0: []T{
				tensor("input", 3, []int32{1, 4, 4, 1}, 0, quant(0.5, 128)),
				tensor("weights", 9, []int32{2, 1, 1, 1}, 1, T{2: []float32{0.1, 0.2}, 3: []int64{0, 0}, 6: int32(0)}),
				tensor("conv", 3, []int32{1, 4, 4, 2}, 0, quant(0.25, 0)),
				tensor("gelu", 3, []int32{1, 4, 4, 2}, 0, quant(0.25, 0)),
				tensor("output", 3, []int32{1, 2}, 0, quant(0.25, 0)),
			},
			1: []int32{0},
			2: []int32{4},
			3: []T{
				{0: uint32(0), 1: []int32{0, 1, -1}, 2: []int32{2}, 3: uint8(1),
					4: T{0: int8(0), 1: int32(2), 2: int32(2), 3: int8(1)}}, // Conv2DOptions: SAME, stride 2x2, RELU
				{0: uint32(1), 1: []int32{2}, 2: []int32{3}},
				{0: uint32(2), 1: []int32{3}, 2: []int32{4}, 5: []byte{0xde, 0xad}},
			},
			4: "main",
		}},
		3: "tiny test model",
		4: []T{
			{},
			{0: []byte{10, 236}},
			{0: []byte("1.14.0\x00\x00")},
		},
		6: []T{{0: "min_runtime_version", 1: uint32(2)}},
		7: []T{{
			0: []T{{0: "x", 1: uint32(0)}},
			1: []T{{0: "y", 1: uint32(4)}},
			2: "serving_default",
			4: uint32(0),
		}},
	}
}
