/* SPDX-License-Identifier: MIT */
/*
 * The AC'97 (Intel ICH) controller model (see <kslab/hw/ac97.h>): one struct for the chip, one
 * per DMA channel, the codec as a small register file.
 *
 * Time.  A running channel always has one chunk in flight and one device event pending: the end
 * of that chunk.  Chunk ends are derived from a base time and a count of 16-bit words moved since
 * it (end = base + words * 1e9 / words_per_second), so no rounding accumulates; the base moves
 * forward by exactly one second whenever a second's worth of words has been counted, and is reset
 * only when the channel (re)starts or its rate changes.  A pause keeps the chunk in flight and
 * the time it still needs, so the transfer resumes exactly where it stopped.
 *
 * A channel halted with RPBM=1 (end of the list, nothing new, or a DMA error) is "starved": PCM
 * Out accumulates under-run fill, PCM In over-run time, both computed from the interval when the
 * starvation ends or the statistics are read.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kslab/engine.h>
#include <kslab/hw/ac97.h>

#define NS_PER_S 1000000000ull
#define SAMPLE_BYTES 2u                     /* one sample: a 16-bit word */
#define CHUNK_BYTES (KSL_AC97_CHUNK_SAMPLES * SAMPLE_BYTES)

/* ---- the codec ---------------------------------------------------------------------------- */

/* The primary codec answers NAM [0x00, 0x80); no secondary codec is present (reads 0). */
#define CODEC_SPAN 0x80u
#define CODEC_RESET_CAPS 0x0000u  /* RESET reads: 16-bit DAC and ADC, no tone, bass boost or 3D */
#define CODEC_POWERDOWN_READY 0x000Fu /* ADC, DAC, analog mixer and Vref ready */
#define CODEC_VENDOR1 0x8384u     /* SigmaTel */
#define CODEC_VENDOR2 0x7600u     /* STAC9700 */

/* Mixer registers the codec implements as plain storage, with their reset values. */
static const struct {
    uint8_t reg;
    uint16_t value;
} codec_plain[] = {
    {KSL_AC97_MASTER_VOL, 0x8000u},     /* muted */
    {0x04u, 0x8000u},                   /* headphone volume, muted */
    {0x06u, 0x8000u},                   /* master mono volume, muted */
    {0x0Au, 0x0000u},                   /* PC beep volume */
    {0x0Cu, 0x8008u},                   /* phone volume */
    {0x0Eu, 0x8008u},                   /* mic volume */
    {0x10u, 0x8808u},                   /* line in volume */
    {0x12u, 0x8808u},                   /* CD volume */
    {0x14u, 0x8808u},                   /* video volume */
    {0x16u, 0x8808u},                   /* aux volume */
    {KSL_AC97_PCM_OUT_VOL, 0x8808u},
    {KSL_AC97_RECORD_SELECT, 0x0000u},
    {KSL_AC97_RECORD_GAIN, 0x8000u},
    {0x20u, 0x0000u},                   /* general purpose */
    {0x22u, 0x0000u},                   /* 3D control */
};

/* ---- the bus master ----------------------------------------------------------------------- */

enum { CH_PI = 0, CH_PO = 1, CH_MC = 2, NCHANNELS = 3 };

static const char *const channel_names[NCHANNELS] = {"PCM In", "PCM Out", "Mic In"};

/* What a NABM byte belongs to. */
typedef enum reg_id { R_NONE, R_BDBAR, R_CIV, R_LVI, R_SR, R_PICB, R_PIV, R_CR, R_GLOB_CNT, R_GLOB_STA, R_CAS } reg_id;

typedef struct reg_ref {
    reg_id id;
    uint32_t start; /* NABM offset of the register's first byte */
    unsigned size;  /* bytes */
    unsigned ch;    /* channel, for the per-channel registers */
} reg_ref;

typedef struct ac97_chan {
    unsigned index; /* CH_PI, CH_PO, CH_MC */
    /* Registers. */
    uint32_t bdbar;
    uint8_t civ, lvi, piv, cr;
    uint16_t sr, picb;
    uint64_t rr_until;       /* CR.RR reads 1 before this time */
    /* The loaded descriptor. */
    bool loaded;
    uint32_t bd_addr;        /* the next byte to move */
    uint32_t bd_ctl;         /* dword 1: IOC, BUP, length */
    bool bup;                /* the last completed buffer's under-run policy (fill repeats) */
    /* The transfer. */
    uint32_t chunk;          /* samples in flight (0: none) */
    bool scheduled;          /* the end of the chunk is a pending device event */
    uint64_t chunk_end;      /* when the chunk in flight ends */
    uint64_t remain;         /* paused mid-chunk: time the chunk still needs */
    uint32_t wps;            /* words per second of the clock below; 0: restart it */
    uint64_t clock_ns;       /* chunk ends are clock_ns + clock_words * 1e9 / wps */
    uint64_t clock_words;
    bool starved;            /* halted with RPBM=1 */
    uint64_t starved_since;
} ac97_chan;

