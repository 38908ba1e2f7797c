/* SPDX-License-Identifier: MIT */
/* Defaults, interruption and the version (see <kslab/campaign.h>). */
#include <signal.h>
#include <string.h>

#include <kslab/campaign.h>

#ifndef KSLAB_VERSION
#error "KSLAB_VERSION must be defined by the build"
#endif

static volatile sig_atomic_t interrupted_by;

void ksl_stop(int signal)
{
    interrupted_by = signal > 0 ? signal : 1;
}

void ksl_stop_clear(void)
{
    interrupted_by = 0;
}

int ksl_stopped(void)
{
    return interrupted_by;
}

const char *ksl_version(void)
{
    return KSLAB_VERSION;
}

void ksl_run_opts_default(ksl_run_opts *o)
{
    memset(o, 0, sizeof *o);
    o->version = KSL_CAMPAIGN_OPTS_VERSION;
    ksl_config_default(&o->cfg);
    o->cfg.seed = 1;
}
