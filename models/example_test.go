package models_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"

	"github.com/edgeproject/edge/models"
	"github.com/edgeproject/edge/models/arch"
)

func ExampleCatalog() {
	count := map[models.Family]int{}
	verified := 0
	for _, e := range models.Catalog() {
		count[e.Family]++
		if e.Verified {
			verified++
		}
	}
	fmt.Println("v1:", count[models.V1], "v2:", count[models.V2], "v3:", count[models.V3], "ssd:", count[models.SSD])
	fmt.Println("sha256 verified against the fixtures:", verified)
	// Output:
	// v1: 23 v2: 4 v3: 4 ssd: 6
	// sha256 verified against the fixtures: 11
}

func ExampleLookup() {
	e, err := models.Lookup("mobilenet_v1_0.25_128_quant")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(e.URL)
	fmt.Println("member:", e.Archive, "input:", e.Input, e.Preprocess)
	fmt.Println("published:", e.Published.MAdds, "M MAdds,", e.Published.Params, "M params")
	_, err = models.Lookup("mobilenet_v9")
	fmt.Println(err)
	// Output:
	// https://storage.googleapis.com/download.tensorflow.org/models/mobilenet_v1_2018_08_02/mobilenet_v1_0.25_128_quant.tgz
	// member: mobilenet_v1_0.25_128_quant.tflite input: uint8[1 128 128 3] raw pixels
	// published: 14 M MAdds, 0.47 M params
	// unknown model "mobilenet_v9": the catalog has 37 models (edge models list)
}

func ExampleFetch() {
	// A stand-in for the model's server; real code passes the catalog entry as is.
	model, _ := arch.Build("v3-small", arch.Options{Resolution: 96})
	data, _ := model.Bytes()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(data) }))
	defer srv.Close()
	h := sha256.Sum256(data)
	e := models.Entry{Name: "example", URL: srv.URL + "/example.tflite", SHA256: hex.EncodeToString(h[:])}

	dir, _ := os.MkdirTemp("", "models-example-")
	defer os.RemoveAll(dir)
	path, err := models.Fetch(context.Background(), e, dir, nil) // nil: no progress bar
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(filepath.Base(path))

	e.SHA256 = strings.Repeat("0", 64) // the wrong sum: refused, nothing stored
	os.Remove(path)
	_, err = models.Fetch(context.Background(), e, dir, nil)
	fmt.Println(strings.Contains(err.Error(), "sha256 mismatch: expected 0000"))
	left, _ := os.ReadDir(dir)
	fmt.Println(len(left), "files left")
	// Output:
	// example.tflite
	// true
	// 0 files left
}

func ExampleAnalyzeArchitecture() {
	r, err := models.AnalyzeArchitecture("mobilenet_v1", arch.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("params", models.Millions(r.Params), "MAdds", models.Millions(r.MAdds))
	fmt.Println("peak activations", models.Bytes(r.PeakActivationBytes), "at operator", r.PeakAt)
	fmt.Println("first layer:", r.Layers[0].Op, r.Layers[0].Kernel, r.Layers[0].Output, r.Layers[0].MAdds)
	// Output:
	// params 4.22M MAdds 568.74M
	// peak activations 1.1 MiB at operator 2
	// first layer: CONV_2D 3x3 [1 112 112 32] 10838016
}

func ExampleAnalyzeFile() {
	dir := os.Getenv("EDGE_FIXTURES")
	if dir == "" {
		dir = "../../shared/fixtures"
	}
	r, err := models.AnalyzeFile(filepath.Join(dir, "models/classification/mobilenet_v2_1.0_224_quant.tflite"))
	if err != nil {
		fmt.Println("no fixtures")
		return
	}
	fmt.Println(models.Millions(r.Params), "params,", models.Millions(r.MAdds), "MAdds,", r.Ops["ADD"], "residual ADDs")
	// Output:
	// 3.49M params, 300.78M MAdds, 10 residual ADDs
}

func ExampleSeedTable() {
	rows, err := models.SeedTable()
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range rows {
		fmt.Printf("%-18s %s params (seed %gM)  %s MAdds (seed %gM)\n", r.Arch, models.Millions(r.Report.Params), r.SeedParams, models.Millions(r.Report.MAdds), r.SeedMAdds)
	}
	// Output:
	// mobilenet_v1       4.22M params (seed 4.2M)  568.74M MAdds (seed 569M)
	// mobilenet_v2       3.49M params (seed 3.4M)  300.78M MAdds (seed 300M)
	// mobilenet_v3_large 5.47M params (seed 5.4M)  216.59M MAdds (seed 219M)
	// mobilenet_v3_small 2.54M params (seed 2.5M)  56.51M MAdds (seed 66M)
}

func ExampleChart_WriteSVG() {
	c := models.Chart{Title: "MobileNet latency", Unit: "ms", Bars: []models.Bar{
		{Label: "mobilenet_v1", Value: 41.5, Note: "569M MAdds"},
		{Label: "mobilenet_v3_small", Value: 6.2, Note: "57M MAdds"},
	}}
	var sb strings.Builder
	if err := c.WriteSVG(&sb); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(strings.SplitN(sb.String(), "\n", 2)[0])
	fmt.Println(strings.Count(sb.String(), "<rect"), "rects")
	// Output:
	// <svg xmlns="http://www.w3.org/2000/svg" width="720" height="144" viewBox="0 0 720 144" font-family="sans-serif" font-size="13">
	// 3 rects
}
