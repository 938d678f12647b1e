/* winograd (F(4x4,3x3), or F(3x3,3x3) where its tiles fit the output with
   fewer multiplies, chosen per shape at plan time) and winograd2
   (F(2x2,3x3)): Lavin & Gray's minimal filtering algorithm for 3x3
   filters, stride 1, padding 0..2 on each side (top, bottom, left and
   right apart), all three passes in the Winograd domain.
   One engine serves every tile size; a tile size is its three transform
   matrices, kept as data (winograd_tf.h, the wincnn sets: F(2,3) points
   0, +-1; F(3,3) points 0, +-1, 2; F(4,3) points 0, +-1, +-2).

   Per tile, with m the output tile, r = 3 and alpha = m + r - 1 the input tile:
     forward           Y = A^T [ (G g G^T) (.) (B^T d B) ] A
                       d: alpha x alpha input tile at (m*ty - pt, m*tx - pl),
                       zero outside the image; Y: m x m outputs, clipped at the
                       right and bottom edges; bias added in the output transform
                       (forward_relu clamps it there too, in registers).
                       The (.) summed over channels is alpha^2 independent GEMMs
                       M[e] (tiles x K) = V[e] (tiles x C) . U[e] (C x K),
                       e = one of the alpha^2 transformed positions.
     backward_data     the forward's adjoint in d where that needs fewer
                       tiles (a valid convolution: dx is larger than dy):
                       per forward tile dx^ += B [ U^T . (A dy^ A^T) ] B^T,
                       the GEMMs X[e] (tiles x C) = W[e] (tiles x K) .
                       U[e] (K x C), each image's tiles on one thread;
                       otherwise dx = the same Winograd convolution of dy
                       padded by r-1-pt on top and r-1-pl on the left (the
                       far sides follow from dx's size), with the filter rotated 180 degrees
                       and C, K swapped (U from the rotated filter, K x C).
     backward_weights  dw = G^T [ sum_tiles (A dy^ A^T) (.) (B^T x^ B) ] G, the
                       adjoint of the forward formula in g (<dy, Y(g)> =
                       <G^T[(A dy A^T) (.) V]G, g>): dy^ is an m x m output tile
                       (zero beyond the output), x^ the alpha x alpha input tile
                       it reads. The sum is alpha^2 GEMMs
                       Z[e] (C x K) += V[e]^T (C x tiles) . W[e] (tiles x K).
                       dbias = the sum over tiles of (A dy^ A^T) at the
                       position of A's all-ones row (point 1) in both
                       dimensions, which is the tile's plain sum of dy.
   Arithmetic: a tile costs alpha^2 multiplies per (c, k) pair instead of
   m^2 r^2: F(2x2,3x3) 16 vs 36 (2.25x fewer), F(3x3,3x3) 25 vs 81 (3.24x),
   F(4x4,3x3) 36 vs 144 (4x).
   The transforms add O(tiles*alpha^2*(C+K)) + O(alpha^2*C*K) work per pass
   (the filter is transformed inside every pass: weights change every step).
   Rounding grows with the tile (F(4,3)'s A has entries up to 8, G divides
   by 24): errors ~1e-5 for F(2,3), ~1e-4 for F(4,3) on unit-range data.

   Blocking: tiles are taken in blocks of `tb` (n, tile row, tile column
   order); each OpenMP thread owns whole blocks and its own transformed-domain
   buffers V, M (alpha^2 x tb x max(C,K) floats each), so a block's input
   transform, its alpha^2 GEMMs (run single-threaded inside the parallel
   region) and its output transform stay in that core's caches. tb is sized
   for the L2 cache and the GEMM's row blocking, and capped so that all
   tile buffers together stay under WINO_TILE_CAP bytes (like the im2col
   column buffer); everything is allocated at plan time. backward_weights
   accumulates per-thread Z (thread 0 reuses U) and sums them in the final
   G^T Z G transform.

   Transforms run on blocks of VL = 16 channels (one zmm, two ymm, four xmm):
   Y = L X L^T with L the transform matrix and X a small matrix of channel
   vectors (winograd_tf_body.h). Each tile size, transform and whole or
   edge tile is its own straight-line function, and the same code is
   compiled for AVX-512 and AVX2+FMA (winograd_tf_avx512.c, _avx2.c, with
   #pragma GCC target) and portably (winograd_tf_portable.c). The plan
   takes its tile size's table for cpu_isa_active(); a transform call picks
   the whole-tile function unless the tile crosses an edge. */
#include <omp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cpu.h"
#include "gemm.h"
#include "shape.h"
#include "transpose.h"
#include "winograd.h"
#include "winograd_tf.h"

#define WINO_TILE_CAP    ((size_t)64 << 20) /* bytes of per-thread V, M in all */
#define WINO_BLOCK_BYTES ((size_t)1 << 20)  /* V + M of one block, about L2 */
#define WINO_BLOCK_MIN   24                 /* tiles: a few GEMM row groups */

/* ---- the tile sizes: their transform matrices (winograd_tf.h) ----------- */

typedef struct {
    const char *name;
    int m, alpha;
    const double *at; /* m x alpha */
    const double *g;  /* alpha x r */
    const double *bt; /* alpha x alpha */
} wino_tile;

static const wino_tile tile_f23 = { "F(2x2,3x3)", 2, 4, f23_at, f23_g, f23_bt };
static const wino_tile tile_f33 = { "F(3x3,3x3)", 3, 5, f33_at, f33_g, f33_bt };
static const wino_tile tile_f43 = { "F(4x4,3x3)", 4, 6, f43_at, f43_g, f43_bt };

