/* SPDX-License-Identifier: MIT */
/*
 * IServiceGroup: a set of service sinks serviced together by one DPC.  RequestService (typically
 * from the ISR through IPortWavePci::Notify) queues the group's DPC; the DPC calls
 * IServiceSink::RequestService on every member at DISPATCH_LEVEL, holding the group's lock.
 * Requests made while the DPC is still queued coalesce into that one run.  With
 * SupportDelayedService the group also owns a timer: RequestDelayedService fires the same DPC
 * later, and RequestService goes through the timer with a due time of now (as ReactOS does).
 *
 * The group holds a reference on each member (AddMember AddRefs, RemoveMember Releases).  The last
 * Release cancels the timer and dequeues the DPC; a run of the DPC already under way (on another
 * CPU, or one that starts at a scheduling point of the destruction itself) must not see the group
 * freed under it.  A run counts itself in `running` before its first scheduling point, and takes
 * no reference: a count that reached zero never comes back (a run that took one would raise it
 * 0 -> 1 after destruction began, and then free the group a second time).  Whoever is last — the
 * destruction, or the last run once the destruction has marked the group dying — frees it, under
 * the group lock.  On the deterministic engine nothing runs between a DPC leaving its queue and
 * its routine's first statement; on the threaded engine, as on Windows, a window of a few
 * instructions remains that only KeFlushQueuedDpcs in the last Release's caller would close.
 */
#include <string.h>

#include "pcl_internal.h"

/* Members one group can hold (the port adds one sink per stream, plus the miniport's own). */
#define PCL_SERVICE_GROUP_MAX_MEMBERS 16u

typedef struct pcl_service_group {
    IServiceGroup iface; /* first: the interface pointer is the object pointer */
    IServiceSink sink;   /* the same object as an IServiceSink (QueryInterface(IID_IServiceSink)) */
    volatile LONG refs;
    KSPIN_LOCK lock; /* guards members, nmembers and dying */
    LONG running;    /* runs of the DPC under way (atomic) */
    bool dying;      /* the last reference is gone: the last run frees the group */
    KDPC dpc;
    KTIMER timer;
    atomic_bool delayed; /* SupportDelayedService was called */
    ULONG nmembers;
    PSERVICESINK members[PCL_SERVICE_GROUP_MAX_MEMBERS];
} pcl_service_group;

static pcl_service_group *from_iface(IServiceGroup *This)
{
    return (pcl_service_group *)This;
}

static pcl_service_group *from_sink(IServiceSink *This)
{
    return (pcl_service_group *)(void *)((char *)This - offsetof(pcl_service_group, sink));
}

static void free_group(pcl_service_group *g);

/* The group's DPC: service every member.  The members are copied (and referenced) under the
 * group lock and called without it, so a member may complete IRPs or take its own locks without
 * ordering them after the group lock.  DISPATCH_LEVEL. */
static void service_group_dpc(PKDPC Dpc, PVOID Context, PVOID Arg1, PVOID Arg2)
{
    (void)Dpc;
    (void)Arg1;
    (void)Arg2;
    pcl_service_group *g = Context;
    /* Count this run (see the top) with a plain atomic, not InterlockedIncrement, which would be
     * a scheduling point before the increment: the destruction could free the group there. */
    __atomic_add_fetch(&g->running, 1, __ATOMIC_SEQ_CST);
    PSERVICESINK members[PCL_SERVICE_GROUP_MAX_MEMBERS];
    KeAcquireSpinLockAtDpcLevel(&g->lock);
    ULONG n = g->nmembers;
    for (ULONG i = 0; i < n; i++) {
        members[i] = g->members[i];
        members[i]->lpVtbl->AddRef(members[i]);
    }
    KeReleaseSpinLockFromDpcLevel(&g->lock);
    for (ULONG i = 0; i < n; i++) {
        IServiceSink_RequestService(members[i]);
        members[i]->lpVtbl->Release(members[i]);
    }
    KeAcquireSpinLockAtDpcLevel(&g->lock);
    bool last = __atomic_sub_fetch(&g->running, 1, __ATOMIC_SEQ_CST) == 0 && g->dying;
    KeReleaseSpinLockFromDpcLevel(&g->lock);
    if (last)
        free_group(g); /* nothing touches the group after this */
}

/* ---- IUnknown ------------------------------------------------------------------------------ */

