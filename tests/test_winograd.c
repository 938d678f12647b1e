/* Winograd specifics the shared sweep does not reach: the transform
   matrices reproduce the direct convolution of one tile (and the weight
   gradient formula its definition) in double; F(2x2,3x3) is exact on small
   integers through all three passes on a shape with several tile blocks
   per thread (the accumulating GEMMs of backward_weights); the refusals
   name the Winograd reason; the implementation string follows the ISA. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../kernels/conv.h"
#include "../kernels/cpu.h"
#include "../kernels/shape.h"
#include "../kernels/winograd.h"
#include "check.h"
#include "ref_conv.h"
#include "suites.h"

enum { AMAX = 6 };

/* out (ro x ro) = L X L^T, or L^T X L when lt; L is ro x ri (ri x ro if lt) */
static void sandwich(const double *L, int ro, int ri, int lt, const double *x, double *out)
{
    double t[AMAX * AMAX];
    for (int o = 0; o < ro; o++)
        for (int j = 0; j < ri; j++) {
            double s = 0;
            for (int i = 0; i < ri; i++) s += (lt ? L[i * ro + o] : L[o * ri + i]) * x[i * ri + j];
            t[o * ri + j] = s;
        }
    for (int o = 0; o < ro; o++)
        for (int o2 = 0; o2 < ro; o2++) {
            double s = 0;
            for (int j = 0; j < ri; j++)
                s += t[o * ri + j] * (lt ? L[j * ro + o2] : L[o2 * ri + j]);
            out[o * ro + o2] = s;
        }
}

static double small_int(check_rng *g) { return floor(check_uniform(g) * 4.0); } /* -4..3 */

static void check_tile_algebra(int m)
{
    const double *at, *gm, *bt;
    const int al = winograd_matrices(m, &at, &gm, &bt);
    char name[96];
    snprintf(name, sizeof name, "winograd/algebra/F(%dx%d,3x3)/matrices", m, m);
    if (!check(name, al == m + 2, "alpha %d", al)) return;
    check_rng rng = { 77u + (unsigned)m };
    double fwd_err = 0, wgt_err = 0;
    for (int trial = 0; trial < 20; trial++) {
        double d[AMAX * AMAX], g[9], dy[AMAX * AMAX];
        for (int i = 0; i < al * al; i++) d[i] = small_int(&rng);
        for (int i = 0; i < 9; i++) g[i] = small_int(&rng);
        for (int i = 0; i < m * m; i++) dy[i] = small_int(&rng);
        double u[AMAX * AMAX], v[AMAX * AMAX], w[AMAX * AMAX], y[AMAX * AMAX], dw[9];
        sandwich(gm, al, 3, 0, g, u);  /* G g G^T */
        sandwich(bt, al, al, 0, d, v); /* B^T d B */
        for (int i = 0; i < al * al; i++) u[i] *= v[i];
        sandwich(at, m, al, 0, u, y); /* A^T [.] A */
        for (int i = 0; i < m; i++)
            for (int j = 0; j < m; j++) {
                double ref = 0;
                for (int r = 0; r < 3; r++)
                    for (int s = 0; s < 3; s++) ref += g[r * 3 + s] * d[(i + r) * al + j + s];
                fwd_err = fmax(fwd_err, fabs(y[i * m + j] - ref));
            }
        /* weight gradient of the tile: G^T [(A dy A^T) (.) (B^T d B)] G */
        sandwich(at, al, m, 1, dy, w);
        for (int i = 0; i < al * al; i++) w[i] *= v[i];
        sandwich(gm, 3, al, 1, w, dw);
        for (int r = 0; r < 3; r++)
            for (int s = 0; s < 3; s++) {
                double ref = 0;
                for (int i = 0; i < m; i++)
                    for (int j = 0; j < m; j++) ref += dy[i * m + j] * d[(i + r) * al + j + s];
                wgt_err = fmax(wgt_err, fabs(dw[r * 3 + s] - ref));
            }
    }
    /* integers of magnitude < 2^12: only the rounding of 1/6, 1/12, 1/24 */
    snprintf(name, sizeof name, "winograd/algebra/F(%dx%d,3x3)/forward", m, m);
    check(name, fwd_err < 1e-9, "max |Y - direct| = %.3g", fwd_err);
    snprintf(name, sizeof name, "winograd/algebra/F(%dx%d,3x3)/backward_weights", m, m);
    check(name, wgt_err < 1e-9, "max |dw - direct| = %.3g", wgt_err);
}

