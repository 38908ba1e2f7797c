/* SPDX-License-Identifier: MIT */
/*
 * Race-window spans and counts (see ksl_span_open in <kslab/engine.h>).  A span belongs to a
 * context: a DPC or ISR activation (its frame's serial) or a thread, renewed at each work item
 * it runs.  The deterministic engine runs one context at a time, so the table needs no lock; the
 * threaded engine keeps none.
 */
#include <kslab/windows.h>

#include "ke_internal.h"

_Static_assert(KSL_WIN_COUNT <= KSL_MAX_WINDOWS, "ksl_stats.windows has a slot per window");
_Static_assert(KSL_MAX_SPANS <= 32, "span_used has a bit per span");

/* Close span i. */
static void drop(ksl_engine *e, uint32_t i)
{
    e->spans[i].key = 0;
    e->span_used &= ~(1u << i);
}

#define KEY_ROUTINE (2ull << 62)
#define KEY_THREAD (1ull << 62)

uint64_t ksl__ctx_key(const ksl_cpu *c)
{
    if (!c || !c->nframes)
        return 0;
    const ksl_frame *f = &c->frames[c->nframes - 1];
    switch (f->kind) {
    case FR_DPC:
    case FR_ISR: return KEY_ROUTINE | f->serial;
    case FR_THREAD:
    case FR_WORK: return c->thread ? KEY_THREAD | (uint64_t)c->thread->id << 32 | c->thread->activation : 0;
    default: return 0;
    }
}

/* The calling context's CPU when spans are kept (a deterministic run), else NULL. */
static ksl_cpu *span_cpu(void)
{
    ksl_cpu *c = ksl__cur;
    return c && !ksl__threaded(c->e) && ksl__in_device != DEV_EVENT ? c : NULL;
}

uint32_t ksl_span_open(uint32_t kind, const void *obj, uint32_t isr_window, uint32_t flags)
{
    ksl_cpu *c = span_cpu();
    uint64_t key = ksl__ctx_key(c);
    if (!key)
        return 0;
    ksl_engine *e = c->e;
    uint32_t free_slot = KSL_MAX_SPANS;
    for (uint32_t i = 0; i < KSL_MAX_SPANS; i++) {
        struct ksl_span_rec *s = &e->spans[i];
        if (s->key == key && s->kind == kind && s->obj == obj) /* open already (GetMapping twice, no lock) */
            return (s->gen & 0xFFFFFFu) << 8 | (i + 1);
        if (!s->key && free_slot == KSL_MAX_SPANS)
            free_slot = i;
    }
    if (free_slot == KSL_MAX_SPANS)
        return 0; /* full: the window goes uncounted, nothing else changes */
    struct ksl_span_rec *s = &e->spans[free_slot];
    *s = (struct ksl_span_rec){key, obj, kind, isr_window, flags, c->index, ++e->span_gen};
    e->span_used |= 1u << free_slot;
    return (s->gen & 0xFFFFFFu) << 8 | (free_slot + 1);
}

void ksl_span_close(uint32_t span)
{
    ksl_cpu *c = span_cpu();
    uint32_t i = (span & 0xFFu) - 1;
    if (!c || !span || i >= KSL_MAX_SPANS)
        return;
    struct ksl_span_rec *s = &c->e->spans[i];
    if (s->key && (s->gen & 0xFFFFFFu) == span >> 8)
        drop(c->e, i);
}

void ksl_span_close_mine(uint32_t kind, const void *obj)
{
    ksl_cpu *c = span_cpu();
    uint64_t me = ksl__ctx_key(c);
    if (!me)
        return;
    for (uint32_t i = 0; i < KSL_MAX_SPANS; i++) {
        struct ksl_span_rec *s = &c->e->spans[i];
        if (s->key == me && s->kind == kind && (!obj || s->obj == obj))
            drop(c->e, i);
    }
}

bool ksl_span_open_elsewhere(uint32_t kind, const void *obj)
{
    ksl_cpu *c = span_cpu();
    if (!c)
        return false;
    uint64_t me = ksl__ctx_key(c);
    for (uint32_t i = 0; i < KSL_MAX_SPANS; i++) {
        const struct ksl_span_rec *s = &c->e->spans[i];
        if (s->key && s->kind == kind && s->key != me && (!obj || !s->obj || s->obj == obj))
            return true;
    }
    return false;
}

void ksl_window_hit(uint32_t window)
{
    ksl_cpu *c = span_cpu();
    if (c && window < KSL_MAX_WINDOWS && c->e->stats.windows[window] < UINT32_MAX)
        c->e->stats.windows[window]++;
}

void ksl__spans_end(ksl_cpu *c, bool lock_only)
{
    if (ksl__threaded(c->e) || !c->e->span_used)
        return;
    uint64_t me = ksl__ctx_key(c);
    if (!me)
        return;
    for (uint32_t i = 0; i < KSL_MAX_SPANS; i++) {
        struct ksl_span_rec *s = &c->e->spans[i];
        if (s->key == me && (!lock_only || (s->flags & KSL_SPAN_UNTIL_LOCK)))
            drop(c->e, i);
    }
}

void ksl__spans_isr(ksl_cpu *c)
{
    ksl_engine *e = c->e;
    if (ksl__threaded(e) || !e->span_used)
        return;
    uint64_t me = ksl__ctx_key(c);
    uint32_t counted = 0; /* each window once per ISR */
    for (uint32_t i = 0; i < KSL_MAX_SPANS; i++) {
        const struct ksl_span_rec *s = &e->spans[i];
        if (!s->key || !s->isr_window || s->key == me || s->isr_window > KSL_MAX_WINDOWS)
            continue;
        if ((s->flags & KSL_SPAN_ISR_OTHER_CPU) && s->cpu == c->index)
            continue;
        uint32_t w = s->isr_window - 1;
        if (counted & (1u << w))
            continue;
        counted |= 1u << w;
        if (e->stats.windows[w] < UINT32_MAX)
            e->stats.windows[w]++;
    }
}
