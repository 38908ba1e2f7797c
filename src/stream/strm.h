/* SPDX-License-Identifier: MIT */
/*
 * The stream class driver's internal objects (src/stream): the adapter (registration, device
 * extension, interrupt, device queue), its streams (stream object, data and control queues),
 * the SRBs the class hands the minidriver, and the priority-routine and timer slots.
 *
 * Locks:
 *   - the serialization lock (synchronization on): the interrupt spin lock the class passes to
 *     IoConnectInterrupt when the adapter has an ISR (entry points run through
 *     KeSynchronizeExecution at the DIRQL), else the class spin lock (entry points run at
 *     DISPATCH_LEVEL holding it).  Both are kernel locks: lock-order analysis sees them.  High
 *     priority routines take the same lock with synchronization off too.
 *   - the bookkeeping mutex `mu` (a host mutex, innermost): every SRB's state, the queues, the
 *     slots, the counters.  Never held across a kernel call or a call into the minidriver (the
 *     deterministic engine switches contexts only at kernel calls), never held while reporting.
 *
 * Layers (each file calls only files above it in this list; checks are hooks the mechanism calls):
 *   objects.c       lookups, names, the serialization lock test, the clock, queueing the class DPC
 *   routines.c      which minidriver routine runs on which context
 *   shared_state.c  S5 / S4 over extension memory
 *   checks.c        budgets, S7a, the register lockset, the hook points
 *   sync.c          calls into the minidriver (synchronized or not)
 *   priority.c, timer.c   StreamClassCallAtNewPriority, StreamClassScheduleTimer, the SRB tick
 *   queue.c         SRBs, queues, completion, cancel, abort, the class DPC
 *   notify.c        StreamClassStreamNotification / DeviceNotification
 *   adapter.c       registration, the class ISR, start and stop
 *   client.c        <kslab/stream.h>: what the job's client threads call
 *
 * Every deferred action the class owes (signalling completed SRBs to their waiters, sending the
 * next request of a queue that became ready, arming a timer or queuing a Low routine asked for
 * at DIRQL) is done by the class DPC, which every notification queues (as stream.sys's DPC).
 */
#ifndef KSLAB_STREAM_STRM_H
#define KSLAB_STREAM_STRM_H

#include <pthread.h>
#include <stdatomic.h>

#include <kslab/stream.h>
#include <kslab/windows.h>

#define STRM_MAGIC_ADAPTER 0x41727453u /* 'StrA' */
#define STRM_MAGIC_STREAM 0x53727453u  /* 'StrS' */
#define STRM_MAGIC_SRB 0x52727453u     /* 'StrR' */
#define STRM_DEVEXT_HDR 64u            /* header in front of the device extension */

/* What the header in front of a device extension starts with. */
typedef struct strm_dxhdr {
    uint32_t magic;
    ksl_stream_adapter *a;
} strm_dxhdr;

/* Where an SRB is, from the class's point of view. */
typedef enum strm_srb_state {
    SRB_ST_IDLE = 0,   /* allocated, not submitted */
    SRB_ST_QUEUED,     /* in a class queue, not yet sent down */
    SRB_ST_MINI,       /* the minidriver owns it */
    SRB_ST_COMPLETING, /* completed (or cancelled/aborted by the class); waiters not yet released */
    SRB_ST_DONE,       /* waiters released: the client may free it */
} strm_srb_state;

typedef enum strm_queue_kind { Q_DEVICE = 0, Q_DATA, Q_CONTROL } strm_queue_kind;

typedef struct strm_stream strm_stream;
typedef struct strm_srb strm_srb;

/* One request queue.  With synchronization on, one request at a time is sent from it. */
typedef struct strm_queue {
    strm_queue_kind kind;
    strm_stream *s;      /* NULL for the device queue */
    LIST_ENTRY pending;  /* SRB_ST_QUEUED, in submission order */
    bool ready;          /* the next request may go down */
    bool grace;          /* one ReadyForNext more is expected (after a cancel, timeout or abort) */
    uint32_t outstanding; /* SRBs from this queue the minidriver holds */
} strm_queue;

