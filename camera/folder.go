package camera

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"gocv.io/x/gocv"
)

// imageExts are the file extensions a folder source reads, lower case.
var imageExts = []string{".jpg", ".jpeg", ".png", ".bmp"}

// folderSource reads the images of a directory in name order, one frame
// each.
type folderSource struct {
	name  string
	dir   string
	files []string // full paths, sorted by name
	loop  bool
	log   *slog.Logger

	pace pacer         // used by Read only, outside mu
	done chan struct{} // closed by Close: ends a pacing wait

	mu     sync.Mutex // held by Read (but not while pacing) and Close
	closed bool
	next   int    // index in files of the next image
	bad    []bool // images OpenCV could not decode, skipped from then on
	conv   converter
	seq    uint64
}

func openDir(name, dir string, opts Options) (Source, error) {
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("camera: %s: no such folder: %w", name, err)
	case err != nil:
		return nil, fmt.Errorf("camera: %s: %w", name, err)
	case !fi.IsDir():
		return nil, fmt.Errorf("camera: %s: %s is not a directory, want a folder of images (file:%s reads a video file)", name, dir, dir)
	}
	entries, err := os.ReadDir(dir) // sorted by file name
	if err != nil {
		return nil, fmt.Errorf("camera: %s: %w", name, err)
	}
	var files []string
	for _, e := range entries {
		if !slices.Contains(imageExts, strings.ToLower(filepath.Ext(e.Name()))) {
			continue
		}
		// Follow symlinks; skip directories named like images.
		if fi, err := os.Stat(filepath.Join(dir, e.Name())); err != nil || !fi.Mode().IsRegular() {
			continue
		}
		files = append(files, filepath.Join(dir, e.Name()))
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("camera: %s: no images in %s (want .jpg, .jpeg, .png or .bmp files; it has %d entries, none of them an image)", name, dir, len(entries))
	}
	s := &folderSource{
		name:  name,
		dir:   dir,
		files: files,
		loop:  opts.Loop,
		log:   opts.Logger,
		bad:   make([]bool, len(files)),
		conv:  newConverter(),
		pace:  newPacer(opts.FPS),
		done:  make(chan struct{}),
	}
	s.log.Info("camera: opened", "source", name, "kind", kindDir.String(), "images", len(files), "loop", s.loop, "pace_fps", opts.FPS)
	return s, nil
}

// String returns the spec.
func (s *folderSource) String() string { return s.name }

func (s *folderSource) Read(ctx context.Context, f *Frame) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := s.pace.wait(ctx, s.done); err != nil {
		return wrapClosed(s.name, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return wrapClosed(s.name, ErrClosed)
	}
	// At most one pass over the folder: every image undecodable ends it.
	for tries := 0; tries < len(s.files); tries++ {
		if s.next == len(s.files) {
			if !s.loop {
				return io.EOF
			}
			s.next = 0
		}
		i := s.next
		s.next++
		if s.bad[i] {
			continue
		}
		ok, err := s.decode(s.files[i], f)
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
		s.bad[i] = true
		s.log.Warn("camera: skipping an image OpenCV cannot decode", "source", s.name, "file", s.files[i])
	}
	if !slices.Contains(s.bad, false) {
		return fmt.Errorf("camera: %s: OpenCV can decode none of the %d images in %s", s.name, len(s.files), s.dir)
	}
	return io.EOF // the last images of a folder that does not loop were undecodable
}

// decode reads one image into f; false means OpenCV could not decode it.
func (s *folderSource) decode(path string, f *Frame) (bool, error) {
	img := gocv.IMRead(path, gocv.IMReadColor)
	defer img.Close()
	if img.Empty() {
		return false, nil
	}
	s.seq++
	if err := s.conv.fill(s.name, img, f, s.seq, time.Now()); err != nil {
		s.seq--
		return false, err
	}
	return true, nil
}

func (s *folderSource) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	close(s.done)
	if err := s.conv.Close(); err != nil {
		return fmt.Errorf("camera: %s: close: %w", s.name, err)
	}
	return nil
}
