/* SPDX-License-Identifier: MIT */
/* What every kind of run shares (see run.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../util/afile.h"
#include "result.h"
#include "rule_filter.h"
#include "run.h"
#include "worker.h"

void ksl__run_interrupted(ksl__run *run)
{
    run->r->verdict = KSL_VERDICT_INTERRUPTED;
    run->r->signal = ksl_stopped();
}

static int check_config(ksl_result *r, const ksl_config *c)
{
    if (c->cpus < 1 || c->cpus > KSL_MAX_CPUS) {
        ksl__result_error(r, "--cpus %u: must be 1..%u", (unsigned)c->cpus, KSL_MAX_CPUS);
        return -1;
    }
    if (c->strategy == KSL_STRATEGY_PCT && (c->pct_depth < 1 || c->pct_depth > 64)) {
        ksl__result_error(r, "PCT depth %u: must be 1..64", (unsigned)c->pct_depth);
        return -1;
    }
    if (c->engine != KSL_ENGINE_DETERMINISTIC && c->engine != KSL_ENGINE_THREADED) {
        ksl__result_error(r, "unknown engine %d", (int)c->engine);
        return -1;
    }
    return 0;
}

/* Load the plugin in a worker and learn what it is. */
static int probe(ksl__run *run, ksl__drv_kind want)
{
    char err[512];
    ksl__pool_cfg pc = {.driver = run->driver_arg, .device = run->o->device, .want = want, .trace_fd = -1,
                        .registry = &run->registry,
                        .jobs = 1, .timeout_s = run->timeout_s,
                        .step_cpu_s = run->step_cpu_s};
    ksl__pool *pool = ksl__pool_create(&pc, err, sizeof err);
    if (!pool) {
        ksl__result_error(run->r, "%s", err);
        return -1;
    }
    ksl__request rq = {.type = KSL__RQ_PROBE, .scenario = -1};
    ksl__outcome o;
    uint64_t tag;
    int rc = ksl__pool_submit(pool, &rq, 0) == 0 ? ksl__pool_wait(pool, &tag, &o) : -1;
    ksl__pool_destroy(pool);
    if (rc == -2) {
        ksl__run_interrupted(run);
        return -1;
    }
    if (rc != 0) {
        ksl__result_error(run->r, "cannot load driver plugin '%s': the worker process could not be reached",
                          run->driver_arg);
        return -1;
    }
    if (o.rc != 0) {
        ksl__result_error(run->r, "%s", o.rc == 1 ? o.finding.message : o.err);
        ksl__outcome_free(&o);
        return -1;
    }
    run->drv = o.probe;
    run->drv.wavepci = NULL; /* the worker's pointers mean nothing here */
    run->drv.stream = NULL;
    run->drv.plugin = ksl__driver_is_path(run->driver_arg);
    ksl__outcome_free(&o);
    return 0;
}

int ksl__run_begin(ksl__run *run, ksl_result *r, const ksl_run_opts *o, const char *driver_arg, ksl__drv_kind want)
{
    memset(run, 0, sizeof *run);
    run->r = r;
    run->o = o;
    run->driver_arg = driver_arg;
    run->want = want;
    run->timeout_s = o->timeout_s > 0 ? o->timeout_s : KSL__DEFAULT_TIMEOUT_S;
    run->step_cpu_s = o->step_cpu_s > 0 ? o->step_cpu_s : KSL_DEFAULT_STEP_CPU_S * KSL__SANITIZER_SLOWDOWN;
    r->config = o->cfg;
    r->config.choices = NULL;
    r->config.nchoices = 0;
    r->threaded = o->cfg.engine == KSL_ENGINE_THREADED;
    if (o->version != KSL_CAMPAIGN_OPTS_VERSION) {
        ksl__result_error(r, "options of version %u; this kslab has version %u (initialize them with the "
                             "*_opts_default functions)", (unsigned)o->version, KSL_CAMPAIGN_OPTS_VERSION);
        return -1;
    }
    if (!(o->timeout_s >= 0) || o->timeout_s > KSL_MAX_TIMEOUT_S) {
        ksl__result_error(r, "--timeout %g: must be a number of seconds above 0, at most %g", o->timeout_s,
                          KSL_MAX_TIMEOUT_S);
        return -1;
    }
    if (!(o->step_cpu_s >= 0) || o->step_cpu_s > KSL_MAX_TIMEOUT_S) {
        ksl__result_error(r, "--step-cpu %g: must be a number of seconds above 0, at most %g", o->step_cpu_s,
                          KSL_MAX_TIMEOUT_S);
        return -1;
    }
    if (check_config(r, &o->cfg) != 0)
        return -1;
    if (ksl_stopped()) {
        ksl__run_interrupted(run);
        return -1;
    }
    if (!driver_arg) {
        if (o->on_start)
            o->on_start(o->user, r);
        return 0;
    }
    char err[512];
    if (!driver_arg[0]) {
        ksl__result_error(r, "empty --driver (a built-in driver name or a path to a driver plugin .so)");
        return -1;
    }
    if (o->device && ksl__file_hash(o->device, &run->device_hash, err, sizeof err) != 0) {
        ksl__result_error(r, "%s", err);
        return -1;
    }
    if (ksl__driver_is_path(driver_arg) || o->device) {
        if (probe(run, want) != 0)
            return -1;
    }
    if (ksl__driver_is_path(driver_arg)) {
        if (ksl__file_hash(driver_arg, &run->drv.hash, err, sizeof err) != 0) {
            ksl__result_error(r, "%s", err);
            return -1;
        }
    } else if (!o->device && ksl__driver_builtin(driver_arg, &run->drv, err, sizeof err) != 0) {
        ksl__result_error(r, "%s", err);
        return -1;
    }
    ksl__result_driver(r, &run->drv, driver_arg);
    if (o->device) {
        r->driver.device_plugin = ksl__text(o->device);
        r->driver.device_hash = run->device_hash;
    }
    if (want != KSL__DRV_NONE && run->drv.kind != want) {
        if (run->drv.plugin)
            ksl__result_error(r, "plugin '%s' is %s, not %s: run it with %s", driver_arg,
                              ksl__drv_kind_text(run->drv.kind), ksl__drv_kind_text(want),
                              ksl__drv_commands(run->drv.kind));
        else
            ksl__result_error(r, "driver '%s' is %s, not %s: run it with %s", driver_arg,
                              ksl__drv_kind_text(run->drv.kind), ksl__drv_kind_text(want),
                              ksl__drv_commands(run->drv.kind));
        return -1;
    }
    if (o->registry && ksl__registry_file_load(o->registry, &run->registry, err, sizeof err) != 0) {
        ksl__result_error(r, "%s", err);
        return -1;
    }
    if (o->on_start)
        o->on_start(o->user, r);
    return 0;
}

