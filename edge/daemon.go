package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"

	"periph.io/x/conn/v3/gpio"

	"github.com/edgeproject/edge/camera"
	"github.com/edgeproject/edge/edge/config"
	"github.com/edgeproject/edge/edge/eventlog"
	"github.com/edgeproject/edge/edge/outputs"
	"github.com/edgeproject/edge/edge/pipeline"
	"github.com/edgeproject/edge/edge/rules"
	"github.com/edgeproject/edge/tflite"
)

// pinOpener opens the GPIO line an output config names. The daemon uses
// the GPIO character device; tests give in-memory pins.
type pinOpener func(name string, o config.Output) (gpio.PinOut, error)

func openChipPin(_ string, o config.Output) (gpio.PinOut, error) {
	if o.Name != "" {
		return outputs.OpenChipLineByName(o.Name)
	}
	return outputs.OpenChipLine(o.Chip, *o.Line, "edge")
}

// daemon is everything one config builds; Close frees it all.
type daemon struct {
	cfg    *config.Config
	src    camera.Source
	interp *tflite.Interpreter
	bank   *outputs.Bank
	events *eventlog.Log
	pipe   *pipeline.Pipeline
}

// buildOptions adjust a daemon to a use other than `edge run`.
type buildOptions struct {
	openPin    pinOpener
	logger     *slog.Logger
	maxFrames  uint64
	dropFrames *bool // nil: drop for live sources, not for files and folders
	onResult   func(pipeline.Result)
}

// build opens the camera, the model, the outputs and the event log a
// config names, and wires the pipeline. On error, what was opened is closed.
func build(cfg *config.Config, o buildOptions) (d *daemon, err error) {
	if o.logger == nil {
		o.logger = slog.Default()
	}
	if o.openPin == nil {
		o.openPin = openChipPin
	}
	d = &daemon{cfg: cfg}
	built := d // `return nil, err` clears d before this runs
	defer func() {
		if err != nil {
			built.Close()
		}
	}()

	del, _ := tflite.ParseDelegate(cfg.Model.Delegate) // validated by config
	rz, _ := tflite.ParseResize(cfg.Model.Resize)
	pre := tflite.Preprocess{Resize: rz}
	if cfg.Model.Mean != nil {
		pre.Mean = float32(*cfg.Model.Mean)
	}
	if cfg.Model.Std != nil {
		pre.Std = float32(*cfg.Model.Std)
	}
	if d.interp, err = openModel(cfg.Model.Path, cfg.Model.Engine, tflite.Options{
		Delegate: del, Threads: cfg.Model.Threads, EdgeTPULibrary: cfg.Model.EdgeTPULibrary,
		Preprocess: pre, Logger: o.logger,
	}); err != nil {
		return nil, err
	}
	var labels *tflite.Labels
	if cfg.Model.Labels != "" {
		if labels, err = tflite.ReadLabels(cfg.Model.Labels); err != nil {
			return nil, err
		}
	} else if labels, _, err = tflite.EmbeddedLabels(cfg.Model.Path, d.interp.Model()); err != nil {
		return nil, err
	}
	detector := slices.Contains(d.interp.Model().CustomOps(), "TFLite_Detection_PostProcess")

	if len(cfg.Rules) > 0 {
		ec := eventlog.Config{
			MaxFileBytes:       int64(cfg.Events.MaxFileMB * (1 << 20)),
			MaxTotalBytes:      int64(cfg.Events.MaxTotalMB * (1 << 20)),
			Snapshots:          cfg.Events.Snapshots,
			SnapshotQuotaBytes: int64(cfg.Events.SnapshotQuotaMB * (1 << 20)),
		}
		if d.events, err = eventlog.Open(cfg.Events.Dir, ec); err != nil {
			return nil, err
		}
	}

	if d.bank, err = openOutputs(cfg, o.openPin, o.logger); err != nil {
		return nil, err
	}
	var prules []*pipeline.Rule
	for _, rc := range cfg.Rules {
		spec := rules.Spec{
			Name: rc.Name, Labels: rc.Labels, MinScore: float32(rc.MinScore),
			N: rc.Debounce.N, M: rc.Debounce.M, MinHold: rc.MinHold.D(), Cooldown: rc.Cooldown.D(),
		}
		if len(rc.ROI) == 4 {
			spec.ROI = &rules.Box{XMin: float32(rc.ROI[0]), YMin: float32(rc.ROI[1]), XMax: float32(rc.ROI[2]), YMax: float32(rc.ROI[3])}
		}
		r, err := rules.New(spec)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", cfg.Path, err)
		}
		pr := &pipeline.Rule{Rule: r, Snapshot: rc.Snapshot && cfg.Events.Snapshots}
		for _, a := range rc.Actions {
			out, _ := d.bank.Get(a.Output) // validated by config
			pr.Actions = append(pr.Actions, pipeline.Action{Output: out, Hold: a.Mode == "hold", Pulse: a.Pulse.D()})
		}
		prules = append(prules, pr)
	}

	live := isLive(cfg.Camera.Source)
	if d.src, err = openSource(cfg, live, o.logger); err != nil {
		return nil, err
	}
	drop := live
	if o.dropFrames != nil {
		drop = *o.dropFrames
	}
	pc := pipeline.Config{
		Source: d.src, Model: d.interp, Labels: labels, Detector: detector,
		MinScore: float32(cfg.Model.MinScore), TopK: cfg.Model.TopK, Rules: prules,
		DropFrames: drop, MaxFrames: o.maxFrames, Logger: o.logger, OnResult: o.onResult,
	}
	if d.events != nil {
		pc.Events = d.events
	}
	if d.pipe, err = pipeline.New(pc); err != nil {
		return nil, err
	}
	return d, nil
}

