/* convbench report: one machine's sections. The machine (from its own
   machine file: topology, ISA, libraries, measured peaks and bandwidths),
   GFLOP/s tables per bench file with % of this machine's own peak and the
   conclusions computed from them, training (convbench's backends and the
   peers measured on this machine), the peers' per-layer GFLOP/s beside
   convbench's fastest backend, and scaling across cores. Every figure
   comes from the files of the machine passed in. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "report.h"

/* ---- the machine --------------------------------------------------------- */

void section_machine(out_ctx *o, const report_machine *m)
{
    FILE *md = o->md;
    const rfile *f = m->src;
    const cJSON *ctx = jobj(f->doc, "context"), *mc = m->mc, *b = jobj(ctx, "build");
    char buf[64];
    fprintf(md, "## Machine `%s`: %s, %s, %g cores\n\n", m->name,
            str_or(results_str(mc, "cpu_model"), "?"),
            str_or(results_str(ctx, "isa_supported"), "?"), results_num(mc, "cores"));
    fprintf(md, "Every figure in this section was measured on this machine: its files are\n\n");
    const flist *lists[] = { &m->bench, &m->scale, &m->train, &m->peer };
    if (m->machine) fprintf(md, "- `%s`: machine, %s\n", m->machine->path, m->machine->time);
    for (int l = 0; l < 4; l++)
        for (int i = 0; i < lists[l]->n; i++) {
            const rfile *x = lists[l]->f[i];
            const cJSON *c = jobj(x->doc, "context");
            fprintf(md, "- `%s`: %s, %s, commit %.10s%s, `%s`\n", x->path, x->kind, x->time,
                    str_or(results_str(c, "git_commit"), "?"),
                    cJSON_IsTrue(jobj(c, "git_dirty")) ? " (modified tree)" : "",
                    str_or(results_str(c, "command_line"), ""));
        }
    fprintf(md, "\n### The machine\n\n");
    if (m->machine)
        fprintf(md, "From its machine file, `%s` (%s).\n\n", f->path, f->time);
    else
        fprintf(md, "No machine file: from the context of `%s` (%s).\n\n", f->path, f->time);
    fprintf(md, "| | |\n|---|---|\n| CPU | %s |\n", str_or(results_str(mc, "cpu_model"), "?"));
    const char *vendor = results_str(mc, "vendor");
    if (vendor)
        fprintf(md, "| vendor, family/model/stepping | %s, %g/%g/%g |\n", vendor,
                results_num(mc, "family"), results_num(mc, "model"), results_num(mc, "stepping"));
    fprintf(md, "| identity | %s `%s` |\n",
            results_str(mc, "fingerprint") ? "fingerprint"
                                           : "key of CPU model, cores, PUs, ISA flags and caches",
            m->key);
    fprintf(md, "| host name | %s (not used to tell machines apart) |\n",
            str_or(results_str(mc, "hostname"), "?"));
    size_text(results_num(mc, "memory_bytes"), buf, sizeof buf);
    fprintf(md, "| topology | %g package(s), %g core(s), %g PU(s), %g NUMA node(s), %s |\n",
            results_num(mc, "packages"), results_num(mc, "cores"), results_num(mc, "pus"),
            results_num(mc, "numa_nodes"), buf);
    const cJSON *c;
    cJSON_ArrayForEach(c, jobj(mc, "caches"))
    {
        size_text(results_num(c, "size_bytes"), buf, sizeof buf);
        fprintf(md, "| L%g %s cache | %s x %g |\n", results_num(c, "level"),
                str_or(results_str(c, "type"), ""), buf, results_num(c, "count"));
    }
    fprintf(md, "| ISA flags |");
    cJSON_ArrayForEach(c, jobj(mc, "isa_flags")) if (cJSON_IsString(c))
        fprintf(md, " %s", c->valuestring);
    fprintf(md, " |\n| best ISA | %s |\n", str_or(results_str(ctx, "isa_supported"), "?"));
    fprintf(md, "| compiler | %s `%s` |\n", str_or(results_str(b, "compiler"), "?"),
            str_or(results_str(b, "cflags"), "?"));
    const cJSON *v = m->machine ? jobj(m->machine->doc, "versions") : NULL;
    if (v) {
        fprintf(md, "| libraries |");
        cJSON_ArrayForEach(c, v) if (cJSON_IsString(c))
            fprintf(md, " %s %s;", c->string, c->valuestring);
        fprintf(md, " |\n");
    }
    fprintf(md, "\n");
    if (!m->machine) {
        fprintf(md, "No machine file for this machine: run `convbench info` on it for the measured "
                    "peak and bandwidths (%% of peak and the roofline need them).\n\n");
        return;
    }
    fprintf(md, "Measured: fp32 FMA peak in GFLOP/s, bandwidth in GB/s.\n\n"
                "| | threads | value |\n|---|---:|---:|\n");
    const cJSON *r;
    cJSON_ArrayForEach(r, runs_of(m->machine))
    {
        if (is_type(r, "peak"))
            fprintf(md, "| peak %s | %g | %s GFLOP/s |\n", str_or(results_str(r, "isa"), "?"),
                    results_num(r, "threads"), fmt3(buf, sizeof buf, results_num(r, "gflops")));
        else if (is_type(r, "triad"))
            fprintf(md, "| triad (%g MiB) | %g | %s GB/s |\n", results_num(r, "mib"),
                    results_num(r, "threads"), fmt3(buf, sizeof buf, results_num(r, "gbs")));
        else if (is_type(r, "bandwidth")) {
            char sz[64];
            size_text(results_num(r, "bytes"), sz, sizeof sz);
            fprintf(md, "| bandwidth %s (%s) | %g | %s GB/s |\n",
                    str_or(results_str(r, "level"), "?"), sz, results_num(r, "threads"),
                    fmt3(buf, sizeof buf, results_num(r, "gbs")));
        }
    }
    fprintf(md, "\n");
}

