/* What every fuzz target shares: its scratch directory and input splits. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "fuzz.h"
#include "net.h"

static fuzz_target *targets;

const fuzz_target *fuzz_targets(void) { return targets; }

void fuzz_register(fuzz_target *t)
{
    t->next = targets;
    targets = t;
}

static char dir[PATH_MAX];
static char written[16][32]; /* the names written, removed at exit */
static int nwritten;

static void remove_dir(void)
{
    char path[PATH_MAX + 40];
    for (int i = 0; i < nwritten; i++) {
        snprintf(path, sizeof path, "%s/%.31s", dir, written[i]);
        unlink(path);
    }
    rmdir(dir);
}

const char *fuzz_dir(void)
{
    if (!dir[0]) {
        const char *tmp = getenv("TMPDIR");
        snprintf(dir, sizeof dir, "%s/convbench-fuzz-XXXXXX", tmp && *tmp ? tmp : "/tmp");
        if (!mkdtemp(dir)) {
            perror("fuzz: mkdtemp");
            exit(1);
        }
        atexit(remove_dir);
    }
    return dir;
}

const char *fuzz_file(const char *name, const void *data, size_t size)
{
    static char path[PATH_MAX + 40];
    snprintf(path, sizeof path, "%s/%.31s", fuzz_dir(), name);
    int known = 0;
    for (int i = 0; i < nwritten; i++) known |= !strcmp(written[i], name);
    if (!known && nwritten < 16) snprintf(written[nwritten++], sizeof written[0], "%s", name);
    FILE *f = fopen(path, "wb");
    if (!f || (size && fwrite(data, 1, size, f) != size) || fclose(f)) {
        perror(path);
        exit(1);
    }
    return path;
}

void fuzz_split(const uint8_t *data, size_t size, const char *sep, const uint8_t **a, size_t *na,
                const uint8_t **b, size_t *nb)
{
    const size_t n = strlen(sep);
    for (size_t i = 0; i + n <= size; i++)
        if (!memcmp(data + i, sep, n)) {
            *a = data;
            *na = i;
            *b = data + i + n;
            *nb = size - i - n;
            return;
        }
    *a = *b = data;
    *na = *nb = size;
}

void fuzz_net(net *nt, const char *spec, int init)
{
    char err[512];
    if (net_parse_string(nt, spec, "fuzz.net", err, sizeof err) ||
        net_set_backends(nt, "naive", "naive", err, sizeof err) ||
        (init && net_init(nt, 1, 1, err, sizeof err))) {
        fprintf(stderr, "fuzz: %s\n", err);
        abort();
    }
}
