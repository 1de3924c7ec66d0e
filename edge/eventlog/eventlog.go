// Package eventlog is the edge daemon's local event log: one JSON object
// per line, appended and fsynced before Write returns, so that an event
// that was reported written survives a power cut.
//
// A log lives in one directory:
//
//	events.jsonl                          the current file
//	events-20240102T030405.123456789Z.jsonl   rotated files (UTC, sortable, unique)
//	snapshots/20240102T030405.123Z-door-1234.jpg  JPEG snapshots, if enabled
//
// The current file is rotated when the next line would make it larger than
// Config.MaxFileBytes, and the oldest rotated files are deleted so that the
// whole log stays under Config.MaxTotalBytes; snapshots are kept under
// Config.SnapshotQuotaBytes the same way. Recent reads the last events back
// across the files, for the console's "events [n]" command.
//
// A crash in the middle of a line leaves a partial last line: Recent skips
// lines that do not decode, and the next write starts on a fresh line.
package eventlog

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Box is a rectangle in normalized image coordinates, 0..1. It has the
// fields of tflite.Box and rules.Box, so either converts to it:
// eventlog.Box(d.Box).
type Box struct {
	XMin float32 `json:"xmin"`
	YMin float32 `json:"ymin"`
	XMax float32 `json:"xmax"`
	YMax float32 `json:"ymax"`
}

// Event is one firing of a rule, as logged.
type Event struct {
	Time  time.Time `json:"time"` // zero: set to the time of Write
	Rule  string    `json:"rule"`
	Label string    `json:"label"`
	Score float32   `json:"score"`
	// Box is the detection's box; nil for a classification.
	Box       *Box    `json:"box,omitempty"`
	Frame     uint64  `json:"frame"`
	LatencyMS float64 `json:"latency_ms"`
	// Snapshot is the file name of the event's snapshot in the snapshots
	// directory, if one was written.
	Snapshot string `json:"snapshot,omitempty"`
}

// Defaults for the zero fields of Config.
const (
	DefaultMaxFileBytes       = 10 << 20
	DefaultMaxTotalBytes      = 100 << 20
	DefaultSnapshotQuotaBytes = 200 << 20
	DefaultJPEGQuality        = 85
)

// File and directory names inside a log directory.
const (
	CurrentFile = "events.jsonl"
	SnapshotDir = "snapshots"
)

// rotatedLayout is the time layout of rotated file names: fixed width, so
// that names sort by time.
const rotatedLayout = "20060102T150405.000000000Z"

// Config configures a Log; zero fields take the defaults above.
type Config struct {
	// MaxFileBytes: the current file is rotated when the next line would
	// make it larger (a single line larger than this gets a file alone).
	MaxFileBytes int64
	// MaxTotalBytes: after a rotation the oldest rotated files are deleted
	// until the rotated files plus a full current file fit under it. Must be
	// ≥ MaxFileBytes; equal keeps the current file only.
	MaxTotalBytes int64
	// Snapshots enables WriteSnapshot's JPEGs (without it, WriteSnapshot
	// writes the event alone).
	Snapshots bool
	// SnapshotQuotaBytes: the oldest snapshots are deleted beyond it.
	SnapshotQuotaBytes int64
	// JPEGQuality is 1..100.
	JPEGQuality int
	// Logger receives rotations, deletions and skipped lines; nil means
	// slog.Default().
	Logger *slog.Logger
}

