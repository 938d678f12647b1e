/* convbench report: figures read from results files. Conv runs as table
   rows (with their arithmetic intensity), a machine's peaks and bandwidth
   roofs from its own machine file, training rows, number formatting.

   % of peak is always recomputed here from the machine's own machine file,
   never read from a run's stored pct_peak: a file written where another
   CPU's machine file lay (both machines named "vm") holds a percentage of
   the wrong peak. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "conv.h"
#include "median.h"
#include "report.h"
#include "shape_sets.h"

const char *fmt3(char *buf, size_t len, double v)
{
    if (!isfinite(v))
        snprintf(buf, len, "-");
    else if (fabs(v) >= 100)
        snprintf(buf, len, "%.0f", v);
    else if (fabs(v) >= 10)
        snprintf(buf, len, "%.1f", v);
    else
        snprintf(buf, len, "%.2f", v);
    return buf;
}

void size_text(double b, char *buf, size_t len)
{
    if (b >= 1 << 30)
        snprintf(buf, len, "%.1f GiB", b / (1 << 30));
    else if (b >= 1 << 20)
        snprintf(buf, len, "%.1f MiB", b / (1 << 20));
    else
        snprintf(buf, len, "%.0f KiB", b / 1024);
}

/* ---- conv runs ----------------------------------------------------------- */

static const char *const shape_keys[] = { "n", "h", "w", "c", "k", "r", "s", "stride", "pad" };

int crow_of(const cJSON *r, crow *c)
{
    if (!is_type(r, "conv")) return -1;
    const cJSON *sh = jobj(r, "shape");
    c->set = str_or(results_str(r, "set"), "shape");
    c->layer = str_or(results_str(r, "layer"), str_or(results_str(r, "name"), "?"));
    c->pass = str_or(results_str(r, "pass"), "?");
    c->backend = str_or(results_str(r, "backend"), "?");
    c->impl = results_str(r, "impl");
    c->shape = sh;
    c->n = (int)results_num(sh, "n");
    c->threads = (int)results_num(r, "threads");
    c->gflops = results_num(r, "gflops");
    double n = results_num(sh, "n"), h = results_num(sh, "h"), w = results_num(sh, "w"),
           ch = results_num(sh, "c"), k = results_num(sh, "k"), rr = results_num(sh, "r"),
           s = results_num(sh, "s"), st = results_num(sh, "stride"), pad = results_num(sh, "pad");
    double p = floor((h + 2 * pad - rr) / st) + 1, q = floor((w + 2 * pad - s) / st) + 1;
    c->flops = 2 * n * k * ch * rr * s * p * q;
    c->ai = c->flops / (4 * (n * h * w * ch + rr * s * ch * k + n * p * q * k));
    return 0;
}

int crow_same_case(const crow *a, const crow *b)
{
    if (a->threads != b->threads || strcmp(a->pass, b->pass) || strcmp(a->backend, b->backend))
        return 0;
    for (size_t i = 0; i < sizeof shape_keys / sizeof *shape_keys; i++)
        if (results_num(a->shape, shape_keys[i]) != results_num(b->shape, shape_keys[i])) return 0;
    return 1;
}

int is_onednn(const char *b) { return !strncmp(b, "onednn", 6); }
int is_winograd(const char *b) { return strstr(b, "winograd") != NULL; }

const char *short_pass(const char *p)
{
    return !strcmp(p, "forward")            ? "fwd"
           : !strcmp(p, "backward_data")    ? "bwd-data"
           : !strcmp(p, "backward_weights") ? "bwd-weights"
                                            : p;
}

/* Backends in registry order (unknown names after), ours first. */
int backend_rank(const char *name)
{
    int i = 0;
    for (const conv_backend *const *b = conv_backends(); *b; b++, i++)
        if (!strcmp((*b)->name, name)) return i;
    return 1000;
}

