/* SPDX-License-Identifier: MIT */
/*
 * Putting the shards of a campaign back together (ksl_result_merge, <kslab/result.h>).
 *
 * Shard I of N ran the seeds S + I - 1 + k N of every scenario, each decision (PCT's length
 * estimate, shrinking, the per-seed outcome) being the one the whole campaign makes for that
 * seed.  A campaign that keeps going takes, per scenario, the lowest seed of each `origin` (the
 * rule and call site its execution found first), shrinks it, and reports these in seed order but
 * for those whose first finding's fingerprint was reported before.  A shard did the first part
 * over its seeds and reported every one it kept, repeats included.  The lowest seed of an origin
 * is its lowest over the shards, so: the shards' executions in (scenario, seed) order, the first
 * of each origin per scenario, then the fingerprint repeats dropped, give the whole campaign's
 * findings.  Without keep_going the campaign's finding is the lowest seed of the earliest
 * scenario with one.  Host code.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kslab/result.h>

typedef struct merger {
    char *err;
    size_t errlen;
    bool failed;
} merger;

static void fail(merger *m, const char *fmt, ...)
{
    if (m->failed)
        return;
    m->failed = true;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(m->err, m->errlen, fmt, ap);
    va_end(ap);
}

static char *dup(merger *m, const char *s)
{
    if (!s)
        return NULL;
    char *d = strdup(s);
    if (!d)
        fail(m, "out of memory");
    return d;
}

static bool same_str(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static void copy_finding(merger *m, ksl_result_finding *d, const ksl_result_finding *s)
{
    *d = *s;
    d->rule = dup(m, s->rule);
    d->message = dup(m, s->message);
    d->context = dup(m, s->context);
    d->file = dup(m, s->file);
    d->function = dup(m, s->function);
    d->fingerprint = dup(m, s->fingerprint);
    d->detail = dup(m, s->detail);
    d->scenario = dup(m, s->scenario);
    d->token = dup(m, s->token);
    d->driver_output = dup(m, s->driver_output);
    d->justification = dup(m, s->justification);
    d->racing_context = dup(m, s->racing_context);
    d->racing_file = dup(m, s->racing_file);
    d->racing_function = dup(m, s->racing_function);
    d->events = NULL;
    d->nevents = 0;
    if (s->nevents && !(d->events = calloc(s->nevents, sizeof *d->events))) {
        fail(m, "out of memory");
        return;
    }
    for (size_t i = 0; i < s->nevents; i++) {
        d->events[i] = s->events[i];
        d->events[i].what = dup(m, s->events[i].what);
        d->events[i].context = dup(m, s->events[i].context);
        d->events[i].file = dup(m, s->events[i].file);
        d->nevents = i + 1;
    }
}

/* Every part is a clean or found shard of the same campaign, each shard once. */
static void check_parts(merger *m, ksl_result *const *p, size_t n)
{
    const ksl_result *a = p[0];
    bool *seen = calloc(n, sizeof *seen);
    if (!seen) {
        fail(m, "out of memory");
        return;
    }
    for (size_t i = 0; i < n && !m->failed; i++) {
        const ksl_result *b = p[i];
        if (b->shard_count != n) {
            fail(m, "part %zu is shard %u/%u: give all %u shards, %zu given", i + 1, b->shard_index, b->shard_count,
                 b->shard_count, n);
        } else if (seen[b->shard_index - 1]) {
            fail(m, "shard %u/%u is given twice", b->shard_index, b->shard_count);
        } else if (b->verdict != KSL_VERDICT_CLEAN && b->verdict != KSL_VERDICT_FOUND) {
            fail(m, "shard %u/%u %s: its seeds are missing (%s)", b->shard_index, b->shard_count,
                 b->verdict == KSL_VERDICT_INTERRUPTED ? "was interrupted" : "could not be made",
                 b->error ? b->error : "no verdict");
        } else if (!same_str(a->command, b->command) || !same_str(a->driver.name, b->driver.name) ||
                   a->driver.hash != b->driver.hash || !same_str(a->driver.device, b->driver.device) ||
                   a->driver.plugin != b->driver.plugin) {
            fail(m, "shard %u/%u ran another command or driver build than shard %u/%u", b->shard_index,
                 b->shard_count, a->shard_index, a->shard_count);
        } else if (a->config.cpus != b->config.cpus || a->config.seed != b->config.seed ||
                   a->config.strategy != b->config.strategy || a->config.pct_depth != b->config.pct_depth ||
                   a->threaded != b->threaded || a->schedules != b->schedules || a->keep_going != b->keep_going ||
                   a->scenario_file != b->scenario_file || a->registry != b->registry || a->identity != b->identity ||
                   !a->identity) {
            fail(m, "shard %u/%u ran with other settings than shard %u/%u (cpus, seed, strategy, engine, schedules, "
                    "keep-going, --scenario, --rules, shrinking, the scenario, registry, baseline, suppression or "
                    "device files, or another kslab)", b->shard_index, b->shard_count, a->shard_index, a->shard_count);
        } else if (a->nwindows != b->nwindows) {
            fail(m, "shard %u/%u counted other race windows than shard %u/%u", b->shard_index, b->shard_count,
                 a->shard_index, a->shard_count);
        }
        if (!m->failed)
            seen[b->shard_index - 1] = true;
    }
    free(seen);
}

