/* SPDX-License-Identifier: MIT */
/*
 * The topology port (CLSID_PortTopology): IPortTopology over a miniport's IMiniportTopology.
 * Init binds the miniport, calls its Init with the adapter's common object and resources, and
 * takes its filter description (nodes, connections, the property handlers of its automation
 * tables).  The port keeps the miniport until the subdevice is removed; the miniport may keep
 * the port (a reference cycle PortCls breaks the same way, at removal).
 *
 * Property requests to its nodes (ksl__pcl_topology_property) go to the handler the node's
 * automation table names, through a PCPROPERTY_REQUEST as PortCls builds it: the miniport as the
 * major target, the node's index, the channel as the instance data.
 */
#include <stdlib.h>

#include "port.h"

typedef struct pcl_topology {
    IPortTopology iface; /* first: the interface pointer is the object pointer */
    volatile LONG refs;
    PMINIPORTTOPOLOGY mini;
    PRESOURCELIST resources;
    PPCFILTER_DESCRIPTOR desc;
} pcl_topology;

static pcl_topology *from_iface(IPortTopology *This)
{
    return (pcl_topology *)This;
}

static void unbind(pcl_topology *t)
{
    if (t->mini)
        t->mini->lpVtbl->Release(t->mini);
    if (t->resources)
        t->resources->lpVtbl->Release(t->resources);
    t->mini = NULL;
    t->resources = NULL;
    t->desc = NULL;
}

/* Any IRQL. */
static NTSTATUS tp_query_interface(IPortTopology *This, REFIID Iid, PVOID *Object)
{
    if (!Object)
        return STATUS_INVALID_PARAMETER;
    if (IsEqualGUIDAligned(Iid, &IID_IUnknown) || IsEqualGUIDAligned(Iid, &IID_IPort) ||
        IsEqualGUIDAligned(Iid, &IID_IPortTopology)) {
        InterlockedIncrement(&from_iface(This)->refs);
        *Object = This;
        return STATUS_SUCCESS;
    }
    *Object = NULL;
    return STATUS_NOINTERFACE;
}

/* Any IRQL. */
static ULONG tp_add_ref(IPortTopology *This)
{
    return (ULONG)InterlockedIncrement(&from_iface(This)->refs);
}

/* PASSIVE_LEVEL for the last one (it releases the miniport). */
static ULONG tp_release(IPortTopology *This)
{
    pcl_topology *t = from_iface(This);
    LONG left = InterlockedDecrement(&t->refs);
    if (left == 0) {
        unbind(t);
        free(t);
    }
    return (ULONG)left;
}

/* PASSIVE_LEVEL. */
static NTSTATUS tp_init(IPortTopology *This, PDEVICE_OBJECT DeviceObject, PIRP Irp, PUNKNOWN UnknownMiniport,
                        PUNKNOWN UnknownAdapter, PRESOURCELIST ResourceList)
{
    (void)DeviceObject, (void)Irp;
    pcl_topology *t = from_iface(This);
    ksl_require_irql(PASSIVE_LEVEL, "IPortTopology::Init", __FILE__, __LINE__);
    if (t->mini)
        return STATUS_INVALID_DEVICE_REQUEST;
    if (!UnknownMiniport)
        return STATUS_INVALID_PARAMETER;
    PVOID mini = NULL;
    NTSTATUS st = UnknownMiniport->lpVtbl->QueryInterface(UnknownMiniport, &IID_IMiniportTopology, &mini);
    if (!NT_SUCCESS(st) || !mini)
        return NT_SUCCESS(st) ? STATUS_NOINTERFACE : st;
    t->mini = mini;
    /* A topology miniport may be given no resources (the ReactOS AC'97 adapter gives NULL). */
    if (ResourceList) {
        t->resources = ResourceList;
        ResourceList->lpVtbl->AddRef(ResourceList);
    }
    st = t->mini->lpVtbl->Init(t->mini, UnknownAdapter, ResourceList, This);
    if (NT_SUCCESS(st))
        st = t->mini->lpVtbl->GetDescription(t->mini, &t->desc);
    if (NT_SUCCESS(st) && (!t->desc || (t->desc->PinCount && t->desc->PinSize < sizeof(PCPIN_DESCRIPTOR)) ||
                           (t->desc->NodeCount && t->desc->NodeSize < sizeof(PCNODE_DESCRIPTOR))))
        st = STATUS_INVALID_PARAMETER;
    if (!NT_SUCCESS(st))
        unbind(t);
    return st;
}

