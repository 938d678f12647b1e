/* The list of backends, and the passes' names. Adding a backend: a file
   defining `const conv_backend conv_NAME`, one extern line and one entry
   below. Order is the order of every table. */
#include <stddef.h>
#include <string.h>
#include "conv.h"

extern const conv_backend conv_naive;
extern const conv_backend conv_im2col, conv_im2col_blas;
extern const conv_backend conv_onednn, conv_onednn_winograd;
extern const conv_backend conv_winograd, conv_winograd2;
extern const conv_backend conv_simd;

static const conv_backend *const backends[] = {
    &conv_naive,    &conv_im2col,    &conv_im2col_blas, &conv_onednn, &conv_onednn_winograd,
    &conv_winograd, &conv_winograd2, &conv_simd,        NULL,
};

const conv_backend *const *conv_backends(void) { return backends; }

const conv_backend *conv_backend_find(const char *name)
{
    if (!name) return NULL;
    for (const conv_backend *const *b = backends; *b; b++)
        if (strcmp((*b)->name, name) == 0) return *b;
    return NULL;
}

const char *conv_pass_name(conv_pass p)
{
    static const char *const names[] = { "forward", "backward_data", "backward_weights" };
    return (unsigned)p < sizeof names / sizeof *names ? names[p] : "unknown";
}
