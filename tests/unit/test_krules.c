/* SPDX-License-Identifier: MIT */
/*
 * The kernel rules (every "K." id of src/verify/rules.c), one pair of tests each:
 *
 *   test_<rule>_fires  a small driver scenario that breaks the rule; the run must report exactly
 *                      that id (and a message that says what went wrong);
 *   test_<rule>_clean  its near-identical twin that does the right thing; the run must be clean.
 *
 * Each pair shares one scenario; the `bug` flag of the shared state picks the variant, so the
 * two differ only in the lines the rule is about.  Drivers use the WDK names of
 * <kslab/wdk/wdm.h>.  Every scenario is deterministic in its outcome: each test runs it for
 * seeds 1..NSEEDS on 2 virtual CPUs (unless it says otherwise) and asserts the same result for
 * every seed.  test_workitem_requeued_race is the one scenario whose outcome depends on the
 * interleaving; it sweeps seeds 1..200.
 */
#include "harness.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kslab/device.h>
#include <kslab/rules.h>
#include <kslab/hw/irqdev.h>
#include <kslab/wdk/wdm.h>

/* Seeds per deterministic test, and for the race sweep; -DKRULES_SEEDS=n sweeps further. */
#ifndef KRULES_SEEDS
#define KRULES_SEEDS 10u
#endif
#define NSEEDS ((uint64_t)(KRULES_SEEDS))
#define RACE_SEEDS 200u

/* Pool tags: the bytes in memory order, as ExAllocatePoolWithTag's 'xxxx' constants store them. */
#define MAKE_TAG(a, b, c, d) ((ULONG)(a) | ((ULONG)(b) << 8) | ((ULONG)(c) << 16) | ((ULONG)(d) << 24))
#define TAG_KT MAKE_TAG('K', 'T', 's', 't')
#define TAG_OOPS MAKE_TAG('O', 'o', 'p', 's')

/* ---- the device: an interrupt source (<kslab/hw/irqdev.h>); one TRAIN of 1 per client ---- */

#define DEV_BASE 0x2000u
#define DEV_LINE 7u
#define DEV_IRQL 6u
#define DEV_PERIOD_NS 10000u

/* ---- shared scenario state ---------------------------------------------------------------- */

typedef struct kst kst;
struct kst {
    ksl_engine *e;
    int bug;                       /* 1: the variant that breaks the rule */
    KSPIN_LOCK lock_a, lock_b;     /* initialized by setup_common */
    KSPIN_LOCK lock_raw;           /* initialized only where the scenario says */
    KEVENT ev_a, ev_b, ev_done;    /* notification events, initialized by setup_common */
    KEVENT ev_sync;                /* synchronization event, initialized by setup_common */
    KEVENT ev_raw;                 /* initialized only where the scenario says */
    KTIMER timer;
    KDPC dpc;
    FAST_MUTEX mutex_a;
    PKINTERRUPT intr;
    NTSTATUS connect_status;
    ksl_irqdev dev;
    void (*isr_body)(kst *s);      /* what the device ISR does besides acknowledging */
    PIRP irp;                      /* freed by run_k after the run */
    PIO_WORKITEM wi, wi_block;
    void *mem;
    NTSTATUS wait_status;
    NTSTATUS irp_status;           /* IoStatus.Status seen by the completion routine */
    UCHAR irp_cancel;              /* Irp->Cancel seen by the completion routine */
    BOOLEAN cancel_result;
    ULONG home_cpu;                /* the CPU a thread held its spin lock on */
    volatile LONG count, runs, flag, pending, isr_runs, dpc_runs, completions, queued;
};

typedef struct kopts {
    uint32_t cpus;       /* 0: 2 */
    uint64_t max_steps;  /* 0: the default */
    uint32_t workers;    /* 0: the default */
    bool threaded;       /* the threaded executor */
} kopts;

static kst g_st;
static uint64_t g_seed;

/* After the run, before the engine goes: what a driver's unload would do. */
static void kst_teardown(ksl_engine *e, void *arg)
{
    (void)e;
    kst *s = arg;
    if (s->intr) {
        IoDisconnectInterrupt(s->intr);
        s->intr = NULL;
    }
    if (s->irp) {
        IoFreeIrp(s->irp); /* IRPs are not pool: the engine does not free them */
        s->irp = NULL;
    }
}

/* Run `setup` on a fresh engine with fresh state; the state stays in g_st for inspection. */
static run_out run_k(scenario_fn *setup, int bug, uint64_t seed, const kopts *o)
{
    ksl_config cfg = cfg_with(seed, o && o->cpus ? o->cpus : 2);
    if (o && o->max_steps)
        cfg.max_steps = o->max_steps;
    if (o && o->workers)
        cfg.worker_threads = o->workers;
    if (o && o->threaded)
        cfg.engine = KSL_ENGINE_THREADED;
    memset(&g_st, 0, sizeof g_st);
    g_st.bug = bug;
    g_seed = seed;
    run_out r = run_scenario_td(&cfg, setup, kst_teardown, &g_st);
    run_out_free(&r); /* the choice list is not used here; nothing leaks when an assert fails */
    return r;
}

/* assert_rule / assert_clean, naming the seed when they fail. */
#define ASSERT_RULE(o, r)                                                                                   \
    do {                                                                                                    \
        if (strcmp((o).rule, (r)) != 0)                                                                     \
            print_error("seed %" PRIu64 ":\n", g_seed);                                                     \
        assert_rule((o), (r));                                                                              \
    } while (0)
#define ASSERT_CLEAN(o)                                                                                     \
    do {                                                                                                    \
        if ((o).rule[0] || (o).rc != 0)                                                                     \
            print_error("seed %" PRIu64 ":\n", g_seed);                                                     \
        assert_clean(o);                                                                                    \
    } while (0)
/* `needle` occurs in `hay` (a finding's message or detail). */
#define ASSERT_HAS(hay, needle)                                                                             \
    do {                                                                                                    \
        if (!strstr((hay), (needle))) {                                                                     \
            print_error("seed %" PRIu64 ": '%s' not found in:\n%s\n", g_seed, (needle), (hay));             \
            fail();                                                                                         \
        }                                                                                                   \
    } while (0)

#define FOR_SEEDS(seed) for (uint64_t seed = 1; seed <= NSEEDS; seed++)

static LARGE_INTEGER rel_us(LONGLONG us)
{
    LARGE_INTEGER t;
    t.QuadPart = -10 * us; /* negative: relative, 100 ns units */
    return t;
}

static void setup_common(ksl_engine *e, kst *s)
{
    s->e = e;
    KeInitializeSpinLock(&s->lock_a);
    KeInitializeSpinLock(&s->lock_b);
    KeInitializeEvent(&s->ev_a, NotificationEvent, FALSE);
    KeInitializeEvent(&s->ev_b, NotificationEvent, FALSE);
    KeInitializeEvent(&s->ev_done, NotificationEvent, FALSE);
    KeInitializeEvent(&s->ev_sync, SynchronizationEvent, FALSE);
    KeInitializeTimer(&s->timer);
    ExInitializeFastMutex(&s->mutex_a);
}

/* A scenario with one client thread running `fn` after the common setup. */
#define ONE_THREAD_SCENARIO(name, fn)                                                                       \
    static void name(ksl_engine *e, void *arg)                                                              \
    {                                                                                                       \
        kst *s = arg;                                                                                       \
        setup_common(e, s);                                                                                 \
        ksl_thread_create(e, "client", fn, s);                                                              \
    }

/* ---- routines shared by several scenarios -------------------------------------------------- */

/* DPC: count and signal ev_done. */
static void dpc_signal(PKDPC dpc, PVOID ctx, PVOID a1, PVOID a2)
{
    (void)dpc;
    (void)a1;
    (void)a2;
    kst *s = ctx;
    InterlockedIncrement(&s->dpc_runs);
    KeSetEvent(&s->ev_done, IO_NO_INCREMENT, FALSE);
}

/* The device ISR: claim, acknowledge (deasserts the line), run the scenario's body, queue the DPC. */
static BOOLEAN isr_main(PKINTERRUPT intr, PVOID ctx)
{
    (void)intr;
    kst *s = ctx;
    if (!READ_PORT_ULONG(DEV_BASE + KSL_IRQDEV_STATUS))
        return FALSE;
    WRITE_PORT_ULONG(DEV_BASE + KSL_IRQDEV_STATUS, 1);
    InterlockedIncrement(&s->isr_runs);
    if (s->isr_body)
        s->isr_body(s);
    KeInsertQueueDpc(&s->dpc, NULL, NULL);
    return TRUE;
}

/* Client of the device: start one interrupt, wait for the DPC.  kst_teardown disconnects. */
static void th_device(void *arg)
{
    kst *s = arg;
    LARGE_INTEGER timeout = rel_us(10000);
    WRITE_PORT_ULONG(DEV_BASE + KSL_IRQDEV_TRAIN, 1);
    s->wait_status = KeWaitForSingleObject(&s->ev_done, Executive, KernelMode, FALSE, &timeout);
}

static void setup_device(ksl_engine *e, kst *s, void (*isr_body)(kst *s))
{
    setup_common(e, s);
    ksl_irqdev_attach(&s->dev, e, DEV_BASE, DEV_LINE, DEV_PERIOD_NS);
    s->isr_body = isr_body;
    KeInitializeDpc(&s->dpc, dpc_signal, s);
    s->connect_status = IoConnectInterrupt(&s->intr, isr_main, s, NULL, DEV_LINE, DEV_IRQL, DEV_IRQL, LevelSensitive,
                                           FALSE, 0, FALSE);
    ksl_thread_create(e, "client", th_device, s);
}

/* The device scenario ran to its end: one interrupt, one DPC, the wait satisfied. */
static void check_device_ran(void)
{
    assert_non_null(g_st.dev.dev);
    assert_int_equal(g_st.connect_status, STATUS_SUCCESS);
    assert_int_equal(g_st.isr_runs, 1);
    assert_int_equal(g_st.dpc_runs, 1);
    assert_int_equal(g_st.wait_status, STATUS_SUCCESS);
}

/* Completion routine: record what the IRP was completed with, signal ev_done. */
static NTSTATUS irp_done(PDEVICE_OBJECT dev, PIRP irp, PVOID ctx)
{
    (void)dev;
    kst *s = ctx;
    s->irp_status = irp->IoStatus.Status;
    s->irp_cancel = irp->Cancel;
    InterlockedIncrement(&s->completions);
    KeSetEvent(&s->ev_done, IO_NO_INCREMENT, FALSE);
    return STATUS_SUCCESS;
}

static PIRP new_irp(kst *s)
{
    PIRP irp = IoAllocateIrp(1, FALSE);
    s->irp = irp;
    irp->Tail.Overlay.DriverContext[0] = s;
    IoSetCompletionRoutine(irp, irp_done, s, TRUE, TRUE, TRUE);
    return irp;
}

