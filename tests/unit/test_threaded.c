/* SPDX-License-Identifier: MIT */
/*
 * The threaded executor: virtual CPUs on host pthreads with real atomics.  The same scenarios
 * as the deterministic tests must keep their results (mutual exclusion, every interrupt and DPC
 * handled) and the same checks must fire.  The TSan build runs these.
 */
#include "harness.h"

#include <string.h>

#include <kslab/wdk/wdm.h>

#include "demo.h"

static ksl_config threaded(uint32_t cpus)
{
    ksl_config c = cfg_with(1, cpus);
    c.engine = KSL_ENGINE_THREADED;
    return c;
}

static void test_counter_exact(void **state)
{
    (void)state;
    for (int i = 0; i < 40; i++) {
        demo_result r;
        ksl_config c = threaded(i % 2 ? 2 : 4);
        run_out o = run_demo("counter", &c, &r);
        assert_clean(o);
        assert_int_equal(r.counter, r.expected);
        assert_int_equal(r.ticks, 8);
        /* Ticks may share an interrupt and interrupts a DPC; none is lost. */
        assert_in_range(o.stats.interrupts, 1, 8);
        assert_in_range(o.stats.dpcs, 1, o.stats.interrupts);
        run_out_free(&o);
    }
}

static void test_lock_order_fires(void **state)
{
    (void)state;
    ksl_config c = threaded(2);
    run_out o = run_demo("lock-order", &c, NULL);
    assert_rule(o, "K.lock-order-cycle");
    run_out_free(&o);
}

typedef struct waits {
    KEVENT ev;
    KTIMER timer;
    KDPC dpc;
    PIO_WORKITEM item;
    volatile LONG work_ran, dpc_ran;
    volatile LONG work_irql;
} waits;

static void work_fn(PDEVICE_OBJECT dev, PVOID ctx)
{
    (void)dev;
    waits *w = ctx;
    w->work_irql = KeGetCurrentIrql();
    InterlockedIncrement(&w->work_ran);
    KeSetEvent(&w->ev, IO_NO_INCREMENT, FALSE);
}

static void timer_dpc(PKDPC dpc, PVOID ctx, PVOID a1, PVOID a2)
{
    (void)dpc;
    (void)a1;
    (void)a2;
    waits *w = ctx;
    InterlockedIncrement(&w->dpc_ran);
    IoQueueWorkItem(w->item, work_fn, DelayedWorkQueue, w);
}

static void waiter(void *arg)
{
    waits *w = arg;
    w->item = IoAllocateWorkItem(NULL);
    LARGE_INTEGER due;
    due.QuadPart = -10 * 1000; /* 1 ms */
    KeSetTimer(&w->timer, due, &w->dpc);
    KeWaitForSingleObject(&w->ev, Executive, KernelMode, FALSE, NULL);
    IoFreeWorkItem(w->item);
}

static void waits_setup(ksl_engine *e, void *arg)
{
    waits *w = arg;
    KeInitializeEvent(&w->ev, NotificationEvent, FALSE);
    KeInitializeTimer(&w->timer);
    KeInitializeDpc(&w->dpc, timer_dpc, w);
    ksl_thread_create(e, "waiter", waiter, w);
}

static void test_timer_dpc_work_item_chain(void **state)
{
    (void)state;
    for (int i = 0; i < 20; i++) {
        waits w;
        memset(&w, 0, sizeof w);
        ksl_config c = threaded(2);
        run_out o = run_scenario(&c, waits_setup, &w);
        assert_clean(o);
        assert_int_equal(w.dpc_ran, 1);
        assert_int_equal(w.work_ran, 1);
        assert_int_equal(w.work_irql, PASSIVE_LEVEL);
        assert_true(o.stats.time_ns >= 1000000);
        run_out_free(&o);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counter_exact),
        cmocka_unit_test(test_lock_order_fires),
        cmocka_unit_test(test_timer_dpc_work_item_chain),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
