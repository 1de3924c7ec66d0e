package tflite

import (
	"fmt"
	"image"
	"image/color"
	"math"

	"github.com/edgeproject/edge/tflite/schema"
)

// Resize says how an image of another aspect ratio fills the model input.
type Resize int

// Resize modes.
const (
	// Stretch scales the whole image to the input size (what the models were trained on).
	Stretch Resize = iota
	// CenterCrop cuts the largest centered region of the input's aspect ratio.
	CenterCrop
	// Letterbox fits the whole image and pads the rest with black.
	Letterbox
)

// ParseResize reads "stretch", "center-crop" or "letterbox".
func ParseResize(s string) (Resize, error) {
	switch s {
	case "", "stretch":
		return Stretch, nil
	case "center-crop", "crop":
		return CenterCrop, nil
	case "letterbox":
		return Letterbox, nil
	}
	return 0, fmt.Errorf("unknown resize mode %q: want stretch, center-crop or letterbox", s)
}

func (r Resize) String() string {
	return [...]string{"stretch", "center-crop", "letterbox"}[r]
}

// Preprocess maps 8-bit RGB pixels p to the model's input.
//
// Quantized inputs take the pixels as they are (uint8: q = p; int8:
// q = p − 128), the convention of quantized image models, unless Mean and Std
// are set. Float inputs take (p − Mean) / Std, by default (p − 127.5) / 127.5;
// a model trained on [0, 1] wants Mean 0, Std 255.
type Preprocess struct {
	Resize    Resize
	Mean, Std float32
}

func (p Preprocess) validate() error {
	if p.Resize < Stretch || p.Resize > Letterbox {
		return fmt.Errorf("resize mode %d: want stretch, center-crop or letterbox", p.Resize)
	}
	if p.Std < 0 || (p.Std == 0 && p.Mean != 0) || math.IsNaN(float64(p.Std)) || math.IsNaN(float64(p.Mean)) {
		return fmt.Errorf("input normalization mean %v std %v: std must be > 0", p.Mean, p.Std)
	}
	return nil
}

// Placement maps normalized coordinates in the model input back to the
// source image, undoing a crop or letterbox: src = in × Scale + Offset.
type Placement struct {
	ScaleX, ScaleY, OffsetX, OffsetY float32
}

// ToImage maps an input-normalized point to an image-normalized one.
func (p Placement) ToImage(x, y float32) (float32, float32) {
	return x*p.ScaleX + p.OffsetX, y*p.ScaleY + p.OffsetY
}

// preprocessor keeps the buffers SetImage reuses between frames of one size.
type preprocessor struct {
	rgb  []byte // packed source pixels, 3 bytes (or 1 for gray) per pixel
	tmp  []byte // horizontal pass
	out  []byte // resampled pixels before quantization
	hx   kernel
	vy   kernel
	key  [7]int
	lut  [256]float32
	lutQ [256]byte
	lutK [3]float32 // what lut was built for: type, scale, zp (as bits)
}

// SetImage resamples img into input 0 with the configured resize mode and
// normalization. It returns where the input sits in the image.
func (it *Interpreter) SetImage(img image.Image) (Placement, error) {
	if len(it.inputs) == 0 {
		return Placement{}, fmt.Errorf("%s: model has no input", it.path)
	}
	in := it.inputs[0]
	if len(in.Shape) != 4 || in.Shape[0] != 1 || (in.Shape[3] != 3 && in.Shape[3] != 1) {
		return Placement{}, fmt.Errorf("%s: input 0 is %s, want an image tensor [1 height width 3 or 1]", it.path, in)
	}
	b := img.Bounds()
	if b.Dx() <= 0 || b.Dy() <= 0 {
		return Placement{}, fmt.Errorf("%s: empty image", it.path)
	}
	ch := in.Shape[3]
	p := &it.pre
	p.rgb = packPixels(img, ch, p.rgb)
	dst, err := it.InputBytes(0)
	if err != nil {
		return Placement{}, err
	}
	return it.fill(dst, in, p.rgb, b.Dx(), b.Dy())
}

