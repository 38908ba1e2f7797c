/* SPDX-License-Identifier: MIT */
/*
 * Dispatcher objects and waits: events, kernel mutexes, KeWaitForSingleObject (on events, timers
 * and mutexes, with timeouts in virtual time), KeDelayExecutionThread, and fast mutexes.
 */
#include <string.h>

#include "ke_internal.h"

void ksl_event_init(ksl_event *ev, bool synchronization, bool signaled)
{
    memset(ev, 0, sizeof *ev);
    ev->header.magic = KSL_MAGIC_EVENT;
    ev->header.type = synchronization ? KSL_OBJ_SYNCHRONIZATION_EVENT : KSL_OBJ_NOTIFICATION_EVENT;
    atomic_init(&ev->header.signaled, signaled ? 1 : 0);
}

static int auto_reset(const ksl_dispatcher_header *h)
{
    return h->type == KSL_OBJ_SYNCHRONIZATION_EVENT || h->type == KSL_OBJ_SYNCHRONIZATION_TIMER;
}

static void unlink_wait(ksl_thread *t)
{
    ksl_dispatcher_header *h = t->wb.object;
    if (!h)
        return;
    for (ksl_wait_block **pp = &h->waiters; *pp; pp = &(*pp)->next) {
        if (*pp == &t->wb) {
            *pp = t->wb.next;
            break;
        }
    }
    t->wb.object = NULL;
    t->wb.next = NULL;
}

static void wake(ksl_engine *e, ksl_thread *t, ksl_status st)
{
    unlink_wait(t);
    ksl__heap_remove_obj(e, t, t->wait_seq, 1);
    t->wait_seq++;
    t->wait_status = st;
    t->waiting_on = NULL;
    ksl__ready(e, t);
}

void ksl__object_signal(ksl_engine *e, ksl_dispatcher_header *h)
{
    while (atomic_load(&h->signaled) && h->waiters) {
        ksl_thread *t = h->waiters->thread;
        if (auto_reset(h))
            atomic_store(&h->signaled, 0);
        wake(e, t, KSL_STATUS_SUCCESS);
    }
}

void ksl__wait_timeout(ksl_engine *e, ksl_thread *t)
{
    wake(e, t, KSL_STATUS_TIMEOUT);
}

/* A thread that satisfied a wait on a synchronization event holds it as a lock until it sets it;
 * a mutex's owner holds it until its last release. */
static void evlock_take(ksl_thread *t, const ksl_dispatcher_header *h)
{
    if (!t || (h->type != KSL_OBJ_SYNCHRONIZATION_EVENT && h->type != KSL_OBJ_MUTEX) ||
        t->nevlocks >= KSL_MAX_THREAD_EVLOCKS)
        return;
    for (uint32_t i = 0; i < t->nevlocks; i++)
        if (t->evlocks[i] == h)
            return;
    t->evlocks[t->nevlocks++] = h;
}

static void evlock_drop(ksl_thread *t, const ksl_dispatcher_header *h)
{
    for (uint32_t i = 0; t && i < t->nevlocks; i++)
        if (t->evlocks[i] == h) {
            t->evlocks[i] = t->evlocks[--t->nevlocks];
            return;
        }
}

int32_t ksl_event_set(ksl_event *ev, const char *file, int line)
{
    ksl_cpu *c = ksl__cur;
    ksl_engine *e = c ? c->e : ksl__eng;
    if (c) {
        ksl__step_hook(c, file, line); /* what ran holding it as a lock is booked with it held */
        evlock_drop(ksl__cur_thread(c), &ev->header);
    }
    if (ev->header.magic != KSL_MAGIC_EVENT)
        ksl__fail(c, "K.object-uninitialized", file, line, "KeSetEvent on an event that was never initialized");
    ksl__require_irql(c, KSL_IRQL_DISPATCH, "KeSetEvent", file, line);
    if (e)
        ksl__big_lock(e);
    int32_t old = atomic_exchange(&ev->header.signaled, 1);
    if (e)
        ksl__object_signal(e, &ev->header);
    if (e)
        ksl__big_unlock(e);
    if (c)
        c = ksl__point(c, P_EVENT_SET, c->e->cfg.step_cost_ns, file, line);
    return old;
}

