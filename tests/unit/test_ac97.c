/* SPDX-License-Identifier: MIT */
/*
 * The AC'97 controller model (src/hw/ac97.c), driven the way a driver drives it: register
 * accesses from a PASSIVE client thread and an ISR, descriptors and buffers in simulated
 * physical memory.  Checks the bytes that reach the sink or memory, the registers, the
 * interrupts, the virtual time transfers take, and the DMA findings.
 *
 * Values seen inside the run are recorded in the fixture and asserted after it (cmocka
 * assertions must not run on the engine's coroutine stacks).
 */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kslab/audio.h>
#include <kslab/hw/ac97.h>
#include <kslab/hw/physmem.h>
#include <kslab/wdk/wdm.h>

#define NAM_BASE 0xA000u
#define NABM_BASE 0xA400u
#define AC_LINE 5u
#define AC_IRQL 9
#define PI_REG(r) (NABM_BASE + KSL_AC97_PI_BASE + (r))
#define PO_REG(r) (NABM_BASE + KSL_AC97_PO_BASE + (r))
#define MC_REG(r) (NABM_BASE + KSL_AC97_MC_BASE + (r))
#define GLOB_REG(r) (NABM_BASE + (r))
#define NAM_REG(r) (NAM_BASE + (r))

#define BDL_OWNER 0xB0B0u
#define DATA_OWNER 0xDA7A0000u
#define MAXBUF 8
#define NV 64
#define SLACK_NS 10000u /* interrupt delivery after the event that raised the line */

/* ---- the fixture -------------------------------------------------------------------------- */

typedef struct fx fx;
typedef void body_fn(fx *f);

enum isr_mode { ISR_NONE = 0, ISR_ACK = 1, ISR_MIRROR = 2 };

struct fx {
    /* Chosen by the test. */
    body_fn *body;
    uint32_t nbuf;
    uint32_t len[MAXBUF];   /* samples per buffer */
    uint32_t flags[MAXBUF]; /* IOC / BUP */
    bool capture;           /* the buffers belong to PCM In (else PCM Out) */
    bool refuse;            /* an observer refuses every DMA into the data buffers */
    enum isr_mode isr;
    bool threaded;
    uint64_t seed;
    /* Built by the setup. */
    ksl_physmem *pm;
    ksl_ac97 *ac;
    ksl_capture_sink out;
    ksl_tape_source tape;
    uint8_t *tape_data;
    size_t tape_len;
    uint8_t *bdl;
    uint32_t bdl_pa;
    uint8_t *buf[MAXBUF];
    uint32_t pa[MAXBUF];
    PKINTERRUPT intr;
    uint32_t refusals;
    /* Recorded inside the run. */
    int32_t isr_runs;
    uint16_t sr_seen[2];    /* OR of SR values the ISR saw: [0] PI, [1] PO */
    uint32_t gs[3];         /* ISR_MIRROR: GLOB_STA before, between and after the acknowledgements */
    uint64_t t_lvbci;       /* the ISR's time when it first saw LVBCI */
    uint64_t t0, t1, t2;    /* times the body took */
    uint32_t v[NV];         /* register values the body recorded */
    size_t outlen[4];       /* sink lengths the body recorded */
    int done;
    /* After the run. */
    run_out o;
    ksl_ac97_stats st;
};

/* A byte pattern per buffer: any lost, repeated or reordered sample changes the stream. */
static void fill_pattern(uint8_t *p, size_t n, uint32_t seed)
{
    uint32_t x = 0x9E3779B9u ^ (seed * 0x85EBCA6Bu);
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        p[i] = (uint8_t)(x >> 11);
    }
}

static void put_le32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

/* Descriptor i of the list: address and length | policy bits. */
static void bd_set(fx *f, unsigned i, uint32_t pa, uint32_t ctl)
{
    put_le32(f->bdl + i * KSL_AC97_BD_SIZE, pa);
    put_le32(f->bdl + i * KSL_AC97_BD_SIZE + 4, ctl);
}

static bool refuse_data(void *ctx, uint64_t owner, size_t offset, uint32_t len, ksl_dma_dir dir)
{
    (void)offset;
    (void)len;
    fx *f = ctx;
    if (owner == BDL_OWNER)
        return true;
    if (dir != KSL_DMA_PROBE) /* a probe (the ring check) only asks */
        f->refusals++;
    return false;
}

/* The ISR: claim by GLOB_STA, acknowledge every channel's status (ISR_MIRROR: PO first, noting
 * GLOB_STA between), note what it saw and when LVBCI first came. */
static BOOLEAN ac_isr(PKINTERRUPT intr, PVOID ctx)
{
    (void)intr;
    fx *f = ctx;
    uint64_t now = ksl_time_now();
    ULONG gs = READ_PORT_ULONG(GLOB_REG(KSL_AC97_GLOB_STA));
    if (!(gs & (KSL_AC97_GLOB_STA_PIINT | KSL_AC97_GLOB_STA_POINT | KSL_AC97_GLOB_STA_MINT)))
        return FALSE;
    f->isr_runs++;
    f->gs[0] |= gs;
    USHORT po = READ_PORT_USHORT(PO_REG(KSL_AC97_SR));
    WRITE_PORT_USHORT(PO_REG(KSL_AC97_SR), po & KSL_AC97_SR_W1C);
    if (f->isr == ISR_MIRROR)
        f->gs[1] |= READ_PORT_ULONG(GLOB_REG(KSL_AC97_GLOB_STA));
    USHORT pi = READ_PORT_USHORT(PI_REG(KSL_AC97_SR));
    WRITE_PORT_USHORT(PI_REG(KSL_AC97_SR), pi & KSL_AC97_SR_W1C);
    if (f->isr == ISR_MIRROR)
        f->gs[2] |= READ_PORT_ULONG(GLOB_REG(KSL_AC97_GLOB_STA));
    f->sr_seen[0] |= pi;
    f->sr_seen[1] |= po;
    if (((pi | po) & KSL_AC97_SR_LVBCI) && !f->t_lvbci)
        f->t_lvbci = now;
    return TRUE;
}

static void fx_thread(void *arg)
{
    fx *f = arg;
    f->body(f);
    f->done = 1;
}

static void fx_setup(ksl_engine *e, void *arg)
{
    fx *f = arg;
    f->pm = ksl_physmem_create(4u << 20, true, 7);
    assert_non_null(f->pm);
    ksl_capture_sink_init(&f->out, true);
    f->tape_len = 1u << 16;
    f->tape_data = malloc(f->tape_len);
    assert_non_null(f->tape_data);
    fill_pattern(f->tape_data, f->tape_len, 0x7A9Eu);
    ksl_tape_source_init(&f->tape, f->tape_data, f->tape_len);
    ksl_pcm_sink sink = ksl_capture_sink_as_sink(&f->out);
    ksl_pcm_source source = ksl_tape_source_as_source(&f->tape);
    char err[160] = "";
    f->ac = ksl_ac97_create(e, f->pm, NAM_BASE, NABM_BASE, AC_LINE, &sink, &source, err, sizeof err);
    assert_non_null(f->ac);
    f->bdl = ksl_physmem_alloc(f->pm, KSL_AC97_BDL_ENTRIES * KSL_AC97_BD_SIZE, 0x40, true, BDL_OWNER);
    assert_non_null(f->bdl);
    f->bdl_pa = (uint32_t)ksl_physmem_pa(f->pm, f->bdl);
    for (uint32_t i = 0; i < f->nbuf; i++) {
        size_t bytes = f->len[i] ? f->len[i] * 2u : 2u;
        /* Physically contiguous, at an even offset that differs per buffer. */
        f->buf[i] = ksl_physmem_alloc(f->pm, bytes, 2u + 0x22u * i, true, DATA_OWNER + i);
        assert_non_null(f->buf[i]);
        f->pa[i] = (uint32_t)ksl_physmem_pa(f->pm, f->buf[i]);
        if (!f->capture)
            fill_pattern(f->buf[i], bytes, i + 1);
        bd_set(f, i, f->pa[i], f->len[i] | f->flags[i]);
    }
    if (f->refuse)
        ksl_physmem_set_observer(f->pm, refuse_data, f);
    if (f->isr != ISR_NONE)
        assert_int_equal(IoConnectInterrupt(&f->intr, ac_isr, f, NULL, AC_LINE, AC_IRQL, AC_IRQL, LevelSensitive,
                                            FALSE, 0, FALSE),
                         STATUS_SUCCESS);
    ksl_thread_create(e, "driver", fx_thread, f);
}

static void fx_teardown(ksl_engine *e, void *arg)
{
    (void)e;
    fx *f = arg;
    ksl_ac97_get_stats(f->ac, &f->st);
    if (f->intr) {
        IoDisconnectInterrupt(f->intr);
        f->intr = NULL;
    }
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
    ksl_ac97_destroy(f->ac);
    ksl_physmem_destroy(f->pm);
    ksl_capture_sink_free(&f->out);
    free(f->tape_data);
}

/* The concatenation of buffers [from, to] as the device should have moved it. */
static uint8_t *expected_stream(const fx *f, uint32_t from, uint32_t to, size_t *n)
{
    size_t total = 0;
    for (uint32_t i = from; i <= to; i++)
        total += f->len[i] * 2u;
    uint8_t *p = malloc(total ? total : 1);
    assert_non_null(p);
    size_t at = 0;
    for (uint32_t i = from; i <= to; i++) {
        memcpy(p + at, f->buf[i], f->len[i] * 2u);
        at += f->len[i] * 2u;
    }
    *n = total;
    return p;
}

/* The sink holds exactly buffers [from, to] in order. */
static void assert_played(const fx *f, uint32_t from, uint32_t to)
{
    size_t n;
    uint8_t *exp = expected_stream(f, from, to, &n);
    assert_false(f->out.oom);
    assert_int_equal(f->out.len, n);
    assert_memory_equal(f->out.data, exp, n);
    free(exp);
}

