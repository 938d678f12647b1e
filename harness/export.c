/* Results files as Google Benchmark JSON, CSV and github-action-benchmark
   JSON (see export.h). */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "error.h"
#include "export.h"
#include "machine.h"
#include "median.h"
#include "results.h"
#include "shape_parse.h"

int export_format_parse(const char *name)
{
    static const char *const names[] = { "gbench", "csv", "gab", "gab-rate" };
    for (int i = 0; name && i < 4; i++)
        if (!strcmp(name, names[i])) return i;
    return -1;
}

/* ---- a growing string -------------------------------------------------- */

typedef struct {
    char *s;
    size_t n, cap;
    int oom;
} text;

static void put(text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(text *t, const char *fmt, ...)
{
    va_list ap;
    for (int tries = 0; tries < 2 && !t->oom; tries++) {
        va_start(ap, fmt);
        int need = vsnprintf(t->s ? t->s + t->n : NULL, t->s ? t->cap - t->n : 0, fmt, ap);
        va_end(ap);
        if (need < 0) {
            t->oom = 1;
            return;
        }
        if (t->s && t->n + (size_t)need < t->cap) {
            t->n += (size_t)need;
            return;
        }
        size_t cap = (t->cap + (size_t)need + 1) * 2;
        char *grown = realloc(t->s, cap);
        if (!grown) {
            t->oom = 1;
            return;
        }
        t->s = grown;
        t->cap = cap;
    }
}

/* ---- timed runs, pooled by name ---------------------------------------- */

typedef struct {
    char name[320];
    const cJSON *run; /* the first, for its fields */
    double *times;    /* seconds, every repetition of every file */
    int n;
    double flops; /* per pass (conv), or images per step (train); 0 if unknown */
    int is_train;
} series;

typedef struct {
    series *v;
    int n, cap;
} series_list;

static void series_name(const cJSON *r, char *buf, size_t len)
{
    const char *type = results_str(r, "type");
    const int threads = (int)results_num(r, "threads");
    if (type && !strcmp(type, "train")) {
        char model[SHAPE_NAME_MAX]; /* models/seed_cnn.net -> seed_cnn */
        shape_set_name(results_str(r, "model"), model, sizeof model);
        snprintf(buf, len, "train/%s/b%.0f/%s/threads:%d", model, results_num(r, "batch"),
                 results_str(r, "backend"), threads);
    } else {
        snprintf(buf, len, "%s/threads:%d", results_str(r, "name"), threads);
    }
}

/* A run with repetitions: conv runs, and scale's training runs. */
static int timed(const cJSON *r)
{
    const char *type = results_str(r, "type");
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(r, "times_s");
    return type && cJSON_IsArray(t) && cJSON_GetArraySize(t) > 0 &&
           ((!strcmp(type, "conv") && results_str(r, "name")) ||
            (!strcmp(type, "train") && results_str(r, "model") && results_str(r, "backend")));
}

static int add_series(series_list *l, const cJSON *r)
{
    char name[320];
    series_name(r, name, sizeof name);
    int i = 0;
    while (i < l->n && strcmp(l->v[i].name, name)) i++;
    if (i == l->n) {
        if (l->n == l->cap) {
            int cap = l->cap ? 2 * l->cap : 32;
            series *v = realloc(l->v, (size_t)cap * sizeof *v);
            if (!v) return -1;
            l->v = v;
            l->cap = cap;
        }
        series *s = &l->v[l->n++];
        memset(s, 0, sizeof *s);
        snprintf(s->name, sizeof s->name, "%s", name);
        s->run = r;
        s->is_train = !strcmp(results_str(r, "type"), "train");
        const double f = s->is_train ? results_num(r, "batch") * results_num(r, "steps")
                                     : results_num(r, "flops");
        s->flops = isfinite(f) && f > 0 ? f : 0;
    }
    series *s = &l->v[i];
    const cJSON *t, *times = cJSON_GetObjectItemCaseSensitive(r, "times_s");
    double *grown = realloc(s->times, (size_t)(s->n + cJSON_GetArraySize(times)) * sizeof *grown);
    if (!grown) return -1;
    s->times = grown;
    cJSON_ArrayForEach(t, times) if (cJSON_IsNumber(t) && t->valuedouble > 0) s->times[s->n++] =
        t->valuedouble;
    return 0;
}

static void free_series(series_list *l)
{
    for (int i = 0; i < l->n; i++) free(l->v[i].times);
    free(l->v);
}

/* Mean, median, sample standard deviation, and the quartiles. */
typedef struct {
    double mean, median, stddev, q1, q3;
} summary;

static summary summarize(const double *v, int n)
{
    summary s = { 0, 0, 0, 0, 0 };
    double lo, hi;
    for (int i = 0; i < n; i++) s.mean += v[i] / n;
    for (int i = 0; n > 1 && i < n; i++) s.stddev += (v[i] - s.mean) * (v[i] - s.mean) / (n - 1);
    s.stddev = sqrt(s.stddev);
    stats_summary(v, n, &s.median, &lo, &hi);
    stats_quartiles(v, n, &s.q1, &s.q3);
    return s;
}

/* The timed runs of every file; -1 (err) if gbench/gab get two machines. */
static int gather(const cJSON *const *docs, const char *const *paths, int n, int one_machine,
                  series_list *out, char *err, size_t errlen)
{
    const cJSON *first = NULL;
    for (int i = 0; i < n; i++) {
        const cJSON *m = cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(docs[i], "context"), "machine");
        if (one_machine && first && m && !results_machine_same(first, m))
            return error_set(err, errlen,
                             "%s and %s were measured on different machines; export them "
                             "separately (or as csv)",
                             paths[0], paths[i]);
        if (!first) first = m;
        const cJSON *r;
        cJSON_ArrayForEach(
            r, cJSON_GetObjectItemCaseSensitive(
                   docs[i], "runs")) if (timed(r) &&
                                         add_series(out, r)) return error_set(err, errlen,
                                                                              "out of memory");
    }
    return 0;
}

