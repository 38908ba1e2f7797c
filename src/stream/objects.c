/* SPDX-License-Identifier: MIT */
/*
 * The class's objects as the other files see them, at the bottom of the stream class's layers
 * (see strm.h): finding the adapter, stream or SRB wrapper behind a pointer the class handed the
 * minidriver, empty queues, the names used in messages, whether the caller holds the
 * serialization lock, the clock minidriver routines are timed on, and queueing the class DPC.
 * Nothing here calls another file of the class.
 */
#include <string.h>

#include "strm.h"

ksl_stream_adapter *ksl__strm_adapter_of(PVOID HwDeviceExtension)
{
    if (!HwDeviceExtension)
        return NULL;
    const strm_dxhdr *h = (const strm_dxhdr *)((uint8_t *)HwDeviceExtension - STRM_DEVEXT_HDR);
    if (h->magic != STRM_MAGIC_ADAPTER || !h->a || h->a->devext != HwDeviceExtension)
        return NULL;
    return h->a;
}

strm_stream *ksl__strm_stream_of(ksl_stream_adapter *a, PHW_STREAM_OBJECT so)
{
    if (!so)
        return NULL;
    strm_stream *s = (strm_stream *)so;
    if (s->magic != STRM_MAGIC_STREAM || (a && s->a != a))
        return NULL;
    return s;
}

strm_srb *ksl__strm_srb_of(PHW_STREAM_REQUEST_BLOCK srb)
{
    if (!srb)
        return NULL;
    strm_srb *r = (strm_srb *)srb;
    return r->magic == STRM_MAGIC_SRB ? r : NULL;
}

void ksl__strm_queue_init(strm_queue *q, strm_queue_kind kind, strm_stream *s)
{
    memset(q, 0, sizeof *q);
    q->kind = kind;
    q->s = s;
    InitializeListHead(&q->pending);
    q->ready = true;
}

const char *ksl_stream_entry_name(int entry)
{
    static const char *const names[KSL_STRM_E_COUNT] = {
        [KSL_STRM_E_DEVICE] = "HwReceivePacket",     [KSL_STRM_E_DATA] = "ReceiveDataPacket",
        [KSL_STRM_E_CONTROL] = "ReceiveControlPacket", [KSL_STRM_E_CANCEL] = "HwCancelPacket",
        [KSL_STRM_E_TIMEOUT] = "HwRequestTimeoutHandler", [KSL_STRM_E_ISR] = "HwInterrupt",
        [KSL_STRM_E_TIMER] = "timer routine",        [KSL_STRM_E_HIGH] = "High priority routine",
        [KSL_STRM_E_DISPATCH] = "Dispatch priority routine", [KSL_STRM_E_LOW] = "Low priority routine",
    };
    return entry >= 0 && entry < KSL_STRM_E_COUNT ? names[entry] : "?";
}

const char *ksl__strm_command_name(SRB_COMMAND cmd)
{
    static const char *const stream_cmds[] = {
        "SRB_READ_DATA", "SRB_WRITE_DATA", "SRB_GET_STREAM_STATE", "SRB_SET_STREAM_STATE",
        "SRB_SET_STREAM_PROPERTY", "SRB_GET_STREAM_PROPERTY", "SRB_OPEN_MASTER_CLOCK", "SRB_INDICATE_MASTER_CLOCK",
        "SRB_UNKNOWN_STREAM_COMMAND", "SRB_SET_STREAM_RATE", "SRB_PROPOSE_DATA_FORMAT", "SRB_CLOSE_MASTER_CLOCK",
        "SRB_PROPOSE_STREAM_RATE", "SRB_SET_DATA_FORMAT", "SRB_GET_DATA_FORMAT", "SRB_BEGIN_FLUSH", "SRB_END_FLUSH"};
    static const char *const device_cmds[] = {
        "SRB_GET_STREAM_INFO", "SRB_OPEN_STREAM", "SRB_CLOSE_STREAM", "SRB_OPEN_DEVICE_INSTANCE",
        "SRB_CLOSE_DEVICE_INSTANCE", "SRB_GET_DEVICE_PROPERTY", "SRB_SET_DEVICE_PROPERTY", "SRB_INITIALIZE_DEVICE",
        "SRB_CHANGE_POWER_STATE", "SRB_UNINITIALIZE_DEVICE", "SRB_UNKNOWN_DEVICE_COMMAND", "SRB_PAGING_OUT_DRIVER",
        "SRB_GET_DATA_INTERSECTION", "SRB_INITIALIZATION_COMPLETE", "SRB_SURPRISE_REMOVAL", "SRB_DEVICE_METHOD",
        "SRB_STREAM_METHOD", "SRB_NOTIFY_IDLE_STATE"};
    unsigned c = (unsigned)cmd;
    if (c < sizeof stream_cmds / sizeof stream_cmds[0])
        return stream_cmds[c];
    if (c >= 0x100 && c - 0x100 < sizeof device_cmds / sizeof device_cmds[0])
        return device_cmds[c - 0x100];
    return "SRB_?";
}

const char *ksl__strm_state_name(strm_srb_state st)
{
    switch (st) {
    case SRB_ST_IDLE: return "not submitted";
    case SRB_ST_QUEUED: return "queued in the class";
    case SRB_ST_MINI: return "owned by the minidriver";
    case SRB_ST_COMPLETING: return "completed";
    case SRB_ST_DONE: return "completed and returned to its owner";
    }
    return "?";
}

void ksl__strm_defer(ksl_stream_adapter *a)
{
    KeInsertQueueDpc(&a->dpc, NULL, NULL);
}

bool ksl__strm_serialized(ksl_stream_adapter *a)
{
    const ksl_spinlock *held[16];
    uint32_t n = ksl_held_spinlocks(held, 16);
    const ksl_spinlock *want = a->intr ? &a->intr_lock : &a->class_lock;
    for (uint32_t i = 0; i < n && i < 16; i++)
        if (held[i] == want)
            return true;
    return false;
}

uint64_t ksl__strm_clock(uint8_t irql)
{
    return irql >= DISPATCH_LEVEL ? ksl_cpu_work_now() : ksl_time_now();
}

uint64_t ksl__strm_elapsed(uint8_t irql, uint64_t t0)
{
    uint64_t t1 = ksl__strm_clock(irql);
    return t1 > t0 ? t1 - t0 : 0;
}

/* ---- the client's event hook ------------------------------------------------------------ */

void ksl__strm_event(ksl_stream_adapter *a, ksl_stream_event ev)
{
    if (a->event_fn && KeGetCurrentIrql() <= DISPATCH_LEVEL)
        a->event_fn(a->event_user, ev);
}

void ksl_stream_set_event_hook(ksl_stream_adapter *a, ksl_stream_event_fn *fn, void *user)
{
    a->event_fn = fn;
    a->event_user = user;
}
