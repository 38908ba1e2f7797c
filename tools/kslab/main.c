/* SPDX-License-Identifier: MIT */
/*
 * kslab — the command line: option parsing (opts.c), calls into libkslab (<kslab/campaign.h>),
 * and printing (print.c).  Every driver runs in libkslab's worker processes, never here.
 *
 * Exit status: 0 clean, 1 a finding, 2 usage, input or output error, 128 + N stopped by signal N.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <kslab/audio.h>
#include <kslab/campaign.h>
#include <kslab/report.h>
#include <kslab/rules.h>

#include <kslab/windows.h>

#include "checks_md.h"
#include "opts.h"
#include "print.h"

#define EXIT_USAGE 2

static void usage(FILE *f)
{
    fputs("usage: kslab <command> [options]      (kslab <command> --help for its options)\n"
          "\n"
          "commands:\n"
          "  stress DRIVER   explore a driver's schedules in its scenarios until a rule breaks\n"
          "  play [IN.wav]   play a WAV file (or the built-in test signal) through a WavePci driver\n"
          "  capture [IN.wav] capture through a WavePci driver what a microphone hearing IN records\n"
          "  stream          capture frames through a stream class minidriver, checked bit for bit\n"
          "  replay TOKEN    reproduce a run from its replay token\n"
          "  scenarios [FILE] print the built-in scenarios (or FILE's, checked) as a scenario file\n"
          "  merge RESULT... combine the --json results of a campaign's shards (stress --shard I/N)\n"
          "  demo            explore the engine's demonstration scenarios\n"
          "  rules           list every check with its id and source (--markdown: as docs/CHECKS.md)\n"
          "  windows         list the named race windows `stress --coverage` counts\n"
          "  list            list the built-in scenarios and drivers\n"
          "  --version       print kslab's version\n"
          "\n"
          "exit status: 0 clean, 1 a finding, 2 usage, input or output error, 128+N stopped by signal N\n",
          f);
}

static const char *cmd_name(unsigned cmd)
{
    switch (cmd) {
    case CMD_STRESS: return "stress";
    case CMD_DEMO: return "demo";
    case CMD_PLAY: return "play";
    case CMD_CAPTURE: return "capture";
    case CMD_STREAM: return "stream";
    case CMD_MERGE: return "merge";
    default: return "replay";
    }
}

static void command_usage(FILE *f, unsigned cmd)
{
    static const struct {
        unsigned cmd;
        const char *synopsis, *text;
    } u[] = {
        {CMD_STRESS, "kslab stress DRIVER [options]",
         "Explore schedules of a WavePci driver or a stream class minidriver (a built-in name, or the path\n"
         "of a plugin .so) in the built-in scenarios of its kind until a rule breaks.  The finding's schedule\n"
         "is shrunk, and the rule, the message, the events leading to it and a replay token are printed."},
        {CMD_DEMO, "kslab demo [options]", "Explore the engine's demonstration scenarios (no driver): a clean one, two broken ones."},
        {CMD_PLAY, "kslab play [IN.wav] [-o OUT.wav] [options]",
         "Play IN (default: the built-in test signal) through a WavePci driver on the simulated AC'97 and\n"
         "check what the device plays, bit for bit."},
        {CMD_CAPTURE, "kslab capture [IN.wav] [-o OUT.wav] [options]",
         "Capture through a WavePci driver what a microphone hearing IN (default: the test signal) records,\n"
         "and check it bit for bit."},
        {CMD_STREAM, "kslab stream [options]",
         "Capture frames through a stream class minidriver on its simulated device and check every frame\n"
         "bit for bit, while a canceller cancels SRBs and a churner pauses the stream."},
        {CMD_REPLAY, "kslab replay TOKEN [options]",
         "Run exactly the execution a token names (printed with every finding).  A token made with a driver\n"
         "plugin never loads it by itself: give the plugin with --driver PATH (kslab checks it is the same\n"
         "file).  Exit 1 when the finding reproduces."},
        {CMD_MERGE, "kslab merge SHARD.json... [options]",
         "Combine the JSON results (--json) of the N shards of one campaign (kslab stress --shard I/N, each I\n"
         "once) into the result, SARIF and JUnit the unsharded campaign gives: with --keep-going the same\n"
         "findings, tokens and counts.  Exit as stress would for the whole campaign; 2 when a part is missing,\n"
         "repeated, from another campaign, or could not be made."},
    };
    for (size_t i = 0; i < sizeof u / sizeof u[0]; i++) {
        if (u[i].cmd != cmd)
            continue;
        fprintf(f, "usage: %s\n\n%s\n\noptions:\n", u[i].synopsis, u[i].text);
        cli_print_options(f, cmd);
        fputs("\nexit status: 0 clean, 1 a finding, 2 usage, input or output error, 128+N stopped by signal N\n", f);
    }
}

static void on_signal(int sig)
{
    ksl_stop(sig);
}

static void install_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    /* Restarted: a Ctrl-C while stdout or an output FIFO blocks must not turn into a write error
     * (a cut JSON document); the library's waits poll ksl_stopped() on their own. */
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN); /* a closed stdout is a write error, reported */
}

