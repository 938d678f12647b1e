/* The timing fields of a repeated run (see timed_run.h). */
#include "results.h"
#include "timed_run.h"

double timed_run_add(cJSON *run, const double *times_s, int reps, const long *iterations)
{
    cJSON_AddNumberToObject(run, "repetitions", reps);
    if (iterations) cJSON_AddNumberToObject(run, "iterations", (double)*iterations);
    cJSON *t = cJSON_AddArrayToObject(run, "times_s");
    for (int i = 0; i < reps; i++) cJSON_AddItemToArray(t, cJSON_CreateNumber(times_s[i]));
    double med, mn, mx;
    results_stats(times_s, reps, &med, &mn, &mx);
    cJSON_AddNumberToObject(run, "median_s", med);
    cJSON_AddNumberToObject(run, "min_s", mn);
    cJSON_AddNumberToObject(run, "max_s", mx);
    return med;
}
