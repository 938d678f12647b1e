/* Adam: adam_update against Keras's formula in double. */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include "../models/adam.h"
#include "check.h"
#include "suites.h"

/* adam_update against Keras's formula in double over several steps: tensor
   lengths around the update's chunk and prefetch distances, zero
   gradients (v stays 0: the sqrt(0) + eps branch), shared by a team of 1
   and of 3 threads (each thread's share ends anywhere). */
void test_adam(void)
{
    if (!check_selected("adam")) return;
    const size_t lens[] = { 0, 1, 15, 16, 63, 64, 65, 257, 300, 1000, 4099 };
    int bad = 0;
    double worst = 0;
    for (int team = 1; team <= 3; team += 2)
        for (size_t li = 0; li < sizeof lens / sizeof *lens; li++) {
            const size_t n = lens[li];
            float *w = calloc(n + 1, sizeof(float)), *g = calloc(n + 1, sizeof(float));
            float *m = calloc(n + 1, sizeof(float)), *v = calloc(n + 1, sizeof(float));
            double *rw = calloc(n + 1, sizeof(double)), *rm = calloc(n + 1, sizeof(double));
            double *rv = calloc(n + 1, sizeof(double));
            check_rng r = { 7 + n };
            check_fill(&r, w, n);
            for (size_t i = 0; i < n; i++) rw[i] = w[i];
            adam a = adam_default();
            for (int step = 0; step < 5; step++) {
                check_fill(&r, g, n);
                for (size_t i = 0; i < n; i += 3) g[i] = 0.0f; /* some gradients are 0 */
                if (step == 0)
                    for (size_t i = 1; i < n; i += 3) g[i] = 0.0f; /* and some stay 0 */
                adam_begin_step(&a);
#pragma omp parallel num_threads(team)
                adam_update(&a, w, g, m, v, n);
                const double b1 = a.beta1, b2 = a.beta2;
                const double lr_t =
                    a.lr * sqrt(1 - pow(b2, (double)a.t)) / (1 - pow(b1, (double)a.t));
                for (size_t i = 0; i < n; i++) {
                    rm[i] = b1 * rm[i] + (1 - b1) * g[i];
                    rv[i] = b2 * rv[i] + (1 - b2) * (double)g[i] * g[i];
                    rw[i] -= lr_t * rm[i] / (sqrt(rv[i]) + a.eps);
                }
            }
            for (size_t i = 0; i < n; i++) {
                /* each of the 5 steps rounds w once: in ulps of w (a step
                   moves w by up to lr, so a wrong update is ~1e4 ulps off) */
                const double e = fabs(w[i] - rw[i]) / (FLT_EPSILON * (fabs(rw[i]) + a.lr));
                const double em = fabs(m[i] - rm[i]); /* gradients are within [-1, 1) */
                if (e > worst) worst = e;
                if (!(e <= 5) || !(em < 1e-6) || !(v[i] >= 0.0f)) bad++;
            }
            free(w);
            free(g);
            free(m);
            free(v);
            free(rw);
            free(rm);
            free(rv);
        }
    check("adam", bad == 0, "%d elements off the double reference (worst weight error %.2g ulps)",
          bad, worst);
}
