/* IDX data sets (the MNIST file format), gzipped or not. */
#ifndef CONVBENCH_DATA_H
#define CONVBENCH_DATA_H

#include <stddef.h>
#include <stdint.h>

#define DATA_DEFAULT_DIR "/usr/share/datasets/fashion-mnist"

typedef struct {
    int n, h, w;     /* images of h x w, one channel */
    float *images;   /* n*h*w pixels scaled to [0,1] */
    uint8_t *labels; /* n labels */
} dataset;

/* Reads DIR/PREFIX-images-idx3-ubyte[.gz] and DIR/PREFIX-labels-idx1-ubyte[.gz]
   (PREFIX "train" or "t10k"). Checks magic numbers, dimensions, that the
   counts agree, labels < classes, and that neither file is truncated.
   limit > 0 keeps the first `limit` images. Returns 0, or -1 with a message
   naming the file and the problem in err. */
int data_load(dataset *d, const char *dir, const char *prefix, int classes, int limit, char *err,
              size_t errlen);
void data_free(dataset *d);

/* n random images (pixels in [0,1)) with labels cycling through classes:
   for timing, where pixel values do not matter. Returns 0, or -1 when out
   of memory (d is then empty). */
int data_random(dataset *d, int n, int h, int w, int classes, uint64_t seed);

#endif
