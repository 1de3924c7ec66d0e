package rules

import (
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func dog(score float32) []Observation { return []Observation{{Label: "dog", Score: score}} }

// frames expands a pattern: 'x' a frame with a dog at 0.9, '.' an empty frame.
func frames(p string) [][]Observation {
	out := make([][]Observation, len(p))
	for i, c := range p {
		if c == 'x' {
			out[i] = dog(0.9)
		}
	}
	return out
}

func TestRuleDecisions(t *testing.T) {
	for _, tc := range []struct {
		name   string
		spec   Spec
		frames string
		step   time.Duration
		fired  string // '!' where the rule fires
		active string // '1' where it is active
	}{
		{"no debounce", Spec{N: 1, M: 1}, "..xx..x.", 100 * time.Millisecond,
			"..!...!.", "..11..1."},
		{"3 of 5", Spec{N: 3, M: 5}, "x.x.x.xxxx.....", 100 * time.Millisecond,
			"....!..........", "....1111111111."},
		{"single frames never reach 2 of 3", Spec{N: 2, M: 3}, "x..x..x..x", 100 * time.Millisecond,
			"..........", ".........."},
		{"min hold keeps it on", Spec{N: 1, M: 1, MinHold: 350 * time.Millisecond}, "x.......", 100 * time.Millisecond,
			"!.......", "1111...."},
		{"cooldown suppresses refiring", Spec{N: 1, M: 1, Cooldown: time.Second}, "x.x.x.x.x.x.x.", 100 * time.Millisecond,
			"!.........!...", "1.1.1.1.1.1.1."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.spec.Name, tc.spec.Labels = tc.name, []string{"dog"}
			r, err := New(tc.spec)
			if err != nil {
				t.Fatal(err)
			}
			var fired, active strings.Builder
			for i, obs := range frames(tc.frames) {
				d := r.Observe(t0.Add(time.Duration(i)*tc.step), obs)
				fired.WriteByte(map[bool]byte{true: '!', false: '.'}[d.Fired])
				active.WriteByte(map[bool]byte{true: '1', false: '.'}[d.Active])
				if d.Fired && d.Match.Label != "dog" {
					t.Errorf("frame %d: fired with match %+v", i, d.Match)
				}
			}
			if fired.String() != tc.fired || active.String() != tc.active {
				t.Errorf("frames %s\nfired  %s, want %s\nactive %s, want %s", tc.frames, fired.String(), tc.fired, active.String(), tc.active)
			}
		})
	}
}

func TestRuleMatch(t *testing.T) {
	roi := &Box{XMin: 0.5, YMin: 0, XMax: 1, YMax: 1} // right half
	r, err := New(Spec{Name: "door", Labels: []string{"person", "dog"}, MinScore: 0.5, ROI: roi, N: 1, M: 1})
	if err != nil {
		t.Fatal(err)
	}
	left := &Box{XMin: 0.1, YMin: 0.1, XMax: 0.3, YMax: 0.5}
	right := &Box{XMin: 0.6, YMin: 0.1, XMax: 0.9, YMax: 0.5}
	for _, tc := range []struct {
		name string
		obs  []Observation
		want string // label matched, "" none
	}{
		{"label not wanted", []Observation{{Label: "cat", Score: 0.9, Box: right}}, ""},
		{"score too low", []Observation{{Label: "dog", Score: 0.49, Box: right}}, ""},
		{"outside roi", []Observation{{Label: "dog", Score: 0.9, Box: left}}, ""},
		{"inside roi", []Observation{{Label: "dog", Score: 0.9, Box: right}}, "dog"},
		{"best of several", []Observation{{Label: "dog", Score: 0.6, Box: right}, {Label: "person", Score: 0.8, Box: right}}, "person"},
		{"classification has no box", []Observation{{Label: "person", Score: 0.7}}, "person"},
	} {
		m, ok := r.Match(tc.obs)
		if (tc.want != "") != ok || m.Label != tc.want {
			t.Errorf("%s: match %+v %v, want %q", tc.name, m, ok, tc.want)
		}
	}
}

func TestSpecValidate(t *testing.T) {
	good := Spec{Name: "r", Labels: []string{"dog"}, MinScore: 0.5, N: 2, M: 3}
	for _, tc := range []struct {
		name   string
		mutate func(*Spec)
		want   string
	}{
		{"no labels", func(s *Spec) { s.Labels = nil }, `rule "r": labels: want at least one label`},
		{"score", func(s *Spec) { s.MinScore = 1.5 }, "min_score: 1.5 is not in 0..1"},
		{"n > m", func(s *Spec) { s.N = 4 }, "debounce: 4 of 3 frames"},
		{"roi inverted", func(s *Spec) { s.ROI = &Box{XMin: 0.8, XMax: 0.2, YMax: 1} }, "roi:"},
		{"roi outside", func(s *Spec) { s.ROI = &Box{XMax: 1.5, YMax: 1} }, "roi:"},
		{"negative cooldown", func(s *Spec) { s.Cooldown = -time.Second }, "cooldown: negative"},
		{"no name", func(s *Spec) { s.Name = "" }, "rule without a name"},
	} {
		s := good
		tc.mutate(&s)
		err := s.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
	if err := good.Validate(); err != nil {
		t.Errorf("good spec: %v", err)
	}
}
