/* SPDX-License-Identifier: MIT */
/* The rule catalog.  Ids are stable: tests, CI users and SARIF consumers key on them. */
#include <string.h>

#include <kslab/rules.h>

static const ksl_rule rules[] = {
    {"K.irql-raise-to-lower", "kernel", "Driver Verifier 0xC4/0x30", "KeRaiseIrql to an IRQL below the current one"},
    {"K.irql-lower-to-higher", "kernel", "Driver Verifier 0xC4/0x31", "KeLowerIrql to an IRQL above the current one"},
    {"K.spinlock-acquire-above-dispatch", "kernel", "Driver Verifier 0xC4/0x42", "KeAcquireSpinLock called above DISPATCH_LEVEL"},
    {"K.spinlock-dpc-below-dispatch", "kernel", "Driver Verifier 0xC4/0x40, 0x41",
     "KeAcquireSpinLockAtDpcLevel / KeReleaseSpinLockFromDpcLevel called below DISPATCH_LEVEL"},
    {"K.spinlock-release-not-held", "kernel", "Driver Verifier 0xC4/0x1007", "a spin lock released that is not held"},
    {"K.spinlock-release-wrong-cpu", "kernel", "Driver Verifier 0xC4/0x1004", "a spin lock released by a CPU other than its holder"},
    {"K.spinlock-recursive", "kernel", "Driver Verifier 0xC4/0x1000", "a spin lock acquired again on the CPU that holds it (self-deadlock)"},
    {"K.spinlock-release-irql", "kernel", "Driver Verifier 0xC4/0x32, DDI rule IrqlKeReleaseSpinLock",
     "KeReleaseSpinLock not at DISPATCH_LEVEL, or restoring an IRQL other than the one its acquire saved"},
    {"K.spinlock-uninitialized", "kernel", "Driver Verifier 0xC4/0x1002", "a spin lock used before KeInitializeSpinLock"},
    {"K.object-uninitialized", "kernel", "Driver Verifier", "a DPC, timer, event or fast mutex used before it was initialized"},
    {"K.wait-at-dispatch", "kernel", "Driver Verifier 0xC4/0x3B", "a wait with a non-zero timeout at or above DISPATCH_LEVEL, or outside a thread"},
    {"K.passive-only-at-raised-irql", "kernel", "DDI rule IrqlPassive", "a PASSIVE_LEVEL-only service called at raised IRQL"},
    {"K.irql-too-high", "kernel", "DDI rule IrqlKeDispatchLte, bug check 0xD1", "a service called above the highest IRQL it allows"},
    {"K.isr-irql-changed", "kernel", "Driver Verifier 0xC4/0x111", "an ISR returned at an IRQL other than the one it was called at"},
    {"K.routine-irql-changed", "kernel", "Driver Verifier 0xC4",
     "a DPC, work item, cancel routine or synchronized routine returned at a different IRQL"},
    {"K.lock-held-on-return", "kernel", "DDI rule SpinLock (0xC4/0x40009)",
     "a spin lock still held when a DPC, ISR, work item, cancel routine or thread returns"},
    {"K.lock-order-cycle", "kernel", "Driver Verifier 0xC4/0x1001, lockdep", "two locks taken in both orders: a potential deadlock"},
    {"K.mutex-recursive", "kernel", "Driver Verifier 0xC4/0x1000", "a fast mutex acquired again by its owner (self-deadlock)"},
    {"K.mutex-release-not-owner", "kernel", "Driver Verifier 0xC4/0x1004", "a fast mutex released by a thread that does not own it"},
    {"K.pool-leak", "kernel", "Driver Verifier pool tracking (0xC4/0x62)", "pool still allocated at the end of the run"},
    {"K.pool-bad-free", "kernel", "Driver Verifier special pool", "a free of memory that is not allocated, or with the wrong tag"},
    {"K.paged-free-at-raised-irql", "kernel", "Driver Verifier IRQL checking, DDI rule IrqlExApcLte1",
     "paged pool freed above APC_LEVEL (recorded; the run goes on)"},
    {"K.paged-touch-at-raised-irql", "kernel", "Driver Verifier IRQL checking (paged pool trimmed at raised IRQL)",
     "paged pool touched at DISPATCH_LEVEL or above (deterministic engine; recorded, the run goes on)"},
    {"K.paged-code-at-raised-irql", "kernel", "PAGED_CODE() in checked builds, Driver Verifier IRQL checking",
     "PAGED_CODE() reached above APC_LEVEL (recorded; the run goes on)"},
    {"K.workitem-requeued", "kernel", "IoQueueWorkItem documentation", "a work item queued again while still queued"},
    {"K.workitem-free-queued", "kernel", "IoFreeWorkItem documentation", "a work item freed while still queued"},
    {"K.irp-double-complete", "kernel", "bug check 0x44 MULTIPLE_IRP_COMPLETE_REQUESTS", "an IRP completed twice"},
    {"K.irp-complete-with-cancel-routine", "kernel", "bug check 0x48 CANCEL_STATE_IN_COMPLETED_IRP",
     "an IRP completed while its cancel routine is still set"},
    {"K.irp-complete-holding-spinlock", "kernel", "DDI rule SpinLockSafe", "IoCompleteRequest called while holding a spin lock"},
    {"K.driver-assert", "kernel", "ASSERT", "a driver assertion failed"},
    {"K.pure-virtual-call", "kernel", "the C++ runtime's pure virtual call handler (R6025 in user mode)",
     "a C++ driver called a pure virtual function: an object used while its constructor or destructor ran, or "
     "after it was deleted"},
    {"K.deadlock", "kernel", "the engine", "no context can run while client threads wait: the wait-for picture is reported"},
    {"K.driver-crash", "kernel", "a bug check in the driver",
     "the driver crashed (a fatal signal: NULL dereference, abort, ...): the execution's worker process died"},
    {"K.driver-exit", "kernel", "a driver must never end its process (the host's bug check)",
     "the driver called exit() or _exit(): the execution's worker process ended while the driver ran"},
    {"K.interrupt-storm", "kernel", "the HAL's interrupt storm detection (bug check 0xF2 HARDWARE_INTERRUPT_STORM)",
     "a level-triggered interrupt line stayed asserted through 1 000 ISR runs in a row: no ISR clears its device's "
     "interrupt cause"},
    {"K.isr-claimed-spurious", "kernel", "KSERVICE_ROUTINE / InterruptService documentation (shared lines)",
     "an ISR returned TRUE for an interrupt no device raised; it must return FALSE unless its device's status "
     "shows one"},
    {"K.hang", "kernel", "the engine",
     "the run exceeded its bound of scheduling points (livelock, interrupt storm), or a context ran past its "
     "CPU-time budget (--step-cpu) or the wall time (--timeout) without one (a loop that never calls the kernel)"},
    {"W1.double-release", "W1", "the WavePci port's ownership ledger", "ReleaseMapping of a mapping already released"},
    {"W1.release-out-of-order", "W1", "IPortWavePciStream::ReleaseMapping documentation",
     "a mapping released while one acquired before it is still held"},
    {"W1.release-unknown-tag", "W1", "the WavePci port's ownership ledger", "ReleaseMapping with a tag no mapping was handed out with"},
    {"W1.revoke-count-wrong", "W1", "IMiniportWavePciStream::RevokeMappings documentation",
     "RevokeMappings reported more mappings revoked than the miniport held in the range"},
    {"W1.mapping-held-at-close", "W1", "the WavePci port's ownership ledger",
     "a mapping still held by the miniport after STOP and close: it left by neither release nor revoke"},
    {"W1.irp-not-completed", "W1", "the WavePci port's books after the run",
     "an IRP not completed exactly once (submitted != completed + cancelled)"},
    {"W1.bytes-unaccounted", "W1", "the WavePci port's books after the run",
     "bytes submitted != bytes played + bytes cancelled, or a mapping neither released nor revoked"},
    {"W2.hw-queue-unlocked", "W2", "Eraser's lockset algorithm over the DMA engine's queue registers",
     "the hardware queue (LVI, CR, BDBAR) written by two contexts that hold no common lock"},
    {"W3.lock-held-across-port-call", "W3", "Driver Verifier 0xC4 (GetMapping / ReleaseMapping documentation)",
     "a spin lock of the miniport held while it calls GetMapping, ReleaseMapping or TerminatePacket"},
    {"W4.tag-reused", "W4", "the WavePci port's ownership ledger",
     "GetMapping with a tag the miniport still holds: a slot reused while still queued"},
    {"W4.data-mismatch", "W4", "the device model and the ownership ledger",
     "audio repeated, skipped or released before the device moved it: the output would differ from the input"},
    {"W5.dma-after-release", "W5", "the device model and the ownership ledger",
     "the device moved data from or into a mapping the miniport had already released"},
    {"W5.dma-after-revoke", "W5", "the device model and the ownership ledger",
     "the device moved data from or into a mapping that was revoked (a byte of a cancelled IRP played or captured)"},
    {"W5.dma-unowned-mapping", "W5", "the device model and the ownership ledger",
     "the device moved data from or into IRP memory the miniport was never handed, or of a freed IRP"},
    {"W5.ring-exposes-dead-mapping", "W5", "the AC'97 model at the register write, and the ownership ledger",
     "an LVI or RPBM write lets the running bus master reach a descriptor whose mapping was released or revoked "
     "(reported at the write, even when this run never fetches it; the run goes on)"},
    {"W5.dma-unmapped-address", "W5", "the device model",
     "a DMA access to a physical address no block of memory covers (a descriptor left pointing at freed memory)"},
    {"W6.removed-twice", "W6", "the WavePci port's ownership ledger",
     "a mapping removed by both paths: RevokeMappings took it back and ReleaseMapping released it too"},
    /* The notification protocol ids are S1.: the SRB ownership and ReadyForNext flow control are
     * the class driver's contract of synchronized mode (S1 with an ISR; S6 without one reuses the
     * same contract, and one id must not change with the mode), and they are reported in every
     * mode.  The one about StreamClassCallAtNewPriority is S3 (the rule that introduces the
     * Dispatch routine and its one-pending slot). */
    {"S1.srb-completed-twice", "S1", "stream.sys SRB ownership (HW_STREAM_REQUEST_BLOCK documentation)",
     "StreamRequestComplete / DeviceRequestComplete for an SRB the minidriver had already completed"},
    {"S1.srb-completed-not-owned", "S1", "stream.sys SRB ownership",
     "an SRB completed that the minidriver does not own: never sent to it, or cancelled / aborted by the class"},
    {"S1.notification-bad-argument", "S1", "strmini.h service documentation",
     "a class service called with an SRB, stream object or device extension the class did not hand out, or the wrong "
     "completion type (stream vs device)"},
    {"S1.ready-for-next-twice", "S1", "stream.sys request queues (ReadyForNext... documentation)",
     "ReadyForNext... signalled for a queue that is ready already: no request was sent since the last one"},
    {"S3.callatnewpriority-pending", "S3", "StreamClassCallAtNewPriority documentation",
     "a second Dispatch / Low routine asked for while one is still pending on the same stream or device"},
    {"S1.srb-not-completed-at-close", "S1", "stream.sys close (IRP_MJ_CLEANUP cancels outstanding requests)",
     "a stream closed while one of its SRBs is never completed, even after HwCancelPacket"},
    /* Time at raised IRQL, per routine, in virtual time (ksl_stream_options budgets). */
    {"S1.dirql-over-budget", "S1", "the checked stream.sys raised-IRQL timing (S1, S2)",
     "a minidriver routine (entry point, HwInterrupt, High routine, timer routine) ran longer than the DIRQL budget "
     "(default 20 us) at the adapter's DIRQL"},
    {"S6.dispatch-over-budget", "S6", "the checked stream.sys raised-IRQL timing (S2, S6)",
     "a minidriver routine ran longer than the DISPATCH_LEVEL budget (default 1 ms) at DISPATCH_LEVEL"},
    {"S3.dispatch-callback-over-budget", "S3", "StreamClassCallAtNewPriority(Dispatch) documentation (S3: 0.5-1 ms)",
     "a Dispatch priority routine ran longer than its budget (default 1 ms): the work belongs in a Low routine"},
    {"S7.sync-on-long-requests", "S7", "the checked stream.sys assert (S7a)",
     "synchronization on and more than 20 % of the requests (of at least 10) took over 1 ms in their entry point: "
     "synchronization must be off"},
    {"S7.passive-service-with-sync-on", "S7", "the checked stream.sys assert (S7a)",
     "a PASSIVE_LEVEL-only service called from a minidriver routine the class ran at raised IRQL with "
     "synchronization on (a Low routine is the place for it)"},
    {"S4.unsynchronized-isr-shared-access", "S4",
     "Eraser's lockset over the adapter's registers with the interrupt lock, and over its extensions",
     "a register the ISR writes also written by a Dispatch or Low priority routine without the interrupt lock, or "
     "extension memory written by a Dispatch routine and meanwhile by the ISR or an entry point (touch it from a "
     "High routine)"},
    {"S5.low-routine-unsynchronized-state", "S5",
     "Eraser's lockset over the extensions, writes attributed per scheduling step (deterministic engine)",
     "extension memory written by a Low routine and, while it ran, by a request, the ISR or another routine, with no "
     "lock in common (state the Low routine relied on changed under it)"},
    {"S8.unsynchronized-shared-state", "S8",
     "Eraser's lockset over the extensions with synchronization off (spin locks, fast mutexes, events used as "
     "locks)",
     "with class synchronization off, two contexts wrote the same extension bytes with no lock in common"},
    {"S1.data-mismatch", "S1", "the stream job's frame check after the run",
     "frames delivered damaged, repeated or out of order (checked bit for bit against the device's data)"},
    {"S1.srb-lost", "S1", "the stream job's books after the run",
     "a read SRB never completed (a request lost): submitted != completed + cancelled + failed, or timed out"},
    {"S1.srb-failed", "S1", "the stream job's books after the run", "a read SRB nobody cancelled completed with an error"},
    {"S1.no-data", "S1", "the stream job's books after the run", "a stream delivered no frame at all"},
    {"S7.bus-request-completed-twice", "S7", "the lower bus model (IRP completion semantics)",
     "a bus request completed twice: it was submitted again while still pending"},
    {"S7.bus-request-freed-pending", "S7", "the lower bus model", "a bus request freed while the bus still holds it"},
};

