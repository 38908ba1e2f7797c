/* SPDX-License-Identifier: MIT */
/*
 * libkslab as a driver author's test uses it: this program links the shared library only
 * (<kslab/campaign.h>, <kslab/report.h>) and runs campaigns, jobs and replays the way the
 * tutorial shows: the reference driver clean, a broken plugin caught with its rule, token,
 * events and shrinking, the token replayed, a job's counters and output, callbacks called,
 * options refused with a message, a stop request honoured, the JSON writer's document.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include <kslab/campaign.h>
#include <kslab/windows.h>
#include <kslab/report.h>

#ifndef KSLAB_BUILD_DIR
#error "KSLAB_BUILD_DIR names the build tree (for the broken driver plugin)"
#endif
#define BROKEN KSLAB_BUILD_DIR "/drivers/buggy-revoke-and-release.so"

typedef struct seen {
    int starts, scenarios, findings;
    char first_rule[64];
} seen;

static void on_start(void *user, const ksl_result *r)
{
    seen *s = user;
    s->starts++;
    assert_non_null(r->driver.name);
}

static void on_scenario(void *user, const ksl_result_scenario *sc)
{
    seen *s = user;
    s->scenarios++;
    assert_true(sc->executions > 0);
}

static void on_finding(void *user, const ksl_result_finding *f)
{
    seen *s = user;
    if (!s->findings++)
        snprintf(s->first_rule, sizeof s->first_rule, "%s", f->rule);
}

static void test_reference_clean(void **state)
{
    (void)state;
    seen s = {0};
    ksl_stress_opts o;
    ksl_stress_opts_default(&o);
    o.run.driver = "ac97";
    o.schedules = 20;
    o.jobs = 2;
    o.run.on_start = on_start;
    o.run.on_scenario = on_scenario;
    o.run.user = &s;
    ksl_result *r = ksl_stress(&o);
    assert_non_null(r);
    assert_int_equal(r->verdict, KSL_VERDICT_CLEAN);
    assert_int_equal(ksl_result_exit_status(r), 0);
    assert_string_equal(r->driver.name, "ac97");
    assert_string_equal(r->driver.kind, "wavepci");
    assert_false(r->driver.plugin);
    assert_int_equal(r->nscenarios, 16);
    assert_int_equal(r->executions, 16 * 20);
    assert_int_equal(r->nfindings, 0);
    assert_int_equal(s.starts, 1);
    assert_int_equal(s.scenarios, 16);
    ksl_result_free(r);
}

/* The race windows a campaign reached: every WavePci window listed in catalog order, the aimed
 * cancels reaching the revoke windows, the counts the same whatever the number of workers. */
static void test_window_coverage(void **state)
{
    (void)state;
    ksl_result *r[2];
    for (int k = 0; k < 2; k++) {
        ksl_stress_opts o;
        ksl_stress_opts_default(&o);
        o.run.driver = "ac97";
        o.scenario = "cancel-aimed";
        o.schedules = 60;
        o.jobs = k ? 2 : 1;
        r[k] = ksl_stress(&o);
        assert_non_null(r[k]);
        assert_int_equal(r[k]->verdict, KSL_VERDICT_CLEAN);
    }
    size_t nw;
    const ksl_window *cat = ksl_windows(&nw);
    assert_int_equal(nw, KSL_WIN_COUNT);
    assert_int_equal(r[0]->nwindows, 8); /* the WavePci ones */
    for (size_t i = 0; i < r[0]->nwindows; i++) {
        assert_string_equal(r[0]->windows[i].name, cat[i].name);
        assert_string_equal(r[0]->windows[i].family, "wavepci");
        assert_true(r[0]->windows[i].executions <= r[0]->windows[i].hits);
        assert_true(r[0]->windows[i].executions <= 60);
        assert_int_equal(r[0]->windows[i].executions, r[1]->windows[i].executions);
        assert_int_equal(r[0]->windows[i].hits, r[1]->windows[i].hits);
    }
    assert_true(r[0]->windows[KSL_WIN_WP_REVOKE_IN_GETMAPPING_GAP].executions > 0);
    assert_true(r[0]->windows[KSL_WIN_WP_REVOKE_IN_RELEASE].executions > 0);
    assert_true(r[0]->windows[KSL_WIN_WP_CANCEL_IN_SERVICE].executions > 0);
    assert_int_equal(r[0]->windows[KSL_WIN_WP_POWER_DOWN_DURING_DMA].executions, 0); /* no power events here */
    ksl_result_free(r[0]);
    ksl_result_free(r[1]);
    /* The threaded engine keeps no spans: no windows at all. */
    ksl_stress_opts o;
    ksl_stress_opts_default(&o);
    o.run.driver = "ac97";
    o.scenario = "steady";
    o.schedules = 2;
    o.run.cfg.engine = KSL_ENGINE_THREADED;
    o.shrink = false;
    ksl_result *t = ksl_stress(&o);
    assert_non_null(t);
    assert_int_equal(t->nwindows, 0);
    ksl_result_free(t);
}

