package eventlog

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"image/jpeg"
	"io"
	"log/slog"
	"math/rand"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

var t0 = time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)

func event(i int) Event {
	return Event{
		Time:      t0.Add(time.Duration(i) * time.Second),
		Rule:      "door",
		Label:     "person",
		Score:     0.87,
		Box:       &Box{XMin: 0.1, YMin: 0.2, XMax: 0.5, YMax: 0.9},
		Frame:     uint64(i),
		LatencyMS: 12.5,
	}
}

func mustOpen(t *testing.T, dir string, cfg Config) *Log {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = quiet
	}
	l, err := Open(dir, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

// files returns the log's event files, oldest first (rotated files by
// name, then the current one), with their sizes.
func files(t *testing.T, dir string) (names []string, sizes []int64) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var rotated []string
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), "events-") {
			rotated = append(rotated, e.Name())
		}
	}
	sort.Strings(rotated)
	names = append(rotated, CurrentFile)
	for _, n := range names {
		fi, err := os.Stat(filepath.Join(dir, n))
		if err != nil {
			t.Fatal(err)
		}
		sizes = append(sizes, fi.Size())
	}
	return names, sizes
}

// readAll decodes every line of the log's files, oldest first, and fails
// on a line that does not decode.
func readAll(t *testing.T, dir string) []Event {
	t.Helper()
	names, _ := files(t, dir)
	var evs []Event
	for _, n := range names {
		data, err := os.ReadFile(filepath.Join(dir, n))
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(bytes.NewReader(data))
		for sc.Scan() {
			var e Event
			if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
				t.Fatalf("%s: line %q: %v", n, sc.Text(), err)
			}
			evs = append(evs, e)
		}
	}
	return evs
}

func frames(evs []Event) []uint64 {
	fs := make([]uint64, len(evs))
	for i, e := range evs {
		fs[i] = e.Frame
	}
	return fs
}

