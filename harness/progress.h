/* Progress of long work, as Keras shows it for epochs: on a terminal one
   live line, redrawn at most every 0.1 s; otherwise (a log, CI) a plain
   line at most every 10 s, so a log shows the work moving without
   flooding. "bench: 12/96 [======>.....] 45s, ETA 1m30s - seed/conv2/...". */
#ifndef CONVBENCH_PROGRESS_H
#define CONVBENCH_PROGRESS_H

#include <stdio.h>

typedef struct {
    FILE *f;
    int tty;          /* f is a terminal: a live line */
    int live;         /* a live line is on screen (progress_clear removes it) */
    const char *cmd;  /* "bench", "scale", "auto" */
    const char *unit; /* "cases", "layers", ... */
    int total;
    double start, last; /* seconds (omp_get_wtime) */
    double interval;    /* seconds between plain lines (default 10) */
} progress;

/* Starts counting total items of work on f (stderr when NULL). */
void progress_start(progress *p, FILE *f, const char *cmd, const char *unit, int total);
/* done of total items are finished; label names the one running now (may
   be NULL). The ETA is the mean time per finished item times those left. */
void progress_update(progress *p, int done, const char *label);
/* Removes the live line, before other output is printed on the terminal. */
void progress_clear(progress *p);
/* The closing line (plain output: always printed), and a newline. */
void progress_end(progress *p);

/* "1m30s", "45s", "2h05m" into buf. */
void progress_duration(double s, char *buf, size_t len);

#endif
