package metrics

import (
	"bytes"
	"fmt"
	"image"
	"image/jpeg"
	"sync"
	"time"
)

// LatestFrame keeps a copy of the latest frame for /snapshot.jpg and
// encodes it only when asked. The zero value keeps every frame given to
// Store, encoded at quality 80. Set Every and Quality before use; the
// methods are safe to call from several goroutines.
type LatestFrame struct {
	// Every, if positive, keeps at most one frame per Every: Store is then
	// a time check for the frames in between.
	Every time.Duration
	// Quality is the JPEG quality, 1 to 100 (0: 80).
	Quality int

	mu      sync.Mutex
	pix     []byte
	w, h    int
	seq     uint64    // frames kept; 0: none
	at      time.Time // when the kept frame was stored
	jpg     []byte    // the encoding of frame jpgSeq
	jpgSeq  uint64
	scratch *image.RGBA
}

// Store keeps a copy of rgb, a w×h frame of 3 bytes per pixel (R, G, B)
// row by row, as camera.Frame.Pix is. A frame whose size does not match
// len(rgb) is ignored.
func (l *LatestFrame) Store(rgb []byte, w, h int) {
	if w <= 0 || h <= 0 || len(rgb) != w*h*3 {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	if l.Every > 0 && l.seq > 0 && now.Sub(l.at) < l.Every {
		return
	}
	l.pix = append(l.pix[:0], rgb...)
	l.w, l.h, l.at = w, h, now
	l.seq++
}

// JPEG encodes the latest frame, or returns an error wrapping ErrNoFrame
// before the first one. An encoding is reused until a newer frame comes.
// It is a SnapshotFunc. The pipeline's Store is blocked only while the
// pixels are copied, not while they are encoded.
func (l *LatestFrame) JPEG() ([]byte, error) {
	l.mu.Lock()
	if l.seq == 0 {
		l.mu.Unlock()
		return nil, fmt.Errorf("snapshot: %w", ErrNoFrame)
	}
	if l.jpgSeq == l.seq {
		jpg := l.jpg
		l.mu.Unlock()
		return jpg, nil
	}
	seq, w, h := l.seq, l.w, l.h
	img := l.scratch
	l.scratch = nil // this call owns it while encoding
	if img == nil || img.Rect.Dx() != w || img.Rect.Dy() != h {
		img = image.NewRGBA(image.Rect(0, 0, w, h))
	}
	for i, j := 0, 0; i < len(l.pix); i, j = i+3, j+4 {
		img.Pix[j], img.Pix[j+1], img.Pix[j+2], img.Pix[j+3] = l.pix[i], l.pix[i+1], l.pix[i+2], 0xff
	}
	l.mu.Unlock()

	q := l.Quality
	if q <= 0 || q > 100 {
		q = 80
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: q}); err != nil {
		return nil, fmt.Errorf("snapshot: encode %dx%d JPEG: %w", w, h, err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.scratch = img
	if seq >= l.jpgSeq {
		l.jpg, l.jpgSeq = buf.Bytes(), seq
	}
	return buf.Bytes(), nil
}