/* ---- driver-side helpers (inside the run) ------------------------------------------------- */

static void delay_us(LONGLONG us)
{
    LARGE_INTEGER iv;
    iv.QuadPart = -10 * us;
    KeDelayExecutionThread(KernelMode, FALSE, &iv);
}

/* Release the codec from cold reset and wait for it to be ready. */
static void codec_up(void)
{
    WRITE_PORT_ULONG(GLOB_REG(KSL_AC97_GLOB_CNT), KSL_AC97_GLOB_CNT_COLD);
    while (!(READ_PORT_ULONG(GLOB_REG(KSL_AC97_GLOB_STA)) & KSL_AC97_GLOB_STA_PCR))
        delay_us(1);
}

/* Poll a channel's SR (every 20 us) until all of `mask` is set; false after `max_us`. */
static bool wait_sr(uint32_t chan_base, uint16_t mask, uint32_t max_us)
{
    for (uint32_t t = 0; t <= max_us; t += 20) {
        if ((READ_PORT_USHORT(NABM_BASE + chan_base + KSL_AC97_SR) & mask) == mask)
            return true;
        delay_us(20);
    }
    return false;
}

#define HALTED (KSL_AC97_SR_DCH | KSL_AC97_SR_CELV)

/* Point PCM Out (or In) at the list and set LVI. */
static void program(uint32_t chan_base, uint32_t bdl_pa, uint8_t lvi)
{
    WRITE_PORT_ULONG(NABM_BASE + chan_base + KSL_AC97_BDBAR, bdl_pa);
    WRITE_PORT_UCHAR(NABM_BASE + chan_base + KSL_AC97_LVI, lvi);
}

/* ---- codec -------------------------------------------------------------------------------- */

static void body_codec(fx *f)
{
    uint32_t *v = f->v;
    /* PCR follows GLOB_CNT.COLD. */
    v[0] = READ_PORT_ULONG(GLOB_REG(KSL_AC97_GLOB_STA));
    codec_up();
    v[1] = READ_PORT_ULONG(GLOB_REG(KSL_AC97_GLOB_STA));
    v[2] = READ_PORT_USHORT(NAM_REG(KSL_AC97_VENDOR_ID1));
    v[3] = READ_PORT_USHORT(NAM_REG(KSL_AC97_VENDOR_ID2));
    v[4] = READ_PORT_USHORT(NAM_REG(KSL_AC97_EXT_AUDIO_ID));
    v[5] = READ_PORT_USHORT(NAM_REG(KSL_AC97_POWERDOWN));
    /* Rates: fixed without VRA, writable within 8000..48000 with it. */
    WRITE_PORT_USHORT(NAM_REG(KSL_AC97_FRONT_DAC_RATE), 22050);
    v[6] = READ_PORT_USHORT(NAM_REG(KSL_AC97_FRONT_DAC_RATE));
    WRITE_PORT_USHORT(NAM_REG(KSL_AC97_EXT_AUDIO_CTRL), KSL_AC97_EXT_VRA);
    v[7] = READ_PORT_USHORT(NAM_REG(KSL_AC97_EXT_AUDIO_CTRL));
    WRITE_PORT_USHORT(NAM_REG(KSL_AC97_FRONT_DAC_RATE), 22050);
    v[8] = READ_PORT_USHORT(NAM_REG(KSL_AC97_FRONT_DAC_RATE));
    WRITE_PORT_USHORT(NAM_REG(KSL_AC97_FRONT_DAC_RATE), 7999);
    v[9] = READ_PORT_USHORT(NAM_REG(KSL_AC97_FRONT_DAC_RATE));
    WRITE_PORT_USHORT(NAM_REG(KSL_AC97_FRONT_DAC_RATE), 48001);
    v[10] = READ_PORT_USHORT(NAM_REG(KSL_AC97_FRONT_DAC_RATE));
    WRITE_PORT_USHORT(NAM_REG(KSL_AC97_LR_ADC_RATE), 8000);
    v[11] = READ_PORT_USHORT(NAM_REG(KSL_AC97_LR_ADC_RATE));
    /* Plain mixer registers; read-only ids; a 32-bit read covers two registers. */
    WRITE_PORT_USHORT(NAM_REG(KSL_AC97_MASTER_VOL), 0x0A0A);
    WRITE_PORT_USHORT(NAM_REG(KSL_AC97_VENDOR_ID1), 0x1234);
    v[12] = READ_PORT_USHORT(NAM_REG(KSL_AC97_MASTER_VOL));
    v[13] = READ_PORT_USHORT(NAM_REG(KSL_AC97_VENDOR_ID1));
    v[14] = READ_PORT_ULONG(NAM_REG(KSL_AC97_VENDOR_ID1));
    v[15] = READ_PORT_UCHAR(NAM_REG(KSL_AC97_VENDOR_ID1 + 1));
    WRITE_PORT_UCHAR(NAM_REG(KSL_AC97_MASTER_VOL + 1), 0x80); /* one byte: mute, keep the rest */
    v[16] = READ_PORT_USHORT(NAM_REG(KSL_AC97_MASTER_VOL));
    WRITE_PORT_USHORT(NAM_REG(0x60), 0x5555); /* not implemented */
    v[17] = READ_PORT_USHORT(NAM_REG(0x60));
    /* Clearing VRA returns the rates to 48 kHz. */
    WRITE_PORT_USHORT(NAM_REG(KSL_AC97_EXT_AUDIO_CTRL), 0);
    v[18] = READ_PORT_USHORT(NAM_REG(KSL_AC97_LR_ADC_RATE));
    /* A write to RESET restores the defaults. */
    WRITE_PORT_USHORT(NAM_REG(KSL_AC97_EXT_AUDIO_CTRL), KSL_AC97_EXT_VRA);
    WRITE_PORT_USHORT(NAM_REG(KSL_AC97_FRONT_DAC_RATE), 11025);
    WRITE_PORT_USHORT(NAM_REG(KSL_AC97_MASTER_VOL), 0x0101);
    WRITE_PORT_USHORT(NAM_REG(KSL_AC97_RESET), 0);
    v[19] = READ_PORT_USHORT(NAM_REG(KSL_AC97_FRONT_DAC_RATE));
    v[20] = READ_PORT_USHORT(NAM_REG(KSL_AC97_EXT_AUDIO_CTRL));
    v[21] = READ_PORT_USHORT(NAM_REG(KSL_AC97_MASTER_VOL));
    v[22] = READ_PORT_USHORT(NAM_REG(KSL_AC97_POWERDOWN));
    /* CAS: a read takes it (returns 0 then 1); any codec access frees it. */
    v[23] = READ_PORT_UCHAR(GLOB_REG(KSL_AC97_CAS));
    v[24] = READ_PORT_UCHAR(GLOB_REG(KSL_AC97_CAS));
    (void)READ_PORT_USHORT(NAM_REG(KSL_AC97_VENDOR_ID2));
    v[25] = READ_PORT_UCHAR(GLOB_REG(KSL_AC97_CAS));
    WRITE_PORT_USHORT(NAM_REG(KSL_AC97_MASTER_VOL), 0x8000);
    v[26] = READ_PORT_UCHAR(GLOB_REG(KSL_AC97_CAS));
    /* Cold reset asserted: the codec is not ready and is back at its defaults. */
    WRITE_PORT_USHORT(NAM_REG(KSL_AC97_MASTER_VOL), 0x0303);
    WRITE_PORT_ULONG(GLOB_REG(KSL_AC97_GLOB_CNT), 0);
    v[27] = READ_PORT_ULONG(GLOB_REG(KSL_AC97_GLOB_STA));
    v[28] = READ_PORT_USHORT(NAM_REG(KSL_AC97_MASTER_VOL));
}

static void test_codec_registers(void **state)
{
    (void)state;
    fx f = {.body = body_codec};
    fx_run(&f);
    assert_clean(f.o);
    uint32_t *v = f.v;
    assert_int_equal(v[0] & KSL_AC97_GLOB_STA_PCR, 0);
    assert_int_equal(v[1] & KSL_AC97_GLOB_STA_PCR, KSL_AC97_GLOB_STA_PCR);
    assert_int_equal(v[2], 0x8384);
    assert_int_equal(v[3], 0x7600);
    assert_int_equal(v[4] & KSL_AC97_EXT_VRA, KSL_AC97_EXT_VRA);
    assert_int_equal(v[5] & 0x000F, 0x000F);
    assert_int_equal(v[6], 48000);  /* VRA off: not writable */
    assert_int_equal(v[7], KSL_AC97_EXT_VRA);
    assert_int_equal(v[8], 22050);
    assert_int_equal(v[9], 22050);  /* below 8000: refused */
    assert_int_equal(v[10], 22050); /* above 48000: refused */
    assert_int_equal(v[11], 8000);
    assert_int_equal(v[12], 0x0A0A);
    assert_int_equal(v[13], 0x8384);
    assert_int_equal(v[14], 0x76008384u);
    assert_int_equal(v[15], 0x83);
    assert_int_equal(v[16], 0x800A);
    assert_int_equal(v[17], 0);
    assert_int_equal(v[18], 48000);
    assert_int_equal(v[19], 48000);
    assert_int_equal(v[20], 0);
    assert_int_equal(v[21], 0x8000);
    assert_int_equal(v[22] & 0x000F, 0x000F);
    assert_int_equal(v[23], 0);
    assert_int_equal(v[24], 1);
    assert_int_equal(v[25], 0);
    assert_int_equal(v[26], 0);
    assert_int_equal(v[27] & KSL_AC97_GLOB_STA_PCR, 0);
    assert_int_equal(v[28], 0x8000);
    fx_free(&f);
}

/* What a driver probing the codec sees (AC'97 2.3): 5-bit attenuation with the "6th bit" rule,
 * write masks, absent optional registers, power-down ready bits that follow the requests. */
