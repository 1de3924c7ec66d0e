package service

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe for a logger and a test to share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// beatEvery beats hb every d until the returned stop is called; stop
// returns when the beating goroutine has ended.
func beatEvery(hb *Heartbeat, d time.Duration) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(d)
		defer t.Stop()
		for {
			hb.Beat()
			select {
			case <-t.C:
			case <-ctx.Done():
				return
			}
		}
	}()
	return func() { cancel(); <-done }
}

// count reads datagrams until the deadline and counts each kind.
func (f *fakeSystemd) count(until time.Time) map[string]int {
	n := map[string]int{}
	for {
		select {
		case m := <-f.msgs:
			n[m]++
		case <-time.After(time.Until(until)):
			return n
		}
	}
}

func TestHeartbeatCheck(t *testing.T) {
	var hb Heartbeat
	if _, ok := hb.Age(); ok {
		t.Error("zero Heartbeat has an age")
	}
	if err := hb.Check(time.Second); !errors.Is(err, ErrStalled) || !strings.Contains(err.Error(), "no frame") {
		t.Errorf("Check before a beat: %v, want ErrStalled: no frame", err)
	}
	hb.Beat()
	if err := hb.Check(time.Second); err != nil {
		t.Errorf("Check right after a beat: %v", err)
	}
	time.Sleep(20 * time.Millisecond)
	if age, ok := hb.Age(); !ok || age < 20*time.Millisecond || age > time.Second {
		t.Errorf("Age() = %v, %v; want about 20ms", age, ok)
	}
	if err := hb.Check(10 * time.Millisecond); !errors.Is(err, ErrStalled) || !strings.Contains(err.Error(), "limit 10ms") {
		t.Errorf("Check after the limit: %v, want ErrStalled naming the limit", err)
	}
}

// The watchdog keeps systemd fed while frames come, goes silent when they
// stop (so systemd restarts the service) and resumes when they come back.
func TestRunWatchdogStallAndRecover(t *testing.T) {
	const (
		interval   = 100 * time.Millisecond // keep-alives every 50ms
		stallAfter = 250 * time.Millisecond
	)
	sock := listenNotify(t, pathSocket(t))
	n, err := newNotifier(sock.name)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	var logs syncBuffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	hb := &Heartbeat{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- RunWatchdog(ctx, n, hb, interval, stallAfter, logger) }()

	stop := beatEvery(hb, 10*time.Millisecond)
	if got := sock.count(time.Now().Add(400 * time.Millisecond)); got["WATCHDOG=1"] < 4 || len(got) != 1 {
		t.Errorf("while beating: datagrams %v, want 4 or more WATCHDOG=1 only", got)
	}

	stop()
	stalled := time.Now()
	// Keep-alives sent before the stall shows are allowed; drain them.
	sock.count(stalled.Add(stallAfter + interval/2 + 200*time.Millisecond))
	if got := sock.count(time.Now().Add(500 * time.Millisecond)); len(got) != 0 {
		t.Errorf("after the stall: datagrams %v, want none", got)
	}
	if c := strings.Count(logs.String(), "level=ERROR"); c != 1 || !strings.Contains(logs.String(), "pipeline stalled") {
		t.Errorf("want one Error log for the stall, got:\n%s", logs.String())
	}

	stop = beatEvery(hb, 10*time.Millisecond)
	defer stop()
	if got := sock.next(t); got != "WATCHDOG=1" {
		t.Errorf("after recovery: datagram %q, want WATCHDOG=1", got)
	}
	if c := strings.Count(logs.String(), "pipeline recovered"); c != 1 {
		t.Errorf("want one Info log for the recovery, got:\n%s", logs.String())
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("RunWatchdog: %v", err)
		}
	case <-time.After(time.Second):
		t.Fatal("RunWatchdog did not return within 1s of cancel")
	}
}

// A pipeline that never processes a frame stops being kept alive after stallAfter.
func TestRunWatchdogNoFirstFrame(t *testing.T) {
	sock := listenNotify(t, pathSocket(t))
	n, err := newNotifier(sock.name)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 600*time.Millisecond)
	defer cancel()
	start := time.Now()
	if err := RunWatchdog(ctx, n, &Heartbeat{}, 40*time.Millisecond, 200*time.Millisecond, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
	got := sock.count(time.Now().Add(50 * time.Millisecond))
	if got["WATCHDOG=1"] < 1 {
		t.Errorf("no keep-alive during the first-frame grace")
	}
	if limit := int((200*time.Millisecond)/(20*time.Millisecond)) + 2; got["WATCHDOG=1"] > limit {
		t.Errorf("%d keep-alives in %v without a frame, want at most %d (grace of 200ms)", got["WATCHDOG=1"], time.Since(start), limit)
	}
}

func TestRunWatchdogArgs(t *testing.T) {
	hb := &Heartbeat{}
	for _, tc := range []struct {
		name            string
		hb              *Heartbeat
		interval, stall time.Duration
		want            string
	}{
		{"zero interval", hb, 0, time.Second, "interval 0s"},
		{"negative stall", hb, time.Second, -time.Second, "stall limit -1s"},
		{"nil heartbeat", nil, time.Second, time.Second, "nil heartbeat"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := RunWatchdog(context.Background(), nil, tc.hb, tc.interval, tc.stall, nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}
