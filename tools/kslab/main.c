/* SPDX-License-Identifier: MIT */
/*
 * kslab — the command line.
 *
 *   kslab demo [--scenario NAME] [--runs N] [--cpus N] [--seed S] [--strategy random|pct[:D]] [--threaded]
 *   kslab replay TOKEN [--json]
 *   kslab rules
 *   kslab list
 *
 * Exit codes: 0 clean, 1 a finding, 2 usage or input error.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <kslab/engine.h>
#include <kslab/rules.h>
#include <kslab/token.h>

#include "cli.h"
#include "json.h"
#include "demo.h"
#include "stress.h"
#include "drivers.h"


static void usage(FILE *f)
{
    fputs("usage: kslab <command> [options]\n"
          "\n"
          "commands:\n"
          "  play      play a WAV file (or the built-in test signal) through a WavePci driver\n"
          "  capture   capture through a WavePci driver what a microphone hearing a WAV file records\n"
          "  stream    capture frames through a stream class minidriver, checked bit for bit; `kslab stream --help`\n"
          "  demo      run the built-in engine demonstration: a clean scenario, then a broken one\n"
          "  stress    explore a driver's schedules until a rule breaks; `kslab stress --help`\n"
          "  replay    reproduce a run from its replay token\n"
          "  rules     list every check with its id and source\n"
          "  list      list the built-in scenarios\n"
          "\n"
          "demo options:\n"
          "  --scenario NAME      run only this scenario (see `kslab list`)\n"
          "  --runs N             schedules to explore per scenario (default 200)\n"
          "  --cpus N             virtual CPUs, 1..64 (default 2)\n"
          "  --seed S             first seed (default 1)\n"
          "  --strategy S         random | pct | pct:D (default random)\n"
          "  --threaded           run on the threaded engine instead (no replay token)\n"
          "play / capture:       kslab play|capture [IN.wav] [-o OUT.wav] [options]; `kslab play --help`\n"
          "replay options:\n"
          "  --json               print the outcome as one JSON object\n"
          "  --trace FILE         (stress tokens) write the run as Chrome Trace Event JSON\n"
          "  --sarif FILE         (stress tokens) write the result as SARIF 2.1.0\n"
          "  --timeout SEC        (stress tokens) wall time before the run counts as a hang (default 20)\n"
          "\n"
          "exit status: 0 clean, 1 a finding, 2 usage or input error\n",
          f);
}

int parse_u64(const char *s, uint64_t *out)
{
    if (!s || !*s)
        return -1;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 0);
    if (errno || *end || s[0] == '-')
        return -1;
    *out = v;
    return 0;
}

int parse_strategy(const char *s, ksl_config *cfg)
{
    if (strcmp(s, "random") == 0) {
        cfg->strategy = KSL_STRATEGY_RANDOM;
        return 0;
    }
    if (strncmp(s, "pct", 3) == 0) {
        cfg->strategy = KSL_STRATEGY_PCT;
        if (s[3] == 0)
            return 0;
        uint64_t d;
        if (s[3] != ':' || parse_u64(s + 4, &d) != 0 || d < 1 || d > 64)
            return -1;
        cfg->pct_depth = (uint32_t)d;
        return 0;
    }
    return -1;
}

typedef struct outcome {
    int rc;
    demo_result res;
    ksl_finding finding;
    ksl_stats stats;
    uint64_t hash;
} outcome;

static int run_once(const demo_scenario *sc, const ksl_config *cfg, outcome *out)
{
    char err[256];
    memset(out, 0, sizeof *out);
    ksl_engine *e = ksl_engine_create(cfg, err, sizeof err);
    if (!e) {
        fprintf(stderr, "kslab: %s\n", err);
        return -1;
    }
    void *st = sc->setup(e, &out->res);
    out->rc = ksl_engine_run(e);
    if (out->rc < 0)
        fprintf(stderr, "kslab: the engine could not start the run (out of memory for its stacks?)\n");
    const ksl_finding *f = ksl_engine_finding(e);
    if (f)
        out->finding = *f;
    ksl_engine_stats(e, &out->stats);
    out->hash = ksl_engine_trace_hash(e);
    sc->teardown(st);
    ksl_engine_destroy(e);
    return out->rc;
}

void print_finding(const ksl_finding *f)
{
    printf("  finding  %s\n", f->rule);
    printf("           %s\n", f->message);
    if (f->file)
        printf("           at %s:%d\n", f->file, f->line);
    const ksl_rule *r = ksl_rule_find(f->rule);
    if (r)
        printf("           rule: %s (%s; modelled on %s)\n", r->summary, r->rule, r->modelled);
    if (f->detail[0]) {
        size_t n = strlen(f->detail);
        printf("%s%s", f->detail, f->detail[n - 1] == '\n' ? "" : " ...\n");
    }
}

static void print_token(const demo_scenario *sc, const ksl_config *cfg)
{
    ksl_token t;
    memset(&t, 0, sizeof t);
    snprintf(t.scenario, sizeof t.scenario, "demo/%s", sc->name);
    t.cfg = *cfg;
    char *s = ksl_token_encode(&t);
    if (s) {
        printf("  replay   kslab replay %s\n", s);
        free(s);
    }
}

static int cmd_demo(int argc, char **argv)
{
    ksl_config cfg;
    ksl_config_default(&cfg);
    uint64_t runs = 200;
    const char *only = NULL;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        uint64_t n;
        if (strcmp(a, "--scenario") == 0 && v) {
            only = v;
            i++;
        } else if (strcmp(a, "--runs") == 0 && v && parse_u64(v, &n) == 0 && n > 0) {
            runs = n;
            i++;
        } else if (strcmp(a, "--cpus") == 0 && v && parse_u64(v, &n) == 0 && n >= 1 && n <= KSL_MAX_CPUS) {
            cfg.cpus = (uint32_t)n;
            i++;
        } else if (strcmp(a, "--seed") == 0 && v && parse_u64(v, &n) == 0) {
            cfg.seed = n;
            i++;
        } else if (strcmp(a, "--strategy") == 0 && v && parse_strategy(v, &cfg) == 0) {
            i++;
        } else if (strcmp(a, "--threaded") == 0) {
            cfg.engine = KSL_ENGINE_THREADED;
        } else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return EXIT_CLEAN;
        } else {
            fprintf(stderr, "kslab demo: bad option or value: %s%s%s\n", a, v ? " " : "", v ? v : "");
            return EXIT_USAGE;
        }
    }
    if (only && !demo_find(only)) {
        fprintf(stderr, "kslab demo: no scenario named '%s' (see `kslab list`)\n", only);
        return EXIT_USAGE;
    }
    size_t nsc;
    const demo_scenario *all = demo_list(&nsc);
    int worst = EXIT_CLEAN;
    uint64_t first_seed = cfg.seed;
    for (size_t s = 0; s < nsc; s++) {
        const demo_scenario *sc = &all[s];
        if (only && strcmp(only, sc->name) != 0)
            continue;
        printf("scenario %s: %s\n", sc->name, sc->summary);
        uint64_t steps = 0, switches = 0, irqs = 0, dpcs = 0;
        uint64_t done = 0;
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        outcome o;
        int found = 0;
        for (uint64_t r = 0; r < runs; r++) {
            cfg.seed = first_seed + r;
            if (run_once(sc, &cfg, &o) < 0)
                return EXIT_USAGE;
            done++;
            steps += o.stats.steps;
            switches += o.stats.switches;
            irqs += o.stats.interrupts;
            dpcs += o.stats.dpcs;
            if (o.rc == 1) {
                found = 1;
                break;
            }
            if (o.res.counter != o.res.expected) {
                printf("  counter %" PRIu64 " != expected %" PRIu64 " (seed %" PRIu64 ")\n", o.res.counter, o.res.expected, cfg.seed);
                found = 1;
                break;
            }
        }
        clock_gettime(CLOCK_MONOTONIC, &t1);
        double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
        printf("  %" PRIu64 " schedule(s) on %u CPU(s), %s engine: %" PRIu64 " scheduling points, %" PRIu64
               " context switches, %" PRIu64 " interrupts, %" PRIu64 " DPCs, %.3f s\n",
               done, cfg.cpus, cfg.engine == KSL_ENGINE_THREADED ? "threaded" : "deterministic", steps, switches, irqs,
               dpcs, secs);
        if (found && o.rc == 1) {
            print_finding(&o.finding);
            if (cfg.engine == KSL_ENGINE_DETERMINISTIC)
                print_token(sc, &cfg);
            worst = EXIT_FINDING;
        } else if (found) {
            worst = EXIT_FINDING;
        } else {
            printf("  result   clean\n");
        }
        cfg.seed = first_seed;
    }
    return worst;
}

static int cmd_replay(int argc, char **argv)
{
    const char *text = NULL, *trace = NULL, *sarif = NULL;
    int json = 0;
    double timeout_s = 20.0;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0) {
            json = 1;
        } else if (strcmp(argv[i], "--timeout") == 0 && i + 1 < argc) {
            char *end;
            timeout_s = strtod(argv[++i], &end);
            if (*end || !(timeout_s > 0) || timeout_s > 86400) {
                fprintf(stderr, "kslab replay: bad --timeout '%s' (seconds, > 0)\n", argv[i]);
                return EXIT_USAGE;
            }
        } else if ((strcmp(argv[i], "--trace") == 0 || strcmp(argv[i], "--sarif") == 0) && i + 1 < argc) {
            if (strcmp(argv[i], "--trace") == 0)
                trace = argv[++i];
            else
                sarif = argv[++i];
        } else if (argv[i][0] != '-' && !text) {
            text = argv[i];
        } else {
            fprintf(stderr, "kslab replay: bad option: %s\n", argv[i]);
            return EXIT_USAGE;
        }
    }
    if (!text) {
        fprintf(stderr, "kslab replay: give the replay token a finding printed\n");
        return EXIT_USAGE;
    }
    ksl_token t;
    char err[256];
    if (ksl_token_decode(text, &t, err, sizeof err) != 0) {
        fprintf(stderr, "kslab replay: %s\n", err);
        return EXIT_USAGE;
    }
    if (replay_is_stress(t.scenario)) {
        int rc = replay_stress(&t, text, json != 0, trace, sarif, timeout_s);
        ksl_token_free(&t);
        return rc;
    }
    if (trace || sarif) {
        fprintf(stderr, "kslab replay: --trace and --sarif are for tokens from kslab stress\n");
        ksl_token_free(&t);
        return EXIT_USAGE;
    }
    const demo_scenario *sc = strncmp(t.scenario, "demo/", 5) == 0 ? demo_find(t.scenario + 5) : NULL;
    if (!sc) {
        fprintf(stderr, "kslab replay: this build has no scenario '%s'\n", t.scenario);
        ksl_token_free(&t);
        return EXIT_USAGE;
    }
    outcome o;
    int rc = run_once(sc, &t.cfg, &o);
    ksl_token_free(&t);
    if (rc < 0)
        return EXIT_USAGE;
    if (json) {
        printf("{\"result\":\"%s\",\"rule\":", o.rc == 1 ? "violation" : "clean");
        json_write_string(stdout, o.rc == 1 ? o.finding.rule : "");
        printf(",\"message\":");
        json_write_string(stdout, o.rc == 1 ? o.finding.message : "");
        printf(",\"steps\":%" PRIu64 ",\"trace_hash\":\"%016" PRIx64 "\"}\n", o.stats.steps, o.hash);
    } else {
        printf("replay of %s: %s\n", sc->name, o.rc == 1 ? "the finding reproduces" : "clean");
        if (o.rc == 1)
            print_finding(&o.finding);
        printf("  %" PRIu64 " scheduling points, trace hash %016" PRIx64 "\n", o.stats.steps, o.hash);
    }
    return o.rc == 1 ? EXIT_FINDING : EXIT_CLEAN;
}

static int cmd_rules(void)
{
    size_t n;
    const ksl_rule *r = ksl_rules(&n);
    for (size_t i = 0; i < n; i++)
        printf("%-36s %-8s %s  [%s]\n", r[i].id, r[i].rule, r[i].summary, r[i].modelled);
    return EXIT_CLEAN;
}

static int cmd_list(void)
{
    size_t n;
    const demo_scenario *s = demo_list(&n);
    printf("scenarios (demo):\n");
    for (size_t i = 0; i < n; i++)
        printf("  %-12s %s%s\n", s[i].name, s[i].summary, s[i].buggy ? " [broken on purpose]" : "");
    printf("\n");
    stress_list(stdout);
    printf("\n");
    driver_list(stdout);
    return EXIT_CLEAN;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "demo") == 0)
        return cmd_demo(argc - 2, argv + 2);
    if (strcmp(cmd, "replay") == 0)
        return cmd_replay(argc - 2, argv + 2);
    if (strcmp(cmd, "stress") == 0)
        return cmd_stress(argc - 2, argv + 2);
    if (strcmp(cmd, "play") == 0)
        return cmd_audio(argc - 2, argv + 2, false);
    if (strcmp(cmd, "stream") == 0)
        return cmd_stream(argc - 2, argv + 2);
    if (strcmp(cmd, "capture") == 0)
        return cmd_audio(argc - 2, argv + 2, true);
    if (strcmp(cmd, "rules") == 0)
        return cmd_rules();
    if (strcmp(cmd, "list") == 0)
        return cmd_list();
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        usage(stdout);
        return EXIT_CLEAN;
    }
    fprintf(stderr, "kslab: unknown command '%s'\n", cmd);
    usage(stderr);
    return EXIT_USAGE;
}
