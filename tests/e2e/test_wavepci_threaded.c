/* SPDX-License-Identifier: MIT */
/*
 * WavePci end to end on the threaded engine (virtual CPUs on host pthreads, real atomics): the
 * port, the reference AC'97 miniport and the device under real concurrency, with cancellations
 * and pauses.  Not reproducible, so every run is checked on its own: clean and bit-exact against
 * IN (e2e_check).  The TSan build runs this (label `threaded`).
 */
#include "harness.h"

#include <inttypes.h>
#include <stdio.h>

#include <kslab/wdk/wdm.h>

#include "e2e.h"

static void threaded_run(bool capture, uint32_t cpus, uint32_t cancel_every, uint32_t pause_every, uint32_t offset,
                         uint32_t stop_after, const ksl_pcm *in)
{
    char what[160];
    snprintf(what, sizeof what, "threaded %s on %u CPUs, cancel every %u, pause every %u, offset %u, stop after %u",
             capture ? "capture" : "play", cpus, cancel_every, pause_every, offset, stop_after);
    audio_job job;
    e2e_job(&job, in, capture);
    job.cfg.engine = KSL_ENGINE_THREADED;
    job.cfg.cpus = cpus;
    job.cancel_every = cancel_every;
    job.pause_every_ms = pause_every;
    job.buffer_offset = offset;
    job.stop_after_irps = stop_after;
    audio_result r;
    e2e_run(&job, &r, what);
    if (cancel_every && !stop_after && (r.port.irps_cancelled == 0 || r.port.bytes_cancelled == 0))
        fail_msg("%s: nothing was cancelled", what);
    if (!cancel_every && !stop_after) {
        assert_int_equal(r.out_len, ksl_pcm_bytes(in));
        assert_memory_equal(r.out, in->samples, r.out_len);
    }
    if (capture) /* the tape advances only when captured */
        assert_memory_equal(r.out, in->samples, r.out_len);
    audio_result_free(&r);
}

static void test_threaded_play_cancel(void **state)
{
    (void)state;
    ksl_pcm in = e2e_signal(48000, 2, 48000 / 2 + 1, 21); /* 0.5 s */
    for (uint32_t cpus = 2; cpus <= 4; cpus += 2) {
        threaded_run(false, cpus, 2, 0, 0, 0, &in);
        threaded_run(false, cpus, 3, 13, 12, 0, &in);
    }
    ksl_pcm_free(&in);
}

static void test_threaded_capture_cancel(void **state)
{
    (void)state;
    ksl_pcm in = e2e_signal(44100, 2, 44100 / 2 + 1, 22);
    for (uint32_t cpus = 2; cpus <= 4; cpus += 2) {
        threaded_run(true, cpus, 2, 0, 12, 0, &in);
        threaded_run(true, cpus, 3, 13, 0, 0, &in);
    }
    ksl_pcm_free(&in);
}

static void test_threaded_plain_and_stop(void **state)
{
    (void)state;
    ksl_pcm in = e2e_signal(16000, 1, 16000 / 2 + 1, 23);
    threaded_run(false, 2, 0, 0, 0, 0, &in);
    threaded_run(true, 3, 0, 0, 12, 0, &in);
    threaded_run(false, 4, 0, 0, 0, 6, &in);
    threaded_run(true, 2, 2, 0, 0, 6, &in);
    ksl_pcm_free(&in);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_threaded_play_cancel),
        cmocka_unit_test(test_threaded_capture_cancel),
        cmocka_unit_test(test_threaded_plain_and_stop),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
