/* SPDX-License-Identifier: MIT */
/*
 * The threaded executor: each virtual CPU is a host pthread.  Kernel threads are coroutines
 * pinned to a home CPU and run by that CPU's host; DPCs and interrupts are taken at scheduling
 * points and in the idle loop; spin locks are real atomics.  Shared kernel state is under the
 * dispatcher lock (e->big).  Not reproducible: it is the "real multiprocessor stress" kslab is
 * measured against, and the executor ThreadSanitizer watches.
 *
 * Time: each CPU advances its own clock by the cost of its steps; the engine's clock is the
 * largest CPU clock; when every CPU is idle it jumps to the next timer or device event.
 */
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ke_internal.h"

/* Per-host state the executor needs beyond ksl_cpu. */
typedef struct host {
    jmp_buf out;        /* back to the host loop from a routine running on the host stack */
    ksl_thread *running;
    uint32_t since_yield;
} host;

static _Thread_local host *cur_host;

static void publish_time(ksl_engine *e, ksl_cpu *c)
{
    uint64_t g = atomic_load_explicit(&e->tclock, memory_order_relaxed);
    while (c->clock > g && !atomic_compare_exchange_weak(&e->tclock, &g, c->clock))
        ;
    if (g > c->clock)
        c->clock = g;
}

/* Claim a pending line this CPU may take (big lock held by the caller). */
static int claim_irq(ksl_engine *e, ksl_cpu *c)
{
    for (uint64_t p = e->pending_lines; p; p &= p - 1) {
        uint32_t l = (uint32_t)__builtin_ctzll(p);
        if (e->lines[l].irql > c->irql) {
            e->lines[l].in_service = 1;
            ksl__line_update(e, l);
            return (int)l;
        }
    }
    return -1;
}

/* Take interrupts and DPCs this CPU may take now. */
static void service(ksl_engine *e, ksl_cpu *c)
{
    for (;;) {
        if (atomic_load_explicit(&e->stop, memory_order_relaxed))
            ksl__thr_abort(c);
        pthread_mutex_lock(&e->big);
        int l = claim_irq(e, c);
        uint64_t next = ksl__next_event(e);
        if (next <= atomic_load(&e->tclock))
            ksl__fire_due(e, atomic_load(&e->tclock));
        pthread_mutex_unlock(&e->big);
        if (l >= 0) {
            ksl__deliver_irq(c, (uint32_t)l);
            continue;
        }
        if (c->irql < KSL_IRQL_DISPATCH && atomic_load(&c->dpc_pending)) {
            ksl__run_dpc(c);
            continue;
        }
        return;
    }
}

void ksl__thr_point(ksl_cpu *c)
{
    ksl_engine *e = c->e;
    uint64_t s = atomic_fetch_add_explicit(&e->tsteps, 1, memory_order_relaxed) + 1;
    if (s > e->cfg.max_steps)
        ksl__fail(c, "K.hang", NULL, 0, "the run took more than %llu scheduling points", (unsigned long long)e->cfg.max_steps);
    publish_time(e, c);
    if ((s & 15) == 0 || atomic_load_explicit(&c->dpc_pending, memory_order_relaxed))
        service(e, c);
    /* Let another ready thread of this CPU run now and then (preemption at PASSIVE/APC). */
    host *h = cur_host;
    if (h && h->running && ksl__cur_thread(c) && c->irql < KSL_IRQL_DISPATCH && ++h->since_yield >= 64) {
        h->since_yield = 0;
        pthread_mutex_lock(&e->big);
        int others = c->tready_head != NULL;
        if (others) {
            ksl_thread *t = h->running;
            t->state = T_READY;
            t->next_ready = NULL;
            if (c->tready_tail)
                c->tready_tail->next_ready = t;
            else
                c->tready_head = t;
            c->tready_tail = t;
        }
        pthread_mutex_unlock(&e->big);
        if (others)
            ksl__thr_block(c);
    }
}

void ksl__thr_block(ksl_cpu *c)
{
    ksl_thread *t = c->thread;
    t->irql = c->irql;
    c->thread = NULL;
    c->frames[0] = (ksl_frame){.kind = FR_IDLE, .name = "idle", .work_at_entry = c->work};
    c->raised_since = UINT64_MAX;
    ksl__coro_switch(&t->coro, &c->host_coro);
    /* Dispatched again by this CPU's host. */
}

void ksl__thr_ready(ksl_engine *e, ksl_thread *t)
{
    ksl_cpu *c = &e->cpus[t->home_cpu];
    if (c->tready_tail)
        c->tready_tail->next_ready = t;
    else
        c->tready_head = t;
    c->tready_tail = t;
    pthread_cond_broadcast(&e->idle_cv);
}

void ksl__thr_spin_wait(ksl_cpu *c, ksl_spinlock *lock)
{
    ksl_engine *e = c->e;
    uint32_t n = 0;
    while (atomic_load_explicit(&lock->owner, memory_order_relaxed) != 0) {
        if (atomic_load_explicit(&e->stop, memory_order_relaxed))
            ksl__thr_abort(c);
        if ((++n & 63) == 0) {
            uint64_t s = atomic_fetch_add_explicit(&e->tsteps, 1, memory_order_relaxed) + 1;
            if (s > e->cfg.max_steps)
                ksl__fail(c, "K.hang", NULL, 0, "spinning on '%s' past the bound of scheduling points",
                          lock->name ? lock->name : "?");
            service(e, c);
        }
    }
}

