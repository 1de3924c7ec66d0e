package tflite

import (
	"archive/zip"
	"bytes"
	"fmt"
	"io"

	"github.com/edgeproject/edge/tflite/schema"
)

// Metadata is what a model's TFLITE_METADATA buffer (TFLite Support's
// metadata_schema.fbs) says about it: who made it, how its input is
// normalized and which packed file labels its output.
type Metadata struct {
	Name, Description, Version, Author, License string
	// Mean and Std normalize the input: (pixel − Mean) / Std, per channel or one for all.
	Mean, Std []float32
	// LabelFile is the associated file of type TENSOR_AXIS_LABELS on output 0.
	LabelFile string
}

// Field ids of metadata_schema.fbs.
const (
	mdName, mdDescription, mdVersion, mdSubgraphs, mdAuthor, mdLicense = 0, 1, 2, 3, 4, 5
	sgInputs, sgOutputs                                                = 2, 3
	tmProcessUnits, tmAssociatedFiles                                  = 4, 6
	puOptionsType, puOptions                                           = 0, 1
	normMean, normStd                                                  = 0, 1
	afName, afType                                                     = 0, 2
	optionsNormalization                                               = 1 // ProcessUnitOptions union
	fileTensorAxisLabels                                               = 2 // AssociatedFileType
)

// ReadMetadata reads the model's TFLITE_METADATA; ok is false when it has none.
func ReadMetadata(m *schema.Model) (md *Metadata, ok bool, err error) {
	buf, ok := m.MetadataBuffer("TFLITE_METADATA")
	if !ok || len(buf) == 0 {
		return nil, false, nil
	}
	root, err := schema.Root(buf)
	if err != nil {
		return nil, false, fmt.Errorf("TFLITE_METADATA: %w", err)
	}
	md = &Metadata{
		Name: root.Str(mdName), Description: root.Str(mdDescription), Version: root.Str(mdVersion),
		Author: root.Str(mdAuthor), License: root.Str(mdLicense),
	}
	sgs := root.Tables(mdSubgraphs)
	if len(sgs) == 0 {
		return md, true, nil
	}
	if ins := sgs[0].Tables(sgInputs); len(ins) > 0 {
		for _, pu := range ins[0].Tables(tmProcessUnits) {
			if pu.Uint8(puOptionsType, 0) == optionsNormalization {
				opts := pu.Table(puOptions)
				md.Mean, md.Std = opts.Float32Vector(normMean), opts.Float32Vector(normStd)
			}
		}
	}
	if outs := sgs[0].Tables(sgOutputs); len(outs) > 0 {
		for _, f := range outs[0].Tables(tmAssociatedFiles) {
			if f.Int8(afType, 0) == fileTensorAxisLabels {
				md.LabelFile = f.Str(afName)
				break
			}
		}
	}
	return md, true, nil
}

// EmbeddedLabels returns the label file packed in the model (the ZIP
// archive after the flatbuffer that TFLITE_METADATA names), if any.
func EmbeddedLabels(path string, m *schema.Model) (*Labels, bool, error) {
	md, ok, err := ReadMetadata(m)
	if err != nil || !ok || md.LabelFile == "" {
		return nil, false, err
	}
	z := m.AssociatedFiles()
	if len(z) == 0 {
		return nil, false, fmt.Errorf("%s: metadata names label file %q but the model packs no files", path, md.LabelFile)
	}
	zr, err := zip.NewReader(bytes.NewReader(z), int64(len(z)))
	if err != nil {
		return nil, false, fmt.Errorf("%s: packed files: %w", path, err)
	}
	f, err := zr.Open(md.LabelFile)
	if err != nil {
		return nil, false, fmt.Errorf("%s: packed label file %q: %w", path, md.LabelFile, err)
	}
	defer f.Close()
	l, err := parseLabels(path+"#"+md.LabelFile, io.LimitReader(f, 16<<20))
	if err != nil {
		return nil, false, err
	}
	return l, true, nil
}
