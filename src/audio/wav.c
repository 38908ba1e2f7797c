/* SPDX-License-Identifier: MIT */
/* WAV files through libsndfile: 16-bit PCM only, read whole, written through a temporary file
 * that is renamed over the target only once it is complete and on disk. */
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

#define WAV_MAX_CHANNELS 8u
#define WAV_HEADER_MIN 44       /* RIFF + fmt + data headers of the smallest PCM WAV file */
#define RIFF_SIZE_UNKNOWN 0xFFFFFFFFu

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || !errlen)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/*
 * The byte count the RIFF header declares for the 'data' chunk, or -1 when there is none that can
 * be trusted (no data chunk found, or the "unknown length" values streaming writers leave).
 * libsndfile clamps its frame count to what the file holds, so truncation is judged from this.
 */
static int64_t declared_data_bytes(int fd)
{
    uint8_t h[12];
    if (pread(fd, h, sizeof h, 0) != (ssize_t)sizeof h)
        return -1;
    if (memcmp(h, "RIFF", 4) || memcmp(h + 8, "WAVE", 4))
        return -1;
    off_t at = 12;
    for (int guard = 0; guard < 4096; guard++) {
        uint8_t c[8];
        if (pread(fd, c, sizeof c, at) != (ssize_t)sizeof c)
            return -1;
        uint32_t size = le32(c + 4);
        if (!memcmp(c, "data", 4))
            return size == 0 || size == RIFF_SIZE_UNKNOWN ? -1 : (int64_t)size;
        at += 8 + (off_t)size + (size & 1);
    }
    return -1;
}

/* libsndfile's message `msg` as a clause of ours: no "System error : " prefix, no full stop. */
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

/*
 * sf_open_fd on a duplicate of `fd`, which libsndfile owns: it closes it in sf_close and also when
 * the open fails (libsndfile 1.2 does that even when told not to), so `fd` stays ours either way.
 * On failure NULL, `why` says why (without libsndfile's full stop) and *os tells whether the
 * operating system refused rather than the file's contents.
 */
static SNDFILE *open_sf(int fd, int mode, SF_INFO *info, char *why, size_t whylen, bool *os)
{
    *os = true;
    int dfd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (dfd < 0) {
        snprintf(why, whylen, "%s", strerror(errno));
        return NULL;
    }
    SNDFILE *sf = sf_open_fd(dfd, mode, info, SF_TRUE);
    if (!sf) {
        *os = sf_error(NULL) == SF_ERR_SYSTEM;
        sf_reason(sf_strerror(NULL), why, whylen);
    }
    return sf;
}

/* "16-bit PCM", "32-bit float data", ...: what a subtype holds, in the words of the messages. */
static void describe_subtype(int subtype, char *buf, size_t len)
{
    switch (subtype) {
    case SF_FORMAT_PCM_S8:
    case SF_FORMAT_PCM_U8: snprintf(buf, len, "8-bit PCM"); return;
    case SF_FORMAT_PCM_16: snprintf(buf, len, "16-bit PCM"); return;
    case SF_FORMAT_PCM_24: snprintf(buf, len, "24-bit PCM"); return;
    case SF_FORMAT_PCM_32: snprintf(buf, len, "32-bit PCM"); return;
    case SF_FORMAT_FLOAT: snprintf(buf, len, "32-bit float data"); return;
    case SF_FORMAT_DOUBLE: snprintf(buf, len, "64-bit float data"); return;
    default: break;
    }
    SF_FORMAT_INFO fi = {.format = subtype};
    if (sf_command(NULL, SFC_GET_FORMAT_INFO, &fi, sizeof fi) == 0 && fi.name)
        snprintf(buf, len, "%s data", fi.name);
    else
        snprintf(buf, len, "data of format 0x%04x", (unsigned)subtype);
}

