/* Every registered backend x pass against the double-precision reference on
   the shape sweep, plus the adjoint identities, overwrite semantics, input
   immutability and the contract's refusals. A new backend is tested by
   registering it. Backends whose implementation string changes with
   CONVBENCH_ISA are run again at each lower ISA this CPU has. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../kernels/conv.h"
#include "../kernels/cpu.h"
#include "../kernels/shape.h"
#include "check.h"
#include "ref_conv.h"
#include "suites.h"

/* n, h, w, c, k, r, s, stride, pad */
static const conv_shape sweep[] = {
    { 1, 5, 5, 1, 1, 3, 3, 1, 0 }, /* batch 1, C = 1, K = 1 */
    { 1, 5, 5, 1, 1, 3, 3, 1, 1 },
    { 2, 7, 7, 3, 8, 3, 3, 1, 1 },     /* C = 3 */
    { 1, 28, 28, 1, 32, 3, 3, 1, 0 },  /* seed conv1 */
    { 2, 13, 13, 32, 64, 3, 3, 1, 0 }, /* seed conv2 */
    { 2, 5, 5, 64, 64, 3, 3, 1, 0 },   /* seed conv3 */
    { 3, 9, 11, 3, 17, 3, 3, 1, 1 },   /* odd, non-square, K = 17 */
    { 2, 8, 8, 16, 16, 1, 1, 1, 0 },   /* 1x1 */
    { 2, 7, 9, 5, 7, 1, 1, 2, 0 },     /* 1x1 stride 2 */
    { 2, 11, 11, 3, 5, 5, 5, 1, 2 },   /* 5x5 */
    { 1, 9, 9, 4, 6, 5, 5, 2, 0 },
    { 1, 13, 13, 3, 16, 7, 7, 2, 3 }, /* 7x7 stride 2 pad 3: a ResNet stem */
    { 1, 7, 7, 2, 3, 7, 7, 1, 0 },    /* 7x7, output 1x1 */
    { 1, 3, 3, 5, 9, 3, 3, 1, 0 },    /* output 1x1 */
    { 2, 4, 4, 8, 24, 3, 3, 2, 1 },   /* stride 2 */
    { 1, 6, 6, 16, 33, 3, 3, 1, 1 },  /* K = 33 */
    { 2, 10, 10, 1, 31, 3, 3, 1, 1 }, /* C = 1, K = 31 */
    { 2, 13, 13, 1, 12, 3, 3, 1, 1 }, /* C = 1, pad: rows of 13 in vectors of 8 overlap */
    { 3, 9, 20, 1, 8, 5, 5, 1, 2 },   /* C = 1, 5x5, rows of 16 in whole vectors */
    { 1, 10, 10, 1, 4, 3, 3, 1, 0 },  /* C = 1, rows of exactly 8, K = 4 */
    { 2, 9, 9, 1, 20, 3, 3, 1, 1 },   /* C = 1, K = 20: 3 vectors, a tail, edge sub-blocks */
    { 1, 11, 11, 1, 40, 3, 3, 2, 1 }, /* C = 1, K = 40: blocks of 4 and 1 vectors */
    { 2, 15, 15, 3, 12, 3, 3, 2, 0 }, /* odd, stride 2 */
    { 1, 1, 1, 4, 5, 1, 1, 1, 0 },    /* 1x1 image */
    { 1, 1, 1, 3, 4, 3, 3, 1, 1 },    /* 1x1 image, pad 1 */
    { 2, 2, 2, 7, 9, 3, 3, 1, 1 },
    { 1, 12, 12, 16, 16, 3, 3, 1, 2 }, /* pad 2 */
    { 1, 14, 14, 32, 32, 3, 3, 1, 1 },
    { 2, 17, 17, 3, 20, 3, 3, 1, 1 }, /* 17: not a multiple of any tile */
    { 1, 19, 13, 8, 8, 3, 3, 1, 0 },
    { 4, 6, 6, 3, 10, 3, 3, 1, 1 },
    { 1, 8, 8, 1, 1, 5, 5, 1, 4 },  /* pad 4, output larger than input */
    { 1, 9, 9, 2, 4, 3, 5, 1, 1 },  /* 3x5 filter */
    { 1, 10, 7, 3, 6, 1, 3, 1, 0 }, /* 1x3 filter */
    { 1, 16, 16, 24, 48, 1, 1, 1, 0 },
    { 1, 8, 8, 64, 17, 3, 3, 1, 1 },
    { 1, 21, 21, 3, 7, 7, 7, 3, 3 }, /* stride 3, pad 3 */
    { 2, 5, 5, 9, 1, 3, 3, 1, 1 },   /* K = 1 */
    { 1, 7, 7, 7, 7, 3, 3, 1, 2 },
    { 1, 3, 3, 1, 1, 1, 1, 1, 0 },
    { 1, 11, 11, 8, 40, 3, 3, 2, 1 },
    { 1, 6, 6, 3, 3, 2, 2, 2, 0 }, /* 2x2 */
    { 1, 6, 6, 3, 3, 2, 2, 1, 1 },
    { 3, 14, 14, 32, 64, 3, 3, 1, 1 },
    { 1, 31, 31, 3, 16, 3, 3, 1, 1 },
    { 1, 9, 9, 130, 20, 3, 3, 1, 1 }, /* C = 130 */
    { 1, 5, 5, 20, 130, 3, 3, 1, 1 }, /* K = 130 */
    { 1, 4, 4, 3, 5, 3, 3, 3, 1 },
    { 2, 7, 7, 16, 16, 5, 5, 2, 2 },
    { 1, 56, 56, 16, 16, 3, 3, 1, 1 },
    { 1, 29, 29, 3, 8, 7, 7, 2, 3 },
    { 1, 2, 9, 3, 4, 1, 3, 1, 0 },   /* h = 2 */
    { 1, 3, 3, 2, 3, 3, 3, 2, 0 },   /* stride 2, output 1x1 */
    { 1, 8, 8, 3, 16, 3, 3, 1, 0 },  /* exact 6x6 output: whole tiles */
    { 3, 9, 7, 3, 5, 3, 3, 1, 0 },   /* pad 0, 3 images, C = 3: winograd's adjoint with tails */
    { 6, 26, 26, 2, 3, 3, 3, 1, 0 }, /* 216 tiles: winograd's per-thread blocks of whole images */
    /* the appended members: groups, stride and dilation per axis, padding
       per side, padding at or beyond the filter */
    { 2, 7, 7, 4, 6, 3, 3, 1, 1, .groups = 2 },
    { 2, 8, 8, 8, 8, 3, 3, 1, 1, .groups = 8 },   /* depthwise */
    { 1, 7, 9, 3, 6, 3, 3, 2, 1, .groups = 3 },   /* depthwise, channel multiplier 2 */
    { 1, 10, 10, 4, 8, 5, 5, 2, 2, .groups = 4 }, /* depthwise 5x5 stride 2, multiplier 2 */
    { 1, 6, 6, 6, 3, 3, 3, 1, 1, .groups = 3 },   /* C/g = 2, K/g = 1 */
    { 2, 5, 6, 6, 4, 1, 1, 1, 0, .groups = 2 },   /* 1x1 grouped: im2col's GEMMs on x */
    { 1, 7, 7, 4, 8, 1, 1, 2, 0, .groups = 4 },   /* 1x1 grouped, stride 2 */
    { 1, 9, 9, 3, 5, 3, 3, 1, 2, .dil_h = 2, .dil_w = 2 },
    { 2, 11, 10, 2, 4, 3, 3, 1, 0, .dil_h = 3, .dil_w = 1 },
    { 1, 12, 12, 4, 4, 3, 3, 2, 1, .dil_h = 2, .dil_w = 3 }, /* dilation with stride */
    { 1, 9, 9, 16, 16, 3, 3, 1, 2, .groups = 16, .dil_h = 2, .dil_w = 2 },
    { 1, 9, 11, 3, 5, 3, 3, 0, 1, .stride_h = 1, .stride_w = 2 },
    { 2, 10, 7, 2, 3, 1, 3, 1, 0, .stride_h = 3 },
    { 1, 8, 8, 3, 4, 3, 3, 2, 0, .pad_b = 1, .pad_r = 1 }, /* Keras "same", stride 2, even */
    { 2, 6, 7, 2, 3, 3, 3, 1, 0, .pad_t = 2, .pad_l = 1, .pad_r = 3 }, /* ONNX pads */
    /* per-side padding under the filter size, 3x3 stride 1: Winograd runs these */
    { 2, 8, 8, 3, 5, 3, 3, 1, 0, .pad_b = 1, .pad_r = 1 },
    { 1, 9, 7, 4, 6, 3, 3, 1, 0, .pad_t = 2, .pad_b = 1, .pad_l = 1, .pad_r = 2 },
    { 2, 13, 13, 8, 16, 3, 3, 1, 0, .pad_t = 1, .pad_l = 2 }, /* F(4x4) tiles, adjoint */
    { 1, 5, 5, 2, 3, 3, 3, 1, 3 },                            /* pad = filter */
    { 1, 4, 4, 3, 2, 1, 1, 1, 2 },                            /* pad > 1x1 filter */
    { 2, 3, 3, 2, 2, 2, 2, 2, 5 },                            /* pad 5, 2x2 filter */
    { 1, 4, 6, 1, 2, 3, 3, 1, 0, .pad_t = 4, .pad_r = 5 },    /* one side beyond */
    { 2, 9, 10, 4, 6, 3, 3, 0, 0, .groups = 2, .stride_h = 2, .stride_w = 1, .dil_h = 2, .dil_w = 2,
      .pad_t = 1, .pad_b = 2, .pad_l = 2 }, /* all at once */
    /* depthwise as simd vectorizes it: channel tails of every vector width,
       the 3x3 interior's runs of whole pixel groups, any other filter */
    { 1, 9, 9, 13, 13, 3, 3, 1, 1, .groups = 13 },   /* 13 channels: all tail */
    { 2, 14, 14, 33, 33, 3, 3, 1, 1, .groups = 33 }, /* 2 whole vectors + 1 */
    { 1, 11, 10, 19, 38, 5, 5, 1, 2, .groups = 19 }, /* 5x5, multiplier 2, odd */
    { 1, 12, 12, 24, 24, 3, 3, 2, 0, .groups = 24, .pad_b = 1, .pad_r = 1 }, /* Keras same s2 */
    { 1, 10, 9, 20, 20, 3, 3, 2, 0, .groups = 20, .pad_t = 1, .pad_l = 2 },
    { 1, 13, 11, 17, 17, 3, 3, 2, 1, .groups = 17, .dil_h = 2, .dil_w = 3, .pad_b = 1 },
    { 1, 9, 12, 8, 8, 3, 3, 0, 1, .groups = 8, .stride_h = 1, .stride_w = 2 },
    { 2, 4, 5, 8, 24, 3, 3, 1, 3, .groups = 8 }, /* pad 3: rows of padding only, multiplier 3 */
    { 1, 15, 15, 16, 16, 7, 7, 2, 3, .groups = 16 },
    /* rows wide enough for whole pixel groups between the edge groups at
       every vector width (the sliding 3x3 kernel), with and without edges */
    { 1, 5, 27, 35, 35, 3, 3, 1, 1, .groups = 35 },
    { 2, 4, 21, 16, 32, 3, 3, 1, 0, .groups = 16 }, /* multiplier 2 */
    /* the defaults spelled out: today's convolution, which every backend runs */
    { 1, 7, 7, 3, 5, 3, 3, 2, 1, .groups = 1, .stride_h = 2, .stride_w = 2, .dil_h = 1,
      .dil_w = 1 },
};

