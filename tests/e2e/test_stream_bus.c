/* SPDX-License-Identifier: MIT */
/*
 * The bus-type reference minidriver (miniports/stream/bus.c, S7c) end to end: synchronization
 * off, requests to the lower bus (<kslab/hw/lowerbus.h>) at PASSIVE_LEVEL, their completions at
 * DISPATCH_LEVEL.
 *
 *  - Through the stream job (src/campaign/stream_job.c): 200 schedules on 2 and on 4 CPUs with
 *    cancellations and pauses often enough that both hit (SRBs cancelled on the bus and while
 *    waiting in a pause): every frame bit-exact and in order, zero findings (the driver ASSERTs
 *    PASSIVE_LEVEL where it submits and DISPATCH_LEVEL in its completion routine: a failed
 *    ASSERT is the finding K.driver-assert), the IRQL of every class entry point from the class's
 *    own accounting, determinism.
 *  - Directly on the class's client API, with a slow bus so that requests are surely on it: a
 *    close and a STOP with SRBs outstanding (queued in a pause and on the bus) complete every SRB
 *    once, leave nothing on the bus, and report nothing.
 */
#include "harness.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <kslab/hw/lowerbus.h>
#include <kslab/stream.h>
#include <kslab/wdk/wdm.h>
#include <stream_refs.h>

#include "stream_job.h"

#define SEEDS 200

static void job_for(stream_job *job, uint64_t seed, uint32_t cpus)
{
    stream_job_default(job, &ksr_bus_driver);
    job->cfg.seed = seed;
    job->cfg.cpus = cpus;
    job->frames = 120;
    job->in_flight = 6;
    job->cancel_every = 2;
    job->pause_every_ms = 1; /* the bus moves a frame in ~150 us: pause often */
}

static void run_clean(const stream_job *job, stream_result *r, const char *what)
{
    int rc = stream_job_run(job, r);
    if (rc == 1)
        fail_msg("%s: finding %s: %s at %s:%d", what, r->findings[0].rule, r->findings[0].message, r->findings[0].file,
                 r->findings[0].line);
    if (rc != 0)
        fail_msg("%s: rc %d: %s", what, rc, r->err);
    if (!r->data_ok)
        fail_msg("%s: data check %s: %s", what, r->check_rule ? r->check_rule : "?", r->data_msg);
    assert_int_equal(r->frames_bad, 0);
    assert_int_equal(r->frames_disorder, 0);
    assert_int_equal(r->srbs_timed_out, 0);
    assert_int_equal(r->srbs_failed, 0);
    assert_int_equal(r->srbs_submitted, job->frames);
    assert_int_equal(r->srbs_ok + r->srbs_cancelled, r->srbs_submitted);
    assert_true(r->srbs_cancelled <= r->srbs_picked);
    assert_int_equal(r->frames_delivered, r->srbs_ok);
    assert_int_equal(r->frame_bytes, KSR_BUS_FRAME_BYTES);
    /* every request the bus numbered is a delivered frame or a cancelled one (a gap) */
    assert_int_equal(r->dev_frames, r->frames_delivered + r->dev_dropped);
    assert_true(r->frames_missing <= r->dev_dropped); /* cancelled last ones are no gap */
    /* cancelled SRBs: on the bus (a lower request cancelled) or before they got there */
    assert_true(r->srbs_cancelled >= r->dev_dropped);
    assert_int_equal(r->cls.srbs_submitted, r->cls.srbs_completed + r->cls.srbs_cancelled + r->cls.srbs_aborted);
    assert_int_equal(r->cls.srbs_aborted, 0);
    /* synchronization off: requests at PASSIVE_LEVEL, cancel at DISPATCH_LEVEL, nothing else */
    const ksl_stream_entry_stats *e = r->cls.entry;
    assert_true(e[KSL_STRM_E_DATA].calls >= job->frames);
    assert_int_equal(e[KSL_STRM_E_DATA].max_irql, PASSIVE_LEVEL);
    assert_int_equal(e[KSL_STRM_E_CONTROL].max_irql, PASSIVE_LEVEL);
    assert_int_equal(e[KSL_STRM_E_DEVICE].max_irql, PASSIVE_LEVEL);
    if (e[KSL_STRM_E_CANCEL].calls)
        assert_int_equal(e[KSL_STRM_E_CANCEL].max_irql, DISPATCH_LEVEL);
    for (int i = KSL_STRM_E_TIMEOUT; i < KSL_STRM_E_COUNT; i++)
        if (i != KSL_STRM_E_CANCEL)
            assert_int_equal(e[i].calls, 0);
}

