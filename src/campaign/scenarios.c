/* SPDX-License-Identifier: MIT */
/* The built-in scenarios (see scenarios.h). */
#include <string.h>

#include <kslab/stream.h>

#include "demo.h"
#include "scenarios.h"

/* WavePci: 60 ms of 48 kHz stereo (the signal of seed 1) in 10 ms IRPs whose buffers start 3 KiB
 * into a page, so every IRP is two mappings: the miniport holds several per IRP, and
 * cancellation revokes runs of them.
 *
 * cancel-race: the canceller wakes on a timer and the service DPC on the device's interrupt, and
 * the exploration interleaves only contexts runnable at the same virtual time, so a cancel races
 * the DPC's release or GetMapping only when its moment falls inside the DPC (a few µs).  With
 * 10 ms IRPs that is one cancel in thousands; 1 ms IRPs (an interrupt every 1 ms, cancels within
 * 1 ms, ten times as many of them), each two mappings of 96 bytes (4 000 bytes into the page),
 * make it one execution in tens. */
#define WP(cap, ms, irp, fl, cancel, pause, stop, off)                                                               \
    {.kind = (cap) ? KSL_JOB_CAPTURE : KSL_JOB_PLAY, .rate = 48000, .channels = 2, .frames = 48u * (ms),          \
     .irp_ms = (irp), .in_flight = (fl), .cancel_every = (cancel), .pause_every_ms = (pause), .stop_after = (stop), \
     .buffer_offset = (off)}

/* Stream class: short jobs, one per risk of the class: the devices make a frame every
 * millisecond, so a job of 8 read SRBs is ~10 ms of virtual time.  The canceller picks its
 * moment (0-3 ms after the submission) from the seed, and the churner's pauses move frames
 * against interrupts, the class's DPC and the priority callbacks. */
#define ST(n, fl, cancel, pause, close)                                                                              \
    {.kind = KSL_JOB_STREAM, .srbs = (n), .in_flight = (fl), .cancel_every = (cancel), .pause_every_ms = (pause),  \
     .close_after = (close), .wait_ms = 1000}

#define PLAIN {.aim = 0} /* nothing beyond the job */
/* Seeded lateness as real machines show: interrupt latency and device timing of tens of us,
 * timers late by up to a millisecond (a clock tick without high-resolution timers is more). */
#define JITTER {.jitter_ns = 20000, .timer_jitter_ns = 1000000}

