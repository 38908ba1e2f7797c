/* SPDX-License-Identifier: MIT */
/*
 * Writing a file atomically, the one way kslab writes files (see <kslab/report.h> for the
 * rules: a temporary file beside the target, flushed, synced and renamed over it; a character
 * device or FIFO written directly; anything else that is not a regular file refused).  Host
 * code.  Leaf of the layers: it calls nothing else of kslab.
 *
 *     ksl_afile a;
 *     if (ksl__afile_open(&a, path, err, n) != 0) ...            nothing was created
 *     ... write to a.fd (or ksl__afile_write) ...
 *     if (ksl__afile_commit(&a, err, n) != 0) ...                 the target is untouched
 *     (or ksl__afile_abort(&a) to give up: the temporary file is removed)
 */
#ifndef KSLAB_UTIL_AFILE_H
#define KSLAB_UTIL_AFILE_H

#include <stdbool.h>
#include <stddef.h>

typedef struct ksl_afile {
    char *path;    /* the target */
    char *tmp;     /* the temporary file, or NULL when the target is written directly */
    int fd;        /* where to write; -1 once committed or aborted */
    bool failed;   /* a write through ksl__afile_write failed (errno kept in err_no) */
    int err_no;
} ksl_afile;

/* Start writing `path`.  0, or -1 with a message naming the file (a missing folder, a directory,
 * a socket, no permission). */
int ksl__afile_open(ksl_afile *a, const char *path, char *err, size_t errlen);
/* Write all of data (retrying short writes); -1 on an error, which commit then reports. */
int ksl__afile_write(ksl_afile *a, const void *data, size_t len);
/* Finish: sync and rename into place (or, written directly, just check the writes).  0, or -1
 * with a message; either way the ksl_afile is done with (no temporary file is left). */
int ksl__afile_commit(ksl_afile *a, char *err, size_t errlen);
/* Give up: remove the temporary file.  The ksl_afile is done with.  NULL-safe, idempotent. */
void ksl__afile_abort(ksl_afile *a);
/* One call: write `len` bytes of `data` to `path` atomically. */
int ksl__write_file(const char *path, const void *data, size_t len, char *err, size_t errlen);
/* 0 when `path` could be opened for writing as above (checked without creating anything). */
int ksl__check_output_path(const char *path, char *err, size_t errlen);

#endif
