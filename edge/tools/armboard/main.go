// Command armboard proves the arm64 edge binary on an emulated board:
// qemu-system-aarch64 -M virt -cpu cortex-a57 (TCG) boots Debian's arm64
// kernel with an initramfs holding busybox, the edge binary, every shared
// library it loads (from the cross-compile sysroot), the TFLite C library
// in /usr/lib/edge (found through the binary's rpath, as the .deb installs
// it), two fixture models and a folder of three photos.
//
// In the guest, edge classifies and detects the photos, then `edge run`
// watches the folder with a rule that holds a GPIO line of the virt
// board's PL061 (/dev/gpiochip0) high while it sees an espresso. The
// guest prints what it saw on the serial console (ttyAMA0); armboard
// reads it and checks the labels, that the line was driven high by edge
// (the kernel's own view, /sys/kernel/debug/gpio), the event log, a clean
// stop on SIGTERM, and the line's release.
//
// While edge runs, its serial console (edge/console) serves the same
// ttyAMA0: armboard types version, status and events on it, as an
// operator would with picocom, reads the answers, and last types
// "gpio ack on", which edge drives on a second PL061 line; the guest sees
// that line go high in debugfs and only then stops edge.
//
//	go run ./edge/tools/armboard        # after ./cross-compile.sh arm64 and ./cross-compile.sh board arm64
//
// It exits 0 when every check passes, 1 otherwise.
package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"
)

func main() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "armboard:", err)
		os.Exit(1)
	}
}

// board is one emulated-board run.
type board struct {
	kernel, busybox, sysroot, binary, tfliteLib, fixtures string
	qemu                                                  string
	gpioLine, ackLine                                     int
	timeout                                               time.Duration
	keep                                                  string
}

func run(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("armboard", flag.ContinueOnError)
	fs.SetOutput(out)
	var b board
	fs.StringVar(&b.kernel, "kernel", "third_party/sysroot/board-arm64/vmlinuz", "Debian arm64 kernel (./cross-compile.sh board arm64)")
	fs.StringVar(&b.busybox, "busybox", "third_party/sysroot/board-arm64/busybox", "static arm64 busybox")
	fs.StringVar(&b.sysroot, "sysroot", "third_party/sysroot/arm64", "arm64 sysroot with the shared libraries")
	fs.StringVar(&b.binary, "binary", "bin/linux_arm64/edge", "arm64 edge binary (./cross-compile.sh arm64)")
	fs.StringVar(&b.tfliteLib, "tflite-lib", "third_party/tflite/linux_arm64/libtensorflowlite_c.so", "arm64 TFLite C library")
	fs.StringVar(&b.fixtures, "fixtures", os.Getenv("EDGE_FIXTURES"), "fixture directory (default $EDGE_FIXTURES)")
	fs.StringVar(&b.qemu, "qemu", "qemu-system-aarch64", "QEMU system emulator")
	fs.IntVar(&b.gpioLine, "gpio-line", 5, "PL061 line edge drives (virt wires line 3 to the power button)")
	fs.IntVar(&b.ackLine, "ack-line", 6, "PL061 line the host drives through edge's serial console")
	fs.DurationVar(&b.timeout, "timeout", 6*time.Minute, "limit for the whole boot")
	fs.StringVar(&b.keep, "keep", "", "directory to keep the initramfs and console log in")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if b.fixtures == "" {
		return errors.New("no fixtures: set EDGE_FIXTURES or --fixtures")
	}
	for _, l := range []struct {
		flag string
		n    int
	}{{"--gpio-line", b.gpioLine}, {"--ack-line", b.ackLine}} {
		if l.n < 0 || l.n > 7 || l.n == 3 {
			return fmt.Errorf("%s %d: the PL061 has lines 0..7, and line 3 is the power button", l.flag, l.n)
		}
	}
	if b.gpioLine == b.ackLine {
		return fmt.Errorf("--gpio-line and --ack-line are both %d", b.gpioLine)
	}
	dir := b.keep
	if dir == "" {
		tmp, err := os.MkdirTemp("", "armboard")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}

	start := time.Now()
	initrd := filepath.Join(dir, "initramfs.cpio")
	size, nlibs, err := b.initramfs(initrd)
	if err != nil {
		return fmt.Errorf("initramfs: %w", err)
	}
	fmt.Fprintf(out, "armboard: initramfs %s: %.0f MB, %d shared libraries (%v)\n", initrd, float64(size)/1e6, nlibs, time.Since(start).Round(time.Millisecond))

	console, err := b.boot(ctx, initrd, out)
	if keepErr := b.keepConsole(dir, console); keepErr != nil && err == nil {
		err = keepErr
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "armboard: guest done in %v\n", time.Since(start).Round(time.Second))
	var failed []string
	for _, c := range check(console, b.gpioLine, b.ackLine) {
		status := "ok  "
		if c.err != nil {
			status = "FAIL"
			failed = append(failed, c.name)
		}
		fmt.Fprintf(out, "armboard: %s %s", status, c.name)
		if c.err != nil {
			fmt.Fprintf(out, ": %v", c.err)
		} else if c.detail != "" {
			fmt.Fprintf(out, ": %s", c.detail)
		}
		fmt.Fprintln(out)
	}
	if len(failed) > 0 {
		return fmt.Errorf("%d checks failed: %s", len(failed), strings.Join(failed, ", "))
	}
	fmt.Fprintln(out, "armboard: PASS")
	return nil
}

