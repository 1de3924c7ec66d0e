package models_test

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	fixturedir "github.com/edgeproject/edge/camera/fixtures"
	"github.com/edgeproject/edge/models"
)

func fixtures(t testing.TB) string { return fixturedir.Dir(t) }

// manifest maps each fixture file to its MANIFEST.tsv row.
func manifest(t testing.TB) map[string]map[string]string {
	t.Helper()
	f, err := os.Open(filepath.Join(fixtures(t), "MANIFEST.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows := map[string]map[string]string{}
	var header []string
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
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
		rows[row["file"]] = row
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return rows
}

// TestCatalogVerifiedAgainstManifest: every entry marked verified names a
// fixture, and its sha256, size and URL (commit and path) are MANIFEST.tsv's.
func TestCatalogVerifiedAgainstManifest(t *testing.T) {
	rows := manifest(t)
	verified := 0
	for _, e := range models.Catalog() {
		if !e.Verified {
			continue
		}
		verified++
		row, ok := rows[e.Fixture]
		if !ok {
			t.Errorf("%s: fixture %q is not in MANIFEST.tsv", e.Name, e.Fixture)
			continue
		}
		if e.SHA256 != row["sha256"] {
			t.Errorf("%s: sha256 %s, MANIFEST.tsv says %s", e.Name, e.SHA256, row["sha256"])
		}
		if fmt.Sprint(e.Size) != row["bytes"] {
			t.Errorf("%s: size %d, MANIFEST.tsv says %s", e.Name, e.Size, row["bytes"])
		}
		wantURL := fmt.Sprintf("https://raw.githubusercontent.com/%s/%s/%s", row["source_repo"], row["commit"], row["path_in_repo"])
		if e.URL != wantURL {
			t.Errorf("%s: url %s, MANIFEST.tsv gives %s", e.Name, e.URL, wantURL)
		}
	}
	if verified != 11 {
		t.Errorf("%d verified entries, want the 11 fixture models", verified)
	}
	// The label files every entry points to are fixtures too.
	for name, fixture := range map[string]string{
		"imagenet_labels.txt": "labels/imagenet_labels_1001_coral.txt",
		"coco_labels.txt":     "labels/coco_labels_90_coral.txt",
	} {
		for _, e := range models.Catalog() {
			if e.Labels.Name == name && e.Labels.SHA256 != rows[fixture]["sha256"] {
				t.Errorf("%s: labels %s sha256 %s, MANIFEST.tsv says %s", e.Name, name, e.Labels.SHA256, rows[fixture]["sha256"])
			}
		}
	}
}

func TestCatalogCoversTheFamily(t *testing.T) {
	have := map[string]models.Entry{}
	for _, e := range models.Catalog() {
		have[e.Name] = e
	}
	for _, w := range []string{"0.25", "0.5", "0.75", "1.0"} {
		for _, r := range []int{128, 160, 192, 224} {
			name := fmt.Sprintf("mobilenet_v1_%s_%d_quant", w, r)
			e, ok := have[name]
			if !ok {
				t.Errorf("no %s", name)
				continue
			}
			if e.WidthString() != w || e.Resolution != r || e.Archive != name+".tflite" || !strings.HasSuffix(e.URL, "/mobilenet_v1_2018_08_02/"+name+".tgz") {
				t.Errorf("%s: %+v", name, e)
			}
		}
	}
	for _, name := range []string{
		"mobilenet_v2_1.0_224_quant", "mobilenet_v3_large_1.0_224_uint8", "mobilenet_v3_small_1.0_224_uint8",
		"mobilenet_v3_large_minimalistic_1.0_224_uint8", "ssd_mobilenet_v1_coco_quant", "ssd_mobilenet_v2_coco_quant_postprocess",
		"mobilenet_v1_0.25_128_quant_edgetpu", "mobilenet_v2_1.0_224_quant_edgetpu", "ssd_mobilenet_v2_coco_quant_postprocess_edgetpu",
	} {
		if _, ok := have[name]; !ok {
			t.Errorf("no %s", name)
		}
	}
	for _, e := range have {
		if e.EdgeTPU != strings.Contains(e.Name, "edgetpu") {
			t.Errorf("%s: edgetpu %v", e.Name, e.EdgeTPU)
		}
		if e.Family == models.SSD && (e.Labels.Name != "coco_labels.txt" || e.Resolution != 300) {
			t.Errorf("%s: labels %s resolution %d", e.Name, e.Labels.Name, e.Resolution)
		}
		if e.Quant == "uint8" && !e.Preprocess.Raw {
			t.Errorf("%s: quantized models take raw pixels, have %s", e.Name, e.Preprocess)
		}
	}
}

func TestLookup(t *testing.T) {
	e, err := models.Lookup("mobilenet_v2_1.0_224_quant_coral")
	if err != nil || e.Family != models.V2 || e.Resolution != 224 || !e.Verified {
		t.Fatalf("Lookup = %+v, %v", e, err)
	}
	_, err = models.Lookup("mobilenet_v1_0.25_128")
	if !errors.Is(err, models.ErrUnknownModel) || !strings.Contains(err.Error(), "did you mean mobilenet_v1_0.25_128_quant") {
		t.Errorf("near miss: %v", err)
	}
	_, err = models.Lookup("resnet50")
	if !errors.Is(err, models.ErrUnknownModel) || !strings.Contains(err.Error(), "edge models list") {
		t.Errorf("unknown: %v", err)
	}
	// Catalog returns a copy.
	c := models.Catalog()
	c[0].Name = "changed"
	if models.Catalog()[0].Name == "changed" {
		t.Error("Catalog shares its slice with the caller")
	}
}

func TestWriteCatalog(t *testing.T) {
	var sb strings.Builder
	if err := models.WriteCatalog(&sb, models.Catalog()); err != nil {
		t.Fatal(err)
	}
	out := sb.String()
	for _, want := range []string{"NAME", "mobilenet_v1_0.25_128_quant_edgetpu", "verified", "published", "unknown", "v3-large-minimalistic"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
}