/* The scenarios: the longest list.  A shard that stopped at a finding (not keep_going) has a
 * prefix of it, ending with the scenario it found in; any other shorter list lacks seeds. */
static void merge_scenarios(merger *m, ksl_result *r, ksl_result *const *p, size_t n)
{
    size_t longest = 0;
    for (size_t i = 1; i < n; i++)
        if (p[i]->nscenarios > p[longest]->nscenarios)
            longest = i;
    const ksl_result *l = p[longest];
    for (size_t i = 0; i < n && !m->failed; i++) {
        const ksl_result *x = p[i];
        bool stopped = !x->keep_going && x->verdict == KSL_VERDICT_FOUND && x->nscenarios &&
                       x->scenarios[x->nscenarios - 1].found;
        if (x->nscenarios < l->nscenarios && !stopped)
            fail(m, "shard %u/%u ran %zu scenarios where shard %u/%u ran %zu, and did not stop at a finding: its "
                    "result is incomplete", x->shard_index, x->shard_count, x->nscenarios, l->shard_index,
                 l->shard_count, l->nscenarios);
    }
    if (l->nscenarios && !(r->scenarios = calloc(l->nscenarios, sizeof *r->scenarios))) {
        fail(m, "out of memory");
        return;
    }
    for (size_t k = 0; k < l->nscenarios && !m->failed; k++) {
        ksl_result_scenario *s = &r->scenarios[r->nscenarios++];
        s->name = dup(m, l->scenarios[k].name);
        bool measured = false;
        for (size_t i = 0; i < n && !m->failed; i++) {
            if (k >= p[i]->nscenarios)
                continue;
            const ksl_result_scenario *x = &p[i]->scenarios[k];
            if (!same_str(x->name, s->name))
                fail(m, "shard %u/%u ran scenario %s where shard %u/%u ran %s", p[i]->shard_index,
                     p[i]->shard_count, x->name, l->shard_index, l->shard_count, s->name);
            else if (measured && x->pct_steps != s->pct_steps)
                fail(m, "shard %u/%u measured another PCT length for %s (%llu, not %llu)", p[i]->shard_index,
                     p[i]->shard_count, s->name, (unsigned long long)x->pct_steps, (unsigned long long)s->pct_steps);
            s->executions += x->executions;
            s->steps += x->steps;
            s->found |= x->found && r->keep_going; /* else: the scenario of the merged finding, below */
            s->pct_steps = x->pct_steps;
            measured = true;
        }
    }
}

/* One execution's findings in a part: [first, first + n) of part `part`. */
typedef struct group {
    size_t part, first, n;
    size_t scenario;          /* index in the merged scenario list */
    uint64_t seed;
} group;

