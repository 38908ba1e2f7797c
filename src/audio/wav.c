/* SPDX-License-Identifier: MIT */
/*
 * WAV files through libsndfile: 16-bit PCM only, read whole into memory, its RIFF structure
 * (riff.h) and its format checked, then rebuilt as the plainest WAV file (the header, 'fmt ',
 * 'data' with its exact length) that libsndfile parses from memory (virtual I/O): libsndfile
 * never sees a chunk kslab did not check.  Written into memory by libsndfile, then to the file
 * atomically (util/afile.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sndfile.h>

#include <kslab/audio.h>

#include "../util/afile.h"
#include "riff.h"

#define WAV_MAX_CHANNELS 8u
#define WAV_MAX_RATE 768000u           /* the highest sample rate kslab reads */
#define WAV_FORMAT_PCM 0x0001u
#define WAV_FORMAT_IEEE_FLOAT 0x0003u
#define WAV_FORMAT_EXTENSIBLE 0xFFFEu
#define WAV_FMT_EXTENSIBLE_LEN 40u     /* WAVEFORMATEXTENSIBLE's size */
#define WAV_FMT_SUBFORMAT 24u          /* offset of its sub-format GUID */

static void set_err(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || !errlen)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* ---- libsndfile over memory --------------------------------------------------------------- */

typedef struct membuf {
    uint8_t *p;
    size_t n, cap, pos;
    bool oom;
} membuf;

static sf_count_t mem_len(void *user)
{
    return (sf_count_t)((membuf *)user)->n;
}

static sf_count_t mem_seek(sf_count_t off, int whence, void *user)
{
    membuf *m = user;
    sf_count_t base = whence == SEEK_SET ? 0 : whence == SEEK_CUR ? (sf_count_t)m->pos : (sf_count_t)m->n;
    sf_count_t at = base + off;
    if (at < 0)
        return -1;
    m->pos = (size_t)at;
    return at;
}

static sf_count_t mem_read(void *dst, sf_count_t count, void *user)
{
    membuf *m = user;
    if (count <= 0 || m->pos >= m->n)
        return 0;
    size_t k = (size_t)count < m->n - m->pos ? (size_t)count : m->n - m->pos;
    memcpy(dst, m->p + m->pos, k);
    m->pos += k;
    return (sf_count_t)k;
}

static sf_count_t mem_write(const void *src, sf_count_t count, void *user)
{
    membuf *m = user;
    if (count <= 0)
        return 0;
    size_t end = m->pos + (size_t)count;
    if (end > m->cap) {
        size_t cap = m->cap ? m->cap : 65536;
        while (cap < end)
            cap *= 2;
        uint8_t *np = realloc(m->p, cap);
        if (!np) {
            m->oom = true;
            return 0;
        }
        m->p = np;
        m->cap = cap;
    }
    if (m->pos > m->n)
        memset(m->p + m->n, 0, m->pos - m->n);
    memcpy(m->p + m->pos, src, (size_t)count);
    m->pos = end;
    if (end > m->n)
        m->n = end;
    return count;
}

static sf_count_t mem_tell(void *user)
{
    return (sf_count_t)((membuf *)user)->pos;
}

static SF_VIRTUAL_IO mem_io = {mem_len, mem_seek, mem_read, mem_write, mem_tell};

/* libsndfile's message as a clause of ours: no "System error : " prefix, no full stop. */
static void sf_reason(const char *msg, char *buf, size_t len)
{
    static const char sys[] = "System error : ";
    if (!strncmp(msg, sys, sizeof sys - 1))
        msg += sizeof sys - 1;
    snprintf(buf, len, "%s", msg);
    size_t n = strlen(buf);
    if (n && buf[n - 1] == '.')
        buf[n - 1] = 0;
}

/* ---- reading ------------------------------------------------------------------------------ */

/* A file that is not RIFF/WAVE: what it looks like, from its first bytes (libsndfile's parsers of
 * other formats never see untrusted input). */
