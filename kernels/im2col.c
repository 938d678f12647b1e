/* im2col and im2col-blas: every pass of a convolution as GEMMs around an
   im2col or col2im, on our sgemm_block (gemm.c) or on OpenBLAS's
   cblas_sgemm. The two backends share all of this file; only the block
   GEMM differs.

   With NHWC activations and HWIO weights, the GEMM rows are the output
   pixels (n,p,q), M = N*P*Q, and the reduction index is (r,s,c), RSC = R*S*C:
     col[npq][rsc] = x[n][p*st-pad+r][q*st-pad+s][c]   (0 in the padding)
     forward           Y[M][K] = relu?(col[M][RSC] . W[RSC][K] + bias)
     backward_data     dcol[M][RSC] = dY[M][K] . W^T[K][RSC];  dx = col2im(dcol)
     backward_weights  dW[RSC][K] = col^T . dY[M][K]   (dbias = column sums)

   Loop order: the M rows are cut into blocks sized so one block of col
   (rows x RSC) stays in L2 (half of L2 per thread, cpu_l2_bytes(): 256 KiB
   on a 512 KiB-L2 core, 1 MiB on a 2 MiB one; and the whole team's
   blocks within CONVBENCH_IM2COL_BYTES, default 64 MiB). Each thread builds
   the col block of its rows and multiplies it at once, while it is hot:
   packing A again would be a second pass over the same data, so sgemm_block
   reads col, W and dY in place, and the forward's bias and ReLU are applied
   to the tiles in registers. Blocks are shared out statically, their count
   a multiple of the team size.
     forward           per block: im2col; Y rows = epilogue(col . W)
     backward_weights  per block: im2col; dW_t += col^T . dY rows, into one
                       partial dW per thread (thread 0 writes dW itself),
                       summed in thread order after a barrier; dbias alike
     backward_data     per round of one block per thread: dcol rows =
                       dY rows . W^T; barrier; col2im of the round's rows as
                       a gather per input pixel (threads over image rows, so
                       no element has two writers and the sum order is fixed)
   For fixed (n,p,q,r) the S*C values of a col row segment are contiguous in
   x (w = q*st-pad+s runs over consecutive pixels), so im2col is one clipped
   copy per (row, r), the interior windows one tight loop. A 1x1, stride-1,
   pad-0 convolution needs no im2col: col is x itself, and dx = dY . W^T.

   Groups, dilation, a stride per axis and padding per side (conv.h) take a
   general im2col and col2im that step tap by tap (one copy of C/g floats
   per tap and group) instead of the window copies above; a col row holds
   the groups one after another, [g][R*S*(C/g)], so for g = 1 it is the
   layout above, and each pass is g GEMMs per block, group i's on its
   columns of col, its K/g columns of W, Y and dY (leading dimensions
   R*S*C and K, no copies). Shapes without those features run exactly the
   code above.
   Cost: 2*M*K*RSC/g flops per pass; im2col/col2im move M*RSC floats (R*S /
   stride^2 times the input), from and to L2. Workspace, allocated at plan
   time: the team's col blocks, W^T, threads - 1 partial dW and threads x K
   partial bias sums. */
#include <cblas.h>
#include <limits.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cpu.h"
#include "gemm.h"
#include "shape.h"

/* C[m][n] = epilogue(op(A) . B) on the calling thread: A row-major (lda) or,
   with ta, A^T stored k x m; B row-major k x n. */
typedef void (*block_gemm_fn)(gemm_trans ta, int m, int n, int k, const float *a, int lda,
                              const float *b, int ldb, const gemm_epilogue *e, float *c, int ldc);

enum { ROW_UNIT = 12 }; /* every ISA's MR divides it */

struct conv_plan {
    conv_shape s;
    conv_geom g;
    int p, q, rsc, nt;
    int rscg, kg;   /* the GEMMs' reduction R*S*(C/g) and columns K/g */
    int general;    /* groups, dilation, per-axis stride or per-side padding */
    int direct;     /* 1x1, stride 1, pad 0: GEMM straight on x */
    size_t m;       /* GEMM rows, N*P*Q */
    size_t rows;    /* GEMM rows per block */
    size_t nblk;    /* blocks, a multiple of nt where the rows allow */
    float *col;     /* nt blocks of rows x RSC (NULL when direct) */
    float *wt;      /* W^T, K x RSC, rebuilt every backward_data */
    float *dwp;     /* nt - 1 partial dW, RSC x K each */
    float *partial; /* nt x K partial bias sums */
    block_gemm_fn gemm;
    size_t sub; /* forward: rows per L1 piece of a block (0: whole) */
    char impl[3][96];
};

