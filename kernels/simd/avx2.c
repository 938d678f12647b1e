/* The simd backend's AVX2+FMA kernels (ymm, 8 floats a vector): the
   blocked micro-kernel in every J x V blocking up to 12x1 and 6x2 (12
   accumulators of the 16 ymm), the dot-product kernel for narrow outputs
   and the short-reduction kernels for blocks of 1-4 vectors (the filter
   streamed from L1), as the simd_isa table simd_isa_avx2.
   Compiled for AVX2+FMA by a target pragma, whatever the build's flags.
   The blocking is described in simd.c. */
#include <immintrin.h>
#include <stddef.h>
#include "simd_kernels.h"

/* every function of this file */
#pragma GCC target("avx2,fma")

static inline __attribute__((always_inline)) void ukr256(const int J, const int V,
                                                         const ukr_args *g)
{
    const __m256i m =
        _mm256_cmpgt_epi32(_mm256_set1_epi32(g->tail), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    const int full = g->tail == 8; /* unmasked loads where the tail is whole */
    __m256 acc[JMAX][2];
    const float *ap[JMAX];
    float *dp[JMAX];
#pragma GCC unroll 16
    for (int j = 0; j < J; j++) dp[j] = g->d0 + g->doff[j];
#pragma GCC unroll 16
    for (int j = 0; j < J; j++)
#pragma GCC unroll 2
        for (int v = 0; v < V; v++) {
            const float *src = g->accumulate ? dp[j] + 8 * v : g->bias ? g->bias + 8 * v : NULL;
            acc[j][v] = !src         ? _mm256_setzero_ps()
                        : v == V - 1 ? _mm256_maskload_ps(src, m)
                                     : _mm256_loadu_ps(src);
        }
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
        for (int i = 0; i < len; i++, ia += ainc, b += binc) {
            __m256 bv[2];
#pragma GCC unroll 2
            for (int v = 0; v < V; v++)
                bv[v] = v < V - 1 || full ? _mm256_loadu_ps(b + 8 * v)
                                          : _mm256_maskload_ps(b + 8 * v, m);
#pragma GCC unroll 16
            for (int j = 0; j < J; j++) {
                __m256 x = _mm256_broadcast_ss(ap[j] + ia);
#pragma GCC unroll 2
                for (int v = 0; v < V; v++) acc[j][v] = _mm256_fmadd_ps(x, bv[v], acc[j][v]);
            }
        }
    }
    const __m256 zero = _mm256_setzero_ps();
#pragma GCC unroll 16
    for (int j = 0; j < J; j++)
#pragma GCC unroll 2
        for (int v = 0; v < V; v++) {
            __m256 o = g->relu ? _mm256_max_ps(zero, acc[j][v]) : acc[j][v];
            if (v < V - 1 || full)
                _mm256_storeu_ps(dp[j] + 8 * v, o);
            else
                _mm256_maskstore_ps(dp[j] + 8 * v, m, o);
        }
}

/* Each (J, V) its own fully unrolled copy, so the accumulators live in registers. */
#define UKR256(J, V)                                                                               \
    static void ukr256_##J##x##V(const ukr_args *g) { ukr256(J, V, g); }
// clang-format off
UKR256(1, 2) UKR256(2, 2) UKR256(3, 2) UKR256(4, 2) UKR256(5, 2) UKR256(6, 2)
UKR256(1, 1) UKR256(2, 1) UKR256(3, 1) UKR256(4, 1) UKR256(5, 1) UKR256(6, 1) UKR256(7, 1)
UKR256(8, 1) UKR256(9, 1) UKR256(10, 1) UKR256(11, 1) UKR256(12, 1)
// clang-format on
#undef UKR256

            static void dot_avx2(int nb, const ukr_args *g)
{
    static const int lanes[16] = { -1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0 };
    __m256 acc[DOT_J];
    ptrdiff_t off[DOT_J];
    for (int j = 0; j < DOT_J; j++) {
        acc[j] = _mm256_setzero_ps();
        off[j] = g->aoff[j < nb ? j : 0];
    }
    for (int si = 0; si < g->nseg; si++) {
        const float *a = g->a0 + g->seg[si].a, *b = g->b0 + g->seg[si].b * g->bscale;
        const int len = g->seg[si].len, full = len / 8 * 8;
        for (int i = 0; i < full; i += 8) {
            __m256 bv = _mm256_loadu_ps(b + i);
#pragma GCC unroll 8
            for (int j = 0; j < DOT_J; j++)
                acc[j] = _mm256_fmadd_ps(_mm256_loadu_ps(a + off[j] + i), bv, acc[j]);
        }
        if (full < len) {
            __m256i m = _mm256_loadu_si256((const __m256i *)(lanes + 8 - (len - full)));
            __m256 bv = _mm256_maskload_ps(b + full, m);
            for (int j = 0; j < DOT_J; j++)
                acc[j] = _mm256_fmadd_ps(_mm256_maskload_ps(a + off[j] + full, m), bv, acc[j]);
        }
    }
    for (int j = 0; j < nb; j++) {
        __m128 v = _mm_add_ps(_mm256_castps256_ps128(acc[j]), _mm256_extractf128_ps(acc[j], 1));
        v = _mm_add_ps(v, _mm_movehl_ps(v, v));
        v = _mm_add_ss(v, _mm_movehdup_ps(v));
        g->d0[g->doff[j]] = dot_out(_mm_cvtss_f32(v), g);
    }
}

