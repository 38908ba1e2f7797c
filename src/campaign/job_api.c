/* SPDX-License-Identifier: MIT */
/* One job (ksl_run_job) and the replay of a token (ksl_replay): see <kslab/campaign.h>. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <kslab/token.h>

#include "result.h"
#include "rule_filter.h"
#include "run.h"
#include "scenario_file.h"
#include "scenarios.h"

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static const char *job_command(ksl_job_kind k)
{
    return k == KSL_JOB_PLAY ? "play" : k == KSL_JOB_CAPTURE ? "capture" : "stream";
}

static ksl__drv_kind job_driver_kind(ksl_job_kind k)
{
    return k == KSL_JOB_STREAM ? KSL__DRV_STREAM : KSL__DRV_WAVEPCI;
}

/* A long job may take longer than the default timeout: 20 s plus a second of wall time for
 * every 10 s of audio or 10 000 SRBs (10 s of frames), which covers sanitizer builds. */
static double default_timeout(const ksl_job *j)
{
    double extra = j->kind == KSL_JOB_STREAM ? (double)j->srbs / 10000.0
                                             : (double)j->frames / (j->rate ? j->rate : 1) / 10.0;
    return KSL__DEFAULT_TIMEOUT_S + extra;
}

void ksl_job_opts_default(ksl_job_opts *o, ksl_job_kind kind)
{
    memset(o, 0, sizeof *o);
    ksl_run_opts_default(&o->run);
    ksl_job_default(&o->job, kind);
}

void ksl_replay_opts_default(ksl_replay_opts *o)
{
    memset(o, 0, sizeof *o);
    ksl_run_opts_default(&o->run);
}

/* The events of the findings f[0..n) of `out`, when its run did not record them: those of one
 * more run that records them (recording costs time, so a clean run never pays for it). */
static void finding_events(ksl__run *run, const ksl__request *rq, const ksl_pcm *input, ksl_result_finding *f,
                           size_t n, const ksl__outcome *out)
{
    if (out->nevents || rq->cfg.engine != KSL_ENGINE_DETERMINISTIC || ksl__rule_unfinished(out->finding.rule))
        return;
    ksl__request rec = *rq;
    rec.flags = (rq->flags & ~(uint32_t)KSL__RQ_KEEP_OUTPUT) | KSL__RQ_RECORD;
    ksl__outcome o;
    if (ksl__run_once(run, &rec, input, false, &o) != 0)
        return;
    for (size_t k = 0; k < n && k < ksl__outcome_nfindings(&o); k++) {
        const char *file;
        const recorder_entry *ev;
        size_t nev;
        const ksl_finding *got = ksl__outcome_finding(&o, k, &file, &ev, &nev);
        if (strcmp(got->rule, f[k].rule) == 0)
            ksl__finding_events(&f[k], ev, nev);
    }
    ksl__outcome_free(&o);
}

/* Run `rq` once and put its outcome in the result: the job's counters, and its finding with a
 * token (`token`, or one made for `scenario`/`job` when NULL). */
static void run_and_report(ksl__run *run, ksl__request *rq, const ksl_pcm *input, const char *what,
                           const char *scenario, const ksl_job *job, uint64_t input_hash, const char *token)
{
    ksl_result *r = run->r;
    ksl__outcome out;
    if (run->o->trace_path)
        rq->flags |= KSL__RQ_RECORD; /* the trace's recorder keeps the last events too */
    if (ksl__run_once(run, rq, input, true, &out) != 0)
        return;
    if (out.rc == 2 || out.rc == -1) {
        ksl__result_error(r, "%s", out.err);
        ksl__outcome_free(&out);
        return;
    }
    ksl__result_job(r, &out);
    r->executions = 1;
    r->steps = out.steps;
    ksl_result_scenario *rs = ksl__result_add_scenario(r, what);
    if (rs) {
        rs->executions = 1;
        rs->steps = out.steps;
        rs->found = out.rc == 1;
    }
    /* Every finding of the run, each with the run's token. */
    size_t first = r->nfindings, n = ksl__outcome_nfindings(&out);
    for (size_t k = 0; k < n; k++) {
        ksl_result_finding *f = ksl__result_add_finding(r, &out, k, what, rq->cfg.seed);
        if (!f) {
            ksl__result_error(r, "out of memory");
            break;
        }
        f->shrink = (ksl_shrink_info){out.steps, out.steps, 0, 0, 0};
        if (token)
            f->token = strdup(token);
        else if (rq->cfg.engine == KSL_ENGINE_DETERMINISTIC)
            f->token = ksl__run_token(run, scenario, job, &rq->cfg, false, NULL, 0, input_hash);
    }
    if (r->nfindings > first)
        finding_events(run, rq, input, r->findings + first, r->nfindings - first, &out);
    for (size_t k = first; k < r->nfindings && run->o->on_finding; k++)
        run->o->on_finding(run->o->user, &r->findings[k]);
    ksl__outcome_free(&out);
}

