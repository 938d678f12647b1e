/* Measured machine ceilings: fp32 FMA peak and memory bandwidth. Every
   "% of peak" in convbench divides by these, measured on the machine that
   ran the benchmark, never by a datasheet figure. */
#ifndef CONVBENCH_PEAK_H
#define CONVBENCH_PEAK_H

#include "cpu.h"

#ifdef __cplusplus
extern "C" {
#endif

/* fp32 GFLOP/s of independent FMA chains at the given ISA (AVX512 or AVX2;
   PORTABLE measures scalar FMA) on `threads` OpenMP threads; the best of
   `reps` timed runs. 0 if the CPU lacks the ISA. */
double peak_fma_gflops(cpu_isa isa, int threads, int reps);
/* STREAM triad a[i] = b[i] + s*c[i], each thread on its own three arrays,
   `bytes` the working set of all threads together (3 arrays each); GB/s
   counting 3 * 4 bytes per element, best of reps. Pick bytes to fit a
   cache level (or to exceed them all for memory). 0 on failure. */
double peak_bandwidth_gbs(int threads, size_t bytes, int reps);
/* peak_bandwidth_gbs over 3 arrays of `mib` MiB in all: memory. */
double peak_triad_gbs(int threads, size_t mib, int reps);

#ifdef __cplusplus
}
#endif

#endif
