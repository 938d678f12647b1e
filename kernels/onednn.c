/* onednn, onednn-winograd: Intel oneDNN's convolutions behind the contract,
   so every table has the vendor library beside our kernels, measured in the
   same process.

   Algorithm: oneDNN's own. `onednn` asks for dnnl_convolution_direct (not
   convolution_auto, which in 2.6 picks its Winograd for small layers where
   that is up to 10x slower); `onednn-winograd` asks for
   dnnl_convolution_winograd and refuses, with oneDNN's status, any shape on
   which the library lacks it for one of the three passes (the contract needs
   all three; no silent fallback to direct).

   Every shape conv.h can express maps onto oneDNN's own descriptor: groups
   as 5-D weights (g, K/g, C/g, R, S) whose user layout, conv.h's, is
   oneDNN's hwigo; strides per axis; dilation as oneDNN counts it (d - 1,
   0 dense); padding_l = (top, left), padding_r = (bottom, right).

   Plan: for each pass, three layout variants are built and timed on scratch
   data (one warm-up each, then up to three interleaved rounds, best run;
   rounds stop once 0.3 s have been spent) and the fastest is kept:
     any   src/weights/dst with format_tag any: oneDNN picks its favourite
           (usually blocked nChw16c), reorders from/to the caller's NHWC/HWIO
           buffers run inside every pass, so the user pays them;
     nhwc  activations fixed to NHWC (oneDNN's NHWC-native kernels, e.g.
           brgconv), weights still any (reordered from HWIO every pass, since
           weights change every step);
     plain every tensor in the caller's layout, no reorder at all (oneDNN
           takes its im2col + GEMM path, gemm:jit, for these).
   Variants that resolve to the same implementation and layouts are built
   once. impl() gives oneDNN's implementation string and the variant kept,
   with the layouts that needed reorders.

   Cost: oneDNN's kernel (2*N*K*C*R*S*P*Q flops for direct) plus the reorders:
   O(NHWC + NPQK + RSCK) memory traffic per pass. All buffers, primitives and
   scratchpads (user-managed, so nothing is allocated inside a pass) are made
   at plan time. bias == NULL runs with a plan-owned zero bias, dbias == NULL
   writes to a plan-owned scratch vector. forward_relu runs a second forward
   primitive, of the kept variant, with oneDNN's ReLU post-op (an eltwise
   applied in the convolution's epilogue).

   Threads: oneDNN is built on OpenMP and links the same libgomp as this
   library, so one thread pool serves both; it reads omp_get_max_threads()
   when a primitive is created, i.e. at plan time. CONVBENCH_ISA is not
   honoured: oneDNN picks its own ISA (its ONEDNN_MAX_CPU_ISA variable caps
   it). One engine and one CPU stream (in-order, stateless on CPU) serve every
   plan; they are created once, thread-safely, and kept for the process. */
#include <dnnl.h>
#include <dnnl_debug.h>
#include <math.h>
#include <omp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cpu.h"
#include "shape.h"

enum { VAR_ANY, VAR_NHWC, VAR_PLAIN, NVAR };
static const char *const var_name[NVAR] = { "any", "nhwc", "plain" };
enum { MAX_ARGS = 4, MAX_STEPS = MAX_ARGS + 1 };

/* The four tensors, their user layouts and how each pass uses them. */
typedef enum { T_X, T_W, T_B, T_Y } tensor;
typedef struct {
    int arg;
    tensor t;
    int out;
} arg_spec;
static const arg_spec specs[3][MAX_ARGS] = {
    { { DNNL_ARG_SRC, T_X, 0 },
      { DNNL_ARG_WEIGHTS, T_W, 0 },
      { DNNL_ARG_BIAS, T_B, 0 },
      { DNNL_ARG_DST, T_Y, 1 } },
    { { DNNL_ARG_DIFF_DST, T_Y, 0 }, { DNNL_ARG_WEIGHTS, T_W, 0 }, { DNNL_ARG_DIFF_SRC, T_X, 1 } },
    { { DNNL_ARG_SRC, T_X, 0 },
      { DNNL_ARG_DIFF_DST, T_Y, 0 },
      { DNNL_ARG_DIFF_WEIGHTS, T_W, 1 },
      { DNNL_ARG_DIFF_BIAS, T_B, 1 } },
};
static const int nspecs[3] = { 4, 3, 4 };
static const char tensor_name[] = { 'x', 'w', 'b', 'y' };

