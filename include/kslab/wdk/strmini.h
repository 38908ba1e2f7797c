/* SPDX-License-Identifier: MIT */
/*
 * A strmini.h-style subset for stream class minidrivers (stream.sys), C11 and C++17: the registration
 * block, the stream request block (SRB), the stream object, the port configuration, the stream
 * descriptor, the SRB commands, the notification types and the class services.  The services
 * are macros that record the caller's source position, so a finding at a class call points at
 * the minidriver's line.
 *
 * kslab's class driver is src/stream/; its client side is <kslab/stream.h>.  How a minidriver is
 * registered in kslab: it provides a DriverEntry-like function
 *
 *     NTSTATUS DriverEntry(PVOID Argument1, PVOID Argument2)
 *     {
 *         HW_INITIALIZATION_DATA init;
 *         RtlZeroMemory(&init, sizeof init);
 *         init.HwInitializationDataSize = sizeof init;
 *         init.HwReceivePacket = ...;
 *         ...
 *         return StreamClassRegisterMinidriver(Argument1, Argument2, &init);
 *     }
 *
 * and ksl_stream_create calls it with an Argument1 of its own (it stands for the DRIVER_OBJECT).
 *
 * Synchronization (TurnOffSynchronization = FALSE, the default): the class never runs two pieces
 * of minidriver code at once.  With an interrupt (HwInterrupt set and an interrupt resource)
 * every entry point runs through KeSynchronizeExecution at the adapter's DIRQL; without one, at
 * DISPATCH_LEVEL under the class spin lock.  One request at a time goes down from each queue
 * (device, per-stream data, per-stream control) until the minidriver signals ReadyForNext... .
 * With TurnOffSynchronization = TRUE, requests are called at PASSIVE_LEVEL in the submitting
 * thread, several at once; HwCancelPacket, HwRequestTimeoutHandler and timer routines at
 * DISPATCH_LEVEL; the ISR at DIRQL.
 *
 * IRQL notes are the WDK's.  Signatures and documented semantics follow the WDK; the code is
 * kslab's.  STREAMAPI is __stdcall on x86 Windows; kslab has one calling convention.
 */
#ifndef KSLAB_WDK_STRMINI_H
#define KSLAB_WDK_STRMINI_H

#include <kslab/wdk/ks.h>
#include <kslab/wdk/wdm.h>