/* Work routine: count, clear the pending flag, signal ev_sync. */
static void work_count(PDEVICE_OBJECT dev, PVOID ctx)
{
    (void)dev;
    kst *s = ctx;
    InterlockedExchange(&s->pending, 0);
    InterlockedIncrement(&s->runs);
    KeSetEvent(&s->ev_sync, IO_NO_INCREMENT, FALSE);
}

/* ======================================================================================== */
/* A race's window and events (finding.c, driver_site.c)                                    */

enum { WINDOW_DROP_LINE = __LINE__ + 6 };
static void th_window(void *arg)
{
    kst *s = arg;
    KIRQL old;
    KeAcquireSpinLock(&s->lock_a, &old);
    KeReleaseSpinLock(&s->lock_a, old); /* WINDOW_DROP_LINE: the window opens */
    for (int i = 0; i < s->bug; i++)    /* events inside it */
        KeStallExecutionProcessor(1);
    ksl_report_involves("thread 'other'");
    ksl_report_racing("thread 'other'", "other.c", 7);
    ksl_report_continue("K.test-race", __FILE__, __LINE__, "a race");
}
ONE_THREAD_SCENARIO(sc_window, th_window)

/* A race's detail names the window its context opened (the driver's line where it released its
 * lock), and its events start there: two before it, then the window; a window longer than the
 * report holds shows its first and last events and how many it leaves out. */
static void test_race_window_and_events(void **state)
{
    (void)state;
    char drop[64];
    snprintf(drop, sizeof drop, "window: thread 'client' released a lock at ");
    for (int n = 5; n <= 60; n += 55) {
        run_out o = run_k(sc_window, n, 1, NULL);
        ASSERT_RULE(o, "K.test-race");
        const char *w = strstr(o.detail, drop);
        assert_non_null(w);
        char line[32];
        snprintf(line, sizeof line, "test_krules.c:%d (step ", (int)WINDOW_DROP_LINE);
        assert_non_null(strstr(w, line));
        assert_non_null(strstr(w, "still open at the finding; thread 'other' ran in between"));
        if (n == 5) { /* short: the window whole, with the two events before it */
            assert_non_null(strstr(o.detail, "events of thread 'client' and thread 'other', from two before the "
                                             "window's start ("));
            assert_non_null(strstr(o.detail, "acquire spin lock"));
            assert_null(strstr(o.detail, "more of their events"));
        } else { /* long: its start, the count left out, its end */
            assert_true(strstr(o.detail, "from the window's start (") || strstr(o.detail, "from the oldest the log keeps"));
            assert_non_null(strstr(o.detail, "release spin lock"));
            /* 60 stalls and the release in the window: 10 + 12 of them shown, 39 left out */
            assert_non_null(strstr(o.detail, "    ... 39 more of their events ...\n"));
        }
        run_out_free(&o);
    }
}

/* ======================================================================================== */
/* K.irql-raise-to-lower                                                                    */

static void th_raise_to_lower(void *arg)
{
    kst *s = arg;
    KIRQL old, old2;
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    KeRaiseIrql(s->bug ? APC_LEVEL : CLOCK_LEVEL, &old2); /* bug: "raise" below DISPATCH_LEVEL */
    s->count++;
    KeLowerIrql(old2);
    KeLowerIrql(old);
}
ONE_THREAD_SCENARIO(sc_raise_to_lower, th_raise_to_lower)

static void test_irql_raise_to_lower_fires(void **state)
{
    (void)state;
    FOR_SEEDS(seed) {
        run_out o = run_k(sc_raise_to_lower, 1, seed, NULL);
        ASSERT_RULE(o, "K.irql-raise-to-lower");
        ASSERT_HAS(o.message, "KeRaiseIrql to APC_LEVEL, below the current DISPATCH_LEVEL");
        ASSERT_HAS(o.message, "thread 'client'");
        run_out_free(&o);
    }
}

static void test_irql_raise_to_lower_clean(void **state)
{
    (void)state;
    FOR_SEEDS(seed) {
        run_out o = run_k(sc_raise_to_lower, 0, seed, NULL);
        ASSERT_CLEAN(o);
        assert_int_equal(g_st.count, 1);
        run_out_free(&o);
    }
}

/* ======================================================================================== */
/* K.irql-lower-to-higher                                                                   */

static void th_lower_to_higher(void *arg)
{
    kst *s = arg;
    KIRQL old;
    KeRaiseIrql(APC_LEVEL, &old);
    s->count++;
    KeLowerIrql(s->bug ? DISPATCH_LEVEL : old); /* bug: "lower" above APC_LEVEL */
}
ONE_THREAD_SCENARIO(sc_lower_to_higher, th_lower_to_higher)

static void test_irql_lower_to_higher_fires(void **state)
{
    (void)state;
    FOR_SEEDS(seed) {
        run_out o = run_k(sc_lower_to_higher, 1, seed, NULL);
        ASSERT_RULE(o, "K.irql-lower-to-higher");
        ASSERT_HAS(o.message, "KeLowerIrql to DISPATCH_LEVEL, above the current APC_LEVEL");
        run_out_free(&o);
    }
}

static void test_irql_lower_to_higher_clean(void **state)
{
    (void)state;
    FOR_SEEDS(seed) {
        run_out o = run_k(sc_lower_to_higher, 0, seed, NULL);
        ASSERT_CLEAN(o);
        assert_int_equal(g_st.count, 1);
        run_out_free(&o);
    }
}

/* ======================================================================================== */
/* K.spinlock-acquire-above-dispatch: an ISR (at DIRQL) takes an ordinary spin lock.        */

static void isr_body_take_lock(kst *s)
{
    KIRQL old;
    if (s->bug) {
        KeAcquireSpinLock(&s->lock_a, &old); /* bug: the raising acquire at DIRQL */
        s->count++;
        KeReleaseSpinLock(&s->lock_a, old);
    } else {
        KeAcquireSpinLockAtDpcLevel(&s->lock_a);
        s->count++;
        KeReleaseSpinLockFromDpcLevel(&s->lock_a);
    }
}

static void sc_acquire_above_dispatch(ksl_engine *e, void *arg)
{
    setup_device(e, arg, isr_body_take_lock);
}

static void test_spinlock_acquire_above_dispatch_fires(void **state)
{
    (void)state;
    FOR_SEEDS(seed) {
        run_out o = run_k(sc_acquire_above_dispatch, 1, seed, NULL);
        ASSERT_RULE(o, "K.spinlock-acquire-above-dispatch");
        ASSERT_HAS(o.message, "ISR 'ISR'");
        ASSERT_HAS(o.message, "KeAcquireSpinLock on 's->lock_a' at DIRQL 6");
        run_out_free(&o);
    }
}

static void test_spinlock_acquire_above_dispatch_clean(void **state)
{
    (void)state;
    FOR_SEEDS(seed) {
        run_out o = run_k(sc_acquire_above_dispatch, 0, seed, NULL);
        ASSERT_CLEAN(o);
        check_device_ran();
        assert_int_equal(g_st.count, 1);
        run_out_free(&o);
    }
}

/* ======================================================================================== */
/* K.spinlock-dpc-below-dispatch                                                            */

static void th_dpc_below_dispatch(void *arg)
{
    kst *s = arg;
    KIRQL old = PASSIVE_LEVEL;
    if (!s->bug) /* bug: forgets that the AtDpcLevel calls need DISPATCH_LEVEL already */
        KeRaiseIrql(DISPATCH_LEVEL, &old);
    KeAcquireSpinLockAtDpcLevel(&s->lock_a);
    s->count++;
    KeReleaseSpinLockFromDpcLevel(&s->lock_a);
    if (!s->bug)
        KeLowerIrql(old);
}
ONE_THREAD_SCENARIO(sc_dpc_below_dispatch, th_dpc_below_dispatch)

static void test_spinlock_dpc_below_dispatch_fires(void **state)
{
    (void)state;
    FOR_SEEDS(seed) {
        run_out o = run_k(sc_dpc_below_dispatch, 1, seed, NULL);
        ASSERT_RULE(o, "K.spinlock-dpc-below-dispatch");
        ASSERT_HAS(o.message, "KeAcquireSpinLockAtDpcLevel on 's->lock_a' at PASSIVE_LEVEL");
        run_out_free(&o);
    }
}

static void test_spinlock_dpc_below_dispatch_clean(void **state)
{
    (void)state;
    FOR_SEEDS(seed) {
        run_out o = run_k(sc_dpc_below_dispatch, 0, seed, NULL);
        ASSERT_CLEAN(o);
        assert_int_equal(g_st.count, 1);
        run_out_free(&o);
    }
}

/* ======================================================================================== */
/* K.spinlock-release-not-held                                                              */

static void th_release_not_held(void *arg)
{
    kst *s = arg;
    KIRQL old;
    KeAcquireSpinLock(&s->lock_a, &old);
    s->count++;
    KeReleaseSpinLock(s->bug ? &s->lock_b : &s->lock_a, old); /* bug: releases the other lock */
}
ONE_THREAD_SCENARIO(sc_release_not_held, th_release_not_held)

static void test_spinlock_release_not_held_fires(void **state)
{
    (void)state;
    FOR_SEEDS(seed) {
        run_out o = run_k(sc_release_not_held, 1, seed, NULL);
        ASSERT_RULE(o, "K.spinlock-release-not-held");
        ASSERT_HAS(o.message, "KeReleaseSpinLock on 's->lock_b', which is not held");
        run_out_free(&o);
    }
}

static void test_spinlock_release_not_held_clean(void **state)
{
    (void)state;
    FOR_SEEDS(seed) {
        run_out o = run_k(sc_release_not_held, 0, seed, NULL);
        ASSERT_CLEAN(o);
        assert_int_equal(g_st.count, 1);
        run_out_free(&o);
    }
}

/* ======================================================================================== */
/* K.spinlock-release-wrong-cpu: a thread holds a lock; a DPC on the other CPU releases it.  */

static void dpc_finish(PKDPC dpc, PVOID ctx, PVOID a1, PVOID a2)
{
    (void)dpc;
    (void)a1;
    (void)a2;
    kst *s = ctx;
    if (s->bug) /* bug: "releases it for the thread", on the wrong CPU */
        KeReleaseSpinLockFromDpcLevel(&s->lock_a);
    InterlockedIncrement(&s->dpc_runs);
    InterlockedExchange(&s->flag, 1);
}

