/* The trainer: finite-difference gradients of every layer, a short run on
   every backend, agreement between exact backends, determinism, bad data
   and specs, checkpoints, and the CLI's exit codes. */
#include <float.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include "../models/adam.h"
#include "../models/checkpoint.h"
#include "../models/layers.h"
#include "../models/train.h"
#include "check.h"
#include "ref_conv.h"
#include "suites.h"

/* ---- finite differences --------------------------------------------- */

/* sum_i r[i] * y[i] in double: the scalar whose gradient is r */
static double weigh(const float *y, const float *r, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++) s += (double)y[i] * r[i];
    return s;
}

/* Compares an analytic gradient with central differences of f at up to
   `samples` coordinates of v. A coordinate whose step crosses a kink of
   ReLU or max-pool (the one-sided slopes disagree) says nothing about the
   gradient and is skipped; at most half may be. Returns the worst
   relative error, or INFINITY if too many were skipped. */
typedef double (*scalar_fn)(void *ctx);
static double fd_error(scalar_fn f, void *ctx, float *v, const float *grad, size_t n, float h,
                       int samples)
{
    double worst = 0;
    size_t step = n > (size_t)samples ? n / samples : 1, tried = 0, kinks = 0;
    const double f0 = f(ctx);
    for (size_t i = 0; i < n; i += step, tried++) {
        float keep = v[i];
        v[i] = keep + h;
        double up = f(ctx);
        v[i] = keep - h;
        double down = f(ctx);
        v[i] = keep;
        double right = (up - f0) / h, left = (f0 - down) / h, fd = (up - down) / (2.0 * h);
        if (fabs(right - left) > 0.02 * fmax(1e-2, fmax(fabs(right), fabs(left)))) { kinks++; continue; }
        double e = fabs(fd - grad[i]) / fmax(1e-2, fmax(fabs(fd), fabs(grad[i])));
        worst = fmax(worst, e);
    }
    return 2 * kinks > tried ? INFINITY : worst;
}

typedef struct {
    int n, h, w, c, p, in, out;
    float *x, *y, *r, *wt, *b;
    const uint8_t *labels;
    int32_t *pos;
} layer_ctx;

static double maxpool_f(void *v)
{
    layer_ctx *t = v;
    maxpool_forward(t->x, t->n, t->h, t->w, t->c, t->p, 0, t->y, t->pos);
    return weigh(t->y, t->r, (size_t)t->n * (t->h / t->p) * (t->w / t->p) * t->c);
}

static double relu_f(void *v)
{
    layer_ctx *t = v;
    memcpy(t->y, t->x, sizeof(float) * t->in);
    relu_forward(t->y, (size_t)t->in);
    return weigh(t->y, t->r, (size_t)t->in);
}

static double dense_f(void *v)
{
    layer_ctx *t = v;
    dense_forward(t->x, t->wt, t->b, t->n, t->in, t->out, 0, t->y);
    return weigh(t->y, t->r, (size_t)t->n * t->out);
}

static double xent_f(void *v)
{
    layer_ctx *t = v;
    int correct;
    return softmax_xent(t->x, t->labels, t->n, t->out, t->y, NULL, &correct) / t->n;
}

static float *randn(check_rng *g, size_t n)
{
    float *a = malloc(sizeof(float) * n);
    if (!a) { perror("malloc"); exit(2); }
    check_fill(g, a, n);
    return a;
}

/* maxpool_forward against a plain loop: whole channel vectors and a
   tail (c = 37), windows of 2 and 3 with a floor edge, many ties (values
   from a set of 4, the first maximum in window order wins) and NaN (never
   selected over a number that came first); with the ReLU mask, outputs
   that are not positive are masked. Then the backward against the same
   loop: the gradient goes to the winner only, and not at a masked output. */
/* c = 37 takes the vector loops and the channel tail; c = 32 with an odd
   height and width the 2 x 2 fast path and the rows and columns no
   window covers */
