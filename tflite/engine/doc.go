// Package engine is a pure-Go TensorFlow Lite interpreter for quantized
// MobileNets: the classifiers, SSD detectors and person detectors the
// project runs, in uint8 (per-tensor) and int8 (per-channel) form, plus
// their float32 twins.
//
// It reads a .tflite file with package schema, plans the tensors into one
// memory arena (a buffer is reused as soon as the tensor in it is dead), and
// runs the graph with kernels written to give the same bytes as the TFLite
// 2.9 C library: the same fixed-point multipliers (QuantizeMultiplier), the
// same rounding in each kernel (gemmlowp's in the reference kernels, ruy's
// in the GEMMs behind CONV_2D and FULLY_CONNECTED), the same lookup tables
// for SOFTMAX and LOGISTIC, and TFLite's own TFLite_Detection_PostProcess.
//
// The operators it runs are CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED,
// ADD, MUL, AVERAGE_POOL_2D, MEAN, RESHAPE, SQUEEZE, SOFTMAX, LOGISTIC,
// HARD_SWISH, RELU, RELU6, PAD, CONCATENATION, QUANTIZE, DEQUANTIZE and the
// custom TFLite_Detection_PostProcess. Any other operator, version or type
// is refused by [Open] with an [*OpError] naming the node.
//
// The API mirrors the cgo interpreter of package tflite: [Open], then write
// the input through [Interpreter.InputBytes], [Interpreter.Invoke], and read
// [Interpreter.OutputBytes]. Invoke does not allocate.
//
// Exactness: on every CPU model and photo of the project's fixtures, 8-bit
// outputs are byte-for-byte TFLite's and float32 ones within 1e-5; random
// single-operator models of every supported kind agree too (FuzzOps). The
// exceptions known: float32 kernels sum in another order than TFLite's, so
// their results differ in the last bits; and with several threads TFLite's
// regular (per-class) NMS orders detections of exactly equal score from
// different classes differently than with one, the engine following the
// single-threaded order.
//
// Speed: convolutions are an im2col and an int16 GEMM, with AVX2 assembly
// for the GEMM, the depthwise multiply-accumulate and the requantization
// where the CPU has AVX2 (golang.org/x/sys/cpu), pure Go elsewhere; the
// work of each convolution is split over [Options].Threads goroutines.
//
// On arm64 the same kernels are NEON assembly (gemm_arm64.s): the int16
// GEMM with SMLAL/SMLAL2, the depthwise multiply-accumulate, the
// requantization in 64-bit lanes and the float32 GEMM with FMLA. Where the
// CPU has the dot product extension (ASIMDDP), quantized convolutions
// pack int8 operands instead (uint8 models offset by 128) for an SDOT
// GEMM, adding the zero-point terms back in the kernel and the bias: the
// int32 accumulators, and so the outputs, are the same bytes. Each
// assembly kernel is tested against its pure-Go reference in every mode
// the CPU can run, and whole models across modes; the WORD encodings of
// the instructions Go's assembler lacks are checked against GNU as. Under
// qemu-user, from the repository root:
//
//	eval "$(./cross-compile.sh env arm64)"
//	QEMU_CPU=max go test -exec "$EDGE_QEMU_EXEC" ./tflite/engine        # SDOT
//	QEMU_CPU=cortex-a72 go test -exec "$EDGE_QEMU_EXEC" ./tflite/engine # SMLAL
package engine
