/* SPDX-License-Identifier: MIT */
/* The random-walk strategy: every option equally likely at every choice, from a seeded RNG. */
#include <stdlib.h>

#include "rng.h"
#include "strategy.h"

typedef struct random_strategy {
    ksl_strategy base;
    ksl_rng rng;
} random_strategy;

static uint32_t random_pick(ksl_strategy *s, const uint64_t *keys, uint32_t n, uint64_t step)
{
    (void)keys;
    (void)step;
    return (uint32_t)ksl_rng_below(&((random_strategy *)s)->rng, n);
}

static uint32_t random_below(ksl_strategy *s, uint32_t n)
{
    return (uint32_t)ksl_rng_below(&((random_strategy *)s)->rng, n);
}

static void random_destroy(ksl_strategy *s)
{
    free(s);
}

static const ksl_strategy_ops random_ops = {"random", random_pick, random_below, random_destroy};

ksl_strategy *ksl__strategy_random(uint64_t seed)
{
    random_strategy *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->base.ops = &random_ops;
    ksl_rng_seed(&s->rng, seed);
    return &s->base;
}
