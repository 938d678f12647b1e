/* simd: direct convolution, hand-vectorized with intrinsics; AVX-512F, AVX2+FMA
   or portable C, chosen at plan time by cpu_isa_active() (CONVBENCH_ISA lowers it).

   Files: this one is the engine (plans, regions, tasks, the passes and
   their threads), the same for every ISA. The micro-kernels live one file
   per ISA, avx512.c, avx2.c and portable.c, each compiled for its ISA by
   target attributes and exporting a table of its kernels (simd_kernels.h):
   one function per J x V blocking, the dot-product kernel and the
   short-reduction (first-layer) kernels where the ISA has them. The plan takes the
   active ISA's table and calls every kernel through it.

   One register-blocked micro-kernel serves all three passes. It computes a
   J x (V vectors) block of an outer-product sum
       acc[j][v] += a(j, i) * b(i)[v]      over a reduction index i
   where a(j, i) is a scalar broadcast from memory and b(i) a row of V vectors.
   i runs over segments (base offsets plus a length) of contiguous steps, so
   one loop shape covers every pass:
     forward           j = output pixel, v = output channels K, i = (tap, c):
                       a segment is a filter row's run of adjacent valid taps
                       (S*C contiguous floats of x and of the repacked filter),
                       a = x[pixel + tap][c], b = repacked w[tap][c][K block]
     backward_data     the same engine on dy, filter repacked per pass rotated
                       by 180 degrees with C/K swapped: [c block][r][s][k][c];
                       output pixels are grouped by which taps reach them, so
                       any stride works (stride 2: one group per residue class)
     backward_weights  j = dW row (r,s,c), v = K, i = output pixel (n,p,q):
                       a = x[pixel + (r,s)][c], b = dy[pixel][K block];
                       each thread sums its share of the N*P rows into its own
                       partial dW (plan-owned), added up in thread order at
                       the end: deterministic for a fixed thread count;
                       dbias the same way from per-thread sums of dy. Where
                       dW has at least as many rows (R*S*C) as dy has pixels,
                       threads split dW's rows instead, each reading all of
                       x and dy: no partial sums to add up.
   Each axis has its own stride, dilation and leading padding (the
   trailing padding follows from the output size): a tap reads input
   o*st - pad + f*dil, and padding at or beyond the filter leaves output
   rows with no taps at all (bias only). Dilated taps are never adjacent,
   so each is a segment of its own.
   Output pixels of forward/backward_data are split into regions whose pixels
   see the same taps (interior, each edge, each stride residue), so the
   kernel never tests a bound; a block of J pixels may span images, so the
   small edge regions of small images still fill the registers. Where that
   is estimated cheaper (few, tiny regions), the input is read from a
   zero-padded copy instead. backward_weights reads x through a zero-padded
   copy when there is padding. All per-pixel offsets are tabulated at plan time.
   Reductions of 9 steps (3x3 over one input channel: first layers) run on
   the ISA's short-reduction kernels, all 9 steps unrolled from per-region
   step tables, the pixels of a 48-pixel task in groups: AVX-512 keeps the
   filter in registers for at most 32 output channels (per pixel 9
   broadcasts and 9V FMAs, no filter loads); AVX2 cuts the channels into
   blocks of 4 vectors and streams the filter from L1 (3 pixels x 4
   vectors, 7 loads per 12 FMAs; simd_kernels.h). Regions of such a layer
   with fewer steps (padding) run the blocked kernel, a block wider than
   it takes as sub-blocks of at most vmax vectors.
   Outputs of only a few channels (C = 1 backward data, Co <= vlen/4) use a
   dot-product kernel instead: vectors over the reduction (k, taps), 8 pixel
   accumulators, one horizontal sum each; vectors over Co would be 1/16 full.

   Register blocking (AVX-512, 32 zmm): V <= 4 vectors of 16 channels (a K
   block of up to 64), J = 7/8/12/14 rows for V = 4/3/2/1: 24-28 accumulators,
   V registers of b and one broadcast (at 7x4 that is 33 zmm: gcc keeps two
   accumulators on the stack, an extra load and store per step the load
   ports absorb; taking b's last vector as an FMA memory operand instead
   measured the same; 7x4 measured 1-20% faster than 6x4, most on
   backward_weights, whose per-block reloads it amortizes over more rows;
   14x2 measured slower than 12x2: no register left for addresses). Each
   step issues V + J loads for J*V FMAs (11 loads per 28 FMAs at 7x4, 14
   per 24 at 12x2), so the two FMA
   ports, not the load ports or the 4-cycle FMA latency (which needs >= 8
   independent chains), bound the loop. AVX2 (16 ymm): V <= 2 vectors of 8,
   J = 6/12: 12 accumulators. Portable C: J <= 8 rows of 16 floats, left to
   the compiler. K tails use masked loads/stores (weights are also
   zero-padded when repacked).
   Loop order: forward/backward_data: pixel block (parallel) -> K block ->
   segment -> step (tap, c) -> pixel -> vector; backward_weights: thread share
   (of rows or of dW rows) -> chunk of rows (~8K dy floats, 32 KB) ->
   dW row block -> K block -> row -> pixel -> dW row -> vector.
   Cost: 2*N*K*C*R*S*P*Q flops per pass plus O(RSCK) repacking per pass and
   thread (each thread repacks its own copy of the filter).
   Expected (and measured, 1 thread): 70-90% of the FMA peak forward and
   backward data on layers with C, K >= 32, 60-85% backward weights; C = 1
   layers 25-45% in the blocked kernel (9-step reductions: loads, stores and
   per-block overhead weigh as much as the FMAs), 60-75% forward with the
   filter in registers; AVX2 streaming it, 1.1-1.2 times oneDNN's speed on
   seed conv1 forward). */
