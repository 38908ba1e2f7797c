/* SPDX-License-Identifier: MIT */
/* The trace and SARIF files of a finding (see report.h). */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <kslab/token.h>

#include "recorder.h"
#include "report.h"
#include "sarif.h"
#include "workers.h"

static void srcroot(char *buf, size_t len)
{
    if (!getcwd(buf, len))
        snprintf(buf, len, ".");
}

void report_run(uint32_t sc, const driver_ref *drv, const ksl_config *cfg, const char *token, const char *trace_path,
                const char *sarif_path, wp_outcome *out)
{
    FILE *tf = NULL;
    if (trace_path && !(tf = fopen(trace_path, "w")))
        fprintf(stderr, "kslab: cannot write the trace '%s': %s\n", trace_path, strerror(errno));
    recorder *rec = recorder_open(tf, cfg->cpus, RECORDER_RING_DEFAULT);
    exec_run(drv, sc, cfg, false, rec ? recorder_event : NULL, rec, out);
    if (rec && recorder_close(rec, out->rc == 1 ? &out->finding : NULL) != 0 && trace_path)
        fprintf(stderr, "kslab: writing the trace '%s' failed\n", trace_path);
    if (tf && fclose(tf) != 0)
        fprintf(stderr, "kslab: writing the trace '%s' failed\n", trace_path);
    if (sarif_path) {
        const recorder_entry *ev = NULL;
        size_t nev = rec ? recorder_ring(rec, &ev) : 0;
        char root[PATH_MAX], err[512];
        srcroot(root, sizeof root);
        if (sarif_write(sarif_path, out->rc == 1 ? &out->finding : NULL, ev, nev, token, root, err, sizeof err) != 0)
            fprintf(stderr, "kslab: %s\n", err);
    }
    recorder_free(rec);
}

typedef struct body_args {
    uint32_t sc;
    const driver_ref *drv;
    const ksl_config *cfg;
    const char *token, *trace, *sarif;
} body_args;

static void body(void *arg, wp_outcome *out)
{
    const body_args *b = arg;
    report_run(b->sc, b->drv, b->cfg, b->token, b->trace, b->sarif, out);
}

void report_files(uint32_t sc, const driver_ref *drv, const char *token, const char *trace_path,
                  const char *sarif_path, double timeout_s, const wp_outcome *found)
{
    char root[PATH_MAX], err[512];
    srcroot(root, sizeof root);
    bool no_replay = !found || strcmp(found->finding.rule, "K.driver-crash") == 0 ||
                     strcmp(found->finding.rule, "K.hang") == 0;
    if (no_replay) {
        if (found && trace_path)
            fprintf(stderr, "kslab: no trace for %s: the run does not finish\n", found->finding.rule);
        ksl_finding f;
        if (found) {
            /* A crash or a hang has no call site kslab saw; code scanning needs a location: the
             * driver itself. */
            f = found->finding;
            if (!f.file)
                f.file = found->file[0] ? found->file : drv->arg;
        }
        if (sarif_path && sarif_write(sarif_path, found ? &f : NULL, NULL, 0, token, root, err, sizeof err) != 0)
            fprintf(stderr, "kslab: %s\n", err);
        return;
    }
    ksl_token t;
    if (ksl_token_decode(token, &t, err, sizeof err) != 0) {
        fprintf(stderr, "kslab: %s\n", err);
        return;
    }
    body_args b = {sc, drv, &t.cfg, token, trace_path, sarif_path};
    wp_outcome o;
    wp_run_isolated(timeout_s, body, &b, &o);
    if (o.rc != 1 || strcmp(o.finding.rule, found->finding.rule) != 0)
        fprintf(stderr, "kslab: the replay for the trace did not reproduce %s (got %s)\n", found->finding.rule,
                o.rc == 1 ? o.finding.rule : "a clean run");
    wp_outcome_free(&o);
    ksl_token_free(&t);
}