static void our_block_gemm(gemm_trans ta, int m, int n, int k, const float *a, int lda,
                           const float *b, int ldb, const gemm_epilogue *e, float *c, int ldc)
{
    sgemm_block(m, n, k, a, ta ? 1 : (size_t)lda, ta ? (size_t)lda : 1, b, (size_t)ldb, e, c,
                (size_t)ldc);
}

/* OpenBLAS (its OpenMP build runs on the calling thread inside a parallel
   region) with the epilogue as passes over the block of C, which is hot. */
static void blas_block_gemm(gemm_trans ta, int m, int n, int k, const float *a, int lda,
                            const float *b, int ldb, const gemm_epilogue *e, float *c, int ldc)
{
    float beta = e->beta;
    if (e->bias) {
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++) {
                float *cij = c + (size_t)i * ldc + j;
                *cij = e->bias[j] + (beta == 0.0f ? 0.0f : beta * *cij);
            }
        beta = 1.0f;
    }
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, CblasNoTrans, m, n, k, 1.0f, a, lda,
                b, ldb, beta, c, ldc);
    if (e->relu)
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++) {
                float *cij = c + (size_t)i * ldc + j;
                if (*cij < 0.0f) *cij = 0.0f;
            }
}

static const char *im2col_unsupported(const conv_shape *s)
{
    const char *why = conv_shape_invalid(s);
    if (why) return why;
    if ((long long)s->r * s->s * s->c > INT_MAX / 2)
        return "R*S*C exceeds the GEMM's int dimension";
    return NULL;
}

static size_t cap_bytes(void)
{
    const char *env = getenv("CONVBENCH_IM2COL_BYTES");
    long long v = env ? atoll(env) : 0;
    return v > 0 ? (size_t)v : (size_t)64 << 20;
}

static size_t ceil_div(size_t a, size_t b) { return (a + b - 1) / b; }

/* Rows per block: one thread's col block within half of L2 and the team's
   within the cap, a multiple of ROW_UNIT when that leaves at least one unit;
   then the block count rounded up to a multiple of the team size and the
   rows evened out over the blocks. */
static void plan_blocks(conv_plan *pl)
{
    size_t per_thread = cap_bytes() / (size_t)pl->nt;
    if (per_thread > cpu_l2_bytes() / 2) per_thread = cpu_l2_bytes() / 2;
    size_t rows = per_thread / (sizeof(float) * (size_t)pl->rsc);
    if (rows >= ROW_UNIT) rows = rows / ROW_UNIT * ROW_UNIT;
    if (rows < 1) rows = 1;
    if (rows > (size_t)INT_MAX / 2) rows = (size_t)INT_MAX / 2;
    size_t nblk = ceil_div(pl->m, rows);
    nblk = ceil_div(nblk, (size_t)pl->nt) * pl->nt;
    size_t even = ceil_div(pl->m, nblk);
    if (rows >= ROW_UNIT) even = ceil_div(even, ROW_UNIT) * ROW_UNIT;
    if (even < rows) rows = even;
    pl->rows = rows;
    pl->nblk = ceil_div(pl->m, rows);
}

/* The forward builds and multiplies a block in pieces of col that fit half
   of L1, where the copy's stores are still in L1 when the GEMM reads them
   (they would otherwise go out to L2 and back), when such a piece holds at
   most 4 row units: long rows, so each piece's GEMM is long in k and its
   call costs nothing next to it. Measured in one process at batch 32: the
   seed's conv2 (RSC 288) -1..+3%, conv3 (RSC 576) +3..5%, at 1 and 2 threads;
   conv1 (RSC 9, pieces of 672 rows) lost 2-4% to the calls. */
static size_t forward_piece(const conv_plan *pl)
{
    if (pl->direct) return 0;
    size_t rows = cpu_l1d_bytes() / 2 / (sizeof(float) * (size_t)pl->rsc);
    rows = rows < ROW_UNIT ? ROW_UNIT : rows / ROW_UNIT * ROW_UNIT;
    return rows <= 4 * ROW_UNIT && rows < pl->rows ? rows : 0;
}

