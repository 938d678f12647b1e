/* convbench report: plot data files and gnuplot runs. Each machine's plots
   go to a directory of their own, named after the machine
   (PLOTS/<machine>/roofline-forward.png), so two machines' plots never
   overwrite each other, and every script gets the machine's name for its
   title. */
#include <stdarg.h>
#include <stdio.h>
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
    char vars[2048], cmd[3 * PATH_MAX + 2048 + 256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(vars, sizeof vars, fmt, ap);
    va_end(ap);
    /* machine names hold only [A-Za-z0-9._-] (report.c), so they quote safely */
    snprintf(cmd, sizeof cmd,
             "cd '%s/%s' && gnuplot -e \"%s; machine='%s'; out='%s'\" '%s/%s.gp' 2>&1", o->plots,
             o->sub, vars, o->sub, png, o->scripts, script);
    FILE *p = popen(cmd, "r");
    char line[512];
    int said = 0;
    while (p && fgets(line, sizeof line, p))
        if (said++ < 5) fprintf(stderr, "gnuplot (%s): %s", script, line);
    int rc = p ? pclose(p) : -1;
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
