/* Double-precision reference convolution, written from the definition
   independently of every backend (scatter form, not naive.c's gather). */
#ifndef CONVBENCH_REF_CONV_H
#define CONVBENCH_REF_CONV_H

#include <stddef.h>
#include "../kernels/conv.h"

/* Each overwrites its output, which is in double. bias/dbias may be NULL. */
void ref_forward(const conv_shape *s, const float *x, const float *w, const float *bias, double *y);
void ref_backward_data(const conv_shape *s, const float *dy, const float *w, double *dx);
void ref_backward_weights(const conv_shape *s, const float *x, const float *dy, double *dw,
                          double *dbias);

/* max|a - ref| / max(1, max|ref|): the error every bound refers to;
   infinite if a holds a NaN or Inf. */
double ref_rel_err(const float *a, const double *ref, size_t n);

/* The error bound a backend is held to: 1e-5 for exact algorithms, wider
   documented bounds for Winograd. A backend not listed is exact. */
double ref_error_bound(const char *backend);

#endif
