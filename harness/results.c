/* Results files: context, runs, atomic writes and a validating reader
   (the machine in the context: machine.c).

   Schema "convbench-results/1" (every field, for the README):
   schema        "convbench-results/1"
   kind          what wrote it: "bench", "scale", "train", "machine", ...
   context       machine       hostname, vendor ("AuthenticAMD"), family,
                               model, stepping (/proc/cpuinfo; absent where
                               it has none), cpu_model, packages, cores,
                               pus, numa_nodes, memory_bytes (hwloc),
                               caches[] (one per level and kind) {level,
                               type "data"|"instruction"|"unified",
                               size_bytes, line_bytes, associativity,
                               count}, isa_flags[], label (CONVBENCH_MACHINE
                               or --machine, else from the CPU), fingerprint
                               (16 hex digits: results_machine_fingerprint;
                               older files lack it, readers compute it)
                 build         compiler, cflags, portable, sanitize
                 git_commit    HEAD of the source tree, or "unknown"
                 git_dirty     tracked files modified (true/false/null)
                 time_utc      ISO-8601, e.g. "2024-05-01T12:00:00Z"
                 command_line  the program's argv joined by spaces
                 threads       omp_get_max_threads() when the file was made
                 isa           ISA in use (CONVBENCH_ISA applied): avx512|avx2|portable
                 isa_supported best ISA of the CPU
   runs[]        type "conv":  name ("set/layer/bN/backend/pass"), set, layer,
                               backend, pass (forward|backward_data|
                               backward_weights), shape {n,h,w,c,k,r,s,stride,
                               pad}, threads, repetitions, iterations (passes
                               timed per repetition), times_s[] (seconds per
                               pass, one per repetition), median_s, min_s,
                               max_s, flops (2*N*K*C*R*S*P*Q, the direct
                               count), gflops (flops/median_s), peak_gflops,
                               pct_peak (100*gflops/peak_gflops, null if no
                               peak), impl (string or null); a scale file adds
                               speedup and efficiency.
                 type "peak":  isa, threads, gflops (fp32 FMA loop, best of
                               5 repetitions; files before the register-fit
                               chains held a median)
                 type "triad": threads, mib, gbs (STREAM triad a = b + s*c
                               over 3 arrays of mib MiB, best of 5; the
                               memory level's bandwidth run, kept for
                               older readers)
                 type "bandwidth": level "L1"|"L2"|"L3"|"memory", threads,
                               bytes (working set of all threads: 3 arrays
                               each), gbs (the same triad, best of 5; bytes
                               read and written, as STREAM counts them)
                 type "train": backend, threads, ... (the trainer's fields)
                 other types must have at least "type". */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "atomic_file.h"
#include "cli.h"
#include "error.h"
#include "median.h"
#include "noshell.h"
#include "results.h"
#include "run_limits.h"
#include "shape.h"
#include "timed_run.h"
#include "version.h"

int results_pass_parse(const char *name)
{
    for (int i = 0; name && i < 3; i++)
        if (!strcmp(name, conv_pass_name((conv_pass)i))) return i;
    return -1;
}

/* ---- context ---------------------------------------------------------- */

/* First line of a program's output into buf (newline stripped); 0 if it
   ran, exited 0 and printed something. */
static int program_line(char *const argv[], char *buf, size_t len)
{
    int rc = run_program(argv, NULL, 0, buf, len);
    buf[strcspn(buf, "\n")] = 0;
    return rc == 0 && buf[0] ? 0 : -1;
}

