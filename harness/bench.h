/* The benchmark suite as a library call: runs build/bench_conv (the one
   measurement implementation) and turns its Google Benchmark JSON into
   results-file runs. Used by convbench bench and convbench scale. */
#ifndef CONVBENCH_BENCH_H
#define CONVBENCH_BENCH_H

#include <cjson/cJSON.h>
#include "shape_sets.h"

typedef struct {
    shape_request shapes;    /* sets ("seed,resnet", "all"), --shape, --shapes, --model */
    const char *backends;    /* comma list, NULL = every registered backend */
    const char *filter;      /* --benchmark_filter regex, NULL = all */
    int threads;             /* OMP_NUM_THREADS for the run; 0 = inherit */
    int repetitions;         /* >= 1 */
    double min_time;         /* seconds per repetition (Google Benchmark's min_time) */
    int bind;                /* bind thread i to core i */
    int interleave;          /* --benchmark_enable_random_interleaving */
    int quiet;               /* 1: no output from bench_conv (errors show as its exit status) */
    const char *cmd;         /* the command, for "convbench CMD: ..." errors; NULL: "bench" */
    const char *keep_gbench; /* where to keep Google Benchmark's own JSON; NULL: deleted */
    int progress;            /* show case i of N with an ETA (progress.h) */
    const char *paired;      /* bench_conv --paired: each case timed beside this backend */
} bench_opts;

/* Runs the suite; appends one "conv" run per measured case to runs and one
   {name, backend, pass, set, layer, reason} per skipped case to skipped
   (may be NULL). Returns 0, or after printing why -2 when the options
   select no case (bad input), -1 on any other failure. */
int bench_run(const bench_opts *o, cJSON *runs, cJSON *skipped);

/* Prints a table of median GFLOP/s: one row per set/layer/batch/pass, one
   column per backend (and each run's pct_peak in the JSON); for runs timed
   beside a reference (--paired), a second table of their median speedups. */
void bench_print_table(const cJSON *runs);

#endif
