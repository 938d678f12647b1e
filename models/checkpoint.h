/* Weights files: a header (magic, format version, spec hash, tensor
   shapes), the tensors, and a checksum. */
#ifndef CONVBENCH_CHECKPOINT_H
#define CONVBENCH_CHECKPOINT_H

#include <stddef.h>
#include "net.h"

/* Writes every weight and bias of nt (not the Adam state) to path, through
   a temporary file renamed into place. Returns 0, or -1 with err. */
int checkpoint_save(const net *nt, const char *path, char *err, size_t len);
/* Loads weights saved from a network of the same structure; a file of
   another format version, another network, wrong tensor shapes, truncated
   or with a bad checksum is refused with the reason. nt must be
   net_init()ed. Returns 0, or -1 with err (nt's weights then unchanged). */
int checkpoint_load(net *nt, const char *path, char *err, size_t len);

#endif
