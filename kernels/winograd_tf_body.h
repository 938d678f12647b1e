/* The Winograd transforms, compiled once per ISA: a winograd_tf_<isa>.c
   file sets its target with #pragma GCC target, defines WINO_TFS as the
   name of its table (wino_tfs_<isa>, see winograd_tf.h) and includes this.

   A transform moves VL = 16 channels, as VL / VW of the target's widest
   vectors (VW floats: one zmm with AVX-512, two ymm with AVX, four xmm
   with SSE), one after the other. tf_apply below is the one general
   transform; every (tile size, transform, whole or edge tile) gets its
   own small function in which tf_apply is inlined with L a constant table
   and constant sizes, so the loops unroll, L's entries fold into the code
   and X, L X and Y live in registers. Kept apart, each is compiled on its
   own: one function holding all of them (switching on tile size,
   transform and edge) took GCC minutes. */
#include <stdint.h>
#include <string.h>
#include "winograd_tf.h"

/* The target's widest vector (VW floats). */
#include "vec_width.h"
#define VW VEC_FLOATS
typedef float vf __attribute__((vector_size(VW * sizeof(float))));
typedef int32_t vi __attribute__((vector_size(VW * sizeof(int32_t))));

/* out[o] = sum_i L(o, i) in[i] over VW-channel vectors, with L(o, i) =
   L[o*ri + i], or L[i*ro + o] when lt. F(4x4,3x3)'s four data transforms
   are written out with their common terms shared (Lavin & Gray's
   factoring: 12 operations for B^T instead of 20 from the table, 10 for
   A^T instead of 18). The transforms are a quarter of a pass but bound by
   their L2 traffic more than by arithmetic: this gained conv2 1-1.5%. The
   other matrices go through the table, their entries folded into the code.
   The operation order differs from the table's by rounding only. */
static inline __attribute__((always_inline)) void lin(const double *L, int ro, int ri, int lt,
                                                      const vf *in, vf *out)
{
    if (L == f43_bt && !lt) { /* B^T d */
        const vf p = in[4] - 4.0f * in[2], q = in[3] - 4.0f * in[1];
        const vf s = in[4] - in[2], u = in[3] - in[1];
        out[0] = 4.0f * in[0] - 5.0f * in[2] + in[4];
        out[1] = p + q;
        out[2] = p - q;
        out[3] = s + 2.0f * u;
        out[4] = s - 2.0f * u;
        out[5] = 4.0f * in[1] - 5.0f * in[3] + in[5];
        return;
    }
    if (L == f43_bt && lt) { /* B x (the input transform's adjoint) */
        const vf a = in[1] - in[2], b = in[3] - in[4];
        const vf c = in[1] + in[2], d = in[3] + in[4];
        out[0] = 4.0f * in[0];
        out[1] = 4.0f * in[5] - 4.0f * a - 2.0f * b;
        out[2] = -5.0f * in[0] - 4.0f * c - d;
        out[3] = a + 2.0f * b - 5.0f * in[5];
        out[4] = in[0] + c + d;
        out[5] = in[5];
        return;
    }
    if (L == f43_at && !lt) { /* A^T m */
        const vf a = in[1] + in[2], b = in[1] - in[2];
        const vf c = in[3] + in[4], d = in[3] - in[4];
        out[0] = in[0] + a + c;
        out[1] = b + 2.0f * d;
        out[2] = a + 4.0f * c;
        out[3] = b + 8.0f * d + in[5];
        return;
    }
    if (L == f43_at && lt) { /* A dy */
        const vf a = in[0] + in[2], b = in[1] + in[3];
        const vf c = in[0] + 4.0f * in[2], e = in[1] + 4.0f * in[3];
        out[0] = in[0];
        out[1] = a + b;
        out[2] = a - b;
        out[3] = c + 2.0f * e;
        out[4] = c - 2.0f * e;
        out[5] = in[3];
        return;
    }
#pragma GCC unroll 8
    for (int o = 0; o < ro; o++) {
        vf acc = { 0 };
        int first = 1;
#pragma GCC unroll 8
        for (int i = 0; i < ri; i++) {
            const float c = (float)(lt ? L[i * ro + o] : L[o * ri + i]);
            if (c == 0.0f) continue;
            acc = first ? c * in[i] : acc + c * in[i];
            first = 0;
        }
        out[o] = acc;
    }
}

