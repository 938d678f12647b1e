/* The benchmark suite as a library call (see bench.h): runs build/bench_conv
   — the one measurement implementation, Google Benchmark — with the chosen
   sets, backends, thread count and repetitions, keeps every repetition's
   time from its JSON as a "conv" run (results.c), lists the cases a backend
   refused, and prints the GFLOP/s table. Used by convbench bench and
   convbench scale. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "bench.h"
#include "cli.h"
#include "compare.h"
#include "median.h"
#include "progress.h"
#include "results.h"
#include "shape_sets.h"

/* build/bench_conv, next to this executable. */
static int bench_conv_path(char *buf, size_t len)
{
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0) return -1;
    self[n] = 0;
    char *slash = strrchr(self, '/');
    if (!slash) return -1;
    *slash = 0;
    if (snprintf(buf, len, "%s/bench_conv", self) >= (int)len) return -1;
    return access(buf, X_OK);
}

/* Whether a line of Google Benchmark's console output is worth showing:
   with repetitions it prints mean, median, stddev and cv per case; the
   median line (with its counters) is the progress line. */
static int show_line(const char *line, int reps)
{
    if (reps <= 1) return 1;
    return !strstr(line, "_mean ") && !strstr(line, "_stddev ") && !strstr(line, "_cv ");
}

static double seconds(double v, const char *unit)
{
    if (!unit) return v;
    if (!strcmp(unit, "ns")) return v * 1e-9;
    if (!strcmp(unit, "us")) return v * 1e-6;
    if (!strcmp(unit, "ms")) return v * 1e-3;
    return v;
}

