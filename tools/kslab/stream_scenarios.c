/* SPDX-License-Identifier: MIT */
/* The built-in stream class stress scenarios (see stream_scenarios.h). */
#include <string.h>

#include "stream_scenarios.h"

/* Short jobs, one per risk of the stream class: the devices make a frame every millisecond, so a
 * job of 8 read SRBs is ~10 ms of virtual time.  The canceller picks its moment (0-3 ms after
 * the submission) from the seed, and the churner's pauses move frames against interrupts, the
 * class's DPC and the priority callbacks. */
static const st_scenario scenarios[] = {
    {"steady", "steady capture: 8 read SRBs, 4 in flight, no cancels or pauses", 8, 4, 0, 0, 0},
    {"cancel-storm", "capture with every SRB cancelled at a seeded moment 0-3 ms into its life", 8, 4, 1, 0, 0},
    {"state-churn", "capture paused for 1 ms every 2 ms (RUN/PAUSE), every 3rd SRB cancelled", 8, 4, 3, 2, 0},
    {"close-outstanding", "STOP and close after 3 SRBs with 4 still outstanding, every 2nd cancelled", 8, 4, 2, 0, 3},
};

const st_scenario *st_scenarios(size_t *n)
{
    *n = sizeof scenarios / sizeof scenarios[0];
    return scenarios;
}

const st_scenario *st_scenario_find(const char *name)
{
    for (size_t i = 0; i < sizeof scenarios / sizeof scenarios[0]; i++)
        if (strcmp(scenarios[i].name, name) == 0)
            return &scenarios[i];
    return NULL;
}

void st_execute(const st_scenario *sc, const ksl_stream_driver *drv, const ksl_config *cfg, bool keep_choices,
                ksl_trace_fn *trace_fn, void *trace_user, wp_outcome *out)
{
    memset(out, 0, sizeof *out);
    stream_job job;
    stream_job_default(&job, drv);
    job.cfg = *cfg;
    job.frames = sc->frames;
    job.in_flight = sc->in_flight;
    job.cancel_every = sc->cancel_every;
    job.pause_every_ms = sc->pause_every_ms;
    job.close_after = sc->close_after;
    job.keep_choices = keep_choices;
    job.trace_fn = trace_fn;
    job.trace_user = trace_user;
    stream_result r;
    int rc = stream_job_run(&job, &r);
    wp_outcome_set(out,
                   &(wp_job_verdict){rc, &r.finding, &r.engine, r.trace_hash, r.choices, r.nchoices, r.data_ok,
                                     r.check_rule, r.data_msg, r.err},
                   "S1.data-mismatch");
    r.choices = NULL;
    stream_result_free(&r);
}