cJSON *results_context(int argc, char **argv)
{
    cJSON *ctx = cJSON_CreateObject();
    cJSON_AddItemToObject(ctx, "machine", results_machine());

    cJSON *build = cJSON_AddObjectToObject(ctx, "build");
    cJSON_AddStringToObject(build, "compiler", "gcc " __VERSION__);
    cJSON_AddStringToObject(build, "cflags", version_cflags());
    cJSON_AddBoolToObject(build, "portable", version_portable());
    cJSON_AddBoolToObject(build, "sanitize", version_sanitize());

    char out[256], *git[] = { "git", "-C", (char *)version_srcdir(), "rev-parse", "HEAD", NULL };
    if (program_line(git, out, sizeof out) == 0) {
        cJSON_AddStringToObject(ctx, "git_commit", out);
        char *status[] = { "git",    "-C",          (char *)version_srcdir(),
                           "status", "--porcelain", "--untracked-files=no",
                           NULL };
        int dirty = program_line(status, out, sizeof out) == 0;
        cJSON_AddBoolToObject(ctx, "git_dirty", dirty);
    } else {
        cJSON_AddStringToObject(ctx, "git_commit", "unknown");
        cJSON_AddNullToObject(ctx, "git_dirty");
    }

    time_t now = time(NULL);
    struct tm tm;
    char when[32] = "unknown";
    if (gmtime_r(&now, &tm)) strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    cJSON_AddStringToObject(ctx, "time_utc", when);

    size_t len = 1;
    for (int i = 0; i < argc; i++) len += strlen(argv[i]) + 3;
    char *cmd = calloc(len, 1);
    for (int i = 0; cmd && i < argc; i++) {
        int quote = argv[i][0] == 0 || strpbrk(argv[i], " \t\"'") != NULL;
        strcat(cmd, i ? " " : "");
        strcat(cmd, quote ? "'" : "");
        strcat(cmd, argv[i]);
        strcat(cmd, quote ? "'" : "");
    }
    cJSON_AddStringToObject(ctx, "command_line", cmd ? cmd : "");
    free(cmd);

    cJSON_AddNumberToObject(ctx, "threads", omp_get_max_threads());
    cJSON_AddStringToObject(ctx, "isa", cpu_isa_name(cpu_isa_active()));
    cJSON_AddStringToObject(ctx, "isa_supported", cpu_isa_name(cpu_isa_supported()));
    return ctx;
}

cJSON *results_new(const char *kind, int argc, char **argv, cJSON **runs)
{
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddStringToObject(doc, "schema", RESULTS_SCHEMA);
    cJSON_AddStringToObject(doc, "kind", kind);
    cJSON_AddItemToObject(doc, "context", results_context(argc, argv));
    cJSON *r = cJSON_AddArrayToObject(doc, "runs");
    if (runs) *runs = r;
    return doc;
}

/* ---- runs ------------------------------------------------------------- */

void results_stats(const double *v, int n, double *median, double *min, double *max)
{
    stats_summary(v, n, median, min, max);
}

static const char *const shape_fields[] = { "n", "h", "w", "c", "k", "r", "s", "stride", "pad" };

void results_add_shape(cJSON *obj, const conv_shape *shape)
{
    /* the nine first members always; each appended one only where it says
       more than they do, so files of dense layers read as before */
    static const char *const more[] = { "groups", "stride_h", "stride_w", "dil_h", "dil_w",
                                        "pad_t",  "pad_b",    "pad_l",    "pad_r" };
    const conv_shape s = conv_shape_canonical(shape);
    const int v[9] = { s.n, s.h, s.w, s.c, s.k, s.r, s.s, s.stride, s.pad };
    const int x[9] = { s.groups, s.stride_h, s.stride_w, s.dil_h, s.dil_w,
                       s.pad_t,  s.pad_b,    s.pad_l,    s.pad_r };
    cJSON *sh = cJSON_AddObjectToObject(obj, "shape");
    for (int i = 0; i < 9; i++) cJSON_AddNumberToObject(sh, shape_fields[i], v[i]);
    for (int i = 0; i < 9; i++)
        if (x[i]) cJSON_AddNumberToObject(sh, more[i], x[i]);
}

cJSON *results_conv_run(const char *name, const char *set, const char *layer, const char *backend,
                        conv_pass pass, const conv_shape *s, int threads, const double *times,
                        int reps, long iterations, double peak_gflops, const char *impl)
{
    cJSON *r = cJSON_CreateObject();
    cJSON_AddStringToObject(r, "type", "conv");
    if (name) cJSON_AddStringToObject(r, "name", name);
    if (set) cJSON_AddStringToObject(r, "set", set);
    if (layer) cJSON_AddStringToObject(r, "layer", layer);
    cJSON_AddStringToObject(r, "backend", backend);
    cJSON_AddStringToObject(r, "pass", conv_pass_name(pass));
    results_add_shape(r, s);
    cJSON_AddNumberToObject(r, "threads", threads);
    double med = timed_run_add(r, times, reps, &iterations);
    double flops = conv_flops(s), gf = med > 0 ? flops / med * 1e-9 : 0;
    cJSON_AddNumberToObject(r, "flops", flops);
    cJSON_AddNumberToObject(r, "gflops", gf);
    if (peak_gflops > 0) {
        cJSON_AddNumberToObject(r, "peak_gflops", peak_gflops);
        cJSON_AddNumberToObject(r, "pct_peak", 100.0 * gf / peak_gflops);
    } else {
        cJSON_AddNullToObject(r, "peak_gflops");
        cJSON_AddNullToObject(r, "pct_peak");
    }
    if (impl)
        cJSON_AddStringToObject(r, "impl", impl);
    else
        cJSON_AddNullToObject(r, "impl");
    return r;
}

