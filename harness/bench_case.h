/* One benchmark case of build/bench_conv: a backend's plan for a shape and
   pass, with its inputs and outputs allocated. */
#ifndef CONVBENCH_BENCH_CASE_H
#define CONVBENCH_BENCH_CASE_H

#include "conv.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One benchmark case: inputs filled with uniform [-1,1) numbers from a
   fixed seed, outputs allocated, plan made (with omp_get_max_threads()). */
typedef struct bench_case bench_case;
/* NULL if the backend refuses the shape (*why says why) or planning fails. */
bench_case *bench_case_new(const conv_backend *b, const conv_shape *s, conv_pass pass,
                           const char **why);
void bench_case_run(bench_case *c);               /* one pass */
const char *bench_case_impl(const bench_case *c); /* NULL if the backend has none */
void bench_case_free(bench_case *c);

#ifdef __cplusplus
}
#endif

#endif
