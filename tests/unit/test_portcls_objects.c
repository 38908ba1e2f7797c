/* SPDX-License-Identifier: MIT */
/*
 * The PortCls helper objects (src/portcls): identifiers and call sites, IResourceList,
 * IDmaChannel over simulated physical memory, IServiceGroup (the Notify -> DPC -> sinks path,
 * coalescing, delayed service, reference counts) and IInterruptSync (the three ISR modes,
 * CallSynchronizedRoutine with and without a connected interrupt).
 *
 * As in test_primitives.c, each scenario records what happened inside the run and the test
 * asserts it afterwards (cmocka assertions must not run on the engine's coroutine stacks).
 */
#include "harness.h"

#include <kslab/hw/irqdev.h>
#include <kslab/hw/physmem.h>
#include <kslab/wdk/portcls.h>

#include "portcls/pcl_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NSEEDS 20

/* An ordered record of what happened (the deterministic engine runs one context at a time). */
#define SEQ_MAX 256
typedef struct seq_log {
    int ev[SEQ_MAX];
    int n;
} seq_log;

static void seq_add(seq_log *l, int v)
{
    if (l->n < SEQ_MAX)
        l->ev[l->n++] = v;
}

static int seq_first(const seq_log *l, int v)
{
    for (int i = 0; i < l->n; i++)
        if (l->ev[i] == v)
            return i;
    return -1;
}

#define assert_seq(l, ...)                                                                    \
    do {                                                                                      \
        static const int want_[] = {__VA_ARGS__};                                             \
        assert_seq_impl(&(l), want_, (int)(sizeof want_ / sizeof want_[0]), __FILE__, __LINE__); \
    } while (0)

static void assert_seq_impl(const seq_log *l, const int *want, int n, const char *file, int line)
{
    int ok = l->n == n;
    for (int i = 0; ok && i < n; i++)
        ok = l->ev[i] == want[i];
    if (!ok) {
        fprintf(stderr, "%s:%d: sequence mismatch\n  got: ", file, line);
        for (int i = 0; i < l->n; i++)
            fprintf(stderr, "%d ", l->ev[i]);
        fprintf(stderr, "\n  want:");
        for (int i = 0; i < n; i++)
            fprintf(stderr, " %d", want[i]);
        fprintf(stderr, "\n");
        _fail(file, line);
    }
}

static void delay_us(LONGLONG us)
{
    LARGE_INTEGER iv;
    iv.QuadPart = -10 * us;
    KeDelayExecutionThread(KernelMode, FALSE, &iv);
}

static run_out run_seed(uint64_t seed, uint32_t cpus, scenario_fn *setup, void *arg)
{
    ksl_config cfg = cfg_with(seed, cpus);
    return run_scenario(&cfg, setup, arg);
}

/* ---- identifiers and call sites ------------------------------------------------------------ */

/* IoGetDeviceProperty / PcGetDeviceProperty: fixed PnP values, sizes reported, unknown refused. */
static void test_device_property(void **state)
{
    (void)state;
    ULONG len = 0, bus = 99;
    WCHAR buf[128];
    /* too small: the size needed, nothing written */
    assert_int_equal(IoGetDeviceProperty(NULL, DevicePropertyHardwareID, 4, buf, &len), STATUS_BUFFER_TOO_SMALL);
    assert_true(len > 4);
    ULONG need = len;
    /* MULTI_SZ: two ids, each 0-terminated, and a final 0 */
    assert_int_equal(IoGetDeviceProperty(NULL, DevicePropertyHardwareID, sizeof buf, buf, &len), STATUS_SUCCESS);
    assert_int_equal(len, need);
    assert_int_equal(buf[0], 'P');
    assert_int_equal(buf[len / sizeof(WCHAR) - 1], 0);
    assert_int_equal(buf[len / sizeof(WCHAR) - 2], 0);
    assert_int_equal(PcGetDeviceProperty(NULL, DevicePropertyBusNumber, sizeof bus, &bus, &len), STATUS_SUCCESS);
    assert_int_equal(bus, 0);
    assert_int_equal(len, sizeof bus);
    assert_int_equal(IoGetDeviceProperty(NULL, DevicePropertyContainerID, sizeof buf, buf, &len),
                     STATUS_INVALID_PARAMETER_2);
}

static void test_guids(void **state)
{
    (void)state;
    assert_int_equal(IID_IPortWavePciStream.Data1, 0xB4C90A51u);
    assert_int_equal(IID_IPortWavePciStream.Data2, 0x5791u);
    assert_int_equal(IID_IPortWavePciStream.Data3, 0x11D0u);
    static const uint8_t port_tail[8] = {0x86, 0xF9, 0x00, 0xA0, 0xC9, 0x11, 0xB5, 0x44};
    assert_memory_equal(IID_IPortWavePciStream.Data4, port_tail, 8);
    assert_int_equal(IID_IMiniportWavePciStream.Data1, 0xB4C90A53u);
    assert_int_equal(IID_IMiniport.Data1, 0xB4C90A24u);
    assert_int_equal(IID_IMiniportWavePci.Data1, 0xB4C90A52u);
    assert_int_equal(IID_IPortWavePci.Data1, 0xB4C90A50u);
    assert_int_equal(IID_IPort.Data1, 0xB4C90A25u);
    assert_memory_equal(IID_IPort.Data4, port_tail, 8);

    static const uint8_t helper_tail[8] = {0x9A, 0x7F, 0x00, 0xAA, 0x00, 0x38, 0xAC, 0xFE};
    assert_int_equal(IID_IServiceSink.Data1, 0x22C6AC64u);
    assert_int_equal(IID_IServiceSink.Data2, 0x851Bu);
    assert_int_equal(IID_IServiceSink.Data3, 0x11D0u);
    assert_memory_equal(IID_IServiceSink.Data4, helper_tail, 8);
    assert_int_equal(IID_IServiceGroup.Data1, 0x22C6AC65u);
    assert_int_equal(IID_IInterruptSync.Data1, 0x22C6AC63u);
    assert_int_equal(IID_IDmaChannel.Data1, 0x22C6AC61u);
    assert_int_equal(IID_IResourceList.Data1, 0x22C6AC60u);
    assert_memory_equal(IID_IResourceList.Data4, helper_tail, 8);

    static const uint8_t unk_tail[8] = {0xC0, 0, 0, 0, 0, 0, 0, 0x46};
    assert_int_equal(IID_IUnknown.Data1, 0);
    assert_int_equal(IID_IUnknown.Data2, 0);
    assert_int_equal(IID_IUnknown.Data3, 0);
    assert_memory_equal(IID_IUnknown.Data4, unk_tail, 8);

    static const uint8_t ks_tail[8] = {0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71};
    assert_int_equal(KSDATAFORMAT_TYPE_AUDIO.Data1, 0x73647561u);
    assert_int_equal(KSDATAFORMAT_TYPE_AUDIO.Data2, 0);
    assert_int_equal(KSDATAFORMAT_TYPE_AUDIO.Data3, 0x0010u);
    assert_memory_equal(KSDATAFORMAT_TYPE_AUDIO.Data4, ks_tail, 8);
    assert_int_equal(KSDATAFORMAT_SUBTYPE_PCM.Data1, 1u);
    assert_memory_equal(KSDATAFORMAT_SUBTYPE_PCM.Data4, ks_tail, 8);
    static const uint8_t wfx_tail[8] = {0xBF, 0x01, 0x00, 0xAA, 0x00, 0x55, 0x59, 0x5A};
    assert_int_equal(KSDATAFORMAT_SPECIFIER_WAVEFORMATEX.Data1, 0x05589F81u);
    assert_int_equal(KSDATAFORMAT_SPECIFIER_WAVEFORMATEX.Data2, 0xC356u);
    assert_int_equal(KSDATAFORMAT_SPECIFIER_WAVEFORMATEX.Data3, 0x11CEu);
    assert_memory_equal(KSDATAFORMAT_SPECIFIER_WAVEFORMATEX.Data4, wfx_tail, 8);

    /* All distinct. */
    const GUID *all[] = {&IID_IUnknown,         &IID_IPort,           &IID_IPortWavePci,
                         &IID_IPortWavePciStream, &IID_IMiniport,       &IID_IMiniportWavePci,
                         &IID_IMiniportWavePciStream, &IID_IServiceSink, &IID_IServiceGroup,
                         &IID_IInterruptSync,   &IID_IDmaChannel,     &IID_IResourceList,
                         &KSDATAFORMAT_TYPE_AUDIO, &KSDATAFORMAT_SUBTYPE_PCM, &KSDATAFORMAT_SPECIFIER_WAVEFORMATEX};
    size_t n = sizeof all / sizeof all[0];
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++)
            assert_int_equal(IsEqualGUID(all[i], all[j]), i == j);
}

