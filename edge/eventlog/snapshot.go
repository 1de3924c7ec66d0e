package eventlog

import (
	"bufio"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// boxColor is the color of the 2-px rectangles drawn around boxes in
// snapshots: green, the same for every label.
var boxColor = color.RGBA{R: 0, G: 255, B: 0, A: 255}

// snapshotLayout is the time part of snapshot names: fixed width and UTC,
// so that names sort by time.
const snapshotLayout = "20060102T150405.000Z"

// openSnapshots creates the snapshot directory, removes temp files left by
// a crash, indexes the snapshots and applies the quota.
func (l *Log) openSnapshots() error {
	dir := filepath.Join(l.dir, SnapshotDir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("event log %s: create snapshot directory: %w", dir, err)
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("event log %s: list snapshots: %w", dir, err)
	}
	for _, e := range ents {
		name := e.Name()
		switch {
		case strings.HasPrefix(name, ".tmp-"):
			os.Remove(filepath.Join(dir, name))
		case strings.HasSuffix(name, ".jpg") && e.Type().IsRegular():
			if info, err := e.Info(); err == nil {
				l.snaps = append(l.snaps, file{name, info.Size()})
				l.snapTotal += info.Size()
			}
		}
	}
	sort.Slice(l.snaps, func(i, j int) bool { return l.snaps[i].name < l.snaps[j].name })
	l.pruneSnapshots("")
	return nil
}

// WriteSnapshot writes the frame as a JPEG with boxes drawn on it, sets
// e.Snapshot to its file name and then writes *e as Write does.
//
// rgb is w×h pixels, 3 bytes each (R, G, B), row by row; it is not modified.
// boxes are normalized, drawn as 2-px green rectangles. labels is nil
// or one per box (kept for a text overlay; not drawn yet). A zero e.Time is
// set to now. Without Config.Snapshots no image is written and e.Snapshot
// is left empty.
//
// The JPEG is written to a temp file, fsynced and renamed to
// snapshots/<UTC time>-<rule>-<frame>.jpg; the oldest snapshots are then
// deleted beyond Config.SnapshotQuotaBytes.
func (l *Log) WriteSnapshot(e *Event, rgb []byte, w, h int, boxes []Box, labels []string) error {
	if e == nil {
		return fmt.Errorf("event log %s: snapshot: nil event", l.dir)
	}
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	if l.cfg.Snapshots {
		name, err := l.writeJPEG(e, rgb, w, h, boxes, labels)
		if err != nil {
			return err
		}
		e.Snapshot = name
	}
	return l.Write(*e)
}

func (l *Log) writeJPEG(e *Event, rgb []byte, w, h int, boxes []Box, labels []string) (string, error) {
	what := fmt.Sprintf("event log %s: snapshot of rule %q frame %d", l.dir, e.Rule, e.Frame)
	if w <= 0 || h <= 0 {
		return "", fmt.Errorf("%s: size %dx%d: want width and height > 0", what, w, h)
	}
	if len(rgb) != w*h*3 {
		return "", fmt.Errorf("%s: rgb is %d bytes, a %dx%d RGB image is %d", what, len(rgb), w, h, w*h*3)
	}
	if labels != nil && len(labels) != len(boxes) {
		return "", fmt.Errorf("%s: %d labels for %d boxes: want one per box, or none", what, len(labels), len(boxes))
	}

	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for i, j := 0, 0; i < len(rgb); i, j = i+3, j+4 {
		img.Pix[j], img.Pix[j+1], img.Pix[j+2], img.Pix[j+3] = rgb[i], rgb[i+1], rgb[i+2], 0xff
	}
	for _, b := range boxes {
		drawBox(img, b, boxColor)
	}

	dir := filepath.Join(l.dir, SnapshotDir)
	name := fmt.Sprintf("%s-%s-%d.jpg", e.Time.UTC().Format(snapshotLayout), safeName(e.Rule), e.Frame)
	tmp, err := os.CreateTemp(dir, ".tmp-*.jpg")
	if err != nil {
		return "", fmt.Errorf("%s: create temp file in %s: %w", what, dir, err)
	}
	fail := func(step string, err error) (string, error) {
		tmp.Close()
		os.Remove(tmp.Name())
		return "", fmt.Errorf("%s: %s %s: %w", what, step, tmp.Name(), err)
	}
	bw := bufio.NewWriter(tmp)
	if err := jpeg.Encode(bw, img, &jpeg.Options{Quality: l.cfg.JPEGQuality}); err != nil {
		return fail("encode JPEG to", err)
	}
	if err := bw.Flush(); err != nil {
		return fail("write", err)
	}
	if err := tmp.Sync(); err != nil {
		return fail("fsync", err)
	}
	fi, err := tmp.Stat()
	if err != nil {
		return fail("stat", err)
	}
	if err := tmp.Close(); err != nil {
		return fail("close", err)
	}
	final := filepath.Join(dir, name)
	if err := os.Rename(tmp.Name(), final); err != nil {
		os.Remove(tmp.Name())
		return "", fmt.Errorf("%s: rename to %s: %w", what, final, err)
	}
	if err := syncDir(dir); err != nil {
		return "", fmt.Errorf("%s: %w", what, err)
	}

	l.snapMu.Lock()
	defer l.snapMu.Unlock()
	i := sort.Search(len(l.snaps), func(i int) bool { return l.snaps[i].name >= name })
	if i < len(l.snaps) && l.snaps[i].name == name { // rewritten
		l.snapTotal -= l.snaps[i].size
		l.snaps[i].size = fi.Size()
	} else {
		l.snaps = append(l.snaps, file{})
		copy(l.snaps[i+1:], l.snaps[i:])
		l.snaps[i] = file{name, fi.Size()}
	}
	l.snapTotal += fi.Size()
	l.pruneSnapshots(name)
	return name, nil
}

// pruneSnapshots deletes the oldest snapshots while the total is over the
// quota, never the one named keep. l.snapMu is held (or l is not shared).
func (l *Log) pruneSnapshots(keep string) {
	dir := filepath.Join(l.dir, SnapshotDir)
	for i := 0; i < len(l.snaps) && l.snapTotal > l.cfg.SnapshotQuotaBytes; {
		s := l.snaps[i]
		if s.name == keep {
			i++
			continue
		}
		p := filepath.Join(dir, s.name)
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			l.log.Error("cannot delete old snapshot", "file", p, "err", err)
			return
		}
		l.log.Debug("deleted old snapshot", "file", s.name, "bytes", s.size)
		l.snapTotal -= s.size
		l.snaps = append(l.snaps[:i], l.snaps[i+1:]...)
	}
}

