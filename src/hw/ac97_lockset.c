/* SPDX-License-Identifier: MIT */
/*
 * Rule W2 in the AC'97 model (see ac97_chip.h): Eraser's lockset over each channel's queue
 * registers, checked at every driver write of BDBAR, LVI or CR.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "ac97_chip.h"

static void lock_names(char *buf, size_t len, const ksl_spinlock *const *locks, uint32_t n)
{
    size_t used = (size_t)snprintf(buf, len, "{");
    for (uint32_t i = 0; i < n && used < len; i++)
        used += (size_t)snprintf(buf + used, len - used, "%s'%s'", i ? ", " : "", locks[i]->name ? locks[i]->name : "?");
    if (used < len)
        snprintf(buf + used, len - used, "}");
}

/* A driver writes a queue register of channel `ch` (from a CPU: the writer's locks are known). */
void ksl__ac97_lockset_write(ksl_ac97 *d, unsigned ch, const char *reg)
{
    queue_lockset *ls = &d->ls[ch];
    if (ch == CH_MC || ls->reported || ksl_cpu_count() == 0)
        return;
    const ksl_spinlock *held[LOCKSET_MAX];
    uint32_t n = ksl_held_spinlocks(held, LOCKSET_MAX);
    if (n > LOCKSET_MAX)
        n = LOCKSET_MAX;
    const char *who = ksl_context_name();
    /* A quiescence point since the last write (a pin closed, its service calls drained): the
     * writes before it happened before this one.  A halted engine starts a fresh lockset. */
    uint64_t epoch = ksl_quiesce_epoch();
    if (ls->epoch != epoch) {
        ls->epoch = epoch;
        if (!(d->ch[ch].cr & KSL_AC97_CR_RPBM)) {
            ls->state = 0;
            ls->n = 0;
        }
    }
    /* Remember this write, and the latest one of another context, for the report. */
    if (ls->cur.ctx[0] && strcmp(ls->cur.ctx, who) != 0)
        ls->other = ls->cur;
    snprintf(ls->cur.ctx, sizeof ls->cur.ctx, "%s", who);
    lock_names(ls->cur.locks, sizeof ls->cur.locks, held, n);
    ksl_device_access_site(&ls->cur.file, &ls->cur.line);
    if (ls->state == 0 || (ls->state == 1 && strcmp(ls->owner, who) == 0)) {
        ls->state = 1;
        snprintf(ls->owner, sizeof ls->owner, "%s", who);
        return;
    }
    const ksl_spinlock *before[LOCKSET_MAX];
    uint32_t nbefore = ls->n;
    memcpy(before, ls->locks, sizeof before);
    if (ls->state == 1) { /* a second context: the candidate set starts here */
        ls->state = 2;
        ls->n = n;
        memcpy(ls->locks, held, n * sizeof held[0]);
        nbefore = n;
        memcpy(before, held, n * sizeof held[0]);
    } else {
        uint32_t k = 0;
        for (uint32_t i = 0; i < ls->n; i++)
            for (uint32_t j = 0; j < n; j++)
                if (ls->locks[i] == held[j]) {
                    ls->locks[k++] = ls->locks[i];
                    break;
                }
        ls->n = k;
    }
    if (ls->n == 0) {
        char was[160];
        lock_names(was, sizeof was, before, nbefore);
        ls->reported = true;
        /* At the write that emptied the candidate set (the driver's line), naming the other
         * side of the race: the latest write by another context, with its line and locks. */
        const struct queue_write *o = &ls->other;
        ksl_report_involves(o->ctx);
        ksl_report_racing(o->ctx, o->file, o->line);
        ksl_report_continue("W2.hw-queue-unlocked", ls->cur.file, ls->cur.line,
                            "%s of %s written by %s holding %s: no lock in common with the other writers of the DMA "
                            "queue (they held %s); the latest of them: %s at %s:%d holding %s",
                            reg, ksl__ac97_channel_name(ch), who, ls->cur.locks, was, o->ctx[0] ? o->ctx : "?",
                            o->file ? o->file : "?", o->line, o->ctx[0] ? o->locks : "?");
    }
}
