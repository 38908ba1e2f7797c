/* SPDX-License-Identifier: MIT */
/*
 * A lower "bus" for bus-type stream minidrivers (USB / 1394-like, rule S7c): not registers but a
 * software lower device.  The minidriver submits transfer requests at PASSIVE_LEVEL; the bus
 * completes them later at DISPATCH_LEVEL, from its own DPC, calling each request's completion
 * routine with no lock of the bus held.
 *
 * Data.  A read request of `length` bytes receives one frame (<kslab/hw/frame.h>, magic
 * KSL_LOWERBUS_MAGIC).  Frame numbers are given in submission order (request i since the bus
 * was created gets frame i), so the client checks every byte with ksl_lowerbus_check_frame.
 *
 * Time.  Request i is due latency_ns + j * 100 ns after its submission, j in [0, jitter_ns / 100]
 * derived from (seed, i) alone, rounded up to the 100 ns of the kernel timer, and never before
 * the request submitted before it: the bus completes in order, like one pipe.  A cancelled request
 * completes (with KSL_STATUS_CANCELLED) at once, from the same DPC.
 *
 * Protocol checks (each a finding through ksl_report):
 *  - submit above PASSIVE_LEVEL: K.passive-only-at-raised-irql (through ksl_require_irql);
 *  - a request completed twice (it was submitted again while still pending, so the bus holds it
 *    twice): KSL_LOWERBUS_RULE_COMPLETED_TWICE, found at the second completion;
 *  - a request freed while pending: KSL_LOWERBUS_RULE_FREED_PENDING.
 */
#ifndef KSLAB_HW_LOWERBUS_H
#define KSLAB_HW_LOWERBUS_H

#include <kslab/engine.h>
#include <kslab/hw/frame.h>

