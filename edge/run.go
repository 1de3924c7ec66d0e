package main

import (
	"context"
	"errors"
	"flag"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/edgeproject/edge/edge/config"
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

// serve runs the daemon for the config at path, rebuilding it on reload.
func serve(ctx context.Context, path string, reload <-chan struct{}, o buildOptions) error {
	log := o.logger
	cfg, err := config.Load(path)
	if err != nil {
		return err
	}
	d, err := build(cfg, o)
	if err != nil {
		return err
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
				d.Close()
				log.Info("edge stopped", "reason", context.Cause(ctx))
				return err
			case err := <-done:
				stop()
				d.Close()
				return err
			case <-reload:
				c, err := config.Load(path)
				if err != nil {
					log.Error("reload: keeping the running config", "err", err)
					continue
				}
				next = c
				break wait
			}
		}
		stop()
		if err := <-done; err != nil {
			log.Error("pipeline stopped with an error before reload", "err", err)
		}
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
	}
}

// shutdownGrace bounds how long a stop may take before the process exits anyway.
const shutdownGrace = 2 * time.Second
