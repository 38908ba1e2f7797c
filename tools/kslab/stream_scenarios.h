/* SPDX-License-Identifier: MIT */
/*
 * The built-in stream class stress scenarios, and one execution of a scenario: a short streaming
 * job (tools/kslab/stream_job.h) whose schedule comes from a seed or a recorded choice list.  The
 * verdict of an execution is a finding (the run's, or the data check's: S.frame-check,
 * S.srb-not-completed, S.srb-failed, S.no-data), or clean; the outcome is the WavePci one
 * (wp_outcome), so the workers, shrinking and reports treat both alike.  Host code.
 */
#ifndef KSLAB_TOOLS_STREAM_SCENARIOS_H
#define KSLAB_TOOLS_STREAM_SCENARIOS_H

#include "stream_job.h"
#include "wp_scenarios.h"

typedef struct st_scenario {
    const char *name;
    const char *summary;
    uint32_t frames;         /* read SRBs in all */
    uint32_t in_flight;
    uint32_t cancel_every;   /* stream_job.cancel_every */
    uint32_t pause_every_ms; /* stream_job.pause_every_ms */
    uint32_t close_after;    /* stream_job.close_after */
} st_scenario;

/* All scenarios, in the order `kslab stress` runs them. */
const st_scenario *st_scenarios(size_t *n);
/* By name, or NULL. */
const st_scenario *st_scenario_find(const char *name);

/*
 * Run `sc` once with `drv` under `cfg` (cfg.seed, cfg.strategy, cfg.choices for a replay).  With
 * keep_choices the choice list is returned.  `trace_fn` (may be NULL) sees every event.  A driver
 * that cannot run at all (does not register, fails to start, a device kslab does not simulate)
 * gives rc -1 with err.
 */
void st_execute(const st_scenario *sc, const ksl_stream_driver *drv, const ksl_config *cfg, bool keep_choices,
                ksl_trace_fn *trace_fn, void *trace_user, wp_outcome *out);

#endif
