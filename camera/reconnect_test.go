package camera

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeSource is the collaborator of the Reconnecting wrapper under test: it
// delivers frames frames, then returns end (nil: frames forever).
type fakeSource struct {
	name   string
	frames int
	end    error
	read   int
	closed bool
}

func (s *fakeSource) String() string { return s.name }

func (s *fakeSource) Read(ctx context.Context, f *Frame) error {
	if s.closed {
		return ErrClosed
	}
	if s.end != nil && s.read == s.frames {
		return s.end
	}
	s.read++
	f.Width, f.Height, f.Seq = 2, 1, uint64(s.read)
	f.Pix = append(f.Pix[:0], 1, 2, 3, 4, 5, 6)
	return nil
}

func (s *fakeSource) Close() error {
	s.closed = true
	return nil
}

// opener hands out fake sources in script order, recording when each open
// was tried; a step with openErr fails to open. After the script it fails.
type opener struct {
	mu      sync.Mutex
	script  []step
	times   []time.Time
	sources []*fakeSource
}

type step struct {
	openErr error
	frames  int
	end     error
}

func (o *opener) open() (Source, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	n := len(o.times)
	o.times = append(o.times, time.Now())
	if n >= len(o.script) {
		return nil, fmt.Errorf("camera: fake%d: no such device", n)
	}
	st := o.script[n]
	if st.openErr != nil {
		return nil, st.openErr
	}
	s := &fakeSource{name: fmt.Sprintf("fake%d", n), frames: st.frames, end: st.end}
	o.sources = append(o.sources, s)
	return s, nil
}

// retries reads the retry_in values of the Warn lines of a JSON log.
func retries(t *testing.T, log string) []time.Duration {
	t.Helper()
	var out []time.Duration
	sc := bufio.NewScanner(strings.NewReader(log))
	for sc.Scan() {
		var line struct {
			Level   string
			Msg     string
			RetryIn time.Duration `json:"retry_in"`
		}
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatalf("log line %q: %v", sc.Text(), err)
		}
		if line.Level == "WARN" {
			out = append(out, line.RetryIn)
		}
	}
	return out
}

func TestReconnecting(t *testing.T) {
	const ms = time.Millisecond
	unplugged := fmt.Errorf("camera: fake: %w", ErrNoFrame)
	tests := []struct {
		name       string
		backoff    Backoff
		script     []step
		reads      int             // successful reads wanted
		end        error           // the Read after them
		reconnects uint64          // Reconnects() at the end
		waits      []time.Duration // retry_in of each Warn line, in order
	}{
		{
			name:    "open fails 4 times, waits grow to Max",
			backoff: Backoff{Min: 5 * ms, Max: 30 * ms},
			script: []step{
				{openErr: errors.New("camera: /dev/video0: no such V4L2 device")},
				{openErr: errors.New("camera: /dev/video0: no such V4L2 device")},
				{openErr: errors.New("camera: /dev/video0: no such V4L2 device")},
				{openErr: errors.New("camera: /dev/video0: no such V4L2 device")},
				{frames: 3, end: io.EOF},
			},
			reads:      3,
			end:        io.EOF,
			reconnects: 1,
			waits:      []time.Duration{5 * ms, 10 * ms, 20 * ms, 30 * ms},
		},
		{
			name:    "read fails 3 times, a frame resets the wait",
			backoff: Backoff{Min: 5 * ms, Max: 100 * ms},
			script: []step{
				{frames: 2, end: unplugged},
				{frames: 1, end: unplugged},
				{frames: 0, end: unplugged}, // opens, then fails at once: the wait grows
				{frames: 2, end: io.EOF},
			},
			reads:      5,
			end:        io.EOF,
			reconnects: 3,
			waits:      []time.Duration{5 * ms, 5 * ms, 10 * ms},
		},
		{
			name:       "EOF passes through without reconnecting",
			backoff:    Backoff{Min: 5 * ms},
			script:     []step{{frames: 2, end: io.EOF}},
			reads:      2,
			end:        io.EOF,
			reconnects: 0,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var logs bytes.Buffer
			o := &opener{script: tc.script}
			src := Reconnecting(o.open, tc.backoff, logger(&logs))
			ctx := context.Background()
			var f Frame
			for i := 1; i <= tc.reads; i++ {
				if err := src.Read(ctx, &f); err != nil {
					t.Fatalf("read %d: %v", i, err)
				}
				if f.Seq != uint64(i) {
					t.Errorf("read %d: Seq %d, want %d (numbered across reopens)", i, f.Seq, i)
				}
			}
			if err := src.Read(ctx, &f); !errors.Is(err, tc.end) {
				t.Fatalf("read %d: %v, want %v", tc.reads+1, err, tc.end)
			}
			if got := src.Reconnects(); got != tc.reconnects {
				t.Errorf("Reconnects() = %d, want %d", got, tc.reconnects)
			}
			waits := retries(t, logs.String())
			if fmt.Sprint(waits) != fmt.Sprint(tc.waits) {
				t.Errorf("waits %v, want %v; log:\n%s", waits, tc.waits, logs.String())
			}
			// Each open came no sooner than the wait before it: no busy loop.
			for i, w := range waits {
				if gap := o.times[i+1].Sub(o.times[i]); gap < w {
					t.Errorf("open %d came %v after open %d, want >= %v", i+2, gap, i+1, w)
				}
			}
			// Every failed source was closed; the live one is closed by Close.
			for i, s := range o.sources[:len(o.sources)-1] {
				if !s.closed {
					t.Errorf("source %d was not closed after failing", i)
				}
			}
			if err := src.Close(); err != nil {
				t.Fatal(err)
			}
			if last := o.sources[len(o.sources)-1]; !last.closed {
				t.Error("Close did not close the inner source")
			}
			if err := src.Read(ctx, &f); !errors.Is(err, ErrClosed) {
				t.Errorf("Read after Close: %v, want ErrClosed", err)
			}
		})
	}
}

