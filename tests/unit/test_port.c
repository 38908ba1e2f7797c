/* SPDX-License-Identifier: MIT */
/*
 * The WavePci port itself (src/portcls/port_stream.c, port_wavepci.c, ledger.c), driven through a
 * small fake miniport written here against portcls.h: how the port cuts IRPs into mappings, hands
 * them out and takes them back, completes IRPs, revokes on cancel and STOP, steps KSSTATE, drives
 * Service, terminates packets, checks formats and IRQL, and what its ownership ledger reports.
 *
 * The fake miniport keeps the mappings it holds in a list under its own spin lock and never holds
 * that lock across a port call (rules W2/W3).  Client threads play the miniport's DPC path:
 * they call GetMapping / ReleaseMapping / TerminatePacket through the IPortWavePciStream_* helper
 * macros.  A tiny DMA device (below) moves data "in hardware": writing its READ or WRITE register
 * makes it run ksl_physmem_dma_read / _write at the programmed physical address, so every byte
 * goes through the port's ledger exactly as the AC'97 model's would.
 *
 * As in the other unit tests, scenarios record what happened inside the run and the test asserts
 * it afterwards (cmocka assertions must not run on the engine's coroutine stacks).
 */
#include "harness.h"

#include <kslab/device.h>
#include <kslab/hw/physmem.h>
#include <kslab/wavepci.h>
#include <kslab/wdk/portcls.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FAKE_TAG 0x656B6146u /* 'Fake' */
#define MAX_IRPS 8
#define MAX_GOT 64
#define MAX_HELD 64
#define LOG_MAX 512
#define PAGE KSL_PAGE_SIZE

/* ---- a DMA device --------------------------------------------------------------------------- */

#define DD_BASE 0x3000u
#define DD_SIZE 0x10u
#define DD_REG_PA 0x0u     /* W: physical address of the next transfer */
#define DD_REG_READ 0x4u   /* W: read this many bytes at PA (playback: memory -> device) */
#define DD_REG_WRITE 0x8u  /* W: write this many bytes at PA (capture: device -> memory) */
#define DD_REG_STATUS 0xCu /* R: result of the last transfer (0, -1 bus error, -2 refused) */
#define DD_ACCESS_NS 200u
#define DD_SCRATCH (4u * PAGE)
#define DD_OUT_MAX (256u * 1024u)

#define IRQ_LINE 9u
#define IRQ_DIRQL 9u

typedef struct dmadev {
    ksl_device *d;
    ksl_physmem *pm;
    uint32_t pa;
    uint32_t status;
    uint32_t transfers;
    uint8_t fill;            /* next byte a capture transfer writes */
    size_t nout;
    uint8_t out[DD_OUT_MAX]; /* everything read (played), in order */
    uint8_t scratch[DD_SCRATCH];
} dmadev;

static uint32_t dd_read(void *dev, uint32_t offset, unsigned width, uint64_t now_ns)
{
    (void)width, (void)now_ns;
    dmadev *d = dev;
    return offset == DD_REG_STATUS ? d->status : 0;
}

static void dd_write(void *dev, uint32_t offset, unsigned width, uint32_t value, uint64_t now_ns)
{
    (void)width, (void)now_ns;
    dmadev *d = dev;
    uint32_t len = value < DD_SCRATCH ? value : DD_SCRATCH;
    int rc;
    switch (offset) {
    case DD_REG_PA:
        d->pa = value;
        return;
    case DD_REG_READ:
        rc = ksl_physmem_dma_read(d->pm, d->pa, d->scratch, len);
        if (rc == 0 && d->nout + len <= DD_OUT_MAX) {
            memcpy(d->out + d->nout, d->scratch, len);
            d->nout += len;
        }
        break;
    case DD_REG_WRITE:
        for (uint32_t i = 0; i < len; i++)
            d->scratch[i] = (uint8_t)(d->fill + i);
        rc = ksl_physmem_dma_write(d->pm, d->pa, d->scratch, len);
        if (rc == 0)
            d->fill = (uint8_t)(d->fill + len);
        break;
    default:
        return;
    }
    d->status = (uint32_t)rc;
    d->transfers++;
}

static const ksl_device_ops dd_ops = {KSL_DEVICE_OPS_VERSION, "dma probe", dd_read, dd_write, NULL, DD_ACCESS_NS};

/* ---- test state ----------------------------------------------------------------------------- */

enum scenario {
    SC_SPLIT,
    SC_CAPTURE,
    SC_EMPTY_AVAIL,
    SC_DOUBLE_RELEASE,
    SC_OUT_OF_ORDER,
    SC_UNKNOWN_TAG,
    SC_RELEASE_REVOKED,
    SC_REVOKE_COUNT,
    SC_HELD_AT_CLOSE,
    SC_TAG_REUSED,
    SC_EARLY_RELEASE,
    SC_DMA_REPEAT,
    SC_DMA_AFTER_RELEASE,
    SC_DMA_AFTER_REVOKE,
    SC_DMA_AFTER_KEEP,
    SC_DMA_UNOWNED,
    SC_CANCEL_PARTLY,
    SC_CANCEL_UNMAPPED,
    SC_CANCEL_RELEASED_PART,
    SC_W6,
    SC_CANCEL_RACE,
    SC_STATES,
    SC_STOP_REVOKES,
    SC_SERVICE_GROUP,
    SC_SERVICE_TIMER,
    SC_TERMINATE,
    SC_OPEN_FORMATS,
    SC_ZERO_LENGTH,
    SC_IRQL_RAISE,
    SC_IRQL_SYNC,
    SC_SUBMIT_STOP_RACE,
    SC_CALLBACK_IN_REVOKE,
    SC_SERVICE_DRIVEN,
};

/* What the fake's RevokeMappings does with the mappings in the range. */
enum revoke_mode {
    RV_CORRECT,    /* removes them and reports how many */
    RV_KEEP_LIST,  /* reports them all but keeps them in its list (and later releases one) */
    RV_PLUS_ONE,   /* reports one more than it held */
    RV_ZERO,       /* reports none and never gives them back */
    RV_POP_OLDEST, /* the oldest was just popped by the release path (unless one release is in
                      flight already): reports the others only */
    RV_CALL_RELEASE,   /* correct, then calls ReleaseMapping from inside RevokeMappings */
    RV_CALL_GET,       /* ... GetMapping */
    RV_CALL_TERMINATE, /* ... TerminatePacket */
};

/* Events the fake miniport and the client threads log, in the order they happen. */
enum { EV_INIT = 1, EV_DESC, EV_NEWSTREAM, EV_SETSTATE, EV_REVOKE, EV_MAPAVAIL, EV_SERVICE, EV_STREAM_FREE,
       EV_MP_FREE, EV_MARK };

typedef struct ev_rec {
    int ev;
    ULONG a, b, n;
    KIRQL irql;
    ULONGLONG time; /* interrupt time, 100 ns units */
    char ctx[48];
} ev_rec;

/* A mapping the fake miniport holds. */
typedef struct fmap {
    ULONG tag;
    uint64_t pa;
    uint8_t *va;
    ULONG len, flags;
    ULONG dma; /* bytes the device has moved */
} fmap;

/* One GetMapping call and what became of the mapping. */
typedef struct got_rec {
    NTSTATUS st;
    ULONG tag;
    uint64_t pa, pa_expect; /* what GetMapping said; ksl_physmem_pa of its virtual address */
    int irp;                /* index of the IRP whose buffer holds it, -1 if none */
    long off;               /* its offset in that buffer */
    ULONG len, flags;
    KIRQL irql;             /* of the GetMapping call */
    int play_rc;
    NTSTATUS rel_st;
    int done_before, done_after; /* the IRP completed before / after the release */
} got_rec;

typedef struct pt_state pt_state;

typedef struct fake_mp {
    IMiniportWavePci iface;
    LONG refs;
    pt_state *t;
    PPORTWAVEPCI port;
    KSDATARANGE_AUDIO range;
    PKSDATARANGE ranges[1];
    PCPIN_DESCRIPTOR pins[2];
    PCFILTER_DESCRIPTOR desc;
} fake_mp;

typedef struct fake_stream {
    IMiniportWavePciStream iface;
    LONG refs;
    pt_state *t;
    PPORTWAVEPCISTREAM ps;
    PSERVICEGROUP group;
    BOOLEAN capture;
    KSPIN_LOCK lock;         /* guards everything below */
    fmap held[MAX_HELD];     /* in acquisition order */
    ULONG count;
    BOOLEAN acquiring, acq_revoked; /* a GetMapping under way (as the AC'97 miniport) */
    ULONG acq_tag;
    fmap due;                /* RV_POP_OLDEST: popped, release pending */
    BOOLEAN has_due;
    volatile LONG serviced;
} fake_stream;

struct pt_state {
    int sc, param;
    uint32_t buffer_offset;
    bool use_group;
    int revoke_mode;
    int fail_state;          /* SetState to this state fails once (-1: never) */
    bool get_in_avail;       /* MappingAvailable calls GetMapping once */
    uint32_t sizes[MAX_IRPS];
    int nsizes;
    uint32_t cancel_delay_us;

    ksl_engine *e;
    ksl_physmem *pm;
    ksl_wavepci_filter *f;
    ksl_wavepci_pin *pin;
    fake_mp *mp;
    fake_stream *fs;
    bool capture;
    PKINTERRUPT intr;
    dmadev dev;

    ev_rec log[LOG_MAX];
    int nlog;

    NTSTATUS st_start, st_open;
    NTSTATUS st[32];
    long v[32];
    KSSTATE after[32];
    ULONG init_nres, init_nirq, init_irq_line, init_nport;
    int init_group_null;

    PIRP irp[MAX_IRPS];
    uint8_t *buf[MAX_IRPS];
    uint32_t len[MAX_IRPS];
    int nirps;
    NTSTATUS sub_st[MAX_IRPS], wait_st[MAX_IRPS];
    ULONG_PTR info[MAX_IRPS];
    uint32_t transferred[MAX_IRPS];

    got_rec got[MAX_GOT];
    int ngot;
    int site_line;
    int data_ok;
    int finished;
    ksl_wavepci_stats mid;

    /* the racing scenario */
    KEVENT submitted, go, worker_done, canceller_done;
    volatile LONG quit;
    BOOLEAN cancel_ret;
    int dma_err, rel_err, left_held;

    /* after the run */
    ksl_wavepci_stats pst;
    char ffile[256];
    int fline;
    char fctx[64];
    char fracing[64];    /* the finding's other side (a race), "" if none */
    char fracing_file[256];
    uint64_t ftime;
};

static pt_state *g_t; /* the state of the run in progress: NewMiniport has no context argument */

#define TAG(v) ((PVOID)(uintptr_t)(v))
#define TAGV(p) ((ULONG)(uintptr_t)(p))

static void log_ev(pt_state *t, int ev, ULONG a, ULONG b, ULONG n)
{
    if (t->nlog >= LOG_MAX)
        return;
    ev_rec *r = &t->log[t->nlog++];
    r->ev = ev;
    r->a = a;
    r->b = b;
    r->n = n;
    r->irql = KeGetCurrentIrql();
    r->time = KeQueryInterruptTime();
    snprintf(r->ctx, sizeof r->ctx, "%s", ksl_context_name());
}

static void mark(pt_state *t, ULONG id)
{
    log_ev(t, EV_MARK, id, 0, 0);
}

static uint8_t pat(int irp, uint32_t k)
{
    return (uint8_t)(irp * 61 + k * 7 + (k >> 8));
}

static void delay_us(LONGLONG us)
{
    LARGE_INTEGER iv;
    iv.QuadPart = -10 * us;
    KeDelayExecutionThread(KernelMode, FALSE, &iv);
}

static BOOLEAN in_range(ULONG tag, ULONG first, ULONG last)
{
    return tag - first <= last - first; /* tags grow in acquisition order */
}

/* ---- the fake miniport stream --------------------------------------------------------------- */

static fake_stream *fs_of(IMiniportWavePciStream *This)
{
    return (fake_stream *)This;
}

static NTSTATUS fs_query_interface(IMiniportWavePciStream *This, REFIID iid, PVOID *out)
{
    if (IsEqualGUID(iid, &IID_IUnknown) || IsEqualGUID(iid, &IID_IMiniportWavePciStream)) {
        *out = This;
        This->lpVtbl->AddRef(This);
        return STATUS_SUCCESS;
    }
    *out = NULL;
    return STATUS_NOINTERFACE;
}

static ULONG fs_add_ref(IMiniportWavePciStream *This)
{
    return (ULONG)InterlockedIncrement(&fs_of(This)->refs);
}

static ULONG fs_release(IMiniportWavePciStream *This)
{
    fake_stream *fs = fs_of(This);
    LONG r = InterlockedDecrement(&fs->refs);
    if (r)
        return (ULONG)r;
    pt_state *t = fs->t;
    log_ev(t, EV_STREAM_FREE, 0, 0, 0);
    t->left_held = (int)fs->count + (fs->has_due ? 1 : 0);
    if (fs->group)
        IServiceGroup_Release(fs->group);
    IPortWavePciStream_Release(fs->ps);
    if (t->fs == fs)
        t->fs = NULL;
    ExFreePoolWithTag(fs, FAKE_TAG);
    return 0;
}

static NTSTATUS fs_set_format(IMiniportWavePciStream *This, PKSDATAFORMAT DataFormat)
{
    (void)This, (void)DataFormat;
    return STATUS_SUCCESS;
}

static NTSTATUS fs_set_state(IMiniportWavePciStream *This, KSSTATE State)
{
    fake_stream *fs = fs_of(This);
    pt_state *t = fs->t;
    log_ev(t, EV_SETSTATE, (ULONG)State, 0, 0);
    if ((int)State == t->fail_state) {
        t->fail_state = -1;
        return STATUS_UNSUCCESSFUL;
    }
    return STATUS_SUCCESS;
}

static NTSTATUS fs_get_position(IMiniportWavePciStream *This, PULONGLONG Position)
{
    (void)This;
    *Position = 0;
    return STATUS_SUCCESS;
}

static NTSTATUS fs_normalize(IMiniportWavePciStream *This, PLONGLONG PhysicalPosition)
{
    (void)This, (void)PhysicalPosition;
    return STATUS_SUCCESS;
}