struct strm_srb {
    HW_STREAM_REQUEST_BLOCK srb; /* first: the minidriver's pointer is ours */
    uint32_t magic;
    ksl_stream_adapter *a;
    strm_stream *s;              /* NULL for device SRBs */
    strm_queue *q;
    strm_srb_state state;
    bool client_freed;           /* its buffers are freed; the wrapper stays until destroy, so a
                                  * late notification is a finding, not a use after free */
    bool cancel_called;          /* HwCancelPacket was called (once) */
    bool cancelled;              /* completed by the class before the minidriver saw it */
    bool aborted;                /* completed by StreamClassAbortOutstandingRequests */
    uint64_t id;                 /* 1-based, in allocation order */
    const char *done_file;       /* where it was completed first */
    int done_line;
    LIST_ENTRY qlink;            /* queue->pending */
    LIST_ENTRY olink;            /* adapter->outstanding (SRB_ST_MINI) */
    LIST_ENTRY dlink;            /* adapter->completing */
    LIST_ENTRY slink;            /* adapter->all (every SRB, for close, abort and destroy) */
    KEVENT done;
    IRP irp;                     /* Srb->Irp: Cancel is set when cancelled */
    KSSTREAM_HEADER hdr;
    uint8_t *data;
    void *ext;                   /* SRBExtension */
};

/* A StreamClassCallAtNewPriority slot (one per stream, one for the device). */
typedef struct strm_prio {
    KDPC dpc;
    PIO_WORKITEM work;
    bool pending;            /* queued, not started */
    bool need_queue;         /* Low asked for above DISPATCH: the class DPC queues the work item */
    uint32_t running;
    uint32_t running_low;    /* of them, Low routines */
    STREAM_PRIORITY priority;
    PHW_PRIORITY_ROUTINE routine;
    PVOID context;
    const char *file;        /* where the pending one was asked for */
    int line;
} strm_prio;

/* A StreamClassScheduleTimer slot (one per stream, one for the device). */
typedef struct strm_timer {
    KTIMER timer;
    KDPC dpc;
    uint64_t gen;            /* bumped by every schedule and by every firing */
    uint64_t armed_gen;      /* the generation the kernel timer was set for */
    bool need_arm;           /* asked for above DISPATCH: the class DPC sets the kernel timer */
    ULONG us;
    PHW_TIMER_ROUTINE routine;
    PVOID context;
    uint32_t running;
} strm_timer;

struct strm_stream {
    HW_STREAM_OBJECT obj;        /* first */
    uint32_t magic;
    ksl_stream_adapter *a;
    strm_queue data, control;
    strm_prio prio;
    strm_timer timer;
    bool open;                   /* SRB_OPEN_STREAM succeeded, not yet closed */
    bool closing;
    LIST_ENTRY link;             /* adapter->streams (kept until destroy) */
};

/* The checks' state (checks.c). */
#define STRM_CK_DEPTH 8    /* routines nested on one CPU at raised IRQL */
#define STRM_CK_LOW 8      /* Low routines running at once */
#define STRM_CK_REGS 256   /* port offsets the S4 lockset tracks */
typedef struct strm_reg_ck {
    bool isr_wrote;        /* HwInterrupt wrote it */
    bool cb_wrote;         /* a Dispatch / Low routine wrote it without the interrupt lock */
    int cb_entry;
    char cb_ctx[64];
    const char *cb_file;
    int cb_line;
} strm_reg_ck;
/* S5 / S4 (shared_state.c): extension bytes written by an unsynchronized routine (Low; Dispatch
 * with an ISR) and by synchronized code meanwhile. */
