//go:build linux

package outputs

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"sync"
	"syscall"

	"github.com/warthog618/gpiod"
	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/physic"
)

// ChipLine is one line of a Linux GPIO character device (/dev/gpiochipN),
// requested as an output. It implements periph's gpio.PinOut; Close
// releases the line. Its methods are safe for concurrent use.
type ChipLine struct {
	chip     string // "gpiochip0"
	offset   int
	name     string // the kernel's name for the line, e.g. "GPIO17"; may be ""
	consumer string

	mu    sync.Mutex
	line  *gpiod.Line // nil once closed
	level gpio.Level
}

var _ gpio.PinOut = (*ChipLine)(nil)

// OpenChipLine requests line offset of chip ("gpiochip0" or "/dev/gpiochip0")
// as an output driven Low, labelled consumer (DefaultConsumer if empty).
// Errors name the chip and line and say what to check: a missing
// /dev/gpiochipN, permissions, an offset out of range, a line held by
// another process.
func OpenChipLine(chip string, offset int, consumer string) (*ChipLine, error) {
	if consumer == "" {
		consumer = DefaultConsumer
	}
	name := strings.TrimPrefix(chip, "/dev/")
	path := "/dev/" + name
	where := fmt.Sprintf("GPIO %s line %d", path, offset)
	if name == "" || strings.Contains(name, "/") {
		return nil, fmt.Errorf("%s: chip %q: want a name like gpiochip0 or /dev/gpiochip0", where, chip)
	}
	if offset < 0 {
		return nil, fmt.Errorf("%s: offset must be >= 0", where)
	}
	c, err := gpiod.NewChip(path, gpiod.WithConsumer(consumer))
	if err != nil {
		return nil, fmt.Errorf("%s: %s: %w", where, chipHint(path, err), err)
	}
	defer c.Close()
	if offset >= c.Lines() {
		return nil, fmt.Errorf("%s: offset out of range: %s has %d lines (0..%d); check the offset with gpioinfo %s: %w",
			where, path, c.Lines(), c.Lines()-1, name, gpiod.ErrInvalidOffset)
	}
	info, ierr := c.LineInfo(offset)
	l, err := c.RequestLine(offset, gpiod.AsOutput(0), gpiod.WithConsumer(consumer))
	if err != nil {
		hint := lineHint(path, err)
		if ierr == nil && info.Used && info.Consumer != "" {
			hint += fmt.Sprintf(" (held by %q)", info.Consumer)
		}
		return nil, fmt.Errorf("%s: %s: %w", where, hint, err)
	}
	return &ChipLine{chip: name, offset: offset, name: info.Name, consumer: consumer, line: l}, nil
}

// OpenChipLineByName finds the line the kernel names name (e.g. "GPIO17"
// on a Raspberry Pi) on any GPIO chip and requests it as OpenChipLine
// does, with DefaultConsumer. (gpiod v0.8.2 has no FindLine: the chips'
// line infos are searched here.)
func OpenChipLineByName(name string) (*ChipLine, error) {
	if name == "" {
		return nil, errors.New("GPIO line: empty name: want a line name like GPIO17")
	}
	chips := gpiod.Chips()
	if len(chips) == 0 {
		return nil, fmt.Errorf("GPIO line %q: no GPIO chips found (no usable /dev/gpiochip*): check that this board's GPIO driver is loaded and that the user can read /dev/gpiochip* (group gpio)", name)
	}
	var errs []error
	for _, chip := range chips {
		offset, err := findLine(chip, name)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if offset >= 0 {
			return OpenChipLine(chip, offset, DefaultConsumer)
		}
	}
	err := fmt.Errorf("GPIO line %q: not found on %s; check the names with gpioinfo", name, strings.Join(chips, ", "))
	return nil, errors.Join(append([]error{err}, errs...)...)
}

