/* SPDX-License-Identifier: MIT */
/* Shrinking a finding's schedule (see shrink.h). */
#include <stdlib.h>
#include <string.h>

#include "shrink.h"

static uint64_t nonzero(const uint32_t *c, size_t n)
{
    uint64_t k = 0;
    for (size_t i = 0; i < n; i++)
        k += c[i] != 0;
    return k;
}

/* Replay `c` and tell whether every rule of `found` fires (1), not (0), or the wait was
 * interrupted (-2); on 1 *got is the replay's outcome (free it). */
static int still_fires(ksl__pool *pool, const ksl__request *base, const uint32_t *c, size_t n,
                       const ksl__outcome *found, ksl__outcome *got)
{
    /* A list that is all zeros past its end equals the shorter list: send at least one. */
    static const uint32_t zero = 0;
    ksl__request rq = *base;
    rq.cfg.strategy = KSL_STRATEGY_REPLAY;
    rq.cfg.choices = n ? c : &zero;
    rq.cfg.nchoices = n ? n : 1;
    rq.flags &= ~(uint32_t)KSL__RQ_KEEP_CHOICES;
    uint64_t tag;
    ksl__outcome o;
    int w = ksl__pool_submit(pool, &rq, 0) == 0 ? ksl__pool_wait(pool, &tag, &o) : -1;
    if (w == -2)
        return -2;
    if (w != 0)
        return 0;
    if (ksl__outcome_reproduces(&o, found)) {
        *got = o;
        return 1;
    }
    ksl__outcome_free(&o);
    return 0;
}

/* A replay that fired: keep it when it is no longer than the best so far (a change that moves
 * the finding later is not a shrink), and say so. */
static bool accept(ksl__outcome *got, ksl__outcome *best, uint64_t *steps)
{
    if (got->steps > *steps) {
        ksl__outcome_free(got);
        return false;
    }
    *steps = got->steps;
    ksl__outcome_free(best);
    *best = *got;
    return true;
}

int ksl__shrink(ksl__pool *pool, const ksl__request *base, uint32_t *c, size_t *n, const ksl__outcome *found,
                ksl__outcome *best, ksl_shrink_info *st)
{
    uint64_t steps = found->steps;
    memset(best, 0, sizeof *best);
    st->steps_before = steps;
    st->preemptions_before = nonzero(c, *n);
    st->replays = 0;
    uint32_t *trial = malloc((*n ? *n : 1) * sizeof *trial);
    int rc = 0;
    if (!trial)
        goto out;
#define BUDGET_LEFT() (st->replays < KSL__SHRINK_MAX_REPLAYS && rc == 0)
    /* Cut the tail: the shortest prefix found by halving that still fires. */
    for (size_t len = *n / 2; len > 0 && BUDGET_LEFT(); len /= 2) {
        ksl__outcome got;
        st->replays++;
        int f = still_fires(pool, base, c, len, found, &got);
        if (f == -2)
            rc = -2;
        if (f != 1 || !accept(&got, best, &steps))
            break;
        *n = len;
    }
    /* Zero runs of choices, large runs first. */
    for (size_t chunk = *n / 2 ? *n / 2 : 1; chunk >= 1 && BUDGET_LEFT(); chunk /= 2) {
        for (size_t at = 0; at < *n && BUDGET_LEFT(); at += chunk) {
            size_t end = at + chunk < *n ? at + chunk : *n;
            bool any = false;
            for (size_t i = at; i < end; i++)
                any |= c[i] != 0;
            if (!any)
                continue;
            memcpy(trial, c, *n * sizeof *c);
            memset(trial + at, 0, (end - at) * sizeof *trial);
            ksl__outcome got;
            st->replays++;
            int f = still_fires(pool, base, trial, *n, found, &got);
            if (f == -2)
                rc = -2;
            if (f == 1 && accept(&got, best, &steps))
                memcpy(c, trial, *n * sizeof *c);
        }
        if (chunk == 1)
            break;
    }
#undef BUDGET_LEFT
    while (*n > 0 && c[*n - 1] == 0)
        (*n)--; /* trailing zeros are what the replay does past the end anyway */
    free(trial);
out:
    st->steps_after = steps;
    st->preemptions_after = nonzero(c, *n);
    return rc;
}
