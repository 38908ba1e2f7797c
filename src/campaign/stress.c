/* SPDX-License-Identifier: MIT */
/*
 * A campaign: ksl_stress (<kslab/campaign.h>), `kslab stress` and `kslab demo`.
 *
 * Each scenario of the driver's kind is explored with executions of seeds S, S+1, ... handed to
 * the workers in increasing order.  With several workers the verdict is still that of one: the
 * finding reported is that of the lowest seed that has one (no seed above a found one is started,
 * every lower one is waited for), and the counts are counted up to that seed.  Memory stays flat
 * in the number of executions: only a window of the seeds in flight or finished out of order is
 * kept.  The finding is shrunk, its token made, and one more execution of it records the events
 * leading to it (and the trace file, when asked).
 *
 * Shards.  Shard I of N runs the seeds S + I - 1 + k * N: its executions are numbered k = 0, 1, ...
 * (the "index" below) and everything else is done as in the whole campaign, so that the shards
 * together run exactly what one would and ksl_result_merge can put their results together.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <kslab/windows.h>

#include "../report/result_own.h"
#include "../util/reader_error.h"
#include "known.h"
#include "rule_filter.h"
#include "result.h"
#include "run.h"
#include "scenario_file.h"
#include "scenarios.h"
#include "shrink.h"
#include "worker.h"

/* Seeds handed out but not yet counted (in flight, or done ahead of a lower one still running):
 * at most this many; the steps of each are kept in a ring of that size. */
#define WINDOW 4096u
#define PROGRESS_S 0.25

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

void ksl_stress_opts_default(ksl_stress_opts *o)
{
    memset(o, 0, sizeof *o);
    ksl_run_opts_default(&o->run);
    o->schedules = 1000;
    o->jobs = 1;
    o->shrink = true;
}

/* Counting executions of one scenario in seed order, in constant memory. */
typedef struct window {
    uint64_t prefix;          /* indices [0, prefix) are all done */
    uint64_t prefix_steps;    /* and took this many steps in all */
    uint64_t prefix_hits[KSL_WIN_COUNT], prefix_reached[KSL_WIN_COUNT]; /* race windows, likewise */
    uint64_t steps[WINDOW];   /* steps of index i at i % WINDOW, for i in [prefix - WINDOW, next) */
    uint32_t hits[WINDOW][KSL_WIN_COUNT]; /* its race-window counts, likewise */
    uint8_t done[WINDOW];     /* index i >= prefix done */
} window;

/* The race-window counts an execution sent back (its "window.NAME" counters). */
static void outcome_windows(const ksl__outcome *o, uint32_t hits[KSL_WIN_COUNT])
{
    size_t nw;
    const ksl_window *cat = ksl_windows(&nw);
    memset(hits, 0, KSL_WIN_COUNT * sizeof *hits);
    for (size_t i = 0; i < o->ncounters; i++) {
        if (strncmp(o->counters[i].name, "window.", 7) != 0)
            continue;
        for (size_t k = 0; k < nw && k < KSL_WIN_COUNT; k++)
            if (strcmp(o->counters[i].name + 7, cat[k].name) == 0)
                hits[k] = (uint32_t)o->counters[i].value;
    }
}

static void window_done(window *w, uint64_t index, const ksl__outcome *o)
{
    w->steps[index % WINDOW] = o->steps;
    outcome_windows(o, w->hits[index % WINDOW]);
    w->done[index % WINDOW] = 1;
    while (w->done[w->prefix % WINDOW]) {
        uint64_t at = w->prefix % WINDOW;
        w->done[at] = 0;
        w->prefix_steps += w->steps[at];
        for (int k = 0; k < KSL_WIN_COUNT; k++) {
            w->prefix_hits[k] += w->hits[at][k];
            w->prefix_reached[k] += w->hits[at][k] != 0;
        }
        w->prefix++;
    }
}

/* Steps (and race-window counts) of indices [0, upto), once every one of them is done (upto <=
 * prefix). */