int32_t ksl_event_reset(ksl_event *ev, const char *file, int line)
{
    ksl_cpu *c = ksl__cur;
    ksl__require_irql(c, KSL_IRQL_DISPATCH, "KeResetEvent", file, line);
    int32_t old = atomic_exchange(&ev->header.signaled, 0);
    if (c)
        c = ksl__point(c, P_EVENT_RESET, c->e->cfg.step_cost_ns, file, line);
    return old;
}

int32_t ksl_event_read(const ksl_event *ev)
{
    return atomic_load(&((ksl_event *)ev)->header.signaled);
}

/* Mark the calling thread as waiting on `on`, queued at the tail of `list` (NULL: no list). */
static void start_wait(ksl_thread *t, ksl_wait_block **list, ksl_dispatcher_header *h, const void *on,
                       const char *what, const char *file, int line)
{
    t->wb.thread = t;
    t->wb.object = h;
    t->wb.next = NULL;
    if (list) {
        while (*list)
            list = &(*list)->next;
        *list = &t->wb;
    }
    t->state = T_WAITING;
    t->waiting_on = on;
    t->wait_what = what;
    t->wait_file = file;
    t->wait_line = line;
    t->wait_status = KSL_STATUS_SUCCESS;
}

/* Block the calling thread on `h` (may be NULL for a pure delay) until signalled or timed out.
 * Called with the big lock held; returns without it. */
static ksl_status block_on(ksl_cpu *c, ksl_dispatcher_header *h, const char *what, const int64_t *timeout,
                           const char *file, int line)
{
    ksl_engine *e = c->e;
    ksl_thread *t = c->thread;
    start_wait(t, h ? &h->waiters : NULL, h, h, what, file, line);
    if (timeout)
        ksl__heap_push(e, ksl__due_time(e, c, *timeout), EV_WAIT, t, t->wait_seq);
    ksl__big_unlock(e);
    ksl__block(c);
    return t->wait_status;
}

/* ---- kernel mutexes ---- */

void ksl_kmutex_init(ksl_kmutex *m, const char *name, const char *file, int line)
{
    ksl_cpu *c = ksl__cur;
    if (c)
        ksl__require_irql(c, KSL_IRQL_PASSIVE, "KeInitializeMutex", file, line);
    memset(m, 0, sizeof *m);
    m->header.magic = KSL_MAGIC_KMUTEX;
    m->header.type = KSL_OBJ_MUTEX;
    atomic_init(&m->header.signaled, 1);
    m->name = name && name[0] == '&' ? name + 1 : name;
    m->init_file = file;
    m->init_line = line;
}

int32_t ksl_kmutex_read(const ksl_kmutex *m)
{
    ksl_engine *e = ksl__cur ? ksl__cur->e : ksl__eng;
    if (e)
        ksl__big_lock(e); /* its owner changes under it (threaded engine) */
    int32_t state = m->count ? 1 - (int32_t)m->count : 1;
    if (e)
        ksl__big_unlock(e);
    return state;
}

/* The calling thread takes the mutex (the big lock held): it is free, or the thread owns it. */
static bool kmutex_take(ksl_kmutex *m, ksl_thread *t)
{
    if (m->count && m->owner != t)
        return false; /* owned by another thread (or acquired outside a run) */
    if (!m->owner)
        evlock_take(t, &m->header);
    m->owner = t;
    m->count++;
    atomic_store(&m->header.signaled, 0);
    return true;
}

