/* convbench compare and the Mann-Whitney test behind it, on synthetic
   results files written with the project's own writer: exact p-values on
   small samples, a 20% slowdown flagged, a false-alarm rate under 5% over
   many pairs from one distribution, unmatched keys listed, bad files
   rejected with exit 2, and --normalize cancelling a uniformly slower
   machine. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "../harness/compare.h"
#include "../harness/results.h"
#include "../harness/stats.h"
#include "check.h"
#include "suites.h"

static const conv_shape shape = { 32, 13, 13, 32, 64, 3, 3, 1, 0 };

/* Standard normal deviate (Box-Muller on the test generator). */
static double gauss(check_rng *g)
{
    double u = 0.5 * (check_uniform(g) + 1.0), v = 0.5 * (check_uniform(g) + 1.0);
    if (u < 1e-12) u = 1e-12;
    return sqrt(-2 * log(u)) * cos(6.283185307179586 * v);
}

/* n repetition times around median m, as a shared machine produces them:
   3% log-normal jitter, and one repetition in ten hit by a neighbour
   (5-30% slower). */
static void draw(check_rng *g, double m, int n, double *t)
{
    for (int i = 0; i < n; i++) {
        t[i] = m * exp(0.03 * gauss(g));
        if (check_uniform(g) > 0.8) t[i] *= 1.05 + 0.125 * (check_uniform(g) + 1);
    }
}

/* A results file with one conv run per backend (times scaled by speed),
   10 repetitions each; returns 0 if written. */
static int write_file(const char *path, check_rng *g, const char *const *backends,
                      const double *median, double speed)
{
    char *argv[] = { "tests", "--synthetic" };
    cJSON *runs;
    cJSON *doc = results_new("bench", 2, argv, &runs);
    double t[10];
    for (int i = 0; backends[i]; i++)
        for (int p = 0; p < 2; p++) {
            char name[128];
            snprintf(name, sizeof name, "seed/conv2/b32/%s/%s", backends[i],
                     conv_pass_name((conv_pass)p));
            draw(g, median[i] * speed, 10, t);
            cJSON_AddItemToArray(runs,
                                 results_conv_run(name, "seed", "conv2", backends[i], (conv_pass)p,
                                                  &shape, 2, t, 10, 100, 0, NULL));
        }
    int rc = results_write(path, doc, 0);
    cJSON_Delete(doc);
    return rc;
}

static void test_mwu_values(void)
{
    const double a[] = { 1, 2, 3, 4, 5 }, b[] = { 6, 7, 8, 9, 10 };
    stats_mwu r;
    stats_mann_whitney(a, 3, b, 3, &r);
    check("compare: exact p, 3 vs 3 separated = 2/20",
          r.exact && fabs(r.p - 0.1) < 1e-12 && r.u == 0, "p %g u %g exact %d", r.p, r.u, r.exact);
    stats_mann_whitney(a, 5, b, 5, &r);
    check("compare: exact p, 5 vs 5 separated = 2/252", fabs(r.p - 2.0 / 252) < 1e-12, "p %g", r.p);
    check("compare: smallest p of 3 vs 3 is 0.1", fabs(stats_mwu_min_p(3, 3) - 0.1) < 1e-12, "%g",
          stats_mwu_min_p(3, 3));
    /* interleaved samples: U = na nb / 2 and p = 1 */
    const double c[] = { 1, 4, 5, 8 }, d[] = { 2, 3, 6, 7 };
    stats_mann_whitney(c, 4, d, 4, &r);
    check("compare: balanced samples give p = 1", r.u == 8 && r.p == 1, "u %g p %g", r.u, r.p);
    /* 1 vs 2: U counts pairs (x > y): a={3} b={1,2} -> U=2 */
    const double e[] = { 3 }, f[] = { 1, 2 };
    stats_mann_whitney(e, 1, f, 2, &r);
    check("compare: U counts pairs", r.u == 2 && fabs(r.p - 2.0 / 3) < 1e-12, "u %g p %g", r.u,
          r.p);
    /* ties: normal approximation with tie correction, symmetric in a, b.
       a = {1,1,2}, b = {2,3,3}: ranks 1.5 1.5 3.5 | 3.5 5.5 5.5, U = 0.5,
       sigma^2 = 9/12 (7 - 18/30) = 4.8, z = (4.5 - 0.5 - 0.5)/sqrt(4.8) */
    const double g[] = { 1, 1, 2 }, h[] = { 2, 3, 3 };
    stats_mwu r2;
    stats_mann_whitney(g, 3, h, 3, &r);
    stats_mann_whitney(h, 3, g, 3, &r2);
    double z = 3.5 / sqrt(4.8), pz = erfc(z / sqrt(2.0));
    check("compare: ties use the corrected normal approximation",
          !r.exact && r.u == 0.5 && fabs(r.p - pz) < 1e-12 && fabs(r2.p - r.p) < 1e-12,
          "u %g p %g (want %g), swapped p %g", r.u, r.p, pz, r2.p);
    /* large untied samples: the normal approximation */
    double big_a[30], big_b[30];
    for (int i = 0; i < 30; i++) big_a[i] = i, big_b[i] = 30 + i;
    stats_mann_whitney(big_a, 30, big_b, 30, &r);
    check("compare: 30 vs 30 separated is decisive", !r.exact && r.p < 1e-9, "p %g", r.p);
}

