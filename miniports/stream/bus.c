/* SPDX-License-Identifier: MIT */
/*
 * bus: a bus-type capture minidriver (a USB / 1394 camera's shape) with class synchronization
 * off (S7c): it has no registers, it sends requests to the next-lower driver — the lower bus of
 * <kslab/hw/lowerbus.h>, which takes requests at PASSIVE_LEVEL and completes them at
 * DISPATCH_LEVEL from its DPC.
 *
 *  - The lower device.  SRB_INITIALIZE_DEVICE's ConfigInfo->PhysicalDeviceObject is the device
 *    object the class attached to (what a real minidriver passes to IoCallDriver); kslab's
 *    convention (<kslab/wdk/strmini.h>) is that its DeviceExtension is the ksl_lowerbus.
 *  - Read SRBs arrive at PASSIVE_LEVEL in the submitting thread, several at once.  Each gets one
 *    lower request (from nonpaged pool, its own buffer), submitted at PASSIVE_LEVEL; the
 *    completion routine runs at DISPATCH_LEVEL, copies the frame into the SRB and completes the
 *    SRB from there (StreamRequestComplete is allowed at any IRQL with synchronization off).
 *  - Frames are numbered by the bus in submission order, so the order the SRBs go down is the
 *    order of their frames: submissions are serialized by a PASSIVE_LEVEL gate (a synchronization
 *    event: a FAST_MUTEX would raise to APC_LEVEL, and the bus takes requests at PASSIVE_LEVEL
 *    only).  The gate is never taken at DISPATCH_LEVEL.
 *  - KSSTATE: only in RUN do requests go down; SRBs that arrive in ACQUIRE or PAUSE wait in a
 *    queue, which the change to RUN submits in order.  Requests already on the bus finish.  STOP
 *    (and SRB_CLOSE_STREAM, SRB_UNINITIALIZE_DEVICE) cancels everything and waits, at
 *    PASSIVE_LEVEL on an event, until every SRB the driver held is completed.
 *  - Cancellation.  HwCancelPacket (DISPATCH_LEVEL) finds the SRB in the driver's own list (an
 *    SRB not in it is completed already: its extension is not touched), completes a waiting one
 *    at once and cancels a lower request with ksl_lowerbus_cancel; the lower request then
 *    completes (cancelled) through the completion routine.
 *  - Exactly one path completes each SRB.  Per SRB, under the driver's spin lock: a phase and a
 *    count of the paths that still hold it — the submitter (during ksl_lowerbus_submit), the bus
 *    (from submission to the completion routine), a canceller (during ksl_lowerbus_cancel).  The
 *    path that drops the count to zero takes the SRB off the list and completes it; the lower
 *    request is freed only then, so nobody cancels a freed request.  The spin lock is never held
 *    across a call into the lower bus (it calls back, and takes its own lock).
 *
 * WDK names, and the lower bus's interface for the next-lower driver.
 */
#include <kslab/hw/lowerbus.h>
#include <kslab/wdk/strmini.h>

#include "ksr_common.h"
#include "stream_refs.h"

enum { BS_WAITING = 1, BS_SUBMITTING, BS_ON_BUS, BS_BUS_DONE };

/* Per SRB (SRBExtension, zeroed by the class for each request). */
typedef struct BUS_SRB {
    LIST_ENTRY Link;               /* BUS_EXT.Held */
    PHW_STREAM_REQUEST_BLOCK Srb;
    ksl_lowerbus_req *Req;
    ULONG Phase;                   /* BS_* */
    LONG Refs;                     /* paths that hold it (see the file comment) */
    BOOLEAN CancelRequested;
    NTSTATUS SubmitStatus;         /* the bus refused it */
} BUS_SRB;

typedef struct BUS_EXT {
    ksl_lowerbus *Bus;             /* PhysicalDeviceObject->DeviceExtension */
    KSPIN_LOCK Lock;               /* everything below, and every BUS_SRB */
    KSSTATE State;
    LIST_ENTRY Held;               /* every SRB the driver holds and nobody completes yet */
    KSR_QUEUE Waiting;             /* read SRBs not yet submitted (ACQUIRE, PAUSE) */
    ULONG Count;                   /* read SRBs received and not yet completed */
    KEVENT Idle;                   /* notification: Count is 0 */
    KEVENT Gate;                   /* synchronization: submissions and state changes (PASSIVE) */
} BUS_EXT;

