package console

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"go.bug.st/serial"
)

// Port retry delays: after a failed open or a lost port, the next attempt
// waits minBackoff, doubling up to maxBackoff while the port stays away.
const (
	minBackoff = 500 * time.Millisecond
	maxBackoff = 10 * time.Second
)

// writeGrace is how long closing a link waits for a write in progress. A
// write to a tty blocks while nobody drains the other end (a USB gadget
// port with no host program reading, a pty whose master is not read), and
// neither closing the port nor flushing it wakes the writer; after
// writeGrace the link gives up on it, and the goroutine ends when the
// kernel lets the write return.
const writeGrace = 250 * time.Millisecond

// Bounds of the channels between a link's goroutines and its owner.
const (
	inChunks  = 4   // reads waiting for the owner
	outChunks = 64  // writes waiting for the port; beyond, output is dropped
	readSize  = 512 // bytes per read
)

// link is an open serial port with one reader and one writer goroutine.
// Its owner receives what was read on in, queues writes with send, learns
// of the first read or write error on errc, and ends it with close.
type link struct {
	name string
	port serial.Port

	in   chan []byte
	out  chan []byte
	errc chan error // capacity 1: the first error only

	ctx        context.Context
	cancel     context.CancelFunc
	readerDone chan struct{}
	writerDone chan struct{}
	dropped    int // writes dropped because out was full (owner only)
}

// openLink opens name at baud, 8N1, and starts the link's goroutines.
func openLink(name string, baud int) (*link, error) {
	p, err := serial.Open(name, &serial.Mode{
		BaudRate: baud, DataBits: 8, Parity: serial.NoParity, StopBits: serial.OneStopBit,
	})
	if err != nil {
		return nil, fmt.Errorf("serial port %s at %d baud 8N1: %w", name, baud, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	l := &link{
		name: name, port: p,
		in: make(chan []byte, inChunks), out: make(chan []byte, outChunks), errc: make(chan error, 1),
		ctx: ctx, cancel: cancel,
		readerDone: make(chan struct{}), writerDone: make(chan struct{}),
	}
	go l.read()
	go l.write()
	return l, nil
}

// fail reports the link's first error to its owner.
func (l *link) fail(err error) {
	select {
	case l.errc <- err:
	default:
	}
}

func (l *link) read() {
	defer close(l.readerDone)
	for {
		buf := make([]byte, readSize)
		n, err := l.port.Read(buf)
		if n > 0 {
			select {
			case l.in <- buf[:n]:
			case <-l.ctx.Done():
				return
			}
		}
		if err != nil {
			if l.ctx.Err() == nil {
				l.fail(fmt.Errorf("serial port %s: read: %w", l.name, err))
			}
			return
		}
	}
}

func (l *link) write() {
	defer close(l.writerDone)
	for {
		select {
		case <-l.ctx.Done():
			return
		case b := <-l.out:
			for len(b) > 0 {
				if l.ctx.Err() != nil {
					return // the port may be closed: never write to its fd again
				}
				n, err := l.port.Write(b)
				if err != nil {
					l.fail(fmt.Errorf("serial port %s: write: %w", l.name, err))
					return
				}
				b = b[n:]
			}
		}
	}
}

// send queues b for the port without blocking; it reports false, and
// counts a drop, if the queue is full because the port is not draining.
func (l *link) send(b []byte) bool {
	if len(b) == 0 {
		return true
	}
	select {
	case l.out <- b:
		return true
	default:
		l.dropped++
		return false
	}
}

// close stops the goroutines and closes the port. It returns within about
// writeGrace even if a write is stuck in the kernel (see writeGrace).
func (l *link) close(log *slog.Logger) {
	l.cancel()
	t := time.NewTimer(writeGrace)
	defer t.Stop()
	select {
	case <-l.writerDone:
	case <-t.C:
		log.Warn("console: a write to the serial port is blocked (nobody reads the other end); abandoning it", "port", l.name)
	}
	// Close wakes a blocked Read; Read returns before Close does.
	if err := l.port.Close(); err != nil {
		log.Debug("console: close serial port", "port", l.name, "err", err)
	}
	<-l.readerDone
	if l.dropped > 0 {
		log.Debug("console: output dropped while the port was not draining", "port", l.name, "writes", l.dropped)
	}
}

// sleep waits d or until ctx ends, and reports whether ctx is still live.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// nextBackoff doubles d up to maxBackoff.
func nextBackoff(d time.Duration) time.Duration { return min(2*d, maxBackoff) }
