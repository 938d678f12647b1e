/* The IDX reader (models/data.c), gzipped or not. The input is an image
   file and a label file: the first two bytes (little-endian) say how many
   of the rest, at the end, are the labels. */
#include "data.h"
#include "fuzz.h"

FUZZ_TARGET(idx)
{
    if (size < 2) return;
    size_t nl = (size_t)data[0] | (size_t)data[1] << 8;
    data += 2;
    size -= 2;
    if (nl > size) nl = size;
    fuzz_file("t-images-idx3-ubyte", data, size - nl);
    fuzz_file("t-labels-idx1-ubyte", data + size - nl, nl);
    dataset d;
    char err[512];
    if (!data_load(&d, fuzz_dir(), "t", 10, 0, err, sizeof err)) data_free(&d);
}
