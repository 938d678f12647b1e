/* im2col and im2col-blas: every pass of a convolution as one GEMM around an
   im2col or col2im, on our sgemm (gemm.c) or on OpenBLAS's cblas_sgemm. The
   two backends share all of this file; only the GEMM function differs.

   With NHWC activations and HWIO weights, the GEMM rows are the output
   pixels (n,p,q), M = N*P*Q, and the reduction index is (r,s,c), RSC = R*S*C:
     col[npq][rsc] = x[n][p*st-pad+r][q*st-pad+s][c]   (0 in the padding)
     forward           Y[M][K]    = [col 1][M][RSC+1] . [W; bias]    (bias via a
                                   column of 1s in col: no extra pass over Y)
     backward_data     dcol[M][RSC] = dY[M][K] . W^T;  dx = col2im(dcol)
     backward_weights  dW[RSC][K] = col^T . dY[M][K]   (dbias = column sums)
   For fixed (n,p,q,r) the S*C values of a col row segment are contiguous in
   x (w = q*st-pad+s runs over consecutive pixels), so im2col is one clipped
   copy per (row, r), done per output-row piece so the interior windows are
   one tight loop. col2im is a gather: each input pixel sums the dcol
   entries of the taps that read it, so threads (over image rows) never
   write the same element and the sum order is fixed.

   The column buffer is bounded: the M rows are processed in chunks of at
   most CONVBENCH_IM2COL_BYTES bytes of col (default 64 MiB; at least one row),
   dW accumulating over chunks (beta = 1 after the first). A 1x1, stride-1,
   pad-0 convolution needs no im2col: col is x itself, and dx = dY . W^T.
   Cost: 2*M*K*RSC flops per pass in the GEMM; im2col/col2im move M*RSC
   floats (R*S/stride^2 times the input). Workspace: the col chunk, [W; bias]
   and threads x K partial bias sums, allocated at plan time. */
#include <cblas.h>
#include <limits.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cpu.h"
#include "gemm.h"
#include "shape.h"

typedef void (*gemm_fn)(gemm_trans ta, gemm_trans tb, int m, int n, int k, float alpha,
                        const float *a, int lda, const float *b, int ldb, float beta,
                        float *c, int ldc);

struct conv_plan {
    conv_shape s;
    int p, q, rsc, nt;
    int direct;              /* 1x1, stride 1, pad 0: GEMM straight on x */
    size_t m;                /* GEMM rows, N*P*Q */
    size_t chunk;            /* GEMM rows per chunk */
    size_t ldcol;            /* RSC + 1: col's last column is 1s, for the bias */
    float *col;              /* chunk x ldcol (NULL when direct) */
    float *wb;               /* [W; bias], (RSC + 1) x K, rebuilt every forward */
    float *partial;          /* nt x K partial bias sums */
    gemm_fn gemm;
    char impl[3][96];
};

