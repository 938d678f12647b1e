/* The `auto` backend choice: time every backend that supports a conv
   layer, for each pass, at plan time (cuDNN's benchmark mode), and give
   each layer x pass the fastest. */
#ifndef CONVBENCH_AUTOTUNE_H
#define CONVBENCH_AUTOTUNE_H

#include <stdio.h>
#include "net.h"
#include "train.h"

#define AUTOTUNE_MAX_BACKENDS 16

typedef struct {
    int layer; /* index in the net */
    conv_shape shape;
    int ncand;
    const conv_backend *cand[AUTOTUNE_MAX_BACKENDS];
    double seconds[AUTOTUNE_MAX_BACKENDS][3]; /* median per pass; NAN not run, INFINITY abandoned */
    int best[3]; /* index into cand per pass; -1 where the pass never runs */
} autotune_layer;

/* Whole training steps of one configuration, as timed by the step check. */
typedef struct {
    char name[24];       /* "per-pass choice" or a backend name */
    double images_per_s; /* 0 if abandoned or unable to run */
} autotune_config;

/* Progress of the search, for a caller that shows it (the trainer's
   command line): done of total steps of work (each conv layer's timing
   rounds, then the step check's rounds), and what runs now, e.g.
   "layer 2 of 3 (conv2), round 4 of 9: naive im2col simd onednn". models/
   prints nothing itself; NULL (the default) reports nothing. */
typedef void (*autotune_progress_fn)(void *ctx, int done, int total, const char *what);
void autotune_set_progress(autotune_progress_fn fn, void *ctx);

/* Times every backend on every conv layer of a parsed (not yet
   initialised) net at batch `batch` with the current thread count: a
   warm-up, then up to `reps` timed runs per pass (a backend slower than 10x
   the best so far on its first run is abandoned), and gives each layer x
   pass the fastest. Then the step check: passes that win alone can lose
   inside a training step (cache state, layout reorders, thread hand-offs
   between libraries), so whole training steps on random data are timed for
   that per-pass choice and for every backend that runs all conv layers by
   itself (each its own net, timed in interleaved rounds: median of 5
   blocks of 8 steps), and the fastest configuration is kept; out[].best is
   updated to it. configs (may be NULL) receives up to AUTOTUNE_MAX_BACKENDS + 1 step
   timings, *nconfigs their count. Sets the net's backends, fills
   out[0..*count). Returns 0, or -1 with err. */
int autotune_net(net *nt, int batch, int reps, autotune_layer *out, int *count,
                 autotune_config *configs, int *nconfigs, char *err, size_t len);

/* The choice table: layer, shape, per pass the winner, its time and the
   runner-up's. */
void autotune_print(const net *nt, const autotune_layer *t, int count, FILE *f);

/* The step check's configurations and their rates ("-" if abandoned). */
void autotune_print_configs(const autotune_config *c, int n, FILE *f);

#endif