static void th_release_wrong_cpu(void *arg)
{
    kst *s = arg;
    KIRQL old;
    KeAcquireSpinLock(&s->lock_a, &old);
    /* At DISPATCH_LEVEL the thread stays on this CPU; send the DPC to the other one. */
    s->home_cpu = KeGetCurrentProcessorNumber();
    ULONG other = (s->home_cpu + 1) % KeQueryActiveProcessorCount(NULL);
    KeSetTargetProcessorDpc(&s->dpc, other);
    KeInsertQueueDpc(&s->dpc, NULL, NULL);
    while (InterlockedCompareExchange(&s->flag, 0, 0) == 0)
        KeStallExecutionProcessor(1);
    s->count++;
    KeReleaseSpinLock(&s->lock_a, old);
}

static void sc_release_wrong_cpu(ksl_engine *e, void *arg)
{
    kst *s = arg;
    setup_common(e, s);
    KeInitializeDpc(&s->dpc, dpc_finish, s);
    ksl_thread_create(e, "client", th_release_wrong_cpu, s);
}

static void test_spinlock_release_wrong_cpu_fires(void **state)
{
    (void)state;
    FOR_SEEDS(seed) {
        run_out o = run_k(sc_release_wrong_cpu, 1, seed, NULL);
        ASSERT_RULE(o, "K.spinlock-release-wrong-cpu");
        char want[160];
        snprintf(want, sizeof want, "DPC 'dpc_finish' on CPU %u at DISPATCH_LEVEL", (unsigned)(1 - g_st.home_cpu));
        ASSERT_HAS(o.message, want);
        snprintf(want, sizeof want, "KeReleaseSpinLockFromDpcLevel on 's->lock_a', which CPU %u holds",
                 (unsigned)g_st.home_cpu);
        ASSERT_HAS(o.message, want);
        run_out_free(&o);
    }
}

static void test_spinlock_release_wrong_cpu_clean(void **state)
{
    (void)state;
    FOR_SEEDS(seed) {
        run_out o = run_k(sc_release_wrong_cpu, 0, seed, NULL);
        ASSERT_CLEAN(o);
        assert_int_equal(g_st.dpc_runs, 1);
        assert_int_equal(g_st.count, 1);
        run_out_free(&o);
    }
}

/* ======================================================================================== */
/* K.spinlock-recursive: a helper that takes the lock, called with the lock held.           */

static void bump_locked(kst *s)
{
    KIRQL old;
    KeAcquireSpinLock(&s->lock_a, &old);
    s->count++;
    KeReleaseSpinLock(&s->lock_a, old);
}

static void th_recursive(void *arg)
{
    kst *s = arg;
    KIRQL old;
    KeAcquireSpinLock(&s->lock_a, &old);
    s->count++;
    if (s->bug) /* bug: calls the locking helper with the lock held */
        bump_locked(s);
    KeReleaseSpinLock(&s->lock_a, old);
    if (!s->bug)
        bump_locked(s);
}
ONE_THREAD_SCENARIO(sc_recursive, th_recursive)

static void test_spinlock_recursive_fires(void **state)
{
    (void)state;
    FOR_SEEDS(seed) {
        run_out o = run_k(sc_recursive, 1, seed, NULL);
        ASSERT_RULE(o, "K.spinlock-recursive");
        ASSERT_HAS(o.message, "'s->lock_a', which this CPU already holds");
        ASSERT_HAS(o.message, "self-deadlock");
        run_out_free(&o);
    }
}

static void test_spinlock_recursive_clean(void **state)
{
    (void)state;
    FOR_SEEDS(seed) {
        run_out o = run_k(sc_recursive, 0, seed, NULL);
        ASSERT_CLEAN(o);
        assert_int_equal(g_st.count, 2);
        run_out_free(&o);
    }
}

/* ======================================================================================== */
/* K.spinlock-release-irql: the release restores a clobbered IRQL.                          */

static void th_release_irql(void *arg)
{
    kst *s = arg;
    KIRQL old;
    KeAcquireSpinLock(&s->lock_a, &old);
    s->count++;
    if (s->bug)
        old = DISPATCH_LEVEL; /* bug: the saved IRQL is overwritten */
    KeReleaseSpinLock(&s->lock_a, old);
}
ONE_THREAD_SCENARIO(sc_release_irql, th_release_irql)

static void test_spinlock_release_irql_fires(void **state)
{
    (void)state;
    FOR_SEEDS(seed) {
        run_out o = run_k(sc_release_irql, 1, seed, NULL);
        ASSERT_RULE(o, "K.spinlock-release-irql");
        ASSERT_HAS(o.message, "restores DISPATCH_LEVEL, but the acquire saved PASSIVE_LEVEL");
        run_out_free(&o);
    }
}

static void test_spinlock_release_irql_clean(void **state)
{
    (void)state;
    FOR_SEEDS(seed) {
        run_out o = run_k(sc_release_irql, 0, seed, NULL);
        ASSERT_CLEAN(o);
        assert_int_equal(g_st.count, 1);
        run_out_free(&o);
    }
}

/* ======================================================================================== */
/* K.spinlock-uninitialized                                                                 */

static void th_spin_uninit(void *arg)
{
    kst *s = arg;
    KIRQL old;
    if (!s->bug) /* bug: lock_raw (zeroed memory) is used without KeInitializeSpinLock */
        KeInitializeSpinLock(&s->lock_raw);
    KeAcquireSpinLock(&s->lock_raw, &old);
    s->count++;
    KeReleaseSpinLock(&s->lock_raw, old);
}
ONE_THREAD_SCENARIO(sc_spin_uninit, th_spin_uninit)

static void test_spinlock_uninitialized_fires(void **state)
{
    (void)state;
    FOR_SEEDS(seed) {
        run_out o = run_k(sc_spin_uninit, 1, seed, NULL);
        ASSERT_RULE(o, "K.spinlock-uninitialized");
        ASSERT_HAS(o.message, "KeAcquireSpinLock on a spin lock that was never initialized");
        run_out_free(&o);
    }
}

static void test_spinlock_uninitialized_clean(void **state)
{
    (void)state;
    FOR_SEEDS(seed) {
        run_out o = run_k(sc_spin_uninit, 0, seed, NULL);
        ASSERT_CLEAN(o);
        assert_int_equal(g_st.count, 1);
        run_out_free(&o);
    }
}

/* ======================================================================================== */
/* K.object-uninitialized                                                                   */

static void th_object_uninit(void *arg)
{
    kst *s = arg;
    if (!s->bug) /* bug: ev_raw (zeroed memory) is used without KeInitializeEvent */
        KeInitializeEvent(&s->ev_raw, NotificationEvent, FALSE);
    KeSetEvent(&s->ev_raw, IO_NO_INCREMENT, FALSE);
    s->wait_status = KeWaitForSingleObject(&s->ev_raw, Executive, KernelMode, FALSE, NULL);
    s->count++;
}
ONE_THREAD_SCENARIO(sc_object_uninit, th_object_uninit)

static void test_object_uninitialized_fires(void **state)
{
    (void)state;
    FOR_SEEDS(seed) {
        run_out o = run_k(sc_object_uninit, 1, seed, NULL);
        ASSERT_RULE(o, "K.object-uninitialized");
        ASSERT_HAS(o.message, "KeSetEvent on an event that was never initialized");
        run_out_free(&o);
    }
}

static void test_object_uninitialized_clean(void **state)
{
    (void)state;
    FOR_SEEDS(seed) {
        run_out o = run_k(sc_object_uninit, 0, seed, NULL);
        ASSERT_CLEAN(o);
        assert_int_equal(g_st.wait_status, STATUS_SUCCESS);
        assert_int_equal(g_st.count, 1);
        run_out_free(&o);
    }
}

/* ======================================================================================== */
/* K.wait-at-dispatch: a wait with a timeout while holding a spin lock.                     */

static void th_wait_at_dispatch(void *arg)
{
    kst *s = arg;
    KIRQL old;
    LARGE_INTEGER timeout = rel_us(s->bug ? 100 : 0); /* zero: a poll, allowed at DISPATCH_LEVEL */
    KeAcquireSpinLock(&s->lock_a, &old);
    s->wait_status = KeWaitForSingleObject(&s->ev_a, Executive, KernelMode, FALSE, &timeout);
    s->count++;
    KeReleaseSpinLock(&s->lock_a, old);
}
ONE_THREAD_SCENARIO(sc_wait_at_dispatch, th_wait_at_dispatch)

static void test_wait_at_dispatch_fires(void **state)
{
    (void)state;
    FOR_SEEDS(seed) {
        run_out o = run_k(sc_wait_at_dispatch, 1, seed, NULL);
        ASSERT_RULE(o, "K.wait-at-dispatch");
        ASSERT_HAS(o.message, "KeWaitForSingleObject with a non-zero timeout at DISPATCH_LEVEL");
        run_out_free(&o);
    }
}

static void test_wait_at_dispatch_clean(void **state)
{
    (void)state;
    FOR_SEEDS(seed) {
        run_out o = run_k(sc_wait_at_dispatch, 0, seed, NULL);
        ASSERT_CLEAN(o);
        assert_int_equal(g_st.wait_status, STATUS_TIMEOUT);
        assert_int_equal(g_st.count, 1);
        run_out_free(&o);
    }
}

/* ======================================================================================== */
/* K.passive-only-at-raised-irql: creating a thread (PASSIVE_LEVEL only) under a spin lock. */

static void th_child(void *arg)
{
    kst *s = arg;
    InterlockedIncrement(&s->runs);
}

static void th_passive_only(void *arg)
{
    kst *s = arg;
    KIRQL old;
    KeAcquireSpinLock(&s->lock_a, &old);
    s->count++;
    if (s->bug) /* bug: starts the helper thread while still holding the lock */
        ksl_thread_create(s->e, "child", th_child, s);
    KeReleaseSpinLock(&s->lock_a, old);
    if (!s->bug)
        ksl_thread_create(s->e, "child", th_child, s);
}
ONE_THREAD_SCENARIO(sc_passive_only, th_passive_only)

static void test_passive_only_at_raised_irql_fires(void **state)
{
    (void)state;
    FOR_SEEDS(seed) {
        run_out o = run_k(sc_passive_only, 1, seed, NULL);
        ASSERT_RULE(o, "K.passive-only-at-raised-irql");
        ASSERT_HAS(o.message, "at DISPATCH_LEVEL");
        ASSERT_HAS(o.message, "may only be called at PASSIVE_LEVEL");
        assert_int_equal(g_st.runs, 0);
        run_out_free(&o);
    }
}

static void test_passive_only_at_raised_irql_clean(void **state)
{
    (void)state;
    FOR_SEEDS(seed) {
        run_out o = run_k(sc_passive_only, 0, seed, NULL);
        ASSERT_CLEAN(o);
        assert_int_equal(g_st.count, 1);
        assert_int_equal(g_st.runs, 1);
        run_out_free(&o);
    }
}

/* ======================================================================================== */
/* K.irql-too-high: KeSetTimer (IRQL <= DISPATCH) inside a KeSynchronizeExecution routine.  */

