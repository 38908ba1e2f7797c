/* SPDX-License-Identifier: MIT */
/*
 * S5: state a Low routine relied on, changed under it.  A Low priority routine runs on a
 * PASSIVE_LEVEL worker thread synchronized with nothing: with synchronization on, requests,
 * timers and the ISR keep running while it does.  A minidriver that shares its extension with one
 * must hand it a snapshot and take the result back through a LowToHigh routine; one that lets the
 * Low routine and synchronized code both write the same extension memory has a race.
 *
 * How it is seen without instrumenting the driver: the deterministic engine runs one context at a
 * time and calls the step hook at every scheduling point and activation boundary, and the class
 * calls in at every minidriver routine boundary, so the bytes of an extension that changed since
 * the previous call were written by the context the call is made on.  While at least one Low
 * routine runs (a window), every byte of the device extension and of every stream extension is
 * compared with a shadow copy at each such call, and each change is booked to its side: the Low
 * routine(s), or anything else (entry points, the ISR, timers, Dispatch / High / LowToHigh
 * routines).  Each side keeps, per byte, the intersection of the spin locks its writers held
 * (Eraser's lockset: the locks held at this call and at the previous call on this CPU).  A byte
 * both sides wrote in one window with no lock in common is S5.low-routine-unsynchronized-state.
 *
 * A Low routine's window ends when it returns or when it asks for a LowToHigh (or High) routine:
 * from then on it has handed the state back, and what the LowToHigh routine publishes is ordered
 * after the Low routine's writes.  Reads are not seen, so a Low routine that only reads state
 * that changes under it shows as wrong data (S1.data-mismatch) rather than here.  Off with
 * synchronization off (everything is unsynchronized there; the driver's own locks are the
 * lockset checks' business) and in the threaded engine (it never calls the step hook).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strm.h"

#define LW_LOW 1u
#define LW_OTHER 2u
#define LW_LOCK_OVERFLOW 0x8000u /* any lock past the table: one shared bit (errs toward silence) */

/* The lockset bit of `l` (a table of the locks seen, per adapter). */
static uint16_t lock_bit(strm_lowstate *w, const ksl_spinlock *l)
{
    for (uint32_t i = 0; i < w->nlocks; i++)
        if (w->locks[i] == l)
            return (uint16_t)(1u << i);
    if (w->nlocks < STRM_LW_LOCKS) {
        w->locks[w->nlocks] = l;
        return (uint16_t)(1u << w->nlocks++);
    }
    return LW_LOCK_OVERFLOW;
}

static uint16_t held_set(strm_lowstate *w)
{
    const ksl_spinlock *held[16];
    uint32_t n = ksl_held_spinlocks(held, 16);
    uint16_t set = 0;
    for (uint32_t i = 0; i < n && i < 16; i++)
        set |= lock_bit(w, held[i]);
    return set;
}

static bool region_add(strm_lowstate *w, uint8_t *mem, uint32_t size, uint32_t stream)
{
    if (!mem || !size || w->nregions >= STRM_LW_REGIONS)
        return true;
    strm_lw_region *r = &w->regions[w->nregions];
    if (r->cap < size) {
        free(r->shadow);
        /* shadow, mask, (a pad byte,) then four uint16_t arrays */
        r->shadow = calloc(1, (size_t)size * 10u + 2u);
        if (!r->shadow)
            return false;
        r->cap = size;
    }
    r->mem = mem;
    r->size = size;
    r->stream = stream;
    r->mask = r->shadow + size;
    r->low_ls = (uint16_t *)(void *)(r->mask + size + (size & 1u));
    r->other_ls = r->low_ls + size;
    r->low_site = r->other_ls + size;
    r->other_site = r->low_site + size;
    memcpy(r->shadow, mem, size);
    memset(r->mask, 0, size);
    w->nregions++;
    return true;
}

/* A window opens: the extensions as they are now are the baseline.  Under a->mu. */
static void window_open(ksl_stream_adapter *a)
{
    strm_lowstate *w = &a->ck.lw;
    w->nregions = 0;
    w->nsites = 0;
    bool ok = region_add(w, a->devext, a->init.DeviceExtensionSize, UINT32_MAX);
    for (PLIST_ENTRY le = a->streams.Flink; ok && le != &a->streams; le = le->Flink) {
        strm_stream *s = CONTAINING_RECORD(le, strm_stream, link);
        ok = region_add(w, s->obj.HwStreamExtension, a->init.PerStreamExtensionSize, s->obj.StreamNumber);
    }
    if (!ok)
        w->nregions = 0; /* no memory: no check this window rather than a wrong one */
}

/* The slot of the tracked Low routine running in context `who`, or -1. */
static int low_slot(const strm_lowstate *w, const char *who)
{
    for (int i = 0; i < STRM_CK_LOW; i++)
        if (w->low[i][0] && strcmp(w->low[i], who) == 0)
            return i;
    return -1;
}

/* The writer behind a site index (0: none recorded). */
static uint16_t site_add(strm_lowstate *w, int entry, const char *file, int line)
{
    const char *who = ksl_context_name();
    if (w->nsites) {
        strm_lw_site *p = &w->sites[w->nsites - 1];
        if (p->entry == entry && p->file == file && p->line == line && strcmp(p->ctx, who) == 0)
            return (uint16_t)w->nsites;
    }
    if (w->nsites >= STRM_LW_SITES)
        return (uint16_t)w->nsites;
    strm_lw_site *s = &w->sites[w->nsites++];
    s->entry = entry;
    s->file = file;
    s->line = line;
    snprintf(s->ctx, sizeof s->ctx, "%s", who);
    return (uint16_t)w->nsites;
}