static void maxpool_case(int n, int h, int w, int c)
{
    check_rng g = { 7 };
    const size_t nin = (size_t)n * h * w * c;
    float *x = malloc(sizeof(float) * nin), *y = malloc(sizeof(float) * nin);
    float *dy = malloc(sizeof(float) * nin), *dx = malloc(sizeof(float) * nin);
    int32_t *pos = malloc(sizeof(int32_t) * nin), *want_pos = malloc(sizeof(int32_t) * nin);
    if (!x || !y || !dy || !dx || !pos || !want_pos) { perror("malloc"); exit(2); }
    for (size_t i = 0; i < nin; i++) x[i] = floorf(check_uniform(&g) * 2.0f);
    x[5] = NAN;
    check_fill(&g, dy, nin);
    for (int p = 2; p <= 3; p++)
        for (int relu = 0; relu < 2; relu++) {
            maxpool_forward(x, n, h, w, c, p, relu, y, pos);
            const int oh = h / p, ow = w / p;
            int ok = 1;
            for (int b = 0; b < n; b++)
                for (int i = 0; i < oh; i++)
                    for (int j = 0; j < ow; j++)
                        for (int ch = 0; ch < c; ch++) {
                            const float *xb = x + (size_t)b * h * w * c;
                            int best = 0;
                            for (int u = 0; u < p; u++)
                                for (int v = 0; v < p; v++) {
                                    const float *at = xb + ((size_t)(i * p + u) * w + j * p + v) * c + ch;
                                    if (*at > xb[((size_t)(i * p + best / p) * w + j * p + best % p) * c + ch])
                                        best = u * p + v;
                                }
                            const size_t o = (((size_t)b * oh + i) * ow + j) * c + ch;
                            const float want = xb[((size_t)(i * p + best / p) * w + j * p + best % p) * c + ch];
                            want_pos[o] = relu && !(want > 0.0f) ? POOL_MASKED : best;
                            ok &= pos[o] == want_pos[o] && (y[o] == want || (isnan(y[o]) && isnan(want)));
                        }
            char name[64];
            snprintf(name, sizeof name, "train/maxpool/reference-%dx%dx%d-p%d%s", h, w, c, p,
                     relu ? "-relu" : "");
            check(name, ok, "max or position differs from the plain loop");
            maxpool_backward(dy, pos, n, h, w, c, p, dx);
            int bok = 1;
            for (size_t i = 0; i < nin; i++) {
                const size_t b = i / ((size_t)h * w * c), rem = i % ((size_t)h * w * c);
                const int row = (int)(rem / ((size_t)w * c)), col = (int)(rem / c % w);
                float want = 0.0f;
                if (row < oh * p && col < ow * p) {
                    const size_t o = ((b * oh + row / p) * ow + col / p) * c + rem % c;
                    if (want_pos[o] == (row % p) * p + col % p) want = dy[o];
                }
                bok &= dx[i] == want;
            }
            snprintf(name, sizeof name, "train/maxpool/backward-%dx%dx%d-p%d%s", h, w, c, p,
                     relu ? "-relu" : "");
            check(name, bok, "dx differs from the plain loop");
        }
    free(x); free(y); free(dy); free(dx); free(pos); free(want_pos);
}

static void test_maxpool_reference(void)
{
    if (!check_selected("train/maxpool")) return;
    maxpool_case(2, 8, 7, 37);
    maxpool_case(2, 7, 9, 32);
}

static void test_layer_gradients(void)
{
    if (!check_selected("train/gradient") && !check_selected("train/maxpool") &&
        !check_selected("train/softmax"))
        return;
    check_rng g = { 99 };
    layer_ctx t = { .n = 3, .h = 7, .w = 6, .c = 5, .p = 2 };
    size_t nin = (size_t)t.n * t.h * t.w * t.c, nout = (size_t)t.n * 3 * 3 * t.c;
    float *xs = randn(&g, nin), *ys = randn(&g, nin), *rs = randn(&g, nin);
    t.x = xs; t.y = ys; t.r = randn(&g, nout);
    t.pos = malloc(sizeof(int32_t) * nout);
    int32_t *pos2 = malloc(sizeof(int32_t) * nout);
    if (!t.pos || !pos2) { perror("malloc"); exit(2); }
    float *dx = randn(&g, nin);
    maxpool_forward(t.x, t.n, t.h, t.w, t.c, t.p, 0, t.y, t.pos);
    maxpool_backward(t.r, t.pos, t.n, t.h, t.w, t.c, t.p, dx);
    double e = fd_error(maxpool_f, &t, t.x, dx, nin, 1e-3f, 400);
    check("train/gradient/maxpool", e < 1e-2, "relative error %.3g", e);
    /* the ReLU mask folded into the pool's backward equals ReLU's own backward */
    float *xr = randn(&g, nin), *pooled = randn(&g, nout), *fused = randn(&g, nin);
    relu_forward(xr, nin);
    maxpool_forward(xr, t.n, t.h, t.w, t.c, t.p, 1, pooled, pos2);
    maxpool_backward(t.r, pos2, t.n, t.h, t.w, t.c, t.p, fused);
    maxpool_forward(xr, t.n, t.h, t.w, t.c, t.p, 0, pooled, pos2);
    maxpool_backward(t.r, pos2, t.n, t.h, t.w, t.c, t.p, dx);
    relu_backward(xr, dx, nin);
    check("train/maxpool-relu-fused", !memcmp(fused, dx, sizeof(float) * nin), "fused backward differs");
    maxpool_forward(t.x, t.n, t.h, t.w, t.c, t.p, 0, t.y, t.pos);
    maxpool_backward(t.r, t.pos, t.n, t.h, t.w, t.c, t.p, dx);
    free(xr); free(pooled); free(fused); free(pos2);
    /* a floor-pooled edge row/column gets no gradient */
    int edge_zero = 1;
    for (int b = 0; b < t.n; b++)
        for (int col = 0; col < t.w; col++)
            for (int ch = 0; ch < t.c; ch++)
                edge_zero &= dx[(((size_t)b * t.h + 6) * t.w + col) * t.c + ch] == 0.0f;
    check("train/gradient/maxpool-floor", edge_zero, "row 7 of 7 received gradient");

    t.in = (int)nin;
    for (size_t i = 0; i < nin; i++)       /* keep away from the kink at 0 */
        if (fabsf(t.x[i]) < 0.05f) t.x[i] = 0.5f;
    free(t.r);
    t.r = rs;
    relu_f(&t);
    memcpy(dx, t.r, sizeof(float) * nin);
    relu_backward(t.y, dx, nin);
    e = fd_error(relu_f, &t, t.x, dx, nin, 1e-3f, 400);
    check("train/gradient/relu", e < 1e-2, "relative error %.3g", e);

    t.n = 4; t.in = 13; t.out = 7;
    float *x = randn(&g, 4 * 13), *wt = randn(&g, 13 * 7), *b = randn(&g, 7), *r = randn(&g, 4 * 7);
    float *y = randn(&g, 4 * 7), *gx = randn(&g, 4 * 13), *gw = randn(&g, 13 * 7), *gb = randn(&g, 7);
    t.x = x; t.wt = wt; t.b = b; t.r = r; t.y = y;
    dense_backward_weights(x, r, 4, 13, 7, gw, gb);
    float ws[4 * (13 + 7)];
    dense_backward_data(wt, r, 4, 13, 7, gx, ws);
    e = fd_error(dense_f, &t, x, gx, 52, 1e-2f, 52);
    check("train/gradient/dense-x", e < 1e-2, "relative error %.3g", e);
    e = fd_error(dense_f, &t, wt, gw, 91, 1e-2f, 91);
    check("train/gradient/dense-w", e < 1e-2, "relative error %.3g", e);
    e = fd_error(dense_f, &t, b, gb, 7, 1e-2f, 7);
    check("train/gradient/dense-b", e < 1e-2, "relative error %.3g", e);

    static const uint8_t labels[4] = { 3, 0, 6, 6 };
    float *z = randn(&g, 4 * 7), *dz = randn(&g, 4 * 7);
    for (int i = 0; i < 28; i++) z[i] *= 4.0f;
    layer_ctx s = { .n = 4, .out = 7, .x = z, .y = y, .labels = labels };
    int correct;
    double loss = softmax_xent(z, labels, 4, 7, y, dz, &correct);
    e = fd_error(xent_f, &s, z, dz, 28, 1e-2f, 28);
    check("train/gradient/softmax-xent", e < 1e-2, "relative error %.3g", e);
    /* stable for huge logits */
    z[0] = 1e30f; z[1] = -1e30f;
    loss = softmax_xent(z, labels, 4, 7, y, dz, &correct);
    check("train/softmax-stable", isfinite(loss), "loss %g with logits of 1e30", loss);
    free(x); free(wt); free(b); free(r); free(y); free(gx); free(gw); free(gb); free(z); free(dz);
    free(t.pos); free(dx); free(xs); free(ys); free(rs);
}

