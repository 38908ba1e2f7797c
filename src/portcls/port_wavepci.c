/* SPDX-License-Identifier: MIT */
/*
 * IPortWavePci and the filter's client side: bind a miniport to its resources, open pins with a
 * format the miniport's data ranges accept, step the pin through KSSTATE, close.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kslab/engine.h>

#include "port.h"

/* Port timer period when a stream has no service group (the WDK: "currently 20 milliseconds"). */
#define PCL_TIMER_MS 20

static ksl_wavepci_filter *filter_of(IPortWavePci *This)
{
    return (ksl_wavepci_filter *)((char *)This - offsetof(ksl_wavepci_filter, port));
}

/* Pin i of a filter descriptor: the miniport says how far apart its pin descriptors are
 * (PinSize >= sizeof(PCPIN_DESCRIPTOR), checked when the descriptor is taken). */
static const PCPIN_DESCRIPTOR *pin_descriptor(const PCFILTER_DESCRIPTOR *d, ULONG i)
{
    return (const PCPIN_DESCRIPTOR *)((const char *)d->Pins + (size_t)i * d->PinSize);
}

/* ---- IPortWavePci ------------------------------------------------------------------------- */

static NTSTATUS port_query_interface(IPortWavePci *This, REFIID iid, PVOID *out)
{
    if (IsEqualGUID(iid, &IID_IUnknown) || IsEqualGUID(iid, &IID_IPort) || IsEqualGUID(iid, &IID_IPortWavePci)) {
        *out = This;
        return STATUS_SUCCESS;
    }
    *out = NULL;
    return STATUS_NOINTERFACE;
}

static ULONG port_add_ref(IPortWavePci *This)
{
    (void)This;
    return 1; /* owned by the filter */
}

static ULONG port_release(IPortWavePci *This)
{
    (void)This;
    return 1;
}

static NTSTATUS bind_miniport(ksl_wavepci_filter *f, PUNKNOWN adapter);

/* The adapter's StartDevice binds the port to its miniport and resources (a port PcNewPort handed
 * out); a port kslab bound itself (a NewMiniport driver) refuses a second binding.  PASSIVE_LEVEL. */
static NTSTATUS port_init(IPortWavePci *This, PDEVICE_OBJECT DeviceObject, PIRP Irp, PUNKNOWN UnknownMiniport,
                          PUNKNOWN UnknownAdapter, PRESOURCELIST ResourceList)
{
    (void)DeviceObject, (void)Irp;
    ksl_wavepci_filter *f = filter_of(This);
    ksl_require_irql(PASSIVE_LEVEL, "IPort::Init", __FILE__, __LINE__);
    if (f->mini)
        return STATUS_INVALID_DEVICE_REQUEST;
    if (!UnknownMiniport || !ResourceList)
        return STATUS_INVALID_PARAMETER;
    PVOID mini = NULL;
    NTSTATUS st = UnknownMiniport->lpVtbl->QueryInterface(UnknownMiniport, &IID_IMiniportWavePci, &mini);
    if (!NT_SUCCESS(st) || !mini)
        return NT_SUCCESS(st) ? STATUS_NOINTERFACE : st;
    f->mini = mini;
    f->resources = ResourceList;
    ResourceList->lpVtbl->AddRef(ResourceList);
    return bind_miniport(f, UnknownAdapter);
}

/* The device's PnP properties (IoGetDeviceProperty).  PASSIVE_LEVEL. */
static NTSTATUS port_get_device_property(IPortWavePci *This, DEVICE_REGISTRY_PROPERTY DeviceProperty, ULONG BufferLength,
                                         PVOID PropertyBuffer, PULONG ResultLength)
{
    return PcGetDeviceProperty(&filter_of(This)->device, DeviceProperty, BufferLength, PropertyBuffer, ResultLength);
}

/* The adapter's registry (adapter.c); a NewMiniport driver has none.  PASSIVE_LEVEL. */
static NTSTATUS port_new_registry_key(IPortWavePci *This, PREGISTRYKEY *OutRegistryKey, PUNKNOWN OuterUnknown,
                                      ULONG RegistryKeyType, ACCESS_MASK DesiredAccess, POBJECT_ATTRIBUTES ObjectAttributes,
                                      ULONG CreateOptions, PULONG Disposition)
{
    (void)OuterUnknown, (void)DesiredAccess, (void)ObjectAttributes, (void)CreateOptions, (void)Disposition;
    ksl_require_irql(PASSIVE_LEVEL, "IPort::NewRegistryKey", __FILE__, __LINE__);
    if (!OutRegistryKey)
        return STATUS_INVALID_PARAMETER;
    return ksl__pcl_adapter_registry_key(filter_of(This), RegistryKeyType, OutRegistryKey);
}

