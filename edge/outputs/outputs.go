// Package outputs drives the GPIO outputs of the edge daemon: a rule fires
// and an output clicks a relay, sounds a buzzer or lights a lamp.
//
// An Output drives one periph gpio.PinOut in one of two modes:
//
//   - Pulse: Trigger drives the pin active for the configured width, then
//     inactive. Trigger never blocks: the Output owns one goroutine that ends
//     the pulse. A Trigger during a pulse restarts the pulse timer (a
//     retriggerable monostable): the pin stays active without a gap and goes
//     inactive one full width after the last Trigger.
//   - Hold: Set(true) while something is detected, Set(false) when it is gone.
//
// Set works in both modes (console commands "on" and "off") and cancels any
// pulse in progress. ActiveLow inverts the electrical levels, for relay
// boards that close on a low input.
//
// A Bank holds the named outputs of a device and pulses each of them once,
// in turn, as a startup self-test.
//
// The package depends on periph's gpio.PinOut only. On Linux, OpenChipLine
// and OpenChipLineByName give a gpio.PinOut over a GPIO character-device line
// (warthog618/gpiod); tests use periph's gpio/gpiotest pins.
package outputs

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"

	"periph.io/x/conn/v3/gpio"
)

// Mode says how an Output is driven.
type Mode int

const (
	// Pulse: Trigger drives the output active for Config.Pulse, then inactive.
	Pulse Mode = iota
	// Hold: the output follows Set, e.g. active while something is detected.
	Hold
)

// String returns "pulse" or "hold".
func (m Mode) String() string {
	switch m {
	case Pulse:
		return "pulse"
	case Hold:
		return "hold"
	}
	return fmt.Sprintf("Mode(%d)", int(m))
}

// ParseMode parses "pulse" or "hold" (case-insensitive).
func ParseMode(s string) (Mode, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "pulse":
		return Pulse, nil
	case "hold":
		return Hold, nil
	}
	return 0, fmt.Errorf("output mode %q: want \"pulse\" or \"hold\"", s)
}