/* The matrices in double, for tests that check the algebra on one tile.
   Returns alpha, or 0 for a tile size that is not built here. */
int winograd_matrices(int m, const double **at, const double **g, const double **bt)
{
    const wino_tile *t = m == 2 ? &tile_f23 : m == 3 ? &tile_f33 : m == 4 ? &tile_f43 : NULL;
    if (!t) return 0;
    *at = t->at;
    *g = t->g;
    *bt = t->bt;
    return t->alpha;
}

/* ---- plan ----------------------------------------------------------------- */

/* One direct convolution solved by tiles: forward, or backward_data seen as
   the forward convolution of dy. */
typedef struct {
    int hi, wi, ci; /* input image and channels */
    int ho, wo, co; /* output image and channels */
    int pt, pl;     /* padding on top and on the left */
    int th, tw;     /* tiles down, across */
    size_t ntiles;  /* n * th * tw */
    int tb;         /* tiles per block */
    int team;       /* the whole team shares each block (few tiles) */
} wino_geom;

struct conv_plan {
    conv_shape s;
    int p, q, nt, m, alpha, a2;
    const wino_tfs *tf; /* the tile size's transforms for the active ISA */
    wino_geom fwd, bwd; /* backward_weights tiles as forward does */
    int adjoint;        /* backward_data as the forward's adjoint (fwd tiles) */
    size_t ck;          /* C * K */
    size_t es;          /* floats between the alpha^2 matrices of U and each Z,
                            and between the taps of wt: C*K plus a line (ESKEW),
                            so a transform's loads and stores do not share one
                            L1 set (C*K is a multiple of 4 KiB; conv3's
                            passes ran 11-18% faster at batch 16) */
    size_t tbuf;        /* floats per thread in v and in mbuf */
    float *u;           /* alpha^2 x C x K (K x C for backward_data): the
                            transformed filter; Z of thread 0 */
    float *z;           /* (nt - 1) x alpha^2 x C x K: Z of the other threads */
    float *v, *mbuf;    /* nt x tbuf each: transformed tiles, GEMM results */
    float *wt;          /* R x R x K x C (taps es apart): the filter with c contiguous */
    int e_sum;          /* the position where A dy A^T is the tile's plain sum */
    float *dsum;        /* nt x K: each thread's share of dbias */
    char impl[2][160];  /* forward and backward_weights; backward_data */
};

static const char *unsupported_for(const conv_shape *s, const char *what)
{
    const char *why = conv_shape_invalid(s);
    if (why) return why;
    /* every extension but the padding per side, refused in shape.c's words */
    conv_shape sym = *s;
    sym.pad_t = sym.pad_b = sym.pad_l = sym.pad_r = 0;
    if ((why = conv_shape_extended(&sym))) return why;
    if (s->r != 3 || s->s != 3) return what;
    if (s->stride != 1)
        return "Winograd F(m,3x3) needs stride 1 (a strided output "
               "skips the overlapping tiles it is built on)";
    const conv_geom g = conv_geometry(s);
    if (g.pt >= R || g.pb >= R || g.pl >= R || g.pr >= R)
        return "padding at or beyond the filter size (3) not supported";
    return NULL;
}

static const char *wino4_unsupported(const conv_shape *s)
{
    return unsupported_for(s, "winograd is built for 3x3 filters only (F(4x4,3x3) or F(3x3,3x3))");
}

static const char *wino2_unsupported(const conv_shape *s)
{
    return unsupported_for(s, "winograd2 is built for 3x3 filters only (F(2x2,3x3))");
}

static size_t ceil_div(size_t a, size_t b) { return (a + b - 1) / b; }

/* Floats between the alpha^2 matrices of a block: tb*ch plus one cache
   line, so that a transform's alpha^2 loads or stores (one per matrix) fall
   in different L1 sets; tb*ch is often a multiple of 4 KiB, which put all
   36 of F(4x4,3x3)'s in one 12-way set. */
enum { ESKEW = 16 };
static size_t mat_stride(const wino_geom *g, int ch) { return (size_t)g->tb * ch + ESKEW; }

static wino_geom geom_make(int n, int hi, int wi, int ci, int ho, int wo, int co, int pt, int pl,
                           int m)
{
    wino_geom g = { hi, wi, ci, ho, wo, co, pt, pl, 0, 0, 0, 0, 0 };
    g.th = (int)ceil_div((size_t)ho, (size_t)m);
    g.tw = (int)ceil_div((size_t)wo, (size_t)m);
    g.ntiles = (size_t)n * g.th * g.tw;
    return g;
}

/* *out = a*b*c, if that many floats fit size_t in bytes */
static int mul3(size_t a, size_t b, size_t c, size_t *out)
{
    size_t v, bytes;
    if (__builtin_mul_overflow(a, b, &v) || __builtin_mul_overflow(v, c, &v) ||
        __builtin_mul_overflow(v, sizeof(float), &bytes))
        return 0;
    *out = v;
    return 1;
}

static void wino_destroy(conv_plan *pl)
{
    if (!pl) return;
    free(pl->u);
    free(pl->z);
    free(pl->v);
    free(pl->mbuf);
    free(pl->wt);
    free(pl->dsum);
    free(pl);
}

