/* The timing fields of a results-file run that was repeated: conv runs
   (bench, scale) and training-block runs (scale) write them the same way,
   here. */
#ifndef CONVBENCH_TIMED_RUN_H
#define CONVBENCH_TIMED_RUN_H

#include <cjson/cJSON.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Appends to run, in this order: "repetitions" (reps), "iterations"
   (*iterations; left out when NULL), "times_s" [every repetition's
   seconds, as measured], "median_s", "min_s", "max_s". reps >= 1.
   Returns the median. */
double timed_run_add(cJSON *run, const double *times_s, int reps, const long *iterations);

#ifdef __cplusplus
}
#endif

#endif