int32_t ksl_kmutex_release(ksl_kmutex *m, const char *file, int line)
{
    ksl_cpu *c = ksl__cur;
    if (m->header.magic != KSL_MAGIC_KMUTEX)
        ksl__fail(c, "K.object-uninitialized", file, line, "KeReleaseMutex on a mutex that was never initialized");
    if (!c) {
        int32_t was = ksl_kmutex_read(m);
        if (m->count && --m->count == 0) {
            m->owner = NULL;
            atomic_store(&m->header.signaled, 1);
        }
        return was;
    }
    ksl__require_irql(c, KSL_IRQL_DISPATCH, "KeReleaseMutex", file, line);
    ksl__step_hook(c, file, line); /* what ran holding it is booked with it held */
    ksl_engine *e = c->e;
    ksl_thread *t = ksl__cur_thread(c);
    ksl__big_lock(e);
    ksl_thread *owner = m->owner;
    int32_t was = ksl_kmutex_read(m);
    ksl__big_unlock(e);
    if (!t || owner != t)
        ksl__fail(c, "K.mutex-release-not-owner", file, line, "KeReleaseMutex on a mutex owned by %s%s%s",
                  owner ? "thread '" : "nobody", owner ? owner->name : "", owner ? "'" : "");
    ksl__big_lock(e);
    if (--m->count == 0) {
        evlock_drop(t, &m->header);
        m->owner = NULL;
        atomic_store(&m->header.signaled, 1);
        if (m->header.waiters) { /* the first waiter gets it */
            ksl_thread *w = m->header.waiters->thread;
            kmutex_take(m, w);
            wake(e, w, KSL_STATUS_SUCCESS);
        }
    }
    ksl__big_unlock(e);
    c = ksl__point(c, P_EVENT_SET, e->cfg.step_cost_ns, file, line);
    return was;
}

const ksl_kmutex *ksl__kmutex_owned(const ksl_thread *t)
{
    for (uint32_t i = t ? t->nevlocks : 0; i-- > 0;)
        if (((const ksl_dispatcher_header *)t->evlocks[i])->type == KSL_OBJ_MUTEX)
            return t->evlocks[i];
    return NULL;
}

static ksl_status kmutex_wait(ksl_cpu *c, ksl_kmutex *m, const int64_t *timeout_100ns, bool poll, const char *file,
                              int line)
{
    ksl_engine *e = c->e;
    c = ksl__point(c, P_WAIT, e->cfg.step_cost_ns, file, line);
    ksl__big_lock(e);
    bool mine = m->owner == ksl__cur_thread(c) && m->count;
    ksl__big_unlock(e);
    if (!mine) /* a first acquisition orders it after what the thread holds */
        ksl__lockdep_acquire(c, ksl__lockdep_node(e, &m->node, m->name, m->init_file, m->init_line, KSL_LOCK_MUTEX),
                             file, line);
    ksl__big_lock(e);
    if (kmutex_take(m, ksl__cur_thread(c))) {
        ksl__big_unlock(e);
        return KSL_STATUS_SUCCESS;
    }
    if (poll) {
        ksl__big_unlock(e);
        return KSL_STATUS_TIMEOUT;
    }
    return block_on(c, &m->header, "mutex", timeout_100ns, file, line); /* the releaser made us the owner */
}

