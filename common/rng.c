#include "rng.h"

uint64_t rng_next(rng *g)
{
    uint64_t z = (g->state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

float rng_uniform(rng *g, float lo, float hi)
{
    return lo + (hi - lo) * (float)((rng_next(g) >> 40) * (1.0 / 16777216.0));
}

void rng_shuffle(rng *g, int *a, int n)
{
    for (int i = n - 1; i > 0; i--) {
        int j = (int)(rng_next(g) % (uint64_t)(i + 1));
        int t = a[i];
        a[i] = a[j];
        a[j] = t;
    }
}
