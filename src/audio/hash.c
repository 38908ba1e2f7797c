/* SPDX-License-Identifier: MIT */
/*
 * A 64-bit running hash of a byte stream, eight bytes at a time.
 *
 * Construction (the 8-byte step and finalizer of xxHash64, in one lane):
 *
 *   The stream is read as little-endian 64-bit words m[0], m[1], ... .  Each word is scrambled on
 *   its own, lane(m) = rotl(m * P2, 31) * P1, and folded into the state,
 *       state = rotl(state ^ lane(m), 27) * P1 + P4,          state starts at P5.
 *   The 0..7 bytes left over at the end form a last word padded with zero bytes, folded the same
 *   way; then the stream length in bytes is mixed in (so "ab" and "ab\0" differ),
 *       x = rotl(state ^ length * P3, 23) * P2 + P1,
 *   and x is avalanched: x ^= x >> 33; x *= P2; x ^= x >> 29; x *= P3; x ^= x >> 32.
 *
 * Cutting: update() keeps the bytes of an incomplete word in `tail` (little-endian, `ntail` of
 * them) and completes it from the next call before taking whole words from memory, so the words
 * folded in, and hence the hash, depend only on the stream and never on how it was cut.
 *
 * Cost: one dependent multiply per eight bytes (the lane scramble is off the critical path), a few
 * GB/s on one core — 115 MB, an hour of 48 kHz stereo 16-bit, is hashed in a few tens of ms.
 * It is a checksum for telling streams apart, not a cryptographic hash.
 */
#include <string.h>

#include <kslab/audio.h>

#define P1 0x9E3779B185EBCA87ull
#define P2 0xC2B2AE3D27D4EB4Full
#define P3 0x165667B19E3779F9ull
#define P4 0x85EBCA77C2B2AE63ull
#define P5 0x27D4EB2F165667C5ull

static inline uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static inline uint64_t lane(uint64_t m)
{
    return rotl(m * P2, 31) * P1;
}

static inline uint64_t step(uint64_t s, uint64_t m)
{
    return rotl(s ^ lane(m), 27) * P1 + P4;
}

static inline uint64_t load_le64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, sizeof v);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    return v;
}

/* Start a hash of an empty stream.  Context: host code. */
void ksl_hash64_init(ksl_hash64 *h)
{
    h->state = P5;
    h->tail = 0;
    h->ntail = 0;
    h->length = 0;
}

/* Append `n` bytes to the stream; any cut of the same stream gives the same hash.  Host code. */
void ksl_hash64_update(ksl_hash64 *h, const void *data, size_t n)
{
    const uint8_t *p = data;
    if (!n)
        return;
    h->length += n;
    uint64_t s = h->state;
    /* Complete a pending word first. */
    if (h->ntail) {
        while (n && h->ntail < 8) {
            h->tail |= (uint64_t)*p++ << (8 * h->ntail++);
            n--;
        }
        if (h->ntail < 8) {
            return;
        }
        s = step(s, h->tail);
        h->tail = 0;
        h->ntail = 0;
    }
    for (; n >= 32; p += 32, n -= 32) {
        s = step(s, load_le64(p));
        s = step(s, load_le64(p + 8));
        s = step(s, load_le64(p + 16));
        s = step(s, load_le64(p + 24));
    }
    for (; n >= 8; p += 8, n -= 8)
        s = step(s, load_le64(p));
    h->state = s;
    while (n--)
        h->tail |= (uint64_t)*p++ << (8 * h->ntail++);
}

/* The hash of the stream so far; `h` is not changed and may be updated further.  Host code. */
uint64_t ksl_hash64_final(const ksl_hash64 *h)
{
    uint64_t x = h->state;
    if (h->ntail)
        x = step(x, h->tail);
    x ^= h->length * P3;
    x = rotl(x, 23) * P2 + P1;
    x ^= x >> 33;
    x *= P2;
    x ^= x >> 29;
    x *= P3;
    x ^= x >> 32;
    return x;
}

/* The hash of one buffer, the same as init + update + final.  Context: host code. */
uint64_t ksl_hash64_of(const void *data, size_t n)
{
    ksl_hash64 h;
    ksl_hash64_init(&h);
    ksl_hash64_update(&h, data, n);
    return ksl_hash64_final(&h);
}
