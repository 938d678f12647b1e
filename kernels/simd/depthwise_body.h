/* The depthwise micro-kernels, compiled once per ISA: a depthwise_<isa>.c
   file sets its target with #pragma GCC target, defines DW_ISA (its
   cpu_isa) and DW_TABLE (the name of its dw_isa table) and includes this.
   Written with GCC's vector types one register wide (VW floats: a zmm, a
   ymm, or an xmm), so the one body below becomes each ISA's code; with
   -ffp-contract=fast a multiply-add is one FMA where the target has it.

   apply (forward, backward data): a run's pixels in groups of J, each
   group through every channel, nv channel vectors at a time: nv * J
   accumulators taking every tap, per tap and vector one filter vector
   (from L1) and J FMAs taking the input as their memory operand.
   Registers (DW_ACC accumulators beside the filter vector): AVX2, 16
   ymm: 4 pixels x 3 vectors, as oneDNN's AVX2 depthwise kernel blocks
   them; AVX-512, 32 zmm: 8 x 1; SSE without FMA: 4 x 1 and a product.
   A group of nj < J pixels (a run's last n % J, or a short run such as
   an edge column) takes more vectors at once, so it keeps about as many
   independent accumulators. Each pixel count is compiled on its own,
   and so are the tap counts of a 3x3 filter (9 inside, 6 on an edge, 4
   at a corner; 1-3 in strided backward data), the pixels' addresses in
   registers so that a tap costs one offset load.
   weights9 (backward weights, filters of <= 9 taps): per channel vector,
   one accumulator per tap and one for dbias through all the runs given,
   each run's taps a mask; per pixel one dy vector, then one input vector
   and one FMA per tap. weights (larger filters): the same per run, in
   groups of DW_GW pixels and sweeps of DW_TW taps.
   A channel tail (fewer than VW channels left) loads and stores its valid
   lanes only, through a vector in memory. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "depthwise.h"
#include "vec_width.h"

#define VW VEC_FLOATS
typedef float vf __attribute__((vector_size(VW * sizeof(float))));
typedef int32_t vi __attribute__((vector_size(VW * sizeof(int32_t))));
/* an unaligned vector in memory */
typedef float vfu __attribute__((vector_size(VW * sizeof(float)), aligned(4), may_alias));

/* pixels a group, accumulators a group (nj pixels take DW_ACC / nj
   channel vectors at once, at most DW_NV), see the top */
#if VW == 16
#define DW_J   8
#define DW_ACC 8
#define DW_NV  8
#elif VW == 8
#define DW_J   4
#define DW_ACC 12
#define DW_NV  6
#else
#define DW_J   4
#define DW_ACC 4
#define DW_NV  4
#endif
/* taps a sweep of the generic weights kernel */
#define DW_TW 8
/* pixels of a run that the weights kernel takes through every channel
   before the next */
#define DW_GW 8

#define AI static inline __attribute__((always_inline))

AI vf ld(const float *p, const int full, int nl)
{
    if (full) return *(const vfu *)p;
    vf v = { 0 };
    memcpy(&v, p, sizeof(float) * (size_t)nl);
    return v;
}

AI void st(float *p, vf v, const int full, int nl)
{
    if (full)
        *(vfu *)p = v;
    else
        memcpy(p, &v, sizeof(float) * (size_t)nl);
}

/* nv channel vectors from c of nj (<= DW_J) pixels at xq, yq: per tap
   and vector one filter vector (an L1 load) for nj FMAs taking the input
   as their memory operand. nv * nj <= DW_ACC, so that short runs still
   keep several independent accumulators in flight. NT taps (0:
   a->ntap) in rows of nc; L: pixel 0 skips each row's first tap, R:
   pixel nj - 1 skips each row's last (an image edge inside the group). */
