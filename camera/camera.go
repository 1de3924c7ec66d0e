package camera

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Frame is one captured image as packed 8-bit RGB (3 bytes per pixel,
// row-major, no padding).
type Frame struct {
	// Pix holds the pixels: len(Pix) == Width*Height*3. Read reuses it
	// between frames (it grows only when a larger frame comes), so a caller
	// that keeps a frame past the next Read copies Pix.
	Pix           []byte
	Width, Height int
	// Seq is the frame number from the source, starting at 1. It keeps
	// counting when a looping file or folder starts again, and across the
	// reopens of a Reconnecting source.
	Seq uint64
	// Time is the capture time: when Read got the frame from OpenCV.
	Time time.Time
}

// Source delivers frames.
//
// Read blocks until the next frame, fills f (reusing f.Pix's capacity, so
// steady-state reads allocate nothing) and returns an error on failure:
// io.EOF at the end of a finite source (a video file or a folder without
// Options.Loop), ctx.Err() when ctx ends while Read waits, an error wrapping
// [ErrNoFrame] when a live camera or stream gives no frame, and one wrapping
// [ErrClosed] after Close. On error f is left as it was.
//
// Close frees the capture and every OpenCV buffer; it is safe to call more
// than once.
type Source interface {
	Read(ctx context.Context, f *Frame) error
	Close() error
}

// Options tune how Open captures. The zero value takes the device's own
// mode and reads files and folders once, as fast as Read is called.
type Options struct {
	// Width and Height are the capture size requested from a V4L2 device;
	// 0 keeps the device default.
	Width, Height int
	// FPS is the frame rate requested from a V4L2 device, and the pace at
	// which files and folders deliver frames; 0 is the device default, or
	// as fast as Read is called.
	FPS float64
	// FourCC is the pixel format requested from a V4L2 device, such as
	// "MJPG" or "YUYV"; "" keeps the device default.
	FourCC string
	// Loop makes video files and folders start again at the end instead of
	// returning io.EOF.
	Loop bool
	// Logger receives one Info line when a source opens and Warn lines for
	// skipped images; nil means slog.Default().
	Logger *slog.Logger
}

var (
	// ErrClosed is wrapped by the error of a Read after Close.
	ErrClosed = errors.New("source is closed")
	// ErrNoFrame is wrapped by the error of a Read when a live camera or
	// stream gives no frame: the device was unplugged, the stream dropped,
	// or a GStreamer pipeline stopped.
	ErrNoFrame = errors.New("no frame (device unplugged or stream ended?)")
)

// Open opens the source that spec names (see the package documentation for
// the forms): a V4L2 camera, a GStreamer pipeline, a network stream, a video
// file or a folder of images. The error names the spec and what is wrong
// with it; a missing device, file or folder wraps fs.ErrNotExist.
func Open(spec string, opts Options) (Source, error) {
	if spec == "" {
		return nil, errors.New("camera: empty spec: want a device (/dev/video0, 0), gst:PIPELINE, a URL, a video file or a folder")
	}
	name := redact(spec)
	if err := opts.validate(); err != nil {
		return nil, fmt.Errorf("camera: %s: %w", name, err)
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	k, target, err := parseSpec(spec)
	if err != nil {
		return nil, fmt.Errorf("camera: %s: %w", name, err)
	}
	switch k {
	case kindV4L2:
		return openV4L2(name, target, opts)
	case kindGStreamer:
		return openGStreamer(name, target, opts)
	case kindStream:
		return openStream(name, target, opts)
	case kindFile:
		return openFile(name, target, opts)
	case kindDir:
		return openDir(name, target, opts)
	}
	return nil, fmt.Errorf("camera: %s: unknown kind of source", name)
}

func (o Options) validate() error {
	switch {
	case o.Width < 0 || o.Height < 0:
		return fmt.Errorf("options: size %dx%d: want 0 (device default) or positive", o.Width, o.Height)
	case o.FPS < 0 || math.IsNaN(o.FPS) || math.IsInf(o.FPS, 0):
		return fmt.Errorf("options: FPS %v: want 0 (default) or a positive rate", o.FPS)
	case o.FourCC != "" && len(o.FourCC) != 4:
		return fmt.Errorf("options: FourCC %q: want 4 characters such as \"MJPG\" or \"YUYV\"", o.FourCC)
	}
	return nil
}

// kind is the kind of source a spec names.
type kind int

const (
	kindV4L2 kind = iota + 1
	kindGStreamer
	kindStream
	kindFile
	kindDir
)

func (k kind) String() string {
	switch k {
	case kindV4L2:
		return "v4l2"
	case kindGStreamer:
		return "gstreamer"
	case kindStream:
		return "stream"
	case kindFile:
		return "file"
	case kindDir:
		return "dir"
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// streamSchemes are the URL schemes opened with FFmpeg as network streams.
var streamSchemes = []string{"rtsp://", "rtsps://", "http://", "https://"}

// parseSpec tells which kind of source spec names and what to open: a
// device path or index, a pipeline, a URL or a path. For a path without a
// prefix it looks at the file system; a missing path is an error.
func parseSpec(spec string) (kind, string, error) {
	if spec == "" {
		return 0, "", errors.New("empty spec: want a device (/dev/video0, 0), gst:PIPELINE, a URL, a video file or a folder")
	}
	lower := strings.ToLower(spec)
	for _, s := range streamSchemes {
		if strings.HasPrefix(lower, s) {
			return kindStream, spec, nil
		}
	}
	prefix, rest, ok := strings.Cut(spec, ":")
	if ok {
		switch prefix {
		case "gst":
			if strings.TrimSpace(rest) == "" {
				return 0, "", errors.New("empty GStreamer pipeline (want gst:PIPELINE ! appsink)")
			}
			return kindGStreamer, rest, nil
		case "v4l2":
			if rest == "" {
				return 0, "", errors.New("no device after v4l2: (want v4l2:/dev/video0 or v4l2:0)")
			}
			return kindV4L2, rest, nil
		case "file", "dir":
			// file:///abs/path and file:/abs/path both name /abs/path.
			rest = strings.TrimPrefix(rest, "//")
			if rest == "" {
				return 0, "", fmt.Errorf("no path after %q", prefix+":")
			}
			if prefix == "file" {
				return kindFile, rest, nil
			}
			return kindDir, rest, nil
		}
	}
	if isIndex(spec) {
		return kindV4L2, spec, nil
	}
	fi, err := os.Stat(spec)
	switch {
	case err != nil && strings.HasPrefix(spec, "/dev/"):
		return 0, "", fmt.Errorf("no such V4L2 device (is the camera connected? see ls /dev/video*): %w", err)
	case errors.Is(err, fs.ErrNotExist):
		return 0, "", fmt.Errorf("no such file, folder or device: %w", err)
	case err != nil:
		return 0, "", err
	case fi.Mode()&fs.ModeCharDevice != 0:
		return kindV4L2, spec, nil
	case fi.IsDir():
		return kindDir, spec, nil
	}
	return kindFile, spec, nil
}

func isIndex(s string) bool {
	if s == "" || len(s) > 4 {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// userinfo matches the password of a URL ("://user:password@"), wherever it
// is in a spec: a stream URL, or a location= inside a GStreamer pipeline.
var userinfo = regexp.MustCompile(`(://[^/@\s:]*:)[^/@\s]*@`)

// redact returns spec with any URL password replaced by "xxxxx", for errors
// and logs.
func redact(spec string) string {
	return userinfo.ReplaceAllString(spec, "${1}xxxxx@")
}

// wrapClosed names the source in ErrClosed; other errors (ctx.Err()) pass
// as they are.
func wrapClosed(name string, err error) error {
	if err == ErrClosed {
		return fmt.Errorf("camera: %s: %w", name, ErrClosed)
	}
	return err
}
