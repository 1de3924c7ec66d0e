//go:build linux

package outputs

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/warthog618/gpiod"
	"periph.io/x/conn/v3/gpio"
)

// Without a GPIO chip (as on CI) OpenChipLine must say which device is
// missing and what to check. A real-kernel test on an emulated board is
// for a machine whose kernel has gpio-sim.
func TestOpenChipLineNoChip(t *testing.T) {
	if _, err := os.Stat("/dev/gpiochip0"); err == nil {
		t.Skip("/dev/gpiochip0 exists: this test is for machines without GPIO")
	}
	for _, chip := range []string{"gpiochip0", "/dev/gpiochip0"} {
		l, err := OpenChipLine(chip, 17, "edge")
		if err == nil {
			l.Close()
			t.Fatalf("OpenChipLine(%q, 17) succeeded without /dev/gpiochip0", chip)
		}
		for _, want := range []string{"/dev/gpiochip0", "line 17", "does not exist", "driver", "ls /dev/gpiochip*"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("OpenChipLine(%q, 17): error %q does not contain %q", chip, err, want)
			}
		}
		if !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("error %v does not wrap fs.ErrNotExist", err)
		}
	}
}

func TestOpenChipLineBadArgs(t *testing.T) {
	tests := []struct {
		chip   string
		offset int
		want   []string
	}{
		// /dev/null is a character device, but not a GPIO chip.
		{"/dev/null", 0, []string{"/dev/null", "not a GPIO character device", "gpiodetect"}},
		{"", 3, []string{"chip \"\"", "gpiochip0"}},
		{"gpiochip0", -1, []string{"line -1", ">= 0"}},
		{"../tmp/x", 1, []string{"gpiochip0 or /dev/gpiochip0"}},
	}
	for _, tt := range tests {
		l, err := OpenChipLine(tt.chip, tt.offset, "")
		if err == nil {
			l.Close()
			t.Errorf("OpenChipLine(%q, %d) succeeded", tt.chip, tt.offset)
			continue
		}
		for _, w := range tt.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("OpenChipLine(%q, %d): error %q does not contain %q", tt.chip, tt.offset, err, w)
			}
		}
	}
}

func TestOpenChipLineByNameNoChip(t *testing.T) {
	if len(gpiod.Chips()) > 0 {
		t.Skip("this machine has GPIO chips")
	}
	_, err := OpenChipLineByName("GPIO17")
	if err == nil || !strings.Contains(err.Error(), `"GPIO17"`) || !strings.Contains(err.Error(), "no GPIO chips found") {
		t.Errorf("OpenChipLineByName(GPIO17): %v, want an error naming the line and saying no chips were found", err)
	}
	if _, err := OpenChipLineByName(""); err == nil {
		t.Error("OpenChipLineByName(\"\") succeeded")
	}
}

// The hints for errors that need a real chip to happen.
func TestHints(t *testing.T) {
	tests := []struct {
		err  error
		hint func(string, error) string
		want string
	}{
		{&fs.PathError{Op: "open", Path: "/dev/gpiochip0", Err: syscall.EACCES}, chipHint, "group gpio"},
		{&fs.PathError{Op: "lstat", Path: "/dev/gpiochip9", Err: syscall.ENOENT}, chipHint, "/dev/gpiochip0 does not exist"},
		{gpiod.ErrNotCharacterDevice, chipHint, "not a GPIO character device"},
		{fmt.Errorf("request: %w", syscall.EBUSY), lineHint, "line busy"},
		{syscall.EACCES, lineHint, "group gpio"},
		{gpiod.ErrPermissionDenied, lineHint, "group gpio"},
		{syscall.EINVAL, lineHint, "gpioinfo gpiochip0"},
	}
	for _, tt := range tests {
		if got := tt.hint("/dev/gpiochip0", tt.err); !strings.Contains(got, tt.want) {
			t.Errorf("hint for %v = %q, want it to contain %q", tt.err, got, tt.want)
		}
	}
}

// A closed (or never opened) line fails every call with an error naming it.
func TestChipLineClosed(t *testing.T) {
	p := &ChipLine{chip: "gpiochip0", offset: 17, name: "GPIO17"}
	var _ gpio.PinOut = p
	if got := p.String(); got != "gpiochip0:17(GPIO17)" {
		t.Errorf("String() = %q", got)
	}
	if p.Name() != "GPIO17" || p.Number() != 17 || p.Function() != "Closed" || p.Halt() != nil {
		t.Errorf("Name %q Number %d Function %q", p.Name(), p.Number(), p.Function())
	}
	if err := p.Out(gpio.High); !errors.Is(err, gpiod.ErrClosed) || !strings.Contains(err.Error(), "gpiochip0:17") {
		t.Errorf("Out on a closed line: %v", err)
	}
	if err := p.PWM(gpio.DutyHalf, 0); err == nil || !strings.Contains(err.Error(), "not supported") {
		t.Errorf("PWM: %v, want not supported", err)
	}
	if err := p.Close(); err != nil {
		t.Errorf("Close of a closed line: %v", err)
	}
	unnamed := &ChipLine{chip: "gpiochip1", offset: 3}
	if unnamed.Name() != "gpiochip1:3" || unnamed.String() != "gpiochip1:3" {
		t.Errorf("unnamed line: Name %q String %q", unnamed.Name(), unnamed.String())
	}
}
