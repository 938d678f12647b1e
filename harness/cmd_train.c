/* convbench train | eval | predict: the trainer on the command line, with
   Keras-like progress, per-epoch figures and an optional results file. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "atomic_file.h"
#include "autotune.h"
#include "checkpoint.h"
#include "cli.h"
#include "commands.h"
#include "noshell.h"
#include "plan_cache.h"
#include "progress.h"
#include "results.h"
#include "train.h"
#include "version.h"

/* Messages name up to two paths of up to PATH_MAX each, and the reason
   comes after them: a 512-byte buffer cut the reason off paths of about
   450 characters. */
#define ERR_LEN (2 * PATH_MAX + 512)

/* The backend of every conv layer unless --backend says otherwise. */
#define DEFAULT_BACKEND "im2col"

typedef struct {
    const char *model, *backend, *data, *save, *load, *json, *png, *plan_cache;
    int threads, replicas, epochs, batch, limit, show, profile;
    float lr;
    unsigned long long seed;
} options;

enum {
    O_MODEL = 256,
    O_BACKEND,
    O_THREADS,
    O_EPOCHS,
    O_BATCH,
    O_LR,
    O_SEED,
    O_LIMIT,
    O_DATA,
    O_SAVE,
    O_LOAD,
    O_JSON,
    O_SHOW,
    O_PNG,
    O_PLAN_CACHE,
    O_PROFILE,
    O_REPLICAS,
    O_OUT
};

static const char *usage_text(const char *cmd)
{
    if (!strcmp(cmd, "train"))
        return "usage: convbench train [options]\n"
               "Trains a network (default: the seed CNN) on an IDX data set and reports,\n"
               "per epoch, training loss and accuracy, test accuracy, seconds and images/s.\n"
               "  --model FILE      network spec (default models/seed_cnn.net)\n"
               "  --backend B       conv backend for every layer, or conv1=B,conv2=B,...\n"
               "                    (default " DEFAULT_BACKEND
               "; `convbench backends` lists them);\n"
               "                    `auto` times every backend per layer and pass and keeps\n"
               "                    the fastest\n"
               "  --plan-cache FILE with auto: reuse the choice saved in FILE when machine,\n"
               "                    ISA, threads, network and batch match; else search and save\n"
               "  --profile         print where the time goes, per layer and pass\n"
               "  --machine NAME    this machine's label in results files (default\n"
               "                    $CONVBENCH_MACHINE, else derived from the CPU)\n"
               "  --threads N       OpenMP threads (default: all cores)\n"
               "  --replicas N      split each batch over at most N threads, each running\n"
               "                    the whole network on its slice (default 0: one per\n"
               "                    thread; 1: the batch in one piece, every thread on\n"
               "                    each layer)\n"
               "  --epochs N        (default 5)    --batch N   (default 32)\n"
               "  --lr X            Adam learning rate (default 0.001)\n"
               "  --seed N          weights and shuffling (default 1)\n"
               "  --limit N         train on the first N images only\n"
               "  --data DIR        IDX files (default " DATA_DEFAULT_DIR ")\n"
               "  --save FILE       write the trained weights\n"
               "  --out FILE        write the per-epoch figures as a results file\n"
               "                    (--json FILE: the same)\n"
               "Output paths are checked before training. Limits (exit 2 above them):\n"
               "  CONVBENCH_MAX_MEMORY=SIZE   memory of the network at --batch and of the\n"
               "                    data set (default 3/4 of RAM; 64G, 0 for none)\n"
               "  CONVBENCH_MAX_THREADS=N     --threads (default 4 per CPU)\n";
    if (!strcmp(cmd, "eval"))
        return "usage: convbench eval --load FILE [--model FILE] [--backend B] [--threads N]\n"
               "                      [--replicas N] [--batch N] [--data DIR] [--limit N]\n"
               "                      [--plan-cache FILE]\n"
               "Test loss and accuracy of saved weights on the test set. Limits as for\n"
               "train: CONVBENCH_MAX_MEMORY, CONVBENCH_MAX_THREADS.\n";
    return "usage: convbench predict --load FILE [--show N] [--png FILE] [--model FILE]\n"
           "                         [--backend B] [--data DIR]\n"
           "Predicts the first N (default 10) test images and prints predicted and true\n"
           "labels; --png draws them in a grid with gnuplot.\n";
}