func TestEventJSON(t *testing.T) {
	e := event(1)
	e.Snapshot = "x.jpg"
	b, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"time":"2024-05-06T07:08:10Z","rule":"door","label":"person","score":0.87,` +
		`"box":{"xmin":0.1,"ymin":0.2,"xmax":0.5,"ymax":0.9},"frame":1,"latency_ms":12.5,"snapshot":"x.jpg"}`
	if string(b) != want {
		t.Errorf("JSON\n got %s\nwant %s", b, want)
	}
	cls := Event{Time: t0, Rule: "cat", Label: "tabby", Score: 0.5}
	b, _ = json.Marshal(cls)
	if strings.Contains(string(b), "box") || strings.Contains(string(b), "snapshot") {
		t.Errorf("classification event has box or snapshot keys: %s", b)
	}
}

func TestRotationAndTotal(t *testing.T) {
	const (
		maxFile  = 4 << 10
		maxTotal = 16 << 10
		n        = 1000
	)
	dir := t.TempDir()
	l := mustOpen(t, dir, Config{MaxFileBytes: maxFile, MaxTotalBytes: maxTotal})
	lineLen := 0
	for i := 0; i < n; i++ {
		if err := l.Write(event(i)); err != nil {
			t.Fatal(err)
		}
		if b, _ := json.Marshal(event(i)); len(b)+1 > lineLen {
			lineLen = len(b) + 1
		}
	}
	names, sizes := files(t, dir)
	var total int64
	for i, s := range sizes {
		if s > maxFile+int64(lineLen) {
			t.Errorf("%s is %d bytes, want ≤ %d + one line (%d)", names[i], s, maxFile, lineLen)
		}
		total += s
	}
	if total > maxTotal+maxFile {
		t.Errorf("log is %d bytes in %d files, want ≤ %d + one file", total, len(names), maxTotal)
	}
	if len(names) < 3 {
		t.Errorf("only %d files: rotation did not happen", len(names))
	}

	evs := readAll(t, dir)
	fs := frames(evs)
	if len(fs) == 0 || fs[len(fs)-1] != n-1 {
		t.Fatalf("newest frame %v, want %d", fs, n-1)
	}
	for i := 1; i < len(fs); i++ {
		if fs[i] != fs[i-1]+1 {
			t.Fatalf("frames not contiguous and in order at %d: %d then %d", i, fs[i-1], fs[i])
		}
	}
	if kept := len(fs); kept < (maxTotal-maxFile)/lineLen {
		t.Errorf("only %d events kept in %d bytes", kept, maxTotal)
	}

	tests := []struct {
		n    int
		want []uint64
	}{
		{5, []uint64{995, 996, 997, 998, 999}},
		{1, []uint64{999}},
		{0, nil},
		{len(fs), fs},         // across every file
		{n * 2, fs},           // more than there are
		{len(fs) - 3, fs[3:]}, // ends inside the oldest file
	}
	for _, tt := range tests {
		got, err := l.Recent(tt.n)
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(frames(got)) != fmt.Sprint(tt.want) {
			t.Errorf("Recent(%d) frames %v, want %v", tt.n, frames(got), tt.want)
		}
	}
	if got, _ := l.Recent(5); len(got) == 5 && (got[4].Rule != "door" || got[4].Box == nil || *got[4].Box != *event(0).Box || !got[4].Time.Equal(event(999).Time)) {
		t.Errorf("Recent(5) last event %+v does not round-trip", got[4])
	}

	// Reopened, the log goes on: names stay unique and in order.
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l2 := mustOpen(t, dir, Config{MaxFileBytes: maxFile, MaxTotalBytes: maxTotal})
	for i := n; i < n+100; i++ {
		if err := l2.Write(event(i)); err != nil {
			t.Fatal(err)
		}
	}
	fs = frames(readAll(t, dir))
	for i := 1; i < len(fs); i++ {
		if fs[i] != fs[i-1]+1 {
			t.Fatalf("after reopen, frames not in order at %d: %d then %d", i, fs[i-1], fs[i])
		}
	}
	if fs[len(fs)-1] != n+99 {
		t.Errorf("after reopen newest frame %d, want %d", fs[len(fs)-1], n+99)
	}
}

// A rotated name from a clock that went back still sorts after the others.
func TestRotationClockWentBack(t *testing.T) {
	dir := t.TempDir()
	future := "events-" + time.Now().Add(24*time.Hour).UTC().Format(rotatedLayout) + ".jsonl"
	line, _ := json.Marshal(event(0))
	if err := os.WriteFile(filepath.Join(dir, future), append(line, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
	l := mustOpen(t, dir, Config{MaxFileBytes: 1, MaxTotalBytes: 1 << 20}) // one line per file
	for i := 1; i <= 3; i++ {
		if err := l.Write(event(i)); err != nil {
			t.Fatal(err)
		}
	}
	if got, _ := l.Recent(10); fmt.Sprint(frames(got)) != "[0 1 2 3]" {
		t.Errorf("Recent frames %v, want [0 1 2 3]", frames(got))
	}
}

func TestPartialLastLine(t *testing.T) {
	tests := []struct {
		name    string
		garbage string
	}{
		{"cut JSON", `{"time":"2024-05-06T07:08:09Z","rule":"do`},
		{"binary junk", "\x00\x00\x00\x00"},
		{"cut JSON with a newline before", "\n{\"time\":"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			l := mustOpen(t, dir, Config{})
			for i := 0; i < 3; i++ {
				if err := l.Write(event(i)); err != nil {
					t.Fatal(err)
				}
			}
			l.Close()
			// A crash mid-line.
			f, err := os.OpenFile(filepath.Join(dir, CurrentFile), os.O_APPEND|os.O_WRONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			f.WriteString(tt.garbage)
			f.Close()

			l = mustOpen(t, dir, Config{})
			got, err := l.Recent(10)
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(frames(got)) != "[0 1 2]" {
				t.Errorf("Recent after a crash: frames %v, want [0 1 2]", frames(got))
			}
			if err := l.Write(event(3)); err != nil {
				t.Fatal(err)
			}
			got, _ = l.Recent(10)
			if fmt.Sprint(frames(got)) != "[0 1 2 3]" {
				t.Errorf("Recent after a crash and a write: frames %v, want [0 1 2 3]", frames(got))
			}
			data, _ := os.ReadFile(filepath.Join(dir, CurrentFile))
			lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
			var e Event
			if err := json.Unmarshal([]byte(lines[len(lines)-1]), &e); err != nil || e.Frame != 3 {
				t.Errorf("the new event is not on a line of its own: last line %q", lines[len(lines)-1])
			}
		})
	}
}