/* ---- the shared engine and stream ---- */

static dnnl_engine_t engine;
static dnnl_stream_t stream;
static dnnl_status_t engine_status = dnnl_runtime_error;
static pthread_once_t engine_once = PTHREAD_ONCE_INIT;

static void engine_init(void)
{
    engine_status = dnnl_engine_create(&engine, dnnl_cpu, 0);
    if (engine_status != dnnl_success) return;
    engine_status = dnnl_stream_create(&stream, engine, dnnl_stream_default_flags);
    if (engine_status != dnnl_success) {
        dnnl_engine_destroy(engine);
        engine = NULL;
    }
}

static dnnl_status_t engine_get(void)
{
    pthread_once(&engine_once, engine_init);
    return engine_status;
}

/* ---- descriptors ---- */

static dnnl_status_t md_make(dnnl_memory_desc_t *md, const conv_shape *s, tensor t,
                             dnnl_format_tag_t tag)
{
    const dnnl_dim_t p = conv_out_h(s), q = conv_out_w(s);
    switch (t) {
    case T_X:
        return dnnl_memory_desc_init_by_tag(md, 4, (dnnl_dims_t){ s->n, s->c, s->h, s->w },
                                            dnnl_f32, tag);
    case T_W: {
        const int g = conv_geometry(s).g;
        if (g == 1)
            return dnnl_memory_desc_init_by_tag(md, 4, (dnnl_dims_t){ s->k, s->c, s->r, s->s },
                                                dnnl_f32, tag);
        /* grouped: dims (g, K/g, C/g, R, S); conv.h's layout is hwigo */
        return dnnl_memory_desc_init_by_tag(md, 5,
                                            (dnnl_dims_t){ g, s->k / g, s->c / g, s->r, s->s },
                                            dnnl_f32, tag == dnnl_hwio ? dnnl_hwigo : tag);
    }
    case T_B: return dnnl_memory_desc_init_by_tag(md, 1, (dnnl_dims_t){ s->k }, dnnl_f32, dnnl_a);
    default:
        return dnnl_memory_desc_init_by_tag(md, 4, (dnnl_dims_t){ s->n, s->k, p, q }, dnnl_f32,
                                            tag);
    }
}

/* The caller's layout of a tensor: NHWC activations, HWIO weights. */
static dnnl_status_t md_user(dnnl_memory_desc_t *md, const conv_shape *s, tensor t)
{
    return md_make(md, s, t, t == T_W ? dnnl_hwio : dnnl_nhwc);
}

static size_t tensor_elems(const conv_shape *s, tensor t)
{
    switch (t) {
    case T_X: return conv_x_elems(s);
    case T_W: return conv_w_elems(s);
    case T_B: return (size_t)s->k;
    default: return conv_y_elems(s);
    }
}

/* Every primitive (convolutions and reorders) takes its scratchpad from
   memory made at plan time; relu adds a ReLU post-op (forward_relu). */
static dnnl_status_t attr_make_relu(dnnl_primitive_attr_t *attr, int relu)
{
    dnnl_status_t st = dnnl_primitive_attr_create(attr);
    if (st != dnnl_success) return st;
    st = dnnl_primitive_attr_set_scratchpad_mode(*attr, dnnl_scratchpad_mode_user);
    if (st == dnnl_success && relu) {
        dnnl_post_ops_t po;
        if ((st = dnnl_post_ops_create(&po)) == dnnl_success) {
            st = dnnl_post_ops_append_eltwise(po, 1.0f, dnnl_eltwise_relu, 0.0f, 0.0f);
            if (st == dnnl_success) st = dnnl_primitive_attr_set_post_ops(*attr, po);
            dnnl_post_ops_destroy(po);
        }
    }
    if (st != dnnl_success) dnnl_primitive_attr_destroy(*attr);
    return st;
}

static dnnl_status_t attr_make(dnnl_primitive_attr_t *attr) { return attr_make_relu(attr, 0); }

/* The primitive descriptor of one pass in one layout variant; backward
   passes need the forward descriptor of the same variant as a hint. relu:
   the forward with a ReLU post-op. */
