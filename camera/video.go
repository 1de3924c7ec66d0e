package camera

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"strconv"
	"sync"
	"time"

	"gocv.io/x/gocv"
)

// videoSource reads frames from an OpenCV VideoCapture: a V4L2 device, a
// GStreamer pipeline, a network stream or a video file.
type videoSource struct {
	name string // the spec, password redacted
	kind kind
	path string // video files: reopened when seeking back to the start fails
	loop bool   // video files: start again at the end
	log  *slog.Logger

	pace pacer         // used by Read only, outside mu
	done chan struct{} // closed by Close: ends a pacing wait

	mu   sync.Mutex // held by Read (but not while pacing) and Close
	vc   *gocv.VideoCapture
	bgr  gocv.Mat // what OpenCV decodes into, reused
	conv converter
	seq  uint64
}

func openV4L2(name, target string, opts Options) (Source, error) {
	dev, arg := target, any(target)
	if isIndex(target) {
		n, _ := strconv.Atoi(target)
		dev, arg = "/dev/video"+strconv.Itoa(n), n
	}
	fi, err := os.Stat(dev)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("camera: %s: no such V4L2 device (is the camera connected? see ls /dev/video*): %w", name, err)
	case err != nil:
		return nil, fmt.Errorf("camera: %s: %w", name, err)
	case fi.Mode()&fs.ModeCharDevice == 0:
		return nil, fmt.Errorf("camera: %s: %s is not a character device, want a V4L2 device such as /dev/video0", name, dev)
	}
	vc, err := gocv.OpenVideoCaptureWithAPI(arg, gocv.VideoCaptureV4L2)
	if err != nil || !vc.IsOpened() {
		closeCapture(vc)
		return nil, fmt.Errorf("camera: %s: V4L2 cannot open %s (busy with another program, no permission, or not a capture device)", name, dev)
	}
	// The pixel format first: it decides which sizes and rates exist.
	if opts.FourCC != "" {
		vc.Set(gocv.VideoCaptureFOURCC, vc.ToCodec(opts.FourCC))
	}
	if opts.Width > 0 {
		vc.Set(gocv.VideoCaptureFrameWidth, float64(opts.Width))
	}
	if opts.Height > 0 {
		vc.Set(gocv.VideoCaptureFrameHeight, float64(opts.Height))
	}
	if opts.FPS > 0 {
		vc.Set(gocv.VideoCaptureFPS, opts.FPS)
	}
	// The device paces itself: no pacer.
	return newVideoSource(name, kindV4L2, "", vc, Options{Logger: opts.Logger}), nil
}

func openGStreamer(name, pipeline string, opts Options) (Source, error) {
	vc, err := gocv.VideoCaptureFileWithAPI(pipeline, gocv.VideoCaptureGstreamer)
	if err != nil || !vc.IsOpened() {
		closeCapture(vc)
		return nil, fmt.Errorf("camera: %s: GStreamer cannot start the pipeline (does every element exist? see gst-inspect-1.0; does it end in appsink with BGR or GRAY8 caps?)", name)
	}
	return newVideoSource(name, kindGStreamer, "", vc, Options{Logger: opts.Logger}), nil
}

func openStream(name, url string, opts Options) (Source, error) {
	vc, err := gocv.VideoCaptureFileWithAPI(url, gocv.VideoCaptureFFmpeg)
	if err != nil || !vc.IsOpened() {
		closeCapture(vc)
		return nil, fmt.Errorf("camera: %s: FFmpeg cannot open the stream (unreachable, wrong path or credentials, or a format FFmpeg does not read)", name)
	}
	return newVideoSource(name, kindStream, "", vc, Options{Logger: opts.Logger}), nil
}

func openFile(name, path string, opts Options) (Source, error) {
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("camera: %s: no such video file: %w", name, err)
	case err != nil:
		return nil, fmt.Errorf("camera: %s: %w", name, err)
	case fi.IsDir():
		return nil, fmt.Errorf("camera: %s: %s is a directory, want a video file (dir:%s reads a folder of images)", name, path, path)
	case !fi.Mode().IsRegular():
		return nil, fmt.Errorf("camera: %s: %s is not a regular file, want a video file", name, path)
	}
	vc, err := captureFile(path)
	if err != nil {
		return nil, fmt.Errorf("camera: %s: %w", name, err)
	}
	return newVideoSource(name, kindFile, path, vc, opts), nil
}

