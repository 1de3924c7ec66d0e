package console

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"

	"github.com/edgeproject/edge/edge/eventlog"
	"github.com/edgeproject/edge/edge/pipeline"
)

const testVersion = "edge v9.9.9-test"

// fakeDaemon is the console's collaborator, recording what it is asked.
type fakeDaemon struct {
	mu        sync.Mutex
	status    Status
	events    []eventlog.Event
	eventsN   []int // the n of each Events call
	gpio      [][2]string
	reloadErr error
	reloads   int
}

var testEventTime = time.Date(2024, 5, 6, 12, 1, 5, 0, time.Local)

func newFakeDaemon() *fakeDaemon {
	evs := make([]eventlog.Event, 12)
	for i := range evs {
		evs[i] = eventlog.Event{
			Time: testEventTime.Add(time.Duration(i-len(evs)+1) * time.Minute),
			Rule: fmt.Sprintf("rule%d", i), Label: fmt.Sprintf("label%d", i),
			Score: 0.5 + float32(i)/100, Frame: uint64(1000 + i),
		}
	}
	last := evs[len(evs)-1]
	last.Rule, last.Label, last.Score, last.Snapshot = "yard", "dog", 0.83, "20240506T120105.000Z-yard-1011.jpg"
	evs[len(evs)-1] = last
	return &fakeDaemon{
		events: evs,
		status: Status{
			Uptime: time.Hour + 2*time.Minute + 7*time.Second, Frames: 53000, Dropped: 3, Events: uint64(len(evs)),
			FPS: 14.24, InvokeP50: 54812 * time.Microsecond, LastEvent: &last,
			Model: "ssd.tflite", Delegation: "xnnpack", Source: "/dev/video0",
		},
	}
}

func (f *fakeDaemon) Status() Status {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.status
}

func (f *fakeDaemon) Stages() []pipeline.Percentiles {
	return []pipeline.Percentiles{
		{Stage: "capture", N: 1024, P50MS: 2.1, P95MS: 3.4},
		{Stage: "invoke", N: 1024, P50MS: 54.81, P95MS: 61.2},
		{Stage: "total", N: 1024, P50MS: 60.5, P95MS: 70.25},
	}
}

func (f *fakeDaemon) Events(n int) ([]eventlog.Event, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.eventsN = append(f.eventsN, n)
	return slices.Clone(f.events[max(0, len(f.events)-n):]), nil
}

func (f *fakeDaemon) GPIO(name, op string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.gpio = append(f.gpio, [2]string{name, op})
	if name != "relay" && name != "buzzer" {
		return fmt.Errorf("unknown output %q (known: buzzer, relay)", name)
	}
	return nil
}

func (f *fakeDaemon) Reload() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reloads++
	return f.reloadErr
}

func (f *fakeDaemon) Snapshot() (string, error) {
	return "/var/lib/edge/snapshots/20240506T120106.000Z-manual.jpg", nil
}

func (f *fakeDaemon) Version() string { return testVersion }

// addEvent logs one more event, as the pipeline would.
func (f *fakeDaemon) addEvent(e eventlog.Event) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.events = append(f.events, e)
	f.status.Events++
	f.status.LastEvent = &e
}

