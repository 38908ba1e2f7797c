/* SPDX-License-Identifier: MIT */
/*
 * The streaming device models (src/hw/fifocap.c, polldev.c, lowerbus.c, frame.c), driven the
 * way a driver drives them: register accesses from a PASSIVE client thread, an ISR connected
 * with IoConnectInterrupt, a KTIMER DPC that polls, lower-bus requests completed in the bus's DPC.
 * Checks arrival times in virtual time, the cost of PIO copies, interrupt and acknowledge
 * semantics, over-run (whole frames dropped, seen as gaps), the data bit for bit, the lower bus's
 * protocol findings and determinism.
 *
 * Values seen inside the run are recorded in the fixture and asserted after it (cmocka
 * assertions must not run on the engine's coroutine stacks).
 */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kslab/hw/fifocap.h>
#include <kslab/hw/frame.h>
#include <kslab/hw/lowerbus.h>
#include <kslab/hw/polldev.h>
#include <kslab/wdk/wdm.h>

#define FC_BASE 0xC000u
#define PD_BASE 0xD000u
#define FC_LINE 6u
#define FC_IRQL 10
#define FC(r) (FC_BASE + (r))
#define PD(r) (PD_BASE + (r))
#define SLACK_NS 20000u /* interrupt and DPC delivery after the event that caused them */
#define MAXF 16
#define MAXBYTES 4096u
#define NV 32

typedef struct fx fx;
typedef void body_fn(fx *f);

struct fx {
    /* Chosen by the test. */
    body_fn *body;
    ksl_fifocap_config fcfg;
    ksl_polldev_config pcfg;
    ksl_lowerbus_config bcfg;
    bool fifocap, polldev, lowerbus, isr;
    bool threaded;
    uint64_t seed;
    /* Built by the setup. */
    ksl_fifocap *fc;
    ksl_polldev *pd;
    ksl_lowerbus *bus;
    PKINTERRUPT intr;
    KDPC dpc;
    KTIMER timer;
    KEVENT ev;
    /* Recorded inside the run. */
    int32_t isr_runs;
    uint32_t isr_status[MAXF];
    uint64_t isr_time[MAXF];
    uint64_t t_run;
    uint64_t copy_ns[MAXF];
    uint8_t frames[MAXF][MAXBYTES];
    uint32_t nframes;
    uint32_t want;          /* frames (or completions) the DPC or completion collects */
    uint8_t done_irql[MAXF];
    uint64_t done_time[MAXF];
    uint64_t sub_time[MAXF];
    ksl_status done_status[MAXF];
    uint32_t done_frame[MAXF];
    uint32_t v[NV];
    ksl_lowerbus_req *req[MAXF];
    /* After the run. */
    run_out o;
    ksl_fifocap_stats fst;
    ksl_polldev_stats pst;
    ksl_lowerbus_stats bst;
};

/* ---- fixture ------------------------------------------------------------------------------ */

/* The ISR: claim by STATUS, acknowledge what it saw, queue the DPC that wakes the client. */
static BOOLEAN fc_isr(PKINTERRUPT intr, PVOID ctx)
{
    (void)intr;
    fx *f = ctx;
    ULONG st = READ_PORT_ULONG(FC(KSL_FIFOCAP_STATUS));
    if (!(st & KSL_FIFOCAP_ST_W1C))
        return FALSE;
    if (f->isr_runs < MAXF) {
        f->isr_status[f->isr_runs] = st;
        f->isr_time[f->isr_runs] = ksl_time_now();
    }
    f->isr_runs++;
    WRITE_PORT_ULONG(FC(KSL_FIFOCAP_INT_ACK), st & KSL_FIFOCAP_ST_W1C);
    KeInsertQueueDpc(&f->dpc, NULL, NULL);
    return TRUE;
}

static void wake_dpc(PKDPC dpc, PVOID ctx, PVOID a1, PVOID a2)
{
    (void)dpc;
    (void)a1;
    (void)a2;
    fx *f = ctx;
    KeSetEvent(&f->ev, IO_NO_INCREMENT, FALSE);
}

static void fx_thread(void *arg)
{
    fx *f = arg;
    f->body(f);
}

static void fx_setup(ksl_engine *e, void *arg)
{
    fx *f = arg;
    char err[160] = "";
    if (f->fifocap) {
        f->fc = ksl_fifocap_create(e, FC_BASE, &f->fcfg, err, sizeof err);
        assert_non_null(f->fc);
    }
    if (f->polldev) {
        f->pd = ksl_polldev_create(e, PD_BASE, &f->pcfg, err, sizeof err);
        assert_non_null(f->pd);
    }
    if (f->lowerbus) {
        f->bus = ksl_lowerbus_create(e, &f->bcfg, err, sizeof err);
        assert_non_null(f->bus);
    }
    KeInitializeEvent(&f->ev, SynchronizationEvent, FALSE);
    KeInitializeDpc(&f->dpc, wake_dpc, f);
    if (f->isr)
        assert_int_equal(IoConnectInterrupt(&f->intr, fc_isr, f, NULL, FC_LINE, FC_IRQL, FC_IRQL, LevelSensitive,
                                            FALSE, 0, FALSE),
                         STATUS_SUCCESS);
    ksl_thread_create(e, "client", fx_thread, f);
}

