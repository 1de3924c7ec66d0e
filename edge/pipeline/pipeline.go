// Package pipeline is edge's main loop: frames from a camera.Source go
// through a TFLite model, the results through rules, and fired rules drive
// outputs and the event log.
//
// Capture and inference run in two goroutines joined by a one-frame queue.
// With DropFrames (live cameras) the queue keeps only the latest frame:
// when inference falls behind, the stale frame is dropped and counted, so
// decisions are made on what the camera sees now. Without it (files, and
// benchmarks) every frame is processed. Three frame buffers circulate, so
// the steady state allocates no pixel memory. Every stage is timed.
package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/edgeproject/edge/camera"
	"github.com/edgeproject/edge/edge/eventlog"
	"github.com/edgeproject/edge/edge/rules"
	"github.com/edgeproject/edge/tflite"
)

// Source delivers frames (a camera.Source).
type Source interface {
	Read(ctx context.Context, f *camera.Frame) error
}

// Actuator is an output a rule drives (an *outputs.Output).
type Actuator interface {
	Name() string
	PulseFor(d time.Duration) error
	Set(active bool) error
}

// EventSink records fired rules (an *eventlog.Log).
type EventSink interface {
	Write(e eventlog.Event) error
	// WriteSnapshot saves the frame as a JPEG with the boxes drawn, then writes e naming it.
	WriteSnapshot(e *eventlog.Event, rgb []byte, w, h int, boxes []eventlog.Box, labels []string) error
}

// Action is what a rule does to one output: a pulse of Pulse when it
// fires, or, with Hold, keep the output on while the rule is active.
type Action struct {
	Output Actuator
	Hold   bool
	Pulse  time.Duration
}

// Rule is a decision rule with its actions.
type Rule struct {
	*rules.Rule
	Actions  []Action
	Snapshot bool // save a JPEG with the boxes when it fires
	held     bool // hold outputs are on
}

// Config wires a pipeline.
type Config struct {
	Source Source
	Model  *tflite.Interpreter
	Labels *tflite.Labels
	// Detector: decode SSD outputs; otherwise classify.
	Detector bool
	// MinScore drops detections below it before the rules see them.
	MinScore float32
	// TopK classes of a classifier go to the rules.
	TopK   int
	Rules  []*Rule
	Events EventSink // nil: no event log
	// DropFrames keeps only the latest frame when inference is slower than capture.
	DropFrames bool
	// MaxFrames stops after that many processed frames (0: no limit).
	MaxFrames uint64
	Logger    *slog.Logger
	// OnResult, if set, sees every frame's result (console, metrics); it
	// must not keep the frame's pixels.
	OnResult func(Result)
}

// Result is one processed frame.
type Result struct {
	Frame        *camera.Frame
	Observations []rules.Observation
	Fired        []string // names of the rules that fired
	Timings      [NumStages]time.Duration
}

// Pipeline runs a Config. Stats may be read while it runs.
type Pipeline struct {
	cfg   Config
	stats *Stats

	frames, dropped, events atomic.Uint64
	started, stopped        atomic.Int64 // unix nanos of the first processed frame, of the end of Run
	lastEvent               atomic.Pointer[eventlog.Event]
}

// New checks the config and builds a pipeline.
func New(cfg Config) (*Pipeline, error) {
	if cfg.Source == nil || cfg.Model == nil {
		return nil, errors.New("pipeline: a source and a model are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.TopK <= 0 {
		cfg.TopK = 5
	}
	if len(cfg.Model.Inputs()) == 0 {
		return nil, fmt.Errorf("pipeline: %s has no input", cfg.Model.Path())
	}
	return &Pipeline{cfg: cfg, stats: newStats()}, nil
}

// Run processes frames until ctx ends, the source ends (io.EOF: nil is
// returned) or MaxFrames are done. It returns the first capture or
// inference error. On return, hold outputs are off and both goroutines have
// ended.
func (p *Pipeline) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	const buffers = 3 // one being captured, one queued, one being inferred
	free := make(chan *slot, buffers)
	for i := 0; i < buffers; i++ {
		free <- &slot{}
	}
	ready := make(chan *slot, 1)

	var wg sync.WaitGroup
	var captureErr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(ready)
		captureErr = p.capture(ctx, free, ready)
	}()
	inferErr := p.infer(ctx, free, ready)
	p.stopped.Store(time.Now().UnixNano())
	cancel()
	wg.Wait()
	p.releaseHolds()
	switch {
	case inferErr != nil:
		return inferErr
	case captureErr != nil && !errors.Is(captureErr, io.EOF) && !errors.Is(captureErr, context.Canceled):
		return captureErr
	}
	return nil
}

// slot is a frame buffer in circulation, with how long its capture took.
type slot struct {
	frame   camera.Frame
	capture time.Duration
}

