// Package config reads and checks edge's YAML configuration (see
// edge.example.yaml at the root of the repository).
//
// Reading is strict: an unknown key, a value of the wrong type or out of
// range is an error that names the file, the line and the key, e.g.
//
//	edge.yaml:14: rules[0].min_score: 1.5 is not in 0..1
package config

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Duration is a time.Duration written as "200ms", "1.5s" or "2m".
type Duration time.Duration

// UnmarshalYAML parses a Go duration string.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	var s string
	if err := n.Decode(&s); err != nil {
		return fmt.Errorf("line %d: want a duration such as 200ms or 5s", n.Line)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("line %d: %q is not a duration (want e.g. 200ms, 5s)", n.Line, s)
	}
	*d = Duration(v)
	return nil
}

// D is the value as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// Config is the whole file.
type Config struct {
	Camera   Camera            `yaml:"camera"`
	Model    Model             `yaml:"model"`
	Outputs  map[string]Output `yaml:"outputs"`
	Rules    []Rule            `yaml:"rules"`
	Events   Events            `yaml:"events"`
	SelfTest bool              `yaml:"self_test"`
	Console  Console           `yaml:"console"`
	HTTP     HTTP              `yaml:"http"`

	// Path is the file the config was read from.
	Path string `yaml:"-"`
	root *yaml.Node
}

// Camera is the frame source (see package camera for the forms of Source).
type Camera struct {
	Source string  `yaml:"source"`
	Width  int     `yaml:"width"`
	Height int     `yaml:"height"`
	FPS    float64 `yaml:"fps"`
	FourCC string  `yaml:"fourcc"`
	// Loop replays files and folders (default true).
	Loop *bool `yaml:"loop"`
}

// Model is the TFLite model and how to run it.
type Model struct {
	Path     string   `yaml:"path"`
	Labels   string   `yaml:"labels"`
	Delegate string   `yaml:"delegate"` // cpu, xnnpack, edgetpu, nnapi, auto (default auto)
	Engine   string   `yaml:"engine"`   // auto (default: tflite when linked in, else go), tflite, go
	Threads  int      `yaml:"threads"`
	Resize   string   `yaml:"resize"` // stretch, center-crop, letterbox
	Mean     *float64 `yaml:"mean"`
	Std      *float64 `yaml:"std"`
	// MinScore is the least score a detection needs to be considered at all (default 0.3).
	MinScore       float64 `yaml:"min_score"`
	TopK           int     `yaml:"top_k"` // classes considered per frame (default 5)
	EdgeTPULibrary string  `yaml:"edgetpu_library"`
}

// Output is a GPIO line.
type Output struct {
	Chip      string `yaml:"chip"` // gpiochip0 (default)
	Line      *int   `yaml:"line"` // offset on the chip, or
	Name      string `yaml:"name"` // a line name such as GPIO17
	ActiveLow bool   `yaml:"active_low"`
}

// Debounce is N of the last M frames.
type Debounce struct {
	N int `yaml:"n"`
	M int `yaml:"m"`
}

// Action drives an output when a rule fires (pulse) or while it is active (hold).
type Action struct {
	Output string   `yaml:"output"`
	Mode   string   `yaml:"mode"` // pulse (default) or hold
	Pulse  Duration `yaml:"pulse"`
}

// Rule says when to act on what the model sees.
type Rule struct {
	Name     string    `yaml:"name"`
	Labels   []string  `yaml:"labels"`
	MinScore float64   `yaml:"min_score"`
	ROI      []float64 `yaml:"roi"` // xmin ymin xmax ymax, normalized
	Debounce *Debounce `yaml:"debounce"`
	MinHold  Duration  `yaml:"min_hold"`
	Cooldown Duration  `yaml:"cooldown"`
	Actions  []Action  `yaml:"actions"`
	Snapshot bool      `yaml:"snapshot"`
}

// Events is the event log.
type Events struct {
	Dir             string  `yaml:"dir"`
	MaxFileMB       float64 `yaml:"max_file_mb"`
	MaxTotalMB      float64 `yaml:"max_total_mb"`
	Snapshots       bool    `yaml:"snapshots"`
	SnapshotQuotaMB float64 `yaml:"snapshot_quota_mb"`
}