static BUS_SRB *Ctx(PHW_STREAM_REQUEST_BLOCK srb)
{
    return srb->SRBExtension;
}

/* Complete a read SRB nobody else holds any more (it is off the list).  Any IRQL <= DISPATCH. */
static VOID Finish(BUS_EXT *dx, BUS_SRB *x)
{
    PHW_STREAM_REQUEST_BLOCK srb = x->Srb;
    ksl_lowerbus_req *req = x->Req;
    if (req && req->status == KSL_STATUS_SUCCESS && req->transferred == KSR_BUS_FRAME_BYTES) {
        RtlCopyMemory(KsrBuffer(srb), req->buffer, KSR_BUS_FRAME_BYTES);
        KsrSetResult(srb, KSR_BUS_FRAME_BYTES, STATUS_SUCCESS);
    } else if (!NT_SUCCESS(x->SubmitStatus) && !x->CancelRequested)
        KsrSetResult(srb, 0, x->SubmitStatus);
    else
        KsrSetResult(srb, 0, STATUS_CANCELLED);
    if (req)
        ksl_lowerbus_req_free(dx->Bus, req);
    StreamClassStreamNotification(StreamRequestComplete, srb->StreamObject, srb);
    KIRQL old;
    KeAcquireSpinLock(&dx->Lock, &old);
    if (--dx->Count == 0)
        KeSetEvent(&dx->Idle, IO_NO_INCREMENT, FALSE);
    KeReleaseSpinLock(&dx->Lock, old);
}

/* Lock held: drop one hold on x; TRUE when it was the last (x is then off the list, the caller
 * finishes it). */
static BOOLEAN ReleaseLocked(BUS_SRB *x)
{
    if (--x->Refs > 0)
        return FALSE;
    RemoveEntryList(&x->Link);
    return TRUE;
}

/* The lower request's completion routine: DISPATCH_LEVEL, in the bus's DPC, no bus lock held. */
static void BusDone(ksl_lowerbus_req *req, void *context)
{
    BUS_SRB *x = context;
    BUS_EXT *dx = x->Srb->HwDeviceExtension;
    (void)req;
    ASSERT(KeGetCurrentIrql() == DISPATCH_LEVEL);
    KeAcquireSpinLockAtDpcLevel(&dx->Lock);
    x->Phase = BS_BUS_DONE;
    BOOLEAN last = ReleaseLocked(x);
    KeReleaseSpinLockFromDpcLevel(&dx->Lock);
    if (last)
        Finish(dx, x);
}

/* Cancel x's lower request, x held by the caller (Refs counted).  No lock held. */
static VOID CancelLower(BUS_EXT *dx, BUS_SRB *x)
{
    ksl_lowerbus_cancel(dx->Bus, x->Req); /* FALSE: it completed meanwhile, the routine finishes it */
    KIRQL old;
    KeAcquireSpinLock(&dx->Lock, &old);
    BOOLEAN last = ReleaseLocked(x);
    KeReleaseSpinLock(&dx->Lock, old);
    if (last)
        Finish(dx, x);
}

/* Send x down.  PASSIVE_LEVEL, the gate held; x is on the list with Phase BS_SUBMITTING and one
 * hold (the submitter's). */
