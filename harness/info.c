/* convbench info: the machine (hwloc topology, CPU model, ISA), the build,
   library versions, and measured ceilings — fp32 FMA peak at each ISA on
   one core and on all cores, and triad bandwidth. Printed, and stored as
   results/machine-<hostname>.json (kind "machine"), which bench_conv and
   convbench bench read for "% of peak". The file's runs are type "peak"
   {isa, threads, gflops} and "triad" {threads, mib, gbs}; "versions"
   {onednn, openblas, hwloc, benchmark} is an extra top-level object. */
#include <dnnl.h>
#include <getopt.h>
#include <hwloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "commands.h"
#include "cpu.h"
#include "peak.h"
#include "results.h"
#include "scale.h"

/* OpenBLAS's own API; not in the generic cblas.h */
char *openblas_get_config(void);
char *openblas_get_corename(void);

#define TRIAD_MIB 256   /* per array: 3 x 256 MiB, far beyond any cache here */

static cJSON *versions(void)
{
    cJSON *v = cJSON_CreateObject();
    char buf[512];
    const dnnl_version_t *d = dnnl_version();
    snprintf(buf, sizeof buf, "%d.%d.%d (%s, cpu runtime %s)", d->major, d->minor, d->patch,
             d->hash ? d->hash : "no hash",
             d->cpu_runtime == DNNL_RUNTIME_OMP ? "OpenMP"
             : d->cpu_runtime == DNNL_RUNTIME_SEQ ? "sequential"
             : d->cpu_runtime == DNNL_RUNTIME_TBB ? "TBB" : "other");
    cJSON_AddStringToObject(v, "onednn", buf);
    const char *ob = openblas_get_config(), *core = openblas_get_corename();
    snprintf(buf, sizeof buf, "%s (kernels for %s)", ob ? ob : "unknown", core ? core : "?");
    cJSON_AddStringToObject(v, "openblas", buf);
    unsigned h = hwloc_get_api_version();
    snprintf(buf, sizeof buf, "%u.%u.%u (headers %u.%u.%u)", h >> 16, h >> 8 & 0xff, h & 0xff,
             HWLOC_API_VERSION >> 16, HWLOC_API_VERSION >> 8 & 0xff, HWLOC_API_VERSION & 0xff);
    cJSON_AddStringToObject(v, "hwloc", buf);
    /* Google Benchmark has no version call; Debian's package states it. */
    FILE *p = popen("dpkg-query -W -f='${Version}' libbenchmark-dev 2>/dev/null", "r");
    buf[0] = 0;
    if (p) {
        if (!fgets(buf, sizeof buf, p)) buf[0] = 0;
        pclose(p);
    }
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
    if (bytes >= 1 << 30) printf("%.1f GiB", bytes / (1 << 30));
    else if (bytes >= 1 << 20) printf("%.1f MiB", bytes / (1 << 20));
    else printf("%.0f KiB", bytes / 1024);
}

int cmd_info(int argc, char **argv)
{
    static const struct option opts[] = {
        { "out", required_argument, 0, 'o' },
        { "help", no_argument, 0, 'h' },
        { 0, 0, 0, 0 },
    };
    char out[512];
    results_machine_path(out, sizeof out);
    int o;
    optind = 1;
    while ((o = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
        if (o == 'o') {
            snprintf(out, sizeof out, "%s", optarg);
        } else if (o == 'h') {
            printf("usage: convbench info [--out FILE]\n"
                   "Prints the machine (hwloc topology, CPU, ISA), the build, library versions\n"
                   "and the measured fp32 FMA peak (AVX-512, AVX2, scalar; one core and all\n"
                   "cores) and triad bandwidth, and stores them in FILE (default %s).\n", out);
            return 0;
        } else {
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "convbench info: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }

    cJSON *runs;
    cJSON *doc = results_new("machine", argc, argv, &runs);
    const cJSON *ctx = cJSON_GetObjectItemCaseSensitive(doc, "context");
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(ctx, "machine");
    const cJSON *b = cJSON_GetObjectItemCaseSensitive(ctx, "build");
    printf("machine     %s: %s\n", str(m, "hostname"), str(m, "cpu_model"));
    printf("topology    %.0f package(s), %.0f core(s), %.0f PU(s), %.0f NUMA node(s), ",
           results_num(m, "packages"), results_num(m, "cores"), results_num(m, "pus"), results_num(m, "numa_nodes"));
    print_size(results_num(m, "memory_bytes"));
    printf(" memory\n");
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(m, "caches")) {
        printf("cache       L%.0f %-11s ", results_num(c, "level"), str(c, "type"));
        print_size(results_num(c, "size_bytes"));
        printf(" x %.0f, %.0f-byte lines, %.0f-way\n", results_num(c, "count"), results_num(c, "line_bytes"),
               results_num(c, "associativity"));
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
    printf("fp32 FMA peak (GFLOP/s, median of 5):\n");
    for (int isa = cpu_isa_supported(); isa >= ISA_PORTABLE; isa--) {
        printf("    %-9s", cpu_isa_name((cpu_isa)isa));
        for (int i = 0; i < tcount; i++) {
            double g = peak_fma_gflops((cpu_isa)isa, threads[i], 5);
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
    printf("triad bandwidth (GB/s, 3 x %d MiB arrays, median of 5):\n    %-9s", TRIAD_MIB, "");
    for (int i = 0; i < tcount; i++) {
        double g = peak_triad_gbs(threads[i], TRIAD_MIB, 5);
        printf("  %2d thread%s %8.1f", threads[i], threads[i] > 1 ? "s" : " ", g);
        fflush(stdout);
        cJSON *r = cJSON_CreateObject();
        cJSON_AddStringToObject(r, "type", "triad");
        cJSON_AddNumberToObject(r, "threads", threads[i]);
        cJSON_AddNumberToObject(r, "mib", TRIAD_MIB);
        cJSON_AddNumberToObject(r, "gbs", g);
        cJSON_AddItemToArray(runs, r);
    }
    printf("\n");
    int rc = results_write(out, doc, 0);
    if (rc == 0) printf("written to %s\n", out);
    cJSON_Delete(doc);
    return rc ? 1 : 0;
}