static conv_plan *plan_make(const conv_shape *s, block_gemm_fn gemm, const char *gemm_name)
{
    if (im2col_unsupported(s)) return NULL;
    conv_plan *pl = calloc(1, sizeof *pl);
    if (!pl) return NULL;
    pl->s = *s;
    pl->g = conv_geometry(s);
    pl->p = conv_out_h(s);
    pl->q = conv_out_w(s);
    pl->rsc = s->r * s->s * s->c;
    pl->rscg = pl->rsc / pl->g.g;
    pl->kg = s->k / pl->g.g;
    pl->nt = omp_get_max_threads();
    pl->general = conv_shape_extended(s) != NULL;
    pl->direct = s->r == 1 && s->s == 1 && pl->g.sh == 1 && pl->g.sw == 1 && pl->g.pt == 0 &&
                 pl->g.pb == 0 && pl->g.pl == 0 && pl->g.pr == 0;
    pl->m = (size_t)s->n * pl->p * pl->q;
    pl->gemm = gemm;
    plan_blocks(pl);
    pl->sub = forward_piece(pl);
    const size_t rk = (size_t)pl->rscg * s->k;
    if (!pl->direct) pl->col = cpu_alloc(sizeof(float) * (size_t)pl->nt * pl->rows * pl->rsc);
    pl->wt = cpu_alloc(sizeof(float) * rk);
    pl->dwp = pl->nt > 1 ? cpu_alloc(sizeof(float) * (size_t)(pl->nt - 1) * rk) : NULL;
    pl->partial = cpu_alloc(sizeof(float) * (size_t)pl->nt * s->k);
    if ((!pl->direct && !pl->col) || !pl->wt || (pl->nt > 1 && !pl->dwp) || !pl->partial) {
        free(pl->col);
        free(pl->wt);
        free(pl->dwp);
        free(pl->partial);
        free(pl);
        return NULL;
    }
    const char *fmt[3] = { pl->direct ? "1x1: %s on x" : "im2col blocks + %s",
                           pl->direct ? "1x1: %s with W^T" : "%s with W^T + col2im",
                           pl->direct ? "1x1: x^T . dY on %s" : "im2col^T . dY on %s" };
    for (int i = 0; i < 3; i++) {
        int used = snprintf(pl->impl[i], sizeof pl->impl[i], fmt[i], gemm_name);
        if (pl->general && used > 0 && (size_t)used < sizeof pl->impl[i])
            snprintf(pl->impl[i] + used, sizeof pl->impl[i] - (size_t)used,
                     ", general taps, groups %d", pl->g.g);
    }
    return pl;
}

static conv_plan *im2col_plan(const conv_shape *s)
{
    char name[64];
    snprintf(name, sizeof name, "sgemm %s", sgemm_impl());
    return plan_make(s, our_block_gemm, name);
}

static conv_plan *im2col_blas_plan(const conv_shape *s)
{
    return plan_make(s, blas_block_gemm, "openblas");
}

static void im2col_destroy(conv_plan *pl)
{
    if (!pl) return;
    free(pl->col);
    free(pl->wt);
    free(pl->dwp);
    free(pl->partial);
    free(pl);
}

/* count windows of sc floats, src advancing by step, d by ld. Inlined with
   sc constant for the common small windows (3x3 over 1 or 3 channels),
   where a general copy loop costs more than the copy. */
static inline __attribute__((always_inline)) void copy_windows(float *d, size_t ld,
                                                               const float *src, size_t step,
                                                               int count, int sc)
{
    for (int k = 0; k < count; k++, d += ld, src += step)
        for (int j = 0; j < sc; j++) d[j] = src[j];
}

static void copy_windows_any(float *d, size_t ld, const float *src, size_t step, int count, int sc)
{
    switch (sc) {
    case 3: copy_windows(d, ld, src, step, count, 3); break;
    case 9: copy_windows(d, ld, src, step, count, 9); break;
    default: copy_windows(d, ld, src, step, count, sc); break;
    }
}

/* d[0:S*C] = x[n][h][w0 .. w0+S-1][0:C], zero outside the image: one
   filter row's window of one output pixel. */
