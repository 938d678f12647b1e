/* convbench bench: runs build/bench_conv — the one measurement
   implementation, Google Benchmark — on the chosen sets, backends and
   thread count, keeps every repetition's time from its JSON, and writes one
   results file (kind "bench"): a "conv" run per case (see results.c) plus
   "skipped" [{name, set, layer, backend, pass, reason}] for the cases a
   backend refused, and "suite" {sets, backends, repetitions, min_time_s,
   bind, interleave, peak_gflops, wall_s}. */
#include <limits.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "bench.h"
#include "cli.h"
#include "commands.h"
#include "results.h"
#include "shape_sets.h"

#define CMD "bench"

static void usage(void)
{
    printf("usage: convbench bench [--quick] [--set LIST] [--backends LIST] [--threads N]\n"
           "                       [--repetitions N] [--min-time S] [--filter REGEX] [--bind]\n"
           "                       [--interleave] [--out FILE] [--force] [--quiet]\n"
           "Runs bench_conv (every backend x pass x layer of the sets) and writes one\n"
           "results file (default results/bench-<UTC time>.json) with every repetition.\n"
           "  --quick          the seed set, 3 repetitions of >= 0.05 s (CI)\n"
           "  --set LIST       seed,resnet,vgg or all (default all; --quick: seed)\n"
           "  --repetitions N  default 5 (--quick: 3); compare wants >= 9\n"
           "  --min-time S     seconds per repetition (default 0.1)\n"
           "  --threads N      OpenMP threads, at most CONVBENCH_MAX_THREADS (default 4 per CPU)\n"
           "  --bind           bind thread i to core i with hwloc\n"
           "  --interleave     Google Benchmark's random interleaving of repetitions\n"
           "  --force          replace an existing file under results/baseline/\n"
           "  --machine NAME   this machine's label in results files (default\n"
           "                   $CONVBENCH_MACHINE, else derived from the CPU)\n");
}

int cmd_bench(int argc, char **argv)
{
    static const struct option opts[] = {
        { "quick", no_argument, 0, 'q' },
        { "set", required_argument, 0, 's' },
        { "backends", required_argument, 0, 'b' },
        { "threads", required_argument, 0, 't' },
        { "repetitions", required_argument, 0, 'r' },
        { "min-time", required_argument, 0, 'm' },
        { "filter", required_argument, 0, 'f' },
        { "bind", no_argument, 0, 'B' },
        { "interleave", no_argument, 0, 'I' },
        { "out", required_argument, 0, 'o' },
        { "force", no_argument, 0, 'F' },
        { "quiet", no_argument, 0, 'Q' },
        { "help", no_argument, 0, 'h' },
        { 0, 0, 0, 0 },
    };
    bench_opts bo = { NULL, NULL, NULL, 0, 0, 0, 0, 0, 0, CMD };
    int quick = 0, force = 0;
    const char *out = NULL;
    int o;
    optind = 1;
    while ((o = cli_getopt(CMD, argc, argv, "", opts)) != -1) {
        switch (o) {
        case 'q': quick = 1; break;
        case 's': bo.sets = optarg; break;
        case 'b': bo.backends = optarg; break;
        case 't':
            if (cli_threads(CMD, "--threads", optarg, &bo.threads)) return 2;
            break;
        case 'r':
            if (cli_positive(CMD, "--repetitions", optarg, &bo.repetitions)) return 2;
            break;
        case 'm':
            if (cli_number(CMD, "--min-time", optarg, 0, INFINITY, CLI_OPEN_LO, &bo.min_time))
                return 2;
            break;
        case 'f': bo.filter = optarg; break;
        case 'B': bo.bind = 1; break;
        case 'I': bo.interleave = 1; break;
        case 'o': out = optarg; break;
        case 'F': force = 1; break;
        case 'Q': bo.quiet = 1; break;
        case 'h': usage(); return 0;
        default: return 2;
        }
    }
    if (cli_no_arguments(CMD, argc, argv)) return 2;
    char err[256];
    if (!bo.sets) bo.sets = quick ? "seed" : "all";
    if (shapes_parse_sets(bo.sets, err, sizeof err) < 0) {
        cli_error(CMD, "--set: %s", err);
        return 2;
    }
    if (!bo.repetitions) bo.repetitions = quick ? 3 : 5;
    if (!bo.min_time) bo.min_time = quick ? 0.05 : 0.1;
    char bad[64];
    if (cli_unknown_backend(bo.backends, NULL, bad, sizeof bad)) {
        cli_error(CMD, "--backends: unknown backend '%s' (see convbench backends)", bad);
        return 2;
    }
    if (bo.threads) omp_set_num_threads(bo.threads); /* so the context says so */

    char path[PATH_MAX];
    cli_out_path(out, "bench", path, sizeof path);

    cJSON *runs;
    cJSON *doc = results_new("bench", argc, argv, &runs);
    cJSON *skipped = cJSON_AddArrayToObject(doc, "skipped");
    double t0 = omp_get_wtime();
    int rc = bench_run(&bo, runs, skipped);
    if (rc == 0) {
        cJSON *suite = cJSON_AddObjectToObject(doc, "suite");
        cJSON_AddStringToObject(suite, "sets", bo.sets);
        cJSON_AddStringToObject(suite, "backends", bo.backends ? bo.backends : "all");
        cJSON_AddNumberToObject(suite, "repetitions", bo.repetitions);
        cJSON_AddNumberToObject(suite, "min_time_s", bo.min_time);
        cJSON_AddBoolToObject(suite, "bind", bo.bind);
        cJSON_AddBoolToObject(suite, "interleave", bo.interleave);
        const cJSON *r0 = cJSON_GetArrayItem(runs, 0);
        const cJSON *pk = r0 ? cJSON_GetObjectItemCaseSensitive(r0, "peak_gflops") : NULL;
        if (cJSON_IsNumber(pk))
            cJSON_AddNumberToObject(suite, "peak_gflops", pk->valuedouble);
        else
            cJSON_AddNullToObject(suite, "peak_gflops");
        cJSON_AddNumberToObject(suite, "wall_s", omp_get_wtime() - t0);
        bench_print_table(runs);
        int ns = cJSON_GetArraySize(skipped);
        if (ns) printf("%d case(s) skipped (reasons in the file's \"skipped\")\n", ns);
        rc = results_write(path, doc, force);
        if (rc == 0)
            printf("%d runs written to %s (%.0f s)\n", cJSON_GetArraySize(runs), path,
                   omp_get_wtime() - t0);
    }
    cJSON_Delete(doc);
    return rc ? 1 : 0;
}
