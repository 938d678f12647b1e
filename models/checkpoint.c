/* Layout (little-endian, as written by x86):
     "CBWEIGHT"  8 bytes magic
     u32 version (1), u32 tensor count, u64 spec hash
     per tensor: u32 layer index, u32 role (0 weight, 1 bias), u64 elements
     the tensors' floats, in the same order
     u64 FNV-1a checksum of everything before it */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "checkpoint.h"
#include "error.h"
#include "hash.h"

#define MAGIC   "CBWEIGHT"
#define VERSION 1u

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

typedef struct {
    FILE *f;
    uint64_t sum;
    int ok;
} writer;

static void put(writer *w, const void *p, size_t n)
{
    if (w->ok && fwrite(p, 1, n, w->f) != n) w->ok = 0;
    w->sum = fnv1a(w->sum, p, n);
}

int checkpoint_save(const net *nt, const char *path, char *err, size_t len)
{
    tensor_hdr hdr[2 * NET_MAX_LAYERS];
    const param *ps[2 * NET_MAX_LAYERS];
    const uint32_t count = (uint32_t)tensors(nt, hdr, ps), version = VERSION;
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    writer w = { fopen(tmp, "wb"), FNV1A_INIT, 1 };
    if (!w.f) return error_set(err, len, "%s: cannot write: %s", path, strerror(errno));
    put(&w, MAGIC, 8);
    put(&w, &version, 4);
    put(&w, &count, 4);
    put(&w, &nt->spec_hash, 8);
    put(&w, hdr, sizeof(tensor_hdr) * count);
    for (uint32_t i = 0; i < count; i++) put(&w, ps[i]->w, sizeof(float) * ps[i]->n);
    uint64_t sum = w.sum;
    put(&w, &sum, 8);
    int ok = w.ok && fflush(w.f) == 0 && fsync(fileno(w.f)) == 0;
    ok = (fclose(w.f) == 0) && ok;
    if (!ok || rename(tmp, path)) {
        int e = errno;
        unlink(tmp);
        return error_set(err, len, "%s: write failed: %s", path, strerror(e));
    }
    return 0;
}

int checkpoint_load(net *nt, const char *path, char *err, size_t len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return error_set(err, len, "%s: cannot open: %s", path, strerror(errno));
    char *buf = NULL;
    long size = -1;
    if (fseek(f, 0, SEEK_END) == 0 && (size = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
        (buf = malloc((size_t)size + 1)) && fread(buf, 1, (size_t)size, f) != (size_t)size) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    if (!buf) return error_set(err, len, "%s: cannot read", path);
    int rc = -1;
    tensor_hdr want[2 * NET_MAX_LAYERS];
    param *ps[2 * NET_MAX_LAYERS];
    const uint32_t count = (uint32_t)tensors(nt, want, (const param **)ps);
    const size_t head = 8 + 4 + 4 + 8;
    uint32_t version, n;
    uint64_t hash, sum;
    if ((size_t)size < head + 8 || memcmp(buf, MAGIC, 8)) {
        error_set(err, len, "%s: not a convbench weights file (bad magic)", path);
        goto out;
    }
    memcpy(&version, buf + 8, 4);
    memcpy(&n, buf + 12, 4);
    memcpy(&hash, buf + 16, 8);
    if (version != VERSION) {
        error_set(err, len, "%s: format version %u, this build reads version %u", path, version,
                  VERSION);
        goto out;
    }
    memcpy(&sum, buf + size - 8, 8);
    if (fnv1a(FNV1A_INIT, buf, (size_t)size - 8) != sum) {
        error_set(err, len, "%s: checksum mismatch: the file is truncated or corrupt", path);
        goto out;
    }
    if (hash != nt->spec_hash || n != count) {
        error_set(err, len,
                  "%s: weights of a different network (spec hash %016llx, %u tensors; "
                  "this network: %016llx, %u tensors)",
                  path, (unsigned long long)hash, n, (unsigned long long)nt->spec_hash, count);
        goto out;
    }
    size_t need = head + sizeof(tensor_hdr) * count + 8;
    for (uint32_t i = 0; i < count; i++) need += sizeof(float) * want[i].n;
    if (need != (size_t)size) {
        error_set(err, len, "%s: %ld bytes, the network's tensors need %zu", path, size, need);
        goto out;
    }
    const char *p = buf + head;
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
    return rc;
}