static void fx_teardown(ksl_engine *e, void *arg)
{
    (void)e;
    fx *f = arg;
    if (f->fc)
        ksl_fifocap_get_stats(f->fc, &f->fst);
    if (f->pd)
        ksl_polldev_get_stats(f->pd, &f->pst);
    if (f->bus)
        ksl_lowerbus_get_stats(f->bus, &f->bst);
    if (f->intr) {
        IoDisconnectInterrupt(f->intr);
        f->intr = NULL;
    }
}

static void fx_defaults(fx *f)
{
    ksl_fifocap_config_default(&f->fcfg);
    f->fcfg.line = FC_LINE;
    ksl_polldev_config_default(&f->pcfg);
    ksl_lowerbus_config_default(&f->bcfg);
}

static void fx_run(fx *f)
{
    ksl_config c = cfg_with(f->seed ? f->seed : 1, 2);
    c.engine = f->threaded ? KSL_ENGINE_THREADED : KSL_ENGINE_DETERMINISTIC;
    f->o = run_scenario_td(&c, fx_setup, fx_teardown, f);
}

static void fx_free(fx *f)
{
    run_out_free(&f->o);
    ksl_fifocap_destroy(f->fc);
    ksl_polldev_destroy(f->pd);
    ksl_lowerbus_destroy(f->bus);
}

static void delay_us(LONGLONG us)
{
    LARGE_INTEGER iv;
    iv.QuadPart = -10 * us;
    KeDelayExecutionThread(KernelMode, FALSE, &iv);
}

static void wait_ev(fx *f)
{
    KeWaitForSingleObject(&f->ev, Executive, KernelMode, FALSE, NULL);
}

/* Copy `bytes` from the FIFO by 32-bit PIO into frame slot i; note the time it took. */
static void fc_copy(fx *f, uint32_t i, uint32_t bytes)
{
    uint64_t t0 = ksl_time_now();
    for (uint32_t k = 0; k < bytes; k += 4) {
        ULONG w = READ_PORT_ULONG(FC(KSL_FIFOCAP_DATA));
        memcpy(&f->frames[i][k], &w, 4); /* little-endian host */
    }
    f->copy_ns[i] = ksl_time_now() - t0;
}

/* ---- frame format ------------------------------------------------------------------------- */

static void test_frame_format(void **state)
{
    (void)state;
    static uint8_t a[256], b[256];
    uint32_t n = 0;
    ksl_frame_fill(KSL_FIFOCAP_MAGIC, 42, 7, a, sizeof a);
    assert_int_equal(ksl_fifocap_check_frame(a, sizeof a, &n), KSL_FRAME_OK);
    assert_int_equal(n, 7);
    /* Same inputs, same bytes; another number, another payload. */
    ksl_frame_fill(KSL_FIFOCAP_MAGIC, 42, 7, b, sizeof b);
    assert_memory_equal(a, b, sizeof a);
    ksl_frame_fill(KSL_FIFOCAP_MAGIC, 42, 8, b, sizeof b);
    assert_memory_not_equal(a + KSL_FRAME_HEADER_BYTES, b + KSL_FRAME_HEADER_BYTES, 32);
    /* Wrong device, wrong length, damaged payload, torn frame (two frames' halves). */
    assert_int_equal(ksl_polldev_check_frame(a, sizeof a, NULL), KSL_FRAME_BAD_MAGIC);
    assert_int_equal(ksl_fifocap_check_frame(a, 128, NULL), KSL_FRAME_SHORT);
    assert_int_equal(ksl_fifocap_check_frame(a, 8, NULL), KSL_FRAME_SHORT);
    memcpy(b, a, sizeof a);
    b[100] ^= 1;
    assert_int_equal(ksl_fifocap_check_frame(b, sizeof b, NULL), KSL_FRAME_BAD_CHECKSUM);
    ksl_frame_fill(KSL_FIFOCAP_MAGIC, 42, 8, b, sizeof b);
    memcpy(b + 128, a + 128, 128);
    assert_int_not_equal(ksl_fifocap_check_frame(b, sizeof b, NULL), KSL_FRAME_OK);
    /* The sequence checker: gaps are missing frames, repeats are disorder, damage is bad. */
    ksl_frame_seq s;
    ksl_frame_seq_init(&s, 0);
    for (uint32_t i = 0; i < 6; i++) {
        if (i == 2 || i == 3)
            continue;
        ksl_frame_fill(KSL_LOWERBUS_MAGIC, 9, i, a, 64);
        assert_int_equal(ksl_frame_seq_push(&s, KSL_LOWERBUS_MAGIC, a, 64), KSL_FRAME_OK);
    }
    assert_int_equal(ksl_frame_seq_push(&s, KSL_LOWERBUS_MAGIC, a, 64), KSL_FRAME_OK); /* 5 again */
    a[40] ^= 0x80;
    assert_int_not_equal(ksl_frame_seq_push(&s, KSL_LOWERBUS_MAGIC, a, 64), KSL_FRAME_OK);
    assert_int_equal(s.frames, 4);
    assert_int_equal(s.missing, 2);
    assert_int_equal(s.disorder, 1);
    assert_int_equal(s.bad, 1);
    assert_string_equal(ksl_frame_result_name(KSL_FRAME_BAD_DATA), "bad data");
}

