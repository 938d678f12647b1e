/* simd's depthwise convolution: groups = C, K = m*C (channel multiplier m),
   any R x S filter, stride and dilation per axis, padding per side.

   Output channel k = c*m + j reads input channel c only, with the filter
   column w[r][s][0][k]: each channel is its own small 2-D convolution, so
   there is no reduction over channels to block for a GEMM-like kernel.
   Vectors run along the channels instead (NHWC keeps a pixel's channels
   contiguous, and the filter's K columns are contiguous per tap): one
   vector of VW channels (16 AVX-512, 8 AVX2, the build's widest portably)
   holds VW independent convolutions, and a tap is one FMA per pixel.
   m > 1 first copies x with each channel repeated m times (x_e[..][k] =
   x[..][c]), which turns the problem into m = 1 over K channels; backward
   data then sums dx_e's m copies of each channel.

   Taps by runs: along each axis, output coordinates that see the same
   taps, input advancing evenly, form a run (the interior, each edge, and
   for backward data each stride residue), tabulated per axis at plan
   time; a row of output takes its rows' taps on the fly. A (row, column
   run) pair fixes the tap list, so the micro-kernel never tests a bound:
   padding, dilation and any stride are all in the tap offsets. For
   forward and backward data, a filter of at most 3x3 has its one-pixel
   edge columns joined to the run beside them (dw_axis_merge_edges): the
   kernel's first or last group skips the edge pixel's missing tap, a
   compile-time test, so an edge pixel no longer sweeps all the channels
   alone (7x7x960 forward, AVX2, 1 thread: 0.74 -> 0.91 of oneDNN), and
   a row no wider than a group is one group (AVX-512's 8 pixels on 7x7:
   0.71 -> 0.97, Zen 4); backward weights' 3x3 runs take them the same
   way (a row one run).
     forward          y[p][q][k] = bias[k] + sum x[p*SH - top + r*DH]
                                   [q*SW - left + s*DW][k] w[r][s][k]
     backward data    the same kernel from dy to dx, each input pixel's taps
                      those (r, s) with (ih + top - r*DH) a multiple of SH
                      (and a row of dy), the pixels of a run SW apart
     backward weights dW[r][s][k] = sum over output pixels of x (x) dy, one
                      accumulator per tap through a run; dbias beside it.
   The micro-kernels (depthwise_body.h, compiled per ISA) take a run's
   pixels J at a time through every channel, V vectors at once (J x V =
   8 x 1 AVX-512, 4 x 3 AVX2, 4 x 1 SSE): per tap and vector one filter
   vector from L1 and J FMAs with the input as memory operand (1 + 1/J
   loads an FMA), the J pixels' input read front to back while in L1.
   Tried first and dropped: a channel vector at a time through the whole
   run with the 3x3 filter's 9 vectors kept in registers (one load an
   FMA, but each pixel's lines read 32 bytes at a time, far apart):
   14x14x576 forward 0.65 ms against 0.48 (AVX2, batch 8, one thread,
   Zen 3).

   Loop order: forward/backward data: output row (parallel, static over
   N*P rows) -> column run -> pixel group -> channel vector -> tap ->
   pixel. Backward weights: thread share of the N*P output rows -> rows
   gathered until ~DW_SEGPIX pixels -> channel vector -> run -> pixel ->
   tap, a filter of <= 9 taps keeping its accumulators in registers
   through all those runs (each run's taps a mask), into the thread's own
   partial dW and dbias (plan-owned), added in thread order at the end:
   deterministic for a fixed thread count (per run and vector, they were
   loaded and stored as often as they took FMAs on 7x7 images: 2x
   slower). Larger filters: run -> pixel group of DW_GW -> channel vector
   -> taps in sweeps of 8.
   Cost: 2*N*K*R*S*P*Q flops a pass, 2 per FMA; bytes: x, y (and dy) once
   each from memory when a few input rows fit in L2, the filter from L1.
   At 2 flops per 4 bytes of input per tap divided among R*S taps, a 3x3
   layer does ~4.5 flops per byte moved: memory- or L2-bound on large
   layers, FMA-bound once the rows sit in L1/L2 (m > 1 adds a pass over
   x_e). */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "depthwise.h"
