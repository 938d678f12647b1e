/* Measured ceilings. FMA peak: per thread, independent accumulator chains
   of a = a*x + y, as many as cover FMA latency x ports (4 cycles x 2 ports
   on Zen 3 and Sapphire Rapids: 8 in flight) with room to spare, and no
   more than fit the register file with the two operands: spilled chains
   turn the loop into loads and stores (16 ymm chains + 2 operands on AVX2's
   16 registers measured 56.6 GFLOP/s on a Zen 3 core that does 100).
     AVX-512 24 zmm chains + 2 of 32, AVX2 12 ymm + 2 of 16, scalar 12 xmm.
   Bandwidth: STREAM's triad a = b + s*c on arrays each thread allocates and
   first-touches itself, the same kernel at every level of the hierarchy
   (the working set picks the level); bytes counted as STREAM does, 3 per
   element (the write-allocate read of a is not counted).
   Every figure is the best of its repetitions: on a shared machine the
   slow ones measure the neighbours, not the CPU. */
#include <immintrin.h>
#include <omp.h>
#include <stdlib.h>
#include "peak.h"

#define CHAINS_AVX512 24
#define CHAINS_AVX2   12
#define CHAINS_SCALAR 12
#define ITERS         20000000L /* ~50 ms a repetition: longer than a scheduler tick */

static volatile float sink;

static double best(const double *v, int n)
{
    double m = 0;
    for (int i = 0; i < n; i++)
        if (v[i] > m) m = v[i];
    return m;
}

/* The inner loops are unrolled over the chains so that each lives in a
   register of its own (objdump -d shows one vfmadd per chain, no memory
   operands). */
__attribute__((target("avx512f"))) static double fma_avx512(long iters)
{
    __m512 acc[CHAINS_AVX512], a = _mm512_set1_ps(sink + 0.999999f), b = _mm512_set1_ps(1e-7f);
    for (int i = 0; i < CHAINS_AVX512; i++) acc[i] = _mm512_set1_ps((float)i);
    for (long it = 0; it < iters; it++) {
#pragma GCC unroll 32
        for (int i = 0; i < CHAINS_AVX512; i++) acc[i] = _mm512_fmadd_ps(acc[i], a, b);
    }
    for (int i = 1; i < CHAINS_AVX512; i++) acc[0] = _mm512_add_ps(acc[0], acc[i]);
    sink = _mm512_reduce_add_ps(acc[0]);
    return 2.0 * 16 * CHAINS_AVX512 * iters;
}

__attribute__((target("avx2,fma"))) static double fma_avx2(long iters)
{
    __m256 acc[CHAINS_AVX2], a = _mm256_set1_ps(sink + 0.999999f), b = _mm256_set1_ps(1e-7f);
    for (int i = 0; i < CHAINS_AVX2; i++) acc[i] = _mm256_set1_ps((float)i);
    for (long it = 0; it < iters; it++) {
#pragma GCC unroll 32
        for (int i = 0; i < CHAINS_AVX2; i++) acc[i] = _mm256_fmadd_ps(acc[i], a, b);
    }
    for (int i = 1; i < CHAINS_AVX2; i++) acc[0] = _mm256_add_ps(acc[0], acc[i]);
    float v[8];
    _mm256_storeu_ps(v, acc[0]);
    sink = v[0] + v[7];
    return 2.0 * 8 * CHAINS_AVX2 * iters;
}

/* Scalar: twelve named chains, and an empty asm that holds each in an xmm
   register of its own every iteration, so gcc can neither pack them into
   vectors (it did: the "scalar" peak came out twice the scalar FMA rate)
   nor keep them in memory. FMA where the CPU has it (AVX2 here means
   AVX2+FMA), else multiply and add. */
#define SCALAR_LOOP(OP)                                                                            \
    const float a = sink + 0.999999f, b = 1e-7f;                                                   \
    float c0 = 0, c1 = 1, c2 = 2, c3 = 3, c4 = 4, c5 = 5, c6 = 6, c7 = 7, c8 = 8, c9 = 9,          \
          c10 = 10, c11 = 11;                                                                      \
    for (long it = 0; it < iters; it++) {                                                          \
        c0 = OP(c0, a, b);                                                                         \
        c1 = OP(c1, a, b);                                                                         \
        c2 = OP(c2, a, b);                                                                         \
        c3 = OP(c3, a, b);                                                                         \
        c4 = OP(c4, a, b);                                                                         \
        c5 = OP(c5, a, b);                                                                         \
        c6 = OP(c6, a, b);                                                                         \
        c7 = OP(c7, a, b);                                                                         \
        c8 = OP(c8, a, b);                                                                         \
        c9 = OP(c9, a, b);                                                                         \
        c10 = OP(c10, a, b);                                                                       \
        c11 = OP(c11, a, b);                                                                       \
        __asm__(""                                                                                 \
                : "+x"(c0), "+x"(c1), "+x"(c2), "+x"(c3), "+x"(c4), "+x"(c5), "+x"(c6), "+x"(c7),  \
                  "+x"(c8), "+x"(c9), "+x"(c10), "+x"(c11));                                       \
    }                                                                                              \
    sink = c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7 + c8 + c9 + c10 + c11;                            \
    return 2.0 * CHAINS_SCALAR * iters;
