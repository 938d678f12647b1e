/* Float matrix transposes, shared by the kernels that repack filters
   (internal to kernels/). */
#ifndef CONVBENCH_TRANSPOSE_H
#define CONVBENCH_TRANSPOSE_H

#include <stddef.h>

/* d[j * ld + i] = s[i * ls + j] for i < rows, j < cols: 16 x 16 blocks in
   registers where the active ISA is AVX-512, the edges (and every element
   on other ISAs) one by one. */
void transpose_floats(const float *s, ptrdiff_t ls, int rows, int cols, float *d, ptrdiff_t ld);

#endif
