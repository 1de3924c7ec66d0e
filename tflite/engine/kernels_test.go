package engine

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/edgeproject/edge/tflite/schema"
)

// kernelMode is one choice of kernels: the switches of gemm_*.go.
type kernelMode struct {
	name                          string
	avx2, fma, neon, sdot, packI8 bool
}

func currentMode(name string) kernelMode {
	return kernelMode{name, useAVX2, useFMA, useNEON, useSDOT, packI8}
}

// set switches to m and returns the function restoring the switches.
func (m kernelMode) set() (restore func()) {
	old := currentMode("")
	useAVX2, useFMA, useNEON, useSDOT, packI8 = m.avx2, m.fma, m.neon, m.sdot, m.packI8
	return func() {
		useAVX2, useFMA, useNEON, useSDOT, packI8 = old.avx2, old.fma, old.neon, old.sdot, old.packI8
	}
}

// kernelModes lists the kernel choices this CPU can run: the default one,
// the NEON SMLAL kernel where the default is SDOT, the int8 packing with
// the pure-Go gemm4I8Go, and pure Go. Modes only turn switches off, so a
// CPU never runs an instruction it lacks.
func kernelModes() []kernelMode {
	def := currentMode("default")
	switch {
	case useSDOT:
		def.name = "neon-sdot"
	case useNEON:
		def.name = "neon-smlal"
	case useAVX2:
		def.name = "avx2"
	}
	ms := []kernelMode{def}
	if useSDOT {
		ms = append(ms, kernelMode{name: "neon-smlal", neon: useNEON})
	}
	ms = append(ms, kernelMode{name: "int8-packing-go", packI8: true})
	if def.avx2 || def.neon || def.packI8 {
		ms = append(ms, kernelMode{name: "pure-go"})
	}
	return ms
}

func forModes(t *testing.T, f func(t *testing.T)) {
	for _, m := range kernelModes() {
		t.Run(m.name, func(t *testing.T) {
			defer m.set()()
			f(t)
		})
	}
}

// randI16 fills s with values in [-lim, lim].
func randI16(r *rand.Rand, s []int16, lim int) {
	for i := range s {
		s[i] = int16(r.IntN(2*lim+1) - lim)
	}
}

// TestGemm4Kernels checks gemm4 (AVX2, NEON SMLAL) and gemm4I8 (SDOT)
// against gemm4Go and gemm4I8Go on random data: kp up to 20·16, nOC 1 to
// 41 (odd ones take the pure-Go path), values of the packed range and of
// the full int16 range (the int32 sums wrap).
func TestGemm4Kernels(t *testing.T) {
	forModes(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(3, 4))
		for iter := 0; iter < 300; iter++ {
			kp := kAlign * (1 + r.IntN(20))
			noc := 1 + r.IntN(41)
			lim := 255
			if iter%4 == 3 {
				lim = 32767
			}
			a := make([]int16, 4*kp)
			w := make([]int16, noc*kp)
			randI16(r, a, lim)
			randI16(r, w, lim)
			got := make([]int32, 4*noc)
			want := make([]int32, 4*noc)
			gemm4(a, w, kp, noc, got)
			gemm4Go(a, w, kp, noc, want)
			for i := range got {
				if got[i] != want[i] {
					t.Fatalf("gemm4 kp=%d noc=%d: out[%d] = %d, want %d", kp, noc, i, got[i], want[i])
				}
			}

			a8 := make([]int8, 4*kp)
			w8 := make([]int8, noc*kp)
			for i := range a8 {
				a8[i] = int8(r.Uint32())
			}
			for i := range w8 {
				w8[i] = int8(r.Uint32())
			}
			var rowMul int32
			switch iter % 3 {
			case 1:
				rowMul = int32(r.IntN(256) - 128)
			case 2:
				rowMul = int32(r.Uint32())
			}
			gemm4I8(a8, w8, kp, noc, rowMul, got)
			gemm4I8Go(a8, w8, kp, noc, rowMul, want)
			for i := range got {
				if got[i] != want[i] {
					t.Fatalf("gemm4I8 kp=%d noc=%d rowMul=%d: out[%d] = %d, want %d", kp, noc, rowMul, i, got[i], want[i])
				}
			}
		}
	})
}

