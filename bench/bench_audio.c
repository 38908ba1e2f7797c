/* SPDX-License-Identifier: MIT */
/*
 * Benchmark (not a test): audio through the WavePci stack with the verifier on.
 *
 *   bench_audio [seconds-of-audio] [runs]
 *
 * 1. Seconds of audio per wall second: the built-in signal at 48 kHz stereo (default 600 s)
 *    played through the reference AC'97 miniport on 2 virtual CPUs (deterministic engine,
 *    random strategy, every check and the ownership ledger on), 10 ms IRPs; then the same with
 *    100 ms IRPs (full-page mappings), with every 3rd IRP cancelled, and captured.
 * 2. The cost of one mapping's life (GetMapping, descriptor, DMA through the ledger, interrupt,
 *    DPC, ReleaseMapping): wall time and scheduling points per mapping handed out.
 * Signal generation is outside the timed part.  The middle of `runs` repetitions is reported.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <ac97_miniport.h>

#include "audio_job.h"

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

typedef struct variant {
    const char *name;
    bool capture;
    uint32_t irp_ms;
    uint32_t cancel_every;
} variant;

int main(int argc, char **argv)
{
    uint64_t seconds = argc > 1 ? strtoull(argv[1], NULL, 0) : 600;
    int runs = argc > 2 ? atoi(argv[2]) : 3;
    if (seconds < 1 || runs < 1 || runs > 99) {
        fprintf(stderr, "usage: bench_audio [seconds-of-audio] [runs 1..99]\n");
        return 2;
    }
    ksl_pcm in;
    if (ksl_pcm_generate(&in, 48000, 2, (size_t)(48000 * seconds), 1) != 0) {
        fprintf(stderr, "bench_audio: out of memory\n");
        return 2;
    }
    static const variant variants[] = {
        {"play, 10 ms IRPs", false, 10, 0},
        {"play, 100 ms IRPs", false, 100, 0},
        {"play, 10 ms IRPs, every 3rd cancelled", false, 10, 3},
        {"capture, 10 ms IRPs", true, 10, 0},
    };
    printf("%" PRIu64 " s of 48 kHz stereo, 2 virtual CPUs, random strategy, verifier on; middle of %d run(s)\n\n",
           seconds, runs);
    printf("| workload | audio s / wall s | wall s | mappings | ns per mapping life | points per mapping |\n");
    printf("|---|---|---|---|---|---|\n");
    int rc = 0;
    for (size_t v = 0; v < sizeof variants / sizeof variants[0]; v++) {
        double walls[99];
        audio_result r = {0};
        for (int k = 0; k < runs; k++) {
            audio_job job;
            audio_job_default(&job, &in, &ksl_ac97_driver, variants[v].capture);
            job.irp_ms = variants[v].irp_ms;
            job.cancel_every = variants[v].cancel_every;
            double t0 = now_s();
            int res = audio_job_run(&job, &r);
            walls[k] = now_s() - t0;
            if (res != 0 || !r.data_ok) {
                fprintf(stderr, "bench_audio: %s: rc %d %s %s\n", variants[v].name, res, r.findings[0].rule, r.data_msg);
                rc = 1;
            }
            if (k + 1 < runs)
                audio_result_free(&r);
        }
        qsort(walls, (size_t)runs, sizeof walls[0], cmp_double);
        double wall = walls[runs / 2];
        uint64_t maps = r.port.mappings_handed ? r.port.mappings_handed : 1;
        printf("| %s | %.0f | %.3f | %" PRIu64 " | %.0f | %.0f |\n", variants[v].name, (double)r.engine.time_ns / 1e9 / wall,
               wall, r.port.mappings_handed, wall * 1e9 / (double)maps, (double)r.engine.steps / (double)maps);
        audio_result_free(&r);
    }
    ksl_pcm_free(&in);
    return rc;
}
