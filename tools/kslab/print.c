/* SPDX-License-Identifier: MIT */
/* The human-readable report (see print.h). */
#include <inttypes.h>
#include <string.h>

#include <kslab/campaign.h>
#include <kslab/rules.h>

#include "print.h"

static const char *strategy_text(const ksl_config *c, bool threaded)
{
    return threaded ? "threaded engine" : c->strategy == KSL_STRATEGY_PCT ? "pct" : "random";
}

static uint64_t counter(const ksl_result *r, const char *name)
{
    return ksl_result_counter(r, name, 0);
}

void print_start(FILE *f, const cli_opts *o, const ksl_result *r)
{
    const ksl_config *c = &o->cfg;
    switch (o->cmd) {
    case CMD_STRESS:
    case CMD_DEMO:
        if (o->cmd == CMD_STRESS)
            fprintf(f, "kslab stress: driver '%s'%s, ", r->driver.name, r->driver.plugin ? " (plugin)" : "");
        else
            fprintf(f, "kslab demo: the engine's demonstrations, ");
        fprintf(f, "%s, %s, %u CPU(s), %u job(s), %s\n", o->scenario ? o->scenario : "every scenario",
                strategy_text(c, o->threaded), (unsigned)c->cpus, o->jobs,
                o->time_s > 0 ? "time-bounded" : "schedule-bounded");
        break;
    case CMD_PLAY:
    case CMD_CAPTURE:
        fprintf(f, "kslab %s: %s (%u Hz, %u channel%s, %.3f s) through driver '%s'", o->cmd == CMD_PLAY ? "play" : "capture",
                o->input ? o->input : "built-in test signal", (unsigned)o->job.rate, (unsigned)o->job.channels,
                o->job.channels == 1 ? "" : "s", (double)o->job.frames / o->job.rate, r->driver.name);
        if (r->driver.plugin)
            fprintf(f, " (plugin %s)", r->driver.arg);
        fprintf(f, " on %u CPU(s), seed %" PRIu64 "\n", (unsigned)c->cpus, c->seed);
        break;
    case CMD_STREAM:
        fprintf(f, "kslab stream: %u read SRBs through stream minidriver '%s'", (unsigned)o->job.srbs, r->driver.name);
        if (r->driver.plugin)
            fprintf(f, " (plugin %s)", r->driver.arg);
        fprintf(f, " (device %s) on %u CPU(s), seed %" PRIu64 "\n", r->driver.device, (unsigned)c->cpus, c->seed);
        break;
    default:
        break;
    }
    fflush(f);
}

void print_scenario(FILE *f, const ksl_result_scenario *s)
{
    if (!s->found)
        fprintf(f, "  %-18s %" PRIu64 " executions, %" PRIu64 " scheduling points: clean\n", s->name, s->executions,
                s->steps);
    fflush(f);
}

void print_driver_output(FILE *f, const char *label, const char *text)
{
    if (!text || !*text)
        return;
    fprintf(f, "  %s (stdout and stderr, head and tail):\n", label);
    const char *p = text;
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        fprintf(f, "    | %.*s\n", (int)n, p);
        p += n + (nl ? 1 : 0);
    }
}

/* A path as a shell word: as it is when it is safe, else in single quotes. */
static void shell_word(FILE *f, const char *s)
{
    bool safe = *s != 0;
    for (const char *p = s; *p; p++)
        if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./+=:,@%", *p))
            safe = false;
    if (safe) {
        fputs(s, f);
        return;
    }
    fputc('\'', f);
    for (const char *p = s; *p; p++)
        if (*p == '\'')
            fputs("'\\''", f);
        else
            fputc(*p, f);
    fputc('\'', f);
}

