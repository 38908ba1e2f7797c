/* SPDX-License-Identifier: MIT */
/*
 * S8 over extension memory: a minidriver that turns class synchronization off (filters, bus
 * drivers, S7) synchronizes itself, and every context may run its routines at once: the caller's
 * thread, a churner's, DPCs of its lower bus, timers, work items.  The memory check of
 * shared_state.c (S4, S5) only watches the routines the class leaves unsynchronized when it is
 * on; here every write to the extensions is booked, with Eraser's lockset:
 *
 *   - a byte written by one context only is that context's (initialization needs no lock);
 *   - from the first write by a second context on, its candidate set is the locks that writer
 *     holds, then the intersection with the locks of every later write;
 *   - an empty set is S8.unsynchronized-shared-state: two contexts wrote it with no lock in
 *     common.
 *
 * The locks are what serializes PASSIVE_LEVEL code as well as what serializes raised IRQL: the
 * spin locks the CPU holds (interrupt and cancel locks included), the fast mutexes the thread
 * owns, and the synchronization events it holds as locks (ksl_held_sleeplocks); an Interlocked
 * operation's bytes are booked with a pseudo-lock every atomic access holds, so atomic accesses
 * never race each other and a plain write races an atomic one unless they share a real lock.
 *
 * Writes are seen as in shared_state.c (the deterministic engine runs one context at a time and
 * calls the step hook at every scheduling point, so bytes that changed since the last one were
 * written by the context the hook runs on, holding the locks it holds now).  Writers are told
 * apart by context name (a work item's worker threads are told apart too, so state handed from
 * one work item to the next without a lock is seen as shared).  Left out: kernel objects inside
 * the extensions, reads, the SRB extensions; off in the threaded engine.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strm.h"
#include "../util/path.h"

#define SELF_LOCK_OVERFLOW (1u << 30)
#define SELF_LOCK_ATOMIC (1u << 31)

static void region_free(strm_self_region *r)
{
    free(r->shadow);
    free(r->skip);
    free(r->state);
    free(r->owner);
    free(r->ls);
    free(r->site);
    free(r->other_site);
    *r = (strm_self_region){0};
}

/* Watch [mem, mem + size) from now on: its bytes as they are now are nobody's writes. */
static bool region_set(strm_self_region *r, uint8_t *mem, uint32_t size, uint32_t stream, const void *owner_obj)
{
    if (r->cap < size) {
        region_free(r);
        r->shadow = malloc(size);
        r->skip = malloc(size);
        r->state = malloc(size);
        r->owner = malloc(size);
        r->ls = malloc((size_t)size * sizeof *r->ls);
        r->site = malloc((size_t)size * sizeof *r->site);
        r->other_site = malloc((size_t)size * sizeof *r->other_site);
        if (!r->shadow || !r->skip || !r->state || !r->owner || !r->ls || !r->site || !r->other_site) {
            region_free(r);
            return false;
        }
        r->cap = size;
    }
    r->mem = mem;
    r->size = size;
    r->stream = stream;
    r->owner_obj = owner_obj;
    memcpy(r->shadow, mem, size);
    memset(r->skip, 0, size);
    memset(r->state, 0, size);
    return true;
}

/* Mark the kernel objects in r as skipped (they change under whoever uses them). */
static void probe_objects(strm_self_region *r)
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

/* Watch the device extension (region 0) once it exists, and the extensions of the open streams.
 * Under a->mu. */