static void test_call_site(void **state)
{
    (void)state;
    const char *file = "x";
    int line = -1;
    ksl__pcl_take_site(&file, &line);
    assert_null(file);
    assert_int_equal(line, 0);
    ksl_pcl_call_site("miniport.c", 42);
    ksl_pcl_call_site("miniport.c", 43); /* the latest wins */
    ksl__pcl_take_site(&file, &line);
    assert_string_equal(file, "miniport.c");
    assert_int_equal(line, 43);
    /* Taken: forgotten. */
    ksl__pcl_take_site(&file, &line);
    assert_null(file);
    assert_int_equal(line, 0);
}

/* ---- IResourceList ------------------------------------------------------------------------- */

static CM_PARTIAL_RESOURCE_DESCRIPTOR port_res(uint64_t base, ULONG len)
{
    CM_PARTIAL_RESOURCE_DESCRIPTOR d;
    memset(&d, 0, sizeof d);
    d.Type = CmResourceTypePort;
    d.u.Port.Start.QuadPart = (LONGLONG)base;
    d.u.Port.Length = len;
    return d;
}

static CM_PARTIAL_RESOURCE_DESCRIPTOR irq_res(ULONG line, ULONG irql)
{
    CM_PARTIAL_RESOURCE_DESCRIPTOR d;
    memset(&d, 0, sizeof d);
    d.Type = CmResourceTypeInterrupt;
    d.u.Interrupt.Vector = line;
    d.u.Interrupt.Level = irql;
    return d;
}

typedef struct rl_state {
    CM_PARTIAL_RESOURCE_DESCRIPTOR in[5];
    NTSTATUS st, st_null, st_qi, st_qi_bad;
    PRESOURCELIST rl;
    PVOID qi, qi_bad;
    ULONG n, n_port, n_irq, n_mem, n_other;
    ULONG irq1_vector, irq0_level;
    uint64_t port1_base;
    int irq2_null, port2_null, mem0_type, copied;
    ULONG addref, rel[3];
} rl_state;

static void rl_thread(void *arg)
{
    rl_state *s = arg;
    s->st_null = ksl__pcl_new_resource_list(&s->rl, NULL, 2);
    s->st = ksl__pcl_new_resource_list(&s->rl, s->in, 5);
    if (!NT_SUCCESS(s->st))
        return;
    s->in[1].u.Interrupt.Vector = 99; /* the list holds a copy */
    s->n = IResourceList_NumberOfEntries(s->rl);
    s->n_port = IResourceList_NumberOfEntriesOfType(s->rl, CmResourceTypePort);
    s->n_irq = IResourceList_NumberOfEntriesOfType(s->rl, CmResourceTypeInterrupt);
    s->n_mem = IResourceList_NumberOfEntriesOfType(s->rl, CmResourceTypeMemory);
    s->n_other = IResourceList_NumberOfEntriesOfType(s->rl, 9);
    PCM_PARTIAL_RESOURCE_DESCRIPTOR d = IResourceList_FindTranslatedInterrupt(s->rl, 0);
    s->irq0_level = d ? d->u.Interrupt.Level : 0;
    s->copied = d && d->u.Interrupt.Vector == 3;
    d = IResourceList_FindTranslatedInterrupt(s->rl, 1);
    s->irq1_vector = d ? d->u.Interrupt.Vector : 0;
    s->irq2_null = IResourceList_FindTranslatedInterrupt(s->rl, 2) == NULL;
    d = IResourceList_FindTranslatedPort(s->rl, 1);
    s->port1_base = d ? (uint64_t)d->u.Port.Start.QuadPart : 0;
    s->port2_null = IResourceList_FindTranslatedPort(s->rl, 2) == NULL;
    d = IResourceList_FindTranslatedEntry(s->rl, CmResourceTypeMemory, 0);
    s->mem0_type = d ? d->Type : -1;
    s->st_qi = s->rl->lpVtbl->QueryInterface(s->rl, &IID_IResourceList, &s->qi);
    s->st_qi_bad = s->rl->lpVtbl->QueryInterface(s->rl, &IID_IDmaChannel, &s->qi_bad);
    s->addref = s->rl->lpVtbl->AddRef(s->rl);
    s->rel[0] = s->rl->lpVtbl->Release(s->rl);
    s->rel[1] = s->rl->lpVtbl->Release(s->rl);
    s->rel[2] = s->rl->lpVtbl->Release(s->rl);
}

static void rl_setup(ksl_engine *e, void *arg)
{
    ksl_thread_create(e, "rl", rl_thread, arg);
}

static void test_resource_list(void **state)
{
    (void)state;
    rl_state s;
    memset(&s, 0, sizeof s);
    s.in[0] = port_res(0x1000, 0x40);
    s.in[1] = irq_res(3, 7);
    s.in[2] = port_res(0x2000, 0x80);
    s.in[3] = irq_res(4, 9);
    s.in[4].Type = CmResourceTypeMemory;
    run_out o = run_seed(1, 1, rl_setup, &s);
    assert_clean(o);
    assert_int_equal(s.st_null, STATUS_INVALID_PARAMETER);
    assert_int_equal(s.st, STATUS_SUCCESS);
    assert_int_equal(s.n, 5);
    assert_int_equal(s.n_port, 2);
    assert_int_equal(s.n_irq, 2);
    assert_int_equal(s.n_mem, 1);
    assert_int_equal(s.n_other, 0);
    assert_int_equal(s.irq0_level, 7);
    assert_true(s.copied);
    assert_int_equal(s.irq1_vector, 4);
    assert_true(s.irq2_null);
    assert_int_equal(s.port1_base, 0x2000);
    assert_true(s.port2_null);
    assert_int_equal(s.mem0_type, CmResourceTypeMemory);
    assert_int_equal(s.st_qi, STATUS_SUCCESS);
    assert_ptr_equal(s.qi, s.rl);
    assert_int_equal(s.st_qi_bad, STATUS_NOINTERFACE);
    assert_null(s.qi_bad);
    assert_int_equal(s.addref, 3);
    assert_int_equal(s.rel[0], 2);
    assert_int_equal(s.rel[1], 1);
    assert_int_equal(s.rel[2], 0);
    run_out_free(&o);
}

/* ---- IDmaChannel --------------------------------------------------------------------------- */

#define DMA_PAGES 3u
#define DMA_MAX (DMA_PAGES * KSL_PAGE_SIZE + 100u)

typedef struct dma_state {
    ksl_physmem *pm, *tiny;
    int scenario; /* 0: the whole API; 1: AllocateBuffer at DISPATCH_LEVEL; 2: no Release */
    NTSTATUS st_new, st_alloc, st_again, st_big, st_zero, st_realloc, st_exhausted, st_qi;
    PDMACHANNEL ch, ch_tiny;
    PVOID va, va_after_free, qi;
    PADAPTER_OBJECT adapter;
    PVOID cb_va, cb_va_of_pa, cb_after_free;
    size_t cb_contiguous;
    ULONG dma_alignment, ops_size;
    PHYSICAL_ADDRESS pa, pa_after_free, cb_pa;
    void *va_of_pa;
    size_t contiguous, scattered_contiguous;
    ULONG allocated, buffer_size, transfer, max, set_size, allocated_after_free;
    int copy_ok;
    ULONG rel, rel_tiny;
} dma_state;