// TestDwMacKernels checks dwMac against dwMacGo for n from 0 to 80 (the
// assembly takes multiples of 8, Go the rest).
func TestDwMacKernels(t *testing.T) {
	forModes(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(5, 6))
		for n := 0; n <= 80; n++ {
			for _, signed := range []bool{false, true} {
				in := make([]byte, n)
				w := make([]int32, n)
				acc := make([]int32, n)
				for i := range in {
					in[i] = byte(r.IntN(256))
					w[i] = int32(r.IntN(511) - 255)
					if n%5 == 4 {
						w[i] = int32(r.Uint32())
					}
					acc[i] = int32(r.IntN(1<<20) - 1<<19)
				}
				zp := int32(r.IntN(256))
				if signed {
					zp -= 128
				}
				want := append([]int32(nil), acc...)
				dwMac(acc, in, w, zp, signed)
				dwMacGo(want, in, w, zp, signed)
				for i := range acc {
					if acc[i] != want[i] {
						t.Fatalf("n=%d signed=%v zp=%d: acc[%d] = %d, want %d", n, signed, zp, i, acc[i], want[i])
					}
				}
			}
		}
	})
}

// TestRequantKernels runs TestRequantFormula's checks in every mode.
func TestRequantKernels(t *testing.T) {
	forModes(t, TestRequantFormula)
}

// TestGemmF32Kernels checks gemmF32 against gemmF32Go, within the
// rounding of sums in another order.
func TestGemmF32Kernels(t *testing.T) {
	forModes(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(7, 8))
		for iter := 0; iter < 200; iter++ {
			kp := 8 * (1 + r.IntN(30))
			noc := 1 + r.IntN(21)
			a := make([]float32, 4*kp)
			w := make([]float32, noc*kp)
			for i := range a {
				a[i] = float32(r.NormFloat64())
			}
			for i := range w {
				w[i] = float32(r.NormFloat64())
			}
			got := make([]float32, 4*noc)
			want := make([]float32, 4*noc)
			gemmF32(a, w, kp, noc, got)
			gemmF32Go(a, w, kp, noc, want)
			for i := range got {
				row, oc := i/noc, i%noc
				var mag float64
				for k := 0; k < kp; k++ {
					mag += math.Abs(float64(a[row*kp+k]) * float64(w[oc*kp+k]))
				}
				if d := math.Abs(float64(got[i] - want[i])); d > 1e-5*mag {
					t.Fatalf("kp=%d noc=%d: out[%d] = %g, want %g", kp, noc, i, got[i], want[i])
				}
			}
		}
	})
}

// fillInputs writes random inputs into e: any bytes for 8-bit tensors,
// floats in [-3, 3) for float32 ones.
func fillInputs(e *Interpreter, r *rand.Rand) {
	for i, in := range e.Inputs() {
		dst, _ := e.InputBytes(i)
		if in.Type == schema.TypeFloat32 {
			for j := 0; j+4 <= len(dst); j += 4 {
				putF32(dst[j:], float32(r.Float64()*6-3))
			}
			continue
		}
		for j := range dst {
			dst[j] = byte(r.IntN(256))
		}
	}
}

// runModes opens model in every kernel mode, runs it on the same random
// inputs and compares the outputs with those of the last mode (pure Go):
// 8-bit ones exactly, float32 ones within floatTol times their largest
// magnitude. It needs no TFLite.
func runModes(t *testing.T, name string, model []byte, threads int, seed uint64) {
	t.Helper()
	modes := kernelModes()
	var want [][]byte
	for mi := len(modes) - 1; mi >= 0; mi-- {
		m := modes[mi]
		restore := m.set()
		e, err := OpenBytes(name, model, Options{Threads: threads})
		if err != nil {
			restore()
			t.Fatal(err)
		}
		fillInputs(e, newRand(seed))
		err = e.Invoke()
		restore() // packI8 matters at Open, the rest at Invoke
		if err != nil {
			t.Fatal(err)
		}
		for i, info := range e.Outputs() {
			got, _ := e.OutputBytes(i)
			if mi == len(modes)-1 {
				want = append(want, bytes.Clone(got))
				continue
			}
			tol := 0.0
			if info.Type == schema.TypeFloat32 {
				tol = opFloatTol(f32s(want[i]))
			}
			if d := diff(i, info.Type, got, want[i], tol); d != nil {
				t.Errorf("%s, %s vs %s: %s", name, m.name, modes[len(modes)-1].name, d)
			}
		}
		e.Close()
	}
}