static int by_scenario_seed(const void *x, const void *y)
{
    const group *a = x, *b = y;
    if (a->scenario != b->scenario)
        return a->scenario < b->scenario ? -1 : 1;
    if (a->seed != b->seed)
        return a->seed < b->seed ? -1 : 1;
    return (a->part > b->part) - (a->part < b->part);
}

static size_t scenario_index(const ksl_result *r, const char *name)
{
    for (size_t k = 0; k < r->nscenarios; k++)
        if (same_str(r->scenarios[k].name, name))
            return k;
    return r->nscenarios;
}

static bool reported(const ksl_result *r, const char *fingerprint)
{
    for (size_t i = 0; fingerprint && i < r->nfindings; i++)
        if (same_str(r->findings[i].fingerprint, fingerprint))
            return true;
    return false;
}

static void merge_findings(merger *m, ksl_result *r, ksl_result *const *p, size_t n)
{
    size_t total = 0, ng = 0;
    for (size_t i = 0; i < n; i++)
        total += p[i]->nfindings;
    if (!total)
        return;
    group *g = calloc(total, sizeof *g);
    r->findings = calloc(total, sizeof *r->findings);
    if (!g || !r->findings) {
        free(g);
        fail(m, "out of memory");
        return;
    }
    for (size_t i = 0; i < n; i++) {
        const ksl_result *x = p[i];
        for (size_t k = 0; k < x->nfindings; k++) {
            const ksl_result_finding *f = &x->findings[k];
            if (k && f->seed == x->findings[k - 1].seed && same_str(f->scenario, x->findings[k - 1].scenario)) {
                g[ng - 1].n++;
                continue;
            }
            g[ng++] = (group){i, k, 1, scenario_index(r, f->scenario), f->seed};
        }
    }
    qsort(g, ng, sizeof *g, by_scenario_seed);
    for (size_t k = 0; k < ng && !m->failed; k++) {
        const ksl_result_finding *f = &p[g[k].part]->findings[g[k].first];
        bool later = false; /* a higher seed of an origin the scenario has */
        for (size_t j = k; j-- > 0 && g[j].scenario == g[k].scenario && !later;)
            later = f->origin && p[g[j].part]->findings[g[j].first].origin == f->origin;
        if (later || reported(r, f->fingerprint))
            continue;
        for (size_t j = 0; j < g[k].n && !m->failed; j++)
            copy_finding(m, &r->findings[r->nfindings++], f + j);
        if (!r->keep_going) { /* the campaign stops at its first finding */
            if (g[k].scenario < r->nscenarios)
                r->scenarios[g[k].scenario].found = true;
            break;
        }
    }
    free(g);
}

/* Whether warning `w` of part `self` holds for the whole campaign.  A suppression that matched
 * nothing in one shard may have matched in another: that warning holds only when every part has
 * one, and is taken from the part that counts the fewest unused suppressions (the whole
 * campaign's unused ones are those unused in every shard: at most that many). */
static bool holds(const char *w, size_t self, ksl_result *const *p, size_t n)
{
    if (!strstr(w, "matched no finding"))
        return true;
    unsigned long mine = strtoul(w, NULL, 10);
    for (size_t i = 0; i < n; i++) {
        const char *o = p[i]->warning ? strstr(p[i]->warning, "suppression(s) matched no finding") : NULL;
        if (!o)
            return false;
        const char *start = o;
        while (start > p[i]->warning && start[-1] >= '0' && start[-1] <= '9')
            start--;
        unsigned long theirs = strtoul(start, NULL, 10);
        if (theirs < mine || (theirs == mine && i < self))
            return false;
    }
    return true;
}

/* The distinct warnings of the parts (in shard order), joined. */
static void merge_warnings(merger *m, ksl_result *r, ksl_result *const *p, size_t n)
{
    size_t len = 1;
    for (size_t i = 0; i < n; i++)
        len += p[i]->warning ? strlen(p[i]->warning) + 2 : 0;
    if (len == 1)
        return;
    if (!(r->warning = calloc(1, len))) {
        fail(m, "out of memory");
        return;
    }
    for (size_t i = 0; i < n; i++) {
        if (!p[i]->warning || strstr(r->warning, p[i]->warning) || !holds(p[i]->warning, i, p, n))
            continue;
        if (r->warning[0])
            strcat(r->warning, "; ");
        strcat(r->warning, p[i]->warning);
    }
    if (!r->warning[0]) {
        free(r->warning);
        r->warning = NULL;
    }
}

