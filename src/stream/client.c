/* SPDX-License-Identifier: MIT */
/*
 * The client API (<kslab/stream.h>): open and close streams, stream state, data and control
 * SRBs: allocate, submit, wait, cancel, free.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strm.h"

static strm_stream *pin_of(ksl_stream_pin *pin)
{
    return (strm_stream *)pin;
}

PHW_STREAM_OBJECT ksl_stream_object(const ksl_stream_pin *pin)
{
    return &((strm_stream *)pin)->obj;
}

static bool format_matches(const KSDATAFORMAT *f, const KSDATAFORMAT *r)
{
    return IsEqualGUID(&f->MajorFormat, &r->MajorFormat) && IsEqualGUID(&f->SubFormat, &r->SubFormat) &&
           IsEqualGUID(&f->Specifier, &r->Specifier);
}

static void setup_open(PHW_STREAM_REQUEST_BLOCK srb, void *arg)
{
    srb->CommandData.OpenFormat = arg;
}

static void close_stream_srb(strm_stream *s)
{
    ksl_stream_adapter *a = s->a;
    ksl__strm_device_request(a, s, SRB_CLOSE_STREAM, NULL, NULL);
    pthread_mutex_lock(&a->mu);
    s->open = false;
    a->instances[s->obj.StreamNumber]--;
    pthread_mutex_unlock(&a->mu);
}

NTSTATUS ksl_stream_open(ksl_stream_adapter *a, ULONG stream_number, PKSDATAFORMAT format, ksl_stream_pin **out)
{
    ksl_require_irql(PASSIVE_LEVEL, "ksl_stream_open", __FILE__, __LINE__);
    *out = NULL;
    if (!a->started || !a->desc)
        return STATUS_DEVICE_NOT_READY;
    if (stream_number >= a->desc->StreamHeader.NumberOfStreams)
        return STATUS_INVALID_PARAMETER;
    const HW_STREAM_INFORMATION *info = &a->desc->StreamInfo + stream_number;
    if (format && info->NumberOfFormatArrayEntries) {
        bool ok = false;
        for (ULONG i = 0; i < info->NumberOfFormatArrayEntries && !ok; i++)
            ok = info->StreamFormatsArray[i] && format_matches(format, info->StreamFormatsArray[i]);
        if (!ok)
            return STATUS_NO_MATCH;
    }
    strm_stream *s = calloc(1, sizeof *s);
    if (!s)
        return STATUS_INSUFFICIENT_RESOURCES;
    if (a->init.PerStreamExtensionSize && !(s->obj.HwStreamExtension = calloc(1, a->init.PerStreamExtensionSize))) {
        free(s);
        return STATUS_INSUFFICIENT_RESOURCES;
    }
    s->magic = STRM_MAGIC_STREAM;
    s->a = a;
    s->obj.SizeOfThisPacket = sizeof s->obj;
    s->obj.StreamNumber = stream_number;
    s->obj.HwDeviceExtension = a->devext;
    ksl__strm_queue_init(&s->data, Q_DATA, s);
    ksl__strm_queue_init(&s->control, Q_CONTROL, s);
    NTSTATUS st = ksl__strm_prio_init(a, &s->prio, s);
    ksl__strm_timer_init(a, &s->timer, s);
    pthread_mutex_lock(&a->mu);
    InsertTailList(&a->streams, &s->link); /* kept until ksl_stream_destroy */
    bool full = a->instances[stream_number] >= info->NumberOfPossibleInstances;
    if (!full && NT_SUCCESS(st))
        a->instances[stream_number]++;
    pthread_mutex_unlock(&a->mu);
    if (full || !NT_SUCCESS(st)) {
        ksl__strm_prio_drain(a, &s->prio, 0);
        return full ? STATUS_TOO_MANY_OPENED_FILES : st;
    }
    st = ksl__strm_device_request(a, s, SRB_OPEN_STREAM, setup_open, format);
    if (NT_SUCCESS(st) && (!s->obj.ReceiveDataPacket || !s->obj.ReceiveControlPacket)) {
        /* The minidriver must set both in SRB_OPEN_STREAM. */
        pthread_mutex_lock(&a->mu);
        s->open = true;
        pthread_mutex_unlock(&a->mu);
        close_stream_srb(s);
        ksl__strm_prio_drain(a, &s->prio, a->opt.close_wait_us);
        return STATUS_INVALID_DEVICE_STATE;
    }
    if (!NT_SUCCESS(st)) {
        pthread_mutex_lock(&a->mu);
        a->instances[stream_number]--;
        pthread_mutex_unlock(&a->mu);
        ksl__strm_prio_drain(a, &s->prio, a->opt.close_wait_us);
        return st;
    }
    pthread_mutex_lock(&a->mu);
    s->open = true;
    pthread_mutex_unlock(&a->mu);
    *out = (ksl_stream_pin *)s;
    return STATUS_SUCCESS;
}