/* ---- gbench ------------------------------------------------------------ */

static cJSON *gbench_context(const cJSON *doc)
{
    const cJSON *ctx = cJSON_GetObjectItemCaseSensitive(doc, "context");
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(ctx, "machine");
    cJSON *c = cJSON_CreateObject();
    const char *time = results_str(ctx, "time_utc");
    cJSON_AddStringToObject(c, "date", time ? time : "");
    const char *host = results_str(m, "hostname");
    cJSON_AddStringToObject(c, "host_name", host ? host : "");
    cJSON_AddStringToObject(c, "executable", "convbench");
    const double pus = results_num(m, "pus");
    cJSON_AddNumberToObject(c, "num_cpus", isfinite(pus) ? pus : 0);
    cJSON_AddNumberToObject(c, "mhz_per_cpu", 0);
    cJSON_AddBoolToObject(c, "cpu_scaling_enabled", 0);
    cJSON_AddItemToObject(c, "caches", cJSON_CreateArray());
    cJSON_AddItemToObject(c, "load_avg", cJSON_CreateArray());
    cJSON_AddStringToObject(c, "library_build_type", "release");
    char label[RESULTS_LABEL_MAX + 1];
    results_machine_label(m, label, sizeof label);
    cJSON_AddStringToObject(c, "convbench_machine", label);
    const char *commit = results_str(ctx, "git_commit");
    cJSON_AddStringToObject(c, "convbench_git_commit", commit ? commit : "unknown");
    return c;
}

