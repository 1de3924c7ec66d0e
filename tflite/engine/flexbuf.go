package engine

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// A reader for the one FlexBuffer layout TFLite custom operators use for
// their options: a map from keys to scalars. See
// https://google.github.io/flatbuffers/flexbuffers.html for the format.

// FlexBuffer value types used here.
const (
	fbNull         = 0
	fbInt          = 1
	fbUint         = 2
	fbFloat        = 3
	fbKey          = 4
	fbString       = 5
	fbIndirectInt  = 6
	fbIndirectUint = 7
	fbIndirectFlt  = 8
	fbMap          = 9
	fbBool         = 26
)

var errFlex = errors.New("malformed FlexBuffer")

// flexMap is a decoded FlexBuffer map of scalars.
type flexMap map[string]flexValue

// flexValue is a scalar: a number (ints as well as floats) or a bool.
type flexValue struct {
	typ int
	i   int64
	f   float64
}

func (v flexValue) int() int64 {
	if v.typ == fbFloat || v.typ == fbIndirectFlt {
		return int64(v.f)
	}
	return v.i
}

func (v flexValue) float() float64 {
	if v.typ == fbFloat || v.typ == fbIndirectFlt {
		return v.f
	}
	return float64(v.i)
}

// readUint reads an unsigned little-endian integer of width w at p.
func readUint(b []byte, p, w int) (uint64, error) {
	if p < 0 || w <= 0 || p+w > len(b) {
		return 0, fmt.Errorf("%w: %d bytes at offset %d past the end (%d bytes)", errFlex, w, p, len(b))
	}
	switch w {
	case 1:
		return uint64(b[p]), nil
	case 2:
		return uint64(binary.LittleEndian.Uint16(b[p:])), nil
	case 4:
		return uint64(binary.LittleEndian.Uint32(b[p:])), nil
	case 8:
		return binary.LittleEndian.Uint64(b[p:]), nil
	}
	return 0, fmt.Errorf("%w: width %d", errFlex, w)
}

func readInt(b []byte, p, w int) (int64, error) {
	u, err := readUint(b, p, w)
	if err != nil {
		return 0, err
	}
	shift := 64 - 8*uint(w)
	return int64(u<<shift) >> shift, nil
}

func readFloat(b []byte, p, w int) (float64, error) {
	u, err := readUint(b, p, w)
	if err != nil {
		return 0, err
	}
	switch w {
	case 4:
		return float64(math.Float32frombits(uint32(u))), nil
	case 8:
		return math.Float64frombits(u), nil
	}
	return 0, fmt.Errorf("%w: float of width %d", errFlex, w)
}

// indirect follows the offset stored at p (width w) backwards.
func indirect(b []byte, p, w int) (int, error) {
	off, err := readUint(b, p, w)
	if err != nil {
		return 0, err
	}
	if off > uint64(p) {
		return 0, fmt.Errorf("%w: offset %d at %d points before the start", errFlex, off, p)
	}
	return p - int(off), nil
}

// parseFlexMap decodes a FlexBuffer whose root is a map of scalars; values
// of other types (strings, vectors, nested maps) are skipped.
func parseFlexMap(b []byte) (flexMap, error) {
	if len(b) < 3 {
		return nil, fmt.Errorf("%w: %d bytes", errFlex, len(b))
	}
	rootWidth := int(b[len(b)-1])
	packed := b[len(b)-2]
	if packed>>2 != fbMap {
		return nil, fmt.Errorf("%w: root is type %d, want a map", errFlex, packed>>2)
	}
	rootPos := len(b) - 2 - rootWidth
	mapPos, err := indirect(b, rootPos, rootWidth)
	if err != nil {
		return nil, err
	}
	w := 1 << (packed & 3) // width of the map's elements
	size, err := readUint(b, mapPos-w, w)
	if err != nil {
		return nil, err
	}
	if size > uint64(len(b)) {
		return nil, fmt.Errorf("%w: map of %d elements in %d bytes", errFlex, size, len(b))
	}
	keysPos, err := indirect(b, mapPos-3*w, w)
	if err != nil {
		return nil, err
	}
	kw, err := readUint(b, mapPos-2*w, w)
	if err != nil {
		return nil, err
	}
	n := int(size)
	typesPos := mapPos + n*w
	if typesPos+n > len(b) {
		return nil, fmt.Errorf("%w: map types past the end", errFlex)
	}
	m := flexMap{}
	for i := 0; i < n; i++ {
		kp, err := indirect(b, keysPos+i*int(kw), int(kw))
		if err != nil {
			return nil, err
		}
		end := kp
		for end < len(b) && b[end] != 0 {
			end++
		}
		if end >= len(b) {
			return nil, fmt.Errorf("%w: key %d is not NUL-terminated", errFlex, i)
		}
		key := string(b[kp:end])
		t := b[typesPos+i]
		typ, cw := int(t>>2), 1<<(t&3)
		vp := mapPos + i*w
		v := flexValue{typ: typ}
		switch typ {
		case fbInt:
			v.i, err = readInt(b, vp, w)
		case fbUint, fbBool:
			var u uint64
			u, err = readUint(b, vp, w)
			v.i = int64(u)
		case fbFloat:
			v.f, err = readFloat(b, vp, w)
		case fbIndirectInt, fbIndirectUint, fbIndirectFlt:
			var p int
			if p, err = indirect(b, vp, w); err == nil {
				switch typ {
				case fbIndirectInt:
					v.i, err = readInt(b, p, cw)
				case fbIndirectUint:
					var u uint64
					u, err = readUint(b, p, cw)
					v.i = int64(u)
				default:
					v.f, err = readFloat(b, p, cw)
				}
			}
		default:
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("key %q: %w", key, err)
		}
		m[key] = v
	}
	return m, nil
}
