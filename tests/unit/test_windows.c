/* SPDX-License-Identifier: MIT */
/*
 * Race-window spans in the kernel environment (src/ke/window.c): a span is seen from other
 * contexts only, closes when its context takes a spin lock (KSL_SPAN_UNTIL_LOCK), is explicitly
 * closed, or its routine returns; `obj` narrows the question; window hits are counted per run.
 * What the threads saw is recorded during the run and asserted after it.
 */
#include "harness.h"

#include <kslab/wdk/wdm.h>
#include <kslab/windows.h>

#include <string.h>

enum { K_GAP = 1, K_INSIDE = 2, K_DPC = 3 };

typedef struct w_state {
    KEVENT opened, looked, relocked, checked, dpc_done;
    KSPIN_LOCK lock;
    KDPC dpc;
    int obj_a, obj_b;
    bool self_sees, other_sees_gap, other_sees_inside, sees_obj_a, sees_obj_b, after_lock_gap, after_lock_inside,
        after_close_inside, in_dpc_other, after_dpc;
} w_state;

static void wait_ev(KEVENT *e)
{
    KeWaitForSingleObject(e, Executive, KernelMode, FALSE, NULL);
}

static void w_dpc(PKDPC dpc, PVOID ctx, PVOID a1, PVOID a2)
{
    (void)dpc, (void)a1, (void)a2;
    w_state *s = ctx;
    ksl_span_open(K_DPC, NULL, 0, 0); /* never closed: the DPC's return closes it */
    s->in_dpc_other = ksl_span_open_elsewhere(K_GAP, NULL);
    KeSetEvent(&s->dpc_done, IO_NO_INCREMENT, FALSE);
}

static void opener(void *arg)
{
    w_state *s = arg;
    ksl_span_open(K_GAP, &s->obj_a, 0, KSL_SPAN_UNTIL_LOCK);
    uint32_t inside = ksl_span_open(K_INSIDE, NULL, 0, 0);
    s->self_sees = ksl_span_open_elsewhere(K_GAP, NULL); /* its own: not "elsewhere" */
    KeSetEvent(&s->opened, IO_NO_INCREMENT, FALSE);
    wait_ev(&s->looked);
    KIRQL old;
    KeAcquireSpinLock(&s->lock, &old); /* closes the gap, not the other span */
    KeReleaseSpinLock(&s->lock, old);
    KeSetEvent(&s->relocked, IO_NO_INCREMENT, FALSE);
    wait_ev(&s->checked);
    ksl_span_close(inside);
    ksl_span_close(inside); /* a second close of a closed span changes nothing */
    KeSetEvent(&s->relocked, IO_NO_INCREMENT, FALSE);
}

static void looker(void *arg)
{
    w_state *s = arg;
    wait_ev(&s->opened);
    s->other_sees_gap = ksl_span_open_elsewhere(K_GAP, NULL);
    s->other_sees_inside = ksl_span_open_elsewhere(K_INSIDE, NULL);
    s->sees_obj_a = ksl_span_open_elsewhere(K_GAP, &s->obj_a);
    s->sees_obj_b = ksl_span_open_elsewhere(K_GAP, &s->obj_b);
    ksl_window_hit(KSL_WIN_WP_TWO_DRAINERS);
    ksl_window_hit(KSL_WIN_WP_TWO_DRAINERS);
    KeSetEvent(&s->looked, IO_NO_INCREMENT, FALSE);
    wait_ev(&s->relocked);
    s->after_lock_gap = ksl_span_open_elsewhere(K_GAP, NULL);
    s->after_lock_inside = ksl_span_open_elsewhere(K_INSIDE, NULL);
    KeSetEvent(&s->checked, IO_NO_INCREMENT, FALSE);
    wait_ev(&s->relocked);
    s->after_close_inside = ksl_span_open_elsewhere(K_INSIDE, NULL);
    KeInsertQueueDpc(&s->dpc, NULL, NULL);
    wait_ev(&s->dpc_done);
    LARGE_INTEGER d = {.QuadPart = -10000}; /* 1 ms: the DPC has returned */
    KeDelayExecutionThread(KernelMode, FALSE, &d);
    s->after_dpc = ksl_span_open_elsewhere(K_DPC, NULL);
}

static void w_setup(ksl_engine *e, void *arg)
{
    w_state *s = arg;
    KeInitializeEvent(&s->opened, NotificationEvent, FALSE);
    KeInitializeEvent(&s->looked, NotificationEvent, FALSE);
    KeInitializeEvent(&s->relocked, SynchronizationEvent, FALSE);
    KeInitializeEvent(&s->checked, NotificationEvent, FALSE);
    KeInitializeEvent(&s->dpc_done, NotificationEvent, FALSE);
    KeInitializeSpinLock(&s->lock);
    KeInitializeDpc(&s->dpc, w_dpc, s);
    ksl_thread_create(e, "opener", opener, s);
    ksl_thread_create(e, "looker", looker, s);
}

static void test_spans(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= 20; seed++) {
        w_state s;
        memset(&s, 0, sizeof s);
        ksl_config cfg = cfg_with(seed, 2);
        run_out o = run_scenario(&cfg, w_setup, &s);
        assert_clean(o);
        assert_false(s.self_sees);
        assert_true(s.other_sees_gap);
        assert_true(s.other_sees_inside);
        assert_true(s.sees_obj_a);
        assert_false(s.sees_obj_b);
        assert_false(s.after_lock_gap);
        assert_true(s.after_lock_inside);
        assert_false(s.after_close_inside);
        assert_false(s.in_dpc_other); /* the opener's gap closed at its lock */
        assert_false(s.after_dpc);
        assert_int_equal(o.stats.windows[KSL_WIN_WP_TWO_DRAINERS], 2);
        assert_int_equal(o.stats.windows[KSL_WIN_WP_REVOKE_IN_RELEASE], 0);
        run_out_free(&o);
    }
    /* The threaded engine keeps no spans and counts nothing. */
    w_state s;
    memset(&s, 0, sizeof s);
    ksl_config cfg = cfg_with(1, 2);
    cfg.engine = KSL_ENGINE_THREADED;
    run_out o = run_scenario(&cfg, w_setup, &s);
    assert_clean(o);
    assert_false(s.other_sees_gap);
    assert_int_equal(o.stats.windows[KSL_WIN_WP_TWO_DRAINERS], 0);
    run_out_free(&o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spans),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