static NTSTATUS fs_framing(IMiniportWavePciStream *This, PKSALLOCATOR_FRAMING Framing)
{
    (void)This;
    memset(Framing, 0, sizeof *Framing);
    Framing->Frames = 4;
    Framing->FrameSize = PAGE;
    return STATUS_SUCCESS;
}

static NTSTATUS fs_revoke(IMiniportWavePciStream *This, PVOID FirstTag, PVOID LastTag, PULONG MappingsRevoked)
{
    fake_stream *fs = fs_of(This);
    pt_state *t = fs->t;
    ULONG first = TAGV(FirstTag), last = TAGV(LastTag), n = 0;
    int at = t->nlog;
    log_ev(t, EV_REVOKE, first, last, 0);
    KeAcquireSpinLockAtDpcLevel(&fs->lock);
    if (fs->acquiring && !fs->acq_revoked && in_range(fs->acq_tag, first, last)) {
        fs->acq_revoked = TRUE; /* GetMapping handed it out and has not returned yet */
        n++;
    }
    ULONG keep = 0;
    BOOLEAN popped = FALSE;
    for (ULONG i = 0; i < fs->count; i++) {
        fmap m = fs->held[i];
        if (!in_range(m.tag, first, last)) {
            fs->held[keep++] = m;
            continue;
        }
        switch (t->revoke_mode) {
        case RV_KEEP_LIST:
            n++;
            fs->held[keep++] = m;
            break;
        case RV_ZERO:
            fs->held[keep++] = m;
            break;
        case RV_POP_OLDEST:
            if (!popped && !fs->has_due) {
                popped = TRUE;
                fs->due = m;
                fs->has_due = TRUE;
                break;
            }
            n++;
            break;
        default:
            n++;
            break;
        }
    }
    fs->count = keep;
    if (t->revoke_mode == RV_PLUS_ONE)
        n++;
    KeReleaseSpinLockFromDpcLevel(&fs->lock);
    if (at < LOG_MAX)
        t->log[at].n = n;
    /* Calls back into the port, which holds its stream lock around this call (rule W3's other
     * half): the same CPU takes that lock again. */
    PHYSICAL_ADDRESS pa;
    PVOID va;
    ULONG len, flags;
    t->v[8] = 1;
    switch (t->revoke_mode) {
    case RV_CALL_RELEASE:
        t->site_line = __LINE__; IPortWavePciStream_ReleaseMapping(fs->ps, FirstTag);
        break;
    case RV_CALL_GET:
        t->site_line = __LINE__; IPortWavePciStream_GetMapping(fs->ps, TAG(50), &pa, &va, &len, &flags);
        break;
    case RV_CALL_TERMINATE:
        t->site_line = __LINE__; IPortWavePciStream_TerminatePacket(fs->ps);
        break;
    default:
        t->v[8] = 0;
        break;
    }
    *MappingsRevoked = n;
    return STATUS_SUCCESS;
}

static NTSTATUS get(pt_state *t, ULONG tag);

static void fs_mapping_available(IMiniportWavePciStream *This)
{
    fake_stream *fs = fs_of(This);
    pt_state *t = fs->t;
    log_ev(t, EV_MAPAVAIL, 0, 0, 0);
    if (t->get_in_avail) {
        t->get_in_avail = false;
        get(t, 100); /* a real miniport fills its queue from here */
    }
}

static void service_work(pt_state *t);

static void fs_service(IMiniportWavePciStream *This)
{
    fake_stream *fs = fs_of(This);
    log_ev(fs->t, EV_SERVICE, 0, 0, 0);
    fs->serviced++;
    if (fs->t->sc == SC_SERVICE_DRIVEN)
        service_work(fs->t);
}

static const IMiniportWavePciStreamVtbl fs_vtbl = {fs_query_interface, fs_add_ref,   fs_release,
                                                   fs_set_format,      fs_set_state, fs_get_position,
                                                   fs_normalize,       fs_framing,   fs_revoke,
                                                   fs_mapping_available, fs_service};

/* ---- the fake miniport ---------------------------------------------------------------------- */

static NTSTATUS mp_query_interface(IMiniportWavePci *This, REFIID iid, PVOID *out)
{
    if (IsEqualGUID(iid, &IID_IUnknown) || IsEqualGUID(iid, &IID_IMiniport) || IsEqualGUID(iid, &IID_IMiniportWavePci)) {
        *out = This;
        This->lpVtbl->AddRef(This);
        return STATUS_SUCCESS;
    }
    *out = NULL;
    return STATUS_NOINTERFACE;
}

static ULONG mp_add_ref(IMiniportWavePci *This)
{
    return (ULONG)InterlockedIncrement(&((fake_mp *)This)->refs);
}

static ULONG mp_release(IMiniportWavePci *This)
{
    fake_mp *mp = (fake_mp *)This;
    LONG r = InterlockedDecrement(&mp->refs);
    if (r)
        return (ULONG)r;
    log_ev(mp->t, EV_MP_FREE, 0, 0, 0);
    if (mp->port)
        IPortWavePci_Release(mp->port);
    if (mp->t->mp == mp)
        mp->t->mp = NULL;
    ExFreePoolWithTag(mp, FAKE_TAG);
    return 0;
}

static NTSTATUS mp_get_description(IMiniportWavePci *This, PPCFILTER_DESCRIPTOR *Description)
{
    fake_mp *mp = (fake_mp *)This;
    log_ev(mp->t, EV_DESC, 0, 0, 0);
    *Description = &mp->desc;
    return STATUS_SUCCESS;
}

static NTSTATUS mp_data_range_intersection(IMiniportWavePci *This, ULONG PinId, PKSDATARANGE DataRange,
                                           PKSDATARANGE MatchingDataRange, ULONG OutputBufferLength,
                                           PVOID ResultantFormat, PULONG ResultantFormatLength)
{
    (void)This, (void)PinId, (void)DataRange, (void)MatchingDataRange, (void)OutputBufferLength;
    (void)ResultantFormat, (void)ResultantFormatLength;
    return STATUS_NOT_IMPLEMENTED;
}

static NTSTATUS mp_init(IMiniportWavePci *This, PUNKNOWN UnknownAdapter, PRESOURCELIST ResourceList,
                        PPORTWAVEPCI Port, PSERVICEGROUP *ServiceGroup)
{
    (void)UnknownAdapter;
    fake_mp *mp = (fake_mp *)This;
    pt_state *t = mp->t;
    t->init_nres = IResourceList_NumberOfEntries(ResourceList);
    t->init_nirq = IResourceList_NumberOfEntriesOfType(ResourceList, CmResourceTypeInterrupt);
    t->init_nport = IResourceList_NumberOfEntriesOfType(ResourceList, CmResourceTypePort);
    PCM_PARTIAL_RESOURCE_DESCRIPTOR irq = IResourceList_FindTranslatedInterrupt(ResourceList, 0);
    t->init_irq_line = irq ? irq->u.Interrupt.Vector : 0;
    mp->port = Port;
    IPortWavePci_AddRef(Port);
    *ServiceGroup = NULL;
    t->init_group_null = 1;
    log_ev(t, EV_INIT, 0, 0, 0);
    return STATUS_SUCCESS;
}

static NTSTATUS mp_new_stream(IMiniportWavePci *This, PMINIPORTWAVEPCISTREAM *Stream, PUNKNOWN OuterUnknown,
                              POOL_TYPE PoolType, PPORTWAVEPCISTREAM PortStream, ULONG Pin, BOOLEAN Capture,
                              PKSDATAFORMAT DataFormat, PDMACHANNEL *DmaChannel, PSERVICEGROUP *ServiceGroup)
{
    (void)OuterUnknown, (void)PoolType;
    fake_mp *mp = (fake_mp *)This;
    pt_state *t = mp->t;
    *Stream = NULL;
    const WAVEFORMATEX *w = &((PKSDATAFORMAT_WAVEFORMATEX)DataFormat)->WaveFormatEx;
    log_ev(t, EV_NEWSTREAM, Pin, Capture, w->nSamplesPerSec);
    fake_stream *fs = ExAllocatePoolWithTag(NonPagedPool, sizeof *fs, FAKE_TAG);
    if (!fs)
        return STATUS_INSUFFICIENT_RESOURCES;
    RtlZeroMemory(fs, sizeof *fs);
    fs->iface.lpVtbl = &fs_vtbl;
    fs->refs = 1;
    fs->t = t;
    fs->ps = PortStream;
    fs->capture = Capture;
    KeInitializeSpinLock(&fs->lock);
    if (t->use_group) {
        NTSTATUS st = PcNewServiceGroup(&fs->group, NULL);
        if (!NT_SUCCESS(st)) {
            ExFreePoolWithTag(fs, FAKE_TAG);
            return st;
        }
        IServiceGroup_AddRef(fs->group); /* the port's reference */
    }
    IPortWavePciStream_AddRef(PortStream);
    *ServiceGroup = fs->group; /* NULL: the port's 20 ms timer */
    *DmaChannel = NULL;
    *Stream = &fs->iface;
    t->fs = fs;
    return STATUS_SUCCESS;
}

static void mp_service(IMiniportWavePci *This)
{
    (void)This;
}

static const IMiniportWavePciVtbl mp_vtbl = {mp_query_interface, mp_add_ref,           mp_release,
                                             mp_get_description, mp_data_range_intersection,
                                             mp_init,            mp_new_stream,        mp_service};

static NTSTATUS fake_new_miniport(PMINIPORTWAVEPCI *Miniport)
{
    fake_mp *mp = ExAllocatePoolWithTag(NonPagedPool, sizeof *mp, FAKE_TAG);
    if (!mp)
        return STATUS_INSUFFICIENT_RESOURCES;
    RtlZeroMemory(mp, sizeof *mp);
    mp->iface.lpVtbl = &mp_vtbl;
    mp->refs = 1;
    mp->t = g_t;
    KSDATARANGE_AUDIO *r = &mp->range;
    r->DataRange.FormatSize = sizeof *r;
    r->DataRange.MajorFormat = KSDATAFORMAT_TYPE_AUDIO;
    r->DataRange.SubFormat = KSDATAFORMAT_SUBTYPE_PCM;
    r->DataRange.Specifier = KSDATAFORMAT_SPECIFIER_WAVEFORMATEX;
    r->MaximumChannels = 2;
    r->MinimumBitsPerSample = 16;
    r->MaximumBitsPerSample = 16;
    r->MinimumSampleFrequency = 8000;
    r->MaximumSampleFrequency = 48000;
    mp->ranges[0] = (PKSDATARANGE)r;
    for (int i = 0; i < 2; i++)
        mp->pins[i] = (PCPIN_DESCRIPTOR){.MaxGlobalInstanceCount = 1,
                                         .MaxFilterInstanceCount = 1,
                                         .KsPinDescriptor = {.DataRangesCount = 1,
                                                             .DataRanges = mp->ranges,
                                                             .DataFlow = i ? KSPIN_DATAFLOW_OUT : KSPIN_DATAFLOW_IN,
                                                             .Communication = KSPIN_COMMUNICATION_SINK}};
    mp->desc = (PCFILTER_DESCRIPTOR){.PinSize = sizeof(PCPIN_DESCRIPTOR), .PinCount = 2, .Pins = mp->pins};
    g_t->mp = mp;
    *Miniport = &mp->iface;
    return STATUS_SUCCESS;
}

static const ksl_wavepci_driver fake_driver = {KSL_WAVEPCI_DRIVER_VERSION, "fake", "test_port's fake miniport",
                                               "dma probe", fake_new_miniport, NULL};

/* ---- the miniport's DPC path, run by client threads ----------------------------------------- */

static int irp_of(const pt_state *t, const void *va, long *off)
{
    for (int i = 0; i < t->nirps; i++) {
        const uint8_t *b = t->buf[i];
        if (b && (const uint8_t *)va >= b && (const uint8_t *)va < b + t->len[i]) {
            *off = (long)((const uint8_t *)va - b);
            return i;
        }
    }
    *off = -1;
    return -1;
}

/* GetMapping with `tag`, as the AC'97 miniport does it: announce the acquisition under the lock,
 * call without it, then keep the mapping unless RevokeMappings counted it meanwhile. */
static NTSTATUS get(pt_state *t, ULONG tag)
{
    fake_stream *fs = t->fs;
    KIRQL old;
    KeAcquireSpinLock(&fs->lock, &old);
    fs->acquiring = TRUE;
    fs->acq_tag = tag;
    fs->acq_revoked = FALSE;
    KeReleaseSpinLock(&fs->lock, old);
    PHYSICAL_ADDRESS pa;
    PVOID va = NULL;
    ULONG len = 0, flags = 0;
    pa.QuadPart = 0;
    t->site_line = __LINE__; NTSTATUS st = IPortWavePciStream_GetMapping(fs->ps, TAG(tag), &pa, &va, &len, &flags);
    KeAcquireSpinLock(&fs->lock, &old);
    fs->acquiring = FALSE;
    if (NT_SUCCESS(st) && !fs->acq_revoked && fs->count < MAX_HELD)
        fs->held[fs->count++] = (fmap){tag, (uint64_t)pa.QuadPart, va, len, flags, 0};
    KeReleaseSpinLock(&fs->lock, old);
    if (t->ngot < MAX_GOT) {
        got_rec *g = &t->got[t->ngot++];
        memset(g, 0, sizeof *g);
        g->st = st;
        g->tag = tag;
        g->irql = KeGetCurrentIrql();
        if (NT_SUCCESS(st)) {
            g->pa = (uint64_t)pa.QuadPart;
            g->pa_expect = ksl_physmem_pa(t->pm, va);
            g->irp = irp_of(t, va, &g->off);
            g->len = len;
            g->flags = flags;
        } else {
            g->irp = -1;
        }
    }
    return st;
}

static got_rec *got_tag(pt_state *t, ULONG tag)
{
    for (int i = t->ngot - 1; i >= 0; i--)
        if (t->got[i].tag == tag && NT_SUCCESS(t->got[i].st))
            return &t->got[i];
    return NULL;
}

