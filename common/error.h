/* Errors as messages: functions that can fail take (char *err, size_t len)
   and return -1 with a message naming the file, layer or option at fault. */
#ifndef CONVBENCH_ERROR_H
#define CONVBENCH_ERROR_H

#include <stddef.h>

/* Formats the message into err (when err and len are non-zero); returns -1,
   so a failing path reads `return error_set(err, len, "...", ...);`. */
int error_set(char *err, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
