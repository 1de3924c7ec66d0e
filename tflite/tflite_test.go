//go:build cgo && !nolibtflite

// The C library's tests: a build without it (nolibtflite) runs
// clibrary_test.go instead.

package tflite

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// cpuClassifiers are the fixture classification models TFLite runs on the CPU.
var cpuClassifiers = []struct {
	file       string
	preprocess Preprocess
}{
	{"classification/mobilenet_v1_0.25_128_quant.tflite", Preprocess{}},
	{"classification/mobilenet_v1_0.5_160_quant.tflite", Preprocess{}},
	{"classification/mobilenet_v1_0.75_192_quant.tflite", Preprocess{}},
	{"classification/mobilenet_v2_1.0_224_quant.tflite", Preprocess{}},
	{"classification/tf2_mobilenet_v2_1.0_224_ptq.tflite", Preprocess{}},
	{"classification/mobilenet_v3_small_1.0_224_uint8.tflite", Preprocess{}},
	{"float/mobilenet_v1_0.25_128.tflite", Preprocess{}}, // (p − 127.5) / 127.5
}

// unsure is the top-1 score below which TestClassifyFixtures does not
// assert a photo off amd64.
const unsure = 0.25

// TestClassifyFixtures runs every CPU classifier on every photo with an
// ImageNet class (images/IMAGES.tsv). Where Arm NN's reference run of the
// same model agrees with the expected class by a clear margin (more than 8
// output steps of 256: Arm NN is a second engine, not TFLite, and differs
// by up to a few dozen steps), our top-1 must be that class; every top-1
// must be among Arm NN's top 3.
//
// TFLite's arm64 kernels break rounding ties differently from its amd64
// ones, and the outputs drift by a few steps (up to ~50 on V3-Small; see
// tflite/engine's arch_test.go, which compares them with amd64's through
// the Go engine). Off amd64, a photo the model is unsure about (top-1
// below unsure) is therefore not asserted here.
func TestClassifyFixtures(t *testing.T) {
	labels, err := ReadLabels(fixture(t, "labels/imagenet_labels_1001_coral.txt"))
	if err != nil {
		t.Fatal(err)
	}
	ref := readReferenceTop3(t)
	images := readTSV(t, fixture(t, "images/IMAGES.tsv"))
	asserted := 0
	for _, m := range cpuClassifiers {
		t.Run(filepath.Base(m.file), func(t *testing.T) {
			it, err := Open(fixture(t, "models/"+m.file), Options{Threads: 2, Preprocess: m.preprocess})
			if err != nil {
				t.Fatal(err)
			}
			defer it.Close()
			for _, row := range images {
				lo, hi, ok := expectedRange(row["imagenet_idx_1001"])
				if !ok {
					continue
				}
				img := loadImage(t, fixture(t, "images/"+row["file"]))
				if _, err := it.SetImage(img); err != nil {
					t.Fatal(err)
				}
				if err := it.Invoke(); err != nil {
					t.Fatal(err)
				}
				top, err := it.Classify(3, labels)
				if err != nil {
					t.Fatal(err)
				}
				r, hasRef := ref[filepath.Base(m.file)+"/"+row["file"]]
				if !hasRef {
					t.Fatalf("%s: no reference row", row["file"])
				}
				got := top[0].Index
				if runtime.GOARCH != "amd64" && top[0].Score < unsure {
					t.Logf("%s: top-1 %d %q at %.3f: not asserted on %s", row["file"], got, top[0].Label, top[0].Score, runtime.GOARCH)
					continue
				}
				if got != r.idx[0] && got != r.idx[1] && got != r.idx[2] {
					t.Errorf("%s: top-1 %d %q is not in Arm NN's top 3 %v", row["file"], got, top[0].Label, r.idx)
				}
				margin := r.scores[0] - r.scores[1]
				if strings.HasSuffix(m.file, "_128.tflite") {
					margin *= 256 // float probabilities, in uint8 output steps
				}
				if r.idx[0] >= lo && r.idx[0] <= hi && margin > 8 {
					asserted++
					if got < lo || got > hi {
						t.Errorf("%s: top-1 is %d %q (%.3f), want %s (%s)", row["file"], got, top[0].Label, top[0].Score, row["expected_label"], row["imagenet_idx_1001"])
					}
				}
			}
		})
	}
	t.Logf("%d model/photo pairs asserted", asserted)
	if asserted < 80 {
		t.Errorf("only %d model/photo pairs had a clear expected class; the fixtures changed?", asserted)
	}
}