/* ---- fifocap: rate, PIO cost, data -------------------------------------------------------- */

#define RATE_FRAMES 4u

static void body_fc_rate(fx *f)
{
    WRITE_PORT_ULONG(FC(KSL_FIFOCAP_CONTROL), KSL_FIFOCAP_CTL_RUN | KSL_FIFOCAP_CTL_IE_FRAME);
    f->t_run = ksl_time_now();
    for (uint32_t i = 0; i < RATE_FRAMES; i++) {
        wait_ev(f);
        f->v[i] = READ_PORT_ULONG(FC(KSL_FIFOCAP_STATUS));
        fc_copy(f, i, f->fcfg.frame_bytes);
        f->nframes++;
    }
    WRITE_PORT_ULONG(FC(KSL_FIFOCAP_CONTROL), 0);
    f->v[8] = READ_PORT_ULONG(FC(KSL_FIFOCAP_FRAME_COUNT));
    f->v[9] = READ_PORT_ULONG(FC(KSL_FIFOCAP_DROP_COUNT));
    f->v[10] = READ_PORT_ULONG(FC(KSL_FIFOCAP_FIFO_LEVEL));
}

static void fc_rate_fixture(fx *f, uint64_t seed)
{
    memset(f, 0, sizeof *f);
    fx_defaults(f);
    f->body = body_fc_rate;
    f->fifocap = f->isr = true;
    f->fcfg.frame_bytes = 4096;
    f->fcfg.fifo_bytes = 16384;
    f->fcfg.frame_ns = 1000000;
    f->fcfg.seed = 0xF1F0C0DEull;
    f->seed = seed;
}

static void test_fifocap_rate_pio_and_data(void **state)
{
    (void)state;
    static fx f;
    fc_rate_fixture(&f, 3);
    fx_run(&f);
    assert_clean(f.o);
    assert_int_equal(f.nframes, RATE_FRAMES);
    assert_int_equal(f.isr_runs, RATE_FRAMES);
    for (uint32_t i = 0; i < RATE_FRAMES; i++) {
        /* Frame i lands (i + 1) periods after RUN; the ISR follows within the slack. */
        uint64_t due = f.t_run + (i + 1) * f.fcfg.frame_ns;
        assert_true(f.isr_time[i] + KSL_FIFOCAP_ACCESS_NS >= due);
        assert_true(f.isr_time[i] <= due + SLACK_NS);
        assert_true(f.isr_status[i] & KSL_FIFOCAP_ST_FRAME);
        assert_true(f.isr_status[i] & KSL_FIFOCAP_ST_READY);
        assert_int_equal(f.isr_status[i] >> KSL_FIFOCAP_ST_WORDS_SHIFT, 1024);
        /* 1024 reads of 300 ns: 307.2 us, plus scheduling-point steps. */
        assert_true(f.copy_ns[i] >= 1024u * KSL_FIFOCAP_ACCESS_NS);
        assert_true(f.copy_ns[i] <= 1024u * KSL_FIFOCAP_ACCESS_NS + SLACK_NS);
        uint32_t n = 99;
        assert_int_equal(ksl_fifocap_check_frame(f.frames[i], 4096, &n), KSL_FRAME_OK);
        assert_int_equal(n, i);
        /* Bit-exact against the generator. */
        static uint8_t exp[4096];
        ksl_frame_fill(KSL_FIFOCAP_MAGIC, f.fcfg.seed, i, exp, sizeof exp);
        assert_memory_equal(f.frames[i], exp, sizeof exp);
        assert_true(f.v[i] & KSL_FIFOCAP_ST_READY);
    }
    assert_int_equal(f.v[8], RATE_FRAMES);
    assert_int_equal(f.v[9], 0);
    assert_int_equal(f.v[10], 0);
    assert_int_equal(f.fst.frames_captured, RATE_FRAMES);
    assert_int_equal(f.fst.bytes_read, RATE_FRAMES * 4096u);
    assert_int_equal(f.fst.underrun_reads, 0);
    assert_int_equal(f.fst.interrupts, RATE_FRAMES);
    fx_free(&f);
}

/* ---- fifocap: interrupt and acknowledge --------------------------------------------------- */

