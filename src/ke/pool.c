/* SPDX-License-Identifier: MIT */
/*
 * Pool: every ExAllocatePoolWithTag is tracked with its tag, size, pool type and call site; a
 * free must match a live block and its tag; paged pool is allocated and freed at APC_LEVEL or
 * below (a free above is K.paged-free-at-raised-irql: recorded, the run goes on); blocks still
 * live at the end of a run are K.pool-leak.  Fault
 * injection fails the N-th allocation, like Driver Verifier's low-resources simulation.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ke_internal.h"

#define POOL_MAGIC 0x504F4F4Cu
#define POOL_FREED 0x46524545u

static void tag_text(uint32_t tag, char out[5])
{
    for (int i = 0; i < 4; i++) {
        char ch = (char)((tag >> (8 * i)) & 0xFF);
        out[i] = ch >= 32 && ch < 127 ? ch : '.';
    }
    out[4] = 0;
}

void *ksl_pool_alloc(int pool_type, size_t size, uint32_t tag, const char *file, int line)
{
    ksl_cpu *c = ksl__cur;
    ksl_engine *e = c ? c->e : ksl__eng;
    if (!e)
        return NULL;
    ksl__require_irql(c, pool_type == KSL_POOL_PAGED ? KSL_IRQL_APC : KSL_IRQL_DISPATCH,
                      pool_type == KSL_POOL_PAGED ? "ExAllocatePoolWithTag(PagedPool)" : "ExAllocatePoolWithTag", file, line);
    if (c)
        c = ksl__point(c, P_POOL_ALLOC, e->cfg.step_cost_ns, file, line);
    ksl__big_lock(e);
    uint64_t serial = ++e->pool_serial;
    if (e->cfg.fail_alloc_nth && serial == e->cfg.fail_alloc_nth) {
        e->stats.pool_failed++;
        ksl__big_unlock(e);
        return NULL;
    }
    /* Paged pool in the deterministic engine: whole pages of the run's arena (paged.c), which
     * fault when touched at raised IRQL; otherwise (or with the arena full) right after the
     * header. */
    void *data = pool_type == KSL_POOL_PAGED ? ksl__paged_alloc(e, size) : NULL;
    ksl_pool_hdr *h = malloc(sizeof *h + (data ? 0 : size ? size : 1));
    if (!h) {
        ksl__big_unlock(e);
        return NULL;
    }
    h->data = data ? data : (void *)(h + 1);
    h->serial = serial;
    h->size = size;
    h->tag = tag;
    h->pool_type = pool_type == KSL_POOL_PAGED ? KSL_POOL_PAGED : KSL_POOL_NONPAGED;
    h->magic = POOL_MAGIC;
    h->file = file;
    h->line = line;
    h->next = e->pool.next;
    h->prev = &e->pool;
    e->pool.next->prev = h;
    e->pool.next = h;
    e->pool_bytes += size;
    if (e->pool_bytes > e->stats.pool_peak_bytes)
        e->stats.pool_peak_bytes = e->pool_bytes;
    e->stats.pool_allocs++;
    ksl__big_unlock(e);
    void *p = h->data;
    memset(p, 0xA5, size); /* pool is not zeroed; make reads of it stand out */
    return p;
}

void ksl_pool_free(void *p, uint32_t tag, const char *file, int line)
{
    ksl_cpu *c = ksl__cur;
    ksl_engine *e = c ? c->e : ksl__eng;
    if (!p || !e)
        return;
    ksl__require_irql(c, KSL_IRQL_DISPATCH, "ExFreePoolWithTag", file, line);
    ksl__big_lock(e);
    ksl_pool_hdr *h = NULL;
    for (ksl_pool_hdr *x = e->pool.next; x != &e->pool; x = x->next)
        if (x->data == p) {
            h = x;
            break;
        }
    if (!h) {
        ksl__big_unlock(e);
        ksl__fail(c, "K.pool-bad-free", file, line, "ExFreePoolWithTag of %s", "a block that is not allocated (double free?)");
        return;
    }
    if (tag && h->tag != tag) {
        char want[5], got[5];
        tag_text(h->tag, want);
        tag_text(tag, got);
        ksl__big_unlock(e);
        ksl__fail(c, "K.pool-bad-free", file, line, "ExFreePoolWithTag with tag '%s' of a block allocated with '%s' at %s:%d",
                  got, want, h->file ? h->file : "?", h->line);
        return;
    }
    bool paged_raised = h->pool_type == KSL_POOL_PAGED && c && c->irql > KSL_IRQL_APC;
    char ptag[5];
    tag_text(h->tag, ptag);
    const char *afile = h->file;
    int aline = h->line;
    h->prev->next = h->next;
    h->next->prev = h->prev;
    e->pool_bytes -= h->size;
    h->magic = POOL_FREED;
    ksl__big_unlock(e);
    if (ksl__paged_owns(e, h->data))
        ksl__paged_release(e, h->data, h->size);
    free(h);
    if (paged_raised) {
        char ib[16];
        ksl__note(c, "K.paged-free-at-raised-irql", file, line,
                  "ExFreePoolWithTag of paged pool (tag '%s', allocated at %s:%d) at %s: paged pool is freed at "
                  "APC_LEVEL or below (hand it to a PASSIVE_LEVEL routine)",
                  ptag, afile ? afile : "?", aline, ksl_irql_name(c->irql, ib, sizeof ib));
    }
    if (c)
        c = ksl__point(c, P_POOL_FREE, e->cfg.step_cost_ns, file, line);
}

void ksl__pool_check_leaks(ksl_engine *e)
{
    uint64_t n = 0, bytes = 0;
    for (ksl_pool_hdr *h = e->pool.next; h != &e->pool; h = h->next) {
        n++;
        bytes += h->size;
    }
    if (!n)
        return;
    int shown = 0;
    /* Oldest first: the list is newest first. */
    for (ksl_pool_hdr *h = e->pool.prev; h != &e->pool && shown < 8; h = h->prev, shown++) {
        char t[5];
        tag_text(h->tag, t);
        ksl__detail(e, "  %zu bytes, tag '%s', allocated at %s:%d\n", h->size, t, h->file ? h->file : "?", h->line);
    }
    ksl_pool_hdr *first = e->pool.prev;
    ksl__note(NULL, "K.pool-leak", first->file, first->line,
              "%" PRIu64 " pool block(s), %" PRIu64 " bytes, still allocated at the end of the run", n, bytes);
}

void ksl__pool_describe(ksl_engine *e, uintptr_t a, char *buf, size_t len)
{
    for (ksl_pool_hdr *h = e->pool.next; h != &e->pool; h = h->next) {
        uintptr_t d = (uintptr_t)h->data;
        if (a < d || a - d >= (h->size ? h->size : 1))
            continue;
        char t[5];
        tag_text(h->tag, t);
        snprintf(buf, len, " (tag '%s', %zu bytes allocated at %s:%d)", t, h->size, h->file ? h->file : "?", h->line);
        return;
    }
    snprintf(buf, len, " (a block already freed, or past the end of one)");
}

void ksl__pool_free_all(ksl_engine *e)
{
    ksl_pool_hdr *h = e->pool.next;
    while (h && h != &e->pool) {
        ksl_pool_hdr *n = h->next;
        free(h);
        h = n;
    }
    e->pool.next = e->pool.prev = &e->pool;
}
