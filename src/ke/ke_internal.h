/* SPDX-License-Identifier: MIT */
/*
 * Internal model of the kernel environment shared by both executors.
 *
 * Each virtual CPU has a stack of frames: frames[0] is its base (a kernel thread, or idle), and
 * DPCs and ISRs nest on top as plain calls on the stack of the coroutine that owns the CPU.  A
 * thread is a coroutine; an idle CPU runs nested routines on its own idle coroutine.
 */
#ifndef KSL_KE_INTERNAL_H
#define KSL_KE_INTERNAL_H

#include <kslab/device.h>
#include <kslab/engine.h>
#include <kslab/io.h>
#include <kslab/ke.h>

#include <pthread.h>
#include <stdarg.h>

#include "../explore/strategy.h"
#include "../verify/lockorder.h"
#include "coro.h"

#define KSL_MAX_FRAMES 16
#define KSL_MAX_HELD 16
#define KSL_MAX_LINES 64
#define KSL_MAX_THREAD_MUTEXES 8
#define KSL_MAX_THREAD_EVLOCKS 4 /* synchronization events a thread holds as locks */
#define KSL_DBG_TEXT 96
#define KSL_OPTS_PER_CPU (KSL_MAX_LINES + 2)

#define KSL_MAGIC_SPIN 0x4B534C53u
#define KSL_MAGIC_DPC 0x4B534C44u
#define KSL_MAGIC_EVENT 0x4B534C45u
#define KSL_MAGIC_TIMER 0x4B534C54u
#define KSL_MAGIC_MUTEX 0x4B534C4Du
#define KSL_MAGIC_KMUTEX 0x4B534C4Bu

/* Scheduling-point kinds, hashed into the trace and kept in the event log. */
enum ksl_point {
    P_IRQL_RAISE = 1, P_IRQL_LOWER, P_SPIN_ACQUIRE, P_SPIN_RELEASE, P_DPC_QUEUE, P_DPC_DEQUEUE,
    P_EVENT_SET, P_EVENT_RESET, P_WAIT, P_TIMER_SET, P_TIMER_CANCEL, P_MUTEX_ACQUIRE,
    P_MUTEX_RELEASE, P_STALL, P_POOL_ALLOC, P_POOL_FREE, P_INTERLOCKED, P_PORT_READ, P_PORT_WRITE,
    P_SYNC, P_WORK_QUEUE, P_IRP_CANCEL, P_IRP_COMPLETE, P_IRP_SET_CANCEL, P_CANCEL_LOCK,
    P_THREAD_EXIT, P_EXTERNAL, P_COUNT
};

#define KSL_MAX_SPANS 32

enum ksl_frame_kind { FR_IDLE = 0, FR_THREAD, FR_DPC, FR_ISR, FR_WORK };

/* A context's call sites in the driver's own source (driver_site.c): the latest, and the window
 * its latest lock drop opened: where it released a lock, where it next took one. */
typedef struct ksl_drv_sites {
    const char *file;
    int line;
    int drop_line, retake_line;
    const char *drop_file, *retake_file; /* NULL: none (yet) */
    uint64_t drop_step, retake_step;
} ksl_drv_sites;

typedef struct ksl_frame {
    uint8_t kind;
    uint8_t irql_at_entry;
    uint16_t locks_at_entry;
    uint32_t id;
    const char *name;
    uint64_t work_at_entry;   /* CPU work counter when the frame began */
    uint32_t serial;          /* DPC / ISR: this activation's number in the run (window.c) */
    ksl_drv_sites drv;        /* DPC / ISR: its driver call sites (driver_site.c) */
} ksl_frame;

struct ksl_wait_block {
    ksl_thread *thread;
    ksl_dispatcher_header *object;
    ksl_wait_block *next;
};

enum ksl_thread_state { T_READY = 1, T_RUNNING, T_WAITING, T_DONE };