static dnnl_status_t pd_make_relu(dnnl_primitive_desc_t *pd, const conv_shape *s, conv_pass pass,
                                  dnnl_alg_kind_t alg, int var, const_dnnl_primitive_desc_t hint,
                                  int relu)
{
    dnnl_format_tag_t act = var == VAR_ANY ? dnnl_format_tag_any : dnnl_nhwc;
    dnnl_format_tag_t wei = var == VAR_PLAIN ? dnnl_hwio : dnnl_format_tag_any;
    dnnl_memory_desc_t x, w, b, y;
    dnnl_status_t st;
    if ((st = md_make(&x, s, T_X, act)) != dnnl_success ||
        (st = md_make(&w, s, T_W, wei)) != dnnl_success ||
        (st = md_make(&b, s, T_B, dnnl_a)) != dnnl_success ||
        (st = md_make(&y, s, T_Y, act)) != dnnl_success)
        return st;
    /* oneDNN's dilation counts the skipped pixels: dense is 0 */
    const conv_geom g = conv_geometry(s);
    const dnnl_dims_t strides = { g.sh, g.sw }, dil = { g.dh - 1, g.dw - 1 },
                      pad_l = { g.pt, g.pl }, pad_r = { g.pb, g.pr };
    dnnl_convolution_desc_t d;
    switch (pass) {
    case CONV_FORWARD:
        st = dnnl_dilated_convolution_forward_desc_init(&d, dnnl_forward_training, alg, &x, &w, &b,
                                                        &y, strides, dil, pad_l, pad_r);
        break;
    case CONV_BACKWARD_DATA:
        st = dnnl_dilated_convolution_backward_data_desc_init(&d, alg, &x, &w, &y, strides, dil,
                                                              pad_l, pad_r);
        break;
    default:
        st = dnnl_dilated_convolution_backward_weights_desc_init(&d, alg, &x, &w, &b, &y, strides,
                                                                 dil, pad_l, pad_r);
        break;
    }
    if (st != dnnl_success) return st;
    dnnl_primitive_attr_t attr;
    if ((st = attr_make_relu(&attr, relu)) != dnnl_success) return st;
    st = dnnl_primitive_desc_create(pd, &d, attr, engine, hint);
    dnnl_primitive_attr_destroy(attr);
    return st;
}

static dnnl_status_t pd_make(dnnl_primitive_desc_t *pd, const conv_shape *s, conv_pass pass,
                             dnnl_alg_kind_t alg, int var, const_dnnl_primitive_desc_t hint)
{
    return pd_make_relu(pd, s, pass, alg, var, hint, 0);
}

/* The forward descriptors (hints) of both variants; NULL where oneDNN has
   none. Returns the status of the last failure. */
static dnnl_status_t fwd_pds(dnnl_primitive_desc_t fwd[NVAR], const conv_shape *s,
                             dnnl_alg_kind_t alg)
{
    dnnl_status_t last = dnnl_success;
    for (int v = 0; v < NVAR; v++) {
        dnnl_status_t st = pd_make(&fwd[v], s, CONV_FORWARD, alg, v, NULL);
        if (st != dnnl_success) {
            fwd[v] = NULL;
            last = st;
        }
    }
    return last;
}

static int some(dnnl_primitive_desc_t pd[NVAR])
{
    for (int var = 0; var < NVAR; var++)
        if (pd[var]) return 1;
    return 0;
}

static void pds_destroy(dnnl_primitive_desc_t *pd, int n)
{
    for (int i = 0; i < n; i++)
        if (pd[i]) dnnl_primitive_desc_destroy(pd[i]);
}

static const char *impl_str(const_dnnl_primitive_desc_t pd)
{
    const char *str = NULL;
    if (dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &str) != dnnl_success || !str)
        return "oneDNN (unknown implementation)";
    return str;
}

/* oneDNN's name of a blocked layout, e.g. "aBcd16b" (nChw16c): dimensions
   outermost first, upper case where blocked, then the inner blocks. */
