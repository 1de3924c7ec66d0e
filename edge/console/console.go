// Package console is edge's serial console: a line-oriented command
// interface on a UART (/dev/serial0), a USB gadget port (/dev/ttyGS0) or a
// USB-serial adapter (/dev/ttyUSB0), for watching a headless device with
// screen, minicom or picocom:
//
//	$ picocom -b 115200 /dev/ttyUSB0
//	edge console on /dev/serial0 (edge v1.4.0); type help
//	[edge 12:01:10] up 1h02m fps 14.2 invoke 54.8ms drop 3 temp 51.2C last dog@12:01:05 (0.83)
//	events 2
//	2024-05-06 12:00:41 rule=door label=person score=0.91 frame=50911
//	2024-05-06 12:01:05 rule=yard label=dog score=0.83 frame=51233
//
// A Console prints a status line every Config.StatusEvery and a line for
// each new event, and answers commands (help lists them). Serial terminal
// programs send keys as typed and do not echo, so the console echoes and
// handles line editing itself. Whatever arrives on the port — line noise, a
// wrong baud rate, a megabyte without a newline — costs at most an error
// line; nothing unprintable is sent back.
//
// The console must never take the daemon down: a port that is missing, or
// that fails or vanishes while open, is logged once per outage and
// reopened with backoff (500ms doubling to 10s) until Run's context ends.
//
// Monitor is the other end, for `edge monitor PORT` on a laptop.
package console

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// Defaults for the zero fields of Config.
const (
	DefaultBaud        = 115200
	DefaultStatusEvery = 10 * time.Second
	DefaultEventEvery  = time.Second
	DefaultMaxLine     = 256
)

// liveEventsMax bounds the event lines printed at one check; more new
// events than that are summarized in one line.
const liveEventsMax = 10

// Config configures a Console; zero fields take the defaults above.
type Config struct {
	// Port is the serial device: /dev/serial0, /dev/ttyGS0, /dev/ttyUSB0...
	// It need not exist yet: Run keeps trying to open it.
	Port string
	// Baud is the line speed, 8N1.
	Baud int
	// StatusEvery is the period of the status line; negative turns it off.
	StatusEvery time.Duration
	// EventEvery is how often the console checks for new events to print
	// as "event ..." lines; negative turns them off.
	EventEvery time.Duration
	// MaxLine is the longest command line, in bytes.
	MaxLine int
	// Logger receives port outages and recoveries; nil means slog.Default().
	Logger *slog.Logger
}

