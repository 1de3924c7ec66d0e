package engine

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/edgeproject/edge/tflite/schema"
)

// checkOp builds the random model of kind k from seed, runs it in both
// interpreters on random inputs and returns what differs.
func checkOp(t testing.TB, k int, seed uint64) error {
	g := &gen{r: rand.New(rand.NewPCG(seed, uint64(k)))}
	spec := opKinds[k].gen(g)
	path := spec.write(t)
	threads := 1 + int(seed%2)
	refThreads := threads
	if spec.ops[0].custom != "" {
		// With more than one thread, TFLite's regular NMS orders detections
		// of equal score from different classes differently; the engine
		// follows its single-threaded order.
		refThreads = 1
	}
	p, err := openPairThreads(t, path, refThreads, threads)
	if err != nil {
		return err
	}
	defer p.close()
	p.relTol = true
	for round := 0; round < 2; round++ {
		if err := p.randomInputs(g.r); err != nil {
			return err
		}
		ms, err := p.compare()
		if err != nil {
			return err
		}
		if spec.ops[0].custom != "" {
			ms = p.validDetections(ms)
		}
		if !tfliteBitExact && tieOps[opKinds[k].name] {
			var types []schema.TensorType
			for _, o := range p.eng.Outputs() {
				types = append(types, o.Type)
			}
			ms = tieOnly(ms, types)
		}
		if len(ms) > 0 {
			desc := ""
			for _, m := range ms {
				desc += "\n\t" + m.String()
			}
			return fmt.Errorf("%s seed %d differs:%s\n\tmodel: %s", opKinds[k].name, seed, desc, describe(p.eng))
		}
	}
	return nil
}

func describe(e *Interpreter) string {
	s := ""
	for _, t := range e.tensors {
		s += fmt.Sprintf("\n\t  %s s=%g zp=%d", t, t.scale, t.zp)
	}
	return s
}

// TestOpsMatchTFLite runs a few random models of every operator kind.
func TestOpsMatchTFLite(t *testing.T) {
	needTFLite(t)
	n := 40
	if testing.Short() {
		n = 8
	}
	for k := range opKinds {
		t.Run(opKinds[k].name, func(t *testing.T) {
			refused, failed := 0, 0
			for seed := uint64(0); seed < uint64(n); seed++ {
				err := checkOp(t, k, seed)
				if errors.Is(err, errRefused) {
					refused++
					t.Logf("seed %d: %v", seed, err)
					continue
				}
				if err != nil {
					t.Error(err)
					if failed++; failed >= 3 {
						t.FailNow()
					}
				}
			}
			if refused > n/4 {
				t.Errorf("TFLite refused %d of %d generated models", refused, n)
			}
		})
	}
}

// FuzzOps builds a random single-operator model from (kind, seed), runs it
// in the engine and in TFLite on random inputs, and fails on any difference.
//
//	go test -run '^$' -fuzz FuzzOps -fuzztime 5m ./tflite/engine/
func FuzzOps(f *testing.F) {
	needTFLite(f)
	for k := range opKinds {
		f.Add(uint8(k), uint64(1000+k))
	}
	f.Fuzz(func(t *testing.T, kind uint8, seed uint64) {
		err := checkOp(t, int(kind)%len(opKinds), seed)
		if errors.Is(err, errRefused) {
			t.Skip(err)
		}
		if err != nil {
			t.Fatal(err)
		}
	})
}

// TestFallbackKernels runs the convolutions and a whole model against
// TFLite with each fallback of the default kernels (kernelModes): the
// NEON SMLAL kernel where the default is SDOT, the int8 packing in pure
// Go, and pure Go, as on CPUs without AVX2 or the dot product.
func TestFallbackKernels(t *testing.T) {
	needTFLite(t)
	if runtime.GOARCH != "amd64" {
		t.Skip("TFLite's arm64 build breaks some rounding ties unlike its amd64 one, which the engine follows; TestOpsMatchRecordedKernelModes checks every kernel mode against amd64 TFLite's recorded outputs")
	}
	modes := kernelModes()[1:]
	if testing.Short() {
		modes = modes[len(modes)-1:]
	}
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			defer m.set()()
			for k := 0; k < 3; k++ { // CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED
				for seed := uint64(0); seed < 20; seed++ {
					if err := checkOp(t, k, 500+seed); err != nil && !errors.Is(err, errRefused) {
						t.Fatal(err)
					}
				}
			}
			dir := fixtures(t)
			p, err := openPair(t, dir+"/models/classification/mobilenet_v2_1.0_224_quant.tflite", 2)
			if err != nil {
				t.Fatal(err)
			}
			defer p.close()
			if err := p.randomInputs(newRand(7)); err != nil {
				t.Fatal(err)
			}
			ms, err := p.compare()
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range ms {
				t.Error(m)
			}
		})
	}
}