static void layout_name(const dnnl_memory_desc_t *md, char *buf, size_t len)
{
    if (md->format_kind != dnnl_blocked) {
        snprintf(buf, len, "%s", dnnl_fmt_kind2str(md->format_kind));
        return;
    }
    const dnnl_blocking_desc_t *bd = &md->format_desc.blocking;
    int order[DNNL_MAX_NDIMS], nd = md->ndims;
    for (int i = 0; i < nd; i++) order[i] = i;
    for (int i = 1; i < nd; i++) /* stable insertion sort, largest stride first */
        for (int j = i; j > 0 && bd->strides[order[j]] > bd->strides[order[j - 1]]; j--) {
            int t = order[j];
            order[j] = order[j - 1];
            order[j - 1] = t;
        }
    size_t used = 0;
    for (int i = 0; i < nd && used + 1 < len; i++) {
        int blocked = 0;
        for (int b = 0; b < bd->inner_nblks; b++) blocked |= bd->inner_idxs[b] == order[i];
        buf[used++] = (char)((blocked ? 'A' : 'a') + order[i]);
    }
    buf[used] = 0;
    for (int b = 0; b < bd->inner_nblks && used < len; b++)
        used += (size_t)snprintf(buf + used, len - used, "%d%c", (int)bd->inner_blks[b],
                                 'a' + (int)bd->inner_idxs[b]);
}

/* ---- one pass, ready to run: reorders in, convolution, reorders out ---- */

typedef struct {
    dnnl_primitive_t prim;
    dnnl_memory_t scratch; /* NULL if the primitive needs none */
    dnnl_exec_arg_t args[MAX_ARGS + 1];
    int nargs;
} step;

typedef struct {
    step st[MAX_STEPS];
    int nst;
    dnnl_memory_t user[MAX_ARGS]; /* views of the caller's buffers */
    dnnl_memory_t own[MAX_ARGS];  /* oneDNN's layout, NULL if the same */
    char impl[256];
} pass_exec;

static void exec_destroy(pass_exec *e)
{
    for (int i = 0; i < e->nst; i++) {
        if (e->st[i].prim) dnnl_primitive_destroy(e->st[i].prim);
        if (e->st[i].scratch) dnnl_memory_destroy(e->st[i].scratch);
    }
    for (int i = 0; i < MAX_ARGS; i++) {
        if (e->user[i]) dnnl_memory_destroy(e->user[i]);
        if (e->own[i]) dnnl_memory_destroy(e->own[i]);
    }
    memset(e, 0, sizeof *e);
}

/* Appends the primitive of pd with its scratchpad; args are added by the
   caller. */
static dnnl_status_t step_add(pass_exec *e, const_dnnl_primitive_desc_t pd, step **out)
{
    step *s = &e->st[e->nst];
    memset(s, 0, sizeof *s);
    dnnl_status_t st = dnnl_primitive_create(&s->prim, pd);
    if (st != dnnl_success) return st;
    e->nst++;
    const dnnl_memory_desc_t *smd = dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0);
    if (smd && dnnl_memory_desc_get_size(smd) > 0) {
        if ((st = dnnl_memory_create(&s->scratch, smd, engine, DNNL_MEMORY_ALLOCATE)) !=
            dnnl_success)
            return st;
        s->args[s->nargs++] = (dnnl_exec_arg_t){ DNNL_ARG_SCRATCHPAD, s->scratch };
    }
    *out = s;
    return dnnl_success;
}

static dnnl_status_t reorder_add(pass_exec *e, dnnl_memory_t from, dnnl_memory_t to)
{
    const dnnl_memory_desc_t *fmd, *tmd;
    dnnl_status_t st;
    if ((st = dnnl_memory_get_memory_desc(from, &fmd)) != dnnl_success ||
        (st = dnnl_memory_get_memory_desc(to, &tmd)) != dnnl_success)
        return st;
    dnnl_primitive_attr_t attr;
    if ((st = attr_make(&attr)) != dnnl_success) return st;
    dnnl_primitive_desc_t pd;
    st = dnnl_reorder_primitive_desc_create(&pd, fmd, engine, tmd, engine, attr);
    dnnl_primitive_attr_destroy(attr);
    if (st != dnnl_success) return st;
    step *s;
    st = step_add(e, pd, &s);
    dnnl_primitive_desc_destroy(pd);
    if (st != dnnl_success) return st;
    s->args[s->nargs++] = (dnnl_exec_arg_t){ DNNL_ARG_FROM, from };
    s->args[s->nargs++] = (dnnl_exec_arg_t){ DNNL_ARG_TO, to };
    return dnnl_success;
}

/* Builds the primitives of one pass from its descriptor; var names the
   layout variant in the impl string. */
