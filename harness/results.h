/* Results files: one JSON schema for everything convbench measures.

   {
     "schema":  "convbench-results/1",
     "kind":    "bench" | "scale" | "train" | "machine" | ...,
     "context": { machine, build, git, time, command line, threads, ISA },
     "runs":    [ { "type": "conv" | "peak" | "triad" | "bandwidth" | "train" | ..., ... } ]
   }

   The field list is in results.c (results_context, results_conv_run,
   results_validate). Files are written to a temporary name in the same
   directory and renamed, so a reader never sees half a file; a file under
   results/baseline/ is never replaced unless forced. */
#ifndef CONVBENCH_RESULTS_H
#define CONVBENCH_RESULTS_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include "conv.h"
#include "cpu.h"
#include "machine.h"

#ifdef __cplusplus
extern "C" {
#endif

#define RESULTS_SCHEMA "convbench-results/1"

/* "context": machine, build, git_commit, git_dirty, time_utc, command_line,
   threads (omp_get_max_threads), isa (active), isa_supported. */
cJSON *results_context(int argc, char **argv);
/* A new document {schema, kind, context: results_context(argc, argv), runs: []};
   returns it and sets *runs to its runs array. */
cJSON *results_new(const char *kind, int argc, char **argv, cJSON **runs);

/* Writes doc (pretty-printed) to path atomically: temporary file in the same
   directory, fsync, rename. Creates missing parent directories. Refuses to
   replace an existing file in a results/baseline/ directory unless force.
   Returns 0, or -1 after printing why on stderr; on failure no temporary
   file remains and an existing target is unchanged. */
int results_write(const char *path, const cJSON *doc, int force);

/* The same for any text (a CSV, Google Benchmark's JSON), written as given. */
int results_write_text(const char *path, const char *text, int force);
/* Whether results_write could write path, checked before long work: not a
   directory, its nearest existing directory writable, not an existing
   baseline unless force. 0, or -1 with why in err. */
int results_check_path(const char *path, int force, char *err, size_t len);

/* Parses and validates a results file. NULL on error, with a one-line
   reason naming the file in err (missing, empty, truncated, malformed at
   line L, or a schema violation naming the run and field). */
cJSON *results_read(const char *path, char *err, size_t errlen);
/* The schema check results_read applies; 0 if valid, else -1 and err. */
int results_validate(const cJSON *doc, char *err, size_t errlen);

/* Field access on parsed results: NULL (string) or NAN (number) when the
   key is absent or holds another type. */
const char *results_str(const cJSON *o, const char *key);
double results_num(const cJSON *o, const char *key);

/* Median, min and max of n values (n >= 1); v is left unchanged. The same
   as stats_summary() (common/median.h), under the name older callers use. */
void results_stats(const double *v, int n, double *median, double *min, double *max);

/* obj.shape = the shape's members: the first nine always, each appended
   one (groups, per-axis stride and dilation, per-side padding) only where
   the canonical form (conv_shape_canonical) sets it. */
void results_add_shape(cJSON *obj, const conv_shape *s);

/* One conv run: every repetition's time (seconds per pass), its summary
   and rates. peak_gflops <= 0 leaves pct_peak null. name, set, layer and
   impl may be NULL. */
cJSON *results_conv_run(const char *name, const char *set, const char *layer, const char *backend,
                        conv_pass pass, const conv_shape *s, int threads, const double *times,
                        int reps, long iterations, double peak_gflops, const char *impl);

/* The pass conv_pass_name() names, or -1 if none. */
int results_pass_parse(const char *name);

#ifdef __cplusplus
}
#endif

#endif