#include <omp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cpu.h"
#include "depthwise.h"
#include "shape.h"
#include "simd_kernels.h"
#include "transpose.h"

/* ---- the ISA a plan runs ----------------------------------------------- */

/* The kernels of an ISA, in avx512.c, avx2.c and portable.c. */
static const simd_isa *simd_isa_for(cpu_isa isa)
{
    switch (isa) {
    case ISA_AVX512: return &simd_isa_avx512;
    case ISA_AVX2: return &simd_isa_avx2;
    default: return &simd_isa_portable;
    }
}

/* Rows of the largest block of v vectors. */
static int isa_jmax(const simd_isa *d, int v) { return d->jmax[v - 1]; }

/* A channel dimension of size n cut into blocks of `full` channels (vfull
   vectors of vlen); the last block is `last` wide (vlast vectors) with
   `tail` valid lanes in its last vector. All divisions done here, once. */
typedef struct {
    int n, full, nblk, vlen, vfull, last, vlast, tail;
} chblk;

static chblk chblk_make(int n, int vlen, int vmax)
{
    chblk c = { n, vlen * vmax, 0, vlen, vmax, 0, 0, 0 };
    c.nblk = (n + c.full - 1) / c.full;
    c.vlast = (n - (c.nblk - 1) * c.full + vlen - 1) / vlen;
    c.last = c.vlast * vlen;
    c.tail = n - (n - 1) / vlen * vlen;
    return c;
}
static int chblk_width(const chblk *c, int b) { return b == c->nblk - 1 ? c->last : c->full; }
static int chblk_vecs(const chblk *c, int b) { return b == c->nblk - 1 ? c->vlast : c->vfull; }
static int chblk_tail(const chblk *c, int b) { return b == c->nblk - 1 ? c->tail : c->vlen; }

/* Vectors of the blocked kernel's widest sub-block of a v-vector block:
   blocks cut for the short-reduction kernels may be wider than it. */
static int sub_vecs(const simd_isa *d, int v) { return v < d->vmax ? v : d->vmax; }

/* ---- regions: output pixels that see the same taps ---------------------- */

/* A run of 1-D output coordinates o0, o0+ostep, ... (n of them) that all see
   taps tap[t0 .. t0+ntap) (filter index f, input coordinate i at o0); the
   input coordinate advances by istep per output step. */
typedef struct {
    int o0, n, t0, ntap;
} run1d;
typedef struct {
    int f, i;
} tap1d;

typedef struct {
    int ostep, istep;
    int nrun;
    run1d *run;
    tap1d *tap;
} axis;

/* One axis of the convolution: stride, dilation and the padding before
   the first input (the padding after it follows from the output size). */
typedef struct {
    int st, dil, pad;
} axis_geom;

/* Input coordinate i that filter tap f reads for output o; 0 if none.
   Forward: i = o*st - pad + f*dil. Backward data (o an input coordinate of
   the forward conv): i = (o + pad - f*dil) / st where exact. */
static int tap_coord(int backward, int o, int f, axis_geom ax, int *i)
{
    const int st = ax.st;
    if (!backward) {
        *i = o * st - ax.pad + f * ax.dil;
        return 1;
    }
    int num = o + ax.pad - f * ax.dil;
    if (num % st) return 0;
    *i = num / st;
    return 1;
}

/* Taps of output o whose input lies in [lo, hi), i shifted to start at lo.
   Backward data runs the rotated filter (index u = F-1-f), so that i
   ascends with the tap index in both passes and neighbouring taps merge. */
static int taps_at(int backward, int o, int F, axis_geom ax, int lo, int hi, tap1d *out)
{
    int n = 0;
    for (int u = 0; u < F; u++) {
        int i;
        if (tap_coord(backward, o, backward ? F - 1 - u : u, ax, &i) && i >= lo && i < hi)
            out[n++] = (tap1d){ u, i - lo };
    }
    return n;
}

/* [lo, hi): every input coordinate a tap of outputs [0, O) reads, and [0, I) */
static void axis_reach(int backward, int O, int I, int F, axis_geom ax, int *lo, int *hi)
{
    *lo = 0;
    *hi = I;
    for (int o = 0; o < O; o++)
        for (int f = 0; f < F; f++) {
            int i;
            if (!tap_coord(backward, o, f, ax, &i)) continue;
            if (i < *lo) *lo = i;
            if (i >= *hi) *hi = i + 1;
        }
}

static void axis_free(axis *a)
{
    free(a->run);
    free(a->tap);
}

/* Group outputs [0, O) into runs, taps reading inputs in [lo, hi). */
static int axis_make(axis *a, int backward, int O, int F, axis_geom ax, int lo, int hi)
{
    a->ostep = backward ? ax.st : 1;
    a->istep = backward ? 1 : ax.st;
    a->nrun = 0;
    a->run = malloc(sizeof *a->run * (size_t)O);
    a->tap = malloc(sizeof *a->tap * (size_t)O * (size_t)F + 1);
    tap1d *cur = malloc(sizeof *cur * (size_t)F);
    if (!a->run || !a->tap || !cur) {
        free(cur);
        return -1;
    }
    int ntap_total = 0;
    for (int cls = 0; cls < a->ostep && cls < O; cls++) {
        run1d *r = NULL;
        for (int o = cls; o < O; o += a->ostep) {
            int n = taps_at(backward, o, F, ax, lo, hi, cur);
            int same = r && n == r->ntap;
            for (int t = 0; same && t < n; t++) {
                const tap1d *p = &a->tap[r->t0 + t];
                same = p->f == cur[t].f && p->i + r->n * a->istep == cur[t].i;
            }
            if (same) {
                r->n++;
                continue;
            }
            r = &a->run[a->nrun++];
            *r = (run1d){ o, 1, ntap_total, n };
            memcpy(a->tap + ntap_total, cur, sizeof *cur * (size_t)n);
            ntap_total += n;
        }
    }
    free(cur);
    return 0;
}

