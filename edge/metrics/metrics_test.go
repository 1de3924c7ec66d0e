package metrics

import (
	"context"
	"errors"
	"image"
	"image/jpeg"
	"io"
	"math"
	"net/http"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/edgeproject/edge/edge/pipeline"
	"github.com/edgeproject/edge/edge/service"
)

// counters is a fixed Counters.
type counters struct{ dropped, reconnects uint64 }

func (c counters) Dropped() uint64    { return c.dropped }
func (c counters) Reconnects() uint64 { return c.reconnects }

// start serves m on a free loopback port until the test ends, and returns
// the base URL.
func start(t *testing.T, m *Metrics, snap SnapshotFunc) string {
	t.Helper()
	s, err := NewServer("127.0.0.1:0", m, snap)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
		http.DefaultClient.CloseIdleConnections()
	})
	return "http://" + s.Addr().String()
}

func get(t *testing.T, url string) (int, http.Header, []byte) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	return resp.StatusCode, resp.Header, body
}

// scrape GETs /metrics and parses it as Prometheus does.
func scrape(t *testing.T, base string) map[string]*dto.MetricFamily {
	t.Helper()
	code, _, body := get(t, base+"/metrics")
	if code != http.StatusOK {
		t.Fatalf("GET /metrics: %d %s", code, body)
	}
	p := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(string(body)))
	if err != nil {
		t.Fatalf("parse /metrics: %v\n%s", err, body)
	}
	return fams
}

// sample finds the metric of family name with the label (if any) and
// returns its value: a counter's or gauge's value, a histogram's count.
func sample(t *testing.T, fams map[string]*dto.MetricFamily, name, label, value string) (float64, *dto.Metric) {
	t.Helper()
	f := fams[name]
	if f == nil {
		t.Fatalf("no %s in the scrape", name)
	}
	for _, m := range f.GetMetric() {
		if label != "" {
			found := false
			for _, lp := range m.GetLabel() {
				found = found || lp.GetName() == label && lp.GetValue() == value
			}
			if !found {
				continue
			}
		}
		switch f.GetType() {
		case dto.MetricType_COUNTER:
			return m.GetCounter().GetValue(), m
		case dto.MetricType_GAUGE:
			return m.GetGauge().GetValue(), m
		case dto.MetricType_HISTOGRAM:
			return float64(m.GetHistogram().GetSampleCount()), m
		}
		t.Fatalf("%s has type %v", name, f.GetType())
	}
	t.Fatalf("no %s{%s=%q} in the scrape", name, label, value)
	return 0, nil
}

func result(invoke time.Duration, fired ...string) pipeline.Result {
	var r pipeline.Result
	r.Timings[pipeline.StagePreprocess] = time.Millisecond
	r.Timings[pipeline.StageInvoke] = invoke
	r.Timings[pipeline.StagePostprocess] = 300 * time.Microsecond
	r.Timings[pipeline.StageActions] = 50 * time.Microsecond
	r.Timings[pipeline.StageTotal] = invoke + 2*time.Millisecond
	r.Fired = fired
	return r
}

