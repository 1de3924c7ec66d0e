package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"

	"github.com/edgeproject/edge/tflite"
	"github.com/edgeproject/edge/tflite/schema"
)

type tensorJSON struct {
	Name          string    `json:"name"`
	Type          string    `json:"type"`
	Shape         []int32   `json:"shape"`
	Scale         []float32 `json:"scale,omitempty"`
	ZeroPoint     []int64   `json:"zero_point,omitempty"`
	QuantizedAxis int32     `json:"quantized_dimension,omitempty"`
}

type modelInfo struct {
	Path        string         `json:"path"`
	Bytes       int64          `json:"bytes"`
	Version     uint32         `json:"schema_version"`
	Description string         `json:"description,omitempty"`
	Subgraphs   int            `json:"subgraphs"`
	Operators   int            `json:"operators"`
	Ops         map[string]int `json:"ops"`
	CustomOps   []string       `json:"custom_ops,omitempty"`
	Inputs      []tensorJSON   `json:"inputs"`
	Outputs     []tensorJSON   `json:"outputs"`
	Quant       string         `json:"quantization"`
	Metadata    []string       `json:"metadata,omitempty"`
	// TFLite Support metadata, when the model has it.
	Support *tflite.Metadata `json:"support_metadata,omitempty"`
	// Engines are the inference engines compiled into this edge.
	Engines string `json:"engines"`
	// Runs says whether the engine (--engine) on this machine can run it, on which delegate.
	Runs       bool               `json:"runs"`
	Delegation *tflite.Delegation `json:"delegation,omitempty"`
	Problem    string             `json:"problem,omitempty"`
}

func runInfo(_ context.Context, args []string, out, errOut io.Writer) error {
	fs := flag.NewFlagSet("info", flag.ContinueOnError)
	fs.SetOutput(errOut)
	asJSON := fs.Bool("json", false, "print JSON")
	delegate := fs.String("delegate", "cpu", "delegate to try the model on: cpu, xnnpack, edgetpu, nnapi or auto")
	engineName := fs.String("engine", "auto", "engine to try the model on: tflite, go or auto (tflite when this edge has it, else go)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("want exactly one MODEL")
	}
	d, err := tflite.ParseDelegate(*delegate)
	if err != nil {
		return fmt.Errorf("--delegate: %w", err)
	}
	info, err := describeModel(fs.Arg(0), *engineName, d)
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(out, info)
	}
	printInfo(out, info)
	return nil
}

func describeModel(path, engineName string, d tflite.Delegate) (*modelInfo, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	m, err := schema.ReadFile(path)
	if err != nil {
		return nil, err
	}
	info := &modelInfo{
		Path: path, Bytes: st.Size(), Version: m.Version, Description: m.Description,
		Subgraphs: len(m.Subgraphs), Ops: m.OpHistogram(), CustomOps: m.CustomOps(),
		Engines: engines(),
	}
	for _, md := range m.Metadata {
		info.Metadata = append(info.Metadata, md.Name)
	}
	if md, ok, err := tflite.ReadMetadata(m); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	} else if ok {
		info.Support = md
	}
	types := map[string]bool{}
	perChannel := false
	for _, sg := range m.Subgraphs {
		info.Operators += len(sg.Operators)
		for _, t := range sg.Tensors {
			if t.Quantization != nil && len(t.Quantization.Scale) > 0 {
				types[t.Type.String()] = true
				perChannel = perChannel || len(t.Quantization.Scale) > 1
			}
		}
	}
	info.Quant = quantSummary(types, perChannel)
	if len(m.Subgraphs) > 0 {
		sg := m.Subgraphs[0]
		info.Inputs = tensorsJSON(sg, sg.Inputs)
		info.Outputs = tensorsJSON(sg, sg.Outputs)
	}
	it, err := openModel(path, engineName, tflite.Options{Delegate: d})
	if err != nil {
		info.Problem = err.Error()
		return info, nil
	}
	defer it.Close()
	del := it.Delegation()
	info.Runs, info.Delegation = true, &del
	return info, nil
}

func quantSummary(types map[string]bool, perChannel bool) string {
	if len(types) == 0 {
		return "none (float)"
	}
	var ts []string
	for t := range types {
		ts = append(ts, t)
	}
	sort.Strings(ts)
	s := fmt.Sprint(ts)
	if perChannel {
		return s + " per-channel"
	}
	return s + " per-tensor"
}

func tensorsJSON(sg schema.Subgraph, ids []int32) []tensorJSON {
	var out []tensorJSON
	for _, id := range ids {
		if id < 0 || int(id) >= len(sg.Tensors) {
			continue
		}
		t := sg.Tensors[id]
		j := tensorJSON{Name: t.Name, Type: t.Type.String(), Shape: t.Shape}
		if q := t.Quantization; q != nil {
			j.Scale, j.ZeroPoint, j.QuantizedAxis = q.Scale, q.ZeroPoint, q.QuantizedDimension
		}
		out = append(out, j)
	}
	return out
}

func printInfo(w io.Writer, info *modelInfo) {
	fmt.Fprintf(w, "%s  (%d bytes, schema v%d)\n", info.Path, info.Bytes, info.Version)
	if info.Description != "" {
		fmt.Fprintf(w, "  description: %s\n", info.Description)
	}
	for _, group := range []struct {
		name string
		ts   []tensorJSON
	}{{"input", info.Inputs}, {"output", info.Outputs}} {
		for i, t := range group.ts {
			q := ""
			if len(t.Scale) == 1 && len(t.ZeroPoint) == 1 {
				q = fmt.Sprintf("  scale %.8g zero point %d", t.Scale[0], t.ZeroPoint[0])
			}
			fmt.Fprintf(w, "  %s %d: %s %v %q%s\n", group.name, i, t.Type, t.Shape, t.Name, q)
		}
	}
	fmt.Fprintf(w, "  quantization: %s\n", info.Quant)
	names := make([]string, 0, len(info.Ops))
	for n := range info.Ops {
		names = append(names, n)
	}
	sort.Strings(names)
	fmt.Fprintf(w, "  operators: %d in %d subgraph(s)\n", info.Operators, info.Subgraphs)
	for _, n := range names {
		fmt.Fprintf(w, "    %-30s %d\n", n, info.Ops[n])
	}
	if len(info.Metadata) > 0 {
		fmt.Fprintf(w, "  metadata: %v\n", info.Metadata)
	}
	if md := info.Support; md != nil {
		fmt.Fprintf(w, "  model card: %s %s (%s)\n", md.Name, md.Version, md.Author)
		if len(md.Mean) > 0 {
			fmt.Fprintf(w, "    input normalization: mean %v std %v\n", md.Mean, md.Std)
		}
		if md.LabelFile != "" {
			fmt.Fprintf(w, "    labels packed in the model: %s\n", md.LabelFile)
		}
	}
	fmt.Fprintf(w, "  engines in this edge: %s\n", info.Engines)
	if info.Runs {
		fmt.Fprintf(w, "  runs here: yes, %s\n", info.Delegation)
		if info.Delegation.Note != "" {
			fmt.Fprintf(w, "    %s\n", info.Delegation.Note)
		}
	} else {
		fmt.Fprintf(w, "  runs here: no: %s\n", info.Problem)
	}
}
