/* SPDX-License-Identifier: MIT */
/*
 * Adapter drivers: PortCls's side of DriverEntry, AddDevice and StartDevice.
 *
 * For a WavePci driver whose entry is DriverEntry (ksl_wavepci_driver version 2), the port's
 * start (ksl_wavepci_start, in the job's client thread at PASSIVE_LEVEL) brings the adapter up
 * as Windows does: kslab makes the DRIVER_OBJECT and calls DriverEntry, which calls
 * PcInitializeAdapterDriver (recording AddDevice); kslab calls AddDevice with a physical device
 * object, which calls PcAddAdapterDevice (making the functional device object and recording
 * StartDevice); kslab calls StartDevice with the device's resources.  StartDevice makes its
 * ports (PcNewPort), binds them to miniports (IPort::Init) and registers them
 * (PcRegisterSubdevice, PcRegisterPhysicalConnection, PcRegisterAdapterPowerManagement).
 * PcNewPort(CLSID_PortWavePci) hands out the job's own filter port, so the run then opens pins
 * on the WavePci subdevice the adapter registered.  At the end of the run the adapter is stopped
 * and removed: the subdevices are torn down in the reverse order of registration (each port
 * releases its miniport, which breaks the port <-> miniport reference cycle as PortCls does),
 * then the connections, the power interface, the device object, and DriverUnload runs.
 *
 * kslab sends the adapter no PnP or power IRPs of its own (the bring-up calls AddDevice and
 * StartDevice directly); a driver's dispatch routines that forward to PcDispatchIrp get
 * STATUS_NOT_SUPPORTED.  Every function here is PASSIVE_LEVEL, as in PortCls.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "port.h"

#define MAX_SUBDEVICES 8
#define MAX_CONNECTIONS 16
#define ADAPTER_NAME_LEN 64

typedef struct pcl_subdevice {
    char name[ADAPTER_NAME_LEN];
    PUNKNOWN port;
} pcl_subdevice;

typedef struct pcl_connection {
    PUNKNOWN from, to;
    ULONG from_pin, to_pin;
} pcl_connection;

typedef struct pcl_adapter pcl_adapter;
struct pcl_adapter {
    ksl_wavepci_filter *f;
    DRIVER_OBJECT driver;
    DRIVER_EXTENSION ext;
    DEVICE_OBJECT pdo;
    PDEVICE_OBJECT fdo;            /* PcAddAdapterDevice's, with the device extension after it */
    PCPFNSTARTDEVICE start_device;
    ULONG max_objects;
    pcl_subdevice sub[MAX_SUBDEVICES];
    ULONG nsub;
    pcl_connection conn[MAX_CONNECTIONS];
    ULONG nconn;
    PADAPTERPOWERMANAGEMENT power;
    pcl_regnode *registry;         /* the in-memory registry: empty at every bring-up */
    bool wave_handed;              /* PcNewPort(CLSID_PortWavePci) gave out f's port */
    WCHAR driver_name[ADAPTER_NAME_LEN + 16];
    WCHAR registry_path[ADAPTER_NAME_LEN + 64];
    UNICODE_STRING registry_name;  /* DriverEntry's RegistryPath */
};

/* The adapter being brought up: PcNewPort has no device object to find it from.  One bring-up
 * runs at a time in a process (a worker runs one execution at a time). */
static pcl_adapter *bringing_up;

/* The device extension's first pointer (PortCls's part of it) leads back to the adapter. */
static pcl_adapter *adapter_of(PDEVICE_OBJECT DeviceObject)
{
    if (!DeviceObject || !DeviceObject->DeviceExtension)
        return NULL;
    pcl_adapter *a;
    memcpy(&a, DeviceObject->DeviceExtension, sizeof a);
    return a && a->fdo == DeviceObject ? a : NULL;
}

static void wide_from(WCHAR *dst, size_t n, const char *prefix, const char *name)
{
    size_t k = 0;
    for (const char *p = prefix; *p && k + 1 < n; p++)
        dst[k++] = (WCHAR)(unsigned char)*p;
    for (const char *p = name; *p && k + 1 < n; p++)
        dst[k++] = (WCHAR)(unsigned char)*p;
    dst[k] = 0;
}

static void ascii_from(char *dst, size_t n, const WCHAR *src)
{
    size_t k = 0;
    for (; src && src[k] && k + 1 < n; k++)
        dst[k] = src[k] < 0x80 ? (char)src[k] : '?';
    dst[k] = 0;
}