// SetPixels is SetImage for packed 8-bit pixels (RGB, or gray for
// one-channel models), w × h, as a camera delivers them.
func (it *Interpreter) SetPixels(pix []byte, w, h int) (Placement, error) {
	if len(it.inputs) == 0 {
		return Placement{}, fmt.Errorf("%s: model has no input", it.path)
	}
	in := it.inputs[0]
	if len(in.Shape) != 4 || (in.Shape[3] != 3 && in.Shape[3] != 1) {
		return Placement{}, fmt.Errorf("%s: input 0 is %s, want an image tensor", it.path, in)
	}
	if w <= 0 || h <= 0 || len(pix) != w*h*in.Shape[3] {
		return Placement{}, fmt.Errorf("%s: %d bytes of pixels for a %dx%d image with %d channels", it.path, len(pix), w, h, in.Shape[3])
	}
	dst, err := it.InputBytes(0)
	if err != nil {
		return Placement{}, err
	}
	return it.fill(dst, in, pix, w, h)
}

func (it *Interpreter) fill(dst []byte, in TensorInfo, pix []byte, w, h int) (Placement, error) {
	p := &it.pre
	ih, iw, ch := in.Shape[1], in.Shape[2], in.Shape[3]
	// The region of the image that is sampled, and where it lands in the input.
	sx0, sy0, sw, sh := 0.0, 0.0, float64(w), float64(h)
	dx0, dy0, dw, dh := 0, 0, iw, ih
	place := Placement{ScaleX: 1, ScaleY: 1}
	switch it.opts.Preprocess.Resize {
	case CenterCrop:
		if float64(w)*float64(ih) > float64(h)*float64(iw) { // wider than the input
			sw = float64(h) * float64(iw) / float64(ih)
			sx0 = (float64(w) - sw) / 2
		} else {
			sh = float64(w) * float64(ih) / float64(iw)
			sy0 = (float64(h) - sh) / 2
		}
		place = Placement{ScaleX: float32(sw / float64(w)), ScaleY: float32(sh / float64(h)),
			OffsetX: float32(sx0 / float64(w)), OffsetY: float32(sy0 / float64(h))}
	case Letterbox:
		s := math.Min(float64(iw)/float64(w), float64(ih)/float64(h))
		dw, dh = max(1, int(math.Round(float64(w)*s))), max(1, int(math.Round(float64(h)*s)))
		dx0, dy0 = (iw-dw)/2, (ih-dh)/2
		place = Placement{ScaleX: float32(iw) / float32(dw), ScaleY: float32(ih) / float32(dh),
			OffsetX: -float32(dx0) / float32(dw), OffsetY: -float32(dy0) / float32(dh)}
	}
	key := [7]int{w, h, dw, dh, ch, int(sx0 * 1024), int(sy0 * 1024)}
	if key != p.key {
		p.hx = newKernel(sx0, sw, w, dw)
		p.vy = newKernel(sy0, sh, h, dh)
		p.key = key
	}
	p.tmp = grow(p.tmp, dw*h*ch)
	p.out = grow(p.out, dw*dh*ch)
	resampleH(pix, w, h, ch, p.tmp, dw, &p.hx)
	resampleV(p.tmp, dw, ch, p.out, dh, &p.vy)

	if err := it.buildLUT(in); err != nil {
		return Placement{}, err
	}
	esize := in.Type.Size()
	padQ := p.lutQ[0]
	if dw != iw || dh != ih { // letterbox: pad with black
		for i := range dst {
			dst[i] = 0
		}
		if esize == 1 {
			for i := range dst {
				dst[i] = padQ
			}
		}
	}
	for y := 0; y < dh; y++ {
		row := p.out[y*dw*ch : (y+1)*dw*ch]
		off := ((dy0+y)*iw + dx0) * ch
		switch esize {
		case 1:
			d := dst[off : off+len(row)]
			for i, v := range row {
				d[i] = p.lutQ[v]
			}
		case 4:
			d := dst[off*4 : (off+len(row))*4]
			for i, v := range row {
				putFloat32(d[i*4:], p.lut[v])
			}
		}
	}
	if esize == 4 && (dw != iw || dh != ih) {
		black := p.lut[0]
		for y := 0; y < ih; y++ {
			for x := 0; x < iw; x++ {
				if y >= dy0 && y < dy0+dh && x >= dx0 && x < dx0+dw {
					continue
				}
				for c := 0; c < ch; c++ {
					putFloat32(dst[((y*iw+x)*ch+c)*4:], black)
				}
			}
		}
	}
	return place, nil
}

