/* The machine a results file was measured on: its description (hwloc and
   /proc/cpuinfo), its identity (fingerprint and label), this machine's
   file in the results directory, and the peak read from it or measured
   and stored there. The fields are in the schema (results.c). */
#include <dirent.h>
#include <errno.h>
#include <hwloc.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "error.h"
#include "hash.h"
#include "machine.h"
#include "peak.h"
#include "results.h"

/* ---- machine ---------------------------------------------------------- */

/* The ISA extensions that matter to fp32/bf16 convolution, in the order
   /proc/cpuinfo spells them. */
static const char *const isa_interest[] = {
    "sse4_2",      "avx",         "f16c",     "fma",      "avx2",       "avx_vnni",   "avx512f",
    "avx512cd",    "avx512bw",    "avx512dq", "avx512vl", "avx512ifma", "avx512vbmi", "avx512_vnni",
    "avx512_bf16", "avx512_fp16", "amx_tile", "amx_bf16", "amx_int8",
};

/* The "flags" line of /proc/cpuinfo's first processor, or "" . */
static void cpuinfo_flags(char *buf, size_t len)
{
    buf[0] = 0;
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f) return;
    char *line = NULL;
    size_t cap = 0;
    while (getline(&line, &cap, f) > 0) {
        if (strncmp(line, "flags", 5)) continue;
        char *colon = strchr(line, ':');
        if (colon) snprintf(buf, len, " %s", colon + 1);
        break;
    }
    free(line);
    fclose(f);
    size_t n = strlen(buf);
    if (n && buf[n - 1] == '\n')
        buf[n - 1] = ' ';
    else if (n + 1 < len)
        strcat(buf, " ");
}

static int has_flag(const char *flags, const char *name)
{
    char pat[64];
    snprintf(pat, sizeof pat, " %s ", name);
    return strstr(flags, pat) != NULL;
}

/* vendor_id, cpu family, model and stepping of /proc/cpuinfo's first
   processor; absent ones stay "" / -1 (not an x86 Linux). */
static void cpuinfo_ids(char *vendor, size_t vlen, int *family, int *model, int *stepping)
{
    vendor[0] = 0;
    *family = *model = *stepping = -1;
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f) return;
    char *line = NULL;
    size_t cap = 0;
    while (getline(&line, &cap, f) > 0) {
        if (line[0] == '\n') break; /* end of the first processor */
        char *colon = strchr(line, ':');
        if (!colon) continue;
        char *key_end = colon;
        while (key_end > line && (key_end[-1] == ' ' || key_end[-1] == '\t')) key_end--;
        *key_end = 0;
        char *val = colon + 1 + strspn(colon + 1, " \t");
        val[strcspn(val, "\n")] = 0;
        if (!strcmp(line, "vendor_id"))
            snprintf(vendor, vlen, "%s", val);
        else if (!strcmp(line, "cpu family"))
            *family = atoi(val);
        else if (!strcmp(line, "model"))
            *model = atoi(val);
        else if (!strcmp(line, "stepping"))
            *stepping = atoi(val);
    }
    free(line);
    fclose(f);
}