static dnnl_status_t exec_build(pass_exec *e, const conv_shape *s, conv_pass pass,
                                const_dnnl_primitive_desc_t pd, int var)
{
    memset(e, 0, sizeof *e);
    const arg_spec *sp = specs[pass];
    dnnl_status_t st;
    char reorders[160] = "";
    size_t rl = 0;
    for (int i = 0; i < nspecs[pass]; i++) {
        dnnl_memory_desc_t umd;
        if ((st = md_user(&umd, s, sp[i].t)) != dnnl_success ||
            (st = dnnl_memory_create(&e->user[i], &umd, engine, DNNL_MEMORY_NONE)) != dnnl_success)
            return st;
        const dnnl_memory_desc_t *pmd =
            dnnl_primitive_desc_query_md(pd, dnnl_query_exec_arg_md, sp[i].arg);
        if (!pmd || pmd->ndims == 0) return dnnl_invalid_arguments;
        if (dnnl_memory_desc_equal(pmd, &umd)) continue;
        if ((st = dnnl_memory_create(&e->own[i], pmd, engine, DNNL_MEMORY_ALLOCATE)) !=
            dnnl_success)
            return st;
        char lay[48];
        layout_name(pmd, lay, sizeof lay);
        if (rl < sizeof reorders)
            rl += (size_t)snprintf(reorders + rl, sizeof reorders - rl, " %c:%s",
                                   tensor_name[sp[i].t], lay);
        if (!sp[i].out && (st = reorder_add(e, e->user[i], e->own[i])) != dnnl_success) return st;
    }
    step *conv;
    if ((st = step_add(e, pd, &conv)) != dnnl_success) return st;
    for (int i = 0; i < nspecs[pass]; i++)
        conv->args[conv->nargs++] =
            (dnnl_exec_arg_t){ sp[i].arg, e->own[i] ? e->own[i] : e->user[i] };
    for (int i = 0; i < nspecs[pass]; i++)
        if (sp[i].out && e->own[i] && (st = reorder_add(e, e->own[i], e->user[i])) != dnnl_success)
            return st;
    snprintf(e->impl, sizeof e->impl, "%s [%s layouts;%s]", impl_str(pd), var_name[var],
             rl ? reorders : " no reorders");
    return dnnl_success;
}

static dnnl_status_t exec_run(pass_exec *e, int nptr, void *const *ptr)
{
    dnnl_status_t st;
    for (int i = 0; i < nptr; i++)
        if ((st = dnnl_memory_set_data_handle(e->user[i], ptr[i])) != dnnl_success) return st;
    for (int i = 0; i < e->nst; i++)
        if ((st = dnnl_primitive_execute(e->st[i].prim, stream, e->st[i].nargs, e->st[i].args)) !=
            dnnl_success)
            return st;
    return dnnl_stream_wait(stream);
}

/* Best seconds per run of each built candidate on scratch data: one
   warm-up each, then up to three rounds in which every candidate runs once
   (interleaved, so a load change on a shared machine hits all alike),
   ending early once 0.3 s have been spent. A failing run scores INFINITY. */
static void exec_time(pass_exec *c, int nc, int nptr, void *const *ptr, double *best)
{
    for (int i = 0; i < nc; i++)
        best[i] = c[i].nst && exec_run(&c[i], nptr, ptr) == dnnl_success ? 1e300 : INFINITY;
    double spent = 0;
    for (int round = 0; round < 3 && spent < 0.3; round++)
        for (int i = 0; i < nc; i++) {
            if (best[i] == INFINITY) continue;
            double t0 = omp_get_wtime();
            dnnl_status_t st = exec_run(&c[i], nptr, ptr);
            double t = omp_get_wtime() - t0;
            spent += t;
            best[i] = st != dnnl_success ? INFINITY : t < best[i] ? t : best[i];
        }
}

/* Same implementation and same layouts for every argument: one candidate. */
static int pd_same(const_dnnl_primitive_desc_t a, const_dnnl_primitive_desc_t b, conv_pass pass)
{
    if (strcmp(impl_str(a), impl_str(b))) return 0;
    for (int i = 0; i < nspecs[pass]; i++) {
        int arg = specs[pass][i].arg;
        const dnnl_memory_desc_t *ma = dnnl_primitive_desc_query_md(a, dnnl_query_exec_arg_md, arg);
        const dnnl_memory_desc_t *mb = dnnl_primitive_desc_query_md(b, dnnl_query_exec_arg_md, arg);
        if (!ma || !mb || !dnnl_memory_desc_equal(ma, mb)) return 0;
    }
    return 1;
}

