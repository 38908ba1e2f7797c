/* SPDX-License-Identifier: MIT */
/*
 * The reference AC'97 miniport, stream side: the mapping ring, its hardware queue (descriptor
 * list, LVI, CR), the two paths that take mappings out of it (release after playback, revoke on
 * cancel or STOP), and the KSSTATE machine.  See ac97_miniport.h for how each rule is kept.
 *
 * Ring indices are descriptor indices: entry i of `ent` describes descriptor i of the list.  The
 * entries in use run from `head` for `count` slots; the hardware's CIV points at the one being
 * transferred, so every entry from head up to (not including) CIV is finished.
 */
#include "ac97_miniport.h"

#define REG(s, r) ((s)->regs + (r))
#define CR_IE (KSL_AC97_CR_IOCE | KSL_AC97_CR_LVBIE | KSL_AC97_CR_FEIE)

static ac97_stream *stream_of(IMiniportWavePciStream *This)
{
    return (ac97_stream *)This;
}

static ULONG tag_value(PVOID tag)
{
    return (ULONG)(ULONG_PTR)tag;
}

/* ---- hardware queue, under MapLock -------------------------------------------------------- */

static void write_descriptor(ac97_stream *s, ULONG i)
{
    const ac97_entry *e = &s->ent[i];
    ULONG ctl = ((e->len - e->off) / 2) & KSL_AC97_BD_LEN_MASK;
    ULONG ioc = s->ioc_bytes >= s->rate * s->channels * 2 * AC97_IOC_MS / 1000 ? KSL_AC97_BD_IOC : 0;
    s->bdl[2 * i] = (ULONG)(e->pa + e->off);
    s->bdl[2 * i + 1] = ctl | ioc | KSL_AC97_BD_BUP;
}

static void engine_start(ac97_stream *s)
{
    WRITE_PORT_UCHAR(REG(s, KSL_AC97_CR), CR_IE | KSL_AC97_CR_RPBM);
    s->engine = AC97_DMA_ON;
    s->loaded = TRUE;
}

static void engine_pause(ac97_stream *s)
{
    WRITE_PORT_UCHAR(REG(s, KSL_AC97_CR), CR_IE);
    if (s->engine == AC97_DMA_ON || s->engine == AC97_DMA_NEED_START)
        s->engine = AC97_DMA_OFF;
}

/* Reset the channel: CIV and LVI back to 0, nothing loaded.  The engine must be paused. */
static void engine_reset(ac97_stream *s)
{
    WRITE_PORT_UCHAR(REG(s, KSL_AC97_CR), KSL_AC97_CR_RR);
    for (ULONG i = 0; i < AC97_RESET_POLLS && (READ_PORT_UCHAR(REG(s, KSL_AC97_CR)) & KSL_AC97_CR_RR); i++)
        KeStallExecutionProcessor(1);
    WRITE_PORT_ULONG(REG(s, KSL_AC97_BDBAR), s->bdl_pa);
    WRITE_PORT_UCHAR(REG(s, KSL_AC97_CR), CR_IE);
    s->loaded = FALSE;
}

/* ---- ring fill: GetMapping with MapLock dropped ------------------------------------------- */

