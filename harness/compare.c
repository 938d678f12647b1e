/* convbench compare BASE NEW: a regression verdict for CI.

   Conv runs of the two results files are matched by key (backend, pass,
   shape, threads). For each matched key the repetitions (times_s[]) of
   BASE and NEW go through a two-sided Mann-Whitney U test (stats.h), as
   Google Benchmark's tools/compare.py does, and the verdict needs both
   statistical evidence and a minimum effect:
       slower  p < alpha, median(NEW) / median(BASE) > 1 + threshold and
               min(NEW) / min(BASE) > 1 + threshold
       faster  p < alpha and both ratios < 1 / (1 + threshold)
       same    otherwise
   (alpha 0.05, threshold 5% by default), so neither a tiny but consistent
   shift nor one lucky outlier fails a build. The ratio of the fastest
   repetitions is the second witness because on a loaded machine noise
   only ever adds time: a busy neighbour inflates medians, while a real
   regression slows even the least-disturbed repetition.

   --normalize B divides every repetition of a run by the fastest time of
   backend B for the same (pass, shape, threads) in the same file (B's
   least-disturbed repetition: the best estimate of the machine's speed
   during that run): the comparison is then of "time relative to B
   measured in the same run", which cancels a machine that is uniformly
   faster or slower (another CPU, a lower clock). B's own rows are shown as
   the reference and get no verdict. B should be code the change under
   test does not touch and whose speed is steady.

   Exit status: 1 if any row is slower, 0 otherwise, 2 if a file cannot be
   read or is not a valid results file, or nothing can be compared. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "commands.h"
#include "compare.h"
#include "results.h"
#include "stats.h"

typedef struct {
    char key[192];          /* backend|pass|shape|threads: what matches */
    char label[160];        /* "seed/conv2/b32 forward simd 2t" */
    const char *backend;
    int reps;
    double *v;              /* times (or ratios to the normalizer), reps values */
    double median;
    int is_ref;             /* the normalizer's own run */
    int unnormalized;       /* no normalizer run for its key in its file */
    int matched;
} row;

typedef struct {
    const char *path;
    cJSON *doc;
    row *rows;
    int n;
    char machine[256];
} side;

/* An integer field, 0 where absent (results_num gives NAN then). */
static int jint(const cJSON *o, const char *k)
{
    double v = results_num(o, k);
    return isfinite(v) ? (int)v : 0;
}

/* "n32 13x13x32 k64 3x3 s1 p0" */
static void shape_text(const cJSON *sh, char *buf, size_t len)
{
    snprintf(buf, len, "n%d %dx%dx%d k%d %dx%d s%d p%d", jint(sh, "n"), jint(sh, "h"),
             jint(sh, "w"), jint(sh, "c"), jint(sh, "k"), jint(sh, "r"), jint(sh, "s"),
             jint(sh, "stride"), jint(sh, "pad"));
}

/* The match key of a run for a given backend (its own, or the normalizer's). */
static void run_key(const cJSON *r, const char *backend, char *buf, size_t len)
{
    char sh[96];
    shape_text(cJSON_GetObjectItemCaseSensitive(r, "shape"), sh, sizeof sh);
    snprintf(buf, len, "%s|%s|%s|%d", backend, results_str(r, "pass"), sh, jint(r, "threads"));
}

static void run_label(const cJSON *r, char *buf, size_t len)
{
    const char *set = results_str(r, "set"), *layer = results_str(r, "layer");
    char where[96];
    if (set && layer)
        snprintf(where, sizeof where, "%s/%s/b%d", set, layer,
                 jint(cJSON_GetObjectItemCaseSensitive(r, "shape"), "n"));
    else
        shape_text(cJSON_GetObjectItemCaseSensitive(r, "shape"), where, sizeof where);
    snprintf(buf, len, "%s %s %s %dt", where, results_str(r, "pass"), results_str(r, "backend"),
             jint(r, "threads"));
}

static void median_of(const double *v, int n, double *med)
{
    double mn, mx;
    results_stats(v, n, med, &mn, &mx);
}

static const cJSON *find_conv(const cJSON *runs, const char *key, const char *backend)
{
    const cJSON *r;
    char k[192];
    cJSON_ArrayForEach(r, runs) {
        const char *t = results_str(r, "type");
        if (!t || strcmp(t, "conv")) continue;
        run_key(r, backend, k, sizeof k);
        if (!strcmp(k, key) && !strcmp(results_str(r, "backend"), backend)) return r;
    }
    return NULL;
}

