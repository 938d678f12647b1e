/* The command line helpers every convbench command uses, so that options
   are read, checked and refused one way:

   - errors are printed as "convbench COMMAND: ..." on stderr, and a bad
     option value names the option ("--max-threads wants a positive
     integer, got 'abc'");
   - -h and --help print the command's usage on stdout and exit 0, an
     unknown option or a missing value is an error naming it, followed by
     "Try 'convbench COMMAND --help'" (exit 2);
   - comma-separated lists (backends, sets) are split by one function. */
#ifndef CONVBENCH_CLI_H
#define CONVBENCH_CLI_H

#include <getopt.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* "convbench CMD: " and the message, and a newline, on stderr (cmd NULL:
   "convbench: "). */
void cli_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The command running, for messages of code that does not know it (the
   results writer): set once by main; NULL until then. */
void cli_set_command(const char *cmd);
const char *cli_command(void);
/* cli_error, then "Try 'convbench CMD --help' for the options." */
void cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* getopt_long for command cmd (set optind = 1 before the first call).
   shortopts are the command's own short options ("o:", or ""); -h is
   added. opts must hold { "help", no_argument, 0, 'h' }. Returns the
   option's value as getopt_long does, 'h' for -h and --help, -1 at the
   end, and '?' after printing why an option is unknown or lacks its
   value (the caller exits 2). */
int cli_getopt(const char *cmd, int argc, char **argv, const char *shortopts,
               const struct option *opts);
/* -1 after a usage error if argv holds arguments past optind, else 0. */
int cli_no_arguments(const char *cmd, int argc, char **argv);

/* Option values. opt is the option as the user writes it ("--steps").
   Each returns 0 and stores the value, or -1 after printing
   "convbench CMD: OPT wants ..., got 'ARG'" (the caller exits 2). */
int cli_int(const char *cmd, const char *opt, const char *arg, long lo, long hi, long *out);
/* An integer in 1..INT_MAX. */
int cli_positive(const char *cmd, const char *opt, const char *arg, int *out);
/* A thread count: a positive integer within the thread limit
   (run_limits.h: CONVBENCH_MAX_THREADS). */
int cli_threads(const char *cmd, const char *opt, const char *arg, int *out);
/* A number in [lo, hi], or (lo, hi) at the ends flagged in open (hi may
   be INFINITY). With CLI_FLOAT in open, the value is checked again after
   conversion to float, as the caller will store it: one that underflows
   (1e-300 becomes 0, or a subnormal) or overflows is refused. */
enum { CLI_OPEN_LO = 1, CLI_OPEN_HI = 2, CLI_FLOAT = 4 };
int cli_number(const char *cmd, const char *opt, const char *arg, double lo, double hi, int open,
               double *out);

/* Comma-separated lists. Copies the next non-empty item of the list at
   *cursor into item (truncated to len - 1 characters) and returns item,
   or NULL at the end (also when *cursor is NULL):
       char name[64];
       for (const char *p = list; cli_list_next(&p, name, sizeof name);) ... */
const char *cli_list_next(const char **cursor, char *item, size_t len);
/* 1 if name is an item of list (NULL: an empty list). */
int cli_list_has(const char *list, const char *name);
/* 1 and the first item of list that is neither a registered backend nor
   an item of extra (may be NULL), in bad; 0 if every item is known. */
int cli_unknown_backend(const char *list, const char *extra, char *bad, size_t len);

/* Where a command writes its results file: out when given, else the
   default results/<kind>-<UTC time>.json (e.g. results/bench-20250101T120000Z.json). */
void cli_out_path(const char *out, const char *kind, char *buf, size_t len);

#ifdef __cplusplus
}
#endif

#endif
