/* SPDX-License-Identifier: MIT */
/*
 * The AC'97 model's codec (see ac97_chip.h): a small register file behind the NAM range, with
 * the reset values, the read-only ids, VRA and the DAC/ADC rates.
 */
#include <string.h>

#include "ac97_chip.h"

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

void ksl__ac97_codec_reset(ksl_ac97 *d)
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
