/* SPDX-License-Identifier: MIT */
/*
 * A stream class minidriver for the ticker device (ticker.h): synchronization on, an ISR, one
 * capture stream.  Every entry point runs at the device's DIRQL (the class synchronizes them with
 * the ISR), so the small amount of work - eight DATA reads per frame - stays inside the DIRQL
 * budget.  Read SRBs wait in a queue; a waiting frame goes into the oldest one.  A frame that
 * finds no SRB is released (dropped).  WDK names only.  Built as a driver plugin.
 *
 * With -DTICKER_BUG_SHORT_COPY it copies one word too few of every frame: kslab's frame check
 * catches that (the example's test uses it to see a finding and its replay).
 */
#include <kslab/plugin.h>
#include <kslab/wdk/strmini.h>

#include "ticker.h"

#ifdef TICKER_BUG_SHORT_COPY
#define WORDS_COPIED (TICKER_FRAME_BYTES / 4 - 1)
#else
#define WORDS_COPIED (TICKER_FRAME_BYTES / 4)
#endif

typedef struct TICKER_EXT {
    ULONG_PTR Port;
    KSSTATE State;
    PHW_STREAM_REQUEST_BLOCK Head, Tail; /* read SRBs waiting, linked through NextSRB */
} TICKER_EXT;

static VOID Push(TICKER_EXT *dx, PHW_STREAM_REQUEST_BLOCK srb)
{
    srb->NextSRB = NULL;
    if (dx->Tail)
        dx->Tail->NextSRB = srb;
    else
        dx->Head = srb;
    dx->Tail = srb;
}

static BOOLEAN Remove(TICKER_EXT *dx, PHW_STREAM_REQUEST_BLOCK srb)
{
    for (PHW_STREAM_REQUEST_BLOCK *p = &dx->Head, prev = NULL; *p; prev = *p, p = &(*p)->NextSRB) {
        if (*p != srb)
            continue;
        *p = srb->NextSRB;
        if (dx->Tail == srb)
            dx->Tail = prev;
        srb->NextSRB = NULL;
        return TRUE;
    }
    return FALSE;
}

static VOID Finish(PHW_STREAM_REQUEST_BLOCK srb, ULONG bytes, NTSTATUS status)
{
    srb->CommandData.DataBufferArray->DataUsed = bytes;
    srb->ActualBytesTransferred = bytes;
    srb->Status = status;
    StreamClassStreamNotification(StreamRequestComplete, srb->StreamObject, srb);
}

/* DIRQL (synchronized): a waiting frame into the oldest SRB, or dropped when there is none. */
static VOID TakeFrame(TICKER_EXT *dx)
{
    if (!(READ_PORT_ULONG(dx->Port + TICKER_STATUS) & TICKER_ST_READY))
        return;
    PHW_STREAM_REQUEST_BLOCK srb = dx->Head;
    if (srb) {
        Remove(dx, srb);
        PULONG out = (PULONG)srb->CommandData.DataBufferArray->Data;
        for (ULONG i = 0; i < WORDS_COPIED; i++)
            out[i] = READ_PORT_ULONG(dx->Port + TICKER_DATA);
        Finish(srb, TICKER_FRAME_BYTES, STATUS_SUCCESS);
    }
    WRITE_PORT_ULONG(dx->Port + TICKER_ACK, TICKER_ACK_RELEASE | TICKER_ACK_CLEAR);
}

static BOOLEAN STREAMAPI Isr(PVOID DeviceExtension)
{
    TICKER_EXT *dx = DeviceExtension;
    if (!dx->Port || !(READ_PORT_ULONG(dx->Port + TICKER_STATUS) & TICKER_ST_READY))
        return FALSE; /* not initialized yet (a shared line's interrupt), or not ours */
    TakeFrame(dx);
    return TRUE;
}

static VOID STREAMAPI ReceiveData(PHW_STREAM_REQUEST_BLOCK srb)
{
    TICKER_EXT *dx = srb->HwDeviceExtension;
    if (srb->Command != SRB_READ_DATA || srb->CommandData.DataBufferArray->FrameExtent < TICKER_FRAME_BYTES) {
        srb->Status = srb->Command != SRB_READ_DATA ? STATUS_NOT_IMPLEMENTED : STATUS_BUFFER_TOO_SMALL;
        StreamClassCompleteRequestAndMarkQueueReady(srb);
        return;
    }
    srb->Status = STATUS_PENDING;
    Push(dx, srb);
    StreamClassStreamNotification(ReadyForNextStreamDataRequest, srb->StreamObject);
}

