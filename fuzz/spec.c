/* The network spec parser (models/spec.c), and where a spec parses and is
   small, the executor's allocation and planning for it (models/net.c). */
#include <stdlib.h>
#include <string.h>
#include "fuzz.h"
#include "net.h"

FUZZ_TARGET(spec)
{
    char *text = malloc(size + 1);
    if (!text) return;
    memcpy(text, data, size);
    text[size] = 0;
    net nt;
    char err[512];
    if (!net_parse_string(&nt, text, "fuzz.net", err, sizeof err)) {
        nt.replicas_max = 1;
        if (net_memory_bytes(&nt, 2) < (4 << 20) &&
            !net_set_backends(&nt, "naive", "naive", err, sizeof err))
            net_init(&nt, 2, 1, err, sizeof err);
        net_free(&nt);
    }
    free(text);
}
