/* SPDX-License-Identifier: MIT */
/* The command line's options (see opts.h). */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "opts.h"

#define ALL_RUNS (CMD_STRESS | CMD_DEMO | CMD_PLAY | CMD_CAPTURE | CMD_STREAM)
#define AUDIO (CMD_PLAY | CMD_CAPTURE)
#define JOBS (CMD_PLAY | CMD_CAPTURE | CMD_STREAM)
#define EXPLORE (CMD_STRESS | CMD_DEMO)
#define OUTPUTS (CMD_STRESS | CMD_PLAY | CMD_CAPTURE | CMD_STREAM | CMD_REPLAY)
#define REPORTS (OUTPUTS | CMD_MERGE)

typedef enum field {
    F_HELP, F_DRIVER, F_DEVICE, F_CPUS, F_SEED, F_STRATEGY, F_TIMEOUT, F_STEP_CPU, F_TRACE, F_SARIF, F_SRCROOT,
    F_JUNIT, F_JSON, F_SCENARIO,
    F_SCHEDULES, F_TIME, F_JOBS, F_NO_SHRINK, F_KEEP_GOING, F_MAX_FINDINGS, F_STATUS_EVERY, F_RULES, F_BASELINE,
    F_SUPPRESSIONS, F_THREADED, F_OUTPUT, F_IRP_MS, F_IN_FLIGHT, F_CANCEL_EVERY,
    F_PAUSE_EVERY, F_BUFFER_OFFSET, F_CONTIGUOUS, F_STOP_AFTER, F_RATE, F_CHANNELS, F_SECONDS, F_FRAMES,
    F_CLOSE_AFTER, F_INPUT, F_COVERAGE, F_SHARD, F_DOCS_URL, F_SCENARIO_FILE, F_REGISTRY,
} field;

typedef enum kind { K_FLAG, K_STR, K_NUM, K_SECONDS, K_STRATEGY, K_SHARD } kind;

typedef struct opt_def {
    const char *name;
    const char *alias;       /* another spelling, or NULL */
    unsigned cmds;
    kind kind;
    field field;
    uint64_t lo, hi;         /* K_NUM */
    const char *metavar;
    const char *help;
} opt_def;

