package service

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// fakeSystemd is a notification socket that collects datagrams, as systemd's.
type fakeSystemd struct {
	name string
	conn *net.UnixConn
	msgs chan string
	done chan struct{}
}

// listenNotify binds a unixgram socket named name (a path or an @abstract
// name) and collects what it receives until the test ends.
func listenNotify(t *testing.T, name string) *fakeSystemd {
	t.Helper()
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: name, Net: "unixgram"})
	if err != nil {
		t.Fatalf("listen %s: %v", name, err)
	}
	f := &fakeSystemd{name: name, conn: conn, msgs: make(chan string, 1024), done: make(chan struct{})}
	go func() {
		defer close(f.done)
		buf := make([]byte, 4096)
		for {
			n, err := conn.Read(buf)
			if err != nil {
				return
			}
			f.msgs <- string(buf[:n])
		}
	}()
	t.Cleanup(f.close)
	return f
}

func (f *fakeSystemd) close() {
	f.conn.Close()
	<-f.done
}

// next returns the next datagram, failing the test after a second.
func (f *fakeSystemd) next(t *testing.T) string {
	t.Helper()
	select {
	case m := <-f.msgs:
		return m
	case <-time.After(time.Second):
		t.Fatalf("%s: no datagram within 1s", f.name)
		return ""
	}
}

// pathSocket returns a socket path in a fresh temp dir.
func pathSocket(t *testing.T) string {
	return filepath.Join(t.TempDir(), "notify")
}

func TestNotifierSends(t *testing.T) {
	sock := listenNotify(t, pathSocket(t))
	t.Setenv("NOTIFY_SOCKET", sock.name)
	n, err := NewNotifier()
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	if !n.Enabled() {
		t.Fatal("Enabled() = false with NOTIFY_SOCKET set")
	}
	for _, tc := range []struct {
		name string
		send func() error
		want string
	}{
		{"Ready", n.Ready, "READY=1"},
		{"Status", func() error { return n.Status("running: 14.8 fps") }, "STATUS=running: 14.8 fps"},
		{"Status one line", func() error { return n.Status("a\nb\r\nc") }, "STATUS=a b c"},
		{"Watchdog", n.Watchdog, "WATCHDOG=1"},
		{"Stopping", n.Stopping, "STOPPING=1"},
		{"Notify several", func() error { return n.Notify("STATUS=x", "READY=1") }, "STATUS=x\nREADY=1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.send(); err != nil {
				t.Fatal(err)
			}
			if got := sock.next(t); got != tc.want {
				t.Errorf("datagram %q, want %q", got, tc.want)
			}
		})
	}
}

func TestNotifierReloading(t *testing.T) {
	sock := listenNotify(t, pathSocket(t))
	n, err := newNotifier(sock.name)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	var before unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &before); err != nil {
		t.Fatal(err)
	}
	if err := n.Reloading(); err != nil {
		t.Fatal(err)
	}
	got := sock.next(t)
	m := regexp.MustCompile(`^RELOADING=1\nMONOTONIC_USEC=(\d+)$`).FindStringSubmatch(got)
	if m == nil {
		t.Fatalf("datagram %q, want RELOADING=1 and MONOTONIC_USEC", got)
	}
	usec, _ := strconv.ParseInt(m[1], 10, 64)
	if d := time.Duration(usec)*time.Microsecond - time.Duration(before.Nano()); d < 0 || d > time.Second {
		t.Errorf("MONOTONIC_USEC %d is %v from CLOCK_MONOTONIC before the call", usec, d)
	}
}

func TestNotifierAbstractSocket(t *testing.T) {
	name := fmt.Sprintf("@edge-test-notify-%d-%d", os.Getpid(), time.Now().UnixNano())
	sock := listenNotify(t, name)
	t.Setenv("NOTIFY_SOCKET", name)
	n, err := NewNotifier()
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	if err := n.Ready(); err != nil {
		t.Fatal(err)
	}
	if got := sock.next(t); got != "READY=1" {
		t.Errorf("datagram %q, want READY=1", got)
	}
}

func TestNotifierUnsetIsNoop(t *testing.T) {
	t.Setenv("NOTIFY_SOCKET", "")
	n, err := NewNotifier()
	if err != nil {
		t.Fatal(err)
	}
	var nilN *Notifier
	for _, n := range []*Notifier{n, nilN} {
		if n.Enabled() {
			t.Error("Enabled() = true without NOTIFY_SOCKET")
		}
		for _, err := range []error{n.Ready(), n.Reloading(), n.Status("x"), n.Watchdog(), n.Stopping(), n.Close()} {
			if err != nil {
				t.Errorf("no-op notifier: %v", err)
			}
		}
	}
}

func TestNotifierBadSocket(t *testing.T) {
	for _, tc := range []struct{ socket, want string }{
		{"relative/notify", "want an absolute path"},
		{"vsock:2:1234", "want an absolute path"},
		{filepath.Join(t.TempDir(), "missing"), "missing: dial"},
	} {
		t.Run(tc.socket, func(t *testing.T) {
			t.Setenv("NOTIFY_SOCKET", tc.socket)
			n, err := NewNotifier()
			if err == nil {
				n.Close()
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), "NOTIFY_SOCKET") || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q, want it to name NOTIFY_SOCKET and contain %q", err, tc.want)
			}
		})
	}
}

func TestNotifierClosed(t *testing.T) {
	sock := listenNotify(t, pathSocket(t))
	n, err := newNotifier(sock.name)
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	if err := n.Ready(); !errors.Is(err, ErrClosed) {
		t.Errorf("Ready after Close: %v, want ErrClosed", err)
	}
	if err := n.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// A notification socket made anew (systemd re-executed) is reconnected to.
func TestNotifierReconnects(t *testing.T) {
	path := pathSocket(t)
	first := listenNotify(t, path)
	n, err := newNotifier(path)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	first.close()
	os.Remove(path)
	second := listenNotify(t, path)
	if err := n.Ready(); err != nil {
		t.Fatal(err)
	}
	if got := second.next(t); got != "READY=1" {
		t.Errorf("datagram %q, want READY=1", got)
	}
}

func TestWatchdogInterval(t *testing.T) {
	for _, tc := range []struct {
		usec, pid string
		want      time.Duration
		ok        bool
	}{
		{"30000000", "", 30 * time.Second, true},
		{"30000000", "4242", 30 * time.Second, true},
		{"30000000", "4243", 0, false}, // inherited from a parent
		{"", "", 0, false},
		{"0", "", 0, false},
		{"-5", "", 0, false},
		{"30s", "", 0, false},
		{"30000000", "x", 0, false},
	} {
		t.Run(tc.usec+"/"+tc.pid, func(t *testing.T) {
			got, ok := watchdogInterval(tc.usec, tc.pid, 4242)
			if got != tc.want || ok != tc.ok {
				t.Errorf("watchdogInterval(%q, %q) = %v, %v; want %v, %v", tc.usec, tc.pid, got, ok, tc.want, tc.ok)
			}
		})
	}
	t.Run("environment", func(t *testing.T) {
		t.Setenv("WATCHDOG_USEC", "2500000")
		t.Setenv("WATCHDOG_PID", strconv.Itoa(os.Getpid()))
		if d, ok := WatchdogInterval(); d != 2500*time.Millisecond || !ok {
			t.Errorf("WatchdogInterval() = %v, %v; want 2.5s, true", d, ok)
		}
	})
}
