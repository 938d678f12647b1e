/* The results-file reader and its schema check (harness/results.c). */
#include "fuzz.h"
#include "results.h"

FUZZ_TARGET(results)
{
    char err[512];
    cJSON *doc = results_read(fuzz_file("r.json", data, size), err, sizeof err);
    cJSON_Delete(doc);
}