static int by_shard(const void *x, const void *y)
{
    const ksl_result *a = *(ksl_result *const *)x, *b = *(ksl_result *const *)y;
    return (a->shard_index > b->shard_index) - (a->shard_index < b->shard_index);
}

ksl_result *ksl_result_merge(ksl_result *const *parts, size_t n, char *err, size_t errlen)
{
    merger m = {err, errlen, false};
    if (n == 0 || !parts) {
        fail(&m, "no result to merge");
        return NULL;
    }
    for (size_t i = 0; i < n; i++)
        if (!parts[i] || !parts[i]->command || parts[i]->shard_index < 1 || parts[i]->shard_index > parts[i]->shard_count) {
            fail(&m, "part %zu is not a shard (run it with --shard I/N)", i + 1);
            return NULL;
        }
    ksl_result **sorted = malloc(n * sizeof *sorted); /* in shard order: the same result whatever the order given */
    if (!sorted) {
        fail(&m, "out of memory");
        return NULL;
    }
    memcpy(sorted, parts, n * sizeof *sorted);
    qsort(sorted, n, sizeof *sorted, by_shard);
    parts = sorted;
    check_parts(&m, parts, n);
    if (m.failed) {
        free(sorted);
        return NULL;
    }
    const ksl_result *a = parts[0];
    ksl_result *r = calloc(1, sizeof *r);
    if (!r) {
        free(sorted);
        fail(&m, "out of memory");
        return NULL;
    }
    r->command = dup(&m, a->command);
    r->driver = a->driver;
    r->driver.name = dup(&m, a->driver.name);
    r->driver.arg = dup(&m, a->driver.arg);
    r->driver.kind = dup(&m, a->driver.kind);
    r->driver.description = dup(&m, a->driver.description);
    r->driver.device = dup(&m, a->driver.device);
    r->driver.device_plugin = dup(&m, a->driver.device_plugin);
    r->config = a->config;
    r->config.choices = NULL;
    r->config.nchoices = 0;
    r->threaded = a->threaded;
    r->schedules = a->schedules;
    r->keep_going = a->keep_going;
    r->scenario_file = a->scenario_file;
    r->registry = a->registry;
    r->identity = a->identity;
    for (size_t i = 0; i < n; i++) {
        r->executions += parts[i]->executions;
        r->steps += parts[i]->steps;
        if (parts[i]->wall_s > r->wall_s)
            r->wall_s = parts[i]->wall_s;
    }
    merge_scenarios(&m, r, parts, n);
    merge_findings(&m, r, parts, n);
    merge_warnings(&m, r, parts, n);
    if (a->nwindows && !m.failed) {
        if (!(r->windows = calloc(a->nwindows, sizeof *r->windows)))
            fail(&m, "out of memory");
        for (size_t k = 0; r->windows && k < a->nwindows && !m.failed; k++) {
            r->windows[k] = (ksl_result_window){a->windows[k].name, a->windows[k].family, 0, 0};
            for (size_t i = 0; i < n; i++) {
                if (strcmp(parts[i]->windows[k].name, a->windows[k].name) != 0)
                    fail(&m, "shard %u/%u counted other race windows", parts[i]->shard_index, parts[i]->shard_count);
                r->windows[k].executions += parts[i]->windows[k].executions;
                r->windows[k].hits += parts[i]->windows[k].hits;
            }
            r->nwindows = k + 1;
        }
    }
    r->verdict = r->nfindings ? KSL_VERDICT_FOUND : KSL_VERDICT_CLEAN;
    free(sorted);
    if (m.failed) {
        ksl_result_free(r);
        return NULL;
    }
    return r;
}