/* ---- writing ---------------------------------------------------------- */

/* The length of the UTF-8 sequence at p, or 0 if it is not a valid one
   (overlong forms, surrogates and code points past U+10FFFF included). */
static int utf8_len(const unsigned char *p)
{
    if (p[0] < 0x80) return 1;
    int n = p[0] >= 0xf0 ? 4 : p[0] >= 0xe0 ? 3 : p[0] >= 0xc2 ? 2 : 0;
    if (!n || p[0] > 0xf4) return 0;
    for (int i = 1; i < n; i++)
        if ((p[i] & 0xc0) != 0x80) return 0;
    if ((p[0] == 0xe0 && p[1] < 0xa0) || (p[0] == 0xed && p[1] >= 0xa0) ||
        (p[0] == 0xf0 && p[1] < 0x90) || (p[0] == 0xf4 && p[1] >= 0x90))
        return 0;
    return n;
}

/* JSON text with every byte that is not valid UTF-8 (a file name from a
   non-UTF-8 file system, say) written as \ufffd, so that every JSON
   reader takes the file; cJSON copies such bytes through, and they can
   only stand inside strings, where the escape is valid. Frees text. */
static char *utf8_valid(char *text)
{
    if (!text) return NULL;
    size_t bad = 0, n = strlen(text);
    for (size_t i = 0; i < n;) {
        int k = utf8_len((const unsigned char *)text + i);
        bad += !k;
        i += k ? (size_t)k : 1;
    }
    if (!bad) return text;
    char *out = malloc(n + 5 * bad + 1), *o = out;
    for (size_t i = 0; out && i < n;) {
        int k = utf8_len((const unsigned char *)text + i);
        if (k) {
            memcpy(o, text + i, (size_t)k);
            o += k;
            i += (size_t)k;
        } else {
            memcpy(o, "\\ufffd", 6);
            o += 6;
            i++;
        }
    }
    if (out) *o = 0;
    free(text);
    return out;
}

/* 1 if the directory dir (resolved) is a results/baseline directory. */
static int is_baseline_dir(const char *dir)
{
    char real[PATH_MAX];
    if (!realpath(dir, real)) return 0;
    size_t n = strlen(real);
    const char *tail = "/results/baseline";
    return n >= strlen(tail) && !strcmp(real + n - strlen(tail), tail);
}

int results_check_path(const char *path, int force, char *err, size_t len)
{
    if (!path || !*path) return error_set(err, len, "no file name given");
    struct stat st;
    if (stat(path, &st) == 0) {
        if (S_ISDIR(st.st_mode)) return error_set(err, len, "%s is a directory", path);
        if (access(path, W_OK)) return error_set(err, len, "%s is not writable", path);
    }
    /* the nearest existing directory above: results_write creates the rest */
    char dir[PATH_MAX];
    if (snprintf(dir, sizeof dir, "%s", path) >= (int)sizeof dir)
        return error_set(err, len, "path too long: %s", path);
    for (;;) {
        char *slash = strrchr(dir, '/');
        if (!slash) {
            snprintf(dir, sizeof dir, ".");
        } else if (slash == dir) {
            dir[1] = 0;
        } else {
            *slash = 0;
        }
        if (stat(dir, &st) == 0) break;
        if (errno != ENOENT || !slash || !strcmp(dir, "/"))
            return error_set(err, len, "cannot use %s: %s", dir, strerror(errno));
    }
    if (!S_ISDIR(st.st_mode)) return error_set(err, len, "%s: %s is not a directory", path, dir);
    if (access(dir, W_OK | X_OK))
        return error_set(err, len, "cannot write in %s: %s", dir, strerror(errno));
    /* access() says yes to root everywhere: where the directory is the
       file's own, a probe file says whether one can really be made */
    const char *slash = strrchr(path, '/');
    if (!slash || (size_t)(slash - path) == strlen(dir) || (slash == path && !strcmp(dir, "/"))) {
        char probe[PATH_MAX + 32];
        if (snprintf(probe, sizeof probe, "%s/.convbench-probe-XXXXXX", dir) >= (int)sizeof probe)
            return error_set(err, len, "path too long: %s", dir);
        int fd = mkstemp(probe);
        if (fd < 0) return error_set(err, len, "cannot write in %s: %s", dir, strerror(errno));
        close(fd);
        unlink(probe);
    }
    if (!force && is_baseline_dir(dir) && access(path, F_OK) == 0)
        return error_set(err, len, "%s is a baseline and exists; not overwriting it (use --force)",
                         path);
    return 0;
}