static const char *gstr(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* bench_conv --paired's counters of one repetition, appended to sp[*nsp]
   (speedup) and rs[*nrs] (REF's seconds a call) where present */
static void paired_counters(const cJSON *c, double *sp, int *nsp, double *rs, int *nrs)
{
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(c, "speedup");
    const cJSON *rm = cJSON_GetObjectItemCaseSensitive(c, "ref_ms");
    if (cJSON_IsNumber(s)) sp[(*nsp)++] = s->valuedouble;
    if (cJSON_IsNumber(rm)) rs[(*nrs)++] = rm->valuedouble * 1e-3;
}

/* "paired": {ref, speedup: [per repetition], ref_seconds: [...],
   speedup_median, verdict, speedup_ci90} on run r. The verdict is
   convbench compare's on paired samples (Wilcoxon signed-rank, alpha
   0.05, 5% minimum effect) with REF's times as the base, given only when
   every repetition has REF's time: "faster" means the case is faster than
   REF. sp is left sorted. */
static void add_paired(cJSON *r, const char *ref, double *sp, int nsp, const double *rs, int nrs,
                       const double *times, int reps)
{
    cJSON *p = cJSON_AddObjectToObject(r, "paired");
    cJSON_AddStringToObject(p, "ref", ref);
    cJSON_AddItemToObject(p, "speedup", cJSON_CreateDoubleArray(sp, nsp));
    cJSON_AddItemToObject(p, "ref_seconds", cJSON_CreateDoubleArray(rs, nrs));
    if (nsp > 0)
        cJSON_AddNumberToObject(p, "speedup_median", median_of(sp, nsp));
    else
        cJSON_AddNullToObject(p, "speedup_median");
    if (nrs != reps || reps == 0) {
        cJSON_AddNullToObject(p, "verdict");
        return;
    }
    compare_result cr;
    compare_verdict_paired(rs, times, reps, 0.05, 5.0, &cr);
    cJSON_AddStringToObject(p, "verdict", compare_verdict_name(cr.verdict));
    if (isfinite(cr.ci_lo) && isfinite(cr.ci_hi)) { /* of the time ratio case / REF */
        cJSON *ci = cJSON_AddArrayToObject(p, "speedup_ci90");
        cJSON_AddItemToArray(ci, cJSON_CreateNumber(1.0 / cr.ci_hi));
        cJSON_AddItemToArray(ci, cJSON_CreateNumber(1.0 / cr.ci_lo));
    } else
        cJSON_AddNullToObject(p, "speedup_ci90");
}

/* Google Benchmark's JSON -> results runs. */
static int convert(const char *cmd, const char *json_path, const shape_list *shapes, int threads,
                   const char *paired, cJSON *runs, cJSON *skipped)
{
    FILE *f = fopen(json_path, "rb");
    if (!f) {
        cli_error(cmd, "bench_conv wrote no JSON (%s)", strerror(errno));
        return -1;
    }
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *text = len > 0 ? malloc((size_t)len + 1) : NULL;
    size_t got = text ? fread(text, 1, (size_t)len, f) : 0;
    fclose(f);
    cJSON *gb = NULL;
    if (text) {
        text[got] = 0;
        gb = cJSON_Parse(text);
    }
    free(text);
    if (!gb) {
        cli_error(cmd, "bench_conv's JSON is empty or malformed");
        return -1;
    }
    const cJSON *ctx = cJSON_GetObjectItemCaseSensitive(gb, "context");
    const char *peak_s = gstr(ctx, "convbench_peak_gflops");
    double peak = peak_s ? atof(peak_s) : 0;

    const cJSON *all = cJSON_GetObjectItemCaseSensitive(gb, "benchmarks");
    int n = cJSON_GetArraySize(all);
    char *done = calloc((size_t)n + 1, 1);
    double *times = malloc(sizeof(double) * ((size_t)n + 1));
    /* --paired: each case's speedups and REF's times, per repetition */
    double *sp = malloc(sizeof(double) * ((size_t)n + 1));
    double *rs = malloc(sizeof(double) * ((size_t)n + 1));
    if (!done || !times || !sp || !rs) {
        cli_error(cmd, "out of memory reading bench_conv's JSON");
        free(done);
        free(times);
        free(sp);
        free(rs);
        cJSON_Delete(gb);
        return -1;
    }
    int i = 0;
    const cJSON *b;
    cJSON_ArrayForEach(b, all)
    {
        int first = i++;
        const char *run_name = gstr(b, "run_name"), *type = gstr(b, "run_type");
        if (done[first] || !run_name || !type || strcmp(type, "iteration")) continue;
        char name[256];
        snprintf(name, sizeof name, "%s", run_name);
        char *suffix = strstr(name, paired ? "/manual_time" : "/real_time");
        if (suffix && !suffix[paired ? 12 : 10]) *suffix = 0;
        const bench_layer *l;
        char backend[64];
        conv_pass pass;
        if (shapes_parse_case_name(name, shapes, &l, backend, sizeof backend, &pass)) {
            cli_error(cmd, "ignoring unknown case '%s'", run_name);
            continue;
        }
        /* this case's repetitions: the entries with the same run_name */
        int reps = 0, error = 0;
        long iterations = 0;
        int nsp = 0, nrs = 0;
        const char *impl = NULL, *why = NULL;
        int j = 0;
        const cJSON *c;
        cJSON_ArrayForEach(c, all)
        {
            int idx = j++;
            if (idx < first || done[idx]) continue;
            const char *rn = gstr(c, "run_name"), *rt = gstr(c, "run_type");
            if (!rn || !rt || strcmp(rn, run_name) || strcmp(rt, "iteration")) continue;
            done[idx] = 1;
            if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c, "error_occurred"))) {
                error = 1;
                why = gstr(c, "error_message");
                continue;
            }
            const cJSON *rt_v = cJSON_GetObjectItemCaseSensitive(c, "real_time");
            if (!cJSON_IsNumber(rt_v) || !(rt_v->valuedouble > 0)) continue;
            times[reps++] = seconds(rt_v->valuedouble, gstr(c, "time_unit"));
            if (paired) paired_counters(c, sp, &nsp, rs, &nrs);
            const cJSON *it = cJSON_GetObjectItemCaseSensitive(c, "iterations");
            if (!iterations && cJSON_IsNumber(it)) iterations = (long)it->valuedouble;
            if (!impl) impl = gstr(c, "label");
        }
        if (error || reps == 0) {
            if (skipped) {
                cJSON *s = cJSON_CreateObject();
                cJSON_AddStringToObject(s, "name", name);
                cJSON_AddStringToObject(s, "set", l->set);
                cJSON_AddStringToObject(s, "layer", l->layer);
                cJSON_AddStringToObject(s, "backend", backend);
                cJSON_AddStringToObject(s, "pass", conv_pass_name(pass));
                cJSON_AddStringToObject(s, "reason", why ? why : "no timing");
                cJSON_AddItemToArray(skipped, s);
            }
            continue;
        }
        cJSON *run = results_conv_run(name, l->set, l->layer, backend, pass, &l->shape, threads,
                                      times, reps, iterations, peak, impl && *impl ? impl : NULL);
        if (paired) add_paired(run, paired, sp, nsp, rs, nrs, times, reps);
        cJSON_AddItemToArray(runs, run);
    }
    free(done);
    free(times);
    free(sp);
    free(rs);
    cJSON_Delete(gb);
    return 0;
}

