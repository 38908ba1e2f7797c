/* SPDX-License-Identifier: MIT */
/*
 * Requests: SRB allocation, submission, the three kinds of queue with ReadyForNext flow control,
 * completion, cancellation, StreamClassAbortOutstandingRequests, and the class DPC that releases
 * the waiters of completed SRBs and sends down the next requests.
 *
 * Every SRB has a state (strm_srb_state): IDLE -> QUEUED (synchronization on) -> MINI -> COMPLETING
 * -> DONE.  Only an SRB in MINI may be completed by the minidriver; anything else is a finding.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strm.h"

static bool is_device_command(SRB_COMMAND cmd)
{
    return (unsigned)cmd >= 0x100;
}

static bool is_data_command(SRB_COMMAND cmd)
{
    return cmd == SRB_READ_DATA || cmd == SRB_WRITE_DATA;
}

/* ---- SRBs --------------------------------------------------------------------------------- */

strm_srb *ksl__strm_srb_new(ksl_stream_adapter *a, strm_stream *s, SRB_COMMAND cmd, uint32_t bytes)
{
    strm_srb *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    if (bytes && !(r->data = calloc(1, bytes))) {
        free(r);
        return NULL;
    }
    if (a->init.PerRequestExtensionSize && !(r->ext = calloc(1, a->init.PerRequestExtensionSize))) {
        free(r->data);
        free(r);
        return NULL;
    }
    r->magic = STRM_MAGIC_SRB;
    r->a = a;
    r->s = s;
    r->q = is_device_command(cmd) || !s ? &a->devq : is_data_command(cmd) ? &s->data : &s->control;
    r->state = SRB_ST_IDLE;
    KeInitializeEvent(&r->done, NotificationEvent, FALSE);
    r->irp.Type = IO_TYPE_IRP;
    r->irp.Size = sizeof r->irp;
    PHW_STREAM_REQUEST_BLOCK srb = &r->srb;
    srb->SizeOfThisPacket = sizeof *srb;
    srb->Command = cmd;
    srb->Status = STATUS_PENDING;
    srb->StreamObject = s ? &s->obj : NULL;
    srb->HwDeviceExtension = a->devext;
    srb->SRBExtension = r->ext;
    srb->HwInstanceExtension = a->instext;
    srb->Irp = &r->irp;
    srb->TimeoutOriginal = srb->TimeoutCounter = a->opt.srb_timeout_s;
    if (!is_device_command(cmd))
        srb->Flags |= SRB_HW_FLAGS_STREAM_REQUEST;
    if (is_data_command(cmd)) {
        srb->Flags |= SRB_HW_FLAGS_DATA_TRANSFER;
        r->hdr.Size = sizeof r->hdr;
        r->hdr.FrameExtent = bytes;
        r->hdr.DataUsed = cmd == SRB_WRITE_DATA ? bytes : 0;
        r->hdr.Data = r->data;
        srb->CommandData.DataBufferArray = &r->hdr;
        srb->NumberOfBuffers = 1;
        srb->NumberOfBytesToTransfer = bytes;
    }
    pthread_mutex_lock(&a->mu);
    r->id = ++a->next_srb_id;
    InsertTailList(&a->all, &r->slink);
    pthread_mutex_unlock(&a->mu);
    return r;
}

void ksl__strm_srb_release(strm_srb *r)
{
    ksl_stream_adapter *a = r->a;
    pthread_mutex_lock(&a->mu);
    bool in_flight = r->state == SRB_ST_QUEUED || r->state == SRB_ST_MINI || r->state == SRB_ST_COMPLETING;
    if (!in_flight && !r->client_freed) {
        r->client_freed = true;
        free(r->data);
        free(r->ext);
        r->data = NULL;
        r->ext = NULL;
        r->hdr.Data = NULL;
        r->srb.SRBExtension = NULL;
    }
    pthread_mutex_unlock(&a->mu);
}

