package engine

import (
	"math"

	"github.com/edgeproject/edge/tflite/schema"
)

// detectionPostProcess is the custom TFLite_Detection_PostProcess of SSD
// models, ported from TFLite 2.9 (kernels/detection_postprocess.cc): decode
// the box encodings against the anchors, then non-maximum suppression
// (fast: one class per anchor; regular: per class), in float32.
type detectionPostProcess struct {
	boxesIn, scoresIn, anchorsIn            *tensor
	boxesOut, classesOut, scoresOut, numOut *tensor

	numBoxes, boxLen          int
	numClasses, numClassesBg  int
	labelOffset               int
	maxDetections             int
	maxClassesPerDetection    int
	detectionsPerClass        int
	regular                   bool
	scoreThreshold, iouThresh float32
	scaleY, scaleX            float32
	scaleH, scaleW            float32

	decoded []box     // per anchor
	scores  []float32 // dequantized class predictions
	// fast NMS
	maxScores    []float32
	classIndices []int32 // per anchor, sorted classes (first numCategories valid)
	// single-class NMS
	keepScores  []float32
	keepIndices []int32
	sorted      []int32
	sortTmp     []int32
	active      []bool
	selected    []int32
	// regular NMS
	classScores []float32
	boxIdxAfter []int32
	scoresAfter []float32
	sortedIdx   []int32
	sortedVals  []float32
}

type box struct{ ymin, xmin, ymax, xmax float32 }

func prepareDetectionPostProcess(c *nodeCtx) (kernel, error) {
	if err := c.arity(3, 3, 4); err != nil {
		return nil, err
	}
	m, err := parseFlexMap(c.op.CustomOptions)
	if err != nil {
		return nil, c.invalid("custom options: %v", err)
	}
	get := func(key string) (flexValue, error) {
		v, ok := m[key]
		if !ok {
			return v, c.invalid("custom options lack %q", key)
		}
		return v, nil
	}
	k := &detectionPostProcess{
		boxesIn: c.ins[0], scoresIn: c.ins[1], anchorsIn: c.ins[2],
		boxesOut: c.outs[0], classesOut: c.outs[1], scoresOut: c.outs[2], numOut: c.outs[3],
		detectionsPerClass: 100,
	}
	for _, f := range []struct {
		key string
		i   *int
		f   *float32
	}{
		{"max_detections", &k.maxDetections, nil},
		{"max_classes_per_detection", &k.maxClassesPerDetection, nil},
		{"num_classes", &k.numClasses, nil},
		{"nms_score_threshold", nil, &k.scoreThreshold},
		{"nms_iou_threshold", nil, &k.iouThresh},
		{"y_scale", nil, &k.scaleY},
		{"x_scale", nil, &k.scaleX},
		{"h_scale", nil, &k.scaleH},
		{"w_scale", nil, &k.scaleW},
	} {
		v, err := get(f.key)
		if err != nil {
			return nil, err
		}
		if f.i != nil {
			*f.i = int(v.int())
		} else {
			*f.f = float32(v.float())
		}
	}
	if v, ok := m["detections_per_class"]; ok {
		k.detectionsPerClass = int(v.int())
	}
	if v, ok := m["use_regular_nms"]; ok {
		k.regular = v.int() != 0
	}
	bi, si, ai := k.boxesIn, k.scoresIn, k.anchorsIn
	if len(bi.shape) != 3 || len(si.shape) != 3 || len(ai.shape) != 2 {
		return nil, c.invalid("inputs %s, %s, %s: want ranks 3, 3, 2", bi, si, ai)
	}
	if bi.shape[0] != 1 || si.shape[0] != 1 {
		return nil, c.unsupported("batch size %d (only 1)", bi.shape[0])
	}
	k.numBoxes, k.boxLen = bi.shape[1], bi.shape[2]
	k.numClassesBg = si.shape[2]
	k.labelOffset = k.numClassesBg - k.numClasses
	switch {
	case k.boxLen < 4 || ai.shape[1] != 4 || ai.shape[0] != k.numBoxes || si.shape[1] != k.numBoxes:
		return nil, c.invalid("box encodings %s, class predictions %s and anchors %s do not fit", bi, si, ai)
	case k.numClasses <= 0 || k.labelOffset < 0:
		return nil, c.invalid("num_classes %d with class predictions %s", k.numClasses, si)
	case k.maxDetections < 0 || k.maxClassesPerDetection <= 0 || k.detectionsPerClass <= 0:
		return nil, c.invalid("max_detections %d, max_classes_per_detection %d, detections_per_class %d", k.maxDetections, k.maxClassesPerDetection, k.detectionsPerClass)
	case !(k.iouThresh > 0 && k.iouThresh <= 1):
		return nil, c.invalid("nms_iou_threshold %g not in (0, 1]", k.iouThresh)
	}
	for _, t := range []*tensor{bi, si, ai} {
		if err := c.types("input", t, schema.TypeUint8, schema.TypeFloat32); err != nil {
			return nil, err
		}
		if t.typ == schema.TypeUint8 {
			if err := c.quantized("input", t); err != nil {
				return nil, err
			}
		}
	}
	if ai.typ != bi.typ {
		return nil, c.unsupported("anchors %s and box encodings %s of different types", ai, bi)
	}
	if !ai.konst {
		return nil, c.unsupported("anchors %s are not constant", ai)
	}
	for _, t := range c.outs {
		if err := c.types("output", t, schema.TypeFloat32); err != nil {
			return nil, err
		}
	}
	nDet := k.maxDetections * k.maxClassesPerDetection
	for i, want := range [][]int{{1, nDet, 4}, {1, nDet}, {1, nDet}, {1}} {
		t := c.outs[i]
		if len(t.shape) == 0 {
			t.shape = want
		} else if t.elems() != prod(want) {
			return nil, c.invalid("output %s, want %v", t, want)
		}
	}
	nb, ncb := k.numBoxes, k.numClassesBg
	k.decoded = make([]box, nb)
	k.scores = make([]float32, nb*ncb)
	k.maxScores = make([]float32, nb)
	k.classIndices = make([]int32, nb*k.numClasses)
	k.keepScores = make([]float32, nb)
	k.keepIndices = make([]int32, nb)
	k.sorted = make([]int32, nb)
	k.sortTmp = make([]int32, nb)
	k.active = make([]bool, nb)
	k.selected = make([]int32, 0, nb)
	k.classScores = make([]float32, nb)
	k.boxIdxAfter = make([]int32, k.maxDetections)
	k.scoresAfter = make([]float32, k.maxDetections)
	k.sortedIdx = make([]int32, k.maxDetections)
	k.sortedVals = make([]float32, k.maxDetections)
	return k, nil
}