/* Check what libsndfile found against what kslab plays; 0 or -1 with err filled. */
static int check_info(const char *path, const SF_INFO *info, char *err, size_t errlen)
{
    int major = info->format & SF_FORMAT_TYPEMASK;
    int subtype = info->format & SF_FORMAT_SUBMASK;
    if (major != SF_FORMAT_WAV && major != SF_FORMAT_WAVEX) {
        SF_FORMAT_INFO fi = {.format = major};
        const char *name = sf_command(NULL, SFC_GET_FORMAT_INFO, &fi, sizeof fi) == 0 && fi.name ? fi.name
                                                                                                 : "another format";
        set_err(err, errlen, "'%s' is not a WAV file (it is %s)", path, name);
        return -1;
    }
    if (subtype != SF_FORMAT_PCM_16) {
        char what[96];
        describe_subtype(subtype, what, sizeof what);
        set_err(err, errlen, "'%s' holds %s; kslab plays 16-bit PCM", path, what);
        return -1;
    }
    if (info->channels < 1 || (unsigned)info->channels > WAV_MAX_CHANNELS) {
        set_err(err, errlen, "'%s' has %d channels; kslab plays 1 to %u", path, info->channels, WAV_MAX_CHANNELS);
        return -1;
    }
    if (info->samplerate <= 0) {
        set_err(err, errlen, "'%s' has sample rate %d; it must be positive", path, info->samplerate);
        return -1;
    }
    return 0;
}

/* Read the samples of an open, checked file into out; 0 or -1 with err filled. */
static int read_samples(const char *path, int fd, SNDFILE *sf, const SF_INFO *info, ksl_pcm *out, char *err,
                        size_t errlen)
{
    size_t channels = (size_t)info->channels;
    size_t block = channels * sizeof(int16_t);
    int64_t declared = declared_data_bytes(fd);
    uint64_t header_frames = declared >= 0 ? (uint64_t)declared / block : 0;
    uint64_t have = info->frames > 0 ? (uint64_t)info->frames : 0;
    if (header_frames < have)
        header_frames = have;
    /* libsndfile never reports more frames than the file holds, but do not trust a header to size
     * an allocation: bound it by the file's length. */
    struct stat st;
    if (fstat(fd, &st) == 0 && st.st_size >= 0 && have > (uint64_t)st.st_size / block)
        have = (uint64_t)st.st_size / block;
    if (have > SIZE_MAX / block) {
        set_err(err, errlen, "'%s' is too large to hold in memory", path);
        return -1;
    }
    int16_t *s = NULL;
    sf_count_t got = 0;
    if (have) {
        s = malloc((size_t)have * block);
        if (!s) {
            set_err(err, errlen, "'%s': out of memory for %llu frames", path, (unsigned long long)have);
            return -1;
        }
        got = sf_readf_short(sf, s, (sf_count_t)have);
        if (got < 0)
            got = 0;
    }
    if ((uint64_t)got < header_frames) {
        set_err(err, errlen, "'%s' is truncated: header says %llu frames, %llu readable", path,
                (unsigned long long)header_frames, (unsigned long long)got);
        free(s);
        return -1;
    }
    if (got == 0) {
        set_err(err, errlen, "'%s' has no audio frames", path);
        free(s);
        return -1;
    }
    out->rate = (uint32_t)info->samplerate;
    out->channels = (uint16_t)info->channels;
    out->frames = (size_t)got;
    out->samples = s;
    return 0;
}

/*
 * Read a whole 16-bit PCM WAV (or WAVE_FORMAT_EXTENSIBLE) file of 1 to 8 channels.  `out` is
 * cleared first, so it can be freed with ksl_pcm_free whatever the result.  Never prints.
 * Context: host code.
 */
int ksl_wav_read(const char *path, ksl_pcm *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    set_err(err, errlen, "%s", "");
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
    SF_INFO info;
    memset(&info, 0, sizeof info);
    char why[160];
    bool os;
    SNDFILE *sf = open_sf(fd, SFM_READ, &info, why, sizeof why, &os);
    if (!sf) {
        if (os)
            set_err(err, errlen, "cannot read '%s': %s", path, why);
        else
            set_err(err, errlen, "'%s' is not a WAV file (%s)", path, why);
        close(fd);
        return -1;
    }
    int rc = check_info(path, &info, err, errlen);
    if (rc == 0)
        rc = read_samples(path, fd, sf, &info, out, err, errlen);
    sf_close(sf);
    close(fd);
    return rc;
}

