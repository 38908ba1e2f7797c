/* SPDX-License-Identifier: MIT */
/*
 * `kslab stream`: run a stream class minidriver on its simulated device, read frames through it
 * with cancellations and pauses, check every frame bit for bit, print a summary.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "drivers.h"
#include "recorder.h"
#include "stream_job.h"

static void stream_usage(FILE *f)
{
    fprintf(f,
            "usage: kslab stream [options]\n"
            "\n"
            "Capture frames through a stream class minidriver on its simulated device and check every frame\n"
            "bit for bit, while a canceller cancels SRBs and a churner pauses the stream.\n"
            "\n"
            "options:\n"
            "  --driver NAME|PATH   stream minidriver: a built-in name (default isr-dpc-pio; see `kslab list`)\n"
            "                       or a driver plugin .so (a path: contains '/' or ends in .so)\n"
            "  --cpus N             virtual CPUs, 1..64 (default 2)\n"
            "  --seed S             schedule seed, also the device's data seed (default 1)\n"
            "  --strategy S         random | pct | pct:D (default random)\n"
            "  --frames N           read SRBs to submit, 1..1000000 (default 200)\n"
            "  --in-flight N        read SRBs kept submitted, 1..64 (default 4)\n"
            "  --cancel-every K     cancel every K-th SRB while it is outstanding (default 0: never)\n"
            "  --pause-every MS     pause the stream for 1 ms every MS of virtual time (default 7; 0: never)\n"
            "  --trace FILE         write the run as Chrome Trace Event JSON (opens in Perfetto)\n"
            "\n"
            "exit status: 0 clean and bit-exact, 1 a verifier finding or a failed data check, 2 usage or\n"
            "input error\n");
}

static int bad(const char *fmt, const char *arg)
{
    fprintf(stderr, "kslab: ");
    fprintf(stderr, fmt, arg);
    fputc('\n', stderr);
    return EXIT_USAGE;
}

static void summary(const stream_result *r, double wall)
{
    double vt = (double)r->engine.time_ns / 1e9;
    printf("  frames   delivered %" PRIu64 "  missing %" PRIu64 "  bad %" PRIu64 "  out of order %" PRIu64
           "  (%u bytes each)\n",
           r->frames_delivered, r->frames_missing, r->frames_bad, r->frames_disorder, (unsigned)r->frame_bytes);
    printf("  SRBs     submitted %" PRIu64 "  completed %" PRIu64 "  cancelled %" PRIu64 " (picked %" PRIu64
           ")  failed %" PRIu64 "  timed out %" PRIu64 "\n",
           r->srbs_submitted, r->srbs_ok, r->srbs_cancelled, r->srbs_picked, r->srbs_failed, r->srbs_timed_out);
    printf("  class    HwCancelPacket %" PRIu64 "  timeouts %" PRIu64 "  ReadyForNext %" PRIu64
           "  most held at once %" PRIu64 "\n",
           r->cls.cancel_calls, r->cls.timeouts, r->cls.ready_for_next, r->cls.max_outstanding);
    printf("  device   frames %" PRIu64 "  dropped %" PRIu64 "  interrupts %" PRIu64 "\n", r->dev_frames,
           r->dev_dropped, r->dev_interrupts);
    printf("  max time per entry point (virtual):");

    for (int i = 0; i < KSL_STRM_E_COUNT; i++) {
        const ksl_stream_entry_stats *s = &r->cls.entry[i];
        if (!s->calls)
            continue;
        char irql[32];
        printf("\n    %-24s %8" PRIu64 " calls  max %9.3f us  at %s", ksl_stream_entry_name(i), s->calls,
               (double)s->max_ns / 1000.0, ksl_irql_name(s->max_irql, irql, sizeof irql));

    }
    printf("\n");
    printf("  engine   ISRs %" PRIu64 "  DPCs %" PRIu64 "  work items %" PRIu64 "  scheduling points %" PRIu64
           "  virtual time %.3f s  wall %.3f s\n",
           r->engine.interrupts, r->engine.dpcs, r->engine.work_items, r->engine.steps, vt, wall);
}

int cmd_stream(int argc, char **argv)
{
    const char *trace_path = NULL, *driver = "isr-dpc-pio";
    uint64_t v;
    stream_job job;
    stream_job_default(&job, NULL);
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        const char *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            stream_usage(stdout);
            return EXIT_CLEAN;
        }
        bool known = strcmp(a, "--driver") == 0 || strcmp(a, "--trace") == 0 || strcmp(a, "--strategy") == 0 ||
                     strcmp(a, "--cpus") == 0 || strcmp(a, "--seed") == 0 || strcmp(a, "--frames") == 0 ||
                     strcmp(a, "--in-flight") == 0 || strcmp(a, "--cancel-every") == 0 ||
                     strcmp(a, "--pause-every") == 0;
        if (!known)
            return bad(a[0] == '-' ? "unknown option '%s'" : "unexpected argument '%s'", a);
        if (!val)
            return bad("option %s needs a value", a);
        i++;
        if (strcmp(a, "--driver") == 0) {
            driver = val;
        } else if (strcmp(a, "--trace") == 0) {
            trace_path = val;
        } else if (strcmp(a, "--strategy") == 0) {
            if (parse_strategy(val, &job.cfg) != 0)
                return bad("bad --strategy '%s' (random, pct or pct:D)", val);
        } else {
            if (parse_u64(val, &v) != 0)
                return bad("bad number '%s'", val);
            if (strcmp(a, "--cpus") == 0) {
                if (v < 1 || v > KSL_MAX_CPUS)
                    return bad("--cpus %s: must be 1..64", val);
                job.cfg.cpus = (uint32_t)v;
            } else if (strcmp(a, "--seed") == 0) {
                job.cfg.seed = v;
            } else if (strcmp(a, "--frames") == 0) {
                if (v < 1 || v > 1000000)
                    return bad("--frames %s: must be 1..1000000", val);
                job.frames = (uint32_t)v;
            } else if (strcmp(a, "--in-flight") == 0) {
                if (v < 1 || v > 64)
                    return bad("--in-flight %s: must be 1..64", val);
                job.in_flight = (uint32_t)v;
            } else if (strcmp(a, "--cancel-every") == 0) {
                job.cancel_every = v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
            } else {
                job.pause_every_ms = v > 3600000 ? 3600000 : (uint32_t)v;
            }
        }
    }
    driver_ref drv;
    char err[512];
    if (driver_resolve_kind(driver, DRIVER_STREAM, &drv, err, sizeof err) != 0)
        return bad("%s", err);
    job.driver = drv.stream;
    if (!stream_job_magic(job.driver))
        return bad("driver's device '%s' is not simulated by `kslab stream`", job.driver->device);
    FILE *trace = NULL;
    if (trace_path && !(trace = fopen(trace_path, "w")))
        return bad("cannot write the trace file '%s'", trace_path);
    recorder *rec = NULL;
    if (trace && !(rec = recorder_open(trace, job.cfg.cpus, 0))) {
        fclose(trace);
        return bad("%s", "out of memory for the recorder");
    }
    job.trace_fn = rec ? recorder_event : NULL;
    job.trace_user = rec;

    printf("kslab stream: %u read SRBs through stream minidriver '%s'%s%s%s (device %s) on %u CPU(s), seed %" PRIu64
           "\n",
           (unsigned)job.frames, drv.name, drv.plugin ? " (plugin " : "", drv.plugin ? drv.arg : "",
           drv.plugin ? ")" : "", job.driver->device, job.cfg.cpus, job.cfg.seed);
    fflush(stdout);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    stream_result r;
    int rc = stream_job_run(&job, &r);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double wall = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    if (rec && recorder_close(rec, rc == 1 ? &r.finding : NULL) != 0)
        fprintf(stderr, "kslab: writing the trace '%s' failed\n", trace_path);
    if (trace && fclose(trace) != 0)
        fprintf(stderr, "kslab: writing the trace '%s' failed\n", trace_path);
    int exit_code;
    if (rc == 2 || rc < 0) {
        fprintf(stderr, "kslab: %s\n", r.err);
        exit_code = EXIT_USAGE;
    } else {
        summary(&r, wall);
        if (rc == 1) {
            printf("  verifier FINDING\n");
            print_finding(&r.finding);
            exit_code = EXIT_FINDING;
        } else if (!r.data_ok) {
            printf("  data     %s\n  verifier FINDING (data check: %s)\n", r.data_msg, r.check_rule);
            exit_code = EXIT_FINDING;
        } else {
            printf("  data     %s\n  verifier clean\n", r.data_msg);
            exit_code = EXIT_CLEAN;
        }
    }
    recorder_free(rec);
    stream_result_free(&r);
    return exit_code;
}