/* The whole network: conv (with relu, bias, first-layer skip of
   backward_data), pool, flatten, dense and loss, checked end to end. */
typedef struct { net *nt; const uint8_t *labels; int n; } net_ctx;

static double net_loss_f(void *v)
{
    net_ctx *c = v;
    char err[256];
    float probs[4 * 5];
    int correct;
    if (net_forward(c->nt, c->n, err, sizeof err)) return NAN;
    return softmax_xent(c->nt->act[c->nt->nlayers], c->labels, c->n, 5, probs, NULL, &correct) / c->n;
}

/* The whole network's gradients by finite differences: with the batch in
   one piece; with the leading conv + pool layers run an image at a time
   (their weight gradients summed over the parts); and with the batch split
   over two replicas of 1 and 2 images, in parts too (the replicas'
   gradients summed). The last two must also agree with the first. */
static void test_net_gradients(void)
{
    if (!check_selected("train/gradient/net")) return;
    static const char *spec = "input 9 8 2\nconv2d 4 3x3 pad=1 relu\nmaxpool 2\n"
                              "conv2d 3 2x2 stride=2 relu\nflatten\ndense 6 relu\ndense 5 softmax\n";
    static const uint8_t labels[3] = { 1, 4, 0 };
    float *whole = NULL;
    size_t nwhole = 0;
    const int threads = omp_get_max_threads();
    omp_set_num_threads(2);
    for (int parts = 0; parts < 3; parts++) {
        net nt;
        char err[256];
        int ok = !net_parse_string(&nt, spec, "grad.net", err, sizeof err) &&
                 !net_set_backends(&nt, NULL, "naive", err, sizeof err);
        nt.replicas_max = parts == 2 ? 2 : 1;
        ok = ok && !net_init(&nt, 3, 7, err, sizeof err);
        if (ok && !check("train/gradient/net-replicas", nt.nrep == nt.replicas_max, "%d replicas", nt.nrep))
            ok = 0;
        if (!check("train/gradient/net-build", ok, "%s", err)) {
            net_free(&nt);
            omp_set_num_threads(threads);
            return;
        }
        if (parts) nt.l2_bytes = 1;     /* no activation fits: one image per part */
        check_rng g = { 5 };
        check_fill(&g, nt.act[0], 3 * 9 * 8 * 2);
        float probs[3 * 5];
        int correct;
        net_forward(&nt, 3, err, sizeof err);
        softmax_xent(nt.act[nt.nlayers], labels, 3, 5, probs, nt.grad[nt.nlayers], &correct);
        net_backward(&nt, 3);
        net_ctx c = { &nt, labels, 3 };
        double diff = 0.0, scale = 0.0;
        size_t at = 0;
        for (int i = 0; i < nt.nlayers; i++) {
            layer *l = &nt.layers[i];
            param *ps[] = { &l->weight, &l->bias };
            for (int j = 0; j < 2; j++) {
                if (!ps[j]->n) continue;
                if (!parts) {
                    float *grown = realloc(whole, sizeof(float) * (nwhole + ps[j]->n));
                    if (!grown) { perror("realloc"); exit(2); }
                    whole = grown;
                    memcpy(whole + nwhole, ps[j]->g, sizeof(float) * ps[j]->n);
                    nwhole += ps[j]->n;
                } else
                    for (size_t k = 0; k < ps[j]->n && at + k < nwhole; k++) {
                        diff = fmax(diff, fabs((double)ps[j]->g[k] - whole[at + k]));
                        scale = fmax(scale, fabs((double)whole[at + k]));
                    }
                at += ps[j]->n;
                char name[96];
                snprintf(name, sizeof name, "train/gradient/net%s-%s-%s",
                         parts == 2 ? "-replicas" : parts ? "-parts" : "",
                         l->name, j ? "bias" : "weight");
                double e = fd_error(net_loss_f, &c, ps[j]->w, ps[j]->g, ps[j]->n, 2e-3f, 24);
                check(name, e < 2e-2, "relative error %.3g", e);
            }
        }
        if (parts)
            check(parts == 2 ? "train/gradient/net-replicas-agree" : "train/gradient/net-parts-agree",
                  at == nwhole && diff <= 1e-5 * scale, "gradients differ by %.3g (largest %.3g)", diff,
                  scale);
        net_free(&nt);
    }
    omp_set_num_threads(threads);
    free(whole);
}