/* One device transfer of `len` bytes at `pa`: 0, or the device's error. */
static int dma_at(pt_state *t, uint64_t pa, uint32_t len)
{
    WRITE_PORT_ULONG(DD_BASE + DD_REG_PA, (ULONG)pa);
    WRITE_PORT_ULONG(DD_BASE + (t->capture ? DD_REG_WRITE : DD_REG_READ), len);
    return (int)(int32_t)READ_PORT_ULONG(DD_BASE + DD_REG_STATUS);
}

/* The device moves the next `n` bytes of held mapping `tag` (the hardware queue is programmed
 * under the miniport's lock). */
static int play(pt_state *t, ULONG tag, ULONG n)
{
    fake_stream *fs = t->fs;
    KIRQL old;
    int rc = -100;
    KeAcquireSpinLock(&fs->lock, &old);
    for (ULONG i = 0; i < fs->count; i++) {
        fmap *m = &fs->held[i];
        if (m->tag != tag)
            continue;
        if (n > m->len - m->dma)
            n = m->len - m->dma;
        rc = dma_at(t, m->pa + m->dma, n);
        if (rc == 0)
            m->dma += n;
        break;
    }
    KeReleaseSpinLock(&fs->lock, old);
    got_rec *g = got_tag(t, tag);
    if (g)
        g->play_rc = rc;
    return rc;
}

/* Take `tag` off the fake's list (if there) and release it. */
static NTSTATUS rel(pt_state *t, ULONG tag)
{
    fake_stream *fs = t->fs;
    KIRQL old;
    KeAcquireSpinLock(&fs->lock, &old);
    for (ULONG i = 0; i < fs->count; i++) {
        if (fs->held[i].tag != tag)
            continue;
        memmove(&fs->held[i], &fs->held[i + 1], (fs->count - i - 1) * sizeof fs->held[0]);
        fs->count--;
        break;
    }
    if (fs->has_due && fs->due.tag == tag)
        fs->has_due = FALSE;
    KeReleaseSpinLock(&fs->lock, old);
    got_rec *g = got_tag(t, tag);
    if (g && g->irp >= 0)
        g->done_before = ksl_wavepci_irp_done(t->irp[g->irp]);
    t->site_line = __LINE__; NTSTATUS st = IPortWavePciStream_ReleaseMapping(fs->ps, TAG(tag));
    if (g) {
        g->rel_st = st;
        if (g->irp >= 0)
            g->done_after = ksl_wavepci_irp_done(t->irp[g->irp]);
    }
    return st;
}

/* The racing worker's drain step: the device moves up to `chunk` bytes of the oldest mapping;
 * when it is finished the worker pops it and releases it with the lock dropped. */
static void drain_chunk(pt_state *t, ULONG chunk)
{
    fake_stream *fs = t->fs;
    KIRQL old;
    KeAcquireSpinLock(&fs->lock, &old);
    if (!fs->count) {
        KeReleaseSpinLock(&fs->lock, old);
        return;
    }
    fmap *m = &fs->held[0];
    ULONG n = m->len - m->dma < chunk ? m->len - m->dma : chunk;
    if (n) {
        if (dma_at(t, m->pa + m->dma, n) == 0)
            m->dma += n;
        else
            t->dma_err++;
    }
    if (m->dma < m->len) {
        KeReleaseSpinLock(&fs->lock, old);
        return;
    }
    ULONG tag = m->tag;
    memmove(&fs->held[0], &fs->held[1], (fs->count - 1) * sizeof fs->held[0]);
    fs->count--;
    KeReleaseSpinLock(&fs->lock, old);
    /* W6: a cancel may revoke right here; this one is no longer in the list, so not counted. */
    if (!NT_SUCCESS(IPortWavePciStream_ReleaseMapping(fs->ps, TAG(tag))))
        t->rel_err++;
}

/* ---- client helpers ------------------------------------------------------------------------- */

static const WAVEFORMATEX fmt_default = {WAVE_FORMAT_PCM, 2, 48000, 192000, 4, 16, 0};

static NTSTATUS ss(pt_state *t, int idx, KSSTATE to)
{
    NTSTATUS st = ksl_wavepci_set_state(t->pin, to);
    if (idx >= 0) {
        t->st[idx] = st;
        t->after[idx] = ksl_wavepci_get_state(t->pin);
    }
    return st;
}

static bool open_pin(pt_state *t, bool capture, KSSTATE to)
{
    t->st_start = ksl_wavepci_start(t->f);
    if (!NT_SUCCESS(t->st_start))
        return false;
    t->capture = capture;
    t->st_open = ksl_wavepci_open(t->f, capture, &fmt_default, &t->pin);
    if (!NT_SUCCESS(t->st_open))
        return false;
    for (int s = KSSTATE_ACQUIRE; s <= (int)to; s++)
        if (!NT_SUCCESS(ss(t, -1, (KSSTATE)s)))
            return false;
    return true;
}

static int alloc_irp(pt_state *t, uint32_t len)
{
    int i = t->nirps++;
    t->irp[i] = ksl_wavepci_irp_alloc(t->pin, len);
    t->len[i] = len;
    t->buf[i] = t->irp[i] ? t->irp[i]->UserBuffer : NULL;
    if (t->buf[i] && !t->capture)
        for (uint32_t k = 0; k < len; k++)
            t->buf[i][k] = pat(i, k);
    return i;
}

static int submit(pt_state *t, uint32_t len)
{
    int i = alloc_irp(t, len);
    t->sub_st[i] = t->irp[i] ? ksl_wavepci_submit(t->pin, t->irp[i]) : STATUS_INSUFFICIENT_RESOURCES;
    return i;
}

static int done(pt_state *t, int i)
{
    return ksl_wavepci_irp_done(t->irp[i]) ? 1 : 0;
}

static void wait_all(pt_state *t)
{
    for (int i = 0; i < t->nirps; i++) {
        if (!t->irp[i] || t->sub_st[i] != STATUS_PENDING)
            continue;
        t->wait_st[i] = ksl_wavepci_wait(t->irp[i]);
        t->info[i] = t->irp[i]->IoStatus.Information;
        t->transferred[i] = ksl_wavepci_irp_transferred(t->irp[i]);
    }
}

/* Free the IRPs, close the pin, stop the filter. */
static void finish(pt_state *t)
{
    for (int i = 0; i < t->nirps; i++)
        if (t->irp[i]) {
            ksl_wavepci_irp_free(t->pin, t->irp[i]);
            t->irp[i] = NULL;
            t->buf[i] = NULL;
        }
    if (t->pin)
        ksl_wavepci_close(t->pin);
    t->pin = NULL;
    ksl_wavepci_stop(t->f);
    t->finished = 1;
}

static NTSTATUS terminate(pt_state *t)
{
    t->site_line = __LINE__; return IPortWavePciStream_TerminatePacket(t->fs->ps);
}

static void notify(pt_state *t)
{
    IPortWavePci_Notify(t->mp->port, t->fs->group);
    delay_us(200);
}

static BOOLEAN idle_isr(PKINTERRUPT Interrupt, PVOID ctx)
{
    (void)Interrupt, (void)ctx;
    return FALSE;
}

static BOOLEAN sync_get(PVOID ctx)
{
    pt_state *t = ctx;
    PHYSICAL_ADDRESS pa;
    PVOID va;
    ULONG len, flags;
    t->v[1] = KeGetCurrentIrql();
    t->site_line = __LINE__; t->st[0] = IPortWavePciStream_GetMapping(t->fs->ps, TAG(1), &pa, &va, &len, &flags);
    t->v[0] = 1; /* not reached: the finding stops the run */
    return TRUE;
}

/* ---- the open-format table ------------------------------------------------------------------ */

typedef struct fmt_case {
    bool capture;
    WAVEFORMATEX w;
    NTSTATUS want;
} fmt_case;

static const fmt_case fmt_cases[] = {
    {false, {WAVE_FORMAT_PCM, 2, 96000, 384000, 4, 16, 0}, STATUS_NO_MATCH},          /* rate above the range */
    {false, {WAVE_FORMAT_PCM, 2, 48000, 288000, 6, 24, 0}, STATUS_NO_MATCH},          /* 24-bit */
    {false, {WAVE_FORMAT_PCM, 1, 48000, 48000, 1, 8, 0}, STATUS_NO_MATCH},            /* 8-bit */
    {false, {WAVE_FORMAT_PCM, 3, 48000, 288000, 6, 16, 0}, STATUS_NO_MATCH},          /* 3 channels */
    {false, {WAVE_FORMAT_PCM, 2, 7999, 31996, 4, 16, 0}, STATUS_NO_MATCH},            /* just below */
    {false, {WAVE_FORMAT_PCM, 1, 8000, 16000, 2, 16, 0}, STATUS_SUCCESS},             /* the lowest edge */
    {false, {WAVE_FORMAT_PCM, 2, 48000, 192000, 4, 16, 0}, STATUS_SUCCESS},           /* the highest edge */
    {false, {WAVE_FORMAT_PCM, 2, 48000, 192000, 2, 16, 0}, STATUS_INVALID_PARAMETER}, /* nBlockAlign wrong */
    {false, {WAVE_FORMAT_PCM, 2, 48000, 96000, 4, 16, 0}, STATUS_INVALID_PARAMETER},  /* nAvgBytesPerSec wrong */
    {false, {3, 2, 48000, 384000, 8, 32, 0}, STATUS_INVALID_PARAMETER},               /* IEEE float tag */
    {true, {WAVE_FORMAT_PCM, 2, 44100, 176400, 4, 16, 0}, STATUS_SUCCESS},
    {true, {WAVE_FORMAT_PCM, 2, 96000, 384000, 4, 16, 0}, STATUS_NO_MATCH},
    {true, {WAVE_FORMAT_PCM, 2, 44100, 176400, 3, 16, 0}, STATUS_INVALID_PARAMETER},
};
#define NFMT ((int)(sizeof fmt_cases / sizeof fmt_cases[0]))

/* ---- scenarios ------------------------------------------------------------------------------ */

static void sc_split(pt_state *t)
{
    if (!open_pin(t, false, KSSTATE_ACQUIRE))
        return;
    for (int i = 0; i < t->nsizes; i++)
        submit(t, t->sizes[i]);
    for (ULONG tag = 1; NT_SUCCESS(get(t, tag)); tag++)
        ;
    /* In order: the device moves every byte, then the miniport releases the mapping. */
    for (int k = 0; k + 1 < t->ngot; k++) {
        play(t, t->got[k].tag, t->got[k].len);
        rel(t, t->got[k].tag);
    }
    wait_all(t);
    finish(t);
}

static void sc_capture(pt_state *t)
{
    if (!open_pin(t, true, KSSTATE_ACQUIRE))
        return;
    int a = submit(t, 6000);
    for (ULONG tag = 1; NT_SUCCESS(get(t, tag)); tag++)
        ;
    for (int k = 0; k + 1 < t->ngot; k++) {
        play(t, t->got[k].tag, t->got[k].len);
        rel(t, t->got[k].tag);
    }
    wait_all(t);
    t->data_ok = 1;
    for (uint32_t k = 0; k < t->len[a]; k++)
        if (t->buf[a][k] != (uint8_t)k)
            t->data_ok = 0;
    finish(t);
}

static void sc_empty_avail(pt_state *t)
{
    if (!open_pin(t, false, KSSTATE_ACQUIRE))
        return;
    mark(t, 1);
    t->st[0] = get(t, 1); /* nothing queued */
    mark(t, 2);
    submit(t, PAGE); /* after a refusal: MappingAvailable */
    mark(t, 3);
    submit(t, PAGE); /* no refusal since: none */
    mark(t, 4);
    t->st[1] = get(t, 2);
    t->st[2] = get(t, 3);
    t->st[3] = get(t, 4); /* refused again */
    mark(t, 5);
    t->get_in_avail = true;
    submit(t, PAGE); /* MappingAvailable, which takes the new IRP's mapping (tag 100) at once */
    mark(t, 6);
    submit(t, PAGE);
    mark(t, 7);
    t->st[4] = get(t, 5);
    static const ULONG order[] = {2, 3, 100, 5};
    for (int k = 0; k < 4; k++) {
        play(t, order[k], PAGE);
        rel(t, order[k]);
    }
    wait_all(t);
    finish(t);
}

static void sc_finding(pt_state *t)
{
    if (t->sc == SC_HELD_AT_CLOSE || t->sc == SC_RELEASE_REVOKED || t->sc == SC_REVOKE_COUNT)
        t->revoke_mode = t->sc == SC_HELD_AT_CLOSE ? RV_ZERO : t->sc == SC_RELEASE_REVOKED ? RV_KEEP_LIST : RV_PLUS_ONE;
    if (t->sc == SC_DMA_AFTER_KEEP)
        t->revoke_mode = RV_POP_OLDEST;
    if (!open_pin(t, false, KSSTATE_ACQUIRE))
        return;
    int a = submit(t, 2 * PAGE);
    switch (t->sc) {
    case SC_DOUBLE_RELEASE:
        get(t, 1), get(t, 2);
        play(t, 1, PAGE);
        t->st[0] = rel(t, 1);
        t->v[0] = 1;
        rel(t, 1);
        break;
    case SC_OUT_OF_ORDER:
        get(t, 1), get(t, 2);
        play(t, 1, PAGE), play(t, 2, PAGE);
        t->v[0] = 1;
        rel(t, 2);
        break;
    case SC_UNKNOWN_TAG:
        get(t, 1);
        play(t, 1, PAGE);
        t->v[0] = 1;
        rel(t, 999);
        break;
    case SC_RELEASE_REVOKED:
        get(t, 1), get(t, 2);
        t->v[1] = IoCancelIrp(t->irp[a]);
        t->v[2] = done(t, a);
        t->wait_st[a] = t->irp[a]->IoStatus.Status;
        t->v[0] = 1;
        rel(t, 1); /* the fake kept it in its list although it reported it revoked */
        break;
    case SC_REVOKE_COUNT:
        get(t, 1), get(t, 2);
        t->v[0] = 1;
        IoCancelIrp(t->irp[a]);
        break;
    case SC_HELD_AT_CLOSE:
        get(t, 1), get(t, 2);
        t->v[0] = 1;
        ksl_wavepci_close(t->pin); /* STOP revokes: the fake reports 0 and never releases */
        t->v[3] = 1;
        break;
    case SC_TAG_REUSED:
        t->st[0] = get(t, 7);
        t->v[0] = 1;
        get(t, 7);
        break;
    case SC_EARLY_RELEASE:
        get(t, 1);
        t->v[1] = play(t, 1, 1000);
        t->v[0] = 1;
        rel(t, 1);
        break;
    case SC_DMA_REPEAT:
        get(t, 1);
        t->v[1] = play(t, 1, 100);
        t->v[0] = 1;
        /* param 0: the same 100 bytes again; 1: 100 bytes further on, skipping 100 */
        dma_at(t, t->got[0].pa + (t->param ? 200u : 0u), 100);
        break;
    case SC_DMA_AFTER_RELEASE:
        get(t, 1), get(t, 2);
        t->v[1] = play(t, 1, PAGE);
        t->st[0] = rel(t, 1);
        t->v[0] = 1;
        dma_at(t, t->got[0].pa, 16); /* the hardware still had it queued */
        break;
    case SC_DMA_AFTER_REVOKE:
    case SC_DMA_AFTER_KEEP:
        get(t, 1), get(t, 2);
        t->v[1] = play(t, 1, 100);
        t->v[2] = IoCancelIrp(t->irp[a]);
        t->v[3] = done(t, a);
        t->wait_st[a] = t->irp[a]->IoStatus.Status;
        t->info[a] = t->irp[a]->IoStatus.Information;
        t->v[0] = 1;
        dma_at(t, t->got[0].pa + 100, 100); /* the hardware queue still had it */
        break;
    case SC_DMA_UNOWNED:
        get(t, 1);
        t->v[0] = 1;
        /* the IRP's second page, never handed out */
        dma_at(t, ksl_physmem_pa(t->pm, t->buf[a] + t->got[0].len), 64);
        break;
    default:
        break;
    }
    t->v[9] = 1; /* not reached */
}

