/* SPDX-License-Identifier: MIT */
/*
 * The stream class driver (src/stream) driven through a tiny fake minidriver written here against
 * strmini.h, and client threads using <kslab/stream.h>: synchronization on with an ISR (entry
 * points at the DIRQL, never two at once, one request per queue until ReadyForNext), on without
 * one (DISPATCH_LEVEL under the class lock), off (PASSIVE_LEVEL, in the submitting thread,
 * concurrent), StreamClassCallAtNewPriority at every priority, StreamClassScheduleTimer, SRB
 * timeouts, cancellation, StreamClassAbortOutstandingRequests, and the protocol findings.
 *
 * The interrupt source is <kslab/hw/irqdev.h>.  As in the other unit tests, the scenario records
 * what happened inside the run and the test asserts it afterwards.
 */
#include "harness.h"

#include <kslab/hw/irqdev.h>
#include <kslab/rules.h>
#include <kslab/stream.h>
#include <kslab/wdk/strmini.h>

#include <stdio.h>
#include <string.h>

#define DEV_BASE 0x5000u
#define DEV_LINE 6u
#define DEV_IRQL 8u
#define MAXH 16
#define NSRB 8

static const GUID fmt_major = {0x11111111, 0x2222, 0x3333, {1, 2, 3, 4, 5, 6, 7, 8}};
static const GUID fmt_other = {0x99999999, 0x2222, 0x3333, {1, 2, 3, 4, 5, 6, 7, 8}};

enum data_mode {
    DM_COMPLETE = 0, /* complete at once, ReadyForNext */
    DM_HOLD_ISR,     /* keep it, raise an interrupt; the ISR completes the oldest and signals ready */
    DM_HOLD_TIMER,   /* keep it, schedule the stream timer; the timer routine completes the oldest */
    DM_HOLD,         /* keep it (ReadyForNext if ready_on_hold); completed only by cancel/timeout/abort */
    DM_PRIORITY,     /* keep it, chain Dispatch -> High, device Low -> LowToHigh; that completes it */
    DM_PRIO_TWICE,   /* two Dispatch requests in a row */
    DM_DOUBLE,       /* complete twice */
    DM_READY_TWICE,  /* ReadyForNext twice */
    DM_ABORT_ISR,    /* keep it; the ISR aborts the stream when hold_before_abort are held */
};

typedef struct fdx {
    uintptr_t port;
    ULONG irq_level;
    KSSTATE state;
} fdx;

typedef struct ft {
    /* configuration */
    bool sync_off, isr, with_port;
    int mode;
    bool ready_on_hold;
    int ready_on_hold_limit;   /* DM_HOLD: signal ready only while fewer than this are held (0: always) */
    bool cancel_ignores;
    int hold_before_abort;
    uint32_t stall_us;
    int nclients, nsrbs;
    uint32_t timeout_s;        /* TimeoutCounter of the data SRBs (0: none) */
    int cancel_index;          /* the SRB the client cancels (-1: none) */
    int cancel_queued_index;
    int scenario;

    /* recorded by the minidriver */
    ksl_stream_adapter *a;
    ksl_irqdev dev;
    volatile LONG inside, max_inside;
    uint32_t calls[KSL_STRM_E_COUNT];
    uint8_t irql_min[KSL_STRM_E_COUNT], irql_max[KSL_STRM_E_COUNT];
    int lock_wrong;            /* an entry point ran without the expected serialization lock */
    int ctx_wrong;             /* sync off: a data request ran in another thread than its submitter */
    PHW_STREAM_REQUEST_BLOCK held[MAXH];
    int nheld, max_held;
    int abort_done;
    uintptr_t cfg_port;
    ULONG cfg_level, cfg_vector, cfg_ranges;
    /* priority chain */
    uint8_t pr_irql[4];        /* Dispatch, High, Low, LowToHigh */
    int pr_locks[4];           /* serialization locks held */
    char pr_ctx[4][64];
    int pr_ran[4];
    PHW_STREAM_REQUEST_BLOCK pr_srb;
    PHW_STREAM_OBJECT pr_so;
    /* timers */
    ULONGLONG t_sched, t_fire[3];
    int fired[3];
    uint8_t timer_irql;

    /* recorded by the clients */
    NTSTATUS st_start, st_open, st_open_bad, st_state, st_close, st_stop;
    KSSTATE got_state;
    NTSTATUS st[4][NSRB];
    int data_ok;
    ULONGLONG t_submit, t_done;
    bool cancel_ret, cancel_queued_ret, cancel_done_ret;
    ksl_stream_stats stats;
} ft;

static ft g;

/* ---- the fake minidriver ---------------------------------------------------------------------- */

static int held_locks(void)
{
    const ksl_spinlock *l[8];
    uint32_t n = ksl_held_spinlocks(l, 8);
    int k = 0;
    for (uint32_t i = 0; i < n && i < 8; i++)
        if (l[i]->name && (!strcmp(l[i]->name, "stream class lock") || !strcmp(l[i]->name, "stream class interrupt lock")))
            k++;
    return k;
}