static void blas_sgemm(gemm_trans ta, gemm_trans tb, int m, int n, int k, float alpha,
                       const float *a, int lda, const float *b, int ldb, float beta,
                       float *c, int ldc)
{
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
                m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
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

static conv_plan *plan_make(const conv_shape *s, gemm_fn gemm, const char *gemm_name)
{
    if (im2col_unsupported(s)) return NULL;
    conv_plan *pl = calloc(1, sizeof *pl);
    if (!pl) return NULL;
    pl->s = *s;
    pl->p = conv_out_h(s);
    pl->q = conv_out_w(s);
    pl->rsc = s->r * s->s * s->c;
    pl->nt = omp_get_max_threads();
    pl->direct = s->r == 1 && s->s == 1 && s->stride == 1 && s->pad == 0;
    pl->m = (size_t)s->n * pl->p * pl->q;
    pl->gemm = gemm;
    pl->ldcol = pl->direct ? (size_t)pl->rsc : (size_t)pl->rsc + 1;
    size_t rows = pl->direct ? pl->m : cap_bytes() / (sizeof(float) * pl->ldcol);
    if (rows < 1) rows = 1;
    if (rows > (size_t)INT_MAX / 2) rows = (size_t)INT_MAX / 2;
    pl->chunk = rows < pl->m ? rows : pl->m;
    if (!pl->direct) {
        pl->col = cpu_alloc(sizeof(float) * pl->chunk * pl->ldcol);
        pl->wb = cpu_alloc(sizeof(float) * pl->ldcol * s->k);
    }
    pl->partial = cpu_alloc(sizeof(float) * (size_t)pl->nt * s->k);
    if ((!pl->direct && (!pl->col || !pl->wb)) || !pl->partial) {
        free(pl->col);
        free(pl->wb);
        free(pl->partial);
        free(pl);
        return NULL;
    }
    const char *fmt[3] = { pl->direct ? "1x1: %s on x" : "im2col + %s",
                           pl->direct ? "1x1: %s with W^T" : "%s with W^T + col2im",
                           pl->direct ? "1x1: x^T . dY on %s" : "im2col^T . dY on %s" };
    for (int i = 0; i < 3; i++) snprintf(pl->impl[i], sizeof pl->impl[i], fmt[i], gemm_name);
    return pl;
}

static conv_plan *im2col_plan(const conv_shape *s)
{
    char name[64];
    snprintf(name, sizeof name, "sgemm %s", sgemm_impl());
    return plan_make(s, sgemm, name);
}

static conv_plan *im2col_blas_plan(const conv_shape *s)
{
    return plan_make(s, blas_sgemm, "openblas");
}

static void im2col_destroy(conv_plan *pl)
{
    if (!pl) return;
    free(pl->col);
    free(pl->wb);
    free(pl->partial);
    free(pl);
}

/* count windows of sc floats, src advancing by step, d by ld. Inlined with
   sc constant for the common small windows (3x3 over 1 or 3 channels),
   where a general copy loop costs more than the copy. */
static inline __attribute__((always_inline))
void copy_windows(float *d, size_t ld, const float *src, size_t step, int count, int sc)
{
    for (int k = 0; k < count; k++, d += ld, src += step)
        for (int j = 0; j < sc; j++) d[j] = src[j];
}

static void copy_windows_any(float *d, size_t ld, const float *src, size_t step, int count,
                             int sc)
{
    switch (sc) {
    case 3: copy_windows(d, ld, src, step, count, 3); break;
    case 9: copy_windows(d, ld, src, step, count, 9); break;
    default: copy_windows(d, ld, src, step, count, sc); break;
    }
}

/* col[i][0:RSC] for GEMM rows m0 .. m0+rows-1, and col[i][RSC] = 1 (the
   bias column). Each thread takes a contiguous row range and steps (n,p,q)
   along it; copies are inline loops (S*C is often a handful of floats). */
static void im2col_rows(const conv_plan *pl, const float *x, size_t m0, size_t rows,
                        float *col)
{
    const conv_shape s = pl->s;
    const int SC = s.s * s.c, P = pl->p, Q = pl->q;
    const size_t PQ = (size_t)P * Q, ld = pl->ldcol;
    #pragma omp parallel num_threads(pl->nt)
    {
        int t = omp_get_thread_num(), nth = omp_get_num_threads();
        size_t i0 = rows * t / nth, i1 = rows * (t + 1) / nth;
        size_t n = (m0 + i0) / PQ;
        int p = (int)((m0 + i0) % PQ / Q), q = (int)((m0 + i0) % Q);
        /* one piece of an output row (n, p, q..qe) at a time; per filter
           row r, the interior q copy S*C floats at a fixed stride in x */
        for (size_t i = i0; i < i1;) {
            int qe = i1 - i < (size_t)(Q - q) ? q + (int)(i1 - i) : Q;
            float *drow = col + i * ld;
            for (int r = 0; r < s.r; r++) {
                int h = p * s.stride - s.pad + r;
                float *d = drow + r * SC;
                if (h < 0 || h >= s.h) {
                    for (int qq = q; qq < qe; qq++, d += ld)
                        for (int j = 0; j < SC; j++) d[j] = 0.0f;
                    continue;
                }
                const float *xrow = x + (n * s.h + h) * s.w * s.c;
                /* q in [qa, qb): the whole window lies inside the row */
                int qa = (s.pad + s.stride - 1) / s.stride;
                int qb = s.w - s.s + s.pad < 0 ? 0 : (s.w - s.s + s.pad) / s.stride + 1;
                qa = qa < q ? q : qa > qe ? qe : qa;
                qb = qb > qe ? qe : qb < qa ? qa : qb;
                for (int qq = q; qq < qe; qq++, d += ld) {
                    if (qq == qa && qb > qa) {
                        copy_windows_any(d, ld, xrow + (size_t)(qa * s.stride - s.pad) * s.c,
                                         (size_t)s.stride * s.c, qb - qa, SC);
                        d += (size_t)(qb - qa - 1) * ld;
                        qq = qb - 1;
                        continue;
                    }
                    /* x[n][h][w0 + s][c] for s*C + c in [lo, hi), else 0 */
                    int w0 = qq * s.stride - s.pad;
                    int lo = w0 < 0 ? -w0 * s.c : 0;
                    int hi = (s.w - w0 < s.s ? s.w - w0 : s.s) * s.c;
                    if (hi < lo) hi = lo;
                    const float *src = xrow + (size_t)(w0 * s.c + lo);
                    for (int j = 0; j < lo; j++) d[j] = 0.0f;
                    for (int j = lo; j < hi; j++) d[j] = src[j - lo];
                    for (int j = hi; j < SC; j++) d[j] = 0.0f;
                }
            }
            if (ld > (size_t)pl->rsc)
                for (int qq = q; qq < qe; qq++) drow[(qq - q) * ld + pl->rsc] = 1.0f;
            i += (size_t)(qe - q);
            q = qe;
            if (q == Q) {
                q = 0;
                if (++p == P) { p = 0; n++; }
            }
        }
    }
}

/* dx += the contributions of dcol rows m0 .. m0+rows-1, gathered per input
   pixel of the images those rows belong to. */
static void col2im_rows(const conv_plan *pl, const float *col, size_t m0, size_t rows,
                        float *dx)
{
    const conv_shape s = pl->s;
    const size_t PQ = (size_t)pl->p * pl->q;
    const size_t n0 = m0 / PQ, n1 = (m0 + rows - 1) / PQ + 1;
    #pragma omp parallel for schedule(static) num_threads(pl->nt)
    for (size_t nh = n0 * s.h; nh < n1 * s.h; nh++) {
        size_t n = nh / s.h;
        int h = (int)(nh % s.h);
        for (int wi = 0; wi < s.w; wi++) {
            float *d = dx + ((n * s.h + h) * s.w + wi) * s.c;
            for (int r = 0; r < s.r; r++) {
                int ph = h + s.pad - r;                /* = p * stride */
                if (ph < 0 || ph % s.stride || ph / s.stride >= pl->p) continue;
                int p = ph / s.stride;
                for (int t = 0; t < s.s; t++) {
                    int qw = wi + s.pad - t;
                    if (qw < 0 || qw % s.stride || qw / s.stride >= pl->q) continue;
                    size_t row = (n * pl->p + p) * pl->q + qw / s.stride;
                    if (row < m0 || row >= m0 + rows) continue;
                    const float *src = col + (row - m0) * pl->ldcol + ((size_t)r * s.s + t) * s.c;
                    for (int c = 0; c < s.c; c++) d[c] += src[c];
                }
            }
        }
    }
}

/* With a bias, the GEMM runs over RSC + 1: col's column of 1s times the
   bias row appended to W adds the bias with no extra pass over y. */
static void im2col_forward(conv_plan *pl, const float *x, const float *w,
                           const float *bias, float *y)
{
    const int K = pl->s.k;
    if (pl->direct) {
        for (size_t m0 = 0; m0 < pl->m; m0 += pl->chunk) {
            size_t rows = pl->m - m0 < pl->chunk ? pl->m - m0 : pl->chunk;
            pl->gemm(GEMM_NOTRANS, GEMM_NOTRANS, (int)rows, K, pl->rsc, 1.0f, x + m0 * pl->rsc,
                     pl->rsc, w, K, 0.0f, y + m0 * K, K);
        }
        if (!bias) return;
        #pragma omp parallel for schedule(static) num_threads(pl->nt)
        for (size_t i = 0; i < pl->m; i++)
            for (int k = 0; k < K; k++) y[i * K + k] += bias[k];
        return;
    }
    const float *b = w;
    int kdim = pl->rsc;
    if (bias) {
        memcpy(pl->wb, w, sizeof(float) * pl->rsc * K);
        memcpy(pl->wb + (size_t)pl->rsc * K, bias, sizeof(float) * K);
        b = pl->wb;
        kdim++;
    }
    for (size_t m0 = 0; m0 < pl->m; m0 += pl->chunk) {
        size_t rows = pl->m - m0 < pl->chunk ? pl->m - m0 : pl->chunk;
        im2col_rows(pl, x, m0, rows, pl->col);
        pl->gemm(GEMM_NOTRANS, GEMM_NOTRANS, (int)rows, K, kdim, 1.0f, pl->col, (int)pl->ldcol,
                 b, K, 0.0f, y + m0 * K, K);
    }
}

static void im2col_backward_data(conv_plan *pl, const float *dy, const float *w, float *dx)
{
    const int K = pl->s.k;
    if (pl->direct) {
        for (size_t m0 = 0; m0 < pl->m; m0 += pl->chunk) {
            size_t rows = pl->m - m0 < pl->chunk ? pl->m - m0 : pl->chunk;
            pl->gemm(GEMM_NOTRANS, GEMM_TRANS, (int)rows, pl->rsc, K, 1.0f, dy + m0 * K, K,
                     w, K, 0.0f, dx + m0 * pl->rsc, pl->rsc);
        }
        return;
    }
    const size_t nx = (size_t)pl->s.n * pl->s.h * pl->s.w * pl->s.c;
    #pragma omp parallel for schedule(static) num_threads(pl->nt)
    for (size_t i = 0; i < nx; i++) dx[i] = 0.0f;
    for (size_t m0 = 0; m0 < pl->m; m0 += pl->chunk) {
        size_t rows = pl->m - m0 < pl->chunk ? pl->m - m0 : pl->chunk;
        pl->gemm(GEMM_NOTRANS, GEMM_TRANS, (int)rows, pl->rsc, K, 1.0f, dy + m0 * K, K, w, K,
                 0.0f, pl->col, (int)pl->ldcol);
        col2im_rows(pl, pl->col, m0, rows, dx);
    }
}

/* dbias[k] = sum over rows of dy[row][k]: fixed row blocks per thread, then
   the partial sums added in thread order (deterministic for a thread count). */
static void bias_grad(conv_plan *pl, const float *dy, float *dbias)
{
    const int K = pl->s.k;
    int used = 1;
    #pragma omp parallel num_threads(pl->nt)
    {
        int t = omp_get_thread_num(), nth = omp_get_num_threads();
        #pragma omp single
        used = nth;
        float *acc = pl->partial + (size_t)t * K;
        for (int k = 0; k < K; k++) acc[k] = 0.0f;
        for (size_t i = pl->m * t / nth; i < pl->m * (t + 1) / nth; i++)
            for (int k = 0; k < K; k++) acc[k] += dy[i * K + k];
    }
    for (int k = 0; k < K; k++) {
        float sum = 0.0f;
        for (int t = 0; t < used; t++) sum += pl->partial[(size_t)t * K + k];
        dbias[k] = sum;
    }
}

static void im2col_backward_weights(conv_plan *pl, const float *x, const float *dy,
                                    float *dw, float *dbias)
{
    const int K = pl->s.k;
    for (size_t m0 = 0; m0 < pl->m; m0 += pl->chunk) {
        size_t rows = pl->m - m0 < pl->chunk ? pl->m - m0 : pl->chunk;
        const float *a = pl->direct ? x + m0 * pl->rsc : pl->col;
        if (!pl->direct) im2col_rows(pl, x, m0, rows, pl->col);
        pl->gemm(GEMM_TRANS, GEMM_NOTRANS, pl->rsc, K, (int)rows, 1.0f, a, (int)pl->ldcol,
                 dy + m0 * K, K, m0 == 0 ? 0.0f : 1.0f, dw, K);
    }
    if (dbias) bias_grad(pl, dy, dbias);
}

static const char *im2col_impl(const conv_plan *pl, conv_pass pass)
{
    return pl->impl[pass];
}

const conv_backend conv_im2col = {
    .name = "im2col",
    .unsupported = im2col_unsupported,
    .plan = im2col_plan,
    .forward = im2col_forward,
    .backward_data = im2col_backward_data,
    .backward_weights = im2col_backward_weights,
    .destroy = im2col_destroy,
    .impl = im2col_impl,
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
};
