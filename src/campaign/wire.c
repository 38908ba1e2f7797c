/* SPDX-License-Identifier: MIT */
/* The worker byte format (see wire.h). */
#include <stdlib.h>
#include <string.h>

#include "wire.h"

static bool reserve(ksl__wbuf *b, size_t more)
{
    if (b->oom)
        return false;
    if (b->n + more <= b->cap)
        return true;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->n + more) {
        if (cap > SIZE_MAX / 2) {
            b->oom = true;
            return false;
        }
        cap *= 2;
    }
    uint8_t *np = realloc(b->p, cap);
    if (!np) {
        b->oom = true;
        return false;
    }
    b->p = np;
    b->cap = cap;
    return true;
}

void ksl__w_bytes(ksl__wbuf *b, const void *p, size_t n)
{
    if (n && reserve(b, n)) {
        memcpy(b->p + b->n, p, n);
        b->n += n;
    }
}

void ksl__w_u8(ksl__wbuf *b, uint8_t v)
{
    ksl__w_bytes(b, &v, 1);
}

void ksl__w_u32(ksl__wbuf *b, uint32_t v)
{
    uint8_t x[4];
    for (int i = 0; i < 4; i++)
        x[i] = (uint8_t)(v >> (8 * i));
    ksl__w_bytes(b, x, 4);
}

void ksl__w_u64(ksl__wbuf *b, uint64_t v)
{
    uint8_t x[8];
    for (int i = 0; i < 8; i++)
        x[i] = (uint8_t)(v >> (8 * i));
    ksl__w_bytes(b, x, 8);
}

void ksl__w_blob(ksl__wbuf *b, const void *p, size_t n)
{
    ksl__w_u64(b, n);
    ksl__w_bytes(b, p, n);
}

void ksl__w_str(ksl__wbuf *b, const char *s)
{
    ksl__w_blob(b, s ? s : "", s ? strlen(s) : 0);
}

void ksl__wbuf_free(ksl__wbuf *b)
{
    free(b->p);
    memset(b, 0, sizeof *b);
}

static const uint8_t *take(ksl__rbuf *r, size_t n)
{
    if (r->bad || n > r->n - r->pos) {
        r->bad = true;
        return NULL;
    }
    const uint8_t *p = r->p + r->pos;
    r->pos += n;
    return p;
}

uint8_t ksl__r_u8(ksl__rbuf *r)
{
    const uint8_t *p = take(r, 1);
    return p ? p[0] : 0;
}

uint32_t ksl__r_u32(ksl__rbuf *r)
{
    const uint8_t *p = take(r, 4);
    uint32_t v = 0;
    for (int i = 0; p && i < 4; i++)
        v |= (uint32_t)p[i] << (8 * i);
    return v;
}

uint64_t ksl__r_u64(ksl__rbuf *r)
{
    const uint8_t *p = take(r, 8);
    uint64_t v = 0;
    for (int i = 0; p && i < 8; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

const void *ksl__r_blob(ksl__rbuf *r, size_t max, size_t *n)
{
    uint64_t len = ksl__r_u64(r);
    if (r->bad || len > max) {
        r->bad = true;
        *n = 0;
        return NULL;
    }
    const uint8_t *p = take(r, (size_t)len);
    *n = p ? (size_t)len : 0;
    return p;
}

/* A string's bytes: a blob without a NUL inside. */
static const char *text_blob(ksl__rbuf *r, size_t max, size_t *n)
{
    const char *p = ksl__r_blob(r, max, n);
    if (p && memchr(p, 0, *n)) {
        r->bad = true;
        *n = 0;
        return NULL;
    }
    return p;
}

void ksl__r_str(ksl__rbuf *r, char *out, size_t max)
{
    size_t n;
    const char *p = text_blob(r, max ? max - 1 : 0, &n);
    if (max) {
        if (p)
            memcpy(out, p, n);
        out[p ? n : 0] = 0;
    }
}

char *ksl__r_strdup(ksl__rbuf *r, size_t max)
{
    size_t n;
    const char *p = text_blob(r, max, &n);
    if (!p)
        return NULL;
    char *s = malloc(n + 1);
    if (s) {
        memcpy(s, p, n);
        s[n] = 0;
    }
    return s;
}
