/* SPDX-License-Identifier: MIT */
/*
 * StreamClassScheduleTimer (one timer per stream, one for the device) and SRB timeouts.
 *
 * A timer routine runs serialized like an entry point with synchronization on, at DISPATCH_LEVEL
 * (in the timer's DPC) with it off.  Every schedule bumps the slot's generation; a firing whose
 * generation is stale (replaced or cancelled since, including a cancel asked for above
 * DISPATCH_LEVEL where the kernel timer cannot be touched) does nothing.
 *
 * SRB timeouts: a periodic kernel timer ticks once per second of virtual time while the adapter
 * is started; each tick decrements TimeoutCounter of every SRB the minidriver holds with a
 * non-zero counter, and calls HwRequestTimeoutHandler for the ones that reach 0 (serialized with
 * synchronization on, at DISPATCH_LEVEL with it off).
 */
#include <stdio.h>

#include "strm.h"

static ksl_stream_adapter *slot_of(void *owner_ctx, strm_timer **t)
{
    ksl_stream_adapter *a = owner_ctx;
    if (a->magic == STRM_MAGIC_ADAPTER) {
        *t = &a->timer;
        return a;
    }
    strm_stream *s = owner_ctx;
    *t = &s->timer;
    return s->a;
}

static void arm(strm_timer *t, ULONG us)
{
    LARGE_INTEGER due;
    due.QuadPart = -10 * (LONGLONG)us;
    KeSetTimer(&t->timer, due, &t->dpc);
}

static void timer_dpc(PKDPC dpc, PVOID context, PVOID arg1, PVOID arg2)
{
    (void)dpc, (void)arg1, (void)arg2;
    strm_timer *t;
    ksl_stream_adapter *a = slot_of(context, &t);
    pthread_mutex_lock(&a->mu);
    if (t->armed_gen != t->gen || !t->routine) {
        pthread_mutex_unlock(&a->mu);
        return;
    }
    strm_call c = {0};
    c.a = a;
    c.entry = KSL_STRM_E_TIMER;
    c.ctx_fn = t->routine;
    c.context = t->context;
    t->gen++; /* fired: this generation is used up */
    t->running++;
    pthread_mutex_unlock(&a->mu);
    if (a->sync)
        ksl__strm_call_sync(&c);
    else
        ksl__strm_call_direct(&c); /* DISPATCH_LEVEL: this DPC */
    pthread_mutex_lock(&a->mu);
    t->running--;
    pthread_mutex_unlock(&a->mu);
}

void ksl__strm_timer_init(ksl_stream_adapter *a, strm_timer *t, void *owner)
{
    memset(t, 0, sizeof *t);
    KeInitializeTimer(&t->timer);
    KeInitializeDpc(&t->dpc, timer_dpc, owner ? owner : (void *)a);
    t->dpc.name = owner ? "stream timer" : "device timer";
}

void ksl__strm_timer_flush(ksl_stream_adapter *a, strm_timer *t)
{
    pthread_mutex_lock(&a->mu);
    bool go = t->need_arm;
    ULONG us = t->us;
    t->need_arm = false;
    if (go)
        t->armed_gen = t->gen;
    pthread_mutex_unlock(&a->mu);
    if (go)
        arm(t, us);
}

void ksl__strm_timer_drain(ksl_stream_adapter *a, strm_timer *t, uint32_t us)
{
    pthread_mutex_lock(&a->mu);
    t->gen++;
    t->need_arm = false;
    t->routine = NULL;
    pthread_mutex_unlock(&a->mu);
    KeCancelTimer(&t->timer);
    KeRemoveQueueDpc(&t->dpc);
    for (uint32_t waited = 0; waited < us; waited += 10) {
        pthread_mutex_lock(&a->mu);
        bool busy = t->running != 0;
        pthread_mutex_unlock(&a->mu);
        if (!busy)
            break;
        LARGE_INTEGER iv;
        iv.QuadPart = -100;
        KeDelayExecutionThread(KernelMode, FALSE, &iv);
    }
}

