/* SPDX-License-Identifier: MIT */
/*
 * Virtual time: the event heap (timers, wait timeouts, device events, ordered by time and then
 * by insertion), timer objects, and the clock queries.
 */
#include <stdlib.h>
#include <string.h>

#include "ke_internal.h"
#include "../explore/rng.h"

static int ev_less(const ksl_ev *a, const ksl_ev *b)
{
    return a->time < b->time || (a->time == b->time && a->seq < b->seq);
}

static void sift_up(ksl_ev *h, uint32_t i)
{
    while (i > 0) {
        uint32_t p = (i - 1) / 2;
        if (!ev_less(&h[i], &h[p]))
            break;
        ksl_ev t = h[i];
        h[i] = h[p];
        h[p] = t;
        i = p;
    }
}

static void sift_down(ksl_ev *h, uint32_t n, uint32_t i)
{
    for (;;) {
        uint32_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < n && ev_less(&h[l], &h[m]))
            m = l;
        if (r < n && ev_less(&h[r], &h[m]))
            m = r;
        if (m == i)
            return;
        ksl_ev t = h[i];
        h[i] = h[m];
        h[m] = t;
        i = m;
    }
}

void ksl__heap_push(ksl_engine *e, uint64_t time, uint8_t kind, void *obj, uint64_t cookie)
{
    if (e->nheap == e->cap_heap) {
        uint32_t cap = e->cap_heap ? e->cap_heap * 2 : 64;
        ksl_ev *h = realloc(e->heap, cap * sizeof *h);
        if (!h)
            abort();
        e->heap = h;
        e->cap_heap = cap;
    }
    e->heap[e->nheap] = (ksl_ev){time, e->ev_seq++, kind, obj, cookie};
    sift_up(e->heap, e->nheap++);
}

static void heap_remove_at(ksl_engine *e, uint32_t i)
{
    e->nheap--;
    if (i == e->nheap)
        return;
    e->heap[i] = e->heap[e->nheap];
    sift_down(e->heap, e->nheap, i);
    sift_up(e->heap, i);
}

void ksl__heap_remove_obj(ksl_engine *e, void *obj, uint64_t cookie, int match_cookie)
{
    for (uint32_t i = 0; i < e->nheap;) {
        if (e->heap[i].obj == obj && (!match_cookie || e->heap[i].cookie == cookie))
            heap_remove_at(e, i);
        else
            i++;
    }
}

uint64_t ksl__next_event(const ksl_engine *e)
{
    return e->nheap ? e->heap[0].time : UINT64_MAX;
}

uint32_t ksl__choose_cpu(ksl_engine *e)
{
    if (e->ncpus == 1)
        return 0;
    if (ksl__threaded(e))
        return ksl__cur ? ksl__cur->index : 0;
    return ksl__det_below(e, e->ncpus);
}

uint64_t ksl__jitter(ksl_engine *e, uint32_t max)
{
    if (!max)
        return 0;
    return ksl_splitmix64(&e->jitter_state) % ((uint64_t)max + 1);
}

void ksl__timer_expire(ksl_engine *e, ksl_timer *t)
{
    t->armed = 0;
    atomic_store(&t->header.signaled, 1);
    ksl__object_signal(e, &t->header);
    if (t->period_ns) {
        t->due_ns += t->period_ns; /* the period runs from the due time, not from a late expiry */
        t->armed = 1;
        ksl__heap_push(e, t->due_ns + ksl__jitter(e, e->cfg.timer_jitter_ns), EV_TIMER, t, 0);
    }
    if (t->dpc) {
        ksl__dpc_queue_on(e, t->dpc, ksl__choose_cpu(e));
    }
}