func (b *board) keepConsole(dir string, console []byte) error {
	if b.keep == "" {
		return nil
	}
	return os.WriteFile(filepath.Join(dir, "console.log"), console, 0o644)
}

// Guest paths.
const (
	guestClassifyModel  = "/data/classify.tflite"
	guestClassifyLabels = "/data/imagenet_labels.txt"
	guestDetectModel    = "/data/detect.tflite"
	guestDetectLabels   = "/data/coco_labels.txt"
	guestPhotos         = "/data/photos"
	guestConfig         = "/etc/edge/edge.yaml"
	guestEvents         = "/tmp/events"
	// guestSerial is the virt board's PL011 UART: the kernel console, the
	// init script's output and edge's serial console share it.
	guestSerial = "/dev/ttyAMA0"
)

// photos are the fixture images copied into the guest's photo folder.
var photos = []string{"coffee.png", "parrot.jpg", "grace_hopper.png"}

// initramfs writes the guest's root file system and returns its size and
// the number of shared libraries in it.
func (b *board) initramfs(dst string) (int64, int, error) {
	triplet := "aarch64-linux-gnu"
	sr := sysroot{root: b.sysroot, triplet: triplet}
	libs, err := sr.libClosure(map[string]string{
		"/usr/bin/edge":                        b.binary,
		"/usr/lib/edge/libtensorflowlite_c.so": b.tfliteLib,
	})
	if err != nil {
		return 0, 0, err
	}
	f, err := os.Create(dst)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	w := bufio.NewWriterSize(f, 1<<20)
	c := newCPIO(w)
	for _, d := range []string{"bin", "sbin", "usr/bin", "usr/sbin", "proc", "sys", "dev", "tmp", "etc/edge", "run", "root"} {
		c.Dir(d)
	}
	files := map[string]string{ // guest → host
		"/bin/busybox":      b.busybox,
		"/usr/bin/edge":     b.binary,
		guestClassifyModel:  filepath.Join(b.fixtures, "models/classification/mobilenet_v1_0.25_128_quant.tflite"),
		guestClassifyLabels: filepath.Join(b.fixtures, "labels/imagenet_labels_1001_coral.txt"),
		guestDetectModel:    filepath.Join(b.fixtures, "models/detection/coco_ssd_mobilenet_v1_1.0_quant_detect.tflite"),
		guestDetectLabels:   filepath.Join(b.fixtures, "labels/coco_labels_90_coral.txt"),
	}
	for _, p := range photos {
		files[guestPhotos+"/"+p] = filepath.Join(b.fixtures, "images", p)
	}
	for g, h := range libs {
		files[g] = h
	}
	guests := make([]string, 0, len(files))
	for g := range files {
		guests = append(guests, g)
	}
	sort.Strings(guests)
	for _, g := range guests {
		data, err := os.ReadFile(files[g])
		if err != nil {
			return 0, 0, err
		}
		perm := os.FileMode(0o644)
		if strings.HasPrefix(g, "/bin/") || strings.HasPrefix(g, "/usr/bin/") || strings.Contains(g, ".so") {
			perm = 0o755
		}
		c.File(g, perm, data)
	}
	c.Symlink("/bin/sh", "busybox")
	c.File(guestConfig, 0o644, []byte(b.config()))
	c.File("/init", 0o755, []byte(b.initScript()))
	if err := c.Close(); err != nil {
		return 0, 0, err
	}
	if err := w.Flush(); err != nil {
		return 0, 0, err
	}
	fi, err := f.Stat()
	if err != nil {
		return 0, 0, err
	}
	return fi.Size(), len(libs), f.Close()
}