/* The scenarios that vary more than the job: each runs the reference clean (its output checked
 * bit for bit, the duplex capture too) and reaches the windows it is made for. */
static ksl_result *stress_clean(const char *driver, const char *scenario, uint64_t schedules, const char *family,
                                size_t nwindows)
{
    ksl_stress_opts o;
    ksl_stress_opts_default(&o);
    o.run.driver = driver;
    o.scenario = scenario;
    o.schedules = schedules;
    o.jobs = 2;
    ksl_result *r = ksl_stress(&o);
    assert_non_null(r);
    if (r->verdict != KSL_VERDICT_CLEAN && r->nfindings)
        fprintf(stderr, "%s: %s: %s\n", scenario, r->findings[0].rule, r->findings[0].message);
    assert_int_equal(r->verdict, KSL_VERDICT_CLEAN);
    assert_int_equal(r->executions, schedules);
    assert_int_equal(r->nwindows, nwindows);
    for (size_t i = 0; i < r->nwindows; i++)
        assert_string_equal(r->windows[i].family, family);
    return r;
}

static void test_scenario_shapes(void **state)
{
    (void)state;
    ksl_result *r = stress_clean("ac97", "underrun", 40, "wavepci", 8);
    assert_true(r->windows[KSL_WIN_WP_CANCEL_RING_DRY].executions > 0); /* a cancel finds the ring dry */
    ksl_result_free(r);
    r = stress_clean("ac97", "power-cycle", 20, "wavepci", 8);
    assert_int_equal(r->windows[KSL_WIN_WP_POWER_DOWN_DURING_DMA].executions, 20); /* every run powers down playing */
    ksl_result_free(r);
    r = stress_clean("ac97", "state-walk", 20, "wavepci", 8);
    assert_true(r->windows[KSL_WIN_WP_STATE_CHANGE_DURING_SERVICE].executions > 0);
    ksl_result_free(r);
    ksl_result_free(stress_clean("ac97", "duplex", 20, "wavepci", 8));
    ksl_result_free(stress_clean("ac97", "formats", 40, "wavepci", 8));
}

/* The stream class windows, on the references whose design can reach them: the stream family's
 * four, the aimed cancels landing inside a receive routine, a Low routine's cancels and timers. */
static void test_stream_windows(void **state)
{
    (void)state;
    /* in catalog order: isr-during-callback, cancel-in-receive-packet, cancel-srb-held-for-low, timer-during-low */
    ksl_result *r = stress_clean("filter", "cancel-aimed", 30, "stream", 4);
    assert_true(r->windows[1].executions > 0);
    assert_int_equal(r->windows[0].executions, 0); /* no ISR, no priority routines */
    assert_int_equal(r->windows[2].executions, 0);
    ksl_result_free(r);
    r = stress_clean("no-isr-dispatch", "long-run", 10, "stream", 4);
    assert_string_equal(r->windows[2].name, "stream.cancel-srb-held-for-low");
    assert_int_equal(r->windows[2].executions, 10);
    assert_true(r->windows[3].executions > 0);
    assert_int_equal(r->windows[0].executions, 0); /* no ISR */
    ksl_result_free(r);
}

/* A kslab false positive, fixed: the job client's canceller read `quit` after its last look at
 * its queue, so a cancel picked just before the client quit was never made and the client
 * waited for it forever (K.deadlock on the valid filter minidriver, 1 CPU, PCT, seed 48). */
static void test_canceller_drains_before_quit(void **state)
{
    (void)state;
    ksl_stress_opts o;
    ksl_stress_opts_default(&o);
    o.run.driver = "filter";
    o.scenario = "close-outstanding";
    o.schedules = 60;
    o.run.cfg.cpus = 1;
    o.run.cfg.strategy = KSL_STRATEGY_PCT;
    o.run.cfg.pct_depth = 3;
    ksl_result *r = ksl_stress(&o);
    assert_non_null(r);
    assert_int_equal(r->verdict, KSL_VERDICT_CLEAN);
    assert_int_equal(r->executions, 60);
    ksl_result_free(r);
}