static void test_rates(void)
{
    check_rng g = { 12345 };
    double a[10], b[10];
    int alarms = 0, significant = 0, flagged = 0;
    const int pairs = 400;
    for (int i = 0; i < pairs; i++) {
        draw(&g, 1e-3, 10, a);
        draw(&g, 1e-3, 10, b);
        compare_result r;
        alarms += compare_verdict(a, 10, b, 10, 0.05, 5, &r) == COMPARE_SLOWER;
        significant += r.p < 0.05;
    }
    /* the test alone holds its size (exact test: a little under alpha) */
    check("compare: p < 0.05 in about 5% of same-distribution pairs",
          significant >= 2 && significant < pairs * 0.075, "%d of %d", significant, pairs);
    check("compare: false-alarm rate under 5% (400 same-distribution pairs)", alarms < pairs * 0.05,
          "%d of %d flagged slower", alarms, pairs);
    for (int i = 0; i < 100; i++) {
        draw(&g, 1e-3, 10, a);
        draw(&g, 1.2e-3, 10, b);
        flagged += compare_verdict(a, 10, b, 10, 0.05, 5, NULL) == COMPARE_SLOWER;
    }
    check("compare: a 20% slowdown with 10 repetitions is flagged (100 pairs)", flagged >= 95,
          "flagged %d of 100", flagged);
}

