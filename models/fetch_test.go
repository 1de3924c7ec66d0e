package models

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	fixturedir "github.com/edgeproject/edge/camera/fixtures"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func fixtureDir(t testing.TB) string { return fixturedir.Dir(t) }

func sum(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// server serves files by path and counts requests; it stops with the test.
type server struct {
	*httptest.Server
	requests atomic.Int64
}

func newServer(t *testing.T, handler http.HandlerFunc) *server {
	s := &server{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.requests.Add(1)
		handler(w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

// fetcher returns a Fetcher whose idle connections are closed at the end
// of the test, so that goroutine counts come back down.
func fetcher(t *testing.T) *Fetcher {
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	return &Fetcher{Client: &http.Client{Transport: tr}}
}

// coralEntry is the verified catalog entry of the fixture
// mobilenet_v1_0.25_128_quant_coral, served by srv, and the file's bytes.
func coralEntry(t *testing.T) (Entry, []byte) {
	t.Helper()
	e, err := Lookup("mobilenet_v1_0.25_128_quant_coral")
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(fixtureDir(t), e.Fixture))
	if err != nil {
		t.Fatal(err)
	}
	if sum(data) != e.SHA256 {
		t.Fatalf("fixture %s does not have the catalog's sha256", e.Fixture)
	}
	return e, data
}

// assertEmpty fails if dir holds any file: no model, no temporary file.
func assertEmpty(t *testing.T, dir string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		t.Errorf("left behind in %s: %s", dir, e.Name())
	}
}

func TestFetchGood(t *testing.T) {
	before := runtime.NumGoroutine()
	e, data := coralEntry(t)
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		http.ServeContent(w, r, "m.tflite", time.Time{}, bytes.NewReader(data))
	})
	e.URL = srv.URL + "/mobilenet_v1_0.25_128_quant.tflite"
	dir := t.TempDir()
	var progress bytes.Buffer
	f := fetcher(t)
	got, err := f.Fetch(context.Background(), e, dir, &progress)
	if err != nil {
		t.Fatal(err)
	}
	if got != filepath.Join(dir, e.Name+".tflite") {
		t.Errorf("path %s", got)
	}
	b, err := os.ReadFile(got)
	if err != nil || sum(b) != e.SHA256 {
		t.Fatalf("stored file: %v, sha256 %s", err, sum(b))
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("dir holds %d files, want only the model", len(ents))
	}
	// Not a terminal: plain lines, the last one at 100%.
	lines := strings.Split(strings.TrimSpace(progress.String()), "\n")
	if len(lines) < 2 || !strings.Contains(lines[len(lines)-1], "100%") || strings.Contains(progress.String(), "\r") {
		t.Errorf("progress:\n%s", progress.String())
	}
	if !strings.Contains(lines[len(lines)-1], "513.2 KiB / 513.2 KiB") || !strings.Contains(lines[len(lines)-1], "/s") {
		t.Errorf("last progress line %q: want bytes / total and a rate", lines[len(lines)-1])
	}
	// A second fetch finds the file and does not download.
	progress.Reset()
	if _, err := f.Fetch(context.Background(), e, dir, &progress); err != nil {
		t.Fatal(err)
	}
	if n := srv.requests.Load(); n != 1 {
		t.Errorf("%d requests, want 1 (the second fetch should find the file)", n)
	}
	if !strings.Contains(progress.String(), "already in") {
		t.Errorf("second fetch said %q", progress.String())
	}
	// Info sees and analyzes it.
	d, err := InfoIn(e, dir)
	if err != nil || !d.Fetched || d.Report == nil || d.Report.Params != 467593 {
		t.Fatalf("InfoIn = %+v, %v", d, err)
	}
	if s := d.String(); !strings.Contains(s, "verified against the fixture") || !strings.Contains(s, "13.57M") {
		t.Errorf("details:\n%s", s)
	}
	srv.Close()
	f.Client.Transport.(*http.Transport).CloseIdleConnections()
	waitGoroutines(t, before)
}

