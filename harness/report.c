/* convbench report: REPORT.md and its plots, regenerated from results
   files alone.

   Input: the files given, or else the newest file of each kind under
   results/ and results/peers/ (by context.time_utc; for "train", the newest
   per backend and thread count; for "peer", per peer and configuration) and
   the machine file of the bench run's host. Peers (PyTorch, Keras) join the
   training table and get a per-layer GFLOP/s table beside convbench's
   fastest backend; a train file's "autotune" runs give the auto choice table. Output: the
   markdown report (default REPORT.md), gnuplot data files and PNGs under
   results/plots/ (drawn by the gnuplot scripts in scripts/). Every number in the report is
   read from a results file or computed from them; the sentences under the
   tables are generated from the figures. With bench files from several
   machines, a hardware comparison puts the same runs side by side, one
   column per machine (named hostname / cpu_model from each file's context).

   Roofline: arithmetic intensity of a conv pass = its direct-convolution
   FLOPs / the minimal bytes it must move, input + weights + output once
   each in fp32: 4 (NHWC + RSCK + NPQK). Peak is the measured FMA peak at
   the run's ISA and thread count, bandwidth the measured triad, both from
   the machine file. */
#include <dirent.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "commands.h"
#include "conv.h"
#include "results.h"
#include "shapes.h"

#ifndef CONVBENCH_SRCDIR
#define CONVBENCH_SRCDIR "."
#endif

#define MAXF 64

typedef struct {
    char path[PATH_MAX];
    cJSON *doc;
    const char *kind, *time, *host, *cpu;
    char label[256];        /* machine column name */
} rfile;

typedef struct {
    rfile *f[MAXF];
    int n;
} flist;

typedef struct {
    FILE *md;
    const char *plots;      /* directory for data files and PNGs */
    const char *link;       /* the same, as the report links it */
    const char *scripts;    /* where the *.gp files are */
    int gnuplot;            /* gnuplot found */
    int drawn, failed;
} out_ctx;

/* ---- JSON access --------------------------------------------------------- */

static const cJSON *jobj(const cJSON *o, const char *k)
{
    return cJSON_GetObjectItemCaseSensitive(o, k);
}

static const cJSON *runs_of(const rfile *f) { return jobj(f->doc, "runs"); }

static int is_type(const cJSON *r, const char *t)
{
    const char *x = results_str(r, "type");
    return x && !strcmp(x, t);
}

static const char *str_or(const char *s, const char *dflt) { return s ? s : dflt; }

/* "312", "31.2", "3.12": three significant figures */
static const char *fmt3(char *buf, size_t len, double v)
{
    if (!isfinite(v)) snprintf(buf, len, "-");
    else if (fabs(v) >= 100) snprintf(buf, len, "%.0f", v);
    else if (fabs(v) >= 10) snprintf(buf, len, "%.1f", v);
    else snprintf(buf, len, "%.2f", v);
    return buf;
}

/* ---- files --------------------------------------------------------------- */

static rfile *load_file(const char *path, int quiet)
{
    char err[768];
    cJSON *doc = results_read(path, err, sizeof err);
    if (!doc) {
        if (!quiet) fprintf(stderr, "convbench report: %s\n", err);
        else fprintf(stderr, "convbench report: skipping %s\n", err);
        return NULL;
    }
    rfile *f = calloc(1, sizeof *f);
    if (!f) {
        cJSON_Delete(doc);
        return NULL;
    }
    snprintf(f->path, sizeof f->path, "%s", path);
    f->doc = doc;
    f->kind = results_str(doc, "kind");
    const cJSON *ctx = jobj(doc, "context");
    f->time = str_or(results_str(ctx, "time_utc"), "");
    f->host = str_or(results_str(jobj(ctx, "machine"), "hostname"), "unknown");
    f->cpu = str_or(results_str(jobj(ctx, "machine"), "cpu_model"), "unknown");
    snprintf(f->label, sizeof f->label, "%s / %s", f->host, f->cpu);
    return f;
}

static void free_file(rfile *f)
{
    if (!f) return;
    cJSON_Delete(f->doc);
    free(f);
}

static void add(flist *l, rfile *f)
{
    if (l->n < MAXF) l->f[l->n++] = f;
    else free_file(f);
}

/* Key of a train file: its first train run's backend and thread count. */
static void train_key(const rfile *f, char *buf, size_t len)
{
    const cJSON *r;
    cJSON_ArrayForEach(r, runs_of(f)) if (is_type(r, "train")) {
        snprintf(buf, len, "%s@%g", str_or(results_str(r, "backend"), "?"), results_num(r, "threads"));
        return;
    }
    snprintf(buf, len, "?");
}

/* Key of a peer file: its peer name and configuration. */
static void peer_key(const rfile *f, char *buf, size_t len)
{
    const cJSON *p = jobj(jobj(f->doc, "context"), "peer");
    snprintf(buf, len, "%s (%s)", str_or(results_str(p, "name"), "?"),
             str_or(results_str(p, "config"), "?"));
}

/* What makes two files of a kind the same series: only the newest of each
   is shown. */
static void file_key(const rfile *f, char *buf, size_t len)
{
    if (!strcmp(f->kind, "train")) train_key(f, buf, len);
    else if (!strcmp(f->kind, "peer")) peer_key(f, buf, len);
    else if (!strcmp(f->kind, "machine")) snprintf(buf, len, "%s", f->host);
    else snprintf(buf, len, "-");
}

static void load_dir(const char *dir, flist *all)
{
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t n = strlen(e->d_name);
        if (e->d_name[0] == '.' || n < 6 || strcmp(e->d_name + n - 5, ".json")) continue;
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        struct stat st;
        if (stat(path, &st) || !S_ISREG(st.st_mode)) continue;
        rfile *f = load_file(path, 1);
        if (f) add(all, f);
    }
    closedir(d);
}

/* The list a file of this kind goes to, NULL if the report has no section for it. */
static flist *list_for(const rfile *f, flist *bench, flist *scale, flist *train, flist *machine,
                       flist *peer)
{
    return !strcmp(f->kind, "bench") ? bench : !strcmp(f->kind, "scale") ? scale
         : !strcmp(f->kind, "train") ? train : !strcmp(f->kind, "machine") ? machine
         : !strcmp(f->kind, "peer") ? peer : NULL;
}

/* The newest results of each kind in dir and dir/peers (train: per backend
   and threads; peer: per peer and configuration; machine: per host). */
static int scan(const char *dir, flist *bench, flist *scale, flist *train, flist *machine,
                flist *peer)
{
    flist all = { { 0 }, 0 };
    char sub[PATH_MAX];
    snprintf(sub, sizeof sub, "%s/peers", dir);
    load_dir(dir, &all);
    load_dir(sub, &all);
    for (int i = 0; i < all.n; i++) {
        rfile *f = all.f[i];
        int newest = 1;
        char ki[256], kj[256];
        file_key(f, ki, sizeof ki);
        for (int j = 0; j < all.n && newest; j++) {
            rfile *g = all.f[j];
            if (i == j || strcmp(f->kind, g->kind)) continue;
            file_key(g, kj, sizeof kj);
            if (strcmp(ki, kj)) continue;
            int c = strcmp(g->time, f->time);
            newest = !(c > 0 || (c == 0 && j < i));
        }
        flist *to = list_for(f, bench, scale, train, machine, peer);
        if (newest && to) add(to, f);
        else free_file(f);
    }
    return 0;
}

/* The machine file of a host, from the list or results/machine-<host>.json. */
static const rfile *machine_for(flist *machine, const char *host, const char *dir)
{
    for (int i = 0; i < machine->n; i++)
        if (!strcmp(machine->f[i]->host, host)) return machine->f[i];
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/machine-%s.json", dir, host);
    if (access(path, R_OK)) return NULL;
    rfile *f = load_file(path, 1);
    if (!f) return NULL;
    add(machine, f);
    return machine->n && machine->f[machine->n - 1] == f ? f : NULL;
}

static double machine_peak(const rfile *m, const char *isa, int threads)
{
    const cJSON *r;
    if (m)
        cJSON_ArrayForEach(r, runs_of(m))
            if (is_type(r, "peak") && results_num(r, "threads") == threads && results_str(r, "isa") &&
                !strcmp(results_str(r, "isa"), isa))
                return results_num(r, "gflops");
    return NAN;
}

static double machine_triad(const rfile *m, int threads)
{
    const cJSON *r;
    double best = NAN;
    if (m)
        cJSON_ArrayForEach(r, runs_of(m))
            if (is_type(r, "triad") && results_num(r, "threads") == threads) best = results_num(r, "gbs");
    return best;
}

/* ---- plots --------------------------------------------------------------- */

static FILE *data_file(out_ctx *o, const char *name)
{
    char path[PATH_MAX + 256];
    snprintf(path, sizeof path, "%s/%s", o->plots, name);
    FILE *f = fopen(path, "w");
    if (!f) fprintf(stderr, "convbench report: cannot write %s\n", path);
    return f;
}

