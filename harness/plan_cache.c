/* The plan cache: the `auto` choice saved as a results file (kind
   "plan-cache") and loaded again only on the same machine (fingerprint),
   ISA, thread count, network, batch and build of convbench. */
#include <limits.h>
#include <omp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "cpu.h"
#include "error.h"
#include "hash.h"
#include "plan_cache.h"
#include "results.h"

static void hash_hex(const net *nt, char *buf, size_t len)
{
    snprintf(buf, len, "%016llx", (unsigned long long)nt->spec_hash);
}

/* The running program's FNV-1a hash: a choice timed with other kernels
   (any rebuild, a dirty tree included) is searched again. "" if unreadable. */
static void build_id(char *buf, size_t len)
{
    buf[0] = 0;
    FILE *f = fopen("/proc/self/exe", "rb");
    if (!f) return;
    unsigned char chunk[1 << 16];
    uint64_t h = FNV1A_INIT;
    size_t got;
    while ((got = fread(chunk, 1, sizeof chunk, f)) > 0) h = fnv1a(h, chunk, got);
    if (!ferror(f)) snprintf(buf, len, "%016llx", (unsigned long long)h);
    fclose(f);
}

void plan_cache_runs(const net *nt, const autotune_layer *t, int count, cJSON *runs)
{
    char hash[32];
    hash_hex(nt, hash, sizeof hash);
    for (int i = 0; i < count; i++)
        for (int p = 0; p < 3; p++) {
            if (t[i].best[p] < 0) continue;
            const conv_shape *s = &t[i].shape;
            cJSON *r = cJSON_CreateObject();
            cJSON_AddStringToObject(r, "type", "autotune");
            cJSON_AddStringToObject(r, "layer", nt->layers[t[i].layer].name);
            cJSON_AddStringToObject(r, "pass", conv_pass_name((conv_pass)p));
            results_add_shape(r, s);
            cJSON_AddStringToObject(r, "spec_hash", hash);
            cJSON_AddStringToObject(r, "backend", t[i].cand[t[i].best[p]]->name);
            cJSON_AddNumberToObject(r, "median_s", t[i].seconds[t[i].best[p]][p]);
            cJSON *cand = cJSON_AddObjectToObject(r, "candidates");
            for (int c = 0; c < t[i].ncand; c++) {
                double sec = t[i].seconds[c][p];
                if (sec == sec && sec < 1e300)
                    cJSON_AddNumberToObject(cand, t[i].cand[c]->name, sec);
                else
                    cJSON_AddNullToObject(cand, t[i].cand[c]->name); /* abandoned: too slow */
            }
            cJSON_AddItemToArray(runs, r);
        }
}

/* "" where absent, so comparisons need no NULL checks */
static const char *str(const cJSON *o, const char *key)
{
    const char *v = results_str(o, key);
    return v ? v : "";
}

int plan_cache_load(net *nt, const char *path, int batch, char *why, size_t len)
{
    char err[PATH_MAX + 512];
    cJSON *doc = results_read(path, err, sizeof err);
    if (!doc) return error_set(why, len, "%s", err);
    int rc = -1;
    const cJSON *ctx = cJSON_GetObjectItemCaseSensitive(doc, "context");
    const cJSON *machine = cJSON_GetObjectItemCaseSensitive(ctx, "machine");
    cJSON *here = results_machine();
    const cJSON *threads = cJSON_GetObjectItemCaseSensitive(ctx, "threads");
    char hash[32], build[32], fp_there[RESULTS_FINGERPRINT_LEN + 1],
        fp_here[RESULTS_FINGERPRINT_LEN + 1];
    hash_hex(nt, hash, sizeof hash);
    build_id(build, sizeof build);
    /* the machine by what its CPU is (a choice timed on another CPU, or on
       the same model with other caches or cores, is searched again) */
    results_machine_fingerprint(machine, fp_there, sizeof fp_there);
    results_machine_fingerprint(here, fp_here, sizeof fp_here);
    if (strcmp(str(doc, "kind"), "plan-cache")) {
        error_set(why, len, "%s is not a plan cache", path);
    } else if (strcmp(fp_there, fp_here)) {
        error_set(why, len, "%s was made on another machine (%s, %s)", path,
                  str(machine, "cpu_model"), fp_there);
    } else if (strcmp(str(ctx, "isa"), cpu_isa_name(cpu_isa_active()))) {
        error_set(why, len, "%s was made for ISA %s", path, str(ctx, "isa"));
    } else if (!cJSON_IsNumber(threads) || threads->valueint != omp_get_max_threads()) {
        error_set(why, len, "%s was made for %d threads", path,
                  cJSON_IsNumber(threads) ? threads->valueint : 0);
    } else if (!build[0] || strcmp(str(ctx, "build_id"), build)) {
        error_set(why, len, "%s was made by another build of convbench", path);
    } else {
        int applied = 0, bad = 0;
        const cJSON *r;
        cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(doc, "runs"))
        {
            if (strcmp(str(r, "type"), "autotune")) continue;
            const cJSON *n =
                cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(r, "shape"), "n");
            const conv_backend *b = conv_backend_find(str(r, "backend"));
            int pass = results_pass_parse(str(r, "pass")), li = -1;
            for (int i = 0; i < nt->nlayers; i++)
                if (nt->layers[i].kind == LAYER_CONV &&
                    !strcmp(nt->layers[i].name, str(r, "layer")))
                    li = i;
            /* each layer timed at the batch it runs at (a replica's slice, or part of it) */
            if (strcmp(str(r, "spec_hash"), hash) || !cJSON_IsNumber(n) ||
                (li >= 0 && n->valueint != net_layer_batch(nt, li, batch))) {
                bad = error_set(why, len, "%s was made for another network or batch size", path);
                break;
            }
            if (!b || pass < 0 || li < 0) {
                bad = error_set(why, len, "%s names an unknown backend, pass or layer (%s %s %s)",
                                path, str(r, "layer"), str(r, "pass"), str(r, "backend"));
                break;
            }
            net_set_pass_backend(nt, li, (conv_pass)pass, b);
            applied++;
        }
        if (!bad && !applied)
            error_set(why, len, "%s holds no choices", path);
        else if (!bad)
            rc = 0;
    }
    cJSON_Delete(here);
    cJSON_Delete(doc);
    return rc;
}

int plan_cache_save(const net *nt, const autotune_layer *t, int count, const char *path, int argc,
                    char **argv)
{
    cJSON *runs, *doc = results_new("plan-cache", argc, argv, &runs);
    char build[32];
    build_id(build, sizeof build);
    cJSON_AddStringToObject(cJSON_GetObjectItemCaseSensitive(doc, "context"), "build_id", build);
    plan_cache_runs(nt, t, count, runs);
    int rc = results_write(path, doc, 1);
    cJSON_Delete(doc);
    return rc;
}
