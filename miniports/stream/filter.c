/* SPDX-License-Identifier: MIT */
/*
 * filter: a minidriver with no hardware, class synchronization off (S7b): the stream class
 * synchronization page's "filter with no hardware" case.  Requests come at PASSIVE_LEVEL in the
 * submitting thread, several at once; the minidriver keeps its own queue under a FAST_MUTEX and
 * does its (long: 300 us per frame) processing at PASSIVE_LEVEL.
 *
 * What it makes: frame n of a source with magic KSR_FILTER_MAGIC and seed KSR_FILTER_SEED in the
 * <kslab/hw/frame.h> format, KSR_FILTER_FRAME_BYTES long, n counting from 0 in the order the read
 * SRBs arrived, so the client checks every byte.  It produces only in KSSTATE_RUN: SRBs that come
 * while paused wait in the queue; the state change to RUN (in the thread that asks for it)
 * drains them; a change to STOP completes them STATUS_CANCELLED.
 *
 * HwCancelPacket and HwRequestTimeoutHandler run at DISPATCH_LEVEL, where the FAST_MUTEX cannot
 * be taken: the cancel is left to the queue's owner — a queued SRB completes at the next RUN (with
 * its frame) or STOP (cancelled), which a paused filter's SRB is allowed to do.
 *
 * WDK names only (the frame format's fill function is the "transform").
 */
#include <kslab/hw/frame.h>
#include <kslab/wdk/strmini.h>

#include "ksr_common.h"
#include "stream_refs.h"

#define FILTER_WORK_US 300u

typedef struct FILTER_EXT {
    FAST_MUTEX QueueLock;  /* Queue, State, NextFrame */
    KSR_QUEUE Queue;
    KSSTATE State;
    ULONG NextFrame;
} FILTER_EXT;

/* QueueLock held (APC_LEVEL): produce a frame into every queued SRB, in order. */
static VOID DrainLocked(FILTER_EXT *dx)
{
    PHW_STREAM_REQUEST_BLOCK srb;
    while ((srb = KsrQueuePop(&dx->Queue)) != NULL) {
        ksl_frame_fill(KSR_FILTER_MAGIC, KSR_FILTER_SEED, dx->NextFrame++, KsrBuffer(srb), KSR_FILTER_FRAME_BYTES);
        KeStallExecutionProcessor(FILTER_WORK_US);
        KsrSetResult(srb, KSR_FILTER_FRAME_BYTES, STATUS_SUCCESS);
        StreamClassStreamNotification(StreamRequestComplete, srb->StreamObject, srb);
    }
}

static VOID FlushLocked(FILTER_EXT *dx)
{
    PHW_STREAM_REQUEST_BLOCK srb;
    while ((srb = KsrQueuePop(&dx->Queue)) != NULL) {
        KsrSetResult(srb, 0, STATUS_CANCELLED);
        StreamClassStreamNotification(StreamRequestComplete, srb->StreamObject, srb);
    }
}

static VOID STREAMAPI ReceiveData(PHW_STREAM_REQUEST_BLOCK srb)
{
    FILTER_EXT *dx = srb->HwDeviceExtension;
    if (srb->Command != SRB_READ_DATA || KsrCapacity(srb) < KSR_FILTER_FRAME_BYTES) {
        KsrSetResult(srb, 0, srb->Command != SRB_READ_DATA ? STATUS_NOT_IMPLEMENTED : STATUS_BUFFER_TOO_SMALL);
        StreamClassStreamNotification(StreamRequestComplete, srb->StreamObject, srb);
        return;
    }
    srb->Status = STATUS_PENDING;
    ExAcquireFastMutex(&dx->QueueLock);
    if (dx->State == KSSTATE_STOP) {
        ExReleaseFastMutex(&dx->QueueLock);
        KsrSetResult(srb, 0, STATUS_CANCELLED);
        StreamClassStreamNotification(StreamRequestComplete, srb->StreamObject, srb);
        return;
    }
    KsrQueuePush(&dx->Queue, srb);
    if (dx->State == KSSTATE_RUN)
        DrainLocked(dx);
    ExReleaseFastMutex(&dx->QueueLock);
}

