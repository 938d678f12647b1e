/* sgemm: row-major C = alpha * op(A) * op(B) + beta * C, built as BLIS builds
   it: five loops around a register-blocked micro-kernel.

     for jc in 0..n step NC            B block KC x NC lives in L3
       for pc in 0..k step KC          pack op(B)[pc:+KC][jc:+NC] into NR-wide
                                       micro-panels (all threads, shared)
         for ic in 0..m step MC        (threads) pack alpha*op(A)[ic:+MC][pc:+KC]
                                       into MR-tall micro-panels (per thread, L2)
           for jr in 0..NC step NR     B micro-panel KC x NR stays in L1
             for ir in 0..MC step MR   A micro-panel streams from L2
               micro-kernel: C[MR][NR] (+)= sum_p a[p][0:MR] (x) b[p][0:NR]

   The micro-kernel keeps an MR x NR tile of C in registers. C is row-major,
   so vectors run along N (contiguous in C and in the packed B), and each
   packed A value is broadcast from L1 and used by the NR/16 FMAs of its row:
     avx512    12 x 32: 24 zmm accumulators + 2 B vectors, 24 FMAs per
               2 loads + 12 broadcasts, well above the 4-cycle x 2-port
               latency-throughput product (8 chains) of the FMA units;
     avx2       6 x 16: 12 ymm accumulators + 2 B vectors (of 16 ymm);
     portable   4 x 16: plain C the compiler may vectorize.
   The kernel prefetches its C tile first: C rows are ldc apart, where the
   hardware prefetcher cannot follow (measured +10-15% at 2048^3).
   Edge tiles (m % MR, n % NR) are computed whole from zero-padded packed
   panels into a local tile and only the valid part is merged into C, so
   nothing outside op(A), op(B) or C is ever touched.

   alpha is folded into the packed A. beta applies on the first KC step only
   (later steps accumulate); beta == 0 stores without reading C.

   Block sizes (per ISA's MR, NR), from the caches at first use (sysconf;
   defaults in brackets when the system does not say):
     KC = L1d / 2 / (MR * 4 bytes): an A micro-panel in half of L1
          [48 KiB -> 512 for MR = 12], clamped to 128..512, then evened out
          over K (K blocks of equal size, their count rounded to nearest).
          Long K steps halve the passes over C (at 2048^3, 512 against
          256 measured +5-8% on one core); the B micro-panel, then larger
          than L1, streams from L2 at ~11 bytes a cycle, which L2 sustains;
     MC = L2 / 4 / (KC * 4), a multiple of MR   [2 MiB -> 252 for KC = 512],
          then evened out so the IC blocks share out equally over threads
          (a quarter of L2, not half: measured faster, the streamed B
          micro-panels need the room);
     NC = 4096 columns (the B block, KC x NC floats, fits any L3 >= 4 MiB).
   Cost: 2mnk flops; packing moves mk * ceil(n/NC) + kn floats.

   Unpacked path (sgemm_block, sgemm_shared): packing costs a pass over each
   operand, which pays only when each packed element feeds many FMAs. When
   n is a few panels wide (a conv layer's K, a Dense layer's outputs), or a
   caller has just produced a block that is still in cache (im2col), the
   same micro-kernel reads A and B where they are: A(i,p) = a[i*rs + p*cs]
   covers row-major and transposed A, B rows are read at their leading
   dimension. Loops: K steps of <= 512 (as the packed path's KC),
   then row groups outer and panels inner (a group's A rows stay in L1),
   or panels outer when A's K slice fits L1 and B is wide. Only the last
   panel is copied, zero-padded; a short last row group is shifted up onto
   rows that exist (its kernel recomputes a few rows of the group before,
   which are not stored again), or copied when m < MR. The epilogue (bias,
   beta, ReLU) is applied to the tile in registers.

   Threads: omp_get_max_threads() (about 1 per 1.5 MFLOP), none when
   called inside a parallel region. B is packed cooperatively; the (IC, JR)
   space is split into equal items (IC blocks cut at row-group boundaries,
   their count a multiple of the thread count, so shares differ by at most
   MR rows; when there are fewer IC blocks than threads the JR range is
   split too). PC is never split: it would need a reduction.
   Packing buffers are kept per calling thread between calls and grown on
   demand; if they cannot be allocated a plain loop computes the result. */
#include <immintrin.h>
#include <math.h>
#include <omp.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include "cpu.h"
#include "gemm.h"

