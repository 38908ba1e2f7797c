/* SPDX-License-Identifier: MIT */
/*
 * Reading back a result kslab wrote as JSON (ksl_result_read_json, <kslab/result.h>), with
 * jansson: the inverse of result_json.c, for `kslab merge` and for tools that post-process a run.
 * The document is checked as it is read: a missing or mistyped key, an unknown rule or race
 * window, or a number out of range names the key.  Host code.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include <kslab/campaign.h>
#include <kslab/ke.h>
#include <kslab/result.h>
#include <kslab/rules.h>
#include <kslab/windows.h>

#include "../util/reader_error.h"
#include "result_own.h"

typedef struct reader {
    const char *path;
    char *err;
    size_t errlen;
    bool failed;
} reader;

static void bad(reader *rd, const char *fmt, ...)
{
    char where[300];
    snprintf(where, sizeof where, "%s: not a kslab result", rd->path);
    va_list ap;
    va_start(ap, fmt);
    ksl__reader_error(&rd->failed, rd->err, rd->errlen, where, fmt, ap);
    va_end(ap);
}

/* A copy of string `key` of `o`; NULL (no error) when `optional` and absent or null. */
static char *str(reader *rd, json_t *o, const char *key, bool optional)
{
    json_t *v = json_object_get(o, key);
    if ((!v || json_is_null(v)) && optional)
        return NULL;
    if (!json_is_string(v)) {
        bad(rd, "\"%s\" is not a string", key);
        return NULL;
    }
    char *s = strdup(json_string_value(v));
    if (!s)
        bad(rd, "out of memory");
    return s;
}

static uint64_t num(reader *rd, json_t *o, const char *key, uint64_t lo, uint64_t hi)
{
    json_t *v = json_object_get(o, key);
    if (!json_is_integer(v) || json_integer_value(v) < 0 || (uint64_t)json_integer_value(v) < lo ||
        (uint64_t)json_integer_value(v) > hi) {
        bad(rd, "\"%s\" is not an integer in %llu..%llu", key, (unsigned long long)lo, (unsigned long long)hi);
        return lo;
    }
    return (uint64_t)json_integer_value(v);
}

static int64_t snum(reader *rd, json_t *o, const char *key, int64_t lo, int64_t hi)
{
    json_t *v = json_object_get(o, key);
    if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi) {
        bad(rd, "\"%s\" is not an integer in %lld..%lld", key, (long long)lo, (long long)hi);
        return lo;
    }
    return (int64_t)json_integer_value(v);
}

static bool flag(reader *rd, json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    if (!json_is_boolean(v))
        bad(rd, "\"%s\" is not true or false", key);
    return json_is_true(v);
}

static json_t *array(reader *rd, json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    if (!json_is_array(v))
        bad(rd, "\"%s\" is not an array", key);
    return v;
}

static uint64_t hex64(reader *rd, json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    if (!s || strlen(s) != 16 || strspn(s, "0123456789abcdefABCDEF") != 16) {
        bad(rd, "\"%s\" is not 16 hex digits", key);
        return 0;
    }
    return strtoull(s, NULL, 16);
}

static uint8_t irql_of(reader *rd, json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    for (unsigned q = 0; s && q <= 255; q++) {
        char buf[16];
        if (strcmp(ksl_irql_name((uint8_t)q, buf, sizeof buf), s) == 0)
            return (uint8_t)q;
    }
    bad(rd, "\"%s\" is not an IRQL", key);
    return 0;
}

static void read_event(reader *rd, json_t *o, ksl_run_event *e)
{
    e->step = num(rd, o, "step", 0, INT64_MAX);
    e->time_ns = num(rd, o, "time_ns", 0, INT64_MAX);
    e->cpu = (int32_t)snum(rd, o, "cpu", -1, KSL_MAX_CPUS);
    e->irql = irql_of(rd, o, "irql");
    const char *ph = json_string_value(json_object_get(o, "phase"));
    if (!ph || strlen(ph) != 1)
        bad(rd, "an event's \"phase\" is not one letter");
    e->phase = ph ? ph[0] : 'i';
    e->what = str(rd, o, "what", false);
    e->context = str(rd, o, "context", false);
    e->file = str(rd, o, "file", true);
    if (!e->file && !rd->failed && !(e->file = strdup("")))
        bad(rd, "out of memory");
    e->line = json_object_get(o, "line") ? (int)snum(rd, o, "line", 0, INT32_MAX) : 0;
}

