/* SPDX-License-Identifier: MIT */
/*
 * `kslab play` and `kslab capture`: stream a WAV file (or the built-in test signal) through a
 * WavePci driver on the simulated AC'97, check the result bit for bit, print a summary.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "audio_job.h"
#include "cli.h"
#include "drivers.h"
#include "recorder.h"
#include "sarif.h"

#define SIGNAL_RATE 48000u
#define SIGNAL_CHANNELS 2u
#define SIGNAL_SECONDS 2u

static void audio_usage(FILE *f, bool capture)
{
    fprintf(f,
            "usage: kslab %s [IN.wav] [-o OUT.wav] [options]\n"
            "\n"
            "%s\n"
            "Without IN, the built-in test signal (%u Hz, %u channels, %u s; see --rate, --channels, --seconds).\n"
            "\n"
            "options:\n"
            "  -o, --output FILE    write the %s audio as a 16-bit PCM WAV file (only after a clean run)\n"
            "  --driver NAME|PATH   WavePci driver: a built-in name (default ac97; see `kslab list`) or a\n"
            "                       driver plugin .so (a path: contains '/' or ends in .so)\n"
            "  --cpus N             virtual CPUs, 1..64 (default 2)\n"
            "  --seed S             schedule seed (default 1)\n"
            "  --strategy S         random | pct | pct:D (default random)\n"
            "  --irp-ms MS          audio per IRP in ms (default 10)\n"
            "  --in-flight N        IRPs kept queued (default 4)\n"
            "  --cancel-every K     cancel every K-th IRP while it is in flight (default 0: never)\n"
            "  --pause-every MS     pause for 1 ms every MS of virtual time (default 0: never)\n"
            "  --contiguous         do not scatter physical pages\n"
            "  --buffer-offset N    IRP buffers start N bytes into a page (multiple of 4, default 0)\n"
            "  --trace FILE         write the run as Chrome Trace Event JSON (opens in Perfetto)\n"
            "  --sarif FILE         write the result (a finding or none) as SARIF 2.1.0 for code scanning;\n"
            "                       file names relative to the current directory\n"
            "  --rate HZ, --channels N, --seconds S   shape of the built-in test signal\n"
            "\n"
            "exit status: 0 clean and bit-exact, 1 a verifier finding, 2 usage or input error\n",
            capture ? "capture" : "play",
            capture ? "Capture through a WavePci driver what a microphone hearing IN records."
                    : "Play IN through a WavePci driver and collect what the device plays.",
            SIGNAL_RATE, SIGNAL_CHANNELS, SIGNAL_SECONDS, capture ? "captured" : "played");
}

/* The options that take a value. */
static bool takes_value(const char *a)
{
    static const char *const with_value[] = {"-o",          "--output",       "--driver",      "--trace",
                                             "--sarif",     "--strategy",     "--cpus",        "--seed",
                                             "--irp-ms",    "--in-flight",    "--cancel-every", "--pause-every",
                                             "--buffer-offset", "--rate",     "--channels",    "--seconds"};
    for (size_t i = 0; i < sizeof with_value / sizeof with_value[0]; i++)
        if (strcmp(a, with_value[i]) == 0)
            return true;
    return false;
}

/* True when the directory `path` would be created in exists (checked before a run that may be
 * long, rather than failing only when the output is written). */
static bool parent_dir_exists(const char *path)
{
    char dir[4096];
    const char *slash = strrchr(path, '/');
    if (!slash)
        return true;
    size_t n = slash == path ? 1 : (size_t)(slash - path);
    if (n >= sizeof dir)
        return true; /* let the write report it */
    memcpy(dir, path, n);
    dir[n] = 0;
    struct stat st;
    return stat(dir, &st) == 0 && S_ISDIR(st.st_mode);
}

static int bad(const char *fmt, const char *arg)
{
    fprintf(stderr, "kslab: ");
    fprintf(stderr, fmt, arg);
    fputc('\n', stderr);
    return EXIT_USAGE;
}