static BOOLEAN sync_arm(PVOID ctx)
{
    kst *s = ctx;
    LARGE_INTEGER due = rel_us(100);
    s->count++;
    if (s->bug) /* bug: arms the timer at the interrupt's DIRQL */
        KeSetTimer(&s->timer, due, NULL);
    return TRUE;
}

static void th_irql_too_high(void *arg)
{
    kst *s = arg;
    LARGE_INTEGER due = rel_us(100);
    BOOLEAN r = KeSynchronizeExecution(s->intr, sync_arm, s);
    if (!s->bug)
        KeSetTimer(&s->timer, due, NULL);
    s->wait_status = r ? KeWaitForSingleObject(&s->timer, Executive, KernelMode, FALSE, NULL) : STATUS_UNSUCCESSFUL;
}

static BOOLEAN isr_never(PKINTERRUPT intr, PVOID ctx)
{
    (void)intr;
    (void)ctx;
    return FALSE;
}

static void sc_irql_too_high(ksl_engine *e, void *arg)
{
    kst *s = arg;
    setup_common(e, s);
    s->connect_status = IoConnectInterrupt(&s->intr, isr_never, s, NULL, DEV_LINE, DEV_IRQL, DEV_IRQL, LevelSensitive,
                                           FALSE, 0, FALSE);
    ksl_thread_create(e, "client", th_irql_too_high, s);
}

static void test_irql_too_high_fires(void **state)
{
    (void)state;
    FOR_SEEDS(seed) {
        run_out o = run_k(sc_irql_too_high, 1, seed, NULL);
        ASSERT_RULE(o, "K.irql-too-high");
        ASSERT_HAS(o.message, "KeSetTimer called at DIRQL 6; it requires IRQL <= DISPATCH_LEVEL");
        run_out_free(&o);
    }
}

static void test_irql_too_high_clean(void **state)
{
    (void)state;
    FOR_SEEDS(seed) {
        run_out o = run_k(sc_irql_too_high, 0, seed, NULL);
        ASSERT_CLEAN(o);
        assert_int_equal(g_st.connect_status, STATUS_SUCCESS);
        assert_int_equal(g_st.count, 1);
        assert_int_equal(g_st.wait_status, STATUS_SUCCESS);
        run_out_free(&o);
    }
}

/* ======================================================================================== */
/* K.paged-free-at-raised-irql: a paged block freed under a spin lock (DISPATCH_LEVEL).     */

static void th_paged_free(void *arg)
{
    kst *s = arg;
    KIRQL old;
    PUCHAR p = ExAllocatePoolWithTag(PagedPool, 64, TAG_KT);
    if (!p)
        return;
    p[0] = 1;
    KeAcquireSpinLock(&s->lock_a, &old);
    s->count++;
    if (s->bug) /* bug: frees the paged block while holding the spin lock */
        ExFreePoolWithTag(p, TAG_KT);
    KeReleaseSpinLock(&s->lock_a, old);
    if (!s->bug)
        ExFreePoolWithTag(p, TAG_KT);
    s->runs++; /* the finding lets the run go on */
}
ONE_THREAD_SCENARIO(sc_paged_free, th_paged_free)

static void test_paged_free_at_raised_irql_fires(void **state)
{
    (void)state;
    FOR_SEEDS(seed) {
        run_out o = run_k(sc_paged_free, 1, seed, NULL);
        ASSERT_RULE(o, "K.paged-free-at-raised-irql");
        ASSERT_HAS(o.message, "ExFreePoolWithTag of paged pool (tag 'KTst'");
        ASSERT_HAS(o.message, "at DISPATCH_LEVEL");
        assert_int_equal(g_st.runs, 1); /* recorded, and the thread went on (no leak either) */
        run_out_free(&o);
    }
}

static void test_paged_free_at_raised_irql_clean(void **state)
{
    (void)state;
    FOR_SEEDS(seed) {
        run_out o = run_k(sc_paged_free, 0, seed, NULL);
        ASSERT_CLEAN(o);
        assert_int_equal(g_st.count, 1);
        assert_int_equal(g_st.runs, 1);
        run_out_free(&o);
    }
}

/* ======================================================================================== */
/* K.paged-touch-at-raised-irql: a paged block written under a spin lock (DISPATCH_LEVEL).  */

static void th_paged_touch(void *arg)
{
    kst *s = arg;
    KIRQL old;
    volatile UCHAR *p = ExAllocatePoolWithTag(PagedPool, 64, TAG_KT);
    if (!p)
        return;
    p[0] = 1; /* at PASSIVE_LEVEL: fine */
    KeAcquireSpinLock(&s->lock_a, &old);
    s->count++;
    if (s->bug) /* bug: writes the paged block while holding the spin lock */
        p[1] = 2;
    KeReleaseSpinLock(&s->lock_a, old);
    if (!s->bug)
        p[1] = 2;
    s->flag = p[0] + p[1]; /* the write happened either way */
    ExFreePoolWithTag((PVOID)p, TAG_KT);
    s->runs++; /* the finding lets the run go on */
}
ONE_THREAD_SCENARIO(sc_paged_touch, th_paged_touch)

static void test_paged_touch_at_raised_irql_fires(void **state)
{
    (void)state;
    FOR_SEEDS(seed) {
        run_out o = run_k(sc_paged_touch, 1, seed, NULL);
        ASSERT_RULE(o, "K.paged-touch-at-raised-irql");
        ASSERT_HAS(o.message, "thread 'client'");
        ASSERT_HAS(o.message, "touched paged pool (tag 'KTst', 64 bytes allocated at");
        ASSERT_HAS(o.message, "at DISPATCH_LEVEL");
        assert_int_equal(g_st.flag, 3);
        assert_int_equal(g_st.runs, 1);
        run_out_free(&o);
    }
}

static void test_paged_touch_at_raised_irql_clean(void **state)
{
    (void)state;
    FOR_SEEDS(seed) {
        run_out o = run_k(sc_paged_touch, 0, seed, NULL);
        ASSERT_CLEAN(o);
        assert_int_equal(g_st.flag, 3);
        assert_int_equal(g_st.runs, 1);
        run_out_free(&o);
    }
}

/* ======================================================================================== */
/* K.paged-code-at-raised-irql: a PAGED_CODE() function called from a DPC.                  */

static void pageable_helper(kst *s)
{
    PAGED_CODE();
    s->count++;
}

static VOID dpc_calls_pageable(PKDPC dpc, PVOID ctx, PVOID a1, PVOID a2)
{
    (void)dpc, (void)a1, (void)a2;
    kst *s = ctx;
    if (s->bug) /* bug: pageable code at DISPATCH_LEVEL */
        pageable_helper(s);
    KeSetEvent(&s->ev_done, 0, FALSE);
}

static void th_paged_code(void *arg)
{
    kst *s = arg;
    KeInitializeDpc(&s->dpc, dpc_calls_pageable, s);
    KeInsertQueueDpc(&s->dpc, NULL, NULL);
    KeWaitForSingleObject(&s->ev_done, Executive, KernelMode, FALSE, NULL);
    if (!s->bug)
        pageable_helper(s); /* at PASSIVE_LEVEL */
    s->runs++;
}
ONE_THREAD_SCENARIO(sc_paged_code, th_paged_code)

static void test_paged_code_at_raised_irql_fires(void **state)
{
    (void)state;
    FOR_SEEDS(seed) {
        run_out o = run_k(sc_paged_code, 1, seed, NULL);
        ASSERT_RULE(o, "K.paged-code-at-raised-irql");
        ASSERT_HAS(o.message, "DPC");
        ASSERT_HAS(o.message, "PAGED_CODE() reached at DISPATCH_LEVEL");
        assert_int_equal(g_st.count, 1);
        assert_int_equal(g_st.runs, 1);
        run_out_free(&o);
    }
}

static void test_paged_code_at_raised_irql_clean(void **state)
{
    (void)state;
    FOR_SEEDS(seed) {
        run_out o = run_k(sc_paged_code, 0, seed, NULL);
        ASSERT_CLEAN(o);
        assert_int_equal(g_st.count, 1);
        assert_int_equal(g_st.runs, 1);
        run_out_free(&o);
    }
}

/* ======================================================================================== */
/* K.isr-claimed-spurious: a fault injector pulses the line 1 ms in with no device cause; the */
/* ISR that claims without looking at its device is reported, with the fault it followed.   */

static ksl_device *g_pulser;

static void pulse_event(void *dev, uint64_t cookie, uint64_t now)
{
    (void)dev;
    (void)cookie;
    (void)now;
    ksl_fault_injected(g_st.e, "test", "spurious-interrupt");
    ksl_irq_line_pulse(g_st.e, DEV_LINE);
}

static const ksl_device_ops pulser_ops = {KSL_DEVICE_OPS_VERSION, "pulser", NULL, NULL, pulse_event, 0};

static BOOLEAN isr_spurious(PKINTERRUPT intr, PVOID ctx)
{
    (void)intr;
    kst *s = ctx;
    InterlockedIncrement(&s->isr_runs);
    if (s->bug) /* bug: claims whatever its device says */
        return TRUE;
    if (!READ_PORT_ULONG(DEV_BASE + KSL_IRQDEV_STATUS))
        return FALSE;
    WRITE_PORT_ULONG(DEV_BASE + KSL_IRQDEV_STATUS, 1);
    return TRUE;
}

static void th_sleep_2ms(void *arg)
{
    (void)arg;
    LARGE_INTEGER iv = rel_us(2000);
    KeDelayExecutionThread(KernelMode, FALSE, &iv);
}

static void sc_spurious(ksl_engine *e, void *arg)
{
    kst *s = arg;
    setup_common(e, s);
    s->e = e;
    ksl_irqdev_attach(&s->dev, e, DEV_BASE, DEV_LINE, DEV_PERIOD_NS);
    g_pulser = ksl_device_attach(e, &pulser_ops, NULL, 0, 0);
    ksl_device_schedule(g_pulser, 1000000, 1);
    s->connect_status = IoConnectInterrupt(&s->intr, isr_spurious, s, NULL, DEV_LINE, DEV_IRQL, DEV_IRQL,
                                           LevelSensitive, FALSE, 0, FALSE);
    ksl_thread_create(e, "sleeper", th_sleep_2ms, s);
}

static void test_isr_claimed_spurious(void **state)
{
    (void)state;
    FOR_SEEDS(seed) {
        run_out o = run_k(sc_spurious, 1, seed, NULL);
        ASSERT_RULE(o, "K.isr-claimed-spurious");
        assert_int_equal(g_st.isr_runs, 1);
        assert_non_null(strstr(o.message, "ISR"));
        assert_non_null(strstr(o.message, "[after injected fault test: spurious-interrupt at 1000000 ns]"));
        assert_non_null(strstr(o.detail, "faults injected (1):"));
        assert_true(o.line > 0); /* the ISR's first access, in this file */
        run_out_free(&o);
        o = run_k(sc_spurious, 0, seed, NULL); /* turned away: clean */
        ASSERT_CLEAN(o);
        assert_int_equal(g_st.isr_runs, 1);
        run_out_free(&o);
    }
}