static void enter(int e)
{
    LONG n = InterlockedIncrement(&g.inside);
    if (n > g.max_inside)
        g.max_inside = n;
    KIRQL irql = KeGetCurrentIrql();
    if (!g.calls[e]++ || irql < g.irql_min[e])
        g.irql_min[e] = irql;
    if (irql > g.irql_max[e])
        g.irql_max[e] = irql;
    if (!g.sync_off && !held_locks())
        g.lock_wrong++;
    if (g.stall_us)
        KeStallExecutionProcessor(g.stall_us);
}

static void leave(void)
{
    InterlockedDecrement(&g.inside);
}

static void hold(PHW_STREAM_REQUEST_BLOCK srb)
{
    if (g.nheld < MAXH)
        g.held[g.nheld++] = srb;
    if (g.nheld > g.max_held)
        g.max_held = g.nheld;
}

static PHW_STREAM_REQUEST_BLOCK unhold(PHW_STREAM_REQUEST_BLOCK srb)
{
    for (int i = 0; i < g.nheld; i++) {
        if (!srb || g.held[i] == srb) {
            PHW_STREAM_REQUEST_BLOCK r = g.held[i];
            memmove(&g.held[i], &g.held[i + 1], (size_t)(g.nheld - i - 1) * sizeof g.held[0]);
            g.nheld--;
            return r;
        }
    }
    return NULL;
}

static void fill(PHW_STREAM_REQUEST_BLOCK srb)
{
    PKSSTREAM_HEADER h = srb->CommandData.DataBufferArray;
    uint8_t *p = h->Data;
    for (ULONG i = 0; i < h->FrameExtent; i++)
        p[i] = (uint8_t)(i * 7 + 3);
    h->DataUsed = h->FrameExtent;
    srb->ActualBytesTransferred = h->FrameExtent;
}

static void finish(PHW_STREAM_REQUEST_BLOCK srb, NTSTATUS st)
{
    srb->Status = st;
    StreamClassStreamNotification(StreamRequestComplete, srb->StreamObject, srb);
    StreamClassStreamNotification(ReadyForNextStreamDataRequest, srb->StreamObject);
}

static void STREAMAPI timer_complete(PVOID ctx)
{
    PHW_STREAM_OBJECT so = ctx;
    enter(KSL_STRM_E_TIMER);
    g.timer_irql = KeGetCurrentIrql();
    PHW_STREAM_REQUEST_BLOCK srb = unhold(NULL);
    if (srb) {
        if (srb->Command == SRB_READ_DATA)
            fill(srb);
        finish(srb, STATUS_SUCCESS);
    }
    if (g.nheld) /* more held: keep the timer going */
        StreamClassScheduleTimer(so, so->HwDeviceExtension, 30, timer_complete, so);
    leave();
}

static void record_prio(int k)
{
    g.pr_irql[k] = KeGetCurrentIrql();
    g.pr_locks[k] = held_locks();
    snprintf(g.pr_ctx[k], sizeof g.pr_ctx[k], "%s", ksl_context_name());
    g.pr_ran[k]++;
}

static void STREAMAPI pr_lowtohigh(PVOID ctx)
{
    (void)ctx;
    record_prio(3);
    PHW_STREAM_REQUEST_BLOCK srb = g.pr_srb;
    fill(srb);
    finish(srb, STATUS_SUCCESS);
}

static void STREAMAPI pr_low(PVOID ctx)
{
    record_prio(2);
    StreamClassCallAtNewPriority(NULL, ctx, LowToHigh, pr_lowtohigh, NULL);
}

static void STREAMAPI pr_high(PVOID ctx)
{
    (void)ctx;
    record_prio(1);
    StreamClassCallAtNewPriority(NULL, g.pr_so->HwDeviceExtension, Low, pr_low, g.pr_so->HwDeviceExtension);
}

static void STREAMAPI pr_dispatch(PVOID ctx)
{
    record_prio(0);
    PHW_STREAM_OBJECT so = ctx;
    StreamClassCallAtNewPriority(so, so->HwDeviceExtension, High, pr_high, NULL);
}

static void STREAMAPI pr_nothing(PVOID ctx)
{
    (void)ctx;
}

