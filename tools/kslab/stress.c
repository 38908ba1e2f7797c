/* SPDX-License-Identifier: MIT */
/*
 * `kslab stress DRIVER` and the replay of its tokens, for WavePci drivers and stream class
 * minidrivers alike: the driver's kind picks the scenario set (workers.h), tokens name
 * "wavepci/<scenario>" or "stream/<scenario>".
 *
 * Executions run in worker processes (workers.h), seeds in increasing order.  With several
 * workers the verdict is still the same as with one: the finding reported is the one of the
 * lowest seed that has one (workers never start a seed above a seed already found, and every
 * lower seed is waited for), and the counts printed are counted up to that seed.  The finding
 * is then shrunk: its choice list is replayed with runs of choices set to 0 (the first option at
 * that point: fewer preemptions) and with the tail cut (fewer steps), keeping each change under
 * which the same rule still fires.  The token carries the scenario, the driver argument, every
 * setting and the shrunk choice list.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <kslab/rules.h>
#include <kslab/token.h>

#include "cli.h"
#include "json.h"
#include "drivers.h"
#include "report.h"
#include "stress.h"
#include "workers.h"

#define DEFAULT_SCHEDULES 1000u
#define DEFAULT_TIMEOUT_S 20.0
#define SHRINK_MAX_RUNS 400u
#define TOKEN_PREFIX "wavepci/"
#define STREAM_TOKEN_PREFIX "stream/"

static const char *token_prefix(driver_kind kind)
{
    return kind == DRIVER_STREAM ? STREAM_TOKEN_PREFIX : TOKEN_PREFIX;
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void stress_usage(FILE *f)
{
    fputs("usage: kslab stress DRIVER [options]\n"
          "\n"
          "Explore schedules of a WavePci driver or a stream class minidriver (a built-in name, or the path\n"
          "of a plugin .so) in the built-in scenarios of its kind until a rule breaks.  At the first finding\n"
          "the schedule is shrunk, and the rule, the message, the events leading to it and a replay token\n"
          "are printed.\n"
          "\n"
          "options:\n"
          "  --scenario NAME      one scenario (see `kslab list`); default: all, in order\n"
          "  --strategy S         random | pct | pct:D (default random)\n"
          "  --schedules N        executions per scenario (default 1000)\n"
          "  --time SEC           instead: explore for SEC seconds, shared by the scenarios\n"
          "  --seed S             first seed (default 1); execution i uses seed S+i\n"
          "  --cpus N             virtual CPUs, 1..64 (default 2)\n"
          "  --jobs J             worker processes (default 1)\n"
          "  --timeout SEC        wall time one execution may take before it is a hang (default 20)\n"
          "  --no-shrink          report the finding as found\n"
          "  --threaded           plain stress on the threaded engine instead (real threads, no\n"
          "                       replay token, no shrinking): the baseline the benchmark compares with\n"
          "  --json               print one JSON object instead of the report\n"
          "  --trace FILE         the finding's run as Chrome Trace Event JSON (opens in Perfetto)\n"
          "  --sarif FILE         the result as SARIF 2.1.0 (GitHub code scanning)\n"
          "\n"
          "exit status: 0 nothing found, 1 a finding, 2 usage error\n",
          f);
}

/* ---- tokens ------------------------------------------------------------------------------- */

/* A token for `sc`; with `replay`, for exactly the schedule `choices` (an empty list is the
 * schedule that takes the first option everywhere), else for cfg's seed and strategy. */
static char *make_token(driver_kind kind, const char *sc_name, const char *driver_arg, const ksl_config *cfg,
                        bool replay, const uint32_t *choices, size_t n)
{
    ksl_token t;
    memset(&t, 0, sizeof t);
    snprintf(t.scenario, sizeof t.scenario, "%s%s", token_prefix(kind), sc_name);
    snprintf(t.params, sizeof t.params, "driver=%s", driver_arg);
    t.cfg = *cfg;
    t.choices = (uint32_t *)(uintptr_t)choices;
    t.nchoices = n;
    if (replay) {
        t.cfg.strategy = KSL_STRATEGY_REPLAY;
        t.cfg.choices = choices;
        t.cfg.nchoices = n;
    }
    return ksl_token_encode(&t);
}

/* ---- shrinking ---------------------------------------------------------------------------- */

typedef struct shrink_stats {
    uint64_t steps_before, steps_after;
    size_t preempt_before, preempt_after;
    unsigned runs;
} shrink_stats;