static void times_of(const cJSON *r, double *v)
{
    int i = 0;
    const cJSON *x;
    cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(r, "times_s")) v[i++] = x->valuedouble;
}

/* Reads one file into rows; 0, or -1 after printing why. */
static int load(side *s, const char *path, const char *norm)
{
    char err[512];
    s->path = path;
    s->doc = results_read(path, err, sizeof err);
    if (!s->doc) {
        fprintf(stderr, "convbench compare: %s\n", err);
        return -1;
    }
    const cJSON *ctx = cJSON_GetObjectItemCaseSensitive(s->doc, "context");
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(ctx, "machine");
    const char *commit = results_str(ctx, "git_commit");
    snprintf(s->machine, sizeof s->machine, "%s, %s, commit %.10s, %s", results_str(m, "hostname"),
             results_str(m, "cpu_model"), commit ? commit : "?", results_str(ctx, "time_utc"));
    const cJSON *runs = cJSON_GetObjectItemCaseSensitive(s->doc, "runs");
    s->rows = calloc((size_t)cJSON_GetArraySize(runs) + 1, sizeof *s->rows);
    if (!s->rows) {
        fprintf(stderr, "convbench compare: out of memory\n");
        return -1;
    }
    int have_norm = 0;
    const cJSON *r;
    cJSON_ArrayForEach(r, runs) {
        const char *t = results_str(r, "type");
        if (!t || strcmp(t, "conv")) continue;
        row *w = &s->rows[s->n];
        run_key(r, results_str(r, "backend"), w->key, sizeof w->key);
        int dup = 0;
        for (int i = 0; i < s->n && !dup; i++) dup = !strcmp(s->rows[i].key, w->key);
        run_label(r, w->label, sizeof w->label);
        if (dup) {
            fprintf(stderr, "convbench compare: %s: %s appears twice; using the first\n", path,
                    w->label);
            continue;
        }
        w->backend = results_str(r, "backend");
        w->reps = jint(r, "repetitions");
        w->v = malloc(sizeof(double) * (size_t)w->reps);
        if (!w->v) {
            fprintf(stderr, "convbench compare: out of memory\n");
            return -1;
        }
        times_of(r, w->v);
        if (norm) {
            char nk[192];
            run_key(r, norm, nk, sizeof nk);
            const cJSON *ref = find_conv(runs, nk, norm);
            w->is_ref = !strcmp(w->backend, norm);
            have_norm |= ref != NULL;
            if (ref) {
                int nr = jint(ref, "repetitions");
                double *rt = malloc(sizeof(double) * (size_t)nr), rm, rmin, rmax;
                if (!rt) {
                    fprintf(stderr, "convbench compare: out of memory\n");
                    return -1;
                }
                times_of(ref, rt);
                results_stats(rt, nr, &rm, &rmin, &rmax);
                free(rt);
                for (int i = 0; i < w->reps; i++) w->v[i] /= rmin;
            } else {
                w->unnormalized = 1;
            }
        }
        median_of(w->v, w->reps, &w->median);
        s->n++;
    }
    if (norm && s->n && !have_norm) {
        fprintf(stderr, "convbench compare: %s has no conv runs of backend '%s' to normalize "
                        "by\n", path, norm);
        return -1;
    }
    return 0;
}

static void side_free(side *s)
{
    for (int i = 0; i < s->n; i++) free(s->rows[i].v);
    free(s->rows);
    cJSON_Delete(s->doc);
}

/* "1.234 ms", or "0.512x" for ratios */
static void value_text(double v, int ratio, char *buf, size_t len)
{
    if (ratio) snprintf(buf, len, "%.4fx", v);
    else if (v >= 1) snprintf(buf, len, "%.3f s", v);
    else if (v >= 1e-3) snprintf(buf, len, "%.3f ms", v * 1e3);
    else snprintf(buf, len, "%.3f us", v * 1e6);
}