static void port_notify(IPortWavePci *This, PSERVICEGROUP ServiceGroup)
{
    (void)This;
    const char *file;
    int line;
    ksl__pcl_take_site(&file, &line);
    if (!ServiceGroup) {
        ksl_report("K.driver-assert", file, line, "IPortWavePci::Notify with a NULL service group");
        return;
    }
    IServiceGroup_RequestService(ServiceGroup);
}

static NTSTATUS port_new_master_dma_channel(IPortWavePci *This, PDMACHANNEL *OutDmaChannel, PUNKNOWN OuterUnknown,
                                            POOL_TYPE PoolType, PRESOURCELIST ResourceList, BOOLEAN ScatterGather,
                                            BOOLEAN Dma32BitAddresses, BOOLEAN Dma64BitAddresses, BOOLEAN IgnoreCount,
                                            DMA_WIDTH DmaWidth, DMA_SPEED DmaSpeed, ULONG MaximumLength,
                                            ULONG DmaPort)
{
    (void)OuterUnknown, (void)PoolType, (void)ResourceList, (void)ScatterGather, (void)Dma32BitAddresses;
    (void)Dma64BitAddresses, (void)IgnoreCount, (void)DmaWidth, (void)DmaSpeed, (void)DmaPort;
    ksl_require_irql(PASSIVE_LEVEL, "IPortWavePci::NewMasterDmaChannel", __FILE__, __LINE__);
    if (!OutDmaChannel)
        return STATUS_INVALID_PARAMETER;
    return ksl__pcl_new_dma_channel(OutDmaChannel, filter_of(This)->pm, MaximumLength);
}

static const IPortWavePciVtbl port_vtbl = {port_query_interface,    port_add_ref,          port_release,
                                           port_init,               port_get_device_property,
                                           port_new_registry_key,   port_notify,
                                           port_new_master_dma_channel};

/* ---- filter ------------------------------------------------------------------------------- */

ksl_wavepci_filter *ksl_wavepci_create(ksl_engine *e, const ksl_wavepci_driver *drv, ksl_physmem *pm,
                                       const CM_PARTIAL_RESOURCE_DESCRIPTOR *res, ULONG nres,
                                       uint32_t buffer_offset, char *err, size_t errlen)
{
    if (!drv || drv->version < 1 || drv->version > KSL_WAVEPCI_DRIVER_VERSION ||
        !drv->NewMiniport == !(drv->version >= 2 && drv->DriverEntry)) {
        snprintf(err, errlen, "not a WavePci driver of interface version 1..%u with one of NewMiniport, DriverEntry",
                 KSL_WAVEPCI_DRIVER_VERSION);
        return NULL;
    }
    if (!pm || buffer_offset >= KSL_PAGE_SIZE || buffer_offset % 4) {
        snprintf(err, errlen, "buffer offset %u: must be a multiple of 4 below %u", buffer_offset, KSL_PAGE_SIZE);
        return NULL;
    }
    ksl_wavepci_filter *f = calloc(1, sizeof *f);
    if (!f || nres > sizeof f->res / sizeof f->res[0]) {
        free(f);
        snprintf(err, errlen, "out of memory, or too many resources");
        return NULL;
    }
    f->e = e;
    f->drv = drv;
    f->pm = pm;
    f->buffer_offset = buffer_offset;
    f->port.lpVtbl = &port_vtbl;
    memcpy(f->res, res, nres * sizeof *res);
    f->nres = nres;
    f->device.Type = 3; /* IO_TYPE_DEVICE */
    f->device.Size = sizeof f->device;
    f->device.DeviceExtension = f;
    ksl__pcl_ledger_init(&f->ledger);
    ksl_physmem_set_observer(pm, ksl__pcl_ledger_observe, &f->ledger);
    return f;
}

