/* SPDX-License-Identifier: MIT */
/* The reference minidriver in bus.c as a driver plugin (compiled only into the plugin). */
#include <kslab/plugin.h>

#include "stream_refs.h"

KSLAB_STREAM_PLUGIN(ksr_bus_driver)
