/* Elementwise and small layers. Threads: OpenMP over the batch, which the
   caller sized with the harness's thread count. */
#include <math.h>
#include <string.h>
#include "gemm.h"
#include "layers.h"
#include "vec_width.h"

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
enum { POOL_VL = VEC_FLOATS };
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
            const pool_vi win = xv > best; /* all ones where x wins (never for NaN) */
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
                if (xv > best) {
                    best = xv;
                    pos = u * p + v;
                }
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

/* One row of windows: the p rows of dx under it, dy where the window's
   winner is, else 0. Every store of a window's p x p positions is made
   from one load of its dy and positions, a whole vector of channels at a
   time (GCC vector types; channels beyond the last whole vector one by
   one), and the p rows are written side by side: one row at a time ran
   at a third of the store bandwidth. */
static inline __attribute__((always_inline)) void unpool_window_row(const float *restrict dy,
                                                                    const int32_t *restrict pos,
                                                                    int w, int c, int p, int ow,
                                                                    float *restrict dxr)
{
    const int cv = c / POOL_VL * POOL_VL;
    const size_t row = (size_t)w * c;
    for (int j = 0; j < ow; j++) {
        const size_t o = (size_t)j * c;
        float *d0 = dxr + (size_t)j * p * c;
        for (int ch = 0; ch < cv; ch += POOL_VL) {
            pool_vf g;
            pool_vi a;
            memcpy(&g, dy + o + ch, sizeof g);
            memcpy(&a, pos + o + ch, sizeof a);
            for (int u = 0; u < p; u++)
                for (int v = 0; v < p; v++) {
                    const pool_vf d = (pool_vf)((pool_vi)g & (a == (pool_vi){ 0 } + u * p + v));
                    memcpy(d0 + u * row + (size_t)v * c + ch, &d, sizeof d);
                }
        }
        for (int ch = cv; ch < c; ch++) /* rare: c % 16 channels */
            for (int u = 0; u < p; u++)
                for (int v = 0; v < p; v++)
                    d0[u * row + (size_t)v * c + ch] = pos[o + ch] == u * p + v ? dy[o + ch] : 0.0f;
    }
    if (w > ow * p) /* columns no window covers (floor) */
        for (int u = 0; u < p; u++)
            memset(dxr + u * row + (size_t)ow * p * c, 0, sizeof(float) * (w - ow * p) * c);
}

/* unpool_window_row for 2 x 2 windows and whole vectors of channels, the
   two rows of dx through their own pointers (the general loop's
   bookkeeping spilled to the stack: 35 against 25 us for the seed's pool1
   at 8 images, one thread) */
static inline __attribute__((always_inline)) void unpool_pairs(const float *restrict dy,
                                                               const int32_t *restrict pos, int w,
                                                               int c, int ow, float *restrict dxr)
{
    float *r0 = dxr, *r1 = dxr + (size_t)w * c;
    for (int j = 0; j < ow; j++, dy += c, pos += c, r0 += 2 * c, r1 += 2 * c)
        for (int ch = 0; ch < c; ch += POOL_VL) {
            pool_vf g;
            pool_vi a;
            memcpy(&g, dy + ch, sizeof g);
            memcpy(&a, pos + ch, sizeof a);
            const pool_vf d00 = (pool_vf)((pool_vi)g & (a == 0)),
                          d01 = (pool_vf)((pool_vi)g & (a == 1));
            const pool_vf d10 = (pool_vf)((pool_vi)g & (a == 2)),
                          d11 = (pool_vf)((pool_vi)g & (a == 3));
            memcpy(r0 + ch, &d00, sizeof d00);
            memcpy(r0 + c + ch, &d01, sizeof d01);
            memcpy(r1 + ch, &d10, sizeof d10);
            memcpy(r1 + c + ch, &d11, sizeof d11);
        }
    if (w > ow * 2) { /* the column no window covers (floor) */
        memset(r0, 0, sizeof(float) * c);
        memset(r1, 0, sizeof(float) * c);
    }
}

/* One image. Compiled on its own with restrict pointers (inlined into the
   parallel loop it ran 15% slower). */
__attribute__((noinline)) static void unpool_image(const float *restrict dy,
                                                   const int32_t *restrict pos, int h, int w, int c,
                                                   int p, float *restrict dx)
{
    const int oh = h / p, ow = w / p;
    for (int i = 0; i < oh; i++) {
        const size_t o0 = (size_t)i * ow * c;
        float *dxr = dx + (size_t)i * p * w * c;
        if (p == 2 && c % POOL_VL == 0)
            unpool_pairs(dy + o0, pos + o0, w, c, ow, dxr);
        else
            unpool_window_row(dy + o0, pos + o0, w, c, p, ow, dxr);
    }
    /* rows no window covers (floor) */
    memset(dx + (size_t)oh * p * w * c, 0, sizeof(float) * (h - oh * p) * w * c);
}

void maxpool_backward(const float *dy, const int32_t *pos, int n, int h, int w, int c, int p,
                      float *dx)
{
    const size_t out = (size_t)(h / p) * (w / p) * c, img = (size_t)h * w * c;
#pragma omp parallel for schedule(static) if ((size_t)n * h * w * c > PARALLEL_MIN)
    for (int b = 0; b < n; b++) unpool_image(dy + b * out, pos + b * out, h, w, c, p, dx + b * img);
}

void dense_forward(const float *x, const float *w, const float *b, int n, int in, int out, int relu,
                   float *y)
{
    const gemm_epilogue e = { 0.0f, b, relu }; /* applied in registers */
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
        double sum = 0.0; /* shifted by the max: no overflow */
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
