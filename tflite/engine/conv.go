package engine

import (
	"encoding/binary"
	"math"
)

// convGeom is the geometry shared by CONV_2D, DEPTHWISE_CONV_2D and the
// pools: NHWC input and output, a filter window, strides, dilations and the
// top/left padding.
type convGeom struct {
	n, ih, iw, ic int
	oh, ow, oc    int
	fh, fw        int
	sh, sw        int
	dh, dw        int
	padT, padL    int
}

// Padding (the schema's Padding enum).
const (
	padSame  = 0
	padValid = 1
)

// outSize is TFLite's ComputeOutSize.
func outSize(padding int8, in, filter, stride, dilation int) int {
	eff := (filter-1)*dilation + 1
	if stride <= 0 {
		return 0
	}
	if padding == padSame {
		return (in + stride - 1) / stride
	}
	return (in + stride - eff) / stride
}

// padBefore is TFLite's ComputePaddingWithOffset (the part before the
// input; the remainder goes after).
func padBefore(stride, dilation, in, filter, out int) int {
	eff := (filter-1)*dilation + 1
	total := max((out-1)*stride+eff-in, 0)
	return total / 2
}

// quantConv is a quantized CONV_2D (im2col, then a GEMM of the patches
// against the filter) or FULLY_CONNECTED (the same with a 1×1 window).
type quantConv struct {
	g        convGeom
	in, out  *tensor
	inZP     int32
	signedIn bool
	k, kp    int     // patch length fh·fw·ic, and padded to kAlign
	ocp      int     // output channels padded to even
	w        []int16 // [ocp][kp], filter − filter zero point, zero padded
	bias     []int32
	rq       requant
	patches  [][]int16 // per worker: patchRows rows of kp
	accs     [][]int32 // per worker: [ocp][patchRows]
	fn       func(w, lo, hi int)

	// The int8 packing (packI8) instead of w and patches, for gemm4I8.
	i8       bool
	w8       []int8  // [ocp][kp], filter (− 128 for uint8), zero padded
	flip     byte    // 0x80 for uint8: packed input x' = x − 128
	zx8      int8    // the input zero point as packed
	rowMul   int32   // −(the filter zero point as packed)
	bias8    []int32 // bias plus the terms of the zero points
	patches8 [][]int8
}

// patchRows is how many output pixels the GEMM micro-kernel takes at once.
const patchRows = 4

// setWeights stores the filter rows (oc rows of k int16s) padded.
func (c *quantConv) setWeights(w []int16) {
	c.kp = padK(c.k)
	c.ocp = (c.g.oc + 1) &^ 1
	c.w = make([]int16, c.ocp*c.kp)
	for oc := 0; oc < c.g.oc; oc++ {
		copy(c.w[oc*c.kp:], w[oc*c.k:(oc+1)*c.k])
	}
}

// setWeightsI8 stores the filter for the int8 packing, if its zero points
// allow it, and reports whether they did. With x' and w' the packed input
// and filter values (x − 128 and w − 128 for uint8 models, x and w for
// int8 ones, whose filters are symmetric) and zx', zw' the zero points
// packed alike, each accumulator is
//
//	Σ(x−zx)(w−zw) = Σ(x'−zx')(w'−zw') = Σx'w' − zw'·Σx' − zx'·Σw' + k·zx'·zw'
//
// in wrapping int32 arithmetic as well: gemm4I8 computes the first two
// terms (rowMul = −zw'), bias8 adds the last two, known at prepare time.
// Window positions outside the input hold zx', adding nothing, like the
// zeros of the int16 packing; the padding up to kp is 0 in both operands.
func (c *quantConv) setWeightsI8(filter *tensor, bias []int32) bool {
	zx, zw := c.inZP, int32(0)
	if !c.signedIn {
		c.flip = 0x80
		zx -= 128
		zw = filter.zp - 128
	}
	if zx < -128 || zx > 127 || zw < -128 || zw > 127 {
		return false
	}
	c.i8, c.zx8, c.rowMul = true, int8(zx), -zw
	c.kp = padK(c.k)
	c.ocp = (c.g.oc + 1) &^ 1
	c.w8 = make([]int8, c.ocp*c.kp)
	c.bias8 = make([]int32, c.g.oc)
	for oc := 0; oc < c.g.oc; oc++ {
		var sum int32
		for j, v := range filter.data[oc*c.k : (oc+1)*c.k] {
			w := int8(v ^ c.flip)
			c.w8[oc*c.kp+j] = w
			sum += int32(w)
		}
		c.bias8[oc] = bias[oc] - zx*sum + int32(c.k)*zx*zw
	}
	return true
}

