/* SPDX-License-Identifier: MIT */
/*
 * A portcls.h-style subset for WavePci miniports, in C: every interface is a struct whose first
 * member is `lpVtbl`, and each method has the WDK's C helper macro (`IPortWavePciStream_GetMapping`
 * and so on).  The helpers for port methods also record the caller's source position, so a
 * finding at a port call points at the miniport's line.
 *
 * IRQL notes are the WDK's (the port checks them at run time).  The ksmedia.h types the
 * interfaces need (WAVEFORMATEX, KSALLOCATOR_FRAMING, ...) are here too; the shared ks.h ones
 * (GUID, KSSTATE, KSDATAFORMAT, ...) come from <kslab/wdk/ks.h>.
 * Signatures and documented semantics follow the WDK; the code is kslab's.
 */
#ifndef KSLAB_WDK_PORTCLS_H
#define KSLAB_WDK_PORTCLS_H

#include <kslab/wdk/ks.h>
#include <kslab/wdk/wdm.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- COM basics ------------------------------------------------------------------------- */

/* GUID, IID, IsEqualGUID: <kslab/wdk/ks.h>. */

#define STATUS_NO_MATCH ((NTSTATUS)0xC0000272)
#define STATUS_NOINTERFACE ((NTSTATUS)0xC00002B9)

typedef struct IUnknown IUnknown, *PUNKNOWN;
typedef struct IUnknownVtbl {
    NTSTATUS (*QueryInterface)(PUNKNOWN This, REFIID Iid, PVOID *Object);
    ULONG (*AddRef)(PUNKNOWN This);
    ULONG (*Release)(PUNKNOWN This);
} IUnknownVtbl;
struct IUnknown {
    const IUnknownVtbl *lpVtbl;
};
#define IUnknown_QueryInterface(This, Iid, Object) (This)->lpVtbl->QueryInterface((PUNKNOWN)(This), (Iid), (Object))
#define IUnknown_AddRef(This) (This)->lpVtbl->AddRef((PUNKNOWN)(This))
#define IUnknown_Release(This) (This)->lpVtbl->Release((PUNKNOWN)(This))

/* The three IUnknown slots every vtable below starts with, typed for interface T. */
#define KSL_IUNKNOWN_METHODS(T)                                     \
    NTSTATUS (*QueryInterface)(T *This, REFIID Iid, PVOID *Object); \
    ULONG (*AddRef)(T *This);                                       \
    ULONG (*Release)(T *This)

extern const IID IID_IUnknown;
extern const IID IID_IPort;
extern const IID IID_IPortWavePci;
extern const IID IID_IPortWavePciStream;
extern const IID IID_IMiniport;
extern const IID IID_IMiniportWavePci;
extern const IID IID_IMiniportWavePciStream;
extern const IID IID_IServiceSink;
extern const IID IID_IServiceGroup;
extern const IID IID_IPowerNotify;
extern const IID IID_IInterruptSync;
extern const IID IID_IDmaChannel;
extern const IID IID_IResourceList;
extern const GUID KSDATAFORMAT_TYPE_AUDIO;
extern const GUID KSDATAFORMAT_SUBTYPE_PCM;
extern const GUID KSDATAFORMAT_SPECIFIER_WAVEFORMATEX;

/* ---- ks.h / ksmedia.h types ------------------------------------------------------------- */

/* KSSTATE, KSDATAFORMAT / KSDATARANGE, KSPIN_DATAFLOW, KSPIN_COMMUNICATION: <kslab/wdk/ks.h>. */

#define WAVE_FORMAT_PCM 1
typedef struct {
    USHORT wFormatTag;
    USHORT nChannels;
    ULONG nSamplesPerSec;
    ULONG nAvgBytesPerSec;
    USHORT nBlockAlign;
    USHORT wBitsPerSample;
    USHORT cbSize;
} WAVEFORMATEX, *PWAVEFORMATEX;

