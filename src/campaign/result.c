/* SPDX-License-Identifier: MIT */
/* Results (see <kslab/result.h> and result.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kslab/result.h>

#include "../util/utf8.h"
#include "result.h"

char *ksl__text(const char *s)
{
    return s ? ksl__utf8_clean(s, strlen(s)) : NULL;
}

ksl_result *ksl__result_new(const char *command)
{
    ksl_result *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->command = ksl__text(command);
    ksl_config_default(&r->config);
    r->driver.name = ksl__text("");
    r->driver.arg = ksl__text("");
    r->driver.kind = ksl__text("");
    r->driver.description = ksl__text("");
    r->driver.device = ksl__text("");
    return r;
}

/* Set *slot to the formatted text unless it is set already. */
static void first_text(char **slot, const char *fmt, va_list ap)
{
    if (*slot)
        return;
    char buf[1024];
    vsnprintf(buf, sizeof buf, fmt, ap);
    *slot = ksl__text(buf);
}

void ksl__result_error(ksl_result *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    first_text(&r->error, fmt, ap);
    va_end(ap);
    r->verdict = KSL_VERDICT_ERROR;
}

void ksl__result_warn(ksl_result *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    first_text(&r->warning, fmt, ap);
    va_end(ap);
}

static void replace(char **dst, const char *s)
{
    free(*dst);
    *dst = ksl__text(s ? s : "");
}

void ksl__result_driver(ksl_result *r, const ksl__driver *d, const char *arg)
{
    replace(&r->driver.name, d->name);
    replace(&r->driver.arg, arg);
    replace(&r->driver.kind, ksl__drv_kind_name(d->kind));
    replace(&r->driver.description, d->description);
    replace(&r->driver.device, d->device);
    r->driver.plugin = d->plugin;
    r->driver.hash = d->hash;
}

static void *grow(void *p, size_t n, size_t size)
{
    /* arrays grow one element at a time; results hold few findings and scenarios */
    void *np = realloc(p, (n + 1) * size);
    if (np)
        memset((char *)np + n * size, 0, size);
    return np;
}

ksl_result_finding *ksl__result_add_finding(ksl_result *r, const ksl__outcome *o, size_t which, const char *scenario,
                                            uint64_t seed)
{
    ksl_result_finding *a = grow(r->findings, r->nfindings, sizeof *a);
    if (!a)
        return NULL;
    r->findings = a;
    ksl_result_finding *f = &a[r->nfindings++];
    const char *file;
    const recorder_entry *ev;
    size_t nev;
    const ksl_finding *k = ksl__outcome_finding(o, which, &file, &ev, &nev);
    f->rule = ksl__text(k->rule);
    f->message = ksl__text(k->message);
    f->context = ksl__text(k->context);
    f->cpu = k->cpu;
    f->irql = k->irql;
    f->file = file ? ksl__text(file) : NULL;
    f->line = file ? k->line : 0;
    if (k->racing_file[0]) {
        f->racing_context = ksl__text(k->racing_context);
        f->racing_file = ksl__text(k->racing_file);
        f->racing_line = k->racing_line;
    }
    ksl__finding_identify(f, r->driver.plugin ? r->driver.arg : NULL);
    f->detail = ksl__text(k->detail);
    ksl__finding_events(f, ev, nev);
    f->scenario = ksl__text(scenario);
    f->seed = seed;
    f->steps = o->steps;
    f->time_ns = k->time_ns;
    f->driver_output = o->driver_output ? ksl__text(o->driver_output) : NULL;
    if (r->verdict == KSL_VERDICT_CLEAN)
        r->verdict = KSL_VERDICT_FOUND;
    return f;
}

bool ksl__result_seen_fingerprint(const ksl_result *r, size_t i)
{
    const char *fp = i < r->nfindings ? r->findings[i].fingerprint : NULL;
    for (size_t k = 0; fp && k < i; k++)
        if (r->findings[k].fingerprint && strcmp(r->findings[k].fingerprint, fp) == 0)
            return true;
    return false;
}

void ksl__finding_events(ksl_result_finding *f, const recorder_entry *ev, size_t n)
{
    if (!n || f->nevents || !(f->events = calloc(n, sizeof *f->events)))
        return;
    for (size_t i = 0; i < n; i++) {
        const recorder_entry *e = &ev[i];
        f->events[i] = (ksl_run_event){e->step, e->time_ns, e->cpu, e->irql, e->phase, e->line,
                                   ksl__text(e->what), ksl__text(e->context), ksl__text(e->file)};
    }
    f->nevents = n;
}

void ksl__result_job(ksl_result *r, ksl__outcome *o)
{
    if (o->ncounters && (r->counters = calloc(o->ncounters, sizeof *r->counters)) != NULL) {
        for (size_t i = 0; i < o->ncounters; i++)
            r->counters[i] = (ksl_counter){ksl__text(o->counters[i].name), o->counters[i].value};
        r->ncounters = o->ncounters;
    }
    if (o->data_msg[0])
        r->data_check = ksl__text(o->data_msg);
    if (o->driver_output)
        r->driver_output = ksl__text(o->driver_output);
    if (o->output) {
        r->output = o->output;
        o->output = NULL;
        r->output_frames = o->output_frames;
        r->output_rate = o->output_rate;
        r->output_channels = o->output_channels;
    }
}

ksl_result_scenario *ksl__result_add_scenario(ksl_result *r, const char *name)
{
    ksl_result_scenario *a = grow(r->scenarios, r->nscenarios, sizeof *a);
    if (!a)
        return NULL;
    r->scenarios = a;
    ksl_result_scenario *s = &a[r->nscenarios++];
    s->name = ksl__text(name);
    return s;
}

