/* SPDX-License-Identifier: MIT */
/*
 * The engine: N virtual CPUs running kernel contexts (client threads, system worker threads,
 * DPCs, ISRs) under one of two executors.
 *
 *  - KSL_ENGINE_DETERMINISTIC (default): one context runs at a time; at every scheduling point a
 *    strategy (random, PCT or a replayed choice list) decides what runs next.  Same binary, same
 *    configuration = the same run, bit for bit (see ksl_engine_trace_hash).
 *  - KSL_ENGINE_THREADED: each virtual CPU is a host pthread; locks are real atomics.  For
 *    throughput and ThreadSanitizer.  Not reproducible.
 *
 * Life cycle (outside any run, on the host thread): ksl_engine_create, set up objects and
 * devices, ksl_thread_create for the client threads, ksl_engine_run, inspect, ksl_engine_destroy.
 * An engine runs once.
 */
#ifndef KSLAB_ENGINE_H
#define KSLAB_ENGINE_H

#include <kslab/ke.h>

#ifdef __cplusplus
extern "C" {
#endif

#define KSL_MAX_CPUS 64

typedef enum ksl_engine_kind { KSL_ENGINE_DETERMINISTIC = 0, KSL_ENGINE_THREADED = 1 } ksl_engine_kind;
typedef enum ksl_strategy_kind { KSL_STRATEGY_RANDOM = 0, KSL_STRATEGY_PCT = 1, KSL_STRATEGY_REPLAY = 2 } ksl_strategy_kind;

typedef struct ksl_config {
    uint32_t cpus;              /* 1..64, default 2 */
    ksl_engine_kind engine;
    uint64_t seed;
    ksl_strategy_kind strategy;
    uint32_t pct_depth;         /* PCT bug depth d >= 1 (d-1 priority change points), default 3 */
    uint64_t pct_steps;         /* PCT's estimate k of the run length in steps, default 20000 */
    const uint32_t *choices;    /* KSL_STRATEGY_REPLAY: the recorded choice list (copied) */
    size_t nchoices;
    uint64_t max_steps;         /* more scheduling points than this is K.hang; default 5,000,000 */
    uint64_t skew_ns;           /* how far one running CPU's clock may run ahead; default 20 us */
    uint32_t step_cost_ns;      /* virtual time one scheduling point costs; default 10 ns */
    uint32_t stack_size;        /* per context, default 256 KiB */
    uint32_t worker_threads;    /* system worker threads for work items, default 2 */
    uint64_t fail_alloc_nth;    /* fault injection: fail the N-th pool allocation (0 = off) */
    uint32_t event_log;         /* events kept for reports, default 64 */
    /* Seeded jitter, as real machines show it, drawn from the seed apart from the schedule (0: off,
     * the default; at most KSL_MAX_JITTER_NS).  Never charged to a routine's measured time. */
    uint32_t jitter_ns;         /* device events (frame arrival, interrupt latency) come up to
                                 * this much later than their device scheduled them; a CPU's DPC
                                 * queue is serviced, and a work item reaches the workers, up to
                                 * this much late (deterministic engine) */
    uint32_t timer_jitter_ns;   /* timers expire (and queue their DPCs) up to this much late */
} ksl_config;

#define KSL_MAX_JITTER_NS 20000000u

/* Fill `cfg` with defaults.  Host code. */
void ksl_config_default(ksl_config *cfg);

/* A finding: a rule broken, with where and by whom. */
typedef struct ksl_finding {
    char rule[48];          /* stable id, e.g. "K.spinlock-recursive" */
    char message[512];      /* one line */
    char context[64];       /* the context that broke it, e.g. "DPC 'tick'" */
    int32_t cpu;            /* -1 when not on a CPU */
    uint8_t irql;
    const char *file;       /* call site, when known */
    int line;
    uint64_t step;
    uint64_t time_ns;
    char detail[4096];      /* multi-line: wait-for cycle, lock cycle, events leading to it */
    bool ended_run;         /* the run stopped at it (a finding that leaves the system's state
                             * in doubt); false: recorded, and the run went on */
    char racing_context[64]; /* a race: the other side's context, ... */
    char racing_file[256];  /* ... and its call site ("": not a race, or the side is unknown) */
    int racing_line;
} ksl_finding;

/* Findings one run records at most: up to one less of those that let it go on (later ones are
 * dropped), and the one that stops it. */
#define KSL_MAX_RUN_FINDINGS 8

/* Race windows a run can count (<kslab/windows.h> names them). */
#define KSL_MAX_WINDOWS 16

typedef struct ksl_stats {
    uint64_t steps;            /* scheduling points */
    uint64_t choices;          /* points where the strategy had two or more options */
    uint64_t switches;         /* context switches between host stacks */
    uint64_t interrupts;       /* ISR deliveries */
    uint64_t dpcs;             /* DPC routines run */
    uint64_t work_items;       /* work items run */
    uint64_t time_ns;          /* virtual time at the end */
    uint64_t max_raised_ns;    /* longest stretch any context spent at IRQL >= DISPATCH */
    uint64_t max_dirql_ns;     /* longest ISR / synchronized routine */
    uint64_t pool_allocs;      /* successful pool allocations */
    uint64_t pool_failed;      /* injected failures */
    uint64_t pool_peak_bytes;
    uint32_t windows[KSL_MAX_WINDOWS]; /* times each race window (<kslab/windows.h>) was reached;
                                        * deterministic engine only */
} ksl_stats;

/* A completed activation of a routine at raised IRQL (for budget checks of later layers). */
typedef struct ksl_activation {
    const char *kind;       /* "ISR", "DPC", "sync", "raised" */
    const char *name;
    uint32_t cpu;
    uint8_t irql;
    uint64_t cost_ns;       /* virtual time spent in it on its CPU */
} ksl_activation;
typedef void ksl_activation_hook(void *user, const ksl_activation *act);

/* Create an engine; NULL with `err` filled on a bad configuration.  Host code. */
ksl_engine *ksl_engine_create(const ksl_config *cfg, char *err, size_t errlen);
/* Free everything.  Host code. */
void ksl_engine_destroy(ksl_engine *e);
/* Run the client threads to completion.  0 clean, 1 finding.  Host code. */
int ksl_engine_run(ksl_engine *e);
/* The first finding of the run, or NULL.  Host code. */
const ksl_finding *ksl_engine_finding(const ksl_engine *e);
/* Every finding of the run in the order they were recorded (at most KSL_MAX_RUN_FINDINGS);
 * *n = 0 for a clean run.  Host code. */
const ksl_finding *ksl_engine_findings(const ksl_engine *e, size_t *n);
/* Counters of the run.  Host code. */
void ksl_engine_stats(const ksl_engine *e, ksl_stats *out);
/* A hash over every scheduling decision and event of the run: equal hashes = equal runs.
 * Host code. */
uint64_t ksl_engine_trace_hash(const ksl_engine *e);
/* The choices the strategy made (deterministic engine), for replay and shrinking.  Host code. */
const uint32_t *ksl_engine_choices(const ksl_engine *e, size_t *n);
/* The engine's configuration after defaults.  Host code. */
const ksl_config *ksl_engine_config(const ksl_engine *e);
/* Called at the end of every ISR, DPC, synchronized routine and raised stretch.  Host code. */
void ksl_engine_set_activation_hook(ksl_engine *e, ksl_activation_hook *hook, void *user);
/*
 * Report a finding from a higher layer (port, class driver, device) and stop the run: for a
 * rule whose breach leaves the state in doubt (a mapping released twice, memory freed under a
 * DMA).  Nothing is recorded after it.  Any IRQL; from a device callback cpu is -1.
 */
void ksl_report(const char *rule, const char *file, int line, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;
/*
 * Record a finding and let the run go on: for a rule whose breach the system survives intact
 * (a budget overrun, a ratio, a lockset or lock-order breach).  A finding of the same rule at the
 * same call site as one already recorded in the run is not recorded again.  Any IRQL.
 */
void ksl_report_continue(const char *rule, const char *file, int line, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;
/* Check that the caller runs at IRQL <= max; otherwise K.passive-only-at-raised-irql (max is
 * PASSIVE) or K.irql-too-high, unless the engine's IRQL refiner names a more specific rule.
 * `call` names the service for the message.  Any IRQL. */
void ksl_require_irql(uint8_t max, const char *call, const char *file, int line);
/*
 * A layer's more specific rule for a service called above its IRQL (e.g. the stream class:
 * a PASSIVE-only service from a minidriver entry point with synchronization on).  Called on the
 * offending CPU, before the finding is recorded, with the service's name and maximum IRQL; it
 * may set *rule (a string that lives as long as the engine) and write the message to msg, and
 * then returns true.  It must not call scheduling points or ksl_report.
 */
typedef bool ksl_irql_refiner(void *user, const char *call, uint8_t max, const char **rule, char *msg, size_t n);
/* Install (or with NULL remove) the engine's one IRQL refiner.  Host code, outside a run. */
void ksl_engine_set_irql_refiner(ksl_engine *e, ksl_irql_refiner *fn, void *user);
/* One event of a deterministic run, as the event log records it. */
typedef struct ksl_trace_event {
    uint64_t step;
    uint64_t time_ns;   /* virtual time on its CPU */
    int32_t cpu;        /* -1: the device (hardware) */
    uint8_t irql;
    char phase;         /* 'i' an instant; 'B' / 'E' a context begins / ends running on `cpu`;
                         * 'F' a finding was recorded (what: its rule; file/line: its site) */
    const char *kind;   /* 'B'/'E': "thread", "DPC", "ISR", "work item"; 'F': "finding"; else NULL */
    const char *what;   /* 'i': e.g. "acquire spin lock", "register write", DbgPrint text; 'B'/'E': the name */
    const char *file;   /* call site, when known */
    int line;
} ksl_trace_event;
typedef void ksl_trace_fn(void *user, const ksl_trace_event *ev);
/* Receive every event of the run as it happens (deterministic engine only; the threaded engine
 * keeps no event log).  Host code, before the run. */
void ksl_engine_set_trace(ksl_engine *e, ksl_trace_fn *fn, void *user);
/*
 * The step hook, for checks that attribute plain memory writes to contexts: the deterministic
 * engine runs one context at a time and switches only at its scheduling points and at
 * activations, so whatever changed in memory since the previous call was written by the context
 * the call is made on.  `fn` runs on that context (ksl_context_name, ksl_held_spinlocks,
 * ksl_irql_current describe it) at every scheduling point (with the point's call site, before
 * the scheduler may switch), just before an ISR or DPC starts or ends on its CPU (file NULL),
 * and right after a spin lock is taken and right before one is released (so the spin locks it
 * reports held are the ones held since the previous call).  It may call ksl_report; it must not
 * call scheduling points.  Deterministic engine only: the
 * threaded engine never calls it.  One hook per engine; NULL removes it.  Host code, outside a
 * run.
 */
typedef void ksl_step_hook(void *user, const char *file, int line);
/*
 * A layer's part of a K.deadlock report: called once, when the scheduler finds that no context
 * can run while client threads wait; it writes lines (each ending in a newline) to buf, e.g.
 * which of its queues wait for what, and they are added to the finding's detail after the
 * waiting threads.  It must not call kernel services.  One per engine; NULL removes it.  Host
 * code, outside a run.
 */
typedef void ksl_deadlock_describer(void *user, char *buf, size_t n);
void ksl_engine_set_deadlock_describer(ksl_engine *e, ksl_deadlock_describer *fn, void *user);
void ksl_engine_set_step_hook(ksl_engine *e, ksl_step_hook *fn, void *user);
/*
 * Atomic accesses, for the same checks: `fn` is called on the accessing context right after an
 * Interlocked operation (InterlockedIncrement, InterlockedExchange, InterlockedCompareExchange,
 * ...) read and wrote the `size` bytes at `addr` atomically, with the operation's call site.  What
 * else the context wrote since the previous step-hook call was booked there (the operation's
 * scheduling point comes first), so a check can tell these bytes' atomic access from plain
 * stores.  Same rules as the step hook: deterministic engine only, one per engine, NULL removes
 * it, host code outside a run to install.
 */
typedef void ksl_atomic_hook(void *user, const volatile void *addr, size_t size, const char *file, int line);
void ksl_engine_set_atomic_hook(ksl_engine *e, ksl_atomic_hook *fn, void *user);
/*
 * The spin locks (including interrupt and cancel locks) the calling CPU holds, innermost last:
 * up to `max` are stored in `out`; returns how many are held.  Any IRQL; not a scheduling point;
 * 0 outside a run.
 */
uint32_t ksl_held_spinlocks(const struct ksl_spinlock **out, uint32_t max);
/*
 * The locks the calling thread holds that put it to sleep rather than spin: fast mutexes it owns,
 * and synchronization events it uses as locks (one whose wait it satisfied and that it has not
 * set since: a binary semaphore, as drivers gate PASSIVE_LEVEL paths with one).  Up to `max`
 * object addresses into `out`; returns how many are held.  Any IRQL; not a scheduling point; 0
 * outside a thread (a DPC, an ISR).
 */
uint32_t ksl_held_sleeplocks(const void **out, uint32_t max);
/* Name another context (as ksl_context_name gives it) that the finding about to be reported
 * involves, e.g. the other side of a race: its events then show those two contexts' steps among
 * every event the run's log keeps, from the start of the window, rather than the last 16 of any.
 * Call right before ksl_report / ksl_report_continue.  Any IRQL; deterministic engine only. */
void ksl_report_involves(const char *context);
/* A race: the next finding's other side is `context` at `file`:`line` (its last call site
 * before the racing access); the finding names it (in the report, JSON, SARIF's
 * relatedLocations) and its fingerprint includes the function that line is in.  Call right before
 * ksl_report / ksl_report_continue.  Any IRQL; deterministic engine only. */
void ksl_report_racing(const char *context, const char *file, int line);
/* The running context's latest call site in the driver's own source (not kslab's): the driver call
 * that led to what kslab detects now.  False when it has made none yet.  A finding reported with
 * no site, or with one in kslab's sources, is placed there.  Any IRQL; deterministic engine only
 * (false in the threaded engine). */
bool ksl_driver_site(const char **file, int *line);
/* Whether a call site is in kslab's own sources (its port, device models, kernel), not the
 * driver's.  Any IRQL; not a scheduling point. */
bool ksl_site_in_kslab(const char *file);
/* A device model about to act for a driver (a DMA transfer the driver programmed): the driver's
 * register access `file`:`line` that led to it is the site of a finding reported with none until
 * the next ksl_report_cause (NULL, 0 clears it).  Any IRQL; deterministic engine only. */
void ksl_report_cause(const char *file, int line);
/* Note an event in the run's log and trace (e.g. "IPortWavePciStream::GetMapping" at the
 * driver's call site); `what` must outlive the run (a string literal).  Any IRQL; not a
 * scheduling point; nothing outside a run. */
void ksl_trace_note(const char *what, const char *file, int line);
/* The engine of the calling context, or NULL outside a run.  Any IRQL. */
ksl_engine *ksl_engine_current(void);
/*
 * Quiescence: the port or class driver calls ksl_quiesce_point when it has made sure no driver
 * code of a closed stream still runs (a pin's close waited for the service calls in flight), a
 * happens-before edge from everything those contexts did to what the closing context does next.
 * A device's lockset check (W2) starts afresh, at its next write, for an engine it finds halted
 * after the epoch moved.  Any IRQL; not a scheduling point.
 */
void ksl_quiesce_point(void);
uint64_t ksl_quiesce_epoch(void);
/* Name of the running context, e.g. "thread 'client0'", "DPC 'tick'".  Any IRQL. */
const char *ksl_context_name(void);

/*
 * Race windows (<kslab/windows.h>), for coverage: a layer opens a span on the calling context
 * around what it calls (Service, ReleaseMapping, a priority routine) and, when an event happens
 * that could race it (a revoke, a cancel), asks whether a span of that kind is open on another
 * context and counts the window as reached.  A span closes by ksl_span_close, when its context's
 * routine (DPC, ISR, work item) returns or its thread ends, and with KSL_SPAN_UNTIL_LOCK when its
 * context next takes a spin lock.  `isr_window` (a ksl_window_id + 1, 0 for none): an ISR that
 * starts while the span is open, on another context (with KSL_SPAN_ISR_OTHER_CPU: on another
 * CPU), reaches that window.  Deterministic engine only: in the threaded engine and outside a run
 * spans are not kept and nothing is counted (ksl_span_open returns 0).  Any IRQL; none of them is
 * a scheduling point.
 */
#define KSL_SPAN_UNTIL_LOCK 0x1u
#define KSL_SPAN_ISR_OTHER_CPU 0x2u
/* `obj` names what the span is about (a stream; NULL: nothing in particular). */
uint32_t ksl_span_open(uint32_t kind, const void *obj, uint32_t isr_window, uint32_t flags);
void ksl_span_close(uint32_t span);
/* Close the caller's spans of `kind` on `obj` (NULL: on anything). */
void ksl_span_close_mine(uint32_t kind, const void *obj);
/* Whether a span of `kind` on `obj` (NULL: on anything) is open on a context other than the
 * caller's. */
bool ksl_span_open_elsewhere(uint32_t kind, const void *obj);
/* Count one reach of window `window` (a ksl_window_id) in this run. */
void ksl_window_hit(uint32_t window);

/*
 * What a watchdog on another thread sees of the deterministic engine running in this process:
 * whether a run is under way, how many scheduling points the process has passed, and the
 * context running now with the call site of its last scheduling point.  A count that stays still
 * while the engine's host thread burns CPU time is a driver loop that never calls the kernel.
 * Lock-free and approximate (compare two samples); the strings live as long as the run.  The
 * threaded engine publishes nothing (running stays false).  Any thread.
 */
/* (ksl_engine_watch: host code on any thread; it never touches a virtual CPU or an IRQL.) */
typedef struct ksl_watch {
    bool running;
    uint64_t points;
    const char *context_kind;   /* "thread", "DPC", "ISR", "work item on", "idle"; NULL before any */
    const char *context_name;   /* the thread's, routine's or worker's name; may be NULL */
    const char *file;           /* the last scheduling point's call site; NULL: none since the
                                 * context began */
    int line;
} ksl_watch;
void ksl_engine_watch(ksl_watch *out);

#ifdef __cplusplus
}
#endif
#endif
