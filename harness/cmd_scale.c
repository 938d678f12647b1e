/* convbench scale: for 1..cores threads, thread i bound to core i with
   hwloc, training throughput of the seed network and per-layer conv
   GFLOP/s (bench_conv --bind) per backend, with speedup and parallel
   efficiency against one thread. Results file kind "scale": "conv" runs
   (results.c) and "train" runs {backend, model, data, threads, batch,
   steps, repetitions, times_s[] (seconds per block of `steps` steps),
   median_s, min_s, max_s, images_per_s}; both gain speedup (median at 1
   thread / median at t) and efficiency (speedup / t). Training blocks are
   timed in rounds (every backend at every thread count once per round), so
   a slow spell of a shared machine falls on all of them, not on one thread
   count's series, which would skew the speedups. "binding" lists, per
   thread count, the core each team thread was seen on; "skipped" the
   backends and cases that could not run. */
#include <limits.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "autotune.h"
#include "bench.h"
#include "cli.h"
#include "commands.h"
#include "data.h"
#include "net.h"
#include "progress.h"
#include "results.h"
#include "scale.h"
#include "timed_run.h"
#include "train.h"

/* One training configuration (a backend, or auto, at one thread count),
   planned and warmed up at that thread count and kept, so that the timed
   blocks of all configurations can be interleaved. */
typedef struct {
    net nt;
    trainer tr;
    int ready;
    char err[512];
} train_cfg;

/* Plans cfg at the current (bound) thread count and runs `warmup` untimed
   steps. 0, or -1 with cfg->err. */
static int train_prepare(train_cfg *cfg, const char *model, const char *backend, const dataset *d,
                         int batch, int warmup)
{
    char *err = cfg->err;
    const size_t len = sizeof cfg->err;
    const int is_auto = !strcmp(backend, "auto");
    autotune_layer tuned[NET_MAX_LAYERS];
    int ntuned;
    double none;
    cfg->ready = 0;
    if (net_parse(&cfg->nt, model, err, len)) return -1;
    if (net_set_backends(&cfg->nt, is_auto ? NULL : backend, is_auto ? "naive" : backend, err,
                         len) ||
        (is_auto && autotune_net(&cfg->nt, batch, 9, tuned, &ntuned, NULL, NULL, err, len)) ||
        net_init(&cfg->nt, batch, 1, err, len)) {
        net_free(&cfg->nt);
        return -1;
    }
    if (trainer_init(&cfg->tr, &cfg->nt, batch, 1e-3f, 1, err, len) ||
        trainer_time_blocks(&cfg->tr, d, warmup, 0, 0, INFINITY, &none, err, len)) {
        trainer_free(&cfg->tr);
        net_free(&cfg->nt);
        return -1;
    }
    cfg->ready = 1;
    return 0;
}

static void train_release(train_cfg *cfg)
{
    if (!cfg->ready) return;
    trainer_free(&cfg->tr);
    net_free(&cfg->nt);
    cfg->ready = 0;
}

static const cJSON *find_run(const cJSON *runs, const char *type, const char *name,
                             const char *backend, int threads)
{
    const cJSON *r;
    cJSON_ArrayForEach(r, runs)
    {
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(r, "type");
        const cJSON *n = cJSON_GetObjectItemCaseSensitive(r, "name");
        const cJSON *b = cJSON_GetObjectItemCaseSensitive(r, "backend");
        const cJSON *th = cJSON_GetObjectItemCaseSensitive(r, "threads");
        if (cJSON_IsString(t) && !strcmp(t->valuestring, type) && cJSON_IsNumber(th) &&
            th->valueint == threads &&
            (!name || (cJSON_IsString(n) && !strcmp(n->valuestring, name))) &&
            (!backend || (cJSON_IsString(b) && !strcmp(b->valuestring, backend))))
            return r;
    }
    return NULL;
}

/* speedup = median time at 1 thread / median time at t; efficiency = speedup / t. */
static void add_speedups(cJSON *runs)
{
    cJSON *r;
    cJSON_ArrayForEach(r, runs)
    {
        const cJSON *type = cJSON_GetObjectItemCaseSensitive(r, "type");
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(r, "name");
        const char *t = type->valuestring;
        const cJSON *one = find_run(runs, t, cJSON_IsString(name) ? name->valuestring : NULL,
                                    cJSON_GetObjectItemCaseSensitive(r, "backend")->valuestring, 1);
        double m1 = one ? cJSON_GetObjectItemCaseSensitive(one, "median_s")->valuedouble : 0;
        double mt = cJSON_GetObjectItemCaseSensitive(r, "median_s")->valuedouble;
        int th = cJSON_GetObjectItemCaseSensitive(r, "threads")->valueint;
        if (m1 > 0 && mt > 0) {
            cJSON_AddNumberToObject(r, "speedup", m1 / mt);
            cJSON_AddNumberToObject(r, "efficiency", m1 / mt / th);
        } else {
            cJSON_AddNullToObject(r, "speedup");
            cJSON_AddNullToObject(r, "efficiency");
        }
    }
}

