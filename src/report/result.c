/* SPDX-License-Identifier: MIT */
/* The result type's own functions (see <kslab/result.h>); building one is src/campaign's. */
#include <stdlib.h>
#include <string.h>

#include <kslab/result.h>

#include "result_own.h"

static void free_finding(ksl_result_finding *f)
{
    free(f->rule);
    free(f->message);
    free(f->context);
    free(f->file);
    free(f->function);
    free(f->fingerprint);
    free(f->detail);
    free(f->scenario);
    free(f->token);
    free(f->driver_output);
    free(f->justification);
    free(f->racing_context);
    free(f->racing_file);
    free(f->racing_function);
    for (size_t i = 0; i < f->nevents; i++) {
        free(f->events[i].what);
        free(f->events[i].context);
        free(f->events[i].file);
    }
    free(f->events);
}

void ksl__result_drop_findings(ksl_result *r, size_t first)
{
    for (size_t i = first; i < r->nfindings; i++)
        free_finding(&r->findings[i]);
    if (first < r->nfindings)
        r->nfindings = first;
}

void ksl_result_free(ksl_result *r)
{
    if (!r)
        return;
    free(r->error);
    free(r->warning);
    free(r->command);
    free(r->driver.name);
    free(r->driver.arg);
    free(r->driver.kind);
    free(r->driver.description);
    free(r->driver.device);
    free(r->driver.device_plugin);
    for (size_t i = 0; i < r->nscenarios; i++)
        free(r->scenarios[i].name);
    free(r->scenarios);
    for (size_t i = 0; i < r->nfindings; i++)
        free_finding(&r->findings[i]);
    free(r->findings);
    free(r->windows);
    for (size_t i = 0; i < r->ncounters; i++)
        free(r->counters[i].name);
    free(r->counters);
    free(r->data_check);
    free(r->driver_output);
    free(r->output);
    free(r);
}

uint64_t ksl_result_counter(const ksl_result *r, const char *name, uint64_t otherwise)
{
    for (size_t i = 0; r && i < r->ncounters; i++)
        if (strcmp(r->counters[i].name, name) == 0)
            return r->counters[i].value;
    return otherwise;
}

int ksl_result_exit_status(const ksl_result *r)
{
    if (!r)
        return 2;
    switch (r->verdict) {
    case KSL_VERDICT_CLEAN: return 0;
    case KSL_VERDICT_FOUND:
        for (size_t i = 0; i < r->nfindings; i++)
            if (r->findings[i].known == KSL_KNOWN_NEW)
                return 1;
        return 0; /* every finding is in the baseline or suppressed */
    case KSL_VERDICT_INTERRUPTED: return 128 + r->signal;
    default: return 2;
    }
}

const char *ksl_verdict_name(ksl_verdict v)
{
    switch (v) {
    case KSL_VERDICT_CLEAN: return "clean";
    case KSL_VERDICT_FOUND: return "violation";
    case KSL_VERDICT_INTERRUPTED: return "interrupted";
    default: return "error";
    }
}