#define FMA_OP(x, a, b)    __builtin_fmaf(x, a, b)
#define MULADD_OP(x, a, b) ((x) * (a) + (b))

__attribute__((target("fma"))) static double fma_scalar(long iters) { SCALAR_LOOP(FMA_OP) }

static double muladd_scalar(long iters) { SCALAR_LOOP(MULADD_OP) }

double peak_fma_gflops(cpu_isa isa, int threads, int reps)
{
    if (isa > cpu_isa_supported() || threads < 1 || reps < 1) return 0;
    double (*loop)(long) = isa == ISA_AVX512                 ? fma_avx512
                           : isa == ISA_AVX2                 ? fma_avx2
                           : cpu_isa_supported() >= ISA_AVX2 ? fma_scalar
                                                             : muladd_scalar;
    long iters = ITERS;
    double *rate = malloc(sizeof(double) * (size_t)reps);
    if (!rate) return 0;
    loop(iters / 10); /* warm up the clock */
    for (int r = 0; r < reps; r++) {
        double flops = 0, t0 = omp_get_wtime();
#pragma omp parallel num_threads(threads) reduction(+ : flops)
        flops += loop(iters);
        rate[r] = flops / (omp_get_wtime() - t0) * 1e-9;
    }
    double m = best(rate, reps);
    free(rate);
    return m;
}

/* Each repetition moves about this much per thread: ~5-50 ms in caches. */
#define BW_BYTES_PER_REP (512.0 * (1 << 20))

double peak_bandwidth_gbs(int threads, size_t bytes, int reps)
{
    if (threads < 1 || reps < 1) return 0;
    /* elements per array per thread, a multiple of 16 (whole vectors) */
    size_t n = bytes / (size_t)threads / 3 / sizeof(float) / 16 * 16;
    if (n == 0) return 0;
    long passes = (long)(BW_BYTES_PER_REP / (3.0 * n * sizeof(float)));
    if (passes < 1) passes = 1;
    double *rate = calloc((size_t)reps, sizeof(double));
    if (!rate) return 0;
    int failed = 0;
    double t0 = 0;
#pragma omp parallel num_threads(threads)
    {
        /* each thread's own arrays, first touched by it (its NUMA node,
           its cache), in one block with b and c 1 KiB and 2 KiB past a
           modulo 4 KiB: arrays at the same offset in a page make the
           store to a[i] look like it aliases the loads of b[i] and c[i],
           which halved the L1 figure whenever malloc placed them so */
        size_t gap = (1024 - n * sizeof(float) % 4096 + 4096) % 4096 / sizeof(float);
        float *a = aligned_alloc(4096, (3 * n + 2 * gap + 16) * sizeof(float) / 4096 * 4096 + 4096);
        float *b = a ? a + n + gap : NULL, *c = a ? b + n + gap : NULL;
        if (a) {
            for (size_t i = 0; i < n; i++) {
                a[i] = 0;
                b[i] = 1;
                c[i] = 2;
            }
        } else {
#pragma omp atomic write
            failed = 1;
        }
#pragma omp barrier
        int bad;
#pragma omp atomic read
        bad = failed;
        const int ok = !bad; /* the same for every thread after the barrier */
        const float s = 3.0f;
        for (int r = -1; ok && r < reps; r++) { /* r = -1: warm-up */
#pragma omp barrier
#pragma omp single
            t0 = omp_get_wtime();
            for (long p = 0; p < passes; p++) {
                for (size_t i = 0; i < n; i++) a[i] = b[i] + s * c[i];
                __asm__ volatile("" ::: "memory"); /* every pass is done */
            }
#pragma omp barrier
#pragma omp single
            if (r >= 0)
                rate[r] = 3.0 * sizeof(float) * (double)n * (double)passes * threads /
                          (omp_get_wtime() - t0) * 1e-9;
        }
        if (ok && omp_get_thread_num() == 0) sink = a[n / 2];
        free(a);
    }
    double m = failed ? 0 : best(rate, reps);
    free(rate);
    return m;
}

double peak_triad_gbs(int threads, size_t mib, int reps)
{
    return peak_bandwidth_gbs(threads, 3 * mib * ((size_t)1 << 20), reps);
}