/* Rule W2: Eraser's lockset over one channel's queue registers (BDBAR, LVI, CR).  The first
 * writer owns them exclusively; from the first write by another context on, the candidate set
 * is the intersection of the spin locks each writer held.  Empty means two contexts can modify
 * the hardware queue at once. */
#define LOCKSET_MAX 8
typedef struct queue_lockset {
    int state;                      /* 0 never written, 1 one writer so far, 2 shared */
    char owner[64];                 /* the exclusive writer's context name */
    const ksl_spinlock *locks[LOCKSET_MAX];
    uint32_t n;
    bool reported;
} queue_lockset;

struct ksl_ac97 {
    ksl_engine *e;
    queue_lockset ls[NCHANNELS];
    ksl_physmem *pm;
    ksl_device *nam, *nabm;
    uint32_t line;
    bool irq;                /* the level we drive */
    ksl_pcm_sink sink;
    ksl_pcm_source source;
    bool has_sink, has_source;
    uint16_t codec[CODEC_SPAN / 2];
    uint32_t glob_cnt;
    uint8_t cas;
    ac97_chan ch[NCHANNELS];
    ksl_ac97_stats st;
    uint8_t buf[CHUNK_BYTES];
};

/* ---- codec registers ---------------------------------------------------------------------- */

static void codec_reset(ksl_ac97 *d)
{
    memset(d->codec, 0, sizeof d->codec);
    for (size_t i = 0; i < sizeof codec_plain / sizeof codec_plain[0]; i++)
        d->codec[codec_plain[i].reg / 2] = codec_plain[i].value;
    d->codec[KSL_AC97_RESET / 2] = CODEC_RESET_CAPS;
    d->codec[KSL_AC97_POWERDOWN / 2] = CODEC_POWERDOWN_READY;
    d->codec[KSL_AC97_EXT_AUDIO_ID / 2] = KSL_AC97_EXT_VRA;
    d->codec[KSL_AC97_EXT_AUDIO_CTRL / 2] = 0;
    d->codec[KSL_AC97_FRONT_DAC_RATE / 2] = KSL_AC97_DEFAULT_RATE;
    d->codec[KSL_AC97_LR_ADC_RATE / 2] = KSL_AC97_DEFAULT_RATE;
    d->codec[KSL_AC97_VENDOR_ID1 / 2] = CODEC_VENDOR1;
    d->codec[KSL_AC97_VENDOR_ID2 / 2] = CODEC_VENDOR2;
}

static bool codec_is_plain(uint32_t reg)
{
    for (size_t i = 0; i < sizeof codec_plain / sizeof codec_plain[0]; i++)
        if (codec_plain[i].reg == reg)
            return true;
    return false;
}

/* The value of the 16-bit codec register at even offset `reg`. */
static uint16_t codec_read(const ksl_ac97 *d, uint32_t reg)
{
    return reg < CODEC_SPAN ? d->codec[reg / 2] : 0;
}

/* A write of the whole 16-bit register at even offset `reg`. */
static void codec_write(ksl_ac97 *d, uint32_t reg, uint16_t v)
{
    bool vra = (d->codec[KSL_AC97_EXT_AUDIO_CTRL / 2] & KSL_AC97_EXT_VRA) != 0;
    switch (reg) {
    case KSL_AC97_RESET:
        codec_reset(d);
        break;
    case KSL_AC97_POWERDOWN: /* the power-down requests are stored; the sections stay ready */
        d->codec[reg / 2] = (uint16_t)((v & 0xFF00u) | CODEC_POWERDOWN_READY);
        break;
    case KSL_AC97_EXT_AUDIO_CTRL:
        d->codec[reg / 2] = (uint16_t)(v & KSL_AC97_EXT_VRA);
        if (!(v & KSL_AC97_EXT_VRA)) { /* fixed 48 kHz without VRA */
            d->codec[KSL_AC97_FRONT_DAC_RATE / 2] = KSL_AC97_DEFAULT_RATE;
            d->codec[KSL_AC97_LR_ADC_RATE / 2] = KSL_AC97_DEFAULT_RATE;
        }
        break;
    case KSL_AC97_FRONT_DAC_RATE:
    case KSL_AC97_LR_ADC_RATE:
        /* Only with VRA enabled; a rate the codec cannot run at leaves the old one. */
        if (vra && v >= KSL_AC97_MIN_RATE && v <= KSL_AC97_MAX_RATE)
            d->codec[reg / 2] = v;
        break;
    default:
        if (codec_is_plain(reg))
            d->codec[reg / 2] = v;
        break; /* read-only (the ids), or a register this codec does not have: ignored */
    }
}

