/* SPDX-License-Identifier: MIT */
/*
 * The reference AC'97 miniport, filter side: IMiniportWavePci, codec bring-up, the ISR and the
 * pin description.  The streams are in stream.c.
 */
#include "ac97_miniport.h"

#define NAM(mp, reg) ((mp)->nam + (reg))
#define NABM(mp, reg) ((mp)->nabm + (reg))

/* ---- description -------------------------------------------------------------------------- */

static const KSDATARANGE_AUDIO pcm_range = {
    .DataRange = {.FormatSize = sizeof(KSDATARANGE_AUDIO),
                  .MajorFormat = {0x73647561, 0x0000, 0x0010, {0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71}},
                  .SubFormat = {0x00000001, 0x0000, 0x0010, {0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71}},
                  .Specifier = {0x05589f81, 0xc356, 0x11ce, {0xbf, 0x01, 0x00, 0xaa, 0x00, 0x55, 0x59, 0x5a}}},
    .MaximumChannels = 2,
    .MinimumBitsPerSample = 16,
    .MaximumBitsPerSample = 16,
    .MinimumSampleFrequency = KSL_AC97_MIN_RATE,
    .MaximumSampleFrequency = KSL_AC97_MAX_RATE,
};
static const PKSDATARANGE pcm_ranges[] = {(PKSDATARANGE)&pcm_range};

static const PCPIN_DESCRIPTOR pins[] = {
    /* render: data flows into the filter from the client */
    {.MaxGlobalInstanceCount = 1,
     .MaxFilterInstanceCount = 1,
     .KsPinDescriptor = {.DataRangesCount = 1,
                         .DataRanges = pcm_ranges,
                         .DataFlow = KSPIN_DATAFLOW_IN,
                         .Communication = KSPIN_COMMUNICATION_SINK}},
    /* capture: data flows out of the filter to the client */
    {.MaxGlobalInstanceCount = 1,
     .MaxFilterInstanceCount = 1,
     .KsPinDescriptor = {.DataRangesCount = 1,
                         .DataRanges = pcm_ranges,
                         .DataFlow = KSPIN_DATAFLOW_OUT,
                         .Communication = KSPIN_COMMUNICATION_SINK}},
};
static PCFILTER_DESCRIPTOR description = {
    .PinSize = sizeof(PCPIN_DESCRIPTOR), .PinCount = 2, .Pins = pins, .NodeSize = sizeof(PCNODE_DESCRIPTOR)};

/* ---- ISR: acknowledge and Notify, nothing else -------------------------------------------- */

static NTSTATUS isr(PINTERRUPTSYNC sync, PVOID context)
{
    (void)sync;
    ac97_miniport *mp = context;
    ULONG gsta = READ_PORT_ULONG(NABM(mp, KSL_AC97_GLOB_STA));
    if (gsta == 0 || gsta == 0xFFFFFFFFu)
        return STATUS_UNSUCCESSFUL;
    static const struct {
        ULONG bit;
        ULONG base;
        int ch;
    } chans[] = {{KSL_AC97_GLOB_STA_POINT, KSL_AC97_PO_BASE, AC97_CH_OUT},
                 {KSL_AC97_GLOB_STA_PIINT, KSL_AC97_PI_BASE, AC97_CH_IN}};
    NTSTATUS result = STATUS_UNSUCCESSFUL;
    for (size_t i = 0; i < sizeof chans / sizeof chans[0]; i++) {
        if (!(gsta & chans[i].bit))
            continue;
        USHORT sr = READ_PORT_USHORT(NABM(mp, chans[i].base + KSL_AC97_SR));
        WRITE_PORT_USHORT(NABM(mp, chans[i].base + KSL_AC97_SR), sr & KSL_AC97_SR_W1C);
        result = STATUS_SUCCESS;
        ac97_stream *s = mp->streams[chans[i].ch];
        if (s)
            IPortWavePci_Notify(mp->port, s->group);
    }
    return result;
}

/* ---- IMiniportWavePci --------------------------------------------------------------------- */

static NTSTATUS mp_query_interface(IMiniportWavePci *This, REFIID iid, PVOID *out)
{
    if (IsEqualGUID(iid, &IID_IUnknown) || IsEqualGUID(iid, &IID_IMiniport) || IsEqualGUID(iid, &IID_IMiniportWavePci)) {
        *out = This;
        This->lpVtbl->AddRef(This);
        return STATUS_SUCCESS;
    }
    if (IsEqualGUID(iid, &IID_IPowerNotify)) {
        *out = &((ac97_miniport *)This)->power_iface;
        This->lpVtbl->AddRef(This);
        return STATUS_SUCCESS;
    }
    *out = NULL;
    return STATUS_NOINTERFACE;
}