/* ---- what DriverEntry and AddDevice call ------------------------------------------------ */

NTSTATUS NTAPI PcInitializeAdapterDriver(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPathName,
                                         PDRIVER_ADD_DEVICE AddDevice)
{
    (void)RegistryPathName;
    ksl_require_irql(PASSIVE_LEVEL, "PcInitializeAdapterDriver", __FILE__, __LINE__);
    if (!DriverObject || !DriverObject->DriverExtension || !AddDevice)
        return STATUS_INVALID_PARAMETER;
    DriverObject->DriverExtension->AddDevice = AddDevice;
    for (size_t i = 0; i <= IRP_MJ_MAXIMUM_FUNCTION; i++)
        DriverObject->MajorFunction[i] = PcDispatchIrp;
    return STATUS_SUCCESS;
}

NTSTATUS NTAPI PcAddAdapterDevice(PDRIVER_OBJECT DriverObject, PDEVICE_OBJECT PhysicalDeviceObject,
                                  PCPFNSTARTDEVICE StartDevice, ULONG MaxObjects, ULONG DeviceExtensionSize)
{
    ksl_require_irql(PASSIVE_LEVEL, "PcAddAdapterDevice", __FILE__, __LINE__);
    if (!DriverObject || !PhysicalDeviceObject || !StartDevice)
        return STATUS_INVALID_PARAMETER;
    pcl_adapter *a = CONTAINING_RECORD(DriverObject, pcl_adapter, driver);
    if (a != bringing_up)
        return STATUS_INVALID_PARAMETER; /* not the driver object kslab made */
    if (a->fdo)
        return STATUS_INVALID_DEVICE_REQUEST; /* one device per adapter in kslab */
    /* 0 asks for PortCls's own part only; a driver's own data follows that part. */
    size_t ext = DeviceExtensionSize > PORT_CLASS_DEVICE_EXTENSION_SIZE ? DeviceExtensionSize
                                                                         : PORT_CLASS_DEVICE_EXTENSION_SIZE;
    PDEVICE_OBJECT fdo = calloc(1, sizeof *fdo + ext);
    if (!fdo)
        return STATUS_INSUFFICIENT_RESOURCES;
    fdo->Type = 3; /* IO_TYPE_DEVICE */
    fdo->Size = (USHORT)sizeof *fdo;
    fdo->DriverObject = DriverObject;
    fdo->DeviceExtension = fdo + 1;
    memcpy(fdo->DeviceExtension, &a, sizeof a);
    a->fdo = fdo;
    a->start_device = StartDevice;
    a->max_objects = MaxObjects;
    DriverObject->DeviceObject = fdo;
    return STATUS_SUCCESS;
}

NTSTATUS NTAPI PcDispatchIrp(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    (void)DeviceObject;
    if (Irp) {
        Irp->IoStatus.Status = STATUS_NOT_SUPPORTED;
        IoCompleteRequest(Irp, IO_NO_INCREMENT);
    }
    return STATUS_NOT_SUPPORTED;
}

NTSTATUS NTAPI PcCompleteIrp(PDEVICE_OBJECT DeviceObject, PIRP Irp, NTSTATUS Status)
{
    (void)DeviceObject;
    if (!Irp)
        return STATUS_INVALID_PARAMETER;
    Irp->IoStatus.Status = Status;
    IoCompleteRequest(Irp, IO_NO_INCREMENT);
    return Status;
}

NTSTATUS NTAPI PcForwardIrpSynchronous(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    (void)DeviceObject, (void)Irp;
    return STATUS_SUCCESS; /* kslab's physical device object succeeds what it is sent */
}

/* ---- what StartDevice calls ------------------------------------------------------------- */