typedef struct {
    KSDATAFORMAT DataFormat;
    WAVEFORMATEX WaveFormatEx;
} KSDATAFORMAT_WAVEFORMATEX, *PKSDATAFORMAT_WAVEFORMATEX;

typedef struct {
    KSDATARANGE DataRange;
    ULONG MaximumChannels;
    ULONG MinimumBitsPerSample;
    ULONG MaximumBitsPerSample;
    ULONG MinimumSampleFrequency;
    ULONG MaximumSampleFrequency;
} KSDATARANGE_AUDIO, *PKSDATARANGE_AUDIO;

#define KSALLOCATOR_REQUIREMENTF_SYSTEM_MEMORY 0x00000002
#define KSALLOCATOR_REQUIREMENTF_PREFERENCES_ONLY 0x80000000
#define FILE_LONG_ALIGNMENT 0x00000003
typedef struct {
    union {
        ULONG OptionsFlags;
        ULONG RequirementsFlags;
    };
    ULONG PoolType;
    ULONG Frames;
    ULONG FrameSize;
    union {
        ULONG FileAlignment;
        LONG FramePitch;
    };
    ULONG Reserved;
} KSALLOCATOR_FRAMING, *PKSALLOCATOR_FRAMING;

/* The part of KSPIN_DESCRIPTOR the WavePci port reads (interfaces, mediums, category omitted). */
typedef struct {
    ULONG DataRangesCount;
    const PKSDATARANGE *DataRanges;
    KSPIN_DATAFLOW DataFlow;
    KSPIN_COMMUNICATION Communication;
} KSPIN_DESCRIPTOR;

typedef struct {
    ULONG MaxGlobalInstanceCount;
    ULONG MaxFilterInstanceCount;
    ULONG MinFilterInstanceCount;
    const void *AutomationTable;
    KSPIN_DESCRIPTOR KsPinDescriptor;
} PCPIN_DESCRIPTOR, *PPCPIN_DESCRIPTOR;

/* The part of PCFILTER_DESCRIPTOR the port reads (nodes, connections, categories omitted). */
typedef struct {
    ULONG Version;
    const void *AutomationTable;
    ULONG PinSize;
    ULONG PinCount;
    const PCPIN_DESCRIPTOR *Pins;
} PCFILTER_DESCRIPTOR, *PPCFILTER_DESCRIPTOR;

/* ---- resources (a CM_PARTIAL_RESOURCE_DESCRIPTOR subset) -------------------------------- */

#define CmResourceTypePort 1
#define CmResourceTypeInterrupt 2
#define CmResourceTypeMemory 3
typedef struct {
    UCHAR Type;
    UCHAR ShareDisposition;
    USHORT Flags;
    union {
        struct {
            PHYSICAL_ADDRESS Start; /* kslab: the port base of the device's register range */
            ULONG Length;
        } Port;
        struct {
            ULONG Level;            /* kslab: the IRQL */
            ULONG Vector;           /* kslab: the interrupt line */
            KAFFINITY Affinity;
        } Interrupt;
    } u;
} CM_PARTIAL_RESOURCE_DESCRIPTOR, *PCM_PARTIAL_RESOURCE_DESCRIPTOR;

