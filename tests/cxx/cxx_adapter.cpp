// SPDX-License-Identifier: MIT
//
// A PortCls adapter driver in C++, brought up the way Windows brings one up: DriverEntry calls
// PcInitializeAdapterDriver, AddDevice calls PcAddAdapterDevice, StartDevice probes the port
// kinds as real AC'97 adapters do (a WaveCyclic port asked for IPortEvents), installs a topology
// subdevice with a miniport of its own, tries a WaveRT wave subdevice and falls back to WavePci
// (the miniport of cxx_ac97.cpp), wires the two with PcRegisterPhysicalConnection and registers
// its power interface.  The plugin exports DriverEntry and nothing of kslab's: kslab finds the
// adapter by it.
//
// CXX_ADAPTER_VOLUME_ASSERT: its volume handler asserts something false, so that a run whose
// scenario sends volume requests shows they reach it.
// CXX_ADAPTER_POWER_ASSERT: its power interface asserts on D3, so that a power-cycle run shows
// the port tells the adapter.
// CXX_ADAPTER_WAVECYCLIC_ONLY: an adapter that installs a WaveCyclic wave subdevice and nothing
// else, as the ReactOS AC'97 adapter ships (kslab must say it does not run that port kind).
#include <portcls.h>
#include <stdunk.h>

NTSTATUS CreateCxxMiniportWavePci(PUNKNOWN *Unknown, REFCLSID, PUNKNOWN UnknownOuter, POOL_TYPE PoolType);

namespace {

const ULONG kTag = 0x64417843u; // 'CxAd'
typedef NTSTATUS (*PFNCREATEMINIPORT)(PUNKNOWN *, REFCLSID, PUNKNOWN, POOL_TYPE);

// ---- a topology miniport: wave in -> volume -> line out ---------------------------------------

enum { kPinWaveIn = 0, kPinLineOut = 1 };

class CCxxTopology : public IMiniportTopology, public CUnknown {
  public:
    DECLARE_STD_UNKNOWN();
    DEFINE_STD_CONSTRUCTOR(CCxxTopology);
    ~CCxxTopology() {}
    IMP_IMiniportTopology;

