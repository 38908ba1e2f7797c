/* SPDX-License-Identifier: MIT */
/*
 * The AC'97 (Intel ICH) controller model (see <kslab/hw/ac97.h> and ac97_chip.h): its two port
 * ranges, creation and statistics.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ac97_chip.h"

static const ksl_device_ops nam_ops = {KSL_DEVICE_OPS_VERSION, "ac97-nam", ksl__ac97_nam_read, ksl__ac97_nam_write,
                                       NULL, KSL_AC97_ACCESS_NS};
static const ksl_device_ops nabm_ops = {KSL_DEVICE_OPS_VERSION, "ac97-nabm", ksl__ac97_nabm_read,
                                        ksl__ac97_nabm_write, ksl__ac97_nabm_event, KSL_AC97_ACCESS_NS};

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
    ksl__ac97_codec_reset(d);
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

bool ksl_ac97_inject(ksl_ac97 *d, const char *fault, uint64_t arg)
{
    uint64_t stall = arg ? arg * 1000u : KSL_AC97_STALL_NS;
    if (strcmp(fault, "fifo-error") == 0) {
        for (unsigned i = 0; i < NCHANNELS; i++)
            if (d->ch[i].cr & KSL_AC97_CR_RPBM)
                d->ch[i].sr |= KSL_AC97_SR_FIFOE;
    } else if (strcmp(fault, "underrun") == 0) {
        ksl__ac97_stall(d, &d->ch[CH_PO], stall);
    } else if (strcmp(fault, "overrun") == 0) {
        ksl__ac97_stall(d, &d->ch[CH_PI], stall);
    } else if (strcmp(fault, "lost-interrupt") == 0) {
        d->lose_next = true;
    } else if (strcmp(fault, "stuck-reset") == 0) {
        uint64_t now = ksl_engine_now(d->e);
        d->reset_stuck = true;
        for (unsigned i = 0; i < NCHANNELS; i++)
            if (d->ch[i].rr_until > now)
                d->ch[i].rr_until = UINT64_MAX; /* a reset in progress never finishes either */
    } else if (strcmp(fault, "busmaster-error") == 0) {
        uint64_t now = ksl_engine_now(d->e);
        for (unsigned i = 0; i < NCHANNELS; i++)
            ksl__ac97_bus_error(d, &d->ch[i], now);
    } else {
        return false;
    }
    ksl__ac97_update_irq(d);
    return true;
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
        out->fill_samples += ksl__ac97_words_in(now - po->starved_since, ksl__ac97_chan_wps(d, po));
    if (pi->starved && now > pi->starved_since)
        out->overrun_ns += now - pi->starved_since;
}