struct ksl_thread {
    uint32_t id;
    char name[40];
    ksl_engine *e;
    ksl_coro coro;
    ksl_thread_fn *fn;
    void *arg;
    uint8_t state;
    uint8_t system;          /* system worker thread: not waited for at the end of a run */
    uint8_t irql;            /* saved while not on a CPU */
    uint8_t frame_kind;      /* FR_THREAD, or FR_WORK while running a work item */
    int32_t cpu;             /* CPU while running, else -1 */
    int32_t home_cpu;        /* threaded engine: the CPU it is pinned to */
    uint64_t last_clock;     /* its CPU's clock when it left it: its time never runs backwards */
    ksl_thread *next_ready;
    ksl_thread *next_all;
    /* waiting */
    ksl_wait_block wb;
    ksl_status wait_status;
    uint64_t wait_seq;       /* identifies the current wait for its timeout event */
    const void *waiting_on;  /* object, for the wait-for graph */
    const char *wait_what;
    const char *wait_file;
    int wait_line;
    /* fast mutexes held, in acquisition order */
    ksl_fast_mutex *mutexes[KSL_MAX_THREAD_MUTEXES];
    uint32_t nmutexes;
    /* synchronization events whose wait it satisfied and that it has not set since (as locks) */
    const void *evlocks[KSL_MAX_THREAD_EVLOCKS];
    uint32_t nevlocks;
    uint32_t activation;     /* bumped as each work item it runs starts and ends (window.c) */
    ksl_drv_sites drv;       /* its driver call sites (driver_site.c) */
};

/* A scheduling option: what one CPU may do next. */
enum ksl_opt_kind { O_CONTINUE = 1, O_DPC, O_IRQ, O_DISPATCH, O_RESUME };
typedef struct ksl_opt {
    uint8_t kind;
    uint8_t pad;
    uint16_t cpu;
    uint32_t arg;       /* line for O_IRQ */
    ksl_thread *thread; /* O_DISPATCH */
} ksl_opt;

typedef struct ksl_cpu {
    uint32_t index;
    uint8_t irql;
    ksl_engine *e;
    uint64_t clock;          /* local virtual clock, ns */
    uint64_t work;           /* virtual time charged to this CPU, ns */
    uint64_t raised_since;   /* work counter when the base frame went >= DISPATCH, or UINT64_MAX */
    ksl_frame frames[KSL_MAX_FRAMES];
    uint32_t nframes;
    ksl_spinlock *held[KSL_MAX_HELD];
    uint32_t nheld;
    ksl_spinlock *spin_on;   /* spinning for this lock */
    ksl_dpc *dpc_head, *dpc_tail;
    uint64_t dpc_not_before;  /* seeded jitter: its DPC queue is not serviced before (det engine) */
    ksl_thread *thread;      /* base thread, NULL when idle */
    ksl_coro *owner;         /* coroutine executing this CPU */
    ksl_coro idle;
    int idle_ready;
    ksl_opt act;             /* action handed to the owner */
    ksl_stats st;            /* this CPU's counters, summed into the engine's at the end */
    /* threaded executor */
    pthread_t host;
    ksl_coro host_coro;
    ksl_thread *tready_head, *tready_tail;
    _Atomic uint32_t dpc_pending;
    int host_started;
} ksl_cpu;

/* Events a finding about a race shows: those of its two contexts, at most this many. */
#define KSL_EVENTS_SHOWN_MAX 24u
/* Injected faults a run remembers for its findings (later ones are counted, not named). */
#define KSL__MAX_FAULT_NOTES 8
/* Deliveries in a row that leave a level-triggered line asserted: K.interrupt-storm. */
#define KSL__STORM_DELIVERIES 1000u

typedef struct ksl_irq_line {
    uint8_t asserted;
    uint8_t in_service;      /* a CPU has taken it: in its ISRs, or spinning to enter one */
    uint8_t irql;            /* highest IRQL of its chain: it is deliverable to CPUs below it */
    uint8_t pulse;           /* a spurious interrupt (ksl_irq_line_pulse) waits to be taken */
    uint8_t latent;          /* a device has a cause it does not signal (ksl_irq_line_latent) */
    uint8_t caused;          /* a device raised it, or had a latent cause, since the last pulse
                              * was taken: an ISR then may find a real cause */
    uint32_t storm;          /* deliveries in a row after which the line was still asserted */
    uint64_t since;
    ksl_interrupt *chain;
    ksl_wait_block *disconnecting; /* threads in IoDisconnectInterrupt waiting for the delivery
                                    * in service to end (big lock) */
} ksl_irq_line;

