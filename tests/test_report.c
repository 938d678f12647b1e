/* convbench report across machines, on synthetic results files written in
   a temporary directory: two machines with the same host name ("vm") and
   the same CPU model but different ISA flags and caches, each with its
   machine file, bench file, training run (and one peer). Checked: two
   machine sections and a comparison section whose ratios are the ones the
   files give; no machine's figures in the other's section; % of peak
   against the file's own machine's peak, never the stored pct_peak; only
   the newest bench file of a series; "no machine file" where there is
   none; a fingerprint and label, when present, identify and name the
   machine; plots in one directory per machine; a missing path is exit 2. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "../harness/results.h"
#include "check.h"
#include "suites.h"

/* the seed's conv2 at batch 32: 142,737,408 FLOPs per pass */
static const conv_shape conv2 = { 32, 13, 13, 32, 64, 3, 3, 1, 0 };

/* A context.machine: host "vm" for every machine, as on the real ones. */
static cJSON *machine_obj(const char *cpu, int l2_kib, const char *const *flags, const char *label,
                          const char *fingerprint)
{
    cJSON *m = cJSON_CreateObject();
    cJSON_AddStringToObject(m, "hostname", "vm");
    cJSON_AddStringToObject(m, "cpu_model", cpu);
    if (label) cJSON_AddStringToObject(m, "label", label);
    if (fingerprint) cJSON_AddStringToObject(m, "fingerprint", fingerprint);
    cJSON_AddNumberToObject(m, "packages", 1);
    cJSON_AddNumberToObject(m, "cores", 2);
    cJSON_AddNumberToObject(m, "pus", 2);
    cJSON_AddNumberToObject(m, "numa_nodes", 1);
    cJSON_AddNumberToObject(m, "memory_bytes", 8.0 * (1 << 30));
    cJSON *caches = cJSON_AddArrayToObject(m, "caches");
    const int kib[2] = { 32, l2_kib };
    for (int i = 0; i < 2; i++) {
        cJSON *c = cJSON_CreateObject();
        cJSON_AddNumberToObject(c, "level", i + 1);
        cJSON_AddStringToObject(c, "type", i ? "unified" : "data");
        cJSON_AddNumberToObject(c, "size_bytes", kib[i] * 1024.0);
        cJSON_AddNumberToObject(c, "line_bytes", 64);
        cJSON_AddNumberToObject(c, "associativity", 8);
        cJSON_AddNumberToObject(c, "count", 2);
        cJSON_AddItemToArray(caches, c);
    }
    cJSON *f = cJSON_AddArrayToObject(m, "isa_flags");
    for (int i = 0; flags[i]; i++) cJSON_AddItemToArray(f, cJSON_CreateString(flags[i]));
    return m;
}

/* A new document of this kind on machine m (taken over), ISA isa, at time. */
static cJSON *doc_on(const char *kind, const cJSON *m, const char *isa, const char *time,
                     cJSON **runs)
{
    char *argv[] = { "tests", "--synthetic" };
    cJSON *doc = results_new(kind, 2, argv, runs);
    cJSON *ctx = cJSON_GetObjectItem(doc, "context");
    cJSON_ReplaceItemInObject(ctx, "machine", cJSON_Duplicate(m, 1));
    cJSON_ReplaceItemInObject(ctx, "isa", cJSON_CreateString(isa));
    cJSON_ReplaceItemInObject(ctx, "isa_supported", cJSON_CreateString(isa));
    cJSON_ReplaceItemInObject(ctx, "time_utc", cJSON_CreateString(time));
    return doc;
}

static int write_doc(const char *dir, const char *name, cJSON *doc)
{
    char path[700];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    int rc = results_write(path, doc, 0);
    cJSON_Delete(doc);
    return rc;
}

static void add_peak(cJSON *runs, const char *type, const char *what, double value)
{
    cJSON *r = cJSON_CreateObject();
    cJSON_AddStringToObject(r, "type", type);
    if (!strcmp(type, "peak")) cJSON_AddStringToObject(r, "isa", what);
    if (!strcmp(type, "bandwidth")) {
        cJSON_AddStringToObject(r, "level", what);
        cJSON_AddNumberToObject(r, "bytes", 16384);
    }
    if (!strcmp(type, "triad")) cJSON_AddNumberToObject(r, "mib", 256);
    cJSON_AddNumberToObject(r, "threads", 2);
    cJSON_AddNumberToObject(r, strcmp(type, "peak") ? "gbs" : "gflops", value);
    cJSON_AddItemToArray(runs, r);
}