static void body_codec_probe(fx *f)
{
    uint32_t *v = f->v;
    codec_up();
    v[0] = READ_PORT_USHORT(NAM_REG(KSL_AC97_RESET));
    v[1] = READ_PORT_USHORT(NAM_REG(KSL_AC97_EXT_AUDIO_ID));
    WRITE_PORT_USHORT(NAM_REG(KSL_AC97_MASTER_VOL), 0xA020); /* mute, left 0x20, right 0x20 */
    v[2] = READ_PORT_USHORT(NAM_REG(KSL_AC97_MASTER_VOL));
    WRITE_PORT_USHORT(NAM_REG(KSL_AC97_MASTER_VOL), 0x1010);
    v[3] = READ_PORT_USHORT(NAM_REG(KSL_AC97_MASTER_VOL));
    WRITE_PORT_USHORT(NAM_REG(KSL_AC97_MONO_VOL), 0xFFFF);
    v[4] = READ_PORT_USHORT(NAM_REG(KSL_AC97_MONO_VOL));
    WRITE_PORT_USHORT(NAM_REG(KSL_AC97_PCM_OUT_VOL), 0xFFFF);
    v[5] = READ_PORT_USHORT(NAM_REG(KSL_AC97_PCM_OUT_VOL));
    WRITE_PORT_USHORT(NAM_REG(KSL_AC97_3D_CONTROL), 0x0707); /* no 3D */
    v[6] = READ_PORT_USHORT(NAM_REG(KSL_AC97_3D_CONTROL));
    WRITE_PORT_USHORT(NAM_REG(0x08), 0x0F0F); /* no tone controls */
    v[7] = READ_PORT_USHORT(NAM_REG(0x08));
    WRITE_PORT_USHORT(NAM_REG(KSL_AC97_GENERAL_PURPOSE), 0xFFFF); /* 3D, stereo, loudness bits: not there */
    v[8] = READ_PORT_USHORT(NAM_REG(KSL_AC97_GENERAL_PURPOSE));
    v[9] = READ_PORT_USHORT(NAM_REG(KSL_AC97_AUX_OUT_VOL)); /* present: 8000 after reset */
    WRITE_PORT_USHORT(NAM_REG(KSL_AC97_POWERDOWN), KSL_AC97_PD_PR0 | KSL_AC97_PD_PR1);
    v[10] = READ_PORT_USHORT(NAM_REG(KSL_AC97_POWERDOWN));
    WRITE_PORT_USHORT(NAM_REG(KSL_AC97_POWERDOWN), KSL_AC97_PD_PR3);
    v[11] = READ_PORT_USHORT(NAM_REG(KSL_AC97_POWERDOWN));
    WRITE_PORT_USHORT(NAM_REG(KSL_AC97_POWERDOWN), 0x30FFu); /* PR4, PR5 and the status bits: not stored */
    v[12] = READ_PORT_USHORT(NAM_REG(KSL_AC97_POWERDOWN));
    WRITE_PORT_USHORT(NAM_REG(KSL_AC97_RECORD_GAIN), 0xFFFF);
    v[13] = READ_PORT_USHORT(NAM_REG(KSL_AC97_RECORD_GAIN));
}

static void test_codec_probe(void **state)
{
    (void)state;
    fx f = {.body = body_codec_probe};
    fx_run(&f);
    assert_clean(f.o);
    uint32_t *v = f.v;
    assert_int_equal(v[0], 0x0000);  /* 16-bit DAC and ADC, no tone, loudness or 3D */
    assert_int_equal(v[1], 0x0801);  /* VRA, revision 2.3 */
    assert_int_equal(v[2], 0x9F1F);  /* bit 5 / 13 written: 0x1F, the most attenuation */
    assert_int_equal(v[3], 0x1010);
    assert_int_equal(v[4], 0x801F);
    assert_int_equal(v[5], 0x9F1F);
    assert_int_equal(v[6], 0);
    assert_int_equal(v[7], 0);
    assert_int_equal(v[8], 0x8380);
    assert_int_equal(v[9], 0x8000);
    assert_int_equal(v[10], 0x0300 | 0x000C); /* ADC and DAC off: their ready bits clear */
    assert_int_equal(v[11], 0x0800 | 0x0003); /* Vref off: REF and ANL clear */
    assert_int_equal(v[12], 0x000F);
    assert_int_equal(v[13], 0x8F0F);
    fx_free(&f);
}

/* ---- register file ------------------------------------------------------------------------ */

static void body_registers(fx *f)
{
    uint32_t *v = f->v;
    /* The state after creation, every channel. */
    v[0] = READ_PORT_USHORT(PI_REG(KSL_AC97_SR));
    v[1] = READ_PORT_USHORT(PO_REG(KSL_AC97_SR));
    v[2] = READ_PORT_USHORT(MC_REG(KSL_AC97_SR));
    v[3] = READ_PORT_ULONG(PO_REG(KSL_AC97_CIV)); /* civ | lvi << 8 | sr << 16 */
    v[4] = READ_PORT_ULONG(PO_REG(KSL_AC97_PICB)); /* picb | piv << 16 | cr << 24 */
    /* BDBAR keeps 8-byte alignment; LVI is 5 bits; CIV, PIV, PICB are read-only. */
    WRITE_PORT_ULONG(PO_REG(KSL_AC97_BDBAR), 0x12345677u);
    v[5] = READ_PORT_ULONG(PO_REG(KSL_AC97_BDBAR));
    WRITE_PORT_UCHAR(PO_REG(KSL_AC97_LVI), 0x25);
    v[6] = READ_PORT_UCHAR(PO_REG(KSL_AC97_LVI));
    WRITE_PORT_UCHAR(PO_REG(KSL_AC97_CIV), 7);
    WRITE_PORT_UCHAR(PO_REG(KSL_AC97_PIV), 7);
    WRITE_PORT_USHORT(PO_REG(KSL_AC97_PICB), 77);
    v[7] = READ_PORT_ULONG(PO_REG(KSL_AC97_CIV));
    v[8] = READ_PORT_ULONG(PO_REG(KSL_AC97_PICB));
    /* CR stores the interrupt enables; SR's DCH is read-only; bytes and halves of registers. */
    WRITE_PORT_UCHAR(PO_REG(KSL_AC97_CR), KSL_AC97_CR_IOCE | KSL_AC97_CR_LVBIE);
    WRITE_PORT_USHORT(PO_REG(KSL_AC97_SR), 0xFFFF);
    v[9] = READ_PORT_ULONG(PO_REG(KSL_AC97_PICB));
    v[10] = READ_PORT_UCHAR(PO_REG(KSL_AC97_SR));
    v[11] = READ_PORT_USHORT(PO_REG(KSL_AC97_BDBAR + 2));
    v[12] = READ_PORT_UCHAR(PO_REG(KSL_AC97_BDBAR + 1));
    WRITE_PORT_USHORT(PO_REG(KSL_AC97_BDBAR), 0xABC9); /* the low half only */
    v[13] = READ_PORT_ULONG(PO_REG(KSL_AC97_BDBAR));
    /* A 32-bit write at +4 reaches LVI and SR; CIV is ignored. */
    WRITE_PORT_ULONG(PO_REG(KSL_AC97_CIV), 0x001C0305u);
    v[14] = READ_PORT_ULONG(PO_REG(KSL_AC97_CIV));
    /* Unknown offsets read 0 and ignore writes; GLOB_STA ignores writes. */
    WRITE_PORT_ULONG(PO_REG(0x0C), 0xFFFFFFFFu);
    v[15] = READ_PORT_ULONG(PO_REG(0x0C));
    v[16] = READ_PORT_ULONG(GLOB_REG(0x38));
    WRITE_PORT_ULONG(GLOB_REG(KSL_AC97_GLOB_STA), 0xFFFFFFFFu);
    v[17] = READ_PORT_ULONG(GLOB_REG(KSL_AC97_GLOB_STA));
    /* GLOB_CNT: the warm reset clears itself; the kslab mono bits are kept. */
    WRITE_PORT_ULONG(GLOB_REG(KSL_AC97_GLOB_CNT),
                     KSL_AC97_GLOB_CNT_COLD | KSL_AC97_GLOB_CNT_WARM | KSL_AC97_GLOB_CNT_PO_MONO);
    v[18] = READ_PORT_ULONG(GLOB_REG(KSL_AC97_GLOB_CNT));
    /* Mic In: registers only; RPBM does not start a transfer. */
    WRITE_PORT_ULONG(MC_REG(KSL_AC97_BDBAR), f->bdl_pa);
    WRITE_PORT_UCHAR(MC_REG(KSL_AC97_CR), KSL_AC97_CR_RPBM);
    delay_us(10000);
    v[19] = READ_PORT_ULONG(MC_REG(KSL_AC97_CIV));
    v[20] = READ_PORT_ULONG(MC_REG(KSL_AC97_PICB));
}

static void test_register_file(void **state)
{
    (void)state;
    fx f = {.body = body_registers, .nbuf = 1, .len = {64}};
    fx_run(&f);
    assert_clean(f.o);
    uint32_t *v = f.v;
    assert_int_equal(v[0], KSL_AC97_SR_DCH);
    assert_int_equal(v[1], KSL_AC97_SR_DCH);
    assert_int_equal(v[2], KSL_AC97_SR_DCH);
    assert_int_equal(v[3], (uint32_t)KSL_AC97_SR_DCH << 16);
    assert_int_equal(v[4], 0);
    assert_int_equal(v[5], 0x12345670u);
    assert_int_equal(v[6], 0x05);
    assert_int_equal(v[7], 0x05u << 8 | (uint32_t)KSL_AC97_SR_DCH << 16);
    assert_int_equal(v[8], 0);
    assert_int_equal(v[9], (uint32_t)(KSL_AC97_CR_IOCE | KSL_AC97_CR_LVBIE) << 24);
    assert_int_equal(v[10], KSL_AC97_SR_DCH);
    assert_int_equal(v[11], 0x1234);
    assert_int_equal(v[12], 0x56);
    assert_int_equal(v[13], 0x1234ABC8u);
    assert_int_equal(v[14], 0x03u << 8 | (uint32_t)KSL_AC97_SR_DCH << 16);
    assert_int_equal(v[15], 0);
    assert_int_equal(v[16], 0);
    assert_int_equal(v[17], 0); /* codec in reset, nothing pending */
    assert_int_equal(v[18], KSL_AC97_GLOB_CNT_COLD | KSL_AC97_GLOB_CNT_PO_MONO);
    assert_int_equal(v[19], (uint32_t)KSL_AC97_SR_DCH << 16);
    assert_int_equal(v[20], (uint32_t)KSL_AC97_CR_RPBM << 24);
    assert_int_equal(f.st.bytes_played + f.st.bytes_captured + f.st.buffers_completed, 0);
    fx_free(&f);
}

