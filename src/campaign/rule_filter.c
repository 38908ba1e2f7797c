/* SPDX-License-Identifier: MIT */
/* Rule selection (see rule_filter.h). */
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kslab/rules.h>

#include "rule_filter.h"

int ksl__rules_parse(ksl__rules *f, const char *spec, char *err, size_t errlen)
{
    memset(f, 0, sizeof *f);
    if (!spec)
        return 0;
    if (strlen(spec) >= sizeof f->text) {
        snprintf(err, errlen, "--rules: too long");
        return -1;
    }
    snprintf(f->text, sizeof f->text, "%s", spec);
    size_t nrules;
    const ksl_rule *all = ksl_rules(&nrules);
    for (char *save = NULL, *p = strtok_r(f->text, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
        bool ex = p[0] == '-';
        const char *pat = p + ex;
        if (!pat[0] || f->n == KSL__RULE_PATTERNS) {
            snprintf(err, errlen, "--rules '%s': %s", spec, pat[0] ? "too many patterns" : "an empty pattern");
            return -1;
        }
        bool any = false;
        for (size_t i = 0; i < nrules && !any; i++)
            any = fnmatch(pat, all[i].id, 0) == 0;
        if (!any) {
            snprintf(err, errlen, "--rules: '%s' matches no rule (`kslab rules` lists them)", pat);
            return -1;
        }
        f->pat[f->n] = pat;
        f->exclude[f->n] = ex;
        f->includes += !ex;
        f->n++;
    }
    return 0;
}

bool ksl__rule_unfinished(const char *rule)
{
    return strcmp(rule, "K.driver-crash") == 0 || strcmp(rule, "K.driver-exit") == 0 || strcmp(rule, "K.hang") == 0;
}

bool ksl__rules_counts(const ksl__rules *f, const char *rule, bool ended_run)
{
    if (ended_run || !f->n || ksl__rule_unfinished(rule))
        return true;
    bool in = !f->includes;
    for (size_t i = 0; i < f->n; i++)
        if (fnmatch(f->pat[i], rule, 0) == 0)
            in = !f->exclude[i];
    return in;
}
