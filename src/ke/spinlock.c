/* SPDX-License-Identifier: MIT */
/*
 * Spin locks: KeAcquireSpinLock and friends, with the Driver Verifier checks on IRQL, ownership
 * and recursion, and lock-order (lockdep) edges recorded before the lock is taken, so an order
 * inversion is reported before it ever deadlocks.  The interrupt and cancel locks use the same
 * take/drop pair.
 */
#include <string.h>

#include "ke_internal.h"

void ksl_spin_init(ksl_spinlock *lock, const char *name, const char *file, int line)
{
    memset(lock, 0, sizeof *lock);
    if (name && name[0] == '&')
        name++;
    lock->magic = KSL_MAGIC_SPIN;
    lock->kind = KSL_LOCK_SPIN;
    lock->name = name;
    lock->init_file = file;
    lock->init_line = line;
}

static void check_init(ksl_cpu *c, ksl_spinlock *lock, const char *call, const char *file, int line)
{
    if (lock->magic != KSL_MAGIC_SPIN)
        ksl__fail(c, "K.spinlock-uninitialized", file, line, "%s on a spin lock that was never initialized", call);
}

/* Take `lock` on CPU c at the current IRQL (the caller raised it as needed). */
void ksl__spin_take(ksl_cpu *c, ksl_spinlock *lock, const char *call, const char *file, int line)
{
    ksl_engine *e = c->e;
    check_init(c, lock, call, file, line);
    c = ksl__point(c, P_SPIN_ACQUIRE, e->cfg.step_cost_ns, file, line);
    uint32_t me = c->index + 1;
    if (atomic_load_explicit(&lock->owner, memory_order_relaxed) == me)
        ksl__fail(c, "K.spinlock-recursive", file, line,
                  "%s on '%s', which this CPU already holds (acquired at %s:%d): self-deadlock", call,
                  lock->name ? lock->name : "?", lock->acq_file ? lock->acq_file : "?", lock->acq_line);
    if (c->nheld >= KSL_MAX_HELD)
        ksl__fail(c, "K.lock-order-cycle", file, line, "more than %d spin locks held at once", KSL_MAX_HELD);
    ksl__lockdep_acquire(c, ksl__lockdep_node(e, &lock->node, lock->name, lock->init_file, lock->init_line, lock->kind),
                           file, line);
    if (ksl__threaded(e)) {
        uint32_t expect = 0;
        while (!atomic_compare_exchange_weak_explicit(&lock->owner, &expect, me, memory_order_acquire,
                                                      memory_order_relaxed)) {
            expect = 0;
            ksl__spin_wait(c, lock);
        }
    } else {
        if (atomic_load_explicit(&lock->owner, memory_order_relaxed) != 0)
            ksl__spin_wait(c, lock);
        atomic_store_explicit(&lock->owner, me, memory_order_relaxed);
    }
    c->held[c->nheld++] = lock;
    ksl__spans_end(c, true); /* a race window "until it takes a lock" closes */
    lock->acq_file = file;
    lock->acq_line = line;
    ksl__step_hook(c, file, line); /* the held set changed: what comes next is under the lock */
}

/* Drop `lock` held by CPU c; IRQL is left to the caller. */
void ksl__spin_drop(ksl_cpu *c, ksl_spinlock *lock, const char *call, const char *file, int line)
{
    check_init(c, lock, call, file, line);
    uint32_t o = atomic_load_explicit(&lock->owner, memory_order_relaxed);
    if (o == 0)
        ksl__fail(c, "K.spinlock-release-not-held", file, line, "%s on '%s', which is not held", call,
                  lock->name ? lock->name : "?");
    if (o != c->index + 1)
        ksl__fail(c, "K.spinlock-release-wrong-cpu", file, line, "%s on '%s', which CPU %u holds (acquired at %s:%d)",
                  call, lock->name ? lock->name : "?", o - 1, lock->acq_file ? lock->acq_file : "?", lock->acq_line);
    ksl__step_hook(c, file, line); /* what ran under the lock is booked with it held */
    for (uint32_t i = c->nheld; i-- > 0;) {
        if (c->held[i] == lock) {
            memmove(&c->held[i], &c->held[i + 1], (c->nheld - i - 1) * sizeof c->held[0]);
            c->nheld--;
            break;
        }
    }
    atomic_store_explicit(&lock->owner, 0, memory_order_release);
}