/* Small-integer data: every product and sum is exact in float for F(2,3)
   (its transforms hold 0, +-1, +-1/2), so the passes must match the double
   reference exactly; F(4,3) divides by 6 and is held to its sweep bound. */
static void check_integer_passes(const char *backend, double bound)
{
    const conv_backend *be = conv_backend_find(backend);
    char name[128];
    snprintf(name, sizeof name, "winograd/integers/%s/registered", backend);
    if (!check(name, be != NULL, "not registered")) return;
    /* 196 F(4,3) tiles, 784 F(2,3) tiles: several blocks per thread */
    const conv_shape s = { 4, 28, 28, 64, 48, 3, 3, 1, 1 };
    const size_t nx = conv_x_elems(&s), ny = conv_y_elems(&s), nw = conv_w_elems(&s);
    float *x = malloc(sizeof(float) * nx), *w = malloc(sizeof(float) * nw);
    float *dy = malloc(sizeof(float) * ny), *bias = malloc(sizeof(float) * s.k);
    float *y = malloc(sizeof(float) * ny), *dx = malloc(sizeof(float) * nx);
    float *dw = malloc(sizeof(float) * nw), *db = malloc(sizeof(float) * s.k);
    double *ry = malloc(sizeof(double) * ny), *rdx = malloc(sizeof(double) * nx);
    double *rdw = malloc(sizeof(double) * nw), *rdb = malloc(sizeof(double) * s.k);
    if (!x || !w || !dy || !bias || !y || !dx || !dw || !db || !ry || !rdx || !rdw || !rdb) {
        perror("malloc");
        exit(2);
    }
    check_rng g = { 4242u };
    for (size_t i = 0; i < nx; i++) x[i] = (float)floor(check_uniform(&g) * 2.0); /* -2..1 */
    for (size_t i = 0; i < nw; i++) w[i] = (float)floor(check_uniform(&g) * 2.0);
    for (size_t i = 0; i < ny; i++) dy[i] = (float)floor(check_uniform(&g) * 2.0);
    for (int i = 0; i < s.k; i++) bias[i] = (float)floor(check_uniform(&g) * 8.0);
    ref_forward(&s, x, w, bias, ry);
    ref_backward_data(&s, dy, w, rdx);
    ref_backward_weights(&s, x, dy, rdw, rdb);
    conv_plan *pl = be->plan(&s);
    snprintf(name, sizeof name, "winograd/integers/%s/plan", backend);
    if (check(name, pl != NULL, "plan() returned NULL")) {
        be->forward(pl, x, w, bias, y);
        be->backward_data(pl, dy, w, dx);
        be->backward_weights(pl, x, dy, dw, db);
        be->destroy(pl);
        const struct {
            const char *pass;
            double e;
        } r[] = {
            { "forward", ref_rel_err(y, ry, ny) },
            { "backward_data", ref_rel_err(dx, rdx, nx) },
            { "backward_weights", ref_rel_err(dw, rdw, nw) },
            { "dbias", ref_rel_err(db, rdb, s.k) },
        };
        for (size_t i = 0; i < sizeof r / sizeof *r; i++) {
            snprintf(name, sizeof name, "winograd/integers/%s/%s", backend, r[i].pass);
            check(name, r[i].e <= bound, "error %.3g > %.3g", r[i].e, bound);
        }
    }
    free(x);
    free(w);
    free(dy);
    free(bias);
    free(y);
    free(dx);
    free(dw);
    free(db);
    free(ry);
    free(rdx);
    free(rdw);
    free(rdb);
}