void ksl_wavepci_destroy(ksl_wavepci_filter *f)
{
    if (!f)
        return;
    ksl__pcl_adapter_discard(f); /* a run that stopped at a finding never removed its adapter */
    ksl_physmem_set_observer(f->pm, NULL, NULL);
    /* A run that stopped at a finding leaves IRPs and pins behind.  A record still in the ledger
     * was never given to ksl_wavepci_irp_free, so its IRP is still allocated too. */
    for (uint64_t i = 0; i < f->ledger.nids; i++)
        if (f->ledger.by_id[i]) {
            IoFreeIrp(f->ledger.by_id[i]->irp);
            ksl__pcl_irp_destroy(f, f->ledger.by_id[i]);
        }
    for (size_t i = 0; i < sizeof f->pins / sizeof f->pins[0]; i++)
        if (f->pins[i]) {
            free(f->pins[i]->held);
            free(f->pins[i]);
        }
    ksl__pcl_ledger_destroy(&f->ledger);
    free(f);
}

void ksl_wavepci_get_stats(const ksl_wavepci_filter *f, ksl_wavepci_stats *out)
{
    pthread_mutex_lock((pthread_mutex_t *)&f->ledger.mu);
    *out = f->ledger.st;
    pthread_mutex_unlock((pthread_mutex_t *)&f->ledger.mu);
}

static void filter_service(void *ctx)
{
    ksl_wavepci_filter *f = ctx;
    uint32_t span = ksl_span_open(KSL_SPAN_WP_SERVICE, NULL, KSL_WIN_WP_ISR_DURING_SERVICE + 1, KSL_SPAN_ISR_OTHER_CPU);
    f->mini->lpVtbl->Service(f->mini);
    ksl_span_close(span);
}

/* Init the miniport bound to f (f->mini, f->resources set), join its service group, take its
 * description.  On failure the binding is undone.  PASSIVE_LEVEL. */
static NTSTATUS bind_miniport(ksl_wavepci_filter *f, PUNKNOWN adapter)
{
    NTSTATUS st = f->mini->lpVtbl->Init(f->mini, adapter, f->resources, &f->port, &f->mini_group);
    if (!NT_SUCCESS(st))
        goto fail;
    if (f->mini_group) {
        ksl__pcl_sink_init(&f->mini_sink, filter_service, NULL, f);
        IServiceGroup_AddMember(f->mini_group, &f->mini_sink.iface);
    }
    st = f->mini->lpVtbl->GetDescription(f->mini, &f->desc);
    if (NT_SUCCESS(st) && !f->desc)
        st = STATUS_UNSUCCESSFUL;
    /* Strides shorter than the descriptors would make the port read garbage. */
    if (NT_SUCCESS(st) && ((f->desc->PinCount && f->desc->PinSize < sizeof(PCPIN_DESCRIPTOR)) ||
                           (f->desc->NodeCount && f->desc->NodeSize < sizeof(PCNODE_DESCRIPTOR))))
        st = STATUS_INVALID_PARAMETER;
    if (NT_SUCCESS(st))
        return st;
fail:
    ksl__pcl_filter_unbind(f);
    return NT_SUCCESS(st) ? STATUS_UNSUCCESSFUL : st;
}

NTSTATUS ksl_wavepci_start(ksl_wavepci_filter *f)
{
    ksl_require_irql(PASSIVE_LEVEL, "ksl_wavepci_start", __FILE__, __LINE__);
    if (!f->drv->NewMiniport) /* an adapter driver: DriverEntry, AddDevice, StartDevice (adapter.c) */
        return ksl__pcl_adapter_start(f);
    NTSTATUS st = ksl__pcl_new_resource_list(&f->resources, f->res, f->nres);
    if (!NT_SUCCESS(st))
        return st;
    st = f->drv->NewMiniport(&f->mini);
    if (!NT_SUCCESS(st) || !f->mini) {
        ksl_wavepci_stop(f);
        return NT_SUCCESS(st) ? STATUS_UNSUCCESSFUL : st;
    }
    return bind_miniport(f, NULL);
}

const char *ksl_wavepci_start_error(const ksl_wavepci_filter *f)
{
    return f->adapter_why;
}

void ksl_wavepci_stop(ksl_wavepci_filter *f)
{
    ksl_require_irql(PASSIVE_LEVEL, "ksl_wavepci_stop", __FILE__, __LINE__);
    if (f->adapter) { /* the adapter tears down its subdevices, this port among them, in order */
        ksl__pcl_adapter_stop(f);
        return;
    }
    ksl__pcl_filter_unbind(f);
}

