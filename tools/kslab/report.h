/* SPDX-License-Identifier: MIT */
/*
 * The files a finding is reported in: its run as Chrome Trace Event JSON (recorder.h) and the
 * result as SARIF (sarif.h).  Both come from one more deterministic run of the finding's
 * schedule, recorded as it goes.  Host code.
 */
#ifndef KSLAB_TOOLS_REPORT_H
#define KSLAB_TOOLS_REPORT_H

#include "drivers.h"
#include "wp_scenarios.h"

/*
 * Run scenario `sc` of drv's scenario set (workers.h) once under `cfg` with a recorder, writing the trace to `trace_path` and the SARIF to
 * `sarif_path` (either may be NULL); `out` receives the outcome.  Meant to run in a worker
 * process (a crashing driver takes the half-written files with it).
 */
void report_run(uint32_t sc, const driver_ref *drv, const ksl_config *cfg, const char *token, const char *trace_path,
                const char *sarif_path, wp_outcome *out);
/*
 * After `kslab stress`: write the trace and SARIF of the finding `found` in scenario `sc` (replaying `token` in a
 * worker process), or a SARIF with no result when `found` is NULL.  A crash or hang finding has
 * no trace; its SARIF carries the finding without a thread flow.  Errors go to stderr.
 */
void report_files(uint32_t sc, const driver_ref *drv, const char *token, const char *trace_path,
                  const char *sarif_path, double timeout_s, const wp_outcome *found);

#endif