static void print_finding(FILE *f, const cli_opts *o, const ksl_result *r, const ksl_result_finding *x)
{
    if (x->known == KSL_KNOWN_BASELINE)
        fprintf(f, "  finding  %s (known: in the baseline)\n", x->rule);
    else if (x->known == KSL_KNOWN_SUPPRESSED)
        fprintf(f, "  finding  %s (suppressed: %s)\n", x->rule, x->justification ? x->justification : "");
    else
        fprintf(f, "  finding  %s\n", x->rule);
    fprintf(f, "           %s\n", x->message);
    if (x->file)
        fprintf(f, "           at %s:%d\n", x->file, x->line);
    if (x->racing_file)
        fprintf(f, "           racing with %s at %s:%d%s%s\n", x->racing_context, x->racing_file, x->racing_line,
                x->racing_function ? " in " : "", x->racing_function ? x->racing_function : "");
    const ksl_rule *rule = ksl_rule_find(x->rule);
    if (rule)
        fprintf(f, "           rule: %s (%s; modelled on %s)\n", rule->summary, rule->rule, rule->modelled);
    if (x->detail && x->detail[0]) {
        size_t n = strlen(x->detail);
        fprintf(f, "%s%s", x->detail, x->detail[n - 1] == '\n' ? "" : " ...\n");
    }
    if (x->shrink.replays)
        fprintf(f, "  shrunk   %" PRIu64 " -> %" PRIu64 " steps, %" PRIu64 " -> %" PRIu64 " preemptions (%u replays)\n",
                x->shrink.steps_before, x->shrink.steps_after, x->shrink.preemptions_before,
                x->shrink.preemptions_after, x->shrink.replays);
    if (x->token) {
        fprintf(f, "  replay   kslab replay %s", x->token);
        /* The files a token never loads by itself: named again. */
        if (r->driver.plugin) {
            fputs(" --driver ", f);
            shell_word(f, r->driver.arg);
        }
        if (r->driver.device_plugin) {
            fputs(" --device ", f);
            shell_word(f, r->driver.device_plugin);
        }
        if (o->registry) {
            fputs(" --registry ", f);
            shell_word(f, o->registry);
        } else if (r->registry) { /* a merge: the shards' file, known by its hash */
            fputs(" --registry FILE", f);
        }
        if (o->scenario_file && (r->scenario_file || o->cmd == CMD_REPLAY)) {
            fputs(" --scenario-file ", f);
            shell_word(f, o->scenario_file);
        } else if (r->scenario_file) {
            fputs(" --scenario-file FILE", f);
        }
        if (o->input && (o->cmd == CMD_PLAY || o->cmd == CMD_CAPTURE || o->cmd == CMD_REPLAY)) {
            fputs(" --input ", f);
            shell_word(f, o->input);
        }
        fputc('\n', f);
    } else {
        fprintf(f, "  replay   none: %s\n", r->threaded ? "threaded runs do not replay" : "the token could not be made");
    }
    print_driver_output(f, "driver output", x->driver_output);
}

static void audio_summary(FILE *f, const ksl_result *r, bool capture)
{
    double vt = (double)counter(r, "engine.time_ns") / 1e9;
    fprintf(f, "  bytes    submitted %" PRIu64 "  %s %" PRIu64 "  cancelled %" PRIu64 "\n", counter(r, "bytes.submitted"),
            capture ? "captured" : "played", counter(r, "bytes.transferred"), counter(r, "bytes.cancelled"));
    fprintf(f, "  IRPs     submitted %" PRIu64 "  completed %" PRIu64 "  cancelled %" PRIu64 "\n",
            counter(r, "irps.submitted"), counter(r, "irps.completed"), counter(r, "irps.cancelled"));
    fprintf(f,
            "  mappings handed out %" PRIu64 "  released %" PRIu64 "  revoked %" PRIu64 "  (GetMapping refused %" PRIu64
            ", MappingAvailable %" PRIu64 ", RevokeMappings %" PRIu64 ", TerminatePacket %" PRIu64 ")\n",
            counter(r, "mappings.handed"), counter(r, "mappings.released"), counter(r, "mappings.revoked"),
            counter(r, "port.get_refused"), counter(r, "port.mapping_available"), counter(r, "port.revoke_calls"),
            counter(r, "port.terminate_calls"));
    fprintf(f, "  device   interrupts %" PRIu64 "  buffers %" PRIu64 "  %s %" PRIu64 "\n", counter(r, "device.interrupts"),
            counter(r, "device.buffers"), capture ? "over-run ns" : "under-run fill samples",
            capture ? counter(r, "device.overrun_ns") : counter(r, "device.fill_samples"));
    fprintf(f,
            "  engine   ISRs %" PRIu64 "  DPCs %" PRIu64 "  scheduling points %" PRIu64
            "  virtual time %.3f s  wall %.3f s (%.0fx real time)\n",
            counter(r, "engine.interrupts"), counter(r, "engine.dpcs"), counter(r, "engine.steps"), vt, r->wall_s,
            r->wall_s > 0 ? vt / r->wall_s : 0.0);
}