// waitGoroutines fails if the goroutine count does not come back to n.
func waitGoroutines(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for runtime.NumGoroutine() > n {
		if time.Now().After(deadline) {
			t.Errorf("%d goroutines, had %d before", runtime.NumGoroutine(), n)
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestFetchCorrupt(t *testing.T) {
	e, data := coralEntry(t)
	bad := bytes.Clone(data)
	bad[len(bad)/2] ^= 0xff
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) { w.Write(bad) })
	e.URL = srv.URL + "/corrupt.tflite"
	dir := t.TempDir()
	_, err := fetcher(t).Fetch(context.Background(), e, dir, nil)
	if !errors.Is(err, ErrChecksum) {
		t.Fatalf("err = %v, want ErrChecksum", err)
	}
	for _, want := range []string{e.URL, "expected " + e.SHA256, "got " + sum(bad)} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	assertEmpty(t, dir)
}

func TestFetchTruncated(t *testing.T) {
	e, data := coralEntry(t)
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", fmt.Sprint(len(data)))
		w.Write(data[:100000]) // the server hangs up early
	})
	e.URL = srv.URL + "/short.tflite"
	dir := t.TempDir()
	var progress bytes.Buffer
	_, err := fetcher(t).Fetch(context.Background(), e, dir, &progress)
	if !errors.Is(err, ErrShortRead) {
		t.Fatalf("err = %v, want ErrShortRead", err)
	}
	if want := fmt.Sprintf("got 100000 of %d bytes", len(data)); !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), e.URL) {
		t.Errorf("error %q does not say %q and the url", err, want)
	}
	if !strings.Contains(progress.String(), "failed") {
		t.Errorf("progress does not say the download failed:\n%s", progress.String())
	}
	assertEmpty(t, dir)
}

func TestFetchNotFound(t *testing.T) {
	e, _ := coralEntry(t)
	srv := newServer(t, http.NotFound)
	e.URL = srv.URL + "/missing.tflite"
	dir := t.TempDir()
	_, err := fetcher(t).Fetch(context.Background(), e, dir, nil)
	if err == nil || !strings.Contains(err.Error(), "404 Not Found") || !strings.Contains(err.Error(), e.URL) {
		t.Fatalf("err = %v, want the URL and 404", err)
	}
	assertEmpty(t, dir)
}

func TestFetchCanceled(t *testing.T) {
	before := runtime.NumGoroutine()
	e, data := coralEntry(t)
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", fmt.Sprint(len(data)))
		// 1 KiB every 10 ms: the whole file would take 5 s.
		for off := 0; off < len(data); off += 1024 {
			if _, err := w.Write(data[off:min(off+1024, len(data))]); err != nil {
				return
			}
			w.(http.Flusher).Flush()
			select {
			case <-r.Context().Done():
				return
			case <-time.After(10 * time.Millisecond):
			}
		}
	})
	e.URL = srv.URL + "/slow.tflite"
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	f := fetcher(t)
	start := time.Now()
	_, err := f.Fetch(ctx, e, dir, nil)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want context.DeadlineExceeded", err)
	}
	if el := time.Since(start); el > 2*time.Second {
		t.Errorf("Fetch took %v to notice the deadline", el)
	}
	if !strings.Contains(err.Error(), "download stopped after") {
		t.Errorf("error %q does not say how far the download got", err)
	}
	assertEmpty(t, dir)
	srv.Close()
	f.Client.Transport.(*http.Transport).CloseIdleConnections()
	waitGoroutines(t, before)
}

func TestFetchRefusesEntryWithoutChecksum(t *testing.T) {
	e, err := Lookup("mobilenet_v3_large_minimalistic_1.0_224_uint8")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	_, err = Fetch(context.Background(), e, dir, nil)
	if !errors.Is(err, ErrNoChecksum) {
		t.Fatalf("err = %v, want ErrNoChecksum", err)
	}
	assertEmpty(t, dir)
}

func tgz(t *testing.T, files map[string][]byte, order ...string) []byte {
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for _, name := range order {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(files[name])), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		tw.Write(files[name])
	}
	tw.Close()
	gz.Close()
	return buf.Bytes()
}

