package config

import (
	"strings"
	"testing"
	"time"
)

func TestExampleConfig(t *testing.T) {
	c, err := Load("../edge.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	r := c.Rules[0]
	if r.Name != "person-at-door" || r.Debounce.N != 3 || r.Debounce.M != 5 || r.Cooldown.D() != 10*time.Second ||
		r.Actions[0].Pulse.D() != 250*time.Millisecond || r.Actions[1].Mode != "hold" || *c.Outputs["relay"].Line != 17 ||
		c.Outputs["lamp"].Name != "GPIO27" || !c.Outputs["lamp"].ActiveLow || c.Model.Delegate != "auto" || !*c.Camera.Loop ||
		c.Console.Port != "/dev/serial0" || c.Console.StatusEvery.D() != 10*time.Second || c.HTTP.Listen != "127.0.0.1:9101" {
		t.Errorf("example config read wrong: %+v", c)
	}
}

const good = `
camera:
  source: /dev/video0
model:
  path: m.tflite
outputs:
  relay: {line: 17}
rules:
  - name: dog
    labels: [dog]
    min_score: 0.5
    actions:
      - {output: relay, pulse: 100ms}
events:
  dir: /tmp/events
`

func TestBadConfigs(t *testing.T) {
	for _, tc := range []struct {
		name, yaml string
		want       []string
	}{
		{"empty", "", []string{"edge.yaml: empty config"}},
		{"not yaml", "camera: [", []string{"edge.yaml:"}},
		{"unknown key", strings.Replace(good, "  min_score: 0.5", "  min_scor: 0.5", 1),
			[]string{"edge.yaml:11: unknown key \"min_scor\""}},
		{"unknown top key", good + "camra: {}\n", []string{"edge.yaml:16: unknown key \"camra\""}},
		{"score out of range", strings.Replace(good, "min_score: 0.5", "min_score: 1.5", 1),
			[]string{"edge.yaml:11: rules[0].min_score: 1.5 is not in 0..1"}},
		{"wrong type", strings.Replace(good, "min_score: 0.5", "min_score: high", 1),
			[]string{"edge.yaml:11: ", "high"}},
		{"bad duration", strings.Replace(good, "pulse: 100ms", "pulse: 100", 1),
			[]string{"edge.yaml:13: ", "\"100\" is not a duration"}},
		{"unknown output", strings.Replace(good, "output: relay", "output: siren", 1),
			[]string{"edge.yaml:13: rules[0].actions[0].output: \"siren\" is not one of the outputs"}},
		{"debounce", strings.Replace(good, "    min_score: 0.5", "    min_score: 0.5\n    debounce: {n: 5, m: 3}", 1),
			[]string{"rules[0].debounce: n 5 of m 3"}},
		{"roi", strings.Replace(good, "    min_score: 0.5", "    min_score: 0.5\n    roi: [0.5, 0, 0.2, 1]", 1),
			[]string{"rules[0].roi: [0.5 0 0.2 1]"}},
		{"no source", strings.Replace(good, "  source: /dev/video0", "  width: 640", 1),
			[]string{"camera.source: missing"}},
		{"delegate", strings.Replace(good, "  path: m.tflite", "  path: m.tflite\n  delegate: gpu", 1),
			[]string{"edge.yaml:6: model.delegate: \"gpu\""}},
		{"output without line", strings.Replace(good, "relay: {line: 17}", "relay: {chip: gpiochip0}", 1),
			[]string{"outputs.relay: want line"}},
		{"hold with pulse", strings.Replace(good, "{output: relay, pulse: 100ms}", "{output: relay, mode: hold, pulse: 1s}", 1),
			[]string{"hold mode takes no pulse width"}},
		{"baud", good + "console: {port: /dev/serial0, baud: 1234}\n", []string{"edge.yaml:16: console.baud: 1234"}},
		{"listen", good + "http: {listen: localhost}\n", []string{"edge.yaml:16: http.listen: \"localhost\""}},
		{"engine", strings.Replace(good, "  path: m.tflite", "  path: m.tflite\n  engine: rust", 1), []string{"edge.yaml:6: model.engine: \"rust\""}},
		{"go engine with a delegate", strings.Replace(good, "  path: m.tflite", "  path: m.tflite\n  engine: go\n  delegate: edgetpu", 1), []string{"model.delegate: the go engine runs on the CPU only"}},
		{"two errors", strings.Replace(strings.Replace(good, "min_score: 0.5", "min_score: -1", 1), "  path: m.tflite", "  path: m.tflite\n  threads: 99", 1),
			[]string{"model.threads: 99", "rules[0].min_score: -1"}},
	} {
		_, err := Parse("edge.yaml", []byte(tc.yaml))
		if err == nil {
			t.Errorf("%s: accepted", tc.name)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q lacks %q", tc.name, err, w)
			}
		}
	}
	if _, err := Parse("edge.yaml", []byte(good)); err != nil {
		t.Errorf("good config: %v", err)
	}
}