/* conv2 forward at 2 threads, 3 repetitions of t seconds; the stored
   pct_peak is against 1000 GFLOP/s, a peak no machine here has. */
static void add_conv(cJSON *runs, const char *backend, double t)
{
    double times[3] = { t, t, t };
    char name[128];
    snprintf(name, sizeof name, "seed/conv2/b32/%s/forward", backend);
    cJSON_AddItemToArray(runs, results_conv_run(name, "seed", "conv2", backend, CONV_FORWARD,
                                                &conv2, 2, times, 3, 10, 1000, NULL));
}

static void add_train(cJSON *runs, const char *backend, double seconds)
{
    cJSON *r = cJSON_CreateObject();
    cJSON_AddStringToObject(r, "type", "train");
    cJSON_AddStringToObject(r, "backend", backend);
    cJSON_AddNumberToObject(r, "threads", 2);
    cJSON_AddNumberToObject(r, "batch", 32);
    cJSON_AddNumberToObject(r, "images", 60000);
    cJSON_AddNumberToObject(r, "epoch", 1);
    cJSON_AddNumberToObject(r, "epochs", 1);
    cJSON_AddNumberToObject(r, "loss", 0.3);
    cJSON_AddNumberToObject(r, "test_accuracy", 0.88);
    cJSON_AddNumberToObject(r, "seconds", seconds);
    cJSON_AddNumberToObject(r, "images_per_s", 60000 / seconds);
    cJSON_AddItemToArray(runs, r);
}

/* Machine A: AVX-512, peak 200 GFLOP/s at 2 threads; simd 1 ms (143
   GFLOP/s, 71%), onednn 2 ms (71.4, 36%); auto trains 5000 images/s. An
   older bench file (simd 10 ms: 14.3) must not be shown.
   Machine B: AVX2 only, other caches, peak 60; simd 4 ms (35.7, 59%),
   onednn 6 ms (23.8, 40%), naive only on B (0.1 s: 1.43); auto trains
   8000 images/s; a PyTorch peer 1000. Ratios B/A: simd 0.25, onednn 0.33,
   geometric mean 0.29; auto 1.60. */
static int write_two_machines(const char *adir, const char *bdir)
{
    static const char *const fa[] = { "avx2", "fma", "avx512f", NULL }, *const fb[] = { "avx2",
                                                                                        "fma",
                                                                                        NULL };
    cJSON *ma = machine_obj("Test Chip", 2048, fa, NULL, NULL),
          *mb = machine_obj("Test Chip", 512, fb, NULL, NULL);
    cJSON *runs, *doc;
    int rc = 0;

    doc = doc_on("machine", ma, "avx512", "2026-01-01T00:00:00Z", &runs);
    add_peak(runs, "peak", "avx512", 200);
    add_peak(runs, "peak", "avx2", 100);
    add_peak(runs, "triad", NULL, 20);
    add_peak(runs, "bandwidth", "L1", 400);
    rc |= write_doc(adir, "machine-vm.json", doc);
    doc = doc_on("bench", ma, "avx512", "2026-01-02T00:00:00Z", &runs);
    add_conv(runs, "simd", 1e-3);
    add_conv(runs, "onednn", 2e-3);
    rc |= write_doc(adir, "bench-new.json", doc);
    doc = doc_on("bench", ma, "avx512", "2026-01-01T12:00:00Z", &runs);
    add_conv(runs, "simd", 1e-2);
    rc |= write_doc(adir, "bench-old.json", doc);
    doc = doc_on("train", ma, "avx512", "2026-01-02T00:00:00Z", &runs);
    add_train(runs, "auto", 12);
    rc |= write_doc(adir, "train-auto.json", doc);

    doc = doc_on("machine", mb, "avx2", "2026-01-01T00:00:00Z", &runs);
    add_peak(runs, "peak", "avx2", 60);
    add_peak(runs, "triad", NULL, 10);
    rc |= write_doc(bdir, "machine-vm.json", doc);
    doc = doc_on("bench", mb, "avx2", "2026-01-03T00:00:00Z", &runs);
    add_conv(runs, "simd", 4e-3);
    add_conv(runs, "onednn", 6e-3);
    add_conv(runs, "naive", 0.1);
    rc |= write_doc(bdir, "bench-new.json", doc);
    doc = doc_on("train", mb, "avx2", "2026-01-03T00:00:00Z", &runs);
    add_train(runs, "auto", 7.5);
    rc |= write_doc(bdir, "train-auto.json", doc);
    doc = doc_on("peer", mb, "avx2", "2026-01-03T00:00:00Z", &runs);
    cJSON *peer = cJSON_AddObjectToObject(cJSON_GetObjectItem(doc, "context"), "peer");
    cJSON_AddStringToObject(peer, "name", "pytorch");
    cJSON_AddStringToObject(peer, "config", "tuned");
    add_train(runs, "pytorch", 60);
    char pdir[600];
    snprintf(pdir, sizeof pdir, "%s/peers", bdir);
    rc |= write_doc(pdir, "pytorch.json", doc);
    cJSON_Delete(ma);
    cJSON_Delete(mb);
    return rc;
}

