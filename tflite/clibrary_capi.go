//go:build cgo && !nolibtflite

package tflite

const hasCLibrary = true