// Console is the serial console (off when Port is empty).
type Console struct {
	Port        string   `yaml:"port"` // /dev/serial0, /dev/ttyGS0, /dev/ttyUSB0
	Baud        int      `yaml:"baud"` // default 115200
	StatusEvery Duration `yaml:"status_every"`
}

// HTTP is the local health, metrics and snapshot server.
type HTTP struct {
	// Listen is host:port (default 127.0.0.1:9101); "off" disables it.
	Listen string `yaml:"listen"`
}

// Load reads and validates a config file.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(path, data)
}

// Parse reads and validates config data; path names it in errors.
func Parse(path string, data []byte) (*Config, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, fmt.Errorf("%s: empty config", path)
	}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, yamlError(path, err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	c := &Config{Path: path, root: &root}
	if err := dec.Decode(c); err != nil {
		return nil, yamlError(path, err)
	}
	c.defaults()
	if err := c.validate(); err != nil {
		return nil, err
	}
	return c, nil
}

var yamlLine = regexp.MustCompile(`^(?:yaml: )?(?:unmarshal errors:\s*)?line (\d+): `)

// yamlError turns yaml.v3's messages ("yaml: line 3: field x not found in
// type config.Camera") into "edge.yaml:3: unknown key "x"", one per line.
func yamlError(path string, err error) error {
	msgs := []string{err.Error()}
	var te *yaml.TypeError
	if errors.As(err, &te) {
		msgs = te.Errors
	}
	errs := make([]error, 0, len(msgs))
	for _, m := range msgs {
		m = strings.TrimSpace(m)
		if i := strings.Index(m, "field "); i >= 0 && strings.Contains(m, " not found in type ") {
			key := m[i+len("field ") : strings.Index(m, " not found in type ")]
			m = m[:i] + fmt.Sprintf("unknown key %q", key)
		}
		if sm := yamlLine.FindStringSubmatch(m); sm != nil {
			errs = append(errs, fmt.Errorf("%s:%s: %s", path, sm[1], m[len(sm[0]):]))
			continue
		}
		errs = append(errs, fmt.Errorf("%s: %s", path, strings.TrimPrefix(m, "yaml: ")))
	}
	return errors.Join(errs...)
}

func (c *Config) defaults() {
	if c.Camera.Loop == nil {
		t := true
		c.Camera.Loop = &t
	}
	if c.Model.Delegate == "" {
		c.Model.Delegate = "auto"
	}
	if c.Model.Resize == "" {
		c.Model.Resize = "stretch"
	}
	if c.Model.MinScore == 0 {
		c.Model.MinScore = 0.3
	}
	if c.Model.TopK == 0 {
		c.Model.TopK = 5
	}
	for name, o := range c.Outputs {
		if o.Chip == "" {
			o.Chip = "gpiochip0"
			c.Outputs[name] = o
		}
	}
	for i := range c.Rules {
		r := &c.Rules[i]
		if r.Debounce == nil {
			r.Debounce = &Debounce{N: 1, M: 1}
		}
		for j := range r.Actions {
			if r.Actions[j].Mode == "" {
				r.Actions[j].Mode = "pulse"
			}
		}
	}
	if c.Events.MaxFileMB == 0 {
		c.Events.MaxFileMB = 10
	}
	if c.Events.MaxTotalMB == 0 {
		c.Events.MaxTotalMB = 100
	}
	if c.Events.SnapshotQuotaMB == 0 {
		c.Events.SnapshotQuotaMB = 200
	}
	if c.Console.Baud == 0 {
		c.Console.Baud = 115200
	}
	if c.Console.StatusEvery == 0 {
		c.Console.StatusEvery = Duration(10 * time.Second)
	}
	if c.HTTP.Listen == "" {
		c.HTTP.Listen = "127.0.0.1:9101"
	}
}