/* Backends that run every shape the contract can express. */
static int runs_everything(const char *backend)
{
    return !strcmp(backend, "naive") || !strcmp(backend, "onednn") || !strcmp(backend, "im2col") ||
           !strcmp(backend, "im2col-blas");
}

static double dot(const float *a, const float *b, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++) s += (double)a[i] * b[i];
    return s;
}

static double asum(const float *a, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++) s += fabs(a[i]);
    return s;
}

static double amax(const float *a, size_t n)
{
    double m = 1;
    for (size_t i = 0; i < n; i++) m = fmax(m, fabs(a[i]));
    return m;
}

static void fill_nan(float *a, size_t n)
{
    for (size_t i = 0; i < n; i++) a[i] = NAN;
}

static void shape_name(const conv_shape *s, char *buf, size_t len)
{
    int used = snprintf(buf, len, "%dx%dx%dx%d->%d %dx%d s%d p%d", s->n, s->h, s->w, s->c, s->k,
                        s->r, s->s, s->stride, s->pad);
    const int more[] = { s->groups, s->stride_h, s->stride_w, s->dil_h, s->dil_w,
                         s->pad_t,  s->pad_b,    s->pad_l,    s->pad_r };
    static const char *const tag[] = { "g", "sh", "sw", "dh", "dw", "pt", "pb", "pl", "pr" };
    for (size_t i = 0; i < sizeof more / sizeof *more; i++)
        if (more[i] && used > 0 && (size_t)used < len)
            used += snprintf(buf + used, len - (size_t)used, " %s%d", tag[i], more[i]);
}