func TestScrape(t *testing.T) {
	m, err := New(nil)
	if err != nil {
		t.Fatal(err)
	}
	m.DeclareRules("person-at-door", "car-in-drive")
	m.Observe(result(3*time.Millisecond, "person-at-door"))
	m.Observe(result(30*time.Millisecond, "person-at-door", "lamp"))
	m.Observe(result(300 * time.Millisecond))
	m.SetCounters(counters{dropped: 5, reconnects: 2})
	m.SetCounters(counters{dropped: 1, reconnects: 1}) // a reload: the totals go on
	m.SetReady(true)
	fams := scrape(t, start(t, m, nil))

	for _, tc := range []struct {
		name, label, value string
		want               float64
	}{
		{"edge_frames_total", "", "", 3},
		{"edge_frames_dropped_total", "", "", 6},
		{"edge_camera_reconnects_total", "", "", 3},
		{"edge_events_total", "rule", "person-at-door", 2},
		{"edge_events_total", "rule", "lamp", 1},
		{"edge_events_total", "rule", "car-in-drive", 0},
		{"edge_stage_seconds", "stage", "invoke", 3},
		{"edge_stage_seconds", "stage", "preprocess", 3},
		{"edge_stage_seconds", "stage", "total", 3},
		{"edge_stage_seconds", "stage", "capture", 0}, // not timed in a Result
		{"edge_invoke_seconds", "", "", 3},
		{"edge_up", "", "", 1},
		{"edge_ready", "", "", 1},
	} {
		t.Run(tc.name+"/"+tc.value, func(t *testing.T) {
			if got, _ := sample(t, fams, tc.name, tc.label, tc.value); got != tc.want {
				t.Errorf("%s{%s=%q} = %v, want %v", tc.name, tc.label, tc.value, got, tc.want)
			}
		})
	}

	t.Run("invoke buckets", func(t *testing.T) {
		_, m := sample(t, fams, "edge_invoke_seconds", "", "")
		h := m.GetHistogram()
		if want := 0.333; math.Abs(h.GetSampleSum()-want) > 1e-9 {
			t.Errorf("sum %v, want %v", h.GetSampleSum(), want)
		}
		want := map[float64]uint64{0.002: 0, 0.005: 1, 0.02: 1, 0.05: 2, 0.2: 2, 0.5: 3, 2: 3}
		seen := 0
		for _, b := range h.GetBucket() {
			if w, ok := want[b.GetUpperBound()]; ok {
				seen++
				if b.GetCumulativeCount() != w {
					t.Errorf("bucket le=%v: %d, want %d", b.GetUpperBound(), b.GetCumulativeCount(), w)
				}
			}
		}
		if seen != len(want) || len(h.GetBucket()) != len(buckets())+1 { // and +Inf
			t.Errorf("%d buckets, want the %d of Buckets and +Inf", len(h.GetBucket()), len(buckets()))
		}
	})
	t.Run("fps", func(t *testing.T) {
		if got, _ := sample(t, fams, "edge_fps", "", ""); got <= 0 {
			t.Errorf("edge_fps = %v right after 3 frames, want > 0", got)
		}
	})
	t.Run("go and process", func(t *testing.T) {
		for _, name := range []string{"go_goroutines", "go_memstats_heap_alloc_bytes", "process_resident_memory_bytes", "process_open_fds"} {
			if fams[name] == nil {
				t.Errorf("no %s", name)
			}
		}
	})
}

func TestFPS(t *testing.T) {
	t0 := time.Now()
	if got := newRateCollector(5 * time.Second).fps(t0); got != 0 {
		t.Errorf("no frames: fps %v, want 0", got)
	}
	for _, tc := range []struct {
		name   string
		every  time.Duration // between frames
		frames int
		after  time.Duration // from the last frame to the scrape
		want   float64
	}{
		{"steady 20 fps", 50 * time.Millisecond, 300, 0, 20},
		{"between frames", 50 * time.Millisecond, 300, 25 * time.Millisecond, 20},
		{"more than the ring holds", 10 * time.Millisecond, 1000, 0, 100},
		{"one frame", 0, 1, 0, 0},
		{"stopped", 50 * time.Millisecond, 300, 6 * time.Second, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRateCollector(5 * time.Second)
			for i := range tc.frames {
				r.add(t0.Add(time.Duration(i) * tc.every))
			}
			last := t0.Add(time.Duration(tc.frames-1) * tc.every)
			if got := r.fps(last.Add(tc.after)); math.Abs(got-tc.want) > 0.3 {
				t.Errorf("fps %.2f, want %.2f", got, tc.want)
			}
		})
	}
}