static void test_cli(void)
{
    const char *dir = check_tmpdir();
    static const char *const two[] = { "naive", "simd", NULL };
    static const char *const other[] = { "simd", "winograd", NULL };
    const double med[] = { 8e-3, 1e-3 }, med_other[] = { 1e-3, 9e-3 };
    char base[512], slow[512], same[512], moved[512], uniform[512], bad[512], cut[512];
    snprintf(base, sizeof base, "%s/cmp-base.json", dir);
    snprintf(slow, sizeof slow, "%s/cmp-slow.json", dir);
    snprintf(same, sizeof same, "%s/cmp-same.json", dir);
    snprintf(moved, sizeof moved, "%s/cmp-moved.json", dir);
    snprintf(uniform, sizeof uniform, "%s/cmp-uniform.json", dir);
    snprintf(bad, sizeof bad, "%s/cmp-bad.json", dir);
    snprintf(cut, sizeof cut, "%s/cmp-cut.json", dir);
    check_rng g = { 99 };
    const double slow_med[] = { 8e-3, 1.2e-3 }; /* simd 20% slower, naive unchanged */
    if (write_file(base, &g, two, med, 1) || write_file(slow, &g, two, slow_med, 1) ||
        write_file(same, &g, two, med, 1) || write_file(moved, &g, other, med_other, 1) ||
        write_file(uniform, &g, two, med, 1.3)) {
        check("compare: synthetic files written", 0, "results_write failed");
        return;
    }
    static char out[65536];
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "convbench compare '%s' '%s'", base, slow);
    int rc = check_run(cmd, out, sizeof out);
    check("compare: CLI flags a 20% slowdown (exit 1)",
          rc == 1 && strstr(out, "simd 2t") && strstr(out, "slower") &&
              strstr(out, "2 compared: 2 slower") == NULL && strstr(out, "4 compared: 2 slower"),
          "exit %d:\n%s", rc, out);

    snprintf(cmd, sizeof cmd, "convbench compare --format markdown '%s' '%s'", base, slow);
    rc = check_run(cmd, out, sizeof out);
    check("compare: markdown table", rc == 1 && strstr(out, "|---|") && strstr(out, "**slower**"),
          "exit %d:\n%s", rc, out);

    /* 10 repetitions of this noise bound a ratio to about +-5%: a 10%
       minimum effect can be ruled out, a 5% one not always */
    snprintf(cmd, sizeof cmd, "convbench compare --threshold 10 '%s' '%s'", base, same);
    rc = check_run(cmd, out, sizeof out);
    check("compare: CLI, same distribution: exit 0",
          rc == 0 && strstr(out, "0 slower, 0 inconclusive"), "exit %d:\n%s", rc, out);

    snprintf(cmd, sizeof cmd, "convbench compare --threshold 10 '%s' '%s'", base, moved);
    rc = check_run(cmd, out, sizeof out);
    const char *bo = strstr(out, "in BASE only"), *no = strstr(out, "in NEW only");
    check("compare: unmatched keys listed",
          rc == 0 && bo && no && strstr(bo, "seed/conv2/b32 forward naive 2t") &&
              strstr(no, "seed/conv2/b32 backward_data winograd 2t") && strstr(out, "2 compared"),
          "exit %d:\n%s", rc, out);

    /* a machine 30% slower across the board */
    snprintf(cmd, sizeof cmd, "convbench compare '%s' '%s'", base, uniform);
    rc = check_run(cmd, out, sizeof out);
    check("compare: a uniformly slower machine is slower without --normalize", rc == 1,
          "exit %d:\n%s", rc, out);
    snprintf(cmd, sizeof cmd, "convbench compare --threshold 15 --normalize naive '%s' '%s'", base,
             uniform);
    rc = check_run(cmd, out, sizeof out);
    check("compare: --normalize cancels a uniform machine-speed change",
          rc == 0 && strstr(out, "2 compared: 0 slower, 0 inconclusive, 2 same") &&
              strstr(out, "reference"),
          "exit %d:\n%s", rc, out);
    snprintf(cmd, sizeof cmd, "convbench compare --normalize naive '%s' '%s'", base, slow);
    rc = check_run(cmd, out, sizeof out);
    check("compare: --normalize still flags a real slowdown",
          rc == 1 && strstr(out, "2 compared: 2 slower"), "exit %d:\n%s", rc, out);
    snprintf(cmd, sizeof cmd, "convbench compare --normalize onednn '%s' '%s'", base, slow);
    rc = check_run(cmd, out, sizeof out);
    check("compare: --normalize by an absent backend is exit 2",
          rc == 2 && strstr(out, "no conv runs of backend 'onednn'"), "exit %d:\n%s", rc, out);

    /* bad files */
    FILE *f = fopen(bad, "w");
    if (f) {
        fputs("{ \"schema\": \"convbench-results/1\", \"kind\": bench }\n", f);
        fclose(f);
    }
    snprintf(cmd, sizeof cmd, "convbench compare '%s' '%s'", base, bad);
    rc = check_run(cmd, out, sizeof out);
    check("compare: malformed JSON is exit 2 with the reason",
          rc == 2 && strstr(out, "malformed JSON at line 1") && strstr(out, "cmp-bad.json"),
          "exit %d:\n%s", rc, out);

    f = fopen(base, "rb");
    static char text[1 << 16];
    size_t n = f ? fread(text, 1, sizeof text, f) : 0;
    if (f) fclose(f);
    f = fopen(cut, "wb");
    if (f) {
        fwrite(text, 1, n / 2, f);
        fclose(f);
    }
    snprintf(cmd, sizeof cmd, "convbench compare '%s' '%s'", cut, base);
    rc = check_run(cmd, out, sizeof out);
    check("compare: truncated JSON is exit 2 with the reason",
          rc == 2 && strstr(out, "truncated") && strstr(out, "cmp-cut.json"), "exit %d:\n%s", rc,
          out);

    snprintf(cmd, sizeof cmd, "convbench compare '%s' '%s/absent.json'", base, dir);
    rc = check_run(cmd, out, sizeof out);
    check("compare: a missing file is exit 2", rc == 2 && strstr(out, "cannot open"),
          "exit %d:\n%s", rc, out);
    snprintf(cmd, sizeof cmd, "convbench compare '%s'", base);
    rc = check_run(cmd, out, sizeof out);
    check("compare: one file is a usage error (exit 2)", rc == 2, "exit %d:\n%s", rc, out);
}

/* A results file of `reps` repetitions per case: the conv runs of
   write_file at median*speed, and a scale-style training run (20 steps a
   repetition) at step*speed seconds per step; fp, if not NULL, replaces
   the machine's fingerprint. Returns 0 if written. */
static int write_reps(const char *path, check_rng *g, const double *median, double speed,
                      double step, int reps, const char *fp)
{
    static const char *const backends[] = { "naive", "simd", NULL };
    char *argv[] = { "tests", "--synthetic" };
    cJSON *runs;
    cJSON *doc = results_new("bench", 2, argv, &runs);
    double t[64];
    for (int i = 0; backends[i]; i++) {
        char name[128];
        snprintf(name, sizeof name, "seed/conv2/b32/%s/forward", backends[i]);
        draw(g, median[i] * speed, reps, t);
        cJSON_AddItemToArray(runs,
                             results_conv_run(name, "seed", "conv2", backends[i], CONV_FORWARD,
                                              &shape, 1, t, reps, 100, 0, NULL));
    }
    cJSON *r = cJSON_CreateObject();
    cJSON_AddStringToObject(r, "type", "train");
    cJSON_AddStringToObject(r, "backend", "simd");
    cJSON_AddStringToObject(r, "model", "models/seed_cnn.net");
    cJSON_AddNumberToObject(r, "threads", 1);
    cJSON_AddNumberToObject(r, "batch", 32);
    cJSON_AddNumberToObject(r, "steps", 20);
    draw(g, 20 * step, reps, t);
    cJSON_AddItemToObject(r, "times_s", cJSON_CreateDoubleArray(t, reps));
    cJSON_AddItemToArray(runs, r);
    if (fp) {
        cJSON *m = cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "context"), "machine");
        cJSON_DeleteItemFromObject(m, "fingerprint");
        cJSON_AddStringToObject(m, "fingerprint", fp);
    }
    int rc = results_write(path, doc, 0);
    cJSON_Delete(doc);
    return rc;
}

