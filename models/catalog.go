package models

import (
	_ "embed"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"

	"gopkg.in/yaml.v3"
)

//go:embed catalog.yaml
var catalogYAML []byte

// Family is a MobileNet generation, or "ssd" for the SSD detectors built on
// one.
type Family string

// The families of the catalog.
const (
	V1  Family = "v1"
	V2  Family = "v2"
	V3  Family = "v3"
	SSD Family = "ssd"
)

// Entry is one downloadable model file of the catalog.
type Entry struct {
	// Name identifies the entry, e.g. "mobilenet_v1_0.25_128_quant"; Fetch
	// stores the model as Name + ".tflite".
	Name   string `yaml:"name" json:"name"`
	Family Family `yaml:"family" json:"family"`
	// Variant tells apart models of one family: "large", "small",
	// "large-minimalistic" for V3, the backbone "v1" or "v2" for SSD.
	Variant string `yaml:"variant,omitempty" json:"variant,omitempty"`
	// Width is the width multiplier α.
	Width float64 `yaml:"width" json:"width"`
	// Resolution is the input height and width in pixels.
	Resolution int `yaml:"resolution" json:"resolution"`
	// Quant is the integer type the model computes in: "uint8" (TF1
	// quantization-aware training) or "int8" (TF2 full-integer).
	Quant string `yaml:"quant" json:"quant"`
	// EdgeTPU marks a model compiled for the Coral Edge TPU.
	EdgeTPU bool `yaml:"edgetpu" json:"edgetpu"`
	// Source says who publishes the file, with the commit for GitHub
	// repositories, e.g. "google-coral/test_data@086adea…".
	Source string `yaml:"source" json:"source"`
	// URL is where Fetch downloads the file from.
	URL string `yaml:"url" json:"url"`
	// Archive is the path of the .tflite inside the download when URL is a
	// .tgz, .tar.gz or .zip archive; empty for a plain .tflite.
	Archive string `yaml:"archive,omitempty" json:"archive,omitempty"`
	// SHA256 is the hex SHA-256 of the download (of the archive when
	// Archive is set); empty when unknown, and Fetch then refuses.
	SHA256 string `yaml:"sha256" json:"sha256"`
	// Size is the size of the download in bytes, 0 when unknown.
	Size int64 `yaml:"size" json:"size"`
	// Verified is true only where SHA256 was checked against a copy of the
	// file: the project's fixtures (see Fixture). Otherwise SHA256 comes
	// from the public material SHA256Source names, or is unknown.
	Verified     bool   `yaml:"verified" json:"verified"`
	SHA256Source string `yaml:"sha256_source" json:"sha256_source"`
	// FileSHA256 is the SHA-256 of the extracted .tflite, where known.
	FileSHA256 string `yaml:"file_sha256,omitempty" json:"file_sha256,omitempty"`
	// Fixture is the path, under the fixture directory, of the copy whose
	// sha256 in MANIFEST.tsv verified this entry.
	Fixture string `yaml:"fixture,omitempty" json:"fixture,omitempty"`
	// Input is the model's input tensor.
	Input Input `yaml:"input" json:"input"`
	// Preprocess says how to turn 8-bit RGB pixels into the input.
	Preprocess Preprocess `yaml:"preprocess" json:"preprocess"`
	// Labels is the label file that goes with the output.
	Labels Labels `yaml:"labels" json:"labels"`
	// Published holds the cost and accuracy figures the model's authors
	// give, nil if none.
	Published *Published `yaml:"published,omitempty" json:"published,omitempty"`
	Notes     string     `yaml:"notes,omitempty" json:"notes,omitempty"`
}

// Input describes an input tensor, e.g. uint8 [1 224 224 3].
type Input struct {
	Type  string `yaml:"type" json:"type"`
	Shape []int  `yaml:"shape" json:"shape"`
}

func (in Input) String() string {
	dims := make([]string, len(in.Shape))
	for i, d := range in.Shape {
		dims[i] = fmt.Sprint(d)
	}
	return fmt.Sprintf("%s[%s]", in.Type, strings.Join(dims, " "))
}