#ifdef __cplusplus
extern "C" {
#endif

#define STREAMAPI
#define STREAM_CLASS_VERSION_20 0x0200

typedef struct _HW_STREAM_REQUEST_BLOCK HW_STREAM_REQUEST_BLOCK, *PHW_STREAM_REQUEST_BLOCK;
typedef struct _HW_STREAM_OBJECT HW_STREAM_OBJECT, *PHW_STREAM_OBJECT;

/* ---- minidriver callbacks --------------------------------------------------------------- */

/* HwReceivePacket: device requests (SRB_INITIALIZE_DEVICE, SRB_OPEN_STREAM, ...). */
typedef VOID(STREAMAPI *PHW_RECEIVE_DEVICE_SRB)(PHW_STREAM_REQUEST_BLOCK SRB);
/* HW_STREAM_OBJECT.ReceiveDataPacket: SRB_READ_DATA / SRB_WRITE_DATA. */
typedef VOID(STREAMAPI *PHW_RECEIVE_STREAM_DATA_SRB)(PHW_STREAM_REQUEST_BLOCK SRB);
/* HW_STREAM_OBJECT.ReceiveControlPacket: every other stream request. */
typedef VOID(STREAMAPI *PHW_RECEIVE_STREAM_CONTROL_SRB)(PHW_STREAM_REQUEST_BLOCK SRB);
/* HwCancelPacket: the request's IRP was cancelled. */
typedef VOID(STREAMAPI *PHW_CANCEL_SRB)(PHW_STREAM_REQUEST_BLOCK SRB);
/* HwRequestTimeoutHandler: the request's TimeoutCounter ran out. */
typedef VOID(STREAMAPI *PHW_REQUEST_TIMEOUT_HANDLER)(PHW_STREAM_REQUEST_BLOCK SRB);
/* HwInterrupt: TRUE if the device interrupted; DIRQL.  Must return FALSE quickly if not. */
typedef BOOLEAN(STREAMAPI *PHW_INTERRUPT)(PVOID DeviceExtension);
/* StreamClassScheduleTimer's routine. */
typedef VOID(STREAMAPI *PHW_TIMER_ROUTINE)(PVOID Context);
/* StreamClassCallAtNewPriority's routine. */
typedef VOID(STREAMAPI *PHW_PRIORITY_ROUTINE)(PVOID Context);
typedef VOID(STREAMAPI *PHW_EVENT_ROUTINE)(PVOID EventDescriptor);

/* ---- registration ----------------------------------------------------------------------- */

typedef struct _HW_INITIALIZATION_DATA {
    __extension__ union {
        ULONG HwInitializationDataSize;   /* sizeof(HW_INITIALIZATION_DATA) */
        __extension__ struct {
            USHORT SizeOfThisPacket;
            USHORT StreamClassVersion;    /* 0 or STREAM_CLASS_VERSION_20 */
        };
    };
    PHW_INTERRUPT HwInterrupt;                       /* optional */
    PHW_RECEIVE_DEVICE_SRB HwReceivePacket;          /* required */
    PHW_CANCEL_SRB HwCancelPacket;                   /* required */
    PHW_REQUEST_TIMEOUT_HANDLER HwRequestTimeoutHandler; /* required */
    ULONG DeviceExtensionSize;
    ULONG PerRequestExtensionSize;     /* SRBExtension */
    ULONG PerStreamExtensionSize;      /* HW_STREAM_OBJECT.HwStreamExtension */
    ULONG FilterInstanceExtensionSize; /* HwInstanceExtension; non-zero: SRB_OPEN_DEVICE_INSTANCE */
    BOOLEAN BusMasterDMA;              /* accepted, no DMA in kslab's stream class */
    BOOLEAN Dma24BitAddresses;
    ULONG BufferAlignment;
    BOOLEAN TurnOffSynchronization;    /* "FALSE unless the minidriver can deal with
                                        * multiprocessor reentrancy issues" */
    ULONG DmaBufferSize;
    ULONG NumNameExtensions;
    PWCHAR *NameExtensionArray;
} HW_INITIALIZATION_DATA, *PHW_INITIALIZATION_DATA;

/*
 * Register the minidriver with the class driver.  Argument1 stands for the DRIVER_OBJECT and
 * Argument2 for the registry path: pass on the ones the DriverEntry-like function received.
 * STATUS_REVISION_MISMATCH for a wrong HwInitializationDataSize, STATUS_INVALID_PARAMETER when
 * a required callback is missing.  PASSIVE_LEVEL (host code in kslab: ksl_stream_create).
 */
NTSTATUS STREAMAPI StreamClassRegisterAdapter(PVOID Argument1, PVOID Argument2, PHW_INITIALIZATION_DATA HwInitializationData);
#define StreamClassRegisterMinidriver StreamClassRegisterAdapter
#define STATUS_REVISION_MISMATCH ((NTSTATUS)0xC0000059)
#define STATUS_IO_DEVICE_ERROR ((NTSTATUS)0xC0000185)

/* ---- port configuration (SRB_INITIALIZE_DEVICE) ----------------------------------------- */

typedef struct _ACCESS_RANGE {
    PHYSICAL_ADDRESS RangeStart; /* kslab: the device's port base */
    ULONG RangeLength;
    BOOLEAN RangeInMemory;       /* FALSE: I/O ports (READ_PORT_*) */
} ACCESS_RANGE, *PACCESS_RANGE;

/* INTERFACE_TYPE: <kslab/wdk/wdmobj.h>. */

/* The subset of PORT_CONFIGURATION_INFORMATION the class fills in for SRB_INITIALIZE_DEVICE. */
typedef struct _PORT_CONFIGURATION_INFORMATION {
    ULONG SizeOfThisPacket;
    PVOID HwDeviceExtension;
    PDEVICE_OBJECT ClassDeviceObject;
    PDEVICE_OBJECT AdapterObject;
    PDEVICE_OBJECT RealPhysicalDeviceObject;
    ULONG SystemIoBusNumber;
    INTERFACE_TYPE AdapterInterfaceType;
    ULONG BusInterruptLevel;   /* kslab: the DIRQL (0 when there is no interrupt resource) */
    ULONG BusInterruptVector;  /* kslab: the interrupt line */
    KINTERRUPT_MODE InterruptMode;
    ULONG DmaChannel;
    ULONG NumberOfAccessRanges; /* 0 or 1 */
    PACCESS_RANGE AccessRanges;
    ULONG StreamDescriptorSize; /* OUT: bytes of HW_STREAM_DESCRIPTOR for SRB_GET_STREAM_INFO */
    PIRP Irp;
    PVOID DmaAdapterObject;     /* NULL in kslab */
    /* The top of the device stack the class attached to: where the minidriver sends its requests
     * (IoCallDriver on Windows).  kslab: when the adapter has a next-lower device
     * (ksl_stream_resources.lower_device, e.g. the lower bus of <kslab/hw/lowerbus.h>), a device
     * object whose DeviceExtension is that device — a bus-type minidriver (S7c) takes its
     * ksl_lowerbus * from PhysicalDeviceObject->DeviceExtension and calls ksl_lowerbus_submit /
     * ksl_lowerbus_cancel on it; RealPhysicalDeviceObject is the same object.  Without one, both
     * are ClassDeviceObject. */
    PDEVICE_OBJECT PhysicalDeviceObject;
} PORT_CONFIGURATION_INFORMATION, *PPORT_CONFIGURATION_INFORMATION;

/* ---- stream description (SRB_GET_STREAM_INFO) ------------------------------------------- */

typedef struct _HW_STREAM_HEADER {
    ULONG NumberOfStreams;
    ULONG SizeOfHwStreamInformation; /* sizeof(HW_STREAM_INFORMATION) */
    ULONG NumDevPropArrayEntries;
    const void *DevicePropertiesArray; /* not interpreted by kslab */
    ULONG NumDevEventArrayEntries;
    const void *DeviceEventsArray;
    const void *Topology;
    PHW_EVENT_ROUTINE DeviceEventRoutine;
    LONG NumDevMethodArrayEntries;
    const void *DeviceMethodsArray;
} HW_STREAM_HEADER, *PHW_STREAM_HEADER;

typedef struct _HW_STREAM_INFORMATION {
    ULONG NumberOfPossibleInstances; /* open instances of this stream at once */
    KSPIN_DATAFLOW DataFlow;         /* IN: the client writes (SRB_WRITE_DATA); OUT: reads */
    BOOLEAN DataAccessible;
    ULONG NumberOfFormatArrayEntries;
    PKSDATAFORMAT *StreamFormatsArray; /* the data ranges; an open format must match one */
    PVOID ClassReserved[4];
    ULONG NumStreamPropArrayEntries;
    const void *StreamPropertiesArray;
    ULONG NumStreamEventArrayEntries;
    const void *StreamEventsArray;
    const GUID *Category;
    const GUID *Name;
    ULONG MediumsCount;
    const void *Mediums;
    BOOLEAN BridgeStream;
    ULONG Reserved[2];
} HW_STREAM_INFORMATION, *PHW_STREAM_INFORMATION;

/* The buffer of SRB_GET_STREAM_INFO: the header, then NumberOfStreams informations. */
typedef struct _HW_STREAM_DESCRIPTOR {
    HW_STREAM_HEADER StreamHeader;
    HW_STREAM_INFORMATION StreamInfo; /* the first of StreamHeader.NumberOfStreams */
} HW_STREAM_DESCRIPTOR, *PHW_STREAM_DESCRIPTOR;

/* ---- the stream object ------------------------------------------------------------------ */

struct _HW_STREAM_OBJECT {
    ULONG SizeOfThisPacket;
    ULONG StreamNumber;
    PVOID HwStreamExtension;       /* PerStreamExtensionSize bytes, zeroed at open */
    PHW_RECEIVE_STREAM_DATA_SRB ReceiveDataPacket;       /* set by the minidriver in SRB_OPEN_STREAM */
    PHW_RECEIVE_STREAM_CONTROL_SRB ReceiveControlPacket; /* set by the minidriver in SRB_OPEN_STREAM */
    /* HwClockObject: omitted (no master clocks in kslab). */
    BOOLEAN Dma;
    BOOLEAN Pio;
    PVOID HwDeviceExtension;
    ULONG StatusFlags;
    PVOID Allocator;
    PHW_EVENT_ROUTINE HwEventRoutine;
    PVOID Reserved[2];
};

/* ---- the stream request block ----------------------------------------------------------- */

typedef enum _SRB_COMMAND {
    /* stream requests */
    SRB_READ_DATA = 0,
    SRB_WRITE_DATA,
    SRB_GET_STREAM_STATE,
    SRB_SET_STREAM_STATE,
    SRB_SET_STREAM_PROPERTY,
    SRB_GET_STREAM_PROPERTY,
    SRB_OPEN_MASTER_CLOCK,
    SRB_INDICATE_MASTER_CLOCK,
    SRB_UNKNOWN_STREAM_COMMAND,
    SRB_SET_STREAM_RATE,
    SRB_PROPOSE_DATA_FORMAT,
    SRB_CLOSE_MASTER_CLOCK,
    SRB_PROPOSE_STREAM_RATE,
    SRB_SET_DATA_FORMAT,
    SRB_GET_DATA_FORMAT,
    SRB_BEGIN_FLUSH,
    SRB_END_FLUSH,
    /* device requests */
    SRB_GET_STREAM_INFO = 0x100,
    SRB_OPEN_STREAM,
    SRB_CLOSE_STREAM,
    SRB_OPEN_DEVICE_INSTANCE,
    SRB_CLOSE_DEVICE_INSTANCE,
    SRB_GET_DEVICE_PROPERTY,
    SRB_SET_DEVICE_PROPERTY,
    SRB_INITIALIZE_DEVICE,
    SRB_CHANGE_POWER_STATE,
    SRB_UNINITIALIZE_DEVICE,
    SRB_UNKNOWN_DEVICE_COMMAND,
    SRB_PAGING_OUT_DRIVER,
    SRB_GET_DATA_INTERSECTION,
    SRB_INITIALIZATION_COMPLETE,
    SRB_SURPRISE_REMOVAL,
    SRB_DEVICE_METHOD,
    SRB_STREAM_METHOD,
    SRB_NOTIFY_IDLE_STATE,
} SRB_COMMAND;

/* Flags */
#define SRB_HW_FLAGS_DATA_TRANSFER 0x00000001
#define SRB_HW_FLAGS_STREAM_REQUEST 0x00000002

typedef struct _KSSCATTER_GATHER {
    PHYSICAL_ADDRESS PhysicalAddress;
    ULONG Length;
} KSSCATTER_GATHER, *PKSSCATTER_GATHER;

struct _HW_STREAM_REQUEST_BLOCK {
    ULONG SizeOfThisPacket;
    SRB_COMMAND Command;
    NTSTATUS Status;                /* set by the minidriver before completing */
    PHW_STREAM_OBJECT StreamObject; /* stream requests and SRB_OPEN/CLOSE_STREAM */
    PVOID HwDeviceExtension;
    PVOID SRBExtension;             /* PerRequestExtensionSize bytes, zeroed for each request */
    union _CommandData {
        PKSSTREAM_HEADER DataBufferArray;              /* SRB_READ_DATA, SRB_WRITE_DATA */
        PHW_STREAM_DESCRIPTOR StreamBuffer;             /* SRB_GET_STREAM_INFO */
        KSSTATE StreamState;                            /* SRB_GET/SET_STREAM_STATE */
        PVOID PropertyInfo;                             /* not interpreted by kslab */
        PKSDATAFORMAT OpenFormat;                       /* SRB_OPEN_STREAM, SRB_SET_DATA_FORMAT */
        PPORT_CONFIGURATION_INFORMATION ConfigInfo;     /* SRB_INITIALIZE_DEVICE */
        PVOID MasterClockHandle;
        ULONG DeviceState;                              /* SRB_CHANGE_POWER_STATE */
        PVOID IntersectInfo;
        PVOID MethodInfo;
        LONG FilterTypeIndex;
        BOOLEAN Idle;
    } CommandData;
    ULONG NumberOfBuffers;          /* entries of DataBufferArray (kslab: 1) */
    ULONG TimeoutCounter;           /* seconds left; 0 disables the timeout */
    ULONG TimeoutOriginal;          /* restore TimeoutCounter from it when work resumes */
    struct _HW_STREAM_REQUEST_BLOCK *NextSRB; /* free for the minidriver's own queues */
    PIRP Irp;
    ULONG Flags;                    /* SRB_HW_FLAGS_* */
    PVOID HwInstanceExtension;
    union {
        ULONG NumberOfBytesToTransfer;
        ULONG ActualBytesTransferred;
    };
    PKSSCATTER_GATHER ScatterGatherBuffer; /* NULL in kslab: no DMA */
    ULONG NumberOfPhysicalPages;
    ULONG NumberOfScatterGatherElements;
    ULONG Reserved[1];
};

/* ---- notifications ---------------------------------------------------------------------- */

typedef enum {
    ReadyForNextStreamDataRequest,
    ReadyForNextStreamControlRequest,
    HardwareStarved,
    StreamRequestComplete,
    SignalMultipleStreamEvents,
    SignalStreamEvent,
    DeleteStreamEvent,
    StreamNotificationMaximum
} STREAM_MINIDRIVER_STREAM_NOTIFICATION_TYPE;

typedef enum {
    ReadyForNextDeviceRequest,
    DeviceRequestComplete,
    SignalMultipleDeviceEvents,
    SignalDeviceEvent,
    DeleteDeviceEvent,
    SignalMultipleDeviceInstanceEvents,
    DeviceNotificationMaximum
} STREAM_MINIDRIVER_DEVICE_NOTIFICATION_TYPE;

typedef enum { High, Dispatch, Low, LowToHigh } STREAM_PRIORITY;

/*
 * StreamClassStreamNotification(NotificationType, StreamObject, ...):
 *   StreamRequestComplete, StreamObject, PHW_STREAM_REQUEST_BLOCK
 *   ReadyForNextStreamDataRequest, StreamObject
 *   ReadyForNextStreamControlRequest, StreamObject
 *   HardwareStarved, StreamObject                       (accepted, no effect)
 *   SignalMultipleStreamEvents, StreamObject, GUID *EventSet, ULONG EventId
 *   SignalStreamEvent / DeleteStreamEvent, StreamObject, PKSEVENT_ENTRY
 *     (kslab has no KS events: these three are accepted and have no effect)
 * Any IRQL up to the adapter's DIRQL.  Variadic: the class reads the extra argument only for
 * the types that have one.
 */
VOID ksl_strm_stream_notification(const char *file, int line, STREAM_MINIDRIVER_STREAM_NOTIFICATION_TYPE NotificationType,
                                  PHW_STREAM_OBJECT StreamObject, ...);
#define StreamClassStreamNotification(...) ksl_strm_stream_notification(__FILE__, __LINE__, __VA_ARGS__)

/*
 * StreamClassDeviceNotification(NotificationType, HwDeviceExtension, ...):
 *   DeviceRequestComplete, HwDeviceExtension, PHW_STREAM_REQUEST_BLOCK
 *   ReadyForNextDeviceRequest, HwDeviceExtension
 *   SignalMultipleDeviceEvents, HwDeviceExtension, GUID *EventSet, ULONG EventId
 *   SignalDeviceEvent / DeleteDeviceEvent, HwDeviceExtension, PKSEVENT_ENTRY
 *   SignalMultipleDeviceInstanceEvents, HwDeviceExtension, HwInstanceExtension, GUID *, ULONG
 *     (event notifications are accepted and have no effect)
 * Any IRQL up to the adapter's DIRQL.
 */
VOID ksl_strm_device_notification(const char *file, int line, STREAM_MINIDRIVER_DEVICE_NOTIFICATION_TYPE NotificationType,
                                  PVOID HwDeviceExtension, ...);
#define StreamClassDeviceNotification(...) ksl_strm_device_notification(__FILE__, __LINE__, __VA_ARGS__)

/* Complete the SRB and mark its queue ready: the two notifications in one call.  Any IRQL up
 * to the adapter's DIRQL. */
VOID ksl_strm_complete_and_ready(PHW_STREAM_REQUEST_BLOCK Srb, const char *file, int line);
#define StreamClassCompleteRequestAndMarkQueueReady(Srb) ksl_strm_complete_and_ready((Srb), __FILE__, __LINE__)

/*
 * Run PriorityRoutine(Context) at another priority.  StreamObject NULL: the device's slot.
 *   High      at the entry points' level (KeSynchronizeExecution with an interrupt, else
 *             DISPATCH_LEVEL under the class lock); run before the call returns; called from a
 *             context that is already synchronized, it runs there at once.
 *   Dispatch  a DPC at DISPATCH_LEVEL, NOT synchronized with the ISR or the entry points.
 *   Low       a system worker thread at PASSIVE_LEVEL, synchronized with nothing.
 *   LowToHigh from a Low routine: back to High, run before the call returns.
 * Only one Dispatch or Low routine may be pending (queued, not yet started) per stream and one
 * per device: a second one is refused and reported (S3.callatnewpriority-pending).
 * Any IRQL up to the adapter's DIRQL (LowToHigh: PASSIVE_LEVEL).
 */
VOID ksl_strm_call_at_new_priority(PHW_STREAM_OBJECT StreamObject, PVOID HwDeviceExtension, STREAM_PRIORITY Priority,
                                   PHW_PRIORITY_ROUTINE PriorityRoutine, PVOID Context, const char *file, int line);
#define StreamClassCallAtNewPriority(StreamObject, HwDeviceExtension, Priority, PriorityRoutine, Context) \
    ksl_strm_call_at_new_priority((StreamObject), (HwDeviceExtension), (Priority), (PriorityRoutine), (Context), __FILE__, __LINE__)

/*
 * Call TimerRoutine(Context) NumberOfMicroseconds from now (virtual time): one timer per
 * stream (StreamObject) and one for the device (NULL); a new call replaces the pending one,
 * 0 microseconds cancels it.  The routine runs at the entry points' level with synchronization
 * on, at DISPATCH_LEVEL with it off.  Any IRQL up to the adapter's DIRQL.
 */
VOID ksl_strm_schedule_timer(PHW_STREAM_OBJECT StreamObject, PVOID HwDeviceExtension, ULONG NumberOfMicroseconds,
                             PHW_TIMER_ROUTINE TimerRoutine, PVOID Context, const char *file, int line);
#define StreamClassScheduleTimer(StreamObject, HwDeviceExtension, NumberOfMicroseconds, TimerRoutine, Context) \
    ksl_strm_schedule_timer((StreamObject), (HwDeviceExtension), (NumberOfMicroseconds), (TimerRoutine), (Context), __FILE__, __LINE__)

/*
 * Abort every outstanding request of the stream (StreamObject), or of the whole device (NULL):
 * queued ones and the ones the minidriver holds complete with Status, and the minidriver no
 * longer owns them; the queues concerned are marked ready.  Documented IRQL: > DISPATCH_LEVEL
 * (from a synchronized entry point); kslab accepts any IRQL up to the adapter's DIRQL.
 */
VOID ksl_strm_abort_outstanding(PVOID HwDeviceExtension, PHW_STREAM_OBJECT HwStreamObject, NTSTATUS Status,
                                const char *file, int line);
#define StreamClassAbortOutstandingRequests(HwDeviceExtension, HwStreamObject, Status) \
    ksl_strm_abort_outstanding((HwDeviceExtension), (HwStreamObject), (Status), __FILE__, __LINE__)

/* ---- kslab: a stream minidriver as a driver (built in or a plugin, <kslab/plugin.h>) -------- */

#define KSL_STREAM_DRIVER_VERSION 1u

/* What `kslab stream --driver` runs: the minidriver's DriverEntry-like registration function and
 * the device model the job puts under it ("fifocap", "polldev", "lowerbus" or "none"). */
typedef struct ksl_stream_driver {
    uint32_t version;          /* KSL_STREAM_DRIVER_VERSION */
    const char *name;          /* e.g. "isr-dpc-pio" */
    const char *description;   /* one line */
    const char *device;        /* "fifocap", "polldev", "lowerbus", "none" */
    NTSTATUS (*DriverEntry)(PVOID Argument1, PVOID Argument2); /* PASSIVE_LEVEL (host code) */
} ksl_stream_driver;

#ifdef __cplusplus
}
#endif
#endif
