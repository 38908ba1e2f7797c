/* SPDX-License-Identifier: MIT */
/*
 * Interrupt objects and their delivery.  Lines are level-triggered: a device keeps its line
 * asserted until the driver acknowledges the device.  A pending line can be delivered to any
 * CPU running below its IRQL; while one CPU services it, it is not delivered elsewhere.  The
 * ISR runs at the interrupt's IRQL holding the interrupt spin lock, as does a routine passed to
 * KeSynchronizeExecution.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ke_internal.h"

ksl_interrupt *ksl_interrupt_connect(uint32_t line, uint8_t irql, ksl_isr_fn *isr, void *context, ksl_spinlock *lock,
                                     const char *name)
{
    ksl_engine *e = ksl__cur ? ksl__cur->e : ksl__eng;
    if (!e || line >= KSL_MAX_LINES || irql < KSL_IRQL_DEVICE_MIN || irql > KSL_IRQL_DEVICE_MAX || !isr)
        return NULL;
    ksl__require_irql(ksl__cur, KSL_IRQL_PASSIVE, "IoConnectInterrupt", NULL, 0);
    ksl_interrupt *i = calloc(1, sizeof *i);
    if (!i)
        return NULL;
    i->e = e;
    i->line = line;
    i->irql = irql;
    i->isr = isr;
    i->context = context;
    snprintf(i->name, sizeof i->name, "%s", name ? name : "isr");
    if (lock) {
        i->lock = lock;
    } else {
        ksl_spin_init(&i->own_lock, i->name, NULL, 0);
        i->lock = &i->own_lock;
    }
    i->lock->kind = KSL_LOCK_INTERRUPT;
    ksl__big_lock(e);
    ksl_interrupt **pp = &e->lines[line].chain;
    while (*pp)
        pp = &(*pp)->next;
    *pp = i;
    ksl__line_update(e, line);
    ksl__big_unlock(e);
    return i;
}

/*
 * Unlink the object; then, as IoDisconnectInterrupt guarantees, return only once no CPU is in its
 * ISR or waiting to enter it.  A delivery that began before the unlink may still reach the object
 * (it walks the chain as it was, and may be spinning for the interrupt lock), so the calling
 * thread blocks until the line's delivery in service ends: deliveries of a line never overlap, and
 * those that start after the unlink no longer see the object.
 */
void ksl_interrupt_disconnect(ksl_interrupt *intr)
{
    if (!intr)
        return;
    ksl_engine *e = intr->e;
    ksl_cpu *c = ksl__cur;
    ksl__require_irql(c, KSL_IRQL_PASSIVE, "IoDisconnectInterrupt", NULL, 0);
    ksl__big_lock(e);
    ksl_irq_line *l = &e->lines[intr->line];
    for (ksl_interrupt **pp = &l->chain; *pp; pp = &(*pp)->next) {
        if (*pp == intr) {
            *pp = intr->next;
            break;
        }
    }
    ksl__line_update(e, intr->line);
    ksl_thread *t = ksl__cur_thread(c);
    if (t && l->in_service) {
        t->wb = (ksl_wait_block){.thread = t};
        t->wb.next = l->disconnecting;
        l->disconnecting = &t->wb;
        t->state = T_WAITING;
        t->waiting_on = intr;
        t->wait_what = "the ISR in progress to finish (IoDisconnectInterrupt)";
        t->wait_file = NULL;
        t->wait_line = 0;
        ksl__big_unlock(e);
        ksl__block(c);
    } else {
        ksl__big_unlock(e);
    }
    if (intr->owns_context)
        free(intr->context);
    free(intr);
}

uint8_t ksl_interrupt_irql(const ksl_interrupt *intr)
{
    return intr->irql;
}

void ksl__line_update(ksl_engine *e, uint32_t line)
{
    ksl_irq_line *l = &e->lines[line];
    uint8_t irql = 0;
    for (const ksl_interrupt *i = l->chain; i; i = i->next)
        if (i->irql > irql)
            irql = i->irql;
    l->irql = irql;
    if ((l->asserted || l->pulse) && !l->in_service && l->chain)
        e->pending_lines |= 1ull << line;
    else
        e->pending_lines &= ~(1ull << line);
}

void ksl_irq_line_set(ksl_engine *e, uint32_t line, bool asserted)
{
    if (line >= KSL_MAX_LINES)
        return;
    ksl_irq_line *l = &e->lines[line];
    if (!l->asserted && asserted)
        l->since = ksl__threaded(e) ? atomic_load(&e->tclock) : e->now;
    if (!asserted)
        l->storm = 0;
    else
        l->caused = 1;
    l->asserted = asserted;
    ksl__line_update(e, line);
    if (asserted)
        for (uint32_t i = 0; i < e->ncpus; i++)
            ksl__kick(e, i);
}

void ksl_irq_line_latent(ksl_engine *e, uint32_t line, bool latent)
{
    if (line >= KSL_MAX_LINES)
        return;
    e->lines[line].latent = latent;
    if (latent)
        e->lines[line].caused = 1;
}

void ksl_irq_line_pulse(ksl_engine *e, uint32_t line)
{
    if (line >= KSL_MAX_LINES)
        return;
    ksl_irq_line *l = &e->lines[line];
    if (!l->asserted && !l->pulse)
        l->since = ksl__threaded(e) ? atomic_load(&e->tclock) : e->now;
    l->pulse = 1;
    ksl__line_update(e, line);
    for (uint32_t i = 0; i < e->ncpus; i++)
        ksl__kick(e, i);
}

