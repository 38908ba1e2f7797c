/* SPDX-License-Identifier: MIT */
/*
 * WavePci end to end on the deterministic engine: a PCM signal streamed through the port, the
 * reference AC'97 miniport and the AC'97 model, played or captured, with cancellations, pauses
 * and an early STOP, over many schedules.  Every case checks the bytes against what it computes
 * itself from IN (e2e_check), not only the job's own verdict.
 */
#include "harness.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <kslab/wdk/wdm.h>

#include "e2e.h"

typedef struct fmt {
    uint32_t rate;
    uint16_t channels;
} fmt;

static const fmt formats[] = {{8000, 1}, {16000, 1}, {44100, 2}, {48000, 2}};
#define NFORMATS (sizeof formats / sizeof formats[0])
/* Runs of the mixed sweep: ~1.5 s in the default build, ~20 s under ASan+UBSan. */
#define MIXED_RUNS 10000

/* 1.2345 s of frames, made odd: a multiple of neither the IRP nor the page size. */
static size_t odd_frames(uint32_t rate)
{
    return ((size_t)rate * 12345 / 10000) | 1u;
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* ---- bit-exact streaming ------------------------------------------------------------------ */

static void bit_exact(bool capture)
{
    static const uint32_t irp_ms[] = {10, 50}; /* 50 ms at 44.1/48 kHz stereo: IRPs across pages */
    static const uint32_t offsets[] = {0, 12};
    for (size_t f = 0; f < NFORMATS; f++) {
        ksl_pcm in = e2e_signal(formats[f].rate, formats[f].channels, odd_frames(formats[f].rate), 7 + f);
        assert_true(ksl_pcm_bytes(&in) % KSL_PAGE_SIZE != 0);
        for (size_t m = 0; m < 2; m++) {
            assert_true(ksl_pcm_bytes(&in) % e2e_irp_bytes(&in, irp_ms[m]) != 0);
            for (size_t o = 0; o < 2; o++) {
                char what[128];
                snprintf(what, sizeof what, "%s %u Hz x%u, IRP %u ms, offset %u", capture ? "capture" : "play",
                         formats[f].rate, formats[f].channels, irp_ms[m], offsets[o]);
                audio_job job;
                e2e_job(&job, &in, capture);
                job.irp_ms = irp_ms[m];
                job.buffer_offset = offsets[o];
                job.cfg.seed = 100 + f * 4 + m * 2 + o;
                assert_true(job.scatter);
                audio_result r;
                e2e_run(&job, &r, what);
                /* nothing cancelled: the output is IN, whole */
                assert_int_equal(r.out_len, ksl_pcm_bytes(&in));
                assert_memory_equal(r.out, in.samples, r.out_len);
                assert_int_equal(r.port.irps_cancelled, 0);
                assert_int_equal(r.port.irps_completed, r.nirps);
                assert_int_equal(r.port.bytes_cancelled, 0);
                assert_int_equal(r.port.mappings_revoked, 0);
                if (!capture)
                    assert_int_equal(r.dev.fill_samples, 0); /* the queue never ran dry */
                /* the audio takes its own time on the virtual clock: no faster, hardly slower */
                double t = (double)r.engine.time_ns / 1e9, a = e2e_seconds(&in);
                if (t < a - 1e-6 || t > a + 2.0 * irp_ms[m] / 1000 + 0.005)
                    fail_msg("%s: %.6f s of virtual time for %.6f s of audio", what, t, a);
                audio_result_free(&r);
            }
        }
        ksl_pcm_free(&in);
    }
}

static void test_play_bit_exact(void **state)
{
    (void)state;
    bit_exact(false);
}

static void test_capture_bit_exact(void **state)
{
    (void)state;
    bit_exact(true);
}

/* Contiguous pages and the smallest IRPs: still bit-exact. */
static void test_contiguous_small_irps(void **state)
{
    (void)state;
    ksl_pcm in = e2e_signal(22050, 2, 12345, 3);
    for (int capture = 0; capture < 2; capture++) {
        audio_job job;
        e2e_job(&job, &in, capture);
        job.scatter = false;
        job.irp_ms = 1;
        job.irps_in_flight = 8;
        audio_result r;
        e2e_run(&job, &r, capture ? "capture contiguous 1 ms" : "play contiguous 1 ms");
        assert_int_equal(r.out_len, ksl_pcm_bytes(&in));
        assert_memory_equal(r.out, in.samples, r.out_len);
        audio_result_free(&r);
    }
    ksl_pcm_free(&in);
}

/* ---- cancellation ------------------------------------------------------------------------- */

static void cancelled_run(bool capture, uint32_t every, const fmt *f, uint32_t offset, uint32_t irp_ms,
                          uint64_t seed)
{
    ksl_pcm in = e2e_signal(f->rate, f->channels, odd_frames(f->rate), seed);
    char what[160];
    snprintf(what, sizeof what, "%s %u Hz x%u, cancel every %u, offset %u, IRP %u ms, seed %" PRIu64,
             capture ? "capture" : "play", f->rate, f->channels, every, offset, irp_ms, seed);
    audio_job job;
    e2e_job(&job, &in, capture);
    job.cancel_every = every;
    job.buffer_offset = offset;
    job.irp_ms = irp_ms;
    job.cfg.seed = seed;
    audio_result r;
    e2e_run(&job, &r, what);
    /* e2e_check compared the bytes with IN cut by the IRPs' transfers; here: the cancellations
     * really happened and took their bytes, and nothing came out twice */
    uint64_t cancelled = 0, moved = 0;
    for (uint32_t i = 0; i < r.nirps; i++) {
        cancelled += r.irps[i].status == STATUS_CANCELLED;
        moved += r.irps[i].transferred;
    }
    if (cancelled == 0 || r.port.bytes_cancelled == 0)
        fail_msg("%s: no IRP was cancelled (%" PRIu64 " bytes cancelled)", what, r.port.bytes_cancelled);
    assert_int_equal(r.port.irps_cancelled, cancelled);
    assert_true(r.port.revoke_calls > 0 || r.port.mappings_revoked == 0);
    assert_int_equal(r.out_len, moved);
    assert_true(r.out_len < ksl_pcm_bytes(&in));
    assert_int_equal(r.out_len + r.port.bytes_cancelled, ksl_pcm_bytes(&in));
    if (capture) /* the tape advances only when captured: the output is a prefix of IN */
        assert_memory_equal(r.out, in.samples, r.out_len);
    audio_result_free(&r);
    ksl_pcm_free(&in);
}

static void test_play_cancel(void **state)
{
    (void)state;
    for (uint32_t every = 2; every <= 3; every++)
        for (size_t f = 0; f < NFORMATS; f++)
            for (uint32_t o = 0; o <= 12; o += 12)
                for (uint64_t seed = 1; seed <= 3; seed++)
                    cancelled_run(false, every, &formats[f], o, f % 2 ? 30 : 10, seed * 31 + every + f);
}

static void test_capture_cancel(void **state)
{
    (void)state;
    for (uint32_t every = 2; every <= 3; every++)
        for (size_t f = 0; f < NFORMATS; f++)
            for (uint32_t o = 0; o <= 12; o += 12)
                for (uint64_t seed = 1; seed <= 3; seed++)
                    cancelled_run(true, every, &formats[f], o, f % 2 ? 30 : 10, seed * 37 + every + f);
}

/* ---- pause / resume ----------------------------------------------------------------------- */

static void paused_run(bool capture, const fmt *f, uint32_t every_ms)
{
    ksl_pcm in = e2e_signal(f->rate, f->channels, odd_frames(f->rate), 5);
    char what[128];
    snprintf(what, sizeof what, "%s %u Hz x%u, pause every %u ms", capture ? "capture" : "play", f->rate,
             f->channels, every_ms);
    audio_job plain, job;
    e2e_job(&plain, &in, capture);
    job = plain;
    job.pause_every_ms = every_ms;
    audio_result r0, r;
    e2e_run(&plain, &r0, what);
    e2e_run(&job, &r, what);
    assert_int_equal(r.out_len, ksl_pcm_bytes(&in));
    assert_memory_equal(r.out, in.samples, r.out_len);
    assert_int_equal(r.port.irps_cancelled, 0);
    /* The pauser sleeps every_ms, pauses 1 ms, resumes: the run is longer than the audio by
     * about one ms per (every_ms + 1) ms of run. */
    double t = (double)r.engine.time_ns / 1e9, t0 = (double)r0.engine.time_ns / 1e9;
    double pauses = t * 1000.0 / (every_ms + 1), extra = t - t0;
    if (extra < 0.7 * pauses / 1000 || extra > 1.3 * pauses / 1000 + 0.003)
        fail_msg("%s: %.6f s with pauses, %.6f s without: %.2f ms more for about %.1f pauses", what, t, t0,
                 extra * 1000, pauses);
    print_message("  %s: %.4f s -> %.4f s (+%.2f ms, ~%.1f pauses of 1 ms)\n", what, t0, t, extra * 1000, pauses);
    audio_result_free(&r0);
    audio_result_free(&r);
    ksl_pcm_free(&in);
}

static void test_pause_resume(void **state)
{
    (void)state;
    for (int capture = 0; capture < 2; capture++) {
        paused_run(capture, &formats[3], 13);
        paused_run(capture, &formats[0], 29);
        paused_run(capture, &formats[2], 50);
    }
}

/* ---- STOP with mappings outstanding ------------------------------------------------------- */

static void stopped_run(bool capture, uint32_t stop_after, uint32_t cancel_every, uint32_t pause_every,
                        uint32_t offset, uint64_t seed)
{
    ksl_pcm in = e2e_signal(48000, 2, 48000 / 2 + 1, seed); /* 0.5 s: 51 IRPs of 10 ms */
    char what[160];
    snprintf(what, sizeof what, "%s, STOP after %u IRPs, cancel every %u, pause every %u, offset %u, seed %" PRIu64,
             capture ? "capture" : "play", stop_after, cancel_every, pause_every, offset, seed);
    audio_job job;
    e2e_job(&job, &in, capture);
    job.stop_after_irps = stop_after;
    job.cancel_every = cancel_every;
    job.pause_every_ms = pause_every;
    job.buffer_offset = offset;
    job.irp_ms = offset ? 30 : 10; /* with an offset, IRPs of two pages */
    job.cfg.seed = seed;
    audio_result r;
    e2e_run(&job, &r, what);
    /* The client keeps in_flight IRPs queued and submits the next one after each completion;
     * when IRP stop_after - 1 completed it stopped instead: IRPs [stop_after, stop_after +
     * in_flight - 1) were still queued — the first of them being played or captured, its
     * mappings held by the miniport — and the STOP completed them all with STATUS_CANCELLED;
     * none after them was submitted. */
    uint32_t queued_to = stop_after + job.irps_in_flight - 1;
    for (uint32_t i = 0; i < r.nirps; i++) {
        const audio_irp *q = &r.irps[i];
        if (i < stop_after) {
            assert_true(q->submitted);
            if (!q->cancel && q->status != STATUS_SUCCESS)
                fail_msg("%s: IRP %u status 0x%08X", what, i, (unsigned)q->status);
        } else if (i < queued_to) {
            if (!q->submitted || q->status != STATUS_CANCELLED)
                fail_msg("%s: IRP %u queued at the STOP: submitted %d, status 0x%08X (want STATUS_CANCELLED)", what,
                         i, q->submitted, (unsigned)q->status);
        } else if (q->submitted) {
            fail_msg("%s: IRP %u submitted after the STOP", what, i);
        }
    }
    assert_int_equal(r.port.irps_submitted, queued_to);
    assert_true(r.port.irps_cancelled >= job.irps_in_flight - 1);
    /* the miniport held mappings at the STOP: the port revoked them */
    if (r.port.mappings_revoked == 0 || r.port.revoke_calls == 0)
        fail_msg("%s: STOP revoked nothing (%" PRIu64 " calls)", what, r.port.revoke_calls);
    audio_result_free(&r);
    ksl_pcm_free(&in);
}

static void test_stop_with_mappings_outstanding(void **state)
{
    (void)state;
    for (int capture = 0; capture < 2; capture++) {
        for (uint64_t seed = 1; seed <= 4; seed++) {
            stopped_run(capture, 5, 0, 0, 0, seed);
            stopped_run(capture, 1, 0, 0, 12, seed);
            stopped_run(capture, 9, 3, 0, 0, seed);
            stopped_run(capture, 7, 2, 13, 12, seed);
        }
    }
}

/* ---- many schedules ----------------------------------------------------------------------- */

typedef struct sweep {
    ksl_pcm ins[NFORMATS]; /* ~0.1 s of each format, made on first use */
    uint32_t runs, cancelled_irps, revoked, partial;
    uint64_t steps;
} sweep;

static void sweep_free(sweep *sw)
{
    for (size_t i = 0; i < NFORMATS; i++)
        ksl_pcm_free(&sw->ins[i]);
}

/* One short job of the seed sweep: format, direction and buffer offset vary with the seed. */
static void sweep_run(const ksl_config *cfg, sweep *sw)
{
    ksl_pcm *ins = sw->ins;
    size_t fi = cfg->seed % NFORMATS;
    if (!ins[fi].samples) /* odd frame counts */
        ins[fi] = e2e_signal(formats[fi].rate, formats[fi].channels, (formats[fi].rate / 10) | 1u, 99);
    bool capture = (cfg->seed / NFORMATS) % 2;
    audio_job job;
    e2e_job(&job, &ins[fi], capture);
    job.cfg = *cfg;
    job.cancel_every = 2;
    job.pause_every_ms = 13;
    job.irp_ms = 7;
    job.buffer_offset = (cfg->seed / 8) % 2 ? 12 : 0;
    job.irps_in_flight = 2 + (uint32_t)(cfg->seed / 16) % 3; /* 2: cancels often hit the IRP playing */
    char what[200];
    snprintf(what, sizeof what, "%s %u Hz x%u, %u CPUs, strategy %d depth %u, seed %" PRIu64 ", offset %u, %u in flight",
             capture ? "capture" : "play", formats[fi].rate, formats[fi].channels, cfg->cpus, (int)cfg->strategy,
             cfg->pct_depth, cfg->seed, job.buffer_offset, job.irps_in_flight);
    audio_result r;
    e2e_run(&job, &r, what);
    sw->runs++;
    sw->cancelled_irps += (uint32_t)r.port.irps_cancelled;
    sw->revoked += (uint32_t)r.port.mappings_revoked;
    for (uint32_t i = 0; i < r.nirps; i++)
        sw->partial += r.irps[i].status == STATUS_CANCELLED && r.irps[i].transferred > 0;
    sw->steps += r.engine.steps;
    audio_result_free(&r);
}

static void seeds(uint32_t cpus, uint32_t n)
{
    double t0 = now_s();
    sweep sw = {0};
    for (uint64_t seed = 1; seed <= n; seed++) {
        ksl_config cfg;
        ksl_config_default(&cfg);
        cfg.cpus = cpus;
        cfg.seed = seed;
        sweep_run(&cfg, &sw);
    }
    /* the sweep exercised what it is for */
    assert_true(sw.cancelled_irps > n);
    assert_true(sw.revoked > n / 2);
    assert_true(sw.partial > 0);
    print_message("  %u seeds on %u CPUs: %u IRPs cancelled (%u after a partial transfer), %u mappings revoked, "
                  "%.0f steps/run, %.2f s\n",
                  n, cpus, sw.cancelled_irps, sw.partial, sw.revoked, (double)sw.steps / n, now_s() - t0);
    sweep_free(&sw);
}

static void test_seeds_2cpus(void **state)
{
    (void)state;
    seeds(2, 1000);
}

static void test_seeds_4cpus(void **state)
{
    (void)state;
    seeds(4, 1000);
}

static void test_pct_seeds(void **state)
{
    (void)state;
    double t0 = now_s();
    for (uint32_t depth = 2; depth <= 3; depth++) {
        for (uint32_t cpus = 2; cpus <= 4; cpus += 2) {
            sweep sw = {0};
            for (uint64_t seed = 1; seed <= 100; seed++) {
                ksl_config cfg;
                ksl_config_default(&cfg);
                cfg.cpus = cpus;
                cfg.seed = seed;
                cfg.strategy = KSL_STRATEGY_PCT;
                cfg.pct_depth = depth;
                cfg.pct_steps = 3000; /* about the length of these runs */
                sweep_run(&cfg, &sw);
            }
            assert_true(sw.cancelled_irps > 0);
            print_message("  PCT depth %u, %u CPUs, 100 seeds: %u IRPs cancelled (%u after a partial transfer), "
                          "%.0f steps/run\n",
                          depth, cpus, sw.cancelled_irps, sw.partial, (double)sw.steps / sw.runs);
            sweep_free(&sw);
        }
    }
    print_message("  PCT depth 2 and 3 on 2 and 4 CPUs, 100 seeds each: %.2f s\n", now_s() - t0);
}

/* Everything at once, drawn from the seed: CPUs, strategy, format, direction, IRP size, queue
 * depth, buffer offset (up to 4 bytes before a page end), cancellations, pauses, an early STOP. */
static void test_mixed_sweep(void **state)
{
    (void)state;
    double t0 = now_s();
    enum { RUNS = MIXED_RUNS };
    ksl_pcm ins[NFORMATS] = {{0}};
    uint32_t cancelled = 0, stopped = 0, partial = 0;
    static const uint32_t offsets[] = {0, 4, 12, 2044, 4092};
    for (uint64_t seed = 1; seed <= RUNS; seed++) {
        uint64_t x = seed * 0x9E3779B97F4A7C15ull;
        x ^= x >> 29;
        size_t fi = x % NFORMATS;
        if (!ins[fi].samples)
            ins[fi] = e2e_signal(formats[fi].rate, formats[fi].channels, (formats[fi].rate * 3 / 20) | 1u, 98);
        audio_job job;
        e2e_job(&job, &ins[fi], (x >> 3) & 1);
        job.cfg.seed = seed;
        job.cfg.cpus = 1 + (uint32_t)((x >> 4) % 4);
        if ((x >> 6) % 4 == 0) {
            job.cfg.strategy = KSL_STRATEGY_PCT;
            job.cfg.pct_depth = 1 + (uint32_t)((x >> 8) % 3);
            job.cfg.pct_steps = 2000;
        }
        job.irp_ms = 1 + (uint32_t)((x >> 10) % 20);
        job.irps_in_flight = 1 + (uint32_t)((x >> 15) % 6);
        job.buffer_offset = offsets[(x >> 18) % 5];
        job.cancel_every = (uint32_t)((x >> 21) % 4); /* 0 (none), 1 (all), 2, 3 */
        static const uint32_t pauses[] = {0, 0, 3, 5, 13};
        job.pause_every_ms = pauses[(x >> 23) % 5];
        if ((x >> 26) % 3 == 0)
            job.stop_after_irps = 1 + (uint32_t)((x >> 28) % 10);
        char what[240];
        snprintf(what, sizeof what,
                 "mixed seed %" PRIu64 ": %s %u Hz x%u, %u CPUs, strategy %d/%u, IRP %u ms x%u, offset %u, cancel "
                 "every %u, pause every %u, stop after %u",
                 seed, job.capture ? "capture" : "play", ins[fi].rate, ins[fi].channels, job.cfg.cpus,
                 (int)job.cfg.strategy, job.cfg.pct_depth, job.irp_ms, job.irps_in_flight, job.buffer_offset,
                 job.cancel_every, job.pause_every_ms, job.stop_after_irps);
        audio_result r;
        e2e_run(&job, &r, what);
        cancelled += (uint32_t)r.port.irps_cancelled;
        stopped += job.stop_after_irps != 0;
        for (uint32_t i = 0; i < r.nirps; i++)
            partial += r.irps[i].status == STATUS_CANCELLED && r.irps[i].transferred > 0;
        audio_result_free(&r);
    }
    for (size_t i = 0; i < NFORMATS; i++)
        ksl_pcm_free(&ins[i]);
    assert_true(cancelled > RUNS && stopped > RUNS / 4 && partial > RUNS / 10);
    print_message("  %u mixed runs: %u IRPs cancelled (%u after a partial transfer), %u early STOPs, %.2f s\n",
                  (unsigned)RUNS, cancelled, partial, stopped, now_s() - t0);
}

/* ---- regressions: schedules that broke the reference miniport ----------------------------- */

/* RevokeMappings during a PAUSE, with the hardware halted at the end of the list on an entry
 * already released and new mappings queued behind it (CIV just behind the ring): the miniport
 * took PICB (0, of that old entry) for the head's progress, dropped the head as played, and the
 * port reported W4.data-mismatch (ReleaseMapping after the device moved 0 of 112 bytes). */
static void test_regression_revoke_paused_behind_ring(void **state)
{
    (void)state;
    ksl_pcm in = e2e_signal(8000, 1, 801, 99);
    audio_job job;
    e2e_job(&job, &in, false);
    job.cfg.seed = 872;
    job.cancel_every = 2;
    job.pause_every_ms = 13;
    job.irp_ms = 7;
    job.buffer_offset = 12;
    for (uint32_t cpus = 2; cpus <= 4; cpus += 2) {
        job.cfg.cpus = cpus;
        audio_result r;
        e2e_run(&job, &r, "revoke while paused, CIV behind the ring");
        assert_true(r.port.mappings_revoked > 0);
        audio_result_free(&r);
    }
    ksl_pcm_free(&in);
}

/* RevokeMappings that leaves only finished entries and so does not restart the engine, racing
 * the ISR of the last one: the channel reset cleared the status before the ISR read it ("not
 * mine", no Notify), nothing else asked for service, the finished mappings were never released
 * and the client waited for their IRP forever (K.deadlock). */
static void test_regression_revoke_loses_interrupt(void **state)
{
    (void)state;
    ksl_pcm in = e2e_signal(44100, 2, 6615, 99);
    audio_job job;
    e2e_job(&job, &in, false);
    job.cfg.seed = 50992;
    job.cfg.cpus = 3;
    job.cfg.strategy = KSL_STRATEGY_PCT;
    job.cfg.pct_depth = 3;
    job.cfg.pct_steps = 2000;
    job.irp_ms = 1;
    job.irps_in_flight = 2;
    job.buffer_offset = 4092;
    job.cancel_every = 2;
    audio_result r;
    e2e_run(&job, &r, "revoke of all but finished entries racing the ISR");
    audio_result_free(&r);
    ksl_pcm_free(&in);
}

/* ---- determinism -------------------------------------------------------------------------- */

static audio_result det_run(const ksl_pcm *in, bool capture, uint64_t seed, uint32_t cpus)
{
    audio_job job;
    e2e_job(&job, in, capture);
    job.cancel_every = 3;
    job.pause_every_ms = 11;
    job.cfg.seed = seed;
    job.cfg.cpus = cpus;
    audio_result r;
    e2e_run(&job, &r, "determinism");
    return r;
}

static void test_determinism(void **state)
{
    (void)state;
    ksl_pcm in = e2e_signal(44100, 2, 44100 / 4 + 1, 11);
    for (int capture = 0; capture < 2; capture++) {
        for (uint64_t seed = 1; seed <= 5; seed++) {
            audio_result a = det_run(&in, capture, seed, 3), b = det_run(&in, capture, seed, 3);
            assert_int_equal(a.trace_hash, b.trace_hash);
            assert_int_equal(a.engine.steps, b.engine.steps);
            assert_int_equal(a.engine.choices, b.engine.choices);
            assert_int_equal(a.engine.time_ns, b.engine.time_ns);
            assert_int_equal(a.out_hash, b.out_hash);
            assert_int_equal(a.out_len, b.out_len);
            assert_memory_equal(a.out, b.out, a.out_len);
            assert_memory_equal(&a.port, &b.port, sizeof a.port);
            assert_memory_equal(&a.dev, &b.dev, sizeof a.dev);
            assert_int_equal(a.nirps, b.nirps);
            for (uint32_t i = 0; i < a.nirps; i++) {
                assert_int_equal(a.irps[i].transferred, b.irps[i].transferred);
                assert_int_equal(a.irps[i].status, b.irps[i].status);
            }
            audio_result_free(&a);
            audio_result_free(&b);
        }
    }
    ksl_pcm_free(&in);
}

/* Different seeds explore different schedules: distinct traces, and not all the same length. */
static void test_seeds_differ(void **state)
{
    (void)state;
    ksl_pcm in = e2e_signal(48000, 2, 48000 / 10 + 1, 12);
    enum { N = 16 };
    for (int cancel = 0; cancel < 2; cancel++) {
        uint64_t hash[N], steps[N];
        for (int i = 0; i < N; i++) {
            audio_job job;
            e2e_job(&job, &in, false);
            job.cancel_every = cancel ? 2 : 0;
            job.cfg.seed = (uint64_t)i + 1;
            audio_result r;
            e2e_run(&job, &r, "seeds differ");
            hash[i] = r.trace_hash;
            steps[i] = r.engine.steps;
            audio_result_free(&r);
        }
        for (int i = 0; i < N; i++)
            for (int j = i + 1; j < N; j++)
                if (hash[i] == hash[j])
                    fail_msg("seeds %d and %d (cancel %d) ran the same trace", i + 1, j + 1, cancel);
        int distinct_steps = 0;
        for (int i = 0; i < N; i++) {
            int seen = 0;
            for (int j = 0; j < i; j++)
                seen |= steps[j] == steps[i];
            distinct_steps += !seen;
        }
        print_message("  %d seeds, cancel %d: %d distinct traces, %d distinct step counts\n", N, cancel, N,
                      distinct_steps);
        /* with cancellations the seed also moves every cancel: the runs differ in length too */
        if (cancel)
            assert_true(distinct_steps >= N / 2);
    }
    ksl_pcm_free(&in);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_play_bit_exact),
        cmocka_unit_test(test_capture_bit_exact),
        cmocka_unit_test(test_contiguous_small_irps),
        cmocka_unit_test(test_play_cancel),
        cmocka_unit_test(test_capture_cancel),
        cmocka_unit_test(test_pause_resume),
        cmocka_unit_test(test_stop_with_mappings_outstanding),
        cmocka_unit_test(test_seeds_2cpus),
        cmocka_unit_test(test_seeds_4cpus),
        cmocka_unit_test(test_pct_seeds),
        cmocka_unit_test(test_mixed_sweep),
        cmocka_unit_test(test_regression_revoke_paused_behind_ring),
        cmocka_unit_test(test_regression_revoke_loses_interrupt),
        cmocka_unit_test(test_determinism),
        cmocka_unit_test(test_seeds_differ),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