static void window_row(const conv_shape *s, const float *x, size_t n, int h, int w0, float *d)
{
    const int SC = s->s * s->c;
    if (h < 0 || h >= s->h) {
        for (int j = 0; j < SC; j++) d[j] = 0.0f;
        return;
    }
    int lo = w0 < 0 ? -w0 * s->c : 0;
    int hi = (s->w - w0 < s->s ? s->w - w0 : s->s) * s->c;
    if (hi < lo) hi = lo;
    for (int j = 0; j < lo; j++) d[j] = 0.0f;
    if (hi > lo) {
        /* the pointer is formed at the first pixel inside the image: with
           w0 < 0 the window's start lies before x, and forming that
           pointer is undefined (it wrapped: clang UBSan, pointer-overflow) */
        const float *src = x + ((n * s->h + h) * s->w) * s->c + (size_t)(w0 * s->c + lo);
        for (int j = lo; j < hi; j++) d[j] = src[j - lo];
    }
    for (int j = hi; j < SC; j++) d[j] = 0.0f;
}

/* col[i][0:RSC] for GEMM rows m0 .. m0+rows-1, on the calling thread,
   stepping (n,p,q) along them one piece of an output row at a time. */
static void im2col_rows(const conv_plan *pl, const float *x, size_t m0, size_t rows, float *col)
{
    const conv_shape s = pl->s;
    const int SC = s.s * s.c, P = pl->p, Q = pl->q;
    const size_t PQ = (size_t)P * Q, ld = (size_t)pl->rsc;
    size_t n = m0 / PQ;
    int p = (int)(m0 % PQ / Q), q = (int)(m0 % Q);
    /* q in [qa, qb): the whole window lies inside the row */
    const int qa0 = (s.pad + s.stride - 1) / s.stride;
    const int qb0 = s.w - s.s + s.pad < 0 ? 0 : (s.w - s.s + s.pad) / s.stride + 1;
    for (size_t i = 0; i < rows;) {
        int qe = rows - i < (size_t)(Q - q) ? q + (int)(rows - i) : Q;
        float *drow = col + i * ld;
        for (int r = 0; r < s.r; r++) {
            int h = p * s.stride - s.pad + r;
            float *d = drow + r * SC;
            if (h < 0 || h >= s.h) {
                for (int qq = q; qq < qe; qq++, d += ld) window_row(&s, x, n, h, 0, d);
                continue;
            }
            const float *xrow = x + (n * s.h + h) * s.w * s.c;
            int qa = qa0 < q ? q : qa0 > qe ? qe : qa0;
            int qb = qb0 > qe ? qe : qb0 < qa ? qa : qb0;
            for (int qq = q; qq < qe; qq++, d += ld) {
                if (qq == qa && qb > qa) {
                    copy_windows_any(d, ld, xrow + (size_t)(qa * s.stride - s.pad) * s.c,
                                     (size_t)s.stride * s.c, qb - qa, SC);
                    d += (size_t)(qb - qa - 1) * ld;
                    qq = qb - 1;
                    continue;
                }
                window_row(&s, x, n, h, qq * s.stride - s.pad, d);
            }
        }
        i += (size_t)(qe - q);
        q = qe;
        if (q == Q) {
            q = 0;
            if (++p == P) {
                p = 0;
                n++;
            }
        }
    }
}

/* dx += the contributions of dcol rows m0 .. m0+rows-1, gathered per input
   pixel of the images those rows belong to; a worksharing loop, so the
   team shares the image rows (ends in a barrier). */
static void col2im_rows(const conv_plan *pl, const float *col, size_t m0, size_t rows, float *dx)
{
    const conv_shape s = pl->s;
    const size_t PQ = (size_t)pl->p * pl->q, ld = (size_t)pl->rsc;
    const size_t n0 = m0 / PQ, n1 = (m0 + rows - 1) / PQ + 1;
#pragma omp for schedule(static)
    for (size_t nh = n0 * s.h; nh < n1 * s.h; nh++) {
        size_t n = nh / s.h;
        int h = (int)(nh % s.h);
        for (int wi = 0; wi < s.w; wi++) {
            float *d = dx + ((n * s.h + h) * s.w + wi) * s.c;
            for (int r = 0; r < s.r; r++) {
                int ph = h + s.pad - r; /* = p * stride */
                if (ph < 0 || ph % s.stride || ph / s.stride >= pl->p) continue;
                int p = ph / s.stride;
                for (int t = 0; t < s.s; t++) {
                    int qw = wi + s.pad - t;
                    if (qw < 0 || qw % s.stride || qw / s.stride >= pl->q) continue;
                    size_t row = (n * pl->p + p) * pl->q + qw / s.stride;
                    if (row < m0 || row >= m0 + rows) continue;
                    const float *src = col + (row - m0) * ld + ((size_t)r * s.s + t) * s.c;
                    for (int c = 0; c < s.c; c++) d[c] += src[c];
                }
            }
        }
    }
}