/* Parses the options of cmd; returns 0, 1 after --help, 2 on a bad option. */
static int parse(const char *cmd, int argc, char **argv, options *o)
{
    static const struct option opts[] = {
        { "model", required_argument, 0, O_MODEL },
        { "backend", required_argument, 0, O_BACKEND },
        { "threads", required_argument, 0, O_THREADS },
        { "epochs", required_argument, 0, O_EPOCHS },
        { "batch", required_argument, 0, O_BATCH },
        { "lr", required_argument, 0, O_LR },
        { "seed", required_argument, 0, O_SEED },
        { "limit", required_argument, 0, O_LIMIT },
        { "data", required_argument, 0, O_DATA },
        { "save", required_argument, 0, O_SAVE },
        { "load", required_argument, 0, O_LOAD },
        { "json", required_argument, 0, O_JSON },
        { "show", required_argument, 0, O_SHOW },
        { "png", required_argument, 0, O_PNG },
        { "plan-cache", required_argument, 0, O_PLAN_CACHE },
        { "profile", no_argument, 0, O_PROFILE },
        { "replicas", required_argument, 0, O_REPLICAS },
        { "out", required_argument, 0, O_OUT },
        { "help", no_argument, 0, 'h' },
        { 0, 0, 0, 0 },
    };
    /* which options each command takes */
    const char *allowed = !strcmp(cmd, "train") ? "model backend threads replicas epochs batch lr "
                                                  "seed limit data save json out plan-cache profile"
                          : !strcmp(cmd, "eval")
                              ? "model backend threads replicas batch data load limit plan-cache"
                              : "model backend threads data load show png";
    *o = (options){ .model = "models/seed_cnn.net",
                    .backend = NULL,
                    .data = DATA_DEFAULT_DIR,
                    .threads = 0,
                    .epochs = 5,
                    .batch = 32,
                    .lr = 1e-3f,
                    .seed = 1,
                    .show = 10 };
    int c, bad = 0;
    long v = 0;
    double x = 0;
    optind = 1;
    while ((c = cli_getopt(cmd, argc, argv, "", opts)) != -1) {
        if (c == 'h') {
            fputs(usage_text(cmd), stdout);
            return 1;
        }
        if (c == '?') return 2;
        const char *name = opts[c - O_MODEL].name;
        char word[32];
        snprintf(word, sizeof word, " %s ", name);
        char list[160];
        snprintf(list, sizeof list, " %s ", allowed);
        if (!strstr(list, word)) {
            cli_usage_error(cmd, "--%s does not apply here", name);
            return 2;
        }
        char opt[40];
        snprintf(opt, sizeof opt, "--%s", name);
        switch (c) {
        case O_MODEL: o->model = optarg; break;
        case O_BACKEND: o->backend = optarg; break;
        case O_THREADS: bad |= cli_threads(cmd, opt, optarg, &o->threads) != 0; break;
        case O_REPLICAS:
            bad |= cli_int(cmd, opt, optarg, 0, NET_MAX_REPLICAS, &v) != 0;
            o->replicas = (int)v;
            break;
        case O_EPOCHS:
            bad |= cli_int(cmd, opt, optarg, 1, 100000, &v) != 0;
            o->epochs = (int)v;
            break;
        case O_BATCH:
            bad |= cli_int(cmd, opt, optarg, 1, 65536, &v) != 0;
            o->batch = (int)v;
            break;
        case O_LIMIT:
            bad |= cli_int(cmd, opt, optarg, 1, 1 << 30, &v) != 0;
            o->limit = (int)v;
            break;
        case O_SHOW:
            bad |= cli_int(cmd, opt, optarg, 1, 100, &v) != 0;
            o->show = (int)v;
            break;
        case O_SEED:
            bad |= cli_int(cmd, opt, optarg, 0, 0x7fffffffffffffffL, &v) != 0;
            o->seed = (unsigned long long)v;
            break;
        case O_LR:
            bad |=
                cli_number(cmd, opt, optarg, 0, 10, CLI_OPEN_LO | CLI_OPEN_HI | CLI_FLOAT, &x) != 0;
            o->lr = (float)x;
            break;
        case O_DATA: o->data = optarg; break;
        case O_SAVE: o->save = optarg; break;
        case O_LOAD: o->load = optarg; break;
        case O_JSON: /* the older name of --out */
        case O_OUT: o->json = optarg; break;
        case O_PNG: o->png = optarg; break;
        case O_PLAN_CACHE: o->plan_cache = optarg; break;
        case O_PROFILE: o->profile = 1; break;
        }
    }
    if (cli_no_arguments(cmd, argc, argv)) return 2;
    if (!bad && strcmp(cmd, "train") && !o->load) {
        cli_usage_error(cmd, "--load FILE is required");
        bad = 1;
    }
    /* the default spec from the source tree when run elsewhere */
    static char model[PATH_MAX];
    if (!strcmp(o->model, "models/seed_cnn.net") && access(o->model, R_OK) &&
        snprintf(model, sizeof model, "%s/%s", version_srcdir(), o->model) < (int)sizeof model &&
        !access(model, R_OK))
        o->model = model;
    /* where results and weights go, checked before minutes of training:
       the results file as results_write will make it (directories
       included), weights and the plot by making their temporary */
    char err[ERR_LEN];
    if (!bad && o->json && results_check_path(o->json, 0, err, sizeof err)) {
        cli_error(cmd, "--out: %s", err);
        bad = 1;
    }
    const char *outs[] = { o->save, o->png }, *names[] = { "--save", "--png" };
    for (int i = 0; !bad && i < 2; i++)
        if (outs[i] && atomic_probe(outs[i], err, sizeof err)) {
            cli_error(cmd, "%s: %s", names[i], err);
            bad = 1;
        }
    if (!bad && o->png && gnuplot_string(o->png, err, sizeof err)) {
        cli_error(cmd, "--png: a file name with a line break cannot be passed to gnuplot");
        bad = 1;
    }
    if (!bad && o->threads) omp_set_num_threads(o->threads);
    return bad ? 2 : 0;
}

