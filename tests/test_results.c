/* Results files and the harness plumbing: round trip through the reader,
   writes that fail or are killed midway never leave a half-written target,
   baselines are not replaced without force, bad files get clear errors,
   case names parse back, the machine description matches /proc and sysfs,
   machines are told apart by fingerprint (never by host name or file
   name), labels are checked, and bench_run turns a real bench_conv run
   into valid runs. */
#include <dirent.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "../harness/bench.h"
#include "../harness/peak.h"
#include "../harness/results.h"
#include "../harness/shape_sets.h"
#include "../harness/timed_run.h"
#include "check.h"
#include "suites.h"

static const conv_shape shape = { 32, 13, 13, 32, 64, 3, 3, 1, 0 };

/* A results document with `nruns` conv runs of 3 repetitions each. */
static cJSON *sample_doc(int nruns)
{
    char *argv[] = { "tests", "--sample" };
    cJSON *runs;
    cJSON *doc = results_new("bench", 2, argv, &runs);
    for (int i = 0; i < nruns; i++) {
        double t[3] = { 1e-3 + i * 1e-6, 2e-3, 1.5e-3 };
        cJSON_AddItemToArray(runs, results_conv_run("seed/conv2/b32/naive/forward", "seed", "conv2",
                                                    "naive", CONV_FORWARD, &shape, 2, t, 3, 7,
                                                    400.0, i % 2 ? NULL : "direct loops"));
    }
    return doc;
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    size_t got = s ? fread(s, 1, (size_t)n, f) : 0;
    fclose(f);
    if (s) s[got] = 0;
    return s;
}

static void spit(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    if (!f) return;
    fputs(text, f);
    fclose(f);
}

/* Number of leftover temporary files (".NAME.tmp.XXXXXX") in dir. */
static int temp_files(const char *dir)
{
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)))
        if (e->d_name[0] == '.' && strstr(e->d_name, ".tmp.")) n++;
    if (d) closedir(d);
    return n;
}

/* Runs results_write with stderr silenced, for writes meant to fail. */
static int write_quietly(const char *path, const cJSON *doc, int force)
{
    fflush(stderr);
    int saved = dup(2), null = open("/dev/null", O_WRONLY);
    if (null >= 0) dup2(null, 2);
    int rc = results_write(path, doc, force);
    fflush(stderr);
    if (saved >= 0) dup2(saved, 2);
    if (saved >= 0) close(saved);
    if (null >= 0) close(null);
    return rc;
}

static double num(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsNumber(v) ? v->valuedouble : -1;
}

static void round_trip(const char *dir)
{
    char path[512], err[512];
    snprintf(path, sizeof path, "%s/rt/sub/a.json", dir); /* parents created */
    cJSON *doc = sample_doc(2);
    int rc = results_write(path, doc, 0);
    check("results/roundtrip/write", rc == 0, "results_write returned %d", rc);
    cJSON *back = results_read(path, err, sizeof err);
    check("results/roundtrip/read", back != NULL, "%s", back ? "" : err);
    if (back) {
        check("results/roundtrip/equal", cJSON_Compare(doc, back, 1),
              "document changed in the file");
        const cJSON *r = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(back, "runs"), 0);
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(r, "times_s");
        check("results/roundtrip/fields",
              cJSON_GetArraySize(t) == 3 && num(r, "median_s") == 1.5e-3 &&
                  num(r, "min_s") == 1e-3 && num(r, "max_s") == 2e-3 && num(r, "repetitions") == 3,
              "times/median/min/max not kept");
        double gf = conv_flops(&shape) / 1.5e-3 * 1e-9;
        check("results/roundtrip/rates",
              fabs(num(r, "gflops") - gf) < 1e-9 * gf &&
                  fabs(num(r, "pct_peak") - 100 * gf / 400) < 1e-6,
              "gflops %g (want %g), pct_peak %g", num(r, "gflops"), gf, num(r, "pct_peak"));
        const cJSON *ctx = cJSON_GetObjectItemCaseSensitive(back, "context");
        const char *when = cJSON_GetObjectItemCaseSensitive(ctx, "time_utc")->valuestring;
        check("results/context/time", strlen(when) == 20 && when[10] == 'T' && when[19] == 'Z',
              "time_utc '%s' is not ISO-8601 UTC", when);
        check("results/context/command_line",
              !strcmp(cJSON_GetObjectItemCaseSensitive(ctx, "command_line")->valuestring,
                      "tests --sample"),
              "command line not recorded");
    }
    check("results/roundtrip/no_temp", temp_files(path) == 0, "temporary file left behind");
    cJSON_Delete(back);
    cJSON_Delete(doc);
}