/* The general im2col: col[i][gi][r][s][0:C/g] for GEMM rows m0 ..
   m0+rows-1, tap by tap at h = p*SH - top + r*DH, w = q*SW - left + s*DW. */
static void im2col_rows_general(const conv_plan *pl, const float *x, size_t m0, size_t rows,
                                float *col)
{
    const conv_shape s = pl->s;
    const conv_geom g = pl->g;
    const int CG = s.c / g.g, P = pl->p, Q = pl->q;
    const size_t PQ = (size_t)P * Q;
    for (size_t i = 0; i < rows; i++) {
        const size_t m = m0 + i, n = m / PQ;
        const int p = (int)(m % PQ / Q), q = (int)(m % Q);
        float *d = col + i * pl->rsc;
        for (int gi = 0; gi < g.g; gi++)
            for (int r = 0; r < s.r; r++) {
                const int h = p * g.sh - g.pt + r * g.dh;
                for (int t = 0; t < s.s; t++, d += CG) {
                    const int w = q * g.sw - g.pl + t * g.dw;
                    if (h < 0 || h >= s.h || w < 0 || w >= s.w) {
                        memset(d, 0, sizeof(float) * CG);
                        continue;
                    }
                    memcpy(d, x + ((n * s.h + h) * s.w + w) * s.c + (size_t)gi * CG,
                           sizeof(float) * CG);
                }
            }
    }
}

/* The general col2im: as col2im_rows, for the taps and layout of
   im2col_rows_general. */
static void col2im_rows_general(const conv_plan *pl, const float *col, size_t m0, size_t rows,
                                float *dx)
{
    const conv_shape s = pl->s;
    const conv_geom g = pl->g;
    const int CG = s.c / g.g;
    const size_t PQ = (size_t)pl->p * pl->q, ld = (size_t)pl->rsc;
    const size_t n0 = m0 / PQ, n1 = (m0 + rows - 1) / PQ + 1;
#pragma omp for schedule(static)
    for (size_t nh = n0 * s.h; nh < n1 * s.h; nh++) {
        size_t n = nh / s.h;
        int h = (int)(nh % s.h);
        for (int wi = 0; wi < s.w; wi++) {
            float *d = dx + ((n * s.h + h) * s.w + wi) * s.c;
            for (int r = 0; r < s.r; r++) {
                int ph = h + g.pt - r * g.dh; /* = p * SH */
                if (ph < 0 || ph % g.sh || ph / g.sh >= pl->p) continue;
                for (int t = 0; t < s.s; t++) {
                    int qw = wi + g.pl - t * g.dw;
                    if (qw < 0 || qw % g.sw || qw / g.sw >= pl->q) continue;
                    size_t row = (n * pl->p + ph / g.sh) * pl->q + qw / g.sw;
                    if (row < m0 || row >= m0 + rows) continue;
                    const float *src = col + (row - m0) * ld + ((size_t)r * s.s + t) * CG;
                    for (int gi = 0; gi < g.g; gi++, src += pl->rscg)
                        for (int c = 0; c < CG; c++) d[gi * CG + c] += src[c];
                }
            }
        }
    }
}

static void build_cols(const conv_plan *pl, const float *x, size_t m0, size_t rows, float *col)
{
    if (pl->general)
        im2col_rows_general(pl, x, m0, rows, col);
    else
        im2col_rows(pl, x, m0, rows, col);
}

/* Thread t's column block (NULL for a 1x1 layer, which has none). */
static float *thread_col(const conv_plan *pl, int t)
{
    return pl->col ? pl->col + (size_t)t * pl->rows * pl->rsc : NULL;
}

static void block_range(const conv_plan *pl, size_t b, size_t *m0, size_t *rows)
{
    *m0 = b * pl->rows;
    *rows = pl->m - *m0 < pl->rows ? pl->m - *m0 : pl->rows;
}

