/* SPDX-License-Identifier: MIT */
/*
 * Semantics of the kernel primitives on the deterministic engine, through the WDK-named surface:
 * IRQL, spin locks, DPCs, interrupts and KeSynchronizeExecution, work items, timers and virtual
 * time, events and waits, fast mutexes, kernel mutexes, pool with fault injection, IRP cancellation and
 * completion, and threads on one CPU.
 *
 * Each test records what happened inside the run (cmocka assertions must not run on the engine's
 * coroutine stacks) and asserts it after the run.  Where a property must hold for every
 * interleaving, the scenario runs for NSEEDS seeds.
 */
#include "harness.h"

#include <kslab/hw/irqdev.h>
#include <kslab/wdk/wdm.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NSEEDS 50
#define TAG_TEST 0x74736554u /* 'Test' */

/* Distinct addresses passed as DPC arguments. */
static int marker_a1, marker_a2, marker_b1, marker_b2;

/* ---- helpers ------------------------------------------------------------------------------ */

/* KeDelayExecutionThread for `us` microseconds (relative). */
static void delay_us(LONGLONG us)
{
    LARGE_INTEGER iv;
    iv.QuadPart = -10 * us;
    KeDelayExecutionThread(KernelMode, FALSE, &iv);
}

static NTSTATUS wait_forever(PVOID object)
{
    return KeWaitForSingleObject(object, Executive, KernelMode, FALSE, NULL);
}

/* Wait with a timeout in 100 ns units (negative = relative, 0 = poll). */
static NTSTATUS wait_timeout(PVOID object, LONGLONG timeout)
{
    LARGE_INTEGER t;
    t.QuadPart = timeout;
    return KeWaitForSingleObject(object, Executive, KernelMode, FALSE, &t);
}

static run_out run_seed(uint64_t seed, uint32_t cpus, scenario_fn *setup, void *arg)
{
    ksl_config cfg = cfg_with(seed, cpus);
    return run_scenario(&cfg, setup, arg);
}

/* An ordered record of what happened (the deterministic engine runs one context at a time). */
#define SEQ_MAX 256
typedef struct seq_log {
    int ev[SEQ_MAX];
    int n;
} seq_log;

static void seq_add(seq_log *l, int v)
{
    if (l->n < SEQ_MAX)
        l->ev[l->n++] = v;
}

static int seq_first(const seq_log *l, int v)
{
    for (int i = 0; i < l->n; i++)
        if (l->ev[i] == v)
            return i;
    return -1;
}

static int seq_last(const seq_log *l, int v)
{
    for (int i = l->n - 1; i >= 0; i--)
        if (l->ev[i] == v)
            return i;
    return -1;
}

static int seq_count(const seq_log *l, int v)
{
    int n = 0;
    for (int i = 0; i < l->n; i++)
        n += l->ev[i] == v;
    return n;
}

typedef struct targ {
    void *s;
    int idx;
} targ;

/* ---- IRQL --------------------------------------------------------------------------------- */

typedef struct irql_rec {
    KIRQL at_start;
    KIRQL raise1_old, after_raise1, raise2_old, after_raise2, after_lower2, after_lower1;
    KIRQL todpc_old, after_todpc, after_todpc_lower;
    KIRQL spin_old, in_spin, after_spin;
    KIRQL apc_spin_old, apc_in_spin, apc_after_spin, after_apc_lower;
    KIRQL atdpc_in, atdpc_after, atdpc_after_lower;
    int done;
} irql_rec;

typedef struct irql_state {
    KSPIN_LOCK lock, lock2;
    irql_rec rec[2];
    targ args[2];
} irql_state;

static void irql_thread(void *arg)
{
    targ *a = arg;
    irql_state *s = a->s;
    irql_rec *r = &s->rec[a->idx];
    KIRQL old, old2;

    r->at_start = KeGetCurrentIrql();
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    r->raise1_old = old;
    r->after_raise1 = KeGetCurrentIrql();
    KeRaiseIrql(HIGH_LEVEL, &old2);
    r->raise2_old = old2;
    r->after_raise2 = KeGetCurrentIrql();
    KeLowerIrql(old2);
    r->after_lower2 = KeGetCurrentIrql();
    KeLowerIrql(old);
    r->after_lower1 = KeGetCurrentIrql();

    r->todpc_old = KeRaiseIrqlToDpcLevel();
    r->after_todpc = KeGetCurrentIrql();
    KeLowerIrql(r->todpc_old);
    r->after_todpc_lower = KeGetCurrentIrql();

    KeAcquireSpinLock(&s->lock, &old);
    r->spin_old = old;
    r->in_spin = KeGetCurrentIrql();
    KeReleaseSpinLock(&s->lock, old);
    r->after_spin = KeGetCurrentIrql();

    KeRaiseIrql(APC_LEVEL, &old2);
    KeAcquireSpinLock(&s->lock, &old);
    r->apc_spin_old = old;
    r->apc_in_spin = KeGetCurrentIrql();
    KeReleaseSpinLock(&s->lock, old);
    r->apc_after_spin = KeGetCurrentIrql();
    KeLowerIrql(old2);
    r->after_apc_lower = KeGetCurrentIrql();

    KeRaiseIrql(DISPATCH_LEVEL, &old);
    KeAcquireSpinLockAtDpcLevel(&s->lock2);
    r->atdpc_in = KeGetCurrentIrql();
    KeReleaseSpinLockFromDpcLevel(&s->lock2);
    r->atdpc_after = KeGetCurrentIrql();
    KeLowerIrql(old);
    r->atdpc_after_lower = KeGetCurrentIrql();
    r->done = 1;
}

static void irql_setup(ksl_engine *e, void *arg)
{
    irql_state *s = arg;
    KeInitializeSpinLock(&s->lock);
    KeInitializeSpinLock(&s->lock2);
    for (int i = 0; i < 2; i++) {
        s->args[i] = (targ){s, i};
        ksl_thread_create(e, i ? "irql1" : "irql0", irql_thread, &s->args[i]);
    }
}

static void test_irql_raise_lower_and_spinlock(void **state)
{
    (void)state;
    /* Outside a run, host code is at PASSIVE_LEVEL. */
    assert_int_equal(KeGetCurrentIrql(), PASSIVE_LEVEL);
    for (uint64_t seed = 1; seed <= NSEEDS; seed++) {
        irql_state s;
        memset(&s, 0, sizeof s);
        run_out o = run_seed(seed, 2, irql_setup, &s);
        assert_clean(o);
        for (int i = 0; i < 2; i++) {
            const irql_rec *r = &s.rec[i];
            assert_int_equal(r->done, 1);
            assert_int_equal(r->at_start, PASSIVE_LEVEL);
            assert_int_equal(r->raise1_old, PASSIVE_LEVEL);
            assert_int_equal(r->after_raise1, DISPATCH_LEVEL);
            assert_int_equal(r->raise2_old, DISPATCH_LEVEL);
            assert_int_equal(r->after_raise2, HIGH_LEVEL);
            assert_int_equal(r->after_lower2, DISPATCH_LEVEL);
            assert_int_equal(r->after_lower1, PASSIVE_LEVEL);
            assert_int_equal(r->todpc_old, PASSIVE_LEVEL);
            assert_int_equal(r->after_todpc, DISPATCH_LEVEL);
            assert_int_equal(r->after_todpc_lower, PASSIVE_LEVEL);
            assert_int_equal(r->spin_old, PASSIVE_LEVEL);
            assert_int_equal(r->in_spin, DISPATCH_LEVEL);
            assert_int_equal(r->after_spin, PASSIVE_LEVEL);
            assert_int_equal(r->apc_spin_old, APC_LEVEL);
            assert_int_equal(r->apc_in_spin, DISPATCH_LEVEL);
            assert_int_equal(r->apc_after_spin, APC_LEVEL);
            assert_int_equal(r->after_apc_lower, PASSIVE_LEVEL);
            assert_int_equal(r->atdpc_in, DISPATCH_LEVEL);
            assert_int_equal(r->atdpc_after, DISPATCH_LEVEL);
            assert_int_equal(r->atdpc_after_lower, PASSIVE_LEVEL);
        }
        run_out_free(&o);
    }
}

/* ---- spin locks: mutual exclusion --------------------------------------------------------- */

#define SPIN_ITERS 12
#define SPIN_MAX_THREADS 4

typedef struct spin_state {
    KSPIN_LOCK lock;
    KDPC dpc;
    int use_lock;
    int use_dpc;
    uint32_t nthreads;
    volatile uint32_t counter;
    uint32_t inserted;
    volatile uint32_t dpc_runs;
    uint32_t bad_irql;
    targ args[SPIN_MAX_THREADS];
} spin_state;

static void spin_dpc(PKDPC dpc, PVOID ctx, PVOID a1, PVOID a2)
{
    (void)dpc;
    (void)a1;
    (void)a2;
    spin_state *s = ctx;
    if (KeGetCurrentIrql() != DISPATCH_LEVEL)
        s->bad_irql++;
    KeAcquireSpinLockAtDpcLevel(&s->lock);
    uint32_t v = s->counter;
    KeStallExecutionProcessor(1);
    s->counter = v + 1;
    s->dpc_runs++;
    KeReleaseSpinLockFromDpcLevel(&s->lock);
}

static void spin_thread(void *arg)
{
    targ *a = arg;
    spin_state *s = a->s;
    for (int i = 0; i < SPIN_ITERS; i++) {
        if (s->use_dpc && a->idx == 0 && i % 3 == 0 && KeInsertQueueDpc(&s->dpc, NULL, NULL))
            s->inserted++;
        KIRQL old = PASSIVE_LEVEL;
        if (s->use_lock) {
            KeAcquireSpinLock(&s->lock, &old);
            if (KeGetCurrentIrql() != DISPATCH_LEVEL || old != PASSIVE_LEVEL)
                s->bad_irql++;
        }
        uint32_t v = s->counter;
        KeStallExecutionProcessor(1);
        s->counter = v + 1;
        if (s->use_lock) {
            KeReleaseSpinLock(&s->lock, old);
            if (KeGetCurrentIrql() != PASSIVE_LEVEL)
                s->bad_irql++;
        }
    }
    /* Do not end the run with a DPC still queued: wait until every inserted DPC ran. */
    if (s->use_dpc && a->idx == 0)
        for (int guard = 0; s->dpc_runs < s->inserted && guard < 100000; guard++)
            delay_us(10);
}

static void spin_setup(ksl_engine *e, void *arg)
{
    spin_state *s = arg;
    KeInitializeSpinLock(&s->lock);
    KeInitializeDpc(&s->dpc, spin_dpc, s);
    for (uint32_t i = 0; i < s->nthreads; i++) {
        s->args[i] = (targ){s, (int)i};
        ksl_thread_create(e, "spinner", spin_thread, &s->args[i]);
    }
}

static void test_spinlock_mutual_exclusion(void **state)
{
    (void)state;
    static const uint32_t cpu_counts[] = {1, 2, 4};
    for (size_t k = 0; k < sizeof cpu_counts / sizeof cpu_counts[0]; k++) {
        uint32_t cpus = cpu_counts[k];
        uint64_t dpc_total = 0;
        for (uint64_t seed = 1; seed <= NSEEDS; seed++) {
            spin_state s;
            memset(&s, 0, sizeof s);
            s.use_lock = 1;
            s.use_dpc = 1;
            s.nthreads = cpus == 4 ? 4 : 2;
            run_out o = run_seed(seed, cpus, spin_setup, &s);
            assert_clean(o);
            assert_int_equal(s.bad_irql, 0);
            assert_true(s.inserted >= 1);
            assert_int_equal(s.dpc_runs, s.inserted);
            assert_int_equal(s.counter, s.nthreads * SPIN_ITERS + s.dpc_runs);
            assert_int_equal(o.stats.dpcs, s.dpc_runs);
            dpc_total += s.dpc_runs;
            run_out_free(&o);
        }
        assert_true(dpc_total >= NSEEDS);
    }
}

/* Control: the same read-stall-write without the lock loses updates under some schedule, so the
 * test above can tell a working lock from a broken one. */
static void test_unlocked_counter_loses_updates(void **state)
{
    (void)state;
    int lost = 0;
    for (uint64_t seed = 1; seed <= NSEEDS; seed++) {
        spin_state s;
        memset(&s, 0, sizeof s);
        s.nthreads = 2;
        run_out o = run_seed(seed, 2, spin_setup, &s);
        assert_clean(o);
        assert_true(s.counter <= 2 * SPIN_ITERS);
        lost += s.counter < 2 * SPIN_ITERS;
        run_out_free(&o);
    }
    assert_true(lost > 0);
}

/* ---- DPCs --------------------------------------------------------------------------------- */