// A partial line followed by a write that rotates: the new file starts clean.
func TestPartialLineThenRotate(t *testing.T) {
	dir := t.TempDir()
	cfg := Config{MaxFileBytes: 600, MaxTotalBytes: 1 << 20}
	l := mustOpen(t, dir, cfg)
	for i := 0; i < 2; i++ {
		l.Write(event(i))
	}
	l.Close()
	f, _ := os.OpenFile(filepath.Join(dir, CurrentFile), os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(strings.Repeat("z", 300))
	f.Close()
	l = mustOpen(t, dir, cfg)
	for i := 2; i < 6; i++ {
		if err := l.Write(event(i)); err != nil {
			t.Fatal(err)
		}
	}
	got, _ := l.Recent(10)
	if fmt.Sprint(frames(got)) != "[0 1 2 3 4 5]" {
		t.Errorf("frames %v, want [0 1 2 3 4 5]", frames(got))
	}
	data, _ := os.ReadFile(filepath.Join(dir, CurrentFile))
	if bytes.HasPrefix(data, []byte("\n")) {
		t.Errorf("the new current file starts with an empty line")
	}
}

func TestConcurrentWriters(t *testing.T) {
	const goroutines, each = 10, 100
	dir := t.TempDir()
	l := mustOpen(t, dir, Config{})
	var wg sync.WaitGroup
	errs := make(chan error, goroutines)
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				e := event(i)
				e.Rule = fmt.Sprintf("g%d", g)
				if err := l.Write(e); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	evs := readAll(t, dir) // fails on a torn line
	if len(evs) != goroutines*each {
		t.Fatalf("%d lines, want %d", len(evs), goroutines*each)
	}
	seen := map[string]bool{}
	next := map[string]uint64{}
	for _, e := range evs {
		k := fmt.Sprintf("%s/%d", e.Rule, e.Frame)
		if seen[k] {
			t.Fatalf("event %s twice", k)
		}
		seen[k] = true
		if e.Frame != next[e.Rule] {
			t.Fatalf("writer %s: frame %d after %d", e.Rule, e.Frame, next[e.Rule]-1)
		}
		next[e.Rule]++
	}
}

func TestOpenErrors(t *testing.T) {
	base := t.TempDir()
	aFile := filepath.Join(base, "a-file")
	if err := os.WriteFile(aFile, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	unwritable := filepath.Join(base, "read-only")
	if err := os.Mkdir(unwritable, 0o555); err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() == 0 {
		// root writes through mode bits; /sys refuses new files even to root.
		unwritable = "/sys"
	}

	tests := []struct {
		name string
		dir  string
		cfg  Config
		want []string
	}{
		{"a file", aFile, Config{}, []string{aFile, "not a directory"}},
		{"under a file", filepath.Join(aFile, "log"), Config{}, []string{filepath.Join(aFile, "log")}},
		{"unwritable", unwritable, Config{}, []string{filepath.Join(unwritable, CurrentFile)}},
		{"negative MaxFileBytes", base, Config{MaxFileBytes: -1}, []string{base, "MaxFileBytes -1", "> 0"}},
		{"total under file", base, Config{MaxFileBytes: 2000, MaxTotalBytes: 1000}, []string{"MaxTotalBytes 1000 is less than MaxFileBytes 2000"}},
		{"quality", base, Config{JPEGQuality: 101}, []string{"JPEGQuality 101", "1..100"}},
		{"empty", "", Config{}, []string{"empty directory"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.dir == "/sys" {
				if fi, err := os.Stat("/sys"); err != nil || !fi.IsDir() {
					t.Skip("running as root without /sys: no unwritable directory to test")
				}
			}
			l, err := Open(tt.dir, tt.cfg)
			if err == nil {
				l.Close()
				t.Fatalf("Open(%q) succeeded", tt.dir)
			}
			t.Log(err)
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestClosedAndZeroTime(t *testing.T) {
	dir := t.TempDir()
	l := mustOpen(t, dir, Config{})
	before := time.Now()
	if err := l.Write(Event{Rule: "r", Label: "x"}); err != nil {
		t.Fatal(err)
	}
	got, _ := l.Recent(1)
	if len(got) != 1 || got[0].Time.Before(before.Add(-time.Second)) {
		t.Errorf("zero Time was not set to now: %+v", got)
	}
	if n, err := l.Recent(-1); n != nil || err != nil {
		t.Errorf("Recent(-1) = %v, %v", n, err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	err := l.Write(event(1))
	if !errors.Is(err, os.ErrClosed) || !strings.Contains(err.Error(), filepath.Join(dir, CurrentFile)) {
		t.Errorf("Write after Close: %v, want os.ErrClosed naming the file", err)
	}
	if _, err := l.Recent(1); !errors.Is(err, os.ErrClosed) {
		t.Errorf("Recent after Close: %v", err)
	}
}

// noise returns w×h random RGB pixels (they compress badly: sizes are
// predictable).
func noise(r *rand.Rand, w, h int) []byte {
	b := make([]byte, w*h*3)
	r.Read(b)
	return b
}

func TestSnapshot(t *testing.T) {
	dir := t.TempDir()
	l := mustOpen(t, dir, Config{Snapshots: true, JPEGQuality: 95})
	const w, h = 160, 120
	rgb := bytes.Repeat([]byte{40, 40, 40}, w*h) // dark grey
	box := Box{XMin: 0.25, YMin: 0.25, XMax: 0.75, YMax: 0.75}
	e := event(42)
	e.Rule = "front door" // sanitized in the file name
	if err := l.WriteSnapshot(&e, rgb, w, h, []Box{box}, []string{"person"}); err != nil {
		t.Fatal(err)
	}
	if want := "20240506T070851.000Z-front_door-42.jpg"; e.Snapshot != want {
		t.Errorf("e.Snapshot = %q, want %q", e.Snapshot, want)
	}
	if rgb[0] != 40 || rgb[(60*w+40)*3+1] != 40 {
		t.Error("WriteSnapshot modified the caller's pixels")
	}
	f, err := os.Open(filepath.Join(dir, SnapshotDir, e.Snapshot))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := jpeg.Decode(f)
	if err != nil {
		t.Fatalf("snapshot is not a valid JPEG: %v", err)
	}
	if b := img.Bounds(); b.Dx() != w || b.Dy() != h {
		t.Errorf("snapshot is %dx%d, want %dx%d", b.Dx(), b.Dy(), w, h)
	}
	green := func(x, y int) bool {
		r, g, b, _ := img.At(x, y).RGBA()
		return g>>8 > 180 && r>>8 < 100 && b>>8 < 100
	}
	for _, p := range [][2]int{{40, 60}, {41, 60}, {119, 60}, {80, 30}, {80, 89}} { // on the box's edges
		if !green(p[0], p[1]) {
			t.Errorf("pixel %v on the box edge is %v, want green", p, img.At(p[0], p[1]))
		}
	}
	for _, p := range [][2]int{{80, 60}, {10, 10}, {44, 60}} { // inside and outside
		if green(p[0], p[1]) {
			t.Errorf("pixel %v off the box edge is green", p)
		}
	}
	got, _ := l.Recent(1)
	if len(got) != 1 || got[0].Snapshot != e.Snapshot {
		t.Errorf("logged event %+v does not name the snapshot", got)
	}

	// Bad input is refused, naming the rule and what was expected.
	bad := []struct {
		name   string
		rgb    []byte
		w, h   int
		boxes  []Box
		labels []string
		want   string
	}{
		{"short", rgb[:100], w, h, nil, nil, "rgb is 100 bytes, a 160x120 RGB image is 57600"},
		{"zero size", nil, 0, h, nil, nil, "size 0x120"},
		{"labels", rgb, w, h, []Box{box}, []string{"a", "b"}, "2 labels for 1 boxes"},
	}
	for _, tt := range bad {
		e := event(1)
		if err := l.WriteSnapshot(&e, tt.rgb, tt.w, tt.h, tt.boxes, tt.labels); err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), `"door"`) {
			t.Errorf("%s: %v, want an error naming rule \"door\" and containing %q", tt.name, err, tt.want)
		}
	}
	// Boxes partly outside the image, inverted or NaN are clipped or skipped.
	nan := float32(0)
	nan /= nan
	e = event(43)
	odd := []Box{{-0.5, -0.5, 0.1, 0.1}, {0.9, 0.9, 1.5, 1.5}, {0.6, 0.6, 0.4, 0.4}, {nan, 0, 1, 1}, {0.5, 0.5, 0.5, 0.5}}
	if err := l.WriteSnapshot(&e, rgb, w, h, odd, nil); err != nil {
		t.Fatal(err)
	}
}

func TestSnapshotQuota(t *testing.T) {
	dir := t.TempDir()
	r := rand.New(rand.NewSource(1))
	const w, h, n = 64, 64, 12
	// Measure one noise snapshot to set a quota of about four.
	probe := mustOpen(t, t.TempDir(), Config{Snapshots: true})
	pe := event(0)
	if err := probe.WriteSnapshot(&pe, noise(r, w, h), w, h, nil, nil); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(probe.Dir(), SnapshotDir, pe.Snapshot))
	if err != nil {
		t.Fatal(err)
	}
	quota := fi.Size()*4 + fi.Size()/2

	l := mustOpen(t, dir, Config{Snapshots: true, SnapshotQuotaBytes: quota})
	var written []string
	for i := 0; i < n; i++ {
		e := event(i)
		if err := l.WriteSnapshot(&e, noise(r, w, h), w, h, nil, nil); err != nil {
			t.Fatal(err)
		}
		written = append(written, e.Snapshot)
	}
	check := func(when string, quota int64) {
		t.Helper()
		ents, err := os.ReadDir(filepath.Join(dir, SnapshotDir))
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		var total int64
		for _, e := range ents {
			info, _ := e.Info()
			total += info.Size()
			names = append(names, e.Name())
		}
		if total > quota {
			t.Errorf("%s: snapshots total %d bytes, quota %d", when, total, quota)
		}
		if len(names) == 0 || fmt.Sprint(names) != fmt.Sprint(written[len(written)-len(names):]) {
			t.Errorf("%s: kept %v, want the newest of %v", when, names, written)
		}
		t.Logf("%s: kept %d snapshots, %d bytes (quota %d)", when, len(names), total, quota)
	}
	check("after writing", quota)
	if n := len(written); n < 3 {
		t.Fatal("too few snapshots")
	}
	l.Close()

	// A smaller quota applies when the log is opened; temp files of a crash go.
	os.WriteFile(filepath.Join(dir, SnapshotDir, ".tmp-123.jpg"), []byte("partial"), 0o644)
	l2 := mustOpen(t, dir, Config{Snapshots: true, SnapshotQuotaBytes: quota / 2})
	_ = l2
	check("reopened with half the quota", quota/2)
}

func TestSnapshotsDisabled(t *testing.T) {
	dir := t.TempDir()
	l := mustOpen(t, dir, Config{})
	e := event(7)
	if err := l.WriteSnapshot(&e, make([]byte, 3*4*4), 4, 4, nil, nil); err != nil {
		t.Fatal(err)
	}
	if e.Snapshot != "" {
		t.Errorf("Snapshot %q written with snapshots off", e.Snapshot)
	}
	if _, err := os.Stat(filepath.Join(dir, SnapshotDir)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("snapshot directory exists with snapshots off: %v", err)
	}
	if got, _ := l.Recent(1); len(got) != 1 || got[0].Frame != 7 {
		t.Errorf("event not logged: %+v", got)
	}
	if err := l.WriteSnapshot(nil, nil, 0, 0, nil, nil); err == nil {
		t.Error("nil event accepted")
	}
}