/* ---- callbacks while a run goes on ---------------------------------------------------------- */

typedef struct ui {
    const cli_opts *o;
    bool human, tty;
    double last_status;       /* a pipe: when the last status line was printed */
} ui;

/* "ETA 12 s" from the executions so far and planned; "" when it cannot be told. */
static void eta(char *buf, size_t n, const ksl_progress *p)
{
    buf[0] = 0;
    if (p->planned && p->executions && p->executions < p->planned && p->elapsed_s > 0)
        snprintf(buf, n, ", ETA %.0f s",
                 p->elapsed_s * (double)(p->planned - p->executions) / (double)p->executions);
}

static void ui_start(void *user, const ksl_result *r)
{
    ui *u = user;
    if (u->human)
        print_start(stdout, u->o, r);
}

static void ui_scenario(void *user, const ksl_result_scenario *s)
{
    ui *u = user;
    if (u->tty)
        fprintf(stderr, "\r%80s\r", "");
    if (u->human)
        print_scenario(stdout, s);
}

static void ui_progress(void *user, const ksl_progress *p)
{
    ui *u = user;
    double el = p->elapsed_s > 0 ? p->elapsed_s : 1;
    char e[48], cov[48] = "";
    eta(e, sizeof e, p);
    if (p->windows_total)
        snprintf(cov, sizeof cov, ", windows %u/%u", p->windows_reached, p->windows_total);
    if (u->tty) {
        fprintf(stderr, "\r  %-18s %llu executions, %.0f/s, %.2f M points/s, findings %llu%s%s   ", p->scenario,
                (unsigned long long)p->executions, (double)p->executions / el, (double)p->steps / el / 1e6,
                (unsigned long long)p->findings, cov, e);
        return;
    }
    /* A pipe or a CI log: a whole line every --status-every seconds. */
    if (!u->human || u->o->status_every_s <= 0 || p->elapsed_s - u->last_status < u->o->status_every_s)
        return;
    u->last_status = p->elapsed_s;
    fprintf(stderr, "kslab %s: %.0f s: scenario %s, %llu executions (%.0f/s), findings %llu%s%s\n",
            cmd_name(u->o->cmd), p->elapsed_s, p->scenario, (unsigned long long)p->executions,
            (double)p->executions / el, (unsigned long long)p->findings, cov, e);
    fflush(stderr);
}

/* A finding the moment an execution has it (before shrinking, which waits for the lower seeds):
 * one line, so that a long run's log shows it at once. */
static void ui_found(void *user, const char *scenario, const char *rule, uint64_t seed, const char *file, int line)
{
    ui *u = user;
    if (!u->human)
        return;
    if (u->tty)
        fprintf(stderr, "\r%80s\r", "");
    fprintf(stderr, "kslab %s: found %s in %s (seed %llu) at %s:%d\n", cmd_name(u->o->cmd), rule, scenario,
            (unsigned long long)seed, file ? file : "?", line);
    fflush(stderr);
}

/* A finding once the campaign has it final (the lowest seed, shrunk, with its token); the report
 * comes with the result. */
static void ui_finding(void *user, const ksl_result_finding *f)
{
    ui *u = user;
    if (!u->human)
        return;
    if (u->tty)
        fprintf(stderr, "\r%80s\r", "");
    fprintf(stderr, "kslab %s: reported %s in %s (seed %llu, %llu steps) at %s:%d%s\n", cmd_name(u->o->cmd), f->rule,
            f->scenario ? f->scenario : "?", (unsigned long long)f->seed, (unsigned long long)f->steps,
            f->file ? f->file : "?", f->line, f->known == KSL_KNOWN_NEW ? "" : " (known)");
    fflush(stderr);
}

