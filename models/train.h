/* Training and evaluation loops over a data set, on a network from net.h. */
#ifndef CONVBENCH_TRAIN_H
#define CONVBENCH_TRAIN_H

#include <stddef.h>
#include <stdint.h>
#include "adam.h"
#include "data.h"
#include "net.h"
#include "rng.h"

typedef struct {
    net *nt;
    adam opt;
    rng shuffle; /* its own stream, so data order is independent of init */
    int batch;
    int *order; /* the epoch's permutation of the training set */
    int order_n;
    uint8_t *labels;  /* the current batch's labels */
    float *probs;     /* softmax of the last forward pass */
    long steps;       /* taken, for per-step averages */
    double prof_s[3]; /* with nt->profile: seconds in gather, loss, Adam */
} trainer;

typedef struct {
    double loss, accuracy;           /* training, over the epoch */
    double test_loss, test_accuracy; /* after the epoch */
    double seconds, images_per_s;    /* wall time of the training part */
} epoch_stats;

/* Called after every step: step (1-based), steps per epoch, running loss
   and accuracy, seconds since the epoch began. */
typedef void (*train_progress)(void *ctx, int step, int steps, double loss, double acc,
                               double elapsed);

/* The network must be net_init()ed with max_batch >= batch. */
int trainer_init(trainer *t, net *nt, int batch, float lr, uint64_t seed, char *err, size_t len);
void trainer_free(trainer *t);

/* One step on the images and labels of d at indices idx[0..n): forward,
   loss, backward, Adam. *loss is the batch's mean loss. Returns 0, or -1
   with err set (a plan that cannot be made, or a NaN/Inf loss). */
int trainer_step(trainer *t, const dataset *d, const int *idx, int n, double *loss, int *correct,
                 char *err, size_t len);

/* Times training on d: `warmup` untimed steps, then `reps` blocks of
   `steps` steps (batches of t->batch images taken in order, cycling), the
   seconds of block r into times[r]. Stops after block 0 if it took longer
   than give_up seconds. Returns 0, 1 when it gave up, or -1 with err. */
int trainer_time_blocks(trainer *t, const dataset *d, int warmup, int steps, int reps,
                        double give_up, double *times, char *err, size_t len);

/* One epoch over d, shuffled (every image once, the last batch may be
   short). Fills the training fields of st. */
int trainer_epoch(trainer *t, const dataset *d, train_progress cb, void *ctx, epoch_stats *st,
                  char *err, size_t len);

/* Mean loss and accuracy of the network on d, in batches of `batch`.
   probs, if not NULL, receives d->n x classes probabilities. */
int net_evaluate(net *nt, const dataset *d, int batch, double *loss, double *accuracy, float *probs,
                 char *err, size_t len);

#endif
