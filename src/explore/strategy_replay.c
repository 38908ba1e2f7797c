/* SPDX-License-Identifier: MIT */
/* Replay of a recorded choice list.  Past its end, or on a choice that no longer fits, it
 * picks option 0 and marks the run as diverged. */
#include <stdlib.h>
#include <string.h>

#include "strategy.h"

typedef struct replay_strategy {
    ksl_strategy base;
    uint32_t *list;
    size_t n, pos;
} replay_strategy;

static uint32_t replay_next(ksl_strategy *base, uint32_t n)
{
    replay_strategy *s = (replay_strategy *)base;
    if (s->pos >= s->n)
        return 0;
    uint32_t v = s->list[s->pos++];
    if (v >= n) {
        s->base.diverged = 1;
        return 0;
    }
    return v;
}

static uint32_t replay_pick(ksl_strategy *base, const uint64_t *keys, uint32_t n, uint64_t step)
{
    (void)keys;
    (void)step;
    return replay_next(base, n);
}

static void replay_destroy(ksl_strategy *base)
{
    replay_strategy *s = (replay_strategy *)base;
    free(s->list);
    free(s);
}

static const ksl_strategy_ops replay_ops = {"replay", replay_pick, replay_next, replay_destroy};

ksl_strategy *ksl__strategy_replay(const uint32_t *choices, size_t n)
{
    replay_strategy *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->base.ops = &replay_ops;
    s->list = malloc((n ? n : 1) * sizeof *s->list);
    if (!s->list) {
        free(s);
        return NULL;
    }
    if (n)
        memcpy(s->list, choices, n * sizeof *choices);
    s->n = n;
    return &s->base;
}
