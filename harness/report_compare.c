/* convbench report: machines side by side, the one place where figures of
   two machines share a table. The first machine is the reference; every
   ratio is another machine's figure / the reference's.

   - the machines: CPU, ISA, cores, each one's measured peaks and bandwidths
     (from its own machine file);
   - conv GFLOP/s: only cases with the same shape, pass, backend and thread
     count on both, each with % of its own machine's peak at the run's ISA;
     the geometric mean ratio per backend over the cases both ran;
   - training images/s: auto and each backend (scale runs and training
     runs), each peer configuration, per thread count. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "report.h"

#define MAXM 16 /* machines compared; more are listed but not tabulated */

static const char *best_isa(const report_machine *m)
{
    return str_or(results_str(jobj(m->src->doc, "context"), "isa_supported"), "?");
}

static int isa_rank(const char *isa)
{
    return !strcmp(isa, "avx512") ? 0 : !strcmp(isa, "avx2") ? 1 : !strcmp(isa, "portable") ? 2 : 3;
}

/* The figure of runs of type (and level) at exactly threads, NAN if none. */
static double exact_bw(const report_machine *m, const char *type, const char *level, int threads)
{
    double best = NAN;
    const cJSON *r;
    if (!m->machine) return NAN;
    cJSON_ArrayForEach(r, runs_of(m->machine))
    {
        const char *lv = results_str(r, "level");
        double g = results_num(r, "gbs");
        if (is_type(r, type) && results_num(r, "threads") == threads &&
            (!level || (lv && !strcmp(lv, level))) && (!isfinite(best) || g > best))
            best = g;
    }
    return best;
}

typedef struct {
    const char *isa;
    int threads;
} peak_key;

static void machines_table(FILE *md, report_machine *const *ms, int n)
{
    char a[32];
    fprintf(md, "### The machines\n\n| |");
    for (int j = 0; j < n; j++) fprintf(md, " `%s` |", ms[j]->name);
    fprintf(md, "\n|---|");
    for (int j = 0; j < n; j++) fprintf(md, "---:|");
    fprintf(md, "\n| CPU |");
    for (int j = 0; j < n; j++)
        fprintf(md, " %s |", str_or(results_str(ms[j]->mc, "cpu_model"), "?"));
    fprintf(md, "\n| best ISA |");
    for (int j = 0; j < n; j++) fprintf(md, " %s |", best_isa(ms[j]));
    fprintf(md, "\n| cores / PUs |");
    for (int j = 0; j < n; j++)
        fprintf(md, " %g / %g |", results_num(ms[j]->mc, "cores"), results_num(ms[j]->mc, "pus"));
    fprintf(md, "\n| machine file |");
    for (int j = 0; j < n; j++)
        fprintf(md, " %s%s%s |", ms[j]->machine ? "`" : "",
                ms[j]->machine ? ms[j]->machine->path : "no machine file",
                ms[j]->machine ? "`" : "");
    /* every (ISA, threads) peak any machine measured */
    peak_key pk[64];
    int np = 0, maxt = 0;
    for (int j = 0; j < n; j++) {
        const cJSON *r;
        if (!ms[j]->machine) continue;
        cJSON_ArrayForEach(r, runs_of(ms[j]->machine))
        {
            int t = (int)results_num(r, "threads");
            if (t > maxt && t <= 256) maxt = t;
            const char *isa = results_str(r, "isa");
            if (!is_type(r, "peak") || !isa) continue;
            int k = 0;
            while (k < np && !(pk[k].threads == t && !strcmp(pk[k].isa, isa))) k++;
            if (k == np && np < 64) pk[np].isa = isa, pk[np++].threads = t;
        }
    }
    for (int i = 1; i < np; i++)
        for (int k = i; k > 0; k--) {
            int ra = isa_rank(pk[k - 1].isa), rb = isa_rank(pk[k].isa);
            if (ra < rb || (ra == rb && pk[k - 1].threads <= pk[k].threads)) break;
            peak_key t = pk[k];
            pk[k] = pk[k - 1];
            pk[k - 1] = t;
        }
    for (int i = 0; i < np; i++) {
        fprintf(md, "\n| FMA peak %s, %d thread%s (GFLOP/s) |", pk[i].isa, pk[i].threads,
                pk[i].threads > 1 ? "s" : "");
        for (int j = 0; j < n; j++) {
            double v = machine_peak(ms[j], pk[i].isa, pk[i].threads);
            fprintf(md, " %s |", isfinite(v) ? fmt3(a, sizeof a, v) : "–");
        }
    }
    static const char *const levels[] = { "L1", "L2", "L3", "memory", NULL };
    for (int t = 1; t <= maxt; t++)
        for (int l = 0; l < 5; l++) {
            double v[MAXM];
            int any = 0;
            for (int j = 0; j < n; j++) {
                v[j] = levels[l] ? exact_bw(ms[j], "bandwidth", levels[l], t)
                                 : exact_bw(ms[j], "triad", NULL, t);
                any |= isfinite(v[j]);
            }
            if (!any) continue;
            fprintf(md, "\n| %s bandwidth, %d thread%s (GB/s) |", levels[l] ? levels[l] : "triad",
                    t, t > 1 ? "s" : "");
            for (int j = 0; j < n; j++)
                fprintf(md, " %s |", isfinite(v[j]) ? fmt3(a, sizeof a, v[j]) : "–");
        }
    fprintf(md, "\n\n");
}