cJSON *results_machine(void)
{
    cJSON *m = cJSON_CreateObject();
    char host[256] = "unknown";
    if (gethostname(host, sizeof host - 1)) strcpy(host, "unknown");
    host[sizeof host - 1] = 0;
    cJSON_AddStringToObject(m, "hostname", host);

    char vendor[64];
    int family, model_id, stepping;
    cpuinfo_ids(vendor, sizeof vendor, &family, &model_id, &stepping);
    if (vendor[0]) cJSON_AddStringToObject(m, "vendor", vendor);
    if (family >= 0) cJSON_AddNumberToObject(m, "family", family);
    if (model_id >= 0) cJSON_AddNumberToObject(m, "model", model_id);
    if (stepping >= 0) cJSON_AddNumberToObject(m, "stepping", stepping);

    hwloc_topology_t t;
    const char *model = NULL;
    if (hwloc_topology_init(&t) == 0 &&
        hwloc_topology_set_icache_types_filter(t, HWLOC_TYPE_FILTER_KEEP_ALL) == 0 &&
        hwloc_topology_load(t) == 0) {
        hwloc_obj_t pkg = hwloc_get_obj_by_type(t, HWLOC_OBJ_PACKAGE, 0);
        model = pkg ? hwloc_obj_get_info_by_name(pkg, "CPUModel") : NULL;
        cJSON_AddStringToObject(m, "cpu_model", model ? model : "unknown");
        cJSON_AddNumberToObject(m, "packages", hwloc_get_nbobjs_by_type(t, HWLOC_OBJ_PACKAGE));
        cJSON_AddNumberToObject(m, "cores", hwloc_get_nbobjs_by_type(t, HWLOC_OBJ_CORE));
        cJSON_AddNumberToObject(m, "pus", hwloc_get_nbobjs_by_type(t, HWLOC_OBJ_PU));
        cJSON_AddNumberToObject(m, "numa_nodes", hwloc_get_nbobjs_by_type(t, HWLOC_OBJ_NUMANODE));
        cJSON_AddNumberToObject(m, "memory_bytes", (double)hwloc_get_root_obj(t)->total_memory);
        static const hwloc_obj_type_t cache_types[] = {
            HWLOC_OBJ_L1CACHE, HWLOC_OBJ_L1ICACHE, HWLOC_OBJ_L2CACHE, HWLOC_OBJ_L2ICACHE,
            HWLOC_OBJ_L3CACHE, HWLOC_OBJ_L4CACHE,  HWLOC_OBJ_L5CACHE,
        };
        cJSON *caches = cJSON_AddArrayToObject(m, "caches");
        for (size_t i = 0; i < sizeof cache_types / sizeof *cache_types; i++) {
            int count = hwloc_get_nbobjs_by_type(t, cache_types[i]);
            hwloc_obj_t o = hwloc_get_obj_by_type(t, cache_types[i], 0);
            if (count <= 0 || !o || !o->attr) continue;
            const struct hwloc_cache_attr_s *a = &o->attr->cache;
            cJSON *c = cJSON_CreateObject();
            cJSON_AddNumberToObject(c, "level", a->depth);
            cJSON_AddStringToObject(c, "type",
                                    a->type == HWLOC_OBJ_CACHE_DATA          ? "data"
                                    : a->type == HWLOC_OBJ_CACHE_INSTRUCTION ? "instruction"
                                                                             : "unified");
            cJSON_AddNumberToObject(c, "size_bytes", (double)a->size);
            cJSON_AddNumberToObject(c, "line_bytes", a->linesize);
            cJSON_AddNumberToObject(c, "associativity", a->associativity);
            cJSON_AddNumberToObject(c, "count", count);
            cJSON_AddItemToArray(caches, c);
        }
        hwloc_topology_destroy(t);
    } else {
        cJSON_AddStringToObject(m, "cpu_model", "unknown");
    }

    char flags[8192];
    cpuinfo_flags(flags, sizeof flags);
    cJSON *isa = cJSON_AddArrayToObject(m, "isa_flags");
    for (size_t i = 0; i < sizeof isa_interest / sizeof *isa_interest; i++)
        if (has_flag(flags, isa_interest[i]))
            cJSON_AddItemToArray(isa, cJSON_CreateString(isa_interest[i]));

    /* the label a user set (already checked by the command line; a bad
       variable seen only here falls back to the derived label), else the
       one derived from the CPU */
    char label[RESULTS_LABEL_MAX + 1], fp[RESULTS_FINGERPRINT_LEN + 1];
    const char *env = getenv("CONVBENCH_MACHINE");
    if (env && *env && results_label_check(env, NULL, 0) == 0) {
        snprintf(label, sizeof label, "%s", env);
    } else {
        if (env && *env)
            fprintf(stderr, "convbench: ignoring CONVBENCH_MACHINE='%s': %s\n", env,
                    "a label is 1-64 letters, digits, '-', '_' or '.'");
        results_machine_default_label(m, label, sizeof label);
    }
    cJSON_AddStringToObject(m, "label", label);
    results_machine_fingerprint_compute(m, fp, sizeof fp);
    cJSON_AddStringToObject(m, "fingerprint", fp);
    return m;
}

/* ---- machine identity ------------------------------------------------- */

