/* naive: the direct convolution written as its definition, the reference
   every other backend is compared with in speed. It runs every shape the
   contract can express: groups, per-axis stride, dilation, padding per side.

   With g groups (C/g = CG inputs and K/g = KG outputs each), strides SH, SW,
   dilations DH, DW and padding top/left PT, PL (conv.h), for output channel
   k = i*KG + kk:
   forward           y[n][p][q][k] = bias[k] + sum_{r,s,cc} x[n][p*SH-PT+r*DH][q*SW-PL+s*DW][i*CG+cc]
                                                           * w[r][s][cc][k]
                     loop n,p,q (parallel) -> r,s -> group -> cc -> kk (innermost: contiguous
                     in w and y)
   backward_data     dx[n][h][w][c] = sum over taps (r,s) with h = p*SH-PT+r*DH, w = q*SW-PL+s*DW
                     of sum_kk dy[n][p][q][i*KG+kk] * w[r][s][cc][i*KG+kk]; gathered per input
                     pixel, so no two threads write one element. loop n,h,w (parallel) -> r,s ->
                     c -> kk
   backward_weights  dw[r][s][cc][k] = sum_{n,p,q} x[n][p*SH-PT+r*DH][q*SW-PL+s*DW][i*CG+cc]
                     * dy[n][p][q][k]; loop r,s,group,cc (parallel) -> n,p,q -> kk;
                     dbias[k] = sum_{n,p,q} dy[n][p][q][k]
   Cost: 2*N*K*CG*R*S*P*Q flops per pass, no blocking, no workspace.
   Deterministic: every output element is summed by one thread in a fixed order. */
#include <stdlib.h>
#include <string.h>
#include "shape.h"

struct conv_plan {
    conv_shape s;
    conv_geom g;
    int p, q;
    int cg, kg; /* channels per group: inputs, outputs */
};

static const char *naive_unsupported(const conv_shape *s) { return conv_shape_invalid(s); }

static conv_plan *naive_plan(const conv_shape *s)
{
    if (conv_shape_invalid(s)) return NULL;
    conv_plan *pl = malloc(sizeof *pl);
    if (!pl) return NULL;
    pl->s = *s;
    pl->g = conv_geometry(s);
    pl->p = conv_out_h(s);
    pl->q = conv_out_w(s);
    pl->cg = s->c / pl->g.g;
    pl->kg = s->k / pl->g.g;
    return pl;
}

static void naive_destroy(conv_plan *pl) { free(pl); }

/* One output pixel of a grouped shape, all taps; kept out of line so the
   dense loop nest below keeps its registers. */
static void __attribute__((noinline))
forward_pixel_grouped(const conv_plan *pl, const float *x, int n, int p, int q, const float *w,
                      float *yo)
{
    const conv_shape s = pl->s;
    const conv_geom g = pl->g;
    const int CG = pl->cg, KG = pl->kg;
    for (int r = 0; r < s.r; r++) {
        int h = p * g.sh - g.pt + r * g.dh;
        if (h < 0 || h >= s.h) continue;
        for (int t = 0; t < s.s; t++) {
            int wi = q * g.sw - g.pl + t * g.dw;
            if (wi < 0 || wi >= s.w) continue;
            const float *xi = x + (((size_t)n * s.h + h) * s.w + wi) * s.c;
            const float *wr = w + ((size_t)r * s.s + t) * CG * s.k;
            for (int gi = 0; gi < g.g; gi++)
                for (int c = 0; c < CG; c++) {
                    const float xv = xi[gi * CG + c];
                    const float *wc = wr + (size_t)c * s.k + gi * KG;
                    float *yg = yo + gi * KG;
                    for (int k = 0; k < KG; k++) yg[k] += xv * wc[k];
                }
        }
    }
}

