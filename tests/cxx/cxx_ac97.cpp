// SPDX-License-Identifier: MIT
//
// An AC'97 WavePci miniport written in C++ the way WDK drivers are: classes deriving from
// IMiniportWavePci / IMiniportWavePciStream and CUnknown, IMP_I* and DECLARE_STD_UNKNOWN,
// `new (NonPagedPool, Tag)`, and port calls through C++ interface pointers
// (PortStream->GetMapping(...)).  It checks kslab's WDK headers and C++ runtime from the
// driver's side: kslab's C port drives these objects through their vtables, and findings name
// this file's lines.  It keeps W1-W6 the way the C reference miniport (miniports/ac97) does, in
// a smaller form: one filler and one drainer at a time, the ring rebuilt on a revoke.
//
// CXX_AC97_LOCK_ACROSS_GETMAPPING: the broken variant; it holds its MapLock across GetMapping
// (rule W3), so a finding must name the GetMapping line below.
// CXX_AC97_ADAPTER_PART: no plugin entry of its own; an adapter (cxx_adapter.cpp) creates the
// miniport through CreateCxxMiniportWavePci.
// CXX_AC97_UNLOCKED_TEARDOWN: the stream's destructor writes CR with no lock, as the WDK sample
// does: correct, because the port has closed the pin (no W2 finding may come of it).
// CXX_AC97_STEREO_ONLY: refuses mono in NewStream, as the WDK AC'97 sample does.
// CXX_AC97_GLOBAL_STATE: a driver global that one execution changes (a count of miniports made);
// the driver refuses to start when it is not 0, so only a fresh global lets every execution run.
// CXX_AC97_PURE_VIRTUAL: a stream object whose base constructor reaches a virtual function its
// class has not got yet (a pure virtual call, K.pure-virtual-call).
#include <portcls.h>
#include <stdunk.h>

#include <kslab/hw/ac97.h>
#include <kslab/plugin.h>

namespace {

const ULONG kPoolTag = 0x78783943u;   // 'C9xx'
const ULONG kMaxEntries = 31;          // one ring slot stays empty
const ULONG kMaxMapping = 0x1FFFEu;    // 16-bit sample count
const UCHAR kCrIe = KSL_AC97_CR_IOCE | KSL_AC97_CR_LVBIE | KSL_AC97_CR_FEIE;

class CCxxStream;

// ---- the filter -------------------------------------------------------------------------------

class CCxxMiniport : public IMiniportWavePci, public CUnknown {
  public:
    DECLARE_STD_UNKNOWN();
    DEFINE_STD_CONSTRUCTOR(CCxxMiniport);
    ~CCxxMiniport();
    IMP_IMiniportWavePci;

    static NTSTATUS Isr(PINTERRUPTSYNC Sync, PVOID Context);

    PPORTWAVEPCI m_Port = nullptr;
    PINTERRUPTSYNC m_Sync = nullptr;
    ULONG_PTR m_Nam = 0, m_Nabm = 0;
    CCxxStream *m_Streams[2] = {nullptr, nullptr}; // read by the ISR; written through the sync object
};

// ---- a stream ---------------------------------------------------------------------------------

#ifdef CXX_AC97_PURE_VIRTUAL
// A base whose constructor calls a hook the derived class provides: during the base's
// construction the object is still a CPureCaller, whose Hook is pure.
class CPureCaller {
  public:
    CPureCaller() { Touch(); }
    virtual ~CPureCaller() {}
    virtual void Hook() = 0;
    void Touch()
    {
        CPureCaller *volatile self = this; // through memory: no devirtualizing the call away
        self->Hook();
    }
};
class CPureStream : public CPureCaller {
  public:
    void Hook() override {}
};
#endif

struct Entry {
    ULONG Tag;
    ULONGLONG Pa; // of the mapping's first byte
    ULONG Len;    // bytes of the mapping
    ULONG Off;    // bytes played before a revoke re-pointed the entry
};

class CCxxStream : public IMiniportWavePciStream, public CUnknown {
  public:
    DECLARE_STD_UNKNOWN();
    DEFINE_STD_CONSTRUCTOR(CCxxStream);
    ~CCxxStream();
    IMP_IMiniportWavePciStream;

    NTSTATUS Init(CCxxMiniport *Miniport, PPORTWAVEPCISTREAM PortStream, BOOLEAN Capture, const WAVEFORMATEX *Format);
    static NTSTATUS Publish(PINTERRUPTSYNC Sync, PVOID Context);