NTSTATUS NTAPI PcNewPort(PPORT *OutPort, REFCLSID ClassId)
{
    ksl_require_irql(PASSIVE_LEVEL, "PcNewPort", __FILE__, __LINE__);
    if (!OutPort || !ClassId)
        return STATUS_INVALID_PARAMETER;
    *OutPort = NULL;
    pcl_adapter *a = bringing_up;
    if (IsEqualGUID(ClassId, &CLSID_PortWavePci)) {
        if (!a || a->wave_handed) {
            if (a)
                snprintf(a->f->adapter_why, sizeof a->f->adapter_why,
                         "the adapter asked for a second WavePci port; kslab runs one per adapter");
            return STATUS_INSUFFICIENT_RESOURCES;
        }
        a->wave_handed = true;
        *OutPort = (PPORT)&a->f->port;
        return STATUS_SUCCESS;
    }
    if (IsEqualGUID(ClassId, &CLSID_PortTopology))
        return ksl__pcl_new_topology_port(OutPort);
    if (IsEqualGUID(ClassId, &CLSID_PortWaveCyclic))
        return ksl__pcl_new_unsupported_port(OutPort, "WaveCyclic", a ? a->f->adapter_why : NULL,
                                             a ? sizeof a->f->adapter_why : 0);
    if (IsEqualGUID(ClassId, &CLSID_PortWaveRT))
        return ksl__pcl_new_unsupported_port(OutPort, "WaveRT", a ? a->f->adapter_why : NULL,
                                             a ? sizeof a->f->adapter_why : 0);
    return STATUS_NOT_SUPPORTED; /* MIDI and DMus ports: not in kslab */
}

/* PortCls's own miniports (FM synth, UART) are not in kslab.  PASSIVE_LEVEL. */
NTSTATUS NTAPI PcNewMiniport(PMINIPORT *OutMiniport, REFCLSID ClassId)
{
    (void)ClassId;
    ksl_require_irql(PASSIVE_LEVEL, "PcNewMiniport", __FILE__, __LINE__);
    if (OutMiniport)
        *OutMiniport = NULL;
    return STATUS_NOT_SUPPORTED;
}

NTSTATUS NTAPI PcRegisterSubdevice(PDEVICE_OBJECT DeviceObject, PWCHAR Name, PUNKNOWN Unknown)
{
    ksl_require_irql(PASSIVE_LEVEL, "PcRegisterSubdevice", __FILE__, __LINE__);
    pcl_adapter *a = adapter_of(DeviceObject);
    if (!a || !Name || !Unknown)
        return STATUS_INVALID_PARAMETER;
    if (a->nsub >= MAX_SUBDEVICES || (a->max_objects && a->nsub >= a->max_objects))
        return STATUS_INSUFFICIENT_RESOURCES;
    pcl_subdevice *s = &a->sub[a->nsub];
    ascii_from(s->name, sizeof s->name, Name);
    for (ULONG i = 0; i < a->nsub; i++)
        if (strcmp(a->sub[i].name, s->name) == 0)
            return STATUS_OBJECT_NAME_COLLISION;
    s->port = Unknown;
    Unknown->lpVtbl->AddRef(Unknown);
    a->nsub++;
    return STATUS_SUCCESS;
}

static NTSTATUS connect(PDEVICE_OBJECT DeviceObject, PUNKNOWN From, ULONG FromPin, PUNKNOWN To, ULONG ToPin)
{
    ksl_require_irql(PASSIVE_LEVEL, "PcRegisterPhysicalConnection", __FILE__, __LINE__);
    pcl_adapter *a = adapter_of(DeviceObject);
    if (!a || (!From && !To))
        return STATUS_INVALID_PARAMETER;
    if (a->nconn >= MAX_CONNECTIONS)
        return STATUS_INSUFFICIENT_RESOURCES;
    a->conn[a->nconn++] = (pcl_connection){From, To, FromPin, ToPin};
    if (From)
        From->lpVtbl->AddRef(From);
    if (To)
        To->lpVtbl->AddRef(To);
    return STATUS_SUCCESS;
}

NTSTATUS NTAPI PcRegisterPhysicalConnection(PDEVICE_OBJECT DeviceObject, PUNKNOWN FromUnknown, ULONG FromPin,
                                            PUNKNOWN ToUnknown, ULONG ToPin)
{
    if (!FromUnknown || !ToUnknown)
        return STATUS_INVALID_PARAMETER;
    return connect(DeviceObject, FromUnknown, FromPin, ToUnknown, ToPin);
}

/* The external end (another driver's subdevice, by name) is recorded as absent. */
NTSTATUS NTAPI PcRegisterPhysicalConnectionToExternal(PDEVICE_OBJECT DeviceObject, PUNKNOWN FromUnknown,
                                                      ULONG FromPin, PUNICODE_STRING ToString, ULONG ToPin)
{
    if (!FromUnknown || !ToString)
        return STATUS_INVALID_PARAMETER;
    return connect(DeviceObject, FromUnknown, FromPin, NULL, ToPin);
}

NTSTATUS NTAPI PcRegisterPhysicalConnectionFromExternal(PDEVICE_OBJECT DeviceObject, PUNICODE_STRING FromString,
                                                        ULONG FromPin, PUNKNOWN ToUnknown, ULONG ToPin)
{
    if (!FromString || !ToUnknown)
        return STATUS_INVALID_PARAMETER;
    return connect(DeviceObject, NULL, FromPin, ToUnknown, ToPin);
}