func (c *quantConv) init(threads int) {
	c.accs = make([][]int32, threads)
	for i := range c.accs {
		c.accs[i] = make([]int32, patchRows*c.ocp)
	}
	if c.i8 {
		c.patches8 = make([][]int8, threads)
		for i := range c.patches8 {
			c.patches8[i] = make([]int8, patchRows*c.kp)
		}
		c.fn = c.rowsI8
		return
	}
	c.patches = make([][]int16, threads)
	for i := range c.patches {
		c.patches[i] = make([]int16, patchRows*c.kp)
	}
	c.fn = c.rows
}

func (c *quantConv) run(p *pool) {
	g := &c.g
	p.run(g.n*g.oh*g.ow, 8, c.fn)
}

// im2col fills patch with the window of output pixel px (n·oh·ow order),
// input − zero point, zeros where the window leaves the input.
func (c *quantConv) im2col(px int, patch []int16) {
	g := &c.g
	ox := px % g.ow
	oy := (px / g.ow) % g.oh
	b := px / (g.ow * g.oh)
	in := c.in.data
	zp := int16(c.inZP)
	i := 0
	for fy := 0; fy < g.fh; fy++ {
		iy := oy*g.sh - g.padT + fy*g.dh
		for fx := 0; fx < g.fw; fx++ {
			ix := ox*g.sw - g.padL + fx*g.dw
			dst := patch[i : i+g.ic]
			i += g.ic
			if iy < 0 || iy >= g.ih || ix < 0 || ix >= g.iw {
				clear(dst)
				continue
			}
			src := in[((b*g.ih+iy)*g.iw+ix)*g.ic:][:g.ic]
			widen(dst, src, zp, c.signedIn)
		}
	}
}

// widen converts 8-bit values to int16 minus the zero point.
func widen(dst []int16, src []byte, zp int16, signed bool) {
	src = src[:len(dst)]
	if signed {
		for j, v := range src {
			dst[j] = int16(int8(v)) - zp
		}
		return
	}
	for j, v := range src {
		dst[j] = int16(v) - zp
	}
}

func (c *quantConv) rows(w, lo, hi int) {
	g := &c.g
	buf := c.patches[w]
	acc := c.accs[w]
	kp := c.kp
	out := c.out.data
	for px := lo; px < hi; px += patchRows {
		n := min(patchRows, hi-px)
		for r := 0; r < n; r++ {
			c.im2col(px+r, buf[r*kp:r*kp+c.k])
		}
		gemm4(buf, c.w, kp, c.ocp, acc)
		for r := 0; r < n; r++ {
			c.rq.apply(out[(px+r)*g.oc:][:g.oc], acc[r*c.ocp:], c.bias)
		}
	}
}

// im2colI8 is im2col for the int8 packing: the input as packed (x ^
// flip), zx8 where the window leaves the input.
func (c *quantConv) im2colI8(px int, patch []int8) {
	g := &c.g
	ox := px % g.ow
	oy := (px / g.ow) % g.oh
	b := px / (g.ow * g.oh)
	in := c.in.data
	i := 0
	for fy := 0; fy < g.fh; fy++ {
		iy := oy*g.sh - g.padT + fy*g.dh
		for fx := 0; fx < g.fw; fx++ {
			ix := ox*g.sw - g.padL + fx*g.dw
			dst := patch[i : i+g.ic]
			i += g.ic
			if iy < 0 || iy >= g.ih || ix < 0 || ix >= g.iw {
				for j := range dst {
					dst[j] = c.zx8
				}
				continue
			}
			src := in[((b*g.ih+iy)*g.iw+ix)*g.ic:][:g.ic]
			for j, v := range src {
				dst[j] = int8(v ^ c.flip)
			}
		}
	}
}