/* wreg >= 0: the region's WREG_L steps run on the short-reduction
   kernel, their a offsets and b rows at step[wreg ..] */
typedef struct {
    int rrun, crun, seg0, nseg, wreg;
} region;
/* nb pixels of a region; their offsets start at aoff/doff[first] */
typedef struct {
    int region, nb;
    size_t first;
} task;

/* One forward-shaped problem per image: in (hi x wi x ci) -> out (ho x wo x co)
   with an R x S filter repacked as [co block][R][S][ci][width]. The input is
   read either in place or from a zero-padded copy (top/left border), which
   turns every edge region into interior where images are small. */
typedef struct {
    int backward;
    int n, hi, wi, ci, ho, wo, co, r, s;
    int top, left, hp, wp; /* padded copy: borders and size; hp = 0: in place */
    float *pad;            /* [n][hp][wp][ci], borders zero */
    axis rows, cols;
    region *reg;
    int nreg;
    seg *seg;
    task *task;
    int ntask;
    ptrdiff_t *aoff, *doff; /* per pixel of every task: input and output offsets */
    ptrdiff_t *step;        /* step tables of the short-reduction regions */
    int nwreg;              /* how many regions those are */
    int prefetch_out;       /* reductions too short to hide the output's misses */
    int bcast_mem;          /* the blocked kernel's FMAs broadcast from memory */
    double cost;            /* sum over tasks of taps x pixels, counting
                                   blocks under j/2 pixels (latency-bound) as j/2 */
    int j;                  /* pixels per block */
    int dot;                /* narrow output: dot kernel, one channel per block */
    chblk cb;
    int threads;  /* team size of a pass */
    size_t wsize; /* floats of one repacked filter */
    float *wrep;  /* [threads][wsize]: each thread's repacked filter */
} engine;

static void engine_free(engine *e)
{
    axis_free(&e->rows);
    axis_free(&e->cols);
    free(e->reg);
    free(e->seg);
    free(e->task);
    free(e->aoff);
    free(e->doff);
    free(e->step);
    free(e->pad);
    free(e->wrep);
}

/* Reduction steps of the pixels in row run rr and column run rc: taps x ci */
static int region_steps(const engine *e, const run1d *rr, const run1d *rc)
{
    return rr->ntap * rc->ntap * e->ci;
}

