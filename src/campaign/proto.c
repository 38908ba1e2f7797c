/* SPDX-License-Identifier: MIT */
/* Requests and outcomes as bytes (see proto.h). */
#include <stdlib.h>
#include <string.h>

#include "proto.h"

static void put_job(ksl__wbuf *b, const ksl_job *j)
{
    ksl__w_u32(b, (uint32_t)j->kind);
    ksl__w_u32(b, j->rate);
    ksl__w_u32(b, j->channels);
    ksl__w_u64(b, j->frames);
    ksl__w_u32(b, j->irp_ms);
    ksl__w_u32(b, j->stop_after);
    ksl__w_u32(b, j->buffer_offset);
    ksl__w_u8(b, j->contiguous);
    ksl__w_u32(b, j->srbs);
    ksl__w_u32(b, j->close_after);
    ksl__w_u32(b, j->wait_ms);
    ksl__w_u32(b, j->in_flight);
    ksl__w_u32(b, j->cancel_every);
    ksl__w_u32(b, j->pause_every_ms);
}

static void get_job(ksl__rbuf *r, ksl_job *j)
{
    j->kind = (ksl_job_kind)ksl__r_u32(r);
    j->rate = ksl__r_u32(r);
    j->channels = ksl__r_u32(r);
    j->frames = ksl__r_u64(r);
    j->irp_ms = ksl__r_u32(r);
    j->stop_after = ksl__r_u32(r);
    j->buffer_offset = ksl__r_u32(r);
    uint8_t contiguous = ksl__r_u8(r);
    j->contiguous = contiguous != 0;
    if (contiguous > 1)
        r->bad = true;
    j->srbs = ksl__r_u32(r);
    j->close_after = ksl__r_u32(r);
    j->wait_ms = ksl__r_u32(r);
    j->in_flight = ksl__r_u32(r);
    j->cancel_every = ksl__r_u32(r);
    j->pause_every_ms = ksl__r_u32(r);
}

static void put_cfg(ksl__wbuf *b, const ksl_config *c)
{
    ksl__w_u32(b, c->cpus);
    ksl__w_u32(b, (uint32_t)c->engine);
    ksl__w_u64(b, c->seed);
    ksl__w_u32(b, (uint32_t)c->strategy);
    ksl__w_u32(b, c->pct_depth);
    ksl__w_u64(b, c->pct_steps);
    ksl__w_u64(b, c->max_steps);
    ksl__w_u64(b, c->skew_ns);
    ksl__w_u32(b, c->step_cost_ns);
    ksl__w_u32(b, c->stack_size);
    ksl__w_u32(b, c->worker_threads);
    ksl__w_u64(b, c->fail_alloc_nth);
    ksl__w_u32(b, c->event_log);
    size_t n = c->choices ? c->nchoices : 0;
    ksl__w_u64(b, n);
    for (size_t i = 0; i < n; i++)
        ksl__w_u32(b, c->choices[i]);
}

static void get_cfg(ksl__rbuf *r, ksl_config *c)
{
    c->cpus = ksl__r_u32(r);
    c->engine = (ksl_engine_kind)ksl__r_u32(r);
    c->seed = ksl__r_u64(r);
    c->strategy = (ksl_strategy_kind)ksl__r_u32(r);
    c->pct_depth = ksl__r_u32(r);
    c->pct_steps = ksl__r_u64(r);
    c->max_steps = ksl__r_u64(r);
    c->skew_ns = ksl__r_u64(r);
    c->step_cost_ns = ksl__r_u32(r);
    c->stack_size = ksl__r_u32(r);
    c->worker_threads = ksl__r_u32(r);
    c->fail_alloc_nth = ksl__r_u64(r);
    c->event_log = ksl__r_u32(r);
    uint64_t n = ksl__r_u64(r);
    c->choices = NULL;
    c->nchoices = 0;
    if (r->bad || n > KSL__MAX_CHOICES || n * 4 > r->n - r->pos) {
        r->bad = true;
        return;
    }
    if (n) {
        uint32_t *ch = malloc((size_t)n * sizeof *ch);
        if (!ch) {
            r->bad = true;
            return;
        }
        for (uint64_t i = 0; i < n; i++)
            ch[i] = ksl__r_u32(r);
        c->choices = ch;
        c->nchoices = (size_t)n;
    }
}

void ksl__request_encode(ksl__wbuf *b, const ksl__request *rq)
{
    ksl__w_u32(b, rq->type);
    ksl__w_u32(b, (uint32_t)rq->scenario);
    put_job(b, &rq->job);
    put_cfg(b, &rq->cfg);
    ksl__w_u32(b, rq->flags);
}

int ksl__request_decode(const void *p, size_t n, ksl__request *rq)
{
    ksl__rbuf r = {p, n, 0, false};
    memset(rq, 0, sizeof *rq);
    rq->type = ksl__r_u32(&r);
    rq->scenario = (int32_t)ksl__r_u32(&r);
    get_job(&r, &rq->job);
    get_cfg(&r, &rq->cfg);
    rq->flags = ksl__r_u32(&r);
    if (r.bad || r.pos != r.n) {
        free((void *)rq->cfg.choices);
        rq->cfg.choices = NULL;
        return -1;
    }
    return 0;
}