/* What the runs cannot decide, pooled directories, training rows and
   files from two machines. */
static void test_undecided(void)
{
    const char *dir = check_tmpdir();
    char cmd[2048], a[512], b[512], da[512], db[512], path[600];
    static char out[65536];
    check_rng g = { 7 };
    const double med[] = { 8e-3, 1e-3 }, slow30[] = { 8e-3 * 1.3, 1e-3 * 1.3 };
    snprintf(a, sizeof a, "%s/und-3.json", dir);
    snprintf(b, sizeof b, "%s/und-3-slow.json", dir);
    if (write_reps(a, &g, med, 1, 2e-3, 3, NULL) || write_reps(b, &g, slow30, 1, 2.6e-3, 3, NULL)) {
        check("compare: synthetic files written", 0, "results_write failed");
        return;
    }
    snprintf(cmd, sizeof cmd, "convbench compare '%s' '%s'", a, b);
    int rc = check_run(cmd, out, sizeof out);
    check("compare: 3 repetitions against a 30%-slower copy is inconclusive (exit 3), not 0",
          rc == 3 && strstr(out, "0 slower, 3 inconclusive") &&
              strstr(out, "use 9 or more repetitions"),
          "exit %d:\n%s", rc, out);

    /* rounds pooled from directories: 4 files of 3 repetitions a side */
    snprintf(da, sizeof da, "%s/und-ref", dir);
    snprintf(db, sizeof db, "%s/und-new", dir);
    mkdir(da, 0777);
    mkdir(db, 0777);
    const double simd2x[] = { 8e-3, 2e-3 };
    int bad = 0;
    for (int i = 0; i < 4; i++) {
        snprintf(path, sizeof path, "%s/round-%d.json", da, i);
        bad |= write_reps(path, &g, med, 1, 2e-3, 3, NULL);
        snprintf(path, sizeof path, "%s/round-%d.json", db, i);
        bad |= write_reps(path, &g, simd2x, 1, 4e-3, 3, NULL);
    }
    check("compare: synthetic rounds written", !bad, "results_write failed");
    snprintf(cmd, sizeof cmd, "convbench compare --threshold 10 '%s' '%s'", da, db);
    rc = check_run(cmd, out, sizeof out);
    check("compare: directories pool their rounds; a 2x slowdown and a 2x slower step are slower",
          rc == 1 && strstr(out, "4 files") && strstr(out, "seed/conv2/b32 forward simd 1t") &&
              strstr(out, "train seed_cnn b32 simd 1t") && strstr(out, "3 compared: 2 slower") &&
              strstr(out, "1 same"),
          "exit %d:\n%s", rc, out);
    snprintf(cmd, sizeof cmd, "convbench compare --threshold 10 '%s' '%s'", da, da);
    rc = check_run(cmd, out, sizeof out);
    check("compare: a directory against itself is same (exit 0)",
          rc == 0 && strstr(out, "3 compared: 0 slower, 0 inconclusive, 3 same"), "exit %d:\n%s",
          rc, out);

    /* another machine: said first, never a pass or a regression */
    snprintf(b, sizeof b, "%s/und-other-machine.json", dir);
    write_reps(b, &g, med, 1, 2e-3, 12, "0123456789abcdef");
    snprintf(a, sizeof a, "%s/und-12.json", dir);
    write_reps(a, &g, med, 1, 2e-3, 12, NULL);
    snprintf(cmd, sizeof cmd, "convbench compare --threshold 10 '%s' '%s'", a, b);
    rc = check_run(cmd, out, sizeof out);
    check("compare: files of two machines say so first and exit 4",
          rc == 4 && !strncmp(out, "BASE and NEW come from different machines", 41), "exit %d:\n%s",
          rc, out);
    snprintf(path, sizeof path, "%s/round-9.json", da);
    rename(b, path);
    snprintf(cmd, sizeof cmd, "convbench compare '%s' '%s'", da, db);
    rc = check_run(cmd, out, sizeof out);
    check("compare: one side mixing two machines is refused (exit 2)",
          rc == 2 && strstr(out, "comes from another machine"), "exit %d:\n%s", rc, out);
}