static void get_new_mappings(ac97_stream *s)
{
    KIRQL old;
    KeAcquireSpinLock(&s->MapLock, &old);
    if (s->filling) {
        /* One filler at a time keeps the ring in the order the port handed mappings out (two
         * would each take a tag, then insert in whatever order they got the lock back). */
        s->refill = TRUE;
        KeReleaseSpinLock(&s->MapLock, old);
        return;
    }
    s->filling = TRUE;
    do {
        s->refill = FALSE;
        while (s->count < AC97_MAX_ENTRIES) {
            ULONG tag = ++s->tag_counter;
            s->acq_tag = tag;
            s->acq_revoked = FALSE;
            s->acquiring = TRUE;
            KeReleaseSpinLock(&s->MapLock, old);

            PHYSICAL_ADDRESS pa;
            PVOID va;
            ULONG len = 0, flags = 0;
            NTSTATUS st = IPortWavePciStream_GetMapping(s->ps, (PVOID)(ULONG_PTR)tag, &pa, &va, &len, &flags);

            KeAcquireSpinLock(&s->MapLock, &old);
            /* Everything read before the call is stale now: the ring is re-read below. */
            s->acquiring = FALSE;
            if (!NT_SUCCESS(st))
                break;
            if (s->acq_revoked)
                continue; /* RevokeMappings counted it while we were out: it has left already */
            ASSERT(len > 0 && len <= AC97_MAX_MAPPING && !(pa.QuadPart & 1) && !(len & 1));
            ULONG i = (s->head + s->count) & KSL_AC97_BDL_MASK;
            s->ent[i] = (ac97_entry){tag, (ULONGLONG)pa.QuadPart, len, 0};
            s->ioc_bytes += len;
            if (flags)
                s->ioc_bytes = ~0u / 2; /* the last mapping of a packet: interrupt when it is done */
            write_descriptor(s, i);
            if (s->bdl[2 * i + 1] & KSL_AC97_BD_IOC)
                s->ioc_bytes = 0;
            s->count++;
            WRITE_PORT_UCHAR(REG(s, KSL_AC97_LVI), (UCHAR)i);
            if (s->engine == AC97_DMA_NEED_START)
                engine_start(s);
        }
    } while (s->refill && s->count < AC97_MAX_ENTRIES); /* a MappingAvailable came meanwhile */
    s->filling = FALSE;
    KeReleaseSpinLock(&s->MapLock, old);
}

/* ---- ring drain: ReleaseMapping with MapLock dropped -------------------------------------- */

/* Under MapLock: is the oldest entry finished by the hardware? */
static BOOLEAN head_finished(ac97_stream *s)
{
    if (!s->count || !s->loaded)
        return FALSE;
    ULONG civ = READ_PORT_UCHAR(REG(s, KSL_AC97_CIV));
    ULONG before = (civ - s->head) & KSL_AC97_BDL_MASK; /* entries ahead of the current one */
    if (before > 0 && before <= s->count)
        return TRUE;
    if (before != 0)
        return FALSE; /* CIV is just behind the ring: everything was released */
    /* The head is the current entry: finished only if it is the last and the engine halted
     * after it. */
    return s->count == 1 && (READ_PORT_USHORT(REG(s, KSL_AC97_SR)) & KSL_AC97_SR_CELV);
}

static void release_used_mappings(ac97_stream *s)
{
    KIRQL old;
    KeAcquireSpinLock(&s->MapLock, &old);
    if (s->draining) {
        /* One drainer at a time: two could pop in order but release out of order. */
        s->redrain = TRUE;
        KeReleaseSpinLock(&s->MapLock, old);
        return;
    }
    s->draining = TRUE;
    do {
        s->redrain = FALSE;
        while (head_finished(s)) {
            ac97_entry e = s->ent[s->head];
            s->head = (s->head + 1) & KSL_AC97_BDL_MASK;
            s->count--;
            s->bytes_done += e.len;
            KeReleaseSpinLock(&s->MapLock, old);
            IPortWavePciStream_ReleaseMapping(s->ps, (PVOID)(ULONG_PTR)e.tag);
            KeAcquireSpinLock(&s->MapLock, &old);
        }
    } while (s->redrain);
    s->draining = FALSE;
    KeReleaseSpinLock(&s->MapLock, old);
}

/* ---- revoke ------------------------------------------------------------------------------- */

static BOOLEAN in_range(ULONG tag, ULONG first, ULONG last)
{
    return tag - first <= last - first; /* tags increase in acquisition order */
}

