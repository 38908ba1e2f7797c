/* SPDX-License-Identifier: MIT */
/*
 * IInterruptSync: one interrupt resource, an ordered list of service routines the object's ISR
 * calls in one of three modes, and CallSynchronizedRoutine, which runs a routine exclusive of
 * them (KeSynchronizeExecution on the connected interrupt; before Connect, the object's spin
 * lock).  The interrupt is connected with that same spin lock, as ReactOS does, so the two kinds
 * of exclusion are one lock.
 *
 * Modes (what the dispatcher does when the line fires):
 *   Normal  call routines from the head until one returns STATUS_SUCCESS; if none does, every
 *           routine has been called once, as in All;
 *   All     call every routine once;
 *   Repeat  make passes over the list until a whole pass gets no STATUS_SUCCESS.
 * The interrupt is claimed iff some routine returned STATUS_SUCCESS.
 */
#include <string.h>

#include "pcl_internal.h"

/* A Repeat-mode ISR that still gets STATUS_SUCCESS after this many passes hangs the system; it
 * is reported as K.hang rather than spinning without a scheduling point. */
#define PCL_REPEAT_MAX_PASSES 10000u

typedef struct pcl_isr_entry {
    LIST_ENTRY link;
    PINTERRUPTSYNCROUTINE routine;
    PVOID context;
} pcl_isr_entry;

typedef struct pcl_interrupt_sync {
    IInterruptSync iface; /* first: the interface pointer is the object pointer */
    volatile LONG refs;
    INTERRUPTSYNCMODE mode;
    ULONG line;      /* the resource's Vector: the kslab interrupt line */
    KIRQL irql;      /* the resource's Level */
    KSPIN_LOCK lock; /* the interrupt lock once connected; CallSynchronizedRoutine's before */
    PKINTERRUPT intr; /* NULL while not connected */
    LIST_ENTRY routines; /* pcl_isr_entry, called head to tail */
} pcl_interrupt_sync;

static pcl_interrupt_sync *from_iface(IInterruptSync *This)
{
    return (pcl_interrupt_sync *)This;
}

/* ---- the ISR ------------------------------------------------------------------------------- */

/* One pass over the routines; true if one returned STATUS_SUCCESS.  stop_at_success: Normal. */
static bool call_routines(pcl_interrupt_sync *s, bool stop_at_success)
{
    bool any = false;
    for (PLIST_ENTRY le = s->routines.Flink; le != &s->routines; le = le->Flink) {
        pcl_isr_entry *en = CONTAINING_RECORD(le, pcl_isr_entry, link);
        if (en->routine(&s->iface, en->context) == STATUS_SUCCESS) {
            any = true;
            if (stop_at_success)
                break;
        }
    }
    return any;
}

/* The ISR connected to the line: DIRQL, holding the interrupt lock. */
static bool interrupt_sync_isr(ksl_interrupt *intr, void *context)
{
    (void)intr;
    pcl_interrupt_sync *s = context;
    switch (s->mode) {
    case InterruptSyncModeNormal:
        return call_routines(s, true);
    case InterruptSyncModeRepeat: {
        bool any = false;
        for (uint32_t pass = 0; call_routines(s, false); pass++) {
            any = true;
            if (pass + 1 >= PCL_REPEAT_MAX_PASSES) {
                ksl_report("K.hang", __FILE__, __LINE__,
                           "IInterruptSync in InterruptSyncModeRepeat: a service routine still returns STATUS_SUCCESS "
                           "after %u passes",
                           PCL_REPEAT_MAX_PASSES);
                break;
            }
        }
        return any;
    }
    case InterruptSyncModeAll:
    default:
        return call_routines(s, false);
    }
}

/* ---- IUnknown ------------------------------------------------------------------------------ */

/* Answers IUnknown and IInterruptSync, AddRef'ing.  Any IRQL. */
static NTSTATUS is_query_interface(IInterruptSync *This, REFIID Iid, PVOID *Object)
{
    if (!Object)
        return STATUS_INVALID_PARAMETER;
    if (IsEqualGUIDAligned(Iid, &IID_IUnknown) || IsEqualGUIDAligned(Iid, &IID_IInterruptSync)) {
        InterlockedIncrement(&from_iface(This)->refs);
        *Object = This;
        return STATUS_SUCCESS;
    }
    *Object = NULL;
    return STATUS_NOINTERFACE;
}