// withDefaults fills zero fields and checks the rest; errors name the field.
func (c Config) withDefaults() (Config, error) {
	var errs []error
	def := func(field string, v *int64, d int64) {
		switch {
		case *v == 0:
			*v = d
		case *v < 0:
			errs = append(errs, fmt.Errorf("%s %d: want > 0 (or 0 for the default, %d)", field, *v, d))
		}
	}
	def("MaxFileBytes", &c.MaxFileBytes, DefaultMaxFileBytes)
	def("MaxTotalBytes", &c.MaxTotalBytes, DefaultMaxTotalBytes)
	def("SnapshotQuotaBytes", &c.SnapshotQuotaBytes, DefaultSnapshotQuotaBytes)
	if c.JPEGQuality == 0 {
		c.JPEGQuality = DefaultJPEGQuality
	} else if c.JPEGQuality < 1 || c.JPEGQuality > 100 {
		errs = append(errs, fmt.Errorf("JPEGQuality %d: want 1..100 (or 0 for the default, %d)", c.JPEGQuality, DefaultJPEGQuality))
	}
	if len(errs) == 0 && c.MaxTotalBytes < c.MaxFileBytes {
		errs = append(errs, fmt.Errorf("MaxTotalBytes %d is less than MaxFileBytes %d: want MaxTotalBytes ≥ MaxFileBytes", c.MaxTotalBytes, c.MaxFileBytes))
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c, errors.Join(errs...)
}

// file is a rotated file or a snapshot.
type file struct {
	name string
	size int64
}

// Log is an open event log. Its methods are safe for concurrent use.
type Log struct {
	dir  string
	path string // dir/events.jsonl
	cfg  Config
	log  *slog.Logger

	mu          sync.Mutex
	f           *os.File // nil after a failed rotation; reopened by Write
	size        int64
	brokenLine  bool   // the file may end mid-line: start the next write with '\n'
	rotated     []file // oldest first
	lastRotated time.Time
	closed      bool

	snapMu    sync.Mutex
	snaps     []file // sorted by name: oldest first
	snapTotal int64
}

// Open opens the log in dir, creating the directory if needed. A partial
// last line left by a crash is closed with a newline.
func Open(dir string, cfg Config) (*Log, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("event log %s: config: %w", dir, err)
	}
	if dir == "" {
		return nil, errors.New("event log: empty directory name")
	}
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("event log %s: cannot create the directory%s: %w", dir, hint(err, dir), err)
		}
	case err != nil:
		return nil, fmt.Errorf("event log %s%s: %w", dir, hint(err, dir), err)
	case !fi.IsDir():
		return nil, fmt.Errorf("event log %s: not a directory (want a directory for %s and rotated files)", dir, CurrentFile)
	}
	l := &Log{
		dir:  dir,
		path: filepath.Join(dir, CurrentFile),
		cfg:  cfg,
		log:  cfg.Logger.With("event_log", dir),
	}
	if err := l.scanRotated(); err != nil {
		return nil, err
	}
	if err := l.openCurrent(); err != nil {
		return nil, err
	}
	if cfg.Snapshots {
		if err := l.openSnapshots(); err != nil {
			l.f.Close()
			return nil, err
		}
	}
	return l, nil
}

// Dir is the log's directory.
func (l *Log) Dir() string { return l.dir }

// scanRotated lists the rotated files, oldest first.
func (l *Log) scanRotated() error {
	ents, err := os.ReadDir(l.dir)
	if err != nil {
		return fmt.Errorf("event log %s: list: %w", l.dir, err)
	}
	for _, e := range ents {
		t, ok := rotatedTime(e.Name())
		if !ok || !e.Type().IsRegular() {
			continue
		}
		info, err := e.Info()
		if err != nil {
			continue // deleted meanwhile
		}
		l.rotated = append(l.rotated, file{e.Name(), info.Size()})
		if t.After(l.lastRotated) {
			l.lastRotated = t
		}
	}
	sort.Slice(l.rotated, func(i, j int) bool { return l.rotated[i].name < l.rotated[j].name })
	return nil
}

// rotatedTime parses the time of a rotated file name.
func rotatedTime(name string) (time.Time, bool) {
	s, ok := strings.CutPrefix(name, "events-")
	if !ok {
		return time.Time{}, false
	}
	s, ok = strings.CutSuffix(s, ".jsonl")
	if !ok || len(s) != len(rotatedLayout) {
		return time.Time{}, false
	}
	t, err := time.Parse(rotatedLayout, s)
	return t, err == nil
}

// openCurrent opens events.jsonl for appending and makes sure it ends with
// a newline.
func (l *Log) openCurrent() error {
	f, err := os.OpenFile(l.path, os.O_RDWR|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("event log %s: cannot open for appending%s: %w", l.path, hint(err, l.dir), err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("event log %s: %w", l.path, err)
	}
	l.f, l.size, l.brokenLine = f, fi.Size(), false
	if l.size > 0 {
		var last [1]byte
		if _, err := f.ReadAt(last[:], l.size-1); err != nil {
			f.Close()
			l.f = nil
			return fmt.Errorf("event log %s: read last byte: %w", l.path, err)
		}
		if last[0] != '\n' {
			l.log.Warn("event log ends with a partial line (crash?): it is skipped, new events start on the next line", "file", l.path)
			l.brokenLine = true
		}
	}
	if err := syncDir(l.dir); err != nil {
		return fmt.Errorf("event log %s: %w", l.path, err)
	}
	return nil
}

// Write appends e as one line and fsyncs the file before it returns. A zero
// e.Time is set to now.
func (l *Log) Write(e Event) error {
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	line, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("event log %s: encode event of rule %q frame %d: %w", l.path, e.Rule, e.Frame, err)
	}
	line = append(line, '\n')

	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return fmt.Errorf("event log %s: write: %w", l.path, os.ErrClosed)
	}
	if l.f == nil { // a failed rotation left no current file
		if err := l.openCurrent(); err != nil {
			return err
		}
	}
	prefixed := l.brokenLine
	if prefixed {
		line = append([]byte{'\n'}, line...)
	}
	if l.size > 0 && l.size+int64(len(line)) > l.cfg.MaxFileBytes {
		if err := l.rotate(); err != nil {
			return err
		}
		if prefixed { // a new file needs no separating newline
			line = line[1:]
		}
	}
	n, err := l.f.Write(line)
	l.size += int64(n)
	if err != nil {
		l.brokenLine = n > 0
		return fmt.Errorf("event log %s: write%s: %w", l.path, hint(err, l.dir), err)
	}
	l.brokenLine = false
	if err := l.f.Sync(); err != nil {
		return fmt.Errorf("event log %s: fsync: %w", l.path, err)
	}
	return nil
}

