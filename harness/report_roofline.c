/* convbench report: one machine's roofline, from its own machine file.

   Arithmetic intensity of a conv pass = its direct-convolution FLOPs / the
   minimal bytes it must move, input + weights + output once each in fp32:
   4·(NHWC + RSCK + NPQK). Roofs: a compute roof per ISA the machine file
   has a peak for (avx512, avx2, portable) at the bench run's thread count,
   and a bandwidth roof per memory level it measured (L1, L2, L3, memory;
   older files have only the triad, drawn as the memory roof). A point's
   roof is min(peak at the run's ISA, memory bandwidth x AI); a point above
   the memory roof had its data reused from a cache, so it is judged
   against the cache roofs too. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "noshell.h"
#include "report.h"

/* "name value name value ...", names without spaces, for a gnuplot words() list */
static void roof_words(const roof *r, int n, char *buf, size_t len)
{
    size_t u = 0;
    buf[0] = 0;
    for (int i = 0; i < n && u < len; i++) {
        char name[32];
        size_t k = 0;
        for (const char *p = r[i].name; *p && k + 1 < sizeof name; p++)
            if (*p != ' ') name[k++] = *p;
        name[k] = 0;
        u += (size_t)snprintf(buf + u, len - u, "%s%s %.6g", i ? " " : "", name, r[i].value);
    }
}

void section_roofline(out_ctx *o, const report_machine *m, const rfile *f)
{
    FILE *md = o->md;
    const cJSON *runs = runs_of(f), *r;
    int threads = file_threads(f);
    if (!threads) return;
    const char *isa = file_isa(f);
    roof cr[8], br[4];
    int nc = compute_roofs(m, threads, cr, 8), nbw = bandwidth_roofs(m, threads, br, 4);
    fprintf(md, "### Roofline, %d thread%s\n\n", threads, threads > 1 ? "s" : "");
    if (!nc || !nbw) {
        fprintf(md,
                "%s: no measured peak or bandwidth at %d threads for this machine; run "
                "`convbench info` on it.\n\n",
                m->machine ? "The machine file has" : "No machine file", threads);
        return;
    }
    double peak = machine_peak(m, isa, threads), mem = br[nbw - 1].value, top = cr[0].value;
    int mem_is_memory = strncmp(br[nbw - 1].name, "memory", 6) == 0;
    if (!isfinite(peak)) peak = top;
    char a[32], b2[32], c2[32];
    fprintf(md,
            "Arithmetic intensity (AI) of a conv pass = its direct-convolution FLOPs / the "
            "minimal bytes it must move: input + weights + output once each, fp32 "
            "(4·(NHWC + RSCK + NPQK)); the three passes of a layer touch the same three "
            "tensors and share one AI. Runs of `%s` (ISA %s). Roofs from this machine's "
            "file at %d threads: compute",
            f->path, isa, threads);
    for (int i = 0; i < nc; i++)
        fprintf(md, "%s %s %s GFLOP/s", i ? "," : "", cr[i].name, fmt3(a, sizeof a, cr[i].value));
    fprintf(md, "; bandwidth");
    for (int i = 0; i < nbw; i++) {
        fprintf(md, "%s %s %s GB/s", i ? "," : "", br[i].name, fmt3(a, sizeof a, br[i].value));
        if (br[i].threads != threads)
            fprintf(md, " (at %d thread%s)", br[i].threads, br[i].threads > 1 ? "s" : "");
    }
    fprintf(md,
            ". Ridge of the %s peak on the %s roof at AI %s FLOP/byte. Winograd points are "
            "effective GFLOP/s and may pass the roof.\n\n",
            isa, br[nbw - 1].name, fmt3(c2, sizeof c2, peak / mem));
    char cwords[512], bwords[512];
    roof_words(cr, nc, cwords, sizeof cwords);
    roof_words(br, nbw, bwords, sizeof bwords);
    const char *be[64];
    int nb = backend_list(runs, be, 64);
    for (int p = 0; p < 3; p++) {
        const char *pass = conv_pass_name((conv_pass)p);
        char dname[64], png[64], names[1024] = "";
        snprintf(dname, sizeof dname, "roofline-%s.dat", pass);
        snprintf(png, sizeof png, "roofline-%s.png", pass);
        FILE *dat = data_file(o, dname);
        if (!dat) continue;
        int blocks = 0, points = 0, above_half = 0, above_mem = 0, under_cache = 0;
        double min_ai = INFINITY, max_ai = 0;
        for (int b = 0; b < nb; b++) {
            int any = 0;
            cJSON_ArrayForEach(r, runs)
            {
                crow c;
                if (crow_of(r, &c) || strcmp(c.backend, be[b]) || strcmp(c.pass, pass)) continue;
                if (!any++) {
                    if (blocks++) fprintf(dat, "\n\n");
                    fprintf(dat, "# %s\n", be[b]);
                    size_t used = strlen(names);
                    snprintf(names + used, sizeof names - used, "%s%s", used ? " " : "", be[b]);
                }
                fprintf(dat, "%.6g %.6g \"%s/%s/b%d\"\n", c.ai, c.gflops, c.set, c.layer, c.n);
                double roofv = fmin(peak, mem * c.ai);
                points++;
                above_half += c.gflops >= 0.5 * roofv;
                if (c.gflops > mem * c.ai && !is_winograd(c.backend)) {
                    above_mem++;
                    /* under the fastest cache roof that exists: explained by reuse */
                    under_cache += nbw > 1 && c.gflops <= fmin(peak, br[0].value * c.ai);
                }
                min_ai = fmin(min_ai, c.ai);
                max_ai = fmax(max_ai, c.ai);
            }
        }
        fclose(dat);
        if (!points) continue;
        fprintf(md, "#### %s\n\n", pass);
        char cap[96];
        snprintf(cap, sizeof cap, "roofline, %s, %d threads", pass, threads);
        char qnames[2100]; /* backend names come from results files */
        if (gnuplot_string(names, qnames, sizeof qnames)) snprintf(qnames, sizeof qnames, "''");
        draw(o, "roofline", png, cap,
             "data='%s'; top=%.6g; croofs='%s'; broofs='%s'; names=%s; pass='%s'; threads=%d",
             dname, top, cwords, bwords, qnames, pass, threads);
        fprintf(md, "- AI spans %s to %s FLOP/byte: %s.\n", fmt3(a, sizeof a, min_ai),
                fmt3(b2, sizeof b2, max_ai),
                min_ai >= peak / mem
                    ? "every case lies right of the ridge (compute-bound by this model)"
                : max_ai < peak / mem
                    ? "every case lies left of the ridge (bandwidth-bound by this model)"
                    : "the cases straddle the ridge");
        fprintf(md,
                "- %d of %d backend x layer cases reach at least half of their roof "
                "(min(%s peak, %s bandwidth x AI)).\n",
                above_half, points, isa, br[nbw - 1].name);
        if (above_mem && mem_is_memory)
            fprintf(md,
                    "- direct-algorithm cases above the %s roof: %d (their data stays in cache; "
                    "the model counts each tensor once from memory)%s.\n",
                    br[nbw - 1].name, above_mem,
                    nbw < 2                    ? ""
                    : under_cache == above_mem ? ", all under the fastest cache roof"
                                               : ", some above even the fastest cache roof");
        fprintf(md, "\n");
    }
}