static size_t nonzero(const uint32_t *c, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        k += c[i] != 0;
    return k;
}

/* Replay `c` and tell whether `rule` fires; on success *steps is the run's length. */
static bool still_fires(wpool *pool, uint32_t sc, uint64_t seed, const uint32_t *c, size_t n, const char *rule,
                        uint64_t *steps, wp_outcome *keep)
{
    uint64_t tag;
    wp_outcome o;
    /* a choice list that is all zeros past its end equals the shorter list: send at least one */
    static const uint32_t zero = 0;
    if (wpool_submit(pool, sc, seed, n ? c : &zero, n ? n : 1, false, 0) != 0 || wpool_wait(pool, &tag, &o) != 0)
        return false;
    bool same = o.rc == 1 && strcmp(o.finding.rule, rule) == 0;
    if (same) {
        *steps = o.steps;
        if (keep) {
            wp_outcome_free(keep);
            *keep = o;
            return true;
        }
    }
    wp_outcome_free(&o);
    return same;
}

/* Shrink (c, n) in place for `rule`; *best receives the outcome of the final list. */
static void shrink(wpool *pool, uint32_t sc, uint64_t seed, uint32_t *c, size_t *n, const char *rule,
                   uint64_t steps, wp_outcome *best, shrink_stats *st)
{
    st->steps_before = steps;
    st->preempt_before = nonzero(c, *n);
    uint32_t *trial = malloc((*n ? *n : 1) * sizeof *trial);
    if (!trial)
        return;
    /* A budget in replays, not in wall time: the result must not depend on the machine. */
#define BUDGET_LEFT() (st->runs < SHRINK_MAX_RUNS)
    /* Cut the tail: the shortest prefix found by halving that still fires. */
    for (size_t len = *n / 2; len > 0 && BUDGET_LEFT(); len /= 2) {
        uint64_t s2;
        st->runs++;
        if (!still_fires(pool, sc, seed, c, len, rule, &s2, best))
            break;
        *n = len;
        steps = s2;
    }
    /* Zero runs of choices, large runs first. */
    for (size_t chunk = *n / 2 ? *n / 2 : 1; chunk >= 1 && BUDGET_LEFT(); chunk /= 2) {
        for (size_t at = 0; at < *n && BUDGET_LEFT(); at += chunk) {
            size_t end = at + chunk < *n ? at + chunk : *n;
            bool any = false;
            for (size_t i = at; i < end; i++)
                any |= c[i] != 0;
            if (!any)
                continue;
            memcpy(trial, c, *n * sizeof *c);
            memset(trial + at, 0, (end - at) * sizeof *trial);
            uint64_t s2;
            st->runs++;
            if (still_fires(pool, sc, seed, trial, *n, rule, &s2, best)) {
                memcpy(c, trial, *n * sizeof *c);
                steps = s2;
            }
        }
        if (chunk == 1)
            break;
    }
#undef BUDGET_LEFT
    while (*n > 0 && c[*n - 1] == 0)
        (*n)--; /* trailing zeros are what the replay does past the end anyway */
    free(trial);
    st->steps_after = steps;
    st->preempt_after = nonzero(c, *n);
}

/* ---- the command -------------------------------------------------------------------------- */

typedef struct stress_opts {
    const char *driver_arg;
    const char *scenario;
    ksl_config cfg;
    uint64_t schedules;
    double time_s;
    unsigned jobs;
    double timeout_s;
    bool shrink;
    bool json;
    const char *trace, *sarif;
} stress_opts;

