/* SPDX-License-Identifier: MIT */
/*
 * Determinism: the same configuration gives the same run, bit for bit (trace hash and choice
 * list), for 1 000 seeds each run twice; a recorded choice list replays to the same run; a
 * replay token decodes to a configuration that reproduces the run and its finding.
 */
#include "harness.h"

#include <stdlib.h>
#include <string.h>

#include <kslab/token.h>

#include "demo.h"

static void test_thousand_seeds_twice(void **state)
{
    (void)state;
    uint64_t distinct_hint = 0, prev = 0;
    for (uint64_t seed = 1; seed <= 1000; seed++) {
        ksl_config cfg = cfg_with(seed, seed % 2 ? 2 : 4);
        demo_result r1, r2;
        run_out a = run_demo("counter", &cfg, &r1);
        run_out b = run_demo("counter", &cfg, &r2);
        assert_clean(a);
        assert_clean(b);
        assert_int_equal(a.hash, b.hash);
        assert_int_equal(a.stats.steps, b.stats.steps);
        assert_int_equal(a.stats.time_ns, b.stats.time_ns);
        assert_int_equal(a.nchoices, b.nchoices);
        assert_memory_equal(a.choices, b.choices, a.nchoices * sizeof *a.choices);
        /* The scenario's own result: every increment arrived. */
        assert_int_equal(r1.counter, r1.expected);
        assert_int_equal(r2.counter, r2.expected);
        if (a.hash != prev)
            distinct_hint++;
        prev = a.hash;
        run_out_free(&a);
        run_out_free(&b);
    }
    /* Different seeds explore different schedules. */
    assert_true(distinct_hint > 900);
}

static void test_choice_list_replays(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= 50; seed++) {
        ksl_config cfg = cfg_with(seed, 3);
        cfg.strategy = seed % 2 ? KSL_STRATEGY_RANDOM : KSL_STRATEGY_PCT;
        run_out a = run_demo("counter", &cfg, NULL);
        assert_clean(a);
        ksl_config rc = cfg_with(0, 3);
        rc.strategy = KSL_STRATEGY_REPLAY;
        rc.choices = a.choices;
        rc.nchoices = a.nchoices;
        run_out b = run_demo("counter", &rc, NULL);
        assert_clean(b);
        /* The seed is part of the hash; compare the schedule itself. */
        assert_int_equal(a.stats.steps, b.stats.steps);
        assert_int_equal(a.stats.time_ns, b.stats.time_ns);
        assert_int_equal(a.stats.interrupts, b.stats.interrupts);
        assert_int_equal(a.nchoices, b.nchoices);
        assert_memory_equal(a.choices, b.choices, a.nchoices * sizeof *a.choices);
        run_out_free(&a);
        run_out_free(&b);
    }
}

static void test_token_reproduces_finding(void **state)
{
    (void)state;
    ksl_config cfg = cfg_with(7, 2);
    run_out a = run_demo("lock-order", &cfg, NULL);
    assert_rule(a, "K.lock-order-cycle");

    ksl_token t;
    memset(&t, 0, sizeof t);
    strcpy(t.scenario, "demo/lock-order");
    t.cfg = cfg;
    char *text = ksl_token_encode(&t);
    assert_non_null(text);
    ksl_token back;
    char err[128];
    assert_int_equal(ksl_token_decode(text, &back, err, sizeof err), 0);
    assert_string_equal(back.scenario, "demo/lock-order");
    run_out b = run_demo("lock-order", &back.cfg, NULL);
    assert_rule(b, "K.lock-order-cycle");
    assert_int_equal(a.hash, b.hash);
    assert_string_equal(a.message, b.message);
    assert_string_equal(a.detail, b.detail);

    /* A shrunk schedule travels as a choice list in the token. */
    ksl_token r;
    memset(&r, 0, sizeof r);
    strcpy(r.scenario, "demo/lock-order");
    r.cfg = cfg_with(0, 2);
    r.cfg.strategy = KSL_STRATEGY_REPLAY;
    r.choices = a.choices;
    r.nchoices = a.nchoices;
    char *text2 = ksl_token_encode(&r);
    ksl_token back2;
    assert_int_equal(ksl_token_decode(text2, &back2, err, sizeof err), 0);
    run_out c = run_demo("lock-order", &back2.cfg, NULL);
    assert_rule(c, "K.lock-order-cycle");
    assert_int_equal(a.stats.steps, c.stats.steps);
    assert_string_equal(a.message, c.message);
    free(text);
    free(text2);
    ksl_token_free(&back);
    ksl_token_free(&back2);
    run_out_free(&a);
    run_out_free(&b);
    run_out_free(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_thousand_seeds_twice),
        cmocka_unit_test(test_choice_list_replays),
        cmocka_unit_test(test_token_reproduces_finding),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
