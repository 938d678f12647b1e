/* One benchmark case's buffers and plan (see bench_case.h). */
#include <stdlib.h>
#include "bench_case.h"
#include "cpu.h"

struct bench_case {
    const conv_backend *b;
    conv_plan *plan;
    conv_pass pass;
    float *x, *w, *bias, *y; /* y doubles as dy; x as dx; w as dw */
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
    free(c->x);
    free(c->w);
    free(c->bias);
    free(c->y);
    free(c->out_x);
    free(c->out_w);
    free(c->out_b);
    free(c);
}
