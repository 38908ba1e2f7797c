/* SPDX-License-Identifier: MIT */
/*
 * Scheduling strategies behind one small interface.  At each scheduling point with two or more
 * options the engine asks the strategy to pick one.  Each option carries a key that stays the
 * same for the same context across the run (PCT attaches its priorities to keys).  Internal.
 */
#ifndef KSL_STRATEGY_H
#define KSL_STRATEGY_H

#include <stddef.h>
#include <stdint.h>

typedef struct ksl_strategy ksl_strategy;

typedef struct ksl_strategy_ops {
    const char *name;
    /* Pick an index in [0, n).  `step` is the engine's scheduling-point counter. */
    uint32_t (*pick)(ksl_strategy *s, const uint64_t *keys, uint32_t n, uint64_t step);
    /* A uniformly random number in [0, n) for choices that are not between contexts. */
    uint32_t (*below)(ksl_strategy *s, uint32_t n);
    void (*destroy)(ksl_strategy *s);
} ksl_strategy_ops;

struct ksl_strategy {
    const ksl_strategy_ops *ops;
    /* Replay: set when the recorded list did not fit the run. */
    int diverged;
};

ksl_strategy *ksl__strategy_random(uint64_t seed);
ksl_strategy *ksl__strategy_pct(uint64_t seed, uint32_t depth, uint64_t steps);
/* Replays `choices`; past their end it always picks option 0. */
ksl_strategy *ksl__strategy_replay(const uint32_t *choices, size_t n);

#endif