static void failed_writes(const char *dir)
{
    char path[512], sub[512];
    cJSON *doc = sample_doc(1);

    /* the target is a directory: rename fails after the temp file is written */
    snprintf(sub, sizeof sub, "%s/fail", dir);
    snprintf(path, sizeof path, "%s/fail/target.json", dir);
    mkdir(sub, 0777);
    mkdir(path, 0777);
    int rc = write_quietly(path, doc, 0);
    struct stat st;
    check("results/failed_write/rename", rc != 0 && stat(path, &st) == 0 && S_ISDIR(st.st_mode),
          "rc %d", rc);
    check("results/failed_write/no_temp", temp_files(sub) == 0, "%d temporary files left",
          temp_files(sub));

    /* out of space midway (file size limit): the old target is unchanged */
    snprintf(path, sizeof path, "%s/fail/old.json", dir);
    spit(path, "old contents\n");
    cJSON *big = sample_doc(400);
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        signal(SIGXFSZ, SIG_IGN);
        struct rlimit lim = { 4096, 4096 };
        setrlimit(RLIMIT_FSIZE, &lim);
        _exit(write_quietly(path, big, 0) == 0 ? 1 : 0);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    char *now = slurp(path);
    check("results/failed_write/short_write",
          WIFEXITED(status) && WEXITSTATUS(status) == 0 && now && !strcmp(now, "old contents\n"),
          "write past the size limit %s; target now '%.20s'",
          WIFEXITED(status) && WEXITSTATUS(status) == 0 ? "failed" : "did not fail",
          now ? now : "");
    free(now);
    check("results/failed_write/short_write_no_temp", temp_files(sub) == 0,
          "%d temporary files left", temp_files(sub));

    /* killed at an arbitrary moment while rewriting: the target is the old
       complete file or the new complete file, never a part */
    snprintf(path, sizeof path, "%s/fail/killed.json", dir);
    results_write(path, doc, 0);
    fflush(stdout);
    pid = fork();
    if (pid == 0) {
        for (;;) results_write(path, big, 0);
    }
    struct timespec ts = { 0, 30 * 1000 * 1000 };
    nanosleep(&ts, NULL);
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    char err[512];
    cJSON *back = results_read(path, err, sizeof err);
    check("results/failed_write/killed", back != NULL, "after kill: %s", back ? "" : err);
    cJSON_Delete(back);
    cJSON_Delete(big);
    cJSON_Delete(doc);
}

static void baseline(const char *dir)
{
    char path[512];
    snprintf(path, sizeof path, "%s/results/baseline/quick.json", dir);
    cJSON *doc = sample_doc(1);
    check("results/baseline/first", results_write(path, doc, 0) == 0, "first write refused");
    char *before = slurp(path);
    cJSON *doc2 = sample_doc(3);
    int rc = write_quietly(path, doc2, 0);
    char *after = slurp(path);
    check("results/baseline/refused", rc != 0 && before && after && !strcmp(before, after),
          "an existing baseline was replaced without force");
    rc = results_write(path, doc2, 1);
    char err[512];
    cJSON *back = results_read(path, err, sizeof err);
    check("results/baseline/force",
          rc == 0 && back &&
              cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(back, "runs")) == 3,
          "--force did not replace the baseline");
    char sub[512];
    snprintf(sub, sizeof sub, "%s/results/baseline", dir);
    check("results/baseline/no_temp", temp_files(sub) == 0, "temporary file left");
    /* outside results/baseline/ files are replaced */
    snprintf(path, sizeof path, "%s/results/other.json", dir);
    check("results/baseline/others_replaced",
          results_write(path, doc, 0) == 0 && results_write(path, doc2, 0) == 0,
          "a non-baseline file was not replaced");
    cJSON_Delete(back);
    free(before);
    free(after);
    cJSON_Delete(doc);
    cJSON_Delete(doc2);
}

/* One bad file: results_read must fail with an error containing `want`. */
static void expect_error(const char *dir, const char *name, const char *text, const char *want)
{
    char path[512], err[512] = "", test[128];
    snprintf(path, sizeof path, "%s/bad-%s.json", dir, name);
    if (text) spit(path, text);
    cJSON *doc = results_read(path, err, sizeof err);
    snprintf(test, sizeof test, "results/bad_file/%s", name);
    check(test, !doc && strstr(err, want) && strstr(err, path), "error '%s' (wanted '%s')", err,
          want);
    if (check_verbose()) printf("     %s\n", err);
    cJSON_Delete(doc);
}

