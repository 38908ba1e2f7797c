/* SPDX-License-Identifier: MIT */
/* One streaming job end to end through the stream class (see stream_job.h). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kslab/device.h>
#include <kslab/hw/frame.h>
#include <kslab/wdk/wdm.h>
#include <stream_refs.h>

#include "faults.h"
#include "job_client.h"
#include "job_run.h"
#include "stream_job.h"

#define CANCEL_WINDOW_US 3000u /* a picked SRB is cancelled within this long after its submission */

typedef struct srb_rec {
    PHW_STREAM_REQUEST_BLOCK srb;
    bool cancel;         /* picked for cancellation */
    bool submitted;
    KEVENT cancel_done;  /* the canceller is finished with it */
} srb_rec;

typedef struct job_state {
    const stream_job *job;
    stream_result *res;
    ksl_stream_adapter *a;
    ksl_stream_pin *pin;
    uint32_t magic, seed32;
    srb_rec *recs;
    ksl_frame_seq seq;
    uint64_t unpicked_not_ok;
    ksl__job_client cl;  /* the canceller, the churner, the state lock */
    bool pin_open;
    char client_err[200];
    ksl__faults *faults;        /* job->faults: told of every completed SRB */
} job_state;

/* The class's events, for an aimed canceller. */
static void class_event(void *user, ksl_stream_event ev)
{
    job_state *js = user;
    ksl__client_event(&js->cl, (uint32_t)ev);
}

/* The client's set_state (its lock held): the stream's state while it is open. */
static void pin_state(void *job, KSSTATE to)
{
    job_state *js = job;
    if (js->pin_open)
        ksl_stream_set_state(js->pin, to);
}

/* The client's cancel: SRB `i`, and say the canceller is done with it. */
static void cancel_srb(void *job, uint32_t i)
{
    job_state *js = job;
    ksl_stream_srb_cancel(js->recs[i].srb);
    KeSetEvent(&js->recs[i].cancel_done, IO_NO_INCREMENT, FALSE);
}

static void set_state(job_state *js, KSSTATE to)
{
    ksl__client_set_state(&js->cl, to);
}

static bool submit(job_state *js, uint32_t i)
{
    srb_rec *r = &js->recs[i];
    r->srb = ksl_stream_srb_alloc(js->pin, SRB_READ_DATA, STREAM_JOB_BUFFER_BYTES);
    if (!r->srb) {
        snprintf(js->client_err, sizeof js->client_err, "out of memory for SRB %u", i);
        return false;
    }
    /* A picked SRB goes to the canceller before it is submitted, so that a cancel may land while
     * the class or the minidriver is still taking it (with synchronization off the submission
     * runs the minidriver's ReceiveDataPacket in this thread); a cancel that comes first finds
     * nothing to cancel. */
    if (r->cancel) {
        js->res->srbs_picked++;
        if (js->job->aim) /* armed before the submission makes the event */
            ksl__client_pick_aimed(&js->cl, i,
                                   js->job->aim == KSL__AIM_EACH ? 1u + (uint32_t)(js->res->srbs_picked % 2u)
                                                                 : js->job->aim);
        else
            ksl__client_pick(&js->cl, i);
    }
    NTSTATUS st = ksl_stream_srb_submit(r->srb);
    r->submitted = true;
    js->res->srbs_submitted++;
    if (st != STATUS_PENDING && !ksl_stream_srb_done(r->srb)) {
        snprintf(js->client_err, sizeof js->client_err, "the class refused read SRB %u: NTSTATUS 0x%08X", i,
                 (unsigned)st);
        return false;
    }
    return true;
}

/* The reader's check of one completed SRB. */
static void account(job_state *js, srb_rec *r, NTSTATUS st)
{
    stream_result *res = js->res;
    ksl__faults_progress(js->faults);
    if (st == STATUS_SUCCESS) {
        res->srbs_ok++;
        uint32_t used = r->srb->CommandData.DataBufferArray->DataUsed;
        const uint8_t *p = ksl_stream_srb_data(r->srb);
        uint64_t bad0 = js->seq.bad;
        ksl_frame_result fr = ksl_frame_seq_push(&js->seq, js->magic, p, used);
        if (fr == KSL_FRAME_OK) {
            uint32_t seed;
            memcpy(&seed, p + KSL_FRAME_OFF_SEED, 4);
            if (seed != js->seed32 || r->srb->ActualBytesTransferred != used)
                res->frames_bad++; /* whole and consistent, but not this source's, or miscounted */
            res->frame_bytes = used;
        } else if (js->seq.bad == bad0) {
            res->frames_bad++;
        }
    } else if (st == STATUS_CANCELLED) {
        res->srbs_cancelled++;
        if (!r->cancel)
            js->unpicked_not_ok++;
    } else {
        res->srbs_failed++;
        js->unpicked_not_ok++;
    }
}

