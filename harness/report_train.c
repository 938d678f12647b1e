/* convbench report: one machine's training and peers sections. Training:
   convbench's backends and auto (training runs, with the auto choice and
   its gain over the best single backend) beside the peers measured on the
   same machine, and how each peer was run; then the peers' per-layer
   GFLOP/s beside convbench's fastest backend. Every figure comes from the
   files of the machine passed in. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "report.h"

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
    if (n) qsort(rows, (size_t)n, sizeof *rows, cmp_trow);
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
