/* SPDX-License-Identifier: MIT */
/*
 * IResourceList: the translated resources of the adapter (ports, interrupts), as the port hands
 * them to the miniport's Init.  A copy of the descriptors in one pool block; read-only after
 * creation, so every method may run at any IRQL.
 */
#include <string.h>

#include "pcl_internal.h"

typedef struct pcl_resource_list {
    IResourceList iface; /* first: the interface pointer is the object pointer */
    volatile LONG refs;
    ULONG n;
    CM_PARTIAL_RESOURCE_DESCRIPTOR entries[];
} pcl_resource_list;

static pcl_resource_list *from_iface(IResourceList *This)
{
    return (pcl_resource_list *)This;
}

/* Any IRQL. */
static NTSTATUS rl_query_interface(IResourceList *This, REFIID Iid, PVOID *Object)
{
    if (!Object)
        return STATUS_INVALID_PARAMETER;
    if (IsEqualGUIDAligned(Iid, &IID_IUnknown) || IsEqualGUIDAligned(Iid, &IID_IResourceList)) {
        InterlockedIncrement(&from_iface(This)->refs);
        *Object = This;
        return STATUS_SUCCESS;
    }
    *Object = NULL;
    return STATUS_NOINTERFACE;
}

/* Any IRQL. */
static ULONG rl_add_ref(IResourceList *This)
{
    return (ULONG)InterlockedIncrement(&from_iface(This)->refs);
}

/* IRQL <= DISPATCH_LEVEL (the last Release frees pool). */
static ULONG rl_release(IResourceList *This)
{
    pcl_resource_list *rl = from_iface(This);
    LONG left = InterlockedDecrement(&rl->refs);
    if (left == 0)
        ExFreePoolWithTag(rl, KSL_PCL_POOL_TAG);
    return (ULONG)left;
}

/* Any IRQL. */
static ULONG rl_number_of_entries(IResourceList *This)
{
    return from_iface(This)->n;
}

/* Any IRQL. */
static ULONG rl_number_of_entries_of_type(IResourceList *This, UCHAR Type)
{
    const pcl_resource_list *rl = from_iface(This);
    ULONG count = 0;
    for (ULONG i = 0; i < rl->n; i++)
        count += rl->entries[i].Type == Type;
    return count;
}

/* The Index-th entry of type Type (counting only entries of that type), or NULL.  Any IRQL. */
static PCM_PARTIAL_RESOURCE_DESCRIPTOR rl_find_translated_entry(IResourceList *This, UCHAR Type, ULONG Index)
{
    pcl_resource_list *rl = from_iface(This);
    for (ULONG i = 0; i < rl->n; i++)
        if (rl->entries[i].Type == Type && Index-- == 0)
            return &rl->entries[i];
    return NULL;
}

static const IResourceListVtbl resource_list_vtbl = {
    rl_query_interface, rl_add_ref, rl_release, rl_number_of_entries, rl_number_of_entries_of_type,
    rl_find_translated_entry,
};

/* PASSIVE_LEVEL (the caller checks under its own WDK name). */
NTSTATUS ksl__pcl_new_resource_list(PRESOURCELIST *out, const CM_PARTIAL_RESOURCE_DESCRIPTOR *entries, ULONG n)
{
    if (!out || (n && !entries))
        return STATUS_INVALID_PARAMETER;
    *out = NULL;
    pcl_resource_list *rl =
        ExAllocatePoolWithTag(NonPagedPool, sizeof *rl + (size_t)n * sizeof rl->entries[0], KSL_PCL_POOL_TAG);
    if (!rl)
        return STATUS_INSUFFICIENT_RESOURCES;
    rl->iface.lpVtbl = &resource_list_vtbl;
    rl->refs = 1;
    rl->n = n;
    if (n)
        memcpy(rl->entries, entries, (size_t)n * sizeof entries[0]);
    *out = &rl->iface;
    return STATUS_SUCCESS;
}
