#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "atomic_file.h"
#include "error.h"

int atomic_fault;

static int fault(int which)
{
    if (atomic_fault != which) return 0;
    atomic_fault = ATOMIC_FAULT_NONE;
    errno = EIO;
    return 1;
}

/* The directory part of path ("." for none) and where its base name starts. */
static const char *split(const char *path, char *dir, size_t len)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        snprintf(dir, len, ".");
    else
        snprintf(dir, len, "%.*s", slash == path ? 1 : (int)(slash - path), path);
    return slash ? slash + 1 : path;
}

/* Removes DIR/.BASE.tmp.PID.* (and the older BASE.tmp.PID) whose process
   PID is gone: what a killed writer left. */
static void remove_stale(const char *dir, const char *base)
{
    DIR *d = opendir(dir);
    if (!d) return;
    const size_t bl = strlen(base);
    struct dirent *e;
    while ((e = readdir(d))) {
        const char *p = e->d_name + (e->d_name[0] == '.');
        if (strncmp(p, base, bl) || strncmp(p + bl, ".tmp.", 5)) continue;
        char *end;
        long pid = strtol(p + bl + 5, &end, 10);
        if (pid <= 0 || end == p + bl + 5 || (*end && *end != '.')) continue;
        if (pid == getpid() || kill((pid_t)pid, 0) == 0 || errno != ESRCH) continue;
        char full[PATH_MAX];
        if (snprintf(full, sizeof full, "%s/%s", dir, e->d_name) < (int)sizeof full) unlink(full);
    }
    closedir(d);
}

int atomic_open(const char *path, char *tmp, size_t tmplen, char *err, size_t len)
{
    char dir[PATH_MAX];
    if (!path || !*path) return error_set(err, len, "no file name given");
    const char *base = split(path, dir, sizeof dir);
    if (!*base) return error_set(err, len, "%s: names a directory, not a file", path);
    if (strlen(path) >= PATH_MAX ||
        snprintf(tmp, tmplen, "%s/.%s.tmp.%ld.XXXXXX", dir, base, (long)getpid()) >= (int)tmplen)
        return error_set(err, len, "%.200s...: path too long (%zu characters)", path, strlen(path));
    remove_stale(dir, base);
    int fd = mkstemp(tmp);
    if (fd < 0)
        return error_set(err, len, "%s: cannot create a temporary file in %s: %s", path, dir,
                         strerror(errno));
    mode_t mask = umask(0);
    umask(mask);
    if (fchmod(fd, 0666 & ~mask)) {
        int e = errno;
        close(fd);
        unlink(tmp);
        return error_set(err, len, "%s: %s", path, strerror(e));
    }
    return fd;
}

int atomic_probe(const char *path, char *err, size_t len)
{
    struct stat st;
    if (path && stat(path, &st) == 0 && S_ISDIR(st.st_mode))
        return error_set(err, len, "%s: is a directory", path);
    char tmp[PATH_MAX + 64];
    int fd = atomic_open(path, tmp, sizeof tmp, err, len);
    if (fd < 0) return -1;
    close(fd);
    unlink(tmp);
    return 0;
}

int atomic_write(int fd, const void *p, size_t n)
{
    size_t done = 0;
    while (done < n) {
        ssize_t w = fault(ATOMIC_FAULT_WRITE) ? -1 : write(fd, (const char *)p + done, n - done);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return w < 0 ? errno : EIO;
        done += (size_t)w;
    }
    return 0;
}

int atomic_commit(int fd, const char *tmp, const char *path, int exclusive, int fail_errno)
{
    int e = fail_errno;
    if (!e && (fault(ATOMIC_FAULT_FSYNC) || fsync(fd))) e = errno;
    if (close(fd) && !e) e = errno;
    if (!e && (fault(ATOMIC_FAULT_RENAME) || (exclusive ? link(tmp, path) : rename(tmp, path))))
        e = errno;
    if (e || exclusive) unlink(tmp);
    if (e) return e;
    char dir[PATH_MAX];
    split(path, dir, sizeof dir);
    int dfd = open(dir, O_RDONLY | O_DIRECTORY); /* make the rename durable */
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    return 0;
}
