/* SPDX-License-Identifier: MIT */
/*
 * Replay tokens: one line of text that names a run completely, so `kslab replay TOKEN`
 * reproduces it bit for bit: what ran (a scenario, or a job with all its options), the driver
 * (its name; for a plugin, its file name as given and a hash of the file), a device plugin's
 * hash, an input file's hash, every engine setting and, after shrinking, the exact choice list.
 * Format: "ksl1-" + base64url of a versioned varint record + CRC-32.
 *
 * A token is input: decoding checks every field against the range the matching command-line
 * option allows, and refuses the token with a message naming the field otherwise.  It never
 * names a file to load: a plugin is given again on replay (--driver PATH) and checked against
 * the hash.
 */
#ifndef KSLAB_TOKEN_H
#define KSLAB_TOKEN_H

#include <kslab/campaign.h>
#include <kslab/engine.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Limits of the fields a token may carry (beyond those of <kslab/campaign.h>). */
#define KSL_TOKEN_MAX_CHOICES (1u << 24)
#define KSL_TOKEN_MAX_CHOICE 65535u        /* a choice is an index among a point's options */
#define KSL_TOKEN_MAX_PCT_STEPS 1000000000ull
#define KSL_TOKEN_MAX_STEPS 100000000000ull
#define KSL_TOKEN_MAX_SKEW_NS 1000000000ull /* 1 s */
#define KSL_TOKEN_MAX_STEP_COST_NS 1000000u
#define KSL_TOKEN_MAX_WORKER_THREADS 16u

typedef struct ksl_token {
    char scenario[64];        /* "wavepci/NAME", "stream/NAME", "demo/NAME" (a built-in scenario)
                               * or "job/play", "job/capture", "job/stream" (the job below) */
    ksl_job job;              /* "job/...": every option of the job */
    char driver[64];          /* the driver's name; "" for the demonstrations */
    char driver_file[128];    /* a plugin: its file name (shown, never loaded); "" built in */
    uint64_t driver_hash;     /* a plugin: the hash of its file; 0 built in */
    char device_file[128];    /* a device plugin: its file name, and its hash; "" none */
    uint64_t device_hash;
    uint64_t input_hash;      /* "job/play" / "job/capture" of an input file: its samples' hash; a
                               * scenario of a scenario file: the hash of its definition; 0 none */
    uint64_t registry_hash;   /* the run's registry file (--registry): its hash; 0 none (version 4) */
    ksl_config cfg;           /* cfg.choices points into `choices` */
    uint32_t *choices;
    size_t nchoices;
} ksl_token;

/* Encode; returns a malloc'd string or NULL.  Host code. */
char *ksl_token_encode(const ksl_token *t);
/* Decode and check; 0 on success, -1 with `err` filled on malformed text or a field out of range.
 * Host code. */
int ksl_token_decode(const char *text, ksl_token *out, char *err, size_t errlen);
/* Free what ksl_token_decode allocated. */
void ksl_token_free(ksl_token *t);

#ifdef __cplusplus
}
#endif
#endif