/* ---- playback ----------------------------------------------------------------------------- */

/* Play the whole list with IOCE|LVBIE and wait for the halt at LVI. */
static void body_play_all(fx *f)
{
    codec_up();
    program(KSL_AC97_PO_BASE, f->bdl_pa, (uint8_t)(f->nbuf - 1));
    f->t0 = ksl_time_now();
    WRITE_PORT_UCHAR(PO_REG(KSL_AC97_CR), KSL_AC97_CR_IOCE | KSL_AC97_CR_LVBIE | KSL_AC97_CR_RPBM);
    f->v[0] = READ_PORT_USHORT(PO_REG(KSL_AC97_SR)); /* running: DCH clear */
    f->v[1] = READ_PORT_UCHAR(PO_REG(KSL_AC97_PIV));
    wait_sr(KSL_AC97_PO_BASE, HALTED, 2000000);
    f->v[2] = READ_PORT_ULONG(PO_REG(KSL_AC97_CIV));
    f->v[3] = READ_PORT_ULONG(PO_REG(KSL_AC97_PICB));
}

static void test_playback_descriptors(void **state)
{
    (void)state;
    fx f = {.body = body_play_all,
            .nbuf = 4,
            .len = {300, 257, 1, 1001},
            .flags = {0, KSL_AC97_BD_IOC, 0, KSL_AC97_BD_IOC},
            .isr = ISR_ACK};
    fx_run(&f);
    assert_clean(f.o);
    assert_played(&f, 0, 3);
    assert_int_equal(f.v[0] & KSL_AC97_SR_DCH, 0);
    assert_int_equal(f.v[1], 1);
    /* Halted at LVI=3: CIV 3, LVI 3, DCH|CELV (LVBCI acknowledged by the ISR), PICB 0. */
    assert_int_equal(f.v[2], 3u | 3u << 8 | (uint32_t)HALTED << 16);
    assert_int_equal(f.v[3] & 0xFFFFu, 0);
    assert_int_equal(f.st.bytes_played, 2u * (300 + 257 + 1 + 1001));
    assert_int_equal(f.st.buffers_completed, 4);
    assert_int_equal(f.st.dma_errors, 0);
    /* IOC gave BCIS, the last buffer LVBCI; each raised the line. */
    assert_int_equal(f.sr_seen[1] & (KSL_AC97_SR_BCIS | KSL_AC97_SR_LVBCI), KSL_AC97_SR_BCIS | KSL_AC97_SR_LVBCI);
    assert_true(f.st.interrupts >= 2);
    assert_int_equal(f.st.interrupts, (uint64_t)f.isr_runs);
    assert_true(f.gs[0] & KSL_AC97_GLOB_STA_POINT);
    /* 1559 samples at 48 kHz stereo. */
    uint64_t expect = 1559ull * 1000000000ull / 96000u;
    assert_true(f.t_lvbci - f.t0 >= expect);
    assert_true(f.t_lvbci - f.t0 <= expect + SLACK_NS);
    assert_true(f.o.stats.time_ns >= f.t0 + expect);
    fx_free(&f);
}

/* ---- LVI: halt at the end of the list, revive with a new LVI ------------------------------ */

static void body_lvi(fx *f)
{
    codec_up();
    program(KSL_AC97_PO_BASE, f->bdl_pa, 1);
    WRITE_PORT_UCHAR(PO_REG(KSL_AC97_CR), KSL_AC97_CR_IOCE | KSL_AC97_CR_LVBIE | KSL_AC97_CR_RPBM);
    wait_sr(KSL_AC97_PO_BASE, HALTED, 1000000);
    f->v[0] = READ_PORT_ULONG(PO_REG(KSL_AC97_CIV));
    f->outlen[0] = f->out.len;
    /* LVI written again with the same index: nothing new, the engine stays halted. */
    WRITE_PORT_UCHAR(PO_REG(KSL_AC97_LVI), 1);
    delay_us(2000);
    f->v[1] = READ_PORT_ULONG(PO_REG(KSL_AC97_CIV));
    f->outlen[1] = f->out.len;
    /* A new LVI: resumes at CIV+1 = 2 and plays up to 3. */
    f->t1 = ksl_time_now();
    WRITE_PORT_UCHAR(PO_REG(KSL_AC97_LVI), 3);
    f->v[2] = READ_PORT_ULONG(PO_REG(KSL_AC97_CIV));
    f->v[3] = READ_PORT_UCHAR(PO_REG(KSL_AC97_PIV));
    wait_sr(KSL_AC97_PO_BASE, HALTED, 1000000);
    f->v[4] = READ_PORT_ULONG(PO_REG(KSL_AC97_CIV));
}

static void test_lvi_halts_and_resumes(void **state)
{
    (void)state;
    fx f = {.body = body_lvi,
            .nbuf = 4,
            .len = {256, 99, 512, 3},
            .flags = {0, KSL_AC97_BD_BUP, 0, 0},
            .isr = ISR_ACK};
    fx_run(&f);
    assert_clean(f.o);
    assert_int_equal(f.v[0], 1u | 1u << 8 | (uint32_t)HALTED << 16);
    assert_int_equal(f.outlen[0], 2u * (256 + 99));
    assert_int_equal(f.v[1], f.v[0]);
    assert_int_equal(f.outlen[1], f.outlen[0]);
    assert_int_equal(f.v[2], 2u | 3u << 8); /* running again: DCH and CELV clear */
    assert_int_equal(f.v[3], 3);
    assert_int_equal(f.v[4], 3u | 3u << 8 | (uint32_t)HALTED << 16);
    assert_played(&f, 0, 3);
    assert_int_equal(f.st.buffers_completed, 4);
    assert_true(f.sr_seen[1] & KSL_AC97_SR_LVBCI);
    /* Halted in RUN from the first LVBCI to the LVI write: fill at 96000 words/s, not played.
     * Then halted again from the second LVBCI to the end of the run. */
    assert_true(f.st.fill_samples >= 2000u * 96u / 1000u);
    assert_true(f.st.fill_samples <= (f.o.stats.time_ns / 1000u) * 96u / 1000u + 1u);
    fx_free(&f);
}

/* RPBM toggled after the end of the list: the engine restarts past the last buffer it did, and
 * only when software has queued a new one. */
static void body_restart(fx *f)
{
    codec_up();
    program(KSL_AC97_PO_BASE, f->bdl_pa, 0);
    WRITE_PORT_UCHAR(PO_REG(KSL_AC97_CR), KSL_AC97_CR_RPBM);
    wait_sr(KSL_AC97_PO_BASE, HALTED, 1000000);
    WRITE_PORT_UCHAR(PO_REG(KSL_AC97_CR), 0);
    f->v[0] = READ_PORT_USHORT(PO_REG(KSL_AC97_SR));
    WRITE_PORT_UCHAR(PO_REG(KSL_AC97_CR), KSL_AC97_CR_RPBM); /* nothing new */
    delay_us(1000);
    f->v[1] = READ_PORT_ULONG(PO_REG(KSL_AC97_CIV));
    f->outlen[0] = f->out.len;
    WRITE_PORT_UCHAR(PO_REG(KSL_AC97_CR), 0);
    WRITE_PORT_UCHAR(PO_REG(KSL_AC97_LVI), 2); /* RPBM=0: only stored */
    delay_us(1000);
    f->v[2] = READ_PORT_ULONG(PO_REG(KSL_AC97_CIV));
    WRITE_PORT_UCHAR(PO_REG(KSL_AC97_CR), KSL_AC97_CR_RPBM);
    f->v[3] = READ_PORT_ULONG(PO_REG(KSL_AC97_CIV));
    wait_sr(KSL_AC97_PO_BASE, HALTED, 1000000);
    f->v[4] = READ_PORT_ULONG(PO_REG(KSL_AC97_CIV));
}

static void test_restart_after_end(void **state)
{
    (void)state;
    fx f = {.body = body_restart, .nbuf = 3, .len = {200, 300, 5}};
    fx_run(&f);
    assert_clean(f.o);
    uint32_t lvbci = KSL_AC97_SR_LVBCI;
    assert_int_equal(f.v[0], HALTED | lvbci);
    assert_int_equal(f.v[1], (uint32_t)(HALTED | lvbci) << 16); /* CIV 0, LVI 0: still halted */
    assert_int_equal(f.outlen[0], 400);
    assert_int_equal(f.v[2], 2u << 8 | (uint32_t)(HALTED | lvbci) << 16);
    assert_int_equal(f.v[3], 1u | 2u << 8 | lvbci << 16); /* running buffer 1 */
    assert_int_equal(f.v[4], 2u | 2u << 8 | (uint32_t)(HALTED | lvbci) << 16);
    assert_played(&f, 0, 2);
    assert_int_equal(f.st.buffers_completed, 3);
    fx_free(&f);
}

/* ---- pause / resume ----------------------------------------------------------------------- */