static int parse(int argc, char **argv, stress_opts *o)
{
    memset(o, 0, sizeof *o);
    ksl_config_default(&o->cfg);
    o->cfg.seed = 1;
    o->schedules = DEFAULT_SCHEDULES;
    o->jobs = 1;
    o->timeout_s = DEFAULT_TIMEOUT_S;
    o->shrink = true;
    bool have_schedules = false;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        uint64_t n;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            stress_usage(stdout);
            return 1;
        } else if (strcmp(a, "--json") == 0) {
            o->json = true;
            continue;
        } else if (strcmp(a, "--no-shrink") == 0) {
            o->shrink = false;
            continue;
        } else if (strcmp(a, "--threaded") == 0) {
            o->cfg.engine = KSL_ENGINE_THREADED;
            o->shrink = false;
            continue;
        } else if (a[0] != '-') {
            if (o->driver_arg) {
                fprintf(stderr, "kslab stress: more than one driver ('%s')\n", a);
                return -1;
            }
            o->driver_arg = a;
            continue;
        }
        if (!v) {
            fprintf(stderr, "kslab stress: unknown option or missing value: %s\n", a);
            return -1;
        }
        i++;
        if (strcmp(a, "--scenario") == 0) {
            if (!wp_scenario_find(v) && !st_scenario_find(v)) {
                fprintf(stderr, "kslab stress: no scenario '%s' (see `kslab list`)\n", v);
                return -1;
            }
            o->scenario = v;
        } else if (strcmp(a, "--strategy") == 0) {
            if (parse_strategy(v, &o->cfg) != 0) {
                fprintf(stderr, "kslab stress: bad --strategy '%s' (random, pct or pct:D)\n", v);
                return -1;
            }
        } else if (strcmp(a, "--trace") == 0) {
            o->trace = v;
        } else if (strcmp(a, "--sarif") == 0) {
            o->sarif = v;
        } else if (strcmp(a, "--time") == 0 || strcmp(a, "--timeout") == 0) {
            char *end;
            double d = strtod(v, &end);
            if (*end || !(d > 0) || d > 86400) {
                fprintf(stderr, "kslab stress: bad %s '%s' (seconds, > 0)\n", a, v);
                return -1;
            }
            if (strcmp(a, "--time") == 0)
                o->time_s = d;
            else
                o->timeout_s = d;
        } else if (parse_u64(v, &n) != 0) {
            fprintf(stderr, "kslab stress: bad number '%s' for %s\n", v, a);
            return -1;
        } else if (strcmp(a, "--schedules") == 0) {
            if (n < 1) {
                fprintf(stderr, "kslab stress: --schedules must be at least 1\n");
                return -1;
            }
            o->schedules = n;
            have_schedules = true;
        } else if (strcmp(a, "--seed") == 0) {
            o->cfg.seed = n;
        } else if (strcmp(a, "--cpus") == 0) {
            if (n < 1 || n > KSL_MAX_CPUS) {
                fprintf(stderr, "kslab stress: --cpus must be 1..64\n");
                return -1;
            }
            o->cfg.cpus = (uint32_t)n;
        } else if (strcmp(a, "--jobs") == 0) {
            if (n < 1 || n > 64) {
                fprintf(stderr, "kslab stress: --jobs must be 1..64\n");
                return -1;
            }
            o->jobs = (unsigned)n;
        } else {
            fprintf(stderr, "kslab stress: unknown option %s\n", a);
            return -1;
        }
    }
    if (!o->driver_arg) {
        fprintf(stderr, "kslab stress: name a driver (built-in name or plugin path)\n");
        return -1;
    }
    if (o->time_s > 0 && have_schedules) {
        fprintf(stderr, "kslab stress: give --schedules or --time, not both\n");
        return -1;
    }
    return 0;
}

typedef struct found {
    bool any;
    uint64_t index;     /* seed index within the scenario */
    wp_outcome out;
    char fatal[256];    /* an execution could not run at all (the driver does not start...) */
} found;