static VOID STREAMAPI data_packet(PHW_STREAM_REQUEST_BLOCK srb)
{
    enter(KSL_STRM_E_DATA);
    PHW_STREAM_OBJECT so = srb->StreamObject;
    fdx *dx = srb->HwDeviceExtension;
    if (g.sync_off) {
        /* In the submitting thread: the client wrote its index into the first byte. */
        char want[32];
        snprintf(want, sizeof want, "thread 'client%u'", ((uint8_t *)srb->CommandData.DataBufferArray->Data)[0]);
        if (strcmp(ksl_context_name(), want) != 0)
            g.ctx_wrong++;
    }
    switch (g.mode) {
    case DM_COMPLETE:
        if (srb->Command == SRB_READ_DATA)
            fill(srb);
        finish(srb, STATUS_SUCCESS);
        break;
    case DM_HOLD_ISR:
        hold(srb);
        WRITE_PORT_ULONG(dx->port + KSL_IRQDEV_RAISE, 20000);
        break;
    case DM_HOLD_TIMER:
        hold(srb);
        StreamClassScheduleTimer(so, srb->HwDeviceExtension, 30, timer_complete, so);
        break;
    case DM_HOLD:
        hold(srb);
        if (g.ready_on_hold && (!g.ready_on_hold_limit || g.nheld < g.ready_on_hold_limit))
            StreamClassStreamNotification(ReadyForNextStreamDataRequest, so);
        break;
    case DM_ABORT_ISR:
        hold(srb);
        if (g.nheld < g.hold_before_abort)
            StreamClassStreamNotification(ReadyForNextStreamDataRequest, so);
        else
            WRITE_PORT_ULONG(dx->port + KSL_IRQDEV_RAISE, 200000); /* after the client queued the 4th */
        break;
    case DM_PRIORITY:
        g.pr_srb = srb;
        g.pr_so = so;
        StreamClassCallAtNewPriority(so, srb->HwDeviceExtension, Dispatch, pr_dispatch, so);
        break;
    case DM_PRIO_TWICE:
        StreamClassCallAtNewPriority(so, srb->HwDeviceExtension, Dispatch, pr_nothing, NULL);
        StreamClassCallAtNewPriority(so, srb->HwDeviceExtension, Dispatch, pr_nothing, NULL);
        finish(srb, STATUS_SUCCESS);
        break;
    case DM_DOUBLE:
        srb->Status = STATUS_SUCCESS;
        StreamClassStreamNotification(StreamRequestComplete, so, srb);
        StreamClassStreamNotification(StreamRequestComplete, so, srb);
        break;
    case DM_READY_TWICE:
        finish(srb, STATUS_SUCCESS);
        StreamClassStreamNotification(ReadyForNextStreamDataRequest, so);
        break;
    }
    leave();
}

static void STREAMAPI timer_mark(PVOID ctx)
{
    int k = (int)(uintptr_t)ctx;
    enter(KSL_STRM_E_TIMER);
    g.timer_irql = KeGetCurrentIrql();
    g.fired[k]++;
    g.t_fire[k] = KeQueryInterruptTime();
    leave();
}

static VOID STREAMAPI control_packet(PHW_STREAM_REQUEST_BLOCK srb)
{
    enter(KSL_STRM_E_CONTROL);
    fdx *dx = srb->HwDeviceExtension;
    srb->Status = STATUS_SUCCESS;
    switch (srb->Command) {
    case SRB_SET_STREAM_STATE:
        dx->state = srb->CommandData.StreamState;
        if (g.scenario == 1 && dx->state == KSSTATE_RUN) {
            /* the device timer: A (1 ms) replaced by B (250 us); C scheduled then cancelled on the stream */
            g.t_sched = KeQueryInterruptTime();
            StreamClassScheduleTimer(NULL, dx, 1000, timer_mark, (PVOID)(uintptr_t)0);
            StreamClassScheduleTimer(NULL, dx, 250, timer_mark, (PVOID)(uintptr_t)1);
            StreamClassScheduleTimer(srb->StreamObject, dx, 100, timer_mark, (PVOID)(uintptr_t)2);
            StreamClassScheduleTimer(srb->StreamObject, dx, 0, NULL, NULL);
        }
        break;
    case SRB_GET_STREAM_STATE:
        srb->CommandData.StreamState = dx->state;
        break;
    default:
        srb->Status = STATUS_NOT_IMPLEMENTED;
        break;
    }
    StreamClassStreamNotification(StreamRequestComplete, srb->StreamObject, srb);
    StreamClassStreamNotification(ReadyForNextStreamControlRequest, srb->StreamObject);
    leave();
}

static KSDATAFORMAT g_format = {.FormatSize = sizeof(KSDATAFORMAT)};
static PKSDATAFORMAT g_formats[1] = {&g_format};

static VOID STREAMAPI receive_packet(PHW_STREAM_REQUEST_BLOCK srb)
{
    enter(KSL_STRM_E_DEVICE);
    fdx *dx = srb->HwDeviceExtension;
    srb->Status = STATUS_SUCCESS;
    switch (srb->Command) {
    case SRB_INITIALIZE_DEVICE: {
        PPORT_CONFIGURATION_INFORMATION cfg = srb->CommandData.ConfigInfo;
        g.cfg_ranges = cfg->NumberOfAccessRanges;
        g.cfg_level = cfg->BusInterruptLevel;
        g.cfg_vector = cfg->BusInterruptVector;
        if (cfg->NumberOfAccessRanges)
            dx->port = g.cfg_port = (uintptr_t)cfg->AccessRanges[0].RangeStart.QuadPart;
        cfg->StreamDescriptorSize = sizeof(HW_STREAM_HEADER) + 2 * sizeof(HW_STREAM_INFORMATION);
        break;
    }
    case SRB_GET_STREAM_INFO: {
        PHW_STREAM_DESCRIPTOR d = srb->CommandData.StreamBuffer;
        d->StreamHeader.NumberOfStreams = 2;
        d->StreamHeader.SizeOfHwStreamInformation = sizeof(HW_STREAM_INFORMATION);
        PHW_STREAM_INFORMATION info = &d->StreamInfo;
        info[0].NumberOfPossibleInstances = 1;
        info[0].DataFlow = KSPIN_DATAFLOW_OUT;
        info[0].NumberOfFormatArrayEntries = 1;
        info[0].StreamFormatsArray = g_formats;
        info[1].NumberOfPossibleInstances = 1;
        info[1].DataFlow = KSPIN_DATAFLOW_IN;
        break;
    }
    case SRB_OPEN_STREAM:
        srb->StreamObject->ReceiveDataPacket = data_packet;
        srb->StreamObject->ReceiveControlPacket = control_packet;
        break;
    case SRB_CLOSE_STREAM:
    case SRB_INITIALIZATION_COMPLETE:
    case SRB_UNINITIALIZE_DEVICE:
        break;
    default:
        srb->Status = STATUS_NOT_IMPLEMENTED;
        break;
    }
    StreamClassCompleteRequestAndMarkQueueReady(srb);
    leave();
}

