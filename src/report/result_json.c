/* SPDX-License-Identifier: MIT */
/*
 * A result as JSON (<kslab/report.h>), built with jansson.  The keys are described in
 * docs/ARCHITECTURE.md ("The result").  The first finding's rule, message, scenario, replay
 * token, seed and shrinking are also at the top level, where scripts of earlier versions read
 * them.  What a driver printed is never put in machine-readable output.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kslab/audio.h>
#include <kslab/report.h>
#include <kslab/rules.h>

#include "../util/afile.h"
#include "jsonw.h"

static void set(json_t *o, const char *key, json_t *v)
{
    if (v)
        json_object_set_new(o, key, v);
}

static json_t *hex64(uint64_t v)
{
    char buf[24];
    snprintf(buf, sizeof buf, "%016llx", (unsigned long long)v);
    return json_string(buf);
}

static const char *strategy_name(ksl_strategy_kind k)
{
    return k == KSL_STRATEGY_PCT ? "pct" : k == KSL_STRATEGY_REPLAY ? "replay" : "random";
}

static json_t *event_json(const ksl_run_event *e)
{
    json_t *o = json_object();
    char ib[16], phase[2] = {e->phase, 0};
    set(o, "step", json_integer((json_int_t)e->step));
    set(o, "time_ns", json_integer((json_int_t)e->time_ns));
    set(o, "cpu", json_integer(e->cpu));
    set(o, "irql", ksl__json_str(ksl_irql_name(e->irql, ib, sizeof ib)));
    set(o, "phase", json_string(phase));
    set(o, "what", ksl__json_str(e->what));
    set(o, "context", ksl__json_str(e->context));
    if (e->file && e->file[0]) {
        set(o, "file", ksl__json_str(e->file));
        set(o, "line", json_integer(e->line));
    }
    return o;
}

static json_t *shrink_json(const ksl_shrink_info *s)
{
    return json_pack("{s:[I,I],s:[I,I],s:i}", "steps", (json_int_t)s->steps_before, (json_int_t)s->steps_after,
                     "preemptions", (json_int_t)s->preemptions_before, (json_int_t)s->preemptions_after, "replays",
                     (int)s->replays);
}

static json_t *finding_json(const ksl_result_finding *f)
{
    json_t *o = json_object();
    char ib[16];
    set(o, "rule", ksl__json_str(f->rule));
    set(o, "level", json_string(ksl_rule_level(ksl_rule_find(f->rule))));
    set(o, "message", ksl__json_str(f->message));
    set(o, "context", ksl__json_str(f->context));
    set(o, "cpu", json_integer(f->cpu));
    set(o, "irql", ksl__json_str(ksl_irql_name(f->irql, ib, sizeof ib)));
    set(o, "file", f->file ? ksl__json_str(f->file) : json_null());
    set(o, "line", json_integer(f->line));
    set(o, "function", f->function ? ksl__json_str(f->function) : json_null());
    set(o, "racing",
        f->racing_file ? json_pack("{s:o,s:o,s:i,s:o}", "context", ksl__json_str(f->racing_context), "file",
                                   ksl__json_str(f->racing_file), "line", f->racing_line, "function",
                                   f->racing_function ? ksl__json_str(f->racing_function) : json_null())
                       : json_null());
    set(o, "fingerprint", f->fingerprint ? ksl__json_str(f->fingerprint) : json_null());
    static const char *const known[] = {"new", "baseline", "suppressed"};
    set(o, "known", json_string(known[f->known <= KSL_KNOWN_SUPPRESSED ? f->known : 0]));
    set(o, "justification", f->justification ? ksl__json_str(f->justification) : json_null());
    set(o, "scenario", ksl__json_str(f->scenario));
    set(o, "seed", json_integer((json_int_t)f->seed));
    set(o, "steps", json_integer((json_int_t)f->steps));
    set(o, "time_ns", json_integer((json_int_t)f->time_ns));
    set(o, "replay", f->token ? ksl__json_str(f->token) : json_null());
    set(o, "shrunk", shrink_json(&f->shrink));
    if (f->origin)
        set(o, "origin", hex64(f->origin));
    set(o, "detail", ksl__json_str(f->detail));
    json_t *ev = json_array();
    for (size_t i = 0; ev && i < f->nevents; i++)
        json_array_append_new(ev, event_json(&f->events[i]));
    set(o, "events", ev);
    return o;
}

static json_t *result_json(const ksl_result *r)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    set(o, "kslab", json_string(KSLAB_VERSION));
    set(o, "command", ksl__json_str(r->command));
    set(o, "result", json_string(ksl_verdict_name(r->verdict)));
    if (r->error)
        set(o, "error", ksl__json_str(r->error));
    if (r->warning)
        set(o, "warning", ksl__json_str(r->warning));
    if (r->verdict == KSL_VERDICT_INTERRUPTED)
        set(o, "signal", json_integer(r->signal));
    set(o, "driver", ksl__json_str(r->driver.name));
    set(o, "driver_info",
        json_pack("{s:o,s:o,s:o,s:o,s:o,s:b,s:o,s:o}", "name", ksl__json_str(r->driver.name), "arg",
                  ksl__json_str(r->driver.arg), "kind", ksl__json_str(r->driver.kind), "description",
                  ksl__json_str(r->driver.description), "device", ksl__json_str(r->driver.device), "plugin",
                  r->driver.plugin, "hash", hex64(r->driver.hash), "device_plugin",
                  r->driver.device_plugin ? ksl__json_str(r->driver.device_plugin) : json_null()));
    set(o, "config",
        json_pack("{s:i,s:I,s:s,s:i,s:s}", "cpus", (int)r->config.cpus, "seed", (json_int_t)r->config.seed, "strategy",
                  strategy_name(r->config.strategy), "pct_depth", (int)r->config.pct_depth, "engine",
                  r->threaded ? "threaded" : "deterministic"));
    if (r->command && (strcmp(r->command, "stress") == 0 || strcmp(r->command, "demo") == 0))
        set(o, "campaign",
            json_pack("{s:I,s:b,s:o,s:o,s:o,s:o}", "schedules", (json_int_t)r->schedules, "keep_going",
                      r->keep_going, "shard",
                      r->shard_count ? json_pack("{s:i,s:i}", "index", (int)r->shard_index, "count",
                                                 (int)r->shard_count)
                                     : json_null(),
                      "scenario_file", r->scenario_file ? hex64(r->scenario_file) : json_null(), "registry",
                      r->registry ? hex64(r->registry) : json_null(), "identity", hex64(r->identity)));
    set(o, "executions", json_integer((json_int_t)r->executions));
    set(o, "steps", json_integer((json_int_t)r->steps));
    set(o, "wall_s", json_real(r->wall_s));
    json_t *sc = json_array();
    for (size_t i = 0; sc && i < r->nscenarios; i++) {
        const ksl_result_scenario *s = &r->scenarios[i];
        json_array_append_new(sc, json_pack("{s:o,s:I,s:I,s:b,s:I}", "name", ksl__json_str(s->name), "executions",
                                            (json_int_t)s->executions, "steps", (json_int_t)s->steps, "found",
                                            s->found, "pct_steps", (json_int_t)s->pct_steps));
    }
    set(o, "scenarios", sc);
    json_t *fs = json_array();
    for (size_t i = 0; fs && i < r->nfindings; i++)
        json_array_append_new(fs, finding_json(&r->findings[i]));
    set(o, "findings", fs);
    size_t fresh = 0;
    for (size_t i = 0; i < r->nfindings; i++)
        fresh += r->findings[i].known == KSL_KNOWN_NEW;
    set(o, "new_findings", json_integer((json_int_t)fresh));
    if (r->nfindings) {
        const ksl_result_finding *f = &r->findings[0];
        set(o, "rule", ksl__json_str(f->rule));
        set(o, "message", ksl__json_str(f->message));
        set(o, "scenario", ksl__json_str(f->scenario));
        set(o, "replay", f->token ? ksl__json_str(f->token) : json_string(""));
        set(o, "seed", json_integer((json_int_t)f->seed));
        set(o, "shrunk", shrink_json(&f->shrink));
    } else {
        set(o, "rule", json_string(""));
        set(o, "message", json_string(""));
        set(o, "scenario", ksl__json_str(r->nscenarios == 1 ? r->scenarios[0].name : ""));
        set(o, "replay", json_string(""));
        set(o, "seed", json_null()); /* the same keys as a result with a finding */
        set(o, "shrunk", json_null());
    }
    if (r->ncounters) {
        json_t *c = json_object();
        for (size_t i = 0; c && i < r->ncounters; i++)
            if (strcmp(r->counters[i].name, "engine.trace_hash") != 0) /* a hash, not a count: trace_hash */
                set(c, r->counters[i].name, json_integer((json_int_t)r->counters[i].value));
        set(o, "counters", c);
        uint64_t th = ksl_result_counter(r, "engine.trace_hash", 0);
        set(o, "trace_hash", hex64(th));
    }
    if (r->data_check)
        set(o, "data", ksl__json_str(r->data_check));
    if (r->nwindows) {
        json_t *ws = json_array();
        for (size_t i = 0; ws && i < r->nwindows; i++) {
            const ksl_result_window *w = &r->windows[i];
            json_array_append_new(ws, json_pack("{s:s,s:s,s:b,s:I,s:I}", "name", w->name, "family", w->family,
                                                "reached", w->executions > 0, "executions",
                                                (json_int_t)w->executions, "hits", (json_int_t)w->hits));
        }
        set(o, "coverage", json_pack("{s:o}", "windows", ws));
    }
    return o;
}