static VOID STREAMAPI ReceiveControl(PHW_STREAM_REQUEST_BLOCK srb)
{
    FILTER_EXT *dx = srb->HwDeviceExtension;
    srb->Status = STATUS_SUCCESS;
    switch (srb->Command) {
    case SRB_SET_STREAM_STATE:
        ExAcquireFastMutex(&dx->QueueLock);
        dx->State = srb->CommandData.StreamState;
        if (dx->State == KSSTATE_RUN)
            DrainLocked(dx);
        else if (dx->State == KSSTATE_STOP)
            FlushLocked(dx);
        ExReleaseFastMutex(&dx->QueueLock);
        break;
    case SRB_GET_STREAM_STATE:
        ExAcquireFastMutex(&dx->QueueLock);
        srb->CommandData.StreamState = dx->State;
        ExReleaseFastMutex(&dx->QueueLock);
        break;
    default:
        srb->Status = STATUS_NOT_IMPLEMENTED;
        break;
    }
    StreamClassStreamNotification(StreamRequestComplete, srb->StreamObject, srb);
}

static VOID STREAMAPI ReceivePacket(PHW_STREAM_REQUEST_BLOCK srb)
{
    FILTER_EXT *dx = srb->HwDeviceExtension;
    srb->Status = STATUS_SUCCESS;
    switch (srb->Command) {
    case SRB_INITIALIZE_DEVICE:
        ExInitializeFastMutex(&dx->QueueLock);
        dx->State = KSSTATE_STOP;
        KsrReportDescriptorSize(srb);
        break;
    case SRB_GET_STREAM_INFO:
        KsrFillStreamInfo(srb);
        break;
    case SRB_OPEN_STREAM:
        srb->StreamObject->ReceiveDataPacket = ReceiveData;
        srb->StreamObject->ReceiveControlPacket = ReceiveControl;
        ExAcquireFastMutex(&dx->QueueLock);
        dx->State = KSSTATE_STOP;
        dx->NextFrame = 0;
        ExReleaseFastMutex(&dx->QueueLock);
        break;
    case SRB_CLOSE_STREAM:
        ExAcquireFastMutex(&dx->QueueLock);
        dx->State = KSSTATE_STOP;
        FlushLocked(dx);
        ExReleaseFastMutex(&dx->QueueLock);
        break;
    case SRB_INITIALIZATION_COMPLETE:
    case SRB_UNINITIALIZE_DEVICE:
        break;
    default:
        srb->Status = STATUS_NOT_IMPLEMENTED;
        break;
    }
    StreamClassDeviceNotification(DeviceRequestComplete, srb->HwDeviceExtension, srb);
}

static VOID STREAMAPI CancelPacket(PHW_STREAM_REQUEST_BLOCK srb)
{
    (void)srb; /* DISPATCH_LEVEL: see the file comment */
}

static VOID STREAMAPI TimeoutHandler(PHW_STREAM_REQUEST_BLOCK srb)
{
    srb->TimeoutCounter = srb->TimeoutOriginal;
}

static NTSTATUS FilterDriverEntry(PVOID Argument1, PVOID Argument2)
{
    HW_INITIALIZATION_DATA init;
    RtlZeroMemory(&init, sizeof init);
    init.HwInitializationDataSize = sizeof init;
    init.HwReceivePacket = ReceivePacket;
    init.HwCancelPacket = CancelPacket;
    init.HwRequestTimeoutHandler = TimeoutHandler;
    init.DeviceExtensionSize = sizeof(FILTER_EXT);
    init.TurnOffSynchronization = TRUE;
    return StreamClassRegisterMinidriver(Argument1, Argument2, &init);
}

const ksl_stream_driver ksr_filter_driver = {
    KSL_STREAM_DRIVER_VERSION, "filter",
    "hardware-less filter, synchronization off: PASSIVE_LEVEL, its queue under a FAST_MUTEX", "none",
    FilterDriverEntry};