// /healthz follows the pipeline's heartbeat; so does edge_up.
func TestHealthz(t *testing.T) {
	var hb service.Heartbeat
	m, err := New(HealthFunc(func() error { return hb.Check(150 * time.Millisecond) }))
	if err != nil {
		t.Fatal(err)
	}
	base := start(t, m, nil)
	check := func(wantCode int, wantBody string, wantUp float64) {
		t.Helper()
		code, _, body := get(t, base+"/healthz")
		if code != wantCode || !strings.Contains(string(body), wantBody) {
			t.Errorf("/healthz: %d %q, want %d %q", code, body, wantCode, wantBody)
		}
		if up, _ := sample(t, scrape(t, base), "edge_up", "", ""); up != wantUp {
			t.Errorf("edge_up = %v, want %v", up, wantUp)
		}
	}
	check(http.StatusServiceUnavailable, "no frame processed yet", 0)
	hb.Beat()
	check(http.StatusOK, "ok", 1)
	time.Sleep(200 * time.Millisecond) // the beats stop
	check(http.StatusServiceUnavailable, "pipeline stalled: last frame", 0)
	hb.Beat()
	check(http.StatusOK, "ok", 1)
}

func TestSnapshot(t *testing.T) {
	const w, h = 64, 48
	rgb := make([]byte, w*h*3)
	for i := range w * h {
		rgb[3*i], rgb[3*i+1], rgb[3*i+2] = 200, 40, 40 // red
	}
	var lf LatestFrame
	base := start(t, mustNew(t), lf.JPEG)

	code, _, body := get(t, base+"/snapshot.jpg")
	if code != http.StatusServiceUnavailable {
		t.Errorf("before a frame: %d %q, want 503", code, body)
	}
	lf.Store(rgb, w, h)
	code, hdr, body := get(t, base+"/snapshot.jpg")
	if code != http.StatusOK || hdr.Get("Content-Type") != "image/jpeg" {
		t.Fatalf("GET /snapshot.jpg: %d %s", code, hdr.Get("Content-Type"))
	}
	img, err := jpeg.Decode(strings.NewReader(string(body)))
	if err != nil {
		t.Fatalf("decode /snapshot.jpg: %v", err)
	}
	if img.Bounds() != image.Rect(0, 0, w, h) {
		t.Errorf("snapshot is %v, want %dx%d", img.Bounds(), w, h)
	}
	if r, g, b, _ := img.At(w/2, h/2).RGBA(); r>>8 < 170 || g>>8 > 80 || b>>8 > 80 {
		t.Errorf("center pixel %d,%d,%d, want about 200,40,40", r>>8, g>>8, b>>8)
	}

	t.Run("not enabled", func(t *testing.T) {
		base := start(t, mustNew(t), nil)
		if code, _, _ := get(t, base+"/snapshot.jpg"); code != http.StatusNotFound {
			t.Errorf("without a SnapshotFunc: %d, want 404", code)
		}
	})
	t.Run("error", func(t *testing.T) {
		base := start(t, mustNew(t), func() ([]byte, error) { return nil, errors.New("camera busy") })
		if code, _, body := get(t, base+"/snapshot.jpg"); code != http.StatusInternalServerError || !strings.Contains(string(body), "camera busy") {
			t.Errorf("failing SnapshotFunc: %d %q, want 500 naming the error", code, body)
		}
	})
}

func TestLatestFrame(t *testing.T) {
	lf := LatestFrame{Every: time.Hour}
	if _, err := lf.JPEG(); !errors.Is(err, ErrNoFrame) {
		t.Errorf("JPEG before a frame: %v, want ErrNoFrame", err)
	}
	lf.Store(make([]byte, 10), 4, 4) // wrong size: ignored
	if _, err := lf.JPEG(); !errors.Is(err, ErrNoFrame) {
		t.Errorf("after a bad frame: %v, want ErrNoFrame", err)
	}
	lf.Store(make([]byte, 8*8*3), 8, 8)
	first, err := lf.JPEG()
	if err != nil {
		t.Fatal(err)
	}
	lf.Store(make([]byte, 16*16*3), 16, 16) // within Every: not kept
	again, _ := lf.JPEG()
	if &again[0] != &first[0] {
		t.Error("the encoding was not reused while no newer frame was kept")
	}
	if img, _ := jpeg.Decode(strings.NewReader(string(again))); img.Bounds().Dx() != 8 {
		t.Errorf("snapshot %v, want the 8x8 frame (Every drops the 16x16 one)", img.Bounds())
	}
}

