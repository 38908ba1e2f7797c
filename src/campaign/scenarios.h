/* SPDX-License-Identifier: MIT */
/*
 * The built-in scenarios of `kslab stress`: short jobs (<kslab/campaign.h>'s ksl_job), one per
 * risk of a kind of driver, WavePci first, then stream class; and the engine's demonstrations
 * (demo.h), which need no driver.  Host code.
 */
#ifndef KSLAB_CAMPAIGN_SCENARIOS_H
#define KSLAB_CAMPAIGN_SCENARIOS_H

#include <kslab/campaign.h>

#include "audio_job.h"

typedef enum ksl__scen_kind { KSL__SCEN_WAVEPCI = 0, KSL__SCEN_STREAM = 1, KSL__SCEN_DEMO = 2 } ksl__scen_kind;

typedef struct ksl__scenario {
    ksl__scen_kind kind;
    const char *name;
    const char *summary;
    ksl_job job;             /* WavePci and stream class scenarios */
    int demo;                /* demonstrations: the index in demo.h's list */
    bool buggy;              /* demonstrations: broken on purpose */
    audio_shape shape;       /* what it varies beyond the job (stream class scenarios: only `aim`,
                              * a KSL_STRM_EV_* kind or AUDIO_AIM_EACH) */
    uint64_t def_hash;       /* a scenario file's: the hash of its definition (scenario_file.h),
                              * carried in replay tokens; 0 built in */
    uint64_t schedules;      /* a scenario file's own budget (0: the run's --schedules) */
} ksl__scenario;

/* The scenarios runs see: the built-in ones, or those of a scenario file the run uses
 * (ksl__scenarios_use), in order.  Workers forked while a file's are in use see them too. */
const ksl__scenario *ksl__scenario_list(size_t *n);
/* Make `list` (n entries, kept by the caller until the next call) the scenarios runs see; NULL:
 * the built-in ones again.  One run at a time per process (<kslab/campaign.h>). */
void ksl__scenarios_use(const ksl__scenario *list, size_t n);
/* The scenario of `kind` named `name`, or NULL. */
const ksl__scenario *ksl__scenario_find(ksl__scen_kind kind, const char *name);
/* The prefix of `kind` in replay tokens: "wavepci/", "stream/", "demo/". */
const char *ksl__scen_prefix(ksl__scen_kind kind);

#endif
