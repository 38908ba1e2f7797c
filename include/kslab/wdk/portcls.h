/* SPDX-License-Identifier: MIT */
/*
 * portcls.h: the PortCls interfaces, descriptors and functions, declared once for C11 and C++17
 * through <basetyps.h>'s DECLARE_INTERFACE_ (C: `lpVtbl` structs with the WDK's C helper
 * macros such as IPortWavePciStream_GetMapping; C++: abstract classes to derive from, with the
 * IMP_I* macros).  Drivers include it as <portcls.h>.
 *
 * Call sites.  The port methods whose call site a finding names (GetMapping, ReleaseMapping,
 * TerminatePacket, Notify, CallSynchronizedRoutine) record the caller's file and line: in C
 * through the helper macros; in C++ through non-virtual inline members of the same name whose
 * default arguments are __builtin_FILE()/__builtin_LINE(), calling the virtual slot, which C++
 * names ksl_sited_<Method> (the vtable layout is the same in both languages).
 *
 * With PUT_GUIDS_HERE defined before the first include, the translation unit defines the
 * DEFINE_GUID interface ids (as the WDK's <portcls.h> does through <initguid.h>).
 *
 * IRQL notes are the WDK's (the port checks them at run time).  Names, signatures, values and
 * layouts follow the WDK's documentation; the text is kslab's.
 */
#ifndef KSLAB_WDK_PORTCLS_H
#define KSLAB_WDK_PORTCLS_H

#ifdef PUT_GUIDS_HERE
#include <kslab/wdk/initguid.h>
#endif

#include <kslab/wdk/wdm.h>
#include <kslab/wdk/punknown.h>
#include <kslab/wdk/ks.h>
#include <kslab/wdk/ksmedia.h>
#include <kslab/wdk/drmk.h>