/* Any IRQL. */
static ULONG is_add_ref(IInterruptSync *This)
{
    return (ULONG)InterlockedIncrement(&from_iface(This)->refs);
}

/* The last Release disconnects and frees everything: PASSIVE_LEVEL if still connected, else
 * IRQL <= DISPATCH_LEVEL.  Earlier ones: any IRQL. */
static ULONG is_release(IInterruptSync *This)
{
    pcl_interrupt_sync *s = from_iface(This);
    LONG left = InterlockedDecrement(&s->refs);
    if (left != 0)
        return (ULONG)left;
    if (s->intr) {
        ksl_require_irql(PASSIVE_LEVEL, "IInterruptSync::Release (the last one, still connected)", __FILE__, __LINE__);
        ksl_interrupt_disconnect(s->intr);
        s->intr = NULL;
    }
    while (!IsListEmpty(&s->routines))
        ExFreePoolWithTag(CONTAINING_RECORD(RemoveHeadList(&s->routines), pcl_isr_entry, link), KSL_PCL_POOL_TAG);
    ExFreePoolWithTag(s, KSL_PCL_POOL_TAG);
    return 0;
}

/* ---- IInterruptSync ------------------------------------------------------------------------ */

typedef struct sync_call {
    IInterruptSync *iface;
    PINTERRUPTSYNCROUTINE routine;
    PVOID context;
    NTSTATUS status;
} sync_call;

static bool sync_thunk(void *context)
{
    sync_call *c = context;
    c->status = c->routine(c->iface, c->context);
    return NT_SUCCESS(c->status);
}

/*
 * Run Routine exclusive of the ISR routines and of every other synchronized routine; returns its
 * status.  Connected: at the interrupt's IRQL under its lock (IRQL <= that DIRQL).  Not
 * connected: under the object's spin lock at DISPATCH_LEVEL; STATUS_UNSUCCESSFUL (routine not
 * called) above DISPATCH_LEVEL.  Findings point at the caller's IInterruptSync_CallSynchronizedRoutine.
 */
static NTSTATUS is_call_synchronized_routine(IInterruptSync *This, PINTERRUPTSYNCROUTINE Routine, PVOID DynamicContext)
{
    const char *file;
    int line;
    ksl__pcl_take_site(&file, &line); /* first: before any scheduling point */
    if (!file) {
        file = __FILE__;
        line = __LINE__;
    }
    pcl_interrupt_sync *s = from_iface(This);
    if (!Routine)
        return STATUS_INVALID_PARAMETER;
    sync_call c = {This, Routine, DynamicContext, STATUS_UNSUCCESSFUL};
    if (s->intr) {
        ksl_interrupt_sync(s->intr, sync_thunk, &c, file, line);
        return c.status;
    }
    if (KeGetCurrentIrql() > DISPATCH_LEVEL)
        return STATUS_UNSUCCESSFUL;
    KIRQL old = (KIRQL)ksl_spin_acquire(&s->lock, file, line);
    c.status = Routine(This, DynamicContext);
    ksl_spin_release(&s->lock, old, file, line);
    return c.status;
}

/* The connected interrupt object, NULL before Connect.  Any IRQL. */
static PKINTERRUPT is_get_kinterrupt(IInterruptSync *This)
{
    return from_iface(This)->intr;
}

/*
 * Connect the object's ISR to the resource's line at its IRQL.  STATUS_UNSUCCESSFUL when already
 * connected, STATUS_INVALID_PARAMETER when the line or IRQL cannot be connected.  PASSIVE_LEVEL.
 */
static NTSTATUS is_connect(IInterruptSync *This)
{
    pcl_interrupt_sync *s = from_iface(This);
    ksl_require_irql(PASSIVE_LEVEL, "IInterruptSync::Connect", __FILE__, __LINE__);
    if (s->intr)
        return STATUS_UNSUCCESSFUL;
    PKINTERRUPT intr = ksl_interrupt_connect(s->line, s->irql, interrupt_sync_isr, s, &s->lock, "IInterruptSync");
    if (!intr)
        return STATUS_INVALID_PARAMETER;
    s->intr = intr;
    return STATUS_SUCCESS;
}

/* Disconnect if connected.  PASSIVE_LEVEL. */
static void is_disconnect(IInterruptSync *This)
{
    pcl_interrupt_sync *s = from_iface(This);
    ksl_require_irql(PASSIVE_LEVEL, "IInterruptSync::Disconnect", __FILE__, __LINE__);
    if (!s->intr)
        return;
    ksl_interrupt_disconnect(s->intr);
    s->intr = NULL;
}