int results_write(const char *path, const cJSON *doc, int force)
{
    if (!doc) {
        cli_error(cli_command(), "nothing to write");
        return -1;
    }
    char *json = utf8_valid(cJSON_Print(doc));
    if (!json) {
        cli_error(cli_command(), "out of memory printing %s", path ? path : "?");
        return -1;
    }
    size_t n = strlen(json);
    char *text = realloc(json, n + 2);
    if (!text) {
        free(json);
        cli_error(cli_command(), "out of memory printing %s", path ? path : "?");
        return -1;
    }
    text[n] = '\n';
    text[n + 1] = 0;
    const int rc = results_write_text(path, text, force);
    free(text);
    return rc;
}

int results_write_text(const char *path, const char *text, int force)
{
    if (!path || !*path || !text) {
        cli_error(cli_command(), "no file name given");
        return -1;
    }
    char dir[PATH_MAX], tmp[PATH_MAX + 64], why[PATH_MAX + 128];
    const char *slash = strrchr(path, '/');
    int dirlen = !slash ? 1 : slash == path ? 1 : (int)(slash - path);
    if (snprintf(dir, sizeof dir, "%.*s", dirlen, slash ? path : ".") >= (int)sizeof dir) {
        cli_error(cli_command(), "path too long: %.200s...", path);
        return -1;
    }
    if (make_dirs(path, 1)) {
        cli_error(cli_command(), "cannot create directory %s: %s", dir, strerror(errno));
        return -1;
    }
    int protect = !force && is_baseline_dir(dir);
    struct stat st;
    if (protect && stat(path, &st) == 0) {
        cli_error(cli_command(),
                  "%s is a baseline and exists; not overwriting it "
                  "(use --force to replace it)",
                  path);
        return -1;
    }
    int fd = atomic_open(path, tmp, sizeof tmp, why, sizeof why);
    if (fd < 0) {
        cli_error(cli_command(), "%s", why);
        return -1;
    }
    /* a baseline goes in with link(), which fails if the name appeared
       meanwhile; anything else replaces the target atomically */
    int err = atomic_commit(fd, tmp, path, protect, atomic_write(fd, text, strlen(text)));
    if (err) {
        if (protect && err == EEXIST)
            cli_error(cli_command(),
                      "%s is a baseline and exists; not overwriting it "
                      "(use --force to replace it)",
                      path);
        else
            cli_error(cli_command(), "cannot write %s: %s", path, strerror(err));
        return -1;
    }
    return 0;
}

/* ---- reading ---------------------------------------------------------- */

/* 1 if text ends inside an open string, object or array: the file was cut. */
static int ends_open(const char *text, size_t len)
{
    int depth = 0, in_str = 0;
    for (size_t i = 0; i < len; i++) {
        char c = text[i];
        if (in_str) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_str = 0;
        } else if (c == '"') {
            in_str = 1;
        } else if (c == '{' || c == '[') {
            depth++;
        } else if (c == '}' || c == ']') {
            depth--;
        }
    }
    return in_str || depth > 0;
}

/* Checks that each named field of o is a number (type 'n'), string ('s'),
   object ('o') or array ('a'): spec is "n:name" strings. */
static int require(const cJSON *o, const char *where, const char *const *spec, char *err,
                   size_t errlen)
{
    for (; *spec; spec++) {
        const char *k = *spec + 2;
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
        const char *want = NULL;
        switch (**spec) {
        case 'n':
            if (!cJSON_IsNumber(v)) want = "a number";
            break;
        case 's':
            if (!cJSON_IsString(v)) want = "a string";
            break;
        case 'o':
            if (!cJSON_IsObject(v)) want = "an object";
            break;
        case 'a':
            if (!cJSON_IsArray(v)) want = "an array";
            break;
        }
        if (want)
            return error_set(err, errlen, "%s: field \"%s\" %s, expected %s", where, k,
                             v ? "has the wrong type" : "is missing", want);
    }
    return 0;
}

