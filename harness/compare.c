/* convbench compare BASE NEW: a regression verdict for CI.

   BASE and NEW are results files, or directories whose results files are
   merged: the repetitions of the same key in several files of one side
   are pooled, which is how make regress collects the rounds in which it
   ran a reference build and the candidate alternately.

   Conv runs are matched by (backend, pass, shape, threads); training runs
   that carry repetitions (convbench scale) by (backend, model, batch,
   threads), as seconds per step. For each matched key the repetitions of
   BASE and NEW go through a two-sided Mann-Whitney U test (stats.h), as
   Google Benchmark's tools/compare.py does, and the verdict
   (compare_verdict, compare.h) needs both statistical evidence and a
   minimum effect: "slower" wants p < alpha and the ratios of the medians
   and of the fastest repetitions both above 1 + threshold (on a loaded
   machine noise only ever adds time, so a real regression slows even the
   least-disturbed repetition). A case that is not slower is "same" only
   when the one-sided 1 - alpha upper confidence bound of its time ratio
   (the upper end of the two-sided 1 - 2 alpha interval, printed) stays
   below 1 + threshold: a slowdown of the threshold's size is ruled out.
   Otherwise the runs could not decide, and the case is
   "inconclusive": too few repetitions for the test to reach alpha (3
   against 3 never can), or a spread wider than the threshold.

   --normalize B divides every conv repetition by the fastest time of
   backend B for the same (pass, shape, threads) in the same file,
   cancelling a uniformly faster or slower spell of the machine. B's own
   rows are shown as the reference and get no verdict.

   Files from different machines (results_machine_same: their
   fingerprints, or for older files the fields both record) are compared as
   machines, not builds: compare says so before anything else and exits
   COMPARE_EXIT_MACHINES whatever the figures, so that it never passes or
   fails CI. Exit status: compare.h. */
#include <dirent.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "cli.h"
#include "commands.h"
#include "compare.h"
#include "median.h"
#include "results.h"
#include "stats.h"

typedef struct {
    char key[192];   /* what matches: conv|backend|pass|shape|threads */
    char label[160]; /* "seed/conv2/b32 forward simd 2t" */
    char backend[64];
    int n, cap;
    double *v; /* times (per pass or per step; or ratios to the normalizer) */
    int fn, fcap;
    double *fv;       /* per file: the fastest of its repetitions (--paired) */
    int *fid;         /* per file: its index in the side's names */
    int is_ref;       /* the normalizer's own run */
    int unnormalized; /* no normalizer run for its key in its file */
    int matched;
} row;

typedef struct {
    const char *path;
    row *rows;
    int n, cap;
    int files;
    char **names;      /* the files' base names, in load order */
    char machine[256]; /* the first file's machine, for the header */
    cJSON *mc;         /* the first file's context.machine */
    char where[160];   /* commit, time (first and last file) */
} side;

/* An integer field, 0 where absent (results_num gives NAN then) or out of
   int's range (converting one would be undefined). */
static int jint(const cJSON *o, const char *k)
{
    double v = results_num(o, k);
    return v > INT_MIN && v < INT_MAX ? (int)v : 0;
}

static const char *jstr(const cJSON *o, const char *k)
{
    const char *s = results_str(o, k);
    return s ? s : "?";
}

/* "n32 13x13x32 k64 3x3 s1 p0" */
static void shape_text(const cJSON *sh, char *buf, size_t len)
{
    snprintf(buf, len, "n%d %dx%dx%d k%d %dx%d s%d p%d", jint(sh, "n"), jint(sh, "h"),
             jint(sh, "w"), jint(sh, "c"), jint(sh, "k"), jint(sh, "r"), jint(sh, "s"),
             jint(sh, "stride"), jint(sh, "pad"));
}

/* The match key of a conv run for a given backend (its own, or the normalizer's). */
static void conv_key(const cJSON *r, const char *backend, char *buf, size_t len)
{
    char sh[96];
    shape_text(cJSON_GetObjectItemCaseSensitive(r, "shape"), sh, sizeof sh);
    snprintf(buf, len, "conv|%s|%s|%s|%d", backend, jstr(r, "pass"), sh, jint(r, "threads"));
}