static void body_pause(fx *f)
{
    codec_up();
    program(KSL_AC97_PO_BASE, f->bdl_pa, 1);
    f->t0 = ksl_time_now();
    WRITE_PORT_UCHAR(PO_REG(KSL_AC97_CR), KSL_AC97_CR_IOCE | KSL_AC97_CR_LVBIE | KSL_AC97_CR_RPBM);
    delay_us(4000);
    /* A redundant RPBM=1 write changes nothing. */
    uint32_t before = READ_PORT_UCHAR(PO_REG(KSL_AC97_CIV));
    WRITE_PORT_UCHAR(PO_REG(KSL_AC97_CR), KSL_AC97_CR_IOCE | KSL_AC97_CR_LVBIE | KSL_AC97_CR_RPBM);
    f->v[0] = before;
    f->v[1] = READ_PORT_UCHAR(PO_REG(KSL_AC97_CIV));
    /* Pause mid-buffer. */
    f->t1 = ksl_time_now();
    WRITE_PORT_UCHAR(PO_REG(KSL_AC97_CR), KSL_AC97_CR_IOCE | KSL_AC97_CR_LVBIE);
    f->v[2] = READ_PORT_ULONG(PO_REG(KSL_AC97_CIV));
    f->v[3] = READ_PORT_ULONG(PO_REG(KSL_AC97_PICB));
    f->outlen[0] = f->out.len;
    delay_us(10000);
    f->v[4] = READ_PORT_ULONG(PO_REG(KSL_AC97_CIV));
    f->v[5] = READ_PORT_ULONG(PO_REG(KSL_AC97_PICB));
    f->outlen[1] = f->out.len;
    f->t2 = ksl_time_now();
    WRITE_PORT_UCHAR(PO_REG(KSL_AC97_CR), KSL_AC97_CR_IOCE | KSL_AC97_CR_LVBIE | KSL_AC97_CR_RPBM);
    wait_sr(KSL_AC97_PO_BASE, HALTED, 1000000);
}

static void test_pause_resume(void **state)
{
    (void)state;
    fx f = {.body = body_pause, .nbuf = 2, .len = {1500, 333}, .flags = {KSL_AC97_BD_IOC, 0}, .isr = ISR_ACK};
    fx_run(&f);
    assert_clean(f.o);
    assert_int_equal(f.v[0], 0);
    assert_int_equal(f.v[1], 0);
    /* Paused in buffer 0 after some whole chunks, DCH set; nothing moves while paused. */
    uint32_t civ = f.v[2], picb = f.v[3];
    assert_int_equal(civ & 0xFF, 0);
    assert_int_equal(civ >> 16, KSL_AC97_SR_DCH);
    assert_int_equal(picb >> 24, KSL_AC97_CR_IOCE | KSL_AC97_CR_LVBIE);
    assert_int_equal((picb >> 16) & 0xFF, 1);
    assert_true((picb & 0xFFFF) < 1500 && (picb & 0xFFFF) > 0);
    assert_int_equal((1500 - (picb & 0xFFFF)) % KSL_AC97_CHUNK_SAMPLES, 0);
    assert_int_equal(f.v[4], civ);
    assert_int_equal(f.v[5], picb);
    assert_int_equal(f.outlen[1], f.outlen[0]);
    /* Resumed exactly: every byte once, in order; the pause shifts the end by its length. */
    assert_played(&f, 0, 1);
    uint64_t expect = 1833ull * 1000000000ull / 96000u + (f.t2 - f.t1);
    assert_true(f.t_lvbci - f.t0 >= expect);
    assert_true(f.t_lvbci - f.t0 <= expect + SLACK_NS);
    fx_free(&f);
}

/* ---- CR.RR -------------------------------------------------------------------------------- */

static void body_rr(fx *f)
{
    codec_up();
    program(KSL_AC97_PO_BASE, f->bdl_pa, 0);
    WRITE_PORT_UCHAR(PO_REG(KSL_AC97_CR), KSL_AC97_CR_IE_MASK | KSL_AC97_CR_RPBM);
    delay_us(3000);
    WRITE_PORT_UCHAR(PO_REG(KSL_AC97_CR), KSL_AC97_CR_IE_MASK);
    f->outlen[0] = f->out.len;
    WRITE_PORT_UCHAR(PO_REG(KSL_AC97_CR), KSL_AC97_CR_RR);
    f->v[0] = READ_PORT_UCHAR(PO_REG(KSL_AC97_CR)); /* 300 ns later: RR still reads 1 */
    f->v[1] = READ_PORT_ULONG(PO_REG(KSL_AC97_BDBAR));
    f->v[2] = READ_PORT_ULONG(PO_REG(KSL_AC97_CIV));
    f->v[3] = READ_PORT_ULONG(PO_REG(KSL_AC97_PICB));
    KeStallExecutionProcessor(3);
    f->v[4] = READ_PORT_UCHAR(PO_REG(KSL_AC97_CR));
    /* Start over from descriptor 0. */
    program(KSL_AC97_PO_BASE, f->bdl_pa, 0);
    WRITE_PORT_UCHAR(PO_REG(KSL_AC97_CR), KSL_AC97_CR_IE_MASK | KSL_AC97_CR_RPBM);
    wait_sr(KSL_AC97_PO_BASE, HALTED, 1000000);
    f->v[5] = READ_PORT_ULONG(PO_REG(KSL_AC97_CIV));
}

static void test_rr_resets_keeps_ie(void **state)
{
    (void)state;
    fx f = {.body = body_rr, .nbuf = 1, .len = {1200}, .isr = ISR_ACK};
    fx_run(&f);
    assert_clean(f.o);
    assert_int_equal(f.v[0], KSL_AC97_CR_IE_MASK | KSL_AC97_CR_RR);
    assert_int_equal(f.v[1], 0);
    assert_int_equal(f.v[2], (uint32_t)KSL_AC97_SR_DCH << 16); /* CIV 0, LVI 0, SR DCH */
    assert_int_equal(f.v[3], (uint32_t)(KSL_AC97_CR_IE_MASK | KSL_AC97_CR_RR) << 24); /* PICB 0, PIV 0, RR */
    assert_int_equal(f.v[4], KSL_AC97_CR_IE_MASK);
    assert_int_equal(f.v[5], (uint32_t)HALTED << 16);
    /* The sink: the part played before the reset, then the whole buffer again. */
    size_t pre = f.outlen[0];
    assert_true(pre > 0 && pre < 2400);
    assert_int_equal(f.out.len, pre + 2400);
    assert_memory_equal(f.out.data, f.buf[0], pre);
    assert_memory_equal(f.out.data + pre, f.buf[0], 2400);
    fx_free(&f);
}

/* ---- empty descriptors -------------------------------------------------------------------- */

static void body_zero(fx *f)
{
    codec_up();
    program(KSL_AC97_PO_BASE, f->bdl_pa, 2);
    WRITE_PORT_UCHAR(PO_REG(KSL_AC97_CR), KSL_AC97_CR_RPBM);
    wait_sr(KSL_AC97_PO_BASE, HALTED, 1000000);
    f->v[0] = READ_PORT_ULONG(PO_REG(KSL_AC97_CIV));
    /* Descriptor 3 is empty and the last valid one: the engine halts on it. */
    WRITE_PORT_UCHAR(PO_REG(KSL_AC97_LVI), 3);
    f->v[1] = READ_PORT_ULONG(PO_REG(KSL_AC97_CIV));
}

static void test_zero_length_descriptor(void **state)
{
    (void)state;
    fx f = {.body = body_zero, .nbuf = 4, .len = {100, 0, 51, 0}, .flags = {0, KSL_AC97_BD_IOC, 0, 0}};
    fx_run(&f);
    assert_clean(f.o);
    assert_int_equal(f.v[0], 2u | 2u << 8 | (uint32_t)(HALTED | KSL_AC97_SR_LVBCI) << 16);
    assert_int_equal(f.v[1], 3u | 3u << 8 | (uint32_t)(HALTED | KSL_AC97_SR_LVBCI) << 16);
    /* Buffer 0 then buffer 2; the empty one is neither played nor counted, its IOC not raised. */
    size_t n0 = 200, n2 = 102;
    assert_int_equal(f.out.len, n0 + n2);
    assert_memory_equal(f.out.data, f.buf[0], n0);
    assert_memory_equal(f.out.data + n0, f.buf[2], n2);
    assert_int_equal(f.st.buffers_completed, 2);
    fx_free(&f);
}

/* ---- capture ------------------------------------------------------------------------------ */

static void body_capture(fx *f)
{
    codec_up();
    program(KSL_AC97_PI_BASE, f->bdl_pa, (uint8_t)(f->nbuf - 1));
    WRITE_PORT_UCHAR(PI_REG(KSL_AC97_CR), KSL_AC97_CR_IOCE | KSL_AC97_CR_LVBIE | KSL_AC97_CR_RPBM);
    wait_sr(KSL_AC97_PI_BASE, HALTED, 1000000);
    f->v[0] = READ_PORT_ULONG(PI_REG(KSL_AC97_CIV));
    f->t1 = ksl_time_now();
    delay_us(3000); /* halted in RUN: over-run time */
}

static void test_capture(void **state)
{
    (void)state;
    fx f = {.body = body_capture,
            .nbuf = 3,
            .len = {300, 77, 513},
            .flags = {KSL_AC97_BD_IOC, KSL_AC97_BD_IOC, 0},
            .capture = true,
            .isr = ISR_ACK};
    fx_run(&f);
    assert_clean(f.o);
    assert_int_equal(f.v[0], 2u | 2u << 8 | (uint32_t)HALTED << 16);
    /* Memory holds the source's bytes in order across the buffers. */
    size_t at = 0;
    for (uint32_t i = 0; i < f.nbuf; i++) {
        assert_memory_equal(f.buf[i], f.tape_data + at, f.len[i] * 2u);
        at += f.len[i] * 2u;
    }
    assert_int_equal(f.st.bytes_captured, at);
    assert_int_equal(f.tape.pos, at); /* the tape moved only while the engine transferred */
    assert_int_equal(f.st.bytes_played, 0);
    assert_int_equal(f.out.len, 0);
    assert_int_equal(f.st.buffers_completed, 3);
    assert_int_equal(f.sr_seen[0] & (KSL_AC97_SR_BCIS | KSL_AC97_SR_LVBCI), KSL_AC97_SR_BCIS | KSL_AC97_SR_LVBCI);
    assert_true(f.gs[0] & KSL_AC97_GLOB_STA_PIINT);
    assert_true(f.st.overrun_ns >= 3000000u);
    assert_true(f.st.overrun_ns <= f.o.stats.time_ns - f.t_lvbci + SLACK_NS);
    fx_free(&f);
}