typedef struct dpc_state {
    KDPC dpc;
    KEVENT ran;
    BOOLEAN ins1, ins2;
    uint32_t queuer_cpu;
    int runs_while_raised, runs_after_lower;
    volatile int runs;
    KIRQL dpc_irql;
    uint32_t dpc_cpu;
    PKDPC dpc_ptr;
    PVOID ctx, a1, a2;
    /* removal */
    BOOLEAN rem1, rem2, rem_never, ins_again;
    int runs_after_remove;
} dpc_state;

static void dpc_routine(PKDPC dpc, PVOID ctx, PVOID a1, PVOID a2)
{
    dpc_state *s = ctx;
    s->dpc_ptr = dpc;
    s->ctx = ctx;
    s->a1 = a1;
    s->a2 = a2;
    s->dpc_irql = KeGetCurrentIrql();
    s->dpc_cpu = KeGetCurrentProcessorNumber();
    s->runs++;
    KeSetEvent(&s->ran, IO_NO_INCREMENT, FALSE);
}

static void dpc_double_insert_thread(void *arg)
{
    dpc_state *s = arg;
    KIRQL old;
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    s->queuer_cpu = KeGetCurrentProcessorNumber();
    s->ins1 = KeInsertQueueDpc(&s->dpc, &marker_a1, &marker_a2);
    s->ins2 = KeInsertQueueDpc(&s->dpc, &marker_b1, &marker_b2);
    KeStallExecutionProcessor(5);
    s->runs_while_raised = s->runs;
    KeLowerIrql(old);
    s->runs_after_lower = s->runs;
    wait_forever(&s->ran);
}

static void dpc_setup(ksl_engine *e, void *arg)
{
    dpc_state *s = arg;
    KeInitializeDpc(&s->dpc, dpc_routine, s);
    KeInitializeEvent(&s->ran, NotificationEvent, FALSE);
    ksl_thread_create(e, "queuer", dpc_double_insert_thread, s);
}

static void test_dpc_insert_twice_runs_once(void **state)
{
    (void)state;
    static const uint32_t cpu_counts[] = {1, 2, 4};
    for (size_t k = 0; k < sizeof cpu_counts / sizeof cpu_counts[0]; k++) {
        for (uint64_t seed = 1; seed <= NSEEDS; seed++) {
            dpc_state s;
            memset(&s, 0, sizeof s);
            run_out o = run_seed(seed, cpu_counts[k], dpc_setup, &s);
            assert_clean(o);
            assert_int_equal(s.ins1, TRUE);
            assert_int_equal(s.ins2, FALSE);
            /* Deferred while the queuing CPU is at DISPATCH_LEVEL ... */
            assert_int_equal(s.runs_while_raised, 0);
            /* ... and run when it drops below, before KeLowerIrql returns. */
            assert_int_equal(s.runs_after_lower, 1);
            assert_int_equal(s.runs, 1);
            assert_int_equal(o.stats.dpcs, 1);
            assert_int_equal(s.dpc_irql, DISPATCH_LEVEL);
            assert_int_equal(s.dpc_cpu, s.queuer_cpu);
            assert_ptr_equal(s.dpc_ptr, &s.dpc);
            assert_ptr_equal(s.ctx, &s);
            /* The arguments of the insert that queued it; the refused insert changed nothing. */
            assert_ptr_equal(s.a1, &marker_a1);
            assert_ptr_equal(s.a2, &marker_a2);
            run_out_free(&o);
        }
    }
}

/* DPC jitter: with jitter_ns the queuing CPU's DPC interrupt comes up to that late — here the DPC
 * then runs after KeLowerIrql has returned, at most jitter_ns (and its own few steps) after the
 * insert; how late comes from the seed, the same for the same seed. */
static void test_dpc_jitter(void **state)
{
    (void)state;
    bool late = false;
    for (uint64_t seed = 1; seed <= NSEEDS; seed++) {
        uint64_t ran_at[2];
        for (int k = 0; k < 2; k++) {
            dpc_state s;
            memset(&s, 0, sizeof s);
            ksl_config cfg = cfg_with(seed, 2);
            cfg.jitter_ns = 50000;
            run_out o = run_scenario(&cfg, dpc_setup, &s);
            assert_clean(o);
            assert_int_equal(s.runs, 1);
            assert_int_equal(s.dpc_irql, DISPATCH_LEVEL);
            late |= s.runs_after_lower == 0;
            ran_at[k] = o.stats.time_ns;
            run_out_free(&o);
        }
        assert_true(ran_at[0] == ran_at[1]);
        assert_true(ran_at[0] <= 5000u + 50000u + 2000u); /* the stall, the jitter, a few steps */
    }
    assert_true(late);
}

static void dpc_remove_thread(void *arg)
{
    dpc_state *s = arg;
    KIRQL old;
    s->rem_never = KeRemoveQueueDpc(&s->dpc);
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    s->ins1 = KeInsertQueueDpc(&s->dpc, &marker_a1, NULL);
    s->rem1 = KeRemoveQueueDpc(&s->dpc);
    s->rem2 = KeRemoveQueueDpc(&s->dpc);
    KeLowerIrql(old);
    delay_us(200);
    s->runs_after_remove = s->runs;
    s->ins_again = KeInsertQueueDpc(&s->dpc, &marker_b1, &marker_b2);
    wait_forever(&s->ran);
}

static void dpc_remove_setup(ksl_engine *e, void *arg)
{
    dpc_state *s = arg;
    KeInitializeDpc(&s->dpc, dpc_routine, s);
    KeInitializeEvent(&s->ran, NotificationEvent, FALSE);
    ksl_thread_create(e, "remover", dpc_remove_thread, s);
}

static void test_dpc_remove_queued(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= NSEEDS; seed++) {
        dpc_state s;
        memset(&s, 0, sizeof s);
        run_out o = run_seed(seed, 2, dpc_remove_setup, &s);
        assert_clean(o);
        assert_int_equal(s.rem_never, FALSE);
        assert_int_equal(s.ins1, TRUE);
        assert_int_equal(s.rem1, TRUE);
        assert_int_equal(s.rem2, FALSE);
        assert_int_equal(s.runs_after_remove, 0);
        assert_int_equal(s.ins_again, TRUE);
        assert_int_equal(s.runs, 1);
        assert_int_equal(o.stats.dpcs, 1);
        assert_ptr_equal(s.a1, &marker_b1);
        assert_ptr_equal(s.a2, &marker_b2);
        run_out_free(&o);
    }
}

/* Several threads queue their own DPC from PASSIVE_LEVEL: each runs on the queuing CPU; a DPC
 * bound with KeSetTargetProcessorDpc runs on its target. */
#define DPCCPU_MAX 4
typedef struct dpccpu_state {
    uint32_t n;
    KDPC dpc[DPCCPU_MAX];
    KEVENT ran[DPCCPU_MAX];
    uint32_t queued_on[DPCCPU_MAX], ran_on[DPCCPU_MAX];
    KIRQL irql[DPCCPU_MAX];
    BOOLEAN ins[DPCCPU_MAX];
    KDPC targeted;
    KEVENT targeted_ran;
    uint32_t target, targeted_cpu;
    targ args[DPCCPU_MAX];
} dpccpu_state;

static void dpccpu_routine(PKDPC dpc, PVOID ctx, PVOID a1, PVOID a2)
{
    (void)a2;
    dpccpu_state *s = ctx;
    int i = (int)(intptr_t)a1;
    if (dpc == &s->targeted) {
        s->targeted_cpu = KeGetCurrentProcessorNumber();
        KeSetEvent(&s->targeted_ran, IO_NO_INCREMENT, FALSE);
        return;
    }
    s->ran_on[i] = KeGetCurrentProcessorNumber();
    s->irql[i] = KeGetCurrentIrql();
    KeSetEvent(&s->ran[i], IO_NO_INCREMENT, FALSE);
}

static void dpccpu_thread(void *arg)
{
    targ *a = arg;
    dpccpu_state *s = a->s;
    int i = a->idx;
    KeStallExecutionProcessor(1);
    /* No scheduling point between reading the CPU and queuing. */
    s->queued_on[i] = KeGetCurrentProcessorNumber();
    s->ins[i] = KeInsertQueueDpc(&s->dpc[i], (PVOID)(intptr_t)i, NULL);
    wait_forever(&s->ran[i]);
    if (i == 0) {
        KeInsertQueueDpc(&s->targeted, NULL, NULL);
        wait_forever(&s->targeted_ran);
    }
}

static void dpccpu_setup(ksl_engine *e, void *arg)
{
    dpccpu_state *s = arg;
    for (uint32_t i = 0; i < s->n; i++) {
        KeInitializeDpc(&s->dpc[i], dpccpu_routine, s);
        KeInitializeEvent(&s->ran[i], SynchronizationEvent, FALSE);
        s->args[i] = (targ){s, (int)i};
        ksl_thread_create(e, "dpcq", dpccpu_thread, &s->args[i]);
    }
    KeInitializeDpc(&s->targeted, dpccpu_routine, s);
    KeSetTargetProcessorDpc(&s->targeted, s->target);
    KeInitializeEvent(&s->targeted_ran, NotificationEvent, FALSE);
}

static void test_dpc_runs_on_queuing_cpu(void **state)
{
    (void)state;
    static const uint32_t cpu_counts[] = {2, 4};
    for (size_t k = 0; k < sizeof cpu_counts / sizeof cpu_counts[0]; k++) {
        uint32_t cpus = cpu_counts[k];
        for (uint64_t seed = 1; seed <= NSEEDS; seed++) {
            dpccpu_state s;
            memset(&s, 0, sizeof s);
            s.n = cpus;
            s.target = (uint32_t)(seed % cpus);
            run_out o = run_seed(seed, cpus, dpccpu_setup, &s);
            assert_clean(o);
            for (uint32_t i = 0; i < s.n; i++) {
                assert_int_equal(s.ins[i], TRUE);
                assert_int_equal(s.irql[i], DISPATCH_LEVEL);
                assert_int_equal(s.ran_on[i], s.queued_on[i]);
            }
            assert_int_equal(s.targeted_cpu, s.target);
            assert_int_equal(o.stats.dpcs, s.n + 1);
            run_out_free(&o);
        }
    }
}

/* ---- interrupts --------------------------------------------------------------------------- */

/* A device that raises its interrupt line on request: writing CONTROL = 0 asserts it at once,
 * CONTROL = n > 0 asserts it n ns later; writing 1 to STATUS acknowledges (drops the line). */
#define TRIG_BASE 0x2000u
#define TRIG_LINE 3u
#define TRIG_IRQL 7u

enum { EV_ISR = 1, EV_DPC, EV_SYNC_BEGIN, EV_SYNC_END, EV_MASKED, EV_LOWERED };

typedef struct irq_state {
    ksl_irqdev dev;
    PKINTERRUPT intr;
    NTSTATUS connect_status;
    KDPC dpc;
    int mode;
    seq_log log;
    volatile int isr_count;
    volatile int dpc_count;
    volatile int in_loop;
    int thread_in_loop_at_isr;
    KIRQL isr_irql, dpc_irql, sync_irql;
    uint32_t isr_cpu, dpc_cpu;
    ULONGLONG isr_time;
    BOOLEAN dpc_inserted;
    BOOLEAN sync_ret_true, sync_ret_false;
    int isr_seen_while_raised;
    KIRQL irql_in_loop;
    int done;
} irq_state;

static BOOLEAN trig_isr(PKINTERRUPT intr, PVOID ctx)
{
    (void)intr;
    irq_state *s = ctx;
    if (!READ_PORT_ULONG(TRIG_BASE + KSL_IRQDEV_STATUS))
        return FALSE;
    WRITE_PORT_ULONG(TRIG_BASE + KSL_IRQDEV_STATUS, 1u);
    s->isr_irql = KeGetCurrentIrql();
    s->isr_cpu = KeGetCurrentProcessorNumber();
    s->isr_time = KeQueryInterruptTime();
    s->thread_in_loop_at_isr = s->in_loop;
    s->dpc_inserted = KeInsertQueueDpc(&s->dpc, NULL, NULL);
    /* After the ISR's last scheduling point: seeing this means the ISR is over. */
    seq_add(&s->log, EV_ISR);
    s->isr_count++;
    return TRUE;
}

static void trig_dpc(PKDPC dpc, PVOID ctx, PVOID a1, PVOID a2)
{
    (void)dpc;
    (void)a1;
    (void)a2;
    irq_state *s = ctx;
    s->dpc_irql = KeGetCurrentIrql();
    s->dpc_cpu = KeGetCurrentProcessorNumber();
    seq_add(&s->log, EV_DPC);
    s->dpc_count++;
}

static void wait_isr_and_dpc(irq_state *s)
{
    for (int guard = 0; (!s->isr_count || !s->dpc_count) && guard < 100000; guard++)
        KeStallExecutionProcessor(1);
}

/* mode 0: the thread spins at PASSIVE_LEVEL until a delayed interrupt arrives. */
static void irq_preempt_thread(void *arg)
{
    irq_state *s = arg;
    WRITE_PORT_ULONG(TRIG_BASE + KSL_IRQDEV_RAISE, 5000u); /* interrupt in 5 us */
    s->in_loop = 1;
    wait_isr_and_dpc(s);
    s->in_loop = 0;
    s->done = 1;
}