/* A case of one machine, by shape, pass, backend and threads, in any of its
   bench files (the file is returned too: % of peak needs its ISA). */
static int find_same(const report_machine *m, const crow *k, crow *out, const rfile **from)
{
    for (int i = 0; i < m->bench.n; i++) {
        const cJSON *r;
        cJSON_ArrayForEach(r, runs_of(m->bench.f[i]))
        {
            crow c;
            if (!crow_of(r, &c) && crow_same_case(&c, k) && isfinite(c.gflops)) {
                *out = c;
                *from = m->bench.f[i];
                return 1;
            }
        }
    }
    return 0;
}

typedef struct {
    crow c;
    const rfile *f;
} cref;

static int cmp_cref(const void *a, const void *b)
{
    const cref *x = a, *y = b;
    if (x->c.threads != y->c.threads) return x->c.threads - y->c.threads;
    int c = is_onednn(x->c.backend) - is_onednn(y->c.backend);
    if (c) return c;
    if ((c = backend_rank(x->c.backend) - backend_rank(y->c.backend))) return c;
    if ((c = strcmp(x->c.backend, y->c.backend))) return c;
    if ((c = layer_rank(&x->c, NULL, 0) - layer_rank(&y->c, NULL, 0))) return c;
    if ((c = strcmp(x->c.layer, y->c.layer))) return c;
    if (x->c.n != y->c.n) return x->c.n - y->c.n;
    return results_pass_parse(x->c.pass) - results_pass_parse(y->c.pass);
}

static void pct_cell(FILE *md, const report_machine *m, const rfile *f, const crow *c)
{
    double p = own_pct(m, f, c);
    if (isfinite(p))
        fprintf(md, " %.0f%% |", p);
    else if (!m->machine)
        fprintf(md, " no machine file |");
    else
        fprintf(md, " no %s peak |", file_isa(f));
}

/* The cases of one thread count: per other machine, the geometric mean
   ratio per backend (with each machine's mean % of its own peak), then
   every case. The rows are written to memory first, so that the summary
   they feed can come before them. */
