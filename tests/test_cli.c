/* The command line conventions every convbench command shares
   (harness/cli.c): comma lists, -h/--help, errors prefixed "convbench
   COMMAND:" that name the offending option. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "../harness/cli.h"
#include "../harness/progress.h"
#include "check.h"
#include "noshell.h"
#include "results.h"
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
    /* numbers neither wrap nor oversubscribe the machine silently */
    cli_expect("cli/bad/threads-wrap", "bench --threads 4294967297", 2,
               "--threads wants a positive integer, got '4294967297'");
    cli_expect("cli/bad/threads-limit", "bench --threads 100000", 2, "above the limit of");
    cli_expect("cli/bad/scale-threads-wrap", "scale --max-threads 4294967297", 2,
               "--max-threads wants a positive integer");
    cli_expect("cli/bad/shape-wrap", "backends --shape 4294967297,8,8,3,4,3,3,1,1", 2,
               "N is out of range");
    cli_expect("cli/bad/shape-memory", "backends --shape 1,46340,46340,1,1,3,3,1,1", 2,
               "the shape (its tensors) needs 32.00 GiB, more than the memory limit");
    /* a results file has a size limit: an endless input is refused */
    cli_expect("cli/bad/endless-results", "compare /dev/zero /dev/zero", 2,
               "/dev/zero: larger than 256 MiB");
    setenv("CONVBENCH_MAX_FILE_SIZE", "1M", 1); /* the programs run inherit it */
    cli_expect("cli/bad/results-limit", "compare /dev/zero /dev/zero", 2,
               "/dev/zero: larger than 1 MiB");
    unsetenv("CONVBENCH_MAX_FILE_SIZE");
    /* report keeps every file: 80 train files, the newest is the one cited
       (it kept 64 and cited train-078) */
    char rdir[700], err[512];
    snprintf(rdir, sizeof rdir, "%s/many", check_tmpdir());
    cJSON *train =
        make_dirs(rdir, 0) ? NULL : results_read("fuzz/corpus/results/train.json", err, sizeof err);
    for (int i = 0; train && i < 80; i++) {
        char when[48], path[800];
        snprintf(when, sizeof when, "2026-12-%02dT%02d:%02d:00Z", 1 + i / 60, i / 60, i % 60);
        cJSON_ReplaceItemInObject(cJSON_GetObjectItemCaseSensitive(train, "context"), "time_utc",
                                  cJSON_CreateString(when));
        snprintf(path, sizeof path, "%s/train-%03d.json", rdir, i);
        results_write(path, train, 0);
    }
    cJSON_Delete(train);
    char rargs[3000], rout[8192], md[64 * 1024] = "";
    snprintf(rargs, sizeof rargs, "convbench report --out '%s/R.md' --plots '%s/plots' '%s'", rdir,
             rdir, rdir);
    int rrc = check_run(rargs, rout, sizeof rout);
    snprintf(rargs, sizeof rargs, "%s/R.md", rdir);
    FILE *mf = fopen(rargs, "r");
    md[mf ? fread(md, 1, sizeof md - 1, mf) : 0] = 0;
    if (mf) fclose(mf);
    check("cli/report-80-files", strstr(md, "train-079") && !strstr(md, "train-078"),
          "exit %d, the report cites %s: %.200s", rrc,
          strstr(md, "train-078") ? "train-078" : "neither", rout);
    /* a quote in --plots reaches no shell */
    char cmd[1024], out[8192];
    const char *tmp = check_tmpdir();
    snprintf(cmd, sizeof cmd,
             "convbench report --out '%s/R.md' --plots \"%s/p'; touch %s/PWNED2; echo '\" "
             "fuzz/corpus/results",
             tmp, tmp, tmp);
    int rc = check_run(cmd, out, sizeof out);
    char pwned[700];
    snprintf(pwned, sizeof pwned, "%s/PWNED2", tmp);
    struct stat st; /* a directory of that name is the plot directory's */
    FILE *f = stat(pwned, &st) == 0 && S_ISREG(st.st_mode) ? fopen(pwned, "r") : NULL;
    check("cli/report-plots-quote", !f && rc != 127, "exit %d, %s: %.300s", rc,
          f ? "a shell ran the name" : "", out);
    if (f) fclose(f);
}