static void track_streams(ksl_stream_adapter *a)
{
    strm_self *w = &a->ck.self;
    if (!w->regions[0].mem) { /* the device extension exists from ksl_stream_start on */
        if (!a->devext || !region_set(&w->regions[0], a->devext, a->init.DeviceExtensionSize, UINT32_MAX, NULL))
            return;
        probe_objects(&w->regions[0]);
        w->nregions = 1;
    }
    uint32_t n = 1;
    bool same = true;
    for (PLIST_ENTRY le = a->streams.Flink; le != &a->streams; le = le->Flink) {
        strm_stream *s = CONTAINING_RECORD(le, strm_stream, link);
        if (!s->open || !s->obj.HwStreamExtension || !a->init.PerStreamExtensionSize)
            continue;
        if (n >= STRM_SS_REGIONS)
            break;
        same = same && n < w->nregions && w->regions[n].owner_obj == s;
        n++;
    }
    if (same && n == w->nregions)
        return;
    /* Re-list them; those already watched keep their books. */
    strm_self_region keep[STRM_SS_REGIONS];
    uint32_t nkeep = w->nregions;
    memcpy(keep, w->regions, sizeof keep);
    memset(&w->regions[1], 0, sizeof w->regions - sizeof w->regions[0]);
    uint32_t k = 1;
    for (PLIST_ENTRY le = a->streams.Flink; le != &a->streams && k < STRM_SS_REGIONS; le = le->Flink) {
        strm_stream *s = CONTAINING_RECORD(le, strm_stream, link);
        if (!s->open || !s->obj.HwStreamExtension || !a->init.PerStreamExtensionSize)
            continue;
        for (uint32_t j = 1; j < nkeep; j++)
            if (keep[j].owner_obj == s) {
                w->regions[k] = keep[j];
                keep[j] = (strm_self_region){0};
                break;
            }
        if (!w->regions[k].mem &&
            !region_set(&w->regions[k], s->obj.HwStreamExtension, a->init.PerStreamExtensionSize,
                        s->obj.StreamNumber, s)) {
            region_free(&w->regions[k]);
            continue; /* no memory: that stream unwatched rather than wrongly */
        }
        probe_objects(&w->regions[k]);
        k++;
    }
    for (uint32_t j = 1; j < nkeep; j++)
        region_free(&keep[j]);
    w->nregions = k;
}

static uint32_t lock_bit(strm_self *w, const void *l)
{
    for (uint32_t i = 0; i < w->nlocks; i++)
        if (w->locks[i] == l)
            return 1u << i;
    if (w->nlocks < STRM_SELF_LOCKS) {
        w->locks[w->nlocks] = l;
        return 1u << w->nlocks++;
    }
    return SELF_LOCK_OVERFLOW;
}

/* The calling context's locks, spin and sleep. */
static uint32_t held_now(strm_self *w)
{
    const ksl_spinlock *spin[16];
    const void *sleep[16];
    uint32_t set = 0;
    uint32_t n = ksl_held_spinlocks(spin, 16);
    for (uint32_t i = 0; i < n && i < 16; i++)
        set |= lock_bit(w, spin[i]);
    n = ksl_held_sleeplocks(sleep, 16);
    for (uint32_t i = 0; i < n && i < 16; i++)
        set |= lock_bit(w, sleep[i]);
    return set;
}

static uint8_t ctx_index(strm_self *w, const char *who)
{
    for (uint32_t i = 0; i < w->nctx; i++)
        if (strcmp(w->ctx[i], who) == 0)
            return (uint8_t)i;
    if (w->nctx == STRM_SELF_CTX)
        return STRM_SELF_CTX - 1; /* past the table: one shared writer (errs toward silence) */
    snprintf(w->ctx[w->nctx], sizeof w->ctx[0], "%s", who);
    return (uint8_t)w->nctx++;
}

typedef struct self_writer {
    uint8_t ctx;
    uint32_t ls;
    uint16_t site;
} self_writer;

typedef struct self_conflict {
    bool found;
    uint32_t stream, offset;
    uint16_t site, other_site;
} self_conflict;

/* Eraser's step for byte b of r written by wr.  Under a->mu. */
static void book_byte(strm_self_region *r, uint32_t b, const self_writer *wr, self_conflict *out)
{
    switch (r->state[b]) {
    case 0:
        r->state[b] = 1;
        r->owner[b] = wr->ctx;
        r->site[b] = wr->site;
        return;
    case 1:
        if (r->owner[b] == wr->ctx) {
            r->site[b] = wr->site;
            return;
        }
        r->state[b] = 2;
        r->ls[b] = wr->ls;
        break;
    default:
        r->ls[b] &= wr->ls;
        break;
    }
    if (r->owner[b] != wr->ctx) {
        r->other_site[b] = r->site[b];
        r->owner[b] = wr->ctx;
    }
    r->site[b] = wr->site;
    if (r->ls[b] || out->found)
        return;
    *out = (self_conflict){true, r->stream, b, wr->site, r->other_site[b]};
}

static self_writer writer_now(strm_self *w, const char *file, int line)
{
    const char *who = ksl_context_name();
    return (self_writer){ctx_index(w, who), held_now(w), ksl__strm_site_add(w->sites, &w->nsites, -1, file, line, who)};
}

