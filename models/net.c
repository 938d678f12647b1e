/* The network's executor: backends per layer, parameter and activation
   memory, plans per replica, and the forward/backward sweep that calls
   each layer's function (layers.c) or the layer's conv backend (conv.h).
   The structure it runs comes from the spec parser (spec.c). */
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include "adam.h"
#include "error.h"
#include "layers.h"
#include "net.h"
#include "rng.h"
#include "run_limits.h"

/* ---- backends --------------------------------------------------------- */

int net_set_backends(net *nt, const char *spec, const char *fallback, char *err, size_t len)
{
    const char *all = spec && *spec && !strchr(spec, '=') ? spec : fallback;
    const conv_backend *def = conv_backend_find(all);
    if (!def)
        return error_set(err, len, "unknown backend '%s' (convbench backends lists them)", all);
    for (int i = 0; i < nt->nlayers; i++)
        for (int p = 0; p < 3; p++) nt->layers[i].backend[p] = def;
    if (all == spec || !spec || !*spec) return 0;
    char *copy = strdup(spec), *save = NULL;
    int rc = 0;
    if (!copy) return error_set(err, len, "out of memory");
    for (char *item = strtok_r(copy, ",", &save); item && !rc; item = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(item, '=');
        if (!eq) {
            rc = error_set(err, len, "backend list item '%s' is not LAYER=NAME", item);
            break;
        }
        *eq = 0;
        const conv_backend *b = conv_backend_find(eq + 1);
        if (!b) {
            rc = error_set(err, len, "unknown backend '%s' for %s (convbench backends lists them)",
                           eq + 1, item);
            break;
        }
        int found = 0;
        for (int i = 0; i < nt->nlayers; i++)
            if (nt->layers[i].kind == LAYER_CONV && !strcmp(nt->layers[i].name, item)) {
                for (int p = 0; p < 3; p++) nt->layers[i].backend[p] = b;
                found = 1;
            }
        if (!found) rc = error_set(err, len, "no conv layer named '%s' in the network", item);
    }
    free(copy);
    return rc;
}

/* ---- memory and plans ------------------------------------------------- */

static float *falloc(size_t n)
{
    size_t bytes = (n * sizeof(float) + 63) & ~(size_t)63;
    float *p = aligned_alloc(64, bytes ? bytes : 64);
    if (p) memset(p, 0, bytes);
    return p;
}

static int param_alloc(param *p, size_t n)
{
    p->n = n;
    p->w = falloc(n);
    p->g = falloc(n);
    p->m = falloc(n);
    p->v = falloc(n);
    return p->w && p->g && p->m && p->v ? 0 : -1;
}

static void param_free(param *p)
{
    free(p->w);
    free(p->g);
    free(p->m);
    free(p->v);
    memset(p, 0, sizeof *p);
}

void net_set_pass_backend(net *nt, int li, conv_pass pass, const conv_backend *b)
{
    nt->layers[li].backend[pass] = b;
}

void net_backend_names(const net *nt, char *buf, size_t len)
{
    const conv_backend *first = NULL;
    int same = 1;
    for (int i = 0; i < nt->nlayers; i++) {
        const layer *l = &nt->layers[i];
        if (l->kind != LAYER_CONV) continue;
        if (!first) first = l->backend[0];
        for (int p = 0; p < 3; p++) same &= l->backend[p] == first;
    }
    buf[0] = 0;
    if (same) {
        snprintf(buf, len, "%s", first ? first->name : "none");
        return;
    }
    for (int i = 0; i < nt->nlayers; i++) {
        const layer *l = &nt->layers[i];
        if (l->kind != LAYER_CONV) continue;
        size_t used = strlen(buf);
        if (l->backend[0] == l->backend[1] && l->backend[0] == l->backend[2])
            snprintf(buf + used, len - used, "%s%s=%s", used ? "," : "", l->name,
                     l->backend[0]->name);
        else
            snprintf(buf + used, len - used, "%s%s=%s/%s/%s", used ? "," : "", l->name,
                     l->backend[0]->name, l->backend[1]->name, l->backend[2]->name);
    }
}

/* The plan of pass p in a slot is shared with an earlier pass of the same
   backend; only the first owner destroys it. */