static uint64_t window_steps(const window *w, uint64_t upto, uint64_t hits[KSL_WIN_COUNT],
                             uint64_t reached[KSL_WIN_COUNT])
{
    uint64_t s = w->prefix_steps;
    memcpy(hits, w->prefix_hits, sizeof w->prefix_hits);
    memcpy(reached, w->prefix_reached, sizeof w->prefix_reached);
    for (uint64_t i = upto; i < w->prefix; i++) {
        s -= w->steps[i % WINDOW];
        for (int k = 0; k < KSL_WIN_COUNT; k++) {
            hits[k] -= w->hits[i % WINDOW][k];
            reached[k] -= w->hits[i % WINDOW][k] != 0;
        }
    }
    return s;
}

typedef struct found {
    bool any;
    uint64_t index;
    ksl__outcome out;
} found;

/* keep_going: the distinct findings of a scenario, each with the lowest seed that has it.  Two
 * outcomes are the same finding when their first findings have the same rule at the same call
 * site (their `origin`).  Each is then shrunk and reported in seed order, but for one whose first
 * finding has the fingerprint of one reported before (the same rule in the same function): a
 * repeat.  A shard reports the repeats too, for ksl_result_merge to drop in the order of the
 * whole campaign. */
#define MAX_DISTINCT 64u
typedef struct distinct {
    found f[MAX_DISTINCT];
    uint32_t n;
    bool full;                /* more distinct ones than MAX_DISTINCT were seen */
} distinct;

static bool same_finding(const ksl__outcome *a, const ksl__outcome *b)
{
    return strcmp(a->finding.rule, b->finding.rule) == 0 && a->finding.line == b->finding.line &&
           strcmp(a->file, b->file) == 0;
}

/* Keep `out` (taking it) when it is a new finding or a lower seed of a known one; else free it.
 * Whether it is a new one. */
static bool distinct_add(distinct *d, uint64_t tag, ksl__outcome *out)
{
    for (uint32_t i = 0; i < d->n; i++) {
        if (!same_finding(&d->f[i].out, out))
            continue;
        if (tag < d->f[i].index) {
            ksl__outcome_free(&d->f[i].out);
            d->f[i].index = tag;
            d->f[i].out = *out;
        } else {
            ksl__outcome_free(out);
        }
        return false;
    }
    if (d->n == MAX_DISTINCT) {
        /* Keep the MAX_DISTINCT findings of the lowest seeds, whatever order the workers finish
         * in: a lower seed takes the place of the highest one kept. */
        d->full = true;
        uint32_t hi = 0;
        for (uint32_t i = 1; i < d->n; i++)
            if (d->f[i].index > d->f[hi].index)
                hi = i;
        if (tag > d->f[hi].index) {
            ksl__outcome_free(out);
            return false;
        }
        ksl__outcome_free(&d->f[hi].out);
        d->f[hi] = (found){true, tag, *out};
        return true;
    }
    d->f[d->n++] = (found){true, tag, *out};
    return true;
}

typedef struct explored {
    uint64_t executions, steps;
    uint64_t hits[KSL_WIN_COUNT], reached[KSL_WIN_COUNT]; /* race windows */
    bool interrupted;
    char fatal[600];          /* the scenario cannot run at all (the driver does not start...) */
    uint64_t fatal_index;     /* the lowest seed index that said so (UINT64_MAX: none, or no seed) */
} explored;

typedef struct campaign {
    ksl__run run;
    const ksl_stress_opts *o;
    ksl__pool *pool;
    double t0;
    double last_progress;
    uint64_t total_executions, total_steps; /* of the scenarios before this one */
    uint32_t reported;        /* keep_going: distinct findings reported so far */
    uint64_t planned;         /* executions planned in all (0: bounded by time) */
    ksl__rules rules;         /* which rules count (ksl_stress_opts.rules) */
    uint64_t shard_first, shard_step; /* index k runs seed index shard_first + k * shard_step */
    const char *family;       /* the race windows counted ("wavepci", "stream"); NULL: none */
    uint64_t reached[KSL_WIN_COUNT]; /* executions of the scenarios done that reached each window */
} campaign;

