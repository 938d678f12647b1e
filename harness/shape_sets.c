/* The built-in benchmark layer sets and the names of benchmark cases (see
   shape_sets.h). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "results.h"
#include "shape_sets.h"

/* n, h, w, c, k, r, s, stride, pad */
static const bench_layer layers[] = {
    /* the seed network (models/seed_cnn.net) at its batch 32 and at 64 */
    { "seed", "conv1", { 32, 28, 28, 1, 32, 3, 3, 1, 0 } },
    { "seed", "conv2", { 32, 13, 13, 32, 64, 3, 3, 1, 0 } },
    { "seed", "conv3", { 32, 5, 5, 64, 64, 3, 3, 1, 0 } },
    { "seed", "conv1", { 64, 28, 28, 1, 32, 3, 3, 1, 0 } },
    { "seed", "conv2", { 64, 13, 13, 32, 64, 3, 3, 1, 0 } },
    { "seed", "conv3", { 64, 5, 5, 64, 64, 3, 3, 1, 0 } },
    /* ResNet-50: the 3x3 of each stage, stage 2's 1x1 reduce and expand, the stem */
    { "resnet", "3x3_56", { 8, 56, 56, 64, 64, 3, 3, 1, 1 } },
    { "resnet", "3x3_28", { 8, 28, 28, 128, 128, 3, 3, 1, 1 } },
    { "resnet", "3x3_14", { 8, 14, 14, 256, 256, 3, 3, 1, 1 } },
    { "resnet", "3x3_7", { 8, 7, 7, 512, 512, 3, 3, 1, 1 } },
    { "resnet", "1x1_reduce", { 8, 56, 56, 256, 64, 1, 1, 1, 0 } },
    { "resnet", "1x1_expand", { 8, 56, 56, 64, 256, 1, 1, 1, 0 } },
    { "resnet", "stem", { 8, 224, 224, 3, 64, 7, 7, 2, 3 } },
    /* VGG-16: conv3_2 (wide image) and conv5_2 (deep channels) */
    { "vgg", "conv3_2", { 8, 56, 56, 256, 256, 3, 3, 1, 1 } },
    { "vgg", "conv5_2", { 8, 14, 14, 512, 512, 3, 3, 1, 1 } },
    { NULL, NULL, { 0, 0, 0, 0, 0, 0, 0, 0, 0 } },
};

static const char *const sets[] = { "seed", "resnet", "vgg", NULL };

const bench_layer *shapes_all(void) { return layers; }
const char *const *shapes_sets(void) { return sets; }

static int set_index(const char *name, size_t len)
{
    for (int i = 0; sets[i]; i++)
        if (strlen(sets[i]) == len && !strncmp(sets[i], name, len)) return i;
    return -1;
}

int shapes_set_known(const char *set) { return set && set_index(set, strlen(set)) >= 0; }

int shapes_parse_sets(const char *list, char *err, size_t errlen)
{
    int mask = 0;
    char name[64];
    for (const char *p = list; cli_list_next(&p, name, sizeof name);) {
        if (!strcmp(name, "all")) {
            mask |= (1 << (sizeof sets / sizeof *sets - 1)) - 1;
            continue;
        }
        int i = set_index(name, strlen(name));
        if (i < 0) {
            snprintf(err, errlen, "unknown set '%s' (sets: seed, resnet, vgg, all)", name);
            return -1;
        }
        mask |= 1 << i;
    }
    if (!mask) {
        snprintf(err, errlen, "no set given (sets: seed, resnet, vgg, all)");
        return -1;
    }
    return mask;
}

int shapes_parse_shape(const char *text, conv_shape *s)
{
    /* strtol with a range check per field: sscanf's %d wrapped
       4294967297 to 1 */
    long v[9];
    const char *p = text;
    for (int i = 0; i < 9; i++) {
        char *end;
        errno = 0;
        v[i] = strtol(p, &end, 10);
        if (errno || end == p || v[i] < INT_MIN || v[i] > INT_MAX || *end != (i < 8 ? ',' : 0))
            return -1;
        p = end + 1;
    }
    *s = (conv_shape){ (int)v[0], (int)v[1], (int)v[2], (int)v[3], (int)v[4],
                       (int)v[5], (int)v[6], (int)v[7], (int)v[8] };
    return 0;
}

int shapes_in_sets(const bench_layer *l, int mask)
{
    int i = set_index(l->set, strlen(l->set));
    return i >= 0 && (mask >> i & 1);
}

void shapes_case_name(char *buf, size_t len, const bench_layer *l, const char *backend,
                      conv_pass pass)
{
    snprintf(buf, len, "%s/%s/b%d/%s/%s", l->set, l->layer, l->shape.n, backend,
             conv_pass_name(pass));
}

int shapes_parse_case_name(const char *name, const bench_layer **l, char *backend,
                           size_t backend_len, conv_pass *pass)
{
    char set[32], layer[64], be[64], ps[32], tail;
    int n;
    if (sscanf(name, "%31[^/]/%63[^/]/b%d/%63[^/]/%31[^/]%c", set, layer, &n, be, ps, &tail) != 5)
        return -1;
    int p = results_pass_parse(ps);
    if (p < 0) return -1;
    for (const bench_layer *x = layers; x->set; x++) {
        if (strcmp(x->set, set) || strcmp(x->layer, layer) || x->shape.n != n) continue;
        *l = x;
        snprintf(backend, backend_len, "%s", be);
        *pass = (conv_pass)p;
        return 0;
    }
    return -1;
}