static NTSTATUS st_revoke_mappings(IMiniportWavePciStream *This, PVOID FirstTag, PVOID LastTag, PULONG MappingsRevoked)
{
    ac97_stream *s = stream_of(This);
    ULONG first = tag_value(FirstTag), last = tag_value(LastTag), n = 0;
    BOOLEAN notify = FALSE;
    KeAcquireSpinLockAtDpcLevel(&s->MapLock);

    /* A mapping being acquired right now (GetMapping has returned it, or will): counted here,
     * dropped by its acquirer. */
    if (s->acquiring && !s->acq_revoked && in_range(s->acq_tag, first, last)) {
        s->acq_revoked = TRUE;
        n++;
    }

    BOOLEAN any = FALSE;
    for (ULONG k = 0; k < s->count; k++)
        any |= in_range(s->ent[(s->head + k) & KSL_AC97_BDL_MASK].tag, first, last);
    if (any) {
        /* Stop the engine where it is and see how far it got. */
        BOOLEAN was_running = s->engine == AC97_DMA_ON;
        engine_pause(s);
        ULONG done = 0, consumed = 0;
        if (s->loaded) {
            ULONG civ = READ_PORT_UCHAR(REG(s, KSL_AC97_CIV));
            ULONG picb = READ_PORT_USHORT(REG(s, KSL_AC97_PICB));
            USHORT sr = READ_PORT_USHORT(REG(s, KSL_AC97_SR));
            ULONG before = (civ - s->head) & KSL_AC97_BDL_MASK;
            /* CIV just behind the ring (halted at the end of the list on an entry already
             * released, e.g. mappings queued during a pause): nothing of the ring has started,
             * and PICB and CELV still describe that old entry, not the head. */
            if (before <= s->count)
                done = before;
            if (before < s->count) {
                const ac97_entry *cur = &s->ent[(s->head + done) & KSL_AC97_BDL_MASK];
                consumed = (cur->len - cur->off) - 2 * picb;
                if ((sr & KSL_AC97_SR_CELV) && done + 1 == s->count)
                    done++, consumed = 0; /* halted after the last one: it is finished too */
            }
        } else {
            /* Not run since the last rebuild: CIV and PICB read 0 and say nothing of the ring,
             * but the finished entries that rebuild kept (not yet released) are still finished:
             * the ones before descriptor 0, at the end of the ring.  Counting them as unplayed
             * would queue them again and the engine would play their audio twice. */
            ULONG before = (0u - s->head) & KSL_AC97_BDL_MASK;
            if (before <= s->count)
                done = before;
        }
        /* Keep the survivors in order: finished ones, then the current one from where it
         * stopped, then the rest. */
        ac97_entry keep[KSL_AC97_BDL_ENTRIES];
        ULONG nkeep = 0, nfinished = 0;
        for (ULONG k = 0; k < s->count; k++) {
            ac97_entry e = s->ent[(s->head + k) & KSL_AC97_BDL_MASK];
            if (in_range(e.tag, first, last)) {
                n++;
                s->bytes_done += k < done ? e.len : k == done ? e.off + consumed : e.off;
                continue;
            }
            if (k < done)
                nfinished++;
            else if (k == done)
                e.off += consumed;
            keep[nkeep++] = e;
        }
        /* Rebuild: after the reset the engine starts at descriptor 0, so the finished survivors
         * go just before it, at the end of the ring. */
        engine_reset(s);
        s->head = (KSL_AC97_BDL_ENTRIES - nfinished) & KSL_AC97_BDL_MASK;
        s->count = nkeep;
        s->ioc_bytes = ~0u / 2;
        for (ULONG k = 0; k < nkeep; k++) {
            ULONG i = (s->head + k) & KSL_AC97_BDL_MASK;
            s->ent[i] = keep[k];
            write_descriptor(s, i);
            s->ioc_bytes = ~0u / 2; /* interrupt at the end of every rebuilt entry */
        }
        s->ioc_bytes = 0;
        if (nkeep > nfinished) {
            WRITE_PORT_UCHAR(REG(s, KSL_AC97_LVI), (UCHAR)((nkeep - nfinished - 1) & KSL_AC97_BDL_MASK));
            if (was_running)
                engine_start(s);
        } else {
            /* nothing left to play: start again when a mapping arrives */
            s->engine = was_running ? AC97_DMA_NEED_START : s->engine;
            if (nkeep == 0) {
                s->head = 0;
            } else {
                s->loaded = TRUE; /* CIV 0 after the reset marks the finished ones as done */
                /* Nothing will interrupt for them any more — the reset even cleared an
                 * interrupt the ISR may be about to look at — so ask for the service that
                 * releases them, or their IRP never completes. */
                notify = TRUE;
            }
        }
    }
    KeReleaseSpinLockFromDpcLevel(&s->MapLock);
    if (notify)
        IPortWavePci_Notify(s->mp->port, s->group);
    *MappingsRevoked = n;
    return STATUS_SUCCESS;
}

