/* Benchmark layer sets and benchmark cases (see shapes.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cpu.h"
#include "results.h"
#include "shapes.h"

/* n, h, w, c, k, r, s, stride, pad */
static const bench_layer layers[] = {
    /* the seed network (models/seed_cnn.net) at its batch 32 and at 64 */
    { "seed", "conv1", { 32, 28, 28, 1, 32, 3, 3, 1, 0 } },
    { "seed", "conv2", { 32, 13, 13, 32, 64, 3, 3, 1, 0 } },
    { "seed", "conv3", { 32, 5, 5, 64, 64, 3, 3, 1, 0 } },
    { "seed", "conv1", { 64, 28, 28, 1, 32, 3, 3, 1, 0 } },
    { "seed", "conv2", { 64, 13, 13, 32, 64, 3, 3, 1, 0 } },
    { "seed", "conv3", { 64, 5, 5, 64, 64, 3, 3, 1, 0 } },
    /* ResNet-50: the 3x3 of each stage, stage 2's 1x1 reduce and expand, the stem */
    { "resnet", "3x3_56", { 8, 56, 56, 64, 64, 3, 3, 1, 1 } },
    { "resnet", "3x3_28", { 8, 28, 28, 128, 128, 3, 3, 1, 1 } },
    { "resnet", "3x3_14", { 8, 14, 14, 256, 256, 3, 3, 1, 1 } },
    { "resnet", "3x3_7", { 8, 7, 7, 512, 512, 3, 3, 1, 1 } },
    { "resnet", "1x1_reduce", { 8, 56, 56, 256, 64, 1, 1, 1, 0 } },
    { "resnet", "1x1_expand", { 8, 56, 56, 64, 256, 1, 1, 1, 0 } },
    { "resnet", "stem", { 8, 224, 224, 3, 64, 7, 7, 2, 3 } },
    /* VGG-16: conv3_2 (wide image) and conv5_2 (deep channels) */
    { "vgg", "conv3_2", { 8, 56, 56, 256, 256, 3, 3, 1, 1 } },
    { "vgg", "conv5_2", { 8, 14, 14, 512, 512, 3, 3, 1, 1 } },
    { NULL, NULL, { 0, 0, 0, 0, 0, 0, 0, 0, 0 } },
};

static const char *const sets[] = { "seed", "resnet", "vgg", NULL };

const bench_layer *shapes_all(void) { return layers; }
const char *const *shapes_sets(void) { return sets; }

static int set_index(const char *name, size_t len)
{
    for (int i = 0; sets[i]; i++)
        if (strlen(sets[i]) == len && !strncmp(sets[i], name, len)) return i;
    return -1;
}

int shapes_set_known(const char *set) { return set && set_index(set, strlen(set)) >= 0; }

int shapes_parse_sets(const char *list, char *err, size_t errlen)
{
    int mask = 0;
    for (const char *p = list; p && *p;) {
        size_t len = strcspn(p, ",");
        if (len) {
            if (!strncmp(p, "all", len) && len == 3) {
                mask |= (1 << (sizeof sets / sizeof *sets - 1)) - 1;
            } else {
                int i = set_index(p, len);
                if (i < 0) {
                    snprintf(err, errlen, "unknown set '%.*s' (sets: seed, resnet, vgg, all)",
                             (int)len, p);
                    return -1;
                }
                mask |= 1 << i;
            }
        }
        p += len + (p[len] == ',');
    }
    if (!mask) {
        snprintf(err, errlen, "no set given (sets: seed, resnet, vgg, all)");
        return -1;
    }
    return mask;
}

int shapes_in_sets(const bench_layer *l, int mask)
{
    int i = set_index(l->set, strlen(l->set));
    return i >= 0 && (mask >> i & 1);
}

void shapes_case_name(char *buf, size_t len, const bench_layer *l, const char *backend,
                      conv_pass pass)
{
    snprintf(buf, len, "%s/%s/b%d/%s/%s", l->set, l->layer, l->shape.n, backend,
             conv_pass_name(pass));
}

