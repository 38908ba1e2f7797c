/* SPDX-License-Identifier: MIT */
/*
 * The PIO FIFO capture device (see <kslab/hw/fifocap.h>).
 *
 * Time.  While running, exactly one device event is pending: the landing of the next frame, at
 * run_start + (k + 1) * frame_ns for the k-th frame since RUN was set.  Clearing RUN cancels it;
 * the frame in progress is discarded without using up a number.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kslab/hw/fifocap.h>

enum { COOKIE_FRAME = 1 };

struct ksl_fifocap {
    ksl_engine *e;
    ksl_device *dev;
    ksl_device_ops ops;     /* fifocap_ops with this device's access cost */
    ksl_fifocap_config cfg;
    /* Registers. */
    uint32_t control;       /* RUN and the interrupt enables */
    uint32_t status;        /* the latched bits (FRAME, OVERRUN) */
    uint32_t frame_bytes;   /* FRAME_SIZE */
    /* The FIFO: a ring of cfg.fifo_bytes. */
    uint8_t *fifo;
    uint32_t head;          /* next byte to pop */
    uint32_t level;         /* bytes held */
    uint8_t *scratch;       /* one frame being generated */
    /* The source's clock. */
    uint64_t run_start;
    uint64_t run_frames;    /* frames since RUN was set */
    bool irq;               /* the level we drive */
    /* Injected faults (ksl_fifocap_inject). */
    bool drop_next;         /* the next frame is lost as if the FIFO were full */
    bool lose_next;         /* the next frame's interrupt is lost */
    bool losing;            /* the line is held low until the next frame or an INT_ACK */
    ksl_fifocap_observer *observer;
    void *observer_user;
    ksl_fifocap_stats st;
};

void ksl_fifocap_config_default(ksl_fifocap_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->seed = 1;
    cfg->frame_bytes = KSL_FIFOCAP_DEFAULT_FRAME_BYTES;
    cfg->fifo_bytes = KSL_FIFOCAP_DEFAULT_FIFO_BYTES;
    cfg->frame_ns = KSL_FIFOCAP_DEFAULT_FRAME_NS;
    cfg->access_ns = KSL_FIFOCAP_ACCESS_NS;
}

static bool frame_size_ok(uint32_t bytes, uint32_t fifo_bytes)
{
    return bytes >= KSL_FRAME_MIN_BYTES && bytes % KSL_FRAME_ALIGN == 0 && bytes <= fifo_bytes;
}

/* Drive the line from the latched status and the enables (IE_x is ST_x shifted left by one). */
static void update_irq(ksl_fifocap *d)
{
    bool want = (d->status & ((d->control & KSL_FIFOCAP_CTL_IE_MASK) >> 1)) != 0;
    ksl_irq_line_latent(d->e, d->cfg.line, d->losing && want);
    if (d->losing)
        want = false; /* an injected lost interrupt */
    if (want == d->irq)
        return;
    d->irq = want;
    if (want)
        d->st.interrupts++;
    ksl_irq_line_set(d->e, d->cfg.line, want);
}

static void schedule_next(ksl_fifocap *d)
{
    ksl_device_schedule(d->dev, d->run_start + (d->run_frames + 1) * d->cfg.frame_ns, COOKIE_FRAME);
}

static void fifo_push(ksl_fifocap *d, const uint8_t *p, uint32_t n)
{
    uint32_t size = d->cfg.fifo_bytes, tail = (d->head + d->level) % size;
    uint32_t first = n < size - tail ? n : size - tail;
    memcpy(d->fifo + tail, p, first);
    memcpy(d->fifo, p + first, n - first);
    d->level += n;
}

static void fifocap_event(void *dev, uint64_t cookie, uint64_t now)
{
    ksl_fifocap *d = dev;
    if (cookie != COOKIE_FRAME || !(d->control & KSL_FIFOCAP_CTL_RUN))
        return;
    uint32_t number = (uint32_t)d->st.frames_produced++;
    d->run_frames++;
    d->st.last_frame_ns = now;
    if (d->losing) {
        d->losing = false; /* the frame after a lost interrupt raises the line again */
    } else if (d->lose_next && !d->irq) {
        d->lose_next = false;
        d->losing = true;
    }
    if (d->cfg.fifo_bytes - d->level >= d->frame_bytes && !d->drop_next) {
        ksl_frame_fill(KSL_FIFOCAP_MAGIC, d->cfg.seed, number, d->scratch, d->frame_bytes);
        fifo_push(d, d->scratch, d->frame_bytes);
        d->st.frames_captured++;
        d->status |= KSL_FIFOCAP_ST_FRAME;
    } else {
        d->drop_next = false;
        d->st.frames_dropped++;
        d->status |= KSL_FIFOCAP_ST_OVERRUN;
    }
    update_irq(d);
    schedule_next(d);
}

