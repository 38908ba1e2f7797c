/* SPDX-License-Identifier: MIT */
/*
 * A programmable interrupt source: the smallest device model, for demonstrations and tests of
 * interrupt handling.  It raises a level-triggered line and counts the interrupts the driver has
 * not yet acknowledged, so none is lost when several arrive before the ISR runs.
 */
#ifndef KSLAB_HW_IRQDEV_H
#define KSLAB_HW_IRQDEV_H

#include <kslab/device.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Registers (32-bit, offsets from the device's port base). */
#define KSL_IRQDEV_STATUS 0x00u /* R: interrupts raised and not acknowledged; W: acknowledge N */
#define KSL_IRQDEV_RAISE 0x04u  /* W: raise one interrupt this many ns from now (0: at once) */
#define KSL_IRQDEV_TRAIN 0x08u  /* W: raise N interrupts, one every period_ns, the first a period from now */
#define KSL_IRQDEV_SIZE 0x10u

/* Virtual time one register access costs. */
#define KSL_IRQDEV_ACCESS_NS 200u

typedef struct ksl_irqdev {
    ksl_engine *e;
    ksl_device *dev;
    uint32_t line;
    uint32_t period_ns;       /* spacing of a TRAIN */
    uint32_t pending;         /* raised and not acknowledged; the line is high while non-zero */
    uint32_t train_left;      /* interrupts of the current TRAIN still to come */
    uint32_t raised;          /* interrupts raised in all */
    uint64_t last_raised_ns;  /* virtual time of the latest one */
} ksl_irqdev;

/*
 * Attach the device to `e` at ports [base, base + KSL_IRQDEV_SIZE), driving interrupt line
 * `line`, with TRAIN spacing `period_ns`.  0, or -1 when the range is taken.  Outside a run.
 */
int ksl_irqdev_attach(ksl_irqdev *d, ksl_engine *e, uintptr_t base, uint32_t line, uint32_t period_ns);

#ifdef __cplusplus
}
#endif
#endif