/* Regions, segments and tasks; `padded` reads taps from the padded copy. */
static int engine_build(engine *e, const simd_isa *d, int backward, const conv_shape *s, int P,
                        int Q, int padded)
{
    if (!backward)
        *e = (engine){ .hi = s->h, .wi = s->w, .ci = s->c, .ho = P, .wo = Q, .co = s->k };
    else
        *e = (engine){ .hi = P, .wi = Q, .ci = s->k, .ho = s->h, .wo = s->w, .co = s->c };
    e->backward = backward;
    e->n = s->n;
    e->r = s->r;
    e->s = s->s;
    const conv_geom cg = conv_geometry(s);
    const axis_geom ay = { cg.sh, cg.dh, cg.pt }, ax = { cg.sw, cg.dw, cg.pl };
    int rlo = 0, rhi = e->hi, clo = 0, chi = e->wi;
    if (padded) {
        axis_reach(backward, e->ho, e->hi, s->r, ay, &rlo, &rhi);
        axis_reach(backward, e->wo, e->wi, s->s, ax, &clo, &chi);
        e->top = -rlo;
        e->left = -clo;
        e->hp = rhi - rlo;
        e->wp = chi - clo;
    }
    if (axis_make(&e->rows, backward, e->ho, s->r, ay, rlo, rhi) ||
        axis_make(&e->cols, backward, e->wo, s->s, ax, clo, chi))
        return -1;
    const ptrdiff_t rowlen = padded ? e->wp : e->wi;
    e->dot = d->dot && e->co * 4 <= d->vlen;
    const int short_red = !e->dot && (long)s->r * s->s * e->ci == WREG_L;
    if (e->dot) {
        e->cb = chblk_make(e->co, 1, 1);
        e->j = DOT_J;
    } else {
        e->cb = chblk_make(e->co, d->vlen, short_red && d->wvec ? d->wvec : d->vmax);
        e->j = isa_jmax(d, sub_vecs(d, chblk_vecs(&e->cb, 0)));
    }
    /* regions of WREG_L steps run on the short-reduction kernels, in tasks
       of WREG_TASK pixels, where every channel block has one */
    const int wreg_ok = !e->dot && d->wreg[chblk_vecs(&e->cb, 0) - 1] &&
                        d->wreg[chblk_vecs(&e->cb, e->cb.nblk - 1) - 1];
    e->nreg = e->rows.nrun * e->cols.nrun;
    e->reg = malloc(sizeof *e->reg * (size_t)e->nreg);
    size_t nseg = 0, ntask = 0, nwreg = 0;
    for (int a = 0; a < e->rows.nrun; a++)
        for (int b = 0; b < e->cols.nrun; b++) {
            const run1d *rr = &e->rows.run[a], *rc = &e->cols.run[b];
            const int wreg = wreg_ok && region_steps(e, rr, rc) == WREG_L;
            const int jr = wreg ? WREG_TASK : e->j;
            nseg += (size_t)rr->ntap * rc->ntap;
            ntask += ((size_t)e->n * rr->n * rc->n + jr - 1) / jr;
            nwreg += wreg;
        }
    const size_t npix_all = (size_t)e->n * e->ho * e->wo;
    e->seg = malloc(sizeof *e->seg * nseg + 1);
    e->task = malloc(sizeof *e->task * ntask + 1);
    e->aoff = malloc(sizeof *e->aoff * npix_all);
    e->doff = malloc(sizeof *e->doff * npix_all);
    e->step = malloc(sizeof *e->step * 2 * WREG_L * nwreg + 1);
    if (!e->reg || !e->seg || !e->task || !e->aoff || !e->doff || !e->step) return -1;
    nwreg = 0;
    const ptrdiff_t in_img = (padded ? (ptrdiff_t)e->hp : e->hi) * rowlen * e->ci;
    const ptrdiff_t out_img = (ptrdiff_t)e->ho * e->wo * e->co;
    size_t pix = 0;
    nseg = 0;
    e->ntask = 0;
    for (int a = 0; a < e->rows.nrun; a++)
        for (int b = 0; b < e->cols.nrun; b++) {
            const run1d *rr = &e->rows.run[a], *rc = &e->cols.run[b];
            const tap1d *tr = &e->rows.tap[rr->t0], *tc = &e->cols.tap[rc->t0];
            int id = a * e->cols.nrun + b, seg0 = (int)nseg;
            for (int t = 0; t < rr->ntap; t++)
                for (int u = 0; u < rc->ntap;) {
                    /* column taps adjacent in both filter and input: one segment */
                    int g = 1;
                    while (u + g < rc->ntap && tc[u + g].f == tc[u].f + g &&
                           tc[u + g].i == tc[u].i + g)
                        g++;
                    e->seg[nseg++] =
                        (seg){ (tr[t].i * rowlen + tc[u].i) * e->ci,
                               ((ptrdiff_t)tr[t].f * e->s + tc[u].f) * e->ci, g * e->ci };
                    u += g;
                }
            e->reg[id] = (region){ a, b, seg0, (int)nseg - seg0, -1 };
            if (wreg_ok && region_steps(e, rr, rc) == WREG_L) {
                ptrdiff_t *as = e->step + nwreg, *bs = as + WREG_L;
                e->reg[id].wreg = (int)nwreg;
                nwreg += 2 * WREG_L;
                e->nwreg++;
                for (int g = seg0, l = 0; g < (int)nseg; g++)
                    for (int i = 0; i < e->seg[g].len; i++, l++) {
                        as[l] = e->seg[g].a + i; /* the engine's a advances by 1 */
                        bs[l] = e->seg[g].b + i; /* in rows of the filter's width */
                    }
            }
            const int jr = e->reg[id].wreg >= 0 ? WREG_TASK : e->j;
            /* the region's pixels in every image, in balanced blocks: ceil(npix / jr)
               of them, sizes differing by <= 1; blocks span images, so small
               regions (edges of small images) still fill the registers */
            int npix = e->n * rr->n * rc->n, nblk = (npix + jr - 1) / jr;
            for (int k = 0; k < nblk; k++) {
                int nb = npix / nblk + (k < npix % nblk);
                e->task[e->ntask++] = (task){ id, nb, pix };
                pix += nb;
                e->cost += (double)rr->ntap * rc->ntap * (nb > e->j / 2 ? nb : e->j / 2);
            }
            /* offsets made here, not per pass: at C = 1 they cost as much as the FMAs */
            size_t at = pix - (size_t)npix;
            for (int img = 0; img < e->n; img++)
                for (int pa = 0; pa < rr->n; pa++)
                    for (int pb = 0; pb < rc->n; pb++, at++) {
                        e->aoff[at] = img * in_img + ((ptrdiff_t)pa * e->rows.istep * rowlen +
                                                      (ptrdiff_t)pb * e->cols.istep) *
                                                         e->ci;
                        e->doff[at] =
                            img * out_img + ((ptrdiff_t)(rr->o0 + pa * e->rows.ostep) * e->wo +
                                             rc->o0 + pb * e->cols.ostep) *
                                                e->co;
                    }
        }
    return 0;
}

/* Reads in place unless a padded copy is estimated over 10% cheaper: its
   taps over the zero border are wasted work, but it has fewer, fuller blocks
   where edge regions are most of the pixels (small batches of small images). */
static int engine_make(engine *e, const simd_isa *d, int backward, const conv_shape *s, int P,
                       int Q)
{
    engine alt;
    memset(&alt, 0, sizeof alt);
    if (engine_build(e, d, backward, s, P, Q, 0) || engine_build(&alt, d, backward, s, P, Q, 1)) {
        engine_free(&alt);
        return -1;
    }
    /* a pixel's reduction of at most 64 steps (conv1: 9) ends before the
       misses of its output rows would: the kernel fetches them first
       (conv1 forward +17-20%; on long reductions -1%) */
    e->prefetch_out = alt.prefetch_out = (long long)s->r * s->s * e->ci <= 64;
    e->bcast_mem = alt.bcast_mem = d->isa == ISA_AVX512 && cpu_avx512_halves();
    if (e->cost <= alt.cost * 1.1) {
        engine_free(&alt);
        return 0;
    }
    engine_free(e);
    *e = alt;
    e->pad = cpu_alloc(sizeof(float) * s->n * e->hp * e->wp * e->ci);
    return e->pad ? 0 : -1;
}