struct ksl_interrupt {
    ksl_engine *e;
    uint32_t line;
    uint8_t irql;
    ksl_isr_fn *isr;
    void *context;
    ksl_spinlock *lock;
    ksl_spinlock own_lock;
    ksl_interrupt *next;
    uint8_t owns_context;    /* free `context` with the object (the WDK adapter's thunk) */
    char name[40];
};

/* The event heap: timers, wait timeouts and device events, ordered by (time, sequence). */
enum ksl_ev_kind {
    EV_TIMER = 1,
    EV_DEVICE,
    EV_WAIT,
    EV_TICK, /* nothing: time reaches it (a late DPC) */
    EV_WORK  /* a late work item reaches the workers' queue */
};
typedef struct ksl_ev {
    uint64_t time;
    uint64_t seq;
    uint8_t kind;
    void *obj;
    uint64_t cookie;
} ksl_ev;

struct ksl_device {
    ksl_engine *e;
    const ksl_device_ops *ops;
    void *dev;
    uintptr_t base;
    uint32_t size;
    ksl_device *next;
};

/* A driver-side watcher of port accesses to a range (ksl_port_observe). */
typedef struct ksl_port_obs {
    uintptr_t base;
    uint32_t size;
    ksl_port_observer *fn;
    void *user;
    struct ksl_port_obs *next;
} ksl_port_obs;

struct ksl_work_item {
    ksl_engine *e;
    void *device_object;
    ksl_work_fn *fn;
    void *context;
    uint8_t queued;
    ksl_work_item *next;
    const char *queue_file;
    int queue_line;
};

typedef struct ksl_pool_hdr {
    struct ksl_pool_hdr *prev, *next;
    uint64_t serial;
    size_t size;
    uint32_t tag;
    uint32_t magic;
    const char *file;
    int line;
    uint32_t pool_type;      /* KSL_POOL_NONPAGED or KSL_POOL_PAGED */
    void *data;              /* the block: right after the header, or in the paged arena */
} ksl_pool_hdr;

typedef struct ksl_log_entry {
    uint64_t step;
    uint64_t time;
    uint8_t kind;
    uint8_t cpu;
    uint8_t irql;
    const char *file;
    int line;
    const char *what;
    uint8_t ctx_kind;        /* the context that made it: its frame kind and name (FR_IDLE, NULL: */
    const char *ctx_name;    /* a device, or host code) */
} ksl_log_entry;


struct ksl_engine {
    _Atomic uint64_t quiesce_epoch; /* ksl_quiesce_point */
    ksl_config cfg;
    uint32_t *choices_copy;
    ksl_cpu *cpus;
    uint32_t ncpus;
    int ran;
    int in_run;              /* between the start and the end of ksl_engine_run */

    /* threads */
    ksl_thread *all_threads;
    ksl_thread *ready_head, *ready_tail;
    uint32_t next_thread_id;
    uint32_t live_clients;

    /* deterministic executor */
    ksl_coro main;
    ksl_coro *running;
    ksl_strategy *strategy;
    uint32_t *choices;
    size_t nchoices, cap_choices;
    ksl_opt *opts;           /* the options of one pick: per CPU at most continue or DPC, */
    uint64_t *keys;          /* one per pending line, and one dispatch (KSL_OPTS_PER_CPU) */

    uint64_t steps;
    uint64_t hash;
    uint64_t now;
    uint64_t jitter_state;   /* ksl__jitter's generator (big lock) */

    /* events */
    ksl_ev *heap;
    uint32_t nheap, cap_heap;
    uint64_t ev_seq;

    ksl_irq_line lines[KSL_MAX_LINES];
    uint64_t pending_lines;  /* bit l: line l asserted, not in service, with an ISR (big lock) */
    ksl_device *devices;
    const char *access_file; /* the driver's call site of the register access a device handles */
    int access_line;
    ksl_port_obs *port_obs;  /* set up outside a run only */

