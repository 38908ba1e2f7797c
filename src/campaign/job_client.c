/* SPDX-License-Identifier: MIT */
/* The client threads every job shares (see job_client.h). */
#include "job_client.h"

#define PAUSE_MS 1

uint64_t ksl__mix(uint64_t x)
{
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

void ksl__client_init(ksl__job_client *c)
{
    KeInitializeEvent(&c->cancel_wake, SynchronizationEvent, FALSE);
    KeInitializeEvent(&c->quit_ev, NotificationEvent, FALSE);
    KeInitializeEvent(&c->started, NotificationEvent, FALSE);
    KeInitializeEvent(&c->churner_done, NotificationEvent, FALSE);
    KeInitializeSpinLock(&c->cancel_lock);
    KeInitializeEvent(&c->state_mu, SynchronizationEvent, TRUE);
    KeInitializeEvent(&c->aim_ev, SynchronizationEvent, FALSE);
    KeInitializeEvent(&c->armed_ev, SynchronizationEvent, FALSE);
    atomic_init(&c->armed, 0);
    atomic_init(&c->quit, false);
    c->head = c->tail = 0;
}

void ksl__client_lock(ksl__job_client *c)
{
    KeWaitForSingleObject(&c->state_mu, Executive, KernelMode, FALSE, NULL);
}

void ksl__client_unlock(ksl__job_client *c)
{
    KeSetEvent(&c->state_mu, IO_NO_INCREMENT, FALSE);
}

void ksl__client_set_state(ksl__job_client *c, KSSTATE state)
{
    ksl__client_lock(c);
    c->set_state(c->job, state);
    ksl__client_unlock(c);
}

static void pick(ksl__job_client *c, uint32_t entry)
{
    KIRQL old;
    KeAcquireSpinLock(&c->cancel_lock, &old);
    c->queue[c->tail++ % KSL__CLIENT_QUEUE] = entry;
    KeReleaseSpinLock(&c->cancel_lock, old);
    KeSetEvent(&c->cancel_wake, IO_NO_INCREMENT, FALSE);
}

void ksl__client_pick(ksl__job_client *c, uint32_t item)
{
    pick(c, item & KSL__ITEM_MASK);
}

void ksl__client_pick_aimed(ksl__job_client *c, uint32_t item, uint32_t kind)
{
    pick(c, (item & KSL__ITEM_MASK) | kind << 24);
    KeWaitForSingleObject(&c->armed_ev, Executive, KernelMode, FALSE, NULL);
}

void ksl__client_event(ksl__job_client *c, uint32_t kind)
{
    unsigned expect = kind;
    if (atomic_load(&c->armed) == kind && atomic_compare_exchange_strong(&c->armed, &expect, 0u))
        KeSetEvent(&c->aim_ev, IO_NO_INCREMENT, FALSE);
}

/* Wait for the moment to cancel item `i`: a seeded delay, or the aimed port event (for at most
 * the cancel window, so that a stream that has gone quiet does not hold the canceller).  `aim`:
 * the pick's (0: the client's). */
static void cancel_moment(ksl__job_client *c, uint32_t i, uint32_t aim)
{
    uint64_t mix = ksl__mix(c->seed ^ (uint64_t)i * 0x100000001B3ull);
    uint64_t us = mix % (c->cancel_window_us + 1ull);
    LARGE_INTEGER d = {.QuadPart = -(LONGLONG)(us * 10)};
    uint32_t kind = aim ? aim : c->aim == KSL__AIM_EACH ? 1u + i % 3u : c->aim;
    if (!kind) {
        KeDelayExecutionThread(KernelMode, FALSE, &d);
        return;
    }
    d.QuadPart = -(LONGLONG)c->cancel_window_us * 10;
    KeClearEvent(&c->aim_ev);
    atomic_store(&c->armed, kind);
    if (aim)
        KeSetEvent(&c->armed_ev, IO_NO_INCREMENT, FALSE); /* the picker goes on */
    KeWaitForSingleObject(&c->aim_ev, Executive, KernelMode, FALSE, &d);
    atomic_store(&c->armed, 0u);
}

static void canceller(void *arg)
{
    ksl__job_client *c = arg;
    for (;;) {
        KeWaitForSingleObject(&c->cancel_wake, Executive, KernelMode, FALSE, NULL);
        /* Read before the queue: every pick the client made before it quit is drained below
         * (read after, a pick could land between the last look at the queue and the exit, and
         * the client would wait for that cancel forever). */
        bool quit = atomic_load(&c->quit);
        for (;;) {
            KIRQL old;
            KeAcquireSpinLock(&c->cancel_lock, &old);
            bool have = c->head != c->tail;
            uint32_t i = have ? c->queue[c->head++ % KSL__CLIENT_QUEUE] : 0;
            KeReleaseSpinLock(&c->cancel_lock, old);
            if (!have)
                break;
            cancel_moment(c, i & KSL__ITEM_MASK, i >> 24);
            c->cancel(c->job, i & KSL__ITEM_MASK);
        }
        if (quit)
            return;
    }
}

static void churner(void *arg)
{
    ksl__job_client *c = arg;
    LARGE_INTEGER period = {.QuadPart = -(LONGLONG)c->pause_every_ms * 10000};
    LARGE_INTEGER pause = {.QuadPart = -(LONGLONG)PAUSE_MS * 10000};
    if (c->gated)
        KeWaitForSingleObject(&c->started, Executive, KernelMode, FALSE, NULL);
    /* Sleeps wait on quit_ev, so that the run ends with the job, not up to a period later. */
    for (;;) {
        if (KeWaitForSingleObject(&c->quit_ev, Executive, KernelMode, FALSE, &period) == STATUS_SUCCESS)
            break;
        if (c->set_power) {
            /* as PortCls, power and state changes exclude each other */
            ksl__client_lock(c);
            c->set_power(c->job, false);
            NTSTATUS st = KeWaitForSingleObject(&c->quit_ev, Executive, KernelMode, FALSE, &pause);
            c->set_power(c->job, true);
            ksl__client_unlock(c);
            if (st == STATUS_SUCCESS)
                break;
            continue;
        }
        ksl__client_set_state(c, KSSTATE_PAUSE);
        if (c->walk)
            ksl__client_set_state(c, KSSTATE_ACQUIRE);
        if (c->walk == KSL__WALK_STOP)
            ksl__client_set_state(c, KSSTATE_STOP);
        if (KeWaitForSingleObject(&c->quit_ev, Executive, KernelMode, FALSE, &pause) == STATUS_SUCCESS)
            break;
        if (c->walk == KSL__WALK_STOP)
            ksl__client_set_state(c, KSSTATE_ACQUIRE);
        if (c->walk)
            ksl__client_set_state(c, KSSTATE_PAUSE);
        ksl__client_set_state(c, KSSTATE_RUN);
    }
    if (c->gated)
        KeSetEvent(&c->churner_done, IO_NO_INCREMENT, FALSE);
}

void ksl__client_threads(ksl__job_client *c, ksl_engine *e)
{
    ksl_thread_create(e, "canceller", canceller, c);
    if (c->pause_every_ms)
        ksl_thread_create(e, c->churner_name, churner, c);
}

void ksl__client_started(ksl__job_client *c)
{
    KeSetEvent(&c->started, IO_NO_INCREMENT, FALSE);
}

void ksl__client_quit(ksl__job_client *c)
{
    atomic_store(&c->quit, true);
    KeSetEvent(&c->cancel_wake, IO_NO_INCREMENT, FALSE);
    KeSetEvent(&c->quit_ev, IO_NO_INCREMENT, FALSE);
    if (c->gated)
        ksl__client_started(c);
}

void ksl__client_wait_churner(ksl__job_client *c)
{
    if (c->gated && c->pause_every_ms)
        KeWaitForSingleObject(&c->churner_done, Executive, KernelMode, FALSE, NULL);
}
