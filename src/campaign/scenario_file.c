/* SPDX-License-Identifier: MIT */
/*
 * Scenario files (see scenario_file.h; the format is docs/SCENARIOS.md):
 *
 *   {"kslab-scenarios": 1,
 *    "scenarios": [
 *      {"name": "cancel-in-service", "kind": "wavepci", "summary": "...", "schedules": 2000,
 *       "job": {"direction": "play", "rate": 48000, "channels": 2, "frames": 2880, "irp_ms": 1,
 *               "in_flight": 4, "cancel_every": 1, "pause_every_ms": 0, "stop_after": 0,
 *               "buffer_offset": 4000, "contiguous": false},
 *       "events": {"cancel_aim": "service", "jitter_ns": 20000}}]}
 *
 * Every key is checked: an unknown one is a typo and an error, as is a value out of its range or
 * an event the kind of driver has no use for.  Absent job keys take the defaults of `kslab play`
 * (or `stream`), absent events are off.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include <kslab/rules.h>
#include <kslab/stream.h>
#include <kslab/wavepci.h>

#include "../util/reader_error.h"
#include "job_client.h"
#include "scenario_file.h"

#define FORMAT_VERSION 1
#define NAME_MAX_LEN 40u

typedef struct parse {
    const char *path;
    char *err;
    size_t errlen;
    const char *scenario;     /* the one being read, for messages */
    bool failed;
} parse;

static void bad(parse *p, const char *fmt, ...)
{
    char where[600];
    if (p->scenario)
        snprintf(where, sizeof where, "--scenario-file %s: scenario '%s'", p->path, p->scenario);
    else
        snprintf(where, sizeof where, "--scenario-file %s", p->path);
    va_list ap;
    va_start(ap, fmt);
    ksl__reader_error(&p->failed, p->err, p->errlen, where, fmt, ap);
    va_end(ap);
}

/* Every key of `o` must be one of `keys` (NULL-terminated). */
static void only_keys(parse *p, json_t *o, const char *where, const char *const *keys)
{
    const char *k;
    json_t *v;
    json_object_foreach(o, k, v) {
        size_t i = 0;
        while (keys[i] && strcmp(keys[i], k) != 0)
            i++;
        if (!keys[i])
            bad(p, "unknown key \"%s\" in %s", k, where);
    }
}

/* Number `key` of `o` into *out when present: within [lo, hi]. */
static void number(parse *p, json_t *o, const char *key, uint64_t lo, uint64_t hi, uint64_t *out)
{
    json_t *v = json_object_get(o, key);
    if (!v)
        return;
    if (!json_is_integer(v) || json_integer_value(v) < 0 || (uint64_t)json_integer_value(v) < lo ||
        (uint64_t)json_integer_value(v) > hi) {
        bad(p, "\"%s\" must be an integer %llu..%llu", key, (unsigned long long)lo, (unsigned long long)hi);
        return;
    }
    *out = (uint64_t)json_integer_value(v);
}

static void number32(parse *p, json_t *o, const char *key, uint32_t lo, uint32_t hi, uint32_t *out)
{
    uint64_t v = *out;
    number(p, o, key, lo, hi, &v);
    *out = (uint32_t)v;
}

static void boolean(parse *p, json_t *o, const char *key, bool *out)
{
    json_t *v = json_object_get(o, key);
    if (!v)
        return;
    if (!json_is_boolean(v))
        bad(p, "\"%s\" must be true or false", key);
    *out = json_is_true(v);
}

/* One of `names` (NULL-terminated) for key `key`: its index in *out, when present. */
static void choice(parse *p, json_t *o, const char *key, const char *const *names, const uint8_t *values, uint8_t *out)
{
    json_t *v = json_object_get(o, key);
    if (!v)
        return;
    const char *s = json_string_value(v);
    char list[200] = "";
    for (size_t i = 0; names[i]; i++) {
        if (s && strcmp(s, names[i]) == 0) {
            *out = values[i];
            return;
        }
        snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? ", " : "", names[i]);
    }
    bad(p, "\"%s\" must be one of %s", key, list);
}