static int plan_owner(const layer *l, int p)
{
    for (int q = 0; q < p; q++)
        if (l->backend[q] == l->backend[p]) return 0;
    return 1;
}

static void destroy_slot(const layer *l, conv_plan *plan[3][NET_MAX_PLANS], int slot)
{
    for (int p = 0; p < 3; p++) {
        if (plan[p][slot] && plan_owner(l, p)) l->backend[p]->destroy(plan[p][slot]);
    }
    for (int p = 0; p < 3; p++) plan[p][slot] = NULL;
}

/* The slot holding layer i's plans for batch n in replica r, made on first
   use (a new batch size is a new shape, as in FFTW); -1 with err if a
   backend cannot run the shape or fails to plan. */
static int layer_plan(net *nt, replica *r, int i, int n, char *err, size_t len)
{
    layer *l = &nt->layers[i];
    conv_plan *(*plan)[NET_MAX_PLANS] = r->plan[i];
    int *batch = r->plan_batch[i];
    for (int k = 0; k < NET_MAX_PLANS; k++)
        if (plan[0][k] && batch[k] == n) return k;
    conv_shape s;
    net_layer_shape(l, n, &s);
    for (int p = 0; p < 3; p++) {
        const char *why = l->backend[p]->unsupported(&s);
        if (why) {
            char shape[160];
            net_shape_describe(&s, shape, sizeof shape);
            return error_set(err, len, "%s (%s): backend %s cannot run it: %s", l->name, shape,
                             l->backend[p]->name, why);
        }
    }
    int slot = 0;
    while (slot < NET_MAX_PLANS - 1 && plan[0][slot]) slot++;
    destroy_slot(l, plan, slot);
    batch[slot] = n;
    for (int p = 0; p < 3; p++) {
        for (int q = 0; q < p && !plan[p][slot]; q++)
            if (l->backend[q] == l->backend[p]) plan[p][slot] = plan[q][slot];
        if (!plan[p][slot] && !(plan[p][slot] = l->backend[p]->plan(&s))) {
            destroy_slot(l, plan, slot);
            return error_set(err, len, "%s: backend %s failed to plan batch %d", l->name,
                             l->backend[p]->name, n);
        }
    }
    return slot;
}

/* Images [lo, hi) of a batch of n: replica r's slice. */
static void slice(int n, int nrep, int r, int *lo, int *hi)
{
    *lo = (int)((long long)n * r / nrep);
    *hi = (int)((long long)n * (r + 1) / nrep);
}

int net_replicas(const net *nt, int n)
{
    int r = omp_get_max_threads();
    if (nt->replicas_max > 0 && nt->replicas_max < r) r = nt->replicas_max;
    if (r > NET_MAX_REPLICAS) r = NET_MAX_REPLICAS;
    if (r > n) r = n;
    return r < 1 ? 1 : r;
}

/* Runs job(nt, r, lo, hi) for every replica with images [lo, hi), each on a
   thread of its own with one thread below it; with one replica, on the
   calling thread with the team below it. Then, with several replicas, the
   same team runs then(nt, n) after a barrier (a worksharing step over what
   every replica has made). Returns the first replica error. */
typedef int replica_job(net *nt, int r, int lo, int hi);
typedef void team_step(net *nt, int n);

static int for_replicas(net *nt, int n, replica_job *job, team_step *then, char *err, size_t len)
{
    if (nt->nrep == 1) return job(nt, 0, 0, n) ? error_set(err, len, "%s", nt->rep[0].err) : 0;
#pragma omp parallel num_threads(nt->nrep)
    {
        const int r = omp_get_thread_num();
        int lo, hi;
        omp_set_num_threads(1); /* this thread's ICV: its kernels run alone */
        slice(n, nt->nrep, r, &lo, &hi);
        nt->rep[r].rc = hi > lo ? job(nt, r, lo, hi) : 0;
        if (then) {
#pragma omp barrier
            then(nt, n);
        }
    }
    for (int r = 0; r < nt->nrep; r++)
        if (nt->rep[r].rc) return error_set(err, len, "%s", nt->rep[r].err);
    return 0;
}

static int plan_job(net *nt, int r, int lo, int hi)
{
    replica *rp = &nt->rep[r];
    for (int i = 0; i < nt->nlayers; i++)
        if (nt->layers[i].kind == LAYER_CONV &&
            layer_plan(nt, rp, i, net_layer_batch(nt, i, nt->max_batch), rp->err, sizeof rp->err) <
                0)
            return -1;
    (void)lo;
    (void)hi;
    return 0;
}

