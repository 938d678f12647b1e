#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "noshell.h"

extern char **environ;

int run_program(char *const argv[], const char *dir, int with_stderr, char *out, size_t len)
{
    int fds[2];
    if (pipe2(fds, O_CLOEXEC)) return 127;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
    if (with_stderr)
        posix_spawn_file_actions_adddup2(&fa, fds[1], 2);
    else
        posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    if (dir) posix_spawn_file_actions_addchdir_np(&fa, dir);
    pid_t pid;
    int rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(fds[1]);
    size_t got = 0;
    char chunk[4096];
    ssize_t n;
    while (!rc && ((n = read(fds[0], chunk, sizeof chunk)) > 0 || (n < 0 && errno == EINTR)))
        for (ssize_t i = 0; i < n; i++)
            if (out && got + 1 < len) out[got++] = chunk[i];
    close(fds[0]);
    if (out && len) out[got] = 0;
    if (rc) return 127;
    int st;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR) return 127;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
}

int program_found(const char *prog)
{
    const char *path = getenv("PATH");
    char full[PATH_MAX];
    for (const char *p = path ? path : "/usr/bin:/bin"; *p;) {
        size_t n = strcspn(p, ":");
        if (snprintf(full, sizeof full, "%.*s/%s", (int)n, n ? p : ".", prog) < (int)sizeof full &&
            access(full, X_OK) == 0)
            return 1;
        p += n + (p[n] == ':');
    }
    return 0;
}

int make_dirs(const char *path, int parents_only)
{
    char buf[PATH_MAX];
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf) {
        errno = ENAMETOOLONG;
        return -1;
    }
    if (!buf[0]) return 0;
    for (char *p = buf + 1;; p++) {
        if (*p && *p != '/') continue;
        if (!*p && parents_only) break;
        const char c = *p;
        *p = 0;
        struct stat st;
        if (mkdir(buf, 0777) && (errno != EEXIST || stat(buf, &st) || !S_ISDIR(st.st_mode))) {
            if (errno == EEXIST) errno = ENOTDIR;
            return -1;
        }
        if (!c) break;
        *p = c;
    }
    return 0;
}

int gnuplot_string(const char *s, char *buf, size_t len)
{
    size_t o = 0;
    if (len < 3 || strpbrk(s, "\n\r")) return -1;
    buf[o++] = '\'';
    for (; *s; s++) {
        if (o + 4 > len) return -1;
        if (*s == '\'') buf[o++] = '\'';
        buf[o++] = *s;
    }
    buf[o++] = '\'';
    buf[o] = 0;
    return 0;
}