AI void apply_vec(const dw_args *a, const float *xq, float *yq, int c, const int nj, const int nv,
                  const int NT, const int full, int nl, const int nc, const int L, const int R)
{
    const int nt = NT ? NT : a->ntap;
    const float *xj[DW_J];
#pragma GCC unroll 8
    for (int j = 0; j < nj; j++) xj[j] = xq + j * a->xstep + c;
    vf acc[DW_ACC];
#pragma GCC unroll 8
    for (int v = 0; v < nv; v++) {
        const vf b0 = a->bias ? ld(a->bias + c + v * VW, full, nl) : (vf){ 0 };
#pragma GCC unroll 8
        for (int j = 0; j < nj; j++) acc[v * nj + j] = b0;
    }
#pragma GCC unroll 9
    for (int t = 0; t < nt; t++) {
        const float *wp = a->w + a->woff[t] + c;
        const ptrdiff_t xo = a->xoff[t];
        const int first = (L || R) && t % nc == 0, last = (L || R) && t % nc == nc - 1;
#pragma GCC unroll 8
        for (int v = 0; v < nv; v++) {
            const vf w = ld(wp + v * VW, full, nl);
#pragma GCC unroll 8
            for (int j = 0; j < nj; j++) {
                if ((L && j == 0 && first) || (R && j == nj - 1 && last)) continue;
                acc[v * nj + j] += ld(xj[j] + xo + v * VW, full, nl) * w;
            }
        }
    }
#pragma GCC unroll 8
    for (int v = 0; v < nv; v++)
#pragma GCC unroll 8
        for (int j = 0; j < nj; j++) {
            vf o = acc[v * nj + j];
            if (a->relu) o = (vf)((vi)o & ~(vi)(o < 0)); /* NaN passes */
            st(yq + j * a->ystep + c + v * VW, o, full, nl);
        }
}

/* nj pixels from pixel q of the run, every channel, DW_ACC / nj vectors
   at a time (then half as many, then one): the pixels' input rows are
   read once, front to back, while in L1 */
AI void apply_group(const dw_args *a, int q, const int nj, const int NT, const int nc, const int L,
                    const int R)
{
    const int whole = a->k / VW * VW;
    const int nv = DW_ACC / nj < DW_NV ? DW_ACC / nj : DW_NV, nv2 = nv / 2;
    const float *xq = a->x + q * a->xstep;
    float *yq = a->y + q * a->ystep;
    int c = 0;
    for (; c + nv * VW <= whole; c += nv * VW) apply_vec(a, xq, yq, c, nj, nv, NT, 1, VW, nc, L, R);
    if (nv2 > 1)
        for (; c + nv2 * VW <= whole; c += nv2 * VW)
            apply_vec(a, xq, yq, c, nj, nv2, NT, 1, VW, nc, L, R);
    for (; c < whole; c += VW) apply_vec(a, xq, yq, c, nj, 1, NT, 1, VW, nc, L, R);
    if (whole < a->k) apply_vec(a, xq, yq, whole, nj, 1, NT, 0, a->k - whole, nc, L, R);
}

/* a group of nj <= DW_J pixels: each count compiled on its own */
AI void apply_n(const dw_args *a, int q, int nj, const int NT, const int nc, const int L,
                const int R)
{
    switch (nj) {
    case 1: apply_group(a, q, 1, NT, nc, L, R); break;
    case 2: apply_group(a, q, 2, NT, nc, L, R); break;
    case 3: apply_group(a, q, 3, NT, nc, L, R); break;
    case 4: apply_group(a, q, 4, NT, nc, L, R); break;
#if DW_J > 4
    case 5: apply_group(a, q, 5, NT, nc, L, R); break;
    case 6: apply_group(a, q, 6, NT, nc, L, R); break;
    case 7: apply_group(a, q, 7, NT, nc, L, R); break;
    case 8: apply_group(a, q, 8, NT, nc, L, R); break;
#endif
    default: break;
    }
}

/* A run in groups of DW_J pixels, the last one n % DW_J (or DW_J). With
   E, an edge pixel (a->edge) rides in the first or last group, skipping
   its missing taps, rather than running alone as a one-pixel group that
   sweeps every channel for a few FMAs; only those two groups are
   compiled per edge, the groups between them once. A run of at most DW_J
   pixels, edges included, is a single group skipping both. */
AI void apply_body(const dw_args *a, const int NT, const int nc, const int E)
{
    const int n = a->n, el = E && a->edge & 1, er = E && a->edge & 2;
    int q = 0;
    if (el && n <= DW_J) { /* the run and its edges in one group */
        if (er)
            apply_n(a, 0, n, NT, nc, 1, 1);
        else
            apply_n(a, 0, n, NT, nc, 1, 0);
        return;
    }
    if (el) {
        apply_group(a, 0, DW_J, NT, nc, 1, 0);
        q = DW_J;
    }
    const int tail = (n - q) % DW_J ? (n - q) % DW_J : DW_J, end = n - tail;
    for (; q < end; q += DW_J) apply_group(a, q, DW_J, NT, nc, 0, 0);
    if (er)
        apply_n(a, end, tail, NT, nc, 0, 1);
    else
        apply_n(a, end, tail, NT, nc, 0, 0);
}

