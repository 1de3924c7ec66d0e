package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/edgeproject/edge/edge/console"
	"github.com/edgeproject/edge/edge/eventlog"
	"github.com/edgeproject/edge/edge/metrics"
	"github.com/edgeproject/edge/edge/pipeline"
	"github.com/edgeproject/edge/edge/service"
)

// appliance is the running daemon as the console, the HTTP server and the
// watchdog see it: it follows the pipeline across reloads and keeps a copy
// of the latest frame for snapshots.
type appliance struct {
	start  time.Time
	reload chan struct{} // capacity 1: a reload is pending
	latest *metrics.LatestFrame
	beat   *service.Heartbeat

	mu sync.Mutex
	d  *daemon
}

func newAppliance() *appliance {
	return &appliance{
		start: time.Now(), reload: make(chan struct{}, 1),
		latest: &metrics.LatestFrame{Every: 200 * time.Millisecond},
		beat:   &service.Heartbeat{},
	}
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

// onResult runs on the inference goroutine for every frame: a heartbeat
// for the watchdog, and (at most 5 times a second) a copy for snapshots.
func (a *appliance) onResult(r pipeline.Result) {
	a.beat.Beat()
	a.latest.Store(r.Frame.Pix, r.Frame.Width, r.Frame.Height)
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
	data, err := a.latest.JPEG()
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
	path := filepath.Join(dir, time.Now().UTC().Format("20060102T150405.000Z")+"-console.jpg")
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return "", err
	}
	return path, os.Rename(tmp, path)
}

func (a *appliance) Version() string { return "edge " + version }
