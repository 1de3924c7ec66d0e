package tflite

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/edgeproject/edge/tflite/schema"
)

// Labels names a model's classes, one per line. Lines of the form "12 name"
// (pycoral's format) give the index explicitly.
type Labels struct {
	Path  string
	names map[int]string
	n     int // 1 + highest index
}

var indexedLine = regexp.MustCompile(`^\s*(\d+)[\s:]+(.*\S)\s*$`)

// ReadLabels reads a label file. It must name at least one class.
func ReadLabels(path string) (*Labels, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return parseLabels(path, f)
}

// parseLabels reads labels from r; path names them in errors.
func parseLabels(path string, r io.Reader) (*Labels, error) {
	var lines []string
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		lines = append(lines, strings.TrimRight(sc.Text(), "\r"))
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	for len(lines) > 0 && strings.TrimSpace(lines[len(lines)-1]) == "" {
		lines = lines[:len(lines)-1]
	}
	if len(lines) == 0 {
		return nil, fmt.Errorf("%s: no labels: want one class name per line", path)
	}
	l := &Labels{Path: path, names: make(map[int]string, len(lines))}
	indexed := true
	for _, s := range lines {
		if !indexedLine.MatchString(s) {
			indexed = false
			break
		}
	}
	for i, s := range lines {
		if indexed {
			m := indexedLine.FindStringSubmatch(s)
			id, err := strconv.Atoi(m[1])
			if err != nil || id > 1<<20 {
				return nil, fmt.Errorf("%s:%d: class index %q out of range", path, i+1, m[1])
			}
			if _, dup := l.names[id]; dup {
				return nil, fmt.Errorf("%s:%d: class index %d given twice", path, i+1, id)
			}
			l.names[id] = m[2]
			l.n = max(l.n, id+1)
			continue
		}
		if strings.IndexByte(s, 0) >= 0 || !isText(s) {
			return nil, fmt.Errorf("%s:%d: not a text label file", path, i+1)
		}
		l.names[i] = strings.TrimSpace(s)
		l.n = i + 1
	}
	return l, nil
}

func isText(s string) bool {
	for _, r := range s {
		if r == 0xFFFD || (r < 0x20 && r != '\t') {
			return false
		}
	}
	return true
}

// Len is the number of class slots the file covers.
func (l *Labels) Len() int { return l.n }

// name returns the label at index i, or "" if the file has none there.
func (l *Labels) name(i int) string { return l.names[i] }

// hasBackground reports whether index 0 is a placeholder class.
func (l *Labels) hasBackground() bool {
	switch strings.ToLower(l.names[0]) {
	case "background", "???", "__background__", "n/a":
		return true
	}
	return false
}

// Class is one classification result.
type Class struct {
	Index int     `json:"index"` // index in the model's output
	Label string  `json:"label,omitempty"`
	Score float32 `json:"score"` // dequantized output (a probability for softmax outputs)
}

// Classify returns the k best classes of output 0 after Invoke, best first.
// labels may be nil. A label file must have one line per output class, or
// one fewer when the model has a background class 0 the file leaves out.
func (it *Interpreter) Classify(k int, labels *Labels) ([]Class, error) {
	if len(it.outputs) == 0 {
		return nil, fmt.Errorf("%s: model has no output", it.path)
	}
	out := it.outputs[0]
	n := out.Elements()
	if n <= 0 {
		return nil, fmt.Errorf("%s: output 0 is %s, want class scores", it.path, out)
	}
	offset := 0
	if labels != nil {
		switch labels.Len() {
		case n:
		case n - 1:
			offset = 1
		default:
			return nil, fmt.Errorf("%s: %d labels for a model with %d classes (%s): want %d, or %d without the background class", labels.Path, labels.Len(), n, it.path, n, n-1)
		}
	}
	data, err := it.OutputBytes(0)
	if err != nil {
		return nil, err
	}
	scores := make([]float32, n)
	switch out.Type {
	case schema.TypeUint8:
		for i := range scores {
			scores[i] = out.Dequantize(int32(data[i]))
		}
	case schema.TypeInt8:
		for i := range scores {
			scores[i] = out.Dequantize(int32(int8(data[i])))
		}
	case schema.TypeFloat32:
		for i := range scores {
			scores[i] = math.Float32frombits(binary.LittleEndian.Uint32(data[i*4:]))
		}
	default:
		return nil, fmt.Errorf("%s: output 0 is %s; classification reads uint8, int8 or float32", it.path, out)
	}
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return scores[idx[a]] > scores[idx[b]] })
	k = min(max(k, 1), n)
	res := make([]Class, k)
	for i := range res {
		c := Class{Index: idx[i], Score: scores[idx[i]]}
		if labels != nil {
			if c.Index-offset < 0 {
				c.Label = "background"
			} else {
				c.Label = labels.name(c.Index - offset)
			}
		}
		res[i] = c
	}
	return res, nil
}