/* Y = L X L^T (L^T X L when lt) on VW channels, see tf_fn, clamped at 0
   with relu, added into y with add; with clip, only its points (see
   tf_clip): the unrolled loads and stores each test their point against
   it, which replaced copies through zero-padded staging. */
static inline __attribute__((always_inline)) void tf_apply_vw(
    const double *L, int ro, int ri, int lt, const float *x, ptrdiff_t xr, ptrdiff_t xc, float *y,
    ptrdiff_t yr, ptrdiff_t yc, const float *bias, const tf_clip *clip, int relu, int add)
{
    vf in[ALPHA_MAX], t[ALPHA_MAX * ALPHA_MAX], col[ALPHA_MAX], row[ALPHA_MAX];
    const int i0 = clip ? clip->i0 : 0, i1 = clip ? clip->i1 : ri;
    const int j0 = clip ? clip->j0 : 0, j1 = clip ? clip->j1 : ri;
    const int o0 = clip ? clip->o0 : 0, o1 = clip ? clip->o1 : ro;
    const int p0 = clip ? clip->p0 : 0, p1 = clip ? clip->p1 : ro;
#pragma GCC unroll 8
    /* L X, a column of X at a time */
    for (int j = 0; j < ri; j++) {
#pragma GCC unroll 8
        for (int i = 0; i < ri; i++) {
            in[i] = (vf){ 0 };
            if (i >= i0 && i < i1 && j >= j0 && j < j1)
                memcpy(&in[i], x + (i - i0) * xr + (j - j0) * xc, sizeof(vf));
        }
        lin(L, ro, ri, lt, in, col);
#pragma GCC unroll 8
        for (int o = 0; o < ro; o++) t[o * ri + j] = col[o];
    }
    vf b = { 0 };
    if (bias) memcpy(&b, bias, sizeof b);
#pragma GCC unroll 8
    /* (L X) L^T, a row at a time */
    for (int o = 0; o < ro; o++) {
        lin(L, ro, ri, lt, t + o * ri, row);
#pragma GCC unroll 8
        for (int o2 = 0; o2 < ro; o2++) {
            if (o < o0 || o >= o1 || o2 < p0 || o2 >= p1) continue;
            vf acc = row[o2];
            if (bias) acc += b;
            float *yp = y + (o - o0) * yr + (o2 - p0) * yc;
            if (relu) acc = (vf)((vi)acc & ~(acc < (vf){ 0 }));
            if (add) {
                vf old;
                memcpy(&old, yp, sizeof old);
                acc += old;
            }
            memcpy(yp, &acc, sizeof acc);
        }
    }
}

/* The same on VL channels, VW at a time */
static inline __attribute__((always_inline)) void tf_apply(const double *L, int ro, int ri, int lt,
                                                           const float *x, ptrdiff_t xr,
                                                           ptrdiff_t xc, float *y, ptrdiff_t yr,
                                                           ptrdiff_t yc, const float *bias,
                                                           const tf_clip *clip, int relu, int add)
{
    for (int h = 0; h < VL; h += VW)
        tf_apply_vw(L, ro, ri, lt, x + h, xr, xc, y + h, yr, yc, bias ? bias + h : NULL, clip, relu,
                    add);
}

/* A whole-tile function and an edge function NAME_edge applying matrix L
   (ro x ri; lt: transposed) with relu and add as given. */
#define TF_WHOLE(name, L, ro, ri, lt, relu, add)                                                   \
    static void name(const float *x, ptrdiff_t xr, ptrdiff_t xc, float *y, ptrdiff_t yr,           \
                     ptrdiff_t yc, const float *bias, const tf_clip *clip)                         \
    {                                                                                              \
        tf_apply(L, ro, ri, lt, x, xr, xc, y, yr, yc, bias, NULL, relu, add);                      \
    }
#define TF_BOTH(name, L, ro, ri, lt, relu, add)                                                    \
    TF_WHOLE(name, L, ro, ri, lt, relu, add)                                                       \
    static void name##_edge(const float *x, ptrdiff_t xr, ptrdiff_t xc, float *y, ptrdiff_t yr,    \
                            ptrdiff_t yc, const float *bias, const tf_clip *clip)                  \
    {                                                                                              \
        tf_apply(L, ro, ri, lt, x, xr, xc, y, yr, yc, bias, clip, relu, add);                      \
    }