/* The text from the n-th occurrence of what (0-based) to the next
   occurrence of what or of until, copied into buf. */
static const char *section(const char *text, const char *what, int n, const char *until, char *buf,
                           size_t len)
{
    const char *p = text;
    for (int i = 0; p && i <= n; i++) {
        p = strstr(p, what);
        if (p && i < n) p += strlen(what);
    }
    buf[0] = 0;
    if (!p) return buf;
    const char *e1 = strstr(p + strlen(what), what), *e2 = strstr(p, until);
    const char *e = e1 && (!e2 || e1 < e2) ? e1 : e2;
    size_t k = e ? (size_t)(e - p) : strlen(p);
    if (k >= len) k = len - 1;
    memcpy(buf, p, k);
    buf[k] = 0;
    return buf;
}

static int count(const char *text, const char *what)
{
    int n = 0;
    for (const char *p = text; (p = strstr(p, what)); p += strlen(what)) n++;
    return n;
}

static void test_two_machines(void)
{
    const char *dir = check_tmpdir();
    char adir[512], bdir[512], cmd[2048];
    static char out[1 << 18], sa[1 << 16], sb[1 << 16], sc[1 << 16];
    snprintf(adir, sizeof adir, "%s/report-a", dir);
    snprintf(bdir, sizeof bdir, "%s/report-b", dir);
    if (write_two_machines(adir, bdir)) {
        check("report: synthetic files of two machines written", 0, "results_write failed");
        return;
    }
    snprintf(cmd, sizeof cmd,
             "convbench report --out '%s/R2.md' --plots '%s/plots2' '%s' '%s' "
             "&& cat '%s/R2.md'",
             dir, dir, adir, bdir, dir);
    int rc = check_run(cmd, out, sizeof out);
    check("report: two machines with one host name get two sections and a comparison",
          rc == 0 && count(out, "\n## Machine `test-chip-2c-") == 2 &&
              count(out, "\n## Machines compared") == 1,
          "exit %d:\n%s", rc, out);
    section(out, "\n## Machine `", 0, "\n## Machines compared", sa, sizeof sa);
    section(out, "\n## Machine `", 1, "\n## Machines compared", sb, sizeof sb);
    section(out, "\n## Machines compared", 0, "\n## Machine `", sc, sizeof sc);
    check("report: % of peak against each file's own machine's peak",
          strstr(sa, "| 143 (71%) |") && strstr(sa, "71.4 (36%)") && strstr(sb, "35.7 (59%)") &&
              strstr(sb, "23.8 (40%)") && !strstr(out, "(14%)") &&
              strstr(sa, "stored pct_peak was computed against 1000 GFLOP/s"),
          "A:\n%s\nB:\n%s", sa, sb);
    check("report: only the newest bench file of a series is shown",
          !strstr(out, "14.3") && !strstr(out, "bench-old.json"), "%s", out);
    check("report: no figure of one machine in the other's section",
          strstr(sa, "| 5000 |") && !strstr(sa, "8000") && !strstr(sa, "35.7") &&
              !strstr(sa, "pytorch") && !strstr(sa, "1.43") && !strstr(sa, "report-b") &&
              strstr(sb, "| 8000 |") && !strstr(sb, "5000") && !strstr(sb, "143") &&
              strstr(sb, "pytorch (tuned)") && !strstr(sb, "report-a"),
          "A:\n%s\nB:\n%s", sa, sb);
    check("report: the comparison's ratios are computed from the files",
          strstr(sc, "| seed/conv2/b32 | simd | fwd | 143 | 71% | 35.7 | 59% | 0.25 |") &&
              strstr(sc, "| seed/conv2/b32 | onednn | fwd | 71.4 | 36% | 23.8 | 40% | 0.33 |") &&
              strstr(sc, "| **all** | 2 | **0.29** |") &&
              strstr(sc, "### Convolution GFLOP/s, 2 threads") && !strstr(sc, "naive") &&
              strstr(sc, "| **auto** | training run | 2 | 5000 | 8000 | 1.60 |") &&
              strstr(sc, "| pytorch (tuned) | peer | 2 | – | 1000 | – |"),
          "%s", sc);
    check("report: the comparison names both machines with their CPU model",
          count(sc, "(Test Chip, ") == 2, "%s", sc);
    snprintf(cmd, sizeof cmd, "ls '%s'/plots2/test-chip-2c-*/gflops-seed-t2.dat | wc -l", dir);
    rc = check_run(cmd, out, sizeof out);
    check("report: plots in one directory per machine", rc == 0 && atoi(out) == 2, "%s", out);
    /* the bars' data carry the interquartile range of the repetitions */
    snprintf(cmd, sizeof cmd, "head -n 1 '%s'/plots2/test-chip-2c-*/gflops-seed-t2.dat", dir);
    rc = check_run(cmd, out, sizeof out);
    check("report: bar data carry each backend's IQR",
          rc == 0 && strstr(out, "case simd simd_q1 simd_q3 "), "%s", out);
    /* every plot: text literal, the shared series style, the machine in its titles */
    static const char *const gp[] = { "gflops", "speedup", "roofline", "training" };
    int styled = 0;
    for (int i = 0; i < 4; i++) {
        snprintf(cmd, sizeof cmd, "grep -c 'series.gp\\|sprintf(\"%%s: .*machine' scripts/%s.gp",
                 gp[i]);
        rc = check_run(cmd, out, sizeof out);
        styled += rc == 0 && atoi(out) >= 2;
    }
    rc = check_run("grep -c 'set termoption noenhanced' scripts/series.gp", out, sizeof out);
    check("report: plot scripts load series.gp (noenhanced, a colour and point per series) and "
          "title with the machine",
          styled == 4 && rc == 0 && atoi(out) == 1, "%d of 4 scripts", styled);

    /* one machine's bench file alone: no machine file, so no % */
    snprintf(cmd, sizeof cmd,
             "convbench report --out '%s/R3.md' --plots '%s/plots3' "
             "'%s/bench-new.json' && cat '%s/R3.md'",
             dir, dir, bdir, dir);
    rc = check_run(cmd, out, sizeof out);
    check("report: without its machine file, \"no machine file\" instead of a %",
          rc == 0 && strstr(out, "no machine file") && strstr(out, "| 35.7 |") &&
              !strstr(out, "%)"),
          "exit %d:\n%s", rc, out);

    snprintf(cmd, sizeof cmd, "convbench report --out '%s/R4.md' '%s/absent'", dir, dir);
    rc = check_run(cmd, out, sizeof out);
    check("report: a missing path is exit 2 naming it", rc == 2 && strstr(out, "absent"),
          "exit %d:\n%s", rc, out);
}

