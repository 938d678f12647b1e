/* Kill-safe writes (common/atomic_file.c through checkpoint_save and
   results_write): a write, fsync or rename that fails, or a SIGKILL at
   any moment of a save, leaves the old file whole and no temporary
   behind once the next save has run. */
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "atomic_file.h"
#include "check.h"
#include "checkpoint.h"
#include "noshell.h"
#include "results.h"
#include "run_limits.h"
#include "suites.h"

/* Files in dir other than the ones named keep (temporaries left). */
static int others(const char *dir, const char *keep)
{
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") && strcmp(e->d_name, keep)) n++;
    if (d) closedir(d);
    return n;
}

static void faults(net *nt, const char *dir)
{
    char path[700], err[512];
    snprintf(path, sizeof path, "%s/w.bin", dir);
    int ok = !checkpoint_save(nt, path, err, sizeof err);
    static const char *const names[] = { "", "write", "fsync", "rename" };
    const float keep = nt->layers[0].weight.w[0];
    for (int f = ATOMIC_FAULT_WRITE; f <= ATOMIC_FAULT_RENAME; f++) {
        char name[64];
        snprintf(name, sizeof name, "atomic/fault/checkpoint-%s", names[f]);
        nt->layers[0].weight.w[0] = keep + 1;
        atomic_fault = f;
        int failed = checkpoint_save(nt, path, err, sizeof err) != 0;
        nt->layers[0].weight.w[0] = 0;
        int loads = !checkpoint_load(nt, path, err, sizeof err);
        check(name,
              ok && failed && loads && nt->layers[0].weight.w[0] == keep &&
                  others(dir, "w.bin") == 0,
              "save %s, old file %s, %d files left: %s", failed ? "failed" : "passed",
              loads ? "loads" : "lost", others(dir, "w.bin"), err);
        nt->layers[0].weight.w[0] = keep;
    }
    snprintf(path, sizeof path, "%s/r.json", dir);
    cJSON *runs, *doc = results_new("x", 0, NULL, &runs);
    ok = !results_write(path, doc, 0);
    for (int f = ATOMIC_FAULT_WRITE; f <= ATOMIC_FAULT_RENAME; f++) {
        char name[64];
        snprintf(name, sizeof name, "atomic/fault/results-%s", names[f]);
        cJSON_ReplaceItemInObject(doc, "kind", cJSON_CreateString("changed"));
        atomic_fault = f;
        fflush(stderr);
        int failed = results_write(path, doc, 0) != 0;
        cJSON *back = results_read(path, err, sizeof err);
        const char *kind = back ? results_str(back, "kind") : NULL;
        check(name, ok && failed && kind && !strcmp(kind, "x") && others(dir, "w.bin") == 1,
              "write %s, old file %s, %d files", failed ? "failed" : "passed", kind ? kind : err,
              others(dir, "w.bin"));
        cJSON_Delete(back);
    }
    cJSON_Delete(doc);
    atomic_fault = ATOMIC_FAULT_NONE;
}

/* A child saves in a loop; it is killed after a random delay, 20 times.
   The file must load every time (old or new weights, never a mix), and
   the next save removes what the killed one left. */
static void kills(net *nt, const char *dir)
{
    char path[700], err[512];
    snprintf(path, sizeof path, "%s/k.bin", dir);
    if (checkpoint_save(nt, path, err, sizeof err)) {
        check("atomic/sigkill", 0, "%s", err);
        return;
    }
    int loads = 0, kills_done = 0, left = 0;
    srand((unsigned)time(NULL));
    for (int i = 0; i < 20; i++) {
        fflush(NULL);
        pid_t pid = fork();
        if (pid == 0) {
            for (;;) checkpoint_save(nt, path, err, sizeof err);
        }
        if (pid < 0) break;
        struct timespec ts = { 0, (long)(rand() % 3000) * 1000 };
        nanosleep(&ts, NULL);
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        kills_done++;
        loads += !checkpoint_load(nt, path, err, sizeof err);
        left += others(dir, "k.bin") > 0;
    }
    int cleaned = !checkpoint_save(nt, path, err, sizeof err) && others(dir, "k.bin") == 0;
    check("atomic/sigkill", kills_done == 20 && loads == 20 && cleaned,
          "%d kills, the file loaded after %d; a temporary left after %d; next save cleaned: %s",
          kills_done, loads, left, cleaned ? "yes" : "no");
}

static void helpers(void)
{
    double v = 0;
    check("atomic/limits/size",
          !limits_parse_size("64M", &v) && v == 64 << 20 && !limits_parse_size("1.5GiB", &v) &&
              v == 1.5 * (1 << 30) && !limits_parse_size("0", &v) && v == 0 &&
              limits_parse_size("12Q", &v) && limits_parse_size("-1", &v),
          "v %g", v);
    char q[64];
    check("atomic/gnuplot-string",
          !gnuplot_string("a'b", q, sizeof q) && !strcmp(q, "'a''b'") &&
              gnuplot_string("a\nb", q, sizeof q) && gnuplot_string("abc", q, 4),
          "%s", q);
    char out[64];
    char *echo[] = { "printf", "%s", "it's; $(x)", NULL }, *none[] = { "no-such-program-x", NULL };
    check("atomic/run-program",
          run_program(echo, "/", 0, out, sizeof out) == 0 && !strcmp(out, "it's; $(x)") &&
              run_program(none, NULL, 0, out, sizeof out) == 127 && program_found("sh") &&
              !program_found("no-such-program-x"),
          "out '%s'", out);
}

/* A results file is valid UTF-8 whatever bytes its strings held. */
static void utf8(const char *dir)
{
    char path[700], text[4096] = "";
    snprintf(path, sizeof path, "%s/u.json", dir);
    cJSON *runs, *doc = results_new("x", 0, NULL, &runs);
    cJSON *r = cJSON_CreateObject();
    cJSON_AddStringToObject(r, "type", "train");
    cJSON_AddStringToObject(r, "backend", "a\xff\xfe b \xc3\xa9 \xed\xa0\x80");
    cJSON_AddItemToArray(runs, r);
    int ok = !results_write(path, doc, 0);
    cJSON_Delete(doc);
    FILE *f = fopen(path, "rb");
    size_t n = f ? fread(text, 1, sizeof text - 1, f) : 0;
    if (f) fclose(f);
    text[n] = 0;
    check("atomic/utf8", ok && strstr(text, "\"a\\ufffd\\ufffd b \xc3\xa9 \\ufffd\\ufffd\\ufffd\""),
          "%.200s", strstr(text, "\"backend\"") ? strstr(text, "\"backend\"") : text);
}

void test_atomic(void)
{
    if (!check_selected("atomic")) return;
    helpers();
    char dir[600], err[512];
    snprintf(dir, sizeof dir, "%s/atomic", check_tmpdir());
    net nt;
    if (make_dirs(dir, 0) ||
        net_parse_string(&nt, "input 8 8 1\nconv2d 4 3x3 relu\nflatten\ndense 3 softmax\n", "t.net",
                         err, sizeof err) ||
        net_set_backends(&nt, "naive", "naive", err, sizeof err) ||
        net_init(&nt, 1, 1, err, sizeof err)) {
        check("atomic/setup", 0, "%s", err);
        return;
    }
    faults(&nt, dir);
    utf8(dir);
    snprintf(dir, sizeof dir, "%s/atomic-kill", check_tmpdir());
    if (!make_dirs(dir, 0)) kills(&nt, dir);
    net_free(&nt);
}
