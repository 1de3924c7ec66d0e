package camera

import (
	"image"
	_ "image/jpeg"
	_ "image/png"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"gocv.io/x/gocv"

	fixturedir "github.com/edgeproject/edge/camera/fixtures"
)

func fixtures(t testing.TB) string { return fixturedir.Dir(t) }

func fixtureImage(t testing.TB, name string) string {
	t.Helper()
	return filepath.Join(fixtures(t), "images", name)
}

// quiet is a logger for tests that do not look at the log.
var quiet = slog.New(slog.DiscardHandler)

// testVideo is the clip writeTestVideo makes: 10 frames of coffee.png, then
// 10 of pets.jpg, each resized to 320x240, as MJPG in AVI at 10 fps.
var testVideo = struct {
	w, h   int
	images []string
	each   int
}{320, 240, []string{"coffee.png", "pets.jpg"}, 10}

// writeTestVideo writes testVideo to path with OpenCV's VideoWriter.
func writeTestVideo(t testing.TB, path string) {
	t.Helper()
	vw, err := gocv.VideoWriterFile(path, "MJPG", 10, testVideo.w, testVideo.h, true)
	if err != nil {
		t.Fatalf("VideoWriterFile %s: %v", path, err)
	}
	defer vw.Close()
	if !vw.IsOpened() {
		t.Fatalf("VideoWriterFile %s: MJPG/AVI writer did not open", path)
	}
	small := gocv.NewMat()
	defer small.Close()
	for _, name := range testVideo.images {
		img := gocv.IMRead(fixtureImage(t, name), gocv.IMReadColor)
		if img.Empty() {
			img.Close()
			t.Fatalf("IMRead %s: empty", name)
		}
		gocv.Resize(img, &small, image.Pt(testVideo.w, testVideo.h), 0, 0, gocv.InterpolationArea)
		img.Close()
		for range testVideo.each {
			if err := vw.Write(small); err != nil {
				t.Fatalf("write %s: %v", path, err)
			}
		}
	}
}

// videoFile writes the test video into a temporary directory and returns
// its path.
func videoFile(t testing.TB) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "clip.avi")
	writeTestVideo(t, path)
	return path
}

// decodeImage decodes a fixture with Go's image package (not OpenCV).
func decodeImage(t testing.TB, path string) image.Image {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, _, err := image.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return img
}

// meanRGB is the mean of each channel of a Go image, 0..255.
func meanRGB(img image.Image) [3]float64 {
	var sum [3]float64
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			sum[0] += float64(r >> 8)
			sum[1] += float64(g >> 8)
			sum[2] += float64(bl >> 8)
		}
	}
	n := float64(b.Dx() * b.Dy())
	return [3]float64{sum[0] / n, sum[1] / n, sum[2] / n}
}

// frameMeanRGB is the mean of each channel of a frame.
func frameMeanRGB(f *Frame) [3]float64 {
	var sum [3]float64
	for i := 0; i+2 < len(f.Pix); i += 3 {
		sum[0] += float64(f.Pix[i])
		sum[1] += float64(f.Pix[i+1])
		sum[2] += float64(f.Pix[i+2])
	}
	n := float64(f.Width * f.Height)
	return [3]float64{sum[0] / n, sum[1] / n, sum[2] / n}
}

// rgbBytes is img as packed RGB, the layout of Frame.Pix.
func rgbBytes(img image.Image) []byte {
	b := img.Bounds()
	out := make([]byte, 0, b.Dx()*b.Dy()*3)
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			out = append(out, byte(r>>8), byte(g>>8), byte(bl>>8))
		}
	}
	return out
}

// copyFile copies a fixture into dir under a new name.
func copyFile(t testing.TB, src, dst string) {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// logger logs JSON lines to w, for tests that read the log.
func logger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}
