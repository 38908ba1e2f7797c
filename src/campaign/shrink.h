/* SPDX-License-Identifier: MIT */
/*
 * Shrinking a finding's schedule: its choice list is replayed (strategy replay: past the end of
 * the list, or where a choice no longer fits, the first option) with its tail cut by halves, then
 * with runs of choices set to 0 (the first option at that point: fewer preemptions), large runs
 * first, keeping each change under which every rule the execution broke still fires (one
 * schedule, one token, for all the findings of the execution).  The budget is counted in
 * replays, not in wall time, so the same finding shrinks the same way on any machine.  Host code.
 */
#ifndef KSLAB_CAMPAIGN_SHRINK_H
#define KSLAB_CAMPAIGN_SHRINK_H

#include <kslab/result.h>

#include "exec.h"
#include "worker.h"

#define KSL__SHRINK_MAX_REPLAYS 400u

/*
 * Shrink the choice list (c, *n) of request `base` (its scenario or job, its config) in place
 * for the rules of `found` (the execution's outcome: its findings and length), replaying on
 * `pool`.  *best receives the
 * outcome of the final list when a replay was kept (rc 1), else stays zeroed; *info says what
 * changed.  Returns -2 when interrupted (the list is then as far as it got), else 0.
 */
int ksl__shrink(ksl__pool *pool, const ksl__request *base, uint32_t *c, size_t *n, const ksl__outcome *found,
                ksl__outcome *best, ksl_shrink_info *info);

#endif