static void conv_compare_threads(FILE *md, report_machine *const *ms, int n, const cref *cases,
                                 int nc)
{
    const report_machine *ref = ms[0];
    int t = cases[0].c.threads;
    const char *ts = t > 1 ? "s" : "";
    char a[32], b[32], c[32];
    char *rows = NULL;
    size_t rows_len = 0;
    FILE *rf = open_memstream(&rows, &rows_len);
    if (!rf) return;
    /* per other machine and backend: log-ratio sums, counts, % of peak sums */
    const char *be[64];
    int nb = 0, over[MAXM] = { 0 }, direct[MAXM] = { 0 };
    static double lsum[MAXM][64], psum[MAXM][64], pref[MAXM][64];
    static int cnt[MAXM][64], pn[MAXM][64], prn[MAXM][64];
    memset(lsum, 0, sizeof lsum), memset(psum, 0, sizeof psum), memset(pref, 0, sizeof pref);
    memset(cnt, 0, sizeof cnt), memset(pn, 0, sizeof pn), memset(prn, 0, sizeof prn);
    for (int i = 0; i < nc; i++) {
        const crow *x = &cases[i].c;
        int bi = 0;
        while (bi < nb && strcmp(be[bi], x->backend)) bi++;
        if (bi == nb) {
            if (nb == 64) continue;
            be[nb++] = x->backend;
        }
        double pr = own_pct(ref, cases[i].f, x);
        if (!is_winograd(x->backend)) direct[0]++, over[0] += pr > 100;
        fprintf(rf, "| %s/%s/b%d | %s | %s | %s |", x->set, x->layer, x->n, x->backend,
                short_pass(x->pass), fmt3(a, sizeof a, x->gflops));
        pct_cell(rf, ref, cases[i].f, x);
        double g[MAXM];
        for (int j = 1; j < n; j++) {
            crow d;
            const rfile *f;
            g[j] = NAN;
            if (!find_same(ms[j], x, &d, &f)) {
                fprintf(rf, " – | – |");
                continue;
            }
            g[j] = d.gflops;
            fprintf(rf, " %s |", fmt3(a, sizeof a, d.gflops));
            pct_cell(rf, ms[j], f, &d);
            double p = own_pct(ms[j], f, &d);
            if (!is_winograd(d.backend)) direct[j]++, over[j] += p > 100;
            if (isfinite(p)) psum[j][bi] += p, pn[j][bi]++;
            if (isfinite(pr)) pref[j][bi] += pr, prn[j][bi]++;
        }
        for (int j = 1; j < n; j++) {
            double q = g[j] / x->gflops;
            fprintf(rf, " %s |", isfinite(q) ? fmt3(a, sizeof a, q) : "–");
            if (isfinite(q) && q > 0) lsum[j][bi] += log(q), cnt[j][bi]++;
        }
        fprintf(rf, "\n");
    }
    fclose(rf);
    fprintf(md,
            "### Convolution GFLOP/s, %d thread%s\n\nFrom each machine's bench file at %d "
            "thread%s; GFLOP/s = direct-convolution FLOPs / median time (Winograd: effective); "
            "%% peak = of that machine's own measured FMA peak at its run's ISA and %d "
            "thread%s.\n\n",
            t, ts, t, ts, t, ts);
    for (int j = 1; j < n; j++) {
        double all = 0;
        int alln = 0, hi = -1, lo = -1;
        for (int bi = 0; bi < nb; bi++) {
            if (!cnt[j][bi]) continue;
            all += lsum[j][bi], alln += cnt[j][bi];
            double q = lsum[j][bi] / cnt[j][bi];
            if (hi < 0 || q > lsum[j][hi] / cnt[j][hi]) hi = bi;
            if (lo < 0 || q < lsum[j][lo] / cnt[j][lo]) lo = bi;
        }
        if (!alln) continue;
        fprintf(md,
                "Geometric mean of `%s` / `%s` GFLOP/s per backend over the cases both ran "
                "at %d thread%s, with the mean %% of each machine's own peak:\n\n"
                "| backend | cases | %s / %s | `%s` %% peak | `%s` %% peak |\n"
                "|---|---:|---:|---:|---:|\n",
                ms[j]->name, ref->name, t, ts, ms[j]->name, ref->name, ref->name, ms[j]->name);
        for (int bi = 0; bi < nb; bi++) {
            if (!cnt[j][bi]) continue;
            fprintf(md, "| %s | %d | %s |", be[bi], cnt[j][bi],
                    fmt3(a, sizeof a, exp(lsum[j][bi] / cnt[j][bi])));
            if (prn[j][bi])
                fprintf(md, " %.0f%% |", pref[j][bi] / prn[j][bi]);
            else
                fprintf(md, " %s |", ref->machine ? "–" : "no machine file");
            if (pn[j][bi])
                fprintf(md, " %.0f%% |\n", psum[j][bi] / pn[j][bi]);
            else
                fprintf(md, " %s |\n", ms[j]->machine ? "–" : "no machine file");
        }
        fprintf(md, "| **all** | %d | **%s** | | |\n\n", alln, fmt3(a, sizeof a, exp(all / alln)));
        fprintf(md,
                "- at %d thread%s `%s` runs the cases both ran at %sx the GFLOP/s of `%s` "
                "(geometric mean over %d cases); highest ratio %s (%sx), lowest %s (%sx).\n",
                t, ts, ms[j]->name, fmt3(a, sizeof a, exp(all / alln)), ref->name, alln, be[hi],
                fmt3(b, sizeof b, exp(lsum[j][hi] / cnt[j][hi])), be[lo],
                fmt3(c, sizeof c, exp(lsum[j][lo] / cnt[j][lo])));
    }
    for (int j = 0; j < n; j++)
        if (over[j])
            fprintf(md,
                    "- `%s`: %d of %d direct-algorithm cases above 100%% of its machine "
                    "file's peak: that peak looks low for this CPU, so its %% figures are "
                    "overstated (the GFLOP/s and ratios are not affected).\n",
                    ms[j]->name, over[j], direct[j]);
    fprintf(md, "\n#### Every case measured on both, %d thread%s\n\n| case | backend | pass |", t,
            ts);
    for (int j = 0; j < n; j++) fprintf(md, " `%s` GFLOP/s | %% peak |", ms[j]->name);
    for (int j = 1; j < n; j++) fprintf(md, " %s / %s |", ms[j]->name, ref->name);
    fprintf(md, "\n|---|---|---|");
    for (int j = 0; j < 3 * n - 1; j++) fprintf(md, "---:|");
    fprintf(md, "\n%s\n", rows ? rows : "");
    free(rows);
}