static void sweep(uint32_t cpus)
{
    uint64_t on_bus = 0, before_bus = 0, cancel_calls = 0, paused_frames = 0;
    for (uint64_t seed = 1; seed <= SEEDS; seed++) {
        char what[96];
        snprintf(what, sizeof what, "bus, %u CPUs, seed %" PRIu64, cpus, seed);
        stream_job job;
        job_for(&job, seed, cpus);
        stream_result r;
        run_clean(&job, &r, what);
        on_bus += r.dev_dropped;
        before_bus += r.srbs_cancelled - r.dev_dropped;
        cancel_calls += r.cls.cancel_calls;
        paused_frames += r.cls.entry[KSL_STRM_E_CONTROL].calls > 4; /* pauses beyond the start and stop */
        stream_result_free(&r);
    }
    if (!on_bus || !before_bus || !cancel_calls || !paused_frames)
        fail_msg("bus, %u CPUs: cancels on the bus %" PRIu64 ", before it %" PRIu64 ", HwCancelPacket %" PRIu64
                 ", runs with pauses %" PRIu64 ": every path must be exercised",
                 cpus, on_bus, before_bus, cancel_calls, paused_frames);
}

static void test_bus_2cpus(void **state)
{
    (void)state;
    sweep(2);
}

static void test_bus_4cpus(void **state)
{
    (void)state;
    sweep(4);
}

static void test_bus_defaults(void **state)
{
    (void)state;
    stream_job job;
    stream_job_default(&job, &ksr_bus_driver);
    stream_result r;
    run_clean(&job, &r, "bus, defaults");
    assert_int_equal(r.srbs_ok, 200);
    assert_int_equal(r.frames_missing, 0);
    assert_int_equal(r.dev_frames, 200);
    stream_result_free(&r);
}

static void test_bus_determinism(void **state)
{
    (void)state;
    uint64_t h[3];
    for (int k = 0; k < 3; k++) {
        stream_job job;
        job_for(&job, k < 2 ? 77 : 78, 4);
        stream_result r;
        run_clean(&job, &r, "bus, determinism");
        h[k] = r.trace_hash;
        stream_result_free(&r);
    }
    assert_int_equal(h[0], h[1]);
    assert_int_not_equal(h[0], h[2]);
}

/* ---- close and STOP with SRBs outstanding, on the client API --------------------------------- */

#define NSRB 8

static struct {
    bool stop_first;          /* STOP with SRBs outstanding, then close; else close at once */
    uint64_t seed;
    ksl_lowerbus *bus;
    ksl_stream_adapter *a;
    NTSTATUS st[NSRB];
    bool done[NSRB];
    uint32_t ok, cancelled, bad, other;
    NTSTATUS st_close, st_stop;
    ksl_lowerbus_stats bs;
    uint32_t bus_pending;
} g;

static void client(void *arg)
{
    (void)arg;
    ksl_stream_pin *pin = NULL;
    PHW_STREAM_REQUEST_BLOCK srb[NSRB];
    if (!NT_SUCCESS(ksl_stream_start(g.a)) || !NT_SUCCESS(ksl_stream_open(g.a, 0, NULL, &pin)))
        return;
    ksl_stream_set_state(pin, KSSTATE_ACQUIRE);
    ksl_stream_set_state(pin, KSSTATE_PAUSE);
    ksl_stream_set_state(pin, KSSTATE_RUN);
    for (int i = 0; i < NSRB; i++) {
        srb[i] = ksl_stream_srb_alloc(pin, SRB_READ_DATA, 4096);
        if (i == NSRB / 2)
            ksl_stream_set_state(pin, KSSTATE_PAUSE); /* the first half on the bus, the rest waits */
        ksl_stream_srb_submit(srb[i]);
    }
    if (g.stop_first)
        ksl_stream_set_state(pin, KSSTATE_STOP);
    g.st_close = ksl_stream_close(pin);
    uint32_t prev = 0;
    bool first = true;
    for (int i = 0; i < NSRB; i++) {
        g.done[i] = ksl_stream_srb_done(srb[i]);
        if (!g.done[i])
            continue;
        g.st[i] = srb[i]->Status;
        if (g.st[i] == STATUS_SUCCESS) {
            uint32_t n = 0;
            uint32_t used = srb[i]->CommandData.DataBufferArray->DataUsed;
            if (used != KSR_BUS_FRAME_BYTES ||
                ksl_lowerbus_check_frame(ksl_stream_srb_data(srb[i]), used, &n) != KSL_FRAME_OK ||
                (!first && n <= prev)) {
                g.bad++;
            } else { /* a damaged frame's number says nothing about the order */
                prev = n;
                first = false;
            }
            g.ok++;
        } else if (g.st[i] == STATUS_CANCELLED) {
            g.cancelled++;
        } else {
            g.other++;
        }
        ksl_stream_srb_free(srb[i]);
    }
    g.st_stop = ksl_stream_stop(g.a);
}

static void setup(ksl_engine *e, void *arg)
{
    (void)arg;
    ksl_lowerbus_config c;
    ksl_lowerbus_config_default(&c);
    c.seed = g.seed;
    c.latency_ns = 2000000; /* 2 ms: the close comes while they are on the bus */
    char err[200];
    g.bus = ksl_lowerbus_create(e, &c, err, sizeof err);
    if (!g.bus) {
        fprintf(stderr, "lowerbus: %s\n", err);
        return;
    }
    ksl_stream_resources res = {.lower_device = g.bus};
    g.a = ksl_stream_create(e, ksr_bus_driver.DriverEntry, &res, NULL, err, sizeof err);
    if (!g.a) {
        fprintf(stderr, "create: %s\n", err);
        return;
    }
    ksl_thread_create(e, "client", client, NULL);
}