static conv_plan *plan_for(const conv_shape *s, const wino_tile *t)
{
    if (unsupported_for(s, "")) return NULL;
    conv_plan *pl = calloc(1, sizeof *pl);
    if (!pl) return NULL;
    pl->s = *s;
    pl->p = conv_out_h(s);
    pl->q = conv_out_w(s);
    pl->nt = omp_get_max_threads();
    if (pl->nt < 1) pl->nt = 1;
    pl->m = t->m;
    pl->alpha = t->alpha;
    /* A's all-ones row (the point 1): A dy A^T there sums the tile */
    for (int c = t->alpha - 1; c >= 0; c--) {
        int ones = 1;
        for (int i = 0; i < t->m; i++) ones &= t->at[i * t->alpha + c] == 1.0;
        if (ones) pl->e_sum = c * t->alpha + c;
    }
    pl->a2 = t->alpha * t->alpha;

    cpu_isa isa = cpu_isa_active();
    const wino_tfs *tfs = isa == ISA_AVX512 ? wino_tfs_avx512
                          : isa == ISA_AVX2 ? wino_tfs_avx2
                                            : wino_tfs_portable;
    pl->tf = &tfs[t->m - 2];

    const conv_geom cg = conv_geometry(s);
    pl->fwd = geom_make(s->n, s->h, s->w, s->c, pl->p, pl->q, s->k, cg.pt, cg.pl, t->m);
    pl->bwd =
        geom_make(s->n, pl->p, pl->q, s->k, s->h, s->w, s->c, R - 1 - cg.pt, R - 1 - cg.pl, t->m);

    /* Tiles per block. Every block reads all of U (alpha^2 C K floats):
       while U fits the L2 cache that is cheap, and a block is sized so its
       V and M stay there too, with a few row groups for the GEMMs (the
       seed's conv2: 48 tiles, 3-7% faster per pass than 96, measured in
       one process); a larger U streams from memory per block, so blocks
       are then as long as the tile buffers' cap allows, with V and M
       streaming instead. */
    const size_t cmax = (size_t)(s->c > s->k ? s->c : s->k);
    const size_t per_tile = (size_t)pl->a2 * cmax * 2 * sizeof(float); /* V + M */
    const double u_bytes = (double)pl->a2 * s->c * s->k * sizeof(float);
    size_t tb = u_bytes > WINO_BLOCK_BYTES ? SIZE_MAX : WINO_BLOCK_BYTES / per_tile;
    if (tb < WINO_BLOCK_MIN) tb = WINO_BLOCK_MIN;
    if (tb > WINO_TILE_CAP / (per_tile * (size_t)pl->nt))
        tb = WINO_TILE_CAP / (per_tile * (size_t)pl->nt);
    if (tb < 1) tb = 1;
    size_t tmax = 1;
    wino_geom *gs[] = { &pl->fwd, &pl->bwd };
    for (int i = 0; i < 2; i++) {
        /* the block count a multiple of the team size, the tiles evened
           out over the blocks: every thread gets the same work */
        size_t nb = ceil_div(gs[i]->ntiles, tb);
        nb = ceil_div(nb, (size_t)pl->nt) * pl->nt;
        size_t b = ceil_div(gs[i]->ntiles, nb);
        if (b > tmax) tmax = b;
        /* Few tiles per thread: a GEMM of a few rows is mostly edge tiles,
           so the team shares one block of all tiles instead (its buffers
           together hold nt * b >= ntiles rows), splitting the transforms
           by tile and the alpha^2 products by e. */
        gs[i]->team = pl->nt > 1 && gs[i]->ntiles < (size_t)pl->nt * WINO_BLOCK_MIN &&
                      gs[i]->ntiles <= (size_t)pl->nt * b;
        gs[i]->tb = (int)(gs[i]->team ? gs[i]->ntiles : b);
    }

    /* The adjoint reads dy in the forward's tiles and adds each alpha x alpha
       result into dx, so one thread must write all of an image: the team
       splits a shared block's stores by image, or each block holds whole
       images. Worth it when it needs fewer tiles than the padded form (a
       valid convolution: dx is 2 pixels larger than dy each way, which
       costs F(4x4,3x3) a whole extra row and column of tiles at 13x13). */
    const size_t per_img = (size_t)pl->fwd.th * pl->fwd.tw;
    pl->adjoint =
        pl->fwd.ntiles < pl->bwd.ntiles && (pl->fwd.team || per_img <= (size_t)pl->fwd.tb);
    if (pl->adjoint && !pl->fwd.team && pl->nt > 1) { /* whole images per block */
        size_t ipb = (size_t)pl->fwd.tb / per_img;
        size_t nb = ceil_div(ceil_div((size_t)s->n, ipb), (size_t)pl->nt) * pl->nt;
        pl->fwd.tb = (int)(ceil_div((size_t)s->n, nb) * per_img);
    }
    snprintf(pl->impl[0], sizeof pl->impl[0], "%s %s transforms + sgemm %s%s", t->name,
             cpu_isa_name(isa), sgemm_impl(), pl->fwd.team ? ", team-shared blocks" : "");
    snprintf(pl->impl[1], sizeof pl->impl[1], "%.100s, %s", pl->impl[0],
             pl->adjoint ? "backward data as the forward's adjoint" : "backward data on padded dy");

    size_t uel, zel = 0;
    pl->ck = (size_t)s->c * s->k;
    pl->es = pl->ck + ESKEW;
    if (!mul3((size_t)pl->a2, pl->es, 1, &uel) ||
        (pl->nt > 1 && !mul3((size_t)pl->a2, pl->es, (size_t)pl->nt - 1, &zel)) ||
        !mul3((size_t)pl->a2, tmax * cmax + ESKEW, 1, &pl->tbuf) ||
        pl->tbuf > SIZE_MAX / sizeof(float) / (size_t)pl->nt) {
        wino_destroy(pl);
        return NULL;
    }
    pl->u = cpu_alloc(uel * sizeof(float));
    pl->z = zel ? cpu_alloc(zel * sizeof(float)) : NULL;
    pl->v = cpu_alloc(pl->tbuf * pl->nt * sizeof(float));
    pl->mbuf = cpu_alloc(pl->tbuf * pl->nt * sizeof(float));
    pl->wt = cpu_alloc((size_t)R * R * pl->es * sizeof(float));
    pl->dsum = cpu_alloc((size_t)pl->nt * s->k * sizeof(float));
    if (!pl->u || (zel && !pl->z) || !pl->v || !pl->mbuf || !pl->wt || !pl->dsum) {
        wino_destroy(pl);
        return NULL;
    }
    return pl;
}