static void conv_label(const cJSON *r, char *buf, size_t len)
{
    const char *set = results_str(r, "set"), *layer = results_str(r, "layer");
    char where[96];
    if (set && layer)
        snprintf(where, sizeof where, "%s/%s/b%d", set, layer,
                 jint(cJSON_GetObjectItemCaseSensitive(r, "shape"), "n"));
    else
        shape_text(cJSON_GetObjectItemCaseSensitive(r, "shape"), where, sizeof where);
    snprintf(buf, len, "%s %s %s %dt", where, jstr(r, "pass"), jstr(r, "backend"),
             jint(r, "threads"));
}

/* The model's file name without directories or extension: "seed_cnn". */
static void model_name(const char *path, char *buf, size_t len)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    size_t n = strcspn(base, ".");
    snprintf(buf, len, "%.*s", (int)n, base);
}

/* The repetitions of a run: its times_s[] as numbers > 0. -1 if any is not. */
static int times_of(const cJSON *r, double *v, int max)
{
    int i = 0;
    const cJSON *x;
    cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(r, "times_s"))
    {
        if (i == max || !cJSON_IsNumber(x) || !(x->valuedouble > 0)) return -1;
        v[i++] = x->valuedouble;
    }
    return i;
}

static row *find_row(side *s, const char *key)
{
    for (int i = 0; i < s->n; i++)
        if (!strcmp(s->rows[i].key, key)) return &s->rows[i];
    return NULL;
}

/* The row of key in s, made if new; NULL when out of memory. */
static row *row_for(side *s, const char *key, const char *label, const char *backend)
{
    row *w = find_row(s, key);
    if (w) return w;
    if (s->n == s->cap) {
        int cap = s->cap ? 2 * s->cap : 64;
        row *rows = realloc(s->rows, sizeof *rows * (size_t)cap);
        if (!rows) return NULL;
        s->rows = rows;
        s->cap = cap;
    }
    w = &s->rows[s->n++];
    memset(w, 0, sizeof *w);
    snprintf(w->key, sizeof w->key, "%s", key);
    snprintf(w->label, sizeof w->label, "%s", label);
    snprintf(w->backend, sizeof w->backend, "%s", backend);
    return w;
}

static int row_add(row *w, const double *v, int n, double scale, int file)
{
    if (w->fn == w->fcap) {
        int cap = w->fcap ? 2 * w->fcap : 16;
        double *nfv = realloc(w->fv, sizeof *nfv * (size_t)cap);
        int *nid = nfv ? realloc(w->fid, sizeof *nid * (size_t)cap) : NULL;
        if (nfv) w->fv = nfv;
        if (!nid) return -1;
        w->fid = nid;
        w->fcap = cap;
    }
    double med, mn, mx;
    results_stats(v, n, &med, &mn, &mx);
    w->fv[w->fn] = mn * scale;
    w->fid[w->fn++] = file;
    if (w->n + n > w->cap) {
        int cap = w->cap ? w->cap : 16;
        while (cap < w->n + n) cap *= 2;
        double *nv = realloc(w->v, sizeof *nv * (size_t)cap);
        if (!nv) return -1;
        w->v = nv;
        w->cap = cap;
    }
    for (int i = 0; i < n; i++) w->v[w->n++] = v[i] * scale;
    return 0;
}

#define MAX_REPS 100000