char *ksl_result_json(const ksl_result *r)
{
    json_t *o = result_json(r);
    if (!o)
        return NULL;
    char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    if (!s)
        return NULL;
    size_t n = strlen(s);
    char *t = realloc(s, n + 2);
    if (!t) {
        free(s);
        return NULL;
    }
    t[n] = '\n';
    t[n + 1] = 0;
    return t;
}

int ksl_write_json(const ksl_result *r, const char *path, char *err, size_t errlen)
{
    char *s = ksl_result_json(r);
    if (!s) {
        snprintf(err, errlen, "cannot write '%s': out of memory", path);
        return -1;
    }
    int rc = ksl__write_file(path, s, strlen(s), err, errlen);
    free(s);
    return rc;
}

int ksl_write_stream(FILE *f, const char *what, const void *data, size_t len, char *err, size_t errlen)
{
    if ((len && fwrite(data, 1, len, f) != len) || fflush(f) != 0 || ferror(f)) {
        snprintf(err, errlen, "cannot write %s: %s", what, strerror(errno ? errno : EIO));
        clearerr(f);
        return -1;
    }
    return 0;
}

int ksl_check_output_path(const char *path, char *err, size_t errlen)
{
    return ksl__check_output_path(path, err, errlen);
}

int ksl_write_wav(const ksl_result *r, const char *path, char *err, size_t errlen)
{
    if (!r->output) {
        snprintf(err, errlen, "cannot write '%s': the run kept no audio", path);
        return -1;
    }
    ksl_pcm pcm = {r->output_rate, r->output_channels, (size_t)r->output_frames, r->output};
    return ksl_wav_write(path, &pcm, err, errlen);
}
