/* The depthwise kernels for AVX2+FMA (ymm, 8 floats): see depthwise_body.h. */
#pragma GCC target("avx2,fma,no-avx512f")
#define DW_ISA   ISA_AVX2
#define DW_TABLE dw_isa_avx2
#include "depthwise_body.h"
