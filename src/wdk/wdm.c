/* SPDX-License-Identifier: MIT */
/* The WDK-named calls that need more than a macro: adapters between the WDK's BOOLEAN-returning
 * routines and the native bool-returning ones. */
#include <stdlib.h>

#include <kslab/wdk/wdm.h>

#include "../ke/ke_internal.h"

static bool isr_thunk(ksl_interrupt *intr, void *context)
{
    ksl_wdk_isr_thunk *t = context;
    return t->routine(intr, t->context) != 0;
}

NTSTATUS IoConnectInterrupt(PKINTERRUPT *InterruptObject, PKSERVICE_ROUTINE ServiceRoutine, PVOID ServiceContext,
                            PKSPIN_LOCK SpinLock, ULONG Vector, KIRQL Irql, KIRQL SynchronizeIrql,
                            KINTERRUPT_MODE InterruptMode, BOOLEAN ShareVector, KAFFINITY ProcessorEnableMask,
                            BOOLEAN FloatingSave)
{
    (void)InterruptMode;
    (void)ShareVector;
    (void)ProcessorEnableMask;
    (void)FloatingSave;
    if (!InterruptObject || !ServiceRoutine)
        return STATUS_INVALID_PARAMETER;
    ksl_wdk_isr_thunk *t = malloc(sizeof *t);
    if (!t)
        return STATUS_INSUFFICIENT_RESOURCES;
    t->routine = ServiceRoutine;
    t->context = ServiceContext;
    KIRQL irql = SynchronizeIrql > Irql ? SynchronizeIrql : Irql;
    ksl_interrupt *i = ksl_interrupt_connect(Vector, irql, isr_thunk, t, SpinLock, "ISR");
    if (!i) {
        free(t);
        return STATUS_INVALID_PARAMETER;
    }
    i->owns_context = 1;
    *InterruptObject = i;
    return STATUS_SUCCESS;
}

VOID IoDisconnectInterrupt(PKINTERRUPT InterruptObject)
{
    if (!InterruptObject)
        return;
    ksl_interrupt_disconnect(InterruptObject); /* frees the thunk it owns */
}

typedef struct sync_thunk {
    PKSYNCHRONIZE_ROUTINE routine;
    PVOID context;
} sync_thunk;

static bool sync_adapter(void *context)
{
    sync_thunk *t = context;
    return t->routine(t->context) != 0;
}

BOOLEAN ksl_wdk_synchronize(PKINTERRUPT Interrupt, PKSYNCHRONIZE_ROUTINE Routine, PVOID Context, const char *file, int line)
{
    sync_thunk t = {Routine, Context};
    return ksl_interrupt_sync(Interrupt, sync_adapter, &t, file, line) ? TRUE : FALSE;
}