static void bad_files(const char *dir)
{
    cJSON *doc = sample_doc(1);
    char *good = cJSON_Print(doc);
    size_t len = strlen(good);
    expect_error(dir, "missing", NULL, "cannot open");
    expect_error(dir, "empty", "", "empty file");
    good[len / 2] = 0;
    expect_error(dir, "truncated", good, "truncated");
    expect_error(dir, "malformed", "{\n  \"schema\": convbench\n}\n", "malformed JSON at line 2");
    expect_error(dir, "trailing", "{}\n}", "malformed JSON");
    expect_error(dir, "not_results", "{\"a\": 1}", "\"schema\" is missing");
    expect_error(dir, "version", "{\"schema\": \"convbench-results/99\"}", "not the supported");
    free(good);

    /* schema violations in an otherwise valid document */
    cJSON *r = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(doc, "runs"), 0);
    cJSON_ReplaceItemInObject(r, "repetitions", cJSON_CreateNumber(4));
    char *text = cJSON_Print(doc);
    expect_error(dir, "times_count", text, "times_s has 3 entries but repetitions is 4");
    free(text);
    cJSON_DeleteItemFromObject(r, "backend");
    text = cJSON_Print(doc);
    expect_error(dir, "no_backend", text, "runs[0]: field \"backend\" is missing");
    free(text);
    cJSON_DeleteItemFromObject(cJSON_GetObjectItemCaseSensitive(doc, "context"), "git_commit");
    text = cJSON_Print(doc);
    expect_error(dir, "no_commit", text, "context: field \"git_commit\" is missing");
    free(text);
    cJSON_Delete(doc);
}

static void case_names(void)
{
    int bad = 0, n = 0;
    shape_list all = { NULL, 0, 0 };
    char err[512] = "";
    const int loaded = shapes_load_sets("all", &all, err, sizeof err);
    for (int i = 0; i < all.n; i++)
        for (int p = 0; p < 3; p++) {
            char name[256], be[64];
            const bench_layer *back;
            conv_pass pass;
            shapes_case_name(name, sizeof name, &all.v[i], "onednn-winograd", (conv_pass)p);
            bad += shapes_parse_case_name(name, &all, &back, be, sizeof be, &pass) ||
                   back != &all.v[i] || pass != (conv_pass)p || strcmp(be, "onednn-winograd");
            n++;
        }
    check("results/case_names", loaded == 0 && bad == 0 && n == 3 * 35,
          "%d of %d names did not parse back (%s)", bad, n, err);
    shape_list two = { NULL, 0, 0 };
    const int ok = shapes_load_sets("seed,vgg", &two, err, sizeof err) == 0 && two.n == 8 &&
                   !strcmp(two.v[0].set, "seed") && !strcmp(two.v[7].layer, "conv5_2");
    shape_list none = { NULL, 0, 0 };
    check("results/sets", ok && shapes_load_sets("seed,nope", &none, err, sizeof err) < 0,
          "set lists misparsed: %s", err);
    shape_list_free(&all);
    shape_list_free(&two);
    shape_list_free(&none);
}

/* cores and PUs from /proc/cpuinfo: distinct (physical id, core id) pairs. */
static void proc_counts(int *cores, int *pus)
{
    FILE *f = fopen("/proc/cpuinfo", "r");
    char line[4096];
    int pkg = 0, ids[4096];
    *cores = *pus = 0;
    while (f && fgets(line, sizeof line, f)) {
        int v;
        if (!strncmp(line, "processor", 9)) (*pus)++;
        if (sscanf(line, "physical id : %d", &v) == 1) pkg = v;
        if (sscanf(line, "core id : %d", &v) == 1) {
            int key = pkg * 1024 + v, seen = 0;
            for (int i = 0; i < *cores; i++) seen |= ids[i] == key;
            if (!seen && *cores < 4096) ids[(*cores)++] = key;
        }
    }
    if (f) fclose(f);
}

static void machine_matches_system(void)
{
    cJSON *m = results_machine();
    int cores, pus;
    proc_counts(&cores, &pus);
    if (cores == 0) cores = pus; /* no "core id" lines (some VMs): one PU per core */
    check("results/info/cores", num(m, "cores") == cores, "hwloc %g cores, /proc/cpuinfo %d",
          num(m, "cores"), cores);
    check("results/info/pus", num(m, "pus") == pus, "hwloc %g PUs, /proc/cpuinfo %d", num(m, "pus"),
          pus);
    int compared = 0;
    for (int i = 0; i < 16; i++) {
        char p[256], type[32] = "", size[32] = "";
        int level = 0;
        snprintf(p, sizeof p, "/sys/devices/system/cpu/cpu0/cache/index%d/level", i);
        FILE *f = fopen(p, "r");
        if (!f) break;
        if (fscanf(f, "%d", &level) != 1) level = 0;
        fclose(f);
        snprintf(p, sizeof p, "/sys/devices/system/cpu/cpu0/cache/index%d/type", i);
        if ((f = fopen(p, "r"))) {
            if (fscanf(f, "%31s", type) != 1) type[0] = 0;
            fclose(f);
        }
        snprintf(p, sizeof p, "/sys/devices/system/cpu/cpu0/cache/index%d/size", i);
        if ((f = fopen(p, "r"))) {
            if (fscanf(f, "%31s", size) != 1) size[0] = 0;
            fclose(f);
        }
        char *end;
        double bytes = strtod(size, &end);
        bytes *= *end == 'K' ? 1024 : *end == 'M' ? 1048576 : 1;
        const char *want = !strcmp(type, "Data")          ? "data"
                           : !strcmp(type, "Instruction") ? "instruction"
                                                          : "unified";
        const cJSON *c, *hit = NULL;
        cJSON_ArrayForEach(
            c,
            cJSON_GetObjectItemCaseSensitive(
                m, "caches")) if (num(c, "level") == level &&
                                  !strcmp(cJSON_GetObjectItemCaseSensitive(c, "type")->valuestring,
                                          want)) hit = c;
        char name[64];
        snprintf(name, sizeof name, "results/info/cache_L%d_%s", level, want);
        check(name, hit && num(hit, "size_bytes") == bytes, "sysfs %s (%.0f bytes), hwloc %.0f",
              size, bytes, hit ? num(hit, "size_bytes") : -1);
        compared++;
    }
    if (!compared) check_skip("results/info/caches", "no cache information in sysfs");
    cJSON_Delete(m);
}