enum { MAX_MR = 12, MAX_NR = 32 };
/* most floats of a transposed B copied for the unpacked path (64 KiB) */
enum { BT_MAX = 16384 };

/* One MR x NR tile of C = epilogue(A . B) over kc steps, for operands in any
   layout: A(i,p) = a[i*rs + p*cs] (packed panels: rs = 1, cs = MR; row-major
   rows: rs = lda, cs = 1; a transposed A: rs = 1, cs = lda) and
   B(p,j) = b[p*ldb + j] (packed panels: ldb = NR). The epilogue starts the
   accumulators at the bias, adds beta * C (beta == 0: C is not read) and
   clamps at 0, all in registers. */
typedef void (*ukernel_fn)(int kc, const float *a, size_t rs, size_t cs, const float *b, size_t ldb,
                           float *c, size_t ldc, const gemm_epilogue *e);

typedef struct {
    const char *name;
    int mr, nr;
    ukernel_fn kernel;
} ukernel;

/* ---- micro-kernels ---------------------------------------------------- */

__attribute__((target("avx512f"))) static void ukernel_avx512(int kc, const float *a, size_t rs,
                                                              size_t cs, const float *b, size_t ldb,
                                                              float *c, size_t ldc,
                                                              const gemm_epilogue *e)
{
    enum { MR = 12 }; /* 24 accumulators; 14 (28) measured slower */
    const __m512 init0 = e->bias ? _mm512_loadu_ps(e->bias) : _mm512_setzero_ps();
    const __m512 init1 = e->bias ? _mm512_loadu_ps(e->bias + 16) : _mm512_setzero_ps();
    __m512 acc[MR][2];
#pragma GCC unroll 16
    for (int i = 0; i < MR; i++) {
        acc[i][0] = init0;
        acc[i][1] = init1;
        /* C's tile arrives while the k loop runs (its rows are ldc apart,
           often in different pages: the hardware prefetcher will not help) */
        _mm_prefetch((const char *)(c + i * ldc), _MM_HINT_T0);
        _mm_prefetch((const char *)(c + i * ldc + 31), _MM_HINT_T0);
    }
    /* three row groups off three bases keep every address one base plus a
       scaled index, whatever rs is */
    const float *a4 = a + 4 * rs, *a8 = a + 8 * rs;
#pragma GCC unroll 2
    /* two steps per trip (im2col conv2 backward_weights +7%, forward +2%,
       Winograd's short GEMMs 0-1%, same process) */
    for (int p = 0; p < kc; p++) {
        __m512 b0 = _mm512_loadu_ps(b), b1 = _mm512_loadu_ps(b + 16);
#pragma GCC unroll 4
        for (int i = 0; i < 4; i++) {
            __m512 x0 = _mm512_set1_ps(a[i * rs]), x4 = _mm512_set1_ps(a4[i * rs]);
            __m512 x8 = _mm512_set1_ps(a8[i * rs]);
            acc[i][0] = _mm512_fmadd_ps(x0, b0, acc[i][0]);
            acc[i][1] = _mm512_fmadd_ps(x0, b1, acc[i][1]);
            acc[4 + i][0] = _mm512_fmadd_ps(x4, b0, acc[4 + i][0]);
            acc[4 + i][1] = _mm512_fmadd_ps(x4, b1, acc[4 + i][1]);
            acc[8 + i][0] = _mm512_fmadd_ps(x8, b0, acc[8 + i][0]);
            acc[8 + i][1] = _mm512_fmadd_ps(x8, b1, acc[8 + i][1]);
        }
        a += cs;
        a4 += cs;
        a8 += cs;
        b += ldb;
    }
    const __m512 bv = _mm512_set1_ps(e->beta), zero = _mm512_setzero_ps();
#pragma GCC unroll 16
    for (int i = 0; i < MR; i++) {
        float *ci = c + i * ldc;
        __m512 v0 = acc[i][0], v1 = acc[i][1];
        if (e->beta != 0.0f) {
            v0 = _mm512_fmadd_ps(bv, _mm512_loadu_ps(ci), v0);
            v1 = _mm512_fmadd_ps(bv, _mm512_loadu_ps(ci + 16), v1);
        }
        if (e->relu) {
            v0 = _mm512_max_ps(zero, v0); /* NaN passes through */
            v1 = _mm512_max_ps(zero, v1);
        }
        _mm512_storeu_ps(ci, v0);
        _mm512_storeu_ps(ci + 16, v1);
    }
}

