// Package camera delivers frames from cameras, streams, files and folders
// for the inference pipeline.
//
// [Open] turns a spec string into a [Source]; [Source.Read] fills a [Frame]
// with packed 8-bit RGB pixels (3 bytes a pixel, row-major, no padding),
// reusing the frame's buffer so that a steady stream of reads allocates
// nothing. [Reconnecting] (or [OpenReconnecting]) wraps a live source so that
// an unplugged camera or a dropped stream is reopened with exponential
// backoff instead of ending the pipeline.
//
// Capture goes through OpenCV's videoio (gocv, built against Debian's
// OpenCV 4.6): V4L2 for local cameras, GStreamer for pipelines, FFmpeg for
// network streams and video files; folders of still images are decoded with
// OpenCV's imgcodecs.
//
// # Specs
//
// V4L2 camera: a device path, the same with a "v4l2:" prefix, or a bare
// index N meaning /dev/videoN. Options.Width, Height, FPS and FourCC are
// requested from the driver; the driver may pick the nearest mode it has,
// and the sizes of the frames tell what it chose.
//
//	/dev/video0
//	v4l2:/dev/video2
//	0
//
// GStreamer pipeline: "gst:" and a gst-launch style pipeline that ends in an
// appsink. OpenCV's appsink takes 8-bit BGR (or GRAY8), so end the pipeline
// with caps it accepts, or with a videoconvert that can produce them.
// Options are not applied: the size and rate are set in the caps.
//
// Raspberry Pi OS Bookworm (libcamera; Camera Module 2/3, HQ camera). Put
// the format in the caps right after libcamerasrc: GStreamer's BGR is
// libcamera's RGB888, which the Pi 4 and Pi 5 ISPs produce themselves, so
// videoconvert passes it through and the CPU does no colour conversion
// (without a format libcamerasrc negotiates a YUV format and videoconvert
// converts every frame on the CPU). Prefer widths that are a multiple of 64
// (640, 1280, 1920): Bookworm's libcamerasrc does not tell GStreamer about
// padded rows, and with other widths the frames can come out sheared.
//
//	gst:libcamerasrc ! video/x-raw,width=640,height=480,framerate=30/1,format=BGR ! videoconvert ! appsink drop=1 max-buffers=1
//
// If a sensor or libcamera version refuses BGR ("not-negotiated"), let the
// ISP give NV12 and convert on the CPU:
//
//	gst:libcamerasrc ! video/x-raw,width=640,height=480,format=NV12 ! videoconvert ! video/x-raw,format=BGR ! appsink drop=1 max-buffers=1
//
// NVIDIA Jetson (CSI camera through Argus): nvvidconv copies the NVMM
// buffer to system memory as BGRx, videoconvert drops the x.
//
//	gst:nvarguscamerasrc ! video/x-raw(memory:NVMM),width=1280,height=720,framerate=30/1 ! nvvidconv ! video/x-raw,format=BGRx ! videoconvert ! video/x-raw,format=BGR ! appsink drop=1
//
// drop=1 (with max-buffers=1) makes the appsink keep only the newest frame,
// so a slow consumer sees fresh frames instead of a growing backlog.
//
// Network stream: an rtsp://, rtsps://, http:// or https:// URL, opened with
// FFmpeg (MJPEG over HTTP, RTSP from IP cameras, HLS). A password in the URL
// is replaced by "xxxxx" in errors and logs. A stream that stops delivering
// frames is an error (wrapping [ErrNoFrame]), never io.EOF, so that
// [Reconnecting] reopens it.
//
//	rtsp://user:secret@192.0.2.10:554/stream1
//	http://192.0.2.11:8080/video.mjpg
//
// Video file: a path to a file FFmpeg can read, with an optional "file:"
// prefix. Frames come as fast as Read is called, or at Options.FPS. At the
// end Read returns io.EOF, or, with Options.Loop, starts again at the first
// frame.
//
//	/var/lib/edge/parking.mp4
//	file:clips/test.avi
//
// Folder of images: a path to a directory, with an optional "dir:" prefix.
// Its .jpg, .jpeg, .png and .bmp files (any case; not subdirectories) are
// read in name order, one frame each, each frame as large as its image.
// Frames come as fast as Read is called, or at Options.FPS. At the end Read
// returns io.EOF, or, with Options.Loop, starts again at the first image. An
// image that cannot be decoded is logged once and skipped.
//
//	/srv/edge/samples
//	dir:testdata/photos
//
// # Lifetimes
//
// A Source is read by one goroutine at a time. Close may be called from
// another goroutine: a Read waiting to pace frames (or, in [Reconnecting],
// to retry) returns at once with an error wrapping [ErrClosed], while a
// read already inside OpenCV finishes first. Read returns ctx.Err() when ctx
// ends while it waits. A read inside OpenCV, waiting for the next camera
// frame, cannot be interrupted: for a live camera it takes at most a frame
// interval, for a stalled network stream up to FFmpeg's 30 s read timeout.
//
// Every OpenCV object a Source holds is freed by its Close; build with
// -tags matprofile to check with gocv.MatProfile.
package camera