static uint32_t nam_read(void *dev, uint32_t off, unsigned width, uint64_t now)
{
    (void)now;
    ksl_ac97 *d = dev;
    d->cas = 0;
    uint32_t v = 0;
    for (unsigned i = 0; i < width && i < 4; i++) {
        uint32_t b = off + i;
        v |= (uint32_t)((codec_read(d, b & ~1u) >> (8 * (b & 1u))) & 0xFFu) << (8 * i);
    }
    return v;
}

static void nam_write(void *dev, uint32_t off, unsigned width, uint32_t value, uint64_t now)
{
    (void)now;
    ksl_ac97 *d = dev;
    d->cas = 0;
    /* Each 16-bit register the access touches gets one write: its other byte keeps its value. */
    for (unsigned i = 0; i < width && i < 4;) {
        uint32_t reg = (off + i) & ~1u;
        uint16_t v = codec_read(d, reg);
        while (i < width && i < 4 && ((off + i) & ~1u) == reg) {
            unsigned lane = (off + i) & 1u;
            uint16_t byte = (uint16_t)((value >> (8 * i)) & 0xFFu);
            v = (uint16_t)((v & ~(0xFFu << (8 * lane))) | (uint16_t)(byte << (8 * lane)));
            i++;
        }
        codec_write(d, reg, v);
    }
}

/* ---- interrupts and starvation ------------------------------------------------------------ */

/* The channel has an enabled interrupt pending. */
static bool chan_pending(const ac97_chan *ch)
{
    return ((ch->sr & KSL_AC97_SR_BCIS) && (ch->cr & KSL_AC97_CR_IOCE)) ||
           ((ch->sr & KSL_AC97_SR_LVBCI) && (ch->cr & KSL_AC97_CR_LVBIE)) ||
           ((ch->sr & KSL_AC97_SR_FIFOE) && (ch->cr & KSL_AC97_CR_FEIE));
}

/* Drive the line to the OR over channels; count rising edges. */
static void update_irq(ksl_ac97 *d)
{
    bool level = false;
    for (unsigned i = 0; i < NCHANNELS; i++)
        level = level || chan_pending(&d->ch[i]);
    if (level == d->irq)
        return;
    d->irq = level;
    if (level)
        d->st.interrupts++;
    ksl_irq_line_set(d->e, d->line, level);
}

/* Words per second the channel moves at: its codec rate times its channel count. */
static uint32_t chan_wps(const ksl_ac97 *d, const ac97_chan *ch)
{
    uint32_t rate = codec_read(d, ch->index == CH_PO ? KSL_AC97_FRONT_DAC_RATE : KSL_AC97_LR_ADC_RATE);
    uint32_t mono = ch->index == CH_PO ? KSL_AC97_GLOB_CNT_PO_MONO : KSL_AC97_GLOB_CNT_PI_MONO;
    return rate * ((d->glob_cnt & mono) ? 1u : 2u);
}

/* Words a stream of `wps` words per second moves in `ns`. */
static uint64_t words_in(uint64_t ns, uint32_t wps)
{
    return ns / NS_PER_S * wps + ns % NS_PER_S * wps / NS_PER_S;
}

static void starve_begin(ac97_chan *ch, uint64_t t)
{
    if (!ch->starved) {
        ch->starved = true;
        ch->starved_since = t;
    }
}

/* Close a starved interval at `now`: PCM Out's fill, PCM In's over-run. */
static void starve_end(ksl_ac97 *d, ac97_chan *ch, uint64_t now)
{
    if (!ch->starved)
        return;
    uint64_t dt = now > ch->starved_since ? now - ch->starved_since : 0;
    if (ch->index == CH_PO)
        d->st.fill_samples += words_in(dt, chan_wps(d, ch));
    else if (ch->index == CH_PI)
        d->st.overrun_ns += dt;
    ch->starved = false;
}

static uint64_t chan_cookie(const ac97_chan *ch)
{
    return 1u + ch->index;
}

