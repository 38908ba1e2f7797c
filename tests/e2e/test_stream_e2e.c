/* SPDX-License-Identifier: MIT */
/*
 * Stream class end to end on the deterministic engine: every reference minidriver of
 * miniports/stream on its device (src/campaign/stream_job.c), read SRBs with cancellations and
 * pauses, over many schedules on 2 and 4 CPUs.  Each case checks the frames bit for bit (the
 * job's frame checker), the SRB accounting, zero findings, the per-entry-point time budgets the
 * class measured (S1: 20 us at DIRQL, S6: 1 ms at DISPATCH_LEVEL), and determinism.
 */
#include "harness.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <kslab/wdk/wdm.h>
#include <stream_refs.h>

#include "stream_job.h"

#define SEEDS 200
#define SWEEP_FRAMES 40
#define DIRQL_BUDGET_NS 20000u
#define DISPATCH_BUDGET_NS 1000000u

static void job_for(stream_job *job, const ksl_stream_driver *d, uint64_t seed, uint32_t cpus)
{
    stream_job_default(job, d);
    job->cfg.seed = seed;
    job->cfg.cpus = cpus;
    job->frames = SWEEP_FRAMES;
    job->cancel_every = 4;
    job->pause_every_ms = 7;
}

/* The budgets, from the class's own accounting. */
static void check_budgets(const stream_result *r, const char *what)
{
    for (int i = 0; i < KSL_STRM_E_COUNT; i++) {
        const ksl_stream_entry_stats *s = &r->cls.entry[i];
        if (!s->calls)
            continue;
        if (s->max_irql > DISPATCH_LEVEL && s->max_ns > DIRQL_BUDGET_NS)
            fail_msg("%s: %s took %" PRIu64 " ns at DIRQL (budget %u)", what, ksl_stream_entry_name(i), s->max_ns,
                     DIRQL_BUDGET_NS);
        if (s->max_irql == DISPATCH_LEVEL && s->max_ns > DISPATCH_BUDGET_NS)
            fail_msg("%s: %s took %" PRIu64 " ns at DISPATCH_LEVEL (budget %u)", what, ksl_stream_entry_name(i),
                     s->max_ns, DISPATCH_BUDGET_NS);
    }
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
    /* from first principles, not only the job's verdict */
    assert_int_equal(r->frames_bad, 0);
    assert_int_equal(r->frames_disorder, 0);
    assert_int_equal(r->srbs_timed_out, 0);
    assert_int_equal(r->srbs_failed, 0);
    assert_int_equal(r->srbs_submitted, job->frames);
    assert_int_equal(r->srbs_ok + r->srbs_cancelled, r->srbs_submitted);
    assert_true(r->srbs_cancelled <= r->srbs_picked);
    assert_int_equal(r->frames_delivered, r->srbs_ok);
    assert_true(r->srbs_ok >= job->frames - r->srbs_picked);
    assert_int_equal(r->cls.srbs_submitted, r->cls.srbs_completed + r->cls.srbs_cancelled + r->cls.srbs_aborted);
    if (strcmp(job->driver->device, "none") == 0)
        assert_int_equal(r->frames_missing, 0); /* the filter makes every frame */
    else
        assert_true(r->dev_frames >= r->frames_delivered + r->frames_missing);
    check_budgets(r, what);
}

static void sweep(uint32_t cpus)
{
    for (size_t d = 0; d < ksl_stream_nrefs; d++) {
        const ksl_stream_driver *drv = ksl_stream_refs[d];
        uint64_t cancelled = 0;
        for (uint64_t seed = 1; seed <= SEEDS; seed++) {
            char what[96];
            snprintf(what, sizeof what, "%s, %u CPUs, seed %" PRIu64, drv->name, cpus, seed);
            stream_job job;
            job_for(&job, drv, seed, cpus);
            stream_result r;
            run_clean(&job, &r, what);
            cancelled += r.srbs_cancelled;
            stream_result_free(&r);
        }
        /* the cancellations really happened (the filter completes picked SRBs instead: see filter.c) */
        if (strcmp(drv->device, "none") != 0 && cancelled == 0)
            fail_msg("%s, %u CPUs: no SRB was ever cancelled", drv->name, cpus);
    }
}

static void test_refs_2cpus(void **state)
{
    (void)state;
    sweep(2);
}

static void test_refs_4cpus(void **state)
{
    (void)state;
    sweep(4);
}

static void test_refs_pct(void **state)
{
    (void)state;
    for (size_t d = 0; d < ksl_stream_nrefs; d++) {
        for (uint64_t seed = 1; seed <= 30; seed++) {
            char what[96];
            snprintf(what, sizeof what, "%s, pct:3, seed %" PRIu64, ksl_stream_refs[d]->name, seed);
            stream_job job;
            job_for(&job, ksl_stream_refs[d], seed, 3);
            job.cfg.strategy = KSL_STRATEGY_PCT;
            job.cfg.pct_depth = 1 + (uint32_t)(seed % 3);
            stream_result r;
            run_clean(&job, &r, what);
            stream_result_free(&r);
        }
    }
}