static VOID Submit(BUS_EXT *dx, BUS_SRB *x)
{
    ASSERT(KeGetCurrentIrql() == PASSIVE_LEVEL);
    ksl_lowerbus_req *req = ksl_lowerbus_req_alloc(dx->Bus, KSR_BUS_FRAME_BYTES);
    KIRQL old;
    if (!req) {
        KeAcquireSpinLock(&dx->Lock, &old);
        x->SubmitStatus = STATUS_INSUFFICIENT_RESOURCES;
        BOOLEAN last = ReleaseLocked(x);
        KeReleaseSpinLock(&dx->Lock, old);
        if (last)
            Finish(dx, x);
        return;
    }
    req->length = KSR_BUS_FRAME_BYTES;
    req->done = BusDone;
    req->context = x;
    KeAcquireSpinLock(&dx->Lock, &old);
    x->Req = req;
    x->Refs++; /* the bus's, before it can call back */
    KeReleaseSpinLock(&dx->Lock, old);
    ksl_status st = ksl_lowerbus_submit(dx->Bus, req);
    KeAcquireSpinLock(&dx->Lock, &old);
    BOOLEAN cancel = FALSE;
    if (st != KSL_STATUS_PENDING) {
        x->SubmitStatus = st == KSL_STATUS_INSUFFICIENT_RESOURCES ? STATUS_INSUFFICIENT_RESOURCES : STATUS_INVALID_PARAMETER;
        x->Refs--; /* the bus never took it */
    } else if (x->Phase == BS_SUBMITTING) {
        x->Phase = BS_ON_BUS;
        cancel = x->CancelRequested; /* asked for while it was going down */
    }
    if (cancel) {
        KeReleaseSpinLock(&dx->Lock, old);
        CancelLower(dx, x); /* drops the submitter's hold */
        return;
    }
    BOOLEAN last = ReleaseLocked(x);
    KeReleaseSpinLock(&dx->Lock, old);
    if (last)
        Finish(dx, x);
}

/* Submit the waiting SRBs, in order.  PASSIVE_LEVEL, the gate held. */
static VOID SubmitWaiting(BUS_EXT *dx)
{
    for (;;) {
        KIRQL old;
        KeAcquireSpinLock(&dx->Lock, &old);
        PHW_STREAM_REQUEST_BLOCK srb = dx->State == KSSTATE_RUN ? KsrQueuePop(&dx->Waiting) : NULL;
        if (srb) {
            Ctx(srb)->Phase = BS_SUBMITTING;
            Ctx(srb)->Refs = 1;
        }
        KeReleaseSpinLock(&dx->Lock, old);
        if (!srb)
            return;
        Submit(dx, Ctx(srb));
    }
}

/* Cancel everything the driver holds and wait until it is all completed.  PASSIVE_LEVEL, the
 * gate held (nothing is being submitted). */
static VOID CancelAllAndWait(BUS_EXT *dx)
{
    KIRQL old;
    for (;;) {
        BUS_SRB *found = NULL;
        BOOLEAN waiting = FALSE;
        KeAcquireSpinLock(&dx->Lock, &old);
        for (LIST_ENTRY *l = dx->Held.Flink; l != &dx->Held; l = l->Flink) {
            BUS_SRB *x = CONTAINING_RECORD(l, BUS_SRB, Link);
            if (x->CancelRequested)
                continue;
            x->CancelRequested = TRUE;
            if (x->Phase == BS_WAITING) {
                KsrQueueRemove(&dx->Waiting, x->Srb);
                RemoveEntryList(&x->Link);
                waiting = TRUE;
            } else if (x->Phase == BS_ON_BUS) {
                x->Refs++;
            } else {
                continue; /* its completion routine is on its way */
            }
            found = x;
            break;
        }
        KeReleaseSpinLock(&dx->Lock, old);
        if (!found)
            break;
        if (waiting)
            Finish(dx, found);
        else
            CancelLower(dx, found);
    }
    for (;;) {
        KeAcquireSpinLock(&dx->Lock, &old);
        ULONG n = dx->Count;
        if (n)
            KeClearEvent(&dx->Idle);
        KeReleaseSpinLock(&dx->Lock, old);
        if (!n)
            return;
        KeWaitForSingleObject(&dx->Idle, Executive, KernelMode, FALSE, NULL);
    }
}

static VOID GateAcquire(BUS_EXT *dx)
{
    KeWaitForSingleObject(&dx->Gate, Executive, KernelMode, FALSE, NULL);
}

static VOID GateRelease(BUS_EXT *dx)
{
    KeSetEvent(&dx->Gate, IO_NO_INCREMENT, FALSE);
}