/* Under mu: r goes to the minidriver. */
static void to_mini(ksl_stream_adapter *a, strm_srb *r)
{
    r->state = SRB_ST_MINI;
    InsertTailList(&a->outstanding, &r->olink);
    r->q->outstanding++;
    if (++a->n_outstanding > a->st.max_outstanding)
        a->st.max_outstanding = a->n_outstanding;
}

/* Under mu: r leaves the class's hands as completed; the class DPC releases its waiters. */
static void to_completing(ksl_stream_adapter *a, strm_srb *r, const char *file, int line)
{
    if (r->state == SRB_ST_MINI) {
        RemoveEntryList(&r->olink);
        r->q->outstanding--;
        a->n_outstanding--;
    } else if (r->state == SRB_ST_QUEUED) {
        RemoveEntryList(&r->qlink);
    }
    r->state = SRB_ST_COMPLETING;
    r->done_file = file;
    r->done_line = line;
    InsertTailList(&a->completing, &r->dlink);
}

/* The routine that receives r. */
static strm_call call_for(strm_srb *r)
{
    ksl_stream_adapter *a = r->a;
    strm_call c = {0};
    c.a = a;
    c.srb = r;
    c.recheck_mini = true;
    switch (r->q->kind) {
    case Q_DEVICE:
        c.entry = KSL_STRM_E_DEVICE;
        c.srb_fn = a->init.HwReceivePacket;
        break;
    case Q_DATA:
        c.entry = KSL_STRM_E_DATA;
        c.srb_fn = r->s->obj.ReceiveDataPacket;
        break;
    case Q_CONTROL:
        c.entry = KSL_STRM_E_CONTROL;
        c.srb_fn = r->s->obj.ReceiveControlPacket;
        break;
    }
    return c;
}

NTSTATUS ksl__strm_submit(strm_srb *r)
{
    ksl_stream_adapter *a = r->a;
    NTSTATUS st = STATUS_PENDING;
    pthread_mutex_lock(&a->mu);
    if (r->state != SRB_ST_IDLE || r->client_freed)
        st = STATUS_INVALID_DEVICE_REQUEST;
    else if (!a->started)
        st = STATUS_DEVICE_NOT_READY;
    else if (r->q->kind != Q_DEVICE && (!r->s->open || r->s->closing))
        st = STATUS_INVALID_DEVICE_STATE;
    else if (r->q->kind == Q_DATA ? !r->s->obj.ReceiveDataPacket : r->q->kind == Q_CONTROL && !r->s->obj.ReceiveControlPacket)
        st = STATUS_INVALID_DEVICE_REQUEST;
    if (st != STATUS_PENDING) {
        pthread_mutex_unlock(&a->mu);
        return st;
    }
    a->st.srbs_submitted++;
    if (a->sync) {
        r->state = SRB_ST_QUEUED;
        InsertTailList(&r->q->pending, &r->qlink);
        pthread_mutex_unlock(&a->mu);
        ksl__strm_hook_srb(a, r->id, r->srb.Command, SRB_ST_IDLE, SRB_ST_QUEUED, NULL, 0);
        ksl__strm_kick(a);
        return STATUS_PENDING;
    }
    /* Synchronization off: down at once, at PASSIVE_LEVEL, in this thread. */
    to_mini(a, r);
    strm_call c = call_for(r);
    pthread_mutex_unlock(&a->mu);
    ksl__strm_hook_srb(a, r->id, r->srb.Command, SRB_ST_IDLE, SRB_ST_MINI, NULL, 0);
    ksl__strm_event(a, KSL_STRM_EV_RECEIVE);
    ksl__strm_call_direct(&c);
    return STATUS_PENDING;
}

/* Under mu: the next request to send from q, or NULL. */
static strm_srb *take(ksl_stream_adapter *a, strm_queue *q)
{
    if (!q->ready || IsListEmpty(&q->pending))
        return NULL;
    strm_srb *r = CONTAINING_RECORD(RemoveHeadList(&q->pending), strm_srb, qlink);
    q->ready = false;
    q->grace = false;
    to_mini(a, r);
    return r;
}