/* An argument list for bench_conv, grown as options are added. */
typedef struct {
    char *v[64 + 4 * 64];
    int n;
} argv_list;

static void add_arg(argv_list *a, const char *fmt, const char *value)
{
    if (a->n >= (int)(sizeof a->v / sizeof *a->v) - 1) return;
    char *x = NULL;
    if (asprintf(&x, fmt, value) >= 0) a->v[a->n++] = x;
    a->v[a->n] = NULL;
}

static void free_args(argv_list *a)
{
    for (int i = 1; i < a->n; i++) free(a->v[i]); /* v[0] is the caller's */
}

/* Runs bench_conv with args, its stdout read line by line into fn (may
   be NULL: discarded) and its stderr discarded when quiet. The exit
   status as waitpid gives it in *status; -1 if it could not start. */
static int spawn(const char *cmd, char *const *args, int threads, int quiet,
                 void (*fn)(void *, const char *), void *ctx, int *status)
{
    int pfd[2];
    if (pipe(pfd)) {
        cli_error(cmd, "pipe: %s", strerror(errno));
        return -1;
    }
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        cli_error(cmd, "fork: %s", strerror(errno));
        close(pfd[0]);
        close(pfd[1]);
        return -1;
    }
    if (pid == 0) {
        if (threads > 0) {
            char t[16];
            snprintf(t, sizeof t, "%d", threads);
            setenv("OMP_NUM_THREADS", t, 1);
        }
        dup2(pfd[1], STDOUT_FILENO);
        if (quiet) { /* Google Benchmark prints its context on stderr */
            int null = open("/dev/null", O_WRONLY);
            if (null >= 0) dup2(null, STDERR_FILENO);
        }
        close(pfd[0]);
        close(pfd[1]);
        execv(args[0], args);
        cli_error(cmd, "cannot run %s: %s", args[0], strerror(errno));
        _exit(127);
    }
    close(pfd[1]);
    FILE *child = fdopen(pfd[0], "r");
    char *line = NULL;
    size_t cap = 0;
    while (child && getline(&line, &cap, child) > 0)
        if (fn) fn(ctx, line);
    free(line);
    if (child) fclose(child);
    while (waitpid(pid, status, 0) < 0 && errno == EINTR) {}
    return 0;
}

/* The names bench_conv would run (--benchmark_list_tests), for the case
   count of the progress line. */
typedef struct {
    char **names;
    int n, cap;
} name_list;

static void collect_name(void *ctx, const char *line)
{
    name_list *l = ctx;
    size_t len = strcspn(line, " \r\n");
    if (!len) return;
    if (l->n == l->cap) {
        int cap = l->cap ? 2 * l->cap : 64;
        char **v = realloc(l->names, (size_t)cap * sizeof *v);
        if (!v) return;
        l->names = v;
        l->cap = cap;
    }
    char *x = strndup(line, len);
    if (x) l->names[l->n++] = x;
}