static const ksl__scenario scenarios[] = {
    {KSL__SCEN_WAVEPCI, "steady", "steady playback: 60 ms in 10 ms IRPs, 4 in flight", WP(0, 60, 10, 4, 0, 0, 0, 3072), 0,
     false, PLAIN, 0, 0},
    {KSL__SCEN_WAVEPCI, "cancel-storm", "playback with every IRP cancelled at a seeded moment of its playing time",
     WP(0, 60, 10, 4, 1, 0, 0, 3072), 0, false, PLAIN, 0, 0},
    {KSL__SCEN_WAVEPCI, "pause-churn", "playback paused for 1 ms every 5 ms, every 3rd IRP cancelled",
     WP(0, 60, 10, 4, 3, 5, 0, 3072), 0, false, PLAIN, 0, 0},
    {KSL__SCEN_WAVEPCI, "stop-during-dma",
     "STOP after 2 IRPs while the rest are queued and mapped, every 2nd IRP cancelled", WP(0, 60, 10, 5, 2, 0, 2, 3072),
     0, false, PLAIN, 0, 0},
    {KSL__SCEN_WAVEPCI, "capture-terminate", "capture paused every 7 ms (TerminatePacket), every 3rd IRP cancelled",
     WP(1, 60, 10, 4, 3, 7, 0, 3072), 0, false, PLAIN, 0, 0},
    {KSL__SCEN_WAVEPCI, "cancel-race", "1 ms IRPs of two mappings, every one cancelled: cancels that meet the service DPC",
     WP(0, 60, 1, 4, 1, 0, 0, 4000), 0, false, PLAIN, 0, 0},
    {KSL__SCEN_WAVEPCI, "cancel-aimed",
     "every 2nd IRP cancelled the moment the port hands out a mapping, takes one back, or calls Service (in turn)",
     WP(0, 60, 2, 4, 2, 0, 0, 4000), 0, false, {.aim = AUDIO_AIM_EACH}, 0, 0},
    {KSL__SCEN_WAVEPCI, "underrun",
     "the client lets the ring run dry after every 3rd IRP, then refills, cancelling the refill's first IRP as it "
     "is queued",
     WP(0, 60, 5, 3, 0, 0, 0, 3072), 0, false, {.underrun_every = 3}, 0, 0},
    {KSL__SCEN_WAVEPCI, "duplex", "playback and capture pins running at once on one device, every 3rd IRP cancelled",
     WP(0, 60, 10, 4, 3, 0, 0, 3072), 0, false, {.duplex = true}, 0, 0},
    {KSL__SCEN_WAVEPCI, "formats",
     "a rate and channel count from the seed (8-48 kHz, mono or stereo; a format the driver refuses at open is a "
     "clean run that plays nothing), IRPs of 1-700 frames, every other one a sample longer (frames straddle IRPs), "
     "every 5th empty",
     WP(0, 60, 10, 4, 4, 0, 0, 1024), 0, false, {.seeded_format = true, .irp_frames_max = 700, .zero_every = 5}, 0, 0},
    {KSL__SCEN_WAVEPCI, "state-walk",
     "every 4 ms RUN->PAUSE->ACQUIRE->PAUSE->RUN, GetPosition every ms and SetFormat while running, and an "
     "adapter's topology volume and mute read and set (its property handlers)",
     WP(0, 60, 10, 4, 3, 4, 0, 3072), 0, false, {.state_walk = KSL__WALK_ACQUIRE, .query_every_ms = 1}, 0, 0},
    {KSL__SCEN_WAVEPCI, "stop-walk",
     "every 5 ms RUN->PAUSE->ACQUIRE->STOP, 1 ms there (the port cancels what is queued), then ACQUIRE->PAUSE->RUN, "
     "every 3rd IRP cancelled",
     WP(0, 60, 5, 4, 3, 5, 0, 3072), 0, false, {.state_walk = KSL__WALK_STOP}, 0, 0},
    {KSL__SCEN_WAVEPCI, "power-cycle",
     "the device powered down (D3) for 1 ms every 6 ms while it plays, every 3rd IRP cancelled",
     WP(0, 60, 10, 4, 3, 6, 0, 3072), 0, false, {.power_cycle = true}, 0, 0},
    {KSL__SCEN_WAVEPCI, "faults",
     "playback and capture at once while the device shows 4 faults the seed picks (FIFO errors, a lost or spurious "
     "interrupt, a storm, a stuck reset bit, a bus-master error), every 3rd IRP cancelled",
     WP(0, 60, 10, 4, 3, 0, 0, 3072), 0, false, {.duplex = true, .faults = 4}, 0, 0},
    {KSL__SCEN_WAVEPCI, "two-submitters",
     "two client threads feed one pin 2 ms IRPs at once, every 3rd cancelled: the queue order is theirs to race",
     WP(0, 60, 2, 4, 3, 0, 0, 4000), 0, false, {.submitters = 2}, 0, 0},
    {KSL__SCEN_WAVEPCI, "jitter",
     "2 ms IRPs, paused every 5 ms, every 2nd cancelled, with device events (interrupt latency), DPCs and work items up "
     "to 20 us and timers up to 1 ms late, drawn from the seed",
     WP(0, 60, 2, 4, 2, 5, 0, 4000), 0, false, JITTER, 0, 0},
    {KSL__SCEN_STREAM, "steady", "steady capture: 8 read SRBs, 4 in flight, no cancels or pauses", ST(8, 4, 0, 0, 0), 0,
     false, PLAIN, 0, 0},
    {KSL__SCEN_STREAM, "cancel-storm", "capture with every SRB cancelled at a seeded moment 0-3 ms into its life",
     ST(8, 4, 1, 0, 0), 0, false, PLAIN, 0, 0},
    {KSL__SCEN_STREAM, "state-churn", "capture paused for 1 ms every 2 ms (RUN/PAUSE), every 3rd SRB cancelled",
     ST(8, 4, 3, 2, 0), 0, false, PLAIN, 0, 0},
    {KSL__SCEN_STREAM, "close-outstanding", "STOP and close after 3 SRBs with 4 still outstanding, every 2nd cancelled",
     ST(8, 4, 2, 0, 3), 0, false, PLAIN, 0, 0},
    {KSL__SCEN_STREAM, "cancel-aimed",
     "every 2nd SRB cancelled as it goes to the receive routine, or when a Low routine is asked for (in turn)",
     ST(8, 4, 2, 0, 0), 0, false, {.aim = AUDIO_AIM_EACH}, 0, 0},
    {KSL__SCEN_STREAM, "long-run",
     "90 read SRBs (past every-64-frame housekeeping), paused every 9 ms, every 4th cancelled when a Low routine "
     "is next asked for",
     ST(90, 4, 4, 9, 0), 0, false, {.aim = KSL_STRM_EV_LOW}, 0, 0},
    {KSL__SCEN_STREAM, "faults",
     "capture of 16 SRBs while the device shows 3 faults the seed picks (a dropped frame, a lost or spurious "
     "interrupt, a storm, a late frame or bus completion), every 3rd SRB cancelled",
     ST(16, 4, 3, 0, 0), 0, false, {.faults = 3}, 0, 0},
    {KSL__SCEN_STREAM, "two-clients",
     "a second PASSIVE client asks the pin its state every ms while the reader's 16 SRBs run, paused every 3 ms, "
     "every 3rd cancelled",
     ST(16, 4, 3, 3, 0), 0, false, {.query_every_ms = 1}, 0, 0},
    {KSL__SCEN_STREAM, "jitter",
     "16 SRBs, paused every 3 ms, every 3rd cancelled, with frame arrival, interrupt latency, DPCs and deferred "
     "callbacks up to 20 us and timers (polls, bus completions) up to 1 ms late, drawn from the seed",
     ST(16, 4, 3, 3, 0), 0, false, JITTER, 0, 0},
    {KSL__SCEN_DEMO, "counter", "device interrupts, a DPC and two threads share a counter under a spin lock", {0}, 0,
     false, PLAIN, 0, 0},
    {KSL__SCEN_DEMO, "lock-order", "the DPC takes lock B then A, the threads A then B", {0}, 1, true, PLAIN, 0, 0},
    {KSL__SCEN_DEMO, "stale-irql", "a thread releases its spin lock restoring the wrong IRQL", {0}, 2, true, PLAIN, 0, 0},
};

