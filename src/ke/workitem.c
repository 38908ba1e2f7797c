/* SPDX-License-Identifier: MIT */
/* Work items on system worker threads at PASSIVE_LEVEL. */
#include <string.h>

#include "ke_internal.h"

#define WORK_TAG 0x6B724F57u /* 'WOrk' */

ksl_work_item *ksl_work_alloc(void *device_object, const char *file, int line)
{
    ksl__require_irql(ksl__cur, KSL_IRQL_DISPATCH, "IoAllocateWorkItem", file, line);
    ksl_work_item *w = ksl_pool_alloc(KSL_POOL_NONPAGED, sizeof *w, WORK_TAG, file, line);
    if (!w)
        return NULL;
    memset(w, 0, sizeof *w);
    w->e = ksl__cur ? ksl__cur->e : ksl__eng;
    w->device_object = device_object;
    return w;
}

void ksl_work_queue(ksl_work_item *w, ksl_work_fn *fn, void *context, const char *file, int line)
{
    ksl_cpu *c = ksl__cur;
    ksl_engine *e = w->e;
    ksl__require_irql(c, KSL_IRQL_DISPATCH, "IoQueueWorkItem", file, line);
    if (c)
        c = ksl__point(c, P_WORK_QUEUE, e->cfg.step_cost_ns, file, line);
    ksl__big_lock(e);
    if (w->queued) {
        ksl__big_unlock(e);
        ksl__fail(c, "K.workitem-requeued", file, line, "IoQueueWorkItem on a work item still queued (queued at %s:%d)",
                  w->queue_file ? w->queue_file : "?", w->queue_line);
        return;
    }
    if (!e->workers_started) {
        e->workers_started = 1;
        ksl__workers_start(e);
    }
    w->queued = 1;
    w->fn = fn;
    w->context = context;
    w->queue_file = file;
    w->queue_line = line;
    w->next = NULL;
    /* Seeded jitter: the item reaches the workers' queue a while later (still "queued" meanwhile,
     * for the requeue and free checks). */
    uint64_t late = ksl__threaded(e) ? 0 : ksl__jitter(e, e->cfg.jitter_ns);
    if (late)
        ksl__heap_push(e, (c ? c->clock : e->now) + late, EV_WORK, w, 0);
    else
        ksl__work_append(e, w);
    ksl__big_unlock(e);
}

void ksl__work_append(ksl_engine *e, ksl_work_item *w)
{
    if (e->work_tail)
        e->work_tail->next = w;
    else
        e->work_head = w;
    e->work_tail = w;
    atomic_store(&e->work_event.header.signaled, 1);
    ksl__object_signal(e, &e->work_event.header);
}

void ksl_work_free(ksl_work_item *w, const char *file, int line)
{
    if (!w)
        return;
    if (w->queued)
        ksl__fail(ksl__cur, "K.workitem-free-queued", file, line, "IoFreeWorkItem on a work item still queued (queued at %s:%d)",
                  w->queue_file ? w->queue_file : "?", w->queue_line);
    ksl_pool_free(w, WORK_TAG, file, line);
}

void ksl__worker_main(void *arg)
{
    ksl_thread *self = arg;
    ksl_engine *e = self->e;
    for (;;) {
        ksl_wait_single(&e->work_event, NULL, __FILE__, __LINE__);
        for (;;) {
            ksl_cpu *c = ksl__cur;
            ksl__big_lock(e);
            ksl_work_item *w = e->work_head;
            if (w) {
                e->work_head = w->next;
                if (!e->work_head)
                    e->work_tail = NULL;
                w->queued = 0; /* dequeued before it runs: it may free itself */
            }
            ksl__big_unlock(e);
            if (!w)
                break;
            c->st.work_items++;
            ksl_work_fn *fn = w->fn;
            void *dev = w->device_object, *ctx = w->context;
            self->frame_kind = FR_WORK;
            c->frames[0].kind = FR_WORK;
            self->activation++; /* a new context for the race windows */
            self->drv = (ksl_drv_sites){0}; /* and for the driver's line of a finding */
            fn(dev, ctx);
            c = ksl__cur; /* the item may have waited and resumed on another CPU */
            ksl__spans_end(c, false);
            self->activation++;
            if (c->irql != KSL_IRQL_PASSIVE) {
                char ib[16];
                ksl__fail(c, "K.routine-irql-changed", NULL, 0, "work item returned at %s; it was called at PASSIVE_LEVEL",
                          ksl_irql_name(c->irql, ib, sizeof ib));
            }
            if (c->nheld) {
                ksl_spinlock *l = c->held[c->nheld - 1];
                ksl__fail(c, "K.lock-held-on-return", l->acq_file, l->acq_line,
                          "work item returned still holding spin lock '%s'", l->name ? l->name : "?");
            }
            if (self->nmutexes)
                ksl__fail(c, "K.lock-held-on-return", NULL, 0, "work item returned still owning fast mutex '%s'",
                          self->mutexes[self->nmutexes - 1]->name ? self->mutexes[self->nmutexes - 1]->name : "?");
            const ksl_kmutex *km = ksl__kmutex_owned(self);
            if (km) /* else the next work item on this thread would own it too */
                ksl__fail(c, "K.lock-held-on-return", NULL, 0, "work item returned still owning mutex '%s'",
                          km->name ? km->name : "?");
            self->frame_kind = FR_THREAD;
            c->frames[0].kind = FR_THREAD;
        }
    }
}
