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
package tflite