/* The interval and paired statistics on hand-checked values. */
static void test_intervals(void)
{
    const double a[] = { 0, 1, 2, 3, 4 }, b[] = { 10, 11, 12, 13, 14 };
    double est, lo, hi;
    /* 25 differences 6..14 (counts 1 2 3 4 5 4 3 2 1); 5 vs 5: P(U <= 2) =
       4/252 <= 0.025 < P(U <= 3): the 3rd and 23rd differences */
    int rc = stats_shift_ci(a, 5, b, 5, 0.05, &est, &lo, &hi);
    check("compare: shift interval of 5 vs 5 is the 3rd..23rd difference",
          rc == 0 && est == 10 && lo == 7 && hi == 13, "rc %d est %g [%g, %g]", rc, est, lo, hi);
    rc = stats_shift_ci(a, 3, b, 3, 0.05, &est, &lo, &hi);
    check("compare: 3 vs 3 cannot reach a 95% interval", rc == -1 && isnan(lo) && est == 10,
          "rc %d est %g lo %g", rc, est, lo);
    stats_mwu r;
    const double up[] = { 1, 2, 3, 4, 5 }, mixed[] = { 1, -2, 3, -4, 5, 0 };
    stats_signed_rank(up, 5, &r);
    check("compare: signed-rank, 5 of 5 positive: W+ 15, exact p = 2/32",
          r.exact && r.u == 15 && fabs(r.p - 2.0 / 32) < 1e-12, "W+ %g p %g", r.u, r.p);
    stats_signed_rank(mixed, 6, &r);
    check("compare: signed-rank drops zeros and counts positive ranks (W+ 9 of 15)",
          !r.exact && r.u == 9 && r.p > 0.5, "W+ %g p %g exact %d", r.u, r.p, r.exact);
    rc = stats_walsh_ci(up, 5, 0.05, &est, &lo, &hi);
    check("compare: 5 pairs cannot reach a 95% interval (P(W+ = 0) = 1/32)", rc == -1 && est == 3,
          "rc %d est %g", rc, est);
    /* past STATS_EXACT_MAX the critical values come from the normal
       approximation: the intervals still hold the true centre */
    double big_a[30], big_b[30], big_d[60];
    for (int i = 0; i < 30; i++) big_a[i] = i, big_b[i] = i + 100;
    for (int i = 0; i < 60; i++) big_d[i] = i + 1;
    rc = stats_shift_ci(big_a, 30, big_b, 30, 0.05, &est, &lo, &hi);
    check("compare: 30 vs 30 shift interval (normal approximation) holds 100",
          rc == 0 && est == 100 && lo < 100 && hi > 100 && lo > 90 && hi < 110,
          "rc %d est %g [%g, %g]", rc, est, lo, hi);
    rc = stats_walsh_ci(big_d, 60, 0.05, &est, &lo, &hi);
    check("compare: 60 pairs' Walsh interval (normal approximation) holds 30.5",
          rc == 0 && est == 30.5 && lo < 30.5 && hi > 30.5 && lo > 20 && hi < 41,
          "rc %d est %g [%g, %g]", rc, est, lo, hi);
    const double six[] = { 1, 2, 3, 4, 5, 6 };
    rc = stats_walsh_ci(six, 6, 0.05, &est, &lo, &hi);
    check("compare: 6 pairs: the interval spans the Walsh averages' extremes",
          rc == 0 && lo == 1 && hi == 6 && est == 3.5, "rc %d est %g [%g, %g]", rc, est, lo, hi);
}

/* n rounds in three directories of the test directory, NAME-ref, -new and
   -slow (paths into ra, rb, rs): in round i every time of ref is scaled by
   fr[i], of new and slow by fn[i], and slow's simd pass and step are 30%
   slower besides. Returns 0 if all were written. */
static int write_rounds(const char *name, int n, const double *fr, const double *fn, check_rng *g,
                        char *ra, char *rb, char *rs)
{
    const char *dir = check_tmpdir();
    char path[600];
    snprintf(ra, 512, "%s/%s-ref", dir, name);
    snprintf(rb, 512, "%s/%s-new", dir, name);
    snprintf(rs, 512, "%s/%s-slow", dir, name);
    mkdir(ra, 0777);
    mkdir(rb, 0777);
    mkdir(rs, 0777);
    int bad = 0;
    for (int i = 0; i < n; i++) {
        const double ref[] = { 8e-3 * fr[i], 1e-3 * fr[i] }, cur[] = { 8e-3 * fn[i], 1e-3 * fn[i] },
                     slow[] = { 8e-3 * fn[i], 1.3e-3 * fn[i] };
        snprintf(path, sizeof path, "%s/round-%02d.json", ra, i);
        bad |= write_reps(path, g, ref, 1, 2e-3 * fr[i], 3, NULL);
        snprintf(path, sizeof path, "%s/round-%02d.json", rb, i);
        bad |= write_reps(path, g, cur, 1, 2e-3 * fn[i], 3, NULL);
        snprintf(path, sizeof path, "%s/round-%02d.json", rs, i);
        bad |= write_reps(path, g, slow, 1, 2.6e-3 * fn[i], 3, NULL);
    }
    return bad;
}