static void put_finding(ksl__wbuf *b, const ksl_finding *f)
{
    ksl__w_str(b, f->rule);
    ksl__w_str(b, f->message);
    ksl__w_str(b, f->context);
    ksl__w_u32(b, (uint32_t)f->cpu);
    ksl__w_u8(b, f->irql);
    ksl__w_u32(b, (uint32_t)f->line);
    ksl__w_u64(b, f->step);
    ksl__w_u64(b, f->time_ns);
    ksl__w_str(b, f->detail);
    ksl__w_u8(b, f->ended_run ? 1 : 0);
    ksl__w_str(b, f->racing_context);
    ksl__w_str(b, f->racing_file);
    ksl__w_u32(b, (uint32_t)f->racing_line);
}

static void get_finding(ksl__rbuf *r, ksl_finding *f)
{
    ksl__r_str(r, f->rule, sizeof f->rule);
    ksl__r_str(r, f->message, sizeof f->message);
    ksl__r_str(r, f->context, sizeof f->context);
    f->cpu = (int32_t)ksl__r_u32(r);
    f->irql = ksl__r_u8(r);
    f->line = (int)ksl__r_u32(r);
    f->step = ksl__r_u64(r);
    f->time_ns = ksl__r_u64(r);
    ksl__r_str(r, f->detail, sizeof f->detail);
    uint8_t ended = ksl__r_u8(r);
    if (ended > 1)
        r->bad = true;
    f->ended_run = ended == 1;
    f->file = NULL;
    ksl__r_str(r, f->racing_context, sizeof f->racing_context);
    ksl__r_str(r, f->racing_file, sizeof f->racing_file);
    f->racing_line = (int)ksl__r_u32(r);
    if (f->racing_line < 0)
        r->bad = true;
}

static void put_event(ksl__wbuf *b, const recorder_entry *e)
{
    ksl__w_u64(b, e->step);
    ksl__w_u64(b, e->time_ns);
    ksl__w_u32(b, (uint32_t)e->cpu);
    ksl__w_u8(b, e->irql);
    ksl__w_u8(b, (uint8_t)e->phase);
    ksl__w_u32(b, (uint32_t)e->line);
    ksl__w_str(b, e->what);
    ksl__w_str(b, e->context);
    ksl__w_str(b, e->file);
}

static void get_event(ksl__rbuf *r, recorder_entry *e)
{
    e->step = ksl__r_u64(r);
    e->time_ns = ksl__r_u64(r);
    e->cpu = (int32_t)ksl__r_u32(r);
    e->irql = ksl__r_u8(r);
    uint8_t phase = ksl__r_u8(r);
    if (phase != 'i' && phase != 'B' && phase != 'E')
        r->bad = true; /* recorder.h: an instant, or a context beginning or ending */
    e->phase = (char)phase;
    e->line = (int)ksl__r_u32(r);
    ksl__r_str(r, e->what, sizeof e->what);
    ksl__r_str(r, e->context, sizeof e->context);
    ksl__r_str(r, e->file, sizeof e->file);
}

#define MAX_EVENTS 4096 /* a ring of recorded events (the recorder keeps 64) */

static void put_events(ksl__wbuf *b, const recorder_entry *ev, size_t n)
{
    ksl__w_u64(b, n);
    for (size_t i = 0; i < n; i++)
        put_event(b, &ev[i]);
}

static void get_events(ksl__rbuf *r, recorder_entry **ev, size_t *n)
{
    uint64_t ne = ksl__r_u64(r);
    if (r->bad || ne > MAX_EVENTS) {
        r->bad = true;
        return;
    }
    if (!(*ev = calloc(ne ? (size_t)ne : 1, sizeof **ev))) {
        r->bad = true;
        return;
    }
    for (uint64_t i = 0; i < ne && !r->bad; i++)
        get_event(r, &(*ev)[i]);
    *n = (size_t)ne;
}