static void stream_summary(FILE *f, const ksl_result *r)
{
    fprintf(f,
            "  frames   delivered %" PRIu64 "  missing %" PRIu64 "  bad %" PRIu64 "  out of order %" PRIu64
            "  (%" PRIu64 " bytes each)\n",
            counter(r, "frames.delivered"), counter(r, "frames.missing"), counter(r, "frames.bad"),
            counter(r, "frames.disorder"), counter(r, "frames.bytes"));
    fprintf(f,
            "  SRBs     submitted %" PRIu64 "  completed %" PRIu64 "  cancelled %" PRIu64 " (picked %" PRIu64
            ")  failed %" PRIu64 "  timed out %" PRIu64 "\n",
            counter(r, "srbs.submitted"), counter(r, "srbs.completed"), counter(r, "srbs.cancelled"),
            counter(r, "srbs.picked"), counter(r, "srbs.failed"), counter(r, "srbs.timed_out"));
    fprintf(f, "  class    HwCancelPacket %" PRIu64 "  timeouts %" PRIu64 "  ReadyForNext %" PRIu64
               "  most held at once %" PRIu64 "\n",
            counter(r, "class.cancel_calls"), counter(r, "class.timeouts"), counter(r, "class.ready_for_next"),
            counter(r, "class.max_outstanding"));
    fprintf(f, "  device   frames %" PRIu64 "  dropped %" PRIu64 "  interrupts %" PRIu64 "\n", counter(r, "device.frames"),
            counter(r, "device.dropped"), counter(r, "device.interrupts"));
    fprintf(f, "  max time per entry point (virtual):");
    for (size_t i = 0; i < r->ncounters; i++) {
        const char *n = r->counters[i].name;
        size_t len = strlen(n);
        if (strncmp(n, "entry.", 6) != 0 || len < 12 || strcmp(n + len - 6, ".calls") != 0)
            continue;
        char base[64], key[80], irql[32];
        snprintf(base, sizeof base, "%.*s", (int)(len - 12), n + 6);
        snprintf(key, sizeof key, "entry.%s.max_ns", base);
        uint64_t max_ns = counter(r, key);
        snprintf(key, sizeof key, "entry.%s.max_irql", base);
        fprintf(f, "\n    %-24s %8" PRIu64 " calls  max %9.3f us  at %s", base, r->counters[i].value,
                (double)max_ns / 1000.0, ksl_irql_name((uint8_t)counter(r, key), irql, sizeof irql));
    }
    fprintf(f, "\n");
    fprintf(f,
            "  engine   ISRs %" PRIu64 "  DPCs %" PRIu64 "  work items %" PRIu64 "  scheduling points %" PRIu64
            "  virtual time %.3f s  wall %.3f s\n",
            counter(r, "engine.interrupts"), counter(r, "engine.dpcs"), counter(r, "engine.work_items"),
            counter(r, "engine.steps"), (double)counter(r, "engine.time_ns") / 1e9, r->wall_s);
}

