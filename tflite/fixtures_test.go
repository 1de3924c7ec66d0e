//go:build cgo && !nolibtflite

// The C library's tests: a build without it (nolibtflite) runs
// clibrary_test.go instead.

package tflite

import (
	"bufio"
	"image"
	_ "image/jpeg"
	_ "image/png"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/edgeproject/edge/camera/fixtures"
)

func fixture(t testing.TB, rel string) string { return fixtures.Path(t, rel) }

// readTSV reads a tab-separated file; with header, rows are keyed by column name.
func readTSV(t testing.TB, path string) []map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var header []string
	var rows []map[string]string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		cols := strings.Split(sc.Text(), "\t")
		if header == nil {
			header = cols
			continue
		}
		row := map[string]string{}
		for i, c := range cols {
			if i < len(header) {
				row[header[i]] = c
			}
		}
		rows = append(rows, row)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return rows
}

func loadImage(t testing.TB, path string) image.Image {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, _, err := image.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return img
}

// refTop3 is one row of reference/armnn_cpuref_classification_top3.tsv.
type refTop3 struct {
	idx    [3]int
	scores [3]float64
}

// readReferenceTop3 maps "model/image" to Arm NN CpuRef's top 3.
func readReferenceTop3(t testing.TB) map[string]refTop3 {
	t.Helper()
	f, err := os.Open(fixture(t, "reference/armnn_cpuref_classification_top3.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]refTop3{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		cols := strings.Split(sc.Text(), "\t")
		if len(cols) != 3 {
			continue
		}
		var r refTop3
		for i, part := range strings.Split(cols[2], "; ") {
			colon, eq := strings.Index(part, ":"), strings.LastIndex(part, "=")
			if i >= 3 || colon < 0 || eq < 0 {
				t.Fatalf("reference row %q: cannot read %q", cols[:2], part)
			}
			r.idx[i], _ = strconv.Atoi(part[:colon])
			r.scores[i], _ = strconv.ParseFloat(part[eq+1:], 64)
		}
		out[cols[0]+"/"+cols[1]] = r
	}
	return out
}