// Preprocess says how 8-bit pixels p become the model input: (p − Mean) /
// Std, or the raw pixels when Raw (quantized models whose input
// quantization does the normalization). In the data file it is written
// "raw pixels" or "mean 127.5 std 127.5".
type Preprocess struct {
	Raw  bool    `json:"raw,omitempty"`
	Mean float64 `json:"mean,omitempty"`
	Std  float64 `json:"std,omitempty"`
}

func (p Preprocess) String() string {
	if p.Raw {
		return "raw pixels"
	}
	return fmt.Sprintf("mean %g std %g", p.Mean, p.Std)
}

// UnmarshalYAML reads "raw pixels" or "mean M std S".
func (p *Preprocess) UnmarshalYAML(n *yaml.Node) error {
	var s string
	if err := n.Decode(&s); err != nil {
		return err
	}
	if s == "raw pixels" {
		*p = Preprocess{Raw: true}
		return nil
	}
	var q Preprocess
	if _, err := fmt.Sscanf(s, "mean %g std %g", &q.Mean, &q.Std); err != nil || q.Std <= 0 {
		return fmt.Errorf("line %d: preprocess %q: want \"raw pixels\" or \"mean M std S\" with S > 0", n.Line, s)
	}
	*p = q
	return nil
}

// Labels names a label file: one class name per line.
type Labels struct {
	Name   string `yaml:"name" json:"name"`
	URL    string `yaml:"url" json:"url"`
	SHA256 string `yaml:"sha256" json:"sha256"`
	// Count is the number of lines.
	Count int `yaml:"count" json:"count"`
	// Background is true when line 0 is the "background" class of a
	// 1001-class output.
	Background bool `yaml:"background,omitempty" json:"background,omitempty"`
}

// Published holds figures from the model's publication.
type Published struct {
	// MAdds and Params are in millions.
	MAdds  float64 `yaml:"madds" json:"madds"`
	Params float64 `yaml:"params" json:"params"`
	// Top1 is the ImageNet top-1 accuracy in percent, 0 if not given.
	Top1   float64 `yaml:"top1,omitempty" json:"top1,omitempty"`
	Source string  `yaml:"source" json:"source"`
}

// WidthString renders Width as file names do: "0.25", "0.5", "1.0".
func (e Entry) WidthString() string {
	s := strconv.FormatFloat(e.Width, 'f', -1, 64)
	if !strings.Contains(s, ".") {
		s += ".0"
	}
	return s
}

// FileName is the name Fetch stores the model under.
func (e Entry) FileName() string { return e.Name + ".tflite" }

var loadCatalog = sync.OnceValues(func() ([]Entry, error) { return parseCatalog(catalogYAML) })

func parseCatalog(data []byte) ([]Entry, error) {
	var entries []Entry
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	dec.KnownFields(true)
	if err := dec.Decode(&entries); err != nil {
		return nil, fmt.Errorf("catalog.yaml: %w", err)
	}
	seen := map[string]bool{}
	for i, e := range entries {
		if err := e.check(); err != nil {
			return nil, fmt.Errorf("catalog.yaml: entry %d: %w", i, err)
		}
		if seen[e.Name] {
			return nil, fmt.Errorf("catalog.yaml: entry %d: name %q given twice", i, e.Name)
		}
		seen[e.Name] = true
	}
	return entries, nil
}

func isHex64(s string) bool {
	if len(s) != 64 {
		return false
	}
	for _, c := range s {
		if !strings.ContainsRune("0123456789abcdef", c) {
			return false
		}
	}
	return true
}

