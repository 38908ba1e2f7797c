/* SPDX-License-Identifier: MIT */
/*
 * The streaming device models on the threaded engine (label `threaded`: the TSan build runs it):
 * a client polls the FIFO capture device and copies frames by PIO while the lower bus completes
 * requests from its timer DPC on another virtual CPU.  Everything the DPC records is read by the
 * client only after an event the DPC set, and asserted after the run.
 */
#include "harness.h"

#include <string.h>

#include <kslab/hw/fifocap.h>
#include <kslab/hw/lowerbus.h>
#include <kslab/wdk/wdm.h>

#define FC_BASE 0xC000u
#define FC(r) (FC_BASE + (r))
#define NFRAMES 6u
#define NREQS 6u
#define FRAME_BYTES 1024u

typedef struct fx {
    ksl_fifocap *fc;
    ksl_lowerbus *bus;
    KEVENT ev;
    ksl_lowerbus_req *req[NREQS];
    uint8_t frames[NFRAMES][FRAME_BYTES];
    uint8_t bus_frames[NREQS][256];
    ksl_status bus_status[NREQS];
    uint8_t bus_irql[NREQS];
    volatile int32_t ndone;
    run_out o;
    ksl_fifocap_stats fst;
    ksl_lowerbus_stats bst;
} fx;

static void bus_done(ksl_lowerbus_req *req, void *ctx)
{
    fx *f = ctx;
    for (uint32_t k = 0; k < NREQS; k++)
        if (f->req[k] == req) {
            f->bus_status[k] = req->status;
            f->bus_irql[k] = KeGetCurrentIrql();
            memcpy(f->bus_frames[k], req->buffer, 256);
        }
    if (InterlockedIncrement(&f->ndone) == (LONG)NREQS)
        KeSetEvent(&f->ev, IO_NO_INCREMENT, FALSE);
}

static void client(void *arg)
{
    fx *f = arg;
    for (uint32_t i = 0; i < NREQS; i++) {
        f->req[i] = ksl_lowerbus_req_alloc(f->bus, 256);
        f->req[i]->done = bus_done;
        f->req[i]->context = f;
        ksl_lowerbus_submit(f->bus, f->req[i]);
    }
    WRITE_PORT_ULONG(FC(KSL_FIFOCAP_CONTROL), KSL_FIFOCAP_CTL_RUN);
    for (uint32_t i = 0; i < NFRAMES; i++) {
        while (!(READ_PORT_ULONG(FC(KSL_FIFOCAP_STATUS)) & KSL_FIFOCAP_ST_READY)) {
            LARGE_INTEGER iv;
            iv.QuadPart = -100;
            KeDelayExecutionThread(KernelMode, FALSE, &iv);
        }
        for (uint32_t k = 0; k < FRAME_BYTES; k += 4) {
            ULONG w = READ_PORT_ULONG(FC(KSL_FIFOCAP_DATA));
            memcpy(&f->frames[i][k], &w, 4);
        }
    }
    WRITE_PORT_ULONG(FC(KSL_FIFOCAP_CONTROL), 0);
    KeWaitForSingleObject(&f->ev, Executive, KernelMode, FALSE, NULL);
    for (uint32_t i = 0; i < NREQS; i++)
        ksl_lowerbus_req_free(f->bus, f->req[i]);
}

static void setup(ksl_engine *e, void *arg)
{
    fx *f = arg;
    char err[160] = "";
    ksl_fifocap_config fc;
    ksl_fifocap_config_default(&fc);
    fc.frame_bytes = FRAME_BYTES;
    fc.frame_ns = 500000;
    f->fc = ksl_fifocap_create(e, FC_BASE, &fc, err, sizeof err);
    assert_non_null(f->fc);
    f->bus = ksl_lowerbus_create(e, NULL, err, sizeof err);
    assert_non_null(f->bus);
    KeInitializeEvent(&f->ev, NotificationEvent, FALSE);
    ksl_thread_create(e, "client", client, f);
}

static void teardown(ksl_engine *e, void *arg)
{
    (void)e;
    fx *f = arg;
    ksl_fifocap_get_stats(f->fc, &f->fst);
    ksl_lowerbus_get_stats(f->bus, &f->bst);
}

static void test_threaded_fifocap_and_lowerbus(void **state)
{
    (void)state;
    static fx f;
    memset(&f, 0, sizeof f);
    ksl_config c = cfg_with(5, 2);
    c.engine = KSL_ENGINE_THREADED;
    f.o = run_scenario_td(&c, setup, teardown, &f);
    assert_clean(f.o);
    /* Frames in order; a slow host may make the device drop some: gaps, never damage. */
    ksl_frame_seq s;
    ksl_frame_seq_init(&s, 0);
    for (uint32_t i = 0; i < NFRAMES; i++)
        assert_int_equal(ksl_frame_seq_push(&s, KSL_FIFOCAP_MAGIC, f.frames[i], FRAME_BYTES), KSL_FRAME_OK);
    assert_int_equal(s.disorder, 0);
    assert_true(s.missing <= f.fst.frames_dropped);
    for (uint32_t i = 0; i < NREQS; i++) {
        uint32_t n = 99;
        assert_int_equal(f.bus_status[i], KSL_STATUS_SUCCESS);
        assert_int_equal(f.bus_irql[i], DISPATCH_LEVEL);
        assert_int_equal(ksl_lowerbus_check_frame(f.bus_frames[i], 256, &n), KSL_FRAME_OK);
        assert_int_equal(n, i);
    }
    assert_int_equal(f.bst.completed, NREQS);
    run_out_free(&f.o);
    ksl_fifocap_destroy(f.fc);
    ksl_lowerbus_destroy(f.bus);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_threaded_fifocap_and_lowerbus),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