__attribute__((target("avx2,fma"))) static void ukernel_avx2(int kc, const float *a, size_t rs,
                                                             size_t cs, const float *b, size_t ldb,
                                                             float *c, size_t ldc,
                                                             const gemm_epilogue *e)
{
    enum { MR = 6 };
    const __m256 init0 = e->bias ? _mm256_loadu_ps(e->bias) : _mm256_setzero_ps();
    const __m256 init1 = e->bias ? _mm256_loadu_ps(e->bias + 8) : _mm256_setzero_ps();
    __m256 acc[MR][2];
#pragma GCC unroll 6
    for (int i = 0; i < MR; i++) {
        acc[i][0] = init0;
        acc[i][1] = init1;
        _mm_prefetch((const char *)(c + i * ldc), _MM_HINT_T0);
        _mm_prefetch((const char *)(c + i * ldc + 15), _MM_HINT_T0);
    }
    const float *a3 = a + 3 * rs;
#pragma GCC unroll 4
    for (int p = 0; p < kc; p++) {
        __m256 b0 = _mm256_loadu_ps(b), b1 = _mm256_loadu_ps(b + 8);
#pragma GCC unroll 3
        for (int i = 0; i < 3; i++) {
            __m256 x0 = _mm256_broadcast_ss(a + i * rs), x3 = _mm256_broadcast_ss(a3 + i * rs);
            acc[i][0] = _mm256_fmadd_ps(x0, b0, acc[i][0]);
            acc[i][1] = _mm256_fmadd_ps(x0, b1, acc[i][1]);
            acc[3 + i][0] = _mm256_fmadd_ps(x3, b0, acc[3 + i][0]);
            acc[3 + i][1] = _mm256_fmadd_ps(x3, b1, acc[3 + i][1]);
        }
        a += cs;
        a3 += cs;
        b += ldb;
    }
    const __m256 bv = _mm256_set1_ps(e->beta), zero = _mm256_setzero_ps();
#pragma GCC unroll 6
    for (int i = 0; i < MR; i++) {
        float *ci = c + i * ldc;
        __m256 v0 = acc[i][0], v1 = acc[i][1];
        if (e->beta != 0.0f) {
            v0 = _mm256_fmadd_ps(bv, _mm256_loadu_ps(ci), v0);
            v1 = _mm256_fmadd_ps(bv, _mm256_loadu_ps(ci + 8), v1);
        }
        if (e->relu) {
            v0 = _mm256_max_ps(zero, v0); /* NaN passes through */
            v1 = _mm256_max_ps(zero, v1);
        }
        _mm256_storeu_ps(ci, v0);
        _mm256_storeu_ps(ci + 8, v1);
    }
}

static void ukernel_portable(int kc, const float *a, size_t rs, size_t cs, const float *b,
                             size_t ldb, float *c, size_t ldc, const gemm_epilogue *e)
{
    float acc[4][16];
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 16; j++) acc[i][j] = e->bias ? e->bias[j] : 0.0f;
    for (int p = 0; p < kc; p++, a += cs, b += ldb)
        for (int i = 0; i < 4; i++)
            for (int j = 0; j < 16; j++) acc[i][j] += a[i * rs] * b[j];
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 16; j++) {
            float v = e->beta == 0.0f ? acc[i][j] : acc[i][j] + e->beta * c[i * ldc + j];
            c[i * ldc + j] = e->relu && v < 0.0f ? 0.0f : v;
        }
}

static const ukernel ukernels[] = {
    [ISA_PORTABLE] = { "portable 4x16", 4, 16, ukernel_portable },
    [ISA_AVX2] = { "avx2 6x16", 6, 16, ukernel_avx2 },
    [ISA_AVX512] = { "avx512 12x32", 12, 32, ukernel_avx512 },
};

const char *sgemm_impl(void) { return ukernels[cpu_isa_active()].name; }

static int ceil_div(int a, int b) { return (a + b - 1) / b; }

/* ---- block sizes -------------------------------------------------------- */

typedef struct {
    int kc, mc, nc;
} blocking;

