/* naive: the direct convolution written as its definition, the reference
   every other backend is compared with in speed.

   forward           y[n][p][q][k] = bias[k] + sum_{r,s,c} x[n][p*st-pad+r][q*st-pad+s][c] * w[r][s][c][k]
                     loop n,p,q (parallel) -> r,s -> c -> k (k innermost: contiguous in w and y)
   backward_data     dx[n][h][w][c] = sum over taps (r,s) with h = p*st-pad+r, w = q*st-pad+s
                     of sum_k dy[n][p][q][k] * w[r][s][c][k]; gathered per input pixel, so no
                     two threads write one element. loop n,h,w (parallel) -> r,s -> c -> k
   backward_weights  dw[r][s][c][k] = sum_{n,p,q} x[n][p*st-pad+r][q*st-pad+s][c] * dy[n][p][q][k]
                     loop r,s,c (parallel) -> n,p,q -> k; dbias[k] = sum_{n,p,q} dy[n][p][q][k]
   Cost: 2*N*K*C*R*S*P*Q flops per pass, no blocking, no workspace.
   Deterministic: every output element is summed by one thread in a fixed order. */
#include <stdlib.h>
#include <string.h>
#include "shape.h"

struct conv_plan {
    conv_shape s;
    int p, q;
};

static const char *naive_unsupported(const conv_shape *s) { return conv_shape_invalid(s); }

static conv_plan *naive_plan(const conv_shape *s)
{
    if (conv_shape_invalid(s)) return NULL;
    conv_plan *pl = malloc(sizeof *pl);
    if (!pl) return NULL;
    pl->s = *s;
    pl->p = conv_out_h(s);
    pl->q = conv_out_w(s);
    return pl;
}

static void naive_destroy(conv_plan *pl) { free(pl); }

static void naive_forward(conv_plan *pl, const float *x, const float *w, const float *bias,
                          float *y)
{
    const conv_shape s = pl->s;
    const int P = pl->p, Q = pl->q;
#pragma omp parallel for collapse(2) schedule(static)
    for (int n = 0; n < s.n; n++)
        for (int p = 0; p < P; p++)
            for (int q = 0; q < Q; q++) {
                float *yo = y + (((size_t)n * P + p) * Q + q) * s.k;
                for (int k = 0; k < s.k; k++) yo[k] = bias ? bias[k] : 0.0f;
                for (int r = 0; r < s.r; r++) {
                    int h = p * s.stride - s.pad + r;
                    if (h < 0 || h >= s.h) continue;
                    for (int t = 0; t < s.s; t++) {
                        int wi = q * s.stride - s.pad + t;
                        if (wi < 0 || wi >= s.w) continue;
                        const float *xi = x + (((size_t)n * s.h + h) * s.w + wi) * s.c;
                        const float *wr = w + ((size_t)r * s.s + t) * s.c * s.k;
                        for (int c = 0; c < s.c; c++)
                            for (int k = 0; k < s.k; k++) yo[k] += xi[c] * wr[(size_t)c * s.k + k];
                    }
                }
            }
}

static void naive_backward_data(conv_plan *pl, const float *dy, const float *w, float *dx)
{
    const conv_shape s = pl->s;
    const int P = pl->p, Q = pl->q;
#pragma omp parallel for collapse(2) schedule(static)
    for (int n = 0; n < s.n; n++)
        for (int h = 0; h < s.h; h++)
            for (int wi = 0; wi < s.w; wi++) {
                float *xo = dx + (((size_t)n * s.h + h) * s.w + wi) * s.c;
                memset(xo, 0, sizeof(float) * s.c);
                for (int r = 0; r < s.r; r++) {
                    int ph = h + s.pad - r; /* = p*stride */
                    if (ph < 0 || ph % s.stride) continue;
                    int p = ph / s.stride;
                    if (p >= P) continue;
                    for (int t = 0; t < s.s; t++) {
                        int qw = wi + s.pad - t;
                        if (qw < 0 || qw % s.stride) continue;
                        int q = qw / s.stride;
                        if (q >= Q) continue;
                        const float *g = dy + (((size_t)n * P + p) * Q + q) * s.k;
                        const float *wr = w + ((size_t)r * s.s + t) * s.c * s.k;
                        for (int c = 0; c < s.c; c++) {
                            float acc = 0.0f;
                            for (int k = 0; k < s.k; k++) acc += g[k] * wr[(size_t)c * s.k + k];
                            xo[c] += acc;
                        }
                    }
                }
            }
}

static void naive_backward_weights(conv_plan *pl, const float *x, const float *dy, float *dw,
                                   float *dbias)
{
    const conv_shape s = pl->s;
    const int P = pl->p, Q = pl->q;
#pragma omp parallel for collapse(3) schedule(static)
    for (int r = 0; r < s.r; r++)
        for (int t = 0; t < s.s; t++)
            for (int c = 0; c < s.c; c++) {
                float *dwo = dw + (((size_t)r * s.s + t) * s.c + c) * s.k;
                memset(dwo, 0, sizeof(float) * s.k);
                for (int n = 0; n < s.n; n++)
                    for (int p = 0; p < P; p++) {
                        int h = p * s.stride - s.pad + r;
                        if (h < 0 || h >= s.h) continue;
                        for (int q = 0; q < Q; q++) {
                            int wi = q * s.stride - s.pad + t;
                            if (wi < 0 || wi >= s.w) continue;
                            float xv = x[(((size_t)n * s.h + h) * s.w + wi) * s.c + c];
                            const float *g = dy + (((size_t)n * P + p) * Q + q) * s.k;
                            for (int k = 0; k < s.k; k++) dwo[k] += xv * g[k];
                        }
                    }
            }
    if (dbias) {
#pragma omp parallel for schedule(static)
        for (int k = 0; k < s.k; k++) {
            float acc = 0.0f;
            for (size_t i = 0; i < (size_t)s.n * P * Q; i++) acc += dy[i * s.k + k];
            dbias[k] = acc;
        }
    }
}

static const char *naive_impl(const conv_plan *pl, conv_pass pass)
{
    (void)pl;
    (void)pass;
    return "direct loops, scalar";
}

const conv_backend conv_naive = {
    .name = "naive",
    .unsupported = naive_unsupported,
    .plan = naive_plan,
    .forward = naive_forward,
    .backward_data = naive_backward_data,
    .backward_weights = naive_backward_weights,
    .destroy = naive_destroy,
    .impl = naive_impl,
};
