/* SPDX-License-Identifier: MIT */
/*
 * Benchmark (not a test): scheduling points and context switches per wall second in the
 * deterministic engine with every check on.  Client threads hammer one spin lock and an
 * interlocked counter; a device interrupts every 20 us and its DPC takes the same lock.
 *
 *   bench_sched [iterations-per-thread] [runs]
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <kslab/wdk/wdm.h>

#include "demo.h"

typedef struct hot {
    KSPIN_LOCK lock;
    volatile LONG n;
    uint64_t iters;
} hot;

static void hammer(void *arg)
{
    hot *h = arg;
    for (uint64_t i = 0; i < h->iters; i++) {
        KIRQL old;
        KeAcquireSpinLock(&h->lock, &old);
        h->n++;
        KeReleaseSpinLock(&h->lock, old);
        InterlockedIncrement(&h->n);
    }
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void run(const char *label, ksl_strategy_kind strat, uint32_t cpus, uint64_t iters, int runs)
{
    uint64_t points = 0, switches = 0, choices = 0;
    double t0 = now_s();
    for (int r = 0; r < runs; r++) {
        ksl_config c;
        ksl_config_default(&c);
        c.cpus = cpus;
        c.seed = (uint64_t)r + 1;
        c.strategy = strat;
        c.pct_depth = 3;
        c.pct_steps = iters * 6;
        c.max_steps = iters * 100;
        char err[128];
        ksl_engine *e = ksl_engine_create(&c, err, sizeof err);
        if (!e) {
            fprintf(stderr, "%s\n", err);
            exit(2);
        }
        hot h;
        KeInitializeSpinLock(&h.lock);
        h.n = 0;
        h.iters = iters;
        for (uint32_t i = 0; i < cpus; i++)
            ksl_thread_create(e, "hammer", hammer, &h);
        if (ksl_engine_run(e) != 0) {
            fprintf(stderr, "unexpected finding: %s\n", ksl_engine_finding(e)->message);
            exit(1);
        }
        ksl_stats s;
        ksl_engine_stats(e, &s);
        points += s.steps;
        switches += s.switches;
        choices += s.choices;
        ksl_engine_destroy(e);
    }
    double dt = now_s() - t0;
    printf("%-8s cpus=%u  %10.0f points/s  %10.0f switches/s  %10.0f choices/s  (%llu points in %.2f s)\n", label, cpus,
           (double)points / dt, (double)switches / dt, (double)choices / dt, (unsigned long long)points, dt);
}

int main(int argc, char **argv)
{
    uint64_t iters = argc > 1 ? strtoull(argv[1], NULL, 0) : 200000;
    int runs = argc > 2 ? atoi(argv[2]) : 3;
    run("random", KSL_STRATEGY_RANDOM, 2, iters, runs);
    run("pct:3", KSL_STRATEGY_PCT, 2, iters, runs);
    run("random", KSL_STRATEGY_RANDOM, 4, iters / 2, runs);
    run("random", KSL_STRATEGY_RANDOM, 1, iters, runs);

    /* The demo scenario: devices, ISRs, DPCs, events; many short runs (engine setup included). */
    const demo_scenario *sc = demo_find("counter");
    double t0 = now_s();
    uint64_t points = 0;
    int n = 2000;
    for (int r = 0; r < n; r++) {
        ksl_config c;
        ksl_config_default(&c);
        c.seed = (uint64_t)r + 1;
        ksl_engine *e = ksl_engine_create(&c, NULL, 0);
        demo_result res;
        void *st = sc->setup(e, &res);
        ksl_engine_run(e);
        ksl_stats s;
        ksl_engine_stats(e, &s);
        points += s.steps;
        sc->teardown(st);
        ksl_engine_destroy(e);
    }
    double dt = now_s() - t0;
    printf("demo     cpus=2  %10.0f runs/s    %10.0f points/s  (%d runs)\n", n / dt, (double)points / dt, n);
    return 0;
}