/* ---- rate and channel count decide the time a transfer takes ------------------------------ */

typedef struct rate_case {
    bool capture;
    uint16_t rate; /* 0: leave VRA off (48000) */
    bool mono;
    uint32_t len0, len1;
} rate_case;

static const rate_case *g_rate;

static void body_rate(fx *f)
{
    const rate_case *rc = g_rate;
    uint32_t chan = rc->capture ? KSL_AC97_PI_BASE : KSL_AC97_PO_BASE;
    codec_up();
    if (rc->rate) {
        WRITE_PORT_USHORT(NAM_REG(KSL_AC97_EXT_AUDIO_CTRL), KSL_AC97_EXT_VRA);
        WRITE_PORT_USHORT(NAM_REG(rc->capture ? KSL_AC97_LR_ADC_RATE : KSL_AC97_FRONT_DAC_RATE), rc->rate);
    }
    if (rc->mono)
        WRITE_PORT_ULONG(GLOB_REG(KSL_AC97_GLOB_CNT), KSL_AC97_GLOB_CNT_COLD |
                                                          (rc->capture ? KSL_AC97_GLOB_CNT_PI_MONO
                                                                       : KSL_AC97_GLOB_CNT_PO_MONO));
    program(chan, f->bdl_pa, 1);
    f->t0 = ksl_time_now();
    WRITE_PORT_UCHAR(NABM_BASE + chan + KSL_AC97_CR, KSL_AC97_CR_LVBIE | KSL_AC97_CR_RPBM);
    wait_sr(chan, HALTED, 3000000);
}

static void test_rate_and_mono_timing(void **state)
{
    (void)state;
    static const rate_case cases[] = {
        {false, 0, false, 600, 400},     /* 96000 words/s */
        {false, 8000, true, 600, 400},   /* 8000 words/s */
        {false, 22050, false, 600, 401}, /* 44100 words/s, a fractional ns per word */
        {true, 16000, true, 377, 0},     /* capture at 16000 words/s; buffer 1 empty */
        {false, 8000, true, 5000, 4000}, /* 1.125 s: crosses whole seconds, no drift */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const rate_case *rc = &cases[i];
        g_rate = rc;
        fx f = {.body = body_rate,
                .nbuf = 2,
                .len = {rc->len0, rc->len1},
                .capture = rc->capture,
                .isr = ISR_ACK};
        fx_run(&f);
        assert_clean(f.o);
        uint64_t wps = (uint64_t)(rc->rate ? rc->rate : 48000u) * (rc->mono ? 1u : 2u);
        uint64_t words = rc->len0 + rc->len1;
        uint64_t expect = words * 1000000000ull / wps;
        if (f.t_lvbci - f.t0 < expect || f.t_lvbci - f.t0 > expect + SLACK_NS)
            print_error("case %zu: took %llu ns, expected %llu\n", i, (unsigned long long)(f.t_lvbci - f.t0),
                        (unsigned long long)expect);
        assert_true(f.t_lvbci - f.t0 >= expect);
        assert_true(f.t_lvbci - f.t0 <= expect + SLACK_NS);
        assert_true(f.o.stats.time_ns >= f.t0 + expect);
        assert_int_equal(rc->capture ? f.st.bytes_captured : f.st.bytes_played, words * 2u);
        fx_free(&f);
    }
}

/* ---- DMA faults --------------------------------------------------------------------------- */

static uint32_t g_bad_pa;
static bool g_bad_bdbar;

static void body_dma_fault(fx *f)
{
    codec_up();
    if (g_bad_bdbar) {
        program(KSL_AC97_PO_BASE, g_bad_pa, 0);
    } else {
        bd_set(f, 1, g_bad_pa, 128); /* a descriptor pointing at no memory */
        program(KSL_AC97_PO_BASE, f->bdl_pa, 1);
    }
    WRITE_PORT_UCHAR(PO_REG(KSL_AC97_CR), KSL_AC97_CR_RPBM);
    wait_sr(KSL_AC97_PO_BASE, KSL_AC97_SR_DCH, 1000000);
    f->done = 2; /* not reached: the DMA finding stops the run */
}

static void test_dma_unmapped_address(void **state)
{
    (void)state;
    /* A descriptor pointing below every block, then a list base pointing there. */
    for (int bad_bdbar = 0; bad_bdbar < 2; bad_bdbar++) {
        fx f = {.body = body_dma_fault, .nbuf = 2, .len = {300, 300}};
        g_bad_bdbar = bad_bdbar != 0;
        g_bad_pa = 0x00000100u;
        fx_run(&f);
        /* A bad descriptor is exposed at the RPBM write first (the run goes on); a bad list base
         * cannot be read there, so the fetch reports it. */
        assert_rule(f.o, bad_bdbar ? "W5.dma-unmapped-address" : "W5.ring-exposes-dead-mapping");
        if (!bad_bdbar)
            assert_non_null(strstr(f.o.message, "the CR (RPBM) write lets the PCM Out bus master fetch descriptor 1"));
        const char *m = run_out_message_of(&f.o, "W5.dma-unmapped-address");
        assert_non_null(m);
        assert_non_null(strstr(m, "PCM Out"));
        assert_non_null(strstr(m, bad_bdbar ? "descriptor fetch" : "read of 256 bytes"));
        assert_int_equal(f.st.dma_errors, 1);
        if (bad_bdbar) {
            assert_int_equal(f.out.len, 0);
        } else {
            assert_played(&f, 0, 0); /* buffer 0 played, nothing from the bad one */
            assert_int_equal(f.st.buffers_completed, 1);
        }
        assert_int_not_equal(f.done, 2);
        fx_free(&f);
    }
}

/* A descriptor left pointing at freed memory. */
static void body_freed(fx *f)
{
    codec_up();
    program(KSL_AC97_PO_BASE, f->bdl_pa, 1);
    WRITE_PORT_UCHAR(PO_REG(KSL_AC97_CR), KSL_AC97_CR_RPBM);
    wait_sr(KSL_AC97_PO_BASE, HALTED, 1000000);
    f->done = 2;
}

static void setup_freed(ksl_engine *e, void *arg)
{
    fx *f = arg;
    fx_setup(e, f);
    ksl_physmem_free(f->pm, f->buf[1]);
    f->buf[1] = NULL;
}

static void test_dma_freed_buffer(void **state)
{
    (void)state;
    fx f = {.body = body_freed, .nbuf = 2, .len = {256, 256}};
    ksl_config c = cfg_with(3, 2);
    f.o = run_scenario_td(&c, setup_freed, fx_teardown, &f);
    assert_rule(f.o, "W5.ring-exposes-dead-mapping"); /* at the RPBM write, then the fetch: */
    assert_non_null(run_out_message_of(&f.o, "W5.dma-unmapped-address"));
    assert_int_equal(f.st.dma_errors, 1);
    assert_played(&f, 0, 0);
    assert_int_not_equal(f.done, 2);
    fx_free(&f);
}

/* An LVI write while PCM Out runs exposes descriptor 1: dead (no memory) or live.  Reported at
 * the write, the test's own line, before the engine fetches it; the run goes on (the fetch then
 * reports the bus error). */
static int g_lvi_line;

static void body_lvi_exposes(fx *f)
{
    codec_up();
    program(KSL_AC97_PO_BASE, f->bdl_pa, 0);
    WRITE_PORT_UCHAR(PO_REG(KSL_AC97_CR), KSL_AC97_CR_RPBM); /* plays descriptor 0 */
    if (f->v[9])
        bd_set(f, 1, 0x00000100u, 128); /* the driver points descriptor 1 at no memory */
    g_lvi_line = __LINE__ + 1;
    WRITE_PORT_UCHAR(PO_REG(KSL_AC97_LVI), 1);
    wait_sr(KSL_AC97_PO_BASE, HALTED, 1000000);
}

static void test_lvi_write_exposes_dead_descriptor(void **state)
{
    (void)state;
    for (int dead = 0; dead < 2; dead++) {
        fx f = {.body = body_lvi_exposes, .nbuf = 2, .len = {300, 300}};
        f.v[9] = (uint32_t)dead;
        fx_run(&f);
        if (!dead) {
            assert_clean(f.o);
            assert_played(&f, 0, 1);
        } else {
            assert_rule(f.o, "W5.ring-exposes-dead-mapping");
            assert_non_null(strstr(f.o.message, "the LVI write lets the PCM Out bus master fetch descriptor 1"));
            assert_non_null(strstr(f.o.message, "no memory at all"));
            assert_int_equal(f.o.line, g_lvi_line); /* at the driver's write */
            assert_non_null(run_out_message_of(&f.o, "W5.dma-unmapped-address")); /* the fetch, later */
        }
        fx_free(&f);
    }
}

/* The port's ledger refuses: no bytes move, one error, no second report; the run goes on. */
static void body_refused(fx *f)
{
    codec_up();
    program(f->capture ? KSL_AC97_PI_BASE : KSL_AC97_PO_BASE, f->bdl_pa, 0);
    WRITE_PORT_UCHAR(NABM_BASE + (f->capture ? KSL_AC97_PI_BASE : KSL_AC97_PO_BASE) + KSL_AC97_CR, KSL_AC97_CR_RPBM);
    f->v[0] = wait_sr(f->capture ? KSL_AC97_PI_BASE : KSL_AC97_PO_BASE, KSL_AC97_SR_DCH, 1000000);
    delay_us(20000); /* halted: no further attempts */
    f->v[1] = READ_PORT_ULONG(NABM_BASE + (f->capture ? KSL_AC97_PI_BASE : KSL_AC97_PO_BASE) + KSL_AC97_CIV);
}

