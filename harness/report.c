/* convbench report [--out FILE] [--plots DIR] [PATH...]: REPORT.md and its
   plots, regenerated from results files alone.

   Input: each PATH is a results file or a directory (default results/); a
   directory is read with its peers/ subdirectory. Files are grouped by the
   machine they were measured on, told apart by what the CPU is
   (machine_key(): the machine fingerprint of results.h, stored or computed
   from what the file records of the CPU), never by host name: different machines are often all
   called "vm". Per machine, only the newest file (context.time_utc) of each
   series is shown: bench per thread count and sets, train per backend and
   thread count, peer per peer and configuration, one scale file, one
   machine file.

   Output: one section per machine, every figure in it from that machine's
   files: the machine (its own machine file: peaks, bandwidths, libraries),
   GFLOP/s tables with % of its own peak (recomputed, never the stored
   pct_peak: files written on one machine with another's machine file at
   hand hold the wrong one), a roofline, training, peers and scaling. With
   two or more machines, a "Machines compared" section puts them side by
   side (report_compare.c); no other table mixes machines. Plots (gnuplot,
   the scripts in scripts/) and their data go to PLOTS/<machine>/, so machines never
   overwrite each other's; the sentences under the tables are computed from
   the figures. The other report_*.c files hold the sections (report.h
   lists them). */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "cli.h"
#include "commands.h"
#include "noshell.h"
#include "report.h"
#include "version.h"

/* ---- machine identity ---------------------------------------------------- */

static void append(char *buf, size_t len, size_t *used, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void append(char *buf, size_t len, size_t *used, const char *fmt, ...)
{
    if (*used >= len) return;
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(buf + *used, len - *used, fmt, ap);
    va_end(ap);
    if (k > 0) *used += (size_t)k;
}

/* What a machine is, as a key: the results module's fingerprint (the
   stored one, else computed from what the file records of the CPU), never
   the host name. */
void machine_key(const cJSON *machine, char *buf, size_t len)
{
    results_machine_fingerprint(machine, buf, len);
}

/* A readable name: the machine's label (results_machine_label: stored, or
   derived from the CPU), reduced to [A-Za-z0-9._-] (it names the plot
   directory and goes into shell and gnuplot strings). */
static void machine_name(const cJSON *mc, char *buf, size_t len)
{
    char label[RESULTS_LABEL_MAX + 1];
    results_machine_label(mc, label, sizeof label);
    size_t k = 0;
    for (const char *p = label; *p && k + 1 < len; p++) {
        int ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
                 *p == '.' || *p == '_' || *p == '-';
        buf[k++] = ok ? *p : '-';
    }
    buf[k] = 0;
}

/* ---- files --------------------------------------------------------------- */

static void flist_add(flist *l, rfile *f)
{
    if (l->n == l->cap) {
        int cap = l->cap ? 2 * l->cap : 16;
        rfile **g = realloc(l->f, (size_t)cap * sizeof *g);
        if (!g) {
            fprintf(stderr, "convbench report: out of memory\n");
            exit(1);
        }
        l->f = g, l->cap = cap;
    }
    l->f[l->n++] = f;
}

static rfile *load_file(const char *path, int named)
{
    char err[768];
    cJSON *doc = results_read(path, err, sizeof err);
    if (!doc) {
        fprintf(stderr, "convbench report: %s%s\n", named ? "" : "skipping ", err);
        return NULL;
    }
    rfile *f = calloc(1, sizeof *f);
    if (!f) {
        cJSON_Delete(doc);
        return NULL;
    }
    snprintf(f->path, sizeof f->path, "%s", path);
    f->doc = doc;
    f->kind = str_or(results_str(doc, "kind"), "");
    f->time = str_or(results_str(jobj(doc, "context"), "time_utc"), "");
    f->named = named;
    return f;
}

static void free_file(rfile *f)
{
    if (!f) return;
    cJSON_Delete(f->doc);
    free(f);
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The *.json files of dir, in name order (so machines keep their order
   from run to run); unreadable ones are skipped with the reason. */
static void load_dir(const char *dir, flist *all)
{
    DIR *d = opendir(dir);
    if (!d) return;
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (e->d_name[0] == '.' || len < 6 || strcmp(e->d_name + len - 5, ".json")) continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 32;
            char **g = realloc(names, cap * sizeof *g);
            if (!g) break;
            names = g;
        }
        if (!(names[n] = strdup(e->d_name))) break;
        n++;
    }
    closedir(d);
    if (n) qsort(names, n, sizeof *names, cmp_name);
    for (size_t i = 0; i < n; i++) {
        char path[PATH_MAX];
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        free(names[i]);
        if (stat(path, &st) || !S_ISREG(st.st_mode)) continue;
        rfile *f = load_file(path, 0);
        if (f) flist_add(all, f);
    }
    free(names);
}

