//go:build !linux

package outputs

import (
	"errors"
	"fmt"
	"runtime"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/physic"
)

// ChipLine is a Linux GPIO character-device line; on other systems it
// cannot be opened.
type ChipLine struct{}

var _ gpio.PinOut = (*ChipLine)(nil)

var errNotLinux = errors.New("GPIO character devices need Linux, this is " + runtime.GOOS)

// OpenChipLine fails: GPIO character devices need Linux.
func OpenChipLine(chip string, offset int, consumer string) (*ChipLine, error) {
	return nil, fmt.Errorf("GPIO %s line %d: %w", chip, offset, errNotLinux)
}

// OpenChipLineByName fails: GPIO character devices need Linux.
func OpenChipLineByName(name string) (*ChipLine, error) {
	return nil, fmt.Errorf("GPIO line %q: %w", name, errNotLinux)
}

func (*ChipLine) String() string                        { return "ChipLine(unsupported)" }
func (*ChipLine) Name() string                          { return "ChipLine(unsupported)" }
func (*ChipLine) Number() int                           { return -1 }
func (*ChipLine) Function() string                      { return "" }
func (*ChipLine) Halt() error                           { return errNotLinux }
func (*ChipLine) Out(gpio.Level) error                  { return errNotLinux }
func (*ChipLine) PWM(gpio.Duty, physic.Frequency) error { return errNotLinux }
func (*ChipLine) Close() error                          { return nil }
