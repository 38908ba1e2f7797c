/* SPDX-License-Identifier: MIT */
/*
 * The byte format between kslab and its worker processes: a growable buffer written with
 * fixed-width little-endian integers and length-prefixed strings and blobs, and a reader that
 * checks every length against what is left, so that a worker whose memory a driver corrupted
 * can send garbage but never make the parent read out of bounds.  Host code.
 */
#ifndef KSLAB_CAMPAIGN_WIRE_H
#define KSLAB_CAMPAIGN_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct ksl__wbuf {
    uint8_t *p;
    size_t n, cap;
    bool oom;
} ksl__wbuf;

void ksl__w_u8(ksl__wbuf *b, uint8_t v);
void ksl__w_u32(ksl__wbuf *b, uint32_t v);
void ksl__w_u64(ksl__wbuf *b, uint64_t v);
void ksl__w_bytes(ksl__wbuf *b, const void *p, size_t n);
/* A length (u64) and the bytes. */
void ksl__w_blob(ksl__wbuf *b, const void *p, size_t n);
/* A string (NULL: the empty string) as a blob without the terminator. */
void ksl__w_str(ksl__wbuf *b, const char *s);
void ksl__wbuf_free(ksl__wbuf *b);

typedef struct ksl__rbuf {
    const uint8_t *p;
    size_t n, pos;
    bool bad;    /* a read went past the end or a length was out of bounds: every later read is 0 */
} ksl__rbuf;

uint8_t ksl__r_u8(ksl__rbuf *r);
uint32_t ksl__r_u32(ksl__rbuf *r);
uint64_t ksl__r_u64(ksl__rbuf *r);
/* A blob of at most `max` bytes: a pointer into the buffer and its length (NULL, 0 when bad). */
const void *ksl__r_blob(ksl__rbuf *r, size_t max, size_t *n);
/* A string of at most max - 1 bytes into out[max] (terminated; "" when bad; a NUL inside is bad). */
void ksl__r_str(ksl__rbuf *r, char *out, size_t max);
/* A malloc'd string of at most `max` bytes (NULL when bad or out of memory; a NUL inside is bad). */
char *ksl__r_strdup(ksl__rbuf *r, size_t max);

#endif