/* ---- the run commands ------------------------------------------------------------------------ */

static int fail(unsigned cmd, const char *msg)
{
    fprintf(stderr, "kslab %s: %s\n", cmd_name(cmd), msg);
    return EXIT_USAGE;
}

static ksl_result *run(const cli_opts *o, const ksl_pcm *input, ui *u)
{
    ksl_run_opts ro;
    ksl_run_opts_default(&ro);
    ro.driver = o->driver;
    ro.device = o->device;
    ro.cfg = o->cfg;
    ro.timeout_s = o->timeout_s;
    ro.step_cpu_s = o->step_cpu_s;
    ro.trace_path = o->trace;
    ro.registry = o->registry;
    ro.on_start = ui_start;
    ro.on_scenario = ui_scenario;
    ro.progress = ui_progress;
    ro.on_finding = ui_finding;
    ro.on_found = ui_found;
    ro.user = u;
    if (o->cmd == CMD_STRESS || o->cmd == CMD_DEMO) {
        ksl_stress_opts so;
        ksl_stress_opts_default(&so);
        so.run = ro;
        so.scenario = o->scenario;
        so.schedules = o->schedules;
        so.time_s = o->time_s;
        so.jobs = o->jobs;
        so.shrink = !o->no_shrink && !o->threaded;
        so.keep_going = o->keep_going;
        so.baseline = o->baseline;
        so.rules = o->rules;
        so.suppressions = o->suppressions;
        so.max_findings = (uint32_t)o->max_findings;
        so.shard_index = o->shard_index;
        so.scenario_file = o->scenario_file;
        so.shard_count = o->shard_count;
        so.demo = o->cmd == CMD_DEMO;
        if (so.demo)
            so.run.driver = NULL;
        return ksl_stress(&so);
    }
    if (o->cmd == CMD_REPLAY) {
        ksl_replay_opts rp;
        ksl_replay_opts_default(&rp);
        rp.run = ro;
        rp.run.driver = o->driver;
        rp.input = input;
        rp.scenario_file = o->scenario_file;
        return ksl_replay(o->token, &rp);
    }
    ksl_job_opts jo;
    ksl_job_opts_default(&jo, o->job.kind);
    jo.run = ro;
    jo.job = o->job;
    jo.input = input;
    jo.keep_output = o->output != NULL;
    return ksl_run_job(&jo);
}

/* Write the files the options name (only after a run with a verdict).  0, or 2 after a message. */
static int write_outputs(const cli_opts *o, const ksl_result *r)
{
    char err[600];
    int code = 0;
    ksl_sarif_opts so = {o->srcroot, o->docs_url};
    if (o->sarif && ksl_write_sarif_opts(r, o->sarif, &so, err, sizeof err) != 0)
        code = fail(o->cmd, err);
    else if (o->sarif && !o->json)
        printf("  wrote    %s (SARIF, %s)\n", o->sarif, r->nfindings ? r->findings[0].rule : "no finding");
    if (o->junit && ksl_write_junit(r, o->junit, err, sizeof err) != 0)
        code = fail(o->cmd, err);
    else if (o->junit && !o->json)
        printf("  wrote    %s (JUnit XML, %zu failure(s))\n", o->junit, r->nfindings);
    if (o->output && r->verdict == KSL_VERDICT_CLEAN) {
        if (ksl_write_wav(r, o->output, err, sizeof err) != 0)
            code = fail(o->cmd, err);
        else if (!o->json)
            printf("  wrote    %s (%llu frames)\n", o->output, (unsigned long long)r->output_frames);
    }
    if (o->trace && !o->json && r->nfindings + (r->verdict == KSL_VERDICT_CLEAN) && !r->warning &&
        (o->cmd != CMD_STRESS || r->nfindings))
        printf("  wrote    %s (trace)\n", o->trace);
    return code;
}

/* After a run (or a merge): the report, the warning, the files, the JSON; frees `r`.  The exit
 * status. */