#ifdef __cplusplus
extern "C" {
#endif

#define PORTCLASSAPI EXTERN_C
#define PCFILTER_NODE KSFILTER_NODE
#define _100NS_UNITS_PER_SECOND 10000000L
#define PORT_CLASS_DEVICE_EXTENSION_SIZE (64 * sizeof(ULONG_PTR))

/* ---- call sites ------------------------------------------------------------------------- */

/* Record the source position of the port call that follows (used by the helpers below).
 * Any IRQL; not a scheduling point. */
void ksl_pcl_call_site(const char *file, int line);
#define KSL_PCL_SITE_() ksl_pcl_call_site(__FILE__, __LINE__)
#ifdef __cplusplus
#define KSL_SITED_(method) ksl_sited_##method
#define KSL_CALLER_ const char *ksl_file = __builtin_FILE(), int ksl_line = __builtin_LINE()
#else
#define KSL_SITED_(method) method
#endif

/* ---- class and interface ids ------------------------------------------------------------ */

DEFINE_GUID(IID_IMiniport, 0xb4c90a24L, 0x5791, 0x11d0, 0x86, 0xf9, 0x00, 0xa0, 0xc9, 0x11, 0xb5, 0x44);
DEFINE_GUID(IID_IPort, 0xb4c90a25L, 0x5791, 0x11d0, 0x86, 0xf9, 0x00, 0xa0, 0xc9, 0x11, 0xb5, 0x44);
DEFINE_GUID(IID_IPortWaveCyclic, 0xb4c90a26L, 0x5791, 0x11d0, 0x86, 0xf9, 0x00, 0xa0, 0xc9, 0x11, 0xb5, 0x44);
DEFINE_GUID(IID_IMiniportWaveCyclic, 0xb4c90a27L, 0x5791, 0x11d0, 0x86, 0xf9, 0x00, 0xa0, 0xc9, 0x11, 0xb5, 0x44);
DEFINE_GUID(CLSID_PortWaveCyclic, 0xb4c90a2aL, 0x5791, 0x11d0, 0x86, 0xf9, 0x00, 0xa0, 0xc9, 0x11, 0xb5, 0x44);
DEFINE_GUID(IID_IPortTopology, 0xb4c90a30L, 0x5791, 0x11d0, 0x86, 0xf9, 0x00, 0xa0, 0xc9, 0x11, 0xb5, 0x44);
DEFINE_GUID(IID_IMiniportTopology, 0xb4c90a31L, 0x5791, 0x11d0, 0x86, 0xf9, 0x00, 0xa0, 0xc9, 0x11, 0xb5, 0x44);
DEFINE_GUID(CLSID_PortTopology, 0xb4c90a32L, 0x5791, 0x11d0, 0x86, 0xf9, 0x00, 0xa0, 0xc9, 0x11, 0xb5, 0x44);
DEFINE_GUID(IID_IPortWavePci, 0xb4c90a50L, 0x5791, 0x11d0, 0x86, 0xf9, 0x00, 0xa0, 0xc9, 0x11, 0xb5, 0x44);
DEFINE_GUID(IID_IPortWavePciStream, 0xb4c90a51L, 0x5791, 0x11d0, 0x86, 0xf9, 0x00, 0xa0, 0xc9, 0x11, 0xb5, 0x44);
DEFINE_GUID(IID_IMiniportWavePci, 0xb4c90a52L, 0x5791, 0x11d0, 0x86, 0xf9, 0x00, 0xa0, 0xc9, 0x11, 0xb5, 0x44);
DEFINE_GUID(IID_IMiniportWavePciStream, 0xb4c90a53L, 0x5791, 0x11d0, 0x86, 0xf9, 0x00, 0xa0, 0xc9, 0x11, 0xb5, 0x44);
DEFINE_GUID(CLSID_PortWavePci, 0xb4c90a54L, 0x5791, 0x11d0, 0x86, 0xf9, 0x00, 0xa0, 0xc9, 0x11, 0xb5, 0x44);
DEFINE_GUID(CLSID_PortWaveRT, 0xcc9be57aL, 0xeb9e, 0x42b4, 0x94, 0xfc, 0x0c, 0xad, 0x3d, 0xbc, 0xe7, 0xfa);
DEFINE_GUID(IID_IPortWaveRT, 0x339ff909L, 0x68a9, 0x4310, 0xb0, 0x9b, 0x27, 0x4e, 0x96, 0xee, 0x4c, 0xbd);
DEFINE_GUID(IID_IMiniportWaveRT, 0x0f9fc4d6L, 0x6061, 0x4f3c, 0xb1, 0xfc, 0x07, 0x5e, 0x35, 0xf7, 0x96, 0x0a);
DEFINE_GUID(IID_IResourceList, 0x22C6AC60L, 0x851B, 0x11D0, 0x9A, 0x7F, 0x00, 0xAA, 0x00, 0x38, 0xAC, 0xFE);
DEFINE_GUID(IID_IDmaChannel, 0x22C6AC61L, 0x851B, 0x11D0, 0x9A, 0x7F, 0x00, 0xAA, 0x00, 0x38, 0xAC, 0xFE);
DEFINE_GUID(IID_IDmaChannelSlave, 0x22C6AC62L, 0x851B, 0x11D0, 0x9A, 0x7F, 0x00, 0xAA, 0x00, 0x38, 0xAC, 0xFE);
DEFINE_GUID(IID_IInterruptSync, 0x22C6AC63L, 0x851B, 0x11D0, 0x9A, 0x7F, 0x00, 0xAA, 0x00, 0x38, 0xAC, 0xFE);
DEFINE_GUID(IID_IServiceSink, 0x22C6AC64L, 0x851B, 0x11D0, 0x9A, 0x7F, 0x00, 0xAA, 0x00, 0x38, 0xAC, 0xFE);
DEFINE_GUID(IID_IServiceGroup, 0x22C6AC65L, 0x851B, 0x11D0, 0x9A, 0x7F, 0x00, 0xAA, 0x00, 0x38, 0xAC, 0xFE);
DEFINE_GUID(IID_IRegistryKey, 0xE8DA4302L, 0xF304, 0x11D0, 0x95, 0x8B, 0x00, 0xC0, 0x4F, 0xB9, 0x25, 0xD3);
DEFINE_GUID(IID_IAdapterPowerManagement, 0x793417D0L, 0x35FE, 0x11D1, 0xAD, 0x08, 0x00, 0xA0, 0xC9, 0x0A, 0xB1, 0xB0);
DEFINE_GUID(IID_IPowerNotify, 0x3DD648B8L, 0x969F, 0x11D1, 0x95, 0xA9, 0x00, 0xC0, 0x4F, 0xB9, 0x25, 0xD3);
DEFINE_GUID(IID_IPortEvents, 0xA80F29C4L, 0x5498, 0x11D2, 0x95, 0xD9, 0x00, 0xC0, 0x4F, 0xB9, 0x25, 0xD3);
DEFINE_GUID(IID_IPinCount, 0x5dadb7dcL, 0xa2cb, 0x4540, 0xa4, 0xa8, 0x42, 0x5e, 0xe4, 0xae, 0x90, 0x51);
DEFINE_GUID(IID_IPreFetchOffset, 0x7000f480L, 0xed44, 0x4e8b, 0xb3, 0x8a, 0x41, 0x2f, 0x8d, 0x7a, 0x50, 0x4d);
DEFINE_GUID(IID_IPortClsVersion, 0x7D89A7BBL, 0x869B, 0x4567, 0x8D, 0xBE, 0x1E, 0x16, 0x8C, 0xC8, 0x53, 0xDE);
DEFINE_GUID(IID_IUnregisterSubdevice, 0x16738177L, 0xe199, 0x41f9, 0x9a, 0x87, 0xab, 0xb2, 0xa5, 0x43, 0x2f, 0x21);

/* ---- property, method and event tables -------------------------------------------------- */

typedef struct _PCPROPERTY_REQUEST PCPROPERTY_REQUEST, *PPCPROPERTY_REQUEST;
typedef NTSTATUS (*PCPFNPROPERTY_HANDLER)(PPCPROPERTY_REQUEST PropertyRequest);

#define PCPROPERTY_ITEM_FLAG_GET KSPROPERTY_TYPE_GET
#define PCPROPERTY_ITEM_FLAG_SET KSPROPERTY_TYPE_SET
#define PCPROPERTY_ITEM_FLAG_BASICSUPPORT KSPROPERTY_TYPE_BASICSUPPORT
#define PCPROPERTY_ITEM_FLAG_SERIALIZERAW KSPROPERTY_TYPE_SERIALIZERAW
#define PCPROPERTY_ITEM_FLAG_UNSERIALIZERAW KSPROPERTY_TYPE_UNSERIALIZERAW
#define PCPROPERTY_ITEM_FLAG_SERIALIZESIZE KSPROPERTY_TYPE_SERIALIZESIZE
#define PCPROPERTY_ITEM_FLAG_SERIALIZE \
    (PCPROPERTY_ITEM_FLAG_SERIALIZERAW | PCPROPERTY_ITEM_FLAG_UNSERIALIZERAW | PCPROPERTY_ITEM_FLAG_SERIALIZESIZE)
#define PCPROPERTY_ITEM_FLAG_DEFAULTVALUES KSPROPERTY_TYPE_DEFAULTVALUES

typedef struct {
    const GUID *Set;
    ULONG Id;
    ULONG Flags;
    PCPFNPROPERTY_HANDLER Handler;
} PCPROPERTY_ITEM, *PPCPROPERTY_ITEM;

/* What a property handler is given: the target objects, the node, the item, the verb
 * (PCPROPERTY_ITEM_FLAG_*), the instance data after the KSPROPERTY and the value buffer. */
struct _PCPROPERTY_REQUEST {
    PUNKNOWN MajorTarget;
    PUNKNOWN MinorTarget;
    ULONG Node;
    const PCPROPERTY_ITEM *PropertyItem;
    ULONG Verb;
    ULONG InstanceSize;
    PVOID Instance;
    ULONG ValueSize;
    PVOID Value;
    PIRP Irp;
};

#define PCMETHOD_ITEM_FLAG_NONE KSMETHOD_TYPE_NONE
#define PCMETHOD_ITEM_FLAG_READ KSMETHOD_TYPE_READ
#define PCMETHOD_ITEM_FLAG_WRITE KSMETHOD_TYPE_WRITE
#define PCMETHOD_ITEM_FLAG_MODIFY KSMETHOD_TYPE_MODIFY
#define PCMETHOD_ITEM_FLAG_SOURCE KSMETHOD_TYPE_SOURCE
#define PCMETHOD_ITEM_FLAG_BASICSUPPORT KSMETHOD_TYPE_BASICSUPPORT

struct _PCMETHOD_REQUEST;
typedef NTSTATUS (*PCPFNMETHOD_HANDLER)(struct _PCMETHOD_REQUEST *MethodRequest);
typedef struct {
    const GUID *Set;
    ULONG Id;
    ULONG Flags;
    PCPFNMETHOD_HANDLER Handler;
} PCMETHOD_ITEM, *PPCMETHOD_ITEM;
typedef struct _PCMETHOD_REQUEST {
    PUNKNOWN MajorTarget;
    PUNKNOWN MinorTarget;
    ULONG Node;
    const PCMETHOD_ITEM *MethodItem;
    ULONG Verb;
} PCMETHOD_REQUEST, *PPCMETHOD_REQUEST;

#define PCEVENT_ITEM_FLAG_ENABLE KSEVENT_TYPE_ENABLE
#define PCEVENT_ITEM_FLAG_ONESHOT KSEVENT_TYPE_ONESHOT
#define PCEVENT_ITEM_FLAG_BASICSUPPORT KSEVENT_TYPE_BASICSUPPORT
#define PCEVENT_VERB_NONE 0
#define PCEVENT_VERB_ADD 1
#define PCEVENT_VERB_REMOVE 2
#define PCEVENT_VERB_SUPPORT 4

struct _PCEVENT_REQUEST;
typedef NTSTATUS (*PCPFNEVENT_HANDLER)(struct _PCEVENT_REQUEST *EventRequest);
typedef struct {
    const GUID *Set;
    ULONG Id;
    ULONG Flags;
    PCPFNEVENT_HANDLER Handler;
} PCEVENT_ITEM, *PPCEVENT_ITEM;
typedef struct _PCEVENT_REQUEST {
    PUNKNOWN MajorTarget;
    PUNKNOWN MinorTarget;
    ULONG Node;
    const PCEVENT_ITEM *EventItem;
    PKSEVENT_ENTRY EventEntry;
    ULONG Verb;
    PIRP Irp;
} PCEVENT_REQUEST, *PPCEVENT_REQUEST;

typedef struct {
    ULONG PropertyItemSize;
    ULONG PropertyCount;
    const PCPROPERTY_ITEM *Properties;
    ULONG MethodItemSize;
    ULONG MethodCount;
    const PCMETHOD_ITEM *Methods;
    ULONG EventItemSize;
    ULONG EventCount;
    const PCEVENT_ITEM *Events;
    ULONG Reserved;
} PCAUTOMATION_TABLE, *PPCAUTOMATION_TABLE;

#define DEFINE_PCAUTOMATION_TABLE_PROP(AutomationTable, PropertyTable)                                        \
    const PCAUTOMATION_TABLE AutomationTable = {sizeof(PropertyTable[0]), SIZEOF_ARRAY(PropertyTable),         \
                                                (const PCPROPERTY_ITEM *)PropertyTable, 0, 0, NULL, 0, 0, NULL, 0}
#define DEFINE_PCAUTOMATION_TABLE_PROP_EVENT(AutomationTable, PropertyTable, EventTable)                      \
    const PCAUTOMATION_TABLE AutomationTable = {sizeof(PropertyTable[0]), SIZEOF_ARRAY(PropertyTable),         \
                                                (const PCPROPERTY_ITEM *)PropertyTable, 0, 0, NULL,             \
                                                sizeof(EventTable[0]), SIZEOF_ARRAY(EventTable),               \
                                                (const PCEVENT_ITEM *)EventTable, 0}

/* ---- filter descriptors ----------------------------------------------------------------- */

/* The port walks Pins and Nodes with PinSize and NodeSize strides, so a driver may append its
 * own data to each descriptor. */
typedef struct {
    ULONG MaxGlobalInstanceCount;
    ULONG MaxFilterInstanceCount;
    ULONG MinFilterInstanceCount;
    const PCAUTOMATION_TABLE *AutomationTable;
    KSPIN_DESCRIPTOR KsPinDescriptor;
} PCPIN_DESCRIPTOR, *PPCPIN_DESCRIPTOR;

typedef struct {
    ULONG Flags;
    const PCAUTOMATION_TABLE *AutomationTable;
    const GUID *Type;
    const GUID *Name;
} PCNODE_DESCRIPTOR, *PPCNODE_DESCRIPTOR;

typedef struct {
    ULONG FromNode;
    ULONG FromNodePin;
    ULONG ToNode;
    ULONG ToNodePin;
} PCCONNECTION_DESCRIPTOR, *PPCCONNECTION_DESCRIPTOR;

typedef struct {
    ULONG Version;
    const PCAUTOMATION_TABLE *AutomationTable;
    ULONG PinSize;
    ULONG PinCount;
    const PCPIN_DESCRIPTOR *Pins;
    ULONG NodeSize;
    ULONG NodeCount;
    const PCNODE_DESCRIPTOR *Nodes;
    ULONG ConnectionCount;
    const PCCONNECTION_DESCRIPTOR *Connections;
    ULONG CategoryCount;
    const GUID *Categories;
} PCFILTER_DESCRIPTOR, *PPCFILTER_DESCRIPTOR;

/* ---- IResourceList ---------------------------------------------------------------------- */

#undef INTERFACE
#define INTERFACE IResourceList
DECLARE_INTERFACE_(IResourceList, IUnknown)
{
    DEFINE_ABSTRACT_UNKNOWN()
    STDMETHOD_(ULONG, NumberOfEntries)(THIS) PURE;
    STDMETHOD_(ULONG, NumberOfEntriesOfType)(THIS_ CM_RESOURCE_TYPE Type) PURE;
    STDMETHOD_(PCM_PARTIAL_RESOURCE_DESCRIPTOR, FindTranslatedEntry)(THIS_ CM_RESOURCE_TYPE Type, ULONG Index) PURE;
    STDMETHOD_(PCM_PARTIAL_RESOURCE_DESCRIPTOR, FindUntranslatedEntry)(THIS_ CM_RESOURCE_TYPE Type, ULONG Index) PURE;
    STDMETHOD_(NTSTATUS, AddEntry)(THIS_ PCM_PARTIAL_RESOURCE_DESCRIPTOR Translated,
                                   PCM_PARTIAL_RESOURCE_DESCRIPTOR Untranslated) PURE;
    STDMETHOD_(NTSTATUS, AddEntryFromParent)(THIS_ IResourceList *Parent, CM_RESOURCE_TYPE Type, ULONG Index) PURE;
    STDMETHOD_(PCM_RESOURCE_LIST, TranslatedList)(THIS) PURE;
    STDMETHOD_(PCM_RESOURCE_LIST, UntranslatedList)(THIS) PURE;
};
typedef IResourceList *PRESOURCELIST;

#define IMP_IResourceList                                                                                   \
    STDMETHODIMP_(ULONG) NumberOfEntries(void);                                                             \
    STDMETHODIMP_(ULONG) NumberOfEntriesOfType(CM_RESOURCE_TYPE Type);                                      \
    STDMETHODIMP_(PCM_PARTIAL_RESOURCE_DESCRIPTOR) FindTranslatedEntry(CM_RESOURCE_TYPE Type, ULONG Index);  \
    STDMETHODIMP_(PCM_PARTIAL_RESOURCE_DESCRIPTOR) FindUntranslatedEntry(CM_RESOURCE_TYPE Type, ULONG Index); \
    STDMETHODIMP_(NTSTATUS) AddEntry(PCM_PARTIAL_RESOURCE_DESCRIPTOR Translated,                            \
                                     PCM_PARTIAL_RESOURCE_DESCRIPTOR Untranslated);                         \
    STDMETHODIMP_(NTSTATUS) AddEntryFromParent(IResourceList *Parent, CM_RESOURCE_TYPE Type, ULONG Index);  \
    STDMETHODIMP_(PCM_RESOURCE_LIST) TranslatedList(void);                                                  \
    STDMETHODIMP_(PCM_RESOURCE_LIST) UntranslatedList(void)

/* The WDK's per-type shorthands, used as `list->NumberOfPorts()` in C++. */
#define NumberOfPorts() NumberOfEntriesOfType(CmResourceTypePort)
#define FindTranslatedPort(n) FindTranslatedEntry(CmResourceTypePort, (n))
#define FindUntranslatedPort(n) FindUntranslatedEntry(CmResourceTypePort, (n))
#define AddPortFromParent(p, n) AddEntryFromParent((p), CmResourceTypePort, (n))
#define NumberOfInterrupts() NumberOfEntriesOfType(CmResourceTypeInterrupt)
#define FindTranslatedInterrupt(n) FindTranslatedEntry(CmResourceTypeInterrupt, (n))
#define FindUntranslatedInterrupt(n) FindUntranslatedEntry(CmResourceTypeInterrupt, (n))
#define AddInterruptFromParent(p, n) AddEntryFromParent((p), CmResourceTypeInterrupt, (n))
#define NumberOfMemories() NumberOfEntriesOfType(CmResourceTypeMemory)
#define FindTranslatedMemory(n) FindTranslatedEntry(CmResourceTypeMemory, (n))
#define FindUntranslatedMemory(n) FindUntranslatedEntry(CmResourceTypeMemory, (n))
#define AddMemoryFromParent(p, n) AddEntryFromParent((p), CmResourceTypeMemory, (n))
#define NumberOfDmas() NumberOfEntriesOfType(CmResourceTypeDma)
#define FindTranslatedDma(n) FindTranslatedEntry(CmResourceTypeDma, (n))
#define FindUntranslatedDma(n) FindUntranslatedEntry(CmResourceTypeDma, (n))
#define AddDmaFromParent(p, n) AddEntryFromParent((p), CmResourceTypeDma, (n))

/* C helpers.  Any IRQL. */
#define IResourceList_AddRef(This) (This)->lpVtbl->AddRef(This)
#define IResourceList_Release(This) (This)->lpVtbl->Release(This)
#define IResourceList_NumberOfEntries(This) (This)->lpVtbl->NumberOfEntries(This)
#define IResourceList_NumberOfEntriesOfType(This, Type) (This)->lpVtbl->NumberOfEntriesOfType((This), (Type))
#define IResourceList_FindTranslatedEntry(This, Type, Index) (This)->lpVtbl->FindTranslatedEntry((This), (Type), (Index))
#define IResourceList_FindUntranslatedEntry(This, Type, Index) \
    (This)->lpVtbl->FindUntranslatedEntry((This), (Type), (Index))
#define IResourceList_NumberOfPorts(This) IResourceList_NumberOfEntriesOfType((This), CmResourceTypePort)
#define IResourceList_FindTranslatedPort(This, Index) IResourceList_FindTranslatedEntry((This), CmResourceTypePort, (Index))
#define IResourceList_NumberOfInterrupts(This) IResourceList_NumberOfEntriesOfType((This), CmResourceTypeInterrupt)
#define IResourceList_FindTranslatedInterrupt(This, Index) \
    IResourceList_FindTranslatedEntry((This), CmResourceTypeInterrupt, (Index))

/* Create a resource list from CM resource lists (kslab copies the partial descriptors of the
 * first full descriptor).  PASSIVE_LEVEL. */
PORTCLASSAPI NTSTATUS NTAPI PcNewResourceList(PRESOURCELIST *OutResourceList, PUNKNOWN OuterUnknown, POOL_TYPE PoolType,
                                              PCM_RESOURCE_LIST TranslatedResources,
                                              PCM_RESOURCE_LIST UntranslatedResources);
/* Create an empty list that can take up to MaximumEntries entries of ParentList.  PASSIVE_LEVEL. */
PORTCLASSAPI NTSTATUS NTAPI PcNewResourceSublist(PRESOURCELIST *OutResourceList, PUNKNOWN OuterUnknown,
                                                 POOL_TYPE PoolType, PRESOURCELIST ParentList, ULONG MaximumEntries);

/* ---- service sinks and groups ----------------------------------------------------------- */

#undef INTERFACE
#define INTERFACE IServiceSink
DECLARE_INTERFACE_(IServiceSink, IUnknown)
{
    DEFINE_ABSTRACT_UNKNOWN()
    STDMETHOD_(void, RequestService)(THIS) PURE; /* DISPATCH_LEVEL */
};
typedef IServiceSink *PSERVICESINK;
#define IMP_IServiceSink STDMETHODIMP_(void) RequestService(void)
#define IServiceSink_RequestService(This) (This)->lpVtbl->RequestService(This)

#undef INTERFACE
#define INTERFACE IServiceGroup
DECLARE_INTERFACE_(IServiceGroup, IServiceSink)
{
    DEFINE_ABSTRACT_UNKNOWN()
    STDMETHOD_(void, RequestService)(THIS) PURE;                         /* any IRQL: queues the group's DPC */
    STDMETHOD_(NTSTATUS, AddMember)(THIS_ PSERVICESINK pServiceSink) PURE; /* <= DISPATCH_LEVEL */
    STDMETHOD_(void, RemoveMember)(THIS_ PSERVICESINK pServiceSink) PURE;  /* <= DISPATCH_LEVEL */
    STDMETHOD_(void, SupportDelayedService)(THIS) PURE;                  /* <= DISPATCH_LEVEL */
    STDMETHOD_(void, RequestDelayedService)(THIS_ ULONGLONG ullDelay) PURE; /* <= DISPATCH; 100 ns units */
    STDMETHOD_(void, CancelDelayedService)(THIS) PURE;                   /* <= DISPATCH_LEVEL */
};
typedef IServiceGroup *PSERVICEGROUP;
#define IMP_IServiceGroup                                          \
    IMP_IServiceSink;                                              \
    STDMETHODIMP_(NTSTATUS) AddMember(PSERVICESINK pServiceSink);  \
    STDMETHODIMP_(void) RemoveMember(PSERVICESINK pServiceSink);   \
    STDMETHODIMP_(void) SupportDelayedService(void);               \
    STDMETHODIMP_(void) RequestDelayedService(ULONGLONG ullDelay); \
    STDMETHODIMP_(void) CancelDelayedService(void)
#define IServiceGroup_AddRef(This) (This)->lpVtbl->AddRef(This)
#define IServiceGroup_Release(This) (This)->lpVtbl->Release(This)
#define IServiceGroup_RequestService(This) (This)->lpVtbl->RequestService(This)
#define IServiceGroup_AddMember(This, Sink) (This)->lpVtbl->AddMember((This), (Sink))
#define IServiceGroup_RemoveMember(This, Sink) (This)->lpVtbl->RemoveMember((This), (Sink))
#define IServiceGroup_SupportDelayedService(This) (This)->lpVtbl->SupportDelayedService(This)
#define IServiceGroup_RequestDelayedService(This, Delay) (This)->lpVtbl->RequestDelayedService((This), (Delay))
#define IServiceGroup_CancelDelayedService(This) (This)->lpVtbl->CancelDelayedService(This)

/* Create a service group (reference count 1).  PASSIVE_LEVEL. */
PORTCLASSAPI NTSTATUS NTAPI PcNewServiceGroup(PSERVICEGROUP *OutServiceGroup, PUNKNOWN OuterUnknown);

/* ---- power ------------------------------------------------------------------------------ */

/* A miniport or stream object that answers QueryInterface(IID_IPowerNotify) is told of device
 * power changes.  Going down, the port pauses the running streams first; coming up, it
 * restarts them after.  PASSIVE_LEVEL. */
#undef INTERFACE
#define INTERFACE IPowerNotify
DECLARE_INTERFACE_(IPowerNotify, IUnknown)
{
    DEFINE_ABSTRACT_UNKNOWN()
    STDMETHOD_(void, PowerChangeNotify)(THIS_ POWER_STATE PowerState) PURE; /* PASSIVE_LEVEL */
};
typedef IPowerNotify *PPOWERNOTIFY;
#define IMP_IPowerNotify STDMETHODIMP_(void) PowerChangeNotify(POWER_STATE PowerState)
#define IPowerNotify_Release(This) (This)->lpVtbl->Release(This)
#define IPowerNotify_PowerChangeNotify(This, State) (This)->lpVtbl->PowerChangeNotify((This), (State))

/* The adapter's power interface, registered with PcRegisterAdapterPowerManagement.
 * PASSIVE_LEVEL. */
#undef INTERFACE
#define INTERFACE IAdapterPowerManagement
DECLARE_INTERFACE_(IAdapterPowerManagement, IUnknown)
{
    DEFINE_ABSTRACT_UNKNOWN()
    STDMETHOD_(void, PowerChangeState)(THIS_ POWER_STATE NewState) PURE;
    STDMETHOD_(NTSTATUS, QueryPowerChangeState)(THIS_ POWER_STATE NewStateQuery) PURE;
    STDMETHOD_(NTSTATUS, QueryDeviceCapabilities)(THIS_ PDEVICE_CAPABILITIES PowerDeviceCaps) PURE;
};
typedef IAdapterPowerManagement *PADAPTERPOWERMANAGEMENT;
#define IMP_IAdapterPowerManagement                                    \
    STDMETHODIMP_(void) PowerChangeState(POWER_STATE NewState);        \
    STDMETHODIMP_(NTSTATUS) QueryPowerChangeState(POWER_STATE NewStateQuery); \
    STDMETHODIMP_(NTSTATUS) QueryDeviceCapabilities(PDEVICE_CAPABILITIES PowerDeviceCaps)

/* ---- interrupt sync --------------------------------------------------------------------- */

typedef enum { InterruptSyncModeNormal = 1, InterruptSyncModeAll, InterruptSyncModeRepeat } INTERRUPTSYNCMODE;
struct IInterruptSync;
typedef NTSTATUS (*PINTERRUPTSYNCROUTINE)(struct IInterruptSync *InterruptSync, PVOID DynamicContext);

#undef INTERFACE
#define INTERFACE IInterruptSync
DECLARE_INTERFACE_(IInterruptSync, IUnknown)
{
    DEFINE_ABSTRACT_UNKNOWN()
    /* IRQL <= the interrupt's DIRQL. */
    STDMETHOD_(NTSTATUS, KSL_SITED_(CallSynchronizedRoutine))(THIS_ PINTERRUPTSYNCROUTINE Routine,
                                                             PVOID DynamicContext) PURE;
    STDMETHOD_(PKINTERRUPT, GetKInterrupt)(THIS) PURE;
    STDMETHOD_(NTSTATUS, Connect)(THIS) PURE;   /* PASSIVE_LEVEL */
    STDMETHOD_(void, Disconnect)(THIS) PURE;    /* PASSIVE_LEVEL */
    STDMETHOD_(NTSTATUS, RegisterServiceRoutine)(THIS_ PINTERRUPTSYNCROUTINE Routine, PVOID DynamicContext,
                                                 BOOLEAN First) PURE; /* PASSIVE_LEVEL */
#ifdef __cplusplus
    NTSTATUS CallSynchronizedRoutine(PINTERRUPTSYNCROUTINE Routine, PVOID DynamicContext, KSL_CALLER_)
    {
        ksl_pcl_call_site(ksl_file, ksl_line);
        return ksl_sited_CallSynchronizedRoutine(Routine, DynamicContext);
    }
#endif
};
typedef IInterruptSync *PINTERRUPTSYNC;
#define IInterruptSync_AddRef(This) (This)->lpVtbl->AddRef(This)
#define IInterruptSync_Release(This) (This)->lpVtbl->Release(This)
#define IInterruptSync_CallSynchronizedRoutine(This, Routine, Context) \
    (KSL_PCL_SITE_(), (This)->lpVtbl->CallSynchronizedRoutine((This), (Routine), (Context)))
#define IInterruptSync_GetKInterrupt(This) (This)->lpVtbl->GetKInterrupt(This)
#define IInterruptSync_Connect(This) (This)->lpVtbl->Connect(This)
#define IInterruptSync_Disconnect(This) (This)->lpVtbl->Disconnect(This)
#define IInterruptSync_RegisterServiceRoutine(This, Routine, Context, First) \
    (This)->lpVtbl->RegisterServiceRoutine((This), (Routine), (Context), (First))

/* Create an interrupt sync object for interrupt resource `ResourceIndex`.  PASSIVE_LEVEL. */
PORTCLASSAPI NTSTATUS NTAPI PcNewInterruptSync(PINTERRUPTSYNC *OutInterruptSync, PUNKNOWN OuterUnknown,
                                               PRESOURCELIST ResourceList, ULONG ResourceIndex,
                                               INTERRUPTSYNCMODE Mode);

/* ---- DMA channel ------------------------------------------------------------------------ */

#define DEFINE_ABSTRACT_DMACHANNEL()                                                                       \
    STDMETHOD_(NTSTATUS, AllocateBuffer)(THIS_ ULONG BufferSize, PPHYSICAL_ADDRESS PhysicalAddressConstraint) PURE; \
    STDMETHOD_(void, FreeBuffer)(THIS) PURE;                                                               \
    STDMETHOD_(ULONG, TransferCount)(THIS) PURE;                                                           \
    STDMETHOD_(ULONG, MaximumBufferSize)(THIS) PURE;                                                       \
    STDMETHOD_(ULONG, AllocatedBufferSize)(THIS) PURE;                                                     \
    STDMETHOD_(ULONG, BufferSize)(THIS) PURE;                                                              \
    STDMETHOD_(void, SetBufferSize)(THIS_ ULONG BufferSize) PURE;                                          \
    STDMETHOD_(PVOID, SystemAddress)(THIS) PURE;                                                           \
    STDMETHOD_(PHYSICAL_ADDRESS, PhysicalAddress)(THIS) PURE;                                              \
    STDMETHOD_(PADAPTER_OBJECT, GetAdapterObject)(THIS) PURE;                                              \
    STDMETHOD_(void, CopyTo)(THIS_ PVOID Destination, PVOID Source, ULONG ByteCount) PURE;                 \
    STDMETHOD_(void, CopyFrom)(THIS_ PVOID Destination, PVOID Source, ULONG ByteCount) PURE;

#undef INTERFACE
#define INTERFACE IDmaChannel
DECLARE_INTERFACE_(IDmaChannel, IUnknown)
{
    DEFINE_ABSTRACT_UNKNOWN()
    DEFINE_ABSTRACT_DMACHANNEL()
};
typedef IDmaChannel *PDMACHANNEL;
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

#undef INTERFACE
#define INTERFACE IDmaChannelSlave
DECLARE_INTERFACE_(IDmaChannelSlave, IDmaChannel)
{
    DEFINE_ABSTRACT_UNKNOWN()
    DEFINE_ABSTRACT_DMACHANNEL()
    STDMETHOD_(NTSTATUS, Start)(THIS_ ULONG MapSize, BOOLEAN WriteToDevice) PURE;
    STDMETHOD_(NTSTATUS, Stop)(THIS) PURE;
    STDMETHOD_(ULONG, ReadCounter)(THIS) PURE;
    STDMETHOD_(NTSTATUS, WaitForTC)(THIS_ ULONG Timeout) PURE;
};
typedef IDmaChannelSlave *PDMACHANNELSLAVE;


/* ---- registry keys ---------------------------------------------------------------------- */

enum { GeneralRegistryKey, DeviceRegistryKey, DriverRegistryKey, HwProfileRegistryKey, DeviceInterfaceRegistryKey };

#undef INTERFACE
#define INTERFACE IRegistryKey
DECLARE_INTERFACE_(IRegistryKey, IUnknown)
{
    DEFINE_ABSTRACT_UNKNOWN()
    STDMETHOD_(NTSTATUS, QueryKey)(THIS_ KEY_INFORMATION_CLASS KeyInformationClass, PVOID KeyInformation,
                                   ULONG Length, PULONG ResultLength) PURE;
    STDMETHOD_(NTSTATUS, EnumerateKey)(THIS_ ULONG Index, KEY_INFORMATION_CLASS KeyInformationClass,
                                       PVOID KeyInformation, ULONG Length, PULONG ResultLength) PURE;
    STDMETHOD_(NTSTATUS, QueryValueKey)(THIS_ PUNICODE_STRING ValueName,
                                        KEY_VALUE_INFORMATION_CLASS KeyValueInformationClass,
                                        PVOID KeyValueInformation, ULONG Length, PULONG ResultLength) PURE;
    STDMETHOD_(NTSTATUS, EnumerateValueKey)(THIS_ ULONG Index, KEY_VALUE_INFORMATION_CLASS KeyValueInformationClass,
                                            PVOID KeyValueInformation, ULONG Length, PULONG ResultLength) PURE;
    STDMETHOD_(NTSTATUS, SetValueKey)(THIS_ PUNICODE_STRING ValueName, ULONG Type, PVOID Data, ULONG DataSize) PURE;
    STDMETHOD_(NTSTATUS, QueryRegistryValues)(THIS_ PRTL_QUERY_REGISTRY_TABLE QueryTable, PVOID Context) PURE;
    STDMETHOD_(NTSTATUS, NewSubKey)(THIS_ IRegistryKey **RegistrySubKey, PUNKNOWN OuterUnknown,
                                    ACCESS_MASK DesiredAccess, PUNICODE_STRING SubKeyName, ULONG CreateOptions,
                                    PULONG Disposition) PURE;
    STDMETHOD_(NTSTATUS, DeleteKey)(THIS) PURE;
};
typedef IRegistryKey *PREGISTRYKEY;

/* Open a registry key of the adapter (RegistryKeyType: DeviceRegistryKey, DriverRegistryKey,
 * ...).  PASSIVE_LEVEL. */
PORTCLASSAPI NTSTATUS NTAPI PcNewRegistryKey(PREGISTRYKEY *OutRegistryKey, PUNKNOWN OuterUnknown,
                                             ULONG RegistryKeyType, ACCESS_MASK DesiredAccess, PVOID DeviceObject,
                                             PVOID SubDevice, POBJECT_ATTRIBUTES ObjectAttributes,
                                             ULONG CreateOptions, PULONG Disposition);

/* ---- ports ------------------------------------------------------------------------------ */

#define DEFINE_ABSTRACT_PORT()                                                                               \
    STDMETHOD_(NTSTATUS, Init)(THIS_ PDEVICE_OBJECT DeviceObject, PIRP Irp, PUNKNOWN UnknownMiniport,         \
                               PUNKNOWN UnknownAdapter, PRESOURCELIST ResourceList) PURE;                    \
    STDMETHOD_(NTSTATUS, GetDeviceProperty)(THIS_ DEVICE_REGISTRY_PROPERTY DeviceProperty, ULONG BufferLength, \
                                            PVOID PropertyBuffer, PULONG ResultLength) PURE;                 \
    STDMETHOD_(NTSTATUS, NewRegistryKey)(THIS_ PREGISTRYKEY *OutRegistryKey, PUNKNOWN OuterUnknown,           \
                                         ULONG RegistryKeyType, ACCESS_MASK DesiredAccess,                    \
                                         POBJECT_ATTRIBUTES ObjectAttributes, ULONG CreateOptions,            \
                                         PULONG Disposition) PURE;

#undef INTERFACE
#define INTERFACE IPort
DECLARE_INTERFACE_(IPort, IUnknown)
{
    DEFINE_ABSTRACT_UNKNOWN()
    DEFINE_ABSTRACT_PORT()
};
typedef IPort *PPORT;
#define IPort_AddRef(This) (This)->lpVtbl->AddRef(This)
#define IPort_Release(This) (This)->lpVtbl->Release(This)
#define IPort_Init(This, DeviceObject, Irp, Miniport, Adapter, Resources) \
    (This)->lpVtbl->Init((This), (DeviceObject), (Irp), (Miniport), (Adapter), (Resources))

#undef INTERFACE
#define INTERFACE IPortTopology
DECLARE_INTERFACE_(IPortTopology, IPort)
{
    DEFINE_ABSTRACT_UNKNOWN()
    DEFINE_ABSTRACT_PORT()
};
typedef IPortTopology *PPORTTOPOLOGY;

#undef INTERFACE
#define INTERFACE IPortWaveRT
DECLARE_INTERFACE_(IPortWaveRT, IPort)
{
    DEFINE_ABSTRACT_UNKNOWN()
    DEFINE_ABSTRACT_PORT()
};
typedef IPortWaveRT *PPORTWAVERT;

#undef INTERFACE
#define INTERFACE IPortWaveCyclic
DECLARE_INTERFACE_(IPortWaveCyclic, IPort)
{
    DEFINE_ABSTRACT_UNKNOWN()
    DEFINE_ABSTRACT_PORT()
    STDMETHOD_(void, Notify)(THIS_ PSERVICEGROUP ServiceGroup) PURE;
    STDMETHOD_(NTSTATUS, NewSlaveDmaChannel)(THIS_ PDMACHANNELSLAVE *DmaChannel, PUNKNOWN OuterUnknown,
                                             PRESOURCELIST ResourceList, ULONG DmaIndex, ULONG MaximumLength,
                                             BOOLEAN DemandMode, DMA_SPEED DmaSpeed) PURE;
    STDMETHOD_(NTSTATUS, NewMasterDmaChannel)(THIS_ PDMACHANNEL *DmaChannel, PUNKNOWN OuterUnknown,
                                              PRESOURCELIST ResourceList, ULONG MaximumLength,
                                              BOOLEAN Dma32BitAddresses, BOOLEAN Dma64BitAddresses,
                                              DMA_WIDTH DmaWidth, DMA_SPEED DmaSpeed) PURE;
};
typedef IPortWaveCyclic *PPORTWAVECYCLIC;

#undef INTERFACE
#define INTERFACE IPortWavePci
DECLARE_INTERFACE_(IPortWavePci, IPort)
{
    DEFINE_ABSTRACT_UNKNOWN()
    DEFINE_ABSTRACT_PORT()
    /* Any IRQL (typically the ISR): request service of the group's members. */
    STDMETHOD_(void, KSL_SITED_(Notify))(THIS_ PSERVICEGROUP ServiceGroup) PURE;
    /* PASSIVE_LEVEL. */
    STDMETHOD_(NTSTATUS, NewMasterDmaChannel)(THIS_ PDMACHANNEL *DmaChannel, PUNKNOWN OuterUnknown,
                                              POOL_TYPE PoolType, PRESOURCELIST ResourceList, BOOLEAN ScatterGather,
                                              BOOLEAN Dma32BitAddresses, BOOLEAN Dma64BitAddresses,
                                              BOOLEAN IgnoreCount, DMA_WIDTH DmaWidth, DMA_SPEED DmaSpeed,
                                              ULONG MaximumLength, ULONG DmaPort) PURE;
#ifdef __cplusplus
    void Notify(PSERVICEGROUP ServiceGroup, KSL_CALLER_)
    {
        ksl_pcl_call_site(ksl_file, ksl_line);
        ksl_sited_Notify(ServiceGroup);
    }
#endif
};
typedef IPortWavePci *PPORTWAVEPCI;
#define IPortWavePci_AddRef(This) (This)->lpVtbl->AddRef(This)
#define IPortWavePci_Release(This) (This)->lpVtbl->Release(This)
#define IPortWavePci_Notify(This, Group) (KSL_PCL_SITE_(), (This)->lpVtbl->Notify((This), (Group)))
#define IPortWavePci_NewMasterDmaChannel(This, Out, Outer, Pool, Res, SG, D32, D64, IgnoreCount, Width, Speed, MaxLen, \
                                         DmaPort)                                                                     \
    (This)->lpVtbl->NewMasterDmaChannel((This), (Out), (Outer), (Pool), (Res), (SG), (D32), (D64), (IgnoreCount),     \
                                        (Width), (Speed), (MaxLen), (DmaPort))