static char *text_of(parse *p, json_t *o, const char *key, bool required)
{
    json_t *v = json_object_get(o, key);
    if (!v && !required)
        return NULL;
    if (!json_is_string(v) || !json_string_length(v)) {
        bad(p, "\"%s\" must be a non-empty string", key);
        return NULL;
    }
    char *s = strdup(json_string_value(v));
    if (!s)
        bad(p, "out of memory");
    return s;
}

static bool good_name(const char *s)
{
    size_t n = strlen(s);
    if (!n || n > NAME_MAX_LEN || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= '0' && s[0] <= '9')))
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-' || s[i] == '_' ||
              s[i] == '.'))
            return false;
    return true;
}

static const char *const wp_job_keys[] = {"direction", "rate", "channels", "frames", "irp_ms", "in_flight",
                                          "cancel_every", "pause_every_ms", "stop_after", "buffer_offset",
                                          "contiguous", NULL};
static const char *const st_job_keys[] = {"srbs", "in_flight", "cancel_every", "pause_every_ms", "close_after",
                                          "wait_ms", NULL};
static const char *const wp_event_keys[] = {"cancel_aim", "underrun_every", "duplex", "seeded_format",
                                            "irp_frames_max", "zero_every", "state_walk", "power_cycle",
                                            "query_every_ms", "submitters", "faults", "fault", "jitter_ns",
                                            "timer_jitter_ns", NULL};
static const char *const st_event_keys[] = {"cancel_aim", "query_every_ms", "faults", "fault", "jitter_ns",
                                            "timer_jitter_ns", NULL};
static const char *const wp_aims[] = {"get-mapping", "release", "service", "each", NULL};
static const uint8_t wp_aim_values[] = {KSL_WP_EV_GETMAPPING, KSL_WP_EV_RELEASE, KSL_WP_EV_SERVICE, KSL__AIM_EACH};
static const char *const st_aims[] = {"receive", "low", "each", NULL};
static const uint8_t st_aim_values[] = {KSL_STRM_EV_RECEIVE, KSL_STRM_EV_LOW, KSL__AIM_EACH};
static const char *const walks[] = {"acquire", "stop", NULL};
static const uint8_t walk_values[] = {KSL__WALK_ACQUIRE, KSL__WALK_STOP};
static const char *const directions[] = {"play", "capture", NULL};
static const uint8_t direction_values[] = {KSL_JOB_PLAY, KSL_JOB_CAPTURE};

static void read_job(parse *p, json_t *j, bool stream, ksl_job *job)
{
    ksl_job_default(job, stream ? KSL_JOB_STREAM : KSL_JOB_PLAY);
    if (!j)
        return;
    if (!json_is_object(j)) {
        bad(p, "\"job\" must be an object");
        return;
    }
    only_keys(p, j, "\"job\"", stream ? st_job_keys : wp_job_keys);
    number32(p, j, "in_flight", 1, 64, &job->in_flight);
    number32(p, j, "cancel_every", 0, UINT32_MAX, &job->cancel_every);
    number32(p, j, "pause_every_ms", 0, 3600000, &job->pause_every_ms);
    if (stream) {
        number32(p, j, "srbs", 1, 1000000, &job->srbs);
        number32(p, j, "close_after", 0, 1000000, &job->close_after);
        number32(p, j, "wait_ms", 1, 3600000, &job->wait_ms);
        return;
    }
    uint8_t dir = (uint8_t)job->kind;
    choice(p, j, "direction", directions, direction_values, &dir);
    job->kind = (ksl_job_kind)dir;
    number32(p, j, "rate", 1, 192000, &job->rate);
    number32(p, j, "channels", 1, 8, &job->channels);
    number(p, j, "frames", 1, (uint64_t)job->rate * 3600, &job->frames);
    number32(p, j, "irp_ms", 1, 1000, &job->irp_ms);
    number32(p, j, "stop_after", 0, UINT32_MAX, &job->stop_after);
    number32(p, j, "buffer_offset", 0, 4092, &job->buffer_offset);
    boolean(p, j, "contiguous", &job->contiguous);
    if (job->buffer_offset % 4)
        bad(p, "\"buffer_offset\" must be a multiple of 4");
}

static bool known_fault(const char *name)
{
    size_t n;
    const ksl_fault_info *f = ksl_fault_catalog(&n);
    for (size_t i = 0; i < n; i++)
        if (strcmp(f[i].name, name) == 0)
            return true;
    return false;
}

