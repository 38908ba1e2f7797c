/* SPDX-License-Identifier: MIT */
/*
 * kslab as a library: run a driver under kslab's scenarios and get a result (<kslab/result.h>).
 * The command line is a thin layer over these calls; a driver author's own test can make them
 * too:
 *
 *     ksl_stress_opts o;
 *     ksl_stress_opts_default(&o);
 *     o.run.driver = "build/mydrv.so";       // a built-in name or a driver plugin
 *     o.schedules = 500;                     // per scenario
 *     ksl_result *r = ksl_stress(&o);
 *     assert_int_equal(r->verdict, KSL_VERDICT_CLEAN);
 *     ksl_result_free(r);
 *
 * Isolation.  The driver is untrusted code: it runs only in worker processes kslab forks, never
 * in the calling process.  A plugin is loaded (dlopen) only there too, so its constructors never
 * run in the caller.  A driver that crashes, calls exit(), or loops while running is a finding
 * (K.driver-crash, K.driver-exit, K.hang) with a replay token; a plugin that cannot be loaded
 * (not a plugin, another ABI, a crash in a constructor) is KSL_VERDICT_ERROR with a message
 * naming the file.  What a driver prints to stdout or stderr is captured per execution and
 * kept, bounded, in the result (ksl_result_finding.driver_output); it never reaches the
 * caller's stdout.
 *
 * Determinism.  Same kslab, same driver, same options = the same result, whatever the number of
 * worker processes: executions are numbered by seed and the verdict is that of the lowest seed
 * with a finding.
 *
 * Threads and signals.  One run at a time per process.  The calls fork and wait for children;
 * they do not install signal handlers and ignore SIGPIPE only in the workers.  A caller that
 * wants Ctrl-C to stop a run cleanly calls ksl_stop() from its handler.
 *
 * Every function here is host code (outside any engine).
 */
#ifndef KSLAB_CAMPAIGN_H
#define KSLAB_CAMPAIGN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <kslab/audio.h>
#include <kslab/engine.h>
#include <kslab/result.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The version of the option structures below (their `version` field). */
#define KSL_CAMPAIGN_OPTS_VERSION 3u

/* Limits every option (and every replay token) is checked against. */
#define KSL_MAX_JOBS 64u
#define KSL_MAX_SCHEDULES 1000000000ull
#define KSL_MAX_TIMEOUT_S 86400.0
#define KSL_DEFAULT_STEP_CPU_S 0.25

/* ---- what a driver is made to do -------------------------------------------------------------- */

typedef enum ksl_job_kind {
    KSL_JOB_PLAY = 1,    /* a WavePci driver plays audio on the simulated AC'97 */
    KSL_JOB_CAPTURE = 2, /* a WavePci driver captures what the microphone hears */
    KSL_JOB_STREAM = 3,  /* a stream class minidriver captures frames from its device */
} ksl_job_kind;

/* One job: client threads that stream through the driver, cancel, pause and stop it, and the
 * output check afterwards.  The scenarios of `kslab stress` are named jobs. */
typedef struct ksl_job {
    ksl_job_kind kind;
    /* play / capture: the built-in test signal when no input is given */
    uint32_t rate;           /* Hz, 1..192000 (the AC'97 runs 8000..48000) */
    uint32_t channels;       /* 1..8 (the AC'97 runs 1..2) */
    uint64_t frames;         /* length of the signal, 1..rate * 3600 */
    uint32_t irp_ms;         /* audio per IRP, 1..1000 */
    uint32_t stop_after;     /* STOP the pin after this many IRPs completed (0: play to the end) */
    uint32_t buffer_offset;  /* IRP buffers start this far into a page: a multiple of 4 below 4096 */
    bool contiguous;         /* do not scatter physical pages */
    /* stream */
    uint32_t srbs;           /* read SRBs in all, 1..1000000 */
    uint32_t close_after;    /* STOP and close after this many SRBs completed (0: never) */
    uint32_t wait_ms;        /* how long the reader waits for one SRB, 1..3600000 */
    /* both */
    uint32_t in_flight;      /* IRPs / SRBs kept submitted, 1..64 */
    uint32_t cancel_every;   /* cancel every K-th while in flight (0: never) */
    uint32_t pause_every_ms; /* pause for 1 ms every this much virtual time (0: never), up to 3600000 */
} ksl_job;

/* The defaults of `kslab play`, `capture` or `stream`. */
void ksl_job_default(ksl_job *job, ksl_job_kind kind);
/* 0 when every field is within its range, else -1 with a message naming the field. */
int ksl_job_check(const ksl_job *job, char *err, size_t errlen);

