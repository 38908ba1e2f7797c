/* SPDX-License-Identifier: MIT */
/* Atomic file writes (see afile.h). */
#define _XOPEN_SOURCE 700 /* realpath */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "afile.h"

/* What `path` is: 0 absent, 'r' a regular file, 'd' a directory or FIFO / char device written
 * directly ('w'), else a kind refused; *st filled when it exists. */
static int target_kind(const char *path, struct stat *st)
{
    if (stat(path, st) != 0)
        return errno == ENOENT ? 0 : -1;
    if (S_ISREG(st->st_mode))
        return 'r';
    if (S_ISCHR(st->st_mode) || S_ISFIFO(st->st_mode))
        return 'w';
    return 'x';
}

static const char *refused_kind(const struct stat *st)
{
    return S_ISDIR(st->st_mode) ? "it is a directory" : S_ISSOCK(st->st_mode) ? "it is a socket"
           : S_ISBLK(st->st_mode) ? "it is a block device" : "it is not a regular file";
}

/* The folder part of `path` ("." when it has none), malloc'd. */
static char *dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return strdup(".");
    size_t n = slash == path ? 1 : (size_t)(slash - path);
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, path, n);
        d[n] = 0;
    }
    return d;
}

static int check_dir(const char *path, char *err, size_t errlen)
{
    char *dir = dir_of(path);
    if (!dir) {
        snprintf(err, errlen, "cannot write '%s': out of memory", path);
        return -1;
    }
    struct stat st;
    int rc = 0;
    if (stat(dir, &st) != 0) {
        snprintf(err, errlen, "cannot write '%s': its folder '%s' %s", path, dir,
                 errno == ENOENT ? "does not exist" : strerror(errno));
        rc = -1;
    } else if (!S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "cannot write '%s': '%s' is not a folder", path, dir);
        rc = -1;
    }
    free(dir);
    return rc;
}

int ksl__check_output_path(const char *path, char *err, size_t errlen)
{
    if (!path || !*path) {
        snprintf(err, errlen, "an empty file name");
        return -1;
    }
    struct stat st;
    int k = target_kind(path, &st);
    if (k < 0) {
        snprintf(err, errlen, "cannot write '%s': %s", path, strerror(errno));
        return -1;
    }
    if (k == 'x') {
        snprintf(err, errlen, "cannot write '%s': %s", path, refused_kind(&st));
        return -1;
    }
    return k == 'w' ? 0 : check_dir(path, err, errlen);
}

int ksl__afile_open(ksl_afile *a, const char *path, char *err, size_t errlen)
{
    memset(a, 0, sizeof *a);
    a->fd = -1;
    if (ksl__check_output_path(path, err, errlen) != 0)
        return -1;
    struct stat st;
    int k = target_kind(path, &st);
    /* A symbolic link to a regular file: replace the file it names, not the link. */
    char *real = k == 'r' ? realpath(path, NULL) : NULL;
    a->path = strdup(real ? real : path);
    free(real);
    if (!a->path) {
        snprintf(err, errlen, "cannot write '%s': out of memory", path);
        return -1;
    }
    if (k == 'w') { /* a terminal, /dev/null, a FIFO: write it as it is */
        a->fd = open(a->path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
        if (a->fd < 0) {
            snprintf(err, errlen, "cannot write '%s': %s", path, strerror(errno));
            free(a->path);
            a->path = NULL;
            return -1;
        }
        return 0;
    }
    char *dir = dir_of(a->path);
    const char *slash = strrchr(a->path, '/');
    const char *base = slash ? slash + 1 : a->path;
    size_t tlen = (dir ? strlen(dir) : 0) + strlen(base) + 64;
    a->tmp = dir ? malloc(tlen) : NULL;
    if (!a->tmp) {
        snprintf(err, errlen, "cannot write '%s': out of memory", path);
        free(dir);
        free(a->path);
        a->path = NULL;
        return -1;
    }
    int saved = 0;
    for (unsigned attempt = 0; attempt < 1000 && a->fd < 0; attempt++) {
        snprintf(a->tmp, tlen, "%s/.%s.kslab-tmp.%ld.%u", dir, base, (long)getpid(), attempt);
        a->fd = open(a->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        saved = errno;
        if (a->fd < 0 && saved != EEXIST)
            break;
    }
    free(dir);
    if (a->fd < 0) {
        snprintf(err, errlen, "cannot write '%s': %s", path, strerror(saved));
        free(a->tmp);
        free(a->path);
        a->tmp = a->path = NULL;
        return -1;
    }
    if (k == 'r')
        (void)fchmod(a->fd, st.st_mode & 07777); /* the replacement keeps the file's permissions */
    return 0;
}

int ksl__afile_write(ksl_afile *a, const void *data, size_t len)
{
    const char *p = data;
    while (len && !a->failed) {
        ssize_t k = write(a->fd, p, len);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0) {
            a->failed = true;
            a->err_no = k < 0 ? errno : EIO;
            break;
        }
        p += k;
        len -= (size_t)k;
    }
    return a->failed ? -1 : 0;
}

static void done(ksl_afile *a)
{
    free(a->tmp);
    free(a->path);
    a->tmp = a->path = NULL;
    a->fd = -1;
}

void ksl__afile_abort(ksl_afile *a)
{
    if (!a || (!a->path && a->fd < 0))
        return;
    if (a->fd >= 0)
        close(a->fd);
    if (a->tmp)
        unlink(a->tmp);
    done(a);
}

/* Make a rename in the folder of `path` durable; best effort (some file systems refuse). */
static void sync_dir(const char *path)
{
    char *dir = dir_of(path);
    int fd = dir ? open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
    free(dir);
}

int ksl__afile_commit(ksl_afile *a, char *err, size_t errlen)
{
    if (!a->path) {
        snprintf(err, errlen, "no file is being written");
        return -1;
    }
    int saved = a->failed ? a->err_no : 0;
    const char *what = "cannot write";
    if (!saved && a->tmp && fsync(a->fd) != 0)
        saved = errno;
    if (close(a->fd) != 0 && !saved)
        saved = errno;
    a->fd = -1;
    if (!saved && a->tmp) {
        /* No SIGINT / SIGTERM between here and the end of the rename: the file is complete in
         * place or not there, and the handler's flag is seen after. */
        sigset_t block, old;
        sigemptyset(&block);
        sigaddset(&block, SIGINT);
        sigaddset(&block, SIGTERM);
        pthread_sigmask(SIG_BLOCK, &block, &old);
        if (rename(a->tmp, a->path) != 0) {
            saved = errno;
            what = "cannot replace";
        } else {
            free(a->tmp);
            a->tmp = NULL; /* nothing to remove any more */
            sync_dir(a->path);
        }
        pthread_sigmask(SIG_SETMASK, &old, NULL);
    }
    if (saved) {
        snprintf(err, errlen, "%s '%s': %s", what, a->path, strerror(saved));
        if (a->tmp)
            unlink(a->tmp);
        done(a);
        return -1;
    }
    done(a);
    return 0;
}

int ksl__write_file(const char *path, const void *data, size_t len, char *err, size_t errlen)
{
    ksl_afile a;
    if (ksl__afile_open(&a, path, err, errlen) != 0)
        return -1;
    ksl__afile_write(&a, data, len);
    return ksl__afile_commit(&a, err, errlen);
}