static void conv_compare(FILE *md, report_machine *const *ms, int n)
{
    const report_machine *ref = ms[0];
    int total = 0;
    for (int i = 0; i < ref->bench.n; i++) {
        const cJSON *r;
        cJSON_ArrayForEach(r, runs_of(ref->bench.f[i])) total += is_type(r, "conv");
    }
    cref *cases = calloc((size_t)total + 1, sizeof *cases);
    if (!cases) return;
    int nc = 0;
    for (int i = 0; i < ref->bench.n; i++) {
        const cJSON *r;
        cJSON_ArrayForEach(r, runs_of(ref->bench.f[i]))
        {
            crow c, d;
            const rfile *g;
            if (crow_of(r, &c) || !isfinite(c.gflops)) continue;
            int dup = 0, other = 0;
            for (int k = 0; k < nc && !dup; k++) dup = crow_same_case(&cases[k].c, &c);
            for (int j = 1; j < n && !other; j++) other = find_same(ms[j], &c, &d, &g);
            if (!dup && other) cases[nc].c = c, cases[nc++].f = ref->bench.f[i];
        }
    }
    if (!nc) {
        fprintf(md, "No conv case was measured on both machines with the same shape, pass, "
                    "backend and thread count (bench files).\n\n");
        free(cases);
        return;
    }
    if (nc) qsort(cases, (size_t)nc, sizeof *cases, cmp_cref);
    for (int lo = 0; lo < nc;) {
        int hi = lo;
        while (hi < nc && cases[hi].c.threads == cases[lo].c.threads) hi++;
        conv_compare_threads(md, ms, n, cases + lo, hi - lo);
        lo = hi;
    }
    free(cases);
}

/* ---- training ------------------------------------------------------------ */

typedef struct {
    char label[256];
    int src, threads, is_auto; /* src: 0 scale run, 1 training run, 2 peer */
    double v[MAXM];
} tcmp;

typedef struct {
    tcmp *r;
    int n, cap;
} tcmp_list;

static void tcmp_put(tcmp_list *l, const char *label, int src, int threads, int is_auto, int j,
                     double v, int n)
{
    int k = 0;
    while (k < l->n &&
           !(l->r[k].src == src && l->r[k].threads == threads && !strcmp(l->r[k].label, label)))
        k++;
    if (k == l->n) {
        if (l->n == l->cap) {
            int cap = l->cap ? 2 * l->cap : 32;
            tcmp *g = realloc(l->r, (size_t)cap * sizeof *g);
            if (!g) return;
            l->r = g, l->cap = cap;
        }
        tcmp *t = &l->r[l->n++];
        snprintf(t->label, sizeof t->label, "%s", label);
        t->src = src, t->threads = threads, t->is_auto = is_auto;
        for (int i = 0; i < n; i++) t->v[i] = NAN;
    }
    l->r[k].v[j] = v;
}

static int cmp_tcmp(const void *a, const void *b)
{
    const tcmp *x = a, *y = b;
    if (x->src != y->src) return x->src - y->src;
    if (x->threads != y->threads) return x->threads - y->threads;
    if (x->is_auto != y->is_auto) return y->is_auto - x->is_auto;
    int c = x->src == 2 ? 0 : backend_rank(x->label) - backend_rank(y->label);
    return c ? c : strcmp(x->label, y->label);
}