static void body_fc_irq(fx *f)
{
    uint32_t *v = f->v;
    v[0] = READ_PORT_ULONG(FC(KSL_FIFOCAP_FIFO_SIZE));
    v[1] = READ_PORT_ULONG(FC(KSL_FIFOCAP_FRAME_SIZE));
    /* A frame size written while stopped is taken, a bad one is not. */
    WRITE_PORT_ULONG(FC(KSL_FIFOCAP_FRAME_SIZE), 512);
    WRITE_PORT_ULONG(FC(KSL_FIFOCAP_FRAME_SIZE), 511);
    v[2] = READ_PORT_ULONG(FC(KSL_FIFOCAP_FRAME_SIZE));
    /* Running with the interrupt disabled: the frame latches, the line stays low. */
    WRITE_PORT_ULONG(FC(KSL_FIFOCAP_CONTROL), KSL_FIFOCAP_CTL_RUN);
    WRITE_PORT_ULONG(FC(KSL_FIFOCAP_FRAME_SIZE), 256); /* ignored while running */
    v[3] = READ_PORT_ULONG(FC(KSL_FIFOCAP_FRAME_SIZE));
    delay_us(1500);
    v[4] = READ_PORT_ULONG(FC(KSL_FIFOCAP_STATUS));
    v[5] = (uint32_t)f->isr_runs;
    /* Enabling the interrupt with FRAME latched raises the line: the ISR acknowledges. */
    WRITE_PORT_ULONG(FC(KSL_FIFOCAP_CONTROL), KSL_FIFOCAP_CTL_RUN | KSL_FIFOCAP_CTL_IE_FRAME);
    delay_us(50);
    v[6] = (uint32_t)f->isr_runs;
    v[7] = READ_PORT_ULONG(FC(KSL_FIFOCAP_STATUS)); /* FRAME clear, READY still set */
    /* Disable, let the next frame latch, acknowledge it by hand. */
    WRITE_PORT_ULONG(FC(KSL_FIFOCAP_CONTROL), KSL_FIFOCAP_CTL_RUN);
    delay_us(1000);
    v[8] = READ_PORT_ULONG(FC(KSL_FIFOCAP_STATUS));
    WRITE_PORT_ULONG(FC(KSL_FIFOCAP_INT_ACK), KSL_FIFOCAP_ST_FRAME);
    v[9] = READ_PORT_ULONG(FC(KSL_FIFOCAP_STATUS));
    /* FIFO reset empties it; a read of the empty FIFO returns all ones. */
    v[10] = READ_PORT_ULONG(FC(KSL_FIFOCAP_FIFO_LEVEL));
    WRITE_PORT_ULONG(FC(KSL_FIFOCAP_CONTROL), KSL_FIFOCAP_CTL_FIFO_RESET);
    v[11] = READ_PORT_ULONG(FC(KSL_FIFOCAP_FIFO_LEVEL));
    v[12] = READ_PORT_ULONG(FC(KSL_FIFOCAP_STATUS));
    v[13] = READ_PORT_ULONG(FC(KSL_FIFOCAP_DATA));
    v[14] = READ_PORT_ULONG(FC(KSL_FIFOCAP_CONTROL));
    v[15] = (uint32_t)f->isr_runs;
}

static void test_fifocap_interrupt_ack(void **state)
{
    (void)state;
    static fx f;
    memset(&f, 0, sizeof f);
    fx_defaults(&f);
    f.body = body_fc_irq;
    f.fifocap = f.isr = true;
    fx_run(&f);
    assert_clean(f.o);
    uint32_t *v = f.v;
    assert_int_equal(v[0], KSL_FIFOCAP_DEFAULT_FIFO_BYTES);
    assert_int_equal(v[1], KSL_FIFOCAP_DEFAULT_FRAME_BYTES);
    assert_int_equal(v[2], 512);
    assert_int_equal(v[3], 512);
    assert_int_equal(v[4] & (KSL_FIFOCAP_ST_FRAME | KSL_FIFOCAP_ST_READY | KSL_FIFOCAP_ST_RUNNING),
                     KSL_FIFOCAP_ST_FRAME | KSL_FIFOCAP_ST_READY | KSL_FIFOCAP_ST_RUNNING);
    assert_int_equal(v[4] >> KSL_FIFOCAP_ST_WORDS_SHIFT, 128);
    assert_int_equal(v[5], 0);
    assert_int_equal(v[6], 1);
    assert_int_equal(v[7] & (KSL_FIFOCAP_ST_FRAME | KSL_FIFOCAP_ST_READY), KSL_FIFOCAP_ST_READY);
    assert_int_equal(v[8] & KSL_FIFOCAP_ST_FRAME, KSL_FIFOCAP_ST_FRAME);
    assert_int_equal(v[9] & KSL_FIFOCAP_ST_FRAME, 0);
    assert_int_equal(v[10], 1024); /* two frames of 512 */
    assert_int_equal(v[11], 0);
    assert_int_equal(v[12] & (KSL_FIFOCAP_ST_READY | KSL_FIFOCAP_ST_RUNNING), 0);
    assert_int_equal(v[13], 0xFFFFFFFFu);
    assert_int_equal(v[14], 0);
    assert_int_equal(v[15], 1);
    assert_int_equal(f.fst.underrun_reads, 1);
    assert_int_equal(f.fst.interrupts, 1);
    fx_free(&f);
}

/* ---- fifocap: over-run ---------------------------------------------------------------------- */