    PSERVICEGROUP m_Group = nullptr;
    PDMACHANNEL m_Dma = nullptr;

  private:
    ULONG_PTR Reg(ULONG r) const { return m_Regs + r; }
    void WriteDescriptor(ULONG i);
    void EngineStart();
    void EnginePause();
    void EngineReset();
    BOOLEAN HeadFinished();
    void GetNewMappings();
    void ReleaseUsedMappings();
    void RecoverEngine();
    NTSTATUS ProgramFormat(const WAVEFORMATEX *Format);

    CCxxMiniport *m_Miniport = nullptr;
    PPORTWAVEPCISTREAM m_PortStream = nullptr;
    int m_Channel = 0;             // 0 PCM out, 1 PCM in
    ULONG_PTR m_Regs = 0;
    PULONG m_Bdl = nullptr;        // 32 descriptors in the DMA common buffer
    ULONG m_BdlPa = 0;
    ULONG m_Rate = 0, m_Channels = 0;
    KSSTATE m_State = KSSTATE_STOP;
    bool m_Published = false;

    // Under m_MapLock:
    KSPIN_LOCK m_MapLock;
    Entry m_Ent[KSL_AC97_BDL_ENTRIES];
    ULONG m_Head = 0, m_Count = 0;
    bool m_Filling = false, m_Refill = false, m_Draining = false, m_Redrain = false;
    bool m_Acquiring = false, m_AcqRevoked = false;
    ULONG m_AcqTag = 0, m_TagCounter = 0;
    bool m_Running = false, m_NeedStart = false, m_Loaded = false;
    ULONGLONG m_BytesDone = 0;
};

// ---- CCxxMiniport -----------------------------------------------------------------------------

NTSTATUS CCxxMiniport::Isr(PINTERRUPTSYNC Sync, PVOID Context)
{
    UNREFERENCED_PARAMETER(Sync);
    CCxxMiniport *mp = static_cast<CCxxMiniport *>(Context);
    ULONG gsta = READ_PORT_ULONG(mp->m_Nabm + KSL_AC97_GLOB_STA);
    if (gsta == 0 || gsta == 0xFFFFFFFFu)
        return STATUS_UNSUCCESSFUL;
    static const ULONG bits[2] = {KSL_AC97_GLOB_STA_POINT, KSL_AC97_GLOB_STA_PIINT};
    static const ULONG bases[2] = {KSL_AC97_PO_BASE, KSL_AC97_PI_BASE};
    NTSTATUS result = STATUS_UNSUCCESSFUL;
    for (int ch = 0; ch < 2; ch++) {
        if (!(gsta & bits[ch]))
            continue;
        USHORT sr = READ_PORT_USHORT(mp->m_Nabm + bases[ch] + KSL_AC97_SR);
        WRITE_PORT_USHORT(mp->m_Nabm + bases[ch] + KSL_AC97_SR, sr & KSL_AC97_SR_W1C);
        result = STATUS_SUCCESS;
        if (mp->m_Streams[ch])
            mp->m_Port->Notify(mp->m_Streams[ch]->m_Group);
    }
    return result;
}

CCxxMiniport::~CCxxMiniport()
{
    if (m_Sync) {
        m_Sync->Disconnect();
        m_Sync->Release();
    }
    if (m_Port)
        m_Port->Release();
}

STDMETHODIMP_(NTSTATUS) CCxxMiniport::NonDelegatingQueryInterface(REFIID Interface, PVOID *Object)
{
    if (IsEqualGUIDAligned(Interface, IID_IUnknown))
        *Object = PVOID(PUNKNOWN(PMINIPORTWAVEPCI(this)));
    else if (IsEqualGUIDAligned(Interface, IID_IMiniport) || IsEqualGUIDAligned(Interface, IID_IMiniportWavePci))
        *Object = PVOID(PMINIPORTWAVEPCI(this));
    else
        *Object = nullptr;
    if (!*Object)
        return STATUS_INVALID_PARAMETER;
    PUNKNOWN(*Object)->AddRef();
    return STATUS_SUCCESS;
}

STDMETHODIMP_(NTSTATUS) CCxxMiniport::GetDescription(PPCFILTER_DESCRIPTOR *Description)
{
    static KSDATARANGE_AUDIO range;
    range.DataRange.FormatSize = sizeof(KSDATARANGE_AUDIO);
    range.DataRange.MajorFormat = KSDATAFORMAT_TYPE_AUDIO;
    range.DataRange.SubFormat = KSDATAFORMAT_SUBTYPE_PCM;
    range.DataRange.Specifier = KSDATAFORMAT_SPECIFIER_WAVEFORMATEX;
    range.MaximumChannels = 2;
    range.MinimumBitsPerSample = range.MaximumBitsPerSample = 16;
    range.MinimumSampleFrequency = KSL_AC97_MIN_RATE;
    range.MaximumSampleFrequency = KSL_AC97_MAX_RATE;
    static const PKSDATARANGE ranges[] = {PKSDATARANGE(&range)};
    static PCPIN_DESCRIPTOR pins[2];
    static PCFILTER_DESCRIPTOR filter;
    for (int i = 0; i < 2; i++) {
        pins[i].MaxGlobalInstanceCount = 1;
        pins[i].MaxFilterInstanceCount = 1;
        pins[i].KsPinDescriptor.DataRangesCount = 1;
        pins[i].KsPinDescriptor.DataRanges = ranges;
        pins[i].KsPinDescriptor.DataFlow = i ? KSPIN_DATAFLOW_OUT : KSPIN_DATAFLOW_IN;
        pins[i].KsPinDescriptor.Communication = KSPIN_COMMUNICATION_SINK;
    }
    filter.PinSize = sizeof(PCPIN_DESCRIPTOR);
    filter.PinCount = 2;
    filter.Pins = pins;
    filter.NodeSize = sizeof(PCNODE_DESCRIPTOR);
    *Description = &filter;
    return STATUS_SUCCESS;
}

STDMETHODIMP_(NTSTATUS) CCxxMiniport::DataRangeIntersection(ULONG, PKSDATARANGE, PKSDATARANGE, ULONG, PVOID, PULONG)
{
    return STATUS_NOT_IMPLEMENTED; // the port's default intersection handles PCM
}

STDMETHODIMP_(NTSTATUS) CCxxMiniport::Init(PUNKNOWN UnknownAdapter, PRESOURCELIST ResourceList, PPORTWAVEPCI Port,
                                           PSERVICEGROUP *ServiceGroup)
{
    UNREFERENCED_PARAMETER(UnknownAdapter);
    *ServiceGroup = nullptr;
    PCM_PARTIAL_RESOURCE_DESCRIPTOR nam = ResourceList->FindTranslatedPort(0);
    PCM_PARTIAL_RESOURCE_DESCRIPTOR nabm = ResourceList->FindTranslatedPort(1);
    if (!nam || !nabm || ResourceList->NumberOfInterrupts() < 1)
        return STATUS_INSUFFICIENT_RESOURCES;
    m_Nam = ULONG_PTR(nam->u.Port.Start.QuadPart);
    m_Nabm = ULONG_PTR(nabm->u.Port.Start.QuadPart);
    m_Port = Port;
    m_Port->AddRef();

    WRITE_PORT_ULONG(m_Nabm + KSL_AC97_GLOB_CNT, KSL_AC97_GLOB_CNT_COLD);
    for (ULONG tries = 0; !(READ_PORT_ULONG(m_Nabm + KSL_AC97_GLOB_STA) & KSL_AC97_GLOB_STA_PCR); tries++) {
        if (tries > 100)
            return STATUS_DEVICE_NOT_READY;
        KeStallExecutionProcessor(10);
    }
    WRITE_PORT_USHORT(m_Nam + KSL_AC97_RESET, 0);
    if (!(READ_PORT_USHORT(m_Nam + KSL_AC97_EXT_AUDIO_ID) & KSL_AC97_EXT_VRA))
        return STATUS_NOT_SUPPORTED;
    WRITE_PORT_USHORT(m_Nam + KSL_AC97_EXT_AUDIO_CTRL, KSL_AC97_EXT_VRA);
    WRITE_PORT_USHORT(m_Nam + KSL_AC97_MASTER_VOL, 0);
    WRITE_PORT_USHORT(m_Nam + KSL_AC97_PCM_OUT_VOL, 0);

    NTSTATUS st = PcNewInterruptSync(&m_Sync, nullptr, ResourceList, 0, InterruptSyncModeNormal);
    if (NT_SUCCESS(st))
        st = m_Sync->RegisterServiceRoutine(Isr, this, FALSE);
    if (NT_SUCCESS(st))
        st = m_Sync->Connect();
    return st;
}

STDMETHODIMP_(NTSTATUS) CCxxMiniport::NewStream(PMINIPORTWAVEPCISTREAM *Stream, PUNKNOWN OuterUnknown,
                                                POOL_TYPE PoolType, PPORTWAVEPCISTREAM PortStream, ULONG Pin,
                                                BOOLEAN Capture, PKSDATAFORMAT DataFormat, PDMACHANNEL *DmaChannel,
                                                PSERVICEGROUP *ServiceGroup)
{
    *Stream = nullptr;
    if (Pin >= 2 || (Pin == 1) != (Capture != 0) || DataFormat->FormatSize < sizeof(KSDATAFORMAT_WAVEFORMATEX))
        return STATUS_INVALID_PARAMETER;
    const WAVEFORMATEX *w = &PKSDATAFORMAT_WAVEFORMATEX(DataFormat)->WaveFormatEx;
    if (w->wFormatTag != WAVE_FORMAT_PCM || w->wBitsPerSample != 16 || w->nChannels < 1 || w->nChannels > 2)
        return STATUS_NO_MATCH;
#ifdef CXX_AC97_STEREO_ONLY
    if (w->nChannels != 2)
        return STATUS_INVALID_PARAMETER; // as the WDK sample's hardware: stereo PCM only
#endif
    if (m_Streams[Capture ? 1 : 0])
        return STATUS_INVALID_DEVICE_REQUEST; // one stream per DMA engine
#ifdef CXX_AC97_PURE_VIRTUAL
    delete new (NonPagedPool, kPoolTag) CPureStream;
#endif
    CCxxStream *s = new (PoolType, kPoolTag) CCxxStream(OuterUnknown);
    if (!s)
        return STATUS_INSUFFICIENT_RESOURCES;
    s->AddRef();
    NTSTATUS st = s->Init(this, PortStream, Capture, w);
    if (!NT_SUCCESS(st)) {
        s->Release();
        return st;
    }
    *Stream = PMINIPORTWAVEPCISTREAM(s);
    *DmaChannel = s->m_Dma; // with a reference each: the port releases them when it closes the pin
    (*DmaChannel)->AddRef();
    *ServiceGroup = s->m_Group;
    (*ServiceGroup)->AddRef();
    return STATUS_SUCCESS;
}

STDMETHODIMP_(void) CCxxMiniport::Service(void)
{
}

// ---- CCxxStream -------------------------------------------------------------------------------

STDMETHODIMP_(NTSTATUS) CCxxStream::NonDelegatingQueryInterface(REFIID Interface, PVOID *Object)
{
    if (IsEqualGUIDAligned(Interface, IID_IUnknown))
        *Object = PVOID(PUNKNOWN(PMINIPORTWAVEPCISTREAM(this)));
    else if (IsEqualGUIDAligned(Interface, IID_IMiniportWavePciStream))
        *Object = PVOID(PMINIPORTWAVEPCISTREAM(this));
    else
        *Object = nullptr;
    if (!*Object)
        return STATUS_INVALID_PARAMETER;
    PUNKNOWN(*Object)->AddRef();
    return STATUS_SUCCESS;
}

NTSTATUS CCxxStream::Publish(PINTERRUPTSYNC Sync, PVOID Context)
{
    UNREFERENCED_PARAMETER(Sync);
    CCxxStream *s = static_cast<CCxxStream *>(Context);
    s->m_Miniport->m_Streams[s->m_Channel] = s->m_Published ? s : nullptr;
    return STATUS_SUCCESS;
}

NTSTATUS CCxxStream::ProgramFormat(const WAVEFORMATEX *Format)
{
    USHORT reg = m_Channel == 0 ? KSL_AC97_FRONT_DAC_RATE : KSL_AC97_LR_ADC_RATE;
    WRITE_PORT_USHORT(m_Miniport->m_Nam + reg, USHORT(Format->nSamplesPerSec));
    if (READ_PORT_USHORT(m_Miniport->m_Nam + reg) != Format->nSamplesPerSec)
        return STATUS_NOT_SUPPORTED;
    ULONG mono = m_Channel == 0 ? KSL_AC97_GLOB_CNT_PO_MONO : KSL_AC97_GLOB_CNT_PI_MONO;
    ULONG glob = READ_PORT_ULONG(m_Miniport->m_Nabm + KSL_AC97_GLOB_CNT);
    WRITE_PORT_ULONG(m_Miniport->m_Nabm + KSL_AC97_GLOB_CNT, Format->nChannels == 1 ? glob | mono : glob & ~mono);
    m_Rate = Format->nSamplesPerSec;
    m_Channels = Format->nChannels;
    return STATUS_SUCCESS;
}

NTSTATUS CCxxStream::Init(CCxxMiniport *Miniport, PPORTWAVEPCISTREAM PortStream, BOOLEAN Capture,
                          const WAVEFORMATEX *Format)
{
    m_Miniport = Miniport;
    m_Miniport->AddRef();
    m_Channel = Capture ? 1 : 0;
    m_Regs = Miniport->m_Nabm + (Capture ? KSL_AC97_PI_BASE : KSL_AC97_PO_BASE);
    KeInitializeSpinLock(&m_MapLock);
    NTSTATUS st = PcNewServiceGroup(&m_Group, nullptr);
    if (!NT_SUCCESS(st))
        return st;
    st = Miniport->m_Port->NewMasterDmaChannel(&m_Dma, nullptr, NonPagedPool, nullptr, TRUE, TRUE, FALSE, FALSE,
                                               Width32Bits, MaximumDmaSpeed, kMaxMapping, 0);
    if (!NT_SUCCESS(st))
        return st;
    st = m_Dma->AllocateBuffer(KSL_AC97_BDL_ENTRIES * KSL_AC97_BD_SIZE, nullptr);
    if (!NT_SUCCESS(st))
        return st;
    m_Bdl = PULONG(m_Dma->SystemAddress());
    m_BdlPa = ULONG(m_Dma->PhysicalAddress().QuadPart);
    st = ProgramFormat(Format);
    if (!NT_SUCCESS(st))
        return st;
    KIRQL old;
    KeAcquireSpinLock(&m_MapLock, &old);
    EnginePause();
    EngineReset();
    KeReleaseSpinLock(&m_MapLock, old);
    m_PortStream = PortStream;
    m_PortStream->AddRef();
    m_Published = true;
    return Miniport->m_Sync->CallSynchronizedRoutine(Publish, this);
}

CCxxStream::~CCxxStream()
{
#ifdef CXX_AC97_UNLOCKED_TEARDOWN
    // As the WDK sample's stream destructor does: stop the engine with no lock.  The port has
    // closed the pin and its service calls have returned, so no one else touches the channel.
    if (m_Bdl)
        WRITE_PORT_UCHAR(Reg(KSL_AC97_CR), 0);
#endif
    if (m_Published) {
        m_Published = false;
        m_Miniport->m_Sync->CallSynchronizedRoutine(Publish, this); // the ISR forgets us
    }
    if (m_Bdl) {
        KIRQL old;
        KeAcquireSpinLock(&m_MapLock, &old);
        EnginePause();
        EngineReset();
        KeReleaseSpinLock(&m_MapLock, old);
        m_Dma->FreeBuffer();
    }
    if (m_Dma)
        m_Dma->Release();
    if (m_Group)
        m_Group->Release();
    if (m_PortStream)
        m_PortStream->Release();
    if (m_Miniport)
        m_Miniport->Release();
}

// ---- the hardware queue, under m_MapLock ------------------------------------------------------

void CCxxStream::WriteDescriptor(ULONG i)
{
    const Entry &e = m_Ent[i];
    m_Bdl[2 * i] = ULONG(e.Pa + e.Off);
    m_Bdl[2 * i + 1] = (((e.Len - e.Off) / 2) & KSL_AC97_BD_LEN_MASK) | KSL_AC97_BD_IOC | KSL_AC97_BD_BUP;
}

void CCxxStream::EngineStart()
{
    WRITE_PORT_UCHAR(Reg(KSL_AC97_CR), kCrIe | KSL_AC97_CR_RPBM);
    m_Running = true;
    m_NeedStart = false;
    m_Loaded = true;
}

void CCxxStream::EnginePause()
{
    WRITE_PORT_UCHAR(Reg(KSL_AC97_CR), kCrIe);
    m_Running = false;
}

void CCxxStream::EngineReset()
{
    WRITE_PORT_UCHAR(Reg(KSL_AC97_CR), KSL_AC97_CR_RR);
    for (ULONG i = 0; i < 100 && (READ_PORT_UCHAR(Reg(KSL_AC97_CR)) & KSL_AC97_CR_RR); i++)
        KeStallExecutionProcessor(1);
    WRITE_PORT_ULONG(Reg(KSL_AC97_BDBAR), m_BdlPa);
    WRITE_PORT_UCHAR(Reg(KSL_AC97_CR), kCrIe);
    m_Loaded = false;
}

// Is the oldest entry finished by the hardware?
BOOLEAN CCxxStream::HeadFinished()
{
    if (!m_Count || !m_Loaded)
        return FALSE;
    ULONG civ = READ_PORT_UCHAR(Reg(KSL_AC97_CIV));
    ULONG before = (civ - m_Head) & KSL_AC97_BDL_MASK;
    if (before > 0 && before <= m_Count)
        return TRUE;
    if (before != 0)
        return FALSE;
    return m_Count == 1 && (READ_PORT_USHORT(Reg(KSL_AC97_SR)) & KSL_AC97_SR_CELV);
}

// ---- filling and draining: port calls with the lock dropped -----------------------------------

void CCxxStream::GetNewMappings()
{
    KIRQL old;
    KeAcquireSpinLock(&m_MapLock, &old);
    if (m_Filling) {
        m_Refill = true;
        KeReleaseSpinLock(&m_MapLock, old);
        return;
    }
    m_Filling = true;
    do {
        m_Refill = false;
        while (m_Count < kMaxEntries) {
            ULONG tag = ++m_TagCounter;
            m_AcqTag = tag;
            m_AcqRevoked = false;
            m_Acquiring = true;
#ifndef CXX_AC97_LOCK_ACROSS_GETMAPPING
            KeReleaseSpinLock(&m_MapLock, old);
#endif
            PHYSICAL_ADDRESS pa;
            PVOID va;
            ULONG len = 0, flags = 0;
            NTSTATUS st = m_PortStream->GetMapping(PVOID(ULONG_PTR(tag)), &pa, &va, &len, &flags); // CXX_GETMAPPING
#ifndef CXX_AC97_LOCK_ACROSS_GETMAPPING
            KeAcquireSpinLock(&m_MapLock, &old);
#endif
            m_Acquiring = false;
            if (!NT_SUCCESS(st))
                break;
            if (m_AcqRevoked)
                continue; // a revoke counted it while the lock was dropped
            ULONG i = (m_Head + m_Count) & KSL_AC97_BDL_MASK;
            m_Ent[i] = Entry{tag, ULONGLONG(pa.QuadPart), len, 0};
            WriteDescriptor(i);
            m_Count++;
            WRITE_PORT_UCHAR(Reg(KSL_AC97_LVI), UCHAR(i));
            if (m_NeedStart)
                EngineStart();
        }
    } while (m_Refill && m_Count < kMaxEntries);
    m_Filling = false;
    KeReleaseSpinLock(&m_MapLock, old);
}

void CCxxStream::ReleaseUsedMappings()
{
    KIRQL old;
    KeAcquireSpinLock(&m_MapLock, &old);
    if (m_Draining) {
        m_Redrain = true;
        KeReleaseSpinLock(&m_MapLock, old);
        return;
    }
    m_Draining = true;
    do {
        m_Redrain = false;
        while (HeadFinished()) {
            Entry e = m_Ent[m_Head];
            m_Head = (m_Head + 1) & KSL_AC97_BDL_MASK;
            m_Count--;
            m_BytesDone += e.Len;
            KeReleaseSpinLock(&m_MapLock, old);
            m_PortStream->ReleaseMapping(PVOID(ULONG_PTR(e.Tag)));
            KeAcquireSpinLock(&m_MapLock, &old);
        }
    } while (m_Redrain);
    m_Draining = false;
    KeReleaseSpinLock(&m_MapLock, old);
}

// ---- IMiniportWavePciStream -------------------------------------------------------------------

static bool InRange(ULONG tag, ULONG first, ULONG last)
{
    return tag - first <= last - first; // tags increase in acquisition order
}

// Stop the engine where it is, drop the revoked entries, and rebuild the ring from descriptor 0:
// the finished survivors just before it, the one that was playing from the byte where it stopped.
STDMETHODIMP_(NTSTATUS) CCxxStream::RevokeMappings(PVOID FirstTag, PVOID LastTag, PULONG MappingsRevoked)
{
    ULONG first = PtrToUlong(FirstTag), last = PtrToUlong(LastTag), n = 0;
    bool notify = false;
    KeAcquireSpinLockAtDpcLevel(&m_MapLock);
    if (m_Acquiring && !m_AcqRevoked && InRange(m_AcqTag, first, last)) {
        m_AcqRevoked = true; // counted here, dropped by the acquirer
        n++;
    }
    bool any = false;
    for (ULONG k = 0; k < m_Count; k++)
        any |= InRange(m_Ent[(m_Head + k) & KSL_AC97_BDL_MASK].Tag, first, last);
    if (any) {
        bool wasRunning = m_Running;
        EnginePause();
        ULONG done = 0, consumed = 0;
        if (m_Loaded) {
            ULONG civ = READ_PORT_UCHAR(Reg(KSL_AC97_CIV));
            ULONG picb = READ_PORT_USHORT(Reg(KSL_AC97_PICB));
            USHORT sr = READ_PORT_USHORT(Reg(KSL_AC97_SR));
            ULONG before = (civ - m_Head) & KSL_AC97_BDL_MASK;
            if (before <= m_Count)
                done = before;
            if (before < m_Count) {
                const Entry &cur = m_Ent[(m_Head + done) & KSL_AC97_BDL_MASK];
                consumed = (cur.Len - cur.Off) - 2 * picb;
                if ((sr & KSL_AC97_SR_CELV) && done + 1 == m_Count) {
                    done++; // halted after the last one: it is finished too
                    consumed = 0;
                }
            }
        }
        Entry keep[KSL_AC97_BDL_ENTRIES];
        ULONG nkeep = 0, nfinished = 0;
        for (ULONG k = 0; k < m_Count; k++) {
            Entry e = m_Ent[(m_Head + k) & KSL_AC97_BDL_MASK];
            if (InRange(e.Tag, first, last)) {
                n++;
                continue;
            }
            if (k < done)
                nfinished++;
            else if (k == done)
                e.Off += consumed;
            keep[nkeep++] = e;
        }
        EngineReset();
        m_Head = (KSL_AC97_BDL_ENTRIES - nfinished) & KSL_AC97_BDL_MASK;
        m_Count = nkeep;
        for (ULONG k = 0; k < nkeep; k++) {
            ULONG i = (m_Head + k) & KSL_AC97_BDL_MASK;
            m_Ent[i] = keep[k];
            WriteDescriptor(i);
        }
        if (nkeep > nfinished) {
            WRITE_PORT_UCHAR(Reg(KSL_AC97_LVI), UCHAR((nkeep - nfinished - 1) & KSL_AC97_BDL_MASK));
            if (wasRunning)
                EngineStart();
        } else {
            m_NeedStart = m_NeedStart || wasRunning;
            if (nkeep == 0) {
                m_Head = 0;
            } else {
                m_Loaded = true; // CIV 0 after the reset marks the finished ones as done
                notify = true;   // nothing will interrupt for them any more
            }
        }
    }
    KeReleaseSpinLockFromDpcLevel(&m_MapLock);
    if (notify)
        m_Miniport->m_Port->Notify(m_Group);
    *MappingsRevoked = n;
    return STATUS_SUCCESS;
}

STDMETHODIMP_(NTSTATUS) CCxxStream::SetFormat(PKSDATAFORMAT DataFormat)
{
    if (DataFormat->FormatSize < sizeof(KSDATAFORMAT_WAVEFORMATEX))
        return STATUS_INVALID_PARAMETER;
    if (m_State != KSSTATE_STOP)
        return STATUS_INVALID_DEVICE_STATE;
    return ProgramFormat(&PKSDATAFORMAT_WAVEFORMATEX(DataFormat)->WaveFormatEx);
}

STDMETHODIMP_(NTSTATUS) CCxxStream::SetState(KSSTATE State)
{
    KIRQL old;
    KSSTATE from = m_State;
    m_State = State;
    switch (State) {
    case KSSTATE_RUN:
        ReleaseUsedMappings();
        GetNewMappings();
        KeAcquireSpinLock(&m_MapLock, &old);
        if (!m_Running) {
            if (m_Count > 0)
                EngineStart();
            else
                m_NeedStart = true;
        }
        KeReleaseSpinLock(&m_MapLock, old);
        break;
    case KSSTATE_PAUSE:
    case KSSTATE_ACQUIRE:
        KeAcquireSpinLock(&m_MapLock, &old);
        EnginePause();
        m_NeedStart = false;
        KeReleaseSpinLock(&m_MapLock, old);
        ReleaseUsedMappings();
        if (from == KSSTATE_RUN && m_Channel == 1)
            m_PortStream->TerminatePacket(); // hand the client what was captured
        break;
    case KSSTATE_STOP:
        KeAcquireSpinLock(&m_MapLock, &old);
        EnginePause();
        m_NeedStart = false;
        KeReleaseSpinLock(&m_MapLock, old);
        ReleaseUsedMappings();
        KeAcquireSpinLock(&m_MapLock, &old);
        if (m_Count == 0) {
            EngineReset();
            m_Head = 0;
        }
        m_BytesDone = 0;
        KeReleaseSpinLock(&m_MapLock, old);
        break;
    }
    return STATUS_SUCCESS;
}

// Bytes released so far (the hardware's progress inside the ring is not counted).
STDMETHODIMP_(NTSTATUS) CCxxStream::GetPosition(PULONGLONG Position)
{
    KIRQL old;
    KeAcquireSpinLock(&m_MapLock, &old);
    *Position = m_BytesDone;
    KeReleaseSpinLock(&m_MapLock, old);
    return STATUS_SUCCESS;
}

STDMETHODIMP_(NTSTATUS) CCxxStream::NormalizePhysicalPosition(PLONGLONG PhysicalPosition)
{
    *PhysicalPosition = (10000000LL / LONGLONG(m_Channels * 2) * *PhysicalPosition) / LONGLONG(m_Rate);
    return STATUS_SUCCESS;
}

STDMETHODIMP_(NTSTATUS) CCxxStream::GetAllocatorFraming(PKSALLOCATOR_FRAMING Framing)
{
    Framing->RequirementsFlags = KSALLOCATOR_REQUIREMENTF_SYSTEM_MEMORY | KSALLOCATOR_REQUIREMENTF_PREFERENCES_ONLY;
    Framing->PoolType = NonPagedPool;
    Framing->Frames = 8;
    Framing->FrameSize = m_Channels * 2 * (m_Rate / 100);
    Framing->FileAlignment = FILE_LONG_ALIGNMENT;
    Framing->Reserved = 0;
    return STATUS_SUCCESS;
}

STDMETHODIMP_(void) CCxxStream::MappingAvailable(void)
{
    ReleaseUsedMappings();
    GetNewMappings();
}

// A bus-master error halts the engine mid-buffer (DCH without CELV while it should run; the FIFOE
// interrupt brought us here): clearing and setting RPBM resumes where it stopped.
void CCxxStream::RecoverEngine()
{
    KIRQL old;
    KeAcquireSpinLock(&m_MapLock, &old);
    if (m_Running && m_Count) {
        USHORT sr = READ_PORT_USHORT(Reg(KSL_AC97_SR));
        if ((sr & KSL_AC97_SR_DCH) && !(sr & KSL_AC97_SR_CELV)) {
            WRITE_PORT_UCHAR(Reg(KSL_AC97_CR), kCrIe);
            EngineStart();
        }
    }
    KeReleaseSpinLock(&m_MapLock, old);
}

STDMETHODIMP_(void) CCxxStream::Service(void)
{
    ReleaseUsedMappings();
    GetNewMappings();
    RecoverEngine();
}

// ---- creation ---------------------------------------------------------------------------------

} // namespace

