/* Adam exactly as Keras applies it. */
#ifndef CONVBENCH_ADAM_H
#define CONVBENCH_ADAM_H

#include <stddef.h>

typedef struct {
    float lr, beta1, beta2, eps; /* Keras defaults: 1e-3, 0.9, 0.999, 1e-7 */
    long t;                      /* steps taken */
    float lr_t;                  /* this step's bias-corrected rate */
} adam;

adam adam_default(void);
/* Advances t (and lr_t); call once per step before adam_update on each tensor. */
void adam_begin_step(adam *a);
/* w -= lr_t * m / (sqrt(v) + eps), with m, v the moment estimates and
   lr_t = lr * sqrt(1 - beta2^t) / (1 - beta1^t). A worksharing loop
   without a barrier: called inside a parallel region, the team shares the
   tensor, and a team can run through all tensors in one region. */
void adam_update(const adam *a, float *w, const float *g, float *m, float *v, size_t n);
/* adam_update's threads share a tensor in chunks of this many elements
   (schedule static); a loop that prepares g splits the same way, so each
   thread's share is still in its cache when the update reads it. */
enum { ADAM_CHUNK = 64 };

#endif
