/* SPDX-License-Identifier: MIT */
/*
 * The adapter: StreamClassRegisterAdapter, the device extension, the interrupt (the class's ISR
 * around HwInterrupt), start (SRB_INITIALIZE_DEVICE, SRB_GET_STREAM_INFO,
 * SRB_INITIALIZATION_COMPLETE) and stop (SRB_UNINITIALIZE_DEVICE).
 *
 * Decision: the interrupt is connected before SRB_INITIALIZE_DEVICE, so that with
 * synchronization on every request, the first included, goes through KeSynchronizeExecution.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strm.h"


/* ---- registration ------------------------------------------------------------------------- */

NTSTATUS STREAMAPI StreamClassRegisterAdapter(PVOID Argument1, PVOID Argument2, PHW_INITIALIZATION_DATA HwInitializationData)
{
    (void)Argument2;
    ksl_stream_adapter *a = Argument1;
    if (!a || a->magic != STRM_MAGIC_ADAPTER)
        return STATUS_INVALID_PARAMETER;
    NTSTATUS st = STATUS_SUCCESS;
    if (!HwInitializationData)
        st = STATUS_INVALID_PARAMETER;
    else if (HwInitializationData->HwInitializationDataSize != sizeof(HW_INITIALIZATION_DATA))
        st = STATUS_REVISION_MISMATCH;
    else if (!HwInitializationData->HwReceivePacket || !HwInitializationData->HwCancelPacket ||
             !HwInitializationData->HwRequestTimeoutHandler)
        st = STATUS_INVALID_PARAMETER;
    if (NT_SUCCESS(st)) {
        a->init = *HwInitializationData;
        a->registered = true;
    }
    a->register_status = st;
    return st;
}

/* ---- create / destroy ---------------------------------------------------------------------- */

ksl_stream_adapter *ksl_stream_create(ksl_engine *e, ksl_stream_driver_entry *entry, const ksl_stream_resources *res,
                                      const ksl_stream_options *opt, char *err, size_t errlen)
{
    if (!e || !entry) {
        snprintf(err, errlen, "no engine or no driver entry");
        return NULL;
    }
    ksl_stream_resources none = {0};
    if (!res)
        res = &none;
    if (res->has_interrupt && (res->irql < KSL_IRQL_DEVICE_MIN || res->irql > KSL_IRQL_DEVICE_MAX)) {
        snprintf(err, errlen, "interrupt IRQL %u is not a device IRQL (3..26)", res->irql);
        return NULL;
    }
    ksl_stream_adapter *a = calloc(1, sizeof *a);
    if (!a) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    a->magic = STRM_MAGIC_ADAPTER;
    a->e = e;
    a->res = *res;
    a->opt.srb_timeout_s = 15;
    a->opt.close_wait_us = 100000;
    a->opt.dirql_budget_us = 20;
    a->opt.dispatch_budget_us = 1000;
    a->opt.dispatch_callback_budget_us = 1000;
    a->opt.long_request_us = 1000;
    a->opt.long_request_pct = 20;
    a->opt.long_request_window = 10;
    if (opt) {
        a->opt.srb_timeout_s = opt->srb_timeout_s;
        if (opt->close_wait_us)
            a->opt.close_wait_us = opt->close_wait_us;
#define OPT(f)                                                                                                    \
    if (opt->f)                                                                                                   \
        a->opt.f = opt->f;
        OPT(dirql_budget_us)
        OPT(dispatch_budget_us)
        OPT(dispatch_callback_budget_us)
        OPT(long_request_us)
        OPT(long_request_pct)
        OPT(long_request_window)
#undef OPT
    }
    pthread_mutex_init(&a->mu, NULL);
    InitializeListHead(&a->streams);
    InitializeListHead(&a->outstanding);
    InitializeListHead(&a->completing);
    InitializeListHead(&a->all);
    ksl__strm_queue_init(&a->devq, Q_DEVICE, NULL);
    a->register_status = STATUS_UNSUCCESSFUL;
    NTSTATUS st = entry(a, NULL);
    if (!a->registered || !NT_SUCCESS(st)) {
        snprintf(err, errlen, "the driver entry returned 0x%08X; registration %s (0x%08X)", (unsigned)st,
                 a->registered ? "succeeded" : "failed", (unsigned)a->register_status);
        pthread_mutex_destroy(&a->mu);
        free(a);
        return NULL;
    }
    a->sync = !a->init.TurnOffSynchronization;
    a->has_isr = a->init.HwInterrupt && res->has_interrupt;
    a->devobj.Size = sizeof a->devobj;
    a->devobj.DriverObject = a;
    if (!ksl__strm_ck_create(a)) {
        snprintf(err, errlen, "out of memory");
        pthread_mutex_destroy(&a->mu);
        free(a);
        return NULL;
    }
    return a;
}

static void stream_free(strm_stream *s)
{
    free(s->obj.HwStreamExtension);
    s->magic = 0;
    free(s);
}

