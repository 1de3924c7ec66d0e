package tflite_test

import (
	"errors"
	"image"
	_ "image/png"
	"os"
	"strings"
	"testing"

	"github.com/edgeproject/edge/camera/fixtures"
	"github.com/edgeproject/edge/tflite"
	"github.com/edgeproject/edge/tflite/engine"
)

// These tests run in every build, with or without the TFLite C library
// (tag nolibtflite): the package's own preprocessing, labels and
// classification around the Go engine, and Open's answer when the C
// library is not compiled in.

// TestOpenWithoutCLibrary checks the error of Open in a build without the
// TFLite C library.
func TestOpenWithoutCLibrary(t *testing.T) {
	if v, ok := tflite.CLibrary(); ok {
		if !strings.HasPrefix(v, "2.") {
			t.Errorf("CLibrary version %q, want TFLite 2.x", v)
		}
		t.Skipf("this build links the TFLite C library (%s)", v)
	}
	path := fixtures.Path(t, "models/classification/mobilenet_v1_0.25_128_quant.tflite")
	it, err := tflite.Open(path, tflite.Options{})
	if it != nil || !errors.Is(err, tflite.ErrNoCLibrary) {
		t.Fatalf("Open: %v, %v; want ErrNoCLibrary", it, err)
	}
	if !strings.Contains(err.Error(), "nolibtflite") || !strings.Contains(err.Error(), "--engine go") {
		t.Errorf("error %q does not say how this edge was built and what to use", err)
	}
}

// TestClassifyOnGoEngine classifies a photo through the Interpreter API
// on the Go engine, labels from the file.
func TestClassifyOnGoEngine(t *testing.T) {
	it, err := engine.OpenTFLite(fixtures.Path(t, "models/classification/mobilenet_v1_0.25_128_quant.tflite"), tflite.Options{Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer it.Close()
	labels, err := tflite.ReadLabels(fixtures.Path(t, "labels/imagenet_labels_1001_coral.txt"))
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(fixtures.Path(t, "images/bird.png"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, _, err := image.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := it.SetImage(img); err != nil {
		t.Fatal(err)
	}
	if err := it.Invoke(); err != nil {
		t.Fatal(err)
	}
	classes, err := it.Classify(1, labels)
	if err != nil {
		t.Fatal(err)
	}
	if len(classes) != 1 || classes[0].Index != 20 || !strings.HasPrefix(classes[0].Label, "chickadee") {
		t.Errorf("bird.png: %+v, want 20 chickadee", classes)
	}
	if d := it.Delegation(); d.Used != "go" {
		t.Errorf("delegation %v, want the go engine", d)
	}
}
