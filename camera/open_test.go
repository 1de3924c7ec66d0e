package camera

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestOpenErrors(t *testing.T) {
	tmp := t.TempDir()
	empty := filepath.Join(tmp, "empty")
	textOnly := filepath.Join(tmp, "text-only")
	fakeAVI := filepath.Join(tmp, "x.avi")
	missing := filepath.Join(tmp, "missing.avi")
	for _, d := range []string{empty, textOnly} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range []string{fakeAVI, filepath.Join(textOnly, "notes.txt")} {
		if err := os.WriteFile(p, []byte("this is text, not video\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}

	tests := []struct {
		name     string
		spec     string
		opts     Options
		contains []string // the error names the thing and what is wrong
		notExist bool     // errors.Is(err, fs.ErrNotExist)
	}{
		{name: "missing file", spec: missing, contains: []string{missing, "no such"}, notExist: true},
		{name: "missing file with prefix", spec: "file:" + missing, contains: []string{missing, "no such video file"}, notExist: true},
		{name: "missing dir with prefix", spec: "dir:" + filepath.Join(tmp, "nope"), contains: []string{filepath.Join(tmp, "nope"), "no such folder"}, notExist: true},
		{name: "empty dir", spec: empty, contains: []string{empty, "no images", ".jpg"}},
		{name: "dir with only a text file", spec: "dir:" + textOnly, contains: []string{textOnly, "no images"}},
		{name: "text file named x.avi", spec: fakeAVI, contains: []string{fakeAVI, "cannot open", "as a video"}},
		{name: "dir as file", spec: "file:" + empty, contains: []string{empty, "is a directory", "dir:"}},
		{name: "file as dir", spec: "dir:" + fakeAVI, contains: []string{fakeAVI, "not a directory"}},
		{name: "missing V4L2 device", spec: "/dev/video9", contains: []string{"/dev/video9", "no such V4L2 device"}, notExist: true},
		{name: "missing V4L2 device with prefix", spec: "v4l2:/dev/video9", contains: []string{"/dev/video9", "no such V4L2 device"}, notExist: true},
		{name: "missing V4L2 index", spec: "9", contains: []string{"/dev/video9", "no such V4L2 device"}, notExist: true},
		{name: "V4L2 on a character device that is no camera", spec: "/dev/null", contains: []string{"/dev/null", "V4L2 cannot open"}},
		{name: "V4L2 on a regular file", spec: "v4l2:" + fakeAVI, contains: []string{fakeAVI, "not a character device"}},
		{name: "empty spec", spec: "", contains: []string{"empty spec"}},
		{name: "empty pipeline", spec: "gst:", contains: []string{"gst:", "empty GStreamer pipeline"}},
		{name: "missing GStreamer element", spec: "gst:nosuchcamerasrc ! appsink", contains: []string{"nosuchcamerasrc", "GStreamer cannot start"}},
		{name: "unreachable stream", spec: "rtsp://127.0.0.1:1/stream", contains: []string{"rtsp://127.0.0.1:1/stream", "FFmpeg cannot open"}},
		{name: "password redacted", spec: "http://admin:s3cret@127.0.0.1:1/video.mjpg", contains: []string{"http://admin:xxxxx@127.0.0.1:1/video.mjpg", "FFmpeg cannot open"}},
		{name: "bad FourCC", spec: missing, opts: Options{FourCC: "MJPEG"}, contains: []string{missing, `FourCC "MJPEG"`, "4 characters"}},
		{name: "negative size", spec: missing, opts: Options{Width: -1}, contains: []string{missing, "size -1x0"}},
		{name: "negative FPS", spec: missing, opts: Options{FPS: -5}, contains: []string{missing, "FPS -5"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.opts.Logger = quiet
			src, err := Open(tc.spec, tc.opts)
			if err == nil {
				src.Close()
				t.Fatalf("Open(%q) succeeded, want an error", tc.spec)
			}
			t.Logf("Open(%q): %v", tc.spec, err)
			for _, s := range tc.contains {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("Open(%q): %q does not contain %q", tc.spec, err, s)
				}
			}
			if strings.Contains(err.Error(), "s3cret") {
				t.Errorf("Open(%q): error shows the password: %q", tc.spec, err)
			}
			if got := errors.Is(err, fs.ErrNotExist); got != tc.notExist {
				t.Errorf("Open(%q): errors.Is(err, fs.ErrNotExist) = %v, want %v (err %q)", tc.spec, got, tc.notExist, err)
			}
		})
	}
}

func TestParseSpec(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "clip.mp4")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		spec   string
		kind   kind
		target string
	}{
		{"0", kindV4L2, "0"},
		{"12", kindV4L2, "12"},
		{"v4l2:/dev/video2", kindV4L2, "/dev/video2"},
		{"v4l2:1", kindV4L2, "1"},
		{"/dev/null", kindV4L2, "/dev/null"}, // a character device: Open then says it is no camera
		{"gst:videotestsrc ! appsink", kindGStreamer, "videotestsrc ! appsink"},
		{"rtsp://cam.local:554/h264", kindStream, "rtsp://cam.local:554/h264"},
		{"RTSP://cam.local/h264", kindStream, "RTSP://cam.local/h264"},
		{"rtsps://cam.local/s", kindStream, "rtsps://cam.local/s"},
		{"http://cam.local/video.mjpg", kindStream, "http://cam.local/video.mjpg"},
		{"https://cam.local/live.m3u8", kindStream, "https://cam.local/live.m3u8"},
		{file, kindFile, file},
		{"file:" + file, kindFile, file},
		{"file://" + file, kindFile, file},
		{"file:does/not/exist.avi", kindFile, "does/not/exist.avi"}, // checked by Open
		{dir, kindDir, dir},
		{"dir:" + dir, kindDir, dir},
	}
	for _, tc := range tests {
		t.Run(tc.spec, func(t *testing.T) {
			k, target, err := parseSpec(tc.spec)
			if err != nil {
				t.Fatal(err)
			}
			if k != tc.kind || target != tc.target {
				t.Errorf("parseSpec(%q) = %v %q, want %v %q", tc.spec, k, target, tc.kind, tc.target)
			}
		})
	}
}

func TestRedact(t *testing.T) {
	tests := []struct{ in, want string }{
		{"rtsp://admin:pa55@10.0.0.2:554/s", "rtsp://admin:xxxxx@10.0.0.2:554/s"},
		{"rtsp://10.0.0.2/s", "rtsp://10.0.0.2/s"},
		{"rtsp://user@10.0.0.2/s", "rtsp://user@10.0.0.2/s"},
		{"gst:rtspsrc location=rtsp://u:p@cam/s ! decodebin ! videoconvert ! appsink", "gst:rtspsrc location=rtsp://u:xxxxx@cam/s ! decodebin ! videoconvert ! appsink"},
		{"/dev/video0", "/dev/video0"},
	}
	for _, tc := range tests {
		if got := redact(tc.in); got != tc.want {
			t.Errorf("redact(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
