/* The build's identity (see version.h). CONVBENCH_GIT_* come from the
   Makefile for this file alone, so a new commit recompiles only it;
   CONVBENCH_CFLAGS and the build options come with every harness object. */
#include "version.h"

#ifndef CONVBENCH_GIT_DESCRIBE
#define CONVBENCH_GIT_DESCRIBE "unknown"
#endif
#ifndef CONVBENCH_GIT_COMMIT
#define CONVBENCH_GIT_COMMIT "unknown"
#endif
#ifndef CONVBENCH_CFLAGS
#define CONVBENCH_CFLAGS "unknown"
#endif
#ifndef CONVBENCH_PORTABLE
#define CONVBENCH_PORTABLE 0
#endif
#ifndef CONVBENCH_SANITIZE
#define CONVBENCH_SANITIZE 0
#endif
#ifndef CONVBENCH_SRCDIR
#define CONVBENCH_SRCDIR "."
#endif

const char *version_describe(void) { return CONVBENCH_GIT_DESCRIBE; }
const char *version_commit(void) { return CONVBENCH_GIT_COMMIT; }
const char *version_cflags(void) { return CONVBENCH_CFLAGS; }
int version_portable(void) { return CONVBENCH_PORTABLE; }
int version_sanitize(void) { return CONVBENCH_SANITIZE; }
const char *version_srcdir(void) { return CONVBENCH_SRCDIR; }

void version_print(FILE *f)
{
    fprintf(f, "convbench %s\n", CONVBENCH_GIT_DESCRIBE);
    fprintf(f, "commit    %s\n", CONVBENCH_GIT_COMMIT);
    fprintf(f, "compiler  gcc %s\n", __VERSION__);
    fprintf(f, "cflags    %s\n", CONVBENCH_CFLAGS);
    fprintf(f, "build     %s%s\n", CONVBENCH_PORTABLE ? "portable (no -march=native)" : "native",
            CONVBENCH_SANITIZE ? ", sanitizers" : "");
}
