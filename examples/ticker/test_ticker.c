/* SPDX-License-Identifier: MIT */
/*
 * The driver's own unit test: a cmocka program that links libkslab and runs kslab's campaign on
 * the ticker driver and device (built beside it), as a driver's CI would.  Its argument is the
 * folder with the plugins.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include <kslab/campaign.h>

static char driver[4096], buggy[4096], device[4096];

/* Every stream scenario, 200 schedules each: nothing found. */
static void ticker_is_clean(void **state)
{
    (void)state;
    ksl_stress_opts o;
    ksl_stress_opts_default(&o);
    o.run.driver = driver;
    o.run.device = device;
    o.schedules = 200;
    o.jobs = 2;
    ksl_result *r = ksl_stress(&o);
    for (size_t i = 0; i < r->nfindings; i++)
        print_message("%s: %s\n  kslab replay %s --driver %s --device %s\n", r->findings[i].rule,
                      r->findings[i].message, r->findings[i].token, driver, device);
    assert_int_equal(r->verdict, KSL_VERDICT_CLEAN);
    assert_int_equal(r->executions, r->nscenarios * 200); /* 200 in each scenario of its kind */
    ksl_result_free(r);
}

/* The build with the short copy: caught, with a token that replays it. */
static void short_copy_is_caught(void **state)
{
    (void)state;
    ksl_stress_opts o;
    ksl_stress_opts_default(&o);
    o.run.driver = buggy;
    o.run.device = device;
    o.schedules = 50;
    ksl_result *r = ksl_stress(&o);
    assert_int_equal(r->verdict, KSL_VERDICT_FOUND);
    assert_string_equal(r->findings[0].rule, "S1.data-mismatch");
    ksl_replay_opts ro;
    ksl_replay_opts_default(&ro);
    ro.run.driver = buggy;
    ro.run.device = device;
    ksl_result *again = ksl_replay(r->findings[0].token, &ro);
    assert_int_equal(again->verdict, KSL_VERDICT_FOUND);
    assert_string_equal(again->findings[0].rule, "S1.data-mismatch");
    ksl_result_free(again);
    ksl_result_free(r);
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : ".";
    snprintf(driver, sizeof driver, "%s/ticker-driver.so", dir);
    snprintf(buggy, sizeof buggy, "%s/ticker-driver-buggy.so", dir);
    snprintf(device, sizeof device, "%s/ticker-device.so", dir);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ticker_is_clean),
        cmocka_unit_test(short_copy_is_caught),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
