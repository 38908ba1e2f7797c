/* SPDX-License-Identifier: MIT */
/*
 * Extension state shared by an unsynchronized routine and anything else (S5, S4).  With class
 * synchronization on, two kinds of minidriver routine run unsynchronized:
 *   - a Low priority routine, on a PASSIVE_LEVEL worker thread synchronized with nothing:
 *     requests, timers and the ISR keep running while it does (S5);
 *   - a Dispatch priority routine of an adapter with an ISR, at DISPATCH_LEVEL without the
 *     interrupt lock: the ISR and the entry points (at the DIRQL) run meanwhile (S3, S4).
 * A minidriver that shares extension memory with one must hand it a snapshot, take a lock both
 * sides take, or touch the shared part only from a High (LowToHigh) routine; one that lets both
 * sides write the same bytes has a race.
 *
 * How it is seen without instrumenting the driver: the deterministic engine runs one context at a
 * time and calls the step hook at every scheduling point, activation boundary and change of a
 * CPU's held spin locks, and the class calls in at every minidriver routine boundary, so the
 * bytes of an extension that changed since the previous call were written by the context the
 * call is made on, holding the spin locks it holds now.  While at least one unsynchronized
 * routine runs, every byte of the device extension and of the stream extensions is compared with
 * a shadow copy at each such call, and each change is booked to its writer: one of the
 * unsynchronized routines (a slot), or synchronized code (entry points, the ISR, timers, High /
 * LowToHigh routines, cancel and timeout handlers).  For each slot, each byte keeps two sides:
 * the slot's own writes, and everyone else's since the slot last synchronized (synchronized code
 * and the other slots: two unsynchronized routines race each other too), each with the
 * intersection of the spin locks its writers held (Eraser's lockset).  A byte both sides of a
 * slot wrote, with no lock in common, is the finding: S5.low-routine-unsynchronized-state for a
 * Low routine, S4.unsynchronized-isr-shared-access for a Dispatch routine.
 *
 * Interlocked operations are atomic accesses, not plain stores: the kernel's atomic hook books
 * their bytes with a pseudo-lock every atomic access holds, so atomic accesses never conflict with
 * each other, and a plain write conflicts with an atomic one unless they share a real lock.
 *
 * A routine synchronizes when it asks for a High or LowToHigh routine: that routine runs under
 * the class's lock, after everything the caller wrote and before everything it writes next, so
 * both sides of that slot start over (and what the High routine itself writes, on the caller's
 * context, is not held against the caller).  Kernel objects inside an extension (spin locks,
 * DPCs, events, timers, fast mutexes) are left out: the kernel updates them from whoever uses
 * them.  Not seen: reads (a routine that only reads state changing under it shows as wrong data,
 * S1.data-mismatch, rather than here), the SRB and filter instance extensions, stream extensions
 * past the first STRM_SS_REGIONS - 1 streams, and streams opened while a routine runs.  Off with
 * synchronization off (every context is unsynchronized there: selfsync.c checks the extensions
 * with the driver's own locks, S8) and in the threaded engine (it never calls the step hook).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strm.h"
#include "../util/path.h"

#define SS_LOCK_OVERFLOW 0x8000u /* any lock past the table: one shared bit (errs toward silence) */
#define SS_LOCK_ATOMIC 0x4000u   /* held by every Interlocked access: atomic accesses do not race */
#define SS_OTHER(i) ((uint16_t)(0x100u << (i)))
#define SS_MINE(i) ((uint16_t)(1u << (i)))
#define SS_MINE_LS(r, b, i) ((r)->ls[((size_t)(b) * STRM_SS_SLOTS + (size_t)(i)) * 2u])
#define SS_OTHER_LS(r, b, i) ((r)->ls[((size_t)(b) * STRM_SS_SLOTS + (size_t)(i)) * 2u + 1u])