/* An edge tile one point short at the bottom (S = 1), on the right (2) or
   both (3), its clip a constant so that the point tests compile out: the
   common edge of a valid layer whose size is one less than a multiple of
   m (the seed's 11x11 and 13x13 images). IN: the inputs are short (the
   input transforms), else the outputs are. */
#define TF_SHORT1(name, S, L, ro, ri, lt, relu, add, IN)                                           \
    static void name##_s##S(const float *x, ptrdiff_t xr, ptrdiff_t xc, float *y, ptrdiff_t yr,    \
                            ptrdiff_t yc, const float *bias, const tf_clip *clip)                  \
    {                                                                                              \
        const int sr = (S)&1, sc = (S) >> 1;                                                       \
        const tf_clip c = { 0, ri - (IN ? sr : 0), 0, ri - (IN ? sc : 0),                          \
                            0, ro - (IN ? 0 : sr), 0, ro - (IN ? 0 : sc) };                        \
        (void)clip;                                                                                \
        tf_apply(L, ro, ri, lt, x, xr, xc, y, yr, yc, bias, &c, relu, add);                        \
    }
#define TF_EDGES(name, L, ro, ri, lt, relu, add, IN)                                               \
    TF_BOTH(name, L, ro, ri, lt, relu, add)                                                        \
    TF_SHORT1(name, 1, L, ro, ri, lt, relu, add, IN)                                               \
    TF_SHORT1(name, 2, L, ro, ri, lt, relu, add, IN)                                               \
    TF_SHORT1(name, 3, L, ro, ri, lt, relu, add, IN)

/* A tile size's functions, prefixed P, from its matrices at (m x a), g
   (a x R), bt (a x a): the tf_kind list of winograd_tf.h. */
#define TF_TILE(P, m, a, at, g, bt)                                                                \
    TF_EDGES(P##_input, bt, a, a, 0, 0, 0, 1)                                                      \
    TF_WHOLE(P##_filter, g, a, R, 0, 0, 0)                                                         \
    TF_EDGES(P##_output, at, m, a, 0, 0, 0, 0)                                                     \
    TF_EDGES(P##_output_relu, at, m, a, 0, 1, 0, 0)                                                \
    TF_EDGES(P##_dy, at, a, m, 1, 0, 0, 1)                                                         \
    TF_WHOLE(P##_wgrad, g, R, a, 1, 0, 0)                                                          \
    TF_EDGES(P##_input_t, bt, a, a, 1, 0, 0, 0)                                                    \
    TF_EDGES(P##_input_t_add, bt, a, a, 1, 0, 1, 0)

TF_TILE(f23, 2, 4, f23_at, f23_g, f23_bt)
TF_TILE(f33, 3, 5, f33_at, f33_g, f33_bt)
TF_TILE(f43, 4, 6, f43_at, f43_g, f43_bt)

#define TF_SHORTS(P, S)                                                                            \
    {                                                                                              \
        P##_input_s##S, NULL, P##_output_s##S, P##_output_relu_s##S, P##_dy_s##S, NULL,            \
            P##_input_t_s##S, P##_input_t_add_s##S                                                 \
    }
#define TF_TABLE(P)                                                                                \
    {                                                                                              \
        { P##_input, P##_filter, P##_output,  P##_output_relu,                                     \
          P##_dy,    P##_wgrad,  P##_input_t, P##_input_t_add },                                   \
            { P##_input_edge, P##_filter, P##_output_edge,  P##_output_relu_edge,                  \
              P##_dy_edge,    P##_wgrad,  P##_input_t_edge, P##_input_t_add_edge },                \
            { TF_SHORTS(P, 1), TF_SHORTS(P, 2), TF_SHORTS(P, 3) },                                 \
    }

const wino_tfs WINO_TFS[3] = { TF_TABLE(f23), TF_TABLE(f33), TF_TABLE(f43) };

#undef TF_TABLE
#undef TF_SHORTS
#undef TF_EDGES
#undef TF_SHORT1
#undef TF_TILE
#undef TF_BOTH
#undef TF_WHOLE
#undef VW