static const opt_def defs[] = {
    {"--driver", NULL, JOBS | CMD_REPLAY, K_STR, F_DRIVER, 0, 0, "NAME|PATH",
     "the driver: a built-in name (`kslab list`) or a driver plugin .so (a path: contains '/' or ends in .so); "
     "replay: the plugin a token was made with"},
    {"--device", NULL, CMD_STRESS | JOBS | CMD_REPLAY, K_STR, F_DEVICE, 0, 0, "PATH",
     "a device-model plugin .so the driver runs on instead of the built-in device it names"},
    {"--scenario", NULL, EXPLORE, K_STR, F_SCENARIO, 0, 0, "NAME", "one scenario (`kslab list`); default: all, in order"},
    {"--scenario-file", NULL, CMD_STRESS | CMD_REPLAY, K_STR, F_SCENARIO_FILE, 0, 0, "FILE",
     "stress: the scenarios of FILE (docs/SCENARIOS.md; `kslab scenarios` prints the built-in ones in that form) "
     "instead of the built-in ones; replay: the file a token of one of them was made with"},
    {"--registry", NULL, CMD_STRESS | AUDIO | CMD_REPLAY, K_STR, F_REGISTRY, 0, 0, "FILE",
     "the keys and values a PortCls adapter's registry holds before DriverEntry (JSON; docs/REAL-DRIVERS.md); "
     "replay: the file a token was made with"},
    {"--strategy", NULL, ALL_RUNS, K_STRATEGY, F_STRATEGY, 0, 0, "S", "random | pct | pct:D (default random)"},
    {"--schedules", "--runs", EXPLORE, K_NUM, F_SCHEDULES, 1, KSL_MAX_SCHEDULES, "N",
     "executions per scenario (default: stress 1000, demo 200)"},
    {"--time", NULL, CMD_STRESS, K_SECONDS, F_TIME, 0, 0, "SEC", "instead: explore for SEC seconds, shared by the scenarios"},
    {"--shard", NULL, CMD_STRESS, K_SHARD, F_SHARD, 0, 0, "I/N",
     "run shard I of N of every scenario's seeds (those with index mod N = I-1), for `kslab merge` to combine: "
     "N machines run together exactly what one would (needs --schedules, not --time; no --max-findings)"},
    /* Every execution's seed S+i stays a JSON integer (below 2^63). */
    {"--seed", NULL, ALL_RUNS, K_NUM, F_SEED, 0, INT64_MAX - KSL_MAX_SCHEDULES, "S",
     "the (first) seed (default 1); execution i uses S+i"},
    {"--cpus", NULL, ALL_RUNS, K_NUM, F_CPUS, 1, KSL_MAX_CPUS, "N", "virtual CPUs, 1..64 (default 2)"},
    {"--jobs", NULL, EXPLORE, K_NUM, F_JOBS, 1, KSL_MAX_JOBS, "J", "worker processes, 1..64 (default 1)"},
    {"--timeout", NULL, ALL_RUNS | CMD_REPLAY, K_SECONDS, F_TIMEOUT, 0, 0, "SEC",
     "wall time one execution may take before it is K.hang (default 20, more for long jobs)"},
    {"--step-cpu", NULL, ALL_RUNS | CMD_REPLAY, K_SECONDS, F_STEP_CPU, 0, 0, "SEC",
     "CPU time a driver context may run without a scheduling point before it is K.hang, naming its last call "
     "(default 0.25; 1 in a sanitizer build)"},
    {"--coverage", NULL, CMD_STRESS, K_FLAG, F_COVERAGE, 0, 0, NULL,
     "print which named race windows the executions reached, how often, and which never (always in --json)"},
    {"--no-shrink", NULL, CMD_STRESS, K_FLAG, F_NO_SHRINK, 0, 0, NULL, "report the finding as found, not shrunk"},
    {"--keep-going", NULL, CMD_STRESS, K_FLAG, F_KEEP_GOING, 0, 0, NULL,
     "explore the whole budget and report each distinct finding once (the lowest seed that has it, shrunk, "
     "with its own token), in seed order"},
    {"--status-every", NULL, CMD_STRESS | CMD_DEMO, K_SECONDS, F_STATUS_EVERY, 0, 0, "SEC",
     "on a pipe or CI log (not a terminal), a status line with the findings so far and an ETA every SEC seconds "
     "(default 5)"},
    {"--max-findings", NULL, CMD_STRESS, K_NUM, F_MAX_FINDINGS, 1, 1000000, "N",
     "with --keep-going: stop after N distinct findings"},
    {"--rules", NULL, CMD_STRESS, K_STR, F_RULES, 0, 0, "PATTERNS",
     "which rules count: comma-separated globs over rule ids, -GLOB excludes (e.g. 'W*,S*,-S6.*'); a rule whose "
     "finding ends its execution (a crash, a hang, a corrupted state) cannot be excluded"},
    {"--baseline", NULL, CMD_STRESS, K_STR, F_BASELINE, 0, 0, "FILE",
     "a previous --json or --sarif result: its findings (by fingerprint) do not fail the run, new ones do "
     "(implies --keep-going)"},
    {"--suppressions", NULL, CMD_STRESS, K_STR, F_SUPPRESSIONS, 0, 0, "FILE",
     "a JSON file of suppressions (rule, file, function, justification; docs/CI.md): the findings they "
     "match do not fail the run"},
    {"--threaded", NULL, EXPLORE, K_FLAG, F_THREADED, 0, 0, NULL,
     "run on the threaded engine (real threads, no replay token, no shrinking): the stress baseline"},
    {"--output", "-o", AUDIO, K_STR, F_OUTPUT, 0, 0, "OUT.wav",
     "write the played / captured audio as a 16-bit PCM WAV file (only after a clean run)"},
    {"--input", NULL, CMD_REPLAY, K_STR, F_INPUT, 0, 0, "IN.wav", "the WAV file a play / capture token was made with"},
    {"--irp-ms", NULL, AUDIO, K_NUM, F_IRP_MS, 1, 1000, "MS", "audio per IRP in ms (default 10)"},
    {"--frames", NULL, CMD_STREAM, K_NUM, F_FRAMES, 1, 1000000, "N", "read SRBs to submit, 1..1000000 (default 200)"},
    {"--in-flight", NULL, JOBS, K_NUM, F_IN_FLIGHT, 1, 64, "N", "IRPs / SRBs kept submitted, 1..64 (default 4)"},
    {"--cancel-every", NULL, JOBS, K_NUM, F_CANCEL_EVERY, 0, UINT32_MAX, "K",
     "cancel every K-th IRP / SRB while it is in flight (default 0: never)"},
    {"--pause-every", NULL, JOBS, K_NUM, F_PAUSE_EVERY, 0, 3600000, "MS",
     "pause for 1 ms every MS of virtual time (play/capture default 0: never; stream default 7)"},
    {"--stop-after", NULL, AUDIO, K_NUM, F_STOP_AFTER, 0, UINT32_MAX, "N",
     "STOP the pin after N IRPs completed, with the rest queued (default 0: play to the end)"},
    {"--close-after", NULL, CMD_STREAM, K_NUM, F_CLOSE_AFTER, 0, 1000000, "N",
     "STOP and close the stream after N SRBs completed, with the rest outstanding (default 0: never)"},
    {"--buffer-offset", NULL, AUDIO, K_NUM, F_BUFFER_OFFSET, 0, 4092, "N",
     "IRP buffers start N bytes into a page (a multiple of 4, default 0)"},
    {"--contiguous", NULL, AUDIO, K_FLAG, F_CONTIGUOUS, 0, 0, NULL, "do not scatter physical pages"},
    {"--rate", NULL, AUDIO, K_NUM, F_RATE, 1, 192000, "HZ", "the built-in signal's rate (default 48000)"},
    {"--channels", NULL, AUDIO, K_NUM, F_CHANNELS, 1, 8, "N", "the built-in signal's channels (default 2)"},
    {"--seconds", NULL, AUDIO, K_NUM, F_SECONDS, 1, 3600, "S", "the built-in signal's length (default 2)"},
    {"--trace", NULL, OUTPUTS, K_STR, F_TRACE, 0, 0, "FILE",
     "write the run (stress: the finding's run) as Chrome Trace Event JSON (opens in Perfetto)"},
    {"--sarif", NULL, REPORTS, K_STR, F_SARIF, 0, 0, "FILE", "write the result as SARIF 2.1.0 (GitHub code scanning)"},
    {"--junit", NULL, REPORTS, K_STR, F_JUNIT, 0, 0, "FILE",
     "write the result as JUnit XML: a test case per scenario, a failure per finding (Jenkins, GitLab, Azure)"},
    {"--srcroot", NULL, REPORTS, K_STR, F_SRCROOT, 0, 0, "DIR",
     "SARIF: file locations relative to DIR (%SRCROOT%), its paths dropped from messages (default: the working "
     "directory)"},
    {"--docs-url", NULL, REPORTS, K_STR, F_DOCS_URL, 0, 0, "URL",
     "SARIF: each rule's helpUri is URL#<rule anchor> (URL: where your team publishes docs/CHECKS.md, made by "
     "`kslab rules --markdown`); default: the build's KSLAB_DOCS_URL, none when empty"},
    {"--json", NULL, REPORTS | CMD_DEMO, K_FLAG, F_JSON, 0, 0, NULL,
     "print the result as one JSON document on stdout instead of the report"},
    {"--help", "-h", ~0u, K_FLAG, F_HELP, 0, 0, NULL, "this help"},
};

