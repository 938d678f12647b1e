/* The spec parser: each error in a spec file names its line; the
   convolution options (stride, padding with Keras' "same", dilation,
   groups, depthwise) give the geometry they say; a spec of before keeps
   its hash. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "../models/net.h"
#include "check.h"
#include "suites.h"

/* One conv layer's geometry as parsed: the output, the padding per side
   (top, bottom, left, right), strides, dilations, groups and parameters. */
typedef struct {
    const char *input, *layer;
    int oh, ow, oc, side[4], sh, sw, dh, dw, g;
    size_t params;
} geometry_case;

static const geometry_case geometry_cases[] = {
    { "28 28 8", "conv2d 16 3x3", 26, 26, 16, { 0, 0, 0, 0 }, 1, 1, 1, 1, 1, 1168 },
    { "28 28 8", "conv2d 16 3x3 pad=same", 28, 28, 16, { 1, 1, 1, 1 }, 1, 1, 1, 1, 1, 1168 },
    /* Keras' same, stride 2 on an even input: (14-1)*2 + 3 - 28 = 1, at the bottom/right */
    { "28 28 8",
      "conv2d 16 3x3 stride=2 pad=same",
      14,
      14,
      16,
      { 0, 1, 0, 1 },
      2,
      2,
      1,
      1,
      1,
      1168 },
    /* on an odd input: (4-1)*2 + 3 - 7 = 2, one each side */
    { "7 7 8", "conv2d 16 3x3 stride=2 pad=same", 4, 4, 16, { 1, 1, 1, 1 }, 2, 2, 1, 1, 1, 1168 },
    /* an even filter: 3, the odd one at the bottom/right */
    { "28 28 8", "conv2d 16 4x4 pad=same", 28, 28, 16, { 1, 2, 1, 2 }, 1, 1, 1, 1, 1, 2064 },
    /* none needed: max(..., 0) */
    { "28 28 8",
      "conv2d 16 1x1 stride=2 pad=same",
      14,
      14,
      16,
      { 0, 0, 0, 0 },
      2,
      2,
      1,
      1,
      1,
      144 },
    { "28 28 8",
      "conv2d 16 2x2 stride=2 pad=same",
      14,
      14,
      16,
      { 0, 0, 0, 0 },
      2,
      2,
      1,
      1,
      1,
      528 },
    /* dilated: extent (5-1)*2 + 1 = 9, ceil(28/3) = 10, (10-1)*3 + 9 - 28 = 8 */
    { "28 28 8",
      "conv2d 16 5x5 stride=3 dilation=2 pad=same",
      10,
      10,
      16,
      { 4, 4, 4, 4 },
      3,
      3,
      2,
      2,
      1,
      3216 },
    { "28 28 8",
      "conv2d 16 3x3 stride=2 pad=valid",
      13,
      13,
      16,
      { 0, 0, 0, 0 },
      2,
      2,
      1,
      1,
      1,
      1168 },
    { "28 28 8",
      "conv2d 16 3x3 stride=2x1 pad=1,2,3,4 linear",
      15,
      33,
      16,
      { 1, 2, 3, 4 },
      2,
      1,
      1,
      1,
      1,
      1168 },
    { "28 28 8", "conv2d 4 3x3 dilation=2x3", 24, 22, 4, { 0, 0, 0, 0 }, 1, 1, 2, 3, 1, 292 },
    { "28 28 8", "conv2d 16 3x3 pad=4", 34, 34, 16, { 4, 4, 4, 4 }, 1, 1, 1, 1, 1, 1168 },
    { "28 28 8", "conv2d 16 3x3 groups=4 relu", 26, 26, 16, { 0, 0, 0, 0 }, 1, 1, 1, 1, 4, 304 },
    { "28 28 8", "dwconv2d 3x3 pad=same relu", 28, 28, 8, { 1, 1, 1, 1 }, 1, 1, 1, 1, 8, 80 },
    { "28 28 8",
      "dwconv2d 3x3 stride=2 pad=same multiplier=3",
      14,
      14,
      24,
      { 0, 1, 0, 1 },
      2,
      2,
      1,
      1,
      8,
      240 },
    { "28 28 8", "dwconv2d 5x3 dilation=2", 20, 24, 8, { 0, 0, 0, 0 }, 1, 1, 2, 2, 8, 128 },
};

