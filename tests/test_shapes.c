/* Shapes as users write them (harness/shape_parse.c, shape_sets.c): the
   nine-number form, benchdnn descriptors with benchdnn's defaults, shape
   files, the built-in set files, a network spec's conv layers; each
   refusal naming its field; and bench/bench_conv running them. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../harness/results.h"
#include "../harness/shape_sets.h"
#include "check.h"
#include "suites.h"

static int same(const conv_shape *a, conv_shape b) { return !memcmp(a, &b, sizeof b); }

static void good(const char *name, const char *text, conv_shape want, const char *want_layer)
{
    bench_layer l = { "keep", "", { 0, 0, 0, 0, 0, 0, 0, 0, 0 } };
    char err[512] = "";
    int rc = shape_parse(text, &l, err, sizeof err);
    check(name,
          rc == 0 && same(&l.shape, want) && !strcmp(l.layer, want_layer) && !strcmp(l.set, "keep"),
          "'%s': rc %d (%s), %d,%d,%d,%d,%d,%d,%d,%d,%d name '%s'", text, rc, err, l.shape.n,
          l.shape.h, l.shape.w, l.shape.c, l.shape.k, l.shape.r, l.shape.s, l.shape.stride,
          l.shape.pad, l.layer);
}

static void bad(const char *name, const char *text, const char *want)
{
    bench_layer l = { "", "", { 0, 0, 0, 0, 0, 0, 0, 0, 0 } };
    char err[512] = "";
    int rc = shape_parse(text, &l, err, sizeof err);
    check(name, rc == -1 && strstr(err, want), "'%s': rc %d, message '%s' lacks '%s'", text, rc,
          err, want);
}

static void parse_forms(void)
{
    good("shapes/numbers", "4,20,20,16,24,3,3,1,1", (conv_shape){ 4, 20, 20, 16, 24, 3, 3, 1, 1 },
         "ic16ih20oc24kh3sh1ph1");
    good("shapes/numbers-named", " 8, 14,12,3,5,3,1,2,0 :my:layer/1 ",
         (conv_shape){ 8, 14, 12, 3, 5, 3, 1, 2, 0 }, "my_layer_1");
    good("shapes/descriptor", "mb32ic32ih13oc64kh3ph0",
         (conv_shape){ 32, 13, 13, 32, 64, 3, 3, 1, 0 }, "ic32ih13oc64kh3sh1ph0");
    /* benchdnn's defaults: mb 2, stride 1, padding 0 */
    good("shapes/descriptor-defaults", "ic3iw9oc4kw3", (conv_shape){ 2, 9, 9, 3, 4, 3, 3, 1, 0 },
         "ic3ih9oc4kh3sh1ph0");
    /* padding deduced from the output, as benchdnn does */
    good("shapes/descriptor-padding", "mb8ic64ih56oc64oh56kh3",
         (conv_shape){ 8, 56, 56, 64, 64, 3, 3, 1, 1 }, "ic64ih56oc64kh3sh1ph1");
    good("shapes/descriptor-canonical",
         "g1mb1_ic3ih224iw224_oc64oh112ow112_kh7kw7_sh2sw2_ph3pw3_dh0dw0_n\"resnet18:conv1\"",
         (conv_shape){ 1, 224, 224, 3, 64, 7, 7, 2, 3 }, "resnet18_conv1");
    good("shapes/descriptor-rect", "mb1ic2ih6iw9oc3kh3kw1",
         (conv_shape){ 1, 6, 9, 2, 3, 3, 1, 1, 0 }, "ic2ih6iw9oc3kh3kw1sh1ph0");

    bad("shapes/bad/wrap", "4294967297,1,1,1,1,1,1,1,0", "N is out of range");
    bad("shapes/bad/wrap-descriptor", "mb1ic4294967297ih8oc4kh3", "ic is out of range");
    bad("shapes/bad/few", "1,2", "2 numbers where N,H,W,C,K,R,S,STRIDE,PAD wants 9");
    bad("shapes/bad/many", "1,8,8,1,1,3,3,1,0,5", "more than 9 numbers");
    bad("shapes/bad/negative", "1,8,8,1,1,3,3,1,-1", "PAD must not be negative");
    bad("shapes/bad/zero", "1,8,8,0,1,3,3,1,0", "C must be >= 1");
    bad("shapes/bad/word", "1,8,8,x,1,3,3,1,0", "C wants a number");
    bad("shapes/bad/tail", "1,8,8,1,1,3,3,1,0 junk", "unexpected 'junk'");
    bad("shapes/bad/empty-name", "1,8,8,1,1,3,3,1,0:", "NAME after ':'");
    /* the appended members: numbers form by name, descriptors benchdnn's way */
    good("shapes/pad-beyond-filter", "1,8,8,1,1,3,3,1,3", (conv_shape){ 1, 8, 8, 1, 1, 3, 3, 1, 3 },
         "ic1ih8oc1kh3sh1ph3");
    good("shapes/numbers-members", "1,9,9,4,8,3,3,1,1, groups=4,stride_w=2,dil_h=2,pad_b=1:dw",
         (conv_shape){ 1, 9, 9, 4, 8, 3, 3, 1, 1, .groups = 4, .stride_w = 2, .dil_h = 2,
                       .pad_b = 1 },
         "dw");
    good("shapes/numbers-members-canonical",
         "1,9,9,4,8,3,3,1,0,groups=1,stride_h=1,dil_w=1,pad_t=1,"
         "pad_b=1,pad_l=1,pad_r=2",
         (conv_shape){ 1, 9, 9, 4, 8, 3, 3, 1, 1, .pad_r = 1 }, "ic4ih9oc8kh3sh1ph1pt0pb0pl0pr1");
    good("shapes/descriptor-groups", "g32mb8ic32ih56oc32oh56kh3",
         (conv_shape){ 8, 56, 56, 32, 32, 3, 3, 1, 1, .groups = 32 }, "g32ic32ih56oc32kh3sh1ph1");
    good("shapes/descriptor-multiplier", "g3mb1ic3ih8oc6kh3ph1", /* depthwise, multiplier 2 */
         (conv_shape){ 1, 8, 8, 3, 6, 3, 3, 1, 1, .groups = 3 }, "g3ic3ih8oc6kh3sh1ph1");
    /* benchdnn's dh counts the pixels skipped: dh1 is dilation 2 */
    good("shapes/descriptor-dilation", "mb1ic4ih16oc4oh16kh3dh1",
         (conv_shape){ 1, 16, 16, 4, 4, 3, 3, 1, 2, .dil_h = 2, .dil_w = 2 },
         "ic4ih16oc4kh3sh1ph2dh1dw1");
    good("shapes/descriptor-dilation-rect", "mb1ic4ih12oc4kh3dh2dw0",
         (conv_shape){ 1, 12, 12, 4, 4, 3, 3, 1, 0, .dil_h = 3 }, "ic4ih12oc4kh3sh1ph0dh2dw0");
    good("shapes/descriptor-strides", "mb1ic4ih8oc4kh3sh1sw2",
         (conv_shape){ 1, 8, 8, 4, 4, 3, 3, 1, 0, .stride_w = 2 }, "ic4ih8oc4kh3sh1sw2ph0");
    /* Keras "same", stride 2, even input: one more at the bottom/right */
    good("shapes/descriptor-same-even", "mb1ic3ih8oc4oh4kh3sh2",
         (conv_shape){ 1, 8, 8, 3, 4, 3, 3, 2, 0, .pad_b = 1, .pad_r = 1 },
         "ic3ih8oc4kh3sh2ph0pt0pb1pl0pr1");
    good("shapes/descriptor-ph-pw", "mb1ic3ih8oc4kh3ph2pw0",
         (conv_shape){ 1, 8, 8, 3, 4, 3, 3, 1, 0, .pad_t = 2, .pad_b = 2 },
         "ic3ih8oc4kh3sh1ph0pt2pb2pl0pr0");
    good("shapes/descriptor-oh-ph", "mb1ic1ih5oc1oh7kh3ph3", /* bottom: 1 */
         (conv_shape){ 1, 5, 5, 1, 1, 3, 3, 1, 1, .pad_t = 2, .pad_l = 2 },
         "ic1ih5oc1kh3sh1ph1pt2pb0pl2pr0");
    bad("shapes/bad/member", "1,8,8,1,1,3,3,1,0,group=2", "unknown field 'group'");
    bad("shapes/bad/member-twice", "1,8,8,2,2,3,3,1,0,groups=2,groups=2", "groups given twice");
    bad("shapes/bad/member-value", "1,8,8,2,2,3,3,1,0,groups", "groups wants =NUMBER");
    bad("shapes/bad/member-negative", "1,8,8,2,2,3,3,1,0,pad_t=-1", "pad_t must not be negative");
    bad("shapes/bad/groups-divide", "g3mb1ic4ih8oc6kh3", "groups must divide");
    bad("shapes/bad/g0", "g0mb1ic4ih8oc6kh3", "g must be >= 1");
    bad("shapes/bad/output", "1,2,2,1,1,3,3,1,0", "output smaller than 1x1");
    bad("shapes/bad/3d", "mb1ic4id4ih8oc4kh3", "id 4: 3-D");
    bad("shapes/bad/dilation", "mb1ic4ih4oc4kh3dh1", "output smaller than 1x1");
    bad("shapes/bad/no-oc", "mb1ic4ih8kh3", "descriptor needs ic and oc");
    bad("shapes/bad/no-kernel", "mb1ic4ih8oc4", "descriptor needs kh or kw");
    bad("shapes/bad/field", "mb1ic4ih8oc4kh3xy1", "unknown descriptor field 'xy'");
    bad("shapes/bad/no-number", "mb1ic4ih8oc4khx", "kh wants a number, got 'x'");
    bad("shapes/bad/twice", "mb1ic4ic5ih8oc4kh3", "ic given twice (4, then 5)");
    good("shapes/descriptor-repeat", "mb1ic16oc16_ih10kh5_kh5ph7sh1",
         (conv_shape){ 1, 10, 10, 16, 16, 5, 5, 1, 7 }, "ic16ih10oc16kh5sh1ph7");
    bad("shapes/bad/output-mismatch", "mb1ic4ih8oc4kh3oh3ph0", "oh 3 ow 3 do not match");
    good("shapes/descriptor-oh-bottom", "mb1ic4ih8oc4kh3oh7ph0", /* benchdnn: bottom 1 */
         (conv_shape){ 1, 8, 8, 4, 4, 3, 3, 1, 0, .pad_b = 1, .pad_r = 1 },
         "ic4ih8oc4kh3sh1ph0pt0pb1pl0pr1");
    bad("shapes/bad/neither", "%%%", "neither N,H,W,C,K,R,S,STRIDE,PAD nor a descriptor");
    bad("shapes/bad/empty", "   ", "empty shape");
}

