/* The built-in benchmark layer sets (seed, resnet, vgg), the parsing of
   set lists and shape strings, and the names of benchmark cases: shared by
   build/bench_conv, convbench bench, scale, backends and the report so
   each shape is written once. */
#ifndef CONVBENCH_SHAPE_SETS_H
#define CONVBENCH_SHAPE_SETS_H

#include <stddef.h>
#include "conv.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    const char *set;   /* "seed", "resnet", "vgg" */
    const char *layer; /* "conv2", "res3x3_28", ... */
    conv_shape shape;
} bench_layer;

/* Every layer of every set, in table order; terminated by set == NULL. */
const bench_layer *shapes_all(void);
/* The set names, NULL-terminated. */
const char *const *shapes_sets(void);
int shapes_set_known(const char *set);
/* Parses a comma list of set names into a bit mask over shapes_sets()
   order; -1 (and a message naming the bad one in err) if one is unknown. */
int shapes_parse_sets(const char *list, char *err, size_t errlen);
/* 1 if layer l belongs to a set in the mask. */
int shapes_in_sets(const bench_layer *l, int mask);

/* A shape written "N,H,W,C,K,R,S,STRIDE,PAD" (nine integers, nothing
   else) into *s; 0, or -1 (s unchanged) if text is not one. */
int shapes_parse_shape(const char *text, conv_shape *s);

/* "set/layer/bN/backend/pass", e.g. "seed/conv2/b32/im2col/forward". */
void shapes_case_name(char *buf, size_t len, const bench_layer *l, const char *backend,
                      conv_pass pass);
/* The inverse: the layer, backend and pass a case name denotes. 0 on
   success, -1 if the name is not one of ours. */
int shapes_parse_case_name(const char *name, const bench_layer **l, char *backend,
                           size_t backend_len, conv_pass *pass);

#ifdef __cplusplus
}
#endif

#endif
