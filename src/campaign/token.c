/* SPDX-License-Identifier: MIT */
/* Replay tokens: a versioned varint record, CRC-32 protected, in base64url. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kslab/token.h>

#define TOKEN_PREFIX "ksl1-"
#define TOKEN_VERSION 4u /* 2: runs of zero choices are run-length encoded; 3: jobs, driver hashes, checked ranges;
                          * 4: the registry file's hash (a version 3 token still decodes: none) */

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

static void put_job(buf *b, const ksl_job *j)
{
    const uint64_t v[] = {(uint64_t)j->kind, j->rate, j->channels, j->frames, j->irp_ms, j->stop_after,
                          j->buffer_offset, j->contiguous, j->srbs, j->close_after, j->wait_ms, j->in_flight,
                          j->cancel_every, j->pause_every_ms};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
        put_varint(b, v[i]);
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
    put_job(&b, &t->job);
    put_str(&b, t->driver);
    put_str(&b, t->driver_file);
    put_varint(&b, t->driver_hash);
    put_str(&b, t->device_file);
    put_varint(&b, t->device_hash);
    put_varint(&b, t->input_hash);
    put_varint(&b, t->registry_hash);
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

/* The job's fields, each bounded so that a value the job range check refuses is seen as one
 * (a huge varint must not wrap into a valid 32-bit value). */
static void get_job(rd *r, ksl_job *j)
{
    uint64_t v[14];
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
        v[i] = get_varint(r);
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
        if (i != 3 && v[i] > UINT32_MAX)
            v[i] = UINT32_MAX; /* out of every range below */
    j->kind = (ksl_job_kind)v[0];
    j->rate = (uint32_t)v[1];
    j->channels = (uint32_t)v[2];
    j->frames = v[3];
    j->irp_ms = (uint32_t)v[4];
    j->stop_after = (uint32_t)v[5];
    j->buffer_offset = (uint32_t)v[6];
    j->contiguous = v[7] != 0;
    j->srbs = (uint32_t)v[8];
    j->close_after = (uint32_t)v[9];
    j->wait_ms = (uint32_t)v[10];
    j->in_flight = (uint32_t)v[11];
    j->cancel_every = (uint32_t)v[12];
    j->pause_every_ms = (uint32_t)v[13];
    if (v[7] > 1)
        r->bad = 1;
}

/* A field out of range: the message names it. */
static int out_of_range(char *err, size_t errlen, const char *what, uint64_t v, uint64_t lo, uint64_t hi)
{
    if (v >= lo && v <= hi)
        return 0;
    if (err)
        snprintf(err, errlen, "the token's %s (%llu) is out of range (%llu..%llu): it was not made by kslab", what,
                 (unsigned long long)v, (unsigned long long)lo, (unsigned long long)hi);
    return -1;
}

/* Text fields hold printable ASCII only (they are shown, and a scenario name is looked up). */
static int printable(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7E)
            return 0;
    return 1;
}

