package schema

import (
	"errors"
	"fmt"
)

// Sentinel errors classifying why [Parse] rejected its input. Every error
// returned by Parse is a *[FormatError] whose Kind is one of these, so callers
// can test it with errors.Is.
var (
	// ErrEmpty reports an input of zero bytes.
	ErrEmpty = errors.New("empty file")
	// ErrNotTFLite reports an input that is not a TFLite flatbuffer at all:
	// shorter than the 8-byte header or without the "TFL3" file identifier.
	ErrNotTFLite = errors.New("not a TFLite model")
	// ErrTruncated reports an offset or length that points past the end of
	// the input, which is what a partially copied or downloaded file produces.
	ErrTruncated = errors.New("truncated")
	// ErrInvalid reports data that is inside the input but inconsistent: a bad
	// vtable, an index out of range, an unsupported schema version, ...
	ErrInvalid = errors.New("invalid TFLite model")
)

// FormatError describes what is wrong with a model file and where.
//
// Its message reads "<kind>: <path> <detail>", for example
//
//	truncated: subgraph 0 tensor 12 points past end of file (offset 123456, size 4000)
//	not a TFLite model: file identifier is "PK\x03\x04", want "TFL3"
type FormatError struct {
	// Kind is ErrEmpty, ErrNotTFLite, ErrTruncated or ErrInvalid.
	Kind error
	// Path locates the bad data in the model, from the root down, for
	// example "subgraph 0 tensor 12 name". It is empty for file-level errors.
	Path string
	// Detail says what is wrong.
	Detail string
}

// Error implements the error interface.
func (e *FormatError) Error() string {
	s := e.Kind.Error()
	if e.Path == "" && e.Detail == "" {
		return s
	}
	s += ": " + e.Path
	if e.Path != "" && e.Detail != "" {
		s += " "
	}
	return s + e.Detail
}

// Unwrap returns e.Kind, so that errors.Is(err, ErrTruncated) and the like work.
func (e *FormatError) Unwrap() error { return e.Kind }

func truncErr(path, format string, args ...any) error {
	return &FormatError{Kind: ErrTruncated, Path: path, Detail: fmt.Sprintf(format, args...)}
}

func invalidErr(path, format string, args ...any) error {
	return &FormatError{Kind: ErrInvalid, Path: path, Detail: fmt.Sprintf(format, args...)}
}

// within prefixes the path of a *FormatError with an outer element, e.g.
// within(err, "tensor %d", 12) turns path "name" into "tensor 12 name".
// Other errors (and nil) are returned unchanged.
func within(err error, format string, args ...any) error {
	var fe *FormatError
	if !errors.As(err, &fe) {
		return err
	}
	p := fmt.Sprintf(format, args...)
	if fe.Path != "" {
		p += " " + fe.Path
	}
	fe.Path = p
	return err
}