typedef struct insert_args {
    pcl_interrupt_sync *s;
    pcl_isr_entry *entry;
    BOOLEAN first;
} insert_args;

static void insert_entry(const insert_args *a)
{
    if (a->first)
        InsertHeadList(&a->s->routines, &a->entry->link);
    else
        InsertTailList(&a->s->routines, &a->entry->link);
}

static bool insert_synchronized(void *context)
{
    insert_args *a = context;
    insert_entry(a);
    return true;
}

/*
 * Add a service routine: at the head of the list when First, else at the tail.  Once connected
 * the list changes under the interrupt lock, so a running ISR never sees it half linked.
 * STATUS_INSUFFICIENT_RESOURCES when pool runs out.  PASSIVE_LEVEL.
 */
static NTSTATUS is_register_service_routine(IInterruptSync *This, PINTERRUPTSYNCROUTINE Routine, PVOID DynamicContext,
                                            BOOLEAN First)
{
    pcl_interrupt_sync *s = from_iface(This);
    ksl_require_irql(PASSIVE_LEVEL, "IInterruptSync::RegisterServiceRoutine", __FILE__, __LINE__);
    if (!Routine)
        return STATUS_INVALID_PARAMETER;
    pcl_isr_entry *en = ExAllocatePoolWithTag(NonPagedPool, sizeof *en, KSL_PCL_POOL_TAG);
    if (!en)
        return STATUS_INSUFFICIENT_RESOURCES;
    en->routine = Routine;
    en->context = DynamicContext;
    insert_args a = {s, en, First};
    if (s->intr)
        ksl_interrupt_sync(s->intr, insert_synchronized, &a, __FILE__, __LINE__);
    else
        insert_entry(&a);
    return STATUS_SUCCESS;
}

static const IInterruptSyncVtbl interrupt_sync_vtbl = {
    is_query_interface,
    is_add_ref,
    is_release,
    is_call_synchronized_routine,
    is_get_kinterrupt,
    is_connect,
    is_disconnect,
    is_register_service_routine,
};

/* ---- creation ------------------------------------------------------------------------------ */

/*
 * A new interrupt sync object (reference count 1, not connected) for the ResourceIndex-th
 * interrupt resource of ResourceList.  STATUS_INVALID_PARAMETER when there is no such resource
 * or Mode is not one of the three.  Aggregation is not supported: OuterUnknown is ignored.
 * PASSIVE_LEVEL.
 */
NTSTATUS PcNewInterruptSync(PINTERRUPTSYNC *OutInterruptSync, PUNKNOWN OuterUnknown, PRESOURCELIST ResourceList,
                            ULONG ResourceIndex, INTERRUPTSYNCMODE Mode)
{
    (void)OuterUnknown;
    ksl_require_irql(PASSIVE_LEVEL, "PcNewInterruptSync", __FILE__, __LINE__);
    if (!OutInterruptSync)
        return STATUS_INVALID_PARAMETER;
    *OutInterruptSync = NULL;
    if (!ResourceList || (Mode != InterruptSyncModeNormal && Mode != InterruptSyncModeAll &&
                          Mode != InterruptSyncModeRepeat))
        return STATUS_INVALID_PARAMETER;
    PCM_PARTIAL_RESOURCE_DESCRIPTOR res =
        IResourceList_FindTranslatedEntry(ResourceList, CmResourceTypeInterrupt, ResourceIndex);
    if (!res)
        return STATUS_INVALID_PARAMETER;
    pcl_interrupt_sync *s = ExAllocatePoolWithTag(NonPagedPool, sizeof *s, KSL_PCL_POOL_TAG);
    if (!s)
        return STATUS_INSUFFICIENT_RESOURCES;
    memset(s, 0, sizeof *s);
    s->iface.lpVtbl = &interrupt_sync_vtbl;
    s->refs = 1;
    s->mode = Mode;
    s->line = res->u.Interrupt.Vector;
    s->irql = res->u.Interrupt.Level <= HIGH_LEVEL ? (KIRQL)res->u.Interrupt.Level : 0; /* 0: Connect refuses it */
    ksl_spin_init(&s->lock, "IInterruptSync", __FILE__, __LINE__);
    InitializeListHead(&s->routines);
    *OutInterruptSync = &s->iface;
    return STATUS_SUCCESS;
}
