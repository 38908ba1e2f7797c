/* SPDX-License-Identifier: MIT */
/*
 * no-isr-dispatch: a capture minidriver for the polled device (polldev, no interrupt) with class
 * synchronization on: the stream class synchronization page's second example (S6, S5).
 *
 *  - With no ISR every entry point, and the StreamClassScheduleTimer poll, runs at DISPATCH_LEVEL
 *    under the class lock.  Copying a 1 KiB frame from the device's window is 256 reads (about
 *    77 us): fine at DISPATCH_LEVEL (up to 0.5-1 ms), so the poll does it in place.
 *  - PASSIVE_LEVEL work at initialization (a paged-pool work buffer) and occasional long work
 *    (about 1.5 ms of bookkeeping every 64 frames) go to a Low callback.  A Low callback is
 *    synchronized with nothing — requests and polls keep coming while it runs — so it works only
 *    on data handed to it (a snapshot taken in synchronized code, LowBusy set) and publishes its
 *    result through LowToHigh, which is synchronized again.  Synchronized code never touches the
 *    snapshot or the work buffer while LowBusy is set.
 *
 * WDK names only.
 */
#include <kslab/hw/polldev.h>
#include <kslab/wdk/strmini.h>

#include "ksr_common.h"
#include "stream_refs.h"

#define POLL_FRAME_BYTES 1024u
#define POLL_PERIOD_US 500u
#define POLL_HOUSEKEEPING_EVERY 64u
#define POLL_HOUSEKEEPING_US 1500u
#define POLL_TAG 0x6C6F5052u /* 'RPol' */

typedef struct POLL_EXT {
    ULONG_PTR Port;
    ULONG FrameBytes;
    KSSTATE State;
    BOOLEAN StreamOpen;
    KSR_QUEUE Queue;           /* read SRBs waiting for a frame */
    ULONG FramesDelivered;
    ULONG Overruns;
    /* Low-callback hand-off: while LowBusy the fields below belong to the Low routine. */
    BOOLEAN LowBusy;
    PUCHAR WorkBuffer;         /* paged pool, allocated at PASSIVE_LEVEL by InitLow */
    UCHAR Snapshot[KSL_FRAME_HEADER_BYTES]; /* the header of the latest frame, for the bookkeeping */
    ULONG SnapshotFrames;
    /* Published by LowToHigh routines (synchronized). */
    ULONG Digest;
    ULONG Housekeepings;
    PUCHAR PublishedBuffer;
    ULONG PublishedDigest;
    BOOLEAN FreeWhenIdle;      /* SRB_UNINITIALIZE_DEVICE came while LowBusy */
} POLL_EXT;

/* Low (PASSIVE_LEVEL): free a retired work buffer.  Paged pool is freed where paged memory may be
 * touched, never at DISPATCH_LEVEL (K.paged-free-at-raised-irql); the buffer comes as the
 * context, so the routine touches nothing shared. */
static VOID STREAMAPI FreeLow(PVOID Context)
{
    ExFreePoolWithTag(Context, POLL_TAG);
}

/* Synchronized: retire the work buffer, once no Low routine owns it (and none is pending): a Low
 * routine frees it. */
static VOID FreeWorkBuffer(POLL_EXT *dx)
{
    if (dx->PublishedBuffer)
        StreamClassCallAtNewPriority(NULL, dx, Low, FreeLow, dx->PublishedBuffer);
    dx->PublishedBuffer = dx->WorkBuffer = NULL;
    dx->FreeWhenIdle = FALSE;
}

static VOID STREAMAPI Poll(PVOID Context);

/* ---- Low (PASSIVE_LEVEL, synchronized with nothing) and LowToHigh ------------------------- */

static VOID STREAMAPI InitPublish(PVOID Context)
{
    POLL_EXT *dx = Context;
    dx->LowBusy = FALSE; /* WorkBuffer was set by InitLow before this; the hand-off ends here */
    dx->PublishedBuffer = dx->WorkBuffer;
    if (dx->FreeWhenIdle)
        FreeWorkBuffer(dx);
}

static VOID STREAMAPI InitLow(PVOID Context)
{
    POLL_EXT *dx = Context;
    /* PASSIVE_LEVEL only: paged pool. */
    dx->WorkBuffer = ExAllocatePoolWithTag(PagedPool, 4096, POLL_TAG);
    if (dx->WorkBuffer)
        RtlZeroMemory(dx->WorkBuffer, 4096);
    StreamClassCallAtNewPriority(NULL, dx, LowToHigh, InitPublish, dx);
}