const ksl_rule *ksl_rules(size_t *n)
{
    *n = sizeof rules / sizeof rules[0];
    return rules;
}

const char *ksl_rule_fix(const ksl_rule *r)
{
    static const struct {
        const char *rule, *fix;
    } fixes[] = {
        {"W1", "Keep every mapping GetMapping handed out in one list under your lock until exactly one of "
               "ReleaseMapping (after the hardware is done with it) or RevokeMappings (counted in its out "
               "parameter) takes it out; release in the order you got them; complete nothing twice."},
        {"W2", "Change the hardware queue (descriptor list, LVI, CR, BDBAR) only under the spin lock every "
               "other writer of it holds; an ISR that must touch it does so through a synchronized routine."},
        {"W3", "Drop your own spin lock before GetMapping / ReleaseMapping and take it again after: the port "
               "may call RevokeMappings under its lock meanwhile, and the two orders deadlock."},
        {"W4", "After re-taking the lock, re-read every index or pointer into the mapping list: what you read "
               "before the unlocked window may have been revoked or reused."},
        {"W5", "In RevokeMappings, stop the DMA engine, take the revoked mappings out of the hardware queue as "
               "well as your list, and restart it on the survivors; never let the queue expose a dead mapping."},
        {"W6", "Take a mapping off your list before you release it, under the lock, so that a racing revoke "
               "neither finds nor counts it: exactly one path removes each mapping."},
        {"S1", "Complete each request once, only the ones you own, with valid notifications; keep the "
               "routines the class calls at the DIRQL to register work of a few microseconds."},
        {"S3", "Move longer work out of the synchronized routines with StreamClassCallAtNewPriority(Dispatch), "
               "one request at a time, and keep that under about a millisecond."},
        {"S4", "State shared with the ISR is touched only under the interrupt lock: from a High priority "
               "(LowToHigh) routine, or a synchronized routine."},
        {"S5", "Give a Low priority routine a snapshot of what it needs and publish its results through a "
               "LowToHigh routine; share nothing with it without a common lock."},
        {"S6", "Without an ISR the entry points run at DISPATCH_LEVEL: keep them under about a millisecond and "
               "move longer or PASSIVE_LEVEL work to a Low priority routine."},
        {"S7", "A driver whose requests often need more than a millisecond, or PASSIVE_LEVEL services, turns "
               "class synchronization off and synchronizes itself; bus-type requests stay pending until the "
               "bus completes them."},
        {"S8", "With synchronization off, every piece of state two contexts write is guarded by one lock both "
               "take (a spin lock at DISPATCH_LEVEL and above, a fast mutex at PASSIVE_LEVEL)."},
        {"kernel", "Follow the documented IRQL and lock contract of the service named in the message; Driver "
                   "Verifier bug-checks for the same, and the message says which call broke it and where."},
    };
    for (size_t i = 0; r && i < sizeof fixes / sizeof fixes[0]; i++)
        if (strcmp(r->rule, fixes[i].rule) == 0)
            return fixes[i].fix;
    return "";
}

const char *ksl_rule_level(const ksl_rule *r)
{
    static const char *const warnings[] = {"K.lock-order-cycle", "S1.dirql-over-budget", "S6.dispatch-over-budget",
                                           "S3.dispatch-callback-over-budget", "S7.sync-on-long-requests"};
    for (size_t i = 0; r && i < sizeof warnings / sizeof warnings[0]; i++)
        if (strcmp(r->id, warnings[i]) == 0)
            return "warning";
    return "error";
}

const ksl_rule *ksl_rule_find(const char *id)
{
    for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++)
        if (strcmp(rules[i].id, id) == 0)
            return &rules[i];
    return NULL;
}