/* The auto search's progress: layer i of n and its candidates, round by
   round, then the step check (progress.h: live on a terminal, else a line
   every 10 s). */
static void search_progress(void *ctx, int done, int total, const char *what)
{
    progress *p = ctx;
    p->total = total;
    progress_update(p, done, what);
}

/* --backend auto: the cached choice when it applies, else a timed search
   (saved to the cache when one is named). The table goes to stdout and,
   when runs is given, into the results file. */
static int choose_auto(const char *cmd, const options *o, net *nt, cJSON *runs, int argc,
                       char **argv)
{
    char err[ERR_LEN];
    if (o->plan_cache && !plan_cache_load(nt, o->plan_cache, o->batch, err, sizeof err)) {
        printf("auto: backends from plan cache %s\n", o->plan_cache);
        return 0;
    }
    if (o->plan_cache) printf("auto: %s; searching\n", err);
    autotune_layer t[NET_MAX_LAYERS];
    autotune_config configs[AUTOTUNE_MAX_BACKENDS + 1];
    int count, nconfigs;
    progress bar;
    progress_start(&bar, stdout, "auto", "rounds", 0);
    autotune_set_progress(search_progress, &bar);
    const int failed =
        autotune_net(nt, o->batch, 9, t, &count, configs, &nconfigs, err, sizeof err);
    autotune_set_progress(NULL, NULL);
    progress_end(&bar);
    if (failed) {
        cli_error(cmd, "%s", err);
        return 2;
    }
    autotune_print(nt, t, count, stdout);
    autotune_print_configs(configs, nconfigs, stdout);
    if (runs) plan_cache_runs(nt, t, count, runs);
    if (o->plan_cache && plan_cache_save(nt, t, count, o->plan_cache, argc, argv)) return 1;
    return 0;
}