/* mode 1: raised to DISPATCH_LEVEL (below DIRQL) the thread is still interrupted. */
static void irq_dispatch_thread(void *arg)
{
    irq_state *s = arg;
    KIRQL old;
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    WRITE_PORT_ULONG(TRIG_BASE + KSL_IRQDEV_RAISE, 0u);
    s->in_loop = 1;
    for (int guard = 0; !s->isr_count && guard < 100000; guard++)
        KeStallExecutionProcessor(1);
    s->in_loop = 0;
    s->isr_seen_while_raised = s->isr_count;
    s->irql_in_loop = KeGetCurrentIrql();
    /* The ISR's DPC waits for the CPU to drop below DISPATCH_LEVEL. */
    seq_add(&s->log, EV_MASKED);
    KeLowerIrql(old);
    wait_isr_and_dpc(s);
    s->done = 1;
}

/* mode 2 / 3: at DIRQL / HIGH_LEVEL the interrupt is held off until the thread lowers. */
static void irq_masked_thread(void *arg)
{
    irq_state *s = arg;
    KIRQL old;
    KeRaiseIrql(s->mode == 2 ? (KIRQL)TRIG_IRQL : (KIRQL)HIGH_LEVEL, &old);
    WRITE_PORT_ULONG(TRIG_BASE + KSL_IRQDEV_RAISE, 0u);
    for (int i = 0; i < 50; i++) {
        KeStallExecutionProcessor(1);
        seq_add(&s->log, EV_MASKED);
    }
    s->isr_seen_while_raised = s->isr_count;
    seq_add(&s->log, EV_LOWERED);
    KeLowerIrql(old);
    wait_isr_and_dpc(s);
    s->done = 1;
}

static BOOLEAN sync_routine(PVOID ctx)
{
    irq_state *s = ctx;
    s->sync_irql = KeGetCurrentIrql();
    seq_add(&s->log, EV_SYNC_BEGIN);
    WRITE_PORT_ULONG(TRIG_BASE + KSL_IRQDEV_RAISE, 0u); /* the line goes high now */
    for (int i = 0; i < 30; i++)
        KeStallExecutionProcessor(1);
    seq_add(&s->log, EV_SYNC_END);
    return TRUE;
}

static BOOLEAN sync_routine_false(PVOID ctx)
{
    irq_state *s = ctx;
    if (KeGetCurrentIrql() != TRIG_IRQL)
        s->sync_irql = 0;
    return FALSE;
}

/* mode 4: KeSynchronizeExecution excludes the ISR while its routine runs. */
static void irq_sync_thread(void *arg)
{
    irq_state *s = arg;
    s->sync_ret_true = KeSynchronizeExecution(s->intr, sync_routine, s);
    wait_isr_and_dpc(s);
    s->sync_ret_false = KeSynchronizeExecution(s->intr, sync_routine_false, s);
    s->done = 1;
}

static void irq_setup(ksl_engine *e, void *arg)
{
    irq_state *s = arg;
    ksl_irqdev_attach(&s->dev, e, TRIG_BASE, TRIG_LINE, 0);
    KeInitializeDpc(&s->dpc, trig_dpc, s);
    s->connect_status = IoConnectInterrupt(&s->intr, trig_isr, s, NULL, TRIG_LINE, TRIG_IRQL, TRIG_IRQL,
                                           LevelSensitive, FALSE, 0, FALSE);
    static ksl_thread_fn *const bodies[] = {irq_preempt_thread, irq_dispatch_thread, irq_masked_thread,
                                            irq_masked_thread, irq_sync_thread};
    ksl_thread_create(e, "irqthread", bodies[s->mode], s);
}

static run_out run_irq(irq_state *s, int mode, uint64_t seed, uint32_t cpus)
{
    memset(s, 0, sizeof *s);
    s->mode = mode;
    return run_seed(seed, cpus, irq_setup, s);
}

static void assert_isr_basics(const irq_state *s, const run_out *o)
{
    assert_int_equal(s->connect_status, STATUS_SUCCESS);
    assert_non_null(s->intr);
    assert_non_null(s->dev.dev);
    assert_int_equal(s->done, 1);
    assert_int_equal(s->dev.raised, 1);
    assert_int_equal(s->isr_count, 1);
    assert_int_equal(o->stats.interrupts, 1);
    assert_int_equal(s->isr_irql, TRIG_IRQL);
    assert_true(s->isr_time >= s->dev.last_raised_ns / 100u);
    assert_int_equal(s->dev.pending, 0);
    /* The DPC the ISR queued ran once, at DISPATCH_LEVEL, on the ISR's CPU, after the ISR. */
    assert_int_equal(s->dpc_inserted, TRUE);
    assert_int_equal(s->dpc_count, 1);
    assert_int_equal(o->stats.dpcs, 1);
    assert_int_equal(s->dpc_irql, DISPATCH_LEVEL);
    assert_int_equal(s->dpc_cpu, s->isr_cpu);
    assert_true(seq_first(&s->log, EV_ISR) < seq_first(&s->log, EV_DPC));
}

static void test_isr_preempts_passive_thread(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= NSEEDS; seed++) {
        irq_state s;
        run_out o = run_irq(&s, 0, seed, 1);
        assert_clean(o);
        assert_isr_basics(&s, &o);
        assert_int_equal(s.isr_cpu, 0);
        /* One CPU and a thread that never blocks: the ISR interrupted it. */
        assert_int_equal(s.thread_in_loop_at_isr, 1);
        /* Not before the device raised the line, 5 us after the request. */
        assert_true(s.dev.last_raised_ns >= 5000u);
        run_out_free(&o);
    }
    for (uint64_t seed = 1; seed <= NSEEDS; seed++) {
        irq_state s;
        run_out o = run_irq(&s, 0, seed, 2);
        assert_clean(o);
        assert_isr_basics(&s, &o);
        run_out_free(&o);
    }
}

static void test_isr_preempts_dispatch_level(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= NSEEDS; seed++) {
        irq_state s;
        run_out o = run_irq(&s, 1, seed, 1);
        assert_clean(o);
        assert_isr_basics(&s, &o);
        assert_int_equal(s.thread_in_loop_at_isr, 1);
        assert_int_equal(s.isr_seen_while_raised, 1);
        assert_int_equal(s.irql_in_loop, DISPATCH_LEVEL);
        /* The DPC could not run while the only CPU was at DISPATCH_LEVEL. */
        assert_true(seq_first(&s.log, EV_MASKED) < seq_first(&s.log, EV_DPC));
        run_out_free(&o);
    }
}

static void test_isr_masked_at_or_above_dirql(void **state)
{
    (void)state;
    for (int mode = 2; mode <= 3; mode++) {
        for (uint64_t seed = 1; seed <= NSEEDS; seed++) {
            irq_state s;
            run_out o = run_irq(&s, mode, seed, 1);
            assert_clean(o);
            assert_isr_basics(&s, &o);
            assert_int_equal(s.isr_seen_while_raised, 0);
            assert_int_equal(seq_count(&s.log, EV_MASKED), 50);
            assert_true(seq_last(&s.log, EV_MASKED) < seq_first(&s.log, EV_ISR));
            assert_true(seq_first(&s.log, EV_LOWERED) < seq_first(&s.log, EV_ISR));
            run_out_free(&o);
        }
    }
}

static void test_synchronize_execution(void **state)
{
    (void)state;
    static const uint32_t cpu_counts[] = {1, 2};
    for (size_t k = 0; k < sizeof cpu_counts / sizeof cpu_counts[0]; k++) {
        for (uint64_t seed = 1; seed <= NSEEDS; seed++) {
            irq_state s;
            run_out o = run_irq(&s, 4, seed, cpu_counts[k]);
            assert_clean(o);
            assert_isr_basics(&s, &o);
            assert_int_equal(s.sync_irql, TRIG_IRQL);
            assert_int_equal(s.sync_ret_true, TRUE);
            assert_int_equal(s.sync_ret_false, FALSE);
            /* The line went high inside the routine, but the ISR ran only after it returned. */
            int b = seq_first(&s.log, EV_SYNC_BEGIN), end = seq_first(&s.log, EV_SYNC_END);
            int isr = seq_first(&s.log, EV_ISR);
            assert_true(b >= 0 && b < end);
            assert_true(end < isr);
            assert_true(o.stats.max_dirql_ns >= 30000u);
            run_out_free(&o);
        }
    }
}

/* IoDisconnectInterrupt while a CPU is about to run the ISR: on 3 CPUs, a thread holds the
 * interrupt's spin lock (its own, given to IoConnectInterrupt) at DIRQL with the line high, so
 * another CPU takes the interrupt and spins for the lock, while a third disconnects.  Disconnect must not return (and free the
 * object) until that ISR has run and returned; the ISR sees a live object. */
typedef struct disc_state {
    ksl_irqdev dev;
    PKINTERRUPT intr;
    KSPIN_LOCK lock;
    volatile int line_high;     /* set inside the synchronized routine */
    volatile int disconnecting; /* 1 inside IoDisconnectInterrupt, 2 once it returned */
    int isr_runs;
    int isr_during_disconnect;  /* the ISR ran while the disconnect was under way */
    int isr_after_disconnect;   /* the ISR ran after the disconnect returned: must never happen */
    int isr_calls;
    int isr_saw_object;         /* calls that got the ISR's own interrupt object */
    int done;
} disc_state;

static BOOLEAN disc_isr(PKINTERRUPT intr, PVOID ctx)
{
    disc_state *s = ctx;
    s->isr_calls++;
    s->isr_saw_object += intr == s->intr;
    if (s->disconnecting == 1)
        s->isr_during_disconnect++;
    if (s->disconnecting == 2)
        s->isr_after_disconnect++;
    if (!READ_PORT_ULONG(TRIG_BASE + KSL_IRQDEV_STATUS))
        return FALSE;
    WRITE_PORT_ULONG(TRIG_BASE + KSL_IRQDEV_STATUS, 1u);
    s->isr_runs++;
    return TRUE;
}

static void disc_syncer(void *arg)
{
    disc_state *s = arg;
    KIRQL old;
    KeRaiseIrql((KIRQL)TRIG_IRQL, &old);
    KeAcquireSpinLockAtDpcLevel(&s->lock);
    WRITE_PORT_ULONG(TRIG_BASE + KSL_IRQDEV_RAISE, 0u);
    s->line_high = 1;
    for (int i = 0; i < 20; i++)
        KeStallExecutionProcessor(1);
    KeReleaseSpinLockFromDpcLevel(&s->lock);
    KeLowerIrql(old);
}

static void disc_disconnecter(void *arg)
{
    disc_state *s = arg;
    for (int guard = 0; !s->line_high && guard < 100000; guard++)
        KeStallExecutionProcessor(1);
    s->disconnecting = 1;
    IoDisconnectInterrupt(s->intr);
    s->disconnecting = 2;
    s->done = 1;
}

static void disc_setup(ksl_engine *e, void *arg)
{
    disc_state *s = arg;
    ksl_irqdev_attach(&s->dev, e, TRIG_BASE, TRIG_LINE, 0);
    KeInitializeSpinLock(&s->lock);
    IoConnectInterrupt(&s->intr, disc_isr, s, &s->lock, TRIG_LINE, TRIG_IRQL, TRIG_IRQL, LevelSensitive, FALSE, 0,
                       FALSE);
    ksl_thread_create(e, "syncer", disc_syncer, s);
    ksl_thread_create(e, "disconnecter", disc_disconnecter, s);
}

static void test_disconnect_waits_for_isr_in_flight(void **state)
{
    (void)state;
    int raced = 0;
    for (uint64_t seed = 1; seed <= 4 * NSEEDS; seed++) {
        disc_state s;
        memset(&s, 0, sizeof s);
        run_out o = run_seed(seed, 3, disc_setup, &s);
        assert_clean(o);
        assert_int_equal(s.done, 1);
        assert_int_equal(s.isr_after_disconnect, 0);
        assert_int_equal(s.isr_saw_object, s.isr_calls);
        assert_true(s.isr_runs <= 1);
        raced += s.isr_during_disconnect > 0;
        run_out_free(&o);
    }
    /* The interleaving the test is for: the ISR ran while the disconnect waited for it. */
    assert_true(raced > 0);
}

/* ---- work items --------------------------------------------------------------------------- */

typedef struct work_state {
    PIO_WORKITEM item[2];
    KEVENT done[2];
    KDPC dpc;
    DEVICE_OBJECT devobj;
    KIRQL irql[2];
    PVOID ctx[2];
    PDEVICE_OBJECT dev[2];
    char who[2][64];
    char client[64];
    NTSTATUS delay_status;
    int runs[2];
    uint32_t alloc_ok;
} work_state;