/*
 * Write `pcm` to the open descriptor `fd` as a 16-bit PCM WAV file and make it durable.  0, or -1
 * with err filled.  Two channels or fewer: plain WAVE_FORMAT_PCM; more: WAVE_FORMAT_EXTENSIBLE,
 * as Windows expects.
 */
static int write_fd(const char *path, int fd, mode_t mode, const ksl_pcm *pcm, char *err, size_t errlen)
{
    SF_INFO info;
    memset(&info, 0, sizeof info);
    info.samplerate = (int)pcm->rate;
    info.channels = pcm->channels;
    info.format = (pcm->channels > 2 ? SF_FORMAT_WAVEX : SF_FORMAT_WAV) | SF_FORMAT_PCM_16;
    char why[160];
    bool os;
    SNDFILE *sf = open_sf(fd, SFM_WRITE, &info, why, sizeof why, &os);
    if (!sf) {
        set_err(err, errlen, "cannot write '%s': %s", path, why);
        return -1;
    }
    if (pcm->frames) {
        sf_count_t put = sf_writef_short(sf, pcm->samples, (sf_count_t)pcm->frames);
        if (put != (sf_count_t)pcm->frames) {
            sf_reason(sf_strerror(sf), why, sizeof why);
            set_err(err, errlen, "cannot write '%s': %s (%lld of %zu frames written)", path, why,
                    (long long)(put < 0 ? 0 : put), pcm->frames);
            sf_close(sf);
            return -1;
        }
    }
    /* sf_close rewrites the header with the final lengths. */
    int e = sf_close(sf);
    if (e) {
        sf_reason(sf_error_number(e), why, sizeof why);
        set_err(err, errlen, "cannot write '%s': %s", path, why);
        return -1;
    }
    /* A failed header rewrite is not always reported: the file must at least hold all the data. */
    struct stat st;
    if (fstat(fd, &st) != 0 || (uint64_t)st.st_size < WAV_HEADER_MIN + (uint64_t)ksl_pcm_bytes(pcm)) {
        set_err(err, errlen, "cannot write '%s': the file came out short", path);
        return -1;
    }
    if (fchmod(fd, mode) != 0 || fsync(fd) != 0) {
        set_err(err, errlen, "cannot write '%s': %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

/* Make a rename in the directory of `path` durable; best effort (some file systems refuse). */
static void sync_parent(const char *path)
{
    const char *slash = strrchr(path, '/');
    char *dir = slash ? strndup(path, slash == path ? 1 : (size_t)(slash - path)) : strdup(".");
    if (!dir)
        return;
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        (void)fsync(dfd);
        close(dfd);
    }
    free(dir);
}

/*
 * Write `pcm` as a 16-bit PCM WAV file at `path`, through "<path>.tmp.XXXXXX" in the same
 * directory: the temporary is written, synced and renamed over `path`, or removed on any failure,
 * so `path` is either the complete new file or what it was before.  A new file gets mode 0644, a
 * replaced one keeps its mode.
 * Context: host code.
 */
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
    static const char suffix[] = ".tmp.XXXXXX";
    size_t n = strlen(path);
    char *tmp = malloc(n + sizeof suffix);
    if (!tmp) {
        set_err(err, errlen, "cannot write '%s': out of memory", path);
        return -1;
    }
    memcpy(tmp, path, n);
    memcpy(tmp + n, suffix, sizeof suffix);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        set_err(err, errlen, "cannot write '%s': %s", path, strerror(errno));
        free(tmp);
        return -1;
    }
    /* mkstemp makes the file 0600: give it the mode of the file it replaces, else 0644. */
    struct stat st;
    mode_t mode = stat(path, &st) == 0 && S_ISREG(st.st_mode) ? (st.st_mode & 07777) : 0644;
    int rc = write_fd(path, fd, mode, pcm, err, errlen);
    if (close(fd) != 0 && rc == 0) {
        set_err(err, errlen, "cannot write '%s': %s", path, strerror(errno));
        rc = -1;
    }
    if (rc == 0 && rename(tmp, path) != 0) {
        set_err(err, errlen, "cannot write '%s': %s", path, strerror(errno));
        rc = -1;
    }
    if (rc == 0)
        sync_parent(path);
    else
        unlink(tmp);
    free(tmp);
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
