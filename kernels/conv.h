/* The convolution contract: every backend implements this, the trainer and
   the harness see nothing else.

   Layouts: activations NHWC (x[n][h][w][c], y[n][p][q][k]), bias [k].
   Channels are grouped g x (C/g) and g x (K/g): input channel c = i*(C/g) + cc
   and output channel k = i*(K/g) + kk belong to group i, and group i's
   outputs see only group i's inputs. Weights are HWIO per group,
   w[r][s][cc][k] with k = i*(K/g) + kk (C/g input rows, all K columns):
   with g = 1 plain HWIO w[r][s][c][k]; with g = C (depthwise) the
   [r][s][C][multiplier] layout of TensorFlow's depthwise filters. oneDNN
   reads it without a copy as its hwigo layout (g, K/g, C/g, R, S dims).

   Geometry, with every appended member's zero meaning the shape of before:
     stride along an axis   SH = stride_h ? stride_h : stride (SW likewise)
     dilation               DH = dil_h ? dil_h : 1: taps DH rows apart
     padding                top = pad + pad_t, bottom = pad + pad_b,
                            left = pad + pad_l, right = pad + pad_r
     output                 p = (h + top + bottom - ((r-1)*DH + 1)) / SH + 1
     y[n][p][q][k] = sum over r, s, cc of
         x[n][p*SH - top + r*DH][q*SW - left + s*DW][i*(C/g) + cc] * w[r][s][cc][k]
   Padding may reach or exceed the filter's extent; an output row that sees
   only padding holds the bias. */
#ifndef CONVBENCH_CONV_H
#define CONVBENCH_CONV_H

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    int n;       /* batch */
    int h, w, c; /* input height, width, channels */
    int k;       /* output channels */
    int r, s;    /* filter height, width */
    int stride;  /* same in both dimensions, >= 1 (0 allowed if stride_h, stride_w are set) */
    int pad;     /* zero padding on every side, >= 0 */
    /* appended; 0 means what the members above say (see the top) */
    int groups;                     /* 0 or 1: dense; g divides c and k; g = c: depthwise */
    int stride_h, stride_w;         /* 0: stride; else the stride along that axis */
    int dil_h, dil_w;               /* 0 or 1: dense taps; d: taps d apart (d - 1 skipped) */
    int pad_t, pad_b, pad_l, pad_r; /* added to pad on that side, >= 0 */
} conv_shape;

/* (h + top + bottom - ((r-1)*DH + 1)) / SH + 1; with the appended members 0,
   (h + 2*pad - r) / stride + 1 */
int conv_out_h(const conv_shape *s);
int conv_out_w(const conv_shape *s);
double conv_flops(const conv_shape *s); /* 2*n*k*(c/g)*r*s*p*q: one pass */

typedef enum { CONV_FORWARD, CONV_BACKWARD_DATA, CONV_BACKWARD_WEIGHTS } conv_pass;

typedef struct conv_plan conv_plan; /* backend-owned: workspace, repacked
                                           weights, oneDNN primitives, ... */
typedef struct {
    const char *name;                               /* "naive", "im2col", "winograd", ... */
    const char *(*unsupported)(const conv_shape *); /* NULL, or why not */
    conv_plan *(*plan)(const conv_shape *);         /* NULL on failure */
    void (*forward)(conv_plan *, const float *x, const float *w, const float *bias,
                    float *y); /* bias may be NULL */
    void (*backward_data)(conv_plan *, const float *dy, const float *w, float *dx);
    void (*backward_weights)(conv_plan *, const float *x, const float *dy, float *dw,
                             float *dbias); /* dbias may be NULL */
    void (*destroy)(conv_plan *);
    /* optional (may be NULL): what actually runs for a pass, for results
       files, e.g. "avx512 6x64 tiles" or oneDNN's "brg:avx512_core" */
    const char *(*impl)(const conv_plan *, conv_pass);
    /* optional (may be NULL): forward with bias and ReLU fused into the
       epilogue, y = max(0, conv(x; w) + bias), so y is written once */
    void (*forward_relu)(conv_plan *, const float *x, const float *w, const float *bias, float *y);
} conv_backend;

const conv_backend *const *conv_backends(void);          /* NULL-terminated */
const conv_backend *conv_backend_find(const char *name); /* NULL if unknown */

/* "forward", "backward_data", "backward_weights": the pass's name in
   results files, tables and messages; "unknown" for any other value. */
const char *conv_pass_name(conv_pass p);

#ifdef __cplusplus
}
#endif

#endif