static void read_shrink(reader *rd, json_t *o, ksl_shrink_info *s)
{
    json_t *st = json_object_get(o, "steps"), *pr = json_object_get(o, "preemptions");
    if (!json_is_array(st) || json_array_size(st) != 2 || !json_is_array(pr) || json_array_size(pr) != 2) {
        bad(rd, "\"shrunk\" is not {steps: [a, b], preemptions: [a, b], replays}");
        return;
    }
    json_t *v[4] = {json_array_get(st, 0), json_array_get(st, 1), json_array_get(pr, 0), json_array_get(pr, 1)};
    for (int i = 0; i < 4; i++)
        if (!json_is_integer(v[i]) || json_integer_value(v[i]) < 0)
            bad(rd, "\"shrunk\" has a count that is not a non-negative integer");
    s->steps_before = (uint64_t)json_integer_value(v[0]);
    s->steps_after = (uint64_t)json_integer_value(v[1]);
    s->preemptions_before = (uint64_t)json_integer_value(v[2]);
    s->preemptions_after = (uint64_t)json_integer_value(v[3]);
    s->replays = (uint32_t)num(rd, o, "replays", 0, UINT32_MAX);
}

static void read_finding(reader *rd, json_t *o, ksl_result_finding *f)
{
    f->rule = str(rd, o, "rule", false);
    if (f->rule && !ksl_rule_find(f->rule))
        bad(rd, "unknown rule \"%s\" (a result of another kslab version?)", f->rule);
    f->message = str(rd, o, "message", false);
    f->context = str(rd, o, "context", false);
    f->cpu = (int32_t)snum(rd, o, "cpu", -1, KSL_MAX_CPUS);
    f->irql = irql_of(rd, o, "irql");
    f->file = str(rd, o, "file", true);
    f->line = (int)snum(rd, o, "line", 0, INT32_MAX);
    f->function = str(rd, o, "function", true);
    json_t *race = json_object_get(o, "racing");
    if (race && !json_is_null(race)) {
        if (!json_is_object(race)) {
            bad(rd, "\"racing\" is not an object");
            return;
        }
        f->racing_context = str(rd, race, "context", false);
        f->racing_file = str(rd, race, "file", false);
        f->racing_line = (int)snum(rd, race, "line", 0, INT32_MAX);
        f->racing_function = str(rd, race, "function", true);
    }
    f->fingerprint = str(rd, o, "fingerprint", true);
    const char *known = json_string_value(json_object_get(o, "known"));
    f->known = !known ? KSL_KNOWN_NEW
               : strcmp(known, "baseline") == 0   ? KSL_KNOWN_BASELINE
               : strcmp(known, "suppressed") == 0 ? KSL_KNOWN_SUPPRESSED
                                                  : KSL_KNOWN_NEW;
    if (!known || (f->known == KSL_KNOWN_NEW && strcmp(known, "new") != 0))
        bad(rd, "a finding's \"known\" is not new, baseline or suppressed");
    f->justification = str(rd, o, "justification", true);
    f->scenario = str(rd, o, "scenario", false);
    f->seed = num(rd, o, "seed", 0, INT64_MAX);
    f->steps = num(rd, o, "steps", 0, INT64_MAX);
    f->time_ns = num(rd, o, "time_ns", 0, INT64_MAX);
    f->token = str(rd, o, "replay", true);
    read_shrink(rd, json_object_get(o, "shrunk"), &f->shrink);
    if (json_object_get(o, "origin"))
        f->origin = hex64(rd, o, "origin");
    f->detail = str(rd, o, "detail", false);
    json_t *ev = array(rd, o, "events");
    size_t n = json_array_size(ev);
    if (n && !rd->failed && !(f->events = calloc(n, sizeof *f->events)))
        bad(rd, "out of memory");
    for (size_t i = 0; i < n && !rd->failed; i++) {
        read_event(rd, json_array_get(ev, i), &f->events[i]);
        f->nevents = i + 1;
    }
}

static void read_driver(reader *rd, json_t *o, ksl_result_driver *d)
{
    if (!json_is_object(o)) {
        bad(rd, "\"driver_info\" is not an object");
        return;
    }
    d->name = str(rd, o, "name", false);
    d->arg = str(rd, o, "arg", false);
    d->kind = str(rd, o, "kind", false);
    d->description = str(rd, o, "description", false);
    d->device = str(rd, o, "device", false);
    d->plugin = flag(rd, o, "plugin");
    d->hash = hex64(rd, o, "hash");
    d->device_plugin = str(rd, o, "device_plugin", true);
}

