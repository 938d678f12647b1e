/* sgemm against a double-precision reference: odd sizes around every
   micro-tile and cache block edge, all four transpose pairs, several alpha
   and beta (beta = 0 on a NaN-filled C must not read C), padded leading
   dimensions (the padding must stay untouched), at each ISA level this CPU
   runs. Also the im2col backends with a column buffer cap small enough that
   the batch is cut into chunks that split images, against naive. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../kernels/conv.h"
#include "../kernels/cpu.h"
#include "../kernels/gemm.h"
#include "check.h"
#include "suites.h"

#define GUARD 7.25f /* value of the unused padding of C */

/* op(A) op(B) in double, m x n. */
static void ref_product(gemm_trans ta, gemm_trans tb, int m, int n, int k, const float *a, int lda,
                        const float *b, int ldb, double *prod)
{
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++) {
            double acc = 0;
            for (int p = 0; p < k; p++) {
                double x = ta ? a[(size_t)p * lda + i] : a[(size_t)i * lda + p];
                double y = tb ? b[(size_t)j * ldb + p] : b[(size_t)p * ldb + j];
                acc += x * y;
            }
            prod[(size_t)i * n + j] = acc;
        }
}

/* C before the call: random, NaN where beta = 0 says C is not read, GUARD
   in the padding columns. */
static void fill_c(check_rng *g, float *c0, int m, int n, int ldc, float beta)
{
    check_fill(g, c0, (size_t)m * ldc);
    for (int i = 0; i < m; i++)
        for (int j = 0; j < ldc; j++)
            if (j >= n)
                c0[(size_t)i * ldc + j] = GUARD;
            else if (beta == 0.0f)
                c0[(size_t)i * ldc + j] = NAN;
}

/* max|c - ref| / max(1, max|ref|) over the m x n part, ref = the epilogue
   (bias, beta, ReLU) of alpha * prod; *pad_ok = 0 if C's padding columns
   changed. */
static double gemm_err(int m, int n, float alpha, const double *prod, const gemm_epilogue *e,
                       const float *c0, const float *c, int ldc, int *pad_ok)
{
    double diff = 0, mag = 1;
    *pad_ok = 1;
    for (int i = 0; i < m; i++) {
        for (int j = 0; j < n; j++) {
            double ref = alpha * prod[(size_t)i * n + j] + (e->bias ? e->bias[j] : 0.0);
            if (e->beta != 0.0f) ref += (double)e->beta * c0[(size_t)i * ldc + j];
            if (e->relu && ref < 0) ref = 0;
            double got = c[(size_t)i * ldc + j];
            if (!isfinite(got)) return INFINITY;
            diff = fmax(diff, fabs(got - ref));
            mag = fmax(mag, fabs(ref));
        }
        for (int j = n; j < ldc; j++)
            if (c[(size_t)i * ldc + j] != GUARD) *pad_ok = 0;
    }
    return diff / mag;
}

static void run_case(const char *isa, int m, int n, int k, check_rng *g)
{
    static const float alphas[] = { 1.0f, -0.5f };
    static const float betas[] = { 0.0f, 1.0f, 0.75f };
    char name[160];
    for (int ta = 0; ta < 2; ta++)
        for (int tb = 0; tb < 2; tb++) {
            /* leading dimensions padded by 3 so strides are not multiples of 16 */
            int lda = (ta ? m : k) + 3, ldb = (tb ? k : n) + 3, ldc = n + 3;
            size_t na = (size_t)(ta ? k : m) * lda, nb = (size_t)(tb ? n : k) * ldb;
            size_t nc = (size_t)m * ldc;
            float *a = malloc(sizeof(float) * na), *b = malloc(sizeof(float) * nb);
            float *c0 = malloc(sizeof(float) * nc), *c = malloc(sizeof(float) * nc);
            double *prod = malloc(sizeof(double) * (size_t)m * n);
            if (!a || !b || !c0 || !c || !prod) {
                perror("malloc");
                exit(2);
            }
            check_fill(g, a, na);
            check_fill(g, b, nb);
            ref_product(ta, tb, m, n, k, a, lda, b, ldb, prod);
            for (size_t ai = 0; ai < 2; ai++)
                for (size_t bi = 0; bi < 3; bi++) {
                    float alpha = alphas[ai], beta = betas[bi];
                    const gemm_epilogue ep = { beta, NULL, 0 };
                    fill_c(g, c0, m, n, ldc, beta);
                    memcpy(c, c0, sizeof(float) * nc);
                    sgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
                    int pad_ok;
                    double e = gemm_err(m, n, alpha, prod, &ep, c0, c, ldc, &pad_ok);
                    snprintf(name, sizeof name, "gemm/%s/%dx%dx%d/%c%c/a%g/b%g", isa, m, n, k,
                             ta ? 'T' : 'N', tb ? 'T' : 'N', alpha, beta);
                    check(name, e <= 1e-5 && pad_ok, "error %.3g%s (%s)", e,
                          pad_ok ? "" : ", wrote outside C", sgemm_impl());
                }
            free(a);
            free(b);
            free(c0);
            free(c);
            free(prod);
        }
}

