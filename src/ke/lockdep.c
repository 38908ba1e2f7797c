/* SPDX-License-Identifier: MIT */
/*
 * Lock order (lockdep): at every acquire of a spin lock, interrupt lock, cancel lock, fast mutex
 * or (first) acquire of a kernel mutex, the locks the acquiring context holds go into the lock-order graph
 * (src/verify/lockorder.h); an acquire that closes a cycle is K.lock-order-cycle, with the cycle
 * and where each of its edges was first seen.
 */
#include "ke_internal.h"

static void cycle_edge(void *user, const char *from, const char *to, const char *file, int line, bool here)
{
    ksl_engine *e = user;
    if (here)
        ksl__detail(e, "  lock order cycle:\n");
    ksl__detail(e, "    '%s' -> '%s' %s at %s:%d\n", from, to, here ? "here" : "first", file ? file : "?", line);
}

uint32_t ksl__lockdep_node(ksl_engine *e, uint32_t *slot, const char *name, const char *file, int line, uint8_t kind)
{
    return ksl__lockorder_node(e->locks, slot, name, file, line, kind);
}

void ksl__lockdep_acquire(ksl_cpu *c, uint32_t acquired, const char *file, int line)
{
    ksl_engine *e = c->e;
    uint32_t held[KSL_MAX_HELD + KSL_MAX_THREAD_MUTEXES + KSL_MAX_THREAD_EVLOCKS];
    uint32_t nh = 0;
    ksl_thread *t = ksl__cur_thread(c);
    if (!t && c->nframes >= 1 && c->thread && (c->frames[0].kind == FR_THREAD || c->frames[0].kind == FR_WORK))
        t = c->thread; /* nested routines on a thread's CPU still run after its mutexes */
    if (t)
        for (uint32_t i = 0; i < t->nmutexes; i++)
            held[nh++] = t->mutexes[i]->node;
    for (uint32_t i = 0; t && i < t->nevlocks; i++) /* the kernel mutexes it owns */
        if (((const ksl_dispatcher_header *)t->evlocks[i])->type == KSL_OBJ_MUTEX)
            held[nh++] = ((const ksl_kmutex *)t->evlocks[i])->node;
    for (uint32_t i = 0; i < c->nheld; i++)
        held[nh++] = c->held[i]->node;
    uint32_t k = ksl__lockorder_acquire(e->locks, held, nh, acquired, file, line, ksl__threaded(e) != 0, cycle_edge, e);
    if (k)
        ksl__note(c, "K.lock-order-cycle", file, line,
                  "acquiring '%s' while holding '%s' inverts an order seen before: potential deadlock",
                  ksl__lockorder_name(e->locks, acquired), ksl__lockorder_name(e->locks, held[k - 1]));
}
