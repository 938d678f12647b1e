/* A short training run of the seed network: the fixture the training and
   checkpoint suites share. */
#ifndef CONVBENCH_TEST_SEED_RUN_H
#define CONVBENCH_TEST_SEED_RUN_H

#include "../models/net.h"

typedef struct {
    double loss, test_acc;
    int ok;
    char err[512];
} run_result;

/* Trains the seed network (models/seed_cnn.net, batch 32, seed 1) on
   `images` training images for one epoch at `threads` threads with
   `backend`, and tests it on the first 1000 test images; then sets the
   OpenMP thread count to the processor count. With keep, a successful
   run's network is left there (the caller frees it). */
run_result seed_short_run(const char *backend, int images, int threads, net *keep);

#endif