unsigned cli_command(const char *name)
{
    static const struct {
        const char *name;
        unsigned bit;
    } cmds[] = {{"stress", CMD_STRESS}, {"demo", CMD_DEMO},     {"play", CMD_PLAY},
                {"capture", CMD_CAPTURE}, {"stream", CMD_STREAM}, {"replay", CMD_REPLAY},
                {"merge", CMD_MERGE}};
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
        if (strcmp(cmds[i].name, name) == 0)
            return cmds[i].bit;
    return 0;
}

static void defaults(unsigned cmd, cli_opts *o)
{
    memset(o, 0, sizeof *o);
    o->cmd = cmd;
    ksl_config_default(&o->cfg);
    o->cfg.seed = 1;
    o->schedules = cmd == CMD_DEMO ? 200 : 1000;
    o->jobs = 1;
    o->status_every_s = 5;
    ksl_job_default(&o->job, cmd == CMD_CAPTURE ? KSL_JOB_CAPTURE : cmd == CMD_STREAM ? KSL_JOB_STREAM : KSL_JOB_PLAY);
    o->seconds = o->job.frames / o->job.rate;
    if (cmd & AUDIO)
        o->driver = "ac97";
    else if (cmd == CMD_STREAM)
        o->driver = "isr-dpc-pio";
}

