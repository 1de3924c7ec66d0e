package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"image/jpeg"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// TestConsoleOnDaemon runs `edge run` with its console on a pty and drives
// it as a user at picocom would: status, stats, a GPIO pulse, the events of
// a fired rule, a snapshot and a reload.
func TestConsoleOnDaemon(t *testing.T) {
	fx := fixtures(t)
	dir := t.TempDir()
	addr := freeAddr(t)
	master, tty, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer master.Close()
	defer tty.Close()
	cfgPath := writeConfig(t, dir, fmt.Sprintf(`
camera: {source: %q, fps: 25}
model: {path: %q, labels: %q, delegate: cpu, threads: 1}
outputs: {relay: {line: 17}}
rules:
  - {name: cup, labels: [cup], min_score: 0.5, cooldown: 1h}
events: {dir: %q}
console: {port: %q, status_every: 300ms}
http: {listen: %q}
`, filepath.Join(fx, "images"), filepath.Join(fx, "models/detection/coco_ssd_mobilenet_v1_1.0_quant_detect.tflite"),
		filepath.Join(fx, "labels/coco_labels_90_coral.txt"), filepath.Join(dir, "events"), tty.Name(), addr))

	pins := &testPins{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serve(ctx, cfgPath, nil, buildOptions{openPin: pins.open, logger: quietLogger()}) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()

	lines := make(chan string, 1000)
	go func() {
		sc := bufio.NewScanner(master)
		for sc.Scan() {
			lines <- strings.TrimRight(sc.Text(), "\r")
		}
		close(lines)
	}()
	// expect reads console lines until one contains want.
	expect := func(want string) string {
		t.Helper()
		deadline := time.After(15 * time.Second)
		var seen []string
		for {
			select {
			case l, ok := <-lines:
				if !ok {
					t.Fatalf("console closed; seen:\n%s", strings.Join(seen, "\n"))
				}
				if strings.Contains(l, want) {
					return l
				}
				seen = append(seen, l)
			case <-deadline:
				t.Fatalf("no %q on the console; seen:\n%s", want, strings.Join(seen, "\n"))
			}
		}
	}
	send := func(cmd string) {
		t.Helper()
		if _, err := master.Write([]byte(cmd + "\r")); err != nil {
			t.Fatal(err)
		}
	}
	expect("fps") // the periodic status line
	send("version")
	expect("edge " + version)
	// The folder loops over coffee.png: the cup rule fires once (cooldown 1h).
	expect("last cup@") // in a status line
	send("events 5")
	expect("rule=cup label=cup score=")
	send("stats")
	expect("invoke ") // a row of the stage table
	send("gpio relay pulse")
	time.Sleep(400 * time.Millisecond)
	if p := pins.get("relay").pulses(); len(p) != 1 {
		t.Errorf("relay pulses after `gpio relay pulse`: %v", p)
	}
	send("gpio siren on")
	expect(`error: gpio siren on: no output "siren" (outputs: [relay])`)
	send("snapshot")
	l := expect("snapshot saved: ")
	path := strings.TrimPrefix(l[strings.Index(l, "snapshot saved: "):], "snapshot saved: ")
	if st, err := os.Stat(path); err != nil || st.Size() == 0 {
		t.Errorf("snapshot %q: %v", path, err)
	}
	send("reload")
	expect("ok: configuration reloaded")
	send("status")
	expect("frames ")

	// The same daemon over HTTP.
	get := func(path string) (int, []byte) {
		t.Helper()
		resp, err := http.Get("http://" + addr + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, b
	}
	if code, body := get("/healthz"); code != 200 {
		t.Errorf("/healthz: %d %s", code, body)
	}
	code, body := get("/metrics")
	if code != 200 {
		t.Fatalf("/metrics: %d", code)
	}
	parser := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := parser.TextToMetricFamilies(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if f := fams["edge_frames_total"]; f == nil || f.Metric[0].GetCounter().GetValue() < 5 {
		t.Errorf("edge_frames_total: %v", f)
	}
	cups := 0.0
	for _, m := range fams["edge_events_total"].GetMetric() {
		for _, l := range m.GetLabel() {
			if l.GetName() == "rule" && l.GetValue() == "cup" {
				cups = m.GetCounter().GetValue()
			}
		}
	}
	if cups != 1 {
		t.Errorf("edge_events_total{rule=\"cup\"} = %v, want 1", cups)
	}
	if f := fams["edge_invoke_seconds"]; f == nil || f.Metric[0].GetHistogram().GetSampleCount() < 5 {
		t.Errorf("edge_invoke_seconds: %v", f)
	}
	code, body = get("/snapshot.jpg")
	if img, err := jpeg.Decode(bytes.NewReader(body)); code != 200 || err != nil || img.Bounds().Dx() == 0 {
		t.Errorf("/snapshot.jpg: %d %v", code, err)
	}
}

// freeAddr is a loopback address with a port free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}
