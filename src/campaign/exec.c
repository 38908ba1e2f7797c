/* SPDX-License-Identifier: MIT */
/* One execution in a worker process (see exec.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <kslab/stream.h>
#include <kslab/windows.h>

#include "audio_job.h"
#include "demo.h"
#include "exec.h"
#include "job_client.h"
#include "job_run.h"
#include "scenarios.h"
#include "stream_job.h"

#define SIGNAL_SEED 1u /* the built-in test signal */
#define RING_EVENTS RECORDER_RING_DEFAULT

const ksl_job *ksl__request_job(const ksl__request *rq)
{
    size_t n;
    const ksl__scenario *sc = ksl__scenario_list(&n);
    return rq->scenario >= 0 && (size_t)rq->scenario < n ? &sc[rq->scenario].job : &rq->job;
}

void ksl__outcome_free(ksl__outcome *o)
{
    free(o->choices);
    free(o->counters);
    free(o->events);
    free(o->output);
    free(o->driver_output);
    for (uint32_t i = 0; i < o->nextra; i++)
        free(o->extra[i].events);
    free(o->extra);
    o->extra = NULL;
    o->nextra = 0;
    o->choices = NULL;
    o->counters = NULL;
    o->events = NULL;
    o->output = NULL;
    o->driver_output = NULL;
    o->nchoices = o->ncounters = o->nevents = 0;
}

size_t ksl__outcome_nfindings(const ksl__outcome *o)
{
    return o->rc == 1 ? 1u + o->nextra : 0;
}

const ksl_finding *ksl__outcome_finding(const ksl__outcome *o, size_t k, const char **file,
                                        const recorder_entry **ev, size_t *nev)
{
    const char *fl = k ? o->extra[k - 1].file : o->file;
    *file = fl[0] ? fl : NULL;
    *ev = k ? o->extra[k - 1].events : o->events;
    *nev = k ? o->extra[k - 1].nevents : o->nevents;
    return k ? &o->extra[k - 1].finding : &o->finding;
}

bool ksl__outcome_reproduces(const ksl__outcome *o, const ksl__outcome *ref)
{
    size_t n = ksl__outcome_nfindings(o), nref = ksl__outcome_nfindings(ref);
    for (size_t i = 0; i < nref; i++) {
        const char *rule = i ? ref->extra[i - 1].finding.rule : ref->finding.rule;
        bool found = false;
        for (size_t k = 0; k < n && !found; k++)
            found = strcmp(rule, k ? o->extra[k - 1].finding.rule : o->finding.rule) == 0;
        if (!found)
            return false;
    }
    return nref > 0;
}

static void counter(ksl__outcome *o, const char *name, uint64_t v)
{
    if (!o->counters && !(o->counters = calloc(KSL__MAX_COUNTERS, sizeof *o->counters)))
        return;
    if (o->ncounters == KSL__MAX_COUNTERS)
        return;
    ksl__counter *c = &o->counters[o->ncounters++];
    snprintf(c->name, sizeof c->name, "%s", name);
    c->value = v;
}

static void engine_counters(ksl__outcome *o, const ksl_stats *s, uint64_t trace_hash)
{
    counter(o, "engine.steps", s->steps);
    counter(o, "engine.choices", s->choices);
    counter(o, "engine.switches", s->switches);
    counter(o, "engine.interrupts", s->interrupts);
    counter(o, "engine.dpcs", s->dpcs);
    counter(o, "engine.work_items", s->work_items);
    counter(o, "engine.time_ns", s->time_ns);
    counter(o, "engine.trace_hash", trace_hash);
    size_t nw;
    const ksl_window *w = ksl_windows(&nw);
    for (size_t i = 0; i < nw && i < KSL_MAX_WINDOWS; i++) {
        if (!s->windows[i])
            continue;
        char name[64];
        snprintf(name, sizeof name, "window.%s", w[i].name);
        counter(o, name, s->windows[i]);
    }
}

/* The outcome's next finding slot: the first, then the extras (NULL when out of memory). */
static ksl_finding *next_finding(ksl__outcome *o, char **file, size_t *filelen)
{
    if (o->rc != 1) {
        o->rc = 1;
        *file = o->file;
        *filelen = sizeof o->file;
        return &o->finding;
    }
    if (!o->extra && !(o->extra = calloc(KSL_MAX_RUN_FINDINGS, sizeof *o->extra)))
        return NULL;
    if (o->nextra + 1 >= KSL_MAX_RUN_FINDINGS)
        return NULL;
    ksl__extra *x = &o->extra[o->nextra++];
    *file = x->file;
    *filelen = sizeof x->file;
    return &x->finding;
}