/* Weights and biases of one layer. */
static size_t layer_params(const layer *l)
{
    const int g = l->groups ? l->groups : 1;
    return l->kind == LAYER_CONV    ? (size_t)l->kh * l->kw * (l->ic / g) * l->oc + l->oc
           : l->kind == LAYER_DENSE ? (size_t)l->ih * l->iw * l->ic * l->oc + l->oc
                                    : 0;
}

double net_memory_bytes(const net *nt, int max_batch)
{
    double params = 0, image = (double)nt->in_h * nt->in_w * nt->in_c; /* act[0] */
    for (int i = 0; i < nt->nlayers; i++) {
        const layer *l = &nt->layers[i];
        const double in = (double)l->ih * l->iw * l->ic, out = (double)l->oh * l->ow * l->oc;
        if (l->kind == LAYER_FLATTEN) continue;
        image += out + (i > 0 ? in : 0) + (l->kind == LAYER_MAXPOOL ? out : 0);
        params += (double)layer_params(l);
    }
    /* value, gradient, two moments; a weight gradient per further replica */
    return sizeof(float) * (params * (4 + net_replicas(nt, max_batch)) + image * max_batch);
}

int net_init(net *nt, int max_batch, uint64_t seed, char *err, size_t len)
{
    if (max_batch < 1) return error_set(err, len, "batch must be >= 1");
    char what[64];
    snprintf(what, sizeof what, "the network at batch %d", max_batch);
    if (limits_memory_check(net_memory_bytes(nt, max_batch), what, err, len)) return -1;
    nt->max_batch = max_batch;
    rng g = { seed };
    size_t in = (size_t)nt->in_h * nt->in_w * nt->in_c;
    if (!(nt->act[0] = falloc(in * max_batch))) return error_set(err, len, "out of memory");
    for (int i = 0; i < nt->nlayers; i++) {
        layer *l = &nt->layers[i];
        size_t out = (size_t)l->oh * l->ow * l->oc, fan_in = 0, fan_out = 0;
        l->need_dx = i > 0;
        if (l->kind == LAYER_FLATTEN) { /* NHWC flattens in place */
            nt->act[i + 1] = nt->act[i];
            continue;
        }
        if (!(nt->act[i + 1] = falloc(out * max_batch)) ||
            (i > 0 && !(nt->grad[i] = falloc((size_t)l->ih * l->iw * l->ic * max_batch))))
            return error_set(err, len, "out of memory");
        if (l->kind == LAYER_MAXPOOL) {
            if (!(l->pos = malloc(sizeof(int32_t) * out * max_batch)))
                return error_set(err, len, "out of memory");
            continue;
        }
        if (l->kind == LAYER_CONV) {
            /* Glorot's fans are the connections: an output sees r*s*(c/g)
               inputs, an input reaches r*s*(k/g) outputs (g = 1: Keras').
               Keras counts r*s*k out for a grouped Conv2D, r*s*c in for a
               DepthwiseConv2D: for a 3x3 depthwise layer of 32 channels the
               activations' variance then shrinks ~16x per layer in a net
               without batch norm, and the MobileNet-style spec stalled */
            const int groups = l->groups ? l->groups : 1;
            fan_in = (size_t)l->kh * l->kw * (l->ic / groups);
            fan_out = (size_t)l->kh * l->kw * (l->oc / groups);
        } else {
            fan_in = (size_t)l->ih * l->iw * l->ic;
            fan_out = (size_t)l->oc;
        }
        if (param_alloc(&l->weight, fan_in * l->oc) || param_alloc(&l->bias, (size_t)l->oc))
            return error_set(err, len, "out of memory");
        const float limit = (float)sqrt(6.0 / (double)(fan_in + fan_out));
        for (size_t j = 0; j < l->weight.n; j++) l->weight.w[j] = rng_uniform(&g, -limit, limit);
    }
    /* a flatten's input gradient is its output gradient, owned by the next layer */
    for (int i = nt->nlayers - 1; i >= 0; i--)
        if (nt->layers[i].kind == LAYER_FLATTEN) nt->grad[i] = nt->grad[i + 1];
    size_t last = (size_t)nt->classes * max_batch;
    if (!(nt->grad[nt->nlayers] = falloc(last))) return error_set(err, len, "out of memory");
    for (int i = 0; i < nt->nlayers; i++) { /* set here, before the replicas plan */
        layer *l = &nt->layers[i];
        if (l->kind == LAYER_CONV && !l->need_dx)
            l->backend[CONV_BACKWARD_DATA] = l->backend[CONV_FORWARD]; /* never runs */
    }
    nt->nrep = net_replicas(nt, max_batch);
    if (!(nt->rep = calloc((size_t)nt->nrep, sizeof *nt->rep)))
        return error_set(err, len, "out of memory");
    const size_t slice_max = ((size_t)max_batch + nt->nrep - 1) / nt->nrep;
    size_t dense_ws = 0;
    for (int i = 0; i < nt->nlayers; i++) {
        const layer *l = &nt->layers[i];
        const size_t need = slice_max * ((size_t)l->ih * l->iw * l->ic + l->oc);
        if (l->kind == LAYER_DENSE && need > dense_ws) dense_ws = need;
    }
    for (int r = 0; dense_ws && r < nt->nrep; r++)
        if (!(nt->rep[r].dense_ws = falloc(dense_ws))) return error_set(err, len, "out of memory");
    for (int r = 0; r < nt->nrep; r++)
        for (int i = 0; i < nt->nlayers; i++) {
            const layer *l = &nt->layers[i];
            const size_t np = l->weight.n + l->bias.n;
            if (!np) continue;
            if ((r > 0 && !(nt->rep[r].grad[i] = falloc(np))) ||
                (i < nt->prefix && !(nt->rep[r].gpart[i] = falloc(np))))
                return error_set(err, len, "out of memory");
        }
    return for_replicas(nt, max_batch, plan_job, NULL, err, len);
}

