package camera

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// Backoff bounds the waits of a Reconnecting source between attempts to
// reopen: the first wait is Min, each further failure in a row doubles it,
// up to Max, and a frame read successfully brings it back to Min. A zero Min
// is 250ms and a zero Max is 10s; a Max below Min is Min.
type Backoff struct {
	Min, Max time.Duration
}

// Default backoff bounds.
const (
	DefaultBackoffMin = 250 * time.Millisecond
	DefaultBackoffMax = 10 * time.Second
)

func (b Backoff) withDefaults() Backoff {
	if b.Min <= 0 {
		b.Min = DefaultBackoffMin
	}
	if b.Max <= 0 {
		b.Max = DefaultBackoffMax
	}
	if b.Max < b.Min {
		b.Max = b.Min
	}
	return b
}

// Reconnector is a Source that reopens its inner source when it fails; see
// [Reconnecting].
type Reconnector interface {
	Source
	// Reconnects reports how many times the source was opened again after
	// a failure (of a Read, or of an earlier open). It is safe to call from
	// any goroutine.
	Reconnects() uint64
}

// Reconnecting returns a Source that reads from the Source that open
// returns, and survives its failures: when open fails, or the inner Read
// fails with an error other than io.EOF (device unplugged, stream dropped),
// it logs one Warn line with the source and the error, closes the inner
// source, waits (with backoff, see [Backoff]) and opens again, until a frame
// comes or ctx ends. It never retries without waiting. io.EOF is passed on:
// a finite source that ended is not reopened.
//
// open is first called by the first Read. Frames are numbered by the
// wrapper, so Seq keeps increasing across reopens. A nil logger means
// slog.Default().
//
// Close may be called from another goroutine while Read runs: it closes the
// inner source at once (the sources from Open allow that: a Read of theirs
// waiting to pace frames ends), and a Read waiting to reconnect returns an
// error wrapping [ErrClosed]. An open in progress finishes first, and its
// source is closed.
func Reconnecting(open func() (Source, error), backoff Backoff, logger *slog.Logger) Reconnector {
	if logger == nil {
		logger = slog.Default()
	}
	b := backoff.withDefaults()
	return &reconnecting{
		open:    open,
		backoff: b,
		log:     logger,
		delay:   b.Min,
		done:    make(chan struct{}),
	}
}

// OpenReconnecting is Reconnecting over Open(spec, opts): a camera or stream
// that is reopened when it fails, logging to opts.Logger. Like Reconnecting,
// it opens on the first Read, so a camera that is not plugged in yet is not
// an error here.
func OpenReconnecting(spec string, opts Options, backoff Backoff) Reconnector {
	r := Reconnecting(func() (Source, error) { return Open(spec, opts) }, backoff, opts.Logger).(*reconnecting)
	r.name = redact(spec)
	return r
}

type reconnecting struct {
	open    func() (Source, error)
	backoff Backoff
	log     *slog.Logger
	done    chan struct{} // closed by Close
	once    sync.Once

	reconnects atomic.Uint64

	mu     sync.Mutex // guards what follows; not held while waiting, opening or reading
	closed bool
	inner  Source        // nil: not open
	name   string        // the inner source's name, for logs
	failed bool          // a failure since the last successful open
	delay  time.Duration // the next wait
	seq    uint64
}

func (r *reconnecting) Reconnects() uint64 { return r.reconnects.Load() }

// String names the source for logs: the spec, once known.
func (r *reconnecting) String() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.name
}

func (r *reconnecting) Read(ctx context.Context, f *Frame) error {
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		wait, err := r.attempt(ctx, f)
		if wait == 0 {
			return err
		}
		if err := r.sleep(ctx, wait); err != nil {
			return err
		}
	}
}

// attempt opens the inner source if needed and reads one frame. A wait above
// zero means it failed and the caller waits that long before the next
// attempt; otherwise err is the result of Read. r.mu is not held while the
// inner source opens or reads, so that Close need not wait for them: Close
// closes the inner source, which ends its own waits.
func (r *reconnecting) attempt(ctx context.Context, f *Frame) (time.Duration, error) {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return 0, r.closedErr()
	}
	inner := r.inner
	r.mu.Unlock()

	if inner == nil {
		src, err := r.open()
		if err == nil && src == nil {
			err = errors.New("camera: reconnecting: open returned no source and no error")
		}
		r.mu.Lock()
		if r.closed {
			r.mu.Unlock()
			if src != nil {
				_ = src.Close()
			}
			return 0, r.closedErr()
		}
		if err != nil {
			wait := r.fail("camera: open failed, retrying", err)
			r.mu.Unlock()
			return wait, nil
		}
		r.inner = src
		if s, ok := src.(fmt.Stringer); ok {
			r.name = s.String()
		}
		if r.failed {
			r.failed = false
			n := r.reconnects.Add(1)
			r.log.Info("camera: reconnected", "source", r.name, "reconnects", n)
		}
		r.mu.Unlock()
		inner = src
	}

	err := inner.Read(ctx, f)
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case err == nil:
		r.delay = r.backoff.Min
		r.seq++
		f.Seq = r.seq
		return 0, nil
	case r.closed: // Close closed inner under this Read
		return 0, r.closedErr()
	case errors.Is(err, io.EOF):
		return 0, err
	case ctx.Err() != nil:
		return 0, ctx.Err()
	}
	wait := r.fail("camera: source failed, reconnecting", err)
	if cerr := inner.Close(); cerr != nil {
		r.log.Warn("camera: closing the failed source", "source", r.name, "err", cerr)
	}
	r.inner = nil
	return wait, nil
}

// closedErr is the error of a Read after Close. r.mu is held.
func (r *reconnecting) closedErr() error {
	return fmt.Errorf("camera: %s: %w", r.name, ErrClosed)
}

// fail logs a failure and returns how long to wait, doubling the next wait.
// r.mu is held.
func (r *reconnecting) fail(msg string, err error) time.Duration {
	r.failed = true
	wait := r.delay
	r.delay = min(2*r.delay, r.backoff.Max)
	if r.name == "" { // open has never succeeded; err names the spec
		r.log.Warn(msg, "err", err, "retry_in", wait)
	} else {
		r.log.Warn(msg, "source", r.name, "err", err, "retry_in", wait)
	}
	return wait
}

// sleep waits d, and returns early with ctx.Err() or ErrClosed.
func (r *reconnecting) sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-r.done:
		r.mu.Lock()
		defer r.mu.Unlock()
		return r.closedErr()
	case <-t.C:
		return nil
	}
}

func (r *reconnecting) Close() error {
	r.once.Do(func() { close(r.done) })
	r.mu.Lock()
	r.closed = true
	inner := r.inner
	r.inner = nil
	r.mu.Unlock()
	if inner == nil {
		return nil
	}
	return inner.Close()
}
