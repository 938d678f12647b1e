/* Shapes as text (see shape_parse.h): the nine-number form, benchdnn
   descriptors and shape files. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "error.h"
#include "shape.h"
#include "shape_parse.h"

/* Copies name into buf (len bytes) with every character outside the name
   alphabet turned into '_'; -1 if it is empty or too long. */
static int copy_name(char *buf, size_t len, const char *name, size_t n)
{
    if (n == 0 || n >= len) return -1;
    for (size_t i = 0; i < n; i++) {
        const char c = name[i];
        buf[i] =
            isalnum((unsigned char)c) || c == '_' || c == '-' || c == '.' || c == '+' ? c : '_';
    }
    buf[n] = 0;
    return 0;
}

/* An unsigned decimal integer of at most INT_MAX at *p (advanced past it);
   -1 and err naming field otherwise. */
static int read_int(const char **p, const char *field, long long *out, char *err, size_t len)
{
    const char *s = *p;
    if (!isdigit((unsigned char)*s)) {
        if (*s == '-') return error_set(err, len, "%s must not be negative", field);
        return error_set(err, len, "%s wants a number, got '%.20s'", field, s);
    }
    long long v = 0;
    for (; isdigit((unsigned char)*s); s++) {
        v = v * 10 + (*s - '0');
        if (v > INT_MAX)
            return error_set(err, len, "%s is out of range (at most %d)", field, INT_MAX);
    }
    *p = s;
    *out = v;
    return 0;
}

/* The checks every form shares: each field in range, then the shape as a
   whole (conv_shape_invalid: padding below the filter, an output of at
   least 1x1, tensors that fit). */
static int check_shape(const conv_shape *s, char *err, size_t len)
{
    const int v[9] = { s->n, s->h, s->w, s->c, s->k, s->r, s->s, s->stride, s->pad };
    static const char *const names[9] = { "N", "H", "W", "C", "K", "R", "S", "STRIDE", "PAD" };
    for (int i = 0; i < 9; i++)
        if (v[i] < (i == 8 ? 0 : 1))
            return error_set(err, len, "%s must be %s, got %d", names[i], i == 8 ? ">= 0" : ">= 1",
                             v[i]);
    const char *why = conv_shape_invalid(s);
    return why ? error_set(err, len, "%s", why) : 0;
}

static void default_name(bench_layer *out)
{
    const conv_shape *s = &out->shape;
    char iw[24] = "", kw[24] = "";
    if (s->w != s->h) snprintf(iw, sizeof iw, "iw%d", s->w);
    if (s->s != s->r) snprintf(kw, sizeof kw, "kw%d", s->s);
    snprintf(out->layer, sizeof out->layer, "ic%dih%d%soc%dkh%d%ssh%dph%d", s->c, s->h, iw, s->k,
             s->r, kw, s->stride, s->pad);
}

/* N,H,W,C,K,R,S,STRIDE,PAD[:NAME] */
static int parse_numbers(const char *text, bench_layer *out, char *err, size_t len)
{
    static const char *const fields[9] = { "N", "H", "W", "C", "K", "R", "S", "STRIDE", "PAD" };
    long long v[9];
    const char *p = text;
    int n = 0;
    for (;;) {
        while (*p == ' ' || *p == '\t') p++;
        if (n == 9)
            return error_set(err, len, "more than 9 numbers: wants N,H,W,C,K,R,S,STRIDE,PAD");
        if (read_int(&p, fields[n], &v[n], err, len)) return -1;
        n++;
        while (*p == ' ' || *p == '\t') p++;
        if (*p != ',') break;
        p++;
    }
    if (n < 9)
        return error_set(err, len, "%d number%s where N,H,W,C,K,R,S,STRIDE,PAD wants 9", n,
                         n == 1 ? "" : "s");
    bench_layer b = *out;
    b.shape = (conv_shape){ (int)v[0], (int)v[1], (int)v[2], (int)v[3], (int)v[4],
                            (int)v[5], (int)v[6], (int)v[7], (int)v[8] };
    if (*p == ':') {
        p++;
        size_t nl = strlen(p);
        while (nl && (p[nl - 1] == ' ' || p[nl - 1] == '\t')) nl--;
        if (copy_name(b.layer, sizeof b.layer, p, nl))
            return error_set(err, len, "NAME after ':' must hold 1 to %d characters",
                             (int)sizeof b.layer - 1);
    } else if (*p) {
        return error_set(err, len, "unexpected '%.20s' after the nine numbers", p);
    } else {
        default_name(&b);
    }
    if (check_shape(&b.shape, err, len)) return -1;
    *out = b;
    return 0;
}

/* benchdnn's descriptor fields, in its canonical order. */
enum { G, MB, IC, ID, IH, IW, OC, OD, OH, OW, KD, KH, KW, SD, SH, SW, PD, PH, PW, DD, DH, DW, NF };
static const char *const keys[NF] = { "g",  "mb", "ic", "id", "ih", "iw", "oc", "od",
                                      "oh", "ow", "kd", "kh", "kw", "sd", "sh", "sw",
                                      "pd", "ph", "pw", "dd", "dh", "dw" };