/* K.interrupt-storm: the device raises its line once; the buggy ISR claims without acknowledging
 * it, so the level-triggered line is taken again and again. */
static BOOLEAN isr_no_ack(PKINTERRUPT intr, PVOID ctx)
{
    (void)intr;
    kst *s = ctx;
    InterlockedIncrement(&s->isr_runs);
    if (!READ_PORT_ULONG(DEV_BASE + KSL_IRQDEV_STATUS))
        return FALSE;
    if (!s->bug)
        WRITE_PORT_ULONG(DEV_BASE + KSL_IRQDEV_STATUS, 1);
    return TRUE;
}

static void sc_storm(ksl_engine *e, void *arg)
{
    kst *s = arg;
    setup_common(e, s);
    ksl_irqdev_attach(&s->dev, e, DEV_BASE, DEV_LINE, DEV_PERIOD_NS);
    s->connect_status = IoConnectInterrupt(&s->intr, isr_no_ack, s, NULL, DEV_LINE, DEV_IRQL, DEV_IRQL,
                                           LevelSensitive, FALSE, 0, FALSE);
    ksl_thread_create(e, "client", th_device, s);
}

static void test_interrupt_storm(void **state)
{
    (void)state;
    FOR_SEEDS(seed) {
        run_out o = run_k(sc_storm, 1, seed, NULL);
        ASSERT_RULE(o, "K.interrupt-storm");
        assert_int_equal(g_st.isr_runs, 1000);
        assert_non_null(strstr(o.message, "line 7 stayed asserted through 1000 ISR runs"));
        assert_true(o.line > 0); /* the last ISR's first access: the status it read */
        run_out_free(&o);
        o = run_k(sc_storm, 0, seed, NULL);
        ASSERT_CLEAN(o);
        assert_int_equal(g_st.isr_runs, 1);
        run_out_free(&o);
    }
}

/* ======================================================================================== */
/* K.isr-irql-changed: the ISR raises and does not lower back.                              */

static void isr_body_raise(kst *s)
{
    KIRQL old;
    KeRaiseIrql(HIGH_LEVEL, &old);
    s->count++;
    if (!s->bug) /* bug: returns at HIGH_LEVEL */
        KeLowerIrql(old);
}

static void sc_isr_irql(ksl_engine *e, void *arg)
{
    setup_device(e, arg, isr_body_raise);
}

static void test_isr_irql_changed_fires(void **state)
{
    (void)state;
    FOR_SEEDS(seed) {
        run_out o = run_k(sc_isr_irql, 1, seed, NULL);
        ASSERT_RULE(o, "K.isr-irql-changed");
        ASSERT_HAS(o.message, "ISR 'ISR' returned at HIGH_LEVEL; it was called at DIRQL 6");
        assert_int_equal(g_st.isr_runs, 1);
        run_out_free(&o);
    }
}

static void test_isr_irql_changed_clean(void **state)
{
    (void)state;
    FOR_SEEDS(seed) {
        run_out o = run_k(sc_isr_irql, 0, seed, NULL);
        ASSERT_CLEAN(o);
        check_device_ran();
        assert_int_equal(g_st.count, 1);
        run_out_free(&o);
    }
}

/* ======================================================================================== */
/* K.routine-irql-changed: a DPC raises and does not lower back.                            */

static void dpc_raise(PKDPC dpc, PVOID ctx, PVOID a1, PVOID a2)
{
    (void)dpc;
    (void)a1;
    (void)a2;
    kst *s = ctx;
    KIRQL old;
    KeSetEvent(&s->ev_done, IO_NO_INCREMENT, FALSE);
    KeRaiseIrql(CLOCK_LEVEL, &old);
    s->count++;
    if (!s->bug) /* bug: returns at CLOCK_LEVEL */
        KeLowerIrql(old);
}

static void th_queue_dpc_and_wait(void *arg)
{
    kst *s = arg;
    KeInsertQueueDpc(&s->dpc, NULL, NULL);
    s->wait_status = KeWaitForSingleObject(&s->ev_done, Executive, KernelMode, FALSE, NULL);
}

static void sc_routine_irql(ksl_engine *e, void *arg)
{
    kst *s = arg;
    setup_common(e, s);
    KeInitializeDpc(&s->dpc, dpc_raise, s);
    ksl_thread_create(e, "client", th_queue_dpc_and_wait, s);
}

static void test_routine_irql_changed_fires(void **state)
{
    (void)state;
    FOR_SEEDS(seed) {
        run_out o = run_k(sc_routine_irql, 1, seed, NULL);
        ASSERT_RULE(o, "K.routine-irql-changed");
        ASSERT_HAS(o.message, "DPC 'dpc_raise' returned at CLOCK_LEVEL; it was called at DISPATCH_LEVEL");
        run_out_free(&o);
    }
}

static void test_routine_irql_changed_clean(void **state)
{
    (void)state;
    FOR_SEEDS(seed) {
        run_out o = run_k(sc_routine_irql, 0, seed, NULL);
        ASSERT_CLEAN(o);
        assert_int_equal(g_st.count, 1);
        assert_int_equal(g_st.wait_status, STATUS_SUCCESS);
        run_out_free(&o);
    }
}

/* ======================================================================================== */
/* K.lock-held-on-return: a DPC returns holding its spin lock.                              */

static void dpc_lock(PKDPC dpc, PVOID ctx, PVOID a1, PVOID a2)
{
    (void)dpc;
    (void)a1;
    (void)a2;
    kst *s = ctx;
    KeAcquireSpinLockAtDpcLevel(&s->lock_a);
    s->count++;
    if (!s->bug) /* bug: an early-return path that skips the release */
        KeReleaseSpinLockFromDpcLevel(&s->lock_a);
    KeSetEvent(&s->ev_done, IO_NO_INCREMENT, FALSE);
}

static void sc_lock_held(ksl_engine *e, void *arg)
{
    kst *s = arg;
    setup_common(e, s);
    KeInitializeDpc(&s->dpc, dpc_lock, s);
    ksl_thread_create(e, "client", th_queue_dpc_and_wait, s);
}

static void test_lock_held_on_return_fires(void **state)
{
    (void)state;
    FOR_SEEDS(seed) {
        run_out o = run_k(sc_lock_held, 1, seed, NULL);
        ASSERT_RULE(o, "K.lock-held-on-return");
        ASSERT_HAS(o.message, "DPC returned still holding spin lock 's->lock_a'");
        run_out_free(&o);
    }
}

static void test_lock_held_on_return_clean(void **state)
{
    (void)state;
    FOR_SEEDS(seed) {
        run_out o = run_k(sc_lock_held, 0, seed, NULL);
        ASSERT_CLEAN(o);
        assert_int_equal(g_st.count, 1);
        assert_int_equal(g_st.wait_status, STATUS_SUCCESS);
        run_out_free(&o);
    }
}

/* ======================================================================================== */
/* K.lock-order-cycle: A -> B in one thread, B -> A in the other.                           */

static void take_two(kst *s, PKSPIN_LOCK first, PKSPIN_LOCK second)
{
    KIRQL old;
    KeAcquireSpinLock(first, &old);
    KeAcquireSpinLockAtDpcLevel(second);
    s->count++;
    KeReleaseSpinLockFromDpcLevel(second);
    KeReleaseSpinLock(first, old);
}

static void th_order_ab(void *arg)
{
    kst *s = arg;
    take_two(s, &s->lock_a, &s->lock_b);
}

static void th_order_other(void *arg)
{
    kst *s = arg;
    if (s->bug) /* bug: the opposite order */
        take_two(s, &s->lock_b, &s->lock_a);
    else
        take_two(s, &s->lock_a, &s->lock_b);
}

static void sc_lock_order(ksl_engine *e, void *arg)
{
    kst *s = arg;
    setup_common(e, s);
    ksl_thread_create(e, "t1", th_order_ab, s);
    ksl_thread_create(e, "t2", th_order_other, s);
}

static void test_lock_order_cycle_fires(void **state)
{
    (void)state;
    FOR_SEEDS(seed) {
        run_out o = run_k(sc_lock_order, 1, seed, NULL);
        ASSERT_RULE(o, "K.lock-order-cycle");
        ASSERT_HAS(o.message, "s->lock_a");
        ASSERT_HAS(o.message, "s->lock_b");
        ASSERT_HAS(o.message, "potential deadlock");
        ASSERT_HAS(o.detail, "lock order cycle");
        run_out_free(&o);
    }
}

static void test_lock_order_cycle_clean(void **state)
{
    (void)state;
    FOR_SEEDS(seed) {
        run_out o = run_k(sc_lock_order, 0, seed, NULL);
        ASSERT_CLEAN(o);
        assert_int_equal(g_st.count, 2);
        run_out_free(&o);
    }
}

/* ======================================================================================== */
/* K.mutex-recursive                                                                        */

static void th_mutex_recursive(void *arg)
{
    kst *s = arg;
    ExAcquireFastMutex(&s->mutex_a);
    s->count++;
    if (s->bug) { /* bug: takes the mutex it already owns */
        ExAcquireFastMutex(&s->mutex_a);
        s->count++;
        ExReleaseFastMutex(&s->mutex_a);
    } else {
        s->count++;
    }
    ExReleaseFastMutex(&s->mutex_a);
}
ONE_THREAD_SCENARIO(sc_mutex_recursive, th_mutex_recursive)

static void test_mutex_recursive_fires(void **state)
{
    (void)state;
    FOR_SEEDS(seed) {
        run_out o = run_k(sc_mutex_recursive, 1, seed, NULL);
        ASSERT_RULE(o, "K.mutex-recursive");
        ASSERT_HAS(o.message, "ExAcquireFastMutex on 's->mutex_a', which this thread already owns");
        run_out_free(&o);
    }
}

static void test_mutex_recursive_clean(void **state)
{
    (void)state;
    FOR_SEEDS(seed) {
        run_out o = run_k(sc_mutex_recursive, 0, seed, NULL);
        ASSERT_CLEAN(o);
        assert_int_equal(g_st.count, 2);
        run_out_free(&o);
    }
}

/* ======================================================================================== */
/* K.mutex-release-not-owner: one thread takes the mutex, another releases it.              */

static void th_mutex_owner(void *arg)
{
    kst *s = arg;
    ExAcquireFastMutex(&s->mutex_a);
    s->count++;
    KeSetEvent(&s->ev_a, IO_NO_INCREMENT, FALSE);
    KeWaitForSingleObject(&s->ev_b, Executive, KernelMode, FALSE, NULL);
    ExReleaseFastMutex(&s->mutex_a);
}