/* An unsigned number in `base` (0: decimal or 0x hex): 0, or -1. */
static int parse_base(const char *s, int base, uint64_t *out)
{
    if (!s || !*s || s[0] == '-' || s[0] == '+' || s[0] == ' ')
        return -1;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, base);
    if (errno || *end)
        return -1;
    *out = v;
    return 0;
}

static int parse_u64(const char *s, uint64_t *out)
{
    return parse_base(s, 0, out);
}

static int parse_strategy(const char *s, ksl_config *cfg)
{
    if (strcmp(s, "random") == 0) {
        cfg->strategy = KSL_STRATEGY_RANDOM;
        return 0;
    }
    if (strncmp(s, "pct", 3) != 0)
        return -1;
    if (s[3] == 0) {
        cfg->strategy = KSL_STRATEGY_PCT;
        return 0;
    }
    uint64_t d;
    if (s[3] != ':' || parse_u64(s + 4, &d) != 0 || d < 1 || d > 64)
        return -1;
    cfg->strategy = KSL_STRATEGY_PCT;
    cfg->pct_depth = (uint32_t)d;
    return 0;
}

static void set_num(cli_opts *o, field f, uint64_t v)
{
    switch (f) {
    case F_CPUS: o->cfg.cpus = (uint32_t)v; break;
    case F_SEED: o->cfg.seed = v; break;
    case F_SCHEDULES: o->schedules = v; o->schedules_set = true; break;
    case F_JOBS: o->jobs = (unsigned)v; break;
    case F_IRP_MS: o->job.irp_ms = (uint32_t)v; break;
    case F_FRAMES: o->job.srbs = (uint32_t)v; break;
    case F_IN_FLIGHT: o->job.in_flight = (uint32_t)v; break;
    case F_CANCEL_EVERY: o->job.cancel_every = (uint32_t)v; break;
    case F_PAUSE_EVERY: o->job.pause_every_ms = (uint32_t)v; break;
    case F_STOP_AFTER: o->job.stop_after = (uint32_t)v; break;
    case F_CLOSE_AFTER: o->job.close_after = (uint32_t)v; break;
    case F_BUFFER_OFFSET: o->job.buffer_offset = (uint32_t)v; break;
    case F_RATE: o->job.rate = (uint32_t)v; break;
    case F_CHANNELS: o->job.channels = (uint32_t)v; break;
    case F_SECONDS: o->seconds = v; break;
    case F_MAX_FINDINGS: o->max_findings = v; break;
    default: break;
    }
}

static void set_str(cli_opts *o, field f, const char *v)
{
    switch (f) {
    case F_DRIVER: o->driver = v; break;
    case F_DEVICE: o->device = v; break;
    case F_SCENARIO: o->scenario = v; break;
    case F_OUTPUT: o->output = v; break;
    case F_INPUT: o->input = v; break;
    case F_TRACE: o->trace = v; break;
    case F_SARIF: o->sarif = v; break;
    case F_SRCROOT: o->srcroot = v; break;
    case F_JUNIT: o->junit = v; break;
    case F_BASELINE: o->baseline = v; break;
    case F_RULES: o->rules = v; break;
    case F_SUPPRESSIONS: o->suppressions = v; break;
    case F_DOCS_URL: o->docs_url = v; break;
    case F_SCENARIO_FILE: o->scenario_file = v; break;
    case F_REGISTRY: o->registry = v; break;
    default: break;
    }
}

