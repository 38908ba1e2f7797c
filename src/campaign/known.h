/* SPDX-License-Identifier: MIT */
/* Known findings: baselines and suppressions (see known.c).  Host code. */
#ifndef KSLAB_CAMPAIGN_KNOWN_H
#define KSLAB_CAMPAIGN_KNOWN_H

#include <stddef.h>

#include <kslab/result.h>

/* Mark r's findings known by the baseline file and the suppression file (either may be NULL).
 * 0 (warn filled when suppressions went unused, else ""), or -1 with err filled when a file
 * cannot be read or is malformed. */
int ksl__known_apply(ksl_result *r, const char *baseline, const char *suppressions, char *warn, size_t warnlen,
                     char *err, size_t errlen);

#endif