static void sc_cancel_partly(pt_state *t)
{
    if (!open_pin(t, false, KSSTATE_RUN))
        return;
    int p = submit(t, PAGE), a = submit(t, 4 * PAGE), b = submit(t, PAGE);
    get(t, 10);                       /* P */
    get(t, 11), get(t, 12), get(t, 13); /* A, 3 of its 4 */
    play(t, 10, PAGE);
    play(t, 11, 1000);
    mark(t, 1);
    t->v[0] = IoCancelIrp(t->irp[a]);
    mark(t, 2);
    t->v[1] = done(t, a);
    t->v[2] = done(t, p);
    t->st[0] = get(t, 14); /* B's, not A's fourth */
    rel(t, 10);
    play(t, 14, PAGE);
    rel(t, 14);
    t->st[1] = get(t, 15);
    wait_all(t);
    t->v[3] = (long)t->fs->count;
    (void)b;
    finish(t);
}

static void sc_cancel_unmapped(pt_state *t)
{
    if (!open_pin(t, false, KSSTATE_ACQUIRE))
        return;
    int a = submit(t, PAGE), b = submit(t, 2 * PAGE);
    get(t, 1);
    mark(t, 1);
    t->v[0] = IoCancelIrp(t->irp[b]);
    mark(t, 2);
    t->v[1] = done(t, b);
    /* Cancelled before it is submitted: no cancel routine yet, then refused at once. */
    int c = alloc_irp(t, PAGE);
    t->v[2] = IoCancelIrp(t->irp[c]);
    t->sub_st[c] = ksl_wavepci_submit(t->pin, t->irp[c]);
    t->v[3] = done(t, c);
    mark(t, 3);
    t->st[0] = get(t, 2); /* nothing of B or C */
    play(t, 1, PAGE);
    rel(t, 1);
    wait_all(t);
    (void)a;
    finish(t);
}

static void sc_cancel_released_part(pt_state *t)
{
    if (!open_pin(t, false, KSSTATE_ACQUIRE))
        return;
    int a = submit(t, 3 * PAGE);
    get(t, 1), get(t, 2);
    play(t, 1, PAGE), play(t, 2, PAGE);
    rel(t, 1), rel(t, 2);
    t->v[0] = done(t, a);
    mark(t, 1);
    t->v[1] = IoCancelIrp(t->irp[a]);
    mark(t, 2);
    t->v[2] = done(t, a);
    t->st[0] = get(t, 3); /* its third mapping is never handed out */
    wait_all(t);
    finish(t);
}

static void sc_w6(pt_state *t)
{
    t->revoke_mode = RV_POP_OLDEST;
    if (!open_pin(t, false, KSSTATE_RUN))
        return;
    int a = submit(t, 3 * PAGE), b = submit(t, PAGE);
    get(t, 1), get(t, 2), get(t, 3);
    play(t, 1, PAGE);
    play(t, 2, 500);
    mark(t, 1);
    t->v[0] = IoCancelIrp(t->irp[a]);
    mark(t, 2);
    t->v[1] = done(t, a);
    ksl_wavepci_get_stats(t->f, &t->mid);
    t->v[2] = t->fs->has_due;
    /* The release path goes on with the mapping it popped before the revoke. */
    t->st[0] = rel(t, t->fs->due.tag);
    t->v[3] = done(t, a);
    t->st[1] = get(t, 4);
    play(t, 4, PAGE);
    rel(t, 4);
    wait_all(t);
    (void)b;
    finish(t);
}

static void race_worker(void *arg)
{
    pt_state *t = arg;
    KeWaitForSingleObject(&t->go, Executive, KernelMode, FALSE, NULL);
    ULONG tag = 1;
    while (!t->quit) {
        for (;;) {
            KIRQL old;
            KeAcquireSpinLock(&t->fs->lock, &old);
            bool room = t->fs->count < 4;
            KeReleaseSpinLock(&t->fs->lock, old);
            if (!room || !NT_SUCCESS(get(t, tag++)))
                break;
        }
        drain_chunk(t, 1024);
        delay_us(1);
    }
    KeSetEvent(&t->worker_done, IO_NO_INCREMENT, FALSE);
}

static void race_canceller(void *arg)
{
    pt_state *t = arg;
    KeWaitForSingleObject(&t->submitted, Executive, KernelMode, FALSE, NULL);
    delay_us(t->cancel_delay_us);
    if (t->irp[0])
        t->cancel_ret = IoCancelIrp(t->irp[0]);
    KeSetEvent(&t->canceller_done, IO_NO_INCREMENT, FALSE);
}

static void sc_cancel_race(pt_state *t)
{
    if (!open_pin(t, false, KSSTATE_PAUSE)) {
        t->quit = 1;
        KeSetEvent(&t->submitted, IO_NO_INCREMENT, FALSE);
        KeSetEvent(&t->go, IO_NO_INCREMENT, FALSE);
        return;
    }
    submit(t, 3 * PAGE);
    submit(t, 2 * PAGE);
    KeSetEvent(&t->submitted, IO_NO_INCREMENT, FALSE);
    ss(t, 0, KSSTATE_RUN);
    KeSetEvent(&t->go, IO_NO_INCREMENT, FALSE);
    wait_all(t);
    KeWaitForSingleObject(&t->canceller_done, Executive, KernelMode, FALSE, NULL);
    t->quit = 1;
    KeWaitForSingleObject(&t->worker_done, Executive, KernelMode, FALSE, NULL);
    for (int i = 0; i < t->nirps; i++)
        t->transferred[i] = ksl_wavepci_irp_transferred(t->irp[i]);
    t->v[0] = (long)t->fs->count + t->fs->has_due + t->fs->acquiring;
    finish(t);
}

/* The usual miniport: Service, in the group's DPC, releases what the device finished and takes
 * new mappings, calling the port at DISPATCH_LEVEL with its own lock dropped. */
static void service_work(pt_state *t)
{
    fake_stream *fs = t->fs;
    for (;;) {
        KIRQL old;
        KeAcquireSpinLock(&fs->lock, &old);
        ULONG tag = fs->count ? fs->held[0].tag : 0;
        KeReleaseSpinLock(&fs->lock, old);
        if (!tag)
            break;
        play(t, tag, PAGE);
        rel(t, tag);
    }
    for (ULONG n = 0; n < 3; n++)
        if (!NT_SUCCESS(get(t, (ULONG)t->v[20]++)))
            break;
}

static void sc_service_driven(pt_state *t)
{
    t->v[20] = 1;
    if (!open_pin(t, false, KSSTATE_RUN))
        return;
    submit(t, 3 * PAGE + 100);
    submit(t, 2 * PAGE);
    while (!done(t, 0) || !done(t, 1)) {
        IPortWavePci_Notify(t->mp->port, t->fs->group); /* as the ISR would */
        delay_us(50);
    }
    wait_all(t);
    ss(t, 0, KSSTATE_PAUSE);
    finish(t);
}

static void sc_callback_in_revoke(pt_state *t)
{
    t->revoke_mode = RV_CALL_RELEASE + t->param;
    if (!open_pin(t, false, KSSTATE_ACQUIRE))
        return;
    int a = submit(t, 2 * PAGE);
    submit(t, PAGE);
    get(t, 1);
    t->v[0] = 1;
    IoCancelIrp(t->irp[a]);
    t->v[9] = 1; /* not reached */
}

static void stopper(void *arg)
{
    pt_state *t = arg;
    KeWaitForSingleObject(&t->go, Executive, KernelMode, FALSE, NULL);
    delay_us(t->cancel_delay_us);
    t->st[1] = ksl_wavepci_set_state(t->pin, KSSTATE_STOP);
    KeSetEvent(&t->canceller_done, IO_NO_INCREMENT, FALSE);
}

/* Submits race a STOP from another thread: each IRP is refused, or queued and then cancelled by
 * the STOP; none may stay queued in STOP. */
static void sc_submit_stop_race(pt_state *t)
{
    if (!open_pin(t, false, KSSTATE_ACQUIRE)) {
        KeSetEvent(&t->go, IO_NO_INCREMENT, FALSE);
        return;
    }
    for (int i = 0; i < 6; i++)
        alloc_irp(t, PAGE);
    KeSetEvent(&t->go, IO_NO_INCREMENT, FALSE);
    for (int i = 0; i < 6; i++)
        t->sub_st[i] = ksl_wavepci_submit(t->pin, t->irp[i]);
    KeWaitForSingleObject(&t->canceller_done, Executive, KernelMode, FALSE, NULL);
    wait_all(t);
    finish(t);
}

static void sc_states(pt_state *t)
{
    t->st_start = ksl_wavepci_start(t->f);
    t->st_open = ksl_wavepci_open(t->f, false, &fmt_default, &t->pin);
    if (!NT_SUCCESS(t->st_open))
        return;
    mark(t, 1);
    ss(t, 0, KSSTATE_RUN);
    ss(t, 1, KSSTATE_PAUSE);
    ss(t, 2, (KSSTATE)7);
    int a = alloc_irp(t, PAGE);
    t->sub_st[a] = ksl_wavepci_submit(t->pin, t->irp[a]);
    t->v[0] = done(t, a);
    ss(t, 3, KSSTATE_STOP); /* already there: no call */
    mark(t, 2);
    static const KSSTATE walk[] = {KSSTATE_ACQUIRE, KSSTATE_PAUSE,   KSSTATE_RUN,
                                   KSSTATE_PAUSE,   KSSTATE_ACQUIRE, KSSTATE_STOP};
    for (int i = 0; i < 6; i++)
        ss(t, 4 + i, walk[i]);
    mark(t, 3);
    ss(t, 10, KSSTATE_ACQUIRE);
    ss(t, 11, KSSTATE_RUN); /* two steps */
    t->fail_state = KSSTATE_PAUSE;
    ss(t, 12, KSSTATE_PAUSE); /* the miniport refuses */
    ss(t, 13, KSSTATE_STOP);
    mark(t, 4);
    ksl_wavepci_get_stats(t->f, &t->mid);
    finish(t);
}

static void sc_stop_revokes(pt_state *t)
{
    if (t->param)
        t->revoke_mode = RV_POP_OLDEST;
    if (!open_pin(t, false, KSSTATE_RUN))
        return;
    int a = submit(t, 2 * PAGE), b = submit(t, 2 * PAGE), c = submit(t, PAGE);
    get(t, 1), get(t, 2), get(t, 3);
    play(t, 1, PAGE);
    mark(t, 0);
    ss(t, 0, KSSTATE_PAUSE);
    mark(t, 1);
    ss(t, 1, KSSTATE_ACQUIRE);
    mark(t, 2);
    t->v[0] = done(t, a) + done(t, b) + done(t, c);
    ss(t, 2, KSSTATE_STOP);
    mark(t, 3);
    t->v[1] = done(t, a) + done(t, b) + done(t, c);
    t->v[2] = (long)t->fs->count;
    if (t->param) {
        /* The release that raced the revoke arrives after the STOP. */
        t->v[3] = done(t, a);
        t->st[3] = rel(t, t->fs->due.tag);
        t->v[4] = done(t, a);
    }
    wait_all(t);
    finish(t);
    mark(t, 4);
}

static void sc_service_group(pt_state *t)
{
    if (!open_pin(t, false, KSSTATE_STOP))
        return;
    notify(t);
    t->v[0] = t->fs->serviced;
    ss(t, 0, KSSTATE_ACQUIRE);
    notify(t);
    t->v[1] = t->fs->serviced;
    ss(t, 1, KSSTATE_PAUSE);
    notify(t);
    t->v[2] = t->fs->serviced;
    ss(t, 2, KSSTATE_RUN);
    notify(t);
    t->v[3] = t->fs->serviced;
    delay_us(100000); /* with a group, no timer */
    t->v[4] = t->fs->serviced;
    notify(t);
    t->v[5] = t->fs->serviced;
    ss(t, 3, KSSTATE_PAUSE);
    notify(t);
    t->v[6] = t->fs->serviced;
    ss(t, 4, KSSTATE_ACQUIRE);
    ss(t, 5, KSSTATE_STOP);
    finish(t);
}

