/* The simd backend's AVX-512F kernels (zmm, 16 floats a vector): the
   blocked micro-kernel in every J x V blocking up to 14x1, 12x2, 8x3 and
   7x4 (24-28 accumulators of the 32 zmm), the dot-product kernel for
   narrow outputs and the filter-in-registers kernel for 9-step reductions
   (6x2 and 12x1), as the simd_isa table simd_isa_avx512. Compiled for
   AVX-512F by a target pragma, whatever the build's flags: the plan
   uses this table only where the CPU has AVX-512F (cpu_isa_active()).
   The blocking and its measurements are described in simd.c. */
#include <immintrin.h>
#include <stddef.h>
#include "simd_kernels.h"

/* every function of this file */
#pragma GCC target("avx512f")

/* acc[j] into rows dp[j], through the ReLU if relu; masked to the tail */
static inline __attribute__((always_inline)) void store512(const int J, const int V,
                                                           __m512 acc[][4], float *const *dp,
                                                           __mmask16 m, int relu)
{
    const __m512 zero = _mm512_setzero_ps();
#pragma GCC unroll 16
    for (int j = 0; j < J; j++)
#pragma GCC unroll 4
        for (int v = 0; v < V; v++)
            _mm512_mask_storeu_ps(dp[j] + 16 * v, v == V - 1 ? m : 0xffff,
                                  relu ? _mm512_max_ps(zero, acc[j][v]) : acc[j][v]);
}

/* The reduction of ukr512: acc[j][v] += a(j, i) * b(i)[v] over every step
   of every segment. MEM (a constant): each FMA takes a(j, i) as an
   embedded {1to16} broadcast memory operand instead of sharing one
   vbroadcastss with the row's other FMAs: no vector uop and no register
   for the broadcast, V loads a row instead of one. That suits a CPU that
   splits 512-bit FMAs into 256-bit halves (one a cycle, so the loads have
   room); where two full-width FMAs issue a cycle, the loads would bind. */
static inline __attribute__((always_inline)) void ukr512_steps(const int J, const int V,
                                                               const int MEM, const ukr_args *g,
                                                               __mmask16 m, __m512 acc[][4])
{
    const float *ap[JMAX];
    const ptrdiff_t ainc = g->ainc, binc = g->binc;
    const float *b = g->b0;
    for (int si = 0; si < g->nseg; si++) {
        const float *a = g->a0 + g->seg[si].a;
        if (g->bscale) b = g->b0 + g->seg[si].b * g->bscale;
        const int len = g->seg[si].len;
#pragma GCC unroll 16
        for (int j = 0; j < J; j++) ap[j] = a + g->aoff[j];
        ptrdiff_t ia = 0;
#pragma GCC unroll 4
        /* four steps per trip: less loop overhead, and the loads of the
           next steps issue beside the FMAs of this one (two steps: seed
           conv2 forward +1-5% over one; four: conv2 backward_data +4% over
           two, the rest within 2%, same process) */
        for (int i = 0; i < len; i++, ia += ainc, b += binc) {
            __m512 bv[4];
#pragma GCC unroll 4
            for (int v = 0; v < V; v++)
                bv[v] = _mm512_maskz_loadu_ps(v == V - 1 ? m : 0xffff, b + 16 * v);
#pragma GCC unroll 16
            for (int j = 0; j < J; j++) {
                if (MEM) {
#pragma GCC unroll 4
                    for (int v = 0; v < V; v++)
                        __asm__("vfmadd231ps %2%{1to16%}, %1, %0"
                                : "+v"(acc[j][v])
                                : "v"(bv[v]), "m"(ap[j][ia]));
                    continue;
                }
                __m512 x = _mm512_set1_ps(ap[j][ia]);
#pragma GCC unroll 4
                for (int v = 0; v < V; v++) acc[j][v] = _mm512_fmadd_ps(x, bv[v], acc[j][v]);
            }
        }
    }
}