static ULONG mp_add_ref(IMiniportWavePci *This)
{
    return (ULONG)InterlockedIncrement(&((ac97_miniport *)This)->refs);
}

static ULONG mp_release(IMiniportWavePci *This)
{
    ac97_miniport *mp = (ac97_miniport *)This;
    LONG r = InterlockedDecrement(&mp->refs);
    if (r)
        return (ULONG)r;
    if (mp->isync) {
        IInterruptSync_Disconnect(mp->isync);
        IInterruptSync_Release(mp->isync);
    }
    if (mp->port)
        IPortWavePci_Release(mp->port);
    ExFreePoolWithTag(mp, AC97_POOL_TAG);
    return 0;
}

static NTSTATUS mp_get_description(IMiniportWavePci *This, PPCFILTER_DESCRIPTOR *Description)
{
    (void)This;
    *Description = &description;
    return STATUS_SUCCESS;
}

static NTSTATUS mp_data_range_intersection(IMiniportWavePci *This, ULONG PinId, PKSDATARANGE DataRange,
                                           PKSDATARANGE MatchingDataRange, ULONG OutputBufferLength,
                                           PVOID ResultantFormat, PULONG ResultantFormatLength)
{
    (void)This, (void)PinId, (void)DataRange, (void)MatchingDataRange, (void)OutputBufferLength;
    (void)ResultantFormat, (void)ResultantFormatLength;
    return STATUS_NOT_IMPLEMENTED; /* the port's default intersection handles PCM */
}

/* Take the codec out of reset and enable variable rates. */
static NTSTATUS codec_init(ac97_miniport *mp)
{
    WRITE_PORT_ULONG(NABM(mp, KSL_AC97_GLOB_CNT), KSL_AC97_GLOB_CNT_COLD);
    ULONG tries = 0;
    while (!(READ_PORT_ULONG(NABM(mp, KSL_AC97_GLOB_STA)) & KSL_AC97_GLOB_STA_PCR)) {
        if (++tries > AC97_RESET_POLLS)
            return STATUS_DEVICE_NOT_READY;
        KeStallExecutionProcessor(10);
    }
    WRITE_PORT_USHORT(NAM(mp, KSL_AC97_RESET), 0);
    if (!(READ_PORT_USHORT(NAM(mp, KSL_AC97_EXT_AUDIO_ID)) & KSL_AC97_EXT_VRA))
        return STATUS_NOT_SUPPORTED;
    WRITE_PORT_USHORT(NAM(mp, KSL_AC97_EXT_AUDIO_CTRL), KSL_AC97_EXT_VRA);
    WRITE_PORT_USHORT(NAM(mp, KSL_AC97_MASTER_VOL), 0);
    WRITE_PORT_USHORT(NAM(mp, KSL_AC97_PCM_OUT_VOL), 0);
    return STATUS_SUCCESS;
}

static NTSTATUS mp_init(IMiniportWavePci *This, PUNKNOWN UnknownAdapter, PRESOURCELIST ResourceList,
                        PPORTWAVEPCI Port, PSERVICEGROUP *ServiceGroup)
{
    (void)UnknownAdapter;
    ac97_miniport *mp = (ac97_miniport *)This;
    *ServiceGroup = NULL; /* no miniport-wide service: the streams have their own groups */
    PCM_PARTIAL_RESOURCE_DESCRIPTOR nam = IResourceList_FindTranslatedPort(ResourceList, 0);
    PCM_PARTIAL_RESOURCE_DESCRIPTOR nabm = IResourceList_FindTranslatedPort(ResourceList, 1);
    if (!nam || !nabm || !IResourceList_FindTranslatedInterrupt(ResourceList, 0))
        return STATUS_INSUFFICIENT_RESOURCES;
    mp->nam = (uintptr_t)nam->u.Port.Start.QuadPart;
    mp->nabm = (uintptr_t)nabm->u.Port.Start.QuadPart;
    mp->port = Port;
    IPortWavePci_AddRef(Port);
    NTSTATUS st = codec_init(mp);
    if (!NT_SUCCESS(st))
        return st;
    st = PcNewInterruptSync(&mp->isync, NULL, ResourceList, 0, InterruptSyncModeNormal);
    if (!NT_SUCCESS(st))
        return st;
    st = IInterruptSync_RegisterServiceRoutine(mp->isync, isr, mp, FALSE);
    if (NT_SUCCESS(st))
        st = IInterruptSync_Connect(mp->isync);
    return st;
}