/* Run task t: out = conv(in) + bias (max(0, .) with relu) for the task's pixels. */
static void engine_task(const engine *e, const simd_isa *d, const task *t, const float *in,
                        const float *wrep, const float *bias, int relu, float *out)
{
    const region *g = &e->reg[t->region];
    ukr_args args = {
        .a0 = in,
        .seg = e->seg + g->seg0,
        .nseg = g->nseg,
        .ainc = 1,
        .aoff = e->aoff + t->first,
        .doff = e->doff + t->first,
        .relu = relu,
        .prefetch_out = e->prefetch_out,
        .bcast_mem = e->bcast_mem,
    };
    const size_t wblk = (size_t)e->r * e->s * e->ci * e->cb.full;
    for (int kb = 0; kb < e->cb.nblk; kb++) {
        int width = chblk_width(&e->cb, kb);
        args.b0 = wrep + kb * wblk;
        args.bscale = args.binc = width;
        args.d0 = out + (ptrdiff_t)kb * e->cb.full;
        args.bias = bias ? bias + (ptrdiff_t)kb * e->cb.full : NULL;
        args.tail = chblk_tail(&e->cb, kb);
        if (e->dot)
            d->dot(t->nb, &args);
        else if (g->wreg >= 0) {
            args.astep = e->step + g->wreg;
            args.bstep = args.astep + WREG_L;
            d->wreg[chblk_vecs(&e->cb, kb) - 1](t->nb, &args);
        } else /* in sub-blocks the blocked kernel has (the filter rows stay width wide) */
            for (int v0 = 0, nv = chblk_vecs(&e->cb, kb); v0 < nv; v0 += d->vmax) {
                const int sv = sub_vecs(d, nv - v0);
                ukr_args sub = args;
                sub.b0 += v0 * d->vlen;
                sub.d0 += v0 * d->vlen;
                if (sub.bias) sub.bias += v0 * d->vlen;
                if (v0 + sv < nv) sub.tail = d->vlen;
                d->ukr[sv - 1][t->nb - 1](&sub);
            }
    }
}

/* Copy images in[n][h][w][c] into the interior of out[n][hp][wp][c] at
   (top, left); the borders are never written, so they stay zero. Called
   inside a parallel region. */
static void pad_copy(const float *in, int n, int h, int w, int c, float *out, int hp, int wp,
                     int top, int left)
{
    const size_t rowlen = sizeof(float) * w * c;
#pragma omp for collapse(2) schedule(static)
    for (int i = 0; i < n; i++)
        for (int y = 0; y < h; y++)
            memcpy(out + (((size_t)i * hp + y + top) * wp + left) * c,
                   in + ((size_t)i * h + y) * w * c, rowlen);
}

/* w[r][s][ci][co] (ci, co strides given, one of them 1: co for the
   forward, ci for backward data, which reads w C/K-swapped) ->
   [co block][r][s][ci][width], zero-padded; backward data takes the filter
   rotated by 180 degrees. */
static void repack(const engine *e, const float *w, ptrdiff_t ci_stride, ptrdiff_t co_stride,
                   float *out)
{
    const int rs = e->r * e->s, ci = e->ci;
    const size_t wblk = (size_t)rs * ci * e->cb.full;
    for (int kb = 0; kb < e->cb.nblk; kb++)
        for (int t = 0; t < rs; t++) {
            int width = chblk_width(&e->cb, kb), k0 = kb * e->cb.full;
            int nk = e->co - k0 < width ? e->co - k0 : width;
            float *o = out + kb * wblk + (size_t)t * ci * width;
            const float *src = w + (ptrdiff_t)(e->backward ? rs - 1 - t : t) * ci * e->co;
            if (co_stride == 1)
                for (int c = 0; c < ci; c++, o += width) {
                    for (int k = 0; k < nk; k++) o[k] = src[c * ci_stride + k0 + k];
                    for (int k = nk; k < width; k++) o[k] = 0.0f;
                }
            else { /* ci_stride is 1: a transpose, then the zero padding */
                transpose_floats(src + (ptrdiff_t)k0 * co_stride, co_stride, nk, ci, o, width);
                for (int c = 0; c < ci; c++, o += width)
                    for (int k = nk; k < width; k++) o[k] = 0.0f;
            }
        }
}

/* A whole pass: pad the input if planned, repack the filter, run the tasks;
   one parallel region, so small layers pay one fork. */
static void engine_run(const engine *e, const simd_isa *d, const float *in, const float *w,
                       ptrdiff_t ci_stride, ptrdiff_t co_stride, const float *bias, int relu,
                       float *out)
{
    const float *src = e->pad ? e->pad : in;
    /* one block of exactly the filter's width: the repacked filter would be
       a copy of w ([tap][ci][co]), so the kernel reads w itself, if w starts
       on a cache line (each vector of a misaligned w spans two lines: the
       seed's conv2 forward ran 5% slower on a 16-byte aligned w than on its
       aligned copy, which costs 0.5%) */
    const int as_is = !e->backward && co_stride == 1 && e->cb.nblk == 1 &&
                      chblk_width(&e->cb, 0) == e->co && (uintptr_t)w % 64 == 0;
#pragma omp parallel num_threads(e->threads)
    {
        if (e->pad) pad_copy(in, e->n, e->hi, e->wi, e->ci, e->pad, e->hp, e->wp, e->top, e->left);
        /* each thread repacks its own copy of the filter: no barrier before
           the tasks, and no line of a shared copy moves between caches when
           the next pass rewrites it (conv3 backward_data at 2 threads spent
           a tenth of its samples in the shared repack and a sixth waiting
           at barriers; +23% without them) */
        const float *wk = w;
        if (!as_is) {
            float *mine = e->wrep + (size_t)omp_get_thread_num() * e->wsize;
            repack(e, w, ci_stride, co_stride, mine);
            wk = mine;
        }
#pragma omp for schedule(static)
        for (int t = 0; t < e->ntask; t++) engine_task(e, d, &e->task[t], src, wk, bias, relu, out);
    }
}

