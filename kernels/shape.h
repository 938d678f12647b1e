/* Shape validation shared by every backend (internal to kernels/). */
#ifndef CONVBENCH_SHAPE_H
#define CONVBENCH_SHAPE_H

#include <stddef.h>
#include "conv.h"

/* A shape's geometry with the defaults of conv.h applied. */
typedef struct {
    int g;              /* groups, >= 1 */
    int sh, sw;         /* strides */
    int dh, dw;         /* dilations, 1: dense */
    int pt, pb, pl, pr; /* padding top, bottom, left, right */
} conv_geom;

conv_geom conv_geometry(const conv_shape *s);

/* NULL for a shape every backend must accept as well-formed, else why not:
   a size <= 0, groups that do not divide c and k, negative padding, an
   output smaller than 1x1, or a tensor whose byte size would overflow
   size_t. Padding at or beyond the filter is well-formed. */
const char *conv_shape_invalid(const conv_shape *s);

/* NULL if a (valid) shape means exactly what its first nine members say
   with padding smaller than the filter, the convolution every backend
   runs; else the first feature beyond that it uses, as a reason a backend
   gives for refusing it ("dilation > 1 not supported"). */
const char *conv_shape_extended(const conv_shape *s);

/* The same convolution written with each appended member 0 wherever the
   first nine members already say it: stride the height's stride (stride_w
   set only if it differs), pad the smallest padding (pad_t.. the excess per
   side), groups and dilations of 1 as 0. Equal convolutions compare equal. */
conv_shape conv_shape_canonical(const conv_shape *s);

/* Element counts of the four tensors of a (valid) shape. */
size_t conv_x_elems(const conv_shape *s); /* n*h*w*c */
size_t conv_y_elems(const conv_shape *s); /* n*p*q*k */
size_t conv_w_elems(const conv_shape *s); /* r*s*(c/g)*k */

#endif