static VOID STREAMAPI cancel_packet(PHW_STREAM_REQUEST_BLOCK srb)
{
    enter(KSL_STRM_E_CANCEL);
    if (!g.cancel_ignores && unhold(srb))
        finish(srb, STATUS_CANCELLED);
    leave();
}

static VOID STREAMAPI timeout_handler(PHW_STREAM_REQUEST_BLOCK srb)
{
    enter(KSL_STRM_E_TIMEOUT);
    if (unhold(srb))
        finish(srb, STATUS_IO_TIMEOUT);
    leave();
}

static BOOLEAN STREAMAPI interrupt(PVOID devext)
{
    fdx *dx = devext;
    if (!READ_PORT_ULONG(dx->port + KSL_IRQDEV_STATUS))
        return FALSE;
    WRITE_PORT_ULONG(dx->port + KSL_IRQDEV_STATUS, 1);
    enter(KSL_STRM_E_ISR);
    if (g.mode == DM_ABORT_ISR) {
        if (g.nheld) {
            StreamClassAbortOutstandingRequests(devext, g.held[0]->StreamObject, STATUS_IO_DEVICE_ERROR);
            g.nheld = 0;
            g.abort_done++;
        }
    } else {
        PHW_STREAM_REQUEST_BLOCK srb = unhold(NULL);
        if (srb) {
            fill(srb);
            finish(srb, STATUS_SUCCESS);
        }
    }
    leave();
    return TRUE;
}

static NTSTATUS fake_entry(PVOID Argument1, PVOID Argument2)
{
    HW_INITIALIZATION_DATA init;
    RtlZeroMemory(&init, sizeof init);
    init.HwInitializationDataSize = sizeof init;
    init.HwInterrupt = g.isr ? interrupt : NULL;
    init.HwReceivePacket = receive_packet;
    init.HwCancelPacket = cancel_packet;
    init.HwRequestTimeoutHandler = timeout_handler;
    init.DeviceExtensionSize = sizeof(fdx);
    init.PerRequestExtensionSize = 32;
    init.PerStreamExtensionSize = 16;
    init.TurnOffSynchronization = g.sync_off;
    return StreamClassRegisterMinidriver(Argument1, Argument2, &init);
}

/* ---- clients ------------------------------------------------------------------------------- */

static volatile LONG clients_left;
static KEVENT opened, all_done;
static ksl_stream_pin *g_pin;

static bool check_data(PHW_STREAM_REQUEST_BLOCK srb, uint32_t n)
{
    const uint8_t *p = ksl_stream_srb_data(srb);
    for (uint32_t i = 0; i < n; i++)
        if (p[i] != (uint8_t)(i * 7 + 3))
            return false;
    return srb->ActualBytesTransferred == n;
}