static void work_routine0(PDEVICE_OBJECT dev, PVOID ctx)
{
    work_state *s = ctx;
    s->irql[0] = KeGetCurrentIrql();
    s->ctx[0] = ctx;
    s->dev[0] = dev;
    snprintf(s->who[0], sizeof s->who[0], "%s", ksl_context_name());
    /* A work item runs on a thread: it may wait. */
    LARGE_INTEGER iv;
    iv.QuadPart = -10;
    s->delay_status = KeDelayExecutionThread(KernelMode, FALSE, &iv);
    s->runs[0]++;
    IoFreeWorkItem(s->item[0]);
    KeSetEvent(&s->done[0], IO_NO_INCREMENT, FALSE);
}

static void work_routine1(PDEVICE_OBJECT dev, PVOID ctx)
{
    work_state *s = ctx;
    s->irql[1] = KeGetCurrentIrql();
    s->ctx[1] = ctx;
    s->dev[1] = dev;
    snprintf(s->who[1], sizeof s->who[1], "%s", ksl_context_name());
    s->runs[1]++;
    IoFreeWorkItem(s->item[1]);
    KeSetEvent(&s->done[1], IO_NO_INCREMENT, FALSE);
}

/* Queued at DISPATCH_LEVEL from a DPC. */
static void work_dpc(PKDPC dpc, PVOID ctx, PVOID a1, PVOID a2)
{
    (void)dpc;
    (void)a1;
    (void)a2;
    work_state *s = ctx;
    IoQueueWorkItem(s->item[1], work_routine1, DelayedWorkQueue, s);
}

static void work_client(void *arg)
{
    work_state *s = arg;
    snprintf(s->client, sizeof s->client, "%s", ksl_context_name());
    s->item[0] = IoAllocateWorkItem(&s->devobj);
    s->item[1] = IoAllocateWorkItem(&s->devobj);
    s->alloc_ok = s->item[0] && s->item[1];
    if (!s->alloc_ok)
        return;
    IoQueueWorkItem(s->item[0], work_routine0, DelayedWorkQueue, s);
    wait_forever(&s->done[0]);
    KeInsertQueueDpc(&s->dpc, NULL, NULL);
    wait_forever(&s->done[1]);
}

static void work_setup(ksl_engine *e, void *arg)
{
    work_state *s = arg;
    KeInitializeEvent(&s->done[0], NotificationEvent, FALSE);
    KeInitializeEvent(&s->done[1], NotificationEvent, FALSE);
    KeInitializeDpc(&s->dpc, work_dpc, s);
    ksl_thread_create(e, "client", work_client, s);
}

static void test_work_items(void **state)
{
    (void)state;
    static const uint32_t cpu_counts[] = {1, 2};
    for (size_t k = 0; k < sizeof cpu_counts / sizeof cpu_counts[0]; k++) {
        for (uint64_t seed = 1; seed <= NSEEDS; seed++) {
            work_state s;
            memset(&s, 0, sizeof s);
            run_out o = run_seed(seed, cpu_counts[k], work_setup, &s);
            /* Clean also means no pool leak: both items were freed from inside their routines. */
            assert_clean(o);
            assert_int_equal(s.alloc_ok, 1);
            assert_int_equal(o.stats.work_items, 2);
            assert_int_equal(o.stats.pool_allocs, 2);
            assert_int_equal(s.delay_status, STATUS_SUCCESS);
            for (int i = 0; i < 2; i++) {
                assert_int_equal(s.runs[i], 1);
                assert_int_equal(s.irql[i], PASSIVE_LEVEL);
                assert_ptr_equal(s.ctx[i], &s);
                assert_ptr_equal(s.dev[i], &s.devobj);
                /* On a system worker thread, not on the client that queued it. */
                assert_non_null(strstr(s.who[i], "worker"));
                assert_string_not_equal(s.who[i], s.client);
            }
            assert_non_null(strstr(s.client, "client"));
            run_out_free(&o);
        }
    }
}

/* Work-item jitter: the same two items run, each reaching the workers up to jitter_ns late; the run
 * is the same for the same seed and lasts longer for some seed than without jitter. */
static void test_work_item_jitter(void **state)
{
    (void)state;
    bool later = false;
    for (uint64_t seed = 1; seed <= NSEEDS; seed++) {
        uint64_t t[3];
        for (int k = 0; k < 3; k++) {
            work_state s;
            memset(&s, 0, sizeof s);
            ksl_config cfg = cfg_with(seed, 2);
            cfg.jitter_ns = k < 2 ? 200000u : 0u;
            run_out o = run_scenario(&cfg, work_setup, &s);
            assert_clean(o);
            assert_int_equal(o.stats.work_items, 2);
            assert_int_equal(s.runs[0] + s.runs[1], 2);
            t[k] = o.stats.time_ns;
            run_out_free(&o);
        }
        assert_true(t[0] == t[1]);
        assert_true(t[0] <= t[2] + 3u * 200000u); /* two items and a DPC, each at most jitter_ns late */
        later |= t[0] > t[2] + 1000u;
    }
    assert_true(later);
}

/* ---- timers and time ---------------------------------------------------------------------- */

#define TIMER_MAX_FIRES 16
typedef struct timer_state {
    KTIMER timer, timer2;
    KDPC dpc;
    KEVENT fired;
    int want;
    volatile int fires;
    ULONGLONG dpc_time[TIMER_MAX_FIRES];
    KIRQL dpc_irql;
    ULONGLONG set_time;
    BOOLEAN set1, set2, cancel1, cancel2, state_after, state_after2;
    int fires_at_cancel, fires_later;
    NTSTATUS st1, st2, st3, st4;
    ULONGLONG t0, t1, t2, t3;
} timer_state;

static void timer_dpc(PKDPC dpc, PVOID ctx, PVOID a1, PVOID a2)
{
    (void)dpc;
    (void)a1;
    (void)a2;
    timer_state *s = ctx;
    if (s->fires < TIMER_MAX_FIRES)
        s->dpc_time[s->fires] = KeQueryInterruptTime();
    s->dpc_irql = KeGetCurrentIrql();
    s->fires++;
    if (s->fires == s->want)
        KeSetEvent(&s->fired, IO_NO_INCREMENT, FALSE);
}

static void timer_oneshot_thread(void *arg)
{
    timer_state *s = arg;
    LARGE_INTEGER due;
    due.QuadPart = -2000; /* 200 us */
    s->set_time = KeQueryInterruptTime();
    s->set1 = KeSetTimer(&s->timer, due, &s->dpc);
    wait_forever(&s->fired);
    s->state_after = KeReadStateTimer(&s->timer);
    s->cancel1 = KeCancelTimer(&s->timer); /* expired: not set any more */
}

static void timer_periodic_thread(void *arg)
{
    timer_state *s = arg;
    LARGE_INTEGER due;
    due.QuadPart = -10000; /* 1 ms, then every 2 ms */
    s->set_time = KeQueryInterruptTime();
    s->set1 = KeSetTimerEx(&s->timer, due, 2, &s->dpc);
    wait_forever(&s->fired);
    s->cancel1 = KeCancelTimer(&s->timer);
    s->fires_at_cancel = s->fires;
    delay_us(10000);
    s->fires_later = s->fires;
}

static void timer_cancel_thread(void *arg)
{
    timer_state *s = arg;
    LARGE_INTEGER due;
    due.QuadPart = -10000; /* 1 ms */
    s->set1 = KeSetTimer(&s->timer, due, &s->dpc);
    s->set2 = KeSetTimer(&s->timer, due, &s->dpc); /* already set */
    s->cancel1 = KeCancelTimer(&s->timer);
    s->cancel2 = KeCancelTimer(&s->timer);
    delay_us(3000);
    s->fires_later = s->fires;
    s->state_after = KeReadStateTimer(&s->timer);
}

static void timer_wait_thread(void *arg)
{
    timer_state *s = arg;
    LARGE_INTEGER due;
    due.QuadPart = -5000; /* 500 us */
    s->t0 = KeQueryInterruptTime();
    KeSetTimer(&s->timer, due, NULL);
    s->st1 = wait_forever(&s->timer);
    s->t1 = KeQueryInterruptTime();
    s->state_after = KeReadStateTimer(&s->timer);
    s->st2 = wait_timeout(&s->timer, 0); /* a notification timer stays signalled */

    s->t2 = KeQueryInterruptTime();
    KeSetTimer(&s->timer2, due, NULL);
    s->st3 = wait_forever(&s->timer2);
    s->t3 = KeQueryInterruptTime();
    s->state_after2 = KeReadStateTimer(&s->timer2);
    s->st4 = wait_timeout(&s->timer2, 0); /* a synchronization timer was reset by the wait */
}

typedef struct timer_case {
    timer_state *s;
    ksl_thread_fn *body;
} timer_case;

static void timer_setup(ksl_engine *e, void *arg)
{
    timer_case *c = arg;
    timer_state *s = c->s;
    KeInitializeTimer(&s->timer);
    KeInitializeTimerEx(&s->timer2, SynchronizationTimer);
    KeInitializeDpc(&s->dpc, timer_dpc, s);
    KeInitializeEvent(&s->fired, NotificationEvent, FALSE);
    ksl_thread_create(e, "timer", c->body, s);
}

static run_out run_timer(timer_state *s, ksl_thread_fn *body, int want, uint64_t seed)
{
    memset(s, 0, sizeof *s);
    s->want = want;
    timer_case c = {s, body};
    return run_seed(seed, 2, timer_setup, &c);
}

static void test_timer_relative_due(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= NSEEDS; seed++) {
        timer_state s;
        run_out o = run_timer(&s, timer_oneshot_thread, 1, seed);
        assert_clean(o);
        assert_int_equal(s.set1, FALSE);
        assert_int_equal(s.fires, 1);
        assert_int_equal(o.stats.dpcs, 1);
        assert_int_equal(s.dpc_irql, DISPATCH_LEVEL);
        assert_true(s.dpc_time[0] >= s.set_time + 2000u);
        assert_int_equal(s.state_after, TRUE);
        assert_int_equal(s.cancel1, FALSE);
        run_out_free(&o);
    }
}

static void test_timer_periodic(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= NSEEDS; seed++) {
        timer_state s;
        run_out o = run_timer(&s, timer_periodic_thread, 4, seed);
        assert_clean(o);
        assert_int_equal(s.set1, FALSE);
        assert_true(s.fires_at_cancel >= 4);
        /* The k-th expiry is due 1 ms + k * 2 ms after the set. */
        for (int k = 0; k < s.fires && k < TIMER_MAX_FIRES; k++)
            assert_true(s.dpc_time[k] >= s.set_time + 10000u + (ULONGLONG)k * 20000u);
        /* A periodic timer is still set when cancelled, and stops. */
        assert_int_equal(s.cancel1, TRUE);
        assert_true(s.fires_later <= s.fires_at_cancel + 1);
        assert_int_equal(s.fires, s.fires_later);
        run_out_free(&o);
    }
}

/* Timer jitter: each expiry of a periodic timer comes up to timer_jitter_ns after its due time,
 * never before, without accumulating (the period runs from the due time); the lateness comes
 * from the seed: the same seed, the same times; the seeds differ among themselves. */
static void test_timer_jitter(void **state)
{
    (void)state;
    const ULONGLONG jitter_100ns = 5000; /* 500 us */
    ULONGLONG first[NSEEDS + 1];
    bool differ = false;
    for (uint64_t seed = 1; seed <= NSEEDS; seed++) {
        for (int again = 0; again < 2; again++) {
            timer_state s;
            memset(&s, 0, sizeof s);
            s.want = 4;
            timer_case c = {&s, timer_periodic_thread};
            ksl_config cfg = cfg_with(seed, 2);
            cfg.timer_jitter_ns = (uint32_t)jitter_100ns * 100u;
            run_out o = run_scenario(&cfg, timer_setup, &c);
            assert_clean(o);
            assert_true(s.fires >= 4);
            for (int k = 0; k < 4; k++) {
                ULONGLONG due = s.set_time + 10000u + (ULONGLONG)k * 20000u;
                assert_true(s.dpc_time[k] >= due);
                assert_true(s.dpc_time[k] <= due + jitter_100ns + 10u); /* + the DPC's own few steps */
            }
            if (again)
                assert_true(s.dpc_time[0] == first[seed]);
            first[seed] = s.dpc_time[0];
            run_out_free(&o);
        }
        differ |= seed > 1 && first[seed] != first[seed - 1];
    }
    assert_true(differ);
}

static void test_timer_cancel(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= NSEEDS; seed++) {
        timer_state s;
        run_out o = run_timer(&s, timer_cancel_thread, 1, seed);
        assert_clean(o);
        assert_int_equal(s.set1, FALSE);
        assert_int_equal(s.set2, TRUE);
        assert_int_equal(s.cancel1, TRUE);
        assert_int_equal(s.cancel2, FALSE);
        assert_int_equal(s.fires_later, 0);
        assert_int_equal(s.fires, 0);
        assert_int_equal(o.stats.dpcs, 0);
        assert_int_equal(s.state_after, FALSE);
        run_out_free(&o);
    }
}