/* Block b's rows of the GEMM's A: their im2col, built in col, or x itself
   for a 1x1 layer. */
static const float *block_cols(const conv_plan *pl, const float *x, size_t b, float *col,
                               size_t *m0, size_t *rows)
{
    block_range(pl, b, m0, rows);
    if (pl->direct) return x + *m0 * pl->rsc;
    build_cols(pl, x, *m0, *rows, col);
    return col;
}

/* Y rows of a block, group by group: Y[:, gi*KG..] = A[:, gi*RSCG..] .
   W[:, gi*KG..] (+ bias, ReLU); one GEMM when g = 1. */
static void forward_gemms(const conv_plan *pl, int rows, const float *a, const float *w,
                          const float *bias, int relu, float *y)
{
    const int K = pl->s.k, RSC = pl->rsc;
    for (int gi = 0; gi < pl->g.g; gi++) {
        const size_t kk = (size_t)gi * pl->kg;
        const gemm_epilogue e = { 0.0f, bias ? bias + kk : NULL, relu };
        pl->gemm(GEMM_NOTRANS, rows, pl->kg, pl->rscg, a + (size_t)gi * pl->rscg, RSC, w + kk, K,
                 &e, y + kk, K);
    }
}

static void forward(conv_plan *pl, const float *x, const float *w, const float *bias, float *y,
                    int relu)
{
    const int K = pl->s.k;
#pragma omp parallel num_threads(pl->nt)
    {
        float *col = thread_col(pl, omp_get_thread_num());
#pragma omp for schedule(static)
        for (size_t b = 0; b < pl->nblk; b++) {
            size_t m0, rows;
            if (pl->sub) {
                block_range(pl, b, &m0, &rows);
                for (size_t i = 0; i < rows; i += pl->sub) {
                    size_t n = rows - i < pl->sub ? rows - i : pl->sub;
                    build_cols(pl, x, m0 + i, n, col);
                    forward_gemms(pl, (int)n, col, w, bias, relu, y + (m0 + i) * K);
                }
                continue;
            }
            const float *a = block_cols(pl, x, b, col, &m0, &rows);
            forward_gemms(pl, (int)rows, a, w, bias, relu, y + m0 * K);
        }
    }
}

static void im2col_forward(conv_plan *pl, const float *x, const float *w, const float *bias,
                           float *y)
{
    forward(pl, x, w, bias, y, 0);
}

static void im2col_forward_relu(conv_plan *pl, const float *x, const float *w, const float *bias,
                                float *y)
{
    forward(pl, x, w, bias, y, 1);
}

/* dcol rows of a block, group by group: dcol[:, gi*RSCG..] =
   dY[:, gi*KG..] . W^T[gi*KG.., :] (W^T is K x RSCG); one GEMM when g = 1. */
static void data_gemms(const conv_plan *pl, int rows, const float *dy, float *dcol)
{
    const int K = pl->s.k, RSC = pl->rsc, RSCG = pl->rscg;
    const gemm_epilogue e = { 0.0f, NULL, 0 };
    for (int gi = 0; gi < pl->g.g; gi++)
        pl->gemm(GEMM_NOTRANS, rows, RSCG, pl->kg, dy + (size_t)gi * pl->kg, K,
                 pl->wt + (size_t)gi * pl->kg * RSCG, RSCG, &e, dcol + (size_t)gi * RSCG, RSC);
}