/* Explore one scenario; returns the executions counted (up to the finding when there is one). */
static uint64_t explore(const stress_opts *o, wpool *pool, uint32_t sc_index, const char *sc_name, double deadline,
                        found *f, uint64_t *steps_total, double t_start, uint64_t *pct_steps_out)
{
    uint64_t next = 0, limit = o->time_s > 0 ? UINT64_MAX : o->schedules, done = 0, counted_steps = 0;
    bool tty = !o->json && isatty(STDERR_FILENO);
    double last_progress = now_s();
    uint64_t *step_of = NULL; /* steps per index, to count deterministically up to a finding */
    size_t cap = 0;
    uint64_t pct_steps = 0;
    if (o->cfg.strategy == KSL_STRATEGY_PCT) {
        /* PCT spreads its priority change points over its estimate k of the run length: measure
         * the scenario's length with one random execution of the first seed. */
        uint64_t tag;
        wp_outcome cal;
        if (wpool_submit_ex(pool, sc_index, o->cfg.seed, NULL, 0, false, 0, true, UINT64_MAX) == 0 &&
            wpool_wait(pool, &tag, &cal) == 0) {
            pct_steps = cal.steps ? cal.steps : 1;
            wp_outcome_free(&cal);
        }
    }
    *pct_steps_out = pct_steps;
    for (;;) {
        while (wpool_idle(pool) && next < limit && (!f->any || next < f->index) &&
               (o->time_s <= 0 || now_s() < deadline)) {
            if (wpool_submit_ex(pool, sc_index, o->cfg.seed + next, NULL, 0, true, pct_steps, false, next) != 0)
                break;
            next++;
        }
        uint64_t tag;
        wp_outcome out;
        if (wpool_wait(pool, &tag, &out) != 0)
            break;
        done++;
        if (tag >= cap) {
            size_t ncap = cap ? cap * 2 : 1024;
            while (ncap <= tag)
                ncap *= 2;
            uint64_t *n = realloc(step_of, ncap * sizeof *n);
            if (n) {
                memset(n + cap, 0, (ncap - cap) * sizeof *n);
                step_of = n;
                cap = ncap;
            }
        }
        if (tag < cap)
            step_of[tag] = out.steps;
        if (out.rc == -1) {
            /* Not a verdict on a schedule: nothing can be explored.  Stop handing out work. */
            if (!f->fatal[0])
                snprintf(f->fatal, sizeof f->fatal, "%s", out.err);
            limit = next;
            wp_outcome_free(&out);
            continue;
        }
        if (out.rc == 1 && (!f->any || tag < f->index)) {
            if (f->any)
                wp_outcome_free(&f->out);
            f->any = true;
            f->index = tag;
            f->out = out;
        } else {
            wp_outcome_free(&out);
        }
        if (tty && now_s() - last_progress > 0.25) {
            last_progress = now_s();
            uint64_t st = 0;
            for (size_t i = 0; i < cap && i < next; i++)
                st += step_of[i];
            double el = last_progress - t_start;
            fprintf(stderr, "\r  %-18s %" PRIu64 " executions, %.0f/s, %.2f M points/s, findings %d   ", sc_name,
                    done, (double)done / (el > 0 ? el : 1), (double)(st + *steps_total) / (el > 0 ? el : 1) / 1e6,
                    f->any ? 1 : 0);
        }
    }
    if (tty)
        fprintf(stderr, "\r%80s\r", "");
    uint64_t counted = f->any ? f->index + 1 : next;
    for (uint64_t i = 0; i < counted && i < cap; i++)
        counted_steps += step_of[i];
    *steps_total += counted_steps;
    free(step_of);
    return counted;
}

