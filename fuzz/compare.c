/* convbench compare BASE NEW (harness/compare.c) on two results files:
   the input up to "\n====\n" is BASE, the rest NEW (without it, both are
   the whole input). */
#include <limits.h>
#include <stdio.h>
#include "commands.h"
#include "fuzz.h"

FUZZ_TARGET(compare)
{
    const uint8_t *a, *b;
    size_t na, nb;
    fuzz_split(data, size, "\n====\n", &a, &na, &b, &nb);
    char base[PATH_MAX + 80], cur[PATH_MAX + 80];
    snprintf(base, sizeof base, "%s", fuzz_file("base.json", a, na));
    snprintf(cur, sizeof cur, "%s", fuzz_file("new.json", b, nb));
    char *argv[] = { "compare", base, cur, NULL };
    cmd_compare(3, argv);
}
