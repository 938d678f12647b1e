#include <math.h>
#include "adam.h"

adam adam_default(void) { return (adam){ 1e-3f, 0.9f, 0.999f, 1e-7f, 0, 0.0f }; }

void adam_begin_step(adam *a)
{
    a->t++;
    a->lr_t = (float)(a->lr * sqrt(1.0 - pow(a->beta2, (double)a->t)) /
                      (1.0 - pow(a->beta1, (double)a->t)));
}

void adam_update(const adam *a, float *w, const float *g, float *m, float *v, size_t n)
{
    const float lr_t = a->lr_t, b1 = a->beta1, b2 = a->beta2, eps = a->eps;
    #pragma omp for simd schedule(static) nowait
    for (size_t i = 0; i < n; i++) {
        m[i] = b1 * m[i] + (1.0f - b1) * g[i];
        v[i] = b2 * v[i] + (1.0f - b2) * g[i] * g[i];
        w[i] -= lr_t * m[i] / (sqrtf(v[i]) + eps);
    }
}
