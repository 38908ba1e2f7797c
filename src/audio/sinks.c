/* SPDX-License-Identifier: MIT */
/* The sink device models play into (hash, optionally keep) and the source they capture from (a
 * tape of bytes, then silence). */
#include <stdlib.h>
#include <string.h>

#include <kslab/audio.h>

#define CAPTURE_MIN_CAP 4096u

/* Start an empty capture; with `keep`, the bytes are kept as well as hashed.  Host code. */
void ksl_capture_sink_init(ksl_capture_sink *s, bool keep)
{
    memset(s, 0, sizeof *s);
    s->keep = keep;
    ksl_hash64_init(&s->hash);
}

/* Free the kept bytes; the sink is empty afterwards (the hash is restarted).  Host code. */
void ksl_capture_sink_free(ksl_capture_sink *s)
{
    free(s->data);
    s->data = NULL;
    s->len = s->cap = 0;
    s->oom = false;
    ksl_hash64_init(&s->hash);
}

/* Grow the buffer to hold `need` bytes, doubling; false when that cannot be allocated. */
static bool reserve(ksl_capture_sink *s, size_t need)
{
    if (need <= s->cap)
        return true;
    size_t cap = s->cap ? s->cap : CAPTURE_MIN_CAP;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    uint8_t *p = realloc(s->data, cap);
    if (!p)
        return false;
    s->data = p;
    s->cap = cap;
    return true;
}

/* The sink's put(): hash always; keep until an allocation fails, then set oom and only hash. */
static void capture_put(void *ctx, const uint8_t *bytes, size_t n)
{
    ksl_capture_sink *s = ctx;
    if (!n)
        return;
    ksl_hash64_update(&s->hash, bytes, n);
    if (!s->keep || s->oom)
        return;
    if (n > SIZE_MAX - s->len || !reserve(s, s->len + n)) {
        s->oom = true;
        return;
    }
    memcpy(s->data + s->len, bytes, n);
    s->len += n;
}

/* The capture as a ksl_pcm_sink; device code calls its put().  Host code. */
ksl_pcm_sink ksl_capture_sink_as_sink(ksl_capture_sink *s)
{
    return (ksl_pcm_sink){.ctx = s, .put = capture_put};
}

/* Load a tape of `len` bytes at `data` (not copied; it must outlive the tape).  Host code. */
void ksl_tape_source_init(ksl_tape_source *t, const void *data, size_t len)
{
    t->data = data;
    t->len = data ? len : 0;
    t->pos = 0;
    t->zeros = 0;
}

/* The source's get(): the next bytes of the tape, zeros once it has run out. */
static void tape_get(void *ctx, uint8_t *bytes, size_t n)
{
    ksl_tape_source *t = ctx;
    size_t left = t->pos < t->len ? t->len - t->pos : 0;
    size_t take = n < left ? n : left;
    if (take)
        memcpy(bytes, t->data + t->pos, take);
    if (n > take) {
        memset(bytes + take, 0, n - take);
        t->zeros += n - take;
    }
    t->pos += n;
}

/* The tape as a ksl_pcm_source; device code calls its get().  Host code. */
ksl_pcm_source ksl_tape_source_as_source(ksl_tape_source *t)
{
    return (ksl_pcm_source){.ctx = t, .get = tape_get};
}