/* bench_conv's console output, shown (unless quiet) with the progress
   line: a case is finished when its last line (the median's with
   repetitions, else its only one) appears. */
typedef struct {
    const bench_opts *o;
    name_list cases;
    char *finished; /* per case */
    int done;
    progress bar;
} watch;

static void show(void *ctx, const char *line)
{
    watch *w = ctx;
    const char *last = w->o->repetitions > 1 ? "_median" : "";
    size_t len = strcspn(line, " \r\n");
    for (int i = 0; i < w->cases.n; i++) {
        const char *name = w->cases.names[i];
        size_t nl = strlen(name);
        if (!w->finished || w->finished[i] || len < nl || strncmp(line, name, nl)) continue;
        if ((len == nl + strlen(last) && !strncmp(line + nl, last, len - nl)) ||
            (len == nl && strstr(line, "ERROR OCCURRED"))) {
            w->finished[i] = 1;
            w->done++;
            break;
        }
    }
    if (w->o->progress) progress_clear(&w->bar);
    if (!w->o->quiet && show_line(line, w->o->repetitions)) {
        fputs(line, stdout);
        fflush(stdout);
    }
    if (w->o->progress) {
        char next[256] = "";
        for (int i = 0; i < w->cases.n && !*next; i++) /* the case running now */
            if (!w->finished[i]) snprintf(next, sizeof next, "%s", w->cases.names[i]);
        char *rt = strstr(next, w->o->paired ? "/manual_time" : "/real_time");
        if (rt) *rt = 0;
        progress_update(&w->bar, w->done, *next ? next : NULL);
    }
}

/* Copies Google Benchmark's JSON to where --keep-gbench asked, whole or
   not at all. */
static int keep_copy(const char *cmd, const char *from, const char *to)
{
    FILE *f = fopen(from, "rb");
    char *text = NULL;
    size_t cap = 0, n = 0;
    while (f && !ferror(f) && !feof(f)) {
        if (n + 65536 + 1 > cap) {
            char *grown = realloc(text, cap = 2 * cap + 65536 + 1);
            if (!grown) break;
            text = grown;
        }
        n += fread(text + n, 1, cap - n - 1, f);
    }
    const int ok = f && text && !ferror(f) && feof(f);
    if (f) fclose(f);
    int rc = -1;
    if (ok) {
        text[n] = 0;
        rc = results_write_text(to, text, 0);
    } else {
        cli_error(cmd, "--keep-gbench: cannot read Google Benchmark's JSON");
    }
    free(text);
    return rc;
}