void ksl__strm_kick(ksl_stream_adapter *a)
{
    if (!a->sync)
        return;
    for (;;) {
        pthread_mutex_lock(&a->mu);
        strm_srb *r = take(a, &a->devq);
        for (LIST_ENTRY *l = a->streams.Flink; !r && l != &a->streams; l = l->Flink) {
            strm_stream *s = CONTAINING_RECORD(l, strm_stream, link);
            if (!s->open || s->closing)
                continue; /* close cancels what is queued */
            if (!(r = take(a, &s->control)))
                r = take(a, &s->data);
        }
        if (!r) {
            pthread_mutex_unlock(&a->mu);
            return;
        }
        strm_call c = call_for(r);
        uint64_t id = r->id;
        SRB_COMMAND cmd = r->srb.Command;
        pthread_mutex_unlock(&a->mu);
        ksl__strm_hook_srb(a, id, cmd, SRB_ST_QUEUED, SRB_ST_MINI, NULL, 0);
        ksl__strm_event(a, KSL_STRM_EV_RECEIVE);
        ksl__strm_call_sync(&c);
    }
}

/* The streams, one at a time under mu (streams are never freed before destroy). */
static strm_stream *next_stream(ksl_stream_adapter *a, strm_stream *prev)
{
    pthread_mutex_lock(&a->mu);
    LIST_ENTRY *l = prev ? prev->link.Flink : a->streams.Flink;
    strm_stream *s = l == &a->streams ? NULL : CONTAINING_RECORD(l, strm_stream, link);
    pthread_mutex_unlock(&a->mu);
    return s;
}

void ksl__strm_dpc(PKDPC dpc, PVOID context, PVOID arg1, PVOID arg2)
{
    (void)dpc, (void)arg1, (void)arg2;
    ksl_stream_adapter *a = context;
    pthread_mutex_lock(&a->mu);
    a->dpc_running++;
    pthread_mutex_unlock(&a->mu);
    /* Timers and Low routines asked for above DISPATCH_LEVEL. */
    ksl__strm_timer_flush(a, &a->timer);
    ksl__strm_prio_flush(a, &a->prio);
    for (strm_stream *s = next_stream(a, NULL); s; s = next_stream(a, s)) {
        ksl__strm_timer_flush(a, &s->timer);
        ksl__strm_prio_flush(a, &s->prio);
    }
    /* Release the waiters of completed SRBs, oldest first. */
    for (;;) {
        pthread_mutex_lock(&a->mu);
        if (IsListEmpty(&a->completing)) {
            pthread_mutex_unlock(&a->mu);
            break;
        }
        strm_srb *r = CONTAINING_RECORD(RemoveHeadList(&a->completing), strm_srb, dlink);
        r->state = SRB_ST_DONE;
        uint64_t id = r->id;
        SRB_COMMAND cmd = r->srb.Command;
        pthread_mutex_unlock(&a->mu);
        ksl__strm_hook_srb(a, id, cmd, SRB_ST_COMPLETING, SRB_ST_DONE, NULL, 0);
        KeSetEvent(&r->done, IO_NO_INCREMENT, FALSE);
    }
    ksl__strm_kick(a);
    pthread_mutex_lock(&a->mu);
    a->dpc_running--;
    pthread_mutex_unlock(&a->mu);
}

/* ---- notifications ------------------------------------------------------------------------ */