static void test_wait_on_timer(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= NSEEDS; seed++) {
        timer_state s;
        run_out o = run_timer(&s, timer_wait_thread, 1, seed);
        assert_clean(o);
        assert_int_equal(s.st1, STATUS_SUCCESS);
        assert_true(s.t1 >= s.t0 + 5000u);
        assert_int_equal(s.state_after, TRUE);
        assert_int_equal(s.st2, STATUS_SUCCESS);
        assert_int_equal(s.st3, STATUS_SUCCESS);
        assert_true(s.t3 >= s.t2 + 5000u);
        assert_int_equal(s.state_after2, FALSE);
        assert_int_equal(s.st4, STATUS_TIMEOUT);
        assert_true(o.stats.time_ns >= 2 * 500000u);
        run_out_free(&o);
    }
}

typedef struct clock_state {
    ULONGLONG t0, t1;
    LARGE_INTEGER freq, c0, c1;
    ULONGLONG it_after_c1;
    uint64_t native0, native1;
} clock_state;

static void clock_thread(void *arg)
{
    clock_state *s = arg;
    s->c0 = KeQueryPerformanceCounter(&s->freq);
    s->t0 = KeQueryInterruptTime();
    s->native0 = ksl_time_now();
    KeStallExecutionProcessor(100);
    s->native1 = ksl_time_now();
    s->t1 = KeQueryInterruptTime();
    s->c1 = KeQueryPerformanceCounter(NULL);
    s->it_after_c1 = KeQueryInterruptTime();
}

static void clock_setup(ksl_engine *e, void *arg)
{
    ksl_thread_create(e, "clock", clock_thread, arg);
}

static void test_stall_and_clocks(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= NSEEDS; seed++) {
        clock_state s;
        memset(&s, 0, sizeof s);
        run_out o = run_seed(seed, 2, clock_setup, &s);
        assert_clean(o);
        assert_int_equal(s.freq.QuadPart, 10000000);
        assert_true(s.t1 >= s.t0 + 1000u);
        assert_true(s.native1 >= s.native0 + 100000u);
        assert_true(s.c1.QuadPart >= s.c0.QuadPart + 1000);
        /* The performance counter runs on the interrupt-time clock. */
        assert_int_equal((ULONGLONG)s.c1.QuadPart, s.it_after_c1);
        assert_true(o.stats.time_ns >= 100000u);
        run_out_free(&o);
    }
}

/* ---- events and waits --------------------------------------------------------------------- */

#define EV_WAITERS 3
typedef struct event_state {
    KEVENT ev;
    volatile int announced;
    volatile int finished;
    NTSTATUS st[EV_WAITERS];
    ULONGLONG before[EV_WAITERS], after[EV_WAITERS];
    ULONGLONG set_time;
    LONG set_prev, state_after_set;
    NTSTATUS late_poll, poll1, poll2;
    LONG state_after_poll, reset_prev, state_final, set_prev2, state2, state3;
    targ args[EV_WAITERS];
} event_state;

static void notif_waiter(void *arg)
{
    targ *a = arg;
    event_state *s = a->s;
    s->before[a->idx] = KeQueryInterruptTime();
    s->announced++;
    s->st[a->idx] = wait_forever(&s->ev);
    s->after[a->idx] = KeQueryInterruptTime();
    s->finished++;
}

static void sync_waiter(void *arg)
{
    targ *a = arg;
    event_state *s = a->s;
    s->before[a->idx] = KeQueryInterruptTime();
    s->announced++;
    s->st[a->idx] = wait_timeout(&s->ev, -100000); /* 10 ms */
    s->after[a->idx] = KeQueryInterruptTime();
    s->finished++;
}

static void notif_setter(void *arg)
{
    event_state *s = arg;
    for (int guard = 0; s->announced < EV_WAITERS && guard < 100000; guard++)
        delay_us(10);
    delay_us(1000);
    s->set_time = KeQueryInterruptTime();
    s->set_prev = KeSetEvent(&s->ev, IO_NO_INCREMENT, FALSE);
    s->state_after_set = KeReadStateEvent(&s->ev);
    s->late_poll = wait_timeout(&s->ev, 0);
    s->state_after_poll = KeReadStateEvent(&s->ev);
    for (int guard = 0; s->finished < EV_WAITERS && guard < 100000; guard++)
        delay_us(10);
    s->reset_prev = KeResetEvent(&s->ev);
    s->state_final = KeReadStateEvent(&s->ev);
}

static void sync_setter(void *arg)
{
    event_state *s = arg;
    for (int guard = 0; s->announced < EV_WAITERS && guard < 100000; guard++)
        delay_us(10);
    delay_us(1000);
    s->set_time = KeQueryInterruptTime();
    s->set_prev = KeSetEvent(&s->ev, IO_NO_INCREMENT, FALSE);
    s->state_after_set = KeReadStateEvent(&s->ev);
    for (int guard = 0; s->finished < EV_WAITERS && guard < 100000; guard++)
        delay_us(100);
    /* No waiters: the event stays signalled until one wait consumes it. */
    s->set_prev2 = KeSetEvent(&s->ev, IO_NO_INCREMENT, FALSE);
    s->state2 = KeReadStateEvent(&s->ev);
    s->poll1 = wait_timeout(&s->ev, 0);
    s->state3 = KeReadStateEvent(&s->ev);
    s->poll2 = wait_timeout(&s->ev, 0);
}

typedef struct event_case {
    event_state *s;
    int synchronization;
} event_case;

static void event_setup(ksl_engine *e, void *arg)
{
    event_case *c = arg;
    event_state *s = c->s;
    KeInitializeEvent(&s->ev, c->synchronization ? SynchronizationEvent : NotificationEvent, FALSE);
    for (int i = 0; i < EV_WAITERS; i++) {
        s->args[i] = (targ){s, i};
        ksl_thread_create(e, "waiter", c->synchronization ? sync_waiter : notif_waiter, &s->args[i]);
    }
    ksl_thread_create(e, "setter", c->synchronization ? sync_setter : notif_setter, s);
}

static void test_notification_event_wakes_all(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= NSEEDS; seed++) {
        event_state s;
        memset(&s, 0, sizeof s);
        event_case c = {&s, 0};
        run_out o = run_seed(seed, 2, event_setup, &c);
        assert_clean(o);
        assert_int_equal(s.set_prev, 0);
        for (int i = 0; i < EV_WAITERS; i++) {
            assert_int_equal(s.st[i], STATUS_SUCCESS);
            /* Each waiter was blocked across the set, and woke no earlier than it. */
            assert_true(s.before[i] < s.set_time);
            assert_true(s.after[i] >= s.set_time);
        }
        assert_int_equal(s.state_after_set, 1);
        assert_int_equal(s.late_poll, STATUS_SUCCESS);
        assert_int_equal(s.state_after_poll, 1);
        assert_int_equal(s.reset_prev, 1);
        assert_int_equal(s.state_final, 0);
        run_out_free(&o);
    }
}

static void test_synchronization_event_wakes_one(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= NSEEDS; seed++) {
        event_state s;
        memset(&s, 0, sizeof s);
        event_case c = {&s, 1};
        run_out o = run_seed(seed, 2, event_setup, &c);
        assert_clean(o);
        assert_int_equal(s.set_prev, 0);
        int woken = 0;
        for (int i = 0; i < EV_WAITERS; i++) {
            assert_true(s.before[i] < s.set_time);
            if (s.st[i] == STATUS_SUCCESS) {
                woken++;
            } else {
                assert_int_equal(s.st[i], STATUS_TIMEOUT);
                assert_true(s.after[i] >= s.before[i] + 100000u);
            }
        }
        assert_int_equal(woken, 1);
        /* The woken waiter consumed the signal. */
        assert_int_equal(s.state_after_set, 0);
        assert_int_equal(s.set_prev2, 0);
        assert_int_equal(s.state2, 1);
        assert_int_equal(s.poll1, STATUS_SUCCESS);
        assert_int_equal(s.state3, 0);
        assert_int_equal(s.poll2, STATUS_TIMEOUT);
        run_out_free(&o);
    }
}

typedef struct timeout_state {
    KEVENT never, later, polled;
    NTSTATUS st_timeout, st_later, st_poll, st_poll_dispatch, st_poll_set;
    ULONGLONG t0, t1, t2, t3, t4, t5;
    int single;
} timeout_state;

static void timeout_thread(void *arg)
{
    timeout_state *s = arg;
    s->t0 = KeQueryInterruptTime();
    s->st_timeout = wait_timeout(&s->never, -50000); /* 5 ms */
    s->t1 = KeQueryInterruptTime();

    if (!s->single) {
        s->t2 = KeQueryInterruptTime();
        s->st_later = wait_timeout(&s->later, -100000); /* 10 ms; set after about 1 ms */
        s->t3 = KeQueryInterruptTime();
    }

    s->t4 = KeQueryInterruptTime();
    s->st_poll = wait_timeout(&s->polled, 0);
    s->t5 = KeQueryInterruptTime();
    KIRQL old;
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    s->st_poll_dispatch = wait_timeout(&s->polled, 0); /* a zero timeout is allowed here */
    KeLowerIrql(old);
    KeSetEvent(&s->polled, IO_NO_INCREMENT, FALSE);
    s->st_poll_set = wait_timeout(&s->polled, 0);
}

static void timeout_helper(void *arg)
{
    timeout_state *s = arg;
    delay_us(6000);
    KeSetEvent(&s->later, IO_NO_INCREMENT, FALSE);
}

static void timeout_setup(ksl_engine *e, void *arg)
{
    timeout_state *s = arg;
    KeInitializeEvent(&s->never, NotificationEvent, FALSE);
    KeInitializeEvent(&s->later, NotificationEvent, FALSE);
    KeInitializeEvent(&s->polled, NotificationEvent, FALSE);
    ksl_thread_create(e, "waiter", timeout_thread, s);
    if (!s->single)
        ksl_thread_create(e, "helper", timeout_helper, s);
}

static void test_wait_timeout_and_poll(void **state)
{
    (void)state;
    for (int single = 1; single >= 0; single--) {
        for (uint64_t seed = 1; seed <= NSEEDS; seed++) {
            timeout_state s;
            memset(&s, 0, sizeof s);
            s.single = single;
            run_out o = run_seed(seed, 2, timeout_setup, &s);
            assert_clean(o);
            assert_int_equal(s.st_timeout, STATUS_TIMEOUT);
            assert_true(s.t1 >= s.t0 + 50000u);
            if (!single) {
                assert_int_equal(s.st_later, STATUS_SUCCESS);
                assert_true(s.t3 < s.t2 + 100000u);
            }
            assert_int_equal(s.st_poll, STATUS_TIMEOUT);
            assert_true(s.t5 - s.t4 < 10u); /* a poll does not wait */
            assert_int_equal(s.st_poll_dispatch, STATUS_TIMEOUT);
            assert_int_equal(s.st_poll_set, STATUS_SUCCESS);
            run_out_free(&o);
        }
    }
}

/* ---- fast mutexes ------------------------------------------------------------------------- */

#define FM_THREADS 3
#define FM_ITERS 5
typedef struct fm_state {
    FAST_MUTEX m;
    volatile uint32_t counter;
    volatile int inside;
    int max_inside;
    uint32_t bad_irql_held, bad_irql_after;
    KIRQL apc_restore;
    targ args[FM_THREADS];
} fm_state;

static void fm_thread(void *arg)
{
    targ *a = arg;
    fm_state *s = a->s;
    for (int i = 0; i < FM_ITERS; i++) {
        ExAcquireFastMutex(&s->m);
        if (KeGetCurrentIrql() != APC_LEVEL)
            s->bad_irql_held++;
        if (++s->inside > s->max_inside)
            s->max_inside = s->inside;
        uint32_t v = s->counter;
        delay_us(3); /* block while owning it */
        s->counter = v + 1;
        s->inside--;
        ExReleaseFastMutex(&s->m);
        if (KeGetCurrentIrql() != PASSIVE_LEVEL)
            s->bad_irql_after++;
    }
    if (a->idx == 0) {
        /* Acquired at APC_LEVEL, the release restores APC_LEVEL. */
        KIRQL old;
        KeRaiseIrql(APC_LEVEL, &old);
        ExAcquireFastMutex(&s->m);
        ExReleaseFastMutex(&s->m);
        s->apc_restore = KeGetCurrentIrql();
        KeLowerIrql(old);
    }
}

static void fm_setup(ksl_engine *e, void *arg)
{
    fm_state *s = arg;
    ExInitializeFastMutex(&s->m);
    for (int i = 0; i < FM_THREADS; i++) {
        s->args[i] = (targ){s, i};
        ksl_thread_create(e, "fm", fm_thread, &s->args[i]);
    }
}