/* The lockset bit of `l` (a table of the locks seen, per adapter). */
static uint16_t lock_bit(strm_shared *w, const ksl_spinlock *l)
{
    for (uint32_t i = 0; i < w->nlocks; i++)
        if (w->locks[i] == l)
            return (uint16_t)(1u << i);
    if (w->nlocks < STRM_SS_LOCKS) {
        w->locks[w->nlocks] = l;
        return (uint16_t)(1u << w->nlocks++);
    }
    return SS_LOCK_OVERFLOW;
}

static uint16_t held_set(strm_shared *w)
{
    const ksl_spinlock *held[16];
    uint32_t n = ksl_held_spinlocks(held, 16);
    uint16_t set = 0;
    for (uint32_t i = 0; i < n && i < 16; i++)
        set |= lock_bit(w, held[i]);
    return set;
}

static void region_free(strm_ss_region *r)
{
    free(r->shadow);
    free(r->skip);
    free(r->bits);
    free(r->ls);
    free(r->mine_site);
    free(r->other_site);
    *r = (strm_ss_region){0};
}

/* Mark the kernel objects in r as skipped. */
static void probe_objects(strm_ss_region *r)
{
    for (uint32_t off = 0; off + 4u <= r->size;) {
        size_t k = ksl_kernel_object_size(r->mem + off, r->size - off);
        if (!k) {
            off += 4u;
            continue;
        }
        memset(r->skip + off, 1, k);
        off += (uint32_t)((k + 3u) & ~(size_t)3u);
    }
}

static bool region_add(strm_shared *w, uint8_t *mem, uint32_t size, uint32_t stream)
{
    if (!mem || !size || w->nregions >= STRM_SS_REGIONS)
        return true;
    strm_ss_region *r = &w->regions[w->nregions];
    if (r->cap < size) {
        region_free(r);
        r->shadow = malloc(size);
        r->skip = malloc(size);
        r->bits = malloc((size_t)size * sizeof *r->bits);
        r->ls = malloc((size_t)size * STRM_SS_SLOTS * 2u * sizeof *r->ls);
        r->mine_site = malloc((size_t)size * sizeof *r->mine_site);
        r->other_site = malloc((size_t)size * sizeof *r->other_site);
        if (!r->shadow || !r->skip || !r->bits || !r->ls || !r->mine_site || !r->other_site) {
            region_free(r);
            return false;
        }
        r->cap = size;
    }
    r->mem = mem;
    r->size = size;
    r->stream = stream;
    memcpy(r->shadow, mem, size);
    memset(r->skip, 0, size);
    memset(r->bits, 0, (size_t)size * sizeof *r->bits);
    memset(r->mine_site, 0, (size_t)size * sizeof *r->mine_site);
    memset(r->other_site, 0, (size_t)size * sizeof *r->other_site);
    probe_objects(r);
    w->nregions++;
    return true;
}

/* The first routine starts: the extensions as they are now are the baseline.  Under a->mu. */
static void watch_open(ksl_stream_adapter *a)
{
    strm_shared *w = &a->ck.ss;
    w->nregions = 0;
    w->nsites = 0;
    bool ok = region_add(w, a->devext, a->init.DeviceExtensionSize, UINT32_MAX);
    for (PLIST_ENTRY le = a->streams.Flink; ok && le != &a->streams; le = le->Flink) {
        strm_stream *s = CONTAINING_RECORD(le, strm_stream, link);
        if (s->open)
            ok = region_add(w, s->obj.HwStreamExtension, a->init.PerStreamExtensionSize, s->obj.StreamNumber);
    }
    if (!ok)
        w->nregions = 0; /* no memory: no check while it lasts rather than a wrong one */
}

/* The slot of the unsynchronized routine running in context `who` on `cpu`, or -1.  A routine
 * at DISPATCH_LEVEL cannot leave its CPU (and two such routines on one CPU do not overlap), so
 * its CPU tells apart routines of the same name; a Low routine's worker thread has a name of its
 * own. */