// rowsI8 is rows for the int8 packing.
func (c *quantConv) rowsI8(w, lo, hi int) {
	g := &c.g
	buf := c.patches8[w]
	acc := c.accs[w]
	kp := c.kp
	out := c.out.data
	for px := lo; px < hi; px += patchRows {
		n := min(patchRows, hi-px)
		for r := 0; r < n; r++ {
			c.im2colI8(px+r, buf[r*kp:r*kp+c.k])
		}
		gemm4I8(buf, c.w8, kp, c.ocp, c.rowMul, acc)
		for r := 0; r < n; r++ {
			c.rq.apply(out[(px+r)*g.oc:][:g.oc], acc[r*c.ocp:], c.bias8)
		}
	}
}

// quantDepthwise is a quantized DEPTHWISE_CONV_2D.
type quantDepthwise struct {
	g        convGeom
	dm       int // depth multiplier
	in, out  *tensor
	inZP     int32
	signedIn bool
	w        []int32 // [fh·fw][oc], filter − filter zero point
	bias     []int32
	rq       requant
	accs     [][]int32 // per worker
	fn       func(w, lo, hi int)
}

func (d *quantDepthwise) init(threads int) {
	d.accs = make([][]int32, threads)
	for i := range d.accs {
		d.accs[i] = make([]int32, d.g.oc)
	}
	d.fn = d.rows
}

func (d *quantDepthwise) run(p *pool) {
	g := &d.g
	p.run(g.n*g.oh, 1, d.fn)
}

// rows computes output rows [lo, hi) (n·oh order).
func (d *quantDepthwise) rows(w, lo, hi int) {
	g := &d.g
	acc := d.accs[w][:g.oc]
	in, out := d.in.data, d.out.data
	for row := lo; row < hi; row++ {
		oy := row % g.oh
		b := row / g.oh
		for ox := 0; ox < g.ow; ox++ {
			copy(acc, d.bias)
			for fy := 0; fy < g.fh; fy++ {
				iy := oy*g.sh - g.padT + fy*g.dh
				if iy < 0 || iy >= g.ih {
					continue
				}
				for fx := 0; fx < g.fw; fx++ {
					ix := ox*g.sw - g.padL + fx*g.dw
					if ix < 0 || ix >= g.iw {
						continue
					}
					src := in[((b*g.ih+iy)*g.iw+ix)*g.ic:][:g.ic]
					wr := d.w[(fy*g.fw+fx)*g.oc:][:g.oc]
					if d.dm == 1 {
						dwMac(acc, src, wr, d.inZP, d.signedIn)
						continue
					}
					for c := range src {
						x := load8(src, c, d.signedIn) - d.inZP
						for m := 0; m < d.dm; m++ {
							acc[c*d.dm+m] += x * wr[c*d.dm+m]
						}
					}
				}
			}
			d.rq.apply(out[((b*g.oh+oy)*g.ow+ox)*g.oc:][:g.oc], acc, nil)
		}
	}
}

// floatConv is a float32 CONV_2D or FULLY_CONNECTED: im2col, then a GEMM
// of 4 patches at a time against the filter.
type floatConv struct {
	g              convGeom
	in, out        *tensor
	k, kp, ocp     int
	w              []float32 // [ocp][kp], zero padded
	bias           []float32
	actMin, actMax float32
	patches        [][]float32
	accs           [][]float32
	fn             func(w, lo, hi int)
}

func (c *floatConv) init(threads int, w []float32) {
	c.kp = (c.k + 7) &^ 7
	c.ocp = (c.g.oc + 1) &^ 1
	c.w = make([]float32, c.ocp*c.kp)
	for oc := 0; oc < c.g.oc; oc++ {
		copy(c.w[oc*c.kp:], w[oc*c.k:(oc+1)*c.k])
	}
	c.patches = make([][]float32, threads)
	c.accs = make([][]float32, threads)
	for i := range c.patches {
		c.patches[i] = make([]float32, patchRows*c.kp)
		c.accs[i] = make([]float32, patchRows*c.ocp)
	}
	c.fn = c.rows
}

func (c *floatConv) run(p *pool) {
	g := &c.g
	p.run(g.n*g.oh*g.ow, 8, c.fn)
}

