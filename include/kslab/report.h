/* SPDX-License-Identifier: MIT */
/*
 * Writers of a result (<kslab/result.h>): JSON, SARIF 2.1.0, JUnit XML and WAV, and the one way kslab
 * writes files.
 *
 * Files.  Every file is written atomically: into a temporary file beside it, flushed and
 * synced, then renamed over the target, so a reader sees the old file or the complete new one,
 * never a part; on any failure the temporary file is removed and the target is untouched.  The
 * target must be a regular file or not exist; a character device or a FIFO (/dev/stdout, a
 * pipe) is written directly instead (no rename); anything else (a directory, a socket, a block
 * device) is refused.  A write error (a full disk, a missing folder) is an error with a
 * message.  SIGINT and SIGTERM are held back while a file is renamed into place.
 *
 * Every function is host code.  Each returns 0, or -1 with a message in `err` naming the file
 * and the problem.
 */
#ifndef KSLAB_REPORT_H
#define KSLAB_REPORT_H

#include <stddef.h>
#include <stdio.h>

#include <kslab/result.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The result as one JSON document (malloc'd, ends in a newline), or NULL when out of memory.
 * Keys: see docs/ARCHITECTURE.md ("The result"). */
char *ksl_result_json(const ksl_result *r);
/* Write the result's JSON to the file `path`. */
int ksl_write_json(const ksl_result *r, const char *path, char *err, size_t errlen);
/*
 * Write the result as SARIF 2.1.0 (GitHub code scanning): every rule of the catalog, one result
 * per finding at its call site, its events as thread flows.  File names under `srcroot` become
 * relative to it (uriBaseId %SRCROOT%); `srcroot` NULL or "": the current directory.
 */
int ksl_write_sarif(const ksl_result *r, const char *path, const char *srcroot, char *err, size_t errlen);

typedef struct ksl_sarif_opts {
    const char *srcroot;  /* as ksl_write_sarif's */
    /* The URL of kslab's checks page (docs/CHECKS.md as the team publishes it, `kslab rules
     * --markdown` writes it): each rule's helpUri is this URL with the rule's heading anchor
     * ("#w6removed-twice"), and the tool's informationUri is the URL.  NULL: the default this
     * kslab was built with (CMake KSLAB_DOCS_URL); "": no helpUri. */
    const char *docs_url;
} ksl_sarif_opts;
/* ksl_write_sarif with options. */
int ksl_write_sarif_opts(const ksl_result *r, const char *path, const ksl_sarif_opts *o, char *err, size_t errlen);
/*
 * Write the result as JUnit XML (Jenkins, GitLab, Azure Pipelines): one test case per scenario
 * (a job: one), a failure per finding under its scenario's test case with the rule id, the
 * message, the call site and the replay command; a run that could not be made, an error.
 */
int ksl_write_junit(const ksl_result *r, const char *path, char *err, size_t errlen);
/* Write the result's output samples (ksl_job_opts.keep_output) as a 16-bit PCM WAV file. */
int ksl_write_wav(const ksl_result *r, const char *path, char *err, size_t errlen);
/*
 * Write `len` bytes to the open file `f` (standard output) in full and flush it: -1 with a
 * message on a write error (a full device, a closed pipe).
 */
int ksl_write_stream(FILE *f, const char *what, const void *data, size_t len, char *err, size_t errlen);
/* 0 when `path` can be written as a file (its folder exists, it is not a directory...), else -1
 * with a message: to refuse an output before a long run rather than after it. */
int ksl_check_output_path(const char *path, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif
#endif
