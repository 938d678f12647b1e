/* convbench report: one machine's sections. The machine (from its own
   machine file: topology, ISA, libraries, measured peaks and bandwidths),
   GFLOP/s tables per bench file with % of this machine's own peak and the
   conclusions computed from them, and scaling across cores (training and
   the peers: report_train.c). Every figure comes from the files of the
   machine passed in. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "noshell.h"
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
            for (int b = 0; b < nb; b++) fprintf(dat, " %s %s_q1 %s_q3", be[b], be[b], be[b]);
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
                    double lo, hi;
                    run_rate_iqr(x, d.gflops, &lo, &hi);
                    if (dat) fprintf(dat, " %.4g %.4g %.4g", d.gflops, lo, hi);
                    if (!is_winograd(d.backend)) direct++, over += pct > 100;
                } else {
                    fprintf(md, " – |");
                    if (dat) fprintf(dat, " NaN NaN NaN");
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
            char qset[160]; /* a set name comes from a results file */
            if (gnuplot_string(sets[si], qset, sizeof qset)) snprintf(qset, sizeof qset, "'?'");
            draw(o, "gflops", png, cap, "data='%s'; nb=%d; nours=%d; set_name=%s; threads=%d",
                 dname, nb, nours, qset, threads);
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
    static double logsum[64][257], loglo[64][257], loghi[64][257];
    static int count[64][257];
    memset(logsum, 0, sizeof logsum);
    memset(loglo, 0, sizeof loglo);
    memset(loghi, 0, sizeof loghi);
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
                if (b < nb && isfinite(s) && s > 0) {
                    double lo, hi;
                    run_rate_iqr(hit, s, &lo, &hi);
                    logsum[b][t] += log(s), count[b][t]++;
                    loglo[b][t] += log(lo), loghi[b][t] += log(hi);
                }
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
            if (any) fprintf(dt, " %s %s_q1 %s_q3", be[b], be[b], be[b]), tcols++;
            if (count[b][1]) fprintf(dc, " %s %s_q1 %s_q3", be[b], be[b], be[b]), ccols++;
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
                if (any) {
                    double sp = hit ? results_num(hit, "speedup") : NAN, lo = NAN, hi = NAN;
                    if (hit) run_rate_iqr(hit, sp, &lo, &hi);
                    fprintf(dt, " %.5g %.5g %.5g", sp, lo, hi);
                }
                if (count[b][1]) {
                    const int k = count[b][t]; /* geometric means, of the IQR's ends too */
                    fprintf(dc, " %.5g %.5g %.5g", k ? exp(logsum[b][t] / k) : NAN,
                            k ? exp(loglo[b][t] / k) : NAN, k ? exp(loghi[b][t] / k) : NAN);
                }
            }
            fprintf(dt, "\n");
            fprintf(dc, "\n");
        }
    }
    if (dt) fclose(dt);
    if (dc) fclose(dc);
    if (tcols)
        draw(o, "speedup", "speedup-train.png", "training speedup vs cores",
             "data='speedup-train.dat'; nb=%d; maxt=%d; what='training throughput'", tcols, maxt);
    if (ccols)
        draw(o, "speedup", "speedup-conv.png", "conv speedup vs cores",
             "data='speedup-conv.dat'; nb=%d; maxt=%d; what='conv GFLOP/s, geometric mean over "
             "layers and passes'",
             ccols, maxt);
}
