/* SPDX-License-Identifier: MIT */
/*
 * PCT on a toy program with a known depth-2 ordering bug (an atomicity violation): thread A
 * checks a shared pointer and later uses it; thread B clears it.  The bug needs B's clear after
 * A's check (one ordering) and before A's use (a second one).  PCT guarantees a hit with
 * probability >= 1/(n*k) per run for n = 2 threads and k steps; over 10 000 runs the measured
 * hit count must reach that bound less a 4-sigma binomial margin.
 */
#include "harness.h"

#include <math.h>
#include <stdio.h>

#include <kslab/wdk/wdm.h>

enum { WORK = 6 };

typedef struct toy {
    void *volatile p;
    int payload;
    int hit;
} toy;

static void thread_a(void *arg)
{
    toy *t = arg;
    for (int i = 0; i < WORK; i++)
        KeStallExecutionProcessor(1);
    if (InterlockedExchangePointer(&t->p, t->p) != NULL) {
        KeStallExecutionProcessor(1);
        if (InterlockedExchangePointer(&t->p, t->p) == NULL)
            t->hit = 1; /* used after the check saw it non-NULL: the bug */
    }
}

static void thread_b(void *arg)
{
    toy *t = arg;
    for (int i = 0; i < WORK; i++)
        KeStallExecutionProcessor(1);
    InterlockedExchangePointer(&t->p, NULL);
}

static void setup(ksl_engine *e, void *arg)
{
    toy *t = arg;
    t->p = &t->payload;
    t->hit = 0;
    ksl_thread_create(e, "A", thread_a, t);
    ksl_thread_create(e, "B", thread_b, t);
}

/* Run the toy once; returns whether the bug happened, and its step count in *steps. */
static int run_toy(const ksl_config *c, uint64_t *steps)
{
    toy t;
    run_out o = run_scenario(c, setup, &t);
    assert_clean(o);
    if (steps)
        *steps = o.stats.steps;
    run_out_free(&o);
    return t.hit;
}

static void test_pct_meets_bound(void **state)
{
    (void)state;
    /* Measure k: the most steps one run of the program takes. */
    uint64_t k = 0;
    for (uint64_t s = 1; s <= 20; s++) {
        ksl_config c = cfg_with(s, 2);
        uint64_t steps;
        run_toy(&c, &steps);
        if (steps > k)
            k = steps;
    }
    const uint64_t runs = 10000;
    uint64_t hits = 0;
    for (uint64_t s = 1; s <= runs; s++) {
        ksl_config c = cfg_with(s, 2);
        c.strategy = KSL_STRATEGY_PCT;
        c.pct_depth = 2;
        c.pct_steps = k;
        hits += (uint64_t)run_toy(&c, NULL);
    }
    double p = 1.0 / (2.0 * (double)k);
    double mean = p * (double)runs;
    double floor_ = mean - 4.0 * sqrt(mean * (1.0 - p));
    printf("PCT depth 2: k = %llu steps, bound 1/(n*k) = %.5f, expected >= %.1f hits, measured %llu of %llu\n",
           (unsigned long long)k, p, mean, (unsigned long long)hits, (unsigned long long)runs);
    assert_true((double)hits >= floor_);
}

static void test_random_also_finds_it(void **state)
{
    (void)state;
    uint64_t hits = 0;
    for (uint64_t s = 1; s <= 2000; s++) {
        ksl_config c = cfg_with(s, 2);
        hits += (uint64_t)run_toy(&c, NULL);
    }
    assert_true(hits > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pct_meets_bound),
        cmocka_unit_test(test_random_also_finds_it),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
