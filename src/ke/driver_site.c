/* SPDX-License-Identifier: MIT */
/*
 * The driver's line of a finding kslab detects in its own code.  Every scheduling point carries
 * the call site that reached it; a site in kslab's own sources (src/, include/) is a port, a
 * device model or the kernel at work, any other site is the driver's.  Each context keeps the
 * latest of its driver sites, and the window its latest lock release opened (where it released
 * a spin lock or a mutex, where it next acquired one): a thread in its ksl_thread (it survives
 * preemption and waits), a DPC or an ISR in its frame (it begins empty).  A race's finding shows
 * that window.  A finding detected in the port or the kernel
 * (K.irp-complete-holding-spinlock in the port's completion, W1.revoke-count-wrong after the
 * miniport's RevokeMappings returned) is then placed at the driver call that led to it, and the
 * detail says where kslab saw it.  A device model, which runs in no context, names the register
 * write that led to a finding with ksl_report_cause.  Deterministic engine only: the threaded
 * engine's findings keep the site they were reported with.
 */
#include <stdint.h>
#include <string.h>

#include "ke_internal.h"

#ifndef KSLAB_OWN_SRC
#define KSLAB_OWN_SRC "" /* unknown: every site counts as the driver's */
#endif
#ifndef KSLAB_OWN_INCLUDE
#define KSLAB_OWN_INCLUDE ""
#endif

bool ksl__own_site(const char *file)
{
    /* On every scheduling point: sites are string literals, few and reused, so the answer is kept
     * per pointer in a small direct-mapped table (per host thread: one engine runs on each). */
    enum { WAYS = 32 };
    static _Thread_local const char *seen[WAYS];
    static _Thread_local bool own_of[WAYS];
    if (!file)
        return true;
    uintptr_t h = (uintptr_t)file;
    unsigned slot = (unsigned)((h >> 3) ^ (h >> 11)) % WAYS;
    if (seen[slot] == file)
        return own_of[slot];
    static const char src[] = KSLAB_OWN_SRC, inc[] = KSLAB_OWN_INCLUDE;
    bool own = (sizeof src > 1 && strncmp(file, src, sizeof src - 1) == 0) ||
               (sizeof inc > 1 && strncmp(file, inc, sizeof inc - 1) == 0);
    seen[slot] = file;
    own_of[slot] = own;
    return own;
}

static ksl_drv_sites *sites_of(ksl_cpu *c)
{
    if (c->nframes > 1)
        return &c->frames[c->nframes - 1].drv;
    return c->thread ? &c->thread->drv : NULL;
}

const ksl_drv_sites *ksl__driver_sites(const ksl_cpu *c)
{
    return c ? sites_of((ksl_cpu *)c) : NULL;
}

void ksl__driver_site_note(ksl_cpu *c, unsigned kind, const char *file, int line)
{
    if (ksl__own_site(file))
        return;
    ksl_drv_sites *d = sites_of(c);
    if (!d)
        return;
    d->file = file;
    d->line = line;
    if (kind == P_SPIN_RELEASE || kind == P_MUTEX_RELEASE) { /* a window opens */
        d->drop_file = file;
        d->drop_line = line;
        d->drop_step = c->e->steps;
        d->retake_file = NULL;
    } else if ((kind == P_SPIN_ACQUIRE || kind == P_MUTEX_ACQUIRE) && d->drop_file && !d->retake_file) {
        d->retake_file = file; /* and closes */
        d->retake_line = line;
        d->retake_step = c->e->steps;
    }
}

bool ksl__driver_site_of(const ksl_cpu *c, const char **file, int *line)
{
    const ksl_drv_sites *d = ksl__driver_sites(c);
    if (!d || !d->file)
        return false;
    *file = d->file;
    *line = d->line;
    return true;
}

bool ksl_site_in_kslab(const char *file)
{
    return ksl__own_site(file);
}

bool ksl_driver_site(const char **file, int *line)
{
    ksl_cpu *c = ksl__cur;
    if (!c || ksl__threaded(c->e))
        return false;
    return ksl__driver_site_of(c, file, line);
}

void ksl_report_cause(const char *file, int line)
{
    ksl_engine *e = ksl__cur ? ksl__cur->e : ksl__eng;
    if (!e || ksl__threaded(e))
        return;
    e->cause_file = file && !ksl__own_site(file) ? file : NULL;
    e->cause_line = e->cause_file ? line : 0;
}
