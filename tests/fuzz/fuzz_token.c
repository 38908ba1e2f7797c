/* SPDX-License-Identifier: MIT */
/* Replay tokens (<kslab/token.h>): any text decodes or is refused with a message; what decodes
 * is within every range and encodes back to a token that decodes to the same thing.
 *
 * An input that starts with a 0 byte is a token's record rather than its text: the harness adds
 * the CRC-32 and the base64url a token wraps it in, so that mutations reach the decoder's fields
 * instead of failing the checksum. */
#include <stdio.h>
#include <string.h>

#include <kslab/token.h>

#include "fuzz.h"

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

/* "ksl1-" + base64url(record + CRC-32), malloc'd. */
static char *wrap(const uint8_t *rec, size_t n)
{
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    uint8_t *raw = malloc(n + 4);
    char *out = malloc(5 + (n + 4) * 4 / 3 + 4);
    if (!raw || !out) {
        free(raw);
        free(out);
        return NULL;
    }
    memcpy(raw, rec, n);
    uint32_t crc = crc32(rec, n);
    for (int i = 0; i < 4; i++)
        raw[n + (size_t)i] = (uint8_t)(crc >> (8 * i));
    n += 4;
    char *o = out + sprintf(out, "ksl1-");
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)raw[i] << 16 | (i + 1 < n ? (uint32_t)raw[i + 1] << 8 : 0) | (i + 2 < n ? raw[i + 2] : 0);
        *o++ = b64[(v >> 18) & 63];
        *o++ = b64[(v >> 12) & 63];
        if (i + 1 < n)
            *o++ = b64[(v >> 6) & 63];
        if (i + 2 < n)
            *o++ = b64[v & 63];
    }
    *o = 0;
    free(raw);
    return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text;
    if (size && data[0] == 0) {
        text = wrap(data + 1, size - 1);
    } else {
        text = malloc(size + 1);
        if (text) {
            memcpy(text, data, size);
            text[size] = 0;
        }
    }
    if (!text)
        return 0;
    ksl_token t;
    char err[256] = "";
    if (ksl_token_decode(text, &t, err, sizeof err) != 0) {
        FUZZ_CHECK(err[0] != 0);
        FUZZ_CHECK(t.choices == NULL);
        free(text);
        return 0;
    }
    FUZZ_CHECK(t.cfg.cpus >= 1 && t.cfg.cpus <= KSL_MAX_CPUS);
    FUZZ_CHECK(t.cfg.pct_depth >= 1 && t.cfg.pct_depth <= 64);
    FUZZ_CHECK(t.cfg.skew_ns <= KSL_TOKEN_MAX_SKEW_NS);
    FUZZ_CHECK(t.cfg.worker_threads >= 1 && t.cfg.worker_threads <= KSL_TOKEN_MAX_WORKER_THREADS);
    FUZZ_CHECK(t.nchoices <= KSL_TOKEN_MAX_CHOICES);
    for (size_t i = 0; i < t.nchoices; i++)
        FUZZ_CHECK(t.choices[i] <= KSL_TOKEN_MAX_CHOICE);
    if (strncmp(t.scenario, "job/", 4) == 0)
        FUZZ_CHECK(ksl_job_check(&t.job, err, sizeof err) == 0);
    char *again = ksl_token_encode(&t);
    FUZZ_CHECK(again != NULL);
    ksl_token u;
    FUZZ_CHECK(ksl_token_decode(again, &u, err, sizeof err) == 0);
    FUZZ_CHECK(strcmp(u.scenario, t.scenario) == 0 && strcmp(u.driver, t.driver) == 0);
    FUZZ_CHECK(u.driver_hash == t.driver_hash && u.input_hash == t.input_hash);
    FUZZ_CHECK(u.cfg.seed == t.cfg.seed && u.cfg.cpus == t.cfg.cpus && u.nchoices == t.nchoices);
    FUZZ_CHECK(!u.nchoices || memcmp(u.choices, t.choices, u.nchoices * sizeof *u.choices) == 0);
    ksl_token_free(&u);
    free(again);
    ksl_token_free(&t);
    free(text);
    return 0;
}