NTSTATUS NTAPI PcRegisterAdapterPowerManagement(PUNKNOWN pUnknown, PVOID pvContext1)
{
    ksl_require_irql(PASSIVE_LEVEL, "PcRegisterAdapterPowerManagement", __FILE__, __LINE__);
    pcl_adapter *a = adapter_of(pvContext1);
    if (!a || !pUnknown)
        return STATUS_INVALID_PARAMETER;
    if (a->power)
        return STATUS_INVALID_DEVICE_REQUEST; /* one per device */
    PVOID pm = NULL;
    NTSTATUS st = pUnknown->lpVtbl->QueryInterface(pUnknown, &IID_IAdapterPowerManagement, &pm);
    if (!NT_SUCCESS(st) || !pm)
        return NT_SUCCESS(st) ? STATUS_NOINTERFACE : st;
    a->power = pm;
    return STATUS_SUCCESS;
}

NTSTATUS NTAPI PcUnregisterAdapterPowerManagement(PDEVICE_OBJECT DeviceObject)
{
    ksl_require_irql(PASSIVE_LEVEL, "PcUnregisterAdapterPowerManagement", __FILE__, __LINE__);
    pcl_adapter *a = adapter_of(DeviceObject);
    if (!a)
        return STATUS_INVALID_PARAMETER;
    if (a->power) {
        a->power->lpVtbl->Release(a->power);
        a->power = NULL;
    }
    return STATUS_SUCCESS;
}

/* A key of the adapter's in-memory registry (registry.c): GeneralRegistryKey needs
 * ObjectAttributes naming a path, which kslab does not offer (STATUS_NOT_IMPLEMENTED); the
 * device's keys open (created empty at the bring-up).  PASSIVE_LEVEL. */
NTSTATUS NTAPI PcNewRegistryKey(PREGISTRYKEY *OutRegistryKey, PUNKNOWN OuterUnknown, ULONG RegistryKeyType,
                                ACCESS_MASK DesiredAccess, PVOID DeviceObject, PVOID SubDevice,
                                POBJECT_ATTRIBUTES ObjectAttributes, ULONG CreateOptions, PULONG Disposition)
{
    (void)OuterUnknown, (void)DesiredAccess, (void)SubDevice, (void)ObjectAttributes, (void)CreateOptions;
    ksl_require_irql(PASSIVE_LEVEL, "PcNewRegistryKey", __FILE__, __LINE__);
    if (!OutRegistryKey)
        return STATUS_INVALID_PARAMETER;
    *OutRegistryKey = NULL;
    pcl_adapter *a = DeviceObject ? adapter_of(DeviceObject) : bringing_up;
    if (!a)
        return STATUS_INVALID_PARAMETER;
    if (RegistryKeyType == GeneralRegistryKey)
        return STATUS_NOT_IMPLEMENTED;
    NTSTATUS st = ksl__pcl_registry_open(a->registry, RegistryKeyType, OutRegistryKey);
    if (NT_SUCCESS(st) && Disposition)
        *Disposition = REG_OPENED_EXISTING_KEY;
    return st;
}

NTSTATUS ksl__pcl_adapter_registry_key(ksl_wavepci_filter *f, ULONG RegistryKeyType, PREGISTRYKEY *out)
{
    *out = NULL;
    if (!f->adapter)
        return STATUS_NOT_IMPLEMENTED; /* a NewMiniport driver has no adapter, so no device keys */
    return PcNewRegistryKey(out, NULL, RegistryKeyType, KEY_ALL_ACCESS, f->adapter->fdo, NULL, NULL, 0, NULL);
}

/* The device's PnP properties, as IoGetDeviceProperty answers them.  PASSIVE_LEVEL. */
NTSTATUS NTAPI PcGetDeviceProperty(PVOID DeviceObject, DEVICE_REGISTRY_PROPERTY DeviceProperty, ULONG BufferLength,
                                   PVOID PropertyBuffer, PULONG ResultLength)
{
    return IoGetDeviceProperty(DeviceObject, DeviceProperty, BufferLength, PropertyBuffer, ResultLength);
}

/* ---- services kslab does not offer yet: a documented status --------------------------------- */