static blocking blocking_for(const ukernel *uk)
{
    const long l1_bytes = (long)cpu_l1d_bytes(), l2_bytes = (long)cpu_l2_bytes();
    blocking bl;
    bl.kc = (int)(l1_bytes / 2 / (uk->mr * 4)) & ~15;
    if (bl.kc < 128) bl.kc = 128;
    if (bl.kc > 512) bl.kc = 512;
    bl.mc = (int)(l2_bytes / 4 / ((long)bl.kc * 4)) / uk->mr * uk->mr;
    if (bl.mc < uk->mr) bl.mc = uk->mr;
    bl.nc = 4096;
    return bl;
}

/* ---- packing ------------------------------------------------------------ */

/* One full MR-row panel of a row-major A: dst[p][i] = alpha * a[i][p]. With
   mr a constant (inlined per micro-kernel shape) the row loop unrolls into
   straight loads and stores. */
static inline __attribute__((always_inline)) void pack_a_rows(const float *a, int lda, int kc,
                                                              float alpha, int mr, float *dst)
{
    const float *row[MAX_MR];
    for (int i = 0; i < mr; i++) row[i] = a + (size_t)i * lda;
    for (int p = 0; p < kc; p++, dst += mr)
        for (int i = 0; i < mr; i++) dst[i] = alpha * row[i][p];
}

/* alpha * op(A)[i0:+mc][p0:+kc] into MR-tall panels: panel t holds
   rows t*MR.., as dst[t][p][0:MR], rows past mc zero. */
static void pack_a(gemm_trans ta, const float *a, int lda, int i0, int mc, int p0, int kc,
                   float alpha, int mr, float *dst)
{
    for (int t = 0; t < mc; t += mr, dst += (size_t)mr * kc) {
        int rows = mc - t < mr ? mc - t : mr;
        if (ta == GEMM_NOTRANS) {
            const float *src = a + (size_t)(i0 + t) * lda + p0;
            if (rows == mr && mr == 12) {
                pack_a_rows(src, lda, kc, alpha, 12, dst);
                continue;
            }
            if (rows == mr && mr == 6) {
                pack_a_rows(src, lda, kc, alpha, 6, dst);
                continue;
            }
            if (rows == mr && mr == 4) {
                pack_a_rows(src, lda, kc, alpha, 4, dst);
                continue;
            }
            for (int i = 0; i < rows; i++)
                for (int p = 0; p < kc; p++)
                    dst[(size_t)p * mr + i] = alpha * src[(size_t)i * lda + p];
            for (int i = rows; i < mr; i++)
                for (int p = 0; p < kc; p++) dst[(size_t)p * mr + i] = 0.0f;
        } else {
            for (int p = 0; p < kc; p++) {
                const float *src = a + (size_t)(p0 + p) * lda + i0 + t;
                float *d = dst + (size_t)p * mr;
                int i = 0;
                for (; i < rows; i++) d[i] = alpha * src[i];
                for (; i < mr; i++) d[i] = 0.0f;
            }
        }
    }
}

/* op(B)[p0:+kc][j0 + t*NR:+NR] as panel dst[p][0:NR], columns past n zero. */
static void pack_b_panel(gemm_trans tb, const float *b, int ldb, int p0, int kc, int j0, int cols,
                         int nr, float *dst)
{
    if (tb == GEMM_NOTRANS) {
        for (int p = 0; p < kc; p++) {
            const float *src = b + (size_t)(p0 + p) * ldb + j0;
            float *d = dst + (size_t)p * nr;
            int j = 0;
            for (; j < cols; j++) d[j] = src[j];
            for (; j < nr; j++) d[j] = 0.0f;
        }
    } else {
        for (int j = 0; j < cols; j++) {
            const float *src = b + (size_t)(j0 + j) * ldb + p0;
            for (int p = 0; p < kc; p++) dst[(size_t)p * nr + j] = src[p];
        }
        for (int j = cols; j < nr; j++)
            for (int p = 0; p < kc; p++) dst[(size_t)p * nr + j] = 0.0f;
    }
}

/* ---- workspace: per calling thread, kept between calls ------------------ */

typedef struct {
    float *b; /* KC x NC packed B, shared by the team */
    size_t b_cap;
    float **a; /* one MC x KC packed A per team thread */
    size_t a_cap;
    int a_count;
} workspace;

static _Thread_local workspace ws;