/* Runs scripts/<script>.gp with the given variable settings; links the PNG
   in the report under caption. */
static void draw(out_ctx *o, const char *script, const char *png, const char *caption,
                 const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static void draw(out_ctx *o, const char *script, const char *png, const char *caption,
                 const char *fmt, ...)
{
    if (!o->gnuplot) {
        fprintf(o->md, "_(%s: gnuplot not found; the data is in %s/)_\n\n", caption, o->link);
        return;
    }
    char vars[2048], cmd[3 * PATH_MAX + 2048 + 256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(vars, sizeof vars, fmt, ap);
    va_end(ap);
    snprintf(cmd, sizeof cmd, "cd '%s' && gnuplot -e \"%s; out='%s'\" '%s/%s.gp' 2>&1", o->plots,
             vars, png, o->scripts, script);
    FILE *p = popen(cmd, "r");
    char line[512];
    int said = 0;
    while (p && fgets(line, sizeof line, p))
        if (said++ < 5) fprintf(stderr, "gnuplot (%s): %s", script, line);
    int rc = p ? pclose(p) : -1;
    if (rc) {
        o->failed++;
        fprintf(stderr, "convbench report: gnuplot failed on %s.gp for %s\n", script, png);
        fprintf(o->md, "_(%s: gnuplot failed)_\n\n", caption);
        return;
    }
    o->drawn++;
    printf("  plot %s/%s\n", o->plots, png);
    fprintf(o->md, "![%s](%s/%s)\n\n", caption, o->link, png);
}

/* ---- the machine --------------------------------------------------------- */

static void size_text(double b, char *buf, size_t len)
{
    if (b >= 1 << 30) snprintf(buf, len, "%.1f GiB", b / (1 << 30));
    else if (b >= 1 << 20) snprintf(buf, len, "%.1f MiB", b / (1 << 20));
    else snprintf(buf, len, "%.0f KiB", b / 1024);
}

static void section_machine(out_ctx *o, const rfile *m, const rfile *src)
{
    FILE *md = o->md;
    const rfile *f = m ? m : src;
    const cJSON *ctx = jobj(f->doc, "context"), *mc = jobj(ctx, "machine"), *b = jobj(ctx, "build");
    char buf[64];
    fprintf(md, "## The machine\n\n");
    fprintf(md, "From `%s` (%s).\n\n| | |\n|---|---|\n", f->path, f->time);
    fprintf(md, "| host | %s |\n| CPU | %s |\n", f->host, f->cpu);
    size_text(results_num(mc, "memory_bytes"), buf, sizeof buf);
    fprintf(md, "| topology | %g package(s), %g core(s), %g PU(s), %g NUMA node(s), %s |\n",
            results_num(mc, "packages"), results_num(mc, "cores"), results_num(mc, "pus"), results_num(mc, "numa_nodes"), buf);
    const cJSON *c;
    cJSON_ArrayForEach(c, jobj(mc, "caches")) {
        size_text(results_num(c, "size_bytes"), buf, sizeof buf);
        fprintf(md, "| L%g %s cache | %s x %g |\n", results_num(c, "level"), str_or(results_str(c, "type"), ""),
                buf, results_num(c, "count"));
    }
    fprintf(md, "| ISA flags |");
    cJSON_ArrayForEach(c, jobj(mc, "isa_flags")) fprintf(md, " %s", c->valuestring);
    fprintf(md, " |\n| compiler | %s `%s` |\n", str_or(results_str(b, "compiler"), "?"),
            str_or(results_str(b, "cflags"), "?"));
    const cJSON *v = jobj(f->doc, "versions");
    if (v) {
        fprintf(md, "| libraries |");
        cJSON_ArrayForEach(c, v) if (cJSON_IsString(c)) fprintf(md, " %s %s;", c->string, c->valuestring);
        fprintf(md, " |\n");
    }
    fprintf(md, "\n");
    if (!m) {
        fprintf(md, "No machine file for %s: run `convbench info` on it for the measured peak "
                    "and bandwidth (%% of peak and the roofline need them).\n\n", f->host);
        return;
    }
    fprintf(md, "Measured (median of repetitions): fp32 FMA peak in GFLOP/s and triad bandwidth "
                "in GB/s.\n\n| | threads | value |\n|---|---:|---:|\n");
    const cJSON *r;
    cJSON_ArrayForEach(r, runs_of(m)) {
        if (is_type(r, "peak"))
            fprintf(md, "| peak %s | %g | %s GFLOP/s |\n", str_or(results_str(r, "isa"), "?"),
                    results_num(r, "threads"), fmt3(buf, sizeof buf, results_num(r, "gflops")));
        else if (is_type(r, "triad"))
            fprintf(md, "| triad | %g | %s GB/s |\n", results_num(r, "threads"),
                    fmt3(buf, sizeof buf, results_num(r, "gbs")));
    }
    fprintf(md, "\n");
}

/* ---- conv tables --------------------------------------------------------- */

typedef struct {
    const char *set, *layer, *pass, *backend, *impl;
    int n, threads;
    double gflops, pct, flops, ai;
} crow;

static int crow_of(const cJSON *r, crow *c)
{
    if (!is_type(r, "conv")) return -1;
    const cJSON *sh = jobj(r, "shape");
    c->set = str_or(results_str(r, "set"), "shape");
    c->layer = str_or(results_str(r, "layer"), str_or(results_str(r, "name"), "?"));
    c->pass = results_str(r, "pass");
    c->backend = results_str(r, "backend");
    c->impl = results_str(r, "impl");
    c->n = (int)results_num(sh, "n");
    c->threads = (int)results_num(r, "threads");
    c->gflops = results_num(r, "gflops");
    c->pct = results_num(r, "pct_peak");
    double n = results_num(sh, "n"), h = results_num(sh, "h"), w = results_num(sh, "w"), ch = results_num(sh, "c"),
           k = results_num(sh, "k"), rr = results_num(sh, "r"), s = results_num(sh, "s"), st = results_num(sh, "stride"),
           pad = results_num(sh, "pad");
    double p = floor((h + 2 * pad - rr) / st) + 1, q = floor((w + 2 * pad - s) / st) + 1;
    c->flops = 2 * n * k * ch * rr * s * p * q;
    c->ai = c->flops / (4 * (n * h * w * ch + rr * s * ch * k + n * p * q * k));
    return 0;
}

static int is_onednn(const char *b) { return !strncmp(b, "onednn", 6); }

/* Backends in registry order (unknown names after, in order of
   appearance), ours first and oneDNN's after. */
static int backend_rank(const char *name)
{
    int i = 0;
    for (const conv_backend *const *b = conv_backends(); *b; b++, i++)
        if (!strcmp((*b)->name, name)) return i;
    return 1000;
}

static int backend_list(const cJSON *runs, const char **out, int max)
{
    int n = 0;
    for (int ours = 1; ours >= 0; ours--) {
        int first = n;
        const cJSON *r;
        cJSON_ArrayForEach(r, runs) {
            crow c;
            if (crow_of(r, &c) || is_onednn(c.backend) == ours) continue;
            int k = 0;
            while (k < n && strcmp(out[k], c.backend)) k++;
            if (k == n && n < max) out[n++] = c.backend;
        }
        for (int i = first + 1; i < n; i++)     /* insertion sort by rank, stable */
            for (int j = i; j > first && backend_rank(out[j]) < backend_rank(out[j - 1]); j--) {
                const char *t = out[j];
                out[j] = out[j - 1];
                out[j - 1] = t;
            }
    }
    return n;
}

static const cJSON *find_case(const cJSON *runs, const char *set, const char *layer, int n,
                              const char *pass, const char *backend)
{
    const cJSON *r;
    cJSON_ArrayForEach(r, runs) {
        crow c;
        if (crow_of(r, &c)) continue;
        if (!strcmp(c.set, set) && !strcmp(c.layer, layer) && c.n == n && !strcmp(c.pass, pass) &&
            !strcmp(c.backend, backend))
            return r;
    }
    return NULL;
}

static const char *short_pass(const char *p)
{
    return !strcmp(p, "forward") ? "fwd" : !strcmp(p, "backward_data") ? "bwd-data"
         : !strcmp(p, "backward_weights") ? "bwd-weights" : p;
}

/* A layer's place: its index in the suite's layer table, else after them
   in order of first appearance. */
static int layer_rank(const crow *c, const char *const *layers, int nl)
{
    int i = 0;
    for (const bench_layer *l = shapes_all(); l->set; l++, i++)
        if (!strcmp(l->set, c->set) && !strcmp(l->layer, c->layer)) return i;
    int k = 0;
    while (k < nl && strcmp(layers[k], c->layer)) k++;
    return 1000 + k;
}

/* Rows (set/layer/n/pass) of one set, as their first run: layers in the
   suite's order, then batch, then pass. */
static int set_rows(const cJSON *runs, const char *set, const cJSON **rows, int max)
{
    int n = 0;
    const char *layers[256];
    int nl = 0;
    const cJSON *r;
    cJSON_ArrayForEach(r, runs) {
        crow c, d;
        if (crow_of(r, &c) || strcmp(c.set, set)) continue;
        int l = 0;
        while (l < nl && strcmp(layers[l], c.layer)) l++;
        if (l == nl && nl < 256) layers[nl++] = c.layer;
        int k = 0;
        for (; k < n; k++) {
            crow_of(rows[k], &d);
            if (!strcmp(d.layer, c.layer) && d.n == c.n && !strcmp(d.pass, c.pass)) break;
        }
        if (k == n && n < max) rows[n++] = r;
    }
    /* sort: layer (first appearance), batch, pass */
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0; j--) {
            crow a, b;
            crow_of(rows[j - 1], &a);
            crow_of(rows[j], &b);
            int la = layer_rank(&a, layers, nl), lb = layer_rank(&b, layers, nl);
            long ka = (long)la * 1000000 + a.n * 10 + results_pass_parse(a.pass);
            long kb = (long)lb * 1000000 + b.n * 10 + results_pass_parse(b.pass);
            if (kb >= ka) break;
            const cJSON *t = rows[j];
            rows[j] = rows[j - 1];
            rows[j - 1] = t;
        }
    return n;
}

static void section_bench(out_ctx *o, const rfile *f)
{
    FILE *md = o->md;
    const cJSON *runs = runs_of(f);
    const char *be[64];
    int nb = backend_list(runs, be, 64), nours = 0;
    while (nours < nb && !is_onednn(be[nours])) nours++;
    const cJSON *first = NULL, *r;
    cJSON_ArrayForEach(r, runs) if (is_type(r, "conv")) { first = r; break; }
    if (!first) return;
    const cJSON *ctx = jobj(f->doc, "context");
    fprintf(md, "## Convolution throughput\n\n");
    fprintf(md, "From `%s` (%s, commit %.10s, %g threads, ISA %s). GFLOP/s = direct-convolution "
                "FLOPs (2·N·K·C·R·S·P·Q) / median time of %g repetitions, so Winograd figures "
                "are effective GFLOP/s; in brackets, %% of the measured FMA peak.\n\n",
            f->path, f->time, str_or(results_str(ctx, "git_commit"), "?"), results_num(first, "threads"),
            str_or(results_str(ctx, "isa"), "?"), results_num(first, "repetitions"));
    /* sets in order of appearance */
    const char *sets[16];
    int ns = 0;
    cJSON_ArrayForEach(r, runs) {
        crow c;
        if (crow_of(r, &c)) continue;
        int k = 0;
        while (k < ns && strcmp(sets[k], c.set)) k++;
        if (k == ns && ns < 16) sets[ns++] = c.set;
    }
    for (int si = 0; si < ns; si++) {
        const cJSON *rows[256];
        int nr = set_rows(runs, sets[si], rows, 256);
        fprintf(md, "### Set `%s`\n\n| layer | pass |", sets[si]);
        for (int b = 0; b < nb; b++) fprintf(md, " %s |", be[b]);
        fprintf(md, "\n|---|---|");
        for (int b = 0; b < nb; b++) fprintf(md, "---:|");
        fprintf(md, "\n");
        char dname[128], png[128];
        snprintf(dname, sizeof dname, "gflops-%s.dat", sets[si]);
        snprintf(png, sizeof png, "gflops-%s.png", sets[si]);
        FILE *dat = data_file(o, dname);
        if (dat) {
            fprintf(dat, "case");
            for (int b = 0; b < nb; b++) fprintf(dat, " %s", be[b]);
            fprintf(dat, "\n");
        }
        for (int i = 0; i < nr; i++) {
            crow c;
            crow_of(rows[i], &c);
            fprintf(md, "| %s/b%d | %s |", c.layer, c.n, c.pass);
            if (dat) fprintf(dat, "\"%s/b%d %s\"", c.layer, c.n, short_pass(c.pass));
            for (int b = 0; b < nb; b++) {
                const cJSON *x = find_case(runs, c.set, c.layer, c.n, c.pass, be[b]);
                crow d;
                char g[32];
                if (x && !crow_of(x, &d)) {
                    fmt3(g, sizeof g, d.gflops);
                    if (isfinite(d.pct)) fprintf(md, " %s (%.0f%%) |", g, d.pct);
                    else fprintf(md, " %s |", g);
                    if (dat) fprintf(dat, " %.4g", d.gflops);
                } else {
                    fprintf(md, " – |");
                    if (dat) fprintf(dat, " NaN");
                }
            }
            fprintf(md, "\n");
            if (dat) fprintf(dat, "\n");
        }
        fprintf(md, "\n");
        /* conclusions: per row, the fastest, and against oneDNN / our best */
        int wins[64] = { 0 };
        for (int i = 0; i < nr; i++) {
            crow c, d, best = { 0 }, ref = { 0 };
            crow_of(rows[i], &c);
            best.gflops = ref.gflops = -1;
            for (int b = 0; b < nb; b++) {
                const cJSON *x = find_case(runs, c.set, c.layer, c.n, c.pass, be[b]);
                if (!x || crow_of(x, &d) || !isfinite(d.gflops)) continue;
                if (d.gflops > best.gflops) best = d;
            }
            /* the runner-up from the other camp: oneDNN if ours won, ours if oneDNN won */
            for (int b = 0; b < nb; b++) {
                const cJSON *x = find_case(runs, c.set, c.layer, c.n, c.pass, be[b]);
                if (!x || crow_of(x, &d) || !isfinite(d.gflops)) continue;
                if (is_onednn(d.backend) != is_onednn(best.backend) && d.gflops > ref.gflops) ref = d;
            }
            if (best.gflops < 0) continue;
            char g1[32], g2[32];
            fprintf(md, "- fastest %s on %s/%s/b%d: **%s** at %s GFLOP/s", c.pass, c.set, c.layer,
                    c.n, best.backend, fmt3(g1, sizeof g1, best.gflops));
            if (isfinite(best.pct)) fprintf(md, " (%.0f%% of peak)", best.pct);
            if (ref.gflops > 0)
                fprintf(md, ", %sx %s (%s)", fmt3(g2, sizeof g2, best.gflops / ref.gflops),
                        ref.backend, fmt3(g1, sizeof g1, ref.gflops));
            fprintf(md, "\n");
        }
        /* how often each backend is the fastest */
        for (int i = 0; i < nr; i++) {
            crow c, d;
            crow_of(rows[i], &c);
            int bi = -1;
            double bg = -1;
            for (int b = 0; b < nb; b++) {
                const cJSON *x = find_case(runs, c.set, c.layer, c.n, c.pass, be[b]);
                if (x && !crow_of(x, &d) && d.gflops > bg) { bg = d.gflops; bi = b; }
            }
            if (bi >= 0) wins[bi]++;
        }
        fprintf(md, "- fastest per case:");
        for (int b = 0, sep = 0; b < nb; b++)
            if (wins[b]) fprintf(md, "%s %s %d of %d", sep++ ? "," : "", be[b], wins[b], nr);
        fprintf(md, "\n\n");
        if (dat) {
            fclose(dat);
            char cap[128];
            snprintf(cap, sizeof cap, "GFLOP/s per backend, set %s", sets[si]);
            draw(o, "gflops", png, cap, "data='%s'; ncols=%d; nours=%d; set_name='%s'; threads=%g",
                 dname, nb + 1, nours, sets[si], results_num(first, "threads"));
        }
    }
    /* implementation strings and skipped cases */
    fprintf(md, "<details><summary>Implementation chosen per case (impl)</summary>\n\n"
                "| case | backend | impl |\n|---|---|---|\n");
    cJSON_ArrayForEach(r, runs) {
        crow c;
        if (crow_of(r, &c) || !c.impl) continue;
        fprintf(md, "| %s/%s/b%d %s | %s | `%s` |\n", c.set, c.layer, c.n, c.pass, c.backend, c.impl);
    }
    fprintf(md, "\n</details>\n\n");
    const cJSON *sk = jobj(f->doc, "skipped");
    if (cJSON_GetArraySize(sk) > 0) {
        fprintf(md, "<details><summary>%d case(s) skipped, with the backend's reason</summary>\n\n"
                    "| case | reason |\n|---|---|\n", cJSON_GetArraySize(sk));
        cJSON_ArrayForEach(r, sk)
            fprintf(md, "| %s | %s |\n", str_or(results_str(r, "name"), "?"), str_or(results_str(r, "reason"), "?"));
        fprintf(md, "\n</details>\n\n");
    }
}

/* ---- roofline ------------------------------------------------------------ */

static void section_roofline(out_ctx *o, const rfile *f, const rfile *m)
{
    FILE *md = o->md;
    const cJSON *runs = runs_of(f), *r, *first = NULL;
    cJSON_ArrayForEach(r, runs) if (is_type(r, "conv")) { first = r; break; }
    if (!first) return;
    int threads = (int)results_num(first, "threads");
    const char *isa = str_or(results_str(jobj(f->doc, "context"), "isa"), "avx512");
    double peak = machine_peak(m, isa, threads), bw = machine_triad(m, threads);
    fprintf(md, "## Roofline\n\n");
    if (!isfinite(peak) || !isfinite(bw)) {
        fprintf(md, "No measured peak and triad bandwidth for %s at %d threads: run `convbench "
                    "info` on that machine.\n\n", f->host, threads);
        return;
    }
    char a[32], b2[32], c2[32];
    fprintf(md, "Arithmetic intensity (AI) of a conv pass = its direct-convolution FLOPs / the "
                "minimal bytes it must move: input + weights + output once each, fp32 "
                "(4·(NHWC + RSCK + NPQK)); the three passes of a layer touch the same three "
                "tensors and share one AI. Roofs: measured %s FMA peak %s GFLOP/s and triad "
                "bandwidth %s GB/s at %d threads (ridge at AI %s FLOP/byte). Winograd points "
                "are effective GFLOP/s and may pass the roof.\n\n",
            isa, fmt3(a, sizeof a, peak), fmt3(b2, sizeof b2, bw), threads,
            fmt3(c2, sizeof c2, peak / bw));
    const char *be[64];
    int nb = backend_list(runs, be, 64);
    static const char *const passes[] = { "forward", "backward_data", "backward_weights" };
    for (int p = 0; p < 3; p++) {
        char dname[64], png[64], names[1024] = "";
        snprintf(dname, sizeof dname, "roofline-%s.dat", passes[p]);
        snprintf(png, sizeof png, "roofline-%s.png", passes[p]);
        FILE *dat = data_file(o, dname);
        if (!dat) continue;
        int blocks = 0, points = 0, above_half = 0;
        double min_ai = INFINITY, max_ai = 0;
        for (int b = 0; b < nb; b++) {
            int any = 0;
            cJSON_ArrayForEach(r, runs) {
                crow c;
                if (crow_of(r, &c) || strcmp(c.backend, be[b]) || strcmp(c.pass, passes[p])) continue;
                if (!any++) {
                    if (blocks++) fprintf(dat, "\n\n");
                    fprintf(dat, "# %s\n", be[b]);
                    size_t used = strlen(names);
                    snprintf(names + used, sizeof names - used, "%s%s", used ? " " : "", be[b]);
                }
                fprintf(dat, "%.6g %.6g \"%s/%s/b%d\"\n", c.ai, c.gflops, c.set, c.layer, c.n);
                double roof = fmin(peak, bw * c.ai);
                points++;
                above_half += c.gflops >= 0.5 * roof;
                min_ai = fmin(min_ai, c.ai);
                max_ai = fmax(max_ai, c.ai);
            }
        }
        fclose(dat);
        if (!points) continue;
        fprintf(md, "### %s\n\n", passes[p]);
        char cap[96];
        snprintf(cap, sizeof cap, "roofline, %s", passes[p]);
        draw(o, "roofline", png, cap, "data='%s'; peak=%.6g; bw=%.6g; names='%s'; pass='%s'; threads=%d",
             dname, peak, bw, names, passes[p], threads);
        fprintf(md, "- AI spans %s to %s FLOP/byte: %s.\n", fmt3(a, sizeof a, min_ai),
                fmt3(b2, sizeof b2, max_ai),
                min_ai >= peak / bw ? "every case lies right of the ridge (compute-bound by this model)"
                : max_ai < peak / bw ? "every case lies left of the ridge (bandwidth-bound by this model)"
                : "the cases straddle the ridge");
        fprintf(md, "- %d of %d backend x layer cases reach at least half of their roof.\n\n",
                above_half, points);
    }
}

/* ---- training ------------------------------------------------------------ */

/* One row of the training table: a convbench train file (one backend at one
   thread count), or one peer configuration at one thread count. */
typedef struct {
    char name[160];          /* backend, or "peer (config)" */
    const char *path;
    int threads, epochs, is_peer, is_auto;
    double batch, acc, secs, ips;   /* final test accuracy, mean epoch s, images/s */
} trow;

/* Fills t from the train runs at threads (all of them if threads < 0);
   returns 0 if there was at least one. */
static int train_row(const cJSON *runs, int threads, trow *t)
{
    const cJSON *r, *last = NULL;
    double sum = 0, rate = 0;
    int ne = 0;
    cJSON_ArrayForEach(r, runs) {
        if (!is_type(r, "train") || (threads >= 0 && results_num(r, "threads") != threads)) continue;
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

static int cmp_trow(const void *a, const void *b)
{
    const trow *x = a, *y = b;
    if (x->threads != y->threads) return x->threads - y->threads;
    return (x->ips < y->ips) - (x->ips > y->ips);
}

static const char *peer_status(const rfile *f)
{
    return str_or(results_str(jobj(jobj(f->doc, "context"), "peer"), "status"), "measured");
}

/* "how the peers were run": one item per peer file, from context.peer */
static void peers_how(FILE *md, const flist *peer)
{
    fprintf(md, "### How the peers were run\n\n");
    for (int i = 0; i < peer->n; i++) {
        const rfile *f = peer->f[i];
        const cJSON *ctx = jobj(f->doc, "context"), *p = jobj(ctx, "peer"), *b = jobj(ctx, "build");
        char key[256];
        peer_key(f, key, sizeof key);
        fprintf(md, "- **%s**, %s %s", key, str_or(results_str(b, "framework"), "?"),
                str_or(results_str(b, "framework_version"), "?"));
        if (results_str(b, "package")) fprintf(md, " (%s)", results_str(b, "package"));
        fprintf(md, ", `%s` (%s): ", f->path, f->time);
        if (strcmp(peer_status(f), "measured") && strcmp(peer_status(f), "partial")) {
            fprintf(md, "%s: %s.\n", peer_status(f), str_or(results_str(p, "reason"), "no reason given"));
            continue;
        }
        fprintf(md, "%s.", str_or(results_str(p, "description"), "no description"));
        const cJSON *w, *e, *c;
        int nw = 0;
        cJSON_ArrayForEach(w, jobj(p, "workers")) {
            fprintf(md, "%s %g thread%s on CPU%s", nw++ ? ";" : "", results_num(w, "threads"),
                    results_num(w, "threads") > 1 ? "s" : "", cJSON_GetArraySize(jobj(w, "cpus")) > 1 ? "s" : "");
            int k = 0;
            cJSON_ArrayForEach(c, jobj(w, "cpus")) fprintf(md, "%s%g", k++ ? "," : " ", c->valuedouble);
            k = 0;
            cJSON_ArrayForEach(e, jobj(w, "env"))
                if (cJSON_IsString(e)) fprintf(md, "%s%s=%s", k++ ? ", " : ", env ", e->string, e->valuestring);
            if (!k) fprintf(md, ", no environment added");
        }
        if (nw) fprintf(md, ".");
        const cJSON *fl = jobj(p, "failures");
        if (cJSON_GetArraySize(fl) > 0) {
            fprintf(md, " failed:");
            cJSON_ArrayForEach(e, fl) if (cJSON_IsString(e)) fprintf(md, " %s;", e->valuestring);
        }
        fprintf(md, "\n");
    }
    fprintf(md, "\n");
}

/* The auto backend's per layer x pass choice (type "autotune" runs) of the
   newest train file that holds one. */
static void auto_choice(FILE *md, const flist *train)
{
    const rfile *f = NULL;
    for (int i = 0; i < train->n; i++) {
        const cJSON *r;
        int has = 0;
        cJSON_ArrayForEach(r, runs_of(train->f[i])) has |= is_type(r, "autotune");
        if (has && (!f || strcmp(train->f[i]->time, f->time) > 0)) f = train->f[i];
    }
    if (!f) return;
    char k[128], a[32], b[32], c[32];
    train_key(f, k, sizeof k);
    fprintf(md, "### The `auto` choice\n\nFrom `%s` (%s, %s): per layer and pass, the backend "
                "`auto` timed fastest at plan time (median of its repetitions) and the runner-up "
                "(a candidate without a time was abandoned as too slow).\n\n"
                "| layer | pass | backend | median ms | runner-up | runner-up ms | runner-up / chosen |\n"
                "|---|---|---|---:|---|---:|---:|\n", f->path, f->time, k);
    const cJSON *r, *x;
    const char *names[64];
    int wins[64], nn = 0, total = 0;
    cJSON_ArrayForEach(r, runs_of(f)) {
        if (!is_type(r, "autotune")) continue;
        const char *chosen = str_or(results_str(r, "backend"), "?");
        double ms = 1e3 * results_num(r, "median_s"), best = INFINITY;
        const char *second = NULL;
        cJSON_ArrayForEach(x, jobj(r, "candidates"))
            if (cJSON_IsNumber(x) && strcmp(x->string, chosen) && x->valuedouble * 1e3 < best)
                best = x->valuedouble * 1e3, second = x->string;
        fprintf(md, "| %s | %s | %s | %s | %s | %s | %s |\n", str_or(results_str(r, "layer"), "?"),
                str_or(results_str(r, "pass"), "?"), chosen, fmt3(a, sizeof a, ms),
                str_or(second, "–"), fmt3(b, sizeof b, second ? best : NAN),
                second ? fmt3(c, sizeof c, best / ms) : "–");
        int j = 0;
        while (j < nn && strcmp(names[j], chosen)) j++;
        if (j == nn && nn < 64) names[nn] = chosen, wins[nn++] = 0;
        if (j < nn) wins[j]++;
        total++;
    }
    fprintf(md, "\n- `auto` chose");
    for (int j = 0; j < nn; j++) fprintf(md, "%s %s for %d", j ? "," : "", names[j], wins[j]);
    fprintf(md, " of %d layer x pass cases.\n\n", total);
}

/* auto against the fastest single backend at `threads`: from the newest
   scale file when it has both (one run, blocks interleaved: the fair
   comparison), else from the separate training runs, said as such. */
static void auto_vs_single(FILE *md, const trow *a, const trow *single, const flist *scale)
{
    const rfile *f = NULL;
    for (int i = 0; i < scale->n; i++)
        if (!f || strcmp(scale->f[i]->time, f->time) > 0) f = scale->f[i];
    double auto_ips = 0, best = 0;
    const char *best_name = NULL;
    const cJSON *r;
    if (f)
        cJSON_ArrayForEach(r, runs_of(f)) {
            const char *b = results_str(r, "backend");
            double ips = results_num(r, "images_per_s");
            if (!is_type(r, "train") || !b || (int)results_num(r, "threads") != a->threads ||
                !(ips > 0))
                continue;
            if (!strcmp(b, "auto")) auto_ips = ips;
            else if (ips > best) best = ips, best_name = b;
        }
    char x[32], y[32], z[32];
    const char *s = a->threads > 1 ? "s" : "";
    if (auto_ips > 0 && best_name)
        fprintf(md, "- auto at %d thread%s trains %sx the images/s of the fastest single backend, "
                    "%s (%s vs %s), in one run with their timed blocks interleaved (`%s`).\n",
                a->threads, s, fmt3(x, sizeof x, auto_ips / best), best_name,
                fmt3(y, sizeof y, auto_ips), fmt3(z, sizeof z, best), f->path);
    else if (single && single->ips > 0)
        fprintf(md, "- auto at %d thread%s trains %sx the images/s of the fastest single backend, "
                    "%s (%s vs %s), in separate runs (no scale file to compare them in one).\n",
                a->threads, s, fmt3(x, sizeof x, a->ips / single->ips), single->name,
                fmt3(y, sizeof y, a->ips), fmt3(z, sizeof z, single->ips));
}

static void section_train(out_ctx *o, flist *train, flist *peer, const flist *scale)
{
    if (!train->n && !peer->n) return;
    FILE *md = o->md;
    trow rows[4 * MAXF];
    int n = 0;
    for (int i = 0; i < train->n && n < 4 * MAXF; i++) {
        trow *t = &rows[n];
        memset(t, 0, sizeof *t);
        if (train_row(runs_of(train->f[i]), -1, t)) continue;
        const cJSON *r;
        cJSON_ArrayForEach(r, runs_of(train->f[i])) if (is_type(r, "train")) {
            snprintf(t->name, sizeof t->name, "%s", str_or(results_str(r, "backend"), "?"));
            break;
        }
        t->path = train->f[i]->path;
        t->is_auto = !strcmp(t->name, "auto");
        n++;
    }
    for (int i = 0; i < peer->n; i++) {
        const cJSON *r;
        int seen[257] = { 0 };
        cJSON_ArrayForEach(r, runs_of(peer->f[i])) {
            int th = (int)results_num(r, "threads");
            if (!is_type(r, "train") || th < 0 || th > 256 || seen[th]++ || n >= 4 * MAXF) continue;
            trow *t = &rows[n];
            memset(t, 0, sizeof *t);
            if (train_row(runs_of(peer->f[i]), th, t)) continue;
            peer_key(peer->f[i], t->name, sizeof t->name);
            t->path = peer->f[i]->path;
            t->is_peer = 1;
            n++;
        }
    }
    qsort(rows, (size_t)n, sizeof *rows, cmp_trow);
    fprintf(md, "## Training\n\nThe seed network per backend and thread count: convbench's "
                "backends (`auto` picks one per layer and pass) and the PyTorch/Keras peers, "
                "each peer in its tuned and its as-installed configuration. Epoch s is the "
                "**mean over the epochs measured** (the epochs column); images/s = training "
                "images per epoch / that mean; test accuracy after the last epoch.\n\n"
                "| backend | threads | batch | epochs | final test accuracy | mean epoch s | "
                "images/s | file |\n|---|---:|---:|---:|---:|---:|---:|---|\n");
    char a[32], b[32], c[32];
    for (int i = 0; i < n; i++)
        fprintf(md, "| %s%s%s | %d | %g | %d | %.4f | %s | %s | `%s` |\n", rows[i].is_auto ? "**" : "",
                rows[i].name, rows[i].is_auto ? "**" : "", rows[i].threads, rows[i].batch,
                rows[i].epochs, rows[i].acc, fmt3(a, sizeof a, rows[i].secs),
                fmt3(b, sizeof b, rows[i].ips), rows[i].path);
    for (int i = 0; i < peer->n; i++)
        if (strcmp(peer_status(peer->f[i]), "measured") && strcmp(peer_status(peer->f[i]), "partial")) {
            char k[256];
            peer_key(peer->f[i], k, sizeof k);
            fprintf(md, "| %s | – | – | – | %s: %s | – | – | `%s` |\n", k, peer_status(peer->f[i]),
                    str_or(results_str(jobj(jobj(peer->f[i]->doc, "context"), "peer"), "reason"),
                           "no reason given"),
                    peer->f[i]->path);
        }
    fprintf(md, "\n");
    /* conclusions: per thread count, auto (else convbench's fastest) against
       every peer and, for auto, against the best single backend */
    for (int i = 0; i < n; i++) {
        if (rows[i].is_peer) continue;
        int lead = -1, single = -1;
        for (int j = 0; j < n; j++) {
            if (rows[j].threads != rows[i].threads || rows[j].is_peer) continue;
            if (lead < 0 || (rows[j].is_auto && !rows[lead].is_auto) ||
                (rows[j].is_auto == rows[lead].is_auto && rows[j].ips > rows[lead].ips))
                lead = j;
            if (!rows[j].is_auto && (single < 0 || rows[j].ips > rows[single].ips)) single = j;
        }
        if (lead != i) continue;       /* one sentence set per thread count */
        const trow *l = &rows[lead];
        for (int j = 0; j < n; j++) {
            if (!rows[j].is_peer || rows[j].threads != l->threads || !(rows[j].ips > 0)) continue;
            fprintf(md, "- %s at %d thread%s trains %sx the images/s of %s (%s vs %s); final "
                        "test accuracy %.4f vs %.4f after %d vs %d epoch%s.\n",
                    l->name, l->threads, l->threads > 1 ? "s" : "",
                    fmt3(a, sizeof a, l->ips / rows[j].ips), rows[j].name, fmt3(b, sizeof b, l->ips),
                    fmt3(c, sizeof c, rows[j].ips), l->acc, rows[j].acc, l->epochs, rows[j].epochs,
                    rows[j].epochs > 1 ? "s" : "");
        }
        if (l->is_auto) auto_vs_single(md, l, single >= 0 ? &rows[single] : NULL, scale);
    }
    int best_acc = -1, best_ips = -1;
    double lo = INFINITY;
    for (int i = 0; i < n; i++) {
        if (best_acc < 0 || rows[i].acc > rows[best_acc].acc) best_acc = i;
        if (best_ips < 0 || rows[i].ips > rows[best_ips].ips) best_ips = i;
        if (rows[i].acc < lo) lo = rows[i].acc;
    }
    if (best_acc >= 0) {
        fprintf(md, "- highest final test accuracy: %s at %d thread%s, %.4f after %d epoch%s; the "
                    "spread across rows is %.4f.\n", rows[best_acc].name, rows[best_acc].threads,
                rows[best_acc].threads > 1 ? "s" : "",
                rows[best_acc].acc, rows[best_acc].epochs, rows[best_acc].epochs > 1 ? "s" : "",
                rows[best_acc].acc - lo);
        fprintf(md, "- highest throughput: %s at %d thread%s, %s images/s.\n", rows[best_ips].name,
                rows[best_ips].threads, rows[best_ips].threads > 1 ? "s" : "",
                fmt3(a, sizeof a, rows[best_ips].ips));
    }
    fprintf(md, "\n");
    auto_choice(md, train);
    if (peer->n) peers_how(md, peer);
    if (!train->n) return;
    int maxep = 0;
    for (int i = 0; i < train->n; i++) {
        const cJSON *r;
        int ne = 0;
        cJSON_ArrayForEach(r, runs_of(train->f[i])) ne += is_type(r, "train");
        if (ne > maxep) maxep = ne;
    }
    /* plot: loss and test accuracy per epoch, one series per file */
    FILE *dl = data_file(o, "train-loss.dat"), *da = data_file(o, "train-accuracy.dat");
    if (!dl || !da) {
        if (dl) fclose(dl);
        if (da) fclose(da);
        return;
    }
    fprintf(dl, "epoch");
    fprintf(da, "epoch");
    for (int i = 0; i < train->n; i++) {
        char k[128];
        train_key(train->f[i], k, sizeof k);
        fprintf(dl, " \"%s\"", k);
        fprintf(da, " \"%s\"", k);
    }
    fprintf(dl, "\n");
    fprintf(da, "\n");
    for (int e = 1; e <= maxep; e++) {
        fprintf(dl, "%d", e);
        fprintf(da, "%d", e);
        for (int i = 0; i < train->n; i++) {
            const cJSON *r, *hit = NULL;
            cJSON_ArrayForEach(r, runs_of(train->f[i]))
                if (is_type(r, "train") && results_num(r, "epoch") == e) hit = r;
            fprintf(dl, " %.6g", hit ? results_num(hit, "loss") : NAN);
            fprintf(da, " %.6g", hit ? results_num(hit, "test_accuracy") : NAN);
        }
        fprintf(dl, "\n");
        fprintf(da, "\n");
    }
    fclose(dl);
    fclose(da);
    draw(o, "training", "training.png", "training loss and test accuracy per epoch",
         "loss='train-loss.dat'; acc='train-accuracy.dat'; ncols=%d", train->n + 1);
}

/* ---- peers' per-layer GFLOP/s ---------------------------------------------- */

/* convbench's fastest run of a case (set/layer/batch/pass/threads) in f. */
static int fastest_case(const rfile *f, const crow *k, crow *best)
{
    const cJSON *r;
    int found = 0;
    if (!f) return 0;
    cJSON_ArrayForEach(r, runs_of(f)) {
        crow c;
        if (crow_of(r, &c) || !c.pass || !c.backend || strcmp(c.set, k->set) ||
            strcmp(c.layer, k->layer) || c.n != k->n || strcmp(c.pass, k->pass) ||
            c.threads != k->threads || !isfinite(c.gflops))
            continue;
        if (!found++ || c.gflops > best->gflops) *best = c;
    }
    return found;
}

static const cJSON *peer_case(const rfile *f, const crow *k)
{
    const cJSON *r;
    cJSON_ArrayForEach(r, runs_of(f)) {
        crow c;
        if (!crow_of(r, &c) && c.pass && !strcmp(c.set, k->set) && !strcmp(c.layer, k->layer) &&
            c.n == k->n && !strcmp(c.pass, k->pass) && c.threads == k->threads)
            return r;
    }
    return NULL;
}

static long case_order(const crow *c)
{
    return (long)c->threads * 100000000L + (long)layer_rank(c, NULL, 0) * 100000L + c->n * 10L +
           results_pass_parse(c->pass);
}

/* The peers' conv runs beside convbench's fastest backend on the same case,
   from the bench file and else the scale file (the same thread count). */
static void section_peer_conv(out_ctx *o, flist *peer, flist *bench, flist *scale)
{
    const rfile *pf[MAXF];
    int np = 0;
    for (int i = 0; i < peer->n; i++) {
        const cJSON *r;
        int any = 0;
        cJSON_ArrayForEach(r, runs_of(peer->f[i])) any |= is_type(r, "conv");
        if (any) pf[np++] = peer->f[i];
    }
    if (!np) return;
    crow keys[512];
    int nk = 0;
    for (int i = 0; i < np; i++) {
        const cJSON *r;
        cJSON_ArrayForEach(r, runs_of(pf[i])) {
            crow c;
            if (crow_of(r, &c) || !c.pass) continue;
            int k = 0;
            while (k < nk && !(!strcmp(keys[k].set, c.set) && !strcmp(keys[k].layer, c.layer) &&
                               keys[k].n == c.n && !strcmp(keys[k].pass, c.pass) &&
                               keys[k].threads == c.threads))
                k++;
            if (k == nk && nk < 512) keys[nk++] = c;
        }
    }
    for (int i = 1; i < nk; i++)     /* threads, layer, batch, pass */
        for (int j = i; j > 0 && case_order(&keys[j]) < case_order(&keys[j - 1]); j--) {
            crow t = keys[j];
            keys[j] = keys[j - 1];
            keys[j - 1] = t;
        }
    FILE *md = o->md;
    const rfile *bf = bench->n ? bench->f[0] : NULL, *sf = scale->n ? scale->f[0] : NULL;
    char from[2 * PATH_MAX + 64];
    if (bf && sf) snprintf(from, sizeof from, "`%s`, else `%s`", bf->path, sf->path);
    else if (bf || sf) snprintf(from, sizeof from, "`%s`", bf ? bf->path : sf->path);
    else snprintf(from, sizeof from, "no bench or scale file");
    fprintf(md, "## Per-layer GFLOP/s against the peers\n\nThe peers' conv layers timed alone "
                "per pass (median of repetitions), beside convbench's fastest backend on the same "
                "case and thread count (from %s). GFLOP/s = direct-convolution FLOPs / "
                "median time.\n\n| case | threads | convbench fastest |", from);
    for (int i = 0; i < np; i++) {
        char k[256];
        peer_key(pf[i], k, sizeof k);
        fprintf(md, " %s |", k);
    }
    fprintf(md, "\n|---|---:|---|");
    for (int i = 0; i < np; i++) fprintf(md, "---:|");
    fprintf(md, "\n");
    double logsum[257] = { 0 };
    int cases[257] = { 0 }, ahead[257] = { 0 };
    char a[32];
    for (int k = 0; k < nk; k++) {
        crow best, pc;
        int have = fastest_case(bf, &keys[k], &best) || fastest_case(sf, &keys[k], &best);
        fprintf(md, "| %s/%s/b%d %s | %d |", keys[k].set, keys[k].layer, keys[k].n, keys[k].pass,
                keys[k].threads);
        if (have) fprintf(md, " %s (%s) |", fmt3(a, sizeof a, best.gflops), best.backend);
        else fprintf(md, " – |");
        double top = -1;
        for (int i = 0; i < np; i++) {
            const cJSON *x = peer_case(pf[i], &keys[k]);
            if (x && !crow_of(x, &pc) && isfinite(pc.gflops)) {
                fprintf(md, " %s |", fmt3(a, sizeof a, pc.gflops));
                if (pc.gflops > top) top = pc.gflops;
            } else {
                fprintf(md, " – |");
            }
        }
        fprintf(md, "\n");
        int t = keys[k].threads;
        if (have && top > 0 && best.gflops > 0 && t >= 0 && t <= 256) {
            logsum[t] += log(best.gflops / top);
            cases[t]++;
            ahead[t] += best.gflops > top;
        }
    }
    fprintf(md, "\n");
    for (int t = 0; t <= 256; t++)
        if (cases[t])
            fprintf(md, "- at %d thread%s: convbench's fastest backend is ahead of every peer in %d "
                        "of %d cases; geometric mean %sx the best peer's GFLOP/s.\n",
                    t, t > 1 ? "s" : "", ahead[t], cases[t], fmt3(a, sizeof a, exp(logsum[t] / cases[t])));
    fprintf(md, "\n");
}

/* ---- scaling ------------------------------------------------------------- */

static void section_scale(out_ctx *o, const rfile *f)
{
    FILE *md = o->md;
    const cJSON *runs = runs_of(f), *r;
    int maxt = 0;
    cJSON_ArrayForEach(r, runs) {
        int t = (int)results_num(r, "threads");
        if (t > maxt && t <= 256) maxt = t;
    }
    if (!maxt) return;
    fprintf(md, "## Scaling across cores\n\nFrom `%s` (%s): thread i bound to core i; speedup = "
                "median time at 1 thread / median time at t; efficiency = speedup / t.\n\n",
            f->path, f->time);
    const char *be[64];
    int nb = 0;
    cJSON_ArrayForEach(r, runs) {
        const char *b = results_str(r, "backend");
        if (!b || !(is_type(r, "train") || is_type(r, "conv"))) continue;
        int k = 0;
        while (k < nb && strcmp(be[k], b)) k++;
        if (k == nb && nb < 64) be[nb++] = b;
    }
    /* training throughput */
    FILE *dt = data_file(o, "speedup-train.dat"), *dc = data_file(o, "speedup-conv.dat");
    int have_train = 0;
    double best_s = -1, worst_s = 1e30;
    const char *best_b = NULL, *worst_b = NULL;
    char a[32], b2[32];
    cJSON_ArrayForEach(r, runs) if (is_type(r, "train")) { have_train = 1; break; }
    if (have_train) {
        fprintf(md, "### Training throughput (images/s)\n\n| backend |");
        for (int t = 1; t <= maxt; t++) fprintf(md, " %d thr |", t);
        fprintf(md, " speedup @%d | efficiency @%d |\n|---|", maxt, maxt);
        for (int t = 0; t <= maxt + 1; t++) fprintf(md, "---:|");
        fprintf(md, "\n");
        for (int b = 0; b < nb; b++) {
            const cJSON *at[257] = { 0 };
            int any = 0;
            cJSON_ArrayForEach(r, runs)
                if (is_type(r, "train") && !strcmp(str_or(results_str(r, "backend"), ""), be[b])) {
                    int t = (int)results_num(r, "threads");
                    if (t >= 1 && t <= maxt) at[t] = r, any = 1;
                }
            if (!any) continue;
            fprintf(md, "| %s |", be[b]);
            for (int t = 1; t <= maxt; t++)
                fprintf(md, " %s |", at[t] ? fmt3(a, sizeof a, results_num(at[t], "images_per_s")) : "–");
            double s = at[maxt] ? results_num(at[maxt], "speedup") : NAN;
            fprintf(md, " %s | %s |\n", fmt3(a, sizeof a, s),
                    fmt3(b2, sizeof b2, at[maxt] ? results_num(at[maxt], "efficiency") : NAN));
            if (isfinite(s) && s > best_s) best_s = s, best_b = be[b];
            if (isfinite(s) && s < worst_s) worst_s = s, worst_b = be[b];
        }
        fprintf(md, "\n");
        if (best_b)
            fprintf(md, "- training speedup at %d threads: best %s %sx, lowest %s %sx (ideal %d).\n\n",
                    maxt, best_b, fmt3(a, sizeof a, best_s), worst_b, fmt3(b2, sizeof b2, worst_s),
                    maxt);
    }
    /* conv: GFLOP/s per case and thread count */
    fprintf(md, "### Convolution GFLOP/s by thread count\n\n| case |");
    for (int t = 1; t <= maxt; t++) fprintf(md, " %d thr |", t);
    fprintf(md, " speedup @%d |\n|---|", maxt);
    for (int t = 0; t <= maxt; t++) fprintf(md, "---:|");
    fprintf(md, "\n");
    double logsum[64][257];
    int count[64][257];
    memset(logsum, 0, sizeof logsum);
    memset(count, 0, sizeof count);
    int ncase = 0;
    double cbest = -1, cworst = 1e30;
    const char *cbest_n = NULL, *cworst_n = NULL;
    cJSON_ArrayForEach(r, runs) {
        if (!is_type(r, "conv") || results_num(r, "threads") != 1 || !results_str(r, "name")) continue;
        const char *name = results_str(r, "name");
        int b = 0;
        while (b < nb && strcmp(be[b], str_or(results_str(r, "backend"), ""))) b++;
        fprintf(md, "| %s |", name);
        const cJSON *x, *last = NULL;
        for (int t = 1; t <= maxt; t++) {
            const cJSON *hit = NULL;
            cJSON_ArrayForEach(x, runs)
                if (is_type(x, "conv") && results_num(x, "threads") == t && results_str(x, "name") &&
                    !strcmp(results_str(x, "name"), name))
                    hit = x;
            fprintf(md, " %s |", hit ? fmt3(a, sizeof a, results_num(hit, "gflops")) : "–");
            if (hit) {
                last = hit;
                double s = results_num(hit, "speedup");
                if (b < nb && isfinite(s) && s > 0) logsum[b][t] += log(s), count[b][t]++;
            }
        }
        double s = last ? results_num(last, "speedup") : NAN;
        fprintf(md, " %s |\n", fmt3(a, sizeof a, s));
        ncase++;
        if (last && results_num(last, "threads") == maxt && isfinite(s)) {
            if (s > cbest) cbest = s, cbest_n = name;
            if (s < cworst) cworst = s, cworst_n = name;
        }
    }
    fprintf(md, "\n");
    if (cbest_n)
        fprintf(md, "- conv speedup at %d threads over %d cases: best %s %sx, lowest %s %sx.\n",
                maxt, ncase, cbest_n, fmt3(a, sizeof a, cbest), cworst_n, fmt3(b2, sizeof b2, cworst));
    for (int b = 0; b < nb; b++)
        if (count[b][maxt])
            fprintf(md, "- %s: geometric-mean conv speedup at %d threads %sx over %d cases.\n",
                    be[b], maxt, fmt3(a, sizeof a, exp(logsum[b][maxt] / count[b][maxt])),
                    count[b][maxt]);
    fprintf(md, "\n");
    /* plots */
    int tcols = 0, ccols = 0;
    if (dt && dc) {
        fprintf(dt, "threads");
        fprintf(dc, "threads");
        for (int b = 0; b < nb; b++) {
            int any = 0;
            cJSON_ArrayForEach(r, runs)
                any |= is_type(r, "train") && !strcmp(str_or(results_str(r, "backend"), ""), be[b]);
            if (any) fprintf(dt, " %s", be[b]), tcols++;
            if (count[b][1]) fprintf(dc, " %s", be[b]), ccols++;
        }
        fprintf(dt, "\n");
        fprintf(dc, "\n");
        for (int t = 1; t <= maxt; t++) {
            fprintf(dt, "%d", t);
            fprintf(dc, "%d", t);
            for (int b = 0; b < nb; b++) {
                const cJSON *hit = NULL;
                int any = 0;
                cJSON_ArrayForEach(r, runs)
                    if (is_type(r, "train") && !strcmp(str_or(results_str(r, "backend"), ""), be[b])) {
                        any = 1;
                        if (results_num(r, "threads") == t) hit = r;
                    }
                if (any) fprintf(dt, " %.5g", hit ? results_num(hit, "speedup") : NAN);
                if (count[b][1])
                    fprintf(dc, " %.5g", count[b][t] ? exp(logsum[b][t] / count[b][t]) : NAN);
            }
            fprintf(dt, "\n");
            fprintf(dc, "\n");
        }
    }
    if (dt) fclose(dt);
    if (dc) fclose(dc);
    if (tcols)
        draw(o, "speedup", "speedup-train.png", "training speedup vs cores",
             "data='speedup-train.dat'; ncols=%d; maxt=%d; what='training throughput'", tcols + 1, maxt);
    if (ccols)
        draw(o, "speedup", "speedup-conv.png", "conv speedup vs cores",
             "data='speedup-conv.dat'; ncols=%d; maxt=%d; what='conv GFLOP/s, geometric mean over layers and passes'",
             ccols + 1, maxt);
}

/* ---- hardware comparison ------------------------------------------------- */

static void section_hardware(out_ctx *o, flist *bench, flist *machine, const char *dir)
{
    FILE *md = o->md;
    int n = bench->n;
    fprintf(md, "## Hardware comparison\n\nThe same runs on %d machines, one column per "
                "results file.\n\n| | ", n);
    for (int i = 0; i < n; i++) fprintf(md, "%s |", bench->f[i]->label);
    fprintf(md, "\n|---|");
    for (int i = 0; i < n; i++) fprintf(md, "---:|");
    fprintf(md, "\n| file |");
    for (int i = 0; i < n; i++) fprintf(md, " `%s` |", bench->f[i]->path);
    fprintf(md, "\n| time |");
    for (int i = 0; i < n; i++) fprintf(md, " %s |", bench->f[i]->time);
    char a[32];
    static const char *const rows[] = { "cores", "pus" };
    for (int k = 0; k < 2; k++) {
        fprintf(md, "\n| %s |", rows[k]);
        for (int i = 0; i < n; i++)
            fprintf(md, " %g |", results_num(jobj(jobj(bench->f[i]->doc, "context"), "machine"), rows[k]));
    }
    fprintf(md, "\n| FMA peak, all cores (GFLOP/s) |");
    for (int i = 0; i < n; i++) {
        const rfile *m = machine_for(machine, bench->f[i]->host, dir);
        const cJSON *ctx = jobj(bench->f[i]->doc, "context");
        double cores = results_num(jobj(ctx, "machine"), "cores");
        fprintf(md, " %s |", fmt3(a, sizeof a, machine_peak(m, str_or(results_str(ctx, "isa_supported"), "avx512"), (int)cores)));
    }
    fprintf(md, "\n| triad, all cores (GB/s) |");
    for (int i = 0; i < n; i++) {
        const rfile *m = machine_for(machine, bench->f[i]->host, dir);
        double cores = results_num(jobj(jobj(bench->f[i]->doc, "context"), "machine"), "cores");
        fprintf(md, " %s |", fmt3(a, sizeof a, machine_triad(m, (int)cores)));
    }
    fprintf(md, "\n\nGFLOP/s (median) per case:\n\n| case |");
    for (int i = 0; i < n; i++) fprintf(md, " %s |", bench->f[i]->label);
    fprintf(md, "\n|---|");
    for (int i = 0; i < n; i++) fprintf(md, "---:|");
    fprintf(md, "\n");
    /* rows: every case of the first file, then those only later files have */
    double logsum[MAXF] = { 0 };
    int common = 0;
    for (int i = 0; i < n; i++) {
        const cJSON *r;
        cJSON_ArrayForEach(r, runs_of(bench->f[i])) {
            crow c;
            if (crow_of(r, &c)) continue;
            int seen = 0;
            for (int j = 0; j < i && !seen; j++)
                seen = find_case(runs_of(bench->f[j]), c.set, c.layer, c.n, c.pass, c.backend) != NULL;
            if (seen) continue;
            fprintf(md, "| %s/%s/b%d %s %s %dt |", c.set, c.layer, c.n, c.pass, c.backend, c.threads);
            double g[MAXF];
            int all = 1;
            for (int j = 0; j < n; j++) {
                const cJSON *x = find_case(runs_of(bench->f[j]), c.set, c.layer, c.n, c.pass, c.backend);
                g[j] = x ? results_num(x, "gflops") : NAN;
                all &= isfinite(g[j]) && g[j] > 0;
                fprintf(md, " %s |", fmt3(a, sizeof a, g[j]));
            }
            fprintf(md, "\n");
            if (all) {
                common++;
                for (int j = 1; j < n; j++) logsum[j] += log(g[j] / g[0]);
            }
        }
    }
    fprintf(md, "\n");
    for (int j = 1; j < n && common; j++)
        fprintf(md, "- %s: %sx the GFLOP/s of %s (geometric mean over the %d cases both ran).\n",
                bench->f[j]->label, fmt3(a, sizeof a, exp(logsum[j] / common)), bench->f[0]->label,
                common);
    fprintf(md, "\n");
}

/* ---- the command --------------------------------------------------------- */

static void usage(FILE *f)
{
    fprintf(f,
            "usage: convbench report [--out FILE] [--plots DIR] [--results DIR] [FILES...]\n"
            "Writes REPORT.md (or FILE) from results files: the machine, the benchmark\n"
            "tables with %% of peak and impl, a roofline, training and scaling tables, each\n"
            "with conclusions computed from the figures, and gnuplot plots (data and PNGs\n"
            "in DIR, default RESULTS/plots). Without FILES it reads the newest file of each\n"
            "kind in RESULTS (default results/) and the PyTorch/Keras peer files in\n"
            "RESULTS/peers. With bench files from several machines it\n"
            "adds a side-by-side hardware comparison. Runs no benchmark.\n");
}

int cmd_report(int argc, char **argv)
{
    static const struct option opts[] = {
        { "out", required_argument, 0, 'o' }, { "plots", required_argument, 0, 'p' },
        { "results", required_argument, 0, 'r' }, { "help", no_argument, 0, 'h' },
        { 0, 0, 0, 0 },
    };
    const char *out = "REPORT.md", *plots = NULL, *dir = "results";
    int o;
    optind = 1;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (o) {
        case 'o': out = optarg; break;
        case 'p': plots = optarg; break;
        case 'r': dir = optarg; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    char plotdir[PATH_MAX];
    snprintf(plotdir, sizeof plotdir, "%s", plots ? plots : "");
    if (!plots) snprintf(plotdir, sizeof plotdir, "%s/plots", dir);

    flist bench = { { 0 }, 0 }, scale = { { 0 }, 0 }, train = { { 0 }, 0 }, machine = { { 0 }, 0 },
          peer = { { 0 }, 0 };
    int rc = 0;
    if (optind < argc) {
        for (int i = optind; i < argc; i++) {
            rfile *f = load_file(argv[i], 0);
            if (!f) { rc = 2; continue; }
            flist *to = list_for(f, &bench, &scale, &train, &machine, &peer);
            if (to) add(to, f);
            else {
                fprintf(stderr, "convbench report: %s: kind \"%s\" has no section; ignored\n",
                        f->path, f->kind);
                free_file(f);
            }
        }
    } else {
        scan(dir, &bench, &scale, &train, &machine, &peer);   /* a missing directory holds nothing */
    }
    if (!rc && !bench.n && !scale.n && !train.n && !peer.n) {
        fprintf(stderr, "convbench report: no bench, scale or train results in %s. Produce them "
                        "with `make run` (train, quick suite and scaling), or `convbench bench`, "
                        "`convbench scale` and `convbench train --json FILE`; `convbench info` "
                        "writes the machine file.\n",
                optind < argc ? "the files given" : dir);
        rc = 1;
    }
    /* the primary machine: the first bench file's, else the first file's */
    const rfile *src = bench.n ? bench.f[0] : scale.n ? scale.f[0] : train.n ? train.f[0]
                     : peer.n ? peer.f[0] : NULL;
    flist *lists[5] = { &machine, &bench, &scale, &train, &peer };
    if (rc || !src) {
        for (int l = 0; l < 5; l++)
            for (int i = 0; i < lists[l]->n; i++) free_file(lists[l]->f[i]);
        return rc ? rc : 1;
    }
    const rfile *m = machine_for(&machine, src->host, dir);
    for (int i = 1; i < peer.n; i++)     /* peers by name, tuned before other configurations */
        for (int j = i; j > 0; j--) {
            const cJSON *p = jobj(jobj(peer.f[j]->doc, "context"), "peer"),
                        *q = jobj(jobj(peer.f[j - 1]->doc, "context"), "peer");
            const char *cp = str_or(results_str(p, "config"), ""), *cq = str_or(results_str(q, "config"), "");
            int c = strcmp(str_or(results_str(p, "name"), ""), str_or(results_str(q, "name"), ""));
            if (!c) c = strcmp(cp, "tuned") ? (strcmp(cq, "tuned") ? strcmp(cp, cq) : 1) : (strcmp(cq, "tuned") ? -1 : 0);
            if (c >= 0) break;
            rfile *t = peer.f[j];
            peer.f[j] = peer.f[j - 1];
            peer.f[j - 1] = t;
        }

    /* same-host duplicates get their time in the column name */
    for (int i = 0; i < bench.n; i++)
        for (int j = 0; j < bench.n; j++)
            if (i != j && !strcmp(bench.f[i]->host, bench.f[j]->host) &&
                !strcmp(bench.f[i]->cpu, bench.f[j]->cpu)) {
                snprintf(bench.f[i]->label, sizeof bench.f[i]->label, "%s / %s @ %s",
                         bench.f[i]->host, bench.f[i]->cpu, bench.f[i]->time);
                break;
            }

    char cmd[PATH_MAX + 16];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s'", plotdir);
    if (system(cmd) != 0) {
        fprintf(stderr, "convbench report: cannot create %s\n", plotdir);
        return 1;
    }
    char tmp[PATH_MAX], scripts[PATH_MAX], plotabs[PATH_MAX];
    snprintf(tmp, sizeof tmp, "%s.tmp", out);
    snprintf(scripts, sizeof scripts, "%s/scripts", CONVBENCH_SRCDIR);
    if (access(scripts, R_OK)) snprintf(scripts, sizeof scripts, "scripts");
    char resolved[PATH_MAX];
    if (realpath(scripts, resolved)) snprintf(scripts, sizeof scripts, "%s", resolved);
    if (!realpath(plotdir, plotabs)) snprintf(plotabs, sizeof plotabs, "%s", plotdir);
    out_ctx oc = { fopen(tmp, "w"), plotabs, plotdir, scripts,
                   system("command -v gnuplot >/dev/null 2>&1") == 0, 0, 0 };
    /* links are relative to the report's directory when it is the current one */
    const char *slash = strrchr(out, '/');
    if (slash) oc.link = plotabs;
    if (!oc.md) {
        fprintf(stderr, "convbench report: cannot write %s\n", tmp);
        return 1;
    }
    FILE *md = oc.md;
    fprintf(md, "# convbench report\n\nGenerated by `convbench report` from results files "
                "(regenerate with `make report`; do not edit by hand). Sources:\n\n");
    for (int l = 0; l < 5; l++)
        for (int i = 0; i < lists[l]->n; i++) {
            const rfile *f = lists[l]->f[i];
            const cJSON *ctx = jobj(f->doc, "context");
            fprintf(md, "- `%s`: %s, %s, %s, commit %.10s%s, `%s`\n", f->path, f->kind, f->label,
                    f->time, str_or(results_str(ctx, "git_commit"), "?"),
                    cJSON_IsTrue(jobj(ctx, "git_dirty")) ? " (modified tree)" : "",
                    str_or(results_str(ctx, "command_line"), ""));
        }
    fprintf(md, "\n");
    printf("report: writing %s\n", out);
    section_machine(&oc, m, src);
    if (bench.n) {
        section_bench(&oc, bench.f[0]);
        section_roofline(&oc, bench.f[0], m);
    }
    section_train(&oc, &train, &peer, &scale);
    section_peer_conv(&oc, &peer, &bench, &scale);
    if (scale.n) section_scale(&oc, scale.f[0]);
    if (bench.n > 1) section_hardware(&oc, &bench, &machine, dir);
    int werr = ferror(md);
    werr |= fclose(md) != 0;
    if (werr || rename(tmp, out)) {
        fprintf(stderr, "convbench report: cannot write %s\n", out);
        unlink(tmp);
        rc = 1;
    } else {
        printf("report: %s written, %d plot(s) in %s%s\n", out, oc.drawn, plotdir,
               oc.failed ? " (some plots failed)" : "");
    }
    for (int l = 0; l < 5; l++)
        for (int i = 0; i < lists[l]->n; i++) free_file(lists[l]->f[i]);
    return rc ? rc : oc.failed ? 1 : 0;
}
