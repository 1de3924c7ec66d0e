package metrics_test

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/edgeproject/edge/edge/metrics"
	"github.com/edgeproject/edge/edge/pipeline"
	"github.com/edgeproject/edge/edge/service"
)

// The daemon's wiring: the pipeline's OnResult feeds the metrics, the
// heartbeat and the snapshot; the server answers Prometheus and health
// checks until ctx ends.
func Example() {
	var hb service.Heartbeat
	m, err := metrics.New(metrics.HealthFunc(func() error { return hb.Check(10 * time.Second) }))
	if err != nil {
		fmt.Println(err)
		return
	}
	m.DeclareRules("person-at-door")
	var latest metrics.LatestFrame
	onResult := func(res pipeline.Result) { // pipeline.Config.OnResult
		hb.Beat()
		m.Observe(res)
		if res.Frame != nil {
			latest.Store(res.Frame.Pix, res.Frame.Width, res.Frame.Height)
		}
	}

	srv, err := metrics.NewServer("127.0.0.1:0", m, latest.JPEG) // metrics.DefaultAddr in edge
	if err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error)
	go func() { done <- srv.Serve(ctx) }()

	var res pipeline.Result
	res.Timings[pipeline.StageInvoke] = 12 * time.Millisecond
	res.Fired = []string{"person-at-door"}
	onResult(res)
	m.SetReady(true)

	resp, err := http.Get("http://" + srv.Addr().String() + "/metrics")
	if err != nil {
		fmt.Println(err)
		return
	}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		for _, p := range []string{"edge_frames_total ", "edge_events_total{", "edge_invoke_seconds_count", "edge_up ", "edge_ready "} {
			if strings.HasPrefix(line, p) {
				fmt.Println(line)
			}
		}
	}
	resp.Body.Close()
	cancel()
	fmt.Println("serve:", <-done)
	// Output:
	// edge_events_total{rule="person-at-door"} 1
	// edge_frames_total 1
	// edge_invoke_seconds_count 1
	// edge_ready 1
	// edge_up 1
	// serve: <nil>
}