static void th_mutex_other(void *arg)
{
    kst *s = arg;
    KeWaitForSingleObject(&s->ev_a, Executive, KernelMode, FALSE, NULL);
    if (s->bug) /* bug: releases the owner's mutex for it */
        ExReleaseFastMutex(&s->mutex_a);
    KeSetEvent(&s->ev_b, IO_NO_INCREMENT, FALSE);
}

static void sc_mutex_not_owner(ksl_engine *e, void *arg)
{
    kst *s = arg;
    setup_common(e, s);
    ksl_thread_create(e, "owner", th_mutex_owner, s);
    ksl_thread_create(e, "other", th_mutex_other, s);
}

static void test_mutex_release_not_owner_fires(void **state)
{
    (void)state;
    FOR_SEEDS(seed) {
        run_out o = run_k(sc_mutex_not_owner, 1, seed, NULL);
        ASSERT_RULE(o, "K.mutex-release-not-owner");
        ASSERT_HAS(o.message, "thread 'other'");
        ASSERT_HAS(o.message, "ExReleaseFastMutex on 's->mutex_a', owned by thread 'owner'");
        run_out_free(&o);
    }
}

static void test_mutex_release_not_owner_clean(void **state)
{
    (void)state;
    FOR_SEEDS(seed) {
        run_out o = run_k(sc_mutex_not_owner, 0, seed, NULL);
        ASSERT_CLEAN(o);
        assert_int_equal(g_st.count, 1);
        run_out_free(&o);
    }
}

/* ======================================================================================== */
/* K.pool-leak                                                                              */

static void th_pool_leak(void *arg)
{
    kst *s = arg;
    s->mem = ExAllocatePoolWithTag(NonPagedPool, 48, TAG_KT);
    if (s->mem) {
        memset(s->mem, 0, 48);
        s->count++;
        if (!s->bug) /* bug: never freed */
            ExFreePoolWithTag(s->mem, TAG_KT);
    }
}
ONE_THREAD_SCENARIO(sc_pool_leak, th_pool_leak)

static void test_pool_leak_fires(void **state)
{
    (void)state;
    FOR_SEEDS(seed) {
        run_out o = run_k(sc_pool_leak, 1, seed, NULL);
        ASSERT_RULE(o, "K.pool-leak");
        ASSERT_HAS(o.message, "1 pool block(s), 48 bytes, still allocated at the end of the run");
        ASSERT_HAS(o.detail, "48 bytes, tag 'KTst', allocated at");
        ASSERT_HAS(o.detail, "test_krules.c");
        assert_int_equal(o.stats.pool_allocs, 1);
        run_out_free(&o);
    }
}

static void test_pool_leak_clean(void **state)
{
    (void)state;
    FOR_SEEDS(seed) {
        run_out o = run_k(sc_pool_leak, 0, seed, NULL);
        ASSERT_CLEAN(o);
        assert_int_equal(g_st.count, 1);
        assert_int_equal(o.stats.pool_allocs, 1);
        run_out_free(&o);
    }
}

/* ======================================================================================== */
/* K.pool-bad-free: a free with the wrong tag.                                              */

static void th_pool_bad_free(void *arg)
{
    kst *s = arg;
    s->mem = ExAllocatePoolWithTag(NonPagedPool, 32, TAG_KT);
    if (s->mem) {
        s->count++;
        ExFreePoolWithTag(s->mem, s->bug ? TAG_OOPS : TAG_KT); /* bug: the wrong tag */
    }
}
ONE_THREAD_SCENARIO(sc_pool_bad_free, th_pool_bad_free)

static void test_pool_bad_free_fires(void **state)
{
    (void)state;
    FOR_SEEDS(seed) {
        run_out o = run_k(sc_pool_bad_free, 1, seed, NULL);
        ASSERT_RULE(o, "K.pool-bad-free");
        ASSERT_HAS(o.message, "ExFreePoolWithTag with tag 'Oops' of a block allocated with 'KTst'");
        run_out_free(&o);
    }
}

static void test_pool_bad_free_clean(void **state)
{
    (void)state;
    FOR_SEEDS(seed) {
        run_out o = run_k(sc_pool_bad_free, 0, seed, NULL);
        ASSERT_CLEAN(o);
        assert_int_equal(g_st.count, 1);
        run_out_free(&o);
    }
}

/* ======================================================================================== */
/* K.workitem-requeued: queuing an item the (single, busy) worker has not run yet.          */

static void work_block(PDEVICE_OBJECT dev, PVOID ctx)
{
    (void)dev;
    kst *s = ctx;
    KeWaitForSingleObject(&s->ev_a, Executive, KernelMode, FALSE, NULL);
    KeSetEvent(&s->ev_b, IO_NO_INCREMENT, FALSE);
}

/* Ask for the work routine to run; the correct driver queues the item only if it is not pending. */
static void kick_work(kst *s)
{
    if (s->bug || InterlockedCompareExchange(&s->pending, 1, 0) == 0) { /* bug: no pending check */
        InterlockedIncrement(&s->queued);
        IoQueueWorkItem(s->wi, work_count, DelayedWorkQueue, s);
    }
}

static void th_requeue(void *arg)
{
    kst *s = arg;
    s->wi_block = IoAllocateWorkItem(NULL);
    s->wi = IoAllocateWorkItem(NULL);
    /* The only worker thread is kept busy until both kicks are done. */
    IoQueueWorkItem(s->wi_block, work_block, DelayedWorkQueue, s);
    kick_work(s);
    kick_work(s);
    KeSetEvent(&s->ev_a, IO_NO_INCREMENT, FALSE);
    while (InterlockedCompareExchange(&s->runs, 0, 0) < s->queued)
        KeWaitForSingleObject(&s->ev_sync, Executive, KernelMode, FALSE, NULL);
    KeWaitForSingleObject(&s->ev_b, Executive, KernelMode, FALSE, NULL);
    IoFreeWorkItem(s->wi);
    IoFreeWorkItem(s->wi_block);
}
ONE_THREAD_SCENARIO(sc_requeue, th_requeue)

static const kopts one_worker = {.workers = 1};

static void test_workitem_requeued_fires(void **state)
{
    (void)state;
    FOR_SEEDS(seed) {
        run_out o = run_k(sc_requeue, 1, seed, &one_worker);
        ASSERT_RULE(o, "K.workitem-requeued");
        ASSERT_HAS(o.message, "thread 'client'");
        ASSERT_HAS(o.message, "IoQueueWorkItem on a work item still queued (queued at ");
        ASSERT_HAS(o.message, "test_krules.c");
        run_out_free(&o);
    }
}

static void test_workitem_requeued_clean(void **state)
{
    (void)state;
    FOR_SEEDS(seed) {
        run_out o = run_k(sc_requeue, 0, seed, &one_worker);
        ASSERT_CLEAN(o);
        assert_int_equal(g_st.queued, 1);
        assert_int_equal(g_st.runs, 1);
        assert_int_equal(o.stats.work_items, 2);
        run_out_free(&o);
    }
}

/*
 * The same mistake without the busy worker: whether the item is still queued at the second
 * IoQueueWorkItem depends on whether a worker thread picked it up in between.  When it did, the
 * program is correct (it waits for both runs before freeing the item) and the run is clean.
 * With the client and two workers on 2 CPUs, threads get preempted at scheduling points and
 * resume on the other CPU, so the sweep also checks that a finding names the thread that made
 * the call and that a wait blocks the thread that made it.
 */
static void th_requeue_race(void *arg)
{
    kst *s = arg;
    s->wi = IoAllocateWorkItem(NULL);
    IoQueueWorkItem(s->wi, work_count, DelayedWorkQueue, s);
    IoQueueWorkItem(s->wi, work_count, DelayedWorkQueue, s);
    while (InterlockedCompareExchange(&s->runs, 0, 0) < 2)
        KeWaitForSingleObject(&s->ev_sync, Executive, KernelMode, FALSE, NULL);
    IoFreeWorkItem(s->wi);
}
ONE_THREAD_SCENARIO(sc_requeue_race, th_requeue_race)

static void test_workitem_requeued_race(void **state)
{
    (void)state;
    unsigned fired = 0, clean = 0, wrong = 0;
    for (uint64_t seed = 1; seed <= RACE_SEEDS; seed++) {
        run_out o = run_k(sc_requeue_race, 1, seed, NULL);
        if (o.rc == 1 && strcmp(o.rule, "K.workitem-requeued") == 0 && strstr(o.message, "thread 'client'")) {
            fired++; /* named after the thread that called IoQueueWorkItem */
        } else if (o.rc == 0 && !o.rule[0] && g_st.runs == 2) {
            clean++;
        } else {
            wrong++;
            print_error("seed %" PRIu64 ": rc=%d rule='%s' runs=%d\n  %s\n%.300s\n", seed, o.rc, o.rule, (int)g_st.runs,
                        o.message, o.detail);
        }
        run_out_free(&o);
    }
    print_message("K.workitem-requeued race: %u of %u seeds fired, %u clean, %u neither\n", fired, RACE_SEEDS, clean,
                  wrong);
    assert_int_equal(wrong, 0);
    assert_true(fired > 0);
}

/* ======================================================================================== */
/* K.workitem-free-queued                                                                   */

static void th_free_queued(void *arg)
{
    kst *s = arg;
    s->wi = IoAllocateWorkItem(NULL);
    IoQueueWorkItem(s->wi, work_count, DelayedWorkQueue, s);
    if (!s->bug) /* bug: does not wait for the routine */
        KeWaitForSingleObject(&s->ev_sync, Executive, KernelMode, FALSE, NULL);
    IoFreeWorkItem(s->wi);
}
ONE_THREAD_SCENARIO(sc_free_queued, th_free_queued)

static void test_workitem_free_queued_fires(void **state)
{
    (void)state;
    FOR_SEEDS(seed) {
        run_out o = run_k(sc_free_queued, 1, seed, NULL);
        ASSERT_RULE(o, "K.workitem-free-queued");
        ASSERT_HAS(o.message, "IoFreeWorkItem on a work item still queued");
        run_out_free(&o);
    }
}

static void test_workitem_free_queued_clean(void **state)
{
    (void)state;
    FOR_SEEDS(seed) {
        run_out o = run_k(sc_free_queued, 0, seed, NULL);
        ASSERT_CLEAN(o);
        assert_int_equal(g_st.runs, 1);
        run_out_free(&o);
    }
}

/* ======================================================================================== */
/* K.irp-double-complete                                                                    */

