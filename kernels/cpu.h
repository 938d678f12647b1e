/* Machine facts, public to every layer: which ISA runs (run-time
   dispatch), the data cache sizes, and 64-byte aligned buffers. Code that
   sizes or dispatches work by the machine asks here (the kernels' blocking
   and ISA paths, the trainer's L2-sized parts, the harness's ISA fields)
   rather than reading sysconf or CPU features itself; the harness's
   description of the machine for results files (hwloc, /proc/cpuinfo) is
   a record, not a decision. */
#ifndef CONVBENCH_CPU_H
#define CONVBENCH_CPU_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum { ISA_PORTABLE = 0, ISA_AVX2 = 1, ISA_AVX512 = 2 } cpu_isa;

/* The best ISA this CPU runs (AVX2 means AVX2+FMA, AVX-512 means AVX-512F),
   lowered by the environment variable CONVBENCH_ISA=avx512|avx2|portable.
   Read once (GEMM calls ask on every call, and getenv scans the whole
   environment); cpu_isa_reload() reads it again, for a program that
   changes it with setenv(). An ISA above what the CPU has is capped to
   what it has. */
cpu_isa cpu_isa_active(void);
void cpu_isa_reload(void);
cpu_isa cpu_isa_supported(void);
const char *cpu_isa_name(cpu_isa isa); /* "avx512", "avx2", "portable" */
/* Parses an ISA name; returns -1 if unknown. */
int cpu_isa_parse(const char *name);

/* 1 where the CPU runs a 512-bit vector instruction as two 256-bit halves
   (AMD family 19h with AVX-512F: Zen 4), so it issues one 512-bit FMA a
   cycle against two on Intel's server cores; kernels pick their
   instruction mix by it. 0 elsewhere, and without AVX-512F. */
int cpu_avx512_halves(void);

/* Data cache sizes in bytes (sysconf; 48 KiB and 2 MiB when the system
   does not say, or says something implausible). */
size_t cpu_l1d_bytes(void);
size_t cpu_l2_bytes(void);

/* 64-byte aligned, zero-initialised; NULL on failure or zero size.
   Free with free(). */
void *cpu_alloc(size_t bytes);

#ifdef __cplusplus
}
#endif

#endif