int backend_list(const cJSON *runs, const char **out, int max)
{
    int n = 0;
    for (int ours = 1; ours >= 0; ours--) {
        int first = n;
        const cJSON *r;
        cJSON_ArrayForEach(r, runs)
        {
            crow c;
            if (crow_of(r, &c) || is_onednn(c.backend) == ours) continue;
            int k = 0;
            while (k < n && strcmp(out[k], c.backend)) k++;
            if (k == n && n < max) out[n++] = c.backend;
        }
        for (int i = first + 1; i < n; i++) /* insertion sort by rank, stable */
            for (int j = i; j > first && backend_rank(out[j]) < backend_rank(out[j - 1]); j--) {
                const char *t = out[j];
                out[j] = out[j - 1];
                out[j - 1] = t;
            }
    }
    return n;
}

int layer_rank(const crow *c, const char *const *layers, int nl)
{
    /* the built-in sets' order; without their files, the order seen */
    static shape_list builtin;
    static int loaded;
    if (!loaded) {
        char err[512];
        loaded = 1;
        if (shapes_load_sets("all", &builtin, err, sizeof err)) shape_list_free(&builtin);
    }
    for (int i = 0; i < builtin.n; i++)
        if (!strcmp(builtin.v[i].set, c->set) && !strcmp(builtin.v[i].layer, c->layer)) return i;
    int k = 0;
    while (k < nl && strcmp(layers[k], c->layer)) k++;
    return 1000 + k;
}

int file_threads(const rfile *f)
{
    const cJSON *r;
    cJSON_ArrayForEach(r, runs_of(f)) if (is_type(r, "conv")) return (int)results_num(r, "threads");
    return 0;
}

const char *file_isa(const rfile *f)
{
    return str_or(results_str(jobj(f->doc, "context"), "isa"), "?");
}

/* ---- the machine file ---------------------------------------------------- */

double machine_peak(const report_machine *m, const char *isa, int threads)
{
    const cJSON *r;
    if (m && m->machine)
        cJSON_ArrayForEach(r, runs_of(m->machine)) if (is_type(r, "peak") &&
                                                       results_num(r, "threads") == threads &&
                                                       results_str(r, "isa") &&
                                                       !strcmp(results_str(r, "isa"),
                                                               isa)) return results_num(r,
                                                                                        "gflops");
    return NAN;
}

double own_pct(const report_machine *m, const rfile *f, const crow *c)
{
    double peak = machine_peak(m, file_isa(f), c->threads);
    return isfinite(peak) && peak > 0 ? 100 * c->gflops / peak : NAN;
}

void no_peak_reason(const report_machine *m, const char *isa, int threads, char *buf, size_t len)
{
    if (!m->machine)
        snprintf(buf, len, "no machine file");
    else
        snprintf(buf, len, "no %s peak at %d thread%s in the machine file", isa, threads,
                 threads > 1 ? "s" : "");
}

int compute_roofs(const report_machine *m, int threads, roof *out, int max)
{
    int n = 0;
    const cJSON *r;
    if (!m->machine) return 0;
    cJSON_ArrayForEach(r, runs_of(m->machine))
    {
        const char *isa = results_str(r, "isa");
        double g = results_num(r, "gflops");
        if (!is_type(r, "peak") || !isa || results_num(r, "threads") != threads || !(g > 0))
            continue;
        int k = 0;
        while (k < n && strcmp(out[k].name, isa)) k++;
        if (k == n && n < max)
            snprintf(out[n].name, sizeof out[n].name, "%s", isa), out[n++].value = 0;
        if (k < n && g > out[k].value) out[k].value = g, out[k].threads = threads;
    }
    for (int i = 1; i < n; i++) /* highest first */
        for (int j = i; j > 0 && out[j].value > out[j - 1].value; j--) {
            roof t = out[j];
            out[j] = out[j - 1];
            out[j - 1] = t;
        }
    return n;
}

/* The best figure of runs of this type (and level) at threads, else at the
   nearest thread count; sets *at to the thread count used. */