#undef INTERFACE
#define INTERFACE IPortWavePciStream
DECLARE_INTERFACE_(IPortWavePciStream, IUnknown)
{
    DEFINE_ABSTRACT_UNKNOWN()
    /* <= DISPATCH_LEVEL.  Hold no spin lock of your own across these three (rule W3). */
    STDMETHOD_(NTSTATUS, KSL_SITED_(GetMapping))(THIS_ PVOID Tag, PPHYSICAL_ADDRESS PhysicalAddress,
                                                PVOID *VirtualAddress, PULONG ByteCount, PULONG Flags) PURE;
    STDMETHOD_(NTSTATUS, KSL_SITED_(ReleaseMapping))(THIS_ PVOID Tag) PURE;
    STDMETHOD_(NTSTATUS, KSL_SITED_(TerminatePacket))(THIS) PURE;
#ifdef __cplusplus
    NTSTATUS GetMapping(PVOID Tag, PPHYSICAL_ADDRESS PhysicalAddress, PVOID *VirtualAddress, PULONG ByteCount,
                        PULONG Flags, KSL_CALLER_)
    {
        ksl_pcl_call_site(ksl_file, ksl_line);
        return ksl_sited_GetMapping(Tag, PhysicalAddress, VirtualAddress, ByteCount, Flags);
    }
    NTSTATUS ReleaseMapping(PVOID Tag, KSL_CALLER_)
    {
        ksl_pcl_call_site(ksl_file, ksl_line);
        return ksl_sited_ReleaseMapping(Tag);
    }
    NTSTATUS TerminatePacket(KSL_CALLER_)
    {
        ksl_pcl_call_site(ksl_file, ksl_line);
        return ksl_sited_TerminatePacket();
    }
#endif
};
typedef IPortWavePciStream *PPORTWAVEPCISTREAM;
#define IPortWavePciStream_AddRef(This) (This)->lpVtbl->AddRef(This)
#define IPortWavePciStream_Release(This) (This)->lpVtbl->Release(This)
#define IPortWavePciStream_GetMapping(This, Tag, Pa, Va, Count, Flags) \
    (KSL_PCL_SITE_(), (This)->lpVtbl->GetMapping((This), (Tag), (Pa), (Va), (Count), (Flags)))