/* Two-dimensional lines in the style of benchdnn's shapes_basic,
   shapes_tails and shapes_regression_padding lists: grouped and depthwise,
   asymmetric padding derived from oh, padding at and beyond the filter.
   Each parses, and naive, im2col and onednn run it. */
static void benchdnn_lines(void)
{
    static const char *const lines[] = {
        "g1ic3oc17_ih8oh4kh3ph1sh2",
        "g1ic16oc16_ih5oh8kh3ph3",
        "g1ic17oc17_ih8oh5kh3ph3sh2",
        "g4ic20oc20_ih8oh4kh3ph1sh2",
        "g16ic16oc16_ih5oh5kh3ph1",
        "g17ic17oc17_ih8oh4kh3ph1sh2",
        "ic32oc13_ih13oh12kh3ph0",
        "ic29oc65_ih13oh13kh3ph1",
        "g64ic512oc512_ih24oh12kh3sh2dh0ph1",
        "g1ic4ih84oc16oh20kh8sh4ph0",
        "g4ic20ih5oc20oh5kh3ph1",
        "mb1ic16oc16_ih10kh5_kh5ph7sh1",
        "mb1ic16oc16_ih10kh3_kh3ph5sh1",
        "mb1ic16oc16_ih10kh1_kh1ph3sh1",
        "mb1_ic128ih1_oc16oh1_kh3_ph1",
        "mb1ic8ih9oc8oh5kh3dh1sh2",
    };
    static const char *const runners[] = { "naive", "im2col", "onednn" };
    char name[160], err[512];
    for (size_t i = 0; i < sizeof lines / sizeof *lines; i++) {
        bench_layer l = { "", "", { 0 } };
        snprintf(name, sizeof name, "shapes/benchdnn/%s", lines[i]);
        if (!check(name, shape_parse(lines[i], &l, err, sizeof err) == 0, "%s", err)) continue;
        for (size_t b = 0; b < sizeof runners / sizeof *runners; b++) {
            const conv_backend *be = conv_backend_find(runners[b]);
            const char *why = be ? be->unsupported(&l.shape) : "not registered";
            snprintf(name, sizeof name, "shapes/benchdnn/%s/%s", lines[i], runners[b]);
            check(name, !why, "refused: %s", why ? why : "");
        }
    }
}

