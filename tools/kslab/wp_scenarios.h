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

#endif
