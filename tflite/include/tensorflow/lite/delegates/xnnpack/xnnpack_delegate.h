/* edge: a small stand-in for tensorflow/lite/delegates/xnnpack/xnnpack_delegate.h,
 * which the tfjs-tflite-node@0.0.2 package does not ship. XNNPACK is compiled
 * into its libtensorflowlite_c.so (TFLite 2.9.0); these are the functions it
 * exports. In 2.9 the options struct is 8 bytes: TfLiteXNNPackDelegateOptionsDefault
 * returns it in a register (it disassembles to `xor eax,eax; ret`). */
#ifndef EDGE_TFLITE_XNNPACK_DELEGATE_H_
#define EDGE_TFLITE_XNNPACK_DELEGATE_H_

#include <stdint.h>

#include "tensorflow/lite/c/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Enable XNNPACK for signed 8-bit quantized operators (per-channel too). */
#define TFLITE_XNNPACK_DELEGATE_FLAG_QS8 0x00000001
/* Enable XNNPACK for unsigned 8-bit quantized operators. */
#define TFLITE_XNNPACK_DELEGATE_FLAG_QU8 0x00000002

typedef struct {
  int32_t num_threads;
  uint32_t flags;
} TfLiteXNNPackDelegateOptions;

TfLiteXNNPackDelegateOptions TfLiteXNNPackDelegateOptionsDefault(void);
TfLiteDelegate* TfLiteXNNPackDelegateCreate(const TfLiteXNNPackDelegateOptions* options);
void TfLiteXNNPackDelegateDelete(TfLiteDelegate* delegate);

#ifdef __cplusplus
}
#endif

#endif