// check validates the fields of an entry.
func (e Entry) check() error {
	switch {
	case e.Name == "" || strings.ContainsAny(e.Name, "/\\ "):
		return fmt.Errorf("name %q: want a non-empty name without slashes or spaces", e.Name)
	case !slices.Contains([]Family{V1, V2, V3, SSD}, e.Family):
		return fmt.Errorf("%s: family %q: want v1, v2, v3 or ssd", e.Name, e.Family)
	case e.Quant != "uint8" && e.Quant != "int8":
		return fmt.Errorf("%s: quant %q: want uint8 or int8", e.Name, e.Quant)
	case e.Width <= 0 || e.Width > 2:
		return fmt.Errorf("%s: width %g: want 0 < width <= 2", e.Name, e.Width)
	case !strings.HasPrefix(e.URL, "https://"):
		return fmt.Errorf("%s: url %q: want https", e.Name, e.URL)
	case e.SHA256 != "" && !isHex64(e.SHA256):
		return fmt.Errorf("%s: sha256 %q: want 64 lowercase hex digits", e.Name, e.SHA256)
	case e.FileSHA256 != "" && !isHex64(e.FileSHA256):
		return fmt.Errorf("%s: file_sha256 %q: want 64 lowercase hex digits", e.Name, e.FileSHA256)
	case e.Verified && (e.SHA256 == "" || e.Fixture == ""):
		return fmt.Errorf("%s: verified entries need a sha256 and the fixture that verified it", e.Name)
	case (archiveKind(e.URL) != "") != (e.Archive != ""):
		return fmt.Errorf("%s: archive %q does not fit url %q: set it exactly for .tgz, .tar.gz and .zip urls", e.Name, e.Archive, e.URL)
	case len(e.Input.Shape) != 4 || e.Input.Shape[1] != e.Resolution || e.Input.Shape[2] != e.Resolution:
		return fmt.Errorf("%s: input shape %v: want [1 %d %d 3]", e.Name, e.Input.Shape, e.Resolution, e.Resolution)
	}
	return nil
}

// Catalog returns the entries of the catalog, in the order of the data
// file: V1, V2, V3, the Coral builds, then the SSD detectors. The slice is
// the caller's to modify.
func Catalog() []Entry {
	entries, err := loadCatalog()
	if err != nil {
		// The data file is compiled in and checked by the tests.
		panic(err)
	}
	out := make([]Entry, len(entries))
	copy(out, entries)
	return out
}

// ErrUnknownModel reports a name that is not in the catalog.
var ErrUnknownModel = errors.New("unknown model")

// Lookup returns the catalog entry called name. Its error names the closest
// entries when there is no such entry.
func Lookup(name string) (Entry, error) {
	entries := Catalog()
	for _, e := range entries {
		if e.Name == name {
			return e, nil
		}
	}
	var near []string
	key := strings.ToLower(strings.TrimSuffix(name, ".tflite"))
	for _, e := range entries {
		if strings.Contains(e.Name, key) || strings.Contains(key, e.Name) {
			near = append(near, e.Name)
		}
	}
	sort.Strings(near)
	if len(near) > 0 {
		if len(near) > 5 {
			near = append(near[:5], "…")
		}
		return Entry{}, fmt.Errorf("%w %q: did you mean %s?", ErrUnknownModel, name, strings.Join(near, ", "))
	}
	return Entry{}, fmt.Errorf("%w %q: the catalog has %d models (edge models list)", ErrUnknownModel, name, len(entries))
}

// WriteCatalog writes entries as an aligned table: name, family, width,
// resolution, quantization, Edge TPU, size, whether the sha256 is verified,
// published MAdds and parameters.
func WriteCatalog(w io.Writer, entries []Entry) error {
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tFAMILY\tWIDTH\tRES\tQUANT\tEDGETPU\tSIZE\tSHA256\tMADDS\tPARAMS")
	for _, e := range entries {
		family := string(e.Family)
		if e.Variant != "" {
			family += "-" + e.Variant
		}
		size := "?"
		if e.Size > 0 {
			size = Bytes(e.Size)
		}
		sum := "unknown"
		switch {
		case e.Verified:
			sum = "verified"
		case e.SHA256 != "":
			sum = "published"
		}
		madds, params := "", ""
		if p := e.Published; p != nil {
			madds, params = fmt.Sprintf("%gM", p.MAdds), fmt.Sprintf("%gM", p.Params)
		}
		tpu := ""
		if e.EdgeTPU {
			tpu = "yes"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\n", e.Name, family, e.WidthString(), e.Resolution, e.Quant, tpu, size, sum, madds, params)
	}
	return tw.Flush()
}
