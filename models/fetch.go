package models

import (
	"archive/tar"
	"archive/zip"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"
)

// Errors a caller may want to match with errors.Is.
var (
	// ErrChecksum: the download's sha256 differs from the catalog's.
	ErrChecksum = errors.New("sha256 mismatch")
	// ErrShortRead: the server sent fewer bytes than it announced.
	ErrShortRead = errors.New("short read")
	// ErrNoChecksum: the entry has no sha256 to check the download against.
	ErrNoChecksum = errors.New("no sha256 to verify against")
)

// DefaultDir is where models are stored when no directory is given:
// /var/lib/edge/models for root (the service), else
// $XDG_DATA_HOME/edge/models, by default ~/.local/share/edge/models.
func DefaultDir() string {
	home, _ := os.UserHomeDir()
	return defaultDir(os.Geteuid(), os.Getenv("XDG_DATA_HOME"), home)
}

func defaultDir(euid int, xdgDataHome, home string) string {
	switch {
	case euid == 0:
		return "/var/lib/edge/models"
	case filepath.IsAbs(xdgDataHome):
		return filepath.Join(xdgDataHome, "edge", "models")
	case home != "":
		return filepath.Join(home, ".local", "share", "edge", "models")
	}
	return filepath.Join(os.TempDir(), "edge-models")
}

// archiveKind tells from the URL whether the download is an archive:
// "tgz", "zip" or "" for a plain file.
func archiveKind(url string) string {
	u := strings.ToLower(url)
	if i := strings.IndexAny(u, "?#"); i >= 0 {
		u = u[:i]
	}
	switch {
	case strings.HasSuffix(u, ".tgz"), strings.HasSuffix(u, ".tar.gz"):
		return "tgz"
	case strings.HasSuffix(u, ".zip"):
		return "zip"
	}
	return ""
}

// Fetcher downloads catalog entries. The zero value uses
// http.DefaultClient.
type Fetcher struct {
	// Client makes the requests; nil means http.DefaultClient. Cancel a
	// download through the context given to Fetch.
	Client *http.Client
}

// Fetch downloads e into dir with a zero Fetcher; see Fetcher.Fetch.
func Fetch(ctx context.Context, e Entry, dir string, progress io.Writer) (string, error) {
	return (&Fetcher{}).Fetch(ctx, e, dir, progress)
}

// Fetch downloads the model of e into dir ("" means DefaultDir()) as
// e.FileName() and returns its path. A file already there with the right
// sha256 is kept without a download.
//
// The download goes to a temporary file in dir; only once its sha256
// matches e.SHA256 (and, for an archive, the .tflite member is extracted
// and synced) is it renamed into place, so a corrupt, partial or canceled
// download never leaves a model behind: on any error the temporary files
// are removed. Errors name the URL and say what was expected: a sha256
// mismatch (ErrChecksum) gives both sums, a short body (ErrShortRead) both
// sizes, an HTTP error its status. Entries without a sha256 are refused
// (ErrNoChecksum).
//
// progress, if not nil, receives a progress bar: one line updated in
// place on a terminal, a line every 10% otherwise.
func (f *Fetcher) Fetch(ctx context.Context, e Entry, dir string, progress io.Writer) (string, error) {
	if e.URL == "" {
		return "", fmt.Errorf("%s: no url to fetch from", e.Name)
	}
	if !isHex64(e.SHA256) {
		return "", fmt.Errorf("%s: %s: %w: the catalog has none (%s); set Entry.SHA256 to a value you trust", e.Name, e.URL, ErrNoChecksum, e.SHA256Source)
	}
	if dir == "" {
		dir = DefaultDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("%s: %w", e.Name, err)
	}
	dest := filepath.Join(dir, e.FileName())
	if ok, _ := f.present(e, dest); ok {
		if progress != nil {
			fmt.Fprintf(progress, "%s: already in %s (sha256 ok)\n", e.Name, dir)
		}
		return dest, nil
	}

	tmp, sum, err := f.download(ctx, e, dir, progress)
	if err != nil {
		return "", err
	}
	defer os.Remove(tmp) // a no-op once renamed
	if e.Archive == "" {
		if err := os.Rename(tmp, dest); err != nil {
			return "", fmt.Errorf("%s: %w", e.Name, err)
		}
		syncDir(dir)
		return dest, nil
	}
	member, err := extract(tmp, archiveKind(e.URL), e.Archive, dir)
	if err != nil {
		return "", fmt.Errorf("%s: %s: %w", e.Name, e.URL, err)
	}
	defer os.Remove(member.path)
	if e.FileSHA256 != "" && member.sum != e.FileSHA256 {
		return "", fmt.Errorf("%s: %s: member %s: %w: expected %s, got %s", e.Name, e.URL, e.Archive, ErrChecksum, e.FileSHA256, member.sum)
	}
	if err := os.Rename(member.path, dest); err != nil {
		return "", fmt.Errorf("%s: %w", e.Name, err)
	}
	// Remember the member's sum, so that a later Fetch can check the
	// extracted file without downloading the archive again.
	note := fmt.Sprintf("%s  %s\n# extracted from %s (sha256 %s)\n", member.sum, e.FileName(), e.URL, sum)
	if err := os.WriteFile(dest+".sha256", []byte(note), 0o644); err != nil {
		return "", fmt.Errorf("%s: %w", e.Name, err)
	}
	syncDir(dir)
	return dest, nil
}

