package engine

import "github.com/edgeproject/edge/tflite/internal/fbtest"

// T is a flatbuffer table for the shared test writer.
type T = fbtest.T

func build(root T) []byte { return fbtest.Build(root) }