/* Room for each thread's repacked filter, wsize floats. */
static int engine_alloc_wrep(engine *e, int threads, size_t wsize)
{
    e->threads = threads;
    e->wsize = wsize;
    e->wrep = cpu_alloc(sizeof(float) * wsize * threads);
    return e->wrep ? 0 : -1;
}

/* ---- the plan ------------------------------------------------------------ */

struct conv_plan {
    conv_shape s;
    int p, q, threads;
    const simd_isa *d; /* the kernels of the ISA chosen at plan time */
    engine fwd, bwd;
    /* backward_weights */
    chblk kb;
    int jw;              /* dW rows per block */
    conv_geom geo;       /* strides, dilations, padding per side */
    int padx;            /* any padding: x is read from xpad */
    int hp, wp;          /* padded input */
    float *xpad;         /* zero-padded x (padx), borders stay zero */
    ptrdiff_t *roff;     /* [R*S*C] offset of dW row (r,s,c) from a pixel */
    seg *rowseg;         /* [N*P] output row (n,p): x and dy offsets */
    int chunk;           /* output rows per accumulation chunk */
    int split_rows;      /* threads split dW's rows, not the output rows */
    int kp;              /* padded K of a partial dW row */
    float *part, *partb; /* pixel split: [threads][R*S*C][kp], [threads][kp] */
    char impl[3][96];
    dw_plan *dw; /* depthwise shapes: depthwise.c runs every pass */
};

static const char *simd_unsupported(const conv_shape *s)
{
    const char *why = conv_shape_invalid(s);
    if (why || dw_is_depthwise(s)) return why;
    const conv_geom g = conv_geometry(s);
    if (g.g > 1) return "groups > 1 other than depthwise (groups = c) not supported";
    /* the engine reads a zero-padded copy of x; padding and a stride that
       make it outgrow x and the im2col matrix together are refused */
    const double padded = (double)s->n * (s->h + g.pt + g.pb) * (s->w + g.pl + g.pr) * s->c;
    const double x = (double)s->n * s->h * s->w * s->c;
    const double col = (double)s->n * conv_out_h(s) * conv_out_w(s) * s->r * s->s * s->c;
    if (padded > 4 * (x + col))
        return "padding and stride whose zero-padded copy of x outgrows x and the im2col matrix "
               "together (4x) not supported";
    return NULL;
}

static void simd_destroy(conv_plan *pl)
{
    if (!pl) return;
    dw_plan_free(pl->dw);
    engine_free(&pl->fwd);
    engine_free(&pl->bwd);
    free(pl->xpad);
    free(pl->roff);
    free(pl->rowseg);
    free(pl->part);
    free(pl->partb);
    free(pl);
}

/* The pixels a block an engine's description gives: its short-reduction
   kernel's where it has one (a first layer's regions all have 9 taps, or
   most of them), else the blocked kernel's. */
static int impl_j(const engine *e, const simd_isa *d)
{
    return e->nwreg ? d->wj[chblk_vecs(&e->cb, 0) - 1] : e->j;
}

