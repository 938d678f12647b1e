/* Elementwise and small layers. Threads: OpenMP over the batch, which the
   caller sized with the harness's thread count. */
#include <math.h>
#include <string.h>
#include "gemm.h"
#include "layers.h"

/* below this many elements a parallel region costs more than it saves */
#define PARALLEL_MIN 32768

void relu_forward(float *y, size_t n)
{
    #pragma omp parallel for simd schedule(static) if (n > PARALLEL_MIN)
    for (size_t i = 0; i < n; i++) y[i] = y[i] > 0.0f ? y[i] : 0.0f;
}

void relu_backward(const float *y, float *dy, size_t n)
{
    #pragma omp parallel for simd schedule(static) if (n > PARALLEL_MIN)
    for (size_t i = 0; i < n; i++) dy[i] = y[i] > 0.0f ? dy[i] : 0.0f;
}

/* Max and winning position of one window over channels [c0, c0 + nc),
   kept in registers over the window's p*p positions: a branch-free select
   per position and one store at the end. A whole vector of channels uses
   GCC vector types (the auto-vectorizer turned the selects into branches).
   With relu_mask, an output that is not positive (the input came from a
   ReLU, so it is 0, or NaN) gets POOL_MASKED: its gradient is dropped. */
enum { POOL_VL = 16 };
typedef float pool_vf __attribute__((vector_size(POOL_VL * sizeof(float))));
typedef int32_t pool_vi __attribute__((vector_size(POOL_VL * sizeof(int32_t))));

static void pool_window_vec(const float *xb, int w, int c, int p, int i, int j, int c0,
                            int relu_mask, float *yo, int32_t *po)
{
    pool_vf best;
    memcpy(&best, xb + ((size_t)(i * p) * w + j * p) * c + c0, sizeof best);
    pool_vi pos = { 0 };
    for (int u = 0; u < p; u++)
        for (int v = u == 0; v < p; v++) {
            pool_vf xv;
            memcpy(&xv, xb + ((size_t)(i * p + u) * w + j * p + v) * c + c0, sizeof xv);
            const pool_vi win = xv > best;      /* all ones where x wins (never for NaN) */
            best = (pool_vf)(((pool_vi)xv & win) | ((pool_vi)best & ~win));
            pos = (((pool_vi){ 0 } + u * p + v) & win) | (pos & ~win);
        }
    if (relu_mask) {
        const pool_vi live = best > (pool_vf){ 0 };
        pos = (pos & live) | (((pool_vi){ 0 } + POOL_MASKED) & ~live);
    }
    memcpy(yo + c0, &best, sizeof best);
    memcpy(po + c0, &pos, sizeof pos);
}

static void pool_window(const float *xb, int w, int c, int p, int i, int j, int c0, int nc,
                        int relu_mask, float *yo, int32_t *po)
{
    for (int l = 0; l < nc; l++) {
        float best = xb[((size_t)(i * p) * w + j * p) * c + c0 + l];
        int pos = 0;
        for (int u = 0; u < p; u++)
            for (int v = u == 0; v < p; v++) {
                const float xv = xb[((size_t)(i * p + u) * w + j * p + v) * c + c0 + l];
                if (xv > best) { best = xv; pos = u * p + v; }
            }
        yo[c0 + l] = best;
        po[c0 + l] = relu_mask && !(best > 0.0f) ? POOL_MASKED : pos;
    }
}

void maxpool_forward(const float *x, int n, int h, int w, int c, int p, int relu_mask, float *y,
                     int32_t *pos)
{
    const int oh = h / p, ow = w / p;
    #pragma omp parallel for collapse(2) schedule(static) if ((size_t)n * h * w * c > PARALLEL_MIN)
    for (int b = 0; b < n; b++)
        for (int i = 0; i < oh; i++)
            for (int j = 0; j < ow; j++) {
                float *yo = y + (((size_t)b * oh + i) * ow + j) * c;
                int32_t *po = pos + (((size_t)b * oh + i) * ow + j) * c;
                const float *xb = x + (size_t)b * h * w * c;
                /* channels innermost (contiguous in NHWC), a whole vector
                   at a time where they fill one */
                int c0 = 0;
                for (; c0 + POOL_VL <= c; c0 += POOL_VL)
                    pool_window_vec(xb, w, c, p, i, j, c0, relu_mask, yo, po);
                if (c0 < c) pool_window(xb, w, c, p, i, j, c0, c - c0, relu_mask, yo, po);
            }
}

/* One row of dx, row u of its windows: dy where the window's winner is at
   (u, v), else 0. Channels in whole vectors (GCC vector types: the
   vectorizer's loop over a runtime channel count cost more in set-up than
   the 2 vectors of the seed's 32 channels), a window's dy and positions
   loaded once for its p columns. Not inlined into the parallel loop:
   compiled on its own, with its restrict pointers, it ran 15% faster. */