/* Each tap count of a 3x3 filter compiled on its own (9 inside, 6 on an
   edge row, 4 at a corner; strided backward data gives the others), so
   the tap loop unrolls. Edge pixels join a run only where its taps are
   rows of 3, at most 3 rows (dw_args.edge): 3, 6 and 9 taps. */
static void apply_1(const dw_args *a) { apply_body(a, 1, 1, 0); }
static void apply_2(const dw_args *a) { apply_body(a, 2, 1, 0); }
static void apply_3(const dw_args *a) { apply_body(a, 3, 3, 1); }
static void apply_4(const dw_args *a) { apply_body(a, 4, 1, 0); }
static void apply_6(const dw_args *a) { apply_body(a, 6, 3, 1); }
static void apply_9(const dw_args *a) { apply_body(a, 9, 3, 1); }
static void apply_any(const dw_args *a) { apply_body(a, 0, 1, 0); }

static void dw_apply(const dw_args *a)
{
    switch (a->ntap) {
    case 1: apply_1(a); break;
    case 2: apply_2(a); break;
    case 3: apply_3(a); break;
    case 4: apply_4(a); break;
    case 6: apply_6(a); break;
    case 9: apply_9(a); break;
    default: apply_any(a); break;
    }
}

/* Channel vector [c, c + VW) of pixels [i0, i1) of a run, taps [t0, t0 +
   NT) (all of them, or those below a->ntap): the partial dW's vectors
   (whole: padded to them) are loaded, take every pixel's FMAs, and are
   stored back; dbias too if asked */
AI void weights_vec(const dw_args *a, int i0, int i1, int c, int t0, const int NT, const int all,
                    const int full, int nl, int with_bias)
{
    vf acc[9], bacc = { 0 };
    float *const pw = (float *)a->w + c;
#pragma GCC unroll 9
    for (int t = 0; t < NT; t++)
        acc[t] = all || t0 + t < a->ntap ? ld(pw + a->woff[t0 + t], 1, VW) : (vf){ 0 };
    if (with_bias) bacc = *(const vfu *)(a->dbias + c);
    for (int i = i0; i < i1; i++) {
        const vf g = ld(a->dy + i * a->ystep + c, full, nl);
        if (with_bias) bacc += g;
        const float *xi = a->x + i * a->xstep + c;
#pragma GCC unroll 9
        for (int t = 0; t < NT; t++)
            if (all || t0 + t < a->ntap) acc[t] += ld(xi + a->xoff[t0 + t], full, nl) * g;
    }
#pragma GCC unroll 9
    for (int t = 0; t < NT; t++)
        if (all || t0 + t < a->ntap) *(vfu *)(pw + a->woff[t0 + t]) = acc[t];
    if (with_bias) *(vfu *)(a->dbias + c) = bacc;
}

/* every channel of pixels [i0, i1) */
AI void weights_pixels(const dw_args *a, int i0, int i1, int t0, const int NT, const int all,
                       int with_bias)
{
    const int whole = a->k / VW * VW;
    for (int c = 0; c < whole; c += VW) weights_vec(a, i0, i1, c, t0, NT, all, 1, VW, with_bias);
    if (whole < a->k) weights_vec(a, i0, i1, whole, t0, NT, all, 0, a->k - whole, with_bias);
}

/* A run in groups of DW_GW pixels, each group through every channel, so
   that the pixels' rows are read front to back while in L1; the partial
   dW's vectors are loaded and stored once per group and vector. */
AI void weights_body(const dw_args *a, const int NT9)
{
    for (int i0 = 0; i0 < a->n; i0 += DW_GW) {
        const int i1 = a->n - i0 < DW_GW ? a->n : i0 + DW_GW;
        if (NT9) {
            weights_pixels(a, i0, i1, 0, 9, 1, a->dbias != NULL);
            continue;
        }
        int t0 = 0;
        do {
            weights_pixels(a, i0, i1, t0, DW_TW, 0, t0 == 0 && a->dbias);
            t0 += DW_TW;
        } while (t0 < a->ntap);
    }
}

/* pixel i of a weights9 run: one dy vector, then one input vector and
   one FMA per tap of m */
AI void w9_pix(const dw_args *a, const float *const *xp, const float *gs, int i, int ib,
               const unsigned m, vf *acc, vf *bacc, const int full, int nl)
{
    const vf g = ld(gs + i * a->ystep, full, nl);
    *bacc += g;
    const ptrdiff_t o = (i - ib) * a->xstep;
#pragma GCC unroll 9
    for (int t = 0; t < 9; t++)
        if (m >> t & 1) acc[t] += ld(xp[t] + o, full, nl) * g;
}

