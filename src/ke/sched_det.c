/* SPDX-License-Identifier: MIT */
/*
 * The deterministic executor.  Exactly one context runs at a time.  At every scheduling point
 * the running coroutine gathers what each virtual CPU may do next (continue its context, run a
 * pending DPC, take a pending interrupt, pick up a ready thread), asks the strategy to pick one,
 * and either does it itself (when it owns that CPU) or hands it to the coroutine that owns the
 * CPU.  Nothing here reads wall-clock time or addresses; every choice comes from the strategy.
 *
 * Virtual time: each CPU has a local clock advanced by the cost of its steps.  The engine's time
 * is the minimum clock over CPUs that can run; a CPU may not run more than `skew_ns` ahead of it.
 * When nothing can run, time jumps to the next timer or device event.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ke_internal.h"

#define KEY(kind, id) (((uint64_t)(kind) << 56) | (uint64_t)(id))

static int can_continue(const ksl_cpu *c)
{
    if (c->nframes == 1 && c->frames[0].kind == FR_IDLE)
        return 0;
    if (c->spin_on && atomic_load_explicit(&c->spin_on->owner, memory_order_relaxed) != 0)
        return 0;
    return 1;
}

static int dpc_due(const ksl_cpu *c)
{
    return c->irql < KSL_IRQL_DISPATCH && c->dpc_head != NULL &&
           (c->dpc_not_before <= c->clock || c->dpc_not_before <= c->e->now);
}

static void switch_to(ksl_engine *e, ksl_cpu *target, ksl_coro *to)
{
    ksl_coro *from = e->running;
    e->running = to;
    e->stats.switches++;
    ksl__cur = target;
    ksl__paged_sync(e); /* a thread starting for the first time does not return through reschedule */
    ksl__coro_switch(from, to);
}

_Noreturn void ksl__det_abort(ksl_engine *e)
{
    ksl_coro *from = e->running;
    e->running = &e->main;
    ksl__cur = NULL;
    ksl__coro_switch_last(from, &e->main);
    abort(); /* never resumed */
}

static int run_finished(const ksl_engine *e)
{
    if (e->live_clients)
        return 0;
    for (uint32_t i = 0; i < e->ncpus; i++) {
        const ksl_cpu *c = &e->cpus[i];
        if (c->nframes != 1 || c->frames[0].kind != FR_IDLE || c->spin_on)
            return 0;
    }
    return 1;
}

static void record(ksl_engine *e, uint32_t idx)
{
    if (e->nchoices == e->cap_choices) {
        size_t cap = e->cap_choices ? e->cap_choices * 2 : 1024;
        uint32_t *nc = realloc(e->choices, cap * sizeof *nc);
        if (!nc)
            abort();
        e->choices = nc;
        e->cap_choices = cap;
    }
    e->choices[e->nchoices++] = idx;
    e->stats.choices++;
}

uint32_t ksl__det_below(ksl_engine *e, uint32_t n)
{
    uint32_t v = e->strategy->ops->below(e->strategy, n);
    if (v >= n)
        v = 0;
    record(e, v);
    ksl__hash(e, ((uint64_t)v << 32) | n | (1ull << 63));
    return v;
}


/* Choose the next action.  Does not return when the run is over. */
static ksl_opt pick(ksl_engine *e)
{
    /* Engine-owned: a pick never starts while another is in progress. */
    ksl_opt *opts = e->opts;
    uint64_t *keys = e->keys;
    for (;;) {
        if (atomic_load_explicit(&e->stop, memory_order_relaxed))
            ksl__det_abort(e);
        if (run_finished(e))
            ksl__det_abort(e);

        uint64_t minc = UINT64_MAX;
        int any_idle = 0;
        for (uint32_t i = 0; i < e->ncpus; i++) {
            ksl_cpu *c = &e->cpus[i];
            if ((can_continue(c) || dpc_due(c)) && c->clock < minc)
                minc = c->clock;
            if (c->nframes == 1 && c->frames[0].kind == FR_IDLE)
                any_idle = 1;
        }
        if (minc != UINT64_MAX && minc > e->now)
            e->now = minc;
        if (e->nheap && e->heap[0].time <= e->now) {
            ksl__fire_due(e, e->now);
            continue;
        }

        uint32_t n = 0;
        for (uint32_t i = 0; i < e->ncpus; i++) {
            ksl_cpu *c = &e->cpus[i];
            if (dpc_due(c)) {
                opts[n] = (ksl_opt){.kind = O_DPC, .cpu = (uint16_t)i};
                keys[n++] = KEY(8, i);
            } else if (can_continue(c) && c->clock <= minc + e->cfg.skew_ns) {
                const ksl_frame *f = &c->frames[c->nframes - 1];
                opts[n] = (ksl_opt){.kind = O_CONTINUE, .cpu = (uint16_t)i};
                keys[n++] = f->kind == FR_THREAD || f->kind == FR_WORK ? KEY(1, c->thread->id) : KEY(f->kind, f->id);
            }
            for (uint64_t p = e->pending_lines; p; p &= p - 1) {
                uint32_t l = (uint32_t)__builtin_ctzll(p);
                if (e->lines[l].irql > c->irql) {
                    opts[n] = (ksl_opt){.kind = O_IRQ, .cpu = (uint16_t)i, .arg = l};
                    keys[n++] = KEY(9, (l << 8) | i);
                }
            }
            if (e->ready_head && c->irql < KSL_IRQL_DISPATCH && c->nframes == 1 && !c->spin_on &&
                (c->frames[0].kind == FR_IDLE || !any_idle)) {
                opts[n] = (ksl_opt){.kind = O_DISPATCH, .cpu = (uint16_t)i, .thread = e->ready_head};
                keys[n++] = KEY(1, e->ready_head->id);
            }
        }

        if (n == 0) {
            uint64_t t = ksl__next_event(e);
            /* A deadlock a ticking timer would hide: nothing is pending but periodic timers
             * (which re-arm for ever) and no thread has passed a scheduling point over
             * KSL_IDLE_ADVANCES such advances of the clock in a row. */
            if (e->thread_steps != e->idle_steps || !ksl__only_periodic_timers(e)) {
                e->idle_steps = e->thread_steps;
                e->idle_advances = 0;
            }
            if (t == UINT64_MAX || ++e->idle_advances > KSL_IDLE_ADVANCES) {
                ksl__report_deadlock(e);
                ksl__det_abort(e);
            }
            if (t > e->now)
                e->now = t;
            for (uint32_t i = 0; i < e->ncpus; i++)
                if (!can_continue(&e->cpus[i]) && e->cpus[i].clock < e->now)
                    e->cpus[i].clock = e->now;
            ksl__fire_due(e, e->now);
            continue;
        }

        uint32_t idx = 0;
        if (n > 1) {
            idx = e->strategy->ops->pick(e->strategy, keys, n, e->steps);
            if (idx >= n)
                idx = 0;
            record(e, idx);
        }
        ksl__hash(e, ((uint64_t)idx << 32) | n);
        return opts[idx];
    }
}