/* Answers IUnknown, IServiceSink and IServiceGroup, AddRef'ing.  Any IRQL. */
static NTSTATUS sg_query_interface(IServiceGroup *This, REFIID Iid, PVOID *Object)
{
    if (!Object)
        return STATUS_INVALID_PARAMETER;
    pcl_service_group *g = from_iface(This);
    if (IsEqualGUIDAligned(Iid, &IID_IUnknown) || IsEqualGUIDAligned(Iid, &IID_IServiceGroup))
        *Object = &g->iface;
    else if (IsEqualGUIDAligned(Iid, &IID_IServiceSink))
        *Object = &g->sink;
    else {
        *Object = NULL;
        return STATUS_NOINTERFACE;
    }
    InterlockedIncrement(&g->refs);
    return STATUS_SUCCESS;
}

/* Any IRQL. */
static ULONG sg_add_ref(IServiceGroup *This)
{
    return (ULONG)InterlockedIncrement(&from_iface(This)->refs);
}

/* Release the members left and free the pool.  IRQL <= DISPATCH_LEVEL. */
static void free_group(pcl_service_group *g)
{
    for (ULONG i = 0; i < g->nmembers; i++)
        g->members[i]->lpVtbl->Release(g->members[i]);
    ExFreePoolWithTag(g, KSL_PCL_POOL_TAG);
}

/* The last reference: stop the timer and a queued DPC; free the group now, or leave that to a
 * run of the DPC still under way.  IRQL <= DISPATCH_LEVEL. */
static void destroy(pcl_service_group *g)
{
    KeCancelTimer(&g->timer);
    KeRemoveQueueDpc(&g->dpc);
    KIRQL old;
    KeAcquireSpinLock(&g->lock, &old);
    g->dying = true;
    bool idle = __atomic_load_n(&g->running, __ATOMIC_SEQ_CST) == 0;
    KeReleaseSpinLock(&g->lock, old);
    if (idle)
        free_group(g);
}

/* IRQL <= DISPATCH_LEVEL. */
static ULONG sg_release(IServiceGroup *This)
{
    pcl_service_group *g = from_iface(This);
    LONG left = InterlockedDecrement(&g->refs);
    if (left == 0)
        destroy(g);
    return (ULONG)left;
}

/* ---- IServiceSink / IServiceGroup ---------------------------------------------------------- */

/*
 * Queue the group's DPC.  Any IRQL.  Above DISPATCH_LEVEL (an ISR) the DPC is inserted directly;
 * at or below it, the caller is raised to DISPATCH_LEVEL around the insert so the DPC runs as it
 * lowers.  With delayed service the timer is set to fire now instead, at IRQL <= DISPATCH_LEVEL
 * only (KeSetTimer is not allowed higher; an ISR's request takes the DPC path).
 */
static void sg_request_service(IServiceGroup *This)
{
    pcl_service_group *g = from_iface(This);
    KIRQL irql = KeGetCurrentIrql();
    if (irql > DISPATCH_LEVEL) {
        KeInsertQueueDpc(&g->dpc, NULL, NULL);
    } else if (atomic_load(&g->delayed)) {
        LARGE_INTEGER now;
        now.QuadPart = 0;
        KeSetTimer(&g->timer, now, &g->dpc);
    } else {
        KIRQL old;
        KeRaiseIrql(DISPATCH_LEVEL, &old);
        KeInsertQueueDpc(&g->dpc, NULL, NULL);
        KeLowerIrql(old);
    }
}

/*
 * Add a sink (AddRef'd while it is a member).  STATUS_INSUFFICIENT_RESOURCES when the group is
 * full.  IRQL <= DISPATCH_LEVEL.
 */
static NTSTATUS sg_add_member(IServiceGroup *This, PSERVICESINK Sink)
{
    pcl_service_group *g = from_iface(This);
    ksl_require_irql(DISPATCH_LEVEL, "IServiceGroup::AddMember", __FILE__, __LINE__);
    if (!Sink)
        return STATUS_INVALID_PARAMETER;
    Sink->lpVtbl->AddRef(Sink);
    KIRQL old;
    KeAcquireSpinLock(&g->lock, &old);
    bool added = g->nmembers < PCL_SERVICE_GROUP_MAX_MEMBERS;
    if (added)
        g->members[g->nmembers++] = Sink;
    KeReleaseSpinLock(&g->lock, old);
    if (!added) {
        Sink->lpVtbl->Release(Sink);
        return STATUS_INSUFFICIENT_RESOURCES;
    }
    return STATUS_SUCCESS;
}

/* Remove a sink (its first occurrence) and Release it; nothing when it is not a member.
 * IRQL <= DISPATCH_LEVEL. */
