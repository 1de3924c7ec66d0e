package engine

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"image"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/edgeproject/edge/tflite"
	"github.com/edgeproject/edge/tflite/schema"
)

// The TFLite C library's outputs, recorded on amd64 in testdata/tflite_outputs.tsv,
// so that builds without the library (armhf, CGO_ENABLED=0, tag
// nolibtflite) still check the engine against TFLite 2.9 rather than
// against itself: every fixture model on every fixture photo, and the
// random single-operator models of TestOpsMatchTFLite (seeds 0-7).
//
// After a change to the fixtures, the generators or the preprocessing,
// record again with the C library (and check the diff):
//
//	go test -run 'Recorded' -record ./tflite/engine/

var record = flag.Bool("record", false, "write "+recordedFile+" from the TFLite C library's outputs")

const recordedFile = "testdata/tflite_outputs.tsv"

// recordedOpSeeds is how many random models of every operator kind are recorded.
const recordedOpSeeds = 8

// digest summarizes an output: 8-bit and int32 outputs by their SHA-256
// ("h:"), float32 outputs by their values ("f:" all of them, for up to
// 256; else "t:" the 5 largest as index=value), after "max=" the largest
// magnitude, which scales the tolerance of single-operator models.
func digest(typ schema.TensorType, b []byte) string {
	if typ != schema.TypeFloat32 {
		h := sha256.Sum256(b)
		return "h:" + hex.EncodeToString(h[:16])
	}
	v := f32s(b)
	m := 0.0
	for _, x := range v {
		m = max(m, math.Abs(float64(x)))
	}
	var parts []string
	kind := "f:"
	idx := make([]int, len(v))
	for i := range idx {
		idx[i] = i
	}
	if len(v) > 256 {
		kind = "t:"
		sort.SliceStable(idx, func(a, b int) bool { return v[idx[a]] > v[idx[b]] })
		idx = idx[:5]
	}
	for _, i := range idx {
		parts = append(parts, fmt.Sprintf("%d=%s", i, strconv.FormatFloat(float64(v[i]), 'g', -1, 32)))
	}
	return fmt.Sprintf("%smax=%s %s", kind, strconv.FormatFloat(m, 'g', -1, 32), strings.Join(parts, ","))
}

// matchDigest checks output bytes got against a recorded digest; relTol
// scales the float tolerance by the output's largest magnitude.
func matchDigest(typ schema.TensorType, got []byte, want string, relTol bool) error {
	if typ != schema.TypeFloat32 {
		if d := digest(typ, got); d != want {
			return fmt.Errorf("%s output (%d bytes) differs from TFLite's: digest %s, recorded %s", typ, len(got), d, want)
		}
		return nil
	}
	if len(want) < 2 || (want[:2] != "f:" && want[:2] != "t:") {
		return fmt.Errorf("recorded %q is not a float32 digest", want)
	}
	head, list, _ := strings.Cut(want[2:], " ")
	m, err := strconv.ParseFloat(strings.TrimPrefix(head, "max="), 64)
	if err != nil {
		return fmt.Errorf("recorded %q: %v", want, err)
	}
	tol := floatTol
	if relTol {
		tol = floatTol * max(1, m)
	}
	v := f32s(got)
	n, bad := 0, ""
	for _, kv := range strings.Split(list, ",") {
		if kv == "" {
			continue
		}
		k, val, _ := strings.Cut(kv, "=")
		i, err1 := strconv.Atoi(k)
		w, err2 := strconv.ParseFloat(val, 64)
		if err1 != nil || err2 != nil || i < 0 || i >= len(v) {
			return fmt.Errorf("recorded %q: bad element %q for %d values", want, kv, len(v))
		}
		if d := math.Abs(float64(v[i]) - w); d > tol || math.IsNaN(d) {
			if n++; n == 1 {
				bad = fmt.Sprintf("first at %d: engine %g, TFLite %g", i, v[i], w)
			}
		}
	}
	if want[:2] == "f:" && strings.Count(list, "=") != len(v) {
		return fmt.Errorf("float32 output has %d values, TFLite's had %d", len(v), strings.Count(list, "="))
	}
	if n > 0 {
		return fmt.Errorf("float32 output: %d values differ from TFLite's by more than %g, %s", n, tol, bad)
	}
	return nil
}

