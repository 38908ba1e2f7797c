/* SPDX-License-Identifier: MIT */
/*
 * The frame format of kslab's streaming device models (fifocap, polldev, lowerbus): deterministic
 * data a client can check bit for bit without knowing the device's configuration.
 *
 * A frame is `len` bytes (a multiple of 4, at least KSL_FRAME_HEADER_BYTES), little-endian:
 *
 *   0  magic     which device made it (KSL_FIFOCAP_MAGIC, KSL_POLLDEV_MAGIC, KSL_LOWERBUS_MAGIC)
 *   4  number    the frame's number: every frame the source produces gets the next one, dropped
 *                frames included, so a lost frame is a gap in the numbers and never a torn frame
 *   8  length    `len`
 *  12  seed      the low 32 bits of the device's seed
 *  16  checksum  FNV-1a (32-bit) over bytes [0, 16) and [20, len)
 *  20  payload   bytes of a SplitMix64 stream seeded with (seed, number)
 *
 * Pure functions on memory: any context, no scheduling point, nothing reported.
 */
#ifndef KSLAB_HW_FRAME_H
#define KSLAB_HW_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define KSL_FRAME_HEADER_BYTES 20u
#define KSL_FRAME_OFF_MAGIC 0u
#define KSL_FRAME_OFF_NUMBER 4u
#define KSL_FRAME_OFF_LENGTH 8u
#define KSL_FRAME_OFF_SEED 12u
#define KSL_FRAME_OFF_CHECKSUM 16u
#define KSL_FRAME_MIN_BYTES 32u     /* the devices refuse smaller frames */
#define KSL_FRAME_ALIGN 4u          /* frame lengths are multiples of this */

/* The verdict on one frame. */
typedef enum ksl_frame_result {
    KSL_FRAME_OK = 0,
    KSL_FRAME_SHORT = 1,        /* shorter than the header, or than its length field */
    KSL_FRAME_BAD_MAGIC = 2,    /* not from the expected device */
    KSL_FRAME_BAD_LENGTH = 3,   /* its length field differs from the length checked */
    KSL_FRAME_BAD_CHECKSUM = 4, /* header or payload damaged */
    KSL_FRAME_BAD_DATA = 5,     /* checksum fits but the payload is not the frame's data */
} ksl_frame_result;

/* Write frame `number` of a source with `magic` and `seed` into buf[0, len).  len must be a
 * multiple of 4 and >= KSL_FRAME_HEADER_BYTES (otherwise the buffer is zeroed).  Any context. */
void ksl_frame_fill(uint32_t magic, uint64_t seed, uint32_t number, void *buf, size_t len);

/* Check that buf[0, len) is a whole, undamaged frame of a source with `magic`; *number (when not
 * NULL) gets the frame's number as soon as the header's checksum-covered fields are readable.
 * Any context. */
ksl_frame_result ksl_frame_check(uint32_t magic, const void *buf, size_t len, uint32_t *number);

/* A short name of a verdict ("ok", "bad checksum", ...).  Any context. */
const char *ksl_frame_result_name(ksl_frame_result r);

/* A client's view of a stream of frames: numbers must increase; gaps count as missing frames. */
typedef struct ksl_frame_seq {
    uint32_t next;       /* the number the next frame should carry */
    bool started;
    uint64_t frames;     /* frames accepted */
    uint64_t missing;    /* numbers skipped (frames the device dropped) */
    uint64_t bad;        /* frames that failed ksl_frame_check */
    uint64_t disorder;   /* frames whose number was not above the last one's (repeat, reorder) */
} ksl_frame_seq;

/* Start a sequence expecting frame `first` (gaps before the first frame seen count as missing). */
void ksl_frame_seq_init(ksl_frame_seq *s, uint32_t first);
/* Check one frame and account for it; returns the frame's verdict (KSL_FRAME_OK also when it
 * follows a gap: see s->missing).  Any context. */
ksl_frame_result ksl_frame_seq_push(ksl_frame_seq *s, uint32_t magic, const void *buf, size_t len);

#ifdef __cplusplus
}
#endif
#endif
