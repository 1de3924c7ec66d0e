package service

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"
)

// ErrStalled is wrapped by the error of [Heartbeat.Check] when the pipeline
// has not beaten recently enough.
var ErrStalled = errors.New("pipeline stalled")

// epoch is the monotonic origin of heartbeats: beats are measured from it
// with the monotonic clock, so a wall-clock step (NTP setting the time of a
// Raspberry Pi, which has no RTC, long after boot) is no stall.
var epoch = time.Now()

// Heartbeat records when the pipeline last made progress. The zero value
// has never beaten. Beat and the readers are safe to call concurrently.
type Heartbeat struct {
	last atomic.Int64 // nanoseconds since epoch, plus one; 0: never
}

// Beat records progress now. The pipeline calls it once per processed
// frame; it is one atomic store.
func (h *Heartbeat) Beat() { h.last.Store(int64(time.Since(epoch)) + 1) }

// Age returns how long ago the last beat was, and false if there was none.
func (h *Heartbeat) Age() (time.Duration, bool) {
	last := h.last.Load()
	if last == 0 {
		return 0, false
	}
	return time.Since(epoch) - time.Duration(last-1), true
}

// Check returns nil if the last beat is at most stallAfter old, and
// otherwise an error wrapping ErrStalled that says how old it is (or that
// no frame came yet). It is the health check of /healthz.
func (h *Heartbeat) Check(stallAfter time.Duration) error {
	age, ok := h.Age()
	switch {
	case !ok:
		return fmt.Errorf("%w: no frame processed yet", ErrStalled)
	case age > stallAfter:
		return fmt.Errorf("%w: last frame %s ago (limit %s)", ErrStalled, age.Round(time.Millisecond), stallAfter)
	}
	return nil
}

// RunWatchdog feeds systemd's watchdog while the pipeline makes progress,
// until ctx ends. Every interval/2 (interval is what [WatchdogInterval]
// returns) it sends WATCHDOG=1 if hb beat at most stallAfter ago. When the
// beats stop, so do the keep-alives, and systemd restarts the service
// (WatchdogSec= with Restart=on-failure) within interval; RunWatchdog logs
// one Error when the pipeline stalls and one Info when it recovers.
//
// Before the first beat, the time RunWatchdog started counts as one: a
// pipeline gets stallAfter to process its first frame.
//
// A failed send is logged once (as a Warn) until a send succeeds again.
// A nil logger means slog.Default(). RunWatchdog returns nil when ctx ends,
// and an error at once if interval or stallAfter is not positive or hb is
// nil.
func RunWatchdog(ctx context.Context, n *Notifier, hb *Heartbeat, interval, stallAfter time.Duration, logger *slog.Logger) error {
	switch {
	case interval <= 0:
		return fmt.Errorf("service: watchdog interval %s: want > 0", interval)
	case stallAfter <= 0:
		return fmt.Errorf("service: watchdog stall limit %s: want > 0", stallAfter)
	case hb == nil:
		return errors.New("service: watchdog: nil heartbeat")
	}
	if logger == nil {
		logger = slog.Default()
	}
	w := watchdog{n: n, hb: hb, stallAfter: stallAfter, log: logger, start: time.Now()}
	w.tick()
	period := interval / 2
	if period <= 0 {
		period = interval
	}
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			w.tick()
		case <-ctx.Done():
			return nil
		}
	}
}

// watchdog is the state of one RunWatchdog.
type watchdog struct {
	n          *Notifier
	hb         *Heartbeat
	stallAfter time.Duration
	log        *slog.Logger
	start      time.Time

	stalled    bool
	stalledAt  time.Time
	sendFailed bool
}

func (w *watchdog) tick() {
	age, ok := w.hb.Age()
	if !ok {
		age = time.Since(w.start)
	}
	if age > w.stallAfter {
		if !w.stalled {
			w.stalled, w.stalledAt = true, time.Now()
			w.log.Error("pipeline stalled: stopping watchdog keep-alives, systemd will restart the service",
				"last_frame_ago", age.Round(time.Millisecond), "stall_after", w.stallAfter, "first_frame", !ok)
		}
		return
	}
	if w.stalled {
		w.stalled = false
		w.log.Info("pipeline recovered: watchdog keep-alives resume", "stalled_for", time.Since(w.stalledAt).Round(time.Millisecond))
	}
	if err := w.n.Watchdog(); err != nil {
		if !w.sendFailed {
			w.log.Warn("watchdog keep-alive", "err", err)
		}
		w.sendFailed = true
		return
	}
	w.sendFailed = false
}
