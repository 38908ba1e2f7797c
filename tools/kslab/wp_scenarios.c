/* SPDX-License-Identifier: MIT */
/* The built-in WavePci stress scenarios (see wp_scenarios.h). */
#include <stdlib.h>
#include <string.h>

#include "wp_scenarios.h"

#define SCENARIO_RATE 48000u
#define SCENARIO_CHANNELS 2u

/* IRP buffers start 3 KiB into a page, so a 10 ms IRP (1 920 bytes at 48 kHz stereo) is two
 * mappings: the miniport holds several per IRP, and cancellation revokes runs of them.
 *
 * cancel-race: the canceller wakes on a timer and the service DPC on the device's interrupt, and
 * the exploration interleaves only contexts runnable at the same virtual time, so a cancel races
 * the DPC's release or GetMapping only when its moment falls inside the DPC (a few µs).  With
 * 10 ms IRPs that is one cancel in thousands; 1 ms IRPs (an interrupt every 1 ms, cancels within
 * 1 ms, ten times as many of them), each two mappings of 96 bytes (4 000 bytes into the page),
 * make it one execution in tens. */
static const wp_scenario scenarios[] = {
    {"steady", "steady playback: 60 ms in 10 ms IRPs, 4 in flight", false, 60, 10, 4, 0, 0, 0, 3072},
    {"cancel-storm", "playback with every IRP cancelled at a seeded moment of its playing time", false, 60, 10, 4, 1, 0,
     0, 3072},
    {"pause-churn", "playback paused for 1 ms every 5 ms, every 3rd IRP cancelled", false, 60, 10, 4, 3, 5, 0, 3072},
    {"stop-during-dma", "STOP after 2 IRPs while the rest are queued and mapped, every 2nd IRP cancelled", false, 60,
     10, 5, 2, 0, 2, 3072},
    {"capture-terminate", "capture paused every 7 ms (TerminatePacket), every 3rd IRP cancelled", true, 60, 10, 4, 3, 7,
     0, 3072},
    {"cancel-race", "1 ms IRPs of two mappings, every one cancelled: cancels that meet the service DPC", false, 60, 1,
     4, 1, 0, 0, 4000},
};

const wp_scenario *wp_scenarios(size_t *n)
{
    *n = sizeof scenarios / sizeof scenarios[0];
    return scenarios;
}

const wp_scenario *wp_scenario_find(const char *name)
{
    for (size_t i = 0; i < sizeof scenarios / sizeof scenarios[0]; i++)
        if (strcmp(scenarios[i].name, name) == 0)
            return &scenarios[i];
    return NULL;
}

/* The scenario signals, made once per process (the same bytes for every seed). */
static ksl_pcm signals[sizeof scenarios / sizeof scenarios[0]];

static const ksl_pcm *signal_of(const wp_scenario *sc)
{
    ksl_pcm *p = &signals[sc - scenarios];
    if (!p->samples &&
        ksl_pcm_generate(p, SCENARIO_RATE, SCENARIO_CHANNELS, (size_t)SCENARIO_RATE * sc->audio_ms / 1000, 1) != 0)
        return NULL;
    return p;
}

void wp_execute(const wp_scenario *sc, const ksl_wavepci_driver *drv, const ksl_config *cfg, bool keep_choices,
                ksl_trace_fn *trace_fn, void *trace_user, wp_outcome *out)
{
    memset(out, 0, sizeof *out);
    const ksl_pcm *in = signal_of(sc);
    if (!in) {
        out->rc = -1;
        snprintf(out->err, sizeof out->err, "out of memory for the scenario's signal");
        return;
    }
    audio_job job;
    audio_job_default(&job, in, drv, sc->capture);
    job.cfg = *cfg;
    job.irp_ms = sc->irp_ms;
    job.irps_in_flight = sc->in_flight;
    job.cancel_every = sc->cancel_every;
    job.pause_every_ms = sc->pause_every_ms;
    job.stop_after_irps = sc->stop_after_irps;
    job.buffer_offset = sc->buffer_offset;
    job.keep_choices = keep_choices;
    job.trace_fn = trace_fn;
    job.trace_user = trace_user;
    audio_result r;
    int rc = audio_job_run(&job, &r);
    wp_outcome_set(out,
                   &(wp_job_verdict){rc, &r.finding, &r.engine, r.trace_hash, r.choices, r.nchoices, r.data_ok,
                                     r.check_rule, r.data_msg, r.err},
                   "W4.data-mismatch");
    r.choices = NULL;
    audio_result_free(&r);
}

void wp_outcome_set(wp_outcome *out, const wp_job_verdict *v, const char *default_rule)
{
    out->steps = v->engine->steps;
    out->trace_hash = v->trace_hash;
    out->choices = v->choices;
    out->nchoices = v->nchoices;
    if (v->rc == 1) {
        out->rc = 1;
        out->finding = *v->finding;
        snprintf(out->file, sizeof out->file, "%s", v->finding->file ? v->finding->file : "");
    } else if (v->rc == 0 && !v->data_ok) {
        out->rc = 1;
        snprintf(out->finding.rule, sizeof out->finding.rule, "%s", v->check_rule ? v->check_rule : default_rule);
        snprintf(out->finding.message, sizeof out->finding.message, "%s", v->data_msg);
        snprintf(out->finding.context, sizeof out->finding.context, "the output check after the run");
        out->finding.cpu = -1;
        out->finding.step = v->engine->steps;
        out->finding.time_ns = v->engine->time_ns;
    } else if (v->rc == 0) {
        out->rc = 0;
    } else {
        out->rc = -1;
        snprintf(out->err, sizeof out->err, "%s", v->err && v->err[0] ? v->err : "the job could not run");
    }
}

void wp_outcome_free(wp_outcome *o)
{
    free(o->choices);
    o->choices = NULL;
    o->nchoices = 0;
}
