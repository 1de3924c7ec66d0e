package console

import (
	"bytes"
	"context"
	"io"
	"runtime"
	"strings"
	"testing"
	"time"
)

// waitFor waits until out contains want.
func waitFor(t *testing.T, out *syncBuffer, want string) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for !strings.Contains(out.String(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("monitor output lacks %q after %v:\n%s", want, wait, out)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestMonitor(t *testing.T) {
	before := runtime.NumGoroutine()
	path := tempPortPath(t)
	dev := newTerminal(t) // the device, on the master side
	dev.link(path)
	in, typing := io.Pipe()
	out := &syncBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	errc := make(chan error, 1)
	go func() { errc <- Monitor(ctx, path, 0, in, out) }()

	waitFor(t, out, "-- connected to "+path+" at 115200 baud")
	status := "[edge 12:00:00] up 5s fps 15.0 invoke 50.1ms drop 0 temp 48.3C"
	dev.Send(status + "\r\n")
	waitFor(t, out, "\n"+status+"\n")

	// A typed line goes to the device; its echo is not shown twice, the
	// answer is; a line with control characters is shown without them.
	io.WriteString(typing, "status\n")
	dev.Expect("status\r", wait)
	dev.Send("status\r\nframes 75 dropped 0 events 0\r\n\x1b[1mbo\x07ld\r\n")
	waitFor(t, out, "\nframes 75 dropped 0 events 0\n[1mbold\n")
	if strings.Contains(out.String(), "\nstatus\n") {
		t.Errorf("the echo of the typed command was shown:\n%s", out)
	}

	// The device vanishes: a notice, and typed lines are reported dropped.
	dev.Close()
	waitFor(t, out, "-- disconnected: serial port "+path+": read: ")
	io.WriteString(typing, "help\n")
	waitFor(t, out, `-- not connected to `+path+`; dropped "help"`)

	// It comes back, at the same path.
	dev2 := newTerminal(t)
	dev2.link(path)
	waitFor(t, out, `dropped "help"`+"\n-- connected to "+path)
	io.WriteString(typing, "events 3\n")
	dev2.Expect("events 3\r", wait)
	for i, b := range []byte(out.String()) {
		if b < 0x20 && b != '\n' || b == 0x7f {
			t.Fatalf("output byte %d is %#x: want no control characters but \\n", i, b)
		}
	}

	cancel()
	select {
	case err := <-errc:
		if err != nil {
			t.Errorf("Monitor returned %v, want nil", err)
		}
	case <-time.After(time.Second):
		t.Fatal("Monitor did not return within 1s of ctx cancel")
	}
	typing.Close()
	dev2.Close()
	checkGoroutines(t, before)
}

func TestMonitorArgs(t *testing.T) {
	tests := []struct {
		port string
		baud int
		want string
	}{
		{"", 0, "port is empty"},
		{"/dev/ttyUSB0", -1, "baud -1: want > 0"},
	}
	for _, tt := range tests {
		err := Monitor(context.Background(), tt.port, tt.baud, strings.NewReader(""), io.Discard)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Monitor(%q, %d): %v, want %q", tt.port, tt.baud, err, tt.want)
		}
	}
}

// failWriter fails every write, as a closed stdout does.
type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, io.ErrClosedPipe }

func TestMonitorOutputError(t *testing.T) {
	err := Monitor(context.Background(), tempPortPath(t), 0, strings.NewReader(""), failWriter{})
	if err == nil || !strings.Contains(err.Error(), "write output") {
		t.Errorf("Monitor to a failing writer: %v, want a write output error", err)
	}
}

func TestMonitorRender(t *testing.T) {
	tests := []struct {
		name    string
		pending []string
		in      string
		want    string
	}{
		{"CRLF lines", nil, "a\r\nb\r\n", "a\nb\n"},
		{"partial line waits", nil, "a\r\nb", "a\n"},
		{"echo dropped once", []string{"help"}, "help\r\ncommands:\r\nhelp\r\n", "commands:\nhelp\n"},
		{"backspace edits", nil, "verx\b \bsion\r\n", "version\n"},
		{"controls dropped", nil, "\x1b[2Ja\x00\x07b\tc\r\n", "[2Jab c\n"},
		{"invalid UTF-8", nil, "caf\xc3\xa9 \xff\r\n", "café ?\n"},
		{"long line split", nil, strings.Repeat("x", monitorLineMax+1) + "\n", strings.Repeat("x", monitorLineMax) + "\nx\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			m := &monitor{port: "/dev/ttyUSB0", out: &out, pending: tt.pending}
			m.feed([]byte(tt.in))
			if got := out.String(); got != tt.want {
				t.Errorf("feed(%q) shows %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}