static void read_events(parse *p, json_t *e, bool stream, audio_shape *s)
{
    memset(s, 0, sizeof *s);
    if (!e)
        return;
    if (!json_is_object(e)) {
        bad(p, "\"events\" must be an object");
        return;
    }
    only_keys(p, e, stream ? "\"events\" (a stream class scenario)" : "\"events\"", stream ? st_event_keys : wp_event_keys);
    choice(p, e, "cancel_aim", stream ? st_aims : wp_aims, stream ? st_aim_values : wp_aim_values, &s->aim);
    number32(p, e, "query_every_ms", 0, 3600000, &s->query_every_ms);
    number32(p, e, "faults", 0, 64, &s->faults);
    number32(p, e, "jitter_ns", 0, KSL_MAX_JITTER_NS, &s->jitter_ns);
    number32(p, e, "timer_jitter_ns", 0, KSL_MAX_JITTER_NS, &s->timer_jitter_ns);
    if (json_object_get(e, "fault")) {
        char *f = text_of(p, e, "fault", true);
        if (f && !known_fault(f))
            bad(p, "\"fault\" '%s' is no fault of the built-in devices (kslab rules lists them)", f);
        s->fault = f;
        if (f && !s->faults)
            bad(p, "\"fault\" needs \"faults\": how many times to show it");
    }
    if (stream)
        return;
    number32(p, e, "underrun_every", 0, 1000000, &s->underrun_every);
    boolean(p, e, "duplex", &s->duplex);
    boolean(p, e, "seeded_format", &s->seeded_format);
    number32(p, e, "irp_frames_max", 0, 192000, &s->irp_frames_max);
    number32(p, e, "zero_every", 0, 1000000, &s->zero_every);
    choice(p, e, "state_walk", walks, walk_values, &s->state_walk);
    boolean(p, e, "power_cycle", &s->power_cycle);
    number32(p, e, "submitters", 1, 2, &s->submitters);
    if (s->submitters == 1)
        s->submitters = 0; /* one client thread: the default */
}

static void read_scenario(parse *p, json_t *o, ksl__scenario *sc)
{
    static const char *const keys[] = {"name", "kind", "summary", "schedules", "job", "events", NULL};
    if (!json_is_object(o)) {
        bad(p, "each scenario must be an object");
        return;
    }
    char *name = text_of(p, o, "name", true);
    sc->name = name;
    if (!name)
        return;
    p->scenario = name;
    if (!good_name(name))
        bad(p, "a name is 1-%u of a-z, 0-9, '-', '_', '.', starting with a letter or digit", NAME_MAX_LEN);
    only_keys(p, o, "a scenario", keys);
    const char *kind = json_string_value(json_object_get(o, "kind"));
    if (!kind || (strcmp(kind, "wavepci") != 0 && strcmp(kind, "stream") != 0)) {
        bad(p, "\"kind\" must be \"wavepci\" or \"stream\"");
        return;
    }
    bool stream = strcmp(kind, "stream") == 0;
    sc->kind = stream ? KSL__SCEN_STREAM : KSL__SCEN_WAVEPCI;
    sc->summary = text_of(p, o, "summary", false);
    number(p, o, "schedules", 1, KSL_MAX_SCHEDULES, &sc->schedules);
    read_job(p, json_object_get(o, "job"), stream, &sc->job);
    read_events(p, json_object_get(o, "events"), stream, &sc->shape);
    char why[300];
    if (!p->failed && ksl_job_check(&sc->job, why, sizeof why) != 0)
        bad(p, "%s", why);
    sc->def_hash = ksl__scenario_hash(sc);
}