static void parse_files(void)
{
    shape_list l = { NULL, 0, 0 };
    char err[512] = "";
    int rc = shape_parse_text("# mine\n\n 2,8,8,3,4,3,3,1,1:a  # first\nmb2ic3ih8oc4kh3ph1na\n"
                              "mb4ic3ih8oc4kh3\n",
                              "mine.shapes", "mine", &l, err, sizeof err);
    /* the second line names the same case with the same shape: kept once */
    check("shapes/file",
          rc == 0 && l.n == 2 && !strcmp(l.v[0].set, "mine") && !strcmp(l.v[0].layer, "a") &&
              l.v[1].shape.n == 4,
          "rc %d (%s), %d shapes", rc, err, l.n);
    shape_list_free(&l);
    rc = shape_parse_text("1,8,8,1,1,3,3,1,0:a\n# c\n1,9,9,1,1,3,3,1,0:a\n", "f", "s", &l, err,
                          sizeof err);
    check("shapes/file/duplicate", rc == -1 && strstr(err, "f:3: two shapes named s/a/b1"), "%s",
          err);
    shape_list_free(&l);
    rc = shape_parse_text("1,8,8,1,1,3,3,1,0\n\n1,8\n", "f", "s", &l, err, sizeof err);
    check("shapes/file/line", rc == -1 && strstr(err, "f:3: 2 numbers"), "%s", err);
    shape_list_free(&l);
    rc = shape_parse_text("# nothing\n\n", "f", "s", &l, err, sizeof err);
    check("shapes/file/empty", rc == -1 && strstr(err, "f: no shape in the file"), "%s", err);
    shape_list_free(&l);
    rc = shape_parse_file("/nonexistent/x.shapes", "s", &l, err, sizeof err);
    check("shapes/file/missing", rc == -1 && strstr(err, "cannot open /nonexistent/x.shapes"), "%s",
          err);
    shape_list_free(&l);
    char set[SHAPE_NAME_MAX];
    shape_set_name("dir.d/my layers.shapes", set, sizeof set);
    check("shapes/file/set-name", !strcmp(set, "my_layers"), "%s", set);
}