// rotate renames the current file to events-<UTC time>.jsonl, opens a new
// one and deletes the oldest rotated files beyond the total. l.mu is held.
func (l *Log) rotate() error {
	t := time.Now().UTC()
	if !t.After(l.lastRotated) { // same nanosecond, or the clock went back
		t = l.lastRotated.Add(time.Nanosecond)
	}
	name := "events-" + t.Format(rotatedLayout) + ".jsonl"
	to := filepath.Join(l.dir, name)
	if err := os.Rename(l.path, to); err != nil {
		return fmt.Errorf("event log %s: rotate to %s: %w", l.path, name, err)
	}
	old := l.f
	l.f = nil
	if err := old.Close(); err != nil {
		l.log.Warn("close rotated file", "file", to, "err", err)
	}
	l.rotated = append(l.rotated, file{name, l.size})
	l.lastRotated = t
	l.log.Debug("rotated", "file", name, "bytes", l.size)
	if err := l.openCurrent(); err != nil {
		return err
	}
	l.pruneRotated()
	return nil
}

// pruneRotated deletes the oldest rotated files until they and a full
// current file fit in MaxTotalBytes. l.mu is held.
func (l *Log) pruneRotated() {
	var total int64
	for _, r := range l.rotated {
		total += r.size
	}
	budget := l.cfg.MaxTotalBytes - l.cfg.MaxFileBytes
	for len(l.rotated) > 0 && total > budget {
		r := l.rotated[0]
		p := filepath.Join(l.dir, r.name)
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			l.log.Error("cannot delete old event file", "file", p, "err", err)
			return
		}
		l.log.Debug("deleted old event file", "file", r.name, "bytes", r.size)
		total -= r.size
		l.rotated = l.rotated[1:]
	}
}

// Recent returns the last n events, oldest first, newest last, reading back
// from the current file through the rotated ones. Lines that do not decode
// (a partial line after a crash) are skipped. n ≤ 0 returns none.
func (l *Log) Recent(n int) ([]Event, error) {
	if n <= 0 {
		return nil, nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil, fmt.Errorf("event log %s: recent: %w", l.path, os.ErrClosed)
	}
	names := []string{CurrentFile}
	for i := len(l.rotated) - 1; i >= 0; i-- {
		names = append(names, l.rotated[i].name)
	}
	var rev []Event // newest first
	skipped := 0
	for _, name := range names {
		p := filepath.Join(l.dir, name)
		data, err := os.ReadFile(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("event log %s: read: %w", p, err)
		}
		for len(data) > 0 && len(rev) < n {
			var line []byte
			if i := bytes.LastIndexByte(data[:len(data)-1], '\n'); i >= 0 {
				line, data = data[i+1:], data[:i+1]
			} else {
				line, data = data, nil
			}
			line = bytes.TrimSpace(line)
			if len(line) == 0 {
				continue
			}
			var e Event
			if err := json.Unmarshal(line, &e); err != nil {
				skipped++
				continue
			}
			rev = append(rev, e)
		}
		if len(rev) == n {
			break
		}
	}
	if skipped > 0 {
		l.log.Warn("skipped undecodable event lines", "lines", skipped)
	}
	for i, j := 0, len(rev)-1; i < j; i, j = i+1, j-1 {
		rev[i], rev[j] = rev[j], rev[i]
	}
	return rev, nil
}

// Close syncs and closes the current file. Closing twice is a no-op.
func (l *Log) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil
	}
	l.closed = true
	if l.f == nil {
		return nil
	}
	err := l.f.Sync()
	if cerr := l.f.Close(); err == nil {
		err = cerr
	}
	l.f = nil
	if err != nil {
		return fmt.Errorf("event log %s: close: %w", l.path, err)
	}
	return nil
}

// hint says what to check for an error of the file system.
func hint(err error, dir string) string {
	switch {
	case errors.Is(err, syscall.ENOTDIR):
		return " (a part of the path is a file, not a directory)"
	case errors.Is(err, fs.ErrPermission), errors.Is(err, syscall.EROFS):
		return fmt.Sprintf(" (check that the daemon's user may write %s and that its file system is not read-only)", dir)
	case errors.Is(err, syscall.ENOSPC):
		return " (the disk is full)"
	}
	return ""
}

// syncDir fsyncs a directory so that a created or renamed entry survives a
// power cut. File systems that cannot sync directories are let be.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync directory %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, syscall.EINVAL) && !errors.Is(err, syscall.ENOTSUP) {
		return fmt.Errorf("sync directory %s: %w", dir, err)
	}
	return nil
}