    /* pool */
    ksl_pool_hdr pool;       /* list head */
    /* paged pool (paged.c): an arena protected while the running context is at raised IRQL */
    uint8_t *paged_arena;
    size_t paged_used;
    bool paged_protected;
    bool paged_fault;        /* a touch at raised IRQL, to report at the next scheduling point */
    uint8_t paged_fault_irql;
    uintptr_t paged_fault_addr, paged_fault_pc;
    char paged_fault_ctx[64];
    const char *paged_fault_file; /* the toucher's last call site */
    int paged_fault_line;
    uint64_t pool_serial;
    uint64_t pool_bytes;

    /* work items */
    ksl_work_item *work_head, *work_tail;
    ksl_event work_event;
    uint32_t workers_started;

    ksl_spinlock cancel_lock;
    ksl_lockorder *locks;    /* lockdep (lockdep.c) */
    uint32_t next_obj_id;

    /* race-window spans (window.c; deterministic engine) */
    struct ksl_span_rec {
        uint64_t key;        /* the context's (0: a free slot) */
        const void *obj;
        uint32_t kind, isr_window, flags, cpu, gen;
    } spans[KSL_MAX_SPANS];
    uint32_t span_used;      /* bit i: spans[i] is open (so that a lock taken with none open costs a test) */
    uint32_t span_gen;
    uint32_t next_serial;

    /* findings */
    ksl_finding findings[KSL_MAX_RUN_FINDINGS];
    uint32_t nfindings;
    bool ended;              /* a finding stopped the run: nothing more is recorded */
    char pending[2048];      /* detail written for the next finding (ksl__detail) */
    char involved[64];       /* another context the next finding involves (ksl_report_involves) */
    char racing_context[64]; /* a race's other side for the next finding (ksl_report_racing) */
    const char *racing_file;
    int racing_line;
    const char *cause_file;  /* a device's register write behind the next finding (ksl_report_cause) */
    int cause_line;
    struct {                 /* faults injected so far (ksl_fault_injected), named by findings */
        char what[64];       /* "device: fault" */
        uint64_t time;
    } faults[KSL__MAX_FAULT_NOTES];
    uint32_t nfaults;
    pthread_mutex_t finding_mu; /* the findings and the pending detail */
    _Atomic int has_finding;
    _Atomic int stop;

    ksl_log_entry *log;
    char *dbg_text;          /* DbgPrint text, one KSL_DBG_TEXT slot per log entry */
    uint32_t nlog;           /* total entries written */

    ksl_stats stats;
    ksl_activation_hook *act_hook;
    void *act_user;
    ksl_trace_fn *trace_fn;
    void *trace_user;
    uint64_t thread_steps;   /* scheduling points passed by threads (not DPCs or ISRs) */
    _Atomic uint64_t tthread_steps; /* the same in the threaded executor */
    uint64_t idle_steps;     /* (t)thread_steps at the last idle clock advance (big lock) */
    uint32_t idle_advances;  /* such advances in a row with only periodic timers pending */
    ksl_step_hook *step_hook;
    void *step_user;
    ksl_atomic_hook *atomic_hook;
    void *atomic_user;
    ksl_deadlock_describer *dl_describer;
    void *dl_user;
    ksl_irql_refiner *irql_refiner;
    void *irql_refiner_user;

    /* threaded executor */
    pthread_mutex_t big;     /* the dispatcher lock */
    pthread_cond_t idle_cv;
    _Atomic uint64_t tclock;
    _Atomic uint32_t idle_cpus;
    _Atomic uint64_t tsteps;
    _Atomic uint32_t tlive;
};

/* ---- the executor interface the kernel objects use ------------------------------------- */

extern _Thread_local ksl_cpu *ksl__cur;
/* Device code running on this host thread: DEV_EVENT (hardware, on no CPU) or DEV_REGISTER (a
 * register access by the current CPU).  Findings made there are recorded; the run stops after. */
enum { DEV_NONE = 0, DEV_EVENT, DEV_REGISTER };
extern _Thread_local int ksl__in_device;
/* The engine of the calling host thread during a run. */
extern _Thread_local ksl_engine *ksl__eng;