/* Under nothing: one SRB of s the close must still cancel (queued ones first, so that none of
 * them goes down once a cancelled one frees its queue), or NULL. */
static strm_srb *next_to_cancel(ksl_stream_adapter *a, strm_stream *s)
{
    strm_srb *found = NULL;
    pthread_mutex_lock(&a->mu);
    for (int pass = 0; pass < 2 && !found; pass++) {
        for (LIST_ENTRY *l = a->all.Flink; l != &a->all && !found; l = l->Flink) {
            strm_srb *r = CONTAINING_RECORD(l, strm_srb, slink);
            if (r->s != s || r->q->kind == Q_DEVICE)
                continue;
            if (pass == 0 ? r->state == SRB_ST_QUEUED : r->state == SRB_ST_MINI && !r->cancel_called)
                found = r;
        }
    }
    pthread_mutex_unlock(&a->mu);
    return found;
}

/* Under nothing: an SRB of s the minidriver still holds (or still queued), or NULL. */
static strm_srb *left_over(ksl_stream_adapter *a, strm_stream *s, SRB_COMMAND *cmd, uint64_t *id, strm_srb_state *st)
{
    strm_srb *found = NULL;
    pthread_mutex_lock(&a->mu);
    for (LIST_ENTRY *l = a->all.Flink; l != &a->all && !found; l = l->Flink) {
        strm_srb *r = CONTAINING_RECORD(l, strm_srb, slink);
        if (r->s == s && r->q->kind != Q_DEVICE && (r->state == SRB_ST_QUEUED || r->state == SRB_ST_MINI)) {
            found = r;
            *cmd = r->srb.Command;
            *id = r->id;
            *st = r->state;
        }
    }
    pthread_mutex_unlock(&a->mu);
    return found;
}

NTSTATUS ksl_stream_close(ksl_stream_pin *pin)
{
    ksl_require_irql(PASSIVE_LEVEL, "ksl_stream_close", __FILE__, __LINE__);
    strm_stream *s = pin_of(pin);
    ksl_stream_adapter *a = s->a;
    pthread_mutex_lock(&a->mu);
    bool open = s->open && !s->closing;
    s->closing = true;
    pthread_mutex_unlock(&a->mu);
    if (!open)
        return STATUS_INVALID_DEVICE_STATE;
    /* The file object's cleanup: cancel everything still outstanding on the stream. */
    for (strm_srb *r; (r = next_to_cancel(a, s));)
        ksl__strm_cancel(r);
    SRB_COMMAND cmd = SRB_READ_DATA;
    uint64_t id = 0;
    strm_srb_state st = SRB_ST_IDLE;
    for (uint32_t waited = 0;; waited += 10) {
        if (!left_over(a, s, &cmd, &id, &st))
            break;
        if (waited >= a->opt.close_wait_us) {
            ksl_report(STRM_F_NOT_COMPLETED_AT_CLOSE, NULL, 0,
                       "stream %lu closed with %s #%llu %s %u us after HwCancelPacket: it was never completed",
                       (unsigned long)s->obj.StreamNumber, ksl__strm_command_name(cmd), (unsigned long long)id,
                       st == SRB_ST_MINI ? "still owned by the minidriver"
                                         : "still queued (its queue was never marked ready again)",
                       a->opt.close_wait_us);
            return STATUS_UNSUCCESSFUL;
        }
        LARGE_INTEGER iv;
        iv.QuadPart = -100;
        KeDelayExecutionThread(KernelMode, FALSE, &iv);
    }
    ksl__strm_timer_drain(a, &s->timer, a->opt.close_wait_us);
    ksl__strm_prio_drain(a, &s->prio, a->opt.close_wait_us);
    close_stream_srb(s);
    return STATUS_SUCCESS;
}

/* ---- state ----------------------------------------------------------------------------------- */