/* Parses the spec, chooses backends and allocates: the common start. */
static int build_net(const char *cmd, const options *o, net *nt, uint64_t seed, cJSON *runs,
                     int argc, char **argv)
{
    char err[ERR_LEN];
    const int is_auto = o->backend && !strcmp(o->backend, "auto");
    int rc = 2;
    const int parsed = !net_parse(nt, o->model, err, sizeof err);
    if (parsed) nt->replicas_max = o->replicas; /* before auto: it decides the batch per layer */
    if (!parsed ||
        net_set_backends(nt, is_auto ? NULL : o->backend, DEFAULT_BACKEND, err, sizeof err))
        cli_error(cmd, "%s", err);
    else if (is_auto && (rc = choose_auto(cmd, o, nt, runs, argc, argv)))
        ;
    else if ((rc = net_init(nt, o->batch, seed, err, sizeof err) ? 2 : 0))
        cli_error(cmd, "%s", err);
    if (rc) net_free(nt);
    return rc;
}

static int load_data(const char *cmd, const options *o, const net *nt, const char *prefix,
                     int limit, dataset *d)
{
    char err[ERR_LEN];
    if (data_load(d, o->data, prefix, nt->classes, limit, err, sizeof err)) {
        cli_error(cmd, "%s", err);
        return 2;
    }
    if (d->h != nt->in_h || d->w != nt->in_w || nt->in_c != 1) {
        cli_error(cmd, "%s images are %dx%dx1 but %s wants %dx%dx%d", o->data, d->h, d->w, o->model,
                  nt->in_h, nt->in_w, nt->in_c);
        data_free(d);
        return 2;
    }
    return 0;
}

/* ---- an epoch's progress, as Keras shows it ------------------------------ */

typedef struct {
    int tty;
    double last;
} epoch_bar;

static void show_progress(void *ctx, int step, int steps, double loss, double acc, double elapsed)
{
    epoch_bar *p = ctx;
    const int done = step == steps;
    if (p->tty) {
        if (!done && elapsed - p->last < 0.1) return;
        int fill = (int)(30.0 * step / steps);
        char bar[31];
        for (int i = 0; i < 30; i++) bar[i] = i < fill ? '=' : i == fill ? '>' : '.';
        bar[30] = 0;
        printf("\r%*d/%d [%s] - %.0fs %.1fms/step - loss: %.4f - accuracy: %.4f",
               (int)snprintf(NULL, 0, "%d", steps), step, steps, bar, elapsed, 1e3 * elapsed / step,
               loss, acc);
        fflush(stdout);
    } else if (elapsed - p->last >= 10.0 || done) { /* a line at least every 10 s */
        printf("%d/%d - %.0fs %.1fms/step - loss: %.4f - accuracy: %.4f\n", step, steps, elapsed,
               1e3 * elapsed / step, loss, acc);
        fflush(stdout);
    } else {
        return;
    }
    p->last = elapsed;
}

/* ---- train ------------------------------------------------------------- */

