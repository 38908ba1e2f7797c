/* SPDX-License-Identifier: MIT */
/*
 * A ks.h-style subset: the kernel-streaming types both class-driver surfaces use (PortCls in
 * <kslab/wdk/portcls.h>, the stream class in <kslab/wdk/strmini.h>): GUIDs, KSSTATE, the
 * KSDATAFORMAT/KSDATARANGE header, pin data flow and communication, and KSSTREAM_HEADER.
 * Signatures and documented semantics follow the WDK; the code is kslab's.
 */
#ifndef KSLAB_WDK_KS_H
#define KSLAB_WDK_KS_H

#include <kslab/wdk/wdm.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- GUIDs ------------------------------------------------------------------------------ */

typedef struct _GUID {
    uint32_t Data1;
    uint16_t Data2;
    uint16_t Data3;
    uint8_t Data4[8];
} GUID, IID, CLSID;
typedef const GUID *REFIID, *REFGUID, *REFCLSID;

/* True when two GUIDs are equal.  Any IRQL. */
static inline int IsEqualGUIDAligned(REFGUID a, REFGUID b)
{
    const uint8_t *x = (const uint8_t *)a, *y = (const uint8_t *)b;
    for (size_t i = 0; i < sizeof(GUID); i++)
        if (x[i] != y[i])
            return 0;
    return 1;
}
#define IsEqualGUID(a, b) IsEqualGUIDAligned((a), (b))

/* ---- states, formats, pins -------------------------------------------------------------- */

typedef enum { KSSTATE_STOP = 0, KSSTATE_ACQUIRE = 1, KSSTATE_PAUSE = 2, KSSTATE_RUN = 3 } KSSTATE, *PKSSTATE;

typedef struct {
    ULONG FormatSize;
    ULONG Flags;
    ULONG SampleSize;
    ULONG Reserved;
    GUID MajorFormat;
    GUID SubFormat;
    GUID Specifier;
} KSDATAFORMAT, *PKSDATAFORMAT, KSDATARANGE, *PKSDATARANGE;

typedef enum { KSPIN_DATAFLOW_IN = 1, KSPIN_DATAFLOW_OUT = 2 } KSPIN_DATAFLOW;
typedef enum {
    KSPIN_COMMUNICATION_NONE = 0,
    KSPIN_COMMUNICATION_SINK = 1,
    KSPIN_COMMUNICATION_SOURCE = 2,
    KSPIN_COMMUNICATION_BOTH = 3,
    KSPIN_COMMUNICATION_BRIDGE = 4
} KSPIN_COMMUNICATION;

/* ---- stream headers --------------------------------------------------------------------- */

typedef struct {
    LONGLONG Time;
    ULONG Numerator;
    ULONG Denominator;
} KSTIME, *PKSTIME;

/* One data buffer of a streaming request (the stream class's SRB_READ_DATA / SRB_WRITE_DATA
 * carry an array of these in CommandData.DataBufferArray). */
typedef struct {
    ULONG Size;               /* of this header */
    ULONG TypeSpecificFlags;
    KSTIME PresentationTime;
    LONGLONG Duration;
    ULONG FrameExtent;        /* bytes the buffer can hold */
    ULONG DataUsed;           /* bytes of valid data (write: set by the client; read: by the driver) */
    PVOID Data;
    ULONG OptionsFlags;
} KSSTREAM_HEADER, *PKSSTREAM_HEADER;

#ifdef __cplusplus
}
#endif
#endif