#include "shape.h"

/* one tap along an axis: filter index f, input coordinate i */
typedef struct {
    int f, i;
} dw_tap1;

/* a run of n outputs o0, o0 + ostep, ... seeing taps tap[t0 .. t0 + ntap)
   (input coordinates at o0; they advance by istep per output) */
typedef struct {
    int o0, n, t0, ntap;
    int edge; /* dw_args.edge: its first or last output lacks a tap */
} dw_run1;

/* one axis of one pass: outputs [0, O) from inputs [0, I) */
typedef struct {
    int bwd; /* backward data: outputs are the forward's inputs */
    int O, I, F, st, dil, lo;
    int ostep, istep;
    int nrun;
    dw_run1 *run;
    dw_tap1 *tap;
} dw_axis;

/* The taps of output o that reach an input, by ascending input i:
   forward i = o*st - lo + f*dil; backward data, o an input of the
   forward, i the forward output with i*st - lo + f*dil = o. */
static int dw_taps(const dw_axis *a, int o, dw_tap1 *out)
{
    int n = 0;
    for (int k = 0; k < a->F; k++) {
        const int f = a->bwd ? a->F - 1 - k : k;
        int i;
        if (!a->bwd)
            i = o * a->st - a->lo + f * a->dil;
        else {
            const int num = o + a->lo - f * a->dil;
            if (num < 0 || num % a->st) continue;
            i = num / a->st;
        }
        if (i >= 0 && i < a->I) out[n++] = (dw_tap1){ f, i };
    }
    return n;
}

static void dw_axis_free(dw_axis *a)
{
    free(a->run);
    free(a->tap);
}

/* The runs of an axis (forward: outputs one apart, inputs st apart;
   backward: one run set per stride residue, outputs st apart). */
static int dw_axis_make(dw_axis *a, int bwd, int O, int I, int F, int st, int dil, int lo)
{
    *a = (dw_axis){ bwd, O, I, F, st, dil, lo, bwd ? st : 1, bwd ? 1 : st, 0, NULL, NULL };
    a->run = malloc(sizeof *a->run * (size_t)O);
    a->tap = malloc(sizeof *a->tap * ((size_t)O * F + 1));
    dw_tap1 *cur = malloc(sizeof *cur * (size_t)F);
    if (!a->run || !a->tap || !cur) {
        free(cur);
        return -1;
    }
    int used = 0;
    for (int cls = 0; cls < a->ostep && cls < O; cls++) {
        dw_run1 *r = NULL;
        for (int o = cls; o < O; o += a->ostep) {
            const int n = dw_taps(a, o, cur);
            int same = r && n == r->ntap;
            for (int t = 0; same && t < n; t++)
                same = a->tap[r->t0 + t].f == cur[t].f &&
                       a->tap[r->t0 + t].i + r->n * a->istep == cur[t].i;
            if (same) {
                r->n++;
                continue;
            }
            r = &a->run[a->nrun++];
            *r = (dw_run1){ o, 1, used, n, 0 };
            memcpy(a->tap + used, cur, sizeof *cur * (size_t)n);
            used += n;
        }
    }
    free(cur);
    return 0;
}

/* 1 if run e (one output, next to run r on side 1 left, 2 right) has
   r's taps but the one beyond the image: r's first tap (left) or last */
static int dw_edge_of(const dw_axis *a, const dw_run1 *r, const dw_run1 *e, int side)
{
    const int d = side == 1 ? -a->ostep : r->n * a->ostep, skip = side == 1;
    if (e->n != 1 || e->ntap != r->ntap - 1 || e->o0 != r->o0 + d) return 0;
    for (int t = 0; t < e->ntap; t++) {
        const dw_tap1 *te = &a->tap[e->t0 + t], *tr = &a->tap[r->t0 + t + skip];
        if (te->f != tr->f || te->i != tr->i + d / a->ostep * a->istep) return 0;
    }
    return 1;
}

/* For apply: a one-output edge run beside a run of 3 taps joins it, its
   missing tap skipped in the kernel's first or last group (dw_args.edge),
   so that an edge pixel no longer sweeps every channel on its own; a run
   no longer than a group, edges and all, is one group skipping both. */