/* Whether a device raised the line (or had a latent cause) since a pulse was taken: a cause that
 * arose while its ISR ran is a real one to claim. */
static bool caused(ksl_engine *e, const ksl_irq_line *l)
{
    ksl__big_lock(e);
    bool r = l->caused;
    ksl__big_unlock(e);
    return r;
}

void ksl__deliver_irq(ksl_cpu *c, uint32_t line)
{
    ksl_engine *e = c->e;
    ksl_irq_line *l = &e->lines[line];
    uint8_t old = c->irql;
    c->st.interrupts++;
    /* Taken with no device driving the line: only a spurious pulse raised it. */
    ksl__big_lock(e);
    bool spurious = l->pulse && !l->asserted && !l->latent;
    const char *last = "?";
    uint64_t last_began = 0;
    l->pulse = 0;
    if (spurious)
        l->caused = 0;
    ksl__big_unlock(e);
    for (ksl_interrupt *i = l->chain; i; i = i->next) {
        if (i->irql <= old)
            continue;
        ksl__frame_push(c, FR_ISR, line + 1, i->name);
        ksl__spans_isr(c);
        ksl__set_irql(c, i->irql);
        ksl__log(e, c, P_EXTERNAL, "ISR starts", NULL, 0);
        uint64_t began = e->nlog;
        ksl__spin_take(c, i->lock, "interrupt dispatch", NULL, 0);
        bool mine = i->isr(i, i->context);
        if (c->irql != i->irql) {
            char a[16], b[16];
            ksl__fail(c, "K.isr-irql-changed", NULL, 0, "ISR '%s' returned at %s; it was called at %s", i->name,
                      ksl_irql_name(c->irql, a, sizeof a), ksl_irql_name(i->irql, b, sizeof b));
        }
        const char *site = NULL;
        int site_line = 0;
        if (mine && spurious && !caused(e, l)) {
            /* at the ISR's first access: where it read the status it decided on */
            ksl__log_first_site(e, c->index, began, &site, &site_line);
            ksl__note(c, "K.isr-claimed-spurious", site, site_line,
                      "it claimed an interrupt on line %u that no device raised (a spurious interrupt): an ISR "
                      "must return FALSE unless its own device's status shows an interrupt",
                      line);
        }
        ksl__spin_drop(c, i->lock, "interrupt dispatch", NULL, 0);
        ksl__frame_pop(c, "ISR");
        ksl__set_irql(c, old);
        last = i->name;
        last_began = began;
        if (mine)
            break;
    }
    ksl__big_lock(e);
    l->in_service = 0;
    /* A level-triggered line no ISR lowers is taken again at once, forever. */
    bool storm = l->asserted && ++l->storm >= KSL__STORM_DELIVERIES;
    ksl__line_update(e, line);
    for (ksl_wait_block *w = l->disconnecting, *next; w; w = next) {
        next = w->next;
        w->thread->waiting_on = NULL;
        ksl__ready(e, w->thread);
    }
    l->disconnecting = NULL;
    ksl__big_unlock(e);
    const char *site = NULL;
    int site_line = 0;
    if (storm) /* at the last ISR's first access: the status it read and left standing */
        ksl__log_first_site(e, c->index, last_began, &site, &site_line);
    if (storm)
        ksl__fail(c, "K.interrupt-storm", site, site_line,
                  "interrupt line %u stayed asserted through %u ISR runs in a row (the last by ISR '%s'): no ISR "
                  "on it clears its device's interrupt cause",
                  line, KSL__STORM_DELIVERIES, last ? last : "?");
}

bool ksl_interrupt_sync(ksl_interrupt *intr, ksl_sync_fn *fn, void *context, const char *file, int line)
{
    ksl_cpu *c = ksl__cur;
    if (!c)
        return fn(context);
    char a[16], b[16];
    if (c->irql > intr->irql)
        ksl__fail(c, "K.irql-too-high", file, line, "KeSynchronizeExecution called at %s, above the interrupt's %s",
                  ksl_irql_name(c->irql, a, sizeof a), ksl_irql_name(intr->irql, b, sizeof b));
    uint8_t old = c->irql;
    uint64_t start = c->work;
    ksl__set_irql(c, intr->irql);
    ksl__spin_take(c, intr->lock, "KeSynchronizeExecution", file, line);
    uint32_t held = c->nheld;
    bool r = fn(context);
    if (c->irql != intr->irql)
        ksl__fail(c, "K.routine-irql-changed", file, line, "synchronized routine returned at %s; it was called at %s",
                  ksl_irql_name(c->irql, a, sizeof a), ksl_irql_name(intr->irql, b, sizeof b));
    if (c->nheld != held) {
        ksl_spinlock *l = c->held[c->nheld - 1];
        ksl__fail(c, "K.lock-held-on-return", l->acq_file, l->acq_line,
                  "synchronized routine returned still holding spin lock '%s'", l->name ? l->name : "?");
    }
    ksl__spin_drop(c, intr->lock, "KeSynchronizeExecution", file, line);
    ksl__activation(c, "sync", "KeSynchronizeExecution", intr->irql, c->work - start);
    ksl__set_irql(c, old);
    c = ksl__point(c, P_SYNC, c->e->cfg.step_cost_ns, file, line);
    return r;
}
