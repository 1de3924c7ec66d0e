// Package tflite runs TensorFlow Lite models — quantized MobileNet
// classifiers and SSD detectors — through the TFLite 2.9 C library
// (libtensorflowlite_c), by way of github.com/mattn/go-tflite.
//
// It adds what go-tflite leaves out: errors that say which file failed and
// why (go-tflite returns nil), TFLite's error reporter text formatted
// correctly, the XNNPACK delegate compiled into the library, the Edge TPU
// runtime loaded at run time with dlopen, a report of how many nodes a
// delegate took, filling the input from an image with the model's
// quantization, and decoding of classification and SSD outputs.
//
// Another engine can run the tensors instead of the C library: a Backend,
// wrapped by NewWithBackend (the pure-Go engine, tflite/engine, is one).
// Built with CGO_ENABLED=0 or the tag nolibtflite, the package does not
// import go-tflite nor link the C library (capi.go and interpreter_capi.go
// drop out, nolibtflite.go stands in): everything but Open works, and Open
// returns ErrNoCLibrary. CLibrary says which of the two builds this is.
package tflite
