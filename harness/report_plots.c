/* convbench report: plot data files and gnuplot runs. Each machine's plots
   go to a directory of their own, named after the machine
   (PLOTS/<machine>/roofline-forward.png), so two machines' plots never
   overwrite each other, and every script gets the machine's name for its
   title. */
#include <stdarg.h>
#include <stdio.h>
#include "noshell.h"
#include "report.h"

FILE *data_file(out_ctx *o, const char *name)
{
    char path[PATH_MAX + 256];
    snprintf(path, sizeof path, "%s/%s/%s", o->plots, o->sub, name);
    FILE *f = fopen(path, "w");
    if (!f) fprintf(stderr, "convbench report: cannot write %s\n", path);
    return f;
}

void draw(out_ctx *o, const char *script, const char *png, const char *caption, const char *fmt,
          ...)
{
    if (!o->gnuplot) {
        fprintf(o->md, "_(%s: gnuplot not found; the data is in %s/%s/)_\n\n", caption, o->link,
                o->sub);
        return;
    }
    char vars[2048], expr[2048 + 512], dir[PATH_MAX + 256], gp[PATH_MAX + 64], said[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(vars, sizeof vars, fmt, ap);
    va_end(ap);
    /* no shell: gnuplot runs in the plot directory with its arguments as
       given; machine names hold only [A-Za-z0-9._-] (report.c) */
    snprintf(expr, sizeof expr, "%s; machine='%s'; out='%s'", vars, o->sub, png);
    snprintf(dir, sizeof dir, "%s/%s", o->plots, o->sub);
    snprintf(gp, sizeof gp, "%s/%s.gp", o->scripts, script);
    char *argv[] = { "gnuplot", "-e", expr, gp, NULL };
    int rc = run_program(argv, dir, 1, said, sizeof said);
    int lines = 0;
    for (const char *l = said; *l && lines < 5; lines++) {
        size_t n = strcspn(l, "\n");
        fprintf(stderr, "gnuplot (%s): %.*s\n", script, (int)n, l);
        l += n + (l[n] == '\n');
    }
    if (rc) {
        o->failed++;
        fprintf(stderr, "convbench report: gnuplot failed on %s.gp for %s/%s\n", script, o->sub,
                png);
        fprintf(o->md, "_(%s: gnuplot failed)_\n\n", caption);
        return;
    }
    o->drawn++;
    printf("  plot %s/%s/%s\n", o->plots, o->sub, png);
    fprintf(o->md, "![%s, %s](%s/%s/%s)\n\n", o->sub, caption, o->link, o->sub, png);
}
