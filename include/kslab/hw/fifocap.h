/* SPDX-License-Identifier: MIT */
/*
 * A capture device with a PIO FIFO and an interrupt (a simple video / data capture card).
 *
 * While CONTROL.RUN is set the source produces one frame (<kslab/hw/frame.h>, magic
 * KSL_FIFOCAP_MAGIC) every `frame_ns` of virtual time: frame k after RUN was set lands, whole, at
 * run_start + (k + 1) * frame_ns (computed from the start, so no rounding accumulates).  A frame
 * that does not fit in the FIFO's free space is dropped whole: its number is used up, DROP_COUNT
 * counts it and STATUS.OVERRUN latches.  The client thus sees a lost frame as a missing number,
 * never as torn data.
 *
 * The driver empties the FIFO through DATA: each read pops `width` bytes (little-endian) and,
 * like every register access, costs KSL_FIFOCAP_ACCESS_NS (by default) of the reading CPU's
 * virtual time, so copying a 4 KiB frame with 32-bit reads takes 1024 * 300 ns = 307.2 us.
 * Reading an empty FIFO returns all ones and counts an under-run.
 *
 * The interrupt line is level-triggered: high while (STATUS & (FRAME | OVERRUN)) has a bit whose
 * enable (CONTROL.IE_FRAME, CONTROL.IE_OVERRUN) is set; a write of 1s to INT_ACK clears them.
 *
 * Rule checks over the registers (S3/S4: a lockset over CONTROL, with the interrupt lock) plug in
 * through ksl_fifocap_set_observer: it sees every register access from the accessing context.
 */
#ifndef KSLAB_HW_FIFOCAP_H
#define KSLAB_HW_FIFOCAP_H

#include <kslab/device.h>
#include <kslab/hw/frame.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- registers (32-bit, offsets from the device's port base) ------------------------------ */
#define KSL_FIFOCAP_CONTROL 0x00u     /* RW */
#define KSL_FIFOCAP_STATUS 0x04u      /* RO */
#define KSL_FIFOCAP_DATA 0x08u        /* RO: a read pops `width` bytes from the FIFO */
#define KSL_FIFOCAP_FRAME_SIZE 0x0Cu  /* RW: bytes per frame; written only while stopped */
#define KSL_FIFOCAP_FRAME_COUNT 0x10u /* RO: frames produced (captured + dropped) since attach */
#define KSL_FIFOCAP_INT_ACK 0x14u     /* W1C: clears STATUS.FRAME / STATUS.OVERRUN */
#define KSL_FIFOCAP_DROP_COUNT 0x18u  /* RO: frames dropped on over-run since attach */
#define KSL_FIFOCAP_FIFO_LEVEL 0x1Cu  /* RO: bytes in the FIFO */
#define KSL_FIFOCAP_FIFO_SIZE 0x20u   /* RO: FIFO depth in bytes */
#define KSL_FIFOCAP_SIZE 0x40u        /* the port range */

/* CONTROL bits. */
#define KSL_FIFOCAP_CTL_RUN 0x00000001u        /* produce frames */
#define KSL_FIFOCAP_CTL_IE_FRAME 0x00000002u   /* interrupt on STATUS.FRAME */
#define KSL_FIFOCAP_CTL_IE_OVERRUN 0x00000004u /* interrupt on STATUS.OVERRUN */
#define KSL_FIFOCAP_CTL_FIFO_RESET 0x00000008u /* W: empty the FIFO, clear STATUS.FRAME (reads 0) */
#define KSL_FIFOCAP_CTL_IE_MASK (KSL_FIFOCAP_CTL_IE_FRAME | KSL_FIFOCAP_CTL_IE_OVERRUN)
#define KSL_FIFOCAP_CTL_MASK (KSL_FIFOCAP_CTL_RUN | KSL_FIFOCAP_CTL_IE_MASK)

/* STATUS bits. */
#define KSL_FIFOCAP_ST_FRAME 0x00000001u   /* latched: a frame landed in the FIFO (W1C by INT_ACK) */
#define KSL_FIFOCAP_ST_OVERRUN 0x00000002u /* latched: a frame was dropped (W1C by INT_ACK) */
#define KSL_FIFOCAP_ST_READY 0x00000004u   /* live: FIFO_LEVEL >= FRAME_SIZE */
#define KSL_FIFOCAP_ST_RUNNING 0x00000008u /* live: CONTROL.RUN */
#define KSL_FIFOCAP_ST_W1C (KSL_FIFOCAP_ST_FRAME | KSL_FIFOCAP_ST_OVERRUN)
#define KSL_FIFOCAP_ST_WORDS_SHIFT 16u     /* bits 31:16: min(FIFO_LEVEL / 4, 0xFFFF) */
#define KSL_FIFOCAP_ST_WORDS_MASK 0xFFFF0000u