static void sc_service_timer(pt_state *t)
{
    if (!open_pin(t, false, KSSTATE_PAUSE))
        return;
    delay_us(50000);
    t->v[0] = t->fs->serviced;
    mark(t, 1);
    t->v[10] = (long)KeQueryInterruptTime(); /* the timer is due 20 ms after the state change */
    ss(t, 0, KSSTATE_RUN);
    delay_us(110000);
    t->v[1] = t->fs->serviced;
    ss(t, 1, KSSTATE_PAUSE);
    mark(t, 2);
    delay_us(100000);
    t->v[2] = t->fs->serviced;
    t->v[11] = (long)KeQueryInterruptTime();
    ss(t, 2, KSSTATE_RUN);
    delay_us(50000);
    t->v[3] = t->fs->serviced;
    ss(t, 3, KSSTATE_PAUSE);
    ss(t, 4, KSSTATE_ACQUIRE);
    ss(t, 5, KSSTATE_STOP);
    delay_us(50000);
    t->v[4] = t->fs->serviced;
    finish(t);
}

static void sc_terminate(pt_state *t)
{
    if (!open_pin(t, false, KSSTATE_ACQUIRE))
        return;
    int a = submit(t, 4 * PAGE), b = submit(t, PAGE);
    get(t, 1), get(t, 2);
    play(t, 1, PAGE), play(t, 2, PAGE);
    if (t->param == 1)
        rel(t, 1), rel(t, 2);
    t->v[0] = done(t, a);
    t->st[0] = terminate(t);
    t->v[1] = done(t, a);
    t->st[1] = get(t, 3); /* B's */
    if (t->param == 0) {
        rel(t, 1);
        t->v[2] = done(t, a);
        rel(t, 2);
        t->v[3] = done(t, a);
    }
    play(t, 3, PAGE);
    rel(t, 3);
    t->st[2] = get(t, 4);
    t->st[3] = terminate(t); /* nothing being mapped: nothing happens */
    wait_all(t);
    (void)b;
    finish(t);
}

/* A packet with no data among two with data: it completes at once, empty, and is never mapped. */
static void sc_zero_length(pt_state *t)
{
    if (!open_pin(t, false, KSSTATE_RUN))
        return;
    int a = submit(t, PAGE), z = submit(t, 0), b = submit(t, PAGE);
    t->v[0] = done(t, z);                            /* done as soon as submitted */
    t->v[1] = done(t, a);
    t->st[0] = get(t, 1), t->st[1] = get(t, 2);      /* A's mapping, then B's: nothing for Z */
    t->st[2] = get(t, 3);                            /* none left */
    play(t, 1, PAGE), play(t, 2, PAGE);
    rel(t, 1), rel(t, 2);
    wait_all(t);
    ksl_wavepci_get_stats(t->f, &t->mid);
    (void)a, (void)b;
    finish(t);
}

static void sc_open_formats(pt_state *t)
{
    t->st_start = ksl_wavepci_start(t->f);
    if (!NT_SUCCESS(t->st_start))
        return;
    for (int i = 0; i < NFMT; i++) {
        ksl_wavepci_pin *pin = (ksl_wavepci_pin *)(uintptr_t)1;
        t->st[i] = ksl_wavepci_open(t->f, fmt_cases[i].capture, &fmt_cases[i].w, &pin);
        t->v[i] = pin == NULL;
        if (NT_SUCCESS(t->st[i]) && pin)
            ksl_wavepci_close(pin);
    }
    ksl_wavepci_stop(t->f);
    t->finished = 1;
}

static void sc_irql(pt_state *t)
{
    if (!open_pin(t, false, KSSTATE_ACQUIRE))
        return;
    submit(t, PAGE);
    if (t->sc == SC_IRQL_RAISE) {
        KIRQL old;
        PHYSICAL_ADDRESS pa;
        PVOID va;
        ULONG len, flags;
        KeRaiseIrql(IRQ_DIRQL, &old);
        t->v[1] = KeGetCurrentIrql();
        t->site_line = __LINE__; t->st[0] = IPortWavePciStream_GetMapping(t->fs->ps, TAG(1), &pa, &va, &len, &flags);
        t->v[0] = 1; /* not reached */
        KeLowerIrql(old);
    } else {
        t->st[1] = IoConnectInterrupt(&t->intr, idle_isr, t, NULL, IRQ_LINE, IRQ_DIRQL, IRQ_DIRQL, LevelSensitive,
                                      FALSE, 0, FALSE);
        if (NT_SUCCESS(t->st[1]))
            KeSynchronizeExecution(t->intr, sync_get, t);
    }
}

static void client_main(void *arg)
{
    pt_state *t = arg;
    switch (t->sc) {
    case SC_SPLIT: sc_split(t); break;
    case SC_CAPTURE: sc_capture(t); break;
    case SC_EMPTY_AVAIL: sc_empty_avail(t); break;
    case SC_CANCEL_PARTLY: sc_cancel_partly(t); break;
    case SC_CANCEL_UNMAPPED: sc_cancel_unmapped(t); break;
    case SC_CANCEL_RELEASED_PART: sc_cancel_released_part(t); break;
    case SC_W6: sc_w6(t); break;
    case SC_CANCEL_RACE: sc_cancel_race(t); break;
    case SC_STATES: sc_states(t); break;
    case SC_STOP_REVOKES: sc_stop_revokes(t); break;
    case SC_SERVICE_GROUP: sc_service_group(t); break;
    case SC_SERVICE_TIMER: sc_service_timer(t); break;
    case SC_TERMINATE: sc_terminate(t); break;
    case SC_OPEN_FORMATS: sc_open_formats(t); break;
    case SC_ZERO_LENGTH: sc_zero_length(t); break;
    case SC_IRQL_RAISE:
    case SC_IRQL_SYNC: sc_irql(t); break;
    case SC_SUBMIT_STOP_RACE: sc_submit_stop_race(t); break;
    case SC_SERVICE_DRIVEN: sc_service_driven(t); break;
    case SC_CALLBACK_IN_REVOKE: sc_callback_in_revoke(t); break;
    default: sc_finding(t); break;
    }
}

/* ---- running -------------------------------------------------------------------------------- */

static pt_state *pt_new(int sc)
{
    pt_state *t = calloc(1, sizeof *t);
    assert_non_null(t);
    t->sc = sc;
    t->fail_state = -1;
    return t;
}

/* Build engine, memory, device and filter, run the scenario, tear down in the documented order. */
static run_out pt_run(pt_state *t, uint64_t seed, uint32_t cpus)
{
    ksl_config cfg = cfg_with(seed, cpus);
    run_out o;
    memset(&o, 0, sizeof o);
    char err[256] = "";
    ksl_engine *e = ksl_engine_create(&cfg, err, sizeof err);
    assert_non_null(e);
    t->e = e;
    t->pm = ksl_physmem_create(1u << 20, true, seed);
    assert_non_null(t->pm);
    t->dev.pm = t->pm;
    t->dev.d = ksl_device_attach(e, &dd_ops, &t->dev, DD_BASE, DD_SIZE);
    assert_non_null(t->dev.d);
    CM_PARTIAL_RESOURCE_DESCRIPTOR res[2];
    memset(res, 0, sizeof res);
    res[0].Type = CmResourceTypePort;
    res[0].u.Port.Start.QuadPart = DD_BASE;
    res[0].u.Port.Length = DD_SIZE;
    res[1].Type = CmResourceTypeInterrupt;
    res[1].u.Interrupt.Level = IRQ_DIRQL;
    res[1].u.Interrupt.Vector = IRQ_LINE;
    t->f = ksl_wavepci_create(e, &fake_driver, t->pm, res, 2, t->buffer_offset, err, sizeof err);
    if (!t->f)
        fprintf(stderr, "ksl_wavepci_create: %s\n", err);
    assert_non_null(t->f);
    g_t = t;
    ksl_thread_create(e, "client", client_main, t);
    if (t->sc == SC_CANCEL_RACE) {
        KeInitializeEvent(&t->submitted, NotificationEvent, FALSE);
        KeInitializeEvent(&t->go, NotificationEvent, FALSE);
        KeInitializeEvent(&t->worker_done, NotificationEvent, FALSE);
        KeInitializeEvent(&t->canceller_done, NotificationEvent, FALSE);
        ksl_thread_create(e, "worker", race_worker, t);
        ksl_thread_create(e, "canceller", race_canceller, t);
    }
    if (t->sc == SC_SUBMIT_STOP_RACE) {
        KeInitializeEvent(&t->go, NotificationEvent, FALSE);
        KeInitializeEvent(&t->canceller_done, NotificationEvent, FALSE);
        ksl_thread_create(e, "stopper", stopper, t);
    }
    o.rc = ksl_engine_run(e);
    const ksl_finding *f = ksl_engine_finding(e);
    if (f) {
        snprintf(o.rule, sizeof o.rule, "%s", f->rule);
        snprintf(o.message, sizeof o.message, "%s", f->message);
        snprintf(o.detail, sizeof o.detail, "%s", f->detail);
        snprintf(t->ffile, sizeof t->ffile, "%s", f->file ? f->file : "");
        t->fline = f->line;
        snprintf(t->fctx, sizeof t->fctx, "%s", f->context);
        snprintf(t->fracing, sizeof t->fracing, "%s", f->racing_context);
        snprintf(t->fracing_file, sizeof t->fracing_file, "%s", f->racing_file);
        t->ftime = f->time_ns;
    }
    ksl_engine_stats(e, &o.stats);
    ksl_wavepci_get_stats(t->f, &t->pst);
    ksl_wavepci_destroy(t->f);
    t->f = NULL;
    ksl_engine_destroy(e);
    t->e = NULL;
    ksl_physmem_destroy(t->pm);
    t->pm = NULL;
    g_t = NULL;
    return o;
}

/* The events of the log whose kinds are in `kinds`, as text: M<id> (mark), S<state>, R<first>-<last>/<n>
 * (revoke), A (MappingAvailable), V (Service), N<pin>/<capture>/<rate> (NewStream), I, D, F (stream
 * freed), X (miniport freed). */
static const char *ev_text(const pt_state *t, const char *kinds, char *buf, size_t len)
{
    size_t at = 0;
    buf[0] = 0;
    for (int i = 0; i < t->nlog && at + 32 < len; i++) {
        const ev_rec *r = &t->log[i];
        char k = "?IDNSRAVFXM"[r->ev];
        if (!strchr(kinds, k))
            continue;
        const char *sp = at ? " " : "";
        switch (r->ev) {
        case EV_MARK: at += (size_t)snprintf(buf + at, len - at, "%sM%lu", sp, (unsigned long)r->a); break;
        case EV_SETSTATE: at += (size_t)snprintf(buf + at, len - at, "%sS%lu", sp, (unsigned long)r->a); break;
        case EV_REVOKE:
            at += (size_t)snprintf(buf + at, len - at, "%sR%lu-%lu/%lu", sp, (unsigned long)r->a, (unsigned long)r->b,
                                   (unsigned long)r->n);
            break;
        case EV_NEWSTREAM:
            at += (size_t)snprintf(buf + at, len - at, "%sN%lu/%lu/%lu", sp, (unsigned long)r->a, (unsigned long)r->b,
                                   (unsigned long)r->n);
            break;
        default: at += (size_t)snprintf(buf + at, len - at, "%s%c", sp, k); break;
        }
    }
    return buf;
}

#define assert_events(t, kinds, want)                               \
    do {                                                            \
        char evbuf_[2048];                                          \
        assert_string_equal(ev_text((t), (kinds), evbuf_, sizeof evbuf_), (want)); \
    } while (0)

static int count_ev(const pt_state *t, int ev)
{
    int n = 0;
    for (int i = 0; i < t->nlog; i++)
        n += t->log[i].ev == ev;
    return n;
}

