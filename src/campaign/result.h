/* SPDX-License-Identifier: MIT */
/* Building a result (<kslab/result.h>) from what the workers report.  Host code. */
#ifndef KSLAB_CAMPAIGN_RESULT_H
#define KSLAB_CAMPAIGN_RESULT_H

#include <kslab/result.h>

#include "drivers.h"
#include "exec.h"

/* A new result for `command`, clean so far; NULL when out of memory. */
ksl_result *ksl__result_new(const char *command);
/* The run could not be made: verdict ERROR with this message (the first error is kept). */
void ksl__result_error(ksl_result *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Something the user should know that did not stop the run (the first one is kept). */
void ksl__result_warn(ksl_result *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Record the driver the run used (`arg` as the user gave it). */
void ksl__result_driver(ksl_result *r, const ksl__driver *d, const char *arg);
/* A new finding from the `which`-th finding of an outcome (rc 1; ksl__outcome_finding): its
 * strings cleaned to UTF-8, the events the outcome recorded for it, the driver's output.  NULL
 * when out of memory.  The verdict becomes FOUND. */
/* Fill f->function (from the DWARF of `plugin_path`, else of libkslab) and f->fingerprint
 * (fingerprint.c). */
void ksl__finding_identify(ksl_result_finding *f, const char *plugin_path);
/* The key keep_going tells executions apart by (stress.c): a hash of the rule, file and line of an
 * execution's first finding as found (before shrinking); never 0. */
uint64_t ksl__finding_origin(const char *rule, const char *file, int line);
ksl_result_finding *ksl__result_add_finding(ksl_result *r, const ksl__outcome *o, size_t which, const char *scenario,
                                            uint64_t seed);
/* Whether finding `i`'s fingerprint is that of a finding before it (ksl__result_drop_findings,
 * src/report/result_own.h, drops the repeat). */
bool ksl__result_seen_fingerprint(const ksl_result *r, size_t i);
/* The events a record run gave (oldest first), as the finding's, when it has none yet. */
void ksl__finding_events(ksl_result_finding *f, const recorder_entry *ev, size_t n);
/* The job's counters, data check, output and driver output of outcome `o` (one job's result). */
void ksl__result_job(ksl_result *r, ksl__outcome *o);
/* A new scenario entry; NULL when out of memory. */
ksl_result_scenario *ksl__result_add_scenario(ksl_result *r, const char *name);
/* strdup that never returns NULL for a non-NULL string but when out of memory, cleaning the text
 * to UTF-8. */
char *ksl__text(const char *s);

#endif
