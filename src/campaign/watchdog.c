/* SPDX-License-Identifier: MIT */
/* The worker's CPU-time watchdog (see watchdog.h). */
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include <kslab/engine.h>

#include "watchdog.h"

#define MIN_PERIOD_S 0.005
#define MAX_PERIOD_S 0.1

static struct {
    clockid_t clock;     /* the CPU-time clock of the watched thread */
    double budget_s;
    ksl__hang_fn *on_hang;
} g;

static double cpu_now(void)
{
    struct timespec t;
    if (clock_gettime(g.clock, &t) != 0)
        return 0;
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static void *watch_main(void *arg)
{
    (void)arg;
    double period = g.budget_s / 4;
    period = period < MIN_PERIOD_S ? MIN_PERIOD_S : period > MAX_PERIOD_S ? MAX_PERIOD_S : period;
    struct timespec nap = {(time_t)period, (long)((period - (double)(time_t)period) * 1e9)};
    uint64_t last = UINT64_MAX;
    double since = 0;
    for (;;) {
        nanosleep(&nap, NULL);
        ksl_watch w;
        ksl_engine_watch(&w);
        double cpu = cpu_now();
        if (!w.running || w.points != last) {
            last = w.points;
            since = cpu;
            continue;
        }
        if (cpu - since < g.budget_s)
            continue;
        char ctx[96];
        if (w.context_kind && w.context_name)
            snprintf(ctx, sizeof ctx, "%s '%s'", w.context_kind, w.context_name);
        else
            snprintf(ctx, sizeof ctx, "%s", w.context_kind ? w.context_kind : "an unknown context");
        g.on_hang(ctx, w.file, w.line, cpu - since);
        return NULL;
    }
}

int ksl__watchdog_start(double budget_s, ksl__hang_fn *on_hang)
{
    if (!(budget_s > 0) || pthread_getcpuclockid(pthread_self(), &g.clock) != 0)
        return -1;
    g.budget_s = budget_s;
    g.on_hang = on_hang;
    /* The thread takes no signals: they are the driver's thread's (a crash) or ignored. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    pthread_t t;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, 64 * 1024);
    int rc = pthread_create(&t, &attr, watch_main, NULL);
    pthread_attr_destroy(&attr);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return rc == 0 ? 0 : -1;
}