/* Paired rounds: each round slowed as a whole by a random spell (up to
   2.5x, both builds alike), one repetition in five of a file disturbed on
   its own. Unpaired, the spells make the verdict wide; paired, they cancel. */
static void test_paired(void)
{
    char ra[512], rb[512], rs[512], cmd[2048];
    static char out[65536];
    check_rng g = { 2024 };
    double spell[10];
    for (int i = 0; i < 10; i++) spell[i] = 1 + 0.75 * (check_uniform(&g) + 1);
    check("compare: synthetic paired rounds written",
          !write_rounds("pair", 10, spell, spell, &g, ra, rb, rs), "results_write failed");
    snprintf(cmd, sizeof cmd, "convbench compare --threshold 10 '%s' '%s'", ra, rb);
    int rc = check_run(cmd, out, sizeof out);
    check("compare: unpaired, round-wide spells leave same code undecided (exit 3)", rc == 3,
          "exit %d:\n%s", rc, out);
    snprintf(cmd, sizeof cmd, "convbench compare --paired --threshold 10 '%s' '%s'", ra, rb);
    rc = check_run(cmd, out, sizeof out);
    check("compare: paired, the spells cancel: same code passes (exit 0)",
          rc == 0 && strstr(out, "Wilcoxon signed-rank") && strstr(out, "0 slower, 0 inconclusive"),
          "exit %d:\n%s", rc, out);
    snprintf(cmd, sizeof cmd, "convbench compare --paired --threshold 10 '%s' '%s'", ra, rs);
    rc = check_run(cmd, out, sizeof out);
    check("compare: paired, a 30% slower pass and step are slower (exit 1)",
          rc == 1 && strstr(out, "3 compared: 2 slower, 0 inconclusive, 1 same"), "exit %d:\n%s",
          rc, out);
}

/* A neighbour that slows whole processes: a third of NEW's rounds run
   1.6-2.4x slower. Judged on all repetitions the code cannot be told
   apart from the neighbour; on the fastest half it can. */
static void test_fastest(void)
{
    char ra[512], rb[512], rs[512], cmd[2048];
    static char out[65536];
    check_rng g = { 77 };
    double quiet[8], busy[8];
    for (int i = 0; i < 8; i++) {
        quiet[i] = 1;
        busy[i] = i % 3 == 1 ? 2 + 0.4 * check_uniform(&g) : 1;
    }
    check("compare: synthetic busy rounds written",
          !write_rounds("busy", 8, quiet, busy, &g, ra, rb, rs), "results_write failed");
    snprintf(cmd, sizeof cmd, "convbench compare --threshold 15 '%s' '%s'", ra, rb);
    int rc = check_run(cmd, out, sizeof out);
    check(
        "compare: all repetitions, a neighbour on a third of the rounds leaves same code undecided",
        rc == 3, "exit %d:\n%s", rc, out);
    snprintf(cmd, sizeof cmd, "convbench compare --fastest 0.5 --threshold 15 '%s' '%s'", ra, rb);
    rc = check_run(cmd, out, sizeof out);
    check("compare: the fastest half passes the same code (exit 0)",
          rc == 0 && strstr(out, "3 compared: 0 slower, 0 inconclusive, 3 same"), "exit %d:\n%s",
          rc, out);
    snprintf(cmd, sizeof cmd, "convbench compare --fastest 0.5 --threshold 15 '%s' '%s'", ra, rs);
    rc = check_run(cmd, out, sizeof out);
    check("compare: the fastest half still flags a 30% slowdown (exit 1)",
          rc == 1 && strstr(out, "3 compared: 2 slower"), "exit %d:\n%s", rc, out);
    snprintf(cmd, sizeof cmd, "convbench compare --fastest 0 '%s' '%s'", ra, rb);
    rc = check_run(cmd, out, sizeof out);
    check("compare: --fastest 0 is refused (exit 2)", rc == 2 && strstr(out, "--fastest wants"),
          "exit %d:\n%s", rc, out);
}

