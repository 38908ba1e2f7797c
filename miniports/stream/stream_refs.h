/* SPDX-License-Identifier: MIT */
/*
 * The reference stream class minidrivers (rules S1-S7 of RULES.md), one per example of the
 * stream class synchronization page, written against <kslab/wdk/strmini.h> and <kslab/wdk/wdm.h>:
 *
 *   isr-regs         fifocap, synchronization on with an ISR: only register work at DIRQL (small
 *                    frames, read in the ISR and the entry points within the 20 us budget)      S1
 *   isr-dpc-pio      fifocap, synchronization on with an ISR: the 4 KiB PIO copy in a Dispatch
 *                    callback, what it shares with the ISR in High callbacks                  S3 S4
 *   no-isr-dispatch  polldev, synchronization on, no ISR: DISPATCH_LEVEL entry points and a
 *                    StreamClassScheduleTimer poll; PASSIVE and long work in a Low callback   S5 S6
 *   filter           no hardware, synchronization off: PASSIVE_LEVEL, its queue under a
 *                    FAST_MUTEX                                                              S7b
 *   bus              lowerbus, synchronization off: requests to the next-lower driver at
 *                    PASSIVE_LEVEL, their completions (and the SRBs') at DISPATCH_LEVEL,
 *                    cancel through the lower bus, one completion per SRB                    S7c
 *
 * Every one of them captures frames in the <kslab/hw/frame.h> format (the filter makes them
 * itself, magic KSR_FILTER_MAGIC), one frame per SRB_READ_DATA whose buffer holds it.
 */
#ifndef KSLAB_MINIPORTS_STREAM_REFS_H
#define KSLAB_MINIPORTS_STREAM_REFS_H

#include <stddef.h>

#include <kslab/wdk/strmini.h>

#define KSR_FILTER_MAGIC 0x544C4946u /* "FILT" */
#define KSR_FILTER_SEED 0x5EEDF117u
#define KSR_FILTER_FRAME_BYTES 512u
#define KSR_BUS_FRAME_BYTES 2048u /* one lower-bus request's frame */

extern const ksl_stream_driver ksr_isr_regs_driver;
extern const ksl_stream_driver ksr_isr_dpc_pio_driver;
extern const ksl_stream_driver ksr_no_isr_dispatch_driver;
extern const ksl_stream_driver ksr_filter_driver;
extern const ksl_stream_driver ksr_bus_driver;

/* All of them, for the driver registry. */
extern const ksl_stream_driver *const ksl_stream_refs[];
extern const size_t ksl_stream_nrefs;

#endif
