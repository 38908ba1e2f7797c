/* SPDX-License-Identifier: MIT */
/*
 * The AC'97 model's codec (see ac97_chip.h): a small register file behind the NAM range, with
 * the AC'97 2.3 reset values and write masks, 5-bit attenuation with the "6th bit" rule, absent
 * optional registers that read 0, power-down ready bits that follow the requests, the read-only
 * ids, VRA and the DAC/ADC rates (facts and their sources: docs/research/ac97-codec-facts.md).
 */
#include <string.h>

#include "ac97_chip.h"

/* Mixer registers the codec implements, with their reset values and the bits a write stores
 * (AC'97 2.3; the rest read 0).  A register not listed is one this codec does not have: it reads
 * 0 and ignores writes, as the specification says of absent optional registers (tone 08h, 3D
 * 22h without SE bits, the multichannel and S/PDIF registers). */
static const struct {
    uint8_t reg;
    uint16_t value;
    uint16_t mask;
} codec_plain[] = {
    {KSL_AC97_MASTER_VOL, 0x8000u, 0x9F1Fu},  /* mute, 5-bit left and right attenuation */
    {KSL_AC97_AUX_OUT_VOL, 0x8000u, 0x9F1Fu}, /* line-level out (RESET.ID4 0: not headphones) */
    {KSL_AC97_MONO_VOL, 0x8000u, 0x801Fu},
    {0x0Au, 0x0000u, 0x801Eu},                /* PC beep: mute, 4-bit volume in bits 4:1 */
    {0x0Cu, 0x8008u, 0x801Fu},                /* phone */
    {0x0Eu, 0x8008u, 0x805Fu},                /* mic: mute, 20 dB boost, 5-bit gain */
    {0x10u, 0x8808u, 0x9F1Fu},                /* line in */
    {0x12u, 0x8808u, 0x9F1Fu},                /* CD */
    {0x14u, 0x8808u, 0x9F1Fu},                /* video */
    {0x16u, 0x8808u, 0x9F1Fu},                /* aux in */
    {KSL_AC97_PCM_OUT_VOL, 0x8808u, 0x9F1Fu},
    {KSL_AC97_RECORD_SELECT, 0x0000u, 0x0707u},
    {KSL_AC97_RECORD_GAIN, 0x8000u, 0x8F0Fu},
    {KSL_AC97_GENERAL_PURPOSE, 0x0000u, 0x8380u}, /* POP, MIX, MS, LPBK: no 3D, stereo or loudness */
};

/* The attenuation registers whose 6-bit fields the codec implements with 5 bits: a value with
 * the field's top bit set reads back as 0x1F, the most attenuation (AC'97 2.3 "6th bit"). */
static uint16_t clamp_5bit(uint32_t reg, uint16_t v)
{
    if (reg != KSL_AC97_MASTER_VOL && reg != KSL_AC97_AUX_OUT_VOL && reg != KSL_AC97_MONO_VOL)
        return v;
    if (v & 0x0020u)
        v = (uint16_t)((v & ~0x003Fu) | 0x001Fu);
    if ((v & 0x2000u) && reg != KSL_AC97_MONO_VOL)
        v = (uint16_t)((v & ~0x3F00u) | 0x1F00u);
    return v;
}

/* POWERDOWN: the requests a write stores (PR0-PR3, PR6, EAPD; PR4 and PR5 act and read back 0),
 * and the ready bits that follow from them. */
#define CODEC_PD_STORED 0xCF00u

static uint16_t powerdown_value(uint16_t requests)
{
    uint16_t ready = CODEC_POWERDOWN_READY;
    if (requests & KSL_AC97_PD_PR0)
        ready &= (uint16_t)~0x1u;
    if (requests & KSL_AC97_PD_PR1)
        ready &= (uint16_t)~0x2u;
    if (requests & (KSL_AC97_PD_PR2 | KSL_AC97_PD_PR3))
        ready &= (uint16_t)~0x4u;
    if (requests & KSL_AC97_PD_PR3)
        ready &= (uint16_t)~0x8u;
    return (uint16_t)((requests & CODEC_PD_STORED) | ready);
}