/* ---- machine identity ---------------------------------------------------- */

/* A machine object like results_machine's, from JSON text. */
static cJSON *machine_of(const char *vendor, const char *model, int family, int mod, int cores,
                         const char *flags, double memory)
{
    char text[2048];
    snprintf(text, sizeof text,
             "{\"hostname\": \"vm\", \"vendor\": \"%s\", \"family\": %d, \"model\": %d, "
             "\"stepping\": 1, \"cpu_model\": \"%s\", \"packages\": 1, \"cores\": %d, \"pus\": %d, "
             "\"numa_nodes\": 1, \"memory_bytes\": %.0f, \"caches\": ["
             "{\"level\": 1, \"type\": \"data\", \"size_bytes\": 32768, \"line_bytes\": 64, "
             "\"associativity\": 8, \"count\": %d},"
             "{\"level\": 2, \"type\": \"unified\", \"size_bytes\": 524288, \"line_bytes\": 64, "
             "\"associativity\": 8, \"count\": %d}], \"isa_flags\": [%s]}",
             vendor, family, mod, model, cores, cores, memory, cores, cores, flags);
    return cJSON_Parse(text);
}

static int same_fp(const cJSON *a, const cJSON *b)
{
    char x[32], y[32];
    results_machine_fingerprint(a, x, sizeof x);
    results_machine_fingerprint(b, y, sizeof y);
    return !strcmp(x, y);
}