// config is the guest's edge.yaml: the photo folder as the camera, the
// classifier, and a rule that holds the GPIO line while an espresso is seen.
func (b *board) config() string {
	return fmt.Sprintf(`# armboard: edge run on the emulated board
camera:
  source: %s/
  fps: 4
model:
  path: %s
  labels: %s
  delegate: cpu
  threads: 2
outputs:
  lamp:
    chip: gpiochip0
    line: %d
  ack:                     # driven by the host, typing on the serial console
    chip: gpiochip0
    line: %d
rules:
  - name: espresso-lamp
    labels: [espresso]
    min_score: 0.5
    min_hold: 60s
    actions:
      - output: lamp
        mode: hold
events:
  dir: %s
self_test: false
http:
  listen: "off"
console:
  port: %s
  baud: 115200
  status_every: 5s
`, guestPhotos, guestClassifyModel, guestClassifyLabels, b.gpioLine, b.ackLine, guestEvents, guestSerial)
}

// marker starts every line the guest's init prints for the host.
const marker = "EDGE-BOARD:"

// initScript runs in the guest: mounts, edge classify and detect, then
// edge run while watching the GPIO line in debugfs, then power off.
func (b *board) initScript() string {
	return fmt.Sprintf(`#!/bin/busybox sh
/bin/busybox --install -s
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t debugfs debugfs /sys/kernel/debug
mount -t tmpfs tmpfs /tmp
ip link set lo up
M=%[1]q
say() { echo "$M $*"; }
say "kernel $(uname -r) $(uname -m) cpus $(grep -c ^processor /proc/cpuinfo)"
say "gpiochips $(ls /dev/gpiochip* 2>&1 | tr '\n' ' ')"
say "version $(/usr/bin/edge version 2>&1)"

edge classify --json --top 3 --model %[2]s --labels %[3]s %[4]s/*.png %[4]s/*.jpg >/tmp/classify.json 2>/tmp/classify.err
say "classify rc=$? $(tr -d '\n' </tmp/classify.json)"
cat /tmp/classify.err
edge detect --json --model %[5]s --labels %[6]s %[4]s/grace_hopper.png >/tmp/detect.json 2>/tmp/detect.err
say "detect rc=$? $(tr -d '\n' </tmp/detect.json)"
cat /tmp/detect.err

edge run --config %[7]s >/tmp/run.log 2>&1 &
pid=$!
# wait_gpio PATTERN waits up to 2 minutes for a line of debugfs's GPIO
# dump to match (1 if edge exits first); n counts the half seconds.
wait_gpio() {
	n=0
	while [ $n -lt 240 ]; do
		if grep -q "$1" /sys/kernel/debug/gpio 2>/dev/null; then return 0; fi
		if ! kill -0 $pid 2>/dev/null; then return 1; fi
		sleep 0.5
		n=$((n+1))
	done
	return 1
}
seen=no
wait_gpio '|edge *) out hi' && seen=1
say "gpio-while-running $(tr '\n' ';' </sys/kernel/debug/gpio)"
say "gpio-seen $seen after $((n/2))s"

# edge's console now owns this serial line: the host types on it and ends
# with "gpio ack on". Quiet until the ack line goes high (or edge exits).
base=$(sed -n 's/.*gpiochip0: GPIOs \([0-9]*\)-.*/\1/p' /sys/kernel/debug/gpio)
ackgpio=$((base + %[9]d))
say "console-ready gpio-$ackgpio"
ack=no
wait_gpio "gpio-$ackgpio (.*|edge *) out hi" && ack=1
say "ack-seen $ack after $((n/2))s $(tr '\n' ';' </sys/kernel/debug/gpio)"
kill -TERM $pid 2>/dev/null
wait $pid
say "run rc=$?"
say "gpio-after-stop $(tr '\n' ';' </sys/kernel/debug/gpio)"
say "events $(tr '\n' ';' <%[8]s/events.jsonl 2>&1)"
sed 's/^/run.log: /' /tmp/run.log | tail -n 40
say "done"
poweroff -f
`, marker, guestClassifyModel, guestClassifyLabels, guestPhotos, guestDetectModel, guestDetectLabels, guestConfig, guestEvents, b.ackLine)
}