static NTSTATUS control(strm_stream *s, SRB_COMMAND cmd, KSSTATE *state)
{
    strm_srb *r = ksl__strm_srb_new(s->a, s, cmd, 0);
    if (!r)
        return STATUS_INSUFFICIENT_RESOURCES;
    r->srb.CommandData.StreamState = *state;
    NTSTATUS st = ksl__strm_submit(r);
    if (st == STATUS_PENDING) {
        KeWaitForSingleObject(&r->done, Executive, KernelMode, FALSE, NULL);
        st = r->srb.Status;
        *state = r->srb.CommandData.StreamState;
    }
    ksl__strm_srb_release(r);
    return st;
}

NTSTATUS ksl_stream_set_state(ksl_stream_pin *pin, KSSTATE state)
{
    ksl_require_irql(PASSIVE_LEVEL, "ksl_stream_set_state", __FILE__, __LINE__);
    return control(pin_of(pin), SRB_SET_STREAM_STATE, &state);
}

NTSTATUS ksl_stream_get_state(ksl_stream_pin *pin, KSSTATE *state)
{
    ksl_require_irql(PASSIVE_LEVEL, "ksl_stream_get_state", __FILE__, __LINE__);
    *state = KSSTATE_STOP;
    return control(pin_of(pin), SRB_GET_STREAM_STATE, state);
}

/* ---- SRBs ------------------------------------------------------------------------------------ */

PHW_STREAM_REQUEST_BLOCK ksl_stream_srb_alloc(ksl_stream_pin *pin, SRB_COMMAND command, uint32_t bytes)
{
    ksl_require_irql(PASSIVE_LEVEL, "ksl_stream_srb_alloc", __FILE__, __LINE__);
    strm_stream *s = pin_of(pin);
    if ((unsigned)command >= 0x100)
        return NULL; /* device requests are the class's own */
    if (command != SRB_READ_DATA && command != SRB_WRITE_DATA)
        bytes = 0;
    strm_srb *r = ksl__strm_srb_new(s->a, s, command, bytes);
    return r ? &r->srb : NULL;
}

uint8_t *ksl_stream_srb_data(PHW_STREAM_REQUEST_BLOCK srb)
{
    strm_srb *r = ksl__strm_srb_of(srb);
    return r ? r->data : NULL;
}

void ksl_stream_srb_free(PHW_STREAM_REQUEST_BLOCK srb)
{
    strm_srb *r = ksl__strm_srb_of(srb);
    if (r)
        ksl__strm_srb_release(r);
}

NTSTATUS ksl_stream_srb_submit(PHW_STREAM_REQUEST_BLOCK srb)
{
    ksl_require_irql(PASSIVE_LEVEL, "ksl_stream_srb_submit", __FILE__, __LINE__);
    strm_srb *r = ksl__strm_srb_of(srb);
    if (!r || !r->s || r->q->kind == Q_DEVICE)
        return STATUS_INVALID_PARAMETER;
    return ksl__strm_submit(r);
}

NTSTATUS ksl_stream_srb_wait(PHW_STREAM_REQUEST_BLOCK srb)
{
    strm_srb *r = ksl__strm_srb_of(srb);
    if (!r)
        return STATUS_INVALID_PARAMETER;
    KeWaitForSingleObject(&r->done, Executive, KernelMode, FALSE, NULL);
    return r->srb.Status;
}

NTSTATUS ksl_stream_srb_wait_for(PHW_STREAM_REQUEST_BLOCK srb, int64_t timeout_100ns)
{
    strm_srb *r = ksl__strm_srb_of(srb);
    if (!r || timeout_100ns <= 0)
        return STATUS_INVALID_PARAMETER;
    LARGE_INTEGER t;
    t.QuadPart = -timeout_100ns;
    NTSTATUS st = KeWaitForSingleObject(&r->done, Executive, KernelMode, FALSE, &t);
    return st == STATUS_TIMEOUT ? STATUS_TIMEOUT : r->srb.Status;
}

bool ksl_stream_srb_done(PHW_STREAM_REQUEST_BLOCK srb)
{
    strm_srb *r = ksl__strm_srb_of(srb);
    if (!r)
        return false;
    pthread_mutex_lock(&r->a->mu);
    bool done = r->state == SRB_ST_DONE;
    pthread_mutex_unlock(&r->a->mu);
    return done;
}

bool ksl_stream_srb_cancel(PHW_STREAM_REQUEST_BLOCK srb)
{
    ksl_require_irql(DISPATCH_LEVEL, "ksl_stream_srb_cancel", __FILE__, __LINE__);
    strm_srb *r = ksl__strm_srb_of(srb);
    return r ? ksl__strm_cancel(r) : false;
}