static void print_tables(const cJSON *runs, int maxt, int batch, int steps, int reps)
{
    const cJSON *r;
    printf("\ntraining throughput (images/s, seed network, batch %d, %d steps, median of %d)\n",
           batch, steps, reps);
    printf("%-18s", "backend");
    for (int t = 1; t <= maxt; t++) printf("  %5d thr", t);
    printf("  speedup@%d  efficiency\n", maxt);
    cJSON_ArrayForEach(r, runs)
    {
        const cJSON *type = cJSON_GetObjectItemCaseSensitive(r, "type");
        if (strcmp(type->valuestring, "train") || results_num(r, "threads") != 1) continue;
        const char *b = cJSON_GetObjectItemCaseSensitive(r, "backend")->valuestring;
        printf("%-18s", b);
        const cJSON *last = NULL;
        for (int t = 1; t <= maxt; t++) {
            const cJSON *x = find_run(runs, "train", NULL, b, t);
            if (x)
                printf("  %9.0f", results_num(x, "images_per_s"));
            else
                printf("  %9s", "-");
            if (x) last = x;
        }
        printf("  %9.2f  %10.2f\n", results_num(last, "speedup"), results_num(last, "efficiency"));
    }
    printf("\nconv GFLOP/s by thread count (median of %d)\n", reps);
    printf("%-44s", "case");
    for (int t = 1; t <= maxt; t++) printf("  %5d thr", t);
    printf("  speedup@%d\n", maxt);
    cJSON_ArrayForEach(r, runs)
    {
        const cJSON *type = cJSON_GetObjectItemCaseSensitive(r, "type");
        if (strcmp(type->valuestring, "conv") || results_num(r, "threads") != 1) continue;
        const char *name = cJSON_GetObjectItemCaseSensitive(r, "name")->valuestring;
        printf("%-44s", name);
        const cJSON *last = NULL;
        for (int t = 1; t <= maxt; t++) {
            const cJSON *x = find_run(runs, "conv", name, NULL, t);
            if (x)
                printf("  %9.1f", results_num(x, "gflops"));
            else
                printf("  %9s", "-");
            if (x) last = x;
        }
        printf("  %9.2f\n", results_num(last, "speedup"));
    }
}

#define CMD "scale"

static void usage(void)
{
    printf("usage: convbench scale [--backends LIST] [--max-threads N] [--repetitions N]\n"
           "                       [--steps N] [--filter REGEX] [--model FILE] [--data DIR]\n"
           "                       [--no-train] [--no-conv] [--out FILE] [--force]\n"
           "For 1..N threads (default: the cores hwloc reports), thread i bound to core i:\n"
           "training throughput of the network (--steps steps of batch 32, default 30,\n"
           "after 3 warm-up steps) and per-layer conv GFLOP/s of bench_conv (--filter,\n"
           "default the seed layers at batch 32), per backend, with speedup and parallel\n"
           "efficiency against 1 thread. Training blocks are timed in rounds (every\n"
           "backend at every thread count once per round, the first core moving each\n"
           "round). Writes results/scale-<UTC time>.json.\n"
           "`auto` in --backends (included by default) trains with the per-layer x pass\n"
           "choice of `convbench train --backend auto`, searched at each thread count.\n"
           "--machine NAME labels this machine in results files (default $CONVBENCH_MACHINE,\n"
           "else derived from the CPU).\n");
}