int results_label_check(const char *label, char *err, size_t errlen)
{
    size_t n = label ? strlen(label) : 0;
    if (n == 0 || n > RESULTS_LABEL_MAX)
        return error_set(err, errlen, "machine label '%s' must be 1 to %d characters",
                         label ? label : "", RESULTS_LABEL_MAX);
    /* it becomes part of a file name: no '/', no leading '.', no spaces */
    if (label[0] == '.')
        return error_set(err, errlen, "machine label '%s' must not start with '.'", label);
    for (size_t i = 0; i < n; i++) {
        char c = label[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.'))
            return error_set(err, errlen,
                             "machine label '%s' has '%c': use letters, digits, '-', '_' "
                             "and '.'",
                             label, c);
    }
    return 0;
}

int results_set_machine_label(const char *label, char *err, size_t errlen)
{
    if (!label) {
        const char *env = getenv("CONVBENCH_MACHINE");
        if (!env || !*env) return 0;
        char why[256];
        if (results_label_check(env, why, sizeof why))
            return error_set(err, errlen, "CONVBENCH_MACHINE: %s", why);
        return 0;
    }
    if (results_label_check(label, err, errlen)) return -1;
    /* through the environment, so benchmark programs run as children see it too */
    if (setenv("CONVBENCH_MACHINE", label, 1))
        return error_set(err, errlen, "cannot set CONVBENCH_MACHINE: %s", strerror(errno));
    return 0;
}

/* 1 if word (lower case) is noise in a CPU model name: "processor", "cpu",
   "with", "64-core". */
static int noise_word(const char *w)
{
    if (!strcmp(w, "processor") || !strcmp(w, "cpu") || !strcmp(w, "with")) return 1;
    size_t d = strspn(w, "0123456789");
    return d > 0 && !strcmp(w + d, "-core");
}

void results_machine_default_label(const cJSON *m, char *buf, size_t len)
{
    char model[256], out[256] = "";
    const char *cpu = results_str(m, "cpu_model");
    snprintf(model, sizeof model, "%s", cpu && strcmp(cpu, "unknown") ? cpu : "");
    for (char *p = model; *p; p++)
        if (*p >= 'A' && *p <= 'Z') *p = (char)(*p - 'A' + 'a');
    /* trademarks go, and the clock speed after '@' */
    static const char *const marks[] = { "(r)", "(tm)", "(c)" };
    for (size_t i = 0; i < 3; i++)
        for (char *q; (q = strstr(model, marks[i]));)
            memmove(q, q + strlen(marks[i]), strlen(q + strlen(marks[i])) + 1);
    model[strcspn(model, "@")] = 0;
    size_t o = 0;
    for (char *w = strtok(model, " \t"); w; w = strtok(NULL, " \t")) {
        if (noise_word(w)) continue;
        for (char *c = w; *c && o + 2 < sizeof out; c++) {
            int alnum = (*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9');
            if (alnum)
                out[o++] = *c;
            else if (o && out[o - 1] != '-')
                out[o++] = '-';
        }
        if (o && out[o - 1] != '-' && o + 2 < sizeof out) out[o++] = '-';
    }
    while (o && out[o - 1] == '-') o--;
    out[o] = 0;
    if (!o) { /* no model name: the vendor, or just "cpu" */
        const char *v = results_str(m, "vendor");
        snprintf(out, sizeof out, "%s", v && *v ? v : "cpu");
        for (char *p = out; *p; p++) {
            if (*p >= 'A' && *p <= 'Z')
                *p = (char)(*p - 'A' + 'a');
            else if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9')))
                *p = '-';
        }
    }
    char tail[64] = "";
    double fam = results_num(m, "family"), mod = results_num(m, "model"),
           cores = results_num(m, "cores");
    size_t tl = 0;
    if (!isnan(fam) && !isnan(mod))
        tl += (size_t)snprintf(tail + tl, sizeof tail - tl, "-f%.0fm%.0f", fam, mod);
    if (!isnan(cores) && cores >= 1) snprintf(tail + tl, sizeof tail - tl, "-%.0fc", cores);
    /* the tail tells machines apart: the model name gives way to it */
    int keep = RESULTS_LABEL_MAX - (int)strlen(tail);
    snprintf(buf, len, "%.*s%s", keep > 0 ? keep : 0, out, tail);
}

void results_machine_label(const cJSON *m, char *buf, size_t len)
{
    const char *l = results_str(m, "label");
    if (l && results_label_check(l, NULL, 0) == 0)
        snprintf(buf, len, "%s", l);
    else
        results_machine_default_label(m, buf, len);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Appends "key=" and the n strings of items, sorted and comma-separated,
   to the hash (so a writer's order does not matter). */
static uint64_t hash_sorted(uint64_t h, const char *key, char **items, int n)
{
    qsort(items, (size_t)n, sizeof *items, cmp_str);
    h = fnv1a(h, key, strlen(key));
    for (int i = 0; i < n; i++) {
        h = fnv1a(h, items[i], strlen(items[i]));
        h = fnv1a(h, ",", 1);
    }
    return fnv1a(h, "\n", 1);
}

void results_machine_fingerprint_compute(const cJSON *m, char *buf, size_t len)
{
    uint64_t h = FNV1A_INIT;
    char line[512];
    /* each field as "name=value\n", only where present: an older file,
       without vendor or family, still hashes the same way every time */
    static const char *const strs[] = { "vendor", "cpu_model" };
    for (int i = 0; i < 2; i++) {
        const char *v = results_str(m, strs[i]);
        if (!v) continue;
        int n = snprintf(line, sizeof line, "%s=%s\n", strs[i], v);
        h = fnv1a(h, line, (size_t)(n < (int)sizeof line ? n : (int)sizeof line - 1));
    }
    static const char *const nums[] = { "family", "model", "stepping", "packages", "cores", "pus" };
    for (int i = 0; i < 6; i++) {
        double v = results_num(m, nums[i]);
        if (isnan(v)) continue;
        int n = snprintf(line, sizeof line, "%s=%.0f\n", nums[i], v);
        h = fnv1a(h, line, (size_t)n);
    }
    /* memory_bytes is recorded but not hashed: a VM of the same CPU runs
       with 8 GiB one day and 24 GiB the next, and its compute figures and
       peak are the same machine's */
    const cJSON *flags = cJSON_GetObjectItemCaseSensitive(m, "isa_flags");
    if (cJSON_IsArray(flags)) {
        int n = 0, cap = cJSON_GetArraySize(flags);
        char **items = calloc((size_t)cap + 1, sizeof *items);
        const cJSON *f;
        cJSON_ArrayForEach(f, flags) if (items && cJSON_IsString(f)) items[n++] = f->valuestring;
        if (items) h = hash_sorted(h, "isa_flags=", items, n);
        free(items);
    }
    const cJSON *caches = cJSON_GetObjectItemCaseSensitive(m, "caches");
    if (cJSON_IsArray(caches)) {
        int n = 0, cap = cJSON_GetArraySize(caches);
        char **items = calloc((size_t)cap + 1, sizeof *items);
        char(*text)[96] = calloc((size_t)cap + 1, sizeof *text);
        const cJSON *c;
        cJSON_ArrayForEach(c, caches)
        {
            if (!items || !text) break;
            const char *type = results_str(c, "type");
            snprintf(text[n], sizeof text[n], "L%.0f %s %.0f", results_num(c, "level"),
                     type ? type : "?", results_num(c, "size_bytes"));
            items[n] = text[n];
            n++;
        }
        if (items && text) h = hash_sorted(h, "caches=", items, n);
        free(items);
        free(text);
    }
    snprintf(buf, len, "%016llx", (unsigned long long)h);
}

void results_machine_fingerprint(const cJSON *m, char *buf, size_t len)
{
    const char *fp = results_str(m, "fingerprint");
    if (fp && *fp)
        snprintf(buf, len, "%s", fp);
    else
        results_machine_fingerprint_compute(m, buf, len);
}

/* ---- machine files and the peak --------------------------------------- */

const char *results_dir(void)
{
    const char *d = getenv("CONVBENCH_RESULTS_DIR");
    return d && *d ? d : "results";
}

/* The machine file at path, if it is one and describes the machine whose
   fingerprint is fp; NULL otherwise (also when absent or unreadable). */
static cJSON *read_if_same(const char *path, const char *fp)
{
    char err[512], have[RESULTS_FINGERPRINT_LEN + 1];
    if (access(path, R_OK)) return NULL;
    cJSON *doc = results_read(path, err, sizeof err);
    if (!doc) return NULL;
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(doc, "context"), "machine");
    const char *kind = results_str(doc, "kind");
    results_machine_fingerprint(m, have, sizeof have);
    if (kind && !strcmp(kind, "machine") && !strcmp(have, fp)) return doc;
    cJSON_Delete(doc);
    return NULL;
}

static int exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

int results_machine_file(const char *dir, const cJSON *machine, char *path, size_t len)
{
    char fp[RESULTS_FINGERPRINT_LEN + 1], label[RESULTS_LABEL_MAX + 1], own[PATH_MAX];
    results_machine_fingerprint(machine, fp, sizeof fp);
    results_machine_label(machine, label, sizeof label);
    snprintf(own, sizeof own, "%s/machine-%s.json", dir, label);
    cJSON *doc = read_if_same(own, fp);
    if (doc) {
        cJSON_Delete(doc);
        snprintf(path, len, "%s", own);
        return 1;
    }
    /* under another label (set by a user, or written before the label
       changed): the first such file in name order */
    struct dirent **names = NULL;
    int n = scandir(dir, &names, NULL, alphasort), found = 0;
    for (int i = 0; i < n; i++) {
        const char *nm = names[i]->d_name;
        size_t l = strlen(nm);
        if (!found && !strncmp(nm, "machine-", 8) && l > 13 && !strcmp(nm + l - 5, ".json")) {
            char p[PATH_MAX];
            snprintf(p, sizeof p, "%s/%s", dir, nm);
            if ((doc = read_if_same(p, fp))) {
                cJSON_Delete(doc);
                snprintf(path, len, "%s", p);
                found = 1;
            }
        }
        free(names[i]);
    }
    free(names);
    if (found) return 1;
    /* a new file: never over another machine's (nor an unreadable one) */
    if (!exists(own))
        snprintf(path, len, "%s", own);
    else {
        snprintf(path, len, "%s/machine-%s-%.8s.json", dir, label, fp);
        if (exists(path)) snprintf(path, len, "%s/machine-%s-%s.json", dir, label, fp);
    }
    return 0;
}

/* The "peak" run of doc at this ISA and thread count, or 0. */
static double peak_in(const cJSON *doc, cpu_isa isa, int threads)
{
    double g = 0;
    const cJSON *r;
    cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(doc, "runs"))
    {
        const char *type = results_str(r, "type"), *ri = results_str(r, "isa");
        if (type && !strcmp(type, "peak") && ri && !strcmp(ri, cpu_isa_name(isa)) &&
            results_num(r, "threads") == threads && results_num(r, "gflops") > 0)
            g = results_num(r, "gflops");
    }
    return g;
}

double results_peak_gflops_in(const char *dir, cpu_isa isa, int threads, int *from_file)
{
    char path[PATH_MAX], err[512];
    if (from_file) *from_file = 0;
    cJSON *m = results_machine();
    int found = results_machine_file(dir, m, path, sizeof path);
    cJSON *doc = found ? results_read(path, err, sizeof err) : NULL;
    double g = doc ? peak_in(doc, isa, threads) : 0;
    if (g > 0) {
        if (from_file) *from_file = 1;
        cJSON_Delete(doc);
        cJSON_Delete(m);
        return g;
    }
    g = peak_fma_gflops(isa, threads, 5);
    /* stored for the next program, only where a results directory exists
       (not a stray one in whatever directory a program runs in) */
    struct stat st;
    if (g > 0 && stat(dir, &st) == 0 && S_ISDIR(st.st_mode)) {
        if (!doc) {
            doc = results_new("machine", 0, NULL, NULL);
            cJSON_AddStringToObject(doc, "note",
                                    "peak runs measured by a benchmark at start; "
                                    "convbench info measures everything");
        }
        cJSON *r = cJSON_CreateObject();
        cJSON_AddStringToObject(r, "type", "peak");
        cJSON_AddStringToObject(r, "isa", cpu_isa_name(isa));
        cJSON_AddNumberToObject(r, "threads", threads);
        cJSON_AddNumberToObject(r, "gflops", g);
        cJSON_AddItemToArray(cJSON_GetObjectItemCaseSensitive(doc, "runs"), r);
        results_write(path, doc, 0);
    }
    cJSON_Delete(doc);
    cJSON_Delete(m);
    return g;
}

double results_peak_gflops(cpu_isa isa, int threads, int *from_file)
{
    return results_peak_gflops_in(results_dir(), isa, threads, from_file);
}

void results_machine_path(char *buf, size_t len)
{
    cJSON *m = results_machine();
    results_machine_file(results_dir(), m, buf, len);
    cJSON_Delete(m);
}

int results_machine_same(const cJSON *a, const cJSON *b)
{
    const char *fa = results_str(a, "fingerprint"), *fb = results_str(b, "fingerprint");
    if (fa && fb) return !strcmp(fa, fb);
    /* copies holding only the fields both have (the identity's own two aside) */
    cJSON *ca = cJSON_Duplicate(a, 1), *cb = cJSON_Duplicate(b, 1);
    int same = 0;
    if (ca && cb) {
        static const char *const own[] = { "fingerprint", "label" };
        for (int i = 0; i < 2; i++) {
            cJSON_DeleteItemFromObjectCaseSensitive(ca, own[i]);
            cJSON_DeleteItemFromObjectCaseSensitive(cb, own[i]);
        }
        for (int pass = 0; pass < 2; pass++) {
            cJSON *x = pass ? cb : ca, *y = pass ? ca : cb, *it = x->child;
            while (it) {
                cJSON *next = it->next;
                if (!cJSON_GetObjectItemCaseSensitive(y, it->string))
                    cJSON_DeleteItemFromObjectCaseSensitive(x, it->string);
                it = next;
            }
        }
        char ka[RESULTS_FINGERPRINT_LEN + 1], kb[RESULTS_FINGERPRINT_LEN + 1];
        results_machine_fingerprint_compute(ca, ka, sizeof ka);
        results_machine_fingerprint_compute(cb, kb, sizeof kb);
        same = !strcmp(ka, kb);
    }
    cJSON_Delete(ca);
    cJSON_Delete(cb);
    return same;
}
