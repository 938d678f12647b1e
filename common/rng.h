/* A seeded generator (splitmix64): same seed, same stream, on any machine. */
#ifndef CONVBENCH_RNG_H
#define CONVBENCH_RNG_H

#include <stdint.h>

typedef struct {
    uint64_t state;
} rng;

uint64_t rng_next(rng *g);
float rng_uniform(rng *g, float lo, float hi); /* [lo, hi) */
void rng_shuffle(rng *g, int *a, int n);       /* Fisher-Yates */

#endif