static void body_fc_overrun(fx *f)
{
    uint32_t *v = f->v;
    /* Nobody reads: 4 frames fit, the other 6 of the first 10 are dropped whole. */
    WRITE_PORT_ULONG(FC(KSL_FIFOCAP_CONTROL), KSL_FIFOCAP_CTL_RUN);
    delay_us(1050);
    WRITE_PORT_ULONG(FC(KSL_FIFOCAP_CONTROL), 0);
    v[0] = READ_PORT_ULONG(FC(KSL_FIFOCAP_STATUS));
    v[1] = READ_PORT_ULONG(FC(KSL_FIFOCAP_FRAME_COUNT));
    v[2] = READ_PORT_ULONG(FC(KSL_FIFOCAP_DROP_COUNT));
    v[3] = READ_PORT_ULONG(FC(KSL_FIFOCAP_FIFO_LEVEL));
    WRITE_PORT_ULONG(FC(KSL_FIFOCAP_INT_ACK), KSL_FIFOCAP_ST_W1C);
    v[4] = READ_PORT_ULONG(FC(KSL_FIFOCAP_STATUS));
    /* A slow reader while running: drops happen between the frames it gets. */
    WRITE_PORT_ULONG(FC(KSL_FIFOCAP_CONTROL), KSL_FIFOCAP_CTL_RUN);
    uint32_t got = 0;
    while (got < MAXF) {
        while (!(READ_PORT_ULONG(FC(KSL_FIFOCAP_STATUS)) & KSL_FIFOCAP_ST_READY))
            delay_us(20);
        fc_copy(f, got++, 1024);
        delay_us(got % 3 ? 150 : 600); /* slower than the source on average */
    }
    WRITE_PORT_ULONG(FC(KSL_FIFOCAP_CONTROL), 0);
    f->nframes = got;
    v[5] = READ_PORT_ULONG(FC(KSL_FIFOCAP_FRAME_COUNT));
    v[6] = READ_PORT_ULONG(FC(KSL_FIFOCAP_DROP_COUNT));
    v[7] = READ_PORT_ULONG(FC(KSL_FIFOCAP_FIFO_LEVEL));
}

static void test_fifocap_overrun_drops_whole_frames(void **state)
{
    (void)state;
    static fx f;
    memset(&f, 0, sizeof f);
    fx_defaults(&f);
    f.body = body_fc_overrun;
    f.fifocap = true;
    f.fcfg.frame_ns = 100000;
    fx_run(&f);
    assert_clean(f.o);
    uint32_t *v = f.v;
    assert_true(v[0] & KSL_FIFOCAP_ST_OVERRUN);
    assert_true(v[0] & KSL_FIFOCAP_ST_READY);
    assert_int_equal(v[1], 10);
    assert_int_equal(v[2], 6);
    assert_int_equal(v[3], 4096);
    assert_int_equal(v[4] & KSL_FIFOCAP_ST_W1C, 0);
    /* Frames 0..3 wait in the FIFO, then the slow reader's: every frame whole, the dropped ones
     * gaps in the numbers. */
    ksl_frame_seq s;
    ksl_frame_seq_init(&s, 0);
    for (uint32_t i = 0; i < f.nframes; i++)
        assert_int_equal(ksl_frame_seq_push(&s, KSL_FIFOCAP_MAGIC, f.frames[i], 1024), KSL_FRAME_OK);
    assert_int_equal(s.bad, 0);
    assert_int_equal(s.disorder, 0);
    assert_int_equal(s.frames, MAXF);
    /* Dropped = gaps between the frames read + frames after the last one read that never made it
     * into the FIFO; those that did are still there. */
    uint32_t produced = v[5], dropped = v[6], left = v[7] / 1024;
    assert_true(dropped > 6);
    assert_int_equal(s.missing + (produced - s.next) - left, dropped);
    assert_int_equal(f.fst.frames_dropped, dropped);
    assert_int_equal(f.fst.frames_captured, produced - dropped);
    for (uint32_t i = 0; i < f.nframes; i++)
        assert_true(f.copy_ns[i] >= 256u * KSL_FIFOCAP_ACCESS_NS);
    fx_free(&f);
}

/* ---- polldev: a KTIMER DPC polls ---------------------------------------------------------- */

#define POLL_FRAMES 8u

static void poll_dpc(PKDPC dpc, PVOID ctx, PVOID a1, PVOID a2)
{
    (void)dpc;
    (void)a1;
    (void)a2;
    fx *f = ctx;
    if (f->nframes >= f->want)
        return;
    if (!(READ_PORT_ULONG(PD(KSL_POLLDEV_STATUS)) & KSL_POLLDEV_ST_READY))
        return;
    uint32_t bytes = READ_PORT_ULONG(PD(KSL_POLLDEV_FRAME_SIZE));
    f->v[f->nframes] = READ_PORT_ULONG(PD(KSL_POLLDEV_FRAME_NO));
    uint64_t t0 = ksl_time_now();
    for (uint32_t k = 0; k < bytes && k < MAXBYTES; k += 4) {
        ULONG w = READ_PORT_ULONG(PD(KSL_POLLDEV_BUF + k));
        memcpy(&f->frames[f->nframes][k], &w, 4);
    }
    f->copy_ns[f->nframes] = ksl_time_now() - t0;
    f->done_irql[f->nframes] = KeGetCurrentIrql();
    WRITE_PORT_ULONG(PD(KSL_POLLDEV_ACK), KSL_POLLDEV_ACK_RELEASE);
    if (++f->nframes == f->want)
        KeSetEvent(&f->ev, IO_NO_INCREMENT, FALSE);
}