/* ---- IMiniportWavePciStream --------------------------------------------------------------- */

static NTSTATUS st_query_interface(IMiniportWavePciStream *This, REFIID iid, PVOID *out)
{
    if (IsEqualGUID(iid, &IID_IUnknown) || IsEqualGUID(iid, &IID_IMiniportWavePciStream)) {
        *out = This;
        This->lpVtbl->AddRef(This);
        return STATUS_SUCCESS;
    }
    *out = NULL;
    return STATUS_NOINTERFACE;
}

static ULONG st_add_ref(IMiniportWavePciStream *This)
{
    return (ULONG)InterlockedIncrement(&stream_of(This)->refs);
}

static NTSTATUS publish(PINTERRUPTSYNC sync, PVOID context)
{
    (void)sync;
    ac97_stream *s = context;
    s->mp->streams[s->ch] = s->state == KSSTATE_STOP && s->refs == 0 ? NULL : s;
    return STATUS_SUCCESS;
}

static ULONG st_release(IMiniportWavePciStream *This)
{
    ac97_stream *s = stream_of(This);
    LONG r = InterlockedDecrement(&s->refs);
    if (r)
        return (ULONG)r;
    IInterruptSync_CallSynchronizedRoutine(s->mp->isync, publish, s); /* the ISR forgets us */
    KIRQL old;
    KeAcquireSpinLock(&s->MapLock, &old);
    engine_pause(s);
    engine_reset(s);
    KeReleaseSpinLock(&s->MapLock, old);
    IDmaChannel_FreeBuffer(s->dma);
    IDmaChannel_Release(s->dma);
    IServiceGroup_Release(s->group);
    IPortWavePciStream_Release(s->ps);
    ExFreePoolWithTag(s, AC97_POOL_TAG);
    return 0;
}

static NTSTATUS program_format(ac97_stream *s, const WAVEFORMATEX *w)
{
    ac97_miniport *mp = s->mp;
    USHORT reg = s->ch == AC97_CH_OUT ? KSL_AC97_FRONT_DAC_RATE : KSL_AC97_LR_ADC_RATE;
    WRITE_PORT_USHORT(mp->nam + reg, (USHORT)w->nSamplesPerSec);
    if (READ_PORT_USHORT(mp->nam + reg) != w->nSamplesPerSec)
        return STATUS_NOT_SUPPORTED;
    ULONG mono = s->ch == AC97_CH_OUT ? KSL_AC97_GLOB_CNT_PO_MONO : KSL_AC97_GLOB_CNT_PI_MONO;
    ULONG glob = READ_PORT_ULONG(mp->nabm + KSL_AC97_GLOB_CNT);
    glob = w->nChannels == 1 ? glob | mono : glob & ~mono;
    WRITE_PORT_ULONG(mp->nabm + KSL_AC97_GLOB_CNT, glob);
    s->rate = w->nSamplesPerSec;
    s->channels = w->nChannels;
    return STATUS_SUCCESS;
}

void ac97_stream_restore(ac97_stream *s)
{
    WAVEFORMATEX w = {WAVE_FORMAT_PCM, (USHORT)s->channels, s->rate, s->rate * s->channels * 2u,
                      (USHORT)(s->channels * 2u), 16, 0};
    program_format(s, &w);
}

static NTSTATUS st_set_format(IMiniportWavePciStream *This, PKSDATAFORMAT DataFormat)
{
    ac97_stream *s = stream_of(This);
    if (DataFormat->FormatSize < sizeof(KSDATAFORMAT_WAVEFORMATEX))
        return STATUS_INVALID_PARAMETER;
    const WAVEFORMATEX *w = &((PKSDATAFORMAT_WAVEFORMATEX)DataFormat)->WaveFormatEx;
    if (!ac97_format_ok(w))
        return STATUS_NO_MATCH;
    if (s->state != KSSTATE_STOP)
        return STATUS_INVALID_DEVICE_STATE;
    return program_format(s, w);
}