static void test_dma_observer_refuses(void **state)
{
    (void)state;
    for (int capture = 0; capture < 2; capture++) {
        fx f = {.body = body_refused, .nbuf = 1, .len = {700}, .capture = capture != 0, .refuse = true};
        fx_run(&f);
        /* The ledger's answer is exposed at the RPBM write; the refused DMA itself adds none. */
        assert_rule(f.o, "W5.ring-exposes-dead-mapping");
        assert_int_equal(f.o.nfindings, 1);
        assert_int_equal(f.v[0], 1);
        assert_int_equal(f.v[1], (uint32_t)KSL_AC97_SR_DCH << 16); /* CIV 0, no CELV */
        assert_int_equal(f.st.dma_errors, 1);
        assert_int_equal(f.refusals, 1);
        assert_int_equal(f.st.bytes_played + f.st.bytes_captured, 0);
        assert_int_equal(f.st.buffers_completed, 0);
        assert_int_equal(f.out.len, 0);
        if (capture) {
            static const uint8_t zeros[1400];
            assert_memory_equal(f.buf[0], zeros, sizeof zeros); /* memory untouched */
        }
        fx_free(&f);
    }
}

/* ---- GLOB_STA mirrors and the shared line ------------------------------------------------- */

static BOOLEAN enable_both(PVOID ctx)
{
    fx *f = ctx;
    /* Holding the interrupt lock: both channels become pending before the ISR can run. */
    WRITE_PORT_UCHAR(PI_REG(KSL_AC97_CR), KSL_AC97_CR_IOCE | KSL_AC97_CR_RPBM);
    WRITE_PORT_UCHAR(PO_REG(KSL_AC97_CR), KSL_AC97_CR_IOCE | KSL_AC97_CR_RPBM);
    f->v[3] = READ_PORT_ULONG(GLOB_REG(KSL_AC97_GLOB_STA));
    WRITE_PORT_ULONG(GLOB_REG(KSL_AC97_GLOB_STA), 0xFFFFFFFFu); /* mirrors are read-only */
    f->v[4] = READ_PORT_ULONG(GLOB_REG(KSL_AC97_GLOB_STA));
    return TRUE;
}

static void body_mirrors(fx *f)
{
    codec_up();
    /* Buffer 0 for PCM In, buffer 1 for PCM Out; IOC on both, interrupts disabled. */
    WRITE_PORT_ULONG(PI_REG(KSL_AC97_BDBAR), f->bdl_pa);
    WRITE_PORT_ULONG(PO_REG(KSL_AC97_BDBAR), f->bdl_pa + KSL_AC97_BD_SIZE);
    WRITE_PORT_UCHAR(PI_REG(KSL_AC97_CR), KSL_AC97_CR_RPBM);
    WRITE_PORT_UCHAR(PO_REG(KSL_AC97_CR), KSL_AC97_CR_RPBM);
    wait_sr(KSL_AC97_PI_BASE, HALTED, 1000000);
    wait_sr(KSL_AC97_PO_BASE, HALTED, 1000000);
    f->v[0] = READ_PORT_USHORT(PI_REG(KSL_AC97_SR));
    f->v[1] = READ_PORT_USHORT(PO_REG(KSL_AC97_SR));
    f->v[2] = READ_PORT_ULONG(GLOB_REG(KSL_AC97_GLOB_STA));
    f->v[5] = (uint32_t)f->isr_runs;
    KeSynchronizeExecution(f->intr, enable_both, f);
    delay_us(100);
    f->v[6] = READ_PORT_ULONG(GLOB_REG(KSL_AC97_GLOB_STA));
}

static void test_glob_sta_mirrors(void **state)
{
    (void)state;
    fx f = {.body = body_mirrors,
            .nbuf = 2,
            .len = {256, 256},
            .flags = {KSL_AC97_BD_IOC, KSL_AC97_BD_IOC},
            .capture = true, /* buffer 1 then holds zeros for PCM Out: fine */
            .isr = ISR_MIRROR};
    fx_run(&f);
    assert_clean(f.o);
    uint32_t chans = KSL_AC97_GLOB_STA_PIINT | KSL_AC97_GLOB_STA_POINT | KSL_AC97_GLOB_STA_MINT;
    /* Status set, but no enable: no mirror, no interrupt. */
    uint16_t done = KSL_AC97_SR_BCIS | KSL_AC97_SR_LVBCI | HALTED;
    assert_int_equal(f.v[0], done);
    assert_int_equal(f.v[1], done);
    assert_int_equal(f.v[2], KSL_AC97_GLOB_STA_PCR);
    assert_int_equal(f.v[5], 0);
    /* IOCE on both: both mirrors; a write does not clear them. */
    assert_int_equal(f.v[3] & chans, KSL_AC97_GLOB_STA_PIINT | KSL_AC97_GLOB_STA_POINT);
    assert_int_equal(f.v[4], f.v[3]);
    /* One rising edge, one ISR: the line stays up until the second channel is acknowledged. */
    assert_int_equal(f.isr_runs, 1);
    assert_int_equal(f.st.interrupts, 1);
    assert_int_equal(f.gs[0] & chans, KSL_AC97_GLOB_STA_PIINT | KSL_AC97_GLOB_STA_POINT);
    assert_int_equal(f.gs[1] & chans, KSL_AC97_GLOB_STA_PIINT);
    assert_int_equal(f.gs[2] & chans, 0);
    assert_int_equal(f.v[6] & chans, 0);
    fx_free(&f);
}

/* ---- the device model API: the built-in model and its fault hook ---------------------------- */

/* A device without registers (size 0) whose one event shows a fault on the AC'97 through the
 * model's inject hook, at a virtual time of the test's choosing: what a user's fault injector on
 * the public device API looks like. */
typedef struct injector {
    const ksl_device_model *model;
    void *target;
    const char *fault;
    bool took;
    ksl_device *dev;
} injector;

static void inject_event(void *dev, uint64_t cookie, uint64_t now)
{
    (void)cookie;
    (void)now;
    injector *in = dev;
    in->took = in->model->inject(in->target, in->fault, 0);
}

static const ksl_device_ops injector_ops = {KSL_DEVICE_OPS_VERSION, "fault injector", NULL, NULL, inject_event, 0};
static injector g_inject;

static void setup_with_injector(ksl_engine *e, void *arg)
{
    fx_setup(e, arg);
    fx *f = arg;
    g_inject.target = f->ac;
    g_inject.dev = ksl_device_attach(e, &injector_ops, &g_inject, 0, 0);
    assert_non_null(g_inject.dev);
    ksl_device_schedule(g_inject.dev, 500000, 1); /* 0.5 ms in: the engine is running */
}

static void body_fifo_error(fx *f)
{
    codec_up();
    program(KSL_AC97_PO_BASE, f->bdl_pa, 0);
    WRITE_PORT_UCHAR(PO_REG(KSL_AC97_CR), KSL_AC97_CR_FEIE | KSL_AC97_CR_RPBM);
    wait_sr(KSL_AC97_PO_BASE, KSL_AC97_SR_FIFOE, 2000000);
    f->v[0] = READ_PORT_USHORT(PO_REG(KSL_AC97_SR));
    f->v[1] = READ_PORT_USHORT(PI_REG(KSL_AC97_SR));
    WRITE_PORT_UCHAR(PO_REG(KSL_AC97_CR), 0);
}

static void test_model_and_fault_hook(void **state)
{
    (void)state;
    size_t n;
    const ksl_device_model *const *all = ksl_device_models(&n);
    assert_int_equal(n, 4);
    const ksl_device_model *m = ksl_device_model_find("ac97");
    assert_ptr_equal(m, all[0]);
    assert_int_equal(m->cls, KSL_DEVICE_AUDIO);
    assert_string_equal(m->faults[0], "fifo-error");
    assert_null(ksl_device_model_find("no-such-device"));
    assert_int_equal(ksl_device_model_find("fifocap")->cls, KSL_DEVICE_FRAMES);

    /* The fault, shown at 0.5 ms by an event: FIFOE on the running PCM Out only, and with FEIE an
     * interrupt the ISR takes. */
    g_inject = (injector){.model = m, .fault = "fifo-error"};
    fx f = {.body = body_fifo_error, .nbuf = 1, .len = {48000}, .flags = {0}, .isr = ISR_ACK};
    ksl_config c = cfg_with(1, 2);
    f.o = run_scenario_td(&c, setup_with_injector, fx_teardown, &f);
    assert_clean(f.o);
    assert_true(g_inject.took);
    assert_true(f.sr_seen[1] & KSL_AC97_SR_FIFOE);
    assert_int_equal(f.v[1] & KSL_AC97_SR_FIFOE, 0); /* PCM In was not running */
    assert_true(f.isr_runs >= 1);
    assert_false(m->inject(f.ac, "no-such-fault", 0));
    fx_free(&f);
}

/* busmaster-error at 0.5 ms into two 4 800-sample buffers (50 ms each at 48 kHz stereo): the
 * engine halts mid-buffer with RPBM still set; an LVI write does not revive it; RPBM 0 -> 1 does,
 * and the output is still both buffers exactly. */
static void body_bus_error(fx *f)
{
    codec_up();
    program(KSL_AC97_PO_BASE, f->bdl_pa, 1);
    WRITE_PORT_UCHAR(PO_REG(KSL_AC97_CR), KSL_AC97_CR_FEIE | KSL_AC97_CR_RPBM);
    f->v[9] = wait_sr(KSL_AC97_PO_BASE, KSL_AC97_SR_DCH, 2000000);
    f->v[0] = READ_PORT_USHORT(PO_REG(KSL_AC97_SR));
    f->v[1] = READ_PORT_UCHAR(PO_REG(KSL_AC97_CR));
    f->outlen[0] = f->out.len;
    WRITE_PORT_UCHAR(PO_REG(KSL_AC97_LVI), 1);
    delay_us(2000);
    f->v[2] = READ_PORT_USHORT(PO_REG(KSL_AC97_SR));
    f->outlen[1] = f->out.len;
    WRITE_PORT_UCHAR(PO_REG(KSL_AC97_CR), KSL_AC97_CR_FEIE);
    WRITE_PORT_UCHAR(PO_REG(KSL_AC97_CR), KSL_AC97_CR_FEIE | KSL_AC97_CR_RPBM);
    f->v[3] = wait_sr(KSL_AC97_PO_BASE, HALTED, 2000000);
    WRITE_PORT_UCHAR(PO_REG(KSL_AC97_CR), 0);
}