void ksl__ac97_codec_reset(ksl_ac97 *d)
{
    memset(d->codec, 0, sizeof d->codec);
    for (size_t i = 0; i < sizeof codec_plain / sizeof codec_plain[0]; i++)
        d->codec[codec_plain[i].reg / 2] = codec_plain[i].value;
    d->codec[KSL_AC97_RESET / 2] = CODEC_RESET_CAPS;
    d->codec[KSL_AC97_POWERDOWN / 2] = powerdown_value(0);
    d->codec[KSL_AC97_EXT_AUDIO_ID / 2] = CODEC_EXT_AUDIO_ID;
    d->codec[KSL_AC97_EXT_AUDIO_CTRL / 2] = 0;
    d->codec[KSL_AC97_FRONT_DAC_RATE / 2] = KSL_AC97_DEFAULT_RATE;
    d->codec[KSL_AC97_LR_ADC_RATE / 2] = KSL_AC97_DEFAULT_RATE;
    d->codec[KSL_AC97_VENDOR_ID1 / 2] = CODEC_VENDOR1;
    d->codec[KSL_AC97_VENDOR_ID2 / 2] = CODEC_VENDOR2;
}

/* The write mask of a register the codec implements as plain storage, or 0. */
static uint16_t plain_mask(uint32_t reg)
{
    for (size_t i = 0; i < sizeof codec_plain / sizeof codec_plain[0]; i++)
        if (codec_plain[i].reg == reg)
            return codec_plain[i].mask;
    return 0;
}

/* The value of the 16-bit codec register at even offset `reg`. */
uint16_t ksl__ac97_codec_read(const ksl_ac97 *d, uint32_t reg)
{
    return reg < CODEC_SPAN ? d->codec[reg / 2] : 0;
}

uint16_t ksl_ac97_codec_register(const ksl_ac97 *d, uint32_t reg)
{
    return ksl__ac97_codec_read(d, reg & ~1u);
}

/* A write of the whole 16-bit register at even offset `reg`. */
static void codec_write(ksl_ac97 *d, uint32_t reg, uint16_t v)
{
    bool vra = (d->codec[KSL_AC97_EXT_AUDIO_CTRL / 2] & KSL_AC97_EXT_VRA) != 0;
    switch (reg) {
    case KSL_AC97_RESET:
        ksl__ac97_codec_reset(d);
        break;
    case KSL_AC97_POWERDOWN: /* the requests are stored; the ready bits follow them */
        d->codec[reg / 2] = powerdown_value(v);
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
        if (plain_mask(reg))
            d->codec[reg / 2] = clamp_5bit(reg, v) & plain_mask(reg);
        break; /* read-only (the ids), or a register this codec does not have: ignored */
    }
}

uint32_t ksl__ac97_nam_read(void *dev, uint32_t off, unsigned width, uint64_t now)
{
    (void)now;
    ksl_ac97 *d = dev;
    d->cas = 0;
    uint32_t v = 0;
    for (unsigned i = 0; i < width && i < 4; i++) {
        uint32_t b = off + i;
        v |= (uint32_t)((ksl__ac97_codec_read(d, b & ~1u) >> (8 * (b & 1u))) & 0xFFu) << (8 * i);
    }
    return v;
}

void ksl__ac97_nam_write(void *dev, uint32_t off, unsigned width, uint32_t value, uint64_t now)
{
    (void)now;
    ksl_ac97 *d = dev;
    d->cas = 0;
    /* Each 16-bit register the access touches gets one write: its other byte keeps its value. */
    for (unsigned i = 0; i < width && i < 4;) {
        uint32_t reg = (off + i) & ~1u;
        uint16_t v = ksl__ac97_codec_read(d, reg);
        while (i < width && i < 4 && ((off + i) & ~1u) == reg) {
            unsigned lane = (off + i) & 1u;
            uint16_t byte = (uint16_t)((value >> (8 * i)) & 0xFFu);
            v = (uint16_t)((v & ~(0xFFu << (8 * lane))) | (uint16_t)(byte << (8 * lane)));
            i++;
        }
        codec_write(d, reg, v);
    }
}