/* The seed of execution `index` of this campaign's shard. */
static uint64_t seed_of(const campaign *c, const ksl__request *base, uint64_t index)
{
    return base->cfg.seed + c->shard_first + index * c->shard_step;
}

/* How many of the seed indices [0, schedules) are this shard's. */
static uint64_t shard_share(const campaign *c, uint64_t schedules)
{
    return schedules > c->shard_first ? (schedules - c->shard_first + c->shard_step - 1) / c->shard_step : 0;
}

/* Whether an outcome with findings has one the campaign counts (rule_filter.h). */
static bool counts(const campaign *c, const ksl__outcome *o)
{
    for (size_t k = 0; k < ksl__outcome_nfindings(o); k++) {
        const char *file;
        const recorder_entry *ev;
        size_t nev;
        const ksl_finding *f = ksl__outcome_finding(o, k, &file, &ev, &nev);
        if (ksl__rules_counts(&c->rules, f->rule, f->ended_run))
            return true;
    }
    return false;
}

static void progress(campaign *c, const char *scenario, const window *w, bool any)
{
    const ksl_run_opts *ro = &c->o->run;
    double t = now_s();
    if (!ro->progress || t - c->last_progress < PROGRESS_S)
        return;
    c->last_progress = t;
    ksl_progress p = {scenario, c->total_executions + w->prefix, c->total_steps + w->prefix_steps,
                      (uint64_t)c->run.r->nfindings + any, t - c->t0, c->planned, 0, 0};
    size_t nw;
    const ksl_window *cat = ksl_windows(&nw);
    for (size_t k = 0; c->family && k < nw && k < KSL_WIN_COUNT; k++) {
        if (strcmp(cat[k].family, c->family) != 0)
            continue;
        p.windows_total++;
        p.windows_reached += c->reached[k] + w->prefix_reached[k] > 0;
    }
    ro->progress(ro->user, &p);
}

/* Tell the caller at once of a finding not seen in the scenario before (ksl_found_fn). */
static void found_now(const campaign *c, const ksl__request *base, const char *scenario, uint64_t index,
                      const ksl__outcome *o)
{
    if (c->o->run.on_found)
        c->o->run.on_found(c->o->run.user, scenario, o->finding.rule, seed_of(c, base, index),
                           o->file[0] ? o->file : NULL, o->finding.line);
}

/* PCT spreads its priority change points over its estimate k of the run length: measure the
 * scenario's length with one random execution of the first seed. */
static uint64_t pct_length(campaign *c, const ksl__request *base)
{
    ksl__request rq = *base;
    rq.flags = KSL__RQ_RANDOM;
    uint64_t tag;
    ksl__outcome o;
    if (ksl__pool_submit(c->pool, &rq, 0) != 0 || ksl__pool_wait(c->pool, &tag, &o) != 0)
        return 0;
    uint64_t k = o.steps ? o.steps : 1;
    ksl__outcome_free(&o);
    return k;
}