// expectedRange reads "286" or "282-286"; "-" means no ImageNet class.
func expectedRange(s string) (lo, hi int, ok bool) {
	a, b, isRange := strings.Cut(s, "-")
	lo, err := strconv.Atoi(a)
	if err != nil {
		return 0, 0, false
	}
	hi = lo
	if isRange {
		if hi, err = strconv.Atoi(b); err != nil {
			return 0, 0, false
		}
	}
	return lo, hi, true
}

// TestPersonDetect runs TFLite Micro's int8 grayscale person detector
// (loadable only after Open corrects its quantized_dimension fields). A
// clear photo of a person and two without one are classified; the small
// person_96x96 test image is a close call on TFLite 2.9 with pixels fed as
// p − 128 (TFLite Micro's own test copies the bytes unshifted), so for it
// the assertion is relative: it scores higher for "person" than the
// no-person image does.
func TestPersonDetect(t *testing.T) {
	labels, err := ReadLabels(fixture(t, "labels/person_2class_labels.txt"))
	if err != nil {
		t.Fatal(err)
	}
	it, err := Open(fixture(t, "models/classification/person_detect_mobilenet_v1_0.25_96_int8.tflite"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer it.Close()
	if in := it.Inputs()[0]; in.String() != "int8[1 96 96 1]" {
		t.Fatalf("input is %s", in)
	}
	person := map[string]float32{}
	for _, tc := range []struct{ image, want string }{
		{"grace_hopper.png", "person"},
		{"no_person_96x96_gray.png", "notperson"},
		{"coffee.png", "notperson"},
		{"person_96x96_gray.png", ""},
	} {
		if _, err := it.SetImage(loadImage(t, fixture(t, "images/"+tc.image))); err != nil {
			t.Fatal(err)
		}
		if err := it.Invoke(); err != nil {
			t.Fatal(err)
		}
		top, err := it.Classify(2, labels)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range top {
			if c.Label == "person" {
				person[tc.image] = c.Score
			}
		}
		if tc.want != "" && top[0].Label != tc.want {
			t.Errorf("%s: %q %.3f, want %q", tc.image, top[0].Label, top[0].Score, tc.want)
		}
	}
	if person["person_96x96_gray.png"] <= person["no_person_96x96_gray.png"]+0.1 {
		t.Errorf("p(person): person image %.3f, no-person image %.3f", person["person_96x96_gray.png"], person["no_person_96x96_gray.png"])
	}
}

// TestVWW runs MLCommons' visual wake words models (int8 and float, RGB
// in [0,1]) and compares p(person) with Arm NN's on every photo.
func TestVWW(t *testing.T) {
	ref := readTSVNoHeader(t, fixture(t, "reference/armnn_cpuref_vww.tsv"))
	for _, tc := range []struct {
		model string
		pre   Preprocess
	}{
		{"vww_96_int8.tflite", Preprocess{}},
		{"vww_96_float.tflite", Preprocess{Mean: 0, Std: 255}},
	} {
		it, err := Open(fixture(t, "models/vww/"+tc.model), Options{Preprocess: tc.pre})
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, row := range ref {
			if row[0] != tc.model {
				continue
			}
			want, err := strconv.ParseFloat(strings.TrimPrefix(row[3], "p_person="), 64)
			if err != nil {
				t.Fatalf("reference row %v: %v", row, err)
			}
			if _, err := it.SetImage(loadImage(t, fixture(t, "images/"+row[1]))); err != nil {
				t.Fatal(err)
			}
			if err := it.Invoke(); err != nil {
				t.Fatal(err)
			}
			top, err := it.Classify(2, nil)
			if err != nil {
				t.Fatal(err)
			}
			var person float32
			for _, c := range top {
				if c.Index == 1 {
					person = c.Score
				}
			}
			// Go's JPEG decoder and libjpeg (Arm NN's run) differ by a
			// level here and there; PNGs decode identically.
			tol := 0.05
			if strings.HasSuffix(row[1], ".jpg") {
				tol = 0.1
			}
			if math.Abs(float64(person)-want) > tol {
				t.Errorf("%s %s: p(person) %.3f, Arm NN %.3f", tc.model, row[1], person, want)
			}
			if (person > 0.5) != (want > 0.5) && math.Abs(want-0.5) > 0.05 {
				t.Errorf("%s %s: person=%v, Arm NN says %v", tc.model, row[1], person > 0.5, want > 0.5)
			}
			n++
		}
		if n != 22 {
			t.Errorf("%s: %d reference rows, want 22", tc.model, n)
		}
		it.Close()
	}
}

func readTSVNoHeader(t testing.TB, path string) [][]string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var rows [][]string
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		rows = append(rows, strings.Split(line, "\t"))
	}
	return rows
}