/* The job's verdict into the outcome: its run's findings, and its output check's when the check
 * ran and failed (a run that went on after its findings is still checked), or clean. */
static void verdict(ksl__outcome *o, int rc, const ksl_finding *fs, uint32_t nf, bool checked,
                    const ksl_stats *engine, uint64_t trace_hash, uint32_t *choices, size_t nchoices, bool data_ok,
                    const char *check_rule, const char *data_msg, const char *err)
{
    o->steps = engine->steps;
    o->time_ns = engine->time_ns;
    o->trace_hash = trace_hash;
    o->choices = choices;
    o->nchoices = nchoices;
    snprintf(o->data_msg, sizeof o->data_msg, "%s", data_msg ? data_msg : "");
    char *file;
    size_t flen;
    ksl_finding *f;
    if (rc == 1) {
        for (uint32_t i = 0; i < nf && (f = next_finding(o, &file, &flen)) != NULL; i++) {
            *f = fs[i];
            snprintf(file, flen, "%s", fs[i].file ? fs[i].file : "");
            f->file = NULL; /* the text is in `file` */
        }
    }
    if ((rc == 0 || rc == 1) && checked && !data_ok && (f = next_finding(o, &file, &flen)) != NULL) {
        memset(f, 0, sizeof *f);
        file[0] = 0;
        snprintf(f->rule, sizeof f->rule, "%s", check_rule);
        snprintf(f->message, sizeof f->message, "%s", data_msg);
        snprintf(f->context, sizeof f->context, "the output check after the run");
        f->cpu = -1;
        f->step = engine->steps;
        f->time_ns = engine->time_ns;
    } else if (rc == 0) {
        o->rc = 0;
    } else if (rc != 1) {
        o->rc = rc == 2 ? 2 : -1;
        snprintf(o->err, sizeof o->err, "%s", err && err[0] ? err : "the job could not run");
    }
}

static void copy_events(recorder_entry **dst, size_t *ndst, const recorder_entry *ev, size_t nev)
{
    if (nev && (*dst = malloc(nev * sizeof *ev)) != NULL) {
        memcpy(*dst, ev, nev * sizeof *ev);
        *ndst = nev;
    }
}

/* The built-in test signal, made once per worker for each shape asked (stress asks the same
 * one for every execution of a scenario). */
static const ksl_pcm *signal_of(const ksl_job *job)
{
    static ksl_pcm cache[8];
    static size_t next;
    for (size_t i = 0; i < sizeof cache / sizeof cache[0]; i++)
        if (cache[i].samples && cache[i].rate == job->rate && cache[i].channels == job->channels &&
            cache[i].frames == job->frames)
            return &cache[i];
    ksl_pcm *p = &cache[next++ % (sizeof cache / sizeof cache[0])];
    ksl_pcm_free(p);
    if (ksl_pcm_generate(p, job->rate, (uint16_t)job->channels, (size_t)job->frames, SIGNAL_SEED) != 0)
        return NULL;
    return p;
}

/* The AC'97's rates (it runs 8-48 kHz with variable-rate audio): a seeded format picks one. */
static const uint32_t seeded_rates[] = {8000, 11025, 16000, 22050, 32000, 44100, 48000};

