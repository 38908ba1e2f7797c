/* SPDX-License-Identifier: MIT */
/*
 * Ports kslab does not run yet: WaveCyclic and WaveRT.  Real adapters probe and choose among
 * ports — they create a WaveCyclic port to ask it for IPortEvents, or try WaveRT before WavePci —
 * so PcNewPort returns a real object for these classes: it answers IUnknown, IPort and
 * IPortEvents, and its Init fails with STATUS_NOT_SUPPORTED, writing into the bring-up's message
 * that kslab does not run that port kind yet.  An adapter that then falls back to WavePci runs.
 */
#include <stdio.h>
#include <stdlib.h>

#include "port.h"

typedef struct pcl_other_port {
    IPort iface;              /* first: the interface pointer is the object pointer */
    IPortEvents events;
    volatile LONG refs;
    const char *kind;         /* "WaveCyclic", "WaveRT" */
    char *why;                /* the bring-up's message buffer (or NULL) */
    size_t whylen;
} pcl_other_port;

static pcl_other_port *from_iface(IPort *This)
{
    return (pcl_other_port *)This;
}

static pcl_other_port *from_events(IPortEvents *This)
{
    return CONTAINING_RECORD(This, pcl_other_port, events);
}

/* Any IRQL. */
static NTSTATUS op_query_interface(IPort *This, REFIID Iid, PVOID *Object)
{
    pcl_other_port *p = from_iface(This);
    if (!Object)
        return STATUS_INVALID_PARAMETER;
    *Object = NULL;
    if (IsEqualGUIDAligned(Iid, &IID_IUnknown) || IsEqualGUIDAligned(Iid, &IID_IPort))
        *Object = &p->iface;
    else if (IsEqualGUIDAligned(Iid, &IID_IPortEvents))
        *Object = &p->events;
    if (!*Object)
        return STATUS_NOINTERFACE;
    InterlockedIncrement(&p->refs);
    return STATUS_SUCCESS;
}

/* Any IRQL. */
static ULONG op_add_ref(IPort *This)
{
    return (ULONG)InterlockedIncrement(&from_iface(This)->refs);
}

/* Any IRQL. */
static ULONG op_release(IPort *This)
{
    pcl_other_port *p = from_iface(This);
    LONG left = InterlockedDecrement(&p->refs);
    if (left == 0)
        free(p);
    return (ULONG)left;
}

/* STATUS_NOT_SUPPORTED, saying why in the bring-up's message.  PASSIVE_LEVEL. */
static NTSTATUS op_init(IPort *This, PDEVICE_OBJECT DeviceObject, PIRP Irp, PUNKNOWN UnknownMiniport,
                        PUNKNOWN UnknownAdapter, PRESOURCELIST ResourceList)
{
    (void)DeviceObject, (void)Irp, (void)UnknownMiniport, (void)UnknownAdapter, (void)ResourceList;
    pcl_other_port *p = from_iface(This);
    ksl_require_irql(PASSIVE_LEVEL, "IPort::Init", __FILE__, __LINE__);
    if (p->why && p->whylen)
        snprintf(p->why, p->whylen,
                 "the adapter installed a %s port; kslab runs WavePci ports, not %s ones yet (IPort::Init "
                 "answered STATUS_NOT_SUPPORTED)",
                 p->kind, p->kind);
    return STATUS_NOT_SUPPORTED;
}

/* PASSIVE_LEVEL. */
static NTSTATUS op_get_device_property(IPort *This, DEVICE_REGISTRY_PROPERTY DeviceProperty, ULONG BufferLength,
                                       PVOID PropertyBuffer, PULONG ResultLength)
{
    (void)This;
    return PcGetDeviceProperty(NULL, DeviceProperty, BufferLength, PropertyBuffer, ResultLength);
}

/* PASSIVE_LEVEL. */
static NTSTATUS op_new_registry_key(IPort *This, PREGISTRYKEY *OutRegistryKey, PUNKNOWN OuterUnknown,
                                    ULONG RegistryKeyType, ACCESS_MASK DesiredAccess,
                                    POBJECT_ATTRIBUTES ObjectAttributes, ULONG CreateOptions, PULONG Disposition)
{
    (void)This;
    return PcNewRegistryKey(OutRegistryKey, OuterUnknown, RegistryKeyType, DesiredAccess, NULL, NULL,
                            ObjectAttributes, CreateOptions, Disposition);
}

static NTSTATUS ev_query_interface(IPortEvents *This, REFIID Iid, PVOID *Object)
{
    return op_query_interface(&from_events(This)->iface, Iid, Object);
}

static ULONG ev_add_ref(IPortEvents *This)
{
    return op_add_ref(&from_events(This)->iface);
}

static ULONG ev_release(IPortEvents *This)
{
    return op_release(&from_events(This)->iface);
}

/* No streams run on this port, so no event is ever enabled.  Any IRQL <= DISPATCH_LEVEL. */
static void ev_add_event_to_event_list(IPortEvents *This, PKSEVENT_ENTRY EventEntry)
{
    (void)This, (void)EventEntry;
}

static void ev_generate_event_list(IPortEvents *This, GUID *Set, ULONG EventId, BOOL PinEvent, ULONG PinId,
                                   BOOL NodeEvent, ULONG NodeId)
{
    (void)This, (void)Set, (void)EventId, (void)PinEvent, (void)PinId, (void)NodeEvent, (void)NodeId;
}

static const IPortVtbl other_vtbl = {op_query_interface,     op_add_ref,         op_release,
                                     op_init,                op_get_device_property, op_new_registry_key};
static const IPortEventsVtbl events_vtbl = {ev_query_interface, ev_add_ref, ev_release, ev_add_event_to_event_list,
                                            ev_generate_event_list};

NTSTATUS ksl__pcl_new_unsupported_port(PPORT *out, const char *kind, char *why, size_t whylen)
{
    pcl_other_port *p = calloc(1, sizeof *p);
    if (!p)
        return STATUS_INSUFFICIENT_RESOURCES;
    p->iface.lpVtbl = &other_vtbl;
    p->events.lpVtbl = &events_vtbl;
    p->refs = 1;
    p->kind = kind;
    p->why = why;
    p->whylen = whylen;
    *out = &p->iface;
    return STATUS_SUCCESS;
}

bool ksl__pcl_other_port_discard(PUNKNOWN port)
{
    if (!port || port->lpVtbl != (const IUnknownVtbl *)(const void *)&other_vtbl)
        return false;
    free(port);
    return true;
}
