/* What this binary was built from, for `convbench --version` and results
   files: the git commit at build time (the Makefile passes it to this one
   object only), the build flags and the source tree. */
#ifndef CONVBENCH_VERSION_H
#define CONVBENCH_VERSION_H

#include <stdio.h>

/* `git describe --always --dirty` at build time ("-dirty": tracked files
   were modified), or "unknown" outside git. */
const char *version_describe(void);
/* The full commit id at build time, or "unknown". */
const char *version_commit(void);
/* The build as the Makefile describes it to every harness object: CFLAGS,
   PORTABLE=1, SANITIZE=1, and the source tree it was built from. */
const char *version_cflags(void);
int version_portable(void);
int version_sanitize(void);
const char *version_srcdir(void);
/* The version lines: describe, commit, compiler, flags, build options. */
void version_print(FILE *f);

#endif