/* A batch smaller than the replica count leaves replicas without images
   (here replica 0, with 1 image over 2 replicas): they must add nothing,
   and the parameters' gradients must still be the batch's alone. Compared
   with one replica, after a full batch has filled every gradient buffer. */
static void test_net_replicas_short_batch(void)
{
    if (!check_selected("train/replicas-short-batch")) return;
    static const char *spec = "input 6 6 1\nconv2d 3 3x3 relu\nmaxpool 2\nflatten\ndense 4 softmax\n";
    static const uint8_t labels[3] = { 2, 0, 3 };
    const int threads = omp_get_max_threads();
    omp_set_num_threads(2);
    net nt[2];
    char err[256] = "";
    int ok = 1;
    for (int k = 0; k < 2; k++) {
        ok = ok && !net_parse_string(&nt[k], spec, "short.net", err, sizeof err) &&
             !net_set_backends(&nt[k], NULL, "naive", err, sizeof err);
        nt[k].replicas_max = k + 1;
        ok = ok && !net_init(&nt[k], 3, 3, err, sizeof err);
        for (int n = 3; ok && n >= 1; n -= 2) {     /* a full batch, then one image */
            check_rng g = { 9 };
            check_fill(&g, nt[k].act[0], (size_t)n * 36);
            float probs[3 * 4];
            int correct;
            ok = !net_forward(&nt[k], n, err, sizeof err);
            softmax_xent(nt[k].act[nt[k].nlayers], labels, n, 4, probs, nt[k].grad[nt[k].nlayers], &correct);
            if (ok) net_backward(&nt[k], n);
        }
    }
    double diff = 0, scale = 0;
    for (int i = 0; ok && i < nt[0].nlayers; i++) {
        const param *a[] = { &nt[0].layers[i].weight, &nt[0].layers[i].bias };
        const param *b[] = { &nt[1].layers[i].weight, &nt[1].layers[i].bias };
        for (int j = 0; j < 2; j++)
            for (size_t e = 0; e < a[j]->n; e++) {
                diff = fmax(diff, fabs((double)a[j]->g[e] - b[j]->g[e]));
                scale = fmax(scale, fabs((double)a[j]->g[e]));
            }
    }
    check("train/replicas-short-batch", ok && nt[1].nrep == 2 && scale > 0 && diff <= 1e-6 * scale,
          "%s gradients differ by %.3g (largest %.3g)", err, diff, scale);
    net_free(&nt[0]);
    net_free(&nt[1]);
    omp_set_num_threads(threads);
}

/* ---- training runs ------------------------------------------------------ */

typedef struct { double loss, test_acc; int ok; char err[512]; } run_result;

/* Trains the seed network on `images` images for one epoch at `threads`
   threads and tests on the first 1000 test images. */