void net_free(net *nt)
{
    for (int r = 0; nt->rep && r < nt->nrep; r++)
        for (int i = 0; i < nt->nlayers; i++) {
            for (int j = 0; j < NET_MAX_PLANS; j++)
                destroy_slot(&nt->layers[i], nt->rep[r].plan[i], j);
            free(nt->rep[r].grad[i]);
            free(nt->rep[r].gpart[i]);
        }
    for (int r = 0; nt->rep && r < nt->nrep; r++) free(nt->rep[r].dense_ws);
    free(nt->rep);
    nt->rep = NULL;
    nt->nrep = 0;
    for (int i = 0; i < nt->nlayers; i++) {
        layer *l = &nt->layers[i];
        param_free(&l->weight);
        param_free(&l->bias);
        free(l->pos);
        if (l->kind != LAYER_FLATTEN) {
            free(nt->act[i + 1]);
            free(nt->grad[i]);
        }
        l->pos = NULL;
    }
    free(nt->act[0]);
    free(nt->grad[nt->nlayers]);
    memset(nt->act, 0, sizeof nt->act);
    memset(nt->grad, 0, sizeof nt->grad);
}

size_t net_param_count(const net *nt)
{
    size_t n = 0;
    for (int i = 0; i < nt->nlayers; i++) n += layer_params(&nt->layers[i]);
    return n;
}

void net_summary(const net *nt, FILE *f)
{
    static const char *const kinds[] = { "Conv2D", "MaxPooling2D", "Flatten", "Dense" };
    /* names as wide as "conv10 (DepthwiseConv2D)" */
    fprintf(f, "%-24s %-20s %10s   %s\n", "Layer (type)", "Output Shape", "Param #", "backend");
    fprintf(f, "%.*s\n", 74,
            "==========================================================================");
    for (int i = 0; i < nt->nlayers; i++) {
        const layer *l = &nt->layers[i];
        char name[40], shape[40];
        const int depthwise = l->kind == LAYER_CONV && l->groups > 1 && l->groups == l->ic;
        snprintf(name, sizeof name, "%s (%s)", l->name,
                 depthwise ? "DepthwiseConv2D" : kinds[l->kind]);
        if (l->kind == LAYER_FLATTEN || l->kind == LAYER_DENSE)
            snprintf(shape, sizeof shape, "(None, %d)", l->oc);
        else
            snprintf(shape, sizeof shape, "(None, %d, %d, %d)", l->oh, l->ow, l->oc);
        const size_t params = layer_params(l);
        char be[64] = "";
        if (l->kind == LAYER_CONV && l->backend[0] == l->backend[1] &&
            l->backend[0] == l->backend[2])
            snprintf(be, sizeof be, "%s", l->backend[0]->name);
        else if (l->kind == LAYER_CONV)
            snprintf(be, sizeof be, "%s/%s/%s", l->backend[0]->name, l->backend[1]->name,
                     l->backend[2]->name);
        fprintf(f, "%-24s %-20s %10zu   %s\n", name, shape, params, be);
    }
    fprintf(f, "%.*s\n", 74,
            "==========================================================================");
    fprintf(f, "Total params: %zu\n", net_param_count(nt));
}