static void test_fast_mutex_exclusion(void **state)
{
    (void)state;
    static const uint32_t cpu_counts[] = {1, 2, 4};
    for (size_t k = 0; k < sizeof cpu_counts / sizeof cpu_counts[0]; k++) {
        for (uint64_t seed = 1; seed <= NSEEDS; seed++) {
            fm_state s;
            memset(&s, 0, sizeof s);
            run_out o = run_seed(seed, cpu_counts[k], fm_setup, &s);
            assert_clean(o);
            assert_int_equal(s.counter, FM_THREADS * FM_ITERS);
            assert_int_equal(s.max_inside, 1);
            assert_int_equal(s.bad_irql_held, 0);
            assert_int_equal(s.bad_irql_after, 0);
            assert_int_equal(s.apc_restore, APC_LEVEL);
            assert_null(s.m.owner);
            run_out_free(&o);
        }
    }
}

typedef struct fmtry_state {
    FAST_MUTEX m;
    KEVENT held, tried, released;
    BOOLEAN try_busy, try_free;
    KIRQL irql_after_failed_try, irql_after_try, irql_after_release;
} fmtry_state;

static void fmtry_owner(void *arg)
{
    fmtry_state *s = arg;
    ExAcquireFastMutex(&s->m);
    KeSetEvent(&s->held, IO_NO_INCREMENT, FALSE);
    wait_forever(&s->tried); /* waiting at APC_LEVEL while owning the mutex */
    ExReleaseFastMutex(&s->m);
    KeSetEvent(&s->released, IO_NO_INCREMENT, FALSE);
}

static void fmtry_other(void *arg)
{
    fmtry_state *s = arg;
    wait_forever(&s->held);
    s->try_busy = ExTryToAcquireFastMutex(&s->m);
    s->irql_after_failed_try = KeGetCurrentIrql();
    KeSetEvent(&s->tried, IO_NO_INCREMENT, FALSE);
    wait_forever(&s->released);
    s->try_free = ExTryToAcquireFastMutex(&s->m);
    s->irql_after_try = KeGetCurrentIrql();
    if (s->try_free)
        ExReleaseFastMutex(&s->m);
    s->irql_after_release = KeGetCurrentIrql();
}

static void fmtry_setup(ksl_engine *e, void *arg)
{
    fmtry_state *s = arg;
    ExInitializeFastMutex(&s->m);
    KeInitializeEvent(&s->held, NotificationEvent, FALSE);
    KeInitializeEvent(&s->tried, NotificationEvent, FALSE);
    KeInitializeEvent(&s->released, NotificationEvent, FALSE);
    ksl_thread_create(e, "owner", fmtry_owner, s);
    ksl_thread_create(e, "other", fmtry_other, s);
}

static void test_fast_mutex_try(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= NSEEDS; seed++) {
        fmtry_state s;
        memset(&s, 0, sizeof s);
        run_out o = run_seed(seed, 2, fmtry_setup, &s);
        assert_clean(o);
        assert_int_equal(s.try_busy, FALSE);
        assert_int_equal(s.irql_after_failed_try, PASSIVE_LEVEL);
        assert_int_equal(s.try_free, TRUE);
        assert_int_equal(s.irql_after_try, APC_LEVEL);
        assert_int_equal(s.irql_after_release, PASSIVE_LEVEL);
        run_out_free(&o);
    }
}

/* ---- kernel mutexes (KMUTEX) ---------------------------------------------------------------- */

typedef struct km_state {
    KMUTEX m;
    volatile uint32_t counter;
    volatile int inside;
    int max_inside;
    LONG state_owned_twice, state_after;
    uint32_t not_passive;
    targ args[FM_THREADS];
} km_state;

static void km_thread(void *arg)
{
    targ *a = arg;
    km_state *s = a->s;
    for (int i = 0; i < FM_ITERS; i++) {
        KeWaitForSingleObject(&s->m, Executive, KernelMode, FALSE, NULL);
        KeWaitForSingleObject(&s->m, Executive, KernelMode, FALSE, NULL); /* recursive: at once */
        if (KeGetCurrentIrql() != PASSIVE_LEVEL)
            s->not_passive++; /* a mutex does not raise the IRQL */
        if (a->idx == 0 && i == 0)
            s->state_owned_twice = KeReadStateMutex(&s->m);
        if (++s->inside > s->max_inside)
            s->max_inside = s->inside;
        uint32_t v = s->counter;
        delay_us(3); /* block while owning it */
        s->counter = v + 1;
        s->inside--;
        KeReleaseMutex(&s->m, FALSE);
        KeReleaseMutex(&s->m, FALSE);
    }
}

static void km_setup(ksl_engine *e, void *arg)
{
    km_state *s = arg;
    KeInitializeMutex(&s->m, 0);
    for (int i = 0; i < FM_THREADS; i++) {
        s->args[i] = (targ){s, i};
        ksl_thread_create(e, "km", km_thread, &s->args[i]);
    }
}

static void test_kmutex_exclusion_and_recursion(void **state)
{
    (void)state;
    static const uint32_t cpu_counts[] = {1, 2, 4};
    for (size_t k = 0; k < sizeof cpu_counts / sizeof cpu_counts[0]; k++) {
        for (uint64_t seed = 1; seed <= NSEEDS; seed++) {
            km_state s;
            memset(&s, 0, sizeof s);
            run_out o = run_seed(seed, cpu_counts[k], km_setup, &s);
            assert_clean(o);
            assert_int_equal(s.counter, FM_THREADS * FM_ITERS);
            assert_int_equal(s.max_inside, 1);
            assert_int_equal(s.not_passive, 0);
            assert_int_equal(s.state_owned_twice, -1); /* 1 - 2 acquisitions */
            assert_int_equal(KeReadStateMutex(&s.m), 1);
            assert_null(s.m.owner);
            run_out_free(&o);
        }
    }
}

typedef struct kmbad_state {
    KMUTEX m;
    KEVENT held;
    NTSTATUS polled;
} kmbad_state;

static void kmbad_owner(void *arg)
{
    kmbad_state *s = arg;
    KeWaitForSingleObject(&s->m, Executive, KernelMode, FALSE, NULL);
    KeSetEvent(&s->held, IO_NO_INCREMENT, FALSE);
    delay_us(50);
    KeReleaseMutex(&s->m, FALSE);
}

static void kmbad_other(void *arg)
{
    kmbad_state *s = arg;
    wait_forever(&s->held);
    LARGE_INTEGER zero = {.QuadPart = 0};
    s->polled = KeWaitForSingleObject(&s->m, Executive, KernelMode, FALSE, &zero); /* owned: times out */
    KeReleaseMutex(&s->m, FALSE); /* not its owner */
}

static void kmbad_setup(ksl_engine *e, void *arg)
{
    kmbad_state *s = arg;
    KeInitializeMutex(&s->m, 0);
    KeInitializeEvent(&s->held, NotificationEvent, FALSE);
    ksl_thread_create(e, "owner", kmbad_owner, s);
    ksl_thread_create(e, "other", kmbad_other, s);
}

static void test_kmutex_release_by_another_thread(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= NSEEDS; seed++) {
        kmbad_state s;
        memset(&s, 0, sizeof s);
        run_out o = run_seed(seed, 2, kmbad_setup, &s);
        assert_rule(o, "K.mutex-release-not-owner");
        assert_int_equal(s.polled, STATUS_TIMEOUT);
        assert_non_null(strstr(o.message, "owned by thread 'owner'"));
        run_out_free(&o);
    }
}

typedef struct kmorder_state {
    KMUTEX a, b;
} kmorder_state;

static void kmorder_ab(void *arg)
{
    kmorder_state *s = arg;
    KeWaitForSingleObject(&s->a, Executive, KernelMode, FALSE, NULL);
    KeWaitForSingleObject(&s->b, Executive, KernelMode, FALSE, NULL);
    KeReleaseMutex(&s->b, FALSE);
    KeReleaseMutex(&s->a, FALSE);
}

static void kmorder_ba(void *arg)
{
    kmorder_state *s = arg;
    delay_us(100); /* after the other thread's order is seen */
    KeWaitForSingleObject(&s->b, Executive, KernelMode, FALSE, NULL);
    KeWaitForSingleObject(&s->a, Executive, KernelMode, FALSE, NULL);
    KeReleaseMutex(&s->a, FALSE);
    KeReleaseMutex(&s->b, FALSE);
}

static void kmorder_setup(ksl_engine *e, void *arg)
{
    kmorder_state *s = arg;
    KeInitializeMutex(&s->a, 0);
    KeInitializeMutex(&s->b, 0);
    ksl_thread_create(e, "ab", kmorder_ab, s);
    ksl_thread_create(e, "ba", kmorder_ba, s);
}

/* Kernel mutexes are in the lock order: B then A after A then B is a cycle. */
static void test_kmutex_lock_order(void **state)
{
    (void)state;
    kmorder_state s;
    memset(&s, 0, sizeof s);
    run_out o = run_seed(1, 2, kmorder_setup, &s);
    const char *m = run_out_message_of(&o, "K.lock-order-cycle");
    if (!m)
        print_error("rules: %s\n", o.rule);
    assert_non_null(m);
    assert_non_null(strstr(m, "'s->a'"));
    run_out_free(&o);
}

static void kmheld_thread(void *arg)
{
    kmorder_state *s = arg;
    KeWaitForSingleObject(&s->a, Executive, KernelMode, FALSE, NULL);
}

static void kmheld_setup(ksl_engine *e, void *arg)
{
    kmorder_state *s = arg;
    KeInitializeMutex(&s->a, 0);
    ksl_thread_create(e, "keeper", kmheld_thread, s);
}

static void test_kmutex_held_on_return(void **state)
{
    (void)state;
    kmorder_state s;
    memset(&s, 0, sizeof s);
    run_out o = run_seed(1, 1, kmheld_setup, &s);
    assert_rule(o, "K.lock-held-on-return");
    assert_non_null(strstr(o.message, "still owning mutex 's->a'"));
    run_out_free(&o);
}

/* ---- pool --------------------------------------------------------------------------------- */

#define POOL_BLOCKS 5
#define POOL_SIZE 64
typedef struct pool_state {
    unsigned char *p[POOL_BLOCKS];
    int intact[POOL_BLOCKS];
} pool_state;

static void pool_thread(void *arg)
{
    pool_state *s = arg;
    for (int i = 0; i < POOL_BLOCKS; i++)
        s->p[i] = ExAllocatePoolWithTag(i % 2 ? PagedPool : NonPagedPool, POOL_SIZE, TAG_TEST);
    for (int i = 0; i < POOL_BLOCKS; i++)
        if (s->p[i])
            memset(s->p[i], 0x10 + i, POOL_SIZE);
    for (int i = 0; i < POOL_BLOCKS; i++) {
        if (!s->p[i])
            continue;
        s->intact[i] = 1;
        for (int j = 0; j < POOL_SIZE; j++)
            if (s->p[i][j] != (unsigned char)(0x10 + i))
                s->intact[i] = 0;
    }
    for (int i = 0; i < POOL_BLOCKS; i++)
        if (s->p[i])
            ExFreePoolWithTag(s->p[i], TAG_TEST);
}

static void pool_setup(ksl_engine *e, void *arg)
{
    ksl_thread_create(e, "pool", pool_thread, arg);
}

static void test_pool_alloc_and_fault_injection(void **state)
{
    (void)state;
    for (uint64_t nth = 0; nth <= 3; nth += 3) {
        pool_state s;
        memset(&s, 0, sizeof s);
        ksl_config cfg = cfg_with(1, 2);
        cfg.fail_alloc_nth = nth;
        run_out o = run_scenario(&cfg, pool_setup, &s);
        assert_clean(o); /* every block freed: no K.pool-leak */
        for (int i = 0; i < POOL_BLOCKS; i++) {
            if (nth && i == (int)nth - 1) {
                assert_null(s.p[i]);
                continue;
            }
            assert_non_null(s.p[i]);
            assert_int_equal(s.intact[i], 1);
            for (int j = 0; j < i; j++) {
                if (!s.p[j])
                    continue;
                assert_true(s.p[i] != s.p[j]);
                /* No overlap. */
                assert_true(s.p[i] + POOL_SIZE <= s.p[j] || s.p[j] + POOL_SIZE <= s.p[i]);
            }
        }
        assert_int_equal(o.stats.pool_allocs, nth ? POOL_BLOCKS - 1 : POOL_BLOCKS);
        assert_int_equal(o.stats.pool_failed, nth ? 1 : 0);
        assert_true(o.stats.pool_peak_bytes >= (uint64_t)(nth ? POOL_BLOCKS - 1 : POOL_BLOCKS) * POOL_SIZE);
        run_out_free(&o);
    }
}

/* ---- IRPs --------------------------------------------------------------------------------- */

enum { EV_CANCEL_ENTER = 1, EV_CANCEL_RELEASE, EV_OTHER_ACQ, EV_OTHER_REL };