static void summary(const audio_job *job, const audio_result *r, double wall)
{
    double vt = (double)r->engine.time_ns / 1e9;
    printf("  bytes    submitted %" PRIu64 "  %s %" PRIu64 "  cancelled %" PRIu64 "\n", r->port.bytes_submitted,
           job->capture ? "captured" : "played", r->port.bytes_transferred, r->port.bytes_cancelled);
    printf("  IRPs     submitted %" PRIu64 "  completed %" PRIu64 "  cancelled %" PRIu64 "\n", r->port.irps_submitted,
           r->port.irps_completed, r->port.irps_cancelled);
    printf("  mappings handed out %" PRIu64 "  released %" PRIu64 "  revoked %" PRIu64 "  (GetMapping refused %" PRIu64
           ", MappingAvailable %" PRIu64 ", RevokeMappings %" PRIu64 ", TerminatePacket %" PRIu64 ")\n",
           r->port.mappings_handed, r->port.mappings_released, r->port.mappings_revoked, r->port.get_refused,
           r->port.mapping_available_calls, r->port.revoke_calls, r->port.terminate_calls);
    printf("  device   interrupts %" PRIu64 "  buffers %" PRIu64 "  %s %" PRIu64 "\n", r->dev.interrupts,
           r->dev.buffers_completed, job->capture ? "over-run ns" : "under-run fill samples",
           job->capture ? r->dev.overrun_ns : r->dev.fill_samples);
    printf("  engine   ISRs %" PRIu64 "  DPCs %" PRIu64 "  scheduling points %" PRIu64 "  virtual time %.3f s  wall %.3f s"
           " (%.0fx real time)\n",
           r->engine.interrupts, r->engine.dpcs, r->engine.steps, vt, wall, wall > 0 ? vt / wall : 0.0);
}

/* --sarif: the run's finding, or the output check it failed, or no result; 0 or -1. */
static int write_sarif(const char *path, const audio_result *r, const recorder *rec)
{
    ksl_finding check;
    const ksl_finding *f = NULL;
    if (r->rc == 1) {
        f = &r->finding;
    } else if (!r->data_ok) {
        memset(&check, 0, sizeof check);
        snprintf(check.rule, sizeof check.rule, "%s", r->check_rule ? r->check_rule : "W4.data-mismatch");
        snprintf(check.message, sizeof check.message, "output check after the run: %s", r->data_msg);
        snprintf(check.context, sizeof check.context, "the output check");
        check.cpu = -1;
        check.time_ns = r->engine.time_ns;
        check.step = r->engine.steps;
        f = &check;
    }
    const recorder_entry *ev;
    size_t nev = recorder_ring(rec, &ev);
    char root[4096], err[600];
    if (!getcwd(root, sizeof root))
        root[0] = 0;
    if (sarif_write(path, f, ev, nev, NULL, root, err, sizeof err) != 0) {
        fprintf(stderr, "kslab: %s\n", err);
        return -1;
    }
    printf("  wrote    %s (SARIF, %s)\n", path, f ? f->rule : "no finding");
    return 0;
}