static double bandwidth_at(const rfile *mf, const char *type, const char *level, int threads,
                           int *at)
{
    double best = NAN;
    int best_t = 0;
    const cJSON *r;
    cJSON_ArrayForEach(r, runs_of(mf))
    {
        const char *lv = results_str(r, "level");
        double g = results_num(r, "gbs");
        int t = (int)results_num(r, "threads");
        if (!is_type(r, type) || (level && (!lv || strcmp(lv, level))) || !(g > 0)) continue;
        int closer = !best_t || abs(t - threads) < abs(best_t - threads) ||
                     (abs(t - threads) == abs(best_t - threads) && t > best_t);
        if (closer)
            best = g, best_t = t;
        else if (t == best_t && g > best)
            best = g;
    }
    *at = best_t;
    return best;
}

int bandwidth_roofs(const report_machine *m, int threads, roof *out, int max)
{
    static const char *const levels[] = { "L1", "L2", "L3", "memory" };
    int n = 0;
    if (!m->machine) return 0;
    for (int i = 0; i < 4 && n < max; i++) {
        int at = 0;
        double g = bandwidth_at(m->machine, "bandwidth", levels[i], threads, &at);
        const char *name = levels[i];
        if (!isfinite(g) && i == 3) { /* older machine files: the triad is the memory roof */
            g = bandwidth_at(m->machine, "triad", NULL, threads, &at);
            name = "memory (triad)";
        }
        if (!isfinite(g)) continue;
        snprintf(out[n].name, sizeof out[n].name, "%s", name);
        out[n].value = g;
        out[n++].threads = at;
    }
    return n;
}

/* ---- training and peers -------------------------------------------------- */

void train_key(const rfile *f, char *buf, size_t len)
{
    const cJSON *r;
    cJSON_ArrayForEach(r, runs_of(f)) if (is_type(r, "train"))
    {
        snprintf(buf, len, "%s@%g", str_or(results_str(r, "backend"), "?"),
                 results_num(r, "threads"));
        return;
    }
    snprintf(buf, len, "?");
}

void peer_key(const rfile *f, char *buf, size_t len)
{
    const cJSON *p = jobj(jobj(f->doc, "context"), "peer");
    snprintf(buf, len, "%s (%s)", str_or(results_str(p, "name"), "?"),
             str_or(results_str(p, "config"), "?"));
}

const char *peer_status(const rfile *f)
{
    return str_or(results_str(jobj(jobj(f->doc, "context"), "peer"), "status"), "measured");
}

int train_row(const cJSON *runs, int threads, trow *t)
{
    const cJSON *r, *last = NULL;
    double sum = 0, rate = 0;
    int ne = 0;
    cJSON_ArrayForEach(r, runs)
    {
        if (!is_type(r, "train") || (threads >= 0 && results_num(r, "threads") != threads))
            continue;
        sum += results_num(r, "seconds");
        rate += results_num(r, "images_per_s");
        ne++;
        last = r;
    }
    if (!last) return -1;
    t->threads = (int)results_num(last, "threads");
    t->epochs = ne;
    t->batch = results_num(last, "batch");
    t->acc = results_num(last, "test_accuracy");
    t->secs = sum / ne;
    double images = results_num(last, "images");
    t->ips = isfinite(images) && t->secs > 0 ? images / t->secs : rate / ne;
    return 0;
}

void run_rate_iqr(const cJSON *r, double value, double *lo, double *hi)
{
    *lo = *hi = value;
    const cJSON *t, *times = cJSON_GetObjectItemCaseSensitive(r, "times_s");
    double v[256], med, mn, mx, q1, q3;
    int n = 0;
    cJSON_ArrayForEach(t, times) if (n < 256 && cJSON_IsNumber(t) && t->valuedouble > 0) v[n++] =
        t->valuedouble;
    if (n < 2 || !isfinite(value)) return;
    stats_summary(v, n, &med, &mn, &mx);
    stats_quartiles(v, n, &q1, &q3);
    *lo = value * med / q3; /* a longer time is a lower rate */
    *hi = value * med / q1;
}
