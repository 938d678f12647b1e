/* Private to the winograd backends: the tile sizes' transform matrices and
   the interface between the engine (winograd.c) and the transforms
   (winograd_tf_body.h, compiled once per ISA by winograd_tf_avx512.c,
   winograd_tf_avx2.c and winograd_tf_portable.c).

   A transform is Y = L X L^T on VL-channel vectors, with L one of a tile
   size's matrices. Each (tile size, transform, whole or edge tile) is its
   own function, so every one is compiled as a small straight-line body
   with L's entries folded in; the engine picks a tile size's table for the
   active ISA at plan time and calls through it. */
#ifndef WINOGRAD_TF_H
#define WINOGRAD_TF_H

#include <stddef.h>

enum { VL = 16, ALPHA_MAX = 6, R = 3 };

/* ---- the tile sizes: transform matrices as data (row-major) ------------- */
/* The wincnn sets: F(2,3) points 0, +-1; F(3,3) points 0, +-1, 2;
   F(4,3) points 0, +-1, +-2. A^T is m x alpha, G alpha x r, B^T alpha x
   alpha. Static: the transforms read them as constants. */

static const double f23_at[2 * 4] = {
    1, 1, 1, 0, 0, 1, -1, 1,
};
static const double f23_g[4 * 3] = {
    1, 0, 0, 0.5, 0.5, 0.5, 0.5, -0.5, 0.5, 0, 0, 1,
};
static const double f23_bt[4 * 4] = {
    1, 0, -1, 0, 0, 1, 1, 0, 0, -1, 1, 0, 0, -1, 0, 1,
};
static const double f43_at[4 * 6] = {
    1, 1, 1, 1, 1, 0, 0, 1, -1, 2, -2, 0, 0, 1, 1, 4, 4, 0, 0, 1, -1, 8, -8, 1,
};
static const double f43_g[6 * 3] = {
    1.0 / 4,  0,        0,       -1.0 / 6, -1.0 / 6,  -1.0 / 6, -1.0 / 6, 1.0 / 6, -1.0 / 6,
    1.0 / 24, 1.0 / 12, 1.0 / 6, 1.0 / 24, -1.0 / 12, 1.0 / 6,  0,        0,       1,
};
static const double f43_bt[6 * 6] = {
    4, 0,  -5, 0, 1, 0, 0, -4, -4, 1,  1, 0, 0, 4, -4, -1, 1, 0,
    0, -2, -1, 2, 1, 0, 0, 2,  -1, -2, 1, 0, 0, 4, 0,  -5, 0, 1,
};

/* points 0, +-1, 2 (and infinity): the 3x3 output of a 5x5 image in one tile */
static const double f33_at[3 * 5] = {
    1, 1, 1, 1, 0, 0, 1, -1, 2, 0, 0, 1, 1, 4, 1,
};
static const double f33_g[5 * 3] = {
    1.0 / 2,  0,       0,       -1.0 / 2, -1.0 / 2, -1.0 / 2, -1.0 / 6, 1.0 / 6,
    -1.0 / 6, 1.0 / 6, 1.0 / 3, 2.0 / 3,  0,        0,        1,
};
static const double f33_bt[5 * 5] = {
    2, -1, -2, 1, 0, 0, -2, -1, 1, 0, 0, 2, -3, 1, 0, 0, -1, 0, 1, 0, 0, 2, -1, -2, 1,
};

/* ---- the transforms ----------------------------------------------------- */

/* The transforms of a tile size. With L the matrix (ro x ri) applied on
   both sides: Y = L X L^T. */
typedef enum {
    TF_INPUT,       /* B^T d B:   alpha x alpha -> alpha x alpha */
    TF_FILTER,      /* G g G^T:   r x r         -> alpha x alpha */
    TF_OUTPUT,      /* A^T m A:   alpha x alpha -> m x m */
    TF_OUTPUT_RELU, /* the same, clamped at 0 (a NaN stays NaN) */
    TF_DY,          /* A dy A^T:  m x m         -> alpha x alpha */
    TF_WGRAD,       /* G^T z G:   alpha x alpha -> r x r */
    TF_INPUT_T,     /* B x B^T:   alpha x alpha -> alpha x alpha (the input's adjoint) */
    TF_INPUT_T_ADD, /* the same, added into y */
    TF_KINDS
} tf_kind;

/* An edge tile: the input points that exist (rows [i0, i1), columns
   [j0, j1); the others are zero) and the output points stored (rows
   [o0, o1), columns [p0, p1)). x and y then point at input point (i0, j0)
   and output point (o0, p0), so nothing outside the tensors is addressed. */
typedef struct {
    int i0, i1, j0, j1;
    int o0, o1, p0, p1;
} tf_clip;

/* Y = L X L^T on VL channels: X[i][j] at x + i*xr + j*xc, Y[i][j] to
   y + i*yr + j*yc, plus bias (VL values) when not NULL; an edge function
   reads and writes only clip's points, a whole-tile one ignores clip. */
typedef void (*tf_fn)(const float *x, ptrdiff_t xr, ptrdiff_t xc, float *y, ptrdiff_t yr,
                      ptrdiff_t yc, const float *bias, const tf_clip *clip);

/* One tile size's transforms for one ISA. The filter and weight-gradient
   transforms never have edges: their edge entries are the whole ones.
   shrt[S - 1]: edge tiles one point short at the bottom (S = 1), on the
   right (2) or both (3), with no other clip: for the input transforms
   (TF_INPUT, TF_DY) their inputs are short, for the others their outputs
   (NULL for TF_FILTER, TF_WGRAD). */
typedef struct {
    tf_fn whole[TF_KINDS], edge[TF_KINDS], shrt[3][TF_KINDS];
} wino_tfs;

/* Indexed by m - 2: F(2x2,3x3), F(3x3,3x3), F(4x4,3x3). */
extern const wino_tfs wino_tfs_avx512[3], wino_tfs_avx2[3], wino_tfs_portable[3];

#endif
