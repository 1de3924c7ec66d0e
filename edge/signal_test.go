package main

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestSIGTERMStopsWithin2s builds the edge binary, runs `edge run` on a
// looping folder of photos, sends SIGHUP (with the config unchanged) and
// then SIGTERM, and wants a clean exit (status 0) within 2 s of SIGTERM.
func TestSIGTERMStopsWithin2s(t *testing.T) {
	fx := fixtures(t)
	dir := t.TempDir()
	bin := filepath.Join(dir, "edge")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	cfg := writeConfig(t, dir, fmt.Sprintf(`
camera: {source: %q, fps: 30}
model: {path: %q, labels: %q, delegate: cpu, threads: 1}
rules:
  - {name: cup, labels: [cup], min_score: 0.5}
events: {dir: %q}
http: {listen: "127.0.0.1:0"}
`, filepath.Join(fx, "images"), filepath.Join(fx, "models/detection/coco_ssd_mobilenet_v1_1.0_quant_detect.tflite"),
		filepath.Join(fx, "labels/coco_labels_90_coral.txt"), filepath.Join(dir, "events")))
	// A systemd notify socket: edge must say READY=1, feed the watchdog
	// and say STOPPING=1.
	sock := filepath.Join(dir, "notify.sock")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	notes := &syncBuffer{}
	go func() {
		buf := make([]byte, 4096)
		for {
			n, _, err := conn.ReadFromUnix(buf)
			if err != nil {
				return
			}
			notes.Write(append(buf[:n:n], '\n'))
		}
	}()

	stderr := &syncBuffer{}
	cmd := exec.Command(bin, "run", "--config", cfg)
	cmd.Env = append(os.Environ(), "NOTIFY_SOCKET="+sock, "WATCHDOG_USEC=1000000")
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitLog := func(what string) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for !strings.Contains(stderr.String(), what) {
			if time.Now().After(deadline) {
				cmd.Process.Kill()
				t.Fatalf("no %q in:\n%s", what, stderr.String())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	waitLog("rule fired") // coffee.png: a cup
	if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitLog("reload: new config running")
	start := time.Now()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("exit: %v\n%s", err, stderr.String())
		}
		t.Logf("stopped %v after SIGTERM", time.Since(start))
	case <-time.After(2 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("still running 2 s after SIGTERM:\n%s", stderr.String())
	}
	if !strings.Contains(stderr.String(), "edge stopped") {
		t.Errorf("no clean-stop line:\n%s", stderr.String())
	}
	n := notes.String()
	for _, want := range []string{"READY=1", "WATCHDOG=1", "RELOADING=1", "STOPPING=1"} {
		if !strings.Contains(n, want) {
			t.Errorf("notify socket got no %s:\n%s", want, n)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "events", "events.jsonl")); err != nil {
		t.Errorf("event log: %v", err)
	}
}

// syncBuffer is a bytes.Buffer safe for the writer goroutine of exec and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
