/* SPDX-License-Identifier: MIT */
/*
 * The AC'97 model's NABM registers (see ac97_chip.h): which register a byte belongs to, reads
 * (CAS's semaphore), writes with their side effects (the queue lockset, the bus master, the
 * write-1-to-clear status bits, global control).
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "ac97_chip.h"

/* What a NABM byte belongs to. */
typedef enum reg_id { R_NONE, R_BDBAR, R_CIV, R_LVI, R_SR, R_PICB, R_PIV, R_CR, R_GLOB_CNT, R_GLOB_STA, R_CAS } reg_id;

typedef struct reg_ref {
    reg_id id;
    uint32_t start; /* NABM offset of the register's first byte */
    unsigned size;  /* bytes */
    unsigned ch;    /* channel, for the per-channel registers */
} reg_ref;

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
        return ksl__ac97_glob_sta(d);
    case R_CAS: {
        uint32_t v = d->cas;
        d->cas = 1;
        return v;
    }
    default:
        return 0;
    }
}

static void glob_cnt_write(ksl_ac97 *d, uint32_t v)
{
    if (!(v & KSL_AC97_GLOB_CNT_COLD))
        ksl__ac97_codec_reset(d); /* cold reset asserted: the codec is held at its defaults */
    d->glob_cnt = v & ~KSL_AC97_GLOB_CNT_WARM; /* the warm reset completes at once */
}

/* A write of the bytes `mask` selects (in register position) of `v`. */
static void reg_write(ksl_ac97 *d, const reg_ref *r, uint32_t v, uint32_t mask, uint64_t now)
{
    ac97_chan *ch = &d->ch[r->ch];
    if (r->id == R_BDBAR || r->id == R_LVI || r->id == R_CR) {
        ksl__ac97_lockset_write(d, r->ch, r->id == R_BDBAR ? "BDBAR" : r->id == R_LVI ? "LVI" : "CR");
        ksl_device_access_site(&ch->prog_file, &ch->prog_line);
    }
    switch (r->id) {
    case R_BDBAR:
        ch->bdbar = ((ch->bdbar & ~mask) | (v & mask)) & ~7u;
        break;
    case R_LVI:
        ksl__ac97_ring_check_lvi(d, ch, (uint8_t)v);
        ksl__ac97_lvi_write(d, ch, (uint8_t)v, now);
        break;
    case R_SR:
        ch->sr &= (uint16_t)~(v & mask & KSL_AC97_SR_W1C);
        d->losing = false;
        ksl__ac97_update_irq(d);
        break;
    case R_CR:
        if ((v & KSL_AC97_CR_RPBM) && !(v & KSL_AC97_CR_RR))
            ksl__ac97_ring_check_start(d, ch);
        ksl__ac97_cr_write(d, ch, (uint8_t)v, now);
        break;
    case R_GLOB_CNT:
        glob_cnt_write(d, (d->glob_cnt & ~mask) | (v & mask));
        break;
    default:
        break; /* CIV, PICB, PIV, GLOB_STA (its bits are mirrors), CAS: read-only */
    }
}


uint32_t ksl__ac97_nabm_read(void *dev, uint32_t off, unsigned width, uint64_t now)
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

void ksl__ac97_nabm_write(void *dev, uint32_t off, unsigned width, uint32_t value, uint64_t now)
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