/* A long run of each with the defaults (200 SRBs, no cancellation): few or no frames lost. */
static void test_refs_long_run(void **state)
{
    (void)state;
    for (size_t d = 0; d < ksl_stream_nrefs; d++) {
        stream_job job;
        stream_job_default(&job, ksl_stream_refs[d]);
        job.cfg.seed = 42;
        stream_result r;
        run_clean(&job, &r, ksl_stream_refs[d]->name);
        assert_int_equal(r.srbs_ok, 200);
        assert_int_equal(r.srbs_cancelled, 0);
        stream_result_free(&r);
    }
}

/* Where each reference spends its time: the work the seed's examples put at each level. */
static void test_where_the_time_goes(void **state)
{
    (void)state;
    stream_job job;
    stream_result r;
    /* isr-regs: all at DIRQL, the ISR moves a 64-byte frame (16 reads) */
    stream_job_default(&job, &ksr_isr_regs_driver);
    run_clean(&job, &r, "isr-regs");
    assert_true(r.cls.entry[KSL_STRM_E_ISR].calls > 0);
    assert_true(r.cls.entry[KSL_STRM_E_ISR].max_irql > DISPATCH_LEVEL);
    assert_true(r.cls.entry[KSL_STRM_E_ISR].max_ns >= 16 * 300);
    assert_int_equal(r.cls.entry[KSL_STRM_E_DISPATCH].calls, 0);
    assert_int_equal(r.frame_bytes, 64);
    stream_result_free(&r);
    /* isr-dpc-pio: the 4 KiB PIO copy (~307 us) at DISPATCH_LEVEL, the ISR tiny */
    stream_job_default(&job, &ksr_isr_dpc_pio_driver);
    run_clean(&job, &r, "isr-dpc-pio");
    assert_int_equal(r.frame_bytes, 4096);
    assert_true(r.cls.entry[KSL_STRM_E_DISPATCH].calls > 0);
    assert_int_equal(r.cls.entry[KSL_STRM_E_DISPATCH].max_irql, DISPATCH_LEVEL);
    assert_true(r.cls.entry[KSL_STRM_E_DISPATCH].max_ns >= 1024 * 300);
    assert_true(r.cls.entry[KSL_STRM_E_HIGH].calls > 0);
    assert_true(r.cls.entry[KSL_STRM_E_HIGH].max_irql > DISPATCH_LEVEL);
    assert_true(r.cls.entry[KSL_STRM_E_ISR].max_ns <= 2000);
    stream_result_free(&r);
    /* no-isr-dispatch: entry points and the poll at DISPATCH_LEVEL; > 1 ms in Low at PASSIVE */
    stream_job_default(&job, &ksr_no_isr_dispatch_driver);
    run_clean(&job, &r, "no-isr-dispatch");
    assert_int_equal(r.cls.entry[KSL_STRM_E_DATA].max_irql, DISPATCH_LEVEL);
    assert_int_equal(r.cls.entry[KSL_STRM_E_TIMER].max_irql, DISPATCH_LEVEL);
    assert_true(r.cls.entry[KSL_STRM_E_TIMER].max_ns >= 256 * 300);
    assert_true(r.cls.entry[KSL_STRM_E_LOW].calls >= 2); /* initialization + housekeeping */
    assert_int_equal(r.cls.entry[KSL_STRM_E_LOW].max_irql, PASSIVE_LEVEL);
    assert_true(r.cls.entry[KSL_STRM_E_LOW].max_ns > 1000000);
    assert_int_equal(r.cls.entry[KSL_STRM_E_ISR].calls, 0);
    stream_result_free(&r);
    /* filter: everything at PASSIVE_LEVEL but cancel */
    stream_job_default(&job, &ksr_filter_driver);
    run_clean(&job, &r, "filter");
    assert_int_equal(r.cls.entry[KSL_STRM_E_DATA].max_irql, PASSIVE_LEVEL);
    assert_int_equal(r.cls.entry[KSL_STRM_E_CONTROL].max_irql, PASSIVE_LEVEL);
    assert_int_equal(r.frame_bytes, KSR_FILTER_FRAME_BYTES);
    stream_result_free(&r);
}

static void test_determinism(void **state)
{
    (void)state;
    for (size_t d = 0; d < ksl_stream_nrefs; d++) {
        uint64_t hashes[3];
        for (int k = 0; k < 3; k++) {
            stream_job job;
            job_for(&job, ksl_stream_refs[d], k < 2 ? 77 : 78, 4);
            stream_result r;
            run_clean(&job, &r, ksl_stream_refs[d]->name);
            hashes[k] = r.trace_hash;
            stream_result_free(&r);
        }
        assert_int_equal(hashes[0], hashes[1]);
        assert_int_not_equal(hashes[0], hashes[2]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_where_the_time_goes),
        cmocka_unit_test(test_refs_long_run),
        cmocka_unit_test(test_refs_2cpus),
        cmocka_unit_test(test_refs_4cpus),
        cmocka_unit_test(test_refs_pct),
        cmocka_unit_test(test_determinism),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