static void body_pd_poll(fx *f)
{
    KDPC *dpc = &f->dpc;
    KeInitializeDpc(dpc, poll_dpc, f);
    KeInitializeTimer(&f->timer);
    f->want = POLL_FRAMES;
    WRITE_PORT_ULONG(PD(KSL_POLLDEV_CONTROL), KSL_POLLDEV_CTL_RUN);
    LARGE_INTEGER due;
    due.QuadPart = -10000; /* 1 ms, then every 1 ms: twice per frame */
    KeSetTimerEx(&f->timer, due, 1, dpc);
    wait_ev(f);
    KeCancelTimer(&f->timer);
    WRITE_PORT_ULONG(PD(KSL_POLLDEV_CONTROL), 0);
    f->v[20] = READ_PORT_ULONG(PD(KSL_POLLDEV_DROP_COUNT));
    f->v[21] = READ_PORT_ULONG(PD(KSL_POLLDEV_STATUS));
    f->v[22] = READ_PORT_ULONG(PD(KSL_POLLDEV_BUF + 4096)); /* past the window: the bus floats */
}

static void test_polldev_timer_dpc_gets_every_frame(void **state)
{
    (void)state;
    static fx f;
    memset(&f, 0, sizeof f);
    fx_defaults(&f);
    f.body = body_pd_poll;
    f.polldev = true;
    f.pcfg.seed = 77;
    fx_run(&f);
    assert_clean(f.o);
    assert_int_equal(f.nframes, POLL_FRAMES);
    for (uint32_t i = 0; i < POLL_FRAMES; i++) {
        uint32_t n = 99;
        assert_int_equal(ksl_polldev_check_frame(f.frames[i], KSL_POLLDEV_DEFAULT_FRAME_BYTES, &n), KSL_FRAME_OK);
        assert_int_equal(n, i);
        assert_int_equal(f.v[i], i);
        assert_int_equal(f.done_irql[i], DISPATCH_LEVEL);
        assert_true(f.copy_ns[i] >= 64u * KSL_POLLDEV_ACCESS_NS);
        static uint8_t exp[KSL_POLLDEV_DEFAULT_FRAME_BYTES];
        ksl_frame_fill(KSL_POLLDEV_MAGIC, 77, i, exp, sizeof exp);
        assert_memory_equal(f.frames[i], exp, sizeof exp);
    }
    assert_int_equal(f.v[20], 0);
    assert_int_equal(f.v[21] & KSL_POLLDEV_ST_OVERRUN, 0);
    assert_int_equal(f.v[22], 0xFFFFFFFFu);
    assert_int_equal(f.pst.frames_dropped, 0);
    assert_int_equal(f.pst.releases, POLL_FRAMES);
    fx_free(&f);
}

/* A poller slower than the source: frames are dropped whole and show as gaps. */
static void body_pd_slow(fx *f)
{
    f->want = 5;
    WRITE_PORT_ULONG(PD(KSL_POLLDEV_CONTROL), KSL_POLLDEV_CTL_RUN);
    while (f->nframes < f->want) {
        delay_us(5000);
        KIRQL old;
        KeRaiseIrql(DISPATCH_LEVEL, &old);
        poll_dpc(&f->dpc, f, NULL, NULL);
        KeLowerIrql(old);
    }
    WRITE_PORT_ULONG(PD(KSL_POLLDEV_CONTROL), 0);
    f->v[20] = READ_PORT_ULONG(PD(KSL_POLLDEV_DROP_COUNT));
    f->v[21] = READ_PORT_ULONG(PD(KSL_POLLDEV_STATUS));
}

static void test_polldev_slow_poller_sees_gaps(void **state)
{
    (void)state;
    static fx f;
    memset(&f, 0, sizeof f);
    fx_defaults(&f);
    f.body = body_pd_slow;
    f.polldev = true;
    fx_run(&f);
    assert_clean(f.o);
    ksl_frame_seq s;
    ksl_frame_seq_init(&s, 0);
    for (uint32_t i = 0; i < f.nframes; i++)
        assert_int_equal(ksl_frame_seq_push(&s, KSL_POLLDEV_MAGIC, f.frames[i], KSL_POLLDEV_DEFAULT_FRAME_BYTES),
                         KSL_FRAME_OK);
    assert_true(s.missing > 0);
    assert_true(f.v[21] & KSL_POLLDEV_ST_OVERRUN);
    assert_int_equal(f.pst.frames_dropped, f.v[20]);
    assert_true(s.missing <= f.v[20]);
    fx_free(&f);
}

/* ---- lowerbus ------------------------------------------------------------------------------- */

#define BUS_REQS 4u
#define BUS_BYTES 512u

