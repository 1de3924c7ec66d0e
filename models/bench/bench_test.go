// These tests run models on the TFLite C library: a build without it (tag
// nolibtflite, the armhf build) leaves them out.

//go:build cgo && !nolibtflite

package bench_test

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"runtime"
	"testing"
	"time"

	"github.com/edgeproject/edge/models/arch"
	"github.com/edgeproject/edge/models/bench"
)

func TestRun(t *testing.T) {
	before := runtime.NumGoroutine()
	res, err := bench.Run(context.Background(), bench.Options{Archs: []string{"v3-small", "v1"}, Build: arch.Options{Resolution: 128}, Runs: 3, Warmup: 1, Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 2 || res[0].Arch != arch.V3Small || res[1].Arch != arch.V1 {
		t.Fatalf("results %+v", res)
	}
	for _, r := range res {
		if len(r.Latencies) != 3 || r.Min <= 0 || r.Min > r.Median || r.Median > r.P90 || r.Mean <= 0 || r.MAdds == 0 || r.ModelBytes == 0 {
			t.Errorf("%+v", r)
		}
	}
	var svg bytes.Buffer
	if err := bench.Chart("latency", res).WriteSVG(&svg); err != nil {
		t.Fatal(err)
	}
	dec := xml.NewDecoder(&svg)
	rects := 0
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("chart is not well-formed XML: %v", err)
		}
		if se, ok := tok.(xml.StartElement); ok && se.Name.Local == "rect" {
			rects++
		}
	}
	if rects != 3 { // background and two bars
		t.Errorf("%d rects, want 3", rects)
	}
	time.Sleep(10 * time.Millisecond)
	if n := runtime.NumGoroutine(); n > before {
		t.Errorf("%d goroutines after Run, %d before", n, before)
	}
}

func TestRunStopsOnCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	res, err := bench.Run(ctx, bench.Options{Archs: []string{"v3-small"}})
	if !errors.Is(err, context.Canceled) || len(res) != 0 {
		t.Errorf("Run on a canceled context = %v, %v", res, err)
	}
	if _, err := bench.Run(context.Background(), bench.Options{Archs: []string{"v9"}}); err == nil {
		t.Error("unknown architecture: no error")
	}
}

func ExampleRun() {
	res, err := bench.Run(context.Background(), bench.Options{Archs: []string{"mobilenet_v3_small"}, Runs: 2, Threads: 1})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range res {
		// r.Median, r.P90 ... hold the latencies.
		fmt.Printf("%s: %d params, %d MAdds, %s, %d timed runs\n", r.Arch, r.Params, r.MAdds, r.Delegation, len(r.Latencies))
	}
	// Output:
	// mobilenet_v3_small: 2537843 params, 56511424 MAdds, cpu (118 nodes), 2 timed runs
}
