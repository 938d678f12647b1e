/* Checkpoints: a trained network saved and loaded into another evaluates
   identically, a depthwise one too; another network's weights, a flipped
   byte, a truncated file and a file that is not weights are refused with
   the reason. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../models/checkpoint.h"
#include "../models/data.h"
#include "../models/train.h"
#include "check.h"
#include "seed_run.h"
#include "suites.h"

/* The MobileNet-style spec (grouped weights r*s*(c/g)*k) saved and loaded
   into a net initialised from another seed: the same weights, the same
   logits; with its first depthwise layer dense it is another network. */
static void test_depthwise(void)
{
    net a = { 0 }, b = { 0 }, dense = { 0 };
    char path[512], err[512] = "";
    snprintf(path, sizeof path, "%s/dw.bin", check_tmpdir());
    int ok = !net_parse(&a, "models/mobilenet_mini.net", err, sizeof err) &&
             !net_set_backends(&a, NULL, "naive", err, sizeof err) &&
             !net_init(&a, 2, 1, err, sizeof err) && !checkpoint_save(&a, path, err, sizeof err);
    ok = ok && !net_parse(&b, "models/mobilenet_mini.net", err, sizeof err) &&
         !net_set_backends(&b, NULL, "naive", err, sizeof err) &&
         !net_init(&b, 2, 2, err, sizeof err) && !checkpoint_load(&b, path, err, sizeof err);
    int same = ok;
    for (int i = 0; same && i < a.nlayers; i++)
        same = a.layers[i].weight.n == b.layers[i].weight.n &&
               (!a.layers[i].weight.n || /* flatten: no tensor at all */
                !memcmp(a.layers[i].weight.w, b.layers[i].weight.w,
                        sizeof(float) * a.layers[i].weight.n));
    if (same) {
        const size_t in = (size_t)2 * a.in_h * a.in_w * a.in_c;
        for (size_t i = 0; i < in; i++) a.act[0][i] = b.act[0][i] = (float)(i % 17) / 17.0f;
        same = !net_forward(&a, 2, err, sizeof err) && !net_forward(&b, 2, err, sizeof err) &&
               !memcmp(a.act[a.nlayers], b.act[b.nlayers], sizeof(float) * 2 * a.classes);
    }
    check("checkpoint/depthwise-roundtrip", ok && same, "%s%s", err,
          ok && !same ? "weights or logits differ" : "");
    net_free(&b);
    /* the same spec with conv2 a dense convolution: as many tensors, other sizes */
    char text[4096] = "", other[4200];
    FILE *f = fopen("models/mobilenet_mini.net", "rb");
    if (f) {
        text[fread(text, 1, sizeof text - 1, f)] = 0;
        fclose(f);
    }
    char *dw = strstr(text, "dwconv2d 3x3");
    if (dw) {
        *dw = 0;
        snprintf(other, sizeof other, "%sconv2d 16 3x3%s", text, dw + strlen("dwconv2d 3x3"));
    }
    ok = ok && dw && !net_parse_string(&dense, other, "dense.net", err, sizeof err) &&
         !net_set_backends(&dense, NULL, "naive", err, sizeof err) &&
         !net_init(&dense, 2, 1, err, sizeof err);
    check("checkpoint/depthwise-other-network",
          ok && checkpoint_load(&dense, path, err, sizeof err) && strstr(err, "different network"),
          "%s", err);
    net_free(&dense);
    net_free(&a);
}

void test_checkpoint(void)
{
    if (!check_selected("checkpoint")) return;
    test_depthwise();
    net nt, other;
    run_result r = seed_short_run("naive", 320, 2, &nt);
    if (!check("checkpoint/train", r.ok, "%s", r.err)) return;
    char path[512], err[512], bad[600];
    snprintf(path, sizeof path, "%s/w.bin", check_tmpdir());
    dataset te;
    double l0, a0, l1, a1;
    int ok = !checkpoint_save(&nt, path, err, sizeof err) &&
             !data_load(&te, DATA_DEFAULT_DIR, "t10k", 10, 1000, err, sizeof err) &&
             !net_evaluate(&nt, &te, 32, &l0, &a0, NULL, err, sizeof err);
    if (!check("checkpoint/save", ok, "%s", err)) {
        net_free(&nt);
        return;
    }
    ok = !net_parse(&other, "models/seed_cnn.net", err, sizeof err) &&
         !net_set_backends(&other, NULL, "naive", err, sizeof err) &&
         !net_init(&other, 32, 12345, err, sizeof err) &&
         !checkpoint_load(&other, path, err, sizeof err) &&
         !net_evaluate(&other, &te, 32, &l1, &a1, NULL, err, sizeof err);
    check("checkpoint/roundtrip", ok && l0 == l1 && a0 == a1,
          "%s loss %.9g vs %.9g, accuracy %.6f vs %.6f", ok ? "" : err, l0, l1, a0, a1);
    net_free(&other);
    data_free(&te);

    /* refusals: another network, a flipped byte, a truncated file, not a weights file */
    net small;
    ok = !net_parse_string(&small, "input 28 28 1\nconv2d 8 3x3 relu\nflatten\ndense 10 softmax\n",
                           "small.net", err, sizeof err) &&
         !net_set_backends(&small, NULL, "naive", err, sizeof err) &&
         !net_init(&small, 2, 1, err, sizeof err);
    check("checkpoint/other-network",
          ok && checkpoint_load(&small, path, err, sizeof err) && strstr(err, "different network"),
          "%s", err);
    net_free(&small);
    FILE *f = fopen(path, "r+b");
    if (f) {
        fseek(f, 1000, SEEK_SET);
        fputc(0x5a, f);
        fclose(f);
    }
    check("checkpoint/corrupt",
          checkpoint_load(&nt, path, err, sizeof err) && strstr(err, "checksum"), "%s", err);
    snprintf(bad, sizeof bad, "truncate -s 5000 '%s'", path);
    check("checkpoint/truncated",
          system(bad) == 0 && checkpoint_load(&nt, path, err, sizeof err) &&
              strstr(err, "truncated"),
          "%s", err);
    snprintf(bad, sizeof bad, "echo 'hello' > '%s'", path);
    check("checkpoint/not-weights",
          system(bad) == 0 && checkpoint_load(&nt, path, err, sizeof err) && strstr(err, "magic"),
          "%s", err);
    net_free(&nt);
}
