/* SPDX-License-Identifier: MIT */
/*
 * kslab native kernel environment: the objects a driver embeds (spin locks, DPCs, timers, events,
 * fast mutexes) and the calls on them.  The WDK-named surface in <kslab/wdk/wdm.h> is a thin layer
 * of macros over these functions that adds the caller's source position.
 *
 * Every call below is a scheduling point of the engine unless it says otherwise: the deterministic
 * engine may switch to another virtual CPU, deliver an interrupt or run a DPC there.
 *
 * IRQL values follow the NT kernel: PASSIVE 0, APC 1, DISPATCH 2, device IRQLs 3..26, then
 * PROFILE 27, CLOCK 28, IPI 29, POWER 30, HIGH 31.
 */
#ifndef KSLAB_KE_H
#define KSLAB_KE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * KSL_ATOMIC(T): a field kslab (C) accesses with C11 atomics.  C++ has no _Atomic, and a driver
 * never touches these fields itself (the WDK treats the objects as opaque), so C++ sees the plain
 * type: the same size and alignment for the lock-free integer and pointer types used here
 * (checked below).
 */
#ifdef __cplusplus
#define KSL_ATOMIC(T) T
#else
#include <stdatomic.h>
#define KSL_ATOMIC(T) _Atomic(T)
#endif