// line finds the line of the value at a path of keys and sequence indexes
// ("rules", 0, "min_score"); 0 when absent.
func (c *Config) line(path ...any) int {
	n := c.root
	if n != nil && n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	line := 0
	for _, p := range path {
		if n == nil {
			break
		}
		var next *yaml.Node
		switch k := p.(type) {
		case string:
			if n.Kind == yaml.MappingNode {
				for i := 0; i+1 < len(n.Content); i += 2 {
					if n.Content[i].Value == k {
						next = n.Content[i+1]
						line = n.Content[i].Line
					}
				}
			}
		case int:
			if n.Kind == yaml.SequenceNode && k < len(n.Content) {
				next = n.Content[k]
				line = next.Line
			}
		}
		n = next
	}
	return line
}

// problems collects validation errors with their lines.
type problems struct {
	c    *Config
	errs []error
}

func (p *problems) add(msg string, path ...any) {
	key := ""
	for i, e := range path {
		switch v := e.(type) {
		case string:
			if i > 0 {
				key += "."
			}
			key += v
		case int:
			key += "[" + strconv.Itoa(v) + "]"
		}
	}
	if l := p.c.line(path...); l > 0 {
		p.errs = append(p.errs, fmt.Errorf("%s:%d: %s: %s", p.c.Path, l, key, msg))
		return
	}
	p.errs = append(p.errs, fmt.Errorf("%s: %s: %s", p.c.Path, key, msg))
}