static void read_config(reader *rd, json_t *o, ksl_result *r)
{
    if (!json_is_object(o)) {
        bad(rd, "\"config\" is not an object");
        return;
    }
    ksl_config_default(&r->config);
    r->config.cpus = (uint32_t)num(rd, o, "cpus", 1, KSL_MAX_CPUS);
    r->config.seed = num(rd, o, "seed", 0, INT64_MAX);
    const char *st = json_string_value(json_object_get(o, "strategy"));
    const char *engine = json_string_value(json_object_get(o, "engine"));
    if (!st || (strcmp(st, "random") != 0 && strcmp(st, "pct") != 0 && strcmp(st, "replay") != 0))
        bad(rd, "\"strategy\" is not random, pct or replay");
    else
        r->config.strategy = st[0] == 'p' ? KSL_STRATEGY_PCT : st[1] == 'e' ? KSL_STRATEGY_REPLAY : KSL_STRATEGY_RANDOM;
    r->config.pct_depth = (uint32_t)num(rd, o, "pct_depth", 0, 64);
    if (!engine || (strcmp(engine, "deterministic") != 0 && strcmp(engine, "threaded") != 0))
        bad(rd, "\"engine\" is not deterministic or threaded");
    r->threaded = engine && strcmp(engine, "threaded") == 0;
    r->config.engine = r->threaded ? KSL_ENGINE_THREADED : KSL_ENGINE_DETERMINISTIC;
}

static void read_campaign(reader *rd, json_t *o, ksl_result *r)
{
    if (!o)
        return; /* not a campaign */
    r->schedules = num(rd, o, "schedules", 0, KSL_MAX_SCHEDULES);
    r->keep_going = flag(rd, o, "keep_going");
    if (!json_is_null(json_object_get(o, "scenario_file")))
        r->scenario_file = hex64(rd, o, "scenario_file");
    if (!json_is_null(json_object_get(o, "registry")))
        r->registry = hex64(rd, o, "registry");
    r->identity = hex64(rd, o, "identity");
    json_t *sh = json_object_get(o, "shard");
    if (json_is_null(sh))
        return;
    r->shard_count = (uint32_t)num(rd, sh, "count", 1, UINT32_MAX);
    r->shard_index = (uint32_t)num(rd, sh, "index", 1, r->shard_count);
}

static void read_windows(reader *rd, json_t *o, ksl_result *r)
{
    json_t *ws = json_object_get(json_object_get(o, "coverage"), "windows");
    size_t n = json_array_size(ws), ncat;
    const ksl_window *cat = ksl_windows(&ncat);
    if (n && !(r->windows = calloc(n, sizeof *r->windows))) {
        bad(rd, "out of memory");
        return;
    }
    for (size_t i = 0; i < n && !rd->failed; i++) {
        json_t *w = json_array_get(ws, i);
        const char *name = json_string_value(json_object_get(w, "name"));
        size_t k = 0;
        while (name && k < ncat && strcmp(cat[k].name, name) != 0)
            k++;
        if (!name || k == ncat) {
            bad(rd, "unknown race window \"%s\"", name ? name : "?");
            return;
        }
        r->windows[r->nwindows++] = (ksl_result_window){cat[k].name, cat[k].family, num(rd, w, "executions", 0, INT64_MAX),
                                                        num(rd, w, "hits", 0, INT64_MAX)};
    }
}

static void read_counters(reader *rd, json_t *o, ksl_result *r)
{
    json_t *c = json_object_get(o, "counters");
    size_t n = json_object_size(c) + 1;
    if (!json_is_object(c))
        return;
    if (!(r->counters = calloc(n, sizeof *r->counters))) {
        bad(rd, "out of memory");
        return;
    }
    const char *key;
    json_t *v;
    json_object_foreach(c, key, v) {
        if (!json_is_integer(v) || json_integer_value(v) < 0) {
            bad(rd, "counter \"%s\" is not a count", key);
            return;
        }
        if (!(r->counters[r->ncounters].name = strdup(key))) {
            bad(rd, "out of memory");
            return;
        }
        r->counters[r->ncounters++].value = (uint64_t)json_integer_value(v);
    }
    if (json_object_get(o, "trace_hash") && (r->counters[r->ncounters].name = strdup("engine.trace_hash")))
        r->counters[r->ncounters++].value = hex64(rd, o, "trace_hash");
}