/* Stop moving data: nothing scheduled, nothing in flight, DCH set. */
static void chan_halt(ksl_ac97 *d, ac97_chan *ch, uint64_t t)
{
    if (ch->scheduled)
        ksl_device_unschedule(d->nabm, chan_cookie(ch));
    ch->scheduled = false;
    ch->chunk = 0;
    ch->remain = 0;
    ch->sr |= KSL_AC97_SR_DCH;
    if (ch->cr & KSL_AC97_CR_RPBM)
        starve_begin(ch, t);
}

/* A DMA access failed: count it, report a bus error (the ledger reported its own refusal), and
 * halt the channel so that one bad descriptor makes one error. */
static void dma_error(ksl_ac97 *d, ac97_chan *ch, uint64_t t, int rc, uint64_t pa, uint32_t len, const char *what)
{
    d->st.dma_errors++;
    if (rc == -1)
        ksl_report("W5.dma-unmapped-address", NULL, 0,
                   "AC'97 %s: %s of %" PRIu32 " bytes at physical 0x%08" PRIx64
                   " (descriptor %u) reaches no memory block",
                   channel_names[ch->index], what, len, pa, (unsigned)ch->civ);
    ch->loaded = false;
    chan_halt(d, ch, t);
    update_irq(d);
}

/* ---- the DMA engine ----------------------------------------------------------------------- */

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Start the next chunk of the loaded descriptor at `t` (PCM Out fetches its data now). */
static void chunk_start(ksl_ac97 *d, ac97_chan *ch, uint64_t t)
{
    uint32_t wps = chan_wps(d, ch);
    if (wps != ch->wps) {
        ch->wps = wps;
        ch->clock_ns = t;
        ch->clock_words = 0;
    }
    uint32_t n = ch->picb < KSL_AC97_CHUNK_SAMPLES ? ch->picb : KSL_AC97_CHUNK_SAMPLES;
    if (ch->index == CH_PO) {
        int rc = ksl_physmem_dma_read(d->pm, ch->bd_addr, d->buf, n * SAMPLE_BYTES);
        if (rc) {
            dma_error(d, ch, t, rc, ch->bd_addr, n * SAMPLE_BYTES, "read");
            return;
        }
        if (d->has_sink)
            d->sink.put(d->sink.ctx, d->buf, n * SAMPLE_BYTES);
        d->st.bytes_played += n * SAMPLE_BYTES;
        /* The FIFO holds the chunk now: PICB counts the samples not yet fetched, so a pause
         * and reset here restarts after them, never replaying them. */
        ch->bd_addr += n * SAMPLE_BYTES;
        ch->picb = (uint16_t)(ch->picb - n);
    }
    ch->chunk = n;
    ch->clock_words += n;
    if (ch->clock_words >= wps) { /* exact: wps words take exactly one second */
        ch->clock_ns += NS_PER_S;
        ch->clock_words -= wps;
    }
    ch->chunk_end = ch->clock_ns + ch->clock_words * NS_PER_S / wps;
    ch->scheduled = true;
    ksl_device_schedule(d->nabm, ch->chunk_end, chan_cookie(ch));
}

/* Load the descriptor at CIV, skipping empty ones, and start moving it at `t`. */
static void fetch_and_run(ksl_ac97 *d, ac97_chan *ch, uint64_t t)
{
    for (;;) { /* ends: CIV walks towards LVI one step per empty descriptor */
        uint64_t pa = (uint64_t)ch->bdbar + (uint64_t)ch->civ * KSL_AC97_BD_SIZE;
        uint8_t bd[KSL_AC97_BD_SIZE];
        int rc = ksl_physmem_dma_read(d->pm, pa, bd, sizeof bd);
        if (rc) {
            dma_error(d, ch, t, rc, pa, (uint32_t)sizeof bd, "descriptor fetch");
            return;
        }
        ch->piv = (uint8_t)((ch->civ + 1u) & KSL_AC97_BDL_MASK);
        uint32_t ctl = le32(bd + 4);
        if (ctl & KSL_AC97_BD_LEN_MASK) {
            ch->loaded = true;
            ch->bd_addr = le32(bd) & ~1u;
            ch->bd_ctl = ctl;
            ch->picb = (uint16_t)(ctl & KSL_AC97_BD_LEN_MASK);
            ch->sr &= (uint16_t)~KSL_AC97_SR_DCH;
            chunk_start(d, ch, t);
            return;
        }
        if (ch->civ == ch->lvi) { /* an empty last valid buffer: the list is done */
            ch->picb = 0;
            ch->sr |= KSL_AC97_SR_LVBCI | KSL_AC97_SR_CELV;
            chan_halt(d, ch, t);
            update_irq(d);
            return;
        }
        ch->civ = (uint8_t)((ch->civ + 1u) & KSL_AC97_BDL_MASK);
    }
}