/* An SRB still outstanding when the reader closed the stream (close_after): the close cancelled
 * it, or it completed before. */
static void closed_outstanding(job_state *js, srb_rec *r)
{
    if (r->cancel)
        KeWaitForSingleObject(&r->cancel_done, Executive, KernelMode, FALSE, NULL);
    if (!r->srb)
        return;
    if (!ksl_stream_srb_done(r->srb)) {
        js->unpicked_not_ok++; /* the class reported it (S1.srb-not-completed-at-close) */
        r->srb = NULL;
        return;
    }
    NTSTATUS st = r->srb->Status;
    if (st == STATUS_CANCELLED)
        js->res->srbs_cancelled++; /* cancelled by the close, as asked */
    else
        account(js, r, st);
    ksl_stream_srb_free(r->srb);
    r->srb = NULL;
}

/* job->query_every_ms: a second PASSIVE client of the pin, asking its state over the control
 * queue while the reader's data requests are in flight. */
static void state_poller(void *arg)
{
    job_state *js = arg;
    LARGE_INTEGER period = {.QuadPart = -(LONGLONG)js->job->query_every_ms * 10000};
    while (KeWaitForSingleObject(&js->cl.quit_ev, Executive, KernelMode, FALSE, &period) != STATUS_SUCCESS) {
        ksl__client_lock(&js->cl);
        KSSTATE state;
        if (js->pin_open && NT_SUCCESS(ksl_stream_get_state(js->pin, &state)))
            js->res->state_queries++;
        ksl__client_unlock(&js->cl);
    }
}

static void reader(void *arg)
{
    job_state *js = arg;
    const stream_job *job = js->job;
    NTSTATUS st = ksl_stream_start(js->a);
    if (!NT_SUCCESS(st)) {
        snprintf(js->client_err, sizeof js->client_err, "driver '%s' failed to start: NTSTATUS 0x%08X",
                 job->driver->name, (unsigned)st);
        ksl__client_quit(&js->cl);
        return;
    }
    st = ksl_stream_open(js->a, 0, NULL, &js->pin);
    if (!NT_SUCCESS(st)) {
        snprintf(js->client_err, sizeof js->client_err, "driver '%s' did not open its stream 0: NTSTATUS 0x%08X",
                 job->driver->name, (unsigned)st);
        ksl_stream_stop(js->a);
        ksl__client_quit(&js->cl);
        return;
    }
    js->pin_open = true;
    set_state(js, KSSTATE_ACQUIRE);
    set_state(js, KSSTATE_PAUSE);
    uint32_t next = 0, done = 0;
    bool ok = true;
    while (ok && next < job->frames && next < job->in_flight)
        ok = submit(js, next++);
    set_state(js, KSSTATE_RUN);
    ksl__client_started(&js->cl);
    int64_t wait = (int64_t)job->wait_ms * 10000;
    while (done < next && !(job->close_after && done >= job->close_after)) {
        srb_rec *r = &js->recs[done];
        st = ksl_stream_srb_wait_for(r->srb, wait);
        if (st == STATUS_TIMEOUT) {
            js->res->srbs_timed_out++;
            ksl_stream_srb_cancel(r->srb);
            st = ksl_stream_srb_wait_for(r->srb, wait);
        }
        if (r->cancel)
            KeWaitForSingleObject(&r->cancel_done, Executive, KernelMode, FALSE, NULL);
        if (st == STATUS_TIMEOUT) {
            js->unpicked_not_ok++;
            r->srb = NULL; /* still with the driver: close deals with it; not freed */
        } else {
            account(js, r, st);
            ksl_stream_srb_free(r->srb);
            r->srb = NULL;
        }
        done++;
        if (ok && next < job->frames)
            ok = submit(js, next++);
    }
    ksl__client_quit(&js->cl);
    ksl__client_wait_churner(&js->cl);
    set_state(js, KSSTATE_STOP);
    ksl__client_lock(&js->cl);
    ksl_stream_close(js->pin);
    js->pin_open = false;
    ksl__client_unlock(&js->cl);
    for (; done < next; done++) /* close_after: what was outstanding at the close */
        closed_outstanding(js, &js->recs[done]);
    st = ksl_stream_stop(js->a);
    if (!NT_SUCCESS(st) && !js->client_err[0])
        snprintf(js->client_err, sizeof js->client_err, "driver '%s' failed SRB_UNINITIALIZE_DEVICE: NTSTATUS 0x%08X",
                 job->driver->name, (unsigned)st);
}

