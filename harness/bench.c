/* The benchmark suite as a library call (see bench.h): runs build/bench_conv
   — the one measurement implementation, Google Benchmark — with the chosen
   sets, backends, thread count and repetitions, keeps every repetition's
   time from its JSON as a "conv" run (results.c), lists the cases a backend
   refused, and prints the GFLOP/s table. Used by convbench bench and
   convbench scale. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "bench.h"
#include "cli.h"
#include "results.h"
#include "shape_sets.h"

/* build/bench_conv, next to this executable. */
static int bench_conv_path(char *buf, size_t len)
{
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0) return -1;
    self[n] = 0;
    char *slash = strrchr(self, '/');
    if (!slash) return -1;
    *slash = 0;
    if (snprintf(buf, len, "%s/bench_conv", self) >= (int)len) return -1;
    return access(buf, X_OK);
}

/* Whether a line of Google Benchmark's console output is worth showing:
   with repetitions it prints mean, median, stddev and cv per case; the
   median line (with its counters) is the progress line. */
static int show_line(const char *line, int reps)
{
    if (reps <= 1) return 1;
    return !strstr(line, "_mean ") && !strstr(line, "_stddev ") && !strstr(line, "_cv ");
}

static double seconds(double v, const char *unit)
{
    if (!unit) return v;
    if (!strcmp(unit, "ns")) return v * 1e-9;
    if (!strcmp(unit, "us")) return v * 1e-6;
    if (!strcmp(unit, "ms")) return v * 1e-3;
    return v;
}

static const char *gstr(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* Google Benchmark's JSON -> results runs. */
static int convert(const char *cmd, const char *json_path, int threads, cJSON *runs, cJSON *skipped)
{
    FILE *f = fopen(json_path, "rb");
    if (!f) {
        cli_error(cmd, "bench_conv wrote no JSON (%s)", strerror(errno));
        return -1;
    }
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *text = len > 0 ? malloc((size_t)len + 1) : NULL;
    size_t got = text ? fread(text, 1, (size_t)len, f) : 0;
    fclose(f);
    cJSON *gb = NULL;
    if (text) {
        text[got] = 0;
        gb = cJSON_Parse(text);
    }
    free(text);
    if (!gb) {
        cli_error(cmd, "bench_conv's JSON is empty or malformed");
        return -1;
    }
    const cJSON *ctx = cJSON_GetObjectItemCaseSensitive(gb, "context");
    const char *peak_s = gstr(ctx, "convbench_peak_gflops");
    double peak = peak_s ? atof(peak_s) : 0;

    const cJSON *all = cJSON_GetObjectItemCaseSensitive(gb, "benchmarks");
    int n = cJSON_GetArraySize(all);
    char *done = calloc((size_t)n + 1, 1);
    double *times = malloc(sizeof(double) * ((size_t)n + 1));
    int i = 0;
    const cJSON *b;
    cJSON_ArrayForEach(b, all)
    {
        int first = i++;
        const char *run_name = gstr(b, "run_name"), *type = gstr(b, "run_type");
        if (done[first] || !run_name || !type || strcmp(type, "iteration")) continue;
        char name[256];
        snprintf(name, sizeof name, "%s", run_name);
        char *suffix = strstr(name, "/real_time");
        if (suffix && !suffix[10]) *suffix = 0;
        const bench_layer *l;
        char backend[64];
        conv_pass pass;
        if (shapes_parse_case_name(name, &l, backend, sizeof backend, &pass)) {
            cli_error(cmd, "ignoring unknown case '%s'", run_name);
            continue;
        }
        /* this case's repetitions: the entries with the same run_name */
        int reps = 0, error = 0;
        long iterations = 0;
        const char *impl = NULL, *why = NULL;
        int j = 0;
        const cJSON *c;
        cJSON_ArrayForEach(c, all)
        {
            int idx = j++;
            if (idx < first || done[idx]) continue;
            const char *rn = gstr(c, "run_name"), *rt = gstr(c, "run_type");
            if (!rn || !rt || strcmp(rn, run_name) || strcmp(rt, "iteration")) continue;
            done[idx] = 1;
            if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c, "error_occurred"))) {
                error = 1;
                why = gstr(c, "error_message");
                continue;
            }
            const cJSON *rt_v = cJSON_GetObjectItemCaseSensitive(c, "real_time");
            if (!cJSON_IsNumber(rt_v) || !(rt_v->valuedouble > 0)) continue;
            times[reps++] = seconds(rt_v->valuedouble, gstr(c, "time_unit"));
            const cJSON *it = cJSON_GetObjectItemCaseSensitive(c, "iterations");
            if (!iterations && cJSON_IsNumber(it)) iterations = (long)it->valuedouble;
            if (!impl) impl = gstr(c, "label");
        }
        if (error || reps == 0) {
            if (skipped) {
                cJSON *s = cJSON_CreateObject();
                cJSON_AddStringToObject(s, "name", name);
                cJSON_AddStringToObject(s, "set", l->set);
                cJSON_AddStringToObject(s, "layer", l->layer);
                cJSON_AddStringToObject(s, "backend", backend);
                cJSON_AddStringToObject(s, "pass", conv_pass_name(pass));
                cJSON_AddStringToObject(s, "reason", why ? why : "no timing");
                cJSON_AddItemToArray(skipped, s);
            }
            continue;
        }
        cJSON_AddItemToArray(runs, results_conv_run(name, l->set, l->layer, backend, pass,
                                                    &l->shape, threads, times, reps, iterations,
                                                    peak, impl && *impl ? impl : NULL));
    }
    free(done);
    free(times);
    cJSON_Delete(gb);
    return 0;
}