typedef struct irp_state {
    PIRP irp, irp2, irp3;
    PDRIVER_CANCEL prev1, prev2, prev3;
    BOOLEAN cancel_ret, cancel_none_ret;
    uint8_t irp2_cancel_flag;
    int cancel_calls, other_calls;
    KIRQL cancel_irql, cancel_irql_field, irql_after_release, irql_after_cancel;
    uint8_t cancel_flag_seen;
    PDRIVER_CANCEL routine_after_cancel;
    int comp_calls;
    NTSTATUS comp_status;
    ULONG_PTR comp_info;
    PVOID comp_ctx;
    PIRP comp_irp;
    KIRQL comp_irql;
    int comp_calls3;
    NTSTATUS comp_status3;
    ULONG_PTR comp_info3;
    PVOID comp_ctx3;
    int contend;
    volatile int cancel_done;
    seq_log log;
} irp_state;

static void other_cancel(PDEVICE_OBJECT dev, PIRP irp)
{
    (void)dev;
    irp_state *s = irp->Tail.Overlay.DriverContext[0];
    s->other_calls++;
    IoReleaseCancelSpinLock(irp->CancelIrql);
}

static void my_cancel(PDEVICE_OBJECT dev, PIRP irp)
{
    (void)dev;
    irp_state *s = irp->Tail.Overlay.DriverContext[0];
    s->cancel_calls++;
    s->cancel_irql = KeGetCurrentIrql();
    s->cancel_irql_field = irp->CancelIrql;
    s->cancel_flag_seen = irp->Cancel;
    seq_add(&s->log, EV_CANCEL_ENTER);
    for (int i = 0; i < 5; i++)
        KeStallExecutionProcessor(1);
    seq_add(&s->log, EV_CANCEL_RELEASE);
    IoReleaseCancelSpinLock(irp->CancelIrql);
    s->irql_after_release = KeGetCurrentIrql();
    irp->IoStatus.Status = STATUS_CANCELLED;
    irp->IoStatus.Information = 0;
    IoCompleteRequest(irp, IO_NO_INCREMENT);
}

static NTSTATUS my_completion(PDEVICE_OBJECT dev, PIRP irp, PVOID ctx)
{
    (void)dev;
    irp_state *s = irp->Tail.Overlay.DriverContext[0];
    if (irp == s->irp3) {
        s->comp_calls3++;
        s->comp_status3 = irp->IoStatus.Status;
        s->comp_info3 = irp->IoStatus.Information;
        s->comp_ctx3 = ctx;
        return STATUS_SUCCESS;
    }
    s->comp_calls++;
    s->comp_status = irp->IoStatus.Status;
    s->comp_info = irp->IoStatus.Information;
    s->comp_ctx = ctx;
    s->comp_irp = irp;
    s->comp_irql = KeGetCurrentIrql();
    return STATUS_SUCCESS;
}

static void irp_thread(void *arg)
{
    irp_state *s = arg;
    /* IoSetCancelRoutine exchanges and returns the previous routine. */
    s->irp = IoAllocateIrp(1, FALSE);
    if (!s->irp)
        return;
    s->irp->Tail.Overlay.DriverContext[0] = s;
    IoSetCompletionRoutine(s->irp, my_completion, &marker_a1, TRUE, TRUE, TRUE);
    s->prev1 = IoSetCancelRoutine(s->irp, my_cancel);
    s->prev2 = IoSetCancelRoutine(s->irp, other_cancel);
    s->prev3 = IoSetCancelRoutine(s->irp, my_cancel);
    IoMarkIrpPending(s->irp);
    s->irp->IoStatus.Status = STATUS_PENDING;
    s->cancel_ret = IoCancelIrp(s->irp);
    s->cancel_done = 1;
    s->irql_after_cancel = KeGetCurrentIrql();
    s->routine_after_cancel = atomic_load(&s->irp->CancelRoutine);
    IoFreeIrp(s->irp);

    /* No cancel routine: FALSE, but the IRP is marked cancelled. */
    s->irp2 = IoAllocateIrp(1, FALSE);
    s->irp2->Tail.Overlay.DriverContext[0] = s;
    s->cancel_none_ret = IoCancelIrp(s->irp2);
    s->irp2_cancel_flag = s->irp2->Cancel;
    s->irp2->IoStatus.Status = STATUS_CANCELLED;
    IoCompleteRequest(s->irp2, IO_NO_INCREMENT);
    IoFreeIrp(s->irp2);

    /* A plain completion passes the IRP's IoStatus to the completion routine. */
    s->irp3 = IoAllocateIrp(1, FALSE);
    s->irp3->Tail.Overlay.DriverContext[0] = s;
    IoSetCompletionRoutine(s->irp3, my_completion, &marker_b1, TRUE, TRUE, TRUE);
    s->irp3->IoStatus.Status = STATUS_SUCCESS;
    s->irp3->IoStatus.Information = 1234;
    IoCompleteRequest(s->irp3, IO_NO_INCREMENT);
    IoFreeIrp(s->irp3);
}

/* Takes the cancel spin lock repeatedly while the IRP is cancelled on the other CPU. */
static void irp_contender(void *arg)
{
    irp_state *s = arg;
    for (int i = 0; i < 40 && !s->cancel_done; i++) {
        KIRQL irql;
        IoAcquireCancelSpinLock(&irql);
        seq_add(&s->log, EV_OTHER_ACQ);
        KeStallExecutionProcessor(1);
        seq_add(&s->log, EV_OTHER_REL);
        IoReleaseCancelSpinLock(irql);
    }
}

static void irp_setup(ksl_engine *e, void *arg)
{
    irp_state *s = arg;
    ksl_thread_create(e, "irp", irp_thread, s);
    if (s->contend)
        ksl_thread_create(e, "contender", irp_contender, s);
}

static void test_irp_cancel_and_complete(void **state)
{
    (void)state;
    for (int contend = 0; contend <= 1; contend++) {
        for (uint64_t seed = 1; seed <= NSEEDS; seed++) {
            irp_state s;
            memset(&s, 0, sizeof s);
            s.contend = contend;
            run_out o = run_seed(seed, 2, irp_setup, &s);
            assert_clean(o);
            assert_non_null(s.irp);
            assert_null(s.prev1);
            assert_true(s.prev2 == my_cancel);
            assert_true(s.prev3 == other_cancel);
            assert_int_equal(s.cancel_ret, TRUE);
            assert_int_equal(s.cancel_calls, 1);
            assert_int_equal(s.other_calls, 0);
            assert_int_equal(s.cancel_irql, DISPATCH_LEVEL);
            assert_int_equal(s.cancel_irql_field, PASSIVE_LEVEL);
            assert_int_equal(s.cancel_flag_seen, 1);
            assert_int_equal(s.irql_after_release, PASSIVE_LEVEL);
            assert_int_equal(s.irql_after_cancel, PASSIVE_LEVEL);
            assert_true(s.routine_after_cancel == NULL);
            /* The cancel routine completed the IRP: the completion routine saw its status. */
            assert_int_equal(s.comp_calls, 1);
            assert_int_equal(s.comp_status, STATUS_CANCELLED);
            assert_int_equal(s.comp_info, 0);
            assert_ptr_equal(s.comp_ctx, &marker_a1);
            assert_ptr_equal(s.comp_irp, s.irp);
            assert_int_equal(s.comp_irql, PASSIVE_LEVEL);
            assert_int_equal(s.cancel_none_ret, FALSE);
            assert_int_equal(s.irp2_cancel_flag, 1);
            assert_int_equal(s.comp_calls3, 1);
            assert_int_equal(s.comp_status3, STATUS_SUCCESS);
            assert_int_equal(s.comp_info3, 1234);
            assert_ptr_equal(s.comp_ctx3, &marker_b1);
            /* The cancel routine ran holding the cancel spin lock: nobody else held it meanwhile. */
            int holder = 0;
            for (int i = 0; i < s.log.n; i++) {
                int ev = s.log.ev[i];
                if (ev == EV_CANCEL_ENTER || ev == EV_OTHER_ACQ) {
                    assert_int_equal(holder, 0);
                    holder = ev;
                } else {
                    assert_int_equal(holder, ev == EV_CANCEL_RELEASE ? EV_CANCEL_ENTER : EV_OTHER_ACQ);
                    holder = 0;
                }
            }
            assert_int_equal(holder, 0);
            run_out_free(&o);
        }
    }
}

/* ---- threads on one CPU ------------------------------------------------------------------- */

#define ONE_ITERS 20
typedef struct one_state {
    volatile int progress[2];
    int done[2];
    int blocking;
    seq_log order; /* which thread ran each iteration */
    targ args[2];
} one_state;

static void one_thread(void *arg)
{
    targ *a = arg;
    one_state *s = a->s;
    for (int i = 0; i < ONE_ITERS; i++) {
        s->progress[a->idx]++;
        seq_add(&s->order, a->idx);
        if (s->blocking)
            delay_us(5);
        else
            KeStallExecutionProcessor(5);
    }
    s->done[a->idx] = 1;
}

static void one_setup(ksl_engine *e, void *arg)
{
    one_state *s = arg;
    for (int i = 0; i < 2; i++) {
        s->args[i] = (targ){s, i};
        ksl_thread_create(e, i ? "b" : "a", one_thread, &s->args[i]);
    }
}

static void test_threads_share_one_cpu(void **state)
{
    (void)state;
    for (int blocking = 0; blocking <= 1; blocking++) {
        int interleaved = 0;
        for (uint64_t seed = 1; seed <= NSEEDS; seed++) {
            one_state s;
            memset(&s, 0, sizeof s);
            s.blocking = blocking;
            run_out o = run_seed(seed, 1, one_setup, &s);
            assert_clean(o);
            assert_int_equal(s.done[0], 1);
            assert_int_equal(s.done[1], 1);
            assert_int_equal(s.progress[0], ONE_ITERS);
            assert_int_equal(s.progress[1], ONE_ITERS);
            assert_int_equal(s.order.n, 2 * ONE_ITERS);
            assert_true(o.stats.switches > 0);
            /* The two threads share the CPU: the run takes at least their summed stall time. */
            if (!blocking)
                assert_true(o.stats.time_ns >= 2u * ONE_ITERS * 5000u);
            /* More than one hand-over between the threads: they interleaved. */
            int changes = 0;
            for (int i = 1; i < s.order.n; i++)
                changes += s.order.ev[i] != s.order.ev[i - 1];
            if (changes > 1)
                interleaved++;
            run_out_free(&o);
        }
        /* Preemption (stalling threads) in some schedule; blocking threads always alternate. */
        if (blocking)
            assert_int_equal(interleaved, NSEEDS);
        else
            assert_true(interleaved > 0);
    }
}

/* ---- virtual time as a thread sees it ----------------------------------------------------- */

/* More threads than CPUs, so threads are preempted and move between CPUs: a thread's
 * KeQueryInterruptTime never goes backwards, and a stall or delay of 100 us advances it by at
 * least 100 us, whatever CPU the thread resumes on. */
#define MONO_THREADS 3
#define MONO_ITERS 20
typedef struct mono_state {
    int use_delay;
    uint32_t backwards, short_waits, migrations;
    ULONGLONG worst_short;
} mono_state;

static void mono_thread(void *arg)
{
    mono_state *s = arg;
    ULONGLONG prev = 0;
    ULONG cpu = KeGetCurrentProcessorNumber();
    for (int i = 0; i < MONO_ITERS; i++) {
        ULONGLONG t0 = KeQueryInterruptTime();
        if (t0 < prev)
            s->backwards++;
        if (s->use_delay)
            delay_us(100);
        else
            KeStallExecutionProcessor(100);
        ULONGLONG t1 = KeQueryInterruptTime();
        if (t1 < t0 + 1000u) {
            s->short_waits++;
            ULONGLONG d = t0 + 1000u - t1;
            if (d > s->worst_short)
                s->worst_short = d;
        }
        if (KeGetCurrentProcessorNumber() != cpu) {
            s->migrations++;
            cpu = KeGetCurrentProcessorNumber();
        }
        prev = t1;
    }
}

static void mono_setup(ksl_engine *e, void *arg)
{
    for (int i = 0; i < MONO_THREADS; i++)
        ksl_thread_create(e, "mono", mono_thread, arg);
}

/* Many lines pending on many CPUs at once: every pending line is an option on every CPU below
 * its IRQL (64 CPUs x 16 lines here), and every interrupt is taken exactly once. */
enum { MANY_LINES = 16 };

typedef struct many_state {
    ksl_irqdev dev[MANY_LINES];
    PKINTERRUPT intr[MANY_LINES];
    volatile LONG isr_runs[MANY_LINES];
} many_state;