static void fingerprints(void)
{
    const char *avx2 = "\"sse4_2\", \"avx\", \"fma\", \"avx2\"";
    cJSON *amd = machine_of("AuthenticAMD", "AMD EPYC", 25, 1, 2, avx2, 25276194816.0);
    cJSON *again = machine_of("AuthenticAMD", "AMD EPYC", 25, 1, 2,
                              "\"avx2\", \"fma\", \"avx\", \"sse4_2\"", 8147644416.0);
    cJSON *model = machine_of("AuthenticAMD", "AMD EPYC 7763", 25, 1, 2, avx2, 25276194816.0);
    cJSON *flags = machine_of("AuthenticAMD", "AMD EPYC", 25, 1, 2, "\"sse4_2\", \"avx\", \"fma\"",
                              25276194816.0);
    cJSON *cores = machine_of("AuthenticAMD", "AMD EPYC", 25, 1, 4, avx2, 25276194816.0);
    cJSON *step = machine_of("AuthenticAMD", "AMD EPYC", 25, 17, 2, avx2, 25276194816.0);
    char a[32], b[32];
    results_machine_fingerprint(amd, a, sizeof a);
    results_machine_fingerprint(amd, b, sizeof b);
    check("results/machine/fingerprint-stable",
          !strcmp(a, b) && strlen(a) == RESULTS_FINGERPRINT_LEN &&
              strspn(a, "0123456789abcdef") == RESULTS_FINGERPRINT_LEN,
          "'%s' then '%s'", a, b);
    check("results/machine/fingerprint-same-fields", same_fp(amd, again),
          "the same CPU (flags in another order, the VM resized to 8 GiB) hashed differently");
    check("results/machine/fingerprint-cpu-model", !same_fp(amd, model), "cpu_model ignored");
    check("results/machine/fingerprint-flags", !same_fp(amd, flags), "isa_flags ignored");
    check("results/machine/fingerprint-cores", !same_fp(amd, cores), "cores ignored");
    check("results/machine/fingerprint-model", !same_fp(amd, step), "model ignored");
    /* a stored fingerprint is what readers use; without it they compute it */
    cJSON_AddStringToObject(model, "fingerprint", a);
    check("results/machine/fingerprint-stored", same_fp(amd, model), "stored field not used");
    results_machine_fingerprint_compute(model, b, sizeof b);
    check("results/machine/fingerprint-compute", strcmp(a, b) != 0,
          "compute read the stored field");

    /* an older file (no vendor, family, model, stepping): its own
       fingerprint, the same every time, not this CPU's */
    cJSON *old =
        cJSON_Parse("{\"hostname\": \"vm\", \"cpu_model\": \"Intel(R) Xeon(R) Processor\", "
                    "\"packages\": 1, \"cores\": 2, \"pus\": 2, \"memory_bytes\": 8147644416, "
                    "\"caches\": [], \"isa_flags\": [\"avx2\", \"avx512f\"]}");
    cJSON *old2 = cJSON_Duplicate(old, 1);
    cJSON *live = results_machine();
    check("results/machine/fingerprint-old-file",
          same_fp(old, old2) && !same_fp(old, live) && !same_fp(old, amd),
          "an older file's fingerprint is unstable or matches another machine");
    /* the same CPU described before and after vendor/family/fingerprint
       existed (a reference commit of the gate writes the older form) */
    cJSON *newer = cJSON_Duplicate(old, 1);
    cJSON_AddStringToObject(newer, "vendor", "GenuineIntel");
    cJSON_AddNumberToObject(newer, "family", 6);
    cJSON_AddStringToObject(newer, "label", "intel-xeon-2c");
    char nfp[32];
    results_machine_fingerprint_compute(newer, nfp, sizeof nfp);
    cJSON_AddStringToObject(newer, "fingerprint", nfp);
    check("results/machine/same-across-formats",
          results_machine_same(old, newer) && results_machine_same(newer, old) &&
              !results_machine_same(old, amd) && !results_machine_same(newer, amd) &&
              results_machine_same(amd, again),
          "an older and a newer description of one CPU told apart, or two CPUs matched");
    cJSON_Delete(newer);
    char fp[32], computed[32];
    results_machine_fingerprint(live, fp, sizeof fp);
    results_machine_fingerprint_compute(live, computed, sizeof computed);
    check("results/machine/fingerprint-live",
          results_str(live, "fingerprint") && !strcmp(fp, computed) && results_str(live, "label"),
          "results_machine stores fingerprint %s (computed %s) and a label", fp, computed);

    char l[80];
    results_machine_default_label(amd, l, sizeof l);
    check("results/machine/label-amd", !strcmp(l, "amd-epyc-f25m1-2c"), "got '%s'", l);
    cJSON *intel = machine_of("GenuineIntel", "Intel(R) Xeon(R) Platinum 8480+ CPU @ 2.00GHz", 6,
                              143, 2, avx2, 8e9);
    results_machine_default_label(intel, l, sizeof l);
    check("results/machine/label-intel", !strcmp(l, "intel-xeon-platinum-8480-f6m143-2c"),
          "got '%s'", l);
    cJSON *epyc =
        machine_of("AuthenticAMD", "AMD EPYC 7763 64-Core Processor", 25, 1, 2, avx2, 8e9);
    results_machine_default_label(epyc, l, sizeof l);
    check("results/machine/label-core-count", !strcmp(l, "amd-epyc-7763-f25m1-2c"), "got '%s'", l);
    results_machine_default_label(old, l, sizeof l);
    check("results/machine/label-old-file", !strcmp(l, "intel-xeon-2c"), "got '%s'", l);
    const char *host = results_str(live, "hostname");
    results_machine_default_label(live, l, sizeof l);
    check("results/machine/label-not-hostname",
          host && strcmp(l, host) && results_label_check(l, NULL, 0) == 0,
          "derived label '%s' (host name %s)", l, host ? host : "?");

    static const char *const good[] = { "amd-epyc-f25m1-2c", "box_1.lab", "A", NULL };
    static const char *const bad[] = { "", "bad/name", "a b", ".hidden", "x;rm", "ü", NULL };
    int ok = 1;
    for (int i = 0; good[i]; i++) ok &= results_label_check(good[i], NULL, 0) == 0;
    for (int i = 0; bad[i]; i++) ok &= results_label_check(bad[i], NULL, 0) != 0;
    char longl[80];
    memset(longl, 'a', 65);
    longl[65] = 0;
    ok &= results_label_check(longl, NULL, 0) != 0;
    check("results/machine/label-check", ok, "a valid label refused or an invalid one accepted");

    /* CONVBENCH_MACHINE names the machine; the fingerprint stays the CPU's */
    const char *saved = getenv("CONVBENCH_MACHINE");
    char *keep = saved ? strdup(saved) : NULL;
    setenv("CONVBENCH_MACHINE", "lab-box.7", 1);
    cJSON *named = results_machine();
    results_machine_label(named, l, sizeof l);
    check("results/machine/label-env", !strcmp(l, "lab-box.7") && same_fp(named, live),
          "label '%s' with CONVBENCH_MACHINE=lab-box.7", l);
    char err[256];
    setenv("CONVBENCH_MACHINE", "no/slash", 1);
    check("results/machine/label-env-bad",
          results_set_machine_label(NULL, err, sizeof err) != 0 && strstr(err, "CONVBENCH_MACHINE"),
          "a bad CONVBENCH_MACHINE accepted (%s)", err);
    if (keep)
        setenv("CONVBENCH_MACHINE", keep, 1);
    else
        unsetenv("CONVBENCH_MACHINE");
    free(keep);
    cJSON *objs[] = { amd, again, model, flags, cores, step, old, old2, live, intel, epyc, named };
    for (size_t i = 0; i < sizeof objs / sizeof *objs; i++) cJSON_Delete(objs[i]);
}

