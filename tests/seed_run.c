#include <omp.h>
#include "../models/data.h"
#include "../models/train.h"
#include "seed_run.h"

run_result seed_short_run(const char *backend, int images, int threads, net *keep)
{
    run_result res = { 0 };
    net nt;
    dataset tr = { 0 }, te = { 0 };
    trainer t = { 0 };
    epoch_stats st;
    omp_set_num_threads(threads);
    if (net_parse(&nt, "models/seed_cnn.net", res.err, sizeof res.err) ||
        net_set_backends(&nt, backend, "naive", res.err, sizeof res.err) ||
        net_init(&nt, 32, 1, res.err, sizeof res.err) ||
        data_load(&tr, DATA_DEFAULT_DIR, "train", 10, images, res.err, sizeof res.err) ||
        data_load(&te, DATA_DEFAULT_DIR, "t10k", 10, 1000, res.err, sizeof res.err) ||
        trainer_init(&t, &nt, 32, 1e-3f, 1, res.err, sizeof res.err) ||
        trainer_epoch(&t, &tr, NULL, NULL, &st, res.err, sizeof res.err) ||
        net_evaluate(&nt, &te, 32, &st.test_loss, &st.test_accuracy, NULL, res.err,
                     sizeof res.err)) {
        res.ok = 0;
    } else {
        res.ok = 1;
        res.loss = st.loss;
        res.test_acc = st.test_accuracy;
    }
    omp_set_num_threads(omp_get_num_procs());
    trainer_free(&t);
    data_free(&tr);
    data_free(&te);
    if (keep && res.ok)
        *keep = nt;
    else
        net_free(&nt);
    return res;
}
