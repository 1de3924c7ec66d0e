package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"gocv.io/x/gocv"
	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpiotest"

	"github.com/edgeproject/edge/edge/config"
)

// recordingPin is an in-memory GPIO line that remembers every level it was
// driven to, with the time.
type recordingPin struct {
	gpiotest.Pin
	mu     sync.Mutex
	levels []gpio.Level
	times  []time.Time
}

func (p *recordingPin) Out(l gpio.Level) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.levels = append(p.levels, l)
	p.times = append(p.times, time.Now())
	return nil
}

// pulses returns the widths of the High periods seen so far.
func (p *recordingPin) pulses() []time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	var widths []time.Duration
	var since time.Time
	high := false
	for i, l := range p.levels {
		switch {
		case l == gpio.High && !high:
			high, since = true, p.times[i]
		case l == gpio.Low && high:
			high = false
			widths = append(widths, p.times[i].Sub(since))
		}
	}
	return widths
}

// testPins hands out recording pins by output name.
type testPins struct {
	mu   sync.Mutex
	pins map[string]*recordingPin
}

func (tp *testPins) open(name string, _ config.Output) (gpio.PinOut, error) {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	if tp.pins == nil {
		tp.pins = map[string]*recordingPin{}
	}
	p := &recordingPin{Pin: gpiotest.Pin{N: name}}
	tp.pins[name] = p
	return p, nil
}

func (tp *testPins) get(name string) *recordingPin {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	return tp.pins[name]
}

// makeVideo writes an MJPG .avi of n1 frames of img1 then n2 of img2, 320×240.
func makeVideo(t *testing.T, path, img1 string, n1 int, img2 string, n2 int) {
	t.Helper()
	w, err := gocv.VideoWriterFile(path, "MJPG", 10, 320, 240, true)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	for _, part := range []struct {
		path string
		n    int
	}{{img1, n1}, {img2, n2}} {
		src := gocv.IMRead(part.path, gocv.IMReadColor)
		if src.Empty() {
			t.Fatalf("cannot read %s", part.path)
		}
		dst := gocv.NewMat()
		gocv.Resize(src, &dst, image320x240, 0, 0, gocv.InterpolationArea)
		for i := 0; i < part.n; i++ {
			if err := w.Write(dst); err != nil {
				t.Fatal(err)
			}
		}
		src.Close()
		dst.Close()
	}
}

var image320x240 = image.Pt(320, 240)

func writeConfig(t *testing.T, dir, text string) string {
	t.Helper()
	p := filepath.Join(dir, "edge.yaml")
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

type event struct {
	Rule, Label string
	Score       float64
	Frame       uint64
	Box         *struct{ XMin, YMin, XMax, YMax float64 }
	Snapshot    string
}

func readEvents(t *testing.T, dir string) []event {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, "events.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var evs []event
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var e event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("event line %q: %v", sc.Text(), err)
		}
		evs = append(evs, e)
	}
	return evs
}

func quietLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

