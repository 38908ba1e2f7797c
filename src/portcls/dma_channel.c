/* SPDX-License-Identifier: MIT */
/*
 * IDmaChannel: a master DMA channel whose one common buffer is a physically contiguous block of
 * the simulated physical memory.  For WavePci the channel is mostly a formality (stream data
 * arrives through mappings); the buffer is there for miniports that keep descriptor lists in it.
 *
 * Like PortCls's own, the object is not thread-safe: callers serialize AllocateBuffer, FreeBuffer
 * and SetBufferSize against the other methods.
 */
#include <string.h>

#include "pcl_internal.h"

/* The owner cookie of a common buffer in physmem (IRP data buffers carry non-zero ones). */
#define PCL_COMMON_BUFFER_OWNER 0u

typedef struct pcl_dma_channel {
    IDmaChannel iface; /* first: the interface pointer is the object pointer */
    DMA_ADAPTER adapter; /* GetAdapterObject's answer; its operations find the channel from it */
    volatile LONG refs;
    ksl_physmem *pm;
    ULONG maximum_length; /* 0: no limit */
    void *buffer;         /* the common buffer, NULL when none */
    ULONG allocated;      /* its size */
    ULONG buffer_size;    /* the value SetBufferSize recorded */
} pcl_dma_channel;

static pcl_dma_channel *from_iface(IDmaChannel *This)
{
    return (pcl_dma_channel *)This;
}

static void free_buffer(pcl_dma_channel *ch)
{
    if (!ch->buffer)
        return;
    ksl_physmem_free(ch->pm, ch->buffer);
    ch->buffer = NULL;
    ch->allocated = 0;
    ch->buffer_size = 0;
}

/* Any IRQL. */
static NTSTATUS dma_query_interface(IDmaChannel *This, REFIID Iid, PVOID *Object)
{
    if (!Object)
        return STATUS_INVALID_PARAMETER;
    if (IsEqualGUIDAligned(Iid, &IID_IUnknown) || IsEqualGUIDAligned(Iid, &IID_IDmaChannel)) {
        InterlockedIncrement(&from_iface(This)->refs);
        *Object = This;
        return STATUS_SUCCESS;
    }
    *Object = NULL;
    return STATUS_NOINTERFACE;
}

/* Any IRQL. */
static ULONG dma_add_ref(IDmaChannel *This)
{
    return (ULONG)InterlockedIncrement(&from_iface(This)->refs);
}

/* IRQL <= DISPATCH_LEVEL (the last Release frees the buffer and the object). */
static ULONG dma_release(IDmaChannel *This)
{
    pcl_dma_channel *ch = from_iface(This);
    LONG left = InterlockedDecrement(&ch->refs);
    if (left == 0) {
        free_buffer(ch);
        ExFreePoolWithTag(ch, KSL_PCL_POOL_TAG);
    }
    return (ULONG)left;
}

/*
 * One physically contiguous common buffer of BufferSize bytes.  STATUS_UNSUCCESSFUL when one is
 * already allocated (FreeBuffer first), STATUS_INVALID_PARAMETER for 0 or more than the
 * channel's maximum length, STATUS_INSUFFICIENT_RESOURCES when physical memory is exhausted.
 * The address constraint is accepted and ignored (the simulated bus is 32-bit).  PASSIVE_LEVEL.
 */
static NTSTATUS dma_allocate_buffer(IDmaChannel *This, ULONG BufferSize, PPHYSICAL_ADDRESS PhysicalAddressConstraint)
{
    (void)PhysicalAddressConstraint;
    pcl_dma_channel *ch = from_iface(This);
    ksl_require_irql(PASSIVE_LEVEL, "IDmaChannel::AllocateBuffer", __FILE__, __LINE__);
    if (ch->buffer)
        return STATUS_UNSUCCESSFUL;
    if (BufferSize == 0 || (ch->maximum_length && BufferSize > ch->maximum_length))
        return STATUS_INVALID_PARAMETER;
    void *va = ksl_physmem_alloc(ch->pm, BufferSize, 0, true, PCL_COMMON_BUFFER_OWNER);
    if (!va)
        return STATUS_INSUFFICIENT_RESOURCES;
    ch->buffer = va;
    ch->allocated = BufferSize;
    ch->buffer_size = BufferSize;
    return STATUS_SUCCESS;
}

