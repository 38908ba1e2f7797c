/* SPDX-License-Identifier: MIT */
/*
 * Calls into the minidriver.  With synchronization on, every entry point runs serialized: through
 * KeSynchronizeExecution at the adapter's DIRQL when it has an ISR, at DISPATCH_LEVEL holding the
 * class spin lock when it has none.  A caller that already holds that lock (an entry point, the
 * ISR, a High routine calling a class service that calls back) runs the routine in place: it is
 * synchronized already, and taking the lock again would be a self-deadlock.
 *
 * Every call is timed in virtual time on its CPU and accounted per entry point
 * (ksl_stream_stats.entry) and handed to the checks' hook (ksl__strm_hook_entry).
 */
#include "strm.h"

void ksl__strm_account(ksl_stream_adapter *a, int entry, uint8_t irql, uint64_t cost_ns)
{
    pthread_mutex_lock(&a->mu);
    ksl_stream_entry_stats *s = &a->st.entry[entry];
    s->calls++;
    s->total_ns += cost_ns;
    if (cost_ns > s->max_ns)
        s->max_ns = cost_ns;
    if (irql > s->max_irql)
        s->max_irql = irql;
    pthread_mutex_unlock(&a->mu);
    ksl__strm_hook_entry(a, entry, irql, cost_ns);
}

/* The race-window spans of a routine (<kslab/windows.h>): what it opens while it runs. */
static void open_spans(int entry, uint32_t span[2])
{
    span[0] = span[1] = 0;
    switch (entry) {
    case KSL_STRM_E_DEVICE:
    case KSL_STRM_E_DATA:
    case KSL_STRM_E_CONTROL: span[0] = ksl_span_open(KSL_SPAN_ST_RECEIVE, NULL, 0, 0); break;
    case KSL_STRM_E_LOW: span[1] = ksl_span_open(KSL_SPAN_ST_LOW, NULL, 0, 0); /* fall through */
    case KSL_STRM_E_DISPATCH:
        span[0] = ksl_span_open(KSL_SPAN_ST_CALLBACK, NULL, KSL_WIN_ST_ISR_DURING_CALLBACK + 1, 0);
        break;
    case KSL_STRM_E_TIMER:
        if (ksl_span_open_elsewhere(KSL_SPAN_ST_LOW, NULL))
            ksl_window_hit(KSL_WIN_ST_TIMER_DURING_LOW);
        break;
    default: break;
    }
}

/* Run the call here, at the current IRQL. */
static void run(strm_call *c)
{
    ksl_stream_adapter *a = c->a;
    if (c->recheck_mini) {
        pthread_mutex_lock(&a->mu);
        bool mine = c->srb->state == SRB_ST_MINI;
        pthread_mutex_unlock(&a->mu);
        if (!mine)
            return; /* completed (or aborted) since the class decided to call */
    }
    uint8_t irql = KeGetCurrentIrql();
    uint64_t t0 = ksl__strm_clock(irql);
    c->called = true;
    ksl__strm_ck_enter(a, c->entry, irql);
    uint32_t span[2];
    open_spans(c->entry, span);
    if (c->srb_fn)
        c->srb_fn(&c->srb->srb); /* from here on the SRB may be completed and freed */
    else
        c->ctx_fn(c->context);
    ksl_span_close(span[0]);
    ksl_span_close(span[1]);
    ksl__strm_ck_leave(a, c->entry, irql);
    ksl__strm_account(a, c->entry, irql, ksl__strm_elapsed(irql, t0));
}

static BOOLEAN sync_routine(PVOID context)
{
    run(context);
    return TRUE;
}

void ksl__strm_call_sync(strm_call *c)
{
    ksl_stream_adapter *a = c->a;
    if (ksl__strm_serialized(a)) {
        run(c);
        return;
    }
    if (a->intr) {
        KeSynchronizeExecution(a->intr, sync_routine, c);
        return;
    }
    KIRQL old;
    KeAcquireSpinLock(&a->class_lock, &old);
    run(c);
    KeReleaseSpinLock(&a->class_lock, old);
}

void ksl__strm_call_direct(strm_call *c)
{
    run(c);
}

void ksl__strm_call_at_dispatch(strm_call *c)
{
    KIRQL old = KeGetCurrentIrql();
    if (old >= DISPATCH_LEVEL) {
        run(c);
        return;
    }
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    run(c);
    KeLowerIrql(old);
}