void ksl_stream_destroy(ksl_stream_adapter *a)
{
    if (!a)
        return;
    while (!IsListEmpty(&a->all)) {
        strm_srb *r = CONTAINING_RECORD(RemoveHeadList(&a->all), strm_srb, slink);
        free(r->data);
        free(r->ext);
        r->magic = 0;
        free(r);
    }
    while (!IsListEmpty(&a->streams))
        stream_free(CONTAINING_RECORD(RemoveHeadList(&a->streams), strm_stream, link));
    free(a->desc);
    free(a->instances);
    free(a->dxmem);
    free(a->instext);
    ksl__strm_ck_destroy(a);
    pthread_mutex_destroy(&a->mu);
    a->magic = 0;
    free(a);
}

void ksl_stream_get_stats(const ksl_stream_adapter *a, ksl_stream_stats *out)
{
    ksl_stream_adapter *m = (ksl_stream_adapter *)a;
    pthread_mutex_lock(&m->mu);
    *out = a->st;
    pthread_mutex_unlock(&m->mu);
}

const HW_INITIALIZATION_DATA *ksl_stream_init_data(const ksl_stream_adapter *a)
{
    return &a->init;
}

PVOID ksl_stream_device_extension(const ksl_stream_adapter *a)
{
    return a->devext;
}

const HW_STREAM_DESCRIPTOR *ksl_stream_descriptor(const ksl_stream_adapter *a)
{
    return a->desc;
}

/* ---- the interrupt ------------------------------------------------------------------------- */

/* The class's ISR: HwInterrupt at the DIRQL, holding the interrupt lock.  Notifications it makes
 * queue the class DPC. */
static BOOLEAN class_isr(PKINTERRUPT Interrupt, PVOID ServiceContext)
{
    (void)Interrupt;
    ksl_stream_adapter *a = ServiceContext;
    uint8_t irql = KeGetCurrentIrql();
    uint64_t t0 = ksl__strm_clock(irql);
    ksl__strm_ck_enter(a, KSL_STRM_E_ISR, irql);
    BOOLEAN mine = a->init.HwInterrupt(a->devext);
    ksl__strm_ck_leave(a, KSL_STRM_E_ISR, irql);
    ksl__strm_account(a, KSL_STRM_E_ISR, irql, ksl__strm_elapsed(irql, t0));
    return mine;
}

/* ---- start / stop -------------------------------------------------------------------------- */

static void setup_init(PHW_STREAM_REQUEST_BLOCK srb, void *arg)
{
    ksl_stream_adapter *a = arg;
    srb->CommandData.ConfigInfo = &a->cfg;
}

static void setup_info(PHW_STREAM_REQUEST_BLOCK srb, void *arg)
{
    ksl_stream_adapter *a = arg;
    srb->CommandData.StreamBuffer = a->desc;
    srb->NumberOfBytesToTransfer = a->desc_size;
}