static void bus_done(ksl_lowerbus_req *req, void *ctx)
{
    fx *f = ctx;
    uint32_t i = f->nframes;
    if (i < MAXF) {
        f->done_irql[i] = KeGetCurrentIrql();
        f->done_time[i] = ksl_time_now();
        f->done_status[i] = req->status;
        f->done_frame[i] = req->frame_no;
        f->v[i] = 99;
        for (uint32_t k = 0; k < BUS_REQS; k++)
            if (f->req[k] == req)
                f->v[i] = k;
        if (req->transferred)
            memcpy(f->frames[i], req->buffer, req->transferred);
    }
    if (++f->nframes == f->want)
        KeSetEvent(&f->ev, IO_NO_INCREMENT, FALSE);
}

static void body_bus(fx *f)
{
    f->want = BUS_REQS + 2;
    for (uint32_t i = 0; i < BUS_REQS; i++) {
        f->req[i] = ksl_lowerbus_req_alloc(f->bus, BUS_BYTES);
        f->req[i]->done = bus_done;
        f->req[i]->context = f;
    }
    for (uint32_t i = 0; i < BUS_REQS; i++) {
        f->sub_time[i] = ksl_time_now();
        f->v[16 + i] = (uint32_t)ksl_lowerbus_submit(f->bus, f->req[i]);
    }
    /* Wait for the four, then resubmit one and cancel it at once. */
    while (f->nframes < BUS_REQS)
        delay_us(100);
    f->sub_time[4] = ksl_time_now();
    ksl_lowerbus_submit(f->bus, f->req[0]);
    f->v[20] = ksl_lowerbus_cancel(f->bus, f->req[0]);
    while (f->nframes < BUS_REQS + 1)
        delay_us(10);
    f->v[21] = ksl_lowerbus_cancel(f->bus, f->req[0]); /* not pending: false */
    f->sub_time[5] = ksl_time_now();
    ksl_lowerbus_submit(f->bus, f->req[1]);
    wait_ev(f);
    /* A bad length is refused without a completion. */
    f->req[2]->length = 30;
    f->v[22] = (uint32_t)ksl_lowerbus_submit(f->bus, f->req[2]);
    for (uint32_t i = 0; i < BUS_REQS; i++)
        ksl_lowerbus_req_free(f->bus, f->req[i]);
}

static void test_lowerbus_completes_at_dispatch(void **state)
{
    (void)state;
    static fx f;
    memset(&f, 0, sizeof f);
    fx_defaults(&f);
    f.body = body_bus;
    f.lowerbus = true;
    f.bcfg.seed = 0xB05;
    fx_run(&f);
    assert_clean(f.o);
    assert_int_equal(f.nframes, BUS_REQS + 2);
    uint64_t lat = f.bcfg.latency_ns, jit = f.bcfg.jitter_ns;
    for (uint32_t i = 0; i < BUS_REQS; i++) {
        assert_int_equal(f.v[16 + i], KSL_STATUS_PENDING);
        assert_int_equal(f.done_irql[i], DISPATCH_LEVEL);
        assert_int_equal(f.done_status[i], KSL_STATUS_SUCCESS);
        assert_int_equal(f.v[i], i); /* in submission order */
        assert_int_equal(f.done_frame[i], i);
        assert_true(f.done_time[i] >= f.sub_time[i] + lat);
        /* No later than its own latency (or its predecessor's completion) allows. */
        assert_true(f.done_time[i] <= f.sub_time[BUS_REQS - 1] + lat + jit + 100 + SLACK_NS);
        uint32_t n = 99;
        assert_int_equal(ksl_lowerbus_check_frame(f.frames[i], BUS_BYTES, &n), KSL_FRAME_OK);
        assert_int_equal(n, i);
        static uint8_t exp[BUS_BYTES];
        ksl_frame_fill(KSL_LOWERBUS_MAGIC, 0xB05, i, exp, sizeof exp);
        assert_memory_equal(f.frames[i], exp, sizeof exp);
    }
    /* The cancelled one: at once, no data. */
    assert_int_equal(f.v[20], 1);
    assert_int_equal(f.v[21], 0);
    assert_int_equal(f.done_status[4], KSL_STATUS_CANCELLED);
    assert_true(f.done_time[4] < f.sub_time[4] + lat);
    /* The last one carries frame 5 (frame 4 went to the cancelled submission). */
    assert_int_equal(f.done_status[5], KSL_STATUS_SUCCESS);
    assert_int_equal(f.done_frame[5], 5);
    assert_int_equal(ksl_lowerbus_check_frame(f.frames[5], BUS_BYTES, NULL), KSL_FRAME_OK);
    assert_true(f.done_time[5] >= f.sub_time[5] + lat);
    assert_true(f.done_time[5] <= f.sub_time[5] + lat + jit + 100 + SLACK_NS);
    assert_int_equal(f.v[22], (uint32_t)KSL_STATUS_INVALID_PARAMETER);
    assert_int_equal(f.bst.submitted, BUS_REQS + 2);
    assert_int_equal(f.bst.completed, BUS_REQS + 2);
    assert_int_equal(f.bst.cancelled, 1);
    assert_int_equal(f.bst.refused, 1);
    assert_int_equal(f.bst.bytes, (BUS_REQS + 1) * BUS_BYTES);
    assert_true(f.bst.min_latency_ns >= lat);
    fx_free(&f);
}