// The factory an adapter's StartDevice calls (tests/cxx/cxx_adapter.cpp), like the WDK samples'
// CreateMiniportWavePci.
NTSTATUS CreateCxxMiniportWavePci(PUNKNOWN *Unknown, REFCLSID, PUNKNOWN UnknownOuter, POOL_TYPE PoolType);
NTSTATUS CreateCxxMiniportWavePci(PUNKNOWN *Unknown, REFCLSID, PUNKNOWN UnknownOuter, POOL_TYPE PoolType)
{
    STD_CREATE_BODY_(CCxxMiniport, Unknown, UnknownOuter, PoolType, PMINIPORTWAVEPCI);
}

// Without CXX_AC97_ADAPTER_PART the file is a plugin of its own, started without an adapter.
#ifndef CXX_AC97_ADAPTER_PART
namespace {

#ifdef CXX_AC97_GLOBAL_STATE
ULONG g_MiniportsMade; // this driver expects one miniport per load, as a real adapter has
#endif

NTSTATUS NewMiniport(PMINIPORTWAVEPCI *Miniport)
{
#ifdef CXX_AC97_GLOBAL_STATE
    if (g_MiniportsMade++ != 0)
        return STATUS_UNSUCCESSFUL;
#endif
    PUNKNOWN unknown;
    NTSTATUS st = CreateCxxMiniportWavePci(&unknown, CLSID_PortWavePci, nullptr, NonPagedPool);
    if (!NT_SUCCESS(st))
        return st;
    st = unknown->QueryInterface(IID_IMiniportWavePci, reinterpret_cast<PVOID *>(Miniport));
    unknown->Release();
    return st;
}

const ksl_wavepci_driver driver = {KSL_WAVEPCI_DRIVER_VERSION, "cxx-ac97",
                                   "AC'97 WavePci miniport in C++ (kslab's WDK headers from C++)", "ac97",
                                   NewMiniport, nullptr};

} // namespace

KSLAB_WAVEPCI_PLUGIN(driver)
#endif