typedef struct {
    size_t nx, ny, nw;
    float *x, *w, *bias, *dy, *x0, *w0, *dy0; /* inputs and their copies */
    float *wu;                                /* w's copy at wu + 1: not 64-aligned */
    float *y, *y2, *dx, *dw, *dw2, *dbias;    /* backend outputs */
    double *ry, *ry0, *rdx, *rdw, *rdb;       /* reference outputs */
} buffers;

static void buffers_free(buffers *b)
{
    float *f[] = { b->x, b->w,  b->bias, b->dy, b->x0,  b->w0,    b->dy0,
                   b->y, b->y2, b->dx,   b->dw, b->dw2, b->dbias, b->wu };
    double *d[] = { b->ry, b->ry0, b->rdx, b->rdw, b->rdb };
    for (size_t i = 0; i < sizeof f / sizeof *f; i++) free(f[i]);
    for (size_t i = 0; i < sizeof d / sizeof *d; i++) free(d[i]);
}

/* Inputs and reference results for one shape, shared by every backend. */
static void buffers_make(buffers *b, const conv_shape *s, unsigned seed)
{
    check_rng g = { seed };
    b->nx = (size_t)s->n * s->h * s->w * s->c;
    b->ny = (size_t)s->n * conv_out_h(s) * conv_out_w(s) * s->k;
    b->nw = (size_t)s->r * s->s * (s->c / (s->groups ? s->groups : 1)) * s->k; /* HWIO per group */
    size_t nf[] = { b->nx, b->nw, s->k,  b->ny, b->nx, b->nw, b->ny,
                    b->ny, b->ny, b->nx, b->nw, b->nw, s->k,  b->nw + 1 };
    float **f[] = { &b->x, &b->w,  &b->bias, &b->dy, &b->x0,  &b->w0,    &b->dy0,
                    &b->y, &b->y2, &b->dx,   &b->dw, &b->dw2, &b->dbias, &b->wu };
    /* 64-byte aligned, as the trainer's buffers are, so every run takes the
       same paths; the forward is also checked on a misaligned w (wu + 1) */
    for (size_t i = 0; i < sizeof f / sizeof *f; i++)
        if (!(*f[i] = aligned_alloc(64, (sizeof(float) * nf[i] + 63) & ~(size_t)63))) {
            perror("aligned_alloc");
            exit(2);
        }
    size_t nd[] = { b->ny, b->ny, b->nx, b->nw, s->k };
    double **d[] = { &b->ry, &b->ry0, &b->rdx, &b->rdw, &b->rdb };
    for (size_t i = 0; i < sizeof d / sizeof *d; i++)
        if (!(*d[i] = malloc(sizeof(double) * nd[i]))) {
            perror("malloc");
            exit(2);
        }
    check_fill(&g, b->x, b->nx);
    check_fill(&g, b->w, b->nw);
    check_fill(&g, b->bias, s->k);
    check_fill(&g, b->dy, b->ny);
    memcpy(b->x0, b->x, sizeof(float) * b->nx);
    memcpy(b->w0, b->w, sizeof(float) * b->nw);
    memcpy(b->dy0, b->dy, sizeof(float) * b->ny);
    ref_forward(s, b->x, b->w, b->bias, b->ry);
    ref_forward(s, b->x, b->w, NULL, b->ry0);
    ref_backward_data(s, b->dy, b->w, b->rdx);
    ref_backward_weights(s, b->x, b->dy, b->rdw, b->rdb);
}

