/* Thread placement for scaling runs (see scale.h): OpenMP threads bound
   one per core with hwloc, and the cores a team's threads run on. Used by
   convbench scale, convbench info and bench_conv --bind. */
#include <hwloc.h>
#include <omp.h>
#include <sched.h>
#include <stdio.h>
#include "scale.h"

static hwloc_topology_t topo;

/* The process-wide topology, loaded once. */
static hwloc_topology_t topology(void)
{
#pragma omp critical(scale_topology)
    if (!topo) {
        hwloc_topology_t t;
        if (hwloc_topology_init(&t) == 0) {
            if (hwloc_topology_load(t) == 0)
                topo = t;
            else
                hwloc_topology_destroy(t);
        }
    }
    return topo;
}

int scale_cores(void)
{
    hwloc_topology_t t = topology();
    int n = t ? hwloc_get_nbobjs_by_type(t, HWLOC_OBJ_CORE) : 0;
    return n > 0 ? n : 1;
}

int scale_bind_compact(int threads, char *err, size_t errlen)
{
    return scale_bind_from(threads, 0, err, errlen);
}

int scale_bind_from(int threads, int first, char *err, size_t errlen)
{
    hwloc_topology_t t = topology();
    int cores = scale_cores();
    if (!t) {
        snprintf(err, errlen, "hwloc could not load the topology");
        return -1;
    }
    if (threads < 1 || threads > cores) {
        snprintf(err, errlen, "%d threads asked for, but hwloc reports %d cores", threads, cores);
        return -1;
    }
    omp_set_num_threads(threads);
    int failed = 0;
#pragma omp parallel num_threads(threads) reduction(+ : failed)
    {
        hwloc_obj_t core = hwloc_get_obj_by_type(
            t, HWLOC_OBJ_CORE, (unsigned)((first + omp_get_thread_num()) % cores));
        failed += !core || hwloc_set_cpubind(t, core->cpuset, HWLOC_CPUBIND_THREAD) != 0;
    }
    if (failed) {
        snprintf(err, errlen, "hwloc_set_cpubind failed for %d of %d threads", failed, threads);
        return -1;
    }
    return 0;
}

int scale_unbind(void)
{
    hwloc_topology_t t = topology();
    if (!t) return -1;
    hwloc_const_cpuset_t all = hwloc_topology_get_allowed_cpuset(t);
    int failed = 0;
#pragma omp parallel reduction(+ : failed)
    failed += hwloc_set_cpubind(t, all, HWLOC_CPUBIND_THREAD) != 0;
    return failed ? -1 : 0;
}

int scale_team_cores(int threads, int *core)
{
    hwloc_topology_t t = topology();
    if (!t) return -1;
    int bad = 0;
#pragma omp parallel num_threads(threads) reduction(+ : bad)
    {
        int cpu = sched_getcpu();
        hwloc_obj_t pu = cpu >= 0 ? hwloc_get_pu_obj_by_os_index(t, (unsigned)cpu) : NULL;
        hwloc_obj_t c = pu ? hwloc_get_ancestor_obj_by_type(t, HWLOC_OBJ_CORE, pu) : NULL;
        core[omp_get_thread_num()] = c ? (int)c->logical_index : -1;
        bad += !c;
    }
    return bad ? -1 : 0;
}
