/* The trainer's commands on bad input: bad or missing data, a bad spec,
   bad options, a shape the backend cannot run (each an exit code and a
   message naming the fault), and train --save then eval agreeing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include "../harness/results.h"
#include "../kernels/conv.h"
#include "check.h"
#include "suites.h"

static void put_be32(unsigned char *p, unsigned v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

/* Writes an IDX set of n images to dir/PREFIX-*-idx?-ubyte(.gz). */
static void write_idx(const char *dir, const char *prefix, int gz, unsigned img_magic, int n_img,
                      int n_lab, int bad_label, long truncate_images)
{
    char path[1024];
    unsigned char hdr[16];
    size_t px = (size_t)n_img * 28 * 28;
    unsigned char *pix = calloc(px + 1, 1), *lab = calloc((size_t)n_lab + 1, 1);
    for (size_t i = 0; i < px; i++) pix[i] = (unsigned char)(i * 7);
    for (int i = 0; i < n_lab; i++) lab[i] = (unsigned char)(i % 10);
    if (bad_label) lab[n_lab - 1] = 12;
    put_be32(hdr, img_magic);
    put_be32(hdr + 4, (unsigned)n_img);
    put_be32(hdr + 8, 28);
    put_be32(hdr + 12, 28);
    size_t img_bytes = truncate_images >= 0 ? (size_t)truncate_images : px;
    for (int which = 0; which < 2; which++) {
        snprintf(path, sizeof path, "%s/%s-%s-idx%d-ubyte%s", dir, prefix,
                 which ? "labels" : "images", which ? 1 : 3, gz ? ".gz" : "");
        gzFile f = gzopen(path, gz ? "wb" : "wbT");
        if (!which) {
            gzwrite(f, hdr, 16);
            if (img_bytes) gzwrite(f, pix, (unsigned)img_bytes);
        } else {
            unsigned char lh[8];
            put_be32(lh, 0x801);
            put_be32(lh + 4, (unsigned)n_lab);
            gzwrite(f, lh, 8);
            gzwrite(f, lab, (unsigned)n_lab);
        }
        gzclose(f);
    }
    free(pix);
    free(lab);
}

static void cli_case(const char *name, const char *args, int want_rc, const char *want_text)
{
    char cmd[1200], out[8192];
    snprintf(cmd, sizeof cmd, "convbench %s", args);
    int rc = check_run(cmd, out, sizeof out);
    char *nl = strrchr(out, '\n');
    if (nl && !nl[1]) *nl = 0;
    check(name, rc == want_rc && strstr(out, want_text) != NULL,
          "exit %d (want %d), output lacks \"%s\": %.300s", rc, want_rc, want_text, out);
}

/* A refusal before any work: exit 2, the message, and no epoch run.
   args follow "convbench", or are the whole line where they set the
   environment first. */
static void refused(const char *name, const char *args, const char *want_text)
{
    char cmd[5200], out[8192];
    snprintf(cmd, sizeof cmd, "%s%s", strstr(args, "convbench ") ? "" : "convbench ", args);
    int rc = check_run(cmd, out, sizeof out);
    check(name, rc == 2 && strstr(out, want_text) && !strstr(out, "Epoch"),
          "exit %d (want 2), output lacks \"%s\" or trained: %.300s", rc, want_text, out);
}

/* Bad input the fuzzing and fault-injection review found, each refused
   with a message naming the file or option, none a crash. */
static void bad_inputs(const char *tmp)
{
    char args[5200], path[600];
    refused("train-cli/bad/spec-missing", "train --model /nonexistent/x.net", "cannot open");
    refused("train-cli/bad/spec-directory", "train --model /", "not a regular file");
    snprintf(path, sizeof path, "%s/big.net", tmp);
    FILE *f = fopen(path, "w");
    for (int i = 0; f && i < (1 << 17); i++) fputs("#######\n", f); /* 1 MiB of comments */
    if (f) fclose(f);
    snprintf(args, sizeof args, "train --model '%s'", path);
    refused("train-cli/bad/spec-too-big", args, "larger than 1 MiB");
    refused("train-cli/bad/spec-flatten-overflow",
            "train --model fuzz/regress/spec/ub-flatten-overflow.net", "features, more than");
    refused("train-cli/bad/lr-underflow", "train --lr 1e-300", "--lr wants a number a float holds");
    refused("train-cli/bad/lr-nan", "train --lr nan", "--lr wants a number");
    refused("train-cli/bad/threads-wrap", "train --threads 4294967297",
            "--threads wants a positive integer");
    refused("train-cli/bad/threads-oversubscribed", "train --threads 100000",
            "CONVBENCH_MAX_THREADS");
    refused("train-cli/bad/batch-memory", "CONVBENCH_MAX_MEMORY=1G convbench train --batch 4096",
            "more than the memory limit of 1.00 GiB");
    /* output paths are checked before training, not after it */
    snprintf(args, sizeof args, "train --data '%s/good' --epochs 1 --save /nonexistent/w.bin", tmp);
    refused("train-cli/bad/save-dir-missing", args, "/nonexistent/w.bin");
    snprintf(args, sizeof args, "train --data '%s/good' --epochs 1 --json '%s'", tmp, tmp);
    refused("train-cli/bad/json-is-directory", args, "is a directory");
    char longname[4200];
    memset(longname, 'a', 4095);
    longname[4095] = 0;
    snprintf(args, sizeof args, "train --data '%s/good' --epochs 1 --save '%s/%s'", tmp, tmp,
             longname);
    refused("train-cli/bad/save-path-too-long", args, "too long");
    /* a long path leaves room for the reason after it */
    memset(longname, 'd', 600);
    longname[600] = 0;
    snprintf(args, sizeof args, "train --data '%s/%s'", tmp, longname);
    refused("train-cli/bad/long-path-reason", args, "[.gz]: no such file");
}