void ksl__run_end(ksl__run *run)
{
    ksl__reg_seed_free(&run->registry);
}

char *ksl__run_token(const ksl__run *run, const char *scenario, const ksl_job *job, const ksl_config *cfg,
                     bool replay, const uint32_t *choices, size_t nchoices, uint64_t input_hash)
{
    ksl_token t;
    memset(&t, 0, sizeof t);
    snprintf(t.scenario, sizeof t.scenario, "%s", scenario);
    if (job)
        t.job = *job;
    snprintf(t.driver, sizeof t.driver, "%s", run->driver_arg ? run->drv.name : "");
    if (run->driver_arg && run->drv.plugin) { /* a hint for messages: the file's name, not its path */
        const char *slash = strrchr(run->driver_arg, '/');
        snprintf(t.driver_file, sizeof t.driver_file, "%s", slash ? slash + 1 : run->driver_arg);
    }
    t.driver_hash = run->drv.plugin ? run->drv.hash : 0;
    if (run->o->device) {
        const char *slash = strrchr(run->o->device, '/');
        snprintf(t.device_file, sizeof t.device_file, "%s", slash ? slash + 1 : run->o->device);
        t.device_hash = run->device_hash;
    }
    t.input_hash = input_hash;
    t.registry_hash = run->registry.hash;
    t.cfg = *cfg;
    t.cfg.choices = NULL;
    t.cfg.nchoices = 0;
    if (replay) {
        t.cfg.strategy = KSL_STRATEGY_REPLAY;
        t.choices = (uint32_t *)(uintptr_t)choices;
        t.nchoices = nchoices;
    }
    return ksl_token_encode(&t);
}

int ksl__run_once(ksl__run *run, const ksl__request *rq, const ksl_pcm *input, bool trace, ksl__outcome *out)
{
    char err[512];
    ksl_afile tf = {.fd = -1};
    bool tracing = trace && run->o->trace_path;
    if (tracing && ksl__afile_open(&tf, run->o->trace_path, err, sizeof err) != 0) {
        ksl__result_error(run->r, "%s", err);
        return -1;
    }
    ksl__pool_cfg pc = {.driver = run->driver_arg, .device = run->o->device, .want = run->want, .input = input,
                        .registry = &run->registry,
                        .trace_fd = tracing ? tf.fd : -1, .jobs = 1, .timeout_s = run->timeout_s,
                        .step_cpu_s = run->step_cpu_s};
    ksl__pool *pool = ksl__pool_create(&pc, err, sizeof err);
    if (!pool) {
        ksl__afile_abort(&tf);
        ksl__result_error(run->r, "%s", err);
        return -1;
    }
    ksl__request q = *rq;
    if (tracing)
        q.flags |= KSL__RQ_TRACE;
    uint64_t tag;
    int rc = ksl__pool_submit(pool, &q, 0) == 0 ? ksl__pool_wait(pool, &tag, out) : -1;
    ksl__pool_destroy(pool); /* the worker is gone: nothing writes the trace any more */
    if (rc != 0) {
        ksl__afile_abort(&tf);
        if (rc == -2)
            ksl__run_interrupted(run);
        else
            ksl__result_error(run->r, "the worker process could not be reached");
        return rc == -2 ? -2 : -1;
    }
    if (!tracing)
        return 0;
    bool finished = out->rc == 0 || (out->rc == 1 && !ksl__rule_unfinished(out->finding.rule));
    if (out->trace_err[0]) {
        ksl__afile_abort(&tf);
        ksl__result_error(run->r, "cannot write the trace '%s': %s", run->o->trace_path, out->trace_err);
    } else if (!finished) {
        ksl__afile_abort(&tf);
        if (out->rc == 1)
            ksl__result_warn(run->r, "no trace written for %s: the run does not finish", out->finding.rule);
    } else if (ksl__afile_commit(&tf, err, sizeof err) != 0) {
        ksl__result_error(run->r, "%s", err);
    }
    return 0;
}

uint64_t ksl__pcm_hash(const ksl_pcm *pcm)
{
    ksl_hash64 h;
    ksl_hash64_init(&h);
    uint64_t shape[2] = {pcm->rate, pcm->channels};
    ksl_hash64_update(&h, shape, sizeof shape);
    ksl_hash64_update(&h, pcm->samples, ksl_pcm_bytes(pcm));
    return ksl_hash64_final(&h);
}
