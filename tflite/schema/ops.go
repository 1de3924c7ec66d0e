package schema

import "strconv"

// BuiltinOp is a TFLite builtin operator code (the schema's BuiltinOperator
// enum). Its String method returns the schema name, e.g. "CONV_2D".
type BuiltinOp int32

// Builtin operator codes of TFLite schema version 3. The comment after each
// constant is the name used by the schema and returned by String.
const (
	OpAdd                          BuiltinOp = 0   // ADD
	OpAveragePool2D                BuiltinOp = 1   // AVERAGE_POOL_2D
	OpConcatenation                BuiltinOp = 2   // CONCATENATION
	OpConv2D                       BuiltinOp = 3   // CONV_2D
	OpDepthwiseConv2D              BuiltinOp = 4   // DEPTHWISE_CONV_2D
	OpDepthToSpace                 BuiltinOp = 5   // DEPTH_TO_SPACE
	OpDequantize                   BuiltinOp = 6   // DEQUANTIZE
	OpEmbeddingLookup              BuiltinOp = 7   // EMBEDDING_LOOKUP
	OpFloor                        BuiltinOp = 8   // FLOOR
	OpFullyConnected               BuiltinOp = 9   // FULLY_CONNECTED
	OpHashtableLookup              BuiltinOp = 10  // HASHTABLE_LOOKUP
	OpL2Normalization              BuiltinOp = 11  // L2_NORMALIZATION
	OpL2Pool2D                     BuiltinOp = 12  // L2_POOL_2D
	OpLocalResponseNormalization   BuiltinOp = 13  // LOCAL_RESPONSE_NORMALIZATION
	OpLogistic                     BuiltinOp = 14  // LOGISTIC
	OpLSHProjection                BuiltinOp = 15  // LSH_PROJECTION
	OpLSTM                         BuiltinOp = 16  // LSTM
	OpMaxPool2D                    BuiltinOp = 17  // MAX_POOL_2D
	OpMul                          BuiltinOp = 18  // MUL
	OpRelu                         BuiltinOp = 19  // RELU
	OpReluN1To1                    BuiltinOp = 20  // RELU_N1_TO_1
	OpRelu6                        BuiltinOp = 21  // RELU6
	OpReshape                      BuiltinOp = 22  // RESHAPE
	OpResizeBilinear               BuiltinOp = 23  // RESIZE_BILINEAR
	OpRNN                          BuiltinOp = 24  // RNN
	OpSoftmax                      BuiltinOp = 25  // SOFTMAX
	OpSpaceToDepth                 BuiltinOp = 26  // SPACE_TO_DEPTH
	OpSVDF                         BuiltinOp = 27  // SVDF
	OpTanh                         BuiltinOp = 28  // TANH
	OpConcatEmbeddings             BuiltinOp = 29  // CONCAT_EMBEDDINGS
	OpSkipGram                     BuiltinOp = 30  // SKIP_GRAM
	OpCall                         BuiltinOp = 31  // CALL
	OpCustom                       BuiltinOp = 32  // CUSTOM
	OpEmbeddingLookupSparse        BuiltinOp = 33  // EMBEDDING_LOOKUP_SPARSE
	OpPad                          BuiltinOp = 34  // PAD
	OpUnidirectionalSequenceRNN    BuiltinOp = 35  // UNIDIRECTIONAL_SEQUENCE_RNN
	OpGather                       BuiltinOp = 36  // GATHER
	OpBatchToSpaceND               BuiltinOp = 37  // BATCH_TO_SPACE_ND
	OpSpaceToBatchND               BuiltinOp = 38  // SPACE_TO_BATCH_ND
	OpTranspose                    BuiltinOp = 39  // TRANSPOSE
	OpMean                         BuiltinOp = 40  // MEAN
	OpSub                          BuiltinOp = 41  // SUB
	OpDiv                          BuiltinOp = 42  // DIV
	OpSqueeze                      BuiltinOp = 43  // SQUEEZE
	OpUnidirectionalSequenceLSTM   BuiltinOp = 44  // UNIDIRECTIONAL_SEQUENCE_LSTM
	OpStridedSlice                 BuiltinOp = 45  // STRIDED_SLICE
	OpBidirectionalSequenceRNN     BuiltinOp = 46  // BIDIRECTIONAL_SEQUENCE_RNN
	OpExp                          BuiltinOp = 47  // EXP
	OpTopKV2                       BuiltinOp = 48  // TOPK_V2
	OpSplit                        BuiltinOp = 49  // SPLIT
	OpLogSoftmax                   BuiltinOp = 50  // LOG_SOFTMAX
	OpDelegate                     BuiltinOp = 51  // DELEGATE
	OpBidirectionalSequenceLSTM    BuiltinOp = 52  // BIDIRECTIONAL_SEQUENCE_LSTM
	OpCast                         BuiltinOp = 53  // CAST
	OpPRelu                        BuiltinOp = 54  // PRELU
	OpMaximum                      BuiltinOp = 55  // MAXIMUM
	OpArgMax                       BuiltinOp = 56  // ARG_MAX
	OpMinimum                      BuiltinOp = 57  // MINIMUM
	OpLess                         BuiltinOp = 58  // LESS
	OpNeg                          BuiltinOp = 59  // NEG
	OpPadV2                        BuiltinOp = 60  // PADV2
	OpGreater                      BuiltinOp = 61  // GREATER
	OpGreaterEqual                 BuiltinOp = 62  // GREATER_EQUAL
	OpLessEqual                    BuiltinOp = 63  // LESS_EQUAL
	OpSelect                       BuiltinOp = 64  // SELECT
	OpSlice                        BuiltinOp = 65  // SLICE
	OpSin                          BuiltinOp = 66  // SIN
	OpTransposeConv                BuiltinOp = 67  // TRANSPOSE_CONV
	OpSparseToDense                BuiltinOp = 68  // SPARSE_TO_DENSE
	OpTile                         BuiltinOp = 69  // TILE
	OpExpandDims                   BuiltinOp = 70  // EXPAND_DIMS
	OpEqual                        BuiltinOp = 71  // EQUAL
	OpNotEqual                     BuiltinOp = 72  // NOT_EQUAL
	OpLog                          BuiltinOp = 73  // LOG
	OpSum                          BuiltinOp = 74  // SUM
	OpSqrt                         BuiltinOp = 75  // SQRT
	OpRsqrt                        BuiltinOp = 76  // RSQRT
	OpShape                        BuiltinOp = 77  // SHAPE
	OpPow                          BuiltinOp = 78  // POW
	OpArgMin                       BuiltinOp = 79  // ARG_MIN
	OpFakeQuant                    BuiltinOp = 80  // FAKE_QUANT
	OpReduceProd                   BuiltinOp = 81  // REDUCE_PROD
	OpReduceMax                    BuiltinOp = 82  // REDUCE_MAX
	OpPack                         BuiltinOp = 83  // PACK
	OpLogicalOr                    BuiltinOp = 84  // LOGICAL_OR
	OpOneHot                       BuiltinOp = 85  // ONE_HOT
	OpLogicalAnd                   BuiltinOp = 86  // LOGICAL_AND
	OpLogicalNot                   BuiltinOp = 87  // LOGICAL_NOT
	OpUnpack                       BuiltinOp = 88  // UNPACK
	OpReduceMin                    BuiltinOp = 89  // REDUCE_MIN
	OpFloorDiv                     BuiltinOp = 90  // FLOOR_DIV
	OpReduceAny                    BuiltinOp = 91  // REDUCE_ANY
	OpSquare                       BuiltinOp = 92  // SQUARE
	OpZerosLike                    BuiltinOp = 93  // ZEROS_LIKE
	OpFill                         BuiltinOp = 94  // FILL
	OpFloorMod                     BuiltinOp = 95  // FLOOR_MOD
	OpRange                        BuiltinOp = 96  // RANGE
	OpResizeNearestNeighbor        BuiltinOp = 97  // RESIZE_NEAREST_NEIGHBOR
	OpLeakyRelu                    BuiltinOp = 98  // LEAKY_RELU
	OpSquaredDifference            BuiltinOp = 99  // SQUARED_DIFFERENCE
	OpMirrorPad                    BuiltinOp = 100 // MIRROR_PAD
	OpAbs                          BuiltinOp = 101 // ABS
	OpSplitV                       BuiltinOp = 102 // SPLIT_V
	OpUnique                       BuiltinOp = 103 // UNIQUE
	OpCeil                         BuiltinOp = 104 // CEIL
	OpReverseV2                    BuiltinOp = 105 // REVERSE_V2
	OpAddN                         BuiltinOp = 106 // ADD_N
	OpGatherND                     BuiltinOp = 107 // GATHER_ND
	OpCos                          BuiltinOp = 108 // COS
	OpWhere                        BuiltinOp = 109 // WHERE
	OpRank                         BuiltinOp = 110 // RANK
	OpELU                          BuiltinOp = 111 // ELU
	OpReverseSequence              BuiltinOp = 112 // REVERSE_SEQUENCE
	OpMatrixDiag                   BuiltinOp = 113 // MATRIX_DIAG
	OpQuantize                     BuiltinOp = 114 // QUANTIZE
	OpMatrixSetDiag                BuiltinOp = 115 // MATRIX_SET_DIAG
	OpRound                        BuiltinOp = 116 // ROUND
	OpHardSwish                    BuiltinOp = 117 // HARD_SWISH
	OpIf                           BuiltinOp = 118 // IF
	OpWhile                        BuiltinOp = 119 // WHILE
	OpNonMaxSuppressionV4          BuiltinOp = 120 // NON_MAX_SUPPRESSION_V4
	OpNonMaxSuppressionV5          BuiltinOp = 121 // NON_MAX_SUPPRESSION_V5
	OpScatterND                    BuiltinOp = 122 // SCATTER_ND
	OpSelectV2                     BuiltinOp = 123 // SELECT_V2
	OpDensify                      BuiltinOp = 124 // DENSIFY
	OpSegmentSum                   BuiltinOp = 125 // SEGMENT_SUM
	OpBatchMatMul                  BuiltinOp = 126 // BATCH_MATMUL
	OpPlaceholderForGreaterOpCodes BuiltinOp = 127 // PLACEHOLDER_FOR_GREATER_OP_CODES
	OpCumsum                       BuiltinOp = 128 // CUMSUM
	OpCallOnce                     BuiltinOp = 129 // CALL_ONCE
	OpBroadcastTo                  BuiltinOp = 130 // BROADCAST_TO
	OpRFFT2D                       BuiltinOp = 131 // RFFT2D
	OpConv3D                       BuiltinOp = 132 // CONV_3D
	OpImag                         BuiltinOp = 133 // IMAG
	OpReal                         BuiltinOp = 134 // REAL
	OpComplexAbs                   BuiltinOp = 135 // COMPLEX_ABS
	OpHashtable                    BuiltinOp = 136 // HASHTABLE
	OpHashtableFind                BuiltinOp = 137 // HASHTABLE_FIND
	OpHashtableImport              BuiltinOp = 138 // HASHTABLE_IMPORT
	OpHashtableSize                BuiltinOp = 139 // HASHTABLE_SIZE
	OpReduceAll                    BuiltinOp = 140 // REDUCE_ALL
	OpConv3DTranspose              BuiltinOp = 141 // CONV_3D_TRANSPOSE
	OpVarHandle                    BuiltinOp = 142 // VAR_HANDLE
	OpReadVariable                 BuiltinOp = 143 // READ_VARIABLE
	OpAssignVariable               BuiltinOp = 144 // ASSIGN_VARIABLE
	OpBroadcastArgs                BuiltinOp = 145 // BROADCAST_ARGS
	OpRandomStandardNormal         BuiltinOp = 146 // RANDOM_STANDARD_NORMAL
	OpBucketize                    BuiltinOp = 147 // BUCKETIZE
	OpRandomUniform                BuiltinOp = 148 // RANDOM_UNIFORM
	OpMultinomial                  BuiltinOp = 149 // MULTINOMIAL
	OpGELU                         BuiltinOp = 150 // GELU
	OpDynamicUpdateSlice           BuiltinOp = 151 // DYNAMIC_UPDATE_SLICE
	OpRelu0To1                     BuiltinOp = 152 // RELU_0_TO_1
	OpUnsortedSegmentProd          BuiltinOp = 153 // UNSORTED_SEGMENT_PROD
	OpUnsortedSegmentMax           BuiltinOp = 154 // UNSORTED_SEGMENT_MAX
	OpUnsortedSegmentSum           BuiltinOp = 155 // UNSORTED_SEGMENT_SUM
	OpAtan2                        BuiltinOp = 156 // ATAN2
	OpUnsortedSegmentMin           BuiltinOp = 157 // UNSORTED_SEGMENT_MIN
	OpSign                         BuiltinOp = 158 // SIGN
	OpBitcast                      BuiltinOp = 159 // BITCAST
	OpBitwiseXor                   BuiltinOp = 160 // BITWISE_XOR
	OpRightShift                   BuiltinOp = 161 // RIGHT_SHIFT
	OpStableHLOLogistic            BuiltinOp = 162 // STABLEHLO_LOGISTIC
	OpStableHLOAdd                 BuiltinOp = 163 // STABLEHLO_ADD
	OpStableHLODivide              BuiltinOp = 164 // STABLEHLO_DIVIDE
	OpStableHLOMultiply            BuiltinOp = 165 // STABLEHLO_MULTIPLY
	OpStableHLOMaximum             BuiltinOp = 166 // STABLEHLO_MAXIMUM
	OpStableHLOReshape             BuiltinOp = 167 // STABLEHLO_RESHAPE
	OpStableHLOClamp               BuiltinOp = 168 // STABLEHLO_CLAMP
	OpStableHLOConcatenate         BuiltinOp = 169 // STABLEHLO_CONCATENATE
	OpStableHLOBroadcastInDim      BuiltinOp = 170 // STABLEHLO_BROADCAST_IN_DIM
	OpStableHLOConvolution         BuiltinOp = 171 // STABLEHLO_CONVOLUTION
	OpStableHLOSlice               BuiltinOp = 172 // STABLEHLO_SLICE
	OpStableHLOCustomCall          BuiltinOp = 173 // STABLEHLO_CUSTOM_CALL
	OpStableHLOReduce              BuiltinOp = 174 // STABLEHLO_REDUCE
	OpStableHLOAbs                 BuiltinOp = 175 // STABLEHLO_ABS
	OpStableHLOAnd                 BuiltinOp = 176 // STABLEHLO_AND
	OpStableHLOCosine              BuiltinOp = 177 // STABLEHLO_COSINE
	OpStableHLOExponential         BuiltinOp = 178 // STABLEHLO_EXPONENTIAL
	OpStableHLOFloor               BuiltinOp = 179 // STABLEHLO_FLOOR
	OpStableHLOLog                 BuiltinOp = 180 // STABLEHLO_LOG
	OpStableHLOMinimum             BuiltinOp = 181 // STABLEHLO_MINIMUM
	OpStableHLONegate              BuiltinOp = 182 // STABLEHLO_NEGATE
	OpStableHLOOr                  BuiltinOp = 183 // STABLEHLO_OR
	OpStableHLOPower               BuiltinOp = 184 // STABLEHLO_POWER
	OpStableHLORemainder           BuiltinOp = 185 // STABLEHLO_REMAINDER
	OpStableHLORsqrt               BuiltinOp = 186 // STABLEHLO_RSQRT
	OpStableHLOSelect              BuiltinOp = 187 // STABLEHLO_SELECT
	OpStableHLOSubtract            BuiltinOp = 188 // STABLEHLO_SUBTRACT
	OpStableHLOTanh                BuiltinOp = 189 // STABLEHLO_TANH
	OpStableHLOScatter             BuiltinOp = 190 // STABLEHLO_SCATTER
	OpStableHLOCompare             BuiltinOp = 191 // STABLEHLO_COMPARE
	OpStableHLOConvert             BuiltinOp = 192 // STABLEHLO_CONVERT
	OpStableHLODynamicSlice        BuiltinOp = 193 // STABLEHLO_DYNAMIC_SLICE
	OpStableHLODynamicUpdateSlice  BuiltinOp = 194 // STABLEHLO_DYNAMIC_UPDATE_SLICE
	OpStableHLOPad                 BuiltinOp = 195 // STABLEHLO_PAD
	OpStableHLOIota                BuiltinOp = 196 // STABLEHLO_IOTA
	OpStableHLODotGeneral          BuiltinOp = 197 // STABLEHLO_DOT_GENERAL
	OpStableHLOReduceWindow        BuiltinOp = 198 // STABLEHLO_REDUCE_WINDOW
	OpStableHLOSort                BuiltinOp = 199 // STABLEHLO_SORT
	OpStableHLOWhile               BuiltinOp = 200 // STABLEHLO_WHILE
	OpStableHLOGather              BuiltinOp = 201 // STABLEHLO_GATHER
	OpStableHLOTranspose           BuiltinOp = 202 // STABLEHLO_TRANSPOSE
	OpDilate                       BuiltinOp = 203 // DILATE
	OpStableHLORngBitGenerator     BuiltinOp = 204 // STABLEHLO_RNG_BIT_GENERATOR
	OpReduceWindow                 BuiltinOp = 205 // REDUCE_WINDOW
	// OpTempStreamingConv2D is reserved by TFLite ("DO NOT USE").
	OpTempStreamingConv2D BuiltinOp = 225 // TEMP_STREAMING_CONV_2D
)

