/* Command line helpers shared by every convbench command (see cli.h). */
#include <errno.h>
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "cli.h"
#include "conv.h"
#include "run_limits.h"

static void verror(const char *cmd, const char *fmt, va_list ap)
{
    fprintf(stderr, "convbench%s%s: ", cmd ? " " : "", cmd ? cmd : "");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

static const char *command;
void cli_set_command(const char *cmd) { command = cmd; }
const char *cli_command(void) { return command; }

void cli_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    verror(cmd, fmt, ap);
    va_end(ap);
}

void cli_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    verror(cmd, fmt, ap);
    va_end(ap);
    fprintf(stderr, "Try 'convbench%s%s --help' for the options.\n", cmd ? " " : "",
            cmd ? cmd : "");
}

int cli_getopt(const char *cmd, int argc, char **argv, const char *shortopts,
               const struct option *opts)
{
    /* ':' first: a missing value is told apart from an unknown option,
       and getopt prints nothing itself (its messages name argv[0] only) */
    char spec[64];
    snprintf(spec, sizeof spec, ":%sh", shortopts ? shortopts : "");
    const int saved = opterr;
    opterr = 0;
    const int c = getopt_long(argc, argv, spec, opts, NULL);
    opterr = saved;
    if (c != '?' && c != ':') return c;
    /* the option as written: argv[optind - 1], or -X inside a cluster */
    const char *arg = optind > 0 && optind <= argc ? argv[optind - 1] : "?";
    char shortname[3] = { '-', (char)optopt, 0 };
    const char *name = arg[0] == '-' && arg[1] == '-' ? arg : optopt ? shortname : arg;
    char longname[128];
    if (name == arg && strchr(arg, '=')) { /* --opt=value: name the option only */
        snprintf(longname, sizeof longname, "%.*s", (int)(strchr(arg, '=') - arg), arg);
        name = longname;
    }
    if (c == ':')
        cli_usage_error(cmd, "%s wants a value", name);
    else
        cli_usage_error(cmd, "unknown option '%s'", name);
    return '?';
}

int cli_no_arguments(const char *cmd, int argc, char **argv)
{
    if (optind >= argc) return 0;
    cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
    return -1;
}

int cli_int(const char *cmd, const char *opt, const char *arg, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(arg, &end, 10);
    if (errno || end == arg || *end || v < lo || v > hi) {
        if (lo == 1 && hi == INT_MAX)
            cli_error(cmd, "%s wants a positive integer, got '%s'", opt, arg);
        else
            cli_error(cmd, "%s wants an integer in %ld..%ld, got '%s'", opt, lo, hi, arg);
        return -1;
    }
    *out = v;
    return 0;
}

int cli_positive(const char *cmd, const char *opt, const char *arg, int *out)
{
    long v;
    if (cli_int(cmd, opt, arg, 1, INT_MAX, &v)) return -1;
    *out = (int)v;
    return 0;
}

int cli_threads(const char *cmd, const char *opt, const char *arg, int *out)
{
    char err[256];
    if (cli_positive(cmd, opt, arg, out)) return -1;
    if (!limits_threads_check(*out, err, sizeof err)) return 0;
    cli_error(cmd, "%s: %s", opt, err);
    return -1;
}

int cli_number(const char *cmd, const char *opt, const char *arg, double lo, double hi, int open,
               double *out)
{
    char *end;
    errno = 0;
    double v = strtod(arg, &end);
    const int low_ok = open & CLI_OPEN_LO ? v > lo : v >= lo;
    const int high_ok = open & CLI_OPEN_HI ? v < hi : v <= hi;
    if (errno || end == arg || *end || isnan(v) || !low_ok || !high_ok) {
        if (isinf(hi))
            cli_error(cmd, "%s wants a number %s %g, got '%s'", opt,
                      open & CLI_OPEN_LO ? ">" : ">=", lo, arg);
        else
            cli_error(cmd, "%s wants a number in %c%g, %g%c, got '%s'", opt,
                      open & CLI_OPEN_LO ? '(' : '[', lo, hi, open & CLI_OPEN_HI ? ')' : ']', arg);
        return -1;
    }
    /* checked as the float the caller stores, not as the double it parsed */
    if ((open & CLI_FLOAT) && v != 0 && !(fabs(v) <= FLT_MAX && isnormal((float)v))) {
        cli_error(cmd, "%s wants a number a float holds (magnitude %g to %g), got '%s'", opt,
                  FLT_MIN, FLT_MAX, arg);
        return -1;
    }
    *out = v;
    return 0;
}

const char *cli_list_next(const char **cursor, char *item, size_t len)
{
    const char *p = *cursor;
    if (!p) return NULL;
    while (*p == ',') p++;
    if (!*p) {
        *cursor = p;
        return NULL;
    }
    size_t n = strcspn(p, ",");
    snprintf(item, len, "%.*s", (int)(n < len ? n : len - 1), p);
    *cursor = p + n;
    return item;
}

int cli_list_has(const char *list, const char *name)
{
    const size_t n = strlen(name);
    for (const char *p = list; p && *p;) {
        size_t len = strcspn(p, ",");
        if (len == n && !strncmp(p, name, n)) return 1;
        p += len + (p[len] == ',');
    }
    return 0;
}

int cli_unknown_backend(const char *list, const char *extra, char *bad, size_t len)
{
    char name[256];
    for (const char *p = list; cli_list_next(&p, name, sizeof name);) {
        if (conv_backend_find(name) || (extra && cli_list_has(extra, name))) continue;
        snprintf(bad, len, "%s", name);
        return 1;
    }
    return 0;
}

void cli_out_path(const char *out, const char *kind, char *buf, size_t len)
{
    if (out) {
        snprintf(buf, len, "%s", out);
        return;
    }
    time_t now = time(NULL);
    struct tm tm;
    char stamp[32] = "unknown-time";
    if (gmtime_r(&now, &tm)) strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
    snprintf(buf, len, "results/%s-%s.json", kind, stamp);
}