static int ws_reserve(size_t b_elems, size_t a_elems, int threads)
{
    if (b_elems > ws.b_cap) {
        free(ws.b);
        ws.b = cpu_alloc(b_elems * sizeof(float));
        ws.b_cap = ws.b ? b_elems : 0;
        if (!ws.b) return 0;
    }
    if (threads > ws.a_count || a_elems > ws.a_cap) {
        int cnt = threads > ws.a_count ? threads : ws.a_count;
        for (int t = 0; t < ws.a_count; t++) free(ws.a[t]);
        free(ws.a);
        ws.a_count = 0;
        ws.a_cap = 0;
        ws.a = calloc((size_t)cnt, sizeof *ws.a);
        if (!ws.a) return 0;
        ws.a_count = cnt;
        for (int t = 0; t < cnt; t++)
            if (!(ws.a[t] = cpu_alloc(a_elems * sizeof(float)))) return 0;
        ws.a_cap = a_elems;
    }
    return 1;
}

/* ---- the loops ---------------------------------------------------------- */

static inline float op_at(gemm_trans t, const float *x, int ld, int r, int c)
{
    return t == GEMM_NOTRANS ? x[(size_t)r * ld + c] : x[(size_t)c * ld + r];
}

/* Used only when the packing buffers cannot be allocated. */
static void sgemm_plain(gemm_trans ta, gemm_trans tb, int m, int n, int k, float alpha,
                        const float *a, int lda, const float *b, int ldb, float beta, float *c,
                        int ldc)
{
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++) {
            float acc = 0.0f;
            for (int p = 0; p < k; p++) acc += op_at(ta, a, lda, i, p) * op_at(tb, b, ldb, p, j);
            float *cij = c + (size_t)i * ldc + j;
            *cij = beta == 0.0f ? alpha * acc : alpha * acc + beta * *cij;
        }
}

/* Merges the valid rows x cols of a local tile t (A . B + bias, row
   length NR) into C through the epilogue's beta and ReLU. */
static void merge_tile(const float *t, int nr, float *c, size_t ldc, int rows, int cols,
                       const gemm_epilogue *e)
{
    for (int i = 0; i < rows; i++) {
        float *ci = c + (size_t)i * ldc;
        const float *ti = t + (size_t)i * nr;
        for (int j = 0; j < cols; j++) {
            float v = e->beta == 0.0f ? ti[j] : ti[j] + e->beta * ci[j];
            ci[j] = e->relu && v < 0.0f ? 0.0f : v;
        }
    }
}

/* One MR x NR tile; edge tiles go through a local tile, so nothing past
   rows x cols of C is touched. The operands must hold a full MR x NR tile
   (zero-padded panels) and bias, if any, NR floats. With skip > 0, A's
   tile starts skip rows above C's (the last row group shifted up onto rows
   that exist, instead of a zero-padded copy): rows [skip, skip + rows) of
   the local tile are C's. */
static inline void tile(const ukernel *uk, int kc, const float *a, size_t rs, size_t cs,
                        const float *b, size_t ldb, float *c, size_t ldc, int rows, int cols,
                        int skip, const gemm_epilogue *e)
{
    if (rows == uk->mr && cols == uk->nr) {
        uk->kernel(kc, a, rs, cs, b, ldb, c, ldc, e);
        return;
    }
    float t[MAX_MR * MAX_NR] __attribute__((aligned(64)));
    const gemm_epilogue local = { 0.0f, e->bias, 0 };
    uk->kernel(kc, a, rs, cs, b, ldb, t, (size_t)uk->nr, &local);
    merge_tile(t + (size_t)skip * uk->nr, uk->nr, c, ldc, rows, cols, e);
}

/* C = epilogue(0): what is left of a product with k = 0 (or alpha = 0). */
static void epilogue_only(int m, int n, const gemm_epilogue *e, float *c, size_t ldc)
{
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++) {
            float *cij = c + (size_t)i * ldc + j;
            float v = (e->bias ? e->bias[j] : 0.0f) + (e->beta == 0.0f ? 0.0f : e->beta * *cij);
            *cij = e->relu && v < 0.0f ? 0.0f : v;
        }
}

/* Threads for a product: about 1 per 1.5 MFLOP (a fork and join costs a
   few microseconds), never nested. */
static int team_size(double flops)
{
    if (omp_in_parallel()) return 1;
    int nt = omp_get_max_threads(), cap = (int)(flops / 1.5e6) + 1;
    return nt < cap ? nt : cap;
}

/* A packed product, its blocking fixed, shared by a team of nth threads. */
typedef struct {
    const ukernel *uk;
    blocking bl;
    gemm_trans ta, tb;
    int m, n, k;
    float alpha;
    const float *a;
    int lda;
    const float *b;
    int ldb;
    float beta;
    float *c;
    int ldc;
    int nb_i, groups; /* IC blocks; MR row groups */
    float *bpack, **apack;
} packed_gemm;