static void builtin_sets(const char *tmp)
{
    char err[512] = "";
    shape_list l = { NULL, 0, 0 };
    int rc = shapes_load_sets("all", &l, err, sizeof err);
    check("shapes/sets/all",
          rc == 0 && l.n == 35 && !strcmp(l.v[0].set, "seed") &&
              same(&l.v[1].shape, (conv_shape){ 32, 13, 13, 32, 64, 3, 3, 1, 0 }),
          "rc %d (%s), %d shapes", rc, err, l.n);
    shape_list_free(&l);
    const char *old = getenv("CONVBENCH_SHAPES_DIR");
    char *saved = old ? strdup(old) : NULL;
    setenv("CONVBENCH_SHAPES_DIR", "/nonexistent/shapes", 1);
    rc = shapes_load_sets("seed", &l, err, sizeof err);
    check("shapes/sets/missing-dir",
          rc == -1 && strstr(err, "/nonexistent/shapes") && strstr(err, "CONVBENCH_SHAPES_DIR"),
          "%s", err);
    shape_list_free(&l);
    if (saved) {
        setenv("CONVBENCH_SHAPES_DIR", saved, 1);
        free(saved);
    } else {
        unsetenv("CONVBENCH_SHAPES_DIR");
    }
    /* a spec's conv layers, mixed with a set and a shape */
    char spec[600];
    snprintf(spec, sizeof spec, "%s/two.net", tmp);
    FILE *f = fopen(spec, "w");
    if (f) {
        fputs("input 12 12 1\nconv2d 4 3x3 relu\nconv2d 8 3x3 stride=2 pad=1 relu\nflatten\n"
              "dense 10 softmax\n",
              f);
        fclose(f);
    }
    const char *shapes[] = { "1,8,8,1,1,3,3,1,0" };
    const char *specs = spec;
    shape_request r = { "vgg", shapes, 1, NULL, 0, specs, 3 };
    rc = shapes_collect(&r, &l, err, sizeof err);
    check("shapes/collect",
          rc == 0 && l.n == 5 && !strcmp(l.v[2].set, "user") && !strcmp(l.v[3].set, "two") &&
              !strcmp(l.v[4].layer, "conv2") &&
              same(&l.v[4].shape, (conv_shape){ 3, 10, 10, 4, 8, 3, 3, 2, 1 }),
          "rc %d (%s), %d shapes", rc, err, l.n);
    shape_list_free(&l);
    const char *badshape[] = { "1,2" };
    shape_request rb = { NULL, badshape, 1, NULL, 0, NULL, 0 };
    rc = shapes_collect(&rb, &l, err, sizeof err);
    check("shapes/collect/names-option", rc == -1 && !strncmp(err, "--shape '1,2': ", 15), "%s",
          err);
    shape_list_free(&l);
}