void ksl__pcl_filter_unbind(ksl_wavepci_filter *f)
{
    if (f->mini_group) {
        IServiceGroup_RemoveMember(f->mini_group, &f->mini_sink.iface);
        IServiceGroup_Release(f->mini_group);
        f->mini_group = NULL;
    }
    if (f->mini) {
        f->mini->lpVtbl->Release(f->mini);
        f->mini = NULL;
    }
    if (f->resources) {
        f->resources->lpVtbl->Release(f->resources);
        f->resources = NULL;
    }
    f->desc = NULL;
}

/* ---- pins --------------------------------------------------------------------------------- */

static bool range_accepts(const KSDATARANGE *r, const WAVEFORMATEX *w)
{
    if (!IsEqualGUID(&r->MajorFormat, &KSDATAFORMAT_TYPE_AUDIO) || !IsEqualGUID(&r->SubFormat, &KSDATAFORMAT_SUBTYPE_PCM))
        return false;
    if (r->FormatSize < sizeof(KSDATARANGE_AUDIO))
        return false;
    const KSDATARANGE_AUDIO *a = (const KSDATARANGE_AUDIO *)r;
    return w->nChannels >= 1 && w->nChannels <= a->MaximumChannels && w->wBitsPerSample >= a->MinimumBitsPerSample &&
           w->wBitsPerSample <= a->MaximumBitsPerSample && w->nSamplesPerSec >= a->MinimumSampleFrequency &&
           w->nSamplesPerSec <= a->MaximumSampleFrequency;
}

/* The KS data format of a PCM wave format. */
static KSDATAFORMAT_WAVEFORMATEX wave_format(const WAVEFORMATEX *w)
{
    KSDATAFORMAT_WAVEFORMATEX fmt = {
        .DataFormat = {.FormatSize = sizeof fmt, .SampleSize = w->nBlockAlign, .MajorFormat = KSDATAFORMAT_TYPE_AUDIO,
                       .SubFormat = KSDATAFORMAT_SUBTYPE_PCM, .Specifier = KSDATAFORMAT_SPECIFIER_WAVEFORMATEX},
        .WaveFormatEx = *w};
    return fmt;
}

/* Tell `unk`'s IPowerNotify, if it has one, about `state`. */
static void power_notify(PUNKNOWN unk, DEVICE_POWER_STATE state)
{
    PVOID out = NULL;
    if (!unk || !NT_SUCCESS(unk->lpVtbl->QueryInterface(unk, &IID_IPowerNotify, &out)) || !out)
        return;
    PPOWERNOTIFY pn = out;
    POWER_STATE ps = {.DeviceState = state};
    ksl_trace_note("IPowerNotify::PowerChangeNotify", __FILE__, __LINE__);
    IPowerNotify_PowerChangeNotify(pn, ps);
    IPowerNotify_Release(pn);
}

static void power_notify_all(ksl_wavepci_filter *f, DEVICE_POWER_STATE state)
{
    power_notify((PUNKNOWN)f->mini, state);
    for (size_t i = 0; i < sizeof f->pins / sizeof f->pins[0]; i++)
        if (f->pins[i])
            power_notify((PUNKNOWN)f->pins[i]->mini, state);
}

NTSTATUS ksl_wavepci_set_power(ksl_wavepci_filter *f, DEVICE_POWER_STATE state)
{
    ksl_require_irql(PASSIVE_LEVEL, "ksl_wavepci_set_power", __FILE__, __LINE__);
    if (state < PowerDeviceD0 || state > PowerDeviceD3 || !f->mini)
        return STATUS_INVALID_PARAMETER;
    DEVICE_POWER_STATE from = f->power ? f->power : PowerDeviceD0;
    if (state == from)
        return STATUS_SUCCESS;
    if (from == PowerDeviceD0) {
        /* leaving D0: pause what runs, then tell the miniport */
        for (size_t i = 0; i < sizeof f->pins / sizeof f->pins[0]; i++) {
            pcl_stream *s = f->pins[i];
            if (!s || ksl_wavepci_get_state(s) != KSSTATE_RUN)
                continue;
            ksl_window_hit(KSL_WIN_WP_POWER_DOWN_DURING_DMA);
            s->power_paused = NT_SUCCESS(ksl_wavepci_set_state(s, KSSTATE_PAUSE));
        }
        power_notify_all(f, state);
        ksl__pcl_adapter_power(f, state); /* the adapter powers the hardware down last */
    } else if (state == PowerDeviceD0) {
        /* back in D0: the adapter first (it restores the hardware), then the miniport, then run
         * what the power-down paused */
        ksl__pcl_adapter_power(f, state);
        power_notify_all(f, state);
        for (size_t i = 0; i < sizeof f->pins / sizeof f->pins[0]; i++) {
            pcl_stream *s = f->pins[i];
            if (s && s->power_paused) {
                s->power_paused = false;
                if (ksl_wavepci_get_state(s) == KSSTATE_PAUSE)
                    ksl_wavepci_set_state(s, KSSTATE_RUN);
            }
        }
    } else {
        power_notify_all(f, state); /* between low-power states */
        ksl__pcl_adapter_power(f, state);
    }
    f->power = state;
    return STATUS_SUCCESS;
}