static int slot_of(const strm_shared *w, const char *who, uint32_t cpu)
{
    for (int i = 0; i < STRM_SS_SLOTS; i++)
        if (w->slot[i].entry >= 0 && (w->slot[i].cpu < 0 || (uint32_t)w->slot[i].cpu == cpu) &&
            strcmp(w->slot[i].ctx, who) == 0)
            return i;
    return -1;
}

typedef struct ss_conflict {
    bool found;
    int entry; /* the unsynchronized routine's kind */
    uint32_t stream, offset;
    uint16_t mine_site, other_site;
} ss_conflict;

/* One writer of a booking. */
typedef struct ss_writer {
    int slot;      /* its slot, or -1: synchronized code */
    int same;      /* the slot whose context it runs on (a High routine it called), or -1 */
    uint16_t ls;   /* the spin locks it holds */
    uint16_t site;
} ss_writer;

/* Book changed byte b of r to the writer; note the first conflict in *out.  Under a->mu. */
static void book_byte(strm_shared *w, strm_ss_region *r, uint32_t b, const ss_writer *wr, ss_conflict *out)
{
    uint16_t bits = r->bits[b];
    int hit = -1;
    if (wr->slot >= 0) {
        int i = wr->slot;
        SS_MINE_LS(r, b, i) = (bits & SS_MINE(i)) ? (uint16_t)(SS_MINE_LS(r, b, i) & wr->ls) : wr->ls;
        bits |= SS_MINE(i);
        r->mine_site[b] = wr->site;
        if ((bits & SS_OTHER(i)) && !(SS_MINE_LS(r, b, i) & SS_OTHER_LS(r, b, i)))
            hit = i;
    } else {
        r->other_site[b] = wr->site;
    }
    /* Against every other running routine this write is the other side. */
    for (int i = 0; i < STRM_SS_SLOTS; i++) {
        if (w->slot[i].entry < 0 || i == wr->slot || i == wr->same)
            continue;
        SS_OTHER_LS(r, b, i) = (bits & SS_OTHER(i)) ? (uint16_t)(SS_OTHER_LS(r, b, i) & wr->ls) : wr->ls;
        bits |= SS_OTHER(i);
        if (wr->slot >= 0)
            r->other_site[b] = wr->site;
        if (hit < 0 && (bits & SS_MINE(i)) && !(SS_MINE_LS(r, b, i) & SS_OTHER_LS(r, b, i)))
            hit = i;
    }
    r->bits[b] = bits;
    if (hit < 0 || out->found)
        return;
    out->found = true;
    out->entry = w->slot[hit].entry;
    out->stream = r->stream;
    out->offset = b;
    out->mine_site = hit == wr->slot ? wr->site : r->mine_site[b];
    out->other_site = hit == wr->slot ? r->other_site[b] : wr->site;
}

/* The calling context as a writer.  Under a->mu. */
static ss_writer writer_now(ksl_stream_adapter *a, const char *file, int line)
{
    strm_shared *w = &a->ck.ss;
    ss_writer wr = {.slot = -1, .same = -1};
    const char *who = ksl_context_name();
    int entry = ksl__strm_rt_current_locked(a);
    int s = slot_of(w, who, ksl_cpu_current());
    /* the slot's own routine, or a High routine it called (ordered with it) */
    if (s >= 0 && entry == w->slot[s].entry)
        wr.slot = s;
    else
        wr.same = s;
    wr.ls = held_set(w);
    wr.site = ksl__strm_site_add(w->sites, &w->nsites, entry, file, line, who);
    return wr;
}