void test_train_cli(void)
{
    if (!check_selected("train-cli")) return;
    const char *tmp = check_tmpdir();
    static const struct {
        const char *dir;
        int gz, n_img, n_lab, bad_label;
        unsigned magic;
        long trunc;
        const char *want;
    } sets[] = {
        { "good", 1, 40, 40, 0, 0x803, -1, "Done" },
        { "good-raw", 0, 40, 40, 0, 0x803, -1, "Done" },
        { "magic", 1, 40, 40, 0, 0x903, -1, "bad magic number" },
        { "truncated", 1, 40, 40, 0, 0x803, 28 * 28 * 10 + 5, "truncated" },
        /* a raw file shorter than its header claims: refused before allocating */
        { "claims", 0, 40, 40, 0, 0x803, 100, "the header claims images of 31360 bytes" },
        { "count", 0, 40, 39, 0, 0x803, -1, "39 labels but" },
        { "label", 1, 40, 40, 1, 0x803, -1, "out of range" },
    };
    char args[1024], name[96];
    for (size_t i = 0; i < sizeof sets / sizeof *sets; i++) {
        char dir[600];
        snprintf(dir, sizeof dir, "%s/%s", tmp, sets[i].dir);
        snprintf(args, sizeof args, "mkdir -p '%s'", dir);
        if (system(args)) continue;
        write_idx(dir, "train", sets[i].gz, sets[i].magic, sets[i].n_img, sets[i].n_lab,
                  sets[i].bad_label, sets[i].trunc);
        write_idx(dir, "t10k", sets[i].gz, 0x803, 20, 20, 0, -1);
        snprintf(args, sizeof args, "train --data '%s' --epochs 1 --batch 8 --backend naive", dir);
        snprintf(name, sizeof name, "train-cli/data-%s", sets[i].dir);
        cli_case(name, args, strcmp(sets[i].dir, "good") && strcmp(sets[i].dir, "good-raw") ? 2 : 0,
                 sets[i].want);
    }
    snprintf(args, sizeof args, "train --data '%s/none' --epochs 1", tmp);
    cli_case("train-cli/data-missing", args, 2, "no such file");

    /* a spec error through the CLI */
    char bad[600];
    snprintf(bad, sizeof bad, "%s/bad.net", tmp);
    FILE *bf = fopen(bad, "w");
    if (bf) {
        fputs("input 28 28 1\nflatten\ndense 10 softmax\ndense 10 softmax\n", bf);
        fclose(bf);
    }
    snprintf(args, sizeof args, "train --model '%s/bad.net' --epochs 1", tmp);
    cli_case("train-cli/bad-spec", args, 2, "bad.net:3: softmax only on the last");
    cli_case("train-cli/unknown-backend", "train --backend nosuch --epochs 1", 2,
             "unknown backend 'nosuch'");
    cli_case("train-cli/unknown-layer", "train --backend conv9=naive --epochs 1", 2,
             "no conv layer named 'conv9'");
    cli_case("train-cli/bad-epochs", "train --epochs 0", 2, "--epochs wants an integer");
    cli_case("train-cli/bad-lr", "train --lr abc", 2, "--lr wants a number");
    cli_case("train-cli/bad-threads", "train --threads -2", 2,
             "--threads wants a positive integer");
    cli_case("train-cli/bad-replicas", "train --replicas 1000", 2, "--replicas wants an integer");
    cli_case("train-cli/replicas-not-predict", "predict --replicas 2", 2,
             "--replicas does not apply");
    cli_case("train-cli/unknown-option", "train --frobnicate", 2, "unknown option");
    cli_case("train-cli/eval-needs-load", "eval", 2, "--load FILE is required");
    cli_case("train-cli/help", "train --help", 0, "usage: convbench train");
    cli_case("train-cli/unknown-command", "frobnicate", 2, "unknown command");
    /* a shape the backend cannot run is named with its layer and reason */
    char path[600];
    snprintf(path, sizeof path, "%s/five.net", tmp);
    FILE *f = fopen(path, "w");
    if (f) {
        fputs("input 28 28 1\nconv2d 4 5x5 relu\nflatten\ndense 10 softmax\n", f);
        fclose(f);
        for (const conv_backend *const *b = conv_backends(); *b; b++) {
            conv_shape s = { 32, 28, 28, 1, 4, 5, 5, 1, 0 };
            if (!(*b)->unsupported(&s)) continue;
            snprintf(args, sizeof args, "train --model '%s' --backend %s --epochs 1", path,
                     (*b)->name);
            snprintf(name, sizeof name, "train-cli/unsupported-%s", (*b)->name);
            cli_case(name, args, 2, "conv1 (32x28x28x1 -> 4 5x5 stride 1 pad 0)");
        }
    }
    /* likewise a depthwise layer, and a bad option of one through the CLI */
    snprintf(path, sizeof path, "%s/dw.net", tmp);
    if ((f = fopen(path, "w"))) {
        /* refused when the layers are planned, before the data are read */
        fputs("input 28 28 4\ndwconv2d 3x3 stride=2 pad=same relu\nflatten\ndense 10 softmax\n", f);
        fclose(f);
        for (const conv_backend *const *b = conv_backends(); *b; b++) {
            conv_shape s = { 32, 28, 28, 4, 4, 3, 3, 2, 0, .groups = 4, .pad_b = 1, .pad_r = 1 };
            if (!(*b)->unsupported(&s)) continue;
            snprintf(args, sizeof args, "train --model '%s' --backend %s --epochs 1", path,
                     (*b)->name);
            snprintf(name, sizeof name, "train-cli/unsupported-depthwise-%s", (*b)->name);
            char want[160];
            snprintf(want, sizeof want,
                     "pad 0,1,0,1 groups 4): backend %s cannot run it: ", (*b)->name);
            cli_case(name, args, 2, want);
        }
    }
    if ((f = fopen(path, "w"))) {
        fputs("input 28 28 1\ndwconv2d 3x3 pad=same,\nflatten\ndense 10 softmax\n", f);
        fclose(f);
        snprintf(args, sizeof args, "train --model '%s' --epochs 1", path);
        cli_case("train-cli/bad-dwconv", args, 2, "dw.net:2: bad padding 'same,'");
    }
    /* save -> eval through the CLI reproduces the accuracy printed by train */
    char wpath[600], out[8192];
    snprintf(wpath, sizeof wpath, "%s/cli.bin", tmp);
    snprintf(args, sizeof args,
             "convbench train --data '%s/good' --epochs 1 --backend naive --save '%s'", tmp, wpath);
    int rc = check_run(args, out, sizeof out);
    const char *acc = strstr(out, "test accuracy ");
    char want[64] = "";
    if (acc) snprintf(want, sizeof want, "%.6s", acc + 14);
    snprintf(args, sizeof args, "convbench eval --data '%s/good' --load '%s' --backend naive", tmp,
             wpath);
    char eout[4096];
    int erc = check_run(args, eout, sizeof eout);
    const char *eacc = strstr(eout, "test_accuracy: ");
    check("train-cli/save-eval", rc == 0 && erc == 0 && acc && eacc && !strncmp(eacc + 15, want, 6),
          "train said %s, eval said %.40s", want, eacc ? eacc + 15 : eout);
    /* --out writes the results file; --json is the same option */
    static const char *const names[] = { "out", "json" };
    for (int i = 0; i < 2; i++) {
        char rpath[700], err[512];
        snprintf(rpath, sizeof rpath, "%s/train-%s.json", tmp, names[i]);
        snprintf(args, sizeof args,
                 "convbench train --data '%s/good' --epochs 1 --batch 8 --backend naive --%s '%s'",
                 tmp, names[i], rpath);
        rc = check_run(args, out, sizeof out);
        cJSON *doc = results_read(rpath, err, sizeof err);
        const cJSON *runs = cJSON_GetObjectItemCaseSensitive(doc, "runs");
        snprintf(name, sizeof name, "train-cli/results-%s", names[i]);
        check(name,
              rc == 0 && doc && cJSON_GetArraySize(runs) == 1 &&
                  !strcmp(results_str(cJSON_GetArrayItem(runs, 0), "type"), "train"),
              "exit %d, %s: %.200s", rc, doc ? "read" : err, out);
        cJSON_Delete(doc);
    }
    bad_inputs(tmp);
    /* a quote in --png cannot run gnuplot's system(): the name is quoted */
    snprintf(args, sizeof args,
             "convbench predict --data '%s/good' --load '%s' --backend naive --show 2 "
             "--png \"%s/a'; system('touch PWNED'); x='.png\"",
             tmp, wpath, tmp);
    rc = check_run(args, out, sizeof out);
    const char *pwned = "PWNED"; /* gnuplot's working directory: ours */
    FILE *pf = fopen(pwned, "r");
    check("train-cli/png-quote", !pf && (rc == 0 || rc == 1), "exit %d, %s %s: %.300s", rc, pwned,
          pf ? "exists" : "absent", out);
    if (pf) fclose(pf);
}