static void dma_thread(void *arg)
{
    dma_state *s = arg;
    s->st_new = ksl__pcl_new_dma_channel(&s->ch, s->pm, DMA_MAX);
    if (!NT_SUCCESS(s->st_new))
        return;
    if (s->scenario == 1) {
        KIRQL old;
        KeRaiseIrql(DISPATCH_LEVEL, &old);
        IDmaChannel_AllocateBuffer(s->ch, KSL_PAGE_SIZE, NULL);
        KeLowerIrql(old);
        return;
    }
    /* A scattered block of the same size, to show this memory does scatter. */
    void *sc = ksl_physmem_alloc(s->pm, DMA_PAGES * KSL_PAGE_SIZE, 0, false, 7);
    s->scattered_contiguous = ksl_physmem_contiguous(s->pm, sc);
    s->st_alloc = IDmaChannel_AllocateBuffer(s->ch, DMA_PAGES * KSL_PAGE_SIZE, NULL);
    ksl_physmem_free(s->pm, sc);
    s->va = IDmaChannel_SystemAddress(s->ch);
    s->pa = IDmaChannel_PhysicalAddress(s->ch);
    s->va_of_pa = ksl_physmem_va(s->pm, (uint64_t)s->pa.QuadPart, DMA_PAGES * KSL_PAGE_SIZE);
    s->contiguous = ksl_physmem_contiguous(s->pm, s->va);
    s->allocated = IDmaChannel_AllocatedBufferSize(s->ch);
    s->buffer_size = IDmaChannel_BufferSize(s->ch);
    s->transfer = IDmaChannel_TransferCount(s->ch);
    s->max = IDmaChannel_MaximumBufferSize(s->ch);
    IDmaChannel_SetBufferSize(s->ch, 1000);
    s->set_size = IDmaChannel_BufferSize(s->ch);
    s->adapter = IDmaChannel_GetAdapterObject(s->ch);
    /* The adapter's common buffers: contiguous, their bus address maps back, freed on request. */
    s->cb_va = s->adapter->DmaOperations->AllocateCommonBuffer(s->adapter, 2 * KSL_PAGE_SIZE, &s->cb_pa, FALSE);
    s->cb_contiguous = ksl_physmem_contiguous(s->pm, s->cb_va);
    s->cb_va_of_pa = ksl_physmem_va(s->pm, (uint64_t)s->cb_pa.QuadPart, 2 * KSL_PAGE_SIZE);
    s->dma_alignment = s->adapter->DmaOperations->GetDmaAlignment(s->adapter);
    s->ops_size = s->adapter->DmaOperations->Size;
    s->adapter->DmaOperations->FreeCommonBuffer(s->adapter, 2 * KSL_PAGE_SIZE, s->cb_pa, s->cb_va, FALSE);
    s->cb_after_free = ksl_physmem_va(s->pm, (uint64_t)s->cb_pa.QuadPart, 1);
    s->st_again = IDmaChannel_AllocateBuffer(s->ch, KSL_PAGE_SIZE, NULL);

    uint8_t src[64], back[64];
    for (int i = 0; i < 64; i++)
        src[i] = (uint8_t)(i * 7 + 1);
    uint8_t *buf = s->va;
    IDmaChannel_CopyTo(s->ch, buf + KSL_PAGE_SIZE - 32, src, sizeof src); /* across a page boundary */
    IDmaChannel_CopyFrom(s->ch, back, buf + KSL_PAGE_SIZE - 32, sizeof back);
    s->copy_ok = memcmp(src, back, sizeof src) == 0;

    IDmaChannel_FreeBuffer(s->ch);
    s->va_after_free = IDmaChannel_SystemAddress(s->ch);
    s->pa_after_free = IDmaChannel_PhysicalAddress(s->ch);
    s->allocated_after_free = IDmaChannel_AllocatedBufferSize(s->ch);
    s->st_big = IDmaChannel_AllocateBuffer(s->ch, DMA_MAX + 1, NULL);
    s->st_zero = IDmaChannel_AllocateBuffer(s->ch, 0, NULL);
    s->st_realloc = IDmaChannel_AllocateBuffer(s->ch, DMA_MAX, NULL);
    s->st_qi = s->ch->lpVtbl->QueryInterface(s->ch, &IID_IDmaChannel, &s->qi);
    if (NT_SUCCESS(s->st_qi))
        IDmaChannel_Release((PDMACHANNEL)s->qi);

    /* Physical memory exhausted. */
    if (NT_SUCCESS(ksl__pcl_new_dma_channel(&s->ch_tiny, s->tiny, 0))) {
        s->st_exhausted = IDmaChannel_AllocateBuffer(s->ch_tiny, 8 * KSL_PAGE_SIZE, NULL);
        s->rel_tiny = IDmaChannel_Release(s->ch_tiny);
    }
    if (s->scenario == 2)
        return; /* the bug: the channel is never released */
    s->rel = IDmaChannel_Release(s->ch); /* frees the buffer allocated last */
}

static void dma_setup(ksl_engine *e, void *arg)
{
    ksl_thread_create(e, "dma", dma_thread, arg);
}

static run_out run_dma(dma_state *s, int scenario, uint64_t seed)
{
    memset(s, 0, sizeof *s);
    s->scenario = scenario;
    s->pm = ksl_physmem_create(64 * KSL_PAGE_SIZE, true, seed);
    s->tiny = ksl_physmem_create(4 * KSL_PAGE_SIZE, false, seed);
    assert_non_null(s->pm);
    assert_non_null(s->tiny);
    return run_seed(seed, 1, dma_setup, s);
}

static void dma_free(dma_state *s)
{
    ksl_physmem_destroy(s->pm);
    ksl_physmem_destroy(s->tiny);
}

static void test_dma_channel(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= 5; seed++) {
        dma_state s;
        run_out o = run_dma(&s, 0, seed);
        assert_clean(o);
        assert_int_equal(s.st_new, STATUS_SUCCESS);
        /* The memory scatters ordinary allocations ... */
        assert_true(s.scattered_contiguous < DMA_PAGES * KSL_PAGE_SIZE);
        /* ... but the common buffer is physically contiguous over its whole length. */
        assert_int_equal(s.st_alloc, STATUS_SUCCESS);
        assert_non_null(s.va);
        assert_true(s.pa.QuadPart >= KSL_PHYSMEM_BASE);
        assert_ptr_equal(s.va_of_pa, s.va);
        assert_true(s.contiguous >= DMA_PAGES * KSL_PAGE_SIZE);
        assert_int_equal(s.allocated, DMA_PAGES * KSL_PAGE_SIZE);
        assert_int_equal(s.buffer_size, DMA_PAGES * KSL_PAGE_SIZE);
        assert_int_equal(s.transfer, DMA_PAGES * KSL_PAGE_SIZE);
        assert_int_equal(s.max, DMA_MAX);
        assert_int_equal(s.set_size, 1000);
        assert_non_null(s.adapter); /* (freed with its channel: only looked at during the run) */
        assert_int_equal(s.ops_size, sizeof(DMA_OPERATIONS));
        assert_non_null(s.cb_va);
        assert_ptr_equal(s.cb_va_of_pa, s.cb_va);
        assert_true(s.cb_contiguous >= 2 * KSL_PAGE_SIZE);
        assert_int_equal(s.dma_alignment, 1);
        assert_null(s.cb_after_free);
        /* Once, unless freed. */
        assert_int_equal(s.st_again, STATUS_UNSUCCESSFUL);
        assert_true(s.copy_ok);
        assert_null(s.va_after_free);
        assert_int_equal(s.pa_after_free.QuadPart, 0);
        assert_int_equal(s.allocated_after_free, 0);
        assert_int_equal(s.st_big, STATUS_INVALID_PARAMETER);
        assert_int_equal(s.st_zero, STATUS_INVALID_PARAMETER);
        assert_int_equal(s.st_realloc, STATUS_SUCCESS);
        assert_int_equal(s.st_qi, STATUS_SUCCESS);
        assert_ptr_equal(s.qi, s.ch);
        assert_int_equal(s.st_exhausted, STATUS_INSUFFICIENT_RESOURCES);
        assert_int_equal(s.rel_tiny, 0);
        assert_int_equal(s.rel, 0);
        /* The last Release gave the buffer back. */
        size_t used = 1, total = 0;
        ksl_physmem_usage(s.pm, &used, &total);
        assert_int_equal(used, 0);
        dma_free(&s);
        run_out_free(&o);
    }
}

