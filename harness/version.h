/* What this binary was built from, for `convbench --version`: the git
   commit at build time (the Makefile passes it to this one object only)
   and the build flags. */
#ifndef CONVBENCH_VERSION_H
#define CONVBENCH_VERSION_H

#include <stdio.h>

/* `git describe --always --dirty` at build time ("-dirty": tracked files
   were modified), or "unknown" outside git. */
const char *version_describe(void);
/* The full commit id at build time, or "unknown". */
const char *version_commit(void);
/* The version lines: describe, commit, compiler, flags, build options. */
void version_print(FILE *f);

#endif