/* Book what changed since the last call (and, first, an Interlocked operation's bytes).  Under
 * a->mu. */
static void book(ksl_stream_adapter *a, const char *file, int line, const volatile void *atomic, size_t atomic_size,
                 self_conflict *out)
{
    strm_self *w = &a->ck.self;
    track_streams(a);
    bool known = false;
    self_writer wr = {0};
    for (uint32_t i = 0; i < w->nregions; i++) {
        strm_self_region *r = &w->regions[i];
        uintptr_t lo = (uintptr_t)r->mem, at = (uintptr_t)atomic;
        if (atomic && at < lo + r->size && at + atomic_size > lo) {
            self_writer aw = writer_now(w, file, line);
            aw.ls |= SELF_LOCK_ATOMIC;
            for (uintptr_t p = at < lo ? lo : at; p < at + atomic_size && p < lo + r->size; p++) {
                uint32_t b = (uint32_t)(p - lo);
                r->shadow[b] = r->mem[b];
                if (!r->skip[b])
                    book_byte(r, b, &aw, out);
            }
        }
        if (memcmp(r->mem, r->shadow, r->size) == 0)
            continue;
        if (!known) {
            known = true;
            wr = writer_now(w, file, line);
        }
        probe_objects(r); /* objects initialized since */
        for (uint32_t b = 0; b < r->size; b++) {
            if (r->mem[b] == r->shadow[b])
                continue;
            r->shadow[b] = r->mem[b];
            if (!r->skip[b])
                book_byte(r, b, &wr, out);
        }
    }
}

static void book_and_report(ksl_stream_adapter *a, const char *file, int line, const volatile void *atomic,
                            size_t atomic_size)
{
    strm_self *w = &a->ck.self;
    self_conflict c = {0};
    strm_ss_site mine = {.entry = -1, .ctx = "?"}, other = {.entry = -1, .ctx = "?"};
    pthread_mutex_lock(&a->mu);
    book(a, file, line, atomic, atomic_size, &c);
    if (c.found) {
        if (c.site)
            mine = w->sites[c.site - 1];
        if (c.other_site)
            other = w->sites[c.other_site - 1];
    }
    pthread_mutex_unlock(&a->mu);
    if (!c.found)
        return;
    char where[48];
    if (c.stream == UINT32_MAX)
        snprintf(where, sizeof where, "the device extension");
    else
        snprintf(where, sizeof where, "stream %u's extension", c.stream);
    ksl_report_involves(other.ctx);
    ksl_report_racing(other.ctx, other.file, other.line);
    /* Writes are seen as changed bytes, and which bytes of a pointer change depends on where the
     * allocator put things (not on the schedule): the report names the aligned 8 bytes that
     * hold the byte, the same from run to run. */
    uint32_t word = c.offset & ~7u;
    ksl_report_continue(STRM_F_SELF_SYNC, mine.file, mine.line,
                        "with class synchronization off, bytes +0x%x..+0x%x of %s written by %s (before %s:%d) and "
                        "by %s (before %s:%d) with no lock in common: take one lock (spin lock, fast mutex) on both "
                        "sides",
                        word, word + 7u, where, mine.ctx, ksl__base_name(mine.file), mine.line, other.ctx,
                        ksl__base_name(other.file), other.line);
}

static void step_hook(void *user, const char *file, int line)
{
    book_and_report(user, file, line, NULL, 0);
}

static void atomic_hook(void *user, const volatile void *addr, size_t size, const char *file, int line)
{
    book_and_report(user, file, line, addr, size);
}

void ksl__strm_self_create(ksl_stream_adapter *a)
{
    strm_self *w = &a->ck.self;
    w->enabled = !a->sync && a->init.DeviceExtensionSize &&
                 ksl_engine_config(a->e)->engine == KSL_ENGINE_DETERMINISTIC;
    if (!w->enabled)
        return;
    /* Like the port watcher, the hooks stay with the engine (which runs once). */
    ksl_engine_set_step_hook(a->e, step_hook, a);
    ksl_engine_set_atomic_hook(a->e, atomic_hook, a);
}

void ksl__strm_self_destroy(ksl_stream_adapter *a)
{
    strm_self *w = &a->ck.self;
    for (uint32_t i = 0; i < STRM_SS_REGIONS; i++)
        region_free(&w->regions[i]);
    w->nregions = 0;
}
