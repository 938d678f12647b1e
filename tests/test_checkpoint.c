/* Checkpoints: a trained network saved and loaded into another evaluates
   identically; another network's weights, a flipped byte, a truncated file
   and a file that is not weights are refused with the reason. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../models/checkpoint.h"
#include "../models/data.h"
#include "../models/train.h"
#include "check.h"
#include "seed_run.h"
#include "suites.h"

void test_checkpoint(void)
{
    if (!check_selected("checkpoint")) return;
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