static void th_double_complete(void *arg)
{
    kst *s = arg;
    PIRP irp = new_irp(s);
    irp->IoStatus.Status = STATUS_SUCCESS;
    irp->IoStatus.Information = 0;
    IoCompleteRequest(irp, IO_NO_INCREMENT);
    if (s->bug) { /* bug: the error path completes it again */
        irp->IoStatus.Status = STATUS_UNSUCCESSFUL;
        IoCompleteRequest(irp, IO_NO_INCREMENT);
    }
}
ONE_THREAD_SCENARIO(sc_double_complete, th_double_complete)

static void test_irp_double_complete_fires(void **state)
{
    (void)state;
    FOR_SEEDS(seed) {
        run_out o = run_k(sc_double_complete, 1, seed, NULL);
        ASSERT_RULE(o, "K.irp-double-complete");
        ASSERT_HAS(o.message, "IoCompleteRequest on an IRP already completed");
        assert_int_equal(g_st.completions, 1);
        run_out_free(&o);
    }
}

static void test_irp_double_complete_clean(void **state)
{
    (void)state;
    FOR_SEEDS(seed) {
        run_out o = run_k(sc_double_complete, 0, seed, NULL);
        ASSERT_CLEAN(o);
        assert_int_equal(g_st.completions, 1);
        assert_int_equal(g_st.irp_status, STATUS_SUCCESS);
        run_out_free(&o);
    }
}

/* ======================================================================================== */
/* K.irp-complete-with-cancel-routine                                                       */

/* The usual cancel routine: drop the cancel lock, then complete as cancelled. */
static void cancel_routine(PDEVICE_OBJECT dev, PIRP irp)
{
    (void)dev;
    IoReleaseCancelSpinLock(irp->CancelIrql);
    irp->IoStatus.Status = STATUS_CANCELLED;
    irp->IoStatus.Information = 0;
    IoCompleteRequest(irp, IO_NO_INCREMENT);
}

static void th_complete_with_cancel(void *arg)
{
    kst *s = arg;
    PIRP irp = new_irp(s);
    IoMarkIrpPending(irp);
    IoSetCancelRoutine(irp, cancel_routine);
    s->count++; /* ... the request is serviced ... */
    irp->IoStatus.Status = STATUS_SUCCESS;
    if (s->bug) { /* bug: completes without taking the cancel routine back */
        IoCompleteRequest(irp, IO_NO_INCREMENT);
    } else if (IoSetCancelRoutine(irp, NULL) != NULL) {
        IoCompleteRequest(irp, IO_NO_INCREMENT);
    }
}
ONE_THREAD_SCENARIO(sc_complete_with_cancel, th_complete_with_cancel)

static void test_irp_complete_with_cancel_routine_fires(void **state)
{
    (void)state;
    FOR_SEEDS(seed) {
        run_out o = run_k(sc_complete_with_cancel, 1, seed, NULL);
        ASSERT_RULE(o, "K.irp-complete-with-cancel-routine");
        ASSERT_HAS(o.message, "IoCompleteRequest on an IRP whose cancel routine is still set");
        assert_int_equal(g_st.completions, 0);
        run_out_free(&o);
    }
}

static void test_irp_complete_with_cancel_routine_clean(void **state)
{
    (void)state;
    FOR_SEEDS(seed) {
        run_out o = run_k(sc_complete_with_cancel, 0, seed, NULL);
        ASSERT_CLEAN(o);
        assert_int_equal(g_st.completions, 1);
        assert_int_equal(g_st.irp_status, STATUS_SUCCESS);
        run_out_free(&o);
    }
}

/* ======================================================================================== */
/* K.irp-complete-holding-spinlock: a cancel routine completes before releasing the cancel  */
/* spin lock.  One thread pends the IRP, the other cancels it.                              */

static void cancel_routine_maybe_late(PDEVICE_OBJECT dev, PIRP irp)
{
    (void)dev;
    kst *s = irp->Tail.Overlay.DriverContext[0];
    if (!s->bug)
        IoReleaseCancelSpinLock(irp->CancelIrql);
    irp->IoStatus.Status = STATUS_CANCELLED;
    irp->IoStatus.Information = 0;
    IoCompleteRequest(irp, IO_NO_INCREMENT);
    if (s->bug) /* bug: the cancel lock is released only after the completion */
        IoReleaseCancelSpinLock(irp->CancelIrql);
}

static void th_pend_irp(void *arg)
{
    kst *s = arg;
    PIRP irp = new_irp(s);
    IoMarkIrpPending(irp);
    IoSetCancelRoutine(irp, cancel_routine_maybe_late);
    KeSetEvent(&s->ev_a, IO_NO_INCREMENT, FALSE);
    s->wait_status = KeWaitForSingleObject(&s->ev_done, Executive, KernelMode, FALSE, NULL);
}

static void th_cancel_irp(void *arg)
{
    kst *s = arg;
    KeWaitForSingleObject(&s->ev_a, Executive, KernelMode, FALSE, NULL);
    s->cancel_result = IoCancelIrp(s->irp);
}

static void sc_complete_holding(ksl_engine *e, void *arg)
{
    kst *s = arg;
    setup_common(e, s);
    ksl_thread_create(e, "driver", th_pend_irp, s);
    ksl_thread_create(e, "canceller", th_cancel_irp, s);
}

static void test_irp_complete_holding_spinlock_fires(void **state)
{
    (void)state;
    FOR_SEEDS(seed) {
        run_out o = run_k(sc_complete_holding, 1, seed, NULL);
        ASSERT_RULE(o, "K.irp-complete-holding-spinlock");
        ASSERT_HAS(o.message, "thread 'canceller'");
        ASSERT_HAS(o.message, "IoCompleteRequest while holding spin lock 'cancel spin lock'");
        assert_int_equal(g_st.completions, 0);
        run_out_free(&o);
    }
}

static void test_irp_complete_holding_spinlock_clean(void **state)
{
    (void)state;
    FOR_SEEDS(seed) {
        run_out o = run_k(sc_complete_holding, 0, seed, NULL);
        ASSERT_CLEAN(o);
        assert_int_equal(g_st.completions, 1);
        assert_int_equal(g_st.irp_status, STATUS_CANCELLED);
        assert_int_equal(g_st.irp_cancel, 1);
        assert_int_equal(g_st.cancel_result, TRUE);
        assert_int_equal(g_st.wait_status, STATUS_SUCCESS);
        run_out_free(&o);
    }
}

/* ======================================================================================== */
/* K.driver-assert: a helper asserts it runs at <= APC_LEVEL; the bug calls it under a lock. */

static void must_run_low(kst *s)
{
    ASSERT(KeGetCurrentIrql() <= APC_LEVEL);
    s->count++;
}

static void th_driver_assert(void *arg)
{
    kst *s = arg;
    KIRQL old;
    KeAcquireSpinLock(&s->lock_a, &old);
    s->count++;
    if (s->bug) /* bug: called with the spin lock held */
        must_run_low(s);
    KeReleaseSpinLock(&s->lock_a, old);
    if (!s->bug)
        must_run_low(s);
}
ONE_THREAD_SCENARIO(sc_driver_assert, th_driver_assert)

static void test_driver_assert_fires(void **state)
{
    (void)state;
    FOR_SEEDS(seed) {
        run_out o = run_k(sc_driver_assert, 1, seed, NULL);
        ASSERT_RULE(o, "K.driver-assert");
        ASSERT_HAS(o.message, "assertion failed: KeGetCurrentIrql() <= APC_LEVEL");
        ASSERT_HAS(o.message, "at DISPATCH_LEVEL");
        run_out_free(&o);
    }
}

static void test_driver_assert_clean(void **state)
{
    (void)state;
    FOR_SEEDS(seed) {
        run_out o = run_k(sc_driver_assert, 0, seed, NULL);
        ASSERT_CLEAN(o);
        assert_int_equal(g_st.count, 2);
        run_out_free(&o);
    }
}

/* ======================================================================================== */
/* K.deadlock: each thread waits, forever, for the event the other sets after its own wait.  */

static void th_dl_a(void *arg)
{
    kst *s = arg;
    if (s->bug) { /* bug: waits before signalling */
        KeWaitForSingleObject(&s->ev_a, Executive, KernelMode, FALSE, NULL);
        KeSetEvent(&s->ev_b, IO_NO_INCREMENT, FALSE);
    } else {
        KeSetEvent(&s->ev_b, IO_NO_INCREMENT, FALSE);
        KeWaitForSingleObject(&s->ev_a, Executive, KernelMode, FALSE, NULL);
    }
    InterlockedIncrement(&s->count);
}

static void th_dl_b(void *arg)
{
    kst *s = arg;
    if (s->bug) {
        KeWaitForSingleObject(&s->ev_b, Executive, KernelMode, FALSE, NULL);
        KeSetEvent(&s->ev_a, IO_NO_INCREMENT, FALSE);
    } else {
        KeSetEvent(&s->ev_a, IO_NO_INCREMENT, FALSE);
        KeWaitForSingleObject(&s->ev_b, Executive, KernelMode, FALSE, NULL);
    }
    InterlockedIncrement(&s->count);
}

static void sc_deadlock(ksl_engine *e, void *arg)
{
    kst *s = arg;
    setup_common(e, s);
    ksl_thread_create(e, "ta", th_dl_a, s);
    ksl_thread_create(e, "tb", th_dl_b, s);
}

static void test_deadlock_fires(void **state)
{
    (void)state;
    FOR_SEEDS(seed) {
        run_out o = run_k(sc_deadlock, 1, seed, NULL);
        ASSERT_RULE(o, "K.deadlock");
        ASSERT_HAS(o.message, "no context can run while 2 client thread(s) have not finished");
        ASSERT_HAS(o.detail, "thread 'ta' waits for event at");
        ASSERT_HAS(o.detail, "thread 'tb' waits for event at");
        assert_int_equal(g_st.count, 0);
        run_out_free(&o);
    }
}

/* K.deadlock behind a periodic timer: the thread waits for an event nobody sets while a 1 ms
 * periodic timer keeps the clock going (its DPC passes no scheduling point).  The clean variant's
 * DPC sets the event on its fifth run. */
static void dpc_tick(PKDPC dpc, PVOID ctx, PVOID a1, PVOID a2)
{
    (void)dpc, (void)a1, (void)a2;
    kst *s = ctx;
    if (InterlockedIncrement(&s->dpc_runs) == 5 && !s->bug)
        KeSetEvent(&s->ev_a, IO_NO_INCREMENT, FALSE);
}

static void th_ticking_wait(void *arg)
{
    kst *s = arg;
    LARGE_INTEGER due;
    due.QuadPart = -10000; /* 1 ms */
    KeSetTimerEx(&s->timer, due, 1, &s->dpc);
    KeWaitForSingleObject(&s->ev_a, Executive, KernelMode, FALSE, NULL);
    KeCancelTimer(&s->timer);
    InterlockedIncrement(&s->count);
}

