/* VEC_FLOATS: the floats in one of the widest vector registers of the code
   being compiled, as its -march or #pragma GCC target says (include it after
   the pragma): the width to give GCC vector types. A generic vector wider
   than the registers is lowered piecewise, through the stack wherever the
   compiler keeps it in memory: 16-float vectors made the Winograd
   transforms up to 2x slower on AVX2 and max pooling 12x slower. */
#ifndef CONVBENCH_VEC_WIDTH_H
#define CONVBENCH_VEC_WIDTH_H

#if defined(__AVX512F__)
#define VEC_FLOATS 16
#elif defined(__AVX__)
#define VEC_FLOATS 8
#else
#define VEC_FLOATS 4
#endif

#endif
