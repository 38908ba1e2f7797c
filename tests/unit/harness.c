/* SPDX-License-Identifier: MIT */
#include "harness.h"

#include "demo.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

ksl_config cfg_with(uint64_t seed, uint32_t cpus)
{
    ksl_config c;
    ksl_config_default(&c);
    c.seed = seed;
    c.cpus = cpus;
    return c;
}

run_out run_scenario(const ksl_config *cfg, scenario_fn *setup, void *arg)
{
    return run_scenario_td(cfg, setup, NULL, arg);
}

run_out run_scenario_td(const ksl_config *cfg, scenario_fn *setup, scenario_fn *teardown, void *arg)
{
    run_out o;
    memset(&o, 0, sizeof o);
    char err[256] = "";
    ksl_engine *e = ksl_engine_create(cfg, err, sizeof err);
    if (!e) {
        fprintf(stderr, "engine: %s\n", err);
        o.rc = -1;
        return o;
    }
    setup(e, arg);
    o.rc = ksl_engine_run(e);
    const ksl_finding *f = ksl_engine_finding(e);
    if (f) {
        snprintf(o.rule, sizeof o.rule, "%s", f->rule);
        snprintf(o.message, sizeof o.message, "%s", f->message);
        snprintf(o.detail, sizeof o.detail, "%s", f->detail);
        o.line = f->file ? f->line : 0;
    }
    size_t nf;
    const ksl_finding *all = ksl_engine_findings(e, &nf);
    for (size_t i = 0; i < nf && i < KSL_MAX_RUN_FINDINGS; i++) {
        snprintf(o.rules[i], sizeof o.rules[i], "%s", all[i].rule);
        snprintf(o.messages[i], sizeof o.messages[i], "%s", all[i].message);
    }
    o.nfindings = nf;
    ksl_engine_stats(e, &o.stats);
    o.hash = ksl_engine_trace_hash(e);
    size_t n = 0;
    const uint32_t *ch = ksl_engine_choices(e, &n);
    o.nchoices = n;
    if (n) {
        o.choices = malloc(n * sizeof *o.choices);
        memcpy(o.choices, ch, n * sizeof *ch);
    }
    if (teardown)
        teardown(e, arg);
    ksl_engine_destroy(e);
    return o;
}

const char *run_out_message_of(const run_out *o, const char *rule)
{
    for (size_t i = 0; i < o->nfindings; i++)
        if (strcmp(o->rules[i], rule) == 0)
            return o->messages[i];
    return NULL;
}

void run_out_free(run_out *o)
{
    free(o->choices);
    o->choices = NULL;
}

void assert_rule_impl(const run_out *o, const char *rule, const char *file, int line)
{
    if (strcmp(o->rule, rule) != 0 || (rule[0] ? o->rc != 1 : o->rc != 0)) {
        fprintf(stderr, "%s:%d: expected %s, got rc=%d rule='%s'\n  %s\n%s", file, line, rule[0] ? rule : "a clean run",
                o->rc, o->rule, o->message, o->detail);
        _fail(file, line);
    }
}

typedef struct demo_arg {
    const demo_scenario *sc;
    demo_result res;
    void *state;
} demo_arg;

static void demo_setup_fn(ksl_engine *e, void *arg)
{
    demo_arg *d = arg;
    d->state = d->sc->setup(e, &d->res);
}

static void demo_teardown_fn(ksl_engine *e, void *arg)
{
    (void)e;
    demo_arg *d = arg;
    d->sc->teardown(d->state);
}

run_out run_demo(const char *name, const ksl_config *cfg, demo_result *res)
{
    demo_arg d = {demo_find(name), {0, 0, 0}, NULL};
    assert_non_null(d.sc);
    run_out o = run_scenario_td(cfg, demo_setup_fn, demo_teardown_fn, &d);
    if (res)
        *res = d.res;
    return o;
}