/* DATA: pop `width` bytes, little-endian; missing bytes read as 0xFF. */
static uint32_t data_pop(ksl_fifocap *d, unsigned width)
{
    uint32_t v = 0;
    if (d->level < width)
        d->st.underrun_reads++;
    for (unsigned i = 0; i < width; i++) {
        uint32_t b = 0xFFu;
        if (d->level) {
            b = d->fifo[d->head];
            d->head = (d->head + 1) % d->cfg.fifo_bytes;
            d->level--;
            d->st.bytes_read++;
        }
        v |= b << (8 * i);
    }
    return v;
}

static uint32_t status_value(const ksl_fifocap *d)
{
    uint32_t words = d->level / 4u;
    uint32_t v = d->status;
    if (d->level >= d->frame_bytes)
        v |= KSL_FIFOCAP_ST_READY;
    if (d->control & KSL_FIFOCAP_CTL_RUN)
        v |= KSL_FIFOCAP_ST_RUNNING;
    return v | (words > 0xFFFFu ? 0xFFFFu : words) << KSL_FIFOCAP_ST_WORDS_SHIFT;
}

static uint32_t fifocap_read(void *dev, uint32_t off, unsigned width, uint64_t now)
{
    (void)now;
    ksl_fifocap *d = dev;
    if (d->observer)
        d->observer(d->observer_user, d, off, false, 0);
    uint32_t reg = off & ~3u, v;
    switch (reg) {
    case KSL_FIFOCAP_DATA:
        return data_pop(d, width);
    case KSL_FIFOCAP_CONTROL:
        v = d->control;
        break;
    case KSL_FIFOCAP_STATUS:
        v = status_value(d);
        break;
    case KSL_FIFOCAP_FRAME_SIZE:
        v = d->frame_bytes;
        break;
    case KSL_FIFOCAP_FRAME_COUNT:
        v = (uint32_t)d->st.frames_produced;
        break;
    case KSL_FIFOCAP_DROP_COUNT:
        v = (uint32_t)d->st.frames_dropped;
        break;
    case KSL_FIFOCAP_FIFO_LEVEL:
        v = d->level;
        break;
    case KSL_FIFOCAP_FIFO_SIZE:
        v = d->cfg.fifo_bytes;
        break;
    default:
        v = 0; /* INT_ACK and unused offsets */
        break;
    }
    v >>= 8 * (off & 3u);
    return width >= 4 ? v : v & ((1u << (8 * width)) - 1u);
}

static void control_write(ksl_fifocap *d, uint32_t v, uint64_t now)
{
    if (v & KSL_FIFOCAP_CTL_FIFO_RESET) {
        d->head = 0;
        d->level = 0;
        d->status &= ~KSL_FIFOCAP_ST_FRAME;
    }
    uint32_t old = d->control;
    d->control = v & KSL_FIFOCAP_CTL_MASK;
    if (!(old & KSL_FIFOCAP_CTL_RUN) && (d->control & KSL_FIFOCAP_CTL_RUN)) {
        d->run_start = now;
        d->run_frames = 0;
        schedule_next(d);
    } else if ((old & KSL_FIFOCAP_CTL_RUN) && !(d->control & KSL_FIFOCAP_CTL_RUN)) {
        ksl_device_unschedule(d->dev, COOKIE_FRAME);
    }
    update_irq(d);
}

