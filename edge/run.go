package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/edgeproject/edge/camera"
	"github.com/edgeproject/edge/edge/config"
	"github.com/edgeproject/edge/edge/console"
	"github.com/edgeproject/edge/edge/metrics"
	"github.com/edgeproject/edge/edge/pipeline"
	"github.com/edgeproject/edge/edge/service"
)

// runDaemon is `edge run`: the camera loop, until SIGTERM/SIGINT (ctx) or
// the end of a finite source. SIGHUP (or a value on reload) re-reads the
// config: a valid one replaces the running pipeline, an invalid one is
// logged and the running config stays.
func runDaemon(ctx context.Context, args []string, _, errOut io.Writer) error {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(errOut)
	path := fs.String("config", "/etc/edge/edge.yaml", "configuration file")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	reload := make(chan struct{}, 1)
	go func() {
		for {
			select {
			case <-hup:
				select {
				case reload <- struct{}{}:
				default:
				}
			case <-ctx.Done():
				return
			}
		}
	}()
	return serve(ctx, *path, reload, buildOptions{logger: slog.Default()})
}

// serve runs the daemon for the config at path, rebuilding it on reload
// (from a signal, or the console's reload command). The serial console runs
// for the whole life of serve, across reloads.
func serve(ctx context.Context, path string, reload <-chan struct{}, o buildOptions) error {
	log := o.logger
	cfg, err := config.Load(path)
	if err != nil {
		return err
	}
	app := newAppliance()
	notify, err := service.NewNotifier()
	if err != nil {
		log.Warn("systemd notify socket", "err", err) // notify is a no-op then
	}
	defer notify.Close()
	mets, err := metrics.New(metrics.HealthFunc(func() error { return app.beat.Check(stallAfter) }))
	if err != nil {
		return err
	}
	onResult := o.onResult
	o.onResult = func(r pipeline.Result) {
		app.onResult(r)
		mets.Observe(r)
		if onResult != nil {
			onResult(r)
		}
	}
	started := func(d *daemon) {
		app.set(d)
		app.beat.Beat() // a slow (re)build is not a stall
		mets.SetCounters(daemonCounters{d})
		names := make([]string, len(d.cfg.Rules))
		for i, r := range d.cfg.Rules {
			names[i] = r.Name
		}
		mets.DeclareRules(names...)
		mets.SetReady(true)
		notify.Ready()
		notify.Status(fmt.Sprintf("running %s on %s (%s)", filepath.Base(d.cfg.Model.Path), d.cfg.Camera.Source, d.interp.Delegation()))
	}
	stopping := func(d *daemon) {
		mets.SetReady(false)
		app.set(nil)
		d.Close()
	}
	d, err := build(cfg, o)
	if err != nil {
		return err
	}

	var services sync.WaitGroup
	svcCtx, stopServices := context.WithCancel(ctx)
	defer func() {
		stopServices()
		services.Wait()
	}()
	if cfg.HTTP.Listen != "off" {
		srv, err := metrics.NewServer(cfg.HTTP.Listen, mets, app.latest.JPEG)
		if err != nil {
			d.Close()
			return fmt.Errorf("%s: http.listen: %w", cfg.Path, err)
		}
		log.Info("http", "addr", srv.Addr().String(), "paths", "/healthz /metrics /snapshot.jpg")
		services.Add(1)
		go func() {
			defer services.Done()
			if err := srv.Serve(svcCtx); err != nil {
				log.Error("http", "err", err)
			}
		}()
	}
	if interval, ok := service.WatchdogInterval(); ok {
		services.Add(1)
		go func() {
			defer services.Done()
			service.RunWatchdog(svcCtx, notify, app.beat, interval, stallAfter, log)
		}()
	}
	if cfg.Console.Port != "" {
		con, err := console.New(console.Config{Port: cfg.Console.Port, Baud: cfg.Console.Baud, StatusEvery: cfg.Console.StatusEvery.D(), Logger: log}, app)
		if err != nil {
			d.Close()
			return fmt.Errorf("%s: console: %w", cfg.Path, err)
		}
		services.Add(1)
		go func() {
			defer services.Done()
			if err := con.Run(svcCtx); err != nil {
				log.Error("console", "err", err)
			}
		}()
	}

	for {
		if err := d.selfTest(ctx); err != nil {
			log.Error("self-test", "err", err)
		}
		started(d)
		log.Info("edge running", "config", path, "model", cfg.Model.Path, "delegation", d.interp.Delegation().String(), "source", cfg.Camera.Source)
		runCtx, stop := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- d.pipe.Run(runCtx) }()

		var next *config.Config
	wait:
		for {
			select {
			case <-ctx.Done():
				notify.Stopping()
				stop()
				err := <-done
				stopping(d)
				log.Info("edge stopped", "reason", context.Cause(ctx))
				return err
			case err := <-done:
				notify.Stopping()
				stop()
				stopping(d)
				return err
			case <-reload:
			case <-app.reload:
			}
			c, err := config.Load(path)
			if err != nil {
				log.Error("reload: keeping the running config", "err", err)
				continue
			}
			next = c
			break wait
		}
		notify.Reloading()
		stop()
		if err := <-done; err != nil {
			log.Error("pipeline stopped with an error before reload", "err", err)
		}
		stopping(d)
		nd, err := build(next, o)
		if err != nil {
			log.Error("reload: the new config does not start; back to the previous one", "err", err)
			if nd, err = build(cfg, o); err != nil {
				return errors.Join(errors.New("the previous config no longer starts either"), err)
			}
		} else {
			cfg = next
			log.Info("reload: new config running", "config", path)
		}
		d = nd
	}
}

// stallAfter is how long the pipeline may go without finishing a frame
// before /healthz fails and the systemd watchdog stops being fed.
const stallAfter = 20 * time.Second

// daemonCounters gives the metrics the counters kept by the pipeline and the camera.
type daemonCounters struct{ d *daemon }

func (c daemonCounters) Dropped() uint64 { return c.d.pipe.Stats().Dropped }

func (c daemonCounters) Reconnects() uint64 {
	if r, ok := c.d.src.(camera.Reconnector); ok {
		return r.Reconnects()
	}
	return 0
}

// shutdownGrace bounds how long a stop may take before the process exits anyway.
const shutdownGrace = 2 * time.Second

// runMonitor is `edge monitor PORT`: the console from a laptop.
func runMonitor(ctx context.Context, args []string, out, errOut io.Writer) error {
	fs := flag.NewFlagSet("monitor", flag.ContinueOnError)
	fs.SetOutput(errOut)
	baud := fs.Int("baud", console.DefaultBaud, "baud rate")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("want the serial port, e.g. /dev/ttyUSB0")
	}
	return console.Monitor(ctx, fs.Arg(0), *baud, os.Stdin, out)
}
