/* What the harness once asked a shell for, done without one, so that no
   file name, label or results-file string is ever parsed as a command:
   running a program from an argv (posix_spawn), creating directories, and
   quoting strings that go into gnuplot scripts (gnuplot has system() and
   backquotes of its own). */
#ifndef CONVBENCH_NOSHELL_H
#define CONVBENCH_NOSHELL_H

#include <stddef.h>

/* Runs argv[0], looked up on PATH, with the arguments argv (NULL-ended),
   in directory dir (NULL: the current one), stdin from /dev/null. Its
   stdout (and its stderr too with with_stderr, else stderr is discarded)
   goes into out, NUL-terminated and cut at len - 1 bytes (out NULL: all
   discarded). Returns its exit status; 127 if it could not be started,
   128 + the signal if one killed it. */
int run_program(char *const argv[], const char *dir, int with_stderr, char *out, size_t len);

/* 1 if prog is an executable file in a directory of PATH. */
int program_found(const char *prog);

/* mkdir -p of path; with parents_only, of the directory part of path only
   (a file's path). 0, or -1 with errno set. */
int make_dirs(const char *path, int parents_only);

/* s as a gnuplot single-quoted string, quotes included ('it''s'), into
   buf. -1 if it does not fit or s holds a line break (a gnuplot string
   cannot). */
int gnuplot_string(const char *s, char *buf, size_t len);

#endif