uint64_t ksl__scenario_hash(const ksl__scenario *sc)
{
    const ksl_job *j = &sc->job;
    const audio_shape *s = &sc->shape;
    const uint64_t v[] = {(uint64_t)sc->kind, (uint64_t)j->kind, j->rate, j->channels, j->frames, j->irp_ms,
                          j->stop_after, j->buffer_offset, j->contiguous, j->srbs, j->close_after, j->wait_ms,
                          j->in_flight, j->cancel_every, j->pause_every_ms, s->aim, s->underrun_every, s->duplex,
                          s->seeded_format, s->irp_frames_max, s->zero_every, s->state_walk, s->power_cycle,
                          s->query_every_ms, s->submitters, s->faults, s->jitter_ns, s->timer_jitter_ns};
    uint64_t h = KSL__FNV_OFFSET;
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        unsigned char le[8];
        for (int k = 0; k < 8; k++)
            le[k] = (unsigned char)(v[i] >> (8 * k));
        h = ksl__fnv1a(h, le, sizeof le);
    }
    const char *f = s->fault ? s->fault : "";
    h = ksl__fnv1a(h, f, strlen(f) + 1);
    return h ? h : 1;
}

void ksl__scenario_set_free(ksl__scenario_set *set)
{
    for (size_t i = 0; set->list && i < set->n; i++) {
        free((char *)set->list[i].name);
        free((char *)set->list[i].summary);
        free((char *)set->list[i].shape.fault);
    }
    free(set->list);
    memset(set, 0, sizeof *set);
}

static int load_doc(json_t *doc, const json_error_t *jerr, const char *path, ksl__scenario_set *set, char *err,
                    size_t errlen)
{
    if (!doc) {
        char where[600];
        snprintf(where, sizeof where, "--scenario-file %s", path);
        ksl__json_load_error(err, errlen, where, jerr->text, jerr->line);
        return -1;
    }
    parse p = {path, err, errlen, NULL, false};
    static const char *const top[] = {"kslab-scenarios", "scenarios", NULL};
    json_t *ver = json_object_get(doc, "kslab-scenarios"), *a = json_object_get(doc, "scenarios");
    if (!json_is_object(doc) || !json_is_integer(ver) || json_integer_value(ver) != FORMAT_VERSION)
        bad(&p, "not a kslab scenario file (it starts {\"kslab-scenarios\": %d, \"scenarios\": [...]})", FORMAT_VERSION);
    else
        only_keys(&p, doc, "the file", top);
    if (!p.failed && (!json_is_array(a) || !json_array_size(a) || json_array_size(a) > 1000))
        bad(&p, "\"scenarios\" must be an array of 1 to 1000 scenarios");
    size_t n = p.failed ? 0 : json_array_size(a);
    if (n && !(set->list = calloc(n, sizeof *set->list)))
        bad(&p, "out of memory");
    uint64_t h = KSL__FNV_OFFSET;
    for (size_t i = 0; i < n && !p.failed; i++) {
        p.scenario = NULL;
        ksl__scenario *sc = &set->list[set->n++];
        read_scenario(&p, json_array_get(a, i), sc);
        for (size_t k = 0; k + 1 < set->n && !p.failed && sc->name; k++)
            if (set->list[k].kind == sc->kind && strcmp(set->list[k].name, sc->name) == 0)
                bad(&p, "the name is used twice for one kind");
        if (!p.failed) { /* the file's hash: names, definitions and budgets */
            uint8_t le[16];
            for (int k = 0; k < 8; k++) {
                le[k] = (uint8_t)(sc->def_hash >> (8 * k));
                le[8 + k] = (uint8_t)(sc->schedules >> (8 * k));
            }
            h = ksl__fnv1a(h, sc->name, strlen(sc->name) + 1);
            h = ksl__fnv1a(h, le, sizeof le);
        }
    }
    json_decref(doc);
    if (p.failed) {
        ksl__scenario_set_free(set);
        return -1;
    }
    set->hash = h ? h : 1;
    return 0;
}

int ksl__scenario_file_load(const char *path, ksl__scenario_set *set, char *err, size_t errlen)
{
    memset(set, 0, sizeof *set);
    json_error_t je;
    json_t *doc = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
    return load_doc(doc, &je, path, set, err, errlen);
}

int ksl__scenario_text_load(const char *text, size_t n, const char *name, ksl__scenario_set *set, char *err,
                            size_t errlen)
{
    memset(set, 0, sizeof *set);
    json_error_t je;
    json_t *doc = json_loadb(text, n, JSON_REJECT_DUPLICATES, &je);
    return load_doc(doc, &je, name, set, err, errlen);
}

/* ---- writing ----------------------------------------------------------------------------------- */

static void put_u(json_t *o, const char *key, uint64_t v)
{
    json_object_set_new(o, key, json_integer((json_int_t)v));
}

