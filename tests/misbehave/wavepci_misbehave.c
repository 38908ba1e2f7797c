/* SPDX-License-Identifier: MIT */
/* A WavePci driver plugin that misbehaves on demand (misbehave.h), around the reference AC'97
 * miniport. */
#include <kslab/plugin.h>

#include "ac97_miniport.h"
#include "misbehave.h"

__attribute__((constructor)) static void on_load(void)
{
    misbehave("KSLAB_MISBEHAVE_LOAD", "the plugin's constructor");
}

static NTSTATUS NewMiniport(PMINIPORTWAVEPCI *Miniport)
{
    misbehave("KSLAB_MISBEHAVE", "NewMiniport");
    return ksl_ac97_driver.NewMiniport(Miniport);
}

static const ksl_wavepci_driver misbehaving = {KSL_WAVEPCI_DRIVER_VERSION, "ac97-misbehaving",
                                               "the reference AC'97 miniport, misbehaving on demand", "ac97",
                                               NewMiniport, NULL};
KSLAB_WAVEPCI_PLUGIN(misbehaving)
