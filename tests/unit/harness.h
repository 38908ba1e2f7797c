/* SPDX-License-Identifier: MIT */
/* Helpers shared by the unit tests: run a scenario on a fresh engine and inspect the outcome. */
#ifndef KSLAB_TEST_HARNESS_H
#define KSLAB_TEST_HARNESS_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <kslab/engine.h>

/* Sets up a run: create kernel objects, devices and client threads on `e`. */
typedef void scenario_fn(ksl_engine *e, void *arg);

typedef struct run_out {
    int rc;                /* ksl_engine_run: 0 clean, 1 finding, -1 error */
    char rule[48];         /* the finding's rule id, "" when clean */
    char message[512];
    char detail[4096];
    int line;              /* the finding's call site line (0: unknown) */
    size_t nfindings;      /* every finding of the run (the first is rule / message above) */
    char rules[KSL_MAX_RUN_FINDINGS][48];
    char messages[KSL_MAX_RUN_FINDINGS][512];
    ksl_stats stats;
    uint64_t hash;
    size_t nchoices;
    uint32_t *choices;     /* malloc'd copy; free with run_out_free */
} run_out;

/* The message of the run's finding of `rule`, or NULL when it has none. */
const char *run_out_message_of(const run_out *o, const char *rule);
/* Default configuration with this seed and CPU count. */
ksl_config cfg_with(uint64_t seed, uint32_t cpus);
/* Run `setup` on a new engine made from cfg (NULL: defaults). */
run_out run_scenario(const ksl_config *cfg, scenario_fn *setup, void *arg);
/* The same, calling teardown(e, arg) after the run and before the engine is destroyed. */
run_out run_scenario_td(const ksl_config *cfg, scenario_fn *setup, scenario_fn *teardown, void *arg);
void run_out_free(run_out *o);

struct demo_result;
/* Run the built-in demonstration scenario `name` (src/campaign/demo.h); *res gets its result. */
run_out run_demo(const char *name, const ksl_config *cfg, struct demo_result *res);

/* Assert the run found exactly `rule` (prints the message otherwise). */
#define assert_rule(o, r) assert_rule_impl(&(o), (r), __FILE__, __LINE__)
/* Assert the run was clean. */
#define assert_clean(o) assert_rule_impl(&(o), "", __FILE__, __LINE__)
void assert_rule_impl(const run_out *o, const char *rule, const char *file, int line);

#endif