void ksl__strm_complete(ksl_stream_adapter *a, strm_srb *r, bool device, strm_stream *s, const char *file, int line)
{
    const char *what = device ? "DeviceRequestComplete" : "StreamRequestComplete";
    if (!r || r->a != a) {
        /* (no address in the message: it would differ from run to run) */
        ksl_report(STRM_F_BAD_NOTIFICATION, file, line, "%s with %s the class did not send to this adapter", what,
                   r ? "an SRB" : "a NULL SRB, which");
        return;
    }
    if (device != (r->q->kind == Q_DEVICE)) {
        ksl_report(STRM_F_BAD_NOTIFICATION, file, line, "%s for %s #%llu, a %s request: it is completed with %s", what,
                   ksl__strm_command_name(r->srb.Command), (unsigned long long)r->id, device ? "stream" : "device",
                   device ? "StreamRequestComplete" : "DeviceRequestComplete");
        return;
    }
    if (!device && r->s != s) {
        ksl_report(STRM_F_BAD_NOTIFICATION, file, line,
                   "StreamRequestComplete names stream %lu, but %s #%llu belongs to stream %lu",
                   s ? (unsigned long)s->obj.StreamNumber : 0ul, ksl__strm_command_name(r->srb.Command),
                   (unsigned long long)r->id, (unsigned long)r->s->obj.StreamNumber);
        return;
    }
    pthread_mutex_lock(&a->mu);
    strm_srb_state was = r->state;
    if (was != SRB_ST_MINI) {
        bool by_class = r->aborted || r->cancelled;
        const char *first_file = r->done_file;
        int first_line = r->done_line;
        pthread_mutex_unlock(&a->mu);
        char cmd[64];
        snprintf(cmd, sizeof cmd, "%s #%llu", ksl__strm_command_name(r->srb.Command), (unsigned long long)r->id);
        if ((was == SRB_ST_COMPLETING || was == SRB_ST_DONE) && !by_class)
            ksl_report(STRM_F_COMPLETED_TWICE, file, line, "%s: %s completed twice; first at %s:%d%s", what, cmd,
                       first_file ? first_file : "?", first_line, r->client_freed ? " (its owner has freed it since)" : "");
        else if (by_class)
            ksl_report(STRM_F_NOT_OWNED, file, line, "%s: %s was %s by the class; the minidriver no longer owns it", what,
                       cmd, r->aborted ? "aborted (StreamClassAbortOutstandingRequests)" : "cancelled");
        else
            ksl_report(STRM_F_NOT_OWNED, file, line, "%s: %s is %s; the minidriver does not own it", what, cmd,
                       ksl__strm_state_name(was));
        return;
    }
    to_completing(a, r, file, line);
    a->st.srbs_completed++;
    uint64_t id = r->id;
    SRB_COMMAND cmd = r->srb.Command;
    pthread_mutex_unlock(&a->mu);
    ksl__strm_hook_srb(a, id, cmd, SRB_ST_MINI, SRB_ST_COMPLETING, file, line);
    ksl__strm_defer(a);
}

void ksl__strm_ready(ksl_stream_adapter *a, strm_queue *q, const char *file, int line)
{
    pthread_mutex_lock(&a->mu);
    a->st.ready_for_next++;
    if (!a->sync) { /* the class does not hold requests back: nothing to do */
        pthread_mutex_unlock(&a->mu);
        return;
    }
    bool twice = false;
    if (q->ready && !q->grace)
        twice = true;
    q->ready = true;
    q->grace = false;
    pthread_mutex_unlock(&a->mu);
    if (twice) {
        static const char *const names[] = {"ReadyForNextDeviceRequest", "ReadyForNextStreamDataRequest",
                                            "ReadyForNextStreamControlRequest"};
        if (q->s)
            ksl_report(STRM_F_READY_TWICE, file, line,
                       "%s for stream %lu, but the queue is ready already: no request was sent since the last one",
                       names[q->kind], (unsigned long)q->s->obj.StreamNumber);
        else
            ksl_report(STRM_F_READY_TWICE, file, line,
                       "%s, but the device queue is ready already: no request was sent since the last one",
                       names[q->kind]);
        return;
    }
    ksl__strm_defer(a);
}