static void dw_axis_merge_edges(dw_axis *a)
{
    int m = 0;
    for (int k = 0; k < a->nrun; k++) {
        dw_run1 r = a->run[k];
        const int l = r.ntap == 3 && m > 0 && dw_edge_of(a, &r, &a->run[m - 1], 1);
        const int g = r.ntap == 3 && k + 1 < a->nrun && dw_edge_of(a, &r, &a->run[k + 1], 2);
        if (l) { /* the left edge joins: r's taps move to it */
            m--;
            r.o0 -= a->ostep;
            r.n++;
            r.edge |= 1;
            for (int t = 0; t < r.ntap; t++) a->tap[r.t0 + t].i -= a->istep;
        }
        if (g) {
            k++;
            r.n++;
            r.edge |= 2;
        }
        a->run[m++] = r;
    }
    a->nrun = m;
}

/* pixels of a weights9 call (see dw_weights_share9) */
enum { DW_SEGPIX = 192 };

struct dw_plan {
    conv_shape s;
    int p, q, k, m, r, sf, threads;
    const dw_isa *d;
    int nvec;           /* channel vectors of K */
    size_t kp;          /* K padded to whole vectors: a partial dW row */
    dw_axis frow, fcol; /* forward (and backward weights); fcol's edges merged */
    dw_axis brow, bcol; /* backward data */
    float *xe;          /* m > 1: [N][H][W][K], x_e or dx_e */
    ptrdiff_t *off;     /* [threads][2][R*S]: a run's tap offsets */
    int segmax;         /* R*S <= 9: runs a weights9 call takes at most */
    dw_seg *seg;        /* [threads][segmax] */
    dw_tap1 *rtap;      /* [threads][max(R, S)]: a row's taps */
    float *part;        /* [threads][R*S + 1][kp]: partial dW, dbias */
    char impl[3][96];
};

int dw_is_depthwise(const conv_shape *s)
{
    const conv_geom g = conv_geometry(s);
    return g.g > 1 && g.g == s->c;
}

static const dw_isa *dw_isa_for(cpu_isa isa)
{
    switch (isa) {
    case ISA_AVX512: return &dw_isa_avx512;
    case ISA_AVX2: return &dw_isa_avx2;
    default: return &dw_isa_portable;
    }
}

void dw_plan_free(dw_plan *p)
{
    if (!p) return;
    dw_axis_free(&p->frow);
    dw_axis_free(&p->fcol);
    dw_axis_free(&p->brow);
    dw_axis_free(&p->bcol);
    free(p->xe);
    free(p->off);
    free(p->seg);
    free(p->rtap);
    free(p->part);
    free(p);
}

dw_plan *dw_plan_make(const conv_shape *s, int threads, cpu_isa isa)
{
    dw_plan *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    const conv_geom g = conv_geometry(s);
    p->s = *s;
    p->p = conv_out_h(s);
    p->q = conv_out_w(s);
    p->k = s->k;
    p->m = s->k / s->c;
    p->r = s->r;
    p->sf = s->s;
    p->threads = threads;
    p->d = dw_isa_for(isa);
    const int vl = p->d->vlen, rs = s->r * s->s, rmax = s->r > s->s ? s->r : s->s;
    p->nvec = (s->k + vl - 1) / vl;
    p->kp = (size_t)p->nvec * vl;
    if (dw_axis_make(&p->frow, 0, p->p, s->h, s->r, g.sh, g.dh, g.pt) ||
        dw_axis_make(&p->fcol, 0, p->q, s->w, s->s, g.sw, g.dw, g.pl) ||
        dw_axis_make(&p->brow, 1, s->h, p->p, s->r, g.sh, g.dh, g.pt) ||
        dw_axis_make(&p->bcol, 1, s->w, p->q, s->s, g.sw, g.dw, g.pl))
        goto fail;
    /* what the kernels take: rows of 3 taps, at most 3 rows; so only
       filters of <= 9 taps, whose backward weights (weights9) take the
       edges too, merge, and the generic weights kernel never sees them */
    if (s->r <= 3 && s->s == 3) {
        dw_axis_merge_edges(&p->fcol);
        dw_axis_merge_edges(&p->bcol);
    }
    p->off = malloc(sizeof *p->off * 2 * (size_t)rs * threads);
    p->segmax = DW_SEGPIX + p->fcol.nrun; /* a row adds at most nrun runs */
    p->seg = malloc(sizeof *p->seg * (size_t)p->segmax * threads);
    p->rtap = malloc(sizeof *p->rtap * (size_t)rmax * threads);
    p->part = cpu_alloc(sizeof(float) * (size_t)threads * (rs + 1) * p->kp);
    if (!p->off || !p->seg || !p->rtap || !p->part) goto fail;
    if (p->m > 1 && !(p->xe = cpu_alloc(sizeof(float) * (size_t)s->n * s->h * s->w * s->k)))
        goto fail;
    const char *in = cpu_isa_name(p->d->isa);
    const char *x2 = p->m > 1 ? ", x repeated per multiplier" : "";
    snprintf(p->impl[0], sizeof p->impl[0], "%s depthwise %dx%d, %d channels a vector%s", in, s->r,
             s->s, vl, x2);
    snprintf(p->impl[1], sizeof p->impl[1], "%s depthwise %dx%d, %d channels a vector%s", in, s->r,
             s->s, vl, p->m > 1 ? ", dx summed per multiplier" : "");
    snprintf(p->impl[2], sizeof p->impl[2],
             "%s depthwise %dx%d, %d channels a vector, per-thread partial dW%s", in, s->r, s->s,
             vl, x2);
    return p;
fail:
    dw_plan_free(p);
    return NULL;
}