static NTSTATUS mp_new_stream(IMiniportWavePci *This, PMINIPORTWAVEPCISTREAM *Stream, PUNKNOWN OuterUnknown,
                              POOL_TYPE PoolType, PPORTWAVEPCISTREAM PortStream, ULONG Pin, BOOLEAN Capture,
                              PKSDATAFORMAT DataFormat, PDMACHANNEL *DmaChannel, PSERVICEGROUP *ServiceGroup)
{
    (void)OuterUnknown, (void)PoolType;
    ac97_miniport *mp = (ac97_miniport *)This;
    *Stream = NULL;
    if (Pin >= 2 || (Pin == 1) != (Capture != 0) || DataFormat->FormatSize < sizeof(KSDATAFORMAT_WAVEFORMATEX))
        return STATUS_INVALID_PARAMETER;
    const WAVEFORMATEX *w = &((PKSDATAFORMAT_WAVEFORMATEX)DataFormat)->WaveFormatEx;
    if (!ac97_format_ok(w))
        return STATUS_NO_MATCH;
    if (mp->streams[Capture ? AC97_CH_IN : AC97_CH_OUT])
        return STATUS_INVALID_DEVICE_REQUEST; /* one stream per DMA engine */
    ac97_stream *s;
    NTSTATUS st = ac97_stream_create(mp, PortStream, Capture, w, &s);
    if (!NT_SUCCESS(st))
        return st;
    *Stream = &s->iface;
    *DmaChannel = s->dma; /* with a reference each: the port releases them when it closes the pin */
    IDmaChannel_AddRef(s->dma);
    *ServiceGroup = s->group;
    IServiceGroup_AddRef(s->group);
    return STATUS_SUCCESS;
}

static void mp_service(IMiniportWavePci *This)
{
    (void)This; /* nothing at the filter level */
}

/* ---- IPowerNotify ------------------------------------------------------------------------- */

static ac97_miniport *power_owner(IPowerNotify *This)
{
    return CONTAINING_RECORD(This, ac97_miniport, power_iface);
}

static NTSTATUS pn_query_interface(IPowerNotify *This, REFIID iid, PVOID *out)
{
    return mp_query_interface(&power_owner(This)->iface, iid, out);
}

static ULONG pn_add_ref(IPowerNotify *This)
{
    return mp_add_ref(&power_owner(This)->iface);
}

static ULONG pn_release(IPowerNotify *This)
{
    return power_owner(This)->iface.lpVtbl->Release(&power_owner(This)->iface);
}

/* PASSIVE_LEVEL.  Going down, the port has paused the streams (their engines are halted) before
 * this call: only the cached state changes.  Coming up, the codec may have lost its settings
 * while off: each stream's rate is programmed again before the port restarts it. */
static void pn_power_change_notify(IPowerNotify *This, POWER_STATE PowerState)
{
    PAGED_CODE();
    ac97_miniport *mp = power_owner(This);
    DEVICE_POWER_STATE from = mp->power;
    mp->power = PowerState.DeviceState;
    if (PowerState.DeviceState == PowerDeviceD0 && from != PowerDeviceD0)
        for (int ch = 0; ch < 2; ch++)
            if (mp->streams[ch])
                ac97_stream_restore(mp->streams[ch]);
}

static const IPowerNotifyVtbl pn_vtbl = {pn_query_interface, pn_add_ref, pn_release, pn_power_change_notify};

static const IMiniportWavePciVtbl mp_vtbl = {mp_query_interface, mp_add_ref,           mp_release,
                                             mp_get_description, mp_data_range_intersection,
                                             mp_init,            mp_new_stream,        mp_service};

static NTSTATUS new_miniport(PMINIPORTWAVEPCI *Miniport)
{
    ac97_miniport *mp = ExAllocatePoolWithTag(NonPagedPool, sizeof *mp, AC97_POOL_TAG);
    if (!mp)
        return STATUS_INSUFFICIENT_RESOURCES;
    RtlZeroMemory(mp, sizeof *mp);
    mp->iface.lpVtbl = &mp_vtbl;
    mp->power_iface.lpVtbl = &pn_vtbl;
    mp->power = PowerDeviceD0;
    mp->refs = 1;
    *Miniport = &mp->iface;
    return STATUS_SUCCESS;
}

const ksl_wavepci_driver ksl_ac97_driver = {
    KSL_WAVEPCI_DRIVER_VERSION, "ac97", "reference AC'97 WavePci miniport, written to rules W1-W6", "ac97",
    new_miniport, NULL};