/* A machine file whose machine is `m` with one AVX2/portable peak run. */
static cJSON *machine_doc(const cJSON *m, double gflops, int bandwidth)
{
    char *argv[] = { "tests" };
    cJSON *runs, *doc = results_new("machine", 1, argv, &runs);
    cJSON *ctx = cJSON_GetObjectItemCaseSensitive(doc, "context");
    cJSON_ReplaceItemInObjectCaseSensitive(ctx, "machine", cJSON_Duplicate(m, 1));
    cJSON *r = cJSON_CreateObject();
    cJSON_AddStringToObject(r, "type", "peak");
    cJSON_AddStringToObject(r, "isa", "portable");
    cJSON_AddNumberToObject(r, "threads", 1);
    cJSON_AddNumberToObject(r, "gflops", gflops);
    cJSON_AddItemToArray(runs, r);
    if (bandwidth) {
        r = cJSON_CreateObject();
        cJSON_AddStringToObject(r, "type", "bandwidth");
        cJSON_AddStringToObject(r, "level", "L1");
        cJSON_AddNumberToObject(r, "threads", 1);
        cJSON_AddNumberToObject(r, "bytes", 16384);
        cJSON_AddNumberToObject(r, "gbs", 100);
        cJSON_AddItemToArray(runs, r);
    }
    return doc;
}

/* Another machine's file under this machine's label is neither used for
   the peak nor replaced; this machine's own file is found by fingerprint. */