static void describe_other(const uint8_t *d, size_t n, char *buf, size_t len)
{
    static const struct {
        const char *magic;
        size_t at;
        const char *name;
    } known[] = {{"FORM", 0, "AIFF or another IFF format"}, {"RF64", 0, "an RF64 file, which kslab does not read"},
                 {"RIFX", 0, "a big-endian RIFF file"},     {"fLaC", 0, "FLAC"},
                 {"OggS", 0, "Ogg"},                        {".snd", 0, "Sun/NeXT audio"},
                 {"ID3", 0, "MP3"}};
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
        size_t m = strlen(known[i].magic);
        if (n >= known[i].at + m && memcmp(d + known[i].at, known[i].magic, m) == 0) {
            snprintf(buf, len, "it is %s", known[i].name);
            return;
        }
    }
    if (n >= 12 && memcmp(d, "RIFF", 4) == 0)
        snprintf(buf, len, "a RIFF file of form '%c%c%c%c', not 'WAVE'", d[8] >= 0x20 && d[8] < 0x7F ? d[8] : '?',
                 d[9] >= 0x20 && d[9] < 0x7F ? d[9] : '?', d[10] >= 0x20 && d[10] < 0x7F ? d[10] : '?',
                 d[11] >= 0x20 && d[11] < 0x7F ? d[11] : '?');
    else if (n < 12)
        snprintf(buf, len, "%zu bytes, too short for a RIFF header", n);
    else
        snprintf(buf, len, "no RIFF header at byte 0");
}

static uint16_t le16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* The 'fmt ' chunk against what kslab plays: 16-bit PCM (plain or WAVE_FORMAT_EXTENSIBLE), 1 to
 * 8 channels, a block of 2 bytes a channel, a rate kslab can name.  0, or -1 with err filled. */
static int check_format(const char *name, const uint8_t *d, const ksl_riff_info *ri, char *err, size_t errlen)
{
    const uint8_t *f = d + ri->fmt_at;
    uint32_t tag = le16(f), channels = le16(f + 2), rate = le32(f + 4), block = le16(f + 12), bits = le16(f + 14);
    if (tag == WAV_FORMAT_EXTENSIBLE) {
        if (ri->fmt_len < WAV_FMT_EXTENSIBLE_LEN) {
            set_err(err, errlen, "'%s' is not a WAV file kslab can read: byte %zu: a WAVE_FORMAT_EXTENSIBLE 'fmt ' "
                                 "chunk of %u bytes (it needs %u)",
                    name, ri->fmt_at - 8, (unsigned)ri->fmt_len, WAV_FMT_EXTENSIBLE_LEN);
            return -1;
        }
        tag = le16(f + WAV_FMT_SUBFORMAT); /* the sub-format GUID begins with the format tag */
    }
    if (tag == WAV_FORMAT_PCM && bits != 16) {
        set_err(err, errlen, "'%s' holds %u-bit PCM; kslab plays 16-bit PCM", name, (unsigned)bits);
        return -1;
    }
    if (tag == WAV_FORMAT_IEEE_FLOAT) {
        set_err(err, errlen, "'%s' holds %u-bit float data; kslab plays 16-bit PCM", name, (unsigned)bits);
        return -1;
    }
    if (tag != WAV_FORMAT_PCM) {
        set_err(err, errlen, "'%s' holds data of format 0x%04x; kslab plays 16-bit PCM", name, (unsigned)tag);
        return -1;
    }
    if (channels < 1 || channels > WAV_MAX_CHANNELS) {
        set_err(err, errlen, "'%s' has %u channels; kslab plays 1 to %u", name, (unsigned)channels, WAV_MAX_CHANNELS);
        return -1;
    }
    if (block != channels * 2u) {
        set_err(err, errlen, "'%s' is not a WAV file kslab can read: byte %zu: a block of %u bytes for %u channels of "
                             "16 bits",
                name, ri->fmt_at + 12, (unsigned)block, (unsigned)channels);
        return -1;
    }
    if (rate < 1 || rate > WAV_MAX_RATE) {
        set_err(err, errlen, "'%s' has sample rate %u; kslab reads 1 to %u Hz", name, (unsigned)rate, WAV_MAX_RATE);
        return -1;
    }
    return 0;
}

/* The file as libsndfile gets it: the RIFF header, the 'fmt ' chunk and a 'data' chunk of exactly
 * the audio, nothing else (no other chunk, no "unknown" length).  NULL when out of memory. */
