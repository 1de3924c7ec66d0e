package pipeline

import (
	"sort"
	"sync"
	"time"

	"github.com/edgeproject/edge/edge/eventlog"
)

// Stage is a timed step of the pipeline.
type Stage int

// The stages, in order. StageTotal runs from capture to the end of the actions.
const (
	StageCapture Stage = iota
	StagePreprocess
	StageInvoke
	StagePostprocess
	StageActions
	StageTotal
	NumStages
)

var stageNames = [NumStages]string{"capture", "preprocess", "invoke", "postprocess", "actions", "total"}

func (s Stage) String() string { return stageNames[s] }

// window is how many recent samples per stage the percentiles cover.
const window = 1024

// Stats keeps the recent durations of each stage in bounded rings.
type Stats struct {
	mu    sync.Mutex
	rings [NumStages][]time.Duration
	next  [NumStages]int
}

func newStats() *Stats {
	s := &Stats{}
	for i := range s.rings {
		s.rings[i] = make([]time.Duration, 0, window)
	}
	return s
}

func (s *Stats) add(st Stage, d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.rings[st]
	if len(r) < window {
		s.rings[st] = append(r, d)
		return
	}
	r[s.next[st]] = d
	s.next[st] = (s.next[st] + 1) % window
}

// Percentiles of one stage over the recent window.
type Percentiles struct {
	Stage    string        `json:"stage"`
	N        int           `json:"n"`
	P50, P95 time.Duration `json:"-"`
	P50MS    float64       `json:"p50_ms"`
	P95MS    float64       `json:"p95_ms"`
}

func (s *Stats) percentiles(st Stage) Percentiles {
	s.mu.Lock()
	v := append([]time.Duration(nil), s.rings[st]...)
	s.mu.Unlock()
	p := Percentiles{Stage: st.String(), N: len(v)}
	if len(v) == 0 {
		return p
	}
	sort.Slice(v, func(i, j int) bool { return v[i] < v[j] })
	at := func(q float64) time.Duration { return v[min(len(v)-1, int(q*float64(len(v))))] }
	p.P50, p.P95 = at(0.50), at(0.95)
	p.P50MS, p.P95MS = ms(p.P50), ms(p.P95)
	return p
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// Snapshot is the pipeline's state for status lines, metrics and benchmarks.
type Snapshot struct {
	Frames    uint64          `json:"frames"`
	Dropped   uint64          `json:"dropped"`
	Events    uint64          `json:"events"`
	FPS       float64         `json:"fps"`
	Stages    []Percentiles   `json:"stages"`
	LastEvent *eventlog.Event `json:"last_event,omitempty"`
}

// Stats returns counters, the processed frame rate and stage percentiles.
func (p *Pipeline) Stats() Snapshot {
	s := Snapshot{Frames: p.frames.Load(), Dropped: p.dropped.Load(), Events: p.events.Load(), LastEvent: p.lastEvent.Load()}
	if start := p.started.Load(); start != 0 && s.Frames > 1 {
		end := time.Now()
		if stop := p.stopped.Load(); stop > start {
			end = time.Unix(0, stop)
		}
		s.FPS = float64(s.Frames) / end.Sub(time.Unix(0, start)).Seconds()
	}
	for st := Stage(0); st < NumStages; st++ {
		s.Stages = append(s.Stages, p.stats.percentiles(st))
	}
	return s
}