static void teardown(ksl_engine *e, void *arg)
{
    (void)e, (void)arg;
    if (g.bus) {
        ksl_lowerbus_get_stats(g.bus, &g.bs);
        g.bus_pending = ksl_lowerbus_pending(g.bus);
    }
    ksl_stream_destroy(g.a);
    ksl_lowerbus_destroy(g.bus);
    g.a = NULL;
    g.bus = NULL;
}

static void close_with_pending(bool stop_first)
{
    uint64_t bus_cancels = 0, waiting_cancels = 0;
    for (uint32_t cpus = 2; cpus <= 4; cpus += 2) {
        for (uint64_t seed = 1; seed <= 100; seed++) {
            ksl_config cfg = cfg_with(seed, cpus);
            memset(&g, 0, sizeof g);
            g.stop_first = stop_first;
            g.seed = seed;
            run_out o = run_scenario_td(&cfg, setup, teardown, NULL);
            assert_clean(o);
            run_out_free(&o);
            assert_int_equal(g.st_close, STATUS_SUCCESS);
            assert_int_equal(g.st_stop, STATUS_SUCCESS);
            for (int i = 0; i < NSRB; i++)
                assert_true(g.done[i]);
            assert_int_equal(g.ok + g.cancelled, NSRB);
            assert_int_equal(g.other, 0);
            assert_int_equal(g.bad, 0);
            assert_int_equal(g.bus_pending, 0);
            assert_int_equal(g.bs.submitted, g.bs.completed);
            assert_int_equal(g.bs.completed - g.bs.cancelled, g.ok);
            bus_cancels += g.bs.cancelled;
            waiting_cancels += g.cancelled - g.bs.cancelled;
        }
    }
    if (!bus_cancels || !waiting_cancels)
        fail_msg("%s: cancels on the bus %" PRIu64 ", of waiting SRBs %" PRIu64 ": both must happen",
                 stop_first ? "STOP" : "close", bus_cancels, waiting_cancels);
}

static void test_bus_close_with_pending(void **state)
{
    (void)state;
    close_with_pending(false);
}

static void test_bus_stop_with_pending(void **state)
{
    (void)state;
    close_with_pending(true);
}

/* ---- the plumbing: ksl_stream_resources.lower_device -> ConfigInfo->PhysicalDeviceObject ------- */

static struct {
    bool with_lower;
    ksl_lowerbus *bus;
    ksl_stream_adapter *a;
    NTSTATUS st_start;
    void *seen;                 /* the lower device the minidriver took (BUS_EXT's first field) */
} p;

static void plumb_client(void *arg)
{
    (void)arg;
    p.st_start = ksl_stream_start(p.a);
    PVOID dx = ksl_stream_device_extension(p.a);
    if (NT_SUCCESS(p.st_start) && dx) {
        memcpy(&p.seen, dx, sizeof p.seen);
        ksl_stream_stop(p.a);
    }
}

static void plumb_setup(ksl_engine *e, void *arg)
{
    (void)arg;
    char err[200];
    p.bus = ksl_lowerbus_create(e, NULL, err, sizeof err);
    ksl_stream_resources res = {.lower_device = p.with_lower ? p.bus : NULL};
    p.a = ksl_stream_create(e, ksr_bus_driver.DriverEntry, &res, NULL, err, sizeof err);
    if (p.bus && p.a)
        ksl_thread_create(e, "client", plumb_client, NULL);
}

static void plumb_teardown(ksl_engine *e, void *arg)
{
    (void)e, (void)arg;
    ksl_stream_destroy(p.a);
    ksl_lowerbus_destroy(p.bus);
}

static void test_bus_lower_device(void **state)
{
    (void)state;
    ksl_config cfg = cfg_with(1, 2);
    memset(&p, 0, sizeof p);
    p.with_lower = true;
    run_out o = run_scenario_td(&cfg, plumb_setup, plumb_teardown, NULL);
    assert_clean(o);
    run_out_free(&o);
    assert_int_equal(p.st_start, STATUS_SUCCESS);
    assert_ptr_equal(p.seen, p.bus); /* PhysicalDeviceObject->DeviceExtension */
    /* without a lower device PhysicalDeviceObject is the class's own: the driver refuses to start */
    memset(&p, 0, sizeof p);
    o = run_scenario_td(&cfg, plumb_setup, plumb_teardown, NULL);
    assert_clean(o);
    run_out_free(&o);
    assert_int_equal(p.st_start, STATUS_IO_DEVICE_ERROR);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bus_lower_device),
        cmocka_unit_test(test_bus_defaults),
        cmocka_unit_test(test_bus_2cpus),
        cmocka_unit_test(test_bus_4cpus),
        cmocka_unit_test(test_bus_determinism),
        cmocka_unit_test(test_bus_close_with_pending),
        cmocka_unit_test(test_bus_stop_with_pending),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
