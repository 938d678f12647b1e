/* The non-convolution layers of the trainer, as plain forward/backward
   functions on NHWC batches (llm.c style). Convolutions go through conv.h
   (see net.c). Every function overwrites its outputs. */
#ifndef CONVBENCH_LAYERS_H
#define CONVBENCH_LAYERS_H

#include <stddef.h>
#include <stdint.h>

/* y = max(0, y) in place; backward masks dy where the output was 0 */
void relu_forward(float *y, size_t n);
void relu_backward(const float *y, float *dy, size_t n);

/* p x p max pooling, stride p, floor (Keras' default "valid"): x is
   n x h x w x c, y is n x (h/p) x (w/p) x c. pos keeps, per output, the
   position u*p + v of its window's winner (the first maximum in window
   order) for the backward pass. With relu_mask (x came from a ReLU), an
   output that is not positive gets POOL_MASKED instead: the ReLU's backward
   folded in, so the backward reads neither y nor x. */
enum { POOL_MASKED = -1 };
void maxpool_forward(const float *x, int n, int h, int w, int c, int p, int relu_mask, float *y,
                     int32_t *pos);
/* Writes every element of dx once: dy at each window's winner, 0 elsewhere
   (and at a masked output's window). */
void maxpool_backward(const float *dy, const int32_t *pos, int n, int h, int w, int c, int p,
                      float *dx);

/* y[n][out] = x[n][in] . w[in][out] + b[out] (Keras' kernel layout), then
   max(0, y) if relu */
void dense_forward(const float *x, const float *w, const float *b, int n, int in, int out, int relu,
                   float *y);
/* dw = x^T dy, db = sum over the batch of dy */
void dense_backward_weights(const float *x, const float *dy, int n, int in, int out, float *dw,
                            float *db);
/* dx = dy w^T, computed as dx^T = w . dy^T, where both GEMM operands are
   row-major as they lie (w's transpose would need packing on every call:
   measured twice as slow for the seed's dense1); ws holds dy^T and dx^T,
   n * (in + out) floats */
void dense_backward_data(const float *w, const float *dy, int n, int in, int out, float *dx,
                         float *ws);

/* Softmax of logits z (n x classes) into probs and the mean sparse
   categorical cross-entropy against labels; dz = (probs - onehot) / n.
   Returns the summed (not mean) loss in double; *correct counts rows whose
   first arg-max equals the label. dz may be NULL (evaluation). */
double softmax_xent(const float *z, const uint8_t *labels, int n, int classes, float *probs,
                    float *dz, int *correct);

#endif
