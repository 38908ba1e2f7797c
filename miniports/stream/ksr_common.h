/* SPDX-License-Identifier: MIT */
/* Helpers shared by the reference stream minidrivers (miniports/stream): the one capture stream
 * they describe, and a FIFO of SRBs linked through NextSRB.  The caller synchronizes. */
#ifndef KSLAB_MINIPORTS_KSR_COMMON_H
#define KSLAB_MINIPORTS_KSR_COMMON_H

#include <kslab/wdk/strmini.h>

typedef struct KSR_QUEUE {
    PHW_STREAM_REQUEST_BLOCK Head, Tail;
    ULONG Count;
} KSR_QUEUE;

VOID KsrQueuePush(KSR_QUEUE *Q, PHW_STREAM_REQUEST_BLOCK Srb);
PHW_STREAM_REQUEST_BLOCK KsrQueuePop(KSR_QUEUE *Q);
/* Remove Srb if queued: TRUE when it was. */
BOOLEAN KsrQueueRemove(KSR_QUEUE *Q, PHW_STREAM_REQUEST_BLOCK Srb);

/* SRB_INITIALIZE_DEVICE: the descriptor size for one stream. */
VOID KsrReportDescriptorSize(PHW_STREAM_REQUEST_BLOCK Srb);
/* SRB_GET_STREAM_INFO: one capture stream (KSPIN_DATAFLOW_OUT), one instance, any format. */
VOID KsrFillStreamInfo(PHW_STREAM_REQUEST_BLOCK Srb);

/* The data buffer of a read SRB and its size. */
PUCHAR KsrBuffer(PHW_STREAM_REQUEST_BLOCK Srb);
ULONG KsrCapacity(PHW_STREAM_REQUEST_BLOCK Srb);
/* Set DataUsed / ActualBytesTransferred and Status; no notification. */
VOID KsrSetResult(PHW_STREAM_REQUEST_BLOCK Srb, ULONG Bytes, NTSTATUS Status);

#endif