static void read_result(reader *rd, json_t *o, ksl_result *r)
{
    if (!json_is_object(o) || !json_is_string(json_object_get(o, "kslab"))) {
        bad(rd, "no \"kslab\" version key");
        return;
    }
    const char *v = json_string_value(json_object_get(o, "result"));
    r->verdict = !v ? KSL_VERDICT_ERROR
                 : strcmp(v, "clean") == 0       ? KSL_VERDICT_CLEAN
                 : strcmp(v, "violation") == 0   ? KSL_VERDICT_FOUND
                 : strcmp(v, "interrupted") == 0 ? KSL_VERDICT_INTERRUPTED
                                                 : KSL_VERDICT_ERROR;
    if (!v || (r->verdict == KSL_VERDICT_ERROR && strcmp(v, "error") != 0))
        bad(rd, "\"result\" is not clean, violation, error or interrupted");
    r->command = str(rd, o, "command", false);
    r->error = str(rd, o, "error", true);
    r->warning = str(rd, o, "warning", true);
    if (r->verdict == KSL_VERDICT_INTERRUPTED)
        r->signal = (int)snum(rd, o, "signal", 0, 127);
    read_driver(rd, json_object_get(o, "driver_info"), &r->driver);
    read_config(rd, json_object_get(o, "config"), r);
    read_campaign(rd, json_object_get(o, "campaign"), r);
    r->executions = num(rd, o, "executions", 0, INT64_MAX);
    r->steps = num(rd, o, "steps", 0, INT64_MAX);
    json_t *wall = json_object_get(o, "wall_s");
    if (!json_is_number(wall))
        bad(rd, "\"wall_s\" is not a number");
    r->wall_s = json_number_value(wall);
    json_t *sc = array(rd, o, "scenarios");
    size_t n = json_array_size(sc);
    if (n && !rd->failed && !(r->scenarios = calloc(n, sizeof *r->scenarios)))
        bad(rd, "out of memory");
    for (size_t i = 0; i < n && !rd->failed; i++) {
        json_t *s = json_array_get(sc, i);
        ksl_result_scenario *x = &r->scenarios[r->nscenarios++];
        x->name = str(rd, s, "name", false);
        x->executions = num(rd, s, "executions", 0, INT64_MAX);
        x->steps = num(rd, s, "steps", 0, INT64_MAX);
        x->found = flag(rd, s, "found");
        x->pct_steps = num(rd, s, "pct_steps", 0, INT64_MAX);
    }
    json_t *fs = array(rd, o, "findings");
    n = json_array_size(fs);
    if (n && !rd->failed && !(r->findings = calloc(n, sizeof *r->findings)))
        bad(rd, "out of memory");
    for (size_t i = 0; i < n && !rd->failed; i++) {
        r->nfindings = i + 1;
        read_finding(rd, json_array_get(fs, i), &r->findings[i]);
    }
    read_windows(rd, o, r);
    read_counters(rd, o, r);
    r->data_check = str(rd, o, "data", true);
}

static ksl_result *read_doc(json_t *doc, const json_error_t *jerr, const char *path, char *err, size_t errlen)
{
    if (!doc) {
        ksl__json_load_error(err, errlen, path, jerr->text, jerr->line);
        return NULL;
    }
    reader rd = {path, err, errlen, false};
    ksl_result *r = calloc(1, sizeof *r);
    if (!r)
        bad(&rd, "out of memory");
    else
        read_result(&rd, doc, r);
    json_decref(doc);
    if (rd.failed) {
        ksl_result_free(r);
        return NULL;
    }
    return r;
}

ksl_result *ksl_result_read_json(const char *path, char *err, size_t errlen)
{
    json_error_t je;
    json_t *doc = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
    return read_doc(doc, &je, path, err, errlen);
}

ksl_result *ksl__result_read_text(const char *text, size_t n, const char *name, char *err, size_t errlen)
{
    json_error_t je;
    json_t *doc = json_loadb(text, n, JSON_REJECT_DUPLICATES, &je);
    return read_doc(doc, &je, name, err, errlen);
}