/* "given a, else b": benchdnn's rule that a missing width equals the height */
static long long either(const int *set, const long long *v, int a, int b, long long dflt)
{
    return set[a] ? v[a] : set[b] ? v[b] : dflt;
}

static int parse_descriptor(const char *text, bench_layer *out, char *err, size_t len)
{
    long long v[NF] = { 0 };
    int set[NF] = { 0 };
    const char *p = text, *name = NULL;
    size_t name_len = 0;
    while (*p) {
        if (*p == '_') {
            p++;
            continue;
        }
        int k = -1;
        for (int i = 0; i < NF; i++)
            if (!strncmp(p, keys[i], strlen(keys[i])) && isdigit((unsigned char)p[strlen(keys[i])]))
                k = i;
        if (k < 0 && *p == 'n') { /* the name: the rest, quotes stripped */
            name = p + 1;
            name_len = strlen(name);
            if (name_len >= 2 && name[0] == '"' && name[name_len - 1] == '"') {
                name++;
                name_len -= 2;
            }
            break;
        }
        for (int i = 0; k < 0 && i < NF; i++) /* a field without its number */
            if (!strncmp(p, keys[i], strlen(keys[i])) && strlen(keys[i]) == 2)
                return error_set(err, len, "%s wants a number, got '%.20s'", keys[i],
                                 p + strlen(keys[i]));
        if (k < 0) {
            size_t w = strspn(p, "abcdefghijklmnopqrstuvwxyz");
            if (w == 0 || w > 2) w = 1;
            return error_set(err, len,
                             "unknown descriptor field '%.*s' in '%s' (fields: g mb ic ih iw oc "
                             "oh ow kh kw sh sw ph pw dh dw n)",
                             (int)w, p, text);
        }
        if (set[k]) return error_set(err, len, "descriptor field %s given twice", keys[k]);
        p += strlen(keys[k]);
        if (read_int(&p, keys[k], &v[k], err, len)) return -1;
        set[k] = 1;
    }
    if (!set[IC] || !set[OC]) return error_set(err, len, "descriptor needs ic and oc");
    if (!set[IH] && !set[IW]) return error_set(err, len, "descriptor needs ih or iw");
    if (!set[KH] && !set[KW]) return error_set(err, len, "descriptor needs kh or kw");
    if (set[G] && v[G] != 1) return error_set(err, len, "g %lld: groups are not supported", v[G]);
    static const int depth[] = { ID, OD, KD };
    for (int i = 0; i < 3; i++)
        if (set[depth[i]] && v[depth[i]] != 1)
            return error_set(err, len, "%s %lld: 3-D convolutions are not supported",
                             keys[depth[i]], v[depth[i]]);
    if ((set[SD] && v[SD] != 1) || (set[PD] && v[PD] != 0))
        return error_set(err, len, "%s: 3-D convolutions are not supported",
                         set[SD] && v[SD] != 1 ? "sd" : "pd");
    static const int dil[] = { DD, DH, DW };
    for (int i = 0; i < 3; i++)
        if (set[dil[i]] && v[dil[i]] != 0)
            return error_set(err, len, "%s %lld: dilation is not supported", keys[dil[i]],
                             v[dil[i]]);
    const long long mb = set[MB] ? v[MB] : 2, ih = either(set, v, IH, IW, 0),
                    iw = either(set, v, IW, IH, 0), kh = either(set, v, KH, KW, 0),
                    kw = either(set, v, KW, KH, 0), sh = either(set, v, SH, SW, 1),
                    sw = either(set, v, SW, SH, 1);
    if (sh != sw)
        return error_set(err, len, "sh %lld and sw %lld differ: one stride serves both", sh, sw);
    if (sh < 1) return error_set(err, len, "sh must be >= 1");
    /* benchdnn's "trivial padding": the one that gives the output named */
    const int oh_set = set[OH] || set[OW];
    const long long oh = either(set, v, OH, OW, 0), ow = either(set, v, OW, OH, 0);
    long long ph = either(set, v, PH, PW, -1), pw = either(set, v, PW, PH, -1);
    if (ph < 0) ph = oh_set ? ((oh - 1) * sh - ih + kh) / 2 : 0;
    if (pw < 0) pw = oh_set ? ((ow - 1) * sw - iw + kw) / 2 : 0;
    if (ph < 0 || pw < 0)
        return error_set(err, len, "oh/ow too small for ih %lld, kh %lld, sh %lld", ih, kh, sh);
    if (ph != pw)
        return error_set(err, len, "ph %lld and pw %lld differ: one padding serves both", ph, pw);
    if (ph > INT_MAX) return error_set(err, len, "ph is out of range");
    bench_layer b = *out;
    b.shape = (conv_shape){ (int)mb, (int)ih, (int)iw, (int)v[IC], (int)v[OC],
                            (int)kh, (int)kw, (int)sh, (int)ph };
    if (check_shape(&b.shape, err, len)) return -1;
    const long long got_h = conv_out_h(&b.shape), got_w = conv_out_w(&b.shape);
    if (oh_set && (got_h != oh || got_w != ow))
        return error_set(err, len,
                         "oh %lld ow %lld do not match: ih %lld iw %lld, kh %lld kw %lld, sh "
                         "%lld, ph %lld give %lldx%lld",
                         oh, ow, ih, iw, kh, kw, sh, ph, got_h, got_w);
    if (name) {
        if (copy_name(b.layer, sizeof b.layer, name, name_len))
            return error_set(err, len, "name after 'n' must hold 1 to %d characters",
                             (int)sizeof b.layer - 1);
    } else {
        default_name(&b);
    }
    *out = b;
    return 0;
}

