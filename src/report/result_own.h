/* SPDX-License-Identifier: MIT */
/* What src/campaign needs of the result type's own memory (result.c).  Host code. */
#ifndef KSLAB_REPORT_RESULT_OWN_H
#define KSLAB_REPORT_RESULT_OWN_H

#include <stddef.h>

#include <kslab/result.h>

/* Free findings [first, nfindings) of `r` and keep the ones before. */
void ksl__result_drop_findings(ksl_result *r, size_t first);

#endif