void stream_job_default(stream_job *job, const ksl_stream_driver *driver)
{
    memset(job, 0, sizeof *job);
    job->driver = driver;
    ksl_config_default(&job->cfg);
    job->frames = 200;
    job->in_flight = 4;
    job->pause_every_ms = 7;
    job->wait_ms = 1000;
}

static void check(job_state *js, stream_result *res)
{
    res->frames_delivered = js->seq.frames;
    res->frames_missing = js->seq.missing;
    res->frames_bad += js->seq.bad;
    res->frames_disorder = js->seq.disorder;
    uint64_t accounted = res->srbs_ok + res->srbs_cancelled + res->srbs_failed;
    res->data_ok = false;
    if (res->frames_bad || res->frames_disorder) {
        res->check_rule = "S1.data-mismatch";
        snprintf(res->data_msg, sizeof res->data_msg,
                 "%" PRIu64 " bad frame(s) and %" PRIu64 " out of order among %" PRIu64 " delivered", res->frames_bad,
                 res->frames_disorder, res->srbs_ok);
    } else if (res->srbs_timed_out || accounted != res->srbs_submitted) {
        res->check_rule = "S1.srb-lost";
        snprintf(res->data_msg, sizeof res->data_msg,
                 "%" PRIu64 " read SRB(s) not completed within %u ms; %" PRIu64 " submitted, %" PRIu64 " completed",
                 res->srbs_timed_out, (unsigned)js->job->wait_ms, res->srbs_submitted, accounted);
    } else if (js->unpicked_not_ok) {
        res->check_rule = "S1.srb-failed";
        snprintf(res->data_msg, sizeof res->data_msg,
                 "%" PRIu64 " read SRB(s) nobody cancelled did not succeed (%" PRIu64 " failed, %" PRIu64
                 " cancelled)",
                 js->unpicked_not_ok, res->srbs_failed, res->srbs_cancelled);
    } else if (res->srbs_ok == 0) {
        res->check_rule = "S1.no-data";
        snprintf(res->data_msg, sizeof res->data_msg, "no frame was delivered");
    } else {
        res->data_ok = true;
        snprintf(res->data_msg, sizeof res->data_msg,
                 "%" PRIu64 " frames of %u bytes bit-exact, in order (%" PRIu64 " dropped by the device)",
                 res->frames_delivered, (unsigned)res->frame_bytes, res->frames_missing);
    }
}

