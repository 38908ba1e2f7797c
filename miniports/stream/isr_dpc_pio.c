/* SPDX-License-Identifier: MIT */
/*
 * isr-dpc-pio: a capture minidriver for the PIO FIFO device (fifocap) with class synchronization
 * on and an ISR: the stream class synchronization page's first example done right (S1, S3, S4).
 *
 *  - Every entry point and the ISR run at the adapter's DIRQL and do register work only: queue
 *    the SRB, read STATUS, acknowledge, program CONTROL (a few accesses, about 1 us).
 *  - Copying a 4 KiB frame through the DATA port takes 1024 reads (about 300 us): that goes to a
 *    StreamClassCallAtNewPriority(Dispatch) routine, which is NOT synchronized with the ISR (S3).
 *  - What the Dispatch routine shares with the ISR and the entry points — the SRB queue, the
 *    "a copy is scheduled" flag, the STATUS register — it touches only from High callbacks (S4):
 *    one to take the next SRB and check a frame is there, one to finish and schedule the next
 *    copy.  DATA is read by the copy alone (one copy at a time), so it needs no synchronization.
 *
 * WDK names only.
 */
#include <kslab/hw/fifocap.h>
#include <kslab/wdk/strmini.h>

#include "ksr_common.h"
#include "stream_refs.h"

#define DPIO_FRAME_BYTES 4096u

typedef struct DPIO_EXT {
    ULONG_PTR Port;
    ULONG FrameBytes;
    ULONG Control;                  /* what was last written to CONTROL */
    KSSTATE State;
    KSR_QUEUE Queue;                /* read SRBs waiting for a frame */
    BOOLEAN CopyScheduled;          /* a PioCopy is scheduled or running (one at a time) */
    PHW_STREAM_REQUEST_BLOCK CopySrb; /* the SRB the running copy fills */
} DPIO_EXT;

static VOID STREAMAPI PioCopy(PVOID Context);

/* Synchronized contexts only (entry points, ISR, High): start a copy when there is an SRB and a
 * whole frame in the FIFO. */
static VOID Kick(DPIO_EXT *dx)
{
    if (dx->CopyScheduled || !dx->Queue.Count)
        return;
    if (!(READ_PORT_ULONG(dx->Port + KSL_FIFOCAP_STATUS) & KSL_FIFOCAP_ST_READY))
        return;
    dx->CopyScheduled = TRUE;
    StreamClassCallAtNewPriority(NULL, dx, Dispatch, PioCopy, dx);
}

static VOID WriteControl(DPIO_EXT *dx, ULONG v)
{
    dx->Control = v;
    WRITE_PORT_ULONG(dx->Port + KSL_FIFOCAP_CONTROL, v);
}

/* High: take the SRB the copy will fill (or end the copy when there is no work). */
static VOID STREAMAPI TakeWork(PVOID Context)
{
    DPIO_EXT *dx = Context;
    dx->CopySrb = NULL;
    if (dx->Queue.Count && (READ_PORT_ULONG(dx->Port + KSL_FIFOCAP_STATUS) & KSL_FIFOCAP_ST_READY))
        dx->CopySrb = KsrQueuePop(&dx->Queue);
    else
        dx->CopyScheduled = FALSE;
}

/* High: the copy is over; start the next one if there is work. */
static VOID STREAMAPI FinishWork(PVOID Context)
{
    DPIO_EXT *dx = Context;
    dx->CopySrb = NULL;
    dx->CopyScheduled = FALSE;
    Kick(dx);
}

/* Dispatch: copy one frame from the FIFO into the SRB taken in TakeWork. */
static VOID STREAMAPI PioCopy(PVOID Context)
{
    DPIO_EXT *dx = Context;
    StreamClassCallAtNewPriority(NULL, dx, High, TakeWork, dx);
    PHW_STREAM_REQUEST_BLOCK srb = dx->CopySrb; /* ours until FinishWork */
    if (!srb)
        return;
    PULONG out = (PULONG)(PVOID)KsrBuffer(srb);
    ULONG words = dx->FrameBytes / 4;
    for (ULONG i = 0; i < words; i++)
        out[i] = READ_PORT_ULONG(dx->Port + KSL_FIFOCAP_DATA);
    KsrSetResult(srb, dx->FrameBytes, STATUS_SUCCESS);
    StreamClassStreamNotification(StreamRequestComplete, srb->StreamObject, srb);
    StreamClassCallAtNewPriority(NULL, dx, High, FinishWork, dx);
}

static BOOLEAN STREAMAPI Isr(PVOID DeviceExtension)
{
    DPIO_EXT *dx = DeviceExtension;
    if (!dx->Port)
        return FALSE; /* before SRB_INITIALIZE_DEVICE: a shared line's interrupt, not ours */
    ULONG st = READ_PORT_ULONG(dx->Port + KSL_FIFOCAP_STATUS);
    if (!(st & KSL_FIFOCAP_ST_W1C))
        return FALSE; /* not ours */
    WRITE_PORT_ULONG(dx->Port + KSL_FIFOCAP_INT_ACK, st & KSL_FIFOCAP_ST_W1C);
    Kick(dx);
    return TRUE;
}