// present reports whether dest holds the model of e: its sha256 is the
// entry's (plain files), the entry's file_sha256, or the one recorded when
// it was extracted.
func (f *Fetcher) present(e Entry, dest string) (bool, error) {
	got, err := fileSHA256(dest)
	if err != nil {
		return false, err
	}
	want := e.SHA256
	if e.Archive != "" {
		want = e.FileSHA256
		if want == "" {
			b, err := os.ReadFile(dest + ".sha256")
			if err != nil {
				return false, err
			}
			want, _, _ = strings.Cut(string(b), " ")
		}
	}
	return got == want, nil
}

// download GETs e.URL into a temporary file in dir, checks its length and
// sha256, syncs it, and returns its path and sum. On error nothing is left.
func (f *Fetcher) download(ctx context.Context, e Entry, dir string, progress io.Writer) (tmpPath, sum string, err error) {
	client := f.Client
	if client == nil {
		client = http.DefaultClient
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, e.URL, nil)
	if err != nil {
		return "", "", fmt.Errorf("%s: %w", e.Name, err)
	}
	req.Header.Set("User-Agent", "edge-models/1")
	resp, err := client.Do(req)
	if err != nil {
		return "", "", fmt.Errorf("%s: GET %s: %w", e.Name, e.URL, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", "", fmt.Errorf("%s: GET %s: %s", e.Name, e.URL, resp.Status)
	}

	tmp, err := os.CreateTemp(dir, "."+e.Name+".*.part")
	if err != nil {
		return "", "", fmt.Errorf("%s: %w", e.Name, err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	total := resp.ContentLength
	bar := newProgressBar(progress, e.Name, total)
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(tmp, h, bar), resp.Body)
	bar.finish(err == nil)
	switch {
	case ctx.Err() != nil:
		return "", "", fmt.Errorf("%s: GET %s: download stopped after %d bytes: %w", e.Name, e.URL, n, ctx.Err())
	case errors.Is(err, io.ErrUnexpectedEOF) || (err == nil && total >= 0 && n < total):
		return "", "", fmt.Errorf("%s: GET %s: %w: got %d of %d bytes", e.Name, e.URL, ErrShortRead, n, total)
	case err != nil:
		return "", "", fmt.Errorf("%s: GET %s: after %d bytes: %w", e.Name, e.URL, n, err)
	}
	sum = hex.EncodeToString(h.Sum(nil))
	if sum != e.SHA256 {
		return "", "", fmt.Errorf("%s: GET %s: %w: expected %s, got %s (%d bytes)", e.Name, e.URL, ErrChecksum, e.SHA256, sum, n)
	}
	if err = tmp.Sync(); err != nil {
		return "", "", fmt.Errorf("%s: %w", e.Name, err)
	}
	if err = tmp.Close(); err != nil {
		return "", "", fmt.Errorf("%s: %w", e.Name, err)
	}
	return tmp.Name(), sum, nil
}

type extracted struct {
	path, sum string
}

// memberMatches compares an archive member name with the wanted path,
// ignoring a leading "./".
func memberMatches(name, want string) bool {
	clean := func(s string) string { return strings.TrimPrefix(path.Clean("/"+s), "/") }
	return clean(name) == clean(want)
}

// extract copies the member want of the archive at src (kind "tgz" or
// "zip") to a synced temporary file in dir. If no member has that path but
// exactly one has its base name, that one is taken.
func extract(src, kind, want, dir string) (out extracted, err error) {
	f, err := os.Open(src)
	if err != nil {
		return out, err
	}
	defer f.Close()
	var names []string
	switch kind {
	case "tgz":
		gz, err := gzip.NewReader(f)
		if err != nil {
			return out, fmt.Errorf("not a gzip archive: %w", err)
		}
		// Two passes at most: the exact path, else the unique base name.
		for pass := 0; pass < 2; pass++ {
			if pass == 1 {
				if _, err := f.Seek(0, io.SeekStart); err != nil {
					return out, err
				}
				if err := gz.Reset(f); err != nil {
					return out, err
				}
			}
			tr := tar.NewReader(gz)
			for {
				hdr, err := tr.Next()
				if err == io.EOF {
					break
				}
				if err != nil {
					return out, fmt.Errorf("reading the archive: %w", err)
				}
				if hdr.Typeflag != tar.TypeReg {
					continue
				}
				if pass == 0 {
					names = append(names, hdr.Name)
				}
				if (pass == 0 && memberMatches(hdr.Name, want)) || (pass == 1 && hdr.Name == uniqueBase(names, want)) {
					return writeMember(tr, dir)
				}
			}
			if uniqueBase(names, want) == "" {
				break
			}
		}
	case "zip":
		st, err := f.Stat()
		if err != nil {
			return out, err
		}
		zr, err := zip.NewReader(f, st.Size())
		if err != nil {
			return out, fmt.Errorf("not a zip archive: %w", err)
		}
		for _, zf := range zr.File {
			names = append(names, zf.Name)
		}
		for _, zf := range zr.File {
			if memberMatches(zf.Name, want) || zf.Name == uniqueBase(names, want) {
				rc, err := zf.Open()
				if err != nil {
					return out, err
				}
				defer rc.Close()
				return writeMember(rc, dir)
			}
		}
	default:
		return out, fmt.Errorf("unknown archive kind %q", kind)
	}
	return out, fmt.Errorf("archive has no member %s (it has %s)", want, strings.Join(names, ", "))
}

// uniqueBase returns the only name among names whose base name is want's,
// or "".
func uniqueBase(names []string, want string) string {
	found := ""
	for _, n := range names {
		if path.Base(n) == path.Base(want) {
			if found != "" {
				return ""
			}
			found = n
		}
	}
	return found
}

func writeMember(r io.Reader, dir string) (out extracted, err error) {
	tmp, err := os.CreateTemp(dir, ".member.*.tflite.part")
	if err != nil {
		return out, err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	h := sha256.New()
	if _, err = io.Copy(io.MultiWriter(tmp, h), r); err != nil {
		return out, fmt.Errorf("extracting: %w", err)
	}
	if err = tmp.Sync(); err != nil {
		return out, err
	}
	if err = tmp.Close(); err != nil {
		return out, err
	}
	return extracted{path: tmp.Name(), sum: hex.EncodeToString(h.Sum(nil))}, nil
}

func fileSHA256(p string) (string, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// syncDir makes a rename in dir durable; errors are ignored (some file
// systems cannot sync directories).
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}

// progressBar writes download progress to w: on a terminal one line
// rewritten with \r at most every 100 ms, elsewhere a line at each 10%
// (or each 8 MiB when the size is unknown).
type progressBar struct {
	w          io.Writer
	name       string
	total      int64
	done       int64
	start      time.Time
	last       time.Time
	tty        bool
	nextReport int64
}

func newProgressBar(w io.Writer, name string, total int64) *progressBar {
	b := &progressBar{w: w, name: name, total: total, start: time.Now()}
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			b.tty = true
		}
	}
	b.nextReport = b.step()
	return b
}

func (b *progressBar) step() int64 {
	if b.total > 0 {
		return max(b.total/10, 1)
	}
	return 8 << 20
}

func (b *progressBar) Write(p []byte) (int, error) {
	if b.w == nil {
		return len(p), nil
	}
	b.done += int64(len(p))
	now := time.Now()
	switch {
	case b.tty && now.Sub(b.last) >= 100*time.Millisecond:
		b.last = now
		fmt.Fprintf(b.w, "\r%s", b.line(now))
	case !b.tty && b.done >= b.nextReport && (b.total <= 0 || b.done < b.total):
		fmt.Fprintln(b.w, b.line(now))
		for b.nextReport <= b.done {
			b.nextReport += b.step()
		}
	}
	return len(p), nil
}

func (b *progressBar) finish(ok bool) {
	if b.w == nil {
		return
	}
	line := b.line(time.Now())
	if !ok {
		line += " — failed"
	}
	if b.tty {
		fmt.Fprintf(b.w, "\r%s\x1b[K\n", line)
		return
	}
	fmt.Fprintln(b.w, line)
}

// line renders "name [=====>    ] 1.2 MiB / 4.0 MiB  30%  850.0 KiB/s".
func (b *progressBar) line(now time.Time) string {
	rate := ""
	if el := now.Sub(b.start).Seconds(); el > 0 {
		rate = Bytes(int64(float64(b.done)/el)) + "/s"
	}
	if b.total <= 0 {
		return fmt.Sprintf("%s %s  %s", b.name, Bytes(b.done), rate)
	}
	frac := float64(b.done) / float64(b.total)
	const width = 24
	fill := min(int(frac*width), width)
	bar := strings.Repeat("=", fill)
	if fill < width {
		bar += ">" + strings.Repeat(" ", width-fill-1)
	}
	return fmt.Sprintf("%s [%s] %s / %s %3.0f%%  %s", b.name, bar, Bytes(b.done), Bytes(b.total), 100*frac, rate)
}

// Details is what Info knows about a catalog entry on this machine.
type Details struct {
	Entry
	// Path is where Fetch stores the model in the directory asked about.
	Path string `json:"path"`
	// Fetched reports that Path holds the model with the right sha256.
	Fetched bool `json:"fetched"`
	// Report is the analysis of the fetched model, nil if not fetched.
	Report *Report `json:"report,omitempty"`
}

// Info describes e and, when it has been fetched into DefaultDir(),
// analyzes the file.
func Info(e Entry) (*Details, error) { return InfoIn(e, "") }

// InfoIn is Info for the models stored in dir ("" means DefaultDir()).
func InfoIn(e Entry, dir string) (*Details, error) {
	if dir == "" {
		dir = DefaultDir()
	}
	d := &Details{Entry: e, Path: filepath.Join(dir, e.FileName())}
	ok, err := (&Fetcher{}).present(e, d.Path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%s: %w", e.Name, err)
	}
	d.Fetched = ok
	if ok {
		if d.Report, err = AnalyzeFile(d.Path); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// String renders the details as "key: value" lines, then the analysis.
func (d *Details) String() string {
	var sb strings.Builder
	e := d.Entry
	family := string(e.Family)
	if e.Variant != "" {
		family += " " + e.Variant
	}
	fmt.Fprintf(&sb, "name:       %s\n", e.Name)
	fmt.Fprintf(&sb, "family:     %s, width %s, %dx%d, %s", family, e.WidthString(), e.Resolution, e.Resolution, e.Quant)
	if e.EdgeTPU {
		sb.WriteString(", Edge TPU")
	}
	fmt.Fprintf(&sb, "\nsource:     %s\nurl:        %s\n", e.Source, e.URL)
	if e.Archive != "" {
		fmt.Fprintf(&sb, "archive:    %s\n", e.Archive)
	}
	switch {
	case e.SHA256 == "":
		fmt.Fprintf(&sb, "sha256:     unknown (%s)\n", e.SHA256Source)
	case e.Verified:
		fmt.Fprintf(&sb, "sha256:     %s (verified against the fixture %s)\n", e.SHA256, e.Fixture)
	default:
		fmt.Fprintf(&sb, "sha256:     %s (unverified: %s)\n", e.SHA256, e.SHA256Source)
	}
	if e.Size > 0 {
		fmt.Fprintf(&sb, "size:       %s (%d bytes)\n", Bytes(e.Size), e.Size)
	}
	fmt.Fprintf(&sb, "input:      %s, %s\n", e.Input, e.Preprocess)
	fmt.Fprintf(&sb, "labels:     %s (%d lines) %s\n", e.Labels.Name, e.Labels.Count, e.Labels.URL)
	if p := e.Published; p != nil {
		fmt.Fprintf(&sb, "published:  %gM MAdds, %gM params", p.MAdds, p.Params)
		if p.Top1 > 0 {
			fmt.Fprintf(&sb, ", top-1 %g%%", p.Top1)
		}
		fmt.Fprintf(&sb, " (%s)\n", p.Source)
	}
	if e.Notes != "" {
		fmt.Fprintf(&sb, "notes:      %s\n", e.Notes)
	}
	if !d.Fetched {
		fmt.Fprintf(&sb, "local:      not fetched (%s)\n", d.Path)
		return sb.String()
	}
	fmt.Fprintf(&sb, "local:      %s\n", d.Path)
	if d.Report != nil {
		sb.WriteString(d.Report.Summary())
	}
	return sb.String()
}