typedef struct IResourceList IResourceList, *PRESOURCELIST;
typedef struct IResourceListVtbl {
    KSL_IUNKNOWN_METHODS(IResourceList);
    ULONG (*NumberOfEntries)(IResourceList *This);
    ULONG (*NumberOfEntriesOfType)(IResourceList *This, UCHAR Type);
    PCM_PARTIAL_RESOURCE_DESCRIPTOR (*FindTranslatedEntry)(IResourceList *This, UCHAR Type, ULONG Index);
} IResourceListVtbl;
struct IResourceList {
    const IResourceListVtbl *lpVtbl;
};
/* Any IRQL. */
#define IResourceList_NumberOfEntries(This) (This)->lpVtbl->NumberOfEntries(This)
#define IResourceList_NumberOfEntriesOfType(This, Type) (This)->lpVtbl->NumberOfEntriesOfType((This), (Type))
#define IResourceList_FindTranslatedEntry(This, Type, Index) (This)->lpVtbl->FindTranslatedEntry((This), (Type), (Index))
#define IResourceList_FindTranslatedPort(This, Index) IResourceList_FindTranslatedEntry((This), CmResourceTypePort, (Index))
#define IResourceList_FindTranslatedInterrupt(This, Index) \
    IResourceList_FindTranslatedEntry((This), CmResourceTypeInterrupt, (Index))

/* ---- call sites ------------------------------------------------------------------------- */

/* Record the source position of the port call that follows (used by the helper macros below).
 * Any IRQL; not a scheduling point. */
void ksl_pcl_call_site(const char *file, int line);
#define KSL_PCL_SITE_() ksl_pcl_call_site(__FILE__, __LINE__)

/* ---- service sinks and groups ----------------------------------------------------------- */

typedef struct IServiceSink IServiceSink, *PSERVICESINK;
typedef struct IServiceSinkVtbl {
    KSL_IUNKNOWN_METHODS(IServiceSink);
    void (*RequestService)(IServiceSink *This); /* DISPATCH_LEVEL */
} IServiceSinkVtbl;
struct IServiceSink {
    const IServiceSinkVtbl *lpVtbl;
};
#define IServiceSink_RequestService(This) (This)->lpVtbl->RequestService(This)

typedef struct IServiceGroup IServiceGroup, *PSERVICEGROUP;
typedef struct IServiceGroupVtbl {
    KSL_IUNKNOWN_METHODS(IServiceGroup);
    void (*RequestService)(IServiceGroup *This);                  /* any IRQL: queues the group's DPC */
    NTSTATUS (*AddMember)(IServiceGroup *This, PSERVICESINK Sink); /* <= DISPATCH_LEVEL */
    void (*RemoveMember)(IServiceGroup *This, PSERVICESINK Sink);  /* <= DISPATCH_LEVEL */
    void (*SupportDelayedService)(IServiceGroup *This);           /* <= DISPATCH_LEVEL */
    void (*RequestDelayedService)(IServiceGroup *This, ULONGLONG ullDelay); /* <= DISPATCH; 100 ns units */
    void (*CancelDelayedService)(IServiceGroup *This);            /* <= DISPATCH_LEVEL */
} IServiceGroupVtbl;
struct IServiceGroup {
    const IServiceGroupVtbl *lpVtbl;
};
#define IServiceGroup_AddRef(This) (This)->lpVtbl->AddRef(This)
#define IServiceGroup_Release(This) (This)->lpVtbl->Release(This)
#define IServiceGroup_RequestService(This) (This)->lpVtbl->RequestService(This)
#define IServiceGroup_AddMember(This, Sink) (This)->lpVtbl->AddMember((This), (Sink))
#define IServiceGroup_RemoveMember(This, Sink) (This)->lpVtbl->RemoveMember((This), (Sink))
#define IServiceGroup_SupportDelayedService(This) (This)->lpVtbl->SupportDelayedService(This)
#define IServiceGroup_RequestDelayedService(This, Delay) (This)->lpVtbl->RequestDelayedService((This), (Delay))
#define IServiceGroup_CancelDelayedService(This) (This)->lpVtbl->CancelDelayedService(This)

/* IPowerNotify: a miniport or stream object that answers QueryInterface(IID_IPowerNotify) is
 * told of device power changes.  Going down, the port pauses the running streams first; coming
 * up, it restarts them after.  PASSIVE_LEVEL. */
