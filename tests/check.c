/* The runner: options, counters and the closing line. Suites are listed in
   suites.h; each calls check() once per assertion it makes. */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "check.h"
#include "cpu.h"
#include "suites.h"

static int passed, failed, skipped, verbose;
static const char *filter;
static char tmpdir[64];

/* A group is selected if the filter names it or lies inside it. */
int check_selected(const char *name)
{
    return !filter || strstr(name, filter) || strstr(filter, name);
}
int check_verbose(void) { return verbose; }

int check(const char *name, int ok, const char *fmt, ...)
{
    if (filter && !strstr(name, filter)) return ok;
    if (ok)
        passed++;
    else
        failed++;
    if (!ok || verbose) {
        printf("%s %s", ok ? "ok  " : "FAIL", name);
        if (fmt && *fmt) {
            va_list ap;
            va_start(ap, fmt);
            printf(": ");
            vprintf(fmt, ap);
            va_end(ap);
        }
        printf("\n");
        fflush(stdout);
    }
    return ok;
}

void check_skip(const char *name, const char *reason)
{
    if (filter && !strstr(name, filter)) return;
    skipped++;
    if (verbose) printf("skip %s: %s\n", name, reason);
}

float check_uniform(check_rng *g)
{
    g->s = g->s * 6364136223846793005ULL + 1442695040888963407ULL;
    return (float)((g->s >> 40) * (1.0 / 16777216.0)) * 2.0f - 1.0f;
}

void check_fill(check_rng *g, float *a, unsigned long long n)
{
    for (unsigned long long i = 0; i < n; i++) a[i] = check_uniform(g);
}

static void remove_tmpdir(void)
{
    if (!tmpdir[0]) return;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmpdir);
}

const char *check_tmpdir(void)
{
    if (!tmpdir[0]) {
        strcpy(tmpdir, "/tmp/convbench-test-XXXXXX");
        if (!mkdtemp(tmpdir)) {
            perror("mkdtemp");
            exit(2);
        }
        atexit(remove_tmpdir);
    }
    return tmpdir;
}

int check_run(const char *cmdline, char *out, size_t len)
{
    static char dir[4096];
    if (!dir[0]) {
        ssize_t n = readlink("/proc/self/exe", dir, sizeof dir - 1);
        if (n <= 0) return -1;
        dir[n] = 0;
        char *slash = strrchr(dir, '/');
        if (slash) *slash = 0;
    }
    size_t need = strlen(dir) + strlen(cmdline) + 64;
    char *full = malloc(need);
    if (!full) return -1;
    snprintf(full, need, "PATH='%s':\"$PATH\" %s 2>&1", dir, cmdline);
    FILE *p = popen(full, "r");
    free(full);
    if (!p) return -1;
    size_t got = 0;
    int ch;
    while ((ch = fgetc(p)) != EOF)
        if (got + 1 < len) out[got++] = (char)ch;
    if (len) out[got] = 0;
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: tests [-v] [-k SUBSTRING] [-l]\n"
               "  -k, --filter S   run only checks whose name contains S\n"
               "  -v, --verbose    print every check, not only failures\n"
               "  -l, --list       list the suites\n");
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        { "filter", required_argument, 0, 'k' },
        { "verbose", no_argument, 0, 'v' },
        { "list", no_argument, 0, 'l' },
        { "help", no_argument, 0, 'h' },
        { 0, 0, 0, 0 },
    };
    int o;
    while ((o = getopt_long(argc, argv, "k:vlh", opts, NULL)) != -1) {
        switch (o) {
        case 'k': filter = optarg; break;
        case 'v': verbose = 1; break;
        case 'l':
            for (const test_suite *s = test_suites; s->name; s++) printf("%s\n", s->name);
            return 0;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind < argc) {
        usage(stderr);
        return 2;
    }
    /* machine files (a peak a benchmark measures and stores) go to a
       directory of the run's own, never into the source tree's results/ */
    if (!getenv("CONVBENCH_RESULTS_DIR")) {
        char d[4096];
        snprintf(d, sizeof d, "%s/results", check_tmpdir());
        setenv("CONVBENCH_RESULTS_DIR", d, 1);
    }
    for (const test_suite *s = test_suites; s->name; s++) {
        int p0 = passed, f0 = failed, s0 = skipped;
        s->run();
        if (passed + failed + skipped > p0 + f0 + s0)
            printf("%-12s %d passed, %d failed, %d skipped\n", s->name, passed - p0, failed - f0,
                   skipped - s0);
        fflush(stdout);
    }
    printf("%d passed, %d failed, %d skipped\n", passed, failed, skipped);
    return failed ? 1 : 0;
}

void check_force_isa(const char *isa)
{
    static int saved;
    static char *initial; /* the run's own CONVBENCH_ISA, or NULL */
    if (!saved) {
        const char *env = getenv("CONVBENCH_ISA");
        initial = env ? strdup(env) : NULL;
        saved = 1;
    }
    const char *want = isa ? isa : initial;
    if (want)
        setenv("CONVBENCH_ISA", want, 1);
    else
        unsetenv("CONVBENCH_ISA");
    cpu_isa_reload();
}
