// Package metrics exports edge's numbers to Prometheus and serves the
// daemon's HTTP status endpoints: /metrics, /healthz and /snapshot.jpg.
//
// A [Metrics] owns its own registry (never the global one) with:
//
//	edge_frames_total                  frames processed (counter)
//	edge_frames_dropped_total          frames dropped because inference was busy (counter)
//	edge_events_total{rule}            rules fired (counter)
//	edge_camera_reconnects_total       camera reopens after a failure (counter)
//	edge_stage_seconds{stage}          time per pipeline stage (histogram)
//	edge_invoke_seconds                TFLite Invoke time (histogram)
//	edge_fps                           frames processed per second over the last 5 s (gauge)
//	edge_up                            1 while the pipeline makes progress (gauge)
//	edge_ready                         1 once the daemon is running its config (gauge)
//
// plus the Go runtime's go_* and the process's process_* metrics.
//
// The per-frame numbers come from [Metrics.Observe], called with each
// pipeline.Result (pipeline.Config.OnResult). The counters a pipeline and a
// camera keep themselves are read at scrape time through [Counters], and
// stay monotonic when a reload replaces the pipeline.
//
// [Server] serves them, by default on 127.0.0.1:9101 only.
package metrics

import (
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/edgeproject/edge/edge/pipeline"
)

// buckets are the bounds, in seconds, of the stage and invoke histograms:
// 0.1 ms to 2 s in 1-2-5 steps, from a Coral Edge TPU invoke to a slow
// CPU model on a Raspberry Pi 3.
func buckets() []float64 {
	return []float64{
		0.0001, 0.0002, 0.0005,
		0.001, 0.002, 0.005,
		0.01, 0.02, 0.05,
		0.1, 0.2, 0.5,
		1, 2,
	}
}

// Counters are the totals that the running pipeline and camera keep
// themselves, read at scrape time. In edge they are the pipeline's
// Stats().Dropped and the camera.Reconnector's Reconnects.
type Counters interface {
	// Dropped is how many frames were dropped because inference was busy.
	Dropped() uint64
	// Reconnects is how many times the camera was reopened after a failure.
	Reconnects() uint64
}

// Health tells whether the pipeline makes progress: nil, or an error that
// says why not (a service.Heartbeat's Check with the stall limit).
type Health interface {
	Check() error
}

// HealthFunc adapts a function to Health.
type HealthFunc func() error

// Check returns f().
func (f HealthFunc) Check() error { return f() }

// Metrics holds edge's metrics on a registry of its own. Its methods are
// safe to call from several goroutines.
type Metrics struct {
	reg *prometheus.Registry

	frames prometheus.Counter
	events *prometheus.CounterVec
	stages [pipeline.NumStages]prometheus.Observer
	invoke prometheus.Histogram
	ready  prometheus.Gauge

	rate     *rateCollector
	counters *countersCollector
	health   Health
}

// New makes the metrics and registers them, with the Go and process
// collectors, on a new registry. health (nil: always healthy) gives edge_up
// and the answer of /healthz.
func New(health Health) (*Metrics, error) {
	if health == nil {
		health = HealthFunc(func() error { return nil })
	}
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		frames: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "edge_frames_total",
			Help: "Frames processed by the pipeline (model, rules and actions).",
		}),
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "edge_events_total",
			Help: "Times a rule fired, by rule.",
		}, []string{"rule"}),
		invoke: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "edge_invoke_seconds",
			Help:    "Time of one TFLite Invoke (inference alone).",
			Buckets: buckets(),
		}),
		ready: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "edge_ready",
			Help: "1 once the daemon runs its config (systemd READY=1 sent), 0 while starting or reloading.",
		}),
		rate:     newRateCollector(5 * time.Second),
		counters: newCountersCollector(),
		health:   health,
	}
	stages := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "edge_stage_seconds",
		Help:    "Time per pipeline stage of a processed frame; total runs from capture to the end of the actions.",
		Buckets: buckets(),
	}, []string{"stage"})
	for st := pipeline.Stage(0); st < pipeline.NumStages; st++ {
		m.stages[st] = stages.WithLabelValues(st.String())
	}
	for _, c := range []prometheus.Collector{
		m.frames, m.events, stages, m.invoke, m.ready,
		m.rate, m.counters, newHealthCollector(health),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	} {
		if err := m.reg.Register(c); err != nil {
			return nil, fmt.Errorf("metrics: register: %w", err)
		}
	}
	return m, nil
}

// Observe counts one processed frame: its stage times, its Invoke time and
// the rules that fired. It suits pipeline.Config.OnResult (it keeps nothing
// of the frame). A zero stage time is a stage that was not timed for this
// frame, and is not observed.
func (m *Metrics) Observe(res pipeline.Result) {
	m.frames.Inc()
	m.rate.add(time.Now())
	for st, d := range res.Timings {
		if d > 0 {
			m.stages[st].Observe(d.Seconds())
		}
	}
	if d := res.Timings[pipeline.StageInvoke]; d > 0 {
		m.invoke.Observe(d.Seconds())
	}
	for _, rule := range res.Fired {
		m.events.WithLabelValues(rule).Inc()
	}
}