static void cli(const char *name, const char *args, int want_rc, const char *want)
{
    char cmd[2400], out[16384];
    snprintf(cmd, sizeof cmd, "%s", args);
    int rc = check_run(cmd, out, sizeof out);
    check(name, rc == want_rc && strstr(out, want),
          "%s: exit %d (want %d), output lacks \"%s\": %.400s", args, rc, want_rc, want, out);
}

/* The runs of a results file: their count, and how many are named with prefix. */
static int runs_named(const char *path, const char *prefix, int *total)
{
    char err[512];
    cJSON *doc = results_read(path, err, sizeof err);
    int n = 0;
    *total = 0;
    const cJSON *r;
    cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(doc, "runs"))
    {
        (*total)++;
        const char *nm = results_str(r, "name");
        n += nm && !strncmp(nm, prefix, strlen(prefix));
    }
    cJSON_Delete(doc);
    return n;
}

/* A bench --paired results file: im2col's 3 passes, none of naive's, each
   with 2 positive speedups, REF's times and a verdict, and the suite naming
   REF. */
static void check_paired_runs(const char *path)
{
    char err[512];
    cJSON *doc = results_read(path, err, sizeof err);
    int runs = 0, good = 0;
    const cJSON *r;
    cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(doc, "runs"))
    {
        runs++;
        const cJSON *p = cJSON_GetObjectItemCaseSensitive(r, "paired");
        const cJSON *sp = cJSON_GetObjectItemCaseSensitive(p, "speedup");
        const cJSON *rs = cJSON_GetObjectItemCaseSensitive(p, "ref_seconds");
        const cJSON *med = cJSON_GetObjectItemCaseSensitive(p, "speedup_median");
        const char *ref = results_str(p, "ref"), *b = results_str(r, "backend");
        const char *v = results_str(p, "verdict");
        int ok = ref && !strcmp(ref, "naive") && b && !strcmp(b, "im2col") &&
                 cJSON_GetArraySize(sp) == 2 && cJSON_GetArraySize(rs) == 2 &&
                 cJSON_IsNumber(med) && med->valuedouble > 0 && v &&
                 (!strcmp(v, "faster") || !strcmp(v, "slower") || !strcmp(v, "same") ||
                  !strcmp(v, "inconclusive"));
        const cJSON *x;
        cJSON_ArrayForEach(x, sp) ok = ok && cJSON_IsNumber(x) && x->valuedouble > 0;
        good += ok;
    }
    const cJSON *suite = cJSON_GetObjectItemCaseSensitive(doc, "suite");
    const char *sref = results_str(suite, "paired");
    check("shapes/bench/paired-runs",
          doc && runs == 3 && good == 3 && sref && !strcmp(sref, "naive"),
          "%s: %d runs, %d with 2 speedups over naive (%s)", path, runs, good, doc ? "read" : err);
    cJSON_Delete(doc);
}

