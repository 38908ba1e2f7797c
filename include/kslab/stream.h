/* SPDX-License-Identifier: MIT */
/*
 * The stream class driver's client side: what KS and a capture/render application do to a
 * stream class adapter, as calls a test or the command line makes from client threads.
 *
 * Build an adapter from a minidriver's registration function and its device resources (host
 * code, before the run).  Then, from PASSIVE_LEVEL client threads of the run: start it
 * (SRB_INITIALIZE_DEVICE, SRB_GET_STREAM_INFO, SRB_INITIALIZATION_COMPLETE), open streams
 * (SRB_OPEN_STREAM), allocate and submit read/write data SRBs with buffers, cancel any SRB at any
 * time from any thread, set and get the stream state (control SRBs), wait for SRBs, close
 * streams (SRB_CLOSE_STREAM), stop (SRB_UNINITIALIZE_DEVICE).
 *
 * The class keeps the state of every SRB (idle, queued, with the minidriver, completed) and
 * checks every notification against it: protocol errors are findings with ids "S1." ... "S7."
 * (`kslab rules`).
 */
#ifndef KSLAB_STREAM_H
#define KSLAB_STREAM_H

#include <kslab/wdk/strmini.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ksl_stream_adapter ksl_stream_adapter;
typedef struct ksl_stream_pin ksl_stream_pin;

/* The minidriver's DriverEntry-like registration function: fills HW_INITIALIZATION_DATA and
 * returns StreamClassRegisterMinidriver(Argument1, Argument2, &init). */
typedef NTSTATUS ksl_stream_driver_entry(PVOID Argument1, PVOID Argument2);

/* The device resources the adapter gets (PORT_CONFIGURATION_INFORMATION). */
typedef struct ksl_stream_resources {
    uintptr_t port_base;   /* 0 with port_size 0: no access range (a filter with no hardware) */
    uint32_t port_size;
    bool has_interrupt;    /* an interrupt resource: line + DIRQL */
    uint32_t irq_line;
    uint8_t irql;          /* a device IRQL, 3..26 */
    /* The next-lower device (a bus-type minidriver's, S7c), e.g. a ksl_lowerbus *; NULL: none.
     * SRB_INITIALIZE_DEVICE's ConfigInfo->PhysicalDeviceObject is then a device object for it
     * whose DeviceExtension is this pointer (see <kslab/wdk/strmini.h>).  The caller keeps it
     * alive until ksl_stream_destroy. */
    void *lower_device;
} ksl_stream_resources;

typedef struct ksl_stream_options {
    uint32_t srb_timeout_s;     /* TimeoutOriginal of every SRB the class sends; 0: none.  Default 15 */
    uint32_t close_wait_us;     /* how long close waits for cancelled SRBs to complete; default 100000 */
    /* Time at raised IRQL, per routine run, in virtual time.  0: the default; KSL_STRM_BUDGET_OFF:
     * no check. */
    uint32_t dirql_budget_us;   /* any routine at the DIRQL (S1.dirql-over-budget); default 20 */
    uint32_t dispatch_budget_us; /* any routine at DISPATCH_LEVEL (S6.dispatch-over-budget); default 1000 */
    uint32_t dispatch_callback_budget_us; /* a Dispatch priority routine (S3.dispatch-callback-over-budget);
                                           * default 1000 (S3: "about 0.5-1 ms") */
    /* S7a, synchronization on: a request entry point (HwReceivePacket, ReceiveDataPacket,
     * ReceiveControlPacket) that runs longer than long_request_us is long; once at least
     * long_request_window requests ran, more than long_request_pct % long is
     * S7.sync-on-long-requests.  Defaults 1000 us, 20 %, 10 requests. */
    uint32_t long_request_us;
    uint32_t long_request_pct;
    uint32_t long_request_window;
} ksl_stream_options;
#define KSL_STRM_BUDGET_OFF UINT32_MAX

/* Per-entry-point accounting, in virtual time (for the S1/S2/S6/S7a budgets). */
enum ksl_stream_entry {
    KSL_STRM_E_DEVICE = 0,   /* HwReceivePacket */
    KSL_STRM_E_DATA,         /* ReceiveDataPacket */
    KSL_STRM_E_CONTROL,      /* ReceiveControlPacket */
    KSL_STRM_E_CANCEL,       /* HwCancelPacket */
    KSL_STRM_E_TIMEOUT,      /* HwRequestTimeoutHandler */
    KSL_STRM_E_ISR,          /* HwInterrupt */
    KSL_STRM_E_TIMER,        /* a StreamClassScheduleTimer routine */
    KSL_STRM_E_HIGH,         /* a High / LowToHigh priority routine */
    KSL_STRM_E_DISPATCH,     /* a Dispatch priority routine */
    KSL_STRM_E_LOW,          /* a Low priority routine */
    KSL_STRM_E_COUNT
};