static void fifocap_write(void *dev, uint32_t off, unsigned width, uint32_t value, uint64_t now)
{
    ksl_fifocap *d = dev;
    if (d->observer)
        d->observer(d->observer_user, d, off, true, value);
    unsigned shift = 8 * (off & 3u);
    uint32_t mask = (width >= 4 ? 0xFFFFFFFFu : (1u << (8 * width)) - 1u) << shift;
    uint32_t v = (value << shift) & mask;
    switch (off & ~3u) {
    case KSL_FIFOCAP_CONTROL:
        control_write(d, (d->control & ~mask) | v, now);
        break;
    case KSL_FIFOCAP_INT_ACK:
        d->status &= ~(v & KSL_FIFOCAP_ST_W1C);
        d->losing = false;
        update_irq(d);
        break;
    case KSL_FIFOCAP_FRAME_SIZE: {
        uint32_t bytes = (d->frame_bytes & ~mask) | v;
        if (!(d->control & KSL_FIFOCAP_CTL_RUN) && frame_size_ok(bytes, d->cfg.fifo_bytes))
            d->frame_bytes = bytes;
        break;
    }
    default:
        break; /* read-only registers */
    }
}

static const ksl_device_ops fifocap_ops = {KSL_DEVICE_OPS_VERSION, "fifocap", fifocap_read, fifocap_write,
                                           fifocap_event, KSL_FIFOCAP_ACCESS_NS};

ksl_fifocap *ksl_fifocap_create(ksl_engine *e, uintptr_t base, const ksl_fifocap_config *cfg, char *err,
                                size_t errlen)
{
    ksl_fifocap_config c;
    if (cfg)
        c = *cfg;
    else
        ksl_fifocap_config_default(&c);
    if (!e) {
        snprintf(err, errlen, "fifocap: no engine");
        return NULL;
    }
    if (!c.fifo_bytes || c.fifo_bytes % KSL_FRAME_ALIGN || c.fifo_bytes > KSL_FIFOCAP_MAX_FIFO_BYTES) {
        snprintf(err, errlen, "fifocap: FIFO depth %u is not a multiple of 4 in (0, %u]", c.fifo_bytes,
                 KSL_FIFOCAP_MAX_FIFO_BYTES);
        return NULL;
    }
    if (!frame_size_ok(c.frame_bytes, c.fifo_bytes)) {
        snprintf(err, errlen, "fifocap: frame size %u is not a multiple of 4 in [%u, %u]", c.frame_bytes,
                 KSL_FRAME_MIN_BYTES, c.fifo_bytes);
        return NULL;
    }
    if (!c.frame_ns) {
        snprintf(err, errlen, "fifocap: frame period 0");
        return NULL;
    }
    ksl_fifocap *d = calloc(1, sizeof *d);
    uint8_t *fifo = malloc(c.fifo_bytes), *scratch = malloc(c.fifo_bytes);
    if (!d || !fifo || !scratch) {
        free(d);
        free(fifo);
        free(scratch);
        snprintf(err, errlen, "fifocap: out of memory");
        return NULL;
    }
    d->e = e;
    d->cfg = c;
    d->fifo = fifo;
    d->scratch = scratch;
    d->frame_bytes = c.frame_bytes;
    /* The ops carry the access cost: each device has its own copy. */
    d->ops = fifocap_ops;
    d->ops.access_cost_ns = c.access_ns;
    d->dev = ksl_device_attach(e, &d->ops, d, base, KSL_FIFOCAP_SIZE);
    if (!d->dev) {
        snprintf(err, errlen, "fifocap: the port range [0x%lx, +0x%x) is taken", (unsigned long)base,
                 KSL_FIFOCAP_SIZE);
        ksl_fifocap_destroy(d);
        return NULL;
    }
    return d;
}

void ksl_fifocap_destroy(ksl_fifocap *d)
{
    if (!d)
        return;
    free(d->fifo);
    free(d->scratch);
    free(d);
}

void ksl_fifocap_set_observer(ksl_fifocap *d, ksl_fifocap_observer *fn, void *user)
{
    d->observer = fn;
    d->observer_user = user;
}

bool ksl_fifocap_inject(ksl_fifocap *d, const char *fault, uint64_t arg)
{
    (void)arg;
    if (strcmp(fault, "overrun") == 0)
        d->drop_next = true;
    else if (strcmp(fault, "lost-interrupt") == 0)
        d->lose_next = true;
    else
        return false;
    return true;
}

void ksl_fifocap_get_stats(const ksl_fifocap *d, ksl_fifocap_stats *out)
{
    *out = d->st;
}

const ksl_fifocap_config *ksl_fifocap_config_of(const ksl_fifocap *d)
{
    return &d->cfg;
}
