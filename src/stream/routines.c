/* SPDX-License-Identifier: MIT */
/*
 * Which minidriver routine runs on which context: a stack per CPU of the routines running there
 * at DISPATCH_LEVEL or above (nothing switches a CPU away from them but interrupts, which nest),
 * and the contexts running Low routines (worker threads at PASSIVE_LEVEL, which may be preempted
 * and migrate), by name.  The checks (checks.c) and the extension lockset (shared_state.c) ask
 * it who wrote what.  Calls nothing of the class but objects.c.
 */
#include <stdio.h>
#include <string.h>

#include "strm.h"

bool ksl__strm_rt_push(ksl_stream_adapter *a, int entry, uint8_t irql)
{
    strm_checks *k = &a->ck;
    if (irql >= DISPATCH_LEVEL) {
        uint32_t cpu = ksl_cpu_current() % KSL_MAX_CPUS;
        if (k->depth[cpu] < STRM_CK_DEPTH)
            k->stack[cpu][k->depth[cpu]] = (int8_t)entry;
        k->depth[cpu]++;
        return true;
    }
    if (entry != KSL_STRM_E_LOW)
        return false;
    const char *who = ksl_context_name();
    pthread_mutex_lock(&a->mu);
    for (int i = 0; i < STRM_CK_LOW; i++) {
        if (!k->low_ctx[i][0]) {
            snprintf(k->low_ctx[i], sizeof k->low_ctx[i], "%s", who);
            break;
        }
    }
    pthread_mutex_unlock(&a->mu);
    return true;
}

void ksl__strm_rt_pop(ksl_stream_adapter *a, int entry, uint8_t irql)
{
    strm_checks *k = &a->ck;
    if (irql >= DISPATCH_LEVEL) {
        uint32_t cpu = ksl_cpu_current() % KSL_MAX_CPUS;
        if (k->depth[cpu])
            k->depth[cpu]--;
        return;
    }
    if (entry != KSL_STRM_E_LOW)
        return;
    const char *who = ksl_context_name();
    pthread_mutex_lock(&a->mu);
    for (int i = 0; i < STRM_CK_LOW; i++) {
        if (strcmp(k->low_ctx[i], who) == 0) {
            k->low_ctx[i][0] = 0;
            break;
        }
    }
    pthread_mutex_unlock(&a->mu);
}

int ksl__strm_rt_current_locked(ksl_stream_adapter *a)
{
    strm_checks *k = &a->ck;
    uint32_t cpu = ksl_cpu_current() % KSL_MAX_CPUS;
    if (ksl_irql_current() >= DISPATCH_LEVEL && k->depth[cpu]) {
        uint8_t d = k->depth[cpu];
        return d <= STRM_CK_DEPTH ? k->stack[cpu][d - 1] : -1;
    }
    /* A Low routine, possibly with the IRQL raised by a lock of its own. */
    const char *who = ksl_context_name();
    for (int i = 0; i < STRM_CK_LOW; i++)
        if (k->low_ctx[i][0] && strcmp(k->low_ctx[i], who) == 0)
            return KSL_STRM_E_LOW;
    return -1;
}
