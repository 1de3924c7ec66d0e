package engine

import (
	"encoding/binary"
	"errors"
	"math"
	"sort"
	"testing"
)

// flexKV is one entry of a FlexBuffer map written by flexMapBytes: an int,
// a float32 or a bool.
type flexKV struct {
	key string
	val any
}

// flexMapBytes writes a FlexBuffer map of scalars, all 4 bytes wide, as
// TFLite's converter writes custom options.
func flexMapBytes(kvs []flexKV) []byte {
	kvs = append([]flexKV(nil), kvs...)
	sort.Slice(kvs, func(i, j int) bool { return kvs[i].key < kvs[j].key })
	le := binary.LittleEndian
	var b []byte
	keyPos := make([]int, len(kvs))
	for i, kv := range kvs {
		keyPos[i] = len(b)
		b = append(b, kv.key...)
		b = append(b, 0)
	}
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	b = le.AppendUint32(b, uint32(len(kvs)))
	keys := len(b)
	for i := range kvs {
		b = le.AppendUint32(b, uint32(keys+4*i-keyPos[i]))
	}
	hdr := len(b)
	b = le.AppendUint32(b, uint32(hdr-keys))
	b = le.AppendUint32(b, 4)
	b = le.AppendUint32(b, uint32(len(kvs)))
	values := len(b)
	var types []byte
	for _, kv := range kvs {
		switch v := kv.val.(type) {
		case int:
			b = le.AppendUint32(b, uint32(int32(v)))
			types = append(types, fbInt<<2|2)
		case float32:
			b = le.AppendUint32(b, math.Float32bits(v))
			types = append(types, fbFloat<<2|2)
		case bool:
			x := uint32(0)
			if v {
				x = 1
			}
			b = le.AppendUint32(b, x)
			types = append(types, fbBool<<2|2)
		default:
			panic("flexMapBytes: unsupported value")
		}
	}
	b = append(b, types...)
	root := len(b)
	b = le.AppendUint32(b, uint32(root-values))
	return append(b, fbMap<<2|2, 4)
}

func TestFlexMap(t *testing.T) {
	b := flexMapBytes([]flexKV{
		{"max_detections", 10}, {"nms_iou_threshold", float32(0.6)}, {"use_regular_nms", true}, {"y_scale", float32(10)}, {"neg", -3},
	})
	m, err := parseFlexMap(b)
	if err != nil {
		t.Fatal(err)
	}
	if got := m["max_detections"].int(); got != 10 {
		t.Errorf("max_detections = %d", got)
	}
	if got := m["neg"].int(); got != -3 {
		t.Errorf("neg = %d", got)
	}
	if got := float32(m["nms_iou_threshold"].float()); got != 0.6 {
		t.Errorf("nms_iou_threshold = %g", got)
	}
	if got := m["use_regular_nms"].int(); got != 1 {
		t.Errorf("use_regular_nms = %d", got)
	}
	if got := m["y_scale"].int(); got != 10 {
		t.Errorf("y_scale as int = %d", got)
	}
	// Every truncation of the buffer is refused, never a panic.
	for n := 0; n < len(b); n++ {
		if _, err := parseFlexMap(b[:n]); err == nil {
			// A prefix may parse only if it still ends in a valid root.
			continue
		} else if !errors.Is(err, errFlex) {
			t.Errorf("truncated to %d bytes: error %v does not wrap errFlex", n, err)
		}
	}
}

// FuzzFlexMap checks that no input makes the reader panic.
func FuzzFlexMap(f *testing.F) {
	f.Add(flexMapBytes([]flexKV{{"a", 1}, {"b", float32(2)}}))
	f.Fuzz(func(t *testing.T, b []byte) {
		parseFlexMap(b)
	})
}
