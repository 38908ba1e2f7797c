/* SPDX-License-Identifier: MIT */
/* What every job runner (audio_job, stream_job) does around one engine run.  Host code. */
#ifndef KSLAB_CAMPAIGN_JOB_RUN_H
#define KSLAB_CAMPAIGN_JOB_RUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <kslab/engine.h>

/*
 * Run `e` (its threads already created) with `trace_fn` (may be NULL) seeing every event, then
 * collect its counters, its trace hash and, with keep_choices, a malloc'd copy of the strategy's
 * choice list (left NULL when out of memory).  Returns ksl_engine_run's result.
 */
int job_run_engine(ksl_engine *e, ksl_trace_fn *trace_fn, void *trace_user, bool keep_choices, ksl_stats *stats,
                   uint64_t *trace_hash, uint32_t **choices, size_t *nchoices);

/*
 * The job's verdict after the run: 1 with the engine's findings copied to `findings` (room for
 * KSL_MAX_RUN_FINDINGS) and their number to *nfindings; 2 with
 * `client_err` (the client could not set the job up: bad input) copied to `err`; 0 clean, when
 * the caller runs its output check; -1 with `err` set when the engine could not run.
 */
int job_verdict(const ksl_engine *e, int run_rc, const char *client_err, ksl_finding *findings, uint32_t *nfindings,
                char *err, size_t errlen);

/* Whether the job's output check may run after a verdict `rc` with these findings: the run was
 * clean, or every finding let it go on to its end. */
bool job_checkable(int rc, const ksl_finding *findings, size_t n);

#endif
