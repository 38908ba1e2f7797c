/* SPDX-License-Identifier: MIT */
/* The executor interface the kernel objects use, dispatched to the deterministic or the
 * threaded executor. */
#include "ke_internal.h"

ksl_cpu *ksl__point(ksl_cpu *c, unsigned k, uint64_t cost, const char *file, int line)
{
    ksl_engine *e = c->e;
    c->clock += cost;
    c->work += cost;
    if (ksl__threaded(e)) {
        if (c->nframes == 1)
            atomic_fetch_add_explicit(&e->tthread_steps, 1, memory_order_relaxed);
        ksl__thr_point(c);
        return c; /* threads are pinned to their CPU in the threaded executor */
    }
    if (e->step_hook)
        e->step_hook(e->step_user, file, line);
    e->steps++;
    ksl__driver_site_note(c, k, file, line);
    if (c->nframes == 1)
        e->thread_steps++;
    ksl__hash(e, (((uint64_t)k << 8) | c->index) ^ (c->clock << 16));
    if (e->log)
        ksl__log(e, c, k, NULL, file, line);
    if (e->steps > e->cfg.max_steps)
        ksl__fail(c, "K.hang", file, line, "the run took more than %llu scheduling points",
                  (unsigned long long)e->cfg.max_steps);
    if (e->paged_fault)
        ksl__paged_report(c); /* a touch of paged pool at raised IRQL since the last point */
    ksl__det_reschedule();
    ksl__watch_at(ksl__top_frame(ksl__cur), false, file, line);
    return ksl__cur; /* a thread below DISPATCH may have been preempted and resumed elsewhere */
}

void ksl__block(ksl_cpu *c)
{
    ksl_thread *t = c->thread;
    t->irql = c->irql;
    t->last_clock = c->clock;
    if (ksl__threaded(c->e)) {
        ksl__thr_block(c);
        return;
    }
    t->cpu = -1;
    ksl__trace_slice(c, 'E', &c->frames[0]);
    c->thread = NULL;
    c->frames[0] = (ksl_frame){.kind = FR_IDLE, .name = "idle", .work_at_entry = c->work};
    c->owner = &c->idle;
    c->raised_since = UINT64_MAX;
    ksl__det_reschedule();
}

void ksl__ready(ksl_engine *e, ksl_thread *t)
{
    t->state = T_READY;
    t->next_ready = NULL;
    if (ksl__threaded(e)) {
        ksl__thr_ready(e, t);
        return;
    }
    if (e->ready_tail)
        e->ready_tail->next_ready = t;
    else
        e->ready_head = t;
    e->ready_tail = t;
}

void ksl__spin_wait(ksl_cpu *c, ksl_spinlock *lock)
{
    if (ksl__threaded(c->e)) {
        ksl__thr_spin_wait(c, lock);
        return;
    }
    c->spin_on = lock;
    while (atomic_load_explicit(&lock->owner, memory_order_relaxed) != 0)
        ksl__det_reschedule();
    c->spin_on = NULL;
}

void ksl__kick(ksl_engine *e, uint32_t cpu)
{
    if (ksl__threaded(e))
        ksl__thr_kick(e, cpu);
}

void ksl__big_lock(ksl_engine *e)
{
    if (ksl__threaded(e))
        pthread_mutex_lock(&e->big);
}

void ksl__big_unlock(ksl_engine *e)
{
    if (ksl__threaded(e))
        pthread_mutex_unlock(&e->big);
}
