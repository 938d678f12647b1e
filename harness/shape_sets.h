/* The shapes a benchmark runs: the built-in sets (files in shapes/, one
   shape a line), the user's --shape, --shapes FILE and --model SPEC
   --batch N, gathered into one list; and the names of benchmark cases.
   Shared by build/bench_conv, convbench bench, scale and the report. */
#ifndef CONVBENCH_SHAPE_SETS_H
#define CONVBENCH_SHAPE_SETS_H

#include <stddef.h>
#include "conv.h"
#include "shape_parse.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The directory of the built-in set files: $CONVBENCH_SHAPES_DIR, else
   shapes/ in the source tree this binary was built from. */
void shapes_dir(char *buf, size_t len);

/* Appends the sets of a comma list ("seed,resnet", "all": every
   shapes/NAME.shapes file, seed first) to out. 0, or -1 with err naming
   an unknown set or a missing directory. */
int shapes_load_sets(const char *list, shape_list *out, char *err, size_t errlen);

/* What the user asked a benchmark to run. Every member may be empty. */
typedef struct {
    const char *sets;         /* comma list of built-in sets */
    const char *const *shape; /* --shape texts (either form), set "user" */
    int nshape;
    const char *const *file; /* --shapes files, each its own set (its base name) */
    int nfile;
    const char *model; /* --model SPEC: every conv layer, set = the spec's base name */
    int batch;         /* --batch N for the model (0: 32) */
} shape_request;

/* 1 if r names any shape of the user's (--shape, --shapes, --model). */
int shapes_request_has_user(const shape_request *r);

/* Every shape r asks for, in the order sets, shapes, files, model. 0, or
   -1 with a message that starts with the option at fault ("--shape
   '1,2': ...", "--shapes F: F:3: ...", "--model M: ..."). */
int shapes_collect(const shape_request *r, shape_list *out, char *err, size_t errlen);

/* "set/layer/bN/backend/pass", e.g. "seed/conv2/b32/im2col/forward". */
void shapes_case_name(char *buf, size_t len, const bench_layer *l, const char *backend,
                      conv_pass pass);
/* The inverse within list: the layer, backend and pass a case name
   denotes. 0 on success, -1 if the name is not one of list's. */
int shapes_parse_case_name(const char *name, const shape_list *list, const bench_layer **l,
                           char *backend, size_t backend_len, conv_pass *pass);

#ifdef __cplusplus
}
#endif

#endif
