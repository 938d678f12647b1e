/* Winograd internals the tests reach (internal to kernels/: the backends
   themselves are reached through conv.h). Defined in winograd.c. */
#ifndef CONVBENCH_WINOGRAD_H
#define CONVBENCH_WINOGRAD_H

/* The transform matrices of F(m x m, 3x3) in double, row-major: A^T
   (m x alpha), G (alpha x 3), B^T (alpha x alpha), for tests that check
   the algebra on one tile. Returns alpha (m + 2), or 0 for a tile size
   that is not built (m = 2, 3 and 4 are). */
int winograd_matrices(int m, const double **at, const double **g, const double **bt);

#endif