int cmd_scale(int argc, char **argv)
{
    static const struct option opts[] = {
        { "backends", required_argument, 0, 'b' },
        { "max-threads", required_argument, 0, 't' },
        { "repetitions", required_argument, 0, 'r' },
        { "steps", required_argument, 0, 's' },
        { "filter", required_argument, 0, 'f' },
        { "model", required_argument, 0, 'm' },
        { "data", required_argument, 0, 'd' },
        { "no-train", no_argument, 0, 'T' },
        { "no-conv", no_argument, 0, 'C' },
        { "out", required_argument, 0, 'o' },
        { "force", no_argument, 0, 'F' },
        { "help", no_argument, 0, 'h' },
        { 0, 0, 0, 0 },
    };
    const char *backends = NULL, *filter = "^seed/[^/]*/b32/", *model = "models/seed_cnn.net",
               *data = DATA_DEFAULT_DIR, *out = NULL;
    int cores = scale_cores(), maxt = cores, reps = 3, steps = 30, train = 1, conv = 1, force = 0;
    const int batch = 32, warmup = 3;
    int o;
    optind = 1;
    while ((o = cli_getopt(CMD, argc, argv, "", opts)) != -1) {
        switch (o) {
        case 'b': backends = optarg; break;
        case 't':
            if (cli_positive(CMD, "--max-threads", optarg, &maxt)) return 2;
            break;
        case 'r':
            if (cli_positive(CMD, "--repetitions", optarg, &reps)) return 2;
            break;
        case 's':
            if (cli_positive(CMD, "--steps", optarg, &steps)) return 2;
            break;
        case 'f': filter = optarg; break;
        case 'm': model = optarg; break;
        case 'd': data = optarg; break;
        case 'T': train = 0; break;
        case 'C': conv = 0; break;
        case 'o': out = optarg; break;
        case 'F': force = 1; break;
        case 'h': usage(); return 0;
        default: return 2;
        }
    }
    if (cli_no_arguments(CMD, argc, argv)) return 2;
    if (maxt > cores) {
        cli_error(CMD, "--max-threads %d but hwloc reports %d cores", maxt, cores);
        return 2;
    }
    char bad[64];
    if (cli_unknown_backend(backends, "auto", bad, sizeof bad)) {
        cli_error(CMD, "--backends: unknown backend '%s' (see convbench backends)", bad);
        return 2;
    }
    /* the backends, as a list to loop over, in registry order */
    const conv_backend *list[64];
    int nb = 0;
    char conv_list[1024] = "";
    for (const conv_backend *const *b = conv_backends(); *b && nb < 64; b++) {
        if (backends && !cli_list_has(backends, (*b)->name)) continue;
        list[nb++] = *b;
        size_t used = strlen(conv_list);
        snprintf(conv_list + used, sizeof conv_list - used, "%s%s", used ? "," : "", (*b)->name);
    }
    /* "auto" (the per-layer x pass choice, made at each thread count) is a
       training configuration, not a registered backend: trained, not benched */
    const int with_auto = !backends || cli_list_has(backends, "auto");
    if (backends) backends = conv_list;
    const int ntrain = nb + with_auto;
    if (!nb) conv = 0;

    char path[PATH_MAX], err[1024];
    cli_out_path(out, "scale", path, sizeof path);
    if (results_check_path(path, force, err, sizeof err)) {
        cli_error(CMD, "--out: %s", err);
        return 2;
    }

    dataset d = { 0 };
    const char *data_used = data;
    if (train) {
        if (data_load(&d, data, "train", 10, batch * steps, err, sizeof err)) {
            printf("scale: %s; timing on random images instead\n", err);
            data_free(&d);
            memset(&d, 0, sizeof d);
            if (data_random(&d, batch * steps, 28, 28, 10, 7)) {
                cli_error(CMD, "out of memory");
                return 1;
            }
            data_used = "random";
        }
    }

    cJSON *runs;
    cJSON *doc = results_new("scale", argc, argv, &runs);
    cJSON *skipped = cJSON_AddArrayToObject(doc, "skipped");
    cJSON *binding = cJSON_AddArrayToObject(doc, "binding");
    const size_t ncfg = (size_t)maxt * ntrain;
    double *times = malloc(sizeof(double) * (ncfg ? ncfg : 1) * (size_t)reps);
    train_cfg *cfg = calloc(ncfg ? ncfg : 1, sizeof *cfg);
    int rc = times && cfg ? 0 : 1;
    double t_start = omp_get_wtime();
    /* Plan every configuration, at its thread count, and record the binding */
    for (int t = 1; !rc && t <= maxt; t++) {
        if (scale_bind_compact(t, err, sizeof err)) {
            cli_error(CMD, "%s", err);
            rc = 1;
            break;
        }
        int where[1024];
        cJSON *bd = cJSON_CreateObject();
        cJSON_AddNumberToObject(bd, "threads", t);
        cJSON_AddBoolToObject(bd, "training_rounds_rotate_cores", train);
        cJSON *cs = cJSON_AddArrayToObject(bd, "cores");
        printf("scale: %d thread%s bound to core%s", t, t > 1 ? "s" : "", t > 1 ? "s" : "");
        if (t <= 1024 && scale_team_cores(t, where) == 0)
            for (int i = 0; i < t; i++) {
                cJSON_AddItemToArray(cs, cJSON_CreateNumber(where[i]));
                printf(" %d", where[i]);
            }
        printf(" (hwloc logical index, seen by sched_getcpu)\n");
        fflush(stdout);
        cJSON_AddItemToArray(binding, bd);
        for (int i = 0; train && i < ntrain; i++) {
            train_cfg *c = &cfg[(size_t)(t - 1) * ntrain + i];
            const char *bname = i < nb ? list[i]->name : "auto";
            if (train_prepare(c, model, bname, &d, batch, warmup)) {
                printf("scale: %d thr  train %-16s skipped: %s\n", t, bname, c->err);
                if (t == 1) {
                    cJSON *sk = cJSON_CreateObject();
                    cJSON_AddStringToObject(sk, "type", "train");
                    cJSON_AddStringToObject(sk, "backend", bname);
                    cJSON_AddStringToObject(sk, "reason", c->err);
                    cJSON_AddItemToArray(skipped, sk);
                }
            }
        }
    }
    /* Timed blocks in rounds: every configuration once per round, thread
       counts alternating, so a slow spell of a shared machine hits all of
       them alike instead of one thread count's whole series; and the first
       core moves each round, so a core slower than the others (a busy
       neighbour on a shared host) does not weigh on the small teams alone */
    progress bar;
    progress_start(&bar, stderr, CMD, "training blocks", train ? reps * maxt * ntrain : 0);
    int blocks = 0;
    for (int k = 0; !rc && train && k < reps; k++)
        for (int t = 1; !rc && t <= maxt; t++) {
            if (scale_bind_from(t, k % cores, err, sizeof err)) {
                cli_error(CMD, "%s", err);
                rc = 1;
                break;
            }
            for (int i = 0; i < ntrain; i++) {
                const size_t at = (size_t)(t - 1) * ntrain + i;
                train_cfg *c = &cfg[at];
                char what[96];
                snprintf(what, sizeof what, "round %d of %d, %s at %d thread%s", k + 1, reps,
                         i < nb ? list[i]->name : "auto", t, t > 1 ? "s" : "");
                progress_update(&bar, blocks++, what);
                if (!c->ready) continue;
                if (trainer_time_blocks(&c->tr, &d, 0, steps, 1, INFINITY, &times[at * reps + k],
                                        c->err, sizeof c->err)) {
                    printf("scale: %d thr  train %-16s failed: %s\n", t,
                           i < nb ? list[i]->name : "auto", c->err);
                    train_release(c);
                }
            }
        }
    if (train && !rc) progress_end(&bar);
    for (int t = 1; !rc && train && t <= maxt; t++)
        for (int i = 0; i < ntrain; i++) {
            const size_t at = (size_t)(t - 1) * ntrain + i;
            if (!cfg[at].ready) continue;
            const char *bname = i < nb ? list[i]->name : "auto";
            const double *tk = &times[at * reps];
            cJSON *r = cJSON_CreateObject();
            cJSON_AddStringToObject(r, "type", "train");
            cJSON_AddStringToObject(r, "backend", bname);
            cJSON_AddStringToObject(r, "model", model);
            cJSON_AddStringToObject(r, "data", data_used);
            cJSON_AddNumberToObject(r, "threads", t);
            cJSON_AddNumberToObject(r, "batch", batch);
            cJSON_AddNumberToObject(r, "steps", steps);
            const double med = timed_run_add(r, tk, reps, NULL);
            cJSON_AddNumberToObject(r, "images_per_s", (double)batch * steps / med);
            cJSON_AddItemToArray(runs, r);
            printf("scale: %d thr  train %-16s %8.0f images/s\n", t, bname,
                   (double)batch * steps / med);
        }
    for (size_t i = 0; cfg && i < ncfg; i++) train_release(&cfg[i]);
    free(cfg);
    for (int t = 1; !rc && conv && t <= maxt; t++) {
        /* bench_conv binds its own threads (--bind); it must not inherit
           this thread's binding to one core, which its threads would share */
        if (scale_unbind()) {
            cli_error(CMD, "could not unbind before bench_conv");
            rc = 1;
            break;
        }
        printf("scale: %d thr  conv layers (bench_conv --bind, filter %s)\n", t, filter);
        fflush(stdout);
        bench_opts bo = { .shapes = { .sets = "all" },
                          .backends = backends,
                          .filter = filter,
                          .threads = t,
                          .repetitions = reps,
                          .min_time = 0.05,
                          .bind = 1,
                          .cmd = CMD,
                          .progress = 1 };
        if (bench_run(&bo, runs, t == 1 ? skipped : NULL)) rc = 1;
    }
    free(times);
    data_free(&d);
    if (!rc) {
        add_speedups(runs);
        print_tables(runs, maxt, batch, steps, reps);
        rc = results_write(path, doc, force) ? 1 : 0;
        if (!rc)
            printf("%d runs written to %s (%.0f s)\n", cJSON_GetArraySize(runs), path,
                   omp_get_wtime() - t_start);
    }
    cJSON_Delete(doc);
    return rc;
}
