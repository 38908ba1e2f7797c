/* SPDX-License-Identifier: MIT */
/* The reference minidriver in no_isr_dispatch.c as a driver plugin (compiled only into the plugin). */
#include <kslab/plugin.h>

#include "stream_refs.h"

KSLAB_STREAM_PLUGIN(ksr_no_isr_dispatch_driver)
