/* SPDX-License-Identifier: MIT */
/* Replay tokens: every field survives a round trip; damaged or foreign text, and a field out of
 * the range its command-line option allows, is refused with a message that says what is wrong. */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kslab/token.h>

static void test_round_trip(void **state)
{
    (void)state;
    uint32_t choices[] = {0, 1, 2, 300, KSL_TOKEN_MAX_CHOICE, 5};
    ksl_token t;
    memset(&t, 0, sizeof t);
    strcpy(t.scenario, "job/capture");
    ksl_job_default(&t.job, KSL_JOB_CAPTURE);
    t.job.rate = 44100;
    t.job.channels = 1;
    t.job.frames = 44100 * 3;
    t.job.irp_ms = 7;
    t.job.cancel_every = 3;
    t.job.contiguous = true;
    t.job.buffer_offset = 12;
    strcpy(t.driver, "ac97-variant");
    strcpy(t.driver_file, "build/drivers/x.so");
    t.driver_hash = 0x0123456789ABCDEFull;
    strcpy(t.device_file, "dev.so");
    t.device_hash = 42;
    t.input_hash = 0xFFFFFFFFFFFFFFFFull;
    ksl_config_default(&t.cfg);
    t.cfg.cpus = 64;
    t.cfg.seed = 0xFFFFFFFFFFFFFFFFull;
    t.cfg.strategy = KSL_STRATEGY_REPLAY;
    t.cfg.pct_depth = 5;
    t.cfg.pct_steps = 123456;
    t.cfg.max_steps = 999;
    t.cfg.skew_ns = 7;
    t.cfg.step_cost_ns = 3;
    t.cfg.worker_threads = 4;
    t.cfg.fail_alloc_nth = 17;
    t.choices = choices;
    t.nchoices = 6;
    char *text = ksl_token_encode(&t);
    assert_non_null(text);
    assert_memory_equal(text, "ksl1-", 5);
    ksl_token b;
    char err[128];
    assert_int_equal(ksl_token_decode(text, &b, err, sizeof err), 0);
    assert_string_equal(b.scenario, t.scenario);
    assert_memory_equal(&b.job, &t.job, sizeof t.job);
    assert_string_equal(b.driver, "ac97-variant");
    assert_string_equal(b.driver_file, "build/drivers/x.so");
    assert_true(b.driver_hash == 0x0123456789ABCDEFull);
    assert_string_equal(b.device_file, "dev.so");
    assert_true(b.device_hash == 42);
    assert_true(b.input_hash == 0xFFFFFFFFFFFFFFFFull);
    assert_int_equal(b.cfg.cpus, 64);
    assert_true(b.cfg.seed == 0xFFFFFFFFFFFFFFFFull);
    assert_int_equal(b.cfg.strategy, KSL_STRATEGY_REPLAY);
    assert_int_equal(b.cfg.pct_depth, 5);
    assert_int_equal(b.cfg.pct_steps, 123456);
    assert_int_equal(b.cfg.max_steps, 999);
    assert_int_equal(b.cfg.skew_ns, 7);
    assert_int_equal(b.cfg.step_cost_ns, 3);
    assert_int_equal(b.cfg.worker_threads, 4);
    assert_int_equal(b.cfg.fail_alloc_nth, 17);
    assert_int_equal(b.nchoices, 6);
    assert_memory_equal(b.choices, choices, sizeof choices);
    assert_ptr_equal(b.cfg.choices, b.choices);

    /* Surrounding white space, as a terminal copy adds it, is fine. */
    char *padded = malloc(strlen(text) + 8);
    sprintf(padded, "  %s \n", text);
    ksl_token c;
    assert_int_equal(ksl_token_decode(padded, &c, err, sizeof err), 0);
    ksl_token_free(&c);
    free(padded);
    ksl_token_free(&b);
    free(text);
}

static void expect_refused(const char *text, const char *words)
{
    ksl_token b;
    char err[160] = "";
    assert_int_equal(ksl_token_decode(text, &b, err, sizeof err), -1);
    if (!strstr(err, words)) {
        fprintf(stderr, "message '%s' lacks '%s'\n", err, words);
        fail();
    }
    assert_null(b.choices);
}