/* Free the common buffer, if any.  PASSIVE_LEVEL. */
static void dma_free_buffer(IDmaChannel *This)
{
    ksl_require_irql(PASSIVE_LEVEL, "IDmaChannel::FreeBuffer", __FILE__, __LINE__);
    free_buffer(from_iface(This));
}

/* The recorded buffer size.  Any IRQL. */
static ULONG dma_transfer_count(IDmaChannel *This)
{
    return from_iface(This)->buffer_size;
}

/* The channel's maximum transfer length (0: no limit).  Any IRQL. */
static ULONG dma_maximum_buffer_size(IDmaChannel *This)
{
    return from_iface(This)->maximum_length;
}

/* Bytes AllocateBuffer got (0 when none).  Any IRQL. */
static ULONG dma_allocated_buffer_size(IDmaChannel *This)
{
    return from_iface(This)->allocated;
}

/* The value last recorded by SetBufferSize (AllocateBuffer records the allocated size).  Any IRQL. */
static ULONG dma_buffer_size(IDmaChannel *This)
{
    return from_iface(This)->buffer_size;
}

/* Record a size; the channel itself does not use it.  Any IRQL. */
static void dma_set_buffer_size(IDmaChannel *This, ULONG BufferSize)
{
    from_iface(This)->buffer_size = BufferSize;
}

/* Virtual address of the common buffer, NULL when none.  Any IRQL. */
static PVOID dma_system_address(IDmaChannel *This)
{
    return from_iface(This)->buffer;
}

/* Physical address of the common buffer, 0 when none.  Any IRQL. */
static PHYSICAL_ADDRESS dma_physical_address(IDmaChannel *This)
{
    const pcl_dma_channel *ch = from_iface(This);
    PHYSICAL_ADDRESS pa;
    pa.QuadPart = ch->buffer ? (LONGLONG)ksl_physmem_pa(ch->pm, ch->buffer) : 0;
    return pa;
}

/* ---- the DMA adapter ------------------------------------------------------------------- */

static pcl_dma_channel *from_adapter(PDMA_ADAPTER a)
{
    return (pcl_dma_channel *)((char *)a - offsetof(pcl_dma_channel, adapter));
}

/* The adapter lives as long as its channel: nothing to put back.  PASSIVE_LEVEL. */
static void ad_put_dma_adapter(PDMA_ADAPTER DmaAdapter)
{
    (void)DmaAdapter;
    ksl_require_irql(PASSIVE_LEVEL, "DMA_OPERATIONS::PutDmaAdapter", __FILE__, __LINE__);
}

/* A physically contiguous block of Length bytes of simulated physical memory, its bus address
 * in *LogicalAddress; NULL (and address 0) when memory is exhausted or the allocation is
 * failed by injection.  Any number of blocks per adapter.  PASSIVE_LEVEL. */
static PVOID ad_allocate_common_buffer(PDMA_ADAPTER DmaAdapter, ULONG Length, PPHYSICAL_ADDRESS LogicalAddress,
                                       BOOLEAN CacheEnabled)
{
    (void)CacheEnabled;
    pcl_dma_channel *ch = from_adapter(DmaAdapter);
    ksl_require_irql(PASSIVE_LEVEL, "DMA_OPERATIONS::AllocateCommonBuffer", __FILE__, __LINE__);
    void *va = Length ? ksl_physmem_alloc(ch->pm, Length, 0, true, PCL_COMMON_BUFFER_OWNER) : NULL;
    if (LogicalAddress)
        LogicalAddress->QuadPart = va ? (LONGLONG)ksl_physmem_pa(ch->pm, va) : 0;
    return va;
}

