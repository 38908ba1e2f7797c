/* SPDX-License-Identifier: MIT */
/*
 * S8.unsynchronized-shared-state (src/stream/selfsync.c): with class synchronization off, two
 * client threads submit read SRBs to one pin, so the minidriver's ReceiveDataPacket runs in both
 * at once and bumps a counter in the device extension.  Guarded by a spin lock, a fast mutex, a
 * synchronization event used as a lock, or touched only through Interlocked operations, it is
 * clean; unguarded, or Interlocked on one side and plain on the other, it is the finding, which
 * names both writers and shows their events.
 */
#include "harness.h"

#include <kslab/stream.h>
#include <kslab/wdk/strmini.h>

#include <stdio.h>
#include <string.h>

#define PER_CLIENT 6

enum guard { G_NONE, G_SPIN, G_MUTEX, G_EVENT, G_INTERLOCKED, G_MIXED };

typedef struct sdx {
    KSPIN_LOCK spin;
    FAST_MUTEX mutex;
    KEVENT gate;         /* a synchronization event, signalled: a lock */
    LONG count;          /* what both clients' requests bump */
} sdx;

static struct {
    enum guard guard;
    ksl_stream_adapter *a;
    ksl_stream_pin *pin;
    KEVENT opened, done1;
    LONG completed;
} g;

static void bump(sdx *dx)
{
    KIRQL old;
    switch (g.guard) {
    case G_NONE:
        dx->count++;
        break;
    case G_SPIN:
        KeAcquireSpinLock(&dx->spin, &old);
        dx->count++;
        KeReleaseSpinLock(&dx->spin, old);
        break;
    case G_MUTEX:
        ExAcquireFastMutex(&dx->mutex);
        dx->count++;
        ExReleaseFastMutex(&dx->mutex);
        break;
    case G_EVENT:
        KeWaitForSingleObject(&dx->gate, Executive, KernelMode, FALSE, NULL);
        dx->count++;
        KeSetEvent(&dx->gate, IO_NO_INCREMENT, FALSE);
        break;
    case G_INTERLOCKED:
        InterlockedIncrement(&dx->count);
        break;
    case G_MIXED: /* one client's side atomic, the other's plain */
        if (strstr(ksl_context_name(), "client 1"))
            InterlockedIncrement(&dx->count);
        else
            dx->count++;
        break;
    }
}

static VOID STREAMAPI receive_data(PHW_STREAM_REQUEST_BLOCK srb)
{
    bump(srb->HwDeviceExtension);
    srb->Status = STATUS_SUCCESS;
    InterlockedIncrement(&g.completed);
    StreamClassStreamNotification(StreamRequestComplete, srb->StreamObject, srb);
}

static VOID STREAMAPI receive_control(PHW_STREAM_REQUEST_BLOCK srb)
{
    srb->Status = srb->Command == SRB_SET_STREAM_STATE || srb->Command == SRB_GET_STREAM_STATE
                      ? STATUS_SUCCESS
                      : STATUS_NOT_IMPLEMENTED;
    StreamClassStreamNotification(StreamRequestComplete, srb->StreamObject, srb);
}

