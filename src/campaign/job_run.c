/* SPDX-License-Identifier: MIT */
/* One engine run with its results collected (see job_run.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "job_run.h"

int job_run_engine(ksl_engine *e, ksl_trace_fn *trace_fn, void *trace_user, bool keep_choices, ksl_stats *stats,
                   uint64_t *trace_hash, uint32_t **choices, size_t *nchoices)
{
    if (trace_fn)
        ksl_engine_set_trace(e, trace_fn, trace_user);
    int rc = ksl_engine_run(e);
    ksl_engine_stats(e, stats);
    *trace_hash = ksl_engine_trace_hash(e);
    if (keep_choices) {
        size_t n;
        const uint32_t *c = ksl_engine_choices(e, &n);
        *choices = malloc((n ? n : 1) * sizeof **choices);
        if (*choices) {
            if (n)
                memcpy(*choices, c, n * sizeof *c);
            *nchoices = n;
        }
    }
    return rc;
}

bool job_checkable(int rc, const ksl_finding *findings, size_t n)
{
    return rc == 0 || (rc == 1 && n && !findings[n - 1].ended_run);
}

int job_verdict(const ksl_engine *e, int run_rc, const char *client_err, ksl_finding *findings, uint32_t *nfindings,
                char *err, size_t errlen)
{
    *nfindings = 0;
    if (run_rc == 1) {
        size_t n;
        const ksl_finding *f = ksl_engine_findings(e, &n);
        memcpy(findings, f, n * sizeof *f);
        *nfindings = (uint32_t)n;
        return 1;
    }
    if (run_rc == 0 && client_err[0]) {
        snprintf(err, errlen, "%s", client_err);
        return 2;
    }
    if (run_rc == 0)
        return 0;
    snprintf(err, errlen, "the engine could not run the job");
    return -1;
}
