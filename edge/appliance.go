package main

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/edgeproject/edge/edge/console"
	"github.com/edgeproject/edge/edge/eventlog"
	"github.com/edgeproject/edge/edge/pipeline"
)

// appliance is the running daemon as the console, the HTTP server and the
// watchdog see it: it follows the pipeline across reloads and keeps a copy
// of the latest frame for snapshots.
type appliance struct {
	start  time.Time
	reload chan struct{} // capacity 1: a reload is pending

	mu sync.Mutex
	d  *daemon

	frameMu   sync.Mutex
	frame     []byte // latest frame, RGB
	frameW    int
	frameH    int
	frameSeq  uint64
	lastFrame time.Time
}

func newAppliance() *appliance {
	return &appliance{start: time.Now(), reload: make(chan struct{}, 1)}
}

// set makes d the running daemon.
func (a *appliance) set(d *daemon) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.d = d
}

func (a *appliance) current() (*daemon, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.d == nil {
		return nil, errors.New("not running (starting or reloading)")
	}
	return a.d, nil
}

// onResult keeps a copy of the newest frame; it runs on the inference goroutine.
func (a *appliance) onResult(r pipeline.Result) {
	f := r.Frame
	a.frameMu.Lock()
	defer a.frameMu.Unlock()
	if cap(a.frame) < len(f.Pix) {
		a.frame = make([]byte, len(f.Pix))
	}
	a.frame = a.frame[:len(f.Pix)]
	copy(a.frame, f.Pix)
	a.frameW, a.frameH, a.frameSeq, a.lastFrame = f.Width, f.Height, f.Seq, time.Now()
}

// snapshotJPEG encodes the latest frame.
func (a *appliance) snapshotJPEG() ([]byte, uint64, error) {
	a.frameMu.Lock()
	if a.frameW == 0 {
		a.frameMu.Unlock()
		return nil, 0, errors.New("no frame yet")
	}
	img := image.NewRGBA(image.Rect(0, 0, a.frameW, a.frameH))
	for i, j := 0, 0; i+2 < len(a.frame); i, j = i+3, j+4 {
		img.Pix[j], img.Pix[j+1], img.Pix[j+2], img.Pix[j+3] = a.frame[i], a.frame[i+1], a.frame[i+2], 255
	}
	seq := a.frameSeq
	a.frameMu.Unlock()
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 85}); err != nil {
		return nil, 0, err
	}
	return buf.Bytes(), seq, nil
}

// The console.Daemon methods.

func (a *appliance) Status() console.Status {
	s := console.Status{Uptime: time.Since(a.start)}
	d, err := a.current()
	if err != nil {
		return s
	}
	st := d.pipe.Stats()
	s.Frames, s.Dropped, s.Events, s.FPS, s.LastEvent = st.Frames, st.Dropped, st.Events, st.FPS, st.LastEvent
	for _, p := range st.Stages {
		if p.Stage == pipeline.StageInvoke.String() {
			s.InvokeP50 = p.P50
		}
	}
	s.Model, s.Delegation, s.Source = filepath.Base(d.cfg.Model.Path), d.interp.Delegation().String(), d.cfg.Camera.Source
	return s
}

func (a *appliance) Stages() []pipeline.Percentiles {
	d, err := a.current()
	if err != nil {
		return nil
	}
	return d.pipe.Stats().Stages
}

func (a *appliance) Events(n int) ([]eventlog.Event, error) {
	d, err := a.current()
	if err != nil {
		return nil, err
	}
	if d.events == nil {
		return nil, errors.New("no event log: the config has no rules")
	}
	return d.events.Recent(n)
}

func (a *appliance) GPIO(name, op string) error {
	d, err := a.current()
	if err != nil {
		return err
	}
	out, ok := d.bank.Get(name)
	if !ok {
		names := d.bank.Names()
		slices.Sort(names)
		return fmt.Errorf("no output %q (outputs: %v)", name, names)
	}
	switch op {
	case "pulse":
		return out.PulseFor(0)
	case "on":
		return out.Set(true)
	case "off":
		return out.Set(false)
	}
	return fmt.Errorf("gpio %s: unknown operation %q: want pulse, on or off", name, op)
}

func (a *appliance) Reload() error {
	select {
	case a.reload <- struct{}{}:
	default: // one is pending already
	}
	return nil
}

// Snapshot saves the latest frame as a JPEG beside the event log's snapshots.
func (a *appliance) Snapshot() (string, error) {
	d, err := a.current()
	if err != nil {
		return "", err
	}
	data, seq, err := a.snapshotJPEG()
	if err != nil {
		return "", err
	}
	dir := filepath.Join(d.cfg.Events.Dir, eventlog.SnapshotDir)
	if d.cfg.Events.Dir == "" {
		dir = os.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	path := filepath.Join(dir, fmt.Sprintf("%s-console-%d.jpg", time.Now().UTC().Format("20060102T150405.000Z"), seq))
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return "", err
	}
	return path, os.Rename(tmp, path)
}

func (a *appliance) Version() string { return "edge " + version }
