// Package service runs edge as a systemd service: it tells systemd when
// the daemon is ready, reloading or stopping (the sd_notify protocol over
// $NOTIFY_SOCKET, Type=notify), and keeps systemd's watchdog fed only while
// the pipeline makes progress, so that a stalled camera loop gets the
// service restarted.
//
// It needs neither cgo nor libsystemd: the protocol is a datagram of
// "KEY=value" lines sent to a Unix socket. Outside systemd (no
// $NOTIFY_SOCKET) every call is a no-op, so the daemon runs the same from a
// shell.
//
// The pipeline calls [Heartbeat.Beat] once per processed frame;
// [RunWatchdog] sends WATCHDOG=1 every half watchdog interval while the
// last beat is recent enough, and stops when it is not.
package service

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// ErrClosed is returned by a Notifier's methods after Close.
var ErrClosed = errors.New("service: notifier closed")

// Notifier sends state changes to systemd's notification socket.
//
// A Notifier made outside systemd ($NOTIFY_SOCKET unset) sends nothing and
// its methods return nil; so does a nil *Notifier. Its methods are safe to
// call from several goroutines.
type Notifier struct {
	addr *net.UnixAddr // nil: no-op

	mu     sync.Mutex
	conn   *net.UnixConn // nil: not connected (yet, or after a failed send)
	closed bool
}

// NewNotifier returns a Notifier for the socket named by $NOTIFY_SOCKET: an
// absolute path, or an abstract socket name starting with "@". With
// $NOTIFY_SOCKET unset or empty it returns a no-op Notifier and no error.
// The error names the variable and its value: a socket that is not a Unix
// datagram path or abstract name (systemd's "vsock:" sockets are not
// supported), or that cannot be connected to.
func NewNotifier() (*Notifier, error) {
	return newNotifier(os.Getenv("NOTIFY_SOCKET"))
}

func newNotifier(socket string) (*Notifier, error) {
	if socket == "" {
		return &Notifier{}, nil
	}
	if socket[0] != '/' && socket[0] != '@' {
		return nil, fmt.Errorf("service: NOTIFY_SOCKET=%q: want an absolute path or an abstract name starting with @", socket)
	}
	n := &Notifier{addr: &net.UnixAddr{Name: socket, Net: "unixgram"}}
	conn, err := n.dial()
	if err != nil {
		return nil, err
	}
	n.conn = conn
	return n, nil
}

func (n *Notifier) dial() (*net.UnixConn, error) {
	conn, err := net.DialUnix("unixgram", nil, n.addr)
	if err != nil {
		return nil, fmt.Errorf("service: NOTIFY_SOCKET=%s: %w", n.addr.Name, err)
	}
	return conn, nil
}

// Enabled reports whether the Notifier sends to a socket, that is whether
// the process runs under systemd with Type=notify.
func (n *Notifier) Enabled() bool { return n != nil && n.addr != nil }

// Notify sends the state lines (such as "READY=1") in one datagram. A send
// that fails is tried once more on a new connection (systemd may have
// re-created its socket). The error names the socket and the state.
func (n *Notifier) Notify(state ...string) error {
	if !n.Enabled() || len(state) == 0 {
		return nil
	}
	msg := []byte(strings.Join(state, "\n"))
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return ErrClosed
	}
	var err error
	for attempt := 0; attempt < 2; attempt++ {
		if n.conn == nil {
			if n.conn, err = n.dial(); err != nil {
				continue
			}
		}
		if _, err = n.conn.Write(msg); err == nil {
			return nil
		}
		err = fmt.Errorf("service: NOTIFY_SOCKET=%s: send %s: %w", n.addr.Name, state[0], err)
		n.conn.Close()
		n.conn = nil
	}
	return err
}

// Ready tells systemd that the service has started (READY=1): with
// Type=notify, `systemctl start` returns and units ordered after edge
// start only then. Send it again after a reload.
func (n *Notifier) Ready() error { return n.Notify("READY=1") }

// Reloading tells systemd that the configuration is being reloaded
// (RELOADING=1 with MONOTONIC_USEC, the CLOCK_MONOTONIC time that systemd
// 253 and later require with Type=notify-reload). Call Ready when the
// reload is done, whether it succeeded or not.
func (n *Notifier) Reloading() error {
	if !n.Enabled() {
		return nil
	}
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts); err != nil {
		return fmt.Errorf("service: reloading: read CLOCK_MONOTONIC: %w", err)
	}
	usec := ts.Nano() / 1e3
	return n.Notify("RELOADING=1", "MONOTONIC_USEC="+strconv.FormatInt(usec, 10))
}

// Stopping tells systemd that the service is shutting down (STOPPING=1).
func (n *Notifier) Stopping() error { return n.Notify("STOPPING=1") }

// Status sets the one-line status that `systemctl status edge` shows
// (STATUS=msg). Line breaks in msg are replaced by spaces.
func (n *Notifier) Status(msg string) error {
	msg = strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ").Replace(msg)
	return n.Notify("STATUS=" + msg)
}

// Watchdog sends one watchdog keep-alive (WATCHDOG=1). [RunWatchdog] calls
// it while the pipeline makes progress.
func (n *Notifier) Watchdog() error { return n.Notify("WATCHDOG=1") }

// Close closes the socket. Later calls return ErrClosed; Close itself may
// be called more than once.
func (n *Notifier) Close() error {
	if n == nil {
		return nil
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	n.closed = true
	if n.conn == nil {
		return nil
	}
	err := n.conn.Close()
	n.conn = nil
	return err
}

// WatchdogInterval returns the watchdog timeout that systemd set for this
// process (WatchdogSec=, passed as $WATCHDOG_USEC) and true, or false when
// there is none: $WATCHDOG_USEC unset, not a positive number, or
// $WATCHDOG_PID set to another process (the variables were inherited from
// a parent). Keep-alives must come more often than the interval;
// [RunWatchdog] sends them every interval/2.
func WatchdogInterval() (time.Duration, bool) {
	return watchdogInterval(os.Getenv("WATCHDOG_USEC"), os.Getenv("WATCHDOG_PID"), os.Getpid())
}

func watchdogInterval(usec, pid string, self int) (time.Duration, bool) {
	if usec == "" {
		return 0, false
	}
	u, err := strconv.ParseInt(usec, 10, 64)
	if err != nil || u <= 0 || u > int64(time.Duration(1<<63-1)/time.Microsecond) {
		return 0, false
	}
	if pid != "" {
		p, err := strconv.Atoi(pid)
		if err != nil || p != self {
			return 0, false
		}
	}
	return time.Duration(u) * time.Microsecond, true
}
