/* The depthwise micro-kernels, compiled once per ISA: a depthwise_<isa>.c
   file sets its target with #pragma GCC target, defines DW_ISA (its
   cpu_isa) and DW_TABLE (the name of its dw_isa table) and includes this.
   Written with GCC's vector types one register wide (VW floats: a zmm, a
   ymm, or an xmm), so the one body below becomes each ISA's code; with
   -ffp-contract=fast a multiply-add is one FMA where the target has it.

   apply (forward, backward data): a run's pixels in groups of J, each
   group's J accumulators taking every tap: per tap one filter vector and
   J input vectors, J FMAs (the input as the FMA's memory operand). With
   9 taps (3x3, the interior of every 3x3 layer) the filter's 9 vectors
   are loaded once per run and stay in registers: 9 + J accumulators
   (AVX2, 16 ymm: 9 + 6; AVX-512: 9 + 8 of 32 zmm; SSE: 9 + 4 and a
   temporary, no FMA). Other tap counts load each filter vector per group
   from L1.
   weights (backward weights): one accumulator per tap over the whole run
   (9 for 3x3, else up to 8 taps a sweep over the run) and one for dbias;
   per pixel one dy vector, then one input vector and one FMA per tap.
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

/* pixels a group (registers beside the 9 filter vectors, see the top) */
#if VW == 16
#define DW_J 8
#elif VW == 8
#define DW_J 6
#else
#define DW_J 4
#endif
/* taps a sweep of the generic weights kernel */
#define DW_TW 8

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

/* nj (<= DW_J) pixels from pixel q of the run; NT taps (0: a->ntap) */
AI void apply_group(const dw_args *a, int q, const int nj, const int NT, const int full,
                    const vf *wr, vf b0)
{
    const int nt = NT ? NT : a->ntap, nl = a->nl;
    const ptrdiff_t xs = a->xstep;
    vf acc[DW_J];
#pragma GCC unroll 8
    for (int j = 0; j < nj; j++) acc[j] = b0;
    const float *xq = a->x + q * xs;
#pragma GCC unroll 9
    for (int t = 0; t < nt; t++) {
        const vf w = NT ? wr[t] : ld(a->w + a->woff[t], full, nl);
        const float *xp = xq + a->xoff[t];
#pragma GCC unroll 8
        for (int j = 0; j < nj; j++) acc[j] += ld(xp + j * xs, full, nl) * w;
    }
#pragma GCC unroll 8
    for (int j = 0; j < nj; j++) {
        vf o = acc[j];
        if (a->relu) o = (vf)((vi)o & ~(vi)(o < 0)); /* NaN passes */
        st(a->y + (q + j) * a->ystep, o, full, nl);
    }
}

AI void apply_body(const dw_args *a, const int NT, const int full)
{
    vf wr[9];
#pragma GCC unroll 9
    for (int t = 0; t < NT; t++) wr[t] = ld(a->w + a->woff[t], full, a->nl);
    const vf b0 = a->bias ? ld(a->bias, full, a->nl) : (vf){ 0 };
    int q = 0;
    for (; q + DW_J <= a->n; q += DW_J) apply_group(a, q, DW_J, NT, full, wr, b0);
    for (; q < a->n; q++) apply_group(a, q, 1, NT, full, wr, b0);
}

static void apply_9(const dw_args *a) { apply_body(a, 9, 1); }
static void apply_any(const dw_args *a) { apply_body(a, 0, 1); }
static void apply_tail(const dw_args *a) { apply_body(a, 0, 0); }

static void dw_apply(const dw_args *a)
{
    if (a->nl != VW)
        apply_tail(a);
    else if (a->ntap == 9)
        apply_9(a);
    else
        apply_any(a);
}

/* Taps [t0, t0 + NT) of a run (all of them, or those below a->ntap),
   with dbias if asked. */
AI void weights_sweep(const dw_args *a, int t0, const int NT, const int all, const int full,
                      int with_bias)
{
    const int nl = a->nl;
    vf acc[9], bacc = { 0 };
    const float *xp[9];
#pragma GCC unroll 9
    for (int t = 0; t < NT; t++) {
        acc[t] = (vf){ 0 };
        xp[t] = a->x + a->xoff[t0 + t < a->ntap ? t0 + t : 0];
    }
    for (int i = 0; i < a->n; i++) {
        const vf g = ld(a->dy + i * a->ystep, full, nl);
        if (with_bias) bacc += g;
        const ptrdiff_t o = i * a->xstep;
#pragma GCC unroll 9
        for (int t = 0; t < NT; t++)
            if (all || t0 + t < a->ntap) acc[t] += ld(xp[t] + o, full, nl) * g;
    }
    /* the partial sums are whole vectors: padded to them */
#pragma GCC unroll 9
    for (int t = 0; t < NT; t++)
        if (all || t0 + t < a->ntap) {
            float *d = (float *)a->w + a->woff[t0 + t];
            *(vfu *)d = *(vfu *)d + acc[t];
        }
    if (with_bias) *(vfu *)a->dbias = *(vfu *)a->dbias + bacc;
}

AI void weights_body(const dw_args *a, const int full)
{
    if (a->ntap == 9) {
        weights_sweep(a, 0, 9, 1, full, a->dbias != NULL);
        return;
    }
    int t0 = 0;
    do {
        weights_sweep(a, t0, DW_TW, 0, full, t0 == 0 && a->dbias);
        t0 += DW_TW;
    } while (t0 < a->ntap);
}

static void weights_full(const dw_args *a) { weights_body(a, 1); }
static void weights_tail(const dw_args *a) { weights_body(a, 0); }

static void dw_weights(const dw_args *a)
{
    if (a->nl == VW)
        weights_full(a);
    else
        weights_tail(a);
}

const dw_isa DW_TABLE = { .isa = DW_ISA, .vlen = VW, .apply = dw_apply, .weights = dw_weights };