/* sgemm_block and sgemm_shared: both A layouts, bias, beta and ReLU, with k
   past one K step (the ReLU must wait for the whole sum), partial edge
   tiles, and products big enough for the team to split by rows (24x70x600)
   and by panels (12x100x1000). */
static void run_block_case(const char *isa, int m, int n, int k, check_rng *g)
{
    char name[160];
    for (int ta = 0; ta < 2; ta++) {
        int lda = (ta ? m : k) + 3, ldb = n + 5, ldc = n + 3;
        size_t na = (size_t)(ta ? k : m) * lda, nb = (size_t)k * ldb, nc = (size_t)m * ldc;
        float *a = malloc(sizeof(float) * na), *b = malloc(sizeof(float) * nb);
        float *c0 = malloc(sizeof(float) * nc), *c = malloc(sizeof(float) * nc);
        float *bias = malloc(sizeof(float) * (size_t)n);
        double *prod = malloc(sizeof(double) * (size_t)m * n);
        if (!a || !b || !c0 || !c || !bias || !prod) {
            perror("malloc");
            exit(2);
        }
        check_fill(g, a, na);
        check_fill(g, b, nb);
        check_fill(g, bias, (size_t)n);
        ref_product(ta, GEMM_NOTRANS, m, n, k, a, lda, b, ldb, prod);
        for (int variant = 0; variant < 16; variant++) {
            gemm_epilogue e = { variant & 1 ? 0.5f : 0.0f, variant & 2 ? bias : NULL, variant & 4 };
            const int shared = variant & 8; /* sgemm_shared: the team splits it */
            fill_c(g, c0, m, n, ldc, e.beta);
            memcpy(c, c0, sizeof(float) * nc);
            if (shared)
                sgemm_shared(ta, m, n, k, a, lda, b, ldb, &e, c, ldc);
            else
                sgemm_block(m, n, k, a, ta ? 1 : (size_t)lda, ta ? (size_t)lda : 1, b, (size_t)ldb,
                            &e, c, (size_t)ldc);
            int pad_ok;
            double err = gemm_err(m, n, 1.0f, prod, &e, c0, c, ldc, &pad_ok);
            snprintf(name, sizeof name, "gemm/%s/%s/%dx%dx%d/%c/beta%g%s%s", isa,
                     shared ? "shared" : "block", m, n, k, ta ? 'T' : 'N', e.beta,
                     e.bias ? "/bias" : "", e.relu ? "/relu" : "");
            check(name, err <= 1e-5 && pad_ok, "error %.3g%s", err,
                  pad_ok ? "" : ", wrote outside C");
        }
        free(a);
        free(b);
        free(c0);
        free(c);
        free(bias);
        free(prod);
    }
}

static double max_rel(const float *a, const float *ref, size_t n)
{
    double diff = 0, mag = 1;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(a[i])) return INFINITY;
        diff = fmax(diff, fabs((double)a[i] - ref[i]));
        mag = fmax(mag, fabs(ref[i]));
    }
    return diff / mag;
}

/* out[0..3] = y, dx, dw, dbias of one backend on one shape */
static int run_passes(const conv_backend *be, const conv_shape *s, const float *x, const float *w,
                      const float *bias, const float *dy, float *out[4])
{
    conv_plan *pl = be->plan(s);
    if (!pl) return 0;
    be->forward(pl, x, w, bias, out[0]);
    be->backward_data(pl, dy, w, out[1]);
    be->backward_weights(pl, x, dy, out[2], out[3]);
    be->destroy(pl);
    return 1;
}