#define IPortWavePciStream_ReleaseMapping(This, Tag) (KSL_PCL_SITE_(), (This)->lpVtbl->ReleaseMapping((This), (Tag)))
#define IPortWavePciStream_TerminatePacket(This) (KSL_PCL_SITE_(), (This)->lpVtbl->TerminatePacket(This))

/* Event sources of a port: a miniport raises KS events through it.  Any IRQL <= DISPATCH. */
#undef INTERFACE
#define INTERFACE IPortEvents
DECLARE_INTERFACE_(IPortEvents, IUnknown)
{
    DEFINE_ABSTRACT_UNKNOWN()
    STDMETHOD_(void, AddEventToEventList)(THIS_ PKSEVENT_ENTRY EventEntry) PURE;
    STDMETHOD_(void, GenerateEventList)(THIS_ GUID *Set, ULONG EventId, BOOL PinEvent, ULONG PinId, BOOL NodeEvent,
                                        ULONG NodeId) PURE;
};
typedef IPortEvents *PPORTEVENTS;

/* ---- miniports -------------------------------------------------------------------------- */

#define DEFINE_ABSTRACT_MINIPORT()                                                                      \
    STDMETHOD_(NTSTATUS, GetDescription)(THIS_ PPCFILTER_DESCRIPTOR *Description) PURE;                 \
    STDMETHOD_(NTSTATUS, DataRangeIntersection)(THIS_ ULONG PinId, PKSDATARANGE DataRange,              \
                                                PKSDATARANGE MatchingDataRange, ULONG OutputBufferLength, \
                                                PVOID ResultantFormat, PULONG ResultantFormatLength) PURE;

