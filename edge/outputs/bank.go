package outputs

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Bank holds a device's outputs by name, in the order they were given.
// Its methods are safe for concurrent use once built; the zero Bank is empty.
type Bank struct {
	order  []*Output
	byName map[string]*Output
}

// NewBank returns a Bank of outs. Names must be unique. The Bank owns the
// outputs once it is returned (Close closes them); on error they are left
// to the caller.
func NewBank(outs ...*Output) (*Bank, error) {
	b := &Bank{byName: make(map[string]*Output, len(outs))}
	for i, o := range outs {
		if o == nil {
			return nil, fmt.Errorf("output bank: output %d is nil", i)
		}
		if _, dup := b.byName[o.name]; dup {
			return nil, fmt.Errorf("output bank: output %q given twice: names must be unique", o.name)
		}
		b.byName[o.name] = o
		b.order = append(b.order, o)
	}
	return b, nil
}

// Get returns the output named name.
func (b *Bank) Get(name string) (*Output, bool) {
	o, ok := b.byName[name]
	return o, ok
}

// Names returns the outputs' names in bank order.
func (b *Bank) Names() []string {
	names := make([]string, len(b.order))
	for i, o := range b.order {
		names[i] = o.name
	}
	return names
}

// SelfTest pulses each output once, in bank order: active for its pulse
// width (SelfTestPulse for an output without one), inactive, then a pause
// of gap before the next. It runs in the caller's goroutine and returns when
// the last pulse has ended. If ctx ends, the output being pulsed is driven
// inactive and the error wraps ctx.Err(). A failing output does not stop the
// test; the errors of all failing outputs are joined.
func (b *Bank) SelfTest(ctx context.Context, gap time.Duration) error {
	var errs []error
	for i, o := range b.order {
		if err := ctx.Err(); err != nil {
			return errors.Join(append(errs, fmt.Errorf("output self-test: stopped before output %q: %w", o.name, err))...)
		}
		if i > 0 && gap > 0 {
			if err := sleep(ctx, gap); err != nil {
				return errors.Join(append(errs, fmt.Errorf("output self-test: stopped before output %q: %w", o.name, err))...)
			}
		}
		width := o.cfg.Pulse
		if width <= 0 {
			width = SelfTestPulse
		}
		o.log.Info("self-test pulse", "width", width)
		if err := o.Set(true); err != nil {
			errs = append(errs, err)
			_ = o.Set(false)
			continue
		}
		serr := sleep(ctx, width)
		if err := o.Set(false); err != nil {
			errs = append(errs, err)
		}
		if serr != nil {
			errs = append(errs, fmt.Errorf("output self-test: stopped during output %q: %w", o.name, serr))
			return errors.Join(errs...)
		}
	}
	return errors.Join(errs...)
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Close closes every output, last first, and joins their errors.
func (b *Bank) Close() error {
	var errs []error
	for i := len(b.order) - 1; i >= 0; i-- {
		errs = append(errs, b.order[i].Close())
	}
	return errors.Join(errs...)
}