var builtinOpNames = [...]string{
	0:   "ADD",
	1:   "AVERAGE_POOL_2D",
	2:   "CONCATENATION",
	3:   "CONV_2D",
	4:   "DEPTHWISE_CONV_2D",
	5:   "DEPTH_TO_SPACE",
	6:   "DEQUANTIZE",
	7:   "EMBEDDING_LOOKUP",
	8:   "FLOOR",
	9:   "FULLY_CONNECTED",
	10:  "HASHTABLE_LOOKUP",
	11:  "L2_NORMALIZATION",
	12:  "L2_POOL_2D",
	13:  "LOCAL_RESPONSE_NORMALIZATION",
	14:  "LOGISTIC",
	15:  "LSH_PROJECTION",
	16:  "LSTM",
	17:  "MAX_POOL_2D",
	18:  "MUL",
	19:  "RELU",
	20:  "RELU_N1_TO_1",
	21:  "RELU6",
	22:  "RESHAPE",
	23:  "RESIZE_BILINEAR",
	24:  "RNN",
	25:  "SOFTMAX",
	26:  "SPACE_TO_DEPTH",
	27:  "SVDF",
	28:  "TANH",
	29:  "CONCAT_EMBEDDINGS",
	30:  "SKIP_GRAM",
	31:  "CALL",
	32:  "CUSTOM",
	33:  "EMBEDDING_LOOKUP_SPARSE",
	34:  "PAD",
	35:  "UNIDIRECTIONAL_SEQUENCE_RNN",
	36:  "GATHER",
	37:  "BATCH_TO_SPACE_ND",
	38:  "SPACE_TO_BATCH_ND",
	39:  "TRANSPOSE",
	40:  "MEAN",
	41:  "SUB",
	42:  "DIV",
	43:  "SQUEEZE",
	44:  "UNIDIRECTIONAL_SEQUENCE_LSTM",
	45:  "STRIDED_SLICE",
	46:  "BIDIRECTIONAL_SEQUENCE_RNN",
	47:  "EXP",
	48:  "TOPK_V2",
	49:  "SPLIT",
	50:  "LOG_SOFTMAX",
	51:  "DELEGATE",
	52:  "BIDIRECTIONAL_SEQUENCE_LSTM",
	53:  "CAST",
	54:  "PRELU",
	55:  "MAXIMUM",
	56:  "ARG_MAX",
	57:  "MINIMUM",
	58:  "LESS",
	59:  "NEG",
	60:  "PADV2",
	61:  "GREATER",
	62:  "GREATER_EQUAL",
	63:  "LESS_EQUAL",
	64:  "SELECT",
	65:  "SLICE",
	66:  "SIN",
	67:  "TRANSPOSE_CONV",
	68:  "SPARSE_TO_DENSE",
	69:  "TILE",
	70:  "EXPAND_DIMS",
	71:  "EQUAL",
	72:  "NOT_EQUAL",
	73:  "LOG",
	74:  "SUM",
	75:  "SQRT",
	76:  "RSQRT",
	77:  "SHAPE",
	78:  "POW",
	79:  "ARG_MIN",
	80:  "FAKE_QUANT",
	81:  "REDUCE_PROD",
	82:  "REDUCE_MAX",
	83:  "PACK",
	84:  "LOGICAL_OR",
	85:  "ONE_HOT",
	86:  "LOGICAL_AND",
	87:  "LOGICAL_NOT",
	88:  "UNPACK",
	89:  "REDUCE_MIN",
	90:  "FLOOR_DIV",
	91:  "REDUCE_ANY",
	92:  "SQUARE",
	93:  "ZEROS_LIKE",
	94:  "FILL",
	95:  "FLOOR_MOD",
	96:  "RANGE",
	97:  "RESIZE_NEAREST_NEIGHBOR",
	98:  "LEAKY_RELU",
	99:  "SQUARED_DIFFERENCE",
	100: "MIRROR_PAD",
	101: "ABS",
	102: "SPLIT_V",
	103: "UNIQUE",
	104: "CEIL",
	105: "REVERSE_V2",
	106: "ADD_N",
	107: "GATHER_ND",
	108: "COS",
	109: "WHERE",
	110: "RANK",
	111: "ELU",
	112: "REVERSE_SEQUENCE",
	113: "MATRIX_DIAG",
	114: "QUANTIZE",
	115: "MATRIX_SET_DIAG",
	116: "ROUND",
	117: "HARD_SWISH",
	118: "IF",
	119: "WHILE",
	120: "NON_MAX_SUPPRESSION_V4",
	121: "NON_MAX_SUPPRESSION_V5",
	122: "SCATTER_ND",
	123: "SELECT_V2",
	124: "DENSIFY",
	125: "SEGMENT_SUM",
	126: "BATCH_MATMUL",
	127: "PLACEHOLDER_FOR_GREATER_OP_CODES",
	128: "CUMSUM",
	129: "CALL_ONCE",
	130: "BROADCAST_TO",
	131: "RFFT2D",
	132: "CONV_3D",
	133: "IMAG",
	134: "REAL",
	135: "COMPLEX_ABS",
	136: "HASHTABLE",
	137: "HASHTABLE_FIND",
	138: "HASHTABLE_IMPORT",
	139: "HASHTABLE_SIZE",
	140: "REDUCE_ALL",
	141: "CONV_3D_TRANSPOSE",
	142: "VAR_HANDLE",
	143: "READ_VARIABLE",
	144: "ASSIGN_VARIABLE",
	145: "BROADCAST_ARGS",
	146: "RANDOM_STANDARD_NORMAL",
	147: "BUCKETIZE",
	148: "RANDOM_UNIFORM",
	149: "MULTINOMIAL",
	150: "GELU",
	151: "DYNAMIC_UPDATE_SLICE",
	152: "RELU_0_TO_1",
	153: "UNSORTED_SEGMENT_PROD",
	154: "UNSORTED_SEGMENT_MAX",
	155: "UNSORTED_SEGMENT_SUM",
	156: "ATAN2",
	157: "UNSORTED_SEGMENT_MIN",
	158: "SIGN",
	159: "BITCAST",
	160: "BITWISE_XOR",
	161: "RIGHT_SHIFT",
	162: "STABLEHLO_LOGISTIC",
	163: "STABLEHLO_ADD",
	164: "STABLEHLO_DIVIDE",
	165: "STABLEHLO_MULTIPLY",
	166: "STABLEHLO_MAXIMUM",
	167: "STABLEHLO_RESHAPE",
	168: "STABLEHLO_CLAMP",
	169: "STABLEHLO_CONCATENATE",
	170: "STABLEHLO_BROADCAST_IN_DIM",
	171: "STABLEHLO_CONVOLUTION",
	172: "STABLEHLO_SLICE",
	173: "STABLEHLO_CUSTOM_CALL",
	174: "STABLEHLO_REDUCE",
	175: "STABLEHLO_ABS",
	176: "STABLEHLO_AND",
	177: "STABLEHLO_COSINE",
	178: "STABLEHLO_EXPONENTIAL",
	179: "STABLEHLO_FLOOR",
	180: "STABLEHLO_LOG",
	181: "STABLEHLO_MINIMUM",
	182: "STABLEHLO_NEGATE",
	183: "STABLEHLO_OR",
	184: "STABLEHLO_POWER",
	185: "STABLEHLO_REMAINDER",
	186: "STABLEHLO_RSQRT",
	187: "STABLEHLO_SELECT",
	188: "STABLEHLO_SUBTRACT",
	189: "STABLEHLO_TANH",
	190: "STABLEHLO_SCATTER",
	191: "STABLEHLO_COMPARE",
	192: "STABLEHLO_CONVERT",
	193: "STABLEHLO_DYNAMIC_SLICE",
	194: "STABLEHLO_DYNAMIC_UPDATE_SLICE",
	195: "STABLEHLO_PAD",
	196: "STABLEHLO_IOTA",
	197: "STABLEHLO_DOT_GENERAL",
	198: "STABLEHLO_REDUCE_WINDOW",
	199: "STABLEHLO_SORT",
	200: "STABLEHLO_WHILE",
	201: "STABLEHLO_GATHER",
	202: "STABLEHLO_TRANSPOSE",
	203: "DILATE",
	204: "STABLEHLO_RNG_BIT_GENERATOR",
	205: "REDUCE_WINDOW",
}