int shapes_parse_case_name(const char *name, const bench_layer **l, char *backend,
                           size_t backend_len, conv_pass *pass)
{
    char set[32], layer[64], be[64], ps[32], tail;
    int n;
    if (sscanf(name, "%31[^/]/%63[^/]/b%d/%63[^/]/%31[^/]%c", set, layer, &n, be, ps, &tail) != 5)
        return -1;
    int p = results_pass_parse(ps);
    if (p < 0) return -1;
    for (const bench_layer *x = layers; x->set; x++) {
        if (strcmp(x->set, set) || strcmp(x->layer, layer) || x->shape.n != n) continue;
        *l = x;
        snprintf(backend, backend_len, "%s", be);
        *pass = (conv_pass)p;
        return 0;
    }
    return -1;
}

/* ---- cases ------------------------------------------------------------- */

struct bench_case {
    const conv_backend *b;
    conv_plan *plan;
    conv_pass pass;
    float *x, *w, *bias, *y;     /* y doubles as dy; x as dx; w as dw */
    float *out_x, *out_w, *out_b;
};

static size_t elems(int a, int b, int c, int d) { return (size_t)a * b * c * d; }

static float *random_buffer(size_t n, unsigned long long *state)
{
    float *a = cpu_alloc(n * sizeof(float));
    for (size_t i = 0; a && i < n; i++) {
        *state = *state * 6364136223846793005ULL + 1442695040888963407ULL;
        a[i] = (float)((*state >> 40) * (1.0 / 16777216.0)) * 2.0f - 1.0f;
    }
    return a;
}

bench_case *bench_case_new(const conv_backend *b, const conv_shape *s, conv_pass pass,
                           const char **why)
{
    const char *no = b->unsupported(s);
    if (no) {
        if (why) *why = no;
        return NULL;
    }
    bench_case *c = calloc(1, sizeof *c);
    if (!c) {
        if (why) *why = "out of memory";
        return NULL;
    }
    c->b = b;
    c->pass = pass;
    size_t nx = elems(s->n, s->h, s->w, s->c), ny = elems(s->n, conv_out_h(s), conv_out_w(s), s->k),
           nw = elems(s->r, s->s, s->c, s->k);
    unsigned long long seed = 42;
    c->x = random_buffer(nx, &seed);
    c->w = random_buffer(nw, &seed);
    c->bias = random_buffer((size_t)s->k, &seed);
    c->y = random_buffer(ny, &seed);
    c->out_x = cpu_alloc(nx * sizeof(float));
    c->out_w = cpu_alloc(nw * sizeof(float));
    c->out_b = cpu_alloc((size_t)s->k * sizeof(float));
    if (!c->x || !c->w || !c->bias || !c->y || !c->out_x || !c->out_w || !c->out_b) {
        if (why) *why = "out of memory for the tensors";
        bench_case_free(c);
        return NULL;
    }
    c->plan = b->plan(s);
    if (!c->plan) {
        if (why) *why = "plan() failed";
        bench_case_free(c);
        return NULL;
    }
    return c;
}

void bench_case_run(bench_case *c)
{
    switch (c->pass) {
    case CONV_FORWARD: c->b->forward(c->plan, c->x, c->w, c->bias, c->y); break;
    case CONV_BACKWARD_DATA: c->b->backward_data(c->plan, c->y, c->w, c->out_x); break;
    case CONV_BACKWARD_WEIGHTS:
        c->b->backward_weights(c->plan, c->x, c->y, c->out_w, c->out_b);
        break;
    }
}

const char *bench_case_impl(const bench_case *c)
{
    return c->b->impl ? c->b->impl(c->plan, c->pass) : NULL;
}

void bench_case_free(bench_case *c)
{
    if (!c) return;
    if (c->plan) c->b->destroy(c->plan);
    free(c->x); free(c->w); free(c->bias); free(c->y);
    free(c->out_x); free(c->out_w); free(c->out_b);
    free(c);
}