/* A power state change the driver asks for itself: not simulated (the scenarios drive power). */
NTSTATUS NTAPI PcRequestNewPowerState(PDEVICE_OBJECT DeviceObject, DEVICE_POWER_STATE RequestedNewState)
{
    (void)DeviceObject, (void)RequestedNewState;
    return STATUS_NOT_IMPLEMENTED;
}



/* Property requests are not routed to miniports yet, so none is ever pending. */
NTSTATUS NTAPI PcCompletePendingPropertyRequest(PPCPROPERTY_REQUEST PropertyRequest, NTSTATUS NtStatus)
{
    (void)PropertyRequest, (void)NtStatus;
    return STATUS_NOT_IMPLEMENTED;
}

/* DMA channels from a device description (slave DMA): kslab's devices are bus masters. */
NTSTATUS NTAPI PcNewDmaChannel(PDMACHANNEL *OutDmaChannel, PUNKNOWN OuterUnknown, POOL_TYPE PoolType,
                               PDEVICE_DESCRIPTION DeviceDescription, PDEVICE_OBJECT DeviceObject)
{
    (void)OuterUnknown, (void)PoolType, (void)DeviceDescription, (void)DeviceObject;
    if (OutDmaChannel)
        *OutDmaChannel = NULL;
    return STATUS_NOT_IMPLEMENTED;
}

/* I/O timers: not simulated. */
NTSTATUS NTAPI PcRegisterIoTimeout(PDEVICE_OBJECT pDeviceObject, PIO_TIMER_ROUTINE pTimerRoutine, PVOID pContext)
{
    (void)pDeviceObject, (void)pTimerRoutine, (void)pContext;
    return STATUS_NOT_IMPLEMENTED;
}

NTSTATUS NTAPI PcUnregisterIoTimeout(PDEVICE_OBJECT pDeviceObject, PIO_TIMER_ROUTINE pTimerRoutine, PVOID pContext)
{
    (void)pDeviceObject, (void)pTimerRoutine, (void)pContext;
    return STATUS_NOT_IMPLEMENTED;
}

/* 100 ns units since Since on the interrupt-time clock.  Any IRQL. */
ULONGLONG NTAPI PcGetTimeInterval(ULONGLONG Since)
{
    return KeQueryInterruptTime() - Since;
}

NTSTATUS ksl_wavepci_topology_property(ksl_wavepci_filter *f, const GUID *node_type, ULONG id, bool set,
                                       LONG channel, LONG *value)
{
    ksl_require_irql(PASSIVE_LEVEL, "ksl_wavepci_topology_property", __FILE__, __LINE__);
    pcl_adapter *a = f->adapter;
    for (ULONG i = 0; a && i < a->nsub; i++) {
        NTSTATUS st = ksl__pcl_topology_property(a->sub[i].port, node_type, &KSPROPSETID_Audio, id,
                                                 set ? KSPROPERTY_TYPE_SET : KSPROPERTY_TYPE_GET, channel, value,
                                                 sizeof *value);
        if (st != STATUS_NOT_FOUND)
            return st;
    }
    return STATUS_NOT_FOUND;
}

void ksl__pcl_adapter_power(ksl_wavepci_filter *f, DEVICE_POWER_STATE state)
{
    pcl_adapter *a = f->adapter;
    if (!a || !a->power)
        return;
    POWER_STATE ps;
    ps.DeviceState = state;
    a->power->lpVtbl->PowerChangeState(a->power, ps);
}

/* ---- the bring-up and the removal --------------------------------------------------------- */

