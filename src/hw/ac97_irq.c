/* SPDX-License-Identifier: MIT */
/*
 * The AC'97 model's interrupt (see ac97_chip.h): level-triggered, the OR over the channels of a
 * status bit set with its enable; GLOB_STA mirrors each channel's pending interrupt.
 */

#include "ac97_chip.h"

/* The channel has an enabled interrupt pending. */
bool ksl__ac97_chan_pending(const ac97_chan *ch)
{
    return ((ch->sr & KSL_AC97_SR_BCIS) && (ch->cr & KSL_AC97_CR_IOCE)) ||
           ((ch->sr & KSL_AC97_SR_LVBCI) && (ch->cr & KSL_AC97_CR_LVBIE)) ||
           ((ch->sr & KSL_AC97_SR_FIFOE) && (ch->cr & KSL_AC97_CR_FEIE));
}

/* Drive the line to the OR over channels; count rising edges. */
void ksl__ac97_update_irq(ksl_ac97 *d)
{
    bool level = false;
    for (unsigned i = 0; i < NCHANNELS; i++) {
        level = level || ksl__ac97_chan_pending(&d->ch[i]);
        if (d->ch[i].sr & KSL_AC97_SR_W1C & ~d->lost_sr[i])
            d->losing = false; /* a cause the lost interrupt did not have raises the line */
    }
    ksl_irq_line_latent(d->e, d->line, d->losing && level);
    if (d->losing)
        level = false; /* an injected lost interrupt */
    if (level == d->irq)
        return;
    d->irq = level;
    if (level)
        d->st.interrupts++;
    ksl_irq_line_set(d->e, d->line, level);
}

uint32_t ksl__ac97_glob_sta(const ksl_ac97 *d)
{
    uint32_t v = 0;
    if (d->glob_cnt & KSL_AC97_GLOB_CNT_COLD)
        v |= KSL_AC97_GLOB_STA_PCR;
    if (ksl__ac97_chan_pending(&d->ch[CH_PI]))
        v |= KSL_AC97_GLOB_STA_PIINT;
    if (ksl__ac97_chan_pending(&d->ch[CH_PO]))
        v |= KSL_AC97_GLOB_STA_POINT;
    if (ksl__ac97_chan_pending(&d->ch[CH_MC]))
        v |= KSL_AC97_GLOB_STA_MINT;
    return v;
}