// safeName keeps a rule name usable in a file name.
func safeName(s string) string {
	if s == "" {
		return "event"
	}
	b := []byte(s)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			b[i] = '_'
		}
	}
	if len(b) > 64 {
		b = b[:64]
	}
	return string(b)
}

// drawBox draws the normalized box b as a 2-px rectangle inside its edges,
// clipped to the image. Boxes with NaNs or no area are skipped.
func drawBox(img *image.RGBA, b Box, c color.RGBA) {
	w, h := img.Rect.Dx(), img.Rect.Dy()
	px := func(v float32, n int) int {
		return int(math.Round(math.Max(0, math.Min(1, float64(v))) * float64(n)))
	}
	if !(b.XMin < b.XMax && b.YMin < b.YMax) { // also false for NaN
		return
	}
	x0, x1 := px(b.XMin, w), px(b.XMax, w)-1
	y0, y1 := px(b.YMin, h), px(b.YMax, h)-1
	if x1 < x0 || y1 < y0 {
		return
	}
	fill := func(xa, ya, xb, yb int) { // inclusive, clipped to the box
		for y := max(ya, y0); y <= min(yb, y1); y++ {
			for x := max(xa, x0); x <= min(xb, x1); x++ {
				img.SetRGBA(x, y, c)
			}
		}
	}
	fill(x0, y0, x1, y0+1) // top
	fill(x0, y1-1, x1, y1) // bottom
	fill(x0, y0, x0+1, y1) // left
	fill(x1-1, y0, x1, y1) // right
}
