/* The network spec: parsing a spec file (format in README) into the
   layer structure, with each layer's output shape inferred from the one
   before, the structure's hash (checkpoints), and the leading layers the
   executor (net.c) runs in parts of a batch, which the structure alone
   decides. Nothing here allocates beyond the parse. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "cpu.h"
#include "error.h"
#include "hash.h"
#include "net.h"

#define SPEC_MAX_BYTES (1 << 20)

/* A whole-token positive integer no larger than max, else -1. */
static long parse_int(const char *s, long max)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v <= 0 || v > max) return -1;
    return v;
}

static int parse_activation(const char *s, activation *a)
{
    static const char *const names[] = { "linear", "relu", "softmax" };
    for (int i = 0; i < 3; i++)
        if (!strcmp(s, names[i])) {
            *a = (activation)i;
            return 0;
        }
    return -1;
}

void net_layer_shape(const layer *l, int n, conv_shape *s)
{
    *s = (conv_shape){ n, l->ih, l->iw, l->ic, l->oc, l->kh, l->kw, l->stride, l->pad };
}

/* One layer line after the input line; infers its output from `prev`. */
static int parse_layer(net *nt, char **tok, int ntok, int line, const char *file, char *err,
                       size_t len)
{
    if (nt->nlayers == NET_MAX_LAYERS)
        return error_set(err, len, "%s:%d: more than %d layers", file, line, NET_MAX_LAYERS);
    layer *l = &nt->layers[nt->nlayers];
    memset(l, 0, sizeof *l);
    l->line = line;
    if (nt->nlayers) {
        const layer *p = &nt->layers[nt->nlayers - 1];
        l->ih = p->oh;
        l->iw = p->ow;
        l->ic = p->oc;
    } else {
        l->ih = nt->in_h;
        l->iw = nt->in_w;
        l->ic = nt->in_c;
    }
    const int flat = l->ih == 1 && l->iw == 1 && nt->nlayers &&
                     (nt->layers[nt->nlayers - 1].kind == LAYER_FLATTEN ||
                      nt->layers[nt->nlayers - 1].kind == LAYER_DENSE);
    const char *kind = tok[0];
    if (!strcmp(kind, "conv2d")) {
        if (ntok < 3)
            return error_set(err, len,
                             "%s:%d: conv2d wants FILTERS RxS [stride=N] [pad=N] [relu|linear]",
                             file, line);
        if (flat) return error_set(err, len, "%s:%d: conv2d after flatten/dense", file, line);
        long k = parse_int(tok[1], 1 << 16);
        int r, s;
        char tail;
        if (k < 0) return error_set(err, len, "%s:%d: bad filter count '%s'", file, line, tok[1]);
        if (sscanf(tok[2], "%dx%d%c", &r, &s, &tail) != 2 || r <= 0 || s <= 0 || r > 64 || s > 64)
            return error_set(err, len, "%s:%d: bad filter size '%s' (want RxS, e.g. 3x3)", file,
                             line, tok[2]);
        l->kind = LAYER_CONV;
        l->oc = (int)k;
        l->kh = r;
        l->kw = s;
        l->stride = 1;
        l->pad = 0;
        l->act = ACT_LINEAR;
        for (int i = 3; i < ntok; i++) {
            long v;
            if (!strncmp(tok[i], "stride=", 7)) {
                if ((v = parse_int(tok[i] + 7, 64)) < 0)
                    return error_set(err, len, "%s:%d: bad stride '%s'", file, line, tok[i] + 7);
                l->stride = (int)v;
            } else if (!strncmp(tok[i], "pad=", 4)) {
                if (!strcmp(tok[i] + 4, "0"))
                    v = 0;
                else if ((v = parse_int(tok[i] + 4, 64)) < 0)
                    return error_set(err, len, "%s:%d: bad padding '%s'", file, line, tok[i] + 4);
                l->pad = (int)v;
            } else if (parse_activation(tok[i], &l->act) || l->act == ACT_SOFTMAX) {
                return error_set(err, len, "%s:%d: conv2d: unknown option '%s'", file, line,
                                 tok[i]);
            }
        }
        if (l->pad >= l->kh || l->pad >= l->kw)
            return error_set(err, len,
                             "%s:%d: conv2d: padding %d must be smaller than the %dx%d filter",
                             file, line, l->pad, l->kh, l->kw);
        if (l->ih + 2 * l->pad < l->kh || l->iw + 2 * l->pad < l->kw)
            return error_set(err, len,
                             "%s:%d: conv2d: %dx%d filter larger than the padded %dx%d input", file,
                             line, l->kh, l->kw, l->ih, l->iw);
        conv_shape cs;
        net_layer_shape(l, 1, &cs);
        l->oh = conv_out_h(&cs);
        l->ow = conv_out_w(&cs);
    } else if (!strcmp(kind, "maxpool")) {
        long p;
        if (ntok != 2 || (p = parse_int(tok[1], 64)) < 0)
            return error_set(err, len, "%s:%d: maxpool wants one size, e.g. 'maxpool 2'", file,
                             line);
        if (flat) return error_set(err, len, "%s:%d: maxpool after flatten/dense", file, line);
        if (p > l->ih || p > l->iw)
            return error_set(err, len, "%s:%d: maxpool %ld on a %dx%d input", file, line, p, l->ih,
                             l->iw);
        l->kind = LAYER_MAXPOOL;
        l->pool = (int)p;
        l->oh = l->ih / l->pool;
        l->ow = l->iw / l->pool;
        l->oc = l->ic;

    } else if (!strcmp(kind, "flatten")) {
        if (ntok != 1) return error_set(err, len, "%s:%d: flatten takes no arguments", file, line);
        const long long features = (long long)l->ih * l->iw * l->ic;
        if (features > NET_MAX_FEATURES)
            return error_set(err, len,
                             "%s:%d: flatten of %dx%dx%d gives %lld features, more than %d", file,
                             line, l->ih, l->iw, l->ic, features, NET_MAX_FEATURES);
        l->kind = LAYER_FLATTEN;
        l->oh = l->ow = 1;
        l->oc = (int)features;

    } else if (!strcmp(kind, "dense")) {
        long u;
        if (ntok < 2 || ntok > 3 || (u = parse_int(tok[1], 1 << 20)) < 0)
            return error_set(err, len, "%s:%d: dense wants UNITS [relu|linear|softmax]", file,
                             line);
        if (!flat)
            return error_set(err, len, "%s:%d: dense needs a flat input: put 'flatten' before it",
                             file, line);
        l->kind = LAYER_DENSE;
        l->oh = l->ow = 1;
        l->oc = (int)u;
        l->act = ACT_LINEAR;
        if (ntok == 3 && parse_activation(tok[2], &l->act))
            return error_set(err, len, "%s:%d: dense: unknown activation '%s'", file, line, tok[2]);

    } else {
        return error_set(err, len, "%s:%d: unknown layer '%s' (conv2d, maxpool, flatten, dense)",
                         file, line, kind);
    }
    if ((long long)l->oh * l->ow * l->oc > NET_MAX_FEATURES)
        return error_set(err, len, "%s:%d: the output %dx%dx%d has more than %d values per image",
                         file, line, l->oh, l->ow, l->oc, NET_MAX_FEATURES);
    /* Keras-like names, numbered per kind: conv1, pool1, flatten1, dense1 */
    static const char *const prefix[] = { "conv", "pool", "flatten", "dense" };
    int count = 1;
    for (int i = 0; i < nt->nlayers; i++) count += nt->layers[i].kind == l->kind;
    snprintf(l->name, sizeof l->name, "%s%d", prefix[l->kind], count % 100);
    int dims[] = { l->kind, l->act, l->oh, l->ow, l->oc, l->kh, l->kw, l->stride, l->pad, l->pool };
    nt->spec_hash = fnv1a(nt->spec_hash, dims, sizeof dims);
    nt->nlayers++;
    return 0;
}