// boot runs QEMU until the guest powers off (or the timeout), echoing
// the console and holding the console conversation (converse), and
// returns everything the console printed.
func (b *board) boot(ctx context.Context, initrd string, out io.Writer) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, b.timeout)
	defer cancel()
	args := []string{
		"-M", "virt", "-cpu", "cortex-a57", "-smp", "2", "-m", "2048",
		"-display", "none", "-monitor", "none", "-serial", "stdio", "-no-reboot", "-nic", "none",
		"-kernel", b.kernel, "-initrd", initrd,
		"-append", "console=ttyAMA0 rdinit=/init panic=-1 quiet loglevel=3",
	}
	cmd := exec.CommandContext(ctx, b.qemu, args...)
	fmt.Fprintf(out, "armboard: %s %s\n", b.qemu, strings.Join(args, " "))
	var console bytes.Buffer
	pr, pw := io.Pipe()
	cmd.Stdout = pw
	cmd.Stderr = pw
	typing, err := cmd.StdinPipe() // the serial line's receive side
	if err != nil {
		return nil, err
	}
	lines := make(chan string, 1024)
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer close(lines)
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 1<<20), 1<<24)
		for sc.Scan() {
			line := strings.TrimRight(sc.Text(), "\r")
			console.WriteString(line + "\n")
			fmt.Fprintf(out, "guest| %s\n", shorten(line, 300))
			select {
			case lines <- line:
			default: // nobody is waiting for this one
			}
		}
		io.Copy(io.Discard, pr)
	}()
	talked := make(chan struct{})
	go func() {
		defer close(talked)
		converse(ctx, lines, typing, out)
	}()
	err = cmd.Run()
	pw.Close()
	<-done
	<-talked
	if ctx.Err() != nil {
		return console.Bytes(), fmt.Errorf("the guest did not power off within %v", b.timeout)
	}
	if err != nil {
		return console.Bytes(), fmt.Errorf("%s: %w", b.qemu, err)
	}
	return console.Bytes(), nil
}

// An exchange is one command typed on edge's serial console and a line
// its answer must contain.
type exchange struct {
	send string
	want *regexp.Regexp
}

// conversation is what the host types once the guest says console-ready:
// what an operator at picocom would check, then the ack that lets the
// guest go on.
var conversation = []exchange{
	{"version", regexp.MustCompile(`^edge \S+`)},
	{"status", statusRE},
	{"events 5", regexp.MustCompile(`espresso-lamp`)},
	{"gpio ack on", regexp.MustCompile(`^ok: gpio ack on`)},
}

// converse waits for the guest's console-ready marker on lines, then types
// each command of the conversation (w is the serial line into the guest)
// and waits up to a minute for its answer. It does not judge: check reads
// the answers from the console afterwards.
func converse(ctx context.Context, lines <-chan string, w io.WriteCloser, out io.Writer) {
	defer w.Close()
	wait := func(re *regexp.Regexp, limit time.Duration) bool {
		t := time.NewTimer(limit)
		defer t.Stop()
		for {
			select {
			case l, ok := <-lines:
				if !ok {
					return false
				}
				if re.MatchString(l) {
					return true
				}
			case <-t.C:
				return false
			case <-ctx.Done():
				return false
			}
		}
	}
	if !wait(regexp.MustCompile(regexp.QuoteMeta(marker+" console-ready")), 24*time.Hour) {
		return
	}
	for _, x := range conversation {
		fmt.Fprintf(out, "armboard: typing %q on the guest's serial console\n", x.send)
		if _, err := io.WriteString(w, x.send+"\r"); err != nil {
			fmt.Fprintf(out, "armboard: serial console: %v\n", err)
			return
		}
		if !wait(x.want, time.Minute) {
			fmt.Fprintf(out, "armboard: no answer to %q matching %q\n", x.send, x.want)
		}
	}
	// Keep the line open (EOF on QEMU's stdin would close the serial
	// backend) until the guest is done.
	for range lines {
	}
}

func shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + fmt.Sprintf("… (%d bytes)", len(s))
}
