/* convbench info: the machine (CPU identity, hwloc topology, ISA), the
   build, library versions, and measured ceilings — fp32 FMA peak at each
   ISA and bandwidth at each cache level and memory, on one core and on all
   cores. Printed, and stored as results/machine-<label>.json (kind
   "machine"), which bench_conv and convbench bench read for "% of peak" when
   its fingerprint is the running CPU's. A file of another machine is never
   replaced: a name that does not collide is used instead, and said. The
   runs are type "peak" {isa, threads, gflops}, "bandwidth" {level, threads,
   bytes, gbs} and "triad" {threads, mib, gbs} (the memory level again, for
   older readers); "versions" {onednn, openblas, hwloc, benchmark} is an
   extra top-level object. */
#include <dnnl.h>
#include <hwloc.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cli.h"
#include "commands.h"
#include "cpu.h"
#include "noshell.h"
#include "peak.h"
#include "results.h"
#include "scale.h"

/* OpenBLAS's own API; not in the generic cblas.h */
char *openblas_get_config(void);
char *openblas_get_corename(void);

#define TRIAD_MIB 256 /* per array: 3 x 256 MiB, beyond the caches of most machines */
#define REPS      5
#define CMD       "info"

static cJSON *versions(void)
{
    cJSON *v = cJSON_CreateObject();
    char buf[512];
    const dnnl_version_t *d = dnnl_version();
    snprintf(buf, sizeof buf, "%d.%d.%d (%s, cpu runtime %s)", d->major, d->minor, d->patch,
             d->hash ? d->hash : "no hash",
             d->cpu_runtime == DNNL_RUNTIME_OMP   ? "OpenMP"
             : d->cpu_runtime == DNNL_RUNTIME_SEQ ? "sequential"
             : d->cpu_runtime == DNNL_RUNTIME_TBB ? "TBB"
                                                  : "other");
    cJSON_AddStringToObject(v, "onednn", buf);
    const char *ob = openblas_get_config(), *core = openblas_get_corename();
    snprintf(buf, sizeof buf, "%s (kernels for %s)", ob ? ob : "unknown", core ? core : "?");
    cJSON_AddStringToObject(v, "openblas", buf);
    unsigned h = hwloc_get_api_version();
    snprintf(buf, sizeof buf, "%u.%u.%u (headers %u.%u.%u)", h >> 16, h >> 8 & 0xff, h & 0xff,
             HWLOC_API_VERSION >> 16, HWLOC_API_VERSION >> 8 & 0xff, HWLOC_API_VERSION & 0xff);
    cJSON_AddStringToObject(v, "hwloc", buf);
    /* Google Benchmark has no version call; Debian's package states it. */
    char *dpkg[] = { "dpkg-query", "-W", "-f=${Version}", "libbenchmark-dev", NULL };
    if (run_program(dpkg, NULL, 0, buf, sizeof buf)) buf[0] = 0;
    buf[strcspn(buf, "\n")] = 0;
    cJSON_AddStringToObject(v, "benchmark", buf[0] ? buf : "unknown");
    return v;
}

static const char *str(const cJSON *o, const char *k)
{
    const char *v = results_str(o, k);
    return v ? v : "?";
}

static void print_size(double bytes)
{
    if (bytes >= 1 << 30)
        printf("%.1f GiB", bytes / (1 << 30));
    else if (bytes >= 1 << 20)
        printf("%.1f MiB", bytes / (1 << 20));
    else
        printf("%.0f KiB", bytes / 1024);
}

/* 1 if doc (a machine file) was written by info: it has bandwidth runs,
   which a benchmark's own peak measurement does not add. */
static int complete(const cJSON *doc)
{
    const cJSON *r;
    cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(doc, "runs"))
    {
        const char *t = results_str(r, "type");
        if (t && !strcmp(t, "bandwidth")) return 1;
    }
    return 0;
}

/* Working set (all threads) for bandwidth at cache level `level` on
   `threads` threads: half of each thread's share of that cache (a cache
   shared by several cores is split among them), so it fits the level and
   not the one below. 0 if the machine has no such data cache. */
