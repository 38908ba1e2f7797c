/* SPDX-License-Identifier: MIT */
/*
 * The polled device (see <kslab/hw/polldev.h>).  While running, exactly one device event is
 * pending: the next frame, at run_start + (k + 1) * frame_ns.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kslab/hw/polldev.h>

enum { COOKIE_FRAME = 1 };

struct ksl_polldev {
    ksl_engine *e;
    ksl_device *dev;
    ksl_device_ops ops;     /* polldev_ops with this device's access cost */
    ksl_polldev_config cfg;
    uint32_t control;
    bool ready;             /* STATUS.READY */
    bool overrun;           /* STATUS.OVERRUN */
    uint32_t frame_bytes;   /* FRAME_SIZE */
    uint32_t frame_no;      /* FRAME_NO */
    uint64_t run_start;
    uint64_t run_frames;
    ksl_polldev_stats st;
    uint8_t buf[KSL_POLLDEV_BUF_MAX];
};

void ksl_polldev_config_default(ksl_polldev_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->seed = 1;
    cfg->frame_bytes = KSL_POLLDEV_DEFAULT_FRAME_BYTES;
    cfg->frame_ns = KSL_POLLDEV_DEFAULT_FRAME_NS;
    cfg->access_ns = KSL_POLLDEV_ACCESS_NS;
}

static bool frame_size_ok(uint32_t bytes)
{
    return bytes >= KSL_FRAME_MIN_BYTES && bytes % KSL_FRAME_ALIGN == 0 && bytes <= KSL_POLLDEV_BUF_MAX;
}

static void schedule_next(ksl_polldev *d)
{
    ksl_device_schedule(d->dev, d->run_start + (d->run_frames + 1) * d->cfg.frame_ns, COOKIE_FRAME);
}

static void polldev_event(void *dev, uint64_t cookie, uint64_t now)
{
    ksl_polldev *d = dev;
    if (cookie != COOKIE_FRAME || !(d->control & KSL_POLLDEV_CTL_RUN))
        return;
    uint32_t number = (uint32_t)d->st.frames_produced++;
    d->run_frames++;
    d->st.last_frame_ns = now;
    if (!d->ready) {
        ksl_frame_fill(KSL_POLLDEV_MAGIC, d->cfg.seed, number, d->buf, d->frame_bytes);
        d->frame_no = number;
        d->ready = true;
        d->st.frames_loaded++;
    } else {
        d->st.frames_dropped++;
        d->overrun = true;
    }
    schedule_next(d);
}

bool ksl_polldev_inject(ksl_polldev *d, const char *fault, uint64_t arg)
{
    if (strcmp(fault, "stall") != 0)
        return false;
    if (d->control & KSL_POLLDEV_CTL_RUN) {
        ksl_device_unschedule(d->dev, COOKIE_FRAME);
        d->run_start += arg ? arg * 1000u : KSL_POLLDEV_STALL_NS; /* every later frame moves too */
        schedule_next(d);
    }
    return true;
}

static uint32_t reg_value(const ksl_polldev *d, uint32_t reg)
{
    switch (reg) {
    case KSL_POLLDEV_CONTROL:
        return d->control;
    case KSL_POLLDEV_STATUS:
        return (d->ready ? KSL_POLLDEV_ST_READY : 0u) | (d->overrun ? KSL_POLLDEV_ST_OVERRUN : 0u) |
               (d->control & KSL_POLLDEV_CTL_RUN ? KSL_POLLDEV_ST_RUNNING : 0u);
    case KSL_POLLDEV_FRAME_NO:
        return d->frame_no;
    case KSL_POLLDEV_FRAME_SIZE:
        return d->frame_bytes;
    case KSL_POLLDEV_FRAME_COUNT:
        return (uint32_t)d->st.frames_produced;
    case KSL_POLLDEV_DROP_COUNT:
        return (uint32_t)d->st.frames_dropped;
    default:
        return 0;
    }
}