static VOID STREAMAPI ReceiveData(PHW_STREAM_REQUEST_BLOCK srb)
{
    BUS_EXT *dx = srb->HwDeviceExtension;
    ASSERT(KeGetCurrentIrql() == PASSIVE_LEVEL);
    if (srb->Command != SRB_READ_DATA || KsrCapacity(srb) < KSR_BUS_FRAME_BYTES) {
        KsrSetResult(srb, 0, srb->Command != SRB_READ_DATA ? STATUS_NOT_IMPLEMENTED : STATUS_BUFFER_TOO_SMALL);
        StreamClassStreamNotification(StreamRequestComplete, srb->StreamObject, srb);
        return;
    }
    srb->Status = STATUS_PENDING;
    BUS_SRB *x = Ctx(srb);
    x->Srb = srb;
    GateAcquire(dx);
    KIRQL old;
    KeAcquireSpinLock(&dx->Lock, &old);
    if (dx->State == KSSTATE_STOP) {
        KeReleaseSpinLock(&dx->Lock, old);
        GateRelease(dx);
        KsrSetResult(srb, 0, STATUS_CANCELLED);
        StreamClassStreamNotification(StreamRequestComplete, srb->StreamObject, srb);
        return;
    }
    dx->Count++;
    InsertTailList(&dx->Held, &x->Link);
    /* A cancel that came before the SRB was on the list found nothing: the IRP says so (read
     * under the cancel spin lock, which the canceller holds while it sets the flag). */
    KIRQL cancel_irql;
    IoAcquireCancelSpinLock(&cancel_irql);
    x->CancelRequested = srb->Irp && srb->Irp->Cancel;
    IoReleaseCancelSpinLock(cancel_irql);
    BOOLEAN now = FALSE, cancelled = FALSE;
    if (x->CancelRequested) {
        RemoveEntryList(&x->Link);
        cancelled = TRUE;
    } else if (dx->State == KSSTATE_RUN && !dx->Waiting.Count) {
        x->Phase = BS_SUBMITTING;
        x->Refs = 1;
        now = TRUE;
    } else {
        x->Phase = BS_WAITING;
        KsrQueuePush(&dx->Waiting, srb);
    }
    KeReleaseSpinLock(&dx->Lock, old);
    if (cancelled)
        Finish(dx, x);
    else if (now)
        Submit(dx, x);
    GateRelease(dx);
}

static VOID STREAMAPI ReceiveControl(PHW_STREAM_REQUEST_BLOCK srb)
{
    BUS_EXT *dx = srb->HwDeviceExtension;
    KIRQL old;
    srb->Status = STATUS_SUCCESS;
    switch (srb->Command) {
    case SRB_SET_STREAM_STATE:
        GateAcquire(dx);
        KeAcquireSpinLock(&dx->Lock, &old);
        dx->State = srb->CommandData.StreamState;
        KeReleaseSpinLock(&dx->Lock, old);
        if (srb->CommandData.StreamState == KSSTATE_RUN)
            SubmitWaiting(dx);
        else if (srb->CommandData.StreamState == KSSTATE_STOP)
            CancelAllAndWait(dx);
        GateRelease(dx);
        break;
    case SRB_GET_STREAM_STATE:
        KeAcquireSpinLock(&dx->Lock, &old);
        srb->CommandData.StreamState = dx->State;
        KeReleaseSpinLock(&dx->Lock, old);
        break;
    default:
        srb->Status = STATUS_NOT_IMPLEMENTED;
        break;
    }
    StreamClassStreamNotification(StreamRequestComplete, srb->StreamObject, srb);
}

/* Stop taking requests, cancel what is held, wait.  PASSIVE_LEVEL. */
static VOID Quiesce(BUS_EXT *dx)
{
    KIRQL old;
    GateAcquire(dx);
    KeAcquireSpinLock(&dx->Lock, &old);
    dx->State = KSSTATE_STOP;
    KeReleaseSpinLock(&dx->Lock, old);
    CancelAllAndWait(dx);
    GateRelease(dx);
}