static conv_plan *simd_plan(const conv_shape *s)
{
    if (simd_unsupported(s)) return NULL;
    conv_plan *pl = calloc(1, sizeof *pl);
    if (!pl) return NULL;
    pl->s = *s;
    pl->p = conv_out_h(s);
    pl->q = conv_out_w(s);
    pl->threads = omp_get_max_threads();
    pl->d = simd_isa_for(cpu_isa_active());
    if (dw_is_depthwise(s)) {
        if (!(pl->dw = dw_plan_make(s, pl->threads, cpu_isa_active()))) goto fail;
        return pl;
    }
    const simd_isa *d = pl->d;
    if (engine_make(&pl->fwd, d, 0, s, pl->p, pl->q) ||
        engine_make(&pl->bwd, d, 1, s, pl->p, pl->q))
        goto fail;
    const size_t rsc = (size_t)s->r * s->s * s->c;
    if (engine_alloc_wrep(&pl->fwd, pl->threads, rsc * pl->fwd.cb.full * pl->fwd.cb.nblk) ||
        engine_alloc_wrep(&pl->bwd, pl->threads,
                          (size_t)s->r * s->s * s->k * pl->bwd.cb.full * pl->bwd.cb.nblk))
        goto fail;

    pl->kb = chblk_make(s->k, d->vlen, d->vmax);
    pl->kp = (s->k + d->vlen - 1) / d->vlen * d->vlen;
    pl->jw = isa_jmax(d, chblk_vecs(&pl->kb, 0));
    pl->geo = conv_geometry(s);
    pl->padx = pl->geo.pt || pl->geo.pb || pl->geo.pl || pl->geo.pr;
    pl->hp = s->h + pl->geo.pt + pl->geo.pb;
    pl->wp = s->w + pl->geo.pl + pl->geo.pr;
    if (pl->padx && !(pl->xpad = cpu_alloc(sizeof(float) * s->n * pl->hp * pl->wp * s->c)))
        goto fail;
    pl->roff = malloc(sizeof *pl->roff * rsc);
    pl->rowseg = malloc(sizeof *pl->rowseg * (size_t)s->n * pl->p);
    /* threads split dW's rows where dW has at least as many rows as dy:
       seed conv3 (576 against 288) +9-13% at 2 threads, conv2 (288
       against 3872) 8% slower, conv1 three times slower */
    pl->split_rows = pl->threads > 1 && rsc >= (size_t)s->n * pl->p * pl->q;
    if (!pl->roff || !pl->rowseg) goto fail;
    if (pl->threads > 1 && !pl->split_rows) { /* the partial sums of the pixel split */
        pl->part = cpu_alloc(sizeof(float) * pl->threads * rsc * pl->kp);
        pl->partb = cpu_alloc(sizeof(float) * pl->threads * pl->kp);
        if (!pl->part || !pl->partb) goto fail;
    }
    for (int r = 0; r < s->r; r++)
        for (int t = 0; t < s->s; t++)
            for (int c = 0; c < s->c; c++)
                pl->roff[((size_t)r * s->s + t) * s->c + c] =
                    ((ptrdiff_t)r * pl->geo.dh * pl->wp + (ptrdiff_t)t * pl->geo.dw) * s->c + c;
    for (int n = 0; n < s->n; n++)
        for (int p = 0; p < pl->p; p++)
            pl->rowseg[(size_t)n * pl->p + p] =
                (seg){ (((ptrdiff_t)n * pl->hp + (ptrdiff_t)p * pl->geo.sh) * pl->wp) * s->c,
                       (((ptrdiff_t)n * pl->p + p) * pl->q) * s->k, pl->q };
    /* ~8K dy floats (32 KB) per chunk, read once per dW block: larger
       chunks load and store each block's accumulators less often, smaller
       ones keep dy and x in L1 (seed conv2 at 8K +4% over 4K, with its x
       rows spilling to L2; 12K -3%; conv1 at 16K -18%, its dbias sum
       rereading dy from L2) */
    int ch = 8192 / (pl->q * s->k);
    pl->chunk = ch < 1 ? 1 : ch;

    const char *isa = cpu_isa_name(d->isa);
    /* the blocked kernel's FMAs with {1to16} memory operands */
    const char *mb = pl->fwd.bcast_mem ? ", broadcasting FMAs" : "";
    snprintf(pl->impl[0], sizeof pl->impl[0], "%s %dx%d %s%s%s%s", isa, impl_j(&pl->fwd, d),
             chblk_width(&pl->fwd.cb, 0), pl->fwd.dot ? "dot" : "direct",
             pl->fwd.nwreg ? d->wvec ? ", filter from L1" : ", filter in registers" : "",
             pl->fwd.pad ? ", padded input" : "", pl->fwd.dot || pl->fwd.nwreg ? "" : mb);
    snprintf(pl->impl[1], sizeof pl->impl[1], "%s %dx%d %s, C/K-swapped filter%s%s%s", isa,
             impl_j(&pl->bwd, d), chblk_width(&pl->bwd.cb, 0), pl->bwd.dot ? "dot" : "direct",
             pl->bwd.nwreg ? d->wvec ? " from L1" : " in registers" : "",
             pl->bwd.pad ? ", padded dy" : "", pl->bwd.dot || pl->bwd.nwreg ? "" : mb);
    snprintf(pl->impl[2], sizeof pl->impl[2], "%s %dx%d direct, %s", isa, pl->jw,
             chblk_width(&pl->kb, 0),
             pl->split_rows ? "dW rows per thread" : "per-thread partial dW");
    return pl;
fail:
    simd_destroy(pl);
    return NULL;
}

static void simd_forward(conv_plan *pl, const float *x, const float *w, const float *bias, float *y)
{
    if (pl->dw) {
        dw_forward(pl->dw, x, w, bias, 0, y);
        return;
    }
    engine_run(&pl->fwd, pl->d, x, w, pl->s.k, 1, bias, 0, y);
}

static void simd_forward_relu(conv_plan *pl, const float *x, const float *w, const float *bias,
                              float *y)
{
    if (pl->dw) {
        dw_forward(pl->dw, x, w, bias, 1, y);
        return;
    }
    engine_run(&pl->fwd, pl->d, x, w, pl->s.k, 1, bias, 1, y);
}

static void simd_backward_data(conv_plan *pl, const float *dy, const float *w, float *dx)
{
    const conv_shape *s = &pl->s;
    if (pl->dw) {
        dw_backward_data(pl->dw, dy, w, dx);
        return;
    }
    /* the backward engine's ci is K and co is C: w[r][s][c][k] read with the
       roles swapped, so ci stride 1 and co stride K */
    engine_run(&pl->bwd, pl->d, dy, w, 1, s->k, NULL, 0, dx);
}

/* sum[k] += g[i][k] over n rows of K, 16 channels at a time in a local
   array the compiler keeps in one vector register, four rows added per
   step of its chain (adding into sum row by row loaded and stored it per
   row: conv1's backward_weights ran 40% slower; four partial-sum arrays
   went to the stack when this was not inlined: 17% slower) */
static void dbias_add(const float *g, size_t n, int K, float *sum)
{
    int k0 = 0;
    for (; k0 + 16 <= K; k0 += 16) {
        float acc[16];
        for (int l = 0; l < 16; l++) acc[l] = sum[k0 + l];
        size_t i = 0;
        for (; i + 4 <= n; i += 4) {
            const float *r = g + i * K + k0;
            for (int l = 0; l < 16; l++)
                acc[l] += (r[l] + r[K + l]) + (r[2 * K + l] + r[3 * K + l]);
        }
        for (; i < n; i++)
            for (int l = 0; l < 16; l++) acc[l] += g[i * K + k0 + l];
        for (int l = 0; l < 16; l++) sum[k0 + l] = acc[l];
    }
    for (size_t i = 0; i < n; i++)
        for (int k = k0; k < K; k++) sum[k] += g[i * K + k];
}

/* Sum x (x) dy over output rows [lo, hi) into dW rows [j0, j1) of out
   (rows ld floats apart) and, unless sumb is NULL, dy into sumb; a chunk
   of output rows at a time while the chunk's dy is in L1, in blocks of jw
   dW rows and a short last one (seed conv2: 41 x 7 + 1 ran 0.3-0.9%
   faster than 36 x 7 + 6 x 6). */
