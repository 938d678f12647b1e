#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "error.h"
#include "run_limits.h"

static size_t memory_override; /* 0: not set */
static int memory_overridden;

int limits_parse_size(const char *text, double *bytes)
{
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (errno || end == text || !(v >= 0) || isinf(v)) return -1;
    static const char units[] = "KMGT";
    double scale = 1;
    if (*end) {
        const char *u = strchr(units, *end & ~0x20), *rest = end + 1;
        if (!u ||
            (strcmp(rest, "") && strcmp(rest, "i") && strcmp(rest, "B") && strcmp(rest, "iB")))
            return -1;
        scale = ldexp(1, 10 * (int)(u - units + 1));
    }
    *bytes = v * scale;
    return 0;
}

void limits_set_memory(size_t bytes)
{
    memory_override = bytes ? bytes : SIZE_MAX;
    memory_overridden = 1;
}

size_t limits_memory(void)
{
    if (memory_overridden) return memory_override;
    const char *env = getenv("CONVBENCH_MAX_MEMORY");
    double v;
    if (env && *env && !limits_parse_size(env, &v))
        return v == 0 || v >= (double)SIZE_MAX ? SIZE_MAX : (size_t)v;
    const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    if (pages <= 0 || page <= 0) return SIZE_MAX;
    return (size_t)((double)pages * (double)page * 0.75);
}

/* "1.50 GiB" or "12.0 MiB" */
static void bytes_text(double b, char *buf, size_t len)
{
    if (b >= 1073741824.0)
        snprintf(buf, len, "%.2f GiB", b / 1073741824.0);
    else
        snprintf(buf, len, "%.1f MiB", b / 1048576.0);
}

int limits_memory_check(double need, const char *what, char *err, size_t len)
{
    const size_t lim = limits_memory();
    if (lim == SIZE_MAX || need <= (double)lim) return 0;
    char a[32], b[32];
    bytes_text(need, a, sizeof a);
    bytes_text((double)lim, b, sizeof b);
    return error_set(err, len,
                     "%s needs %s, more than the memory limit of %s "
                     "(set CONVBENCH_MAX_MEMORY, e.g. =64G, or 0 for none, to raise it)",
                     what, a, b);
}

size_t limits_file_size(void)
{
    const char *env = getenv("CONVBENCH_MAX_FILE_SIZE");
    double v;
    if (env && *env && !limits_parse_size(env, &v) && v >= 1)
        return v >= (double)(SIZE_MAX / 4) ? SIZE_MAX / 4 : (size_t)v;
    return (size_t)256 << 20;
}

int limits_threads(void)
{
    const char *env = getenv("CONVBENCH_MAX_THREADS");
    if (env && *env) {
        char *end;
        errno = 0;
        long v = strtol(env, &end, 10);
        if (!errno && end != env && !*end && v > 0) return v > 1 << 20 ? 1 << 20 : (int)v;
    }
    const long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    return cpus > 0 ? 4 * (int)(cpus < 1 << 16 ? cpus : 1 << 16) : 64;
}

int limits_threads_check(long n, char *err, size_t len)
{
    const int lim = limits_threads();
    if (n <= lim) return 0;
    return error_set(err, len,
                     "%ld threads on %ld CPUs is above the limit of %d (oversubscribed, every "
                     "step waits on the scheduler; set CONVBENCH_MAX_THREADS to raise it)",
                     n, sysconf(_SC_NPROCESSORS_ONLN), lim);
}