// dequant reads element i of a uint8 or float32 tensor as float32, the
// way the kernel's Dequantizer does: (q − zero point) · scale.
func dequant(t *tensor, i int) float32 {
	if t.typ == schema.TypeFloat32 {
		return math.Float32frombits(uint32(t.data[4*i]) | uint32(t.data[4*i+1])<<8 | uint32(t.data[4*i+2])<<16 | uint32(t.data[4*i+3])<<24)
	}
	return (float32(t.data[i]) - float32(t.zp)) * t.scale
}

func (k *detectionPostProcess) run(*pool) {
	k.decode()
	for i := range k.scores {
		k.scores[i] = dequant(k.scoresIn, i)
	}
	if k.regular {
		k.nmsRegular()
	} else {
		k.nmsFast()
	}
}

// decode is DecodeCenterSizeBoxes.
func (k *detectionPostProcess) decode() {
	for i := 0; i < k.numBoxes; i++ {
		y := dequant(k.boxesIn, i*k.boxLen)
		x := dequant(k.boxesIn, i*k.boxLen+1)
		h := dequant(k.boxesIn, i*k.boxLen+2)
		w := dequant(k.boxesIn, i*k.boxLen+3)
		ay := dequant(k.anchorsIn, i*4)
		ax := dequant(k.anchorsIn, i*4+1)
		ah := dequant(k.anchorsIn, i*4+2)
		aw := dequant(k.anchorsIn, i*4+3)
		yc := float32(float64(y)/float64(k.scaleY)*float64(ah) + float64(ay))
		xc := float32(float64(x)/float64(k.scaleX)*float64(aw) + float64(ax))
		hh := float32(0.5 * math.Exp(float64(h)/float64(k.scaleH)) * float64(ah))
		hw := float32(0.5 * math.Exp(float64(w)/float64(k.scaleW)) * float64(aw))
		k.decoded[i] = box{yc - hh, xc - hw, yc + hh, xc + hw}
	}
}