static size_t level_bytes(const cJSON *m, int level, int threads)
{
    const cJSON *c;
    double cores = results_num(m, "cores");
    if (!(cores >= 1)) cores = 1;
    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(m, "caches"))
    {
        const char *type = results_str(c, "type");
        if (results_num(c, "level") != level || !type || !strcmp(type, "instruction")) continue;
        double count = results_num(c, "count"), size = results_num(c, "size_bytes");
        if (!(size > 0)) return 0;
        double share = size * (count >= 1 ? count : 1) / cores;
        if (share > size) share = size;
        return (size_t)(share / 2) * (size_t)threads;
    }
    return 0;
}

static void add_bandwidth(cJSON *runs, const char *level, int threads, size_t bytes, double gbs)
{
    cJSON *r = cJSON_CreateObject();
    cJSON_AddStringToObject(r, "type", "bandwidth");
    cJSON_AddStringToObject(r, "level", level);
    cJSON_AddNumberToObject(r, "threads", threads);
    cJSON_AddNumberToObject(r, "bytes", (double)bytes);
    cJSON_AddNumberToObject(r, "gbs", gbs);
    cJSON_AddItemToArray(runs, r);
}

static void usage(const char *out)
{
    printf("usage: convbench info [--machine NAME] [--out FILE] [--if-missing]\n"
           "                      [--print-label] [--print-path] [--print-machine]\n"
           "Prints the machine (CPU identity, hwloc topology, ISA), the build, library\n"
           "versions, the measured fp32 FMA peak (AVX-512, AVX2, scalar) and the triad\n"
           "bandwidth at each cache level and memory, on one core and on all cores, and\n"
           "stores them in FILE (default %s).\n"
           "Machine files are found by the CPU's fingerprint, named by its label; another\n"
           "machine's file is never replaced.\n"
           "  --machine NAME  the label (letters, digits, '-', '_', '.'); default\n"
           "                  $CONVBENCH_MACHINE, else derived from the CPU\n"
           "  --if-missing    if this machine's file exists, print its path and stop\n"
           "  --print-label   print this machine's label and stop\n"
           "  --print-path    print this machine's file (exit 1 if there is none) and stop\n"
           "  --print-machine print the machine as results files record it (context.machine,\n"
           "                  JSON) and stop: the one description other writers embed\n",
           out);
}