static void machine_files(const char *tmp)
{
    char dir[512], own[1024], other[1024], path[1024], out[4096], cmd[2048];
    snprintf(dir, sizeof dir, "%s/machines", tmp);
    mkdir(dir, 0777);
    cJSON *live = results_machine();
    char label[80], fp[32];
    results_machine_label(live, label, sizeof label);
    results_machine_fingerprint(live, fp, sizeof fp);
    snprintf(own, sizeof own, "%s/machine-%s.json", dir, label);

    /* the same label, another CPU */
    cJSON *m2 = cJSON_Duplicate(live, 1);
    cJSON_ReplaceItemInObjectCaseSensitive(m2, "cpu_model", cJSON_CreateString("Another CPU 9000"));
    char fp2[32];
    results_machine_fingerprint_compute(m2, fp2, sizeof fp2);
    cJSON_ReplaceItemInObjectCaseSensitive(m2, "fingerprint", cJSON_CreateString(fp2));
    cJSON *foreign = machine_doc(m2, 12345.0, 1);
    results_write(own, foreign, 0);
    char *before = slurp(own);

    int found = results_machine_file(dir, live, path, sizeof path);
    snprintf(other, sizeof other, "%s/machine-%s-%.8s.json", dir, label, fp);
    check("results/machine/file-not-other", !found && !strcmp(path, other),
          "found %d, path %s (want a new %s)", found, path, other);

    int from_file = 1;
    double g = results_peak_gflops_in(dir, ISA_PORTABLE, 1, &from_file);
    char *after = slurp(own);
    check("results/machine/peak-not-other", g > 0 && g != 12345.0 && !from_file,
          "peak %.1f from_file %d (the other machine's file says 12345)", g, from_file);
    check("results/machine/other-kept", before && after && !strcmp(before, after),
          "the other machine's file was changed");
    found = results_machine_file(dir, live, path, sizeof path);
    check("results/machine/peak-stored", found && !strcmp(path, other), "found %d at %s", found,
          path);
    double g2 = results_peak_gflops_in(dir, ISA_PORTABLE, 1, &from_file);
    /* cJSON prints 15 significant digits where they read back within an
       epsilon: the stored figure may differ from the measured in its last bit */
    check("results/machine/peak-from-own-file", from_file && fabs(g2 - g) <= 1e-12 * g,
          "%.3f then %.3f (from file %d)", g, g2, from_file);

    /* info: finds this machine's (complete) file, never writes over the other */
    cJSON *mine = machine_doc(live, g, 1);
    results_write(other, mine, 0);
    snprintf(cmd, sizeof cmd, "CONVBENCH_RESULTS_DIR='%s' convbench info --if-missing", dir);
    int rc = check_run(cmd, out, sizeof out);
    out[strcspn(out, "\n")] = 0;
    check("results/machine/info-if-missing", rc == 0 && !strcmp(out, other),
          "exit %d, printed '%s'", rc, out);
    snprintf(cmd, sizeof cmd, "CONVBENCH_RESULTS_DIR='%s' convbench info --print-path", dir);
    rc = check_run(cmd, out, sizeof out);
    out[strcspn(out, "\n")] = 0;
    check("results/machine/info-print-path", rc == 0 && !strcmp(out, other),
          "exit %d, printed '%s'", rc, out);
    snprintf(cmd, sizeof cmd, "convbench info --out '%s'", own);
    rc = check_run(cmd, out, sizeof out);
    free(after);
    after = slurp(own);
    check("results/machine/info-out-other",
          rc == 2 && strstr(out, "another machine") && after && !strcmp(before, after),
          "exit %d: %s", rc, out);
    snprintf(cmd, sizeof cmd, "convbench info --machine 'bad/name' --print-label");
    rc = check_run(cmd, out, sizeof out);
    check("results/machine/cli-label-bad", rc == 2 && strstr(out, "bad/name"), "exit %d: %s", rc,
          out);
    snprintf(cmd, sizeof cmd, "CONVBENCH_MACHINE='a b' convbench bench --quick");
    rc = check_run(cmd, out, sizeof out);
    check("results/machine/cli-env-bad", rc == 2 && strstr(out, "CONVBENCH_MACHINE"), "exit %d: %s",
          rc, out);
    snprintf(cmd, sizeof cmd, "convbench info --machine=lab-box.7 --print-label");
    rc = check_run(cmd, out, sizeof out);
    check("results/machine/cli-label", rc == 0 && !strcmp(out, "lab-box.7\n"), "exit %d: %s", rc,
          out);
    snprintf(cmd, sizeof cmd, "CONVBENCH_MACHINE=env-box convbench info --print-label");
    rc = check_run(cmd, out, sizeof out);
    check("results/machine/cli-env", rc == 0 && !strcmp(out, "env-box\n"), "exit %d: %s", rc, out);
    /* under a label the user chose, the file is still found by fingerprint */
    snprintf(cmd, sizeof cmd,
             "CONVBENCH_RESULTS_DIR='%s' convbench info --machine renamed --if-missing", dir);
    rc = check_run(cmd, out, sizeof out);
    out[strcspn(out, "\n")] = 0;
    check("results/machine/info-relabelled", rc == 0 && !strcmp(out, other),
          "exit %d, printed '%s'", rc, out);

    free(before);
    free(after);
    cJSON_Delete(mine);
    cJSON_Delete(foreign);
    cJSON_Delete(m2);
    cJSON_Delete(live);
}

/* The bandwidth run type in the validator, and the measurement itself. */
static void bandwidth_runs(void)
{
    char err[256];
    static const char *const runs[][2] = {
        { "{\"type\": \"bandwidth\", \"level\": \"L2\", \"threads\": 2, \"bytes\": 524288, "
          "\"gbs\": 150}",
          "" },
        { "{\"type\": \"bandwidth\", \"level\": \"L4\", \"threads\": 1, \"bytes\": 1, \"gbs\": 1}",
          "level" },
        { "{\"type\": \"bandwidth\", \"level\": \"L1\", \"threads\": 1, \"gbs\": 1}", "bytes" },
        { "{\"type\": \"bandwidth\", \"level\": \"memory\", \"threads\": 0, \"bytes\": 9, \"gbs\": "
          "1}",
          "range" },
    };
    for (size_t i = 0; i < sizeof runs / sizeof *runs; i++) {
        cJSON *doc = sample_doc(0);
        cJSON_AddItemToArray(cJSON_GetObjectItemCaseSensitive(doc, "runs"),
                             cJSON_Parse(runs[i][0]));
        int rc = results_validate(doc, err, sizeof err);
        char name[64];
        snprintf(name, sizeof name, "results/validate/bandwidth-%zu", i);
        check(name, *runs[i][1] ? rc != 0 && strstr(err, runs[i][1]) : rc == 0, "rc %d: %s", rc,
              rc ? err : "accepted");
        cJSON_Delete(doc);
    }
    cJSON *doc = sample_doc(0);
    cJSON *m = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(doc, "context"),
                                                "machine");
    cJSON_ReplaceItemInObjectCaseSensitive(m, "fingerprint", cJSON_CreateString("not-hex"));
    check("results/validate/fingerprint-form",
          results_validate(doc, err, sizeof err) != 0 && strstr(err, "fingerprint"),
          "a malformed fingerprint accepted");
    cJSON_Delete(doc);
    double l1 = peak_bandwidth_gbs(1, 16384, 3);
    check("results/bandwidth/l1", l1 > 1 && l1 < 10000, "L1 triad %.1f GB/s", l1);
}

