/* SPDX-License-Identifier: MIT */
/*
 * K.deadlock: when no context can run while client threads have not finished, describe the
 * wait-for picture: every waiting thread with what it waits for and where (and a fast mutex's
 * owner), every spinning CPU with the lock's holder.  A cycle of lock owners never gets here: the
 * lock-order graph reports it as K.lock-order-cycle at the acquire that closes it, before anyone
 * blocks; what remains are waits on objects without owners (events, timers).
 */
#include <string.h>

#include "ke_internal.h"

static const ksl_fast_mutex *mutex_waited(const ksl_thread *t)
{
    if (t->state != T_WAITING || !t->wait_what || strcmp(t->wait_what, "fast mutex") != 0)
        return NULL;
    return t->waiting_on;
}

static void describe_waiters(ksl_engine *e)
{
    for (ksl_thread *t = e->all_threads; t; t = t->next_all) {
        if (t->state != T_WAITING || (t->system && t->waiting_on == &e->work_event))
            continue; /* idle system workers are not part of the picture */
        ksl__detail(e, "  thread '%s' waits for %s at %s:%d", t->name, t->wait_what ? t->wait_what : "an object",
                    t->wait_file ? t->wait_file : "?", t->wait_line);
        const ksl_fast_mutex *m = mutex_waited(t);
        if (m)
            ksl__detail(e, " (held by thread '%s')", m->owner ? m->owner->name : "nobody");
        if (t->state == T_WAITING && t->wait_what && strcmp(t->wait_what, "mutex") == 0) {
            const ksl_kmutex *km = t->waiting_on;
            ksl__detail(e, " (mutex '%s', owned by %s%s%s)", km->name ? km->name : "?", km->owner ? "thread '" : "",
                        km->owner ? km->owner->name : "nobody", km->owner ? "'" : "");
        }
        ksl__detail(e, "\n");
    }
}

static void describe_spinners(ksl_engine *e)
{
    char buf[128];
    for (uint32_t i = 0; i < e->ncpus; i++) {
        ksl_cpu *c = &e->cpus[i];
        if (!c->spin_on)
            continue;
        uint32_t o = atomic_load(&c->spin_on->owner);
        ksl__describe(c, buf, sizeof buf);
        ksl__detail(e, "  CPU %u (%s) spins on lock '%s' held by CPU %u\n", i, buf,
                    c->spin_on->name ? c->spin_on->name : "?", o ? o - 1 : 0);
    }
}

/* The driver's line the deadlock is placed at: where a spinning CPU tries to take its lock, else
 * where the first waiting thread (by creation) waits, else that thread's latest driver call. */
static void deadlock_site(ksl_engine *e, const char **file, int *line)
{
    *file = NULL;
    *line = 0;
    for (uint32_t i = 0; i < e->ncpus; i++)
        if (e->cpus[i].spin_on && ksl__driver_site_of(&e->cpus[i], file, line))
            return;
    for (ksl_thread *t = e->all_threads; t; t = t->next_all) {
        if (t->state != T_WAITING || t->system)
            continue;
        if (t->wait_file && !ksl__own_site(t->wait_file)) {
            *file = t->wait_file;
            *line = t->wait_line;
            return;
        }
        if (t->drv.file) {
            *file = t->drv.file;
            *line = t->drv.line;
            return;
        }
    }
}

void ksl__report_deadlock(ksl_engine *e)
{
    const char *file;
    int line;
    deadlock_site(e, &file, &line);
    describe_waiters(e);
    describe_spinners(e);
    if (e->dl_describer) {
        char buf[768] = "";
        e->dl_describer(e->dl_user, buf, sizeof buf);
        if (buf[0])
            ksl__detail(e, "%s", buf);
    }
    ksl__fail(NULL, "K.deadlock", file, line, "no context can run while %u client thread(s) have not finished",
              e->live_clients);
}