/* winograd's tile for a shape: F(4x4,3x3), or F(3x3,3x3) where its tiles
   fit the output so much better that it needs fewer multiplies (tiles x
   alpha^2): a 3x3 output is one F(3x3) tile, 25 products per (c, k) pair
   instead of F(4x4)'s 36. */
static const wino_tile *tile_for(const conv_shape *s)
{
    const wino_tile *best = &tile_f43;
    size_t best_cost = SIZE_MAX;
    const wino_tile *cands[] = { &tile_f43, &tile_f33 };
    for (int i = 0; i < 2; i++) {
        const size_t m = (size_t)cands[i]->m;
        const size_t cost = ceil_div((size_t)conv_out_h(s), m) *
                            ceil_div((size_t)conv_out_w(s), m) *
                            (size_t)(cands[i]->alpha * cands[i]->alpha);
        if (cost < best_cost) {
            best = cands[i];
            best_cost = cost;
        }
    }
    return best;
}

static conv_plan *wino4_plan(const conv_shape *s)
{
    return unsupported_for(s, "") ? NULL : plan_for(s, tile_for(s));
}
static conv_plan *wino2_plan(const conv_shape *s) { return plan_for(s, &tile_f23); }

static const char *wino_impl(const conv_plan *pl, conv_pass pass)
{
    return pl->impl[pass == CONV_BACKWARD_DATA];
}

/* ---- transforms between tensors and the Winograd domain ----------------- */

/* Sizes (rows x rows in, out x out out) of a transform. */
static int tf_in_size(const conv_plan *pl, tf_kind k)
{
    return k == TF_FILTER ? R : k == TF_DY ? pl->m : pl->alpha;
}
static int tf_out_size(const conv_plan *pl, tf_kind k)
{
    return k == TF_OUTPUT || k == TF_OUTPUT_RELU ? pl->m : k == TF_WGRAD ? R : pl->alpha;
}

/* Which of the one-short patterns (wino_tfs.shrt) clip is: 1-3, or 0 */
static int tf_short(const conv_plan *pl, tf_kind kind, const tf_clip *c)
{
    const int ri = tf_in_size(pl, kind), ro = tf_out_size(pl, kind);
    if (c->i0 || c->j0 || c->o0 || c->p0) return 0;
    int lo, hi, a, b;
    if (kind == TF_INPUT || kind == TF_DY) {
        if (c->o1 != ro || c->p1 != ro) return 0;
        lo = ri - 1, hi = ri, a = c->i1, b = c->j1;
    } else {
        if (c->i1 != ri || c->j1 != ri) return 0;
        lo = ro - 1, hi = ro, a = c->o1, b = c->p1;
    }
    if ((a != lo && a != hi) || (b != lo && b != hi)) return 0;
    return (a == lo) | (b == lo) << 1;
}

/* The function of one transform of VL channels (see tf_fn) for a tile:
   the whole tile's without clip, else a one-short edge's, else the
   general edge function. A tile's callers pick it once for all their
   channel blocks. */
static tf_fn tf_pick(const conv_plan *pl, tf_kind kind, const tf_clip *clip)
{
    if (!clip) return pl->tf->whole[kind];
    const int sh = tf_short(pl, kind, clip);
    return sh ? pl->tf->shrt[sh - 1][kind] : pl->tf->edge[kind];
}

/* One whole-tile transform of VL channels */
static inline void tf_run(const conv_plan *pl, tf_kind kind, const float *x, ptrdiff_t xr,
                          ptrdiff_t xc, float *y, ptrdiff_t yr, ptrdiff_t yc, const float *bias)
{
    pl->tf->whole[kind](x, xr, xc, y, yr, yc, bias, NULL);
}

/* The general case of one transform, through zero-padded staging: lanes
   [0, nv) of input point (i0 + i, j0 + j) are x + i*xr + j*xc + v*xl for
   i < rows, j < cols; the other points are zero. Lanes [0, nv) of output
   point (i, j) go to y + i*yr + j*yc for i < yrows, j < ycols. Bias (nv
   values) may be NULL. */
static void tf_staged(const conv_plan *pl, tf_kind kind, const float *x, ptrdiff_t xr, ptrdiff_t xc,
                      ptrdiff_t xl, int rows, int cols, int i0, int j0, int nv, float *y,
                      ptrdiff_t yr, ptrdiff_t yc, int yrows, int ycols, const float *bias)
{
    const int ri = tf_in_size(pl, kind), ro = tf_out_size(pl, kind);
    float X[ALPHA_MAX * ALPHA_MAX * VL] = { 0 }, Y[ALPHA_MAX * ALPHA_MAX * VL], b[VL] = { 0 };
    for (int i = 0; i < rows; i++)
        for (int j = 0; j < cols; j++)
            for (int v = 0; v < nv; v++)
                X[((i0 + i) * ri + j0 + j) * VL + v] = x[i * xr + j * xc + v * xl];
    if (bias) memcpy(b, bias, sizeof(float) * nv);
    tf_run(pl, kind, X, ri * VL, VL, Y, ro * VL, VL, bias ? b : NULL);
    for (int i = 0; i < yrows; i++)
        for (int j = 0; j < ycols; j++)
            memcpy(y + i * yr + j * yc, Y + (i * ro + j) * VL, sizeof(float) * nv);
}

