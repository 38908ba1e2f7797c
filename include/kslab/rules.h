/* SPDX-License-Identifier: MIT */
/* The catalog of checks: every rule id kslab can report, with its message and its source. */
#ifndef KSLAB_RULES_H
#define KSLAB_RULES_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ksl_rule {
    const char *id;       /* stable, e.g. "K.spinlock-recursive" */
    const char *rule;     /* RULES.md number, or "kernel" for the K. checks */
    const char *modelled; /* what it is modelled on, e.g. "Driver Verifier 0xC4/0x1000" */
    const char *summary;  /* one line */
} ksl_rule;

/* A fault a built-in device can show (the `faults` scenarios inject them at seeded moments), and
 * what a correct driver does about it. */
typedef struct ksl_fault_info {
    const char *device;   /* "ac97", "fifocap", "polldev", "lowerbus", or "any" (any device with an
                           * interrupt line: the fault injector shows it) */
    const char *name;     /* e.g. "lost-interrupt" */
    const char *what;     /* what the device does */
    const char *correct;  /* what a correct driver does, and what kslab reports otherwise */
} ksl_fault_info;

/* Every fault of the built-in devices, device by device.  Any context. */
const ksl_fault_info *ksl_fault_catalog(size_t *n);

/* All rules, in catalog order.  Any context. */
const ksl_rule *ksl_rules(size_t *n);
/* The rule with this id, or NULL.  Any context. */
const ksl_rule *ksl_rule_find(const char *id);
/* How to fix what the rule reports, in a few sentences (by its RULES.md rule; the kernel checks
 * share one).  Any context. */
const char *ksl_rule_fix(const ksl_rule *r);
/* Its SARIF level: "warning" for what is a risk rather than a broken state — a time budget, the
 * S7 ratio, a lock order that could deadlock — else "error".  Any context. */
const char *ksl_rule_level(const ksl_rule *r);

#ifdef __cplusplus
}
#endif
#endif
