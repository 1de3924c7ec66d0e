package engine

import "github.com/edgeproject/edge/tflite"

// OpenTFLite opens the model at path on the Go engine behind the API of the
// cgo interpreter (tflite.Interpreter), so that image preprocessing,
// classification and SSD decoding are the same whichever engine runs.
// opts.Threads sets the engine's threads; opts.Delegate is not used.
func OpenTFLite(path string, opts tflite.Options) (*tflite.Interpreter, error) {
	e, err := Open(path, Options{Threads: opts.Threads})
	if err != nil {
		return nil, err
	}
	it, err := tflite.NewWithBackend(path, backend{e}, opts)
	if err != nil {
		e.Close()
		return nil, err
	}
	return it, nil
}

// backend adapts an Interpreter to tflite.Backend.
type backend struct{ e *Interpreter }

func (b backend) Name() string                      { return "go" }
func (b backend) Inputs() []tflite.TensorInfo       { return b.e.Inputs() }
func (b backend) Outputs() []tflite.TensorInfo      { return b.e.Outputs() }
func (b backend) InputBytes(i int) ([]byte, error)  { return b.e.InputBytes(i) }
func (b backend) OutputBytes(i int) ([]byte, error) { return b.e.OutputBytes(i) }
func (b backend) Invoke() error                     { return b.e.Invoke() }
func (b backend) Close() error                      { return b.e.Close() }
