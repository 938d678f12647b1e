/* Output sizes, FLOP count and the well-formedness check of the contract. */
#include <limits.h>
#include <stdint.h>
#include "shape.h"

conv_geom conv_geometry(const conv_shape *s)
{
    return (conv_geom){
        .g = s->groups ? s->groups : 1,
        .sh = s->stride_h ? s->stride_h : s->stride,
        .sw = s->stride_w ? s->stride_w : s->stride,
        .dh = s->dil_h ? s->dil_h : 1,
        .dw = s->dil_w ? s->dil_w : 1,
        .pt = s->pad + s->pad_t,
        .pb = s->pad + s->pad_b,
        .pl = s->pad + s->pad_l,
        .pr = s->pad + s->pad_r,
    };
}

/* The output length along one axis: (in + lo + hi - extent) / stride + 1,
   in long long so that a valid shape's sizes never overflow on the way. */
static long long out_len(long long in, long long lo, long long hi, long long f, long long d,
                         long long st)
{
    return (in + lo + hi - ((f - 1) * d + 1)) / st + 1;
}

int conv_out_h(const conv_shape *s)
{
    const conv_geom g = conv_geometry(s);
    return (int)out_len(s->h, g.pt, g.pb, s->r, g.dh, g.sh);
}

int conv_out_w(const conv_shape *s)
{
    const conv_geom g = conv_geometry(s);
    return (int)out_len(s->w, g.pl, g.pr, s->s, g.dw, g.sw);
}

double conv_flops(const conv_shape *s)
{
    return 2.0 * s->n * s->k * (s->c / conv_geometry(s).g) * s->r * s->s * conv_out_h(s) *
           conv_out_w(s);
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
    if (s->groups < 0) return "groups must be >= 1 (0: 1)";
    if (s->stride_h < 0 || s->stride_w < 0) return "stride_h and stride_w must be >= 0";
    if (s->dil_h < 0 || s->dil_w < 0) return "dilation must be >= 1 (0: 1)";
    if (s->pad_t < 0 || s->pad_b < 0 || s->pad_l < 0 || s->pad_r < 0)
        return "pad_t, pad_b, pad_l and pad_r must be >= 0";
    if (s->pad < 0) return "padding must be >= 0";
    const int side = s->pad_t > s->pad_b ? s->pad_t : s->pad_b,
              across = s->pad_l > s->pad_r ? s->pad_l : s->pad_r;
    if (s->pad > INT_MAX - (side > across ? side : across)) return "padding overflows int";
    const conv_geom g = conv_geometry(s);
    if (g.sh <= 0 || g.sw <= 0) return "stride must be >= 1";
    if (s->c % g.g || s->k % g.g)
        return "groups must divide input channels c and output channels k";
    /* the padded input and the dilated filter's extent in int, and the
       product checks below, must not overflow */
    const long long ph = (long long)s->h + g.pt + g.pb, pw = (long long)s->w + g.pl + g.pr;
    const long long eh = (long long)(s->r - 1) * g.dh + 1, ew = (long long)(s->s - 1) * g.dw + 1;
    if (ph > INT_MAX || pw > INT_MAX) return "padded input size overflows int";
    if (eh > INT_MAX || ew > INT_MAX) return "dilated filter size overflows int";
    if (ph < eh || pw < ew) return "output smaller than 1x1: filter larger than the padded input";
    size_t p = (size_t)conv_out_h(s), q = (size_t)conv_out_w(s), cg = (size_t)(s->c / g.g);
    if (!fits((size_t)s->n, (size_t)s->h, (size_t)s->w, (size_t)s->c) ||
        !fits((size_t)s->n, p, q, (size_t)s->k) ||
        !fits((size_t)s->r, (size_t)s->s, cg, (size_t)s->k))
        return "tensor size overflows size_t";
    /* backends index rows of im2col-like matrices with size_t but form
       per-image offsets in int-sized pieces; keep each image addressable */
    if ((size_t)s->h * s->w * s->c > (size_t)INT_MAX || p * q * (size_t)s->k > (size_t)INT_MAX ||
        (size_t)s->r * s->s * s->c > (size_t)INT_MAX)
        return "one image or filter exceeds 2^31 elements";
    return NULL;
}

const char *conv_shape_extended(const conv_shape *s)
{
    const conv_geom g = conv_geometry(s);
    if (g.g != 1) return "groups > 1 (grouped or depthwise convolution) not supported";
    if (g.dh != 1 || g.dw != 1) return "dilation > 1 not supported";
    if (g.sh != s->stride || g.sw != s->stride)
        return "a stride per axis (stride_h, stride_w) not supported";
    if (s->pad_t || s->pad_b || s->pad_l || s->pad_r)
        return "padding per side (pad_t, pad_b, pad_l, pad_r) not supported";
    if (s->pad >= s->r || s->pad >= s->s)
        return "padding at or beyond the filter size not supported";
    return NULL;
}

conv_shape conv_shape_canonical(const conv_shape *s)
{
    const conv_geom g = conv_geometry(s);
    int pad = g.pt < g.pb ? g.pt : g.pb;
    pad = pad < g.pl ? pad : g.pl;
    pad = pad < g.pr ? pad : g.pr;
    conv_shape o = *s;
    o.stride = g.sh;
    o.stride_h = 0;
    o.stride_w = g.sw == g.sh ? 0 : g.sw;
    o.pad = pad;
    o.pad_t = g.pt - pad;
    o.pad_b = g.pb - pad;
    o.pad_l = g.pl - pad;
    o.pad_r = g.pr - pad;
    o.groups = g.g == 1 ? 0 : g.g;
    o.dil_h = g.dh == 1 ? 0 : g.dh;
    o.dil_w = g.dw == 1 ? 0 : g.dw;
    return o;
}

size_t conv_x_elems(const conv_shape *s) { return (size_t)s->n * s->h * s->w * s->c; }
size_t conv_y_elems(const conv_shape *s)
{
    return (size_t)s->n * conv_out_h(s) * conv_out_w(s) * s->k;
}
size_t conv_w_elems(const conv_shape *s)
{
    return (size_t)s->r * s->s * (s->c / conv_geometry(s).g) * s->k;
}