static VOID STREAMAPI ReceiveData(PHW_STREAM_REQUEST_BLOCK srb)
{
    DPIO_EXT *dx = srb->HwDeviceExtension;
    if (srb->Command != SRB_READ_DATA) {
        srb->Status = STATUS_NOT_IMPLEMENTED;
        StreamClassCompleteRequestAndMarkQueueReady(srb);
        return;
    }
    if (KsrCapacity(srb) < dx->FrameBytes) {
        KsrSetResult(srb, 0, STATUS_BUFFER_TOO_SMALL);
        StreamClassCompleteRequestAndMarkQueueReady(srb);
        return;
    }
    srb->Status = STATUS_PENDING;
    KsrQueuePush(&dx->Queue, srb);
    StreamClassStreamNotification(ReadyForNextStreamDataRequest, srb->StreamObject);
    Kick(dx);
}

static VOID STREAMAPI ReceiveControl(PHW_STREAM_REQUEST_BLOCK srb)
{
    DPIO_EXT *dx = srb->HwDeviceExtension;
    srb->Status = STATUS_SUCCESS;
    switch (srb->Command) {
    case SRB_SET_STREAM_STATE:
        dx->State = srb->CommandData.StreamState;
        if (dx->State == KSSTATE_RUN)
            WriteControl(dx, KSL_FIFOCAP_CTL_RUN | KSL_FIFOCAP_CTL_IE_FRAME | KSL_FIFOCAP_CTL_IE_OVERRUN);
        else
            WriteControl(dx, 0);
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
    DPIO_EXT *dx = srb->HwDeviceExtension;
    srb->Status = STATUS_SUCCESS;
    switch (srb->Command) {
    case SRB_INITIALIZE_DEVICE: {
        PPORT_CONFIGURATION_INFORMATION cfg = srb->CommandData.ConfigInfo;
        if (cfg->NumberOfAccessRanges < 1 || cfg->BusInterruptLevel == 0) {
            srb->Status = STATUS_INVALID_DEVICE_REQUEST; /* needs the ports and the interrupt */
            break;
        }
        dx->Port = (ULONG_PTR)cfg->AccessRanges[0].RangeStart.QuadPart;
        ULONG fifo = READ_PORT_ULONG(dx->Port + KSL_FIFOCAP_FIFO_SIZE);
        WriteControl(dx, 0);
        if (fifo >= DPIO_FRAME_BYTES)
            WRITE_PORT_ULONG(dx->Port + KSL_FIFOCAP_FRAME_SIZE, DPIO_FRAME_BYTES);
        dx->FrameBytes = READ_PORT_ULONG(dx->Port + KSL_FIFOCAP_FRAME_SIZE);
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
        srb->StreamObject->Pio = TRUE;
        dx->State = KSSTATE_STOP;
        break;
    case SRB_CLOSE_STREAM:
    case SRB_UNINITIALIZE_DEVICE:
        WriteControl(dx, 0);
        break;
    case SRB_INITIALIZATION_COMPLETE:
        break;
    default:
        srb->Status = STATUS_NOT_IMPLEMENTED;
        break;
    }
    StreamClassCompleteRequestAndMarkQueueReady(srb);
}

static VOID STREAMAPI CancelPacket(PHW_STREAM_REQUEST_BLOCK srb)
{
    DPIO_EXT *dx = srb->HwDeviceExtension;
    /* Queued: complete it.  The one a copy is filling completes, with its frame, when the copy ends. */
    if (KsrQueueRemove(&dx->Queue, srb)) {
        KsrSetResult(srb, 0, STATUS_CANCELLED);
        StreamClassStreamNotification(StreamRequestComplete, srb->StreamObject, srb);
    }
}

static VOID STREAMAPI TimeoutHandler(PHW_STREAM_REQUEST_BLOCK srb)
{
    /* A capture SRB waits as long as frames take to come: keep it. */
    srb->TimeoutCounter = srb->TimeoutOriginal;
}

static NTSTATUS DpioDriverEntry(PVOID Argument1, PVOID Argument2)
{
    HW_INITIALIZATION_DATA init;
    RtlZeroMemory(&init, sizeof init);
    init.HwInitializationDataSize = sizeof init;
    init.HwInterrupt = Isr;
    init.HwReceivePacket = ReceivePacket;
    init.HwCancelPacket = CancelPacket;
    init.HwRequestTimeoutHandler = TimeoutHandler;
    init.DeviceExtensionSize = sizeof(DPIO_EXT);
    init.TurnOffSynchronization = FALSE;
    return StreamClassRegisterMinidriver(Argument1, Argument2, &init);
}

const ksl_stream_driver ksr_isr_dpc_pio_driver = {
    KSL_STREAM_DRIVER_VERSION, "isr-dpc-pio",
    "ISR + 4 KiB PIO copy in a Dispatch callback, High callbacks for what it shares with the ISR", "fifocap",
    DpioDriverEntry};
