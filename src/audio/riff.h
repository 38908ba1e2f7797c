/* SPDX-License-Identifier: MIT */
/*
 * The chunk structure of a RIFF/WAVE file, checked before libsndfile sees the file: every chunk
 * must lie inside the file, 'fmt ' must come before 'data', and nothing may claim bytes the file
 * does not have.  libsndfile 1.2.0 loops forever on some files whose chunk sizes run past the end
 * (a 52-byte one with a LIST chunk of 4 GiB is in the tests), so kslab never hands it one.
 * Errors name the byte offset of the problem.  Pure: no I/O, no allocation.  Host code.
 */
#ifndef KSLAB_AUDIO_RIFF_H
#define KSLAB_AUDIO_RIFF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct ksl_riff_info {
    size_t end;              /* bytes of the file that belong to the RIFF chunk */
    size_t fmt_at;           /* offset of the 'fmt ' chunk's body, and its length */
    uint32_t fmt_len;
    uint16_t block_align;    /* from 'fmt ' */
    size_t data_at;          /* offset of the 'data' chunk's body, and its length in the file */
    uint64_t data_len;
    bool data_unsized;       /* the 'data' chunk gives 0 or 0xFFFFFFFF (a streaming writer's
                              * "unknown"): its length is the rest of the file */
} ksl_riff_info;

/* The outcome of a check. */
enum {
    KSL_RIFF_OK = 0,
    KSL_RIFF_NOT_RIFF = 1,   /* not a RIFF/WAVE file at all (libsndfile may know its format) */
    KSL_RIFF_BROKEN = 2,     /* a RIFF/WAVE file whose structure is broken: `why` says where */
    KSL_RIFF_TRUNCATED = 3,  /* the 'data' chunk claims more than the file holds; `declared` and
                              * `present` frames (per block_align) are set */
};

/* Check data[0, n).  `why` gets "byte N: ..." for BROKEN and TRUNCATED. */
int ksl__riff_check(const uint8_t *data, size_t n, ksl_riff_info *info, uint64_t *declared, uint64_t *present,
                    char *why, size_t whylen);

#endif
