package console_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/edgeproject/edge/edge/console"
	"github.com/edgeproject/edge/edge/eventlog"
	"github.com/edgeproject/edge/edge/pipeline"
)

func ExampleStatusLine() {
	now := time.Date(2024, 5, 6, 12, 1, 10, 0, time.UTC)
	last := eventlog.Event{Time: now.Add(-5 * time.Second), Rule: "yard", Label: "dog", Score: 0.83}
	fmt.Println(console.StatusLine(now, console.Status{
		Uptime: 62*time.Minute + 7*time.Second, FPS: 14.2, InvokeP50: 54800 * time.Microsecond,
		Dropped: 3, TempC: 51.2, LastEvent: &last,
	}))
	// Just started: no inference, no event, no temperature yet.
	fmt.Println(console.StatusLine(now, console.Status{Uptime: 4 * time.Second}))
	// Output:
	// [edge 12:01:10] up 1h02m fps 14.2 invoke 54.8ms drop 3 temp 51.2C last dog@12:01:05 (0.83)
	// [edge 12:01:10] up 4s fps 0.0 invoke - drop 0
}

// demo is a Daemon with one output, "relay"; package main implements
// Daemon on the running pipeline, event log and outputs.
type demo struct{}

func (demo) Status() console.Status { return console.Status{Uptime: time.Minute, FPS: 15} }
func (demo) Stages() []pipeline.Percentiles {
	return []pipeline.Percentiles{{Stage: "invoke", N: 900, P50MS: 54.8, P95MS: 61.2}}
}
func (demo) Events(n int) ([]eventlog.Event, error) { return nil, nil }
func (demo) GPIO(name, op string) error {
	if name != "relay" {
		return fmt.Errorf("unknown output %q (known: relay)", name)
	}
	return nil
}
func (demo) Reload() error             { return errors.New("edge.yaml: line 3: want a rule list") }
func (demo) Snapshot() (string, error) { return "/var/lib/edge/snapshots/manual.jpg", nil }
func (demo) Version() string           { return "edge v1.4.0" }

// Exec answers a command line without a serial port, as Run does for each
// line typed on the port.
func ExampleConsole_Exec() {
	c, err := console.New(console.Config{Port: "/dev/serial0"}, demo{})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	for _, line := range []string{"version", "gpio relay pulse", "gpio fan on", "reload", "stats", "event 3"} {
		fmt.Printf("> %s\n%s", line, c.Exec(line))
	}
	// Output:
	// > version
	// edge v1.4.0
	// > gpio relay pulse
	// ok: gpio relay pulse
	// > gpio fan on
	// error: gpio fan on: unknown output "fan" (known: relay)
	// > reload
	// error: reload: edge.yaml: line 3: want a rule list
	// > stats
	// stage             n    p50 ms    p95 ms
	// invoke          900     54.80     61.20
	// > event 3
	// error: unknown command "event" (try help)
}

// Run serves the console until its context ends, reopening the port
// whenever it is missing or lost; the daemon runs it beside the pipeline.
func ExampleConsole_Run() {
	c, err := console.New(console.Config{Port: "/dev/serial0", StatusEvery: 30 * time.Second}, demo{})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	if err := c.Run(ctx); err != nil {
		log.Fatal(err)
	}
}
