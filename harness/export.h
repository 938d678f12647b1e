/* Results files in the formats other tools read (convbench export):

   - gbench: Google Benchmark's JSON, one "iteration" entry per repetition
     and mean/median/stddev "aggregate" entries, which Google Benchmark's
     tools/compare.py reads (`compare.py benchmarks A.json B.json`);
   - csv: one row per run with a header, for spreadsheets and pandas;
   - gab: github-action-benchmark's customSmallerIsBetter (median time) or
     customBiggerIsBetter (GFLOP/s, images/s) JSON.

   Timed runs (conv runs, and scale's training runs) are named
   "<case>/threads:N" (training: "train/<model>/b<batch>/<backend>/threads:N");
   the repetitions of one name in several files are pooled, as convbench
   compare pools a directory. */
#ifndef CONVBENCH_EXPORT_H
#define CONVBENCH_EXPORT_H

#include <cjson/cJSON.h>
#include <stddef.h>

typedef enum { EXPORT_GBENCH, EXPORT_CSV, EXPORT_GAB, EXPORT_GAB_RATE } export_format;

/* "gbench", "csv", "gab" (times: smaller is better) or "gab-rate" (GFLOP/s
   and images/s: bigger is better); -1 for anything else. */
int export_format_parse(const char *name);

/* The export of n parsed results files (paths name them in the output
   and in messages), as a string to free; NULL with why in err. gbench and
   gab refuse files of different machines: pooling them means nothing. */
char *export_text(export_format f, const cJSON *const *docs, const char *const *paths, int n,
                  char *err, size_t errlen);

#endif