/* ---- conv tables --------------------------------------------------------- */

static const cJSON *find_case(const cJSON *runs, const char *set, const char *layer, int n,
                              const char *pass, const char *backend)
{
    const cJSON *r;
    cJSON_ArrayForEach(r, runs)
    {
        crow c;
        if (crow_of(r, &c)) continue;
        if (!strcmp(c.set, set) && !strcmp(c.layer, layer) && c.n == n && !strcmp(c.pass, pass) &&
            !strcmp(c.backend, backend))
            return r;
    }
    return NULL;
}

/* Rows (set/layer/n/pass) of one set, as their first run: layers in the
   suite's order, then batch, then pass. */
static int set_rows(const cJSON *runs, const char *set, const cJSON **rows, int max)
{
    int n = 0;
    const char *layers[256];
    int nl = 0;
    const cJSON *r;
    cJSON_ArrayForEach(r, runs)
    {
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

/* What the % in brackets is against; and whether the file's own stored
   pct_peak used another peak (then it is not shown anywhere). */
static void peak_note(FILE *md, const report_machine *m, const rfile *f, int threads)
{
    const char *isa = file_isa(f);
    double peak = machine_peak(m, isa, threads);
    char a[32], b[32], why[128];
    if (!isfinite(peak)) {
        no_peak_reason(m, isa, threads, why, sizeof why);
        fprintf(md, "%% of peak: not shown, %s (run `convbench info` on this machine).\n\n", why);
        return;
    }
    fprintf(md,
            "In brackets, %% of this machine's measured %s FMA peak at %d thread%s, %s GFLOP/s "
            "(its machine file).",
            isa, threads, threads > 1 ? "s" : "", fmt3(a, sizeof a, peak));
    const cJSON *r;
    double stored = NAN;
    cJSON_ArrayForEach(r, runs_of(f)) if (is_type(r, "conv"))
    {
        stored = results_num(r, "peak_gflops");
        break;
    }
    if (isfinite(stored) && fabs(stored - peak) > 0.01 * peak)
        fprintf(md,
                " The file's stored pct_peak was computed against %s GFLOP/s, not this "
                "machine's peak: recomputed here.",
                fmt3(b, sizeof b, stored));
    fprintf(md, "\n\n");
}

void section_bench(out_ctx *o, const report_machine *m, const rfile *f)
{
    FILE *md = o->md;
    const cJSON *runs = runs_of(f);
    const char *be[64];
    int nb = backend_list(runs, be, 64), nours = 0;
    while (nours < nb && !is_onednn(be[nours])) nours++;
    const cJSON *first = NULL, *r;
    cJSON_ArrayForEach(r, runs) if (is_type(r, "conv"))
    {
        first = r;
        break;
    }
    if (!first) return;
    const cJSON *ctx = jobj(f->doc, "context");
    int threads = (int)results_num(first, "threads");
    fprintf(md, "### Convolution throughput, %d thread%s\n\n", threads, threads > 1 ? "s" : "");
    fprintf(md,
            "From `%s` (%s, commit %.10s, ISA %s). GFLOP/s = direct-convolution FLOPs "
            "(2·N·K·C·R·S·P·Q) / median time of %g repetitions, so Winograd figures are "
            "effective GFLOP/s. ",
            f->path, f->time, str_or(results_str(ctx, "git_commit"), "?"), file_isa(f),
            results_num(first, "repetitions"));
    peak_note(md, m, f, threads);
    const char *sets[16];
    int ns = 0;
    cJSON_ArrayForEach(r, runs)
    {
        crow c;
        if (crow_of(r, &c)) continue;
        int k = 0;
        while (k < ns && strcmp(sets[k], c.set)) k++;
        if (k == ns && ns < 16) sets[ns++] = c.set;
    }
    int over = 0, direct = 0;
    for (int si = 0; si < ns; si++) {
        const cJSON *rows[256];
        int nr = set_rows(runs, sets[si], rows, 256);
        fprintf(md, "#### Set `%s`, %d thread%s\n\n| layer | pass |", sets[si], threads,
                threads > 1 ? "s" : "");
        for (int b = 0; b < nb; b++) fprintf(md, " %s |", be[b]);
        fprintf(md, "\n|---|---|");
        for (int b = 0; b < nb; b++) fprintf(md, "---:|");
        fprintf(md, "\n");
        char dname[128], png[128];
        snprintf(dname, sizeof dname, "gflops-%s-t%d.dat", sets[si], threads);
        snprintf(png, sizeof png, "gflops-%s-t%d.png", sets[si], threads);
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
                    double pct = own_pct(m, f, &d);
                    fmt3(g, sizeof g, d.gflops);
                    if (isfinite(pct))
                        fprintf(md, " %s (%.0f%%) |", g, pct);
                    else
                        fprintf(md, " %s |", g);
                    if (dat) fprintf(dat, " %.4g", d.gflops);
                    if (!is_winograd(d.backend)) direct++, over += pct > 100;
                } else {
                    fprintf(md, " – |");
                    if (dat) fprintf(dat, " NaN");
                }
            }
            fprintf(md, "\n");
            if (dat) fprintf(dat, "\n");
        }
        fprintf(md, "\n");
        /* conclusions: per row, the fastest, and against the other camp's best */
        int wins[64] = { 0 };
        for (int i = 0; i < nr; i++) {
            crow c, d, best = { 0 }, ref = { 0 };
            crow_of(rows[i], &c);
            best.gflops = ref.gflops = -1;
            int bi = -1;
            for (int b = 0; b < nb; b++) {
                const cJSON *x = find_case(runs, c.set, c.layer, c.n, c.pass, be[b]);
                if (!x || crow_of(x, &d) || !isfinite(d.gflops)) continue;
                if (d.gflops > best.gflops) best = d, bi = b;
            }
            if (bi < 0) continue;
            wins[bi]++;
            for (int b = 0; b < nb; b++) {
                const cJSON *x = find_case(runs, c.set, c.layer, c.n, c.pass, be[b]);
                if (!x || crow_of(x, &d) || !isfinite(d.gflops)) continue;
                if (is_onednn(d.backend) != is_onednn(best.backend) && d.gflops > ref.gflops)
                    ref = d;
            }
            char g1[32], g2[32], why[128];
            double pct = own_pct(m, f, &best);
            fprintf(md, "- fastest %s on %s/%s/b%d: **%s** at %s GFLOP/s", c.pass, c.set, c.layer,
                    c.n, best.backend, fmt3(g1, sizeof g1, best.gflops));
            if (isfinite(pct))
                fprintf(md, " (%.0f%% of peak)", pct);
            else if (!m->machine)
                fprintf(md, " (no machine file)");
            else
                no_peak_reason(m, file_isa(f), threads, why, sizeof why), fprintf(md, " (%s)", why);
            if (ref.gflops > 0)
                fprintf(md, ", %sx %s (%s)", fmt3(g2, sizeof g2, best.gflops / ref.gflops),
                        ref.backend, fmt3(g1, sizeof g1, ref.gflops));
            fprintf(md, "\n");
        }
        fprintf(md, "- fastest per case:");
        for (int b = 0, sep = 0; b < nb; b++)
            if (wins[b]) fprintf(md, "%s %s %d of %d", sep++ ? "," : "", be[b], wins[b], nr);
        fprintf(md, "\n\n");
        if (dat) {
            fclose(dat);
            char cap[128];
            snprintf(cap, sizeof cap, "GFLOP/s per backend, set %s, %d threads", sets[si], threads);
            draw(o, "gflops", png, cap, "data='%s'; ncols=%d; nours=%d; set_name='%s'; threads=%d",
                 dname, nb + 1, nours, sets[si], threads);
        }
    }
    if (over)
        fprintf(md,
                "- %d of %d direct-algorithm cases run above 100%% of the machine file's "
                "peak: that peak figure looks low for this CPU (measure it again with "
                "`convbench info`).\n\n",
                over, direct);
    fprintf(md, "<details><summary>Implementation chosen per case (impl)</summary>\n\n"
                "| case | backend | impl |\n|---|---|---|\n");
    cJSON_ArrayForEach(r, runs)
    {
        crow c;
        if (crow_of(r, &c) || !c.impl) continue;
        fprintf(md, "| %s/%s/b%d %s | %s | `%s` |\n", c.set, c.layer, c.n, c.pass, c.backend,
                c.impl);
    }
    fprintf(md, "\n</details>\n\n");
    const cJSON *sk = jobj(f->doc, "skipped");
    if (cJSON_GetArraySize(sk) > 0) {
        fprintf(md,
                "<details><summary>%d case(s) skipped, with the backend's reason</summary>\n\n"
                "| case | reason |\n|---|---|\n",
                cJSON_GetArraySize(sk));
        cJSON_ArrayForEach(r, sk) fprintf(md, "| %s | %s |\n", str_or(results_str(r, "name"), "?"),
                                          str_or(results_str(r, "reason"), "?"));
        fprintf(md, "\n</details>\n\n");
    }
}