static void test_refusals(void **state)
{
    (void)state;
    ksl_token t;
    memset(&t, 0, sizeof t);
    strcpy(t.scenario, "demo/counter");
    ksl_config_default(&t.cfg);
    char *text = ksl_token_encode(&t);
    assert_non_null(text);

    expect_refused("", "not a kslab replay token");
    expect_refused("hello", "not a kslab replay token");
    expect_refused("ksl1-abc$def", "not base64url");
    expect_refused("ksl1-AA", "too short");
    /* One character changed: the checksum catches it. */
    char *bad = strdup(text);
    size_t mid = strlen(bad) / 2;
    bad[mid] = bad[mid] == 'A' ? 'B' : 'A';
    expect_refused(bad, "damaged");
    /* Cut short: also damaged. */
    bad[strlen(text) - 3] = 0;
    strcpy(bad, text);
    bad[strlen(bad) - 2] = 0;
    expect_refused(bad, "damaged");
    free(bad);
    free(text);
}

/* A token made with one field changed must be refused naming it. */
static void expect_field_refused(void (*change)(ksl_token *t), const char *words)
{
    ksl_token t;
    memset(&t, 0, sizeof t);
    strcpy(t.scenario, "job/play");
    ksl_job_default(&t.job, KSL_JOB_PLAY);
    strcpy(t.driver, "ac97");
    ksl_config_default(&t.cfg);
    change(&t);
    char *text = ksl_token_encode(&t);
    assert_non_null(text);
    expect_refused(text, words);
    free(text);
}

static void cpus_65(ksl_token *t) { t->cfg.cpus = 65; }
static void cpus_0(ksl_token *t) { t->cfg.cpus = 0; }
static void workers_2_32(ksl_token *t) { t->cfg.worker_threads = UINT32_MAX; }
static void pct_depth_2_28(ksl_token *t) { t->cfg.strategy = KSL_STRATEGY_PCT; t->cfg.pct_depth = 1u << 28; }
static void skew_overflow(ksl_token *t) { t->cfg.skew_ns = UINT64_MAX; }
static void engine_7(ksl_token *t) { t->cfg.engine = (ksl_engine_kind)7; }
static void steps_huge(ksl_token *t) { t->cfg.max_steps = UINT64_MAX; }
static void irp_ms_0(ksl_token *t) { t->job.irp_ms = 0; }
static void rate_huge(ksl_token *t) { t->job.rate = 1000000; }
static void frames_over_an_hour(ksl_token *t) { t->job.frames = (uint64_t)t->job.rate * 3601; }
static void in_flight_huge(ksl_token *t) { t->job.in_flight = UINT32_MAX; }
static void odd_offset(ksl_token *t) { t->job.buffer_offset = 6; }
static void control_char(ksl_token *t) { t->driver[0] = '\x1b'; }
static void choice_huge(ksl_token *t)
{
    static uint32_t c[] = {1, 70000};
    t->cfg.strategy = KSL_STRATEGY_REPLAY;
    t->choices = c;
    t->nchoices = 2;
}

static void test_ranges(void **state)
{
    (void)state;
    expect_field_refused(cpus_65, "CPU count (65) is out of range (1..64)");
    expect_field_refused(cpus_0, "CPU count (0)");
    expect_field_refused(workers_2_32, "worker threads (4294967295) is out of range");
    expect_field_refused(pct_depth_2_28, "PCT depth (268435456)");
    expect_field_refused(skew_overflow, "clock skew");
    expect_field_refused(engine_7, "engine (7)");
    expect_field_refused(steps_huge, "step limit");
    expect_field_refused(irp_ms_0, "--irp-ms 0 is out of range (1..1000)");
    expect_field_refused(rate_huge, "--rate 1000000");
    expect_field_refused(frames_over_an_hour, "the signal's frames");
    expect_field_refused(in_flight_huge, "--in-flight");
    expect_field_refused(odd_offset, "--buffer-offset 6 is not a multiple of 4");
    expect_field_refused(control_char, "not printable");
    expect_field_refused(choice_huge, "malformed");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_ranges),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
