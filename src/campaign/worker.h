/* SPDX-License-Identifier: MIT */
/*
 * Worker processes: every driver load and every execution happens in a forked child, so a driver
 * that crashes, calls exit(), loops, or prints cannot hurt kslab or the program that called it.
 *
 * A worker loads the driver (dlopen for a plugin) on its first request, then answers requests
 * (exec.h) one at a time over a pipe.  Its stdout and stderr go to another pipe the parent reads
 * while it waits, keeping per request a bounded head and tail of what the driver printed.  The
 * parent turns a worker's end into the outcome of the request it was running:
 *
 *   - a fatal signal (SIGSEGV, SIGABRT, ...): K.driver-crash, with the signal and the context
 *     that was running (the worker's handler reports it on an alternate stack before it dies);
 *   - exit() or _exit(): K.driver-exit, with the status and, when exit() ran its handlers, the
 *     context that called it;
 *   - no answer within the timeout: the worker is killed, K.hang.
 *
 * For a probe (loading the driver) the same ends are load errors, reported as rc 2 with a
 * message naming the plugin.  A dead worker is replaced at the next submit.  Workers ignore
 * SIGINT and SIGTERM (the parent stops them) and die with the parent (PR_SET_PDEATHSIG).
 * Host code, single-threaded parent.
 */
#ifndef KSLAB_CAMPAIGN_WORKER_H
#define KSLAB_CAMPAIGN_WORKER_H

#include "../portcls/registry_seed.h"
#include "exec.h"

typedef struct ksl__pool ksl__pool;

typedef struct ksl__pool_cfg {
    const char *driver;      /* the --driver argument (built-in name or plugin path); NULL: none */
    const char *device;      /* the --device plugin's path, or NULL: the built-in model the driver names */
    ksl__drv_kind want;      /* the kind of driver the run needs (NONE: any): a plugin of another
                              * kind is refused when it is loaded */
    const ksl_pcm *input;    /* what KSL__RQ_INPUT plays (the workers inherit it) */
    const ksl__reg_seed *registry; /* what every adapter bring-up's registry starts with (inherited) */
    int trace_fd;            /* what KSL__RQ_TRACE writes to (inherited); -1: none */
    unsigned jobs;           /* workers, 1..KSL_MAX_JOBS */
    double timeout_s;        /* wall time a request may take */
    double step_cpu_s;       /* CPU time a deterministic execution may spend between two
                              * scheduling points (the worker's watchdog); 0: unwatched */
} ksl__pool_cfg;

/* Start the workers.  NULL with a message when fork or pipe fails. */
ksl__pool *ksl__pool_create(const ksl__pool_cfg *cfg, char *err, size_t errlen);
/* Kill every worker and wait for it.  NULL-safe. */
void ksl__pool_destroy(ksl__pool *p);
/* A worker is free for a request. */
bool ksl__pool_idle(const ksl__pool *p);
/* Hand `rq` to a free worker (starting a new one for a dead one); `tag` comes back with its
 * outcome.  0, or -1 (no free worker, or it could not be started or reached). */
int ksl__pool_submit(ksl__pool *p, const ksl__request *rq, uint64_t tag);
/* Wait for the next outcome: 0 with *out filled (free it with ksl__outcome_free); -1 when
 * nothing is in flight; -2 when ksl_stop() was called (the requests in flight are lost). */
int ksl__pool_wait(ksl__pool *p, uint64_t *tag, ksl__outcome *out);

/* Bytes of a driver's output kept per request: the first and the last this many. */
#define KSL__OUTPUT_KEEP 4096u

#endif