static inline int ksl__threaded(const ksl_engine *e)
{
    return e->cfg.engine == KSL_ENGINE_THREADED;
}

/*
 * A scheduling point of kind `k` charging `cost` ns, at source position file:line.  Returns the
 * CPU the caller runs on afterwards: a thread below DISPATCH_LEVEL may be preempted at a point
 * and resumed on another CPU, so callers must use the returned CPU, never the one they passed.
 */
ksl_cpu *ksl__point(ksl_cpu *c, unsigned k, uint64_t cost, const char *file, int line);
/* Block the calling thread (state already T_WAITING) until ksl__ready is called for it. */
void ksl__block(ksl_cpu *c);
/* Make a waiting or new thread ready to run. */
void ksl__ready(ksl_engine *e, ksl_thread *t);
/* Spin until `lock` is free (the caller then takes it).  The caller holds no dispatcher lock. */
void ksl__spin_wait(ksl_cpu *c, ksl_spinlock *lock);
/* A DPC was queued on CPU `cpu`; a pending interrupt line changed. */
void ksl__kick(ksl_engine *e, uint32_t cpu);
/* The dispatcher lock: protects shared kernel state in the threaded executor; free otherwise. */
void ksl__big_lock(ksl_engine *e);
void ksl__big_unlock(ksl_engine *e);
/* Terminate the calling thread's coroutine. */
_Noreturn void ksl__thread_exit(ksl_cpu *c);

/* Deterministic executor. */
void ksl__det_reschedule(void);
int ksl__det_run(ksl_engine *e);
_Noreturn void ksl__det_abort(ksl_engine *e);
/* Threaded executor. */
int ksl__thr_run(ksl_engine *e);
void ksl__thr_point(ksl_cpu *c);
void ksl__thr_block(ksl_cpu *c);
void ksl__thr_ready(ksl_engine *e, ksl_thread *t);
void ksl__thr_spin_wait(ksl_cpu *c, ksl_spinlock *lock);
void ksl__thr_kick(ksl_engine *e, uint32_t cpu);
_Noreturn void ksl__thr_abort(ksl_cpu *c);
_Noreturn void ksl__thr_exit(ksl_cpu *c, ksl_thread *t);
/* Start the system worker threads (on the first queued work item). */
void ksl__workers_start(ksl_engine *e);

/* ---- shared pieces ---------------------------------------------------------------------- */

/* Take / drop a spin lock on CPU c without touching IRQL (checks, lock order, spinning). */
void ksl__spin_take(ksl_cpu *c, ksl_spinlock *lock, const char *call, const char *file, int line);
void ksl__spin_drop(ksl_cpu *c, ksl_spinlock *lock, const char *call, const char *file, int line);
/* Recompute a line's IRQL and pending bit after its state or chain changed (big lock held). */
void ksl__line_update(ksl_engine *e, uint32_t line);
/* Run an ISR chain for `line` on `c` (raising, taking the interrupt lock, checking the return). */
void ksl__deliver_irq(ksl_cpu *c, uint32_t line);
/* Run the next DPC queued on `c`. */
void ksl__run_dpc(ksl_cpu *c);
/* The thread body wrapper every kernel thread coroutine starts in. */
void ksl__thread_main(void *arg);
/* The system worker threads' body. */
void ksl__worker_main(void *arg);
/* Fire heap events due at or before `now` (timers queue their DPCs, devices run). */
void ksl__fire_due(ksl_engine *e, uint64_t now);
/* Earliest heap event time, or UINT64_MAX. */
uint64_t ksl__next_event(const ksl_engine *e);
void ksl__heap_push(ksl_engine *e, uint64_t time, uint8_t kind, void *obj, uint64_t cookie);
void ksl__heap_remove_obj(ksl_engine *e, void *obj, uint64_t cookie, int match_cookie);
/* Set or raise the CPU's IRQL with accounting of raised stretches. */
void ksl__set_irql(ksl_cpu *c, uint8_t irql);
/* Account a finished activation (stats and the activation hook). */
void ksl__activation(ksl_cpu *c, const char *kind, const char *name, uint8_t irql, uint64_t cost);
/* Queue a DPC on a chosen CPU (timers); the big lock is held. */
bool ksl__dpc_queue_on(ksl_engine *e, ksl_dpc *dpc, uint32_t cpu);
/* Push / pop an activation frame with accounting and the return checks. */
void ksl__frame_push(ksl_cpu *c, uint8_t kind, uint32_t id, const char *name);
void ksl__frame_pop(ksl_cpu *c, const char *what);
/* Race windows (window.c): the running context's key; close its spans (all, or the
 * KSL_SPAN_UNTIL_LOCK ones); count the ISR starting on `c` against the open spans. */