NTSTATUS ksl__pcl_adapter_start(ksl_wavepci_filter *f)
{
    pcl_adapter *a = calloc(1, sizeof *a);
    if (!a)
        return STATUS_INSUFFICIENT_RESOURCES;
    f->adapter = a;
    f->adapter_why[0] = 0;
    a->f = f;
    a->driver.Type = 4; /* IO_TYPE_DRIVER */
    a->driver.Size = (CSHORT)sizeof a->driver;
    a->driver.DriverExtension = &a->ext;
    a->ext.DriverObject = &a->driver;
    wide_from(a->driver_name, sizeof a->driver_name / sizeof a->driver_name[0], "\\Driver\\", f->drv->name);
    RtlInitUnicodeString(&a->driver.DriverName, a->driver_name);
    wide_from(a->registry_path, sizeof a->registry_path / sizeof a->registry_path[0],
              "\\Registry\\Machine\\System\\CurrentControlSet\\Services\\", f->drv->name);
    RtlInitUnicodeString(&a->registry_name, a->registry_path);
    a->pdo.Type = 3;
    a->pdo.Size = (USHORT)sizeof a->pdo;
    if (!(a->registry = ksl__pcl_registry_create())) {
        free(a);
        f->adapter = NULL;
        return STATUS_INSUFFICIENT_RESOURCES;
    }
    bringing_up = a;

    NTSTATUS st = f->drv->DriverEntry(&a->driver, &a->registry_name);
    if (NT_SUCCESS(st) && !a->ext.AddDevice) {
        snprintf(f->adapter_why, sizeof f->adapter_why, "DriverEntry did not call PcInitializeAdapterDriver");
        st = STATUS_UNSUCCESSFUL;
    }
    if (NT_SUCCESS(st)) {
        st = a->ext.AddDevice(&a->driver, &a->pdo);
        if (NT_SUCCESS(st) && !a->start_device) {
            snprintf(f->adapter_why, sizeof f->adapter_why, "AddDevice did not call PcAddAdapterDevice");
            st = STATUS_UNSUCCESSFUL;
        }
    }
    if (NT_SUCCESS(st)) {
        PRESOURCELIST resources = NULL;
        PIRP irp = IoAllocateIrp(1, FALSE);
        st = irp ? ksl__pcl_new_resource_list(&resources, f->res, f->nres) : STATUS_INSUFFICIENT_RESOURCES;
        if (NT_SUCCESS(st))
            st = a->start_device(a->fdo, irp, resources);
        if (resources)
            resources->lpVtbl->Release(resources);
        if (irp)
            IoFreeIrp(irp);
    }
    if (NT_SUCCESS(st) && !f->mini) {
        if (!f->adapter_why[0])
            snprintf(f->adapter_why, sizeof f->adapter_why,
                     "StartDevice registered no WavePci subdevice (kslab runs WavePci ports)");
        st = STATUS_NOT_SUPPORTED;
    } else if (NT_SUCCESS(st)) {
        f->adapter_why[0] = 0; /* a port kind tried and given up on is no news once WavePci runs */
    }
    bringing_up = NULL;
    if (!NT_SUCCESS(st))
        ksl__pcl_adapter_stop(f);
    return st;
}

void ksl__pcl_adapter_discard(ksl_wavepci_filter *f)
{
    pcl_adapter *a = f->adapter;
    if (!a)
        return;
    if (bringing_up == a) /* the run ended inside DriverEntry, AddDevice or StartDevice */
        bringing_up = NULL;
    PUNKNOWN seen[MAX_SUBDEVICES + 2 * MAX_CONNECTIONS];
    size_t nseen = 0;
    for (ULONG i = 0; i < a->nsub + 2 * a->nconn; i++) {
        PUNKNOWN p = i < a->nsub ? a->sub[i].port
                                 : (i - a->nsub) % 2 ? a->conn[(i - a->nsub) / 2].to : a->conn[(i - a->nsub) / 2].from;
        bool dup = !p || p == (PUNKNOWN)&f->port;
        for (size_t k = 0; k < nseen && !dup; k++)
            dup = seen[k] == p;
        if (!dup && ksl__pcl_port_discard(p))
            seen[nseen++] = p;
    }
    ksl__pcl_registry_destroy(a->registry);
    free(a->fdo);
    free(a);
    f->adapter = NULL;
}

void ksl__pcl_adapter_stop(ksl_wavepci_filter *f)
{
    pcl_adapter *a = f->adapter;
    if (!a)
        return;
    /* Subdevices, newest first: each port lets go of its miniport, which breaks the cycle of a
     * miniport holding its port. */
    while (a->nsub) {
        pcl_subdevice *s = &a->sub[--a->nsub];
        if (s->port == (PUNKNOWN)&f->port)
            ksl__pcl_filter_unbind(f);
        else
            ksl__pcl_port_teardown(s->port);
        s->port->lpVtbl->Release(s->port);
    }
    if (f->mini) /* bound but never registered */
        ksl__pcl_filter_unbind(f);
    while (a->nconn) {
        pcl_connection *c = &a->conn[--a->nconn];
        if (c->from)
            c->from->lpVtbl->Release(c->from);
        if (c->to)
            c->to->lpVtbl->Release(c->to);
    }
    if (a->power)
        a->power->lpVtbl->Release(a->power);
    if (a->driver.DriverUnload)
        a->driver.DriverUnload(&a->driver);
    ksl__pcl_registry_destroy(a->registry);
    free(a->fdo);
    free(a);
    f->adapter = NULL;
}
