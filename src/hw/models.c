/* SPDX-License-Identifier: MIT */
/*
 * The built-in device models on the public model API (<kslab/device.h>): the AC'97 controller
 * for WavePci drivers; fifocap, polldev and lowerbus for stream class minidrivers.  Each wraps
 * its model's own create / stats functions; the jobs know them only through this table.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kslab/device.h>
#include <kslab/hw/ac97.h>
#include <kslab/hw/fifocap.h>
#include <kslab/hw/lowerbus.h>
#include <kslab/hw/polldev.h>

#define AC97_NABM_OFFSET 0x400u   /* NABM after NAM, in the job's port window */
#define FIFOCAP_FIFO_BYTES 16384u /* room for several frames: the references drain in bursts */

static uint32_t put(ksl_device_counter *out, uint32_t max, uint32_t n, const char *name, uint64_t v)
{
    if (n < max)
        out[n] = (ksl_device_counter){name, v};
    return n + 1;
}

/* ---- AC'97 ---------------------------------------------------------------------------------- */

static void *ac97_create(const ksl_device_env *env, ksl_device_resources *res, char *err, size_t errlen)
{
    uintptr_t nam = env->port_base, nabm = env->port_base + AC97_NABM_OFFSET;
    ksl_ac97 *d = ksl_ac97_create(env->engine, env->memory, nam, nabm, env->irq_line, env->sink, env->source, err,
                                  errlen);
    if (!d)
        return NULL;
    *res = (ksl_device_resources){.nports = 2, .has_interrupt = true, .irq_line = env->irq_line, .irql = env->irql};
    res->ports[0].base = nam;
    res->ports[0].size = KSL_AC97_NAM_SIZE;
    res->ports[1].base = nabm;
    res->ports[1].size = KSL_AC97_NABM_SIZE;
    return d;
}

static void ac97_destroy(void *dev)
{
    ksl_ac97_destroy(dev);
}

static uint32_t ac97_counters(void *dev, ksl_device_counter *out, uint32_t max)
{
    ksl_ac97_stats s;
    ksl_ac97_get_stats(dev, &s);
    uint32_t n = 0;
    n = put(out, max, n, "interrupts", s.interrupts);
    n = put(out, max, n, "buffers", s.buffers_completed);
    n = put(out, max, n, "fill_samples", s.fill_samples);
    n = put(out, max, n, "overrun_ns", s.overrun_ns);
    n = put(out, max, n, "bytes_played", s.bytes_played);
    n = put(out, max, n, "bytes_captured", s.bytes_captured);
    n = put(out, max, n, "dma_errors", s.dma_errors);
    /* What the driver left in the mixer (a registry seed or a property request sets them). */
    n = put(out, max, n, "codec.master_volume", ksl_ac97_codec_register(dev, KSL_AC97_MASTER_VOL));
    n = put(out, max, n, "codec.pcm_out_volume", ksl_ac97_codec_register(dev, KSL_AC97_PCM_OUT_VOL));
    return n;
}

static bool ac97_inject(void *dev, const char *fault, uint64_t arg)
{
    return ksl_ac97_inject(dev, fault, arg);
}

static const char *const ac97_faults[] = {"fifo-error",  "underrun",        "overrun", "lost-interrupt",
                                          "stuck-reset", "busmaster-error", NULL};

static const ksl_device_model ac97_model = {KSL_DEVICE_MODEL_VERSION,
                                            "ac97",
                                            "Intel ICH AC'97 controller: codec, PCM In and PCM Out bus-master DMA",
                                            KSL_DEVICE_AUDIO,
                                            0,
                                            ac97_create,
                                            ac97_destroy,
                                            ac97_counters,
                                            ac97_faults,
                                            ac97_inject};

/* ---- fifocap -------------------------------------------------------------------------------- */

static void *fifocap_create(const ksl_device_env *env, ksl_device_resources *res, char *err, size_t errlen)
{
    ksl_fifocap_config cfg;
    ksl_fifocap_config_default(&cfg);
    cfg.seed = env->seed;
    cfg.fifo_bytes = FIFOCAP_FIFO_BYTES;
    cfg.line = env->irq_line;
    ksl_fifocap *d = ksl_fifocap_create(env->engine, env->port_base, &cfg, err, errlen);
    if (!d)
        return NULL;
    *res = (ksl_device_resources){.nports = 1, .has_interrupt = true, .irq_line = env->irq_line, .irql = env->irql};
    res->ports[0].base = env->port_base;
    res->ports[0].size = KSL_FIFOCAP_SIZE;
    return d;
}

static void fifocap_destroy(void *dev)
{
    ksl_fifocap_destroy(dev);
}

static uint32_t fifocap_counters(void *dev, ksl_device_counter *out, uint32_t max)
{
    ksl_fifocap_stats s;
    ksl_fifocap_get_stats(dev, &s);
    uint32_t n = 0;
    n = put(out, max, n, "frames", s.frames_produced);
    n = put(out, max, n, "dropped", s.frames_dropped);
    n = put(out, max, n, "interrupts", s.interrupts);
    n = put(out, max, n, "underrun_reads", s.underrun_reads);
    return n;
}

static bool fifocap_inject(void *dev, const char *fault, uint64_t arg)
{
    return ksl_fifocap_inject(dev, fault, arg);
}

