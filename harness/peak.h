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
   PORTABLE measures scalar FMA) on `threads` OpenMP threads; median of
   `reps` timed runs. 0 if the CPU lacks the ISA. */
double peak_fma_gflops(cpu_isa isa, int threads, int reps);
/* STREAM-style triad a[i] = b[i] + s*c[i] on `threads` threads, GB/s
   (3 arrays of `mib` MiB each counted as 3 * bytes moved), median of reps. */
double peak_triad_gbs(int threads, size_t mib, int reps);

#ifdef __cplusplus
}
#endif

#endif
