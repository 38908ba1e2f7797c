/* SPDX-License-Identifier: MIT */
/* The catalog of device faults (see <kslab/rules.h>): what each device does, and what a correct
 * driver does about it.  The devices' inject hooks (src/hw) and the fault injector
 * (src/campaign/faults.c) implement them; `kslab rules` prints this. */
#include <kslab/rules.h>

static const ksl_fault_info faults[] = {
    {"any", "spurious-interrupt", "the interrupt line pulses once with no device cause",
     "the ISR reads its status, finds nothing of its own and returns FALSE; claiming it is K.isr-claimed-spurious"},
    {"any", "interrupt-storm", "64 such pulses, 2 us apart",
     "every one is turned away as above; the driver's state and budgets are unaffected"},
    {"ac97", "fifo-error", "SR.FIFOE on every running channel (an interrupt when CR.FEIE is set)",
     "the ISR acknowledges every status bit it finds, FIFOE included: one left set keeps the level-triggered line "
     "asserted, K.interrupt-storm"},
    {"ac97", "underrun", "PCM Out's transfer stalls 100 us, SR.FIFOE set",
     "as fifo-error; positions come from CIV/PICB, not from elapsed time, so the late data is not miscounted"},
    {"ac97", "overrun", "PCM In's transfer stalls 100 us, SR.FIFOE set", "as underrun"},
    {"ac97", "lost-interrupt",
     "a buffer completion sets its status bits but the line stays low until the next completion or a new cause",
     "Service releases every buffer the hardware finished (by CIV), never one per interrupt; a driver that counts "
     "interrupts falls behind and stalls (K.deadlock, W1.irp-not-completed)"},
    {"ac97", "stuck-reset", "CR.RR never clears itself again after a reset",
     "the reset poll gives up after a bounded time and the driver goes on (or fails the request); polling "
     "without a bound is K.hang"},
    {"ac97", "busmaster-error",
     "every running channel halts mid-buffer (SR.DCH and SR.FIFOE, RPBM still 1), keeping its position",
     "on the FIFOE interrupt, a channel halted without CELV while it should run is restarted by clearing and "
     "setting RPBM; rewriting LVI does not revive it and the stream stalls (K.deadlock)"},
    {"fifocap", "overrun", "the next frame is dropped as if the FIFO were full (STATUS.OVERRUN, DROP_COUNT)",
     "the ISR acknowledges OVERRUN with FRAME; the stream goes on with a gap the frame numbers show"},
    {"fifocap", "lost-interrupt",
     "the next frame latches STATUS.FRAME but the line stays low until the frame after it or an INT_ACK",
     "frames are moved while the FIFO holds them (STATUS.READY), not one per interrupt"},
    {"polldev", "stall", "the next frame and every later one come 2 ms late",
     "the poll finds nothing ready and tries again later; nothing waits at raised IRQL for the device"},
    {"lowerbus", "slow-completion", "the next bus request completes 3 ms late (the ones behind it wait too)",
     "requests stay pending until the bus completes them; nothing times them out and reuses them while the bus "
     "holds them (S7.bus-request-*)"},
};

const ksl_fault_info *ksl_fault_catalog(size_t *n)
{
    *n = sizeof faults / sizeof faults[0];
    return faults;
}
