package tflite

import "math"

// The resampler is an antialiased bilinear (triangle) filter in 8-bit fixed
// point, computed like Pillow's Image.resize(BILINEAR): when shrinking, the
// filter widens with the scale so every source pixel counts. The reference
// outputs the fixture photos come with were made that way, and it keeps a
// 1280×720 frame from aliasing when it shrinks to 224×224.

const precisionBits = 32 - 8 - 2

// kernel holds, for each output position, the first source index and the
// fixed-point weights of the source pixels that contribute.
type kernel struct {
	start []int
	size  []int
	k     []int32 // size ksize per output position
	ksize int
}

// newKernel maps the source span [x0, x0+span) of an axis of length n onto out samples.
func newKernel(x0, span float64, n, out int) kernel {
	scale := span / float64(out)
	filterScale := math.Max(scale, 1)
	support := filterScale // bilinear support is 1
	ksize := int(math.Ceil(support))*2 + 1
	kn := kernel{start: make([]int, out), size: make([]int, out), k: make([]int32, out*ksize), ksize: ksize}
	w := make([]float64, ksize)
	for xx := 0; xx < out; xx++ {
		center := x0 + (float64(xx)+0.5)*scale
		xmin := max(int(center-support+0.5), 0)
		xmax := min(int(center+support+0.5), n) - xmin
		xmax = min(xmax, ksize)
		total := 0.0
		for x := 0; x < xmax; x++ {
			v := 1 - math.Abs((float64(x+xmin)-center+0.5)/filterScale)
			if v < 0 {
				v = 0
			}
			w[x] = v
			total += v
		}
		for x := 0; x < xmax; x++ {
			f := w[x]
			if total != 0 {
				f /= total
			}
			if f < 0 {
				kn.k[xx*ksize+x] = int32(-0.5 + f*(1<<precisionBits))
			} else {
				kn.k[xx*ksize+x] = int32(0.5 + f*(1<<precisionBits))
			}
		}
		kn.start[xx], kn.size[xx] = xmin, max(xmax, 0)
	}
	return kn
}

func clip8(v int64) byte {
	v >>= precisionBits
	if v < 0 {
		return 0
	}
	if v > 255 {
		return 255
	}
	return byte(v)
}

// resampleH resizes rows of src (w × h × ch) to dst (dw × h × ch).
func resampleH(src []byte, w, h, ch int, dst []byte, dw int, kn *kernel) {
	const half = int64(1) << (precisionBits - 1)
	for y := 0; y < h; y++ {
		row := src[y*w*ch : (y+1)*w*ch]
		out := dst[y*dw*ch : (y+1)*dw*ch]
		for xx := 0; xx < dw; xx++ {
			k := kn.k[xx*kn.ksize : xx*kn.ksize+kn.size[xx]]
			base := kn.start[xx] * ch
			for c := 0; c < ch; c++ {
				ss := half
				for i, kv := range k {
					ss += int64(row[base+i*ch+c]) * int64(kv)
				}
				out[xx*ch+c] = clip8(ss)
			}
		}
	}
}

// resampleV resizes columns of src (dw × h × ch) to dst (dw × dh × ch).
func resampleV(src []byte, dw, ch int, dst []byte, dh int, kn *kernel) {
	const half = int64(1) << (precisionBits - 1)
	stride := dw * ch
	for yy := 0; yy < dh; yy++ {
		k := kn.k[yy*kn.ksize : yy*kn.ksize+kn.size[yy]]
		base := kn.start[yy] * stride
		out := dst[yy*stride : (yy+1)*stride]
		for x := 0; x < stride; x++ {
			ss := half
			for i, kv := range k {
				ss += int64(src[base+i*stride+x]) * int64(kv)
			}
			out[x] = clip8(ss)
		}
	}
}