// TestPipelineFiresOnce runs the real pipeline on a video of 30 frames of
// coffee.png then 30 of pets.jpg: the "dog" rule (3 of 5 frames) fires
// exactly once, a few frames into the dogs; the relay sees one pulse of the
// configured width; the event log has that one line, with a snapshot.
func TestPipelineFiresOnce(t *testing.T) {
	needCLibrary(t)
	fx := fixtures(t)
	dir := t.TempDir()
	video := filepath.Join(dir, "coffee_then_dogs.avi")
	makeVideo(t, video, filepath.Join(fx, "images/coffee.png"), 30, filepath.Join(fx, "images/pets.jpg"), 30)

	for _, tc := range []struct {
		name, model, labels, rule string
		engine                    string
		selfTest                  bool
		firstFrame, lastFrame     uint64
		relayPulses               []time.Duration // about
	}{
		{"ssd", "models/detection/coco_ssd_mobilenet_v1_1.0_quant_detect.tflite", "labels/coco_labels_90_coral.txt",
			"{name: dog-seen, labels: [dog], min_score: 0.5, debounce: {n: 3, m: 5}, cooldown: 1m, snapshot: true, actions: [{output: relay, pulse: 120ms}, {output: lamp, mode: hold}]}",
			"tflite", false, 33, 36, []time.Duration{120 * time.Millisecond}},
		{"ssd-go-engine", "models/detection/coco_ssd_mobilenet_v1_1.0_quant_detect.tflite", "labels/coco_labels_90_coral.txt",
			"{name: dog-seen, labels: [dog], min_score: 0.5, debounce: {n: 3, m: 5}, cooldown: 1m, snapshot: true, actions: [{output: relay, pulse: 120ms}, {output: lamp, mode: hold}]}",
			"go", false, 33, 36, []time.Duration{120 * time.Millisecond}},
		{"classifier", "models/classification/mobilenet_v2_1.0_224_quant.tflite", "labels/imagenet_labels_1001_coral.txt",
			"{name: espresso, labels: [espresso], min_score: 0.5, debounce: {n: 3, m: 5}, cooldown: 1m, actions: [{output: relay, pulse: 120ms}, {output: lamp, mode: hold}]}",
			"tflite", true, 3, 3, []time.Duration{200 * time.Millisecond, 120 * time.Millisecond}}, // self-test pulse first
	} {
		t.Run(tc.name, func(t *testing.T) {
			events := filepath.Join(dir, tc.name+"-events")
			cfgPath := writeConfig(t, t.TempDir(), fmt.Sprintf(`
camera: {source: %q, loop: false}
model: {path: %q, labels: %q, delegate: cpu, threads: 2, min_score: 0.4, engine: %s}
outputs: {relay: {line: 17}, lamp: {line: 18, active_low: true}}
rules:
  - %s
events: {dir: %q, snapshots: true}
self_test: %v
http: {listen: "127.0.0.1:0"}
`, video, filepath.Join(fx, tc.model), filepath.Join(fx, tc.labels), tc.engine, tc.rule, events, tc.selfTest))
			goroutines := runtime.NumGoroutine()
			mats := gocv.MatProfile.Count()
			pins := &testPins{}
			start := time.Now()
			if err := serve(context.Background(), cfgPath, nil, buildOptions{openPin: pins.open, logger: quietLogger()}); err != nil {
				t.Fatal(err)
			}
			t.Logf("60 frames in %v", time.Since(start))

			evs := readEvents(t, events)
			if len(evs) != 1 {
				t.Fatalf("%d events, want 1: %+v", len(evs), evs)
			}
			e := evs[0]
			if e.Frame < tc.firstFrame || e.Frame > tc.lastFrame || e.Score < 0.5 {
				t.Errorf("event %+v: want frame %d..%d (debounce 3 of 5), score >= 0.5", e, tc.firstFrame, tc.lastFrame)
			}
			if strings.HasPrefix(tc.name, "ssd") {
				if e.Label != "dog" || e.Box == nil || e.Snapshot == "" {
					t.Errorf("event %+v: want a dog with a box and a snapshot", e)
				} else if _, err := os.Stat(filepath.Join(events, "snapshots", filepath.Base(e.Snapshot))); err != nil {
					t.Errorf("snapshot: %v", err)
				}
			}
			// The pulse ends on its own goroutine; the output was closed
			// with the daemon, which drives it inactive.
			widths := pins.get("relay").pulses()
			ok := len(widths) == len(tc.relayPulses)
			for i := 0; ok && i < len(widths); i++ {
				ok = widths[i] >= tc.relayPulses[i]-20*time.Millisecond && widths[i] <= tc.relayPulses[i]+300*time.Millisecond
			}
			if !ok {
				t.Errorf("relay pulses %v, want about %v", widths, tc.relayPulses)
			}
			// The lamp is active-low and held while the rule is active: it
			// idles High, goes Low once (after the self-test pulse, if any)
			// and is High again when the pipeline stops.
			lamp := pins.get("lamp")
			lamp.mu.Lock()
			var levels []gpio.Level // changes only: Close drives the idle level again
			for _, l := range lamp.levels {
				if len(levels) == 0 || levels[len(levels)-1] != l {
					levels = append(levels, l)
				}
			}
			lamp.mu.Unlock()
			want := "[High Low High]"
			if tc.selfTest {
				want = "[High Low High Low High]"
			}
			if got := fmt.Sprint(levels); got != want {
				t.Errorf("lamp levels %s, want %s", got, want)
			}
			waitGoroutines(t, goroutines)
			if n := gocv.MatProfile.Count(); n != mats {
				t.Errorf("gocv Mats: %d before, %d after", mats, n)
			}
		})
	}
}