#define STRM_SS_SLOTS 8    /* unsynchronized routines running at once (bits of a uint16_t) */
#define STRM_SS_REGIONS 9  /* the device extension and up to 8 stream extensions */
#define STRM_SS_LOCKS 14   /* spin locks with a lockset bit of their own (two bits: overflow, atomic) */
#define STRM_SS_SITES 512  /* distinct writers remembered while routines run */
typedef struct strm_ss_region {
    uint8_t *mem;          /* the extension */
    uint32_t size, cap, stream; /* stream: UINT32_MAX for the device extension */
    uint8_t *shadow;       /* its bytes at the last booking */
    uint8_t *skip;         /* per byte: inside a kernel object (not booked) */
    uint16_t *bits;        /* per byte: bit i, slot i's routine wrote it; bit 8 + i, someone else
                            * wrote it since slot i last synchronized */
    uint16_t *ls;          /* per byte and slot: the locks every writer of each side held */
    uint16_t *mine_site, *other_site; /* per byte: latest writer of each kind (site index + 1) */
} strm_ss_region;
typedef struct strm_ss_site {
    int entry;
    const char *file;
    int line;
    char ctx[64];
} strm_ss_site;
/* Remember a writer (ss_sites.c): its index + 1 in sites[0..*nsites), 0 when the table is full.
 * A site in kslab's own code is replaced by the writer's latest driver line.  The caller
 * serializes (a->mu). */
uint16_t ksl__strm_site_add(strm_ss_site *sites, uint32_t *nsites, int entry, const char *file, int line,
                            const char *who);
typedef struct strm_shared {
    bool enabled;          /* synchronization on, deterministic engine */
    uint32_t active;       /* slots in use: the extensions are watched while > 0 */
    struct {
        int entry;         /* KSL_STRM_E_LOW or KSL_STRM_E_DISPATCH; -1 free */
        int cpu;           /* a Dispatch routine's CPU; -1 for a Low routine */
        char ctx[64];      /* the context it runs on */
    } slot[STRM_SS_SLOTS];
    strm_ss_region regions[STRM_SS_REGIONS];
    uint32_t nregions;
    const ksl_spinlock *locks[STRM_SS_LOCKS];
    uint32_t nlocks;
    strm_ss_site sites[STRM_SS_SITES];
    uint32_t nsites;
} strm_shared;
/* S8 (selfsync.c): with class synchronization off, Eraser's lockset over extension bytes. */
#define STRM_SELF_LOCKS 30 /* locks with a lockset bit (bit 30: any lock past them; 31: atomic) */
#define STRM_SELF_CTX 32   /* writer contexts told apart (past them: one shared index) */
typedef struct strm_self_region {
    uint8_t *mem;          /* the extension */
    uint32_t size, cap, stream; /* stream: UINT32_MAX for the device extension */
    const void *owner_obj; /* the stream object it belongs to (NULL: the device extension) */
    uint8_t *shadow;       /* its bytes at the last booking */
    uint8_t *skip;         /* per byte: inside a kernel object */
    uint8_t *state;        /* per byte: 0 untouched, 1 one writer so far, 2 shared */
    uint8_t *owner;        /* per byte: the latest writer's context index */
    uint32_t *ls;          /* per byte, shared: the locks every writer since held */
    uint16_t *site, *other_site; /* per byte: the latest write, the latest by another context */
} strm_self_region;
typedef struct strm_self {
    bool enabled;          /* synchronization off, deterministic engine */
    strm_self_region regions[STRM_SS_REGIONS];
    uint32_t nregions;
    const void *locks[STRM_SELF_LOCKS];
    uint32_t nlocks;
    char ctx[STRM_SELF_CTX][64];
    uint32_t nctx;
    strm_ss_site sites[STRM_SS_SITES];
    uint32_t nsites;
} strm_self;
typedef struct strm_checks {
    /* Routines running at >= DISPATCH_LEVEL on each CPU (nothing switches a CPU away from them
     * but interrupts, which nest), innermost last. */
    int8_t stack[KSL_MAX_CPUS][STRM_CK_DEPTH];
    uint8_t depth[KSL_MAX_CPUS];
    /* Low routines running (at PASSIVE_LEVEL on worker threads, which may be preempted and
     * migrate): by context name.  Under a->mu. */
    char low_ctx[STRM_CK_LOW][64];
    /* S7a window (under a->mu). */
    uint64_t requests, long_requests;
    bool deferred;         /* a long request over its IRQL budget, judged when the window is full */
    int d_entry;
    uint8_t d_irql;
    uint64_t d_cost_ns, d_request;
    char d_ctx[64];
    bool s7_reported;      /* S7.sync-on-long-requests recorded: the window stops judging */
    _Atomic uint32_t budgets_reported; /* bit per budget rule recorded this run: one finding each,
                                        * wherever in the driver the entry point last called */
    strm_reg_ck *regs;     /* S4, STRM_CK_REGS of them (NULL: no port range) */
    strm_shared ss;        /* S5, S4 over extension memory */
    strm_self self;        /* S8 over extension memory (synchronization off) */
} strm_checks;

