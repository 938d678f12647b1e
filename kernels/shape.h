/* Shape validation shared by every backend (internal to kernels/). */
#ifndef CONVBENCH_SHAPE_H
#define CONVBENCH_SHAPE_H

#include <stddef.h>
#include "conv.h"

/* NULL for a shape every backend must accept as well-formed, else why not:
   a size <= 0, padding >= filter, an output smaller than 1x1, or a tensor
   whose byte size would overflow size_t. */
const char *conv_shape_invalid(const conv_shape *s);

/* Element counts of the four tensors of a (valid) shape. */
size_t conv_x_elems(const conv_shape *s); /* n*h*w*c */
size_t conv_y_elems(const conv_shape *s); /* n*p*q*k */
size_t conv_w_elems(const conv_shape *s); /* r*s*c*k */

#endif