/* A PATH of the command line: a directory (and its peers/) or one file.
   0, or 2 after saying why (missing, unreadable, not a results file). */
static int load_path(const char *path, flist *all)
{
    struct stat st;
    if (stat(path, &st)) {
        fprintf(stderr, "convbench report: %s: %s\n", path, strerror(errno));
        return 2;
    }
    if (S_ISDIR(st.st_mode)) {
        char sub[PATH_MAX];
        size_t len = strlen(path);
        snprintf(sub, sizeof sub, "%.*s/peers",
                 (int)(len > 1 && path[len - 1] == '/' ? len - 1 : len), path);
        load_dir(path, all);
        load_dir(sub, all);
        return 0;
    }
    rfile *f = load_file(path, 1);
    if (!f) return 2;
    flist_add(all, f);
    return 0;
}

/* ---- grouping and selection ---------------------------------------------- */

/* The sets of a bench file's conv runs, "seed,resnet". */
static void bench_sets(const rfile *f, char *buf, size_t len)
{
    size_t u = 0;
    const cJSON *r;
    buf[0] = 0;
    cJSON_ArrayForEach(r, runs_of(f))
    {
        const char *s = results_str(r, "set");
        if (!is_type(r, "conv") || !s) continue;
        size_t sl = strlen(s);
        int seen = 0;
        for (const char *p = buf; (p = strstr(p, s)) && !seen; p += sl)
            seen = (p == buf || p[-1] == ',') && (p[sl] == ',' || !p[sl]);
        if (!seen) append(buf, len, &u, "%s%s", u ? "," : "", s);
    }
}

/* What makes two files of one machine and kind the same series: only the
   newest of each is shown. Bench files are a series per thread count (and
   sets), so a one-thread run does not hide the all-core one. */
static void series_key(const rfile *f, char *buf, size_t len)
{
    if (!strcmp(f->kind, "train"))
        train_key(f, buf, len);
    else if (!strcmp(f->kind, "peer"))
        peer_key(f, buf, len);
    else if (!strcmp(f->kind, "bench")) {
        char sets[256];
        bench_sets(f, sets, sizeof sets);
        snprintf(buf, len, "%d threads, %s", file_threads(f), sets);
    } else
        snprintf(buf, len, "-");
}

static int shown_kind(const char *kind)
{
    static const char *const kinds[] = { "bench", "scale", "train", "machine", "peer", NULL };
    for (int i = 0; kinds[i]; i++)
        if (!strcmp(kind, kinds[i])) return 1;
    return 0;
}

static report_machine *machine_of(report_machine ***ms, int *nm, const cJSON *mc)
{
    char key[80];
    machine_key(mc, key, sizeof key);
    for (int i = 0; i < *nm; i++)
        if (!strcmp((*ms)[i]->key, key)) return (*ms)[i];
    report_machine **g = realloc(*ms, (size_t)(*nm + 1) * sizeof *g);
    report_machine *m = calloc(1, sizeof *m);
    if (!g || !m) {
        fprintf(stderr, "convbench report: out of memory\n");
        exit(1);
    }
    *ms = g;
    snprintf(m->key, sizeof m->key, "%s", key);
    (*ms)[(*nm)++] = m;
    return m;
}

/* Keeps f unless a newer file of its machine, kind and series is loaded
   (ties: the one loaded first). */