struct ksl_stream_adapter {
    uint32_t magic;
    ksl_engine *e;
    HW_INITIALIZATION_DATA init;
    bool registered;
    NTSTATUS register_status;
    ksl_stream_resources res;
    ksl_stream_options opt;
    bool sync;                   /* TurnOffSynchronization == FALSE */
    bool has_isr;                /* HwInterrupt and an interrupt resource */
    bool started;
    bool instance_open;
    PKINTERRUPT intr;
    KSPIN_LOCK intr_lock;        /* the interrupt spin lock (serialization lock with an ISR) */
    KSPIN_LOCK class_lock;       /* the serialization lock without an ISR */
    pthread_mutex_t mu;          /* bookkeeping; see above */
    DEVICE_OBJECT devobj;
    DEVICE_OBJECT lowerobj;      /* the next-lower device (res.lower_device), when there is one */
    uint8_t *dxmem;              /* header + device extension */
    PVOID devext;
    PVOID instext;
    strm_queue devq;
    strm_prio prio;
    strm_timer timer;
    KDPC dpc;                    /* the class DPC */
    uint32_t dpc_running;
    KTIMER tick;                 /* SRB timeouts: one tick per second of virtual time */
    KDPC tick_dpc;
    PORT_CONFIGURATION_INFORMATION cfg;
    ACCESS_RANGE range;
    PHW_STREAM_DESCRIPTOR desc;
    ULONG desc_size;
    uint32_t *instances;         /* open instances per stream number */
    LIST_ENTRY streams;
    LIST_ENTRY outstanding;      /* SRB_ST_MINI */
    LIST_ENTRY completing;       /* SRB_ST_COMPLETING, waiters to release */
    LIST_ENTRY all;              /* every SRB not yet freed */
    uint64_t next_srb_id;
    uint32_t n_outstanding;
    ksl_stream_stats st;
    strm_checks ck;
    ksl_stream_event_fn *event_fn; /* a test client's aim (ksl_stream_set_event_hook) */
    void *event_user;
};


/* ---- objects.c: lookups, names, the serialization lock, the clock, the class DPC ------------ */

