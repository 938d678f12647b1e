/* Files replaced whole or not at all: the new content goes to a temporary
   file beside the target (".NAME.tmp.PID.XXXXXX"), is synced, and renamed
   over it; a reader sees the old file or the new one, never a mix, and a
   process killed at any point leaves the old file intact. A temporary left
   by a killed writer is removed by the next write to the same name. */
#ifndef CONVBENCH_ATOMIC_FILE_H
#define CONVBENCH_ATOMIC_FILE_H

#include <stddef.h>

/* Creates the temporary file for path (name in tmp), after removing stale
   temporaries of path whose writer no longer runs. Returns its descriptor,
   or -1 with the reason in err (a path too long for its temporary name, a
   missing or read-only directory). */
int atomic_open(const char *path, char *tmp, size_t tmplen, char *err, size_t len);

/* Checks, before the work that makes its content, that path can be
   written: creates its temporary and removes it again, and refuses a
   directory. 0, or -1 with the reason in err. */
int atomic_probe(const char *path, char *err, size_t len);

/* Writes n bytes to fd; 0 or an errno value. */
int atomic_write(int fd, const void *p, size_t n);

/* Syncs and closes fd, then moves tmp to path: rename (replacing it), or
   with exclusive a link that fails with EEXIST if path appeared. The
   temporary is gone afterwards either way. Returns 0 or an errno value;
   fail_errno, when not 0, is a write error the caller met, reported
   instead of committing. */
int atomic_commit(int fd, const char *tmp, const char *path, int exclusive, int fail_errno);

/* Fault injection for the tests: the next write, fsync or rename fails
   with EIO when set to the matching value; reset after it fires. */
enum { ATOMIC_FAULT_NONE, ATOMIC_FAULT_WRITE, ATOMIC_FAULT_FSYNC, ATOMIC_FAULT_RENAME };
extern int atomic_fault;

#endif