func TestFetchArchives(t *testing.T) {
	e, data := coralEntry(t)
	// A tgz laid out like TF's: "./" paths, the checkpoint beside the model.
	archive := tgz(t, map[string][]byte{
		"./mobilenet_v1_0.25_128_quant.ckpt.data-00000-of-00001": bytes.Repeat([]byte{7}, 5000),
		"./mobilenet_v1_0.25_128_quant.tflite":                   data,
		"./mobilenet_v1_0.25_128_quant_info.txt":                 []byte("input: input\n"),
	}, "./mobilenet_v1_0.25_128_quant.ckpt.data-00000-of-00001", "./mobilenet_v1_0.25_128_quant.tflite", "./mobilenet_v1_0.25_128_quant_info.txt")
	var zbuf bytes.Buffer
	zw := zip.NewWriter(&zbuf)
	for name, b := range map[string][]byte{"labelmap.txt": []byte("???\nperson\n"), "detect.tflite": data} {
		w, _ := zw.Create(name)
		w.Write(b)
	}
	zw.Close()
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/m.tgz":
			w.Write(archive)
		case "/m.zip":
			w.Write(zbuf.Bytes())
		default:
			http.NotFound(w, r)
		}
	})
	for _, c := range []struct {
		name, url, member, sha string
	}{
		{"tgz exact member", "/m.tgz", "mobilenet_v1_0.25_128_quant.tflite", sum(archive)},
		{"tgz member in another directory", "/m.tgz", "v1/mobilenet_v1_0.25_128_quant.tflite", sum(archive)},
		{"zip", "/m.zip", "detect.tflite", sum(zbuf.Bytes())},
	} {
		t.Run(c.name, func(t *testing.T) {
			a := e
			a.Name, a.URL, a.Archive, a.SHA256, a.FileSHA256 = "archived", srv.URL+c.url, c.member, c.sha, e.SHA256
			dir := t.TempDir()
			f := fetcher(t)
			p, err := f.Fetch(context.Background(), a, dir, nil)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := os.ReadFile(p)
			if sum(b) != e.SHA256 {
				t.Errorf("extracted file has sha256 %s", sum(b))
			}
			// Without file_sha256, the recorded sum lets the next fetch skip the download.
			a.FileSHA256 = ""
			n := srv.requests.Load()
			if _, err := f.Fetch(context.Background(), a, dir, nil); err != nil {
				t.Fatal(err)
			}
			if srv.requests.Load() != n {
				t.Error("the extracted model was downloaded again")
			}
			ents, _ := os.ReadDir(dir)
			if len(ents) != 2 { // the model and its .sha256
				t.Errorf("dir holds %d files, want the model and its .sha256", len(ents))
			}
		})
	}
	t.Run("missing member", func(t *testing.T) {
		a := e
		a.Name, a.URL, a.Archive, a.SHA256 = "archived", srv.URL+"/m.tgz", "other.tflite", sum(archive)
		dir := t.TempDir()
		_, err := fetcher(t).Fetch(context.Background(), a, dir, nil)
		if err == nil || !strings.Contains(err.Error(), "no member other.tflite") || !strings.Contains(err.Error(), "./mobilenet_v1_0.25_128_quant.tflite") {
			t.Fatalf("err = %v", err)
		}
		assertEmpty(t, dir)
	})
	t.Run("member with the wrong sum", func(t *testing.T) {
		a := e
		a.Name, a.URL, a.Archive, a.SHA256, a.FileSHA256 = "archived", srv.URL+"/m.tgz", "mobilenet_v1_0.25_128_quant.tflite", sum(archive), strings.Repeat("0", 64)
		dir := t.TempDir()
		_, err := fetcher(t).Fetch(context.Background(), a, dir, nil)
		if !errors.Is(err, ErrChecksum) || !strings.Contains(err.Error(), "member") {
			t.Fatalf("err = %v", err)
		}
		assertEmpty(t, dir)
	})
}

func TestDefaultDir(t *testing.T) {
	for _, c := range []struct {
		euid      int
		xdg, home string
		want      string
	}{
		{0, "/x", "/root", "/var/lib/edge/models"},
		{1000, "/data", "/home/u", "/data/edge/models"},
		{1000, "", "/home/u", "/home/u/.local/share/edge/models"},
		{1000, "relative", "/home/u", "/home/u/.local/share/edge/models"},
	} {
		if got := defaultDir(c.euid, c.xdg, c.home); got != c.want {
			t.Errorf("defaultDir(%d, %q, %q) = %s, want %s", c.euid, c.xdg, c.home, got, c.want)
		}
	}
	if os.Geteuid() == 0 && DefaultDir() != "/var/lib/edge/models" {
		t.Errorf("DefaultDir() = %s as root", DefaultDir())
	}
}

func TestProgressBarOnTerminalFormat(t *testing.T) {
	b := &progressBar{name: "m", total: 1000, done: 250, start: time.Now().Add(-time.Second)}
	got := b.line(time.Now())
	if !strings.HasPrefix(got, "m [======>                 ] 250 B / 1000 B  25%") || !strings.HasSuffix(got, "B/s") {
		t.Errorf("line = %q", got)
	}
	b = &progressBar{name: "m", total: -1, done: 3 << 20, start: time.Now().Add(-time.Second)}
	if got := b.line(time.Now()); !strings.HasPrefix(got, "m 3.0 MiB  ") {
		t.Errorf("unknown total: %q", got)
	}
}