#define IMP_IMiniport                                                                                   \
    STDMETHODIMP_(NTSTATUS) GetDescription(PPCFILTER_DESCRIPTOR *Description);                          \
    STDMETHODIMP_(NTSTATUS) DataRangeIntersection(ULONG PinId, PKSDATARANGE DataRange,                  \
                                                  PKSDATARANGE MatchingDataRange, ULONG OutputBufferLength, \
                                                  PVOID ResultantFormat, PULONG ResultantFormatLength)

#undef INTERFACE
#define INTERFACE IMiniport
DECLARE_INTERFACE_(IMiniport, IUnknown)
{
    DEFINE_ABSTRACT_UNKNOWN()
    DEFINE_ABSTRACT_MINIPORT()
};
typedef IMiniport *PMINIPORT;

#undef INTERFACE
#define INTERFACE IMiniportTopology
DECLARE_INTERFACE_(IMiniportTopology, IMiniport)
{
    DEFINE_ABSTRACT_UNKNOWN()
    DEFINE_ABSTRACT_MINIPORT()
    STDMETHOD_(NTSTATUS, Init)(THIS_ PUNKNOWN UnknownAdapter, PRESOURCELIST ResourceList, PPORTTOPOLOGY Port) PURE;
};
typedef IMiniportTopology *PMINIPORTTOPOLOGY;
#define IMP_IMiniportTopology \
    IMP_IMiniport;            \
    STDMETHODIMP_(NTSTATUS) Init(PUNKNOWN UnknownAdapter, PRESOURCELIST ResourceList, PPORTTOPOLOGY Port)

