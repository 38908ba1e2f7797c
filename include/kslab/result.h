/* SPDX-License-Identifier: MIT */
/*
 * The result of a kslab run (<kslab/campaign.h>): a campaign that explores a driver's schedules
 * (`kslab stress`), one job (`kslab play`, `capture`, `stream`), the replay of a token, or the
 * engine's demonstrations.  One type for all of them, so that every writer (<kslab/report.h>:
 * JSON, SARIF) and every printer takes the same thing.
 *
 * A result owns everything it points to; ksl_result_free frees it.  Strings are UTF-8 (text a
 * driver printed is cleaned of invalid sequences) and never NULL unless the field says so.
 * Host code: nothing here runs inside an engine.
 */
#ifndef KSLAB_RESULT_H
#define KSLAB_RESULT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <kslab/engine.h>

#ifdef __cplusplus
extern "C" {
#endif

/* What came of the run; the command line's exit status is in the comment. */
typedef enum ksl_verdict {
    KSL_VERDICT_CLEAN = 0,       /* exit 0: nothing found */
    KSL_VERDICT_FOUND = 1,       /* exit 1: at least one finding */
    KSL_VERDICT_ERROR = 2,       /* exit 2: the run could not be made (bad driver, plugin, option or
                                  * input; kslab out of memory or processes): see `error` */
    KSL_VERDICT_INTERRUPTED = 3, /* exit 128 + signal: stopped by ksl_stop(); the counts and
                                  * findings are those of what ran before */
} ksl_verdict;

/* One event of a run, for reports: the last events before a finding (SARIF's thread flows). */
typedef struct ksl_run_event {
    uint64_t step;        /* the engine's scheduling-point count */
    uint64_t time_ns;     /* virtual time on its CPU */
    int32_t cpu;          /* -1: the device (hardware) */
    uint8_t irql;
    char phase;           /* 'i' an instant; 'B' / 'E' a context begins / ends running */
    int line;             /* of `file`; 0 when unknown */
    char *what;           /* "acquire spin lock", "register write", DbgPrint text; 'B'/'E': the context */
    char *context;        /* "thread 'client'", "DPC 'service group'", "idle", "device" */
    char *file;           /* the call site as the engine saw it ("" when unknown) */
} ksl_run_event;

/* How the schedule of a finding was shrunk. */
typedef struct ksl_shrink_info {
    uint64_t steps_before, steps_after;
    uint64_t preemptions_before, preemptions_after; /* non-zero choices */
    uint32_t replays;                               /* 0: not shrunk */
} ksl_shrink_info;

/* A rule broken. */
/* Whether a finding is new (it fails the run) or known (ksl_stress_opts.baseline, .suppressions). */
typedef enum ksl_known { KSL_KNOWN_NEW = 0, KSL_KNOWN_BASELINE = 1, KSL_KNOWN_SUPPRESSED = 2 } ksl_known;

typedef struct ksl_result_finding {
    char *rule;           /* stable id, e.g. "W6.removed-twice" (`kslab rules`) */
    char *message;        /* one line */
    char *context;        /* the context that broke it, e.g. "DPC 'service group'" */
    int32_t cpu;          /* -1 when not on a CPU */
    uint8_t irql;
    char *file;           /* the call site (the driver's line when kslab knows it); NULL: unknown */
    int line;
    char *function;       /* the function that line is in (from the module's DWARF); NULL: unknown */
    char *racing_context; /* a race: the other side's context, call site and function; NULL, 0,
                           * NULL: not a race (or its other side is unknown) */
    char *racing_file;
    int racing_line;
    char *racing_function;
    char *fingerprint;    /* 16 hex digits from the rule, the call site's file name and function: the
                           * same finding keeps it when unrelated lines move */
    char *detail;         /* multi-line: the wait-for picture, a lock cycle, the last events */
    char *scenario;       /* the scenario or job it was found in ("cancel-race", "play", ...) */
    uint64_t seed;        /* the seed of the execution that found it */
    uint64_t steps;       /* scheduling points of that execution (after shrinking) */
    uint64_t time_ns;     /* virtual time of the finding */
    char *token;          /* `kslab replay` token; NULL: the run does not replay (threaded engine) */
    ksl_shrink_info shrink;
    ksl_run_event *events;    /* the events leading to it, oldest first (may be empty) */
    size_t nevents;
    char *driver_output;  /* what the driver wrote to stdout/stderr in that execution, bounded
                           * (head and tail kept); NULL: nothing */
    uint64_t origin;      /* a campaign with keep_going: which of the scenario's executions it stands
                           * for (a hash of the rule and call site of the first finding of its
                           * execution before shrinking: ksl_result_merge takes the lowest seed
                           * per origin); 0: none */
    ksl_known known;      /* new, or known: in the baseline, or suppressed */
    char *justification;  /* KSL_KNOWN_SUPPRESSED: the suppression's; else NULL */
} ksl_result_finding;

/* One scenario of a campaign. */
typedef struct ksl_result_scenario {
    char *name;
    uint64_t executions;  /* counted up to the finding, when it has one */
    uint64_t steps;
    bool found;
    uint64_t pct_steps;   /* PCT's run-length estimate used for it (0: not PCT) */
} ksl_result_scenario;

/* A named race window of a campaign (<kslab/windows.h>): how often the explored executions
 * reached it. */
typedef struct ksl_result_window {
    const char *name;     /* the catalog's (static: not freed with the result) */
    const char *family;   /* "wavepci" or "stream" */
    uint64_t executions;  /* executions that reached it at least once */
    uint64_t hits;        /* times it was reached, in all */
} ksl_result_window;

/* A named count of one job ("bytes.played", "irps.cancelled", "entry.HwInterrupt.max_ns"). */
typedef struct ksl_counter {
    char *name;
    uint64_t value;
} ksl_counter;

/* The driver (and device model) the run used. */
typedef struct ksl_result_driver {
    char *name;           /* the driver's own name ("ac97") */
    char *arg;            /* as the user named it: a built-in name or the plugin's path */
    char *kind;           /* "wavepci", "stream", or "" (the engine demonstrations) */
    char *description;
    char *device;         /* the device model it runs on ("ac97", "fifocap", a plugin's name) */
    bool plugin;
    uint64_t hash;        /* plugin: a hash of its file (replay tokens carry it); 0 built in */
    char *device_plugin;  /* --device: the device plugin's path; NULL: built in */
    uint64_t device_hash;
} ksl_result_driver;

typedef struct ksl_result {
    ksl_verdict verdict;
    int signal;           /* KSL_VERDICT_INTERRUPTED: the signal */
    char *error;          /* KSL_VERDICT_ERROR: one line naming the problem; else NULL */
    char *warning;        /* something the user should know that did not stop the run (a replay
                           * with a plugin that differs from the token's); else NULL */
    char *command;        /* "stress", "play", "capture", "stream", "replay", "demo" */
    ksl_result_driver driver;
    ksl_config config;    /* the settings (config.seed: the first seed; choices are not kept) */
    bool threaded;        /* the threaded engine ran it (no replay tokens) */
    /* A campaign: its budget (executions asked per scenario; 0: bounded by time, or not a
     * campaign), whether it kept going past findings, and the shard of the seed space it ran
     * (shard_count 0: all of it; else shard shard_index of shard_count, from 1). */
    uint64_t schedules;
    bool keep_going;
    uint32_t shard_index, shard_count;
    uint64_t scenario_file;   /* the campaign's scenarios came from a scenario file: its hash; 0 built in */
    uint64_t registry;        /* its registry file's hash (ksl_run_opts.registry); 0 none */
    uint64_t identity;        /* a hash of everything else a campaign's verdicts depend on (kslab's
                               * version, --scenario, --rules, shrinking, the device plugin, the
                               * baseline and suppression files, the engine limits): shards of one
                               * campaign have the same; 0 not a campaign */
    uint64_t executions;  /* counted up to the finding of each scenario */
    uint64_t steps;
    double wall_s;
    ksl_result_scenario *scenarios;
    size_t nscenarios;
    ksl_result_finding *findings; /* in a deterministic order */
    size_t nfindings;
    /* A campaign (stress) with the deterministic engine: every race window of the driver's kind,
     * in catalog order, over the executions counted (none: the threaded engine keeps no spans). */
    ksl_result_window *windows;
    size_t nwindows;
    /* One job (play, capture, stream, replay): */
    ksl_counter *counters;
    size_t ncounters;
    char *data_check;     /* what the output check said ("output is bit-exact: ..."); NULL: none */
    char *driver_output;  /* what the driver printed in the run, bounded; NULL: nothing */
    int16_t *output;      /* play / capture with keep_output, after a clean run: the samples */
    uint64_t output_frames;
    uint32_t output_rate;
    uint16_t output_channels;
} ksl_result;

/* Free a result and everything it owns (NULL is fine).  Host code. */
void ksl_result_free(ksl_result *r);
/* The value of counter `name`, or `otherwise` when the result has none of that name.  Host code. */
uint64_t ksl_result_counter(const ksl_result *r, const char *name, uint64_t otherwise);
/* The command line's exit status for a result: 0, 1 (a new finding: one with findings that are all
 * in the baseline or suppressed is 0), 2, or 128 + signal.  Host code. */
int ksl_result_exit_status(const ksl_result *r);
/* "clean", "violation", "error", "interrupted".  Host code. */
const char *ksl_verdict_name(ksl_verdict v);

/*
 * Read back a result kslab wrote as JSON (ksl_result_json, `--json`; docs/result.schema.json):
 * everything the JSON, SARIF and JUnit writers need, events included (a finding's driver_output
 * and a job's audio samples are never in the JSON, so they are absent).  NULL with a message in
 * `err` naming `path` and what is wrong (not JSON, not a kslab result, an unknown rule or race
 * window, a value out of range).  Host code.
 */
ksl_result *ksl_result_read_json(const char *path, char *err, size_t errlen);

/*
 * Combine the results of the N shards of one campaign (`kslab stress --shard I/N`, I = 1..N: each
 * exactly once) into the result the unsharded campaign gives: the same driver build, settings,
 * budget and scenarios are required of every part (else NULL with a message).  Counts, steps
 * and race-window coverage are summed; scenario by scenario, findings are taken in seed order
 * and a finding whose fingerprint an earlier one has is dropped, as a campaign does.  With
 * keep_going the result equals the unsharded run's but for wall_s (the longest shard's);
 * without it the finding is the unsharded run's (the earliest scenario's lowest seed) and the
 * counts are what the shards ran.  A part that could not be made or was interrupted is refused:
 * its share of the seeds is missing.  The parts are not changed.  Host code.
 */
ksl_result *ksl_result_merge(ksl_result *const *parts, size_t n, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif
#endif