static const ev_rec *first_ev(const pt_state *t, int ev)
{
    for (int i = 0; i < t->nlog; i++)
        if (t->log[i].ev == ev)
            return &t->log[i];
    return NULL;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* The finding was reported at the scenario's own port call in this file. */
static void assert_site_here(const pt_state *t)
{
    if (!ends_with(t->ffile, "test_port.c") || t->fline != t->site_line)
        fprintf(stderr, "finding at %s:%d, want test_port.c:%d\n", t->ffile, t->fline, t->site_line);
    assert_true(ends_with(t->ffile, "test_port.c"));
    assert_int_equal(t->fline, t->site_line);
}

/* The bytes the device read are IRP i's first n bytes, from `at` in its output. */
static void assert_played(const pt_state *t, size_t at, int irp, uint32_t n)
{
    assert_true(at + n <= t->dev.nout);
    for (uint32_t k = 0; k < n; k++)
        if (t->dev.out[at + k] != pat(irp, k)) {
            fprintf(stderr, "played byte %zu: 0x%02x, want byte %u of IRP %d (0x%02x)\n", at + k, t->dev.out[at + k], k,
                    irp, pat(irp, k));
            fail();
        }
}

/* The filter's common teardown: everything the fake allocated went back. */
static void assert_torn_down(const pt_state *t)
{
    assert_int_equal(t->finished, 1);
    assert_int_equal(count_ev(t, EV_STREAM_FREE), count_ev(t, EV_NEWSTREAM));
    assert_int_equal(count_ev(t, EV_MP_FREE), 1);
    assert_null(t->fs);
    assert_null(t->mp);
}

/* ---- splitting, order, completion ----------------------------------------------------------- */

typedef struct split_row {
    uint32_t offset;
    uint32_t sizes[6];
    int n;
} split_row;

static void test_split_at_page_boundaries(void **state)
{
    (void)state;
    static const split_row rows[] = {
        {0, {1, PAGE, PAGE + 1, 10000, 3 * PAGE}, 5},
        {4, {PAGE - 4, PAGE - 3, 4 * PAGE}, 3},
        {2048, {2048, 2049, 6144, 6145, 100}, 5},
        {4092, {4, 5, 2 * PAGE, 1, 3 * PAGE}, 5},
    };
    int scattered = 0;
    for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++) {
        for (uint32_t cpus = 1; cpus <= 2; cpus++) {
            pt_state *t = pt_new(SC_SPLIT);
            t->buffer_offset = rows[r].offset;
            t->nsizes = rows[r].n;
            memcpy(t->sizes, rows[r].sizes, sizeof rows[r].sizes);
            run_out o = pt_run(t, 1 + r, cpus);
            assert_clean(o);
            assert_int_equal(t->st_start, STATUS_SUCCESS);
            assert_int_equal(t->st_open, STATUS_SUCCESS);
            /* The resources reached the miniport's Init, which gave no service group. */
            assert_int_equal(t->init_nres, 2);
            assert_int_equal(t->init_nirq, 1);
            assert_int_equal(t->init_nport, 1);
            assert_int_equal(t->init_irq_line, IRQ_LINE);
            assert_int_equal(t->init_group_null, 1);
            assert_events(t, "IDN", "I D N0/0/48000");
            const uint32_t X = rows[r].offset;
            int k = 0;
            uint64_t total = 0;
            uint32_t handed = 0;
            for (int i = 0; i < t->nirps; i++) {
                const uint32_t N = t->len[i];
                const uint32_t nm = (X + N + PAGE - 1) / PAGE;
                assert_int_equal(t->sub_st[i], STATUS_PENDING);
                uint32_t at = 0;
                for (uint32_t j = 0; j < nm; j++, k++) {
                    const got_rec *g = &t->got[k];
                    uint32_t room = PAGE - (j == 0 ? X : 0);
                    uint32_t want = N - at < room ? N - at : room;
                    assert_int_equal(g->st, STATUS_SUCCESS);
                    assert_int_equal(g->irp, i); /* in submission order */
                    assert_int_equal(g->off, at); /* VirtualAddress == UserBuffer + offset */
                    assert_int_equal(g->len, want);
                    assert_true(g->pa >= KSL_PHYSMEM_BASE);
                    assert_int_equal(g->pa, g->pa_expect);
                    assert_int_equal(g->pa % PAGE, j == 0 ? X : 0); /* split exactly at page boundaries */
                    assert_int_equal(g->flags != 0, j + 1 == nm);   /* only the last one is flagged */
                    if (j && g->pa != t->got[k - 1].pa + t->got[k - 1].len)
                        scattered++;
                    /* Released in order after the device moved every byte: the IRP completes
                     * with the release of its last mapping, not before. */
                    assert_int_equal(g->play_rc, 0);
                    assert_int_equal(g->rel_st, STATUS_SUCCESS);
                    assert_int_equal(g->done_before, 0);
                    assert_int_equal(g->done_after, j + 1 == nm);
                    at += want;
                    handed++;
                }
                assert_int_equal(at, N);
                assert_int_equal(t->wait_st[i], STATUS_SUCCESS);
                assert_int_equal(t->info[i], N);
                assert_int_equal(t->transferred[i], N);
                assert_played(t, total, i, N);
                total += N;
            }
            /* Then nothing: STATUS_NOT_FOUND. */
            assert_int_equal(t->ngot, k + 1);
            assert_int_equal(t->got[k].st, STATUS_NOT_FOUND);
            assert_int_equal(t->dev.nout, total);
            const ksl_wavepci_stats *s = &t->pst;
            assert_int_equal(s->irps_submitted, (uint64_t)t->nirps);
            assert_int_equal(s->irps_completed, (uint64_t)t->nirps);
            assert_int_equal(s->irps_cancelled, 0);
            assert_int_equal(s->bytes_submitted, total);
            assert_int_equal(s->bytes_transferred, total);
            assert_int_equal(s->bytes_cancelled, 0);
            assert_int_equal(s->mappings_handed, handed);
            assert_int_equal(s->mappings_released, handed);
            assert_int_equal(s->mappings_revoked, 0);
            assert_int_equal(s->get_refused, 1);
            assert_int_equal(s->revoke_calls, 0);
            /* IRPs queued before any refusal: no MappingAvailable. */
            assert_int_equal(s->mapping_available_calls, 0);
            assert_int_equal(count_ev(t, EV_MAPAVAIL), 0);
            assert_torn_down(t);
            run_out_free(&o);
            free(t);
        }
    }
    /* The memory scatters pages, so the port may not assume contiguity (and does not). */
    assert_true(scattered > 0);
}

static void test_capture_dma_write(void **state)
{
    (void)state;
    pt_state *t = pt_new(SC_CAPTURE);
    t->buffer_offset = 1000;
    run_out o = pt_run(t, 3, 2);
    assert_clean(o);
    assert_events(t, "N", "N1/1/48000"); /* the capture pin */
    assert_int_equal(t->ngot, 3);
    assert_int_equal(t->got[0].len, PAGE - 1000);
    assert_int_equal(t->got[1].len, 6000 - (PAGE - 1000));
    assert_int_equal(t->got[1].flags != 0, 1);
    assert_int_equal(t->got[0].flags, 0);
    assert_int_equal(t->got[2].st, STATUS_NOT_FOUND);
    assert_int_equal(t->wait_st[0], STATUS_SUCCESS);
    assert_int_equal(t->info[0], 6000);
    assert_int_equal(t->data_ok, 1); /* the device's bytes landed in the IRP, in order */
    assert_int_equal(t->pst.bytes_transferred, 6000);
    assert_torn_down(t);
    run_out_free(&o);
    free(t);
}

static void test_get_mapping_empty_and_mapping_available(void **state)
{
    (void)state;
    for (uint32_t cpus = 1; cpus <= 2; cpus++) {
        pt_state *t = pt_new(SC_EMPTY_AVAIL);
        run_out o = pt_run(t, 5, cpus);
        assert_clean(o);
        assert_int_equal(t->st[0], STATUS_NOT_FOUND);
        assert_int_equal(t->st[1], STATUS_SUCCESS);
        assert_int_equal(t->st[2], STATUS_SUCCESS);
        assert_int_equal(t->st[3], STATUS_NOT_FOUND);
        /* MappingAvailable only on the first submit after each refusal. */
        assert_events(t, "MA", "M1 M2 A M3 M4 M5 A M6 M7");
        /* ... at the submitter's IRQL, and the miniport can take the new mapping from inside it. */
        assert_int_equal(first_ev(t, EV_MAPAVAIL)->irql, PASSIVE_LEVEL);
        const got_rec *g = got_tag(t, 100);
        assert_non_null(g);
        assert_int_equal(g->irp, 2);
        assert_int_equal(g->off, 0);
        assert_int_equal(t->st[4], STATUS_SUCCESS);
        assert_int_equal(got_tag(t, 5)->irp, 3);
        for (int i = 0; i < 4; i++) {
            assert_int_equal(t->wait_st[i], STATUS_SUCCESS);
            assert_int_equal(t->info[i], PAGE);
        }
        assert_int_equal(t->pst.get_refused, 2);
        assert_int_equal(t->pst.mapping_available_calls, 2);
        assert_int_equal(t->pst.irps_completed, 4);
        assert_torn_down(t);
        run_out_free(&o);
        free(t);
    }
}

/* ---- findings ------------------------------------------------------------------------------- */

static pt_state *run_finding(int sc, int param, run_out *o)
{
    pt_state *t = pt_new(sc);
    t->param = param;
    *o = pt_run(t, 7, 2);
    assert_int_equal(t->v[0], 1); /* the scenario got to the bad call */
    assert_int_equal(t->v[9], 0); /* and the run stopped there */
    return t;
}

static void test_w1_findings(void **state)
{
    (void)state;
    run_out o;
    pt_state *t = run_finding(SC_DOUBLE_RELEASE, 0, &o);
    assert_rule(o, "W1.double-release");
    assert_int_equal(t->st[0], STATUS_SUCCESS);
    assert_site_here(t);
    assert_non_null(strstr(o.message, "already released"));
    run_out_free(&o);
    free(t);

    t = run_finding(SC_OUT_OF_ORDER, 0, &o);
    assert_rule(o, "W1.release-out-of-order");
    assert_site_here(t);
    assert_int_equal(t->pst.mappings_released, 0);
    run_out_free(&o);
    free(t);

    t = run_finding(SC_UNKNOWN_TAG, 0, &o);
    assert_rule(o, "W1.release-unknown-tag");
    assert_site_here(t);
    assert_non_null(strstr(o.message, "ReleaseMapping(0x3e7)"));
    run_out_free(&o);
    free(t);

    /* RevokeMappings reported both revoked (the IRP completed at once, cancelled) and then the
     * miniport released one of them anyway. */
    t = run_finding(SC_RELEASE_REVOKED, 0, &o);
    assert_rule(o, "W6.removed-twice");
    assert_site_here(t);
    assert_events(t, "R", "R1-2/2");
    assert_int_equal(t->v[1], 1);
    assert_int_equal(t->v[2], 1);
    assert_int_equal(t->wait_st[0], STATUS_CANCELLED);
    assert_int_equal(t->pst.mappings_revoked, 2);
    run_out_free(&o);
    free(t);

    t = run_finding(SC_REVOKE_COUNT, 0, &o);
    assert_rule(o, "W1.revoke-count-wrong");
    assert_events(t, "R", "R1-2/3");
    assert_non_null(strstr(o.message, "reported 3 mappings revoked, but the miniport held only 2"));
    run_out_free(&o);
    free(t);

    /* RevokeMappings reports 0 at STOP and the miniport never releases them: close says so. */
    t = run_finding(SC_HELD_AT_CLOSE, 0, &o);
    assert_rule(o, "W1.mapping-held-at-close");
    assert_events(t, "SR", "S1 S0 R1-2/0");
    assert_non_null(strstr(o.message, "2 mapping(s) still held"));
    assert_true(ends_with(t->ffile, "test_port.c")); /* the miniport's GetMapping of the oldest */
    assert_true(t->ftime >= 100000000ull); /* after close waited 100 ms for late releases */
    assert_int_equal(t->v[3], 0);
    run_out_free(&o);
    free(t);
}

static void test_w4_findings(void **state)
{
    (void)state;
    run_out o;
    pt_state *t = run_finding(SC_TAG_REUSED, 0, &o);
    assert_rule(o, "W4.tag-reused");
    assert_int_equal(t->st[0], STATUS_SUCCESS);
    assert_site_here(t);
    assert_int_equal(t->pst.mappings_handed, 1);
    run_out_free(&o);
    free(t);

    /* Released before the device moved all its bytes. */
    t = run_finding(SC_EARLY_RELEASE, 0, &o);
    assert_rule(o, "W4.data-mismatch");
    assert_int_equal(t->v[1], 0);
    assert_site_here(t);
    assert_non_null(strstr(o.message, "moved only 1000 of its 4096 bytes"));
    run_out_free(&o);
    free(t);

    /* The device repeats bytes, or skips some: the ledger refuses the transfer (device side: at
     * the driver's latest call, in the context of the CPU that started the transfer). */
    for (int param = 0; param <= 1; param++) {
        t = run_finding(SC_DMA_REPEAT, param, &o);
        assert_rule(o, "W4.data-mismatch");
        assert_int_equal(t->v[1], 0);
        assert_non_null(strstr(o.message, param ? "skipped" : "repeated"));
        assert_true(ends_with(t->ffile, "test_port.c"));
        assert_non_null(strstr(o.detail, "detected by kslab, after the driver's latest call in this context"));
        assert_string_equal(t->fctx, "thread 'client'");
        assert_int_equal(t->pst.bytes_transferred, 100);
        run_out_free(&o);
        free(t);
    }
}

static void test_w5_findings(void **state)
{
    (void)state;
    run_out o;
    pt_state *t = run_finding(SC_DMA_AFTER_RELEASE, 0, &o);
    assert_rule(o, "W5.dma-after-release");
    assert_int_equal(t->v[1], 0);
    assert_int_equal(t->st[0], STATUS_SUCCESS);
    assert_non_null(strstr(o.message, "which is released"));
    assert_int_equal(t->pst.bytes_transferred, PAGE);
    /* the other side: who released it, at the miniport's ReleaseMapping */
    assert_string_equal(t->fracing, "thread 'client'");
    assert_true(ends_with(t->fracing_file, "test_port.c"));
    run_out_free(&o);
    free(t);

    t = run_finding(SC_DMA_AFTER_REVOKE, 0, &o);
    assert_rule(o, "W5.dma-after-revoke");
    assert_int_equal(t->v[2], 1);
    assert_int_equal(t->v[3], 1);
    assert_int_equal(t->wait_st[0], STATUS_CANCELLED);
    assert_int_equal(t->info[0], 100);
    assert_non_null(strstr(o.message, "which is revoked"));
    assert_int_equal(t->pst.bytes_transferred, 100);
    assert_true(t->fracing[0] && ends_with(t->fracing_file, "test_port.c")); /* the revoke's side */
    run_out_free(&o);
    free(t);

    /* The revoke left the oldest out of its count (W6): it is on its way back through release,
     * so the hardware must not touch it either. */
    t = run_finding(SC_DMA_AFTER_KEEP, 0, &o);
    assert_rule(o, "W5.dma-after-revoke");
    assert_events(t, "R", "R1-2/1");
    assert_int_equal(t->v[3], 0);
    assert_non_null(strstr(o.message, "left out of its count"));
    run_out_free(&o);
    free(t);

    t = run_finding(SC_DMA_UNOWNED, 0, &o);
    assert_rule(o, "W5.dma-unowned-mapping");
    assert_non_null(strstr(o.message, "mapping 1 of IRP #1"));
    assert_non_null(strstr(o.message, "which is queued"));
    assert_int_equal(t->pst.bytes_transferred, 0);
    run_out_free(&o);
    free(t);
}

/* ---- cancellation --------------------------------------------------------------------------- */