/* Client 0: start, open, RUN, its SRBs, then (last one out) close and stop. */
static void client_main(void *arg)
{
    int me = (int)(uintptr_t)arg;
    ksl_stream_adapter *a = g.a;
    ULONG stream = g.sync_off ? 1 : 0; /* sync off: the write stream */
    if (me == 0) {
        g.st_start = ksl_stream_start(a);
        if (!NT_SUCCESS(g.st_start))
            return;
        KSDATAFORMAT bad = g_format;
        bad.MajorFormat = fmt_other;
        ksl_stream_pin *p = NULL;
        g.st_open_bad = ksl_stream_open(a, 0, &bad, &p);
        g.st_open = ksl_stream_open(a, stream, stream == 0 ? &g_format : NULL, &g_pin);
        if (!NT_SUCCESS(g.st_open))
            return;
        g.st_state = ksl_stream_set_state(g_pin, KSSTATE_RUN);
        ksl_stream_get_state(g_pin, &g.got_state);
        KeSetEvent(&opened, IO_NO_INCREMENT, FALSE);
    } else {
        KeWaitForSingleObject(&opened, Executive, KernelMode, FALSE, NULL);
    }
    PHW_STREAM_REQUEST_BLOCK srb[NSRB];
    int n = g.nsrbs;
    g.t_submit = KeQueryInterruptTime();
    for (int i = 0; i < n; i++) {
        srb[i] = ksl_stream_srb_alloc(g_pin, stream == 0 ? SRB_READ_DATA : SRB_WRITE_DATA, 256);
        ksl_stream_srb_data(srb[i])[0] = (uint8_t)me;
        if (g.timeout_s)
            srb[i]->TimeoutCounter = srb[i]->TimeoutOriginal = g.timeout_s;
        ksl_stream_srb_submit(srb[i]);
    }
    if (me == 0 && g.cancel_queued_index >= 0)
        g.cancel_queued_ret = ksl_stream_srb_cancel(srb[g.cancel_queued_index]);
    if (me == 0 && g.cancel_index >= 0) {
        LARGE_INTEGER iv;
        iv.QuadPart = -1000; /* 100 us: it is with the minidriver by then */
        KeDelayExecutionThread(KernelMode, FALSE, &iv);
        g.cancel_ret = ksl_stream_srb_cancel(srb[g.cancel_index]);
    }
    int ok = 1;
    for (int i = 0; i < n; i++) {
        if (g.cancel_index >= 0 || g.timeout_s || g.mode == DM_HOLD) {
            if (i != g.cancel_index && i != g.cancel_queued_index && !g.timeout_s && g.mode == DM_HOLD)
                continue; /* the held ones: close cancels them */
        }
        g.st[me][i] = ksl_stream_srb_wait(srb[i]);
        if (stream == 0 && g.st[me][i] == STATUS_SUCCESS && !check_data(srb[i], 256))
            ok = 0;
    }
    g.t_done = KeQueryInterruptTime();
    if (g.scenario == 1) { /* let the device timer fire before stop cancels it */
        LARGE_INTEGER iv;
        iv.QuadPart = -20000; /* 2 ms */
        KeDelayExecutionThread(KernelMode, FALSE, &iv);
    }
    if (me == 0) {
        g.data_ok = ok;
        if (g.cancel_index >= 0)
            g.cancel_done_ret = ksl_stream_srb_cancel(srb[g.cancel_index]); /* completed already */
    }
    if (InterlockedDecrement(&clients_left) == 0) {
        g.st_close = ksl_stream_close(g_pin);
        for (int i = 0; i < n; i++)
            if (g.mode == DM_HOLD && !ksl_stream_srb_done(srb[i]))
                g.st_close = STATUS_UNSUCCESSFUL; /* close should have completed them */
        g.st_stop = ksl_stream_stop(a);
        ksl_stream_get_stats(a, &g.stats);
        KeSetEvent(&all_done, IO_NO_INCREMENT, FALSE);
    } else {
        KeWaitForSingleObject(&all_done, Executive, KernelMode, FALSE, NULL);
    }
    for (int i = 0; i < n; i++)
        ksl_stream_srb_free(srb[i]);
}

static void setup(ksl_engine *e, void *arg)
{
    (void)arg;
    g_format.MajorFormat = fmt_major;
    ksl_stream_resources res = {0};
    if (g.with_port || g.isr) {
        ksl_irqdev_attach(&g.dev, e, DEV_BASE, DEV_LINE, 0);
        res.port_base = DEV_BASE;
        res.port_size = KSL_IRQDEV_SIZE;
    }
    if (g.isr) {
        res.has_interrupt = true;
        res.irq_line = DEV_LINE;
        res.irql = DEV_IRQL;
    }
    char err[256];
    g.a = ksl_stream_create(e, fake_entry, &res, NULL, err, sizeof err);
    if (!g.a) {
        fprintf(stderr, "create: %s\n", err);
        return;
    }
    KeInitializeEvent(&opened, NotificationEvent, FALSE);
    KeInitializeEvent(&all_done, NotificationEvent, FALSE);
    clients_left = g.nclients;
    static const char *const names[] = {"client0", "client1", "client2", "client3"};
    for (int i = 0; i < g.nclients && i < 4; i++)
        ksl_thread_create(e, names[i], client_main, (void *)(uintptr_t)i);
}

static void teardown(ksl_engine *e, void *arg)
{
    (void)e, (void)arg;
    ksl_stream_destroy(g.a);
    g.a = NULL;
}

static void reset(void)
{
    memset(&g, 0, sizeof g);
    g.nclients = 1;
    g.nsrbs = 4;
    g.cancel_index = -1;
    g.cancel_queued_index = -1;
}

static run_out run(uint64_t seed, uint32_t cpus)
{
    ksl_config cfg = cfg_with(seed, cpus);
    return run_scenario_td(&cfg, setup, teardown, NULL);
}

static void assert_lifecycle(void)
{
    assert_int_equal(g.st_start, STATUS_SUCCESS);
    assert_int_equal(g.st_open, STATUS_SUCCESS);
    assert_int_equal(g.st_state, STATUS_SUCCESS);
    assert_int_equal(g.got_state, KSSTATE_RUN);
    assert_int_equal(g.st_close, STATUS_SUCCESS);
    assert_int_equal(g.st_stop, STATUS_SUCCESS);
}

/* ---- tests ------------------------------------------------------------------------------------ */

/* Synchronization on with an ISR: every entry point and the ISR at the DIRQL holding the
 * interrupt lock, never two at once, one data request with the minidriver at a time. */