static void check_backend_shape(const conv_backend *be, const conv_shape *s, buffers *b,
                                const char *group)
{
    char name[320];
    const double bound = ref_error_bound(be->name);
    conv_plan *pl = be->plan(s);
    snprintf(name, sizeof name, "%s/plan", group);
    if (!check(name, pl != NULL, "plan() returned NULL for a supported shape")) return;
    double e;

    fill_nan(b->y, b->ny);
    be->forward(pl, b->x, b->w, b->bias, b->y);
    e = ref_rel_err(b->y, b->ry, b->ny);
    snprintf(name, sizeof name, "%s/forward", group);
    check(name, e <= bound, "error %.3g > %.3g", e, bound);

    memcpy(b->wu + 1, b->w, sizeof(float) * b->nw);
    fill_nan(b->y2, b->ny); /* weights 4 bytes past a cache line */
    be->forward(pl, b->x, b->wu + 1, b->bias, b->y2);
    e = ref_rel_err(b->y2, b->ry, b->ny);
    snprintf(name, sizeof name, "%s/forward-unaligned-w", group);
    check(name, e <= bound, "error %.3g > %.3g", e, bound);

    fill_nan(b->y2, b->ny); /* plan reuse, and bias NULL */
    be->forward(pl, b->x, b->w, NULL, b->y2);
    e = ref_rel_err(b->y2, b->ry0, b->ny);
    snprintf(name, sizeof name, "%s/forward-nobias", group);
    check(name, e <= bound, "error %.3g > %.3g", e, bound);

    if (be->forward_relu) { /* fused bias + ReLU epilogue */
        fill_nan(b->y2, b->ny);
        be->forward_relu(pl, b->x, b->w, b->bias, b->y2);
        for (size_t i = 0; i < b->ny; i++) b->ry0[i] = fmax(b->ry[i], 0.0);
        e = ref_rel_err(b->y2, b->ry0, b->ny);
        snprintf(name, sizeof name, "%s/forward_relu", group);
        check(name, e <= bound, "error %.3g > %.3g", e, bound);
        int negatives = 1; /* exactly zero where the result is negative */
        for (size_t i = 0; i < b->ny; i++) negatives &= !(b->ry[i] < -bound) || b->y2[i] == 0.0f;
        snprintf(name, sizeof name, "%s/forward_relu-zeros", group);
        check(name, negatives, "a negative output was not clamped to 0");
        ref_forward(s, b->x, b->w, NULL, b->ry0);
        be->forward(pl, b->x, b->w, NULL, b->y2); /* y2 feeds the adjoint check below */
    }

    fill_nan(b->dx, b->nx);
    be->backward_data(pl, b->dy, b->w, b->dx);
    e = ref_rel_err(b->dx, b->rdx, b->nx);
    snprintf(name, sizeof name, "%s/backward_data", group);
    check(name, e <= bound, "error %.3g > %.3g", e, bound);

    fill_nan(b->dw, b->nw);
    fill_nan(b->dbias, s->k);
    be->backward_weights(pl, b->x, b->dy, b->dw, b->dbias);
    e = ref_rel_err(b->dw, b->rdw, b->nw);
    snprintf(name, sizeof name, "%s/backward_weights", group);
    check(name, e <= bound, "error %.3g > %.3g", e, bound);
    e = ref_rel_err(b->dbias, b->rdb, s->k);
    snprintf(name, sizeof name, "%s/backward_weights-dbias", group);
    check(name, e <= bound, "error %.3g > %.3g", e, bound);

    fill_nan(b->dw2, b->nw);
    be->backward_weights(pl, b->x, b->dy, b->dw2, NULL);
    e = ref_rel_err(b->dw2, b->rdw, b->nw);
    snprintf(name, sizeof name, "%s/backward_weights-nodbias", group);
    check(name, e <= bound, "error %.3g > %.3g", e, bound);

    /* <dy, conv(x; w)> = <conv_bwd_data(dy), x>, on the backend's own results */
    double ydy = dot(b->dy, b->y2, b->ny), dxx = dot(b->dx, b->x, b->nx);
    double norm = asum(b->dy, b->ny) * amax(b->y2, b->ny) + asum(b->x, b->nx) * amax(b->dx, b->nx);
    snprintf(name, sizeof name, "%s/adjoint-data", group);
    check(name, fabs(ydy - dxx) <= bound * norm, "<dy,y> = %.9g, <dx,x> = %.9g", ydy, dxx);
    /* <dy, conv(x; w)> = <dw, w> */
    double dww = dot(b->dw, b->w, b->nw);
    norm = asum(b->dy, b->ny) * amax(b->y2, b->ny) + asum(b->w, b->nw) * amax(b->dw, b->nw);
    snprintf(name, sizeof name, "%s/adjoint-weights", group);
    check(name, fabs(ydy - dww) <= bound * norm, "<dy,y> = %.9g, <dw,w> = %.9g", ydy, dww);

    snprintf(name, sizeof name, "%s/inputs-unchanged", group);
    check(name,
          !memcmp(b->x, b->x0, sizeof(float) * b->nx) &&
              !memcmp(b->w, b->w0, sizeof(float) * b->nw) &&
              !memcmp(b->dy, b->dy0, sizeof(float) * b->ny),
          "a pass wrote to an input");
    memcpy(b->x, b->x0, sizeof(float) * b->nx);
    memcpy(b->w, b->w0, sizeof(float) * b->nw);
    memcpy(b->dy, b->dy0, sizeof(float) * b->ny);

    if (be->impl)
        for (int p = CONV_FORWARD; p <= CONV_BACKWARD_WEIGHTS; p++) {
            const char *im = be->impl(pl, (conv_pass)p);
            snprintf(name, sizeof name, "%s/impl-%s", group, conv_pass_name((conv_pass)p));
            check(name, im && *im, "impl() gave no description");
        }
    be->destroy(pl);
}