const char *dw_impl(const dw_plan *p, conv_pass pass)
{
    return p->impl[pass == CONV_FORWARD ? 0 : pass == CONV_BACKWARD_DATA ? 1 : 2];
}

/* x_e[pix][c*m + j] = x[pix][c], pixels split among the team */
static void dw_expand(const dw_plan *p, const float *x, float *xe)
{
    const size_t npix = (size_t)p->s.n * p->s.h * p->s.w;
    const int c = p->s.c, m = p->m;
#pragma omp for schedule(static)
    for (size_t i = 0; i < npix; i++)
        for (int ch = 0; ch < c; ch++)
            for (int j = 0; j < m; j++) xe[i * p->k + (size_t)ch * m + j] = x[i * c + ch];
}

/* The tap offsets of (row taps rt[0..nr)) x (column run cr of ca) for
   input rows iw pixels long: x offsets in floats of a K-channel image,
   w offsets in rows of wld floats. Returns the tap count. */
static int dw_run_taps(const dw_tap1 *rt, int nr, const dw_axis *ca, const dw_run1 *cr, int iw,
                       int S, int K, ptrdiff_t wld, ptrdiff_t *xoff, ptrdiff_t *woff)
{
    int nt = 0;
    for (int a = 0; a < nr; a++)
        for (int b = 0; b < cr->ntap; b++, nt++) {
            const dw_tap1 *ct = &ca->tap[cr->t0 + b];
            xoff[nt] = ((ptrdiff_t)rt[a].i * iw + ct->i) * K;
            woff[nt] = ((ptrdiff_t)rt[a].f * S + ct->f) * wld;
        }
    return nt;
}

/* forward-shaped pass, one output row: in [I rows][iw][K] of image n ->
   out [O rows][ow][K] of image n, the axes rows and cols; each column
   run is one call, all channels of its pixels */
static void dw_row(const dw_plan *p, const dw_axis *rows, const dw_axis *cols, int iw, int ow,
                   int n, int o, const float *in, const float *w, const float *bias, int relu,
                   float *out, int me)
{
    const int K = p->k, rs = p->r * p->sf;
    dw_tap1 *rt = p->rtap + (size_t)me * (p->r > p->sf ? p->r : p->sf);
    ptrdiff_t *xoff = p->off + (size_t)me * 2 * rs, *woff = xoff + rs;
    const int nr = dw_taps(rows, o, rt);
    const float *img = in + (size_t)n * rows->I * iw * K;
    float *orow = out + ((size_t)n * rows->O + o) * ow * K;
    for (int c = 0; c < cols->nrun; c++) {
        const dw_run1 *cr = &cols->run[c];
        const dw_args a = {
            .x = img,
            .xstep = (ptrdiff_t)cols->istep * K,
            .xoff = xoff,
            .w = w,
            .woff = woff,
            .ntap = dw_run_taps(rt, nr, cols, cr, iw, p->sf, K, K, xoff, woff),
            .y = orow + (ptrdiff_t)cr->o0 * K,
            .ystep = (ptrdiff_t)cols->ostep * K,
            .n = cr->n,
            .bias = bias,
            .relu = relu,
            .k = K,
            .edge = cr->edge,
        };
        p->d->apply(&a);
    }
}