static void gbench_entry(cJSON *list, const series *s, int family, const char *suffix,
                         const char *agg, int rep, double t, int iterations)
{
    cJSON *e = cJSON_CreateObject();
    char name[400];
    snprintf(name, sizeof name, "%s%s", s->name, suffix);
    cJSON_AddStringToObject(e, "name", name);
    cJSON_AddNumberToObject(e, "family_index", family);
    cJSON_AddNumberToObject(e, "per_family_instance_index", 0);
    cJSON_AddStringToObject(e, "run_name", s->name);
    cJSON_AddStringToObject(e, "run_type", agg ? "aggregate" : "iteration");
    cJSON_AddNumberToObject(e, "repetitions", s->n);
    if (!agg) cJSON_AddNumberToObject(e, "repetition_index", rep);
    cJSON_AddNumberToObject(e, "threads", 1);
    if (agg) {
        cJSON_AddStringToObject(e, "aggregate_name", agg);
        cJSON_AddStringToObject(e, "aggregate_unit", "time");
    }
    cJSON_AddNumberToObject(e, "iterations", iterations);
    /* wall-clock time only: cpu_time repeats it so the tools have both */
    cJSON_AddNumberToObject(e, "real_time", t * 1e6);
    cJSON_AddNumberToObject(e, "cpu_time", t * 1e6);
    cJSON_AddStringToObject(e, "time_unit", "us");
    if (s->flops > 0 && t > 0 && !(agg && !strcmp(agg, "stddev")))
        cJSON_AddNumberToObject(e, s->is_train ? "images/s" : "GFLOP/s",
                                s->is_train ? s->flops / t : s->flops / t * 1e-9);
    const char *impl = results_str(s->run, "impl");
    if (impl) cJSON_AddStringToObject(e, "label", impl);
    cJSON_AddItemToArray(list, e);
}

static char *gbench(const cJSON *const *docs, const series_list *l)
{
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddItemToObject(doc, "context", gbench_context(docs[0]));
    cJSON *list = cJSON_AddArrayToObject(doc, "benchmarks");
    for (int i = 0; i < l->n; i++) {
        const series *s = &l->v[i];
        const double it = results_num(s->run, "iterations");
        const int iters = isfinite(it) && it > 0 ? (int)it : 1;
        for (int k = 0; k < s->n; k++) gbench_entry(list, s, i, "", NULL, k, s->times[k], iters);
        const summary m = summarize(s->times, s->n);
        gbench_entry(list, s, i, "_mean", "mean", 0, m.mean, s->n);
        gbench_entry(list, s, i, "_median", "median", 0, m.median, s->n);
        gbench_entry(list, s, i, "_stddev", "stddev", 0, m.stddev, s->n);
    }
    char *out = cJSON_Print(doc);
    cJSON_Delete(doc);
    return out;
}

/* ---- gab --------------------------------------------------------------- */

static char *gab(const series_list *l, int rate)
{
    cJSON *list = cJSON_CreateArray();
    for (int i = 0; i < l->n; i++) {
        const series *s = &l->v[i];
        const summary m = summarize(s->times, s->n);
        if (!(m.median > 0) || (rate && !(s->flops > 0))) continue;
        const double scale = rate ? (s->is_train ? s->flops : s->flops * 1e-9) : 1e3;
        /* times: median ms, the range its interquartile range; rates: the
           same of flops / time (the quartiles swap) */
        const double v = rate ? scale / m.median : m.median * scale,
                     lo = rate ? scale / m.q3 : m.q1 * scale,
                     hi = rate ? scale / m.q1 : m.q3 * scale;
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "name", s->name);
        cJSON_AddStringToObject(e, "unit", rate ? (s->is_train ? "images/s" : "GFLOP/s") : "ms");
        cJSON_AddNumberToObject(e, "value", v);
        char buf[256];
        snprintf(buf, sizeof buf, "± %.4g", (hi - lo) / 2);
        cJSON_AddStringToObject(e, "range", buf);
        const char *impl = results_str(s->run, "impl");
        snprintf(buf, sizeof buf, "median of %d repetitions, IQR %.4g..%.4g%s%s", s->n, lo, hi,
                 impl ? "; " : "", impl ? impl : "");
        cJSON_AddStringToObject(e, "extra", buf);
        cJSON_AddItemToArray(list, e);
    }
    char *out = cJSON_Print(list);
    cJSON_Delete(list);
    return out;
}

/* ---- csv --------------------------------------------------------------- */