/* One run of a weights9 call, its taps M (a constant mask: 0 for the
   run's own, tested per tap): the taps' input pointers set once, the
   pixels one by one; an edge pixel riding in the run (3x3 filters)
   without its column of taps beyond the image */
AI void w9_seg(const dw_args *a, const dw_seg *sg, int c, const unsigned M, vf *acc, vf *bacc,
               const int full, int nl)
{
    const unsigned m = M ? M : sg->mask;
    const int ib = sg->edge & 1; /* the pointers at a pixel that has every tap */
    const float *xp[9], *gs = sg->dy + c;
#pragma GCC unroll 9
    for (int t = 0; t < 9; t++)
        xp[t] = m >> t & 1 ? sg->x + c + sg->xoff[t] + ib * a->xstep : sg->x;
    int i0 = 0, i1 = sg->n;
    if (ib) w9_pix(a, xp, gs, i0++, ib, m & ~0x49u, acc, bacc, full, nl);
    if (sg->edge & 2) i1--;
    for (int i = i0; i < i1; i++) w9_pix(a, xp, gs, i, ib, m, acc, bacc, full, nl);
    if (sg->edge & 2) w9_pix(a, xp, gs, i1, ib, m & ~0x124u, acc, bacc, full, nl);
}

/* weights9's channel vector [c, c + VW): a 3x3 filter's common tap sets
   (all 9; an edge row or column, 6; a corner, 4) compiled as constants,
   any other set tested per tap */
AI void w9_vec(const dw_args *a, int c, const int full, int nl)
{
    vf acc[9], bacc = { 0 };
    float *const pw = (float *)a->w + c;
#pragma GCC unroll 9
    for (int t = 0; t < 9; t++) acc[t] = t < a->ntap ? ld(pw + a->woff[t], 1, VW) : (vf){ 0 };
    if (a->dbias) bacc = ld(a->dbias + c, 1, VW);
    for (int si = 0; si < a->nseg; si++) {
        const dw_seg *sg = &a->seg[si];
        switch (sg->mask) {
        case 0x1ff: w9_seg(a, sg, c, 0x1ff, acc, &bacc, full, nl); break;
        case 0x1f8: w9_seg(a, sg, c, 0x1f8, acc, &bacc, full, nl); break;
        case 0x03f: w9_seg(a, sg, c, 0x03f, acc, &bacc, full, nl); break;
        case 0x1b6: w9_seg(a, sg, c, 0x1b6, acc, &bacc, full, nl); break;
        case 0x0db: w9_seg(a, sg, c, 0x0db, acc, &bacc, full, nl); break;
        case 0x1b0: w9_seg(a, sg, c, 0x1b0, acc, &bacc, full, nl); break;
        case 0x0d8: w9_seg(a, sg, c, 0x0d8, acc, &bacc, full, nl); break;
        case 0x036: w9_seg(a, sg, c, 0x036, acc, &bacc, full, nl); break;
        case 0x01b: w9_seg(a, sg, c, 0x01b, acc, &bacc, full, nl); break;
        default: w9_seg(a, sg, c, 0, acc, &bacc, full, nl); break;
        }
    }
#pragma GCC unroll 9
    for (int t = 0; t < 9; t++)
        if (t < a->ntap) *(vfu *)(pw + a->woff[t]) = acc[t];
    if (a->dbias) *(vfu *)(a->dbias + c) = bacc;
}

/* The accumulators of a 3x3 (or smaller) filter's taps stay in registers
   through all the runs of several rows, whatever taps each run has (the
   run's mask says), for one channel vector at a time: per-run calls
   loaded and stored them once per run, as often as they took FMAs on
   7x7 images. */
static void dw_weights9(const dw_args *a)
{
    const int whole = a->k / VW * VW;
    for (int c = 0; c < whole; c += VW) w9_vec(a, c, 1, VW);
    if (whole < a->k) w9_vec(a, whole, 0, a->k - whole);
}

static void weights_9(const dw_args *a) { weights_body(a, 1); }
static void weights_any(const dw_args *a) { weights_body(a, 0); }

static void dw_weights(const dw_args *a)
{
    if (a->ntap == 9)
        weights_9(a);
    else
        weights_any(a);
}

const dw_isa DW_TABLE = {
    .isa = DW_ISA, .vlen = VW, .apply = dw_apply, .weights = dw_weights, .weights9 = dw_weights9
};