/* The leading conv layers up to the first max-pool run in parts of the
   batch (see net_forward); known from the structure alone, so that auto
   can time them at the size they will run at before anything is allocated. */
static void plan_prefix(net *nt)
{
    nt->prefix = 0;
    for (int i = 0; i < nt->nlayers; i++) {
        const layer_kind k = nt->layers[i].kind;
        if (k != LAYER_CONV && k != LAYER_MAXPOOL) break;
        if (k == LAYER_MAXPOOL) {
            nt->prefix = i + 1;
            break;
        }
    }
    /* A prefix layer's output read only by the max-pool after it (which
       keeps its winners' positions and folds this layer's ReLU into its backward, so
       backward never reads the output) is needed one part at a time: every
       part uses the start of the buffer, and likewise its gradient, which
       only this layer's backward reads. The seed's conv1: 2.8 MB at batch
       32 that would otherwise go out to L3 and come back. */
    memset(nt->part_local, 0, sizeof nt->part_local);
    for (int i = 0; i + 1 < nt->prefix; i++)
        nt->part_local[i] = nt->layers[i + 1].kind == LAYER_MAXPOOL &&
                            (nt->layers[i].act == ACT_RELU || nt->layers[i].act == ACT_LINEAR);
    nt->l2_bytes = cpu_l2_bytes();
    nt->prefix_bytes = 0;
    for (int i = 0; i < nt->prefix; i++) {
        const layer *l = &nt->layers[i];
        const size_t b = sizeof(float) * l->oh * l->ow * l->oc;
        if (b > nt->prefix_bytes) nt->prefix_bytes = b;
    }
}

