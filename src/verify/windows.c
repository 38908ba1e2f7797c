/* SPDX-License-Identifier: MIT */
/* The catalog of named race windows (see <kslab/windows.h>). */
#include <kslab/windows.h>

static const ksl_window windows[KSL_WIN_COUNT] = {
    [KSL_WIN_WP_REVOKE_IN_GETMAPPING_GAP] =
        {"wavepci.revoke-in-getmapping-gap", "wavepci", "GetMapping returns a mapping to the miniport",
         "that context takes a spin lock (the miniport re-taking its own), or its routine returns",
         "the port calls RevokeMappings from another context",
         "an index or pointer into the mapping list taken before GetMapping is stale once the lock is back"},
    [KSL_WIN_WP_REVOKE_IN_RELEASE] =
        {"wavepci.revoke-in-release", "wavepci", "the miniport calls ReleaseMapping", "ReleaseMapping returns",
         "the port calls RevokeMappings from another context",
         "the mapping being released is also in the revoked range: it must leave once, not twice (W6)"},
    [KSL_WIN_WP_CANCEL_IN_SERVICE] =
        {"wavepci.cancel-in-service", "wavepci", "the port calls IMiniportWavePciStream::Service", "Service returns",
         "an IRP of the stream is cancelled on another context",
         "Service walks the mapping list while the cancel path revokes entries of it"},
    [KSL_WIN_WP_CANCEL_RING_DRY] =
        {"wavepci.cancel-ring-dry", "wavepci", "the stream runs and the miniport holds no mapping (the ring ran dry)",
         "the miniport gets a mapping again, or the stream leaves RUN", "an IRP of the stream is cancelled",
         "the cancel finds nothing mapped: the miniport must not touch a ring it has emptied"},
    [KSL_WIN_WP_ISR_DURING_SERVICE] =
        {"wavepci.isr-during-service", "wavepci", "the port calls IMiniportWavePciStream::Service", "Service returns",
         "an interrupt service routine starts on another CPU",
         "the ISR reads the hardware position and buffer state that Service is rewriting"},
    [KSL_WIN_WP_TWO_DRAINERS] =
        {"wavepci.two-drainers", "wavepci", "the miniport calls ReleaseMapping on a stream",
         "the port call it is part of (Service, SetState, MappingAvailable) returns, or its routine does",
         "another context enters Service, SetState or MappingAvailable of that stream, or calls ReleaseMapping on it",
         "two paths (the service DPC and a state change, say) release from the same list at once"},
    [KSL_WIN_WP_POWER_DOWN_DURING_DMA] =
        {"wavepci.power-down-during-dma", "wavepci", "a pin runs (its bus master moves data)", "the pin leaves RUN",
         "the device is asked to leave D0 (the port pauses the pin, then calls PowerChangeNotify)",
         "the pause races the service DPC and the ISR, and the miniport saves or powers down a codec that is "
         "still in use"},
    [KSL_WIN_WP_STATE_CHANGE_DURING_SERVICE] =
        {"wavepci.state-change-during-service", "wavepci", "the port calls IMiniportWavePciStream::Service",
         "Service returns", "the port calls SetState on another context",
         "SetState stops the engine and resets the list while Service refills it"},
    [KSL_WIN_ST_ISR_DURING_CALLBACK] =
        {"stream.isr-during-callback", "stream", "a Dispatch or Low priority routine starts", "it returns",
         "the minidriver's ISR starts",
         "Dispatch and Low routines are not synchronized with the ISR: shared state needs a High routine (S4)"},
    [KSL_WIN_ST_CANCEL_IN_RECEIVE] =
        {"stream.cancel-in-receive-packet", "stream", "the class calls a receive-packet routine", "it returns",
         "the class calls HwCancelPacket from another context",
         "the SRB being cancelled is still being queued by the minidriver"},
    [KSL_WIN_ST_CANCEL_HELD_FOR_LOW] =
        {"stream.cancel-srb-held-for-low", "stream", "a Low priority routine is asked for", "it returns",
         "the class cancels an SRB the minidriver holds",
         "the Low routine completes or touches an SRB that the cancel path completed"},
    [KSL_WIN_ST_TIMER_DURING_LOW] =
        {"stream.timer-during-low", "stream", "a Low priority routine starts", "it returns",
         "a StreamClassScheduleTimer routine fires on another context",
         "the timer routine and the Low routine share state with no lock between them (S5)"},
};

const ksl_window *ksl_windows(size_t *n)
{
    *n = KSL_WIN_COUNT;
    return windows;
}