static void explore(campaign *c, const ksl__request *base, const char *name, uint64_t limit, double deadline,
                    found *f, distinct *all, explored *ex)
{
    window *w = calloc(1, sizeof *w);
    if (!w) {
        snprintf(ex->fatal, sizeof ex->fatal, "out of memory");
        return;
    }
    uint64_t next = 0;
    ex->fatal_index = UINT64_MAX;
    for (;;) {
        /* The verdict is the lowest seed's with a finding or an error: nothing above one is started. */
        while (ksl__pool_idle(c->pool) && next < limit && (!f->any || next < f->index) &&
               next < ex->fatal_index && next - w->prefix < WINDOW - KSL_MAX_JOBS &&
               (deadline <= 0 || now_s() < deadline) && !ex->fatal[0]) {
            ksl__request rq = *base;
            rq.cfg.seed = seed_of(c, base, next);
            rq.flags |= KSL__RQ_KEEP_CHOICES;
            if (ksl__pool_submit(c->pool, &rq, next) != 0) {
                snprintf(ex->fatal, sizeof ex->fatal, "cannot start or reach a worker process: %s", strerror(errno));
                break;
            }
            next++;
        }
        uint64_t tag;
        ksl__outcome out;
        int wr = ksl__pool_wait(c->pool, &tag, &out);
        if (wr == -2) {
            ex->interrupted = true;
            break;
        }
        if (wr != 0)
            break; /* nothing in flight: done */
        window_done(w, tag, &out);
        if (out.rc == 1 && !counts(c, &out)) { /* every finding excluded: a clean execution */
            ksl__outcome_free(&out);
            progress(c, name, w, f->any || (all && all->n));
            continue;
        }
        if (out.rc == 2 || out.rc == -1) {
            /* Not a verdict on a schedule: nothing can be explored.  Stop handing out work.  A
             * finding of a lower seed stands; one of a higher seed gives way. */
            if ((!f->any || tag < f->index) && tag < ex->fatal_index) {
                snprintf(ex->fatal, sizeof ex->fatal, "%s", out.err);
                ex->fatal_index = tag;
                if (f->any) {
                    ksl__outcome_free(&f->out);
                    f->any = false;
                }
            }
            ksl__outcome_free(&out);
            limit = next;
            continue;
        }
        if (all && out.rc == 1 && tag < ex->fatal_index) {
            ksl__outcome shown = out; /* its strings, for the notice: `out` is taken */
            if (distinct_add(all, tag, &out))
                found_now(c, base, name, tag, &shown);
            progress(c, name, w, all->n > 0);
            continue;
        }
        if (out.rc == 1 && (!f->any || tag < f->index) && tag < ex->fatal_index) {
            if (!f->any)
                found_now(c, base, name, tag, &out);
            if (f->any)
                ksl__outcome_free(&f->out);
            f->any = true;
            f->index = tag;
            f->out = out;
        } else {
            ksl__outcome_free(&out);
        }
        progress(c, name, w, f->any);
    }
    uint64_t counted = ex->interrupted || !f->any ? w->prefix : f->index + 1; /* keep_going: f is unused */
    ex->executions = counted;
    ex->steps = window_steps(w, counted, ex->hits, ex->reached);
    free(w);
}

/* The finding of scenario `sc`: shrink it, make its token, record its events; into the result.
 * `dedupe` (keep_going): when its fingerprint is one a finding reported before already has, it is
 * dropped instead (false). */