static void sc_deadlock_ticking(ksl_engine *e, void *arg)
{
    kst *s = arg;
    setup_common(e, s);
    KeInitializeDpc(&s->dpc, dpc_tick, s);
    ksl_thread_create(e, "waiter", th_ticking_wait, s);
}

static void test_deadlock_behind_periodic_timer(void **state)
{
    (void)state;
    run_out o = run_k(sc_deadlock_ticking, 1, 1, NULL);
    ASSERT_RULE(o, "K.deadlock");
    ASSERT_HAS(o.detail, "thread 'waiter' waits for event at");
    assert_int_equal(g_st.count, 0);
    assert_true(g_st.dpc_runs > 100); /* the ticks went on until the scheduler gave up */
    run_out_free(&o);

    o = run_k(sc_deadlock_ticking, 0, 1, NULL);
    ASSERT_CLEAN(o);
    assert_int_equal(g_st.count, 1);
    assert_int_equal(g_st.dpc_runs, 5);
    run_out_free(&o);

    /* The threaded executor says the same (it used to tick for ever). */
    kopts thr = {.threaded = true};
    o = run_k(sc_deadlock_ticking, 1, 1, &thr);
    ASSERT_RULE(o, "K.deadlock");
    ASSERT_HAS(o.detail, "thread 'waiter' waits for event at");
    assert_int_equal(g_st.count, 0);
    run_out_free(&o);

    o = run_k(sc_deadlock_ticking, 0, 1, &thr);
    ASSERT_CLEAN(o);
    assert_int_equal(g_st.count, 1);
    assert_true(g_st.dpc_runs >= 5);
    run_out_free(&o);
}

static void test_deadlock_clean(void **state)
{
    (void)state;
    FOR_SEEDS(seed) {
        run_out o = run_k(sc_deadlock, 0, seed, NULL);
        ASSERT_CLEAN(o);
        assert_int_equal(g_st.count, 2);
        run_out_free(&o);
    }
}

/* ======================================================================================== */
/* K.hang: polling for a flag that only a DPC sets, when the DPC was never queued.          */

static void dpc_set_flag(PKDPC dpc, PVOID ctx, PVOID a1, PVOID a2)
{
    (void)dpc;
    (void)a1;
    (void)a2;
    kst *s = ctx;
    InterlockedExchange(&s->flag, 1);
}

static void th_hang(void *arg)
{
    kst *s = arg;
    if (!s->bug) /* bug: forgets to queue the DPC */
        KeInsertQueueDpc(&s->dpc, NULL, NULL);
    while (InterlockedCompareExchange(&s->flag, 0, 0) == 0) {
        s->count++;
        KeStallExecutionProcessor(5);
    }
}

static void sc_hang(ksl_engine *e, void *arg)
{
    kst *s = arg;
    setup_common(e, s);
    KeInitializeDpc(&s->dpc, dpc_set_flag, s);
    ksl_thread_create(e, "poller", th_hang, s);
}

static const kopts short_run = {.max_steps = 2000};

static void test_hang_fires(void **state)
{
    (void)state;
    FOR_SEEDS(seed) {
        run_out o = run_k(sc_hang, 1, seed, &short_run);
        ASSERT_RULE(o, "K.hang");
        ASSERT_HAS(o.message, "the run took more than 2000 scheduling points");
        assert_true(g_st.count > 100);
        run_out_free(&o);
    }
}

static void test_hang_clean(void **state)
{
    (void)state;
    FOR_SEEDS(seed) {
        run_out o = run_k(sc_hang, 0, seed, &short_run);
        ASSERT_CLEAN(o);
        assert_int_equal(g_st.flag, 1);
        assert_true(o.stats.steps < 2000);
        run_out_free(&o);
    }
}

/* ======================================================================================== */
/* The catalog: every K. rule has a pair of tests above.                                    */

static const char *const tested_rules[] = {
    "K.irql-raise-to-lower",
    "K.paged-free-at-raised-irql",
    "K.paged-touch-at-raised-irql",
    "K.paged-code-at-raised-irql",
    "K.irql-lower-to-higher",
    "K.spinlock-acquire-above-dispatch",
    "K.spinlock-dpc-below-dispatch",
    "K.spinlock-release-not-held",
    "K.spinlock-release-wrong-cpu",
    "K.spinlock-recursive",
    "K.spinlock-release-irql",
    "K.spinlock-uninitialized",
    "K.object-uninitialized",
    "K.wait-at-dispatch",
    "K.passive-only-at-raised-irql",
    "K.irql-too-high",
    "K.isr-irql-changed",
    "K.routine-irql-changed",
    "K.lock-held-on-return",
    "K.lock-order-cycle",
    "K.mutex-recursive",
    "K.mutex-release-not-owner",
    "K.pool-leak",
    "K.pool-bad-free",
    "K.workitem-requeued",
    "K.workitem-free-queued",
    "K.irp-double-complete",
    "K.irp-complete-with-cancel-routine",
    "K.irp-complete-holding-spinlock",
    "K.driver-assert",
    "K.deadlock",
    "K.interrupt-storm",
    "K.isr-claimed-spurious",
    "K.hang",
    "K.driver-crash", /* needs a process to die: tests/buggy (crash.patch) through kslab stress */
    "K.driver-exit",  /* the same: tests/misbehave (exit) through every command */
    "K.pure-virtual-call", /* needs a C++ driver: tests/cxx (pure_virtual) */
};

static void test_catalog_covered(void **state)
{
    (void)state;
    size_t n = 0, nk = 0;
    const ksl_rule *rules = ksl_rules(&n);
    for (size_t i = 0; i < n; i++) {
        if (strncmp(rules[i].id, "K.", 2) != 0)
            continue;
        nk++;
        int found = 0;
        for (size_t j = 0; j < sizeof tested_rules / sizeof tested_rules[0]; j++)
            if (strcmp(tested_rules[j], rules[i].id) == 0)
                found = 1;
        if (!found)
            print_error("rule %s has no test\n", rules[i].id);
        assert_true(found);
    }
    assert_int_equal(nk, sizeof tested_rules / sizeof tested_rules[0]);
    for (size_t j = 0; j < sizeof tested_rules / sizeof tested_rules[0]; j++)
        assert_non_null(ksl_rule_find(tested_rules[j]));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_catalog_covered),
        cmocka_unit_test(test_race_window_and_events),
        cmocka_unit_test(test_irql_raise_to_lower_fires),
        cmocka_unit_test(test_irql_raise_to_lower_clean),
        cmocka_unit_test(test_irql_lower_to_higher_fires),
        cmocka_unit_test(test_irql_lower_to_higher_clean),
        cmocka_unit_test(test_spinlock_acquire_above_dispatch_fires),
        cmocka_unit_test(test_spinlock_acquire_above_dispatch_clean),
        cmocka_unit_test(test_spinlock_dpc_below_dispatch_fires),
        cmocka_unit_test(test_spinlock_dpc_below_dispatch_clean),
        cmocka_unit_test(test_spinlock_release_not_held_fires),
        cmocka_unit_test(test_spinlock_release_not_held_clean),
        cmocka_unit_test(test_spinlock_release_wrong_cpu_fires),
        cmocka_unit_test(test_spinlock_release_wrong_cpu_clean),
        cmocka_unit_test(test_spinlock_recursive_fires),
        cmocka_unit_test(test_spinlock_recursive_clean),
        cmocka_unit_test(test_spinlock_release_irql_fires),
        cmocka_unit_test(test_spinlock_release_irql_clean),
        cmocka_unit_test(test_spinlock_uninitialized_fires),
        cmocka_unit_test(test_spinlock_uninitialized_clean),
        cmocka_unit_test(test_object_uninitialized_fires),
        cmocka_unit_test(test_object_uninitialized_clean),
        cmocka_unit_test(test_wait_at_dispatch_fires),
        cmocka_unit_test(test_wait_at_dispatch_clean),
        cmocka_unit_test(test_passive_only_at_raised_irql_fires),
        cmocka_unit_test(test_passive_only_at_raised_irql_clean),
        cmocka_unit_test(test_irql_too_high_fires),
        cmocka_unit_test(test_irql_too_high_clean),
        cmocka_unit_test(test_isr_irql_changed_fires),
        cmocka_unit_test(test_isr_irql_changed_clean),
        cmocka_unit_test(test_routine_irql_changed_fires),
        cmocka_unit_test(test_routine_irql_changed_clean),
        cmocka_unit_test(test_lock_held_on_return_fires),
        cmocka_unit_test(test_lock_held_on_return_clean),
        cmocka_unit_test(test_lock_order_cycle_fires),
        cmocka_unit_test(test_lock_order_cycle_clean),
        cmocka_unit_test(test_mutex_recursive_fires),
        cmocka_unit_test(test_mutex_recursive_clean),
        cmocka_unit_test(test_mutex_release_not_owner_fires),
        cmocka_unit_test(test_mutex_release_not_owner_clean),
        cmocka_unit_test(test_pool_leak_fires),
        cmocka_unit_test(test_pool_leak_clean),
        cmocka_unit_test(test_pool_bad_free_fires),
        cmocka_unit_test(test_pool_bad_free_clean),
        cmocka_unit_test(test_workitem_requeued_fires),
        cmocka_unit_test(test_workitem_requeued_clean),
        cmocka_unit_test(test_workitem_requeued_race),
        cmocka_unit_test(test_workitem_free_queued_fires),
        cmocka_unit_test(test_workitem_free_queued_clean),
        cmocka_unit_test(test_irp_double_complete_fires),
        cmocka_unit_test(test_irp_double_complete_clean),
        cmocka_unit_test(test_irp_complete_with_cancel_routine_fires),
        cmocka_unit_test(test_irp_complete_with_cancel_routine_clean),
        cmocka_unit_test(test_irp_complete_holding_spinlock_fires),
        cmocka_unit_test(test_irp_complete_holding_spinlock_clean),
        cmocka_unit_test(test_driver_assert_fires),
        cmocka_unit_test(test_driver_assert_clean),
        cmocka_unit_test(test_deadlock_fires),
        cmocka_unit_test(test_deadlock_clean),
        cmocka_unit_test(test_deadlock_behind_periodic_timer),
        cmocka_unit_test(test_hang_fires),
        cmocka_unit_test(test_hang_clean),
        cmocka_unit_test(test_paged_free_at_raised_irql_fires),
        cmocka_unit_test(test_paged_free_at_raised_irql_clean),
        cmocka_unit_test(test_paged_touch_at_raised_irql_fires),
        cmocka_unit_test(test_paged_touch_at_raised_irql_clean),
        cmocka_unit_test(test_paged_code_at_raised_irql_fires),
        cmocka_unit_test(test_paged_code_at_raised_irql_clean),
        cmocka_unit_test(test_isr_claimed_spurious),
        cmocka_unit_test(test_interrupt_storm),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