void ksl__thr_kick(ksl_engine *e, uint32_t cpu)
{
    (void)cpu;
    pthread_cond_broadcast(&e->idle_cv);
}

_Noreturn void ksl__thr_abort(ksl_cpu *c)
{
    ksl_engine *e = c->e;
    atomic_store(&e->stop, 1);
    pthread_cond_broadcast(&e->idle_cv);
    host *h = cur_host;
    ksl_thread *t = h->running;
    if (t && ksl__cur == c && c->owner == &t->coro) {
        /* Leave the thread's stack for good. */
        c->owner = &c->host_coro;
        ksl__coro_switch_last(&t->coro, &c->host_coro);
    }
    longjmp(h->out, 1);
}

_Noreturn void ksl__thr_exit(ksl_cpu *c, ksl_thread *t)
{
    ksl_engine *e = c->e;
    if (!t->system && atomic_fetch_sub(&e->tlive, 1) == 1)
        pthread_cond_broadcast(&e->idle_cv);
    c->owner = &c->host_coro;
    ksl__coro_switch_last(&t->coro, &c->host_coro);
    abort();
}

static void *host_main(void *arg)
{
    ksl_cpu *c = arg;
    ksl_engine *e = c->e;
    host h = {0};
    cur_host = &h;
    ksl__cur = c;
    ksl__eng = e;
    ksl__coro_init_host(&c->host_coro);
    c->owner = &c->host_coro;
    if (setjmp(h.out)) {
        /* A finding stopped the run from a routine on this host's stack. */
        ksl__cur = c;
    }
    while (!atomic_load(&e->stop) && atomic_load(&e->tlive) > 0) {
        c->nframes = 1;
        h.running = NULL;
        service(e, c);
        pthread_mutex_lock(&e->big);
        ksl_thread *t = c->tready_head;
        if (t) {
            c->tready_head = t->next_ready;
            if (!c->tready_head)
                c->tready_tail = NULL;
            t->next_ready = NULL;
            t->state = T_RUNNING;
            t->cpu = (int32_t)c->index;
        }
        pthread_mutex_unlock(&e->big);
        if (t) {
            c->thread = t;
            c->frames[0] = (ksl_frame){.kind = t->frame_kind, .id = t->id, .name = t->name, .work_at_entry = c->work};
            c->irql = t->irql;
            c->owner = &t->coro;
            h.running = t;
            ksl__coro_switch(&c->host_coro, &t->coro);
            ksl__cur = c;
            c->owner = &c->host_coro;
            h.running = NULL;
            continue;
        }
        /* Idle. */
        pthread_mutex_lock(&e->big);
        if (!atomic_load(&e->stop) && atomic_load(&e->tlive) > 0 && !c->tready_head && !atomic_load(&c->dpc_pending) &&
            !e->pending_lines) {
            uint32_t idle = atomic_fetch_add(&e->idle_cpus, 1) + 1;
            if (idle == e->ncpus) {
                int busy = e->pending_lines != 0;
                for (uint32_t i = 0; i < e->ncpus; i++)
                    if (e->cpus[i].tready_head || atomic_load(&e->cpus[i].dpc_pending))
                        busy = 1;
                uint64_t next = ksl__next_event(e);
                /* As the deterministic scheduler: a deadlock a periodic timer would hide. */
                uint64_t progress = atomic_load(&e->tthread_steps);
                if (!busy && next != UINT64_MAX && (progress != e->idle_steps || !ksl__only_periodic_timers(e))) {
                    e->idle_steps = progress;
                    e->idle_advances = 0;
                }
                if (!busy && next != UINT64_MAX && ++e->idle_advances <= KSL_IDLE_ADVANCES) {
                    if (next > atomic_load(&e->tclock))
                        atomic_store(&e->tclock, next);
                    ksl__fire_due(e, next);
                } else if (!busy) {
                    atomic_fetch_sub(&e->idle_cpus, 1);
                    pthread_mutex_unlock(&e->big);
                    ksl__report_deadlock(e);
                    pthread_cond_broadcast(&e->idle_cv);
                    break;
                }
            } else {
                struct timespec ts;
                clock_gettime(CLOCK_REALTIME, &ts);
                ts.tv_nsec += 1000000;
                if (ts.tv_nsec >= 1000000000) {
                    ts.tv_sec++;
                    ts.tv_nsec -= 1000000000;
                }
                pthread_cond_timedwait(&e->idle_cv, &e->big, &ts);
            }
            atomic_fetch_sub(&e->idle_cpus, 1);
        }
        pthread_mutex_unlock(&e->big);
        if (c->clock < atomic_load(&e->tclock))
            c->clock = atomic_load(&e->tclock);
    }
    pthread_cond_broadcast(&e->idle_cv);
    return NULL;
}

int ksl__thr_run(ksl_engine *e)
{
    uint32_t started = 0;
    for (uint32_t i = 0; i < e->ncpus; i++) {
        if (pthread_create(&e->cpus[i].host, NULL, host_main, &e->cpus[i]) != 0)
            break;
        e->cpus[i].host_started = 1;
        started++;
    }
    if (started < e->ncpus)
        atomic_store(&e->stop, 1);
    for (uint32_t i = 0; i < e->ncpus; i++)
        if (e->cpus[i].host_started)
            pthread_join(e->cpus[i].host, NULL);
    e->stats.steps = atomic_load(&e->tsteps);
    return started == e->ncpus ? 0 : -1;
}