// TestReconnectingLogLine checks the one Warn line per failure: it names
// the source and says what went wrong.
func TestReconnectingLogLine(t *testing.T) {
	var logs bytes.Buffer
	o := &opener{script: []step{{frames: 1, end: fmt.Errorf("camera: fake0: %w", ErrNoFrame)}, {frames: 1}}}
	src := Reconnecting(o.open, Backoff{Min: time.Millisecond}, logger(&logs))
	defer src.Close()
	var f Frame
	for range 2 {
		if err := src.Read(context.Background(), &f); err != nil {
			t.Fatal(err)
		}
	}
	var warns []map[string]any
	for line := range strings.Lines(logs.String()) {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatal(err)
		}
		if m["level"] == "WARN" {
			warns = append(warns, m)
		}
	}
	if len(warns) != 1 {
		t.Fatalf("%d Warn lines, want 1:\n%s", len(warns), logs.String())
	}
	w := warns[0]
	if w["source"] != "fake0" || !strings.Contains(fmt.Sprint(w["err"]), "no frame") || w["retry_in"] == nil {
		t.Errorf("Warn line %v: want source=fake0, err with \"no frame\", retry_in", w)
	}
}

// TestReconnectingCancel cancels the context while the wrapper waits to
// reopen a missing camera, and checks Read returns ctx.Err() within 100ms,
// with no goroutine left behind.
func TestReconnectingCancel(t *testing.T) {
	goroutines := runtime.NumGoroutine()
	src := OpenReconnecting("/dev/video9", Options{Logger: quiet}, Backoff{Min: 10 * time.Second})
	ctx, cancel := context.WithCancel(context.Background())
	var cancelled time.Time
	timer := time.AfterFunc(30*time.Millisecond, func() {
		cancelled = time.Now()
		cancel()
	})
	defer timer.Stop()
	var f Frame
	err := src.Read(ctx, &f)
	took := time.Since(cancelled)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Read: %v, want context.Canceled", err)
	}
	if took > 100*time.Millisecond {
		t.Errorf("Read returned %v after cancel, want within 100ms", took)
	}
	if err := src.Close(); err != nil {
		t.Fatal(err)
	}
	if n := runtime.NumGoroutine(); n > goroutines {
		t.Errorf("%d goroutines after, %d before", n, goroutines)
	}
}

// TestReconnectingClose closes the wrapper from another goroutine while
// Read waits to reconnect.
func TestReconnectingClose(t *testing.T) {
	o := &opener{}
	src := Reconnecting(o.open, Backoff{Min: 10 * time.Second}, quiet)
	done := make(chan error, 1)
	go func() {
		var f Frame
		done <- src.Read(context.Background(), &f)
	}()
	time.Sleep(20 * time.Millisecond)
	if err := src.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if !errors.Is(err, ErrClosed) {
			t.Fatalf("Read: %v, want ErrClosed", err)
		}
	case <-time.After(time.Second):
		t.Fatal("Read still waiting 1s after Close")
	}
}

// TestReconnectingNoBusyLoop counts the opens of a source that always fails
// at once: the waits bound them.
func TestReconnectingNoBusyLoop(t *testing.T) {
	o := &opener{}
	src := Reconnecting(o.open, Backoff{Min: 20 * time.Millisecond, Max: 20 * time.Millisecond}, quiet)
	defer src.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	var f Frame
	if err := src.Read(ctx, &f); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Read: %v, want context.DeadlineExceeded", err)
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if n := len(o.times); n < 2 || n > 11 {
		t.Errorf("%d opens in 200ms with 20ms waits, want 2..11", n)
	}
}

func TestBackoffDefaults(t *testing.T) {
	tests := []struct{ in, want Backoff }{
		{Backoff{}, Backoff{250 * time.Millisecond, 10 * time.Second}},
		{Backoff{Min: time.Second}, Backoff{time.Second, 10 * time.Second}},
		{Backoff{Min: time.Minute}, Backoff{time.Minute, time.Minute}},
		{Backoff{Min: -1, Max: time.Second}, Backoff{250 * time.Millisecond, time.Second}},
	}
	for _, tc := range tests {
		if got := tc.in.withDefaults(); got != tc.want {
			t.Errorf("%+v.withDefaults() = %+v, want %+v", tc.in, got, tc.want)
		}
	}
}

// TestReconnectingCloseWhileInnerWaits closes the wrapper while the inner
// source, a paced folder, waits for its next frame.
func TestReconnectingCloseWhileInnerWaits(t *testing.T) {
	dir, _ := imageDir(t)
	src := OpenReconnecting(dir, Options{FPS: 0.5, Logger: quiet}, Backoff{})
	var f Frame
	if err := src.Read(context.Background(), &f); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		var f Frame
		done <- src.Read(context.Background(), &f) // the folder's next frame is due in 2s
	}()
	time.Sleep(20 * time.Millisecond)
	start := time.Now()
	if err := src.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if !errors.Is(err, ErrClosed) {
			t.Fatalf("Read: %v, want ErrClosed", err)
		}
	case <-time.After(time.Second):
		t.Fatal("Read still waiting 1s after Close")
	}
	if took := time.Since(start); took > 100*time.Millisecond {
		t.Errorf("Close and Read took %v, want well under the 2s frame interval", took)
	}
	if n := src.Reconnects(); n != 0 {
		t.Errorf("Reconnects() = %d after Close, want 0", n)
	}
}
