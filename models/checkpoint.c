/* Layout (little-endian, as written by x86):
     "CBWEIGHT"  8 bytes magic
     u32 version (1), u32 tensor count, u64 spec hash
     per tensor: u32 layer index, u32 role (0 weight, 1 bias), u64 elements
     the tensors' floats, in the same order
     u64 FNV-1a checksum of everything before it */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "atomic_file.h"
#include "checkpoint.h"
#include "error.h"
#include "hash.h"

#define MAGIC   "CBWEIGHT"
#define VERSION 1u
#define HEAD    24 /* magic, version, tensor count, spec hash */

typedef struct {
    uint32_t layer, role;
    uint64_t n;
} tensor_hdr;

/* The tensors of nt in file order; returns their count. */
static int tensors(const net *nt, tensor_hdr *hdr, const param **ps)
{
    int n = 0;
    for (int i = 0; i < nt->nlayers; i++) {
        const layer *l = &nt->layers[i];
        const param *lp[] = { &l->weight, &l->bias };
        for (uint32_t r = 0; r < 2; r++)
            if (lp[r]->n) {
                hdr[n] = (tensor_hdr){ (uint32_t)i, r, lp[r]->n };
                ps[n++] = lp[r];
            }
    }
    return n;
}

/* Writes to the temporary file, summing as it goes; the first error sticks. */
typedef struct {
    int fd;
    uint64_t sum;
    int err;
} writer;

static void put(writer *w, const void *p, size_t n)
{
    if (!w->err) w->err = atomic_write(w->fd, p, n);
    w->sum = fnv1a(w->sum, p, n);
}

/* The file's size for nt: header, tensor headers, floats, checksum. */
static size_t file_size(const tensor_hdr *hdr, uint32_t count)
{
    size_t need = HEAD + sizeof(tensor_hdr) * count + 8;
    for (uint32_t i = 0; i < count; i++) need += sizeof(float) * hdr[i].n;
    return need;
}

int checkpoint_save(const net *nt, const char *path, char *err, size_t len)
{
    tensor_hdr hdr[2 * NET_MAX_LAYERS];
    const param *ps[2 * NET_MAX_LAYERS];
    const uint32_t count = (uint32_t)tensors(nt, hdr, ps), version = VERSION;
    char tmp[PATH_MAX + 64];
    writer w = { atomic_open(path, tmp, sizeof tmp, err, len), FNV1A_INIT, 0 };
    if (w.fd < 0) return -1;
    put(&w, MAGIC, 8);
    put(&w, &version, 4);
    put(&w, &count, 4);
    put(&w, &nt->spec_hash, 8);
    put(&w, hdr, sizeof(tensor_hdr) * count);
    for (uint32_t i = 0; i < count; i++) put(&w, ps[i]->w, sizeof(float) * ps[i]->n);
    uint64_t sum = w.sum;
    put(&w, &sum, 8);
    const int e = atomic_commit(w.fd, tmp, path, 0, w.err);
    if (e) return error_set(err, len, "%s: write failed: %s", path, strerror(e));
    return 0;
}

int checkpoint_load(net *nt, const char *path, char *err, size_t len)
{
    tensor_hdr want[2 * NET_MAX_LAYERS];
    param *ps[2 * NET_MAX_LAYERS];
    const uint32_t count = (uint32_t)tensors(nt, want, (const param **)ps);
    const size_t need = file_size(want, count);
    FILE *f = fopen(path, "rb");
    if (!f) return error_set(err, len, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    char head[HEAD];
    int rc = -1;
    char *buf = NULL;
    uint32_t version, n;
    uint64_t hash, sum;
    if (fstat(fileno(f), &st) || !S_ISREG(st.st_mode)) {
        error_set(err, len, "%s: not a regular file", path);
        goto out;
    }
    /* the header first: the file's size is checked against the network
       before its body is read */
    if (st.st_size < (off_t)(HEAD + 8) || fread(head, 1, HEAD, f) != HEAD ||
        memcmp(head, MAGIC, 8)) {
        error_set(err, len, "%s: not a convbench weights file (bad magic)", path);
        goto out;
    }
    memcpy(&version, head + 8, 4);
    memcpy(&n, head + 12, 4);
    memcpy(&hash, head + 16, 8);
    if (version != VERSION) {
        error_set(err, len, "%s: format version %u, this build reads version %u", path, version,
                  VERSION);
        goto out;
    }
    if (hash != nt->spec_hash || n != count) {
        error_set(err, len,
                  "%s: weights of a different network (spec hash %016llx, %u tensors; "
                  "this network: %016llx, %u tensors)",
                  path, (unsigned long long)hash, n, (unsigned long long)nt->spec_hash, count);
        goto out;
    }
    if ((uint64_t)st.st_size != need) {
        error_set(err, len, "%s: %lld bytes, the network's tensors need %zu: truncated or corrupt",
                  path, (long long)st.st_size, need);
        goto out;
    }
    if (!(buf = malloc(need))) {
        error_set(err, len, "%s: out of memory", path);
        goto out;
    }
    memcpy(buf, head, HEAD);
    if (fread(buf + HEAD, 1, need - HEAD, f) != need - HEAD) {
        error_set(err, len, "%s: cannot read: the file changed while it was read", path);
        goto out;
    }
    memcpy(&sum, buf + need - 8, 8);
    if (fnv1a(FNV1A_INIT, buf, need - 8) != sum) {
        error_set(err, len, "%s: checksum mismatch: the file is truncated or corrupt", path);
        goto out;
    }
    const char *p = buf + HEAD;
    for (uint32_t i = 0; i < count; i++, p += sizeof(tensor_hdr)) {
        tensor_hdr got;
        memcpy(&got, p, sizeof got);
        if (got.layer != want[i].layer || got.role != want[i].role || got.n != want[i].n) {
            error_set(err, len,
                      "%s: tensor %u is layer %u %s of %llu elements, expected layer %u %s of %llu",
                      path, i, got.layer, got.role ? "bias" : "weight", (unsigned long long)got.n,
                      want[i].layer, want[i].role ? "bias" : "weight",
                      (unsigned long long)want[i].n);
            goto out;
        }
    }
    for (uint32_t i = 0; i < count; i++) {
        memcpy(ps[i]->w, p, sizeof(float) * ps[i]->n);
        p += sizeof(float) * ps[i]->n;
    }
    rc = 0;
out:
    free(buf);
    fclose(f);
    return rc;
}