static bool report_finding(campaign *c, const ksl__scenario *sc, const ksl__request *base, found *f, bool dedupe)
{
    bool kept = true;
    ksl__run *run = &c->run;
    const char *rule = f->out.finding.rule;
    bool ended = ksl__rule_unfinished(rule);
    bool det = base->cfg.engine == KSL_ENGINE_DETERMINISTIC;
    ksl__request rq = *base;
    rq.cfg.seed = seed_of(c, base, f->index);
    ksl_shrink_info info = {f->out.steps, f->out.steps, 0, 0, 0};
    uint32_t *choices = f->out.choices;
    size_t nch = f->out.nchoices;
    bool replay = false;
    ksl__outcome final = f->out; /* what the report shows: the shrunk run when there is one */
    ksl__outcome best;
    memset(&best, 0, sizeof best);
    if (det && !ended && choices) {
        replay = true;
        if (c->o->shrink && nch) {
            if (ksl__shrink(c->pool, &rq, choices, &nch, &f->out, &best, &info) == -2)
                ksl__run_interrupted(run);
            if (best.rc == 1)
                final = best;
        } else {
            uint64_t k = 0;
            for (size_t i = 0; i < nch; i++)
                k += choices[i] != 0;
            info.preemptions_before = info.preemptions_after = k;
        }
    }
    char name[96];
    snprintf(name, sizeof name, "%s%s", ksl__scen_prefix(sc->kind), sc->name);
    uint64_t origin = ksl__finding_origin(f->out.finding.rule, f->out.file, f->out.finding.line);
    char *token = det ? ksl__run_token(run, name, NULL, &rq.cfg, replay, choices, nch, sc->def_hash) : NULL;
    /* Every finding of the execution the campaign counts, each with the one token that reproduces
     * them all; slot[k]: where the outcome's k-th went (-1: excluded). */
    size_t first = run->r->nfindings, nf = ksl__outcome_nfindings(&final);
    long slot[KSL_MAX_RUN_FINDINGS];
    for (size_t k = 0; k < nf && k < KSL_MAX_RUN_FINDINGS; k++) {
        const char *kfile;
        const recorder_entry *kev;
        size_t knev;
        const ksl_finding *kf = ksl__outcome_finding(&final, k, &kfile, &kev, &knev);
        slot[k] = -1;
        if (!ksl__rules_counts(&c->rules, kf->rule, kf->ended_run))
            continue;
        slot[k] = (long)run->r->nfindings;
        ksl_result_finding *rf = ksl__result_add_finding(run->r, &final, k, sc->name, rq.cfg.seed);
        if (!rf) {
            ksl__result_error(run->r, "out of memory");
            goto out;
        }
        rf->token = token ? strdup(token) : NULL;
        rf->shrink = info;
        rf->origin = c->o->keep_going || c->o->baseline ? origin : 0;
    }
    if (dedupe && run->r->nfindings > first && ksl__result_seen_fingerprint(run->r, first)) {
        ksl__result_drop_findings(run->r, first);
        kept = false;
        goto out;
    }
    /* One more run of the final schedule records the events (and writes the trace).  A crash,
     * an exit or a hang does not finish: it has no events to give. */
    if (det && !ended && run->r->verdict != KSL_VERDICT_INTERRUPTED) {
        ksl__request rec = rq;
        if (replay) {
            rec.cfg.strategy = KSL_STRATEGY_REPLAY;
            rec.cfg.choices = choices;
            rec.cfg.nchoices = nch;
        }
        rec.flags = KSL__RQ_RECORD;
        ksl__outcome o;
        int rc = ksl__run_once(run, &rec, NULL, true, &o);
        if (rc == 0) {
            if (ksl__outcome_reproduces(&o, &final))
                for (size_t k = 0; k < nf && k < KSL_MAX_RUN_FINDINGS && k < ksl__outcome_nfindings(&o); k++) {
                    const char *file;
                    const recorder_entry *ev;
                    size_t nev;
                    const ksl_finding *got = ksl__outcome_finding(&o, k, &file, &ev, &nev);
                    if (slot[k] >= 0 && strcmp(got->rule, run->r->findings[slot[k]].rule) == 0)
                        ksl__finding_events(&run->r->findings[slot[k]], ev, nev);
                }
            else
                ksl__result_warn(run->r, "the replay for the report did not reproduce %s (got %s)", rule,
                                 o.rc == 1 ? o.finding.rule : "a clean run");
            ksl__outcome_free(&o);
        }
    } else if (run->o->trace_path) {
        ksl__result_warn(run->r, "no trace written for %s: %s", rule,
                         det ? "the run does not finish" : "threaded runs do not replay");
    }
    for (size_t k = first; k < run->r->nfindings && run->o->on_finding; k++)
        run->o->on_finding(run->o->user, &run->r->findings[k]);
out:
    free(token);
    ksl__outcome_free(&best);
    return kept;
}

static int by_index(const void *a, const void *b)
{
    uint64_t x = ((const found *)a)->index, y = ((const found *)b)->index;
    return (x > y) - (x < y);
}

/* The race windows of `family` into the result, in catalog order. */
static void add_windows(ksl_result *r, const char *family, const uint64_t hits[KSL_WIN_COUNT],
                        const uint64_t reached[KSL_WIN_COUNT])
{
    size_t nw;
    const ksl_window *cat = ksl_windows(&nw);
    if (!(r->windows = calloc(nw, sizeof *r->windows)))
        return;
    for (size_t k = 0; k < nw; k++)
        if (strcmp(cat[k].family, family) == 0)
            r->windows[r->nwindows++] = (ksl_result_window){cat[k].name, cat[k].family, reached[k], hits[k]};
}