static void test_im2col_chunks(void)
{
    static const conv_shape shapes[] = {
        { 3, 9, 11, 3, 5, 3, 3, 2, 1 },
        { 2, 7, 7, 4, 9, 3, 3, 1, 1 },
        { 2, 5, 6, 3, 4, 1, 1, 2, 0 },
    };
    static const char *const names[] = { "im2col", "im2col-blas" };
    const conv_backend *naive = conv_backend_find("naive");
    check_rng g = { 777 };
    char name[128];
    for (size_t i = 0; i < sizeof shapes / sizeof *shapes; i++) {
        const conv_shape *s = &shapes[i];
        size_t n[4] = { (size_t)s->n * conv_out_h(s) * conv_out_w(s) * s->k,
                        (size_t)s->n * s->h * s->w * s->c, (size_t)s->r * s->s * s->c * s->k,
                        (size_t)s->k };
        float *x = malloc(sizeof(float) * n[1]), *w = malloc(sizeof(float) * n[2]);
        float *bias = malloc(sizeof(float) * n[3]), *dy = malloc(sizeof(float) * n[0]);
        float *ref[4], *got[4];
        for (int j = 0; j < 4; j++) {
            ref[j] = malloc(sizeof(float) * n[j]);
            got[j] = malloc(sizeof(float) * n[j]);
            if (!ref[j] || !got[j]) {
                perror("malloc");
                exit(2);
            }
        }
        if (!x || !w || !bias || !dy) {
            perror("malloc");
            exit(2);
        }
        check_fill(&g, x, n[1]);
        check_fill(&g, w, n[2]);
        check_fill(&g, bias, n[3]);
        check_fill(&g, dy, n[0]);
        run_passes(naive, s, x, w, bias, dy, ref);
        /* 7 col rows per chunk: chunks start and end inside images */
        char cap[32];
        snprintf(cap, sizeof cap, "%d", 7 * s->r * s->s * s->c * (int)sizeof(float));
        setenv("CONVBENCH_IM2COL_BYTES", cap, 1);
        for (int b = 0; b < 2; b++) {
            const conv_backend *be = conv_backend_find(names[b]);
            snprintf(name, sizeof name, "gemm/im2col-chunks/%s/%zu", names[b], i);
            if (!be) {
                check_skip(name, "backend not registered");
                continue;
            }
            for (int j = 0; j < 4; j++)
                for (size_t e = 0; e < n[j]; e++) got[j][e] = NAN;
            if (!run_passes(be, s, x, w, bias, dy, got)) {
                check(name, 0, "plan() returned NULL");
                continue;
            }
            double e = 0;
            for (int j = 0; j < 4; j++) e = fmax(e, max_rel(got[j], ref[j], n[j]));
            check(name, e <= 1e-5, "error %.3g against naive", e);
        }
        unsetenv("CONVBENCH_IM2COL_BYTES");
        free(x);
        free(w);
        free(bias);
        free(dy);
        for (int j = 0; j < 4; j++) {
            free(ref[j]);
            free(got[j]);
        }
    }
}

void test_gemm(void)
{
    /* m, n, k: micro-tile and cache-block edges, tall-skinny conv shapes */
    static const int sizes[][3] = {
        { 1, 1, 1 },       { 7, 7, 7 },     { 17, 17, 17 },  { 63, 63, 63 }, { 129, 129, 129 },
        { 257, 257, 257 }, { 1, 257, 7 },   { 257, 1, 17 },  { 7, 129, 63 }, { 63, 17, 257 },
        { 129, 7, 1 },     { 17, 63, 129 }, { 13, 33, 600 }, { 700, 35, 9 }, { 25, 70, 288 },
        { 577, 64, 31 },   { 96, 4100, 3 }, { 12, 32, 1 },
    };
    check_rng g = { 12345 };
    for (int isa = cpu_isa_supported(); isa >= ISA_PORTABLE; isa--) {
        const char *iname = cpu_isa_name((cpu_isa)isa);
        char group[64];
        snprintf(group, sizeof group, "gemm/%s", iname);
        if (!check_selected(group)) continue;
        check_force_isa(iname);
        for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++)
            run_case(iname, sizes[i][0], sizes[i][1], sizes[i][2], &g);
        static const int block_sizes[][3] = {
            { 1, 1, 1 },     { 12, 32, 5 }, { 13, 33, 600 }, { 25, 70, 288 },
            { 30, 64, 257 }, { 7, 100, 0 }, { 24, 70, 600 }, { 12, 100, 1000 },
        };
        for (size_t i = 0; i < sizeof block_sizes / sizeof *block_sizes; i++)
            run_block_case(iname, block_sizes[i][0], block_sizes[i][1], block_sizes[i][2], &g);
        /* k = 0 and alpha = 0 only scale C */
        float c[4] = { 1, 2, 3, 4 }, a1 = 5, b1 = 6;
        sgemm(GEMM_NOTRANS, GEMM_NOTRANS, 2, 2, 0, 1.0f, &a1, 1, &b1, 1, 0.5f, c, 2);
        int ok = c[0] == 0.5f && c[3] == 2.0f;
        float nan2[2] = { NAN, NAN }, d[4] = { NAN, NAN, NAN, NAN };
        sgemm(GEMM_NOTRANS, GEMM_NOTRANS, 2, 2, 1, 0.0f, nan2, 1, nan2, 2, 0.0f, d, 2);
        ok = ok && d[0] == 0.0f && d[3] == 0.0f;
        snprintf(group, sizeof group, "gemm/%s/k0-alpha0", iname);
        check(group, ok, "C not scaled by beta alone");
    }
    check_force_isa(NULL);
    if (check_selected("gemm/im2col-chunks")) test_im2col_chunks();
}