static uint32_t polldev_read(void *dev, uint32_t off, unsigned width, uint64_t now)
{
    (void)now;
    const ksl_polldev *d = dev;
    uint32_t v = 0;
    if (off >= KSL_POLLDEV_BUF) {
        for (unsigned i = 0; i < width; i++) {
            uint32_t at = off - KSL_POLLDEV_BUF + i;
            v |= (uint32_t)(at < d->frame_bytes ? d->buf[at] : 0xFFu) << (8 * i);
        }
        return v;
    }
    v = reg_value(d, off & ~3u) >> (8 * (off & 3u));
    return width >= 4 ? v : v & ((1u << (8 * width)) - 1u);
}

static void polldev_write(void *dev, uint32_t off, unsigned width, uint32_t value, uint64_t now)
{
    ksl_polldev *d = dev;
    unsigned shift = 8 * (off & 3u);
    uint32_t mask = (width >= 4 ? 0xFFFFFFFFu : (1u << (8 * width)) - 1u) << shift;
    uint32_t v = (value << shift) & mask;
    switch (off & ~3u) {
    case KSL_POLLDEV_CONTROL: {
        uint32_t old = d->control;
        d->control = ((d->control & ~mask) | v) & KSL_POLLDEV_CTL_RUN;
        if (!(old & KSL_POLLDEV_CTL_RUN) && (d->control & KSL_POLLDEV_CTL_RUN)) {
            d->run_start = now;
            d->run_frames = 0;
            schedule_next(d);
        } else if ((old & KSL_POLLDEV_CTL_RUN) && !(d->control & KSL_POLLDEV_CTL_RUN)) {
            ksl_device_unschedule(d->dev, COOKIE_FRAME);
        }
        break;
    }
    case KSL_POLLDEV_ACK:
        if ((v & KSL_POLLDEV_ACK_RELEASE) && d->ready) {
            d->ready = false;
            d->st.releases++;
        }
        if (v & KSL_POLLDEV_ACK_CLEAR_OVERRUN)
            d->overrun = false;
        break;
    case KSL_POLLDEV_FRAME_SIZE: {
        uint32_t bytes = (d->frame_bytes & ~mask) | v;
        if (!(d->control & KSL_POLLDEV_CTL_RUN) && frame_size_ok(bytes))
            d->frame_bytes = bytes;
        break;
    }
    default:
        break;
    }
}

static const ksl_device_ops polldev_ops = {KSL_DEVICE_OPS_VERSION, "polldev", polldev_read, polldev_write,
                                           polldev_event, KSL_POLLDEV_ACCESS_NS};

ksl_polldev *ksl_polldev_create(ksl_engine *e, uintptr_t base, const ksl_polldev_config *cfg, char *err,
                                size_t errlen)
{
    ksl_polldev_config c;
    if (cfg)
        c = *cfg;
    else
        ksl_polldev_config_default(&c);
    if (!e) {
        snprintf(err, errlen, "polldev: no engine");
        return NULL;
    }
    if (!frame_size_ok(c.frame_bytes)) {
        snprintf(err, errlen, "polldev: frame size %u is not a multiple of 4 in [%u, %u]", c.frame_bytes,
                 KSL_FRAME_MIN_BYTES, KSL_POLLDEV_BUF_MAX);
        return NULL;
    }
    if (!c.frame_ns) {
        snprintf(err, errlen, "polldev: frame period 0");
        return NULL;
    }
    ksl_polldev *d = calloc(1, sizeof *d);
    if (!d) {
        snprintf(err, errlen, "polldev: out of memory");
        return NULL;
    }
    d->e = e;
    d->cfg = c;
    d->frame_bytes = c.frame_bytes;
    d->ops = polldev_ops;
    d->ops.access_cost_ns = c.access_ns;
    d->dev = ksl_device_attach(e, &d->ops, d, base, KSL_POLLDEV_SIZE);
    if (!d->dev) {
        snprintf(err, errlen, "polldev: the port range [0x%lx, +0x%x) is taken", (unsigned long)base,
                 KSL_POLLDEV_SIZE);
        free(d);
        return NULL;
    }
    return d;
}

void ksl_polldev_destroy(ksl_polldev *d)
{
    free(d);
}

void ksl_polldev_get_stats(const ksl_polldev *d, ksl_polldev_stats *out)
{
    *out = d->st;
}
