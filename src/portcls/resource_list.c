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
    ULONG capacity;          /* entries the list can hold */
    CM_RESOURCE_LIST *list;  /* one full descriptor whose partial descriptors are the entries */
} pcl_resource_list;

static pcl_resource_list *from_iface(IResourceList *This)
{
    return (pcl_resource_list *)This;
}

static ULONG count_of(const pcl_resource_list *rl)
{
    return rl->list->List[0].PartialResourceList.Count;
}

/* The i-th entry (i < capacity): the partial descriptors run past the declared [1]. */
static PCM_PARTIAL_RESOURCE_DESCRIPTOR entry(const pcl_resource_list *rl, ULONG i)
{
    char *first = (char *)rl->list + offsetof(CM_RESOURCE_LIST, List[0].PartialResourceList.PartialDescriptors);
    return (PCM_PARTIAL_RESOURCE_DESCRIPTOR)(first + (size_t)i * sizeof(CM_PARTIAL_RESOURCE_DESCRIPTOR));
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
    if (left == 0) {
        ExFreePoolWithTag(rl->list, KSL_PCL_POOL_TAG);
        ExFreePoolWithTag(rl, KSL_PCL_POOL_TAG);
    }
    return (ULONG)left;
}

/* Any IRQL. */
static ULONG rl_number_of_entries(IResourceList *This)
{
    return count_of(from_iface(This));
}

/* Any IRQL. */
static ULONG rl_number_of_entries_of_type(IResourceList *This, CM_RESOURCE_TYPE Type)
{
    const pcl_resource_list *rl = from_iface(This);
    ULONG count = 0;
    for (ULONG i = 0; i < count_of(rl); i++)
        count += entry(rl, i)->Type == Type;
    return count;
}

/* The Index-th entry of type Type (counting only entries of that type), or NULL.  Any IRQL. */
static PCM_PARTIAL_RESOURCE_DESCRIPTOR rl_find_translated_entry(IResourceList *This, CM_RESOURCE_TYPE Type, ULONG Index)
{
    pcl_resource_list *rl = from_iface(This);
    for (ULONG i = 0; i < count_of(rl); i++)
        if (entry(rl, i)->Type == Type && Index-- == 0)
            return entry(rl, i);
    return NULL;
}

/* kslab has one address space for the bus and the CPU: the untranslated entries are the
 * translated ones.  Any IRQL. */
static PCM_PARTIAL_RESOURCE_DESCRIPTOR rl_find_untranslated_entry(IResourceList *This, CM_RESOURCE_TYPE Type,
                                                                  ULONG Index)
{
    return rl_find_translated_entry(This, Type, Index);
}

/* Append an entry (the translated form; see above).  STATUS_INSUFFICIENT_RESOURCES when the
 * list is full.  PASSIVE_LEVEL. */
static NTSTATUS rl_add_entry(IResourceList *This, PCM_PARTIAL_RESOURCE_DESCRIPTOR Translated,
                             PCM_PARTIAL_RESOURCE_DESCRIPTOR Untranslated)
{
    (void)Untranslated;
    pcl_resource_list *rl = from_iface(This);
    if (!Translated)
        return STATUS_INVALID_PARAMETER;
    if (count_of(rl) >= rl->capacity)
        return STATUS_INSUFFICIENT_RESOURCES;
    *entry(rl, count_of(rl)) = *Translated;
    rl->list->List[0].PartialResourceList.Count++;
    return STATUS_SUCCESS;
}

/* Append the Index-th entry of type Type of Parent.  STATUS_INVALID_PARAMETER when Parent has
 * no such entry.  PASSIVE_LEVEL. */
static NTSTATUS rl_add_entry_from_parent(IResourceList *This, IResourceList *Parent, CM_RESOURCE_TYPE Type,
                                         ULONG Index)
{
    PCM_PARTIAL_RESOURCE_DESCRIPTOR d = Parent ? Parent->lpVtbl->FindTranslatedEntry(Parent, Type, Index) : NULL;
    if (!d)
        return STATUS_INVALID_PARAMETER;
    return rl_add_entry(This, d, d);
}

/* The entries as a CM_RESOURCE_LIST with one full descriptor.  Any IRQL. */
static PCM_RESOURCE_LIST rl_translated_list(IResourceList *This)
{
    return from_iface(This)->list;
}

