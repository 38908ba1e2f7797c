/* SPDX-License-Identifier: MIT */
/*
 * The worker's CPU-time watchdog: a driver loop that never calls the kernel passes no scheduling
 * point, so the deterministic engine never regains control.  A thread of the worker process
 * samples the engine's progress (ksl_engine_watch) and the CPU time of the thread that runs it;
 * when a run is under way and the point count stays still while that thread spends more than the
 * budget, the watchdog reports the context and its last call site and the process ends (K.hang,
 * without waiting for the wall-clock timeout).  Worker processes only.
 */
#ifndef KSLAB_CAMPAIGN_WATCHDOG_H
#define KSLAB_CAMPAIGN_WATCHDOG_H

/* Called on the watchdog's thread with the context that spins ("DPC 'service group'"), the call
 * site of its last scheduling point (file NULL: none since it began) and the CPU time spent since.
 * It must end the process. */
typedef void ksl__hang_fn(const char *context, const char *file, int line, double cpu_s);

/* Watch the engine runs of the calling thread with `budget_s` of CPU time between scheduling
 * points.  0, or -1 when the thread cannot be started (the wall-clock timeout still applies). */
int ksl__watchdog_start(double budget_s, ksl__hang_fn *on_hang);

#endif
