/* SPDX-License-Identifier: MIT */
/*
 * Demonstration scenarios: an interrupt source (<kslab/hw/irqdev.h>) ticking every 40 us of
 * virtual time; its ISR acknowledges it and queues a DPC; the DPC and two client threads add to
 * a counter under one spin lock.  The clean variant follows every rule.  "lock-order" takes two
 * locks in opposite orders in the DPC and the threads (K.lock-order-cycle); "stale-irql"
 * releases a spin lock with the wrong saved IRQL (K.spinlock-release-irql).
 */
#include <stdlib.h>
#include <string.h>

#include <kslab/hw/irqdev.h>
#include <kslab/wdk/wdm.h>

#include "demo.h"

#define TICK_PORT_BASE 0x1000u
#define TICK_LINE 5u
#define TICK_IRQL 5u
#define TICK_PERIOD_NS 40000u

enum { TICKS = 8, PER_THREAD = 40 };

typedef struct demo_state {
    const demo_scenario *sc;
    demo_result *r;
    ksl_irqdev dev;
    KSPIN_LOCK lock_a, lock_b;
    KDPC dpc;
    KEVENT done;
    KEVENT client_done;
    PKINTERRUPT intr;
    volatile uint64_t counter;
    uint32_t ticks_seen;
    uint32_t pending_ticks; /* ISR -> DPC, under the interrupt lock */
    uint32_t grabbed;       /* written under the interrupt lock, read under lock_a */
} demo_state;

static BOOLEAN demo_isr(PKINTERRUPT intr, PVOID ctx)
{
    (void)intr;
    demo_state *s = ctx;
    ULONG ticks = READ_PORT_ULONG(TICK_PORT_BASE + KSL_IRQDEV_STATUS);
    if (!ticks)
        return FALSE;
    WRITE_PORT_ULONG(TICK_PORT_BASE + KSL_IRQDEV_STATUS, ticks);
    s->pending_ticks += ticks; /* one interrupt may stand for several ticks, one DPC for several interrupts */
    KeInsertQueueDpc(&s->dpc, NULL, NULL);
    return TRUE;
}

static BOOLEAN take_pending(PVOID ctx)
{
    demo_state *s = ctx;
    s->grabbed = s->pending_ticks;
    s->pending_ticks = 0;
    return TRUE;
}

static void demo_dpc(PKDPC dpc, PVOID ctx, PVOID a1, PVOID a2)
{
    (void)dpc;
    (void)a1;
    (void)a2;
    demo_state *s = ctx;
    uint32_t seen, n;
    /* The same DPC object may run on two CPUs at once: everything shared is under the lock. */
    if (strcmp(s->sc->name, "lock-order") == 0) {
        KeAcquireSpinLockAtDpcLevel(&s->lock_b);
        KeAcquireSpinLockAtDpcLevel(&s->lock_a);
        KeSynchronizeExecution(s->intr, take_pending, s);
        n = s->grabbed;
        s->counter += n;
        seen = s->ticks_seen += n;
        KeReleaseSpinLockFromDpcLevel(&s->lock_a);
        KeReleaseSpinLockFromDpcLevel(&s->lock_b);
    } else {
        KeAcquireSpinLockAtDpcLevel(&s->lock_a);
        KeSynchronizeExecution(s->intr, take_pending, s);
        n = s->grabbed;
        s->counter += n;
        seen = s->ticks_seen += n;
        KeReleaseSpinLockFromDpcLevel(&s->lock_a);
    }
    if (n && seen == TICKS)
        KeSetEvent(&s->done, IO_NO_INCREMENT, FALSE);
}