static run_result short_run(const char *backend, int images, int threads, net *keep)
{
    run_result res = { 0 };
    net nt;
    dataset tr = { 0 }, te = { 0 };
    trainer t = { 0 };
    epoch_stats st;
    omp_set_num_threads(threads);
    if (net_parse(&nt, "models/seed_cnn.net", res.err, sizeof res.err) ||
        net_set_backends(&nt, backend, "naive", res.err, sizeof res.err) ||
        net_init(&nt, 32, 1, res.err, sizeof res.err) ||
        data_load(&tr, DATA_DEFAULT_DIR, "train", 10, images, res.err, sizeof res.err) ||
        data_load(&te, DATA_DEFAULT_DIR, "t10k", 10, 1000, res.err, sizeof res.err) ||
        trainer_init(&t, &nt, 32, 1e-3f, 1, res.err, sizeof res.err) ||
        trainer_epoch(&t, &tr, NULL, NULL, &st, res.err, sizeof res.err) ||
        net_evaluate(&nt, &te, 32, &st.test_loss, &st.test_accuracy, NULL, res.err, sizeof res.err)) {
        res.ok = 0;
    } else {
        res.ok = 1;
        res.loss = st.loss;
        res.test_acc = st.test_accuracy;
    }
    omp_set_num_threads(omp_get_num_procs());
    trainer_free(&t);
    data_free(&tr);
    data_free(&te);
    if (keep && res.ok) *keep = nt;
    else net_free(&nt);
    return res;
}

/* 2,000 images, one epoch: the seed network reaches this test accuracy
   with any correct backend (about 0.70 in practice). */
#define ACCURACY_FLOOR 0.60
/* Exact backends differ from naive only by fp32 rounding order: over the
   first 10 steps (320 images) the epoch losses agree to ~1e-8. Longer runs
   are no test: one ReLU or max-pool decision flipped by a rounding
   difference moves the loss in steps of ~1e-4 (measured: 1.3e-4 after 640
   images, 7e-4 after 1,280, 2e-3 after 2,000, depending on which oneDNN
   implementation a plan picked). A wrong gradient moves it by ~1e-3 within
   a few steps. */
#define AGREEMENT_IMAGES 320
#define LOSS_AGREEMENT 1e-5

static void test_short_runs(void)
{
    if (!check_selected("train/short") && !check_selected("train/agree")) return;
    run_result ref = short_run("naive", 2000, 2, NULL);
    run_result ref_agree = short_run("naive", AGREEMENT_IMAGES, 2, NULL);
    check("train/short/naive", ref.ok && ref.test_acc >= ACCURACY_FLOOR,
          "%s test accuracy %.4f (floor %.2f)", ref.ok ? "" : ref.err, ref.test_acc, ACCURACY_FLOOR);
    for (const conv_backend *const *b = conv_backends(); *b; b++) {
        if (!strcmp((*b)->name, "naive")) continue;
        char name[96];
        snprintf(name, sizeof name, "train/short/%s", (*b)->name);
        if (!check_selected(name)) continue;
        run_result r = short_run((*b)->name, 2000, 2, NULL);
        if (!r.ok && strstr(r.err, "cannot run it")) { check_skip(name, r.err); continue; }
        check(name, r.ok && r.test_acc >= ACCURACY_FLOOR, "%s test accuracy %.4f (floor %.2f)",
              r.ok ? "" : r.err, r.test_acc, ACCURACY_FLOOR);
        snprintf(name, sizeof name, "train/agree/%s", (*b)->name);
        if (ref_error_bound((*b)->name) > 1e-5) { check_skip(name, "not an exact algorithm"); continue; }
        run_result a = short_run((*b)->name, AGREEMENT_IMAGES, 2, NULL);
        check(name, a.ok && ref_agree.ok && fabs(a.loss - ref_agree.loss) <= LOSS_AGREEMENT,
              "epoch loss %.9f vs naive %.9f over %d images", a.loss, ref_agree.loss,
              AGREEMENT_IMAGES);
    }
}

static void test_determinism(void)
{
    if (!check_selected("train/deterministic")) return;
    run_result a = short_run("naive", 320, 1, NULL), b = short_run("naive", 320, 1, NULL);
    check("train/deterministic", a.ok && b.ok && a.loss == b.loss && a.test_acc == b.test_acc,
          "loss %.9g vs %.9g", a.loss, b.loss);
}

static void test_divergence(void)
{
    if (!check_selected("train/nan-loss")) return;
    net nt;
    dataset tr;
    trainer t;
    char err[256] = "";
    int idx[4] = { 0, 1, 2, 3 }, correct;
    double loss;
    if (net_parse(&nt, "models/seed_cnn.net", err, sizeof err) ||
        net_set_backends(&nt, NULL, "naive", err, sizeof err) || net_init(&nt, 4, 1, err, sizeof err) ||
        data_load(&tr, DATA_DEFAULT_DIR, "train", 10, 4, err, sizeof err) ||
        trainer_init(&t, &nt, 4, 1e-3f, 1, err, sizeof err)) {
        check("train/nan-loss", 0, "%s", err);
        return;
    }
    nt.layers[nt.nlayers - 1].bias.w[0] = NAN;
    int rc = trainer_step(&t, &tr, idx, 4, &loss, &correct, err, sizeof err);
    check("train/nan-loss", rc != 0 && strstr(err, "NaN") != NULL, "step returned %d: %s", rc, err);
    trainer_free(&t);
    data_free(&tr);
    net_free(&nt);
}