static void test_geometry(void)
{
    for (size_t i = 0; i < sizeof geometry_cases / sizeof *geometry_cases; i++) {
        const geometry_case *c = &geometry_cases[i];
        char text[256], name[96], err[512] = "";
        snprintf(text, sizeof text, "input %s\n%s\nflatten\ndense 10 softmax\n", c->input,
                 c->layer);
        snprintf(name, sizeof name, "spec/geometry-%zu", i);
        net nt;
        if (!check(name, !net_parse_string(&nt, text, "ok.net", err, sizeof err), "%s: %s",
                   c->layer, err))
            continue;
        const layer *l = &nt.layers[0];
        conv_shape s;
        net_layer_shape(l, 1, &s);
        const int side[4] = { s.pad + s.pad_t, s.pad + s.pad_b, s.pad + s.pad_l, s.pad + s.pad_r };
        const int sh = s.stride_h ? s.stride_h : s.stride, sw = s.stride_w ? s.stride_w : s.stride;
        const int dh = s.dil_h ? s.dil_h : 1, dw = s.dil_w ? s.dil_w : 1,
                  g = s.groups ? s.groups : 1;
        const size_t params = net_param_count(&nt) - (size_t)l->oh * l->ow * l->oc * 10 - 10;
        check(name,
              l->kind == LAYER_CONV && l->oh == c->oh && l->ow == c->ow && l->oc == c->oc &&
                  conv_out_h(&s) == c->oh && conv_out_w(&s) == c->ow &&
                  !memcmp(side, c->side, sizeof side) && sh == c->sh && sw == c->sw &&
                  dh == c->dh && dw == c->dw && g == c->g && params == c->params,
              "%s: %dx%dx%d pad %d,%d,%d,%d stride %dx%d dilation %dx%d groups %d, %zu params",
              c->layer, l->oh, l->ow, l->oc, side[0], side[1], side[2], side[3], sh, sw, dh, dw, g,
              params);
    }
}

/* A spec of before hashes as it did (its weights files still load), and
   the same convolution spelled the new way hashes the same. */
static void test_hash(void)
{
    net a = { 0 }, b = { 0 };
    char err[512] = "";
    check("spec/hash-seed",
          !net_parse(&a, "models/seed_cnn.net", err, sizeof err) &&
              a.spec_hash == UINT64_C(0x7dcb40ecf35180c9),
          "%s hash %016llx", err, (unsigned long long)a.spec_hash);
    static const char *const same[2] = {
        "input 28 28 4\nconv2d 8 5x5 stride=2 pad=2 linear\nconv2d 4 3x3 pad=0 relu\n"
        "flatten\ndense 10 softmax\n",
        "input 28 28 4\nconv2d 8 5x5 stride=2x2 pad=2,2,2,2 dilation=1 groups=1 linear\n"
        "conv2d 4 3x3 pad=valid relu\nflatten\ndense 10 softmax\n",
    };
    check("spec/hash-spellings",
          !net_parse_string(&a, same[0], "a.net", err, sizeof err) &&
              !net_parse_string(&b, same[1], "b.net", err, sizeof err) &&
              a.spec_hash == b.spec_hash,
          "%s %016llx vs %016llx", err, (unsigned long long)a.spec_hash,
          (unsigned long long)b.spec_hash);
    check("spec/hash-groups",
          !net_parse_string(&a, "input 8 8 4\nconv2d 4 3x3\nflatten\ndense 2 softmax\n", "a.net",
                            err, sizeof err) &&
              !net_parse_string(&b,
                                "input 8 8 4\nconv2d 4 3x3 groups=2\nflatten\ndense 2 softmax\n",
                                "b.net", err, sizeof err) &&
              a.spec_hash != b.spec_hash,
          "%s", err);
}

