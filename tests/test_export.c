/* convbench export: Google Benchmark JSON (read back by Google Benchmark's
   own compare.py when Debian's libbenchmark-tools is installed), CSV and
   github-action-benchmark JSON, from results files written here. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "../harness/results.h"
#include "check.h"
#include "suites.h"

/* A bench results file: two cases of reps repetitions, times scaled by k. */
static void write_bench(const char *path, double k, int reps)
{
    cJSON *runs, *doc = results_new("bench", 0, NULL, &runs);
    conv_shape s = { 4, 20, 20, 16, 24, 3, 3, 1, 1 };
    double t[16];
    for (int i = 0; i < reps; i++) t[i] = k * (1e-3 + 1e-5 * i);
    cJSON_AddItemToArray(runs, results_conv_run("user/l1/b4/simd/forward", "user", "l1", "simd",
                                                CONV_FORWARD, &s, 1, t, reps, 10, 0,
                                                "avx2, \"6x16\" direct"));
    cJSON_AddItemToArray(runs, results_conv_run("user/l1/b4/naive/forward", "user", "l1", "naive",
                                                CONV_FORWARD, &s, 1, t, reps, 10, 0, NULL));
    results_write(path, doc, 0);
    cJSON_Delete(doc);
}

static int run(const char *args, char *out, size_t len)
{
    char cmd[3000];
    snprintf(cmd, sizeof cmd, "convbench export %s", args);
    return check_run(cmd, out, len);
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *buf = calloc(1, 1 << 20);
    if (buf) fread(buf, 1, (1 << 20) - 1, f);
    fclose(f);
    return buf;
}

void test_export(void)
{
    if (!check_selected("export")) return;
    const char *tmp = check_tmpdir();
    char a[600], b[600], ga[700], gb[700], args[2000];
    static char out[65536];
    snprintf(a, sizeof a, "%s/exp-a.json", tmp);
    snprintf(b, sizeof b, "%s/exp-b.json", tmp);
    snprintf(ga, sizeof ga, "%s/exp-a.gbench.json", tmp);
    snprintf(gb, sizeof gb, "%s/exp-b.gbench.json", tmp);
    write_bench(a, 1.0, 9);
    write_bench(b, 1.3, 9);

    snprintf(args, sizeof args, "--format gbench --out '%s' '%s'", ga, a);
    int rc = run(args, out, sizeof out);
    snprintf(args, sizeof args, "--format gbench --out '%s' '%s'", gb, b);
    rc |= run(args, out, sizeof out);
    char *text = slurp(ga);
    cJSON *doc = text ? cJSON_Parse(text) : NULL;
    free(text);
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(doc, "benchmarks"), *e;
    int iters = 0, aggs = 0, named = 0;
    cJSON_ArrayForEach(e, list)
    {
        const char *type = results_str(e, "run_type"), *name = results_str(e, "name");
        iters += type && !strcmp(type, "iteration");
        aggs += type && !strcmp(type, "aggregate");
        named += name && !strncmp(name, "user/l1/b4/simd/forward/threads:1", 33);
    }
    const cJSON *first = cJSON_GetArrayItem(list, 0);
    check("export/gbench",
          rc == 0 && iters == 18 && aggs == 6 && named == 12 &&
              results_num(first, "real_time") == 1000.0 && results_str(first, "time_unit") &&
              !strcmp(results_str(first, "time_unit"), "us"),
          "exit %d, %d iterations, %d aggregates, %d named: %.300s", rc, iters, aggs, named, out);
    cJSON_Delete(doc);

    /* Google Benchmark's own compare.py reads it (Debian: libbenchmark-tools,
       python3-scipy; make deps installs both) */
    const char *cmp = "/usr/share/benchmark/compare.py";
    if (access(cmp, R_OK)) {
        check_skip("export/gbench-compare.py", "no /usr/share/benchmark/compare.py");
    } else {
        const char *py = access("/usr/bin/python3", X_OK) ? "python3" : "/usr/bin/python3";
        snprintf(args, sizeof args, "%s %s benchmarks '%s' '%s'", py, cmp, ga, gb);
        rc = check_run(args, out, sizeof out);
        check("export/gbench-compare.py",
              rc == 0 && strstr(out, "user/l1/b4/simd/forward/threads:1_pvalue") &&
                  strstr(out, "+0.3000") && strstr(out, "OVERALL_GEOMEAN"),
              "exit %d: %.600s", rc, out);
    }

    snprintf(args, sizeof args, "--format csv '%s' '%s'", a, b);
    rc = run(args, out, sizeof out);
    int lines = 0;
    for (const char *p = out; *p; p++) lines += *p == '\n';
    check("export/csv",
          rc == 0 && !strncmp(out, "file,machine,git_commit,time_utc,type,name,", 43) &&
              lines == 5 && strstr(out, ",\"avx2, \"\"6x16\"\" direct\",") &&
              strstr(out,
                     ",user/l1/b4/naive/forward,user,l1,naive,forward,,4,20,20,16,24,3,3,1,1,1,"),
          "exit %d, %d lines: %.600s", rc, lines, out);

    snprintf(args, sizeof args, "--format gab '%s'", a);
    rc = run(args, out, sizeof out);
    doc = cJSON_Parse(out);
    e = cJSON_GetArrayItem(doc, 0);
    check("export/gab",
          rc == 0 && cJSON_GetArraySize(doc) == 2 &&
              !strcmp(results_str(e, "name"), "user/l1/b4/simd/forward/threads:1") &&
              !strcmp(results_str(e, "unit"), "ms") && results_num(e, "value") > 1.039 &&
              results_num(e, "value") < 1.041 && results_str(e, "range"),
          "exit %d: %.400s", rc, out);
    cJSON_Delete(doc);
    snprintf(args, sizeof args, "--format gab-rate '%s'", a);
    rc = run(args, out, sizeof out);
    check("export/gab-rate", rc == 0 && strstr(out, "\"GFLOP/s\""), "exit %d: %.300s", rc, out);

    snprintf(args, sizeof args, "--format nope '%s'", a);
    rc = run(args, out, sizeof out);
    check("export/bad-format", rc == 2 && strstr(out, "convbench export: --format wants"), "%d %s",
          rc, out);
    snprintf(args, sizeof args, "'%s'", a);
    rc = run(args, out, sizeof out);
    check("export/no-format", rc == 2 && strstr(out, "convbench export: --format is required"),
          "%d %s", rc, out);
    rc = run("--format csv /nonexistent.json", out, sizeof out);
    check("export/missing",
          rc == 2 && strstr(out, "convbench export: ") && strstr(out, "/nonexistent.json"), "%d %s",
          rc, out);
    snprintf(args, sizeof args, "--format csv --out '%s' '%s'", tmp, a);
    rc = run(args, out, sizeof out);
    check("export/out-dir", rc == 2 && strstr(out, "convbench export: --out: "), "%d %s", rc, out);
}
