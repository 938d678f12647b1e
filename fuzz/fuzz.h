/* Fuzz targets, one file per reader (fuzz/NAME.c), each a body written as

       FUZZ_TARGET(NAME) { ...feed data[0..size) to the reader... }

   Built two ways from the same file: by `make fuzz` with clang's libFuzzer
   (FUZZ_LIBFUZZER defined: the body is LLVMFuzzerTestOneInput), and into
   the test program, where tests/test_fuzz.c runs every saved input of
   fuzz/corpus/NAME and fuzz/regress/NAME (the crashes found, kept) through
   it. A new target is that one file; the Makefile finds it. */
#ifndef CONVBENCH_FUZZ_H
#define CONVBENCH_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include "net.h"

typedef void fuzz_fn(const uint8_t *data, size_t size);
typedef struct fuzz_target {
    const char *name;
    fuzz_fn *fn;
    struct fuzz_target *next;
} fuzz_target;

/* The targets linked into this program (the test build), newest first. */
const fuzz_target *fuzz_targets(void);
void fuzz_register(fuzz_target *t);

#ifdef FUZZ_LIBFUZZER
#define FUZZ_TARGET(name)                                                                          \
    int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);                                  \
    static void fuzz_##name(const uint8_t *data, size_t size);                                     \
    int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)                                   \
    {                                                                                              \
        fuzz_##name(data, size);                                                                   \
        return 0;                                                                                  \
    }                                                                                              \
    static void fuzz_##name(const uint8_t *data, size_t size)
#else
#define FUZZ_TARGET(name)                                                                          \
    static void fuzz_##name(const uint8_t *data, size_t size);                                     \
    __attribute__((constructor)) static void fuzz_register_##name(void)                            \
    {                                                                                              \
        static fuzz_target t = { #name, fuzz_##name, NULL };                                       \
        fuzz_register(&t);                                                                         \
    }                                                                                              \
    static void fuzz_##name(const uint8_t *data, size_t size)
#endif

/* Writes data to NAME in a directory of this process's own (made on first
   use, removed at exit) and returns the file's path (valid until the next
   call); the directory is fuzz_dir(). Exits on failure: a target cannot run without its file. */
const char *fuzz_file(const char *name, const void *data, size_t size);
const char *fuzz_dir(void);

/* Parses spec into nt with the naive backend everywhere, and with init
   allocates it for batch 1; aborts on failure (the target's own spec).
   For targets that read data belonging to a network. */
void fuzz_net(net *nt, const char *spec, int init);

/* Splits data at the first occurrence of sep: the part before it in
   a and na, after it in b and nb; without sep, all of it in both. */
void fuzz_split(const uint8_t *data, size_t size, const char *sep, const uint8_t **a, size_t *na,
                const uint8_t **b, size_t *nb);

#endif