static void im2col_backward_data(conv_plan *pl, const float *dy, const float *w, float *dx)
{
    const int K = pl->s.k, RSC = pl->rsc, RSCG = pl->rscg;
    const size_t nx = (size_t)pl->s.n * pl->s.h * pl->s.w * pl->s.c;
#pragma omp parallel num_threads(pl->nt)
    {
        const int t = omp_get_thread_num(), nth = omp_get_num_threads();
#pragma omp for schedule(static) collapse(2)
        for (int c = 0; c < RSCG; c++)
            for (int k = 0; k < K; k++) pl->wt[(size_t)k * RSCG + c] = w[(size_t)c * K + k];
        if (pl->direct) {
#pragma omp for schedule(static)
            for (size_t b = 0; b < pl->nblk; b++) {
                size_t m0, rows;
                block_range(pl, b, &m0, &rows);
                data_gemms(pl, (int)rows, dy + m0 * K, dx + m0 * RSC);
            }
        } else {
#pragma omp for schedule(static)
            for (size_t i = 0; i < nx; i++) dx[i] = 0.0f;
            /* rounds of one block per thread; the blocks of a round are
               consecutive, so their dcol rows are one array */
            for (size_t r0 = 0; r0 < pl->nblk; r0 += (size_t)nth) {
                size_t m0, rows;
                if (r0 + t < pl->nblk) {
                    block_range(pl, r0 + t, &m0, &rows);
                    data_gemms(pl, (int)rows, dy + m0 * K, thread_col(pl, t));
                }
                size_t last = r0 + nth < pl->nblk ? r0 + nth : pl->nblk;
                m0 = r0 * pl->rows;
                rows = (last * pl->rows < pl->m ? last * pl->rows : pl->m) - m0;
#pragma omp barrier
                if (pl->general) /* each ends in a barrier */
                    col2im_rows_general(pl, pl->col, m0, rows, dx);
                else
                    col2im_rows(pl, pl->col, m0, rows, dx);
            }
        }
    }
}

static void im2col_backward_weights(conv_plan *pl, const float *x, const float *dy, float *dw,
                                    float *dbias)
{
    const int K = pl->s.k, RSC = pl->rsc, RSCG = pl->rscg;
    const size_t rk = (size_t)RSCG * K;
    int used = 1;
#pragma omp parallel num_threads(pl->nt)
    {
        const int t = omp_get_thread_num(), nth = omp_get_num_threads();
#pragma omp single
        used = nth;
        float *col = thread_col(pl, t);
        float *dwt = t == 0 ? dw : pl->dwp + (size_t)(t - 1) * rk;
        float *bsum = pl->partial + (size_t)t * K;
        for (int k = 0; k < K; k++) bsum[k] = 0.0f;
        int first = 1;
#pragma omp for schedule(static) nowait
        for (size_t b = 0; b < pl->nblk; b++) {
            size_t m0, rows;
            const float *a = block_cols(pl, x, b, col, &m0, &rows);
            const gemm_epilogue e = { first ? 0.0f : 1.0f, NULL, 0 };
            for (int gi = 0; gi < pl->g.g; gi++) /* dW[:, gi*KG..] += A_gi^T . dY_gi */
                pl->gemm(GEMM_TRANS, RSCG, pl->kg, (int)rows, a + (size_t)gi * RSCG, RSC,
                         dy + m0 * K + (size_t)gi * pl->kg, K, &e, dwt + (size_t)gi * pl->kg, K);
            first = 0;
            if (dbias)
                for (size_t i = m0; i < m0 + rows; i++)
                    for (int k = 0; k < K; k++) bsum[k] += dy[i * K + k];
        }
        if (first)
            for (size_t i = 0; i < rk; i++) dwt[i] = 0.0f;
#pragma omp barrier
#pragma omp for schedule(static)
        /* partial sums added in thread order: deterministic for a team size */
        for (size_t i = 0; i < rk; i++)
            for (int u = 1; u < nth; u++) dw[i] += pl->dwp[(size_t)(u - 1) * rk + i];
    }
    if (dbias)
        for (int k = 0; k < K; k++) {
            float sum = 0.0f;
            for (int t = 0; t < used; t++) sum += pl->partial[(size_t)t * K + k];
            dbias[k] = sum;
        }
}

static const char *im2col_impl(const conv_plan *pl, conv_pass pass) { return pl->impl[pass]; }

const conv_backend conv_im2col = {
    .name = "im2col",
    .unsupported = im2col_unsupported,
    .plan = im2col_plan,
    .forward = im2col_forward,
    .backward_data = im2col_backward_data,
    .backward_weights = im2col_backward_weights,
    .destroy = im2col_destroy,
    .impl = im2col_impl,
    .forward_relu = im2col_forward_relu,
};

const conv_backend conv_im2col_blas = {
    .name = "im2col-blas",
    .unsupported = im2col_unsupported,
    .plan = im2col_blas_plan,
    .forward = im2col_forward,
    .backward_data = im2col_backward_data,
    .backward_weights = im2col_backward_weights,
    .destroy = im2col_destroy,
    .impl = im2col_impl,
    .forward_relu = im2col_forward_relu,
};
