/* Progress lines for long work (see progress.h). */
#include <omp.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "progress.h"

void progress_duration(double s, char *buf, size_t len)
{
    if (!(s >= 0) || s > 1e7) {
        snprintf(buf, len, "?");
        return;
    }
    long t = (long)(s + 0.5);
    if (t >= 3600)
        snprintf(buf, len, "%ldh%02ldm", t / 3600, t / 60 % 60);
    else if (t >= 60)
        snprintf(buf, len, "%ldm%02lds", t / 60, t % 60);
    else
        snprintf(buf, len, "%lds", t);
}

void progress_start(progress *p, FILE *f, const char *cmd, const char *unit, int total)
{
    *p = (progress){ .f = f ? f : stderr, .cmd = cmd, .unit = unit, .total = total };
    p->tty = isatty(fileno(p->f));
    p->start = p->last = omp_get_wtime();
    p->interval = 10.0;
}

static void line(progress *p, int done, const char *label, const char *end)
{
    const double now = omp_get_wtime(), el = now - p->start;
    char e[16], eta[32] = "";
    progress_duration(el, e, sizeof e);
    if (done > 0 && done < p->total) {
        char t[16];
        progress_duration(el / done * (p->total - done), t, sizeof t);
        snprintf(eta, sizeof eta, ", ETA %s", t);
    }
    char bar[24] = "";
    if (p->tty && p->total > 0) {
        const int w = 20, fill = (int)((double)w * done / p->total);
        bar[0] = ' ';
        bar[1] = '[';
        for (int i = 0; i < w; i++) bar[2 + i] = i < fill ? '=' : i == fill ? '>' : '.';
        bar[2 + w] = ']';
        bar[3 + w] = 0;
    }
    fprintf(p->f, "%s%s: %d/%d %s%s %s%s%s%s%s", p->tty ? "\r\033[K" : "", p->cmd, done, p->total,
            p->unit, bar, e, eta, label ? " - " : "", label ? label : "", end);
    fflush(p->f);
    p->last = now;
}

void progress_update(progress *p, int done, const char *label)
{
    const double now = omp_get_wtime();
    if (p->tty) {
        if (now - p->last < 0.1 && done < p->total) return;
        line(p, done, label, "");
        p->live = 1;
    } else if (now - p->last >= p->interval) {
        line(p, done, label, "\n");
    }
}

void progress_clear(progress *p)
{
    if (!p->live) return;
    fputs("\r\033[K", p->f);
    fflush(p->f);
    p->live = 0;
}

void progress_end(progress *p)
{
    progress_clear(p);
    line(p, p->total, NULL, "\n");
    p->live = 0;
}