// Box is a rectangle in normalized image coordinates, 0..1.
type Box struct {
	XMin float32 `json:"xmin"`
	YMin float32 `json:"ymin"`
	XMax float32 `json:"xmax"`
	YMax float32 `json:"ymax"`
}

// Detection is one object found by an SSD model.
type Detection struct {
	Class int     `json:"class"` // class id as the model gives it (0-based, COCO: 0 = person)
	Label string  `json:"label,omitempty"`
	Score float32 `json:"score"`
	Box   Box     `json:"box"`
}

// Detect decodes the outputs of TFLite_Detection_PostProcess after Invoke
// (boxes [1 N 4] as ymin, xmin, ymax, xmax; classes [1 N]; scores [1 N];
// count [1]) and returns detections with score ≥ minScore, best first.
// place maps the boxes back through a crop or letterbox (the zero value
// means none). A label file whose first line is "???" or "background"
// is indexed from 1.
func (it *Interpreter) Detect(minScore float32, labels *Labels, place Placement) ([]Detection, error) {
	if len(it.outputs) < 4 {
		return nil, fmt.Errorf("%s: %d outputs; an SSD model (%s) has 4: boxes, classes, scores, count", it.path, len(it.outputs), ssdCustomOp)
	}
	it.refreshOutputs()
	for i, o := range it.outputs[:4] {
		if o.Type != schema.TypeFloat32 {
			return nil, fmt.Errorf("%s: output %d is %s, want float32 from %s", it.path, i, o, ssdCustomOp)
		}
	}
	f := func(i int) ([]float32, error) {
		b, err := it.OutputBytes(i)
		if err != nil {
			return nil, err
		}
		v := make([]float32, len(b)/4)
		for j := range v {
			v[j] = math.Float32frombits(binary.LittleEndian.Uint32(b[j*4:]))
		}
		return v, nil
	}
	boxes, err := f(0)
	if err != nil {
		return nil, err
	}
	classes, _ := f(1)
	scores, _ := f(2)
	count, _ := f(3)
	if len(count) != 1 {
		return nil, fmt.Errorf("%s: output 3 is %s, want the detection count [1]", it.path, it.outputs[3])
	}
	n := int(count[0])
	if n < 0 || n > len(scores) || n > len(classes) || 4*n > len(boxes) {
		return nil, fmt.Errorf("%s: detection count %d does not fit outputs %s, %s, %s", it.path, n, it.outputs[0], it.outputs[1], it.outputs[2])
	}
	if place == (Placement{}) {
		place = Placement{ScaleX: 1, ScaleY: 1}
	}
	offset := 0
	if labels != nil && labels.hasBackground() {
		offset = 1
	}
	var dets []Detection
	for i := 0; i < n; i++ {
		if scores[i] < minScore {
			continue
		}
		d := Detection{Class: int(classes[i]), Score: scores[i]}
		x0, y0 := place.ToImage(boxes[4*i+1], boxes[4*i])
		x1, y1 := place.ToImage(boxes[4*i+3], boxes[4*i+2])
		d.Box = Box{XMin: clamp01(x0), YMin: clamp01(y0), XMax: clamp01(x1), YMax: clamp01(y1)}
		if labels != nil {
			d.Label = labels.name(d.Class + offset)
			if d.Label == "" {
				return nil, fmt.Errorf("%s: no label for class %d (the file covers %d classes)", labels.Path, d.Class, labels.Len()-offset)
			}
		}
		dets = append(dets, d)
	}
	sort.SliceStable(dets, func(a, b int) bool { return dets[a].Score > dets[b].Score })
	return dets, nil
}

func clamp01(v float32) float32 {
	return min(max(v, 0), 1)
}