/* impl strings of all passes, to tell whether the ISA changes what runs */
static void impl_key(const conv_backend *be, const conv_shape *s, char *buf, size_t len)
{
    buf[0] = 0;
    if (!be->impl) return;
    conv_plan *pl = be->plan(s);
    if (!pl) return;
    for (int p = CONV_FORWARD; p <= CONV_BACKWARD_WEIGHTS; p++) {
        size_t used = strlen(buf);
        snprintf(buf + used, len - used, "%s|", be->impl(pl, (conv_pass)p));
    }
    be->destroy(pl);
}

void test_conv(void)
{
    const int nshapes = (int)(sizeof sweep / sizeof *sweep);
    const cpu_isa top = cpu_isa_supported();
    for (int i = 0; i < nshapes; i++) {
        const conv_shape *s = &sweep[i];
        char sname[96];
        shape_name(s, sname, sizeof sname);
        buffers b;
        buffers_make(&b, s, 1234u + (unsigned)i);
        for (const conv_backend *const *bp = conv_backends(); *bp; bp++) {
            const conv_backend *be = *bp;
            char group[192], best_key[512] = "", key[512];
            for (int isa = top; isa >= ISA_PORTABLE; isa--) {
                check_force_isa(cpu_isa_name((cpu_isa)isa));
                snprintf(group, sizeof group, "conv/%s/%s/%s", be->name, cpu_isa_name((cpu_isa)isa),
                         sname);
                if (!check_selected(group)) continue;
                const char *why = be->unsupported(s);
                if (isa == (int)top && runs_everything(be->name)) {
                    snprintf(key, sizeof key, "%s/accepted", group);
                    check(key, !why, "refused: %s", why ? why : "");
                }
                if (why) {
                    /* refusing a feature of the grown contract: no plan either, so
                       no pass can run it with the old geometry */
                    const char *grown = conv_shape_extended(s);
                    if (isa == (int)top && grown && !strcmp(why, grown)) {
                        conv_plan *pl = be->plan(s);
                        snprintf(key, sizeof key, "%s/refused", group);
                        check(key, !pl, "refused (%s) but planned", why);
                        if (pl) be->destroy(pl);
                    }
                    if (isa == (int)top) check_skip(group, why);
                    continue;
                }
                if (isa != (int)top) { /* same code at this ISA: already tested */
                    impl_key(be, s, key, sizeof key);
                    if (!strcmp(key, best_key)) continue;
                } else {
                    impl_key(be, s, best_key, sizeof best_key);
                }
                check_backend_shape(be, s, &b, group);
            }
        }
        buffers_free(&b);
    }
    check_force_isa(NULL);
}

