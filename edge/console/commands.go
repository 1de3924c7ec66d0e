package console

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/edgeproject/edge/edge/eventlog"
	"github.com/edgeproject/edge/edge/pipeline"
)

// Daemon is what the console needs from the running edge daemon. Its
// methods are called from the console's goroutine, one at a time, while
// the pipeline runs; they must be safe for that and should return quickly
// (a slow Reload delays the console, never the pipeline).
type Daemon interface {
	// Status is the state for the status line and the status command.
	Status() Status
	// Stages are the per-stage latency percentiles, in pipeline order
	// (pipeline.Snapshot.Stages).
	Stages() []pipeline.Percentiles
	// Events returns the last n events, oldest first (eventlog.Log.Recent);
	// n is 1..MaxEvents.
	Events(n int) ([]eventlog.Event, error)
	// GPIO drives the named output: op is "pulse", "on" or "off". An
	// unknown name is an error that lists the known names.
	GPIO(name, op string) error
	// Reload rereads the configuration; an error leaves the old one running.
	Reload() error
	// Snapshot saves the current frame and returns the file's path.
	Snapshot() (path string, err error)
	// Version is the build's version, e.g. "edge v1.4.0".
	Version() string
}

// Status is the daemon's state, as the status line shows it.
type Status struct {
	Uptime                  time.Duration
	Frames, Dropped, Events uint64
	FPS                     float64
	InvokeP50               time.Duration   // 0: no inference yet
	LastEvent               *eventlog.Event // nil: no event yet
	Model, Delegation       string          // e.g. "ssd_mobilenet.tflite", "xnnpack"
	Source                  string          // e.g. "/dev/video0"
	// TempC is the CPU temperature in °C; 0 means unknown, and the console
	// then reads /sys/class/thermal/thermal_zone0/temp itself (the status
	// line omits the temperature where that is not readable).
	TempC float64
}

// MaxEvents is the most events the events command lists.
const MaxEvents = 100

// defaultEvents is how many events "events" lists without a count.
const defaultEvents = 10

// Time layouts of the console's output, in the console's local time.
const (
	clockLayout = "15:04:05"
	dateLayout  = "2006-01-02 15:04:05"
)

// StatusLine formats s as the console's one-line status at time now, e.g.
//
//	[edge 01:02:03] up 1h02m fps 14.2 invoke 54.8ms drop 3 temp 51.2C last dog@12:01:05 (0.83)
//
// Times are shown in now's location; the temperature and the last event
// are omitted when unknown.
func StatusLine(now time.Time, s Status) string {
	var b strings.Builder
	fmt.Fprintf(&b, "[edge %s] up %s fps %.1f invoke ", now.Format(clockLayout), uptime(s.Uptime), s.FPS)
	if s.InvokeP50 > 0 {
		fmt.Fprintf(&b, "%.1fms", float64(s.InvokeP50.Microseconds())/1000)
	} else {
		b.WriteString("-")
	}
	fmt.Fprintf(&b, " drop %d", s.Dropped)
	if s.TempC != 0 {
		fmt.Fprintf(&b, " temp %.1fC", s.TempC)
	}
	if e := s.LastEvent; e != nil {
		fmt.Fprintf(&b, " last %s@%s (%.2f)", e.Label, e.Time.In(now.Location()).Format(clockLayout), e.Score)
	}
	return b.String()
}

// uptime formats d compactly: 45s, 12m05s, 1h02m, 3d04h.
func uptime(d time.Duration) string {
	s := int64(d / time.Second)
	switch {
	case s < 60:
		return fmt.Sprintf("%ds", max(s, 0))
	case s < 3600:
		return fmt.Sprintf("%dm%02ds", s/60, s%60)
	case s < 86400:
		return fmt.Sprintf("%dh%02dm", s/3600, s%3600/60)
	default:
		return fmt.Sprintf("%dd%02dh", s/86400, s%86400/3600)
	}
}

// eventLine formats an event for the events command and the live event
// lines: 2024-05-06 07:08:09 rule=front-door label=person score=0.91 frame=1234.
func eventLine(e eventlog.Event, loc *time.Location) string {
	s := fmt.Sprintf("%s rule=%s label=%s score=%.2f frame=%d",
		e.Time.In(loc).Format(dateLayout), e.Rule, e.Label, e.Score, e.Frame)
	if e.Snapshot != "" {
		s += " snapshot=" + e.Snapshot
	}
	return s
}

const helpText = `commands:
  help                      this list
  status                    status line, model and counters
  stats                     per-stage latency, p50 and p95
  events [n]                the last n events (default 10, max 100)
  gpio <name> pulse|on|off  drive an output
  reload                    reload the configuration
  snapshot                  save a snapshot and print its path
  version                   the daemon's version
keys: Backspace edits, Ctrl-U erases the line, Ctrl-C cancels it
`

