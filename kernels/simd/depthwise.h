/* Private to the simd backend: its depthwise engine (depthwise.c) as the
   plan's entry points call it, and the interface between that engine and
   its micro-kernels, compiled once per ISA from depthwise_body.h
   (depthwise_avx512.c, depthwise_avx2.c, depthwise_portable.c). The
   algorithm, blocking and costs are described in depthwise.c. */
#ifndef SIMD_DEPTHWISE_H
#define SIMD_DEPTHWISE_H

#include <stddef.h>
#include "conv.h"
#include "cpu.h"

/* A run of backward weights for a filter of at most 9 taps (tap id
   r*S + s): its n pixels read x + i*xstep + xoff[t] and dy + i*ystep for
   each tap t in mask. A 3x3 filter's edge pixels may ride in the run
   (edge, as dw_args.edge): its first pixel lacks taps s = 0, its last
   s = 2. */
typedef struct {
    const float *x, *dy;
    int n;
    unsigned mask;
    int edge;
    ptrdiff_t xoff[9];
} dw_seg;

/* One run of n output pixels of one row, one vector of channels, whose
   pixels all see the same taps. Pixel i of the run reads input
   x + i*xstep + xoff[t] for each tap t < ntap, with the filter vector at
   w + woff[t]. Forward and backward data write y + i*ystep (bias, then
   the taps, then ReLU if asked; no tap: the bias or zero). Backward
   weights read dy at dy + i*ystep instead and add x (x) dy over the run to the
   partial dW at w + woff[t] and dy's sum to *bias, both whole vectors. */
typedef struct {
    const float *x;
    ptrdiff_t xstep;
    const ptrdiff_t *xoff;
    const float *w;
    const ptrdiff_t *woff;
    int ntap;
    float *y;
    const float *dy;
    ptrdiff_t ystep;
    int n;
    const float *bias; /* forward: at the block's first channel, or NULL */
    float *dbias;      /* backward weights: the partial dbias, or NULL */
    int nl;            /* valid lanes of the vector (channel tail) */
    int relu;
    int k;             /* apply: channels from x, w, y, bias (K) */
    const dw_seg *seg; /* weights9: runs, each all k channels */
    int nseg;
    /* apply: the run's edge pixels, kept in its first and last groups
       (taps in at most 3 rows of 3, input columns ascending): 1, its
       first pixel lacks the first tap of each row; 2, its last pixel
       lacks the last */
    int edge;
} dw_args;

typedef void dw_fn(const dw_args *a);

/* An ISA's depthwise kernels: vlen channels a vector. */
typedef struct {
    cpu_isa isa;
    int vlen;
    dw_fn *apply;   /* forward and backward data: all k channels */
    dw_fn *weights; /* backward weights */
    /* backward weights of a filter of at most 9 taps: nseg runs (ntap:
       the filter's taps, their partial dW rows at w + woff[t]), each
       vector of the k channels through all of them, the accumulators
       loaded and stored once */
    dw_fn *weights9;
} dw_isa;

extern const dw_isa dw_isa_avx512, dw_isa_avx2, dw_isa_portable;

/* ---- the engine ---------------------------------------------------------- */

typedef struct dw_plan dw_plan;

/* 1 if simd runs s (valid) as a depthwise convolution: groups = c > 1. */
int dw_is_depthwise(const conv_shape *s);
/* A plan for a depthwise shape with the given team size and ISA; NULL on
   failure. */
dw_plan *dw_plan_make(const conv_shape *s, int threads, cpu_isa isa);
void dw_plan_free(dw_plan *p);
void dw_forward(const dw_plan *p, const float *x, const float *w, const float *bias, int relu,
                float *y);
void dw_backward_data(const dw_plan *p, const float *dy, const float *w, float *dx);
void dw_backward_weights(const dw_plan *p, const float *x, const float *dy, float *dw,
                         float *dbias);
const char *dw_impl(const dw_plan *p, conv_pass pass);

#endif