/* The filter-in-registers kernel, one vector of 8 output channels: the 9
   filter vectors, J = 6 accumulators and the broadcast fill the 16 ymm.
   Per pixel 9 broadcasts for 9 FMAs. It serves blocks of one vector (up
   to 8 channels: 1.1-1.2 times faster there than streaming the filter with
   7 pixels a group, 8 loads per 7 FMAs); wider blocks stream the filter
   (below). Whole
   groups of pixels are compiled apart from a short last one, and ReLU and
   a whole last vector are compiled in: tested per group they cost 12% on
   the seed's conv1 (Zen 3).
   Tried on that layer and dropped: the input broadcast once per task for
   FMAs with a memory operand (13% slower); the output rows prefetched
   (3-5% slower); a pixel group running every 8-channel block, so that its
   output rows are written whole (9% slower); sliding 12 adjacent pixels
   over each filter row, 14 broadcasts for 36 FMAs (no faster). */
enum { WREG_J = 6 };

static inline __attribute__((always_inline)) void wreg256_group(const int nb, const int relu,
                                                                const int full, int p0,
                                                                const ukr_args *g, const __m256 *w,
                                                                const __m256i m, float *spare)
{
    const float *ap[WREG_J];
    float *dp[WREG_J];
    wreg_rows(g, p0, nb, WREG_J, ap, dp, spare);
    __m256 acc[WREG_J];
#pragma GCC unroll 6
    for (int j = 0; j < WREG_J; j++)
        acc[j] = g->bias ? _mm256_maskload_ps(g->bias, m) : _mm256_setzero_ps();
#pragma GCC unroll 9
    for (int l = 0; l < WREG_L; l++) {
        const ptrdiff_t o = g->astep[l];
#pragma GCC unroll 6
        for (int j = 0; j < WREG_J; j++)
            acc[j] = _mm256_fmadd_ps(_mm256_broadcast_ss(ap[j] + o), w[l], acc[j]);
    }
#pragma GCC unroll 6
    for (int j = 0; j < WREG_J; j++) {
        __m256 o = relu ? _mm256_max_ps(_mm256_setzero_ps(), acc[j]) : acc[j];
        if (full)
            _mm256_storeu_ps(dp[j], o);
        else
            _mm256_maskstore_ps(dp[j], m, o);
    }
}