/* The gate's refusals, before it builds or measures anything. */
static void test_gate_input(void)
{
    static char out[8192];
    int rc = check_run("REF=no-such-commit-anywhere bash scripts/regress.sh", out, sizeof out);
    check("compare/gate: an unknown REF is exit 2, named",
          rc == 2 && strstr(out, "'no-such-commit-anywhere' is not a commit"), "exit %d:\n%s", rc,
          out);
    rc = check_run("REF=HEAD ROUNDS=abc bash scripts/regress.sh", out, sizeof out);
    check("compare/gate: a bad ROUNDS is exit 2, named",
          rc == 2 && strstr(out, "ROUNDS must be a whole number, not 'abc'"), "exit %d:\n%s", rc,
          out);
    rc = check_run("REF=HEAD ROUNDS=0 bash scripts/regress.sh", out, sizeof out);
    check("compare/gate: ROUNDS=0 is exit 2", rc == 2 && strstr(out, "ROUNDS must be at least 1"),
          "exit %d:\n%s", rc, out);
}

/* A train run as the trainer and the peer scripts write it. */
static cJSON *train_run(const char *backend, int threads, int epoch, double seconds, double acc)
{
    cJSON *r = cJSON_CreateObject();
    cJSON_AddStringToObject(r, "type", "train");
    cJSON_AddStringToObject(r, "backend", backend);
    cJSON_AddNumberToObject(r, "threads", threads);
    cJSON_AddNumberToObject(r, "batch", 32);
    cJSON_AddNumberToObject(r, "images", 60000);
    cJSON_AddNumberToObject(r, "epoch", epoch);
    cJSON_AddNumberToObject(r, "epochs", 2);
    cJSON_AddNumberToObject(r, "loss", 1 - acc);
    cJSON_AddNumberToObject(r, "test_accuracy", acc);
    cJSON_AddNumberToObject(r, "seconds", seconds);
    cJSON_AddNumberToObject(r, "images_per_s", 60000 / seconds);
    return r;
}

/* An auto train file at 2 threads (2 epochs of 10 and 14 s: mean 12 s, 5000
   images/s) with its choice for conv2 forward; a tuned peer at 2 threads
   (one 60 s epoch: 1000 images/s) with a conv run; a peer that could not be
   measured. */
static int write_train_and_peers(const char *rdir)
{
    char *argv[] = { "tests", "--synthetic" };
    char path[600];
    cJSON *runs, *doc = results_new("train", 2, argv, &runs);
    cJSON *a = cJSON_CreateObject();
    cJSON_AddStringToObject(a, "type", "autotune");
    cJSON_AddStringToObject(a, "layer", "conv2");
    cJSON_AddStringToObject(a, "pass", "forward");
    cJSON_AddStringToObject(a, "backend", "simd");
    cJSON_AddNumberToObject(a, "median_s", 0.002);
    cJSON *cand = cJSON_AddObjectToObject(a, "candidates");
    cJSON_AddNumberToObject(cand, "simd", 0.002);
    cJSON_AddNumberToObject(cand, "naive", 0.006);
    cJSON_AddNullToObject(cand, "slow");
    cJSON_AddItemToArray(runs, a);
    cJSON_AddItemToArray(runs, train_run("auto", 2, 1, 10, 0.85));
    cJSON_AddItemToArray(runs, train_run("auto", 2, 2, 14, 0.875));
    snprintf(path, sizeof path, "%s/train-auto.json", rdir);
    int rc = results_write(path, doc, 0);
    cJSON_Delete(doc);

    doc = results_new("peer", 2, argv, &runs);
    cJSON *peer = cJSON_AddObjectToObject(cJSON_GetObjectItem(doc, "context"), "peer");
    cJSON_AddStringToObject(peer, "name", "pytorch");
    cJSON_AddStringToObject(peer, "config", "tuned");
    cJSON_AddStringToObject(peer, "status", "measured");
    cJSON_AddStringToObject(peer, "description", "intra-op threads N, BLAS pool at 1");
    cJSON *w = cJSON_CreateObject();
    cJSON_AddNumberToObject(w, "threads", 2);
    cJSON_AddItemToObject(w, "cpus", cJSON_CreateIntArray((const int[]){ 0, 1 }, 2));
    cJSON_AddStringToObject(cJSON_AddObjectToObject(w, "env"), "OPENBLAS_NUM_THREADS", "1");
    cJSON_AddItemToArray(cJSON_AddArrayToObject(peer, "workers"), w);
    cJSON *t = train_run("pytorch", 2, 1, 60, 0.86);
    cJSON_AddStringToObject(t, "config", "tuned");
    cJSON_AddItemToArray(runs, t);
    double times[3] = { 4e-3, 4e-3, 4e-3 };
    cJSON *c = results_conv_run("seed/conv2/b32/pytorch/forward", "seed", "conv2", "pytorch",
                                CONV_FORWARD, &shape, 2, times, 3, 10, 0, NULL);
    cJSON_AddStringToObject(c, "config", "tuned");
    cJSON_AddItemToArray(runs, c);
    snprintf(path, sizeof path, "%s/peers/pytorch.json", rdir);
    rc |= results_write(path, doc, 0);
    cJSON_Delete(doc);

    doc = results_new("peer", 2, argv, &runs);
    peer = cJSON_AddObjectToObject(cJSON_GetObjectItem(doc, "context"), "peer");
    cJSON_AddStringToObject(peer, "name", "keras");
    cJSON_AddStringToObject(peer, "config", "tuned");
    cJSON_AddStringToObject(peer, "status", "not measured");
    cJSON_AddStringToObject(peer, "reason", "cannot import Keras");
    snprintf(path, sizeof path, "%s/peers/keras.json", rdir);
    rc |= results_write(path, doc, 0);
    cJSON_Delete(doc);
    return rc;
}