static void test_broken_caught_and_replayed(void **state)
{
    (void)state;
    seen s = {0};
    ksl_stress_opts o;
    ksl_stress_opts_default(&o);
    o.run.driver = BROKEN;
    o.scenario = "cancel-race";
    o.schedules = 200;
    o.run.on_finding = on_finding;
    o.run.user = &s;
    ksl_result *r = ksl_stress(&o);
    assert_non_null(r);
    assert_int_equal(r->verdict, KSL_VERDICT_FOUND);
    assert_int_equal(ksl_result_exit_status(r), 1);
    assert_true(r->driver.plugin);
    assert_true(r->driver.hash != 0);
    assert_int_equal(r->nfindings, 1);
    const ksl_result_finding *f = &r->findings[0];
    assert_string_equal(f->rule, "W6.removed-twice");
    assert_string_equal(f->scenario, "cancel-race");
    assert_non_null(f->file);
    assert_non_null(strstr(f->file, "revoke-and-release/stream.c"));
    assert_non_null(f->token);
    assert_true(f->nevents > 0);
    assert_true(f->shrink.replays > 0);
    assert_true(f->shrink.steps_after <= f->shrink.steps_before);
    assert_int_equal(s.findings, 1);
    assert_string_equal(s.first_rule, "W6.removed-twice");

    /* The token replays with the plugin named again, and only then. */
    ksl_replay_opts ro;
    ksl_replay_opts_default(&ro);
    ksl_result *no = ksl_replay(f->token, &ro);
    assert_int_equal(no->verdict, KSL_VERDICT_ERROR);
    assert_non_null(strstr(no->error, "--driver PATH"));
    ksl_result_free(no);
    ro.run.driver = BROKEN;
    ksl_result *rep = ksl_replay(f->token, &ro);
    assert_int_equal(rep->verdict, KSL_VERDICT_FOUND);
    assert_string_equal(rep->findings[0].rule, "W6.removed-twice");
    assert_int_equal(rep->findings[0].line, f->line);
    assert_null(rep->warning);
    /* The same run, bit for bit: the same trace hash twice. */
    ksl_result *rep2 = ksl_replay(f->token, &ro);
    assert_true(ksl_result_counter(rep, "engine.trace_hash", 0) != 0);
    assert_true(ksl_result_counter(rep, "engine.trace_hash", 0) == ksl_result_counter(rep2, "engine.trace_hash", 1));
    ksl_result_free(rep2);
    /* Another plugin than the token's: it runs, and the result says so. */
    ro.run.driver = KSLAB_BUILD_DIR "/drivers/ac97.so";
    ksl_result *other = ksl_replay(f->token, &ro);
    assert_non_null(other->warning);
    assert_non_null(strstr(other->warning, "is not the file the token was made with"));
    ksl_result_free(other);

    /* The JSON document: one object with the verdict and the finding. */
    char *text = ksl_result_json(r);
    assert_non_null(text);
    json_error_t jerr;
    json_t *doc = json_loads(text, 0, &jerr);
    assert_non_null(doc);
    assert_string_equal(json_string_value(json_object_get(doc, "result")), "violation");
    assert_string_equal(json_string_value(json_object_get(doc, "rule")), "W6.removed-twice");
    assert_int_equal(json_array_size(json_object_get(doc, "findings")), 1);
    json_decref(doc);
    free(text);
    ksl_result_free(rep);
    ksl_result_free(r);
}

/* --keep-going: every scenario runs its whole budget after the finding; each distinct finding is
 * reported once (the lowest seed that has it), the same with 1 and 2 workers; max_findings stops
 * the campaign at the scenario that reached it. */
static ksl_result *keep_going(unsigned jobs, uint32_t max)
{
    ksl_stress_opts o;
    ksl_stress_opts_default(&o);
    o.run.driver = BROKEN;
    o.schedules = 40;
    o.jobs = jobs;
    o.keep_going = true;
    o.max_findings = max;
    ksl_result *r = ksl_stress(&o);
    assert_non_null(r);
    return r;
}

