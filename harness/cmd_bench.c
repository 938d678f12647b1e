/* convbench bench: runs build/bench_conv — the one measurement
   implementation, Google Benchmark — on the chosen sets, backends and
   thread count, keeps every repetition's time from its JSON, and writes one
   results file (kind "bench"): a "conv" run per case (see results.c) plus
   "skipped" [{name, set, layer, backend, pass, reason}] for the cases a
   backend refused, and "suite" {sets, backends, repetitions, min_time_s,
   bind, interleave, paired (when given), peak_gflops, wall_s}. */
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
    printf("usage: convbench bench [--quick] [--set LIST] [--shape SHAPE]... [--shapes FILE]...\n"
           "                       [--model SPEC [--batch N]] [--backends LIST] [--threads N]\n"
           "                       [--repetitions N] [--min-time S] [--filter REGEX] [--bind]\n"
           "                       [--interleave] [--paired REF] [--out FILE]\n"
           "                       [--keep-gbench FILE] [--force] [--quiet]\n"
           "Runs bench_conv (every backend x pass x layer) and writes one results file\n"
           "(default results/bench-<UTC time>.json) with every repetition.\n"
           "  --quick          the seed set, 3 repetitions of >= 0.05 s (CI)\n"
           "  --set LIST       built-in sets (shapes/*.shapes): seed, resnet, vgg,\n"
           "                   mobilenet_v2, dilated, or all (default all, or none\n"
           "                   when a shape of yours is given)\n"
           "  --shape SHAPE    N,H,W,C,K,R,S,STRIDE,PAD[:NAME], or a benchdnn descriptor\n"
           "                   such as mb32ic32ih13oc64kh3ph0 (repeatable; set 'user')\n"
           "  --shapes FILE    one shape a line, '#' comments (repeatable; set = file name)\n"
           "  --model SPEC     every conv layer of a network spec, at --batch N (default 32)\n"
           "  --repetitions N  default 5 (--quick: 3); compare wants >= 9\n"
           "  --min-time S     seconds per repetition (default 0.1)\n"
           "  --threads N      OpenMP threads, at most CONVBENCH_MAX_THREADS (default 4 per CPU)\n"
           "  --bind           bind thread i to core i with hwloc\n"
           "  --interleave     Google Benchmark's random interleaving of repetitions\n"
           "  --paired REF     time backend REF beside each case, call by call in turns,\n"
           "                   and keep each repetition's speedup over it (REF is not a\n"
           "                   case of its own)\n"
           "  --keep-gbench F  keep Google Benchmark's own JSON in F\n"
           "  --force          replace an existing file under results/baseline/\n"
           "  --quiet          no per-case lines, no progress line\n"
           "  --machine NAME   this machine's label in results files (default\n"
           "                   $CONVBENCH_MACHINE, else derived from the CPU)\n");
}

#define MAX_SHAPES 256