static uint8_t *canonical(const uint8_t *d, const ksl_riff_info *ri, size_t *n)
{
    size_t fmt = ri->fmt_len + (ri->fmt_len & 1u), audio = (size_t)ri->data_len;
    *n = 12 + 8 + fmt + 8 + audio;
    uint8_t *c = malloc(*n);
    if (!c)
        return NULL;
    memcpy(c, "RIFF", 4);
    put32(c + 4, (uint32_t)(*n - 8));
    memcpy(c + 8, "WAVEfmt ", 8);
    put32(c + 16, ri->fmt_len);
    memset(c + 20, 0, fmt);
    memcpy(c + 20, d + ri->fmt_at, ri->fmt_len);
    memcpy(c + 20 + fmt, "data", 4);
    put32(c + 24 + fmt, (uint32_t)audio);
    memcpy(c + 28 + fmt, d + ri->data_at, audio);
    return c;
}

int ksl_wav_parse(const void *data, size_t n, const char *name, ksl_pcm *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    set_err(err, errlen, "%s", "");
    const uint8_t *d = data;
    ksl_riff_info ri;
    uint64_t declared, present;
    char why[200];
    switch (ksl__riff_check(d, n, &ri, &declared, &present, why, sizeof why)) {
    case KSL_RIFF_NOT_RIFF:
        describe_other(d, n, why, sizeof why);
        set_err(err, errlen, "'%s' is not a WAV file (%s)", name, why);
        return -1;
    case KSL_RIFF_BROKEN:
        set_err(err, errlen, "'%s' is not a WAV file kslab can read: %s", name, why);
        return -1;
    case KSL_RIFF_TRUNCATED:
        set_err(err, errlen, "'%s' is truncated: header says %llu frames, %llu readable (%s)", name,
                (unsigned long long)declared, (unsigned long long)present, why);
        return -1;
    default:
        break;
    }
    if (check_format(name, d, &ri, err, errlen) != 0)
        return -1;
    if (ri.data_len > UINT32_MAX - 4096) {
        set_err(err, errlen, "'%s' holds more audio than a WAV file can", name);
        return -1;
    }
    size_t cn;
    uint8_t *c = canonical(d, &ri, &cn);
    if (!c) {
        set_err(err, errlen, "'%s': out of memory", name);
        return -1;
    }
    membuf m = {c, cn, 0, 0, false};
    SF_INFO info;
    memset(&info, 0, sizeof info);
    SNDFILE *sf = sf_open_virtual(&mem_io, SFM_READ, &info, &m);
    if (!sf) {
        sf_reason(sf_strerror(NULL), why, sizeof why);
        set_err(err, errlen, "'%s' is not a WAV file (%s)", name, why);
        free(c);
        return -1;
    }
    int rc = 0;
    size_t block = (size_t)info.channels * sizeof(int16_t);
    uint64_t have = info.channels > 0 ? ri.data_len / block : 0;
    if (info.frames >= 0 && (uint64_t)info.frames < have)
        have = (uint64_t)info.frames;
    int16_t *samples = have ? malloc((size_t)have * block) : NULL;
    sf_count_t got = 0;
    if (have && !samples) {
        set_err(err, errlen, "'%s': out of memory for %llu frames", name, (unsigned long long)have);
        rc = -1;
    } else if (have) {
        got = sf_readf_short(sf, samples, (sf_count_t)have);
    }
    if (rc == 0 && got <= 0) {
        set_err(err, errlen, "'%s' has no audio frames", name);
        rc = -1;
    }
    if (rc == 0) {
        out->rate = (uint32_t)info.samplerate;
        out->channels = (uint16_t)info.channels;
        out->frames = (size_t)got;
        out->samples = samples;
    } else {
        free(samples);
    }
    sf_close(sf);
    free(c);
    return rc;
}