static VOID STREAMAPI receive_packet(PHW_STREAM_REQUEST_BLOCK srb)
{
    sdx *dx = srb->HwDeviceExtension;
    srb->Status = STATUS_SUCCESS;
    switch (srb->Command) {
    case SRB_INITIALIZE_DEVICE:
        KeInitializeSpinLock(&dx->spin);
        ExInitializeFastMutex(&dx->mutex);
        KeInitializeEvent(&dx->gate, SynchronizationEvent, TRUE);
        srb->CommandData.ConfigInfo->StreamDescriptorSize =
            sizeof(HW_STREAM_HEADER) + sizeof(HW_STREAM_INFORMATION);
        break;
    case SRB_GET_STREAM_INFO: {
        PHW_STREAM_HEADER h = &srb->CommandData.StreamBuffer->StreamHeader;
        h->NumberOfStreams = 1;
        h->SizeOfHwStreamInformation = sizeof(HW_STREAM_INFORMATION);
        PHW_STREAM_INFORMATION info = (PHW_STREAM_INFORMATION)(h + 1);
        info->NumberOfPossibleInstances = 1;
        info->DataFlow = KSPIN_DATAFLOW_OUT;
        info->DataAccessible = TRUE;
        break;
    }
    case SRB_OPEN_STREAM:
        srb->StreamObject->ReceiveDataPacket = receive_data;
        srb->StreamObject->ReceiveControlPacket = receive_control;
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
}

static VOID STREAMAPI cancel_packet(PHW_STREAM_REQUEST_BLOCK srb)
{
    (void)srb;
}

static VOID STREAMAPI timeout_handler(PHW_STREAM_REQUEST_BLOCK srb)
{
    (void)srb;
}

static NTSTATUS entry(PVOID Argument1, PVOID Argument2)
{
    HW_INITIALIZATION_DATA init;
    RtlZeroMemory(&init, sizeof init);
    init.HwInitializationDataSize = sizeof init;
    init.HwReceivePacket = receive_packet;
    init.HwCancelPacket = cancel_packet;
    init.HwRequestTimeoutHandler = timeout_handler;
    init.DeviceExtensionSize = sizeof(sdx);
    init.TurnOffSynchronization = TRUE;
    return StreamClassRegisterMinidriver(Argument1, Argument2, &init);
}

/* Submit PER_CLIENT read SRBs, 20 us apart, and wait for them. */
static void submit_some(void)
{
    PHW_STREAM_REQUEST_BLOCK srb[PER_CLIENT];
    for (int i = 0; i < PER_CLIENT; i++) {
        LARGE_INTEGER gap = {.QuadPart = -200};
        KeDelayExecutionThread(KernelMode, FALSE, &gap);
        srb[i] = ksl_stream_srb_alloc(g.pin, SRB_READ_DATA, 64);
        ksl_stream_srb_submit(srb[i]);
    }
    for (int i = 0; i < PER_CLIENT; i++) {
        ksl_stream_srb_wait(srb[i]);
        ksl_stream_srb_free(srb[i]);
    }
}

static void client0(void *arg)
{
    (void)arg;
    if (!NT_SUCCESS(ksl_stream_start(g.a)) || !NT_SUCCESS(ksl_stream_open(g.a, 0, NULL, &g.pin)))
        return;
    ksl_stream_set_state(g.pin, KSSTATE_RUN);
    KeSetEvent(&g.opened, IO_NO_INCREMENT, FALSE);
    submit_some();
    KeWaitForSingleObject(&g.done1, Executive, KernelMode, FALSE, NULL);
    ksl_stream_set_state(g.pin, KSSTATE_STOP);
    ksl_stream_close(g.pin);
    ksl_stream_stop(g.a);
}

static void client1(void *arg)
{
    (void)arg;
    KeWaitForSingleObject(&g.opened, Executive, KernelMode, FALSE, NULL);
    submit_some();
    KeSetEvent(&g.done1, IO_NO_INCREMENT, FALSE);
}

static void setup(ksl_engine *e, void *arg)
{
    (void)arg;
    ksl_stream_resources res = {0};
    char err[256];
    g.a = ksl_stream_create(e, entry, &res, NULL, err, sizeof err);
    if (!g.a)
        fail_msg("create: %s", err);
    KeInitializeEvent(&g.opened, NotificationEvent, FALSE);
    KeInitializeEvent(&g.done1, NotificationEvent, FALSE);
    ksl_thread_create(e, "client 0", client0, NULL);
    ksl_thread_create(e, "client 1", client1, NULL);
}

static void teardown(ksl_engine *e, void *arg)
{
    (void)e, (void)arg;
    ksl_stream_destroy(g.a);
    g.a = NULL;
}

static run_out run(enum guard guard, uint64_t seed)
{
    memset(&g, 0, sizeof g);
    g.guard = guard;
    ksl_config cfg = cfg_with(seed, 2);
    return run_scenario_td(&cfg, setup, teardown, NULL);
}

static void test_guarded_clean(void **state)
{
    (void)state;
    static const enum guard clean[] = {G_SPIN, G_MUTEX, G_EVENT, G_INTERLOCKED};
    for (size_t k = 0; k < sizeof clean / sizeof clean[0]; k++)
        for (uint64_t seed = 1; seed <= 8; seed++) {
            run_out o = run(clean[k], seed);
            if (o.rule[0])
                fail_msg("guard %zu, seed %llu: %s: %s", k, (unsigned long long)seed, o.rule, o.message);
            assert_clean(o);
            assert_int_equal(g.completed, 2 * PER_CLIENT);
            run_out_free(&o);
        }
}

static void test_unguarded_caught(void **state)
{
    (void)state;
    static const enum guard racy[] = {G_NONE, G_MIXED};
    for (size_t k = 0; k < sizeof racy / sizeof racy[0]; k++)
        for (uint64_t seed = 1; seed <= 8; seed++) {
            run_out o = run(racy[k], seed);
            assert_rule(o, "S8.unsynchronized-shared-state");
            assert_non_null(strstr(o.message, "with class synchronization off, bytes +0x"));
            assert_non_null(strstr(o.message, "of the device extension"));
            assert_non_null(strstr(o.message, "thread 'client 0'"));
            assert_non_null(strstr(o.message, "thread 'client 1'"));
            assert_non_null(strstr(o.message, "test_selfsync.c"));
            /* The events shown are the two writers' own, not the last few of anyone. */
            assert_non_null(strstr(o.detail, "  events of thread 'client "));
            assert_non_null(strstr(o.detail, " and thread 'client "));
            assert_null(strstr(o.detail, "events leading to it"));
            assert_int_equal(g.completed, 2 * PER_CLIENT); /* recorded, and the run went on */
            run_out_free(&o);
        }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_guarded_clean),
        cmocka_unit_test(test_unguarded_caught),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