/* ---- forward and backward --------------------------------------------- */

/* Whether max-pool layer i folds the ReLU of the layer below into its
   winners' positions (forward), so that backward skips that ReLU's own. */
static int pool_folds_relu(const net *nt, int i)
{
    return i > 0 && nt->layers[i - 1].act == ACT_RELU;
}

/* Layer i forward over images [i0, i0 + n) of the batch, in replica r,
   whose slice starts at image base. */
static int forward_layer(net *nt, int r, int i, int n, size_t i0, size_t base)
{
    layer *l = &nt->layers[i];
    replica *rp = &nt->rep[r];
    const size_t in = (size_t)l->ih * l->iw * l->ic, per = (size_t)l->oh * l->ow * l->oc;
    /* a part-local activation (see part_local) is kept at the start of the
       replica's slice of its buffer for every part, where it is still in cache */
    const float *x = nt->act[i] + (i > 0 && nt->part_local[i - 1] ? base : i0) * in;
    float *y = nt->act[i + 1] + (nt->part_local[i] ? base : i0) * per;
    const size_t out = (size_t)n * per;
    switch (l->kind) {
    case LAYER_CONV: {
        int slot = layer_plan(nt, rp, i, n, rp->err, sizeof rp->err);
        if (slot < 0) return -1;
        const conv_backend *be = l->backend[CONV_FORWARD];
        if (l->act == ACT_RELU && be->forward_relu) {
            be->forward_relu(rp->plan[i][CONV_FORWARD][slot], x, l->weight.w, l->bias.w, y);
            return 0; /* ReLU done in the epilogue */
        }
        be->forward(rp->plan[i][CONV_FORWARD][slot], x, l->weight.w, l->bias.w, y);
        break;
    }
    case LAYER_MAXPOOL:
        maxpool_forward(x, n, l->ih, l->iw, l->ic, l->pool, pool_folds_relu(nt, i), y,
                        l->pos + i0 * per);
        break;
    case LAYER_FLATTEN: break;
    case LAYER_DENSE:
        dense_forward(x, l->weight.w, l->bias.w, n, (int)in, l->oc, l->act == ACT_RELU, y);
        return 0; /* ReLU done in the epilogue */
    }
    if (l->act == ACT_RELU) relu_forward(y, out);
    return 0;
}

/* The threads below one replica: all of them with one replica, else one. */
static int replica_threads(const net *nt, int n)
{
    return net_replicas(nt, n) > 1 ? 1 : omp_get_max_threads();
}

/* The leading layers (convolutions up to the first max-pool) run a part of
   the slice at a time when their activations are large: the part's output
   is still in L2 when the next layer reads it (and, backwards, the pool's
   input gradient when the convolution reads it). Parts double until each
   thread's share of the largest activation fits half of L2 (the seed at
   batch 32: 4 parts of 8 images on 1 thread, 2 of 8 per replica on 2;
   measured 3% faster steps on 1 thread). */
static int prefix_parts(const net *nt, int n, int threads)
{
    if (!nt->prefix) return 1;
    const double budget = (double)nt->l2_bytes / 2 * threads;
    int parts = 1;
    while (parts < n && (double)n / parts * nt->prefix_bytes > budget) parts *= 2;
    return parts < n ? parts : n;
}

int net_layer_batch(const net *nt, int li, int n)
{
    const int nrep = net_replicas(nt, n), per = (n + nrep - 1) / nrep;
    const int parts = li < nt->prefix ? prefix_parts(nt, per, replica_threads(nt, n)) : 1;
    return (per + parts - 1) / parts;
}