int ksl_wav_read(const char *path, ksl_pcm *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        set_err(err, errlen, "cannot open '%s': %s", path, strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
        set_err(err, errlen, "cannot read '%s': it is a directory", path);
        close(fd);
        return -1;
    }
    uint8_t *buf = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;
    for (;;) {
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 1 << 16;
            if (S_ISREG(st.st_mode) && !cap && st.st_size > 0 && (uint64_t)st.st_size < KSL_WAV_MAX_BYTES)
                ncap = (size_t)st.st_size + 1; /* one read more sees the end */
            if (ncap > KSL_WAV_MAX_BYTES + 1) {
                set_err(err, errlen, "'%s' is larger than the %llu bytes kslab reads", path,
                        (unsigned long long)KSL_WAV_MAX_BYTES);
                rc = -1;
                break;
            }
            uint8_t *nb = realloc(buf, ncap);
            if (!nb) {
                set_err(err, errlen, "'%s': out of memory", path);
                rc = -1;
                break;
            }
            buf = nb;
            cap = ncap;
        }
        ssize_t k = read(fd, buf + n, cap - n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0) {
            set_err(err, errlen, "cannot read '%s': %s", path, strerror(errno));
            rc = -1;
            break;
        }
        if (k == 0)
            break;
        n += (size_t)k;
        if (n > KSL_WAV_MAX_BYTES) {
            set_err(err, errlen, "'%s' is larger than the %llu bytes kslab reads", path,
                    (unsigned long long)KSL_WAV_MAX_BYTES);
            rc = -1;
            break;
        }
    }
    close(fd);
    if (rc == 0)
        rc = ksl_wav_parse(buf, n, path, out, err, errlen);
    free(buf);
    return rc;
}

/* ---- writing ------------------------------------------------------------------------------ */

int ksl_wav_write(const char *path, const ksl_pcm *pcm, char *err, size_t errlen)
{
    set_err(err, errlen, "%s", "");
    if (pcm->channels < 1 || pcm->channels > WAV_MAX_CHANNELS) {
        set_err(err, errlen, "cannot write '%s': %u channels; kslab writes 1 to %u", path, (unsigned)pcm->channels,
                WAV_MAX_CHANNELS);
        return -1;
    }
    if (pcm->rate < 1 || pcm->rate > (uint32_t)INT32_MAX) {
        set_err(err, errlen, "cannot write '%s': sample rate %u is not valid", path, (unsigned)pcm->rate);
        return -1;
    }
    if (pcm->frames && !pcm->samples) {
        set_err(err, errlen, "cannot write '%s': %zu frames but no samples", path, pcm->frames);
        return -1;
    }
    if (pcm->frames > (uint64_t)INT32_MAX / (2u * pcm->channels)) {
        set_err(err, errlen, "cannot write '%s': %zu frames do not fit a WAV file", path, pcm->frames);
        return -1;
    }
    SF_INFO info;
    memset(&info, 0, sizeof info);
    info.samplerate = (int)pcm->rate;
    info.channels = pcm->channels;
    info.format = (pcm->channels > 2 ? SF_FORMAT_WAVEX : SF_FORMAT_WAV) | SF_FORMAT_PCM_16;
    membuf m = {0};
    char why[160];
    SNDFILE *sf = sf_open_virtual(&mem_io, SFM_WRITE, &info, &m);
    if (!sf) {
        sf_reason(sf_strerror(NULL), why, sizeof why);
        set_err(err, errlen, "cannot write '%s': %s", path, why);
        free(m.p);
        return -1;
    }
    sf_count_t put = pcm->frames ? sf_writef_short(sf, pcm->samples, (sf_count_t)pcm->frames) : 0;
    int e = sf_close(sf); /* writes the header with the final lengths */
    int rc = 0;
    if (m.oom) {
        set_err(err, errlen, "cannot write '%s': out of memory", path);
        rc = -1;
    } else if (put != (sf_count_t)pcm->frames || e) {
        sf_reason(e ? sf_error_number(e) : "libsndfile wrote too few frames", why, sizeof why);
        set_err(err, errlen, "cannot write '%s': %s", path, why);
        rc = -1;
    } else {
        rc = ksl__write_file(path, m.p, m.n, err, errlen);
    }
    free(m.p);
    return rc;
}

/* Free the samples of `p` and mark it empty (rate and channels stay).  Context: host code. */
void ksl_pcm_free(ksl_pcm *p)
{
    if (!p)
        return;
    free(p->samples);
    p->samples = NULL;
    p->frames = 0;
}