static int is_newest(const rfile *f, const flist *all, int self)
{
    char kf[256], kg[256];
    series_key(f, kf, sizeof kf);
    for (int j = 0; j < all->n; j++) {
        const rfile *g = all->f[j];
        if (j == self || g->m != f->m || strcmp(f->kind, g->kind)) continue;
        series_key(g, kg, sizeof kg);
        if (strcmp(kf, kg)) continue;
        int c = strcmp(g->time, f->time);
        if (c > 0 || (c == 0 && j < self)) {
            if (f->named)
                fprintf(stderr,
                        "convbench report: %s: a newer %s file of the same machine and "
                        "series is shown instead, %s\n",
                        f->path, f->kind, g->path);
            return 0;
        }
    }
    return 1;
}

/* Names are unique: machines that would share one get their key's head. */
static void unique_names(report_machine **ms, int nm)
{
    for (int i = 0; i < nm; i++) {
        int clash = 0;
        for (int j = 0; j < nm; j++) clash |= i != j && !strcmp(ms[i]->name, ms[j]->name);
        if (!clash) continue;
        char base[96];
        snprintf(base, sizeof base, "%s", ms[i]->name);
        for (int j = i; j < nm; j++)
            if (!strcmp(ms[j]->name, base))
                snprintf(ms[j]->name, sizeof ms[j]->name, "%.80s-%.6s", base, ms[j]->key);
    }
}

/* The bench file a machine's roofline uses: the most threads, then the newest. */
static const rfile *primary_bench(const report_machine *m)
{
    const rfile *p = NULL;
    for (int i = 0; i < m->bench.n; i++) {
        const rfile *f = m->bench.f[i];
        if (!p || file_threads(f) > file_threads(p) ||
            (file_threads(f) == file_threads(p) && strcmp(f->time, p->time) > 0))
            p = f;
    }
    return p;
}

static int cmp_bench(const void *a, const void *b)
{
    const rfile *x = *(rfile *const *)a, *y = *(rfile *const *)b;
    int tx = file_threads(x), ty = file_threads(y);
    return tx != ty ? ty - tx : strcmp(x->path, y->path);
}

/* Peers by name, tuned before other configurations. */
static int cmp_peer(const void *a, const void *b)
{
    const cJSON *p = jobj(jobj((*(rfile *const *)a)->doc, "context"), "peer"),
                *q = jobj(jobj((*(rfile *const *)b)->doc, "context"), "peer");
    int c = strcmp(str_or(results_str(p, "name"), ""), str_or(results_str(q, "name"), ""));
    if (c) return c;
    const char *cp = str_or(results_str(p, "config"), ""),
               *cq = str_or(results_str(q, "config"), "");
    int tp = !strcmp(cp, "tuned"), tq = !strcmp(cq, "tuned");
    return tp != tq ? tq - tp : strcmp(cp, cq);
}

/* ---- the command --------------------------------------------------------- */

static void usage(FILE *f)
{
    fprintf(f, "usage: convbench report [--out FILE] [--plots DIR] [PATH...]\n"
               "Writes REPORT.md (or FILE) from results files. Each PATH is a results file or a\n"
               "directory (read with its peers/ subdirectory); default results/. Files are\n"
               "grouped by the machine they were measured on (what its CPU is, not its host\n"
               "name), and each machine gets its own section from its own files only, the\n"
               "newest file of each series: the machine, GFLOP/s tables with %% of its own\n"
               "measured peak, a roofline, training, peers and scaling. With two or more\n"
               "machines a \"Machines compared\" section puts them side by side. Plots and\n"
               "their data go to DIR/<machine>/ (default: the first directory given, or\n"
               "results, /plots). --results DIR is the same as a directory PATH. Runs no\n"
               "benchmark.\n");
}

static void free_all(flist *all, report_machine **ms, int nm)
{
    for (int i = 0; i < all->n; i++) free_file(all->f[i]);
    free(all->f);
    for (int i = 0; i < nm; i++) {
        free(ms[i]->bench.f), free(ms[i]->scale.f), free(ms[i]->train.f), free(ms[i]->peer.f);
        free(ms[i]);
    }
    free(ms);
}

