// Package rules decides, frame by frame, when what a model sees should
// trigger an action: a label set with a minimum score, an optional region
// of interest, an N-of-M-frames debounce, a minimum hold time and a
// cooldown between firings.
//
// A Rule is pure logic: it is fed one frame's observations with the frame's
// capture time and answers whether it fired (a new event) and whether it is
// active (for outputs that hold while something is seen). It never reads
// the clock, so replaying frames gives the same decisions.
package rules

import (
	"errors"
	"fmt"
	"time"
)

// Box is a normalized rectangle, 0..1, as detections carry.
type Box struct {
	XMin, YMin, XMax, YMax float32
}

// Center is the box's center point.
func (b Box) Center() (x, y float32) { return (b.XMin + b.XMax) / 2, (b.YMin + b.YMax) / 2 }

// Contains reports whether the point lies inside the box (edges included).
func (b Box) Contains(x, y float32) bool {
	return x >= b.XMin && x <= b.XMax && y >= b.YMin && y <= b.YMax
}

// Observation is one thing a model reported on a frame: a class of a
// classifier (Box nil) or a detection (Box set).
type Observation struct {
	Label string
	Score float32
	Box   *Box
}

// Spec configures a Rule.
type Spec struct {
	Name     string
	Labels   []string // any of these labels matches
	MinScore float32  // 0..1
	// ROI limits detections to those whose box center lies inside; nil: anywhere.
	ROI *Box
	// N of the last M frames must match for the rule to become active
	// (1 of 1: no debounce); it becomes inactive when none of the last M do.
	N, M int
	// MinHold keeps the rule active at least this long once it fires.
	MinHold time.Duration
	// Cooldown is the least time between two firings.
	Cooldown time.Duration
}

// Validate checks the spec; errors name the rule and the field.
func (s Spec) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("rule %q: %s: %s", s.Name, field, fmt.Sprintf(format, args...)))
	}
	if s.Name == "" {
		errs = append(errs, errors.New("rule without a name"))
	}
	if len(s.Labels) == 0 {
		bad("labels", "want at least one label")
	}
	for _, l := range s.Labels {
		if l == "" {
			bad("labels", "empty label")
		}
	}
	if s.MinScore < 0 || s.MinScore > 1 {
		bad("min_score", "%v is not in 0..1", s.MinScore)
	}
	if r := s.ROI; r != nil {
		if r.XMin < 0 || r.YMin < 0 || r.XMax > 1 || r.YMax > 1 || r.XMin >= r.XMax || r.YMin >= r.YMax {
			bad("roi", "[%v %v %v %v] is not a box inside [0 0 1 1] (xmin ymin xmax ymax, min < max)", r.XMin, r.YMin, r.XMax, r.YMax)
		}
	}
	if s.M < 1 || s.N < 1 || s.N > s.M || s.M > 1000 {
		bad("debounce", "%d of %d frames: want 1 <= n <= m <= 1000", s.N, s.M)
	}
	if s.MinHold < 0 {
		bad("min_hold", "negative duration %v", s.MinHold)
	}
	if s.Cooldown < 0 {
		bad("cooldown", "negative duration %v", s.Cooldown)
	}
	return errors.Join(errs...)
}

// Rule is the state of one rule over a stream of frames. Not safe for
// concurrent use.
type Rule struct {
	spec    Spec
	labels  map[string]bool
	history []bool // ring of the last M match results
	next    int
	count   int // matches in history

	active      bool
	activeSince time.Time
	lastFire    time.Time
	fired       bool // fired at least once
}

// New builds a Rule from a valid spec.
func New(spec Spec) (*Rule, error) {
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	r := &Rule{spec: spec, labels: map[string]bool{}, history: make([]bool, spec.M)}
	for _, l := range spec.Labels {
		r.labels[l] = true
	}
	return r, nil
}

// Spec returns the rule's configuration.
func (r *Rule) Spec() Spec { return r.spec }

// Decision is what a rule concluded on one frame.
type Decision struct {
	// Fired: the rule became active and its cooldown had passed: log an
	// event and pulse its outputs. Match is the observation that counts.
	Fired bool
	Match Observation
	// Active: the debounced condition holds (or MinHold keeps it): outputs
	// in hold mode should be on.
	Active bool
}

// Match returns the best observation the rule accepts on a frame.
func (r *Rule) Match(obs []Observation) (Observation, bool) {
	var best Observation
	found := false
	for _, o := range obs {
		if !r.labels[o.Label] || o.Score < r.spec.MinScore {
			continue
		}
		if r.spec.ROI != nil && o.Box != nil && !r.spec.ROI.Contains(o.Box.Center()) {
			continue
		}
		if !found || o.Score > best.Score {
			best, found = o, true
		}
	}
	return best, found
}

// Observe feeds one frame captured at t.
func (r *Rule) Observe(t time.Time, obs []Observation) Decision {
	m, ok := r.Match(obs)
	if r.history[r.next] {
		r.count--
	}
	r.history[r.next] = ok
	if ok {
		r.count++
	}
	r.next = (r.next + 1) % len(r.history)

	// A Schmitt trigger: on at N of the last M frames, off only when none
	// of them match (and MinHold has passed), so a flickering detection
	// neither fires twice nor drops a held output.
	var d Decision
	switch {
	case r.count >= r.spec.N && !r.active:
		r.active, r.activeSince = true, t
		if !r.fired || t.Sub(r.lastFire) >= r.spec.Cooldown {
			r.fired, r.lastFire = true, t
			d.Fired, d.Match = true, m
		}
	case r.count == 0 && r.active && t.Sub(r.activeSince) >= r.spec.MinHold:
		r.active = false
	}
	d.Active = r.active
	if ok && !d.Fired {
		d.Match = m
	}
	return d
}

// Reset forgets the frame history and state (a camera reconnect, a new config).
func (r *Rule) Reset() {
	for i := range r.history {
		r.history[i] = false
	}
	r.count, r.next, r.active = 0, 0, false
}
