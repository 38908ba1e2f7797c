/* SPDX-License-Identifier: MIT */
/*
 * The built-in test signal.  Per channel, a sine sweep at -6 dBFS that rises linearly from a
 * start frequency of its own to four times that (or 0.45 of the rate) over two seconds and starts
 * again, phase-continuous, plus seeded dither of -8..+7 LSB.  All integer arithmetic — a phase
 * accumulator and a fixed-point polynomial sine, splitmix64 for the dither — so the bytes depend
 * only on (rate, channels, frames, seed), on every platform and compiler.
 *
 * No sample equals the one before it in its channel (a sample that would is moved by one LSB), so
 * a repeated sample or frame always shows, and channels sweep at different frequencies, so a swap
 * of channels shows too.
 */
#include <stdlib.h>
#include <string.h>

#include <kslab/audio.h>

#define AMPLITUDE 16384          /* -6.02 dBFS */
#define SWEEP_SECONDS 2u
#define START_HZ 220u
#define START_STEP_HZ 170u       /* channel c starts at START_HZ + c * START_STEP_HZ */
#define TOP_TURN_Q32 ((uint64_t)(0.45 * 4294967296.0))   /* 0.45 of the rate, in turns per frame */

/* sin(pi/2 x) ~ A x - B x^3 + C x^5 on [0, 1], exact at 0 and 1 with zero slope at 1; Q30. */
#define SIN_A 1686629713ull     /* pi/2 */
#define SIN_B 688904866ull      /* pi - 5/2 */
#define SIN_C 76016977ull       /* pi/2 - 3/2 */
#define Q30 (1ull << 30)

/* sin(2 pi phase / 2^32) * AMPLITUDE, rounded toward zero. */
static int32_t sine(uint32_t phase)
{
    uint32_t quadrant = phase >> 30;
    uint64_t x = phase & (uint32_t)(Q30 - 1);
    if (quadrant & 1)
        x = Q30 - x;
    uint64_t x2 = (x * x) >> 30;
    uint64_t y = (x * (SIN_A - ((x2 * (SIN_B - ((x2 * SIN_C) >> 30))) >> 30))) >> 30;   /* Q30, 0..1 */
    int32_t v = (int32_t)((y * AMPLITUDE) >> 30);
    return quadrant & 2 ? -v : v;
}

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* One channel's oscillator: the phase advances by `inc` turns/2^32 per frame; `inc` rises from
 * inc0 to inc1 over `period` frames in exact integer steps (quotient plus Bresenham remainder). */
typedef struct osc {
    uint32_t phase;
    uint64_t inc, inc0, rise, rise_rem, acc;
} osc;

static void osc_init(osc *o, uint32_t rate, unsigned c, uint64_t period, uint64_t *rng)
{
    uint64_t inc0 = ((uint64_t)(START_HZ + c * START_STEP_HZ) << 32) / rate;
    uint64_t inc1 = inc0 * 4 < TOP_TURN_Q32 ? inc0 * 4 : TOP_TURN_Q32;
    if (inc0 * 2 > TOP_TURN_Q32) {
        /* A rate too low for the usual start: still a different start per channel. */
        inc0 = TOP_TURN_Q32 / (c + 3);
        inc1 = TOP_TURN_Q32;
    }
    o->phase = (uint32_t)(splitmix64(rng) >> 32);
    o->inc0 = o->inc = inc0;
    o->rise = (inc1 - inc0) / period;
    o->rise_rem = (inc1 - inc0) % period;
    o->acc = 0;
}

/*
 * Fill `out` with the test signal (see the top of this file); `out` is cleared first.  0, or -1
 * when out of memory or when rate or channels is 0.  Zero frames give samples == NULL.
 * Context: host code.
 */
int ksl_pcm_generate(ksl_pcm *out, uint32_t rate, uint16_t channels, size_t frames, uint64_t seed)
{
    memset(out, 0, sizeof *out);
    if (!rate || !channels)
        return -1;
    if (frames > SIZE_MAX / sizeof(int16_t) / channels)
        return -1;
    int16_t *s = NULL;
    if (frames) {
        s = malloc(frames * channels * sizeof(int16_t));
        osc *o = malloc(channels * sizeof *o);
        if (!s || !o) {
            free(s);
            free(o);
            return -1;
        }
        uint64_t rng = seed;
        uint64_t period = (uint64_t)rate * SWEEP_SECONDS;
        for (unsigned c = 0; c < channels; c++)
            osc_init(&o[c], rate, c, period, &rng);
        uint64_t bits = 0;
        unsigned nbits = 0;
        uint64_t t = 0;    /* frame within the sweep */
        for (size_t i = 0; i < frames; i++) {
            int16_t *f = s + i * channels;
            for (unsigned c = 0; c < channels; c++) {
                osc *k = &o[c];
                if (!nbits) {
                    bits = splitmix64(&rng);
                    nbits = 64;
                }
                int32_t v = sine(k->phase) + (int32_t)(bits & 15) - 8;
                bits >>= 4;
                nbits -= 4;
                if (i && v == s[(i - 1) * channels + c])
                    v += v < 0 ? 1 : -1;
                f[c] = (int16_t)v;
                k->phase += (uint32_t)k->inc;
                k->inc += k->rise;
                k->acc += k->rise_rem;
                if (k->acc >= period) {
                    k->acc -= period;
                    k->inc++;
                }
            }
            if (++t == period) {
                t = 0;
                for (unsigned c = 0; c < channels; c++) {
                    o[c].inc = o[c].inc0;
                    o[c].acc = 0;
                }
            }
        }
        free(o);
    }
    out->rate = rate;
    out->channels = channels;
    out->frames = frames;
    out->samples = s;
    return 0;
}