/* A forward-shaped pass over N*O output rows, inside a parallel region */
static void dw_rows(const dw_plan *p, const dw_axis *ra, const dw_axis *ca, int iw, int ow,
                    int rows, const float *in, const float *w, const float *bias, int relu,
                    float *out)
{
    const int me = omp_get_thread_num();
#pragma omp for schedule(static)
    for (int i = 0; i < rows; i++)
        dw_row(p, ra, ca, iw, ow, i / ra->O, i % ra->O, in, w, bias, relu, out, me);
}

void dw_forward(const dw_plan *p, const float *x, const float *w, const float *bias, int relu,
                float *y)
{
    const conv_shape *s = &p->s;
    const int rows = s->n * p->p;
#pragma omp parallel num_threads(p->threads)
    {
        const float *in = x;
        if (p->m > 1) {
            dw_expand(p, x, p->xe); /* ends in the omp for's barrier */
            in = p->xe;
        }
        dw_rows(p, &p->frow, &p->fcol, s->w, p->q, rows, in, w, bias, relu, y);
    }
}

void dw_backward_data(const dw_plan *p, const float *dy, const float *w, float *dx)
{
    const conv_shape *s = &p->s;
    const int rows = s->n * s->h;
    float *out = p->m > 1 ? p->xe : dx;
#pragma omp parallel num_threads(p->threads)
    {
        dw_rows(p, &p->brow, &p->bcol, p->q, s->w, rows, dy, w, NULL, 0, out);
        if (p->m > 1) { /* dx[c] = sum over j of dx_e[c*m + j] */
            const size_t npix = (size_t)s->n * s->h * s->w;
#pragma omp for schedule(static)
            for (size_t i = 0; i < npix; i++)
                for (int c = 0; c < s->c; c++) {
                    const float *e = out + i * p->k + (size_t)c * p->m;
                    float sum = e[0];
                    for (int j = 1; j < p->m; j++) sum += e[j];
                    dx[i * s->c + c] = sum;
                }
        }
    }
}

/* One thread's share [lo, hi) of the N*P output rows into part (its
   [R*S][kp] partial dW, then its dbias row). */
/* dw_weights_share for filters of at most 9 taps: runs gathered as
   segments (tap masks) until about DW_SEGPIX pixels, then one weights9
   call through all of them, channel vector by channel vector: enough
   pixels to amortize the accumulators' loads and stores, few enough that
   a vector's lines are still in L1 when the next vector reads their
   other half */
static void dw_weights_share9(const dw_plan *p, int lo, int hi, const float *in, const float *dy,
                              float *part, int with_bias, int me)
{
    const conv_shape *s = &p->s;
    const int K = p->k, rs = p->r * p->sf;
    memset(part, 0, sizeof(float) * (rs + 1) * p->kp);
    dw_tap1 *rt = p->rtap + (size_t)me * (p->r > p->sf ? p->r : p->sf);
    dw_seg *seg = p->seg + (size_t)me * p->segmax;
    ptrdiff_t woff[9];
    for (int t = 0; t < rs; t++) woff[t] = (ptrdiff_t)t * p->kp;
    const dw_axis *cols = &p->fcol;
    dw_args a = {
        .xstep = (ptrdiff_t)cols->istep * K,
        .w = part,
        .woff = woff,
        .ntap = rs,
        .ystep = (ptrdiff_t)cols->ostep * K,
        .dbias = with_bias ? part + (size_t)rs * p->kp : NULL,
        .k = K,
        .seg = seg,
    };
    int pix = 0;
    for (int i = lo; i < hi; i++) {
        const int n = i / p->p, o = i % p->p;
        const int nr = dw_taps(&p->frow, o, rt);
        const float *img = in + (size_t)n * s->h * s->w * K;
        const float *grow = dy + (size_t)i * p->q * K;
        for (int c = 0; c < cols->nrun; c++) {
            const dw_run1 *cr = &cols->run[c];
            dw_seg *g = &seg[a.nseg++];
            *g = (dw_seg){ img, grow + (ptrdiff_t)cr->o0 * K, cr->n, 0, cr->edge, { 0 } };
            for (int ra = 0; ra < nr; ra++)
                for (int b = 0; b < cr->ntap; b++) {
                    const dw_tap1 *ct = &cols->tap[cr->t0 + b];
                    const int t = rt[ra].f * p->sf + ct->f;
                    g->mask |= 1u << t;
                    g->xoff[t] = ((ptrdiff_t)rt[ra].i * s->w + ct->i) * K;
                }
            pix += cr->n;
        }
        if (pix >= DW_SEGPIX || a.nseg + cols->nrun > p->segmax || i == hi - 1) {
            p->d->weights9(&a);
            a.nseg = 0;
            pix = 0;
        }
    }
}