/* Adds the runs of one results file to s. 0, or -1 after printing why. */
static int load_file(side *s, const char *path, const char *norm, int *have_norm)
{
    char err[PATH_MAX + 256];
    cJSON *doc = results_read(path, err, sizeof err);
    if (!doc) {
        cli_error("compare", "%s", err);
        return -1;
    }
    const cJSON *ctx = cJSON_GetObjectItemCaseSensitive(doc, "context");
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(ctx, "machine");
    if (!s->files) {
        char label[RESULTS_LABEL_MAX + 1];
        results_machine_label(m, label, sizeof label);
        snprintf(s->machine, sizeof s->machine, "%s: %s", label, jstr(m, "cpu_model"));
        s->mc = cJSON_Duplicate(m, 1);
        snprintf(s->where, sizeof s->where, "commit %.10s, %s", jstr(ctx, "git_commit"),
                 jstr(ctx, "time_utc"));
    } else if (!results_machine_same(m, s->mc)) {
        cli_error("compare",
                  "%s comes from another machine (%s) than the other "
                  "files of %s (%s): one side is one machine",
                  path, jstr(m, "cpu_model"), s->path, s->machine);
        cJSON_Delete(doc);
        return -1;
    }
    char **names = realloc(s->names, sizeof *names * (size_t)(s->files + 1));
    const char *base = strrchr(path, '/');
    if (!names || !(names[s->files] = strdup(base ? base + 1 : path))) {
        if (names) s->names = names;
        cli_error("compare", "out of memory");
        cJSON_Delete(doc);
        return -1;
    }
    s->names = names;
    s->files++;

    static double t[MAX_REPS], rt[MAX_REPS];
    const cJSON *runs = cJSON_GetObjectItemCaseSensitive(doc, "runs"), *r;
    int rc = 0;
    cJSON_ArrayForEach(r, runs)
    {
        const char *type = results_str(r, "type");
        char key[192], label[160];
        double scale = 1;
        int n;
        if (type && !strcmp(type, "conv")) {
            conv_key(r, jstr(r, "backend"), key, sizeof key);
            conv_label(r, label, sizeof label);
        } else if (type && !strcmp(type, "train") &&
                   cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(r, "times_s")) &&
                   jint(r, "steps") > 0) {
            char model[64];
            model_name(jstr(r, "model"), model, sizeof model);
            snprintf(key, sizeof key, "train|%s|%s|%d|%d", jstr(r, "backend"), model,
                     jint(r, "batch"), jint(r, "threads"));
            snprintf(label, sizeof label, "train %s b%d %s %dt", model, jint(r, "batch"),
                     jstr(r, "backend"), jint(r, "threads"));
            scale = 1.0 / jint(r, "steps"); /* seconds per step */
        } else {
            continue; /* per-epoch train runs, peaks, ... */
        }
        if ((n = times_of(r, t, MAX_REPS)) <= 0) {
            cli_error("compare", "%s: %s: times_s must hold positive times", path, label);
            rc = -1;
            break;
        }
        int is_conv = key[0] == 'c', is_ref = 0, unnormalized = 0;
        if (norm && !is_conv) continue; /* nothing to normalize a step by */
        if (norm) {
            is_ref = !strcmp(jstr(r, "backend"), norm);
            char nk[192];
            conv_key(r, norm, nk, sizeof nk);
            const cJSON *x, *ref = NULL;
            cJSON_ArrayForEach(x, runs)
            {
                char k[192];
                if (ref || !results_str(x, "type") || strcmp(results_str(x, "type"), "conv"))
                    continue;
                conv_key(x, jstr(x, "backend"), k, sizeof k);
                if (!strcmp(k, nk)) ref = x;
            }
            int nr = ref ? times_of(ref, rt, MAX_REPS) : 0;
            if (nr > 0) {
                double med, mn, mx;
                results_stats(rt, nr, &med, &mn, &mx);
                scale = 1 / mn;
                *have_norm = 1;
            } else {
                unnormalized = 1;
            }
        }
        row *w = row_for(s, key, label, jstr(r, "backend"));
        if (!w || row_add(w, t, n, scale, s->files - 1)) {
            cli_error("compare", "out of memory");
            rc = -1;
            break;
        }
        w->is_ref = is_ref;
        w->unnormalized |= unnormalized;
    }
    cJSON_Delete(doc);
    return rc;
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A file, or every *.json file of a directory in name order. */
static int load_side(side *s, const char *path, const char *norm)
{
    s->path = path;
    struct stat st;
    int have_norm = 0, rc = 0;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        DIR *d = opendir(path);
        if (!d) {
            cli_error("compare", "%s: cannot open the directory", path);
            return -1;
        }
        char **names = NULL;
        int nn = 0, cap = 0;
        struct dirent *e;
        while (rc == 0 && (e = readdir(d))) {
            size_t len = strlen(e->d_name);
            if (e->d_name[0] == '.' || len < 6 || strcmp(e->d_name + len - 5, ".json")) continue;
            if (nn == cap) {
                cap = cap ? 2 * cap : 32;
                char **nnames = realloc(names, sizeof *names * (size_t)cap);
                if (!nnames)
                    rc = -1;
                else
                    names = nnames;
            }
            if (rc == 0 && !(names[nn++] = strdup(e->d_name))) rc = -1;
        }
        closedir(d);
        if (rc) cli_error("compare", "out of memory");
        if (names) qsort(names, (size_t)nn, sizeof *names, cmp_name);
        for (int i = 0; i < nn; i++) {
            char file[PATH_MAX];
            snprintf(file, sizeof file, "%s/%s", path, names[i]);
            if (rc == 0) rc = load_file(s, file, norm, &have_norm);
            free(names[i]);
        }
        free(names);
        if (rc == 0 && !s->files) {
            cli_error("compare", "%s holds no results files", path);
            rc = -1;
        }
    } else {
        rc = load_file(s, path, norm, &have_norm);
    }
    if (rc == 0 && norm && s->n && !have_norm) {
        cli_error("compare",
                  "%s has no conv runs of backend '%s' to normalize "
                  "by",
                  path, norm);
        rc = -1;
    }
    return rc;
}