uint64_t ksl__ctx_key(const ksl_cpu *c);
void ksl__spans_end(ksl_cpu *c, bool lock_only);
void ksl__spans_isr(ksl_cpu *c);
/* Pick a CPU for a timer DPC (strategy choice in the deterministic executor). */
uint32_t ksl__choose_cpu(ksl_engine *e);
/* The thread currently running on c's base, or NULL. */
static inline ksl_thread *ksl__cur_thread(const ksl_cpu *c)
{
    return c && c->nframes == 1 && (c->frames[0].kind == FR_THREAD || c->frames[0].kind == FR_WORK) ? c->thread : NULL;
}
/* A wait timed out: unlink it and make the thread ready with STATUS_TIMEOUT. */
void ksl__wait_timeout(ksl_engine *e, ksl_thread *t);
/* Absolute virtual time for an NT due time (negative relative, 100 ns units). */
uint64_t ksl__due_time(const ksl_engine *e, const ksl_cpu *c, int64_t due_100ns);
/* A strategy-chosen number below n, recorded for replay (deterministic executor). */
uint32_t ksl__det_below(ksl_engine *e, uint32_t n);
/* A delay in [0, max] from the engine's jitter generator (seeded; big lock held).  0 when max is 0. */
uint64_t ksl__jitter(ksl_engine *e, uint32_t max);
/* Put a queued work item on the workers' queue and wake one (big lock held). */
void ksl__work_append(ksl_engine *e, ksl_work_item *w);
/* Requeue a periodic timer, signal it, queue its DPC. */
void ksl__timer_expire(ksl_engine *e, ksl_timer *t);
/* Wake waiters of a signalled dispatcher object (big lock held). */
void ksl__object_signal(ksl_engine *e, ksl_dispatcher_header *h);

/* Event log and trace hash. */
void ksl__log(ksl_engine *e, ksl_cpu *c, unsigned kind, const char *what, const char *file, int line);
/* The first call site CPU `cpu` logged from log entry `since` (an e->nlog value) on, still in the
 * log (deterministic engine): where a routine that began there first called the kernel or touched
 * its device.  false when there is none. */
bool ksl__log_first_site(const ksl_engine *e, uint32_t cpu, uint64_t since, const char **file, int *line);
/* Tell the trace hook a context begins ('B') or ends ('E') running on c. */
void ksl__trace_slice(ksl_cpu *c, char phase, const ksl_frame *f);
static inline void ksl__hash(ksl_engine *e, uint64_t v)
{
    e->hash = (e->hash ^ v) * 0x100000001b3ull;
}

/* Call the step hook (deterministic engine): what ran on c since the last call is c's. */
static inline void ksl__step_hook(ksl_cpu *c, const char *file, int line)
{
    if (c->e->step_hook && !ksl__threaded(c->e))
        c->e->step_hook(c->e->step_user, file, line);
}

/* Clock advances in a row with only periodic timers pending and no thread progress before the
 * scheduler (either executor) calls it a deadlock. */
#define KSL_IDLE_ADVANCES 1000u
/* Whether every pending event is the expiry of a periodic timer (heap under the big lock). */
bool ksl__only_periodic_timers(const ksl_engine *e);

/* Findings.  ksl__fail records the finding and stops the run (does not return inside a run). */
void ksl__fail(ksl_cpu *c, const char *rule, const char *file, int line, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 5, 6)))
#endif
    ;
/* The watchdog's view (watch.c): a deterministic run begins / ends; the context of frame f runs
 * on after its scheduling point at file:line (file NULL: a routine begins or resumes; `fresh`: a
 * frame slot that may hold another routine than before). */
