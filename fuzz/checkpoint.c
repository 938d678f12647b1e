/* The weights reader (models/checkpoint.c) against a small network. The
   checksum is recomputed over each input, so that mutations reach the
   parser behind it instead of all failing the checksum. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "checkpoint.h"
#include "fuzz.h"
#include "hash.h"

/* The network the inputs are weights of (its saved weights: the corpus). */
static const char spec[] = "input 6 6 1\nconv2d 2 3x3 relu\nmaxpool 2\nflatten\ndense 3 softmax\n";

FUZZ_TARGET(checkpoint)
{
    static net nt;
    static int ready;
    char err[512];
    if (!ready) {
        fuzz_net(&nt, spec, 1);
        ready = 1;
    }
    uint8_t *copy = malloc(size ? size : 1);
    if (!copy) return;
    memcpy(copy, data, size);
    if (size >= 8) {
        uint64_t sum = fnv1a(FNV1A_INIT, copy, size - 8);
        memcpy(copy + size - 8, &sum, 8);
    }
    checkpoint_load(&nt, fuzz_file("w.bin", copy, size), err, sizeof err);
    free(copy);
}