ksl_status ksl_wait_single(void *object, const int64_t *timeout_100ns, const char *file, int line)
{
    ksl_cpu *c = ksl__cur;
    ksl_dispatcher_header *h = object;
    if (h->magic != KSL_MAGIC_EVENT && h->magic != KSL_MAGIC_TIMER && h->magic != KSL_MAGIC_KMUTEX)
        ksl__fail(c, "K.object-uninitialized", file, line,
                  "KeWaitForSingleObject on an object that is not an initialized event, timer or mutex");
    int poll = timeout_100ns && *timeout_100ns == 0;
    if (!c && h->magic == KSL_MAGIC_KMUTEX) { /* outside a run: no thread to own it */
        ((ksl_kmutex *)h)->count++;
        atomic_store(&h->signaled, 0);
        return KSL_STATUS_SUCCESS;
    }
    if (!c) {
        if (atomic_load(&h->signaled)) {
            if (auto_reset(h))
                atomic_store(&h->signaled, 0);
            return KSL_STATUS_SUCCESS;
        }
        return KSL_STATUS_TIMEOUT;
    }
    char ib[16];
    if (!poll && (c->irql >= KSL_IRQL_DISPATCH || !ksl__cur_thread(c)))
        ksl__fail(c, "K.wait-at-dispatch", file, line, "KeWaitForSingleObject with a %s timeout at %s",
                  timeout_100ns ? "non-zero" : "infinite", ksl_irql_name(c->irql, ib, sizeof ib));
    if (h->magic == KSL_MAGIC_KMUTEX) {
        if (!ksl__cur_thread(c))
            ksl__fail(c, "K.wait-at-dispatch", file, line, "KeWaitForSingleObject on a mutex outside a thread");
        return kmutex_wait(c, (ksl_kmutex *)h, timeout_100ns, poll, file, line);
    }
    ksl_engine *e = c->e;
    c = ksl__point(c, P_WAIT, e->cfg.step_cost_ns, file, line);
    ksl__big_lock(e);
    if (atomic_load(&h->signaled)) {
        if (auto_reset(h))
            atomic_store(&h->signaled, 0);
        evlock_take(ksl__cur_thread(c), h);
        ksl__big_unlock(e);
        return KSL_STATUS_SUCCESS;
    }
    if (poll) {
        ksl__big_unlock(e);
        return KSL_STATUS_TIMEOUT;
    }
    ksl_status st = block_on(c, h, h->magic == KSL_MAGIC_TIMER ? "timer" : "event", timeout_100ns, file, line);
    if (st == KSL_STATUS_SUCCESS)
        evlock_take(ksl__cur ? ksl__cur_thread(ksl__cur) : NULL, h);
    return st;
}

ksl_status ksl_delay(int64_t interval_100ns, const char *file, int line)
{
    ksl_cpu *c = ksl__cur;
    if (!c)
        return KSL_STATUS_SUCCESS;
    ksl__require_irql(c, KSL_IRQL_APC, "KeDelayExecutionThread", file, line);
    if (!ksl__cur_thread(c))
        ksl__fail(c, "K.wait-at-dispatch", file, line, "KeDelayExecutionThread outside a thread");
    ksl_engine *e = c->e;
    c = ksl__point(c, P_WAIT, e->cfg.step_cost_ns, file, line);
    ksl__big_lock(e);
    int64_t rel = interval_100ns <= 0 ? interval_100ns : -interval_100ns;
    block_on(c, NULL, "delay", &rel, file, line);
    return KSL_STATUS_SUCCESS;
}

/* ---- fast mutexes ---- */

void ksl_mutex_init(ksl_fast_mutex *m, const char *name, const char *file, int line)
{
    memset(m, 0, sizeof *m);
    if (name && name[0] == '&')
        name++;
    m->magic = KSL_MAGIC_MUTEX;
    m->name = name;
    m->init_file = file;
    m->init_line = line;
}

static void mutex_checks(ksl_cpu *c, ksl_fast_mutex *m, const char *call, const char *file, int line)
{
    if (m->magic != KSL_MAGIC_MUTEX)
        ksl__fail(c, "K.object-uninitialized", file, line, "%s on a fast mutex that was never initialized", call);
    ksl__require_irql(c, KSL_IRQL_APC, call, file, line);
    if (!ksl__cur_thread(c))
        ksl__fail(c, "K.irql-too-high", file, line, "%s outside a thread", call);
    ksl__big_lock(c->e); /* the owner changes under it (threaded engine) */
    bool mine = m->owner == c->thread;
    ksl__big_unlock(c->e);
    if (mine)
        ksl__fail(c, "K.mutex-recursive", file, line, "%s on '%s', which this thread already owns: self-deadlock",
                  call, m->name ? m->name : "?");
}