static void side_free(side *s)
{
    for (int i = 0; i < s->n; i++) {
        free(s->rows[i].v);
        free(s->rows[i].fv);
        free(s->rows[i].fid);
    }
    free(s->rows);
    for (int i = 0; i < s->files; i++) free(s->names[i]);
    free(s->names);
    cJSON_Delete(s->mc);
}

/* The fastest ceil(frac * n) of v[0..n), ascending, into out; returns how
   many (at least 1). */
static int fastest_of(const double *v, int n, double frac, double *out)
{
    memcpy(out, v, sizeof *out * (size_t)n);
    qsort(out, (size_t)n, sizeof *out, cmp_double_asc);
    int k = (int)ceil(frac * n - 1e-9);
    return k < 1 ? 1 : k > n ? n : k;
}

/* The per-file values of b and c whose files have the same name, into
   pb[], pc[] (room for c->fn); returns how many. */
static int pairs_of(const side *sb, const row *b, const side *sc, const row *c, double *pb,
                    double *pc)
{
    int n = 0;
    for (int i = 0; i < c->fn; i++)
        for (int j = 0; j < b->fn; j++)
            if (!strcmp(sc->names[c->fid[i]], sb->names[b->fid[j]])) {
                pb[n] = b->fv[j];
                pc[n++] = c->fv[i];
                break;
            }
    return n;
}

/* "1.234 ms", or "0.512x" for ratios */
static void value_text(double v, int ratio, char *buf, size_t len)
{
    if (ratio)
        snprintf(buf, len, "%.4fx", v);
    else if (v >= 1)
        snprintf(buf, len, "%.3f s", v);
    else if (v >= 1e-3)
        snprintf(buf, len, "%.3f ms", v * 1e3);
    else
        snprintf(buf, len, "%.3f us", v * 1e6);
}

/* The verdict from the ratios, the p-value and the interval in r; min_p
   is the smallest p-value samples of these sizes can reach. */
static compare_verdict_t decide(compare_result *r, double min_p, double alpha, double threshold_pct)
{
    double up = 1 + threshold_pct / 100;
    if (r->p < alpha && r->ratio > up && r->min_ratio > up)
        r->verdict = COMPARE_SLOWER;
    else if (r->p < alpha && r->ratio < 1 / up && r->min_ratio < 1 / up)
        r->verdict = COMPARE_FASTER;
    else if (min_p < alpha && isfinite(r->ci_hi) && r->ci_hi <= up)
        r->verdict = COMPARE_SAME;
    else
        r->verdict = COMPARE_INCONCLUSIVE;
    return r->verdict;
}