static void test_sync_isr(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= 20; seed++) {
        reset();
        g.isr = true;
        g.mode = DM_HOLD_ISR;
        g.stall_us = 2;
        run_out o = run(seed, 2);
        assert_clean(o);
        assert_lifecycle();
        assert_int_equal(g.st_open_bad, STATUS_NO_MATCH);
        assert_int_equal(g.cfg_ranges, 1);
        assert_int_equal(g.cfg_port, DEV_BASE);
        assert_int_equal(g.cfg_level, DEV_IRQL);
        assert_int_equal(g.cfg_vector, DEV_LINE);
        for (int e = KSL_STRM_E_DEVICE; e <= KSL_STRM_E_CONTROL; e++) {
            assert_true(g.calls[e] > 0);
            assert_int_equal(g.irql_min[e], DEV_IRQL);
            assert_int_equal(g.irql_max[e], DEV_IRQL);
        }
        assert_int_equal(g.calls[KSL_STRM_E_ISR], 4);
        assert_int_equal(g.irql_min[KSL_STRM_E_ISR], DEV_IRQL);
        assert_int_equal(g.lock_wrong, 0);
        assert_int_equal(g.max_inside, 1);
        assert_int_equal(g.max_held, 1); /* the ISR signals ReadyForNext: one at a time */
        assert_int_equal(g.calls[KSL_STRM_E_DATA], 4);
        for (int i = 0; i < 4; i++)
            assert_int_equal(g.st[0][i], STATUS_SUCCESS);
        assert_true(g.data_ok);
        assert_int_equal(g.stats.srbs_completed, g.stats.srbs_submitted);
        assert_int_equal(g.stats.entry[KSL_STRM_E_ISR].calls, 4);
        assert_int_equal(g.stats.entry[KSL_STRM_E_DATA].max_irql, DEV_IRQL);
        assert_int_equal(g.stats.max_outstanding, 1);
        run_out_free(&o);
    }
}

/* Synchronization on, no ISR: at DISPATCH_LEVEL under the class lock; the timer routine too. */
static void test_sync_no_isr(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= 20; seed++) {
        reset();
        g.mode = DM_HOLD_TIMER;
        g.stall_us = 2;
        run_out o = run(seed, 2);
        assert_clean(o);
        assert_lifecycle();
        assert_int_equal(g.cfg_ranges, 0);
        for (int e = KSL_STRM_E_DEVICE; e <= KSL_STRM_E_CONTROL; e++) {
            assert_int_equal(g.irql_min[e], DISPATCH_LEVEL);
            assert_int_equal(g.irql_max[e], DISPATCH_LEVEL);
        }
        assert_int_equal(g.timer_irql, DISPATCH_LEVEL);
        assert_int_equal(g.lock_wrong, 0);
        assert_int_equal(g.max_inside, 1);
        /* The minidriver signals ReadyForNext only from the timer, after completing: the class
         * never sent a second data request while one was held. */
        assert_int_equal(g.max_held, 1);
        assert_true(g.data_ok);
        run_out_free(&o);
    }
}

/* One request per queue until ReadyForNext: a minidriver that never signals it gets one data
 * SRB; the others wait in the class (and close cancels them all). */
static void test_one_outstanding_until_ready(void **state)
{
    (void)state;
    reset();
    g.isr = true;
    g.mode = DM_HOLD;
    g.ready_on_hold = false;
    run_out o = run(1, 2);
    assert_clean(o);
    assert_lifecycle();
    assert_int_equal(g.calls[KSL_STRM_E_DATA], 1);
    assert_int_equal(g.max_held, 1);
    assert_int_equal(g.stats.srbs_cancelled, 3); /* queued: completed by the class at close */
    assert_int_equal(g.stats.cancel_calls, 1);   /* held: HwCancelPacket */
    run_out_free(&o);
    /* With ReadyForNext on every request the minidriver gets them all. */
    reset();
    g.isr = true;
    g.mode = DM_HOLD;
    g.ready_on_hold = true;
    o = run(1, 2);
    assert_clean(o);
    assert_int_equal(g.calls[KSL_STRM_E_DATA], 4);
    assert_int_equal(g.max_held, 4);
    assert_int_equal(g.stats.cancel_calls, 4);
    assert_int_equal(g.calls[KSL_STRM_E_CANCEL], 4);
    assert_int_equal(g.irql_min[KSL_STRM_E_CANCEL], DEV_IRQL);
    run_out_free(&o);
}

/* Synchronization off: PASSIVE_LEVEL, in the submitting thread, and on two CPUs two requests
 * are in the minidriver at once for some schedule. */
static void test_sync_off(void **state)
{
    (void)state;
    int overlapped = 0;
    for (uint64_t seed = 1; seed <= 40; seed++) {
        reset();
        g.sync_off = true;
        g.mode = DM_COMPLETE;
        g.nclients = 2;
        g.nsrbs = 3;
        g.stall_us = 5;
        run_out o = run(seed, 2);
        assert_clean(o);
        assert_lifecycle();
        for (int e = KSL_STRM_E_DEVICE; e <= KSL_STRM_E_CONTROL; e++) {
            assert_int_equal(g.irql_min[e], PASSIVE_LEVEL);
            assert_int_equal(g.irql_max[e], PASSIVE_LEVEL);
        }
        assert_int_equal(g.calls[KSL_STRM_E_DATA], 6);
        assert_int_equal(g.ctx_wrong, 0);
        for (int c = 0; c < 2; c++)
            for (int i = 0; i < 3; i++)
                assert_int_equal(g.st[c][i], STATUS_SUCCESS);
        if (g.max_inside > 1)
            overlapped++;
        run_out_free(&o);
    }
    assert_true(overlapped > 0);
}

