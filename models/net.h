/* A sequential network read from a spec file: shape inference, parameters,
   forward and backward over a batch, every convolution through conv.h.
   One header for both halves: the spec parser (spec.c: net_parse*,
   net_layer_shape) and the executor (net.c: everything else). */
#ifndef CONVBENCH_NET_H
#define CONVBENCH_NET_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "conv.h"

#define NET_MAX_LAYERS   32
#define NET_MAX_FEATURES (1 << 28) /* values per image in any layer's output */
#define NET_MAX_REPLICAS 256       /* threads a batch is split over, at most */
#define NET_MAX_PLANS                                                                              \
    6 /* batch sizes planned per conv layer: full, remainder, eval,
                                and their parts for the leading layers */

typedef enum { LAYER_CONV, LAYER_MAXPOOL, LAYER_FLATTEN, LAYER_DENSE } layer_kind;
typedef enum { ACT_LINEAR, ACT_RELU, ACT_SOFTMAX } activation;

typedef struct {
    float *w, *g, *m, *v; /* value, gradient, Adam moments */
    size_t n;
} param;

typedef struct {
    layer_kind kind;
    activation act;
    char name[16];                  /* conv1, pool1, flatten1, dense1, ... */
    int line;                       /* in the spec file */
    int ih, iw, ic;                 /* per-image input */
    int oh, ow, oc;                 /* per-image output */
    int kh, kw, stride, pad;        /* conv */
    int groups, stride_w;           /* conv: conv.h's appended members, */
    int dil_h, dil_w;               /* 0 wherever the four above say it */
    int pad_t, pad_b, pad_l, pad_r; /* (spec.c) */
    int pool;                       /* maxpool */
    param weight, bias;             /* conv (HWIO) and dense ([in][out]) */
    const conv_backend *backend[3]; /* per conv_pass; may differ (auto) */
    int need_dx;                    /* 0 for a first layer: its input needs no gradient */
    int32_t *pos;                   /* maxpool: each output's winner in its window */
} layer;

/* One thread's slice of every batch, when the batch is split over the
   threads (net.c): its own plans (a plan's workspace serves one caller at
   a time) and, for all but replica 0, its own weight gradients. */
typedef struct {
    conv_plan *plan[NET_MAX_LAYERS][3][NET_MAX_PLANS]; /* shared where two passes share a backend */
    int plan_batch[NET_MAX_LAYERS][NET_MAX_PLANS];
    float *grad[NET_MAX_LAYERS];  /* weight then bias gradients (replica 0: param.g) */
    float *gpart[NET_MAX_LAYERS]; /* a leading conv layer: one part's gradients */
    float *dense_ws;              /* dense_backward_data's, for the largest layer */
    int rc;                       /* what its last forward returned, */
    char err[256];                /* and why */
} replica;

typedef struct {
    int nlayers;
    layer layers[NET_MAX_LAYERS];
    int in_h, in_w, in_c, classes;
    int max_batch;
    float *act[NET_MAX_LAYERS + 1];  /* act[0] input batch, act[i+1] output of layer i */
    float *grad[NET_MAX_LAYERS + 1]; /* dL/d act[i] */
    uint64_t spec_hash;              /* of the layer structure, for checkpoints */
    int prefix;                      /* leading layers run in parts of the batch (net.c) */
    size_t prefix_bytes, l2_bytes;   /* their largest activation per image; L2 per core */
    int part_local[NET_MAX_LAYERS];  /* act[i + 1], grad[i + 1] hold one part (net.c) */
    int replicas_max;                /* set before net_init: at most this many replicas
                                          (0: one per OpenMP thread) */
    int nrep;                        /* replicas (net_init) */
    replica *rep;
    int profile;                      /* time every layer and pass into prof_s */
    double prof_s[NET_MAX_LAYERS][3]; /* seconds per layer: forward, backward_data, backward_weights
                                          (replica 0's, where the batch is split) */
    double prof_reduce_s;             /* summing the replicas' weight gradients */
} net;

/* ---- spec.c ---- */

/* Parses a spec file (format in README). Returns 0, or -1 with
   "FILE:LINE: problem" in err. The net holds no memory yet. */
int net_parse(net *nt, const char *path, char *err, size_t errlen);
int net_parse_string(net *nt, const char *text, const char *name, char *err, size_t errlen);
/* A conv layer's convolution at batch n. */
void net_layer_shape(const layer *l, int n, conv_shape *s);
/* "1x28x28x1 -> 32 3x3 stride 1 pad 0", with "stride SHxSW",
   "pad T,B,L,R", " dilation D" and " groups G" where they apply. */
void net_shape_describe(const conv_shape *s, char *buf, size_t len);

/* ---- net.c ---- */

/* Chooses the backend of every conv layer: "NAME" for all, or
   "conv1=NAME,conv2=NAME,..." (unnamed layers keep the default).
   Returns 0, or -1 with the reason in err. */
int net_set_backends(net *nt, const char *spec, const char *fallback, char *err, size_t errlen);

/* Sets one pass of one conv layer (by index) to a backend. */
void net_set_pass_backend(net *nt, int li, conv_pass pass, const conv_backend *b);
/* "naive", or "conv1=simd/onednn/winograd,..." (forward/backward_data/
   backward_weights) where passes differ. */
void net_backend_names(const net *nt, char *buf, size_t len);

/* Allocates activations for batches up to max_batch and parameters,
   initialised as Keras does (glorot-uniform weights, zero biases) from
   seed. Plans every conv layer for its slice of max_batch in every replica
   (one thread each; with one replica, the current OpenMP thread count).
   Returns 0, or -1 naming the layer, shape and reason. */
int net_init(net *nt, int max_batch, uint64_t seed, char *err, size_t errlen);
void net_free(net *nt);

size_t net_param_count(const net *nt);
/* About the bytes net_init takes for batches up to max_batch: parameters
   with their gradients and Adam moments, activations, gradients, pooling
   positions (net_init refuses more than the memory limit, run_limits.h). */
double net_memory_bytes(const net *nt, int max_batch);
void net_summary(const net *nt, FILE *f);

/* Replicas a batch of n images is split over: one per OpenMP thread (at
   most replicas_max, at most n), each running the whole network on its
   slice with one thread. */
int net_replicas(const net *nt, int n);
/* The batch layer `layer` runs at within a batch of n: the largest
   replica's slice, or the largest part of it for the leading layers run in
   parts (net.c). */
int net_layer_batch(const net *nt, int li, int n);
/* Forward over a batch of n <= max_batch images at act[0] (copied in by
   the caller); the logits are act[nlayers]. Returns 0, or -1 if a plan for
   a new batch size cannot be made (err says why). */
int net_forward(net *nt, int n, char *err, size_t errlen);
/* Backward from grad[nlayers] (set by the loss); fills every param.g. */
void net_backward(net *nt, int n);

#endif