/* n, tile row, tile column of tile number t */
static void tile_pos(const wino_geom *g, size_t t, int *n, int *ty, int *tx)
{
    size_t per = (size_t)g->th * g->tw;
    *n = (int)(t / per);
    size_t rem = t % per;
    *ty = (int)(rem / g->tw);
    *tx = (int)(rem % g->tw);
}

/* Transforms the ri x ri patch at (y0, x0) of an NHWC image (h x w x ch,
   zero outside) into row `row` of the alpha^2 matrices dst + e*es
   (ld ch): B^T d B for input tiles, A dy A^T for output-gradient tiles. */
static void tile_in(const conv_plan *pl, tf_kind kind, const float *img, int h, int w, int ch,
                    int y0, int x0, float *dst, size_t es, int row)
{
    const int ri = tf_in_size(pl, kind), al = pl->alpha;
    const int inside = y0 >= 0 && x0 >= 0 && y0 + ri <= h && x0 + ri <= w;
    const int i0 = y0 < 0 ? -y0 : 0, j0 = x0 < 0 ? -x0 : 0;
    const int i1 = h - y0 < ri ? h - y0 : ri, j1 = w - x0 < ri ? w - x0 : ri;
    const ptrdiff_t xr = (ptrdiff_t)w * ch, er = (ptrdiff_t)es;
    const tf_clip clip = { i0, i1, j0, j1, 0, al, 0, al };
    const tf_fn f = tf_pick(pl, kind, inside ? NULL : &clip);
    float *d = dst + (size_t)row * ch;
    for (int c0 = 0; c0 < ch; c0 += VL) {
        const int nv = ch - c0 < VL ? ch - c0 : VL;
        if (nv == VL) { /* an edge tile's points outside the image are zeros */
            f(img + ((ptrdiff_t)(y0 + i0) * w + x0 + j0) * ch + c0, xr, ch, d + c0, al * er, er,
              NULL, &clip);
        } else { /* a partial channel block */
            tf_staged(pl, kind, img + ((ptrdiff_t)(y0 + i0) * w + x0 + j0) * ch + c0, xr, ch, 1,
                      i1 - i0, j1 - j0, i0, j0, nv, d + c0, al * er, er, al, al, NULL);
        }
    }
}

/* Input transforms (B^T d B, or A dy A^T for kind TF_DY) of rows [i0, i1)
   of the block of tiles from t0, from `in` as geometry g reads it, into
   the alpha^2 matrices at dst (ch channels). */
static void input_rows(const conv_plan *pl, const wino_geom *g, tf_kind kind, const float *in,
                       int ch, size_t t0, int i0, int i1, float *dst)
{
    for (int i = i0; i < i1; i++) {
        int n, ty, tx;
        tile_pos(g, t0 + i, &n, &ty, &tx);
        if (kind == TF_DY) /* an output tile of dy: geometry g's output image */
            tile_in(pl, TF_DY, in + (size_t)n * g->ho * g->wo * ch, g->ho, g->wo, ch, ty * pl->m,
                    tx * pl->m, dst, mat_stride(g, ch), i);
        else
            tile_in(pl, TF_INPUT, in + (size_t)n * g->hi * g->wi * ch, g->hi, g->wi, ch,
                    ty * pl->m - g->pt, tx * pl->m - g->pl, dst, mat_stride(g, ch), i);
    }
}

/* Output transforms A^T M A (+ bias) of rows [i0, i1) of a block into
   out, clipped; with relu, each tile is clamped at 0 while it is in L1. */
static void output_rows(const conv_plan *pl, const wino_geom *g, const float *M, size_t t0, int i0,
                        int i1, const float *bias, int relu, float *out)
{
    const int m = pl->m, al = pl->alpha, co = g->co;
    const ptrdiff_t er = (ptrdiff_t)mat_stride(g, co), yr = (ptrdiff_t)g->wo * co;
    const tf_kind kind = relu ? TF_OUTPUT_RELU : TF_OUTPUT;
    for (int i = i0; i < i1; i++) {
        int n, ty, tx;
        tile_pos(g, t0 + i, &n, &ty, &tx);
        const int rows = g->ho - ty * m < m ? g->ho - ty * m : m;
        const int cols = g->wo - tx * m < m ? g->wo - tx * m : m;
        const tf_clip clip = { 0, al, 0, al, 0, rows, 0, cols };
        const tf_fn f = tf_pick(pl, kind, rows == m && cols == m ? NULL : &clip);
        float *img =
            out + ((size_t)n * g->ho * g->wo + (size_t)ty * m * g->wo + (size_t)tx * m) * co;
        const float *src = M + (size_t)i * co;
        for (int k0 = 0; k0 < co; k0 += VL) {
            const int nv = co - k0 < VL ? co - k0 : VL;
            const float *b = bias ? bias + k0 : NULL;
            if (nv == VL)
                f(src + k0, al * er, er, img + k0, yr, co, b, &clip);
            else
                tf_staged(pl, kind, src + k0, al * er, er, 1, al, al, 0, 0, nv, img + k0, yr, co,
                          rows, cols, b);
        }
    }
}