int ksl_token_decode(const char *text, ksl_token *out, char *err, size_t errlen)
{
#define FAIL(msg) do { if (err) snprintf(err, errlen, "%s", msg); free(raw); ksl_token_free(out); return -1; } while (0)
#define RANGE(what, v, lo, hi) do { if (out_of_range(err, errlen, what, v, lo, hi)) { free(raw); ksl_token_free(out); return -1; } } while (0)
    uint8_t *raw = NULL;
    memset(out, 0, sizeof *out);
    if (!text)
        FAIL("no token");
    while (*text && isspace((unsigned char)*text))
        text++;
    if (strncmp(text, TOKEN_PREFIX, strlen(TOKEN_PREFIX)) != 0)
        FAIL("not a kslab replay token (it should start with \"" TOKEN_PREFIX "\")");
    text += strlen(TOKEN_PREFIX);
    size_t len = strlen(text);
    while (len && isspace((unsigned char)text[len - 1]))
        len--;
    if (len > (size_t)KSL_TOKEN_MAX_CHOICES * 8)
        FAIL("the token is too long to be a kslab token");
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
    uint64_t version = get_varint(&r);
    if (version != TOKEN_VERSION && version != 3)
        FAIL("the token was made by another version of kslab");
    ksl_config_default(&out->cfg);
    get_str(&r, out->scenario, sizeof out->scenario);
    get_job(&r, &out->job);
    get_str(&r, out->driver, sizeof out->driver);
    get_str(&r, out->driver_file, sizeof out->driver_file);
    out->driver_hash = get_varint(&r);
    get_str(&r, out->device_file, sizeof out->device_file);
    out->device_hash = get_varint(&r);
    out->input_hash = get_varint(&r);
    out->registry_hash = version >= 4 ? get_varint(&r) : 0;
    ksl_config *c = &out->cfg;
    uint64_t cpus = get_varint(&r), engine = get_varint(&r);
    c->seed = get_varint(&r);
    uint64_t strategy = get_varint(&r), depth = get_varint(&r);
    c->pct_steps = get_varint(&r);
    c->max_steps = get_varint(&r);
    c->skew_ns = get_varint(&r);
    uint64_t cost = get_varint(&r), workers = get_varint(&r);
    c->fail_alloc_nth = get_varint(&r);
    uint64_t nch = get_varint(&r);
    if (r.bad)
        FAIL("the token's record is malformed");
    if (!printable(out->scenario) || !printable(out->driver) || !printable(out->driver_file) ||
        !printable(out->device_file))
        FAIL("the token's record is malformed (a name that is not printable text)");
    RANGE("CPU count", cpus, 1, KSL_MAX_CPUS);
    RANGE("engine", engine, KSL_ENGINE_DETERMINISTIC, KSL_ENGINE_THREADED);
    RANGE("strategy", strategy, KSL_STRATEGY_RANDOM, KSL_STRATEGY_REPLAY);
    RANGE("PCT depth", depth, 1, 64);
    RANGE("PCT step estimate", c->pct_steps, 1, KSL_TOKEN_MAX_PCT_STEPS);
    RANGE("step limit", c->max_steps, 1, KSL_TOKEN_MAX_STEPS);
    RANGE("clock skew", c->skew_ns, 0, KSL_TOKEN_MAX_SKEW_NS);
    RANGE("step cost", cost, 1, KSL_TOKEN_MAX_STEP_COST_NS);
    RANGE("worker threads", workers, 1, KSL_TOKEN_MAX_WORKER_THREADS);
    RANGE("choice count", nch, 0, strategy == KSL_STRATEGY_REPLAY ? KSL_TOKEN_MAX_CHOICES : 0);
    c->cpus = (uint32_t)cpus;
    c->engine = (ksl_engine_kind)engine;
    c->strategy = (ksl_strategy_kind)strategy;
    c->pct_depth = (uint32_t)depth;
    c->step_cost_ns = (uint32_t)cost;
    c->worker_threads = (uint32_t)workers;
    if (nch) {
        out->choices = malloc((size_t)nch * sizeof *out->choices);
        if (!out->choices)
            FAIL("out of memory");
        for (uint64_t i = 0; i < nch && !r.bad;) {
            uint64_t v = get_varint(&r);
            if (v) {
                if (v > KSL_TOKEN_MAX_CHOICE) {
                    r.bad = 1;
                    break;
                }
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
    if (strncmp(out->scenario, "job/", 4) == 0) {
        char why[200];
        if (ksl_job_check(&out->job, why, sizeof why) != 0) {
            if (err)
                snprintf(err, errlen, "the token's job is out of range: %s", why);
            free(raw);
            ksl_token_free(out);
            return -1;
        }
    }
    c->choices = out->choices;
    c->nchoices = out->nchoices;
    free(raw);
    return 0;
#undef FAIL
#undef RANGE
}

void ksl_token_free(ksl_token *t)
{
    free(t->choices);
    t->choices = NULL;
    t->nchoices = 0;
}