/* Book what changed since the last call to the calling context.  Under a->mu. */
static void book(ksl_stream_adapter *a, const char *file, int line, ss_conflict *out)
{
    strm_shared *w = &a->ck.ss;
    ss_writer wr = {.slot = -1, .same = -1};
    bool known = false;
    for (uint32_t i = 0; i < w->nregions; i++) {
        strm_ss_region *r = &w->regions[i];
        if (memcmp(r->mem, r->shadow, r->size) == 0)
            continue;
        if (!known) {
            known = true;
            wr = writer_now(a, file, line);
        }
        probe_objects(r); /* objects initialized since */
        for (uint32_t b = 0; b < r->size; b++) {
            if (r->mem[b] == r->shadow[b])
                continue;
            r->shadow[b] = r->mem[b];
            if (!r->skip[b])
                book_byte(w, r, b, &wr, out);
        }
    }
}

/* Slot i starts over: its own marks and everyone else's against it.  Under a->mu. */
static void slot_clear(strm_shared *w, int i)
{
    uint16_t keep = (uint16_t)~(SS_MINE(i) | SS_OTHER(i));
    for (uint32_t k = 0; k < w->nregions; k++) {
        strm_ss_region *r = &w->regions[k];
        for (uint32_t b = 0; b < r->size; b++)
            r->bits[b] &= keep;
    }
}

static void report(const ss_conflict *c, const strm_ss_site *mine, const strm_ss_site *other)
{
    char where[48];
    if (c->stream == UINT32_MAX)
        snprintf(where, sizeof where, "the device extension");
    else
        snprintf(where, sizeof where, "stream %u's extension", c->stream);
    bool low = c->entry == KSL_STRM_E_LOW;
    ksl_report_involves(strcmp(mine->ctx, ksl_context_name()) == 0 ? other->ctx : mine->ctx);
    ksl_report_racing(other->ctx, other->file, other->line); /* the site reported is mine's */
    ksl_report_continue(low ? STRM_F_LOW_STATE : STRM_F_ISR_SHARED, mine->file, mine->line,
               "byte +0x%x of %s written by a %s (%s, before %s:%d) and meanwhile by %s (%s, before %s:%d), no lock "
               "in common: %s",
               c->offset, where, ksl_stream_entry_name(c->entry), mine->ctx, ksl__base_name(mine->file), mine->line,
               other->entry >= 0 ? ksl_stream_entry_name(other->entry) : "the class", other->ctx,
               ksl__base_name(other->file), other->line,
               low ? "give a Low routine a snapshot and publish through LowToHigh"
                   : "touch state shared with the ISR from a High routine");
}

/* Book the bytes [addr, addr + size) an Interlocked operation of the calling context accessed as
 * an atomic access (changed or not: an atomic write of the same value is still a write).  Under
 * a->mu. */
static void book_atomic(ksl_stream_adapter *a, uintptr_t addr, size_t size, const char *file, int line,
                        ss_conflict *out)
{
    strm_shared *w = &a->ck.ss;
    for (uint32_t i = 0; i < w->nregions; i++) {
        strm_ss_region *r = &w->regions[i];
        uintptr_t lo = (uintptr_t)r->mem, hi = lo + r->size;
        if (addr + size <= lo || addr >= hi)
            continue;
        ss_writer wr = writer_now(a, file, line);
        wr.ls |= SS_LOCK_ATOMIC;
        for (uintptr_t p = addr < lo ? lo : addr; p < addr + size && p < hi; p++) {
            uint32_t b = (uint32_t)(p - lo);
            r->shadow[b] = r->mem[b];
            if (!r->skip[b])
                book_byte(w, r, b, &wr, out);
        }
    }
}

