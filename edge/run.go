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
	"sync"
	"syscall"
	"time"

	"github.com/edgeproject/edge/edge/config"
	"github.com/edgeproject/edge/edge/console"
	"github.com/edgeproject/edge/edge/pipeline"
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
	onResult := o.onResult
	o.onResult = func(r pipeline.Result) {
		app.onResult(r)
		if onResult != nil {
			onResult(r)
		}
	}
	d, err := build(cfg, o)
	if err != nil {
		return err
	}
	app.set(d)

	var services sync.WaitGroup
	svcCtx, stopServices := context.WithCancel(ctx)
	defer func() {
		stopServices()
		services.Wait()
	}()
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
		log.Info("edge running", "config", path, "model", cfg.Model.Path, "delegation", d.interp.Delegation().String(), "source", cfg.Camera.Source)
		runCtx, stop := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- d.pipe.Run(runCtx) }()

		var next *config.Config
	wait:
		for {
			select {
			case <-ctx.Done():
				stop()
				err := <-done
				app.set(nil)
				d.Close()
				log.Info("edge stopped", "reason", context.Cause(ctx))
				return err
			case err := <-done:
				stop()
				app.set(nil)
				d.Close()
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
		stop()
		if err := <-done; err != nil {
			log.Error("pipeline stopped with an error before reload", "err", err)
		}
		app.set(nil)
		d.Close()
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
		app.set(d)
	}
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
