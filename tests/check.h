/* A small test runner: each check is one named result; the run ends with
   "N passed, N failed, N skipped" and a non-zero exit on any failure. */
#ifndef CONVBENCH_CHECK_H
#define CONVBENCH_CHECK_H

/* 1 if a test of this name is selected by the command line filter. */
int check_selected(const char *name);
/* Records one result; prints failures (and everything under -v). Returns ok. */
int check(const char *name, int ok, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void check_skip(const char *name, const char *reason);
int check_verbose(void);

/* Test-wide helpers: a deterministic generator and uniform [-1,1) fills. */
typedef struct {
    unsigned long long s;
} check_rng;
float check_uniform(check_rng *g);
void check_fill(check_rng *g, float *a, unsigned long long n);
/* A fresh temporary directory for file tests (removed at exit). */
const char *check_tmpdir(void);
/* Runs a shell command line with the test binary's directory (where
   convbench is built) first on PATH; captures stdout and stderr into out.
   Returns the exit status, or -1 if it could not run. */
int check_run(const char *cmdline, char *out, size_t len);
/* Runs the kernels at this ISA from now on (sets CONVBENCH_ISA and has it
   read again); NULL restores the setting the run started with. */
void check_force_isa(const char *isa);

#endif