static void csv_field(text *t, const char *s, int last)
{
    if (!s) s = "";
    if (strpbrk(s, ",\"\n\r")) {
        put(t, "\"");
        for (const char *p = s; *p; p++) put(t, *p == '"' ? "\"\"" : "%c", *p);
        put(t, "\"");
    } else {
        put(t, "%s", s);
    }
    put(t, last ? "\n" : ",");
}

static void csv_num(text *t, const cJSON *o, const char *key, int last)
{
    const double v = results_num(o, key);
    char buf[64] = "";
    if (isfinite(v)) snprintf(buf, sizeof buf, "%.10g", v);
    csv_field(t, buf, last);
}

static char *csv(const cJSON *const *docs, const char *const *paths, int n)
{
    static const char *const shape_keys[] = { "n", "h", "w", "c", "k", "r", "s", "stride", "pad" };
    static const char *const nums[] = { "threads",      "batch",        "epoch", "repetitions",
                                        "median_s",     "min_s",        "max_s", "gflops",
                                        "pct_peak",     "images_per_s", "loss",  "accuracy",
                                        "test_accuracy" };
    const int nn = (int)(sizeof nums / sizeof *nums);
    text t = { NULL, 0, 0, 0 };
    put(&t, "file,machine,git_commit,time_utc,type,name,set,layer,backend,pass,model");
    for (int i = 0; i < 9; i++) put(&t, ",%s", shape_keys[i]);
    for (int i = 0; i < nn; i++) put(&t, ",%s", nums[i]);
    put(&t, ",impl,times_s\n");
    for (int f = 0; f < n; f++) {
        const cJSON *ctx = cJSON_GetObjectItemCaseSensitive(docs[f], "context");
        char label[RESULTS_LABEL_MAX + 1];
        results_machine_label(cJSON_GetObjectItemCaseSensitive(ctx, "machine"), label,
                              sizeof label);
        const cJSON *r;
        cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(docs[f], "runs"))
        {
            csv_field(&t, paths[f], 0);
            csv_field(&t, label, 0);
            csv_field(&t, results_str(ctx, "git_commit"), 0);
            csv_field(&t, results_str(ctx, "time_utc"), 0);
            static const char *const strs[] = { "type",    "name", "set",  "layer",
                                                "backend", "pass", "model" };
            for (int i = 0; i < 7; i++) csv_field(&t, results_str(r, strs[i]), 0);
            const cJSON *sh = cJSON_GetObjectItemCaseSensitive(r, "shape");
            for (int i = 0; i < 9; i++) csv_num(&t, sh, shape_keys[i], 0);
            for (int i = 0; i < nn; i++) csv_num(&t, r, nums[i], 0);
            csv_field(&t, results_str(r, "impl"), 0);
            /* every repetition, space-separated: one cell */
            text reps = { NULL, 0, 0, 0 };
            const cJSON *x;
            cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(r, "times_s"))
                put(&reps, "%s%.9g", reps.n ? " " : "", x->valuedouble);
            csv_field(&t, reps.s, 1);
            t.oom |= reps.oom;
            free(reps.s);
        }
    }
    if (t.oom) {
        free(t.s);
        return NULL;
    }
    return t.s;
}

char *export_text(export_format f, const cJSON *const *docs, const char *const *paths, int n,
                  char *err, size_t errlen)
{
    if (n <= 0) {
        error_set(err, errlen, "no results file given");
        return NULL;
    }
    if (f == EXPORT_CSV) {
        char *out = csv(docs, paths, n);
        if (!out) error_set(err, errlen, "out of memory");
        return out;
    }
    series_list l = { NULL, 0, 0 };
    char *out = NULL;
    if (gather(docs, paths, n, 1, &l, err, errlen) == 0) {
        if (l.n == 0)
            error_set(err, errlen, "no timed runs (conv runs, or scale's training runs) in %s%s",
                      paths[0], n > 1 ? " and the other files" : "");
        else if (!(out = f == EXPORT_GBENCH ? gbench(docs, &l) : gab(&l, f == EXPORT_GAB_RATE)))
            error_set(err, errlen, "out of memory");
    }
    free_series(&l);
    return out;
}