/* ---- training ------------------------------------------------------------ */

static int cmp_trow(const void *a, const void *b)
{
    const trow *x = a, *y = b;
    if (x->threads != y->threads) return x->threads - y->threads;
    return (x->ips < y->ips) - (x->ips > y->ips);
}

/* "how the peers were run": one item per peer file, from context.peer */
static void peers_how(FILE *md, const flist *peer)
{
    fprintf(md, "#### How the peers were run\n\n");
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
            fprintf(md, "%s: %s.\n", peer_status(f),
                    str_or(results_str(p, "reason"), "no reason given"));
            continue;
        }
        fprintf(md, "%s.", str_or(results_str(p, "description"), "no description"));
        const cJSON *w, *e, *c;
        int nw = 0;
        cJSON_ArrayForEach(w, jobj(p, "workers"))
        {
            fprintf(md, "%s %g thread%s on CPU%s", nw++ ? ";" : "", results_num(w, "threads"),
                    results_num(w, "threads") > 1 ? "s" : "",
                    cJSON_GetArraySize(jobj(w, "cpus")) > 1 ? "s" : "");
            int k = 0;
            cJSON_ArrayForEach(c, jobj(w, "cpus"))
                fprintf(md, "%s%g", k++ ? "," : " ", c->valuedouble);
            k = 0;
            cJSON_ArrayForEach(e, jobj(w, "env")) if (cJSON_IsString(e))
                fprintf(md, "%s%s=%s", k++ ? ", " : ", env ", e->string, e->valuestring);
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
    fprintf(
        md,
        "#### The `auto` choice\n\nFrom `%s` (%s, %s): per layer and pass, the backend "
        "`auto` timed fastest at plan time (median of its repetitions) and the runner-up "
        "(a candidate without a time was abandoned as too slow).\n\n"
        "| layer | pass | backend | median ms | runner-up | runner-up ms | runner-up / chosen |\n"
        "|---|---|---|---:|---|---:|---:|\n",
        f->path, f->time, k);
    const cJSON *r, *x;
    const char *names[64];
    int wins[64], nn = 0, total = 0;
    cJSON_ArrayForEach(r, runs_of(f))
    {
        if (!is_type(r, "autotune")) continue;
        const char *chosen = str_or(results_str(r, "backend"), "?");
        double ms = 1e3 * results_num(r, "median_s"), best = INFINITY;
        const char *second = NULL;
        cJSON_ArrayForEach(
            x, jobj(r, "candidates")) if (cJSON_IsNumber(x) && strcmp(x->string, chosen) &&
                                          x->valuedouble * 1e3 < best) best = x->valuedouble * 1e3,
                                                                       second = x->string;
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

/* auto against the fastest single backend at a's thread count: from the
   machine's scale file when it has both (one run, blocks interleaved: the
   fair comparison), else from the separate training runs, said as such. */
static void auto_vs_single(FILE *md, const trow *a, const trow *single, const flist *scale)
{
    const rfile *f = scale->n ? scale->f[0] : NULL;
    double auto_ips = 0, best = 0;
    const char *best_name = NULL;
    const cJSON *r;
    if (f) cJSON_ArrayForEach(r, runs_of(f))
        {
            const char *b = results_str(r, "backend");
            double ips = results_num(r, "images_per_s");
            if (!is_type(r, "train") || !b || (int)results_num(r, "threads") != a->threads ||
                !(ips > 0))
                continue;
            if (!strcmp(b, "auto"))
                auto_ips = ips;
            else if (ips > best)
                best = ips, best_name = b;
        }
    char x[32], y[32], z[32];
    const char *s = a->threads > 1 ? "s" : "";
    if (auto_ips > 0 && best_name)
        fprintf(md,
                "- auto at %d thread%s trains %sx the images/s of the fastest single backend, "
                "%s (%s vs %s), in one run with their timed blocks interleaved (`%s`).\n",
                a->threads, s, fmt3(x, sizeof x, auto_ips / best), best_name,
                fmt3(y, sizeof y, auto_ips), fmt3(z, sizeof z, best), f->path);
    else if (single && single->ips > 0)
        fprintf(md,
                "- auto at %d thread%s trains %sx the images/s of the fastest single backend, "
                "%s (%s vs %s), in separate runs (no scale file to compare them in one).\n",
                a->threads, s, fmt3(x, sizeof x, a->ips / single->ips), single->name,
                fmt3(y, sizeof y, a->ips), fmt3(z, sizeof z, single->ips));
}

/* Loss and test accuracy per epoch, one series per train file. */
static void train_plot(out_ctx *o, const flist *train)
{
    int maxep = 0;
    for (int i = 0; i < train->n; i++) {
        const cJSON *r;
        int ne = 0;
        cJSON_ArrayForEach(r, runs_of(train->f[i])) ne += is_type(r, "train");
        if (ne > maxep) maxep = ne;
    }
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
            cJSON_ArrayForEach(r, runs_of(train->f[i])) if (is_type(r, "train") &&
                                                            results_num(r, "epoch") == e) hit = r;
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

void section_train(out_ctx *o, const report_machine *m)
{
    const flist *train = &m->train, *peer = &m->peer;
    if (!train->n && !peer->n) return;
    FILE *md = o->md;
    int cap = 4 * (train->n + peer->n) + 4, n = 0;
    trow *rows = calloc((size_t)cap, sizeof *rows);
    if (!rows) return;
    for (int i = 0; i < train->n && n < cap; i++) {
        trow *t = &rows[n];
        if (train_row(runs_of(train->f[i]), -1, t)) continue;
        const cJSON *r;
        cJSON_ArrayForEach(r, runs_of(train->f[i])) if (is_type(r, "train"))
        {
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
        cJSON_ArrayForEach(r, runs_of(peer->f[i]))
        {
            int th = (int)results_num(r, "threads");
            if (!is_type(r, "train") || th < 0 || th > 256 || seen[th]++) continue;
            if (n == cap) {
                trow *grown = realloc(rows, 2 * (size_t)cap * sizeof *rows);
                if (!grown) break;
                rows = grown, cap *= 2;
            }
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
    fprintf(md, "### Training\n\nThe seed network per backend and thread count on this machine: "
                "convbench's backends (`auto` picks one per layer and pass) and the PyTorch/Keras "
                "peers, each peer in its tuned and its as-installed configuration. Epoch s is the "
                "**mean over the epochs measured** (the epochs column); images/s = training "
                "images per epoch / that mean; test accuracy after the last epoch.\n\n"
                "| backend | threads | batch | epochs | final test accuracy | mean epoch s | "
                "images/s | file |\n|---|---:|---:|---:|---:|---:|---:|---|\n");
    char a[32], b[32], c[32];
    for (int i = 0; i < n; i++)
        fprintf(md, "| %s%s%s | %d | %g | %d | %.4f | %s | %s | `%s` |\n",
                rows[i].is_auto ? "**" : "", rows[i].name, rows[i].is_auto ? "**" : "",
                rows[i].threads, rows[i].batch, rows[i].epochs, rows[i].acc,
                fmt3(a, sizeof a, rows[i].secs), fmt3(b, sizeof b, rows[i].ips), rows[i].path);
    for (int i = 0; i < peer->n; i++)
        if (strcmp(peer_status(peer->f[i]), "measured") &&
            strcmp(peer_status(peer->f[i]), "partial")) {
            char k[256];
            peer_key(peer->f[i], k, sizeof k);
            fprintf(md, "| %s | – | – | – | %s: %s | – | – | `%s` |\n", k, peer_status(peer->f[i]),
                    str_or(results_str(jobj(jobj(peer->f[i]->doc, "context"), "peer"), "reason"),
                           "no reason given"),
                    peer->f[i]->path);
        }
    fprintf(md, "\n");
    /* per thread count: auto (else convbench's fastest) against every peer
       and, for auto, against the best single backend */
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
        if (lead != i) continue; /* one sentence set per thread count */
        const trow *l = &rows[lead];
        for (int j = 0; j < n; j++) {
            if (!rows[j].is_peer || rows[j].threads != l->threads || !(rows[j].ips > 0)) continue;
            fprintf(md,
                    "- %s at %d thread%s trains %sx the images/s of %s (%s vs %s); final "
                    "test accuracy %.4f vs %.4f after %d vs %d epoch%s.\n",
                    l->name, l->threads, l->threads > 1 ? "s" : "",
                    fmt3(a, sizeof a, l->ips / rows[j].ips), rows[j].name,
                    fmt3(b, sizeof b, l->ips), fmt3(c, sizeof c, rows[j].ips), l->acc, rows[j].acc,
                    l->epochs, rows[j].epochs, rows[j].epochs > 1 ? "s" : "");
        }
        if (l->is_auto) auto_vs_single(md, l, single >= 0 ? &rows[single] : NULL, &m->scale);
    }
    int best_acc = -1, best_ips = -1;
    double lo = INFINITY;
    for (int i = 0; i < n; i++) {
        if (best_acc < 0 || rows[i].acc > rows[best_acc].acc) best_acc = i;
        if (best_ips < 0 || rows[i].ips > rows[best_ips].ips) best_ips = i;
        if (rows[i].acc < lo) lo = rows[i].acc;
    }
    if (best_acc >= 0) {
        fprintf(md,
                "- highest final test accuracy: %s at %d thread%s, %.4f after %d epoch%s; the "
                "spread across rows is %.4f.\n",
                rows[best_acc].name, rows[best_acc].threads, rows[best_acc].threads > 1 ? "s" : "",
                rows[best_acc].acc, rows[best_acc].epochs, rows[best_acc].epochs > 1 ? "s" : "",
                rows[best_acc].acc - lo);
        fprintf(md, "- highest throughput: %s at %d thread%s, %s images/s.\n", rows[best_ips].name,
                rows[best_ips].threads, rows[best_ips].threads > 1 ? "s" : "",
                fmt3(a, sizeof a, rows[best_ips].ips));
    }
    fprintf(md, "\n");
    free(rows);
    auto_choice(md, train);
    if (peer->n) peers_how(md, peer);
    if (train->n) train_plot(o, train);
}

/* ---- peers' per-layer GFLOP/s -------------------------------------------- */

/* convbench's fastest run of a case (set/layer/batch/pass/threads) in f. */
static int fastest_case(const rfile *f, const crow *k, crow *best)
{
    const cJSON *r;
    int found = 0;
    if (!f) return 0;
    cJSON_ArrayForEach(r, runs_of(f))
    {
        crow c;
        if (crow_of(r, &c) || strcmp(c.set, k->set) || strcmp(c.layer, k->layer) || c.n != k->n ||
            strcmp(c.pass, k->pass) || c.threads != k->threads || !isfinite(c.gflops))
            continue;
        if (!found++ || c.gflops > best->gflops) *best = c;
    }
    return found;
}

static const cJSON *peer_case(const rfile *f, const crow *k)
{
    const cJSON *r;
    cJSON_ArrayForEach(r, runs_of(f))
    {
        crow c;
        if (!crow_of(r, &c) && !strcmp(c.set, k->set) && !strcmp(c.layer, k->layer) &&
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

/* The peers' conv runs beside convbench's fastest backend on the same case
   and thread count, from this machine's bench files, else its scale file. */
void section_peer_conv(out_ctx *o, const report_machine *m)
{
    const flist *peer = &m->peer;
    const rfile **pf = calloc((size_t)peer->n + 1, sizeof *pf);
    int np = 0;
    if (!pf) return;
    for (int i = 0; i < peer->n; i++) {
        const cJSON *r;
        int any = 0;
        cJSON_ArrayForEach(r, runs_of(peer->f[i])) any |= is_type(r, "conv");
        if (any) pf[np++] = peer->f[i];
    }
    crow keys[512];
    int nk = 0;
    for (int i = 0; i < np; i++) {
        const cJSON *r;
        cJSON_ArrayForEach(r, runs_of(pf[i]))
        {
            crow c;
            if (crow_of(r, &c)) continue;
            int k = 0;
            while (k < nk && !(!strcmp(keys[k].set, c.set) && !strcmp(keys[k].layer, c.layer) &&
                               keys[k].n == c.n && !strcmp(keys[k].pass, c.pass) &&
                               keys[k].threads == c.threads))
                k++;
            if (k == nk && nk < 512) keys[nk++] = c;
        }
    }
    if (!nk) {
        free(pf);
        return;
    }
    for (int i = 1; i < nk; i++) /* threads, layer, batch, pass */
        for (int j = i; j > 0 && case_order(&keys[j]) < case_order(&keys[j - 1]); j--) {
            crow t = keys[j];
            keys[j] = keys[j - 1];
            keys[j - 1] = t;
        }
    FILE *md = o->md;
    const rfile *sf = m->scale.n ? m->scale.f[0] : NULL;
    fprintf(md,
            "### Per-layer GFLOP/s against the peers\n\nThe peers' conv layers timed alone "
            "per pass on this machine (median of repetitions), beside convbench's fastest "
            "backend on the same case and thread count (from this machine's bench file at that "
            "thread count, else its scale file%s%s%s). GFLOP/s = direct-convolution FLOPs / "
            "median time.\n\n| case | threads | convbench fastest |",
            sf ? ", `" : "", sf ? sf->path : "", sf ? "`" : "");
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
        int have = 0;
        for (int i = 0; i < m->bench.n && !have; i++)
            have = fastest_case(m->bench.f[i], &keys[k], &best);
        if (!have) have = fastest_case(sf, &keys[k], &best);
        fprintf(md, "| %s/%s/b%d %s | %d |", keys[k].set, keys[k].layer, keys[k].n, keys[k].pass,
                keys[k].threads);
        if (have)
            fprintf(md, " %s (%s) |", fmt3(a, sizeof a, best.gflops), best.backend);
        else
            fprintf(md, " – |");
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
            fprintf(md,
                    "- at %d thread%s: convbench's fastest backend is ahead of every peer in %d "
                    "of %d cases; geometric mean %sx the best peer's GFLOP/s.\n",
                    t, t > 1 ? "s" : "", ahead[t], cases[t],
                    fmt3(a, sizeof a, exp(logsum[t] / cases[t])));
    fprintf(md, "\n");
    free(pf);
}

/* ---- scaling ------------------------------------------------------------- */

void section_scale(out_ctx *o, const report_machine *m, const rfile *f)
{
    (void)m;
    FILE *md = o->md;
    const cJSON *runs = runs_of(f), *r;
    int maxt = 0;
    cJSON_ArrayForEach(r, runs)
    {
        int t = (int)results_num(r, "threads");
        if (t > maxt && t <= 256) maxt = t;
    }
    if (!maxt) return;
    fprintf(md,
            "### Scaling across cores\n\nFrom `%s` (%s): thread i bound to core i; speedup = "
            "median time at 1 thread / median time at t; efficiency = speedup / t.\n\n",
            f->path, f->time);
    const char *be[64];
    int nb = 0;
    cJSON_ArrayForEach(r, runs)
    {
        const char *b = results_str(r, "backend");
        if (!b || !(is_type(r, "train") || is_type(r, "conv"))) continue;
        int k = 0;
        while (k < nb && strcmp(be[k], b)) k++;
        if (k == nb && nb < 64) be[nb++] = b;
    }
    FILE *dt = data_file(o, "speedup-train.dat"), *dc = data_file(o, "speedup-conv.dat");
    int have_train = 0;
    double best_s = -1, worst_s = 1e30;
    const char *best_b = NULL, *worst_b = NULL;
    char a[32], b2[32];
    cJSON_ArrayForEach(r, runs) if (is_type(r, "train"))
    {
        have_train = 1;
        break;
    }
    if (have_train) {
        fprintf(md, "#### Training throughput (images/s)\n\n| backend |");
        for (int t = 1; t <= maxt; t++) fprintf(md, " %d thr |", t);
        fprintf(md, " speedup @%d | efficiency @%d |\n|---|", maxt, maxt);
        for (int t = 0; t <= maxt + 1; t++) fprintf(md, "---:|");
        fprintf(md, "\n");
        for (int b = 0; b < nb; b++) {
            const cJSON *at[257] = { 0 };
            int any = 0;
            cJSON_ArrayForEach(r, runs) if (is_type(r, "train") &&
                                            !strcmp(str_or(results_str(r, "backend"), ""), be[b]))
            {
                int t = (int)results_num(r, "threads");
                if (t >= 1 && t <= maxt) at[t] = r, any = 1;
            }
            if (!any) continue;
            fprintf(md, "| %s |", be[b]);
            for (int t = 1; t <= maxt; t++)
                fprintf(md, " %s |",
                        at[t] ? fmt3(a, sizeof a, results_num(at[t], "images_per_s")) : "–");
            double s = at[maxt] ? results_num(at[maxt], "speedup") : NAN;
            fprintf(md, " %s | %s |\n", fmt3(a, sizeof a, s),
                    fmt3(b2, sizeof b2, at[maxt] ? results_num(at[maxt], "efficiency") : NAN));
            if (isfinite(s) && s > best_s) best_s = s, best_b = be[b];
            if (isfinite(s) && s < worst_s) worst_s = s, worst_b = be[b];
        }
        fprintf(md, "\n");
        if (best_b)
            fprintf(md,
                    "- training speedup at %d threads: best %s %sx, lowest %s %sx (ideal %d).\n\n",
                    maxt, best_b, fmt3(a, sizeof a, best_s), worst_b, fmt3(b2, sizeof b2, worst_s),
                    maxt);
    }
    fprintf(md, "#### Convolution GFLOP/s by thread count\n\n| case |");
    for (int t = 1; t <= maxt; t++) fprintf(md, " %d thr |", t);
    fprintf(md, " speedup @%d |\n|---|", maxt);
    for (int t = 0; t <= maxt; t++) fprintf(md, "---:|");
    fprintf(md, "\n");
    static double logsum[64][257];
    static int count[64][257];
    memset(logsum, 0, sizeof logsum);
    memset(count, 0, sizeof count);
    int ncase = 0;
    double cbest = -1, cworst = 1e30;
    const char *cbest_n = NULL, *cworst_n = NULL;
    cJSON_ArrayForEach(r, runs)
    {
        if (!is_type(r, "conv") || results_num(r, "threads") != 1 || !results_str(r, "name"))
            continue;
        const char *name = results_str(r, "name");
        int b = 0;
        while (b < nb && strcmp(be[b], str_or(results_str(r, "backend"), ""))) b++;
        fprintf(md, "| %s |", name);
        const cJSON *x, *last = NULL;
        for (int t = 1; t <= maxt; t++) {
            const cJSON *hit = NULL;
            cJSON_ArrayForEach(x, runs) if (is_type(x, "conv") && results_num(x, "threads") == t &&
                                            results_str(x, "name") &&
                                            !strcmp(results_str(x, "name"), name)) hit = x;
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
                maxt, ncase, cbest_n, fmt3(a, sizeof a, cbest), cworst_n,
                fmt3(b2, sizeof b2, cworst));
    for (int b = 0; b < nb; b++)
        if (count[b][maxt])
            fprintf(md, "- %s: geometric-mean conv speedup at %d threads %sx over %d cases.\n",
                    be[b], maxt, fmt3(a, sizeof a, exp(logsum[b][maxt] / count[b][maxt])),
                    count[b][maxt]);
    fprintf(md, "\n");
    int tcols = 0, ccols = 0;
    if (dt && dc) {
        fprintf(dt, "threads");
        fprintf(dc, "threads");
        for (int b = 0; b < nb; b++) {
            int any = 0;
            cJSON_ArrayForEach(r, runs) any |=
                is_type(r, "train") && !strcmp(str_or(results_str(r, "backend"), ""), be[b]);
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
                cJSON_ArrayForEach(r,
                                   runs) if (is_type(r, "train") &&
                                             !strcmp(str_or(results_str(r, "backend"), ""), be[b]))
                {
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
             "data='speedup-train.dat'; ncols=%d; maxt=%d; what='training throughput'", tcols + 1,
             maxt);
    if (ccols)
        draw(o, "speedup", "speedup-conv.png", "conv speedup vs cores",
             "data='speedup-conv.dat'; ncols=%d; maxt=%d; what='conv GFLOP/s, geometric mean over "
             "layers and passes'",
             ccols + 1, maxt);
}