int stream_job_run(const stream_job *job, stream_result *res)
{
    memset(res, 0, sizeof *res);
    res->rc = -1;
    if (!job->driver || !job->driver->DriverEntry || job->frames == 0 || job->in_flight == 0 || job->wait_ms == 0) {
        snprintf(res->err, sizeof res->err, "bad job");
        return res->rc = 2;
    }
    const char *dev = job->driver->device ? job->driver->device : "";
    job_state js = {.job = job, .res = res};
    bool none = strcmp(dev, "none") == 0; /* a filter: no hardware, frames of its own */
    const ksl_device_model *model = job->device ? job->device : ksl_device_model_find(dev);
    if (!none && (!model || model->cls != KSL_DEVICE_FRAMES)) {
        snprintf(res->err, sizeof res->err, "driver '%s' is for device '%s', which is not a frame device kslab has",
                 job->driver->name, dev);
        return res->rc = 2;
    }
    js.magic = none ? KSR_FILTER_MAGIC : model->frame_magic;
    js.seed32 = none ? KSR_FILTER_SEED : (uint32_t)job->cfg.seed;
    ksl_frame_seq_init(&js.seq, 0);
    js.recs = calloc(job->frames, sizeof *js.recs);
    ksl_config cfg = job->cfg;
    uint64_t need = (uint64_t)job->frames * 20000 + 2000000;
    if (cfg.max_steps < need)
        cfg.max_steps = need;
    ksl_engine *e = ksl_engine_create(&cfg, res->err, sizeof res->err);
    void *hw = NULL;
    ksl_stream_adapter *a = NULL;
    ksl__faults faults;
    if (!e || !js.recs) {
        if (!res->err[0])
            snprintf(res->err, sizeof res->err, "out of memory");
        goto out;
    }
    for (uint32_t i = 0; i < job->frames; i++) {
        js.recs[i].cancel = job->cancel_every && (i + 1) % job->cancel_every == 0;
        KeInitializeEvent(&js.recs[i].cancel_done, NotificationEvent, FALSE);
    }
    ksl_stream_resources rs = {0};
    if (!none) {
        ksl_device_env env = {e, NULL, job->cfg.seed, STREAM_JOB_PORT_BASE, STREAM_JOB_IRQ_LINE, STREAM_JOB_DIRQL,
                              NULL, NULL, job->in_flight};
        ksl_device_resources dres;
        memset(&dres, 0, sizeof dres);
        if (!(hw = model->create(&env, &dres, res->err, sizeof res->err)))
            goto out;
        rs = (ksl_stream_resources){.port_base = dres.nports ? dres.ports[0].base : 0,
                                    .port_size = dres.nports ? dres.ports[0].size : 0,
                                    .has_interrupt = dres.has_interrupt, .irq_line = dres.irq_line,
                                    .irql = dres.irql, .lower_device = dres.lower_device};
        /* Faults come within the first half of the SRBs, while the stream surely still runs. */
        if (ksl__faults_arm(&faults, e, model, hw, &dres, job->cfg.seed, job->faults, job->fault, job->frames / 2u,
                            res->err, sizeof res->err)) {
            res->rc = 2;
            goto out;
        }
    } else if (job->fault) {
        snprintf(res->err, sizeof res->err, "driver '%s' has no device to show fault '%s'", job->driver->name,
                 job->fault);
        res->rc = 2;
        goto out;
    }
    char cerr[200];
    a = ksl_stream_create(e, job->driver->DriverEntry, &rs, NULL, cerr, sizeof cerr);
    if (!a) {
        snprintf(res->err, sizeof res->err, "driver '%s' did not register: %s", job->driver->name, cerr);
        res->rc = 2;
        goto out;
    }
    js.a = a;
    js.faults = none ? NULL : &faults;
    js.cl = (ksl__job_client){.seed = job->cfg.seed, .cancel_window_us = CANCEL_WINDOW_US,
                              .pause_every_ms = job->pause_every_ms, .churner_name = "churner", .gated = true,
                              .job = &js, .cancel = cancel_srb, .set_state = pin_state};
    ksl__client_init(&js.cl);
    if (job->aim)
        ksl_stream_set_event_hook(a, class_event, &js);
    ksl_thread_create(e, "reader", reader, &js);
    if (job->query_every_ms)
        ksl_thread_create(e, "state poller", state_poller, &js);
    ksl__client_threads(&js.cl, e);
    int rc = job_run_engine(e, job->trace_fn, job->trace_user, job->keep_choices, &res->engine, &res->trace_hash,
                            &res->choices, &res->nchoices);
    ksl_stream_get_stats(a, &res->cls);
    res->faults_injected = none ? 0 : faults.injected;
    if (hw) {
        res->dev_frames = ksl_device_counter_of(model, hw, "frames");
        res->dev_dropped = ksl_device_counter_of(model, hw, "dropped");
        res->dev_interrupts = ksl_device_counter_of(model, hw, "interrupts");
    }
    res->rc = job_verdict(e, rc, js.client_err, res->findings, &res->nfindings, res->err, sizeof res->err);
    if ((res->checked = job_checkable(res->rc, res->findings, res->nfindings)))
        check(&js, res);
    if (res->checked && !res->data_ok)
        ksl_fault_note_append(e, res->data_msg, sizeof res->data_msg);
out:
    ksl_stream_destroy(a);
    if (e)
        ksl_engine_destroy(e);
    if (hw)
        model->destroy(hw);
    free(js.recs);
    return res->rc;
}

void stream_result_free(stream_result *res)
{
    free(res->choices);
    res->choices = NULL;
    res->nchoices = 0;
}
