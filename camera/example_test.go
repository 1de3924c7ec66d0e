package camera_test

import (
	"context"
	"fmt"
	"log"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/edgeproject/edge/camera"
)

// Example reads the first two frames of a folder of photos (the fixture
// images, in name order: bird.png, then cat.png).
func Example() {
	fixtures := os.Getenv("EDGE_FIXTURES")
	if fixtures == "" {
		fixtures = filepath.Join("..", "..", "shared", "fixtures")
	}
	src, err := camera.Open("dir:"+filepath.Join(fixtures, "images"), camera.Options{
		FPS:    30, // pace the photos like a camera
		Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		log.Fatal(err)
	}
	defer src.Close()

	ctx := context.Background()
	var f camera.Frame // Read reuses f.Pix
	for range 2 {
		if err := src.Read(ctx, &f); err != nil {
			log.Fatal(err)
		}
		fmt.Printf("frame %d: %dx%d RGB, %d bytes\n", f.Seq, f.Width, f.Height, len(f.Pix))
	}
	// Output:
	// frame 1: 512x343 RGB, 526848 bytes
	// frame 2: 512x341 RGB, 523776 bytes
}

// ExampleOpenReconnecting keeps reading a USB camera through unplugging and
// plugging it back: failures are logged and retried with backoff.
func ExampleOpenReconnecting() {
	src := camera.OpenReconnecting("/dev/video0", camera.Options{Width: 640, Height: 480, FourCC: "MJPG"}, camera.Backoff{})
	defer src.Close()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var f camera.Frame
	for {
		if err := src.Read(ctx, &f); err != nil {
			log.Printf("camera stopped after %d reconnects: %v", src.Reconnects(), err)
			return
		}
		// ... hand f.Pix to the model ...
	}
}