static int finish(const cli_opts *o, ksl_result *r)
{
    char err[600];
    unsigned cmd = o->cmd;
    bool human = !o->json;
    int code = ksl_result_exit_status(r);
    if (r->verdict != KSL_VERDICT_ERROR || r->nfindings) {
        if (human)
            print_report(stdout, o, r);
        else
            for (size_t i = 0; i < r->nfindings; i++) /* never inside the JSON */
                print_driver_output(stderr, "driver output", r->findings[i].driver_output);
    }
    if (r->warning)
        fprintf(stderr, "kslab %s: warning: %s\n", cmd_name(cmd), r->warning);
    if (r->verdict == KSL_VERDICT_ERROR) {
        fail(cmd, r->error ? r->error : "the run could not be made");
    } else if (r->verdict != KSL_VERDICT_INTERRUPTED) {
        if (write_outputs(o, r) != 0)
            code = EXIT_USAGE;
    }
    if (o->json && code != EXIT_USAGE) {
        char *s = ksl_result_json(r);
        if (!s || ksl_write_stream(stdout, "the JSON result to standard output", s, strlen(s), err, sizeof err) != 0)
            code = fail(cmd, s ? err : "out of memory");
        free(s);
    }
    ksl_result_free(r);
    return code;
}

/* `kslab merge`: read every shard's result, combine them, report as stress does. */
static int merge_command(const cli_opts *o)
{
    char err[700];
    ksl_result **parts = calloc(o->nfiles, sizeof *parts);
    if (!parts)
        return fail(CMD_MERGE, "out of memory");
    int code = 0;
    for (size_t i = 0; i < o->nfiles && !code; i++)
        if (!(parts[i] = ksl_result_read_json(o->files[i], err, sizeof err)))
            code = fail(CMD_MERGE, err);
    ksl_result *r = code ? NULL : ksl_result_merge(parts, o->nfiles, err, sizeof err);
    if (!code && !r)
        code = fail(CMD_MERGE, err);
    for (size_t i = 0; i < o->nfiles; i++)
        ksl_result_free(parts[i]);
    free(parts);
    if (code)
        return code;
    cli_opts shown = *o; /* the report of the whole campaign */
    shown.cmd = strcmp(r->command, "demo") == 0 ? CMD_DEMO : CMD_STRESS;
    shown.coverage = false;
    if (!o->json)
        printf("kslab merge: %zu shards of a campaign of driver '%s'\n", o->nfiles, r->driver.name);
    return finish(&shown, r);
}

static int run_command(unsigned cmd, int argc, char **argv)
{
    cli_opts o;
    char err[600];
    if (cli_parse(cmd, argc, argv, &o, err, sizeof err) != 0)
        return fail(cmd, err);
    if (o.help) {
        command_usage(stdout, cmd);
        return fflush(stdout) == 0 && !ferror(stdout) ? 0 : EXIT_USAGE;
    }
    const char *outs[] = {o.output, o.sarif, o.trace, o.junit};
    for (size_t i = 0; i < sizeof outs / sizeof outs[0]; i++)
        if (outs[i] && ksl_check_output_path(outs[i], err, sizeof err) != 0)
            return fail(cmd, err);
    if (cmd == CMD_MERGE)
        return merge_command(&o);
    ksl_pcm in = {0};
    if (o.input && ksl_wav_read(o.input, &in, err, sizeof err) != 0)
        return fail(cmd, err);
    if (o.input) { /* the summary line describes the file, not the built-in signal's defaults */
        o.job.rate = in.rate;
        o.job.channels = in.channels;
        o.job.frames = in.frames;
    }
    ui u = {&o, !o.json, !o.json && isatty(STDERR_FILENO), 0};
    ksl_result *r = run(&o, o.input ? &in : NULL, &u);
    ksl_pcm_free(&in);
    if (!r)
        return fail(cmd, "out of memory");
    if (u.tty)
        fprintf(stderr, "\r%80s\r", "");
    return finish(&o, r);
}

/* ---- the other commands ------------------------------------------------------------------- */

static int cmd_rules(int argc, char **argv)
{
    if (argc == 1 && strcmp(argv[0], "--markdown") == 0) {
        print_checks_markdown(stdout);
        return fflush(stdout) == 0 && !ferror(stdout) ? 0 : EXIT_USAGE;
    }
    if (argc) {
        fprintf(stderr, "kslab rules: unexpected '%s' (kslab rules [--markdown])\n", argv[0]);
        return EXIT_USAGE;
    }
    size_t n;
    const ksl_rule *r = ksl_rules(&n);
    for (size_t i = 0; i < n; i++)
        printf("%-36s %-8s %s  [%s]\n", r[i].id, r[i].rule, r[i].summary, r[i].modelled);
    const ksl_fault_info *f = ksl_fault_catalog(&n);
    printf("\nDevice faults (scenario 'faults' shows them at seeded moments; a finding after one names it):\n");
    for (size_t i = 0; i < n; i++)
        printf("%-8s %-19s %s\n         %-19s correct driver: %s\n", f[i].device, f[i].name, f[i].what, "",
               f[i].correct);
    return fflush(stdout) == 0 && !ferror(stdout) ? 0 : EXIT_USAGE;
}

