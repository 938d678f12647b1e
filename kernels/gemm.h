/* Single-precision GEMM shared by the im2col and Winograd backends and the
   trainer's Dense layers (internal to the project, not part of conv.h). */
#ifndef CONVBENCH_GEMM_H
#define CONVBENCH_GEMM_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum { GEMM_NOTRANS = 0, GEMM_TRANS = 1 } gemm_trans;

/* Row-major C[m][n] = alpha * op(A)[m][k] * op(B)[k][n] + beta * C.
   op(A) = A (m x k, leading dimension lda) or A^T (A stored k x m).
   beta == 0 overwrites C without reading it (NaNs in C do not propagate).
   Threads: OpenMP over the macro-kernel loops with omp_get_max_threads();
   called from inside a parallel region it runs on the calling thread. */
void sgemm(gemm_trans ta, gemm_trans tb, int m, int n, int k, float alpha, const float *a, int lda,
           const float *b, int ldb, float beta, float *c, int ldc);

/* What follows the product in sgemm_block: C = relu(A.B + bias + beta*C). */
typedef struct {
    float beta;        /* 0: C is not read (NaNs in C do not propagate) */
    const float *bias; /* n floats added to every row, or NULL */
    int relu;          /* clamp at 0 last (a NaN stays NaN) */
} gemm_epilogue;

/* C[m][n] = epilogue(A . B) on the calling thread, without packing either
   operand: for blocks a caller has just produced and that sit in cache (one
   thread's slice of an im2col), and for products a few panels wide, where
   packing would cost more than it saves. Operands in any layout:
   A(i,p) = a[i*a_rs + p*a_cs] (row-major: a_rs = lda, a_cs = 1; transposed:
   a_rs = 1, a_cs = lda), B(p,j) = b[p*ldb + j]. The bias and ReLU cost
   nothing: they are applied to the tile in registers. */
void sgemm_block(int m, int n, int k, const float *a, size_t a_rs, size_t a_cs, const float *b,
                 size_t ldb, const gemm_epilogue *e, float *c, size_t ldc);

/* sgemm_block shared out over the team (omp_get_max_threads(), fewer for
   small products; the calling thread alone inside a parallel region), by
   row groups or by column panels, whichever divides more evenly. A is
   row-major (lda) or, with ta, stored k x m; B is row-major. */
void sgemm_shared(gemm_trans ta, int m, int n, int k, const float *a, int lda, const float *b,
                  int ldb, const gemm_epilogue *e, float *c, int ldc);

/* The micro-kernel the next call would use, e.g. "avx512 32x12". */
const char *sgemm_impl(void);

#ifdef __cplusplus
}
#endif

#endif