typedef struct lw_conflict {
    bool found;
    uint32_t stream, offset;
    strm_lw_site low, other;
} lw_conflict;

/* Book what changed since the last call to the calling context.  Under a->mu. */
static void book(ksl_stream_adapter *a, const char *file, int line, lw_conflict *out)
{
    strm_lowstate *w = &a->ck.lw;
    uint32_t cpu = ksl_cpu_current() % KSL_MAX_CPUS;
    uint16_t now = held_set(w);
    uint16_t ls = now | w->prev_ls[cpu];
    w->prev_ls[cpu] = now;
    uint16_t site = 0;
    int entry = -2;
    for (uint32_t i = 0; i < w->nregions; i++) {
        strm_lw_region *r = &w->regions[i];
        if (memcmp(r->mem, r->shadow, r->size) == 0)
            continue;
        if (entry == -2) {
            entry = ksl_strm_ck_current_locked(a);
            site = site_add(w, entry, file, line);
        }
        bool low = entry == KSL_STRM_E_LOW && low_slot(w, ksl_context_name()) >= 0;
        for (uint32_t b = 0; b < r->size; b++) {
            if (r->mem[b] == r->shadow[b])
                continue;
            r->shadow[b] = r->mem[b];
            uint8_t m = r->mask[b];
            if (low) {
                r->low_ls[b] = (m & LW_LOW) ? (uint16_t)(r->low_ls[b] & ls) : ls;
                if (!(m & LW_LOW))
                    r->low_site[b] = site;
                m |= LW_LOW;
            } else {
                r->other_ls[b] = (m & LW_OTHER) ? (uint16_t)(r->other_ls[b] & ls) : ls;
                if (!(m & LW_OTHER))
                    r->other_site[b] = site;
                m |= LW_OTHER;
            }
            r->mask[b] = m;
            if (m == (LW_LOW | LW_OTHER) && !(r->low_ls[b] & r->other_ls[b]) && !out->found) {
                out->found = true;
                out->stream = r->stream;
                out->offset = b;
                if (r->low_site[b])
                    out->low = w->sites[r->low_site[b] - 1];
                if (r->other_site[b])
                    out->other = w->sites[r->other_site[b] - 1];
            }
        }
    }
}

static const char *base_name(const char *path)
{
    if (!path)
        return "?";
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

static void report(ksl_stream_adapter *a, const lw_conflict *c)
{
    strm_checks *k = &a->ck;
    pthread_mutex_lock(&a->mu);
    bool first = !k->reported;
    k->reported = true;
    pthread_mutex_unlock(&a->mu);
    if (!first)
        return;
    char where[48];
    if (c->stream == UINT32_MAX)
        snprintf(where, sizeof where, "the device extension");
    else
        snprintf(where, sizeof where, "stream %u's extension", c->stream);
    ksl_report(STRM_F_LOW_STATE, c->low.file, c->low.line,
               "byte +0x%x of %s written by a Low routine (%s, %s:%d) and meanwhile by %s (%s, %s:%d), no lock in "
               "common: give a Low routine a snapshot and publish through LowToHigh",
               c->offset, where, c->low.ctx, base_name(c->low.file), c->low.line, ksl_stream_entry_name(c->other.entry),
               c->other.ctx, base_name(c->other.file), c->other.line);
}

void ksl_strm_lw_step(ksl_stream_adapter *a, const char *file, int line)
{
    strm_lowstate *w = &a->ck.lw;
    if (!w->enabled || !w->active || !w->nregions)
        return;
    lw_conflict c = {0};
    pthread_mutex_lock(&a->mu);
    book(a, file, line, &c);
    pthread_mutex_unlock(&a->mu);
    if (c.found)
        report(a, &c);
}

void ksl_strm_lw_low_begins(ksl_stream_adapter *a)
{
    strm_lowstate *w = &a->ck.lw;
    if (!w->enabled)
        return;
    const char *who = ksl_context_name();
    pthread_mutex_lock(&a->mu);
    for (int i = 0; i < STRM_CK_LOW; i++) {
        if (!w->low[i][0]) {
            if (!w->active)
                window_open(a);
            snprintf(w->low[i], sizeof w->low[i], "%s", who);
            w->active++;
            break;
        }
    }
    pthread_mutex_unlock(&a->mu);
}

void ksl_strm_lw_low_ends(ksl_stream_adapter *a)
{
    strm_lowstate *w = &a->ck.lw;
    if (!w->enabled || !w->active)
        return;
    ksl_strm_lw_step(a, NULL, 0); /* its last writes are still its own */
    const char *who = ksl_context_name();
    pthread_mutex_lock(&a->mu);
    int i = low_slot(w, who);
    if (i >= 0) {
        w->low[i][0] = 0;
        w->active--;
    }
    pthread_mutex_unlock(&a->mu);
}

static void step_hook(void *user, const char *file, int line)
{
    ksl_strm_lw_step(user, file, line);
}

void ksl_strm_lw_create(ksl_stream_adapter *a)
{
    /* Like the port watcher, the hook stays with the engine (which runs once).  The threaded
     * engine runs contexts in parallel: no attribution there. */
    a->ck.lw.enabled = a->sync && ksl_engine_config(a->e)->engine == KSL_ENGINE_DETERMINISTIC;
    if (a->ck.lw.enabled)
        ksl_engine_set_step_hook(a->e, step_hook, a);
}

void ksl_strm_lw_destroy(ksl_stream_adapter *a)
{
    strm_lowstate *w = &a->ck.lw;
    for (uint32_t i = 0; i < STRM_LW_REGIONS; i++) {
        free(w->regions[i].shadow);
        w->regions[i] = (strm_lw_region){0};
    }
}
