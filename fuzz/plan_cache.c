/* The plan-cache reader (harness/plan_cache.c) for the seed network. Most
   inputs stop at the machine check (a cache is only ever applied on the
   machine and build that made it); the corpus holds a cache of this
   machine to start from. */
#include <stdio.h>
#include <stdlib.h>
#include "fuzz.h"
#include "plan_cache.h"

static const char spec[] = "input 28 28 1\nconv2d 32 3x3 relu\nmaxpool 2\nconv2d 64 3x3 relu\n"
                           "maxpool 2\nconv2d 64 3x3 relu\nflatten\ndense 64 relu\n"
                           "dense 10 softmax\n";

FUZZ_TARGET(plan_cache)
{
    static net nt;
    static int ready;
    char err[512];
    if (!ready) {
        fuzz_net(&nt, spec, 0);
        ready = 1;
    }
    plan_cache_load(&nt, fuzz_file("plan.json", data, size), 32, err, sizeof err);
}
