/* SPDX-License-Identifier: MIT */
/* The programmable interrupt source (see <kslab/hw/irqdev.h>). */
#include <string.h>

#include <kslab/hw/irqdev.h>

enum { COOKIE_RAISE = 1, COOKIE_TRAIN = 2 };

static void raise_one(ksl_irqdev *d, uint64_t now)
{
    d->pending++;
    d->raised++;
    d->last_raised_ns = now;
    ksl_irq_line_set(d->e, d->line, true);
}

static uint32_t irqdev_read(void *dev, uint32_t off, unsigned width, uint64_t now)
{
    (void)width;
    (void)now;
    const ksl_irqdev *d = dev;
    return off == KSL_IRQDEV_STATUS ? d->pending : 0;
}

static void irqdev_write(void *dev, uint32_t off, unsigned width, uint32_t value, uint64_t now)
{
    (void)width;
    ksl_irqdev *d = dev;
    switch (off) {
    case KSL_IRQDEV_STATUS:
        d->pending -= value < d->pending ? value : d->pending;
        if (!d->pending)
            ksl_irq_line_set(d->e, d->line, false);
        break;
    case KSL_IRQDEV_RAISE:
        if (value == 0)
            raise_one(d, now);
        else
            ksl_device_schedule(d->dev, now + value, COOKIE_RAISE);
        break;
    case KSL_IRQDEV_TRAIN:
        ksl_device_unschedule(d->dev, COOKIE_TRAIN);
        d->train_left = value;
        if (value)
            ksl_device_schedule(d->dev, now + d->period_ns, COOKIE_TRAIN);
        break;
    default:
        break;
    }
}

static void irqdev_event(void *dev, uint64_t cookie, uint64_t now)
{
    ksl_irqdev *d = dev;
    if (cookie == COOKIE_TRAIN) {
        if (!d->train_left)
            return;
        if (--d->train_left)
            ksl_device_schedule(d->dev, now + d->period_ns, COOKIE_TRAIN);
    }
    raise_one(d, now);
}

static const ksl_device_ops irqdev_ops = {KSL_DEVICE_OPS_VERSION, "irqdev", irqdev_read, irqdev_write, irqdev_event,
                                          KSL_IRQDEV_ACCESS_NS};

int ksl_irqdev_attach(ksl_irqdev *d, ksl_engine *e, uintptr_t base, uint32_t line, uint32_t period_ns)
{
    memset(d, 0, sizeof *d);
    d->e = e;
    d->line = line;
    d->period_ns = period_ns;
    d->dev = ksl_device_attach(e, &irqdev_ops, d, base, KSL_IRQDEV_SIZE);
    return d->dev ? 0 : -1;
}