/* An empty queue, ready.  Any context. */
void ksl__strm_queue_init(strm_queue *q, strm_queue_kind kind, strm_stream *s);
/* The adapter of a device extension the class handed out, or NULL.  Any IRQL. */
ksl_stream_adapter *ksl__strm_adapter_of(PVOID HwDeviceExtension);
/* The stream of a stream object the class handed out (of adapter a), or NULL.  Any IRQL. */
strm_stream *ksl__strm_stream_of(ksl_stream_adapter *a, PHW_STREAM_OBJECT so);
/* The SRB wrapper of an SRB the class handed out, or NULL.  Any IRQL. */
strm_srb *ksl__strm_srb_of(PHW_STREAM_REQUEST_BLOCK srb);
/* True when the calling CPU holds the adapter's serialization lock.  Any IRQL. */
bool ksl__strm_serialized(ksl_stream_adapter *a);
/* Queue the class DPC.  Any IRQL. */
void ksl__strm_defer(ksl_stream_adapter *a);
/* Name of an SRB command, for messages.  Any context. */
const char *ksl__strm_command_name(SRB_COMMAND cmd);
/* Name of an SRB state, for messages.  Any context. */
const char *ksl__strm_state_name(strm_srb_state st);
/* The clock a minidriver routine entered at `irql` is timed on: at DISPATCH_LEVEL and above it
 * cannot leave its CPU, so that CPU's own work time (which other CPUs cannot move); below, its
 * thread may resume on another CPU, so the virtual clock, which a thread only sees go forward.
 * ksl__strm_elapsed: the time since t0 on that clock (never negative).  Any IRQL. */
uint64_t ksl__strm_clock(uint8_t irql);
uint64_t ksl__strm_elapsed(uint8_t irql, uint64_t t0);

/* ---- routines.c: which minidriver routine runs where ----------------------------------------- */

/* Routine `entry` starts on this context at `irql`: pushed on its CPU's stack (>= DISPATCH_LEVEL)
 * or, for a Low routine, its context is remembered.  false when neither (not tracked).  Any IRQL. */
bool ksl__strm_rt_push(ksl_stream_adapter *a, int entry, uint8_t irql);
/* Routine `entry` entered at `irql` ends on this context.  Any IRQL. */
void ksl__strm_rt_pop(ksl_stream_adapter *a, int entry, uint8_t irql);
/* The innermost minidriver routine of the calling context, or -1; a->mu held.  Any IRQL. */
int ksl__strm_rt_current_locked(ksl_stream_adapter *a);

/* ---- sync.c: calls into the minidriver ----------------------------------------------------- */

/* One call into the minidriver. */
typedef struct strm_call {
    ksl_stream_adapter *a;
    int entry;                                    /* enum ksl_stream_entry */
    PHW_RECEIVE_DEVICE_SRB srb_fn;                /* called with &srb->srb, or ... */
    strm_srb *srb;
    PHW_PRIORITY_ROUTINE ctx_fn;                  /* ... with context */
    PVOID context;
    bool recheck_mini;                            /* call only if srb is still SRB_ST_MINI */
    bool called;                                  /* out */
} strm_call;

/* Call at the entry points' level, serialized (KeSynchronizeExecution at the DIRQL, or the
 * class lock at DISPATCH); at once if the caller already holds the serialization lock.
 * IRQL <= the adapter's DIRQL. */
void ksl__strm_call_sync(strm_call *c);
/* Call at the current IRQL, not serialized.  Any IRQL. */
void ksl__strm_call_direct(strm_call *c);
/* Call at DISPATCH_LEVEL (raising if below), not serialized.  IRQL <= DISPATCH_LEVEL. */
void ksl__strm_call_at_dispatch(strm_call *c);
/* Account one minidriver routine run: `entry` at `irql` for `cost_ns`.  Any IRQL. */
void ksl__strm_account(ksl_stream_adapter *a, int entry, uint8_t irql, uint64_t cost_ns);

/* ---- queue.c: requests -------------------------------------------------------------------- */

