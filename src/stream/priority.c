/* SPDX-License-Identifier: MIT */
/*
 * StreamClassCallAtNewPriority.  One slot per stream and one for the device:
 *   High       serialized like an entry point (KeSynchronizeExecution at the DIRQL, or the class
 *              lock at DISPATCH_LEVEL), before the call returns; in place when the caller holds
 *              the serialization lock already;
 *   Dispatch   the slot's DPC, at DISPATCH_LEVEL, serialized with nothing;
 *   Low        the slot's work item, at PASSIVE_LEVEL on a system worker thread, serialized with
 *              nothing (asked for above DISPATCH_LEVEL, the class DPC queues the work item);
 *   LowToHigh  from a Low routine: High, before the call returns.
 * A Dispatch or Low routine is pending from the call until it starts; a second call on a slot
 * with one pending is refused and reported (S3.callatnewpriority-pending).
 */
#include <stdio.h>

#include "strm.h"

static void run_slot(ksl_stream_adapter *a, strm_prio *p, int entry)
{
    pthread_mutex_lock(&a->mu);
    PHW_PRIORITY_ROUTINE fn = p->routine;
    PVOID ctx = p->context;
    bool go = p->pending && fn;
    p->pending = false;
    if (go) {
        p->running++;
        p->running_low += entry == KSL_STRM_E_LOW;
    }
    pthread_mutex_unlock(&a->mu);
    if (!go)
        return;
    strm_call c = {0};
    c.a = a;
    c.entry = entry;
    c.ctx_fn = fn;
    c.context = ctx;
    ksl__strm_call_direct(&c);
    pthread_mutex_lock(&a->mu);
    p->running--;
    p->running_low -= entry == KSL_STRM_E_LOW;
    pthread_mutex_unlock(&a->mu);
}

/* The slot's owner: the adapter for the device slot, else the stream. */
static ksl_stream_adapter *slot_adapter(void *owner_ctx, strm_prio **p)
{
    ksl_stream_adapter *a = owner_ctx;
    if (a->magic == STRM_MAGIC_ADAPTER) {
        *p = &a->prio;
        return a;
    }
    strm_stream *s = owner_ctx;
    *p = &s->prio;
    return s->a;
}

static void prio_dpc(PKDPC dpc, PVOID context, PVOID arg1, PVOID arg2)
{
    (void)dpc, (void)arg1, (void)arg2;
    strm_prio *p;
    ksl_stream_adapter *a = slot_adapter(context, &p);
    run_slot(a, p, KSL_STRM_E_DISPATCH);
}

static void prio_work(PDEVICE_OBJECT device, PVOID context)
{
    (void)device;
    strm_prio *p;
    ksl_stream_adapter *a = slot_adapter(context, &p);
    run_slot(a, p, KSL_STRM_E_LOW);
}

NTSTATUS ksl__strm_prio_init(ksl_stream_adapter *a, strm_prio *p, void *owner)
{
    memset(p, 0, sizeof *p);
    void *ctx = owner ? owner : (void *)a;
    KeInitializeDpc(&p->dpc, prio_dpc, ctx);
    p->dpc.name = owner ? "stream Dispatch priority routine" : "device Dispatch priority routine";
    p->work = IoAllocateWorkItem(&a->devobj);
    return p->work ? STATUS_SUCCESS : STATUS_INSUFFICIENT_RESOURCES;
}

bool ksl__strm_prio_drain(ksl_stream_adapter *a, strm_prio *p, uint32_t us)
{
    bool busy = true;
    for (uint32_t waited = 0;; waited += 10) {
        pthread_mutex_lock(&a->mu);
        busy = p->pending || p->running || p->need_queue;
        pthread_mutex_unlock(&a->mu);
        if (!busy || waited >= us)
            break;
        LARGE_INTEGER iv;
        iv.QuadPart = -100; /* 10 us */
        KeDelayExecutionThread(KernelMode, FALSE, &iv);
    }
    if (!busy && p->work) {
        IoFreeWorkItem(p->work);
        p->work = NULL;
    }
    return !busy;
}