/* B X B^T of rows [i0, i1) of a block, added into dx (the adjoint's store). */
static void adjoint_rows(const conv_plan *pl, const float *X, size_t t0, int i0, int i1, float *dx)
{
    const conv_shape *s = &pl->s;
    const wino_geom *g = &pl->fwd;
    const int C = s->c, m = pl->m, al = pl->alpha;
    const size_t img = (size_t)s->h * s->w * C;
    const ptrdiff_t xs = (ptrdiff_t)mat_stride(g, C), xr = (ptrdiff_t)s->w * C;
    for (int i = i0; i < i1; i++) {
        int n, ty, tx;
        tile_pos(g, t0 + i, &n, &ty, &tx);
        const int y0 = ty * m - g->pt, x0 = tx * m - g->pl;
        const int r0 = y0 < 0 ? -y0 : 0, c0l = x0 < 0 ? -x0 : 0;
        const int r1 = s->h - y0 < al ? s->h - y0 : al;
        const int c1l = s->w - x0 < al ? s->w - x0 : al;
        /* an image's first tile clears it: its dx is then in L1 for the rest */
        if (ty == 0 && tx == 0) memset(dx + (size_t)n * img, 0, sizeof(float) * img);
        /* dx at the tile's first point inside the image */
        float *out = dx + (size_t)n * img + ((ptrdiff_t)(y0 + r0) * s->w + x0 + c0l) * C;
        const int whole = r0 == 0 && c0l == 0 && r1 == al && c1l == al;
        const tf_clip clip = { 0, al, 0, al, r0, r1, c0l, c1l };
        const tf_fn f = tf_pick(pl, TF_INPUT_T_ADD, whole ? NULL : &clip);
        for (int c0 = 0; c0 < C; c0 += VL) {
            const int nv = C - c0 < VL ? C - c0 : VL;
            const float *src = X + (size_t)i * C + c0;
            if (nv == VL) {
                f(src, al * xs, xs, out + c0, xr, C, NULL, &clip);
                continue;
            }
            float Y[ALPHA_MAX * ALPHA_MAX * VL];
            tf_staged(pl, TF_INPUT_T, src, al * xs, xs, 1, al, al, 0, 0, nv, Y, al * VL, VL, al, al,
                      NULL);
            for (int y = r0; y < r1; y++)
                for (int x = c0l; x < c1l; x++)
                    for (int l = 0; l < nv; l++)
                        out[(y - r0) * xr + (x - c0l) * C + c0 + l] += Y[(y * al + x) * VL + l];
        }
    }
}

/* U = G g G^T for every (c, k) pair: U[e][c][k] for forward (vectors along
   k, contiguous in HWIO); U[e][k][c] for backward_data (vectors along c,
   gathered with stride K), of the filter rotated by 180 degrees when dx is
   the forward convolution of the padded dy, as it is for the adjoint; so
   every pass multiplies by U[e] untransposed. */
typedef enum { U_CK, U_KC_ROTATED, U_KC } u_layout;

/* Called by every thread of a team (its loops are shared out), which
   meets at a barrier at the end. */
static void filter_transform(const conv_plan *pl, const float *w, u_layout lay)
{
    const int C = pl->s.c, K = pl->s.k, al = pl->alpha;
    const ptrdiff_t ck = (ptrdiff_t)pl->ck, es = (ptrdiff_t)pl->es;
    const int rows = lay == U_CK ? C : K, cols = lay == U_CK ? K : C;
    /* the K x C layouts transform vectors along c: from a copy of w with
       c contiguous, wt[tap][k][c] (tap rotated for U_KC_ROTATED) */
    const float *src = lay == U_CK ? w : pl->wt;
    const ptrdiff_t ts = lay == U_CK ? ck : es; /* between taps */
    if (lay != U_CK) {
#pragma omp for schedule(static)
        for (int tap = 0; tap < R * R; tap++)
            transpose_floats(w + (lay == U_KC_ROTATED ? R * R - 1 - tap : tap) * ck, K, C, K,
                             pl->wt + (size_t)tap * es, C);
    }
#pragma omp for schedule(static)
    for (int r = 0; r < rows; r++)
        for (int c0 = 0; c0 < cols; c0 += VL) {
            const int nv = cols - c0 < VL ? cols - c0 : VL;
            const float *x = src + (size_t)r * cols + c0;
            float *d = pl->u + (size_t)r * cols + c0;
            if (nv == VL)
                tf_run(pl, TF_FILTER, x, R * ts, ts, d, al * es, es, NULL);
            else
                tf_staged(pl, TF_FILTER, x, R * ts, ts, 1, R, R, 0, 0, nv, d, al * es, es, al, al,
                          NULL);
        }
}

/* The three passes as one loop over blocks of tiles. A block is: input
   transforms into A (and B), the alpha^2 products, output transforms from
   B. Each thread takes whole blocks with its own A, B and partial Z; or,
   in team mode (geometry's team), the team shares every block in A and B
   of all threads: transforms split by tile (the adjoint's stores by
   image), products by e, with barriers between the phases. */
typedef enum { PASS_FORWARD, PASS_ADJOINT, PASS_WEIGHTS } tile_pass;

typedef struct {
    tile_pass pass;
    const wino_geom *g;
    const float *in, *dy, *bias;
    int relu;
    float *out;
    const float *w;    /* the filter, transformed first into U ... */
    u_layout lay;      /* ... in this layout (not for PASS_WEIGHTS) */
    float *dw, *dbias; /* PASS_WEIGHTS: dw = G^T Z G at the end; dbias */
} tile_job;

static void weights_epilogue(const conv_plan *pl, const tile_job *j);