/* ---- options every run takes ----------------------------------------------------------------- */

typedef struct ksl_progress {
    const char *scenario;    /* the scenario being explored */
    uint64_t executions;     /* so far, in every scenario */
    uint64_t steps;
    uint64_t findings;
    double elapsed_s;
    uint64_t planned;        /* executions the whole campaign plans (0: bounded by time) */
    uint32_t windows_reached; /* named race windows of the driver's kind reached so far, of ... */
    uint32_t windows_total;  /* ... these (0: not counted: the threaded engine, the demonstrations) */
} ksl_progress;
/* Called about every quarter second of a campaign (not for one job).  Host code. */
typedef void ksl_progress_fn(void *user, const ksl_progress *p);
/* Called once per finding, when it is final (shrunk, with its token). */
typedef void ksl_finding_fn(void *user, const ksl_result_finding *f);
/* Called as soon as an execution of a campaign breaks a rule at a call site not seen broken in
 * the scenario yet, before it is shrunk (which waits for the lower seeds, and with keep_going
 * for the scenario's whole budget); `file` NULL when unknown.  The final finding may have a lower
 * seed.  The order of these calls depends on the workers' timing; the result does not. */
typedef void ksl_found_fn(void *user, const char *scenario, const char *rule, uint64_t seed, const char *file,
                          int line);
/* Called when a scenario of a campaign is done. */
typedef void ksl_scenario_fn(void *user, const ksl_result_scenario *s);
/* Called once the driver is known (the result's `driver` and `config` are filled), before any
 * execution. */
typedef void ksl_start_fn(void *user, const ksl_result *r);

typedef struct ksl_run_opts {
    uint32_t version;         /* KSL_CAMPAIGN_OPTS_VERSION */
    const char *driver;       /* a built-in driver's name ("ac97", "isr-dpc-pio", ... see
                               * ksl_builtin_drivers) or the path of a driver plugin (any name
                               * containing '/' or ending in ".so") */
    const char *device;       /* the path of a device-model plugin the driver runs on instead of a
                               * built-in model; NULL: the built-in model the driver names */
    ksl_config cfg;           /* cpus, seed (the first one), strategy, PCT depth, engine kind */
    double timeout_s;         /* wall time one execution may take before it is K.hang (0: the
                               * default: 20 s, more for a long job) */
    double step_cpu_s;        /* CPU time the deterministic engine's host thread may spend between
                               * two scheduling points before the execution is K.hang, naming the
                               * context and its last call site: a driver loop that never calls
                               * the kernel (0: the default, KSL_DEFAULT_STEP_CPU_S, four times
                               * that in a sanitizer build) */
    const char *registry;     /* a registry file (docs/REAL-DRIVERS.md): the keys and values every
                               * WavePci adapter's in-memory registry holds before DriverEntry; its
                               * hash goes into replay tokens (NULL: an empty registry) */
    const char *trace_path;   /* write the run (a campaign: the finding's run) as Chrome Trace
                               * Event JSON, atomically, only when the run ends with a verdict
                               * (clean or found); NULL: none */
    ksl_start_fn *on_start;
    ksl_progress_fn *progress;
    ksl_finding_fn *on_finding;
    ksl_found_fn *on_found;
    ksl_scenario_fn *on_scenario;
    void *user;
} ksl_run_opts;

void ksl_run_opts_default(ksl_run_opts *o);

/* ---- a campaign: `kslab stress` ---------------------------------------------------------------- */

typedef struct ksl_stress_opts {
    ksl_run_opts run;
    const char *scenario;     /* one scenario of the driver's kind (ksl_scenarios); NULL: all */
    uint64_t schedules;       /* executions per scenario, 1..KSL_MAX_SCHEDULES (default 1000) */
    double time_s;            /* instead of schedules: explore this long in all (0: use schedules) */
    unsigned jobs;            /* worker processes, 1..KSL_MAX_JOBS (default 1) */
    bool shrink;              /* shrink the finding's schedule (default true) */
    bool demo;                /* run the engine's demonstration scenarios (no driver) */
    bool keep_going;          /* explore every scenario's whole budget and report each distinct
                               * finding once (the lowest seed that has it, shrunk, with its own
                               * token), in seed order (default false) */
    uint32_t max_findings;    /* keep_going: stop once this many distinct findings are reported
                               * (0: no limit) */
    const char *baseline;     /* a previous result (JSON or SARIF, by kslab): its findings, by
                               * fingerprint, are known and do not fail the run; implies
                               * keep_going (NULL: none) */
    const char *suppressions; /* a JSON suppression file (docs/CI.md): findings it matches, each
                               * with a justification, do not fail the run; unused entries are a
                               * warning (NULL: none) */
    const char *rules;        /* which rules count: comma-separated glob patterns over rule ids,
                               * "-PATTERN" excludes, no include pattern includes all; a finding
                               * that ends its execution (a crash, a hang, a corrupted state) is
                               * reported whatever the patterns say (NULL: every rule) */
    uint32_t shard_index;     /* with shard_count: run only shard shard_index (1..shard_count) of
                               * each scenario's seeds, those with (seed - first seed) mod
                               * shard_count == shard_index - 1, for ksl_result_merge to combine.
                               * Needs a schedule budget (not time_s) and no max_findings: every
                               * decision of a shard must be the one the whole campaign makes */
    uint32_t shard_count;     /* 0: the whole seed space, unsharded (default) */
    const char *scenario_file; /* a scenario file (docs/SCENARIOS.md): its scenarios of the driver's
                               * kind are the campaign's instead of the built-in ones; each one's
                               * definition is hashed into its tokens (NULL: the built-in ones) */
} ksl_stress_opts;