int bench_run(const bench_opts *o, cJSON *runs, cJSON *skipped)
{
    const char *cmd = o->cmd ? o->cmd : "bench";
    char exe[PATH_MAX], err[1024];
    if (bench_conv_path(exe, sizeof exe)) {
        cli_error(cmd, "cannot find bench_conv next to convbench (run make)");
        return -1;
    }
    shape_list shapes = { NULL, 0, 0 };
    if (shapes_collect(&o->shapes, &shapes, err, sizeof err)) {
        cli_error(cmd, "%s", err);
        return -1;
    }
    const char *tmpdir = getenv("TMPDIR");
    char json[PATH_MAX];
    snprintf(json, sizeof json, "%s/convbench-gb-XXXXXX", tmpdir && *tmpdir ? tmpdir : "/tmp");
    int jfd = mkstemp(json);
    if (jfd < 0) {
        cli_error(cmd, "cannot make a temporary file: %s", strerror(errno));
        shape_list_free(&shapes);
        return -1;
    }
    close(jfd);

    argv_list a = { { exe }, 1 };
    const shape_request *r = &o->shapes;
    if (r->sets && *r->sets) add_arg(&a, "--set=%s", r->sets);
    for (int i = 0; i < r->nshape; i++) add_arg(&a, "--shape=%s", r->shape[i]);
    for (int i = 0; i < r->nfile; i++) add_arg(&a, "--shapes=%s", r->file[i]);
    if (r->model && *r->model) {
        char b[16];
        snprintf(b, sizeof b, "%d", r->batch > 0 ? r->batch : 32);
        add_arg(&a, "--model=%s", r->model);
        add_arg(&a, "--batch=%s", b);
    }
    if (o->backends) add_arg(&a, "--backends=%s", o->backends);
    if (o->filter) add_arg(&a, "--benchmark_filter=%s", o->filter);
    if (o->bind) add_arg(&a, "%s", "--bind");
    if (o->paired) add_arg(&a, "--paired=%s", o->paired);

    watch w = { o, { NULL, 0, 0 }, NULL, 0, { 0 } };
    int status = 0, rc = -1;
    if (o->progress) { /* the cases, for "case i of N"; listing runs nothing */
        add_arg(&a, "%s", "--benchmark_list_tests=true");
        spawn(cmd, a.v, o->threads, 1, collect_name, &w.cases, &status);
        free(a.v[--a.n]);
        a.v[a.n] = NULL;
        if (w.cases.n == 0) {
            cli_error(cmd, "no case to run%s%s%s", o->filter ? ": --filter '" : "",
                      o->filter ? o->filter : "", o->filter ? "' matches none" : "");
            rc = -2; /* the user's options select nothing: bad input */
            goto done;
        }
        w.finished = calloc((size_t)w.cases.n + 1, 1);
        progress_start(&w.bar, stderr, cmd, "cases", w.cases.n);
    }
    char num[32];
    snprintf(num, sizeof num, "%d", o->repetitions);
    add_arg(&a, "--benchmark_repetitions=%s", num);
    snprintf(num, sizeof num, "%g", o->min_time);
    add_arg(&a, "--benchmark_min_time=%s", num);
    add_arg(&a, "--benchmark_out=%s", json);
    add_arg(&a, "%s", "--benchmark_out_format=json");
    add_arg(&a, "%s", "--benchmark_display_aggregates_only=true");
    if (o->interleave) add_arg(&a, "%s", "--benchmark_enable_random_interleaving=true");
    if (spawn(cmd, a.v, o->threads, o->quiet, show, &w, &status) == 0) {
        if (o->progress) progress_end(&w.bar);
        if (!WIFEXITED(status) || WEXITSTATUS(status))
            cli_error(cmd, "bench_conv failed (%s %d)",
                      WIFEXITED(status) ? "exit status" : "signal",
                      WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
        else
            rc = convert(cmd, json, &shapes, o->threads > 0 ? o->threads : omp_get_max_threads(),
                         o->paired, runs, skipped);
        if (!rc && o->keep_gbench) rc = keep_copy(cmd, json, o->keep_gbench);
    }
done:
    unlink(json);
    free(w.finished);
    for (int i = 0; i < w.cases.n; i++) free(w.cases.names[i]);
    free(w.cases.names);
    free_args(&a);
    shape_list_free(&shapes);
    return rc;
}

/* ---- summary table ---------------------------------------------------- */

static const char *rstr(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) ? v->valuestring : "";
}

/* "set/layer/bN pass" of a run. */
static void row_key(const cJSON *r, char *buf, size_t len)
{
    const cJSON *sh = cJSON_GetObjectItemCaseSensitive(r, "shape");
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(sh, "n");
    snprintf(buf, len, "%s/%s/b%d %s", rstr(r, "set"), rstr(r, "layer"),
             cJSON_IsNumber(n) ? n->valueint : 0, rstr(r, "pass"));
}

/* the paired run's verdict against its reference, and its 90% interval */
static void paired_detail(const cJSON *r, char *buf, size_t len)
{
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(r, "paired");
    const cJSON *ci = cJSON_GetObjectItemCaseSensitive(p, "speedup_ci90");
    const cJSON *lo = cJSON_GetArrayItem(ci, 0), *hi = cJSON_GetArrayItem(ci, 1);
    const char *v = rstr(p, "verdict");
    if (cJSON_IsNumber(lo) && cJSON_IsNumber(hi))
        snprintf(buf, len, "%s [%.3f, %.3f]", *v ? v : "-", lo->valuedouble, hi->valuedouble);
    else
        snprintf(buf, len, "%s", *v ? v : "-");
}