#undef INTERFACE
#define INTERFACE IMiniportWavePciStream
DECLARE_INTERFACE_(IMiniportWavePciStream, IUnknown)
{
    DEFINE_ABSTRACT_UNKNOWN()
    STDMETHOD_(NTSTATUS, SetFormat)(THIS_ PKSDATAFORMAT DataFormat) PURE;             /* PASSIVE_LEVEL */
    STDMETHOD_(NTSTATUS, SetState)(THIS_ KSSTATE State) PURE;                         /* PASSIVE_LEVEL */
    STDMETHOD_(NTSTATUS, GetPosition)(THIS_ PULONGLONG Position) PURE;                /* PASSIVE_LEVEL */
    STDMETHOD_(NTSTATUS, NormalizePhysicalPosition)(THIS_ PLONGLONG PhysicalPosition) PURE; /* any */
    STDMETHOD_(NTSTATUS, GetAllocatorFraming)(THIS_ PKSALLOCATOR_FRAMING AllocatorFraming) PURE; /* PASSIVE */
    STDMETHOD_(NTSTATUS, RevokeMappings)(THIS_ PVOID FirstTag, PVOID LastTag,
                                         PULONG MappingsRevoked) PURE;                /* DISPATCH_LEVEL */
    STDMETHOD_(void, MappingAvailable)(THIS) PURE;                                    /* <= DISPATCH_LEVEL */
    STDMETHOD_(void, Service)(THIS) PURE;                                             /* DISPATCH_LEVEL */
};
typedef IMiniportWavePciStream *PMINIPORTWAVEPCISTREAM;
#define IMP_IMiniportWavePciStream                                                              \
    STDMETHODIMP_(NTSTATUS) SetFormat(PKSDATAFORMAT DataFormat);                                \
    STDMETHODIMP_(NTSTATUS) SetState(KSSTATE State);                                            \
    STDMETHODIMP_(NTSTATUS) GetPosition(PULONGLONG Position);                                   \
    STDMETHODIMP_(NTSTATUS) NormalizePhysicalPosition(PLONGLONG PhysicalPosition);              \
    STDMETHODIMP_(NTSTATUS) GetAllocatorFraming(PKSALLOCATOR_FRAMING AllocatorFraming);         \
    STDMETHODIMP_(NTSTATUS) RevokeMappings(PVOID FirstTag, PVOID LastTag, PULONG MappingsRevoked); \
    STDMETHODIMP_(void) MappingAvailable(void);                                                 \
    STDMETHODIMP_(void) Service(void)

