/* SPDX-License-Identifier: MIT */
/*
 * The reference AC'97 miniport as a driver plugin (drivers/ac97.so): this file is compiled only
 * into the plugin; the built-in copy linked into kslab has no entry point.
 */
#include <kslab/plugin.h>

#include "ac97_miniport.h"

KSLAB_WAVEPCI_PLUGIN(ksl_ac97_driver)
