/* The convolution contract: every backend implements this, the trainer and
   the harness see nothing else. Layouts: activations NHWC, weights HWIO. */
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
    int stride;  /* same in both dimensions, >= 1 */
    int pad;     /* zero padding on every side, >= 0 */
} conv_shape;

int conv_out_h(const conv_shape *s); /* (h + 2*pad - r) / stride + 1 */
int conv_out_w(const conv_shape *s);
double conv_flops(const conv_shape *s); /* 2*n*k*c*r*s*p*q: one pass */

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
