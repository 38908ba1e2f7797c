/* SPDX-License-Identifier: MIT */
/* A stream class minidriver plugin that misbehaves on demand (misbehave.h), around the
 * isr-regs reference minidriver. */
#include <kslab/plugin.h>

#include "misbehave.h"
#include "stream_refs.h"

__attribute__((constructor)) static void on_load(void)
{
    misbehave("KSLAB_MISBEHAVE_LOAD", "the plugin's constructor");
}

static NTSTATUS DriverEntry(PVOID Argument1, PVOID Argument2)
{
    misbehave("KSLAB_MISBEHAVE", "DriverEntry");
    return ksr_isr_regs_driver.DriverEntry(Argument1, Argument2);
}

static const ksl_stream_driver misbehaving = {KSL_STREAM_DRIVER_VERSION, "isr-regs-misbehaving",
                                              "the isr-regs reference minidriver, misbehaving on demand", "fifocap",
                                              DriverEntry};
KSLAB_STREAM_PLUGIN(misbehaving)