static void check_refusals(const char *backend)
{
    const conv_backend *be = conv_backend_find(backend);
    if (!be) return;
    static const struct {
        conv_shape s;
        const char *what, *says;
    } cases[] = {
        { { 1, 9, 9, 4, 4, 5, 5, 1, 2 }, "5x5", "3x3" },
        { { 1, 9, 9, 4, 4, 1, 1, 1, 0 }, "1x1", "3x3" },
        { { 1, 9, 9, 4, 4, 3, 5, 1, 1 }, "3x5", "3x3" },
        { { 1, 9, 9, 4, 4, 3, 3, 2, 1 }, "stride 2", "stride" },
        { { 1, 9, 9, 4, 4, 3, 3, 1, 1, .groups = 2 }, "groups", "groups" },
        { { 1, 9, 9, 4, 4, 3, 3, 1, 1, .dil_h = 2 }, "dilation", "dilation" },
        { { 1, 9, 9, 4, 4, 3, 3, 1, 0, .pad_b = 3 }, "pad_b 3", "padding at or beyond" },
        { { 1, 9, 9, 4, 4, 3, 3, 1, 3 }, "pad 3", "padding at or beyond" },
    };
    char name[128];
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const char *why = be->unsupported(&cases[i].s);
        conv_plan *pl = be->plan(&cases[i].s);
        snprintf(name, sizeof name, "winograd/refusals/%s/%s", backend, cases[i].what);
        check(name, why && strstr(why, cases[i].says) && !pl, "reason %s", why ? why : "(none)");
        if (pl) be->destroy(pl);
    }
    /* a malformed shape gets the contract's reason, checked first */
    const conv_shape bad = { 1, 5, 5, 1, 1, 5, 5, 0, 1 }; /* stride 0, and 5x5 */
    const char *why = be->unsupported(&bad), *want = conv_shape_invalid(&bad);
    snprintf(name, sizeof name, "winograd/refusals/%s/malformed-first", backend);
    check(name, why && want && strcmp(why, want) == 0, "reason %s", why ? why : "(none)");
    const conv_shape ok = { 1, 4, 4, 2, 3, 3, 3, 1, 2 };
    snprintf(name, sizeof name, "winograd/refusals/%s/pad-2-accepted", backend);
    check(name, be->unsupported(&ok) == NULL, "refused 3x3 stride 1 pad 2");
    const conv_shape sides = { 1, 4, 4, 2, 3, 3, 3, 1, 0, .pad_t = 2, .pad_r = 1 };
    snprintf(name, sizeof name, "winograd/refusals/%s/pad-per-side-accepted", backend);
    check(name, be->unsupported(&sides) == NULL, "refused padding per side under 3");
}

/* Each ISA level names itself, so the sweep re-runs the backend per ISA. */
static void check_impl_per_isa(const char *backend)
{
    const conv_backend *be = conv_backend_find(backend);
    if (!be) return;
    const conv_shape s = { 1, 8, 8, 4, 4, 3, 3, 1, 1 };
    char seen[3][200] = { "", "", "" }, name[128];
    for (int isa = cpu_isa_supported(); isa >= ISA_PORTABLE; isa--) {
        check_force_isa(cpu_isa_name((cpu_isa)isa));
        conv_plan *pl = be->plan(&s);
        if (!pl) continue;
        snprintf(seen[isa], sizeof seen[isa], "%s", be->impl(pl, CONV_FORWARD));
        be->destroy(pl);
        snprintf(name, sizeof name, "winograd/impl/%s/%s", backend, cpu_isa_name((cpu_isa)isa));
        int distinct = strstr(seen[isa], cpu_isa_name((cpu_isa)isa)) != NULL;
        for (int o = isa + 1; o <= (int)cpu_isa_supported(); o++)
            if (!strcmp(seen[o], seen[isa])) distinct = 0;
        check(name, distinct, "impl \"%s\"", seen[isa]);
    }
    check_force_isa(NULL);
}

void test_winograd(void)
{
    if (check_selected("winograd/algebra")) {
        check_tile_algebra(2);
        check_tile_algebra(3);
        check_tile_algebra(4);
    }
    if (check_selected("winograd/integers")) {
        check_integer_passes("winograd2", 0.0);
        check_integer_passes("winograd", 1e-4);
    }
    if (check_selected("winograd/refusals")) {
        check_refusals("winograd");
        check_refusals("winograd2");
    }
    if (check_selected("winograd/impl")) {
        check_impl_per_isa("winograd");
        check_impl_per_isa("winograd2");
    }
}
