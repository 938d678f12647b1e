/* The depthwise kernels for AVX-512F (zmm, 16 floats): see depthwise_body.h. */
#pragma GCC target("avx512f")
#define DW_ISA   ISA_AVX512
#define DW_TABLE dw_isa_avx512
#include "depthwise_body.h"