static void demo_client(void *arg)
{
    demo_state *s = arg;
    for (int i = 0; i < PER_THREAD; i++) {
        KIRQL old;
        KeAcquireSpinLock(&s->lock_a, &old);
        if (strcmp(s->sc->name, "lock-order") == 0) {
            KeAcquireSpinLockAtDpcLevel(&s->lock_b);
            s->counter++;
            KeReleaseSpinLockFromDpcLevel(&s->lock_b);
        } else {
            s->counter++;
        }
        if (strcmp(s->sc->name, "stale-irql") == 0 && i == PER_THREAD / 2)
            old = DISPATCH_LEVEL; /* the bug: a clobbered saved IRQL */
        KeReleaseSpinLock(&s->lock_a, old);
        KeStallExecutionProcessor(1);
    }
}

static void demo_second(void *arg)
{
    demo_state *s = arg;
    demo_client(s);
    KeSetEvent(&s->client_done, IO_NO_INCREMENT, FALSE);
}

static void demo_starter(void *arg)
{
    demo_state *s = arg;
    WRITE_PORT_ULONG(TICK_PORT_BASE + KSL_IRQDEV_TRAIN, TICKS);
    demo_client(s);
    LARGE_INTEGER timeout;
    timeout.QuadPart = -10 * 1000 * 50; /* 50 ms */
    KeWaitForSingleObject(&s->done, Executive, KernelMode, FALSE, &timeout);
    KeWaitForSingleObject(&s->client_done, Executive, KernelMode, FALSE, &timeout);
    KIRQL old;
    KeAcquireSpinLock(&s->lock_a, &old);
    s->r->counter = s->counter;
    s->r->ticks = s->ticks_seen;
    KeReleaseSpinLock(&s->lock_a, old);
}

static void *demo_setup(ksl_engine *e, demo_result *r, const demo_scenario *sc)
{
    demo_state *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->sc = sc;
    s->r = r;
    ksl_irqdev_attach(&s->dev, e, TICK_PORT_BASE, TICK_LINE, TICK_PERIOD_NS);
    KeInitializeSpinLock(&s->lock_a);
    KeInitializeSpinLock(&s->lock_b);
    KeInitializeDpc(&s->dpc, demo_dpc, s);
    KeInitializeEvent(&s->done, NotificationEvent, FALSE);
    KeInitializeEvent(&s->client_done, NotificationEvent, FALSE);
    IoConnectInterrupt(&s->intr, demo_isr, s, NULL, TICK_LINE, TICK_IRQL, TICK_IRQL, LevelSensitive, FALSE, 0, FALSE);
    r->expected = 2 * PER_THREAD + TICKS;
    ksl_thread_create(e, "starter", demo_starter, s);
    ksl_thread_create(e, "client", demo_second, s);
    return s;
}

static void demo_teardown(void *state)
{
    demo_state *s = state;
    if (s && s->intr)
        IoDisconnectInterrupt(s->intr);
    free(s);
}

static void *setup_clean(ksl_engine *e, demo_result *r);
static void *setup_lock_order(ksl_engine *e, demo_result *r);
static void *setup_stale_irql(ksl_engine *e, demo_result *r);

static const demo_scenario scenarios[] = {
    {"counter", "device interrupts, a DPC and two threads share a counter under a spin lock", 0, setup_clean, demo_teardown},
    {"lock-order", "the DPC takes lock B then A, the threads A then B", 1, setup_lock_order, demo_teardown},
    {"stale-irql", "a thread releases its spin lock restoring the wrong IRQL", 1, setup_stale_irql, demo_teardown},
};

static void *setup_clean(ksl_engine *e, demo_result *r)
{
    return demo_setup(e, r, &scenarios[0]);
}
static void *setup_lock_order(ksl_engine *e, demo_result *r)
{
    return demo_setup(e, r, &scenarios[1]);
}
static void *setup_stale_irql(ksl_engine *e, demo_result *r)
{
    return demo_setup(e, r, &scenarios[2]);
}

const demo_scenario *demo_find(const char *name)
{
    for (size_t i = 0; i < sizeof scenarios / sizeof scenarios[0]; i++)
        if (strcmp(scenarios[i].name, name) == 0)
            return &scenarios[i];
    return NULL;
}

const demo_scenario *demo_list(size_t *n)
{
    *n = sizeof scenarios / sizeof scenarios[0];
    return scenarios;
}