/* convbench report on synthetic files: the tables, a computed conclusion
   and the plots; no results at all is an error naming the commands. */
static void test_report(void)
{
    const char *dir = check_tmpdir();
    char rdir[512], path[600], cmd[2048];
    static char out[65536];
    snprintf(rdir, sizeof rdir, "%s/report-results", dir);
    mkdir(rdir, 0777);
    snprintf(cmd, sizeof cmd, "convbench report --results '%s' --out '%s/R.md'", rdir, dir);
    int rc = check_run(cmd, out, sizeof out);
    check("compare/report: no results is an error naming the commands",
          rc == 1 && strstr(out, "convbench bench"), "exit %d:\n%s", rc, out);
    static const char *const two[] = { "simd", "onednn", NULL };
    const double med[] = { 1e-3, 2e-3 };
    check_rng g = { 5 };
    snprintf(path, sizeof path, "%s/bench-x.json", rdir);
    if (write_file(path, &g, two, med, 1)) {
        check("compare/report: synthetic bench file written", 0, "results_write failed");
        return;
    }
    snprintf(cmd, sizeof cmd, "convbench report --results '%s' --out '%s/R.md' && cat '%s/R.md'",
             rdir, dir, dir);
    rc = check_run(cmd, out, sizeof out);
    check("compare/report: tables and a computed conclusion",
          rc == 0 && strstr(out, "| conv2/b32 | forward |") &&
              strstr(out, "fastest forward on seed/conv2/b32: **simd**") && strstr(out, "x onednn"),
          "exit %d:\n%s", rc, out);
    /* plots go to a directory named after the machine */
    char ls[600];
    snprintf(ls, sizeof ls, "ls '%s'/plots/*/gflops-seed-t2.dat", rdir);
    rc = check_run(ls, out, sizeof out);
    check("compare/report: plot data written", rc == 0, "exit %d:\n%s", rc, out);

    /* a peer and an auto train file: rows, the computed conclusion, the
       auto choice, how the peers ran, and the peer's conv run beside ours */
    if (write_train_and_peers(rdir)) {
        check("compare/report: synthetic train and peer files written", 0, "results_write failed");
        return;
    }
    rc = check_run(cmd, out, sizeof out);
    check("compare/report: auto and peer training rows",
          rc == 0 && strstr(out, "| **auto** | 2 | 32 | 2 | 0.8750 | 12.0 | 5000 |") &&
              strstr(out, "| pytorch (tuned) | 2 | 32 | 1 | 0.8600 | 60.0 | 1000 |") &&
              strstr(out, "| keras (tuned) | – | – | – | not measured: cannot import Keras |"),
          "exit %d:\n%s", rc, out);
    check("compare/report: auto against the peer, computed",
          strstr(out,
                 "auto at 2 threads trains 5.00x the images/s of pytorch (tuned) (5000 vs 1000)") !=
              NULL,
          "%s", out);
    check("compare/report: the auto choice table",
          strstr(out, "| conv2 | forward | simd | 2.00 | naive | 6.00 | 3.00 |") &&
              strstr(out, "`auto` chose simd for 1 of 1 layer x pass cases"),
          "%s", out);
    check("compare/report: how the peers were run",
          strstr(out, "intra-op threads N, BLAS pool at 1. 2 threads on CPUs 0,1, env "
                      "OPENBLAS_NUM_THREADS=1.") &&
              strstr(out, "**keras (tuned)**") && strstr(out, "not measured: cannot import Keras."),
          "%s", out);
    check("compare/report: the peer's conv run beside convbench's fastest",
          strstr(out, "| seed/conv2/b32 forward | 2 | ") && strstr(out, " (simd) | 35.7 |") &&
              strstr(out, "ahead of every peer in 1 of 1 cases"),
          "%s", out);
}

void test_compare(void)
{
    if (!check_selected("compare")) return;
    test_mwu_values();
    test_rates();
    test_cli();
    test_undecided();
    test_intervals();
    test_paired();
    test_fastest();
    test_gate_input();
    test_report();
}