compare_verdict_t compare_verdict(const double *base, int nb, const double *cur, int nc,
                                  double alpha, double threshold_pct, compare_result *out)
{
    compare_result r = { COMPARE_INCONCLUSIVE, NAN, NAN, 1, NAN, NAN };
    double mb, mc, minb, minc, mx;
    results_stats(base, nb, &mb, &minb, &mx);
    results_stats(cur, nc, &mc, &minc, &mx);
    r.ratio = mc / mb;
    r.min_ratio = minc / minb;
    stats_mwu t;
    stats_mann_whitney(base, nb, cur, nc, &t);
    r.p = t.p;
    /* the interval of the ratio, as a shift of log times */
    double *lb = malloc(sizeof *lb * (size_t)(nb + nc)), est, lo, hi;
    if (lb) {
        for (int i = 0; i < nb; i++) lb[i] = log(base[i]);
        for (int i = 0; i < nc; i++) lb[nb + i] = log(cur[i]);
        if (stats_shift_ci(lb, nb, lb + nb, nc, 2 * alpha, &est, &lo, &hi) == 0) {
            r.ci_lo = exp(lo);
            r.ci_hi = exp(hi);
        }
        free(lb);
    }
    decide(&r, stats_mwu_min_p(nb, nc), alpha, threshold_pct);
    if (out) *out = r;
    return r.verdict;
}

compare_verdict_t compare_verdict_paired(const double *base, const double *cur, int n, double alpha,
                                         double threshold_pct, compare_result *out)
{
    compare_result r = { COMPARE_INCONCLUSIVE, NAN, NAN, 1, NAN, NAN };
    double *d = malloc(sizeof *d * (size_t)(n > 0 ? n : 1)), minb = INFINITY, minc = INFINITY;
    if (d && n > 0) {
        for (int i = 0; i < n; i++) {
            d[i] = log(cur[i] / base[i]);
            minb = fmin(minb, base[i]);
            minc = fmin(minc, cur[i]);
        }
        stats_mwu t;
        stats_signed_rank(d, n, &t);
        r.p = t.p;
        double est, lo, hi;
        if (stats_walsh_ci(d, n, 2 * alpha, &est, &lo, &hi) == 0) {
            r.ci_lo = exp(lo);
            r.ci_hi = exp(hi);
        }
        r.ratio = exp(est);
        r.min_ratio = minc / minb;
        decide(&r, ldexp(2.0, -n), alpha, threshold_pct);
    }
    free(d);
    if (out) *out = r;
    return r.verdict;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: convbench compare [--threshold PCT] [--alpha A] [--normalize BACKEND]\n"
               "                         [--paired | --fastest F] [--format text|markdown]\n"
               "                         BASE NEW\n"
               "BASE and NEW are results files, or directories whose results files are\n"
               "pooled (repetitions of the same case in several files add up). Matches conv\n"
               "runs by (backend, pass, shape, threads) and training runs with repetitions\n"
               "(convbench scale) by (backend, model, batch, threads), and gives each a\n"
               "verdict from its repetitions: a two-sided Mann-Whitney U test (alpha, default\n"
               "0.05) plus a minimum effect PCT (default 5):\n"
               "  slower        p < alpha, and the ratio NEW/BASE of the medians and of the\n"
               "                fastest repetitions both above 1 + PCT/100\n"
               "  faster        p < alpha, and both below 1/(1 + PCT/100)\n"
               "  inconclusive  neither, and the one-sided 1 - alpha upper confidence bound\n"
               "                of the time ratio (the upper end of the 1 - 2 alpha interval\n"
               "                shown) is above 1 + PCT/100, or cannot be formed (too few\n"
               "                repetitions): the runs cannot rule out a slowdown of PCT\n"
               "  same          otherwise\n"
               "  --paired        BASE and NEW are directories whose files of the same name\n"
               "                  were measured side by side (make regress's rounds): each case\n"
               "                  is judged on the ratios of each pair's fastest repetitions,\n"
               "                  Wilcoxon signed-rank test and its interval: a slow spell that\n"
               "                  hits both files of a pair cancels, and one that hits only\n"
               "                  some repetitions of a file is dropped with them\n"
               "  --fastest F     judge each case on the fastest fraction F (0 < F <= 1, default\n"
               "                  1) of each side's repetitions: on a shared machine a busy\n"
               "                  neighbour only ever adds time, and the slow part of a sample\n"
               "                  says more about the neighbour than about the code\n"
               "  --normalize B   compare conv times as ratios to backend B's fastest time for\n"
               "                  the same pass, shape and threads in the same file\n"
               "  --format F      text (default) or markdown (for CI summaries)\n"
               "Exit status: 0 no case slower or inconclusive; 1 some case slower;\n"
               "2 unreadable input, usage, or nothing in common; 3 none slower but some\n"
               "inconclusive; 4 BASE and NEW come from different machines (a comparison of\n"
               "machines, never a regression verdict: see convbench report).\n"
               "A results file larger than CONVBENCH_MAX_FILE_SIZE (default 256M) is refused.\n");
}