// recording is testdata/tflite_outputs.tsv: key → output → digest.
type recording map[string][]string

func readRecording(t testing.TB) recording {
	t.Helper()
	f, err := os.Open(recordedFile)
	if err != nil {
		t.Fatalf("%v (record it with -record where the TFLite C library is)", err)
	}
	defer f.Close()
	r := recording{}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		key, d, ok := strings.Cut(line, "\t")
		if !ok {
			t.Fatalf("%s: bad line %q", recordedFile, line)
		}
		r[key] = append(r[key], d)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return r
}

// recorder collects the lines of a new recording; write saves them sorted.
type recorder struct{ lines []string }

func (r *recorder) add(key string, outs []tflite.TensorInfo, bytes func(int) ([]byte, error)) error {
	for i, o := range outs {
		b, err := bytes(i)
		if err != nil {
			return err
		}
		r.lines = append(r.lines, key+"\t"+digest(o.Type, b))
	}
	return nil
}

func (r *recorder) write(t testing.TB, part string) {
	t.Helper()
	old, _ := os.ReadFile(recordedFile)
	var keep []string
	for _, l := range strings.Split(string(old), "\n") {
		if l != "" && l[0] != '#' && !strings.HasPrefix(l, part+"/") {
			keep = append(keep, l)
		}
	}
	v, _ := tflite.CLibrary()
	out := "# The TFLite " + v + " C library's outputs (amd64, CPU kernels) that the engine must match in\n" +
		"# builds without it: key, digest (recorded_test.go). Re-record: go test -run Recorded -record ./tflite/engine/\n"
	all := append(keep, r.lines...)
	sort.SliceStable(all, func(i, j int) bool {
		ki, _, _ := strings.Cut(all[i], "\t")
		kj, _, _ := strings.Cut(all[j], "\t")
		return ki < kj
	})
	out += strings.Join(all, "\n") + "\n"
	if err := os.MkdirAll(filepath.Dir(recordedFile), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(recordedFile, []byte(out), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("recorded %d %s outputs in %s", len(r.lines), part, recordedFile)
}

// TestModelsMatchRecorded runs every CPU fixture model on every fixture
// photo through the engine behind the tflite API (engine.OpenTFLite, the
// package's own preprocessing) and checks each output against TFLite's,
// as recorded: 8-bit exactly, float32 within floatTol.
func TestModelsMatchRecorded(t *testing.T) {
	dir := fixtures(t)
	imgs := fixtureImages(t)
	decoded := make([]image.Image, len(imgs))
	for i, p := range imgs {
		decoded[i] = loadImage(t, p)
	}
	var rec recording
	var w recorder
	if *record {
		needTFLite(t)
		defer func() {
			if !t.Failed() {
				w.write(t, "model")
			}
		}()
	} else {
		rec = readRecording(t)
	}
	step := 1
	if testing.Short() && !*record {
		step = 6
	}
	for _, m := range cpuModels {
		t.Run(filepath.Base(m), func(t *testing.T) {
			path := filepath.Join(dir, "models", m)
			var it *tflite.Interpreter
			var err error
			if *record {
				it, err = tflite.Open(path, tflite.Options{Threads: 2, Logger: quiet})
			} else {
				it, err = OpenTFLite(path, tflite.Options{Threads: 2, Logger: quiet})
			}
			if err != nil {
				t.Fatal(err)
			}
			defer it.Close()
			for i := 0; i < len(imgs); i += step {
				key := "model/" + filepath.Base(m) + "/" + filepath.Base(imgs[i])
				if _, err := it.SetImage(decoded[i]); err != nil {
					t.Fatal(err)
				}
				if err := it.Invoke(); err != nil {
					t.Fatal(err)
				}
				if *record {
					if err := w.add(key, it.Outputs(), it.OutputBytes); err != nil {
						t.Fatal(err)
					}
					continue
				}
				checkRecorded(t, key, rec[key], it.Outputs(), it.OutputBytes, false)
			}
		})
	}
}

// checkRecorded compares every output with the recorded digests.
func checkRecorded(t *testing.T, key string, want []string, outs []tflite.TensorInfo, bytes func(int) ([]byte, error), relTol bool) {
	t.Helper()
	if len(want) == 0 {
		t.Errorf("%s: not recorded in %s (record it again with -record)", key, recordedFile)
		return
	}
	if len(want) != len(outs) {
		t.Errorf("%s: %d outputs, %d recorded", key, len(outs), len(want))
		return
	}
	for i, o := range outs {
		b, err := bytes(i)
		if err != nil {
			t.Fatal(err)
		}
		if err := matchDigest(o.Type, b, want[i], relTol); err != nil {
			t.Errorf("%s: output %d: %v", key, i, err)
		}
	}
}

// TestOpsMatchRecorded runs the random single-operator models of
// TestOpsMatchTFLite (seeds 0-7, one round of random inputs) and checks
// the outputs against TFLite's, as recorded. The digest of the model file
// is recorded too: a generator that draws differently on this machine
// fails as such, not as a kernel difference. TFLite_Detection_PostProcess
// is left out (TFLite leaves the unused rows of its outputs as they were;
// the SSD fixture model covers it).
func TestOpsMatchRecorded(t *testing.T) {
	var rec recording
	var w recorder
	if *record {
		needTFLite(t)
		defer func() {
			if !t.Failed() {
				w.write(t, "op")
			}
		}()
	} else {
		rec = readRecording(t)
	}
	for k := range opKinds {
		name := opKinds[k].name
		if name == ssdCustomOpName {
			continue
		}
		t.Run(name, func(t *testing.T) {
			for seed := uint64(0); seed < recordedOpSeeds; seed++ {
				key := fmt.Sprintf("op/%s/%d", name, seed)
				g := &gen{r: rand.New(rand.NewPCG(seed, uint64(k)))}
				b := opKinds[k].gen(g).bytes()
				h := sha256.Sum256(b)
				modelDigest := "model:" + hex.EncodeToString(h[:16])
				threads := 1 + int(seed%2)
				var outs []tflite.TensorInfo
				var outBytes func(int) ([]byte, error)
				if *record {
					path := filepath.Join(t.TempDir(), "model.tflite")
					if err := os.WriteFile(path, b, 0o644); err != nil {
						t.Fatal(err)
					}
					ref, err := tflite.Open(path, tflite.Options{Threads: threads, Logger: quiet})
					if err != nil {
						t.Logf("%s: TFLite refused it: %v", key, err)
						continue
					}
					defer ref.Close()
					if err := fillRandom(g.r, ref.Inputs(), ref.SetInput); err != nil {
						t.Fatal(err)
					}
					if err := ref.Invoke(); err != nil {
						t.Fatal(err)
					}
					w.lines = append(w.lines, key+"\t"+modelDigest)
					if err := w.add(key, ref.Outputs(), ref.OutputBytes); err != nil {
						t.Fatal(err)
					}
					continue
				}
				want := rec[key]
				if len(want) == 0 {
					continue // TFLite refused this one when recording
				}
				if want[0] != modelDigest {
					t.Errorf("%s: the generator made another model here (%s, recorded %s): it draws differently on this machine", key, modelDigest, want[0])
					continue
				}
				e, err := OpenBytes(key, b, Options{Threads: threads})
				if err != nil {
					t.Fatal(err)
				}
				defer e.Close()
				set := func(i int, data []byte) error {
					dst, err := e.InputBytes(i)
					if err != nil {
						return err
					}
					copy(dst, data)
					return nil
				}
				if err := fillRandom(g.r, e.Inputs(), set); err != nil {
					t.Fatal(err)
				}
				if err := e.Invoke(); err != nil {
					t.Fatal(err)
				}
				outs, outBytes = e.Outputs(), e.OutputBytes
				checkRecorded(t, key, want[1:], outs, outBytes, true)
			}
		})
	}
}

const ssdCustomOpName = "TFLite_Detection_PostProcess"