static NTSTATUS st_set_state(IMiniportWavePciStream *This, KSSTATE State)
{
    ac97_stream *s = stream_of(This);
    KIRQL old;
    KSSTATE from = s->state;
    s->state = State;
    switch (State) {
    case KSSTATE_RUN:
        release_used_mappings(s);
        get_new_mappings(s);
        KeAcquireSpinLock(&s->MapLock, &old);
        if (s->engine != AC97_DMA_ON) {
            if (s->count > 0)
                engine_start(s);
            else
                s->engine = AC97_DMA_NEED_START;
        }
        KeReleaseSpinLock(&s->MapLock, old);
        break;
    case KSSTATE_PAUSE:
    case KSSTATE_ACQUIRE:
        KeAcquireSpinLock(&s->MapLock, &old);
        engine_pause(s);
        KeReleaseSpinLock(&s->MapLock, old);
        release_used_mappings(s);
        if (from == KSSTATE_RUN && s->ch == AC97_CH_IN)
            IPortWavePciStream_TerminatePacket(s->ps); /* hand the client what was captured */
        break;
    case KSSTATE_STOP:
        KeAcquireSpinLock(&s->MapLock, &old);
        engine_pause(s);
        KeReleaseSpinLock(&s->MapLock, old);
        release_used_mappings(s);
        KeAcquireSpinLock(&s->MapLock, &old);
        if (s->count == 0) {
            engine_reset(s);
            s->head = 0;
        }
        s->bytes_done = 0; /* the position restarts at STOP; the port revokes what is left */
        KeReleaseSpinLock(&s->MapLock, old);
        break;
    }
    return STATUS_SUCCESS;
}

static NTSTATUS st_get_position(IMiniportWavePciStream *This, PULONGLONG Position)
{
    ac97_stream *s = stream_of(This);
    KIRQL old;
    KeAcquireSpinLock(&s->MapLock, &old);
    ULONGLONG pos = s->bytes_done;
    if (s->count && s->loaded) {
        ULONG civ, picb;
        do {
            civ = READ_PORT_UCHAR(REG(s, KSL_AC97_CIV));
            picb = READ_PORT_USHORT(REG(s, KSL_AC97_PICB));
        } while (civ != READ_PORT_UCHAR(REG(s, KSL_AC97_CIV)));
        ULONG before = (civ - s->head) & KSL_AC97_BDL_MASK;
        if (before <= s->count) {
            for (ULONG k = 0; k < before && k < s->count; k++)
                pos += s->ent[(s->head + k) & KSL_AC97_BDL_MASK].len;
            if (before < s->count) {
                const ac97_entry *cur = &s->ent[(s->head + before) & KSL_AC97_BDL_MASK];
                pos += cur->off + (cur->len - cur->off) - 2ull * picb;
            }
        }
    }
    KeReleaseSpinLock(&s->MapLock, old);
    *Position = pos;
    return STATUS_SUCCESS;
}

static NTSTATUS st_normalize_physical_position(IMiniportWavePciStream *This, PLONGLONG PhysicalPosition)
{
    ac97_stream *s = stream_of(This);
    *PhysicalPosition = (10000000LL / (LONGLONG)(s->channels * 2) * *PhysicalPosition) / (LONGLONG)s->rate;
    return STATUS_SUCCESS;
}

static NTSTATUS st_get_allocator_framing(IMiniportWavePciStream *This, PKSALLOCATOR_FRAMING Framing)
{
    ac97_stream *s = stream_of(This);
    Framing->RequirementsFlags = KSALLOCATOR_REQUIREMENTF_SYSTEM_MEMORY | KSALLOCATOR_REQUIREMENTF_PREFERENCES_ONLY;
    Framing->PoolType = NonPagedPool;
    Framing->Frames = 8;
    Framing->FrameSize = s->channels * 2 * (s->rate / 100);
    Framing->FileAlignment = FILE_LONG_ALIGNMENT;
    Framing->Reserved = 0;
    return STATUS_SUCCESS;
}