static const IResourceListVtbl resource_list_vtbl = {
    rl_query_interface,       rl_add_ref,         rl_release,         rl_number_of_entries,
    rl_number_of_entries_of_type, rl_find_translated_entry, rl_find_untranslated_entry, rl_add_entry,
    rl_add_entry_from_parent, rl_translated_list, rl_translated_list,
};

static NTSTATUS new_list(PRESOURCELIST *out, ULONG capacity)
{
    *out = NULL;
    pcl_resource_list *rl = ExAllocatePoolWithTag(NonPagedPool, sizeof *rl, KSL_PCL_POOL_TAG);
    size_t bytes = sizeof(CM_RESOURCE_LIST) + (size_t)(capacity ? capacity - 1 : 0) * sizeof(CM_PARTIAL_RESOURCE_DESCRIPTOR);
    CM_RESOURCE_LIST *list = rl ? ExAllocatePoolWithTag(NonPagedPool, bytes, KSL_PCL_POOL_TAG) : NULL;
    if (!list) {
        if (rl)
            ExFreePoolWithTag(rl, KSL_PCL_POOL_TAG);
        return STATUS_INSUFFICIENT_RESOURCES;
    }
    memset(list, 0, bytes);
    list->Count = 1;
    list->List[0].InterfaceType = PCIBus;
    list->List[0].PartialResourceList.Version = 1;
    list->List[0].PartialResourceList.Revision = 1;
    rl->iface.lpVtbl = &resource_list_vtbl;
    rl->refs = 1;
    rl->capacity = capacity;
    rl->list = list;
    *out = &rl->iface;
    return STATUS_SUCCESS;
}

/* PASSIVE_LEVEL (the caller checks under its own WDK name). */
NTSTATUS ksl__pcl_new_resource_list(PRESOURCELIST *out, const CM_PARTIAL_RESOURCE_DESCRIPTOR *entries, ULONG n)
{
    if (!out || (n && !entries))
        return STATUS_INVALID_PARAMETER;
    NTSTATUS st = new_list(out, n);
    if (!NT_SUCCESS(st))
        return st;
    pcl_resource_list *rl = from_iface(*out);
    for (ULONG i = 0; i < n; i++)
        *entry(rl, i) = entries[i];
    rl->list->List[0].PartialResourceList.Count = n;
    return STATUS_SUCCESS;
}

/* The partial descriptors of the first full descriptor of TranslatedResources.  PASSIVE_LEVEL. */
NTSTATUS NTAPI PcNewResourceList(PRESOURCELIST *OutResourceList, PUNKNOWN OuterUnknown, POOL_TYPE PoolType,
                                 PCM_RESOURCE_LIST TranslatedResources, PCM_RESOURCE_LIST UntranslatedResources)
{
    (void)OuterUnknown, (void)PoolType, (void)UntranslatedResources;
    ksl_require_irql(PASSIVE_LEVEL, "PcNewResourceList", __FILE__, __LINE__);
    if (!OutResourceList)
        return STATUS_INVALID_PARAMETER;
    if (!TranslatedResources || TranslatedResources->Count == 0)
        return ksl__pcl_new_resource_list(OutResourceList, NULL, 0);
    const CM_PARTIAL_RESOURCE_LIST *p = &TranslatedResources->List[0].PartialResourceList;
    return ksl__pcl_new_resource_list(OutResourceList, p->PartialDescriptors, p->Count);
}

/* An empty list of up to MaximumEntries entries, filled with AddEntryFromParent.  PASSIVE_LEVEL. */
NTSTATUS NTAPI PcNewResourceSublist(PRESOURCELIST *OutResourceList, PUNKNOWN OuterUnknown, POOL_TYPE PoolType,
                                    PRESOURCELIST ParentList, ULONG MaximumEntries)
{
    (void)OuterUnknown, (void)PoolType;
    ksl_require_irql(PASSIVE_LEVEL, "PcNewResourceSublist", __FILE__, __LINE__);
    if (!OutResourceList || !ParentList)
        return STATUS_INVALID_PARAMETER;
    return new_list(OutResourceList, MaximumEntries);
}
