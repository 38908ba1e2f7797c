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

/* All rules, in catalog order.  Any context. */
const ksl_rule *ksl_rules(size_t *n);
/* The rule with this id, or NULL.  Any context. */
const ksl_rule *ksl_rule_find(const char *id);

#ifdef __cplusplus
}
#endif
#endif