static void test_dma_channel_misuse(void **state)
{
    (void)state;
    dma_state s;
    run_out o = run_dma(&s, 1, 1);
    assert_rule(o, "K.passive-only-at-raised-irql");
    assert_non_null(strstr(o.message, "IDmaChannel::AllocateBuffer"));
    dma_free(&s);
    run_out_free(&o);

    o = run_dma(&s, 2, 1);
    assert_rule(o, "K.pool-leak");
    dma_free(&s);
    run_out_free(&o);
}

/* ---- IServiceGroup ------------------------------------------------------------------------- */

#define SG_BASE 0x2000u
#define SG_LINE 3u
#define SG_IRQL 7u
#define SG_PERIOD_NS 100000u /* 100 us between interrupts of a TRAIN */
#define SG_SINKS 17

typedef struct sg_state sg_state;

/* A service sink of the test: counts its references and records every service call. */
typedef struct test_sink {
    IServiceSink iface;
    volatile LONG refs;
    int id;
    sg_state *s;
    int serviced;
    int bad_irql;    /* serviced at an IRQL other than DISPATCH_LEVEL */
    int bad_context; /* serviced outside the group's DPC */
    ULONGLONG time;  /* interrupt time of the latest service */
} test_sink;

enum { SG_NOTIFY, SG_COALESCE, SG_DELAYED, SG_REFS, SG_LEAK, SG_FULL, SG_NEW_AT_DISPATCH, SG_ADD_AT_DIRQL, SG_RELEASE_RACE };

struct sg_state {
    int scenario;
    ksl_irqdev dev;
    PKINTERRUPT intr;
    PSERVICEGROUP group;
    NTSTATUS st_new;
    test_sink sinks[SG_SINKS];
    seq_log log;
    volatile int isr_count;
    int isr_bad_irql;
    /* SG_COALESCE */
    int n_at_dispatch, n_after_lower, n_after_passive;
    /* SG_DELAYED */
    ULONGLONG t0, t_fire, t_abs_due, t_abs_fire;
    int count[6];
    /* SG_REFS / SG_FULL */
    NTSTATUS st_add[SG_SINKS], st_qi[4], st_null;
    PVOID qi[4];
    LONG refs_added, refs_removed, refs_after_destroy, refs_full[SG_SINKS];
    ULONG addref, rel[8];
    /* SG_RELEASE_RACE */
    volatile int releasing;   /* 1 inside the last Release, 2 after it */
    int serviced_during_release;
    int done;
};

static test_sink *sink_of(IServiceSink *This)
{
    return (test_sink *)This;
}

static NTSTATUS tsink_query_interface(IServiceSink *This, REFIID Iid, PVOID *Object)
{
    if (IsEqualGUID(Iid, &IID_IUnknown) || IsEqualGUID(Iid, &IID_IServiceSink)) {
        InterlockedIncrement(&sink_of(This)->refs);
        *Object = This;
        return STATUS_SUCCESS;
    }
    *Object = NULL;
    return STATUS_NOINTERFACE;
}

static ULONG tsink_add_ref(IServiceSink *This)
{
    return (ULONG)InterlockedIncrement(&sink_of(This)->refs);
}

static ULONG tsink_release(IServiceSink *This)
{
    return (ULONG)InterlockedDecrement(&sink_of(This)->refs);
}

static void tsink_request_service(IServiceSink *This)
{
    test_sink *k = sink_of(This);
    if (KeGetCurrentIrql() != DISPATCH_LEVEL)
        k->bad_irql++;
    if (strcmp(ksl_context_name(), "DPC 'service group'") != 0)
        k->bad_context++;
    k->time = KeQueryInterruptTime();
    k->serviced++;
    k->s->serviced_during_release += k->s->releasing == 1;
    seq_add(&k->s->log, k->id);
}

static const IServiceSinkVtbl tsink_vtbl = {tsink_query_interface, tsink_add_ref, tsink_release,
                                            tsink_request_service};

/* Notify-style: the ISR acknowledges the device and requests service of the group. */
static BOOLEAN sg_isr(PKINTERRUPT intr, PVOID ctx)
{
    (void)intr;
    sg_state *s = ctx;
    ULONG n = READ_PORT_ULONG(SG_BASE + KSL_IRQDEV_STATUS);
    if (!n)
        return FALSE;
    WRITE_PORT_ULONG(SG_BASE + KSL_IRQDEV_STATUS, n);
    if (KeGetCurrentIrql() != SG_IRQL)
        s->isr_bad_irql++;
    IServiceGroup_RequestService(s->group);
    s->isr_count++;
    return TRUE;
}

static void sg_wait_isrs(sg_state *s, int n)
{
    for (int guard = 0; s->isr_count < n && guard < 100000; guard++)
        KeStallExecutionProcessor(1);
}

static NTSTATUS add_sinks(sg_state *s, int n)
{
    for (int i = 0; i < n; i++) {
        s->st_add[i] = IServiceGroup_AddMember(s->group, &s->sinks[i].iface);
        if (!NT_SUCCESS(s->st_add[i]))
            return s->st_add[i];
    }
    return STATUS_SUCCESS;
}

static void remove_sinks(sg_state *s, int n)
{
    for (int i = 0; i < n; i++)
        IServiceGroup_RemoveMember(s->group, &s->sinks[i].iface);
}

