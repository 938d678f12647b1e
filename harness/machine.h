/* The machine a results file was measured on (machine.c): its
   description, fingerprint and label, its file in the results directory,
   and the peak stored there. Part of the results API: results.h includes
   this header. */
#ifndef CONVBENCH_MACHINE_H
#define CONVBENCH_MACHINE_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include "cpu.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The machine as hwloc and /proc/cpuinfo see it: hostname, vendor, family,
   model, stepping, cpu_model, packages, cores, pus, numa_nodes,
   memory_bytes, caches[], isa_flags[], label, fingerprint. */
cJSON *results_machine(void);

/* ---- machine identity ----
   A machine is what its CPU is, never its host name: the "fingerprint" of
   context.machine is 16 hex digits (FNV-1a, 64 bits) over vendor,
   cpu_model, family, model, stepping, isa_flags, packages, cores, pus,
   caches (level, type, size) -- not memory, which a VM of the same CPU
   changes from one boot to the next -- hashing only the fields present,
   so files written before these fields existed get one too (their own,
   matching no machine that records vendor and family).
   The "label" is for people and file names: CONVBENCH_MACHINE or
   --machine NAME, else derived from the CPU, e.g. "amd-epyc-f25m1-2c". */
#define RESULTS_FINGERPRINT_LEN 16
#define RESULTS_LABEL_MAX       64

/* The machine's fingerprint: its stored "fingerprint" field when present,
   else computed from its fields. buf holds RESULTS_FINGERPRINT_LEN + 1. */
void results_machine_fingerprint(const cJSON *machine, char *buf, size_t len);
/* 1 if two machine objects describe the same machine: their stored
   fingerprints when both have one; else the fingerprints computed from
   the fields both record (a file written before a field existed is then
   still matched to a newer file of the same CPU). */
int results_machine_same(const cJSON *a, const cJSON *b);
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
