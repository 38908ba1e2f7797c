/* SPDX-License-Identifier: MIT */
/*
 * What the client side of every job (audio_job.c, stream_job.c) shares, in the engine's client
 * threads at PASSIVE_LEVEL: a canceller thread that cancels the items (IRPs, SRBs) picked for
 * cancellation each at a seeded moment after it was handed over, a churner thread that pauses
 * the pin for 1 ms every period, a lock that serializes the pin's state changes between the
 * threads (a synchronization event: a fast mutex would raise to APC_LEVEL), and the quit signal
 * that ends them.  Kernel calls, so scheduling points: the deterministic engine explores them.
 */
#ifndef KSLAB_CAMPAIGN_JOB_CLIENT_H
#define KSLAB_CAMPAIGN_JOB_CLIENT_H

#include <stdatomic.h>

#include <kslab/wdk/wdm.h>
#include <kslab/wdk/ks.h>

#define KSL__CLIENT_QUEUE 256u /* items picked and not yet cancelled, at most */
#define KSL__AIM_EACH 0xFFu
#define KSL__ITEM_MASK 0xFFFFFFu /* a queue entry: item | aim << 24 (0: the client's `aim`) */

enum { KSL__WALK_ACQUIRE = 1, KSL__WALK_STOP = 2 };

typedef struct ksl__job_client {
    /* Set by the job before ksl__client_init. */
    uint64_t seed;
    uint32_t cancel_window_us;  /* a picked item is cancelled up to this long after it is queued */
    uint32_t pause_every_ms;    /* 0: no churner */
    const char *churner_name;   /* its thread's name */
    bool gated;                 /* the churner waits for ksl__client_started, and says when it is done */
    uint8_t walk;               /* the churner walks RUN->PAUSE->ACQUIRE->PAUSE->RUN (KSL__WALK_ACQUIRE)
                                 * or RUN->PAUSE->ACQUIRE->STOP->ACQUIRE->PAUSE->RUN (KSL__WALK_STOP),
                                 * not RUN->PAUSE->RUN (0) */
    void (*set_power)(void *job, bool on); /* non-NULL: the churner powers the device down for its
                                            * pause instead (holding the state lock throughout) */
    uint32_t aim;               /* 0: cancel at seeded moments; else at the next port event (ksl__client_event)
                                 * of kind `aim`, or with KSL__AIM_EACH kinds 1..3 in turn */
    void *job;
    void (*cancel)(void *job, uint32_t item);        /* cancel item `item` (IoCancelIrp, ...) */
    void (*set_state)(void *job, KSSTATE state);     /* change the pin's state; the lock is held */
    /* The client's. */
    KEVENT cancel_wake;
    KSPIN_LOCK cancel_lock;
    uint32_t queue[KSL__CLIENT_QUEUE]; /* item | aim << 24 */
    KEVENT aim_ev;              /* the aimed event happened */
    KEVENT armed_ev;            /* the canceller is armed for a ksl__client_pick_aimed */
    atomic_uint armed;          /* the event kind the canceller waits for (0: none) */
    uint32_t head, tail;
    atomic_bool quit;           /* read by the canceller while the client sets it */
    KEVENT quit_ev;             /* set with quit: the churner stops at once, not after its period */
    KEVENT started, churner_done;
    KEVENT state_mu;
} ksl__job_client;

/* Initialize the objects (host code, before the run). */
void ksl__client_init(ksl__job_client *c);
/* Create the canceller and (pause_every_ms) the churner threads (host code, before the run). */
void ksl__client_threads(ksl__job_client *c, ksl_engine *e);
/* Hand item `item` (below 2^24) to the canceller, to cancel at a seeded moment or at the
 * client's aimed event.  PASSIVE_LEVEL. */
void ksl__client_pick(ksl__job_client *c, uint32_t item);
/* The same, to cancel at the next port event of kind `kind` (1..127).  Returns once the canceller
 * is armed for it, so that the event the caller makes next is the one it meets.  PASSIVE_LEVEL. */
void ksl__client_pick_aimed(ksl__job_client *c, uint32_t item, uint32_t kind);
/* A port event of kind `kind` (1..3) happened: an armed canceller aiming at it goes.  Any IRQL up
 * to DISPATCH_LEVEL. */
void ksl__client_event(ksl__job_client *c, uint32_t kind);
/* Change the pin's state under the lock.  PASSIVE_LEVEL. */
void ksl__client_set_state(ksl__job_client *c, KSSTATE state);
/* Take / drop the state lock (to open or close the pin meanwhile).  PASSIVE_LEVEL. */
void ksl__client_lock(ksl__job_client *c);
void ksl__client_unlock(ksl__job_client *c);
/* The pin runs: a gated churner may start.  PASSIVE_LEVEL. */
void ksl__client_started(ksl__job_client *c);
/* The job is done (or failed): wake the canceller and the churner for good.  PASSIVE_LEVEL. */
void ksl__client_quit(ksl__job_client *c);
/* Wait until a gated churner has stopped.  PASSIVE_LEVEL. */
void ksl__client_wait_churner(ksl__job_client *c);
/* A 64-bit mix of x (splitmix64's finalizer): the seeded moments and data. */
uint64_t ksl__mix(uint64_t x);

#endif