static const char *const fifocap_faults[] = {"overrun", "lost-interrupt", NULL};

static const ksl_device_model fifocap_model = {KSL_DEVICE_MODEL_VERSION,
                                               "fifocap",
                                               "frames into a PIO FIFO, a level-triggered interrupt per frame",
                                               KSL_DEVICE_FRAMES,
                                               KSL_FIFOCAP_MAGIC,
                                               fifocap_create,
                                               fifocap_destroy,
                                               fifocap_counters,
                                               fifocap_faults,
                                               fifocap_inject};

/* ---- polldev -------------------------------------------------------------------------------- */

static void *polldev_create(const ksl_device_env *env, ksl_device_resources *res, char *err, size_t errlen)
{
    ksl_polldev_config cfg;
    ksl_polldev_config_default(&cfg);
    cfg.seed = env->seed;
    ksl_polldev *d = ksl_polldev_create(env->engine, env->port_base, &cfg, err, errlen);
    if (!d)
        return NULL;
    *res = (ksl_device_resources){.nports = 1};
    res->ports[0].base = env->port_base;
    res->ports[0].size = KSL_POLLDEV_SIZE;
    return d;
}

static void polldev_destroy(void *dev)
{
    ksl_polldev_destroy(dev);
}

static uint32_t polldev_counters(void *dev, ksl_device_counter *out, uint32_t max)
{
    ksl_polldev_stats s;
    ksl_polldev_get_stats(dev, &s);
    uint32_t n = 0;
    n = put(out, max, n, "frames", s.frames_produced);
    n = put(out, max, n, "dropped", s.frames_dropped);
    n = put(out, max, n, "releases", s.releases);
    return n;
}

static bool polldev_inject(void *dev, const char *fault, uint64_t arg)
{
    return ksl_polldev_inject(dev, fault, arg);
}

static const char *const polldev_faults[] = {"stall", NULL};

static const ksl_device_model polldev_model = {KSL_DEVICE_MODEL_VERSION,
                                               "polldev",
                                               "no interrupt: a ready bit and a one-frame window to poll",
                                               KSL_DEVICE_FRAMES,
                                               KSL_POLLDEV_MAGIC,
                                               polldev_create,
                                               polldev_destroy,
                                               polldev_counters,
                                               polldev_faults,
                                               polldev_inject};

/* ---- lowerbus ------------------------------------------------------------------------------- */

static void *lowerbus_create(const ksl_device_env *env, ksl_device_resources *res, char *err, size_t errlen)
{
    ksl_lowerbus_config cfg;
    ksl_lowerbus_config_default(&cfg);
    cfg.seed = env->seed;
    if (cfg.max_pending < env->requests_in_flight)
        cfg.max_pending = env->requests_in_flight; /* the reader never has more outstanding */
    ksl_lowerbus *b = ksl_lowerbus_create(env->engine, &cfg, err, errlen);
    if (!b)
        return NULL;
    *res = (ksl_device_resources){.lower_device = b};
    return b;
}

static void lowerbus_destroy(void *dev)
{
    ksl_lowerbus_destroy(dev);
}

static uint32_t lowerbus_counters(void *dev, ksl_device_counter *out, uint32_t max)
{
    ksl_lowerbus_stats s;
    ksl_lowerbus_get_stats(dev, &s);
    uint32_t n = 0;
    n = put(out, max, n, "frames", s.submitted);  /* every submission gets the next frame number */
    n = put(out, max, n, "dropped", s.cancelled); /* their numbers are gaps the reader sees */
    n = put(out, max, n, "refused", s.refused);
    return n;
}

static bool lowerbus_inject(void *dev, const char *fault, uint64_t arg)
{
    return ksl_lowerbus_inject(dev, fault, arg);
}

static const char *const lowerbus_faults[] = {"slow-completion", NULL};

static const ksl_device_model lowerbus_model = {KSL_DEVICE_MODEL_VERSION,
                                                "lowerbus",
                                                "a USB/1394-like lower device: requests at PASSIVE, completions at DISPATCH",
                                                KSL_DEVICE_FRAMES,
                                                KSL_LOWERBUS_MAGIC,
                                                lowerbus_create,
                                                lowerbus_destroy,
                                                lowerbus_counters,
                                                lowerbus_faults,
                                                lowerbus_inject};

/* ---- the table ------------------------------------------------------------------------------ */

static const ksl_device_model *const models[] = {&ac97_model, &fifocap_model, &polldev_model, &lowerbus_model};

const ksl_device_model *const *ksl_device_models(size_t *n)
{
    *n = sizeof models / sizeof models[0];
    return models;
}

const ksl_device_model *ksl_device_model_find(const char *name)
{
    for (size_t i = 0; name && i < sizeof models / sizeof models[0]; i++)
        if (strcmp(models[i]->name, name) == 0)
            return models[i];
    return NULL;
}

uint64_t ksl_device_counter_of(const ksl_device_model *m, void *dev, const char *name)
{
    ksl_device_counter c[32];
    uint32_t n = m->counters ? m->counters(dev, c, 32) : 0;
    for (uint32_t i = 0; i < n && i < 32; i++)
        if (strcmp(c[i].name, name) == 0)
            return c[i].value;
    return 0;
}
