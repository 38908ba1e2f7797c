/* SPDX-License-Identifier: MIT */
/*
 * The WavePci port's client side: what KS and the audio stack do to a WavePci filter, as calls a
 * test or the command line makes from client threads.  Build a filter around a driver (host code,
 * before the run), then from a PASSIVE_LEVEL client thread of the run: start it, open a render or
 * capture pin with a format, allocate and submit data IRPs, cancel any of them at any time from
 * any thread, move the pin through KSSTATE, wait for IRPs, close.
 *
 * The port keeps an ownership ledger of every mapping it cuts from the IRPs (queued, held by the
 * miniport, released, revoked) and checks the device's DMA against it.
 */
#ifndef KSLAB_WAVEPCI_H
#define KSLAB_WAVEPCI_H

#include <kslab/hw/physmem.h>
#include <kslab/wdk/portcls.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ksl_wavepci_filter ksl_wavepci_filter;
typedef struct ksl_wavepci_pin ksl_wavepci_pin;

typedef struct ksl_wavepci_stats {
    uint64_t irps_submitted;
    uint64_t irps_completed;      /* with STATUS_SUCCESS */
    uint64_t irps_cancelled;      /* with STATUS_CANCELLED */
    uint64_t bytes_submitted;
    uint64_t bytes_transferred;   /* moved by the device (played or captured) */
    uint64_t bytes_cancelled;     /* submitted, never transferred: of cancelled IRPs, and the rest
                                   * of packets ended early by TerminatePacket */
    uint64_t mappings_handed;     /* GetMapping successes */
    uint64_t mappings_released;
    uint64_t mappings_revoked;
    uint64_t get_refused;         /* GetMapping answered STATUS_NOT_FOUND */
    uint64_t revoke_calls;
    uint64_t mapping_available_calls;
    uint64_t terminate_calls;
} ksl_wavepci_stats;

/*
 * Build a filter for `drv` over memory `pm` and the device resources `res` (port ranges and one
 * interrupt, as the device model was attached).  `buffer_offset` is the byte offset of every IRP
 * buffer within its first page (a multiple of 4).  NULL with `err` filled on bad arguments.
 * Host code, before the run.
 */
ksl_wavepci_filter *ksl_wavepci_create(ksl_engine *e, const ksl_wavepci_driver *drv, ksl_physmem *pm,
                                       const CM_PARTIAL_RESOURCE_DESCRIPTOR *res, ULONG nres,
                                       uint32_t buffer_offset, char *err, size_t errlen);
/* Free the filter (after the run).  Host code. */
void ksl_wavepci_destroy(ksl_wavepci_filter *f);
/* Counters.  Host code, or a client thread. */
void ksl_wavepci_get_stats(const ksl_wavepci_filter *f, ksl_wavepci_stats *out);

/* Create the miniport, Init it with the resources, read its description; for an adapter driver
 * (DriverEntry), bring the adapter up as PortCls does and bind the WavePci port its StartDevice
 * registers.  PASSIVE_LEVEL. */
NTSTATUS ksl_wavepci_start(ksl_wavepci_filter *f);
/* Why ksl_wavepci_start failed when kslab knows more than the status (an adapter that installed
 * a port kind kslab does not run, ...), or "".  Any IRQL. */
const char *ksl_wavepci_start_error(const ksl_wavepci_filter *f);
/* Release the miniport and the port's references; for an adapter driver, stop and remove the
 * adapter (its subdevices, connections, power interface, device object).  Every pin must be
 * closed.  PASSIVE_LEVEL. */
void ksl_wavepci_stop(ksl_wavepci_filter *f);

/*
 * Open the render (capture = false) or capture pin with `format`: the port picks the miniport's
 * pin for that data flow, checks the format against its data ranges (STATUS_NO_MATCH when none
 * accepts it), then calls NewStream.  The pin starts in KSSTATE_STOP.  PASSIVE_LEVEL.
 */
NTSTATUS ksl_wavepci_open(ksl_wavepci_filter *f, bool capture, const WAVEFORMATEX *format, ksl_wavepci_pin **out);
/* Go to STOP if needed, then release the stream.  Every IRP must have completed.  PASSIVE_LEVEL. */
void ksl_wavepci_close(ksl_wavepci_pin *pin);
/*
 * Change state by one step (STOP<->ACQUIRE<->PAUSE<->RUN); another jump is refused with
 * STATUS_INVALID_DEVICE_STATE.  Calls the miniport's SetState; on STOP the port then revokes
 * every mapping the miniport holds and cancels every IRP still queued.  PASSIVE_LEVEL.
 */
NTSTATUS ksl_wavepci_set_state(ksl_wavepci_pin *pin, KSSTATE state);
KSSTATE ksl_wavepci_get_state(const ksl_wavepci_pin *pin);