int cmd_report(int argc, char **argv)
{
    static const struct option opts[] = {
        { "out", required_argument, 0, 'o' },
        { "plots", required_argument, 0, 'p' },
        { "results", required_argument, 0, 'r' },
        { "help", no_argument, 0, 'h' },
        { 0, 0, 0, 0 },
    };
    const char *out = "REPORT.md", *plots = NULL;
    const char *paths[256];
    int npaths = 0, o;
    optind = 1;
    while ((o = cli_getopt("report", argc, argv, "", opts)) != -1) {
        switch (o) {
        case 'o': out = optarg; break;
        case 'p': plots = optarg; break;
        case 'r':
            if (npaths < 256) paths[npaths++] = optarg;
            break;
        case 'h': usage(stdout); return 0;
        default: return 2;
        }
    }
    for (int i = optind; i < argc && npaths < 256; i++) paths[npaths++] = argv[i];
    if (argc - optind > 256) {
        fprintf(stderr, "convbench report: more than 256 paths\n");
        return 2;
    }
    if (!npaths) paths[npaths++] = "results";

    flist all = { 0 };
    int rc = 0;
    for (int i = 0; i < npaths; i++) rc |= load_path(paths[i], &all);
    /* a file reached twice (named and in a directory) counts once */
    for (int i = 0; i < all.n; i++) {
        char ri[PATH_MAX], rj[PATH_MAX];
        if (!realpath(all.f[i]->path, ri)) continue;
        for (int j = 0; j < i; j++)
            if (realpath(all.f[j]->path, rj) && !strcmp(ri, rj)) {
                free_file(all.f[i]);
                memmove(&all.f[i], &all.f[i + 1], (size_t)(all.n - i - 1) * sizeof *all.f);
                all.n--, i--;
                break;
            }
    }
    report_machine **ms = NULL;
    int nm = 0;
    for (int i = 0; i < all.n; i++) {
        rfile *f = all.f[i];
        if (!shown_kind(f->kind)) {
            if (f->named)
                fprintf(stderr, "convbench report: %s: kind \"%s\" has no section; ignored\n",
                        f->path, f->kind);
            continue;
        }
        f->m = machine_of(&ms, &nm, jobj(jobj(f->doc, "context"), "machine"));
    }
    int shown = 0;
    for (int i = 0; i < all.n; i++) {
        rfile *f = all.f[i];
        report_machine *m = f->m;
        if (!m || !is_newest(f, &all, i)) continue;
        if (!strcmp(f->kind, "machine"))
            m->machine = f;
        else {
            flist *to = !strcmp(f->kind, "bench")   ? &m->bench
                        : !strcmp(f->kind, "scale") ? &m->scale
                        : !strcmp(f->kind, "train") ? &m->train
                                                    : &m->peer;
            flist_add(to, f);
            shown++;
        }
        if (!m->src || f == m->machine) m->src = f;
    }
    if (!rc && !shown) {
        fprintf(stderr,
                "convbench report: no bench, scale, train or peer results in %s. Produce "
                "them with `make run` (train, quick suite and scaling), or `convbench "
                "bench`, `convbench scale` and `convbench train --out FILE`; `convbench "
                "info` writes the machine file.\n",
                npaths == 1 ? paths[0] : "the paths given");
        rc = 1;
    }
    if (rc) {
        free_all(&all, ms, nm);
        return rc;
    }
    for (int i = 0; i < nm; i++) {
        report_machine *m = ms[i];
        m->mc = jobj(jobj(m->src->doc, "context"), "machine");
        machine_name(m->mc, m->name, sizeof m->name);
        if (m->bench.n) qsort(m->bench.f, (size_t)m->bench.n, sizeof *m->bench.f, cmp_bench);
        if (m->peer.n) qsort(m->peer.f, (size_t)m->peer.n, sizeof *m->peer.f, cmp_peer);
    }
    unique_names(ms, nm);

    /* plots: DIR, else the first directory given /plots, else results/plots */
    char plotdir[PATH_MAX];
    snprintf(plotdir, sizeof plotdir, "results/plots");
    if (plots)
        snprintf(plotdir, sizeof plotdir, "%s", plots);
    else
        for (int i = 0; i < npaths; i++) {
            struct stat st;
            if (!stat(paths[i], &st) && S_ISDIR(st.st_mode)) {
                snprintf(plotdir, sizeof plotdir, "%s/plots", paths[i]);
                break;
            }
        }
    for (int i = 0; i < nm; i++) {
        char dir[PATH_MAX + 256];
        snprintf(dir, sizeof dir, "%s/%s", plotdir, ms[i]->name);
        if (make_dirs(dir, 0)) {
            fprintf(stderr, "convbench report: cannot create %s: %s\n", dir, strerror(errno));
            free_all(&all, ms, nm);
            return 1;
        }
    }
    char tmp[PATH_MAX], scripts[PATH_MAX], plotabs[PATH_MAX], resolved[PATH_MAX];
    snprintf(tmp, sizeof tmp, "%s.tmp", out);
    snprintf(scripts, sizeof scripts, "%s/scripts", version_srcdir());
    if (access(scripts, R_OK)) snprintf(scripts, sizeof scripts, "scripts");
    if (realpath(scripts, resolved)) snprintf(scripts, sizeof scripts, "%s", resolved);
    if (!realpath(plotdir, plotabs)) snprintf(plotabs, sizeof plotabs, "%s", plotdir);
    out_ctx oc = { fopen(tmp, "w"), plotabs, plotdir, scripts, "", program_found("gnuplot"), 0, 0 };
    /* links are relative to the report's directory when it is the current one */
    if (strchr(out, '/')) oc.link = plotabs;
    if (!oc.md) {
        fprintf(stderr, "convbench report: cannot write %s\n", tmp);
        free_all(&all, ms, nm);
        return 1;
    }
    FILE *md = oc.md;
    fprintf(md, "# convbench report\n\nGenerated by `convbench report` from results files "
                "(regenerate with `make report`; do not edit by hand). ");
    if (nm > 1)
        fprintf(md,
                "%d machines, each in its own section with figures from its own files only; "
                "\"Machines compared\" puts them side by side:\n\n",
                nm);
    else
        fprintf(md, "One machine:\n\n");
    for (int i = 0; i < nm; i++)
        fprintf(md, "- `%s`: %s, %s, %g cores, %d results file%s%s\n", ms[i]->name,
                str_or(results_str(ms[i]->mc, "cpu_model"), "?"),
                str_or(results_str(jobj(ms[i]->src->doc, "context"), "isa_supported"), "?"),
                results_num(ms[i]->mc, "cores"),
                ms[i]->bench.n + ms[i]->scale.n + ms[i]->train.n + ms[i]->peer.n,
                ms[i]->bench.n + ms[i]->scale.n + ms[i]->train.n + ms[i]->peer.n == 1 ? "" : "s",
                ms[i]->machine ? "" : ", no machine file");
    fprintf(md, "\n");
    printf("report: writing %s (%d machine%s)\n", out, nm, nm > 1 ? "s" : "");
    for (int i = 0; i < nm; i++) {
        report_machine *m = ms[i];
        oc.sub = m->name;
        section_machine(&oc, m);
        for (int b = 0; b < m->bench.n; b++) section_bench(&oc, m, m->bench.f[b]);
        if (m->bench.n) section_roofline(&oc, m, primary_bench(m));
        section_train(&oc, m);
        section_peer_conv(&oc, m);
        if (m->scale.n) section_scale(&oc, m, m->scale.f[0]);
    }
    if (nm > 1) section_compare(&oc, ms, nm);
    int werr = ferror(md);
    werr |= fclose(md) != 0;
    if (werr || rename(tmp, out)) {
        fprintf(stderr, "convbench report: cannot write %s\n", out);
        unlink(tmp);
        rc = 1;
    } else {
        printf("report: %s written, %d plot(s) in %s/<machine>/%s\n", out, oc.drawn, plotdir,
               oc.failed ? " (some plots failed)" : "");
    }
    free_all(&all, ms, nm);
    return rc ? rc : oc.failed ? 1 : 0;
}
