/* Private to the simd backend: the interface between its engine (simd.c:
   plans, regions, passes, threads; ISA-independent) and its micro-kernels,
   one file per ISA (avx512.c, avx2.c, portable.c). Each ISA file defines a
   simd_isa table; the plan picks the active ISA's table once and the
   engine calls every kernel through it. The algorithm, blocking and costs
   are described in simd.c. */
#ifndef SIMD_KERNELS_H
#define SIMD_KERNELS_H

#include <stddef.h>
#include "cpu.h"

/* one segment of the reduction: offsets of a and b at its first step, steps */
typedef struct {
    ptrdiff_t a, b;
    int len;
} seg;

/* everything the micro-kernel needs besides its J x V block size */
typedef struct {
    const float *a0, *b0; /* bases the segment offsets apply to */
    const seg *seg;
    int nseg;
    ptrdiff_t bscale;      /* segment b offsets are in units of this; 0: b runs
                                   on from b0 through all segments (no offsets) */
    ptrdiff_t ainc, binc;  /* per-step advance of a and b */
    const ptrdiff_t *aoff; /* [J] a offset of row j */
    float *d0;             /* destination rows d0 + doff[j] */
    const ptrdiff_t *doff;
    const float *bias;              /* initial row shared by all j, or NULL */
    int accumulate;                 /* start from the destination's contents */
    int relu;                       /* clamp the result at 0 (NaN passes) */
    int tail;                       /* valid lanes of the last vector */
    int prefetch_out;               /* fetch the destination rows for writing first */
    int bcast_mem;                  /* AVX-512 blocked kernel: FMAs broadcast a from
                                       memory ({1to16}), cpu_avx512_halves() */
    const ptrdiff_t *astep, *bstep; /* filter-in-registers kernel: a offset and b
                                           row (in vectors of bscale) of each step */
} ukr_args;

/* Most rows J of any ISA's blocked kernel, and most vectors V of a block. */
enum { JMAX = 14, VMAX = 4 };

/* ---- narrow outputs (a few channels): dot products over the reduction ---

   With Co <= vlen/4 output channels, vectors over Co would be mostly empty
   lanes (1/16 used at C = 1). Instead each of DOT_J pixels keeps one vector
   accumulator over the reduction index (contiguous ci, merged taps) for one
   output channel, reduced horizontally at the end: J + 1 loads per J FMAs,
   every lane used. Blocks of fewer than DOT_J pixels repeat pixel 0 and
   drop the extra results, so one unrolled copy per ISA suffices. */
enum { DOT_J = 8 };

/* a dot product's result through the bias and ReLU */
static inline float dot_out(float sum, const ukr_args *g)
{
    float v = sum + (g->bias ? g->bias[0] : 0.0f);
    return g->relu && v < 0.0f ? 0.0f : v;
}

/* ---- short reductions: first layers --------------------------------------

   A reduction of WREG_L = 9 steps (3x3 taps over one input channel) leaves
   the blocked kernel as long in each block's setup, row pointers and stores
   as in its FMAs (seed conv1: 35-45% of peak). These kernels run a task's
   pixels in groups of their own J with all 9 steps unrolled, from step
   tables (a offset and b row per step) made at plan time:
     AVX-512  the filter's 9 x V vectors stay in registers through the task:
              per pixel 9 broadcasts and 9V FMAs, no filter loads
              (9V filter + J*V accumulators + 1 broadcast: V = 2, J = 6: 31;
              V = 1, J = 12: 22), for a single block of V <= 2;
     AVX2     channel blocks of up to wvec = 4 vectors; one vector keeps
              its 9 filter vectors in registers beside 6 accumulators, 2-4
              vectors stream the filter from L1, J broadcasts then one load
              per vector for J FMAs (V = 4, J = 3: 7 loads per 12 FMAs).
   Groups under J pixels repeat pixel 0, whose extra rows go to a spare
   buffer. */
enum { WREG_L = 9, WREG_TASK = 48 };

/* The input and output rows of a short-reduction group of J pixels from
   task pixel p0, nb of them real: the others repeat pixel p0's input and
   write to spare. Always inlined, J a constant: the loop unrolls. */
static inline __attribute__((always_inline)) void wreg_rows(const ukr_args *g, int p0, int nb,
                                                            const int J, const float **ap,
                                                            float **dp, float *spare)
{
#pragma GCC unroll 16
    for (int j = 0; j < J; j++) {
        ap[j] = g->a0 + g->aoff[p0 + (j < nb ? j : 0)];
        dp[j] = j < nb ? g->d0 + g->doff[p0 + j] : spare;
    }
}

/* ---- an ISA's kernels ---------------------------------------------------- */

/* The blocked micro-kernel for one J x V blocking: rows and vectors are
   compiled in, so the accumulators live in registers. */
typedef void simd_ukr_fn(const ukr_args *g);
/* The dot-product kernel: nb <= DOT_J pixels, one output channel. */
typedef void simd_dot_fn(int nb, const ukr_args *g);
/* The short-reduction kernel for V vectors: np pixels (a task), in groups
   of its own J. */
typedef void simd_wreg_fn(int np, const ukr_args *g);

typedef struct {
    cpu_isa isa;
    int vlen, vmax;               /* lanes per vector, vectors per channel block */
    int jmax[VMAX];               /* [V - 1]: rows of the largest block of V vectors */
    simd_ukr_fn *ukr[VMAX][JMAX]; /* [V - 1][J - 1], J <= jmax[V - 1] */
    simd_dot_fn *dot;             /* NULL: none */
    simd_wreg_fn *wreg[VMAX];     /* [V - 1]; NULL: none */
    int wj[VMAX];                 /* [V - 1]: pixels of a group of wreg[V - 1] */
    int wvec;                     /* short reductions cut channels into blocks of
                                     this many vectors, each with its kernel
                                     (0: the blocked kernel's blocks) */
} simd_isa;

extern const simd_isa simd_isa_avx512, simd_isa_avx2, simd_isa_portable;

#endif