/* What else the campaign's verdicts depend on (ksl_result.identity): shards must agree on it. */
static uint64_t identity_of(const ksl_stress_opts *o, const ksl__run *run, char *err, size_t errlen)
{
    uint64_t files[2] = {0, 0};
    const char *paths[2] = {o->baseline, o->suppressions};
    for (int i = 0; i < 2; i++)
        if (paths[i] && ksl__file_hash(paths[i], &files[i], err, errlen) != 0)
            return 0;
    const ksl_config *c = &o->run.cfg;
    const uint64_t v[] = {o->shrink, run->device_hash, files[0], files[1], (uint64_t)(run->step_cpu_s * 1e6),
                          c->max_steps, c->skew_ns, c->step_cost_ns, c->worker_threads, c->fail_alloc_nth,
                          c->jitter_ns, c->timer_jitter_ns};
    uint64_t h = ksl__fnv1a(KSL__FNV_OFFSET, KSLAB_VERSION, sizeof KSLAB_VERSION);
    h = ksl__fnv1a(h, o->scenario ? o->scenario : "", strlen(o->scenario ? o->scenario : "") + 1);
    h = ksl__fnv1a(h, o->rules ? o->rules : "", strlen(o->rules ? o->rules : "") + 1);
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        uint8_t le[8];
        for (int k = 0; k < 8; k++)
            le[k] = (uint8_t)(v[i] >> (8 * k));
        h = ksl__fnv1a(h, le, sizeof le);
    }
    return h ? h : 1;
}