// isLive reports whether a camera spec is a live source (frames may be
// dropped) rather than a file or folder (every frame counts).
func isLive(spec string) bool {
	for _, prefix := range []string{"/dev/", "v4l2:", "gst:", "rtsp://", "rtsps://", "http://", "https://"} {
		if strings.HasPrefix(spec, prefix) {
			return true
		}
	}
	_, err := strconv.Atoi(spec) // a V4L2 index
	return err == nil
}

// openSource opens the camera; live sources reconnect with backoff.
func openSource(cfg *config.Config, live bool, logger *slog.Logger) (camera.Source, error) {
	opts := camera.Options{
		Width: cfg.Camera.Width, Height: cfg.Camera.Height, FPS: cfg.Camera.FPS,
		FourCC: cfg.Camera.FourCC, Loop: *cfg.Camera.Loop, Logger: logger,
	}
	open := func() (camera.Source, error) { return camera.Open(cfg.Camera.Source, opts) }
	if !live {
		return open()
	}
	// Fail fast on a first open that cannot work (no such device), then
	// keep reconnecting through unplugs and stream drops.
	first, err := open()
	if err != nil {
		return nil, err
	}
	used := false
	return camera.Reconnecting(func() (camera.Source, error) {
		if !used {
			used = true
			return first, nil
		}
		return open()
	}, camera.Backoff{}, logger), nil
}

func openOutputs(cfg *config.Config, open pinOpener, logger *slog.Logger) (*outputs.Bank, error) {
	names := make([]string, 0, len(cfg.Outputs))
	for n := range cfg.Outputs {
		names = append(names, n)
	}
	slices.Sort(names)
	var outs []*outputs.Output
	fail := func(err error) (*outputs.Bank, error) {
		for _, o := range outs {
			o.Close()
		}
		return nil, err
	}
	for _, n := range names {
		oc := cfg.Outputs[n]
		pin, err := open(n, oc)
		if err != nil {
			return fail(fmt.Errorf("%s: outputs.%s: %w", cfg.Path, n, err))
		}
		out, err := outputs.New(n, pin, outputs.Config{Mode: outputs.Hold, Pulse: outputs.SelfTestPulse, ActiveLow: oc.ActiveLow, Logger: logger})
		if err != nil {
			if c, ok := pin.(interface{ Close() error }); ok {
				c.Close()
			}
			return fail(err)
		}
		outs = append(outs, out)
	}
	return outputs.NewBank(outs...)
}

// Close stops nothing (the pipeline stops with its context) and frees everything.
func (d *daemon) Close() error {
	var errs []error
	if d.src != nil {
		errs = append(errs, d.src.Close())
	}
	if d.bank != nil {
		errs = append(errs, d.bank.Close())
	}
	if d.events != nil {
		errs = append(errs, d.events.Close())
	}
	if d.interp != nil {
		errs = append(errs, d.interp.Close())
	}
	return errors.Join(errs...)
}

// selfTest pulses every output once, if the config asks for it.
func (d *daemon) selfTest(ctx context.Context) error {
	if !d.cfg.SelfTest || d.bank == nil {
		return nil
	}
	return d.bank.SelfTest(ctx, outputs.SelfTestPulse)
}