// refDetection is one detection of reference/armnn_cpuref_ssd_detections.tsv.
type refDetection struct {
	label string
	score float32
	box   Box
}

func readReferenceDetections(t testing.TB) map[string][]refDetection {
	t.Helper()
	out := map[string][]refDetection{}
	for _, row := range readTSVNoHeader(t, fixture(t, "reference/armnn_cpuref_ssd_detections.tsv")) {
		if len(row) < 2 || strings.TrimSpace(row[1]) == "" {
			continue
		}
		for _, d := range strings.Split(row[1], "| ") {
			// "dog(17) 0.82 [0.11, 0.24, 0.68, 0.49]" — box is ymin, xmin, ymax, xmax.
			var r refDetection
			open := strings.LastIndex(d, "(")
			var cls int
			var y0, x0, y1, x1 float32
			if open < 0 {
				t.Fatalf("reference detection %q", d)
			}
			r.label = d[:open]
			if _, err := fmt.Sscanf(d[open:], "(%d) %f [%f, %f, %f, %f]", &cls, &r.score, &y0, &x0, &y1, &x1); err != nil {
				t.Fatalf("reference detection %q: %v", d, err)
			}
			r.box = Box{XMin: clamp01(x0), YMin: clamp01(y0), XMax: clamp01(x1), YMax: clamp01(y1)}
			out[row[0]] = append(out[row[0]], r)
		}
	}
	return out
}

func iou(a, b Box) float32 {
	ix := min(a.XMax, b.XMax) - max(a.XMin, b.XMin)
	iy := min(a.YMax, b.YMax) - max(a.YMin, b.YMin)
	if ix <= 0 || iy <= 0 {
		return 0
	}
	inter := ix * iy
	area := func(b Box) float32 { return (b.XMax - b.XMin) * (b.YMax - b.YMin) }
	return inter / (area(a) + area(b) - inter)
}

