/* SPDX-License-Identifier: MIT */
/* The streaming devices' frame format (see <kslab/hw/frame.h>). */
#include <string.h>

#include <kslab/hw/frame.h>

#define FNV_OFFSET 0x811C9DC5u
#define FNV_PRIME 0x01000193u

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static uint32_t fnv1a(uint32_t h, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * FNV_PRIME;
    return h;
}

static uint32_t frame_checksum(const uint8_t *p, size_t len)
{
    uint32_t h = fnv1a(FNV_OFFSET, p, KSL_FRAME_OFF_CHECKSUM);
    return fnv1a(h, p + KSL_FRAME_HEADER_BYTES, len - KSL_FRAME_HEADER_BYTES);
}

/* Payload bytes of frame (seed32, number): the stream depends on both. */
static void payload(uint32_t seed32, uint32_t number, uint8_t *p, size_t n)
{
    uint64_t x = ((uint64_t)seed32 << 32 | number) ^ 0x6A09E667F3BCC909ull;
    for (size_t i = 0; i < n; i += 8) {
        uint64_t r = splitmix64(&x);
        for (size_t k = 0; k < 8 && i + k < n; k++)
            p[i + k] = (uint8_t)(r >> (8 * k));
    }
}

void ksl_frame_fill(uint32_t magic, uint64_t seed, uint32_t number, void *buf, size_t len)
{
    uint8_t *p = buf;
    if (len < KSL_FRAME_HEADER_BYTES || len % KSL_FRAME_ALIGN || len > UINT32_MAX) {
        memset(buf, 0, len);
        return;
    }
    uint32_t seed32 = (uint32_t)seed;
    put32(p + KSL_FRAME_OFF_MAGIC, magic);
    put32(p + KSL_FRAME_OFF_NUMBER, number);
    put32(p + KSL_FRAME_OFF_LENGTH, (uint32_t)len);
    put32(p + KSL_FRAME_OFF_SEED, seed32);
    payload(seed32, number, p + KSL_FRAME_HEADER_BYTES, len - KSL_FRAME_HEADER_BYTES);
    put32(p + KSL_FRAME_OFF_CHECKSUM, frame_checksum(p, len));
}

ksl_frame_result ksl_frame_check(uint32_t magic, const void *buf, size_t len, uint32_t *number)
{
    const uint8_t *p = buf;
    if (len < KSL_FRAME_HEADER_BYTES)
        return KSL_FRAME_SHORT;
    if (number)
        *number = get32(p + KSL_FRAME_OFF_NUMBER);
    if (get32(p + KSL_FRAME_OFF_MAGIC) != magic)
        return KSL_FRAME_BAD_MAGIC;
    uint32_t flen = get32(p + KSL_FRAME_OFF_LENGTH);
    if (flen > len)
        return KSL_FRAME_SHORT;
    if (flen != len || len % KSL_FRAME_ALIGN)
        return KSL_FRAME_BAD_LENGTH;
    if (frame_checksum(p, len) != get32(p + KSL_FRAME_OFF_CHECKSUM))
        return KSL_FRAME_BAD_CHECKSUM;
    /* Regenerate the payload in slices and compare. */
    uint32_t seed32 = get32(p + KSL_FRAME_OFF_SEED), n = get32(p + KSL_FRAME_OFF_NUMBER);
    uint64_t x = ((uint64_t)seed32 << 32 | n) ^ 0x6A09E667F3BCC909ull;
    const uint8_t *q = p + KSL_FRAME_HEADER_BYTES;
    size_t left = len - KSL_FRAME_HEADER_BYTES;
    for (size_t i = 0; i < left; i += 8) {
        uint64_t r = splitmix64(&x);
        for (size_t k = 0; k < 8 && i + k < left; k++)
            if (q[i + k] != (uint8_t)(r >> (8 * k)))
                return KSL_FRAME_BAD_DATA;
    }
    return KSL_FRAME_OK;
}

const char *ksl_frame_result_name(ksl_frame_result r)
{
    switch (r) {
    case KSL_FRAME_OK:
        return "ok";
    case KSL_FRAME_SHORT:
        return "short frame";
    case KSL_FRAME_BAD_MAGIC:
        return "bad magic";
    case KSL_FRAME_BAD_LENGTH:
        return "bad length";
    case KSL_FRAME_BAD_CHECKSUM:
        return "bad checksum";
    case KSL_FRAME_BAD_DATA:
        return "bad data";
    }
    return "?";
}

void ksl_frame_seq_init(ksl_frame_seq *s, uint32_t first)
{
    memset(s, 0, sizeof *s);
    s->next = first;
    s->started = true;
}

ksl_frame_result ksl_frame_seq_push(ksl_frame_seq *s, uint32_t magic, const void *buf, size_t len)
{
    uint32_t n = 0;
    ksl_frame_result r = ksl_frame_check(magic, buf, len, &n);
    if (r != KSL_FRAME_OK) {
        s->bad++;
        return r;
    }
    if (!s->started) {
        s->started = true;
        s->next = n;
    }
    if (n < s->next) {
        s->disorder++;
        return r;
    }
    s->missing += n - s->next;
    s->next = n + 1;
    s->frames++;
    return r;
}