static void set_flag(cli_opts *o, field f)
{
    switch (f) {
    case F_HELP: o->help = true; break;
    case F_JSON: o->json = true; break;
    case F_NO_SHRINK: o->no_shrink = true; break;
    case F_KEEP_GOING: o->keep_going = true; break;
    case F_COVERAGE: o->coverage = true; break;
    case F_THREADED: o->threaded = true; break;
    case F_CONTIGUOUS: o->job.contiguous = true; break;
    default: break;
    }
}

static const opt_def *find(const char *a)
{
    for (size_t i = 0; i < sizeof defs / sizeof defs[0]; i++)
        if (strcmp(defs[i].name, a) == 0 || (defs[i].alias && strcmp(defs[i].alias, a) == 0))
            return &defs[i];
    return NULL;
}

/* A positional argument of `cmd`: 0, or -1 with err. */
static int positional(cli_opts *o, const char *a, char *err, size_t errlen)
{
    if (o->cmd == CMD_MERGE) {
        if (o->nfiles == CLI_MAX_FILES) {
            snprintf(err, errlen, "more than %d results to merge", CLI_MAX_FILES);
            return -1;
        }
        o->files[o->nfiles++] = a;
        return 0;
    }
    const char **slot = (o->cmd & AUDIO) ? &o->input : o->cmd == CMD_REPLAY ? &o->token : NULL;
    const char *what = (o->cmd & AUDIO) ? "input file" : "token";
    if (!slot) {
        snprintf(err, errlen, "unexpected argument '%s'", a);
        return -1;
    }
    if (*slot) {
        snprintf(err, errlen, "more than one %s ('%s')", what, a);
        return -1;
    }
    *slot = a;
    return 0;
}