/* Where a step's time goes: per layer and pass, then the trainer's own work. */
static void print_profile(const net *nt, const trainer *t, double total)
{
    const double steps = (double)t->steps;
    double sum = 0;
    printf("\nprofile: ms per step (%ld steps, %d threads", t->steps, omp_get_max_threads());
    if (nt->nrep > 1)
        printf("; the batch split over %d replicas of one thread each, layers timed in replica 0",
               nt->nrep);
    printf(")\n");
    printf("  %-10s %10s %14s %17s %8s   %s\n", "layer", "forward", "backward_data",
           "backward_weights", "share", "backend (fwd/bwd_data/bwd_weights)");
    for (int i = 0; i < nt->nlayers; i++) {
        const layer *l = &nt->layers[i];
        double row = nt->prof_s[i][0] + nt->prof_s[i][1] + nt->prof_s[i][2];
        sum += row;
        char be[64] = "";
        if (l->kind == LAYER_CONV)
            snprintf(be, sizeof be, "%s/%s/%s", l->backend[0]->name,
                     l->need_dx ? l->backend[1]->name : "-", l->backend[2]->name);
        printf("  %-10s %10.3f %14.3f %17.3f %7.1f%%   %s\n", l->name,
               1e3 * nt->prof_s[i][0] / steps, 1e3 * nt->prof_s[i][1] / steps,
               1e3 * nt->prof_s[i][2] / steps, 100 * row / total, be);
    }
    if (nt->nrep > 1) {
        sum += nt->prof_reduce_s;
        printf("  %-10s %10.3f %14s %17s %7.1f%%   summing the replicas' weight gradients\n",
               "reduce", 1e3 * nt->prof_reduce_s / steps, "", "", 100 * nt->prof_reduce_s / total);
    }
    static const char *const other[] = { "gather", "loss", "adam" };
    for (int j = 0; j < 3; j++) {
        sum += t->prof_s[j];
        printf("  %-10s %10.3f %14s %17s %7.1f%%\n", other[j], 1e3 * t->prof_s[j] / steps, "", "",
               100 * t->prof_s[j] / total);
    }
    printf("  %-10s %10.3f ms/step measured of %.3f ms/step wall (the rest: progress, "
           "bookkeeping%s)\n",
           "total", 1e3 * sum / steps, 1e3 * total / steps,
           nt->nrep > 1 ? ", replica 0 waiting for the others" : "");
}