// TestConvKernelModes runs random CONV_2D, DEPTHWISE_CONV_2D and
// FULLY_CONNECTED models (uint8, int8, float32; any zero points, padding,
// strides) in every kernel mode.
func TestConvKernelModes(t *testing.T) {
	n := 40
	if testing.Short() {
		n = 15
	}
	for k := 0; k < 3; k++ {
		t.Run(opKinds[k].name, func(t *testing.T) {
			for seed := uint64(0); seed < uint64(n); seed++ {
				g := &gen{r: rand.New(rand.NewPCG(seed, 77+uint64(k)))}
				runModes(t, fmt.Sprint(opKinds[k].name, seed), opKinds[k].gen(g).bytes(), 1+int(seed%2), seed)
			}
		})
	}
}

// TestOpsMatchRecordedKernelModes runs TestOpsMatchRecorded in every
// kernel mode: each path against amd64 TFLite's recorded outputs, on any
// machine.
func TestOpsMatchRecordedKernelModes(t *testing.T) {
	if *record {
		t.Skip("recording")
	}
	forModes(t, TestOpsMatchRecorded)
}

// TestModelKernelModes runs every CPU fixture model in every kernel mode
// on random inputs.
func TestModelKernelModes(t *testing.T) {
	dir := fixtures(t)
	for _, m := range cpuModels {
		t.Run(filepath.Base(m), func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join(dir, "models", m))
			if err != nil {
				t.Fatal(err)
			}
			runModes(t, filepath.Base(m), data, 2, 11)
		})
	}
}

// TestARM64Encodings reassembles the instruction in the comment of every
// WORD of gemm_arm64.s with the GNU assembler and checks the word.
func TestARM64Encodings(t *testing.T) {
	as, err := exec.LookPath("aarch64-linux-gnu-as")
	if err != nil {
		t.Skip("no aarch64-linux-gnu-as")
	}
	objdump, err := exec.LookPath("aarch64-linux-gnu-objdump")
	if err != nil {
		t.Skip("no aarch64-linux-gnu-objdump")
	}
	src, err := os.ReadFile("gemm_arm64.s")
	if err != nil {
		t.Fatal(err)
	}
	words := regexp.MustCompile(`(?m)^\s*WORD\s+\$0x([0-9a-f]{8})\s*//\s*(.+?)\s*$`).FindAllStringSubmatch(string(src), -1)
	if n := len(regexp.MustCompile(`(?m)^\s*WORD\b`).FindAllString(string(src), -1)); n != len(words) {
		t.Fatalf("%d WORDs, %d of the form WORD $0x%%08x // instruction", n, len(words))
	}
	dir := t.TempDir()
	var asm strings.Builder
	for _, w := range words {
		asm.WriteString(w[2] + "\n")
	}
	if err := os.WriteFile(filepath.Join(dir, "w.s"), []byte(asm.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(as, "-march=armv8.2-a+dotprod", "-o", filepath.Join(dir, "w.o"), filepath.Join(dir, "w.s")).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", as, err, out)
	}
	out, err := exec.Command(objdump, "-d", filepath.Join(dir, "w.o")).Output()
	if err != nil {
		t.Fatal(err)
	}
	codes := regexp.MustCompile(`(?m)^\s*[0-9a-f]+:\s+([0-9a-f]{8})\s`).FindAllStringSubmatch(string(out), -1)
	if len(codes) != len(words) {
		t.Fatalf("objdump gave %d words for %d instructions", len(codes), len(words))
	}
	for i, w := range words {
		if codes[i][1] != w[1] {
			t.Errorf("WORD $0x%s // %s: the assembler gives 0x%s", w[1], w[2], codes[i][1])
		}
	}
	t.Logf("%d encodings checked", len(words))
}

// BenchmarkKernelModes times Invoke of a few fixture models in every
// kernel mode (1 thread), to see what each path is worth on this CPU.
func BenchmarkKernelModes(b *testing.B) {
	dir := fixtures(b)
	for _, m := range []string{
		"classification/mobilenet_v1_0.25_128_quant.tflite",
		"classification/mobilenet_v2_1.0_224_quant.tflite",
		"vww/vww_96_int8.tflite",
		"float/mobilenet_v1_0.25_128.tflite",
	} {
		for _, mode := range kernelModes() {
			b.Run(filepath.Base(m)+"/"+mode.name, func(b *testing.B) {
				restore := mode.set()
				defer restore()
				e, err := Open(filepath.Join(dir, "models", m), Options{Threads: 1})
				if err != nil {
					b.Fatal(err)
				}
				defer e.Close()
				fillInputs(e, newRand(1))
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					if err := e.Invoke(); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