// TestDetectFixtures runs SSD MobileNet v1 on the detection photos, on the
// CPU and through XNNPACK, and finds every object Arm NN found with score
// >= 0.5: same label, box overlapping by IoU >= 0.8.
func TestDetectFixtures(t *testing.T) {
	labels, err := ReadLabels(fixture(t, "labels/coco_labels_90_coral.txt"))
	if err != nil {
		t.Fatal(err)
	}
	ref := readReferenceDetections(t)
	want := map[string][]string{ // what IMAGES.tsv says each photo shows
		"pets.jpg":               {"dog", "dog"},
		"coffee.png":             {"cup"},
		"grace_hopper.png":       {"person", "tie"},
		"traffic_frame_0001.png": {"car", "car"},
	}
	for _, d := range []Delegate{CPU, XNNPACK} {
		it, err := Open(fixture(t, "models/detection/coco_ssd_mobilenet_v1_1.0_quant_detect.tflite"), Options{Delegate: d, Threads: 2})
		if err != nil {
			t.Fatal(err)
		}
		for img, labelsWanted := range want {
			place, err := it.SetImage(loadImage(t, fixture(t, "images/"+img)))
			if err != nil {
				t.Fatal(err)
			}
			if err := it.Invoke(); err != nil {
				t.Fatal(err)
			}
			dets, err := it.Detect(0.5, labels, place)
			if err != nil {
				t.Fatal(err)
			}
			count := map[string]int{}
			for _, det := range dets {
				count[det.Label]++
			}
			for _, l := range labelsWanted {
				if count[l] == 0 {
					t.Errorf("%s %s: no %q among %+v", d, img, l, dets)
				}
				count[l]--
			}
			for _, r := range ref[img] {
				if r.score < 0.5 {
					continue
				}
				best := float32(0)
				for _, det := range dets {
					if det.Label == r.label {
						best = max(best, iou(det.Box, r.box))
					}
				}
				if best < 0.8 {
					t.Errorf("%s %s: reference %s %.2f %+v: best IoU %.2f among %+v", d, img, r.label, r.score, r.box, best, dets)
				}
			}
		}
		if d == XNNPACK {
			// TFLite 2.9's XNNPACK fails to prepare this uint8 graph: the
			// interpreter must fall back to the CPU kernels and say so.
			dl := it.Delegation()
			if dl.Used != CPU || dl.Requested != XNNPACK || !strings.Contains(dl.Note, "uint8") {
				t.Errorf("SSD on XNNPACK: delegation %+v, want a CPU fallback explained", dl)
			}
		}
		it.Close()
	}
}

// TestXNNPACKMatchesCPU runs the uint8 and int8 classifiers through
// XNNPACK. int8 graphs (QS8) are delegated but for the QUANTIZE/DEQUANTIZE
// edges; uint8 graphs fall back to the CPU with a note. Top-1 agrees.
func TestXNNPACKMatchesCPU(t *testing.T) {
	img := loadImage(t, fixture(t, "images/coffee.png"))
	for _, tc := range []struct {
		file      string
		delegated bool
	}{
		{"classification/mobilenet_v1_0.25_128_quant.tflite", false},
		{"classification/tf2_mobilenet_v2_1.0_224_ptq.tflite", true},
		{"classification/person_detect_mobilenet_v1_0.25_96_int8.tflite", true},
		{"vww/vww_96_int8.tflite", true},
		{"float/mobilenet_v1_0.25_128.tflite", true},
	} {
		file := tc.file
		var top [2]Class
		for i, d := range []Delegate{CPU, XNNPACK} {
			it, err := Open(fixture(t, "models/"+file), Options{Delegate: d, Threads: 1})
			if err != nil {
				t.Fatal(err)
			}
			dl := it.Delegation()
			switch {
			case d != XNNPACK:
			case tc.delegated && (dl.Used != XNNPACK || dl.Delegated < dl.Nodes-4):
				t.Errorf("%s: XNNPACK delegation %+v, want all but the I/O nodes", file, dl)
			case !tc.delegated && (dl.Used != CPU || !strings.Contains(dl.Note, "uint8")):
				t.Errorf("%s: XNNPACK delegation %+v, want an explained CPU fallback", file, dl)
			}
			if _, err := it.SetImage(img); err != nil {
				t.Fatal(err)
			}
			if err := it.Invoke(); err != nil {
				t.Fatal(err)
			}
			c, err := it.Classify(1, nil)
			if err != nil {
				t.Fatal(err)
			}
			top[i] = c[0]
			it.Close()
		}
		if top[0].Index != top[1].Index || math.Abs(float64(top[0].Score-top[1].Score)) > 0.05 {
			t.Errorf("%s: cpu top-1 %+v, xnnpack %+v", file, top[0], top[1])
		}
	}
}