/* Device registry properties: kslab's device has none.  PASSIVE_LEVEL. */
static NTSTATUS tp_get_device_property(IPortTopology *This, DEVICE_REGISTRY_PROPERTY DeviceProperty,
                                       ULONG BufferLength, PVOID PropertyBuffer, PULONG ResultLength)
{
    (void)This;
    return PcGetDeviceProperty(NULL, DeviceProperty, BufferLength, PropertyBuffer, ResultLength);
}

/* PASSIVE_LEVEL. */
static NTSTATUS tp_new_registry_key(IPortTopology *This, PREGISTRYKEY *OutRegistryKey, PUNKNOWN OuterUnknown,
                                    ULONG RegistryKeyType, ACCESS_MASK DesiredAccess,
                                    POBJECT_ATTRIBUTES ObjectAttributes, ULONG CreateOptions, PULONG Disposition)
{
    (void)This;
    return PcNewRegistryKey(OutRegistryKey, OuterUnknown, RegistryKeyType, DesiredAccess, NULL, NULL,
                            ObjectAttributes, CreateOptions, Disposition);
}

static const IPortTopologyVtbl topology_vtbl = {
    tp_query_interface, tp_add_ref, tp_release, tp_init, tp_get_device_property, tp_new_registry_key,
};

NTSTATUS ksl__pcl_new_topology_port(PPORT *out)
{
    pcl_topology *t = calloc(1, sizeof *t);
    if (!t)
        return STATUS_INSUFFICIENT_RESOURCES;
    t->iface.lpVtbl = &topology_vtbl;
    t->refs = 1;
    *out = (PPORT)&t->iface;
    return STATUS_SUCCESS;
}

bool ksl__pcl_port_discard(PUNKNOWN port)
{
    if (!port || port->lpVtbl != (const IUnknownVtbl *)(const void *)&topology_vtbl)
        return ksl__pcl_other_port_discard(port);
    free(port); /* no driver code: the miniport it holds is the driver's, reclaimed with the pool */
    return true;
}

void ksl__pcl_port_teardown(PUNKNOWN port)
{
    if (port && port->lpVtbl == (const IUnknownVtbl *)(const void *)&topology_vtbl)
        unbind((pcl_topology *)port);
}

NTSTATUS ksl__pcl_topology_property(PUNKNOWN port, const GUID *node_type, const GUID *set, ULONG id, ULONG verb,
                                    LONG channel, PVOID value, ULONG value_size)
{
    if (!port || port->lpVtbl != (const IUnknownVtbl *)(const void *)&topology_vtbl)
        return STATUS_NOT_FOUND;
    ksl_require_irql(PASSIVE_LEVEL, "a topology property request", __FILE__, __LINE__);
    pcl_topology *t = (pcl_topology *)port;
    const PCFILTER_DESCRIPTOR *d = t->desc;
    if (!t->mini || !d)
        return STATUS_NOT_FOUND;
    for (ULONG n = 0; n < d->NodeCount; n++) {
        const PCNODE_DESCRIPTOR *node = (const PCNODE_DESCRIPTOR *)((const char *)d->Nodes + (size_t)n * d->NodeSize);
        const PCAUTOMATION_TABLE *at = node->AutomationTable;
        if (!node->Type || !IsEqualGUID(node->Type, node_type) || !at || !at->Properties)
            continue;
        size_t stride = at->PropertyItemSize ? at->PropertyItemSize : sizeof(PCPROPERTY_ITEM);
        for (ULONG i = 0; i < at->PropertyCount; i++) {
            const PCPROPERTY_ITEM *it = (const PCPROPERTY_ITEM *)((const char *)at->Properties + i * stride);
            if (!it->Set || !IsEqualGUID(it->Set, set) || it->Id != id || !(it->Flags & verb) || !it->Handler)
                continue;
            LONG instance[2] = {channel, 0}; /* KSNODEPROPERTY_AUDIO_CHANNEL after its KSNODEPROPERTY */
            PCPROPERTY_REQUEST rq = {(PUNKNOWN)t->mini, NULL, n, it, verb, sizeof instance, instance, value_size,
                                     value, NULL};
            return it->Handler(&rq);
        }
    }
    return STATUS_NOT_FOUND;
}
