/* FNV-1a, 64 bits: checkpoint checksums, network spec hashes, build ids. */
#ifndef CONVBENCH_HASH_H
#define CONVBENCH_HASH_H

#include <stddef.h>
#include <stdint.h>

#define FNV1A_INIT 0xcbf29ce484222325ULL

/* h extended by the n bytes at p; start from FNV1A_INIT. */
uint64_t fnv1a(uint64_t h, const void *p, size_t n);

#endif