typedef struct IPowerNotify IPowerNotify, *PPOWERNOTIFY;
typedef struct IPowerNotifyVtbl {
    KSL_IUNKNOWN_METHODS(IPowerNotify);
    void (*PowerChangeNotify)(IPowerNotify *This, POWER_STATE PowerState); /* PASSIVE_LEVEL */
} IPowerNotifyVtbl;
struct IPowerNotify {
    const IPowerNotifyVtbl *lpVtbl;
};
#define IPowerNotify_Release(This) (This)->lpVtbl->Release(This)
#define IPowerNotify_PowerChangeNotify(This, State) (This)->lpVtbl->PowerChangeNotify((This), (State))

/* Create a service group (reference count 1).  PASSIVE_LEVEL. */
NTSTATUS PcNewServiceGroup(PSERVICEGROUP *OutServiceGroup, PUNKNOWN OuterUnknown);

/* ---- interrupt sync --------------------------------------------------------------------- */

typedef enum { InterruptSyncModeNormal = 1, InterruptSyncModeAll, InterruptSyncModeRepeat } INTERRUPTSYNCMODE;
typedef struct IInterruptSync IInterruptSync, *PINTERRUPTSYNC;
typedef NTSTATUS (*PINTERRUPTSYNCROUTINE)(PINTERRUPTSYNC InterruptSync, PVOID DynamicContext);
typedef struct IInterruptSyncVtbl {
    KSL_IUNKNOWN_METHODS(IInterruptSync);
    NTSTATUS (*CallSynchronizedRoutine)(IInterruptSync *This, PINTERRUPTSYNCROUTINE Routine, PVOID DynamicContext);
    PKINTERRUPT (*GetKInterrupt)(IInterruptSync *This);
    NTSTATUS (*Connect)(IInterruptSync *This);
    void (*Disconnect)(IInterruptSync *This);
    NTSTATUS (*RegisterServiceRoutine)(IInterruptSync *This, PINTERRUPTSYNCROUTINE Routine, PVOID DynamicContext,
                                       BOOLEAN First);
    /* kslab: the call site of CallSynchronizedRoutine, recorded by the helper macro */
} IInterruptSyncVtbl;
struct IInterruptSync {
    const IInterruptSyncVtbl *lpVtbl;
};
#define IInterruptSync_AddRef(This) (This)->lpVtbl->AddRef(This)
#define IInterruptSync_Release(This) (This)->lpVtbl->Release(This)
/* IRQL <= the interrupt's DIRQL. */
#define IInterruptSync_CallSynchronizedRoutine(This, Routine, Context) \
    (KSL_PCL_SITE_(), (This)->lpVtbl->CallSynchronizedRoutine((This), (Routine), (Context)))
#define IInterruptSync_GetKInterrupt(This) (This)->lpVtbl->GetKInterrupt(This)
#define IInterruptSync_Connect(This) (This)->lpVtbl->Connect(This)
#define IInterruptSync_Disconnect(This) (This)->lpVtbl->Disconnect(This)
#define IInterruptSync_RegisterServiceRoutine(This, Routine, Context, First) \
    (This)->lpVtbl->RegisterServiceRoutine((This), (Routine), (Context), (First))

/* Create an interrupt sync object for interrupt resource `ResourceIndex`.  PASSIVE_LEVEL. */
NTSTATUS PcNewInterruptSync(PINTERRUPTSYNC *OutInterruptSync, PUNKNOWN OuterUnknown, PRESOURCELIST ResourceList,
                            ULONG ResourceIndex, INTERRUPTSYNCMODE Mode);

/* ---- DMA channel ------------------------------------------------------------------------ */

typedef enum { Width8Bits, Width16Bits, Width32Bits, MaximumDmaWidth } DMA_WIDTH;
typedef enum { Compatible, TypeA, TypeB, TypeC, TypeF, MaximumDmaSpeed } DMA_SPEED;

