package camera

import (
	"context"
	"fmt"
	"time"

	"gocv.io/x/gocv"
)

// converter turns OpenCV's BGR (or gray, or BGRA) images into a Frame's
// packed RGB, through one RGB Mat that it reuses: OpenCV reallocates it only
// when the size changes.
type converter struct {
	rgb gocv.Mat
}

func newConverter() converter { return converter{rgb: gocv.NewMat()} }

// fill converts src into c.rgb and copies it into f.Pix, growing f.Pix only
// when it is too small. It sets Width, Height, Seq and Time; name is for the
// error.
func (c *converter) fill(name string, src gocv.Mat, f *Frame, seq uint64, at time.Time) error {
	if depth := src.Type() & 7; depth != gocv.MatTypeCV8U {
		return fmt.Errorf("camera: %s: frame has OpenCV depth %d, want 8-bit (CV_8U)", name, depth)
	}
	switch ch := src.Channels(); ch {
	case 3:
		gocv.CvtColor(src, &c.rgb, gocv.ColorBGRToRGB)
	case 1:
		gocv.CvtColor(src, &c.rgb, gocv.ColorGrayToBGR) // gray to 3 equal channels: same for RGB
	case 4:
		gocv.CvtColor(src, &c.rgb, gocv.ColorRGBAToBGR) // COLOR_RGBA2BGR == COLOR_BGRA2RGB
	default:
		return fmt.Errorf("camera: %s: frame has %d channels, want 1 (gray), 3 (BGR) or 4 (BGRA)", name, ch)
	}
	w, h := c.rgb.Cols(), c.rgb.Rows()
	data, err := c.rgb.DataPtrUint8()
	if err != nil {
		return fmt.Errorf("camera: %s: RGB frame %dx%d: %w", name, w, h, err)
	}
	n := w * h * 3
	if len(data) != n {
		return fmt.Errorf("camera: %s: RGB frame %dx%d has %d bytes, want %d", name, w, h, len(data), n)
	}
	if cap(f.Pix) < n {
		f.Pix = make([]byte, n)
	}
	f.Pix = f.Pix[:n]
	copy(f.Pix, data)
	f.Width, f.Height = w, h
	f.Seq = seq
	f.Time = at
	return nil
}

func (c *converter) Close() error { return c.rgb.Close() }

// pacer spaces reads of files and folders at a frame rate, like a
// time.Ticker that ends with its context: the first frame comes at once,
// each later one a period after the one before. A consumer slower than the
// rate is not made to wait, and it gets no burst of catch-up frames either.
// One timer is reused, so waiting allocates nothing. Only Read uses it.
type pacer struct {
	period time.Duration // 0: no pacing
	next   time.Time
	timer  *time.Timer
}

func newPacer(fps float64) pacer {
	if fps <= 0 {
		return pacer{}
	}
	return pacer{period: time.Duration(float64(time.Second) / fps)}
}

// wait blocks until the next frame is due. It returns ctx.Err() when ctx
// ends first, and ErrClosed when done is closed first.
func (p *pacer) wait(ctx context.Context, done <-chan struct{}) error {
	if p.period <= 0 {
		return nil
	}
	now := time.Now()
	if p.next.IsZero() {
		p.next = now
	}
	if d := p.next.Sub(now); d > 0 {
		if p.timer == nil {
			p.timer = time.NewTimer(d)
		} else {
			p.timer.Reset(d)
		}
		select {
		case <-ctx.Done():
			p.timer.Stop()
			return ctx.Err()
		case <-done:
			p.timer.Stop()
			return ErrClosed
		case now = <-p.timer.C:
		}
	}
	p.next = p.next.Add(p.period)
	if p.next.Before(now) {
		p.next = now
	}
	return nil
}