// captureFile opens a video file with FFmpeg.
func captureFile(path string) (*gocv.VideoCapture, error) {
	vc, err := gocv.VideoCaptureFileWithAPI(path, gocv.VideoCaptureFFmpeg)
	if err != nil || !vc.IsOpened() {
		closeCapture(vc)
		return nil, errors.New("OpenCV (FFmpeg) cannot open it as a video (not a video file, or a codec FFmpeg lacks)")
	}
	return vc, nil
}

// closeCapture closes a VideoCapture that failed to open: gocv returns one
// even then, and it holds a C++ object.
func closeCapture(vc *gocv.VideoCapture) {
	if vc != nil {
		_ = vc.Close()
	}
}

// newVideoSource takes ownership of an opened vc; opts.FPS paces it (files).
func newVideoSource(name string, k kind, path string, vc *gocv.VideoCapture, opts Options) *videoSource {
	s := &videoSource{
		name: name,
		kind: k,
		path: path,
		loop: opts.Loop && k == kindFile,
		log:  opts.Logger,
		vc:   vc,
		bgr:  gocv.NewMat(),
		conv: newConverter(),
		pace: newPacer(opts.FPS),
		done: make(chan struct{}),
	}
	attrs := []any{
		"source", name, "kind", k.String(),
		"width", int(vc.Get(gocv.VideoCaptureFrameWidth)),
		"height", int(vc.Get(gocv.VideoCaptureFrameHeight)),
		"fps", vc.Get(gocv.VideoCaptureFPS),
	}
	if k == kindV4L2 || k == kindFile {
		attrs = append(attrs, "fourcc", vc.CodecString())
	}
	if k == kindFile {
		attrs = append(attrs, "frames", int(vc.Get(gocv.VideoCaptureFrameCount)), "loop", s.loop, "pace_fps", opts.FPS)
	}
	s.log.Info("camera: opened", attrs...)
	return s
}

// String returns the spec, with any password redacted.
func (s *videoSource) String() string { return s.name }

func (s *videoSource) Read(ctx context.Context, f *Frame) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := s.pace.wait(ctx, s.done); err != nil {
		return wrapClosed(s.name, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.vc == nil {
		return wrapClosed(s.name, ErrClosed)
	}
	if !s.vc.Read(&s.bgr) || s.bgr.Empty() {
		if s.kind != kindFile {
			return fmt.Errorf("camera: %s: %w", s.name, ErrNoFrame)
		}
		if !s.loop {
			return io.EOF
		}
		if err := s.rewind(); err != nil {
			return err
		}
	}
	s.seq++
	return s.conv.fill(s.name, s.bgr, f, s.seq, time.Now())
}

// rewind starts a looping video file again and reads its first frame into
// s.bgr: by seeking to frame 0, or, where the container does not seek, by
// opening the file again.
func (s *videoSource) rewind() error {
	s.vc.Set(gocv.VideoCapturePosFrames, 0)
	if s.vc.Read(&s.bgr) && !s.bgr.Empty() {
		return nil
	}
	vc, err := captureFile(s.path)
	if err != nil {
		return fmt.Errorf("camera: %s: reopening to loop: %w", s.name, err)
	}
	_ = s.vc.Close()
	s.vc = vc
	if s.vc.Read(&s.bgr) && !s.bgr.Empty() {
		return nil
	}
	return fmt.Errorf("camera: %s: no frame at the start of the video after looping (empty or unreadable file)", s.name)
}

func (s *videoSource) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.vc == nil {
		return nil
	}
	close(s.done)
	err := s.vc.Close()
	s.vc = nil
	err = errors.Join(err, s.bgr.Close(), s.conv.Close())
	if err != nil {
		return fmt.Errorf("camera: %s: close: %w", s.name, err)
	}
	return nil
}
