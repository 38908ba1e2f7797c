/* SPDX-License-Identifier: MIT */
/* Replay tokens: a versioned varint record, CRC-32 protected, in base64url. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kslab/token.h>

#define TOKEN_PREFIX "ksl1-"
#define TOKEN_VERSION 2u /* 2: runs of zero choices are run-length encoded */
#define MAX_CHOICES (1u << 24)

typedef struct buf {
    uint8_t *p;
    size_t n, cap;
    int oom;
} buf;

static void put(buf *b, uint8_t v)
{
    if (b->n == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 256;
        uint8_t *np = realloc(b->p, cap);
        if (!np) {
            b->oom = 1;
            return;
        }
        b->p = np;
        b->cap = cap;
    }
    b->p[b->n++] = v;
}

static void put_varint(buf *b, uint64_t v)
{
    while (v >= 0x80) {
        put(b, (uint8_t)(v | 0x80));
        v >>= 7;
    }
    put(b, (uint8_t)v);
}

static void put_str(buf *b, const char *s)
{
    size_t n = strlen(s);
    put_varint(b, n);
    for (size_t i = 0; i < n; i++)
        put(b, (uint8_t)s[i]);
}

static uint32_t crc32(const uint8_t *p, size_t n)
{
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
    }
    return ~c;
}

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

char *ksl_token_encode(const ksl_token *t)
{
    buf b = {0};
    const ksl_config *c = &t->cfg;
    put_varint(&b, TOKEN_VERSION);
    put_str(&b, t->scenario);
    put_str(&b, t->params);
    put_varint(&b, c->cpus);
    put_varint(&b, (uint64_t)c->engine);
    put_varint(&b, c->seed);
    put_varint(&b, (uint64_t)c->strategy);
    put_varint(&b, c->pct_depth);
    put_varint(&b, c->pct_steps);
    put_varint(&b, c->max_steps);
    put_varint(&b, c->skew_ns);
    put_varint(&b, c->step_cost_ns);
    put_varint(&b, c->worker_threads);
    put_varint(&b, c->fail_alloc_nth);
    size_t nch = c->strategy == KSL_STRATEGY_REPLAY ? t->nchoices : 0;
    put_varint(&b, nch);
    /* A shrunk schedule is mostly zeros (the first option): a 0 is followed by its run length. */
    for (size_t i = 0; i < nch;) {
        if (t->choices[i]) {
            put_varint(&b, t->choices[i++]);
            continue;
        }
        size_t run = 0;
        while (i < nch && t->choices[i] == 0)
            run++, i++;
        put_varint(&b, 0);
        put_varint(&b, run);
    }
    uint32_t crc = crc32(b.p, b.n);
    for (int i = 0; i < 4; i++)
        put(&b, (uint8_t)(crc >> (8 * i)));
    if (b.oom) {
        free(b.p);
        return NULL;
    }
    size_t outlen = strlen(TOKEN_PREFIX) + (b.n * 4 + 2) / 3 + 1;
    char *out = malloc(outlen);
    if (!out) {
        free(b.p);
        return NULL;
    }
    char *o = out + sprintf(out, "%s", TOKEN_PREFIX);
    for (size_t i = 0; i < b.n; i += 3) {
        uint32_t v = (uint32_t)b.p[i] << 16;
        size_t k = b.n - i;
        if (k > 1)
            v |= (uint32_t)b.p[i + 1] << 8;
        if (k > 2)
            v |= b.p[i + 2];
        *o++ = b64[(v >> 18) & 63];
        *o++ = b64[(v >> 12) & 63];
        if (k > 1)
            *o++ = b64[(v >> 6) & 63];
        if (k > 2)
            *o++ = b64[v & 63];
    }
    *o = 0;
    free(b.p);
    return out;
}

typedef struct rd {
    const uint8_t *p;
    size_t n, pos;
    int bad;
} rd;

static uint64_t get_varint(rd *r)
{
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (r->pos >= r->n) {
            r->bad = 1;
            return 0;
        }
        uint8_t byte = r->p[r->pos++];
        v |= (uint64_t)(byte & 0x7F) << shift;
        if (!(byte & 0x80))
            return v;
    }
    r->bad = 1;
    return 0;
}