func iou(a, b box) float32 {
	areaA := (a.ymax - a.ymin) * (a.xmax - a.xmin)
	areaB := (b.ymax - b.ymin) * (b.xmax - b.xmin)
	if areaA <= 0 || areaB <= 0 {
		return 0
	}
	iy0, ix0 := max(a.ymin, b.ymin), max(a.xmin, b.xmin)
	iy1, ix1 := min(a.ymax, b.ymax), min(a.xmax, b.xmax)
	inter := max(iy1-iy0, 0) * max(ix1-ix0, 0)
	return inter / (areaA + areaB - inter)
}

// nmsSingleClass is NonMaxSuppressionSingleClassHelper: it leaves the
// selected anchors in k.selected.
func (k *detectionPostProcess) nmsSingleClass(scores []float32, maxDet int) {
	n := 0
	for i, s := range scores {
		if s >= k.scoreThreshold {
			k.keepScores[n] = s
			k.keepIndices[n] = int32(i)
			n++
		}
	}
	sorted := k.sorted[:n]
	for i := range sorted {
		sorted[i] = int32(i)
	}
	stableSortDesc(sorted, k.sortTmp[:n], k.keepScores)
	outSize := min(n, maxDet)
	k.selected = k.selected[:0]
	active := k.active[:n]
	for i := range active {
		active[i] = true
	}
	numActive := n
	for i := 0; i < n; i++ {
		if numActive == 0 || len(k.selected) >= outSize {
			break
		}
		if !active[i] {
			continue
		}
		bi := k.keepIndices[sorted[i]]
		k.selected = append(k.selected, bi)
		active[i] = false
		numActive--
		for j := i + 1; j < n; j++ {
			if active[j] && iou(k.decoded[bi], k.decoded[k.keepIndices[sorted[j]]]) > k.iouThresh {
				active[j] = false
				numActive--
			}
		}
	}
}

// stableSortDesc sorts idx by decreasing values[idx], keeping the order of
// equal values (std::stable_sort), using tmp as scratch.
func stableSortDesc(idx, tmp []int32, values []float32) {
	n := len(idx)
	for width := 1; width < n; width *= 2 {
		for lo := 0; lo < n; lo += 2 * width {
			mid, hi := min(lo+width, n), min(lo+2*width, n)
			i, j, o := lo, mid, lo
			for i < mid && j < hi {
				if values[idx[j]] > values[idx[i]] {
					tmp[o] = idx[j]
					j++
				} else {
					tmp[o] = idx[i]
					i++
				}
				o++
			}
			o += copy(tmp[o:], idx[i:mid])
			copy(tmp[o:], idx[j:hi])
		}
		copy(idx, tmp[:n])
	}
}

// partialSortDesc is DecreasingPartialArgSort: the first k of idx become
// the indexes of the k largest values, in decreasing order. It reproduces
// libstdc++'s std::partial_sort (heap select, then heap sort), so that ties
// come out in the same order, and the ArgMaxVector shortcut for k = 1.
func partialSortDesc(idx []int32, k int, values []float32) {
	for i := range idx {
		idx[i] = int32(i)
	}
	if k == 1 {
		best := 0
		for i := 1; i < len(idx); i++ {
			if values[i] > values[best] {
				best = i
			}
		}
		idx[0] = int32(best)
		return
	}
	comp := func(a, b int32) bool { return values[a] > values[b] }
	h := idx[:k]
	makeHeap(h, comp)
	for i := k; i < len(idx); i++ {
		if comp(idx[i], h[0]) {
			v := idx[i]
			idx[i] = h[0]
			adjustHeap(h, 0, len(h), v, comp)
		}
	}
	for n := len(h); n > 1; n-- {
		v := h[n-1]
		h[n-1] = h[0]
		adjustHeap(h, 0, n-1, v, comp)
	}
}

func makeHeap(h []int32, comp func(a, b int32) bool) {
	n := len(h)
	if n < 2 {
		return
	}
	for parent := (n - 2) / 2; ; parent-- {
		adjustHeap(h, parent, n, h[parent], comp)
		if parent == 0 {
			return
		}
	}
}

