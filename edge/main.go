// Command edge turns a Raspberry Pi or Jetson into a vision device: it runs
// quantized MobileNet TensorFlow Lite models on camera frames and photos.
//
// Usage:
//
//	edge classify --model M [--labels L] IMAGE...
//	edge detect   --model M [--labels L] IMAGE...
//	edge info     MODEL
//	edge run      --config /etc/edge/edge.yaml
//	edge bench    --config C | --model M --source VIDEO_OR_FOLDER [--frames N]
//	edge monitor  PORT
//	edge models   list | fetch NAME | info NAME | analyze [MODEL...] | seed | bench
//	edge quantize --calib SOURCE --in FLOAT --out INT8 [--frames N] [--calib-method minmax|percentile] [--io float|int8|uint8]
//	edge version
//
// Every command takes --json for machine-readable output. Run
// `edge COMMAND -h` for the flags of a command.
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
	"syscall"
	"time"
)

// version is set at link time (-ldflags "-X main.version=...").
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		// A stop must not hang (a camera read stuck in a driver): after
		// the grace period the process exits anyway.
		<-ctx.Done()
		time.Sleep(shutdownGrace)
		fmt.Fprintf(os.Stderr, "edge: did not stop within %v; exiting\n", shutdownGrace)
		os.Exit(1)
	}()
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// command is one subcommand of the CLI.
type command struct {
	name, summary string
	run           func(ctx context.Context, args []string, out, errOut io.Writer) error
}

func commands() []command {
	return []command{
		{"classify", "classify images with a classification model", runClassify},
		{"detect", "detect objects in images with an SSD model", runDetect},
		{"info", "show a model's tensors, ops, quantization and metadata", runInfo},
		{"run", "run the camera loop: model, rules, GPIO outputs, event log", runDaemon},
		{"bench", "time the pipeline per stage on a file source, against Invoke alone", runBench},
		{"monitor", "watch and command a device over its serial console", runMonitor},
		{"models", "the MobileNet catalog: list, fetch, info, analyze, seed, bench", runModels},
		{"quantize", "post-training int8 quantization of a float model, calibrated on the device's frames", runQuantize},
		{"version", "print the version and the inference engines compiled in", func(_ context.Context, _ []string, out, _ io.Writer) error {
			_, err := fmt.Fprintf(out, "edge %s\nengines: %s\n", version, engines())
			return err
		}},
	}
}

// errUsage marks an error already explained by the flag package's usage output.
var errUsage = errors.New("usage")

// run executes the CLI and returns the process exit code: 0 ok, 1 failure, 2 usage.
func run(ctx context.Context, args []string, out, errOut io.Writer) int {
	slog.SetDefault(slog.New(slog.NewTextHandler(errOut, &slog.HandlerOptions{Level: slog.LevelInfo})))
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(errOut)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	for _, c := range commands() {
		if c.name != args[0] {
			continue
		}
		err := c.run(ctx, args[1:], out, errOut)
		switch {
		case err == nil:
			return 0
		case errors.Is(err, flag.ErrHelp):
			return 0
		case errors.Is(err, errUsage):
			return 2
		}
		fmt.Fprintf(errOut, "edge %s: %v\n", c.name, err)
		return 1
	}
	fmt.Fprintf(errOut, "edge: unknown command %q\n\n", args[0])
	usage(errOut)
	return 2
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: edge COMMAND [flags] [args]")
	fmt.Fprintln(w, "\ncommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-9s %s\n", c.name, c.summary)
	}
}

// parseFlags parses args with fs, turning flag errors into errUsage.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	return nil
}
