/* Benchmark shapes as text: the one parser for `--shape`, shape files
   (`--shapes FILE`, the built-in sets in shapes/) and `backends --shape`.

   A shape is one of
     N,H,W,C,K,R,S,STRIDE,PAD[:NAME]       nine integers, an optional name
     mb32ic32ih13oc64kh3ph0[nNAME]         a benchdnn convolution descriptor
   Descriptors follow benchdnn's rules: '_' is ignored; mb defaults to 2,
   g to 1, strides to 1, dilations to 0; a missing width (iw, ow, kw, sw,
   pw) equals the height and the reverse; a missing output is computed; a
   missing padding is the "trivial" one that gives the output named, else
   0. What conv.h cannot express (groups, 3-D, dilation, different strides
   or paddings per dimension) is refused with the field named.

   Every number is range-checked (no wrapping: 4294967297 is refused), and
   an error names the field at fault. Nothing here exits or prints. */
#ifndef CONVBENCH_SHAPE_PARSE_H
#define CONVBENCH_SHAPE_PARSE_H

#include <stddef.h>
#include "conv.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SHAPE_NAME_MAX  48 /* a set name, with its terminator */
#define SHAPE_LAYER_MAX 80 /* a layer name */

/* One benchmark layer: which set it came from and its name there; case
   names are "set/layer/bN/backend/pass". Names hold letters, digits, '_',
   '-', '.' and '+' only (any other character of a name given becomes '_'),
   so a case name splits on '/'. */
typedef struct {
    char set[SHAPE_NAME_MAX];    /* "seed", "user", a shape file's or model's name */
    char layer[SHAPE_LAYER_MAX]; /* "conv2", the NAME given, or one made from the shape */
    conv_shape shape;
} bench_layer;

/* One shape into out->shape and out->layer (the NAME given, else one made
   from the shape: "ic32ih13iw13oc64kh3kw3sh1ph0"); out->set is left as it
   is. 0, or -1 with a message naming the field in err. */
int shape_parse(const char *text, bench_layer *out, char *err, size_t errlen);

/* A growing list of layers. */
typedef struct {
    bench_layer *v;
    int n, cap;
} shape_list;

/* Appends l unless the list holds the same set/layer/batch already: the
   same shape is skipped (0), another shape under that name is an error
   (-1 and err). -1 on out of memory too. */
int shape_list_add(shape_list *list, const bench_layer *l, char *err, size_t errlen);
void shape_list_free(shape_list *list);

/* A shape file's text: one shape a line, '#' starts a comment, blank lines
   are skipped. Each shape is appended under set `set`. 0, or -1 with
   "FILE:LINE: problem" in err (file names the text in messages). A file
   with no shape is an error. */
int shape_parse_text(const char *text, const char *file, const char *set, shape_list *out,
                     char *err, size_t errlen);
/* The same for a file on disk (at most 1 MiB). */
int shape_parse_file(const char *path, const char *set, shape_list *out, char *err, size_t errlen);

/* The set name a file gives its shapes: its base name without the
   extension ("shapes/my.shapes" -> "my"), in the name alphabet above. */
void shape_set_name(const char *path, char *buf, size_t len);

#ifdef __cplusplus
}
#endif

#endif