void ksl__strm_prio_flush(ksl_stream_adapter *a, strm_prio *p)
{
    pthread_mutex_lock(&a->mu);
    bool go = p->need_queue;
    p->need_queue = false;
    pthread_mutex_unlock(&a->mu);
    if (go)
        IoQueueWorkItem(p->work, prio_work, DelayedWorkQueue, p->dpc.context);
}

static bool low_outstanding(const strm_prio *p)
{
    return (p->pending && p->priority == Low) || p->running_low;
}

bool ksl__strm_low_outstanding_locked(ksl_stream_adapter *a)
{
    if (low_outstanding(&a->prio))
        return true;
    for (LIST_ENTRY *l = a->streams.Flink; l != &a->streams; l = l->Flink)
        if (low_outstanding(&CONTAINING_RECORD(l, strm_stream, link)->prio))
            return true;
    return false;
}

static const char *priority_name(STREAM_PRIORITY pr)
{
    switch (pr) {
    case High: return "High";
    case Dispatch: return "Dispatch";
    case Low: return "Low";
    case LowToHigh: return "LowToHigh";
    }
    return "?";
}

VOID ksl_strm_call_at_new_priority(PHW_STREAM_OBJECT StreamObject, PVOID HwDeviceExtension, STREAM_PRIORITY Priority,
                                   PHW_PRIORITY_ROUTINE PriorityRoutine, PVOID Context, const char *file, int line)
{
    ksl_stream_adapter *a = ksl__strm_adapter_of(HwDeviceExtension);
    strm_stream *s = StreamObject ? ksl__strm_stream_of(a, StreamObject) : NULL;
    if (!a || (StreamObject && !s) || !PriorityRoutine || (unsigned)Priority > LowToHigh) {
        ksl_report(STRM_F_BAD_NOTIFICATION, file, line,
                   "StreamClassCallAtNewPriority with %s", !a ? "a device extension the class did not allocate"
                   : StreamObject && !s ? "a stream object the class did not create"
                   : !PriorityRoutine   ? "no routine"
                                        : "an unknown priority");
        return;
    }
    ksl__strm_hook_service(a, "StreamClassCallAtNewPriority", file, line);
    if (Priority == High || Priority == LowToHigh) {
        ksl__strm_ss_synchronizes(a); /* from a Low or Dispatch routine: it synchronizes (S5, S4) */
        strm_call c = {0};
        c.a = a;
        c.entry = KSL_STRM_E_HIGH;
        c.ctx_fn = PriorityRoutine;
        c.context = Context;
        ksl__strm_call_sync(&c);
        return;
    }
    strm_prio *p = s ? &s->prio : &a->prio;
    pthread_mutex_lock(&a->mu);
    if (p->pending) {
        const char *pf = p->file;
        int pl = p->line;
        STREAM_PRIORITY pp = p->priority;
        pthread_mutex_unlock(&a->mu);
        char where[48];
        if (s)
            snprintf(where, sizeof where, "stream %lu", (unsigned long)s->obj.StreamNumber);
        else
            snprintf(where, sizeof where, "the device");
        ksl_report(STRM_F_PRIORITY_PENDING, file, line,
                   "StreamClassCallAtNewPriority(%s) for %s while a %s routine asked for at %s:%d is still pending: "
                   "only one per stream and one per device",
                   priority_name(Priority), where, priority_name(pp), pf ? pf : "?", pl);
        return;
    }
    p->pending = true;
    p->priority = Priority;
    p->routine = PriorityRoutine;
    p->context = Context;
    p->file = file;
    p->line = line;
    bool defer = Priority == Low && KeGetCurrentIrql() > DISPATCH_LEVEL;
    if (defer)
        p->need_queue = true;
    pthread_mutex_unlock(&a->mu);
    if (Priority == Low)
        ksl__strm_event(a, KSL_STRM_EV_LOW); /* from the caller's context: pending from here on */
    if (Priority == Dispatch)
        KeInsertQueueDpc(&p->dpc, NULL, NULL);
    else if (defer)
        ksl__strm_defer(a);
    else
        IoQueueWorkItem(p->work, prio_work, DelayedWorkQueue, p->dpc.context);
}
