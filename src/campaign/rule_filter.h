/* SPDX-License-Identifier: MIT */
/*
 * Which rules a campaign counts (ksl_stress_opts.rules): comma-separated fnmatch patterns over
 * rule ids, "-PATTERN" to exclude; the last pattern matching a rule decides; with no include
 * pattern a rule no pattern matches is included.  A finding that ended its execution counts
 * whatever the patterns say: the run cannot go on past it, so its check cannot be switched off.
 * An excluded finding that let its execution go on is dropped, and an execution whose findings
 * are all dropped counts as clean.  Host code.
 */
#ifndef KSLAB_CAMPAIGN_RULE_FILTER_H
#define KSLAB_CAMPAIGN_RULE_FILTER_H

#include <stdbool.h>
#include <stddef.h>

#define KSL__RULE_PATTERNS 32

typedef struct ksl__rules {
    char text[1024];                     /* the patterns, split in place */
    const char *pat[KSL__RULE_PATTERNS];
    bool exclude[KSL__RULE_PATTERNS];
    size_t n, includes;
} ksl__rules;

/* Parse `spec` (NULL: every rule).  0, or -1 with err filled: an empty pattern, too many, or one
 * that matches no rule of the catalog (a typo). */
int ksl__rules_parse(ksl__rules *f, const char *spec, char *err, size_t errlen);
/* Whether a finding of `rule` counts. */
bool ksl__rules_counts(const ksl__rules *f, const char *rule, bool ended_run);
/* Whether `rule` is one the worker reports for an execution that did not finish (a crash, an
 * exit, a hang): no events, no second run to record them, never excluded. */
bool ksl__rule_unfinished(const char *rule);

#endif