NTSTATUS ksl_wavepci_get_position(ksl_wavepci_pin *s, ULONGLONG *position)
{
    ksl_require_irql(PASSIVE_LEVEL, "ksl_wavepci_get_position", __FILE__, __LINE__);
    ksl_trace_note("IMiniportWavePciStream::GetPosition", __FILE__, __LINE__);
    return s->mini->lpVtbl->GetPosition(s->mini, position);
}

NTSTATUS ksl_wavepci_set_format(ksl_wavepci_pin *s, const WAVEFORMATEX *w)
{
    ksl_require_irql(PASSIVE_LEVEL, "ksl_wavepci_set_format", __FILE__, __LINE__);
    ksl_trace_note("IMiniportWavePciStream::SetFormat", __FILE__, __LINE__);
    KSDATAFORMAT_WAVEFORMATEX fmt = wave_format(w);
    return s->mini->lpVtbl->SetFormat(s->mini, &fmt.DataFormat);
}

NTSTATUS ksl_wavepci_open(ksl_wavepci_filter *f, bool capture, const WAVEFORMATEX *w, ksl_wavepci_pin **out)
{
    ksl_require_irql(PASSIVE_LEVEL, "ksl_wavepci_open", __FILE__, __LINE__);
    *out = NULL;
    if (!f->desc || !w)
        return STATUS_INVALID_DEVICE_STATE;
    if (w->wFormatTag != WAVE_FORMAT_PCM || w->nBlockAlign != w->nChannels * (w->wBitsPerSample / 8) ||
        w->nAvgBytesPerSec != w->nSamplesPerSec * w->nBlockAlign)
        return STATUS_INVALID_PARAMETER;
    KSPIN_DATAFLOW flow = capture ? KSPIN_DATAFLOW_OUT : KSPIN_DATAFLOW_IN;
    ULONG pin = ~0u;
    bool accepted = false;
    for (ULONG i = 0; i < f->desc->PinCount && !accepted; i++) {
        const KSPIN_DESCRIPTOR *d = &pin_descriptor(f->desc, i)->KsPinDescriptor;
        if (d->Communication != KSPIN_COMMUNICATION_SINK || d->DataFlow != flow)
            continue;
        pin = i;
        for (ULONG k = 0; k < d->DataRangesCount && !accepted; k++)
            accepted = range_accepts(d->DataRanges[k], w);
    }
    if (pin == ~0u)
        return STATUS_NOT_SUPPORTED;
    if (!accepted)
        return STATUS_NO_MATCH;
    size_t slot = 0;
    while (slot < sizeof f->pins / sizeof f->pins[0] && f->pins[slot])
        slot++;
    pcl_stream *s = slot < sizeof f->pins / sizeof f->pins[0] ? malloc(sizeof *s) : NULL;
    if (!s)
        return STATUS_INSUFFICIENT_RESOURCES;
    ksl__pcl_stream_init(s, f, capture, w->nBlockAlign);
    KSDATAFORMAT_WAVEFORMATEX fmt = wave_format(w);
    NTSTATUS st = f->mini->lpVtbl->NewStream(f->mini, &s->mini, NULL, NonPagedPool, &s->port_stream.iface, pin,
                                             capture, &fmt.DataFormat, &s->dma, &s->group);
    if (!NT_SUCCESS(st) || !s->mini) {
        free(s);
        return NT_SUCCESS(st) ? STATUS_UNSUCCESSFUL : st;
    }
    if (s->group)
        IServiceGroup_AddMember(s->group, &s->sink.iface);
    f->pins[slot] = s;
    *out = s;
    return STATUS_SUCCESS;
}