static void sg_thread(void *arg)
{
    sg_state *s = arg;
    KIRQL old;
    if (s->scenario == SG_NEW_AT_DISPATCH)
        KeRaiseIrql(DISPATCH_LEVEL, &old);
    s->st_new = PcNewServiceGroup(&s->group, NULL);
    if (!NT_SUCCESS(s->st_new))
        return;
    switch (s->scenario) {
    case SG_NOTIFY:
        /* Four interrupts 100 us apart: one DPC each, servicing every member once. */
        if (!NT_SUCCESS(add_sinks(s, 3)))
            return;
        WRITE_PORT_ULONG(SG_BASE + KSL_IRQDEV_TRAIN, 4u);
        delay_us(1000);
        remove_sinks(s, 3);
        break;
    case SG_COALESCE:
        if (!NT_SUCCESS(add_sinks(s, 3)))
            return;
        /* At DISPATCH_LEVEL the DPC stays queued: three requests of this thread and three
         * from the ISR make one DPC run, when the thread lowers. */
        KeRaiseIrql(DISPATCH_LEVEL, &old);
        for (int i = 0; i < 3; i++)
            IServiceGroup_RequestService(s->group);
        WRITE_PORT_ULONG(SG_BASE + KSL_IRQDEV_TRAIN, 3u);
        sg_wait_isrs(s, 3);
        s->n_at_dispatch = s->log.n;
        KeLowerIrql(old);
        s->n_after_lower = s->log.n;
        /* At PASSIVE_LEVEL the DPC runs as RequestService lowers, before it returns. */
        IServiceGroup_RequestService(s->group);
        s->n_after_passive = s->log.n;
        delay_us(500);
        remove_sinks(s, 3);
        break;
    case SG_DELAYED:
        if (!NT_SUCCESS(add_sinks(s, 1)))
            return;
        IServiceGroup_SupportDelayedService(s->group);
        /* Relative: fires 1 ms later. */
        s->t0 = KeQueryInterruptTime();
        IServiceGroup_RequestDelayedService(s->group, (ULONGLONG)(-10000LL));
        delay_us(500);
        s->count[0] = s->sinks[0].serviced;
        delay_us(1000);
        s->count[1] = s->sinks[0].serviced;
        s->t_fire = s->sinks[0].time;
        /* Cancelled: never fires. */
        IServiceGroup_RequestDelayedService(s->group, (ULONGLONG)(-10000LL));
        delay_us(200);
        IServiceGroup_CancelDelayedService(s->group);
        delay_us(2000);
        s->count[2] = s->sinks[0].serviced;
        /* Absolute interrupt time. */
        s->t_abs_due = KeQueryInterruptTime() + 5000u;
        IServiceGroup_RequestDelayedService(s->group, s->t_abs_due);
        delay_us(1000);
        s->count[3] = s->sinks[0].serviced;
        s->t_abs_fire = s->sinks[0].time;
        /* RequestService with delayed service enabled: through the timer, due now. */
        IServiceGroup_RequestService(s->group);
        delay_us(100);
        s->count[4] = s->sinks[0].serviced;
        /* From the ISR (above DISPATCH_LEVEL the timer cannot be set): the DPC directly. */
        WRITE_PORT_ULONG(SG_BASE + KSL_IRQDEV_RAISE, 0u);
        sg_wait_isrs(s, 1);
        delay_us(100);
        s->count[5] = s->sinks[0].serviced;
        remove_sinks(s, 1);
        break;
    case SG_REFS:
    case SG_LEAK: {
        s->st_null = IServiceGroup_AddMember(s->group, NULL);
        if (!NT_SUCCESS(add_sinks(s, 1)))
            return;
        s->refs_added = s->sinks[0].refs;
        s->addref = IServiceGroup_AddRef(s->group);
        const IServiceGroupVtbl *v = s->group->lpVtbl;
        s->st_qi[0] = v->QueryInterface(s->group, &IID_IServiceSink, &s->qi[0]);
        s->st_qi[1] = v->QueryInterface(s->group, &IID_IUnknown, &s->qi[1]);
        s->st_qi[2] = v->QueryInterface(s->group, &IID_IServiceGroup, &s->qi[2]);
        s->st_qi[3] = v->QueryInterface(s->group, &IID_IDmaChannel, &s->qi[3]);
        if (!NT_SUCCESS(s->st_qi[0]) || !NT_SUCCESS(s->st_qi[1]) || !NT_SUCCESS(s->st_qi[2]))
            return;
        /* The group as a sink: its RequestService services the members. */
        PSERVICESINK as_sink = s->qi[0];
        IServiceSink_RequestService(as_sink);
        delay_us(100);
        IServiceGroup_RemoveMember(s->group, &s->sinks[0].iface);
        s->refs_removed = s->sinks[0].refs;
        IServiceGroup_RemoveMember(s->group, &s->sinks[0].iface); /* not a member: nothing */
        IServiceGroup_AddMember(s->group, &s->sinks[0].iface);    /* left in the group */
        s->rel[0] = as_sink->lpVtbl->Release(as_sink);
        s->rel[1] = IUnknown_Release((PUNKNOWN)s->qi[1]);
        s->rel[2] = IServiceGroup_Release((PSERVICEGROUP)s->qi[2]);
        s->rel[3] = IServiceGroup_Release(s->group);
        if (s->scenario == SG_LEAK)
            return; /* the bug: one reference never released */
        s->rel[4] = IServiceGroup_Release(s->group);
        s->refs_after_destroy = s->sinks[0].refs;
        s->done = 1;
        return;
    }
    case SG_FULL:
        for (int i = 0; i < SG_SINKS; i++)
            s->st_add[i] = IServiceGroup_AddMember(s->group, &s->sinks[i].iface);
        for (int i = 0; i < SG_SINKS; i++)
            s->refs_full[i] = s->sinks[i].refs;
        IServiceGroup_RequestService(s->group);
        remove_sinks(s, SG_SINKS); /* the last is not a member */
        break;
    case SG_RELEASE_RACE:
        /* The ISR queues the group's DPC on its CPU; the last Release follows at once, so on
         * two CPUs the DPC may start while the group is being destroyed. */
        if (!NT_SUCCESS(add_sinks(s, 1)))
            return;
        WRITE_PORT_ULONG(SG_BASE + KSL_IRQDEV_RAISE, 0u);
        sg_wait_isrs(s, 1);
        s->releasing = 1;
        s->rel[0] = IServiceGroup_Release(s->group);
        s->releasing = 2;
        delay_us(100); /* a run under way finishes, and frees the group */
        s->done = 1;
        return;
    case SG_ADD_AT_DIRQL:
        KeRaiseIrql(SG_IRQL, &old);
        IServiceGroup_AddMember(s->group, &s->sinks[0].iface);
        KeLowerIrql(old);
        break;
    default:
        break;
    }
    s->rel[0] = IServiceGroup_Release(s->group);
    s->done = 1;
}

static void sg_setup(ksl_engine *e, void *arg)
{
    sg_state *s = arg;
    for (int i = 0; i < SG_SINKS; i++) {
        s->sinks[i].iface.lpVtbl = &tsink_vtbl;
        s->sinks[i].refs = 1;
        s->sinks[i].id = i;
        s->sinks[i].s = s;
    }
    ksl_irqdev_attach(&s->dev, e, SG_BASE, SG_LINE, SG_PERIOD_NS);
    IoConnectInterrupt(&s->intr, sg_isr, s, NULL, SG_LINE, SG_IRQL, SG_IRQL, LevelSensitive, FALSE, 0, FALSE);
    ksl_thread_create(e, "sg", sg_thread, s);
}

static run_out run_sg(sg_state *s, int scenario, uint64_t seed, uint32_t cpus)
{
    memset(s, 0, sizeof *s);
    s->scenario = scenario;
    return run_seed(seed, cpus, sg_setup, s);
}

static void assert_sinks_serviced_in_dpc(const sg_state *s, int n)
{
    for (int i = 0; i < n; i++) {
        assert_int_equal(s->sinks[i].bad_irql, 0);
        assert_int_equal(s->sinks[i].bad_context, 0);
        assert_int_equal(s->sinks[i].refs, 1); /* every AddMember's reference was released */
    }
}

static void test_service_group_notify_from_isr(void **state)
{
    (void)state;
    for (uint32_t cpus = 1; cpus <= 2; cpus++) {
        for (uint64_t seed = 1; seed <= NSEEDS; seed++) {
            sg_state s;
            run_out o = run_sg(&s, SG_NOTIFY, seed, cpus);
            assert_clean(o);
            assert_int_equal(s.st_new, STATUS_SUCCESS);
            assert_int_equal(s.done, 1);
            assert_int_equal(s.isr_count, 4);
            assert_int_equal(s.isr_bad_irql, 0);
            /* One DPC per interrupt, each calling every member once, in order. */
            assert_int_equal(o.stats.dpcs, 4);
            assert_seq(s.log, 0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2);
            assert_sinks_serviced_in_dpc(&s, 3);
            assert_int_equal(s.rel[0], 0);
            run_out_free(&o);
        }
    }
}

static void test_service_group_coalesces(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= NSEEDS; seed++) {
        sg_state s;
        run_out o = run_sg(&s, SG_COALESCE, seed, 1);
        assert_clean(o);
        assert_int_equal(s.done, 1);
        assert_int_equal(s.isr_count, 3);
        /* Six requests while the DPC was queued: one run, when the thread lowered. */
        assert_int_equal(s.n_at_dispatch, 0);
        assert_int_equal(s.n_after_lower, 3);
        /* At PASSIVE_LEVEL the DPC ran before RequestService returned. */
        assert_int_equal(s.n_after_passive, 6);
        assert_seq(s.log, 0, 1, 2, 0, 1, 2);
        assert_int_equal(o.stats.dpcs, 2);
        assert_sinks_serviced_in_dpc(&s, 3);
        run_out_free(&o);
    }
}

static void test_service_group_delayed(void **state)
{
    (void)state;
    for (uint32_t cpus = 1; cpus <= 2; cpus++) {
        for (uint64_t seed = 1; seed <= NSEEDS; seed++) {
            sg_state s;
            run_out o = run_sg(&s, SG_DELAYED, seed, cpus);
            assert_clean(o);
            assert_int_equal(s.done, 1);
            /* Not before the delay, once after it. */
            assert_int_equal(s.count[0], 0);
            assert_int_equal(s.count[1], 1);
            assert_true(s.t_fire >= s.t0 + 10000u);
            assert_true(s.t_fire < s.t0 + 10000u + 1000u);
            /* Cancelled. */
            assert_int_equal(s.count[2], 1);
            /* Absolute due time. */
            assert_int_equal(s.count[3], 2);
            assert_true(s.t_abs_fire >= s.t_abs_due);
            assert_true(s.t_abs_fire < s.t_abs_due + 1000u);
            /* RequestService through the timer, and from the ISR. */
            assert_int_equal(s.count[4], 3);
            assert_int_equal(s.isr_count, 1);
            assert_int_equal(s.count[5], 4);
            assert_sinks_serviced_in_dpc(&s, 1);
            run_out_free(&o);
        }
    }
}