static VOID STREAMAPI ReceiveControl(PHW_STREAM_REQUEST_BLOCK srb)
{
    TICKER_EXT *dx = srb->HwDeviceExtension;
    srb->Status = STATUS_SUCCESS;
    if (srb->Command == SRB_SET_STREAM_STATE) {
        dx->State = srb->CommandData.StreamState;
        WRITE_PORT_ULONG(dx->Port + TICKER_CONTROL, dx->State == KSSTATE_RUN ? TICKER_CTL_RUN | TICKER_CTL_IE : 0);
    } else if (srb->Command == SRB_GET_STREAM_STATE) {
        srb->CommandData.StreamState = dx->State;
    } else {
        srb->Status = STATUS_NOT_IMPLEMENTED;
    }
    StreamClassCompleteRequestAndMarkQueueReady(srb);
}

static VOID STREAMAPI ReceivePacket(PHW_STREAM_REQUEST_BLOCK srb)
{
    TICKER_EXT *dx = srb->HwDeviceExtension;
    srb->Status = STATUS_SUCCESS;
    switch (srb->Command) {
    case SRB_INITIALIZE_DEVICE: {
        PPORT_CONFIGURATION_INFORMATION cfg = srb->CommandData.ConfigInfo;
        if (cfg->NumberOfAccessRanges < 1 || cfg->BusInterruptLevel == 0) {
            srb->Status = STATUS_INVALID_DEVICE_REQUEST;
            break;
        }
        dx->Port = (ULONG_PTR)cfg->AccessRanges[0].RangeStart.QuadPart;
        WRITE_PORT_ULONG(dx->Port + TICKER_CONTROL, 0);
        cfg->StreamDescriptorSize = sizeof(HW_STREAM_HEADER) + sizeof(HW_STREAM_INFORMATION);
        break;
    }
    case SRB_GET_STREAM_INFO: {
        PHW_STREAM_DESCRIPTOR d = srb->CommandData.StreamBuffer;
        RtlZeroMemory(d, sizeof *d);
        d->StreamHeader.NumberOfStreams = 1;
        d->StreamHeader.SizeOfHwStreamInformation = sizeof(HW_STREAM_INFORMATION);
        d->StreamInfo.NumberOfPossibleInstances = 1;
        d->StreamInfo.DataFlow = KSPIN_DATAFLOW_OUT;
        d->StreamInfo.DataAccessible = TRUE;
        break;
    }
    case SRB_OPEN_STREAM:
        srb->StreamObject->ReceiveDataPacket = ReceiveData;
        srb->StreamObject->ReceiveControlPacket = ReceiveControl;
        srb->StreamObject->Pio = TRUE;
        dx->State = KSSTATE_STOP;
        break;
    case SRB_CLOSE_STREAM:
    case SRB_UNINITIALIZE_DEVICE:
        WRITE_PORT_ULONG(dx->Port + TICKER_CONTROL, 0);
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
    TICKER_EXT *dx = srb->HwDeviceExtension;
    if (Remove(dx, srb))
        Finish(srb, 0, STATUS_CANCELLED);
}

static VOID STREAMAPI TimeoutHandler(PHW_STREAM_REQUEST_BLOCK srb)
{
    srb->TimeoutCounter = srb->TimeoutOriginal;
}

static NTSTATUS TickerDriverEntry(PVOID Argument1, PVOID Argument2)
{
    HW_INITIALIZATION_DATA init;
    RtlZeroMemory(&init, sizeof init);
    init.HwInitializationDataSize = sizeof init;
    init.HwInterrupt = Isr;
    init.HwReceivePacket = ReceivePacket;
    init.HwCancelPacket = CancelPacket;
    init.HwRequestTimeoutHandler = TimeoutHandler;
    init.DeviceExtensionSize = sizeof(TICKER_EXT);
    return StreamClassRegisterMinidriver(Argument1, Argument2, &init);
}

static const ksl_stream_driver ticker_driver = {KSL_STREAM_DRIVER_VERSION, "ticker",
                                                "capture minidriver for the ticker example device", "ticker",
                                                TickerDriverEntry};
KSLAB_STREAM_PLUGIN(ticker_driver)