// TestEdgeTPUModels: without an Edge TPU, the compiled models fail with a
// clear error, whichever delegate is asked for.
func TestEdgeTPUModels(t *testing.T) {
	matches, err := filepath.Glob(fixture(t, "models/classification/*_edgetpu.tflite"))
	if err != nil || len(matches) == 0 {
		t.Fatalf("no Edge TPU models in fixtures: %v", err)
	}
	for _, path := range matches {
		for _, tc := range []struct {
			d    Delegate
			want string
		}{
			{CPU, "compiled for the Edge TPU (edgetpu-custom-op)"},
			{Auto, "cannot load the Edge TPU runtime"},
			{EdgeTPU, "cannot load the Edge TPU runtime"},
		} {
			it, err := Open(path, Options{Delegate: tc.d, EdgeTPULibrary: "libedgetpu-not-here.so.1"})
			if err == nil {
				it.Close()
				t.Fatalf("%s on %s: opened without an Edge TPU", filepath.Base(path), tc.d)
			}
			if !errors.Is(err, ErrNeedsEdgeTPU) || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), path) {
				t.Errorf("%s on %s: %v\nwant ErrNeedsEdgeTPU saying %q", filepath.Base(path), tc.d, err, tc.want)
			}
		}
	}
}

// TestNNAPIUnavailable: NNAPI exists on Android only.
func TestNNAPIUnavailable(t *testing.T) {
	it, err := Open(fixture(t, "models/classification/mobilenet_v1_0.25_128_quant.tflite"), Options{Delegate: NNAPI})
	if err == nil {
		dl := it.Delegation()
		it.Close()
		t.Fatalf("NNAPI on Linux: opened, delegation %+v", dl)
	}
	if !errors.Is(err, ErrDelegateUnavailable) || !strings.Contains(err.Error(), "nnapi") {
		t.Errorf("NNAPI on Linux: %v, want ErrDelegateUnavailable naming nnapi", err)
	}
}

// TestErrorReporterFormatsMessages builds the interpreter for an Edge TPU
// model on the CPU, skipping Open's own check, so that TFLite itself fails:
// its reporter's printf-style message must arrive formatted. (go-tflite's
// reporter hands the va_list to asprintf and garbles it.)
func TestErrorReporterFormatsMessages(t *testing.T) {
	path := fixture(t, "models/classification/mobilenet_v1_0.25_128_quant_edgetpu.tflite")
	it, err := Open(fixture(t, "models/classification/mobilenet_v1_0.25_128_quant.tflite"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer it.Close()
	it.teardown()
	it.path = path
	err = it.create(CPU)
	if err == nil {
		t.Fatal("TFLite built an interpreter for an Edge TPU model on the CPU")
	}
	const want = "Encountered unresolved custom op: edgetpu-custom-op"
	if !errors.Is(err, ErrUnsupportedOp) || !strings.Contains(err.Error(), want) {
		t.Errorf("error %q\nwant ErrUnsupportedOp with TFLite's message %q", err, want)
	}
}

// TestBadModels: each bad file gives an error naming it and the problem, no panic.
func TestBadModels(t *testing.T) {
	dir := t.TempDir()
	real, err := os.ReadFile(fixture(t, "models/classification/mobilenet_v1_0.25_128_quant.tflite"))
	if err != nil {
		t.Fatal(err)
	}
	png, err := os.ReadFile(fixture(t, "images/coffee.png"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"empty.tflite", nil, "empty"},
		{"text.tflite", []byte("this is not a model\n"), "not a TFLite model"},
		{"image.tflite", png, "not a TFLite model"},
		{"truncated.tflite", real[:len(real)/2], "truncated"},
		{"header.tflite", real[:64], "truncated"},
	} {
		path := filepath.Join(dir, tc.name)
		if err := os.WriteFile(path, tc.data, 0o644); err != nil {
			t.Fatal(err)
		}
		it, err := Open(path, Options{})
		if err == nil {
			it.Close()
			t.Errorf("%s: opened", tc.name)
			continue
		}
		if !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v\nwant the path and %q", tc.name, err, tc.want)
		}
	}
	if _, err := Open(filepath.Join(dir, "missing.tflite"), Options{}); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v, want os.ErrNotExist", err)
	}
	if _, err := Open(fixture(t, "models/classification/mobilenet_v1_0.25_128_quant.tflite"), Options{Delegate: "gpu"}); err == nil || !strings.Contains(err.Error(), "unknown delegate") {
		t.Errorf("delegate gpu: %v", err)
	}
}