// String returns the schema name of the operator, e.g. "DEPTHWISE_CONV_2D",
// or "BUILTIN_<n>" for a code this package does not know.
func (op BuiltinOp) String() string {
	if op >= 0 && int(op) < len(builtinOpNames) {
		return builtinOpNames[op]
	}
	if op == OpTempStreamingConv2D {
		return "TEMP_STREAMING_CONV_2D"
	}
	return "BUILTIN_" + strconv.Itoa(int(op))
}

// TensorType is the element type of a tensor (the schema's TensorType enum).
// Its String method returns a lowercase name such as "uint8" or "float32".
type TensorType int8

// Tensor element types.
const (
	TypeFloat32    TensorType = 0
	TypeFloat16    TensorType = 1
	TypeInt32      TensorType = 2
	TypeUint8      TensorType = 3
	TypeInt64      TensorType = 4
	TypeString     TensorType = 5
	TypeBool       TensorType = 6
	TypeInt16      TensorType = 7
	TypeComplex64  TensorType = 8
	TypeInt8       TensorType = 9
	TypeFloat64    TensorType = 10
	TypeComplex128 TensorType = 11
	TypeUint64     TensorType = 12
	TypeResource   TensorType = 13
	TypeVariant    TensorType = 14
	TypeUint32     TensorType = 15
	TypeUint16     TensorType = 16
	TypeInt4       TensorType = 17
)