/* The chunk in flight ends at `t` (PCM In writes its data now). */
static void chunk_end(ksl_ac97 *d, ac97_chan *ch, uint64_t t)
{
    uint32_t bytes = ch->chunk * SAMPLE_BYTES;
    if (ch->index == CH_PI) {
        if (d->has_source)
            d->source.get(d->source.ctx, d->buf, bytes);
        else
            memset(d->buf, 0, bytes);
        int rc = ksl_physmem_dma_write(d->pm, ch->bd_addr, d->buf, bytes);
        if (rc) {
            dma_error(d, ch, t, rc, ch->bd_addr, bytes, "write");
            return;
        }
        d->st.bytes_captured += bytes;
        ch->bd_addr += bytes;
        ch->picb = (uint16_t)(ch->picb - ch->chunk);
    }
    ch->chunk = 0;
    if (ch->picb) {
        chunk_start(d, ch, t);
        return;
    }
    d->st.buffers_completed++;
    ch->loaded = false;
    if (ch->bd_ctl & KSL_AC97_BD_IOC)
        ch->sr |= KSL_AC97_SR_BCIS;
    if (ch->civ == ch->lvi) {
        ch->bup = (ch->bd_ctl & KSL_AC97_BD_BUP) != 0;
        ch->sr |= KSL_AC97_SR_LVBCI | KSL_AC97_SR_CELV;
        chan_halt(d, ch, t);
        update_irq(d);
        return;
    }
    ch->sr &= (uint16_t)~KSL_AC97_SR_CELV;
    ch->civ = (uint8_t)((ch->civ + 1u) & KSL_AC97_BDL_MASK);
    update_irq(d);
    fetch_and_run(d, ch, t);
}

static void nabm_event(void *dev, uint64_t cookie, uint64_t now)
{
    ksl_ac97 *d = dev;
    if (cookie < 1 || cookie > NCHANNELS)
        return;
    ac97_chan *ch = &d->ch[cookie - 1];
    if (!ch->scheduled)
        return;
    ch->scheduled = false;
    chunk_end(d, ch, now);
}

/* Leave the last completed buffer for the next one, if software has queued one. */
static bool advance_past_done(ac97_chan *ch)
{
    if (ch->lvi == ch->civ)
        return false; /* nothing new */
    ch->sr &= (uint16_t)~(KSL_AC97_SR_DCH | KSL_AC97_SR_CELV);
    ch->civ = (uint8_t)((ch->civ + 1u) & KSL_AC97_BDL_MASK);
    return true;
}

/* RPBM 0 -> 1. */
static void chan_run(ksl_ac97 *d, ac97_chan *ch, uint64_t now)
{
    if (ch->index == CH_MC)
        return; /* registers only: the Mic In engine never leaves DCH */
    if (ch->chunk) { /* paused mid-chunk: the chunk goes on for the time it still needed */
        ch->sr &= (uint16_t)~KSL_AC97_SR_DCH;
        ch->chunk_end = now + ch->remain;
        ch->remain = 0;
        ch->clock_ns = ch->chunk_end;
        ch->clock_words = 0;
        ch->scheduled = true;
        ksl_device_schedule(d->nabm, ch->chunk_end, chan_cookie(ch));
        return;
    }
    ch->wps = 0; /* restart the clock at `now` */
    if (ch->loaded) {
        ch->sr &= (uint16_t)~KSL_AC97_SR_DCH;
        chunk_start(d, ch, now);
        return;
    }
    if ((ch->sr & KSL_AC97_SR_CELV) && !advance_past_done(ch)) {
        starve_begin(ch, now); /* the list is done and nothing new: stay halted */
        return;
    }
    fetch_and_run(d, ch, now);
}

/* RPBM 1 -> 0: pause, keeping the position and the chunk in flight. */
static void chan_pause(ksl_ac97 *d, ac97_chan *ch, uint64_t now)
{
    starve_end(d, ch, now);
    if (ch->scheduled) {
        ksl_device_unschedule(d->nabm, chan_cookie(ch));
        ch->scheduled = false;
        ch->remain = ch->chunk_end > now ? ch->chunk_end - now : 0;
    }
    ch->sr |= KSL_AC97_SR_DCH;
}

/* CR.RR, and the state at creation: every register but CR's interrupt enables. */
static void chan_reset(ksl_ac97 *d, ac97_chan *ch, uint64_t now)
{
    starve_end(d, ch, now);
    if (ch->scheduled)
        ksl_device_unschedule(d->nabm, chan_cookie(ch));
    unsigned index = ch->index;
    uint8_t ie = (uint8_t)(ch->cr & KSL_AC97_CR_IE_MASK);
    memset(ch, 0, sizeof *ch);
    ch->index = index;
    ch->cr = ie;
    ch->sr = KSL_AC97_SR_DCH;
    ch->rr_until = now + KSL_AC97_RESET_NS;
}

