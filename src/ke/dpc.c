/* SPDX-License-Identifier: MIT */
/* DPCs: per-CPU queues; a queued DPC is not queued twice; each runs at DISPATCH_LEVEL on the CPU
 * it was queued on (or its target CPU). */
#include <string.h>

#include "ke_internal.h"

void ksl_dpc_init(ksl_dpc *dpc, ksl_dpc_fn *routine, void *context, const char *name)
{
    memset(dpc, 0, sizeof *dpc);
    dpc->magic = KSL_MAGIC_DPC;
    dpc->target_cpu = -1;
    atomic_init(&dpc->queued_cpu, -1);
    dpc->routine = routine;
    dpc->context = context;
    dpc->name = name;
}

void ksl_dpc_set_target(ksl_dpc *dpc, uint32_t cpu)
{
    dpc->target_cpu = (int32_t)cpu;
}

/* Queue `dpc` on CPU `cpu`; the big lock is held.  False if it is already queued. */
static bool enqueue(ksl_engine *e, ksl_dpc *dpc, uint32_t cpu, void *a1, void *a2)
{
    int32_t expect = -1;
    if (!atomic_compare_exchange_strong(&dpc->queued_cpu, &expect, (int32_t)cpu))
        return false;
    if (!dpc->id)
        dpc->id = ++e->next_obj_id;
    dpc->arg1 = a1;
    dpc->arg2 = a2;
    dpc->next = NULL;
    ksl_cpu *c = &e->cpus[cpu];
    if (!c->dpc_head && e->cfg.jitter_ns && !ksl__threaded(e)) {
        /* the CPU's DPC interrupt comes a seeded while late (the queue waits with it) */
        uint64_t now = ksl__cur ? ksl__cur->clock : e->now;
        c->dpc_not_before = now + ksl__jitter(e, e->cfg.jitter_ns);
        ksl__heap_push(e, c->dpc_not_before, EV_TICK, NULL, 0);
    }
    if (c->dpc_tail)
        c->dpc_tail->next = dpc;
    else
        c->dpc_head = dpc;
    c->dpc_tail = dpc;
    atomic_store(&c->dpc_pending, 1);
    return true;
}

bool ksl__dpc_queue_on(ksl_engine *e, ksl_dpc *dpc, uint32_t cpu)
{
    if (dpc->target_cpu >= 0 && (uint32_t)dpc->target_cpu < e->ncpus)
        cpu = (uint32_t)dpc->target_cpu;
    bool ok = enqueue(e, dpc, cpu, dpc->arg1, dpc->arg2);
    if (ok)
        ksl__kick(e, cpu);
    return ok;
}

bool ksl_dpc_queue(ksl_dpc *dpc, void *arg1, void *arg2, const char *file, int line)
{
    ksl_cpu *c = ksl__cur;
    if (!c)
        return false;
    ksl_engine *e = c->e;
    if (dpc->magic != KSL_MAGIC_DPC)
        ksl__fail(c, "K.object-uninitialized", file, line, "KeInsertQueueDpc on a DPC that was never initialized");
    uint32_t cpu = dpc->target_cpu >= 0 && (uint32_t)dpc->target_cpu < e->ncpus ? (uint32_t)dpc->target_cpu : c->index;
    ksl__big_lock(e);
    bool ok = enqueue(e, dpc, cpu, arg1, arg2);
    ksl__big_unlock(e);
    if (ok)
        ksl__kick(e, cpu);
    c = ksl__point(c, P_DPC_QUEUE, e->cfg.step_cost_ns, file, line);
    return ok;
}

bool ksl_dpc_dequeue(ksl_dpc *dpc, const char *file, int line)
{
    ksl_cpu *c = ksl__cur;
    if (!c)
        return false;
    ksl_engine *e = c->e;
    bool removed = false;
    ksl__big_lock(e);
    int32_t q = atomic_load(&dpc->queued_cpu);
    if (q >= 0) {
        ksl_cpu *o = &e->cpus[q];
        ksl_dpc **pp = &o->dpc_head, *prev = NULL;
        while (*pp && *pp != dpc) {
            prev = *pp;
            pp = &(*pp)->next;
        }
        if (*pp) {
            *pp = dpc->next;
            if (o->dpc_tail == dpc)
                o->dpc_tail = prev;
            atomic_store(&dpc->queued_cpu, -1);
            removed = true;
        }
    }
    ksl__big_unlock(e);
    c = ksl__point(c, P_DPC_DEQUEUE, e->cfg.step_cost_ns, file, line);
    return removed;
}

void ksl__run_dpc(ksl_cpu *c)
{
    ksl_engine *e = c->e;
    /* Everything the routine needs is copied while the DPC is still ours: once it is off the
     * queue another CPU may queue it again and overwrite its arguments, as the kernel allows. */
    ksl__big_lock(e);
    ksl_dpc *dpc = c->dpc_head;
    struct {
        uint32_t id;
        const char *name;
        ksl_dpc_fn *routine;
        void *context, *arg1, *arg2;
    } run = {0};
    if (dpc) {
        c->dpc_head = dpc->next;
        if (!c->dpc_head) {
            c->dpc_tail = NULL;
            atomic_store(&c->dpc_pending, 0);
        }
        dpc->next = NULL;
        run.id = dpc->id;
        run.name = dpc->name ? dpc->name : "dpc";
        run.routine = dpc->routine;
        run.context = dpc->context;
        run.arg1 = dpc->arg1;
        run.arg2 = dpc->arg2;
        atomic_store(&dpc->queued_cpu, -1);
    }
    ksl__big_unlock(e);
    if (!dpc)
        return;
    c->st.dpcs++;
    uint8_t old = c->irql;
    ksl__frame_push(c, FR_DPC, run.id, run.name);
    ksl__set_irql(c, KSL_IRQL_DISPATCH);
    ksl__log(e, c, P_EXTERNAL, "DPC starts", NULL, 0);
    run.routine(dpc, run.context, run.arg1, run.arg2);
    if (c->irql != KSL_IRQL_DISPATCH) {
        char ib[16];
        ksl__fail(c, "K.routine-irql-changed", NULL, 0, "DPC '%s' returned at %s; it was called at DISPATCH_LEVEL",
                  run.name, ksl_irql_name(c->irql, ib, sizeof ib));
    }
    ksl__frame_pop(c, "DPC");
    ksl__set_irql(c, old);
}