static void run_audio(const ksl__driver *drv, const ksl_device_model *device, const ksl__request *rq,
                      const ksl_job *job_in, const audio_shape *shape, const ksl_pcm *input, recorder *rec,
                      ksl__outcome *o)
{
    ksl_job seeded = *job_in;
    const ksl_job *job = job_in;
    if (shape && shape->seeded_format) {
        uint64_t m = ksl__mix(rq->cfg.seed ^ 0xF0F0F0F0ull);
        seeded.rate = seeded_rates[m % (sizeof seeded_rates / sizeof seeded_rates[0])];
        seeded.channels = 1u + (uint32_t)(m >> 32) % 2u;
        seeded.frames = job_in->frames * seeded.rate / job_in->rate;
        job = &seeded;
    }
    const ksl_pcm *in = (rq->flags & KSL__RQ_INPUT) && input ? input : signal_of(job);
    if (!in) {
        o->rc = -1;
        snprintf(o->err, sizeof o->err, "out of memory for the test signal");
        return;
    }
    audio_job aj;
    audio_job_default(&aj, in, drv->wavepci, job->kind == KSL_JOB_CAPTURE);
    aj.device = device;
    aj.cfg = rq->cfg;
    aj.irp_ms = job->irp_ms;
    aj.irps_in_flight = job->in_flight;
    aj.cancel_every = job->cancel_every;
    aj.pause_every_ms = job->pause_every_ms;
    aj.stop_after_irps = job->stop_after;
    aj.buffer_offset = job->buffer_offset;
    aj.scatter = !job->contiguous;
    aj.keep_output = (rq->flags & KSL__RQ_KEEP_OUTPUT) != 0;
    if (shape) {
        aj.shape = *shape;
        aj.cfg.jitter_ns = shape->jitter_ns;
        aj.cfg.timer_jitter_ns = shape->timer_jitter_ns;
    }
    aj.keep_choices = (rq->flags & KSL__RQ_KEEP_CHOICES) != 0;
    aj.trace_fn = rec ? recorder_event : NULL;
    aj.trace_user = rec;
    audio_result r;
    int rc = audio_job_run(&aj, &r);
    verdict(o, rc, r.findings, r.nfindings, r.checked, &r.engine, r.trace_hash, r.choices, r.nchoices, r.data_ok,
            r.check_rule ? r.check_rule : "W4.data-mismatch", r.data_msg, r.err);
    r.choices = NULL;
    if (rc == 0 || rc == 1) {
        const ksl_wavepci_stats *p = &r.port;
        counter(o, "bytes.submitted", p->bytes_submitted);
        counter(o, "bytes.transferred", p->bytes_transferred);
        counter(o, "bytes.cancelled", p->bytes_cancelled);
        counter(o, "irps.submitted", p->irps_submitted);
        counter(o, "irps.completed", p->irps_completed);
        counter(o, "irps.cancelled", p->irps_cancelled);
        counter(o, "faults.injected", r.faults_injected);
        counter(o, "formats.refused", r.format_refused);
        counter(o, "mappings.handed", p->mappings_handed);
        counter(o, "mappings.released", p->mappings_released);
        counter(o, "mappings.revoked", p->mappings_revoked);
        counter(o, "port.get_refused", p->get_refused);
        counter(o, "port.mapping_available", p->mapping_available_calls);
        counter(o, "port.revoke_calls", p->revoke_calls);
        counter(o, "port.terminate_calls", p->terminate_calls);
        counter(o, "device.interrupts", r.dev.interrupts);
        counter(o, "device.buffers", r.dev.buffers_completed);
        counter(o, "device.fill_samples", r.dev.fill_samples);
        counter(o, "device.overrun_ns", r.dev.overrun_ns);
        counter(o, "device.codec.master_volume", r.codec_master_volume);
        counter(o, "device.codec.pcm_out_volume", r.codec_pcm_out_volume);
        engine_counters(o, &r.engine, r.trace_hash);
    }
    if (o->rc == 0 && aj.keep_output && r.out) {
        size_t block = (size_t)in->channels * 2u;
        o->output = (int16_t *)(void *)r.out;
        r.out = NULL;
        o->output_frames = r.out_len / block;
        o->output_rate = in->rate;
        o->output_channels = in->channels;
    }
    audio_result_free(&r);
}

