/* SPDX-License-Identifier: MIT */
/*
 * Audio data outside the driver: 16-bit PCM in memory, WAV files (through libsndfile), the
 * built-in test signal, and the sinks and sources device models play into and capture from.
 * Host code: none of these is a scheduling point; sinks and sources are called from device code.
 */
#ifndef KSLAB_AUDIO_H
#define KSLAB_AUDIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Interleaved signed 16-bit little-endian PCM. */
typedef struct ksl_pcm {
    uint32_t rate;      /* frames per second */
    uint16_t channels;  /* 1 or more */
    size_t frames;
    int16_t *samples;   /* frames * channels, malloc'd */
} ksl_pcm;

/* Bytes of a PCM buffer. */
static inline size_t ksl_pcm_bytes(const ksl_pcm *p)
{
    return p->frames * p->channels * sizeof(int16_t);
}
/* Free the samples. */
void ksl_pcm_free(ksl_pcm *p);

/* The largest WAV file kslab reads (bytes): an hour of 8-channel 16-bit audio at 96 kHz. */
#define KSL_WAV_MAX_BYTES (96000ull * 3600 * 8 * 2 + 65536)

/*
 * Read a WAV file holding 16-bit PCM (a regular file, or a pipe read to its end).  Its RIFF chunk
 * structure is checked first (every chunk inside the file, 'fmt ' before 'data'), then
 * libsndfile reads it.  0 on success; -1 with `err` naming the file, the problem and, for a
 * broken structure, the byte where it is (unreadable, not a WAV file, a chunk running past the
 * end, truncated, not 16-bit PCM, no frames).  `out` is cleared first.  Host code.
 */
int ksl_wav_read(const char *path, ksl_pcm *out, char *err, size_t errlen);
/* The same for a WAV file already in memory; `name` names it in messages.  Host code. */
int ksl_wav_parse(const void *data, size_t n, const char *name, ksl_pcm *out, char *err, size_t errlen);
/*
 * Write `pcm` as a 16-bit PCM WAV file (WAVE_FORMAT_EXTENSIBLE above two channels), atomically
 * (<kslab/report.h>'s rules: a temporary file renamed into place, a device or FIFO written
 * directly, a write error reported).  0, or -1 with `err` filled.  Host code.
 */
int ksl_wav_write(const char *path, const ksl_pcm *pcm, char *err, size_t errlen);

/*
 * The built-in test signal: `frames` frames at `rate` with `channels` channels — a tone sweep per
 * channel with a little seeded noise, so that any lost, repeated or reordered sample changes the
 * bytes.  0, or -1 when out of memory.
 */
int ksl_pcm_generate(ksl_pcm *out, uint32_t rate, uint16_t channels, size_t frames, uint64_t seed);

/* A 64-bit running hash over a byte stream; equal streams, equal hashes, however they are cut. */
typedef struct ksl_hash64 {
    uint64_t state;
    uint64_t tail;      /* pending bytes, little-endian */
    uint32_t ntail;
    uint64_t length;
} ksl_hash64;
void ksl_hash64_init(ksl_hash64 *h);
void ksl_hash64_update(ksl_hash64 *h, const void *data, size_t n);
uint64_t ksl_hash64_final(const ksl_hash64 *h);
/* The hash of one buffer. */
uint64_t ksl_hash64_of(const void *data, size_t n);

/* Where a device's playback goes. */
typedef struct ksl_pcm_sink {
    void *ctx;
    void (*put)(void *ctx, const uint8_t *bytes, size_t n);
} ksl_pcm_sink;

/* Where a device's capture comes from. */
typedef struct ksl_pcm_source {
    void *ctx;
    void (*get)(void *ctx, uint8_t *bytes, size_t n);
} ksl_pcm_source;

/* A sink that hashes everything and, when `keep`, also keeps the bytes (grows as needed). */
typedef struct ksl_capture_sink {
    bool keep;
    bool oom;           /* a keep allocation failed; the bytes after that point were not kept */
    uint8_t *data;
    size_t len, cap;
    ksl_hash64 hash;
} ksl_capture_sink;
void ksl_capture_sink_init(ksl_capture_sink *s, bool keep);
void ksl_capture_sink_free(ksl_capture_sink *s);
ksl_pcm_sink ksl_capture_sink_as_sink(ksl_capture_sink *s);

/* A source that plays `data` from the start, then zeros; `pos` counts bytes handed out. */
typedef struct ksl_tape_source {
    const uint8_t *data;
    size_t len;
    size_t pos;
    size_t zeros;       /* bytes handed out past the end */
} ksl_tape_source;
void ksl_tape_source_init(ksl_tape_source *t, const void *data, size_t len);
ksl_pcm_source ksl_tape_source_as_source(ksl_tape_source *t);

#ifdef __cplusplus
}
#endif
#endif