func (p *Pipeline) capture(ctx context.Context, free, ready chan *slot) error {
	for {
		var f *slot
		select {
		case f = <-free:
		case <-ctx.Done():
			return nil
		}
		start := time.Now()
		if err := p.cfg.Source.Read(ctx, &f.frame); err != nil {
			free <- f
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		f.capture = time.Since(start)
		p.stats.add(StageCapture, f.capture)
		if !p.cfg.DropFrames {
			select {
			case ready <- f:
			case <-ctx.Done():
				free <- f
				return nil
			}
			continue
		}
		select {
		case ready <- f:
		default: // inference is busy and a frame waits: replace it with this newer one
			select {
			case stale := <-ready:
				free <- stale
				p.dropped.Add(1)
			default: // taken meanwhile
			}
			ready <- f // the only sender: there is room now
		}
	}
}

func (p *Pipeline) infer(ctx context.Context, free, ready chan *slot) error {
	for {
		var f *slot
		var ok bool
		select {
		case f, ok = <-ready:
			if !ok {
				return nil
			}
		case <-ctx.Done():
			return nil
		}
		err := p.process(f)
		free <- f
		if err != nil {
			return err
		}
		if n := p.frames.Add(1); p.cfg.MaxFrames > 0 && n >= p.cfg.MaxFrames {
			return nil
		}
	}
}

// process runs one frame through the model, the rules and the actions.
func (p *Pipeline) process(s *slot) error {
	p.started.CompareAndSwap(0, time.Now().UnixNano())
	f := &s.frame
	var res Result
	res.Frame = f
	res.Timings[StageCapture] = s.capture
	m := p.cfg.Model

	t := time.Now()
	place, err := m.SetPixels(f.Pix, f.Width, f.Height)
	if err != nil {
		return fmt.Errorf("frame %d: %w", f.Seq, err)
	}
	res.Timings[StagePreprocess] = p.lap(StagePreprocess, &t)
	if err := m.Invoke(); err != nil {
		return fmt.Errorf("frame %d: %w", f.Seq, err)
	}
	res.Timings[StageInvoke] = p.lap(StageInvoke, &t)
	if p.cfg.Detector {
		dets, err := m.Detect(p.cfg.MinScore, p.cfg.Labels, place)
		if err != nil {
			return err
		}
		for _, d := range dets {
			b := rules.Box{XMin: d.Box.XMin, YMin: d.Box.YMin, XMax: d.Box.XMax, YMax: d.Box.YMax}
			res.Observations = append(res.Observations, rules.Observation{Label: d.Label, Score: d.Score, Box: &b})
		}
	} else {
		classes, err := m.Classify(p.cfg.TopK, p.cfg.Labels)
		if err != nil {
			return err
		}
		for _, c := range classes {
			res.Observations = append(res.Observations, rules.Observation{Label: c.Label, Score: c.Score})
		}
	}
	res.Timings[StagePostprocess] = p.lap(StagePostprocess, &t)

	for _, r := range p.cfg.Rules {
		d := r.Observe(f.Time, res.Observations)
		if d.Fired {
			res.Fired = append(res.Fired, r.Spec().Name)
			p.fire(r, d.Match, f, res.Observations)
		}
		if d.Active != r.held {
			r.held = d.Active
			for _, a := range r.Actions {
				if a.Hold {
					if err := a.Output.Set(d.Active); err != nil {
						p.cfg.Logger.Error("output", "output", a.Output.Name(), "rule", r.Spec().Name, "err", err)
					}
				}
			}
		}
	}
	res.Timings[StageActions] = p.lap(StageActions, &t)
	p.stats.add(StageTotal, time.Since(f.Time))
	res.Timings[StageTotal] = time.Since(f.Time)
	if p.cfg.OnResult != nil {
		p.cfg.OnResult(res)
	}
	return nil
}

// lap records the time since *t for stage and restarts *t.
func (p *Pipeline) lap(stage Stage, t *time.Time) time.Duration {
	now := time.Now()
	d := now.Sub(*t)
	p.stats.add(stage, d)
	*t = now
	return d
}

// fire pulses the rule's outputs and logs the event.
func (p *Pipeline) fire(r *Rule, m rules.Observation, f *camera.Frame, obs []rules.Observation) {
	for _, a := range r.Actions {
		if a.Hold {
			continue
		}
		if err := a.Output.PulseFor(a.Pulse); err != nil {
			p.cfg.Logger.Error("output", "output", a.Output.Name(), "rule", r.Spec().Name, "err", err)
		}
	}
	e := eventlog.Event{
		Time: f.Time, Rule: r.Spec().Name, Label: m.Label, Score: m.Score,
		Frame: f.Seq, LatencyMS: float64(time.Since(f.Time).Microseconds()) / 1000,
	}
	if m.Box != nil {
		b := eventlog.Box(*m.Box)
		e.Box = &b
	}
	p.events.Add(1)
	p.cfg.Logger.Info("rule fired", "rule", e.Rule, "label", e.Label, "score", e.Score, "frame", e.Frame, "latency_ms", e.LatencyMS)
	if p.cfg.Events != nil {
		var err error
		if r.Snapshot { // writes the JPEG, then the event naming it
			var boxes []eventlog.Box
			var labels []string
			for _, o := range obs {
				if o.Box != nil {
					boxes = append(boxes, eventlog.Box(*o.Box))
					labels = append(labels, o.Label)
				}
			}
			err = p.cfg.Events.WriteSnapshot(&e, f.Pix, f.Width, f.Height, boxes, labels)
		} else {
			err = p.cfg.Events.Write(e)
		}
		if err != nil {
			p.cfg.Logger.Error("event log", "rule", e.Rule, "err", err)
		}
	}
	p.lastEvent.Store(&e)
}

// releaseHolds turns off outputs held by active rules.
func (p *Pipeline) releaseHolds() {
	for _, r := range p.cfg.Rules {
		if !r.held {
			continue
		}
		r.held = false
		for _, a := range r.Actions {
			if a.Hold {
				if err := a.Output.Set(false); err != nil {
					p.cfg.Logger.Error("output", "output", a.Output.Name(), "err", err)
				}
			}
		}
	}
}