// start runs a console for cfg on a background goroutine. The thermal
// file reads 51.2°C unless thermal is "".
func start(t *testing.T, cfg Config, d Daemon, logs *syncBuffer) *running {
	t.Helper()
	if cfg.Logger == nil {
		if logs == nil {
			logs = &syncBuffer{}
		}
		cfg.Logger = testLogger(logs)
	}
	c, err := New(cfg, d)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	thermal := filepath.Join(t.TempDir(), "temp")
	if err := os.WriteFile(thermal, []byte("51234\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c.thermal = thermal
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{c: c, cancel: cancel, err: make(chan error, 1)}
	go func() { r.err <- c.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		c.Close()
		if t.Failed() {
			t.Logf("console log:\n%s", logs)
		}
	})
	return r
}

// quiet is a config without unprompted lines, so that answers are exact.
func quiet(port string) Config { return Config{Port: port, StatusEvery: -1, EventEvery: -1} }

const wait = 3 * time.Second

func banner(port string) string {
	return fmt.Sprintf("edge console on %s (%s); type help\r\n", port, testVersion)
}

func TestCommands(t *testing.T) {
	before := runtime.NumGoroutine()
	term := newTerminal(t)
	d := newFakeDaemon()
	r := start(t, quiet(term.Path), d, nil)
	term.Expect(banner(term.Path), wait)
	checkTermios(t, term)

	at := func(e eventlog.Event) string { return e.Time.Format(dateLayout) }
	evs := d.events
	tests := []struct {
		name, send string
		want       []string // in order
		check      func(t *testing.T)
	}{
		{name: "help", send: "help", want: []string{"commands:\r\n", "  events [n] ", "  gpio <name> pulse|on|off ", "  version "}},
		{name: "empty line", send: "", want: nil},
		{name: "status", send: "status", want: []string{
			"[edge ", "] up 1h02m fps 14.2 invoke 54.8ms drop 3 temp 51.2C last dog@12:01:05 (0.83)\r\n",
			"model ssd.tflite (xnnpack) source /dev/video0\r\n",
			"frames 53000 dropped 3 events 12\r\n"}},
		{name: "stats", send: "stats", want: []string{
			"stage             n    p50 ms    p95 ms\r\n",
			"capture        1024      2.10      3.40\r\n",
			"invoke         1024     54.81     61.20\r\n",
			"total          1024     60.50     70.25\r\n"}},
		{name: "events 3", send: "events 3", want: []string{
			at(evs[9]) + " rule=rule9 label=label9 score=0.59 frame=1009\r\n",
			at(evs[10]) + " rule=rule10 label=label10 score=0.60 frame=1010\r\n",
			at(evs[11]) + " rule=yard label=dog score=0.83 frame=1011 snapshot=20240506T120105.000Z-yard-1011.jpg\r\n"},
			check: func(t *testing.T) {
				if got := d.eventsN[len(d.eventsN)-1]; got != 3 {
					t.Errorf("Events(%d), want Events(3)", got)
				}
			}},
		{name: "events default", send: "events", want: []string{at(evs[2]) + " rule=rule2 ", at(evs[11]) + " rule=yard "},
			check: func(t *testing.T) {
				if got := d.eventsN[len(d.eventsN)-1]; got != 10 {
					t.Errorf("Events(%d), want Events(10)", got)
				}
			}},
		{name: "events max", send: "events 100", want: []string{at(evs[0]) + " rule=rule0 "}},
		{name: "events 0", send: "events 0", want: []string{"error: events: count 0 is out of range (want 1..100)\r\n"}},
		{name: "events 101", send: "events 101", want: []string{"error: events: count 101 is out of range (want 1..100)\r\n"}},
		{name: "events x", send: "events x", want: []string{"error: events: count \"x\" is not a number (want 1..100)\r\n"}},
		{name: "events 1 2", send: "events 1 2", want: []string{"error: usage: events [n]\r\n"}},
		{name: "gpio relay pulse", send: "gpio relay pulse", want: []string{"ok: gpio relay pulse\r\n"},
			check: func(t *testing.T) {
				if got := d.gpio[len(d.gpio)-1]; got != [2]string{"relay", "pulse"} {
					t.Errorf("GPIO%q, want GPIO(relay, pulse)", got)
				}
			}},
		{name: "gpio buzzer ON", send: "gpio buzzer ON", want: []string{"ok: gpio buzzer on\r\n"}},
		{name: "gpio nope on", send: "gpio nope on", want: []string{`error: gpio nope on: unknown output "nope" (known: buzzer, relay)` + "\r\n"}},
		{name: "gpio bad op", send: "gpio relay blink", want: []string{`error: gpio relay: operation "blink": want pulse, on or off` + "\r\n"}},
		{name: "gpio usage", send: "gpio relay", want: []string{"error: usage: gpio <name> pulse|on|off\r\n"}},
		{name: "reload", send: "reload", want: []string{"ok: configuration reloaded\r\n"}},
		{name: "reload fails", send: "reload", want: []string{"error: reload: edge.yaml: rules[0].label: want a label of the model, got \"dgo\"\r\n"},
			check: func(t *testing.T) {
				if d.reloads != 2 {
					t.Errorf("%d Reload calls, want 2", d.reloads)
				}
			}},
		{name: "snapshot", send: "snapshot", want: []string{"snapshot saved: /var/lib/edge/snapshots/20240506T120106.000Z-manual.jpg\r\n"}},
		{name: "version", send: "version", want: []string{testVersion + "\r\n"}},
		{name: "extra argument", send: "version now", want: []string{`error: version takes no arguments (got "now")` + "\r\n"}},
		{name: "unknown", send: "x", want: []string{`error: unknown command "x" (try help)` + "\r\n"}},
		{name: "spaces and case", send: "  VERSION  ", want: []string{testVersion + "\r\n"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.name == "reload fails" {
				d.mu.Lock()
				d.reloadErr = errors.New(`edge.yaml: rules[0].label: want a label of the model, got "dgo"`)
				d.mu.Unlock()
			}
			term.Send(tt.send + "\r")
			term.Expect(tt.send+"\r\n", wait) // the echo
			for _, w := range tt.want {
				term.Expect(w, wait)
			}
			if tt.check != nil {
				d.mu.Lock()
				tt.check(t)
				d.mu.Unlock()
			}
		})
	}
	// Nothing more came (the empty line gave no output), and every line
	// ends with \r\n.
	term.Send("version\r")
	if got := term.Expect(testVersion+"\r\n", wait); got != "version\r\n"+testVersion+"\r\n" {
		t.Errorf("after the table: got %q, want only the version command", got)
	}
	if out := term.Output(); regexp.MustCompile(`[^\r]\n`).MatchString(out) {
		t.Errorf("a line ends with a bare \\n:\n%q", out)
	}

	r.stop(t)
	term.Close()
	checkGoroutines(t, before)
}

// checkTermios checks that go.bug.st/serial put the pty in raw mode, 8N1
// at 115200 baud: no echo or line editing by the kernel, no CR/NL
// translation either way.
func checkTermios(t *testing.T, term *terminal) {
	t.Helper()
	tio, err := unix.IoctlGetTermios(int(term.tty.Fd()), unix.TCGETS)
	if err != nil {
		t.Fatalf("termios of %s: %v", term.Path, err)
	}
	if tio.Lflag&(unix.ECHO|unix.ICANON|unix.ISIG|unix.IEXTEN) != 0 {
		t.Errorf("%s: lflag %#o: want ECHO, ICANON, ISIG, IEXTEN off", term.Path, tio.Lflag)
	}
	if tio.Iflag&(unix.ICRNL|unix.INLCR|unix.IGNCR|unix.IXON|unix.ISTRIP) != 0 {
		t.Errorf("%s: iflag %#o: want ICRNL, INLCR, IGNCR, IXON, ISTRIP off", term.Path, tio.Iflag)
	}
	if tio.Oflag&unix.OPOST != 0 {
		t.Errorf("%s: oflag %#o: want OPOST off", term.Path, tio.Oflag)
	}
	if tio.Cflag&unix.CSIZE != unix.CS8 || tio.Cflag&(unix.PARENB|unix.CSTOPB|unix.CRTSCTS) != 0 {
		t.Errorf("%s: cflag %#o: want 8N1 without RTS/CTS", term.Path, tio.Cflag)
	}
	if tio.Cflag&unix.CBAUD != unix.B115200 {
		t.Errorf("%s: cflag %#o: want B115200", term.Path, tio.Cflag)
	}
}

func TestStatusAndEventLines(t *testing.T) {
	term := newTerminal(t)
	d := newFakeDaemon()
	start(t, Config{Port: term.Path, StatusEvery: 100 * time.Millisecond, EventEvery: 50 * time.Millisecond}, d, nil)
	term.Expect(banner(term.Path), wait)
	status := regexp.MustCompile(`\[edge \d\d:\d\d:\d\d\] up 1h02m fps 14\.2 invoke 54\.8ms drop 3 temp 51\.2C last dog@12:01:05 \(0\.83\)\r\n`)
	start := time.Now()
	for n := 0; n < 3; {
		if time.Since(start) > wait {
			t.Fatalf("%d status lines in %v, want 3:\n%q", n, wait, term.Output())
		}
		n = len(status.FindAllString(term.Output(), -1))
		time.Sleep(10 * time.Millisecond)
	}

	// A new event is printed as it happens, and the status line follows.
	e := eventlog.Event{Time: testEventTime.Add(10 * time.Second), Rule: "door", Label: "person", Score: 0.91, Frame: 2000}
	d.addEvent(e)
	term.Expect("event "+e.Time.Format(dateLayout)+" rule=door label=person score=0.91 frame=2000\r\n", wait)
	term.Expect("last person@12:01:15 (0.91)\r\n", wait)

	// A status line while a command is being typed moves the partial line
	// below it.
	term.Send("vers")
	term.Expect("vers", wait)
	term.Expect("\r\n[edge ", wait)
	term.Expect("(0.91)\r\nvers", wait)
	term.Send("ion\r")
	term.Expect("ion\r\n"+testVersion+"\r\n", wait)
}

func TestEditing(t *testing.T) {
	term := newTerminal(t)
	start(t, quiet(term.Path), newFakeDaemon(), nil)
	term.Expect(banner(term.Path), wait)

	tests := []struct{ name, send, want string }{
		{"backspace DEL", "verx\x7fsion\r", "verx\b \bsion\r\n" + testVersion + "\r\n"},
		{"backspace BS", "verx\bsion\r", "verx\b \bsion\r\n" + testVersion + "\r\n"},
		{"backspace at start", "\x7f\x7fversion\r", "version\r\n" + testVersion + "\r\n"},
		{"CRLF is one line end", "version\r\n", "version\r\n" + testVersion + "\r\n"},
		{"LF", "version\n", "version\r\n" + testVersion + "\r\n"},
		{"Ctrl-C", "reload\x03version\r", "reload^C\r\nversion\r\n" + testVersion + "\r\n"},
		{"Ctrl-U", "xy\x15version\r", "xy\b \b\b \bversion\r\n" + testVersion + "\r\n"},
		{"arrow keys", "\x1b[A\x1b[Dver\x1bOAsion\r", "version\r\n" + testVersion + "\r\n"},
		{"controls and UTF-8 dropped", "v\x00e\x01r\x07s\ti\xc3\xa9on\r", "version\r\n" + testVersion + "\r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			term.Send(tt.send)
			if got := term.Expect(testVersion+"\r\n", wait); got != tt.want {
				t.Errorf("sent %q: got %q, want %q", tt.send, got, tt.want)
			}
		})
	}
}