static void cr_write(ksl_ac97 *d, ac97_chan *ch, uint8_t v, uint64_t now)
{
    v &= KSL_AC97_CR_RPBM | KSL_AC97_CR_RR | KSL_AC97_CR_IE_MASK;
    if (v & KSL_AC97_CR_RR) {
        chan_reset(d, ch, now);
    } else {
        uint8_t old = ch->cr;
        ch->cr = v;
        if (!(old & KSL_AC97_CR_RPBM) && (v & KSL_AC97_CR_RPBM))
            chan_run(d, ch, now);
        else if ((old & KSL_AC97_CR_RPBM) && !(v & KSL_AC97_CR_RPBM))
            chan_pause(d, ch, now);
        /* A redundant RPBM=1 write changes nothing (QEMU's advance is not copied). */
    }
    update_irq(d);
}

static void lvi_write(ksl_ac97 *d, ac97_chan *ch, uint8_t v, uint64_t now)
{
    ch->lvi = (uint8_t)(v & KSL_AC97_BDL_MASK);
    if (ch->index == CH_MC || !(ch->cr & KSL_AC97_CR_RPBM) || !(ch->sr & KSL_AC97_SR_DCH))
        return;
    /* Halted in RUN (end of the list, or a DMA error): a new LVI revives the engine at CIV+1. */
    if (!advance_past_done(ch))
        return;
    starve_end(d, ch, now);
    ch->wps = 0;
    fetch_and_run(d, ch, now);
    update_irq(d);
}

static void glob_cnt_write(ksl_ac97 *d, uint32_t v)
{
    if (!(v & KSL_AC97_GLOB_CNT_COLD))
        codec_reset(d); /* cold reset asserted: the codec is held at its defaults */
    d->glob_cnt = v & ~KSL_AC97_GLOB_CNT_WARM; /* the warm reset completes at once */
}

static uint32_t glob_sta(const ksl_ac97 *d)
{
    uint32_t v = 0;
    if (d->glob_cnt & KSL_AC97_GLOB_CNT_COLD)
        v |= KSL_AC97_GLOB_STA_PCR;
    if (chan_pending(&d->ch[CH_PI]))
        v |= KSL_AC97_GLOB_STA_PIINT;
    if (chan_pending(&d->ch[CH_PO]))
        v |= KSL_AC97_GLOB_STA_POINT;
    if (chan_pending(&d->ch[CH_MC]))
        v |= KSL_AC97_GLOB_STA_MINT;
    return v;
}

/* ---- NABM register decoding --------------------------------------------------------------- */

static reg_ref decode(uint32_t off)
{
    reg_ref r = {R_NONE, off, 1, 0};
    if (off < KSL_AC97_GLOB_CNT) {
        uint32_t base = off & ~0xFu, o = off & 0xFu;
        r.ch = off >> 4;
        if (o < KSL_AC97_CIV)
            r = (reg_ref){R_BDBAR, base + KSL_AC97_BDBAR, 4, r.ch};
        else if (o == KSL_AC97_CIV)
            r = (reg_ref){R_CIV, off, 1, r.ch};
        else if (o == KSL_AC97_LVI)
            r = (reg_ref){R_LVI, off, 1, r.ch};
        else if (o < KSL_AC97_PICB)
            r = (reg_ref){R_SR, base + KSL_AC97_SR, 2, r.ch};
        else if (o < KSL_AC97_PIV)
            r = (reg_ref){R_PICB, base + KSL_AC97_PICB, 2, r.ch};
        else if (o == KSL_AC97_PIV)
            r = (reg_ref){R_PIV, off, 1, r.ch};
        else if (o == KSL_AC97_CR)
            r = (reg_ref){R_CR, off, 1, r.ch};
    } else if (off < KSL_AC97_GLOB_STA) {
        r = (reg_ref){R_GLOB_CNT, KSL_AC97_GLOB_CNT, 4, 0};
    } else if (off < KSL_AC97_CAS) {
        r = (reg_ref){R_GLOB_STA, KSL_AC97_GLOB_STA, 4, 0};
    } else if (off == KSL_AC97_CAS) {
        r = (reg_ref){R_CAS, off, 1, 0};
    }
    return r;
}