#undef INTERFACE
#define INTERFACE IMiniportWavePci
DECLARE_INTERFACE_(IMiniportWavePci, IMiniport)
{
    DEFINE_ABSTRACT_UNKNOWN()
    DEFINE_ABSTRACT_MINIPORT()
    STDMETHOD_(NTSTATUS, Init)(THIS_ PUNKNOWN UnknownAdapter, PRESOURCELIST ResourceList, PPORTWAVEPCI Port,
                               PSERVICEGROUP *ServiceGroup) PURE;                     /* PASSIVE_LEVEL */
    STDMETHOD_(NTSTATUS, NewStream)(THIS_ PMINIPORTWAVEPCISTREAM *Stream, PUNKNOWN OuterUnknown, POOL_TYPE PoolType,
                                    PPORTWAVEPCISTREAM PortStream, ULONG Pin, BOOLEAN Capture,
                                    PKSDATAFORMAT DataFormat, PDMACHANNEL *DmaChannel,
                                    PSERVICEGROUP *ServiceGroup) PURE;                /* PASSIVE_LEVEL */
    STDMETHOD_(void, Service)(THIS) PURE;                                             /* DISPATCH_LEVEL */
};
typedef IMiniportWavePci *PMINIPORTWAVEPCI;
#define IMP_IMiniportWavePci                                                                                  \
    IMP_IMiniport;                                                                                            \
    STDMETHODIMP_(NTSTATUS) Init(PUNKNOWN UnknownAdapter, PRESOURCELIST ResourceList, PPORTWAVEPCI Port,       \
                                 PSERVICEGROUP *ServiceGroup);                                                \
    STDMETHODIMP_(NTSTATUS) NewStream(PMINIPORTWAVEPCISTREAM *Stream, PUNKNOWN OuterUnknown, POOL_TYPE PoolType, \
                                      PPORTWAVEPCISTREAM PortStream, ULONG Pin, BOOLEAN Capture,             \
                                      PKSDATAFORMAT DataFormat, PDMACHANNEL *DmaChannel,                     \
                                      PSERVICEGROUP *ServiceGroup);                                           \
    STDMETHODIMP_(void) Service(void)

/* Optional miniport interfaces the port asks for. */
#undef INTERFACE
#define INTERFACE IPinCount
DECLARE_INTERFACE_(IPinCount, IUnknown)
{
    DEFINE_ABSTRACT_UNKNOWN()
    STDMETHOD_(void, PinCount)(THIS_ ULONG PinId, PULONG FilterNecessary, PULONG FilterCurrent, PULONG FilterPossible,
                               PULONG GlobalCurrent, PULONG GlobalPossible) PURE;
};
typedef IPinCount *PPINCOUNT;
#define IMP_IPinCount                                                                                         \
    STDMETHODIMP_(void) PinCount(ULONG PinId, PULONG FilterNecessary, PULONG FilterCurrent, PULONG FilterPossible, \
                                 PULONG GlobalCurrent, PULONG GlobalPossible)

#undef INTERFACE
#define INTERFACE IPreFetchOffset
DECLARE_INTERFACE_(IPreFetchOffset, IUnknown)
{
    DEFINE_ABSTRACT_UNKNOWN()
    STDMETHOD_(DWORD, SetPreFetchOffset)(THIS_ ULONG PreFetchOffset) PURE;
};
typedef IPreFetchOffset *PPREFETCHOFFSET;
#define IMP_IPreFetchOffset STDMETHODIMP_(DWORD) SetPreFetchOffset(ULONG PreFetchOffset)

