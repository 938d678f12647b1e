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

#include <stddef.h>
#include <cjson/cJSON.h>
#include "conv.h"
#include "cpu.h"

#ifdef __cplusplus
extern "C" {
#endif

#define RESULTS_SCHEMA "convbench-results/1"

/* The machine as hwloc and /proc/cpuinfo see it: hostname, vendor, family,
   model, stepping, cpu_model, packages, cores, pus, numa_nodes,
   memory_bytes, caches[], isa_flags[], label, fingerprint. */
cJSON *results_machine(void);
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

/* One conv run: every repetition's time (seconds per pass), its summary
   and rates. peak_gflops <= 0 leaves pct_peak null. name, set, layer and
   impl may be NULL. */
cJSON *results_conv_run(const char *name, const char *set, const char *layer,
                        const char *backend, conv_pass pass, const conv_shape *s,
                        int threads, const double *times, int reps, long iterations,
                        double peak_gflops, const char *impl);

/* The pass conv_pass_name() names, or -1 if none. */
int results_pass_parse(const char *name);

/* ---- machine identity ----
   A machine is what its CPU is, never its host name: the "fingerprint" of
   context.machine is 16 hex digits (FNV-1a, 64 bits) over vendor,
   cpu_model, family, model, stepping, isa_flags, packages, cores, pus,
   caches (level, type, size) and memory rounded to GiB, hashing only the
   fields present, so files written before these fields existed get one
   too (their own, matching no machine that records vendor and family).
   The "label" is for people and file names: CONVBENCH_MACHINE or
   --machine NAME, else derived from the CPU, e.g. "amd-epyc-f25m1-2c". */
#define RESULTS_FINGERPRINT_LEN 16
#define RESULTS_LABEL_MAX 64

/* The machine's fingerprint: its stored "fingerprint" field when present,
   else computed from its fields. buf holds RESULTS_FINGERPRINT_LEN + 1. */
void results_machine_fingerprint(const cJSON *machine, char *buf, size_t len);
/* Always computed from the fields (what results_machine stores). */
void results_machine_fingerprint_compute(const cJSON *machine, char *buf, size_t len);
/* The machine's label: its stored "label" field when present and valid,
   else results_machine_default_label. buf holds RESULTS_LABEL_MAX + 1. */
void results_machine_label(const cJSON *machine, char *buf, size_t len);
/* Derived from the CPU: slug of cpu_model (trademarks, "Processor", "CPU",
   "N-Core" and the clock dropped) + "-f<family>m<model>" + "-<cores>c",
   the parts whose fields are present. */
void results_machine_default_label(const cJSON *machine, char *buf, size_t len);
/* 0 if label is a valid machine label (1-64 of letters, digits, '-', '_',
   '.', not starting with '.'), else -1 and why in err (may be NULL). */
int results_label_check(const char *label, char *err, size_t errlen);
/* Sets the label of this run's machine (exported as CONVBENCH_MACHINE, so
   programs started from here see it); label NULL checks the variable as
   the environment set it. 0, or -1 and why in err: the caller exits 2. */
int results_set_machine_label(const char *label, char *err, size_t errlen);

/* The directory machine files live in: $CONVBENCH_RESULTS_DIR or "results". */
const char *results_dir(void);
/* This machine's file in dir: 1 and its path when a file of kind "machine"
   there has machine's fingerprint (DIR/machine-<label>.json first, then
   any DIR/machine-*.json); else 0 and the path a new one goes to:
   DIR/machine-<label>.json, or, when that name holds another machine's (or
   an unreadable) file, DIR/machine-<label>-<first 8 digits>.json. */
int results_machine_file(const char *dir, const cJSON *machine, char *path, size_t len);
/* This machine's file under results_dir() (existing, or where it goes). */
void results_machine_path(char *buf, size_t len);

/* The fp32 FMA peak at this ISA and thread count, from this machine's file
   in dir (matched by fingerprint) when it holds that figure; else measured
   now (about a second) and added to that file, or to a new one, where dir
   exists. *from_file (may be NULL) says which. */
double results_peak_gflops_in(const char *dir, cpu_isa isa, int threads, int *from_file);
/* The same in results_dir(). */
double results_peak_gflops(cpu_isa isa, int threads, int *from_file);

#ifdef __cplusplus
}
#endif

#endif