// Exec runs one command line, as typed on the serial console, and returns
// its output: lines ending with \n (the port gets \r\n). An empty line
// gives "". Errors are output lines starting with "error: ", including a
// panic in the Daemon, which Exec recovers and logs. Exec is safe for
// concurrent use if the Daemon is.
func (c *Console) Exec(line string) (out string) {
	defer func() {
		if r := recover(); r != nil {
			c.log.Error("console: panic in a daemon call", "port", c.cfg.Port, "command", line, "panic", r)
			out = fmt.Sprintf("error: internal error: %v\n", r)
		}
	}()
	f := strings.Fields(line)
	if len(f) == 0 {
		return ""
	}
	name, args := strings.ToLower(f[0]), f[1:]
	noArgs := func() string {
		if len(args) > 0 {
			return fmt.Sprintf("error: %s takes no arguments (got %q)\n", name, strings.Join(args, " "))
		}
		return ""
	}
	switch name {
	case "help", "?":
		if e := noArgs(); e != "" {
			return e
		}
		return helpText
	case "status":
		if e := noArgs(); e != "" {
			return e
		}
		return c.statusText()
	case "stats":
		if e := noArgs(); e != "" {
			return e
		}
		return stagesTable(c.d.Stages())
	case "events":
		return c.events(args)
	case "gpio":
		return c.gpio(args)
	case "reload":
		if e := noArgs(); e != "" {
			return e
		}
		if err := c.d.Reload(); err != nil {
			return fmt.Sprintf("error: reload: %v\n", err)
		}
		return "ok: configuration reloaded\n"
	case "snapshot":
		if e := noArgs(); e != "" {
			return e
		}
		path, err := c.d.Snapshot()
		if err != nil {
			return fmt.Sprintf("error: snapshot: %v\n", err)
		}
		return fmt.Sprintf("snapshot saved: %s\n", path)
	case "version":
		if e := noArgs(); e != "" {
			return e
		}
		return c.d.Version() + "\n"
	default:
		return fmt.Sprintf("error: unknown command %q (try help)\n", f[0])
	}
}

// status returns the daemon's status with the temperature filled in.
func (c *Console) status() Status {
	s := c.d.Status()
	if s.TempC == 0 {
		s.TempC = readTempC(c.thermal)
	}
	return s
}

func (c *Console) statusText() string {
	s := c.status()
	var b strings.Builder
	b.WriteString(StatusLine(c.now(), s))
	b.WriteByte('\n')
	if s.Model != "" || s.Source != "" {
		fmt.Fprintf(&b, "model %s", orDash(s.Model))
		if s.Delegation != "" {
			fmt.Fprintf(&b, " (%s)", s.Delegation)
		}
		fmt.Fprintf(&b, " source %s\n", orDash(s.Source))
	}
	fmt.Fprintf(&b, "frames %d dropped %d events %d\n", s.Frames, s.Dropped, s.Events)
	return b.String()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func stagesTable(st []pipeline.Percentiles) string {
	if len(st) == 0 {
		return "no stage timings yet\n"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%-12s %6s %9s %9s\n", "stage", "n", "p50 ms", "p95 ms")
	for _, p := range st {
		fmt.Fprintf(&b, "%-12s %6d %9.2f %9.2f\n", p.Stage, p.N, p.P50MS, p.P95MS)
	}
	return b.String()
}

func (c *Console) events(args []string) string {
	n := defaultEvents
	switch len(args) {
	case 0:
	case 1:
		v, err := strconv.Atoi(args[0])
		if err != nil {
			return fmt.Sprintf("error: events: count %q is not a number (want 1..%d)\n", args[0], MaxEvents)
		}
		if v < 1 || v > MaxEvents {
			return fmt.Sprintf("error: events: count %d is out of range (want 1..%d)\n", v, MaxEvents)
		}
		n = v
	default:
		return "error: usage: events [n]\n"
	}
	evs, err := c.d.Events(n)
	if err != nil {
		return fmt.Sprintf("error: events: %v\n", err)
	}
	if len(evs) == 0 {
		return "no events\n"
	}
	if len(evs) > n { // a Daemon that returns too many: show the last n
		evs = evs[len(evs)-n:]
	}
	var b strings.Builder
	loc := c.now().Location()
	for _, e := range evs {
		b.WriteString(eventLine(e, loc))
		b.WriteByte('\n')
	}
	return b.String()
}

func (c *Console) gpio(args []string) string {
	if len(args) != 2 {
		return "error: usage: gpio <name> pulse|on|off\n"
	}
	name, op := args[0], strings.ToLower(args[1])
	switch op {
	case "pulse", "on", "off":
	default:
		return fmt.Sprintf("error: gpio %s: operation %q: want pulse, on or off\n", name, args[1])
	}
	if err := c.d.GPIO(name, op); err != nil {
		return fmt.Sprintf("error: gpio %s %s: %v\n", name, op, err)
	}
	return fmt.Sprintf("ok: gpio %s %s\n", name, op)
}

// defaultThermal is the CPU temperature on a Raspberry Pi and, as zone 0,
// on most other Linux boards; in millidegrees Celsius.
const defaultThermal = "/sys/class/thermal/thermal_zone0/temp"

// readTempC reads a thermal zone's temperature, or 0 if it is not readable.
func readTempC(path string) float64 {
	if path == "" {
		return 0
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	v, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	if err != nil {
		return 0
	}
	return float64(v) / 1000
}
