/* convbench report's internals, shared by the files that make it up:

     report.c           the command: paths, loading, grouping files by
                        machine, the newest file of each series per machine,
                        the document's frame
     report_data.c      figures read from results files: conv rows, peaks
                        and bandwidths of a machine file, number formatting
     report_plots.c     gnuplot data files and drawing, one directory per
                        machine
     report_sections.c  one machine's sections: the machine, bench tables,
                        training, peers, scaling
     report_roofline.c  one machine's roofline
     report_compare.c   machines side by side

   Every figure a machine's section shows comes from that machine's files;
   only report_compare.c puts two machines in one table. */
#ifndef CONVBENCH_REPORT_H
#define CONVBENCH_REPORT_H

#include <cjson/cJSON.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include "results.h"

typedef struct report_machine report_machine;

/* One results file as loaded. */
typedef struct {
    char path[PATH_MAX];
    cJSON *doc;
    const char *kind, *time; /* "" when absent */
    int named;               /* named on the command line, not found in a directory */
    report_machine *m;       /* the machine it was measured on */
} rfile;

/* A growable list of files (owned elsewhere). */
typedef struct {
    rfile **f;
    int n, cap;
} flist;

/* One machine and the files shown for it: after selection, the newest of
   each series (see report.c). */
struct report_machine {
    char key[80];         /* machine_key(): what the CPU is */
    char name[96];        /* label, unique in the report; its plot directory */
    const rfile *src;     /* its machine file, else its first file */
    const cJSON *mc;      /* src's context.machine */
    const rfile *machine; /* its machine file (peaks, bandwidths, versions), or NULL */
    flist bench, scale, train, peer;
};

typedef struct {
    FILE *md;
    const char *plots;   /* plot directory (absolute) */
    const char *link;    /* the same, as the report links it */
    const char *scripts; /* where the *.gp files are */
    const char *sub;     /* the current machine's subdirectory of both */
    int gnuplot;         /* gnuplot found */
    int drawn, failed;
} out_ctx;

/* The key that tells machines apart (report.c): the fingerprint field of
   context.machine, else a hash of CPU model, cores, PUs, ISA flags and
   cache sizes; never the host name. */
void machine_key(const cJSON *machine, char *buf, size_t len);

/* ---- JSON access (report_data.c) ---- */

static inline const cJSON *jobj(const cJSON *o, const char *k)
{
    return cJSON_GetObjectItemCaseSensitive(o, k);
}
static inline const cJSON *runs_of(const rfile *f) { return jobj(f->doc, "runs"); }
static inline int is_type(const cJSON *r, const char *t)
{
    const char *x = results_str(r, "type");
    return x && !strcmp(x, t);
}
static inline const char *str_or(const char *s, const char *dflt) { return s ? s : dflt; }

/* "312", "31.2", "3.12": three significant figures; "-" if not finite */
const char *fmt3(char *buf, size_t len, double v);
void size_text(double bytes, char *buf, size_t len);

/* A conv run as the tables use it. */
typedef struct {
    const char *set, *layer, *pass, *backend, *impl;
    const cJSON *shape;
    int n, threads;
    double gflops, flops, ai; /* ai: FLOPs / minimal fp32 bytes */
} crow;

/* Fills c from a run of type "conv"; -1 for any other run. */
int crow_of(const cJSON *r, crow *c);
/* Same shape, pass, backend and thread count. */
int crow_same_case(const crow *a, const crow *b);
int is_onednn(const char *backend);
int is_winograd(const char *backend);
const char *short_pass(const char *pass);
/* A backend's place in the registry (1000 for unknown names). */
int backend_rank(const char *name);
/* The backends of the conv runs, ours (registry order) before oneDNN's. */
int backend_list(const cJSON *runs, const char **out, int max);
/* A layer's place in the suite's layer table (1000+ for others). */
int layer_rank(const crow *c, const char *const *layers, int nl);
/* The error bar of a rate figured from run r's median time (GFLOP/s,
   images/s, a speedup): the interquartile range of its times_s, as
   value * median / q3 .. value * median / q1; both value when it has
   fewer than two repetitions. */
void run_rate_iqr(const cJSON *r, double value, double *lo, double *hi);

/* The thread count of a file's first conv run (0 if none). */
int file_threads(const rfile *f);
/* The ISA a file's runs used (context.isa). */
const char *file_isa(const rfile *f);

/* The machine's measured FMA peak at this ISA and thread count, from its
   own machine file; NAN when it has no machine file or no such figure. */
double machine_peak(const report_machine *m, const char *isa, int threads);
/* % of the machine's own peak for a run of f (at f's ISA); NAN as above. */
double own_pct(const report_machine *m, const rfile *f, const crow *c);
/* Why own_pct is NAN, for the text: "no machine file", or "no avx2 peak
   at 2 threads in the machine file". */
void no_peak_reason(const report_machine *m, const char *isa, int threads, char *buf, size_t len);

/* A roof of the roofline: a compute peak per ISA or a bandwidth per level. */
typedef struct {
    char name[32]; /* "avx512", "L1", "memory (triad)" */
    double value;  /* GFLOP/s or GB/s */
    int threads;   /* the thread count it was measured at */
} roof;
/* Every compute peak of the machine file at threads (one per ISA, highest first). */
int compute_roofs(const report_machine *m, int threads, roof *out, int max);
/* Bandwidth roofs L1, L2, L3, memory: "bandwidth" runs at threads (else at
   the nearest thread count measured); memory falls back to the triad. */
int bandwidth_roofs(const report_machine *m, int threads, roof *out, int max);

/* Keys of the series a train or peer file belongs to. */
void train_key(const rfile *f, char *buf, size_t len);
void peer_key(const rfile *f, char *buf, size_t len);
const char *peer_status(const rfile *f);

/* One row of a training table: a train file (one backend at one thread
   count) or a peer configuration at one thread count. */
typedef struct {
    char name[160]; /* backend, or "peer (config)" */
    const char *path;
    int threads, epochs, is_peer, is_auto;
    double batch, acc, secs, ips; /* final test accuracy, mean epoch s, images/s */
} trow;
/* Fills t from the train runs at threads (all if threads < 0); 0 if any. */
int train_row(const cJSON *runs, int threads, trow *t);

/* ---- plots (report_plots.c) ---- */

/* A data file in the current machine's plot directory (NULL after saying why). */
FILE *data_file(out_ctx *o, const char *name);
/* Runs scripts/<script>.gp with the given variable settings (machine= is
   added); links the PNG in the report under caption. */
void draw(out_ctx *o, const char *script, const char *png, const char *caption, const char *fmt,
          ...) __attribute__((format(printf, 5, 6)));

/* ---- sections ---- */

void section_machine(out_ctx *o, const report_machine *m);
void section_bench(out_ctx *o, const report_machine *m, const rfile *f);
void section_roofline(out_ctx *o, const report_machine *m, const rfile *f);
void section_train(out_ctx *o, const report_machine *m);
void section_peer_conv(out_ctx *o, const report_machine *m);
void section_scale(out_ctx *o, const report_machine *m, const rfile *f);
void section_compare(out_ctx *o, report_machine *const *ms, int n);

#endif