static inline __attribute__((always_inline)) void ukr512(const int J, const int V,
                                                         const ukr_args *g)
{
    const __mmask16 m = (__mmask16)((1u << g->tail) - 1u);
    __m512 acc[JMAX][4];
    float *dp[JMAX];
#pragma GCC unroll 16
    for (int j = 0; j < J; j++) dp[j] = g->d0 + g->doff[j];
    if (g->prefetch_out && !g->accumulate)
#pragma GCC unroll 16
        for (int j = 0; j < J; j++)
#pragma GCC unroll 4
            for (int v = 0; v < V; v++) _mm_prefetch((const char *)(dp[j] + 16 * v), _MM_HINT_ET0);
    __m512 init[4];
#pragma GCC unroll 4
    for (int v = 0; v < V; v++)
        init[v] = g->bias ? _mm512_maskz_loadu_ps(v == V - 1 ? m : 0xffff, g->bias + 16 * v)
                          : _mm512_setzero_ps();
#pragma GCC unroll 16
    for (int j = 0; j < J; j++)
#pragma GCC unroll 4
        for (int v = 0; v < V; v++)
            acc[j][v] = g->accumulate
                            ? _mm512_maskz_loadu_ps(v == V - 1 ? m : 0xffff, dp[j] + 16 * v)
                            : init[v];
    if (g->bcast_mem)
        ukr512_steps(J, V, 1, g, m, acc);
    else
        ukr512_steps(J, V, 0, g, m, acc);
    store512(J, V, acc, dp, m, g->relu);
}

/* Each (J, V) its own fully unrolled copy, so the accumulators live in registers. */
#define UKR512(J, V)                                                                               \
    static void ukr512_##J##x##V(const ukr_args *g) { ukr512(J, V, g); }
// clang-format off
UKR512(1, 4) UKR512(2, 4) UKR512(3, 4) UKR512(4, 4) UKR512(5, 4) UKR512(6, 4) UKR512(7, 4)
UKR512(1, 3) UKR512(2, 3) UKR512(3, 3) UKR512(4, 3) UKR512(5, 3) UKR512(6, 3) UKR512(7, 3)
UKR512(8, 3)
UKR512(1, 2) UKR512(2, 2) UKR512(3, 2) UKR512(4, 2) UKR512(5, 2) UKR512(6, 2) UKR512(7, 2)
UKR512(8, 2) UKR512(9, 2) UKR512(10, 2) UKR512(11, 2) UKR512(12, 2)
UKR512(1, 1) UKR512(2, 1) UKR512(3, 1) UKR512(4, 1) UKR512(5, 1) UKR512(6, 1) UKR512(7, 1)
UKR512(8, 1) UKR512(9, 1) UKR512(10, 1) UKR512(11, 1) UKR512(12, 1) UKR512(13, 1)
UKR512(14, 1)
// clang-format on
#undef UKR512

                            static void dot_avx512(int nb, const ukr_args *g)
{
    __m512 acc[DOT_J];
    ptrdiff_t off[DOT_J];
    for (int j = 0; j < DOT_J; j++) {
        acc[j] = _mm512_setzero_ps();
        off[j] = g->aoff[j < nb ? j : 0];
    }
    for (int si = 0; si < g->nseg; si++) {
        const float *a = g->a0 + g->seg[si].a, *b = g->b0 + g->seg[si].b * g->bscale;
        const int len = g->seg[si].len;
        for (int i = 0; i < len; i += 16) {
            __mmask16 m = len - i >= 16 ? 0xffff : (__mmask16)((1u << (len - i)) - 1u);
            __m512 bv = _mm512_maskz_loadu_ps(m, b + i);
#pragma GCC unroll 8
            for (int j = 0; j < DOT_J; j++)
                acc[j] = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, a + off[j] + i), bv, acc[j]);
        }
    }
    for (int j = 0; j < nb; j++) g->d0[g->doff[j]] = dot_out(_mm512_reduce_add_ps(acc[j]), g);
}

