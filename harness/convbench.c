/* convbench: the command line. Each subcommand lives in its own file and
   is listed here. `--machine NAME` (the machine's label in results files)
   is taken here for every command, so no command parses it twice. */
#include <stdio.h>
#include <string.h>
#include "cli.h"
#include "commands.h"
#include "results.h"
#include "version.h"

/* measures: the command writes results of this machine, so takes --machine */
static const struct {
    const char *name;
    int (*run)(int, char **);
    int measures;
    const char *what;
} cmds[] = {
    { "train", cmd_train, 1, "train a network (default: the seed CNN on Fashion-MNIST)" },
    { "eval", cmd_eval, 1, "test accuracy of saved weights" },
    { "predict", cmd_predict, 0, "predict test images with saved weights (--png draws them)" },
    { "backends", cmd_backends, 0, "list the convolution backends and what they support" },
    { "bench", cmd_bench, 1, "run the conv benchmark suite and write a results file" },
    { "scale", cmd_scale, 1,
      "speedup over 1..cores threads bound one per core (training and conv layers)" },
    { "info", cmd_info, 1,
      "the machine, build, library versions, measured peak and bandwidth (stored in results/)" },
    { "compare", cmd_compare, 0,
      "regression verdict between two results files (exit 1 if slower)" },
    { "report", cmd_report, 0, "regenerate REPORT.md and its plots from results files" },
    { "summary", cmd_summary, 0, "one table per backend from train, bench and scale results" },
    { "export", cmd_export, 0,
      "results files as Google Benchmark JSON, CSV or github-action-benchmark JSON" },
};

static void usage(FILE *f)
{
    fprintf(f, "usage: convbench COMMAND [OPTIONS]   (convbench COMMAND --help)\n"
               "       convbench --version   the commit and flags this binary was built "
               "with\n\ncommands:\n");
    for (size_t i = 0; i < sizeof cmds / sizeof *cmds; i++)
        fprintf(f, "  %-10s %s\n", cmds[i].name, cmds[i].what);
    fprintf(f,
            "\ntrain, eval, bench, scale, info: --machine NAME  this machine's label in results\n"
            "  files (letters, digits, '-', '_', '.'; default $CONVBENCH_MACHINE, else from the "
            "CPU)\n");
}

/* Takes --machine NAME / --machine=NAME (before any "--") out of argv and
   sets the label; checks CONVBENCH_MACHINE. -1 after the message: exit 2. */
static int take_machine(int *argc, char **argv)
{
    char err[512];
    int n = 2;
    for (int i = 2; i < *argc; i++) {
        const char *label = NULL;
        if (!strcmp(argv[i], "--")) {
            while (i < *argc) argv[n++] = argv[i++];
            break;
        }
        if (!strcmp(argv[i], "--machine")) {
            if (i + 1 >= *argc) {
                cli_usage_error(argv[1], "--machine wants a NAME");
                return -1;
            }
            label = argv[++i];
        } else if (!strncmp(argv[i], "--machine=", 10)) {
            label = argv[i] + 10;
        } else {
            argv[n++] = argv[i];
            continue;
        }
        if (results_set_machine_label(label, err, sizeof err)) {
            cli_error(argv[1], "--machine: %s", err);
            return -1;
        }
    }
    argv[n] = NULL;
    *argc = n;
    if (results_set_machine_label(NULL, err, sizeof err)) {
        cli_error(argv[1], "%s", err);
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "--version")) {
        version_print(stdout);
        return 0;
    }
    for (size_t c = 0; c < sizeof cmds / sizeof *cmds; c++) {
        if (strcmp(argv[1], cmds[c].name)) continue;
        cli_set_command(cmds[c].name);
        if (cmds[c].measures && take_machine(&argc, argv)) return 2;
        return cmds[c].run(argc - 1, argv + 1);
    }
    cli_error(NULL, "unknown command '%s'", argv[1]);
    usage(stderr);
    return 2;
}