VOID ksl_strm_schedule_timer(PHW_STREAM_OBJECT StreamObject, PVOID HwDeviceExtension, ULONG NumberOfMicroseconds,
                             PHW_TIMER_ROUTINE TimerRoutine, PVOID Context, const char *file, int line)
{
    ksl_stream_adapter *a = ksl__strm_adapter_of(HwDeviceExtension);
    strm_stream *s = StreamObject ? ksl__strm_stream_of(a, StreamObject) : NULL;
    if (!a || (StreamObject && !s)) {
        ksl_report(STRM_F_BAD_NOTIFICATION, file, line, "StreamClassScheduleTimer with a %s the class did not create",
                   !a ? "device extension" : "stream object");
        return;
    }
    ksl__strm_hook_service(a, "StreamClassScheduleTimer", file, line);
    strm_timer *t = s ? &s->timer : &a->timer;
    bool low = KeGetCurrentIrql() <= DISPATCH_LEVEL;
    bool cancel = NumberOfMicroseconds == 0 || !TimerRoutine;
    pthread_mutex_lock(&a->mu);
    t->gen++;
    t->need_arm = false;
    if (cancel) {
        t->routine = NULL;
    } else {
        t->routine = TimerRoutine;
        t->context = Context;
        t->us = NumberOfMicroseconds;
        if (low)
            t->armed_gen = t->gen;
        else
            t->need_arm = true;
    }
    pthread_mutex_unlock(&a->mu);
    if (cancel) {
        if (low)
            KeCancelTimer(&t->timer);
        return;
    }
    if (low)
        arm(t, NumberOfMicroseconds);
    else
        ksl__strm_defer(a);
}

/* ---- SRB timeouts ---------------------------------------------------------------------------- */

#define TICK_BATCH 32

static void tick_dpc(PKDPC dpc, PVOID context, PVOID arg1, PVOID arg2)
{
    (void)dpc, (void)arg1, (void)arg2;
    ksl_stream_adapter *a = context;
    strm_srb *due[TICK_BATCH];
    int n = 0;
    pthread_mutex_lock(&a->mu);
    a->dpc_running++;
    for (LIST_ENTRY *l = a->outstanding.Flink; l != &a->outstanding; l = l->Flink) {
        strm_srb *r = CONTAINING_RECORD(l, strm_srb, olink);
        if (!r->srb.TimeoutCounter)
            continue;
        if (r->srb.TimeoutCounter > 1) {
            r->srb.TimeoutCounter--;
            continue;
        }
        if (n == TICK_BATCH)
            continue; /* stays at 1: next second */
        r->srb.TimeoutCounter = 0;
        r->q->grace = true; /* a synchronized minidriver signals ReadyForNext after a timeout */
        a->st.timeouts++;
        due[n++] = r;
    }
    pthread_mutex_unlock(&a->mu);
    for (int i = 0; i < n; i++) {
        strm_call c = {0};
        c.a = a;
        c.entry = KSL_STRM_E_TIMEOUT;
        c.srb_fn = a->init.HwRequestTimeoutHandler;
        c.srb = due[i];
        c.recheck_mini = true;
        if (a->sync)
            ksl__strm_call_sync(&c);
        else
            ksl__strm_call_direct(&c); /* DISPATCH_LEVEL: this DPC */
    }
    pthread_mutex_lock(&a->mu);
    a->dpc_running--;
    pthread_mutex_unlock(&a->mu);
}

void ksl__strm_tick_start(ksl_stream_adapter *a)
{
    KeInitializeTimer(&a->tick);
    KeInitializeDpc(&a->tick_dpc, tick_dpc, a);
    a->tick_dpc.name = "stream class timeout tick";
    LARGE_INTEGER due;
    due.QuadPart = -10000000; /* 1 s */
    KeSetTimerEx(&a->tick, due, 1000, &a->tick_dpc);
}

void ksl__strm_tick_stop(ksl_stream_adapter *a)
{
    KeCancelTimer(&a->tick);
    KeRemoveQueueDpc(&a->tick_dpc);
}
