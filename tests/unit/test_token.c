/* SPDX-License-Identifier: MIT */
/* Replay tokens: every field survives a round trip; damaged or foreign text is refused with a
 * message that says what is wrong. */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kslab/token.h>

static void test_round_trip(void **state)
{
    (void)state;
    uint32_t choices[] = {0, 1, 2, 300, 70000, 5};
    ksl_token t;
    memset(&t, 0, sizeof t);
    strcpy(t.scenario, "demo/counter");
    strcpy(t.params, "irp-ms=10 cancel-every=3");
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
    assert_string_equal(b.params, t.params);
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