static void run_stream(const ksl__driver *drv, const ksl_device_model *device, const ksl__request *rq,
                       const ksl_job *job, const audio_shape *shape, recorder *rec, ksl__outcome *o)
{
    stream_job sj;
    stream_job_default(&sj, drv->stream);
    sj.device = device;
    sj.cfg = rq->cfg;
    sj.frames = job->srbs;
    sj.in_flight = job->in_flight;
    sj.cancel_every = job->cancel_every;
    sj.pause_every_ms = job->pause_every_ms;
    sj.close_after = job->close_after;
    sj.wait_ms = job->wait_ms;
    sj.keep_choices = (rq->flags & KSL__RQ_KEEP_CHOICES) != 0;
    sj.aim = shape ? shape->aim : 0;
    sj.faults = shape ? shape->faults : 0;
    sj.query_every_ms = shape ? shape->query_every_ms : 0;
    sj.cfg.jitter_ns = shape ? shape->jitter_ns : 0;
    sj.cfg.timer_jitter_ns = shape ? shape->timer_jitter_ns : 0;
    sj.fault = shape ? shape->fault : NULL;
    sj.trace_fn = rec ? recorder_event : NULL;
    sj.trace_user = rec;
    stream_result r;
    int rc = stream_job_run(&sj, &r);
    verdict(o, rc, r.findings, r.nfindings, r.checked, &r.engine, r.trace_hash, r.choices, r.nchoices, r.data_ok,
            r.check_rule ? r.check_rule : "S1.data-mismatch", r.data_msg, r.err);
    r.choices = NULL;
    if (rc == 0 || rc == 1) {
        counter(o, "frames.delivered", r.frames_delivered);
        counter(o, "frames.missing", r.frames_missing);
        counter(o, "frames.bad", r.frames_bad);
        counter(o, "frames.disorder", r.frames_disorder);
        counter(o, "frames.bytes", r.frame_bytes);
        counter(o, "srbs.submitted", r.srbs_submitted);
        counter(o, "srbs.completed", r.srbs_ok);
        counter(o, "srbs.cancelled", r.srbs_cancelled);
        counter(o, "srbs.state_queries", r.state_queries);
        counter(o, "faults.injected", r.faults_injected);
        counter(o, "srbs.picked", r.srbs_picked);
        counter(o, "srbs.failed", r.srbs_failed);
        counter(o, "srbs.timed_out", r.srbs_timed_out);
        counter(o, "class.cancel_calls", r.cls.cancel_calls);
        counter(o, "class.timeouts", r.cls.timeouts);
        counter(o, "class.ready_for_next", r.cls.ready_for_next);
        counter(o, "class.max_outstanding", r.cls.max_outstanding);
        counter(o, "device.frames", r.dev_frames);
        counter(o, "device.dropped", r.dev_dropped);
        counter(o, "device.interrupts", r.dev_interrupts);
        for (int i = 0; i < KSL_STRM_E_COUNT; i++) {
            const ksl_stream_entry_stats *s = &r.cls.entry[i];
            if (!s->calls)
                continue;
            char name[48];
            const char *en = ksl_stream_entry_name(i);
            snprintf(name, sizeof name, "entry.%s.calls", en);
            counter(o, name, s->calls);
            snprintf(name, sizeof name, "entry.%s.max_ns", en);
            counter(o, name, s->max_ns);
            snprintf(name, sizeof name, "entry.%s.max_irql", en);
            counter(o, name, s->max_irql);
        }
        engine_counters(o, &r.engine, r.trace_hash);
    }
    stream_result_free(&r);
}

static void run_demo(const ksl__request *rq, int demo, recorder *rec, ksl__outcome *o)
{
    size_t n;
    const demo_scenario *sc = demo_list(&n);
    if (demo < 0 || (size_t)demo >= n) {
        o->rc = -1;
        snprintf(o->err, sizeof o->err, "no demonstration %d", demo);
        return;
    }
    char err[256] = "";
    ksl_engine *e = ksl_engine_create(&rq->cfg, err, sizeof err);
    if (!e) {
        o->rc = -1;
        snprintf(o->err, sizeof o->err, "%s", err);
        return;
    }
    demo_result dr;
    memset(&dr, 0, sizeof dr);
    void *st = sc[demo].setup(e, &dr);
    if (rec)
        ksl_engine_set_trace(e, recorder_event, rec);
    int rc = ksl_engine_run(e);
    ksl_stats stats;
    ksl_engine_stats(e, &stats);
    uint32_t *choices = NULL;
    size_t nch = 0;
    if (rq->flags & KSL__RQ_KEEP_CHOICES) {
        const uint32_t *c = ksl_engine_choices(e, &nch);
        if ((choices = malloc((nch ? nch : 1) * sizeof *choices)) != NULL && nch)
            memcpy(choices, c, nch * sizeof *c);
        else if (!choices)
            nch = 0;
    }
    char msg[160];
    snprintf(msg, sizeof msg, "the shared counter reached %llu of %llu increments", (unsigned long long)dr.counter,
             (unsigned long long)dr.expected);
    size_t nf;
    const ksl_finding *f = ksl_engine_findings(e, &nf);
    bool checked = job_checkable(rc, f, nf);
    verdict(o, rc < 0 ? -1 : rc, f, (uint32_t)nf, checked, &stats, ksl_engine_trace_hash(e), choices, nch,
            dr.counter == dr.expected, "K.driver-assert", msg,
            "the engine could not start the run (out of memory for its stacks?)");
    if (rc == 0 || rc == 1) {
        counter(o, "demo.counter", dr.counter);
        counter(o, "demo.expected", dr.expected);
        counter(o, "demo.ticks", dr.ticks);
        engine_counters(o, &stats, ksl_engine_trace_hash(e));
    }
    sc[demo].teardown(st);
    ksl_engine_destroy(e);
}