// TestLabelCount: a label file that does not fit the model is an error naming it.
func TestLabelCount(t *testing.T) {
	it, err := Open(fixture(t, "models/classification/mobilenet_v1_0.25_128_quant.tflite"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer it.Close()
	if _, err := it.SetImage(loadImage(t, fixture(t, "images/coffee.png"))); err != nil {
		t.Fatal(err)
	}
	if err := it.Invoke(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		file    string
		wantErr string
		top     string
	}{
		{"labels/person_2class_labels.txt", "2 labels for a model with 1001 classes", ""},
		{"labels/coco_labels_90_coral.txt", "90 labels for a model with 1001 classes", ""},
		{"labels/imagenet_labels_1000.txt", "", "espresso"},          // no background line: shifted by one
		{"labels/labels_mobilenet_quant_v1_224.txt", "", "espresso"}, // background first
	} {
		l, err := ReadLabels(fixture(t, tc.file))
		if err != nil {
			t.Fatal(err)
		}
		top, err := it.Classify(1, l)
		switch {
		case tc.wantErr != "":
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), tc.file) {
				t.Errorf("%s: %v, want an error naming it with %q", tc.file, err, tc.wantErr)
			}
		case err != nil:
			t.Errorf("%s: %v", tc.file, err)
		case top[0].Label != tc.top:
			t.Errorf("%s: top-1 %q, want %q", tc.file, top[0].Label, tc.top)
		}
	}
}