__attribute__((noinline)) static void unpool_row(const float *restrict dy, const int32_t *restrict pos,
                                                 int u, int w, int c, int p, int ow,
                                                 float *restrict dxr)
{
    const int cv = c / POOL_VL * POOL_VL;
    for (int j = 0; j < ow; j++) {
        const size_t o = (size_t)j * c;
        for (int ch = 0; ch < cv; ch += POOL_VL) {
            pool_vf g;
            pool_vi a;
            memcpy(&g, dy + o + ch, sizeof g);
            memcpy(&a, pos + o + ch, sizeof a);
            for (int v = 0, col = j * p; v < p; v++, col++) {
                const pool_vf d = (pool_vf)((pool_vi)g & (a == (pool_vi){ 0 } + u * p + v));
                memcpy(dxr + (size_t)col * c + ch, &d, sizeof d);
            }
        }
        for (int v = 0, col = j * p; v < p && cv < c; v++, col++)
            for (int ch = cv; ch < c; ch++)
                dxr[(size_t)col * c + ch] = pos[o + ch] == u * p + v ? dy[o + ch] : 0.0f;
    }
    memset(dxr + (size_t)ow * p * c, 0, sizeof(float) * (w - ow * p) * c);
}

void maxpool_backward(const float *dy, const int32_t *pos, int n, int h, int w, int c, int p,
                      float *dx)
{
    const int oh = h / p, ow = w / p;
    const size_t out = (size_t)oh * ow * c;
    #pragma omp parallel for collapse(2) schedule(static) if ((size_t)n * h * w * c > PARALLEL_MIN)
    for (int b = 0; b < n; b++)
        for (int row = 0; row < h; row++) {
            float *dxr = dx + ((size_t)b * h + row) * w * c;
            if (row >= oh * p) {                    /* floor: no window covers it */
                memset(dxr, 0, sizeof(float) * w * c);
                continue;
            }
            const size_t o0 = (size_t)b * out + (size_t)(row / p) * ow * c;
            unpool_row(dy + o0, pos + o0, row % p, w, c, p, ow, dxr);
        }
}

void dense_forward(const float *x, const float *w, const float *b, int n, int in, int out,
                   int relu, float *y)
{
    const gemm_epilogue e = { 0.0f, b, relu };      /* applied in registers */
    sgemm_shared(GEMM_NOTRANS, n, out, in, x, in, w, out, &e, y, out);
}

void dense_backward_weights(const float *x, const float *dy, int n, int in, int out, float *dw,
                            float *db)
{
    sgemm(GEMM_TRANS, GEMM_NOTRANS, in, out, n, 1.0f, x, in, dy, out, 0.0f, dw, out);
    for (int o = 0; o < out; o++) {
        float s = 0.0f;
        for (int i = 0; i < n; i++) s += dy[(size_t)i * out + o];
        db[o] = s;
    }
}

/* d[c][r] = s[r][c] for an r x c matrix, in 16 x 16 blocks (rows of both
   sides stay in cache across a block) */
static void transpose(const float *restrict s, int rows, int cols, float *restrict d)
{
    enum { TB = 16 };
    for (int r0 = 0; r0 < rows; r0 += TB)
        for (int c0 = 0; c0 < cols; c0 += TB) {
            const int r1 = r0 + TB < rows ? r0 + TB : rows, c1 = c0 + TB < cols ? c0 + TB : cols;
            for (int c = c0; c < c1; c++)
                for (int r = r0; r < r1; r++) d[(size_t)c * rows + r] = s[(size_t)r * cols + c];
        }
}

void dense_backward_data(const float *w, const float *dy, int n, int in, int out, float *dx,
                         float *ws)
{
    float *dyt = ws, *dxt = ws + (size_t)n * out;
    const gemm_epilogue e = { 0.0f, NULL, 0 };
    transpose(dy, n, out, dyt);
    sgemm_shared(GEMM_NOTRANS, in, n, out, w, out, dyt, n, &e, dxt, n);
    transpose(dxt, in, n, dx);
}

double softmax_xent(const float *z, const uint8_t *labels, int n, int classes, float *probs,
                    float *dz, int *correct)
{
    double loss = 0.0;
    int right = 0;
    for (int i = 0; i < n; i++) {
        const float *zi = z + (size_t)i * classes;
        float *pi = probs + (size_t)i * classes;
        int top = 0;
        for (int k = 1; k < classes; k++)
            if (zi[k] > zi[top]) top = k;
        double sum = 0.0;                    /* shifted by the max: no overflow */
        for (int k = 0; k < classes; k++) sum += exp((double)zi[k] - zi[top]);
        for (int k = 0; k < classes; k++) pi[k] = (float)(exp((double)zi[k] - zi[top]) / sum);
        loss += log(sum) - ((double)zi[labels[i]] - zi[top]);
        right += top == labels[i];
        if (dz)
            for (int k = 0; k < classes; k++)
                dz[(size_t)i * classes + k] = (pi[k] - (k == labels[i])) / (float)n;
    }
    *correct = right;
    return loss;
}