/* Free a block AllocateCommonBuffer returned.  PASSIVE_LEVEL. */
static void ad_free_common_buffer(PDMA_ADAPTER DmaAdapter, ULONG Length, PHYSICAL_ADDRESS LogicalAddress,
                                  PVOID VirtualAddress, BOOLEAN CacheEnabled)
{
    (void)Length;
    (void)LogicalAddress;
    (void)CacheEnabled;
    ksl_require_irql(PASSIVE_LEVEL, "DMA_OPERATIONS::FreeCommonBuffer", __FILE__, __LINE__);
    if (VirtualAddress)
        ksl_physmem_free(from_adapter(DmaAdapter)->pm, VirtualAddress);
}

/* Cache-line alignment of the simulated bus.  Any IRQL. */
static ULONG ad_get_dma_alignment(PDMA_ADAPTER DmaAdapter)
{
    (void)DmaAdapter;
    return 1;
}

/* A bus master has no system DMA counter: 0.  Any IRQL. */
static ULONG ad_read_dma_counter(PDMA_ADAPTER DmaAdapter)
{
    (void)DmaAdapter;
    return 0;
}

/* The map-register and scatter/gather operations are NULL: a bus master of kslab's kind works
 * with common buffers and PortCls mappings. */
static DMA_OPERATIONS adapter_operations = {
    sizeof(DMA_OPERATIONS), ad_put_dma_adapter, ad_allocate_common_buffer, ad_free_common_buffer,
    NULL, NULL, NULL, NULL, NULL, ad_get_dma_alignment, ad_read_dma_counter, NULL, NULL,
};

/* The channel's DMA adapter (valid as long as the channel).  Any IRQL. */
static PADAPTER_OBJECT dma_get_adapter_object(IDmaChannel *This)
{
    return &from_iface(This)->adapter;
}

/* Copy ByteCount bytes from Source to Destination in the common buffer.  Any IRQL. */
static void dma_copy_to(IDmaChannel *This, PVOID Destination, PVOID Source, ULONG ByteCount)
{
    (void)This;
    if (ByteCount)
        memcpy(Destination, Source, ByteCount);
}

/* Copy ByteCount bytes from Source in the common buffer to Destination.  Any IRQL. */
static void dma_copy_from(IDmaChannel *This, PVOID Destination, PVOID Source, ULONG ByteCount)
{
    (void)This;
    if (ByteCount)
        memcpy(Destination, Source, ByteCount);
}

static const IDmaChannelVtbl dma_channel_vtbl = {
    dma_query_interface,
    dma_add_ref,
    dma_release,
    dma_allocate_buffer,
    dma_free_buffer,
    dma_transfer_count,
    dma_maximum_buffer_size,
    dma_allocated_buffer_size,
    dma_buffer_size,
    dma_set_buffer_size,
    dma_system_address,
    dma_physical_address,
    dma_get_adapter_object,
    dma_copy_to,
    dma_copy_from,
};

/* PASSIVE_LEVEL (the caller checks under its own WDK name). */
NTSTATUS ksl__pcl_new_dma_channel(PDMACHANNEL *out, ksl_physmem *pm, ULONG maximum_length)
{
    if (!out || !pm)
        return STATUS_INVALID_PARAMETER;
    *out = NULL;
    pcl_dma_channel *ch = ExAllocatePoolWithTag(NonPagedPool, sizeof *ch, KSL_PCL_POOL_TAG);
    if (!ch)
        return STATUS_INSUFFICIENT_RESOURCES;
    memset(ch, 0, sizeof *ch);
    ch->adapter.Version = 1;
    ch->adapter.Size = sizeof ch->adapter;
    ch->adapter.DmaOperations = &adapter_operations;
    ch->iface.lpVtbl = &dma_channel_vtbl;
    ch->refs = 1;
    ch->pm = pm;
    ch->maximum_length = maximum_length;
    *out = &ch->iface;
    return STATUS_SUCCESS;
}