func (c *floatConv) rows(w, lo, hi int) {
	g := &c.g
	buf, acc := c.patches[w], c.accs[w]
	in, out := c.in.f32(), c.out.f32()
	for px := lo; px < hi; px += patchRows {
		n := min(patchRows, hi-px)
		for r := 0; r < n; r++ {
			p := px + r
			ox := p % g.ow
			oy := (p / g.ow) % g.oh
			b := p / (g.ow * g.oh)
			patch := buf[r*c.kp : r*c.kp+c.k]
			i := 0
			for fy := 0; fy < g.fh; fy++ {
				iy := oy*g.sh - g.padT + fy*g.dh
				for fx := 0; fx < g.fw; fx++ {
					ix := ox*g.sw - g.padL + fx*g.dw
					dst := patch[i : i+g.ic]
					i += g.ic
					if iy < 0 || iy >= g.ih || ix < 0 || ix >= g.iw {
						clear(dst)
						continue
					}
					copy(dst, in[((b*g.ih+iy)*g.iw+ix)*g.ic:][:g.ic])
				}
			}
		}
		gemmF32(buf, c.w, c.kp, c.ocp, acc)
		for r := 0; r < n; r++ {
			dst := out[(px+r)*g.oc:][:g.oc]
			a := acc[r*c.ocp:]
			for oc := range dst {
				dst[oc] = min(max(a[oc]+c.bias[oc], c.actMin), c.actMax)
			}
		}
	}
}

func dotF32(a, b []float32) float32 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(a); i += 4 {
		s0 += a[i] * b[i]
		s1 += a[i+1] * b[i+1]
		s2 += a[i+2] * b[i+2]
		s3 += a[i+3] * b[i+3]
	}
	for ; i < len(a); i++ {
		s0 += a[i] * b[i]
	}
	return (s0 + s1) + (s2 + s3)
}

// floatDepthwise is a float32 DEPTHWISE_CONV_2D.
type floatDepthwise struct {
	g              convGeom
	dm             int
	in, out        *tensor
	w              []float32 // [fh·fw][oc]
	bias           []float32
	actMin, actMax float32
	fn             func(w, lo, hi int)
}

func (d *floatDepthwise) run(p *pool) {
	g := &d.g
	p.run(g.n*g.oh, 1, d.fn)
}

func (d *floatDepthwise) rows(_, lo, hi int) {
	g := &d.g
	in, out := d.in.f32(), d.out.f32()
	for row := lo; row < hi; row++ {
		oy := row % g.oh
		b := row / g.oh
		for ox := 0; ox < g.ow; ox++ {
			acc := out[((b*g.oh+oy)*g.ow+ox)*g.oc:][:g.oc]
			copy(acc, d.bias)
			for fy := 0; fy < g.fh; fy++ {
				iy := oy*g.sh - g.padT + fy*g.dh
				if iy < 0 || iy >= g.ih {
					continue
				}
				for fx := 0; fx < g.fw; fx++ {
					ix := ox*g.sw - g.padL + fx*g.dw
					if ix < 0 || ix >= g.iw {
						continue
					}
					src := in[((b*g.ih+iy)*g.iw+ix)*g.ic:][:g.ic]
					wr := d.w[(fy*g.fw+fx)*g.oc:][:g.oc]
					if d.dm == 1 {
						wr = wr[:len(src)]
						a := acc[:len(src)]
						for c, v := range src {
							a[c] += v * wr[c]
						}
						continue
					}
					for c, v := range src {
						for m := 0; m < d.dm; m++ {
							acc[c*d.dm+m] += v * wr[c*d.dm+m]
						}
					}
				}
			}
			for c, v := range acc {
				acc[c] = min(max(v, d.actMin), d.actMax)
			}
		}
	}
}

// Constant decoding helpers (model buffers are little-endian).

func constInt32s(t *tensor) []int32 {
	out := make([]int32, len(t.data)/4)
	for i := range out {
		out[i] = int32(binary.LittleEndian.Uint32(t.data[4*i:]))
	}
	return out
}

func constFloat32s(t *tensor) []float32 {
	out := make([]float32, len(t.data)/4)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(t.data[4*i:]))
	}
	return out
}

// constWidened returns the 8-bit constant t as int16 minus its zero point.
func constWidened(t *tensor) []int16 {
	out := make([]int16, len(t.data))
	widen(out, t.data, int16(t.zp), t.signed())
	return out
}
