/* Limits on what one run may take, checked before the memory is taken or
   the threads started, so that a mistyped size is refused with the limit
   and how to raise it instead of swapping the machine to a halt:

   memory   CONVBENCH_MAX_MEMORY (bytes, or with a K, M, G or T suffix;
            0: no limit); default 3/4 of the machine's physical memory.
            Batch, spec, shape and data set sizes are checked against it.
   files    CONVBENCH_MAX_FILE_SIZE (bytes, suffixes as above); default
            256M: the largest results file or spec a reader takes in.
   threads  CONVBENCH_MAX_THREADS; default 4 per online CPU. More threads
            than that only slow a run down (the team waits on the
            scheduler at every barrier). */
#ifndef CONVBENCH_RUN_LIMITS_H
#define CONVBENCH_RUN_LIMITS_H

#include <stddef.h>

/* The memory limit in bytes (SIZE_MAX: none). */
size_t limits_memory(void);
/* Overrides the limit (e.g. from an option); 0: none. */
void limits_set_memory(size_t bytes);
/* 0 if need bytes fit the memory limit, else -1 with
   "WHAT needs N GiB, more than the memory limit of M GiB (...)" in err. */
int limits_memory_check(double need, const char *what, char *err, size_t len);

/* The largest file a reader loads whole (results files). */
size_t limits_file_size(void);

/* The thread limit. */
int limits_threads(void);
/* 0 if n threads fit the thread limit, else -1 with the reason in err. */
int limits_threads_check(long n, char *err, size_t len);

/* "123", "64M", "8G", "1.5T": a size in bytes; 0 and the value, or -1. */
int limits_parse_size(const char *text, double *bytes);

#endif