static BOOLEAN many_isr(PKINTERRUPT intr, PVOID ctx)
{
    (void)intr;
    ksl_irqdev *d = ctx;
    many_state *s = (many_state *)((char *)(d - d->line) - offsetof(many_state, dev));
    if (!READ_PORT_ULONG(0x3000u + 0x10u * d->line + KSL_IRQDEV_STATUS))
        return FALSE;
    WRITE_PORT_ULONG(0x3000u + 0x10u * d->line + KSL_IRQDEV_STATUS, 1u);
    InterlockedIncrement(&s->isr_runs[d->line]);
    return TRUE;
}

static void many_thread(void *arg)
{
    (void)arg;
    for (uint32_t l = 0; l < MANY_LINES; l++)
        WRITE_PORT_ULONG(0x3000u + 0x10u * l + KSL_IRQDEV_RAISE, 1000u); /* all 1 us from now */
    KeStallExecutionProcessor(50);
}

static void many_setup(ksl_engine *e, void *arg)
{
    many_state *s = arg;
    for (uint32_t l = 0; l < MANY_LINES; l++) {
        assert_int_equal(ksl_irqdev_attach(&s->dev[l], e, 0x3000u + 0x10u * l, l, 0), 0);
        assert_int_equal(IoConnectInterrupt(&s->intr[l], many_isr, &s->dev[l], NULL, l, (KIRQL)(3 + l % 20),
                                            (KIRQL)(3 + l % 20), LevelSensitive, FALSE, 0, FALSE),
                         STATUS_SUCCESS);
    }
    ksl_thread_create(e, "raiser", many_thread, s);
}

static void test_many_lines_many_cpus(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= 20; seed++) {
        many_state *s = calloc(1, sizeof *s);
        ksl_config cfg = cfg_with(seed, KSL_MAX_CPUS);
        run_out o = run_scenario(&cfg, many_setup, s);
        assert_clean(o);
        assert_int_equal(o.stats.interrupts, MANY_LINES);
        for (uint32_t l = 0; l < MANY_LINES; l++)
            assert_int_equal(s->isr_runs[l], 1);
        run_out_free(&o);
        free(s);
    }
}

/* DbgPrint's text is kept in the event log and shows among the events leading to a finding. */
static void dbgprint_thread(void *arg)
{
    (void)arg;
    DbgPrint("mapping %d released\n", 42);
    KeStallExecutionProcessor(1);
    ASSERT(KeGetCurrentIrql() == DISPATCH_LEVEL);
}

static void dbgprint_setup(ksl_engine *e, void *arg)
{
    (void)arg;
    ksl_thread_create(e, "printer", dbgprint_thread, NULL);
}

static void test_dbgprint_in_finding(void **state)
{
    (void)state;
    run_out o = run_seed(1, 2, dbgprint_setup, NULL);
    assert_rule(o, "K.driver-assert");
    assert_non_null(strstr(o.detail, "mapping 42 released ("));
    run_out_free(&o);
}

static void test_time_monotonic_per_thread(void **state)
{
    (void)state;
    for (int use_delay = 0; use_delay <= 1; use_delay++) {
        uint32_t migrations = 0;
        for (uint64_t seed = 1; seed <= NSEEDS; seed++) {
            mono_state s;
            memset(&s, 0, sizeof s);
            s.use_delay = use_delay;
            run_out o = run_seed(seed, 2, mono_setup, &s);
            assert_clean(o);
            if (s.backwards || s.short_waits)
                print_error("seed %llu, %s: %u backward steps, %u waits of 100 us that took less "
                            "(worst %llu x 100 ns short)\n", (unsigned long long)seed,
                            use_delay ? "KeDelayExecutionThread" : "KeStallExecutionProcessor", s.backwards,
                            s.short_waits, (unsigned long long)s.worst_short);
            assert_int_equal(s.backwards, 0);
            assert_int_equal(s.short_waits, 0);
            migrations += s.migrations;
            run_out_free(&o);
        }
        /* The scenario does move threads between CPUs. */
        assert_true(migrations > 0);
    }
}

/* ---- findings that let the run go on ------------------------------------------------------- */

typedef struct soft_state {
    KSPIN_LOCK lock;
    int went_on;      /* the thread ran past its continuing findings */
    int after_hard;   /* the thread ran past its stopping finding (must stay 0) */
} soft_state;

static void soft_thread(void *arg)
{
    soft_state *s = arg;
    KIRQL old;
    for (int i = 0; i < 3; i++) /* one site, three times: recorded once */
        ksl_report_continue("T.soft-a", "soft.c", 10, "first soft finding, pass %d", i);
    KeAcquireSpinLock(&s->lock, &old);
    ksl_report_continue("T.soft-b", "soft.c", 20, "second soft finding, at %s", "DISPATCH_LEVEL");
    KeReleaseSpinLock(&s->lock, old);
    ksl_report_continue("T.soft-a", "soft.c", 11, "the same rule at another site");
    s->went_on = 1;
    ksl_report("T.hard", "soft.c", 30, "a finding that ends the run");
    s->after_hard = 1;
    ksl_report_continue("T.soft-c", "soft.c", 40, "never recorded");
}

static void soft_setup(ksl_engine *e, void *arg)
{
    soft_state *s = arg;
    KeInitializeSpinLock(&s->lock);
    ksl_thread_create(e, "soft", soft_thread, s);
}

static void test_findings_that_let_the_run_go_on(void **state)
{
    (void)state;
    ksl_config cfg = cfg_with(1, 2);
    char err[256] = "";
    ksl_engine *e = ksl_engine_create(&cfg, err, sizeof err);
    assert_non_null(e);
    soft_state s;
    memset(&s, 0, sizeof s);
    soft_setup(e, &s);
    assert_int_equal(ksl_engine_run(e), 1);
    size_t n;
    const ksl_finding *f = ksl_engine_findings(e, &n);
    assert_int_equal(n, 4);
    assert_string_equal(f[0].rule, "T.soft-a");
    assert_int_equal(f[0].line, 10);
    assert_non_null(strstr(f[0].message, "pass 0"));
    assert_false(f[0].ended_run);
    assert_string_equal(f[1].rule, "T.soft-b");
    assert_int_equal(f[1].irql, DISPATCH_LEVEL);
    assert_false(f[1].ended_run);
    assert_string_equal(f[2].rule, "T.soft-a");
    assert_int_equal(f[2].line, 11);
    assert_string_equal(f[3].rule, "T.hard");
    assert_true(f[3].ended_run);
    assert_true(f[0].step <= f[1].step && f[1].step <= f[3].step);
    assert_ptr_equal(ksl_engine_finding(e), &f[0]);
    assert_int_equal(s.went_on, 1);
    assert_int_equal(s.after_hard, 0);
    ksl_engine_destroy(e);
}

/* Paged pool follows the running context: a thread that starts for the first time at PASSIVE_LEVEL
 * while another CPU holds a spin lock touches it freely (the protection is set at every switch,
 * not only where a context returns from a scheduling point). */
typedef struct paged_state {
    KSPIN_LOCK lock;
    volatile UCHAR *block;
    int touched;
} paged_state;

static void paged_holder(void *arg)
{
    paged_state *s = arg;
    for (int i = 0; i < 4; i++) {
        KIRQL old;
        KeAcquireSpinLock(&s->lock, &old);
        KeStallExecutionProcessor(5);
        KeReleaseSpinLock(&s->lock, old);
    }
}

static void paged_toucher(void *arg)
{
    paged_state *s = arg;
    s->block[0] = 7; /* at PASSIVE_LEVEL, first thing */
    s->touched = s->block[0];
    ExFreePoolWithTag((PVOID)s->block, 0x65676150u);
}

static void paged_setup(ksl_engine *e, void *arg)
{
    paged_state *s = arg;
    KeInitializeSpinLock(&s->lock);
    s->block = ExAllocatePoolWithTag(PagedPool, 32, 0x65676150u); /* 'Page' */
    ksl_thread_create(e, "holder", paged_holder, s);
    ksl_thread_create(e, "toucher", paged_toucher, s);
}

static void test_paged_pool_follows_the_running_context(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= 3 * NSEEDS; seed++) {
        paged_state s;
        memset(&s, 0, sizeof s);
        ksl_config cfg = cfg_with(seed, 2);
        run_out o = run_scenario(&cfg, paged_setup, &s);
        assert_clean(o);
        assert_int_equal(s.touched, 7);
        run_out_free(&o);
    }
}

/* More continuing findings than a run keeps: the last slot stays for the one that stops it. */
static void many_findings_thread(void *arg)
{
    (void)arg;
    for (int i = 0; i < 12; i++)
        ksl_report_continue("T.soft", "many.c", 100 + i, "soft finding %d", i);
    ksl_report("T.hard", "many.c", 200, "the cause of the stop");
}

static void test_stopping_finding_is_never_dropped(void **state)
{
    (void)state;
    ksl_config cfg = cfg_with(1, 1);
    char err[256] = "";
    ksl_engine *e = ksl_engine_create(&cfg, err, sizeof err);
    assert_non_null(e);
    ksl_thread_create(e, "many", many_findings_thread, NULL);
    assert_int_equal(ksl_engine_run(e), 1);
    size_t n;
    const ksl_finding *f = ksl_engine_findings(e, &n);
    assert_int_equal(n, KSL_MAX_RUN_FINDINGS);
    for (size_t i = 0; i + 1 < n; i++) {
        assert_string_equal(f[i].rule, "T.soft");
        assert_int_equal(f[i].line, 100 + (int)i);
        assert_false(f[i].ended_run);
    }
    assert_string_equal(f[n - 1].rule, "T.hard");
    assert_true(f[n - 1].ended_run);
    ksl_engine_destroy(e);
}

/* A run with only continuing findings runs to its end: its leak check still runs. */
static void soft_leak_thread(void *arg)
{
    (void)arg;
    ksl_report_continue("T.soft-a", "soft.c", 10, "a soft finding");
    (void)ExAllocatePoolWithTag(NonPagedPool, 16, 0x6b61654cu); /* 'Leak' */
}

static void test_continuing_findings_keep_the_leak_check(void **state)
{
    (void)state;
    ksl_config cfg = cfg_with(1, 1);
    char err[256] = "";
    ksl_engine *e = ksl_engine_create(&cfg, err, sizeof err);
    assert_non_null(e);
    ksl_thread_create(e, "leaker", soft_leak_thread, NULL);
    assert_int_equal(ksl_engine_run(e), 1);
    size_t n;
    const ksl_finding *f = ksl_engine_findings(e, &n);
    assert_int_equal(n, 2);
    assert_string_equal(f[0].rule, "T.soft-a");
    assert_string_equal(f[1].rule, "K.pool-leak");
    ksl_engine_destroy(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_irql_raise_lower_and_spinlock),
        cmocka_unit_test(test_spinlock_mutual_exclusion),
        cmocka_unit_test(test_unlocked_counter_loses_updates),
        cmocka_unit_test(test_dpc_insert_twice_runs_once),
        cmocka_unit_test(test_dpc_remove_queued),
        cmocka_unit_test(test_dpc_runs_on_queuing_cpu),
        cmocka_unit_test(test_isr_preempts_passive_thread),
        cmocka_unit_test(test_isr_preempts_dispatch_level),
        cmocka_unit_test(test_isr_masked_at_or_above_dirql),
        cmocka_unit_test(test_synchronize_execution),
        cmocka_unit_test(test_disconnect_waits_for_isr_in_flight),
        cmocka_unit_test(test_findings_that_let_the_run_go_on),
        cmocka_unit_test(test_continuing_findings_keep_the_leak_check),
        cmocka_unit_test(test_stopping_finding_is_never_dropped),
        cmocka_unit_test(test_paged_pool_follows_the_running_context),
        cmocka_unit_test(test_work_items),
        cmocka_unit_test(test_timer_relative_due),
        cmocka_unit_test(test_timer_periodic),
        cmocka_unit_test(test_timer_jitter),
        cmocka_unit_test(test_dpc_jitter),
        cmocka_unit_test(test_work_item_jitter),
        cmocka_unit_test(test_timer_cancel),
        cmocka_unit_test(test_wait_on_timer),
        cmocka_unit_test(test_stall_and_clocks),
        cmocka_unit_test(test_notification_event_wakes_all),
        cmocka_unit_test(test_synchronization_event_wakes_one),
        cmocka_unit_test(test_wait_timeout_and_poll),
        cmocka_unit_test(test_fast_mutex_exclusion),
        cmocka_unit_test(test_fast_mutex_try),
        cmocka_unit_test(test_kmutex_exclusion_and_recursion),
        cmocka_unit_test(test_kmutex_release_by_another_thread),
        cmocka_unit_test(test_kmutex_lock_order),
        cmocka_unit_test(test_kmutex_held_on_return),
        cmocka_unit_test(test_pool_alloc_and_fault_injection),
        cmocka_unit_test(test_irp_cancel_and_complete),
        cmocka_unit_test(test_threads_share_one_cpu),
        cmocka_unit_test(test_time_monotonic_per_thread),
        cmocka_unit_test(test_dbgprint_in_finding),
        cmocka_unit_test(test_many_lines_many_cpus),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