// adjustHeap is libstdc++'s __adjust_heap followed by __push_heap.
func adjustHeap(h []int32, hole, n int, v int32, comp func(a, b int32) bool) {
	top := hole
	child := hole
	for child < (n-1)/2 {
		child = 2 * (child + 1)
		if comp(h[child], h[child-1]) {
			child--
		}
		h[hole] = h[child]
		hole = child
	}
	if n&1 == 0 && child == (n-2)/2 {
		child = 2 * (child + 1)
		h[hole] = h[child-1]
		hole = child - 1
	}
	parent := (hole - 1) / 2
	for hole > top && comp(h[parent], v) {
		h[hole] = h[parent]
		hole = parent
		parent = (hole - 1) / 2
	}
	h[hole] = v
}

func (k *detectionPostProcess) nmsFast() {
	numCat := min(k.maxClassesPerDetection, k.numClasses)
	for row := 0; row < k.numBoxes; row++ {
		bs := k.scores[row*k.numClassesBg+k.labelOffset:][:k.numClasses]
		ci := k.classIndices[row*k.numClasses:][:k.numClasses]
		partialSortDesc(ci, numCat, bs)
		k.maxScores[row] = bs[ci[0]]
	}
	k.nmsSingleClass(k.maxScores, k.maxDetections)
	boxes, classes, scores := k.boxesOut.f32(), k.classesOut.f32(), k.scoresOut.f32()
	clear(boxes)
	clear(classes)
	clear(scores)
	for out, sel := range k.selected {
		bs := k.scores[int(sel)*k.numClassesBg+k.labelOffset:]
		ci := k.classIndices[int(sel)*k.numClasses:]
		for col := 0; col < numCat; col++ {
			o := k.maxClassesPerDetection*out + col
			b := k.decoded[sel]
			boxes[4*o], boxes[4*o+1], boxes[4*o+2], boxes[4*o+3] = b.ymin, b.xmin, b.ymax, b.xmax
			classes[o] = float32(ci[col])
			scores[o] = bs[ci[col]]
		}
	}
	k.numOut.f32()[0] = float32(len(k.selected))
}

// nmsRegular is NonMaxSuppressionMultiClassRegularHelper: NMS per class,
// each class's selections merged into the kept detections (new ones first
// on equal scores, as std::inplace_merge with TFLite's >= comparison does),
// keeping at most max_detections.
func (k *detectionPostProcess) nmsRegular() {
	ncb := k.numClassesBg
	kept := 0
	for col := 0; col < k.numClasses; col++ {
		for row := 0; row < k.numBoxes; row++ {
			k.classScores[row] = k.scores[row*ncb+col+k.labelOffset]
		}
		k.nmsSingleClass(k.classScores, k.detectionsPerClass)
		// Merge the kept detections (sorted) with this class's (sorted).
		oldIdx := k.sortedIdx[:kept]
		oldVal := k.sortedVals[:kept]
		copy(oldIdx, k.boxIdxAfter[:kept])
		copy(oldVal, k.scoresAfter[:kept])
		i, j, o := 0, 0, 0
		for (i < kept || j < len(k.selected)) && o < k.maxDetections {
			if j < len(k.selected) && (i == kept || k.classScores[k.selected[j]] >= oldVal[i]) {
				sel := k.selected[j]
				k.boxIdxAfter[o] = sel*int32(ncb) + int32(col+k.labelOffset)
				k.scoresAfter[o] = k.classScores[sel]
				j++
			} else {
				k.boxIdxAfter[o] = oldIdx[i]
				k.scoresAfter[o] = oldVal[i]
				i++
			}
			o++
		}
		kept = o
	}
	boxes, classes, scores := k.boxesOut.f32(), k.classesOut.f32(), k.scoresOut.f32()
	clear(boxes)
	clear(classes)
	clear(scores)
	for o := 0; o < kept; o++ {
		anchor := int(k.boxIdxAfter[o]) / ncb
		class := int(k.boxIdxAfter[o]) - anchor*ncb - k.labelOffset
		b := k.decoded[anchor]
		boxes[4*o], boxes[4*o+1], boxes[4*o+2], boxes[4*o+3] = b.ymin, b.xmin, b.ymax, b.xmax
		classes[o] = float32(class)
		scores[o] = k.scoresAfter[o]
	}
	k.numOut.f32()[0] = float32(kept)
}
