/* SPDX-License-Identifier: MIT */
/*
 * PCT (Burckhardt, Kothari, Musuvathi, Nagarakatte, ASPLOS 2010): every context gets a random
 * priority when it first appears; the highest-priority enabled context always runs; at d-1
 * change points drawn uniformly from [1, k] the running context drops to priority i (the i-th
 * change point), below every initial priority.  A bug of depth d is then found with
 * probability at least 1 / (n * k^(d-1)) per run.
 *
 * Contexts are identified by the option keys the engine gives; priorities live in a small
 * open-addressing map so the order of discovery, not addresses, decides everything.
 */
#include <stdlib.h>
#include <string.h>

#include "rng.h"
#include "strategy.h"

typedef struct prio_slot {
    uint64_t key;   /* key + 1; 0 = empty */
    uint64_t prio;
} prio_slot;

typedef struct pct_strategy {
    ksl_strategy base;
    ksl_rng rng;
    uint32_t depth;
    uint32_t next_change;   /* index of the next change point to apply */
    uint64_t *change;       /* depth-1 sorted step numbers */
    prio_slot *map;
    uint32_t cap, used;
} pct_strategy;

static uint64_t mix(uint64_t k)
{
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdull;
    k ^= k >> 33;
    return k;
}

static prio_slot *slot_for(pct_strategy *s, uint64_t key)
{
    uint32_t mask = s->cap - 1;
    for (uint32_t i = (uint32_t)mix(key) & mask;; i = (i + 1) & mask)
        if (s->map[i].key == key + 1 || s->map[i].key == 0)
            return &s->map[i];
}

static int grow(pct_strategy *s)
{
    prio_slot *old = s->map;
    uint32_t oldcap = s->cap;
    s->cap = oldcap ? oldcap * 2 : 64;
    s->map = calloc(s->cap, sizeof *s->map);
    if (!s->map) {
        s->map = old;
        s->cap = oldcap;
        return -1;
    }
    for (uint32_t i = 0; i < oldcap; i++)
        if (old[i].key)
            *slot_for(s, old[i].key - 1) = old[i];
    free(old);
    return 0;
}

/* Priority of `key`, assigning a fresh random one (above every change-point priority). */
static prio_slot *prio_of(pct_strategy *s, uint64_t key)
{
    if ((s->used + 1) * 2 > s->cap && grow(s) != 0)
        abort();
    prio_slot *p = slot_for(s, key);
    if (!p->key) {
        p->key = key + 1;
        p->prio = (uint64_t)s->depth + 1 + (ksl_rng_next(&s->rng) >> 2);
        s->used++;
    }
    return p;
}

static uint32_t highest(pct_strategy *s, const uint64_t *keys, uint32_t n)
{
    uint32_t best = 0;
    uint64_t bp = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint64_t p = prio_of(s, keys[i])->prio;
        if (i == 0 || p > bp) {
            bp = p;
            best = i;
        }
    }
    return best;
}

static uint32_t pct_pick(ksl_strategy *base, const uint64_t *keys, uint32_t n, uint64_t step)
{
    pct_strategy *s = (pct_strategy *)base;
    uint32_t best = highest(s, keys, n);
    while (s->next_change + 1 < s->depth && s->change[s->next_change] <= step) {
        prio_of(s, keys[best])->prio = (uint64_t)s->next_change + 1;
        s->next_change++;
        best = highest(s, keys, n);
    }
    return best;
}

static uint32_t pct_below(ksl_strategy *base, uint32_t n)
{
    return (uint32_t)ksl_rng_below(&((pct_strategy *)base)->rng, n);
}

static void pct_destroy(ksl_strategy *base)
{
    pct_strategy *s = (pct_strategy *)base;
    free(s->change);
    free(s->map);
    free(s);
}

static const ksl_strategy_ops pct_ops = {"pct", pct_pick, pct_below, pct_destroy};

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

ksl_strategy *ksl__strategy_pct(uint64_t seed, uint32_t depth, uint64_t steps)
{
    pct_strategy *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->base.ops = &pct_ops;
    s->depth = depth ? depth : 1;
    ksl_rng_seed(&s->rng, seed);
    s->change = calloc(s->depth, sizeof *s->change);
    if (!s->change || grow(s) != 0) {
        pct_destroy(&s->base);
        return NULL;
    }
    if (steps == 0)
        steps = 1;
    for (uint32_t i = 0; i + 1 < s->depth; i++)
        s->change[i] = 1 + ksl_rng_below(&s->rng, steps);
    qsort(s->change, s->depth - 1, sizeof *s->change, cmp_u64);
    return &s->base;
}