/* Book, and report the first conflict.  `atomic`: the bytes of an Interlocked operation first. */
static void book_and_report(ksl_stream_adapter *a, const char *file, int line, const volatile void *atomic,
                            size_t atomic_size)
{
    strm_shared *w = &a->ck.ss;
    if (!w->enabled || !w->active || !w->nregions)
        return;
    ss_conflict c = {0};
    strm_ss_site mine = {.entry = -1, .ctx = "?"}, other = {.entry = -1, .ctx = "?"};
    pthread_mutex_lock(&a->mu);
    if (atomic)
        book_atomic(a, (uintptr_t)atomic, atomic_size, file, line, &c);
    book(a, file, line, &c);
    if (c.found) {
        if (c.mine_site)
            mine = w->sites[c.mine_site - 1];
        if (c.other_site)
            other = w->sites[c.other_site - 1];
    }
    pthread_mutex_unlock(&a->mu);
    if (c.found)
        report(&c, &mine, &other);
}

void ksl__strm_ss_step(ksl_stream_adapter *a, const char *file, int line)
{
    book_and_report(a, file, line, NULL, 0);
}

void ksl__strm_ss_begins(ksl_stream_adapter *a, int entry)
{
    strm_shared *w = &a->ck.ss;
    if (!w->enabled || !(entry == KSL_STRM_E_LOW || (entry == KSL_STRM_E_DISPATCH && a->intr)))
        return;
    const char *who = ksl_context_name();
    pthread_mutex_lock(&a->mu);
    for (int i = 0; i < STRM_SS_SLOTS; i++) {
        if (w->slot[i].entry < 0) {
            if (!w->active)
                watch_open(a);
            else
                slot_clear(w, i);
            w->slot[i].entry = entry;
            w->slot[i].cpu = entry == KSL_STRM_E_DISPATCH ? (int)ksl_cpu_current() : -1;
            snprintf(w->slot[i].ctx, sizeof w->slot[i].ctx, "%s", who);
            w->active++;
            break;
        }
    }
    pthread_mutex_unlock(&a->mu);
}

/* The calling context's routine ends (end) or synchronizes (!end). */
static void slot_done(ksl_stream_adapter *a, bool end)
{
    strm_shared *w = &a->ck.ss;
    if (!w->enabled || !w->active)
        return;
    ksl__strm_ss_step(a, NULL, 0); /* its last writes are still its own */
    const char *who = ksl_context_name();
    pthread_mutex_lock(&a->mu);
    int i = slot_of(w, who, ksl_cpu_current());
    if (i >= 0) {
        slot_clear(w, i);
        if (end) {
            w->slot[i].entry = -1;
            w->active--;
        }
    }
    pthread_mutex_unlock(&a->mu);
}

void ksl__strm_ss_ends(ksl_stream_adapter *a, int entry)
{
    if (entry == KSL_STRM_E_LOW || entry == KSL_STRM_E_DISPATCH)
        slot_done(a, true);
    else
        ksl__strm_ss_step(a, NULL, 0);
}

void ksl__strm_ss_synchronizes(ksl_stream_adapter *a)
{
    slot_done(a, false);
}

static void step_hook(void *user, const char *file, int line)
{
    ksl__strm_ss_step(user, file, line);
}

static void atomic_hook(void *user, const volatile void *addr, size_t size, const char *file, int line)
{
    book_and_report(user, file, line, addr, size);
}

void ksl__strm_ss_create(ksl_stream_adapter *a)
{
    strm_shared *w = &a->ck.ss;
    for (int i = 0; i < STRM_SS_SLOTS; i++)
        w->slot[i].entry = -1;
    /* Like the port watcher, the hook stays with the engine (which runs once).  The threaded
     * engine runs contexts in parallel: no attribution there. */
    w->enabled = a->sync && ksl_engine_config(a->e)->engine == KSL_ENGINE_DETERMINISTIC;
    if (w->enabled) {
        ksl_engine_set_step_hook(a->e, step_hook, a);
        ksl_engine_set_atomic_hook(a->e, atomic_hook, a);
    }
}

void ksl__strm_ss_destroy(ksl_stream_adapter *a)
{
    strm_shared *w = &a->ck.ss;
    for (uint32_t i = 0; i < STRM_SS_REGIONS; i++)
        region_free(&w->regions[i]);
}
