/* The shapes a benchmark runs and the names of its cases (see
   shape_sets.h). The built-in sets are files in shapes/, found where the
   program finds its source tree (version.c), so adding a set is adding a
   file. */
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "error.h"
#include "net.h"
#include "results.h"
#include "shape_sets.h"
#include "version.h"

#define EXT ".shapes"

void shapes_dir(char *buf, size_t len)
{
    const char *env = getenv("CONVBENCH_SHAPES_DIR");
    if (env && *env)
        snprintf(buf, len, "%s", env);
    else
        snprintf(buf, len, "%s/shapes", version_srcdir());
}

static int by_name(const void *a, const void *b)
{
    /* seed first: the project's own network leads every table */
    const char *x = *(const char *const *)a, *y = *(const char *const *)b;
    int sx = !strcmp(x, "seed"), sy = !strcmp(y, "seed");
    return sx != sy ? sy - sx : strcmp(x, y);
}

/* The set names in dir, sorted; *n of them (the caller frees each and the
   array). NULL with err if the directory cannot be read. */
static char **set_names(const char *dir, int *n, char *err, size_t errlen)
{
    DIR *d = opendir(dir);
    if (!d) {
        error_set(err, errlen,
                  "cannot open the built-in shape sets in %s (set CONVBENCH_SHAPES_DIR to the "
                  "shapes/ directory of the source tree)",
                  dir);
        return NULL;
    }
    char **names = NULL;
    int count = 0, cap = 0;
    const struct dirent *e;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name), el = strlen(EXT);
        if (len <= el || strcmp(e->d_name + len - el, EXT) || e->d_name[0] == '.') continue;
        if (count == cap) {
            cap = cap ? 2 * cap : 8;
            char **grown = realloc(names, (size_t)cap * sizeof *names);
            if (!grown) break;
            names = grown;
        }
        names[count] = strndup(e->d_name, len - el);
        if (names[count]) count++;
    }
    closedir(d);
    if (names) qsort(names, (size_t)count, sizeof *names, by_name);
    *n = count;
    return names ? names : calloc(1, sizeof *names);
}

static void free_names(char **names, int n)
{
    for (int i = 0; i < n; i++) free(names[i]);
    free(names);
}

static int load_set(const char *dir, const char *name, shape_list *out, char *err, size_t errlen)
{
    char path[PATH_MAX];
    if (snprintf(path, sizeof path, "%s/%s" EXT, dir, name) >= (int)sizeof path)
        return error_set(err, errlen, "path too long: %s/%s" EXT, dir, name);
    return shape_parse_file(path, name, out, err, errlen);
}

int shapes_load_sets(const char *list, shape_list *out, char *err, size_t errlen)
{
    char dir[PATH_MAX], item[SHAPE_NAME_MAX + 16], known[512] = "";
    shapes_dir(dir, sizeof dir);
    int n = 0, rc = 0, any = 0;
    char **names = set_names(dir, &n, err, errlen);
    if (!names) return -1;
    for (int i = 0; i < n; i++)
        snprintf(known + strlen(known), sizeof known - strlen(known), "%s, ", names[i]);
    for (const char *p = list; !rc && cli_list_next(&p, item, sizeof item);) {
        any = 1;
        if (!strcmp(item, "all")) {
            for (int i = 0; !rc && i < n; i++) rc = load_set(dir, names[i], out, err, errlen);
            continue;
        }
        int k = 0;
        while (k < n && strcmp(names[k], item)) k++;
        if (k == n)
            rc = error_set(err, errlen, "unknown set '%s' (sets: %sall; files %s/NAME" EXT ")",
                           item, known, dir);
        else
            rc = load_set(dir, names[k], out, err, errlen);
    }
    if (!rc && !any) rc = error_set(err, errlen, "no set given (sets: %sall)", known);
    free_names(names, n);
    return rc;
}

int shapes_request_has_user(const shape_request *r)
{
    return r->nshape > 0 || r->nfile > 0 || (r->model && *r->model);
}

/* Every conv layer of a network spec at batch n, set = the spec's name. */
static int load_model(const char *path, int n, shape_list *out, char *err, size_t errlen)
{
    net *nt = calloc(1, sizeof *nt);
    if (!nt) return error_set(err, errlen, "out of memory");
    int rc = net_parse(nt, path, err, errlen);
    bench_layer l;
    shape_set_name(path, l.set, sizeof l.set);
    int convs = 0;
    for (int i = 0; !rc && i < nt->nlayers; i++) {
        if (nt->layers[i].kind != LAYER_CONV) continue;
        snprintf(l.layer, sizeof l.layer, "%s", nt->layers[i].name);
        net_layer_shape(&nt->layers[i], n, &l.shape);
        rc = shape_list_add(out, &l, err, errlen);
        convs++;
    }
    if (!rc && !convs) rc = error_set(err, errlen, "%s has no conv2d layer", path);
    free(nt);
    return rc;
}

int shapes_collect(const shape_request *r, shape_list *out, char *err, size_t errlen)
{
    char why[512], set[SHAPE_NAME_MAX];
    if (r->sets && *r->sets && shapes_load_sets(r->sets, out, why, sizeof why))
        return error_set(err, errlen, "--set: %s", why);
    for (int i = 0; i < r->nshape; i++) {
        bench_layer l = { "user", "", { 0, 0, 0, 0, 0, 0, 0, 0, 0 } };
        if (shape_parse(r->shape[i], &l, why, sizeof why) ||
            shape_list_add(out, &l, why, sizeof why))
            return error_set(err, errlen, "--shape '%s': %s", r->shape[i], why);
    }
    for (int i = 0; i < r->nfile; i++) {
        shape_set_name(r->file[i], set, sizeof set);
        if (shape_parse_file(r->file[i], set, out, why, sizeof why))
            return error_set(err, errlen, "--shapes: %s", why);
    }
    if (r->model && *r->model &&
        load_model(r->model, r->batch > 0 ? r->batch : 32, out, why, sizeof why))
        return error_set(err, errlen, "--model: %s", why);
    if (out->n == 0) return error_set(err, errlen, "no shape to run");
    return 0;
}

void shapes_case_name(char *buf, size_t len, const bench_layer *l, const char *backend,
                      conv_pass pass)
{
    snprintf(buf, len, "%s/%s/b%d/%s/%s", l->set, l->layer, l->shape.n, backend,
             conv_pass_name(pass));
}

int shapes_parse_case_name(const char *name, const shape_list *list, const bench_layer **l,
                           char *backend, size_t backend_len, conv_pass *pass)
{
    char set[SHAPE_NAME_MAX], lname[SHAPE_LAYER_MAX], be[64], ps[32], tail;
    int n;
    if (sscanf(name, "%47[^/]/%79[^/]/b%d/%63[^/]/%31[^/]%c", set, lname, &n, be, ps, &tail) != 5)
        return -1;
    int p = results_pass_parse(ps);
    if (p < 0) return -1;
    for (int i = 0; list && i < list->n; i++) {
        const bench_layer *x = &list->v[i];
        if (strcmp(x->set, set) || strcmp(x->layer, lname) || x->shape.n != n) continue;
        *l = x;
        snprintf(backend, backend_len, "%s", be);
        *pass = (conv_pass)p;
        return 0;
    }
    return -1;
}