ksl_result *ksl_stress(const ksl_stress_opts *o)
{
    ksl_result *r = ksl__result_new(o->demo ? "demo" : "stress");
    if (!r)
        return NULL;
    campaign c;
    memset(&c, 0, sizeof c);
    ksl__scenario_set file;
    memset(&file, 0, sizeof file);
    c.o = o;
    c.t0 = now_s();
    c.shard_step = 1;
    r->schedules = o->time_s > 0 ? 0 : o->schedules;
    r->keep_going = o->keep_going || o->baseline;
    r->shard_index = o->shard_index;
    r->shard_count = o->shard_count;
    if (!o->demo && !o->run.driver) {
        ksl__result_error(r, "name a driver (a built-in name or a plugin path)");
        goto done;
    }
    if (o->time_s <= 0 && (o->schedules < 1 || o->schedules > KSL_MAX_SCHEDULES)) {
        ksl__result_error(r, "--schedules %llu: must be 1..%llu", (unsigned long long)o->schedules,
                          (unsigned long long)KSL_MAX_SCHEDULES);
        goto done;
    }
    if (o->time_s < 0 || o->time_s > KSL_MAX_TIMEOUT_S) {
        ksl__result_error(r, "--time %g: must be seconds above 0, at most %g", o->time_s, KSL_MAX_TIMEOUT_S);
        goto done;
    }
    if (o->shard_count || o->shard_index) {
        const char *why = o->shard_index < 1 || o->shard_index > o->shard_count ? "I must be 1..N"
                          : o->time_s > 0 ? "a shard needs a schedule budget, not --time"
                          : o->max_findings ? "--max-findings depends on what the other shards find"
                                            : NULL;
        if (why) {
            ksl__result_error(r, "--shard %u/%u: %s", o->shard_index, o->shard_count, why);
            goto done;
        }
        c.shard_first = o->shard_index - 1;
        c.shard_step = o->shard_count;
    }
    if (o->jobs < 1 || o->jobs > KSL_MAX_JOBS) {
        ksl__result_error(r, "--jobs %u: must be 1..%u", o->jobs, KSL_MAX_JOBS);
        goto done;
    }
    char kwarn[300], kerr[600];
    if (ksl__rules_parse(&c.rules, o->rules, kerr, sizeof kerr) != 0) {
        ksl__result_error(r, "%s", kerr);
        goto done;
    }
    if ((o->baseline || o->suppressions) &&
        ksl__known_apply(r, o->baseline, o->suppressions, kwarn, sizeof kwarn, kerr, sizeof kerr) != 0) {
        ksl__result_error(r, "%s", kerr); /* bad input costs nothing: checked before the campaign */
        goto done;
    }
    if (o->scenario_file) {
        if (o->demo) {
            ksl__result_error(r, "--scenario-file is for drivers, not the demonstrations");
            goto done;
        }
        if (ksl__scenario_file_load(o->scenario_file, &file, kerr, sizeof kerr) != 0) {
            ksl__result_error(r, "%s", kerr);
            goto done;
        }
        ksl__scenarios_use(file.list, file.n); /* before the workers are forked: they see them */
        r->scenario_file = file.hash;
    }
    if (ksl__run_begin(&c.run, r, &o->run, o->demo ? NULL : o->run.driver, KSL__DRV_NONE) != 0)
        goto done;
    ksl__scen_kind kind = o->demo ? KSL__SCEN_DEMO
                          : c.run.drv.kind == KSL__DRV_STREAM ? KSL__SCEN_STREAM
                                                               : KSL__SCEN_WAVEPCI;
    r->registry = c.run.registry.hash;
    if (!(r->identity = identity_of(o, &c.run, kerr, sizeof kerr))) {
        ksl__result_error(r, "%s", kerr);
        goto done;
    }
    if (o->scenario && !ksl__scenario_find(kind, o->scenario)) {
        ksl__result_error(r, "no scenario '%s' for %s (see %s)", o->scenario,
                          o->demo ? "the demonstrations" : ksl__drv_kind_text(c.run.drv.kind),
                          o->scenario_file ? o->scenario_file : "`kslab list`");
        goto done;
    }
    char err[512];
    ksl__pool_cfg pc = {.driver = c.run.driver_arg, .device = o->run.device, .want = KSL__DRV_NONE, .trace_fd = -1,
                        .registry = &c.run.registry,
                        .jobs = o->jobs, .timeout_s = c.run.timeout_s, .step_cpu_s = c.run.step_cpu_s};
    if (!(c.pool = ksl__pool_create(&pc, err, sizeof err))) {
        ksl__result_error(r, "%s", err);
        goto done;
    }
    size_t nsc;
    const ksl__scenario *all = ksl__scenario_list(&nsc);
    size_t nrun = 0;
    for (size_t i = 0; i < nsc; i++) {
        bool runs = all[i].kind == kind && (!o->scenario || strcmp(all[i].name, o->scenario) == 0);
        nrun += runs;
        c.planned += runs && o->time_s <= 0 ? shard_share(&c, all[i].schedules ? all[i].schedules : o->schedules) : 0;
    }
    if (!nrun) {
        ksl__result_error(r, "the scenario file %s has no scenario for %s (\"kind\": \"%s\")", o->scenario_file,
                          ksl__drv_kind_text(c.run.drv.kind), kind == KSL__SCEN_STREAM ? "stream" : "wavepci");
        goto done;
    }
    double deadline = o->time_s > 0 ? c.t0 + o->time_s : 0;
    uint64_t hits[KSL_WIN_COUNT] = {0};
    if (kind != KSL__SCEN_DEMO && o->run.cfg.engine == KSL_ENGINE_DETERMINISTIC)
        c.family = kind == KSL__SCEN_WAVEPCI ? "wavepci" : "stream";
    bool enough = false; /* keep_going: max_findings reported */
    bool going = o->keep_going || o->baseline; /* a baseline needs every finding */
    for (size_t i = 0; i < nsc && !enough &&
                       (r->verdict == KSL_VERDICT_CLEAN || (going && r->verdict == KSL_VERDICT_FOUND));
         i++) {
        const ksl__scenario *sc = &all[i];
        if (sc->kind != kind || (o->scenario && strcmp(sc->name, o->scenario) != 0))
            continue;
        double sc_deadline = o->time_s > 0 ? now_s() + (deadline - now_s()) / (double)(nrun--) : 0;
        ksl__request base = {.type = KSL__RQ_EXEC, .scenario = (int32_t)i, .cfg = o->run.cfg};
        base.cfg.choices = NULL;
        base.cfg.nchoices = 0;
        ksl_result_scenario *rs = ksl__result_add_scenario(r, sc->name);
        if (!rs) {
            ksl__result_error(r, "out of memory");
            break;
        }
        if (base.cfg.strategy == KSL_STRATEGY_PCT && base.cfg.engine == KSL_ENGINE_DETERMINISTIC) {
            rs->pct_steps = pct_length(&c, &base);
            if (rs->pct_steps)
                base.cfg.pct_steps = rs->pct_steps; /* the token carries what the run used */
        }
        found f;
        memset(&f, 0, sizeof f);
        explored ex;
        memset(&ex, 0, sizeof ex);
        distinct *dist = going ? calloc(1, sizeof *dist) : NULL;
        if (going && !dist) {
            ksl__result_error(r, "out of memory");
            break;
        }
        uint64_t budget = sc->schedules ? sc->schedules : o->schedules;
        explore(&c, &base, sc->name, o->time_s > 0 ? UINT64_MAX : shard_share(&c, budget), sc_deadline, &f, dist, &ex);
        rs->executions = ex.executions;
        rs->steps = ex.steps;
        rs->found = f.any || (dist && dist->n);
        r->executions += ex.executions;
        r->steps += ex.steps;
        for (int k = 0; k < KSL_WIN_COUNT; k++) {
            hits[k] += ex.hits[k];
            c.reached[k] += ex.reached[k];
        }
        c.total_executions = r->executions;
        c.total_steps = r->steps;
        if (ex.interrupted) {
            ksl__run_interrupted(&c.run);
        } else if (ex.fatal[0] && !f.any) {
            ksl__result_error(r, "scenario %s cannot run: %s", sc->name, ex.fatal);
        } else {
            if (f.any)
                report_finding(&c, sc, &base, &f, false);
            if (dist) { /* in seed order: the same run reports the same way */
                qsort(dist->f, dist->n, sizeof dist->f[0], by_index);
                for (uint32_t k = 0; k < dist->n && !enough &&
                                     (r->verdict == KSL_VERDICT_CLEAN || r->verdict == KSL_VERDICT_FOUND);
                     k++) {
                    /* A shard keeps every one: the fingerprints reported before may be in
                     * another shard, and the merge drops the repeats (merge.c). */
                    c.reported += report_finding(&c, sc, &base, &dist->f[k], o->shard_count == 0);
                    enough = o->max_findings && c.reported >= o->max_findings;
                }
                if (dist->full)
                    ksl__result_warn(r, "scenario %s: more than %u distinct findings; the rest not reported",
                                     sc->name, MAX_DISTINCT);
            }
            if (o->run.on_scenario)
                o->run.on_scenario(o->run.user, rs);
        }
        if (f.any)
            ksl__outcome_free(&f.out);
        for (uint32_t k = 0; dist && k < dist->n; k++)
            ksl__outcome_free(&dist->f[k].out);
        free(dist);
    }
    if (kind != KSL__SCEN_DEMO && o->run.cfg.engine == KSL_ENGINE_DETERMINISTIC)
        add_windows(r, kind == KSL__SCEN_WAVEPCI ? "wavepci" : "stream", hits, c.reached);
    if ((o->baseline || o->suppressions) &&
        (r->verdict == KSL_VERDICT_CLEAN || r->verdict == KSL_VERDICT_FOUND)) {
        if (ksl__known_apply(r, o->baseline, o->suppressions, kwarn, sizeof kwarn, kerr, sizeof kerr) != 0)
            ksl__result_error(r, "%s", kerr);
        else if (kwarn[0])
            ksl__result_warn(r, "%s", kwarn);
    }
done:
    ksl__pool_destroy(c.pool);
    ksl__run_end(&c.run);
    ksl__scenarios_use(NULL, 0);
    ksl__scenario_set_free(&file);
    r->wall_s = now_s() - c.t0;
    return r;
}