static void bwdw_part(const conv_plan *pl, int lo, int hi, int j0, int j1, const float *xs,
                      const float *dy, float *out, ptrdiff_t ld, float *sumb)
{
    const conv_shape *s = &pl->s;
    const simd_isa *d = pl->d;
    ptrdiff_t doff[JMAX];
    for (int j = 0; j < JMAX; j++) doff[j] = (ptrdiff_t)j * ld;
    if (sumb) memset(sumb, 0, sizeof(float) * s->k);
    if (lo == hi) {
        for (int j = j0; j < j1; j++) memset(out + (size_t)j * ld, 0, sizeof(float) * s->k);
        return;
    }
    const int m = j1 - j0, nb = (m + pl->jw - 1) / pl->jw;
    ukr_args args = {
        .a0 = xs,
        .bscale = 0,
        .ainc = (ptrdiff_t)pl->geo.sw * s->c,
        .binc = s->k,
        .doff = doff,
    };
    for (int r0 = lo; r0 < hi; r0 += pl->chunk) {
        args.seg = pl->rowseg + r0;
        args.nseg = hi - r0 < pl->chunk ? hi - r0 : pl->chunk;
        args.accumulate = r0 != lo;
        for (int b = 0; b < nb; b++) {
            int jb = j0 + b * pl->jw, nj = j1 - jb < pl->jw ? j1 - jb : pl->jw;
            args.aoff = pl->roff + jb;
            for (int kb = 0; kb < pl->kb.nblk; kb++) {
                int k0 = kb * pl->kb.full;
                args.b0 = dy + k0 + pl->rowseg[r0].b; /* rows of dy follow each other */
                args.d0 = out + (size_t)jb * ld + k0;
                args.tail = chblk_tail(&pl->kb, kb);
                d->ukr[chblk_vecs(&pl->kb, kb) - 1][nj - 1](&args);
            }
        }
        if (sumb) dbias_add(dy + (size_t)r0 * pl->q * s->k, (size_t)args.nseg * pl->q, s->k, sumb);
    }
}

static void simd_backward_weights(conv_plan *pl, const float *x, const float *dy, float *dw,
                                  float *dbias)
{
    const conv_shape *s = &pl->s;
    if (pl->dw) {
        dw_backward_weights(pl->dw, x, dy, dw, dbias);
        return;
    }
    const int T = pl->threads, rows = s->n * pl->p, rsc = s->r * s->s * s->c, kp = pl->kp;
    const float *xs = pl->padx ? pl->xpad : x;
    if (T == 1) {
        if (pl->padx)
            pad_copy(x, s->n, s->h, s->w, s->c, pl->xpad, pl->hp, pl->wp, pl->geo.pt, pl->geo.pl);
        bwdw_part(pl, 0, rows, 0, rsc, xs, dy, dw, s->k, dbias);
        return;
    }
#pragma omp parallel num_threads(T)
    {
        if (pl->padx)
            pad_copy(x, s->n, s->h, s->w, s->c, pl->xpad, pl->hp, pl->wp, pl->geo.pt, pl->geo.pl);
        const int me = omp_get_thread_num(), team = omp_get_num_threads();
        if (pl->split_rows) {
            /* each thread its own dW rows over all of x and dy: no partial
               sums to add up, for layers whose dW outweighs their dy */
            const int nb = (rsc + pl->jw - 1) / pl->jw;
            for (int t = me; t < T; t += team)
                bwdw_part(pl, 0, rows, pl->jw * (int)((long long)nb * t / T),
                          t == T - 1 ? rsc : pl->jw * (int)((long long)nb * (t + 1) / T), xs, dy,
                          dw, s->k, NULL);
            if (dbias && me == team - 1) {
                memset(dbias, 0, sizeof(float) * s->k);
                dbias_add(dy, (size_t)rows * pl->q, s->k, dbias);
            }
        } else {
            /* shares are fixed by the plan's thread count, whatever team we get */
            for (int t = me; t < T; t += team)
                bwdw_part(pl, (int)((long long)rows * t / T), (int)((long long)rows * (t + 1) / T),
                          0, rsc, xs, dy, pl->part + (size_t)t * rsc * kp, kp,
                          dbias ? pl->partb + (size_t)t * kp : NULL);
#pragma omp barrier
#pragma omp for schedule(static)
            for (int row = 0; row < rsc; row++) {
                float *o = dw + (size_t)row * s->k;
                const float *p = pl->part + (size_t)row * kp;
                for (int k = 0; k < s->k; k++) o[k] = p[k];
                for (int t = 1; t < T; t++) {
                    p += (size_t)rsc * kp;
                    for (int k = 0; k < s->k; k++) o[k] += p[k];
                }
            }
        }
    }
    if (dbias && !pl->split_rows) {
        for (int k = 0; k < s->k; k++) dbias[k] = pl->partb[k];
        for (int t = 1; t < T; t++)
            for (int k = 0; k < s->k; k++) dbias[k] += pl->partb[(size_t)t * kp + k];
    }
}

static const char *simd_impl(const conv_plan *pl, conv_pass pass)
{
    if (pl->dw) return dw_impl(pl->dw, pass);
    return pl->impl[pass == CONV_FORWARD ? 0 : pass == CONV_BACKWARD_DATA ? 1 : 2];
}

const conv_backend conv_simd = {
    .name = "simd",
    .unsupported = simd_unsupported,
    .plan = simd_plan,
    .forward = simd_forward,
    .backward_data = simd_backward_data,
    .backward_weights = simd_backward_weights,
    .destroy = simd_destroy,
    .impl = simd_impl,
    .forward_relu = simd_forward_relu,
};
