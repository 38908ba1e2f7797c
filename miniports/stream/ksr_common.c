/* SPDX-License-Identifier: MIT */
/* Helpers shared by the reference stream minidrivers (see ksr_common.h). */
#include "ksr_common.h"

VOID KsrQueuePush(KSR_QUEUE *Q, PHW_STREAM_REQUEST_BLOCK Srb)
{
    Srb->NextSRB = NULL;
    if (Q->Tail)
        Q->Tail->NextSRB = Srb;
    else
        Q->Head = Srb;
    Q->Tail = Srb;
    Q->Count++;
}

PHW_STREAM_REQUEST_BLOCK KsrQueuePop(KSR_QUEUE *Q)
{
    PHW_STREAM_REQUEST_BLOCK Srb = Q->Head;
    if (!Srb)
        return NULL;
    Q->Head = Srb->NextSRB;
    if (!Q->Head)
        Q->Tail = NULL;
    Srb->NextSRB = NULL;
    Q->Count--;
    return Srb;
}

BOOLEAN KsrQueueRemove(KSR_QUEUE *Q, PHW_STREAM_REQUEST_BLOCK Srb)
{
    PHW_STREAM_REQUEST_BLOCK Prev = NULL;
    for (PHW_STREAM_REQUEST_BLOCK p = Q->Head; p; Prev = p, p = p->NextSRB) {
        if (p != Srb)
            continue;
        if (Prev)
            Prev->NextSRB = p->NextSRB;
        else
            Q->Head = p->NextSRB;
        if (Q->Tail == p)
            Q->Tail = Prev;
        p->NextSRB = NULL;
        Q->Count--;
        return TRUE;
    }
    return FALSE;
}

VOID KsrReportDescriptorSize(PHW_STREAM_REQUEST_BLOCK Srb)
{
    Srb->CommandData.ConfigInfo->StreamDescriptorSize = sizeof(HW_STREAM_HEADER) + sizeof(HW_STREAM_INFORMATION);
}

VOID KsrFillStreamInfo(PHW_STREAM_REQUEST_BLOCK Srb)
{
    PHW_STREAM_DESCRIPTOR d = Srb->CommandData.StreamBuffer;
    RtlZeroMemory(d, sizeof *d);
    d->StreamHeader.NumberOfStreams = 1;
    d->StreamHeader.SizeOfHwStreamInformation = sizeof(HW_STREAM_INFORMATION);
    d->StreamInfo.NumberOfPossibleInstances = 1;
    d->StreamInfo.DataFlow = KSPIN_DATAFLOW_OUT;
    d->StreamInfo.DataAccessible = TRUE;
}

PUCHAR KsrBuffer(PHW_STREAM_REQUEST_BLOCK Srb)
{
    return (PUCHAR)Srb->CommandData.DataBufferArray->Data;
}

ULONG KsrCapacity(PHW_STREAM_REQUEST_BLOCK Srb)
{
    return Srb->CommandData.DataBufferArray->FrameExtent;
}

VOID KsrSetResult(PHW_STREAM_REQUEST_BLOCK Srb, ULONG Bytes, NTSTATUS Status)
{
    Srb->CommandData.DataBufferArray->DataUsed = Bytes;
    Srb->ActualBytesTransferred = Bytes;
    Srb->Status = Status;
}