static void dw_weights_share(const dw_plan *p, int lo, int hi, const float *in, const float *dy,
                             float *part, int with_bias, int me)
{
    if (p->r * p->sf <= 9) {
        dw_weights_share9(p, lo, hi, in, dy, part, with_bias, me);
        return;
    }
    const conv_shape *s = &p->s;
    const int K = p->k, rs = p->r * p->sf;
    float *pb = part + (size_t)rs * p->kp;
    memset(part, 0, sizeof(float) * (rs + 1) * p->kp);
    dw_tap1 *rt = p->rtap + (size_t)me * (p->r > p->sf ? p->r : p->sf);
    ptrdiff_t *xoff = p->off + (size_t)me * 2 * rs, *woff = xoff + rs;
    const dw_axis *cols = &p->fcol;
    for (int i = lo; i < hi; i++) {
        const int n = i / p->p, o = i % p->p;
        const int nr = dw_taps(&p->frow, o, rt);
        const float *img = in + (size_t)n * s->h * s->w * K;
        const float *grow = dy + (size_t)i * p->q * K;
        for (int c = 0; c < cols->nrun; c++) {
            const dw_run1 *cr = &cols->run[c];
            const dw_args a = {
                .x = img,
                .xstep = (ptrdiff_t)cols->istep * K,
                .xoff = xoff,
                .w = part,
                .woff = woff,
                .ntap = dw_run_taps(rt, nr, cols, cr, s->w, p->sf, K, (ptrdiff_t)p->kp, xoff, woff),
                .dy = grow + (ptrdiff_t)cr->o0 * K,
                .ystep = (ptrdiff_t)cols->ostep * K,
                .n = cr->n,
                .dbias = with_bias ? pb : NULL,
                .k = K,
            };
            p->d->weights(&a);
        }
    }
}

void dw_backward_weights(const dw_plan *p, const float *x, const float *dy, float *dw, float *dbias)
{
    const conv_shape *s = &p->s;
    const int T = p->threads, rows = s->n * p->p, rs = p->r * p->sf, K = p->k;
    const size_t psize = (size_t)(rs + 1) * p->kp;
#pragma omp parallel num_threads(T)
    {
        const float *in = x;
        if (p->m > 1) {
            dw_expand(p, x, p->xe);
            in = p->xe;
        }
        const int me = omp_get_thread_num(), team = omp_get_num_threads();
        /* shares are fixed by the plan's thread count, whatever team we get */
        for (int t = me; t < T; t += team)
            dw_weights_share(p, (int)((long long)rows * t / T),
                             (int)((long long)rows * (t + 1) / T), in, dy, p->part + t * psize,
                             dbias != NULL, me);
#pragma omp barrier
#pragma omp for schedule(static)
        for (int r = 0; r <= rs; r++) {
            float *o = r < rs ? dw + (size_t)r * K : dbias;
            if (!o) continue;
            const float *src = p->part + (size_t)r * p->kp;
            for (int k = 0; k < K; k++) o[k] = src[k];
            for (int t = 1; t < T; t++)
                for (int k = 0; k < K; k++) o[k] += src[t * psize + k];
        }
    }
}