/* ---- the backend ---- */

struct conv_plan {
    conv_shape s;
    pass_exec pass[3];
    int var[3];           /* the layout variant each pass kept */
    pass_exec fwd_relu;   /* forward's variant with a ReLU post-op; nst 0: none */
    float *zero_bias;     /* forward with bias == NULL */
    float *dbias_scratch; /* backward_weights with dbias == NULL */
};

static void shape_str(const conv_shape *s, char *buf, size_t len)
{
    const conv_geom g = conv_geometry(s);
    snprintf(buf, len,
             "n%d %dx%dx%d->%d %dx%d groups %d stride %dx%d dilation %dx%d pad %d,%d,%d,%d", s->n,
             s->h, s->w, s->c, s->k, s->r, s->s, g.g, g.sh, g.sw, g.dh, g.dw, g.pt, g.pb, g.pl,
             g.pr);
}

static const char *alg_name(dnnl_alg_kind_t alg)
{
    return alg == dnnl_convolution_winograd ? "winograd" : "direct";
}

/* NULL if oneDNN has alg for every pass of s in some layout variant, else
   why not, in buf. */
static const char *why_not(const conv_shape *s, dnnl_alg_kind_t alg, char *buf, size_t len)
{
    const char *bad = conv_shape_invalid(s);
    if (bad) return bad;
    const dnnl_version_t *v = dnnl_version();
    dnnl_status_t st = engine_get();
    if (st != dnnl_success) {
        snprintf(buf, len, "oneDNN %d.%d.%d: no CPU engine (%s)", v->major, v->minor, v->patch,
                 dnnl_status2str(st));
        return buf;
    }
    dnnl_primitive_desc_t fwd[NVAR];
    st = fwd_pds(fwd, s, alg);
    conv_pass failed = CONV_FORWARD;
    int ok = some(fwd);
    for (int p = CONV_BACKWARD_DATA; ok && p <= CONV_BACKWARD_WEIGHTS; p++) {
        ok = 0;
        for (int var = 0; var < NVAR && !ok; var++) {
            dnnl_primitive_desc_t pd;
            if (!fwd[var]) continue;
            st = pd_make(&pd, s, (conv_pass)p, alg, var, fwd[var]);
            if (st == dnnl_success) {
                ok = 1;
                dnnl_primitive_desc_destroy(pd);
            }
        }
        if (!ok) failed = (conv_pass)p;
    }
    pds_destroy(fwd, NVAR);
    if (ok) return NULL;
    snprintf(buf, len, "oneDNN %d.%d.%d has no %s convolution for %s on this shape (%s)", v->major,
             v->minor, v->patch, alg_name(alg), conv_pass_name(failed), dnnl_status2str(st));
    return buf;
}

static _Thread_local char why_buf[256];

static const char *onednn_unsupported(const conv_shape *s)
{
    return why_not(s, dnnl_convolution_direct, why_buf, sizeof why_buf);
}

static const char *onednn_winograd_unsupported(const conv_shape *s)
{
    /* oneDNN 2.6's AVX-512 Winograd accepts asymmetric padding but its
       backward_data then disagrees with the reference (2x8x8x3->5 3x3,
       bottom and right padding 1: error 1.37) */
    const char *bad = conv_shape_invalid(s);
    if (bad) return bad;
    const conv_geom g = conv_geometry(s);
    if (g.pt != g.pb || g.pl != g.pr)
        return "asymmetric padding not supported (oneDNN's winograd backward_data gets it wrong)";
    return why_not(s, dnnl_convolution_winograd, why_buf, sizeof why_buf);
}

static void onednn_destroy(conv_plan *pl)
{
    if (!pl) return;
    for (int p = 0; p < 3; p++) exec_destroy(&pl->pass[p]);
    exec_destroy(&pl->fwd_relu);
    free(pl->zero_bias);
    free(pl->dbias_scratch);
    free(pl);
}

/* Caller pointers of one pass on the plan-time scratch tensors; within a
   pass no output aliases an input. */
