/* SPDX-License-Identifier: MIT */
/*
 * A polled device with no interrupt: a frame source (<kslab/hw/frame.h>, magic
 * KSL_POLLDEV_MAGIC) and a one-frame buffer the driver reads through a memory-mapped window.
 *
 * While CONTROL.RUN is set the source produces frame k after RUN at run_start + (k + 1) *
 * frame_ns (no drift).  If the buffer is free the frame is loaded into it and STATUS.READY set;
 * if the driver still holds the previous frame (READY set, not released through ACK) the new one
 * is dropped whole: its number is used up, DROP_COUNT counts it and STATUS.OVERRUN latches.
 * The driver polls STATUS (e.g. from a KTIMER DPC), copies the frame from BUF (every access
 * costs KSL_POLLDEV_ACCESS_NS of its CPU's virtual time; byte i of the frame at BUF + i) and
 * writes ACK_RELEASE.  The buffer keeps its bytes after the release until the next frame loads
 * into it, so a driver that releases before it has copied can read a torn frame: the frame check
 * catches it.
 */
#ifndef KSLAB_HW_POLLDEV_H
#define KSLAB_HW_POLLDEV_H

#include <kslab/device.h>
#include <kslab/hw/frame.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- registers (32-bit, offsets from the device's port base) ------------------------------ */
#define KSL_POLLDEV_CONTROL 0x00u     /* RW */
#define KSL_POLLDEV_STATUS 0x04u      /* RO */
#define KSL_POLLDEV_ACK 0x08u         /* W: ACK_ bits */
#define KSL_POLLDEV_FRAME_NO 0x0Cu    /* RO: number of the frame in the buffer */
#define KSL_POLLDEV_FRAME_SIZE 0x10u  /* RW: bytes per frame; written only while stopped */
#define KSL_POLLDEV_FRAME_COUNT 0x14u /* RO: frames produced (loaded + dropped) since attach */
#define KSL_POLLDEV_DROP_COUNT 0x18u  /* RO: frames dropped since attach */
#define KSL_POLLDEV_BUF 0x100u        /* RO window: the buffered frame, byte i at BUF + i */
#define KSL_POLLDEV_BUF_MAX 0x1000u   /* the window's size: the largest frame */
#define KSL_POLLDEV_SIZE (KSL_POLLDEV_BUF + KSL_POLLDEV_BUF_MAX) /* the port range */

/* CONTROL bits. */
#define KSL_POLLDEV_CTL_RUN 0x00000001u

/* STATUS bits. */
#define KSL_POLLDEV_ST_READY 0x00000001u   /* the buffer holds a frame not yet released */
#define KSL_POLLDEV_ST_OVERRUN 0x00000002u /* latched: a frame was dropped (ACK_CLEAR_OVERRUN) */
#define KSL_POLLDEV_ST_RUNNING 0x00000004u /* CONTROL.RUN */

/* ACK bits. */
#define KSL_POLLDEV_ACK_RELEASE 0x00000001u       /* the driver is done with the buffer */
#define KSL_POLLDEV_ACK_CLEAR_OVERRUN 0x00000002u /* clear STATUS.OVERRUN */

/* ---- configuration ------------------------------------------------------------------------ */
#define KSL_POLLDEV_MAGIC 0x4C4C4F50u /* "POLL" */
#define KSL_POLLDEV_ACCESS_NS 300u
#define KSL_POLLDEV_DEFAULT_FRAME_BYTES 256u
#define KSL_POLLDEV_DEFAULT_FRAME_NS 2000000u /* 500 frames per second */

typedef struct ksl_polldev_config {
    uint64_t seed;
    uint32_t frame_bytes; /* multiple of 4 in [KSL_FRAME_MIN_BYTES, KSL_POLLDEV_BUF_MAX] */
    uint64_t frame_ns;    /* > 0 */
    uint32_t access_ns;
} ksl_polldev_config;

/* The defaults above, seed 1.  Any context. */
void ksl_polldev_config_default(ksl_polldev_config *cfg);

typedef struct ksl_polldev_stats {
    uint64_t frames_produced; /* = FRAME_COUNT */
    uint64_t frames_loaded;   /* into the buffer */
    uint64_t frames_dropped;  /* = DROP_COUNT */
    uint64_t releases;        /* ACK_RELEASE writes that freed a held buffer */
    uint64_t last_frame_ns;
} ksl_polldev_stats;

typedef struct ksl_polldev ksl_polldev;

/* Create the device and attach it to `e` at ports [base, base + KSL_POLLDEV_SIZE).  NULL with
 * `err` filled on a bad configuration, a taken range or no memory.  Host code, outside a run. */
ksl_polldev *ksl_polldev_create(ksl_engine *e, uintptr_t base, const ksl_polldev_config *cfg, char *err,
                                size_t errlen);
/* Free the model, after the engine's run.  Host code. */
void ksl_polldev_destroy(ksl_polldev *d);
/* Counters.  Host code, or device code of this model. */
void ksl_polldev_get_stats(const ksl_polldev *d, ksl_polldev_stats *out);
/* An injected "stall" holds the next frame back (and the ones after it) `arg` µs.  */
#define KSL_POLLDEV_STALL_NS 2000000u
/*
 * Faults the device can show (<kslab/device.h>'s inject hook), in device context:
 *   "stall"  the sensor pauses: the next frame, and every one after it, comes `arg` µs later
 *            (0: KSL_POLLDEV_STALL_NS), so polls find nothing ready meanwhile.
 * false for a fault it does not know.
 */
bool ksl_polldev_inject(ksl_polldev *d, const char *fault, uint64_t arg);

/* Check one frame read from the device (see ksl_frame_check).  Any context. */
static inline ksl_frame_result ksl_polldev_check_frame(const void *buf, size_t len, uint32_t *frame_no)
{
    return ksl_frame_check(KSL_POLLDEV_MAGIC, buf, len, frame_no);
}

#ifdef __cplusplus
}
#endif
#endif
