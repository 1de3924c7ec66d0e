package metrics

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"
)

// DefaultAddr is where the status endpoints listen unless configured
// otherwise: the loopback interface only. Expose them on the network on
// purpose (a LAN address, or behind a reverse proxy), never by default.
const DefaultAddr = "127.0.0.1:9101"

// ShutdownTimeout bounds a graceful shutdown: requests still running after
// it are cut.
const ShutdownTimeout = time.Second

// ErrNoFrame is returned (wrapped) by a SnapshotFunc before the first frame;
// /snapshot.jpg then answers 503.
var ErrNoFrame = errors.New("no frame yet")

// SnapshotFunc returns the latest frame as a JPEG for /snapshot.jpg, or an
// error wrapping ErrNoFrame when there is none yet. [LatestFrame.JPEG] is
// one.
type SnapshotFunc func() (jpeg []byte, err error)

// Server serves edge's status endpoints over HTTP:
//
//	/metrics        the registry of a Metrics, Prometheus text format
//	/healthz        200 "ok" while the pipeline makes progress, else 503 and why
//	/snapshot.jpg   the latest frame as a JPEG; 503 before the first one
type Server struct {
	ln   net.Listener
	srv  *http.Server
	once sync.Once
}

// NewServer listens on addr (DefaultAddr if empty; port 0 picks a free
// one) and prepares the routes; [Server.Serve] serves them. snap may be
// nil: /snapshot.jpg then answers 404. The error names the address.
func NewServer(addr string, m *Metrics, snap SnapshotFunc) (*Server, error) {
	if m == nil {
		return nil, errors.New("metrics: server: nil Metrics")
	}
	if addr == "" {
		addr = DefaultAddr
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("metrics: listen on %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", index)
	mux.Handle("GET /metrics", m.Handler())
	mux.HandleFunc("GET /healthz", healthz(m.health))
	mux.HandleFunc("GET /snapshot.jpg", snapshot(snap))
	return &Server{
		ln: ln,
		srv: &http.Server{
			Handler:           mux,
			ReadHeaderTimeout: 5 * time.Second,
			WriteTimeout:      30 * time.Second,
			IdleTimeout:       60 * time.Second,
			ErrorLog:          slog.NewLogLogger(slog.Default().Handler(), slog.LevelWarn),
		},
	}, nil
}

// Addr is the address the server listens on, such as 127.0.0.1:9101.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// Serve answers requests until ctx ends, then shuts down gracefully: it
// stops accepting, lets running requests finish for up to ShutdownTimeout,
// closes the connections and returns nil. It returns an error if serving
// fails otherwise, and at once if the server was closed. Call it once.
func (s *Server) Serve(ctx context.Context) error {
	done := make(chan error, 1)
	go func() { done <- s.srv.Serve(s.ln) }()
	select {
	case err := <-done:
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return fmt.Errorf("metrics: serve on %s: %w", s.ln.Addr(), err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), ShutdownTimeout)
	defer cancel()
	if err := s.srv.Shutdown(sctx); err != nil {
		s.srv.Close()
	}
	<-done
	return nil
}

// Close stops the server at once: the listener and every connection are
// closed and Serve returns. It may be called more than once.
func (s *Server) Close() error {
	var err error
	s.once.Do(func() {
		err = s.srv.Close()
		if lerr := s.ln.Close(); lerr != nil && !errors.Is(lerr, net.ErrClosed) && err == nil {
			err = lerr
		}
	})
	return err
}

// Serve serves m's endpoints on addr (DefaultAddr if empty) until ctx
// ends, then shuts down within ShutdownTimeout.
func Serve(ctx context.Context, addr string, m *Metrics, snap SnapshotFunc) error {
	s, err := NewServer(addr, m, snap)
	if err != nil {
		return err
	}
	defer s.Close()
	return s.Serve(ctx)
}

func index(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	fmt.Fprintln(w, "edge\n\n/metrics       Prometheus metrics\n/healthz       200 while the pipeline makes progress\n/snapshot.jpg  the latest frame")
}

func healthz(h Health) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		if err := h.Check(); err != nil {
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintln(w, err)
			return
		}
		fmt.Fprintln(w, "ok")
	}
}

func snapshot(snap SnapshotFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		if snap == nil {
			http.Error(w, "snapshots are not enabled", http.StatusNotFound)
			return
		}
		jpg, err := snap()
		switch {
		case errors.Is(err, ErrNoFrame) || err == nil && len(jpg) == 0:
			http.Error(w, "no frame yet", http.StatusServiceUnavailable)
			return
		case err != nil:
			http.Error(w, "snapshot: "+err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "image/jpeg")
		w.Header().Set("Content-Length", fmt.Sprint(len(jpg)))
		w.Write(jpg)
	}
}