int cmd_audio(int argc, char **argv, bool capture)
{
    const char *in_path = NULL, *out_path = NULL, *trace_path = NULL, *sarif_path = NULL, *driver = "ac97";
    uint64_t rate = SIGNAL_RATE, channels = SIGNAL_CHANNELS, seconds = SIGNAL_SECONDS, v;
    audio_job job;
    audio_job_default(&job, NULL, NULL, capture);
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        const char *val = i + 1 < argc ? argv[i + 1] : NULL;
        bool takes = true;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            audio_usage(stdout, capture);
            return EXIT_CLEAN;
        } else if (strcmp(a, "--contiguous") == 0) {
            job.scatter = false;
            takes = false;
        } else if (takes_value(a) && !val) {
            return bad("option %s needs a value", a);
        } else if (strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0) {
            out_path = val;
        } else if (strcmp(a, "--driver") == 0) {
            driver = val;
        } else if (strcmp(a, "--trace") == 0) {
            trace_path = val;
        } else if (strcmp(a, "--sarif") == 0) {
            sarif_path = val;
        } else if (strcmp(a, "--strategy") == 0) {
            if (parse_strategy(val, &job.cfg) != 0)
                return bad("bad --strategy '%s' (random, pct or pct:D)", val);
        } else if (strcmp(a, "--cpus") == 0 || strcmp(a, "--seed") == 0 || strcmp(a, "--irp-ms") == 0 ||
                   strcmp(a, "--in-flight") == 0 || strcmp(a, "--cancel-every") == 0 ||
                   strcmp(a, "--pause-every") == 0 || strcmp(a, "--buffer-offset") == 0 || strcmp(a, "--rate") == 0 ||
                   strcmp(a, "--channels") == 0 || strcmp(a, "--seconds") == 0) {
            if (parse_u64(val, &v) != 0)
                return bad("bad number '%s'", val);
            if (strcmp(a, "--cpus") == 0) {
                if (v < 1 || v > KSL_MAX_CPUS)
                    return bad("--cpus %s: must be 1..64", val);
                job.cfg.cpus = (uint32_t)v;
            } else if (strcmp(a, "--seed") == 0) {
                job.cfg.seed = v;
            } else if (strcmp(a, "--irp-ms") == 0) {
                if (v < 1 || v > 1000)
                    return bad("--irp-ms %s: must be 1..1000", val);
                job.irp_ms = (uint32_t)v;
            } else if (strcmp(a, "--in-flight") == 0) {
                if (v < 1 || v > 64)
                    return bad("--in-flight %s: must be 1..64", val);
                job.irps_in_flight = (uint32_t)v;
            } else if (strcmp(a, "--cancel-every") == 0) {
                job.cancel_every = v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
            } else if (strcmp(a, "--pause-every") == 0) {
                job.pause_every_ms = v > 3600000 ? 3600000 : (uint32_t)v;
            } else if (strcmp(a, "--buffer-offset") == 0) {
                if (v >= 4096 || v % 4)
                    return bad("--buffer-offset %s: must be a multiple of 4 below 4096", val);
                job.buffer_offset = (uint32_t)v;
            } else if (strcmp(a, "--rate") == 0) {
                rate = v;
            } else if (strcmp(a, "--channels") == 0) {
                channels = v;
            } else {
                seconds = v;
            }
        } else if (a[0] == '-' && a[1] != 0) {
            return bad("unknown option '%s'", a);
        } else {
            takes = false;
            if (in_path)
                return bad("more than one input file ('%s')", a);
            in_path = a;
        }
        if (takes)
            i++;
    }
    driver_ref drv;
    char err[512];
    if (driver_resolve(driver, &drv, err, sizeof err) != 0)
        return bad("%s", err);
    job.driver = drv.driver;
    if (out_path && !parent_dir_exists(out_path))
        return bad("cannot write '%s': its directory does not exist", out_path);
    if (sarif_path && !parent_dir_exists(sarif_path))
        return bad("cannot write '%s': its directory does not exist", sarif_path);

    ksl_pcm in = {0};
    if (in_path) {
        if (ksl_wav_read(in_path, &in, err, sizeof err) != 0)
            return bad("%s", err);
    } else {
        if (rate < 1 || rate > 192000 || channels < 1 || channels > 8 || seconds < 1 || seconds > 3600)
            return bad("%s", "built-in signal: --rate 1..192000, --channels 1..8, --seconds 1..3600");
        if (ksl_pcm_generate(&in, (uint32_t)rate, (uint16_t)channels, (size_t)(rate * seconds), job.cfg.seed) != 0)
            return bad("%s", "out of memory for the test signal");
    }
    job.in = &in;
    FILE *trace = NULL;
    if (trace_path && !(trace = fopen(trace_path, "w"))) {
        ksl_pcm_free(&in);
        return bad("cannot write the trace file '%s'", trace_path);
    }
    recorder *rec = NULL;
    if ((trace || sarif_path) && !(rec = recorder_open(trace, job.cfg.cpus, sarif_path ? RECORDER_RING_DEFAULT : 0))) {
        if (trace)
            fclose(trace);
        ksl_pcm_free(&in);
        return bad("%s", "out of memory for the recorder");
    }
    job.trace_fn = rec ? recorder_event : NULL;
    job.trace_user = rec;
    job.keep_output = out_path != NULL;

    printf("kslab %s: %s (%u Hz, %u channel%s, %.3f s) through driver '%s'%s%s%s on %u CPU(s), seed %" PRIu64 "\n",
           capture ? "capture" : "play", in_path ? in_path : "built-in test signal", (unsigned)in.rate,
           (unsigned)in.channels, in.channels == 1 ? "" : "s", (double)in.frames / in.rate, drv.name,
           drv.plugin ? " (plugin " : "", drv.plugin ? drv.arg : "", drv.plugin ? ")" : "", job.cfg.cpus,
           job.cfg.seed);
    fflush(stdout);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    audio_result r;
    int rc = audio_job_run(&job, &r);
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
        summary(&job, &r, wall);
        if (rc == 1) {
            printf("  verifier FINDING\n");
            print_finding(&r.finding);
            if (out_path)
                printf("  %s not written: the run stopped at the finding\n", out_path);
            exit_code = EXIT_FINDING;
        } else if (!r.data_ok) {
            printf("  data     %s\n  verifier FINDING (output check)\n", r.data_msg);
            exit_code = EXIT_FINDING;
        } else {
            printf("  data     %s\n  verifier clean\n", r.data_msg);
            exit_code = EXIT_CLEAN;
            if (out_path) {
                ksl_pcm out = {in.rate, in.channels, r.out_len / (in.channels * 2u), (int16_t *)(void *)r.out};
                if (ksl_wav_write(out_path, &out, err, sizeof err) != 0) {
                    fprintf(stderr, "kslab: %s\n", err);
                    exit_code = EXIT_USAGE;
                } else {
                    printf("  wrote    %s (%zu frames)\n", out_path, out.frames);
                }
            }
        }
    }
    if (sarif_path && (rc == 0 || rc == 1) && write_sarif(sarif_path, &r, rec) != 0 && exit_code == EXIT_CLEAN)
        exit_code = EXIT_USAGE;
    recorder_free(rec);
    audio_result_free(&r);
    ksl_pcm_free(&in);
    return exit_code;
}