/* ---- configuration ------------------------------------------------------------------------ */
#define KSL_FIFOCAP_MAGIC 0x50414346u /* "FCAP" */
#define KSL_FIFOCAP_ACCESS_NS 300u    /* one register access */
#define KSL_FIFOCAP_DEFAULT_FRAME_BYTES 1024u
#define KSL_FIFOCAP_DEFAULT_FIFO_BYTES 4096u
#define KSL_FIFOCAP_DEFAULT_FRAME_NS 1000000u /* 1000 frames per second */
#define KSL_FIFOCAP_MAX_FIFO_BYTES (1u << 20)

typedef struct ksl_fifocap_config {
    uint64_t seed;          /* the frames' data */
    uint32_t frame_bytes;   /* initial FRAME_SIZE: multiple of 4, >= KSL_FRAME_MIN_BYTES, <= fifo */
    uint32_t fifo_bytes;    /* FIFO depth: multiple of 4, <= KSL_FIFOCAP_MAX_FIFO_BYTES */
    uint64_t frame_ns;      /* frame period in virtual time, > 0 */
    uint32_t access_ns;     /* cost of one register access */
    uint32_t line;          /* interrupt line */
} ksl_fifocap_config;

/* The defaults above, line 0, seed 1.  Any context. */
void ksl_fifocap_config_default(ksl_fifocap_config *cfg);

typedef struct ksl_fifocap_stats {
    uint64_t frames_produced;  /* = FRAME_COUNT */
    uint64_t frames_captured;  /* landed in the FIFO */
    uint64_t frames_dropped;   /* = DROP_COUNT */
    uint64_t bytes_read;       /* popped through DATA */
    uint64_t underrun_reads;   /* DATA reads of an empty (or too short) FIFO */
    uint64_t interrupts;       /* rising edges of the interrupt line */
    uint64_t last_frame_ns;    /* when the latest frame landed (or was dropped) */
} ksl_fifocap_stats;

typedef struct ksl_fifocap ksl_fifocap;

/*
 * Watch every register access: called from the device's register callback, on the accessing
 * CPU, before the access takes effect, so ksl_held_spinlocks, ksl_irql_current and
 * ksl_context_name describe the driver context that made it and ksl_report may be called.  It
 * must not call scheduling points.  `value` is the value written (0 for reads).
 */
typedef void ksl_fifocap_observer(void *user, ksl_fifocap *dev, uint32_t offset, bool write, uint32_t value);

/*
 * Create the device and attach it to `e` at ports [base, base + KSL_FIFOCAP_SIZE).  NULL with
 * `err` filled on a bad configuration, a taken range or no memory.  Host code, outside a run.
 */
ksl_fifocap *ksl_fifocap_create(ksl_engine *e, uintptr_t base, const ksl_fifocap_config *cfg, char *err,
                                size_t errlen);
/* Free the model, after the engine's run (the engine keeps no pointer it would use later).
 * Host code. */
void ksl_fifocap_destroy(ksl_fifocap *d);
/* Install (or, with NULL, remove) the register observer.  Host code, outside a run. */
void ksl_fifocap_set_observer(ksl_fifocap *d, ksl_fifocap_observer *fn, void *user);
/* Counters.  Host code, or device code of this model. */
void ksl_fifocap_get_stats(const ksl_fifocap *d, ksl_fifocap_stats *out);
/*
 * Faults the device can show (<kslab/device.h>'s inject hook), in device context:
 *   "overrun"         the next frame is dropped as if the FIFO were full (STATUS.OVERRUN, an
 *                     interrupt when IE_OVERRUN is set, DROP_COUNT counts it);
 *   "lost-interrupt"  the next frame latches STATUS.FRAME but leaves the line low until the
 *                     frame after it or an INT_ACK write.
 * false for a fault it does not know.
 */
bool ksl_fifocap_inject(ksl_fifocap *d, const char *fault, uint64_t arg);
/* The configuration the device was created with.  Any context. */
const ksl_fifocap_config *ksl_fifocap_config_of(const ksl_fifocap *d);

/* Check one frame read from the device (see ksl_frame_check).  Any context. */
static inline ksl_frame_result ksl_fifocap_check_frame(const void *buf, size_t len, uint32_t *frame_no)
{
    return ksl_frame_check(KSL_FIFOCAP_MAGIC, buf, len, frame_no);
}

#ifdef __cplusplus
}
#endif
#endif
