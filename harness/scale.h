/* Thread placement for scaling runs: OpenMP threads bound one per core,
   compactly (thread i on core i), with hwloc. */
#ifndef CONVBENCH_SCALE_H
#define CONVBENCH_SCALE_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The number of cores hwloc reports (>= 1). */
int scale_cores(void);
/* Sets the OpenMP thread count to `threads` and binds thread i of the team
   to core i (threads <= cores). The binding holds for later parallel
   regions of the same size (libgomp keeps its threads). 0 on success, else
   -1 with the reason in err. */
int scale_bind_compact(int threads, char *err, size_t errlen);
/* The same from core `first` on: thread i to core (first + i) % cores. */
int scale_bind_from(int threads, int first, char *err, size_t errlen);
/* Lets every thread of the current team (omp_get_max_threads()) run on
   any CPU again. 0 on success. */
int scale_unbind(void);
/* The core each thread of a `threads`-strong team runs on now (hwloc
   logical index from sched_getcpu), into core[0..threads-1]. 0 on
   success, -1 if a CPU could not be mapped to a core. */
int scale_team_cores(int threads, int *core);

#ifdef __cplusplus
}
#endif

#endif