#ifdef __cplusplus
extern "C" {
#endif

enum {
    KSL_IRQL_PASSIVE = 0,
    KSL_IRQL_APC = 1,
    KSL_IRQL_DISPATCH = 2,
    KSL_IRQL_DEVICE_MIN = 3,
    KSL_IRQL_DEVICE_MAX = 26,
    KSL_IRQL_PROFILE = 27,
    KSL_IRQL_CLOCK = 28,
    KSL_IRQL_IPI = 29,
    KSL_IRQL_POWER = 30,
    KSL_IRQL_HIGH = 31,
};

/* NTSTATUS values used by the kernel environment (the WDK header gives them WDK names). */
typedef int32_t ksl_status;
#define KSL_STATUS_SUCCESS ((ksl_status)0x00000000)
#define KSL_STATUS_ALERTED ((ksl_status)0x00000101)
#define KSL_STATUS_TIMEOUT ((ksl_status)0x00000102)
#define KSL_STATUS_PENDING ((ksl_status)0x00000103)
#define KSL_STATUS_UNSUCCESSFUL ((ksl_status)0xC0000001)
#define KSL_STATUS_NOT_IMPLEMENTED ((ksl_status)0xC0000002)
#define KSL_STATUS_INVALID_PARAMETER ((ksl_status)0xC000000D)
#define KSL_STATUS_INVALID_DEVICE_REQUEST ((ksl_status)0xC0000010)
#define KSL_STATUS_NO_MEMORY ((ksl_status)0xC0000017)
#define KSL_STATUS_BUFFER_TOO_SMALL ((ksl_status)0xC0000023)
#define KSL_STATUS_INSUFFICIENT_RESOURCES ((ksl_status)0xC000009A)
#define KSL_STATUS_DEVICE_NOT_READY ((ksl_status)0xC00000A3)
#define KSL_STATUS_IO_TIMEOUT ((ksl_status)0xC00000B5)
#define KSL_STATUS_NOT_SUPPORTED ((ksl_status)0xC00000BB)
#define KSL_STATUS_CANCELLED ((ksl_status)0xC0000120)
#define KSL_STATUS_INVALID_DEVICE_STATE ((ksl_status)0xC0000184)
#define KSL_STATUS_NOT_FOUND ((ksl_status)0xC0000225)

typedef struct ksl_engine ksl_engine;
typedef struct ksl_thread ksl_thread;
typedef struct ksl_wait_block ksl_wait_block;

/* ---- spin locks ------------------------------------------------------------------------- */

enum ksl_lock_kind { KSL_LOCK_SPIN = 1, KSL_LOCK_INTERRUPT = 2, KSL_LOCK_CANCEL = 3, KSL_LOCK_MUTEX = 4 };

/* A spin lock.  Drivers embed it and treat it as opaque (KSPIN_LOCK). */
typedef struct ksl_spinlock {
    KSL_ATOMIC(uint32_t) owner;  /* 0 = free, else holding CPU index + 1 */
    uint32_t magic;          /* set by ksl_spin_init; catches use before init */
    uint32_t node;           /* lock-order graph node, 0 until first acquire */
    uint8_t kind;            /* enum ksl_lock_kind */
    uint8_t saved_irql;      /* IRQL saved by the raising acquire, for the release check */
    uint8_t raised;          /* acquired with a raising acquire (KeAcquireSpinLock) */
    uint8_t reserved;
    const char *name;        /* expression text at initialization, for reports */
    const char *init_file;
    int init_line;
    const char *acq_file;    /* last acquire site */
    int acq_line;
} ksl_spinlock;

/* Initialize a spin lock.  Any IRQL; not a scheduling point. */
void ksl_spin_init(ksl_spinlock *lock, const char *name, const char *file, int line);
/* Raise to DISPATCH, acquire, return the previous IRQL.  IRQL <= DISPATCH. */
uint8_t ksl_spin_acquire(ksl_spinlock *lock, const char *file, int line);
/* Release and lower to new_irql (the value ksl_spin_acquire returned).  IRQL == DISPATCH. */
void ksl_spin_release(ksl_spinlock *lock, uint8_t new_irql, const char *file, int line);
/* Acquire without raising.  IRQL >= DISPATCH. */
void ksl_spin_acquire_at_dpc(ksl_spinlock *lock, const char *file, int line);
/* Release without lowering.  IRQL >= DISPATCH. */
void ksl_spin_release_from_dpc(ksl_spinlock *lock, const char *file, int line);

/* ---- IRQL ------------------------------------------------------------------------------- */

/* Current IRQL of the calling CPU.  Any IRQL; not a scheduling point.  PASSIVE outside a run. */
uint8_t ksl_irql_current(void);
/* Raise to new_irql (>= current), store the previous one.  Any IRQL. */
void ksl_irql_raise(uint8_t new_irql, uint8_t *old_irql, const char *file, int line);
/* Lower to new_irql (<= current).  Any IRQL. */
void ksl_irql_lower(uint8_t new_irql, const char *file, int line);
/* The WDK name of an IRQL ("DISPATCH_LEVEL", "DIRQL 5", ...); `buf` holds the text when it is
 * not a fixed name.  Any IRQL; not a scheduling point. */
const char *ksl_irql_name(uint8_t irql, char *buf, size_t len);
/* Index of the calling virtual CPU (0 outside a run).  Any IRQL; not a scheduling point. */
uint32_t ksl_cpu_current(void);
/* Number of virtual CPUs of the current engine (1 outside a run).  Any IRQL. */
uint32_t ksl_cpu_count(void);

/* ---- DPCs ------------------------------------------------------------------------------- */

struct ksl_dpc;
typedef void ksl_dpc_fn(struct ksl_dpc *dpc, void *context, void *arg1, void *arg2);

/* A deferred procedure call object (KDPC). */
typedef struct ksl_dpc {
    uint32_t magic;
    int32_t target_cpu;          /* -1: the CPU that queues it */
    KSL_ATOMIC(int32_t) queued_cpu;  /* -1 when not queued */
    uint32_t id;
    ksl_dpc_fn *routine;
    void *context;
    void *arg1, *arg2;
    struct ksl_dpc *next;
    const char *name;
} ksl_dpc;

/* Initialize a DPC.  Any IRQL; not a scheduling point. */
void ksl_dpc_init(ksl_dpc *dpc, ksl_dpc_fn *routine, void *context, const char *name);
/* Queue on the calling CPU (or its target CPU).  false if already queued.  Any IRQL. */
bool ksl_dpc_queue(ksl_dpc *dpc, void *arg1, void *arg2, const char *file, int line);
/* Remove from its queue if still queued.  Any IRQL. */
bool ksl_dpc_dequeue(ksl_dpc *dpc, const char *file, int line);
/* Bind the DPC to one CPU.  Any IRQL; not a scheduling point. */
void ksl_dpc_set_target(ksl_dpc *dpc, uint32_t cpu);

/* ---- dispatcher objects: events and timers ----------------------------------------------- */

enum ksl_object_type { KSL_OBJ_NOTIFICATION_EVENT = 1, KSL_OBJ_SYNCHRONIZATION_EVENT = 2,
                       KSL_OBJ_NOTIFICATION_TIMER = 3, KSL_OBJ_SYNCHRONIZATION_TIMER = 4, KSL_OBJ_MUTEX = 5 };

typedef struct ksl_dispatcher_header {
    uint32_t magic;
    uint8_t type;     /* enum ksl_object_type */
    KSL_ATOMIC(int32_t) signaled;
    ksl_wait_block *waiters;
} ksl_dispatcher_header;

/* An event (KEVENT). */
typedef struct ksl_event {
    ksl_dispatcher_header header;
} ksl_event;

/* A timer (KTIMER).  Expires in virtual time. */
typedef struct ksl_timer {
    ksl_dispatcher_header header;
    uint64_t due_ns;     /* absolute virtual time */
    uint64_t period_ns;  /* 0 = one-shot */
    ksl_dpc *dpc;
    uint32_t armed;      /* 1 while it waits in the engine's event heap */
    uint32_t reserved;
} ksl_timer;

/* Initialize an event.  Any IRQL; not a scheduling point. */
void ksl_event_init(ksl_event *ev, bool synchronization, bool signaled);
/* Signal; returns the previous state.  IRQL <= DISPATCH. */
int32_t ksl_event_set(ksl_event *ev, const char *file, int line);
/* Reset; returns the previous state.  IRQL <= DISPATCH. */
int32_t ksl_event_reset(ksl_event *ev, const char *file, int line);
/* Read the state.  Any IRQL; not a scheduling point. */
int32_t ksl_event_read(const ksl_event *ev);

/* A kernel mutex (KMUTEX): a dispatcher object a thread acquires with KeWaitForSingleObject,
 * recursively, and releases with KeReleaseMutex as often; a waiter gets it in turn. */
typedef struct ksl_kmutex {
    ksl_dispatcher_header header; /* signaled: not owned */
    ksl_thread *owner;
    uint32_t count;      /* acquisitions by the owner not yet released */
    uint32_t node;       /* lock-order graph node */
    const char *name;
    const char *init_file;
    int init_line;
} ksl_kmutex;

/* Initialize a mutex, not owned.  IRQL == PASSIVE; not a scheduling point. */
void ksl_kmutex_init(ksl_kmutex *m, const char *name, const char *file, int line);
/* Release one acquisition (the last one hands it to the first waiter); returns the signal state
 * before (1 not owned, else 1 - count).  Releasing a mutex the caller does not own is
 * K.mutex-release-not-owner.  IRQL <= DISPATCH. */
int32_t ksl_kmutex_release(ksl_kmutex *m, const char *file, int line);
/* The signal state: 1 not owned, else 1 - count.  Any IRQL; not a scheduling point. */
int32_t ksl_kmutex_read(const ksl_kmutex *m);

/* Initialize a timer.  Any IRQL; not a scheduling point. */
void ksl_timer_init(ksl_timer *t, bool synchronization);
/*
 * Set a timer.  due_100ns < 0 is relative (NT convention), >= 0 absolute on the interrupt-time
 * clock; period_ms > 0 makes it periodic.  Returns true if it was already set.  IRQL <= DISPATCH.
 */
bool ksl_timer_set(ksl_timer *t, int64_t due_100ns, uint32_t period_ms, ksl_dpc *dpc,
                   const char *file, int line);
/* Cancel; returns true if it was set.  IRQL <= DISPATCH. */
bool ksl_timer_cancel(ksl_timer *t, const char *file, int line);
/* Whether the timer is signaled (has expired since it was last set).  Any IRQL; not a
 * scheduling point. */
bool ksl_timer_read(const ksl_timer *t);

/*
 * Wait for an event, timer or mutex (a mutex: acquire it; its owner acquires it again at once).
 * timeout_100ns: NULL waits forever; negative relative, zero polls.
 * Returns KSL_STATUS_SUCCESS or KSL_STATUS_TIMEOUT.  IRQL <= APC, or DISPATCH with a zero timeout.
 */
ksl_status ksl_wait_single(void *object, const int64_t *timeout_100ns, const char *file, int line);
/* Sleep for a relative interval (100 ns units, negative as in NT).  IRQL <= APC. */
ksl_status ksl_delay(int64_t interval_100ns, const char *file, int line);

/* ---- fast mutexes ----------------------------------------------------------------------- */

/* A fast mutex (FAST_MUTEX): owned by a thread, raises to APC_LEVEL. */
typedef struct ksl_fast_mutex {
    uint32_t magic;
    uint32_t node;        /* lock-order graph node */
    ksl_thread *owner;
    ksl_wait_block *waiters;
    uint8_t old_irql;
    const char *name;
    const char *init_file;
    int init_line;
} ksl_fast_mutex;

/* Initialize.  IRQL <= DISPATCH; not a scheduling point. */
void ksl_mutex_init(ksl_fast_mutex *m, const char *name, const char *file, int line);
/* Acquire, raising to APC.  IRQL <= APC. */
void ksl_mutex_acquire(ksl_fast_mutex *m, const char *file, int line);
/* Try to acquire; true on success.  IRQL <= APC. */
bool ksl_mutex_try_acquire(ksl_fast_mutex *m, const char *file, int line);
/* Release and restore the IRQL saved by the acquire.  IRQL == APC. */
void ksl_mutex_release(ksl_fast_mutex *m, const char *file, int line);

/* If an initialized kernel object (spin lock, DPC, event, timer, mutex, fast mutex) starts at p, with
 * at least `avail` readable bytes there, its size; else 0.  For checks that diff driver memory
 * and must leave alone what the kernel updates inside such objects.  Any IRQL; not a
 * scheduling point. */
size_t ksl_kernel_object_size(const void *p, size_t avail);

/* ---- time ------------------------------------------------------------------------------- */

/* Virtual time of the calling CPU in ns.  Any IRQL; not a scheduling point. */
uint64_t ksl_time_now(void);
/*
 * Virtual time the calling CPU has spent executing, in ns: the clock for measuring what a routine
 * costs.  Unlike ksl_time_now it never jumps forward to catch up with other CPUs (the threaded
 * engine keeps every CPU's clock in step with the fastest at each scheduling point), so a routine
 * at raised IRQL is charged only what ran on its CPU meanwhile.  Any IRQL; not a scheduling
 * point.
 */
uint64_t ksl_cpu_work_now(void);
/* Busy-wait `us` microseconds of virtual time.  Any IRQL. */
void ksl_stall(uint32_t us, const char *file, int line);

/* ---- pool ------------------------------------------------------------------------------- */

enum ksl_pool_type { KSL_POOL_NONPAGED = 0, KSL_POOL_PAGED = 1 };

/* Tracked allocation; NULL when fault injection fails it.  IRQL <= DISPATCH (PAGED: <= APC). */
void *ksl_pool_alloc(int pool_type, size_t size, uint32_t tag, const char *file, int line);
/* Free; the tag must match.  IRQL <= DISPATCH (a PAGED block: <= APC, else the finding
 * K.paged-free-at-raised-irql, and the block is freed). */
void ksl_pool_free(void *p, uint32_t tag, const char *file, int line);
/* PAGED_CODE(): pageable code must run at APC_LEVEL or below; above it is the finding
 * K.paged-code-at-raised-irql (recorded; the run goes on).  Any IRQL. */
void ksl_paged_code(const char *file, int line);

/* ---- interlocked operations (each a scheduling point) ----------------------------------- */

/* Atomic add, returns the new value.  Any IRQL. */
int32_t ksl_interlocked_add(volatile int32_t *target, int32_t value, const char *file, int line);
/* Atomic exchange, returns the old value.  Any IRQL. */
int32_t ksl_interlocked_exchange(volatile int32_t *target, int32_t value, const char *file, int line);
/* Atomic compare-exchange, returns the old value.  Any IRQL. */
int32_t ksl_interlocked_cmpxchg(volatile int32_t *target, int32_t exchange, int32_t comparand,
                                const char *file, int line);
/* Atomic pointer exchange, returns the old value.  Any IRQL. */
void *ksl_interlocked_exchange_ptr(void *volatile *target, void *value, const char *file, int line);

/* ---- threads ---------------------------------------------------------------------------- */

typedef void ksl_thread_fn(void *arg);

/*
 * Create a PASSIVE_LEVEL client thread that the next run starts.  The run ends when every
 * client thread has returned.  Call before ksl_engine_run or from a thread of the run (PASSIVE).
 */
ksl_thread *ksl_thread_create(ksl_engine *e, const char *name, ksl_thread_fn *fn, void *arg);

/* A driver assertion (ASSERT): a failed one is the finding K.driver-assert.  Any IRQL. */
void ksl_assert_fail(const char *expr, const char *file, int line);
/* Driver debug output: the text (up to 95 characters) is kept in the deterministic engine's
 * event log and shows among the events leading to a finding.  Any IRQL; not a scheduling point. */
void ksl_debug_print(const char *file, int line, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

#ifdef __cplusplus
}
#endif
#endif
