/* The layers and the network they make up: max-pool against a plain loop,
   every layer's gradients by finite differences, the whole network's
   gradients (batch in one piece, in parts, over replicas; a grouped and
   depthwise one on every backend that runs it), and replicas
   left without images by a short batch. */
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../models/layers.h"
#include "../models/net.h"
#include "check.h"
#include "suites.h"

/* ---- finite differences ------------------------------------------------ */

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
        if (fabs(right - left) > 0.02 * fmax(1e-2, fmax(fabs(right), fabs(left)))) {
            kinks++;
            continue;
        }
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
    if (!a) {
        perror("malloc");
        exit(2);
    }
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
    if (!x || !y || !dy || !dx || !pos || !want_pos) {
        perror("malloc");
        exit(2);
    }
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
                                    const float *at =
                                        xb + ((size_t)(i * p + u) * w + j * p + v) * c + ch;
                                    if (*at >
                                        xb[((size_t)(i * p + best / p) * w + j * p + best % p) * c +
                                           ch])
                                        best = u * p + v;
                                }
                            const size_t o = (((size_t)b * oh + i) * ow + j) * c + ch;
                            const float want =
                                xb[((size_t)(i * p + best / p) * w + j * p + best % p) * c + ch];
                            want_pos[o] = relu && !(want > 0.0f) ? POOL_MASKED : best;
                            ok &= pos[o] == want_pos[o] &&
                                  (y[o] == want || (isnan(y[o]) && isnan(want)));
                        }
            char name[64];
            snprintf(name, sizeof name, "layers/maxpool/reference-%dx%dx%d-p%d%s", h, w, c, p,
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
            snprintf(name, sizeof name, "layers/maxpool/backward-%dx%dx%d-p%d%s", h, w, c, p,
                     relu ? "-relu" : "");
            check(name, bok, "dx differs from the plain loop");
        }
    free(x);
    free(y);
    free(dy);
    free(dx);
    free(pos);
    free(want_pos);
}

static void test_maxpool_reference(void)
{
    if (!check_selected("layers/maxpool")) return;
    maxpool_case(2, 8, 7, 37);
    maxpool_case(2, 7, 9, 32);
}

