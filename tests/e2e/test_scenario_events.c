/* SPDX-License-Identifier: MIT */
/*
 * The scenario events of the verdicts issue, end to end on the reference drivers: every fault
 * each built-in device can show (forced, so each is tested rather than left to the seed's pick),
 * two threads feeding one WavePci pin, a second PASSIVE client of a stream pin, seeded jitter,
 * and the state walk through STOP.  Each case checks what came out (the bytes, the frames, the counts), not only that no
 * finding was made.
 */
#include "harness.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kslab/device.h>
#include <kslab/wdk/wdm.h>
#include <stream_refs.h>

#include "e2e.h"
#include "faults.h"
#include "stream_job.h"

#define SEEDS 6

static void audio_clean(const audio_job *job, audio_result *res, const char *what)
{
    int rc = audio_job_run(job, res);
    if (rc == 1)
        fail_msg("%s: finding %s: %s\n%s", what, res->findings[0].rule, res->findings[0].message,
                 res->findings[0].detail);
    if (rc != 0)
        fail_msg("%s: rc %d: %s", what, rc, res->err);
    if (!res->data_ok)
        fail_msg("%s: %s: %s", what, res->check_rule ? res->check_rule : "?", res->data_msg);
}

/* Every AC'97 fault (and the injector's interrupt faults), twice per run, on playback and capture
 * at once: the reference copes (the output and the recording bit-exact, every IRP accounted for)
 * and the faults were shown. */
static void test_ac97_every_fault(void **state)
{
    (void)state;
    const char *names[KSL__FAULT_KINDS];
    uint32_t n = ksl__faults_names(ksl_device_model_find("ac97"), true, names, KSL__FAULT_KINDS);
    assert_int_equal(n, 8);
    ksl_pcm in = e2e_signal(48000, 2, 48 * 40, 3);
    for (uint32_t k = 0; k < n; k++) {
        for (uint64_t seed = 1; seed <= SEEDS; seed++) {
            audio_job job;
            e2e_job(&job, &in, false);
            job.cfg.seed = seed;
            job.cancel_every = 3;
            job.shape = (audio_shape){.duplex = true, .faults = 2, .fault = names[k]};
            audio_result res;
            char what[96];
            snprintf(what, sizeof what, "fault %s, seed %" PRIu64, names[k], seed);
            audio_clean(&job, &res, what);
            assert_int_equal(res.faults_injected, 2);
            assert_int_equal(res.port.irps_completed + res.port.irps_cancelled, res.port.irps_submitted);
            audio_result_free(&res);
        }
    }
    ksl_pcm_free(&in);
}

/* A fault the device cannot show is a usage error, not a run. */
static void test_unknown_fault_refused(void **state)
{
    (void)state;
    ksl_pcm in = e2e_signal(48000, 2, 480, 3);
    audio_job job;
    e2e_job(&job, &in, false);
    job.shape = (audio_shape){.faults = 1, .fault = "meteor-strike"};
    audio_result res;
    assert_int_equal(audio_job_run(&job, &res), 2);
    assert_non_null(strstr(res.err, "cannot show fault 'meteor-strike'"));
    audio_result_free(&res);
    ksl_pcm_free(&in);
}

/* Every fault of every stream device, on the references that drive it: the frames still arrive
 * whole and in order (a dropped one is a gap the numbers show), every SRB is accounted for. */
static void test_stream_every_fault(void **state)
{
    (void)state;
    uint32_t tried = 0;
    for (size_t d = 0; d < ksl_stream_nrefs; d++) {
        const ksl_stream_driver *drv = ksl_stream_refs[d];
        const ksl_device_model *m = drv->device ? ksl_device_model_find(drv->device) : NULL;
        if (!m)
            continue; /* the filter has no device */
        const char *names[KSL__FAULT_KINDS];
        uint32_t n = ksl__faults_names(m, strcmp(m->name, "fifocap") == 0, names, KSL__FAULT_KINDS);
        for (uint32_t k = 0; k < n; k++) {
            for (uint64_t seed = 1; seed <= SEEDS; seed++) {
                stream_job job;
                stream_job_default(&job, drv);
                job.cfg.seed = seed;
                job.frames = 16;
                job.cancel_every = 3;
                job.pause_every_ms = 0;
                job.faults = 2;
                job.fault = names[k];
                stream_result r;
                int rc = stream_job_run(&job, &r);
                if (rc != 0 || !r.data_ok)
                    fail_msg("%s, fault %s, seed %" PRIu64 ": rc %d %s %s %s", drv->name, names[k], seed, rc,
                             rc == 1 ? r.findings[0].rule : r.err, rc == 1 ? r.findings[0].message : "",
                             r.data_msg);
                if (r.faults_injected != 2)
                    fail_msg("%s, fault %s, seed %" PRIu64 ": %u faults shown, not 2", drv->name, names[k], seed,
                             r.faults_injected);
                assert_int_equal(r.frames_bad + r.frames_disorder, 0);
                assert_true(r.frames_delivered > 0);
                stream_result_free(&r);
                tried++;
            }
        }
    }
    /* fifocap: overrun, lost-interrupt, spurious-interrupt, interrupt-storm (two drivers);
     * polldev: stall; lowerbus: slow-completion */
    assert_int_equal(tried, (4 * 2 + 1 + 1) * SEEDS);
}