// findLine returns the offset of the line named name on chip, or -1.
func findLine(chip, name string) (int, error) {
	path := "/dev/" + chip
	c, err := gpiod.NewChip(path)
	if err != nil {
		return -1, fmt.Errorf("GPIO %s: %s: %w", path, chipHint(path, err), err)
	}
	defer c.Close()
	for off := 0; off < c.Lines(); off++ {
		info, err := c.LineInfo(off)
		if err != nil {
			return -1, fmt.Errorf("GPIO %s line %d: read line info: %w", path, off, err)
		}
		if info.Name == name {
			return off, nil
		}
	}
	return -1, nil
}

// chipHint says what to check when a chip cannot be opened.
func chipHint(path string, err error) string {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return path + " does not exist: check that this board has GPIO, that its driver is loaded and that the chip name is right (ls /dev/gpiochip*)"
	case errors.Is(err, fs.ErrPermission):
		return "permission denied on " + path + ": add the user to group gpio (or give it access with a udev rule), or run as root"
	case errors.Is(err, gpiod.ErrNotCharacterDevice):
		return path + " is not a GPIO character device: check the chip name (ls /dev/gpiochip*, gpiodetect)"
	}
	return "cannot open " + path
}

// lineHint says what to check when a line cannot be requested.
func lineHint(path string, err error) string {
	switch {
	case errors.Is(err, syscall.EBUSY):
		return "line busy: another process or a kernel driver holds it; check with gpioinfo " + strings.TrimPrefix(path, "/dev/")
	case errors.Is(err, fs.ErrPermission), errors.Is(err, gpiod.ErrPermissionDenied):
		return "permission denied: add the user to group gpio (or give it access with a udev rule), or run as root"
	case errors.Is(err, gpiod.ErrInvalidOffset), errors.Is(err, syscall.EINVAL):
		return "invalid line or request: check the offset with gpioinfo " + strings.TrimPrefix(path, "/dev/")
	}
	return "cannot request the line as an output"
}

// String is e.g. "gpiochip0:17(GPIO17)".
func (p *ChipLine) String() string {
	if p.name != "" {
		return fmt.Sprintf("%s:%d(%s)", p.chip, p.offset, p.name)
	}
	return fmt.Sprintf("%s:%d", p.chip, p.offset)
}

// Name is the kernel's name for the line, or "gpiochipN:offset" if it has none.
func (p *ChipLine) Name() string {
	if p.name != "" {
		return p.name
	}
	return fmt.Sprintf("%s:%d", p.chip, p.offset)
}

// Number is the line's offset on its chip.
func (p *ChipLine) Number() int { return p.offset }

// Function is "Out/High" or "Out/Low" (periph's convention), or "Closed".
func (p *ChipLine) Function() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.line == nil {
		return "Closed"
	}
	return "Out/" + p.level.String()
}

// Halt implements conn.Resource; a line has nothing in progress to stop.
func (p *ChipLine) Halt() error { return nil }

// Out drives the line to l.
func (p *ChipLine) Out(l gpio.Level) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.line == nil {
		return fmt.Errorf("GPIO %s: out %s: line closed: %w", p, l, gpiod.ErrClosed)
	}
	v := 0
	if l {
		v = 1
	}
	if err := p.line.SetValue(v); err != nil {
		return fmt.Errorf("GPIO %s: set %s: %w", p, l, err)
	}
	p.level = l
	return nil
}

// PWM is not supported: a character-device line is only on or off.
func (p *ChipLine) PWM(duty gpio.Duty, f physic.Frequency) error {
	return fmt.Errorf("GPIO %s: PWM not supported: a GPIO character-device line is on/off only (duty %s, %s requested)", p, duty, f)
}

// Close releases the line (the kernel keeps its last level). Closing twice
// is a no-op.
func (p *ChipLine) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.line == nil {
		return nil
	}
	err := p.line.Close()
	p.line = nil
	if err != nil {
		return fmt.Errorf("GPIO %s: release line: %w", p, err)
	}
	return nil
}