ksl_result *ksl_run_job(const ksl_job_opts *o)
{
    ksl_result *r = ksl__result_new(job_command(o->job.kind));
    if (!r)
        return NULL;
    double t0 = now_s();
    ksl_job job = o->job;
    char err[256];
    if (o->input) {
        if (!o->input->samples || !o->input->frames || !o->input->channels) {
            ksl__result_error(r, "the input holds no audio");
            return r;
        }
        job.rate = o->input->rate;
        job.channels = o->input->channels;
        job.frames = o->input->frames;
    }
    if (job.kind == KSL_JOB_STREAM && o->input) {
        ksl__result_error(r, "a stream job takes no audio input");
        return r;
    }
    if (ksl_job_check(&job, err, sizeof err) != 0) {
        ksl__result_error(r, "%s", err);
        return r;
    }
    ksl_run_opts ro = o->run;
    if (ro.timeout_s == 0)
        ro.timeout_s = default_timeout(&job);
    ksl__run run;
    if (!o->run.driver) {
        ksl__result_error(r, "name a driver (a built-in name or a plugin path)");
        return r;
    }
    if (ksl__run_begin(&run, r, &ro, o->run.driver, job_driver_kind(job.kind)) == 0) {
        uint64_t input_hash = o->input ? ksl__pcm_hash(o->input) : 0;
        ksl__request rq = {.type = KSL__RQ_EXEC, .scenario = -1, .job = job, .cfg = o->run.cfg};
        rq.cfg.choices = NULL;
        rq.cfg.nchoices = 0;
        rq.flags = (o->keep_output ? KSL__RQ_KEEP_OUTPUT : 0) | (o->input ? KSL__RQ_INPUT : 0);
        char scenario[32];
        snprintf(scenario, sizeof scenario, "job/%s", job_command(job.kind));
        run_and_report(&run, &rq, o->input, job_command(job.kind), scenario, &job, input_hash, NULL);
    }
    ksl__run_end(&run);
    r->wall_s = now_s() - t0;
    return r;
}

/* What a token names: a scenario (index into the list) or a job. */
static int token_target(const ksl_token *t, ksl_result *r, int32_t *scenario, ksl_job *job, ksl__drv_kind *kind,
                        bool *demo)
{
    *scenario = -1;
    *demo = false;
    if (strncmp(t->scenario, "job/", 4) == 0) {
        const char *k = t->scenario + 4;
        ksl_job_kind jk = strcmp(k, "play") == 0 ? KSL_JOB_PLAY : strcmp(k, "capture") == 0 ? KSL_JOB_CAPTURE
                          : strcmp(k, "stream") == 0 ? KSL_JOB_STREAM : (ksl_job_kind)0;
        if (!jk || jk != t->job.kind) {
            ksl__result_error(r, "this kslab has no job '%s'", t->scenario);
            return -1;
        }
        *job = t->job;
        *kind = job_driver_kind(jk);
        return 0;
    }
    static const ksl__scen_kind kinds[] = {KSL__SCEN_WAVEPCI, KSL__SCEN_STREAM, KSL__SCEN_DEMO};
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        const char *prefix = ksl__scen_prefix(kinds[i]);
        if (strncmp(t->scenario, prefix, strlen(prefix)) != 0)
            continue;
        const ksl__scenario *sc = ksl__scenario_find(kinds[i], t->scenario + strlen(prefix));
        if (!sc)
            break;
        size_t n;
        *scenario = (int32_t)(sc - ksl__scenario_list(&n));
        *job = sc->job;
        *kind = kinds[i] == KSL__SCEN_STREAM ? KSL__DRV_STREAM : kinds[i] == KSL__SCEN_WAVEPCI ? KSL__DRV_WAVEPCI
                                                                                                : KSL__DRV_NONE;
        *demo = kinds[i] == KSL__SCEN_DEMO;
        return 0;
    }
    ksl__result_error(r, "this build has no scenario '%s'", t->scenario);
    return -1;
}

