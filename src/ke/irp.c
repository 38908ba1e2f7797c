/* SPDX-License-Identifier: MIT */
/*
 * IRPs: allocation, the cancel spin lock, IoSetCancelRoutine / IoCancelIrp with their documented
 * interlocking, and IoCompleteRequest with the checks Driver Verifier makes on it.
 */
#include <stdlib.h>
#include <string.h>

#include "ke_internal.h"

#define IRP_MAGIC 0x49525021u
#define IRP_FREED 0x49525046u

struct _IRP *ksl_irp_alloc(const char *file, int line)
{
    ksl__require_irql(ksl__cur, KSL_IRQL_DISPATCH, "IoAllocateIrp", file, line);
    IRP *irp = calloc(1, sizeof *irp);
    if (!irp)
        return NULL;
    irp->Type = 6; /* IO_TYPE_IRP */
    irp->Size = (uint16_t)sizeof *irp;
    irp->ksl_magic = IRP_MAGIC;
    irp->Tail.Overlay.ListEntry.Flink = irp->Tail.Overlay.ListEntry.Blink = &irp->Tail.Overlay.ListEntry;
    atomic_init(&irp->CancelRoutine, NULL);
    return irp;
}

void ksl_irp_free(struct _IRP *irp, const char *file, int line)
{
    if (!irp)
        return;
    ksl__require_irql(ksl__cur, KSL_IRQL_DISPATCH, "IoFreeIrp", file, line);
    irp->ksl_magic = IRP_FREED;
    free(irp);
}

void ksl_irp_set_completion(struct _IRP *irp, ksl_completion_fn *fn, void *context)
{
    irp->ksl_completion = fn;
    irp->ksl_completion_context = context;
}

void ksl_cancel_lock_acquire(uint8_t *old_irql, const char *file, int line)
{
    ksl_cpu *c = ksl__cur;
    if (!c) {
        *old_irql = KSL_IRQL_PASSIVE;
        return;
    }
    ksl__require_irql(c, KSL_IRQL_DISPATCH, "IoAcquireCancelSpinLock", file, line);
    uint8_t old = c->irql;
    ksl__set_irql(c, KSL_IRQL_DISPATCH);
    ksl__spin_take(c, &c->e->cancel_lock, "IoAcquireCancelSpinLock", file, line);
    *old_irql = old;
}

void ksl_cancel_lock_release(uint8_t irql, const char *file, int line)
{
    ksl_cpu *c = ksl__cur;
    if (!c)
        return;
    ksl__spin_drop(c, &c->e->cancel_lock, "IoReleaseCancelSpinLock", file, line);
    ksl__set_irql(c, irql);
    c = ksl__point(c, P_CANCEL_LOCK, c->e->cfg.step_cost_ns, file, line);
}

ksl_cancel_fn *ksl_irp_set_cancel_routine(struct _IRP *irp, ksl_cancel_fn *fn, const char *file, int line)
{
    ksl_cpu *c = ksl__cur;
    if (c)
        c = ksl__point(c, P_IRP_SET_CANCEL, c->e->cfg.step_cost_ns, file, line);
    return atomic_exchange(&irp->CancelRoutine, fn);
}

bool ksl_irp_cancel(struct _IRP *irp, const char *file, int line)
{
    ksl_cpu *c = ksl__cur;
    ksl__require_irql(c, KSL_IRQL_DISPATCH, "IoCancelIrp", file, line);
    if (c)
        c = ksl__point(c, P_IRP_CANCEL, c->e->cfg.step_cost_ns, file, line);
    uint8_t irql;
    ksl_cancel_lock_acquire(&irql, file, line);
    irp->Cancel = 1;
    ksl_cancel_fn *fn = atomic_exchange(&irp->CancelRoutine, NULL);
    if (!fn) {
        ksl_cancel_lock_release(irql, file, line);
        return false;
    }
    irp->CancelIrql = irql;
    c = ksl__cur;
    uint32_t held_before = c ? c->nheld : 0;
    fn(irp->ksl_device, irp);
    c = ksl__cur;
    if (c) {
        if (atomic_load(&c->e->cancel_lock.owner) == c->index + 1)
            ksl__fail(c, "K.lock-held-on-return", file, line,
                      "cancel routine returned still holding the cancel spin lock (it must call IoReleaseCancelSpinLock)");
        if (c->nheld + 1 > held_before) {
            ksl_spinlock *l = c->held[c->nheld - 1];
            ksl__fail(c, "K.lock-held-on-return", l->acq_file, l->acq_line,
                      "cancel routine returned still holding spin lock '%s'", l->name ? l->name : "?");
        }
        if (c->irql != irql) {
            char a[16], b[16];
            ksl__fail(c, "K.routine-irql-changed", file, line, "cancel routine returned at %s; IoCancelIrp was called at %s",
                      ksl_irql_name(c->irql, a, sizeof a), ksl_irql_name(irql, b, sizeof b));
        }
    }
    return true;
}

void ksl_irp_complete(struct _IRP *irp, const char *file, int line)
{
    ksl_cpu *c = ksl__cur;
    ksl__require_irql(c, KSL_IRQL_DISPATCH, "IoCompleteRequest", file, line);
    if (irp->ksl_magic != IRP_MAGIC)
        ksl__fail(c, "K.irp-double-complete", file, line, "IoCompleteRequest on an IRP that is not live");
    if (irp->ksl_completions)
        ksl__fail(c, "K.irp-double-complete", file, line, "IoCompleteRequest on an IRP already completed");
    if (atomic_load(&irp->CancelRoutine))
        ksl__fail(c, "K.irp-complete-with-cancel-routine", file, line,
                  "IoCompleteRequest on an IRP whose cancel routine is still set");
    if (c && c->nheld) {
        ksl_spinlock *l = c->held[c->nheld - 1];
        ksl__fail(c, "K.irp-complete-holding-spinlock", file, line,
                  "IoCompleteRequest while holding spin lock '%s' (acquired at %s:%d)", l->name ? l->name : "?",
                  l->acq_file ? l->acq_file : "?", l->acq_line);
    }
    irp->ksl_completions++;
    if (c)
        c = ksl__point(c, P_IRP_COMPLETE, c->e->cfg.step_cost_ns, file, line);
    if (irp->ksl_completion)
        irp->ksl_completion(irp->ksl_device, irp, irp->ksl_completion_context);
}