void ksl__outcome_encode(ksl__wbuf *b, const ksl__outcome *o)
{
    ksl__w_u32(b, (uint32_t)o->rc);
    ksl__w_u64(b, o->steps);
    ksl__w_u64(b, o->time_ns);
    ksl__w_u64(b, o->trace_hash);
    put_finding(b, &o->finding);
    ksl__w_str(b, o->file);
    ksl__w_str(b, o->err);
    ksl__w_str(b, o->data_msg);
    ksl__w_str(b, o->trace_err);
    ksl__w_u64(b, o->nchoices);
    for (size_t i = 0; i < o->nchoices; i++)
        ksl__w_u32(b, o->choices[i]);
    ksl__w_u64(b, o->ncounters);
    for (size_t i = 0; i < o->ncounters; i++) {
        ksl__w_str(b, o->counters[i].name);
        ksl__w_u64(b, o->counters[i].value);
    }
    put_events(b, o->events, o->nevents);
    uint32_t nx = o->rc == 1 ? o->nextra : 0;
    ksl__w_u32(b, nx);
    for (uint32_t i = 0; i < nx; i++) {
        put_finding(b, &o->extra[i].finding);
        ksl__w_str(b, o->extra[i].file);
        put_events(b, o->extra[i].events, o->extra[i].nevents);
    }
    bool output = o->output && o->output_frames; /* no samples have no shape */
    ksl__w_u64(b, output ? o->output_frames : 0);
    ksl__w_u32(b, output ? o->output_rate : 0);
    ksl__w_u32(b, output ? o->output_channels : 0);
    if (output)
        ksl__w_bytes(b, o->output, (size_t)o->output_frames * o->output_channels * sizeof *o->output);
    const ksl__driver *d = &o->probe;
    ksl__w_u32(b, (uint32_t)d->kind);
    ksl__w_str(b, d->name);
    ksl__w_str(b, d->description);
    ksl__w_str(b, d->device);
}

int ksl__outcome_decode(const void *p, size_t n, ksl__outcome *o)
{
    ksl__rbuf r = {p, n, 0, false};
    memset(o, 0, sizeof *o);
    o->rc = (int32_t)ksl__r_u32(&r);
    o->steps = ksl__r_u64(&r);
    o->time_ns = ksl__r_u64(&r);
    o->trace_hash = ksl__r_u64(&r);
    get_finding(&r, &o->finding);
    ksl__r_str(&r, o->file, sizeof o->file);
    ksl__r_str(&r, o->err, sizeof o->err);
    ksl__r_str(&r, o->data_msg, sizeof o->data_msg);
    ksl__r_str(&r, o->trace_err, sizeof o->trace_err);
    uint64_t nch = ksl__r_u64(&r);
    if (!r.bad && nch <= KSL__MAX_CHOICES && nch * 4 <= r.n - r.pos) {
        o->choices = malloc((nch ? (size_t)nch : 1) * sizeof *o->choices);
        if (!o->choices)
            r.bad = true;
        for (uint64_t i = 0; i < nch && !r.bad; i++)
            o->choices[i] = ksl__r_u32(&r);
        o->nchoices = (size_t)nch;
    } else {
        r.bad = true;
    }
    uint64_t nc = ksl__r_u64(&r);
    if (!r.bad && nc <= KSL__MAX_COUNTERS) {
        o->counters = calloc(nc ? (size_t)nc : 1, sizeof *o->counters);
        if (!o->counters)
            r.bad = true;
        for (uint64_t i = 0; i < nc && !r.bad; i++) {
            ksl__r_str(&r, o->counters[i].name, sizeof o->counters[i].name);
            o->counters[i].value = ksl__r_u64(&r);
        }
        o->ncounters = (size_t)nc;
    } else {
        r.bad = true;
    }
    get_events(&r, &o->events, &o->nevents);
    uint32_t nx = ksl__r_u32(&r);
    if (!r.bad && nx && (o->rc != 1 || nx >= KSL_MAX_RUN_FINDINGS))
        r.bad = true; /* extras follow a first finding, at most KSL_MAX_RUN_FINDINGS in all */
    if (!r.bad && nx && !(o->extra = calloc(nx, sizeof *o->extra)))
        r.bad = true;
    for (uint32_t i = 0; i < nx && !r.bad; i++) {
        ksl__extra *x = &o->extra[o->nextra++];
        get_finding(&r, &x->finding);
        ksl__r_str(&r, x->file, sizeof x->file);
        get_events(&r, &x->events, &x->nevents);
    }
    uint64_t frames = ksl__r_u64(&r);
    o->output_rate = ksl__r_u32(&r);
    uint32_t ch = ksl__r_u32(&r);
    o->output_channels = (uint16_t)ch;
    if (!frames && (o->output_rate || ch))
        r.bad = true; /* no output has no shape */
    if (!r.bad && frames) {
        if (ch < 1 || ch > 8 || frames > KSL__MAX_OUTPUT_FRAMES || frames * ch * 2 > r.n - r.pos) {
            r.bad = true;
        } else {
            size_t bytes = (size_t)(frames * ch * 2);
            o->output = malloc(bytes);
            if (!o->output)
                r.bad = true;
            else
                memcpy(o->output, r.p + r.pos, bytes);
            r.pos += bytes;
            o->output_frames = frames;
        }
    }
    ksl__driver *d = &o->probe;
    d->kind = (ksl__drv_kind)ksl__r_u32(&r);
    ksl__r_str(&r, d->name, sizeof d->name);
    ksl__r_str(&r, d->description, sizeof d->description);
    ksl__r_str(&r, d->device, sizeof d->device);
    if (d->kind > KSL__DRV_STREAM)
        r.bad = true;
    if (r.bad || r.pos != r.n) {
        ksl__outcome_free(o);
        memset(o, 0, sizeof *o);
        return -1;
    }
    return 0;
}