static void test_checkpoint(void)
{
    if (!check_selected("train/checkpoint")) return;
    net nt, other;
    run_result r = short_run("naive", 320, 2, &nt);
    if (!check("train/checkpoint/train", r.ok, "%s", r.err)) return;
    char path[512], err[512], bad[600];
    snprintf(path, sizeof path, "%s/w.bin", check_tmpdir());
    dataset te;
    double l0, a0, l1, a1;
    int ok = !checkpoint_save(&nt, path, err, sizeof err) &&
             !data_load(&te, DATA_DEFAULT_DIR, "t10k", 10, 1000, err, sizeof err) &&
             !net_evaluate(&nt, &te, 32, &l0, &a0, NULL, err, sizeof err);
    if (!check("train/checkpoint/save", ok, "%s", err)) { net_free(&nt); return; }
    ok = !net_parse(&other, "models/seed_cnn.net", err, sizeof err) &&
         !net_set_backends(&other, NULL, "naive", err, sizeof err) &&
         !net_init(&other, 32, 12345, err, sizeof err) &&
         !checkpoint_load(&other, path, err, sizeof err) &&
         !net_evaluate(&other, &te, 32, &l1, &a1, NULL, err, sizeof err);
    check("train/checkpoint/roundtrip", ok && l0 == l1 && a0 == a1,
          "%s loss %.9g vs %.9g, accuracy %.6f vs %.6f", ok ? "" : err, l0, l1, a0, a1);
    net_free(&other);
    data_free(&te);

    /* refusals: another network, a flipped byte, a truncated file, not a weights file */
    net small;
    ok = !net_parse_string(&small, "input 28 28 1\nconv2d 8 3x3 relu\nflatten\ndense 10 softmax\n",
                           "small.net", err, sizeof err) &&
         !net_set_backends(&small, NULL, "naive", err, sizeof err) && !net_init(&small, 2, 1, err, sizeof err);
    check("train/checkpoint/other-network",
          ok && checkpoint_load(&small, path, err, sizeof err) && strstr(err, "different network"), "%s", err);
    net_free(&small);
    FILE *f = fopen(path, "r+b");
    if (f) { fseek(f, 1000, SEEK_SET); fputc(0x5a, f); fclose(f); }
    check("train/checkpoint/corrupt", checkpoint_load(&nt, path, err, sizeof err) && strstr(err, "checksum"), "%s", err);
    snprintf(bad, sizeof bad, "truncate -s 5000 '%s'", path);
    check("train/checkpoint/truncated", system(bad) == 0 && checkpoint_load(&nt, path, err, sizeof err) &&
          strstr(err, "checksum"), "%s", err);
    snprintf(bad, sizeof bad, "echo 'hello' > '%s'", path);
    check("train/checkpoint/not-weights", system(bad) == 0 && checkpoint_load(&nt, path, err, sizeof err) &&
          strstr(err, "magic"), "%s", err);
    net_free(&nt);
}

/* ---- bad input through the CLI ------------------------------------------ */

static void put_be32(unsigned char *p, unsigned v)
{
    p[0] = (unsigned char)(v >> 24); p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8); p[3] = (unsigned char)v;
}

/* Writes an IDX set of n images to dir/PREFIX-*-idx?-ubyte(.gz). */
static void write_idx(const char *dir, const char *prefix, int gz, unsigned img_magic, int n_img,
                      int n_lab, int bad_label, long truncate_images)
{
    char path[1024];
    unsigned char hdr[16];
    size_t px = (size_t)n_img * 28 * 28;
    unsigned char *pix = calloc(px + 1, 1), *lab = calloc((size_t)n_lab + 1, 1);
    for (size_t i = 0; i < px; i++) pix[i] = (unsigned char)(i * 7);
    for (int i = 0; i < n_lab; i++) lab[i] = (unsigned char)(i % 10);
    if (bad_label) lab[n_lab - 1] = 12;
    put_be32(hdr, img_magic); put_be32(hdr + 4, (unsigned)n_img);
    put_be32(hdr + 8, 28); put_be32(hdr + 12, 28);
    size_t img_bytes = truncate_images >= 0 ? (size_t)truncate_images : px;
    for (int which = 0; which < 2; which++) {
        snprintf(path, sizeof path, "%s/%s-%s-idx%d-ubyte%s", dir, prefix, which ? "labels" : "images",
                 which ? 1 : 3, gz ? ".gz" : "");
        gzFile f = gzopen(path, gz ? "wb" : "wbT");
        if (!which) {
            gzwrite(f, hdr, 16);
            if (img_bytes) gzwrite(f, pix, (unsigned)img_bytes);
        } else {
            unsigned char lh[8];
            put_be32(lh, 0x801); put_be32(lh + 4, (unsigned)n_lab);
            gzwrite(f, lh, 8);
            gzwrite(f, lab, (unsigned)n_lab);
        }
        gzclose(f);
    }
    free(pix);
    free(lab);
}

static void cli_case(const char *name, const char *args, int want_rc, const char *want_text)
{
    char cmd[1200], out[8192];
    snprintf(cmd, sizeof cmd, "convbench %s", args);
    int rc = check_run(cmd, out, sizeof out);
    char *nl = strrchr(out, '\n');
    if (nl && !nl[1]) *nl = 0;
    check(name, rc == want_rc && strstr(out, want_text) != NULL,
          "exit %d (want %d), output lacks \"%s\": %.300s", rc, want_rc, want_text, out);
}

