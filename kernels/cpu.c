/* Which SIMD path runs is decided here, at run time, never by -march. */
#include <cpuid.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cpu.h"

static const char *const isa_names[] = { "portable", "avx2", "avx512" };

cpu_isa cpu_isa_supported(void)
{
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) return ISA_AVX512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return ISA_AVX2;
    return ISA_PORTABLE;
}

int cpu_isa_parse(const char *name)
{
    for (int i = 0; i < 3; i++)
        if (strcmp(name, isa_names[i]) == 0) return i;
    return -1;
}

static cpu_isa isa_from_env(void)
{
    cpu_isa best = cpu_isa_supported();
    const char *env = getenv("CONVBENCH_ISA");
    if (!env || !*env) return best;
    int want = cpu_isa_parse(env);
    if (want < 0) {
        /* a silent fallback would mislabel every measurement */
        fprintf(stderr, "convbench: CONVBENCH_ISA=%s is not one of avx512, avx2, portable\n", env);
        exit(2);
    }
    return (cpu_isa)want < best ? (cpu_isa)want : best;
}

static atomic_int active = -1; /* -1: not read yet */

cpu_isa cpu_isa_active(void)
{
    int v = atomic_load_explicit(&active, memory_order_relaxed);
    if (v < 0) {
        v = (int)isa_from_env();
        atomic_store_explicit(&active, v, memory_order_relaxed);
    }
    return (cpu_isa)v;
}

void cpu_isa_reload(void) { atomic_store_explicit(&active, -1, memory_order_relaxed); }

const char *cpu_isa_name(cpu_isa isa) { return isa_names[isa]; }

int cpu_avx512_halves(void)
{
    unsigned a, b, c, d;
    if (cpu_isa_supported() != ISA_AVX512 || !__get_cpuid(0, &a, &b, &c, &d)) return 0;
    /* "AuthenticAMD" in ebx, edx, ecx */
    if (b != 0x68747541u || d != 0x69746e65u || c != 0x444d4163u) return 0;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    const unsigned family = ((a >> 8) & 0xf) + (((a >> 8) & 0xf) == 0xf ? (a >> 20) & 0xff : 0);
    return family == 0x19;
}

static size_t l1d = 48 * 1024, l2 = 2 * 1024 * 1024;
static pthread_once_t caches_once = PTHREAD_ONCE_INIT;

static void caches_read(void)
{
    long v = sysconf(_SC_LEVEL1_DCACHE_SIZE);
    if (v >= 16 * 1024 && v <= 1024 * 1024) l1d = (size_t)v;
    v = sysconf(_SC_LEVEL2_CACHE_SIZE);
    if (v >= 128 * 1024 && v <= 64 * 1024 * 1024) l2 = (size_t)v;
}

size_t cpu_l1d_bytes(void)
{
    pthread_once(&caches_once, caches_read);
    return l1d;
}

size_t cpu_l2_bytes(void)
{
    pthread_once(&caches_once, caches_read);
    return l2;
}

void *cpu_alloc(size_t bytes)
{
    if (bytes == 0 || bytes > SIZE_MAX - 63) return NULL;
    size_t rounded = (bytes + 63) & ~(size_t)63;
    void *p = aligned_alloc(64, rounded);
    if (p) memset(p, 0, rounded);
    return p;
}