static inline __attribute__((always_inline)) void wreg256(const int relu, const int full, int np,
                                                          const ukr_args *g)
{
    const __m256i m =
        _mm256_cmpgt_epi32(_mm256_set1_epi32(g->tail), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    __m256 w[WREG_L];
#pragma GCC unroll 9
    for (int l = 0; l < WREG_L; l++) /* the filter is zero-padded to whole vectors */
        w[l] = _mm256_loadu_ps(g->b0 + g->bstep[l] * g->bscale);
    /* the rows of a short group's repeated pixels land here (see avx512.c) */
    float spare[8] __attribute__((aligned(32)));
    int p0 = 0;
    for (; p0 + WREG_J <= np; p0 += WREG_J) wreg256_group(WREG_J, relu, full, p0, g, w, m, spare);
    if (p0 < np) wreg256_group(np - p0, relu, full, p0, g, w, m, spare);
}

static void wreg256_v1(int np, const ukr_args *g)
{
    if (g->tail != 8)
        wreg256(g->relu, 0, np, g);
    else if (g->relu)
        wreg256(1, 1, np, g);
    else
        wreg256(0, 1, np, g);
}

/* The short-reduction kernels (WREG_L steps: 3x3 over one input channel)
   for blocks of V = 2..4 vectors (up to 32 output channels). 16 ymm cannot
   hold the 9 x V filter vectors beside enough accumulators, so the filter
   streams from L1 as in oneDNN's AVX2 first-layer kernel: J pixels x V
   vectors, each step's J broadcasts first, then per vector one filter load
   into a register and J FMAs: J*V accumulators + J broadcasts + 1 filter
   vector <= 16 ymm (V = 4: J = 3, 7 loads per 12 FMAs). Zen 3 sustains
   about 1.7 loads a cycle, so the loads, not the FMAs, bound these layers.
   Against the kernel above run once per 8-channel vector (9 broadcasts
   per 9 FMAs, the input broadcast again for every vector): seed conv1
   forward 0.71 -> 1.19 of oneDNN's speed at batch 2, 0.86 -> 1.10 at
   batch 32. Whole groups of pixels are compiled apart from a short last
   one, and ReLU and a whole last vector are compiled in. */
enum { WSTREAM_J = 5 }; /* most pixels of a streaming group */

static inline __attribute__((always_inline)) void wstream_group(const int V, const int J,
                                                                const int nb, const int relu,
                                                                const int full, int p0,
                                                                const ukr_args *g, const __m256i m,
                                                                float *spare)
{
    const float *ap[WSTREAM_J];
    float *dp[WSTREAM_J];
    wreg_rows(g, p0, nb, J, ap, dp, spare);
    __m256 acc[WSTREAM_J][4];
#pragma GCC unroll 4
    for (int v = 0; v < V; v++) {
        const __m256 b = !g->bias            ? _mm256_setzero_ps()
                         : v < V - 1 || full ? _mm256_loadu_ps(g->bias + 8 * v)
                                             : _mm256_maskload_ps(g->bias + 8 * v, m);
#pragma GCC unroll 5
        for (int j = 0; j < J; j++) acc[j][v] = b;
    }
#pragma GCC unroll 9
    for (int l = 0; l < WREG_L; l++) {
        const ptrdiff_t o = g->astep[l];
        const float *w = g->b0 + g->bstep[l] * g->bscale; /* zero-padded to whole vectors */
        __m256 x[WSTREAM_J];
#pragma GCC unroll 5
        for (int j = 0; j < J; j++) x[j] = _mm256_broadcast_ss(ap[j] + o);
#pragma GCC unroll 4
        for (int v = 0; v < V; v++) {
            __m256 wv = _mm256_loadu_ps(w + 8 * v);
            /* opaque to gcc, which would otherwise fold the load into each
               of the J FMAs as a memory operand: J loads instead of one */
            __asm__("" : "+x"(wv));
#pragma GCC unroll 5
            for (int j = 0; j < J; j++) acc[j][v] = _mm256_fmadd_ps(x[j], wv, acc[j][v]);
        }
    }
#pragma GCC unroll 5
    for (int j = 0; j < J; j++)
#pragma GCC unroll 4
        for (int v = 0; v < V; v++) {
            __m256 o = relu ? _mm256_max_ps(_mm256_setzero_ps(), acc[j][v]) : acc[j][v];
            if (v < V - 1 || full)
                _mm256_storeu_ps(dp[j] + 8 * v, o);
            else
                _mm256_maskstore_ps(dp[j] + 8 * v, m, o);
        }
}

static inline __attribute__((always_inline)) void wstream(const int V, const int J, const int relu,
                                                          const int full, int np, const ukr_args *g)
{
    const __m256i m =
        _mm256_cmpgt_epi32(_mm256_set1_epi32(g->tail), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    /* the rows of a short group's repeated pixels land here (see avx512.c) */
    float spare[32] __attribute__((aligned(32)));
    int p0 = 0;
    for (; p0 + J <= np; p0 += J) wstream_group(V, J, J, relu, full, p0, g, m, spare);
    if (p0 < np) wstream_group(V, J, np - p0, relu, full, p0, g, m, spare);
}

/* whole last vector and ReLU compiled in: one copy per V, with its J */
static inline __attribute__((always_inline)) void wstream_v(const int V, const int J, int np,
                                                            const ukr_args *g)
{
    if (g->tail != 8)
        wstream(V, J, g->relu, 0, np, g);
    else if (g->relu)
        wstream(V, J, 1, 1, np, g);
    else
        wstream(V, J, 0, 1, np, g);
}
enum { WSTREAM_J2 = 5, WSTREAM_J3 = 3, WSTREAM_J4 = 3 };
static void wstream_v2(int np, const ukr_args *g) { wstream_v(2, WSTREAM_J2, np, g); }
static void wstream_v3(int np, const ukr_args *g) { wstream_v(3, WSTREAM_J3, np, g); }
static void wstream_v4(int np, const ukr_args *g) { wstream_v(4, WSTREAM_J4, np, g); }

const simd_isa simd_isa_avx2 = {
    .isa = ISA_AVX2, .vlen = 8, .vmax = 2,
    .jmax = { 12, 6 },
    .ukr = {
        { ukr256_1x1, ukr256_2x1, ukr256_3x1, ukr256_4x1, ukr256_5x1, ukr256_6x1, ukr256_7x1,
          ukr256_8x1, ukr256_9x1, ukr256_10x1, ukr256_11x1, ukr256_12x1 },
        { ukr256_1x2, ukr256_2x2, ukr256_3x2, ukr256_4x2, ukr256_5x2, ukr256_6x2 },
    },
    .dot = dot_avx2,
    .wreg = { wreg256_v1, wstream_v2, wstream_v3, wstream_v4 },
    .wj = { WREG_J, WSTREAM_J2, WSTREAM_J3, WSTREAM_J4 },
    .wvec = 4,
};