static void profile_add(net *nt, int r, int i, int p, double t0)
{
    if (nt->profile && r == 0) nt->prof_s[i][p] += omp_get_wtime() - t0;
}

/* Replica r's forward over images [lo, hi). */
static int forward_job(net *nt, int r, int lo, int hi)
{
    const int n = hi - lo, parts = prefix_parts(nt, n, omp_get_max_threads());
    for (int part = 0; part < (parts > 1 ? parts : 0); part++) {
        const int a = lo + n * part / parts, b = lo + n * (part + 1) / parts;
        for (int i = 0; i < nt->prefix; i++) {
            const double t0 = nt->profile ? omp_get_wtime() : 0;
            if (forward_layer(nt, r, i, b - a, (size_t)a, (size_t)lo)) return -1;
            profile_add(nt, r, i, CONV_FORWARD, t0);
        }
    }
    for (int i = parts > 1 ? nt->prefix : 0; i < nt->nlayers; i++) {
        const double t0 = nt->profile ? omp_get_wtime() : 0;
        if (forward_layer(nt, r, i, n, (size_t)lo, (size_t)lo)) return -1;
        profile_add(nt, r, i, CONV_FORWARD, t0);
    }
    return 0;
}

int net_forward(net *nt, int n, char *err, size_t len)
{
    if (n < 1 || n > nt->max_batch)
        return error_set(err, len, "batch %d outside 1..%d", n, nt->max_batch);
    return for_replicas(nt, n, forward_job, NULL, err, len);
}

/* Layer i backward over images [i0, i0 + n) in replica r (slice from image
   base); *relu_done carries a max-pool's folding of the ReLU mask of the
   layer below it. With accumulate, the weight gradients are added to the
   replica's (a later part of the slice). */
static void backward_layer(net *nt, int r, int i, int n, size_t i0, size_t base, int accumulate,
                           int *relu_done)
{
    layer *l = &nt->layers[i];
    replica *rp = &nt->rep[r];
    const size_t in = (size_t)l->ih * l->iw * l->ic, per = (size_t)l->oh * l->ow * l->oc;
    const size_t xo = (i > 0 && nt->part_local[i - 1] ? base : i0) * in;
    const size_t yo = (nt->part_local[i] ? base : i0) * per;
    const float *x = nt->act[i] + xo;
    float *dy = nt->grad[i + 1] + yo, *dx = l->need_dx ? nt->grad[i] + xo : NULL;
    /* the replica's weight and bias gradients: replica 0 writes the params' */
    float *gw = r ? rp->grad[i] : l->weight.g, *gb = r ? rp->grad[i] + l->weight.n : l->bias.g;
    double t0 = nt->profile ? omp_get_wtime() : 0, t1 = t0;
    if (l->act == ACT_RELU && !*relu_done) relu_backward(nt->act[i + 1] + yo, dy, (size_t)n * per);
    *relu_done = 0;
    switch (l->kind) {
    case LAYER_CONV: {
        int slot = 0;
        while (rp->plan_batch[i][slot] != n || !rp->plan[i][0][slot]) slot++; /* made by forward */
        float *dw = accumulate ? rp->gpart[i] : gw,
              *db = accumulate ? rp->gpart[i] + l->weight.n : gb;
        l->backend[CONV_BACKWARD_WEIGHTS]->backward_weights(
            rp->plan[i][CONV_BACKWARD_WEIGHTS][slot], x, dy, dw, db);
        if (accumulate) {
            for (size_t j = 0; j < l->weight.n; j++) gw[j] += dw[j];
            for (size_t j = 0; j < l->bias.n; j++) gb[j] += db[j];
        }
        if (nt->profile) t1 = omp_get_wtime();
        if (dx)
            l->backend[CONV_BACKWARD_DATA]->backward_data(rp->plan[i][CONV_BACKWARD_DATA][slot], dy,
                                                          l->weight.w, dx);
        break;
    }
    case LAYER_MAXPOOL:
        if (dx) {
            *relu_done = pool_folds_relu(nt, i);
            maxpool_backward(dy, l->pos + i0 * per, n, l->ih, l->iw, l->ic, l->pool, dx);
        }
        break;
    case LAYER_FLATTEN: break;
    case LAYER_DENSE:
        dense_backward_weights(x, dy, n, (int)in, l->oc, gw, gb);
        if (nt->profile) t1 = omp_get_wtime();
        if (dx) dense_backward_data(l->weight.w, dy, n, (int)in, l->oc, dx, rp->dense_ws);
        break;
    }
    if (nt->profile && r == 0) {
        /* time after the weight gradient is data gradient; none when dx is not needed */
        double t2 =
            dx || l->kind == LAYER_MAXPOOL || l->kind == LAYER_FLATTEN ? omp_get_wtime() : t1;
        nt->prof_s[i][CONV_BACKWARD_WEIGHTS] += t1 - t0;
        nt->prof_s[i][CONV_BACKWARD_DATA] += t2 - t1;
    }
}

