/* convbench export: results files in the formats other tools read
   (export.h): Google Benchmark JSON for its compare.py, CSV for
   spreadsheets and pandas, github-action-benchmark JSON for CI history. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "commands.h"
#include "export.h"
#include "results.h"

#define CMD "export"

static void usage(void)
{
    printf("usage: convbench export --format gbench|csv|gab|gab-rate [--out FILE] FILE...\n"
           "Writes results files in another tool's format (stdout unless --out):\n"
           "  gbench    Google Benchmark JSON: one entry per repetition, then mean,\n"
           "            median and stddev; `compare.py benchmarks A.json B.json` reads it\n"
           "  csv       one row per run, with a header (spreadsheets, pandas)\n"
           "  gab       github-action-benchmark's customSmallerIsBetter: median ms\n"
           "  gab-rate  its customBiggerIsBetter: GFLOP/s and images/s\n"
           "Timed runs are named <case>/threads:N; one name's repetitions in several\n"
           "files are pooled (gbench and gab take files of one machine).\n");
}

int cmd_export(int argc, char **argv)
{
    static const struct option opts[] = {
        { "format", required_argument, 0, 'f' },
        { "out", required_argument, 0, 'o' },
        { "help", no_argument, 0, 'h' },
        { 0, 0, 0, 0 },
    };
    const char *out = NULL;
    int format = -1, o;
    optind = 1;
    while ((o = cli_getopt(CMD, argc, argv, "f:o:", opts)) != -1) {
        switch (o) {
        case 'f':
            if ((format = export_format_parse(optarg)) < 0) {
                cli_error(CMD, "--format wants gbench, csv, gab or gab-rate, got '%s'", optarg);
                return 2;
            }
            break;
        case 'o': out = optarg; break;
        case 'h': usage(); return 0;
        default: return 2;
        }
    }
    if (format < 0) {
        cli_usage_error(CMD, "--format is required (gbench, csv, gab or gab-rate)");
        return 2;
    }
    const int n = argc - optind;
    if (n <= 0) {
        cli_usage_error(CMD, "no results file given");
        return 2;
    }
    char err[1024];
    if (out && results_check_path(out, 0, err, sizeof err)) {
        cli_error(CMD, "--out: %s", err);
        return 2;
    }
    cJSON **docs = calloc((size_t)n, sizeof *docs);
    if (!docs) return 1;
    int rc = 0;
    for (int i = 0; i < n && !rc; i++)
        if (!(docs[i] = results_read(argv[optind + i], err, sizeof err))) {
            cli_error(CMD, "%s", err);
            rc = 2;
        }
    char *text = NULL;
    if (!rc && !(text = export_text((export_format)format, (const cJSON *const *)docs,
                                    (const char *const *)argv + optind, n, err, sizeof err))) {
        cli_error(CMD, "%s", err);
        rc = 2;
    }
    if (text && out) {
        rc = results_write_text(out, text, 0) ? 1 : 0;
    } else if (text) {
        fputs(text, stdout);
        if (text[0] && text[strlen(text) - 1] != '\n') fputc('\n', stdout);
        if (fflush(stdout)) rc = 1;
    }
    free(text);
    for (int i = 0; i < n; i++) cJSON_Delete(docs[i]);
    free(docs);
    return rc;
}