/* GFLOP/s: one row per set/layer/batch/pass, one column per backend;
   returns the width of the row names. */
static int print_gflops(const cJSON *runs)
{
    int n = cJSON_GetArraySize(runs);
    const char **cols = calloc((size_t)n, sizeof *cols);
    int ncol = 0;
    const cJSON *r;
    cJSON_ArrayForEach(r, runs)
    {
        const char *b = rstr(r, "backend");
        int k = 0;
        while (k < ncol && strcmp(cols[k], b)) k++;
        if (k == ncol) cols[ncol++] = b;
    }
    int kw = 34; /* the widest "set/layer/bN pass" (users' names can be long) */
    char key[160], other[160];
    cJSON_ArrayForEach(r, runs)
    {
        row_key(r, key, sizeof key);
        if ((int)strlen(key) > kw) kw = (int)strlen(key);
    }
    printf("%-*s", kw, "layer pass");
    for (int k = 0; k < ncol; k++) printf(" %15.15s", cols[k]);
    printf("\n");
    char *seen = calloc((size_t)n, 1);
    int i = 0;
    cJSON_ArrayForEach(r, runs)
    {
        if (seen[i++]) continue;
        row_key(r, key, sizeof key);
        printf("%-*s", kw, key);
        for (int k = 0; k < ncol; k++) {
            const cJSON *x, *hit = NULL;
            int j = 0;
            cJSON_ArrayForEach(x, runs)
            {
                int idx = j++;
                if (seen[idx] && x != r) continue;
                row_key(x, other, sizeof other);
                if (strcmp(key, other) || strcmp(rstr(x, "backend"), cols[k])) continue;
                seen[idx] = 1;
                hit = x;
                break;
            }
            const cJSON *g = hit ? cJSON_GetObjectItemCaseSensitive(hit, "gflops") : NULL;
            if (cJSON_IsNumber(g))
                printf(" %15.1f", g->valuedouble);
            else
                printf(" %15s", "-");
        }
        printf("\n");
    }
    free(seen);
    free(cols);
    return kw;
}

/* The paired runs, one a line: median speedup over the reference, the
   verdict against it and the speedup's 90% interval. */
static void print_paired(const cJSON *runs, int kw)
{
    const cJSON *first = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(runs, 0), "paired");
    printf("\nspeedup over %s: its time / the case's, paired call by call (median of the "
           "repetitions);\nverdict (signed-rank test, 5%% minimum effect) and 90%% interval\n",
           rstr(first, "ref"));
    printf("%-*s %15s %9s  %s\n", kw, "layer pass", "backend", "speedup", "verdict");
    const cJSON *r;
    char key[160], detail[96];
    cJSON_ArrayForEach(r, runs)
    {
        const cJSON *m = cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(r, "paired"), "speedup_median");
        if (!cJSON_IsNumber(m)) continue;
        row_key(r, key, sizeof key);
        paired_detail(r, detail, sizeof detail);
        printf("%-*s %15.15s %9.3f  %s\n", kw, key, rstr(r, "backend"), m->valuedouble, detail);
    }
}

void bench_print_table(const cJSON *runs)
{
    if (cJSON_GetArraySize(runs) == 0) return;
    const cJSON *first = cJSON_GetArrayItem(runs, 0);
    printf("\nGFLOP/s (direct-convolution FLOPs / median time), %d threads; '-' = not run\n",
           cJSON_GetObjectItemCaseSensitive(first, "threads")->valueint);
    const int kw = print_gflops(runs);
    if (cJSON_GetObjectItemCaseSensitive(first, "paired")) print_paired(runs, kw);
}