/* A new SRB on queue q (stream s, or NULL for a device SRB).  NULL on no memory.  PASSIVE. */
strm_srb *ksl__strm_srb_new(ksl_stream_adapter *a, strm_stream *s, SRB_COMMAND cmd, uint32_t bytes);
/* The client is done with r: free its buffers (it must not be in flight).  PASSIVE. */
void ksl__strm_srb_release(strm_srb *r);
/* Submit r: queue it (synchronization on) or call it down at once (off).  PASSIVE_LEVEL. */
NTSTATUS ksl__strm_submit(strm_srb *r);
/* Send down every request whose queue is ready (synchronization on).  IRQL <= DISPATCH. */
void ksl__strm_kick(ksl_stream_adapter *a);
/* The class DPC routine. */
void ksl__strm_dpc(PKDPC dpc, PVOID context, PVOID arg1, PVOID arg2);
/* The minidriver completed r (StreamRequestComplete / DeviceRequestComplete).  Any IRQL. */
void ksl__strm_complete(ksl_stream_adapter *a, strm_srb *r, bool device, strm_stream *s, const char *file, int line);
/* The minidriver is ready for the next request of q.  Any IRQL. */
void ksl__strm_ready(ksl_stream_adapter *a, strm_queue *q, const char *file, int line);
/* Complete every outstanding request of s (or of the whole adapter) with status.  Any IRQL. */
void ksl__strm_abort(ksl_stream_adapter *a, strm_stream *s, NTSTATUS status, const char *file, int line);
/* Cancel r (the client's IoCancelIrp).  IRQL <= DISPATCH. */
bool ksl__strm_cancel(strm_srb *r);
/* A class-initiated device request: build, submit, wait; setup (may be NULL) fills it first.
 * Returns the SRB's status.  PASSIVE_LEVEL. */
NTSTATUS ksl__strm_device_request(ksl_stream_adapter *a, strm_stream *s, SRB_COMMAND cmd,
                                 void (*setup)(PHW_STREAM_REQUEST_BLOCK srb, void *arg), void *arg);

/* ---- priority.c / timer.c ------------------------------------------------------------------ */

/* Initialize a slot (PASSIVE: allocates the work item).  STATUS_INSUFFICIENT_RESOURCES. */
NTSTATUS ksl__strm_prio_init(ksl_stream_adapter *a, strm_prio *p, void *owner);
/* Wait (up to `us` of virtual time) until nothing is pending or running, then free the work
 * item.  false if something was still pending.  PASSIVE_LEVEL. */
bool ksl__strm_prio_drain(ksl_stream_adapter *a, strm_prio *p, uint32_t us);
/* Queue the work items of Low routines asked for above DISPATCH.  DISPATCH (class DPC). */
void ksl__strm_prio_flush(ksl_stream_adapter *a, strm_prio *p);
/* Tell the client's event hook about `ev`, when the IRQL allows it.  Not under mu. */
void ksl__strm_event(ksl_stream_adapter *a, ksl_stream_event ev);
/* Under mu: a Low routine is asked for or running on any slot (race-window coverage). */
bool ksl__strm_low_outstanding_locked(ksl_stream_adapter *a);
void ksl__strm_timer_init(ksl_stream_adapter *a, strm_timer *t, void *owner);
/* Cancel the timer and wait for a routine in progress.  PASSIVE_LEVEL. */
void ksl__strm_timer_drain(ksl_stream_adapter *a, strm_timer *t, uint32_t us);
/* Set the kernel timers asked for above DISPATCH.  DISPATCH (class DPC). */
void ksl__strm_timer_flush(ksl_stream_adapter *a, strm_timer *t);
/* The SRB-timeout tick: start / stop it.  PASSIVE_LEVEL. */
void ksl__strm_tick_start(ksl_stream_adapter *a);
void ksl__strm_tick_stop(ksl_stream_adapter *a);

/* ---- checks.c: findings and hook points ---------------------------------------------------- */

/* Hook: a minidriver routine ran (entry, IRQL, virtual time).  The place for the time budgets
 * (S1 20 us at DIRQL, S6 1 ms at DISPATCH, S7a more than 20 % of requests over 1 ms).  Any IRQL. */
void ksl__strm_hook_entry(ksl_stream_adapter *a, int entry, uint8_t irql, uint64_t cost_ns);
/* A minidriver routine starts / ends on this CPU at `irql` (sync.c's run and the class ISR).
 * Any IRQL. */
