/* The network spec: parsing a spec file (format in README) into the
   layer structure, with each layer's output shape inferred from the one
   before, the structure's hash (checkpoints), and the leading layers the
   executor (net.c) runs in parts of a batch, which the structure alone
   decides. Nothing here allocates beyond the parse. */
#include <errno.h>
#include <stdarg.h>
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
    /* stride_h 0: stride holds the height's */
    *s = (conv_shape){ n,        l->ih,     l->iw,    l->ic,     l->oc,    l->kh,
                       l->kw,    l->stride, l->pad,   l->groups, 0,        l->stride_w,
                       l->dil_h, l->dil_w,  l->pad_t, l->pad_b,  l->pad_l, l->pad_r };
}

static void append(char *buf, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void append(char *buf, size_t len, const char *fmt, ...)
{
    const size_t used = strlen(buf);
    if (used + 1 >= len) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf + used, len - used, fmt, ap);
    va_end(ap);
}

void net_shape_describe(const conv_shape *s, char *buf, size_t len)
{
    if (!len) return;
    const int sh = s->stride_h ? s->stride_h : s->stride,
              sw = s->stride_w ? s->stride_w : s->stride;
    const int dh = s->dil_h ? s->dil_h : 1, dw = s->dil_w ? s->dil_w : 1;
    buf[0] = 0;
    append(buf, len, "%dx%dx%dx%d -> %d %dx%d stride %d", s->n, s->h, s->w, s->c, s->k, s->r, s->s,
           sh);
    if (sw != sh) append(buf, len, "x%d", sw);
    if (s->pad_t || s->pad_b || s->pad_l || s->pad_r)
        append(buf, len, " pad %d,%d,%d,%d", s->pad + s->pad_t, s->pad + s->pad_b,
               s->pad + s->pad_l, s->pad + s->pad_r);
    else
        append(buf, len, " pad %d", s->pad);
    if (dh != dw)
        append(buf, len, " dilation %dx%d", dh, dw);
    else if (dh > 1)
        append(buf, len, " dilation %d", dh);
    if (s->groups > 1) append(buf, len, " groups %d", s->groups);
}

/* A whole-token integer 0..max, else -1. */
static long parse_count(const char *s, long max) { return !strcmp(s, "0") ? 0 : parse_int(s, max); }

/* "N" (both) or "AxB", each 1..max; -1 if neither. */
static int parse_pair(const char *s, long max, int *a, int *b)
{
    char first[24];
    const char *x = strchr(s, 'x');
    if (!x) x = s + strlen(s);
    if ((size_t)(x - s) >= sizeof first) return -1;
    memcpy(first, s, (size_t)(x - s));
    first[x - s] = 0;
    const long u = parse_int(first, max), v = *x ? parse_int(x + 1, max) : u;
    if (u < 0 || v < 0) return -1;
    *a = (int)u;
    *b = (int)v;
    return 0;
}

/* "N" (every side) or "T,B,L,R", each 0..max, into pad[4]; -1 if neither. */
static int parse_sides(const char *s, long max, int pad[4])
{
    char copy[64], *save = NULL;
    int commas = 0, n = 0;
    for (const char *c = s; *c; c++) commas += *c == ',';
    if ((commas != 0 && commas != 3) || strlen(s) >= sizeof copy) return -1;
    strcpy(copy, s);
    for (char *t = strtok_r(copy, ",", &save); t && n < 4; t = strtok_r(NULL, ",", &save)) {
        const long v = parse_count(t, max);
        if (v < 0) return -1;
        pad[n++] = (int)v;
    }
    if (n != commas + 1) return -1; /* an empty side */
    if (n == 1) pad[1] = pad[2] = pad[3] = pad[0];
    return 0;
}

/* Keras' padding="same" along one axis: the output is ceil(in / stride),
   the padding that takes is split with the odd one at the end (bottom,
   right), as TensorFlow does. */
static void same_pad(int in, int f, int dil, int st, int *lo, int *hi)
{
    const long out = (in + st - 1) / st, need = (out - 1) * st + (long)(f - 1) * dil + 1 - in;
    const long total = need > 0 ? need : 0;
    *lo = (int)(total / 2);
    *hi = (int)(total - total / 2);
}

/* conv2d FILTERS RxS [options] or, with dw, dwconv2d RxS [options]: the
   convolution's geometry (README) into l, whose input is set. Stored as
   conv.h's members with the appended ones 0 wherever the first ones say
   it, so a spec of before gives the shape it always gave. */