typedef struct IDmaChannel IDmaChannel, *PDMACHANNEL;
typedef struct IDmaChannelVtbl {
    KSL_IUNKNOWN_METHODS(IDmaChannel);
    NTSTATUS (*AllocateBuffer)(IDmaChannel *This, ULONG BufferSize, PPHYSICAL_ADDRESS PhysicalAddressConstraint);
    void (*FreeBuffer)(IDmaChannel *This);
    ULONG (*TransferCount)(IDmaChannel *This);
    ULONG (*MaximumBufferSize)(IDmaChannel *This);
    ULONG (*AllocatedBufferSize)(IDmaChannel *This);
    ULONG (*BufferSize)(IDmaChannel *This);
    void (*SetBufferSize)(IDmaChannel *This, ULONG BufferSize);
    PVOID (*SystemAddress)(IDmaChannel *This);
    PHYSICAL_ADDRESS (*PhysicalAddress)(IDmaChannel *This);
    PVOID (*GetAdapterObject)(IDmaChannel *This);
    void (*CopyTo)(IDmaChannel *This, PVOID Destination, PVOID Source, ULONG ByteCount);
    void (*CopyFrom)(IDmaChannel *This, PVOID Destination, PVOID Source, ULONG ByteCount);
} IDmaChannelVtbl;
struct IDmaChannel {
    const IDmaChannelVtbl *lpVtbl;
};
#define IDmaChannel_AddRef(This) (This)->lpVtbl->AddRef(This)
#define IDmaChannel_Release(This) (This)->lpVtbl->Release(This)
/* PASSIVE_LEVEL: one physically contiguous common buffer. */
#define IDmaChannel_AllocateBuffer(This, Size, Constraint) (This)->lpVtbl->AllocateBuffer((This), (Size), (Constraint))
#define IDmaChannel_FreeBuffer(This) (This)->lpVtbl->FreeBuffer(This)
#define IDmaChannel_TransferCount(This) (This)->lpVtbl->TransferCount(This)
#define IDmaChannel_MaximumBufferSize(This) (This)->lpVtbl->MaximumBufferSize(This)
#define IDmaChannel_AllocatedBufferSize(This) (This)->lpVtbl->AllocatedBufferSize(This)
#define IDmaChannel_BufferSize(This) (This)->lpVtbl->BufferSize(This)
#define IDmaChannel_SetBufferSize(This, Size) (This)->lpVtbl->SetBufferSize((This), (Size))
#define IDmaChannel_SystemAddress(This) (This)->lpVtbl->SystemAddress(This)
#define IDmaChannel_PhysicalAddress(This) (This)->lpVtbl->PhysicalAddress(This)
#define IDmaChannel_GetAdapterObject(This) (This)->lpVtbl->GetAdapterObject(This)
#define IDmaChannel_CopyTo(This, Dst, Src, Count) (This)->lpVtbl->CopyTo((This), (Dst), (Src), (Count))
#define IDmaChannel_CopyFrom(This, Dst, Src, Count) (This)->lpVtbl->CopyFrom((This), (Dst), (Src), (Count))

/* ---- the port --------------------------------------------------------------------------- */

typedef struct IPortWavePciStream IPortWavePciStream, *PPORTWAVEPCISTREAM;
typedef struct IPortWavePciStreamVtbl {
    KSL_IUNKNOWN_METHODS(IPortWavePciStream);
    NTSTATUS (*GetMapping)(IPortWavePciStream *This, PVOID Tag, PPHYSICAL_ADDRESS PhysicalAddress,
                           PVOID *VirtualAddress, PULONG ByteCount, PULONG Flags);
    NTSTATUS (*ReleaseMapping)(IPortWavePciStream *This, PVOID Tag);
    NTSTATUS (*TerminatePacket)(IPortWavePciStream *This);
} IPortWavePciStreamVtbl;
struct IPortWavePciStream {
    const IPortWavePciStreamVtbl *lpVtbl;
};
#define IPortWavePciStream_AddRef(This) (This)->lpVtbl->AddRef(This)
#define IPortWavePciStream_Release(This) (This)->lpVtbl->Release(This)
/* <= DISPATCH_LEVEL.  Hold no spin lock of your own across these three (rule W3). */
#define IPortWavePciStream_GetMapping(This, Tag, Pa, Va, Count, Flags) \
    (KSL_PCL_SITE_(), (This)->lpVtbl->GetMapping((This), (Tag), (Pa), (Va), (Count), (Flags)))
