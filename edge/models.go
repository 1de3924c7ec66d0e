package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/edgeproject/edge/models"
	"github.com/edgeproject/edge/models/arch"
	archbench "github.com/edgeproject/edge/models/bench"
	"github.com/edgeproject/edge/tflite"
)

// runModels is `edge models list|fetch NAME|info NAME|analyze [MODEL...]|bench`.
func runModels(ctx context.Context, args []string, out, errOut io.Writer) error {
	usage := func() error {
		fmt.Fprintln(errOut, `usage: edge models list
       edge models fetch [--dir DIR] NAME...
       edge models info [--dir DIR] NAME
       edge models analyze [--dir DIR] [MODEL.tflite | catalog name | v1 | v2 | v3-large | v3-small]...
       edge models seed            the MobileNet table (params, MAdds) reproduced from built graphs
       edge models bench [--delegate D] [--threads N] [--runs N] [--svg FILE]`)
		return errUsage
	}
	if len(args) == 0 {
		return usage()
	}
	fs := flag.NewFlagSet("models "+args[0], flag.ContinueOnError)
	fs.SetOutput(errOut)
	dir := fs.String("dir", models.DefaultDir(), "models directory")
	asJSON := fs.Bool("json", false, "print JSON")
	switch args[0] {
	case "list":
		if err := parseFlags(fs, args[1:]); err != nil {
			return err
		}
		if *asJSON {
			return writeJSON(out, models.Catalog())
		}
		return models.WriteCatalog(out, models.Catalog())
	case "fetch":
		if err := parseFlags(fs, args[1:]); err != nil {
			return err
		}
		if fs.NArg() == 0 {
			return errors.New("fetch: name a model (edge models list shows them)")
		}
		for _, name := range fs.Args() {
			e, err := models.Lookup(name)
			if err != nil {
				return err
			}
			path, err := models.Fetch(ctx, e, *dir, errOut)
			if err != nil {
				return err
			}
			fmt.Fprintln(out, path)
		}
		return nil
	case "info":
		if err := parseFlags(fs, args[1:]); err != nil {
			return err
		}
		if fs.NArg() != 1 {
			return errors.New("info: name one model")
		}
		e, err := models.Lookup(fs.Arg(0))
		if err != nil {
			return err
		}
		d, err := models.InfoIn(e, *dir)
		if err != nil {
			return err
		}
		if *asJSON {
			return writeJSON(out, d)
		}
		_, err = fmt.Fprint(out, d)
		return err
	case "analyze":
		if err := parseFlags(fs, args[1:]); err != nil {
			return err
		}
		reports, err := models.AnalyzeArgs(fs.Args(), *dir)
		if err != nil {
			return err
		}
		if *asJSON {
			return writeJSON(out, reports)
		}
		for _, r := range reports {
			if err := r.WriteTable(out); err != nil {
				return err
			}
			fmt.Fprintln(out)
		}
		return nil
	case "seed":
		if err := parseFlags(fs, args[1:]); err != nil {
			return err
		}
		rows, err := models.SeedTable()
		if err != nil {
			return err
		}
		return models.WriteSeedTable(out, rows)
	case "bench":
		return runModelsBench(ctx, fs, args[1:], out)
	}
	fmt.Fprintf(errOut, "edge models: unknown subcommand %q\n", args[0])
	return usage()
}

// runModelsBench times the MobileNet architectures, built as int8 graphs,
// on every delegate and thread count asked for, and draws the chart.
func runModelsBench(ctx context.Context, fs *flag.FlagSet, args []string, out io.Writer) error {
	delegates := fs.String("delegate", "cpu,xnnpack", "delegates, comma-separated")
	threads := fs.String("threads", "1,2", "thread counts, comma-separated")
	runs := fs.Int("runs", 10, "timed invocations per model")
	svg := fs.String("svg", "", "write a bar chart of the median latencies here")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if _, ok := tflite.CLibrary(); !ok {
		return errors.New("bench needs the TFLite C library (it times TFLite's CPU kernels and delegates), and this edge was built without it (tag nolibtflite); `edge bench --config FILE` times the pipeline on the Go engine")
	}
	var chart models.Chart
	chart.Title = "MobileNet latency on this machine (TFLite 2.9, int8, median)"
	chart.Unit = "ms"
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "arch\tparams\tMAdds\tdelegate\tthreads\tmedian ms\tp90 ms\tdelegation\t")
	for _, ds := range strings.Split(*delegates, ",") {
		d, err := tflite.ParseDelegate(ds)
		if err != nil {
			return fmt.Errorf("--delegate: %w", err)
		}
		for _, ts := range strings.Split(*threads, ",") {
			var n int
			if _, err := fmt.Sscan(ts, &n); err != nil || n < 1 {
				return fmt.Errorf("--threads: %q is not a thread count", ts)
			}
			res, err := archbench.Run(ctx, archbench.Options{Build: arch.Options{}, Delegate: d, Threads: n, Runs: *runs})
			if err != nil {
				return err
			}
			for _, r := range res {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%.1f\t%.1f\t%s\t\n", r.Arch, models.Millions(r.Params), models.Millions(r.MAdds),
					d, n, msf(r.Median), msf(r.P90), r.Delegation)
				chart.Bars = append(chart.Bars, models.Bar{Label: fmt.Sprintf("%s %s ×%d", r.Arch, d, n), Value: msf(r.Median)})
			}
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if *svg == "" {
		return nil
	}
	f, err := os.Create(*svg)
	if err != nil {
		return err
	}
	if err := chart.WriteSVG(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func msf(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
