/* SPDX-License-Identifier: MIT */
/* What src/campaign needs of the result type's own memory (result.c).  Host code. */
#ifndef KSLAB_REPORT_RESULT_OWN_H
#define KSLAB_REPORT_RESULT_OWN_H

#include <stddef.h>

#include <kslab/result.h>

/* Free findings [first, nfindings) of `r` and keep the ones before. */
void ksl__result_drop_findings(ksl_result *r, size_t first);
/* ksl_result_read_json of `n` bytes of text; `name` names it in messages. */
ksl_result *ksl__result_read_text(const char *text, size_t n, const char *name, char *err, size_t errlen);

#endif