/* The whole register's value, with the side effect of reading it (CAS). */
static uint32_t reg_read(ksl_ac97 *d, const reg_ref *r, uint64_t now)
{
    ac97_chan *ch = &d->ch[r->ch];
    switch (r->id) {
    case R_BDBAR:
        return ch->bdbar;
    case R_CIV:
        return ch->civ;
    case R_LVI:
        return ch->lvi;
    case R_SR:
        return ch->sr;
    case R_PICB:
        return ch->picb;
    case R_PIV:
        return ch->piv;
    case R_CR:
        return ch->cr | (now < ch->rr_until ? KSL_AC97_CR_RR : 0u);
    case R_GLOB_CNT:
        return d->glob_cnt;
    case R_GLOB_STA:
        return glob_sta(d);
    case R_CAS: {
        uint32_t v = d->cas;
        d->cas = 1;
        return v;
    }
    default:
        return 0;
    }
}

static void lock_names(char *buf, size_t len, const ksl_spinlock *const *locks, uint32_t n)
{
    size_t used = (size_t)snprintf(buf, len, "{");
    for (uint32_t i = 0; i < n && used < len; i++)
        used += (size_t)snprintf(buf + used, len - used, "%s'%s'", i ? ", " : "", locks[i]->name ? locks[i]->name : "?");
    if (used < len)
        snprintf(buf + used, len - used, "}");
}

/* A driver writes a queue register of channel `ch` (from a CPU: the writer's locks are known). */
static void lockset_write(ksl_ac97 *d, unsigned ch, const char *reg)
{
    queue_lockset *ls = &d->ls[ch];
    if (ch == CH_MC || ls->reported || ksl_cpu_count() == 0)
        return;
    const ksl_spinlock *held[LOCKSET_MAX];
    uint32_t n = ksl_held_spinlocks(held, LOCKSET_MAX);
    if (n > LOCKSET_MAX)
        n = LOCKSET_MAX;
    const char *who = ksl_context_name();
    if (ls->state == 0 || (ls->state == 1 && strcmp(ls->owner, who) == 0)) {
        ls->state = 1;
        snprintf(ls->owner, sizeof ls->owner, "%s", who);
        return;
    }
    const ksl_spinlock *before[LOCKSET_MAX];
    uint32_t nbefore = ls->n;
    memcpy(before, ls->locks, sizeof before);
    if (ls->state == 1) { /* a second context: the candidate set starts here */
        ls->state = 2;
        ls->n = n;
        memcpy(ls->locks, held, n * sizeof held[0]);
        nbefore = n;
        memcpy(before, held, n * sizeof held[0]);
    } else {
        uint32_t k = 0;
        for (uint32_t i = 0; i < ls->n; i++)
            for (uint32_t j = 0; j < n; j++)
                if (ls->locks[i] == held[j]) {
                    ls->locks[k++] = ls->locks[i];
                    break;
                }
        ls->n = k;
    }
    if (ls->n == 0) {
        char now[160], was[160];
        lock_names(now, sizeof now, held, n);
        lock_names(was, sizeof was, before, nbefore);
        ls->reported = true;
        ksl_report("W2.hw-queue-unlocked", NULL, 0,
                   "%s of %s written by %s holding %s: no lock in common with the other writers of the DMA queue "
                   "(they held %s)",
                   reg, channel_names[ch], who, now, was);
    }
}

/* A write of the bytes `mask` selects (in register position) of `v`. */
static void reg_write(ksl_ac97 *d, const reg_ref *r, uint32_t v, uint32_t mask, uint64_t now)
{
    ac97_chan *ch = &d->ch[r->ch];
    if (r->id == R_BDBAR || r->id == R_LVI || r->id == R_CR)
        lockset_write(d, r->ch, r->id == R_BDBAR ? "BDBAR" : r->id == R_LVI ? "LVI" : "CR");
    switch (r->id) {
    case R_BDBAR:
        ch->bdbar = ((ch->bdbar & ~mask) | (v & mask)) & ~7u;
        break;
    case R_LVI:
        lvi_write(d, ch, (uint8_t)v, now);
        break;
    case R_SR:
        ch->sr &= (uint16_t)~(v & mask & KSL_AC97_SR_W1C);
        update_irq(d);
        break;
    case R_CR:
        cr_write(d, ch, (uint8_t)v, now);
        break;
    case R_GLOB_CNT:
        glob_cnt_write(d, (d->glob_cnt & ~mask) | (v & mask));
        break;
    default:
        break; /* CIV, PICB, PIV, GLOB_STA (its bits are mirrors), CAS: read-only */
    }
}