/* An IRP with a `bytes`-long data buffer in simulated physical memory (Irp->UserBuffer), for
 * render data to be written into or capture data to be read from; 0 bytes is a packet with no
 * data, which completes as soon as it is submitted.  NULL on no memory.  PASSIVE_LEVEL. */
PIRP ksl_wavepci_irp_alloc(ksl_wavepci_pin *pin, uint32_t bytes);
/* Free an IRP that completed (or was never submitted).  PASSIVE_LEVEL. */
void ksl_wavepci_irp_free(ksl_wavepci_pin *pin, PIRP irp);
/*
 * Queue the IRP on the pin (ACQUIRE, PAUSE or RUN; STATUS_INVALID_DEVICE_STATE in STOP).
 * Returns STATUS_PENDING; the IRP completes with STATUS_SUCCESS and Information = bytes
 * transferred when the miniport has released all its mappings, or with STATUS_CANCELLED after
 * IoCancelIrp.  IRQL <= DISPATCH_LEVEL.
 */
NTSTATUS ksl_wavepci_submit(ksl_wavepci_pin *pin, PIRP irp);
/* Wait until the IRP has completed; returns its status.  PASSIVE_LEVEL. */
NTSTATUS ksl_wavepci_wait(PIRP irp);
/* The same, for at most `timeout_100ns` of virtual time (a positive count of 100 ns units);
 * STATUS_TIMEOUT when it has not completed by then.  PASSIVE_LEVEL. */
NTSTATUS ksl_wavepci_wait_for(PIRP irp, int64_t timeout_100ns);
/* True once the IRP has completed.  Any IRQL; not a scheduling point. */
bool ksl_wavepci_irp_done(PIRP irp);
/* The IRP's place in its pin's queue (1 for the first queued, 2, ...): the order its data plays
 * in when several threads submit to one pin; 0 when it was never queued (refused, empty, or
 * cancelled before it was queued).  Any IRQL after the submission returned; not a scheduling
 * point. */
uint64_t ksl_wavepci_irp_sequence(PIRP irp);
/* Bytes of the IRP the device has moved so far.  Any IRQL; not a scheduling point. */
uint32_t ksl_wavepci_irp_transferred(PIRP irp);

/* The miniport stream's GetPosition, as the audio stack polls it (a byte offset in the stream).
 * PASSIVE_LEVEL. */
NTSTATUS ksl_wavepci_get_position(ksl_wavepci_pin *pin, ULONGLONG *position);
/* The miniport stream's SetFormat with `format` (the stack may call it in any state; a miniport
 * may refuse a change while running).  PASSIVE_LEVEL. */
NTSTATUS ksl_wavepci_set_format(ksl_wavepci_pin *pin, const WAVEFORMATEX *format);

/*
 * A device power change, as PortCls makes it: leaving D0, the port pauses every running pin, then
 * tells the miniport and each open stream that answer QueryInterface(IID_IPowerNotify); back in
 * D0, it tells them, then sets the paused pins running again.  PASSIVE_LEVEL.
 */
NTSTATUS ksl_wavepci_set_power(ksl_wavepci_filter *f, DEVICE_POWER_STATE state);

/*
 * A KSPROPSETID_Audio property of the adapter's topology: get (set false) or set `*value` (a LONG:
 * KSPROPERTY_AUDIO_VOLUMELEVEL in 1/65536 dB, KSPROPERTY_AUDIO_MUTE as 0/1) on `channel` of the
 * first node of type node_type (&KSNODETYPE_VOLUME, &KSNODETYPE_MUTE) whose automation table
 * handles it, through the miniport's PCPROPERTY_REQUEST handler.  STATUS_NOT_FOUND when the
 * driver has no such node (a NewMiniport driver has no topology).  PASSIVE_LEVEL.
 */
NTSTATUS ksl_wavepci_topology_property(ksl_wavepci_filter *f, const GUID *node_type, ULONG id, bool set,
                                       LONG channel, LONG *value);

/*
 * Port events a test client can aim at (aimed cancellation): GetMapping has just handed the
 * miniport a mapping (it has not re-taken its lock yet); the miniport has just called
 * ReleaseMapping; the port is about to call Service; an IRP has just been queued (the miniport
 * has not been told: MappingAvailable comes next).  The hook runs on the context of the event,
 * at its IRQL (DISPATCH_LEVEL or below), inside the port: it may only signal (KeSetEvent with
 * Wait FALSE).  One per filter; NULL removes it.  Host code, before the run.
 */
typedef enum ksl_wavepci_event {
    KSL_WP_EV_GETMAPPING = 1,
    KSL_WP_EV_RELEASE,
    KSL_WP_EV_SERVICE,
    KSL_WP_EV_QUEUED,
} ksl_wavepci_event;
typedef void ksl_wavepci_event_fn(void *user, ksl_wavepci_pin *pin, ksl_wavepci_event ev);
void ksl_wavepci_set_event_hook(ksl_wavepci_filter *f, ksl_wavepci_event_fn *fn, void *user);

#ifdef __cplusplus
}
#endif
#endif