/* The whole bench pipeline on one tiny case: bench_conv runs, its JSON
   becomes one valid conv run with every repetition. */
static void bench_pipeline(const char *dir)
{
    bench_opts o = { .shapes = { .sets = "seed" },
                     .backends = "naive",
                     .filter = "^seed/conv3/b32/naive/forward",
                     .threads = 1,
                     .repetitions = 3,
                     .min_time = 0.01,
                     .quiet = 1 };
    cJSON *runs;
    char *argv[] = { "tests" };
    cJSON *doc = results_new("bench", 1, argv, &runs);
    cJSON *skipped = cJSON_AddArrayToObject(doc, "skipped");
    int rc = bench_run(&o, runs, skipped);
    if (rc) {
        check("results/bench_run", 0, "bench_run failed (is bench_conv built?)");
        cJSON_Delete(doc);
        return;
    }
    char path[512], err[512];
    snprintf(path, sizeof path, "%s/bench.json", dir);
    results_write(path, doc, 0);
    cJSON *back = results_read(path, err, sizeof err);
    const cJSON *r =
        back ? cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(back, "runs"), 0) : NULL;
    check("results/bench_run",
          back && cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(back, "runs")) == 1 && r &&
              num(r, "repetitions") == 3 && num(r, "threads") == 1 &&
              !strcmp(cJSON_GetObjectItemCaseSensitive(r, "name")->valuestring,
                      "seed/conv3/b32/naive/forward") &&
              num(r, "gflops") > 0,
          "%s", back ? "run missing or wrong" : err);
    cJSON_Delete(back);
    cJSON_Delete(doc);
}

/* The timing fields, in the order and form files have always had them:
   conv runs with iterations, scale's training blocks without. */
static void timed_runs(void)
{
    const double t[3] = { 0.25, 0.5, 0.125 };
    const long iterations = 7;
    cJSON *conv = cJSON_CreateObject(), *train = cJSON_CreateObject();
    double m1 = timed_run_add(conv, t, 3, &iterations), m2 = timed_run_add(train, t, 3, NULL);
    char *a = cJSON_PrintUnformatted(conv), *b = cJSON_PrintUnformatted(train);
    check("results/timed-run",
          m1 == 0.25 && m2 == 0.25 && a && b &&
              !strcmp(a, "{\"repetitions\":3,\"iterations\":7,\"times_s\":[0.25,0.5,0.125],"
                         "\"median_s\":0.25,\"min_s\":0.125,\"max_s\":0.5}") &&
              !strcmp(b, "{\"repetitions\":3,\"times_s\":[0.25,0.5,0.125],"
                         "\"median_s\":0.25,\"min_s\":0.125,\"max_s\":0.5}"),
          "conv %s, train %s", a, b);
    free(a);
    free(b);
    cJSON_Delete(conv);
    cJSON_Delete(train);
}

/* A shape's appended members are recorded where they say more than the
   first nine; a dense shape's record is the nine alone. */
static void shape_fields(void)
{
    const conv_shape dense = { 2, 10, 10, 8, 8, 3, 3, 1, 1 };
    conv_shape dw = dense;
    dw.groups = 8;
    dw.pad_b = 1;
    cJSON *a = cJSON_CreateObject(), *b = cJSON_CreateObject();
    results_add_shape(a, &dense);
    results_add_shape(b, &dw);
    const cJSON *sa = cJSON_GetObjectItemCaseSensitive(a, "shape");
    const cJSON *sb = cJSON_GetObjectItemCaseSensitive(b, "shape");
    check("results/shape/dense", cJSON_GetArraySize(sa) == 9, "%d fields", cJSON_GetArraySize(sa));
    const cJSON *g = cJSON_GetObjectItemCaseSensitive(sb, "groups");
    const cJSON *pb = cJSON_GetObjectItemCaseSensitive(sb, "pad_b");
    check("results/shape/grouped",
          cJSON_GetArraySize(sb) == 11 && cJSON_IsNumber(g) && g->valueint == 8 &&
              cJSON_IsNumber(pb) && pb->valueint == 1,
          "%d fields, groups %d, pad_b %d", cJSON_GetArraySize(sb), g ? g->valueint : -1,
          pb ? pb->valueint : -1);
    cJSON_Delete(a);
    cJSON_Delete(b);
}

void test_results(void)
{
    if (!check_selected("results")) return;
    const char *dir = check_tmpdir();
    round_trip(dir);
    failed_writes(dir);
    baseline(dir);
    bad_files(dir);
    case_names();
    machine_matches_system();
    fingerprints();
    machine_files(dir);
    bandwidth_runs();
    timed_runs();
    bench_pipeline(dir);
    shape_fields();
}