static void test_layer_gradients(void)
{
    if (!check_selected("layers/gradient") && !check_selected("layers/maxpool") &&
        !check_selected("layers/softmax"))
        return;
    check_rng g = { 99 };
    layer_ctx t = { .n = 3, .h = 7, .w = 6, .c = 5, .p = 2 };
    size_t nin = (size_t)t.n * t.h * t.w * t.c, nout = (size_t)t.n * 3 * 3 * t.c;
    float *xs = randn(&g, nin), *ys = randn(&g, nin), *rs = randn(&g, nin);
    t.x = xs;
    t.y = ys;
    t.r = randn(&g, nout);
    t.pos = malloc(sizeof(int32_t) * nout);
    int32_t *pos2 = malloc(sizeof(int32_t) * nout);
    if (!t.pos || !pos2) {
        perror("malloc");
        exit(2);
    }
    float *dx = randn(&g, nin);
    maxpool_forward(t.x, t.n, t.h, t.w, t.c, t.p, 0, t.y, t.pos);
    maxpool_backward(t.r, t.pos, t.n, t.h, t.w, t.c, t.p, dx);
    double e = fd_error(maxpool_f, &t, t.x, dx, nin, 1e-3f, 400);
    check("layers/gradient/maxpool", e < 1e-2, "relative error %.3g", e);
    /* the ReLU mask folded into the pool's backward equals ReLU's own backward */
    float *xr = randn(&g, nin), *pooled = randn(&g, nout), *fused = randn(&g, nin);
    relu_forward(xr, nin);
    maxpool_forward(xr, t.n, t.h, t.w, t.c, t.p, 1, pooled, pos2);
    maxpool_backward(t.r, pos2, t.n, t.h, t.w, t.c, t.p, fused);
    maxpool_forward(xr, t.n, t.h, t.w, t.c, t.p, 0, pooled, pos2);
    maxpool_backward(t.r, pos2, t.n, t.h, t.w, t.c, t.p, dx);
    relu_backward(xr, dx, nin);
    check("layers/maxpool-relu-fused", !memcmp(fused, dx, sizeof(float) * nin),
          "fused backward differs");
    maxpool_forward(t.x, t.n, t.h, t.w, t.c, t.p, 0, t.y, t.pos);
    maxpool_backward(t.r, t.pos, t.n, t.h, t.w, t.c, t.p, dx);
    free(xr);
    free(pooled);
    free(fused);
    free(pos2);
    /* a floor-pooled edge row/column gets no gradient */
    int edge_zero = 1;
    for (int b = 0; b < t.n; b++)
        for (int col = 0; col < t.w; col++)
            for (int ch = 0; ch < t.c; ch++)
                edge_zero &= dx[(((size_t)b * t.h + 6) * t.w + col) * t.c + ch] == 0.0f;
    check("layers/gradient/maxpool-floor", edge_zero, "row 7 of 7 received gradient");

    t.in = (int)nin;
    for (size_t i = 0; i < nin; i++) /* keep away from the kink at 0 */
        if (fabsf(t.x[i]) < 0.05f) t.x[i] = 0.5f;
    free(t.r);
    t.r = rs;
    relu_f(&t);
    memcpy(dx, t.r, sizeof(float) * nin);
    relu_backward(t.y, dx, nin);
    e = fd_error(relu_f, &t, t.x, dx, nin, 1e-3f, 400);
    check("layers/gradient/relu", e < 1e-2, "relative error %.3g", e);

    t.n = 4;
    t.in = 13;
    t.out = 7;
    float *x = randn(&g, 4 * 13), *wt = randn(&g, 13 * 7), *b = randn(&g, 7), *r = randn(&g, 4 * 7);
    float *y = randn(&g, 4 * 7), *gx = randn(&g, 4 * 13), *gw = randn(&g, 13 * 7),
          *gb = randn(&g, 7);
    t.x = x;
    t.wt = wt;
    t.b = b;
    t.r = r;
    t.y = y;
    dense_backward_weights(x, r, 4, 13, 7, gw, gb);
    float ws[4 * (13 + 7)];
    dense_backward_data(wt, r, 4, 13, 7, gx, ws);
    e = fd_error(dense_f, &t, x, gx, 52, 1e-2f, 52);
    check("layers/gradient/dense-x", e < 1e-2, "relative error %.3g", e);
    e = fd_error(dense_f, &t, wt, gw, 91, 1e-2f, 91);
    check("layers/gradient/dense-w", e < 1e-2, "relative error %.3g", e);
    e = fd_error(dense_f, &t, b, gb, 7, 1e-2f, 7);
    check("layers/gradient/dense-b", e < 1e-2, "relative error %.3g", e);

    static const uint8_t labels[4] = { 3, 0, 6, 6 };
    float *z = randn(&g, 4 * 7), *dz = randn(&g, 4 * 7);
    for (int i = 0; i < 28; i++) z[i] *= 4.0f;
    layer_ctx s = { .n = 4, .out = 7, .x = z, .y = y, .labels = labels };
    int correct;
    double loss = softmax_xent(z, labels, 4, 7, y, dz, &correct);
    e = fd_error(xent_f, &s, z, dz, 28, 1e-2f, 28);
    check("layers/gradient/softmax-xent", e < 1e-2, "relative error %.3g", e);
    /* stable for huge logits */
    z[0] = 1e30f;
    z[1] = -1e30f;
    loss = softmax_xent(z, labels, 4, 7, y, dz, &correct);
    check("layers/softmax-stable", isfinite(loss), "loss %g with logits of 1e30", loss);
    free(x);
    free(wt);
    free(b);
    free(r);
    free(y);
    free(gx);
    free(gw);
    free(gb);
    free(z);
    free(dz);
    free(t.pos);
    free(dx);
    free(xs);
    free(ys);
    free(rs);
}

/* The whole network: conv (with relu, bias, first-layer skip of
   backward_data), pool, flatten, dense and loss, checked end to end. */
typedef struct {
    net *nt;
    const uint8_t *labels;
    int n;
} net_ctx;

static double net_loss_f(void *v)
{
    net_ctx *c = v;
    char err[256];
    float probs[4 * 5];
    int correct;
    if (net_forward(c->nt, c->n, err, sizeof err)) return NAN;
    return softmax_xent(c->nt->act[c->nt->nlayers], c->labels, c->n, 5, probs, NULL, &correct) /
           c->n;
}

/* The whole network's gradients by finite differences: with the batch in
   one piece; with the leading conv + pool layers run an image at a time
   (their weight gradients summed over the parts); and with the batch split
   over two replicas of 1 and 2 images, in parts too (the replicas'
   gradients summed). The last two must also agree with the first. */
static void test_net_gradients(void)
{
    if (!check_selected("layers/gradient/net")) return;
    static const char *spec =
        "input 9 8 2\nconv2d 4 3x3 pad=1 relu\nmaxpool 2\n"
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
        if (ok && !check("layers/gradient/net-replicas", nt.nrep == nt.replicas_max, "%d replicas",
                         nt.nrep))
            ok = 0;
        if (!check("layers/gradient/net-build", ok, "%s", err)) {
            net_free(&nt);
            omp_set_num_threads(threads);
            return;
        }
        if (parts) nt.l2_bytes = 1; /* no activation fits: one image per part */
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
                    if (!grown) {
                        perror("realloc");
                        exit(2);
                    }
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
                snprintf(name, sizeof name, "layers/gradient/net%s-%s-%s",
                         parts == 2 ? "-replicas"
                         : parts    ? "-parts"
                                    : "",
                         l->name, j ? "bias" : "weight");
                double e = fd_error(net_loss_f, &c, ps[j]->w, ps[j]->g, ps[j]->n, 2e-3f, 24);
                check(name, e < 2e-2, "relative error %.3g", e);
            }
        }
        if (parts)
            check(parts == 2 ? "layers/gradient/net-replicas-agree"
                             : "layers/gradient/net-parts-agree",
                  at == nwhole && diff <= 1e-5 * scale, "gradients differ by %.3g (largest %.3g)",
                  diff, scale);
        net_free(&nt);
    }
    omp_set_num_threads(threads);
    free(whole);
}