static int validate_conv(const cJSON *r, const char *where, char *err, size_t errlen)
{
    static const char *const need[] = {
        "s:backend", "s:pass",  "o:shape",  "n:threads", "n:repetitions", "a:times_s", "n:median_s",
        "n:min_s",   "n:max_s", "n:gflops", NULL,
    };
    if (require(r, where, need, err, errlen)) return -1;
    const char *pass = cJSON_GetObjectItemCaseSensitive(r, "pass")->valuestring;
    if (results_pass_parse(pass) < 0)
        return error_set(err, errlen, "%s: unknown pass \"%s\"", where, pass);
    const cJSON *sh = cJSON_GetObjectItemCaseSensitive(r, "shape");
    for (int i = 0; i < 9; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(sh, shape_fields[i]);
        if (!cJSON_IsNumber(v) || v->valuedouble < (i == 8 ? 0 : 1))
            return error_set(err, errlen, "%s: shape field \"%s\" is missing or out of range",
                             where, shape_fields[i]);
    }
    int reps = cJSON_GetObjectItemCaseSensitive(r, "repetitions")->valueint;
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(r, "times_s");
    if (reps < 1 || cJSON_GetArraySize(t) != reps)
        return error_set(err, errlen, "%s: times_s has %d entries but repetitions is %d", where,
                         cJSON_GetArraySize(t), reps);
    const cJSON *x;
    cJSON_ArrayForEach(x, t) if (!cJSON_IsNumber(x) || !(x->valuedouble > 0)) return error_set(
        err, errlen, "%s: times_s holds a value that is not a positive number", where);
    if (cJSON_GetObjectItemCaseSensitive(r, "threads")->valueint < 1)
        return error_set(err, errlen, "%s: threads < 1", where);
    const cJSON *pct = cJSON_GetObjectItemCaseSensitive(r, "pct_peak");
    if (pct && !cJSON_IsNumber(pct) && !cJSON_IsNull(pct))
        return error_set(err, errlen, "%s: pct_peak must be a number or null", where);
    const cJSON *impl = cJSON_GetObjectItemCaseSensitive(r, "impl");
    if (impl && !cJSON_IsString(impl) && !cJSON_IsNull(impl))
        return error_set(err, errlen, "%s: impl must be a string or null", where);
    return 0;
}

int results_validate(const cJSON *doc, char *err, size_t errlen)
{
    if (!cJSON_IsObject(doc)) return error_set(err, errlen, "top level is not a JSON object");
    const cJSON *schema = cJSON_GetObjectItemCaseSensitive(doc, "schema");
    if (!cJSON_IsString(schema))
        return error_set(err, errlen, "field \"schema\" is missing: not a convbench results file");
    if (strcmp(schema->valuestring, RESULTS_SCHEMA))
        return error_set(err, errlen, "schema \"%s\" is not the supported \"%s\"",
                         schema->valuestring, RESULTS_SCHEMA);
    static const char *const top[] = { "s:kind", "o:context", "a:runs", NULL };
    if (require(doc, "file", top, err, errlen)) return -1;
    const cJSON *ctx = cJSON_GetObjectItemCaseSensitive(doc, "context");
    static const char *const cneed[] = {
        "o:machine",      "o:build",   "s:git_commit", "s:time_utc",
        "s:command_line", "n:threads", "s:isa",        NULL,
    };
    if (require(ctx, "context", cneed, err, errlen)) return -1;
    static const char *const mneed[] = { "s:hostname", "s:cpu_model", "n:cores", "n:pus", NULL };
    if (require(cJSON_GetObjectItemCaseSensitive(ctx, "machine"), "context.machine", mneed, err,
                errlen))
        return -1;
    /* optional (older files lack them), but of the right form when present */
    const cJSON *mach = cJSON_GetObjectItemCaseSensitive(ctx, "machine");
    const cJSON *fpv = cJSON_GetObjectItemCaseSensitive(mach, "fingerprint");
    if (fpv && (!cJSON_IsString(fpv) || strlen(fpv->valuestring) != RESULTS_FINGERPRINT_LEN ||
                strspn(fpv->valuestring, "0123456789abcdef") != RESULTS_FINGERPRINT_LEN))
        return error_set(err, errlen, "context.machine: fingerprint must be %d hex digits",
                         RESULTS_FINGERPRINT_LEN);
    const cJSON *lbv = cJSON_GetObjectItemCaseSensitive(mach, "label");
    char why[200];
    if (lbv && (!cJSON_IsString(lbv) || results_label_check(lbv->valuestring, why, sizeof why)))
        return error_set(err, errlen, "context.machine: %s",
                         cJSON_IsString(lbv) ? why : "label must be a string");
    int i = 0;
    const cJSON *r;
    cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(doc, "runs"))
    {
        char where[64];
        snprintf(where, sizeof where, "runs[%d]", i++);
        if (!cJSON_IsObject(r)) return error_set(err, errlen, "%s is not an object", where);
        static const char *const tneed[] = { "s:type", NULL };
        if (require(r, where, tneed, err, errlen)) return -1;
        const char *type = cJSON_GetObjectItemCaseSensitive(r, "type")->valuestring;
        if (!strcmp(type, "conv")) {
            if (validate_conv(r, where, err, errlen)) return -1;
        } else if (!strcmp(type, "peak")) {
            static const char *const need[] = { "s:isa", "n:threads", "n:gflops", NULL };
            if (require(r, where, need, err, errlen)) return -1;
        } else if (!strcmp(type, "triad")) {
            static const char *const need[] = { "n:threads", "n:gbs", NULL };
            if (require(r, where, need, err, errlen)) return -1;
        } else if (!strcmp(type, "bandwidth")) {
            static const char *const need[] = { "s:level", "n:threads", "n:bytes", "n:gbs", NULL };
            if (require(r, where, need, err, errlen)) return -1;
            const char *lv = cJSON_GetObjectItemCaseSensitive(r, "level")->valuestring;
            if (strcmp(lv, "L1") && strcmp(lv, "L2") && strcmp(lv, "L3") && strcmp(lv, "memory"))
                return error_set(err, errlen, "%s: level \"%s\" is not L1, L2, L3 or memory", where,
                                 lv);
            if (results_num(r, "threads") < 1 || !(results_num(r, "bytes") > 0) ||
                !(results_num(r, "gbs") >= 0))
                return error_set(err, errlen, "%s: threads, bytes or gbs out of range", where);
        } else if (!strcmp(type, "train")) {
            static const char *const need[] = { "s:backend", NULL };
            if (require(r, where, need, err, errlen)) return -1;
        }
    }
    return 0;
}