int cmd_stress(int argc, char **argv)
{
    stress_opts o;
    int pr = parse(argc, argv, &o);
    if (pr != 0)
        return pr > 0 ? EXIT_CLEAN : EXIT_USAGE;
    driver_ref drv;
    char err[512];
    if (driver_resolve_kind(o.driver_arg, DRIVER_ANY, &drv, err, sizeof err) != 0) {
        fprintf(stderr, "kslab stress: %s\n", err);
        return EXIT_USAGE;
    }
    if (o.scenario && exec_scenario_index(drv.kind, o.scenario) < 0) {
        fprintf(stderr, "kslab stress: no scenario '%s' (see `kslab list`)\n", o.scenario);
        return EXIT_USAGE;
    }
    size_t nsc = exec_nscenarios(drv.kind);
    wpool *pool = wpool_create(o.jobs, &drv, &o.cfg, o.timeout_s);
    if (!pool) {
        fprintf(stderr, "kslab stress: cannot start worker processes\n");
        return EXIT_USAGE;
    }
    if (!o.json)
        printf("kslab stress: driver '%s'%s, %s, %s, %u CPU(s), %u job(s), %s\n", drv.name,
               drv.plugin ? " (plugin)" : "", o.scenario ? o.scenario : "every scenario",
               o.cfg.engine == KSL_ENGINE_THREADED ? "threaded engine"
               : o.cfg.strategy == KSL_STRATEGY_PCT ? "pct"
                                                     : "random",
               o.cfg.cpus, o.jobs,
               o.time_s > 0 ? "time-bounded" : "schedule-bounded");
    fflush(stdout);
    double t0 = now_s(), deadline = o.time_s > 0 ? t0 + o.time_s : 0;
    uint64_t executions = 0, steps = 0;
    found f = {0};
    const char *found_sc = NULL;
    uint32_t found_sci = 0;
    size_t nrun = o.scenario ? 1 : nsc;
    for (size_t k = 0; k < nsc && !f.any; k++) {
        const char *name = exec_scenario_name(drv.kind, k);
        if (o.scenario && strcmp(name, o.scenario) != 0)
            continue;
        double sc_deadline = o.time_s > 0 ? now_s() + (deadline - now_s()) / (double)(nrun--) : 0;
        uint64_t sc_steps = 0;
        uint64_t pct_steps = 0;
        uint64_t n = explore(&o, pool, (uint32_t)k, name, sc_deadline, &f, &sc_steps, t0, &pct_steps);
        executions += n;
        steps += sc_steps;
        if (f.fatal[0]) {
            fprintf(stderr, "kslab stress: scenario %s cannot run: %s\n", name, f.fatal);
            wpool_destroy(pool);
            if (f.any)
                wp_outcome_free(&f.out);
            return EXIT_USAGE;
        }
        if (!o.json && !f.any)
            printf("  %-18s %" PRIu64 " executions, %" PRIu64 " scheduling points: clean\n", name, n, sc_steps);
        if (f.any) {
            found_sc = name;
            found_sci = (uint32_t)k;
            if (pct_steps)
                o.cfg.pct_steps = pct_steps; /* the token must carry what the run used */
        }
    }
    double wall = now_s() - t0;
    int exit_code = EXIT_CLEAN;
    char *token = NULL;
    shrink_stats ss = {0};
    if (f.any) {
        exit_code = EXIT_FINDING;
        uint64_t seed = o.cfg.seed + f.index;
        bool crashed = strcmp(f.out.finding.rule, "K.driver-crash") == 0 || strcmp(f.out.finding.rule, "K.hang") == 0;
        uint32_t *choices = f.out.choices;
        size_t nch = f.out.nchoices;
        if (o.shrink && !crashed && nch) {
            wp_outcome best = {0};
            shrink(pool, found_sci, seed, choices, &nch, f.out.finding.rule, f.out.steps, &best, &ss);
            if (best.rc == 1) { /* report the shrunk run */
                best.choices = NULL;
                f.out.finding = best.finding;
                snprintf(f.out.file, sizeof f.out.file, "%s", best.file);
                f.out.steps = best.steps;
            }
            wp_outcome_free(&best);
        }
        ksl_config cfg = o.cfg;
        cfg.seed = seed;
        if (cfg.engine == KSL_ENGINE_DETERMINISTIC)
            token = make_token(drv.kind, found_sc, o.driver_arg, &cfg, !crashed && choices, crashed ? NULL : choices,
                               crashed ? 0 : nch);
        if (token && (o.trace || o.sarif))
            report_files(found_sci, &drv, token, o.trace, o.sarif, o.timeout_s, &f.out);
    } else if (o.sarif) {
        report_files(0, &drv, NULL, NULL, o.sarif, o.timeout_s, NULL);
    }
    wpool_destroy(pool);
    if (o.json) {
        printf("{\"result\":\"%s\",\"rule\":", f.any ? "violation" : "clean");
        json_write_string(stdout, f.any ? f.out.finding.rule : "");
        printf(",\"message\":");
        json_write_string(stdout, f.any ? f.out.finding.message : "");
        printf(",\"scenario\":");
        json_write_string(stdout, found_sc ? found_sc : (o.scenario ? o.scenario : ""));
        printf(",\"driver\":");
        json_write_string(stdout, drv.name);
        printf(",\"replay\":");
        json_write_string(stdout, token ? token : "");
        printf(",\"executions\":%" PRIu64 ",\"steps\":%" PRIu64, executions, f.any ? f.out.steps : steps);
        if (f.any)
            printf(",\"seed\":%" PRIu64 ",\"shrunk\":{\"steps\":[%" PRIu64 ",%" PRIu64 "],\"preemptions\":[%zu,%zu]}",
                   o.cfg.seed + f.index, ss.steps_before, ss.steps_after, ss.preempt_before, ss.preempt_after);
        printf("}\n");
    } else {
        printf("  %" PRIu64 " executions, %" PRIu64 " scheduling points, %.2f s (%.0f executions/s)\n", executions,
               steps, wall, wall > 0 ? (double)executions / wall : 0.0);
        if (f.any) {
            printf("  scenario %s, seed %" PRIu64 "\n", found_sc, o.cfg.seed + f.index);
            if (!f.out.finding.file && f.out.file[0])
                f.out.finding.file = f.out.file;
            print_finding(&f.out.finding);
            if (ss.runs)
                printf("  shrunk   %" PRIu64 " -> %" PRIu64 " steps, %zu -> %zu preemptions (%u replays)\n",
                       ss.steps_before, ss.steps_after, ss.preempt_before, ss.preempt_after, ss.runs);
            if (token)
                printf("  replay   kslab replay %s\n", token);
            else
                printf("  replay   none: %s\n", o.cfg.engine == KSL_ENGINE_THREADED ? "threaded runs do not replay"
                                                                                : "the token could not be made");
        } else {
            printf("  result   clean\n");
        }
    }
    free(token);
    if (f.any)
        wp_outcome_free(&f.out);
    return exit_code;
}

