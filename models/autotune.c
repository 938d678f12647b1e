/* Timing is what the harness does too, but here it decides, so it stays
   small: the median of a few runs on random data, same buffers for every
   candidate, all candidates of a layer planned at once and timed in
   interleaved rounds, so that a slow spell of a shared machine falls on
   every candidate alike instead of deciding the choice. */
#include <math.h>
#include <omp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "autotune.h"
#include "data.h"
#include "error.h"
#include "layers.h"
#include "median.h"
#include "rng.h"

typedef struct {
    float *x, *w, *b, *y, *dy, *dx, *dw, *db;
    size_t ny;
    int relu; /* the layer's ReLU: fused where the backend can */
} bufs;

/* A pass as the trainer runs it. */
static void run_pass(const conv_backend *be, conv_plan *pl, conv_pass p, bufs *B)
{
    if (p == CONV_FORWARD && B->relu && be->forward_relu)
        be->forward_relu(pl, B->x, B->w, B->b, B->y);
    else if (p == CONV_FORWARD) {
        be->forward(pl, B->x, B->w, B->b, B->y);
        if (B->relu) relu_forward(B->y, B->ny);
    } else if (p == CONV_BACKWARD_DATA)
        be->backward_data(pl, B->dy, B->w, B->dx);
    else
        be->backward_weights(pl, B->x, B->dy, B->dw, B->db);
}

enum { MAX_ROUNDS = 15 };

static autotune_progress_fn progress_fn;
static void *progress_ctx;

void autotune_set_progress(autotune_progress_fn fn, void *ctx)
{
    progress_fn = fn;
    progress_ctx = ctx;
}

/* Where the search stands, for progress_fn: units of work done so far and
   in all, and the current layer's label. */
typedef struct {
    int done, total;
    char what[200];
} stage;