static void test_bad_input(void)
{
    if (!check_selected("train/cli")) return;
    const char *tmp = check_tmpdir();
    static const struct {
        const char *dir;
        int gz, n_img, n_lab, bad_label;
        unsigned magic;
        long trunc;
        const char *want;
    } sets[] = {
        { "good", 1, 40, 40, 0, 0x803, -1, "Done" },
        { "good-raw", 0, 40, 40, 0, 0x803, -1, "Done" },
        { "magic", 1, 40, 40, 0, 0x903, -1, "bad magic number" },
        { "truncated", 1, 40, 40, 0, 0x803, 28 * 28 * 10 + 5, "truncated" },
        { "count", 0, 40, 39, 0, 0x803, -1, "39 labels but" },
        { "label", 1, 40, 40, 1, 0x803, -1, "out of range" },
    };
    char args[1024], name[96];
    for (size_t i = 0; i < sizeof sets / sizeof *sets; i++) {
        char dir[600];
        snprintf(dir, sizeof dir, "%s/%s", tmp, sets[i].dir);
        snprintf(args, sizeof args, "mkdir -p '%s'", dir);
        if (system(args)) continue;
        write_idx(dir, "train", sets[i].gz, sets[i].magic, sets[i].n_img, sets[i].n_lab,
                  sets[i].bad_label, sets[i].trunc);
        write_idx(dir, "t10k", sets[i].gz, 0x803, 20, 20, 0, -1);
        snprintf(args, sizeof args, "train --data '%s' --epochs 1 --batch 8 --backend naive", dir);
        snprintf(name, sizeof name, "train/cli/data-%s", sets[i].dir);
        cli_case(name, args, strcmp(sets[i].dir, "good") && strcmp(sets[i].dir, "good-raw") ? 2 : 0,
                 sets[i].want);
    }
    snprintf(args, sizeof args, "train --data '%s/none' --epochs 1", tmp);
    cli_case("train/cli/data-missing", args, 2, "no such file");

    /* specs: each error names its line */
    static const struct { const char *text, *want; } specs[] = {
        { "input 28 28 1\nconv2d 8 3x3 relu\nflatten\ndense 10 relu\n", "bad.net:4: the last layer" },
        { "input 28 28 1\nconv2d 8 3q3 relu\n", "bad.net:2: bad filter size" },
        { "input 28 28 1\n\n# comment\npool 2\n", "bad.net:4: unknown layer 'pool'" },
        { "conv2d 8 3x3\n", "bad.net:1: the first line must be 'input H W C'" },
        { "input 28 28 1\nconv2d 8 3x3\ndense 10 softmax\n", "bad.net:3: dense needs a flat input" },
        { "input 4 4 1\nconv2d 8 7x7\n", "bad.net:2: conv2d: 7x7 filter larger" },
        { "input 28 28 1\nconv2d 8 3x3 pad=3\n", "bad.net:2: conv2d: padding 3" },
        { "input 28 28 1\nmaxpool 0\n", "bad.net:2: maxpool wants" },
        { "input 28 28 1\nflatten\ndense 10 softmax\ndense 10 softmax\n", "bad.net:3: softmax only on the last" },
    };
    for (size_t i = 0; i < sizeof specs / sizeof *specs; i++) {
        char path[600], err[512];
        snprintf(path, sizeof path, "%s/bad.net", tmp);
        FILE *f = fopen(path, "w");
        if (!f) continue;
        fputs(specs[i].text, f);
        fclose(f);
        net nt;
        int rc = net_parse(&nt, path, err, sizeof err);
        snprintf(name, sizeof name, "train/spec/bad-%zu", i);
        check(name, rc && strstr(err, specs[i].want), "got \"%s\", want \"%s\"", rc ? err : "(accepted)", specs[i].want);
    }
    snprintf(args, sizeof args, "train --model '%s/bad.net' --epochs 1", tmp);
    cli_case("train/cli/bad-spec", args, 2, "bad.net:3: softmax only on the last");
    cli_case("train/cli/unknown-backend", "train --backend nosuch --epochs 1", 2, "unknown backend 'nosuch'");
    cli_case("train/cli/unknown-layer", "train --backend conv9=naive --epochs 1", 2, "no conv layer named 'conv9'");
    cli_case("train/cli/bad-epochs", "train --epochs 0", 2, "--epochs wants an integer");
    cli_case("train/cli/bad-lr", "train --lr abc", 2, "--lr wants a number");
    cli_case("train/cli/bad-threads", "train --threads -2", 2, "--threads wants an integer");
    cli_case("train/cli/bad-replicas", "train --replicas 1000", 2, "--replicas wants an integer");
    cli_case("train/cli/replicas-not-predict", "predict --replicas 2", 2, "--replicas does not apply");
    cli_case("train/cli/unknown-option", "train --frobnicate", 2, "unknown option");
    cli_case("train/cli/eval-needs-load", "eval", 2, "--load FILE is required");
    cli_case("train/cli/help", "train --help", 0, "usage: convbench train");
    cli_case("train/cli/unknown-command", "frobnicate", 2, "unknown command");
    /* a shape the backend cannot run is named with its layer and reason */
    char path[600];
    snprintf(path, sizeof path, "%s/five.net", tmp);
    FILE *f = fopen(path, "w");
    if (f) {
        fputs("input 28 28 1\nconv2d 4 5x5 relu\nflatten\ndense 10 softmax\n", f);
        fclose(f);
        for (const conv_backend *const *b = conv_backends(); *b; b++) {
            conv_shape s = { 32, 28, 28, 1, 4, 5, 5, 1, 0 };
            if (!(*b)->unsupported(&s)) continue;
            snprintf(args, sizeof args, "train --model '%s' --backend %s --epochs 1", path, (*b)->name);
            snprintf(name, sizeof name, "train/cli/unsupported-%s", (*b)->name);
            cli_case(name, args, 2, "conv1 (32x28x28x1 -> 4 5x5 stride 1 pad 0)");
        }
    }
    /* save -> eval through the CLI reproduces the accuracy printed by train */
    char wpath[600], out[8192];
    snprintf(wpath, sizeof wpath, "%s/cli.bin", tmp);
    snprintf(args, sizeof args, "convbench train --data '%s/good' --epochs 1 --backend naive --save '%s'", tmp, wpath);
    int rc = check_run(args, out, sizeof out);
    const char *acc = strstr(out, "test accuracy ");
    char want[64] = "";
    if (acc) snprintf(want, sizeof want, "%.6s", acc + 14);
    snprintf(args, sizeof args, "convbench eval --data '%s/good' --load '%s' --backend naive", tmp, wpath);
    char eout[4096];
    int erc = check_run(args, eout, sizeof eout);
    const char *eacc = strstr(eout, "test_accuracy: ");
    check("train/cli/save-eval", rc == 0 && erc == 0 && acc && eacc && !strncmp(eacc + 15, want, 6),
          "train said %s, eval said %.40s", want, eacc ? eacc + 15 : eout);
}