/* `kslab scenarios [FILE]`: a scenario file, canonical. */
static int cmd_scenarios(int argc, char **argv)
{
    if (argc > 1 || (argc == 1 && argv[0][0] == '-')) {
        fprintf(stderr, "kslab scenarios: usage: kslab scenarios [FILE]\n");
        return EXIT_USAGE;
    }
    char err[600];
    char *s = ksl_scenario_file_text(argc ? argv[0] : NULL, err, sizeof err);
    if (!s) {
        fprintf(stderr, "kslab scenarios: %s\n", err);
        return EXIT_USAGE;
    }
    int code = ksl_write_stream(stdout, "the scenarios to standard output", s, strlen(s), err, sizeof err) == 0
                   ? 0
                   : fail(CMD_STRESS, err);
    free(s);
    return code;
}

static int cmd_windows(void)
{
    size_t n;
    const ksl_window *w = ksl_windows(&n);
    for (size_t i = 0; i < n; i++)
        printf("%s\n  opens    %s\n  closes   %s\n  reached  %s\n  risk     %s\n", w[i].name, w[i].opens, w[i].closes,
               w[i].reached, w[i].why);
    return fflush(stdout) == 0 && !ferror(stdout) ? 0 : EXIT_USAGE;
}

static int cmd_list(void)
{
    size_t n;
    const ksl_scenario_info *s = ksl_scenarios(&n);
    static const struct {
        const char *kind, *title;
    } groups[] = {{"demo", "scenarios (demo):"},
                  {"wavepci", "WavePci stress scenarios (kslab stress DRIVER --scenario NAME):"},
                  {"stream", "stream class stress scenarios (kslab stress MINIDRIVER --scenario NAME):"}};
    for (size_t g = 0; g < sizeof groups / sizeof groups[0]; g++) {
        printf("%s\n", groups[g].title);
        for (size_t i = 0; i < n; i++)
            if (strcmp(s[i].kind, groups[g].kind) == 0)
                printf("  %-18s %s%s\n", s[i].name, s[i].summary, s[i].buggy ? " [broken on purpose]" : "");
        printf("\n");
    }
    size_t nd;
    const ksl_driver_info *d = ksl_builtin_drivers(&nd);
    printf("drivers (--driver NAME; or --driver PATH.so for a driver plugin):\n");
    for (size_t i = 0; i < nd; i++) {
        bool stream = strcmp(d[i].kind, "stream") == 0;
        printf("  %-16s %-13s %s", d[i].name, stream ? "stream class" : "WavePci", d[i].description ? d[i].description : "");
        if (stream)
            printf(" (device %s)", d[i].device);
        printf("\n");
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    install_signals();
    const char *cmd = argv[1];
    int code;
    unsigned c = cli_command(cmd);
    if (c)
        code = run_command(c, argc - 2, argv + 2);
    else if (strcmp(cmd, "rules") == 0)
        code = cmd_rules(argc - 2, argv + 2);
    else if (strcmp(cmd, "scenarios") == 0)
        code = cmd_scenarios(argc - 2, argv + 2);
    else if (strcmp(cmd, "windows") == 0)
        code = cmd_windows();
    else if (strcmp(cmd, "list") == 0)
        code = cmd_list();
    else if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "version") == 0)
        code = printf("kslab %s\n", ksl_version()) < 0 ? EXIT_USAGE : 0;
    else if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        usage(stdout);
        code = 0;
    } else {
        fprintf(stderr, "kslab: unknown command '%s'\n", cmd);
        usage(stderr);
        return EXIT_USAGE;
    }
    /* Everything printed must have reached stdout: a full disk or a closed pipe is an error. */
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "kslab: cannot write to standard output: %s\n", strerror(errno ? errno : EIO));
        return EXIT_USAGE;
    }
    return code;
}