// MarshalText implements encoding.TextMarshaler.
func (m Mode) MarshalText() ([]byte, error) {
	if m != Pulse && m != Hold {
		return nil, fmt.Errorf("output mode %d: want Pulse (0) or Hold (1)", int(m))
	}
	return []byte(m.String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler, so that configuration
// files can say mode: pulse or mode: hold.
func (m *Mode) UnmarshalText(b []byte) error {
	v, err := ParseMode(string(b))
	if err != nil {
		return err
	}
	*m = v
	return nil
}

// SelfTestPulse is the self-test pulse width of an output that has no
// pulse width of its own (a Hold-mode output with Config.Pulse 0).
const SelfTestPulse = 200 * time.Millisecond

// Config configures an Output.
type Config struct {
	Mode Mode
	// Pulse is the pulse width: > 0 in Pulse mode. In Hold mode it is
	// optional and only used by PulseFor(0) and the self-test.
	Pulse time.Duration
	// ActiveLow drives the pin Low when active and High when inactive.
	ActiveLow bool
	// Logger receives pin errors met while ending a pulse and debug
	// records of each change; nil means slog.Default().
	Logger *slog.Logger
}

// Validate checks the configuration; errors name the field and what was
// expected.
func (c Config) Validate() error {
	switch {
	case c.Mode != Pulse && c.Mode != Hold:
		return fmt.Errorf("mode %d: want Pulse or Hold", int(c.Mode))
	case c.Pulse < 0:
		return fmt.Errorf("pulse width %v: want > 0", c.Pulse)
	case c.Mode == Pulse && c.Pulse == 0:
		return errors.New("pulse width 0: pulse mode needs a width > 0 (e.g. 500ms)")
	}
	return nil
}

// ErrClosed is returned (wrapped, naming the output) by the methods of an
// Output that has been closed.
var ErrClosed = errors.New("output closed")

// Output is one named GPIO output. Its methods are safe for concurrent use.
type Output struct {
	name string
	pin  gpio.PinOut
	cfg  Config
	log  *slog.Logger

	mu       sync.Mutex
	active   bool
	closed   bool
	deadline time.Time // end of the pulse in progress; zero if none

	wake chan struct{} // capacity 1: a new deadline was set
	quit chan struct{} // closed by Close
	done chan struct{} // closed when the goroutine has returned
}

// New returns an Output named name driving pin, and drives the pin inactive.
// The Output takes ownership of pin: Close closes it if it implements
// io.Closer (as *ChipLine does). On error, the pin is left to the caller.
func New(name string, pin gpio.PinOut, cfg Config) (*Output, error) {
	if name == "" {
		return nil, errors.New("output: empty name")
	}
	if pin == nil || pin == gpio.INVALID {
		return nil, fmt.Errorf("output %q: no pin (nil or gpio.INVALID): want a gpio.PinOut", name)
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("output %q: %w", name, err)
	}
	o := &Output{
		name: name,
		pin:  pin,
		cfg:  cfg,
		log:  cfg.Logger,
		wake: make(chan struct{}, 1),
		quit: make(chan struct{}),
		done: make(chan struct{}),
	}
	if o.log == nil {
		o.log = slog.Default()
	}
	o.log = o.log.With("output", name)
	if err := o.drive(false); err != nil {
		return nil, err
	}
	go o.run()
	return o, nil
}

// Name is the output's name.
func (o *Output) Name() string { return o.name }

// Config is the configuration the output was built with.
func (o *Output) Config() Config { return o.cfg }

// String describes the output, e.g. `relay1 (pulse 500ms, active-low) on GPIO17(17)`.
func (o *Output) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s (%s", o.name, o.cfg.Mode)
	if o.cfg.Pulse > 0 {
		fmt.Fprintf(&b, " %v", o.cfg.Pulse)
	}
	if o.cfg.ActiveLow {
		b.WriteString(", active-low")
	}
	fmt.Fprintf(&b, ") on %s", o.pin)
	return b.String()
}

// State reports whether the output is active (logically: an active-low
// output that is active has its pin Low).
func (o *Output) State() bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.active
}

// Trigger starts a pulse of the configured width and returns at once; the
// Output's goroutine ends it. A Trigger during a pulse restarts the pulse:
// the output stays active and goes inactive one full width after the last
// Trigger. It is an error in Hold mode (use Set).
func (o *Output) Trigger() error {
	if o.cfg.Mode != Pulse {
		return fmt.Errorf("output %q: Trigger needs pulse mode, this output is in hold mode: use Set", o.name)
	}
	return o.PulseFor(o.cfg.Pulse)
}

// PulseFor is Trigger with a width of d, in either mode (console command
// "pulse NAME [duration]"); d = 0 means the configured width.
func (o *Output) PulseFor(d time.Duration) error {
	if d == 0 {
		d = o.cfg.Pulse
	}
	if d <= 0 {
		return fmt.Errorf("output %q: pulse width %v: want > 0", o.name, d)
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed {
		return fmt.Errorf("output %q: pulse: %w", o.name, ErrClosed)
	}
	if !o.active {
		if err := o.drive(true); err != nil {
			return err
		}
	}
	// The deadline is taken after the pin went active, so a pulse is never
	// shorter than d.
	o.deadline = time.Now().Add(d)
	select {
	case o.wake <- struct{}{}:
	default: // a wake-up is already pending
	}
	return nil
}

// Set drives the output active or inactive now and cancels any pulse in
// progress. It works in both modes.
func (o *Output) Set(active bool) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed {
		return fmt.Errorf("output %q: set %v: %w", o.name, active, ErrClosed)
	}
	o.deadline = time.Time{}
	if active == o.active {
		return nil
	}
	return o.drive(active)
}

// Close drives the pin inactive, stops the output's goroutine and waits for
// it, then closes the pin if it implements io.Closer. Closing twice is a
// no-op.
func (o *Output) Close() error {
	o.mu.Lock()
	if o.closed {
		o.mu.Unlock()
		return nil
	}
	o.closed = true
	o.deadline = time.Time{}
	err := o.drive(false)
	o.mu.Unlock()

	close(o.quit)
	<-o.done
	if c, ok := o.pin.(io.Closer); ok {
		if cerr := c.Close(); cerr != nil {
			err = errors.Join(err, fmt.Errorf("output %q: close pin %s: %w", o.name, o.pin, cerr))
		}
	}
	return err
}

// drive sets the pin to the level of active; o.mu is held (or o is not yet
// shared). o.active follows the request even if the pin fails, so that a
// later Set retries.
func (o *Output) drive(active bool) error {
	o.active = active
	l := gpio.Level(active != o.cfg.ActiveLow)
	if err := o.pin.Out(l); err != nil {
		return fmt.Errorf("output %q: drive pin %s %s (%s): %w", o.name, o.pin, l, onOff(active), err)
	}
	o.log.Debug("output changed", "active", active, "level", l)
	return nil
}

func onOff(active bool) string {
	if active {
		return "active"
	}
	return "inactive"
}

// run is the Output's goroutine: it ends pulses at their deadline.
func (o *Output) run() {
	defer close(o.done)
	t := time.NewTimer(time.Hour)
	t.Stop()
	for {
		o.mu.Lock()
		var wait time.Duration
		if !o.deadline.IsZero() {
			wait = time.Until(o.deadline)
			if wait <= 0 {
				o.deadline = time.Time{}
				wait = 0
				if err := o.drive(false); err != nil {
					o.log.Error("end of pulse", "err", err)
				}
			}
		}
		o.mu.Unlock()

		var fire <-chan time.Time
		if wait > 0 {
			t.Reset(wait)
			fire = t.C
		}
		select {
		case <-o.quit:
			t.Stop()
			return
		case <-o.wake:
		case <-fire:
		}
		t.Stop()
	}
}