static void st_mapping_available(IMiniportWavePciStream *This)
{
    ac97_stream *s = stream_of(This);
    release_used_mappings(s);
    get_new_mappings(s);
}

/* A bus-master error halts the engine mid-buffer (SR.DCH without CELV while it should run; the
 * FIFOE interrupt brought us here): clear and set RPBM, which resumes where it stopped.  An LVI
 * write would not restart it. */
static void recover_engine(ac97_stream *s)
{
    KIRQL old;
    KeAcquireSpinLock(&s->MapLock, &old);
    if (s->engine == AC97_DMA_ON && s->count) {
        USHORT sr = READ_PORT_USHORT(REG(s, KSL_AC97_SR));
        if ((sr & KSL_AC97_SR_DCH) && !(sr & KSL_AC97_SR_CELV)) {
            WRITE_PORT_UCHAR(REG(s, KSL_AC97_CR), CR_IE);
            engine_start(s);
        }
    }
    KeReleaseSpinLock(&s->MapLock, old);
}

static void st_service(IMiniportWavePciStream *This)
{
    ac97_stream *s = stream_of(This);
    release_used_mappings(s);
    get_new_mappings(s);
    recover_engine(s);
}

static const IMiniportWavePciStreamVtbl st_vtbl = {
    st_query_interface,       st_add_ref,          st_release,           st_set_format,
    st_set_state,             st_get_position,     st_normalize_physical_position,
    st_get_allocator_framing, st_revoke_mappings,  st_mapping_available, st_service};

NTSTATUS ac97_stream_create(ac97_miniport *mp, PPORTWAVEPCISTREAM ps, BOOLEAN capture, const WAVEFORMATEX *w,
                            ac97_stream **out)
{
    ac97_stream *s = ExAllocatePoolWithTag(NonPagedPool, sizeof *s, AC97_POOL_TAG);
    if (!s)
        return STATUS_INSUFFICIENT_RESOURCES;
    RtlZeroMemory(s, sizeof *s);
    s->iface.lpVtbl = &st_vtbl;
    s->refs = 1;
    s->mp = mp;
    s->ps = ps;
    s->ch = capture ? AC97_CH_IN : AC97_CH_OUT;
    s->regs = mp->nabm + (capture ? KSL_AC97_PI_BASE : KSL_AC97_PO_BASE);
    s->state = KSSTATE_STOP;
    KeInitializeSpinLock(&s->MapLock);
    NTSTATUS st = PcNewServiceGroup(&s->group, NULL);
    if (!NT_SUCCESS(st))
        goto fail;
    st = IPortWavePci_NewMasterDmaChannel(mp->port, &s->dma, NULL, NonPagedPool, NULL, TRUE, TRUE, FALSE, FALSE,
                                          Width32Bits, MaximumDmaSpeed, AC97_MAX_MAPPING, 0);
    if (!NT_SUCCESS(st))
        goto fail;
    st = IDmaChannel_AllocateBuffer(s->dma, KSL_AC97_BDL_ENTRIES * KSL_AC97_BD_SIZE, NULL);
    if (!NT_SUCCESS(st))
        goto fail;
    s->bdl = IDmaChannel_SystemAddress(s->dma);
    s->bdl_pa = (ULONG)IDmaChannel_PhysicalAddress(s->dma).QuadPart;
    st = program_format(s, w);
    if (!NT_SUCCESS(st))
        goto fail;
    KIRQL old;
    KeAcquireSpinLock(&s->MapLock, &old);
    engine_pause(s);
    engine_reset(s);
    KeReleaseSpinLock(&s->MapLock, old);
    IPortWavePciStream_AddRef(ps);
    IInterruptSync_CallSynchronizedRoutine(mp->isync, publish, s);
    *out = s;
    return STATUS_SUCCESS;
fail:
    if (s->dma) {
        if (s->bdl)
            IDmaChannel_FreeBuffer(s->dma);
        IDmaChannel_Release(s->dma);
    }
    if (s->group)
        IServiceGroup_Release(s->group);
    ExFreePoolWithTag(s, AC97_POOL_TAG);
    return st;
}