int cmd_info(int argc, char **argv)
{
    static const struct option opts[] = {
        { "out", required_argument, 0, 'o' },
        { "if-missing", no_argument, 0, 'i' },
        { "print-label", no_argument, 0, 'l' },
        { "print-path", no_argument, 0, 'p' },
        { "print-machine", no_argument, 0, 'm' },
        { "help", no_argument, 0, 'h' },
        { 0, 0, 0, 0 },
    };
    const char *out_opt = NULL;
    int if_missing = 0, print_label = 0, print_path = 0, print_machine = 0, o;
    char err[512];
    optind = 1;
    while ((o = cli_getopt(CMD, argc, argv, "o:", opts)) != -1) {
        switch (o) {
        case 'o': out_opt = optarg; break;
        case 'i': if_missing = 1; break;
        case 'l': print_label = 1; break;
        case 'p': print_path = 1; break;
        case 'm': print_machine = 1; break;
        case 'h': {
            char def[512];
            results_machine_path(def, sizeof def);
            usage(def);
            return 0;
        }
        default: return 2;
        }
    }
    if (cli_no_arguments(CMD, argc, argv)) return 2;
    if (results_set_machine_label(NULL, err, sizeof err)) {
        cli_error(CMD, "%s", err);
        return 2;
    }

    cJSON *runs;
    cJSON *doc = results_new("machine", argc, argv, &runs);
    const cJSON *ctx = cJSON_GetObjectItemCaseSensitive(doc, "context");
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(ctx, "machine");
    const cJSON *b = cJSON_GetObjectItemCaseSensitive(ctx, "build");
    if (print_label || print_machine) {
        char *text = print_machine ? cJSON_Print(m) : NULL;
        printf("%s\n", print_machine ? (text ? text : "null") : str(m, "label"));
        free(text);
        cJSON_Delete(doc);
        return 0;
    }
    char own[PATH_MAX], out[PATH_MAX];
    int found = results_machine_file(results_dir(), m, own, sizeof own);
    if (print_path || (if_missing && found)) {
        cJSON *have = found ? results_read(own, err, sizeof err) : NULL;
        int done = have && (print_path || complete(have));
        cJSON_Delete(have);
        if (done || print_path) {
            if (found) printf("%s\n", own);
            cJSON_Delete(doc);
            return found ? 0 : 1;
        }
    }
    if (out_opt) {
        /* an explicit FILE is the user's choice, but still not another machine's */
        snprintf(out, sizeof out, "%s", out_opt);
        cJSON *there = access(out, F_OK) == 0 ? results_read(out, err, sizeof err) : NULL;
        if (there) {
            char fa[RESULTS_FINGERPRINT_LEN + 1], fb[RESULTS_FINGERPRINT_LEN + 1];
            const cJSON *tm = cJSON_GetObjectItemCaseSensitive(
                cJSON_GetObjectItemCaseSensitive(there, "context"), "machine");
            results_machine_fingerprint(tm, fa, sizeof fa);
            results_machine_fingerprint(m, fb, sizeof fb);
            if (strcmp(fa, fb)) {
                char lb[RESULTS_LABEL_MAX + 1];
                results_machine_label(tm, lb, sizeof lb);
                cli_error(CMD,
                          "%s describes another machine (%s, fingerprint %s; this one is %s); "
                          "not replacing it",
                          out, lb, fa, fb);
                cJSON_Delete(there);
                cJSON_Delete(doc);
                return 2;
            }
            cJSON_Delete(there);
        }
    } else {
        snprintf(out, sizeof out, "%s", own);
    }
    if (results_check_path(out, 1, err, sizeof err)) { /* before the measurements */
        cli_error(CMD, "--out: %s", err);
        cJSON_Delete(doc);
        return 2;
    }

    printf("machine     %s: %s", str(m, "label"), str(m, "cpu_model"));
    if (results_str(m, "vendor"))
        printf(" (%s family %.0f model %.0f stepping %.0f)", str(m, "vendor"),
               results_num(m, "family"), results_num(m, "model"), results_num(m, "stepping"));
    printf("\n");
    printf("fingerprint %s (host name %s)\n", str(m, "fingerprint"), str(m, "hostname"));
    printf("topology    %.0f package(s), %.0f core(s), %.0f PU(s), %.0f NUMA node(s), ",
           results_num(m, "packages"), results_num(m, "cores"), results_num(m, "pus"),
           results_num(m, "numa_nodes"));
    print_size(results_num(m, "memory_bytes"));
    printf(" memory\n");
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(m, "caches"))
    {
        printf("cache       L%.0f %-11s ", results_num(c, "level"), str(c, "type"));
        print_size(results_num(c, "size_bytes"));
        printf(" x %.0f, %.0f-byte lines, %.0f-way\n", results_num(c, "count"),
               results_num(c, "line_bytes"), results_num(c, "associativity"));
    }
    printf("ISA flags  ");
    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(m, "isa_flags"))
        printf(" %s", c->valuestring);
    printf("\nISA used    %s (CPU supports %s; CONVBENCH_ISA lowers it)\n", str(ctx, "isa"),
           str(ctx, "isa_supported"));
    printf("compiler    %s %s%s%s\n", str(b, "compiler"), str(b, "cflags"),
           cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(b, "portable")) ? " [PORTABLE]" : "",
           cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(b, "sanitize")) ? " [SANITIZE]" : "");
    printf("git         %s%s\n", str(ctx, "git_commit"),
           cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(ctx, "git_dirty")) ? " (modified)" : "");
    cJSON *v = versions();
    cJSON_AddItemToObject(doc, "versions", v);
    printf("oneDNN      %s\nOpenBLAS    %s\nhwloc       %s\nbenchmark   %s\n", str(v, "onednn"),
           str(v, "openblas"), str(v, "hwloc"), str(v, "benchmark"));
    fflush(stdout);

    int cores = scale_cores(), tcount = cores > 1 ? 2 : 1;
    const int threads[2] = { 1, cores };
    printf("fp32 FMA peak (GFLOP/s, best of %d):\n", REPS);
    int busy = 0;
    for (int isa = cpu_isa_supported(); isa >= ISA_PORTABLE; isa--) {
        printf("    %-9s", cpu_isa_name((cpu_isa)isa));
        double one = 0;
        for (int i = 0; i < tcount; i++) {
            double g = peak_fma_gflops((cpu_isa)isa, threads[i], REPS);
            /* cores scale ~linearly on this loop: much less means neighbours */
            if (i == 0)
                one = g;
            else if (g < 0.75 * one * threads[i])
                busy = 1;
            printf("  %2d thread%s %8.1f", threads[i], threads[i] > 1 ? "s" : " ", g);
            fflush(stdout);
            cJSON *r = cJSON_CreateObject();
            cJSON_AddStringToObject(r, "type", "peak");
            cJSON_AddStringToObject(r, "isa", cpu_isa_name((cpu_isa)isa));
            cJSON_AddNumberToObject(r, "threads", threads[i]);
            cJSON_AddNumberToObject(r, "gflops", g);
            cJSON_AddItemToArray(runs, r);
        }
        printf("\n");
    }

    if (busy)
        printf("warning: the all-core peak is under 75%% of %d x the one-core peak: other\n"
               "         programs are running; run convbench info again on an idle machine\n",
               cores);
    /* memory: past every cache (4x the largest, at least 3 x TRIAD_MIB) */
    size_t mem_bytes = (size_t)3 * TRIAD_MIB << 20;
    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(m, "caches"))
    {
        double all = results_num(c, "size_bytes") * results_num(c, "count");
        if (all * 4 > (double)mem_bytes) mem_bytes = (size_t)(all * 4);
    }
    printf("triad bandwidth (GB/s, a = b + s*c, working set of all threads, best of %d):\n", REPS);
    static const char *const levels[] = { "L1", "L2", "L3", "memory" };
    for (int l = 0; l < 4; l++) {
        if (l < 3 && !level_bytes(m, l + 1, 1)) continue;
        printf("    %-7s", levels[l]);
        for (int i = 0; i < tcount; i++) {
            size_t bytes = l < 3 ? level_bytes(m, l + 1, threads[i]) : mem_bytes;
            double g = peak_bandwidth_gbs(threads[i], bytes, REPS);
            printf("  %2d thread%s ", threads[i], threads[i] > 1 ? "s" : " ");
            print_size((double)bytes);
            printf(" %8.1f", g);
            fflush(stdout);
            add_bandwidth(runs, levels[l], threads[i], bytes, g);
            if (l == 3) { /* the same figure as the older "triad" run */
                cJSON *r = cJSON_CreateObject();
                cJSON_AddStringToObject(r, "type", "triad");
                cJSON_AddNumberToObject(r, "threads", threads[i]);
                cJSON_AddNumberToObject(r, "mib", (double)(bytes / 3 >> 20));
                cJSON_AddNumberToObject(r, "gbs", g);
                cJSON_AddItemToArray(runs, r);
            }
        }
        printf("\n");
    }
    if (!out_opt && !found) {
        /* say so when this machine's natural name holds another machine's file */
        char natural[PATH_MAX];
        snprintf(natural, sizeof natural, "%s/machine-%s.json", results_dir(), str(m, "label"));
        if (strcmp(natural, out))
            printf("%s holds another machine's file (another fingerprint); not replacing it\n",
                   natural);
    }
    int rc = results_write(out, doc, 0);
    if (rc == 0) printf("written to %s\n", out);
    cJSON_Delete(doc);
    return rc ? 1 : 0;
}