ksl_result *ksl_replay(const char *text, const ksl_replay_opts *o)
{
    ksl_result *r = ksl__result_new("replay");
    if (!r)
        return NULL;
    double t0 = now_s();
    ksl_token t;
    char err[512];
    if (ksl_token_decode(text, &t, err, sizeof err) != 0) {
        ksl__result_error(r, "%s", err);
        return r;
    }
    int32_t scenario;
    ksl_job job;
    ksl__drv_kind kind;
    bool demo;
    /* A scenario of a scenario file: the token has its definition's hash, the file is named again. */
    ksl__scenario_set file;
    memset(&file, 0, sizeof file);
    bool from_file = strncmp(t.scenario, "job/", 4) != 0 && t.input_hash;
    if (from_file && !o->scenario_file) {
        ksl__result_error(r, "this token was made with the scenario '%s' of a scenario file; a token never loads a "
                             "file by itself: give it again with kslab replay TOKEN --scenario-file FILE",
                          t.scenario);
        goto out;
    }
    if (from_file) {
        if (ksl__scenario_file_load(o->scenario_file, &file, err, sizeof err) != 0) {
            ksl__result_error(r, "%s", err);
            goto out;
        }
        ksl__scenarios_use(file.list, file.n);
    } else if (o->scenario_file) {
        ksl__result_warn(r, "the token's scenario %s is not from a scenario file: --scenario-file %s is not used",
                         t.scenario, o->scenario_file);
    }
    const char *slash = strchr(t.scenario, '/');
    if (from_file && (!slash || !ksl__scenario_find(strncmp(t.scenario, "stream/", 7) == 0 ? KSL__SCEN_STREAM
                                                                                          : KSL__SCEN_WAVEPCI,
                                                    slash + 1))) {
        ksl__result_error(r, "the scenario file %s has no scenario '%s' (the token's)", o->scenario_file, t.scenario);
        goto out;
    }
    if (token_target(&t, r, &scenario, &job, &kind, &demo) != 0)
        goto out;
    if (from_file) {
        size_t n;
        const ksl__scenario *sc = &ksl__scenario_list(&n)[scenario];
        if (sc->def_hash != t.input_hash) {
            ksl__result_error(r, "scenario '%s' of %s is not the one the token was made with (its definition "
                                 "changed: hash %016llx, the token's %016llx)",
                              sc->name, o->scenario_file, (unsigned long long)sc->def_hash,
                              (unsigned long long)t.input_hash);
            goto out;
        }
    }
    const char *driver_arg = NULL;
    if (!demo) {
        if (t.driver_hash && !o->run.driver) {
            ksl__result_error(r,
                              "this token was made with the driver plugin '%s' (driver '%s'); a token never loads a "
                              "file by itself: name the plugin with kslab replay TOKEN --driver PATH",
                              t.driver_file, t.driver);
            goto out;
        }
        driver_arg = o->run.driver ? o->run.driver : t.driver;
    }
    if (t.device_hash && !o->run.device) {
        ksl__result_error(r,
                          "this token was made with the device plugin '%s'; a token never loads a file by itself: "
                          "name it with kslab replay TOKEN --device PATH",
                          t.device_file);
        goto out;
    }
    if (t.input_hash && !o->input && scenario < 0) {
        ksl__result_error(r, "this token was made with an input file (hash %016llx): give it again with "
                             "kslab replay TOKEN --input FILE", (unsigned long long)t.input_hash);
        goto out;
    }
    ksl_run_opts ro = o->run;
    ro.cfg = t.cfg;
    if (ro.timeout_s == 0 && !demo && scenario < 0)
        ro.timeout_s = default_timeout(&job);
    if (t.registry_hash && !o->run.registry) {
        ksl__result_error(r, "this token was made with a registry file (--registry, hash %016llx); a token never "
                             "loads a file by itself: give it again with kslab replay TOKEN --registry FILE",
                          (unsigned long long)t.registry_hash);
        goto out;
    }
    ksl__run run;
    if (ksl__run_begin(&run, r, &ro, driver_arg, kind) != 0) {
        ksl__run_end(&run);
        goto out;
    }
    if (run.registry.hash != t.registry_hash) {
        ksl__result_error(r, "--registry %s is not the registry the token was made with (hash %016llx; the token's "
                             "%016llx)", o->run.registry, (unsigned long long)run.registry.hash,
                          (unsigned long long)t.registry_hash);
        ksl__run_end(&run);
        goto out;
    }
    if (!demo && run.drv.plugin && run.drv.hash != t.driver_hash)
        ksl__result_warn(r,
             "the driver plugin '%s' is not the file the token was made with (hash %016llx; the token's, from '%s', is "
             "%016llx): the replay may not reproduce",
             driver_arg, (unsigned long long)run.drv.hash, t.driver_file[0] ? t.driver_file : "a built-in driver",
             (unsigned long long)t.driver_hash);
    else if (!demo && strcmp(run.drv.name, t.driver) != 0)
        ksl__result_warn(r, "the driver '%s' is not the one the token was made with ('%s'): the replay may not reproduce",
             run.drv.name, t.driver);
    if (o->run.device && run.device_hash != t.device_hash)
        ksl__result_warn(r,
                         "the device plugin '%s' is not the file the token was made with (hash %016llx; the token's, "
                         "from '%s', is %016llx): the replay may not reproduce",
                         o->run.device, (unsigned long long)run.device_hash,
                         t.device_file[0] ? t.device_file : "a built-in model", (unsigned long long)t.device_hash);
    if (o->input && scenario < 0 && t.input_hash && ksl__pcm_hash(o->input) != t.input_hash)
        ksl__result_warn(r, "the input is not the one the token was made with (hash %016llx; the token's is %016llx): the "
                "replay may not reproduce", (unsigned long long)ksl__pcm_hash(o->input),
             (unsigned long long)t.input_hash);
    if (o->input && scenario < 0) {
        job.rate = o->input->rate;
        job.channels = o->input->channels;
        job.frames = o->input->frames;
    }
    ksl__request rq = {.type = KSL__RQ_EXEC, .scenario = scenario, .job = job, .cfg = t.cfg};
    rq.flags = o->input && scenario < 0 ? KSL__RQ_INPUT : 0;
    r->config = t.cfg;
    r->config.choices = NULL;
    r->config.nchoices = 0;
    const char *name = strchr(t.scenario, '/') + 1;
    run_and_report(&run, &rq, o->input, name, t.scenario, &job, t.input_hash, text);
    ksl__run_end(&run);
out:
    ksl_token_free(&t);
    ksl__scenarios_use(NULL, 0);
    ksl__scenario_set_free(&file);
    r->wall_s = now_s() - t0;
    return r;
}

char *ksl_scenario_file_text(const char *path, char *err, size_t errlen)
{
    ksl__scenario_set file;
    size_t n;
    const ksl__scenario *list;
    if (path) {
        if (ksl__scenario_file_load(path, &file, err, errlen) != 0)
            return NULL;
        list = file.list;
        n = file.n;
    } else {
        memset(&file, 0, sizeof file);
        list = ksl__scenario_list(&n);
    }
    char *s = ksl__scenarios_json(list, n);
    ksl__scenario_set_free(&file);
    if (!s)
        snprintf(err, errlen, "out of memory");
    return s;
}