static VOID STREAMAPI HousekeepingPublish(PVOID Context)
{
    POLL_EXT *dx = Context;
    dx->Digest = dx->PublishedDigest;
    dx->Housekeepings++;
    dx->LowBusy = FALSE;
    if (dx->FreeWhenIdle)
        FreeWorkBuffer(dx);
}

static VOID STREAMAPI HousekeepingLow(PVOID Context)
{
    POLL_EXT *dx = Context;
    /* Only the snapshot and the work buffer, both ours while LowBusy. */
    ULONG h = 2166136261u;
    if (dx->WorkBuffer) {
        RtlCopyMemory(dx->WorkBuffer, dx->Snapshot, sizeof dx->Snapshot);
        for (ULONG i = 0; i < sizeof dx->Snapshot; i++)
            h = (h ^ dx->WorkBuffer[i]) * 16777619u;
    }
    h ^= dx->SnapshotFrames;
    KeStallExecutionProcessor(POLL_HOUSEKEEPING_US); /* the long part: too long for DISPATCH_LEVEL */
    dx->PublishedDigest = h;
    StreamClassCallAtNewPriority(NULL, dx, LowToHigh, HousekeepingPublish, dx);
}

/* ---- synchronized (DISPATCH_LEVEL under the class lock) ------------------------------------ */

static VOID DeliverFrame(POLL_EXT *dx)
{
    PHW_STREAM_REQUEST_BLOCK srb = KsrQueuePop(&dx->Queue);
    PULONG out = (PULONG)(PVOID)KsrBuffer(srb);
    for (ULONG i = 0; i < dx->FrameBytes / 4; i++)
        out[i] = READ_PORT_ULONG(dx->Port + KSL_POLLDEV_BUF + 4 * i);
    WRITE_PORT_ULONG(dx->Port + KSL_POLLDEV_ACK, KSL_POLLDEV_ACK_RELEASE); /* after the copy */
    KsrSetResult(srb, dx->FrameBytes, STATUS_SUCCESS);
    dx->FramesDelivered++;
    if (!dx->LowBusy && dx->FramesDelivered % POLL_HOUSEKEEPING_EVERY == 0) {
        RtlCopyMemory(dx->Snapshot, out, sizeof dx->Snapshot);
        dx->SnapshotFrames = dx->FramesDelivered;
        dx->LowBusy = TRUE;
        StreamClassCallAtNewPriority(NULL, dx, Low, HousekeepingLow, dx);
    }
    StreamClassStreamNotification(StreamRequestComplete, srb->StreamObject, srb);
}

static VOID STREAMAPI Poll(PVOID Context)
{
    POLL_EXT *dx = Context;
    if (!dx->StreamOpen)
        return;
    ULONG st = READ_PORT_ULONG(dx->Port + KSL_POLLDEV_STATUS);
    if (st & KSL_POLLDEV_ST_OVERRUN) {
        dx->Overruns++;
        WRITE_PORT_ULONG(dx->Port + KSL_POLLDEV_ACK, KSL_POLLDEV_ACK_CLEAR_OVERRUN);
    }
    if ((st & KSL_POLLDEV_ST_READY) && dx->Queue.Count)
        DeliverFrame(dx);
    StreamClassScheduleTimer(NULL, dx, POLL_PERIOD_US, Poll, dx);
}

static VOID STREAMAPI ReceiveData(PHW_STREAM_REQUEST_BLOCK srb)
{
    POLL_EXT *dx = srb->HwDeviceExtension;
    if (srb->Command != SRB_READ_DATA || KsrCapacity(srb) < dx->FrameBytes) {
        KsrSetResult(srb, 0, srb->Command != SRB_READ_DATA ? STATUS_NOT_IMPLEMENTED : STATUS_BUFFER_TOO_SMALL);
        StreamClassCompleteRequestAndMarkQueueReady(srb);
        return;
    }
    srb->Status = STATUS_PENDING;
    KsrQueuePush(&dx->Queue, srb);
    StreamClassStreamNotification(ReadyForNextStreamDataRequest, srb->StreamObject);
}

static VOID STREAMAPI ReceiveControl(PHW_STREAM_REQUEST_BLOCK srb)
{
    POLL_EXT *dx = srb->HwDeviceExtension;
    srb->Status = STATUS_SUCCESS;
    switch (srb->Command) {
    case SRB_SET_STREAM_STATE:
        dx->State = srb->CommandData.StreamState;
        WRITE_PORT_ULONG(dx->Port + KSL_POLLDEV_CONTROL, dx->State == KSSTATE_RUN ? KSL_POLLDEV_CTL_RUN : 0);
        break;
    case SRB_GET_STREAM_STATE:
        srb->CommandData.StreamState = dx->State;
        break;
    default:
        srb->Status = STATUS_NOT_IMPLEMENTED;
        break;
    }
    StreamClassCompleteRequestAndMarkQueueReady(srb);
}