int cmd_bench(int argc, char **argv)
{
    static const struct option opts[] = {
        { "quick", no_argument, 0, 'q' },
        { "set", required_argument, 0, 's' },
        { "shape", required_argument, 0, 'S' },
        { "shapes", required_argument, 0, 'L' },
        { "model", required_argument, 0, 'M' },
        { "batch", required_argument, 0, 'n' },
        { "backends", required_argument, 0, 'b' },
        { "threads", required_argument, 0, 't' },
        { "repetitions", required_argument, 0, 'r' },
        { "min-time", required_argument, 0, 'm' },
        { "filter", required_argument, 0, 'f' },
        { "bind", no_argument, 0, 'B' },
        { "interleave", no_argument, 0, 'I' },
        { "paired", required_argument, 0, 'P' },
        { "out", required_argument, 0, 'o' },
        { "keep-gbench", required_argument, 0, 'K' },
        { "force", no_argument, 0, 'F' },
        { "quiet", no_argument, 0, 'Q' },
        { "help", no_argument, 0, 'h' },
        { 0, 0, 0, 0 },
    };
    bench_opts bo = { .cmd = CMD };
    const char *shape[MAX_SHAPES], *file[MAX_SHAPES];
    bo.shapes.shape = shape;
    bo.shapes.file = file;
    int quick = 0, force = 0, batch_given = 0;
    const char *out = NULL;
    int o;
    optind = 1;
    while ((o = cli_getopt(CMD, argc, argv, "", opts)) != -1) {
        switch (o) {
        case 'q': quick = 1; break;
        case 's': bo.shapes.sets = optarg; break;
        case 'S':
        case 'L':
            if ((o == 'S' ? bo.shapes.nshape : bo.shapes.nfile) == MAX_SHAPES) {
                cli_error(CMD, "%s given more than %d times", o == 'S' ? "--shape" : "--shapes",
                          MAX_SHAPES);
                return 2;
            }
            if (o == 'S')
                shape[bo.shapes.nshape++] = optarg;
            else
                file[bo.shapes.nfile++] = optarg;
            break;
        case 'M': bo.shapes.model = optarg; break;
        case 'n':
            if (cli_positive(CMD, "--batch", optarg, &bo.shapes.batch)) return 2;
            batch_given = 1;
            break;
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
        case 'P': bo.paired = optarg; break;
        case 'o': out = optarg; break;
        case 'K': bo.keep_gbench = optarg; break;
        case 'F': force = 1; break;
        case 'Q': bo.quiet = 1; break;
        case 'h': usage(); return 0;
        default: return 2;
        }
    }
    if (cli_no_arguments(CMD, argc, argv)) return 2;
    if (batch_given && !bo.shapes.model) {
        cli_usage_error(CMD, "--batch applies to --model only");
        return 2;
    }
    char err[1024];
    const int user = shapes_request_has_user(&bo.shapes);
    if (!bo.shapes.sets && !user) bo.shapes.sets = quick ? "seed" : "all";
    /* every shape read and checked now, not after minutes of measuring */
    shape_list check = { NULL, 0, 0 };
    const int bad_shapes = shapes_collect(&bo.shapes, &check, err, sizeof err);
    shape_list_free(&check);
    if (bad_shapes) {
        cli_error(CMD, "%s", err);
        return 2;
    }
    if (!bo.repetitions) bo.repetitions = quick ? 3 : 5;
    if (!bo.min_time) bo.min_time = quick ? 0.05 : 0.1;
    char bad[64];
    if (cli_unknown_backend(bo.backends, NULL, bad, sizeof bad)) {
        cli_error(CMD, "--backends: unknown backend '%s' (see convbench backends)", bad);
        return 2;
    }
    if (bo.paired && !conv_backend_find(bo.paired)) {
        cli_error(CMD, "--paired: unknown backend '%s' (see convbench backends)", bo.paired);
        return 2;
    }
    if (bo.paired && bo.backends && cli_list_has(bo.backends, bo.paired)) {
        const char *cur = bo.backends;
        char item[64];
        int others = 0;
        while (cli_list_next(&cur, item, sizeof item)) others += strcmp(item, bo.paired) != 0;
        if (!others) {
            cli_usage_error(CMD, "--paired %s: no other backend in --backends", bo.paired);
            return 2;
        }
    }
    char path[PATH_MAX];
    cli_out_path(out, "bench", path, sizeof path);
    if (results_check_path(path, force, err, sizeof err)) {
        cli_error(CMD, "--out: %s", err);
        return 2;
    }
    if (bo.keep_gbench && results_check_path(bo.keep_gbench, 0, err, sizeof err)) {
        cli_error(CMD, "--keep-gbench: %s", err);
        return 2;
    }
    bo.progress = !bo.quiet;
    if (bo.threads) omp_set_num_threads(bo.threads); /* so the context says so */

    cJSON *runs;
    cJSON *doc = results_new("bench", argc, argv, &runs);
    cJSON *skipped = cJSON_AddArrayToObject(doc, "skipped");
    double t0 = omp_get_wtime();
    int rc = bench_run(&bo, runs, skipped);
    if (rc == 0) {
        cJSON *suite = cJSON_AddObjectToObject(doc, "suite");
        cJSON_AddStringToObject(suite, "sets", bo.shapes.sets ? bo.shapes.sets : "");
        /* the user's shapes as given; each run carries its own shape too */
        if (bo.shapes.nshape)
            cJSON_AddItemToObject(suite, "shapes",
                                  cJSON_CreateStringArray(shape, bo.shapes.nshape));
        if (bo.shapes.nfile)
            cJSON_AddItemToObject(suite, "shape_files",
                                  cJSON_CreateStringArray(file, bo.shapes.nfile));
        if (bo.shapes.model) {
            cJSON_AddStringToObject(suite, "model", bo.shapes.model);
            cJSON_AddNumberToObject(suite, "batch", bo.shapes.batch ? bo.shapes.batch : 32);
        }
        cJSON_AddStringToObject(suite, "backends", bo.backends ? bo.backends : "all");
        cJSON_AddNumberToObject(suite, "repetitions", bo.repetitions);
        cJSON_AddNumberToObject(suite, "min_time_s", bo.min_time);
        cJSON_AddBoolToObject(suite, "bind", bo.bind);
        cJSON_AddBoolToObject(suite, "interleave", bo.interleave);
        if (bo.paired) cJSON_AddStringToObject(suite, "paired", bo.paired);
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
    return rc == -2 ? 2 : rc ? 1 : 0;
}