void ksl__watch_run(bool running);
void ksl__watch_at(const ksl_frame *f, bool fresh, const char *file, int line);
/* The call site of the last scheduling point published (watch.c; file NULL: none). */
void ksl__watch_site(const char **file, int *line);
/* driver_site.c: whether a call site is in kslab's own sources; note a scheduling point's site
 * as its context's latest driver site (if it is the driver's); that site, if any. */
bool ksl__own_site(const char *file);
void ksl__driver_site_note(ksl_cpu *c, unsigned kind, const char *file, int line);
const ksl_drv_sites *ksl__driver_sites(const ksl_cpu *c);
bool ksl__driver_site_of(const ksl_cpu *c, const char **file, int *line);

/* Paged pool (paged.c).  ksl__paged_alloc: whole pages in the run's arena, NULL when the engine
 * is threaded (plain memory there) or the arena is full; ksl__paged_owns: p is in the arena;
 * ksl__paged_release: a freed block's pages; ksl__paged_sync: protect the arena when the running
 * context is at DISPATCH_LEVEL or above, open it otherwise (after an IRQL change or a switch);
 * ksl__paged_run: a deterministic run begins / ends (the SIGSEGV handler); ksl__paged_report:
 * record a touch seen since (K.paged-touch-at-raised-irql); ksl__paged_free_arena: at destroy. */
void *ksl__paged_alloc(ksl_engine *e, size_t size);
bool ksl__paged_owns(const ksl_engine *e, const void *p);
void ksl__paged_release(ksl_engine *e, void *p, size_t size);
void ksl__paged_sync(ksl_engine *e);
void ksl__paged_run(ksl_engine *e, bool begin);
void ksl__paged_report(ksl_cpu *c);
void ksl__paged_free_arena(ksl_engine *e);
/* " (tag 'Work', 4096 bytes allocated at x.c:77)" for the live block holding address a (pool.c). */
void ksl__pool_describe(ksl_engine *e, uintptr_t a, char *buf, size_t len);

/* The innermost frame of c (what runs on it). */
static inline const ksl_frame *ksl__top_frame(const ksl_cpu *c)
{
    return &c->frames[c->nframes ? c->nframes - 1 : 0];
}

/* Record a finding the run survives and go on (see ksl_report_continue). */
void ksl__note(ksl_cpu *c, const char *rule, const char *file, int line, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 5, 6)))
#endif
    ;
/* Stop the run after a finding, unless called from host code, an executor or device code. */
void ksl__stop_run(ksl_cpu *c);
/* Record a finding; `ends` stops the run (the caller then calls ksl__stop_run). */
void ksl__vfail(ksl_cpu *c, bool ends, const char *rule, const char *file, int line, const char *fmt, va_list ap);
/* Append text to the next finding's detail (before it is raised). */
void ksl__detail(ksl_engine *e, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* Describe the running context of c into buf. */
void ksl__describe(const ksl_cpu *c, char *buf, size_t len);

/* Record K.deadlock with the wait-for picture: waiters, spinning CPUs, a mutex-owner cycle. */
void ksl__report_deadlock(ksl_engine *e);

/* Lock order (lockdep.c): the node of a lock (`slot` is the lock's node field, numbered at its
 * first acquire); record an acquire against what c's context holds, or report K.lock-order-cycle. */
uint32_t ksl__lockdep_node(ksl_engine *e, uint32_t *slot, const char *name, const char *file, int line, uint8_t kind);
void ksl__lockdep_acquire(ksl_cpu *c, uint32_t node, const char *file, int line);
/* A kernel mutex the thread owns (the last acquired), or NULL (dispatcher.c). */
const ksl_kmutex *ksl__kmutex_owned(const ksl_thread *t);

/* Pool teardown check. */
void ksl__pool_check_leaks(ksl_engine *e);
void ksl__pool_free_all(ksl_engine *e);

/* Called on each IRQL-checked call: require IRQL <= max. */
void ksl__require_irql(ksl_cpu *c, uint8_t max, const char *call, const char *file, int line);

#endif