int cmd_train(int argc, char **argv)
{
    options o;
    int rc = parse("train", argc, argv, &o);
    if (rc) return rc == 1 ? 0 : rc;
    net nt;
    cJSON *runs = NULL, *doc = o.json ? results_new("train", argc, argv, &runs) : NULL;
    if ((rc = build_net("train", &o, &nt, o.seed, runs, argc, argv))) {
        cJSON_Delete(doc);
        return rc;
    }
    nt.profile = o.profile;
    dataset tr, te;
    if (load_data("train", &o, &nt, "train", o.limit, &tr)) {
        net_free(&nt);
        cJSON_Delete(doc);
        return 2;
    }
    if (load_data("train", &o, &nt, "t10k", 0, &te)) {
        data_free(&tr);
        net_free(&nt);
        cJSON_Delete(doc);
        return 2;
    }
    char err[ERR_LEN], backends[256];
    net_backend_names(&nt, backends, sizeof backends);
    net_summary(&nt, stdout);
    printf("Training on %d images (%s), testing on %d; batch %d, %d threads (%d replicas), backend "
           "%s\n",
           tr.n, o.data, te.n, o.batch, omp_get_max_threads(), nt.nrep, backends);
    trainer t;
    rc = trainer_init(&t, &nt, o.batch, o.lr, o.seed, err, sizeof err) ? 1 : 0;
    epoch_bar pr = { isatty(STDOUT_FILENO), 0 };
    double total = 0;
    epoch_stats st = { 0 };
    for (int e = 1; !rc && e <= o.epochs; e++) {
        printf("Epoch %d/%d\n", e, o.epochs);
        pr.last = 0;
        if (trainer_epoch(&t, &tr, show_progress, &pr, &st, err, sizeof err) ||
            net_evaluate(&nt, &te, o.batch, &st.test_loss, &st.test_accuracy, NULL, err,
                         sizeof err)) {
            if (pr.tty) printf("\n");
            rc = 1;
            break;
        }
        total += st.seconds;
        printf("%s%.1fs %.0f images/s - loss: %.4f - accuracy: %.4f - test_loss: %.4f - "
               "test_accuracy: %.4f\n",
               pr.tty ? "\n" : "", st.seconds, st.images_per_s, st.loss, st.accuracy, st.test_loss,
               st.test_accuracy);
        fflush(stdout);
        if (doc) {
            cJSON *r = cJSON_CreateObject();
            cJSON_AddStringToObject(r, "type", "train");
            cJSON_AddStringToObject(r, "backend",
                                    o.backend && !strcmp(o.backend, "auto") ? "auto" : backends);
            cJSON_AddStringToObject(r, "backends", backends);
            cJSON_AddStringToObject(r, "model", o.model);
            cJSON_AddNumberToObject(r, "threads", omp_get_max_threads());
            cJSON_AddNumberToObject(r, "replicas", nt.nrep);
            cJSON_AddNumberToObject(r, "batch", o.batch);
            cJSON_AddNumberToObject(r, "images", tr.n);
            cJSON_AddNumberToObject(r, "seed", (double)o.seed);
            cJSON_AddNumberToObject(r, "lr", o.lr);
            cJSON_AddNumberToObject(r, "epoch", e);
            cJSON_AddNumberToObject(r, "epochs", o.epochs);
            cJSON_AddNumberToObject(r, "loss", st.loss);
            cJSON_AddNumberToObject(r, "accuracy", st.accuracy);
            cJSON_AddNumberToObject(r, "test_loss", st.test_loss);
            cJSON_AddNumberToObject(r, "test_accuracy", st.test_accuracy);
            cJSON_AddNumberToObject(r, "seconds", st.seconds);
            cJSON_AddNumberToObject(r, "images_per_s", st.images_per_s);
            cJSON_AddItemToArray(runs, r);
        }
    }
    if (rc) {
        cli_error("train", "%s", err);
    } else {
        printf("Done: %d epochs in %.1fs (%.0f images/s), test accuracy %.4f, backend %s, %d "
               "threads\n",
               o.epochs, total, (double)tr.n * o.epochs / total, st.test_accuracy, backends,
               omp_get_max_threads());
        if (o.profile) print_profile(&nt, &t, total);
        if (o.save && checkpoint_save(&nt, o.save, err, sizeof err)) {
            cli_error("train", "%s", err);
            rc = 1;
        }
        if (doc && results_write(o.json, doc, 0)) rc = 1;
    }
    cJSON_Delete(doc);
    trainer_free(&t);
    data_free(&tr);
    data_free(&te);
    net_free(&nt);
    return rc;
}

/* ---- eval and predict -------------------------------------------------- */

/* Network with saved weights, and the test set. */
static int load_trained(const char *cmd, const options *o, net *nt, dataset *te, int limit)
{
    char err[ERR_LEN];
    int rc = build_net(cmd, o, nt, 0, NULL, 0, NULL);
    if (rc) return rc;
    if (checkpoint_load(nt, o->load, err, sizeof err)) {
        cli_error(cmd, "%s", err);
        net_free(nt);
        return 2;
    }
    if (load_data(cmd, o, nt, "t10k", limit, te)) {
        net_free(nt);
        return 2;
    }
    return 0;
}

int cmd_eval(int argc, char **argv)
{
    options o;
    int rc = parse("eval", argc, argv, &o);
    if (rc) return rc == 1 ? 0 : rc;
    net nt;
    dataset te;
    if (load_trained("eval", &o, &nt, &te, o.limit)) return 2;
    double loss, acc;
    char err[ERR_LEN];
    rc = net_evaluate(&nt, &te, o.batch, &loss, &acc, NULL, err, sizeof err);
    if (rc)
        cli_error("eval", "%s", err);
    else
        printf("test images: %d  test_loss: %.6f  test_accuracy: %.6f\n", te.n, loss, acc);
    data_free(&te);
    net_free(&nt);
    return rc ? 1 : 0;
}

static const char *const fashion[] = {
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"
};

static const char *label_name(const char *data, int label, char *buf, size_t len)
{
    if (strstr(data, "fashion") && label < 10) return fashion[label];
    snprintf(buf, len, "%d", label);
    return buf;
}

