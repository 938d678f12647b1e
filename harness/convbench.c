/* convbench: the command line. Each subcommand lives in its own file and
   is listed here. */
#include <stdio.h>
#include <string.h>
#include "commands.h"

static const struct { const char *name; int (*run)(int, char **); const char *what; } cmds[] = {
    { "train", cmd_train, "train a network (default: the seed CNN on Fashion-MNIST)" },
    { "eval", cmd_eval, "test accuracy of saved weights" },
    { "predict", cmd_predict, "predict test images with saved weights (--png draws them)" },
    { "backends", cmd_backends, "list the convolution backends and what they support" },
    { "bench", cmd_bench, "run the conv benchmark suite and write a results file" },
    { "scale", cmd_scale, "speedup over 1..cores threads bound one per core (training and conv layers)" },
    { "info", cmd_info, "the machine, build, library versions and measured peak (stored in results/)" },
    { "compare", cmd_compare, "regression verdict between two results files (exit 1 if slower)" },
    { "report", cmd_report, "regenerate REPORT.md and its plots from results files" },
    { "summary", cmd_summary, "one table per backend from train, bench and scale results" },
};

static void usage(FILE *f)
{
    fprintf(f, "usage: convbench COMMAND [OPTIONS]   (convbench COMMAND --help)\n\ncommands:\n");
    for (size_t i = 0; i < sizeof cmds / sizeof *cmds; i++)
        fprintf(f, "  %-10s %s\n", cmds[i].name, cmds[i].what);
}

int main(int argc, char **argv)
{
    if (argc < 2) { usage(stderr); return 2; }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return 0;
    }
    for (size_t i = 0; i < sizeof cmds / sizeof *cmds; i++)
        if (!strcmp(argv[1], cmds[i].name)) return cmds[i].run(argc - 1, argv + 1);
    fprintf(stderr, "convbench: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