int bench_run(const bench_opts *o, cJSON *runs, cJSON *skipped)
{
    const char *cmd = o->cmd ? o->cmd : "bench";
    char exe[PATH_MAX];
    if (bench_conv_path(exe, sizeof exe)) {
        cli_error(cmd, "cannot find bench_conv next to convbench (run make)");
        return -1;
    }
    const char *tmpdir = getenv("TMPDIR");
    char json[PATH_MAX];
    snprintf(json, sizeof json, "%s/convbench-gb-XXXXXX", tmpdir && *tmpdir ? tmpdir : "/tmp");
    int jfd = mkstemp(json);
    if (jfd < 0) {
        cli_error(cmd, "cannot make a temporary file: %s", strerror(errno));
        return -1;
    }
    close(jfd);

    char a_set[256], a_be[512], a_filter[512], a_reps[64], a_min[64], a_out[PATH_MAX + 32];
    snprintf(a_set, sizeof a_set, "--set=%s", o->sets ? o->sets : "all");
    snprintf(a_reps, sizeof a_reps, "--benchmark_repetitions=%d", o->repetitions);
    snprintf(a_min, sizeof a_min, "--benchmark_min_time=%g", o->min_time);
    snprintf(a_out, sizeof a_out, "--benchmark_out=%s", json);
    char *args[16];
    int na = 0;
    args[na++] = exe;
    args[na++] = a_set;
    if (o->backends) {
        snprintf(a_be, sizeof a_be, "--backends=%s", o->backends);
        args[na++] = a_be;
    }
    if (o->filter) {
        snprintf(a_filter, sizeof a_filter, "--benchmark_filter=%s", o->filter);
        args[na++] = a_filter;
    }
    if (o->bind) args[na++] = "--bind";
    if (o->interleave) args[na++] = "--benchmark_enable_random_interleaving=true";
    args[na++] = a_reps;
    args[na++] = a_min;
    args[na++] = a_out;
    args[na++] = "--benchmark_out_format=json";
    args[na++] = "--benchmark_display_aggregates_only=true";
    args[na] = NULL;

    int pfd[2];
    if (pipe(pfd)) {
        cli_error(cmd, "pipe: %s", strerror(errno));
        unlink(json);
        return -1;
    }
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        cli_error(cmd, "fork: %s", strerror(errno));
        close(pfd[0]);
        close(pfd[1]);
        unlink(json);
        return -1;
    }
    if (pid == 0) {
        if (o->threads > 0) {
            char t[16];
            snprintf(t, sizeof t, "%d", o->threads);
            setenv("OMP_NUM_THREADS", t, 1);
        }
        dup2(pfd[1], STDOUT_FILENO);
        if (o->quiet) { /* Google Benchmark prints its context on stderr */
            int null = open("/dev/null", O_WRONLY);
            if (null >= 0) dup2(null, STDERR_FILENO);
        }
        close(pfd[0]);
        close(pfd[1]);
        execv(exe, args);
        cli_error(cmd, "cannot run %s: %s", exe, strerror(errno));
        _exit(127);
    }
    close(pfd[1]);
    FILE *child = fdopen(pfd[0], "r");
    char *line = NULL;
    size_t cap = 0;
    while (child && getline(&line, &cap, child) > 0)
        if (!o->quiet && show_line(line, o->repetitions)) {
            fputs(line, stdout);
            fflush(stdout);
        }
    free(line);
    if (child) fclose(child);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
    if (!WIFEXITED(status) || WEXITSTATUS(status)) {
        cli_error(cmd, "bench_conv failed (%s %d)", WIFEXITED(status) ? "exit status" : "signal",
                  WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
        unlink(json);
        return -1;
    }
    int threads = o->threads > 0 ? o->threads : omp_get_max_threads();
    int rc = convert(cmd, json, threads, runs, skipped);
    unlink(json);
    return rc;
}

