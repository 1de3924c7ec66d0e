package engine

import (
	"math"

	"github.com/edgeproject/edge/tflite/schema"
)

// quantSoftmax is TFLite 2.9's optimized 8-bit SOFTMAX: a float table of
// exp(−scale·β·d) for every distance d to the row's maximum, float sums,
// and rounding of the rescaled probabilities.
type quantSoftmax struct {
	in, out   *tensor
	rows, n   int
	signedIn  bool
	signedOut bool
	table     [256]float32
	outScale  float32
	outZP     int32
}

func (k *quantSoftmax) run(*pool) {
	qmin, qmax := typeRange(k.signedOut)
	for r := 0; r < k.rows; r++ {
		src := k.in.data[r*k.n : (r+1)*k.n]
		dst := k.out.data[r*k.n : (r+1)*k.n]
		maxV := int32(math.MinInt32)
		for j := range src {
			maxV = max(maxV, load8(src, j, k.signedIn))
		}
		// table[255 - max + x] = exp(scale · (x − max)); the index is the
		// raw byte reinterpreted as the input type.
		base := 255 - maxV
		sum := float32(0)
		for j := range src {
			sum += k.table[base+load8(src, j, k.signedIn)]
		}
		inv := 1 / (sum * k.outScale)
		for j := range src {
			p := k.table[base+load8(src, j, k.signedIn)] * inv
			var q int32
			if k.signedOut {
				q = int32(roundf(p)) + k.outZP
			} else {
				q = int32(p + 0.5) // x86 TFLite adds 0.5 and truncates; uint8 zero point is 0
			}
			dst[j] = byte(min(max(q, qmin), qmax))
		}
	}
}

type floatSoftmax struct {
	in, out *tensor
	rows, n int
	beta    float32
}

func (k *floatSoftmax) run(*pool) {
	in, out := k.in.f32(), k.out.f32()
	for r := 0; r < k.rows; r++ {
		src := in[r*k.n : (r+1)*k.n]
		dst := out[r*k.n : (r+1)*k.n]
		m := src[0]
		for _, v := range src {
			m = max(m, v)
		}
		sum := float32(0)
		for j, v := range src {
			e := expf((v - m) * k.beta)
			dst[j] = e
			sum += e
		}
		inv := 1 / sum
		for j := range dst {
			dst[j] *= inv
		}
	}
}

func prepareSoftmax(c *nodeCtx) (kernel, error) {
	in, out, err := c.unary(schema.TypeUint8, schema.TypeInt8, schema.TypeFloat32)
	if err != nil {
		return nil, err
	}
	if len(in.shape) == 0 {
		return nil, c.invalid("input %s is a scalar", in)
	}
	n := in.shape[len(in.shape)-1]
	rows := 0
	if n > 0 {
		rows = in.elems() / n
	}
	beta := c.opts().Float32(0, 0)
	if in.typ == schema.TypeFloat32 {
		if err := c.types("output", out, schema.TypeFloat32); err != nil {
			return nil, err
		}
		return &floatSoftmax{in: in, out: out, rows: rows, n: n, beta: beta}, nil
	}
	if err := c.types("output", out, schema.TypeUint8, schema.TypeInt8); err != nil {
		return nil, err
	}
	if err := c.quantized("input", in); err != nil {
		return nil, err
	}
	if err := c.quantized("output", out); err != nil {
		return nil, err
	}
	k := &quantSoftmax{in: in, out: out, rows: rows, n: n, signedIn: in.signed(), signedOut: out.signed(), outScale: out.scale, outZP: out.zp}
	// PopulateSoftmaxLookupTable: table[255 − v] = expf(−scale·β·v).
	scale := -in.scale * beta
	for v := 0; v <= 255; v++ {
		k.table[255-v] = expf(scale * float32(v))
	}
	return k, nil
}

// prepareLogistic builds LOGISTIC: for 8-bit types TFLite 2.9's lookup
// table of 1/(1+expf(−x)) over every input value.
func prepareLogistic(c *nodeCtx) (kernel, error) {
	in, out, err := c.unary(schema.TypeUint8, schema.TypeInt8, schema.TypeFloat32)
	if err != nil {
		return nil, err
	}
	if err := c.types("output", out, in.typ); err != nil {
		return nil, err
	}
	if in.typ == schema.TypeFloat32 {
		return &floatLogistic{in: in, out: out}, nil
	}
	if err := c.quantized("input", in); err != nil {
		return nil, err
	}
	if err := c.quantized("output", out); err != nil {
		return nil, err
	}
	return &lut{in: in, out: out, table: lookupTable(in, out, func(x float32) float32 { return 1 / (1 + expf(-x)) })}, nil
}

// lookupTable is TFLite's PopulateLookupTable: dequantize each input value,
// transform it, and quantize the result.
func lookupTable(in, out *tensor, f func(float32) float32) [256]byte {
	var tab [256]byte
	signed := in.signed()
	qmin, qmax := typeRange(out.signed())
	inv := 1 / out.scale
	for v := 0; v < 256; v++ {
		x := load8([]byte{byte(v)}, 0, signed)
		deq := in.scale * float32(x-in.zp)
		r := roundf(f(deq) * inv)
		q := int32(r + float32(out.zp))
		tab[v] = byte(min(max(q, qmin), qmax))
	}
	return tab
}

type floatLogistic struct{ in, out *tensor }

func (k *floatLogistic) run(*pool) {
	in, out := k.in.f32(), k.out.f32()
	for i, x := range in {
		out[i] = 1 / (1 + expf(-x))
	}
}
