/* convbench summary: the end of `make run` — one table per backend from
   the run's train, bench and scale results files. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "cli.h"
#include "commands.h"
#include "results.h"

#define MAX_ROWS 32
#define CMD      "summary"

typedef struct {
    char backend[64];
    double accuracy, epoch_s, train_ips; /* the trained backend's last epoch */
    double best_gflops, best_pct;        /* its fastest seed-layer pass (bench) */
    char best_case[96];
    double ips_1, ips_all, speedup; /* training throughput (scale) */
    int threads_all;
} row;

static row *row_for(row *rows, int *n, const char *backend)
{
    for (int i = 0; i < *n; i++)
        if (!strcmp(rows[i].backend, backend)) return &rows[i];
    if (*n == MAX_ROWS) return NULL;
    row *r = &rows[(*n)++];
    memset(r, 0, sizeof *r);
    snprintf(r->backend, sizeof r->backend, "%s", backend);
    r->accuracy = r->epoch_s = r->train_ips = r->best_gflops = r->best_pct = NAN;
    r->ips_1 = r->ips_all = r->speedup = NAN;
    return r;
}

static void take(const cJSON *doc, row *rows, int *n)
{
    const char *kind = results_str(doc, "kind");
    const cJSON *r;
    cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(doc, "runs"))
    {
        const char *type = results_str(r, "type"), *backend = results_str(r, "backend");
        if (!type || !backend || (strcmp(type, "train") && strcmp(type, "conv"))) continue;
        row *w = row_for(rows, n, backend);
        if (!w) continue;
        if (!strcmp(type, "train") && kind && !strcmp(kind, "train")) {
            w->accuracy = results_num(r, "test_accuracy"); /* the last epoch wins */
            w->epoch_s = results_num(r, "seconds");
            w->train_ips = results_num(r, "images_per_s");
        } else if (!strcmp(type, "train")) { /* scale */
            int t = (int)results_num(r, "threads");
            if (t == 1) w->ips_1 = results_num(r, "images_per_s");
            if (t >= w->threads_all) {
                w->threads_all = t;
                w->ips_all = results_num(r, "images_per_s");
                w->speedup = results_num(r, "speedup");
            }
        } else if (!strcmp(type, "conv") && kind && !strcmp(kind, "bench")) {
            double g = results_num(r, "gflops");
            if (!(g <= w->best_gflops)) {
                w->best_gflops = g;
                w->best_pct = results_num(r, "pct_peak");
                snprintf(w->best_case, sizeof w->best_case, "%s/%s",
                         results_str(r, "layer") ? results_str(r, "layer") : "?",
                         results_str(r, "pass") ? results_str(r, "pass") : "?");
            }
        }
    }
}

static void cell(double v, const char *fmt)
{
    if (isnan(v))
        printf(" %10s", "-");
    else
        printf(fmt, v);
}

int cmd_summary(int argc, char **argv)
{
    static const struct option opts[] = { { "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 } };
    int o;
    optind = 1;
    while ((o = cli_getopt(CMD, argc, argv, "", opts)) != -1) {
        if (o != 'h') return 2;
        printf("usage: convbench summary FILE...\n"
               "One row per backend from results files of kind train, bench and scale:\n"
               "test accuracy, epoch seconds and images/s of training runs, the fastest\n"
               "seed-layer pass in GFLOP/s (bench), and training images/s at 1 thread and\n"
               "at all cores with the speedup (scale).\n");
        return 0;
    }
    if (optind >= argc) {
        cli_usage_error(CMD, "no results file given");
        return 2;
    }
    row rows[MAX_ROWS];
    int n = 0;
    for (int i = optind; i < argc; i++) {
        char err[512];
        cJSON *doc = results_read(argv[i], err, sizeof err);
        if (!doc) {
            cli_error(CMD, "%s", err);
            return 2;
        }
        take(doc, rows, &n);
        cJSON_Delete(doc);
    }
    int all = 0;
    for (int i = 0; i < n; i++) all = rows[i].threads_all > all ? rows[i].threads_all : all;
    printf("\n%-16s %10s %10s %10s %10s %7s  %-24s %10s %10s %10s\n", "backend", "test acc",
           "epoch s", "train im/s", "best GF/s", "% peak", "(seed layer/pass)", "im/s 1thr",
           "im/s all", "speedup");
    for (int i = 0; i < n; i++) {
        const row *r = &rows[i];
        printf("%-16s", r->backend);
        cell(r->accuracy, " %10.4f");
        cell(r->epoch_s, " %10.1f");
        cell(r->train_ips, " %10.0f");
        cell(r->best_gflops, " %10.1f");
        if (isnan(r->best_pct))
            printf(" %7s", "-");
        else
            printf(" %6.1f%%", r->best_pct);
        printf("  %-24s", r->best_case[0] ? r->best_case : "-");
        cell(r->ips_1, " %10.0f");
        cell(r->ips_all, " %10.0f");
        cell(r->speedup, " %9.2fx");
        printf("\n");
    }
    printf("(training: seed network, batch 32; all = %d threads, one per core; GFLOP/s count\n"
           " direct-convolution FLOPs, so Winograd's are effective GFLOP/s)\n",
           all);
    return 0;
}