static VOID STREAMAPI ReceivePacket(PHW_STREAM_REQUEST_BLOCK srb)
{
    BUS_EXT *dx = srb->HwDeviceExtension;
    srb->Status = STATUS_SUCCESS;
    switch (srb->Command) {
    case SRB_INITIALIZE_DEVICE: {
        PPORT_CONFIGURATION_INFORMATION ci = srb->CommandData.ConfigInfo;
        if (!ci->PhysicalDeviceObject || !ci->PhysicalDeviceObject->DeviceExtension ||
            ci->PhysicalDeviceObject == ci->ClassDeviceObject) {
            srb->Status = STATUS_IO_DEVICE_ERROR; /* no lower device to talk to */
            break;
        }
        dx->Bus = ci->PhysicalDeviceObject->DeviceExtension;
        KeInitializeSpinLock(&dx->Lock);
        InitializeListHead(&dx->Held);
        KeInitializeEvent(&dx->Idle, NotificationEvent, TRUE);
        KeInitializeEvent(&dx->Gate, SynchronizationEvent, TRUE);
        dx->State = KSSTATE_STOP;
        KsrReportDescriptorSize(srb);
        break;
    }
    case SRB_GET_STREAM_INFO:
        KsrFillStreamInfo(srb);
        break;
    case SRB_OPEN_STREAM:
        srb->StreamObject->ReceiveDataPacket = ReceiveData;
        srb->StreamObject->ReceiveControlPacket = ReceiveControl;
        GateAcquire(dx);
        dx->State = KSSTATE_STOP;
        GateRelease(dx);
        break;
    case SRB_CLOSE_STREAM:
    case SRB_UNINITIALIZE_DEVICE:
        if (dx->Bus)
            Quiesce(dx); /* nothing of the stream may stay with the bus */
        break;
    case SRB_INITIALIZATION_COMPLETE:
        break;
    default:
        srb->Status = STATUS_NOT_IMPLEMENTED;
        break;
    }
    StreamClassDeviceNotification(DeviceRequestComplete, srb->HwDeviceExtension, srb);
}

/* DISPATCH_LEVEL. */
static VOID STREAMAPI CancelPacket(PHW_STREAM_REQUEST_BLOCK srb)
{
    BUS_EXT *dx = srb->HwDeviceExtension;
    if (!dx->Bus)
        return; /* never initialized: it holds nothing */
    KIRQL old;
    KeAcquireSpinLock(&dx->Lock, &old);
    BUS_SRB *x = NULL;
    for (LIST_ENTRY *l = dx->Held.Flink; l != &dx->Held; l = l->Flink)
        if (CONTAINING_RECORD(l, BUS_SRB, Link)->Srb == srb) {
            x = CONTAINING_RECORD(l, BUS_SRB, Link);
            break;
        }
    if (!x || x->CancelRequested) { /* completed already (or being completed), or asked before */
        KeReleaseSpinLock(&dx->Lock, old);
        return;
    }
    x->CancelRequested = TRUE;
    if (x->Phase == BS_WAITING) {
        KsrQueueRemove(&dx->Waiting, srb);
        RemoveEntryList(&x->Link);
        KeReleaseSpinLock(&dx->Lock, old);
        Finish(dx, x);
        return;
    }
    if (x->Phase != BS_ON_BUS) { /* the submitter cancels it when the submission returns */
        KeReleaseSpinLock(&dx->Lock, old);
        return;
    }
    x->Refs++;
    KeReleaseSpinLock(&dx->Lock, old);
    CancelLower(dx, x);
}

static VOID STREAMAPI TimeoutHandler(PHW_STREAM_REQUEST_BLOCK srb)
{
    srb->TimeoutCounter = srb->TimeoutOriginal; /* the bus completes every request in microseconds */
}

static NTSTATUS BusDriverEntry(PVOID Argument1, PVOID Argument2)
{
    HW_INITIALIZATION_DATA init;
    RtlZeroMemory(&init, sizeof init);
    init.HwInitializationDataSize = sizeof init;
    init.HwReceivePacket = ReceivePacket;
    init.HwCancelPacket = CancelPacket;
    init.HwRequestTimeoutHandler = TimeoutHandler;
    init.DeviceExtensionSize = sizeof(BUS_EXT);
    init.PerRequestExtensionSize = sizeof(BUS_SRB);
    init.TurnOffSynchronization = TRUE;
    return StreamClassRegisterMinidriver(Argument1, Argument2, &init);
}

const ksl_stream_driver ksr_bus_driver = {
    KSL_STREAM_DRIVER_VERSION, "bus",
    "bus-type, synchronization off: lower-bus requests at PASSIVE_LEVEL, completions at DISPATCH_LEVEL", "lowerbus",
    BusDriverEntry};