void ksl_stress_opts_default(ksl_stress_opts *o);
/* Explore the driver's scenarios until a rule breaks (keep_going: to the end of the budget).
 * Never NULL but when out of memory. */
ksl_result *ksl_stress(const ksl_stress_opts *o);

/* ---- one job: `kslab play`, `capture`, `stream` ------------------------------------------------ */

typedef struct ksl_job_opts {
    ksl_run_opts run;
    ksl_job job;
    const ksl_pcm *input;     /* play / capture: the audio (NULL: the built-in signal of job.rate,
                               * job.channels, job.frames; with an input, those three are the
                               * input's); a hash of it goes into the replay token */
    bool keep_output;         /* play / capture: return the samples in the result */
} ksl_job_opts;

void ksl_job_opts_default(ksl_job_opts *o, ksl_job_kind kind);
/* Run one job through the driver, in a worker process.  Never NULL but when out of memory. */
ksl_result *ksl_run_job(const ksl_job_opts *o);

/* ---- a replay: `kslab replay TOKEN` ---------------------------------------------------------- */

typedef struct ksl_replay_opts {
    ksl_run_opts run;         /* run.driver: the plugin to run the token with (a token made with a
                               * plugin never loads a file on its own); built-in drivers need none.
                               * run.device likewise.  run.cfg is ignored: the token has it. */
    const ksl_pcm *input;     /* a token of a play / capture job with an input: that audio again
                               * (checked against the token's hash) */
    const char *scenario_file; /* a token of a scenario from a scenario file: that file again (the
                               * scenario's definition is checked against the token's hash) */
} ksl_replay_opts;

void ksl_replay_opts_default(ksl_replay_opts *o);
/* Run the execution a token names, exactly.  The verdict is FOUND when it ends in a finding. */
ksl_result *ksl_replay(const char *token, const ksl_replay_opts *o);

/* ---- what there is --------------------------------------------------------------------------- */

typedef struct ksl_scenario_info {
    const char *name;
    const char *summary;
    const char *kind;         /* "wavepci", "stream" or "demo" */
    bool buggy;               /* demo: broken on purpose */
} ksl_scenario_info;
/* Every built-in scenario, WavePci first, then stream class, then the demonstrations. */
const ksl_scenario_info *ksl_scenarios(size_t *n);

typedef struct ksl_driver_info {
    const char *name;
    const char *kind;         /* "wavepci" or "stream" */
    const char *description;
    const char *device;
} ksl_driver_info;
/* The built-in drivers (the reference drivers). */
const ksl_driver_info *ksl_builtin_drivers(size_t *n);

/* ---- stopping ---------------------------------------------------------------------------------- */

/*
 * Ask the run in progress to stop: its workers are killed, temporary files removed, and it
 * returns at once with KSL_VERDICT_INTERRUPTED, `signal` recorded and the counts so far.
 * Async-signal-safe: call it from a SIGINT / SIGTERM handler.  A run started after it returns
 * at once too, until ksl_stop_clear().
 */
void ksl_stop(int signal);
void ksl_stop_clear(void);
/* The signal given to ksl_stop, or 0. */
int ksl_stopped(void);

/*
 * The scenarios of a scenario file (NULL: the built-in WavePci and stream class ones), written
 * back as a scenario file in its canonical form (malloc'd; free it), or NULL with a message in
 * `err` (a file that cannot be read or is malformed; out of memory).  Host code.
 */
char *ksl_scenario_file_text(const char *path, char *err, size_t errlen);

/* kslab's version, "0.2.0". */
const char *ksl_version(void);

#ifdef __cplusplus
}
#endif
#endif
