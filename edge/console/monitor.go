package console

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"
	"unicode"
)

// Monitor bounds.
const (
	monitorLineMax = 4096 // longer device lines, and typed lines, are split
	monitorPending = 8    // sent lines whose echo is still expected
	monitorTyped   = 16   // typed lines waiting for the port
)

// Monitor is the laptop end of the console, for `edge monitor PORT`: it
// opens port (baud 0 means DefaultBaud), writes the device's lines to out
// as they come (status lines, event lines, command output), and sends each
// line read from in to the device as a command. The device's echo of a
// sent line is not shown again, since the local terminal already shows
// what was typed. Lines from the device lose their \r and any control
// characters, so out gets plain text lines ending with \n.
//
// Notices from Monitor itself start with "-- ". When the port is missing
// or is lost, Monitor says so once and keeps reopening it with backoff
// until ctx ends; then it returns nil. It returns an error for bad
// arguments or if writing to out fails. At EOF on in, it keeps showing the
// device's output until ctx ends.
//
// in is read by a goroutine that, if in blocks (a terminal's stdin), ends
// at the next line or EOF after Monitor returns. Package main needs two
// lines:
//
//	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
//	defer stop(); return console.Monitor(ctx, port, 0, os.Stdin, os.Stdout)
func Monitor(ctx context.Context, port string, baud int, in io.Reader, out io.Writer) error {
	switch {
	case port == "":
		return errors.New("monitor: port is empty: want a serial device such as /dev/ttyUSB0")
	case baud < 0:
		return fmt.Errorf("monitor %s: baud %d: want > 0 (or 0 for %d)", port, baud, DefaultBaud)
	case baud == 0:
		baud = DefaultBaud
	}
	typed := make(chan string, monitorTyped)
	go readLines(ctx, in, typed)

	m := &monitor{port: port, out: out}
	quiet := slog.New(slog.DiscardHandler)
	backoff, down := minBackoff, false
	for ctx.Err() == nil && m.err == nil {
		l, err := openLink(port, baud)
		if err == nil {
			m.notice("connected to %s at %d baud; type commands (help lists them), Ctrl-C quits", port, baud)
			down, backoff = false, minBackoff
			err = m.session(ctx, l, typed)
			l.close(quiet)
			m.flush()
			if ctx.Err() != nil || m.err != nil {
				break
			}
			err = fmt.Errorf("disconnected: %w", err)
		}
		if !down {
			m.notice("%v; retrying until it is back", err)
			down = true
		}
		if m.err != nil || !m.wait(ctx, backoff, typed) {
			break
		}
		backoff = nextBackoff(backoff)
	}
	if m.err != nil {
		return fmt.Errorf("monitor %s: write output: %w", port, m.err)
	}
	return nil
}

// readLines sends the lines of in, without their line ends, to typed until
// EOF, an error, or ctx ends.
func readLines(ctx context.Context, in io.Reader, typed chan<- string) {
	r := bufio.NewReaderSize(in, monitorLineMax)
	for {
		b, err := r.ReadSlice('\n')
		if len(b) > 0 {
			select {
			case typed <- strings.TrimRight(string(b), "\r\n"):
			case <-ctx.Done():
				return
			}
		}
		if err != nil && !errors.Is(err, bufio.ErrBufferFull) {
			return
		}
	}
}

// monitor renders the device's bytes as lines; it belongs to Monitor's
// goroutine.
type monitor struct {
	port    string
	out     io.Writer
	err     error    // the first error writing out
	line    []byte   // the device's current line
	pending []string // sent lines whose echo has not come back yet
}

// session relays between the link and out/typed until the link fails
// (its error is returned) or ctx ends.
func (m *monitor) session(ctx context.Context, l *link, typed <-chan string) error {
	for m.err == nil {
		select {
		case <-ctx.Done():
			return nil
		case err := <-l.errc:
			return err
		case b := <-l.in:
			m.feed(b)
		case s := <-typed:
			if !l.send([]byte(s + "\r")) {
				m.notice("%s is not draining; dropped %q", m.port, s)
				continue
			}
			m.pending = append(m.pending, s)
			if len(m.pending) > monitorPending {
				m.pending = m.pending[1:]
			}
		}
	}
	return nil
}

// wait sleeps d between attempts to open the port, telling about lines
// typed meanwhile, and reports whether ctx is still live.
func (m *monitor) wait(ctx context.Context, d time.Duration, typed <-chan string) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return false
		case <-t.C:
			return true
		case s := <-typed:
			m.notice("not connected to %s; dropped %q", m.port, s)
		}
	}
}

// feed renders device output: lines end at \n; \r is dropped, backspace
// erases, and other control characters are dropped.
func (m *monitor) feed(b []byte) {
	for _, c := range b {
		switch {
		case c == '\n':
			m.emit()
		case c == '\b':
			if len(m.line) > 0 {
				m.line = m.line[:len(m.line)-1]
			}
		case c == '\t':
			m.line = append(m.line, ' ')
		case c < 0x20 || c == 0x7f:
		default:
			m.line = append(m.line, c)
			if len(m.line) >= monitorLineMax {
				m.emit()
			}
		}
	}
}

// flush shows a partial last line, at a disconnect.
func (m *monitor) flush() {
	if len(m.line) > 0 {
		m.emit()
	}
	m.pending = m.pending[:0]
}

// emit shows the current line unless it is the echo of a sent line.
func (m *monitor) emit() {
	s := strings.Map(func(r rune) rune {
		if unicode.IsPrint(r) {
			return r
		}
		return '?'
	}, strings.ToValidUTF8(string(m.line), "?"))
	m.line = m.line[:0]
	if len(m.pending) > 0 && s == m.pending[0] {
		m.pending = m.pending[1:]
		return
	}
	m.println(s)
}

func (m *monitor) notice(format string, args ...any) {
	m.println("-- " + fmt.Sprintf(format, args...))
}

func (m *monitor) println(s string) {
	if m.err == nil {
		_, m.err = io.WriteString(m.out, s+"\n")
	}
}