int shape_parse(const char *text, bench_layer *out, char *err, size_t errlen)
{
    if (!text) return error_set(err, errlen, "no shape given");
    while (*text == ' ' || *text == '\t') text++;
    if (!*text) return error_set(err, errlen, "empty shape");
    if (isdigit((unsigned char)*text) || *text == '-') return parse_numbers(text, out, err, errlen);
    if (isalpha((unsigned char)*text)) return parse_descriptor(text, out, err, errlen);
    return error_set(err, errlen,
                     "'%.20s' is neither N,H,W,C,K,R,S,STRIDE,PAD nor a descriptor such as "
                     "mb32ic32ih13oc64kh3ph0",
                     text);
}

int shape_list_add(shape_list *list, const bench_layer *l, char *err, size_t errlen)
{
    for (int i = 0; i < list->n; i++) {
        const bench_layer *x = &list->v[i];
        if (strcmp(x->set, l->set) || strcmp(x->layer, l->layer) || x->shape.n != l->shape.n)
            continue;
        if (!memcmp(&x->shape, &l->shape, sizeof l->shape)) return 0;
        return error_set(err, errlen, "two shapes named %s/%s/b%d", l->set, l->layer, l->shape.n);
    }
    if (list->n == list->cap) {
        int cap = list->cap ? 2 * list->cap : 16;
        bench_layer *v = realloc(list->v, (size_t)cap * sizeof *v);
        if (!v) return error_set(err, errlen, "out of memory");
        list->v = v;
        list->cap = cap;
    }
    list->v[list->n++] = *l;
    return 0;
}

void shape_list_free(shape_list *list)
{
    free(list->v);
    *list = (shape_list){ NULL, 0, 0 };
}

int shape_parse_text(const char *text, const char *file, const char *set, shape_list *out,
                     char *err, size_t errlen)
{
    if (!text) return error_set(err, errlen, "%s: no text", file);
    int line = 0, added = 0;
    char buf[512], why[384];
    for (const char *p = text; *p;) {
        size_t n = strcspn(p, "\n");
        line++;
        const char *next = p + n + (p[n] == '\n');
        size_t body = strcspn(p, "#\n");
        while (body && isspace((unsigned char)p[body - 1])) body--;
        const char *start = p;
        while (body && isspace((unsigned char)*start)) {
            start++;
            body--;
        }
        p = next;
        if (!body) continue;
        if (body >= sizeof buf)
            return error_set(err, errlen, "%s:%d: line longer than %d characters", file, line,
                             (int)sizeof buf - 1);
        memcpy(buf, start, body);
        buf[body] = 0;
        bench_layer l = { { 0 }, { 0 }, { 0, 0, 0, 0, 0, 0, 0, 0, 0 } };
        snprintf(l.set, sizeof l.set, "%s", set);
        if (shape_parse(buf, &l, why, sizeof why) || shape_list_add(out, &l, why, sizeof why))
            return error_set(err, errlen, "%s:%d: %s", file, line, why);
        added++;
    }
    if (!added) return error_set(err, errlen, "%s: no shape in the file", file);
    return 0;
}

int shape_parse_file(const char *path, const char *set, shape_list *out, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) return error_set(err, errlen, "cannot open %s: %s", path, strerror(errno));
    enum { MAX = 1 << 20 };
    char *text = malloc(MAX + 1);
    size_t got = text ? fread(text, 1, MAX + 1, f) : 0;
    const int bad = !text || ferror(f);
    fclose(f);
    if (bad || got > MAX) {
        free(text);
        return error_set(err, errlen, "%s: %s", path,
                         !text ? "out of memory"
                         : bad ? "read error"
                               : "larger than 1 MiB");
    }
    text[got] = 0;
    int rc = strlen(text) != got ? error_set(err, errlen, "%s: a NUL byte in the file", path)
                                 : shape_parse_text(text, path, set, out, err, errlen);
    free(text);
    return rc;
}

void shape_set_name(const char *path, char *buf, size_t len)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    const char *dot = strrchr(base, '.');
    size_t n = dot && dot != base ? (size_t)(dot - base) : strlen(base);
    if (n >= len) n = len - 1;
    if (copy_name(buf, len, base, n)) snprintf(buf, len, "user");
}
