/* Output sizes, FLOP count and the well-formedness check of the contract. */
#include <limits.h>
#include <stdint.h>
#include "shape.h"

int conv_out_h(const conv_shape *s) { return (s->h + 2 * s->pad - s->r) / s->stride + 1; }
int conv_out_w(const conv_shape *s) { return (s->w + 2 * s->pad - s->s) / s->stride + 1; }

double conv_flops(const conv_shape *s)
{
    return 2.0 * s->n * s->k * s->c * s->r * s->s * conv_out_h(s) * conv_out_w(s);
}

/* a*b*c*d*sizeof(float) fits size_t */
static int fits(size_t a, size_t b, size_t c, size_t d)
{
    size_t v = sizeof(float);
    return !__builtin_mul_overflow(v, a, &v) && !__builtin_mul_overflow(v, b, &v) &&
           !__builtin_mul_overflow(v, c, &v) && !__builtin_mul_overflow(v, d, &v);
}

const char *conv_shape_invalid(const conv_shape *s)
{
    if (!s) return "no shape given";
    if (s->n <= 0) return "batch n must be >= 1";
    if (s->h <= 0 || s->w <= 0) return "input height and width must be >= 1";
    if (s->c <= 0) return "input channels c must be >= 1";
    if (s->k <= 0) return "output channels k must be >= 1";
    if (s->r <= 0 || s->s <= 0) return "filter height and width must be >= 1";
    if (s->stride <= 0) return "stride must be >= 1";
    if (s->pad < 0) return "padding must be >= 0";
    if (s->pad >= s->r || s->pad >= s->s) return "padding must be smaller than the filter";
    /* h + 2*pad in int, and the product checks below, must not overflow */
    if (s->pad > (INT_MAX - s->h) / 2 || s->pad > (INT_MAX - s->w) / 2)
        return "padded input size overflows int";
    if (s->h + 2 * s->pad < s->r || s->w + 2 * s->pad < s->s)
        return "output smaller than 1x1: filter larger than the padded input";
    size_t p = (size_t)conv_out_h(s), q = (size_t)conv_out_w(s);
    if (!fits((size_t)s->n, (size_t)s->h, (size_t)s->w, (size_t)s->c) ||
        !fits((size_t)s->n, p, q, (size_t)s->k) ||
        !fits((size_t)s->r, (size_t)s->s, (size_t)s->c, (size_t)s->k))
        return "tensor size overflows size_t";
    /* backends index rows of im2col-like matrices with size_t but form
       per-image offsets in int-sized pieces; keep each image addressable */
    if ((size_t)s->h * s->w * s->c > (size_t)INT_MAX || p * q * (size_t)s->k > (size_t)INT_MAX ||
        (size_t)s->r * s->s * s->c > (size_t)INT_MAX)
        return "one image or filter exceeds 2^31 elements";
    return NULL;
}

size_t conv_x_elems(const conv_shape *s) { return (size_t)s->n * s->h * s->w * s->c; }
size_t conv_y_elems(const conv_shape *s)
{
    return (size_t)s->n * conv_out_h(s) * conv_out_w(s) * s->k;
}
size_t conv_w_elems(const conv_shape *s) { return (size_t)s->r * s->s * s->c * s->k; }