static VOID STREAMAPI ReceivePacket(PHW_STREAM_REQUEST_BLOCK srb)
{
    POLL_EXT *dx = srb->HwDeviceExtension;
    srb->Status = STATUS_SUCCESS;
    switch (srb->Command) {
    case SRB_INITIALIZE_DEVICE: {
        PPORT_CONFIGURATION_INFORMATION cfg = srb->CommandData.ConfigInfo;
        if (cfg->NumberOfAccessRanges < 1) {
            srb->Status = STATUS_INVALID_DEVICE_REQUEST;
            break;
        }
        dx->Port = (ULONG_PTR)cfg->AccessRanges[0].RangeStart.QuadPart;
        WRITE_PORT_ULONG(dx->Port + KSL_POLLDEV_CONTROL, 0);
        WRITE_PORT_ULONG(dx->Port + KSL_POLLDEV_FRAME_SIZE, POLL_FRAME_BYTES);
        dx->FrameBytes = READ_PORT_ULONG(dx->Port + KSL_POLLDEV_FRAME_SIZE);
        dx->State = KSSTATE_STOP;
        KsrReportDescriptorSize(srb);
        break;
    }
    case SRB_GET_STREAM_INFO:
        KsrFillStreamInfo(srb);
        break;
    case SRB_INITIALIZATION_COMPLETE:
        /* PASSIVE_LEVEL work at initialization: a Low callback (entry points run at DISPATCH). */
        dx->LowBusy = TRUE;
        StreamClassCallAtNewPriority(NULL, dx, Low, InitLow, dx);
        break;
    case SRB_OPEN_STREAM:
        srb->StreamObject->ReceiveDataPacket = ReceiveData;
        srb->StreamObject->ReceiveControlPacket = ReceiveControl;
        srb->StreamObject->Pio = TRUE;
        dx->State = KSSTATE_STOP;
        dx->StreamOpen = TRUE;
        StreamClassScheduleTimer(NULL, dx, POLL_PERIOD_US, Poll, dx);
        break;
    case SRB_CLOSE_STREAM:
        dx->StreamOpen = FALSE;
        StreamClassScheduleTimer(NULL, dx, 0, NULL, NULL);
        WRITE_PORT_ULONG(dx->Port + KSL_POLLDEV_CONTROL, 0);
        break;
    case SRB_UNINITIALIZE_DEVICE:
        WRITE_PORT_ULONG(dx->Port + KSL_POLLDEV_CONTROL, 0);
        if (dx->LowBusy)
            dx->FreeWhenIdle = TRUE; /* a Low routine owns the buffer: its LowToHigh frees it */
        else
            FreeWorkBuffer(dx);
        break;
    default:
        srb->Status = STATUS_NOT_IMPLEMENTED;
        break;
    }
    StreamClassCompleteRequestAndMarkQueueReady(srb);
}

static VOID STREAMAPI CancelPacket(PHW_STREAM_REQUEST_BLOCK srb)
{
    POLL_EXT *dx = srb->HwDeviceExtension;
    if (KsrQueueRemove(&dx->Queue, srb)) {
        KsrSetResult(srb, 0, STATUS_CANCELLED);
        StreamClassStreamNotification(StreamRequestComplete, srb->StreamObject, srb);
    }
}

static VOID STREAMAPI TimeoutHandler(PHW_STREAM_REQUEST_BLOCK srb)
{
    srb->TimeoutCounter = srb->TimeoutOriginal;
}

static NTSTATUS PollDriverEntry(PVOID Argument1, PVOID Argument2)
{
    HW_INITIALIZATION_DATA init;
    RtlZeroMemory(&init, sizeof init);
    init.HwInitializationDataSize = sizeof init;
    init.HwInterrupt = NULL;
    init.HwReceivePacket = ReceivePacket;
    init.HwCancelPacket = CancelPacket;
    init.HwRequestTimeoutHandler = TimeoutHandler;
    init.DeviceExtensionSize = sizeof(POLL_EXT);
    return StreamClassRegisterMinidriver(Argument1, Argument2, &init);
}

const ksl_stream_driver ksr_no_isr_dispatch_driver = {
    KSL_STREAM_DRIVER_VERSION, "no-isr-dispatch",
    "no ISR: DISPATCH_LEVEL entry points and a timer poll, PASSIVE and long work in Low callbacks", "polldev",
    PollDriverEntry};