    static NTSTATUS PropertyVolume(PPCPROPERTY_REQUEST Request);
    LONG m_Volume = 0;
};

STDMETHODIMP_(NTSTATUS) CCxxTopology::NonDelegatingQueryInterface(REFIID Interface, PVOID *Object)
{
    if (IsEqualGUIDAligned(Interface, IID_IUnknown))
        *Object = PVOID(PUNKNOWN(PMINIPORTTOPOLOGY(this)));
    else if (IsEqualGUIDAligned(Interface, IID_IMiniport) || IsEqualGUIDAligned(Interface, IID_IMiniportTopology))
        *Object = PVOID(PMINIPORTTOPOLOGY(this));
    else
        *Object = nullptr;
    if (!*Object)
        return STATUS_INVALID_PARAMETER;
    PUNKNOWN(*Object)->AddRef();
    return STATUS_SUCCESS;
}

NTSTATUS CCxxTopology::PropertyVolume(PPCPROPERTY_REQUEST Request)
{
    PAGED_CODE();
    CCxxTopology *t = static_cast<CCxxTopology *>(PMINIPORTTOPOLOGY(Request->MajorTarget));
    if (Request->ValueSize < sizeof(LONG) || Request->InstanceSize < sizeof(LONG) || Request->Node != 0)
        return STATUS_INVALID_PARAMETER;
#ifdef CXX_ADAPTER_VOLUME_ASSERT
    ASSERT(*PLONG(Request->Instance) > 1); // CXX_VOLUME_ASSERT: channels are 0 and 1
#endif
    if (Request->Verb & KSPROPERTY_TYPE_GET)
        *PLONG(Request->Value) = t->m_Volume;
    else if (Request->Verb & KSPROPERTY_TYPE_SET)
        t->m_Volume = *PLONG(Request->Value);
    Request->ValueSize = sizeof(LONG);
    return STATUS_SUCCESS;
}

STDMETHODIMP_(NTSTATUS) CCxxTopology::GetDescription(PPCFILTER_DESCRIPTOR *Description)
{
    static PCPROPERTY_ITEM volumeProps[1];
    static PCAUTOMATION_TABLE volumeTable;
    static KSDATARANGE analog;
    static PKSDATARANGE ranges[1];
    static PCPIN_DESCRIPTOR pins[2];
    static PCNODE_DESCRIPTOR nodes[1];
    static PCCONNECTION_DESCRIPTOR connections[2];
    static PCFILTER_DESCRIPTOR filter;
    volumeProps[0].Set = &KSPROPSETID_Audio;
    volumeProps[0].Id = KSPROPERTY_AUDIO_VOLUMELEVEL;
    volumeProps[0].Flags = PCPROPERTY_ITEM_FLAG_GET | PCPROPERTY_ITEM_FLAG_SET;
    volumeProps[0].Handler = PropertyVolume;
    volumeTable.PropertyItemSize = sizeof(PCPROPERTY_ITEM);
    volumeTable.PropertyCount = 1;
    volumeTable.Properties = volumeProps;
    analog.FormatSize = sizeof(KSDATARANGE);
    analog.MajorFormat = KSDATAFORMAT_TYPE_AUDIO;
    analog.SubFormat = KSDATAFORMAT_SUBTYPE_ANALOG;
    analog.Specifier = KSDATAFORMAT_SPECIFIER_NONE;
    ranges[0] = &analog;
    for (int i = 0; i < 2; i++) {
        pins[i].KsPinDescriptor.DataRangesCount = 1;
        pins[i].KsPinDescriptor.DataRanges = ranges;
        pins[i].KsPinDescriptor.Communication = KSPIN_COMMUNICATION_NONE;
    }
    pins[kPinWaveIn].KsPinDescriptor.DataFlow = KSPIN_DATAFLOW_IN;
    pins[kPinWaveIn].KsPinDescriptor.Category = &KSNODETYPE_LEGACY_AUDIO_CONNECTOR;
    pins[kPinLineOut].KsPinDescriptor.DataFlow = KSPIN_DATAFLOW_OUT;
    pins[kPinLineOut].KsPinDescriptor.Category = &KSNODETYPE_SPEAKER;
    nodes[0].AutomationTable = &volumeTable;
    nodes[0].Type = &KSNODETYPE_VOLUME;
    connections[0] = {PCFILTER_NODE, kPinWaveIn, 0, 1};
    connections[1] = {0, 0, PCFILTER_NODE, kPinLineOut};
    filter.PinSize = sizeof(PCPIN_DESCRIPTOR);
    filter.PinCount = 2;
    filter.Pins = pins;
    filter.NodeSize = sizeof(PCNODE_DESCRIPTOR);
    filter.NodeCount = 1;
    filter.Nodes = nodes;
    filter.ConnectionCount = 2;
    filter.Connections = connections;
    *Description = &filter;
    return STATUS_SUCCESS;
}

STDMETHODIMP_(NTSTATUS) CCxxTopology::DataRangeIntersection(ULONG, PKSDATARANGE, PKSDATARANGE, ULONG, PVOID, PULONG)
{
    return STATUS_NOT_IMPLEMENTED;
}

STDMETHODIMP_(NTSTATUS) CCxxTopology::Init(PUNKNOWN UnknownAdapter, PRESOURCELIST ResourceList, PPORTTOPOLOGY Port)
{
    UNREFERENCED_PARAMETER(UnknownAdapter);
    UNREFERENCED_PARAMETER(ResourceList);
    UNREFERENCED_PARAMETER(Port);
    m_Volume = -6 * 65536; // -6 dB
    return STATUS_SUCCESS;
}

NTSTATUS CreateCxxTopology(PUNKNOWN *Unknown, REFCLSID, PUNKNOWN UnknownOuter, POOL_TYPE PoolType)
{
    STD_CREATE_BODY_(CCxxTopology, Unknown, UnknownOuter, PoolType, PMINIPORTTOPOLOGY);
}

// ---- the adapter's power interface -------------------------------------------------------------

class CCxxPower : public IAdapterPowerManagement, public CUnknown {
  public:
    DECLARE_STD_UNKNOWN();
    DEFINE_STD_CONSTRUCTOR(CCxxPower);
    ~CCxxPower() {}
    IMP_IAdapterPowerManagement;
    DEVICE_POWER_STATE m_State = PowerDeviceD0;
};

STDMETHODIMP_(NTSTATUS) CCxxPower::NonDelegatingQueryInterface(REFIID Interface, PVOID *Object)
{
    if (IsEqualGUIDAligned(Interface, IID_IUnknown) || IsEqualGUIDAligned(Interface, IID_IAdapterPowerManagement))
        *Object = PVOID(PADAPTERPOWERMANAGEMENT(this));
    else
        *Object = nullptr;
    if (!*Object)
        return STATUS_INVALID_PARAMETER;
    PUNKNOWN(*Object)->AddRef();
    return STATUS_SUCCESS;
}

// The port calls it around its streams: D3 after they paused, D0 before they run again.  A call
// that does not change the state, or a D0 while in D0, is the port's mistake: assert it.
STDMETHODIMP_(void) CCxxPower::PowerChangeState(POWER_STATE NewState)
{
    ASSERT(NewState.DeviceState != m_State);
#ifdef CXX_ADAPTER_POWER_ASSERT
    ASSERT(NewState.DeviceState != PowerDeviceD3); // CXX_POWER_ASSERT: the adapter is told of D3
#endif
    m_State = NewState.DeviceState;
}

STDMETHODIMP_(NTSTATUS) CCxxPower::QueryPowerChangeState(POWER_STATE)
{
    return STATUS_SUCCESS;
}

STDMETHODIMP_(NTSTATUS) CCxxPower::QueryDeviceCapabilities(PDEVICE_CAPABILITIES)
{
    return STATUS_SUCCESS;
}

// ---- bring-up -----------------------------------------------------------------------------------

// Port, miniport, Init, register: one subdevice (as the WDK samples' InstallSubdevice does).
NTSTATUS InstallSubdevice(PDEVICE_OBJECT DeviceObject, PIRP Irp, PWCHAR Name, REFGUID PortClassId,
                          PFNCREATEMINIPORT Create, PUNKNOWN Adapter, PRESOURCELIST Resources, PUNKNOWN *OutPort)
{
    PPORT port;
    NTSTATUS st = PcNewPort(&port, PortClassId);
    if (!NT_SUCCESS(st))
        return st;
    PUNKNOWN miniport;
    st = Create(&miniport, PortClassId, nullptr, NonPagedPool);
    if (NT_SUCCESS(st)) {
        st = port->Init(DeviceObject, Irp, miniport, Adapter, Resources);
        if (NT_SUCCESS(st))
            st = PcRegisterSubdevice(DeviceObject, Name, port);
        miniport->Release();
    }
    if (NT_SUCCESS(st) && OutPort) {
        *OutPort = port;
        (*OutPort)->AddRef();
    }
    port->Release();
    return st;
}

NTSTATUS StartDevice(PDEVICE_OBJECT DeviceObject, PIRP Irp, PRESOURCELIST ResourceList)
{
    PAGED_CODE();
    // Probe as the AC'97 adapters do: a WaveCyclic port that answers IPortEvents.
    PPORT probe;
    NTSTATUS st = PcNewPort(&probe, CLSID_PortWaveCyclic);
    if (!NT_SUCCESS(st))
        return st;
    PPORTEVENTS events;
    st = probe->QueryInterface(IID_IPortEvents, reinterpret_cast<PVOID *>(&events));
    probe->Release();
    if (!NT_SUCCESS(st))
        return STATUS_UNSUCCESSFUL;
    events->Release();
    if (ResourceList->NumberOfPorts() != 2 || ResourceList->NumberOfInterrupts() != 1)
        return STATUS_DEVICE_CONFIGURATION_ERROR;

    CCxxPower *power = new (NonPagedPool, kTag) CCxxPower(nullptr);
    if (!power)
        return STATUS_INSUFFICIENT_RESOURCES;
    power->AddRef();
    st = PcRegisterAdapterPowerManagement(PUNKNOWN(PADAPTERPOWERMANAGEMENT(power)), DeviceObject);

    PUNKNOWN topology = nullptr, wave = nullptr;
#ifdef CXX_ADAPTER_WAVECYCLIC_ONLY
    if (NT_SUCCESS(st))
        st = InstallSubdevice(DeviceObject, Irp, const_cast<PWCHAR>(L"Wave"), CLSID_PortWaveCyclic,
                              CreateCxxMiniportWavePci, nullptr, ResourceList, &wave);
    (void)CreateCxxTopology;
#else
    if (NT_SUCCESS(st))
        st = InstallSubdevice(DeviceObject, Irp, const_cast<PWCHAR>(L"Topology"), CLSID_PortTopology,
                              CreateCxxTopology, nullptr, nullptr, &topology);
    if (NT_SUCCESS(st)) {
        // WaveRT first, as adapters for newer Windows do; WavePci when that fails.
        st = InstallSubdevice(DeviceObject, Irp, const_cast<PWCHAR>(L"Wave"), CLSID_PortWaveRT,
                              CreateCxxMiniportWavePci, nullptr, ResourceList, &wave);
        if (!NT_SUCCESS(st))
            st = InstallSubdevice(DeviceObject, Irp, const_cast<PWCHAR>(L"Wave"), CLSID_PortWavePci,
                                  CreateCxxMiniportWavePci, nullptr, ResourceList, &wave);
    }
    if (NT_SUCCESS(st))
        st = PcRegisterPhysicalConnection(DeviceObject, wave, 0 /* the wave filter's render pin */, topology,
                                          kPinWaveIn);
#endif
    if (topology)
        topology->Release();
    if (wave)
        wave->Release();
    power->Release();
    return st;
}

NTSTATUS AddDevice(PDRIVER_OBJECT DriverObject, PDEVICE_OBJECT PhysicalDeviceObject)
{
    PAGED_CODE();
    return PcAddAdapterDevice(DriverObject, PhysicalDeviceObject, StartDevice, 3, 0);
}

} // namespace

extern "C" DRIVER_INITIALIZE DriverEntry;
extern "C" NTSTATUS DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPathName)
{
    PAGED_CODE();
    return PcInitializeAdapterDriver(DriverObject, RegistryPathName, AddDevice);
}