/* ---- replay ------------------------------------------------------------------------------- */

typedef struct replay_body {
    uint32_t sc;
    const driver_ref *drv;
    const ksl_config *cfg;
    const char *trace, *sarif, *token;
} replay_body;

static void replay_in_child(void *arg, wp_outcome *out)
{
    const replay_body *b = arg;
    report_run(b->sc, b->drv, b->cfg, b->token, b->trace, b->sarif, out);
}

bool replay_is_stress(const char *scenario)
{
    return strncmp(scenario, TOKEN_PREFIX, strlen(TOKEN_PREFIX)) == 0 ||
           strncmp(scenario, STREAM_TOKEN_PREFIX, strlen(STREAM_TOKEN_PREFIX)) == 0;
}

int replay_stress(const ksl_token *t, const char *text, bool json, const char *trace, const char *sarif,
                  double timeout_s)
{
    driver_kind kind = strncmp(t->scenario, STREAM_TOKEN_PREFIX, strlen(STREAM_TOKEN_PREFIX)) == 0 ? DRIVER_STREAM
                                                                                                    : DRIVER_WAVEPCI;
    long sci = exec_scenario_index(kind, t->scenario + strlen(token_prefix(kind)));
    if (sci < 0 || strncmp(t->params, "driver=", 7) != 0) {
        fprintf(stderr, "kslab replay: this build has no scenario '%s'\n", t->scenario);
        return EXIT_USAGE;
    }
    const char *sc_name = exec_scenario_name(kind, (size_t)sci);
    driver_ref drv;
    char err[512];
    if (driver_resolve_kind(t->params + 7, kind, &drv, err, sizeof err) != 0) {
        fprintf(stderr, "kslab replay: %s\n", err);
        return EXIT_USAGE;
    }
    replay_body b = {(uint32_t)sci, &drv, &t->cfg, trace, sarif, text};
    wp_outcome o;
    wp_run_isolated(timeout_s, replay_in_child, &b, &o);
    if (o.rc < 0) {
        fprintf(stderr, "kslab replay: %s\n", o.err);
        return EXIT_USAGE;
    }
    if (!o.finding.file && o.file[0])
        o.finding.file = o.file;
    if (json) {
        printf("{\"result\":\"%s\",\"rule\":", o.rc == 1 ? "violation" : "clean");
        json_write_string(stdout, o.rc == 1 ? o.finding.rule : "");
        printf(",\"message\":");
        json_write_string(stdout, o.rc == 1 ? o.finding.message : "");
        printf(",\"scenario\":");
        json_write_string(stdout, sc_name);
        printf(",\"steps\":%" PRIu64 ",\"trace_hash\":\"%016" PRIx64 "\"}\n", o.steps, o.trace_hash);
    } else {
        printf("replay of %s with driver '%s': %s\n", sc_name, drv.name,
               o.rc == 1 ? "the finding reproduces" : "clean");
        if (o.rc == 1)
            print_finding(&o.finding);
        printf("  %" PRIu64 " scheduling points, trace hash %016" PRIx64 "\n", o.steps, o.trace_hash);
    }
    int rc = o.rc == 1 ? EXIT_FINDING : EXIT_CLEAN;
    wp_outcome_free(&o);
    return rc;
}

void stress_list(FILE *f)
{
    size_t n;
    const wp_scenario *s = wp_scenarios(&n);
    fprintf(f, "WavePci stress scenarios (kslab stress DRIVER --scenario NAME):\n");
    for (size_t i = 0; i < n; i++)
        fprintf(f, "  %-18s %s\n", s[i].name, s[i].summary);
    const st_scenario *t = st_scenarios(&n);
    fprintf(f, "\nstream class stress scenarios (kslab stress MINIDRIVER --scenario NAME):\n");
    for (size_t i = 0; i < n; i++)
        fprintf(f, "  %-18s %s\n", t[i].name, t[i].summary);
}