/* Synchronization off: HwCancelPacket at DISPATCH_LEVEL. */
static void test_sync_off_cancel(void **state)
{
    (void)state;
    reset();
    g.sync_off = true;
    g.mode = DM_HOLD;
    g.nsrbs = 2;
    g.cancel_index = 1;
    run_out o = run(3, 2);
    assert_clean(o);
    assert_lifecycle();
    assert_true(g.cancel_ret);
    assert_false(g.cancel_done_ret);
    assert_int_equal(g.st[0][1], STATUS_CANCELLED);
    assert_int_equal(g.irql_min[KSL_STRM_E_CANCEL], DISPATCH_LEVEL);
    assert_int_equal(g.irql_max[KSL_STRM_E_CANCEL], DISPATCH_LEVEL);
    assert_int_equal(g.calls[KSL_STRM_E_DATA], 2); /* both went down at once */
    run_out_free(&o);
}

/* Cancel with synchronization on: a held SRB gets HwCancelPacket at the DIRQL; a queued one
 * completes with STATUS_CANCELLED without the minidriver seeing it. */
static void test_cancel(void **state)
{
    (void)state;
    reset();
    g.isr = true;
    g.mode = DM_HOLD;
    g.ready_on_hold = true;
    g.ready_on_hold_limit = 2; /* the 2nd held: no ReadyForNext, the 3rd stays queued */
    g.nsrbs = 3;
    g.cancel_index = 0;
    g.cancel_queued_index = 2;
    run_out o = run(2, 2);
    assert_clean(o);
    assert_lifecycle();
    assert_true(g.cancel_ret);
    assert_true(g.cancel_queued_ret);
    assert_false(g.cancel_done_ret);
    assert_int_equal(g.st[0][0], STATUS_CANCELLED);
    assert_int_equal(g.st[0][2], STATUS_CANCELLED);
    assert_int_equal(g.stats.srbs_cancelled, 1);
    assert_int_equal(g.stats.cancel_calls, 2); /* #0 by the client, #1 by close */
    assert_int_equal(g.irql_min[KSL_STRM_E_CANCEL], DEV_IRQL);
    assert_int_equal(g.calls[KSL_STRM_E_DATA], 2);
    run_out_free(&o);
}

/* StreamClassCallAtNewPriority: Dispatch in a DPC at DISPATCH_LEVEL holding nothing; High at the
 * DIRQL holding the interrupt lock; Low on a worker thread at PASSIVE_LEVEL; LowToHigh back at
 * the DIRQL.  Without an ISR High is DISPATCH_LEVEL under the class lock. */
static void test_priorities(void **state)
{
    (void)state;
    for (int isr = 1; isr >= 0; isr--) {
        for (uint64_t seed = 1; seed <= 5; seed++) {
            reset();
            g.isr = isr;
            g.mode = DM_PRIORITY;
            g.nsrbs = 2;
            run_out o = run(seed, 2);
            assert_clean(o);
            assert_lifecycle();
            uint8_t high = isr ? DEV_IRQL : DISPATCH_LEVEL;
            for (int k = 0; k < 4; k++)
                assert_int_equal(g.pr_ran[k], 2);
            assert_int_equal(g.pr_irql[0], DISPATCH_LEVEL);
            assert_int_equal(g.pr_locks[0], 0);
            assert_non_null(strstr(g.pr_ctx[0], "DPC"));
            assert_int_equal(g.pr_irql[1], high);
            assert_int_equal(g.pr_locks[1], 1);
            assert_int_equal(g.pr_irql[2], PASSIVE_LEVEL);
            assert_int_equal(g.pr_locks[2], 0);
            assert_non_null(strstr(g.pr_ctx[2], "work item"));
            assert_int_equal(g.pr_irql[3], high);
            assert_int_equal(g.pr_locks[3], 1);
            assert_int_equal(g.st[0][0], STATUS_SUCCESS);
            assert_int_equal(g.st[0][1], STATUS_SUCCESS);
            assert_true(g.data_ok);
            assert_int_equal(g.stats.entry[KSL_STRM_E_LOW].calls, 2);
            assert_int_equal(g.stats.entry[KSL_STRM_E_DISPATCH].calls, 2);
            assert_int_equal(g.stats.entry[KSL_STRM_E_HIGH].calls, 4);
            run_out_free(&o);
        }
    }
}

/* A second Dispatch routine while one is pending: S3.callatnewpriority-pending. */
static void test_priority_pending(void **state)
{
    (void)state;
    reset();
    g.isr = true;
    g.mode = DM_PRIO_TWICE;
    run_out o = run(1, 2);
    assert_rule(o, "S3.callatnewpriority-pending");
    assert_non_null(strstr(o.message, "Dispatch"));
    run_out_free(&o);
}