void ksl__strm_ck_enter(ksl_stream_adapter *a, int entry, uint8_t irql);
void ksl__strm_ck_leave(ksl_stream_adapter *a, int entry, uint8_t irql);

/* ---- shared_state.c: S5, S4 over extension memory -------------------------------------- */

/* Book the extension bytes changed since the last booking to the calling context (the step
 * hook, and every minidriver routine boundary).  Any IRQL. */
void ksl__strm_ss_step(ksl_stream_adapter *a, const char *file, int line);
/* Minidriver routine `entry` starts / ends on this context (only Low, and Dispatch with an ISR,
 * are watched).  Any IRQL. */
void ksl__strm_ss_begins(ksl_stream_adapter *a, int entry);
void ksl__strm_ss_ends(ksl_stream_adapter *a, int entry);
/* The calling context asks for a High / LowToHigh routine: if it runs an unsynchronized routine,
 * that routine synchronizes here.  Any IRQL. */
void ksl__strm_ss_synchronizes(ksl_stream_adapter *a);
/* Install the step hook (synchronization on, deterministic engine) / free the shadows.  Host
 * code. */
void ksl__strm_ss_create(ksl_stream_adapter *a);
/* S8 (selfsync.c): with synchronization off, watch the extensions from the start of the run;
 * free what it keeps. */
void ksl__strm_self_create(ksl_stream_adapter *a);
void ksl__strm_self_destroy(ksl_stream_adapter *a);
void ksl__strm_ss_destroy(ksl_stream_adapter *a);

/* Set up / tear down the checks (the S4 port watcher over the adapter's range).  Host code. */
bool ksl__strm_ck_create(ksl_stream_adapter *a);
void ksl__strm_ck_destroy(ksl_stream_adapter *a);
/* Hook: the adapter stops (ksl_stream_stop): judge what is left of the S7a window.  PASSIVE. */
void ksl__strm_hook_stop(ksl_stream_adapter *a);
/* Hook: an SRB moved from one state to another (outside the bookkeeping mutex).  Any IRQL. */
void ksl__strm_hook_srb(ksl_stream_adapter *a, uint64_t srb_id, SRB_COMMAND cmd, strm_srb_state from,
                       strm_srb_state to, const char *file, int line);
/* Hook: a class service was called by the minidriver (`what` its name).  The place for PASSIVE-only
 * services called from entry points (S7a) and lockset checks (S3/S4).  Any IRQL. */
void ksl__strm_hook_service(ksl_stream_adapter *a, const char *what, const char *file, int line);

/* Protocol errors the class detects now (reported outside the bookkeeping mutex). */
#define STRM_F_COMPLETED_TWICE "S1.srb-completed-twice"
#define STRM_F_NOT_OWNED "S1.srb-completed-not-owned"
#define STRM_F_BAD_NOTIFICATION "S1.notification-bad-argument"
#define STRM_F_READY_TWICE "S1.ready-for-next-twice"
#define STRM_F_PRIORITY_PENDING "S3.callatnewpriority-pending"
#define STRM_F_NOT_COMPLETED_AT_CLOSE "S1.srb-not-completed-at-close"
/* Policies of checks.c. */
#define STRM_F_DIRQL_BUDGET "S1.dirql-over-budget"
#define STRM_F_DISPATCH_BUDGET "S6.dispatch-over-budget"
#define STRM_F_DISPATCH_CB_BUDGET "S3.dispatch-callback-over-budget"
#define STRM_F_LONG_REQUESTS "S7.sync-on-long-requests"
#define STRM_F_ISR_SHARED "S4.unsynchronized-isr-shared-access"
#define STRM_F_PASSIVE_SERVICE "S7.passive-service-with-sync-on"
#define STRM_F_LOW_STATE "S5.low-routine-unsynchronized-state"
#define STRM_F_SELF_SYNC "S8.unsynchronized-shared-state"

#endif
