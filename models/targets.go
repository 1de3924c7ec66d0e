package models

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"text/tabwriter"

	"github.com/edgeproject/edge/models/arch"
	"github.com/edgeproject/edge/tflite/schema"
)

// AnalyzeArchitecture builds the architecture called name (see
// arch.Names) with opts and analyzes the graph, without writing a file.
func AnalyzeArchitecture(name string, opts arch.Options) (*Report, error) {
	m, err := arch.Build(name, opts)
	if err != nil {
		return nil, err
	}
	data, err := m.Bytes()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	sm, err := schema.Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: the built model does not parse: %w", name, err)
	}
	r, err := Analyze(sm)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	r.Name = arch.Canonical(name)
	return r, nil
}

// AnalyzeArgs analyzes what `edge models analyze [MODEL...]` names: each
// argument is a .tflite file, an architecture of package arch (built with
// the default options), or a catalog entry already fetched into dir ("" is
// DefaultDir()). With no arguments it analyzes the four architectures.
func AnalyzeArgs(args []string, dir string) ([]*Report, error) {
	if len(args) == 0 {
		args = arch.Names()
	}
	if dir == "" {
		dir = DefaultDir()
	}
	var out []*Report
	for _, a := range args {
		r, err := analyzeArg(a, dir)
		if err != nil {
			return out, err
		}
		out = append(out, r)
	}
	return out, nil
}

func analyzeArg(a, dir string) (*Report, error) {
	if st, err := os.Stat(a); err == nil && !st.IsDir() {
		return AnalyzeFile(a)
	}
	if arch.Canonical(a) != "" {
		return AnalyzeArchitecture(a, arch.Options{})
	}
	e, err := Lookup(a)
	if err != nil {
		return nil, fmt.Errorf("%s: not a file, an architecture (%v) or a catalog model: %w", a, arch.Names(), err)
	}
	p := filepath.Join(dir, e.FileName())
	if _, err := os.Stat(p); errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%s: not fetched into %s yet (edge models fetch %s)", e.Name, dir, e.Name)
	}
	r, err := AnalyzeFile(p)
	if err != nil {
		return nil, err
	}
	r.Name = e.Name
	return r, nil
}

// SeedRow compares one architecture built by package arch with the figures
// of the project's seed table (from the MobileNet papers).
type SeedRow struct {
	Arch string `json:"arch"`
	// SeedParams and SeedMAdds are the seed table's figures, in millions.
	SeedParams float64 `json:"seed_params"`
	SeedMAdds  float64 `json:"seed_madds"`
	// Report is the analysis of the built graph (width 1.0, 224×224, 1001
	// classes).
	Report *Report `json:"report"`
	// Note explains a figure the graph cannot reproduce.
	Note string `json:"note,omitempty"`
}

// ParamsDelta and MAddsDelta are the relative differences of the built
// graph from the seed figures, e.g. 0.012 for 1.2% more.
func (r SeedRow) ParamsDelta() float64 { return delta(r.Report.Params, r.SeedParams) }

// MAddsDelta: see ParamsDelta.
func (r SeedRow) MAddsDelta() float64 { return delta(r.Report.MAdds, r.SeedMAdds) }

func delta(got int64, wantMillions float64) float64 {
	return float64(got)/(wantMillions*1e6) - 1
}

// SeedTable builds the four architectures and analyzes them next to the
// seed table: V1 4.2M parameters and 569M multiply-adds, V2 3.4M and
// 300M, V3-Large 5.4M and 219M, V3-Small 2.5M and 66M.
func SeedTable() ([]SeedRow, error) {
	rows := []SeedRow{
		{Arch: arch.V1, SeedParams: 4.2, SeedMAdds: 569},
		{Arch: arch.V2, SeedParams: 3.4, SeedMAdds: 300,
			Note: "the paper's 3.4M is 3.47M (TF-Slim README) rounded down; the graph has 3.49M with the 1001-class classifier and folded-BN biases"},
		{Arch: arch.V3Large, SeedParams: 5.4, SeedMAdds: 219},
		{Arch: arch.V3Small, SeedParams: 2.5, SeedMAdds: 66,
			Note: "66M is TF-Slim README's figure; the paper gives 56M, and the released v3-small_224_1.0_uint8 graph (and this one, layer for layer) has 56.5M"},
	}
	for i := range rows {
		r, err := AnalyzeArchitecture(rows[i].Arch, arch.Options{})
		if err != nil {
			return nil, err
		}
		rows[i].Report = r
	}
	return rows, nil
}

// WriteSeedTable writes rows as an aligned table with the deltas.
func WriteSeedTable(w io.Writer, rows []SeedRow) error {
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "ARCH\tPARAMS\tSEED\tΔ\tMADDS\tSEED\tΔ\tPEAK ACT.\tNOTE")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%gM\t%+.1f%%\t%s\t%gM\t%+.1f%%\t%s\t%s\n", r.Arch,
			Millions(r.Report.Params), r.SeedParams, 100*r.ParamsDelta(),
			Millions(r.Report.MAdds), r.SeedMAdds, 100*r.MAddsDelta(),
			Bytes(r.Report.PeakActivationBytes), r.Note)
	}
	return tw.Flush()
}