static void test_service_group_refcounts(void **state)
{
    (void)state;
    sg_state s;
    run_out o = run_sg(&s, SG_REFS, 1, 2);
    assert_clean(o);
    assert_int_equal(s.done, 1);
    assert_int_equal(s.st_null, STATUS_INVALID_PARAMETER);
    assert_int_equal(s.refs_added, 2);   /* AddMember AddRefs the sink */
    assert_int_equal(s.refs_removed, 1); /* RemoveMember Releases it */
    assert_int_equal(s.addref, 2);
    assert_int_equal(s.st_qi[0], STATUS_SUCCESS);
    assert_int_equal(s.st_qi[1], STATUS_SUCCESS);
    assert_int_equal(s.st_qi[2], STATUS_SUCCESS);
    assert_int_equal(s.st_qi[3], STATUS_NOINTERFACE);
    assert_null(s.qi[3]);
    assert_non_null(s.qi[0]);
    assert_ptr_equal(s.qi[1], s.group); /* IUnknown identity */
    assert_ptr_equal(s.qi[2], s.group);
    /* The group's own RequestService, reached through its IServiceSink. */
    assert_int_equal(s.sinks[0].serviced, 1);
    /* 1 + AddRef + three successful QueryInterface calls = 5, then down to 0. */
    assert_int_equal(s.rel[0], 4);
    assert_int_equal(s.rel[1], 3);
    assert_int_equal(s.rel[2], 2);
    assert_int_equal(s.rel[3], 1);
    assert_int_equal(s.rel[4], 0);
    /* The last Release let go of the member still in the group. */
    assert_int_equal(s.refs_after_destroy, 1);
    run_out_free(&o);

    /* A forgotten Release is a pool leak of the port's tag. */
    o = run_sg(&s, SG_LEAK, 1, 2);
    assert_rule(o, "K.pool-leak");
    assert_non_null(strstr(o.detail, "tag 'Pcls'"));
    run_out_free(&o);
}

/* The last Release while the group's DPC runs or is about to run on another CPU: the run sees a
 * live group and its members, the group is freed once (no double free, no leak), and the member
 * still in it is released exactly once. */
static void test_service_group_release_races_dpc(void **state)
{
    (void)state;
    int raced = 0;
    for (uint64_t seed = 1; seed <= 4 * NSEEDS; seed++) {
        sg_state s;
        run_out o = run_sg(&s, SG_RELEASE_RACE, seed, 2);
        assert_clean(o);
        assert_int_equal(s.done, 1);
        assert_int_equal(s.rel[0], 0);
        assert_int_equal(s.isr_count, 1);
        assert_true(s.sinks[0].serviced <= 1); /* one interrupt: at most one run, never twice */
        assert_int_equal(s.sinks[0].refs, 1);
        assert_int_equal(s.sinks[0].bad_irql, 0);
        raced += s.serviced_during_release > 0;
        run_out_free(&o);
    }
    /* The interleaving the test is for: the DPC serviced the member while the last Release ran. */
    assert_true(raced > 0);
}

static void test_service_group_full(void **state)
{
    (void)state;
    sg_state s;
    run_out o = run_sg(&s, SG_FULL, 1, 1);
    assert_clean(o);
    assert_int_equal(s.done, 1);
    for (int i = 0; i < SG_SINKS - 1; i++) {
        assert_int_equal(s.st_add[i], STATUS_SUCCESS);
        assert_int_equal(s.refs_full[i], 2);
        assert_int_equal(s.sinks[i].serviced, 1);
    }
    assert_int_equal(s.st_add[SG_SINKS - 1], STATUS_INSUFFICIENT_RESOURCES);
    assert_int_equal(s.refs_full[SG_SINKS - 1], 1); /* not kept: not referenced */
    assert_int_equal(s.sinks[SG_SINKS - 1].serviced, 0);
    assert_sinks_serviced_in_dpc(&s, SG_SINKS);
    assert_int_equal(s.rel[0], 0);
    run_out_free(&o);
}

static void test_service_group_wrong_irql(void **state)
{
    (void)state;
    sg_state s;
    run_out o = run_sg(&s, SG_NEW_AT_DISPATCH, 1, 1);
    assert_rule(o, "K.passive-only-at-raised-irql");
    assert_non_null(strstr(o.message, "PcNewServiceGroup"));
    run_out_free(&o);

    o = run_sg(&s, SG_ADD_AT_DIRQL, 1, 1);
    assert_rule(o, "K.irql-too-high");
    assert_non_null(strstr(o.message, "IServiceGroup::AddMember"));
    run_out_free(&o);
}

/* ---- IInterruptSync ------------------------------------------------------------------------ */

#define IS_BASE 0x2100u
#define IS_LINE 4u
#define IS_IRQL 7u
#define IS_LINE2 5u
#define IS_IRQL2 9u
#define IS_ROUTINES 3
#define IS_SCRIPT 8

enum { EV_SYNC_BEGIN = 100, EV_SYNC_END, EV_SENTINEL };

typedef struct is_state is_state;

/* A registered service routine: returns the statuses of its script, then STATUS_UNSUCCESSFUL
 * (or always STATUS_SUCCESS when `always`). */
typedef struct is_routine {
    int id;
    is_state *s;
    int ack; /* acknowledges the device (the routine that owns the hardware) */
    int always;
    NTSTATUS script[IS_SCRIPT];
    int calls;
    int bad_irql;
    int bad_this;
} is_routine;

enum { IS_MODES, IS_SYNC, IS_FALLBACK, IS_HANG, IS_SYNC_TOO_HIGH };

struct is_state {
    int scenario;
    INTERRUPTSYNCMODE mode;
    ksl_irqdev dev;
    PRESOURCELIST rl;
    PINTERRUPTSYNC sync;
    PKINTERRUPT sentinel;
    is_routine r[IS_ROUTINES];
    int expect_calls;
    seq_log log;
    NTSTATUS st_new, st_connect, st_connect2, st_sync, st_sync_high, st_bad_index, st_bad_mode, st_second;
    NTSTATUS st_sentinel, st_qi, st_qi_bad;
    PVOID qi, qi_bad;
    KIRQL sync_irql, second_irql;
    int sync_calls;
    PINTERRUPTSYNC sync_this;
    PVOID sync_ctx;
    PKINTERRUPT k_before, k_connected, k_after;
    KIRQL k_irql;
    PINTERRUPTSYNC bad_out;
    ULONG rel, rel_second;
    int sync_line; /* IS_SYNC_TOO_HIGH: the line of the call */
    char site[256]; /* the finding's call site */
    int done;
};

static NTSTATUS is_routine_fn(PINTERRUPTSYNC InterruptSync, PVOID DynamicContext)
{
    is_routine *r = DynamicContext;
    is_state *s = r->s;
    if (InterruptSync != s->sync)
        r->bad_this++;
    if (KeGetCurrentIrql() != IS_IRQL)
        r->bad_irql++;
    if (r->ack) {
        ULONG n = READ_PORT_ULONG(IS_BASE + KSL_IRQDEV_STATUS);
        if (n)
            WRITE_PORT_ULONG(IS_BASE + KSL_IRQDEV_STATUS, n);
    }
    seq_add(&s->log, r->id);
    NTSTATUS st = r->always ? STATUS_SUCCESS : r->calls < IS_SCRIPT ? r->script[r->calls] : STATUS_UNSUCCESSFUL;
    r->calls++;
    return st;
}

/* Connected after the IInterruptSync on the same line: runs only when the sync object's ISR
 * did not claim the interrupt. */
static BOOLEAN sentinel_isr(PKINTERRUPT intr, PVOID ctx)
{
    (void)intr;
    is_state *s = ctx;
    seq_add(&s->log, EV_SENTINEL);
    return FALSE;
}

/* Run under CallSynchronizedRoutine: raises the interrupt, then keeps the CPU 30 us. */
static NTSTATUS sync_routine(PINTERRUPTSYNC InterruptSync, PVOID DynamicContext)
{
    is_state *s = DynamicContext;
    s->sync_this = InterruptSync;
    s->sync_ctx = DynamicContext;
    s->sync_irql = KeGetCurrentIrql();
    s->sync_calls++;
    seq_add(&s->log, EV_SYNC_BEGIN);
    if (s->scenario == IS_SYNC)
        WRITE_PORT_ULONG(IS_BASE + KSL_IRQDEV_RAISE, 0u);
    for (int i = 0; i < 30; i++)
        KeStallExecutionProcessor(1);
    seq_add(&s->log, EV_SYNC_END);
    return STATUS_NOT_FOUND;
}