// waitGoroutines fails if the goroutine count does not come back to n.
func waitGoroutines(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for runtime.NumGoroutine() > n {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("%d goroutines, %d before:\n%s", runtime.NumGoroutine(), n, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestReloadKeepsOldConfig: a SIGHUP with a broken file keeps the running
// pipeline; a valid one replaces it; cancel stops it within 2 s.
func TestReloadKeepsOldConfig(t *testing.T) {
	fx := fixtures(t)
	dir := t.TempDir()
	good := fmt.Sprintf(`
camera: {source: %q, fps: 20}
model: {path: %q, labels: %q, delegate: cpu}
http: {listen: "127.0.0.1:0"}
`, filepath.Join(fx, "images"), filepath.Join(fx, "models/classification/mobilenet_v1_0.25_128_quant.tflite"), filepath.Join(fx, "labels/imagenet_labels_1001_coral.txt"))
	cfgPath := writeConfig(t, dir, good)

	var logs strings.Builder
	var mu sync.Mutex
	logger := slog.New(slog.NewTextHandler(writerFunc(func(b []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return logs.Write(b)
	}), nil))
	logText := func() string {
		mu.Lock()
		defer mu.Unlock()
		return logs.String()
	}
	waitFor := func(what string) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for !strings.Contains(logText(), what) {
			if time.Now().After(deadline) {
				t.Fatalf("no %q in log:\n%s", what, logText())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	goroutines := runtime.NumGoroutine()
	ctx, cancel := context.WithCancel(context.Background())
	reload := make(chan struct{}, 1)
	done := make(chan error, 1)
	go func() { done <- serve(ctx, cfgPath, reload, buildOptions{logger: logger}) }()
	waitFor("edge running")

	writeConfig(t, dir, good+"rules: [{name: x, labels: []}]\n")
	reload <- struct{}{}
	waitFor("reload: keeping the running config")
	if !strings.Contains(logText(), "edge.yaml:") || strings.Contains(logText(), "reload: new config") {
		t.Errorf("log:\n%s", logText())
	}

	writeConfig(t, dir, strings.Replace(good, "fps: 20", "fps: 30", 1))
	reload <- struct{}{}
	waitFor("reload: new config running")

	stopAt := time.Now()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("serve: %v", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("serve did not stop within 2 s")
	}
	t.Logf("stopped in %v", time.Since(stopAt))
	waitGoroutines(t, goroutines)
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(b []byte) (int, error) { return f(b) }

// TestBenchCommand runs `edge bench` on the fixture photos: every stage is
// reported and the ratio is pipeline fps over Invoke fps, measured together.
func TestBenchCommand(t *testing.T) {
	fx := fixtures(t)
	code, out, errOut := edge(t, "bench", "--json", "--frames", "12", "--threads", "1",
		"--model", filepath.Join(fx, "models/classification/mobilenet_v1_0.25_128_quant.tflite"),
		"--labels", filepath.Join(fx, "labels/imagenet_labels_1001_coral.txt"),
		"--source", filepath.Join(fx, "images"))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var rep benchReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if rep.Frames != 12 || rep.PipelineFPS <= 0 || rep.InvokeFPS <= 0 || rep.Ratio != rep.PipelineFPS/rep.InvokeFPS {
		t.Errorf("report %+v", rep)
	}
	stages := map[string]bool{}
	for _, s := range rep.Stages {
		if s.N == 0 || s.P95MS < s.P50MS {
			t.Errorf("stage %+v", s)
		}
		stages[s.Stage] = true
	}
	for _, want := range []string{"capture", "preprocess", "invoke", "postprocess", "actions", "total"} {
		if !stages[want] {
			t.Errorf("no %s stage in %+v", want, rep.Stages)
		}
	}
	if code, _, errOut := edge(t, "bench", "--model", "m.tflite", "--source", "/dev/video0"); code != 1 || !strings.Contains(errOut, "live source") {
		t.Errorf("bench on a camera: exit %d: %s", code, errOut)
	}
}

// TestRunBadConfig: `edge run` refuses a bad config with file:line: key.
func TestRunBadConfig(t *testing.T) {
	dir := t.TempDir()
	p := writeConfig(t, dir, "camera: {source: /dev/video0}\nmodel: {path: m.tflite, delegate: gpu}\n")
	code, _, errOut := edge(t, "run", "--config", p)
	if code != 1 || !strings.Contains(errOut, p+":2: model.delegate: \"gpu\"") {
		t.Errorf("exit %d: %s", code, errOut)
	}
	p = writeConfig(t, dir, "camera: {source: "+dir+"}\nmodel: {path: "+filepath.Join(dir, "missing.tflite")+"}\n")
	if code, _, errOut := edge(t, "run", "--config", p); code != 1 || !strings.Contains(errOut, "missing.tflite") {
		t.Errorf("missing model: exit %d: %s", code, errOut)
	}
}
