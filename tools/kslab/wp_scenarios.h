/* SPDX-License-Identifier: MIT */
/*
 * The built-in WavePci stress scenarios, and one execution of a scenario: a short audio job
 * (tools/kslab/audio_job.h) whose schedule comes from a seed or a recorded choice list.  The
 * verdict of an execution is a finding (the run's, or the output check's), or clean.
 * Host code.
 */
#ifndef KSLAB_TOOLS_WP_SCENARIOS_H
#define KSLAB_TOOLS_WP_SCENARIOS_H

#include "audio_job.h"

typedef struct wp_scenario {
    const char *name;
    const char *summary;
    bool capture;
    uint32_t audio_ms;          /* length of the signal */
    uint32_t irp_ms;
    uint32_t in_flight;
    uint32_t cancel_every;
    uint32_t pause_every_ms;
    uint32_t stop_after_irps;
    uint32_t buffer_offset;     /* of IRP buffers in their first page */
} wp_scenario;

/* All scenarios, in the order `kslab stress` runs them. */
const wp_scenario *wp_scenarios(size_t *n);
/* By name, or NULL. */
const wp_scenario *wp_scenario_find(const char *name);

/* The outcome of one execution. */
typedef struct wp_outcome {
    int32_t rc;                 /* 0 clean, 1 finding, -1 could not run (err) */
    uint64_t steps;
    uint64_t trace_hash;
    ksl_finding finding;         /* finding.file may be NULL when it came from a worker: see file */
    char file[256];              /* the finding's source file, as text ("" when unknown) */
    char err[256];
    uint32_t *choices;          /* the strategy's choices, when asked for (malloc'd) */
    size_t nchoices;
} wp_outcome;

/*
 * Run `sc` once with `drv` under `cfg` (cfg.seed, cfg.strategy, cfg.choices for a replay).  With
 * keep_choices the choice list is returned.  `trace_fn` (may be NULL) sees every event.
 */
void wp_execute(const wp_scenario *sc, const ksl_wavepci_driver *drv, const ksl_config *cfg, bool keep_choices,
                ksl_trace_fn *trace_fn, void *trace_user, wp_outcome *out);
void wp_outcome_free(wp_outcome *o);

/* What a job runner (audio_job, stream_job) says of one run, for wp_outcome_set. */
typedef struct wp_job_verdict {
    int rc;                      /* the job's: 0 clean, 1 finding, other: could not run */
    const ksl_finding *finding;  /* rc 1 */
    const ksl_stats *engine;
    uint64_t trace_hash;
    uint32_t *choices;           /* malloc'd; ownership passes to the outcome */
    size_t nchoices;
    bool data_ok;                /* rc 0: the job's output check passed */
    const char *check_rule;      /* rc 0, !data_ok: the rule the check breaks (NULL: default_rule) */
    const char *data_msg;
    const char *err;             /* other rc: why it could not run */
} wp_job_verdict;
/* Fill `out` from a job's verdict: the run's finding, or the output check's as a finding
 * (default_rule when the job names none), or clean, or could not run. */
void wp_outcome_set(wp_outcome *out, const wp_job_verdict *v, const char *default_rule);

#endif
