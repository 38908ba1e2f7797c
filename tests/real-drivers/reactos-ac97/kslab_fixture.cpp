// SPDX-License-Identifier: MIT
//
// kslab's fixture for the ReactOS AC'97 driver (../shared/real-drivers/reactos-ac97): the one
// file of our own that a user writes to check a driver's WavePci miniport when its adapter, as
// shipped, installs a port kind kslab does not run yet (this adapter's StartDevice installs a
// WaveCyclic wave subdevice).  It stands in for the driver's adapter.cpp: a DriverEntry /
// AddDevice / StartDevice of its own that builds the adapter from the driver's own factory
// functions — NewAdapterCommon, CreateAC97MiniportTopology, CreateAC97MiniportWavePCI — and
// registers the subdevices and connections the way the driver's adapter does, with WavePci as
// the wave port.  The driver's files are compiled as they are; this file is the only addition.
//
// Like adapter.cpp, this translation unit defines the driver's GUIDs (PUT_GUIDS_HERE) and its
// debug variables (DEFINE_DEBUG_VARS).
#define PUT_GUIDS_HERE
#define DEFINE_DEBUG_VARS

#include "adapter.h"
#include "common.h"
#include "debug.h"
#include "mintopo.h"

#include <kslab/plugin.h>

namespace {

// One subdevice: port, miniport from the driver's factory, IPort::Init, PcRegisterSubdevice.
NTSTATUS Install(PDEVICE_OBJECT DeviceObject, PIRP Irp, PWCHAR Name, REFGUID PortClassId, PFNCREATEMINIPORT Create,
                 PUNKNOWN Adapter, PRESOURCELIST Resources, PMINIPORT *OutMiniport, PUNKNOWN *OutPort)
{
    PPORT port;
    NTSTATUS st = PcNewPort(&port, PortClassId);
    if (!NT_SUCCESS(st))
        return st;
    PMINIPORT miniport;
    st = Create(reinterpret_cast<PUNKNOWN *>(&miniport), PortClassId, nullptr, NonPagedPool);
    if (NT_SUCCESS(st)) {
        st = port->Init(DeviceObject, Irp, miniport, Adapter, Resources);
        if (NT_SUCCESS(st))
            st = PcRegisterSubdevice(DeviceObject, Name, port);
        if (NT_SUCCESS(st) && OutMiniport) {
            *OutMiniport = miniport;
            miniport->AddRef();
        }
        miniport->Release();
    }
    if (NT_SUCCESS(st) && OutPort) {
        *OutPort = port;
        port->AddRef();
    }
    port->Release();
    return st;
}

NTSTATUS StartDevice(PDEVICE_OBJECT DeviceObject, PIRP Irp, PRESOURCELIST ResourceList)
{
    PUNKNOWN unknownCommon;
    NTSTATUS st = NewAdapterCommon(&unknownCommon, IID_IAC97AdapterCommon, nullptr, NonPagedPool);
    if (!NT_SUCCESS(st))
        return st;
    PADAPTERCOMMON common = nullptr;
    st = unknownCommon->QueryInterface(IID_IAC97AdapterCommon, reinterpret_cast<PVOID *>(&common));
    unknownCommon->Release();
    if (!NT_SUCCESS(st))
        return st;
    st = common->Init(ResourceList, DeviceObject);
    if (NT_SUCCESS(st))
        st = PcRegisterAdapterPowerManagement(PUNKNOWN(common), DeviceObject);

    PMINIPORT miniTopology = nullptr;
    PUNKNOWN unknownTopology = nullptr, unknownWave = nullptr;
    PAC97MINIPORTTOPOLOGY topology = nullptr;
    if (NT_SUCCESS(st))
        st = Install(DeviceObject, Irp, const_cast<PWCHAR>(L"Topology"), CLSID_PortTopology,
                     CreateAC97MiniportTopology, common, nullptr, &miniTopology, &unknownTopology);
    if (NT_SUCCESS(st)) {
        st = miniTopology->QueryInterface(IID_IAC97MiniportTopology, reinterpret_cast<PVOID *>(&topology));
        miniTopology->Release();
    }
    if (NT_SUCCESS(st))
        st = Install(DeviceObject, Irp, const_cast<PWCHAR>(L"Wave"), CLSID_PortWavePci, CreateAC97MiniportWavePCI,
                     common, ResourceList, nullptr, &unknownWave);
    if (NT_SUCCESS(st)) {
        ULONG waveOut, waveIn, micIn;
        st = topology->GetPhysicalConnectionPins(&waveOut, &waveIn, &micIn);
        if (NT_SUCCESS(st))
            st = PcRegisterPhysicalConnection(DeviceObject, unknownWave, PIN_WAVEOUT_BRIDGE, unknownTopology, waveOut);
        if (NT_SUCCESS(st))
            st = PcRegisterPhysicalConnection(DeviceObject, unknownTopology, waveIn, unknownWave, PIN_WAVEIN_BRIDGE);
        if (NT_SUCCESS(st) && common->GetPinConfig(PINC_MICIN_PRESENT))
            st = PcRegisterPhysicalConnection(DeviceObject, unknownTopology, micIn, unknownWave, PIN_MICIN_BRIDGE);
    }
    if (topology)
        topology->Release();
    if (unknownTopology)
        unknownTopology->Release();
    if (unknownWave)
        unknownWave->Release();
    common->Release();
    return st;
}

NTSTATUS AddDevice(PDRIVER_OBJECT DriverObject, PDEVICE_OBJECT PhysicalDeviceObject)
{
    return PcAddAdapterDevice(DriverObject, PhysicalDeviceObject, StartDevice, MAX_MINIPORTS, 0);
}

NTSTATUS FixtureDriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPathName)
{
    return PcInitializeAdapterDriver(DriverObject, RegistryPathName, AddDevice);
}

const ksl_wavepci_driver driver = {KSL_WAVEPCI_DRIVER_VERSION, "reactos-ac97",
                                   "the ReactOS AC'97 driver's WavePci miniport (kslab fixture adapter)", "ac97",
                                   nullptr, FixtureDriverEntry};

} // namespace

KSLAB_WAVEPCI_PLUGIN(driver)