/* Rows [i0, i1) of a block's input transforms; for backward_weights with
   dsum, their share of dbias added in: row i of W[e_sum] is the sum of
   tile i's dy (zero beyond the output, so the tiles count each dy once),
   read while the block is in cache instead of a pass over all of dy. */
static void job_load(const conv_plan *pl, const tile_job *j, size_t t0, int i0, int i1, float *A,
                     float *B, float *dsum)
{
    const wino_geom *g = j->g;
    const int K = pl->s.k;
    if (j->pass == PASS_ADJOINT) {
        input_rows(pl, g, TF_DY, j->in, K, t0, i0, i1, A);
        return;
    }
    input_rows(pl, g, TF_INPUT, j->in, g->ci, t0, i0, i1, A);
    if (j->pass != PASS_WEIGHTS) return;
    input_rows(pl, g, TF_DY, j->dy, K, t0, i0, i1, B);
    if (dsum) {
        const float *w = B + (size_t)pl->e_sum * mat_stride(g, K);
        for (int i = i0; i < i1; i++)
            for (int k = 0; k < K; k++) dsum[k] += w[(size_t)i * K + k];
    }
}

/* product e of a block of nb tiles; Z: backward_weights' sum, set when first */
static void job_product(const conv_plan *pl, const tile_job *j, int nb, int e, const float *A,
                        float *B, float *Z, int first)
{
    const wino_geom *g = j->g;
    const int C = pl->s.c, K = pl->s.k;
    switch (j->pass) {
    case PASS_FORWARD: /* M[e] (tiles x co) = V[e] (tiles x ci) . U[e] (ci x co) */
        sgemm(GEMM_NOTRANS, GEMM_NOTRANS, nb, g->co, g->ci, 1.0f, A + e * mat_stride(g, g->ci),
              g->ci, pl->u + e * pl->es, g->co, 0.0f, B + e * mat_stride(g, g->co), g->co);
        break;
    case PASS_ADJOINT: /* X[e] (tiles x C) = W[e] (tiles x K) . U[e] (K x C) */
        sgemm(GEMM_NOTRANS, GEMM_NOTRANS, nb, C, K, 1.0f, A + e * mat_stride(g, K), K,
              pl->u + e * pl->es, C, 0.0f, B + e * mat_stride(g, C), C);
        break;
    case PASS_WEIGHTS: /* Z[e] (C x K) += V[e]^T (C x tiles) . W[e] (tiles x K) */
        sgemm(GEMM_TRANS, GEMM_NOTRANS, C, K, nb, 1.0f, A + e * mat_stride(g, C), C,
              B + e * mat_stride(g, K), K, first ? 0.0f : 1.0f, Z + e * pl->es, K);
        break;
    }
}

static void job_store(const conv_plan *pl, const tile_job *j, size_t t0, int i0, int i1,
                      const float *B)
{
    if (j->pass == PASS_FORWARD)
        output_rows(pl, j->g, B, t0, i0, i1, j->bias, j->relu, j->out);
    else if (j->pass == PASS_ADJOINT)
        adjoint_rows(pl, B, t0, i0, i1, j->out);
}

/* Thread t's share of [0, n), t of nth */
static int share_lo(int n, int t, int nth) { return (int)((long long)n * t / nth); }

/* Tiles in block b of geometry g (the last block may be short) */
static int block_tiles(const wino_geom *g, size_t b)
{
    const size_t t0 = b * g->tb;
    return g->ntiles - t0 < (size_t)g->tb ? (int)(g->ntiles - t0) : g->tb;
}

/* Team mode's share of a block's stores: rows split evenly, or for the
   adjoint by whole images (tiles of one image overlap in dx). */
static void store_share(const conv_plan *pl, const tile_job *j, size_t t0, int nb, int tid, int nth,
                        int *i0, int *i1)
{
    if (j->pass != PASS_ADJOINT) {
        *i0 = share_lo(nb, tid, nth);
        *i1 = share_lo(nb, tid + 1, nth);
        return;
    }
    const size_t per = (size_t)j->g->th * j->g->tw;
    const size_t na = t0 / per, nz = (t0 + (size_t)nb - 1) / per + 1, cnt = nz - na;
    const size_t a = (na + cnt * tid / nth) * per, z = (na + cnt * (tid + 1) / nth) * per;
    *i0 = (int)((a > t0 ? a : t0) - t0);
    *i1 = (int)((z < t0 + nb ? z : t0 + nb) - t0);
    if (*i1 < *i0) *i1 = *i0;
}