#ifdef __cplusplus
extern "C" {
#endif

#define KSL_LOWERBUS_MAGIC 0x5355424Cu /* "LBUS" */
#define KSL_LOWERBUS_POOL_TAG 0x7172424Cu /* 'LBrq' */
#define KSL_LOWERBUS_RULE_COMPLETED_TWICE "S7.bus-request-completed-twice"
#define KSL_LOWERBUS_RULE_FREED_PENDING "S7.bus-request-freed-pending"

#define KSL_LOWERBUS_DEFAULT_LATENCY_NS 125000u /* one USB microframe */
#define KSL_LOWERBUS_DEFAULT_JITTER_NS 50000u
#define KSL_LOWERBUS_DEFAULT_MAX_PENDING 32u
#define KSL_LOWERBUS_TIME_UNIT_NS 100u /* completion times are multiples of this */

typedef struct ksl_lowerbus_config {
    uint64_t seed;
    uint64_t latency_ns;  /* the least time from submission to completion */
    uint64_t jitter_ns;   /* at most this much more, per request, derived from the seed */
    uint32_t max_pending; /* requests the bus holds at once; submit refuses more */
} ksl_lowerbus_config;

/* The defaults above, seed 1.  Any context. */
void ksl_lowerbus_config_default(ksl_lowerbus_config *cfg);

typedef struct ksl_lowerbus ksl_lowerbus;
typedef struct ksl_lowerbus_req ksl_lowerbus_req;

/* A request's completion routine: called once per submission, at DISPATCH_LEVEL in the bus's
 * DPC, with no bus lock held.  It may submit the request again (ksl_lowerbus_submit checks the
 * IRQL: a resubmission from here is a K.passive-only-at-raised-irql finding) or free it. */
typedef void ksl_lowerbus_done_fn(ksl_lowerbus_req *req, void *context);

struct ksl_lowerbus_req {
    /* Set by the client before submission. */
    void *buffer;               /* ksl_lowerbus_req_alloc points it at `capacity` bytes */
    uint32_t length;            /* bytes to read: a multiple of 4 in [KSL_FRAME_MIN_BYTES, capacity] */
    ksl_lowerbus_done_fn *done;
    void *context;
    /* Set by the bus at completion. */
    ksl_status status;          /* KSL_STATUS_SUCCESS or KSL_STATUS_CANCELLED */
    uint32_t transferred;       /* bytes written to buffer */
    uint32_t frame_no;          /* the frame it carries */
    /* The bus's. */
    uint32_t capacity;
    uint32_t magic;
    uint32_t state;             /* idle, pending, done */
    uint32_t gen;               /* submissions so far */
    uint32_t id;                /* its number among the bus's requests, from 1 (for messages) */
};

typedef struct ksl_lowerbus_stats {
    uint64_t submitted;
    uint64_t completed;
    uint64_t cancelled;
    uint64_t refused;           /* submissions refused (queue full, bad length) */
    uint64_t bytes;             /* delivered */
    uint64_t max_latency_ns;    /* submission to completion routine, cancelled requests aside */
    uint64_t min_latency_ns;
} ksl_lowerbus_stats;

/* Create a bus for a run of `e`.  NULL with `err` filled on a bad configuration or no memory.
 * Host code, outside a run. */
ksl_lowerbus *ksl_lowerbus_create(ksl_engine *e, const ksl_lowerbus_config *cfg, char *err, size_t errlen);
/* Free the bus, after the engine's run.  Host code. */
void ksl_lowerbus_destroy(ksl_lowerbus *bus);
/* Counters.  Host code, outside a run. */
void ksl_lowerbus_get_stats(const ksl_lowerbus *bus, ksl_lowerbus_stats *out);
#define KSL_LOWERBUS_SLOW_NS 3000000u
/*
 * Faults the bus can show (<kslab/device.h>'s inject hook), in device context:
 *   "slow-completion"  the next request submitted completes `arg` µs (0: KSL_LOWERBUS_SLOW_NS)
 *                      later than its latency; completions stay in order, so the ones queued
 *                      behind it wait too.
 * false for a fault it does not know.
 */
bool ksl_lowerbus_inject(ksl_lowerbus *bus, const char *fault, uint64_t arg);
/* Requests submitted and not yet completed.  Host code, outside a run. */
uint32_t ksl_lowerbus_pending(const ksl_lowerbus *bus);

/* A request with a buffer of `capacity` bytes, from nonpaged pool (tag KSL_LOWERBUS_POOL_TAG);
 * length = capacity.  NULL when the pool fails.  IRQL <= DISPATCH_LEVEL, in a run. */
ksl_lowerbus_req *ksl_lowerbus_req_alloc_at(ksl_lowerbus *bus, uint32_t capacity, const char *file, int line);
#define ksl_lowerbus_req_alloc(bus, capacity) ksl_lowerbus_req_alloc_at((bus), (capacity), __FILE__, __LINE__)
/* Free a request; freeing one still pending is KSL_LOWERBUS_RULE_FREED_PENDING.  IRQL <=
 * DISPATCH_LEVEL (e.g. from its completion routine). */
void ksl_lowerbus_req_free_at(ksl_lowerbus *bus, ksl_lowerbus_req *req, const char *file, int line);
#define ksl_lowerbus_req_free(bus, req) ksl_lowerbus_req_free_at((bus), (req), __FILE__, __LINE__)

/*
 * Submit a request: KSL_STATUS_PENDING (the completion routine will run), or, without a
 * completion, KSL_STATUS_INSUFFICIENT_RESOURCES (max_pending held) or KSL_STATUS_INVALID_PARAMETER
 * (bad length or no completion routine).  PASSIVE_LEVEL only.
 */
ksl_status ksl_lowerbus_submit_at(ksl_lowerbus *bus, ksl_lowerbus_req *req, const char *file, int line);
#define ksl_lowerbus_submit(bus, req) ksl_lowerbus_submit_at((bus), (req), __FILE__, __LINE__)
/* Cancel a pending request: it completes with KSL_STATUS_CANCELLED from the bus's DPC.  false
 * when it is not pending.  IRQL <= DISPATCH_LEVEL. */
bool ksl_lowerbus_cancel_at(ksl_lowerbus *bus, ksl_lowerbus_req *req, const char *file, int line);
#define ksl_lowerbus_cancel(bus, req) ksl_lowerbus_cancel_at((bus), (req), __FILE__, __LINE__)

/* Check one frame a request delivered (see ksl_frame_check).  Any context. */
static inline ksl_frame_result ksl_lowerbus_check_frame(const void *buf, size_t len, uint32_t *frame_no)
{
    return ksl_frame_check(KSL_LOWERBUS_MAGIC, buf, len, frame_no);
}

#ifdef __cplusplus
}
#endif
#endif