/* ---- summary table ---------------------------------------------------- */

static const char *rstr(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) ? v->valuestring : "";
}

/* "set/layer/bN pass" of a run. */
static void row_key(const cJSON *r, char *buf, size_t len)
{
    const cJSON *sh = cJSON_GetObjectItemCaseSensitive(r, "shape");
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(sh, "n");
    snprintf(buf, len, "%s/%s/b%d %s", rstr(r, "set"), rstr(r, "layer"),
             cJSON_IsNumber(n) ? n->valueint : 0, rstr(r, "pass"));
}

void bench_print_table(const cJSON *runs)
{
    int n = cJSON_GetArraySize(runs);
    if (n == 0) return;
    const char **cols = calloc((size_t)n, sizeof *cols);
    int ncol = 0;
    const cJSON *r;
    cJSON_ArrayForEach(r, runs)
    {
        const char *b = rstr(r, "backend");
        int k = 0;
        while (k < ncol && strcmp(cols[k], b)) k++;
        if (k == ncol) cols[ncol++] = b;
    }
    const cJSON *first = cJSON_GetArrayItem(runs, 0);
    printf("\nGFLOP/s (direct-convolution FLOPs / median time), %d threads; '-' = not run\n",
           cJSON_GetObjectItemCaseSensitive(first, "threads")->valueint);
    printf("%-34s", "layer pass");
    for (int k = 0; k < ncol; k++) printf(" %15.15s", cols[k]);
    printf("\n");
    char *seen = calloc((size_t)n, 1);
    int i = 0;
    cJSON_ArrayForEach(r, runs)
    {
        if (seen[i++]) continue;
        char key[160], other[160];
        row_key(r, key, sizeof key);
        printf("%-34s", key);
        for (int k = 0; k < ncol; k++) {
            const cJSON *x, *hit = NULL;
            int j = 0;
            cJSON_ArrayForEach(x, runs)
            {
                int idx = j++;
                if (seen[idx] && x != r) continue;
                row_key(x, other, sizeof other);
                if (strcmp(key, other) || strcmp(rstr(x, "backend"), cols[k])) continue;
                seen[idx] = 1;
                hit = x;
                break;
            }
            if (hit)
                printf(" %15.1f", cJSON_GetObjectItemCaseSensitive(hit, "gflops")->valuedouble);
            else
                printf(" %15s", "-");
        }
        printf("\n");
    }
    free(seen);
    free(cols);
}
