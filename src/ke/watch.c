/* SPDX-License-Identifier: MIT */
/*
 * What a watchdog on another thread may see of the deterministic engine (ksl_engine_watch): the
 * executor publishes, with relaxed atomics, whether a run is under way, a count of scheduling
 * points, and the context that runs now with the call site of its last point.  A driver loop
 * that never calls the kernel leaves the count still while the host thread burns CPU time: the
 * worker's watchdog (src/campaign/worker.c) turns that into K.hang.  One deterministic run at a
 * time per process publishes (a worker runs one); the threaded executor publishes nothing.
 */
#include <stdatomic.h>

#include "ke_internal.h"

static _Atomic int g_running;
static _Atomic uint64_t g_points;
static _Atomic(const char *) g_kind;
static _Atomic(const char *) g_name;
static _Atomic(const char *) g_file;
static _Atomic int g_line;
/* The writer's own copies (the engine's host thread only): what it published last. */
static uint64_t my_points;
static const ksl_frame *my_frame;

static const char *kind_name(uint8_t kind)
{
    switch (kind) {
    case FR_THREAD: return "thread";
    case FR_DPC: return "DPC";
    case FR_ISR: return "ISR";
    case FR_WORK: return "work item on";
    default: return "idle";
    }
}

void ksl__watch_run(bool running)
{
    my_frame = NULL;
    atomic_store_explicit(&g_file, NULL, memory_order_relaxed);
    atomic_store_explicit(&g_running, running, memory_order_release);
}

void ksl__watch_at(const ksl_frame *f, bool fresh, const char *file, int line)
{
    if (fresh || f != my_frame) { /* another context than the last published one */
        my_frame = f;
        atomic_store_explicit(&g_kind, kind_name(f->kind), memory_order_relaxed);
        atomic_store_explicit(&g_name, f->name, memory_order_relaxed);
    }
    atomic_store_explicit(&g_file, file, memory_order_relaxed);
    atomic_store_explicit(&g_line, line, memory_order_relaxed);
    /* One writer: a plain store of its own count, no locked instruction. */
    atomic_store_explicit(&g_points, ++my_points, memory_order_release);
}

void ksl__watch_site(const char **file, int *line)
{
    *file = atomic_load_explicit(&g_file, memory_order_relaxed);
    *line = atomic_load_explicit(&g_line, memory_order_relaxed);
}

void ksl_engine_watch(ksl_watch *out)
{
    out->points = atomic_load_explicit(&g_points, memory_order_acquire);
    out->running = atomic_load_explicit(&g_running, memory_order_acquire) != 0;
    out->context_kind = atomic_load_explicit(&g_kind, memory_order_relaxed);
    out->context_name = atomic_load_explicit(&g_name, memory_order_relaxed);
    out->file = atomic_load_explicit(&g_file, memory_order_relaxed);
    out->line = atomic_load_explicit(&g_line, memory_order_relaxed);
}
