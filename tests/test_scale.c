/* convbench scale's thread placement: after binding, each thread of the
   team runs on its own core (thread i on core i), as sched_getcpu sees it
   inside the team, at every thread count up to the core count. */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include "../harness/scale.h"
#include "check.h"
#include "suites.h"

void test_scale(void)
{
    if (!check_selected("scale")) return;
    int cores = scale_cores(), saved = omp_get_max_threads();
    int *where = malloc(sizeof(int) * (size_t)cores);
    char err[256], name[64];
    for (int t = 1; where && t <= cores; t++) {
        snprintf(name, sizeof name, "scale/bind/%d", t);
        if (!check(name, scale_bind_compact(t, err, sizeof err) == 0, "%s", err)) continue;
        int ok = 1;
        /* several regions: the binding must hold for later teams too */
        for (int region = 0; region < 3 && ok; region++) {
            ok = scale_team_cores(t, where) == 0;
            for (int i = 0; ok && i < t; i++) ok = where[i] == i;
        }
        snprintf(name, sizeof name, "scale/distinct_cores/%d", t);
        check(name, ok, "thread i is not on core i (thread 0 on %d, thread %d on %d)", where[0],
              t - 1, where[t - 1]);
    }
    /* a team started at the last core wraps around to core 0 */
    int ok = where && scale_bind_from(1, cores - 1, err, sizeof err) == 0 &&
             scale_team_cores(1, where) == 0 && where[0] == cores - 1;
    if (ok && cores > 1)
        ok = scale_bind_from(2, cores - 1, err, sizeof err) == 0 &&
             scale_team_cores(2, where) == 0 && where[0] == cores - 1 && where[1] == 0;
    check("scale/bind_from", ok, "threads not on cores last, 0 (%s)", err);
    snprintf(name, sizeof name, "scale/too_many");
    check(name, scale_bind_compact(cores + 1, err, sizeof err) != 0,
          "binding more threads than cores");
    omp_set_num_threads(cores);
    check("scale/unbind", scale_unbind() == 0, "could not restore the affinity");
    omp_set_num_threads(saved);
    free(where);
}