static void train_compare(FILE *md, report_machine *const *ms, int n)
{
    tcmp_list l = { 0 };
    for (int j = 0; j < n; j++) {
        const report_machine *m = ms[j];
        const cJSON *r;
        if (m->scale.n) cJSON_ArrayForEach(r, runs_of(m->scale.f[0]))
            {
                const char *b = results_str(r, "backend");
                double ips = results_num(r, "images_per_s");
                if (!is_type(r, "train") || !b || !(ips > 0)) continue;
                tcmp_put(&l, b, 0, (int)results_num(r, "threads"), !strcmp(b, "auto"), j, ips, n);
            }
        for (int i = 0; i < m->train.n; i++) {
            trow t = { 0 };
            if (train_row(runs_of(m->train.f[i]), -1, &t)) continue;
            cJSON_ArrayForEach(r, runs_of(m->train.f[i])) if (is_type(r, "train"))
            {
                snprintf(t.name, sizeof t.name, "%s", str_or(results_str(r, "backend"), "?"));
                break;
            }
            tcmp_put(&l, t.name, 1, t.threads, !strcmp(t.name, "auto"), j, t.ips, n);
        }
        for (int i = 0; i < m->peer.n; i++) {
            int seen[257] = { 0 };
            cJSON_ArrayForEach(r, runs_of(m->peer.f[i]))
            {
                int th = (int)results_num(r, "threads");
                trow t = { 0 };
                if (!is_type(r, "train") || th < 0 || th > 256 || seen[th]++ ||
                    train_row(runs_of(m->peer.f[i]), th, &t) || !(t.ips > 0))
                    continue;
                char k[256];
                peer_key(m->peer.f[i], k, sizeof k);
                tcmp_put(&l, k, 2, th, 0, j, t.ips, n);
            }
        }
    }
    if (!l.n) return;
    if (l.n) qsort(l.r, (size_t)l.n, sizeof *l.r, cmp_tcmp);
    static const char *const src_name[] = { "scale run", "training run", "peer" };
    fprintf(md,
            "### Training images/s\n\nThe seed network at batch 32 on each machine, per "
            "thread count: scale runs (each backend's timed blocks interleaved in one run), "
            "training runs (`convbench train`: images per epoch / mean epoch time) and "
            "the peers (PyTorch, Keras) in each configuration. A ratio only where both "
            "machines ran the same thing at the same thread count.\n\n| run | source | threads |");
    for (int j = 0; j < n; j++) fprintf(md, " `%s` |", ms[j]->name);
    for (int j = 1; j < n; j++) fprintf(md, " %s / %s |", ms[j]->name, ms[0]->name);
    fprintf(md, "\n|---|---|---:|");
    for (int j = 0; j < 2 * n - 1; j++) fprintf(md, "---:|");
    fprintf(md, "\n");
    char a[32], b[32], c[32];
    for (int i = 0; i < l.n; i++) {
        const tcmp *t = &l.r[i];
        fprintf(md, "| %s%s%s | %s | %d |", t->is_auto ? "**" : "", t->label,
                t->is_auto ? "**" : "", src_name[t->src], t->threads);
        for (int j = 0; j < n; j++)
            fprintf(md, " %s |", isfinite(t->v[j]) ? fmt3(a, sizeof a, t->v[j]) : "–");
        for (int j = 1; j < n; j++) {
            double q = t->v[j] / t->v[0];
            fprintf(md, " %s |", isfinite(q) ? fmt3(a, sizeof a, q) : "–");
        }
        fprintf(md, "\n");
    }
    fprintf(md, "\n");
    for (int i = 0; i < l.n; i++) {
        const tcmp *t = &l.r[i];
        if (!t->is_auto) continue;
        for (int j = 1; j < n; j++)
            if (isfinite(t->v[j]) && isfinite(t->v[0]))
                fprintf(md,
                        "- auto at %d thread%s (%s): `%s` trains %sx the images/s of `%s` (%s vs "
                        "%s).\n",
                        t->threads, t->threads > 1 ? "s" : "", src_name[t->src], ms[j]->name,
                        fmt3(a, sizeof a, t->v[j] / t->v[0]), ms[0]->name,
                        fmt3(b, sizeof b, t->v[j]), fmt3(c, sizeof c, t->v[0]));
    }
    fprintf(md, "\n");
    free(l.r);
}

void section_compare(out_ctx *o, report_machine *const *ms, int n)
{
    FILE *md = o->md;
    if (n > MAXM) n = MAXM;
    fprintf(md, "## Machines compared\n\n");
    for (int j = 0; j < n; j++)
        fprintf(md, "%s`%s` (%s, %s)",
                j == 0       ? ""
                : j == n - 1 ? " and "
                             : ", ",
                ms[j]->name, str_or(results_str(ms[j]->mc, "cpu_model"), "?"), best_isa(ms[j]));
    fprintf(md,
            ", side by side: each figure from its own machine's files, ratios = the other "
            "machine / `%s`. Only cases with the same shape, pass, backend and thread count "
            "are compared, and every table says the threads.\n\n",
            ms[0]->name);
    machines_table(md, ms, n);
    conv_compare(md, ms, n);
    train_compare(md, ms, n);
}