/* lost-interrupt: the completion of buffer 0 (IOC) sets BCIS without an interrupt; buffer 1's
 * completion raises the line, and the ISR sees both buffers' bits at once. */
static void body_lost_interrupt(fx *f)
{
    codec_up();
    program(KSL_AC97_PO_BASE, f->bdl_pa, 2);
    WRITE_PORT_UCHAR(PO_REG(KSL_AC97_CR), KSL_AC97_CR_IOCE | KSL_AC97_CR_RPBM);
    while (READ_PORT_UCHAR(PO_REG(KSL_AC97_CIV)) == 0)
        delay_us(20);
    f->v[0] = READ_PORT_USHORT(PO_REG(KSL_AC97_SR)); /* BCIS set, yet ... */
    f->v[1] = (uint32_t)f->isr_runs;                  /* ... no ISR ran */
    while (READ_PORT_UCHAR(PO_REG(KSL_AC97_CIV)) == 1)
        delay_us(20);
    delay_us(100);
    f->v[2] = (uint32_t)f->isr_runs;
    wait_sr(KSL_AC97_PO_BASE, HALTED, 2000000);
    WRITE_PORT_UCHAR(PO_REG(KSL_AC97_CR), 0);
}

/* stuck-reset: RR reads 1 for good after the reset it interrupts and every later one; the reset
 * itself still happens (CIV 0). */
static void body_stuck_reset(fx *f)
{
    codec_up();
    program(KSL_AC97_PO_BASE, f->bdl_pa, 0);
    delay_us(600); /* past the injection at 0.5 ms */
    WRITE_PORT_UCHAR(PO_REG(KSL_AC97_CR), KSL_AC97_CR_RR);
    delay_us(1000); /* 500 times the reset time */
    f->v[0] = READ_PORT_UCHAR(PO_REG(KSL_AC97_CR));
    f->v[1] = READ_PORT_UCHAR(PO_REG(KSL_AC97_CIV));
    f->v[2] = READ_PORT_ULONG(PO_REG(KSL_AC97_BDBAR));
}

static void run_fault(fx *f, const char *fault)
{
    g_inject = (injector){.model = ksl_device_model_find("ac97"), .fault = fault};
    ksl_config c = cfg_with(1, 2);
    f->o = run_scenario_td(&c, setup_with_injector, fx_teardown, f);
    assert_clean(f->o);
    assert_true(g_inject.took);
}

static void test_fault_busmaster_error(void **state)
{
    (void)state;
    fx f = {.body = body_bus_error, .nbuf = 2, .len = {4800, 4800}, .flags = {0, 0}, .isr = ISR_ACK};
    run_fault(&f, "busmaster-error");
    assert_true(f.v[9]);
    assert_int_equal(f.v[0] & (KSL_AC97_SR_DCH | KSL_AC97_SR_CELV), KSL_AC97_SR_DCH);
    assert_true(f.sr_seen[1] & KSL_AC97_SR_FIFOE); /* FEIE: the ISR saw it */
    assert_true(f.v[1] & KSL_AC97_CR_RPBM);
    assert_true(f.v[2] & KSL_AC97_SR_DCH);          /* LVI did not revive it ... */
    assert_int_equal(f.outlen[1], f.outlen[0]);     /* ... nothing moved meanwhile */
    assert_true(f.outlen[0] > 0 && f.outlen[0] < 9600);
    assert_true(f.v[3]);
    assert_int_equal(f.out.len, 2u * 9600u);         /* resumed where it stopped: nothing lost ... */
    assert_memory_equal(f.out.data, f.buf[0], 9600); /* ... or repeated */
    assert_memory_equal(f.out.data + 9600, f.buf[1], 9600);
    fx_free(&f);
}

static void test_fault_lost_interrupt(void **state)
{
    (void)state;
    fx f = {.body = body_lost_interrupt,
            .nbuf = 3,
            .len = {96, 96, 96},
            .flags = {KSL_AC97_BD_IOC, KSL_AC97_BD_IOC, KSL_AC97_BD_IOC},
            .isr = ISR_ACK};
    run_fault(&f, "lost-interrupt");
    assert_true(f.v[0] & KSL_AC97_SR_BCIS);
    assert_int_equal(f.v[1], 0);
    assert_true(f.v[2] >= 1);
    assert_true(f.sr_seen[1] & KSL_AC97_SR_BCIS);
    fx_free(&f);
}

static void test_fault_stuck_reset(void **state)
{
    (void)state;
    fx f = {.body = body_stuck_reset, .nbuf = 1, .len = {96}, .flags = {0}, .isr = ISR_NONE};
    run_fault(&f, "stuck-reset");
    assert_true(f.v[0] & KSL_AC97_CR_RR);
    assert_int_equal(f.v[1], 0);
    assert_int_equal(f.v[2], 0); /* the reset cleared BDBAR */
    fx_free(&f);
}

/* ---- engines ------------------------------------------------------------------------------ */

static void test_deterministic_runs(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= 4; seed++) {
        uint64_t hash[2];
        for (int k = 0; k < 2; k++) {
            fx f = {.body = body_play_all,
                    .nbuf = 3,
                    .len = {700, 3, 515},
                    .flags = {KSL_AC97_BD_IOC, KSL_AC97_BD_IOC, KSL_AC97_BD_IOC},
                    .isr = ISR_ACK,
                    .seed = seed};
            fx_run(&f);
            assert_clean(f.o);
            assert_played(&f, 0, 2);
            hash[k] = f.o.hash;
            fx_free(&f);
        }
        assert_true(hash[0] == hash[1]);
    }
}

/* Playback on the threaded engine: polling only (no interrupts), the bytes checked after it. */
static void body_threaded(fx *f)
{
    codec_up();
    program(KSL_AC97_PO_BASE, f->bdl_pa, (uint8_t)(f->nbuf - 1));
    WRITE_PORT_UCHAR(PO_REG(KSL_AC97_CR), KSL_AC97_CR_RPBM);
    f->v[0] = wait_sr(KSL_AC97_PO_BASE, HALTED, 1000000);
}

static void test_threaded_playback(void **state)
{
    (void)state;
    fx f = {.body = body_threaded, .nbuf = 3, .len = {1000, 257, 640}, .threaded = true};
    fx_run(&f);
    assert_clean(f.o);
    assert_int_equal(f.v[0], 1);
    assert_played(&f, 0, 2);
    assert_int_equal(f.st.buffers_completed, 3);
    fx_free(&f);
}

/* ---- creation ----------------------------------------------------------------------------- */

static void setup_create(ksl_engine *e, void *arg)
{
    int *ok = arg;
    ksl_physmem *pm = ksl_physmem_create(1u << 20, false, 1);
    char err[160] = "";
    /* NAM and NABM overlapping each other, then a range another device holds. */
    assert_null(ksl_ac97_create(e, pm, 0x100, 0x120, AC_LINE, NULL, NULL, err, sizeof err));
    assert_non_null(strstr(err, "overlaps"));
    ksl_ac97 *a = ksl_ac97_create(e, pm, NAM_BASE, NABM_BASE, AC_LINE, NULL, NULL, err, sizeof err);
    assert_non_null(a);
    err[0] = 0;
    assert_null(ksl_ac97_create(e, pm, NAM_BASE + 0x80, 0xC000, AC_LINE, NULL, NULL, err, sizeof err));
    assert_non_null(strstr(err, "NAM"));
    assert_null(ksl_ac97_create(e, NULL, 0xC000, 0xC400, AC_LINE, NULL, NULL, err, sizeof err));
    ksl_ac97_stats st;
    ksl_ac97_get_stats(a, &st);
    assert_int_equal(st.bytes_played + st.interrupts + st.dma_errors, 0);
    ksl_ac97_destroy(a);
    ksl_physmem_destroy(pm);
    *ok = 1;
}

static void test_create_errors(void **state)
{
    (void)state;
    int ok = 0;
    ksl_config c = cfg_with(1, 1);
    run_out o = run_scenario(&c, setup_create, &ok);
    assert_int_equal(ok, 1);
    assert_clean(o);
    run_out_free(&o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_create_errors),
        cmocka_unit_test(test_codec_registers),
        cmocka_unit_test(test_codec_probe),
        cmocka_unit_test(test_register_file),
        cmocka_unit_test(test_playback_descriptors),
        cmocka_unit_test(test_lvi_halts_and_resumes),
        cmocka_unit_test(test_restart_after_end),
        cmocka_unit_test(test_pause_resume),
        cmocka_unit_test(test_rr_resets_keeps_ie),
        cmocka_unit_test(test_zero_length_descriptor),
        cmocka_unit_test(test_capture),
        cmocka_unit_test(test_rate_and_mono_timing),
        cmocka_unit_test(test_dma_unmapped_address),
        cmocka_unit_test(test_dma_freed_buffer),
        cmocka_unit_test(test_dma_observer_refuses),
        cmocka_unit_test(test_lvi_write_exposes_dead_descriptor),
        cmocka_unit_test(test_glob_sta_mirrors),
        cmocka_unit_test(test_model_and_fault_hook),
        cmocka_unit_test(test_fault_busmaster_error),
        cmocka_unit_test(test_fault_lost_interrupt),
        cmocka_unit_test(test_fault_stuck_reset),
        cmocka_unit_test(test_deterministic_runs),
        cmocka_unit_test(test_threaded_playback),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
