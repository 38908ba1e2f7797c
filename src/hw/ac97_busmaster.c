/* SPDX-License-Identifier: MIT */
/*
 * The AC'97 model's bus master (see ac97_chip.h): the PCM In and PCM Out DMA engines, each walking
 * its 32-entry descriptor list in simulated physical memory at the codec's rate in virtual time.
 *
 * A channel halted with RPBM=1 (end of the list, nothing new, or a DMA error) is "starved": PCM
 * Out accumulates under-run fill, PCM In over-run time, both computed from the interval when the
 * starvation ends or the statistics are read.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "ac97_chip.h"

/* Words per second the channel moves at: its codec rate times its channel count. */
uint32_t ksl__ac97_chan_wps(const ksl_ac97 *d, const ac97_chan *ch)
{
    uint32_t rate = ksl__ac97_codec_read(d, ch->index == CH_PO ? KSL_AC97_FRONT_DAC_RATE : KSL_AC97_LR_ADC_RATE);
    uint32_t mono = ch->index == CH_PO ? KSL_AC97_GLOB_CNT_PO_MONO : KSL_AC97_GLOB_CNT_PI_MONO;
    return rate * ((d->glob_cnt & mono) ? 1u : 2u);
}

/* Words a stream of `wps` words per second moves in `ns`. */
uint64_t ksl__ac97_words_in(uint64_t ns, uint32_t wps)
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
        d->st.fill_samples += ksl__ac97_words_in(dt, ksl__ac97_chan_wps(d, ch));
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
                   ksl__ac97_channel_name(ch->index), what, len, pa, (unsigned)ch->civ);
    ch->loaded = false;
    chan_halt(d, ch, t);
    ksl__ac97_update_irq(d);
}

/* Start the next chunk of the loaded descriptor at `t` (PCM Out fetches its data now). */
static void chunk_start(ksl_ac97 *d, ac97_chan *ch, uint64_t t)
{
    uint32_t wps = ksl__ac97_chan_wps(d, ch);
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
        uint32_t ctl = ksl__ac97_le32(bd + 4);
        if (ctl & KSL_AC97_BD_LEN_MASK) {
            ch->loaded = true;
            ch->bd_addr = ksl__ac97_le32(bd) & ~1u;
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
            ksl__ac97_update_irq(d);
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
    if (d->losing) {
        d->losing = false; /* the completion after a lost interrupt raises the line again */
    } else if (d->lose_next && !d->irq && (ch->bd_ctl & KSL_AC97_BD_IOC) && ch->civ != ch->lvi) {
        d->lose_next = false;
        d->losing = true;
        for (unsigned i = 0; i < NCHANNELS; i++)
            d->lost_sr[i] = d->ch[i].sr & KSL_AC97_SR_W1C;
    }
    if (ch->civ == ch->lvi) {
        ch->bup = (ch->bd_ctl & KSL_AC97_BD_BUP) != 0;
        ch->sr |= KSL_AC97_SR_LVBCI | KSL_AC97_SR_CELV;
        chan_halt(d, ch, t);
        ksl__ac97_update_irq(d);
        return;
    }
    ch->sr &= (uint16_t)~KSL_AC97_SR_CELV;
    ch->civ = (uint8_t)((ch->civ + 1u) & KSL_AC97_BDL_MASK);
    ksl__ac97_update_irq(d);
    fetch_and_run(d, ch, t);
}

void ksl__ac97_stall(ksl_ac97 *d, ac97_chan *ch, uint64_t ns)
{
    if (!(ch->cr & KSL_AC97_CR_RPBM) || ch->index == CH_MC)
        return;
    ch->sr |= KSL_AC97_SR_FIFOE;
    if (!ch->scheduled)
        return;
    ksl_device_unschedule(d->nabm, chan_cookie(ch));
    ch->chunk_end += ns;
    ch->clock_ns += ns; /* later chunks keep their spacing after the stall */
    ksl_device_schedule(d->nabm, ch->chunk_end, chan_cookie(ch));
}

void ksl__ac97_bus_error(ksl_ac97 *d, ac97_chan *ch, uint64_t now)
{
    if (!(ch->cr & KSL_AC97_CR_RPBM) || (ch->sr & KSL_AC97_SR_DCH) || ch->index == CH_MC)
        return;
    /* The chunk in flight is dropped, not completed: PCM Out fetched it already (its PICB and
     * address moved on), PCM In had not written it (they did not); `loaded` stays, so RPBM
     * 0 -> 1 resumes exactly at the position. */
    chan_halt(d, ch, now);
    ch->sr |= KSL_AC97_SR_FIFOE;
}

void ksl__ac97_nabm_event(void *dev, uint64_t cookie, uint64_t now)
{
    ksl_ac97 *d = dev;
    if (cookie < 1 || cookie > NCHANNELS)
        return;
    ac97_chan *ch = &d->ch[cookie - 1];
    if (!ch->scheduled)
        return;
    ch->scheduled = false;
    ksl_report_cause(ch->prog_file, ch->prog_line); /* a finding in this transfer: the driver's write */
    chunk_end(d, ch, now);
    ksl_report_cause(NULL, 0);
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
    ch->rr_until = d->reset_stuck ? UINT64_MAX : now + KSL_AC97_RESET_NS;
}

void ksl__ac97_cr_write(ksl_ac97 *d, ac97_chan *ch, uint8_t v, uint64_t now)
{
    v &= KSL_AC97_CR_RPBM | KSL_AC97_CR_RR | KSL_AC97_CR_IE_MASK;
    d->losing = false;
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
    ksl__ac97_update_irq(d);
}

void ksl__ac97_lvi_write(ksl_ac97 *d, ac97_chan *ch, uint8_t v, uint64_t now)
{
    ch->lvi = (uint8_t)(v & KSL_AC97_BDL_MASK);
    if (ch->index == CH_MC || !(ch->cr & KSL_AC97_CR_RPBM) || !(ch->sr & KSL_AC97_SR_DCH))
        return;
    if (ch->loaded)
        return; /* halted mid-buffer by a bus-master error: only RPBM 0 -> 1 resumes it */
    /* Halted in RUN (end of the list, or a DMA error): a new LVI revives the engine at CIV+1. */
    if (!advance_past_done(ch))
        return;
    starve_end(d, ch, now);
    ch->wps = 0;
    fetch_and_run(d, ch, now);
    ksl__ac97_update_irq(d);
}