/* StreamClassScheduleTimer: fires after the virtual delay; a new schedule replaces the pending
 * one; 0 us cancels.  With synchronization on and an ISR, at the DIRQL. */
static void test_timer(void **state)
{
    (void)state;
    reset();
    g.isr = true;
    g.mode = DM_COMPLETE;
    g.scenario = 1;
    g.nsrbs = 1;
    run_out o = run(1, 2);
    assert_clean(o);
    assert_lifecycle();
    assert_int_equal(g.fired[0], 0); /* replaced */
    assert_int_equal(g.fired[1], 1);
    assert_int_equal(g.fired[2], 0); /* cancelled */
    ULONGLONG dt = g.t_fire[1] - g.t_sched;
    assert_true(dt >= 2500);          /* 250 us in 100 ns units */
    assert_true(dt < 2500 + 500);
    assert_int_equal(g.timer_irql, DEV_IRQL);
    run_out_free(&o);
}

/* An SRB whose TimeoutCounter runs out: HwRequestTimeoutHandler, at the DIRQL, after about that
 * many seconds of virtual time. */
static void test_timeout(void **state)
{
    (void)state;
    reset();
    g.isr = true;
    g.mode = DM_HOLD;
    g.nsrbs = 1;
    g.timeout_s = 2;
    run_out o = run(1, 2);
    assert_clean(o);
    assert_lifecycle();
    assert_int_equal(g.calls[KSL_STRM_E_TIMEOUT], 1);
    assert_int_equal(g.irql_min[KSL_STRM_E_TIMEOUT], DEV_IRQL);
    assert_int_equal(g.st[0][0], STATUS_IO_TIMEOUT);
    ULONGLONG dt = g.t_done - g.t_submit;
    assert_true(dt >= 10000000ull); /* more than 1 s: counted down from 2 at 1 s ticks */
    assert_true(dt <= 20000000ull + 10000ull);
    assert_int_equal(g.stats.timeouts, 1);
    run_out_free(&o);
}

/* StreamClassAbortOutstandingRequests from the ISR: the held SRBs and the queued one complete with
 * the status, and the queue is ready again. */
static void test_abort(void **state)
{
    (void)state;
    reset();
    g.isr = true;
    g.mode = DM_ABORT_ISR;
    g.hold_before_abort = 3;
    g.nsrbs = 4;
    run_out o = run(1, 2);
    assert_clean(o);
    assert_lifecycle();
    assert_int_equal(g.abort_done, 1);
    for (int i = 0; i < 4; i++)
        assert_int_equal(g.st[0][i], STATUS_IO_DEVICE_ERROR);
    assert_int_equal(g.stats.srbs_aborted, 4);
    assert_int_equal(g.calls[KSL_STRM_E_DATA], 3); /* the 4th never reached the minidriver */
    run_out_free(&o);
}

/* Protocol findings. */
static void test_completed_twice(void **state)
{
    (void)state;
    reset();
    g.isr = true;
    g.mode = DM_DOUBLE;
    run_out o = run(1, 2);
    assert_rule(o, "S1.srb-completed-twice");
    assert_non_null(strstr(o.message, "SRB_READ_DATA"));
    run_out_free(&o);
}

static void test_ready_twice(void **state)
{
    (void)state;
    reset();
    g.mode = DM_READY_TWICE;
    run_out o = run(1, 2);
    assert_rule(o, "S1.ready-for-next-twice");
    run_out_free(&o);
}

static void test_not_completed_at_close(void **state)
{
    (void)state;
    reset();
    g.isr = true;
    g.mode = DM_HOLD;
    g.cancel_ignores = true;
    g.nsrbs = 1;
    run_out o = run(1, 2);
    assert_rule(o, "S1.srb-not-completed-at-close");
    run_out_free(&o);
}

/* The catalog knows every S<n>. id the class reports. */
static void test_catalog(void **state)
{
    (void)state;
    const char *ids[] = {"S1.srb-completed-twice", "S1.srb-completed-not-owned", "S1.notification-bad-argument",
                         "S1.ready-for-next-twice", "S3.callatnewpriority-pending", "S1.srb-not-completed-at-close"};
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
        const ksl_rule *r = ksl_rule_find(ids[i]);
        assert_non_null(r);
        size_t k = strlen(r->rule); /* "S1", "S3": the id is "<rule>.<name>" */
        assert_int_equal(k, 2);
        assert_true(r->rule[0] == 'S');
        assert_memory_equal(ids[i], r->rule, k);
        assert_int_equal(ids[i][k], '.');
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sync_isr),
        cmocka_unit_test(test_sync_no_isr),
        cmocka_unit_test(test_one_outstanding_until_ready),
        cmocka_unit_test(test_sync_off),
        cmocka_unit_test(test_sync_off_cancel),
        cmocka_unit_test(test_cancel),
        cmocka_unit_test(test_priorities),
        cmocka_unit_test(test_priority_pending),
        cmocka_unit_test(test_timer),
        cmocka_unit_test(test_timeout),
        cmocka_unit_test(test_abort),
        cmocka_unit_test(test_completed_twice),
        cmocka_unit_test(test_ready_twice),
        cmocka_unit_test(test_not_completed_at_close),
        cmocka_unit_test(test_catalog),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