int cli_parse(unsigned cmd, int argc, char **argv, cli_opts *o, char *err, size_t errlen)
{
    defaults(cmd, o);
    const char *stress_driver = NULL;
    if (cmd == CMD_STRESS)
        o->driver = NULL;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (!a) {
            snprintf(err, errlen, "an empty argument");
            return -1;
        }
        if (a[0] != '-' || !a[1]) {
            if (cmd == CMD_STRESS && !stress_driver) {
                stress_driver = a;
                continue;
            }
            if (cmd == CMD_STRESS) {
                snprintf(err, errlen, "more than one driver ('%s')", a);
                return -1;
            }
            if (positional(o, a, err, errlen) != 0)
                return -1;
            continue;
        }
        const opt_def *d = find(a);
        if (!d || !(d->cmds & cmd)) {
            snprintf(err, errlen, "unknown option '%s' (see --help)", a);
            return -1;
        }
        if (d->kind == K_FLAG) {
            set_flag(o, d->field);
            continue;
        }
        if (i + 1 >= argc || !argv[i + 1]) {
            snprintf(err, errlen, "option %s needs a value (%s)", a, d->metavar);
            return -1;
        }
        const char *v = argv[++i];
        switch (d->kind) {
        case K_STR:
            if (!*v) {
                snprintf(err, errlen, "option %s needs a value (%s), not an empty one", a, d->metavar);
                return -1;
            }
            set_str(o, d->field, v);
            break;
        case K_STRATEGY:
            if (parse_strategy(v, &o->cfg) != 0) {
                snprintf(err, errlen, "bad --strategy '%s' (random, pct or pct:D with D 1..64)", v);
                return -1;
            }
            break;
        case K_SHARD: {
            uint64_t si = 0, n = 0;
            const char *slash = strchr(v, '/');
            char head[24];
            size_t hl = slash ? (size_t)(slash - v) : 0;
            if (slash && hl < sizeof head) {
                memcpy(head, v, hl);
                head[hl] = 0;
            }
            /* Decimal only: CI systems pad shard numbers with zeros ("08/16"), which are not octal. */
            if (!slash || hl >= sizeof head || parse_base(head, 10, &si) != 0 || parse_base(slash + 1, 10, &n) != 0 || n < 1 ||
                n > 1000000 || si < 1 || si > n) {
                snprintf(err, errlen, "bad --shard '%s' (I/N: shard I of N, 1 <= I <= N <= 1000000)", v);
                return -1;
            }
            o->shard_index = (uint32_t)si;
            o->shard_count = (uint32_t)n;
            break;
        }
        case K_SECONDS: {
            char *end;
            errno = 0;
            double s = strtod(v, &end);
            if (errno || *end || !*v || !isfinite(s) || !(s > 0) || s > KSL_MAX_TIMEOUT_S) {
                snprintf(err, errlen, "bad %s '%s' (seconds, above 0, at most %g)", a, v, KSL_MAX_TIMEOUT_S);
                return -1;
            }
            if (d->field == F_TIME)
                o->time_s = s;
            else if (d->field == F_STATUS_EVERY)
                o->status_every_s = s;
            else if (d->field == F_STEP_CPU)
                o->step_cpu_s = s;
            else
                o->timeout_s = s;
            break;
        }
        case K_NUM: {
            uint64_t n;
            if (parse_u64(v, &n) != 0) {
                snprintf(err, errlen, "bad number '%s' for %s", v, a);
                return -1;
            }
            if (n < d->lo || n > d->hi) {
                snprintf(err, errlen, "%s %s: must be %llu..%llu", a, v, (unsigned long long)d->lo,
                         (unsigned long long)d->hi);
                return -1;
            }
            if (d->field == F_BUFFER_OFFSET && n % 4) {
                snprintf(err, errlen, "--buffer-offset %s: must be a multiple of 4 below 4096", v);
                return -1;
            }
            set_num(o, d->field, n);
            break;
        }
        default:
            break;
        }
    }
    if (o->help)
        return 0;
    if (o->max_findings && !o->keep_going && !o->baseline) {
        snprintf(err, errlen, "--max-findings needs --keep-going");
        return -1;
    }
    if (o->shard_count && (o->time_s > 0 || o->max_findings)) {
        snprintf(err, errlen, "--shard needs a schedule budget and every shard's whole share: not with %s",
                 o->time_s > 0 ? "--time" : "--max-findings");
        return -1;
    }
    if (cmd == CMD_MERGE && !o->nfiles) {
        snprintf(err, errlen, "give the JSON results of every shard (kslab stress --shard I/N --json)");
        return -1;
    }
    if (o->docs_url && !strstr(o->docs_url, "://")) {
        snprintf(err, errlen, "--docs-url %s: not an absolute URL (https://...)", o->docs_url);
        return -1;
    }
    struct stat st;
    if (o->srcroot && (stat(o->srcroot, &st) != 0 || !S_ISDIR(st.st_mode))) {
        snprintf(err, errlen, "--srcroot %s: not a directory", o->srcroot);
        return -1;
    }
    if (cmd == CMD_STRESS)
        o->driver = o->driver ? o->driver : stress_driver;
    if (cmd == CMD_STRESS && !o->driver) {
        snprintf(err, errlen, "name a driver (a built-in name or a plugin path)");
        return -1;
    }
    if (cmd == CMD_REPLAY && !o->token) {
        snprintf(err, errlen, "give the replay token a finding printed");
        return -1;
    }
    if (cmd == CMD_STRESS && o->time_s > 0 && o->schedules_set) {
        snprintf(err, errlen, "give --schedules or --time, not both");
        return -1;
    }
    if (o->threaded)
        o->cfg.engine = KSL_ENGINE_THREADED;
    if (cmd & AUDIO)
        o->job.frames = (uint64_t)o->job.rate * o->seconds;
    return 0;
}

void cli_print_options(FILE *f, unsigned cmd)
{
    for (size_t i = 0; i < sizeof defs / sizeof defs[0]; i++) {
        const opt_def *d = &defs[i];
        if (!(d->cmds & cmd))
            continue;
        char head[64];
        snprintf(head, sizeof head, "%s%s%s%s%s", d->alias && d->alias[1] != '-' ? d->alias : "",
                 d->alias && d->alias[1] != '-' ? ", " : "", d->name, d->metavar ? " " : "",
                 d->metavar ? d->metavar : "");
        fprintf(f, "  %-22s %s\n", head, d->help);
    }
}