/* A grouped and depthwise network's gradients by finite differences, on
   every backend that runs its layers: groups, depthwise with a channel
   multiplier, Keras' same with stride 2, padding per side, dilation and
   stride per axis, each through the trainer's conv layer. */
static void test_net_gradients_grouped(void)
{
    if (!check_selected("layers/gradient/grouped")) return;
    static const char *spec = "input 7 6 4\n"
                              "conv2d 4 3x3 pad=same groups=2 relu\n"
                              "dwconv2d 3x3 stride=2 pad=same multiplier=2 relu\n"
                              "conv2d 6 1x1 pad=0,1,1,0 groups=2\n"
                              "dwconv2d 2x2 stride=2x1 dilation=2 relu\n"
                              "flatten\ndense 5 softmax\n";
    static const uint8_t labels[3] = { 3, 0, 2 };
    const int threads = omp_get_max_threads();
    omp_set_num_threads(1);
    for (const conv_backend *const *b = conv_backends(); *b; b++) {
        net nt;
        char err[256] = "", name[128];
        snprintf(name, sizeof name, "layers/gradient/grouped-%s", (*b)->name);
        if (!check_selected(name)) continue;
        int ok = !net_parse_string(&nt, spec, "grouped.net", err, sizeof err) &&
                 !net_set_backends(&nt, NULL, (*b)->name, err, sizeof err);
        ok = ok && !net_init(&nt, 3, 11, err, sizeof err);
        if (!ok && strstr(err, "cannot run it")) {
            check_skip(name, err);
        } else if (check(name, ok, "%s", err)) {
            check_rng g = { 13 };
            check_fill(&g, nt.act[0], 3 * 7 * 6 * 4);
            float probs[3 * 5];
            int correct;
            net_forward(&nt, 3, err, sizeof err);
            softmax_xent(nt.act[nt.nlayers], labels, 3, 5, probs, nt.grad[nt.nlayers], &correct);
            net_backward(&nt, 3);
            net_ctx c = { &nt, labels, 3 };
            for (int i = 0; i < nt.nlayers; i++) {
                layer *l = &nt.layers[i];
                param *ps[] = { &l->weight, &l->bias };
                for (int j = 0; j < 2; j++) {
                    if (!ps[j]->n) continue;
                    snprintf(name, sizeof name, "layers/gradient/grouped-%s-%s-%s", (*b)->name,
                             l->name, j ? "bias" : "weight");
                    double e = fd_error(net_loss_f, &c, ps[j]->w, ps[j]->g, ps[j]->n, 2e-3f, 24);
                    check(name, e < 2e-2, "relative error %.3g", e);
                }
            }
        }
        net_free(&nt);
    }
    omp_set_num_threads(threads);
}

/* A batch smaller than the replica count leaves replicas without images
   (here replica 0, with 1 image over 2 replicas): they must add nothing,
   and the parameters' gradients must still be the batch's alone. Compared
   with one replica, after a full batch has filled every gradient buffer. */
static void test_net_replicas_short_batch(void)
{
    if (!check_selected("layers/replicas-short-batch")) return;
    static const char *spec =
        "input 6 6 1\nconv2d 3 3x3 relu\nmaxpool 2\nflatten\ndense 4 softmax\n";
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
        for (int n = 3; ok && n >= 1; n -= 2) { /* a full batch, then one image */
            check_rng g = { 9 };
            check_fill(&g, nt[k].act[0], (size_t)n * 36);
            float probs[3 * 4];
            int correct;
            ok = !net_forward(&nt[k], n, err, sizeof err);
            softmax_xent(nt[k].act[nt[k].nlayers], labels, n, 4, probs, nt[k].grad[nt[k].nlayers],
                         &correct);
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
    check("layers/replicas-short-batch", ok && nt[1].nrep == 2 && scale > 0 && diff <= 1e-6 * scale,
          "%s gradients differ by %.3g (largest %.3g)", err, diff, scale);
    net_free(&nt[0]);
    net_free(&nt[1]);
    omp_set_num_threads(threads);
}

void test_layers(void)
{
    test_maxpool_reference();
    test_layer_gradients();
    test_net_gradients();
    test_net_gradients_grouped();
    test_net_replicas_short_batch();
}
