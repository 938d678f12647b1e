/* The auto choice, the plan cache and the profile. */
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <string.h>
#include "../harness/plan_cache.h"
#include "../harness/results.h"
#include "../models/autotune.h"
#include "../models/train.h"
#include "check.h"
#include "suites.h"

static int seed_net(net *nt, char *err, size_t len)
{
    return net_parse(nt, "models/seed_cnn.net", err, len) ||
           net_set_backends(nt, NULL, "naive", err, len);
}

void test_autotune(void)
{
    if (!check_selected("autotune")) return;
    net nt, again;
    char err[512] = "", path[600];
    autotune_layer t[NET_MAX_LAYERS];
    int count = 0;
    autotune_config configs[AUTOTUNE_MAX_BACKENDS + 1];
    int nconfigs = 0;
    int ok = !seed_net(&nt, err, sizeof err) &&
             !autotune_net(&nt, 4, 1, t, &count, configs, &nconfigs, err, sizeof err);
    if (!check("autotune/search", ok && count == 3, "%s (%d conv layers timed)", err, count))
        return;
    /* the step check kept either the per-pass winners or one backend for all */
    double best_rate = 0;
    const char *kept = NULL;
    for (int i = 0; i < nconfigs; i++)
        if (configs[i].images_per_s > best_rate) {
            best_rate = configs[i].images_per_s;
            kept = configs[i].name;
        }
    check("autotune/step-check",
          nconfigs >= 2 && kept && !strcmp(configs[0].name, "per-pass choice"),
          "%d configurations timed", nconfigs);
    const int per_pass = kept && !strcmp(kept, "per-pass choice");
    int sane = 1;
    for (int i = 0; i < count; i++) {
        const layer *l = &nt.layers[t[i].layer];
        for (int p = 0; p < 3; p++) {
            if (t[i].best[p] < 0) {
                sane &= p == CONV_BACKWARD_DATA && t[i].layer == 0;
                continue;
            }
            /* the choice supports the shape and is what the layer now uses */
            sane &= !l->backend[p]->unsupported(&t[i].shape) &&
                    l->backend[p] == t[i].cand[t[i].best[p]];
            if (per_pass) /* and no candidate was faster */
                for (int c = 0; c < t[i].ncand; c++)
                    sane &= !(t[i].seconds[c][p] < t[i].seconds[t[i].best[p]][p]);
            else
                sane &= kept && !strcmp(l->backend[p]->name, kept);
        }
        sane &= t[i].ncand >= 2;
    }
    check("autotune/choice", sane,
          "the choice is neither the per-pass winners nor the step check's %s",
          kept ? kept : "(none)");

    snprintf(path, sizeof path, "%s/plan.json", check_tmpdir());
    char *argv[] = { "test" };
    ok = !plan_cache_save(&nt, t, count, path, 1, argv) && !seed_net(&again, err, sizeof err) &&
         !plan_cache_load(&again, path, 4, err, sizeof err);
    int same = ok;
    for (int i = 0; ok && i < nt.nlayers; i++)
        for (int p = 0; p < 3; p++)
            same &= nt.layers[i].kind != LAYER_CONV || (p == CONV_BACKWARD_DATA && i == 0) ||
                    nt.layers[i].backend[p] == again.layers[i].backend[p];
    check("autotune/plan-cache-roundtrip", same, "%s", err);
    check("autotune/plan-cache-batch",
          plan_cache_load(&again, path, 32, err, sizeof err) && strstr(err, "batch"), "%s", err);
    omp_set_num_threads(omp_get_max_threads() + 1);
    check("autotune/plan-cache-threads",
          plan_cache_load(&again, path, 4, err, sizeof err) && strstr(err, "threads"), "%s", err);
    omp_set_num_threads(omp_get_num_procs());
    /* a cache from another build of the program (other kernels) is stale */
    cJSON *doc = results_read(path, err, sizeof err);
    cJSON *ctx = doc ? cJSON_GetObjectItemCaseSensitive(doc, "context") : NULL;
    ok = ctx &&
         cJSON_ReplaceItemInObjectCaseSensitive(ctx, "build_id",
                                                cJSON_CreateString("0123456789abcdef")) &&
         !results_write(path, doc, 1);
    cJSON_Delete(doc);
    check("autotune/plan-cache-build",
          ok && plan_cache_load(&again, path, 4, err, sizeof err) && strstr(err, "another build"),
          "%s", err);
    char missing[700];
    snprintf(missing, sizeof missing, "%s/none.json", check_tmpdir());
    check("autotune/plan-cache-missing", plan_cache_load(&again, missing, 4, err, sizeof err) != 0,
          "a missing cache applied");
    net_free(&again);

    /* a short profiled run with the chosen backends */
    dataset d;
    trainer tr;
    epoch_stats st;
    ok = !net_init(&nt, 4, 1, err, sizeof err) &&
         !data_load(&d, DATA_DEFAULT_DIR, "train", 10, 64, err, sizeof err) &&
         !trainer_init(&tr, &nt, 4, 1e-3f, 1, err, sizeof err);
    if (ok) {
        nt.profile = 1;
        ok = !trainer_epoch(&tr, &d, NULL, NULL, &st, err, sizeof err);
        double sum = tr.prof_s[0] + tr.prof_s[1] + tr.prof_s[2];
        int conv_timed = 1;
        for (int i = 0; i < nt.nlayers; i++) {
            for (int p = 0; p < 3; p++) sum += nt.prof_s[i][p];
            if (nt.layers[i].kind == LAYER_CONV)
                conv_timed &= nt.prof_s[i][0] > 0 && nt.prof_s[i][2] > 0 &&
                              (i == 0) == (nt.prof_s[i][1] == 0);
        }
        check("autotune/profile", ok && conv_timed && sum > 0 && sum <= st.seconds * 1.01,
              "%s profiled %.4fs of %.4fs", err, sum, st.seconds);
        trainer_free(&tr);
        data_free(&d);
    } else {
        check("autotune/profile", 0, "%s", err);
    }
    net_free(&nt);
}
