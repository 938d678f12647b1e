/* IDX reader on zlib's gzread, which reads raw files transparently, so one
   path serves .gz and uncompressed sets. Big-endian header: magic
   (0x00000803 images, 0x00000801 labels), then one 32-bit size per dim. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>
#include "data.h"
#include "error.h"
#include "run_limits.h"

/* Deflate expands at most 1032:1, so a gzipped file of S bytes holds at
   most this many bytes of data: a bound on what its header may claim. */
#define GZIP_MAX_RATIO 1032.0

/* Finds DIR/NAME or DIR/NAME.gz. */
static int find_file(const char *dir, const char *name, char *path, size_t len)
{
    FILE *f;
    if (snprintf(path, len, "%s/%s.gz", dir, name) >= (int)len) return -1; /* too long */
    snprintf(path, len, "%s/%s", dir, name);
    if ((f = fopen(path, "rb"))) {
        fclose(f);
        return 0;
    }
    snprintf(path, len, "%s/%s.gz", dir, name);
    if ((f = fopen(path, "rb"))) {
        fclose(f);
        return 0;
    }
    return -1;
}

/* Opens an IDX file, checks its magic and reads its dims. */
static gzFile idx_open(const char *path, unsigned magic, int ndims, unsigned *dims, char *err,
                       size_t len)
{
    gzFile f = gzopen(path, "rb");
    if (!f) {
        error_set(err, len, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    unsigned char hdr[16];
    int want = 4 * (1 + ndims);
    int got = gzread(f, hdr, (unsigned)want);
    if (got != want) {
        error_set(err, len, "%s: truncated header (%d of %d bytes)", path, got < 0 ? 0 : got, want);
        gzclose(f);
        return NULL;
    }
    unsigned m = (unsigned)hdr[0] << 24 | (unsigned)hdr[1] << 16 | hdr[2] << 8 | hdr[3];
    if (m != magic) {
        error_set(err, len, "%s: bad magic number 0x%08x (want 0x%08x: not an IDX %s file)", path,
                  m, magic, ndims == 3 ? "image" : "label");
        gzclose(f);
        return NULL;
    }
    for (int i = 0; i < ndims; i++) {
        const unsigned char *p = hdr + 4 * (i + 1);
        dims[i] = (unsigned)p[0] << 24 | (unsigned)p[1] << 16 | p[2] << 8 | p[3];
    }
    return f;
}

/* The most data bytes the file at path can hold after its header: its
   size, or the deflate bound for a gzipped one (-1 if it cannot be read). */
static double data_capacity(const char *path, int header)
{
    struct stat st;
    unsigned char magic[2] = { 0, 0 };
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    const int gz = fread(magic, 1, 2, f) == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
    const int ok = fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode);
    fclose(f);
    if (!ok) return -1;
    return gz ? GZIP_MAX_RATIO * (double)st.st_size : (double)st.st_size - header;
}

/* Refuses a header that claims more than the file can hold. */
static int check_claim(const char *path, int header, double claim, const char *what, char *err,
                       size_t len)
{
    const double cap = data_capacity(path, header);
    if (cap < 0) return error_set(err, len, "%s: not a regular file", path);
    if (claim > cap)
        return error_set(err, len,
                         "%s: truncated: the header claims %s of %.0f bytes, the file can hold "
                         "at most %.0f",
                         path, what, claim, cap);
    return 0;
}

static int read_all(gzFile f, void *buf, size_t bytes, const char *path, char *err, size_t len)
{
    size_t done = 0;
    while (done < bytes) {
        unsigned chunk = bytes - done > (1u << 30) ? 1u << 30 : (unsigned)(bytes - done);
        int got = gzread(f, (char *)buf + done, chunk);
        if (got <= 0) {
            int zerr;
            const char *msg = gzerror(f, &zerr);
            return error_set(err, len, "%s: truncated: %zu of %zu data bytes%s%s", path, done,
                             bytes, zerr ? ": " : "", zerr ? msg : "");
        }
        done += (size_t)got;
    }
    return 0;
}

int data_load(dataset *d, const char *dir, const char *prefix, int classes, int limit, char *err,
              size_t errlen)
{
    memset(d, 0, sizeof *d);
    char ipath[PATH_MAX], lpath[PATH_MAX], name[64];
    snprintf(name, sizeof name, "%s-images-idx3-ubyte", prefix);
    if (find_file(dir, name, ipath, sizeof ipath))
        return error_set(err, errlen,
                         "%s/%s[.gz]: no such file (is the data set installed? "
                         "--data DIR names another)",
                         dir, name);
    snprintf(name, sizeof name, "%s-labels-idx1-ubyte", prefix);
    if (find_file(dir, name, lpath, sizeof lpath))
        return error_set(err, errlen, "%s/%s[.gz]: no such file", dir, name);

    unsigned idims[3], ldims[1];
    gzFile fi = idx_open(ipath, 0x803, 3, idims, err, errlen);
    if (!fi) return -1;
    gzFile fl = idx_open(lpath, 0x801, 1, ldims, err, errlen);
    if (!fl) {
        gzclose(fi);
        return -1;
    }
    int rc = -1;
    unsigned char *raw = NULL;
    if (idims[0] == 0 || idims[1] == 0 || idims[2] == 0 || idims[1] > 4096 || idims[2] > 4096 ||
        idims[0] > (1u << 28)) {
        error_set(err, errlen, "%s: implausible dimensions %ux%ux%u", ipath, idims[0], idims[1],
                  idims[2]);
        goto out;
    }
    if (ldims[0] != idims[0]) {
        error_set(err, errlen, "%s holds %u labels but %s holds %u images", lpath, ldims[0], ipath,
                  idims[0]);
        goto out;
    }
    size_t n = idims[0], px = (size_t)idims[1] * idims[2];
    if (check_claim(ipath, 16, (double)n * px, "images", err, errlen) ||
        check_claim(lpath, 8, (double)n, "labels", err, errlen))
        goto out;
    if (limit > 0 && (size_t)limit < n) n = (size_t)limit;
    char what[PATH_MAX + 100];
    snprintf(what, sizeof what, "%s (%zu images of %ux%u)", ipath, n, idims[1], idims[2]);
    if (limits_memory_check((double)n * px * (1 + sizeof(float)) + n, what, err, errlen)) goto out;
    d->n = (int)n;
    d->h = (int)idims[1];
    d->w = (int)idims[2];
    raw = malloc(n * px);
    d->images = malloc(n * px * sizeof(float));
    d->labels = malloc(n);
    if (!raw || !d->images || !d->labels) {
        error_set(err, errlen, "out of memory reading %s", ipath);
        goto out;
    }
    if (read_all(fi, raw, n * px, ipath, err, errlen)) goto out;
    if (read_all(fl, d->labels, n, lpath, err, errlen)) goto out;
    for (size_t i = 0; i < n * px; i++) d->images[i] = raw[i] * (1.0f / 255.0f);
    for (size_t i = 0; i < n; i++)
        if (d->labels[i] >= classes) {
            error_set(err, errlen, "%s: label %d of item %zu is out of range 0..%d", lpath,
                      d->labels[i], i, classes - 1);
            goto out;
        }
    rc = 0;
out:
    free(raw);
    gzclose(fi);
    gzclose(fl);
    if (rc) data_free(d);
    return rc;
}

void data_free(dataset *d)
{
    free(d->images);
    free(d->labels);
    memset(d, 0, sizeof *d);
}

int data_random(dataset *d, int n, int h, int w, int classes, uint64_t seed)
{
    memset(d, 0, sizeof *d);
    d->images = malloc(sizeof(float) * (size_t)n * h * w);
    d->labels = malloc((size_t)n);
    if (!d->images || !d->labels) {
        data_free(d);
        return -1;
    }
    d->n = n;
    d->h = h;
    d->w = w;
    for (size_t i = 0; i < (size_t)n * h * w; i++) {
        seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
        d->images[i] = (float)(seed >> 40) / 16777216.0f;
    }
    for (int i = 0; i < n; i++) d->labels[i] = (uint8_t)(i % classes);
    return 0;
}