func mustNew(t *testing.T) *Metrics {
	t.Helper()
	m, err := New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// Cancelling ctx stops the server within ShutdownTimeout even with a
// request hanging, and leaves no goroutine behind.
func TestServeShutdown(t *testing.T) {
	baseline := runtime.NumGoroutine()
	release := make(chan struct{})
	var entered atomic.Bool
	hang := func() ([]byte, error) { entered.Store(true); <-release; return nil, ErrNoFrame }
	m := mustNew(t)
	s, err := NewServer("127.0.0.1:0", m, hang)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx) }()
	base := "http://" + s.Addr().String()
	client := &http.Client{Transport: &http.Transport{}}
	for range 3 {
		resp, err := client.Get(base + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	go func() { // hangs in the handler until released
		if resp, err := client.Get(base + "/snapshot.jpg"); err == nil {
			resp.Body.Close()
		}
	}()
	for !entered.Load() {
		time.Sleep(time.Millisecond)
	}

	cancel()
	stopped := time.Now()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Serve: %v", err)
		}
	case <-time.After(ShutdownTimeout + time.Second):
		t.Fatal("Serve did not return after cancel")
	}
	if d := time.Since(stopped); d > ShutdownTimeout+300*time.Millisecond {
		t.Errorf("shutdown took %v, want at most %v", d, ShutdownTimeout)
	}
	if _, err := http.Get(base + "/healthz"); err == nil {
		t.Error("the server still answers after shutdown")
	}
	close(release)
	s.Close()
	client.CloseIdleConnections()

	deadline := time.Now().Add(2 * time.Second)
	for runtime.NumGoroutine() > baseline && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > baseline {
		buf := make([]byte, 1<<16)
		t.Errorf("%d goroutines after shutdown, %d before:\n%s", n, baseline, buf[:runtime.Stack(buf, true)])
	}
}

func TestNewServerErrors(t *testing.T) {
	if _, err := NewServer("127.0.0.1:99999", mustNew(t), nil); err == nil || !strings.Contains(err.Error(), "127.0.0.1:99999") {
		t.Errorf("bad port: %v, want an error naming the address", err)
	}
	if _, err := NewServer("127.0.0.1:0", nil, nil); err == nil {
		t.Error("nil Metrics: no error")
	}
	host, _, _ := strings.Cut(DefaultAddr, ":")
	if host != "127.0.0.1" {
		t.Errorf("DefaultAddr %s is not loopback only", DefaultAddr)
	}
}

func TestMetricNames(t *testing.T) {
	m := mustNew(t)
	fams, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		name := f.GetName()
		if strings.HasPrefix(name, "go_") || strings.HasPrefix(name, "process_") {
			continue
		}
		if !strings.HasPrefix(name, "edge_") {
			t.Errorf("%s: want the edge_ prefix", name)
		}
		if f.GetType() == dto.MetricType_COUNTER && !strings.HasSuffix(name, "_total") {
			t.Errorf("counter %s: want the _total suffix", name)
		}
		if f.GetType() == dto.MetricType_HISTOGRAM && !strings.HasSuffix(name, "_seconds") {
			t.Errorf("histogram %s: want the _seconds unit", name)
		}
	}
}

func TestServeFunc(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	start := time.Now()
	if err := Serve(ctx, "127.0.0.1:0", mustNew(t), nil); err != nil {
		t.Errorf("Serve with an ended ctx: %v", err)
	}
	if d := time.Since(start); d > ShutdownTimeout {
		t.Errorf("Serve with an ended ctx took %v", d)
	}
	if err := Serve(context.Background(), "127.0.0.1:-1", mustNew(t), nil); err == nil || !strings.Contains(err.Error(), "127.0.0.1:-1") {
		t.Errorf("Serve on a bad address: %v, want an error naming it", err)
	}

	s, err := NewServer("127.0.0.1:0", mustNew(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("Close before Serve: %v", err)
	}
	if err := s.Serve(context.Background()); err != nil {
		t.Errorf("Serve after Close: %v, want nil at once", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}