/* Thread t's share of [0, n) */
static int share_lo(int n, int t, int nth) { return (int)((long long)n * t / nth); }

/* Thread t of nth: the BLIS loop nest. Work is split statically and the
   team meets at a barrier after packing each B block and after using it;
   a team of one runs it without any OpenMP construct. */
static void packed_run(const packed_gemm *g, int tid, int nth)
{
    const ukernel *uk = g->uk;
    const blocking bl = g->bl;
    const int MR = uk->mr, NR = uk->nr, m = g->m, n = g->n, k = g->k, nb_i = g->nb_i;
    float *ap = g->apack[tid];
    for (int jc = 0; jc < n; jc += bl.nc) {
        const int nc = n - jc < bl.nc ? n - jc : bl.nc;
        const int npan = ceil_div(nc, NR);
        /* more threads than IC blocks: split the JR range too */
        int nb_j = nb_i < nth ? ceil_div(nth, nb_i) : 1;
        if (nb_j > npan) nb_j = npan;
        for (int pc = 0; pc < k; pc += bl.kc) {
            const int kc = k - pc < bl.kc ? k - pc : bl.kc;
            const gemm_epilogue epi = { pc == 0 ? g->beta : 1.0f, NULL, 0 };
            for (int t = share_lo(npan, tid, nth); t < share_lo(npan, tid + 1, nth); t++) {
                int cols = nc - t * NR < NR ? nc - t * NR : NR;
                pack_b_panel(g->tb, g->b, g->ldb, pc, kc, jc + t * NR, cols, NR,
                             g->bpack + (size_t)t * NR * kc);
            }
            if (nth > 1) {
#pragma omp barrier
            }
            int packed_ic = -1;
            const int items = nb_i * nb_j;
            for (int item = share_lo(items, tid, nth); item < share_lo(items, tid + 1, nth);
                 item++) {
                const int ib = item / nb_j, jb = item % nb_j;
                const int ic = (int)((long)g->groups * ib / nb_i) * MR;
                const int ie = (int)((long)g->groups * (ib + 1) / nb_i) * MR;
                const int mcb = (ie < m ? ie : m) - ic;
                if (ib != packed_ic) {
                    pack_a(g->ta, g->a, g->lda, ic, mcb, pc, kc, g->alpha, MR, ap);
                    packed_ic = ib;
                }
                const int t0 = npan * jb / nb_j, t1 = npan * (jb + 1) / nb_j;
                for (int t = t0; t < t1; t++) {
                    const int jr = t * NR, cols = nc - jr < NR ? nc - jr : NR;
                    const float *bp = g->bpack + (size_t)t * NR * kc;
                    for (int ir = 0; ir < mcb; ir += MR) {
                        const int rows = mcb - ir < MR ? mcb - ir : MR;
                        tile(uk, kc, ap + (size_t)ir * kc, 1, (size_t)MR, bp, (size_t)NR,
                             g->c + (size_t)(ic + ir) * g->ldc + jc + jr, (size_t)g->ldc, rows,
                             cols, 0, &epi);
                    }
                }
            }
            if (nth > 1) {
#pragma omp barrier
            }
        }
    }
}