// DeclareRules makes edge_events_total{rule} exist, at 0, for each rule of
// the config, so that rates and alerts work before a rule first fires.
func (m *Metrics) DeclareRules(names ...string) {
	for _, n := range names {
		m.events.WithLabelValues(n)
	}
}

// SetCounters makes c the source of edge_frames_dropped_total and
// edge_camera_reconnects_total: call it with each new pipeline and camera
// (at start and after a reload). The totals of the previous source, read
// now, are kept, so the exported counters never go back; set c after the
// previous pipeline has stopped. A nil c keeps the totals as they are.
func (m *Metrics) SetCounters(c Counters) { m.counters.set(c) }

// SetReady sets edge_ready.
func (m *Metrics) SetReady(ready bool) {
	if ready {
		m.ready.Set(1)
	} else {
		m.ready.Set(0)
	}
}

// Registry returns the registry, for collectors of other parts of edge.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the registry in the Prometheus text format (/metrics).
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// countersCollector exports the Counters of the running pipeline and camera.
type countersCollector struct {
	dropped, reconnects *prometheus.Desc

	mu                          sync.Mutex
	cur                         Counters
	baseDropped, baseReconnects uint64
}

func newCountersCollector() *countersCollector {
	return &countersCollector{
		dropped: prometheus.NewDesc("edge_frames_dropped_total",
			"Frames dropped because inference was still busy with an earlier one (live cameras).", nil, nil),
		reconnects: prometheus.NewDesc("edge_camera_reconnects_total",
			"Times the camera or stream was reopened after a failure.", nil, nil),
	}
}

func (c *countersCollector) set(next Counters) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cur != nil {
		c.baseDropped += c.cur.Dropped()
		c.baseReconnects += c.cur.Reconnects()
	}
	c.cur = next
}

func (c *countersCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.dropped
	ch <- c.reconnects
}

func (c *countersCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	dropped, reconnects := c.baseDropped, c.baseReconnects
	if c.cur != nil {
		dropped += c.cur.Dropped()
		reconnects += c.cur.Reconnects()
	}
	c.mu.Unlock()
	ch <- prometheus.MustNewConstMetric(c.dropped, prometheus.CounterValue, float64(dropped))
	ch <- prometheus.MustNewConstMetric(c.reconnects, prometheus.CounterValue, float64(reconnects))
}

// healthCollector exports the Health check as edge_up.
type healthCollector struct {
	health Health
	desc   *prometheus.Desc
}

func newHealthCollector(h Health) *healthCollector {
	return &healthCollector{health: h, desc: prometheus.NewDesc("edge_up",
		"1 while the pipeline makes progress (a frame within the stall limit), else 0; /healthz says why.", nil, nil)}
}

func (c *healthCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *healthCollector) Collect(ch chan<- prometheus.Metric) {
	up := 1.0
	if c.health.Check() != nil {
		up = 0
	}
	ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, up)
}

// rateCollector exports the processed frame rate over a recent window as
// edge_fps. It keeps the times of the last frames in a ring.
type rateCollector struct {
	desc   *prometheus.Desc
	window time.Duration

	mu    sync.Mutex
	times [256]time.Time
	next  int // index of the slot the next frame goes to
	n     int // frames in the ring
}

func newRateCollector(window time.Duration) *rateCollector {
	return &rateCollector{
		desc: prometheus.NewDesc("edge_fps",
			fmt.Sprintf("Frames processed per second over the last %s (0 when none).", window), nil, nil),
		window: window,
	}
}

func (r *rateCollector) add(t time.Time) {
	r.mu.Lock()
	r.times[r.next] = t
	r.next = (r.next + 1) % len(r.times)
	r.n = min(r.n+1, len(r.times))
	r.mu.Unlock()
}

// fps is the rate of the frames within the window before now: the frames
// after the oldest one in it, over the time from that one to now.
func (r *rateCollector) fps(now time.Time) float64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	var oldest time.Time
	count := 0
	for i := 1; i <= r.n; i++ { // newest first
		t := r.times[(r.next-i+len(r.times))%len(r.times)]
		if now.Sub(t) > r.window {
			break
		}
		oldest = t
		count++
	}
	span := now.Sub(oldest)
	if count < 2 || span <= 0 {
		return 0
	}
	return float64(count-1) / span.Seconds()
}

func (r *rateCollector) Describe(ch chan<- *prometheus.Desc) { ch <- r.desc }

func (r *rateCollector) Collect(ch chan<- prometheus.Metric) {
	ch <- prometheus.MustNewConstMetric(r.desc, prometheus.GaugeValue, r.fps(time.Now()))
}