static void naive_forward(conv_plan *pl, const float *x, const float *w, const float *bias,
                          float *y)
{
    const int N = pl->s.n, H = pl->s.h, W = pl->s.w, C = pl->s.c, K = pl->s.k, R = pl->s.r,
              S = pl->s.s, P = pl->p, Q = pl->q;
    const int SH = pl->g.sh, SW = pl->g.sw, PT = pl->g.pt, PL = pl->g.pl, DH = pl->g.dh,
              DW = pl->g.dw, grouped = pl->g.g != 1;
#pragma omp parallel for collapse(2) schedule(static)
    for (int n = 0; n < N; n++)
        for (int p = 0; p < P; p++)
            for (int q = 0; q < Q; q++) {
                float *yo = y + (((size_t)n * P + p) * Q + q) * K;
                for (int k = 0; k < K; k++) yo[k] = bias ? bias[k] : 0.0f;
                if (grouped) {
                    forward_pixel_grouped(pl, x, n, p, q, w, yo);
                    continue;
                }
                for (int r = 0; r < R; r++) {
                    int h = p * SH - PT + r * DH;
                    if (h < 0 || h >= H) continue;
                    for (int t = 0; t < S; t++) {
                        int wi = q * SW - PL + t * DW;
                        if (wi < 0 || wi >= W) continue;
                        const float *xi = x + (((size_t)n * H + h) * W + wi) * C;
                        const float *wr = w + ((size_t)r * S + t) * C * K;
                        for (int c = 0; c < C; c++)
                            for (int k = 0; k < K; k++) yo[k] += xi[c] * wr[(size_t)c * K + k];
                    }
                }
            }
}

static void naive_backward_data(conv_plan *pl, const float *dy, const float *w, float *dx)
{
    const conv_shape s = pl->s;
    const conv_geom g = pl->g;
    const int P = pl->p, Q = pl->q, CG = pl->cg, KG = pl->kg;
#pragma omp parallel for collapse(2) schedule(static)
    for (int n = 0; n < s.n; n++)
        for (int h = 0; h < s.h; h++)
            for (int wi = 0; wi < s.w; wi++) {
                float *xo = dx + (((size_t)n * s.h + h) * s.w + wi) * s.c;
                memset(xo, 0, sizeof(float) * s.c);
                for (int r = 0; r < s.r; r++) {
                    int ph = h + g.pt - r * g.dh; /* = p*SH */
                    if (ph < 0 || ph % g.sh) continue;
                    int p = ph / g.sh;
                    if (p >= P) continue;
                    for (int t = 0; t < s.s; t++) {
                        int qw = wi + g.pl - t * g.dw;
                        if (qw < 0 || qw % g.sw) continue;
                        int q = qw / g.sw;
                        if (q >= Q) continue;
                        const float *gy = dy + (((size_t)n * P + p) * Q + q) * s.k;
                        const float *wr = w + ((size_t)r * s.s + t) * CG * s.k;
                        if (g.g == 1) /* dense: the loops as they were before groups */
                            for (int c = 0; c < s.c; c++) {
                                float acc = 0.0f;
                                for (int k = 0; k < s.k; k++)
                                    acc += gy[k] * wr[(size_t)c * s.k + k];
                                xo[c] += acc;
                            }
                        else
                            for (int c = 0; c < s.c; c++) {
                                const int k0 = c / CG * KG;
                                const float *wc = wr + (size_t)(c % CG) * s.k + k0;
                                float acc = 0.0f;
                                for (int k = 0; k < KG; k++) acc += gy[k0 + k] * wc[k];
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
    const conv_geom g = pl->g;
    const int P = pl->p, Q = pl->q, CG = pl->cg, KG = pl->kg;
#pragma omp parallel for collapse(3) schedule(static)
    for (int r = 0; r < s.r; r++)
        for (int t = 0; t < s.s; t++)
            for (int c = 0; c < s.c; c++) { /* c = group * CG + cc */
                const int k0 = c / CG * KG;
                float *dwo = dw + (((size_t)r * s.s + t) * CG + c % CG) * s.k + k0;
                memset(dwo, 0, sizeof(float) * KG);
                for (int n = 0; n < s.n; n++)
                    for (int p = 0; p < P; p++) {
                        int h = p * g.sh - g.pt + r * g.dh;
                        if (h < 0 || h >= s.h) continue;
                        for (int q = 0; q < Q; q++) {
                            int wi = q * g.sw - g.pl + t * g.dw;
                            if (wi < 0 || wi >= s.w) continue;
                            float xv = x[(((size_t)n * s.h + h) * s.w + wi) * s.c + c];
                            const float *gy = dy + (((size_t)n * P + p) * Q + q) * s.k + k0;
                            for (int k = 0; k < KG; k++) dwo[k] += xv * gy[k];
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