static uint32_t nabm_read(void *dev, uint32_t off, unsigned width, uint64_t now)
{
    ksl_ac97 *d = dev;
    uint32_t v = 0;
    for (unsigned i = 0; i < width && i < 4;) {
        reg_ref r = decode(off + i);
        uint32_t val = r.id == R_NONE ? 0 : reg_read(d, &r, now);
        /* The bytes of this register the access covers. */
        for (; i < width && i < 4 && off + i < r.start + r.size; i++)
            v |= ((val >> (8 * (off + i - r.start))) & 0xFFu) << (8 * i);
    }
    return v;
}

static void nabm_write(void *dev, uint32_t off, unsigned width, uint32_t value, uint64_t now)
{
    ksl_ac97 *d = dev;
    for (unsigned i = 0; i < width && i < 4;) {
        reg_ref r = decode(off + i);
        uint32_t v = 0, mask = 0;
        for (; i < width && i < 4 && off + i < r.start + r.size; i++) {
            unsigned shift = 8 * (off + i - r.start);
            v |= ((value >> (8 * i)) & 0xFFu) << shift;
            mask |= 0xFFu << shift;
        }
        if (r.id != R_NONE)
            reg_write(d, &r, v, mask, now);
    }
}

static const ksl_device_ops nam_ops = {KSL_DEVICE_OPS_VERSION, "ac97-nam", nam_read, nam_write, NULL,
                                       KSL_AC97_ACCESS_NS};
static const ksl_device_ops nabm_ops = {KSL_DEVICE_OPS_VERSION, "ac97-nabm", nabm_read, nabm_write, nabm_event,
                                        KSL_AC97_ACCESS_NS};

/* ---- life cycle --------------------------------------------------------------------------- */

ksl_ac97 *ksl_ac97_create(ksl_engine *e, ksl_physmem *pm, uintptr_t nam_base, uintptr_t nabm_base, uint32_t line,
                          const ksl_pcm_sink *sink, const ksl_pcm_source *source, char *err, size_t errlen)
{
    if (!e || !pm) {
        snprintf(err, errlen, "AC'97: no engine or no physical memory");
        return NULL;
    }
    if (nam_base < nabm_base + KSL_AC97_NABM_SIZE && nabm_base < nam_base + KSL_AC97_NAM_SIZE) {
        snprintf(err, errlen, "AC'97: the NAM range at 0x%" PRIxPTR " overlaps the NABM range at 0x%" PRIxPTR,
                 nam_base, nabm_base);
        return NULL;
    }
    ksl_ac97 *d = calloc(1, sizeof *d);
    if (!d) {
        snprintf(err, errlen, "AC'97: out of memory");
        return NULL;
    }
    d->e = e;
    d->pm = pm;
    d->line = line;
    if (sink && sink->put) {
        d->sink = *sink;
        d->has_sink = true;
    }
    if (source && source->get) {
        d->source = *source;
        d->has_source = true;
    }
    codec_reset(d);
    for (unsigned i = 0; i < NCHANNELS; i++) {
        d->ch[i].index = i;
        d->ch[i].sr = KSL_AC97_SR_DCH;
    }
    d->nam = ksl_device_attach(e, &nam_ops, d, nam_base, KSL_AC97_NAM_SIZE);
    if (!d->nam) {
        snprintf(err, errlen, "AC'97: the NAM range [0x%" PRIxPTR ", +0x%x) is taken", nam_base, KSL_AC97_NAM_SIZE);
        free(d);
        return NULL;
    }
    d->nabm = ksl_device_attach(e, &nabm_ops, d, nabm_base, KSL_AC97_NABM_SIZE);
    if (!d->nabm) {
        /* The engine cannot detach the NAM range, which points at `d`: `d` stays allocated (its
         * codec answers there) rather than leave the engine a dangling device. */
        snprintf(err, errlen, "AC'97: the NABM range [0x%" PRIxPTR ", +0x%x) is taken", nabm_base,
                 KSL_AC97_NABM_SIZE);
        return NULL;
    }
    return d;
}

void ksl_ac97_destroy(ksl_ac97 *d)
{
    free(d);
}

void ksl_ac97_get_stats(const ksl_ac97 *d, ksl_ac97_stats *out)
{
    *out = d->st;
    /* A starvation still going on counts up to the engine's time. */
    uint64_t now = ksl_engine_now(d->e);
    const ac97_chan *po = &d->ch[CH_PO], *pi = &d->ch[CH_PI];
    if (po->starved && now > po->starved_since)
        out->fill_samples += words_in(now - po->starved_since, chan_wps(d, po));
    if (pi->starved && now > pi->starved_since)
        out->overrun_ns += now - pi->starved_since;
}