/* A fingerprint identifies the machine even where the other fields differ
   between its files, and its label names it. */
static void test_fingerprint(void)
{
    const char *dir = check_tmpdir();
    char cdir[512], cmd[2048];
    static char out[1 << 16];
    static const char *const f[] = { "avx2", NULL };
    snprintf(cdir, sizeof cdir, "%s/report-c", dir);
    cJSON *m1 = machine_obj("Box", 512, f, "lab-box", "00000000c0ffee00"),
          *m2 = machine_obj("Box (renamed)", 1024, f, "lab-box", "00000000c0ffee00");
    cJSON *runs, *doc = doc_on("machine", m1, "avx2", "2026-01-01T00:00:00Z", &runs);
    add_peak(runs, "peak", "avx2", 60);
    int rc = write_doc(cdir, "machine-vm.json", doc);
    doc = doc_on("bench", m2, "avx2", "2026-01-02T00:00:00Z", &runs);
    add_conv(runs, "simd", 4e-3);
    rc |= write_doc(cdir, "bench.json", doc);
    cJSON_Delete(m1);
    cJSON_Delete(m2);
    if (rc) {
        check("report: synthetic files with a fingerprint written", 0, "results_write failed");
        return;
    }
    snprintf(cmd, sizeof cmd, "convbench report --out '%s/R5.md' '%s' && cat '%s/R5.md'", dir, cdir,
             dir);
    rc = check_run(cmd, out, sizeof out);
    check("report: the fingerprint groups a machine's files and its label names it",
          rc == 0 && count(out, "\n## Machine `") == 1 && strstr(out, "\n## Machine `lab-box`") &&
              strstr(out, "35.7 (59%)") && !strstr(out, "Machines compared"),
          "exit %d:\n%s", rc, out);
}

void test_reports(void)
{
    if (!check_selected("report")) return;
    test_two_machines();
    test_fingerprint();
}