uint8_t ksl_spin_acquire(ksl_spinlock *lock, const char *file, int line)
{
    ksl_cpu *c = ksl__cur;
    if (!c)
        return KSL_IRQL_PASSIVE;
    char ib[16];
    if (c->irql > KSL_IRQL_DISPATCH)
        ksl__fail(c, "K.spinlock-acquire-above-dispatch", file, line, "KeAcquireSpinLock on '%s' at %s",
                  lock->name ? lock->name : "?", ksl_irql_name(c->irql, ib, sizeof ib));
    uint8_t old = c->irql;
    ksl__set_irql(c, KSL_IRQL_DISPATCH);
    ksl__spin_take(c, lock, "KeAcquireSpinLock", file, line);
    lock->saved_irql = old;
    lock->raised = 1;
    return old;
}

void ksl_spin_release(ksl_spinlock *lock, uint8_t new_irql, const char *file, int line)
{
    ksl_cpu *c = ksl__cur;
    if (!c)
        return;
    char a[16], b[16];
    if (c->irql != KSL_IRQL_DISPATCH)
        ksl__fail(c, "K.spinlock-release-irql", file, line, "KeReleaseSpinLock on '%s' at %s; it must be called at DISPATCH_LEVEL",
                  lock->name ? lock->name : "?", ksl_irql_name(c->irql, a, sizeof a));
    if (lock->magic == KSL_MAGIC_SPIN && atomic_load(&lock->owner) == c->index + 1) {
        if (!lock->raised)
            ksl__fail(c, "K.spinlock-release-irql", file, line,
                      "KeReleaseSpinLock on '%s', which was acquired with KeAcquireSpinLockAtDpcLevel",
                      lock->name ? lock->name : "?");
        if (new_irql != lock->saved_irql)
            ksl__fail(c, "K.spinlock-release-irql", file, line,
                      "KeReleaseSpinLock on '%s' restores %s, but the acquire saved %s", lock->name ? lock->name : "?",
                      ksl_irql_name(new_irql, a, sizeof a), ksl_irql_name(lock->saved_irql, b, sizeof b));
    }
    lock->raised = 0; /* before the drop: the next holder writes it after taking the lock */
    ksl__spin_drop(c, lock, "KeReleaseSpinLock", file, line);
    ksl__set_irql(c, new_irql);
    c = ksl__point(c, P_SPIN_RELEASE, c->e->cfg.step_cost_ns, file, line);
}

void ksl_spin_acquire_at_dpc(ksl_spinlock *lock, const char *file, int line)
{
    ksl_cpu *c = ksl__cur;
    if (!c)
        return;
    char ib[16];
    if (c->irql < KSL_IRQL_DISPATCH)
        ksl__fail(c, "K.spinlock-dpc-below-dispatch", file, line, "KeAcquireSpinLockAtDpcLevel on '%s' at %s",
                  lock->name ? lock->name : "?", ksl_irql_name(c->irql, ib, sizeof ib));
    ksl__spin_take(c, lock, "KeAcquireSpinLockAtDpcLevel", file, line);
    lock->raised = 0;
}

void ksl_spin_release_from_dpc(ksl_spinlock *lock, const char *file, int line)
{
    ksl_cpu *c = ksl__cur;
    if (!c)
        return;
    char ib[16];
    if (c->irql < KSL_IRQL_DISPATCH)
        ksl__fail(c, "K.spinlock-dpc-below-dispatch", file, line, "KeReleaseSpinLockFromDpcLevel on '%s' at %s",
                  lock->name ? lock->name : "?", ksl_irql_name(c->irql, ib, sizeof ib));
    ksl__spin_drop(c, lock, "KeReleaseSpinLockFromDpcLevel", file, line);
    c = ksl__point(c, P_SPIN_RELEASE, c->e->cfg.step_cost_ns, file, line);
}