void sgemm(gemm_trans ta, gemm_trans tb, int m, int n, int k, float alpha, const float *a, int lda,
           const float *b, int ldb, float beta, float *c, int ldc)
{
    if (m <= 0 || n <= 0) return;
    const gemm_epilogue beta_only = { beta, NULL, 0 };
    if (k <= 0 || alpha == 0.0f) {
        epilogue_only(m, n, &beta_only, c, (size_t)ldc);
        return;
    }

    const ukernel *uk = &ukernels[cpu_isa_active()];
    const int MR = uk->mr, NR = uk->nr;

    /* At most 64 columns (2 panels of AVX-512, 4 of AVX2): each A element
       feeds only n FMAs, so packing A would cost more than it saves. The
       limit was 2 panels on every ISA; at 4 the seed's Winograd products
       (n = 64) on AVX2 ran 10-15% faster for conv2 forward, 25% for conv2
       backward_weights and all of conv3's passes (Zen 3, 1 thread). */
    if (alpha == 1.0f && tb == GEMM_NOTRANS && n <= 64) {
        sgemm_shared(ta, m, n, k, a, lda, b, ldb, &beta_only, c, ldc);
        return;
    }
    /* The same with a transposed B of a few thousand floats, transposed
       first: packing A for a product this narrow costs as much as the
       product (the seed's conv1 backward_data as im2col runs it, 21632 x 9
       x 32, Zen 3, 1 thread: 1.05 ms packed, of which pack_a and the edge
       merges 52%; 0.35 ms this way, OpenBLAS 0.40 ms). */
    if (alpha == 1.0f && tb == GEMM_TRANS && n <= 64 && k <= BT_MAX / n) {
        float *bt = malloc(sizeof(float) * (size_t)k * n);
        if (bt) {
            for (int p = 0; p < k; p++)
                for (int j = 0; j < n; j++) bt[(size_t)p * n + j] = b[(size_t)j * ldb + p];
            sgemm_shared(ta, m, n, k, a, lda, bt, n, &beta_only, c, ldc);
            free(bt);
            return;
        }
    }

    const int nt = team_size(2.0 * m * n * k);

    blocking bl = blocking_for(uk);
    /* K blocks of equal size, their count rounded to nearest: no short
       last block re-reading and re-writing all of C for a few k */
    int nb_k = (k + bl.kc / 2) / bl.kc;
    if (nb_k < 1) nb_k = 1;
    bl.kc = ceil_div(k, nb_k);
    const int kc_max = bl.kc;
    const int nc_max = n < bl.nc ? ceil_div(n, NR) * NR : bl.nc;

    /* IC blocks: a multiple of nt of them (fair shares), cut at row-group
       boundaries so that they differ by at most one group of MR rows */
    const int groups = ceil_div(m, MR);
    int nb_i = ceil_div(m, bl.mc);
    nb_i = ceil_div(nb_i, nt) * nt;
    if (nb_i > groups) nb_i = groups;
    const int mc = ceil_div(groups, nb_i) * MR; /* rows of the largest block */

    if (!ws_reserve((size_t)kc_max * nc_max, (size_t)mc * kc_max, nt)) {
        sgemm_plain(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
        return;
    }
    const packed_gemm g = { uk, bl,  ta,   tb, m,   n,    k,      alpha, a,   lda,
                            b,  ldb, beta, c,  ldc, nb_i, groups, ws.b,  ws.a };
    if (nt == 1) { /* even an inactive parallel region costs about a microsecond */
        packed_run(&g, 0, 1);
        return;
    }
#pragma omp parallel num_threads(nt)
    packed_run(&g, omp_get_thread_num(), omp_get_num_threads());
}

/* ---- unpacked products ---------------------------------------------------- */

/* K step of the unpacked path, as KC of the packed one: a conv layer's
   whole R*S*C (288 on the seed's conv2) in one step, so C is written once;
   the B panel streams from L2 (512 against 256: conv2's im2col forward
   measured +5% on one core). */
enum { BLOCK_KC = 512 };

/* Zero-padded copies for the edge tiles of the unpacked path, per thread. */
static _Thread_local float edge_a[MAX_MR * BLOCK_KC] __attribute__((aligned(64)));
static _Thread_local float edge_b[BLOCK_KC * MAX_NR] __attribute__((aligned(64)));

void sgemm_block(int m, int n, int k, const float *a, size_t a_rs, size_t a_cs, const float *b,
                 size_t ldb, const gemm_epilogue *e, float *c, size_t ldc)
{
    if (m <= 0 || n <= 0) return;
    if (k <= 0) {
        epilogue_only(m, n, e, c, ldc);
        return;
    }
    const ukernel *uk = &ukernels[cpu_isa_active()];
    const int MR = uk->mr, NR = uk->nr;
    const int kc_max = ceil_div(k, ceil_div(k, BLOCK_KC));
    const int m_full = m / MR * MR, n_full = n / NR * NR;
    const int groups = ceil_div(m, MR), panels = ceil_div(n, NR);
    float bias_tail[MAX_NR] = { 0 };
    if (e->bias && n > n_full)
        memcpy(bias_tail, e->bias + n_full, sizeof(float) * (size_t)(n - n_full));
    /* A's k-slice small enough for L1 (and B wide): panels outer, so each
       B panel is read once and A is re-read from L1; otherwise row groups
       outer, their A rows in L1 while B comes from L2 */
    const int panels_outer = (size_t)m * kc_max * sizeof(float) <= 32 * 1024 && panels > 2;

    for (int pc = 0; pc < k; pc += kc_max) {
        const int kc = k - pc < kc_max ? k - pc : kc_max;
        /* the bias and beta apply once, the ReLU after the last K step */
        const gemm_epilogue epi = { pc == 0 ? e->beta : 1.0f, pc == 0 ? e->bias : NULL,
                                    pc + kc >= k && e->relu };
        const float *ak = a + (size_t)pc * a_cs, *bk = b + (size_t)pc * ldb;
        /* zero-padded copies of the last row group and the last panel; a
           short last row group of an A with MR rows or more is shifted up
           instead (its kernel reads rows m - MR .. m - 1 in place) */
        const int shift = m > m_full && m >= MR;
        if (m > m_full && !shift)
            for (int p = 0; p < kc; p++)
                for (int i = 0; i < MR; i++)
                    edge_a[p * MR + i] =
                        m_full + i < m ? ak[(size_t)(m_full + i) * a_rs + (size_t)p * a_cs] : 0.0f;
        if (n > n_full)
            for (int p = 0; p < kc; p++)
                for (int j = 0; j < NR; j++)
                    edge_b[p * NR + j] = n_full + j < n ? bk[(size_t)p * ldb + n_full + j] : 0.0f;
        for (int outer = 0; outer < (panels_outer ? panels : groups); outer++)
            for (int inner = 0; inner < (panels_outer ? groups : panels); inner++) {
                const int g = panels_outer ? inner : outer, t = panels_outer ? outer : inner;
                const int i0 = g * MR, j0 = t * NR;
                const int rows = m - i0 < MR ? m - i0 : MR, cols = n - j0 < NR ? n - j0 : NR;
                const int padded = rows < MR && !shift, skip = rows < MR && shift ? MR - rows : 0;
                const float *ap = padded ? edge_a : ak + (size_t)(i0 - skip) * a_rs;
                const size_t rs = padded ? 1 : a_rs, cs = padded ? (size_t)MR : a_cs;
                gemm_epilogue te = epi;
                if (te.bias) te.bias = cols < NR ? bias_tail : te.bias + j0;
                if (cols < NR)
                    tile(uk, kc, ap, rs, cs, edge_b, (size_t)NR, c + (size_t)i0 * ldc + j0, ldc,
                         rows, cols, skip, &te);
                else
                    tile(uk, kc, ap, rs, cs, bk + j0, ldb, c + (size_t)i0 * ldc + j0, ldc, rows,
                         cols, skip, &te);
            }
    }
}

void sgemm_shared(gemm_trans ta, int m, int n, int k, const float *a, int lda, const float *b,
                  int ldb, const gemm_epilogue *e, float *c, int ldc)
{
    const ukernel *uk = &ukernels[cpu_isa_active()];
    const int nt = team_size(2.0 * m * n * k);
    const size_t rs = ta == GEMM_NOTRANS ? (size_t)lda : 1;
    const size_t cs = ta == GEMM_NOTRANS ? 1 : (size_t)lda;
    const int groups = ceil_div(m, uk->mr), panels = ceil_div(n, uk->nr);
    /* split whichever of row groups and panels shares out more evenly */
    const int by_rows = ceil_div(groups, nt) * panels <= ceil_div(panels, nt) * groups;
    if (nt == 1) { /* even an inactive parallel region costs about a microsecond */
        sgemm_block(m, n, k, a, rs, cs, b, (size_t)ldb, e, c, (size_t)ldc);
        return;
    }
#pragma omp parallel num_threads(nt)
    {
        const int t = omp_get_thread_num(), nth = omp_get_num_threads();
        const int units = by_rows ? groups : panels, unit = by_rows ? uk->mr : uk->nr;
        const int lim = by_rows ? m : n;
        const int lo = units * t / nth * unit, hi0 = units * (t + 1) / nth * unit;
        const int hi = hi0 < lim ? hi0 : lim;
        if (hi > lo) {
            gemm_epilogue te = *e;
            if (by_rows)
                sgemm_block(hi - lo, n, k, a + (size_t)lo * rs, rs, cs, b, (size_t)ldb, &te,
                            c + (size_t)lo * ldc, (size_t)ldc);
            else {
                if (te.bias) te.bias += lo;
                sgemm_block(m, hi - lo, k, a, rs, cs, b + lo, (size_t)ldb, &te, c + lo,
                            (size_t)ldc);
            }
        }
    }
}
