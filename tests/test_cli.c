/* The command line conventions every convbench command shares
   (harness/cli.c): comma lists, -h/--help, errors prefixed "convbench
   COMMAND:" that name the offending option. */
#include <stdio.h>
#include <string.h>
#include "../harness/cli.h"
#include "../harness/progress.h"
#include "check.h"
#include "suites.h"

static void test_lists(void)
{
    char item[8], all[64] = "";
    int n = 0;
    for (const char *p = ",naive,,im2col-blas,"; cli_list_next(&p, item, sizeof item); n++) {
        strcat(all, item);
        strcat(all, "|");
    }
    check("cli/list/next", n == 2 && !strcmp(all, "naive|im2col-|"), "%d items: %s", n, all);
    const char *none = NULL;
    check("cli/list/null", !cli_list_next(&none, item, sizeof item), "an item from NULL");
    check("cli/list/has",
          cli_list_has("a,bb,c", "bb") && !cli_list_has("a,bbb,c", "bb") &&
              !cli_list_has("abb", "bb") && !cli_list_has(NULL, "a") &&
              cli_list_has("x,auto", "auto"),
          "membership is by whole items");
    char bad[64] = "";
    check("cli/list/backends",
          !cli_unknown_backend("naive,im2col", NULL, bad, sizeof bad) &&
              !cli_unknown_backend(NULL, NULL, bad, sizeof bad) &&
              !cli_unknown_backend("naive,auto", "auto", bad, sizeof bad) &&
              cli_unknown_backend("naive,nosuch,auto", NULL, bad, sizeof bad) &&
              !strcmp(bad, "nosuch"),
          "bad = '%s'", bad);
    long v = 0;
    int p = 0;
    double x = 0;
    check("cli/values/good",
          !cli_int("t", "--n", "-3", -5, 5, &v) && v == -3 && !cli_positive("t", "--n", "7", &p) &&
              p == 7 && !cli_number("t", "--x", "0.5", 0, 1, CLI_OPEN_LO, &x) && x == 0.5,
          "v %ld p %d x %g", v, p, x);
    char path[128], given[128];
    int y, mo, d, h, mi, sec, end = 0;
    cli_out_path(NULL, "bench", path, sizeof path);
    cli_out_path("mine.json", "bench", given, sizeof given);
    check("cli/out-path",
          sscanf(path, "results/bench-%4d%2d%2dT%2d%2d%2dZ.json%n", &y, &mo, &d, &h, &mi, &sec,
                 &end) == 6 &&
              end == (int)strlen(path) && !strcmp(given, "mine.json"),
          "default %s, given %s", path, given);
}

/* progress lines off a terminal: one per interval, then the closing line */
static void test_progress(void)
{
    char d1[16], d2[16], d3[16];
    progress_duration(42.4, d1, sizeof d1);
    progress_duration(90, d2, sizeof d2);
    progress_duration(7260, d3, sizeof d3);
    check("cli/progress/duration",
          !strcmp(d1, "42s") && !strcmp(d2, "1m30s") && !strcmp(d3, "2h01m"), "%s %s %s", d1, d2,
          d3);
    FILE *f = tmpfile();
    if (!f) return;
    progress p;
    progress_start(&p, f, "bench", "cases", 4);
    progress_update(&p, 1, "a"); /* within the interval: nothing */
    p.interval = 0;
    progress_update(&p, 2, "seed/conv1/b32/simd/forward");
    progress_end(&p);
    rewind(f);
    char text[512] = "";
    text[fread(text, 1, sizeof text - 1, f)] = 0;
    fclose(f);
    check("cli/progress/lines",
          !strncmp(text, "bench: 2/4 cases 0s, ETA 0s - seed/conv1/b32/simd/forward\n", 58) &&
              strstr(text, "\nbench: 4/4 cases 0s\n") && !strchr(text, '\r'),
          "%s", text);
}

static void cli_expect(const char *name, const char *args, int want_rc, const char *want)
{
    char cmd[512], out[8192];
    snprintf(cmd, sizeof cmd, "convbench %s", args);
    int rc = check_run(cmd, out, sizeof out);
    check(name, rc == want_rc && strstr(out, want),
          "convbench %s: exit %d (want %d), output lacks "
          "\"%s\": %.300s",
          args, rc, want_rc, want, out);
}

void test_command_line(void)
{
    if (!check_selected("cli")) return;
    test_lists();
    test_progress();
    /* -h and --help: the command's usage on stdout, exit 0, in every command */
    static const char *const cmds[] = { "train", "eval",    "predict", "backends", "bench", "scale",
                                        "info",  "summary", "report",  "compare",  "export" };
    char name[96], args[96], want[96];
    for (size_t i = 0; i < sizeof cmds / sizeof *cmds; i++)
        for (int longform = 0; longform < 2; longform++) {
            snprintf(name, sizeof name, "cli/help/%s%s", cmds[i], longform ? "" : "/-h");
            snprintf(args, sizeof args, "%s %s", cmds[i], longform ? "--help" : "-h");
            snprintf(want, sizeof want, "usage: convbench %s", cmds[i]);
            cli_expect(name, args, 0, want);
        }
    /* errors: one prefix, the option named */
    cli_expect("cli/error/int", "scale --max-threads abc", 2,
               "convbench scale: --max-threads wants a positive integer, got 'abc'");
    cli_expect("cli/error/number", "bench --min-time -1", 2,
               "convbench bench: --min-time wants a number > 0, got '-1'");
    cli_expect("cli/error/unknown-option", "info --frobnicate", 2,
               "convbench info: unknown option '--frobnicate'");
    cli_expect("cli/error/missing-value", "bench --out", 2, "convbench bench: --out wants a value");
    cli_expect("cli/error/argument", "bench stray", 2,
               "convbench bench: unexpected argument 'stray'");
    cli_expect("cli/error/backend", "scale --backends naive,nosuch", 2,
               "convbench scale: --backends: unknown backend 'nosuch'");
    cli_expect("cli/error/set", "bench --set seed,nope", 2,
               "convbench bench: --set: unknown set 'nope'");
    cli_expect("cli/error/no-files", "summary", 2, "convbench summary: no results file given");
    cli_expect("cli/version", "--version", 0, "\ncommit    ");
    cli_expect("cli/version/flags", "--version", 0, " -std=c11 -ffp-contract=fast");
    cli_expect("cli/error/hint", "report --frobnicate", 2, "Try 'convbench report --help'");
    /* --out is checked before any work: a directory, a place that cannot
       hold a file */
    cli_expect("cli/out/bench-dir", "bench --quick --out /", 2,
               "convbench bench: --out: / is a directory");
    cli_expect("cli/out/scale", "scale --out /dev/null/x.json", 2, "convbench scale: --out: ");
    cli_expect("cli/out/train", "train --out /dev/null/x.json", 2, "convbench train: --out: ");
    cli_expect("cli/out/train-json", "train --json /dev/null/x.json", 2,
               "convbench train: --out: ");
}
