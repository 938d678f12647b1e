/* `backends --shape` (harness/shape_parse.c: N,H,W,C,K,R,S,STRIDE,PAD or a
   benchdnn descriptor) and every backend's unsupported() on what it parses: the check that
   must refuse any shape a backend cannot run, before a plan is made. A
   small shape every backend accepts is also planned and run forward
   (the padded-window pointer overflow in im2col was found this way). */
#include <stdlib.h>
#include <string.h>
#include "conv.h"
#include "fuzz.h"
#include "shape_parse.h"

FUZZ_TARGET(backends_shape)
{
    char text[128];
    if (size >= sizeof text) return;
    memcpy(text, data, size);
    text[size] = 0;
    bench_layer l;
    char err[256];
    if (shape_parse(text, &l, err, sizeof err)) return;
    const conv_shape s = l.shape;
    const conv_backend *naive = conv_backend_find("naive");
    if (naive->unsupported(&s)) return;
    const double in = (double)s.n * s.h * s.w * s.c, w = (double)s.r * s.s * s.c * s.k;
    const double out = (double)s.n * conv_out_h(&s) * conv_out_w(&s) * s.k;
    const int small = in + w + out < 1 << 16;
    for (const conv_backend *const *b = conv_backends(); *b; b++) {
        if ((*b)->unsupported(&s) || !small || !strncmp((*b)->name, "onednn", 6)) continue;
        conv_plan *pl = (*b)->plan(&s);
        float *x = calloc((size_t)in + 1, sizeof(float)),
              *wt = calloc((size_t)w + 1, sizeof(float)),
              *y = calloc((size_t)out + 1, sizeof(float));
        if (pl && x && wt && y) (*b)->forward(pl, x, wt, NULL, y);
        free(x);
        free(wt);
        free(y);
        if (pl) (*b)->destroy(pl);
    }
}