static void test_cancel_partly_held(void **state)
{
    (void)state;
    for (uint32_t cpus = 2; cpus <= 4; cpus += 2) {
        for (uint64_t seed = 1; seed <= 200; seed++) {
            pt_state *t = pt_new(SC_CANCEL_PARTLY);
            run_out o = pt_run(t, seed, cpus);
            assert_clean(o);
            /* Exactly one RevokeMappings, inside IoCancelIrp, at DISPATCH_LEVEL, for A's held
             * tags only (not P's 10). */
            assert_events(t, "MR", "M1 R11-13/3 M2");
            const ev_rec *r = first_ev(t, EV_REVOKE);
            assert_int_equal(r->irql, DISPATCH_LEVEL);
            assert_string_equal(r->ctx, "thread 'client'");
            assert_int_equal(t->v[0], 1);
            assert_int_equal(t->v[1], 1); /* completed by the cancel */
            assert_int_equal(t->v[2], 0); /* P still held */
            assert_int_equal(t->wait_st[1], STATUS_CANCELLED);
            assert_int_equal(t->info[1], 1000);
            /* A's fourth mapping is never handed out: the next is B's first. */
            assert_int_equal(t->st[0], STATUS_SUCCESS);
            assert_int_equal(got_tag(t, 14)->irp, 2);
            assert_int_equal(got_tag(t, 14)->off, 0);
            assert_int_equal(t->st[1], STATUS_NOT_FOUND);
            assert_int_equal(t->wait_st[0], STATUS_SUCCESS);
            assert_int_equal(t->info[0], PAGE);
            assert_int_equal(t->wait_st[2], STATUS_SUCCESS);
            assert_int_equal(t->info[2], PAGE);
            assert_int_equal(t->v[3], 0); /* the fake holds nothing */
            /* Nothing of A after its 1000 bytes was played. */
            assert_int_equal(t->dev.nout, PAGE + 1000 + PAGE);
            assert_played(t, 0, 0, PAGE);
            assert_played(t, PAGE, 1, 1000);
            assert_played(t, PAGE + 1000, 2, PAGE);
            const ksl_wavepci_stats *s = &t->pst;
            assert_int_equal(s->revoke_calls, 1);
            assert_int_equal(s->mappings_handed, 5);
            assert_int_equal(s->mappings_revoked, 3);
            assert_int_equal(s->mappings_released, 2);
            assert_int_equal(s->irps_cancelled, 1);
            assert_int_equal(s->irps_completed, 2);
            assert_int_equal(s->bytes_transferred, 2 * PAGE + 1000);
            assert_int_equal(s->bytes_cancelled, 4 * PAGE - 1000);
            assert_torn_down(t);
            run_out_free(&o);
            free(t);
        }
    }
}

static void test_cancel_without_held_mappings(void **state)
{
    (void)state;
    pt_state *t = pt_new(SC_CANCEL_UNMAPPED);
    run_out o = pt_run(t, 11, 2);
    assert_clean(o);
    /* B, nothing of it handed out: completed inside IoCancelIrp, no RevokeMappings. */
    assert_events(t, "MRA", "M1 M2 M3");
    assert_int_equal(t->v[0], 1);
    assert_int_equal(t->v[1], 1);
    assert_int_equal(t->wait_st[1], STATUS_CANCELLED);
    assert_int_equal(t->info[1], 0);
    /* C, cancelled before it was submitted: IoCancelIrp found no cancel routine, and the
     * submit completed it at once. */
    assert_int_equal(t->v[2], 0);
    assert_int_equal(t->sub_st[2], STATUS_PENDING);
    assert_int_equal(t->v[3], 1);
    assert_int_equal(t->wait_st[2], STATUS_CANCELLED);
    assert_int_equal(t->info[2], 0);
    assert_int_equal(t->st[0], STATUS_NOT_FOUND);
    assert_int_equal(t->wait_st[0], STATUS_SUCCESS);
    assert_int_equal(t->info[0], PAGE);
    const ksl_wavepci_stats *s = &t->pst;
    assert_int_equal(s->irps_submitted, 3);
    assert_int_equal(s->irps_cancelled, 2);
    assert_int_equal(s->irps_completed, 1);
    assert_int_equal(s->revoke_calls, 0);
    assert_int_equal(s->mappings_handed, 1);
    assert_int_equal(s->bytes_cancelled, 3 * PAGE);
    assert_torn_down(t);
    run_out_free(&o);
    free(t);

    /* Its handed-out mappings all released, the rest not handed out yet: completed cancelled with
     * the bytes played, without RevokeMappings; the rest is never handed out. */
    t = pt_new(SC_CANCEL_RELEASED_PART);
    o = pt_run(t, 12, 2);
    assert_clean(o);
    assert_events(t, "MR", "M1 M2");
    assert_int_equal(t->v[0], 0);
    assert_int_equal(t->v[1], 1);
    assert_int_equal(t->v[2], 1);
    assert_int_equal(t->st[0], STATUS_NOT_FOUND);
    assert_int_equal(t->wait_st[0], STATUS_CANCELLED);
    assert_int_equal(t->info[0], 2 * PAGE);
    assert_int_equal(t->pst.revoke_calls, 0);
    assert_int_equal(t->pst.irps_cancelled, 1);
    assert_int_equal(t->pst.bytes_cancelled, PAGE);
    assert_torn_down(t);
    run_out_free(&o);
    free(t);
}

static void test_cancel_w6_popped_mapping(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= 20; seed++) {
        pt_state *t = pt_new(SC_W6);
        run_out o = pt_run(t, seed, 1 + (uint32_t)(seed % 4));
        assert_clean(o);
        /* Three held, the oldest popped by the release path: the miniport reports 2. */
        assert_events(t, "MR", "M1 R1-3/2 M2");
        assert_int_equal(t->v[0], 1);
        assert_int_equal(t->v[1], 0); /* not complete: one release is due */
        assert_int_equal(t->v[2], 1);
        assert_int_equal(t->mid.mappings_revoked, 2);
        assert_int_equal(t->mid.irps_cancelled, 0);
        /* The due release is clean and completes the IRP, cancelled, with what was played. */
        assert_int_equal(t->st[0], STATUS_SUCCESS);
        assert_int_equal(t->v[3], 1);
        assert_int_equal(t->wait_st[0], STATUS_CANCELLED);
        assert_int_equal(t->info[0], PAGE + 500);
        assert_int_equal(t->st[1], STATUS_SUCCESS);
        assert_int_equal(got_tag(t, 4)->irp, 1);
        assert_int_equal(t->wait_st[1], STATUS_SUCCESS);
        assert_int_equal(t->info[1], PAGE);
        const ksl_wavepci_stats *s = &t->pst;
        assert_int_equal(s->mappings_handed, 4);
        assert_int_equal(s->mappings_revoked, 2);
        assert_int_equal(s->mappings_released, 2);
        assert_int_equal(s->irps_cancelled, 1);
        assert_torn_down(t);
        run_out_free(&o);
        free(t);
    }
}

/* The clean cancellation under many schedules: a worker thread plays and releases mappings
 * (popping each before it releases it, so revoke races release as in W6), while another thread
 * cancels the first IRP at a seed-chosen moment. */
static void test_cancel_race_many_schedules(void **state)
{
    (void)state;
    int classes[5] = {0}; /* too late, raced completion, cancelled unmapped, revoked all, revoke kept */
    for (uint32_t cpus = 2; cpus <= 4; cpus += 2) {
        for (uint64_t seed = 1; seed <= 200; seed++) {
            pt_state *t = pt_new(SC_CANCEL_RACE);
            t->buffer_offset = 256;
            t->cancel_delay_us = (uint32_t)((seed * 7919u) % 40u);
            run_out o = pt_run(t, seed, cpus);
            if (o.rc != 0)
                fprintf(stderr, "seed %llu, %u CPUs:\n", (unsigned long long)seed, cpus);
            assert_clean(o);
            const uint32_t la = 3 * PAGE, lb = 2 * PAGE;
            uint32_t ia = (uint32_t)t->info[0];
            assert_int_equal(t->st[0], STATUS_SUCCESS);
            assert_int_equal(t->dma_err, 0);
            assert_int_equal(t->rel_err, 0);
            assert_int_equal(t->v[0], 0);
            assert_int_equal(t->left_held, 0);
            assert_int_equal(t->wait_st[1], STATUS_SUCCESS);
            assert_int_equal(t->info[1], lb);
            assert_int_equal(ia, t->transferred[0]);
            /* Played: what A's Information says of A, then all of B; nothing revoked. */
            assert_int_equal(t->dev.nout, (size_t)ia + lb);
            assert_played(t, 0, 0, ia);
            assert_played(t, ia, 1, lb);
            int revokes = count_ev(t, EV_REVOKE);
            assert_true(revokes <= 1);
            const ev_rec *r = first_ev(t, EV_REVOKE);
            if (r) {
                assert_int_equal(r->irql, DISPATCH_LEVEL);
                assert_string_equal(r->ctx, "thread 'canceller'");
                assert_true(r->a >= 1 && r->a <= r->b && r->b <= 4); /* A's 4 mappings are tags 1..4 */
                assert_true(r->n <= r->b - r->a + 1);
            }
            if (t->wait_st[0] == STATUS_SUCCESS) {
                assert_int_equal(ia, la);
                assert_int_equal(revokes, 0);
                classes[t->cancel_ret ? 1 : 0]++;
            } else {
                assert_int_equal(t->wait_st[0], STATUS_CANCELLED);
                assert_int_equal(t->cancel_ret, 1);
                assert_true(ia <= la);
                classes[!r ? 2 : r->n == r->b - r->a + 1 ? 3 : 4]++;
            }
            const ksl_wavepci_stats *s = &t->pst;
            assert_int_equal(s->irps_submitted, 2);
            assert_int_equal(s->irps_completed + s->irps_cancelled, 2);
            assert_int_equal(s->irps_cancelled, t->wait_st[0] == STATUS_CANCELLED);
            assert_int_equal(s->mappings_handed, s->mappings_released + s->mappings_revoked);
            assert_int_equal(s->bytes_transferred, (uint64_t)ia + lb);
            assert_int_equal(s->bytes_transferred + s->bytes_cancelled, s->bytes_submitted);
            assert_int_equal(s->revoke_calls, (uint64_t)revokes);
            assert_torn_down(t);
            run_out_free(&o);
            free(t);
        }
    }
    fprintf(stderr,
            "cancel race over 400 runs: %d too late, %d raced the last release, %d cancelled with nothing held, "
            "%d revoked all held, %d revoked with a release due (W6)\n",
            classes[0], classes[1], classes[2], classes[3], classes[4]);
    /* The schedules reach every path of the port's cancel logic. */
    for (int i = 0; i < 5; i++)
        assert_true(classes[i] > 0);
}

/* ---- KSSTATE -------------------------------------------------------------------------------- */

static void test_state_machine(void **state)
{
    (void)state;
    pt_state *t = pt_new(SC_STATES);
    run_out o = pt_run(t, 13, 2);
    assert_clean(o);
    assert_int_equal(t->st[0], STATUS_INVALID_DEVICE_STATE); /* STOP -> RUN */
    assert_int_equal(t->st[1], STATUS_INVALID_DEVICE_STATE); /* STOP -> PAUSE */
    assert_int_equal(t->st[2], STATUS_INVALID_DEVICE_STATE); /* no such state */
    assert_int_equal(t->after[0], KSSTATE_STOP);
    assert_int_equal(t->sub_st[0], STATUS_INVALID_DEVICE_STATE); /* submit in STOP */
    assert_int_equal(t->v[0], 0);
    assert_int_equal(t->mid.irps_submitted, 0);
    assert_int_equal(t->st[3], STATUS_SUCCESS);
    static const KSSTATE walk[] = {KSSTATE_ACQUIRE, KSSTATE_PAUSE, KSSTATE_RUN, KSSTATE_PAUSE, KSSTATE_ACQUIRE, KSSTATE_STOP};
    for (int i = 0; i < 6; i++) {
        assert_int_equal(t->st[4 + i], STATUS_SUCCESS);
        assert_int_equal(t->after[4 + i], walk[i]);
    }
    assert_int_equal(t->st[10], STATUS_SUCCESS);
    assert_int_equal(t->st[11], STATUS_INVALID_DEVICE_STATE); /* ACQUIRE -> RUN */
    assert_int_equal(t->after[11], KSSTATE_ACQUIRE);
    assert_int_equal(t->st[12], STATUS_UNSUCCESSFUL); /* the miniport's own refusal */
    assert_int_equal(t->after[12], KSSTATE_ACQUIRE);
    assert_int_equal(t->st[13], STATUS_SUCCESS);
    /* One SetState per one-step transition, none for refused or empty ones; none at close. */
    assert_events(t, "MS", "M1 M2 S1 S2 S3 S2 S1 S0 M3 S1 S2 S0 M4");
    assert_int_equal(count_ev(t, EV_SETSTATE), 9);
    assert_torn_down(t);
    run_out_free(&o);
    free(t);
}

static void test_stop_revokes_and_cancels(void **state)
{
    (void)state;
    for (int param = 0; param <= 1; param++) {
        for (uint32_t cpus = 1; cpus <= 4; cpus++) {
            pt_state *t = pt_new(SC_STOP_REVOKES);
            t->param = param;
            run_out o = pt_run(t, 17, cpus);
            assert_clean(o);
            /* Nothing revoked on the way down until STOP; then one RevokeMappings per IRP with
             * held mappings, after the miniport's SetState(STOP); C had none handed out.  With
             * param 1 the miniport's release path had just popped A's first mapping. */
            assert_events(t, "MSR",
                          param ? "S1 S2 S3 M0 S2 M1 S1 M2 S0 R1-2/1 R3-3/1 M3 M4"
                                : "S1 S2 S3 M0 S2 M1 S1 M2 S0 R1-2/2 R3-3/1 M3 M4");
            for (int i = 0; i < t->nlog; i++)
                if (t->log[i].ev == EV_REVOKE)
                    assert_int_equal(t->log[i].irql, DISPATCH_LEVEL);
            for (int i = 0; i < 3; i++)
                assert_int_equal(t->st[i], STATUS_SUCCESS);
            assert_int_equal(t->v[0], 0);
            assert_int_equal(t->v[2], 0);
            if (param == 0) {
                assert_int_equal(t->v[1], 3); /* all three completed by the STOP */
            } else {
                assert_int_equal(t->v[1], 2); /* A waits for its due release ... */
                assert_int_equal(t->v[3], 0);
                assert_int_equal(t->st[3], STATUS_SUCCESS);
                assert_int_equal(t->v[4], 1); /* ... which completes it */
            }
            for (int i = 0; i < 3; i++)
                assert_int_equal(t->wait_st[i], STATUS_CANCELLED);
            assert_int_equal(t->info[0], PAGE);
            assert_int_equal(t->info[1], 0);
            assert_int_equal(t->info[2], 0);
            const ksl_wavepci_stats *s = &t->pst;
            assert_int_equal(s->irps_cancelled, 3);
            assert_int_equal(s->revoke_calls, 2);
            assert_int_equal(s->mappings_handed, 3);
            assert_int_equal(s->mappings_revoked, param ? 2 : 3);
            assert_int_equal(s->mappings_released, param ? 1 : 0);
            assert_int_equal(s->bytes_cancelled, 5 * PAGE - PAGE);
            assert_torn_down(t);
            run_out_free(&o);
            free(t);
        }
    }
}

