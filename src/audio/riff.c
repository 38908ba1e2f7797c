/* SPDX-License-Identifier: MIT */
/* RIFF/WAVE chunk structure (see riff.h). */
#include <stdio.h>
#include <string.h>

#include "riff.h"

#define RIFF_HEADER 12u
#define CHUNK_HEADER 8u
#define FMT_MIN 16u
#define SIZE_UNKNOWN 0xFFFFFFFFu

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint16_t le16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static bool printable_id(const uint8_t *p)
{
    for (int i = 0; i < 4; i++)
        if (p[i] < 0x20 || p[i] > 0x7E)
            return false;
    return true;
}

int ksl__riff_check(const uint8_t *d, size_t n, ksl_riff_info *info, uint64_t *declared, uint64_t *present,
                    char *why, size_t whylen)
{
    memset(info, 0, sizeof *info);
    *declared = *present = 0;
    if (n < RIFF_HEADER || memcmp(d, "RIFF", 4) != 0 || memcmp(d + 8, "WAVE", 4) != 0)
        return KSL_RIFF_NOT_RIFF;
    uint32_t riff = le32(d + 4);
    /* A RIFF size past the end is what a cut file shows; the data chunk says how much is missing.
     * Bytes after the RIFF chunk are not part of it. */
    info->end = riff == SIZE_UNKNOWN || (uint64_t)riff + 8 > n ? n : (size_t)riff + 8;
    bool have_fmt = false;
    size_t at = RIFF_HEADER;
    while (at + CHUNK_HEADER <= info->end) {
        const uint8_t *h = d + at;
        if (!printable_id(h)) {
            snprintf(why, whylen, "byte %zu: no chunk starts here (bytes %02x %02x %02x %02x)", at, h[0], h[1], h[2],
                     h[3]);
            return KSL_RIFF_BROKEN;
        }
        uint32_t size = le32(h + 4);
        size_t body = at + CHUNK_HEADER;
        size_t left = info->end - body;
        bool is_data = memcmp(h, "data", 4) == 0;
        if (is_data) {
            if (!have_fmt) {
                snprintf(why, whylen, "byte %zu: the 'data' chunk comes before any 'fmt ' chunk", at);
                return KSL_RIFF_BROKEN;
            }
            info->data_at = body;
            if (size == 0 || size == SIZE_UNKNOWN) {
                info->data_unsized = true;
                info->data_len = left;
            } else if (size > left) {
                *declared = size / info->block_align;
                *present = left / info->block_align;
                snprintf(why, whylen, "byte %zu: the 'data' chunk claims %u bytes, %zu remain", at, (unsigned)size,
                         left);
                return KSL_RIFF_TRUNCATED;
            } else {
                info->data_len = size;
            }
            return KSL_RIFF_OK; /* what follows the audio is not read */
        }
        if (size > left) {
            snprintf(why, whylen, "byte %zu: the '%.4s' chunk claims %u bytes, but only %zu remain", at,
                     (const char *)h, (unsigned)size, left);
            return KSL_RIFF_BROKEN;
        }
        if (memcmp(h, "fmt ", 4) == 0 && !have_fmt) {
            if (size < FMT_MIN) {
                snprintf(why, whylen, "byte %zu: the 'fmt ' chunk has %u bytes; it needs at least %u", at,
                         (unsigned)size, FMT_MIN);
                return KSL_RIFF_BROKEN;
            }
            info->fmt_at = body;
            info->fmt_len = size;
            info->block_align = le16(d + body + 12);
            if (info->block_align == 0) {
                snprintf(why, whylen, "byte %zu: the 'fmt ' chunk gives a block size of 0", body + 12);
                return KSL_RIFF_BROKEN;
            }
            have_fmt = true;
        }
        at = body + size + (size & 1u); /* chunks are padded to an even length */
    }
    snprintf(why, whylen, "byte %zu: the file ends without a %s chunk", info->end, have_fmt ? "'data'" : "'fmt '");
    return KSL_RIFF_BROKEN;
}