static void run_tiles(conv_plan *pl, const tile_job *j)
{
    const wino_geom *g = j->g;
    const size_t nblocks = ceil_div(g->ntiles, (size_t)g->tb);
    const size_t zsize = (size_t)pl->a2 * pl->es;
#pragma omp parallel num_threads(pl->nt)
    {
        const int tid = omp_get_thread_num(), nth = omp_get_num_threads();
        float *dsum = j->pass == PASS_WEIGHTS && j->dbias ? pl->dsum + (size_t)tid * pl->s.k : NULL;
        if (dsum) memset(dsum, 0, sizeof(float) * pl->s.k);
        if (j->pass != PASS_WEIGHTS) filter_transform(pl, j->w, j->lay);
        if (g->team) {
            for (size_t b = 0; b < nblocks; b++) {
                const size_t t0 = b * g->tb;
                const int nb = block_tiles(g, b);
                job_load(pl, j, t0, share_lo(nb, tid, nth), share_lo(nb, tid + 1, nth), pl->v,
                         pl->mbuf, dsum);
#pragma omp barrier
#pragma omp for schedule(static)
                for (int e = 0; e < pl->a2; e++)
                    job_product(pl, j, nb, e, pl->v, pl->mbuf, pl->u, b == 0);
                if (j->pass != PASS_WEIGHTS) {
                    int i0, i1;
                    store_share(pl, j, t0, nb, tid, nth, &i0, &i1);
                    job_store(pl, j, t0, i0, i1, pl->mbuf);
#pragma omp barrier
                }
            }
        } else {
            float *A = pl->v + (size_t)tid * pl->tbuf, *B = pl->mbuf + (size_t)tid * pl->tbuf;
            float *Z = tid == 0 ? pl->u : pl->z + (size_t)(tid - 1) * zsize;
            int first = 1;
#pragma omp for schedule(static)
            for (size_t b = 0; b < nblocks; b++) {
                const size_t t0 = b * g->tb;
                const int nb = block_tiles(g, b);
                job_load(pl, j, t0, 0, nb, A, B, dsum);
                for (int e = 0; e < pl->a2; e++) job_product(pl, j, nb, e, A, B, Z, first);
                job_store(pl, j, t0, 0, nb, B);
                first = 0;
            }
            if (j->pass == PASS_WEIGHTS) {
                if (first) memset(Z, 0, sizeof(float) * zsize);
#pragma omp barrier
                if (nth > 1) { /* Z of thread 0 += the others' */
#pragma omp for schedule(static)
                    for (size_t row = 0; row < (size_t)pl->a2 * pl->s.c; row++)
                        for (int t = 1; t < nth; t++) {
                            const size_t off = row / pl->s.c * pl->es + row % pl->s.c * pl->s.k;
                            const float *zs = pl->z + (size_t)(t - 1) * zsize + off;
                            float *zd = pl->u + off;
                            for (int k = 0; k < pl->s.k; k++) zd[k] += zs[k];
                        }
                }
            }
        }
        if (j->pass == PASS_WEIGHTS) weights_epilogue(pl, j); /* Z complete: after a barrier */
    }
}

/* backward_weights' end, by every thread of the team: dw = G^T Z G and
   dbias from the threads' sums (job_load). */
static void weights_epilogue(const conv_plan *pl, const tile_job *j)
{
    const conv_shape s = pl->s;
    const int C = s.c, K = s.k, al = pl->alpha;
    const size_t ck = pl->ck;
    float *dw = j->dw, *dbias = j->dbias;
    /* dw = G^T Z G */
    const ptrdiff_t cs = (ptrdiff_t)ck, es = (ptrdiff_t)pl->es;
#pragma omp for schedule(static)
    for (int c = 0; c < C; c++)
        for (int k0 = 0; k0 < K; k0 += VL) {
            const int nv = K - k0 < VL ? K - k0 : VL;
            const size_t off = (size_t)c * K + k0;
            if (nv == VL)
                tf_run(pl, TF_WGRAD, pl->u + off, al * es, es, dw + off, R * cs, cs, NULL);
            else
                tf_staged(pl, TF_WGRAD, pl->u + off, al * es, es, 1, al, al, 0, 0, nv, dw + off,
                          R * cs, cs, R, R, NULL);
        }
    if (dbias) { /* the threads' shares, in thread order */
        const int nth = omp_get_num_threads();
#pragma omp for schedule(static)
        for (int k = 0; k < K; k++) {
            float sum = 0.0f;
            for (int t = 0; t < nth; t++) sum += pl->dsum[(size_t)t * K + k];
            dbias[k] = sum;
        }
    }
}

static void wino_forward(conv_plan *pl, const float *x, const float *w, const float *bias, float *y)
{
    const tile_job j = { PASS_FORWARD, &pl->fwd, x, NULL, bias, 0, y, w, U_CK, NULL, NULL };
    run_tiles(pl, &j);
}

static void wino_forward_relu(conv_plan *pl, const float *x, const float *w, const float *bias,
                              float *y)
{
    const tile_job j = { PASS_FORWARD, &pl->fwd, x, NULL, bias, 1, y, w, U_CK, NULL, NULL };
    run_tiles(pl, &j);
}

static void wino_backward_data(conv_plan *pl, const float *dy, const float *w, float *dx)
{
    const tile_job j = { pl->adjoint ? PASS_ADJOINT : PASS_FORWARD,
                         pl->adjoint ? &pl->fwd : &pl->bwd,
                         dy,
                         NULL,
                         NULL,
                         0,
                         dx,
                         w,
                         pl->adjoint ? U_KC : U_KC_ROTATED,
                         NULL,
                         NULL };
    run_tiles(pl, &j);
}

static void wino_backward_weights(conv_plan *pl, const float *x, const float *dy, float *dw,
                                  float *dbias)
{
    const tile_job j = { PASS_WEIGHTS, &pl->fwd, x, dy, NULL, 0, NULL, NULL, U_CK, dw, dbias };
    run_tiles(pl, &j); /* Z (in u) = the sum over tiles, then dw and dbias */
}

const conv_backend conv_winograd = {
    .name = "winograd",
    .unsupported = wino4_unsupported,
    .plan = wino4_plan,
    .forward = wino_forward,
    .backward_data = wino_backward_data,
    .backward_weights = wino_backward_weights,
    .destroy = wino_destroy,
    .impl = wino_impl,
    .forward_relu = wino_forward_relu,
};

const conv_backend conv_winograd2 = {
    .name = "winograd2",
    .unsupported = wino2_unsupported,
    .plan = wino2_plan,
    .forward = wino_forward,
    .backward_data = wino_backward_data,
    .backward_weights = wino_backward_weights,
    .destroy = wino_destroy,
    .impl = wino_impl,
    .forward_relu = wino_forward_relu,
};