#define IPortWavePciStream_ReleaseMapping(This, Tag) (KSL_PCL_SITE_(), (This)->lpVtbl->ReleaseMapping((This), (Tag)))
#define IPortWavePciStream_TerminatePacket(This) (KSL_PCL_SITE_(), (This)->lpVtbl->TerminatePacket(This))

typedef struct IPortWavePci IPortWavePci, *PPORTWAVEPCI;
typedef struct IPortWavePciVtbl {
    KSL_IUNKNOWN_METHODS(IPortWavePci);
    NTSTATUS (*Init)(IPortWavePci *This, PDEVICE_OBJECT DeviceObject, PIRP Irp, PUNKNOWN UnknownMiniport,
                     PUNKNOWN UnknownAdapter, PRESOURCELIST ResourceList);
    NTSTATUS (*GetDeviceProperty)(IPortWavePci *This, ULONG DeviceProperty, ULONG BufferLength, PVOID PropertyBuffer,
                                  PULONG ResultLength);
    NTSTATUS (*NewRegistryKey)(IPortWavePci *This, PVOID *OutRegistryKey, PUNKNOWN OuterUnknown, ULONG RegistryKeyType,
                               ULONG DesiredAccess, PVOID ObjectAttributes, ULONG CreateOptions, PULONG Disposition);
    void (*Notify)(IPortWavePci *This, PSERVICEGROUP ServiceGroup);
    NTSTATUS (*NewMasterDmaChannel)(IPortWavePci *This, PDMACHANNEL *OutDmaChannel, PUNKNOWN OuterUnknown,
                                    POOL_TYPE PoolType, PRESOURCELIST ResourceList, BOOLEAN ScatterGather,
                                    BOOLEAN Dma32BitAddresses, BOOLEAN Dma64BitAddresses, BOOLEAN IgnoreCount,
                                    DMA_WIDTH DmaWidth, DMA_SPEED DmaSpeed, ULONG MaximumLength, ULONG DmaPort);
} IPortWavePciVtbl;
struct IPortWavePci {
    const IPortWavePciVtbl *lpVtbl;
};
#define IPortWavePci_AddRef(This) (This)->lpVtbl->AddRef(This)
#define IPortWavePci_Release(This) (This)->lpVtbl->Release(This)
/* Any IRQL (typically the ISR): request service of the group's members. */
#define IPortWavePci_Notify(This, Group) (KSL_PCL_SITE_(), (This)->lpVtbl->Notify((This), (Group)))
/* PASSIVE_LEVEL. */
#define IPortWavePci_NewMasterDmaChannel(This, Out, Outer, Pool, Res, SG, D32, D64, IgnoreCount, Width, Speed, MaxLen, \
                                         DmaPort)                                                                     \
    (This)->lpVtbl->NewMasterDmaChannel((This), (Out), (Outer), (Pool), (Res), (SG), (D32), (D64), (IgnoreCount),     \
                                        (Width), (Speed), (MaxLen), (DmaPort))

/* ---- the miniport ----------------------------------------------------------------------- */