typedef struct ksl_stream_entry_stats {
    uint64_t calls;
    uint64_t total_ns;
    uint64_t max_ns;
    uint8_t max_irql;        /* highest IRQL it was called at */
} ksl_stream_entry_stats;

typedef struct ksl_stream_stats {
    uint64_t srbs_submitted;     /* by the client (data and control) */
    uint64_t srbs_completed;     /* completed by the minidriver (any status) */
    uint64_t srbs_cancelled;     /* cancelled by the class before the minidriver saw them */
    uint64_t srbs_aborted;       /* by StreamClassAbortOutstandingRequests */
    uint64_t cancel_calls;       /* HwCancelPacket */
    uint64_t timeouts;           /* HwRequestTimeoutHandler */
    uint64_t ready_for_next;     /* ReadyForNext... notifications */
    uint64_t max_outstanding;    /* most SRBs the minidriver held at once */
    ksl_stream_entry_stats entry[KSL_STRM_E_COUNT];
} ksl_stream_stats;

/* Name of an entry point ("HwReceivePacket", ...).  Any context. */
const char *ksl_stream_entry_name(int entry);

/*
 * Build an adapter: call `entry` (its StreamClassRegisterMinidriver registers the minidriver),
 * check the registration, keep the resources.  `opt` may be NULL (defaults).  NULL with `err`
 * filled on a bad registration or resources.  Host code, before the run.
 */
ksl_stream_adapter *ksl_stream_create(ksl_engine *e, ksl_stream_driver_entry *entry, const ksl_stream_resources *res,
                                      const ksl_stream_options *opt, char *err, size_t errlen);
/* Free the adapter and everything left of it (after the run).  Host code. */
void ksl_stream_destroy(ksl_stream_adapter *a);
/*
 * Class events a test client can aim at (aimed cancellation): an SRB is about to go to a
 * receive-packet routine; a Low priority routine has just been asked for.  The hook runs on the context
 * of the event at PASSIVE_LEVEL or DISPATCH_LEVEL (never at DIRQL: a receive reached from an
 * interrupt is not reported), inside the class: it may only signal (KeSetEvent with Wait FALSE).
 * One per adapter; NULL removes it.  Host code, before the run.
 */
typedef enum ksl_stream_event { KSL_STRM_EV_RECEIVE = 1, KSL_STRM_EV_LOW } ksl_stream_event;
typedef void ksl_stream_event_fn(void *user, ksl_stream_event ev);
void ksl_stream_set_event_hook(ksl_stream_adapter *a, ksl_stream_event_fn *fn, void *user);
/* Counters.  Host code, or a client thread. */
void ksl_stream_get_stats(const ksl_stream_adapter *a, ksl_stream_stats *out);
/* The registration as the minidriver gave it.  Any context. */
const HW_INITIALIZATION_DATA *ksl_stream_init_data(const ksl_stream_adapter *a);
/* The minidriver's device extension (NULL before start).  Any context. */
PVOID ksl_stream_device_extension(const ksl_stream_adapter *a);
/* The stream descriptor SRB_GET_STREAM_INFO returned (NULL before start).  Any context. */
const HW_STREAM_DESCRIPTOR *ksl_stream_descriptor(const ksl_stream_adapter *a);

/*
 * Start: allocate the device extension, connect the interrupt (HwInterrupt and an interrupt
 * resource), send SRB_INITIALIZE_DEVICE, SRB_GET_STREAM_INFO, SRB_INITIALIZATION_COMPLETE
 * (and SRB_OPEN_DEVICE_INSTANCE when FilterInstanceExtensionSize is non-zero).  Returns the
 * first failing status.  PASSIVE_LEVEL.
 */
NTSTATUS ksl_stream_start(ksl_stream_adapter *a);
/* Stop: every stream must be closed.  SRB_UNINITIALIZE_DEVICE, then cancel the timers, wait for
 * pending priority routines, disconnect the interrupt.  PASSIVE_LEVEL. */
NTSTATUS ksl_stream_stop(ksl_stream_adapter *a);