/* ---- Adam ------------------------------------------------------------- */

/* adam_update against Keras's formula in double over several steps: tensor
   lengths around the update's chunk and prefetch distances, zero
   gradients (v stays 0: the sqrt(0) + eps branch), shared by a team of 1
   and of 3 threads (each thread's share ends anywhere). */
static void test_adam(void)
{
    if (!check_selected("train/adam")) return;
    const size_t lens[] = { 0, 1, 15, 16, 63, 64, 65, 257, 300, 1000, 4099 };
    int bad = 0;
    double worst = 0;
    for (int team = 1; team <= 3; team += 2)
        for (size_t li = 0; li < sizeof lens / sizeof *lens; li++) {
            const size_t n = lens[li];
            float *w = calloc(n + 1, sizeof(float)), *g = calloc(n + 1, sizeof(float));
            float *m = calloc(n + 1, sizeof(float)), *v = calloc(n + 1, sizeof(float));
            double *rw = calloc(n + 1, sizeof(double)), *rm = calloc(n + 1, sizeof(double));
            double *rv = calloc(n + 1, sizeof(double));
            check_rng r = { 7 + n };
            check_fill(&r, w, n);
            for (size_t i = 0; i < n; i++) rw[i] = w[i];
            adam a = adam_default();
            for (int step = 0; step < 5; step++) {
                check_fill(&r, g, n);
                for (size_t i = 0; i < n; i += 3) g[i] = 0.0f;     /* some gradients are 0 */
                if (step == 0)
                    for (size_t i = 1; i < n; i += 3) g[i] = 0.0f; /* and some stay 0 */
                adam_begin_step(&a);
                #pragma omp parallel num_threads(team)
                adam_update(&a, w, g, m, v, n);
                const double b1 = a.beta1, b2 = a.beta2;
                const double lr_t = a.lr * sqrt(1 - pow(b2, (double)a.t)) / (1 - pow(b1, (double)a.t));
                for (size_t i = 0; i < n; i++) {
                    rm[i] = b1 * rm[i] + (1 - b1) * g[i];
                    rv[i] = b2 * rv[i] + (1 - b2) * (double)g[i] * g[i];
                    rw[i] -= lr_t * rm[i] / (sqrt(rv[i]) + a.eps);
                }
            }
            for (size_t i = 0; i < n; i++) {
                /* each of the 5 steps rounds w once: in ulps of w (a step
                   moves w by up to lr, so a wrong update is ~1e4 ulps off) */
                const double e = fabs(w[i] - rw[i]) / (FLT_EPSILON * (fabs(rw[i]) + a.lr));
                const double em = fabs(m[i] - rm[i]);   /* gradients are within [-1, 1) */
                if (e > worst) worst = e;
                if (!(e <= 5) || !(em < 1e-6) || !(v[i] >= 0.0f)) bad++;
            }
            free(w); free(g); free(m); free(v); free(rw); free(rm); free(rv);
        }
    check("train/adam", bad == 0, "%d elements off the double reference (worst weight error %.2g ulps)",
          bad, worst);
}

void test_train(void)
{
    test_adam();
    test_maxpool_reference();
    test_layer_gradients();
    test_net_gradients();
    test_net_replicas_short_batch();
    test_divergence();
    test_determinism();
    test_checkpoint();
    test_bad_input();
    test_short_runs();
}