int net_parse_string(net *nt, const char *text, const char *file, char *err, size_t len)
{
    memset(nt, 0, sizeof *nt);
    nt->spec_hash = FNV1A_INIT;
    char *copy = strdup(text), *save = NULL;
    if (!copy) return error_set(err, len, "out of memory");
    int line = 0, have_input = 0, rc = 0;
    for (char *ln = copy, *next; ln && !rc; ln = next) {
        next = strchr(ln, '\n');
        if (next) *next++ = 0;
        line++;
        char *hash = strchr(ln, '#');
        if (hash) *hash = 0;
        char *tok[16];
        int ntok = 0;
        for (char *t = strtok_r(ln, " \t\r", &save); t; t = strtok_r(NULL, " \t\r", &save)) {
            if (ntok == 16) {
                rc = error_set(err, len, "%s:%d: too many words", file, line);
                break;
            }
            tok[ntok++] = t;
        }
        if (rc || !ntok) continue;
        if (!strcmp(tok[0], "input")) {
            long v[3];
            if (have_input) {
                rc = error_set(err, len, "%s:%d: a second input line", file, line);
                break;
            }
            if (ntok != 4 || (v[0] = parse_int(tok[1], 1 << 14)) < 0 ||
                (v[1] = parse_int(tok[2], 1 << 14)) < 0 ||
                (v[2] = parse_int(tok[3], 1 << 12)) < 0) {
                rc = error_set(err, len, "%s:%d: input wants H W C, e.g. 'input 28 28 1'", file,
                               line);
                break;
            }
            nt->in_h = (int)v[0];
            nt->in_w = (int)v[1];
            nt->in_c = (int)v[2];
            have_input = 1;
            int dims[] = { nt->in_h, nt->in_w, nt->in_c };
            nt->spec_hash = fnv1a(nt->spec_hash, dims, sizeof dims);
        } else if (!have_input) {
            rc = error_set(err, len, "%s:%d: the first line must be 'input H W C'", file, line);
        } else {
            rc = parse_layer(nt, tok, ntok, line, file, err, len);
        }
    }
    free(copy);
    if (rc) return rc;
    if (!have_input || !nt->nlayers) return error_set(err, len, "%s: no layers", file);
    for (int i = 0; i < nt->nlayers; i++) {
        const layer *l = &nt->layers[i];
        if (l->act == ACT_SOFTMAX && i != nt->nlayers - 1)
            return error_set(err, len, "%s:%d: softmax only on the last layer", file, l->line);
    }
    const layer *last = &nt->layers[nt->nlayers - 1];
    if (last->kind != LAYER_DENSE || last->act != ACT_SOFTMAX || last->oc < 2)
        return error_set(err, len,
                         "%s:%d: the last layer must be 'dense CLASSES softmax' with CLASSES >= 2 "
                         "(the loss is sparse categorical cross-entropy)",
                         file, last->line);
    nt->classes = last->oc;
    plan_prefix(nt);
    return 0;
}

int net_parse(net *nt, const char *path, char *err, size_t len)
{
    memset(nt, 0, sizeof *nt); /* net_free is safe on a spec that fails to load */
    FILE *f = fopen(path, "rb");
    if (!f) return error_set(err, len, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    char *text = NULL;
    const int regular = fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode);
    if (regular && st.st_size < SPEC_MAX_BYTES && (text = malloc((size_t)st.st_size + 1))) {
        size_t size = fread(text, 1, (size_t)st.st_size, f);
        text[size] = 0;
        if (ferror(f) || memchr(text, 0, size)) {
            free(text);
            text = NULL;
        }
    }
    fclose(f);
    if (!text)
        return error_set(err, len, "%s: %s", path,
                         !regular                       ? "not a regular file"
                         : st.st_size >= SPEC_MAX_BYTES ? "larger than 1 MiB: not a network spec"
                                                        : "cannot read (or not text)");
    int rc = net_parse_string(nt, text, path, err, len);
    free(text);
    return rc;
}