/* Two feeders race to one pin's queue: the data plays in the order the port queued the IRPs,
 * which is not always the order they were cut in; the bytes are checked in that order here. */
static void test_two_submitters(void **state)
{
    (void)state;
    ksl_pcm in = e2e_signal(48000, 2, 48 * 60, 5);
    size_t frame = 4;
    bool reordered = false;
    for (uint64_t seed = 1; seed <= 12; seed++) {
        audio_job job;
        e2e_job(&job, &in, false);
        job.cfg.seed = seed;
        job.irp_ms = 2;
        job.cancel_every = 3;
        job.shape = (audio_shape){.submitters = 2};
        audio_result res;
        char what[64];
        snprintf(what, sizeof what, "two submitters, seed %" PRIu64, seed);
        audio_clean(&job, &res, what);
        /* Rebuild the output from IN in queue order. */
        uint8_t *want = malloc(in.frames * frame);
        assert_non_null(want);
        size_t at = 0;
        for (uint64_t q = 1; q <= res.nirps; q++)
            for (uint32_t i = 0; i < res.nirps; i++)
                if (res.irps[i].seq == q) {
                    memcpy(want + at, (const uint8_t *)in.samples + res.irps[i].offset, res.irps[i].transferred);
                    at += res.irps[i].transferred;
                    reordered |= q != i + 1u;
                }
        assert_int_equal(res.out_len, at);
        assert_memory_equal(res.out, want, at);
        for (uint32_t i = 0; i < res.nirps; i++)
            assert_true(res.irps[i].submitted);
        free(want);
        audio_result_free(&res);
    }
    assert_true(reordered); /* the race was real at least once */
    ksl_pcm_free(&in);
}

/* The second PASSIVE client of a stream pin asks its state while the reader's SRBs run. */
static void test_second_stream_client(void **state)
{
    (void)state;
    for (size_t d = 0; d < ksl_stream_nrefs; d++) {
        stream_job job;
        stream_job_default(&job, ksl_stream_refs[d]);
        job.frames = 16;
        job.cancel_every = 3;
        job.pause_every_ms = 3;
        job.query_every_ms = 1;
        stream_result r;
        int rc = stream_job_run(&job, &r);
        if (rc != 0 || !r.data_ok)
            fail_msg("%s: rc %d %s %s", ksl_stream_refs[d]->name, rc, rc == 1 ? r.findings[0].message : r.err,
                     r.data_msg);
        assert_true(r.state_queries >= 5); /* about one per millisecond of a 16 ms stream */
        assert_true(r.frames_delivered > 0);
        stream_result_free(&r);
    }
}

/* The walk through STOP: the port cancels what is queued each time (no IRP is picked for
 * cancellation here, yet some complete cancelled), the client's submissions refused in STOP are
 * made again after it, and the output is still IN minus exactly the cancelled bytes. */
static void test_stop_walk(void **state)
{
    (void)state;
    ksl_pcm in = e2e_signal(48000, 2, 48 * 60, 4);
    uint64_t cancelled = 0;
    for (uint64_t seed = 1; seed <= SEEDS; seed++) {
        audio_job job;
        e2e_job(&job, &in, false);
        job.cfg.seed = seed;
        job.irp_ms = 5;
        job.pause_every_ms = 5;
        job.shape = (audio_shape){.state_walk = KSL__WALK_STOP};
        audio_result res;
        audio_clean(&job, &res, "stop walk");
        for (uint32_t i = 0; i < res.nirps; i++) {
            assert_true(res.irps[i].submitted);
            assert_false(res.irps[i].cancel);
            cancelled += res.irps[i].status == STATUS_CANCELLED;
        }
        assert_int_equal(res.port.irps_completed + res.port.irps_cancelled, res.nirps);
        audio_result_free(&res);
    }
    assert_true(cancelled > 0); /* STOP found IRPs queued */
    ksl_pcm_free(&in);
}

/* Jitter comes from the seed: the same seed gives the same run, another seed another one, and
 * the reference stays clean with its output intact. */
static void test_jitter_seeded(void **state)
{
    (void)state;
    ksl_pcm in = e2e_signal(48000, 2, 48 * 30, 9);
    uint64_t hash[3];
    for (int k = 0; k < 3; k++) {
        audio_job job;
        e2e_job(&job, &in, false);
        job.cfg.seed = k == 2 ? 8 : 7;
        job.irp_ms = 2;
        job.pause_every_ms = 5;
        job.cfg.jitter_ns = 20000;
        job.cfg.timer_jitter_ns = 1000000;
        audio_result res;
        audio_clean(&job, &res, "jitter");
        e2e_check(&job, &res, "jitter");
        hash[k] = res.trace_hash;
        audio_result_free(&res);
    }
    assert_true(hash[0] == hash[1]);
    assert_true(hash[0] != hash[2]);
    ksl_pcm_free(&in);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ac97_every_fault),     cmocka_unit_test(test_unknown_fault_refused),
        cmocka_unit_test(test_stream_every_fault),   cmocka_unit_test(test_two_submitters),
        cmocka_unit_test(test_second_stream_client), cmocka_unit_test(test_jitter_seeded),
        cmocka_unit_test(test_stop_walk),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