NTSTATUS ksl_stream_start(ksl_stream_adapter *a)
{
    ksl_require_irql(PASSIVE_LEVEL, "ksl_stream_start", __FILE__, __LINE__);
    if (a->started)
        return STATUS_INVALID_DEVICE_STATE;
    size_t dxsize = STRM_DEVEXT_HDR + (a->init.DeviceExtensionSize ? a->init.DeviceExtensionSize : 1);
    if (!a->dxmem && !(a->dxmem = calloc(1, dxsize)))
        return STATUS_INSUFFICIENT_RESOURCES;
    strm_dxhdr *h = (strm_dxhdr *)a->dxmem;
    h->magic = STRM_MAGIC_ADAPTER;
    h->a = a;
    a->devext = a->dxmem + STRM_DEVEXT_HDR;
    a->devobj.DeviceExtension = a->devext;
    if (a->init.FilterInstanceExtensionSize && !a->instext && !(a->instext = calloc(1, a->init.FilterInstanceExtensionSize)))
        return STATUS_INSUFFICIENT_RESOURCES;

    KeInitializeSpinLock(&a->class_lock);
    a->class_lock.name = "stream class lock";
    KeInitializeSpinLock(&a->intr_lock);
    a->intr_lock.name = "stream class interrupt lock";
    KeInitializeDpc(&a->dpc, ksl__strm_dpc, a);
    a->dpc.name = "stream class DPC";
    NTSTATUS st = ksl__strm_prio_init(a, &a->prio, NULL);
    if (!NT_SUCCESS(st))
        return st;
    ksl__strm_timer_init(a, &a->timer, NULL);

    memset(&a->cfg, 0, sizeof a->cfg);
    a->cfg.SizeOfThisPacket = sizeof a->cfg;
    a->cfg.HwDeviceExtension = a->devext;
    a->cfg.ClassDeviceObject = &a->devobj;
    a->cfg.AdapterObject = &a->devobj;
    a->cfg.RealPhysicalDeviceObject = &a->devobj;
    a->cfg.PhysicalDeviceObject = &a->devobj;
    if (a->res.lower_device) { /* the device the class attached to: the minidriver's next-lower driver */
        a->lowerobj.Size = sizeof a->lowerobj;
        a->lowerobj.DeviceExtension = a->res.lower_device;
        a->cfg.RealPhysicalDeviceObject = &a->lowerobj;
        a->cfg.PhysicalDeviceObject = &a->lowerobj;
    }
    a->cfg.AdapterInterfaceType = PCIBus;
    a->cfg.InterruptMode = LevelSensitive;
    if (a->res.has_interrupt) {
        a->cfg.BusInterruptLevel = a->res.irql;
        a->cfg.BusInterruptVector = a->res.irq_line;
    }
    if (a->res.port_size) {
        a->range.RangeStart.QuadPart = (LONGLONG)a->res.port_base;
        a->range.RangeLength = a->res.port_size;
        a->range.RangeInMemory = FALSE;
        a->cfg.NumberOfAccessRanges = 1;
        a->cfg.AccessRanges = &a->range;
    }

    if (a->has_isr) {
        st = IoConnectInterrupt(&a->intr, class_isr, a, &a->intr_lock, a->res.irq_line, a->res.irql, a->res.irql,
                                LevelSensitive, TRUE, 0, FALSE);
        if (!NT_SUCCESS(st)) {
            ksl__strm_prio_drain(a, &a->prio, 0);
            return st;
        }
    }
    a->started = true;
    ksl__strm_tick_start(a);

    st = ksl__strm_device_request(a, NULL, SRB_INITIALIZE_DEVICE, setup_init, a);
    if (NT_SUCCESS(st)) {
        a->desc_size = a->cfg.StreamDescriptorSize;
        if (a->desc_size < sizeof(HW_STREAM_HEADER))
            st = STATUS_INVALID_DEVICE_STATE; /* the minidriver reported no stream descriptor */
        else if (!(a->desc = calloc(1, a->desc_size)))
            st = STATUS_INSUFFICIENT_RESOURCES;
    }
    if (NT_SUCCESS(st))
        st = ksl__strm_device_request(a, NULL, SRB_GET_STREAM_INFO, setup_info, a);
    if (NT_SUCCESS(st)) {
        ULONG n = a->desc->StreamHeader.NumberOfStreams;
        if (sizeof(HW_STREAM_HEADER) + (size_t)n * sizeof(HW_STREAM_INFORMATION) > a->desc_size)
            st = STATUS_BUFFER_TOO_SMALL; /* NumberOfStreams does not fit StreamDescriptorSize */
        else if (!(a->instances = calloc(n ? n : 1, sizeof *a->instances)))
            st = STATUS_INSUFFICIENT_RESOURCES;
    }
    if (NT_SUCCESS(st))
        st = ksl__strm_device_request(a, NULL, SRB_INITIALIZATION_COMPLETE, NULL, NULL);
    if (NT_SUCCESS(st) && a->init.FilterInstanceExtensionSize) {
        st = ksl__strm_device_request(a, NULL, SRB_OPEN_DEVICE_INSTANCE, NULL, NULL);
        a->instance_open = NT_SUCCESS(st);
    }
    if (!NT_SUCCESS(st)) {
        ksl__strm_tick_stop(a);
        ksl__strm_timer_drain(a, &a->timer, a->opt.close_wait_us);
        ksl__strm_prio_drain(a, &a->prio, a->opt.close_wait_us);
        if (a->intr)
            IoDisconnectInterrupt(a->intr);
        a->intr = NULL;
        a->started = false;
    }
    return st;
}

NTSTATUS ksl_stream_stop(ksl_stream_adapter *a)
{
    ksl_require_irql(PASSIVE_LEVEL, "ksl_stream_stop", __FILE__, __LINE__);
    if (!a->started)
        return STATUS_INVALID_DEVICE_STATE;
    ksl__strm_hook_stop(a);
    bool open = false;
    pthread_mutex_lock(&a->mu);
    for (LIST_ENTRY *l = a->streams.Flink; l != &a->streams; l = l->Flink)
        open |= CONTAINING_RECORD(l, strm_stream, link)->open;
    pthread_mutex_unlock(&a->mu);
    if (open)
        return STATUS_INVALID_DEVICE_STATE;
    if (a->instance_open)
        ksl__strm_device_request(a, NULL, SRB_CLOSE_DEVICE_INSTANCE, NULL, NULL);
    a->instance_open = false;
    NTSTATUS st = ksl__strm_device_request(a, NULL, SRB_UNINITIALIZE_DEVICE, NULL, NULL);
    ksl__strm_tick_stop(a);
    ksl__strm_timer_drain(a, &a->timer, a->opt.close_wait_us);
    ksl__strm_prio_drain(a, &a->prio, a->opt.close_wait_us);
    /* The class DPC may still be queued or running (a last notification). */
    for (uint32_t waited = 0; waited < a->opt.close_wait_us; waited += 10) {
        pthread_mutex_lock(&a->mu);
        bool busy = a->dpc_running || atomic_load(&a->dpc.queued_cpu) >= 0 || atomic_load(&a->tick_dpc.queued_cpu) >= 0;
        pthread_mutex_unlock(&a->mu);
        if (!busy)
            break;
        LARGE_INTEGER iv;
        iv.QuadPart = -100; /* 10 us */
        KeDelayExecutionThread(KernelMode, FALSE, &iv);
    }
    if (a->intr)
        IoDisconnectInterrupt(a->intr);
    a->intr = NULL;
    a->started = false;
    return st;
}