typedef struct IMiniportWavePciStream IMiniportWavePciStream, *PMINIPORTWAVEPCISTREAM;
typedef struct IMiniportWavePciStreamVtbl {
    KSL_IUNKNOWN_METHODS(IMiniportWavePciStream);
    NTSTATUS (*SetFormat)(IMiniportWavePciStream *This, PKSDATAFORMAT DataFormat);     /* PASSIVE_LEVEL */
    NTSTATUS (*SetState)(IMiniportWavePciStream *This, KSSTATE State);                 /* PASSIVE_LEVEL */
    NTSTATUS (*GetPosition)(IMiniportWavePciStream *This, PULONGLONG Position);        /* PASSIVE_LEVEL */
    NTSTATUS (*NormalizePhysicalPosition)(IMiniportWavePciStream *This, PLONGLONG PhysicalPosition); /* any */
    NTSTATUS (*GetAllocatorFraming)(IMiniportWavePciStream *This, PKSALLOCATOR_FRAMING Framing);     /* PASSIVE */
    NTSTATUS (*RevokeMappings)(IMiniportWavePciStream *This, PVOID FirstTag, PVOID LastTag,
                               PULONG MappingsRevoked);                                 /* DISPATCH_LEVEL */
    void (*MappingAvailable)(IMiniportWavePciStream *This);                             /* <= DISPATCH_LEVEL */
    void (*Service)(IMiniportWavePciStream *This);                                      /* DISPATCH_LEVEL */
} IMiniportWavePciStreamVtbl;
struct IMiniportWavePciStream {
    const IMiniportWavePciStreamVtbl *lpVtbl;
};

typedef struct IMiniportWavePci IMiniportWavePci, *PMINIPORTWAVEPCI;
typedef struct IMiniportWavePciVtbl {
    KSL_IUNKNOWN_METHODS(IMiniportWavePci);
    NTSTATUS (*GetDescription)(IMiniportWavePci *This, PPCFILTER_DESCRIPTOR *Description); /* PASSIVE_LEVEL */
    NTSTATUS (*DataRangeIntersection)(IMiniportWavePci *This, ULONG PinId, PKSDATARANGE DataRange,
                                      PKSDATARANGE MatchingDataRange, ULONG OutputBufferLength,
                                      PVOID ResultantFormat, PULONG ResultantFormatLength); /* PASSIVE_LEVEL */
    NTSTATUS (*Init)(IMiniportWavePci *This, PUNKNOWN UnknownAdapter, PRESOURCELIST ResourceList,
                     PPORTWAVEPCI Port, PSERVICEGROUP *ServiceGroup);                   /* PASSIVE_LEVEL */
    NTSTATUS (*NewStream)(IMiniportWavePci *This, PMINIPORTWAVEPCISTREAM *Stream, PUNKNOWN OuterUnknown,
                          POOL_TYPE PoolType, PPORTWAVEPCISTREAM PortStream, ULONG Pin, BOOLEAN Capture,
                          PKSDATAFORMAT DataFormat, PDMACHANNEL *DmaChannel,
                          PSERVICEGROUP *ServiceGroup);                                 /* PASSIVE_LEVEL */
    void (*Service)(IMiniportWavePci *This);                                            /* DISPATCH_LEVEL */
} IMiniportWavePciVtbl;
struct IMiniportWavePci {
    const IMiniportWavePciVtbl *lpVtbl;
};

/* ---- the driver entry point ------------------------------------------------------------- */

/*
 * A WavePci driver, as kslab loads it: built in, or exported by a plugin.  NewMiniport creates
 * the miniport object (reference count 1); kslab then calls its Init with the device's resources.
 * `device` names the device model the driver expects ("ac97").
 */
#define KSL_WAVEPCI_DRIVER_VERSION 1u
typedef struct ksl_wavepci_driver {
    uint32_t version;          /* KSL_WAVEPCI_DRIVER_VERSION */
    const char *name;          /* e.g. "ac97" */
    const char *description;   /* one line */
    const char *device;        /* device model: "ac97" */
    NTSTATUS (*NewMiniport)(PMINIPORTWAVEPCI *Miniport); /* PASSIVE_LEVEL */
} ksl_wavepci_driver;

#ifdef __cplusplus
}
#endif
#endif