static void test_keep_going(void **state)
{
    (void)state;
    ksl_result *one = keep_going(1, 0), *two = keep_going(2, 0);
    assert_int_equal(one->verdict, KSL_VERDICT_FOUND);
    assert_int_equal(one->nscenarios, 16); /* every scenario, not only up to the finding's */
    for (size_t i = 0; i < one->nscenarios; i++)
        assert_int_equal(one->scenarios[i].executions, 40);
    assert_int_equal(one->executions, 16 * 40);
    assert_true(one->nfindings >= 1);
    assert_int_equal(one->nfindings, two->nfindings);
    for (size_t i = 0; i < one->nfindings; i++) {
        assert_string_equal(one->findings[i].rule, two->findings[i].rule);
        assert_string_equal(one->findings[i].token, two->findings[i].token);
        assert_int_equal(one->findings[i].seed, two->findings[i].seed);
        for (size_t k = 0; k < i; k++) /* distinct */
            assert_string_not_equal(one->findings[i].fingerprint, one->findings[k].fingerprint);
    }
    ksl_result_free(two);
    /* Stopped after the first: fewer scenarios ran. */
    ksl_result *capped = keep_going(1, 1);
    assert_int_equal(capped->verdict, KSL_VERDICT_FOUND);
    assert_int_equal(capped->nfindings, 1);
    assert_string_equal(capped->findings[0].rule, one->findings[0].rule);
    assert_true(capped->nscenarios < 16);
    ksl_result_free(capped);
    ksl_result_free(one);
}

static void test_play_job(void **state)
{
    (void)state;
    ksl_job_opts o;
    ksl_job_opts_default(&o, KSL_JOB_PLAY);
    o.run.driver = "ac97";
    o.job.rate = 16000;
    o.job.channels = 1;
    o.job.frames = 8000;
    o.job.cancel_every = 3;
    o.keep_output = true;
    ksl_result *r = ksl_run_job(&o);
    assert_int_equal(r->verdict, KSL_VERDICT_CLEAN);
    assert_string_equal(r->command, "play");
    uint64_t moved = ksl_result_counter(r, "bytes.transferred", 0);
    assert_true(moved > 0);
    assert_true(ksl_result_counter(r, "irps.cancelled", 0) > 0);
    assert_int_equal(ksl_result_counter(r, "bytes.submitted", 0),
                     moved + ksl_result_counter(r, "bytes.cancelled", 0));
    assert_non_null(r->output);
    assert_int_equal(r->output_frames * 2, moved);
    assert_int_equal(r->output_rate, 16000);
    assert_non_null(strstr(r->data_check, "bit-exact"));
    ksl_result_free(r);

    /* A stream minidriver is not a WavePci driver: refused, with what to run it with. */
    o.run.driver = "isr-dpc-pio";
    r = ksl_run_job(&o);
    assert_int_equal(r->verdict, KSL_VERDICT_ERROR);
    assert_int_equal(ksl_result_exit_status(r), 2);
    assert_non_null(strstr(r->error, "run it with `kslab stream`"));
    ksl_result_free(r);
}

static void test_refusals_and_stop(void **state)
{
    (void)state;
    ksl_stress_opts o;
    ksl_stress_opts_default(&o);
    o.run.driver = "ac97";
    o.scenario = "close-outstanding"; /* a stream scenario */
    ksl_result *r = ksl_stress(&o);
    assert_int_equal(r->verdict, KSL_VERDICT_ERROR);
    assert_non_null(strstr(r->error, "no scenario 'close-outstanding'"));
    ksl_result_free(r);
    o.scenario = NULL;
    o.jobs = KSL_MAX_JOBS + 1;
    r = ksl_stress(&o);
    assert_non_null(strstr(r->error, "--jobs"));
    ksl_result_free(r);
    o.jobs = 1;
    o.run.driver = "no-such-driver";
    r = ksl_stress(&o);
    assert_non_null(strstr(r->error, "unknown driver 'no-such-driver'"));
    ksl_result_free(r);
    /* A stop requested (as a signal handler would): the run returns at once, interrupted. */
    o.run.driver = "ac97";
    ksl_stop(15);
    r = ksl_stress(&o);
    assert_int_equal(r->verdict, KSL_VERDICT_INTERRUPTED);
    assert_int_equal(r->signal, 15);
    assert_int_equal(ksl_result_exit_status(r), 128 + 15);
    ksl_result_free(r);
    ksl_stop_clear();
    assert_int_equal(ksl_stopped(), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reference_clean),
        cmocka_unit_test(test_window_coverage),
        cmocka_unit_test(test_canceller_drains_before_quit),
        cmocka_unit_test(test_scenario_shapes),
        cmocka_unit_test(test_stream_windows),
        cmocka_unit_test(test_broken_caught_and_replayed),
        cmocka_unit_test(test_keep_going),
        cmocka_unit_test(test_play_job),
        cmocka_unit_test(test_refusals_and_stop),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