static void mutex_owned(ksl_cpu *c, ksl_fast_mutex *m, uint8_t old)
{
    ksl_thread *t = c->thread;
    m->owner = t;
    m->old_irql = old;
    if (t->nmutexes < KSL_MAX_THREAD_MUTEXES)
        t->mutexes[t->nmutexes++] = m;
}

void ksl_mutex_acquire(ksl_fast_mutex *m, const char *file, int line)
{
    ksl_cpu *c = ksl__cur;
    if (!c)
        return;
    mutex_checks(c, m, "ExAcquireFastMutex", file, line);
    ksl_engine *e = c->e;
    uint8_t old = c->irql;
    ksl__set_irql(c, KSL_IRQL_APC);
    c = ksl__point(c, P_MUTEX_ACQUIRE, e->cfg.step_cost_ns, file, line);
    ksl__lockdep_acquire(c, ksl__lockdep_node(e, &m->node, m->name, m->init_file, m->init_line, KSL_LOCK_MUTEX),
                           file, line);
    ksl__big_lock(e);
    if (m->owner) {
        start_wait(c->thread, &m->waiters, NULL, m, "fast mutex", file, line);
        ksl__big_unlock(e);
        ksl__block(c);
        m->old_irql = old; /* the releaser handed ownership over and queued us */
        return;
    }
    mutex_owned(c, m, old);
    ksl__big_unlock(e);
}

bool ksl_mutex_try_acquire(ksl_fast_mutex *m, const char *file, int line)
{
    ksl_cpu *c = ksl__cur;
    if (!c)
        return true;
    mutex_checks(c, m, "ExTryToAcquireFastMutex", file, line);
    ksl_engine *e = c->e;
    c = ksl__point(c, P_MUTEX_ACQUIRE, e->cfg.step_cost_ns, file, line);
    ksl__big_lock(e);
    bool ok = m->owner == NULL;
    if (ok) {
        uint8_t old = c->irql;
        ksl__set_irql(c, KSL_IRQL_APC);
        mutex_owned(c, m, old);
    }
    ksl__big_unlock(e);
    if (ok) {
        ksl__lockdep_acquire(c, ksl__lockdep_node(e, &m->node, m->name, m->init_file, m->init_line, KSL_LOCK_MUTEX),
                               file, line);
    }
    return ok;
}

void ksl_mutex_release(ksl_fast_mutex *m, const char *file, int line)
{
    ksl_cpu *c = ksl__cur;
    if (!c)
        return;
    ksl_engine *e = c->e;
    ksl_thread *t = ksl__cur_thread(c);
    ksl__step_hook(c, file, line); /* what ran under the mutex is booked with it held */
    if (!t || m->owner != t)
        ksl__fail(c, "K.mutex-release-not-owner", file, line, "ExReleaseFastMutex on '%s', owned by %s%s%s",
                  m->name ? m->name : "?", m->owner ? "thread '" : "nobody", m->owner ? m->owner->name : "",
                  m->owner ? "'" : "");
    for (uint32_t i = t->nmutexes; i-- > 0;) {
        if (t->mutexes[i] == m) {
            memmove(&t->mutexes[i], &t->mutexes[i + 1], (t->nmutexes - i - 1) * sizeof t->mutexes[0]);
            t->nmutexes--;
            break;
        }
    }
    uint8_t restore = m->old_irql;
    ksl__big_lock(e);
    if (m->waiters) {
        ksl_wait_block *wb = m->waiters;
        m->waiters = wb->next;
        ksl_thread *w = wb->thread;
        m->owner = w;
        if (w->nmutexes < KSL_MAX_THREAD_MUTEXES)
            w->mutexes[w->nmutexes++] = m;
        w->waiting_on = NULL; /* its IRQL (APC_LEVEL) it saved itself as it blocked */
        ksl__ready(e, w);
    } else {
        m->owner = NULL;
    }
    ksl__big_unlock(e);
    ksl__set_irql(c, restore);
    c = ksl__point(c, P_MUTEX_RELEASE, e->cfg.step_cost_ns, file, line);
}
