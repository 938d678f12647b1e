/* Every pass visits the same (n, p, q, r, s) taps in the same order and
   scatters into its output: one loop nest, three accumulations. The
   geometry is conv.h's, written out here from its definition: groups of
   C/g inputs and K/g outputs, stride, dilation and padding per axis. */
#include <math.h>
#include <stddef.h>
#include <string.h>
#include "ref_conv.h"

typedef enum { FWD, BWD_DATA, BWD_WEIGHTS } which;

typedef struct {
    long g, sh, sw, dh, dw, top, left, cg, kg;
} geometry;

static geometry geometry_of(const conv_shape *s)
{
    geometry e;
    e.g = s->groups ? s->groups : 1;
    e.sh = s->stride_h ? s->stride_h : s->stride;
    e.sw = s->stride_w ? s->stride_w : s->stride;
    e.dh = s->dil_h ? s->dil_h : 1;
    e.dw = s->dil_w ? s->dil_w : 1;
    e.top = (long)s->pad + s->pad_t;
    e.left = (long)s->pad + s->pad_l;
    e.cg = s->c / e.g;
    e.kg = s->k / e.g;
    return e;
}

static long out_rows(const conv_shape *s) { return (long)s->n * conv_out_h(s) * conv_out_w(s); }

static void taps(const conv_shape *s, which pass, const float *x, const float *w, const float *dy,
                 double *out)
{
    const geometry e = geometry_of(s);
    const int P = conv_out_h(s), Q = conv_out_w(s);
    for (int n = 0; n < s->n; n++)
        for (int p = 0; p < P; p++)
            for (int q = 0; q < Q; q++)
                for (int r = 0; r < s->r; r++)
                    for (int t = 0; t < s->s; t++) {
                        const long h = p * e.sh + r * e.dh - e.top;
                        const long v = q * e.sw + t * e.dw - e.left;
                        if (h < 0 || h >= s->h || v < 0 || v >= s->w) continue;
                        const long xi = ((n * (long)s->h + h) * s->w + v) * s->c;
                        const long yi = ((n * (long)P + p) * Q + q) * s->k;
                        const long wi = ((long)r * s->s + t) * e.cg * s->k;
                        for (long gi = 0; gi < e.g; gi++)
                            for (long cc = 0; cc < e.cg; cc++)
                                for (long kk = 0; kk < e.kg; kk++) {
                                    const long c = gi * e.cg + cc, k = gi * e.kg + kk;
                                    const long wk = wi + cc * s->k + k;
                                    if (pass == FWD)
                                        out[yi + k] += (double)x[xi + c] * w[wk];
                                    else if (pass == BWD_DATA)
                                        out[xi + c] += (double)dy[yi + k] * w[wk];
                                    else
                                        out[wk] += (double)x[xi + c] * dy[yi + k];
                                }
                    }
}

void ref_forward(const conv_shape *s, const float *x, const float *w, const float *bias, double *y)
{
    const long m = out_rows(s);
    for (long i = 0; i < m; i++)
        for (int k = 0; k < s->k; k++) y[i * s->k + k] = bias ? bias[k] : 0.0;
    taps(s, FWD, x, w, NULL, y);
}

void ref_backward_data(const conv_shape *s, const float *dy, const float *w, double *dx)
{
    memset(dx, 0, sizeof(double) * s->n * s->h * s->w * s->c);
    taps(s, BWD_DATA, NULL, w, dy, dx);
}

void ref_backward_weights(const conv_shape *s, const float *x, const float *dy, double *dw,
                          double *dbias)
{
    memset(dw, 0, sizeof(double) * s->r * s->s * geometry_of(s).cg * s->k);
    taps(s, BWD_WEIGHTS, x, NULL, dy, dw);
    if (dbias) {
        const long m = out_rows(s);
        for (int k = 0; k < s->k; k++) dbias[k] = 0.0;
        for (long i = 0; i < m; i++)
            for (int k = 0; k < s->k; k++) dbias[k] += dy[i * s->k + k];
    }
}

/* Error bounds: 1e-5 for exact algorithms; Winograd's transforms lose a few
   bits, more the larger the tile (F(4,3) multiplies by up to 8 in A and
   divides by 24 in G). */
double ref_error_bound(const char *backend)
{
    static const struct {
        const char *name;
        double bound;
    } winograd[] = {
        { "winograd", 1e-4 },
        { "winograd2", 2e-5 },
        { "onednn-winograd", 1e-4 },
    };
    for (size_t i = 0; i < sizeof winograd / sizeof *winograd; i++)
        if (strcmp(backend, winograd[i].name) == 0) return winograd[i].bound;
    return 1e-5;
}

double ref_rel_err(const float *a, const double *ref, size_t n)
{
    double diff = 0, mag = 1;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(a[i])) return INFINITY;
        diff = fmax(diff, fabs(a[i] - ref[i]));
        mag = fmax(mag, fabs(ref[i]));
    }
    return diff / mag;
}