/* Replica r's backward over images [lo, hi). */
static int backward_job(net *nt, int r, int lo, int hi)
{
    const int n = hi - lo, parts = prefix_parts(nt, n, omp_get_max_threads());
    const int first = parts > 1 ? nt->prefix : 0;
    int relu_done = 0;
    for (int i = nt->nlayers - 1; i >= first; i--)
        backward_layer(nt, r, i, n, (size_t)lo, (size_t)lo, 0, &relu_done);
    const int carried = relu_done;
    for (int part = 0; part < (parts > 1 ? parts : 0); part++) {
        const int a = lo + n * part / parts, b = lo + n * (part + 1) / parts;
        relu_done = carried;
        for (int i = nt->prefix - 1; i >= 0; i--)
            backward_layer(nt, r, i, b - a, (size_t)a, (size_t)lo, part > 0, &relu_done);
    }
    return 0;
}

/* param.g = the sum of the replicas' gradients, in replica order (the same
   sum for a given replica count, whatever the timing), run by the replicas'
   team once all are done; elements split as Adam's worksharing loops split
   them, so each thread's share is still in its cache when the optimizer
   reads it. A replica without images (a batch smaller than the team) wrote
   nothing and adds nothing. */
static void reduce_gradients(net *nt, int n)
{
    const double t0 = nt->profile ? omp_get_wtime() : 0;
    int use[NET_MAX_REPLICAS], nuse = 0, first = -1;
    for (int r = 0; r < nt->nrep; r++) {
        int lo, hi;
        slice(n, nt->nrep, r, &lo, &hi);
        if (hi == lo) continue;
        if (first < 0)
            first = r;
        else
            use[nuse++] = r;
    }
    if (first == 0 && !nuse) return; /* replica 0 alone wrote param.g */
    for (int i = 0; i < nt->nlayers; i++) {
        layer *l = &nt->layers[i];
        param *ps[2] = { &l->weight, &l->bias };
        for (int k = 0; k < 2; k++) {
            float *g = ps[k]->g;
            const size_t off = k ? l->weight.n : 0;
            const float *src0 = first ? nt->rep[first].grad[i] + off : g;
            const float *src1 = nuse ? nt->rep[use[0]].grad[i] + off : NULL;
            const long len = (long)ps[k]->n;
#pragma omp for schedule(static) nowait
            for (long j0 = 0; j0 < len; j0 += ADAM_CHUNK) {
                const long j1 = len - j0 < ADAM_CHUNK ? len : j0 + ADAM_CHUNK;
                /* replica by replica over the chunk (in L1): the same sum
                   as element by element over the replicas, but each pass a
                   plain vector loop (the element-wise loop over replicas
                   re-read the replicas' pointers and ran 3x slower) */
                if (src1) {
#pragma omp simd
                    for (long j = j0; j < j1; j++) g[j] = src0[j] + src1[j];
                } else /* one replica had images, not replica 0 */
                    memcpy(g + j0, src0 + j0, sizeof(float) * (size_t)(j1 - j0));
                for (int u = 1; u < nuse; u++) {
                    const float *src = nt->rep[use[u]].grad[i] + off;
#pragma omp simd
                    for (long j = j0; j < j1; j++) g[j] += src[j];
                }
            }
        }
    }
    if (nt->profile && omp_get_thread_num() == 0) nt->prof_reduce_s += omp_get_wtime() - t0;
}

void net_backward(net *nt, int n)
{
    char err[256];
    /* cannot fail: forward made the plans */
    for_replicas(nt, n, backward_job, reduce_gradients, err, sizeof err);
}
