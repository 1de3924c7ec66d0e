package console

import (
	"bytes"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"
)

// terminal is the test's end of a pty pair: it plays the user's terminal
// program (or, for Monitor, the device) on the master side, while the code
// under test opens the tty side by path with go.bug.st/serial.
type terminal struct {
	t      *testing.T
	master *os.File
	tty    *os.File // held open so that the master never sees a hangup before the port opens
	Path   string   // the tty's path, /dev/pts/N

	mu   sync.Mutex
	buf  bytes.Buffer
	mark int // expect searches from here
	done chan struct{}
}

// newTerminal opens a pty pair and starts reading its master side.
func newTerminal(t *testing.T) *terminal {
	t.Helper()
	m, tty, err := pty.Open()
	if err != nil {
		t.Fatalf("open pty: %v", err)
	}
	// pty.Open leaves the master in blocking mode (it calls Fd), where
	// Close does not wake a Read; a non-blocking duplicate goes through
	// the runtime poller, so closing it ends the reader goroutine.
	fd, err := syscall.Dup(int(m.Fd()))
	if err != nil {
		t.Fatalf("dup pty master: %v", err)
	}
	m.Close()
	if err := syscall.SetNonblock(fd, true); err != nil {
		t.Fatalf("pty master non-blocking: %v", err)
	}
	term := &terminal{t: t, master: os.NewFile(uintptr(fd), "/dev/ptmx"), tty: tty, Path: tty.Name(), done: make(chan struct{})}
	go term.read()
	t.Cleanup(term.Close)
	return term
}

func (term *terminal) read() {
	defer close(term.done)
	buf := make([]byte, 4096)
	for {
		n, err := term.master.Read(buf)
		term.mu.Lock()
		term.buf.Write(buf[:n])
		term.mu.Unlock()
		if err != nil {
			return
		}
	}
}

// Close hangs up the pty, as if the device vanished, and waits for the
// reader.
func (term *terminal) Close() {
	term.master.Close()
	term.tty.Close()
	<-term.done
}

// Send writes s as typed.
func (term *terminal) Send(s string) {
	term.t.Helper()
	if _, err := io.WriteString(term.master, s); err != nil {
		term.t.Fatalf("pty %s: write %q: %v", term.Path, s, err)
	}
}

// Output is everything received so far.
func (term *terminal) Output() string {
	term.mu.Lock()
	defer term.mu.Unlock()
	return term.buf.String()
}

// Expect waits until want appears in the output after the previous match,
// and returns the output from the previous match up to and including want.
func (term *terminal) Expect(want string, timeout time.Duration) string {
	term.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		term.mu.Lock()
		out := term.buf.String()[term.mark:]
		if i := strings.Index(out, want); i >= 0 {
			term.mark += i + len(want)
			term.mu.Unlock()
			return out[:i+len(want)]
		}
		term.mu.Unlock()
		if time.Now().After(deadline) {
			term.t.Fatalf("pty %s: %q did not come within %v; got after the last match:\n%q", term.Path, want, timeout, out)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// link points path at the terminal's tty, atomically replacing what was
// there, as udev does for /dev/serial0.
func (term *terminal) link(path string) {
	term.t.Helper()
	tmp := path + ".new"
	os.Remove(tmp)
	if err := os.Symlink(term.Path, tmp); err != nil {
		term.t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		term.t.Fatal(err)
	}
}

// syncBuffer is a log destination shared by goroutines.
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

func testLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// checkGoroutines fails t unless the goroutine count comes back to before.
func checkGoroutines(t *testing.T, before int) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			buf = buf[:runtime.Stack(buf, true)]
			t.Fatalf("%d goroutines left, %d before:\n%s", runtime.NumGoroutine(), before, buf)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// tempPortPath is a port path in a fresh directory, not existing yet.
func tempPortPath(t *testing.T) string {
	return filepath.Join(t.TempDir(), "ttyEDGE")
}

// running is a Console running in the background.
type running struct {
	c      *Console
	cancel func()
	err    chan error
}

// stop cancels Run and checks that it returns nil within a second.
func (r *running) stop(t *testing.T) {
	t.Helper()
	r.cancel()
	select {
	case err := <-r.err:
		if err != nil {
			t.Errorf("Run returned %v, want nil", err)
		}
	case <-time.After(time.Second):
		t.Fatalf("Run did not return within 1s of ctx cancel")
	}
}
