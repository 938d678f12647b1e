/* The `auto` choice as results-file runs (type "autotune"), and the plan
   cache: a results file of kind "plan-cache" that a later run loads to
   skip the search when machine, ISA, threads, network and batch match. */
#ifndef CONVBENCH_PLAN_CACHE_H
#define CONVBENCH_PLAN_CACHE_H

#include <cjson/cJSON.h>
#include "autotune.h"

/* Appends one run per layer x pass to runs: type "autotune", layer, pass,
   shape, spec_hash, backend (the winner), median_s, candidates {name: s}. */
void plan_cache_runs(const net *nt, const autotune_layer *t, int count, cJSON *runs);

/* Applies a cached choice to a parsed net. Returns 0, or -1 with the
   reason it does not apply (missing file, other machine, ISA, thread
   count, network or batch, unknown backend) in why. */
int plan_cache_load(net *nt, const char *path, int batch, char *why, size_t len);

/* Writes the choice as a plan cache (replacing an older one). */
int plan_cache_save(const net *nt, const autotune_layer *t, int count, const char *path, int argc,
                    char **argv);

#endif
