/* SPDX-License-Identifier: MIT */
/*
 * Named race windows: the moments where real drivers break, each defined by the events that open
 * and close it and by the event that, landing inside it, makes the run "reach" it.  A run counts
 * how often it reached each (ksl_stats.windows); `kslab stress --coverage` adds them up, so a
 * user sees what a clean verdict covered and what it never tried.  Ids are stable.
 */
#ifndef KSLAB_WINDOWS_H
#define KSLAB_WINDOWS_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum ksl_window_id {
    /* WavePci (the port counts these) */
    KSL_WIN_WP_REVOKE_IN_GETMAPPING_GAP = 0,
    KSL_WIN_WP_REVOKE_IN_RELEASE,
    KSL_WIN_WP_CANCEL_IN_SERVICE,
    KSL_WIN_WP_CANCEL_RING_DRY,
    KSL_WIN_WP_ISR_DURING_SERVICE,
    KSL_WIN_WP_TWO_DRAINERS,
    KSL_WIN_WP_POWER_DOWN_DURING_DMA,
    KSL_WIN_WP_STATE_CHANGE_DURING_SERVICE,
    /* stream class (the class driver counts these) */
    KSL_WIN_ST_ISR_DURING_CALLBACK,
    KSL_WIN_ST_CANCEL_IN_RECEIVE,
    KSL_WIN_ST_CANCEL_HELD_FOR_LOW,
    KSL_WIN_ST_TIMER_DURING_LOW,
    KSL_WIN_COUNT
} ksl_window_id;

/* The spans the layers open around what they call (see ksl_span_open in <kslab/engine.h>). */
typedef enum ksl_span_kind {
    KSL_SPAN_WP_GETMAPPING_GAP = 1, /* GetMapping returned; the caller has not taken a lock since */
    KSL_SPAN_WP_RELEASE,            /* inside ReleaseMapping */
    KSL_SPAN_WP_RELEASING,          /* released a mapping in the port call (Service...) still running */
    KSL_SPAN_WP_SERVICE,            /* inside IMiniportWavePciStream::Service */
    KSL_SPAN_ST_CALLBACK,           /* a Dispatch or Low priority routine runs */
    KSL_SPAN_ST_LOW,                /* a Low priority routine runs */
    KSL_SPAN_ST_RECEIVE,            /* HwReceivePacket / ReceiveDataPacket / ReceiveControlPacket runs */
} ksl_span_kind;

typedef struct ksl_window {
    const char *name;    /* stable, e.g. "wavepci.revoke-in-getmapping-gap" */
    const char *family;  /* "wavepci" or "stream" */
    const char *opens;   /* the event that opens it */
    const char *closes;  /* the event that closes it */
    const char *reached; /* what, landing inside, reaches it */
    const char *why;     /* what a driver gets wrong there */
} ksl_window;

/* Every window, indexed by ksl_window_id.  Any context. */
const ksl_window *ksl_windows(size_t *n);

#ifdef __cplusplus
}
#endif
#endif