/* Called with the big lock held (threaded) or from the scheduler (deterministic). */
void ksl__fire_due(ksl_engine *e, uint64_t now)
{
    while (e->nheap && e->heap[0].time <= now) {
        ksl_ev ev = e->heap[0];
        heap_remove_at(e, 0);
        ksl__hash(e, (ev.time << 8) ^ ev.kind);
        switch (ev.kind) {
        case EV_TIMER:
            ksl__log(e, NULL, P_EXTERNAL, "timer expires", NULL, 0);
            ksl__timer_expire(e, ev.obj);
            break;
        case EV_WAIT: {
            ksl_thread *t = ev.obj;
            if (t->state == T_WAITING && t->wait_seq == ev.cookie)
                ksl__wait_timeout(e, t);
            break;
        }
        case EV_WORK:
            ksl__work_append(e, ev.obj);
            break;
        case EV_DEVICE: {
            ksl_device *d = ev.obj;
            ksl__in_device = DEV_EVENT;
            ksl__log(e, NULL, P_EXTERNAL, d->ops->name, NULL, 0);
            d->ops->event(d->dev, ev.cookie, ev.time);
            ksl__in_device = DEV_NONE;
            break;
        }
        default:
            break;
        }
    }
}

void ksl_timer_init(ksl_timer *t, bool synchronization)
{
    memset(t, 0, sizeof *t);
    t->header.magic = KSL_MAGIC_TIMER;
    t->header.type = synchronization ? KSL_OBJ_SYNCHRONIZATION_TIMER : KSL_OBJ_NOTIFICATION_TIMER;
}

static uint64_t engine_time(const ksl_engine *e)
{
    return ksl__threaded(e) ? atomic_load(&((ksl_engine *)e)->tclock) : e->now;
}

uint64_t ksl__due_time(const ksl_engine *e, const ksl_cpu *c, int64_t due_100ns)
{
    uint64_t base = c ? c->clock : engine_time(e);
    if (due_100ns < 0)
        return base + (uint64_t)(-due_100ns) * 100u;
    uint64_t abs = (uint64_t)due_100ns * 100u;
    return abs > base ? abs : base;
}

bool ksl_timer_set(ksl_timer *t, int64_t due_100ns, uint32_t period_ms, ksl_dpc *dpc, const char *file, int line)
{
    ksl_cpu *c = ksl__cur;
    ksl_engine *e = c ? c->e : ksl__eng;
    if (!e)
        return false;
    if (t->header.magic != KSL_MAGIC_TIMER)
        ksl__fail(c, "K.object-uninitialized", file, line, "KeSetTimer on a timer that was never initialized");
    ksl__require_irql(c, KSL_IRQL_DISPATCH, "KeSetTimer", file, line);
    ksl__big_lock(e);
    bool was = t->armed != 0;
    if (was)
        ksl__heap_remove_obj(e, t, 0, 0);
    atomic_store(&t->header.signaled, 0);
    t->due_ns = ksl__due_time(e, c, due_100ns);
    t->period_ns = (uint64_t)period_ms * 1000000u;
    t->dpc = dpc;
    t->armed = 1;
    ksl__heap_push(e, t->due_ns + ksl__jitter(e, e->cfg.timer_jitter_ns), EV_TIMER, t, 0);
    ksl__big_unlock(e);
    if (c)
        c = ksl__point(c, P_TIMER_SET, e->cfg.step_cost_ns, file, line);
    return was;
}

bool ksl_timer_read(const ksl_timer *t)
{
    return atomic_load(&((ksl_timer *)t)->header.signaled) != 0;
}

bool ksl_timer_cancel(ksl_timer *t, const char *file, int line)
{
    ksl_cpu *c = ksl__cur;
    ksl_engine *e = c ? c->e : ksl__eng;
    if (!e)
        return false;
    ksl__require_irql(c, KSL_IRQL_DISPATCH, "KeCancelTimer", file, line);
    ksl__big_lock(e);
    bool was = t->armed != 0;
    if (was)
        ksl__heap_remove_obj(e, t, 0, 0);
    t->armed = 0;
    ksl__big_unlock(e);
    if (c)
        c = ksl__point(c, P_TIMER_CANCEL, e->cfg.step_cost_ns, file, line);
    return was;
}

uint64_t ksl_engine_now(const ksl_engine *e)
{
    return engine_time(e);
}

/* Whether every pending event is the expiry of a periodic timer. */
bool ksl__only_periodic_timers(const ksl_engine *e)
{
    for (uint32_t i = 0; i < e->nheap; i++)
        if (e->heap[i].kind != EV_TIMER || !((const ksl_timer *)e->heap[i].obj)->period_ns)
            return false;
    return true;
}
