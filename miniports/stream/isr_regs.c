/* SPDX-License-Identifier: MIT */
/*
 * isr-regs: a capture minidriver for the PIO FIFO device (fifocap) with class synchronization on
 * and an ISR, doing everything at the adapter's DIRQL because everything is small (S1): the
 * stream class synchronization page's "reads a port in its ISR" case.
 *
 * It sets the device to 64-byte frames: moving one takes 16 DATA reads (about 5 us), so the ISR
 * (acknowledge + one frame) and each entry point (queue + at most one frame) stay well inside the
 * 10-20 us budget.  At most one frame is moved per call: a backlog drains one frame per interrupt
 * and one per new SRB, never in one long stay at DIRQL.  No priority routine is needed.
 *
 * WDK names only.
 */
#include <kslab/hw/fifocap.h>
#include <kslab/wdk/strmini.h>

#include "ksr_common.h"
#include "stream_refs.h"

#define REGS_FRAME_BYTES 64u

typedef struct REGS_EXT {
    ULONG_PTR Port;
    ULONG FrameBytes;
    KSSTATE State;
    KSR_QUEUE Queue; /* read SRBs waiting for a frame */
} REGS_EXT;

/* DIRQL (synchronized): move one frame into the oldest SRB if both are there. */
static VOID MoveOneFrame(REGS_EXT *dx)
{
    if (!dx->Queue.Count || !(READ_PORT_ULONG(dx->Port + KSL_FIFOCAP_STATUS) & KSL_FIFOCAP_ST_READY))
        return;
    PHW_STREAM_REQUEST_BLOCK srb = KsrQueuePop(&dx->Queue);
    PULONG out = (PULONG)(PVOID)KsrBuffer(srb);
    for (ULONG i = 0; i < dx->FrameBytes / 4; i++)
        out[i] = READ_PORT_ULONG(dx->Port + KSL_FIFOCAP_DATA);
    KsrSetResult(srb, dx->FrameBytes, STATUS_SUCCESS);
    StreamClassStreamNotification(StreamRequestComplete, srb->StreamObject, srb);
}

static BOOLEAN STREAMAPI Isr(PVOID DeviceExtension)
{
    REGS_EXT *dx = DeviceExtension;
    if (!dx->Port)
        return FALSE; /* before SRB_INITIALIZE_DEVICE: a shared line's interrupt, not ours */
    ULONG st = READ_PORT_ULONG(dx->Port + KSL_FIFOCAP_STATUS);
    if (!(st & KSL_FIFOCAP_ST_W1C))
        return FALSE;
    WRITE_PORT_ULONG(dx->Port + KSL_FIFOCAP_INT_ACK, st & KSL_FIFOCAP_ST_W1C);
    MoveOneFrame(dx);
    return TRUE;
}

static VOID STREAMAPI ReceiveData(PHW_STREAM_REQUEST_BLOCK srb)
{
    REGS_EXT *dx = srb->HwDeviceExtension;
    if (srb->Command != SRB_READ_DATA || KsrCapacity(srb) < dx->FrameBytes) {
        KsrSetResult(srb, 0, srb->Command != SRB_READ_DATA ? STATUS_NOT_IMPLEMENTED : STATUS_BUFFER_TOO_SMALL);
        StreamClassCompleteRequestAndMarkQueueReady(srb);
        return;
    }
    srb->Status = STATUS_PENDING;
    KsrQueuePush(&dx->Queue, srb);
    StreamClassStreamNotification(ReadyForNextStreamDataRequest, srb->StreamObject);
    MoveOneFrame(dx);
}

static VOID STREAMAPI ReceiveControl(PHW_STREAM_REQUEST_BLOCK srb)
{
    REGS_EXT *dx = srb->HwDeviceExtension;
    srb->Status = STATUS_SUCCESS;
    switch (srb->Command) {
    case SRB_SET_STREAM_STATE:
        dx->State = srb->CommandData.StreamState;
        WRITE_PORT_ULONG(dx->Port + KSL_FIFOCAP_CONTROL,
                         dx->State == KSSTATE_RUN
                             ? KSL_FIFOCAP_CTL_RUN | KSL_FIFOCAP_CTL_IE_FRAME | KSL_FIFOCAP_CTL_IE_OVERRUN
                             : 0);
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
    REGS_EXT *dx = srb->HwDeviceExtension;
    srb->Status = STATUS_SUCCESS;
    switch (srb->Command) {
    case SRB_INITIALIZE_DEVICE: {
        PPORT_CONFIGURATION_INFORMATION cfg = srb->CommandData.ConfigInfo;
        if (cfg->NumberOfAccessRanges < 1 || cfg->BusInterruptLevel == 0) {
            srb->Status = STATUS_INVALID_DEVICE_REQUEST;
            break;
        }
        dx->Port = (ULONG_PTR)cfg->AccessRanges[0].RangeStart.QuadPart;
        WRITE_PORT_ULONG(dx->Port + KSL_FIFOCAP_CONTROL, 0);
        WRITE_PORT_ULONG(dx->Port + KSL_FIFOCAP_FRAME_SIZE, REGS_FRAME_BYTES);
        dx->FrameBytes = READ_PORT_ULONG(dx->Port + KSL_FIFOCAP_FRAME_SIZE);
        if (dx->FrameBytes != REGS_FRAME_BYTES)
            srb->Status = STATUS_IO_DEVICE_ERROR; /* bigger frames would not fit the DIRQL budget */
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
        WRITE_PORT_ULONG(dx->Port + KSL_FIFOCAP_CONTROL, 0);
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
    REGS_EXT *dx = srb->HwDeviceExtension;
    if (KsrQueueRemove(&dx->Queue, srb)) {
        KsrSetResult(srb, 0, STATUS_CANCELLED);
        StreamClassStreamNotification(StreamRequestComplete, srb->StreamObject, srb);
    }
}

static VOID STREAMAPI TimeoutHandler(PHW_STREAM_REQUEST_BLOCK srb)
{
    srb->TimeoutCounter = srb->TimeoutOriginal;
}

static NTSTATUS RegsDriverEntry(PVOID Argument1, PVOID Argument2)
{
    HW_INITIALIZATION_DATA init;
    RtlZeroMemory(&init, sizeof init);
    init.HwInitializationDataSize = sizeof init;
    init.HwInterrupt = Isr;
    init.HwReceivePacket = ReceivePacket;
    init.HwCancelPacket = CancelPacket;
    init.HwRequestTimeoutHandler = TimeoutHandler;
    init.DeviceExtensionSize = sizeof(REGS_EXT);
    return StreamClassRegisterMinidriver(Argument1, Argument2, &init);
}

const ksl_stream_driver ksr_isr_regs_driver = {
    KSL_STREAM_DRIVER_VERSION, "isr-regs", "ISR device, only register work at DIRQL (64-byte frames by PIO)",
    "fifocap", RegsDriverEntry};
