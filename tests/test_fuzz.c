/* Every fuzz target's saved inputs (fuzz/corpus/NAME, and the crashes
   found and fixed, fuzz/regress/NAME) through the target's own function:
   a crash that comes back fails here (under make sanitize, also the
   memory errors and undefined behaviour the fuzzer would catch). */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "check.h"
#include "fuzz.h"
#include "suites.h"

/* Runs every file of dir through t with stdout and stderr silenced (the
   targets print what the commands print); returns how many, -1 if no dir. */
static int run_dir(const fuzz_target *t, const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) return -1;
    int n = 0, out = dup(1), errfd = dup(2), null = open("/dev/null", O_WRONLY);
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        FILE *f = fopen(path, "rb");
        if (!f) continue;
        unsigned char *buf = malloc(1 << 20);
        size_t size = buf ? fread(buf, 1, 1 << 20, f) : 0;
        fclose(f);
        if (!buf) continue;
        fflush(stdout);
        dup2(null, 1);
        dup2(null, 2);
        t->fn(buf, size);
        fflush(stdout);
        dup2(out, 1);
        dup2(errfd, 2);
        free(buf);
        n++;
    }
    closedir(d);
    close(out);
    close(errfd);
    close(null);
    return n;
}

void test_fuzz_inputs(void)
{
    if (!check_selected("fuzz")) return;
    for (const fuzz_target *t = fuzz_targets(); t; t = t->next) {
        char dir[256], name[128];
        snprintf(dir, sizeof dir, "fuzz/corpus/%s", t->name);
        snprintf(name, sizeof name, "fuzz/%s/corpus", t->name);
        int n = run_dir(t, dir);
        check(name, n > 0, "%d inputs in %s", n, dir);
        snprintf(dir, sizeof dir, "fuzz/regress/%s", t->name);
        snprintf(name, sizeof name, "fuzz/%s/regress", t->name);
        if ((n = run_dir(t, dir)) >= 0) check(name, 1, "%d inputs in %s", n, dir);
    }
}