static inline __attribute__((always_inline)) void wreg512(const int V, const int J, int np,
                                                          const ukr_args *g)
{
    const __mmask16 m = (__mmask16)((1u << g->tail) - 1u);
    __m512 w[WREG_L][2];
#pragma GCC unroll 9
    for (int l = 0; l < WREG_L; l++)
#pragma GCC unroll 2
        for (int v = 0; v < V; v++) /* the filter is zero-padded to whole vectors */
            w[l][v] = _mm512_loadu_ps(g->b0 + g->bstep[l] * g->bscale + 16 * v);
    const __m512 zero = _mm512_setzero_ps();
    /* the rows of a short group's repeated pixels land here: a store under
       a condition let the compiler sink each row's FMAs into its branch,
       one latency-bound chain at a time */
    float spare[2 * 16] __attribute__((aligned(64)));
    for (int p0 = 0; p0 < np; p0 += J) {
        const int nb = np - p0 < J ? np - p0 : J;
        const float *ap[JMAX];
        float *dp[JMAX];
        wreg_rows(g, p0, nb, J, ap, dp, spare);
        if (g->prefetch_out)
#pragma GCC unroll 12
            for (int j = 0; j < J; j++)
#pragma GCC unroll 2
                for (int v = 0; v < V; v++)
                    _mm_prefetch((const char *)(dp[j] + 16 * v), _MM_HINT_ET0);
        __m512 acc[JMAX][4];
#pragma GCC unroll 12
        for (int j = 0; j < J; j++)
#pragma GCC unroll 2
            for (int v = 0; v < V; v++)
                acc[j][v] = g->bias
                                ? _mm512_maskz_loadu_ps(v == V - 1 ? m : 0xffff, g->bias + 16 * v)
                                : zero;
#pragma GCC unroll 9
        for (int l = 0; l < WREG_L; l++) {
            const ptrdiff_t o = g->astep[l];
#pragma GCC unroll 12
            for (int j = 0; j < J; j++) {
                __m512 x = _mm512_set1_ps(ap[j][o]);
#pragma GCC unroll 2
                for (int v = 0; v < V; v++) acc[j][v] = _mm512_fmadd_ps(x, w[l][v], acc[j][v]);
            }
        }
        store512(J, V, acc, dp, m, g->relu);
    }
}

/* The filter-in-registers kernel for V = 1 and 2: 12 and 6 pixels a group. */
enum { WREG512_J1 = 12, WREG512_J2 = 6 };
static void wreg512_v1(int np, const ukr_args *g) { wreg512(1, WREG512_J1, np, g); }

static void wreg512_v2(int np, const ukr_args *g) { wreg512(2, WREG512_J2, np, g); }

const simd_isa simd_isa_avx512 = {
    .isa = ISA_AVX512, .vlen = 16, .vmax = 4,
    .jmax = { 14, 12, 8, 7 },
    .ukr = {
        { ukr512_1x1, ukr512_2x1, ukr512_3x1, ukr512_4x1, ukr512_5x1, ukr512_6x1, ukr512_7x1,
          ukr512_8x1, ukr512_9x1, ukr512_10x1, ukr512_11x1, ukr512_12x1, ukr512_13x1,
          ukr512_14x1 },
        { ukr512_1x2, ukr512_2x2, ukr512_3x2, ukr512_4x2, ukr512_5x2, ukr512_6x2, ukr512_7x2,
          ukr512_8x2, ukr512_9x2, ukr512_10x2, ukr512_11x2, ukr512_12x2 },
        { ukr512_1x3, ukr512_2x3, ukr512_3x3, ukr512_4x3, ukr512_5x3, ukr512_6x3, ukr512_7x3,
          ukr512_8x3 },
        { ukr512_1x4, ukr512_2x4, ukr512_3x4, ukr512_4x4, ukr512_5x4, ukr512_6x4, ukr512_7x4 },
    },
    .dot = dot_avx512,
    .wreg = { wreg512_v1, wreg512_v2 },
    .wj = { WREG512_J1, WREG512_J2 },
};