/*
 * Open stream `stream_number` with `format` (NULL: none; otherwise it must match one of the
 * stream's StreamFormatsArray entries by major format, subformat and specifier, else
 * STATUS_NO_MATCH): allocate the stream object (PerStreamExtensionSize), send SRB_OPEN_STREAM.
 * STATUS_INVALID_PARAMETER for an unknown stream, STATUS_TOO_MANY_OPENED_FILES past
 * NumberOfPossibleInstances.  PASSIVE_LEVEL.
 */
NTSTATUS ksl_stream_open(ksl_stream_adapter *a, ULONG stream_number, PKSDATAFORMAT format, ksl_stream_pin **out);
#define STATUS_TOO_MANY_OPENED_FILES ((NTSTATUS)0xC000011F)
/*
 * Close: cancel every SRB of the stream still outstanding (queued ones complete with
 * STATUS_CANCELLED, the minidriver's get HwCancelPacket), wait up to close_wait_us for them
 * (one still not completed is S1.srb-not-completed-at-close), then SRB_CLOSE_STREAM.  The
 * stream's SRBs must not be used after.  PASSIVE_LEVEL.
 */
NTSTATUS ksl_stream_close(ksl_stream_pin *pin);
/* The stream object the class allocated.  Any context. */
PHW_STREAM_OBJECT ksl_stream_object(const ksl_stream_pin *pin);

/* SRB_SET_STREAM_STATE / SRB_GET_STREAM_STATE as control SRBs; wait for completion and return
 * the SRB's status.  PASSIVE_LEVEL. */
NTSTATUS ksl_stream_set_state(ksl_stream_pin *pin, KSSTATE state);
NTSTATUS ksl_stream_get_state(ksl_stream_pin *pin, KSSTATE *state);

/*
 * A stream SRB: `command` is SRB_READ_DATA or SRB_WRITE_DATA (with a `bytes`-long buffer in one
 * KSSTREAM_HEADER: CommandData.DataBufferArray, NumberOfBuffers 1, NumberOfBytesToTransfer =
 * bytes) or a control command (bytes 0).  Its TimeoutOriginal/TimeoutCounter come from the
 * options; the caller may change them before submitting.  NULL on no memory.  PASSIVE_LEVEL.
 */
PHW_STREAM_REQUEST_BLOCK ksl_stream_srb_alloc(ksl_stream_pin *pin, SRB_COMMAND command, uint32_t bytes);
/* The data buffer of a data SRB (NULL otherwise).  Any IRQL; not a scheduling point. */
uint8_t *ksl_stream_srb_data(PHW_STREAM_REQUEST_BLOCK srb);
/* Free an SRB that completed or was never submitted.  PASSIVE_LEVEL. */
void ksl_stream_srb_free(PHW_STREAM_REQUEST_BLOCK srb);
/*
 * Submit.  With synchronization on it queues (data or control queue of its stream) and goes
 * down when the queue is ready; with it off it is called down at once, in this thread.  Returns
 * STATUS_PENDING (the SRB completes later: wait for it), or an error (not queued).  An SRB is
 * submitted once.  PASSIVE_LEVEL.
 */
NTSTATUS ksl_stream_srb_submit(PHW_STREAM_REQUEST_BLOCK srb);
/* Wait until the SRB has completed; returns its Status.  PASSIVE_LEVEL. */
NTSTATUS ksl_stream_srb_wait(PHW_STREAM_REQUEST_BLOCK srb);
/* The same for at most timeout_100ns (> 0) of virtual time; STATUS_TIMEOUT if not done.
 * PASSIVE_LEVEL. */
NTSTATUS ksl_stream_srb_wait_for(PHW_STREAM_REQUEST_BLOCK srb, int64_t timeout_100ns);
/* True once the SRB has completed and its waiters are released.  Any IRQL; not a scheduling point. */
bool ksl_stream_srb_done(PHW_STREAM_REQUEST_BLOCK srb);
/*
 * Cancel (the IRP's cancellation): a queued SRB completes with STATUS_CANCELLED at once; one the
 * minidriver holds gets HwCancelPacket (once), at the entry points' level with synchronization
 * on, at DISPATCH_LEVEL with it off.  false if the SRB had already completed or was cancelled.
 * IRQL <= DISPATCH_LEVEL.
 */
bool ksl_stream_srb_cancel(PHW_STREAM_REQUEST_BLOCK srb);

#ifdef __cplusplus
}
#endif
#endif