func (c *Config) validate() error {
	p := &problems{c: c}
	if c.Camera.Source == "" {
		p.add("missing: want a device (/dev/video0), gst:PIPELINE, rtsp://URL, a video file or a folder of images", "camera", "source")
	}
	if c.Camera.Width < 0 || c.Camera.Height < 0 {
		p.add(fmt.Sprintf("%dx%d: width and height must be >= 0", c.Camera.Width, c.Camera.Height), "camera", "width")
	}
	if c.Camera.FPS < 0 || c.Camera.FPS > 1000 {
		p.add(fmt.Sprintf("%v is not in 0..1000", c.Camera.FPS), "camera", "fps")
	}
	if f := c.Camera.FourCC; f != "" && len(f) != 4 {
		p.add(fmt.Sprintf("%q: want four characters such as MJPG or YUYV", f), "camera", "fourcc")
	}
	if c.Model.Path == "" {
		p.add("missing: want the path of a .tflite file", "model", "path")
	}
	switch c.Model.Delegate {
	case "cpu", "xnnpack", "edgetpu", "nnapi", "auto":
	default:
		p.add(fmt.Sprintf("%q: want cpu, xnnpack, edgetpu, nnapi or auto", c.Model.Delegate), "model", "delegate")
	}
	switch c.Model.Engine {
	case "", "tflite", "auto":
	case "go":
		if c.Model.Delegate != "cpu" && c.Model.Delegate != "auto" {
			p.add(fmt.Sprintf("the go engine runs on the CPU only, not %q", c.Model.Delegate), "model", "delegate")
		}
	default:
		p.add(fmt.Sprintf("%q: want tflite, go or auto", c.Model.Engine), "model", "engine")
	}
	switch c.Model.Resize {
	case "stretch", "center-crop", "letterbox":
	default:
		p.add(fmt.Sprintf("%q: want stretch, center-crop or letterbox", c.Model.Resize), "model", "resize")
	}
	if c.Model.Threads < 0 || c.Model.Threads > 64 {
		p.add(fmt.Sprintf("%d is not in 0..64", c.Model.Threads), "model", "threads")
	}
	if c.Model.Std != nil && *c.Model.Std <= 0 {
		p.add(fmt.Sprintf("%v: must be > 0", *c.Model.Std), "model", "std")
	}
	if c.Model.MinScore < 0 || c.Model.MinScore > 1 {
		p.add(fmt.Sprintf("%v is not in 0..1", c.Model.MinScore), "model", "min_score")
	}
	if c.Model.TopK < 1 || c.Model.TopK > 1000 {
		p.add(fmt.Sprintf("%d is not in 1..1000", c.Model.TopK), "model", "top_k")
	}
	for name, o := range c.Outputs {
		switch {
		case o.Line == nil && o.Name == "":
			p.add("want line (an offset on the chip) or name (such as GPIO17)", "outputs", name)
		case o.Line != nil && o.Name != "":
			p.add("give line or name, not both", "outputs", name)
		case o.Line != nil && (*o.Line < 0 || *o.Line > 1023):
			p.add(fmt.Sprintf("%d is not a line offset (0..1023)", *o.Line), "outputs", name, "line")
		}
	}
	names := map[string]bool{}
	for i, r := range c.Rules {
		if r.Name == "" {
			p.add("missing", "rules", i, "name")
		} else if names[r.Name] {
			p.add(fmt.Sprintf("%q used twice", r.Name), "rules", i, "name")
		}
		names[r.Name] = true
		if len(r.Labels) == 0 {
			p.add("want at least one label", "rules", i, "labels")
		}
		if r.MinScore < 0 || r.MinScore > 1 {
			p.add(fmt.Sprintf("%v is not in 0..1", r.MinScore), "rules", i, "min_score")
		}
		if r.ROI != nil {
			ok := len(r.ROI) == 4 && r.ROI[0] >= 0 && r.ROI[1] >= 0 && r.ROI[2] <= 1 && r.ROI[3] <= 1 && r.ROI[0] < r.ROI[2] && r.ROI[1] < r.ROI[3]
			if !ok {
				p.add(fmt.Sprintf("%v: want [xmin, ymin, xmax, ymax] inside [0, 0, 1, 1] with min < max", r.ROI), "rules", i, "roi")
			}
		}
		if d := r.Debounce; d.M < 1 || d.N < 1 || d.N > d.M || d.M > 1000 {
			p.add(fmt.Sprintf("n %d of m %d: want 1 <= n <= m <= 1000", d.N, d.M), "rules", i, "debounce")
		}
		if r.MinHold < 0 {
			p.add("negative duration", "rules", i, "min_hold")
		}
		if r.Cooldown < 0 {
			p.add("negative duration", "rules", i, "cooldown")
		}
		for j, a := range r.Actions {
			if _, ok := c.Outputs[a.Output]; !ok {
				p.add(fmt.Sprintf("%q is not one of the outputs", a.Output), "rules", i, "actions", j, "output")
			}
			switch a.Mode {
			case "pulse":
				if a.Pulse <= 0 || a.Pulse.D() > time.Minute {
					p.add(fmt.Sprintf("%v: a pulse needs a width between 1ms and 1m", a.Pulse.D()), "rules", i, "actions", j, "pulse")
				}
			case "hold":
				if a.Pulse != 0 {
					p.add("hold mode takes no pulse width", "rules", i, "actions", j, "pulse")
				}
			default:
				p.add(fmt.Sprintf("%q: want pulse or hold", a.Mode), "rules", i, "actions", j, "mode")
			}
		}
	}
	if c.Events.Dir == "" && len(c.Rules) > 0 {
		p.add("missing: want a directory for the event log (e.g. /var/lib/edge/events)", "events", "dir")
	}
	if c.Events.MaxFileMB < 0 || c.Events.MaxTotalMB < c.Events.MaxFileMB {
		p.add(fmt.Sprintf("max_file_mb %v, max_total_mb %v: want 0 < max_file_mb <= max_total_mb", c.Events.MaxFileMB, c.Events.MaxTotalMB), "events")
	}
	if c.Events.SnapshotQuotaMB < 0 {
		p.add("must be >= 0", "events", "snapshot_quota_mb")
	}
	switch c.Console.Baud {
	case 9600, 19200, 38400, 57600, 115200, 230400, 460800, 921600:
	default:
		p.add(fmt.Sprintf("%d: want a standard rate such as 115200", c.Console.Baud), "console", "baud")
	}
	if c.Console.StatusEvery < 0 {
		p.add("negative duration", "console", "status_every")
	}
	if l := c.HTTP.Listen; l != "off" {
		if _, port, err := net.SplitHostPort(l); err != nil || port == "" {
			p.add(fmt.Sprintf("%q: want host:port such as 127.0.0.1:9101, or off", l), "http", "listen")
		}
	}
	return errors.Join(p.errs...)
}