#undef INTERFACE
#define INTERFACE IPortClsVersion
DECLARE_INTERFACE_(IPortClsVersion, IUnknown)
{
    DEFINE_ABSTRACT_UNKNOWN()
    STDMETHOD_(DWORD, GetVersion)(THIS) PURE;
};
typedef IPortClsVersion *PPORTCLSVERSION;
#undef INTERFACE

/* ---- adapter functions ------------------------------------------------------------------ */

typedef NTSTATUS (*PCPFNSTARTDEVICE)(PDEVICE_OBJECT DeviceObject, PIRP Irp, PRESOURCELIST ResourceList);

/* DriverEntry: register the adapter's AddDevice.  PASSIVE_LEVEL. */
PORTCLASSAPI NTSTATUS NTAPI PcInitializeAdapterDriver(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPathName,
                                                      PDRIVER_ADD_DEVICE AddDevice);
/* AddDevice: create the adapter's device object and record StartDevice.  PASSIVE_LEVEL. */
PORTCLASSAPI NTSTATUS NTAPI PcAddAdapterDevice(PDRIVER_OBJECT DriverObject, PDEVICE_OBJECT PhysicalDeviceObject,
                                               PCPFNSTARTDEVICE StartDevice, ULONG MaxObjects,
                                               ULONG DeviceExtensionSize);
/* The adapter's IRP dispatch: kslab's bring-up sends none the driver must route.  PASSIVE_LEVEL. */
PORTCLASSAPI NTSTATUS NTAPI PcDispatchIrp(PDEVICE_OBJECT DeviceObject, PIRP Irp);
PORTCLASSAPI NTSTATUS NTAPI PcCompleteIrp(PDEVICE_OBJECT DeviceObject, PIRP Irp, NTSTATUS Status);
PORTCLASSAPI NTSTATUS NTAPI PcForwardIrpSynchronous(PDEVICE_OBJECT DeviceObject, PIRP Irp);

/* Create a port of class ClassId (CLSID_PortWavePci, CLSID_PortTopology; CLSID_PortWaveCyclic
 * and CLSID_PortWaveRT exist, answer IPort and IPortEvents, and fail Init: kslab does not run
 * them yet).  PASSIVE_LEVEL. */
PORTCLASSAPI NTSTATUS NTAPI PcNewPort(PPORT *OutPort, REFCLSID ClassId);
/* Create one of PortCls's own miniports (none in kslab: STATUS_NOT_SUPPORTED).  PASSIVE_LEVEL. */
PORTCLASSAPI NTSTATUS NTAPI PcNewMiniport(PMINIPORT *OutMiniport, REFCLSID ClassId);
/* Create a DMA channel from a device description.  PASSIVE_LEVEL. */
PORTCLASSAPI NTSTATUS NTAPI PcNewDmaChannel(PDMACHANNEL *OutDmaChannel, PUNKNOWN OuterUnknown, POOL_TYPE PoolType,
                                            PDEVICE_DESCRIPTION DeviceDescription, PDEVICE_OBJECT DeviceObject);
/* Make an initialized port available under Name.  PASSIVE_LEVEL. */
PORTCLASSAPI NTSTATUS NTAPI PcRegisterSubdevice(PDEVICE_OBJECT DeviceObject, PWCHAR Name, PUNKNOWN Unknown);
/* Record that FromPin of one subdevice is wired to ToPin of another.  PASSIVE_LEVEL. */
PORTCLASSAPI NTSTATUS NTAPI PcRegisterPhysicalConnection(PDEVICE_OBJECT DeviceObject, PUNKNOWN FromUnknown,
                                                         ULONG FromPin, PUNKNOWN ToUnknown, ULONG ToPin);
PORTCLASSAPI NTSTATUS NTAPI PcRegisterPhysicalConnectionToExternal(PDEVICE_OBJECT DeviceObject, PUNKNOWN FromUnknown,
                                                                   ULONG FromPin, PUNICODE_STRING ToString,
                                                                   ULONG ToPin);
PORTCLASSAPI NTSTATUS NTAPI PcRegisterPhysicalConnectionFromExternal(PDEVICE_OBJECT DeviceObject,
                                                                     PUNICODE_STRING FromString, ULONG FromPin,
                                                                     PUNKNOWN ToUnknown, ULONG ToPin);
/* Register the adapter's IAdapterPowerManagement (pvContext1: the device object).  PASSIVE_LEVEL. */
PORTCLASSAPI NTSTATUS NTAPI PcRegisterAdapterPowerManagement(PUNKNOWN pUnknown, PVOID pvContext1);
PORTCLASSAPI NTSTATUS NTAPI PcUnregisterAdapterPowerManagement(PDEVICE_OBJECT DeviceObject);
/* Ask for a device power state.  PASSIVE_LEVEL. */
PORTCLASSAPI NTSTATUS NTAPI PcRequestNewPowerState(PDEVICE_OBJECT DeviceObject, DEVICE_POWER_STATE RequestedNewState);
/* A PnP property of the adapter's physical device (IoGetDeviceProperty's).  PASSIVE_LEVEL. */
PORTCLASSAPI NTSTATUS NTAPI PcGetDeviceProperty(PVOID DeviceObject, DEVICE_REGISTRY_PROPERTY DeviceProperty,
                                                ULONG BufferLength, PVOID PropertyBuffer, PULONG ResultLength);
/* Complete a property request a handler returned STATUS_PENDING for.  <= DISPATCH_LEVEL. */
PORTCLASSAPI NTSTATUS NTAPI PcCompletePendingPropertyRequest(PPCPROPERTY_REQUEST PropertyRequest, NTSTATUS NtStatus);
/* 100 ns intervals since Since (the interrupt-time clock).  Any IRQL. */
PORTCLASSAPI ULONGLONG NTAPI PcGetTimeInterval(ULONGLONG Since);
#define GTI_SECONDS(t) ((ULONGLONG)(t) * 10000000)
#define GTI_MILLISECONDS(t) ((ULONGLONG)(t) * 10000)
#define GTI_MICROSECONDS(t) ((ULONGLONG)(t) * 10)
PORTCLASSAPI NTSTATUS NTAPI PcRegisterIoTimeout(PDEVICE_OBJECT pDeviceObject, PIO_TIMER_ROUTINE pTimerRoutine,
                                                PVOID pContext);
PORTCLASSAPI NTSTATUS NTAPI PcUnregisterIoTimeout(PDEVICE_OBJECT pDeviceObject, PIO_TIMER_ROUTINE pTimerRoutine,
                                                  PVOID pContext);

/* ---- kslab's own entry point ------------------------------------------------------------ */

/*
 * A WavePci driver, as kslab loads it: built in, or exported by a plugin.  One of two entries:
 *  - NewMiniport creates the miniport object (reference count 1); kslab binds it to the port
 *    and calls its Init with the device's resources (no adapter);
 *  - DriverEntry (version 2) is an adapter driver's: kslab makes the DRIVER_OBJECT and calls it,
 *    then the AddDevice PcInitializeAdapterDriver recorded, then the StartDevice
 *    PcAddAdapterDevice recorded, with the device's resources; StartDevice makes and registers
 *    its subdevices (PcNewPort, IPort::Init, PcRegisterSubdevice), and the run opens pins on the
 *    WavePci one.  A plugin with no kslab_plugin() but a DriverEntry is such a driver.
 * `device` names the device model the driver expects ("ac97").
 */
#define KSL_WAVEPCI_DRIVER_VERSION 2u
typedef struct ksl_wavepci_driver {
    uint32_t version;          /* 1 (NewMiniport only) or KSL_WAVEPCI_DRIVER_VERSION */
    const char *name;          /* e.g. "ac97" */
    const char *description;   /* one line */
    const char *device;        /* device model: "ac97" */
    NTSTATUS (*NewMiniport)(PMINIPORTWAVEPCI *Miniport); /* PASSIVE_LEVEL; NULL with DriverEntry */
    PDRIVER_INITIALIZE DriverEntry;                      /* version 2; PASSIVE_LEVEL; NULL with NewMiniport */
} ksl_wavepci_driver;

#ifdef __cplusplus
}
#endif
#endif