compare_verdict_t compare_verdict(const double *base, int nb, const double *cur, int nc,
                                  double alpha, double threshold_pct, double *ratio, double *p)
{
    double mb, mc, minb, minc, mx;
    results_stats(base, nb, &mb, &minb, &mx);
    results_stats(cur, nc, &mc, &minc, &mx);
    stats_mwu t;
    stats_mann_whitney(base, nb, cur, nc, &t);
    double r = mc / mb, rmin = minc / minb, up = 1 + threshold_pct / 100;
    if (ratio) *ratio = r;
    if (p) *p = t.p;
    if (t.p >= alpha) return COMPARE_SAME;
    if (r > up && rmin > up) return COMPARE_SLOWER;
    if (r < 1 / up && rmin < 1 / up) return COMPARE_FASTER;
    return COMPARE_SAME;
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: convbench compare [--threshold PCT] [--alpha A] [--normalize BACKEND]\n"
            "                         [--format text|markdown] BASE NEW\n"
            "Matches the conv runs of two results files by (backend, pass, shape, threads)\n"
            "and gives each a verdict from its repetitions: a two-sided Mann-Whitney U test\n"
            "(alpha, default 0.05) plus a minimum effect: 'slower' needs p < alpha and a\n"
            "median time ratio NEW/BASE and a ratio of the fastest repetitions both above\n"
            "1 + PCT/100 (default 5); 'faster' p < alpha and both below 1/(1 + PCT/100).\n"
            "  --normalize B   compare times as ratios to backend B's fastest time for the\n"
            "                  same pass, shape and threads in the same file (cancels a\n"
            "                  uniformly faster or slower machine)\n"
            "  --format F      text (default) or markdown (for CI summaries)\n"
            "Exit status: 1 if any row is slower, 0 if none, 2 on unreadable input.\n");
}