static const char *name_of(const char *const *names, const uint8_t *values, uint8_t v)
{
    for (size_t i = 0; names[i]; i++)
        if (values[i] == v)
            return names[i];
    return "?";
}

static json_t *scenario_json(const ksl__scenario *sc)
{
    bool stream = sc->kind == KSL__SCEN_STREAM;
    const ksl_job *j = &sc->job;
    const audio_shape *s = &sc->shape;
    json_t *o = json_object(), *job = json_object(), *ev = json_object();
    if (!o || !job || !ev) {
        json_decref(o);
        json_decref(job);
        json_decref(ev);
        return NULL;
    }
    json_object_set_new(o, "name", json_string(sc->name));
    json_object_set_new(o, "kind", json_string(stream ? "stream" : "wavepci"));
    if (sc->summary)
        json_object_set_new(o, "summary", json_string(sc->summary));
    if (sc->schedules)
        put_u(o, "schedules", sc->schedules);
    if (stream) {
        put_u(job, "srbs", j->srbs);
    } else {
        json_object_set_new(job, "direction", json_string(j->kind == KSL_JOB_CAPTURE ? "capture" : "play"));
        put_u(job, "rate", j->rate);
        put_u(job, "channels", j->channels);
        put_u(job, "frames", j->frames);
        put_u(job, "irp_ms", j->irp_ms);
    }
    put_u(job, "in_flight", j->in_flight);
    put_u(job, "cancel_every", j->cancel_every);
    put_u(job, "pause_every_ms", j->pause_every_ms);
    if (stream) {
        put_u(job, "close_after", j->close_after);
        put_u(job, "wait_ms", j->wait_ms);
    } else {
        put_u(job, "stop_after", j->stop_after);
        put_u(job, "buffer_offset", j->buffer_offset);
        json_object_set_new(job, "contiguous", json_boolean(j->contiguous));
    }
    json_object_set_new(o, "job", job);
    if (s->aim)
        json_object_set_new(ev, "cancel_aim", json_string(stream ? name_of(st_aims, st_aim_values, s->aim)
                                                                 : name_of(wp_aims, wp_aim_values, s->aim)));
    if (s->underrun_every)
        put_u(ev, "underrun_every", s->underrun_every);
    if (s->duplex)
        json_object_set_new(ev, "duplex", json_true());
    if (s->seeded_format)
        json_object_set_new(ev, "seeded_format", json_true());
    if (s->irp_frames_max)
        put_u(ev, "irp_frames_max", s->irp_frames_max);
    if (s->zero_every)
        put_u(ev, "zero_every", s->zero_every);
    if (s->state_walk)
        json_object_set_new(ev, "state_walk", json_string(name_of(walks, walk_values, s->state_walk)));
    if (s->power_cycle)
        json_object_set_new(ev, "power_cycle", json_true());
    if (s->query_every_ms)
        put_u(ev, "query_every_ms", s->query_every_ms);
    if (s->submitters > 1)
        put_u(ev, "submitters", s->submitters);
    if (s->faults)
        put_u(ev, "faults", s->faults);
    if (s->fault)
        json_object_set_new(ev, "fault", json_string(s->fault));
    if (s->jitter_ns)
        put_u(ev, "jitter_ns", s->jitter_ns);
    if (s->timer_jitter_ns)
        put_u(ev, "timer_jitter_ns", s->timer_jitter_ns);
    if (json_object_size(ev))
        json_object_set_new(o, "events", ev);
    else
        json_decref(ev);
    return o;
}

char *ksl__scenarios_json(const ksl__scenario *list, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < n; i++)
        if (list[i].kind != KSL__SCEN_DEMO)
            json_array_append_new(a, scenario_json(&list[i]));
    json_t *doc = a ? json_pack("{s:i,s:o}", "kslab-scenarios", FORMAT_VERSION, "scenarios", a) : NULL;
    char *s = doc ? json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
    json_decref(doc);
    if (!s)
        return NULL;
    size_t len = strlen(s);
    char *t = realloc(s, len + 2);
    if (!t) {
        free(s);
        return NULL;
    }
    t[len] = '\n';
    t[len + 1] = 0;
    return t;
}