static void is_wait_calls(is_state *s, int n)
{
    for (int guard = 0; s->log.n < n && guard < 100000; guard++)
        KeStallExecutionProcessor(1);
    for (int i = 0; i < 20; i++) /* room for anything that should not happen */
        KeStallExecutionProcessor(1);
}

static void is_thread(void *arg)
{
    is_state *s = arg;
    CM_PARTIAL_RESOURCE_DESCRIPTOR res[3] = {port_res(IS_BASE, KSL_IRQDEV_SIZE), irq_res(IS_LINE, IS_IRQL),
                                             irq_res(IS_LINE2, IS_IRQL2)};
    if (!NT_SUCCESS(ksl__pcl_new_resource_list(&s->rl, res, 3)))
        return;
    s->st_new = PcNewInterruptSync(&s->sync, NULL, s->rl, 0, s->mode);
    if (!NT_SUCCESS(s->st_new))
        return;
    /* Registered r0, r1, then r2 with First: the list is r2, r0, r1. */
    for (int i = 0; i < IS_ROUTINES; i++)
        IInterruptSync_RegisterServiceRoutine(s->sync, is_routine_fn, &s->r[i], i == 2 ? TRUE : FALSE);
    KIRQL old;
    switch (s->scenario) {
    case IS_MODES:
    case IS_HANG:
        s->st_connect = IInterruptSync_Connect(s->sync);
        s->st_sentinel = IoConnectInterrupt(&s->sentinel, sentinel_isr, s, NULL, IS_LINE, IS_IRQL, IS_IRQL,
                                            LevelSensitive, TRUE, 0, FALSE);
        WRITE_PORT_ULONG(IS_BASE + KSL_IRQDEV_RAISE, 0u);
        is_wait_calls(s, s->expect_calls);
        IoDisconnectInterrupt(s->sentinel);
        break;
    case IS_SYNC:
        s->st_connect = IInterruptSync_Connect(s->sync);
        s->st_sync = IInterruptSync_CallSynchronizedRoutine(s->sync, sync_routine, s);
        is_wait_calls(s, s->expect_calls);
        break;
    case IS_SYNC_TOO_HIGH:
        s->st_connect = IInterruptSync_Connect(s->sync);
        KeRaiseIrql(HIGH_LEVEL, &old);
        /* One line: the finding must point here. */
        s->sync_line = __LINE__; s->st_sync = IInterruptSync_CallSynchronizedRoutine(s->sync, sync_routine, s);
        KeLowerIrql(old);
        break;
    case IS_FALLBACK: {
        s->st_qi = s->sync->lpVtbl->QueryInterface(s->sync, &IID_IInterruptSync, &s->qi);
        if (NT_SUCCESS(s->st_qi))
            IInterruptSync_Release((PINTERRUPTSYNC)s->qi);
        s->st_qi_bad = s->sync->lpVtbl->QueryInterface(s->sync, &IID_IServiceGroup, &s->qi_bad);
        s->k_before = IInterruptSync_GetKInterrupt(s->sync);
        /* Not connected: under the object's spin lock at DISPATCH_LEVEL ... */
        s->st_sync = IInterruptSync_CallSynchronizedRoutine(s->sync, sync_routine, s);
        /* ... and refused above DISPATCH_LEVEL, the routine not called. */
        KeRaiseIrql(IS_IRQL, &old);
        s->st_sync_high = IInterruptSync_CallSynchronizedRoutine(s->sync, sync_routine, s);
        KeLowerIrql(old);
        s->st_connect = IInterruptSync_Connect(s->sync);
        s->k_connected = IInterruptSync_GetKInterrupt(s->sync);
        s->k_irql = s->k_connected ? ksl_interrupt_irql(s->k_connected) : 0;
        s->st_connect2 = IInterruptSync_Connect(s->sync);
        IInterruptSync_Disconnect(s->sync);
        s->k_after = IInterruptSync_GetKInterrupt(s->sync);
        IInterruptSync_Disconnect(s->sync); /* not connected: nothing */
        /* The second interrupt resource; a third does not exist; nor does mode 0. */
        PINTERRUPTSYNC second = NULL;
        s->st_second = PcNewInterruptSync(&second, NULL, s->rl, 1, InterruptSyncModeAll);
        if (NT_SUCCESS(s->st_second)) {
            IInterruptSync_Connect(second);
            PKINTERRUPT k = IInterruptSync_GetKInterrupt(second);
            s->second_irql = k ? ksl_interrupt_irql(k) : 0;
            s->rel_second = IInterruptSync_Release(second); /* still connected: the last Release disconnects */
        }
        s->bad_out = (PINTERRUPTSYNC)(uintptr_t)1;
        s->st_bad_index = PcNewInterruptSync(&s->bad_out, NULL, s->rl, 2, InterruptSyncModeNormal);
        s->st_bad_mode = PcNewInterruptSync(&second, NULL, s->rl, 0, (INTERRUPTSYNCMODE)0);
        break;
    }
    default:
        break;
    }
    s->rel = IInterruptSync_Release(s->sync);
    s->rl->lpVtbl->Release(s->rl);
    s->done = 1;
}

static void is_setup(ksl_engine *e, void *arg)
{
    is_state *s = arg;
    for (int i = 0; i < IS_ROUTINES; i++) {
        s->r[i].id = i;
        s->r[i].s = s;
        for (int k = 0; k < IS_SCRIPT; k++)
            s->r[i].script[k] = STATUS_UNSUCCESSFUL;
    }
    s->r[2].ack = 1; /* first in the list: called first in every mode */
    ksl_irqdev_attach(&s->dev, e, IS_BASE, IS_LINE, 0);
    ksl_thread_create(e, "is", is_thread, s);
}

/* A fresh state for `scenario` and `mode`; the caller scripts the routines, then runs it. */
static void is_init(is_state *s, int scenario, INTERRUPTSYNCMODE mode, int expect_calls)
{
    memset(s, 0, sizeof *s);
    s->scenario = scenario;
    s->mode = mode;
    s->expect_calls = expect_calls;
}

static void set_script(is_state *s, int routine, const NTSTATUS *st, int n)
{
    is_routine *r = &s->r[routine];
    for (int k = 0; k < IS_SCRIPT; k++)
        r->script[k] = k < n ? st[k] : STATUS_UNSUCCESSFUL;
}

#define SCRIPT(s, routine, ...)                                                       \
    do {                                                                              \
        static const NTSTATUS st_[] = {__VA_ARGS__};                                  \
        set_script((s), (routine), st_, (int)(sizeof st_ / sizeof st_[0]));           \
    } while (0)

static run_out run_is(is_state *s, uint64_t seed, uint32_t cpus, void (*script)(is_state *))
{
    ksl_config cfg = cfg_with(seed, cpus);
    run_out o;
    memset(&o, 0, sizeof o);
    char err[256] = "";
    ksl_engine *e = ksl_engine_create(&cfg, err, sizeof err);
    if (!e) {
        o.rc = -1;
        return o;
    }
    is_setup(e, s);
    if (script)
        script(s);
    o.rc = ksl_engine_run(e);
    const ksl_finding *f = ksl_engine_finding(e);
    if (f) {
        snprintf(o.rule, sizeof o.rule, "%s", f->rule);
        snprintf(o.message, sizeof o.message, "%s", f->message);
        snprintf(o.detail, sizeof o.detail, "%s", f->detail);
        snprintf(s->site, sizeof s->site, "%s:%d", f->file ? f->file : "?", f->line);
    }
    ksl_engine_stats(e, &o.stats);
    ksl_engine_destroy(e);
    return o;
}

static void assert_routines_ok(const is_state *s)
{
    for (int i = 0; i < IS_ROUTINES; i++) {
        assert_int_equal(s->r[i].bad_irql, 0);
        assert_int_equal(s->r[i].bad_this, 0);
    }
}