/* Bookkeeping for the chosen action on CPU t before its owner runs it. */
static void prepare(ksl_engine *e, ksl_cpu *t, ksl_opt *o)
{
    if (t->clock < e->now)
        t->clock = e->now;
    if (o->kind == O_IRQ) {
        ksl_irq_line *l = &e->lines[o->arg];
        l->in_service = 1;
        ksl__line_update(e, o->arg);
        if (t->clock < l->since)
            t->clock = l->since;
    } else if (o->kind == O_DISPATCH) {
        ksl_thread *th = o->thread;
        e->ready_head = th->next_ready;
        if (!e->ready_head)
            e->ready_tail = NULL;
        th->next_ready = NULL;
        if (t->thread) { /* preempt the thread on t */
            ksl__trace_slice(t, 'E', &t->frames[0]);
            ksl_thread *u = t->thread;
            u->last_clock = t->clock;
            u->irql = t->irql;
            u->cpu = -1;
            ksl__ready(e, u);
        }
        if (t->clock < th->last_clock)
            t->clock = th->last_clock;
        th->state = T_RUNNING;
        th->cpu = (int32_t)t->index;
        t->thread = th;
        t->frames[0] = (ksl_frame){.kind = th->frame_kind, .id = th->id, .name = th->name, .work_at_entry = t->work};
        ksl__trace_slice(t, 'B', &t->frames[0]);
        t->irql = th->irql;
        t->owner = &th->coro;
        o->kind = O_RESUME;
    }
    ksl__hash(e, ((uint64_t)o->kind << 48) | ((uint64_t)o->cpu << 32) | o->arg);
}

static void perform(ksl_cpu *c, ksl_opt o)
{
    if (o.kind == O_DPC)
        ksl__run_dpc(c);
    else if (o.kind == O_IRQ)
        ksl__deliver_irq(c, o.arg);
}

void ksl__det_reschedule(void)
{
    ksl_engine *e = ksl__cur ? ksl__cur->e : NULL;
    if (!e)
        return;
    ksl_coro *self = e->running;
    for (;;) {
        ksl_opt o = pick(e);
        ksl_cpu *t = &e->cpus[o.cpu];
        prepare(e, t, &o);
        if (t->owner == self) {
            ksl__cur = t;
            if (o.kind == O_CONTINUE || o.kind == O_RESUME) {
                ksl__paged_sync(e);
                return;
            }
            perform(t, o);
            continue;
        }
        t->act = o;
        switch_to(e, t, t->owner);
        /* Resumed: the coroutine that switched here set ksl__cur to the CPU we now own. */
        ksl_cpu *m = ksl__cur;
        o = m->act;
        if (o.kind == O_CONTINUE || o.kind == O_RESUME) {
            ksl__paged_sync(e);
            return;
        }
        perform(m, o);
    }
}

static void idle_main(void *arg)
{
    ksl_cpu *c = arg;
    ksl_opt o = c->act;
    ksl__cur = c;
    perform(c, o);
    for (;;)
        ksl__det_reschedule();
}

int ksl__det_run(ksl_engine *e)
{
    ksl__coro_init_host(&e->main);
    e->running = &e->main;
    for (uint32_t i = 0; i < e->ncpus; i++) {
        ksl_cpu *c = &e->cpus[i];
        if (ksl__coro_init(&c->idle, e->cfg.stack_size, idle_main, c) != 0)
            return -1;
        c->idle_ready = 1;
        c->owner = &c->idle;
    }
    /* The host stack acts as a coroutine that owns no CPU until the run is over. */
    ksl_opt o = pick(e);
    ksl_cpu *t = &e->cpus[o.cpu];
    prepare(e, t, &o);
    t->act = o;
    switch_to(e, t, t->owner);
    ksl__cur = NULL;
    return 0;
}