static void scratch_ptrs(conv_pass pass, float *t[4], void *ptr[MAX_ARGS])
{
    for (int i = 0; i < nspecs[pass]; i++) ptr[i] = t[specs[pass][i].t];
}

/* Builds the layout variants oneDNN has for one pass, times them on the
   scratch tensors t when there are two, and keeps the faster in the plan. */
static dnnl_status_t choose_pass(conv_plan *pl, conv_pass pass, dnnl_alg_kind_t alg,
                                 dnnl_primitive_desc_t fwd[NVAR], float *t[4])
{
    dnnl_primitive_desc_t pd[NVAR] = { NULL };
    dnnl_status_t st = dnnl_unimplemented;
    for (int var = 0; var < NVAR; var++) {
        if (!fwd[var]) continue;
        if (pass == CONV_FORWARD) {
            if (dnnl_primitive_desc_clone(&pd[var], fwd[var]) != dnnl_success) pd[var] = NULL;
        } else if ((st = pd_make(&pd[var], &pl->s, pass, alg, var, fwd[var])) != dnnl_success) {
            pd[var] = NULL;
        }
    }
    for (int var = 1; var < NVAR; var++) /* one candidate per distinct primitive */
        for (int prev = 0; pd[var] && prev < var; prev++)
            if (pd[prev] && pd_same(pd[prev], pd[var], pass)) {
                dnnl_primitive_desc_destroy(pd[var]);
                pd[var] = NULL;
            }
    pass_exec cand[NVAR];
    int n = 0, keep = -1;
    memset(cand, 0, sizeof cand);
    for (int var = 0; var < NVAR; var++) {
        if (!pd[var]) continue;
        if ((st = exec_build(&cand[var], &pl->s, pass, pd[var], var)) != dnnl_success)
            exec_destroy(&cand[var]);
        else
            n++, keep = var;
    }
    if (n > 1) {
        void *ptr[MAX_ARGS];
        double best[NVAR];
        scratch_ptrs(pass, t, ptr);
        exec_time(cand, NVAR, nspecs[pass], ptr, best);
        for (int var = 0; var < NVAR; var++)
            if (best[var] < best[keep]) keep = var;
    }
    for (int var = 0; var < NVAR; var++)
        if (var == keep)
            pl->pass[pass] = cand[var];
        else
            exec_destroy(&cand[var]);
    pl->var[pass] = keep;
    pds_destroy(pd, NVAR);
    return pl->pass[pass].nst ? dnnl_success : st;
}

static conv_plan *plan_alg(const conv_shape *s, dnnl_alg_kind_t alg)
{
    if (conv_shape_invalid(s)) return NULL;
    char sname[160];
    shape_str(s, sname, sizeof sname);
    dnnl_status_t st = engine_get();
    if (st != dnnl_success) {
        fprintf(stderr, "onednn: no CPU engine for %s: %s\n", sname, dnnl_status2str(st));
        return NULL;
    }
    conv_plan *pl = calloc(1, sizeof *pl);
    if (!pl) return NULL;
    pl->s = *s;
    pl->zero_bias = cpu_alloc(sizeof(float) * (size_t)s->k);
    pl->dbias_scratch = cpu_alloc(sizeof(float) * (size_t)s->k);
    float *t[4] = { NULL, NULL, NULL, NULL };
    for (int i = 0; i < 4; i++) t[i] = cpu_alloc(sizeof(float) * tensor_elems(s, (tensor)i));
    int ok = pl->zero_bias && pl->dbias_scratch && t[0] && t[1] && t[2] && t[3];
    dnnl_primitive_desc_t fwd[NVAR] = { NULL };
    if (ok) {
        st = fwd_pds(fwd, s, alg);
        for (int p = CONV_FORWARD; ok && p <= CONV_BACKWARD_WEIGHTS; p++) {
            if (some(fwd))
                st = choose_pass(pl, (conv_pass)p, alg, fwd, t); /* else st says why not */
            if (st != dnnl_success) {
                fprintf(stderr, "onednn: %s convolution %s on %s: %s\n", alg_name(alg),
                        conv_pass_name((conv_pass)p), sname, dnnl_status2str(st));
                ok = 0;
            }
        }
    }
    /* the kept forward again with a ReLU post-op; without it forward_relu
       runs the forward and then a ReLU pass */
    dnnl_primitive_desc_t rpd;
    if (ok &&
        pd_make_relu(&rpd, s, CONV_FORWARD, alg, pl->var[CONV_FORWARD], NULL, 1) == dnnl_success) {
        if (exec_build(&pl->fwd_relu, s, CONV_FORWARD, rpd, pl->var[CONV_FORWARD]) != dnnl_success)
            exec_destroy(&pl->fwd_relu);
        dnnl_primitive_desc_destroy(rpd);
    }
    pds_destroy(fwd, NVAR);
    for (int i = 0; i < 4; i++) free(t[i]);
    if (!ok) {
        onednn_destroy(pl);
        return NULL;
    }
    return pl;
}

