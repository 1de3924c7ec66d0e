package engine

import (
	"encoding/binary"

	qmath "github.com/edgeproject/edge/quantize"
	"github.com/edgeproject/edge/tflite/schema"
)

// Pool2DOptions field ids.
const (
	poolPadding = 0
	poolStrideW = 1
	poolStrideH = 2
	poolFilterW = 3
	poolFilterH = 4
	poolAct     = 5
)

// avgPool is AVERAGE_POOL_2D: the mean over the part of the window inside
// the input, rounded half away from zero (TFLite's (sum ± count/2)/count).
type avgPool struct {
	g              convGeom
	in, out        *tensor
	signed, float  bool
	actMin, actMax int32
	fMin, fMax     float32
	accs           [][]int32
	faccs          [][]float32
	fn             func(w, lo, hi int)
}

func (k *avgPool) run(p *pool) { p.run(k.g.n*k.g.oh, 1, k.fn) }

func (k *avgPool) rows(w, lo, hi int) {
	g := &k.g
	for row := lo; row < hi; row++ {
		oy := row % g.oh
		b := row / g.oh
		for ox := 0; ox < g.ow; ox++ {
			y0, x0 := oy*g.sh-g.padT, ox*g.sw-g.padL
			fy0, fy1 := max(0, -y0), min(g.fh, g.ih-y0)
			fx0, fx1 := max(0, -x0), min(g.fw, g.iw-x0)
			count := (fy1 - fy0) * (fx1 - fx0)
			o := ((b*g.oh+oy)*g.ow + ox) * g.ic
			if k.float {
				k.floatPixel(w, b, y0, x0, fy0, fy1, fx0, fx1, count, o)
				continue
			}
			acc := k.accs[w][:g.ic]
			clear(acc)
			for fy := fy0; fy < fy1; fy++ {
				for fx := fx0; fx < fx1; fx++ {
					src := k.in.data[((b*g.ih+y0+fy)*g.iw+x0+fx)*g.ic:][:g.ic]
					if k.signed {
						for c, v := range src {
							acc[c] += int32(int8(v))
						}
					} else {
						for c, v := range src {
							acc[c] += int32(v)
						}
					}
				}
			}
			dst := k.out.data[o : o+g.ic]
			if count == 0 {
				continue
			}
			half := int32(count / 2)
			cnt := int32(count)
			for c, a := range acc {
				if a > 0 {
					a = (a + half) / cnt
				} else {
					a = (a - half) / cnt
				}
				dst[c] = byte(min(max(a, k.actMin), k.actMax))
			}
		}
	}
}

func (k *avgPool) floatPixel(w, b, y0, x0, fy0, fy1, fx0, fx1, count, o int) {
	g := &k.g
	acc := k.faccs[w][:g.ic]
	clear(acc)
	in := k.in.f32()
	for fy := fy0; fy < fy1; fy++ {
		for fx := fx0; fx < fx1; fx++ {
			src := in[((b*g.ih+y0+fy)*g.iw+x0+fx)*g.ic:][:g.ic]
			for c, v := range src {
				acc[c] += v
			}
		}
	}
	dst := k.out.f32()[o : o+g.ic]
	for c, a := range acc {
		dst[c] = min(max(a/float32(count), k.fMin), k.fMax)
	}
}

func prepareAveragePool(c *nodeCtx) (kernel, error) {
	if err := c.arity(1, 1, 1); err != nil {
		return nil, err
	}
	in, out := c.ins[0], c.outs[0]
	if err := c.types("input", in, schema.TypeUint8, schema.TypeInt8, schema.TypeFloat32); err != nil {
		return nil, err
	}
	if err := c.types("output", out, in.typ); err != nil {
		return nil, err
	}
	for _, t := range []*tensor{in, out} {
		if err := c.rank("tensor", t, 4); err != nil {
			return nil, err
		}
	}
	if in.shape[3] != out.shape[3] {
		return nil, c.invalid("input %s and output %s differ in depth", in, out)
	}
	o := c.opts()
	g, err := c.convGeometry(in, out, o.Int8(poolPadding, 0),
		int(o.Int32(poolFilterH, 0)), int(o.Int32(poolFilterW, 0)),
		int(o.Int32(poolStrideH, 0)), int(o.Int32(poolStrideW, 0)), 1, 1)
	if err != nil {
		return nil, err
	}
	k := &avgPool{g: g, in: in, out: out, signed: in.signed(), float: in.typ == schema.TypeFloat32}
	act := o.Int8(poolAct, 0)
	var ok bool
	if k.float {
		k.fMin, k.fMax, ok = floatActRange(act)
		k.faccs = make([][]float32, c.threads)
		for i := range k.faccs {
			k.faccs[i] = make([]float32, g.ic)
		}
	} else {
		if err := c.quantized("input", in); err != nil {
			return nil, err
		}
		if err := c.quantized("output", out); err != nil {
			return nil, err
		}
		if in.scale != out.scale || in.zp != out.zp {
			return nil, c.invalid("input %s and output %s are quantized differently", in, out)
		}
		k.actMin, k.actMax, ok = quantizedActRange(act, out.signed(), out.scale, out.zp)
		k.accs = make([][]int32, c.threads)
		for i := range k.accs {
			k.accs[i] = make([]int32, g.ic)
		}
	}
	if !ok {
		return nil, c.unsupported("fused %s", actName(act))
	}
	k.fn = k.rows
	return k, nil
}

