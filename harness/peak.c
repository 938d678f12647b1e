/* FMA peak: 16 independent accumulator chains per thread, enough to cover
   FMA latency (4 cycles) x issue ports (2) on current x86 cores, so the loop
   is throughput-bound. Triad: STREAM's a = b + s*c on first-touched arrays. */
#include <immintrin.h>
#include <omp.h>
#include <stdlib.h>
#include "peak.h"
#include "results.h"

#define CHAINS 16
#define ITERS 20000000L   /* ~50 ms a repetition: longer than a scheduler tick */

static volatile float sink;

/* median of n values, through the one results_stats */
static double median(const double *v, int n)
{
    double med, lo, hi;
    results_stats(v, n, &med, &lo, &hi);
    return med;
}

__attribute__((target("avx512f"))) static double fma_avx512(long iters)
{
    __m512 acc[CHAINS], a = _mm512_set1_ps(sink + 0.999999f), b = _mm512_set1_ps(1e-7f);
    for (int i = 0; i < CHAINS; i++) acc[i] = _mm512_set1_ps((float)i);
    for (long it = 0; it < iters; it++)
        for (int i = 0; i < CHAINS; i++) acc[i] = _mm512_fmadd_ps(acc[i], a, b);
    for (int i = 1; i < CHAINS; i++) acc[0] = _mm512_add_ps(acc[0], acc[i]);
    sink = _mm512_reduce_add_ps(acc[0]);
    return 2.0 * 16 * CHAINS * iters;
}

__attribute__((target("avx2,fma"))) static double fma_avx2(long iters)
{
    __m256 acc[CHAINS], a = _mm256_set1_ps(sink + 0.999999f), b = _mm256_set1_ps(1e-7f);
    for (int i = 0; i < CHAINS; i++) acc[i] = _mm256_set1_ps((float)i);
    for (long it = 0; it < iters; it++)
        for (int i = 0; i < CHAINS; i++) acc[i] = _mm256_fmadd_ps(acc[i], a, b);
    for (int i = 1; i < CHAINS; i++) acc[0] = _mm256_add_ps(acc[0], acc[i]);
    float v[8];
    _mm256_storeu_ps(v, acc[0]);
    sink = v[0] + v[7];
    return 2.0 * 8 * CHAINS * iters;
}

static double fma_scalar(long iters)
{
    float acc[CHAINS], a = sink + 0.999999f, b = 1e-7f;
    for (int i = 0; i < CHAINS; i++) acc[i] = (float)i;
    for (long it = 0; it < iters; it++)
        for (int i = 0; i < CHAINS; i++) acc[i] = __builtin_fmaf(acc[i], a, b);
    float s = 0;
    for (int i = 0; i < CHAINS; i++) s += acc[i];
    sink = s;
    return 2.0 * CHAINS * iters;
}

double peak_fma_gflops(cpu_isa isa, int threads, int reps)
{
    if (isa > cpu_isa_supported() || threads < 1 || reps < 1) return 0;
    double (*loop)(long) = isa == ISA_AVX512 ? fma_avx512 : isa == ISA_AVX2 ? fma_avx2 : fma_scalar;
    long iters = ITERS;
    double *rate = malloc(sizeof(double) * (size_t)reps);
    if (!rate) return 0;
    loop(iters / 10);                                 /* warm up the clock */
    for (int r = 0; r < reps; r++) {
        double flops = 0, t0 = omp_get_wtime();
        #pragma omp parallel num_threads(threads) reduction(+ : flops)
        flops += loop(iters);
        rate[r] = flops / (omp_get_wtime() - t0) * 1e-9;
    }
    double m = median(rate, reps);
    free(rate);
    return m;
}

double peak_triad_gbs(int threads, size_t mib, int reps)
{
    size_t n = mib * (1u << 20) / sizeof(float);
    if (threads < 1 || reps < 1 || n == 0) return 0;
    float *a = malloc(n * sizeof(float)), *b = malloc(n * sizeof(float)),
          *c = malloc(n * sizeof(float));
    double *rate = malloc(sizeof(double) * (size_t)reps);
    double m = 0;
    if (a && b && c && rate) {
        #pragma omp parallel for num_threads(threads) schedule(static)
        for (size_t i = 0; i < n; i++) { a[i] = 0; b[i] = 1; c[i] = 2; }
        for (int r = 0; r < reps; r++) {
            const float s = 3.0f;
            double t0 = omp_get_wtime();
            #pragma omp parallel for num_threads(threads) schedule(static)
            for (size_t i = 0; i < n; i++) a[i] = b[i] + s * c[i];
            rate[r] = 3.0 * n * sizeof(float) / (omp_get_wtime() - t0) * 1e-9;
        }
        sink = a[n / 2];
        m = median(rate, reps);
    }
    free(a); free(b); free(c); free(rate);
    return m;
}
