/* SPDX-License-Identifier: MIT */
/*
 * What every kind of run shares (stress.c, job_api.c): checking the common options, resolving
 * the driver (a built-in one here, a plugin through a worker's probe), the replay token of an
 * execution, and one request in a fresh worker with the trace file and the input.  Host code.
 */
#ifndef KSLAB_CAMPAIGN_RUN_H
#define KSLAB_CAMPAIGN_RUN_H

#include <kslab/campaign.h>
#include <kslab/token.h>

#include "drivers.h"
#include "exec.h"
#include "registry_file.h"

typedef struct ksl__run {
    ksl_result *r;
    const ksl_run_opts *o;
    const char *driver_arg;   /* NULL: no driver (the demonstrations) */
    ksl__drv_kind want;       /* the kind the run needs (NONE: any) */
    ksl__driver drv;          /* what the driver is */
    uint64_t device_hash;     /* a device plugin's file */
    double timeout_s;         /* per request */
    double step_cpu_s;        /* the CPU-time budget between scheduling points (ksl_run_opts) */
    ksl__reg_seed registry;   /* ksl_run_opts.registry, read (the workers seed every bring-up with it) */
} ksl__run;

#define KSL__DEFAULT_TIMEOUT_S 20.0
/* How much slower a sanitizer build runs (budgets of CPU time scale by it). */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define KSL__SANITIZER_SLOWDOWN 4.0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define KSL__SANITIZER_SLOWDOWN 4.0
#endif
#endif
#ifndef KSL__SANITIZER_SLOWDOWN
#define KSL__SANITIZER_SLOWDOWN 1.0
#endif

/*
 * Check the options every run takes, then resolve `driver_arg` (NULL: none): a built-in name
 * directly, a plugin by a probe in a worker, its file hashed.  A driver of another kind than
 * `want` (NONE: any) is refused with a message naming `command`s for it.  0, or -1 with the
 * result's verdict ERROR (or INTERRUPTED).
 */
int ksl__run_begin(ksl__run *run, ksl_result *r, const ksl_run_opts *o, const char *driver_arg, ksl__drv_kind want);
/* Free what ksl__run_begin kept (after it failed too, and on a zeroed run). */
void ksl__run_end(ksl__run *run);
/* The token of one execution: scenario "wavepci/NAME"..., or "job/KIND" with `job`; the
 * schedule is cfg's seed and strategy, or `choices` (strategy replay) when `replay`.  NULL when
 * out of memory. */
char *ksl__run_token(const ksl__run *run, const char *scenario, const ksl_job *job, const ksl_config *cfg,
                     bool replay, const uint32_t *choices, size_t nchoices, uint64_t input_hash);
/*
 * Run `rq` once in a fresh worker, with `input` for KSL__RQ_INPUT and, when `trace` and the
 * options name a trace file, the trace written to it atomically (kept only when the execution
 * ends clean or with a finding that let the run finish).  0 with *out (free it); -1 with the
 * result's error set; -2 interrupted (the result says so).
 */
int ksl__run_once(ksl__run *run, const ksl__request *rq, const ksl_pcm *input, bool trace, ksl__outcome *out);
/* The hash of a PCM signal's shape and samples (what tokens carry for an input file). */
uint64_t ksl__pcm_hash(const ksl_pcm *pcm);
/* The result becomes INTERRUPTED by the signal ksl_stop() got. */
void ksl__run_interrupted(ksl__run *run);

#endif
