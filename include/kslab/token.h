/* SPDX-License-Identifier: MIT */
/*
 * Replay tokens: one line of text that names a run completely (scenario, its options, every
 * engine setting and, after shrinking, the exact choice list), so `kslab replay TOKEN`
 * reproduces it bit for bit.  Format: "ksl1-" + base64url of a varint record + CRC-32.
 */
#ifndef KSLAB_TOKEN_H
#define KSLAB_TOKEN_H

#include <kslab/engine.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ksl_token {
    char scenario[64];  /* what ran, e.g. "demo/lock-order" */
    char params[256];   /* scenario options as text */
    ksl_config cfg;     /* cfg.choices points into `choices` */
    uint32_t *choices;
    size_t nchoices;
} ksl_token;

/* Encode; returns a malloc'd string or NULL.  Host code. */
char *ksl_token_encode(const ksl_token *t);
/* Decode; 0 on success, -1 with `err` filled on malformed text.  Host code. */
int ksl_token_decode(const char *text, ksl_token *out, char *err, size_t errlen);
/* Free what ksl_token_decode allocated. */
void ksl_token_free(ksl_token *t);

#ifdef __cplusplus
}
#endif
#endif