KSSTATE ksl_wavepci_get_state(const ksl_wavepci_pin *s)
{
    return (KSSTATE)atomic_load(&s->state);
}

NTSTATUS ksl_wavepci_set_state(ksl_wavepci_pin *s, KSSTATE to)
{
    ksl_require_irql(PASSIVE_LEVEL, "ksl_wavepci_set_state", __FILE__, __LINE__);
    KSSTATE from = ksl_wavepci_get_state(s);
    if (to == from)
        return STATUS_SUCCESS;
    if ((int)to < KSSTATE_STOP || to > KSSTATE_RUN || (to != from + 1 && to + 1 != from))
        return STATUS_INVALID_DEVICE_STATE;
    if (ksl_span_open_elsewhere(KSL_SPAN_WP_SERVICE, s))
        ksl_window_hit(KSL_WIN_WP_STATE_CHANGE_DURING_SERVICE);
    uint32_t span = ksl__pcl_drain_enter(s, false);
    NTSTATUS st = s->mini->lpVtbl->SetState(s->mini, to);
    ksl__pcl_drain_leave(s, span);
    if (!NT_SUCCESS(st))
        return st;
    atomic_store(&s->state, to);
    if (!s->group) {
        if (to == KSSTATE_RUN) {
            LARGE_INTEGER due = {.QuadPart = -(LONGLONG)PCL_TIMER_MS * 10000};
            KeSetTimerEx(&s->timer, due, PCL_TIMER_MS, &s->timer_dpc);
            s->timer_running = true;
        } else if (s->timer_running) {
            KeCancelTimer(&s->timer);
            s->timer_running = false;
        }
    }
    if (to == KSSTATE_STOP)
        ksl__pcl_stream_stop(s);
    return STATUS_SUCCESS;
}

void ksl_wavepci_close(ksl_wavepci_pin *s)
{
    ksl_require_irql(PASSIVE_LEVEL, "ksl_wavepci_close", __FILE__, __LINE__);
    while (ksl_wavepci_get_state(s) != KSSTATE_STOP)
        ksl_wavepci_set_state(s, (KSSTATE)(ksl_wavepci_get_state(s) - 1));
    /* Releases that raced the STOP revoke are on their way: give them 100 ms of virtual time. */
    for (int i = 0; i < 100; i++) {
        KIRQL old;
        KeAcquireSpinLock(&s->lock, &old);
        bool idle = IsListEmpty(&s->irps) && s->held_count == 0;
        KeReleaseSpinLock(&s->lock, old);
        if (idle)
            break;
        LARGE_INTEGER ms = {.QuadPart = -10000};
        KeDelayExecutionThread(KernelMode, FALSE, &ms);
    }
    if (s->held_count) {
        pcl_mapping *m = s->held[s->held_head % s->held_cap];
        /* At the GetMapping call that took the oldest of them. */
        ksl_report("W1.mapping-held-at-close", m->get_file, m->get_line,
                   "%u mapping(s) still held by the miniport after STOP and close (the oldest: tag %p of IRP #%" PRIu64
                   ", from the GetMapping here); every mapping must leave by ReleaseMapping or RevokeMappings",
                   s->held_count, m->tag, m->irp->id);
        return;
    }
    /* No service may run in the miniport stream once it is released: stop new calls, remove
     * the sink, and wait for calls already under way (a DPC on another CPU) to return. */
    atomic_store(&s->closed, 1);
    if (s->group) {
        IServiceGroup_RemoveMember(s->group, &s->sink.iface);
        IServiceGroup_Release(s->group);
    }
    KeRemoveQueueDpc(&s->timer_dpc);
    while (atomic_load(&s->in_service)) {
        LARGE_INTEGER us = {.QuadPart = -100};
        KeDelayExecutionThread(KernelMode, FALSE, &us);
    }
    ksl_quiesce_point(); /* no service of this stream runs any more: its teardown is ordered after */
    s->mini->lpVtbl->Release(s->mini);
    /* NewStream handed the port a reference to the stream's DMA channel: the port's to release. */
    if (s->dma)
        s->dma->lpVtbl->Release(s->dma);
    for (size_t i = 0; i < sizeof s->f->pins / sizeof s->f->pins[0]; i++)
        if (s->f->pins[i] == s)
            s->f->pins[i] = NULL;
    ksl__pcl_sink_release(&s->sink); /* the pin's reference; a running group DPC may hold another */
}