static void get_str(rd *r, char *out, size_t cap)
{
    uint64_t n = get_varint(r);
    if (r->bad || n >= cap || n > r->n - r->pos) {
        r->bad = 1;
        out[0] = 0;
        return;
    }
    memcpy(out, r->p + r->pos, (size_t)n);
    out[n] = 0;
    r->pos += (size_t)n;
}

static int b64val(int ch)
{
    const char *p = ch ? strchr(b64, ch) : NULL;
    return p ? (int)(p - b64) : -1;
}

int ksl_token_decode(const char *text, ksl_token *out, char *err, size_t errlen)
{
#define FAIL(msg) do { if (err) snprintf(err, errlen, "%s", msg); free(raw); ksl_token_free(out); return -1; } while (0)
    uint8_t *raw = NULL;
    memset(out, 0, sizeof *out);
    while (*text && isspace((unsigned char)*text))
        text++;
    if (strncmp(text, TOKEN_PREFIX, strlen(TOKEN_PREFIX)) != 0)
        FAIL("not a kslab replay token (it should start with \"" TOKEN_PREFIX "\")");
    text += strlen(TOKEN_PREFIX);
    size_t len = strlen(text);
    while (len && isspace((unsigned char)text[len - 1]))
        len--;
    raw = malloc(len * 3 / 4 + 3);
    if (!raw)
        FAIL("out of memory");
    size_t n = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < len; i++) {
        int v = b64val((unsigned char)text[i]);
        if (v < 0)
            FAIL("the token has a character that is not base64url (was it cut or wrapped?)");
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            raw[n++] = (uint8_t)(acc >> bits);
        }
    }
    if (n < 5)
        FAIL("the token is too short");
    uint32_t crc = (uint32_t)raw[n - 4] | (uint32_t)raw[n - 3] << 8 | (uint32_t)raw[n - 2] << 16 | (uint32_t)raw[n - 1] << 24;
    if (crc32(raw, n - 4) != crc)
        FAIL("the token is damaged (checksum mismatch): copy it again whole");
    rd r = {raw, n - 4, 0, 0};
    if (get_varint(&r) != TOKEN_VERSION)
        FAIL("the token was made by another version of kslab");
    ksl_config_default(&out->cfg);
    get_str(&r, out->scenario, sizeof out->scenario);
    get_str(&r, out->params, sizeof out->params);
    ksl_config *c = &out->cfg;
    c->cpus = (uint32_t)get_varint(&r);
    c->engine = (ksl_engine_kind)get_varint(&r);
    c->seed = get_varint(&r);
    c->strategy = (ksl_strategy_kind)get_varint(&r);
    c->pct_depth = (uint32_t)get_varint(&r);
    c->pct_steps = get_varint(&r);
    c->max_steps = get_varint(&r);
    c->skew_ns = get_varint(&r);
    c->step_cost_ns = (uint32_t)get_varint(&r);
    c->worker_threads = (uint32_t)get_varint(&r);
    c->fail_alloc_nth = get_varint(&r);
    uint64_t nch = get_varint(&r);
    if (r.bad || nch > MAX_CHOICES)
        FAIL("the token's record is malformed");
    if (nch) {
        out->choices = malloc((size_t)nch * sizeof *out->choices);
        if (!out->choices)
            FAIL("out of memory");
        for (uint64_t i = 0; i < nch && !r.bad;) {
            uint64_t v = get_varint(&r);
            if (v) {
                out->choices[i++] = (uint32_t)v;
                continue;
            }
            uint64_t run = get_varint(&r);
            if (run == 0 || run > nch - i) {
                r.bad = 1;
                break;
            }
            while (run--)
                out->choices[i++] = 0;
        }
        out->nchoices = (size_t)nch;
    }
    if (r.bad || r.pos != r.n)
        FAIL("the token's record is malformed");
    c->choices = out->choices;
    c->nchoices = out->nchoices;
    free(raw);
    return 0;
#undef FAIL
}

void ksl_token_free(ksl_token *t)
{
    free(t->choices);
    t->choices = NULL;
    t->nchoices = 0;
}