func TestGarbage(t *testing.T) {
	term := newTerminal(t)
	start(t, quiet(term.Path), newFakeDaemon(), nil)
	term.Expect(banner(term.Path), wait)

	rng := rand.New(rand.NewPCG(1, 2))
	junk := make([]byte, 10<<10)
	for i := range junk {
		junk[i] = byte(rng.Uint32())
	}
	term.Send(string(junk))
	term.Send("\rversion\r")
	term.Expect("version\r\n"+testVersion+"\r\n", wait)
	if n := strings.Count(term.Output(), "error: unknown command"); n < 10 {
		t.Errorf("%d unknown command errors for 10 KiB of noise, want many:\n%q", n, term.Output())
	}
	for i, b := range []byte(term.Output()) {
		if (b < 0x20 && b != '\r' && b != '\n' && b != '\b') || b >= 0x7f {
			t.Fatalf("output byte %d is %#x, want printable ASCII, \\r, \\n or \\b", i, b)
		}
	}
}

func TestLongLine(t *testing.T) {
	term := newTerminal(t)
	start(t, quiet(term.Path), newFakeDaemon(), nil)
	term.Expect(banner(term.Path), wait)

	term.Send(strings.Repeat("a", 1<<20))
	term.Send("\rhelp\r")
	got := term.Expect("commands:\r\n", 10*time.Second)
	want := strings.Repeat("a", 256) + "\r\nerror: line too long (max 256)\r\nhelp\r\ncommands:\r\n"
	if got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestPortAppears(t *testing.T) {
	path := tempPortPath(t)
	logs := &syncBuffer{}
	r := start(t, quiet(path), newFakeDaemon(), logs)
	time.Sleep(1200 * time.Millisecond) // attempts at 0, 0.5s, 1.5s: all fail

	term := newTerminal(t)
	term.link(path)
	term.Expect(banner(path), 3*time.Second) // next attempt at 3.5s
	term.Send("version\r")
	term.Expect(testVersion+"\r\n", wait)

	if n := strings.Count(logs.String(), "level=WARN"); n != 1 {
		t.Errorf("%d warnings for one outage, want 1:\n%s", n, logs)
	}
	if !strings.Contains(logs.String(), "serial port is back") {
		t.Errorf("no recovery logged:\n%s", logs)
	}
	r.stop(t)
}

func TestReconnect(t *testing.T) {
	before := runtime.NumGoroutine()
	path := tempPortPath(t)
	first := newTerminal(t)
	first.link(path)
	logs := &syncBuffer{}
	r := start(t, quiet(path), newFakeDaemon(), logs)
	first.Expect(banner(path), wait)

	first.Close() // the device vanishes mid-run
	second := newTerminal(t)
	second.link(path)
	second.Expect(banner(path), wait)
	second.Send("version\r")
	second.Expect(testVersion+"\r\n", wait)
	if n := strings.Count(logs.String(), "level=WARN"); n != 1 {
		t.Errorf("%d warnings for one outage, want 1:\n%s", n, logs)
	}
	select {
	case err := <-r.err:
		t.Fatalf("Run returned %v while the port was away", err)
	default:
	}

	r.stop(t)
	second.Close()
	checkGoroutines(t, before)
}

func TestCancel(t *testing.T) {
	before := runtime.NumGoroutine()
	term := newTerminal(t)
	r := start(t, Config{Port: term.Path, StatusEvery: 50 * time.Millisecond, EventEvery: 50 * time.Millisecond}, newFakeDaemon(), nil)
	term.Expect(banner(term.Path), wait)
	term.Send("stat") // mid-line
	term.Expect("stat", wait)
	r.stop(t)
	term.Close()
	checkGoroutines(t, before)

	// Run again after Close is an error; Close is idempotent.
	r.c.Close()
	if err := r.c.Run(context.Background()); err == nil || !strings.Contains(err.Error(), "closed") {
		t.Errorf("Run after Close: %v, want a closed error", err)
	}
}

func TestCancelWhileAway(t *testing.T) {
	before := runtime.NumGoroutine()
	r := start(t, quiet(tempPortPath(t)), newFakeDaemon(), nil)
	time.Sleep(100 * time.Millisecond)
	r.stop(t)
	checkGoroutines(t, before)
}

func TestClose(t *testing.T) {
	term := newTerminal(t)
	r := start(t, quiet(term.Path), newFakeDaemon(), nil)
	term.Expect(banner(term.Path), wait)
	if err := r.c.Run(context.Background()); err == nil || !strings.Contains(err.Error(), "already running") {
		t.Errorf("second Run: %v, want an already running error", err)
	}
	done := make(chan struct{})
	go func() { r.c.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(time.Second):
		t.Fatal("Close did not return within 1s")
	}
	if err := <-r.err; err != nil {
		t.Errorf("Run after Close: %v, want nil", err)
	}
}

// panicDaemon fails every call, as a buggy daemon would.
type panicDaemon struct{ *fakeDaemon }

func (panicDaemon) Reload() error { panic("reload exploded") }

func TestDaemonPanic(t *testing.T) {
	term := newTerminal(t)
	start(t, quiet(term.Path), panicDaemon{newFakeDaemon()}, nil)
	term.Expect(banner(term.Path), wait)
	term.Send("reload\r")
	term.Expect("error: internal error: reload exploded\r\n", wait)
	term.Send("version\r")
	term.Expect(testVersion+"\r\n", wait)
}

func TestNew(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		d    Daemon
		want []string // in the error; none: no error
	}{
		{"defaults", Config{Port: "/dev/serial0"}, newFakeDaemon(), nil},
		{"no port", Config{}, newFakeDaemon(), []string{"Port is empty"}},
		{"bad baud", Config{Port: "/dev/ttyGS0", Baud: -9600}, newFakeDaemon(), []string{"Baud -9600: want > 0"}},
		{"bad max line", Config{Port: "/dev/ttyGS0", MaxLine: -1}, newFakeDaemon(), []string{"MaxLine -1: want > 0"}},
		{"no daemon", Config{Port: "/dev/ttyGS0"}, nil, []string{"daemon is nil"}},
		{"all wrong", Config{Baud: -1, MaxLine: -1}, nil, []string{"Port is empty", "Baud -1", "MaxLine -1", "daemon is nil"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := New(tt.cfg, tt.d)
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("New: %v", err)
				}
				if c.cfg.Baud != DefaultBaud || c.cfg.StatusEvery != DefaultStatusEvery || c.cfg.EventEvery != DefaultEventEvery || c.cfg.MaxLine != DefaultMaxLine || c.log == nil {
					t.Errorf("defaults not applied: %+v", c.cfg)
				}
				return
			}
			if err == nil {
				t.Fatalf("New: no error, want %q", tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("New: %v, want it to contain %q", err, w)
				}
			}
		})
	}
}

// A port nobody drains (a USB gadget port with no program open on the
// host) blocks writes in the kernel: commands still reach the daemon, and
// Run still returns at once.
func TestStuckPort(t *testing.T) {
	before := runtime.NumGoroutine()
	master, tty, err := pty.Open() // the master is never read
	if err != nil {
		t.Fatal(err)
	}
	d := newFakeDaemon()
	logs := &syncBuffer{}
	r := start(t, Config{Port: tty.Name(), StatusEvery: time.Millisecond, EventEvery: -1}, d, logs)
	time.Sleep(500 * time.Millisecond) // ~100 KB of status lines: the pty buffer is full
	if _, err := master.WriteString("gpio relay pulse\r"); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(wait); ; time.Sleep(5 * time.Millisecond) {
		d.mu.Lock()
		n := len(d.gpio)
		d.mu.Unlock()
		if n == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("GPIO not called within %v while the port was not draining", wait)
		}
	}
	r.stop(t)
	if !strings.Contains(logs.String(), "blocked") {
		t.Errorf("no warning about the blocked write:\n%s", logs)
	}
	master.Close() // the hangup ends the blocked write
	tty.Close()
	checkGoroutines(t, before)
}