// mean is MEAN over the height and width of an NHWC tensor, the only
// reduction MobileNets use.
type mean struct {
	in, out       *tensor
	n, h, w, c    int
	signed, float bool
	mode          int
	m             int32
	s             int
	bias          int32
	scale, fbias  float32
	inZP, outZP   int32
	qmin, qmax    int32
	sums          []int32
	fsums         []float32
}

// MEAN integer paths of TFLite 2.9 (reduce.cc).
const (
	meanOptimized = iota // keep_dims 4-D over H,W: optimized_ops::Mean
	meanSameScale        // same quantization: integer sum / count
	meanRescale          // QuantizedMeanOrSum, in float
	meanInteger          // keep_dims 4-D int8: reference_integer_ops::Mean
)

func (k *mean) run(*pool) {
	hw := k.h * k.w
	if k.float {
		in, out := k.in.f32(), k.out.f32()
		for b := 0; b < k.n; b++ {
			acc := k.fsums
			clear(acc)
			for p := 0; p < hw; p++ {
				src := in[(b*hw+p)*k.c:][:k.c]
				for c, v := range src {
					acc[c] += v
				}
			}
			for c, a := range acc {
				out[b*k.c+c] = a / float32(hw)
			}
		}
		return
	}
	for b := 0; b < k.n; b++ {
		acc := k.sums
		clear(acc)
		for p := 0; p < hw; p++ {
			src := k.in.data[(b*hw+p)*k.c:][:k.c]
			if k.signed {
				for c, v := range src {
					acc[c] += int32(int8(v))
				}
			} else {
				for c, v := range src {
					acc[c] += int32(v)
				}
			}
		}
		dst := k.out.data[b*k.c:][:k.c]
		for c, a := range acc {
			var r int32
			switch k.mode {
			case meanOptimized:
				r = qmath.MultiplyByQuantizedMultiplier(a, k.m, k.s) + k.bias
			case meanInteger:
				a -= int32(hw) * k.inZP
				a = qmath.MultiplyByQuantizedMultiplier(a, k.m, k.s)
				n := int32(hw)
				if a > 0 {
					a = (a + n/2) / n
				} else {
					a = (a - n/2) / n
				}
				r = a + k.outZP
			case meanSameScale:
				r = a / int32(hw)
			default:
				fm := float32(a) / float32(hw)
				r = int32(roundf(float32(fm*k.scale)+k.fbias)) + k.outZP
			}
			dst[c] = byte(min(max(r, k.qmin), k.qmax))
		}
	}
}

func prepareMean(c *nodeCtx) (kernel, error) {
	if err := c.arity(2, 2, 1); err != nil {
		return nil, err
	}
	in, axes, out := c.ins[0], c.ins[1], c.outs[0]
	if err := c.types("input", in, schema.TypeUint8, schema.TypeInt8, schema.TypeFloat32); err != nil {
		return nil, err
	}
	if err := c.types("output", out, in.typ); err != nil {
		return nil, err
	}
	if err := c.rank("input", in, 4); err != nil {
		return nil, err
	}
	if err := c.constant("axis", axes); err != nil {
		return nil, err
	}
	if err := c.types("axis", axes, schema.TypeInt32); err != nil {
		return nil, err
	}
	var ax [2]int
	if axes.elems() != 2 {
		return nil, c.unsupported("mean over %d axes (only height and width)", axes.elems())
	}
	for i := range ax {
		ax[i] = int(int32(binary.LittleEndian.Uint32(axes.data[4*i:])))
		if ax[i] < 0 {
			ax[i] += 4
		}
	}
	if !(ax == [2]int{1, 2} || ax == [2]int{2, 1}) {
		return nil, c.unsupported("mean over axes %v (only height and width)", ax)
	}
	keep := c.opts().Bool(0, false)
	k := &mean{in: in, out: out, n: in.shape[0], h: in.shape[1], w: in.shape[2], c: in.shape[3], signed: in.signed(), float: in.typ == schema.TypeFloat32}
	if out.elems() != k.n*k.c {
		return nil, c.invalid("output %s, want %d elements", out, k.n*k.c)
	}
	if k.float {
		k.fsums = make([]float32, k.c)
		return k, nil
	}
	if err := c.quantized("input", in); err != nil {
		return nil, err
	}
	if err := c.quantized("output", out); err != nil {
		return nil, err
	}
	k.sums = make([]int32, k.c)
	k.qmin, k.qmax = typeRange(out.signed())
	k.inZP, k.outZP = in.zp, out.zp
	switch {
	case keep && in.signed():
		k.mode = meanInteger
		k.m, k.s = qmath.QuantizeMultiplier(float64(in.scale) / float64(out.scale))
	case keep:
		k.mode = meanOptimized
		num := float32(k.h * k.w)
		temp := float32(in.zp) * in.scale / out.scale
		if temp > 0 {
			temp += 0.5
		} else {
			temp -= 0.5
		}
		k.bias = out.zp - int32(temp)
		k.m, k.s = qmath.QuantizeMultiplier(float64(in.scale / (num * out.scale)))
	case in.scale == out.scale && in.zp == out.zp:
		k.mode = meanSameScale
	default:
		k.mode = meanRescale
		k.scale = in.scale / out.scale
		k.fbias = float32(-in.zp) * k.scale
	}
	return k, nil
}