void test_spec(void)
{
    if (!check_selected("spec")) return;
    test_geometry();
    test_hash();
    const char *tmp = check_tmpdir();
    char name[96];
    static const struct {
        const char *text, *want;
    } specs[] = {
        { "input 28 28 1\nconv2d 8 3x3 relu\nflatten\ndense 10 relu\n",
          "bad.net:4: the last layer" },
        { "input 28 28 1\nconv2d 8 3q3 relu\n", "bad.net:2: bad filter size" },
        { "input 28 28 1\n\n# comment\npool 2\n", "bad.net:4: unknown layer 'pool'" },
        { "conv2d 8 3x3\n", "bad.net:1: the first line must be 'input H W C'" },
        { "input 28 28 1\nconv2d 8 3x3\ndense 10 softmax\n",
          "bad.net:3: dense needs a flat input" },
        { "input 4 4 1\nconv2d 8 7x7\n", "bad.net:2: conv2d: 7x7 filter larger" },
        { "input 28 28 1\nconv2d 8 3x3 pad=65\n", "bad.net:2: bad padding '65'" },
        { "input 28 28 1\nconv2d 8 3x3 stride=0\n", "bad.net:2: bad stride '0'" },
        { "input 28 28 1\nconv2d 8 3x3 stride=2x0\n", "bad.net:2: bad stride '2x0'" },
        { "input 28 28 1\nconv2d 8 3x3 stride=2x\n", "bad.net:2: bad stride '2x'" },
        { "input 28 28 1\nconv2d 8 3x3 stride=65\n", "bad.net:2: bad stride '65'" },
        { "input 28 28 1\nconv2d 8 3x3 pad=1,2,3\n", "bad.net:2: bad padding '1,2,3'" },
        { "input 28 28 1\nconv2d 8 3x3 pad=1,,2,3\n", "bad.net:2: bad padding '1,,2,3'" },
        { "input 28 28 1\nconv2d 8 3x3 pad=1,2,3,4,\n", "bad.net:2: bad padding '1,2,3,4,'" },
        { "input 28 28 1\nconv2d 8 3x3 pad=-1\n", "bad.net:2: bad padding '-1'" },
        { "input 28 28 1\nconv2d 8 3x3 pad=Same\n", "bad.net:2: bad padding 'Same'" },
        { "input 28 28 1\nconv2d 8 3x3 dilation=0\n", "bad.net:2: bad dilation '0'" },
        { "input 28 28 1\nconv2d 8 3x3 groups=0\n", "bad.net:2: bad groups '0'" },
        { "input 28 28 6\nconv2d 8 3x3 groups=4\n",
          "bad.net:2: conv2d: groups 4 must divide the input channels (6) and the filters (8)" },
        { "input 28 28 4\nconv2d 6 3x3 groups=4\n", "bad.net:2: conv2d: groups 4 must divide" },
        { "input 28 28 4\nconv2d 8 3x3 multiplier=2\n",
          "bad.net:2: conv2d: unknown option 'multiplier=2'" },
        { "input 28 28 4\ndwconv2d 3x3 groups=2\n",
          "bad.net:2: dwconv2d: unknown option 'groups=2'" },
        { "input 28 28 4\ndwconv2d 3x3 softmax\n", "bad.net:2: dwconv2d: unknown option" },
        { "input 28 28 4\ndwconv2d 3x3 multiplier=0\n", "bad.net:2: bad multiplier '0'" },
        { "input 28 28 4096\ndwconv2d 3x3 multiplier=17\n",
          "bad.net:2: dwconv2d: multiplier 17 x 4096 channels is over 65536 filters" },
        { "input 28 28 4\ndwconv2d\n", "bad.net:2: dwconv2d wants RxS" },
        { "input 28 28 4\ndwconv2d 3q3\n", "bad.net:2: bad filter size '3q3'" },
        { "input 8 8 4\nconv2d 4 3x3 dilation=4\n",
          "bad.net:2: conv2d: 3x3 filter larger than the 8x8 input padded to 8x8 (dilated: it "
          "spans 9x9)" },
        { "input 28 28 1\nflatten\ndwconv2d 3x3\n", "bad.net:3: dwconv2d after flatten/dense" },
        { "input 28 28 1\nmaxpool 0\n", "bad.net:2: maxpool wants" },
        { "input 28 28 1\nflatten\ndense 10 softmax\ndense 10 softmax\n",
          "bad.net:3: softmax only on the last" },
    };
    for (size_t i = 0; i < sizeof specs / sizeof *specs; i++) {
        char path[600], err[512];
        snprintf(path, sizeof path, "%s/bad.net", tmp);
        FILE *f = fopen(path, "w");
        if (!f) continue;
        fputs(specs[i].text, f);
        fclose(f);
        net nt;
        int rc = net_parse(&nt, path, err, sizeof err);
        snprintf(name, sizeof name, "spec/bad-%zu", i);
        check(name, rc && strstr(err, specs[i].want), "got \"%s\", want \"%s\"",
              rc ? err : "(accepted)", specs[i].want);
    }
}