int cmd_compare(int argc, char **argv)
{
    static const struct option opts[] = {
        { "threshold", required_argument, 0, 't' }, { "alpha", required_argument, 0, 'a' },
        { "normalize", required_argument, 0, 'n' }, { "format", required_argument, 0, 'f' },
        { "help", no_argument, 0, 'h' },            { 0, 0, 0, 0 },
    };
    double threshold = 5, alpha = 0.05;
    const char *norm = NULL;
    int markdown = 0;
    char *end;
    int o;
    optind = 1;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (o) {
        case 't':
            threshold = strtod(optarg, &end);
            if (*end || !(threshold >= 0) || threshold > 1000) {
                fprintf(stderr, "convbench compare: --threshold wants a percentage >= 0\n");
                return 2;
            }
            break;
        case 'a':
            alpha = strtod(optarg, &end);
            if (*end || !(alpha > 0 && alpha < 1)) {
                fprintf(stderr, "convbench compare: --alpha wants a number in (0, 1)\n");
                return 2;
            }
            break;
        case 'n': norm = optarg; break;
        case 'f':
            if (!strcmp(optarg, "markdown") || !strcmp(optarg, "md")) markdown = 1;
            else if (!strcmp(optarg, "text")) markdown = 0;
            else {
                fprintf(stderr, "convbench compare: --format is text or markdown\n");
                return 2;
            }
            break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (argc - optind != 2) {
        usage(stderr);
        return 2;
    }
    side base = { 0 }, cur = { 0 };
    if (load(&base, argv[optind], norm) || load(&cur, argv[optind + 1], norm)) {
        side_free(&base);
        side_free(&cur);
        return 2;
    }

    int nslow = 0, nfast = 0, nsame = 0, nref = 0, few = 0;
    const char *hdr_fmt = markdown ? "| %s | %s | %s | %s | %s | %s | %s |\n"
                                   : "%-50s %12s %12s %8s %9s %8s  %s\n";
    if (markdown) {
        printf("### convbench compare\n\n");
        printf("- base: `%s` (%s)\n- new: `%s` (%s)\n", base.path, base.machine, cur.path,
               cur.machine);
        printf("- two-sided Mann-Whitney U, alpha %g; minimum effect %g%%", alpha, threshold);
        if (norm) printf("; times relative to `%s` in the same file", norm);
        printf("\n\n");
        printf(hdr_fmt, "case", norm ? "base (rel.)" : "base median", norm ? "new (rel.)" : "new median",
               "ratio", "min ratio", "p", "verdict");
        printf("|---|---:|---:|---:|---:|---:|---|\n");
    } else {
        printf("base: %s (%s)\nnew:  %s (%s)\n", base.path, base.machine, cur.path, cur.machine);
        printf("two-sided Mann-Whitney U, alpha %g; minimum effect %g%%", alpha, threshold);
        if (norm) printf("; times relative to %s's fastest repetition in the same file", norm);
        printf("\n\n");
        printf(hdr_fmt, "case", norm ? "base (rel.)" : "base median", norm ? "new (rel.)" : "new median",
               "ratio", "min ratio", "p", "verdict");
    }
    /* rows in label order (files list runs in measurement order, which
       random interleaving shuffles) */
    int *order = malloc(sizeof(int) * (size_t)(cur.n + 1));
    for (int i = 0; order && i < cur.n; i++) {
        int j = i;
        for (; j > 0 && strcmp(cur.rows[order[j - 1]].label, cur.rows[i].label) > 0; j--)
            order[j] = order[j - 1];
        order[j] = i;
    }
    for (int k = 0; k < cur.n; k++) {
        int i = order ? order[k] : k;
        row *c = &cur.rows[i], *b = NULL;
        for (int j = 0; j < base.n && !b; j++)
            if (!strcmp(base.rows[j].key, c->key)) b = &base.rows[j];
        if (!b || b->unnormalized || c->unnormalized) continue;
        b->matched = c->matched = 1;
        char bt[32], ct[32], rt[32], mt[32], pt[32];
        double bmin, cmin, x;
        results_stats(b->v, b->reps, &x, &bmin, &x);
        results_stats(c->v, c->reps, &x, &cmin, &x);
        snprintf(mt, sizeof mt, "%.3f", cmin / bmin);
        value_text(b->median, norm != NULL, bt, sizeof bt);
        value_text(c->median, norm != NULL, ct, sizeof ct);
        double ratio = c->median / b->median;
        snprintf(rt, sizeof rt, "%.3f", ratio);
        const char *verdict;
        if (c->is_ref) {
            snprintf(pt, sizeof pt, "-");
            verdict = "reference";
            nref++;
        } else {
            double p;
            compare_verdict_t v = compare_verdict(b->v, b->reps, c->v, c->reps, alpha, threshold,
                                                  NULL, &p);
            snprintf(pt, sizeof pt, "%.4f", p);
            few |= stats_mwu_min_p(b->reps, c->reps) >= alpha;
            if (v == COMPARE_SLOWER) { verdict = "slower"; nslow++; }
            else if (v == COMPARE_FASTER) { verdict = "faster"; nfast++; }
            else { verdict = "same"; nsame++; }
        }
        if (markdown && !strcmp(verdict, "slower")) verdict = "**slower**";
        printf(hdr_fmt, c->label, bt, ct, rt, mt, pt, verdict);
    }
    free(order);
    int compared = nslow + nfast + nsame;
    printf("%s%d compared: %d slower, %d same, %d faster", markdown ? "\n" : "\n", compared,
           nslow, nsame, nfast);
    if (nref) printf(" (%d reference rows of %s)", nref, norm);
    printf("\n");

    /* what could not be compared, and why */
    for (int pass = 0; pass < 3; pass++) {
        side *s = pass == 1 ? &cur : &base, *other = pass == 1 ? &base : &cur;
        int listed = 0;
        for (int i = 0; i < s->n; i++) {
            row *w = &s->rows[i];
            int in_other = 0;
            for (int j = 0; j < other->n && !in_other; j++)
                in_other = !strcmp(other->rows[j].key, w->key);
            /* passes 0, 1: keys one file lacks; pass 2: keys both have
               that could not be normalized in one of them */
            if (w->matched || (pass < 2) == in_other) continue;
            if (!listed++) {
                if (pass < 2) printf("\nin %s only (%s):\n", pass ? "NEW" : "BASE", s->path);
                else printf("\nnot compared: no %s run for the same key in one of the files:\n", norm);
            }
            printf("%s%s\n", markdown ? "- " : "  ", w->label);
        }
    }
    if (few)
        printf("\nwarning: with so few repetitions no difference can reach p < %g: every "
               "verdict is 'same'; use 9 or more repetitions\n", alpha);
    side_free(&base);
    side_free(&cur);
    if (compared == 0) {
        fprintf(stderr, "convbench compare: no conv runs in common: nothing was compared\n");
        return 2;
    }
    return nslow ? 1 : 0;
}