const char *compare_verdict_name(compare_verdict_t v)
{
    return v == COMPARE_SLOWER   ? "slower"
           : v == COMPARE_FASTER ? "faster"
           : v == COMPARE_SAME   ? "same"
                                 : "inconclusive";
}

int cmd_compare(int argc, char **argv)
{
    static const struct option opts[] = {
        { "threshold", required_argument, 0, 't' },
        { "alpha", required_argument, 0, 'a' },
        { "normalize", required_argument, 0, 'n' },
        { "format", required_argument, 0, 'f' },
        { "paired", no_argument, 0, 'p' },
        { "fastest", required_argument, 0, 'F' },
        { "help", no_argument, 0, 'h' },
        { 0, 0, 0, 0 },
    };
    double threshold = 5, alpha = 0.05;
    const char *norm = NULL;
    int markdown = 0, paired = 0;
    double fastest = 1;
    int o;
    optind = 1;
    while ((o = cli_getopt("compare", argc, argv, "", opts)) != -1) {
        switch (o) {
        case 't':
            if (cli_number("compare", "--threshold", optarg, 0, 1000, 0, &threshold))
                return COMPARE_EXIT_INPUT;
            break;
        case 'a':
            if (cli_number("compare", "--alpha", optarg, 0, 0.5, CLI_OPEN_LO | CLI_OPEN_HI, &alpha))
                return COMPARE_EXIT_INPUT;
            break;
        case 'n': norm = optarg; break;
        case 'p': paired = 1; break;
        case 'F':
            if (cli_number("compare", "--fastest", optarg, 0, 1, CLI_OPEN_LO, &fastest))
                return COMPARE_EXIT_INPUT;
            break;
        case 'f':
            if (!strcmp(optarg, "markdown") || !strcmp(optarg, "md"))
                markdown = 1;
            else if (!strcmp(optarg, "text"))
                markdown = 0;
            else {
                cli_usage_error("compare", "--format is text or markdown, not '%s'", optarg);
                return COMPARE_EXIT_INPUT;
            }
            break;
        case 'h': usage(stdout); return 0;
        default: return COMPARE_EXIT_INPUT;
        }
    }
    if (argc - optind != 2) {
        cli_usage_error("compare", "wants two results files or directories, BASE and NEW");
        return COMPARE_EXIT_INPUT;
    }
    side base = { 0 }, cur = { 0 };
    if (load_side(&base, argv[optind], norm) || load_side(&cur, argv[optind + 1], norm)) {
        side_free(&base);
        side_free(&cur);
        return COMPARE_EXIT_INPUT;
    }
    int machines = !results_machine_same(base.mc, cur.mc);
    if (machines)
        printf("%sBASE and NEW come from different machines (%s; %s): this compares machines, "
               "not builds, and gives no regression verdict (exit %d)%s\n\n",
               markdown ? "**" : "", base.machine, cur.machine, COMPARE_EXIT_MACHINES,
               markdown ? "**" : "");

    const char *hdr_fmt = markdown ? "| %s | %s | %s | %s | %s | %s | %s | %s |\n"
                                   : "%-46s %11s %11s %7s %7s %15s %8s  %s\n";
    char cil[32];
    snprintf(cil, sizeof cil, "%g%% CI", 100 * (1 - 2 * alpha));
    const char *test = paired
                           ? "paired by file name: Wilcoxon signed-rank test on the log time ratios"
                       : fastest < 1 ? "two-sided Mann-Whitney U on the fastest part"
                                     : "two-sided Mann-Whitney U";
    if (markdown) printf("### convbench compare\n\n");
    for (int i = 0; i < 2; i++) {
        const side *sd = i ? &cur : &base;
        printf(markdown ? "- %s: `%s` (%s; %d file%s, %s)\n" : "%-5s %s (%s; %d file%s, %s)\n",
               markdown ? (i ? "new" : "base") : (i ? "new:" : "base:"), sd->path, sd->machine,
               sd->files, sd->files > 1 ? "s" : "", sd->where);
    }
    if (markdown) {
        printf("- %s, alpha %g; minimum effect %g%%", test, alpha, threshold);
        if (fastest < 1) printf("; the fastest %g of each side's repetitions", fastest);
        if (norm) printf("; conv times relative to `%s` in the same file", norm);
        printf("\n\n");
    } else {
        printf("%s, alpha %g; minimum effect %g%%", test, alpha, threshold);
        if (fastest < 1) printf("; the fastest %g of each side's repetitions", fastest);
        if (norm) printf("; conv times relative to %s's fastest repetition in the same file", norm);
        printf("\n\n");
    }
    printf(hdr_fmt, "case", norm ? "base (rel.)" : "base median",
           norm ? "new (rel.)" : "new median", "ratio", "min", cil, "p", "verdict");
    if (markdown) printf("|---|---:|---:|---:|---:|---:|---:|---|\n");

    /* rows in label order (files list runs in measurement order, which
       random interleaving shuffles) */
    int *order = malloc(sizeof(int) * (size_t)(cur.n + 1));
    for (int i = 0; order && i < cur.n; i++) {
        int j = i;
        for (; j > 0 && strcmp(cur.rows[order[j - 1]].label, cur.rows[i].label) > 0; j--)
            order[j] = order[j - 1];
        order[j] = i;
    }
    int count[4] = { 0 }, nref = 0, few = 0; /* by verdict + 1 */
    int maxf = base.files > cur.files ? base.files : cur.files;
    for (int i = 0; i < base.n; i++) maxf = base.rows[i].n > maxf ? base.rows[i].n : maxf;
    for (int i = 0; i < cur.n; i++) maxf = cur.rows[i].n > maxf ? cur.rows[i].n : maxf;
    double *pb = malloc(sizeof *pb * (size_t)(maxf + 1)),
           *pc = malloc(sizeof *pc * (size_t)(maxf + 1));
    if (!pb || !pc) {
        cli_error("compare", "out of memory");
        free(pb);
        free(pc);
        free(order);
        side_free(&base);
        side_free(&cur);
        return COMPARE_EXIT_INPUT;
    }
    for (int k = 0; k < cur.n; k++) {
        row *c = &cur.rows[order ? order[k] : k], *b = find_row(&base, c->key);
        if (!b || b->unnormalized || c->unnormalized) continue;
        b->matched = c->matched = 1;
        char bt[32], ct[32], rt[32], mt[32], ci[40], pt[32];
        double med_b, med_c, x;
        results_stats(b->v, b->n, &med_b, &x, &x);
        results_stats(c->v, c->n, &med_c, &x, &x);
        const char *verdict;
        char vbuf[32];
        if (c->is_ref) {
            snprintf(rt, sizeof rt, "%.3f", med_c / med_b);
            snprintf(mt, sizeof mt, "-");
            snprintf(ci, sizeof ci, "-");
            snprintf(pt, sizeof pt, "-");
            verdict = "reference";
            nref++;
        } else {
            compare_result r;
            if (paired) {
                int np = pairs_of(&base, b, &cur, c, pb, pc);
                compare_verdict_paired(pb, pc, np, alpha, threshold, &r);
                few |= np < 1 || ldexp(2.0, -np) >= alpha;
            } else {
                int kb = fastest_of(b->v, b->n, fastest, pb),
                    kc = fastest_of(c->v, c->n, fastest, pc);
                compare_verdict(pb, kb, pc, kc, alpha, threshold, &r);
                /* what was judged: the medians of the repetitions kept */
                results_stats(pb, kb, &med_b, &x, &x);
                results_stats(pc, kc, &med_c, &x, &x);
                few |= stats_mwu_min_p(kb, kc) >= alpha;
            }
            snprintf(rt, sizeof rt, "%.3f", r.ratio);
            snprintf(mt, sizeof mt, "%.3f", r.min_ratio);
            if (isfinite(r.ci_lo))
                snprintf(ci, sizeof ci, "%.3f-%.3f", r.ci_lo, r.ci_hi);
            else
                snprintf(ci, sizeof ci, "(too few)");
            snprintf(pt, sizeof pt, "%.4f", r.p);
            count[r.verdict + 1]++;
            snprintf(vbuf, sizeof vbuf, markdown && r.verdict == COMPARE_SLOWER ? "**%s**" : "%s",
                     compare_verdict_name(r.verdict));
            verdict = vbuf;
        }
        value_text(med_b, norm != NULL, bt, sizeof bt);
        value_text(med_c, norm != NULL, ct, sizeof ct);
        printf(hdr_fmt, c->label, bt, ct, rt, mt, ci, pt, verdict);
    }
    free(order);
    free(pb);
    free(pc);
    int nslow = count[COMPARE_SLOWER + 1], nincon = count[COMPARE_INCONCLUSIVE + 1];
    int compared = count[0] + count[1] + nslow + nincon;
    printf("\n%d compared: %d slower, %d inconclusive, %d same, %d faster", compared, nslow, nincon,
           count[COMPARE_SAME + 1], count[COMPARE_FASTER + 1]);
    if (nref) printf(" (%d reference rows of %s)", nref, norm);
    printf("\n");

    /* what could not be compared, and why */
    for (int pass = 0; pass < 3; pass++) {
        side *s = pass == 1 ? &cur : &base, *other = pass == 1 ? &base : &cur;
        int listed = 0;
        for (int i = 0; i < s->n; i++) {
            row *w = &s->rows[i];
            int in_other = find_row(other, w->key) != NULL;
            /* passes 0, 1: keys one side lacks; pass 2: keys both have
               that could not be normalized in one of them */
            if (w->matched || (pass < 2) == in_other) continue;
            if (!listed++) {
                if (pass < 2)
                    printf("\nin %s only (%s):\n", pass ? "NEW" : "BASE", s->path);
                else
                    printf("\nnot compared: no %s run for the same key in one of the files:\n",
                           norm);
            }
            printf("%s%s\n", markdown ? "- " : "  ", w->label);
        }
    }
    if (few)
        printf("\nwarning: with so few repetitions no difference can reach p < %g: such cases "
               "are inconclusive; use 9 or more repetitions\n",
               alpha);
    side_free(&base);
    side_free(&cur);
    if (compared == 0) {
        cli_error("compare", "no runs in common: nothing was compared");
        return COMPARE_EXIT_INPUT;
    }
    if (machines) return COMPARE_EXIT_MACHINES;
    if (nslow) return COMPARE_EXIT_SLOWER;
    if (nincon) {
        printf("inconclusive: %d case%s could not be decided (exit %d): more repetitions, a "
               "quieter machine, or a larger --threshold\n",
               nincon, nincon > 1 ? "s" : "", COMPARE_EXIT_INCONCLUSIVE);
        return COMPARE_EXIT_INCONCLUSIVE;
    }
    return COMPARE_EXIT_OK;
}