static int parse_conv(layer *l, int dw, char **tok, int ntok, int line, const char *file, char *err,
                      size_t len)
{
    const char *what = dw ? "dwconv2d" : "conv2d";
    const int at = dw ? 1 : 2; /* the RxS word */
    if (ntok <= at)
        return error_set(err, len,
                         "%s:%d: %s wants %sRxS [stride=N|SHxSW] [pad=N|same|valid|T,B,L,R] "
                         "[dilation=N] [%s] [relu|linear]",
                         file, line, what, dw ? "" : "FILTERS ", dw ? "multiplier=M" : "groups=N");
    long k = 0, groups = 1, mult = 1;
    int r, s, sh = 1, sw = 1, dh = 1, dwd = 1, pad[4] = { 0 }, same = 0;
    char tail;
    if (!dw && (k = parse_int(tok[1], 1 << 16)) < 0)
        return error_set(err, len, "%s:%d: bad filter count '%s'", file, line, tok[1]);
    if (sscanf(tok[at], "%dx%d%c", &r, &s, &tail) != 2 || r <= 0 || s <= 0 || r > 64 || s > 64)
        return error_set(err, len, "%s:%d: bad filter size '%s' (want RxS, e.g. 3x3)", file, line,
                         tok[at]);
    l->act = ACT_LINEAR;
    for (int i = at + 1; i < ntok; i++) {
        const char *v = strchr(tok[i], '=') ? strchr(tok[i], '=') + 1 : "";
        if (!strncmp(tok[i], "stride=", 7)) {
            if (parse_pair(v, 64, &sh, &sw))
                return error_set(err, len, "%s:%d: bad stride '%s' (want N or SHxSW, 1 to 64)",
                                 file, line, v);
        } else if (!strncmp(tok[i], "pad=", 4)) {
            same = !strcmp(v, "same");
            if (same || !strcmp(v, "valid"))
                memset(pad, 0, sizeof pad);
            else if (parse_sides(v, 64, pad))
                return error_set(err, len,
                                 "%s:%d: bad padding '%s' (want N, same, valid or T,B,L,R, "
                                 "each 0 to 64)",
                                 file, line, v);
        } else if (!strncmp(tok[i], "dilation=", 9)) {
            if (parse_pair(v, 64, &dh, &dwd))
                return error_set(err, len, "%s:%d: bad dilation '%s' (want N or DHxDW, 1 to 64)",
                                 file, line, v);
        } else if (!dw && !strncmp(tok[i], "groups=", 7)) {
            if ((groups = parse_int(v, 1 << 16)) < 0)
                return error_set(err, len, "%s:%d: bad groups '%s' (want N >= 1)", file, line, v);
        } else if (dw && !strncmp(tok[i], "multiplier=", 11)) {
            if ((mult = parse_int(v, 1 << 16)) < 0)
                return error_set(err, len, "%s:%d: bad multiplier '%s' (want M >= 1)", file, line,
                                 v);
        } else if (parse_activation(tok[i], &l->act) || l->act == ACT_SOFTMAX) {
            return error_set(err, len, "%s:%d: %s: unknown option '%s'", file, line, what, tok[i]);
        }
    }
    if (dw) { /* one group per input channel, M filters each */
        groups = l->ic;
        if ((k = mult * l->ic) > 1 << 16)
            return error_set(err, len,
                             "%s:%d: dwconv2d: multiplier %ld x %d channels is over 65536 filters",
                             file, line, mult, l->ic);
    }
    if (l->ic % groups || k % groups)
        return error_set(err, len,
                         "%s:%d: conv2d: groups %ld must divide the input channels (%d) and the "
                         "filters (%ld)",
                         file, line, groups, l->ic, k);
    if (same) {
        same_pad(l->ih, r, dh, sh, &pad[0], &pad[1]);
        same_pad(l->iw, s, dwd, sw, &pad[2], &pad[3]);
    }
    const long eh = (long)(r - 1) * dh + 1, ew = (long)(s - 1) * dwd + 1;
    if (l->ih + pad[0] + pad[1] < eh || l->iw + pad[2] + pad[3] < ew) {
        char span[64] = "";
        if (dh > 1 || dwd > 1) snprintf(span, sizeof span, " (dilated: it spans %ldx%ld)", eh, ew);
        return error_set(
            err, len, "%s:%d: %s: %dx%d filter larger than the %dx%d input padded to %dx%d%s", file,
            line, what, r, s, l->ih, l->iw, l->ih + pad[0] + pad[1], l->iw + pad[2] + pad[3], span);
    }
    int least = pad[0];
    for (int j = 1; j < 4; j++)
        if (pad[j] < least) least = pad[j];
    l->kind = LAYER_CONV;
    l->oc = (int)k;
    l->kh = r;
    l->kw = s;
    l->stride = sh;
    l->stride_w = sw != sh ? sw : 0;
    l->pad = least;
    l->pad_t = pad[0] - least;
    l->pad_b = pad[1] - least;
    l->pad_l = pad[2] - least;
    l->pad_r = pad[3] - least;
    l->groups = groups > 1 ? (int)groups : 0;
    l->dil_h = dh > 1 ? dh : 0;
    l->dil_w = dwd > 1 ? dwd : 0;
    conv_shape cs;
    net_layer_shape(l, 1, &cs);
    l->oh = conv_out_h(&cs);
    l->ow = conv_out_w(&cs);
    return 0;
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
    if (!strcmp(kind, "conv2d") || !strcmp(kind, "dwconv2d")) {
        if (flat) return error_set(err, len, "%s:%d: %s after flatten/dense", file, line, kind);
        if (parse_conv(l, kind[0] == 'd', tok, ntok, line, file, err, len)) return -1;
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
        return error_set(err, len,
                         "%s:%d: unknown layer '%s' (conv2d, dwconv2d, maxpool, flatten, dense)",
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
    /* the appended geometry only where a layer has it: a spec of before
       keeps its hash, and its weights files load */
    const int more[] = { l->groups, l->stride_w, l->dil_h, l->dil_w,
                         l->pad_t,  l->pad_b,    l->pad_l, l->pad_r };
    static const int none[sizeof more / sizeof *more];
    if (memcmp(more, none, sizeof more)) nt->spec_hash = fnv1a(nt->spec_hash, more, sizeof more);
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
