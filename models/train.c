/* The training step: gather a batch, forward, softmax cross-entropy,
   backward, Adam on every parameter tensor. */
#include <math.h>
#if defined(__x86_64__) || defined(__i386__)
#include <xmmintrin.h>
#endif
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include "error.h"
#include "layers.h"
#include "train.h"

int trainer_init(trainer *t, net *nt, int batch, float lr, uint64_t seed, char *err, size_t len)
{
    memset(t, 0, sizeof *t);
    if (batch < 1 || batch > nt->max_batch)
        return error_set(err, len, "batch %d outside 1..%d", batch, nt->max_batch);
#if defined(__x86_64__) || defined(__i386__)
#pragma omp parallel
    /* Adam's second moments decay into denormals as training converges, and
       every operation on one costs ~100 cycles on x86: flush them to zero
       (FTZ, DAZ) on every thread of the team, as TensorFlow does. */
    _mm_setcsr(_mm_getcsr() | 0x8040);
#endif
    t->nt = nt;
    t->batch = batch;
    t->opt = adam_default();
    t->opt.lr = lr;
    t->shuffle.state = seed ^ 0x5deece66dULL;
    t->labels = malloc((size_t)batch);
    t->probs = malloc(sizeof(float) * (size_t)batch * nt->classes);
    if (!t->labels || !t->probs) return error_set(err, len, "out of memory");
    return 0;
}

void trainer_free(trainer *t)
{
    free(t->order);
    free(t->labels);
    free(t->probs);
    memset(t, 0, sizeof *t);
}

/* Copies images idx[0..n) of d into the network's input; with replicas,
   each thread copies the slice its replica will read (the same static split). */
static void gather(net *nt, const dataset *d, const int *idx, int n, uint8_t *labels)
{
    const size_t px = (size_t)d->h * d->w;
#pragma omp parallel for schedule(static) num_threads(nt->nrep) if (nt->nrep > 1)
    for (int i = 0; i < n; i++) {
        memcpy(nt->act[0] + i * px, d->images + (size_t)idx[i] * px, sizeof(float) * px);
        if (labels) labels[i] = d->labels[idx[i]];
    }
}

int trainer_step(trainer *t, const dataset *d, const int *idx, int n, double *loss, int *correct,
                 char *err, size_t len)
{
    net *nt = t->nt;
    double t0 = omp_get_wtime();
    gather(nt, d, idx, n, t->labels);
    double t1 = omp_get_wtime();
    if (net_forward(nt, n, err, len)) return -1;
    double t2 = omp_get_wtime();
    double sum = softmax_xent(nt->act[nt->nlayers], t->labels, n, nt->classes, t->probs,
                              nt->grad[nt->nlayers], correct);
    double t3 = omp_get_wtime();
    *loss = sum / n;
    if (!isfinite(*loss))
        return error_set(err, len,
                         "the loss is %s at step %ld: the run diverged (try a lower --lr)",
                         isnan(*loss) ? "NaN" : "infinite", t->opt.t + 1);
    net_backward(nt, n);
    double t4 = omp_get_wtime();
    adam_begin_step(&t->opt);
#pragma omp parallel /* one region for every tensor */
    for (int i = 0; i < nt->nlayers; i++) {
        layer *l = &nt->layers[i];
        param *ps[] = { &l->weight, &l->bias };
        for (int j = 0; j < 2; j++)
            if (ps[j]->n) adam_update(&t->opt, ps[j]->w, ps[j]->g, ps[j]->m, ps[j]->v, ps[j]->n);
    }
    t->steps++;
    if (nt->profile) {
        t->prof_s[0] += t1 - t0;
        t->prof_s[1] += t3 - t2;
        t->prof_s[2] += omp_get_wtime() - t4;
    }
    return 0;
}

int trainer_time_blocks(trainer *t, const dataset *d, int warmup, int steps, int reps,
                        double give_up, double *times, char *err, size_t len)
{
    int *idx = malloc(sizeof(int) * (size_t)t->batch);
    if (!idx) return error_set(err, len, "out of memory");
    int rc = 0;
    long step = 0;
    for (int r = -1; !rc && r < reps; r++) { /* r = -1: warm-up */
        double t0 = omp_get_wtime();
        for (int s = 0; !rc && s < (r < 0 ? warmup : steps); s++, step++) {
            for (int i = 0; i < t->batch; i++) idx[i] = (int)((step * t->batch + i) % d->n);
            double loss;
            int correct;
            rc = trainer_step(t, d, idx, t->batch, &loss, &correct, err, len);
        }
        if (r >= 0) times[r] = omp_get_wtime() - t0;
        if (!rc && r == 0 && times[0] > give_up) rc = 1;
    }
    free(idx);
    return rc;
}

int trainer_epoch(trainer *t, const dataset *d, train_progress cb, void *ctx, epoch_stats *st,
                  char *err, size_t len)
{
    if (t->order_n != d->n) {
        free(t->order);
        if (!(t->order = malloc(sizeof(int) * (size_t)d->n)))
            return error_set(err, len, "out of memory");
        t->order_n = d->n;
        for (int i = 0; i < d->n; i++) t->order[i] = i;
    }
    rng_shuffle(&t->shuffle, t->order, d->n);
    const int steps = (d->n + t->batch - 1) / t->batch;
    double loss_sum = 0, t0 = omp_get_wtime();
    long right = 0;
    for (int s = 0; s < steps; s++) {
        int n = d->n - s * t->batch < t->batch ? d->n - s * t->batch : t->batch;
        double loss;
        int correct;
        if (trainer_step(t, d, t->order + (size_t)s * t->batch, n, &loss, &correct, err, len))
            return -1;
        loss_sum += loss * n;
        right += correct;
        int seen = s * t->batch + n;
        if (cb) cb(ctx, s + 1, steps, loss_sum / seen, (double)right / seen, omp_get_wtime() - t0);
    }
    st->seconds = omp_get_wtime() - t0;
    st->loss = loss_sum / d->n;
    st->accuracy = (double)right / d->n;
    st->images_per_s = d->n / st->seconds;
    return 0;
}

int net_evaluate(net *nt, const dataset *d, int batch, double *loss, double *accuracy, float *probs,
                 char *err, size_t len)
{
    if (batch > nt->max_batch) batch = nt->max_batch;
    const int profile = nt->profile; /* the profile covers training steps only */
    nt->profile = 0;
    int *idx = malloc(sizeof(int) * (size_t)batch);
    uint8_t *labels = malloc((size_t)batch);
    float *p = malloc(sizeof(float) * (size_t)batch * nt->classes);
    double sum = 0;
    long right = 0;
    int rc = 0;
    if (!idx || !labels || !p) rc = error_set(err, len, "out of memory");
    for (int s = 0; !rc && s < d->n; s += batch) {
        int n = d->n - s < batch ? d->n - s : batch, correct;
        for (int i = 0; i < n; i++) idx[i] = s + i;
        gather(nt, d, idx, n, labels);
        if ((rc = net_forward(nt, n, err, len))) break;
        sum += softmax_xent(nt->act[nt->nlayers], labels, n, nt->classes, p, NULL, &correct);
        right += correct;
        if (probs) memcpy(probs + (size_t)s * nt->classes, p, sizeof(float) * n * nt->classes);
    }
    free(idx);
    free(labels);
    free(p);
    nt->profile = profile;
    if (rc) return rc;
    *loss = sum / d->n;
    *accuracy = (double)right / d->n;
    if (!isfinite(*loss)) return error_set(err, len, "the test loss is not finite");
    return 0;
}