func TestReadLabelsErrors(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name, content, want string
	}{
		{"empty.txt", "", "no labels"},
		{"blank.txt", "\n\n", "no labels"},
		{"binary.txt", "\x89PNG\r\n\x1a\n\x00\x00", "not a text label file"},
		{"dup.txt", "0 cat\n0 dog\n", "class index 0 given twice"},
	} {
		path := filepath.Join(dir, tc.name)
		if err := os.WriteFile(path, []byte(tc.content), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := ReadLabels(path); err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
	path := filepath.Join(dir, "indexed.txt")
	if err := os.WriteFile(path, []byte("0  person\n2  car\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	l, err := ReadLabels(path)
	if err != nil || l.Len() != 3 || l.name(2) != "car" || l.name(1) != "" {
		t.Errorf("indexed labels: %v %+v", err, l)
	}
}

// TestSetPixelsAllocatesNothing: the per-frame preprocessing of a camera
// frame reuses its buffers.
func TestSetPixelsAllocatesNothing(t *testing.T) {
	it, err := Open(fixture(t, "models/detection/coco_ssd_mobilenet_v1_1.0_quant_detect.tflite"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer it.Close()
	pix := make([]byte, 320*240*3)
	if allocs := testing.AllocsPerRun(5, func() {
		if _, err := it.SetPixels(pix, 320, 240); err != nil {
			t.Fatal(err)
		}
	}); allocs != 0 {
		t.Errorf("SetPixels: %v allocations per frame, want 0", allocs)
	}
}

// TestResizeModes: center-crop and letterbox fill the input differently,
// and Detect maps boxes back to the image, so the dogs of pets.jpg are
// found where stretching finds them.
func TestResizeModes(t *testing.T) {
	labels, err := ReadLabels(fixture(t, "labels/coco_labels_90_coral.txt"))
	if err != nil {
		t.Fatal(err)
	}
	img := loadImage(t, fixture(t, "images/pets.jpg"))
	dogs := map[Resize][]Detection{}
	for _, rz := range []Resize{Stretch, CenterCrop, Letterbox} {
		it, err := Open(fixture(t, "models/detection/coco_ssd_mobilenet_v1_1.0_quant_detect.tflite"), Options{Preprocess: Preprocess{Resize: rz}})
		if err != nil {
			t.Fatal(err)
		}
		place, err := it.SetImage(img)
		if err != nil {
			t.Fatal(err)
		}
		if err := it.Invoke(); err != nil {
			t.Fatal(err)
		}
		dets, err := it.Detect(0.5, labels, place)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range dets {
			if d.Label == "dog" {
				dogs[rz] = append(dogs[rz], d)
			}
		}
		it.Close()
	}
	if len(dogs[Stretch]) != 2 || len(dogs[Letterbox]) != 2 {
		t.Fatalf("dogs: stretch %+v, letterbox %+v", dogs[Stretch], dogs[Letterbox])
	}
	// Letterbox sees the whole image: each dog's box matches stretch's.
	for _, s := range dogs[Stretch] {
		best := float32(0)
		for _, l := range dogs[Letterbox] {
			best = max(best, iou(s.Box, l.Box))
		}
		if best < 0.7 {
			t.Errorf("letterbox: no box matching %+v (best IoU %.2f) in %+v", s.Box, best, dogs[Letterbox])
		}
	}
	// The center crop of a 512×430 photo cuts 41 px off each side; boxes
	// it finds, mapped back, still lie on a stretch box.
	for _, c := range dogs[CenterCrop] {
		best := float32(0)
		for _, s := range dogs[Stretch] {
			best = max(best, iou(s.Box, c.Box))
		}
		if best < 0.5 {
			t.Errorf("center-crop box %+v matches no stretch box (best IoU %.2f)", c.Box, best)
		}
	}
}

// TestEmbeddedLabels: the Coral models pack their labels and say so in
// TFLITE_METADATA; classification works without a label file.
func TestEmbeddedLabels(t *testing.T) {
	it, err := Open(fixture(t, "models/classification/mobilenet_v1_0.5_160_quant.tflite"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer it.Close()
	md, ok, err := ReadMetadata(it.Model())
	if err != nil || !ok || md.LabelFile == "" {
		t.Fatalf("metadata %+v %v %v", md, ok, err)
	}
	labels, ok, err := EmbeddedLabels(it.Path(), it.Model())
	if err != nil || !ok {
		t.Fatalf("embedded labels: %v %v", ok, err)
	}
	if _, err := it.SetImage(loadImage(t, fixture(t, "images/coffee.png"))); err != nil {
		t.Fatal(err)
	}
	if err := it.Invoke(); err != nil {
		t.Fatal(err)
	}
	top, err := it.Classify(1, labels)
	if err != nil || !strings.HasPrefix(top[0].Label, "espresso") {
		t.Errorf("top-1 %+v %v, want espresso from the packed labels %s", top, err, md.LabelFile)
	}
	// A model without metadata has none.
	m2, err := Open(fixture(t, "models/detection/coco_ssd_mobilenet_v1_1.0_quant_detect.tflite"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer m2.Close()
	if _, ok, err := EmbeddedLabels(m2.Path(), m2.Model()); ok || err != nil {
		t.Errorf("SSD model: embedded labels %v %v", ok, err)
	}
}