static void report(stage *st, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void report(stage *st, const char *fmt, ...)
{
    if (!progress_fn || !st) return;
    char line[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    progress_fn(progress_ctx, st->done, st->total, line);
}

/* Seconds per run of every candidate and pass (NAN where the pass is not
   needed): the median of `rounds` rounds, each running every candidate's
   passes once; after the first round a pass more than 10x slower than the
   fastest is given up (INFINITY). */
static void time_candidates(const autotune_layer *t, conv_plan *const *plans, bufs *B, int rounds,
                            int need_dx, double sec[][3], stage *st)
{
    double samples[AUTOTUNE_MAX_BACKENDS][3][MAX_ROUNDS];
    if (rounds > MAX_ROUNDS) rounds = MAX_ROUNDS;
    int alive[AUTOTUNE_MAX_BACKENDS][3];
    for (int c = 0; c < t->ncand; c++)
        for (int p = 0; p < 3; p++) {
            alive[c][p] = p != CONV_BACKWARD_DATA || need_dx;
            if (alive[c][p]) run_pass(t->cand[c], plans[c], (conv_pass)p, B); /* warm-up */
        }
    for (int r = 0; r < rounds; r++) {
        report(st, "%s, round %d of %d", st ? st->what : "", r + 1, rounds);
        for (int c = 0; c < t->ncand; c++)
            for (int p = 0; p < 3; p++) {
                if (!alive[c][p]) continue;
                double t0 = omp_get_wtime();
                run_pass(t->cand[c], plans[c], (conv_pass)p, B);
                samples[c][p][r] = omp_get_wtime() - t0;
            }
        if (st) st->done++;
        if (r > 0) continue;
        for (int p = 0; p < 3; p++) {
            double best = INFINITY;
            for (int c = 0; c < t->ncand; c++)
                if (alive[c][p] && samples[c][p][0] < best) best = samples[c][p][0];
            for (int c = 0; c < t->ncand; c++)
                if (alive[c][p] && samples[c][p][0] > 10.0 * best) {
                    alive[c][p] = 0;
                    sec[c][p] = INFINITY;
                }
        }
    }
    for (int c = 0; c < t->ncand; c++)
        for (int p = 0; p < 3; p++) {
            if (p == CONV_BACKWARD_DATA && !need_dx) {
                sec[c][p] = NAN;
                continue;
            }
            if (!alive[c][p]) continue;
            sec[c][p] = median_of(samples[c][p], rounds);
        }
}

static float *fill(rng *g, size_t n)
{
    float *a = aligned_alloc(64, (n * sizeof(float) + 63) & ~(size_t)63);
    if (a)
        for (size_t i = 0; i < n; i++) a[i] = rng_uniform(g, -1.0f, 1.0f);
    return a;
}

/* Sets every pass of every conv layer to `uniform`, or to the per-pass
   winners when uniform is NULL. */
static void apply(net *nt, const autotune_layer *t, int count, const conv_backend *uniform)
{
    for (int i = 0; i < count; i++)
        for (int p = 0; p < 3; p++) {
            int w = t[i].best[p] >= 0 ? t[i].best[p] : t[i].best[CONV_FORWARD];
            net_set_pass_backend(nt, t[i].layer, (conv_pass)p, uniform ? uniform : t[i].cand[w]);
        }
}

/* index of b among a layer's candidates, -1 if it is not one */
static int cand_index(const autotune_layer *t, const conv_backend *b)
{
    for (int c = 0; c < t->ncand; c++)
        if (t->cand[c] == b) return c;
    return -1;
}

/* Whole training steps of every configuration (the per-pass choice, then
   each backend that runs every layer), each planned as a net of its own,
   then timed in STEP_ROUNDS rounds of one STEP_BLOCK-step block each, in
   turn, so a slow spell of a shared machine hits all of them alike. A
   configuration whose first block takes over twice the round's best is
   dropped. Images/s from the median block. */
#define STEP_BLOCK  8
#define STEP_ROUNDS 5
typedef struct {
    const conv_backend *uniform; /* NULL: the per-pass choice */
    net nt;
    trainer tr;
    int ready;
    double blocks[STEP_ROUNDS];
} step_cfg;

static int step_check(net *nt, int batch, autotune_layer *t, int count, autotune_config *configs,
                      int *nconfigs, stage *st, char *err, size_t len)
{
    dataset d;
    if (data_random(&d, 4 * batch, nt->in_h, nt->in_w, nt->classes, 11))
        return error_set(err, len, "out of memory for the step check");
    step_cfg cfg[AUTOTUNE_MAX_BACKENDS + 1];
    int n = 0;
    cfg[n++].uniform = NULL;
    for (const conv_backend *const *bp = conv_backends(); *bp && n <= AUTOTUNE_MAX_BACKENDS; bp++) {
        int all = 1;
        for (int i = 0; i < count; i++) all &= cand_index(&t[i], *bp) >= 0;
        if (all) cfg[n++].uniform = *bp;
    }
    char why[256];
    double none;
    for (int c = 0; c < n; c++) { /* nt is parsed, not initialised: a copy is a net */
        step_cfg *g = &cfg[c];
        g->nt = *nt;
        apply(&g->nt, t, count, g->uniform);
        g->ready = !net_init(&g->nt, batch, 1, why, sizeof why);
        if (g->ready &&
            (trainer_init(&g->tr, &g->nt, batch, 1e-3f, 1, why, sizeof why) ||
             trainer_time_blocks(&g->tr, &d, 2, 0, 0, INFINITY, &none, why, sizeof why))) {
            trainer_free(&g->tr);
            g->ready = 0;
        }
        if (!g->ready) net_free(&g->nt);
    }
    int live = 0;
    for (int c = 0; c < n; c++) live += cfg[c].ready;
    for (int r = 0; r < STEP_ROUNDS; r++) {
        report(st, "whole training steps of %d configurations, round %d of %d", live, r + 1,
               STEP_ROUNDS);
        st->done++;
        double fastest = INFINITY;
        for (int c = 0; c < n; c++) {
            step_cfg *g = &cfg[c];
            if (g->ready && trainer_time_blocks(&g->tr, &d, 0, STEP_BLOCK, 1, INFINITY,
                                                &g->blocks[r], why, sizeof why)) {
                trainer_free(&g->tr);
                net_free(&g->nt);
                g->ready = 0;
            }
            if (g->ready && g->blocks[r] < fastest) fastest = g->blocks[r];
        }
        for (int c = 0; r == 0 && c < n; c++)
            if (cfg[c].ready && cfg[c].blocks[0] > 2.0 * fastest) {
                trainer_free(&cfg[c].tr);
                net_free(&cfg[c].nt);
                cfg[c].ready = 0;
            }
    }
    const conv_backend *best = NULL;
    double best_rate = 0;
    for (int c = 0; c < n; c++) {
        step_cfg *g = &cfg[c];
        double rate = 0;
        if (g->ready) {
            rate = (double)STEP_BLOCK * batch / median_of(g->blocks, STEP_ROUNDS);
            trainer_free(&g->tr);
            net_free(&g->nt);
        }
        if (configs) {
            snprintf(configs[c].name, sizeof configs[c].name, "%s",
                     g->uniform ? g->uniform->name : "per-pass choice");
            configs[c].images_per_s = rate;
        }
        if (rate > best_rate) {
            best_rate = rate;
            best = g->uniform;
        }
    }
    data_free(&d);
    if (nconfigs) *nconfigs = n;
    if (best) /* one backend for everything won */
        for (int i = 0; i < count; i++)
            for (int p = 0; p < 3; p++)
                if (t[i].best[p] >= 0) t[i].best[p] = cand_index(&t[i], best);
    apply(nt, t, count, NULL);
    return 0;
}

int autotune_net(net *nt, int batch, int reps, autotune_layer *out, int *count,
                 autotune_config *configs, int *nconfigs, char *err, size_t len)
{
    if (nconfigs) *nconfigs = 0;
    *count = 0;
    rng g = { 42 };
    int nconv = 0, k = 0;
    for (int li = 0; li < nt->nlayers; li++) nconv += nt->layers[li].kind == LAYER_CONV;
    if (reps > MAX_ROUNDS) reps = MAX_ROUNDS;
    stage st = { 0, nconv * reps + STEP_ROUNDS, "" };
    for (int li = 0; li < nt->nlayers; li++) {
        layer *l = &nt->layers[li];
        if (l->kind != LAYER_CONV) continue;
        k++;
        autotune_layer *t = &out[(*count)++];
        memset(t, 0, sizeof *t);
        t->layer = li;
        net_layer_shape(l, net_layer_batch(nt, li, batch), &t->shape); /* as it will run */
        const conv_shape *s = &t->shape;
        size_t nx = (size_t)s->n * s->h * s->w * s->c,
               nw = (size_t)s->r * s->s * (s->c / (s->groups ? s->groups : 1)) * s->k,
               ny = (size_t)s->n * conv_out_h(s) * conv_out_w(s) * s->k;
        bufs B = { fill(&g, nx), fill(&g, nw), fill(&g, s->k), fill(&g, ny), fill(&g, ny),
                   fill(&g, nx), fill(&g, nw), fill(&g, s->k), ny,           l->act == ACT_RELU };
        int ok = B.x && B.w && B.b && B.y && B.dy && B.dx && B.dw && B.db;
        for (int p = 0; p < 3; p++) t->best[p] = -1;
        const int need_dx = li > 0;
        conv_plan *plans[AUTOTUNE_MAX_BACKENDS] = { 0 };
        /* a batch split over replicas runs each layer on one thread per slice */
        const int threads = omp_get_max_threads();
        if (net_replicas(nt, batch) > 1) omp_set_num_threads(1);
        for (const conv_backend *const *bp = conv_backends(); ok && *bp; bp++) {
            if ((*bp)->unsupported(s) || t->ncand == AUTOTUNE_MAX_BACKENDS) continue;
            conv_plan *pl = (*bp)->plan(s);
            if (!pl) continue;
            plans[t->ncand] = pl;
            t->cand[t->ncand++] = *bp;
        }
        /* the label: the layer and its candidates */
        int at = snprintf(st.what, sizeof st.what, "layer %d of %d (%s):", k, nconv, l->name);
        for (int c = 0; c < t->ncand && at > 0 && at < (int)sizeof st.what; c++)
            at += snprintf(st.what + at, sizeof st.what - (size_t)at, " %s", t->cand[c]->name);
        if (ok) time_candidates(t, plans, &B, reps, need_dx, t->seconds, &st);
        omp_set_num_threads(threads);
        for (int c = 0; c < t->ncand; c++) {
            for (int p = 0; p < 3; p++)
                if (ok &&
                    t->seconds[c][p] < (t->best[p] < 0 ? INFINITY : t->seconds[t->best[p]][p]))
                    t->best[p] = c;
            t->cand[c]->destroy(plans[c]);
        }
        free(B.x);
        free(B.w);
        free(B.b);
        free(B.y);
        free(B.dy);
        free(B.dx);
        free(B.dw);
        free(B.db);
        if (!ok) return error_set(err, len, "out of memory timing %s", l->name);
        if (t->best[CONV_FORWARD] < 0 || t->best[CONV_BACKWARD_WEIGHTS] < 0) {
            char shape[160];
            net_shape_describe(s, shape, sizeof shape);
            return error_set(err, len, "%s: no backend can run %s", l->name, shape);
        }
    }
    return step_check(nt, batch, out, *count, configs, nconfigs, &st, err, len);
}

void autotune_print_configs(const autotune_config *c, int n, FILE *f)
{
    fprintf(f, "auto: whole training steps (images/s):");
    for (int i = 0; i < n; i++)
        if (c[i].images_per_s > 0)
            fprintf(f, "  %s %.0f", c[i].name, c[i].images_per_s);
        else
            fprintf(f, "  %s -", c[i].name);
    fprintf(f, "\n");
}

void autotune_print(const net *nt, const autotune_layer *t, int count, FILE *f)
{
    fprintf(f, "auto: fastest backend per layer and pass (median ms; runner-up in brackets)\n");
    for (int i = 0; i < count; i++) {
        char shape[160];
        net_shape_describe(&t[i].shape, shape, sizeof shape);
        fprintf(f, "  %-6s %s\n", nt->layers[t[i].layer].name, shape);
        for (int p = 0; p < 3; p++) {
            if (t[i].best[p] < 0) {
                fprintf(f, "    %-17s not needed\n", conv_pass_name((conv_pass)p));
                continue;
            }
            int b = t[i].best[p], second = -1;
            for (int c = 0; c < t[i].ncand; c++)
                if (c != b && isfinite(t[i].seconds[c][p]) &&
                    (second < 0 || t[i].seconds[c][p] < t[i].seconds[second][p]))
                    second = c;
            fprintf(f, "    %-17s %-16s %8.3f", conv_pass_name((conv_pass)p), t[i].cand[b]->name,
                    1e3 * t[i].seconds[b][p]);
            if (second >= 0)
                fprintf(f, "   [%s %.3f, %.2fx]", t[i].cand[second]->name,
                        1e3 * t[i].seconds[second][p],
                        t[i].seconds[second][p] / t[i].seconds[b][p]);
            fprintf(f, "\n");
        }
    }
}