void ksl__strm_abort(ksl_stream_adapter *a, strm_stream *s, NTSTATUS status, const char *file, int line)
{
    pthread_mutex_lock(&a->mu);
    for (LIST_ENTRY *l = a->all.Flink; l != &a->all; l = l->Flink) {
        strm_srb *r = CONTAINING_RECORD(l, strm_srb, slink);
        if (r->state != SRB_ST_QUEUED && r->state != SRB_ST_MINI)
            continue;
        if (s && (r->s != s || r->q->kind == Q_DEVICE))
            continue;
        r->srb.Status = status;
        r->aborted = true;
        to_completing(a, r, file, line);
        a->st.srbs_aborted++;
    }
    /* "This call also signals the class driver that the minidriver is ready to receive new
     * requests of the type canceled." */
    strm_queue *qs[2];
    int nq = 0;
    if (s) {
        qs[nq++] = &s->data;
        qs[nq++] = &s->control;
    } else {
        a->devq.ready = a->devq.grace = true;
        for (LIST_ENTRY *l = a->streams.Flink; l != &a->streams; l = l->Flink) {
            strm_stream *t = CONTAINING_RECORD(l, strm_stream, link);
            t->data.ready = t->data.grace = true;
            t->control.ready = t->control.grace = true;
        }
    }
    for (int i = 0; i < nq; i++)
        qs[i]->ready = qs[i]->grace = true;
    pthread_mutex_unlock(&a->mu);
    ksl__strm_defer(a);
}

bool ksl__strm_cancel(strm_srb *r)
{
    ksl_stream_adapter *a = r->a;
    pthread_mutex_lock(&a->mu);
    if (r->state == SRB_ST_QUEUED) {
        r->irp.Cancel = 1;
        r->cancelled = true;
        r->srb.Status = STATUS_CANCELLED;
        to_completing(a, r, __FILE__, __LINE__);
        a->st.srbs_cancelled++;
        uint64_t id = r->id;
        SRB_COMMAND cmd = r->srb.Command;
        pthread_mutex_unlock(&a->mu);
        ksl__strm_hook_srb(a, id, cmd, SRB_ST_QUEUED, SRB_ST_COMPLETING, NULL, 0);
        ksl__strm_defer(a);
        return true;
    }
    if (r->state != SRB_ST_MINI || r->cancel_called) {
        pthread_mutex_unlock(&a->mu);
        return false;
    }
    r->cancel_called = true;
    bool held_for_low = ksl__strm_low_outstanding_locked(a);
    /* A synchronized minidriver signals ReadyForNext after a cancel, even if it had already. */
    r->q->grace = true;
    a->st.cancel_calls++;
    pthread_mutex_unlock(&a->mu);
    /* As IoCancelIrp: Irp->Cancel is set holding the cancel spin lock, under which a minidriver
     * may look at it (the SRB stays allocated while the class may still call into it). */
    KIRQL cancel_irql;
    IoAcquireCancelSpinLock(&cancel_irql);
    r->irp.Cancel = 1;
    IoReleaseCancelSpinLock(cancel_irql);
    if (ksl_span_open_elsewhere(KSL_SPAN_ST_RECEIVE, NULL))
        ksl_window_hit(KSL_WIN_ST_CANCEL_IN_RECEIVE);
    if (held_for_low)
        ksl_window_hit(KSL_WIN_ST_CANCEL_HELD_FOR_LOW);
    strm_call c = {0};
    c.a = a;
    c.entry = KSL_STRM_E_CANCEL;
    c.srb_fn = a->init.HwCancelPacket;
    c.srb = r;
    c.recheck_mini = true;
    if (a->sync)
        ksl__strm_call_sync(&c);
    else
        ksl__strm_call_at_dispatch(&c);
    return true;
}

NTSTATUS ksl__strm_device_request(ksl_stream_adapter *a, strm_stream *s, SRB_COMMAND cmd,
                                 void (*setup)(PHW_STREAM_REQUEST_BLOCK srb, void *arg), void *arg)
{
    strm_srb *r = ksl__strm_srb_new(a, s, cmd, 0);
    if (!r)
        return STATUS_INSUFFICIENT_RESOURCES;
    if (setup)
        setup(&r->srb, arg);
    NTSTATUS st = ksl__strm_submit(r);
    if (st == STATUS_PENDING) {
        KeWaitForSingleObject(&r->done, Executive, KernelMode, FALSE, NULL);
        st = r->srb.Status;
    }
    ksl__strm_srb_release(r);
    return st;
}