/* --coverage: the race windows, reached ones first as the catalog orders them, then the rest. */
static void coverage_report(FILE *f, const ksl_result *r)
{
    if (!r->nwindows) {
        fprintf(f, "  coverage no race windows are tracked %s\n",
                r->threaded ? "on the threaded engine" : "for this run");
        return;
    }
    size_t reached = 0;
    for (size_t i = 0; i < r->nwindows; i++)
        reached += r->windows[i].executions > 0;
    fprintf(f, "  coverage %zu of %zu race windows reached (kslab windows: what each is)\n", reached, r->nwindows);
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < r->nwindows; i++) {
            const ksl_result_window *w = &r->windows[i];
            if ((w->executions > 0) != (pass == 0))
                continue;
            if (pass == 0)
                fprintf(f, "    %-40s %8" PRIu64 " executions %9" PRIu64 " times\n", w->name, w->executions, w->hits);
            else
                fprintf(f, "    %-40s never reached\n", w->name);
        }
}

static void campaign_report(FILE *f, const cli_opts *o, const ksl_result *r)
{
    fprintf(f, "  %" PRIu64 " executions, %" PRIu64 " scheduling points, %.2f s (%.0f executions/s)\n", r->executions,
            r->steps, r->wall_s, r->wall_s > 0 ? (double)r->executions / r->wall_s : 0.0);
    if (r->verdict == KSL_VERDICT_INTERRUPTED) {
        fprintf(f, "  result   interrupted by signal %d after %" PRIu64 " executions, %zu finding(s) so far\n",
                r->signal, r->executions, r->nfindings);
    }
    for (size_t i = 0; i < r->nfindings; i++) {
        fprintf(f, "  scenario %s, seed %" PRIu64 "\n", r->findings[i].scenario, r->findings[i].seed);
        print_finding(f, o, r, &r->findings[i]);
    }
    if (o->coverage)
        coverage_report(f, r);
    if (r->verdict == KSL_VERDICT_CLEAN)
        fprintf(f, "  result   clean\n");
}

static void job_report(FILE *f, const cli_opts *o, const ksl_result *r)
{
    if (!r->ncounters && r->verdict != KSL_VERDICT_FOUND) {
        if (r->verdict == KSL_VERDICT_INTERRUPTED)
            fprintf(f, "  result   interrupted by signal %d\n", r->signal);
        return;
    }
    if (r->ncounters) {
        if (o->cmd == CMD_STREAM)
            stream_summary(f, r);
        else
            audio_summary(f, r, o->cmd == CMD_CAPTURE);
    }
    bool check = r->nfindings && r->findings[0].context && strcmp(r->findings[0].context, "the output check after the run") == 0;
    if (r->nfindings) {
        if (check && r->data_check)
            fprintf(f, "  data     %s\n", r->data_check);
        fprintf(f, "  verifier FINDING%s\n", check ? " (output check)" : "");
        print_finding(f, o, r, &r->findings[0]);
        if (o->output)
            fprintf(f, "  %s not written: the run %s\n", o->output, check ? "failed its output check" : "stopped at the finding");
    } else if (r->verdict == KSL_VERDICT_CLEAN) {
        fprintf(f, "  data     %s\n  verifier clean\n", r->data_check ? r->data_check : "");
    }
    print_driver_output(f, "driver output", r->driver_output);
}

static void replay_report(FILE *f, const cli_opts *o, const ksl_result *r)
{
    const char *name = r->nscenarios ? r->scenarios[0].name : "?";
    fprintf(f, "replay of %s", name);
    if (r->driver.name[0])
        fprintf(f, " with driver '%s'", r->driver.name);
    fprintf(f, ": %s\n", r->nfindings ? "the finding reproduces" : "clean");
    if (r->nfindings)
        print_finding(f, o, r, &r->findings[0]);
    fprintf(f, "  %" PRIu64 " scheduling points, trace hash %016" PRIx64 "\n", r->steps,
            ksl_result_counter(r, "engine.trace_hash", 0));
    if (!r->nfindings)
        print_driver_output(f, "driver output", r->driver_output);
}

void print_report(FILE *f, const cli_opts *o, const ksl_result *r)
{
    if (o->cmd == CMD_STRESS || o->cmd == CMD_DEMO)
        campaign_report(f, o, r);
    else if (o->cmd == CMD_REPLAY)
        replay_report(f, o, r);
    else
        job_report(f, o, r);
    fflush(f);
}