static void sg_remove_member(IServiceGroup *This, PSERVICESINK Sink)
{
    pcl_service_group *g = from_iface(This);
    ksl_require_irql(DISPATCH_LEVEL, "IServiceGroup::RemoveMember", __FILE__, __LINE__);
    bool removed = false;
    KIRQL old;
    KeAcquireSpinLock(&g->lock, &old);
    for (ULONG i = 0; i < g->nmembers; i++) {
        if (g->members[i] == Sink) {
            memmove(&g->members[i], &g->members[i + 1], (g->nmembers - i - 1) * sizeof g->members[0]);
            g->nmembers--;
            removed = true;
            break;
        }
    }
    KeReleaseSpinLock(&g->lock, old);
    if (removed)
        Sink->lpVtbl->Release(Sink);
}

/* Enable the delayed-service timer.  IRQL <= DISPATCH_LEVEL. */
static void sg_support_delayed_service(IServiceGroup *This)
{
    ksl_require_irql(DISPATCH_LEVEL, "IServiceGroup::SupportDelayedService", __FILE__, __LINE__);
    atomic_store(&from_iface(This)->delayed, true);
}

/*
 * Fire the group's DPC at ullDelay, in 100 ns units with KeSetTimer's convention (as the WDK
 * documents it): negative (as a LONGLONG) is relative to now, otherwise an absolute interrupt
 * time.  A pending delayed request is replaced.  IRQL <= DISPATCH_LEVEL.
 */
static void sg_request_delayed_service(IServiceGroup *This, ULONGLONG ullDelay)
{
    pcl_service_group *g = from_iface(This);
    ksl_require_irql(DISPATCH_LEVEL, "IServiceGroup::RequestDelayedService", __FILE__, __LINE__);
    LARGE_INTEGER due;
    due.QuadPart = (LONGLONG)ullDelay;
    KeSetTimer(&g->timer, due, &g->dpc);
}

/* Cancel a pending delayed request (a DPC already queued still runs).  IRQL <= DISPATCH_LEVEL. */
static void sg_cancel_delayed_service(IServiceGroup *This)
{
    ksl_require_irql(DISPATCH_LEVEL, "IServiceGroup::CancelDelayedService", __FILE__, __LINE__);
    KeCancelTimer(&from_iface(This)->timer);
}

static const IServiceGroupVtbl service_group_vtbl = {
    sg_query_interface,
    sg_add_ref,
    sg_release,
    sg_request_service,
    sg_add_member,
    sg_remove_member,
    sg_support_delayed_service,
    sg_request_delayed_service,
    sg_cancel_delayed_service,
};

/* ---- the group seen as an IServiceSink ----------------------------------------------------- */

/* Any IRQL. */
static NTSTATUS sink_query_interface(IServiceSink *This, REFIID Iid, PVOID *Object)
{
    return sg_query_interface(&from_sink(This)->iface, Iid, Object);
}

/* Any IRQL. */
static ULONG sink_add_ref(IServiceSink *This)
{
    return sg_add_ref(&from_sink(This)->iface);
}

/* IRQL <= DISPATCH_LEVEL. */
static ULONG sink_release(IServiceSink *This)
{
    return sg_release(&from_sink(This)->iface);
}

/* Any IRQL. */
static void sink_request_service(IServiceSink *This)
{
    sg_request_service(&from_sink(This)->iface);
}

static const IServiceSinkVtbl service_group_sink_vtbl = {
    sink_query_interface,
    sink_add_ref,
    sink_release,
    sink_request_service,
};

/* ---- creation ------------------------------------------------------------------------------ */

/* A new group with reference count 1 (aggregation is not supported: OuterUnknown is ignored).
 * PASSIVE_LEVEL. */
NTSTATUS PcNewServiceGroup(PSERVICEGROUP *OutServiceGroup, PUNKNOWN OuterUnknown)
{
    (void)OuterUnknown;
    ksl_require_irql(PASSIVE_LEVEL, "PcNewServiceGroup", __FILE__, __LINE__);
    if (!OutServiceGroup)
        return STATUS_INVALID_PARAMETER;
    *OutServiceGroup = NULL;
    pcl_service_group *g = ExAllocatePoolWithTag(NonPagedPool, sizeof *g, KSL_PCL_POOL_TAG);
    if (!g)
        return STATUS_INSUFFICIENT_RESOURCES;
    memset(g, 0, sizeof *g);
    g->iface.lpVtbl = &service_group_vtbl;
    g->sink.lpVtbl = &service_group_sink_vtbl;
    g->refs = 1;
    ksl_spin_init(&g->lock, "service group", __FILE__, __LINE__);
    ksl_dpc_init(&g->dpc, service_group_dpc, g, "service group");
    KeInitializeTimer(&g->timer);
    atomic_init(&g->delayed, false);
    *OutServiceGroup = &g->iface;
    return STATUS_SUCCESS;
}