static conv_plan *onednn_plan(const conv_shape *s) { return plan_alg(s, dnnl_convolution_direct); }
static conv_plan *onednn_winograd_plan(const conv_shape *s)
{
    return plan_alg(s, dnnl_convolution_winograd);
}

/* A failure cannot be returned through the contract: say so and leave NaN
   in the outputs, so no result passes for a correct one. */
static void run(conv_plan *pl, conv_pass pass, void *const *ptr)
{
    dnnl_status_t st = exec_run(&pl->pass[pass], nspecs[pass], ptr);
    if (st == dnnl_success) return;
    char sname[160];
    shape_str(&pl->s, sname, sizeof sname);
    fprintf(stderr, "onednn: %s on %s failed: %s\n", conv_pass_name(pass), sname,
            dnnl_status2str(st));
    for (int i = 0; i < nspecs[pass]; i++)
        if (specs[pass][i].out) {
            float *o = ptr[i];
            for (size_t j = 0, n = tensor_elems(&pl->s, specs[pass][i].t); j < n; j++) o[j] = NAN;
        }
}

static void onednn_forward(conv_plan *pl, const float *x, const float *w, const float *bias,
                           float *y)
{
    void *ptr[] = { (void *)x, (void *)w, (void *)(bias ? bias : pl->zero_bias), y };
    run(pl, CONV_FORWARD, ptr);
}

static void onednn_forward_relu(conv_plan *pl, const float *x, const float *w, const float *bias,
                                float *y)
{
    void *ptr[] = { (void *)x, (void *)w, (void *)(bias ? bias : pl->zero_bias), y };
    dnnl_status_t st =
        pl->fwd_relu.nst ? exec_run(&pl->fwd_relu, nspecs[CONV_FORWARD], ptr) : dnnl_unimplemented;
    if (st == dnnl_success) return;
    run(pl, CONV_FORWARD, ptr);
    const size_t ny = tensor_elems(&pl->s, T_Y);
#pragma omp parallel for simd schedule(static) if (ny > 32768)
    for (size_t i = 0; i < ny; i++) y[i] = y[i] < 0.0f ? 0.0f : y[i];
}

static void onednn_backward_data(conv_plan *pl, const float *dy, const float *w, float *dx)
{
    void *ptr[] = { (void *)dy, (void *)w, dx };
    run(pl, CONV_BACKWARD_DATA, ptr);
}

static void onednn_backward_weights(conv_plan *pl, const float *x, const float *dy, float *dw,
                                    float *dbias)
{
    void *ptr[] = { (void *)x, (void *)dy, dw, dbias ? dbias : pl->dbias_scratch };
    run(pl, CONV_BACKWARD_WEIGHTS, ptr);
}

static const char *onednn_impl(const conv_plan *pl, conv_pass pass) { return pl->pass[pass].impl; }

const conv_backend conv_onednn = {
    .name = "onednn",
    .unsupported = onednn_unsupported,
    .plan = onednn_plan,
    .forward = onednn_forward,
    .backward_data = onednn_backward_data,
    .backward_weights = onednn_backward_weights,
    .destroy = onednn_destroy,
    .impl = onednn_impl,
    .forward_relu = onednn_forward_relu,
};

const conv_backend conv_onednn_winograd = {
    .name = "onednn-winograd",
    .unsupported = onednn_winograd_unsupported,
    .plan = onednn_winograd_plan,
    .forward = onednn_forward,
    .backward_data = onednn_backward_data,
    .backward_weights = onednn_backward_weights,
    .destroy = onednn_destroy,
    .impl = onednn_impl,
    .forward_relu = onednn_forward_relu,
};