/* bench_conv --paired=REF: each case timed beside REF, REF not a case of
   its own; a REF that refuses the shape skips the case, naming REF */
static void paired_cli(void)
{
    char out[16384];
    int rc = check_run("bench_conv --shape=1,8,8,2,3,3,3,1,0 --backends=im2col,naive "
                       "--paired=naive --benchmark_min_time=0.001 --benchmark_format=json",
                       out, sizeof out);
    check("shapes/bench_conv/paired",
          rc == 0 && strstr(out, "\"speedup\"") && strstr(out, "\"ref_ms\"") &&
              strstr(out, "vs naive"),
          "exit %d: %.400s", rc, out);
    check("shapes/bench_conv/paired-cases",
          strstr(out, "/im2col/backward_weights/manual_time") && !strstr(out, "/naive/"), "%.400s",
          out);
    /* the speedup is REF's time over the case's: both are positive */
    const char *sp = strstr(out, "\"speedup\": ");
    const double v = sp ? atof(sp + 12) : 0;
    check("shapes/bench_conv/paired-value", v > 0 && isfinite(v), "speedup %g", v);
    cli("shapes/bench_conv/paired-unknown", "bench_conv --paired=bogus", 2,
        "bench_conv: --paired: unknown backend 'bogus'");
    cli("shapes/bench_conv/paired-alone",
        "bench_conv --shape=1,8,8,2,3,3,3,1,0 --backends=naive --paired=naive", 2,
        "--paired=naive: no other backend");
    /* bench_gemm --paired: sgemm's cases only, each with OpenBLAS's time beside it */
    rc = check_run("bench_gemm --threads=1 --paired --benchmark_filter=square/64/ "
                   "--benchmark_min_time=0.001 --benchmark_format=json",
                   out, sizeof out);
    check("shapes/bench_gemm/paired",
          rc == 0 && strstr(out, "\"speedup\"") && strstr(out, "\"openblas_us\"") &&
              strstr(out, "sgemm/square/64/") && !strstr(out, "\"openblas/square"),
          "exit %d: %.400s", rc, out);
    /* winograd takes 3x3 stride 1 only: a 5x5 case is skipped, naming it */
    cli("shapes/bench_conv/paired-ref-refuses",
        "bench_conv --shape=1,8,8,2,3,5,5,1,0 --backends=naive --paired=winograd "
        "--benchmark_min_time=0.001 --benchmark_filter=forward",
        0, "--paired winograd: ");
}