static void body_bus_double(fx *f)
{
    f->want = 100;
    f->req[0] = ksl_lowerbus_req_alloc(f->bus, BUS_BYTES);
    f->req[0]->done = bus_done;
    f->req[0]->context = f;
    ksl_lowerbus_submit(f->bus, f->req[0]);
    ksl_lowerbus_submit(f->bus, f->req[0]); /* still pending: the bus holds it twice */
    delay_us(1000);
    ksl_lowerbus_req_free(f->bus, f->req[0]);
}

static void body_bus_dispatch(fx *f)
{
    f->want = 100;
    f->req[0] = ksl_lowerbus_req_alloc(f->bus, BUS_BYTES);
    f->req[0]->done = bus_done;
    f->req[0]->context = f;
    KIRQL old;
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    ksl_lowerbus_submit(f->bus, f->req[0]);
    KeLowerIrql(old);
    ksl_lowerbus_req_free(f->bus, f->req[0]);
}

static void body_bus_free_pending(fx *f)
{
    f->want = 100;
    f->req[0] = ksl_lowerbus_req_alloc(f->bus, BUS_BYTES);
    f->req[0]->done = bus_done;
    f->req[0]->context = f;
    ksl_lowerbus_submit(f->bus, f->req[0]);
    ksl_lowerbus_req_free(f->bus, f->req[0]);
}

static void run_bus_body(body_fn *body, const char *rule)
{
    static fx f;
    memset(&f, 0, sizeof f);
    fx_defaults(&f);
    f.body = body;
    f.lowerbus = true;
    fx_run(&f);
    assert_rule(f.o, rule);
    fx_free(&f);
}

static void test_lowerbus_findings(void **state)
{
    (void)state;
    run_bus_body(body_bus_double, KSL_LOWERBUS_RULE_COMPLETED_TWICE);
    run_bus_body(body_bus_dispatch, "K.passive-only-at-raised-irql");
    run_bus_body(body_bus_free_pending, KSL_LOWERBUS_RULE_FREED_PENDING);
}

/* ---- determinism ---------------------------------------------------------------------------- */

static void body_all(fx *f)
{
    body_fc_rate(f);
    f->nframes = 0;
    body_bus(f);
}

static void all_fixture(fx *f, uint64_t seed)
{
    fc_rate_fixture(f, seed);
    f->body = body_all;
    f->lowerbus = true;
}

static void test_determinism(void **state)
{
    (void)state;
    static fx f;
    uint64_t hash[3];
    for (int k = 0; k < 3; k++) {
        all_fixture(&f, k == 2 ? 11 : 10);
        fx_run(&f);
        assert_clean(f.o);
        hash[k] = f.o.hash;
        fx_free(&f);
    }
    assert_true(hash[0] == hash[1]);
    assert_true(hash[0] != hash[2]);
}

/* ---- creation ------------------------------------------------------------------------------- */

static ksl_fifocap *created;

static void setup_create(ksl_engine *e, void *arg)
{
    int *bad = arg;
    char err[160] = "";
    ksl_fifocap_config fc;
    ksl_fifocap_config_default(&fc);
    fc.frame_bytes = 30;
    *bad += ksl_fifocap_create(e, 0x100, &fc, err, sizeof err) == NULL;
    ksl_fifocap_config_default(&fc);
    fc.fifo_bytes = 512; /* smaller than a frame */
    *bad += ksl_fifocap_create(e, 0x100, &fc, err, sizeof err) == NULL;
    ksl_fifocap *ok = ksl_fifocap_create(e, 0x100, NULL, err, sizeof err);
    *bad += ksl_fifocap_create(e, 0x120, NULL, err, sizeof err) == NULL; /* overlaps */
    ksl_polldev_config pc;
    ksl_polldev_config_default(&pc);
    pc.frame_bytes = KSL_POLLDEV_BUF_MAX + 4;
    *bad += ksl_polldev_create(e, 0x1000, &pc, err, sizeof err) == NULL;
    ksl_lowerbus_config bc;
    ksl_lowerbus_config_default(&bc);
    bc.max_pending = 0;
    *bad += ksl_lowerbus_create(e, &bc, err, sizeof err) == NULL;
    created = ok;
}

static void test_create_refuses_bad_configs(void **state)
{
    (void)state;
    int bad = 0;
    ksl_config c = cfg_with(1, 1);
    run_out o = run_scenario(&c, setup_create, &bad);
    assert_int_equal(bad, 5);
    assert_non_null(created);
    ksl_fifocap_destroy(created);
    run_out_free(&o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_frame_format),
        cmocka_unit_test(test_fifocap_rate_pio_and_data),
        cmocka_unit_test(test_fifocap_interrupt_ack),
        cmocka_unit_test(test_fifocap_overrun_drops_whole_frames),
        cmocka_unit_test(test_polldev_timer_dpc_gets_every_frame),
        cmocka_unit_test(test_polldev_slow_poller_sees_gaps),
        cmocka_unit_test(test_lowerbus_completes_at_dispatch),
        cmocka_unit_test(test_lowerbus_findings),
        cmocka_unit_test(test_determinism),
        cmocka_unit_test(test_create_refuses_bad_configs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