/* A grid of the images with predicted and true labels, drawn by gnuplot:
   the matplotlib grid of the seed article. */
static int draw_png(const options *o, const dataset *te, const int *pred, int n)
{
    char script[PATH_MAX];
    const char *tmpdir = getenv("TMPDIR");
    snprintf(script, sizeof script, "%s/convbench-predict-XXXXXX",
             tmpdir && *tmpdir ? tmpdir : "/tmp");
    int fd = mkstemp(script);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!f) {
        cli_error("predict", "cannot write a gnuplot script");
        return 1;
    }
    int cols = n < 5 ? n : 5, rows = (n + cols - 1) / cols;
    char out[PATH_MAX + 64];
    gnuplot_string(o->png, out, sizeof out); /* checked with the options */
    fprintf(f, "set terminal pngcairo size %d,%d\nset output %s\n", 220 * cols, 240 * rows, out);
    fprintf(f,
            "set multiplot layout %d,%d\nunset key\nunset colorbox\nunset tics\n"
            "set palette gray negative\nset size ratio -1\nset yrange [] reverse\n",
            rows, cols);
    for (int i = 0; i < n; i++) {
        char a[16], b[16];
        int truth = te->labels[i];
        fprintf(f, "set title \"%s (%s)\" textcolor rgb '%s'\n",
                label_name(o->data, pred[i], a, sizeof a), label_name(o->data, truth, b, sizeof b),
                pred[i] == truth ? "blue" : "red");
        fprintf(f, "plot '-' matrix with image\n");
        for (int y = 0; y < te->h; y++) {
            for (int x = 0; x < te->w; x++)
                fprintf(f, "%.3f ", te->images[((size_t)i * te->h + y) * te->w + x]);
            fprintf(f, "\n");
        }
        fprintf(f, "e\ne\n");
    }
    fprintf(f, "unset multiplot\n");
    fclose(f);
    char said[2048], *argv[] = { "gnuplot", script, NULL };
    int rc = run_program(argv, NULL, 1, said, sizeof said);
    unlink(script);
    if (rc) {
        cli_error("predict", "gnuplot failed (exit %d)%s%.500s", rc, said[0] ? ": " : "", said);
        return 1;
    }
    printf("wrote %s\n", o->png);
    return 0;
}

int cmd_predict(int argc, char **argv)
{
    options o;
    int rc = parse("predict", argc, argv, &o);
    if (rc) return rc == 1 ? 0 : rc;
    if (o.batch > o.show) o.batch = o.show;
    net nt;
    dataset te;
    if (load_trained("predict", &o, &nt, &te, o.show)) return 2;
    double loss, acc;
    char err[ERR_LEN];
    float *probs = malloc(sizeof(float) * (size_t)te.n * nt.classes);
    int *pred = malloc(sizeof(int) * (size_t)te.n);
    if (!probs || !pred || net_evaluate(&nt, &te, o.batch, &loss, &acc, probs, err, sizeof err)) {
        cli_error("predict", "%s", probs && pred ? err : "out of memory");
        rc = 1;
    }
    for (int i = 0; !rc && i < te.n; i++) {
        const float *p = probs + (size_t)i * nt.classes;
        int top = 0;
        for (int k = 1; k < nt.classes; k++)
            if (p[k] > p[top]) top = k;
        pred[i] = top;
        char a[16], b[16];
        printf("%3d  predicted %-12s %5.1f%%   true %-12s %s\n", i,
               label_name(o.data, top, a, sizeof a), 100.0 * p[top],
               label_name(o.data, te.labels[i], b, sizeof b), top == te.labels[i] ? "" : "  WRONG");
    }
    if (!rc) printf("%d of %d correct\n", (int)lround(acc * te.n), te.n);
    if (!rc && o.png) rc = draw_png(&o, &te, pred, te.n);
    free(probs);
    free(pred);
    data_free(&te);
    net_free(&nt);
    return rc;
}
