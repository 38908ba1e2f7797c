/* SPDX-License-Identifier: MIT */
/* The reference stream minidrivers, for the driver registry (see stream_refs.h). */
#include "stream_refs.h"

const ksl_stream_driver *const ksl_stream_refs[] = {&ksr_isr_regs_driver, &ksr_isr_dpc_pio_driver,
                                                    &ksr_no_isr_dispatch_driver, &ksr_filter_driver,
                                                    &ksr_bus_driver};
const size_t ksl_stream_nrefs = sizeof ksl_stream_refs / sizeof ksl_stream_refs[0];