// buildLUT maps each pixel value to the input's encoding once per model.
func (it *Interpreter) buildLUT(in TensorInfo) error {
	p := &it.pre
	k := [3]float32{float32(in.Type) + 1, in.Scale, float32(in.ZeroPoint)}
	if k == p.lutK {
		return nil
	}
	pp := it.opts.Preprocess
	custom := pp.Std != 0
	for v := 0; v < 256; v++ {
		switch in.Type {
		case schema.TypeUint8, schema.TypeInt8:
			var q int
			switch {
			case custom && in.Quantized():
				real := (float64(v) - float64(pp.Mean)) / float64(pp.Std)
				q = int(math.Round(real/float64(in.Scale))) + int(in.ZeroPoint)
			case in.Type == schema.TypeUint8:
				q = v
			default:
				q = v - 128
			}
			if in.Type == schema.TypeUint8 {
				p.lutQ[v] = byte(min(max(q, 0), 255))
			} else {
				p.lutQ[v] = byte(int8(min(max(q, -128), 127)))
			}
		case schema.TypeFloat32:
			mean, std := float32(127.5), float32(127.5)
			if custom {
				mean, std = pp.Mean, pp.Std
			}
			p.lut[v] = (float32(v) - mean) / std
		default:
			return fmt.Errorf("%s: input 0 is %s; images can fill uint8, int8 or float32 inputs", it.path, in)
		}
	}
	p.lutK = k
	return nil
}

func grow(b []byte, n int) []byte {
	if cap(b) < n {
		return make([]byte, n)
	}
	return b[:n]
}

func putFloat32(b []byte, f float32) {
	u := math.Float32bits(f)
	b[0], b[1], b[2], b[3] = byte(u), byte(u>>8), byte(u>>16), byte(u>>24)
}

// packPixels converts img to packed RGB (ch 3) or luma (ch 1) bytes,
// reusing buf. Luma uses ITU-R 601-2 weights, as PIL's convert("L").
func packPixels(img image.Image, ch int, buf []byte) []byte {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	buf = grow(buf, w*h*ch)
	put := func(i int, r, g, bl uint32) {
		if ch == 3 {
			buf[i*3], buf[i*3+1], buf[i*3+2] = byte(r), byte(g), byte(bl)
			return
		}
		buf[i] = byte((r*19595 + g*38470 + bl*7471 + 0x8000) >> 16)
	}
	switch src := img.(type) {
	case *image.Gray:
		for y := 0; y < h; y++ {
			row := src.Pix[y*src.Stride : y*src.Stride+w]
			for x, v := range row {
				put(y*w+x, uint32(v), uint32(v), uint32(v))
			}
		}
		if ch == 1 { // exact copy, no weights
			for y := 0; y < h; y++ {
				copy(buf[y*w:(y+1)*w], src.Pix[y*src.Stride:y*src.Stride+w])
			}
		}
	case *image.YCbCr: // JPEG
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				yi, ci := src.YOffset(b.Min.X+x, b.Min.Y+y), src.COffset(b.Min.X+x, b.Min.Y+y)
				r, g, bl := color.YCbCrToRGB(src.Y[yi], src.Cb[ci], src.Cr[ci])
				put(y*w+x, uint32(r), uint32(g), uint32(bl))
			}
		}
	case *image.RGBA:
		for y := 0; y < h; y++ {
			row := src.Pix[y*src.Stride : y*src.Stride+4*w]
			for x := 0; x < w; x++ {
				put(y*w+x, uint32(row[4*x]), uint32(row[4*x+1]), uint32(row[4*x+2]))
			}
		}
	case *image.NRGBA:
		for y := 0; y < h; y++ {
			row := src.Pix[y*src.Stride : y*src.Stride+4*w]
			for x := 0; x < w; x++ {
				put(y*w+x, uint32(row[4*x]), uint32(row[4*x+1]), uint32(row[4*x+2]))
			}
		}
	default:
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				r, g, bl, _ := img.At(b.Min.X+x, b.Min.Y+y).RGBA()
				put(y*w+x, r>>8, g>>8, bl>>8)
			}
		}
	}
	return buf
}