// withDefaults fills the zero fields and checks the rest; errors name the
// field and what was expected.
func (c Config) withDefaults() (Config, error) {
	var errs []error
	if c.Port == "" {
		errs = append(errs, errors.New("Config.Port is empty: want a serial device such as /dev/serial0"))
	}
	if c.Baud == 0 {
		c.Baud = DefaultBaud
	} else if c.Baud < 0 {
		errs = append(errs, fmt.Errorf("Config.Baud %d: want > 0 (or 0 for %d)", c.Baud, DefaultBaud))
	}
	if c.StatusEvery == 0 {
		c.StatusEvery = DefaultStatusEvery
	}
	if c.EventEvery == 0 {
		c.EventEvery = DefaultEventEvery
	}
	if c.MaxLine == 0 {
		c.MaxLine = DefaultMaxLine
	} else if c.MaxLine < 0 {
		errs = append(errs, fmt.Errorf("Config.MaxLine %d: want > 0 (or 0 for %d)", c.MaxLine, DefaultMaxLine))
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c, errors.Join(errs...)
}

// Console serves the command interface on one serial port. Create it with
// New, serve with Run, and stop it by ending Run's context or with Close.
type Console struct {
	cfg     Config
	d       Daemon
	log     *slog.Logger
	thermal string           // CPU temperature file; "" reads none
	now     func() time.Time // the clock of status lines

	mu      sync.Mutex
	closed  bool
	running bool
	stop    context.CancelFunc // ends a running Run
	done    chan struct{}      // closed when a running Run returns
}

// New returns a console for cfg.Port that answers from d. It does not open
// the port: Run does, and keeps reopening it.
func New(cfg Config, d Daemon) (*Console, error) {
	cfg, err := cfg.withDefaults()
	if d == nil {
		err = errors.Join(err, errors.New("daemon is nil: want a Daemon"))
	}
	if err != nil {
		return nil, fmt.Errorf("console: %w", err)
	}
	return &Console{cfg: cfg, d: d, log: cfg.Logger, thermal: defaultThermal, now: time.Now}, nil
}

// Run serves the console until ctx ends or Close is called, and then
// returns nil within about a second. It does not return on port errors: a
// missing, failing or vanished port is logged once per outage and
// reopened with backoff. It returns an error only if the console is closed
// or already running.
func (c *Console) Run(ctx context.Context) error {
	c.mu.Lock()
	switch {
	case c.closed:
		c.mu.Unlock()
		return fmt.Errorf("console %s: run: console is closed", c.cfg.Port)
	case c.running:
		c.mu.Unlock()
		return fmt.Errorf("console %s: run: already running", c.cfg.Port)
	}
	ctx, stop := context.WithCancel(ctx)
	c.running, c.stop, c.done = true, stop, make(chan struct{})
	done := c.done
	c.mu.Unlock()
	defer func() {
		stop()
		c.mu.Lock()
		c.running = false
		c.mu.Unlock()
		close(done)
	}()

	backoff := minBackoff
	down := false // in an outage that has been logged
	for ctx.Err() == nil {
		l, err := openLink(c.cfg.Port, c.cfg.Baud)
		if err == nil {
			if down {
				c.log.Info("console: serial port is back", "port", c.cfg.Port, "baud", c.cfg.Baud)
			} else {
				c.log.Info("console: serving", "port", c.cfg.Port, "baud", c.cfg.Baud)
			}
			down, backoff = false, minBackoff
			err = c.serve(ctx, l)
			l.close(c.log)
			if ctx.Err() != nil {
				break
			}
		}
		if !down {
			c.log.Warn("console: serial port unavailable; retrying until it is back", "port", c.cfg.Port, "err", err)
			down = true
		} else {
			c.log.Debug("console: serial port still unavailable", "port", c.cfg.Port, "err", err, "retry_in", backoff)
		}
		if !sleep(ctx, backoff) {
			break
		}
		backoff = nextBackoff(backoff)
	}
	return nil
}

// Close stops a running Run and waits for it to return. It is safe to call
// more than once and concurrently with Run.
func (c *Console) Close() error {
	c.mu.Lock()
	c.closed = true
	running, stop, done := c.running, c.stop, c.done
	c.mu.Unlock()
	if running {
		stop()
		<-done
	}
	return nil
}

// serve runs one connection until the link fails (its error is returned)
// or ctx ends (nil). It is the only goroutine that touches the editor and
// calls the Daemon.
func (c *Console) serve(ctx context.Context, l *link) error {
	ed := newEditor(c.cfg.MaxLine)
	var w bytes.Buffer
	flush := func() {
		if w.Len() > 0 {
			l.send(bytes.Clone(w.Bytes()))
			w.Reset()
		}
	}

	var statusC, eventC <-chan time.Time
	if c.cfg.StatusEvery > 0 {
		t := time.NewTicker(c.cfg.StatusEvery)
		defer t.Stop()
		statusC = t.C
	}
	var seen uint64 // events counted at the last check
	if c.cfg.EventEvery > 0 {
		t := time.NewTicker(c.cfg.EventEvery)
		defer t.Stop()
		eventC = t.C
		c.guard(func() { seen = c.d.Status().Events })
	}

	c.guard(func() {
		writeText(&w, fmt.Sprintf("edge console on %s (%s); type help\n", c.cfg.Port, c.d.Version()))
	})
	flush()
	for {
		select {
		case <-ctx.Done():
			return nil
		case err := <-l.errc:
			return err
		case b := <-l.in:
			ed.feed(b, &w, c.Exec)
		case <-statusC:
			c.guard(func() { ed.interject(&w, StatusLine(c.now(), c.status())+"\n") })
		case <-eventC:
			c.guard(func() { seen = c.liveEvents(ed, &w, seen) })
		}
		flush()
	}
}

// liveEvents prints the events logged since the last check, which counted
// seen events, and returns the new count.
func (c *Console) liveEvents(ed *editor, w *bytes.Buffer, seen uint64) uint64 {
	n := c.d.Status().Events
	if n <= seen {
		return n // no news, or the daemon restarted its counter
	}
	k := min(n-seen, liveEventsMax)
	evs, err := c.d.Events(int(k))
	if err != nil {
		c.log.Debug("console: read new events", "err", err)
		return n
	}
	var b bytes.Buffer
	if n-seen > k {
		fmt.Fprintf(&b, "event: %d more events (events %d lists them)\n", n-seen-k, MaxEvents)
	}
	loc := c.now().Location()
	for _, e := range evs {
		fmt.Fprintf(&b, "event %s\n", eventLine(e, loc))
	}
	if b.Len() > 0 {
		ed.interject(w, b.String())
	}
	return n
}

// guard runs f, turning a panic in the Daemon into a log entry: a bug
// behind the status line must not take the daemon down.
func (c *Console) guard(f func()) {
	defer func() {
		if r := recover(); r != nil {
			c.log.Error("console: panic in a daemon call", "port", c.cfg.Port, "panic", r)
		}
	}()
	f()
}
