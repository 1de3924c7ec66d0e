/* edge: a small stand-in for tensorflow/lite/builtin_ops.h, which the
 * tfjs-tflite-node@0.0.2 package (TFLite 2.9.0 C library) does not ship.
 * Only the enum type and the codes that edge and go-tflite refer to are
 * declared; the numbering is TFLite schema v3's BuiltinOperator. */
#ifndef EDGE_TFLITE_BUILTIN_OPS_H_
#define EDGE_TFLITE_BUILTIN_OPS_H_

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
  kTfLiteBuiltinAdd = 0,
  kTfLiteBuiltinAveragePool2d = 1,
  kTfLiteBuiltinConcatenation = 2,
  kTfLiteBuiltinConv2d = 3,
  kTfLiteBuiltinDepthwiseConv2d = 4,
  kTfLiteBuiltinDequantize = 6,
  kTfLiteBuiltinFullyConnected = 9,
  kTfLiteBuiltinLogistic = 14,
  kTfLiteBuiltinMul = 18,
  kTfLiteBuiltinRelu = 19,
  kTfLiteBuiltinRelu6 = 21,
  kTfLiteBuiltinReshape = 22,
  kTfLiteBuiltinSoftmax = 25,
  kTfLiteBuiltinCustom = 32,
  kTfLiteBuiltinPad = 34,
  kTfLiteBuiltinMean = 40,
  kTfLiteBuiltinSqueeze = 43,
  kTfLiteBuiltinDelegate = 51,
  kTfLiteBuiltinQuantize = 114,
  kTfLiteBuiltinHardSwish = 117,
} TfLiteBuiltinOperator;

#ifdef __cplusplus
}
#endif

#endif
