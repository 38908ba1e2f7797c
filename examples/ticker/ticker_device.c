/* SPDX-License-Identifier: MIT */
/*
 * The ticker device model (ticker.h), on kslab's public device API (<kslab/device.h>): a port
 * range, a device event per frame, a level-triggered interrupt line, counters, and one fault
 * ("lost-interrupt": the next frame does not raise the line; the one after it does).  Built as a device plugin.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kslab/hw/frame.h>
#include <kslab/plugin.h>

#include "ticker.h"

#define ACCESS_NS 300u
#define TICK_COOKIE 1u

typedef struct ticker {
    ksl_engine *e;
    ksl_device *dev;
    uint64_t seed;
    uint32_t line;
    uint32_t control, status;
    uint8_t frame[TICKER_FRAME_BYTES];
    uint32_t next_word;     /* DATA reads the frame's words in turn */
    uint32_t number;        /* the next frame's number */
    bool lose_next;         /* the fault: the next frame raises no interrupt */
    bool line_up;
    uint64_t frames, dropped, interrupts;
} ticker;

static void drive_line(ticker *t)
{
    bool up = (t->control & TICKER_CTL_IE) && (t->status & TICKER_ST_READY);
    if (up && t->lose_next) {
        t->lose_next = false; /* this frame's interrupt is lost: the cause is there, the line is not */
        ksl_irq_line_latent(t->e, t->line, true);
        return;
    }
    ksl_irq_line_latent(t->e, t->line, false);
    if (up == t->line_up)
        return;
    t->line_up = up;
    t->interrupts += up;
    ksl_irq_line_set(t->e, t->line, up);
}

static void tick(void *dev, uint64_t cookie, uint64_t now)
{
    (void)cookie;
    ticker *t = dev;
    if (!(t->control & TICKER_CTL_RUN))
        return;
    t->frames++;
    if (t->status & TICKER_ST_READY) { /* still held: this frame is lost whole */
        t->dropped++;
        t->number++;
        t->status |= TICKER_ST_OVERRUN;
        drive_line(t); /* a new cause: a lost interrupt does not outlive it */
    } else {
        ksl_frame_fill(TICKER_MAGIC, t->seed, t->number++, t->frame, sizeof t->frame);
        t->next_word = 0;
        t->status |= TICKER_ST_READY;
        drive_line(t);
    }
    ksl_device_schedule(t->dev, now + TICKER_FRAME_NS, TICK_COOKIE);
}

static uint32_t reg_read(void *dev, uint32_t off, unsigned width, uint64_t now)
{
    (void)width;
    (void)now;
    ticker *t = dev;
    switch (off) {
    case TICKER_CONTROL:
        return t->control;
    case TICKER_STATUS:
        return t->status;
    case TICKER_DATA: {
        uint32_t w = 0;
        if (t->next_word < TICKER_FRAME_BYTES / 4)
            memcpy(&w, t->frame + 4 * t->next_word++, 4);
        return w;
    }
    default:
        return 0;
    }
}

static void reg_write(void *dev, uint32_t off, unsigned width, uint32_t value, uint64_t now)
{
    (void)width;
    ticker *t = dev;
    if (off == TICKER_CONTROL) {
        bool was_running = t->control & TICKER_CTL_RUN;
        t->control = value & (TICKER_CTL_RUN | TICKER_CTL_IE);
        if (!was_running && (t->control & TICKER_CTL_RUN))
            ksl_device_schedule(t->dev, now + TICKER_FRAME_NS, TICK_COOKIE);
        else if (was_running && !(t->control & TICKER_CTL_RUN))
            ksl_device_unschedule(t->dev, TICK_COOKIE);
    } else if (off == TICKER_ACK) {
        if (value & TICKER_ACK_RELEASE)
            t->status &= ~TICKER_ST_READY;
        if (value & TICKER_ACK_CLEAR)
            t->status &= ~TICKER_ST_OVERRUN;
    }
    drive_line(t);
}

static const ksl_device_ops ticker_ops = {KSL_DEVICE_OPS_VERSION, "ticker", reg_read, reg_write, tick, ACCESS_NS};

static void *create(const ksl_device_env *env, ksl_device_resources *res, char *err, size_t errlen)
{
    ticker *t = calloc(1, sizeof *t);
    if (!t) {
        snprintf(err, errlen, "ticker: out of memory");
        return NULL;
    }
    t->e = env->engine;
    t->seed = env->seed; /* frames carry its low 32 bits: the stream job checks them */
    t->line = env->irq_line;
    t->dev = ksl_device_attach(env->engine, &ticker_ops, t, env->port_base, TICKER_PORTS);
    if (!t->dev) {
        snprintf(err, errlen, "ticker: the ports at 0x%lx are taken", (unsigned long)env->port_base);
        free(t);
        return NULL;
    }
    *res = (ksl_device_resources){.nports = 1, .has_interrupt = true, .irq_line = env->irq_line, .irql = env->irql};
    res->ports[0].base = env->port_base;
    res->ports[0].size = TICKER_PORTS;
    return t;
}

static void destroy(void *dev)
{
    free(dev);
}

static uint32_t counters(void *dev, ksl_device_counter *out, uint32_t max)
{
    ticker *t = dev;
    const ksl_device_counter c[] = {{"frames", t->frames}, {"dropped", t->dropped}, {"interrupts", t->interrupts}};
    uint32_t n = sizeof c / sizeof c[0];
    for (uint32_t i = 0; i < n && i < max; i++)
        out[i] = c[i];
    return n;
}

static bool inject(void *dev, const char *fault, uint64_t arg)
{
    (void)arg;
    if (strcmp(fault, "lost-interrupt") != 0)
        return false;
    ((ticker *)dev)->lose_next = true;
    return true;
}

static const char *const faults[] = {"lost-interrupt", NULL};

static const ksl_device_model ticker_model = {KSL_DEVICE_MODEL_VERSION,
                                              "ticker",
                                              "a frame every millisecond in a one-frame PIO buffer, an interrupt per frame",
                                              KSL_DEVICE_FRAMES,
                                              TICKER_MAGIC,
                                              create,
                                              destroy,
                                              counters,
                                              faults,
                                              inject};

KSLAB_DEVICE_PLUGIN(ticker_model)