var tensorTypeInfo = [...]struct {
	name string
	size int
}{
	TypeFloat32:    {"float32", 4},
	TypeFloat16:    {"float16", 2},
	TypeInt32:      {"int32", 4},
	TypeUint8:      {"uint8", 1},
	TypeInt64:      {"int64", 8},
	TypeString:     {"string", 0},
	TypeBool:       {"bool", 1},
	TypeInt16:      {"int16", 2},
	TypeComplex64:  {"complex64", 8},
	TypeInt8:       {"int8", 1},
	TypeFloat64:    {"float64", 8},
	TypeComplex128: {"complex128", 16},
	TypeUint64:     {"uint64", 8},
	TypeResource:   {"resource", 0},
	TypeVariant:    {"variant", 0},
	TypeUint32:     {"uint32", 4},
	TypeUint16:     {"uint16", 2},
	TypeInt4:       {"int4", 0},
}

// String returns the lowercase type name, e.g. "uint8", "int8", "float32",
// or "TensorType(<n>)" for an unknown type.
func (t TensorType) String() string {
	if t >= 0 && int(t) < len(tensorTypeInfo) {
		return tensorTypeInfo[t].name
	}
	return "TensorType(" + strconv.Itoa(int(t)) + ")"
}

// Size returns the size in bytes of one element of type t. It returns 0 for
// types without a fixed byte size: string, resource, variant, int4 (two
// elements per byte) and unknown types.
func (t TensorType) Size() int {
	if t >= 0 && int(t) < len(tensorTypeInfo) {
		return tensorTypeInfo[t].size
	}
	return 0
}