/* The scripts of the mode cases. */
static void script_normal_second_claims(is_state *s)
{
    SCRIPT(s, 0, STATUS_SUCCESS);
    SCRIPT(s, 1, STATUS_SUCCESS);
}
static void script_none(is_state *s)
{
    (void)s; /* every routine returns STATUS_UNSUCCESSFUL (is_setup's default) */
}
static void script_all(is_state *s)
{
    SCRIPT(s, 2, STATUS_SUCCESS);
    SCRIPT(s, 1, STATUS_SUCCESS);
}
static void script_repeat(is_state *s)
{
    SCRIPT(s, 2, STATUS_SUCCESS, STATUS_SUCCESS);
    SCRIPT(s, 1, STATUS_SUCCESS);
}
static void script_hang(is_state *s)
{
    s->r[0].always = 1;
}

typedef struct mode_case {
    INTERRUPTSYNCMODE mode;
    void (*script)(is_state *);
    int want[16];
    int nwant;
} mode_case;

static void test_interrupt_sync_modes(void **state)
{
    (void)state;
    static const mode_case cases[] = {
        /* Normal: stops at the first STATUS_SUCCESS (r0); r1 is not called. */
        {InterruptSyncModeNormal, script_normal_second_claims, {2, 0}, 2},
        /* Normal, nobody claims: every routine once, as All; the next ISR on the line runs. */
        {InterruptSyncModeNormal, script_none, {2, 0, 1, EV_SENTINEL}, 4},
        /* All: every routine once even after successes; claimed. */
        {InterruptSyncModeAll, script_all, {2, 0, 1}, 3},
        {InterruptSyncModeAll, script_none, {2, 0, 1, EV_SENTINEL}, 4},
        /* Repeat: passes until one gets no STATUS_SUCCESS (pass 3); claimed. */
        {InterruptSyncModeRepeat, script_repeat, {2, 0, 1, 2, 0, 1, 2, 0, 1}, 9},
        {InterruptSyncModeRepeat, script_none, {2, 0, 1, EV_SENTINEL}, 4},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        for (uint32_t cpus = 1; cpus <= 2; cpus++) {
            for (uint64_t seed = 1; seed <= 5; seed++) {
                is_state s;
                is_init(&s, IS_MODES, cases[c].mode, cases[c].nwant);
                run_out o = run_is(&s, seed, cpus, cases[c].script);
                assert_clean(o);
                assert_int_equal(s.done, 1);
                assert_int_equal(s.st_new, STATUS_SUCCESS);
                assert_int_equal(s.st_connect, STATUS_SUCCESS);
                assert_int_equal(s.st_sentinel, STATUS_SUCCESS);
                assert_int_equal(o.stats.interrupts, 1);
                assert_seq_impl(&s.log, cases[c].want, cases[c].nwant, __FILE__, __LINE__);
                assert_routines_ok(&s);
                assert_int_equal(s.rel, 0);
                run_out_free(&o);
            }
        }
    }
}

static void test_interrupt_sync_repeat_hang(void **state)
{
    (void)state;
    is_state s;
    is_init(&s, IS_HANG, InterruptSyncModeRepeat, 1);
    run_out o = run_is(&s, 1, 1, script_hang);
    assert_rule(o, "K.hang");
    assert_non_null(strstr(o.message, "InterruptSyncModeRepeat"));
    run_out_free(&o);
}

static void test_interrupt_sync_call_synchronized(void **state)
{
    (void)state;
    for (uint32_t cpus = 1; cpus <= 2; cpus++) {
        for (uint64_t seed = 1; seed <= NSEEDS; seed++) {
            is_state s;
            is_init(&s, IS_SYNC, InterruptSyncModeNormal, 5);
            run_out o = run_is(&s, seed, cpus, script_none);
            assert_clean(o);
            assert_int_equal(s.done, 1);
            assert_int_equal(s.st_connect, STATUS_SUCCESS);
            /* The routine's own status, at the interrupt's IRQL, with the caller's arguments. */
            assert_int_equal(s.st_sync, STATUS_NOT_FOUND);
            assert_int_equal(s.sync_irql, IS_IRQL);
            assert_ptr_equal(s.sync_this, s.sync);
            assert_ptr_equal(s.sync_ctx, &s);
            /* The line went high inside the routine; the ISR's routines ran only after it. */
            int b = seq_first(&s.log, EV_SYNC_BEGIN), end = seq_first(&s.log, EV_SYNC_END);
            int isr = seq_first(&s.log, 2);
            assert_true(b == 0 && b < end);
            assert_true(end < isr);
            assert_int_equal(o.stats.interrupts, 1);
            assert_true(o.stats.max_dirql_ns >= 30000u);
            assert_routines_ok(&s);
            run_out_free(&o);
        }
    }
}

static void test_interrupt_sync_call_site(void **state)
{
    (void)state;
    is_state s;
    is_init(&s, IS_SYNC_TOO_HIGH, InterruptSyncModeNormal, 0);
    run_out o = run_is(&s, 1, 1, NULL);
    assert_rule(o, "K.irql-too-high");
    /* The finding points at the driver's IInterruptSync_CallSynchronizedRoutine line. */
    char want[256];
    snprintf(want, sizeof want, "test_portcls_objects.c:%d", s.sync_line);
    if (!strstr(s.site, want))
        fprintf(stderr, "site: %s, want %s\n", s.site, want);
    assert_non_null(strstr(s.site, want));
    assert_int_equal(s.sync_calls, 0);
    run_out_free(&o);
}

static void test_interrupt_sync_fallback_and_lifecycle(void **state)
{
    (void)state;
    for (uint32_t cpus = 1; cpus <= 2; cpus++) {
        is_state s;
        is_init(&s, IS_FALLBACK, InterruptSyncModeNormal, 0);
        run_out o = run_is(&s, 1, cpus, NULL);
        assert_clean(o);
        assert_int_equal(s.done, 1);
        assert_int_equal(s.st_qi, STATUS_SUCCESS);
        assert_ptr_equal(s.qi, s.sync);
        assert_int_equal(s.st_qi_bad, STATUS_NOINTERFACE);
        assert_null(s.qi_bad);
        assert_null(s.k_before);
        /* Not connected: the object's spin lock, DISPATCH_LEVEL; refused at DIRQL. */
        assert_int_equal(s.st_sync, STATUS_NOT_FOUND);
        assert_int_equal(s.sync_irql, DISPATCH_LEVEL);
        assert_int_equal(s.st_sync_high, STATUS_UNSUCCESSFUL);
        assert_int_equal(s.sync_calls, 1);
        /* Connect, connect again, disconnect. */
        assert_int_equal(s.st_connect, STATUS_SUCCESS);
        assert_non_null(s.k_connected);
        assert_int_equal(s.k_irql, IS_IRQL);
        assert_int_equal(s.st_connect2, STATUS_UNSUCCESSFUL);
        assert_null(s.k_after);
        /* ResourceIndex counts interrupt resources only. */
        assert_int_equal(s.st_second, STATUS_SUCCESS);
        assert_int_equal(s.second_irql, IS_IRQL2);
        assert_int_equal(s.rel_second, 0);
        assert_int_equal(s.st_bad_index, STATUS_INVALID_PARAMETER);
        assert_null(s.bad_out);
        assert_int_equal(s.st_bad_mode, STATUS_INVALID_PARAMETER);
        assert_int_equal(s.rel, 0);
        run_out_free(&o);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_guids),
        cmocka_unit_test(test_device_property),
        cmocka_unit_test(test_call_site),
        cmocka_unit_test(test_resource_list),
        cmocka_unit_test(test_dma_channel),
        cmocka_unit_test(test_dma_channel_misuse),
        cmocka_unit_test(test_service_group_notify_from_isr),
        cmocka_unit_test(test_service_group_coalesces),
        cmocka_unit_test(test_service_group_delayed),
        cmocka_unit_test(test_service_group_refcounts),
        cmocka_unit_test(test_service_group_release_races_dpc),
        cmocka_unit_test(test_service_group_full),
        cmocka_unit_test(test_service_group_wrong_irql),
        cmocka_unit_test(test_interrupt_sync_modes),
        cmocka_unit_test(test_interrupt_sync_repeat_hang),
        cmocka_unit_test(test_interrupt_sync_call_synchronized),
        cmocka_unit_test(test_interrupt_sync_call_site),
        cmocka_unit_test(test_interrupt_sync_fallback_and_lifecycle),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