cJSON *results_read(const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        error_set(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    /* read up to the size limit plus one byte, so a larger file (or an
       endless one: /dev/zero) is refused without taking its size in memory */
    const size_t max = limits_file_size();
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap);
    for (;;) {
        if (!buf) break;
        len += fread(buf + len, 1, cap - len - 1, f);
        if (len < cap - 1 || len > max) break;
        const size_t ncap = cap * 2 > max + 2 ? max + 2 : cap * 2;
        char *nb = realloc(buf, ncap);
        if (!nb) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = nb;
        cap = ncap;
    }
    int rd_err = ferror(f);
    fclose(f);
    if (!buf || rd_err || len > max) {
        free(buf);
        if (buf && !rd_err)
            error_set(err, errlen,
                      "%s: larger than %zu MiB, the most a results file may hold "
                      "(CONVBENCH_MAX_FILE_SIZE raises it)",
                      path, max >> 20);
        else
            error_set(err, errlen, "%s: %s", path, buf ? "read error" : "out of memory");
        return NULL;
    }
    buf[len] = 0;
    size_t ws = strspn(buf, " \t\r\n");
    if (ws == len) {
        free(buf);
        error_set(err, errlen, "%s: empty file", path);
        return NULL;
    }
    const char *end = NULL;
    cJSON *doc = cJSON_ParseWithLengthOpts(buf, len + 1, &end, 1);
    if (!doc) {
        if (ends_open(buf, len)) {
            error_set(err, errlen,
                      "%s: truncated JSON: the file ends (after %zu bytes) inside an "
                      "open object, array or string",
                      path, len);
        } else {
            size_t at = end && end >= buf && end <= buf + len ? (size_t)(end - buf) : 0;
            int line = 1, col = 1;
            for (size_t i = 0; i < at; i++) {
                if (buf[i] == '\n') {
                    line++;
                    col = 1;
                } else
                    col++;
            }
            error_set(err, errlen, "%s: malformed JSON at line %d, column %d", path, line, col);
        }
        free(buf);
        return NULL;
    }
    free(buf);
    char why[256];
    if (results_validate(doc, why, sizeof why)) {
        error_set(err, errlen, "%s: not a valid results file: %s", path, why);
        cJSON_Delete(doc);
        return NULL;
    }
    return doc;
}

const char *results_str(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

double results_num(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}