/* The port holds its stream lock around RevokeMappings (as PortCls does), so a miniport that
 * calls back into the port from there deadlocks on that lock. */
static void test_port_call_inside_revoke(void **state)
{
    (void)state;
    for (int param = 0; param <= 2; param++) {
        pt_state *t = pt_new(SC_CALLBACK_IN_REVOKE);
        t->param = param;
        run_out o = pt_run(t, 41, 2);
        assert_rule(o, "K.spinlock-recursive");
        assert_int_equal(t->v[0], 1);
        assert_int_equal(t->v[8], 1);
        assert_int_equal(t->v[9], 0);
        assert_events(t, "R", "R1-1/1");
        assert_non_null(strstr(o.message, "WavePci port stream lock"));
        /* At the miniport's call into the port; the detail names the port's acquire. */
        assert_true(ends_with(t->ffile, "test_port.c"));
        assert_non_null(strstr(o.detail, "port_stream.c:"));
        assert_non_null(strstr(o.detail, "detected by kslab at "));
        run_out_free(&o);
        free(t);
    }
}

static void test_submit_races_stop(void **state)
{
    (void)state;
    int refused = 0, queued = 0;
    for (uint32_t cpus = 2; cpus <= 4; cpus += 2) {
        for (uint64_t seed = 1; seed <= 200; seed++) {
            pt_state *t = pt_new(SC_SUBMIT_STOP_RACE);
            t->cancel_delay_us = (uint32_t)(seed % 5);
            run_out o = pt_run(t, seed, cpus);
            if (o.rc != 0)
                fprintf(stderr, "seed %llu, %u CPUs:\n", (unsigned long long)seed, cpus);
            assert_clean(o);
            assert_int_equal(t->st[1], STATUS_SUCCESS);
            uint64_t pending = 0;
            for (int i = 0; i < 6; i++) {
                if (t->sub_st[i] == STATUS_PENDING) {
                    pending++;
                    queued++;
                    assert_int_equal(t->wait_st[i], STATUS_CANCELLED);
                    assert_int_equal(t->info[i], 0);
                } else {
                    refused++;
                    assert_int_equal(t->sub_st[i], STATUS_INVALID_DEVICE_STATE);
                }
            }
            assert_int_equal(t->pst.irps_submitted, pending);
            assert_int_equal(t->pst.irps_cancelled, pending);
            assert_torn_down(t);
            run_out_free(&o);
            free(t);
        }
    }
    assert_true(refused > 0 && queued > 0);
}

/* ---- Service -------------------------------------------------------------------------------- */

static void test_service_group_notify(void **state)
{
    (void)state;
    for (uint32_t cpus = 1; cpus <= 2; cpus++) {
        pt_state *t = pt_new(SC_SERVICE_GROUP);
        t->use_group = true;
        run_out o = pt_run(t, 19, cpus);
        assert_clean(o);
        for (int i = 0; i < 6; i++)
            assert_int_equal(t->st[i], STATUS_SUCCESS);
        /* Only in RUN; no timer when the stream has a group. */
        static const long want[] = {0, 0, 0, 1, 1, 2, 2};
        for (int i = 0; i < 7; i++)
            assert_int_equal(t->v[i], want[i]);
        for (int i = 0; i < t->nlog; i++)
            if (t->log[i].ev == EV_SERVICE) {
                assert_int_equal(t->log[i].irql, DISPATCH_LEVEL);
                assert_string_equal(t->log[i].ctx, "DPC 'service group'");
            }
        assert_int_equal(count_ev(t, EV_SERVICE), 2);
        assert_torn_down(t);
        run_out_free(&o);
        free(t);
    }
}

static void test_service_driven_stream(void **state)
{
    (void)state;
    for (uint32_t cpus = 1; cpus <= 4; cpus++) {
        for (uint64_t seed = 1; seed <= 25; seed++) {
            pt_state *t = pt_new(SC_SERVICE_DRIVEN);
            t->use_group = true;
            t->buffer_offset = 512;
            run_out o = pt_run(t, seed, cpus);
            assert_clean(o);
            assert_int_equal(t->wait_st[0], STATUS_SUCCESS);
            assert_int_equal(t->info[0], 3 * PAGE + 100);
            assert_int_equal(t->wait_st[1], STATUS_SUCCESS);
            assert_int_equal(t->info[1], 2 * PAGE);
            assert_played(t, 0, 0, 3 * PAGE + 100);
            assert_played(t, 3 * PAGE + 100, 1, 2 * PAGE);
            int handed = 0;
            for (int i = 0; i < t->ngot; i++) {
                assert_int_equal(t->got[i].irql, DISPATCH_LEVEL); /* from the service DPC */
                if (NT_SUCCESS(t->got[i].st)) {
                    handed++;
                    assert_int_equal(t->got[i].rel_st, STATUS_SUCCESS);
                }
            }
            assert_int_equal(handed, 4 + 3); /* (512 + 12388) and (512 + 8192) bytes in pages */
            for (int i = 0; i < t->nlog; i++)
                if (t->log[i].ev == EV_SERVICE)
                    assert_string_equal(t->log[i].ctx, "DPC 'service group'");
            const ksl_wavepci_stats *s = &t->pst;
            assert_int_equal(s->mappings_handed, 7);
            assert_int_equal(s->mappings_released, 7);
            assert_int_equal(s->irps_completed, 2);
            assert_int_equal(s->bytes_transferred, 5 * PAGE + 100);
            assert_torn_down(t);
            run_out_free(&o);
            free(t);
        }
    }
}

static void test_service_timer(void **state)
{
    (void)state;
    for (uint32_t cpus = 1; cpus <= 2; cpus++) {
        pt_state *t = pt_new(SC_SERVICE_TIMER);
        run_out o = pt_run(t, 23, cpus);
        assert_clean(o);
        assert_int_equal(t->v[0], 0); /* PAUSE: no timer */
        assert_int_equal(t->v[1], 5); /* 110 ms of RUN: at 20, 40, 60, 80, 100 ms */
        assert_int_equal(t->v[2], 5); /* PAUSE: stopped */
        assert_int_equal(t->v[3], 7); /* RUN again: 20, 40 ms */
        assert_int_equal(t->v[4], 7); /* down to STOP: stopped */
        int k = 0;
        for (int i = 0; i < t->nlog; i++) {
            const ev_rec *r = &t->log[i];
            if (r->ev != EV_SERVICE)
                continue;
            assert_int_equal(r->irql, DISPATCH_LEVEL);
            assert_string_equal(r->ctx, "DPC 'WavePci port timer'");
            ULONGLONG base = (ULONGLONG)(k < 5 ? t->v[10] : t->v[11]);
            ULONGLONG due = base + 200000ull * (ULONGLONG)((k < 5 ? k : k - 5) + 1); /* 20 ms in 100 ns */
            if (r->time < due || r->time > due + 1000)
                fprintf(stderr, "service %d at %llu, due %llu\n", k, (unsigned long long)r->time,
                        (unsigned long long)due);
            assert_true(r->time >= due && r->time <= due + 1000); /* within 100 us of due */
            k++;
        }
        assert_int_equal(k, 7);
        assert_events(t, "MV", "M1 V V V V V M2 V V");
        assert_torn_down(t);
        run_out_free(&o);
        free(t);
    }
}

/* ---- TerminatePacket ------------------------------------------------------------------------ */

static void test_terminate_packet(void **state)
{
    (void)state;
    for (int param = 0; param <= 1; param++) {
        pt_state *t = pt_new(SC_TERMINATE);
        t->param = param;
        run_out o = pt_run(t, 29, 2);
        assert_clean(o);
        assert_int_equal(t->st[0], STATUS_SUCCESS);
        assert_int_equal(t->v[0], 0);
        if (param == 0) {
            /* Two held: it completes when they are back. */
            assert_int_equal(t->v[1], 0);
            assert_int_equal(t->v[2], 0);
            assert_int_equal(t->v[3], 1);
        } else {
            /* Both released already: TerminatePacket completes it. */
            assert_int_equal(t->v[1], 1);
        }
        /* The rest of A is never handed out: next comes B. */
        assert_int_equal(t->st[1], STATUS_SUCCESS);
        assert_int_equal(got_tag(t, 3)->irp, 1);
        assert_int_equal(got_tag(t, 3)->off, 0);
        assert_int_equal(t->st[2], STATUS_NOT_FOUND);
        assert_int_equal(t->st[3], STATUS_SUCCESS);
        assert_int_equal(t->wait_st[0], STATUS_SUCCESS);
        assert_int_equal(t->info[0], 2 * PAGE);
        assert_int_equal(t->wait_st[1], STATUS_SUCCESS);
        assert_int_equal(t->info[1], PAGE);
        assert_played(t, 0, 0, 2 * PAGE);
        assert_played(t, 2 * PAGE, 1, PAGE);
        const ksl_wavepci_stats *s = &t->pst;
        assert_int_equal(s->terminate_calls, 2);
        assert_int_equal(s->mappings_handed, 3);
        assert_int_equal(s->mappings_released, 3);
        assert_int_equal(s->irps_completed, 2);
        assert_int_equal(s->irps_cancelled, 0);
        assert_int_equal(s->bytes_transferred, 3 * PAGE);
        /* The port counts a terminated packet's untransferred bytes as "cancelled". */
        assert_int_equal(s->bytes_cancelled, 2 * PAGE);
        assert_torn_down(t);
        run_out_free(&o);
        free(t);
    }
}

/* ---- open ----------------------------------------------------------------------------------- */

static void test_open_formats(void **state)
{
    (void)state;
    pt_state *t = pt_new(SC_OPEN_FORMATS);
    run_out o = pt_run(t, 31, 1);
    assert_clean(o);
    assert_int_equal(t->st_start, STATUS_SUCCESS);
    for (int i = 0; i < NFMT; i++) {
        if (t->st[i] != fmt_cases[i].want)
            fprintf(stderr, "format %d: 0x%08x, want 0x%08x\n", i, (unsigned)t->st[i], (unsigned)fmt_cases[i].want);
        assert_int_equal(t->st[i], fmt_cases[i].want);
        assert_int_equal(t->v[i], !NT_SUCCESS(fmt_cases[i].want)); /* *out NULL on failure */
    }
    /* NewStream only for the accepted ones: render pin 0, capture pin 1. */
    assert_events(t, "N", "N0/0/8000 N0/0/48000 N1/1/44100");
    assert_int_equal(count_ev(t, EV_STREAM_FREE), 3);
    assert_int_equal(count_ev(t, EV_MP_FREE), 1);
    run_out_free(&o);
    free(t);
}

static void test_zero_length_irp(void **state)
{
    (void)state;
    pt_state *t = pt_new(SC_ZERO_LENGTH);
    run_out o = pt_run(t, 37, 1);
    assert_clean(o);
    assert_int_equal(t->v[0], 1);
    assert_int_equal(t->v[1], 0);
    assert_int_equal(t->st[0], STATUS_SUCCESS);
    assert_int_equal(t->st[1], STATUS_SUCCESS);
    assert_int_equal(t->st[2], STATUS_NOT_FOUND);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(t->sub_st[i], STATUS_PENDING);
        assert_int_equal(t->wait_st[i], STATUS_SUCCESS);
        assert_int_equal(t->info[i], i == 1 ? 0 : PAGE);
    }
    assert_int_equal(t->mid.irps_submitted, 3);
    assert_int_equal(t->mid.irps_completed, 3);
    assert_int_equal(t->mid.mappings_handed, 2);
    assert_int_equal(t->mid.bytes_submitted, 2 * PAGE);
    run_out_free(&o);
    free(t);
}

/* ---- IRQL ----------------------------------------------------------------------------------- */

static void test_get_mapping_above_dispatch(void **state)
{
    (void)state;
    for (int sc = SC_IRQL_RAISE; sc <= SC_IRQL_SYNC; sc++) {
        pt_state *t = pt_new(sc);
        run_out o = pt_run(t, 37, 2);
        assert_rule(o, "K.irql-too-high");
        assert_non_null(strstr(o.message, "IPortWavePciStream::GetMapping"));
        assert_non_null(strstr(o.message, "DIRQL 9"));
        assert_int_equal(t->v[1], IRQ_DIRQL);
        assert_int_equal(t->v[0], 0);
        assert_site_here(t);
        if (sc == SC_IRQL_SYNC)
            assert_int_equal(t->st[1], STATUS_SUCCESS);
        assert_int_equal(t->pst.mappings_handed, 0);
        run_out_free(&o);
        free(t);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_split_at_page_boundaries),
        cmocka_unit_test(test_capture_dma_write),
        cmocka_unit_test(test_get_mapping_empty_and_mapping_available),
        cmocka_unit_test(test_w1_findings),
        cmocka_unit_test(test_w4_findings),
        cmocka_unit_test(test_w5_findings),
        cmocka_unit_test(test_cancel_partly_held),
        cmocka_unit_test(test_cancel_without_held_mappings),
        cmocka_unit_test(test_cancel_w6_popped_mapping),
        cmocka_unit_test(test_cancel_race_many_schedules),
        cmocka_unit_test(test_state_machine),
        cmocka_unit_test(test_stop_revokes_and_cancels),
        cmocka_unit_test(test_submit_races_stop),
        cmocka_unit_test(test_port_call_inside_revoke),
        cmocka_unit_test(test_service_group_notify),
        cmocka_unit_test(test_service_driven_stream),
        cmocka_unit_test(test_service_timer),
        cmocka_unit_test(test_terminate_packet),
        cmocka_unit_test(test_open_formats),
        cmocka_unit_test(test_zero_length_irp),
        cmocka_unit_test(test_get_mapping_above_dispatch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