static const ksl__scenario *in_use; /* a scenario file's, or NULL: the built-in ones */
static size_t n_in_use;

void ksl__scenarios_use(const ksl__scenario *list, size_t n)
{
    in_use = list;
    n_in_use = list ? n : 0;
}

const ksl__scenario *ksl__scenario_list(size_t *n)
{
    if (in_use) {
        *n = n_in_use;
        return in_use;
    }
    *n = sizeof scenarios / sizeof scenarios[0];
    return scenarios;
}

const ksl__scenario *ksl__scenario_find(ksl__scen_kind kind, const char *name)
{
    size_t n;
    const ksl__scenario *list = ksl__scenario_list(&n);
    for (size_t i = 0; i < n; i++)
        if (list[i].kind == kind && strcmp(list[i].name, name) == 0)
            return &list[i];
    return NULL;
}

const char *ksl__scen_prefix(ksl__scen_kind kind)
{
    return kind == KSL__SCEN_WAVEPCI ? "wavepci/" : kind == KSL__SCEN_STREAM ? "stream/" : "demo/";
}

const ksl_scenario_info *ksl_scenarios(size_t *n)
{
    static ksl_scenario_info info[sizeof scenarios / sizeof scenarios[0]];
    static const char *const kinds[] = {"wavepci", "stream", "demo"};
    for (size_t i = 0; i < sizeof scenarios / sizeof scenarios[0]; i++)
        info[i] = (ksl_scenario_info){scenarios[i].name, scenarios[i].summary, kinds[scenarios[i].kind],
                                      scenarios[i].buggy};
    *n = sizeof scenarios / sizeof scenarios[0];
    return info;
}
