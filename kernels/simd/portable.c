/* The simd backend's portable kernel, plain C for the build's own target:
   the blocked micro-kernel with one "vector" of 16 floats (V = 1) and up
   to 8 rows, the loops over lanes left to the compiler, as the simd_isa
   table simd_isa_portable (no dot-product or filter-in-registers kernel).
   The plan uses it where the CPU has no AVX2+FMA, or CONVBENCH_ISA=portable. */
#include <stddef.h>
#include <string.h>
#include "simd_kernels.h"

enum { JMAX_PORTABLE = 8 };

/* One body for every J, as the kernel has always been compiled: noipa keeps
   the J-wrappers below from specializing it (a copy per J measured 8-14%
   faster on most seed layers but 14% slower on conv1 backward_data: a
   tuning question of its own). */
__attribute__((noipa)) static void ukr_portable(int J, int V, const ukr_args *g)
{
    (void)V;
    const int nl = g->tail;
    float acc[JMAX_PORTABLE][16];
    for (int j = 0; j < J; j++) {
        const float *src = g->accumulate ? g->d0 + g->doff[j] : g->bias;
        for (int l = 0; l < nl; l++) acc[j][l] = src ? src[l] : 0.0f;
    }
    const float *b = g->b0;
    for (int si = 0; si < g->nseg; si++) {
        const float *a = g->a0 + g->seg[si].a;
        if (g->bscale) b = g->b0 + g->seg[si].b * g->bscale;
        for (int i = 0; i < g->seg[si].len; i++, a += g->ainc, b += g->binc)
            for (int j = 0; j < J; j++) {
                const float x = a[g->aoff[j]];
                for (int l = 0; l < nl; l++) acc[j][l] += x * b[l];
            }
    }
    for (int j = 0; j < J; j++) {
        if (g->relu)
            for (int l = 0; l < nl; l++) acc[j][l] = acc[j][l] < 0.0f ? 0.0f : acc[j][l];
        memcpy(g->d0 + g->doff[j], acc[j], sizeof(float) * nl);
    }
}

/* The table's entry for each J. */
#define UKRP(J)                                                                                    \
    static void ukr_portable_##J(const ukr_args *g) { ukr_portable(J, 1, g); }
UKRP(1) UKRP(2) UKRP(3) UKRP(4) UKRP(5) UKRP(6) UKRP(7) UKRP(8)
#undef UKRP

const simd_isa simd_isa_portable = {
    .isa = ISA_PORTABLE, .vlen = 16, .vmax = 1,
    .jmax = { JMAX_PORTABLE },
    .ukr = {
        { ukr_portable_1, ukr_portable_2, ukr_portable_3, ukr_portable_4, ukr_portable_5,
          ukr_portable_6, ukr_portable_7, ukr_portable_8 },
    },
    .dot = NULL,
    .wreg = { NULL, NULL },
};