static void bench_cli(const char *tmp)
{
    char args[2400], out[700], gb[700];
    snprintf(out, sizeof out, "%s/shape.json", tmp);
    snprintf(gb, sizeof gb, "%s/gbench-own.json", tmp);
    snprintf(args, sizeof args,
             "convbench bench --shape 4,20,20,16,24,3,3,1,1 --backends im2col,simd "
             "--repetitions 1 --min-time 0.001 --quiet --out '%s' --keep-gbench '%s'",
             out, gb);
    cli("shapes/bench/shape", args, 0, "6 runs written");
    int total = 0, n = runs_named(out, "user/ic16ih20oc24kh3sh1ph1/b4/", &total);
    check("shapes/bench/shape-runs", n == 6 && total == 6, "%d of %d runs", n, total);
    char err[512];
    cJSON *doc = results_read(out, err, sizeof err);
    const cJSON *suite = cJSON_GetObjectItemCaseSensitive(doc, "suite");
    const cJSON *given = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(suite, "shapes"), 0);
    check("shapes/bench/suite-records-shapes",
          cJSON_IsString(given) && !strcmp(given->valuestring, "4,20,20,16,24,3,3,1,1") &&
              !strcmp(results_str(suite, "sets"), ""),
          "%s", doc ? "suite lacks the shape" : err);
    cJSON_Delete(doc);
    FILE *f = fopen(gb, "r");
    char head[4096] = "";
    if (f) {
        head[fread(head, 1, sizeof head - 1, f)] = 0;
        fclose(f);
    }
    check("shapes/bench/keep-gbench", strstr(head, "\"benchmarks\"") || strstr(head, "\"context\""),
          "%s: %.200s", gb, head);
    snprintf(out, sizeof out, "%s/model.json", tmp);
    snprintf(args, sizeof args,
             "convbench bench --model '%s/two.net' --batch 2 --backends naive --repetitions 1 "
             "--min-time 0.001 --quiet --out '%s'",
             tmp, out);
    cli("shapes/bench/model", args, 0, "6 runs written");
    int c1 = runs_named(out, "two/conv1/b2/naive/", &total),
        c2 = runs_named(out, "two/conv2/b2/naive/", &total);
    check("shapes/bench/model-runs", c1 == 3 && c2 == 3 && total == 6, "conv1 %d conv2 %d of %d",
          c1, c2, total);
    /* refused before any measurement, naming the option */
    snprintf(args, sizeof args, "convbench bench --shape 4,20,20,16,24,3,3,1,1 --out '%s'", tmp);
    cli("shapes/bench/out-dir", args, 2, "convbench bench: --out: ");
    cli("shapes/bench/bad-shape", "convbench bench --shape 4,20,20", 2,
        "convbench bench: --shape '4,20,20': 3 numbers");
    cli("shapes/bench/bad-file", "convbench bench --shapes /nonexistent.shapes", 2,
        "convbench bench: --shapes: cannot open /nonexistent.shapes");
    cli("shapes/bench/batch-alone", "convbench bench --batch 4", 2,
        "convbench bench: --batch applies to --model only");
    cli("shapes/bench/out-not-dir", "convbench bench --shape 1,8,8,1,1,3,3,1,0 --out /dev/null/x",
        2, "convbench bench: --out: ");
    snprintf(args, sizeof args,
             "convbench bench --shape 1,8,8,1,1,3,3,1,0 --filter nomatch --out '%s/none.json'",
             tmp);
    cli("shapes/bench/filter-none", args, 2, "--filter 'nomatch' matches none");
    /* --paired: every run carries its per-repetition speedups over REF */
    snprintf(out, sizeof out, "%s/paired.json", tmp);
    snprintf(args, sizeof args,
             "convbench bench --shape 1,8,8,2,3,3,3,1,0 --backends im2col --paired naive "
             "--repetitions 2 --min-time 0.001 --quiet --out '%s'",
             out);
    cli("shapes/bench/paired", args, 0, "speedup over naive");
    check_paired_runs(out);
    cli("shapes/bench/paired-unknown", "convbench bench --paired bogus", 2,
        "convbench bench: --paired: unknown backend 'bogus'");
    cli("shapes/bench/paired-alone", "convbench bench --backends naive --paired naive", 2,
        "--paired naive: no other backend in --backends");
    cli("shapes/bench_conv/help", "bench_conv --help", 0, "usage: bench_conv");
    char help[4096];
    check_run("bench_conv --help", help, sizeof help);
    check("shapes/bench_conv/help-first", !strncmp(help, "usage: bench_conv", 17), "%.200s", help);
    cli("shapes/bench_conv/bad-shape", "bench_conv --shape=1,2", 2, "bench_conv: --shape '1,2'");
    paired_cli();
    cli("shapes/backends/descriptor", "convbench backends --shape mb32ic32ih13oc64kh3ph0", 0,
        "shape: n=32 h=13 w=13 c=32 k=64 3x3 stride 1 pad 0");
    cli("shapes/backends/wrap", "convbench backends --shape 4294967297,1,1,1,1,1,1,1,0", 2,
        "convbench backends: --shape '4294967297,1,1,1,1,1,1,1,0': N is out of range");
}

void test_shapes(void)
{
    if (!check_selected("shapes")) return;
    parse_forms();
    benchdnn_lines();
    parse_files();
    const char *tmp = check_tmpdir();
    builtin_sets(tmp);
    bench_cli(tmp);
}
