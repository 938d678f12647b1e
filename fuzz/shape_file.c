/* A shape file (harness/shape_parse.c: one shape a line, `#` comments,
   names, the comma form with its appended fields and benchdnn
   descriptors), as `bench --shapes FILE` and the built-in sets read it.
   Every shape it accepts must also be one the contract calls valid. */
#include <stdlib.h>
#include <string.h>
#include "fuzz.h"
#include "shape.h"
#include "shape_parse.h"

FUZZ_TARGET(shape_file)
{
    char *text = malloc(size + 1);
    if (!text) return;
    memcpy(text, data, size);
    text[size] = 0;
    shape_list list = { NULL, 0, 0 };
    char err[512];
    if (shape_parse_text(text, "fuzz.shapes", "fuzz", &list, err, sizeof err) == 0)
        for (int i = 0; i < list.n; i++)
            if (conv_shape_invalid(&list.v[i].shape)) abort();
    shape_list_free(&list);
    free(text);
}
