/* SPDX-License-Identifier: MIT */
/*
 * Executions in worker processes: a driver that crashes (SIGSEGV, abort, ...) or hangs without
 * ever reaching a scheduling point takes down a worker, never kslab.  Each worker is a forked
 * child that runs one execution at a time on request and sends the outcome back over a pipe;
 * a crash becomes the finding K.driver-crash (with the signal and the context that was running),
 * a worker silent for longer than the timeout is killed and the execution becomes K.hang.  A
 * dead worker is replaced.  Host code, single-threaded parent.
 */
#ifndef KSLAB_TOOLS_WORKERS_H
#define KSLAB_TOOLS_WORKERS_H

#include "drivers.h"
#include "stream_scenarios.h"
#include "wp_scenarios.h"

typedef struct wpool wpool;

/*
 * The scenario set of a kind of driver: the WavePci scenarios (wp_scenarios.h) for a WavePci
 * driver, the stream class ones (stream_scenarios.h) for a stream class minidriver.  Scenarios
 * are named by their index in the set.
 */
size_t exec_nscenarios(driver_kind kind);
const char *exec_scenario_name(driver_kind kind, size_t i);
/* Index of the scenario `name` of the set, or -1. */
long exec_scenario_index(driver_kind kind, const char *name);
/* One execution of scenario `scenario` of drv's set: wp_execute or st_execute. */
void exec_run(const driver_ref *drv, uint32_t scenario, const ksl_config *cfg, bool keep_choices,
              ksl_trace_fn *trace_fn, void *trace_user, wp_outcome *out);

/*
 * Start `jobs` workers for `drv` (loaded in this process before: children inherit it; its kind picks
 * the scenario set).  Every
 * execution uses `base` with the request's seed (and choices, for a replay).  `timeout_s` of
 * wall time per execution before it counts as a hang.  NULL when fork fails.
 */
wpool *wpool_create(unsigned jobs, const driver_ref *drv, const ksl_config *base, double timeout_s);
/* Stop every worker. */
void wpool_destroy(wpool *p);
/* True when a worker is free for wpool_submit. */
bool wpool_idle(const wpool *p);
/* Workers busy with an execution. */
unsigned wpool_busy(const wpool *p);
/*
 * Hand an execution to a free worker: scenario index, seed, optional choice list (replay), and
 * whether the outcome should carry the choice list.  `tag` comes back with the outcome.
 * 0, or -1 when no worker is free or the worker could not be reached.
 */
int wpool_submit(wpool *p, uint32_t scenario, uint64_t seed, const uint32_t *choices, size_t nchoices,
                 bool keep_choices, uint64_t tag);
/* The same, with PCT's run-length estimate for this execution (0: the pool's) and, with `random`,
 * the random strategy whatever the pool's is (to measure a scenario's length). */
int wpool_submit_ex(wpool *p, uint32_t scenario, uint64_t seed, const uint32_t *choices, size_t nchoices,
                    bool keep_choices, uint64_t pct_steps, bool random, uint64_t tag);
/* Wait for the next outcome (blocking); 0, or -1 when nothing is in flight. */
int wpool_wait(wpool *p, uint64_t *tag, wp_outcome *out);

/*
 * Run `body` once in a fresh child process with the same isolation (for a replay, which may also
 * write its trace and SARIF files from the child): `body` fills the outcome there, and it comes
 * back in `out`; a crash or a hang becomes K.driver-crash or K.hang.
 */
void wp_run_isolated(double timeout_s, void (*body)(void *arg, wp_outcome *out), void *arg, wp_outcome *out);

#endif