/* Malformed shapes: every backend must say why and refuse to plan. */
void test_refusals(void)
{
    static const struct {
        conv_shape s;
        const char *what;
    } bad[] = {
        { { 0, 5, 5, 1, 1, 3, 3, 1, 0 }, "n = 0" },
        { { -1, 5, 5, 1, 1, 3, 3, 1, 0 }, "n < 0" },
        { { 1, 0, 5, 1, 1, 3, 3, 1, 0 }, "h = 0" },
        { { 1, 5, -3, 1, 1, 3, 3, 1, 0 }, "w < 0" },
        { { 1, 5, 5, 0, 1, 3, 3, 1, 0 }, "c = 0" },
        { { 1, 5, 5, 1, 0, 3, 3, 1, 0 }, "k = 0" },
        { { 1, 5, 5, 1, 1, 0, 3, 1, 0 }, "r = 0" },
        { { 1, 5, 5, 1, 1, 3, -1, 1, 0 }, "s < 0" },
        { { 1, 5, 5, 1, 1, 3, 3, 0, 0 }, "stride = 0" },
        { { 1, 5, 5, 1, 1, 3, 3, -2, 0 }, "stride < 0" },
        { { 1, 5, 5, 1, 1, 3, 3, 1, -1 }, "pad < 0" },
        { { 1, 5, 5, 4, 4, 3, 3, 1, 1, .groups = -1 }, "groups < 0" },
        { { 1, 5, 5, 4, 6, 3, 3, 1, 1, .groups = 4 }, "groups not dividing k" },
        { { 1, 5, 5, 6, 4, 3, 3, 1, 1, .groups = 4 }, "groups not dividing c" },
        { { 1, 5, 5, 1, 1, 3, 3, 1, 0, .stride_h = -1 }, "stride_h < 0" },
        { { 1, 5, 5, 1, 1, 3, 3, 0, 0, .stride_h = 2 }, "stride 0, stride_w unset" },
        { { 1, 5, 5, 1, 1, 3, 3, 1, 0, .dil_w = -2 }, "dil_w < 0" },
        { { 1, 5, 5, 1, 1, 3, 3, 1, 0, .dil_h = 3 }, "dilated filter beyond input" },
        { { 1, 5, 5, 1, 1, 3, 3, 1, 0, .pad_l = -1 }, "pad_l < 0" },
        { { 1, 5, 5, 1, 1, 3, 3, 1, 2147483000, .pad_b = 1000 }, "pad + pad_b overflows int" },
        { { 1, 5, 5, 1, 1, 3, 3, 1, 0, .dil_h = 1 << 30 }, "dilated filter overflows int" },
        { { 1, 2, 5, 1, 1, 3, 3, 1, 0 }, "output height 0" },
        { { 1, 5, 1, 1, 1, 3, 3, 2, 0 }, "output width 0" },
        { { 1, 5, 5, 1, 1, 3, 3, 1, 2147483000 }, "pad overflows int" },
        { { 1 << 30, 1 << 16, 1 << 16, 1 << 10, 1, 1, 1, 1, 0 }, "input overflows size_t" },
        { { 1, 1, 1, 1 << 30, 1 << 30, 1 << 16, 1 << 16, 1, 0 }, "weights overflow size_t" },
        { { 1 << 20, 1 << 20, 1 << 20, 1, 1 << 20, 1, 1, 1, 0 }, "output overflows size_t" },
        { { 1, 1 << 16, 1 << 16, 1 << 10, 1, 1, 1, 1, 0 }, "one image over 2^31 elements" },
    };
    char name[256];
    for (const conv_backend *const *bp = conv_backends(); *bp; bp++) {
        const conv_backend *be = *bp;
        snprintf(name, sizeof name, "refusals/%s/complete", be->name);
        check(name,
              be->name && be->unsupported && be->plan && be->forward && be->backward_data &&
                  be->backward_weights && be->destroy,
              "a required member of conv_backend is NULL");
        snprintf(name, sizeof name, "refusals/%s/findable", be->name);
        check(name, conv_backend_find(be->name) == be, "conv_backend_find(\"%s\")", be->name);
        for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
            snprintf(name, sizeof name, "refusals/%s/%s", be->name, bad[i].what);
            if (!check_selected(name)) continue;
            const char *why = be->unsupported(&bad[i].s);
            conv_plan *pl = be->plan(&bad[i].s);
            check(name, why && *why && !pl, "reason %s, plan %p", why ? why : "(none)", (void *)pl);
            if (pl) be->destroy(pl);
        }
    }
    check("refusals/unknown-backend",
          conv_backend_find("no-such-backend") == NULL && conv_backend_find(NULL) == NULL,
          "found a backend");
}
