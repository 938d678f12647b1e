/* Single-precision GEMM shared by the im2col and Winograd backends and the
   trainer's Dense layers (internal to the project, not part of conv.h). */
#ifndef CONVBENCH_GEMM_H
#define CONVBENCH_GEMM_H

#ifdef __cplusplus
extern "C" {
#endif

typedef enum { GEMM_NOTRANS = 0, GEMM_TRANS = 1 } gemm_trans;

/* Row-major C[m][n] = alpha * op(A)[m][k] * op(B)[k][n] + beta * C.
   op(A) = A (m x k, leading dimension lda) or A^T (A stored k x m).
   beta == 0 overwrites C without reading it (NaNs in C do not propagate).
   Threads: OpenMP over the macro-kernel loops with omp_get_max_threads();
   called from inside a parallel region it runs on the calling thread. */
void sgemm(gemm_trans ta, gemm_trans tb, int m, int n, int k, float alpha,
           const float *a, int lda, const float *b, int ldb, float beta,
           float *c, int ldc);

/* The micro-kernel the next call would use, e.g. "avx512 32x12". */
const char *sgemm_impl(void);

#ifdef __cplusplus
}
#endif

#endif