void ksl__execute(const ksl__driver *drv, const ksl_device_model *device, const ksl__request *rq,
                  const ksl_pcm *input, int trace_fd, ksl__outcome *o)
{
    memset(o, 0, sizeof *o);
    size_t n;
    const ksl__scenario *scen = ksl__scenario_list(&n);
    const ksl__scenario *sc = rq->scenario >= 0 && (size_t)rq->scenario < n ? &scen[rq->scenario] : NULL;
    if (rq->scenario >= 0 && !sc) {
        o->rc = -1;
        snprintf(o->err, sizeof o->err, "no scenario %d", (int)rq->scenario);
        return;
    }
    ksl__request r = *rq;
    if (r.flags & KSL__RQ_RANDOM)
        r.cfg.strategy = KSL_STRATEGY_RANDOM;
    FILE *tf = NULL;
    if ((r.flags & KSL__RQ_TRACE) && trace_fd >= 0) {
        int fd = dup(trace_fd);
        if (fd < 0 || !(tf = fdopen(fd, "w"))) {
            snprintf(o->trace_err, sizeof o->trace_err, "cannot write the trace: %s", strerror(errno));
            if (fd >= 0)
                close(fd);
        }
    }
    recorder *rec = NULL;
    if ((tf || (r.flags & KSL__RQ_RECORD)) &&
        !(rec = recorder_open(tf, r.cfg.cpus, (r.flags & KSL__RQ_RECORD) ? RING_EVENTS : 0))) {
        o->rc = -1;
        snprintf(o->err, sizeof o->err, "out of memory for the recorder");
        if (tf)
            fclose(tf);
        return;
    }
    const ksl_job *job = ksl__request_job(&r);
    if (sc && sc->kind == KSL__SCEN_DEMO)
        run_demo(&r, sc->demo, rec, o);
    else if (job->kind == KSL_JOB_STREAM && drv->kind == KSL__DRV_STREAM)
        run_stream(drv, device, &r, job, sc ? &sc->shape : NULL, rec, o);
    else if ((job->kind == KSL_JOB_PLAY || job->kind == KSL_JOB_CAPTURE) && drv->kind == KSL__DRV_WAVEPCI)
        run_audio(drv, device, &r, job, sc ? &sc->shape : NULL, input, rec, o);
    else {
        o->rc = 2;
        snprintf(o->err, sizeof o->err, "driver '%s' is %s: it cannot run this job", drv->name,
                 ksl__drv_kind_text(drv->kind));
    }
    if (rec) {
        ksl_finding fs[KSL_MAX_RUN_FINDINGS];
        size_t nf = 0;
        if (o->rc == 1) {
            fs[nf] = o->finding;
            fs[nf++].file = o->file[0] ? o->file : NULL;
            for (uint32_t i = 0; i < o->nextra; i++) {
                fs[nf] = o->extra[i].finding;
                fs[nf++].file = o->extra[i].file[0] ? o->extra[i].file : NULL;
            }
        }
        if (recorder_close(rec, fs, nf) != 0 && !o->trace_err[0])
            snprintf(o->trace_err, sizeof o->trace_err, "writing the trace failed: %s", strerror(errno ? errno : EIO));
        /* Each finding's events are the ring as it was when the engine recorded it; a finding of
         * the output check comes after the run: the ring at its end. */
        for (size_t k = 0; k < (nf ? nf : 1); k++) {
            const recorder_entry *ev;
            size_t nev = recorder_marked(rec, k, &ev);
            if (!nev)
                nev = recorder_ring(rec, &ev);
            if (k)
                copy_events(&o->extra[k - 1].events, &o->extra[k - 1].nevents, ev, nev);
            else
                copy_events(&o->events, &o->nevents, ev, nev);
        }
        recorder_free(rec);
    }
    if (tf && fclose(tf) != 0 && !o->trace_err[0])
        snprintf(o->trace_err, sizeof o->trace_err, "writing the trace failed: %s", strerror(errno));
}
